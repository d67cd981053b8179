/*
 * The gate: the one place that decides whether a request may run. Before any
 * handler, it checks the kind of peer, the session (refreshed against the
 * database when due), the role the operation table asks for, and resolves
 * the school the request runs in, refusing a school outside the caller's
 * scope. Handlers receive req->scope already checked and never test roles
 * or schools themselves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "server.h"
#include "valid.h"
#include "xmalloc.h"

/* Roles allowed, as French words for the refusal message. */
static const char *
gate_roles_text(unsigned roles)
{
	if (roles == ROLE_ADMIN)
		return "aux administrateurs";
	if (roles == ROLE_DIRECTEUR)
		return "aux directeurs d'école";
	if (roles == (ROLE_DIRECTEUR | ROLE_ASSISTANCE))
		return "aux directeurs d'école et à l'assistance";
	return "à d'autres rôles";
}

int
gate_check_role(struct request *req)
{
	const struct proto_op_info	*op = proto_op(req->op);

	if (!(op->peers & req->peer)) {
		req_error(req, E_FORBIDDEN, "Opération non autorisée pour ce "
		    "type de client.");
		return -1;
	}
	/* The guichet's operations are preauth and allowed to the guichet
	 * peer alone: it runs them without a staff session (the guardian's
	 * session is an argument), and it never gets a staff one, since no
	 * staff operation, login included, allows its kind of peer. */
	if (op->flags & OPF_PREAUTH)
		return 0;
	if (req->session == NULL) {
		req_error(req, E_AUTH, "Connexion requise.");
		return -1;
	}
	if (!(op->roles & req->session->role)) {
		req_error(req, E_FORBIDDEN, "Opération réservée %s.",
		    gate_roles_text(op->roles));
		return -1;
	}
	return 0;
}

/* Fill the scope with the school of that UAI, checking the caller may
 * see it. */
static int
gate_school(struct worker *w, struct request *req, const char *uai)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "select id, name, town from schools where uai = $1");
	enum { SCHOOL_ID, SCHOOL_NAME, SCHOOL_TOWN };
	struct session		*s = req->session;
	const char		*cause;
	char			 upper[9];
	PGresult		*res;
	size_t			 i;

	if (valid_uai(uai, &cause) == -1) {
		req_error(req, E_INVALID, "École %s : %s.", uai, cause);
		return -1;
	}
	for (i = 0; i < 8; i++)
		upper[i] = (char)(uai[i] >= 'a' && uai[i] <= 'z' ?
		    uai[i] - 'a' + 'A' : uai[i]);
	upper[8] = '\0';

	if (s->role == ROLE_DIRECTEUR) {
		for (i = 0; i < s->nschools; i++) {
			if (strcmp(s->schools[i].uai, upper) == 0)
				break;
		}
		if (i == s->nschools) {
			log_warnx("%s refused on school %s", s->login, upper);
			req_error(req, E_FORBIDDEN, "L'école %s n'est pas dans "
			    "votre périmètre.", upper);
			return -1;
		}
		req->scope.school_id = s->schools[i].id;
		memcpy(req->scope.uai, upper, sizeof req->scope.uai);
		if (s->schools[i].name != NULL)
			req->scope.school_name = xstrdup(s->schools[i].name);
		if (s->schools[i].town != NULL)
			req->scope.school_town = xstrdup(s->schools[i].town);
		return 0;
	}

	if ((res = db_queryv(w->db, &stmt, upper)) == NULL) {
		req_db_error(req, w->db);
		return -1;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		req_error(req, E_NOT_FOUND, "École inconnue : %s.", upper);
		return -1;
	}
	req->scope.school_id = (int)db_get_int(res, 0, SCHOOL_ID);
	memcpy(req->scope.uai, upper, sizeof req->scope.uai);
	if (db_get(res, 0, SCHOOL_NAME) != NULL)
		req->scope.school_name = xstrdup(db_get(res, 0, SCHOOL_NAME));
	if (db_get(res, 0, SCHOOL_TOWN) != NULL)
		req->scope.school_town = xstrdup(db_get(res, 0, SCHOOL_TOWN));
	PQclear(res);
	return 0;
}

int
gate_run(struct worker *w, struct request *req)
{
	const struct proto_op_info	*op = proto_op(req->op);
	struct session			*s;
	const char			*uai;

	if (gate_check_role(req) == -1)
		return -1;
	if (op->flags & OPF_PREAUTH)
		return 0;
	if (session_refresh(w, req) == -1)
		return -1;
	if (!(op->flags & OPF_SCHOOL))
		return 0;

	s = req->session;
	uai = req_arg_str(req, "school", 0);
	if (req->error != -1)
		return -1;
	if (uai != NULL)
		return gate_school(w, req, uai);
	if (s->role == ROLE_DIRECTEUR) {
		if (s->nschools == 1)
			return gate_school(w, req, s->schools[0].uai);
		req_error(req, E_INVALID, s->nschools == 0 ?
		    "Aucune école ne vous est rattachée." :
		    "Vous dirigez plusieurs écoles : précisez laquelle "
		    "(--school UAI).");
		return -1;
	}
	if (op->flags & OPF_ACADEMY)
		return 0;	/* academy-wide */
	req_error(req, E_INVALID, "Précisez l'école (--school UAI).");
	return -1;
}
