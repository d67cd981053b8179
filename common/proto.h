/*
 * The wire protocol between ecadmd and its front ends.
 *
 * Transport: TLS 1.3. One frame = a 4-byte big-endian length, then that many
 * bytes of payload. A payload is a JSON object (UTF-8), except the frames of
 * a binary payload announced by the JSON message just before it:
 *
 *   request  {"id": 7, "op": "search", "args": {...}}
 *   reply    {"id": 7, "ok": true, "result": {...}}
 *            {"id": 7, "ok": false, "error": {"code": "E_FORBIDDEN",
 *                                              "message": "..."}}
 *
 * A message with a "blob" member {"size": N, "sha256": HEX, "name": ...} is
 * followed by N bytes split in frames of at most PROTO_CHUNK_SIZE bytes; the
 * receiver checks the size and the digest. The first request of a connection
 * must be "hello" with the client's protocol version. A frame over the
 * receiver's limit, a payload that is not a JSON object, or an out-of-order
 * frame closes the connection.
 */
#ifndef PROTO_H
#define PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"

#define PROTO_VERSION		1
/* Largest frame a server accepts from a client. */
#define PROTO_REQUEST_MAX	(1u << 20)
/* Largest frame a client accepts from the server. */
#define PROTO_REPLY_MAX		(64u << 20)
/* Size of the frames a binary payload is cut into. */
#define PROTO_CHUNK_SIZE	(256u << 10)
/* Largest binary payload (an academy extraction, a school's letters). */
#define PROTO_BLOB_MAX		(1024u << 20)

enum proto_role {
	ROLE_DIRECTEUR = 1,
	ROLE_ASSISTANCE = 2,
	ROLE_ADMIN = 4,
};
#define ROLE_STAFF	(ROLE_DIRECTEUR | ROLE_ASSISTANCE | ROLE_ADMIN)

/* Kinds of TLS peer, told apart by their client certificate. */
enum proto_peer {
	PEER_CLIENT = 1,	/* ecadm, ecadmctl: no certificate */
	PEER_SSHD = 2,		/* ecadm-sshd, acting for a staff member */
	PEER_GUICHET = 4,	/* ecadm-guichet, guardian operations only */
};
#define PEER_STAFF	(PEER_CLIENT | PEER_SSHD)
#define PEER_ANY	(PEER_CLIENT | PEER_SSHD | PEER_GUICHET)

#define OPF_PREAUTH	0x1
#define OPF_SCHOOL	0x2
#define OPF_ACADEMY	0x4
#define OPF_UPLOAD	0x8

enum proto_op {
#define OP(sym, name, roles, peers, flags) OP_##sym,
#include "proto-ops.def"
#undef OP
	OP__COUNT
};

enum proto_error {
#define PROTO_ERROR(sym, message) sym,
#include "proto-errors.def"
#undef PROTO_ERROR
	E__COUNT
};

struct proto_op_info {
	const char	*name;
	unsigned	 roles;
	unsigned	 peers;
	unsigned	 flags;
};

const struct proto_op_info *proto_op(enum proto_op);
/* The operation with that wire name, or -1. */
int		 proto_op_lookup(const char *);
const char	*proto_error_name(enum proto_error);
const char	*proto_error_message(enum proto_error);
/* The error with that wire name, or -1. */
int		 proto_error_lookup(const char *);

const char	*proto_role_name(enum proto_role);
/* The role with that name ("directeur", "assistance", "admin"), or 0. */
unsigned	 proto_role_lookup(const char *);
/* French label of a role, for screens. */
const char	*proto_role_label(enum proto_role);

/* Append a frame holding that JSON object (compact, UTF-8). */
void	proto_frame_json(struct buf *, const json_t *);
/* Append a frame holding those bytes. */
void	proto_frame_raw(struct buf *, const void *, size_t);
/* Append the frames of a binary payload. */
void	proto_frame_blob(struct buf *, const void *, size_t);
/*
 * Look for one complete frame at the head of in. Returns 1 and sets the
 * payload and its length (still in the buffer: call buf_consume(in, 4 + len)
 * when done), 0 if more bytes are needed, -1 if the announced length is 0 or
 * over max.
 */
int	proto_frame_peek(const struct buf *in, size_t max,
	    const unsigned char **payload, size_t *len);
/* Parse a payload as a JSON object; NULL with a reason if it is not one. */
json_t	*proto_parse(const unsigned char *, size_t, const char **cause);

/* A request frame, parsed and checked for shape. */
struct proto_request {
	json_t		*msg;	/* the whole message; the caller frees it */
	json_int_t	 id;
	int		 op;	/* enum proto_op, or -1 for an unknown name */
	json_t		*args;	/* an object, NULL when absent */
};
/*
 * Parse a request: a JSON object with an integer "id", a string "op" and,
 * if present, an object "args". -1 with a cause if it is not one (a
 * protocol violation); an unknown operation is not one (op = -1).
 */
int	 proto_request_parse(const unsigned char *, size_t,
	    struct proto_request *, const char **cause);
/* The "blob" member announcing a binary payload: its size (1 to
 * PROTO_BLOB_MAX) and hex SHA-256. -1 if absent or malformed. */
int	 proto_blob_parse(const json_t *msg, size_t *size, const char **sha256);

/* Build the reply objects. */
json_t	*proto_reply_ok(json_int_t id, json_t *result);
json_t	*proto_reply_error(json_int_t id, enum proto_error, const char *message);

/* Lowercase hex SHA-256 of the bytes, into out[65]. */
void	 proto_sha256_hex(const void *, size_t, char out[65]);

#endif
