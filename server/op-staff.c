/*
 * Staff accounts, for administrators: add, list, disable; add, list and
 * remove the SSH keys a member logs in with through ecadm-sshd; enrol in
 * TOTP. Every change is recorded as an event in the same transaction. A
 * new account gets a generated password that is shown once, unless the
 * administrator supplies the first password; a TOTP secret is shown once
 * too, and kept sealed with the server key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crypto.h"
#include "db.h"
#include "log.h"
#include "password.h"
#include "server.h"
#include "sshkey.h"
#include "totp.h"
#include "valid.h"
#include "xmalloc.h"

/* Length of generated staff passwords. */
#define STAFF_PASSWORD_LEN	16

/* Staff logins: lowercase letters, digits, dots, dashes, underscores. */
static int
staff_login_valid(const char *s)
{
	size_t	i, len = strlen(s);

	if (len < 2 || len > 40)
		return 0;
	for (i = 0; i < len; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    (i > 0 && strchr("._-", s[i]) != NULL))
			continue;
		return 0;
	}
	return 1;
}

/* Staff passwords: 10 to 128 printable characters, letters and digits. */
static const char *
staff_password_problem(const char *s)
{
	size_t	i, len = strlen(s);
	int	letters = 0, digits = 0;

	if (len < 10 || len > 128)
		return "le mot de passe doit compter de 10 à 128 caractères";
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "le mot de passe contient un caractère de "
			    "contrôle";
		if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))
			letters++;
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
	}
	if (letters == 0 || digits == 0)
		return "le mot de passe doit contenir des lettres et des "
		    "chiffres";
	return NULL;
}

/* Record an event about a staff account. */
static int
staff_event(struct worker *w, struct request *req, const char *staff_id,
    const char *action, const char *detail)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "insert into events (staff_id, action, actor, channel, detail)"
	    " values ($1, $2, $3, $4, $5)");
	PGresult		*res;

	res = db_queryv(w->db, &stmt, staff_id, action, req->session->login,
	    req->channel, detail);
	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* A staff account to add, as the administrator asked for it. */
struct staff_new {
	const char	*login;
	const char	*name;
	const char	*role;
	const char	*given;		/* first password, or NULL */
	json_t		*schools;	/* UAIs, or NULL */
};

/* Check the new account; -1 with the error set. */
static int
staff_add_check(struct request *req, const struct staff_new *n)
{
	const char	*cause, *problem;
	json_t		*item;
	size_t		 i;
	unsigned	 r;

	if (!staff_login_valid(n->login)) {
		req_error(req, E_INVALID, "Identifiant invalide : 2 à 40 "
		    "caractères parmi a-z, 0-9, « . », « - » et « _ ».");
		return -1;
	}
	if (n->name[0] == '\0' || strlen(n->name) > 100 ||
	    !valid_utf8_text(n->name, strlen(n->name))) {
		req_error(req, E_INVALID, "Nom invalide.");
		return -1;
	}
	if ((r = proto_role_lookup(n->role)) == 0) {
		req_error(req, E_INVALID, "Rôle inconnu : %s (directeur, "
		    "assistance ou admin).", n->role);
		return -1;
	}
	if (r == ROLE_DIRECTEUR && json_array_size(n->schools) == 0) {
		req_error(req, E_INVALID, "Un directeur doit être rattaché à "
		    "au moins une école (--school UAI).");
		return -1;
	}
	if (r != ROLE_DIRECTEUR && json_array_size(n->schools) > 0) {
		req_error(req, E_INVALID, "Seul un directeur est rattaché à "
		    "des écoles : l'assistance et les administrateurs voient "
		    "toute l'académie.");
		return -1;
	}
	json_array_foreach(n->schools, i, item) {
		if (valid_uai(json_string_value(item), &cause) == -1) {
			req_error(req, E_INVALID, "École %s : %s.",
			    json_string_value(item), cause);
			return -1;
		}
	}
	if (n->given != NULL && (problem = staff_password_problem(n->given)) !=
	    NULL) {
		req_error(req, E_INVALID, "Mot de passe refusé : %s.", problem);
		return -1;
	}
	return 0;
}

/* Attach the new account to its schools, creating those not known yet. */
static int
staff_add_schools(struct worker *w, const char *staff_id, json_t *schools)
{
	static struct db_stmt	 school = DB_STMT(
	    "with s as (insert into schools (uai) values ($2)"
	    "  on conflict (uai) do update set uai = excluded.uai"
	    "  returning id)"
	    " insert into staff_schools (staff_id, school_id)"
	    " select $1, id from s on conflict do nothing");
	PGresult		*res;
	json_t			*item;
	char			 uai[9], c;
	size_t			 i, j;

	json_array_foreach(schools, i, item) {
		for (j = 0; j < 8; j++) {
			c = json_string_value(item)[j];
			uai[j] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
		}
		uai[8] = '\0';
		if ((res = db_queryv(w->db, &school, staff_id, uai)) == NULL)
			return -1;
		PQclear(res);
	}
	return 0;
}

/*
 * Insert the account, its schools and its event in one transaction; -1
 * with the error set and the transaction rolled back.
 */
static int
staff_add_insert(struct worker *w, struct request *req,
    const struct staff_new *n, const char *hash)
{
	static struct db_stmt	 insert = DB_STMT(
	    "insert into staff (login, name, role, password_hash)"
	    " values ($1, $2, $3, $4) returning id");
	enum { INSERT_ID };
	PGresult		*res;
	char			 staff_id[24], *detail;
	int			 r;

	if (db_begin(w->db) == -1)
		goto fail;
	if ((res = db_queryv(w->db, &insert, n->login, n->name, n->role,
	    hash)) == NULL) {
		if (db_error_code(w->db) == E_CONFLICT) {
			db_rollback(w->db);
			req_error(req, E_CONFLICT, "L'identifiant %s existe "
			    "déjà.", n->login);
			return -1;
		}
		goto fail;
	}
	snprintf(staff_id, sizeof staff_id, "%s", db_get(res, 0, INSERT_ID));
	PQclear(res);
	if (staff_add_schools(w, staff_id, n->schools) == -1)
		goto fail;
	xasprintf(&detail, "%s, rôle %s", n->name, n->role);
	r = staff_event(w, req, staff_id, "staff_add", detail);
	free(detail);
	if (r == -1 || db_commit(w->db) == -1)
		goto fail;
	return 0;
fail:
	req_db_error(req, w->db);
	db_rollback(w->db);
	return -1;
}

void
op_staff_add(struct worker *w, struct request *req)
{
	struct staff_new	 n;
	char			 generated[STAFF_PASSWORD_LEN + 1], *hash = NULL;

	/* Wiped at the end whether or not a password was generated. */
	memset(generated, 0, sizeof generated);
	n.login = req_arg_str(req, "login", 1);
	n.name = req_arg_str(req, "name", 1);
	n.role = req_arg_str(req, "role", 1);
	n.given = req_arg_str(req, "password", 0);
	n.schools = req_arg_strings(req, "schools");
	if (req->error != -1 || staff_add_check(req, &n) == -1)
		goto out;
	if (n.given == NULL)
		password_generate(generated, STAFF_PASSWORD_LEN);
	/* The slow hash runs outside the transaction. */
	if ((hash = password_hash(n.given != NULL ? n.given :
	    generated)) == NULL) {
		req_error(req, E_INTERNAL, NULL);
		goto out;
	}
	if (staff_add_insert(w, req, &n, hash) == -1)
		goto out;
	log_info("staff %s added as %s by %s", n.login, n.role,
	    req->session->login);
	req->result = json_pack("{s:s, s:s, s:s}", "login", n.login, "role",
	    n.role, "name", n.name);
	if (n.given == NULL)
		json_object_set_new(req->result, "password",
		    json_string(generated));
out:
	OPENSSL_cleanse(generated, sizeof generated);
	free(hash);
	json_decref(n.schools);
}

void
op_staff_list(struct worker *w, struct request *req)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "select s.login, s.name, s.role, s.disabled,"
	    " (select count(*) from staff_keys k where k.staff_id = s.id),"
	    " s.totp_sealed is not null,"
	    " (select string_agg(sc.uai, ',' order by sc.uai)"
	    "   from staff_schools ss join schools sc on sc.id = ss.school_id"
	    "   where ss.staff_id = s.id),"
	    " (select to_char(max(created_at) at time zone 'Europe/Paris',"
	    "   'YYYY-MM-DD HH24:MI') from staff_sessions"
	    "   where staff_id = s.id)"
	    " from staff s order by s.login");
	enum {
		LIST_LOGIN, LIST_NAME, LIST_ROLE, LIST_DISABLED, LIST_SSH_KEYS,
		LIST_TOTP, LIST_SCHOOLS, LIST_LAST_LOGIN,
	};
	PGresult		*res;
	json_t			*list, *schools;
	char			*p, *save, *copy;
	int			 i;

	(void)req;
	if ((res = db_query(w->db, &stmt, 0, NULL)) == NULL) {
		req_db_error(req, w->db);
		return;
	}
	list = json_array();
	for (i = 0; i < PQntuples(res); i++) {
		schools = json_array();
		if (db_get(res, i, LIST_SCHOOLS) != NULL) {
			copy = xstrdup(db_get(res, i, LIST_SCHOOLS));
			for (p = strtok_r(copy, ",", &save); p != NULL;
			    p = strtok_r(NULL, ",", &save))
				json_array_append_new(schools, json_string(p));
			free(copy);
		}
		json_array_append_new(list, json_pack(
		    "{s:s, s:s, s:s, s:b, s:b, s:I, s:b, s:o, s:s?}",
		    "login", db_get(res, i, LIST_LOGIN),
		    "name", db_get(res, i, LIST_NAME),
		    "role", db_get(res, i, LIST_ROLE),
		    "disabled", db_get_bool(res, i, LIST_DISABLED),
		    "ssh_key", db_get_int(res, i, LIST_SSH_KEYS) > 0,
		    "ssh_keys", (json_int_t)db_get_int(res, i, LIST_SSH_KEYS),
		    "totp", db_get_bool(res, i, LIST_TOTP),
		    "schools", schools,
		    "last_login", db_get(res, i, LIST_LAST_LOGIN)));
	}
	PQclear(res);
	req->result = json_pack("{s:o}", "staff", list);
}

/* The first column of the statement of staff_change_begin(). */
enum { STAFF_CHANGE_ID };

/* Run stmt, with the login as $1, for one staff member; NULL with the
 * error set if the database fails or it finds no row (an unknown
 * login). */
static PGresult *
staff_query(struct worker *w, struct request *req, struct db_stmt *stmt,
    const char *login)
{
	PGresult	*res;

	if ((res = db_queryv(w->db, stmt, login)) == NULL) {
		req_db_error(req, w->db);
		return NULL;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		req_error(req, E_NOT_FOUND, "Compte inconnu : %s.", login);
		return NULL;
	}
	return res;
}

/*
 * Begin the change of one staff member: a transaction, then stmt, whose
 * first column is the staff id, with the login as $1. -1 with the error
 * set and the transaction rolled back: an unknown login, or the database.
 */
static int
staff_change_begin(struct worker *w, struct request *req,
    struct db_stmt *stmt, const char *login, char staff_id[24])
{
	PGresult	*res = NULL;

	if (db_begin(w->db) == -1)
		req_db_error(req, w->db);
	else
		res = staff_query(w, req, stmt, login);
	if (res == NULL) {
		db_rollback(w->db);
		return -1;
	}
	snprintf(staff_id, 24, "%s", db_get(res, 0, STAFF_CHANGE_ID));
	PQclear(res);
	return 0;
}

void
op_staff_disable(struct worker *w, struct request *req)
{
	static struct db_stmt	 disable = DB_STMT(
	    "update staff set disabled = true where login = $1"
	    " returning id, disabled");
	static struct db_stmt	 end = DB_STMT(
	    "update staff_sessions set ended_at = now()"
	    " where staff_id = $1 and ended_at is null");
	const char		*login;
	PGresult		*res;
	char			 staff_id[24];

	if ((login = req_arg_str(req, "login", 1)) == NULL)
		return;
	if (strcmp(login, req->session->login) == 0) {
		req_error(req, E_INVALID, "Vous ne pouvez pas désactiver votre "
		    "propre compte.");
		return;
	}
	if (staff_change_begin(w, req, &disable, login, staff_id) == -1)
		return;
	if ((res = db_queryv(w->db, &end, staff_id)) == NULL)
		goto fail;
	PQclear(res);
	if (staff_event(w, req, staff_id, "staff_disable", NULL) == -1 ||
	    db_commit(w->db) == -1)
		goto fail;
	gate_revoke_staff(atoi(staff_id));
	log_info("staff %s disabled by %s", login, req->session->login);
	req->result = json_pack("{s:s, s:b}", "login", login, "disabled", 1);
	return;
fail:
	req_db_error(req, w->db);
	db_rollback(w->db);
}

/* The statements of SSH keys. The member's id, where a key is added or
 * removed. */
static struct db_stmt	staff_key_owner = DB_STMT(
    "select id from staff where login = $1");
/* The member's keys, oldest first, as one JSON array (empty when they
 * have none). */
static struct db_stmt	staff_key_list = DB_STMT(
    "select coalesce(json_agg(json_strip_nulls(json_build_object("
    "  'fingerprint', k.fingerprint, 'type', k.key_type,"
    "  'comment', k.comment, 'created', to_char(k.created_at"
    "   at time zone 'Europe/Paris', 'YYYY-MM-DD HH24:MI')))"
    "  order by k.created_at, k.id) filter (where k.id is not null),"
    "  '[]')"
    " from staff s left join staff_keys k on k.staff_id = s.id"
    " where s.login = $1 group by s.id");
enum { KEY_LIST };
/* Remove one key of the member ($1), by its fingerprint. */
static struct db_stmt	staff_key_delete = DB_STMT(
    "delete from staff_keys where staff_id = $1 and fingerprint = $2"
    " returning key_type");
enum { KEY_DELETE_TYPE };

/* Record an event about one SSH key of a staff member. */
static int
staff_key_event(struct worker *w, struct request *req, const char *staff_id,
    const char *action, const char *fingerprint, const char *type)
{
	char	*detail;
	int	 r;

	xasprintf(&detail, "%s (%s)", fingerprint, type);
	r = staff_event(w, req, staff_id, action, detail);
	free(detail);
	return r;
}

/* Record a key for the member, with its event if it is new: 1 added, 0
 * already there, -1 with the error set and the transaction rolled back. */
static int
staff_key_insert(struct worker *w, struct request *req, const char *login,
    const struct sshkey *key)
{
	static struct db_stmt	 add = DB_STMT(
	    "insert into staff_keys (staff_id, key_type, key_blob,"
	    " fingerprint, comment) values ($1, $2, $3::bytea, $4, $5)"
	    " on conflict (staff_id, fingerprint) do nothing returning id");
	PGresult		*res;
	char			*blob, staff_id[24];
	int			 added;

	if (staff_change_begin(w, req, &staff_key_owner, login,
	    staff_id) == -1)
		return -1;
	blob = crypto_bytea_hex(key->blob, key->len);
	res = db_queryv(w->db, &add, staff_id, key->type, blob,
	    key->fingerprint, key->comment);
	free(blob);
	if (res == NULL)
		goto fail;
	added = PQntuples(res) == 1;
	PQclear(res);
	if ((added && staff_key_event(w, req, staff_id, "staff_set_key",
	    key->fingerprint, key->type) == -1) || db_commit(w->db) == -1)
		goto fail;
	return added;
fail:
	req_db_error(req, w->db);
	db_rollback(w->db);
	return -1;
}

/*
 * Add an SSH key to a staff member's keys (those they had stay): the key
 * is read (sshkey.c), then recorded with its fingerprint; a key already
 * recorded for the member changes nothing ("added": false) and leaves no
 * event.
 */
void
op_staff_set_key(struct worker *w, struct request *req)
{
	struct sshkey		 key;
	const char		*login, *line;
	char			*cause;
	int			 added;

	login = req_arg_str(req, "login", 1);
	line = req_arg_str(req, "key", 1);
	if (req->error != -1)
		return;
	if (sshkey_parse(line, &key, &cause) == -1) {
		req_error(req, E_INVALID, "Clé SSH illisible : %s.", cause);
		free(cause);
		return;
	}
	if ((added = staff_key_insert(w, req, login, &key)) != -1) {
		log_info("SSH key %s of staff %s %s by %s", key.fingerprint,
		    login, added ? "added" : "already registered",
		    req->session->login);
		req->result = json_pack("{s:s, s:s, s:s, s:b}", "login", login,
		    "fingerprint", key.fingerprint, "type", key.type, "added",
		    added);
	}
	sshkey_clear(&key);
}

/* The SSH keys of a staff member, oldest first. */
void
op_staff_keys(struct worker *w, struct request *req)
{
	const char	*login;
	PGresult	*res;

	if ((login = req_arg_str(req, "login", 1)) == NULL ||
	    (res = staff_query(w, req, &staff_key_list, login)) == NULL)
		return;
	req->result = json_pack("{s:s, s:o}", "login", login, "keys",
	    json_loads(db_get(res, 0, KEY_LIST), 0, NULL));
	PQclear(res);
}

/*
 * Remove one SSH key of a staff member. The sessions the key opened end
 * in the same transaction (a trigger of staff_keys does it, for psql too:
 * sql/009_staff_keys.sql), and the cached ones on this instance are
 * checked again at their next request.
 */
void
op_staff_remove_key(struct worker *w, struct request *req)
{
	const char	*login, *fingerprint;
	char		 staff_id[24];
	PGresult	*res;
	int		 r;

	login = req_arg_str(req, "login", 1);
	fingerprint = req_arg_str(req, "fingerprint", 1);
	if (req->error != -1 || staff_change_begin(w, req, &staff_key_owner,
	    login, staff_id) == -1)
		return;
	if ((res = db_queryv(w->db, &staff_key_delete, staff_id,
	    fingerprint)) == NULL)
		goto fail;
	if (PQntuples(res) == 0) {
		PQclear(res);
		db_rollback(w->db);
		req_error(req, E_NOT_FOUND, "%s n'a pas de clé SSH d'empreinte "
		    "%s.", login, fingerprint);
		return;
	}
	r = staff_key_event(w, req, staff_id, "staff_remove_key", fingerprint,
	    db_get(res, 0, KEY_DELETE_TYPE));
	PQclear(res);
	if (r == -1 || db_commit(w->db) == -1)
		goto fail;
	gate_revoke_staff(atoi(staff_id));
	log_info("SSH key %s of staff %s removed by %s", fingerprint, login,
	    req->session->login);
	req->result = json_object();
	return;
fail:
	req_db_error(req, w->db);
	db_rollback(w->db);
}

/*
 * Enrol a staff member in TOTP, or remove it ("remove": true). A new secret
 * (20 bytes from the CSPRNG) is sealed with the server key and its staff id
 * and returned this once, in base32 and as the otpauth:// URI that
 * authenticator applications scan. Enrolling again replaces the secret (a
 * lost phone); the last step used goes with the old one.
 */
void
op_staff_totp(struct worker *w, struct request *req)
{
	static struct db_stmt	 find = DB_STMT(
	    "select id from staff where login = $1 for update");
	static struct db_stmt	 set = DB_STMT(
	    "update staff set totp_sealed = $2::bytea, totp_last_step = null"
	    " where id = $1");
	unsigned char		 box[TOTP_SECRET_LEN + CRYPTO_OVERHEAD];
	char			 secret[TOTP_SECRET_LEN + 1], staff_id[24];
	char			*hex = NULL, *uri;
	const char		*login;
	PGresult		*res;
	int			 remove;

	memset(secret, 0, sizeof secret);
	login = req_arg_str(req, "login", 1);
	remove = req_arg_bool(req, "remove", 0);
	if (req->error != -1)
		return;
	if (staff_change_begin(w, req, &find, login, staff_id) == -1)
		return;
	if (!remove) {
		totp_secret_generate(secret);
		hex = crypto_bytea_hex(box, crypto_seal_totp(strtoll(staff_id,
		    NULL, 10), secret, box));
	}
	if ((res = db_queryv(w->db, &set, staff_id, hex)) == NULL)
		goto fail;
	PQclear(res);
	if (staff_event(w, req, staff_id, remove ? "staff_totp_remove" :
	    "staff_totp", NULL) == -1 || db_commit(w->db) == -1)
		goto fail;
	log_info("TOTP of staff %s %s by %s", login, remove ? "removed" :
	    "enrolled", req->session->login);
	if (remove)
		req->result = json_pack("{s:s, s:b}", "login", login, "totp", 0);
	else {
		uri = totp_uri(login, secret);
		req->result = json_pack("{s:s, s:b, s:s, s:s}", "login", login,
		    "totp", 1, "secret", secret, "uri", uri);
		freezero(uri, strlen(uri));
	}
	goto out;
fail:
	req_db_error(req, w->db);
	db_rollback(w->db);
out:
	OPENSSL_cleanse(secret, sizeof secret);
	free(hex);
}
