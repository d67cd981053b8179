/*
 * notify: the September job. For the guardians of a selection (classes,
 * the whole school, or logins) in the director's school, one transaction:
 * lock their accounts, give a provisional password to those never notified
 * or whose letter expired, reprint the same password (the three months
 * start again) for those still valid, prepare a reminder for accounts in
 * use, render every page into one PDF sorted by class then pupil, record
 * the document, commit. Anything that fails rolls the whole batch back: no
 * account is left notified without its sheet. Guardians who cannot be
 * notified are listed with the reason; among them those eligible through
 * a child of another school only (credential_links): their credentials
 * are not this school's to hand out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "account.h"
#include "db.h"
#include "document.h"
#include "log.h"
#include "server.h"
#include "xmalloc.h"

/* The guardians of the selection, with their account, whether the school
 * may hand out their credentials (or why not) and their children in the
 * school; sorted as the pages will be. */
static struct db_stmt notify_select = DB_STMT(
    "with sel as (select distinct l.guardian_id"
    "  from links l join pupils p on p.id = l.pupil_id"
    "  left join classes c on c.id = p.class_id"
    "  left join accounts a on a.guardian_id = l.guardian_id"
    "  where p.school_id = $1"
    "  and ($2::text[] is null or c.name = any ($2::text[]))"
    "  and ($3::text[] is null or a.login = any ($3::text[])))"
    " select g.id, a.id, a.login, a.state, a.provisional,"
    "  letter_expires_at(a.letter_at) > now(),"
    "  exists (select 1 from credential_links cl"
    "   where cl.guardian_id = g.id and cl.school_id = $1),"
    "  credential_refusal(k.reasons),"
    "  g.civility, g.last_name || ' ' || g.first_name,"
    "  k.children"
    " from sel join guardians g on g.id = sel.guardian_id"
    " left join accounts a on a.guardian_id = g.id"
    " cross join lateral (select"
    "   json_agg(json_build_object('name', p.last_name || ' ' ||"
    "    p.first_name, 'class', c.name) order by c.rank nulls last,"
    "    c.name nulls last, ecadm_fold(p.last_name),"
    "    ecadm_fold(p.first_name)) as children,"
    /* The sort key of the first child: level rank, class, name. */
    "   min(lpad(coalesce(c.rank, 99)::text, 2, '0') || chr(1) ||"
    "    coalesce(c.name, chr(127)) || chr(1) ||"
    "    ecadm_fold(p.last_name || ' ' || p.first_name)) as first_child,"
    "   string_agg(distinct eligibility_reason(p.status, p.ine,"
    "    p.class_id, l.legal), ' ; ') as reasons"
    "  from links l join pupils p on p.id = l.pupil_id"
    "  left join classes c on c.id = p.class_id"
    "  where l.guardian_id = g.id and p.school_id = $1) k"
    " order by k.first_child, ecadm_fold(g.last_name), g.id");

/* Lock the accounts of the selection before reading them: a guardian with
 * children in two schools may be notified by both directors at once. */
static struct db_stmt notify_lock = DB_STMT(
    "select a.id from accounts a"
    " where a.guardian_id in (select l.guardian_id"
    "  from links l join pupils p on p.id = l.pupil_id"
    "  left join classes c on c.id = p.class_id"
    "  where p.school_id = $1"
    "  and ($2::text[] is null or c.name = any ($2::text[])))"
    " and ($3::text[] is null or a.login = any ($3::text[]))"
    " order by a.id for update");

/* The three groups of a batch. */
enum notify_kind { NOTIFY_NEW, NOTIFY_REPRINT, NOTIFY_REMINDER };

/* Move one group of accounts. */
static int
notify_move(struct worker *w, struct doc_letter *letters, size_t n,
    const enum notify_kind *kind, enum notify_kind which)
{
	int64_t		*ids = xcalloc(n > 0 ? n : 1, sizeof *ids);
	char		**passwords = xcalloc(n > 0 ? n : 1, sizeof *passwords);
	size_t		 i, k = 0;
	int		 r;

	for (i = 0; i < n; i++) {
		if (kind[i] != which)
			continue;
		ids[k] = letters[i].account_id;
		passwords[k++] = letters[i].password;
	}
	switch (which) {
	case NOTIFY_NEW:
		r = account_transition(w->db, ids, k, "notifie",
		    "notify_paper", passwords, NULL);
		break;
	case NOTIFY_REPRINT:
		r = account_transition(w->db, ids, k, "notifie",
		    "notify_paper", NULL, "réimpression, même mot de passe");
		break;
	default:
		r = account_transition(w->db, ids, k, NULL, "reminder_paper",
		    NULL, NULL);
		break;
	}
	free(ids);
	free(passwords);
	return r == (int)k ? 0 : -1;
}

void
op_notify(struct worker *w, struct request *req)
{
	struct doc_letter	*letters = NULL;
	enum notify_kind	*kind = NULL;
	struct doc_stamp	 stamp;
	struct selection	 sel;
	json_t			*notified, *skipped, *item;
	PGresult		*res = NULL;
	const char		*state, *reason;
	int64_t			*ids = NULL;
	char			 name[96], *cause;
	size_t			 n = 0, i;
	int			 r, nrows, dry_run;

	dry_run = req_arg_bool(req, "dry_run", 0);
	if (selection_parse(req, &sel) == -1) {
		selection_free(&sel);
		return;
	}
	notified = json_array();
	skipped = json_array();

	if (db_begin(w->db) == -1 || db_set_context(w->db,
	    req->session->login, req->channel, NULL, req->scope.school_id,
	    NULL) == -1)
		goto fail;
	if ((res = db_query(w->db, &notify_lock, 3, sel.params)) == NULL)
		goto fail;
	PQclear(res);
	if ((res = db_query(w->db, &notify_select, 3, sel.params)) == NULL)
		goto fail;
	nrows = PQntuples(res);
	letters = xcalloc(nrows > 0 ? (size_t)nrows : 1, sizeof *letters);
	kind = xcalloc(nrows > 0 ? (size_t)nrows : 1, sizeof *kind);

	for (r = 0; r < nrows; r++) {
		state = db_get(res, r, 3);
		/* Refused first, whatever the state. */
		if (!db_get_bool(res, r, 6))
			reason = db_get(res, r, 7);
		else if (state == NULL)
			reason = "aucun compte";
		else if (strcmp(state, "desactive") == 0)
			reason = "compte désactivé";
		else
			reason = NULL;
		if (reason != NULL) {
			json_array_append_new(skipped, json_pack(
			    "{s:s?, s:s, s:s}", "login", db_get(res, r, 2),
			    "guardian", db_get(res, r, 9), "reason", reason));
			continue;
		}
		letters[n].account_id = db_get_int(res, r, 1);
		letters[n].login = xstrdup(db_get(res, r, 2));
		if (db_get(res, r, 8) != NULL)
			letters[n].civility = xstrdup(db_get(res, r, 8));
		letters[n].guardian = xstrdup(db_get(res, r, 9));
		letters[n].children = json_loads(db_get(res, r, 10), 0, NULL);
		letters[n].school_name = req->scope.school_name != NULL ?
		    xstrdup(req->scope.school_name) : NULL;
		letters[n].school_uai = xstrdup(req->scope.uai);
		if (req->scope.school_town != NULL)
			letters[n].town = xstrdup(req->scope.school_town);
		if (strcmp(state, "attente") == 0 ||
		    strcmp(state, "active") == 0)
			kind[n] = NOTIFY_REMINDER;
		else if (strcmp(state, "notifie") == 0 &&
		    db_get_bool(res, r, 5) &&
		    (letters[n].password = account_open_password(
		    letters[n].account_id, db_get(res, r, 4))) != NULL)
			kind[n] = NOTIFY_REPRINT;
		else {
			/* Never notified, or the letter expired. */
			letters[n].password = xmalloc(ACCOUNT_PASSWORD_LEN + 1);
			account_new_password(letters[n].password);
			kind[n] = NOTIFY_NEW;
		}
		json_array_append_new(notified, json_pack("{s:s, s:s, s:s}",
		    "login", letters[n].login, "guardian", letters[n].guardian,
		    "letter", kind[n] == NOTIFY_REMINDER ? "rappel" :
		    kind[n] == NOTIFY_REPRINT ? "réimpression" : "nouveau mot "
		    "de passe"));
		n++;
	}
	PQclear(res);
	res = NULL;
	/* Logins asked for that are not guardians of this school. */
	json_array_foreach(sel.logins, i, item) {
		const char	*login = json_string_value(item);
		json_t		*x;
		size_t		 j;
		int		 found = 0;

		json_array_foreach(notified, j, x)
			found |= strcmp(json_string_value(json_object_get(x,
			    "login")), login) == 0;
		json_array_foreach(skipped, j, x)
			found |= json_string_value(json_object_get(x,
			    "login")) != NULL && strcmp(json_string_value(
			    json_object_get(x, "login")), login) == 0;
		if (!found)
			json_array_append_new(skipped, json_pack(
			    "{s:s, s:n, s:s}", "login", login, "guardian",
			    "reason", "identifiant inconnu dans cette école"));
	}
	/* A dry run answers what would be done: the confirmation of the
	 * client says how many accounts, and which are skipped and why. */
	if (n == 0 || dry_run) {
		db_rollback(w->db);
		req->result = json_pack("{s:o, s:o, s:i, s:b}", "notified",
		    notified, "skipped", skipped, "pages", 0, "dry_run",
		    dry_run);
		goto out;
	}

	if (notify_move(w, letters, n, kind, NOTIFY_NEW) == -1 ||
	    notify_move(w, letters, n, kind, NOTIFY_REPRINT) == -1 ||
	    notify_move(w, letters, n, kind, NOTIFY_REMINDER) == -1 ||
	    doc_stamp(w->db, &stamp) == -1)
		goto fail;
	if (doc_letters_pdf(letters, n, &stamp, &req->blob, &cause) == -1) {
		log_warnx("notify: %s", cause);
		free(cause);
		db_rollback(w->db);
		json_decref(notified);
		json_decref(skipped);
		req_error(req, E_INTERNAL, "Le document n'a pas pu être "
		    "produit : aucun compte n'a été notifié.");
		goto out;
	}
	ids = xcalloc(n, sizeof *ids);
	for (i = 0; i < n; i++)
		ids[i] = letters[i].account_id;
	if (doc_record(w->db, req, "notification", "pdf", (int)n, ids, n,
	    &req->blob) == -1 || db_commit(w->db) == -1)
		goto fail;
	snprintf(name, sizeof name, "Educonnect-Notifications-%s.pdf",
	    stamp.compact);
	req->blob_name = xstrdup(name);
	log_info("%s notified %zu account(s) of %s on paper, %zu skipped",
	    req->session->login, n, req->scope.uai, json_array_size(skipped));
	req->result = json_pack("{s:o, s:o, s:i}", "notified", notified,
	    "skipped", skipped, "pages", (int)n);
	goto out;
fail:
	req_db_error(req, w->db);
	db_rollback(w->db);
	buf_free_secret(&req->blob);
	json_decref(notified);
	json_decref(skipped);
out:
	PQclear(res);
	for (i = 0; i < n; i++)
		doc_letter_clear(&letters[i]);
	free(letters);
	free(kind);
	free(ids);
	selection_free(&sel);
}
