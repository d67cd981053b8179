/* The protocol tables and the framing shared by the server and its clients. */
#include <string.h>

#include <openssl/sha.h>

#include "hex.h"
#include "log.h"
#include "proto.h"

static const struct proto_op_info proto_ops[] = {
#define OP(sym, name, roles, peers, flags) { name, roles, peers, flags },
#include "proto-ops.def"
#undef OP
};

static const struct {
	const char	*name;
	const char	*message;
} proto_errors[] = {
#define PROTO_ERROR(sym, message) { #sym, message },
#include "proto-errors.def"
#undef PROTO_ERROR
};

const struct proto_op_info *
proto_op(enum proto_op op)
{
	if ((unsigned)op >= OP__COUNT)
		fatalx("proto_op: %d out of range", (int)op);
	return &proto_ops[op];
}

int
proto_op_lookup(const char *name)
{
	int	i;

	for (i = 0; i < OP__COUNT; i++) {
		if (strcmp(proto_ops[i].name, name) == 0)
			return i;
	}
	return -1;
}

const char *
proto_error_name(enum proto_error e)
{
	if ((unsigned)e >= E__COUNT)
		return "E_INTERNAL";
	return proto_errors[e].name;
}

const char *
proto_error_message(enum proto_error e)
{
	if ((unsigned)e >= E__COUNT)
		return proto_errors[E_INTERNAL].message;
	return proto_errors[e].message;
}

int
proto_error_lookup(const char *name)
{
	int	i;

	for (i = 0; i < E__COUNT; i++) {
		if (strcmp(proto_errors[i].name, name) == 0)
			return i;
	}
	return -1;
}

const char *
proto_role_name(enum proto_role role)
{
	switch (role) {
	case ROLE_DIRECTEUR:
		return "directeur";
	case ROLE_ASSISTANCE:
		return "assistance";
	case ROLE_ADMIN:
		return "admin";
	}
	return "?";
}

const char *
proto_role_label(enum proto_role role)
{
	switch (role) {
	case ROLE_DIRECTEUR:
		return "Directeur";
	case ROLE_ASSISTANCE:
		return "Assistance";
	case ROLE_ADMIN:
		return "Administrateur";
	}
	return "?";
}

unsigned
proto_role_lookup(const char *name)
{
	if (strcmp(name, "directeur") == 0)
		return ROLE_DIRECTEUR;
	if (strcmp(name, "assistance") == 0)
		return ROLE_ASSISTANCE;
	if (strcmp(name, "admin") == 0)
		return ROLE_ADMIN;
	return 0;
}

static int
proto_dump_cb(const char *p, size_t len, void *arg)
{
	buf_add(arg, p, len);
	return 0;
}

void
proto_frame_json(struct buf *out, const json_t *msg)
{
	unsigned char	*p;
	size_t		 start, len;

	/*
	 * Reserve the length, dump in place, then patch the length in.
	 * Positions are kept relative to the unread head: a reservation
	 * during the dump may move the unread bytes to the front of the
	 * buffer (buf_reserve), so absolute offsets would go stale.
	 */
	buf_add_u32be(out, 0);
	start = buf_left(out);
	if (json_dump_callback(msg, proto_dump_cb, out,
	    JSON_COMPACT | JSON_REAL_PRECISION(10)) != 0)
		fatalx("proto_frame_json: cannot encode");
	len = buf_left(out) - start;
	if (len > UINT32_MAX)
		fatalx("proto_frame_json: %zu bytes", len);
	p = buf_head(out) + start - 4;
	p[0] = (unsigned char)(len >> 24);
	p[1] = (unsigned char)(len >> 16);
	p[2] = (unsigned char)(len >> 8);
	p[3] = (unsigned char)len;
}

void
proto_frame_raw(struct buf *out, const void *p, size_t len)
{
	if (len > UINT32_MAX)
		fatalx("proto_frame_raw: %zu bytes", len);
	buf_add_u32be(out, (uint32_t)len);
	buf_add(out, p, len);
}

void
proto_frame_blob(struct buf *out, const void *p, size_t len)
{
	const unsigned char	*c = p;
	size_t			 n;

	/* The frames in one allocation, not doublings that copy a 100 MB
	 * extraction (or a document) several times over. */
	buf_reserve(out, len + 4 * (len / PROTO_CHUNK_SIZE + 1));
	while (len > 0) {
		n = len < PROTO_CHUNK_SIZE ? len : PROTO_CHUNK_SIZE;
		proto_frame_raw(out, c, n);
		c += n;
		len -= n;
	}
}

int
proto_frame_peek(const struct buf *in, size_t max,
    const unsigned char **payload, size_t *len)
{
	const unsigned char	*p = buf_head(in);
	size_t			 n;

	if (buf_left(in) < 4)
		return 0;
	n = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 |
	    (size_t)p[3];
	if (n == 0 || n > max)
		return -1;
	if (buf_left(in) - 4 < n)
		return 0;
	*payload = p + 4;
	*len = n;
	return 1;
}

json_t *
proto_parse(const unsigned char *p, size_t len, const char **cause)
{
	json_error_t	 error;
	json_t		*msg;

	/* jansson rejects invalid UTF-8 and NUL bytes inside strings. */
	msg = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &error);
	if (msg == NULL) {
		*cause = "invalid JSON";
		return NULL;
	}
	if (!json_is_object(msg)) {
		json_decref(msg);
		*cause = "not a JSON object";
		return NULL;
	}
	return msg;
}

int
proto_request_parse(const unsigned char *p, size_t len,
    struct proto_request *r, const char **cause)
{
	json_t	*id, *op;

	memset(r, 0, sizeof *r);
	if ((r->msg = proto_parse(p, len, cause)) == NULL)
		return -1;
	id = json_object_get(r->msg, "id");
	op = json_object_get(r->msg, "op");
	r->args = json_object_get(r->msg, "args");
	if (!json_is_integer(id) || !json_is_string(op) ||
	    (r->args != NULL && !json_is_object(r->args))) {
		json_decref(r->msg);
		memset(r, 0, sizeof *r);
		*cause = "request without id, op or args";
		return -1;
	}
	r->id = json_integer_value(id);
	r->op = proto_op_lookup(json_string_value(op));
	return 0;
}

int
proto_blob_parse(const json_t *msg, size_t *size, const char **sha256)
{
	json_t		*blob = json_object_get(msg, "blob");
	json_int_t	 n;
	const char	*sha;

	n = json_integer_value(json_object_get(blob, "size"));
	sha = json_string_value(json_object_get(blob, "sha256"));
	/* Lowercase hex, as proto_sha256_hex writes it: a digest that could
	 * never match is refused here, not after the whole upload. */
	if (!json_is_object(blob) || n <= 0 || n > PROTO_BLOB_MAX ||
	    sha == NULL || strlen(sha) != 64 ||
	    strspn(sha, "0123456789abcdef") != 64)
		return -1;
	*size = (size_t)n;
	*sha256 = sha;
	return 0;
}

json_t *
proto_reply_ok(json_int_t id, json_t *result)
{
	if (result == NULL)
		result = json_object();
	return json_pack("{s:I, s:b, s:o}", "id", id, "ok", 1, "result",
	    result);
}

json_t *
proto_reply_error(json_int_t id, enum proto_error e, const char *message)
{
	if (message == NULL)
		message = proto_error_message(e);
	return json_pack("{s:I, s:b, s:{s:s, s:s}}", "id", id, "ok", 0,
	    "error", "code", proto_error_name(e), "message", message);
}

void
proto_sha256_hex(const void *p, size_t len, char out[65])
{
	unsigned char	md[SHA256_DIGEST_LENGTH];

	SHA256(p, len, md);
	hex_encode(md, sizeof md, out);
}
