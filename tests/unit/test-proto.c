/* Unit tests of common/proto.h: the operation, error and role tables, the
 * framing, the parser and the reply builders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "buf.h"
#include "proto.h"
#include "valid.h"

/* Fail at the caller's line unless the JSON member is that string. */
#define assert_json_string(obj, key, want) do { \
	json_t *v_ = json_object_get(obj, key); \
	assert_non_null(v_); \
	assert_true(json_is_string(v_)); \
	assert_string_equal(json_string_value(v_), want); \
} while (0)

static void
test_op_round_trip(void **state)
{
	const struct proto_op_info	*info;
	int				 i, j;

	(void)state;
	assert_true(OP__COUNT > 0);
	for (i = 0; i < OP__COUNT; i++) {
		info = proto_op((enum proto_op)i);
		assert_non_null(info);
		assert_non_null(info->name);
		assert_true(info->name[0] != '\0');
		assert_int_equal(proto_op_lookup(info->name), i);
		/* Names are unique. */
		for (j = 0; j < i; j++)
			assert_string_not_equal(proto_op((enum proto_op)j)->name,
			    info->name);
		/* Peers are never empty, and within the known kinds. */
		assert_true(info->peers != 0);
		assert_int_equal(info->peers & ~(unsigned)PEER_ANY, 0);
		assert_int_equal(info->roles & ~(unsigned)ROLE_STAFF, 0);
	}
}

static void
test_op_known(void **state)
{
	(void)state;
	assert_int_equal(proto_op_lookup("hello"), OP_HELLO);
	assert_int_equal(proto_op_lookup("login"), OP_LOGIN);
	assert_int_equal(proto_op_lookup("search"), OP_SEARCH);
	assert_int_equal(proto_op_lookup("staff-set-key"), OP_STAFF_SET_KEY);
	assert_string_equal(proto_op(OP_HELLO)->name, "hello");
	assert_true(proto_op(OP_HELLO)->flags & OPF_PREAUTH);
	assert_int_equal(proto_op(OP_HELLO)->peers, PEER_ANY);
	assert_false(proto_op(OP_WHOAMI)->flags & OPF_PREAUTH);
	assert_int_equal(proto_op(OP_STAFF_ADD)->roles, ROLE_ADMIN);
}

static void
test_op_unknown(void **state)
{
	(void)state;
	assert_int_equal(proto_op_lookup("nope"), -1);
	assert_int_equal(proto_op_lookup(""), -1);
	assert_int_equal(proto_op_lookup("HELLO"), -1);
	assert_int_equal(proto_op_lookup("hello "), -1);
	assert_int_equal(proto_op_lookup("hell"), -1);
	assert_int_equal(proto_op_lookup("staff"), -1);
}

static void
test_error_round_trip(void **state)
{
	const char	*name, *msg;
	size_t		 n;
	int		 i;

	(void)state;
	assert_true(E__COUNT > 0);
	for (i = 0; i < E__COUNT; i++) {
		name = proto_error_name((enum proto_error)i);
		assert_non_null(name);
		assert_int_equal(strncmp(name, "E_", 2), 0);
		assert_int_equal(proto_error_lookup(name), i);
		msg = proto_error_message((enum proto_error)i);
		assert_non_null(msg);
		n = strlen(msg);
		assert_true(n > 1);
		/* A French sentence: a capital, a final full stop, clean
		 * UTF-8. */
		assert_in_range(msg[0], 'A', 'Z');
		assert_int_equal(msg[n - 1], '.');
		assert_int_equal(valid_utf8_text(msg, n), 1);
	}
}

static void
test_error_known(void **state)
{
	(void)state;
	assert_string_equal(proto_error_name(E_FORBIDDEN), "E_FORBIDDEN");
	assert_string_equal(proto_error_name(E_INTERNAL), "E_INTERNAL");
	assert_int_equal(proto_error_lookup("E_AUTH"), E_AUTH);
	assert_string_equal(proto_error_message(E_AUTH),
	    "Identifiant ou mot de passe incorrect.");
	assert_string_equal(proto_error_message(E_FORBIDDEN),
	    "Opération non autorisée.");
	assert_int_equal(proto_error_lookup("E_NOPE"), -1);
	assert_int_equal(proto_error_lookup("e_auth"), -1);
	assert_int_equal(proto_error_lookup(""), -1);
	/* Out of range: reported as an internal error. */
	assert_string_equal(proto_error_name(E__COUNT), "E_INTERNAL");
	assert_string_equal(proto_error_message(E__COUNT),
	    proto_error_message(E_INTERNAL));
}

static void
test_roles(void **state)
{
	static const enum proto_role	 roles[] = { ROLE_DIRECTEUR,
					    ROLE_ASSISTANCE, ROLE_ADMIN };
	size_t				 i;

	(void)state;
	assert_int_equal(proto_role_lookup("directeur"), ROLE_DIRECTEUR);
	assert_int_equal(proto_role_lookup("assistance"), ROLE_ASSISTANCE);
	assert_int_equal(proto_role_lookup("admin"), ROLE_ADMIN);
	assert_string_equal(proto_role_name(ROLE_DIRECTEUR), "directeur");
	assert_string_equal(proto_role_name(ROLE_ASSISTANCE), "assistance");
	assert_string_equal(proto_role_name(ROLE_ADMIN), "admin");
	for (i = 0; i < sizeof roles / sizeof roles[0]; i++) {
		assert_int_equal(proto_role_lookup(proto_role_name(roles[i])),
		    roles[i]);
		assert_string_not_equal(proto_role_label(roles[i]), "?");
	}
	assert_string_equal(proto_role_label(ROLE_ADMIN), "Administrateur");
	assert_int_equal(proto_role_lookup("Admin"), 0);
	assert_int_equal(proto_role_lookup("administrateur"), 0);
	assert_int_equal(proto_role_lookup(""), 0);
	assert_string_equal(proto_role_name((enum proto_role)3), "?");
}

/* Read a 4-byte big-endian length. */
static uint32_t
get_u32be(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static json_t *
sample_request(void)
{
	json_t	*msg;

	msg = json_pack("{s:i, s:s, s:{s:s, s:i, s:b, s:[i, i], s:n}}",
	    "id", 7, "op", "search", "args", "q", "\xc3\x89lo\xc3\xafse",
	    "limit", 50, "all", 1, "range", 1, 2, "none");
	assert_non_null(msg);
	return msg;
}

static void
test_frame_json_round_trip(void **state)
{
	struct buf		 b;
	json_t			*msg, *back;
	const unsigned char	*payload = NULL;
	const char		*cause = NULL;
	char			*compact;
	size_t			 len = 0;

	(void)state;
	buf_init(&b);
	msg = sample_request();
	proto_frame_json(&b, msg);
	compact = json_dumps(msg, JSON_COMPACT);
	assert_non_null(compact);

	/* Header: the payload length, big-endian; payload: compact JSON. */
	assert_int_equal(buf_left(&b), 4 + strlen(compact));
	assert_int_equal(get_u32be(buf_head(&b)), strlen(compact));
	assert_int_equal(proto_frame_peek(&b, PROTO_REQUEST_MAX, &payload,
	    &len), 1);
	assert_int_equal(len, strlen(compact));
	assert_ptr_equal(payload, buf_head(&b) + 4);
	assert_memory_equal(payload, compact, len);

	back = proto_parse(payload, len, &cause);
	assert_non_null(back);
	assert_true(json_equal(msg, back));
	assert_json_string(json_object_get(back, "args"), "q",
	    "\xc3\x89lo\xc3\xafse");

	/* Peek does not consume. */
	assert_int_equal(buf_left(&b), 4 + len);
	buf_consume(&b, 4 + len);
	assert_int_equal(buf_left(&b), 0);

	free(compact);
	json_decref(back);
	json_decref(msg);
	buf_free(&b);
}

static void
test_frame_length_bytes(void **state)
{
	struct buf		 b;
	unsigned char		*big;
	const unsigned char	*payload = NULL;
	size_t			 len = 0, n = 0x010203;

	(void)state;
	/* A payload whose length uses three bytes of the header. */
	big = calloc(1, n);
	assert_non_null(big);
	memset(big, 'x', n);
	buf_init(&b);
	proto_frame_raw(&b, big, n);
	assert_int_equal(buf_left(&b), 4 + n);
	assert_int_equal(buf_head(&b)[0], 0x00);
	assert_int_equal(buf_head(&b)[1], 0x01);
	assert_int_equal(buf_head(&b)[2], 0x02);
	assert_int_equal(buf_head(&b)[3], 0x03);
	assert_int_equal(proto_frame_peek(&b, PROTO_REPLY_MAX, &payload, &len),
	    1);
	assert_int_equal(len, n);
	assert_memory_equal(payload, big, n);
	/* The same frame is over a smaller receiver's limit. */
	assert_int_equal(proto_frame_peek(&b, n - 1, &payload, &len), -1);
	assert_int_equal(proto_frame_peek(&b, n, &payload, &len), 1);
	buf_free(&b);
	free(big);
}

static void
test_frame_partial(void **state)
{
	struct buf		 whole, part;
	json_t			*msg;
	const unsigned char	*payload;
	size_t			 total, k, len;
	int			 r;

	(void)state;
	buf_init(&whole);
	msg = sample_request();
	proto_frame_json(&whole, msg);
	total = buf_left(&whole);
	assert_true(total > 4);
	for (k = 0; k < total; k++) {
		buf_init(&part);
		buf_add(&part, buf_head(&whole), k);
		payload = NULL;
		len = 0;
		r = proto_frame_peek(&part, PROTO_REQUEST_MAX, &payload, &len);
		if (r != 0) {
			print_error("prefix of %zu bytes out of %zu: expected 0, "
			    "got %d\n", k, total, r);
			fail();
		}
		buf_free(&part);
	}
	json_decref(msg);
	buf_free(&whole);
}

static void
test_frame_bad_lengths(void **state)
{
	struct buf		 b;
	const unsigned char	*payload = NULL;
	size_t			 len = 0;

	(void)state;
	/* Length 0. */
	buf_init(&b);
	buf_add_u32be(&b, 0);
	assert_int_equal(proto_frame_peek(&b, PROTO_REQUEST_MAX, &payload,
	    &len), -1);
	buf_add(&b, "{}", 2);
	assert_int_equal(proto_frame_peek(&b, PROTO_REQUEST_MAX, &payload,
	    &len), -1);
	buf_free(&b);

	/* Over the limit: refused from the header alone. */
	buf_init(&b);
	buf_add_u32be(&b, PROTO_REQUEST_MAX + 1);
	assert_int_equal(proto_frame_peek(&b, PROTO_REQUEST_MAX, &payload,
	    &len), -1);
	buf_free(&b);
	buf_init(&b);
	buf_add_u32be(&b, 0xffffffffu);
	assert_int_equal(proto_frame_peek(&b, PROTO_REPLY_MAX, &payload,
	    &len), -1);
	buf_free(&b);

	/* At the limit: only waiting for the bytes. */
	buf_init(&b);
	buf_add_u32be(&b, PROTO_REQUEST_MAX);
	assert_int_equal(proto_frame_peek(&b, PROTO_REQUEST_MAX, &payload,
	    &len), 0);
	buf_free(&b);

	/* A small limit, met exactly. */
	buf_init(&b);
	buf_add_u32be(&b, 10);
	buf_add(&b, "0123456789", 10);
	assert_int_equal(proto_frame_peek(&b, 10, &payload, &len), 1);
	assert_int_equal(len, 10);
	assert_int_equal(proto_frame_peek(&b, 9, &payload, &len), -1);
	buf_free(&b);
}

static void
test_frame_back_to_back(void **state)
{
	struct buf		 b;
	json_t			*one, *two, *got;
	const unsigned char	*payload = NULL;
	const char		*cause = NULL;
	size_t			 len = 0;

	(void)state;
	buf_init(&b);
	one = json_pack("{s:i, s:s}", "id", 1, "op", "hello");
	two = json_pack("{s:i, s:s, s:{}}", "id", 2, "op", "whoami", "args");
	assert_non_null(one);
	assert_non_null(two);
	proto_frame_json(&b, one);
	proto_frame_json(&b, two);
	/* And the first bytes of a third frame. */
	buf_add_u32be(&b, 100);
	buf_add(&b, "{\"id\"", 5);

	assert_int_equal(proto_frame_peek(&b, PROTO_REQUEST_MAX, &payload,
	    &len), 1);
	got = proto_parse(payload, len, &cause);
	assert_non_null(got);
	assert_true(json_equal(got, one));
	json_decref(got);
	buf_consume(&b, 4 + len);

	assert_int_equal(proto_frame_peek(&b, PROTO_REQUEST_MAX, &payload,
	    &len), 1);
	got = proto_parse(payload, len, &cause);
	assert_non_null(got);
	assert_true(json_equal(got, two));
	json_decref(got);
	buf_consume(&b, 4 + len);

	assert_int_equal(buf_left(&b), 4 + 5);
	assert_int_equal(proto_frame_peek(&b, PROTO_REQUEST_MAX, &payload,
	    &len), 0);

	json_decref(one);
	json_decref(two);
	buf_free(&b);
}

/* Frame a payload of that size as a blob, then read the frames back:
 * their number, their sizes and their concatenation. */
static void
check_blob(size_t size)
{
	struct buf		 b, joined;
	unsigned char		*data;
	const unsigned char	*payload = NULL;
	size_t			 i, len = 0, frames = 0, want;

	data = malloc(size + 1);
	assert_non_null(data);
	for (i = 0; i < size; i++)
		data[i] = (unsigned char)(i * 7 + i / 251);
	buf_init(&b);
	buf_init(&joined);
	proto_frame_blob(&b, data, size);
	while (buf_left(&b) > 0) {
		assert_int_equal(proto_frame_peek(&b, PROTO_CHUNK_SIZE,
		    &payload, &len), 1);
		/* Every frame but the last is full. */
		if (buf_left(&b) > 4 + len)
			assert_int_equal(len, PROTO_CHUNK_SIZE);
		buf_add(&joined, payload, len);
		buf_consume(&b, 4 + len);
		frames++;
	}
	want = (size + PROTO_CHUNK_SIZE - 1) / PROTO_CHUNK_SIZE;
	assert_int_equal(frames, want);
	assert_int_equal(buf_left(&joined), size);
	if (size > 0)
		assert_memory_equal(buf_head(&joined), data, size);
	buf_free(&joined);
	buf_free(&b);
	free(data);
}

static void
test_frame_blob(void **state)
{
	struct buf		 b;
	unsigned char		*data;
	const unsigned char	*payload = NULL;
	size_t			 size = PROTO_CHUNK_SIZE * 5 / 2, i, len = 0;
	size_t			 off = 0;

	(void)state;
	data = malloc(size);
	assert_non_null(data);
	for (i = 0; i < size; i++)
		data[i] = (unsigned char)(i ^ (i >> 8) ^ (i >> 16));
	buf_init(&b);
	proto_frame_blob(&b, data, size);
	/* 3 frames: 256 KiB, 256 KiB, 128 KiB. */
	assert_int_equal(buf_left(&b), size + 3 * 4);
	for (i = 0; i < 3; i++) {
		assert_int_equal(proto_frame_peek(&b, PROTO_CHUNK_SIZE,
		    &payload, &len), 1);
		assert_int_equal(len, i < 2 ? PROTO_CHUNK_SIZE :
		    PROTO_CHUNK_SIZE / 2);
		assert_memory_equal(payload, data + off, len);
		off += len;
		buf_consume(&b, 4 + len);
	}
	assert_int_equal(off, size);
	assert_int_equal(buf_left(&b), 0);
	buf_free(&b);
	free(data);
}

static void
test_frame_blob_sizes(void **state)
{
	(void)state;
	check_blob(0);
	check_blob(1);
	check_blob(PROTO_CHUNK_SIZE - 1);
	check_blob(PROTO_CHUNK_SIZE);
	check_blob(PROTO_CHUNK_SIZE + 1);
	check_blob(2 * PROTO_CHUNK_SIZE);
}

#define PARSE_BAD(text) do { \
	const char	*cause_ = NULL; \
	json_t		*j_; \
	j_ = proto_parse((const unsigned char *)(text), sizeof(text) - 1, \
	    &cause_); \
	if (j_ != NULL) { \
		char *d_ = json_dumps(j_, JSON_COMPACT | JSON_ENCODE_ANY); \
		print_error("proto_parse(%s): expected NULL, got %s\n", \
		    #text, d_ == NULL ? "?" : d_); \
		free(d_); \
		json_decref(j_); \
		fail(); \
	} \
	assert_non_null(cause_); \
} while (0)

static void
test_parse_rejects(void **state)
{
	(void)state;
	/* Not JSON. */
	PARSE_BAD("");
	PARSE_BAD("{");
	PARSE_BAD("{\"a\":}");
	PARSE_BAD("{'a': 1}");
	PARSE_BAD("{\"a\": 1,}");
	PARSE_BAD("{} {}");
	PARSE_BAD("{}x");
	/* JSON, but not an object. */
	PARSE_BAD("[1, 2]");
	PARSE_BAD("[]");
	PARSE_BAD("\"text\"");
	PARSE_BAD("42");
	PARSE_BAD("null");
	/* Invalid UTF-8 inside a string (and in a key). */
	PARSE_BAD("{\"a\": \"\xff\"}");
	PARSE_BAD("{\"a\": \"\xc3\"}");
	PARSE_BAD("{\"a\": \"\xed\xa0\x80\"}");
	PARSE_BAD("{\"\xc0\xaf\": 1}");
	/* NUL inside a string. */
	PARSE_BAD("{\"a\": \"x\\u0000y\"}");
	/* Duplicate keys. */
	PARSE_BAD("{\"a\": 1, \"a\": 2}");
	PARSE_BAD("{\"id\": 1, \"args\": {\"q\": 1, \"q\": 1}}");
}

static void
test_parse_accepts(void **state)
{
	const char	*cause = NULL;
	json_t		*j;
	const char	 text[] = "{\"id\": 3, \"op\": \"hello\"}trailing";

	(void)state;
	/* Only len bytes are parsed. */
	j = proto_parse((const unsigned char *)text, strlen(text) - 8,
	    &cause);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "id")), 3);
	assert_json_string(j, "op", "hello");
	json_decref(j);

	j = proto_parse((const unsigned char *)"{}", 2, &cause);
	assert_non_null(j);
	assert_true(json_is_object(j));
	assert_int_equal(json_object_size(j), 0);
	json_decref(j);
}

static void
test_reply_ok(void **state)
{
	json_t	*r, *res;

	(void)state;
	r = proto_reply_ok(7, json_pack("{s:i}", "n", 3));
	assert_non_null(r);
	assert_true(json_is_integer(json_object_get(r, "id")));
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 7);
	assert_true(json_is_true(json_object_get(r, "ok")));
	res = json_object_get(r, "result");
	assert_true(json_is_object(res));
	assert_int_equal(json_integer_value(json_object_get(res, "n")), 3);
	assert_null(json_object_get(r, "error"));
	assert_int_equal(json_object_size(r), 3);
	json_decref(r);

	/* No result: an empty object. */
	r = proto_reply_ok((json_int_t)1 << 40, NULL);
	assert_non_null(r);
	assert_int_equal(json_integer_value(json_object_get(r, "id")),
	    (json_int_t)1 << 40);
	res = json_object_get(r, "result");
	assert_true(json_is_object(res));
	assert_int_equal(json_object_size(res), 0);
	json_decref(r);
}

static void
test_reply_error(void **state)
{
	json_t	*r, *err;

	(void)state;
	r = proto_reply_error(9, E_FORBIDDEN, "Pas dans cette école.");
	assert_non_null(r);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 9);
	assert_true(json_is_false(json_object_get(r, "ok")));
	assert_null(json_object_get(r, "result"));
	err = json_object_get(r, "error");
	assert_true(json_is_object(err));
	assert_json_string(err, "code", "E_FORBIDDEN");
	assert_json_string(err, "message", "Pas dans cette école.");
	assert_int_equal(json_object_size(err), 2);
	json_decref(r);

	/* No message: the error's default sentence. */
	r = proto_reply_error(10, E_NOT_FOUND, NULL);
	assert_non_null(r);
	err = json_object_get(r, "error");
	assert_json_string(err, "code", "E_NOT_FOUND");
	assert_json_string(err, "message", proto_error_message(E_NOT_FOUND));
	assert_json_string(err, "message", "Introuvable.");
	json_decref(r);

	r = proto_reply_error(0, E_INTERNAL, NULL);
	assert_non_null(r);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 0);
	assert_json_string(json_object_get(r, "error"), "code", "E_INTERNAL");
	json_decref(r);
}

static void
test_sha256(void **state)
{
	char		 out[65];
	unsigned char	*mil;

	(void)state;
	proto_sha256_hex("abc", 3, out);
	assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	proto_sha256_hex("", 0, out);
	assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	proto_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnop"
	    "nopq", 56, out);
	assert_string_equal(out, "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1");
	/* One million 'a'. */
	mil = malloc(1000000);
	assert_non_null(mil);
	memset(mil, 'a', 1000000);
	proto_sha256_hex(mil, 1000000, out);
	assert_string_equal(out, "cdc76e5c9914fb9281a1c7e284d73e67"
	    "f1809a48a497200e046d39ccc7112cd0");
	free(mil);
}

/*
 * A frame appended to a buffer whose head was partly consumed: growing the
 * buffer while the JSON is dumped moves the unread bytes to the front, and
 * the length must still be right (ecadmd once exited on an underflow here
 * when a client sent requests and never read the replies).
 */
static void
test_frame_json_after_consume(void **state)
{
	struct buf		 b;
	json_t			*msg, *back;
	const unsigned char	*payload = NULL;
	const char		*cause = NULL;
	char			 big[2048];
	size_t			 len = 0;

	(void)state;
	buf_init(&b);
	/* Fill the buffer but for room for the frame's header, then
	 * consume most of it: the dump, not the header, must compact. */
	buf_reserve(&b, 256);
	while (b.size - b.len > 4)
		buf_add(&b, "x", 1);
	buf_consume(&b, b.len - 8);
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	msg = json_pack("{s:s}", "big", big);
	proto_frame_json(&b, msg);
	assert_int_equal(b.off, 0);	/* the dump compacted the buffer */
	buf_consume(&b, 8);
	assert_int_equal(proto_frame_peek(&b, PROTO_REPLY_MAX, &payload,
	    &len), 1);
	assert_int_equal(len, buf_left(&b) - 4);
	back = proto_parse(payload, len, &cause);
	assert_non_null(back);
	assert_true(json_equal(msg, back));
	json_decref(back);
	json_decref(msg);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_op_round_trip),
		cmocka_unit_test(test_op_known),
		cmocka_unit_test(test_op_unknown),
		cmocka_unit_test(test_error_round_trip),
		cmocka_unit_test(test_error_known),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_frame_json_round_trip),
		cmocka_unit_test(test_frame_json_after_consume),
		cmocka_unit_test(test_frame_length_bytes),
		cmocka_unit_test(test_frame_partial),
		cmocka_unit_test(test_frame_bad_lengths),
		cmocka_unit_test(test_frame_back_to_back),
		cmocka_unit_test(test_frame_blob),
		cmocka_unit_test(test_frame_blob_sizes),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_parse_accepts),
		cmocka_unit_test(test_reply_ok),
		cmocka_unit_test(test_reply_error),
		cmocka_unit_test(test_sha256),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
