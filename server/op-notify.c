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
 *
 * By email ("channel": "email") the same batch queues one message per
 * account in the outbox instead of rendering pages, in the same
 * transaction as the transitions: a committed batch is never left without
 * its messages, and the mailer (mailer.c) delivers them afterwards. The
 * password is not in the message queued: the mailer opens it from the
 * account. A guardian with no address (the one given at the guichet, else
 * ONDE's) is skipped, not the batch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "account.h"
#include "db.h"
#include "document.h"
#include "log.h"
#include "mail.h"
#include "server.h"
#include "xmalloc.h"

/* The guardians of the selection, with their account, whether the school
 * may hand out their credentials (or why not) and their children in the
 * school; sorted as the pages will be. */
enum {
	NOTIFY_GUARDIAN, NOTIFY_ACCOUNT, NOTIFY_LOGIN, NOTIFY_STATE,
	NOTIFY_PROVISIONAL, NOTIFY_LETTER_VALID, NOTIFY_GRANTED,
	NOTIFY_REFUSAL, NOTIFY_CIVILITY, NOTIFY_NAME, NOTIFY_CHILDREN,
	NOTIFY_EMAIL,
};
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
    "  k.children, coalesce(a.email, g.email)"
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
    const enum notify_kind *kind, enum notify_kind which, int email)
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
		r = account_transition(w->db, ids, k, "notifie", email ?
		    "notify_email" : "notify_paper", passwords, NULL);
		break;
	case NOTIFY_REPRINT:
		r = account_transition(w->db, ids, k, "notifie", email ?
		    "notify_email" : "notify_paper", NULL, email ?
		    "renvoi, même mot de passe" :
		    "réimpression, même mot de passe");
		break;
	default:
		r = account_transition(w->db, ids, k, NULL, email ?
		    "reminder_email" : "reminder_paper", NULL, NULL);
		break;
	}
	free(ids);
	free(passwords);
	return r == (int)k ? 0 : -1;
}

/* A batch being made, freed by notify_free(). */
struct notify_batch {
	struct doc_letter	*letters;	/* of the accounts notified */
	enum notify_kind	*kind;
	size_t			 n;
	json_t			*notified;	/* the answer's lists */
	json_t			*skipped;
	int			 email;		/* by email, not on paper */
	char			**addresses;	/* by email: each letter's */
};

/* Why the guardian of row r cannot be notified, or NULL. */
static const char *
notify_refusal(PGresult *res, int r)
{
	const char	*state = db_get(res, r, NOTIFY_STATE);

	/* Refused first, whatever the state. */
	if (!db_get_bool(res, r, NOTIFY_GRANTED))
		return db_get(res, r, NOTIFY_REFUSAL);
	if (state == NULL)
		return "aucun compte";
	if (strcmp(state, "desactive") == 0)
		return "compte désactivé";
	return NULL;
}

/* The same for a notification by email, which needs an address. */
static const char *
notify_refusal_email(PGresult *res, int r)
{
	const char	*reason = notify_refusal(res, r);

	if (reason == NULL && db_get(res, r, NOTIFY_EMAIL) == NULL)
		return "pas d'adresse électronique";
	return reason;
}

/* Which letter the account of row r gets, with its password when it has
 * one. */
static enum notify_kind
notify_letter_kind(PGresult *res, int r, struct doc_letter *l)
{
	const char	*state = db_get(res, r, NOTIFY_STATE);

	if (strcmp(state, "attente") == 0 || strcmp(state, "active") == 0)
		return NOTIFY_REMINDER;
	if (strcmp(state, "notifie") == 0 &&
	    db_get_bool(res, r, NOTIFY_LETTER_VALID) &&
	    (l->password = account_open_password(l->account_id,
	    db_get(res, r, NOTIFY_PROVISIONAL))) != NULL)
		return NOTIFY_REPRINT;
	/* Never notified, or the letter expired. */
	l->password = xmalloc(ACCOUNT_PASSWORD_LEN + 1);
	account_new_password(l->password);
	return NOTIFY_NEW;
}

/* The letter of row r, added to the batch. */
static void
notify_add(struct request *req, PGresult *res, int r,
    struct notify_batch *b)
{
	struct doc_letter	*l = &b->letters[b->n];
	enum notify_kind	 kind;

	l->account_id = db_get_int(res, r, NOTIFY_ACCOUNT);
	if (b->email)
		b->addresses[b->n] = xstrdup(db_get(res, r, NOTIFY_EMAIL));
	l->login = xstrdup(db_get(res, r, NOTIFY_LOGIN));
	if (db_get(res, r, NOTIFY_CIVILITY) != NULL)
		l->civility = xstrdup(db_get(res, r, NOTIFY_CIVILITY));
	l->guardian = xstrdup(db_get(res, r, NOTIFY_NAME));
	l->children = json_loads(db_get(res, r, NOTIFY_CHILDREN), 0, NULL);
	l->school_name = req->scope.school_name != NULL ?
	    xstrdup(req->scope.school_name) : NULL;
	l->school_uai = xstrdup(req->scope.uai);
	if (req->scope.school_town != NULL)
		l->town = xstrdup(req->scope.school_town);
	kind = b->kind[b->n] = notify_letter_kind(res, r, l);
	json_array_append_new(b->notified, json_pack("{s:s, s:s, s:s}",
	    "login", l->login, "guardian", l->guardian, "letter",
	    kind == NOTIFY_REMINDER ? "rappel" : kind == NOTIFY_REPRINT ?
	    (b->email ? "renvoi" : "réimpression") : "nouveau mot de passe"));
	b->n++;
}

/* Lock the accounts of the selection, then sort its guardians into the
 * batch and the skipped. */
static int
notify_read(struct worker *w, struct request *req,
    const struct selection *sel, struct notify_batch *b)
{
	PGresult	*res;
	const char	*reason;
	int		 r, nrows;

	if ((res = db_query(w->db, &notify_lock, 3, sel->params)) == NULL)
		return -1;
	PQclear(res);
	if ((res = db_query(w->db, &notify_select, 3, sel->params)) == NULL)
		return -1;
	nrows = PQntuples(res);
	b->letters = xcalloc(nrows > 0 ? (size_t)nrows : 1,
	    sizeof *b->letters);
	b->kind = xcalloc(nrows > 0 ? (size_t)nrows : 1, sizeof *b->kind);
	if (b->email)
		b->addresses = xcalloc(nrows > 0 ? (size_t)nrows : 1,
		    sizeof *b->addresses);
	for (r = 0; r < nrows; r++) {
		if ((reason = b->email ? notify_refusal_email(res, r) :
		    notify_refusal(res, r)) != NULL)
			json_array_append_new(b->skipped, json_pack(
			    "{s:s?, s:s, s:s}", "login", db_get(res, r,
			    NOTIFY_LOGIN), "guardian", db_get(res, r,
			    NOTIFY_NAME), "reason", reason));
		else
			notify_add(req, res, r, b);
	}
	PQclear(res);
	return 0;
}

/* Whether a list of the answer names login. */
static int
notify_listed(json_t *list, const char *login)
{
	const char	*v;
	json_t		*x;
	size_t		 j;

	json_array_foreach(list, j, x) {
		v = json_string_value(json_object_get(x, "login"));
		if (v != NULL && strcmp(v, login) == 0)
			return 1;
	}
	return 0;
}

/* Logins asked for that are not guardians of this school. */
static void
notify_unknown_logins(const struct selection *sel, struct notify_batch *b)
{
	const char	*login;
	json_t		*item;
	size_t		 i;

	json_array_foreach(sel->logins, i, item) {
		login = json_string_value(item);
		if (!notify_listed(b->notified, login) &&
		    !notify_listed(b->skipped, login))
			json_array_append_new(b->skipped, json_pack(
			    "{s:s, s:n, s:s}", "login", login, "guardian",
			    "reason", "identifiant inconnu dans cette école"));
	}
}

/* Move the three groups of the batch. */
static int
notify_move_all(struct worker *w, struct notify_batch *b)
{
	return notify_move(w, b->letters, b->n, b->kind, NOTIFY_NEW,
	    b->email) == -1 || notify_move(w, b->letters, b->n, b->kind,
	    NOTIFY_REPRINT, b->email) == -1 || notify_move(w, b->letters, b->n,
	    b->kind, NOTIFY_REMINDER, b->email) == -1 ? -1 : 0;
}

/*
 * By email: move the accounts and queue one message each, in the
 * transaction, then commit. -1 with the error set (the caller rolls
 * back).
 */
static int
notify_issue_email(struct worker *w, struct request *req,
    struct notify_batch *b)
{
	char	id[24];
	size_t	i;

	if (notify_move_all(w, b) == -1) {
		req_db_error(req, w->db);
		return -1;
	}
	for (i = 0; i < b->n; i++) {
		snprintf(id, sizeof id, "%lld",
		    (long long)b->letters[i].account_id);
		if (mail_enqueue(w->db, MAIL_NOTIFICATION, id, b->addresses[i],
		    json_pack("{s:s?}", "school", b->letters[i].school_name)) ==
		    -1) {
			req_db_error(req, w->db);
			return -1;
		}
	}
	if (db_commit(w->db) == -1) {
		req_db_error(req, w->db);
		return -1;
	}
	return 0;
}

/*
 * Move the accounts, render the letters and record the document, in the
 * transaction. -1 with the error set (the caller rolls back).
 */
static int
notify_issue(struct worker *w, struct request *req, struct notify_batch *b)
{
	struct doc_stamp	 stamp;
	int64_t			*ids;
	char			 name[96], *cause;
	size_t			 i;
	int			 r;

	if (notify_move_all(w, b) == -1 || doc_stamp(w->db, &stamp) == -1) {
		req_db_error(req, w->db);
		return -1;
	}
	if (doc_letters_pdf(b->letters, b->n, &stamp, &req->blob,
	    &cause) == -1) {
		log_warnx("notify: %s", cause);
		free(cause);
		req_error(req, E_INTERNAL, "Le document n'a pas pu être "
		    "produit : aucun compte n'a été notifié.");
		return -1;
	}
	ids = xcalloc(b->n, sizeof *ids);
	for (i = 0; i < b->n; i++)
		ids[i] = b->letters[i].account_id;
	r = doc_record(w->db, req, "notification", "pdf", (int)b->n, ids,
	    b->n, &req->blob);
	free(ids);
	if (r == -1 || db_commit(w->db) == -1) {
		req_db_error(req, w->db);
		return -1;
	}
	snprintf(name, sizeof name, "Educonnect-Notifications-%s.pdf",
	    stamp.compact);
	req->blob_name = xstrdup(name);
	return 0;
}

static void
notify_free(struct notify_batch *b)
{
	size_t	i;

	for (i = 0; i < b->n; i++) {
		doc_letter_clear(&b->letters[i]);
		if (b->addresses != NULL)
			free(b->addresses[i]);
	}
	free(b->addresses);
	free(b->letters);
	free(b->kind);
	json_decref(b->notified);
	json_decref(b->skipped);
}

void
op_notify(struct worker *w, struct request *req)
{
	struct notify_batch	 b;
	struct selection	 sel;
	const char		*channel;
	int			 dry_run;

	memset(&b, 0, sizeof b);
	dry_run = req_arg_bool(req, "dry_run", 0);
	channel = req_arg_str(req, "channel", 0);
	if (req->error != -1)
		return;
	if (channel != NULL && strcmp(channel, "paper") != 0 &&
	    strcmp(channel, "email") != 0) {
		req_error(req, E_INVALID, "Canal inconnu : %s (paper ou "
		    "email).", channel);
		return;
	}
	b.email = channel != NULL && strcmp(channel, "email") == 0;
	if (selection_parse(req, &sel) == -1) {
		selection_free(&sel);
		return;
	}
	b.notified = json_array();
	b.skipped = json_array();

	if (db_begin(w->db) == -1 || db_set_context(w->db,
	    req->session->login, req->channel, NULL, req->scope.school_id,
	    NULL) == -1 || notify_read(w, req, &sel, &b) == -1) {
		req_db_error(req, w->db);
		goto fail;
	}
	notify_unknown_logins(&sel, &b);
	/* A dry run answers what would be done: the confirmation of the
	 * client says how many accounts, and which are skipped and why. */
	if (b.n == 0 || dry_run) {
		db_rollback(w->db);
		req->result = json_pack("{s:O, s:O, s:i, s:b}", "notified",
		    b.notified, "skipped", b.skipped, "pages", 0, "dry_run",
		    dry_run);
		goto out;
	}
	if ((b.email ? notify_issue_email(w, req, &b) :
	    notify_issue(w, req, &b)) == -1)
		goto fail;
	log_info("%s notified %zu account(s) of %s %s, %zu skipped",
	    req->session->login, b.n, req->scope.uai, b.email ? "by email" :
	    "on paper", json_array_size(b.skipped));
	req->result = json_pack("{s:O, s:O, s:i}", "notified", b.notified,
	    "skipped", b.skipped, "pages", b.email ? 0 : (int)b.n);
	goto out;
fail:
	db_rollback(w->db);
	buf_free_secret(&req->blob);
out:
	notify_free(&b);
	selection_free(&sel);
}
