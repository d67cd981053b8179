/*
 * The shared machinery of the guichet's operations. Sessions and links are
 * random 32-byte tokens handed out in hex; the database keeps only their
 * SHA-256, so every instance of ecadmd (and every guichet) recognizes them
 * and a stolen copy of the database opens nothing. Failure counters are
 * rows of guardian_throttle, counted by guardian_failed() in SQL.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "db.h"
#include "guardian.h"
#include "log.h"
#include "mail.h"
#include "server.h"
#include "valid.h"
#include "xmalloc.h"

void
guardian_keys(struct guardian_keys *k, const char *login, const char *addr)
{
	char	addrkey[SESSION_ADDR_KEY_LEN];
	size_t	i, len;

	/* Logins are lowercase; a guardian types them as they like. */
	len = (size_t)snprintf(k->login, sizeof k->login, "login:%s", login);
	for (i = 6; i < len && i < sizeof k->login; i++)
		k->login[i] = (char)tolower((unsigned char)k->login[i]);
	/* Without an address, only the login counts ("" matches no key). */
	k->addr[0] = '\0';
	if (addr != NULL) {
		session_addr_key(addr, addrkey);
		snprintf(k->addr, sizeof k->addr, "addr:%s", addrkey);
	}
}

/* The lock message, with the time (Paris) it ends. */
static void
guardian_lock_message(struct request *req, const char *until)
{
	req_error(req, E_AUTH, "Trop de tentatives : réessayez après %s.",
	    until != NULL ? until : "un quart d'heure");
}

int
guardian_locked(struct worker *w, struct request *req,
    const struct guardian_keys *k)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "select to_char(guardian_locked_until(array[$1, $2])"
	    " at time zone 'Europe/Paris', 'HH24:MI')");
	PGresult		*res;

	if ((res = db_queryv(w->db, &stmt, k->login, k->addr)) == NULL) {
		req_db_error(req, w->db);
		return -1;
	}
	if (db_get(res, 0, 0) == NULL) {
		PQclear(res);
		return 0;
	}
	guardian_lock_message(req, db_get(res, 0, 0));
	PQclear(res);
	return 1;
}

int
guardian_failed(struct worker *w, struct request *req,
    const struct guardian_keys *k, int *remaining)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "select f.failures, to_char(f.locked_until at time zone"
	    " 'Europe/Paris', 'HH24:MI'), k.max"
	    " from (values ($1::text, $3::int), ($2::text, $4::int))"
	    "  as k(key, max)"
	    " cross join lateral guardian_failed(k.key, k.max, $5::interval,"
	    "  $6::interval) f"
	    " where k.key <> ''"
	    " order by k.key <> $1");
	enum { FAILED_COUNT, FAILED_UNTIL, FAILED_MAX };
	PGresult		*res;
	char			 lmax[16], amax[16];
	int			 i;

	snprintf(lmax, sizeof lmax, "%d", GUARDIAN_LOGIN_MAX_FAILURES);
	snprintf(amax, sizeof amax, "%d", GUARDIAN_ADDR_MAX_FAILURES);
	if ((res = db_queryv(w->db, &stmt, k->login, k->addr, lmax, amax,
	    GUARDIAN_WINDOW, GUARDIAN_LOCK)) == NULL) {
		req_db_error(req, w->db);
		return -1;
	}
	*remaining = 0;
	for (i = 0; i < PQntuples(res); i++) {
		if (db_get(res, i, FAILED_UNTIL) != NULL) {
			guardian_lock_message(req, db_get(res, i,
			    FAILED_UNTIL));
			PQclear(res);
			return 1;
		}
	}
	/* The first row is the login's. */
	if (PQntuples(res) > 0)
		*remaining = (int)(db_get_int(res, 0, FAILED_MAX) -
		    db_get_int(res, 0, FAILED_COUNT));
	PQclear(res);
	return 0;
}

void
guardian_forgive(struct worker *w, const struct guardian_keys *k)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "delete from guardian_throttle where key = $1");
	PGresult		*res;

	/* A failure to forget only leaves the count to decay. */
	if ((res = db_queryv(w->db, &stmt, k->login)) != NULL)
		PQclear(res);
}

int
guardian_mail_allowed(struct worker *w, const char *addr)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "select locked_until is null from guardian_failed($1, $2::int,"
	    " $3::interval, $4::interval)");
	PGresult		*res;
	char			 key[96], addrkey[SESSION_ADDR_KEY_LEN], max[16];
	int			 ok;

	session_addr_key(addr, addrkey);
	snprintf(key, sizeof key, "mail:%s", addrkey);
	/* One more than the limit: the limit-th request is still served. */
	snprintf(max, sizeof max, "%d", GUARDIAN_MAIL_MAX + 1);
	if ((res = db_queryv(w->db, &stmt, key, max, GUARDIAN_WINDOW,
	    GUARDIAN_LOCK)) == NULL)
		return 0;
	ok = db_get_bool(res, 0, 0);
	PQclear(res);
	if (!ok)
		log_warnx("guichet: too many mails asked from %s", addr);
	return ok;
}

int
guardian_session_open(struct worker *w, const char *account_id,
    const char *stage, const char *pupil_id, char *token)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "insert into guardian_sessions (token_hash, account_id, stage,"
	    " pupil_id) values ($1::bytea, $2::bigint, $3, $4::bigint)");
	PGresult		*res;
	char			 hash[TOKEN_HASH_LEN];

	token_new(token, hash);
	if ((res = db_queryv(w->db, &stmt, hash, account_id, stage,
	    pupil_id)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

int
guardian_session_get(struct worker *w, struct request *req,
    const char *stage, struct guardian_session *gs)
{
	/* The account must still be in the state the stage was opened for:
	 * a session of a notified account is no use once it activated (or
	 * was reset), an active one none once it was reset. */
	static struct db_stmt	 stmt = DB_STMT(
	    "update guardian_sessions s set last_seen = now() from accounts a"
	    " where s.token_hash = $1::bytea and s.ended_at is null"
	    " and s.stage = $2"
	    " and s.last_seen > now() - $3::interval"
	    " and a.id = s.account_id and a.state = case $2"
	    "  when 'activation' then 'notifie' else 'active' end"
	    " returning s.id, s.account_id, s.pupil_id, a.login");
	enum { GS_ID, GS_ACCOUNT, GS_PUPIL, GS_LOGIN };
	const char		*token;
	PGresult		*res;
	char			 hash[TOKEN_HASH_LEN];

	memset(gs, 0, sizeof *gs);
	if ((token = req_arg_str(req, "session", 1)) == NULL)
		return -1;
	token_hash_literal(token, hash);
	if ((res = db_queryv(w->db, &stmt, hash, stage,
	    GUARDIAN_SESSION_IDLE)) == NULL) {
		req_db_error(req, w->db);
		return -1;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		req_error(req, E_AUTH, GUARDIAN_EXPIRED);
		return -1;
	}
	snprintf(gs->id, sizeof gs->id, "%s", db_get(res, 0, GS_ID));
	snprintf(gs->account_id, sizeof gs->account_id, "%s",
	    db_get(res, 0, GS_ACCOUNT));
	if (db_get(res, 0, GS_PUPIL) != NULL)
		snprintf(gs->pupil_id, sizeof gs->pupil_id, "%s",
		    db_get(res, 0, GS_PUPIL));
	gs->login = xstrdup(db_get(res, 0, GS_LOGIN));
	PQclear(res);
	return 0;
}

void
guardian_session_clear(struct guardian_session *gs)
{
	free(gs->login);
	memset(gs, 0, sizeof *gs);
}

int
guardian_sessions_end(struct db *db, const char *session_id,
    const char *account_id)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "update guardian_sessions set ended_at = now()"
	    " where ended_at is null and (id = $1::bigint"
	    "  or account_id = $2::bigint)");
	PGresult		*res;

	if ((res = db_queryv(db, &stmt, session_id, account_id)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

int
guardian_link_issue(struct db *db, const char *account_id, const char *kind,
    int hours, const char *new_email, char *token)
{
	/* The old link dies in the same statement, before the new one is
	 * inserted (the unique index allows one live link per kind). */
	static struct db_stmt	 stmt = DB_STMT(
	    "with old as (update guardian_tokens set revoked_at = now()"
	    "  where account_id = $1::bigint and kind = $2"
	    "  and used_at is null and revoked_at is null returning id)"
	    " select count(*) from old");
	static struct db_stmt	 insert = DB_STMT(
	    "insert into guardian_tokens (account_id, kind, token_hash,"
	    " new_email, expires_at) values ($1::bigint, $2, $3::bytea, $4,"
	    " now() + make_interval(hours => $5::int))");
	PGresult		*res;
	char			 hash[TOKEN_HASH_LEN], h[16];

	token_new(token, hash);
	snprintf(h, sizeof h, "%d", hours);
	if ((res = db_queryv(db, &stmt, account_id, kind)) == NULL)
		return -1;
	PQclear(res);
	if ((res = db_queryv(db, &insert, account_id, kind, hash, new_email,
	    h)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

int
guardian_activation_send(struct db *db, const char *account_id,
    const char *login, const char *email)
{
	char	token[TOKEN_LEN];
	int	rc;

	rc = guardian_link_issue(db, account_id, "activation",
	    server_cfg.activation_days * 24, NULL, token);
	if (rc == 0)
		rc = mail_enqueue(db, MAIL_ACTIVATION, account_id, email,
		    json_pack("{s:s, s:s}", "token", token, "login", login));
	OPENSSL_cleanse(token, sizeof token);
	return rc;
}

int
guardian_link_take(struct worker *w, struct request *req, const char *token,
    const char *kind, const char *state, struct guardian_link *l)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "select t.id, t.account_id, t.expires_at < now(), a.login,"
	    " a.state, t.new_email"
	    " from guardian_tokens t join accounts a on a.id = t.account_id"
	    " where t.token_hash = $1::bytea and t.kind = $2"
	    " and t.used_at is null and t.revoked_at is null"
	    " for update of t, a");
	enum { LINK_ID, LINK_ACCOUNT, LINK_EXPIRED, LINK_LOGIN, LINK_STATE,
	    LINK_EMAIL };
	PGresult		*res;
	char			 hash[TOKEN_HASH_LEN];

	memset(l, 0, sizeof *l);
	token_hash_literal(token, hash);
	if ((res = db_queryv(w->db, &stmt, hash, kind)) == NULL) {
		req_db_error(req, w->db);
		return -1;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		req_error(req, E_NOT_FOUND, "Ce lien n'est pas valable ou a "
		    "déjà servi.");
		return -1;
	}
	if (db_get_bool(res, 0, LINK_EXPIRED)) {
		PQclear(res);
		req_error(req, E_INVALID, "Ce lien a expiré : demandez-en un "
		    "nouveau.");
		guardian_field_error(&req->error_details, "token", "expired");
		return -1;
	}
	if (strcmp(db_get(res, 0, LINK_STATE), state) != 0) {
		PQclear(res);
		req_error(req, E_NOT_FOUND, "Ce lien n'est pas valable ou a "
		    "déjà servi.");
		return -1;
	}
	snprintf(l->id, sizeof l->id, "%s", db_get(res, 0, LINK_ID));
	snprintf(l->account_id, sizeof l->account_id, "%s",
	    db_get(res, 0, LINK_ACCOUNT));
	l->login = xstrdup(db_get(res, 0, LINK_LOGIN));
	if (db_get(res, 0, LINK_EMAIL) != NULL)
		l->new_email = xstrdup(db_get(res, 0, LINK_EMAIL));
	PQclear(res);
	return 0;
}

int
guardian_link_spend(struct db *db, const char *link_id)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "update guardian_tokens set used_at = now() where id = $1::bigint");
	PGresult		*res;

	if ((res = db_queryv(db, &stmt, link_id)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

void
guardian_link_clear(struct guardian_link *l)
{
	free(l->login);
	free(l->new_email);
	memset(l, 0, sizeof *l);
}

void
guardian_field_error(json_t **details, const char *field, const char *text)
{
	if (*details == NULL)
		*details = json_array();
	json_array_append_new(*details, json_pack("{s:s, s:s}", "field",
	    field, "text", text));
}

void
guardian_check_password(json_t **details, const char *password,
    const char *confirmation)
{
	const char	*cause;

	if (valid_password(password, &cause) == -1)
		guardian_field_error(details, "new_password", cause);
	else if (strcmp(password, confirmation) != 0)
		guardian_field_error(details, "confirmation", "les deux mots "
		    "de passe ne sont pas identiques");
}

int
guardian_fields_refuse(struct request *req, json_t *details)
{
	if (details == NULL)
		return 0;
	req_error(req, E_INVALID, "Vérifiez les champs signalés.");
	json_decref(req->error_details);
	req->error_details = details;
	return -1;
}

int
guardian_event(struct db *db, const char *actor, const char *channel,
    int school_id, const char *account_id, const char *action,
    const char *detail)
{
	/* An update under a named action is what makes the account trigger
	 * write the event (sql/002_domain.sql): the one way events of
	 * accounts are written. It changes nothing of the row. */
	static struct db_stmt	 stmt = DB_STMT(
	    "update accounts set last_access_at = last_access_at"
	    " where id = $1::bigint");
	PGresult		*res;

	if (db_set_context(db, actor, channel, action, school_id,
	    detail) == -1)
		return -1;
	if ((res = db_queryv(db, &stmt, account_id)) == NULL)
		return -1;
	PQclear(res);
	return db_set_context(db, actor, channel, NULL, school_id, NULL);
}
