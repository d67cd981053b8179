/*
 * Client connections. The socket is non-blocking; rpc_io() moves what it
 * can, and replies are parsed into a queue. A reply announcing a binary
 * payload is held until the payload is complete and its SHA-256 checked.
 */
#include "compat.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "buf.h"
#include "proto.h"
#include "net.h"
#include "rpc.h"
#include "tls.h"
#include "xmalloc.h"

struct rpc_entry {
	struct rpc_reply	*reply;
	STAILQ_ENTRY(rpc_entry)	 entry;
};

struct rpc {
	SSL_CTX			*ctx;
	SSL			*ssl;
	int			 fd;
	struct buf		 in;
	struct buf		 out;
	json_int_t		 next_id;
	char			*school;	/* for OPF_SCHOOL requests */
	int			 want_write;	/* TLS waits for POLLOUT */
	int			 broken;
	char			 error[256];
	struct rpc_reply	*partial;	/* waiting for its payload */
	struct buf		 blob;
	size_t			 blob_size;
	char			 blob_sha256[65];
	STAILQ_HEAD(, rpc_entry) ready;
};

static void
rpc_fail(struct rpc *rpc, const char *fmt, const char *arg)
{
	rpc->broken = 1;
	snprintf(rpc->error, sizeof rpc->error, fmt, arg);
}

const char *
rpc_error(struct rpc *rpc)
{
	return rpc->error[0] != '\0' ? rpc->error : "connection lost";
}

int
rpc_fd(struct rpc *rpc)
{
	return rpc->fd;
}

void
rpc_reply_free(struct rpc_reply *r)
{
	if (r == NULL)
		return;
	json_decref(r->result);
	json_decref(r->details);
	free(r->code);
	free(r->message);
	if (r->blob != NULL)
		freezero(r->blob, r->blob_len);
	free(r->blob_name);
	free(r);
}

void
rpc_close(struct rpc *rpc)
{
	struct rpc_entry	*e;

	if (rpc == NULL)
		return;
	if (rpc->ssl != NULL) {
		if (!rpc->broken)
			SSL_shutdown(rpc->ssl);
		SSL_free(rpc->ssl);
	}
	if (rpc->fd != -1)
		close(rpc->fd);
	SSL_CTX_free(rpc->ctx);
	while ((e = STAILQ_FIRST(&rpc->ready)) != NULL) {
		STAILQ_REMOVE_HEAD(&rpc->ready, entry);
		rpc_reply_free(e->reply);
		free(e);
	}
	rpc_reply_free(rpc->partial);
	buf_free_secret(&rpc->blob);
	buf_free_secret(&rpc->in);
	buf_free(&rpc->out);
	free(rpc->school);
	free(rpc);
}

void
rpc_set_school(struct rpc *rpc, const char *uai)
{
	free(rpc->school);
	rpc->school = uai != NULL ? xstrdup(uai) : NULL;
}

json_int_t
rpc_send(struct rpc *rpc, enum proto_op op, json_t *args, const void *upload,
    size_t upload_len)
{
	const struct proto_op_info	*info = proto_op(op);
	json_t				*msg;
	json_int_t			 id = rpc->next_id++;
	char				 sha[65];

	if (args == NULL)
		args = json_object();
	if ((info->flags & OPF_SCHOOL) && rpc->school != NULL &&
	    json_object_get(args, "school") == NULL)
		json_object_set_new(args, "school", json_string(rpc->school));
	msg = json_pack("{s:I, s:s, s:o}", "id", id, "op", info->name, "args",
	    args);
	if (upload != NULL) {
		proto_sha256_hex(upload, upload_len, sha);
		json_object_set_new(msg, "blob", json_pack("{s:I, s:s}",
		    "size", (json_int_t)upload_len, "sha256", sha));
	}
	proto_frame_json(&rpc->out, msg);
	json_decref(msg);
	if (upload != NULL)
		proto_frame_blob(&rpc->out, upload, upload_len);
	return id;
}

int
rpc_want_write(struct rpc *rpc)
{
	return buf_left(&rpc->out) > 0 || rpc->want_write;
}

static void
rpc_push(struct rpc *rpc, struct rpc_reply *r)
{
	struct rpc_entry	*e = xcalloc(1, sizeof *e);

	e->reply = r;
	STAILQ_INSERT_TAIL(&rpc->ready, e, entry);
}

/* Turn a reply message into a struct; it may announce a payload. */
static int
rpc_parse_reply(struct rpc *rpc, const unsigned char *p, size_t len)
{
	struct rpc_reply	*r;
	json_t			*msg, *error, *blob;
	const char		*cause;
	json_int_t		 size;
	const char		*sha;

	if ((msg = proto_parse(p, len, &cause)) == NULL) {
		rpc_fail(rpc, "bad reply from the server: %s", cause);
		return -1;
	}
	r = xcalloc(1, sizeof *r);
	r->id = json_integer_value(json_object_get(msg, "id"));
	r->ok = json_is_true(json_object_get(msg, "ok"));
	if (r->ok) {
		r->result = json_incref(json_object_get(msg, "result"));
		if (r->result == NULL)
			r->result = json_object();
	} else {
		error = json_object_get(msg, "error");
		/* A code this client does not know (a newer server) is
		 * kept for the message and treated as E_INTERNAL. */
		r->code = xstrdup(json_string_value(json_object_get(error,
		    "code")) != NULL ? json_string_value(json_object_get(error,
		    "code")) : "E_INTERNAL");
		if ((r->error = proto_error_lookup(r->code)) < 0)
			r->error = E_INTERNAL;
		r->message = xstrdup(json_string_value(json_object_get(error,
		    "message")) != NULL ? json_string_value(json_object_get(
		    error, "message")) : "Erreur du serveur.");
		r->details = json_incref(json_object_get(error, "details"));
	}
	blob = json_object_get(msg, "blob");
	if (blob != NULL) {
		size = json_integer_value(json_object_get(blob, "size"));
		sha = json_string_value(json_object_get(blob, "sha256"));
		if (size <= 0 || size > PROTO_BLOB_MAX || sha == NULL ||
		    strlen(sha) != 64) {
			json_decref(msg);
			rpc_reply_free(r);
			rpc_fail(rpc, "%s", "bad payload announcement");
			return -1;
		}
		if (json_string_value(json_object_get(blob, "name")) != NULL)
			r->blob_name = xstrdup(json_string_value(
			    json_object_get(blob, "name")));
		rpc->partial = r;
		rpc->blob_size = (size_t)size;
		snprintf(rpc->blob_sha256, sizeof rpc->blob_sha256, "%s", sha);
		buf_reset(&rpc->blob);
	} else
		rpc_push(rpc, r);
	json_decref(msg);
	return 0;
}

/* One frame of a payload; the reply is released when it is whole. */
static int
rpc_blob_frame(struct rpc *rpc, const unsigned char *p, size_t len)
{
	struct rpc_reply	*r = rpc->partial;
	char			 sha[65];

	if (len > rpc->blob_size - rpc->blob.len) {
		rpc_fail(rpc, "%s", "payload longer than announced");
		return -1;
	}
	buf_add(&rpc->blob, p, len);
	if (rpc->blob.len < rpc->blob_size)
		return 0;
	proto_sha256_hex(rpc->blob.data, rpc->blob.len, sha);
	if (strcmp(sha, rpc->blob_sha256) != 0) {
		rpc_fail(rpc, "%s", "payload damaged in transit (SHA-256)");
		return -1;
	}
	r->blob = rpc->blob.data;
	r->blob_len = rpc->blob.len;
	buf_init(&rpc->blob);
	rpc->partial = NULL;
	rpc_push(rpc, r);
	return 0;
}

static int
rpc_parse(struct rpc *rpc)
{
	const unsigned char	*p;
	size_t			 len, max;
	int			 r;

	for (;;) {
		max = rpc->partial != NULL ? PROTO_CHUNK_SIZE :
		    PROTO_REPLY_MAX;
		if ((r = proto_frame_peek(&rpc->in, max, &p, &len)) == 0)
			return 0;
		if (r == -1) {
			rpc_fail(rpc, "%s", "frame too large from the server");
			return -1;
		}
		r = rpc->partial != NULL ? rpc_blob_frame(rpc, p, len) :
		    rpc_parse_reply(rpc, p, len);
		buf_consume(&rpc->in, 4 + len);
		if (r == -1)
			return -1;
	}
}

int
rpc_io(struct rpc *rpc)
{
	enum tls_io	r;
	size_t		len, n;

	if (rpc->broken)
		return -1;
	rpc->want_write = 0;
	while (buf_left(&rpc->out) > 0) {
		len = buf_left(&rpc->out);
		r = tls_write(rpc->ssl, buf_head(&rpc->out),
		    len > 65536 ? 65536 : len, &n);
		if (r == TLS_IO_DONE) {
			buf_consume(&rpc->out, n);
			continue;
		}
		if (r == TLS_IO_WANT_WRITE) {
			rpc->want_write = 1;
			break;
		}
		if (r == TLS_IO_WANT_READ)
			break;
		rpc_fail(rpc, "%s", "connection lost while sending");
		return -1;
	}
	for (;;) {
		r = tls_read(rpc->ssl, buf_reserve(&rpc->in, 65536), 65536, &n);
		if (r == TLS_IO_DONE) {
			buf_commit(&rpc->in, n);
			continue;
		}
		if (r == TLS_IO_WANT_READ)
			break;
		if (r == TLS_IO_WANT_WRITE) {
			rpc->want_write = 1;
			break;
		}
		rpc_parse(rpc);
		rpc_fail(rpc, "%s", r == TLS_IO_EOF ?
		    "connection closed by the server" : "connection lost");
		return -1;
	}
	return rpc_parse(rpc);
}

struct rpc_reply *
rpc_next_reply(struct rpc *rpc)
{
	struct rpc_entry	*e;
	struct rpc_reply	*r;

	if ((e = STAILQ_FIRST(&rpc->ready)) == NULL)
		return NULL;
	STAILQ_REMOVE_HEAD(&rpc->ready, entry);
	r = e->reply;
	free(e);
	return r;
}

int
rpc_progress(struct rpc *rpc, size_t *got, size_t *total)
{
	if (rpc->partial == NULL)
		return 0;
	*got = rpc->blob.len;
	*total = rpc->blob_size;
	return 1;
}

static long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* Wait for the reply with that id; others that arrive first are kept. */
static struct rpc_reply *
rpc_wait(struct rpc *rpc, json_int_t id, int timeout_ms)
{
	struct rpc_entry	*e;
	struct rpc_reply	*r;
	struct pollfd		 pfd;
	long			 deadline = now_ms() + timeout_ms, left;

	for (;;) {
		if (rpc_io(rpc) == -1 && STAILQ_EMPTY(&rpc->ready))
			return NULL;
		STAILQ_FOREACH(e, &rpc->ready, entry) {
			if (e->reply->id == id) {
				STAILQ_REMOVE(&rpc->ready, e, rpc_entry,
				    entry);
				r = e->reply;
				free(e);
				return r;
			}
		}
		if (rpc->broken)
			return NULL;
		left = timeout_ms < 0 ? -1 : deadline - now_ms();
		if (timeout_ms >= 0 && left <= 0) {
			snprintf(rpc->error, sizeof rpc->error,
			    "no reply from the server");
			return NULL;
		}
		pfd.fd = rpc->fd;
		pfd.events = POLLIN | (rpc_want_write(rpc) ? POLLOUT : 0);
		if (poll(&pfd, 1, (int)left) == -1 && errno != EINTR) {
			rpc_fail(rpc, "poll: %s", strerror(errno));
			return NULL;
		}
	}
}

struct rpc_reply *
rpc_call_upload(struct rpc *rpc, enum proto_op op, json_t *args,
    const void *upload, size_t len, int timeout_ms)
{
	return rpc_wait(rpc, rpc_send(rpc, op, args, upload, len), timeout_ms);
}

struct rpc_reply *
rpc_call(struct rpc *rpc, enum proto_op op, json_t *args, int timeout_ms)
{
	return rpc_call_upload(rpc, op, args, NULL, 0, timeout_ms);
}

/* The state of a connection before any socket (factored out of rpc_open
 * so the reply parsing can be driven without a server). */
struct rpc *
rpc_offline(void)
{
	struct rpc	*rpc;

	rpc = xcalloc(1, sizeof *rpc);
	rpc->fd = -1;
	rpc->next_id = 1;
	STAILQ_INIT(&rpc->ready);
	return rpc;
}

/* What rpc_io() does with the bytes it read, for bytes from elsewhere. */
int
rpc_feed(struct rpc *rpc, const void *p, size_t len)
{
	if (rpc->broken)
		return -1;
	buf_add(&rpc->in, p, len);
	return rpc_parse(rpc);
}

struct rpc *
rpc_open(const struct rpc_options *o, char **cause)
{
	struct rpc		*rpc;
	struct rpc_reply	*r;
	char			*host, *port;
	int			 timeout = o->timeout_ms > 0 ? o->timeout_ms :
				    10000;

	if (net_hostport(o->server, &host, &port, cause) == -1)
		return NULL;
	rpc = rpc_offline();
	if (o->ctx != NULL) {
		SSL_CTX_up_ref(o->ctx);
		rpc->ctx = o->ctx;
	} else if ((rpc->ctx = tls_client_ctx(o->ca, o->cert, o->key,
	    cause)) == NULL)
		goto fail;
	if ((rpc->ssl = tls_connect(rpc->ctx, host, port, timeout,
	    cause)) == NULL)
		goto fail;
	rpc->fd = SSL_get_fd(rpc->ssl);
	r = rpc_call(rpc, OP_HELLO, json_pack("{s:i, s:s}", "version",
	    PROTO_VERSION, "client", o->client != NULL ? o->client : "client"),
	    timeout);
	if (r == NULL) {
		xasprintf(cause, "%s", rpc_error(rpc));
		goto fail;
	}
	if (!r->ok) {
		xasprintf(cause, "%s: %s", r->code, r->message);
		rpc_reply_free(r);
		goto fail;
	}
	rpc_reply_free(r);
	free(host);
	free(port);
	return rpc;
fail:
	free(host);
	free(port);
	rpc_close(rpc);
	return NULL;
}
