/*
 * reset ("réinitialiser"): a new provisional password for one account, the
 * password the guardian chose discarded, and the new sheet produced in the
 * same transaction, so a parent is never left locked out. A director works
 * on the guardians of their school, and hands out credentials only through
 * a link that can carry an account there (credential_links); the helpdesk
 * on any guardian of the academy, or under the director's rule when it
 * names a school.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "db.h"
#include "document.h"
#include "log.h"
#include "server.h"
#include "xmalloc.h"

/* The account, whether it is in the scope, whether the scope may hand out
 * its credentials (or why not), and the letter's contents: the children of
 * the scope's school (all of them, academy-wide, with the first school
 * that may hand them out). */
enum {
	RESET_ACCOUNT, RESET_STATE, RESET_GRANTED, RESET_REFUSAL,
	RESET_CIVILITY, RESET_NAME, RESET_CHILDREN, RESET_IN_SCOPE,
	RESET_UAI, RESET_SCHOOL_NAME, RESET_TOWN,
};
static struct db_stmt reset_select = DB_STMT(
    "select a.id, a.state,"
    "  exists (select 1 from credential_links cl where cl.guardian_id = g.id"
    "   and ($2::int is null or cl.school_id = $2)),"
    "  case when $2::int is null then (select ge.reason"
    "   from guardian_eligibility ge where ge.guardian_id = g.id)"
    "   else credential_refusal(k.reasons) end,"
    "  g.civility, g.last_name || ' ' || g.first_name, k.children,"
    "  k.in_scope, sc.uai, sc.name, sc.town"
    " from accounts a join guardians g on g.id = a.guardian_id"
    " cross join lateral (select"
    "   json_agg(json_build_object('name', p.last_name || ' ' ||"
    "    p.first_name, 'class', c.name) order by c.rank nulls last,"
    "    c.name nulls last, ecadm_fold(p.last_name)) as children,"
    "   count(*) > 0 as in_scope, string_agg(distinct"
    "    eligibility_reason(p.status, p.ine, p.class_id, l.legal), ' ; ')"
    "    as reasons"
    "  from links l join pupils p on p.id = l.pupil_id"
    "  left join classes c on c.id = p.class_id"
    "  where l.guardian_id = g.id"
    "  and ($2::int is null or p.school_id = $2)) k"
    " left join schools sc on sc.uai = (select min(s.uai)"
    "  from credential_links cl join schools s on s.id = cl.school_id"
    "  where cl.guardian_id = g.id)"
    " where a.login = $1");

/*
 * Lock the account of login and read it: NULL with the error set when
 * it is unknown or has no child in the scope.
 */
static PGresult *
reset_read(struct worker *w, struct request *req, const char *login)
{
	static struct db_stmt	 lock = DB_STMT(
	    "select id from accounts where login = $1 for update");
	PGresult		*res;
	const char		*v[2];
	char			 school[16];

	snprintf(school, sizeof school, "%d", req->scope.school_id);
	v[0] = login;
	v[1] = req->scope.school_id == 0 ? NULL : school;
	if ((res = db_queryv(w->db, &lock, login)) == NULL)
		goto fail;
	PQclear(res);
	if ((res = db_query(w->db, &reset_select, 2, v)) == NULL)
		goto fail;
	if (PQntuples(res) == 0) {
		PQclear(res);
		req_error(req, E_NOT_FOUND, "Identifiant inconnu : %s.", login);
		return NULL;
	}
	if (!db_get_bool(res, 0, RESET_IN_SCOPE)) {
		PQclear(res);
		req_error(req, E_FORBIDDEN, "Le compte %s n'a pas d'enfant dans "
		    "votre école.", login);
		return NULL;
	}
	return res;
fail:
	req_db_error(req, w->db);
	return NULL;
}

/* Whether the account may be reset; -1 with the error set if not. */
static int
reset_allowed(struct request *req, PGresult *res, const char *login)
{
	const char	*state = db_get(res, 0, RESET_STATE);

	/*
	 * E_NOT_ELIGIBLE, even for a guardian eligible through a child of
	 * another school: the director sees this guardian in their school
	 * (greyed, with the reason), so "not found" or "forbidden" would be
	 * untrue, and the reason names only this school's links.
	 */
	if (!db_get_bool(res, 0, RESET_GRANTED)) {
		req_error(req, E_NOT_ELIGIBLE, "Compte %s non éligible : %s.",
		    login, db_get(res, 0, RESET_REFUSAL) != NULL ?
		    db_get(res, 0, RESET_REFUSAL) : "aucun lien éligible");
		return -1;
	}
	if (strcmp(state, "precree") == 0) {
		req_error(req, E_BAD_TRANSITION, "Le compte %s n'a encore "
		    "jamais été notifié : utilisez « Notifier les comptes ».",
		    login);
		return -1;
	}
	if (strcmp(state, "desactive") == 0) {
		req_error(req, E_BAD_TRANSITION, "Le compte %s est désactivé.",
		    login);
		return -1;
	}
	return 0;
}

/* The letter's contents: the scope's school, or academy-wide the first
 * school that may hand the credentials out. */
static void
reset_letter(struct request *req, PGresult *res, const char *login,
    struct doc_letter *l)
{
	const char	*name, *town;
	int		 academy = req->scope.school_id == 0;

	l->account_id = db_get_int(res, 0, RESET_ACCOUNT);
	l->login = xstrdup(login);
	if (db_get(res, 0, RESET_CIVILITY) != NULL)
		l->civility = xstrdup(db_get(res, 0, RESET_CIVILITY));
	l->guardian = xstrdup(db_get(res, 0, RESET_NAME));
	l->children = json_loads(db_get(res, 0, RESET_CHILDREN), 0, NULL);
	l->school_uai = xstrdup(academy ? db_get(res, 0, RESET_UAI) :
	    req->scope.uai);
	name = academy ? db_get(res, 0, RESET_SCHOOL_NAME) :
	    req->scope.school_name;
	town = academy ? db_get(res, 0, RESET_TOWN) : req->scope.school_town;
	if (name != NULL)
		l->school_name = xstrdup(name);
	if (town != NULL)
		l->town = xstrdup(town);
	l->password = xmalloc(ACCOUNT_PASSWORD_LEN + 1);
	account_new_password(l->password);
}

/*
 * Give the account its new password, render the sheet and record it, in
 * the transaction. -1 with the error set (the caller rolls back).
 */
static int
reset_issue(struct worker *w, struct request *req, struct doc_letter *l)
{
	struct doc_stamp	 stamp;
	char			 name[128], *cause;

	if (account_transition(w->db, &l->account_id, 1, "notifie",
	    "reset", &l->password, "mot de passe réinitialisé") != 1 ||
	    doc_stamp(w->db, &stamp) == -1)
		goto fail;
	if (doc_letters_pdf(l, 1, &stamp, &req->blob, &cause) == -1) {
		log_warnx("reset: %s", cause);
		free(cause);
		req_error(req, E_INTERNAL, "La feuille n'a pas pu être "
		    "produite : le mot de passe n'a pas été changé.");
		return -1;
	}
	if (doc_record(w->db, req, "reset", "pdf", 1, &l->account_id, 1,
	    &req->blob) == -1 || db_commit(w->db) == -1)
		goto fail;
	snprintf(name, sizeof name, "Educonnect-Notification-%s-%s.pdf",
	    l->login, stamp.compact);
	req->blob_name = xstrdup(name);
	return 0;
fail:
	req_db_error(req, w->db);
	return -1;
}

void
op_reset(struct worker *w, struct request *req)
{
	struct doc_letter	 letter;
	PGresult		*res;
	const char		*login;
	char			 state[16];

	memset(&letter, 0, sizeof letter);
	if ((login = req_arg_str(req, "login", 1)) == NULL)
		return;
	if (db_begin(w->db) == -1 || db_set_context(w->db,
	    req->session->login, req->channel, NULL, req->scope.school_id,
	    NULL) == -1) {
		req_db_error(req, w->db);
		goto fail;
	}
	if ((res = reset_read(w, req, login)) == NULL)
		goto fail;
	if (reset_allowed(req, res, login) == -1) {
		PQclear(res);
		goto fail;
	}
	snprintf(state, sizeof state, "%s", db_get(res, 0, RESET_STATE));
	reset_letter(req, res, login, &letter);
	PQclear(res);
	if (reset_issue(w, req, &letter) == -1)
		goto fail;
	log_info("%s reset the password of %s", req->session->login, login);
	req->result = json_pack("{s:s, s:s, s:s}", "login", login, "state",
	    "notifie", "from", state);
	goto out;
fail:
	db_rollback(w->db);
	buf_free_secret(&req->blob);
out:
	doc_letter_clear(&letter);
}
