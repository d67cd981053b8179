/*
 * guichet-load: parents' first connections at ecadm-guichet, for make
 * bench. CLIENTS threads each play one parent after another, as a browser
 * would: GET / (the CSRF pre-cookie and the form's token), POST /connexion
 * with the login and provisional password of the paper letter (the
 * session cookie and the activation form), POST /activation with a chosen
 * password, an address and the child's birth date (one scrypt hash in
 * ecadmd). Each thread keeps its HTTP connection open between requests.
 * Every answer is checked: a status other than 200/303, a login that does
 * not reach the activation form and an activation that does not end on
 * "Un courriel vous a été envoyé" are counted, and the first few said on
 * stderr.
 *
 *	guichet-load PORT ACCOUNTS-FILE CLIENTS SECONDS
 * ACCOUNTS-FILE: lines "login;password;DD/MM/YYYY;address", the address
 * sent as X-Forwarded-For (empty: none). No journey starts after SECONDS
 * (or once the accounts are spent). Prints one line:
 *	started ok http_errors login_failed activation_failed seconds
 *	journey_p50 journey_p95 journey_p99 login_p50 activation_p50
 *	cpu_seconds
 * (latencies in milliseconds; cpu_seconds: this process, user + system).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#include <curl/curl.h>

struct account {
	char	*login;
	char	*password;
	char	*birth;
	char	*addr;
};

struct page {
	char	*body;
	size_t	 len, size;
	char	 pre[128];
	char	 session[128];
};

static struct account	*accounts;
static int		 naccounts, next_account;
static int		 port, started;
static double		 deadline;
static double		*journey_ms, *login_ms, *activation_ms;
static int		 ok, http_errors, login_failed, activation_failed;
static int		 complaints;
static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
percentile(double *v, int n, double p)
{
	int	i;

	if (n == 0)
		return 0;
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	i = (int)(p * n + 0.5) - 1;
	return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct page	*pg = arg;
	size_t		 len = size * n;

	if (pg->len + len + 1 > pg->size) {
		pg->size = (pg->len + len + 1) * 2;
		if ((pg->body = realloc(pg->body, pg->size)) == NULL)
			abort();
	}
	memcpy(pg->body + pg->len, data, len);
	pg->len += len;
	pg->body[pg->len] = '\0';
	return len;
}

/* Keep the two cookies of the guichet; Max-Age=0 forgets one. */
static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
	struct page	*pg = arg;
	size_t		 len = size * n, k;
	const char	*v, *end;
	char		*slot;

	if (len < 12 || strncasecmp(data, "Set-Cookie:", 11) != 0)
		return len;
	v = data + 11;
	while (*v == ' ')
		v++;
	if (strncmp(v, "guichet_pre=", 12) == 0) {
		slot = pg->pre;
		v += 12;
	} else if (strncmp(v, "guichet_session=", 16) == 0) {
		slot = pg->session;
		v += 16;
	} else
		return len;
	end = v + strcspn(v, ";\r\n");
	k = (size_t)(end - v);
	if (k >= sizeof pg->pre || memmem(v, len - (size_t)(v - data),
	    "Max-Age=0", 9) != NULL)
		k = 0;
	memcpy(slot, v, k);
	slot[k] = '\0';
	return len;
}

static void
complain(const struct account *a, const char *what, long status,
    const struct page *pg)
{
	pthread_mutex_lock(&lock);
	if (complaints++ < 5)
		fprintf(stderr, "guichet-load: %s: %s (HTTP %ld)\n%.600s\n",
		    a->login, what, status, pg->body != NULL ? pg->body : "");
	pthread_mutex_unlock(&lock);
}

/* One request; the status, or -1 if it did not complete. */
static long
request(CURL *c, struct page *pg, const struct account *a, const char *path,
    const char *form)
{
	struct curl_slist	*h = NULL;
	char			 url[128], line[512];
	long			 status = -1;
	CURLcode		 rc;

	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (form != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
	} else
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	if (*a->addr != '\0') {
		snprintf(line, sizeof line, "X-Forwarded-For: %s", a->addr);
		h = curl_slist_append(h, line);
	}
	if (*pg->pre != '\0' || *pg->session != '\0') {
		snprintf(line, sizeof line, "Cookie: %s%s%s%s%s",
		    *pg->pre != '\0' ? "guichet_pre=" : "", pg->pre,
		    *pg->pre != '\0' && *pg->session != '\0' ? "; " : "",
		    *pg->session != '\0' ? "guichet_session=" : "",
		    pg->session);
		h = curl_slist_append(h, line);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	pg->len = 0;
	if (pg->body != NULL)
		*pg->body = '\0';
	if ((rc = curl_easy_perform(c)) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else
		fprintf(stderr, "guichet-load: %s: %s\n", path,
		    curl_easy_strerror(rc));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(h);
	return status;
}

/* The CSRF token of the page's form, escaped into out; 0, or -1. */
static int
csrf(const struct page *pg, char *out, size_t size)
{
	const char	*p;
	size_t		 n;

	if (pg->body == NULL ||
	    (p = strstr(pg->body, "name=\"csrf\" value=\"")) == NULL)
		return -1;
	p += 19;
	n = strspn(p, "0123456789abcdef");
	if (n == 0 || n >= size)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

static char *
form(CURL *c, const char *const *kv)
{
	char	*out = NULL, *e;
	size_t	 len = 0;
	int	 i;

	for (i = 0; kv[i] != NULL; i += 2) {
		e = curl_easy_escape(c, kv[i + 1], 0);
		out = realloc(out, len + strlen(kv[i]) + strlen(e) + 3);
		len += (size_t)sprintf(out + len, "%s%s=%s", i > 0 ? "&" : "",
		    kv[i], e);
		curl_free(e);
	}
	return out;
}

static int
good_status(long status)
{
	return (status >= 200 && status < 300) || status == 303;
}

enum outcome { JOURNEY_OK, JOURNEY_HTTP, JOURNEY_LOGIN, JOURNEY_ACTIVATION };

static enum outcome
journey(CURL *c, struct page *pg, const struct account *a, double *t_login,
    double *t_activation)
{
	char	 token[128], email[160], *body;
	long	 status;
	double	 t;

	*pg->pre = *pg->session = '\0';
	if (!good_status(status = request(c, pg, a, "/", NULL))) {
		complain(a, "GET /", status, pg);
		return JOURNEY_HTTP;
	}
	if (*pg->pre == '\0' || csrf(pg, token, sizeof token) == -1) {
		complain(a, "GET / without a pre-cookie or token", status, pg);
		return JOURNEY_LOGIN;
	}
	body = form(c, (const char *const []){ "csrf", token, "identifiant",
	    a->login, "mot_de_passe", a->password, NULL });
	t = now();
	status = request(c, pg, a, "/connexion", body);
	*t_login = (now() - t) * 1000;
	free(body);
	if (!good_status(status)) {
		complain(a, "POST /connexion", status, pg);
		return JOURNEY_HTTP;
	}
	if (*pg->session == '\0' || strstr(pg->body,
	    "action=\"/activation\"") == NULL ||
	    csrf(pg, token, sizeof token) == -1) {
		complain(a, "login did not reach the activation form", status,
		    pg);
		return JOURNEY_LOGIN;
	}
	snprintf(email, sizeof email, "parent.%s@example.fr", a->login);
	body = form(c, (const char *const []){ "csrf", token, "enfant", "x",
	    "nouveau_mot_de_passe", "Parent2024x", "confirmation",
	    "Parent2024x", "courriel", email, "date_naissance", a->birth,
	    NULL });
	t = now();
	status = request(c, pg, a, "/activation", body);
	*t_activation = (now() - t) * 1000;
	free(body);
	if (!good_status(status)) {
		complain(a, "POST /activation", status, pg);
		return JOURNEY_HTTP;
	}
	if (strstr(pg->body, "Un courriel vous a été envoyé") == NULL) {
		complain(a, "activation refused", status, pg);
		return JOURNEY_ACTIVATION;
	}
	return JOURNEY_OK;
}

static void *
parent(void *arg)
{
	struct page	 pg;
	CURL		*c;
	double		 t, tl, ta;
	int		 i;
	enum outcome	 o;

	(void)arg;
	memset(&pg, 0, sizeof pg);
	if ((c = curl_easy_init()) == NULL)
		abort();
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &pg);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &pg);
	for (;;) {
		if (now() >= deadline)
			break;
		i = __atomic_fetch_add(&next_account, 1, __ATOMIC_RELAXED);
		if (i >= naccounts)
			break;
		__atomic_fetch_add(&started, 1, __ATOMIC_RELAXED);
		tl = ta = 0;
		t = now();
		o = journey(c, &pg, &accounts[i], &tl, &ta);
		t = (now() - t) * 1000;
		pthread_mutex_lock(&lock);
		switch (o) {
		case JOURNEY_OK:
			journey_ms[ok] = t;
			login_ms[ok] = tl;
			activation_ms[ok] = ta;
			ok++;
			break;
		case JOURNEY_HTTP:
			http_errors++;
			break;
		case JOURNEY_LOGIN:
			login_failed++;
			break;
		case JOURNEY_ACTIVATION:
			activation_failed++;
			break;
		}
		pthread_mutex_unlock(&lock);
	}
	curl_easy_cleanup(c);
	free(pg.body);
	return NULL;
}

static void
read_accounts(const char *path)
{
	FILE	*f;
	char	 line[512], *p, *field[4];
	int	 i;

	if ((f = fopen(path, "r")) == NULL) {
		perror(path);
		exit(1);
	}
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		p = line;
		for (i = 0; i < 4; i++)
			field[i] = strsep(&p, ";");
		if (field[3] == NULL) {
			fprintf(stderr, "%s: bad line: %s\n", path, line);
			exit(1);
		}
		accounts = realloc(accounts, (size_t)(naccounts + 1) *
		    sizeof *accounts);
		accounts[naccounts].login = strdup(field[0]);
		accounts[naccounts].password = strdup(field[1]);
		accounts[naccounts].birth = strdup(field[2]);
		accounts[naccounts].addr = strdup(field[3]);
		naccounts++;
	}
	fclose(f);
}

int
main(int argc, char **argv)
{
	pthread_t	*t;
	struct rusage	 ru;
	double		 t0, secs, cpu, l50, a50;
	int		 n, i;

	if (argc != 5 || (port = atoi(argv[1])) <= 0 ||
	    (n = atoi(argv[3])) < 1 || atof(argv[4]) <= 0) {
		fprintf(stderr, "usage: guichet-load PORT ACCOUNTS-FILE "
		    "CLIENTS SECONDS\n");
		return 2;
	}
	read_accounts(argv[2]);
	journey_ms = calloc((size_t)naccounts + 1, sizeof *journey_ms);
	login_ms = calloc((size_t)naccounts + 1, sizeof *login_ms);
	activation_ms = calloc((size_t)naccounts + 1, sizeof *activation_ms);
	t = calloc((size_t)n, sizeof *t);
	if (journey_ms == NULL || login_ms == NULL || activation_ms == NULL ||
	    t == NULL)
		return 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	t0 = now();
	deadline = t0 + atof(argv[4]);
	for (i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, parent, NULL) != 0)
			return 1;
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	secs = now() - t0;
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	l50 = percentile(login_ms, ok, 0.50);
	a50 = percentile(activation_ms, ok, 0.50);
	printf("%d %d %d %d %d %.4f %.1f %.1f %.1f %.1f %.1f %.3f\n",
	    started, ok, http_errors, login_failed, activation_failed, secs,
	    percentile(journey_ms, ok, 0.50), percentile(journey_ms, ok, 0.95),
	    percentile(journey_ms, ok, 0.99), l50, a50, cpu);
	curl_global_cleanup();
	return 0;
}
