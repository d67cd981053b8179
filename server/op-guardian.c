/*
 * The guardian at the guichet: login, first-connection activation, the
 * account page and logout (the links mailed to guardians are in
 * op-guardian-links.c). These run for ecadm-guichet, without a staff
 * session: the gate lets only a guichet peer call them, and the guardian's
 * own session is the "session" argument, a token the guichet keeps.
 *
 * A login by provisional password picks one child, once, and keeps it
 * with the session: activation asks that child's birth date, so a guesser
 * cannot go from child to child. Wrong passwords and wrong dates both
 * count against the login and the guardian's address (guardian.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "account.h"
#include "db.h"
#include "guardian.h"
#include "log.h"
#include "password.h"
#include "server.h"
#include "valid.h"
#include "xmalloc.h"

/* The account of a login and the child its activation would name. */
enum {
	FIND_ID, FIND_STATE, FIND_PROVISIONAL, FIND_HASH, FIND_EXPIRED,
	FIND_EMAIL, FIND_PUPIL, FIND_FIRST_NAME, FIND_LAST_NAME, FIND_SCHOOL,
	FIND_CLASS, FIND_LOGIN,
};
static struct db_stmt login_find = DB_STMT(
    "select a.id, a.state, a.provisional, a.password_hash,"
    " coalesce(letter_expired(a.state, a.letter_at), true),"
    " coalesce(a.email, g.email), c.id, c.first_name, c.last_name,"
    " c.school, c.class, a.login"
    " from accounts a join guardians g on g.id = a.guardian_id"
    " left join lateral (select p.id, p.first_name, p.last_name,"
    "  coalesce(s.name, s.uai) as school, cl.name as class"
    "  from credential_links k join pupils p on p.id = k.pupil_id"
    "  join schools s on s.id = p.school_id"
    "  left join classes cl on cl.id = p.class_id"
    "  where k.guardian_id = a.guardian_id order by p.id limit 1) c on true"
    " where a.login = lower($1)");

/* Whether two passwords are equal, in a time that does not depend on
 * where they differ (their lengths are no secret: a letter's is fixed). */
static int
guardian_password_equal(const char *a, const char *b)
{
	size_t	len = strlen(a);

	return len == strlen(b) && CRYPTO_memcmp(a, b, len) == 0;
}

/*
 * Check the password against the row: the stage the session opens at,
 * or NULL. A notified account is checked against its provisional
 * password (sealed, opened here; no slow hash, see DESIGN §4), an active
 * one against its scrypt hash; any other costs one dummy scrypt so that
 * unknown logins do not answer faster than active ones.
 */
static const char *
guardian_login_check(PGresult *res, const char *password)
{
	const char	*state;
	char		*clear;
	int		 ok;

	if (PQntuples(res) == 0) {
		password_dummy_verify(password);
		return NULL;
	}
	state = db_get(res, 0, FIND_STATE);
	if (strcmp(state, "notifie") == 0) {
		if (db_get_bool(res, 0, FIND_EXPIRED) ||
		    db_get(res, 0, FIND_PUPIL) == NULL)
			return NULL;
		clear = account_open_password(db_get_int(res, 0, FIND_ID),
		    db_get(res, 0, FIND_PROVISIONAL));
		ok = clear != NULL && guardian_password_equal(clear, password);
		if (clear != NULL)
			freestr_secret(clear);
		return ok ? "activation" : NULL;
	}
	if (strcmp(state, "active") == 0 &&
	    db_get(res, 0, FIND_HASH) != NULL)
		return password_verify(password, db_get(res, 0, FIND_HASH)) ?
		    "account" : NULL;
	password_dummy_verify(password);
	return NULL;
}

/* Open the session and record the login, in one transaction; the reply
 * is set. -1 with the error set. */
static int
guardian_login_open(struct worker *w, struct request *req, PGresult *res,
    const char *stage)
{
	static struct db_stmt	 seen = DB_STMT(
	    "update accounts set last_access_at = now() where id = $1::bigint");
	const char		*id = db_get(res, 0, FIND_ID);
	int			 activation = strcmp(stage, "activation") == 0;
	char			 token[TOKEN_LEN];
	PGresult		*r;

	if (db_begin(w->db) == -1 ||
	    guardian_session_open(w, id, stage, activation ?
	    db_get(res, 0, FIND_PUPIL) : NULL, token) == -1 ||
	    guardian_event(w->db, GUARDIAN_ACTOR, GUARDIAN_CHANNEL, 0, id,
	    "guardian_login", activation ? "mot de passe provisoire" :
	    NULL) == -1)
		goto fail;
	if (!activation) {
		if ((r = db_queryv(w->db, &seen, id)) == NULL)
			goto fail;
		PQclear(r);
	}
	if (db_commit(w->db) == -1)
		goto fail;
	req->result = json_pack("{s:s, s:s, s:s}", "session", token, "stage",
	    stage, "login", db_get(res, 0, FIND_LOGIN));
	OPENSSL_cleanse(token, sizeof token);
	if (activation) {
		json_object_set_new(req->result, "child", json_pack(
		    "{s:s, s:s, s:s, s:s?}",
		    "first_name", db_get(res, 0, FIND_FIRST_NAME),
		    "name", db_get(res, 0, FIND_LAST_NAME),
		    "school", db_get(res, 0, FIND_SCHOOL),
		    "class", db_get(res, 0, FIND_CLASS)));
		if (db_get(res, 0, FIND_EMAIL) != NULL)
			json_object_set_new(req->result, "email",
			    json_string(db_get(res, 0, FIND_EMAIL)));
	}
	return 0;
fail:
	OPENSSL_cleanse(token, sizeof token);
	req_db_error(req, w->db);
	db_rollback(w->db);
	return -1;
}

void
op_guardian_login(struct worker *w, struct request *req)
{
	struct guardian_keys	 keys;
	const char		*login, *password, *addr, *stage;
	PGresult		*res;
	int			 left;

	login = req_arg_str(req, "login", 1);
	password = req_arg_str(req, "password", 1);
	addr = req_arg_str(req, "addr", 1);
	if (req->error != -1)
		return;
	guardian_keys(&keys, login, addr);
	if (guardian_locked(w, req, &keys) != 0) {
		log_warnx("guichet: login of %s from %s refused: locked",
		    login, addr);
		return;
	}
	if ((res = db_queryv(w->db, &login_find, login)) == NULL) {
		req_db_error(req, w->db);
		return;
	}
	if ((stage = guardian_login_check(res, password)) == NULL) {
		log_warnx("guichet: login of %s from %s refused", PQntuples(
		    res) > 0 ? login : "an unknown login", addr);
		if (guardian_failed(w, req, &keys, &left) == 0)
			req_error(req, E_AUTH, GUARDIAN_REFUSED);
		PQclear(res);
		return;
	}
	if (guardian_login_open(w, req, res, stage) == 0) {
		log_info("guichet: %s logged in (%s)", login, stage);
		/* A guardian of an active account is through; a notified one
		 * keeps their count until the birth date is right too. */
		if (strcmp(stage, "account") == 0)
			guardian_forgive(w, &keys);
	}
	PQclear(res);
}

/* The fields of the activation form, checked: -1 with the E_INVALID reply
 * listing the bad ones. */
static int
guardian_activate_fields(struct request *req, const char *password,
    const char *confirmation, const char *email, const char *birth,
    int date[3])
{
	json_t		*details = NULL;
	const char	*cause;

	guardian_check_password(&details, password, confirmation);
	if (valid_email(email, &cause) == -1)
		guardian_field_error(&details, "email", cause);
	if (valid_date(birth, &date[0], &date[1], &date[2], &cause) == -1)
		guardian_field_error(&details, "birth_date", cause);
	return guardian_fields_refuse(req, details);
}

/*
 * Whether the birth date is the session's child's: 0 if it is; else a
 * counted failure and -1 with the reply set (the session ends when the
 * failure locked the login or the address).
 */
static int
guardian_activate_birth(struct worker *w, struct request *req,
    const struct guardian_session *gs, const struct guardian_keys *keys,
    const int date[3])
{
	static struct db_stmt	 stmt = DB_STMT(
	    "select birth_date = make_date($2::int, $3::int, $4::int)"
	    " from pupils where id = $1::bigint");
	char			 y[16], m[16], d[16], text[128];
	PGresult		*res;
	int			 right, left;

	if (gs->pupil_id[0] == '\0') {
		req_error(req, E_AUTH, GUARDIAN_EXPIRED);
		return -1;
	}
	snprintf(y, sizeof y, "%d", date[0]);
	snprintf(m, sizeof m, "%d", date[1]);
	snprintf(d, sizeof d, "%d", date[2]);
	if ((res = db_queryv(w->db, &stmt, gs->pupil_id, y, m, d)) == NULL) {
		req_db_error(req, w->db);
		return -1;
	}
	right = PQntuples(res) == 1 && db_get_bool(res, 0, 0);
	PQclear(res);
	if (right)
		return 0;
	log_warnx("guichet: wrong birth date for %s", gs->login);
	/* Recorded for the helpdesk; a failure to record it changes nothing
	 * of the answer. */
	if (db_begin(w->db) == -1 || guardian_event(w->db, GUARDIAN_ACTOR,
	    GUARDIAN_CHANNEL, 0, gs->account_id, "birth_date_failed",
	    NULL) == -1 || db_commit(w->db) == -1)
		db_rollback(w->db);
	switch (guardian_failed(w, req, keys, &left)) {
	case 0:
		snprintf(text, sizeof text, "Date de naissance incorrecte : il "
		    "vous reste %d essai%s.", left, left > 1 ? "s" : "");
		req_error(req, E_AUTH, "%s", text);
		/* Said next to the date too: the guichet shows a detail by
		 * its field. */
		req->error_details = json_pack("[{s:s, s:s}]", "field",
		    "birth_date", "text", text);
		break;
	case 1:
		(void)guardian_sessions_end(w->db, gs->id, NULL);
		break;
	}
	return -1;
}

/*
 * The activation itself, in one transaction: notifie -> attente, the
 * provisional password wiped, the chosen one and the address recorded,
 * a new activation link mailed, the session spent.
 */
static int
guardian_activate_commit(struct worker *w, struct request *req,
    const struct guardian_session *gs, const char *hash, const char *email)
{
	static struct db_stmt	 lock = DB_STMT(
	    "select state from accounts where id = $1::bigint for update");
	static struct db_stmt	 set = DB_STMT(
	    "update accounts set provisional = null, password_hash = $2,"
	    " email = $3, first_login_at = coalesce(first_login_at, now()),"
	    " last_access_at = now() where id = $1::bigint");
	int64_t			 id = strtoll(gs->account_id, NULL, 10);
	PGresult		*res;
	int			 notified;

	if (db_begin(w->db) == -1 || db_set_context(w->db, GUARDIAN_ACTOR,
	    GUARDIAN_CHANNEL, NULL, 0, NULL) == -1 ||
	    (res = db_queryv(w->db, &lock, gs->account_id)) == NULL)
		goto fail;
	/* attente -> attente is a transition too (a resent link): a second
	 * activation of the same session must not pass for one. */
	notified = PQntuples(res) == 1 &&
	    strcmp(db_get(res, 0, 0), "notifie") == 0;
	PQclear(res);
	if (!notified) {
		db_rollback(w->db);
		req_error(req, E_AUTH, GUARDIAN_EXPIRED);
		return -1;
	}
	if (account_transition(w->db, &id, 1, "attente", "activate", NULL,
	    "première connexion au guichet") != 1 ||
	    (res = db_queryv(w->db, &set, gs->account_id, hash, email)) ==
	    NULL)
		goto fail;
	PQclear(res);
	if (guardian_activation_send(w->db, gs->account_id, gs->login,
	    email) == -1 ||
	    guardian_sessions_end(w->db, NULL, gs->account_id) == -1 ||
	    db_commit(w->db) == -1)
		goto fail;
	return 0;
fail:
	req_db_error(req, w->db);
	db_rollback(w->db);
	return -1;
}

void
op_guardian_activate(struct worker *w, struct request *req)
{
	struct guardian_session	 gs;
	struct guardian_keys	 keys;
	const char		*password, *confirmation, *email, *birth;
	const char		*addr;
	char			*hash = NULL;
	int			 date[3];

	password = req_arg_str(req, "new_password", 1);
	confirmation = req_arg_str(req, "confirmation", 1);
	email = req_arg_str(req, "email", 1);
	birth = req_arg_str(req, "birth_date", 1);
	addr = req_arg_str(req, "addr", 1);
	if (req->error != -1)
		return;
	if (guardian_session_get(w, req, "activation", &gs) == -1)
		return;
	guardian_keys(&keys, gs.login, addr);
	if (guardian_locked(w, req, &keys) != 0) {
		(void)guardian_sessions_end(w->db, gs.id, NULL);
		goto out;
	}
	if (guardian_activate_fields(req, password, confirmation, email,
	    birth, date) == -1 ||
	    guardian_activate_birth(w, req, &gs, &keys, date) == -1)
		goto out;
	if ((hash = password_hash(password)) == NULL) {
		req_error(req, E_INTERNAL, NULL);
		goto out;
	}
	if (guardian_activate_commit(w, req, &gs, hash, email) == -1)
		goto out;
	guardian_forgive(w, &keys);
	log_info("guichet: %s activated, waiting for the link", gs.login);
	req->result = json_pack("{s:s, s:s}", "state", "attente", "email",
	    email);
out:
	free(hash);
	guardian_session_clear(&gs);
}

void
op_guardian_account(struct worker *w, struct request *req)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "select a.login, a.email, coalesce((select json_agg("
	    "  json_build_object('name', p.last_name || ' ' || p.first_name,"
	    "  'school', coalesce(s.name, s.uai), 'class', cl.name)"
	    "  order by ecadm_fold(p.last_name), ecadm_fold(p.first_name))"
	    "  from credential_links k join pupils p on p.id = k.pupil_id"
	    "  join schools s on s.id = p.school_id"
	    "  left join classes cl on cl.id = p.class_id"
	    "  where k.guardian_id = a.guardian_id), '[]')"
	    " from accounts a where a.id = $1::bigint");
	enum { ACCOUNT_LOGIN, ACCOUNT_EMAIL, ACCOUNT_CHILDREN };
	struct guardian_session	 gs;
	PGresult		*res;

	if (guardian_session_get(w, req, "account", &gs) == -1)
		return;
	if ((res = db_queryv(w->db, &stmt, gs.account_id)) == NULL) {
		req_db_error(req, w->db);
		goto out;
	}
	req->result = json_pack("{s:s, s:s?, s:o}",
	    "login", db_get(res, 0, ACCOUNT_LOGIN),
	    "email", db_get(res, 0, ACCOUNT_EMAIL),
	    "children", json_loads(db_get(res, 0, ACCOUNT_CHILDREN), 0, NULL));
	PQclear(res);
out:
	guardian_session_clear(&gs);
}

void
op_guardian_logout(struct worker *w, struct request *req)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "update guardian_sessions set ended_at = now()"
	    " where token_hash = $1::bytea and ended_at is null");
	const char		*token;
	PGresult		*res;
	char			 hash[TOKEN_HASH_LEN];

	if ((token = req_arg_str(req, "session", 1)) == NULL)
		return;
	token_hash_literal(token, hash);
	if ((res = db_queryv(w->db, &stmt, hash)) == NULL) {
		req_db_error(req, w->db);
		return;
	}
	PQclear(res);
	req->result = json_object();
}
