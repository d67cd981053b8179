/* stress-lib.c: what the load workers share (see stress.h). */
#include "stress.h"

const char		*server_host, *server_port, *server_addr;
const char		*ca_file;
SSL_CTX			*tls_ctx;
double			 deadline;
volatile sig_atomic_t	 stop_flag;

/* Counters and timings, shared by the threads of one process. */
struct counter {
	char	 name[96];
	long	 n;
};
struct timing {
	char	 name[48];
	double	*v;
	size_t	 n;
	size_t	 size;
};
static pthread_mutex_t	 stats_lock = PTHREAD_MUTEX_INITIALIZER;
static struct counter	*counters;
static size_t		 ncounters;
static struct timing	*timings;
static size_t		 ntimings;

static struct class_ref	*classes;
static size_t		 nclasses;

/* Monotonic time in seconds. */
double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Whether the run goes on: before the deadline and not told to stop. */
int
running(void)
{
	return !stop_flag && now() < deadline;
}

/* Sleep for ms milliseconds, or less if the run ends. */
void
nap(int ms)
{
	struct timespec	ts;

	while (ms > 0 && running()) {
		ts.tv_sec = 0;
		ts.tv_nsec = (ms > 100 ? 100 : ms) * 1000000L;
		nanosleep(&ts, NULL);
		ms -= 100;
	}
}

void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* Add n to the counter of that name. */
void __attribute__((format(printf, 2, 3)))
count_add(long n, const char *fmt, ...)
{
	char	name[96];
	va_list	ap;
	size_t	i;

	va_start(ap, fmt);
	vsnprintf(name, sizeof name, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&stats_lock);
	for (i = 0; i < ncounters; i++) {
		if (strcmp(counters[i].name, name) == 0)
			break;
	}
	if (i == ncounters) {
		counters = xreallocarray(counters, ncounters + 1,
		    sizeof *counters);
		snprintf(counters[i].name, sizeof counters[i].name, "%s",
		    name);
		counters[i].n = 0;
		ncounters++;
	}
	counters[i].n += n;
	pthread_mutex_unlock(&stats_lock);
}

/* Record one timing, in milliseconds. */
void
timing_add(const char *name, double ms)
{
	struct timing	*t;
	size_t		 i;

	pthread_mutex_lock(&stats_lock);
	for (i = 0; i < ntimings; i++) {
		if (strcmp(timings[i].name, name) == 0)
			break;
	}
	if (i == ntimings) {
		timings = xreallocarray(timings, ntimings + 1, sizeof *timings);
		memset(&timings[i], 0, sizeof timings[i]);
		snprintf(timings[i].name, sizeof timings[i].name, "%s", name);
		ntimings++;
	}
	t = &timings[i];
	if (t->n == t->size) {
		t->size = t->size ? t->size * 2 : 1024;
		t->v = xreallocarray(t->v, t->size, sizeof *t->v);
	}
	t->v[t->n++] = ms;
	pthread_mutex_unlock(&stats_lock);
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Print every counter and timing, for the driver. */
void
stats_print(void)
{
	struct timing	*t;
	size_t		 i;

	pthread_mutex_lock(&stats_lock);
	for (i = 0; i < ncounters; i++)
		printf("count %s %ld\n", counters[i].name, counters[i].n);
	for (i = 0; i < ntimings; i++) {
		t = &timings[i];
		qsort(t->v, t->n, sizeof *t->v, cmp_double);
		printf("lat %s %zu %.3f %.3f\n", t->name, t->n,
		    t->v[t->n / 2], t->v[(size_t)((double)t->n * 0.99)]);
	}
	pthread_mutex_unlock(&stats_lock);
	fflush(stdout);
}

/* Read "UAI;class" lines. */
void
classes_load(const char *path)
{
	char	 line[512], *semi;
	FILE	*f;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "stress: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if ((semi = strchr(line, ';')) == NULL)
			continue;
		*semi = '\0';
		classes = xreallocarray(classes, nclasses + 1, sizeof *classes);
		classes[nclasses].uai = xstrdup(line);
		classes[nclasses++].name = xstrdup(semi + 1);
	}
	fclose(f);
	if (nclasses == 0) {
		fprintf(stderr, "stress: %s: no class\n", path);
		exit(2);
	}
}

/* A class at random, of that school (NULL: any school). */
const struct class_ref *
class_pick(const char *uai, unsigned *seed)
{
	size_t	i, n = 0, k;

	for (i = 0; i < nclasses; i++)
		n += uai == NULL || strcmp(classes[i].uai, uai) == 0;
	if (n == 0)
		return NULL;
	k = (size_t)rand_r(seed) % n;
	for (i = 0; i < nclasses; i++) {
		if (uai != NULL && strcmp(classes[i].uai, uai) != 0)
			continue;
		if (k-- == 0)
			return &classes[i];
	}
	return NULL;
}


/* Write all of data; 0 done, 1 timed out (the server does not read), -1
 * the connection is gone. */
int
raw_write(struct raw *c, const void *data, size_t len, int timeout_ms)
{
	const unsigned char	*p = data;
	struct pollfd		 pfd;
	double			 until = now() + timeout_ms / 1e3;
	int			 n, e;

	while (len > 0) {
		n = SSL_write(c->ssl, p, len > 65536 ? 65536 : (int)len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			until = now() + timeout_ms / 1e3;
			continue;
		}
		e = SSL_get_error(c->ssl, n);
		if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ) {
			ERR_clear_error();
			return -1;
		}
		if (now() >= until)
			return 1;
		/* Replies we never read may make the socket readable: wait
		 * for room to write only. */
		pfd.fd = c->fd;
		pfd.events = POLLOUT;
		poll(&pfd, 1, 100);
	}
	return 0;
}

/* Read one frame and parse it; 1 and *msg, 0 nothing within timeout_ms,
 * -1 closed or not a frame. */
int
raw_read(struct raw *c, int timeout_ms, json_t **msg)
{
	const unsigned char	*p;
	const char		*cause;
	struct pollfd		 pfd;
	size_t			 len;
	double			 until = now() + timeout_ms / 1e3;
	int			 n, e, r;

	*msg = NULL;
	for (;;) {
		r = proto_frame_peek(&c->in, PROTO_REPLY_MAX, &p, &len);
		if (r == -1)
			return -1;
		if (r == 1) {
			*msg = proto_parse(p, len, &cause);
			buf_consume(&c->in, 4 + len);
			return *msg != NULL ? 1 : -1;
		}
		n = SSL_read(c->ssl, buf_reserve(&c->in, 65536), 65536);
		if (n > 0) {
			buf_commit(&c->in, (size_t)n);
			continue;
		}
		e = SSL_get_error(c->ssl, n);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			ERR_clear_error();
			return -1;
		}
		if (now() >= until)
			return 0;
		pfd.fd = c->fd;
		pfd.events = e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
		poll(&pfd, 1, 100);
	}
}

/* Queue a request frame. */
void
raw_request(struct raw *c, struct buf *out, const char *op, json_t *args)
{
	json_t	*msg;

	msg = json_pack("{s:I, s:s, s:o}", "id", c->next_id++, "op", op,
	    "args", args != NULL ? args : json_object());
	proto_frame_json(out, msg);
	json_decref(msg);
}

/* Send one request and wait for its reply; the reply (caller frees) or
 * NULL. */
json_t *
raw_call(struct raw *c, const char *op, json_t *args)
{
	struct buf	 out;
	json_t		*reply = NULL;

	buf_init(&out);
	raw_request(c, &out, op, args);
	if (raw_write(c, buf_head(&out), buf_left(&out), CALL_TIMEOUT_MS) == 0)
		raw_read(c, CALL_TIMEOUT_MS, &reply);
	buf_free(&out);
	return reply;
}

/* The error code of a reply, or NULL if it is a success. */
const char *
reply_code(json_t *reply)
{
	const char	*code;

	if (json_is_true(json_object_get(reply, "ok")))
		return NULL;
	code = json_string_value(json_object_get(json_object_get(reply,
	    "error"), "code"));
	return code != NULL ? code : "E_?";
}

/*
 * A TCP connection to the server from that loopback address, non-blocking;
 * -1 on failure. Each abuser has its own source address, as another host
 * would: the server's limits by address must not count them against the
 * staff, who come from 127.0.0.1.
 */
int
tcp_open(const char *source)
{
	struct sockaddr_in	sin;
	struct pollfd		pfd;
	socklen_t		len = sizeof sin;
	int			fd, error = 0, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return -1;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, source, &sin.sin_addr);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1)
		goto fail;
	sin.sin_port = htons((uint16_t)atoi(server_port));
	inet_pton(AF_INET, server_host, &sin.sin_addr);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1) {
		if (errno != EINPROGRESS)
			goto fail;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		len = sizeof error;
		if (poll(&pfd, 1, 10000) != 1 || getsockopt(fd, SOL_SOCKET,
		    SO_ERROR, &error, &len) == -1 || error != 0)
			goto fail;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
fail:
	close(fd);
	return -1;
}

/* The TLS handshake on a connected socket, checking the server's
 * certificate for 127.0.0.1; NULL on failure. */
SSL *
tls_over(int fd)
{
	struct pollfd	 pfd;
	SSL		*ssl;
	double		 until = now() + 10;
	int		 r, e;

	if ((ssl = SSL_new(tls_ctx)) == NULL)
		return NULL;
	SSL_set_fd(ssl, fd);
	X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server_host);
	while ((r = SSL_connect(ssl)) != 1) {
		e = SSL_get_error(ssl, r);
		if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) ||
		    now() >= until) {
			SSL_free(ssl);
			ERR_clear_error();
			return NULL;
		}
		pfd.fd = fd;
		pfd.events = e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
		poll(&pfd, 1, 100);
	}
	return ssl;
}

/* Connect from source over TLS, and say hello when asked; NULL if that
 * failed (the failure is counted under what). */
struct raw *
raw_open(const char *what, const char *source, int hello)
{
	struct raw	*c;
	json_t		*reply;
	SSL		*ssl;
	int		 fd;

	if ((fd = tcp_open(source)) == -1) {
		count_add(1, "%s.connect_failed", what);
		return NULL;
	}
	if ((ssl = tls_over(fd)) == NULL) {
		/* Refused at once (a cap per address) or timed out. */
		count_add(1, "%s.handshake_failed", what);
		close(fd);
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->ssl = ssl;
	c->fd = fd;
	c->next_id = 1;
	buf_init(&c->in);
	if (!hello)
		return c;
	reply = raw_call(c, "hello", json_pack("{s:i, s:s}", "version",
	    PROTO_VERSION, "client", "stress"));
	if (reply == NULL || reply_code(reply) != NULL) {
		count_add(1, "%s.hello_failed", what);
		json_decref(reply);
		SSL_free(c->ssl);
		close(c->fd);
		buf_free(&c->in);
		free(c);
		return NULL;
	}
	json_decref(reply);
	return c;
}

/* Drop the connection with an RST: SO_LINGER 0, no close_notify. */
void
raw_reset(struct raw *c)
{
	struct linger	l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	SSL_free(c->ssl);
	close(c->fd);
	buf_free(&c->in);
	free(c);
}

/* Close politely: close_notify, then the socket. */
void
raw_close(struct raw *c)
{
	SSL_shutdown(c->ssl);
	ERR_clear_error();
	SSL_free(c->ssl);
	close(c->fd);
	buf_free(&c->in);
	free(c);
}

/* Wait for the server's answer to something malformed: an error reply
 * (its code) and/or the close; the outcome as a word for the counters. */
const char *
raw_outcome(struct raw *c, char *out, size_t size)
{
	char	 code[32] = "";
	json_t	*msg;
	int	 r;
	double	 until = now() + ANSWER_TIMEOUT_MS / 1e3;

	snprintf(out, size, "open");
	while (now() < until) {
		r = raw_read(c, (int)((until - now()) * 1e3) + 1, &msg);
		if (r == 0)
			break;
		if (r == -1) {
			snprintf(out, size, "%s%sclosed", code,
			    code[0] != '\0' ? "+" : "");
			return out;
		}
		if (code[0] == '\0' && reply_code(msg) != NULL) {
			snprintf(code, sizeof code, "%s", reply_code(msg));
			snprintf(out, size, "%s", code);
		}
		json_decref(msg);
	}
	return out;
}

/* Whether the server closes a plain TCP connection within the answer
 * timeout (whatever it sends first, a TLS alert maybe). */
const char *
tcp_outcome(int fd)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	unsigned char	junk[4096];
	ssize_t		n;
	double		until = now() + ANSWER_TIMEOUT_MS / 1e3;

	while (now() < until) {
		if (poll(&pfd, 1, (int)((until - now()) * 1e3) + 1) <= 0)
			break;
		if ((n = recv(fd, junk, sizeof junk, 0)) <= 0)
			return "closed";
	}
	return "open";
}
