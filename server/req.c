/*
 * Requests as handlers see them: typed views of the arguments, the error
 * a handler sets, and the reply serialized for the loop. Called by the
 * workers and, for an upload the gate refused, by the loop.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "db.h"
#include "log.h"
#include "server.h"

void
req_error(struct request *req, enum proto_error e, const char *fmt, ...)
{
	va_list	ap;

	req->error = (int)e;
	free(req->message);
	req->message = NULL;
	if (fmt != NULL) {
		va_start(ap, fmt);
		if (vasprintf(&req->message, fmt, ap) == -1)
			fatal("vasprintf");
		va_end(ap);
	}
}

void
req_db_error(struct request *req, struct db *db)
{
	req_error(req, db_error_code(db), "%s", db_error_message(db));
}

const char *
req_arg_str(struct request *req, const char *name, int required)
{
	json_t	*v = json_object_get(req->args, name);

	if (v == NULL || json_is_null(v)) {
		if (required)
			req_error(req, E_INVALID, "Paramètre manquant : %s.",
			    name);
		return NULL;
	}
	if (!json_is_string(v)) {
		req_error(req, E_INVALID, "Paramètre invalide : %s.", name);
		return NULL;
	}
	return json_string_value(v);
}

json_int_t
req_arg_int(struct request *req, const char *name, json_int_t fallback)
{
	json_t	*v = json_object_get(req->args, name);

	if (v == NULL || json_is_null(v))
		return fallback;
	if (!json_is_integer(v)) {
		req_error(req, E_INVALID, "Paramètre invalide : %s.", name);
		return fallback;
	}
	return json_integer_value(v);
}

int
req_arg_bool(struct request *req, const char *name, int fallback)
{
	json_t	*v = json_object_get(req->args, name);

	if (v == NULL || json_is_null(v))
		return fallback;
	if (!json_is_boolean(v)) {
		req_error(req, E_INVALID, "Paramètre invalide : %s.", name);
		return fallback;
	}
	return json_is_true(v);
}

json_t *
req_arg_strings(struct request *req, const char *name)
{
	json_t	*v = json_object_get(req->args, name), *item;
	size_t	 i;

	if (v == NULL || json_is_null(v))
		return NULL;
	if (json_is_string(v))
		return json_pack("[O]", v);
	if (json_is_array(v)) {
		json_array_foreach(v, i, item) {
			if (!json_is_string(item))
				goto bad;
		}
		return json_incref(v);
	}
bad:
	req_error(req, E_INVALID, "Paramètre invalide : %s.", name);
	return NULL;
}

/*
 * Wipe the secrets a message holds (passwords, codes, tokens) before it is
 * freed: jansson frees its strings without clearing them, and a freed
 * chunk may be handed to another request.
 */
static void
json_wipe_secrets(json_t *v)
{
	static const char *const	 keys[] = { "password", "totp",
					    "token", "new_password", "secret",
					    "uri", "session", "current",
					    "confirmation" };
	const char			*key;
	json_t				*item;
	size_t				 i;

	if (json_is_object(v)) {
		for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
			item = json_object_get(v, keys[i]);
			if (json_is_string(item))
				OPENSSL_cleanse((char *)json_string_value(item),
				    json_string_length(item));
		}
		json_object_foreach(v, key, item) {
			if (json_is_object(item) || json_is_array(item))
				json_wipe_secrets(item);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item) {
			if (json_is_object(item) || json_is_array(item))
				json_wipe_secrets(item);
		}
	}
}

void
req_reply(struct request *req, struct buf *out)
{
	json_t	*reply;
	char	 sha[65];

	if (req->error != -1) {
		reply = proto_reply_error(req->id, (enum proto_error)req->error,
		    req->message);
		if (req->error_details != NULL)
			json_object_set(json_object_get(reply, "error"),
			    "details", req->error_details);
		proto_frame_json(out, reply);
		json_decref(reply);
		return;
	}
	reply = proto_reply_ok(req->id, req->result);
	req->result = NULL;
	/* One allocation for most replies (the search of a class is about
	 * 15 kB) instead of a chain of doublings. Not 64 kB: glibc
	 * consolidates its free lists at every free of that size, once a
	 * reply, and was 5% of a search. */
	buf_reserve(out, 16 * 1024);
	if (req->blob.len > 0) {
		proto_sha256_hex(req->blob.data, req->blob.len, sha);
		json_object_set_new(reply, "blob", json_pack("{s:I, s:s, s:s}",
		    "size", (json_int_t)req->blob.len, "sha256", sha, "name",
		    req->blob_name != NULL ? req->blob_name : "document"));
	}
	proto_frame_json(out, reply);
	json_wipe_secrets(reply);
	json_decref(reply);
	if (req->blob.len > 0)
		proto_frame_blob(out, req->blob.data, req->blob.len);
}

void
req_clear(struct request *req)
{
	json_wipe_secrets(req->msg);
	json_decref(req->msg);
	json_decref(req->result);
	json_decref(req->error_details);
	free(req->message);
	free(req->scope.school_name);
	free(req->scope.school_town);
	/* Replies and uploads may carry provisional passwords. */
	buf_free_secret(&req->blob);
	buf_free(&req->upload);
	free(req->blob_name);
	session_free(req->new_session);
	memset(req, 0, sizeof *req);
}
