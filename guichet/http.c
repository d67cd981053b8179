/*
 * The HTTP side, on libmicrohttpd: a pool of threads (guichet_cfg.threads)
 * each serving its connections and each holding its own link to ecadmd
 * (backend.c). A request's body is gathered here, limited, parsed as a
 * form; the cookies and the parent's address are read; a POST whose CSRF
 * token does not match its cookie is refused before any route sees it; and
 * every answer, errors included, carries the same strict headers.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "guichet.h"
#include "log.h"
#include "net.h"
#include "xmalloc.h"

#define BODY_MAX		16384
#define COOKIE_SESSION		"guichet_session"
#define COOKIE_PRESESSION	"guichet_pre"

/* Where the page may take anything from: its own style sheet, nothing
 * else; forms post to us only; no framing (clickjacking). */
#define HEADER_CSP	"default-src 'none'; style-src 'self'; " \
			"form-action 'self'; frame-ancestors 'none'; " \
			"base-uri 'none'"

struct http_request {
	struct buf	body;
	int		too_big;
};

static struct MHD_Daemon	*http_daemon;
static char			*https_cert_pem, *https_key_pem;

const char *
gx_query(struct gx *gx, const char *name)
{
	return MHD_lookup_connection_value(gx->connection,
	    MHD_GET_ARGUMENT_KIND, name);
}

/* A cookie we made has hex digits, or ecadmd's token characters; anything
 * else is not ours and is ignored. */
static const char *
http_cookie(struct MHD_Connection *c, const char *name)
{
	const char	*v;
	size_t		 i;

	v = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, name);
	if (v == NULL || *v == '\0' || strlen(v) > 256)
		return NULL;
	for (i = 0; v[i] != '\0'; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789-_.~+/=", v[i]) == NULL)
			return NULL;
	return v;
}

const char *
gx_binding(struct gx *gx)
{
	if (gx->binding != NULL)
		return gx->binding;
	if (gx->session != NULL)
		xasprintf(&gx->binding, "s:%s", gx->session);
	else {
		if (gx->presession == NULL) {
			gx->set_presession = csrf_random_id();
			gx->presession = gx->set_presession;
		}
		xasprintf(&gx->binding, "p:%s", gx->presession);
	}
	return gx->binding;
}

void
gx_redirect(struct gx *gx, const char *where)
{
	gx->status = 303;
	free(gx->location);
	gx->location = xstrdup(where);
}

/* The last address of X-Forwarded-For: the one our proxy saw; earlier ones
 * were written by the client and prove nothing. */
static void
http_forwarded_for(struct MHD_Connection *c, struct gx *gx)
{
	const char	*xff, *last;
	char		 addr[64];
	unsigned char	 bin[16];
	size_t		 len;

	xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "X-Forwarded-For");
	if (xff == NULL)
		return;
	last = strrchr(xff, ',');
	last = last == NULL ? xff : last + 1;
	while (*last == ' ')
		last++;
	len = strcspn(last, " ");
	if (len == 0 || len >= sizeof addr)
		return;
	memcpy(addr, last, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET, addr, bin) != 1 &&
	    inet_pton(AF_INET6, addr, bin) != 1)
		return;
	snprintf(gx->addr, sizeof gx->addr, "%s", addr);
}

/* The parent's address, and whether the page travels over TLS. */
static void
http_peer(struct MHD_Connection *c, struct gx *gx)
{
	const union MHD_ConnectionInfo	*ci;

	snprintf(gx->addr, sizeof gx->addr, "%s", "");
	gx->secure = https_cert_pem != NULL;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ci->client_addr == NULL)
		return;
	if (getnameinfo(ci->client_addr, ci->client_addr->sa_family ==
	    AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
	    gx->addr, sizeof gx->addr, NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(gx->addr, sizeof gx->addr, "%s", "");
	/* Only the configured proxy may speak for someone else; it
	 * terminates TLS for us. */
	if (guichet_cfg.trusted_proxy != NULL &&
	    strcmp(gx->addr, guichet_cfg.trusted_proxy) == 0) {
		gx->secure = 1;
		http_forwarded_for(c, gx);
	}
}

static void
http_cookie_header(struct MHD_Response *r, struct gx *gx, const char *name,
    const char *value, int expire)
{
	char	*h;

	/* HttpOnly: no script reads it; SameSite=Strict: no other site's
	 * page sends it; Secure when the parent comes over TLS. */
	xasprintf(&h, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", name,
	    value, gx->secure ? "; Secure" : "", expire ? "; Max-Age=0" : "");
	MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, h);
	free(h);
}

/* Send what the route made, with the headers every answer carries. */
static enum MHD_Result
http_respond(struct MHD_Connection *c, struct gx *gx)
{
	struct MHD_Response	*r;
	enum MHD_Result		 ret;

	r = MHD_create_response_from_buffer(buf_left(&gx->body),
	    buf_head(&gx->body), MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Security-Policy", HEADER_CSP);
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	if (gx->secure)
		MHD_add_response_header(r, "Strict-Transport-Security",
		    "max-age=31536000");
	/* Pages carry CSRF tokens, logins, addresses: never kept. */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
	    gx->cacheable ? "public, max-age=3600" : "no-store");
	if (gx->content_type != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
		    gx->content_type);
	if (gx->location != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION,
		    gx->location);
	if (gx->set_session != NULL)
		http_cookie_header(r, gx, COOKIE_SESSION, gx->set_session, 0);
	else if (gx->clear_session)
		http_cookie_header(r, gx, COOKIE_SESSION, "", 1);
	if (gx->set_presession != NULL)
		http_cookie_header(r, gx, COOKIE_PRESESSION,
		    gx->set_presession, 0);
	ret = MHD_queue_response(c, gx->status != 0 ? gx->status : 500, r);
	MHD_destroy_response(r);
	return ret;
}

/* Whether a POST carries the token of its own cookie. */
static int
http_csrf_ok(struct gx *gx)
{
	const char	*binding_cookie;
	char		*binding;
	int		 ok;

	binding_cookie = gx->session != NULL ? gx->session : gx->presession;
	if (binding_cookie == NULL)
		return 0;
	xasprintf(&binding, "%s:%s", gx->session != NULL ? "s" : "p",
	    binding_cookie);
	ok = csrf_check(binding, form_get(&gx->form, "csrf"));
	free(binding);
	return ok;
}

/* Parse, check, route. */
static void
http_serve(struct MHD_Connection *c, struct gx *gx, struct http_request *hr)
{
	if (strcmp(gx->method, "POST") == 0) {
		if (hr->too_big) {
			page_message(gx, 413, "Demande trop longue",
			    "Le formulaire envoyé est trop long.", "/",
			    "Revenir à l'accueil");
			return;
		}
		if (form_parse(&gx->form, (const char *)buf_head(&hr->body),
		    buf_left(&hr->body)) == -1) {
			page_message(gx, 400, "Demande incorrecte",
			    "Le formulaire envoyé est illisible.", "/",
			    "Revenir à l'accueil");
			return;
		}
		if (!http_csrf_ok(gx)) {
			log_info("%s %s from %s: CSRF token refused",
			    gx->method, gx->path, gx->addr);
			/* The next page gets a cookie to bind its form to. */
			(void)gx_binding(gx);
			page_message(gx, 403, "Page expirée",
			    "Cette page a expiré ou la demande ne vient pas de "
			    "ce site. Revenez à la page précédente, "
			    "rechargez-la et recommencez.", "/",
			    "Revenir à l'accueil");
			return;
		}
	} else if (strcmp(gx->method, "GET") != 0 &&
	    strcmp(gx->method, "HEAD") != 0) {
		page_message(gx, 405, "Méthode non prise en charge",
		    "Cette adresse ne prend pas cette méthode.", "/",
		    "Revenir à l'accueil");
		return;
	}
	route(gx);
	(void)c;
}

static enum MHD_Result
http_handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http_request	*hr = *con_cls;
	struct gx		 gx;
	enum MHD_Result		 ret;

	(void)cls;
	(void)version;
	if (hr == NULL) {
		hr = xcalloc(1, sizeof *hr);
		buf_init(&hr->body);
		*con_cls = hr;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		if (buf_left(&hr->body) + *upload_data_size > BODY_MAX)
			hr->too_big = 1;
		else
			buf_add(&hr->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}

	memset(&gx, 0, sizeof gx);
	buf_init(&gx.body);
	gx.method = method;
	gx.path = url;
	gx.connection = c;
	gx.session = http_cookie(c, COOKIE_SESSION);
	gx.presession = http_cookie(c, COOKIE_PRESESSION);
	http_peer(c, &gx);
	http_serve(c, &gx, hr);
	log_debug("%s %s from %s: %u", method, url, gx.addr, gx.status);
	ret = http_respond(c, &gx);

	form_free(&gx.form);
	buf_free(&gx.body);
	free(gx.binding);
	free(gx.location);
	freestr_secret(gx.set_session);
	free(gx.set_presession);
	return ret;
}

static void
http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_request	*hr = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (hr == NULL)
		return;
	/* The body may hold passwords. */
	buf_free_secret(&hr->body);
	free(hr);
	*con_cls = NULL;
}

static char *
http_read_file(const char *path, char **cause)
{
	FILE	*f;
	char	*data;
	long	 len;

	if ((f = fopen(path, "r")) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == -1 || (len = ftell(f)) < 0 ||
	    len > 1 << 20 || fseek(f, 0, SEEK_SET) == -1) {
		xasprintf(cause, "%s: cannot read", path);
		fclose(f);
		return NULL;
	}
	data = xmalloc(len + 1);
	if (fread(data, 1, len, f) != (size_t)len) {
		xasprintf(cause, "%s: cannot read", path);
		fclose(f);
		free(data);
		return NULL;
	}
	data[len] = '\0';
	fclose(f);
	return data;
}

int
http_start(char **cause)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof ss;
	unsigned		 flags, per_ip;
	int			 fd;

	/* Our socket, not MHD's: the three daemons read host:port alike
	 * (common/net.c). MHD takes it over and closes it at the end. */
	if ((fd = net_listen(guichet_cfg.listen, 512, cause)) == -1)
		return -1;
	flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0 &&
	    ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (guichet_cfg.https_cert != NULL && guichet_cfg.https_key != NULL) {
		if ((https_cert_pem = http_read_file(guichet_cfg.https_cert,
		    cause)) == NULL ||
		    (https_key_pem = http_read_file(guichet_cfg.https_key,
		    cause)) == NULL) {
			close(fd);
			return -1;
		}
		flags |= MHD_USE_TLS;
	}
	/* Behind the proxy every parent comes from its address: a limit
	 * per address would cap the proxy, which limits its own clients. */
	per_ip = guichet_cfg.trusted_proxy != NULL ? 0 : 50;
	http_daemon = MHD_start_daemon(flags, 0, NULL, NULL,
	    http_handler, NULL,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)guichet_cfg.threads,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
	    MHD_OPTION_NOTIFY_COMPLETED, http_completed, NULL,
	    https_cert_pem != NULL ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
	    https_cert_pem,
	    MHD_OPTION_HTTPS_MEM_KEY, https_key_pem,
	    MHD_OPTION_END);
	if (http_daemon == NULL) {
		close(fd);
		xasprintf(cause, "cannot listen on %s", guichet_cfg.listen);
		return -1;
	}
	return 0;
}

void
http_stop(void)
{
	if (http_daemon != NULL)
		MHD_stop_daemon(http_daemon);
	http_daemon = NULL;
	free(https_cert_pem);
	freestr_secret(https_key_pem);
	https_cert_pem = https_key_pem = NULL;
}
