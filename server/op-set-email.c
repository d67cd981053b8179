/*
 * The helpdesk's actions on an activation (DESIGN §13): set-email changes
 * a guardian's address and, while the account waits for its activation
 * link, sends a new link to the new address; resend-activation sends a
 * new link to the address on file. Either way the old link dies
 * (guardian_link_issue), and the move is the attente -> attente
 * transition, so it shows in the account's history.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "db.h"
#include "guardian.h"
#include "log.h"
#include "server.h"
#include "valid.h"
#include "xmalloc.h"

enum { TARGET_ID, TARGET_STATE, TARGET_EMAIL, TARGET_IN_SCOPE };

/*
 * Begin the transaction and lock the account of the "login" argument:
 * NULL with the error set (and rolled back) when it is unknown, has no
 * child in the scope, or is deactivated.
 */
static PGresult *
set_email_target(struct worker *w, struct request *req, const char *login)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "select a.id, a.state, a.email, exists (select 1 from links l"
	    "  join pupils p on p.id = l.pupil_id"
	    "  where l.guardian_id = a.guardian_id"
	    "  and ($2::int is null or p.school_id = $2::int))"
	    " from accounts a where a.login = $1 for update of a");
	PGresult		*res;
	char			 school[16];

	snprintf(school, sizeof school, "%d", req->scope.school_id);
	if (db_begin(w->db) == -1 || db_set_context(w->db,
	    req->session->login, req->channel, NULL, req->scope.school_id,
	    NULL) == -1 || (res = db_queryv(w->db, &stmt, login,
	    req->scope.school_id == 0 ? NULL : school)) == NULL) {
		req_db_error(req, w->db);
		goto fail;
	}
	if (PQntuples(res) == 0)
		req_error(req, E_NOT_FOUND, "Identifiant inconnu : %s.", login);
	else if (!db_get_bool(res, 0, TARGET_IN_SCOPE))
		req_error(req, E_FORBIDDEN, "Le compte %s n'a pas d'enfant dans "
		    "votre école.", login);
	else if (strcmp(db_get(res, 0, TARGET_STATE), "desactive") == 0)
		req_error(req, E_BAD_TRANSITION, "Le compte %s est désactivé.",
		    login);
	else
		return res;
	PQclear(res);
fail:
	db_rollback(w->db);
	return NULL;
}

/* A new activation link to the address, as the attente -> attente
 * transition named action. In the transaction. */
static int
set_email_link(struct worker *w, PGresult *res, const char *login,
    const char *action, const char *email)
{
	int64_t	id = db_get_int(res, 0, TARGET_ID);

	if (account_transition(w->db, &id, 1, "attente", action, NULL,
	    email) != 1)
		return -1;
	return guardian_activation_send(w->db, db_get(res, 0, TARGET_ID),
	    login, email);
}

void
op_set_email(struct worker *w, struct request *req)
{
	static struct db_stmt	 set = DB_STMT(
	    "update accounts set email = $2 where id = $1::bigint");
	const char		*login, *email, *cause;
	PGresult		*res, *r;
	int			 waiting;

	login = req_arg_str(req, "login", 1);
	email = req_arg_str(req, "email", 1);
	if (req->error != -1)
		return;
	if (valid_email(email, &cause) == -1) {
		req_error(req, E_INVALID, "%s : %s.", email, cause);
		return;
	}
	if ((res = set_email_target(w, req, login)) == NULL)
		return;
	waiting = strcmp(db_get(res, 0, TARGET_STATE), "attente") == 0;
	if ((r = db_queryv(w->db, &set, db_get(res, 0, TARGET_ID), email)) ==
	    NULL)
		goto fail;
	PQclear(r);
	if ((waiting ? set_email_link(w, res, login, "set_email", email) :
	    guardian_event(w->db, req->session->login, req->channel,
	    req->scope.school_id, db_get(res, 0, TARGET_ID), "set_email",
	    email)) == -1 || db_commit(w->db) == -1)
		goto fail;
	log_info("%s set the address of %s%s", req->session->login, login,
	    waiting ? " and sent a new activation link" : "");
	req->result = json_pack("{s:s, s:s, s:s, s:b}", "login", login,
	    "email", email, "state", db_get(res, 0, TARGET_STATE), "mailed",
	    waiting);
	PQclear(res);
	return;
fail:
	req_db_error(req, w->db);
	db_rollback(w->db);
	PQclear(res);
}

void
op_resend_activation(struct worker *w, struct request *req)
{
	const char	*login, *email;
	PGresult	*res;

	if ((login = req_arg_str(req, "login", 1)) == NULL)
		return;
	if ((res = set_email_target(w, req, login)) == NULL)
		return;
	email = db_get(res, 0, TARGET_EMAIL);
	if (strcmp(db_get(res, 0, TARGET_STATE), "attente") != 0) {
		req_error(req, E_BAD_TRANSITION, "Le compte %s n'est pas en "
		    "cours d'activation (%s) : il n'a pas de lien "
		    "d'activation.", login, state_label(db_get(res, 0,
		    TARGET_STATE)));
		goto refuse;
	}
	if (email == NULL) {
		req_error(req, E_INVALID, "Le compte %s n'a pas d'adresse "
		    "électronique.", login);
		goto refuse;
	}
	if (set_email_link(w, res, login, "resend_activation", email) == -1 ||
	    db_commit(w->db) == -1) {
		req_db_error(req, w->db);
		goto refuse;
	}
	log_info("%s sent the activation link of %s again",
	    req->session->login, login);
	req->result = json_pack("{s:s, s:s}", "login", login, "email", email);
	PQclear(res);
	return;
refuse:
	db_rollback(w->db);
	PQclear(res);
}
