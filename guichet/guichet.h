/*
 * ecadm-guichet: the web counter a parent reaches from the QR code of their
 * sheet. It keeps no state of its own: the guardian's session is ecadmd's
 * token in a cookie, and a CSRF token is an HMAC of that cookie (or of a
 * pre-session cookie) under a key file, so any instance sharing the key
 * validates the forms of any other.
 *
 *   main.c     options, configuration, start and stop
 *   http.c     libmicrohttpd: requests, bodies, cookies, headers, routes
 *   routes.c   one function per page: arguments, the ecadmd call, the page
 *   backend.c  one TLS connection to ecadmd per HTTP thread, reconnecting
 *   pages.c    the French HTML
 *   forms.c    form bodies and CSRF tokens
 */
#ifndef GUICHET_H
#define GUICHET_H

#include <stddef.h>

#include <jansson.h>

#include "buf.h"
#include "proto.h"

struct guichet_config {
	char	*listen;	/* host:port of the HTTP side */
	int	 threads;	/* HTTP threads, each with its ecadmd link */
	char	*server;	/* ecadmd, host:port */
	char	*ca;		/* CA of ecadmd's certificate */
	char	*cert;		/* the guichet's client certificate */
	char	*key;
	int	 timeout;	/* seconds for one ecadmd call */
	char	*public_url;	/* how parents reach us */
	char	*https_cert;	/* serve HTTPS directly when both set */
	char	*https_key;
	char	*trusted_proxy;	/* the reverse proxy's address */
	char	*csrf_key_file;
	int	 debug;
};
extern struct guichet_config guichet_cfg;

/* forms.c: application/x-www-form-urlencoded bodies. */
struct form_field {
	char	*name;
	char	*value;
};
struct form {
	struct form_field	*fields;
	size_t			 n;
};
/* Parse a body (or a query string); -1 if malformed or not UTF-8. */
int		 form_parse(struct form *, const char *, size_t);
/* The value of a field, NULL when absent. */
const char	*form_get(const struct form *, const char *);
/* Free the fields, wiping them: they may be passwords. */
void		 form_free(struct form *);

/* forms.c: CSRF tokens, HMAC-SHA256 of a binding under the key file. */
int		 csrf_init(const char *path, char **cause);
void		 csrf_free(void);
/* The token for a binding (the session or pre-session cookie); hex,
 * caller frees. */
char		*csrf_token(const char *binding);
/* Whether token is the one of that binding (constant time). */
int		 csrf_check(const char *binding, const char *token);
/* A fresh random pre-session identifier; caller frees. */
char		*csrf_random_id(void);

#define FIELD_ERRORS_MAX	8

/* What went wrong with a form: a message for each field, or one for all. */
struct form_errors {
	char	*general;
	struct {
		char	*field;		/* the form field's name */
		char	*text;
	}	 fields[FIELD_ERRORS_MAX];
	size_t	 n;
};
void		 form_errors_add(struct form_errors *, const char *field,
		    const char *text);
/* The message of a field, NULL for none. */
const char	*form_errors_get(const struct form_errors *, const char *);
void		 form_errors_free(struct form_errors *);

/* One HTTP exchange: what the request said, what the answer will be. */
struct gx {
	const char	*method;
	const char	*path;
	void		*connection;	/* struct MHD_Connection */
	struct form	 form;		/* the POST body */
	char		 addr[64];	/* the parent's address */
	int		 secure;	/* HTTPS, here or at the proxy */
	const char	*session;	/* cookie, NULL when none */
	const char	*presession;	/* cookie, NULL when none */
	char		*binding;	/* of the CSRF tokens, made once */

	unsigned	 status;
	struct buf	 body;
	const char	*content_type;
	int		 cacheable;	/* the style sheet */
	char		*location;	/* a redirect */
	char		*set_session;	/* a session cookie to set */
	int		 clear_session;
	char		*set_presession;
};

/* http.c */
int		 http_start(char **cause);
void		 http_stop(void);
/* A query string argument, NULL when absent. */
const char	*gx_query(struct gx *, const char *);
/* The CSRF binding of this exchange: session, or pre-session (made now
 * if the parent has none yet). */
const char	*gx_binding(struct gx *);
void		 gx_redirect(struct gx *, const char *);

/* routes.c: the pages, by method and path. */
void		 route(struct gx *);

/* backend.c: one call to ecadmd; args is stolen. NULL when ecadmd cannot
 * be reached. */
struct rpc_reply *backend_call(enum proto_op, json_t *args);
void		 backend_init(void);

/* pages.c */
struct page_field {
	const char	*name;
	const char	*label;
	const char	*type;		/* text, password, email */
	const char	*autocomplete;
	const char	*hint;		/* NULL: none */
};
void	page_begin(struct gx *, const char *title);
void	page_end(struct gx *);
void	page_paragraph(struct gx *, const char *text);
/* A paragraph with a link. */
void	page_link(struct gx *, const char *href, const char *text);
void	page_heading(struct gx *, const char *text);
/* A form of labelled fields; values (may be NULL) prefill them, hidden
 * fields come as name/value pairs ending with NULL. */
void	page_form(struct gx *, const char *action, const struct page_field *,
	    size_t, const char *const *values, const struct form_errors *,
	    const char *submit, const char *const *hidden);
void	page_error_box(struct gx *, const char *text);
void	page_notice(struct gx *, const char *text);
/* A whole page with one message and a link. */
void	page_message(struct gx *, unsigned status, const char *title,
	    const char *text, const char *href, const char *link);
void	page_style(struct gx *);
void	html_escape(struct buf *, const char *);

#endif
