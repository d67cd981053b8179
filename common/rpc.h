/*
 * The client side of the protocol, for ecadm, ecadmctl and the front-end
 * daemons. Requests are queued and replies collected without blocking, so
 * a screen can keep drawing while the server works (rpc_fd, rpc_io,
 * rpc_next_reply); rpc_call() is the blocking shortcut for scripts.
 */
#ifndef RPC_H
#define RPC_H

#include <stddef.h>

#include <jansson.h>

#include "proto.h"

struct rpc_options {
	const char	*server;	/* host:port */
	const char	*ca;		/* CA file; NULL: system store */
	const char	*cert;		/* client certificate (daemons) */
	const char	*key;
	void		*ctx;		/* or an SSL_CTX already made (shared,
					 * not freed; ca, cert, key unused) */
	const char	*client;	/* program name, sent in hello */
	int		 timeout_ms;	/* connect and handshake */
};

struct rpc_reply {
	json_int_t	 id;
	int		 ok;
	json_t		*result;	/* when ok */
	int		 error;		/* when not: enum proto_error */
	char		*code;		/* its wire name, E_... */
	char		*message;	/* French, for people */
	json_t		*details;	/* some errors: a list of parts */
	unsigned char	*blob;		/* binary payload, if any */
	size_t		 blob_len;
	char		*blob_name;
};

struct rpc;

/* Connect, handshake and say hello. NULL and *cause (English, for logs;
 * rpc_open_error tells the kind) on failure. */
struct rpc	*rpc_open(const struct rpc_options *, char **cause);
void		 rpc_close(struct rpc *);
/* A connection with no server behind it, fed by rpc_feed(): the reply
 * parsing alone, for tests and fuzzing. rpc_open() starts from one. */
struct rpc	*rpc_offline(void);
/* Take bytes as if read from the server and queue the complete replies.
 * -1 when they break the protocol (see rpc_error). */
int		 rpc_feed(struct rpc *, const void *, size_t);
int		 rpc_fd(struct rpc *);

/*
 * The school the requests of OPF_SCHOOL operations name (proto-ops.def),
 * unless their arguments already do; NULL: none (the server picks the
 * caller's only school, or refuses).
 */
void		 rpc_set_school(struct rpc *, const char *uai);
/* Queue a request; args is stolen (NULL: {}). An upload, when given, is
 * sent as the request's binary payload. Returns the request id. */
json_int_t	 rpc_send(struct rpc *, enum proto_op, json_t *args,
		    const void *upload, size_t upload_len);
/* Move bytes both ways as far as the socket allows without blocking.
 * -1 when the connection is lost (see rpc_error). */
int		 rpc_io(struct rpc *);
/* Whether queued bytes wait for the socket to be writable. */
int		 rpc_want_write(struct rpc *);
/* A complete reply, or NULL. Free with rpc_reply_free. */
struct rpc_reply *rpc_next_reply(struct rpc *);
/* Bytes of the binary payload received so far and announced, if one is
 * arriving; 0 otherwise. */
int		 rpc_progress(struct rpc *, size_t *got, size_t *total);
/* Send and wait for the reply (timeout_ms < 0: no limit). NULL if the
 * connection failed or timed out (see rpc_error). */
struct rpc_reply *rpc_call(struct rpc *, enum proto_op, json_t *args,
		    int timeout_ms);
/* rpc_call with an upload. */
struct rpc_reply *rpc_call_upload(struct rpc *, enum proto_op, json_t *args,
		    const void *, size_t, int timeout_ms);
void		 rpc_reply_free(struct rpc_reply *);
/* The last transport failure, in English. */
const char	*rpc_error(struct rpc *);

#endif
