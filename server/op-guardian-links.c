/*
 * The guardian operations that go through the mail: the activation link
 * (confirm, resend), the change of address, forgotten logins and
 * passwords, and the change of password of an active account. A link is
 * taken and spent in the transaction of the change it allows, so two
 * clicks on one link make one change. Requests that mail a stranger's
 * address (resend, forgot-*) answer the same whatever exists, and are
 * limited per address so the guichet cannot flood an inbox.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "account.h"
#include "db.h"
#include "guardian.h"
#include "log.h"
#include "mail.h"
#include "password.h"
#include "server.h"
#include "valid.h"
#include "xmalloc.h"

/* Begin a transaction in the guichet's name; -1 with the error set. */
static int
guardian_begin(struct worker *w, struct request *req)
{
	if (db_begin(w->db) == -1 || db_set_context(w->db, GUARDIAN_ACTOR,
	    GUARDIAN_CHANNEL, NULL, 0, NULL) == -1) {
		req_db_error(req, w->db);
		db_rollback(w->db);
		return -1;
	}
	return 0;
}

void
op_guardian_confirm(struct worker *w, struct request *req)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "update accounts set activated_at = now() where id = $1::bigint");
	struct guardian_link	 l;
	const char		*token;
	PGresult		*res;
	int64_t			 id;

	if ((token = req_arg_str(req, "token", 1)) == NULL)
		return;
	if (guardian_begin(w, req) == -1)
		return;
	if (guardian_link_take(w, req, token, "activation", "attente",
	    &l) == -1)
		goto fail;
	id = strtoll(l.account_id, NULL, 10);
	if (account_transition(w->db, &id, 1, "active", "activation_confirmed",
	    NULL, "lien d'activation suivi") != 1 ||
	    (res = db_queryv(w->db, &stmt, l.account_id)) == NULL)
		goto dbfail;
	PQclear(res);
	if (guardian_link_spend(w->db, l.id) == -1 || db_commit(w->db) == -1)
		goto dbfail;
	log_info("guichet: %s is active", l.login);
	req->result = json_pack("{s:s, s:s}", "state", "active", "login",
	    l.login);
	guardian_link_clear(&l);
	return;
dbfail:
	req_db_error(req, w->db);
fail:
	db_rollback(w->db);
	guardian_link_clear(&l);
}

/*
 * The parent's requests for mail (the activation link again, a forgotten
 * login, a forgotten password's link) answer {} whatever they found, so
 * that nobody learns which logins or addresses exist, and do nothing past
 * the address's allowance of mail. find (its nparams arguments) selects
 * the accounts as (id, login, email); mail_one does, in the transaction,
 * what one of them gets: 0, or -1 on a database error.
 */
enum { MAILED_ID, MAILED_LOGIN, MAILED_EMAIL };

static void
guardian_mail_request(struct worker *w, struct request *req,
    const char *addr, struct db_stmt *find, int nparams,
    const char *const *params,
    int (*mail_one)(struct worker *, PGresult *, int))
{
	PGresult	*res;
	int		 i;

	if (!guardian_mail_allowed(w, addr))
		goto done;
	if (guardian_begin(w, req) == -1)
		return;
	if ((res = db_query(w->db, find, nparams, params)) == NULL)
		goto fail;
	for (i = 0; i < PQntuples(res); i++) {
		if (mail_one(w, res, i) == -1) {
			PQclear(res);
			goto fail;
		}
	}
	PQclear(res);
	if (db_commit(w->db) == -1)
		goto fail;
done:
	req->result = json_object();
	return;
fail:
	req_db_error(req, w->db);
	db_rollback(w->db);
}

static int
guardian_resend_one(struct worker *w, PGresult *res, int i)
{
	int64_t	id = db_get_int(res, i, MAILED_ID);

	if (account_transition(w->db, &id, 1, "attente", "resend_activation",
	    NULL, "demandé au guichet") != 1 ||
	    guardian_activation_send(w->db, db_get(res, i, MAILED_ID),
	    db_get(res, i, MAILED_LOGIN), db_get(res, i, MAILED_EMAIL)) == -1)
		return -1;
	log_info("guichet: activation link of %s sent again",
	    db_get(res, i, MAILED_LOGIN));
	return 0;
}

void
op_guardian_resend(struct worker *w, struct request *req)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "select id, login, email from accounts where login = lower($1)"
	    " and state = 'attente' and email is not null for update");
	const char		*login, *addr;

	login = req_arg_str(req, "login", 1);
	addr = req_arg_str(req, "addr", 1);
	if (req->error != -1)
		return;
	guardian_mail_request(w, req, addr, &stmt, 1,
	    (const char *const[]){ login }, guardian_resend_one);
}

/* The chosen password of an account, or NULL (error set). */
static char *
guardian_current_hash(struct worker *w, struct request *req,
    const char *account_id)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "select password_hash from accounts where id = $1::bigint");
	PGresult		*res;
	char			*hash = NULL;

	if ((res = db_queryv(w->db, &stmt, account_id)) == NULL) {
		req_db_error(req, w->db);
		return NULL;
	}
	if (PQntuples(res) == 1 && db_get(res, 0, 0) != NULL)
		hash = xstrdup(db_get(res, 0, 0));
	else
		req_error(req, E_AUTH, GUARDIAN_EXPIRED);
	PQclear(res);
	return hash;
}

/* Store a new chosen password under an event named action, in the
 * caller's transaction. */
static int
guardian_store_password(struct worker *w, const char *account_id,
    const char *action, const char *hash)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "update accounts set password_hash = $2 where id = $1::bigint");
	PGresult		*res;

	if (guardian_event(w->db, GUARDIAN_ACTOR, GUARDIAN_CHANNEL, 0,
	    account_id, action, NULL) == -1 ||
	    (res = db_queryv(w->db, &stmt, account_id, hash)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

void
op_guardian_password(struct worker *w, struct request *req)
{
	struct guardian_session	 gs;
	struct guardian_keys	 keys;
	const char		*current, *password, *confirmation;
	char			*old = NULL, *hash = NULL;
	json_t			*details = NULL;
	int			 left;

	current = req_arg_str(req, "current", 1);
	password = req_arg_str(req, "new_password", 1);
	confirmation = req_arg_str(req, "confirmation", 1);
	if (req->error != -1)
		return;
	if (guardian_session_get(w, req, "account", &gs) == -1)
		return;
	/* No address here: the session already came through the login's. */
	guardian_keys(&keys, gs.login, NULL);
	if (guardian_locked(w, req, &keys) != 0)
		goto out;
	guardian_check_password(&details, password, confirmation);
	if (guardian_fields_refuse(req, details) == -1 ||
	    (old = guardian_current_hash(w, req, gs.account_id)) == NULL)
		goto out;
	if (!password_verify(current, old)) {
		log_warnx("guichet: wrong current password for %s", gs.login);
		if (guardian_failed(w, req, &keys, &left) == 0)
			req_error(req, E_AUTH, "Mot de passe actuel incorrect.");
		goto out;
	}
	if ((hash = password_hash(password)) == NULL) {
		req_error(req, E_INTERNAL, NULL);
		goto out;
	}
	if (guardian_begin(w, req) == -1)
		goto out;
	if (guardian_store_password(w, gs.account_id, "password_change",
	    hash) == -1 || db_commit(w->db) == -1) {
		req_db_error(req, w->db);
		db_rollback(w->db);
		goto out;
	}
	log_info("guichet: %s changed their password", gs.login);
	req->result = json_object();
out:
	free(old);
	free(hash);
	guardian_session_clear(&gs);
}

void
op_guardian_email(struct worker *w, struct request *req)
{
	struct guardian_session	 gs;
	const char		*email, *cause;
	json_t			*details = NULL;
	char			 token[TOKEN_LEN];

	if ((email = req_arg_str(req, "email", 1)) == NULL)
		return;
	if (guardian_session_get(w, req, "account", &gs) == -1)
		return;
	if (valid_email(email, &cause) == -1)
		guardian_field_error(&details, "email", cause);
	if (guardian_fields_refuse(req, details) == -1 ||
	    guardian_begin(w, req) == -1)
		goto out;
	if (guardian_link_issue(w->db, gs.account_id, "email_change",
	    server_cfg.activation_days * 24, email, token) == -1 ||
	    mail_enqueue(w->db, MAIL_EMAIL_CHANGE, gs.account_id, email,
	    json_pack("{s:s, s:s, s:s}", "token", token, "login", gs.login,
	    "email", email)) == -1 ||
	    guardian_event(w->db, GUARDIAN_ACTOR, GUARDIAN_CHANNEL, 0,
	    gs.account_id, "email_change_requested", email) == -1 ||
	    db_commit(w->db) == -1) {
		req_db_error(req, w->db);
		db_rollback(w->db);
		goto out;
	}
	log_info("guichet: %s asked to change their address", gs.login);
	req->result = json_pack("{s:s}", "email", email);
out:
	OPENSSL_cleanse(token, sizeof token);
	guardian_session_clear(&gs);
}

void
op_guardian_email_confirm(struct worker *w, struct request *req)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "update accounts set email = $2 where id = $1::bigint");
	struct guardian_link	 l;
	const char		*token;
	PGresult		*res;

	if ((token = req_arg_str(req, "token", 1)) == NULL)
		return;
	if (guardian_begin(w, req) == -1)
		return;
	if (guardian_link_take(w, req, token, "email_change", "active",
	    &l) == -1)
		goto fail;
	if (guardian_event(w->db, GUARDIAN_ACTOR, GUARDIAN_CHANNEL, 0,
	    l.account_id, "email_change", l.new_email) == -1 ||
	    (res = db_queryv(w->db, &stmt, l.account_id, l.new_email)) ==
	    NULL)
		goto dbfail;
	PQclear(res);
	if (guardian_link_spend(w->db, l.id) == -1 || db_commit(w->db) == -1)
		goto dbfail;
	log_info("guichet: %s confirmed a new address", l.login);
	req->result = json_pack("{s:s, s:s}", "login", l.login, "email",
	    l.new_email);
	guardian_link_clear(&l);
	return;
dbfail:
	req_db_error(req, w->db);
fail:
	db_rollback(w->db);
	guardian_link_clear(&l);
}

static int
guardian_forgot_login_one(struct worker *w, PGresult *res, int i)
{
	if (mail_enqueue(w->db, MAIL_FORGOT_LOGIN, db_get(res, i, MAILED_ID),
	    db_get(res, i, MAILED_EMAIL), json_pack("{s:s}", "login",
	    db_get(res, i, MAILED_LOGIN))) == -1 ||
	    guardian_event(w->db, GUARDIAN_ACTOR, GUARDIAN_CHANNEL, 0,
	    db_get(res, i, MAILED_ID), "forgot_login", NULL) == -1)
		return -1;
	return 0;
}

void
op_guardian_forgot_login(struct worker *w, struct request *req)
{
	/* One address may serve two parents of a family: each login. */
	static struct db_stmt	 stmt = DB_STMT(
	    "select id, login, email from accounts where state = 'active'"
	    " and lower(email) = lower($1) order by id limit 10");
	const char		*email, *addr;

	email = req_arg_str(req, "email", 1);
	addr = req_arg_str(req, "addr", 1);
	if (req->error != -1)
		return;
	guardian_mail_request(w, req, addr, &stmt, 1,
	    (const char *const[]){ email }, guardian_forgot_login_one);
}

static int
guardian_forgot_password_one(struct worker *w, PGresult *res, int i)
{
	char	token[TOKEN_LEN];
	int	rc;

	rc = guardian_link_issue(w->db, db_get(res, i, MAILED_ID), "password",
	    GUARDIAN_PASSWORD_LINK_HOURS, NULL, token);
	if (rc == 0)
		rc = mail_enqueue(w->db, MAIL_FORGOT_PASSWORD, db_get(res, i,
		    MAILED_ID), db_get(res, i, MAILED_EMAIL), json_pack(
		    "{s:s, s:s}", "token", token, "login", db_get(res, i,
		    MAILED_LOGIN)));
	if (rc == 0)
		rc = guardian_event(w->db, GUARDIAN_ACTOR, GUARDIAN_CHANNEL, 0,
		    db_get(res, i, MAILED_ID), "forgot_password", NULL);
	OPENSSL_cleanse(token, sizeof token);
	return rc;
}

void
op_guardian_forgot_password(struct worker *w, struct request *req)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "select id, login, email from accounts where login = lower($1)"
	    " and state = 'active' and lower(email) = lower($2) for update");
	const char		*login, *email, *addr;

	login = req_arg_str(req, "login", 1);
	email = req_arg_str(req, "email", 1);
	addr = req_arg_str(req, "addr", 1);
	if (req->error != -1)
		return;
	guardian_mail_request(w, req, addr, &stmt, 2,
	    (const char *const[]){ login, email },
	    guardian_forgot_password_one);
}

void
op_guardian_reset_password(struct worker *w, struct request *req)
{
	struct guardian_link	 l;
	struct guardian_keys	 keys;
	const char		*token, *password, *confirmation;
	json_t			*details = NULL;
	char			*hash = NULL;

	memset(&l, 0, sizeof l);
	token = req_arg_str(req, "token", 1);
	password = req_arg_str(req, "new_password", 1);
	confirmation = req_arg_str(req, "confirmation", 1);
	if (req->error != -1)
		return;
	guardian_check_password(&details, password, confirmation);
	if (guardian_fields_refuse(req, details) == -1 ||
	    guardian_begin(w, req) == -1)
		return;
	if (guardian_link_take(w, req, token, "password", "active",
	    &l) == -1)
		goto fail;
	if ((hash = password_hash(password)) == NULL) {
		req_error(req, E_INTERNAL, NULL);
		goto fail;
	}
	/* Whoever held a session on the old password loses it. */
	if (guardian_store_password(w, l.account_id, "password_reset",
	    hash) == -1 || guardian_link_spend(w->db, l.id) == -1 ||
	    guardian_sessions_end(w->db, NULL, l.account_id) == -1 ||
	    db_commit(w->db) == -1) {
		req_db_error(req, w->db);
		goto fail;
	}
	guardian_keys(&keys, l.login, NULL);
	guardian_forgive(w, &keys);
	log_info("guichet: %s chose a new password by mail", l.login);
	req->result = json_pack("{s:s}", "login", l.login);
	free(hash);
	guardian_link_clear(&l);
	return;
fail:
	db_rollback(w->db);
	free(hash);
	guardian_link_clear(&l);
}
