/*
 * libFuzzer target: what ecadmd does with the bytes a client sends, before
 * any handler runs. The input is the stream of one connection, delivered in
 * two reads so frames straddle them. Frames are cut by proto_frame_peek()
 * under the server's limit and each payload is parsed and checked the way
 * server/conn.c does (conn_request, conn_hello, conn_upload_start and
 * conn_upload_frame): a request before hello, without an integer id, a
 * string op or an object args, or an upload badly announced or overlong
 * closes the connection.
 *
 * Every answer is framed by proto_frame_json() into an output buffer whose
 * head was partly written out (buf_consume, as after a short SSL_write),
 * then read back and compared byte for byte with jansson's own encoding. A
 * well-formed request is answered with itself, so whatever the parser
 * accepted is re-encoded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* What the server knows of one connection, for this purpose. */
struct fuzz_conn {
	struct buf	 in;
	struct buf	 out;
	int		 hello;
	int		 closing;
	size_t		 upload_size;	/* announced; 0: no upload arriving */
	struct buf	 upload;
	char		 upload_sha256[65];
};

/* Frame a reply as conn_reply does, then check the frame at the tail. */
static void
fuzz_reply(struct fuzz_conn *c, json_t *reply)
{
	const size_t	 flags = JSON_COMPACT | JSON_REAL_PRECISION(10);
	const unsigned char *tail;
	char		*want;
	size_t		 n;

	if (reply == NULL)
		abort();
	if ((want = json_dumps(reply, flags)) == NULL)
		abort();
	n = strlen(want);
	/* A short write took half of what was waiting: the dump may then
	 * compact the buffer under proto_frame_json (a bug once; regression
	 * input corpus/fuzz-frame/crash-frame-json-compaction). */
	buf_consume(&c->out, buf_left(&c->out) / 2);
	proto_frame_json(&c->out, reply);
	if (buf_left(&c->out) < 4 + n)
		abort();
	tail = buf_head(&c->out) + buf_left(&c->out) - 4 - n;
	if (((size_t)tail[0] << 24 | (size_t)tail[1] << 16 |
	    (size_t)tail[2] << 8 | tail[3]) != n ||
	    memcmp(tail + 4, want, n) != 0)
		abort();
	free(want);
	json_decref(reply);
}

/* Answer a protocol violation and close, as conn_violation does. */
static void
fuzz_violation(struct fuzz_conn *c)
{
	fuzz_reply(c, proto_reply_error(0, E_PROTO, NULL));
	c->closing = 1;
}

/* The hello request: the version must match. */
static void
fuzz_hello(struct fuzz_conn *c, json_int_t id, json_t *args)
{
	json_t	*version = json_object_get(args, "version");

	if (!json_is_integer(version) ||
	    json_integer_value(version) != PROTO_VERSION) {
		fuzz_reply(c, proto_reply_error(id, E_VERSION, NULL));
		c->closing = 1;
		return;
	}
	c->hello = 1;
	fuzz_reply(c, proto_reply_ok(id, json_pack("{s:i, s:s}", "version",
	    PROTO_VERSION, "peer", "client")));
}

/* One request, checked as conn_request and conn_upload_start do. */
static void
fuzz_request(struct fuzz_conn *c, const unsigned char *p, size_t len)
{
	const struct proto_op_info	*info;
	struct proto_request		 r;
	const char			*cause, *sha;
	size_t				 size;

	if (proto_request_parse(p, len, &r, &cause) == -1) {
		fuzz_violation(c);
		return;
	}
	if (!c->hello && r.op != OP_HELLO) {
		json_decref(r.msg);
		fuzz_violation(c);
		return;
	}
	if (r.op == -1) {
		fuzz_reply(c, proto_reply_error(r.id, E_INVALID,
		    "Opération inconnue."));
		json_decref(r.msg);
		return;
	}
	if (r.op == OP_HELLO) {
		fuzz_hello(c, r.id, r.args);
		json_decref(r.msg);
		return;
	}
	info = proto_op((enum proto_op)r.op);
	if (strcmp(info->name, json_string_value(json_object_get(r.msg,
	    "op"))) != 0)
		abort();
	if (info->flags & OPF_UPLOAD) {
		if (proto_blob_parse(r.msg, &size, &sha) == -1) {
			json_decref(r.msg);
			fuzz_violation(c);
			return;
		}
		c->upload_size = size;
		buf_reset(&c->upload);
		memcpy(c->upload_sha256, sha, sizeof c->upload_sha256);
		json_decref(r.msg);
		return;
	}
	/* The request itself comes back: it is re-encoded whole. */
	fuzz_reply(c, proto_reply_ok(r.id, r.msg));
}

/* One frame of an upload; answered when it is whole. */
static void
fuzz_upload_frame(struct fuzz_conn *c, const unsigned char *p, size_t len)
{
	char	sha[65];

	if (len > c->upload_size - c->upload.len) {
		c->upload_size = 0;
		fuzz_violation(c);
		return;
	}
	buf_add(&c->upload, p, len);
	if (c->upload.len < c->upload_size)
		return;
	c->upload_size = 0;
	proto_sha256_hex(c->upload.data, c->upload.len, sha);
	if (strcmp(sha, c->upload_sha256) != 0)
		fuzz_reply(c, proto_reply_error(1, E_INVALID, NULL));
	else
		fuzz_reply(c, proto_reply_ok(1, json_pack("{s:I}", "size",
		    (json_int_t)c->upload.len)));
}

/* Every complete frame, as conn_process does. */
static void
fuzz_process(struct fuzz_conn *c)
{
	const unsigned char	*p;
	size_t			 len;
	int			 r;

	while (!c->closing) {
		r = proto_frame_peek(&c->in, PROTO_REQUEST_MAX, &p, &len);
		if (r == 0)
			break;
		if (r == -1) {
			fuzz_violation(c);
			break;
		}
		if (len == 0 || len > PROTO_REQUEST_MAX ||
		    len > buf_left(&c->in) - 4 || p != buf_head(&c->in) + 4)
			abort();
		if (c->upload_size > 0)
			fuzz_upload_frame(c, p, len);
		else
			fuzz_request(c, p, len);
		buf_consume(&c->in, 4 + len);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_conn	c;
	size_t			half = size / 2;

	memset(&c, 0, sizeof c);
	buf_init(&c.in);
	buf_init(&c.out);
	buf_init(&c.upload);
	buf_add(&c.in, data, half);
	fuzz_process(&c);
	if (!c.closing) {
		buf_add(&c.in, data + half, size - half);
		fuzz_process(&c);
	}
	buf_free(&c.in);
	buf_free(&c.out);
	buf_free(&c.upload);
	return 0;
}
