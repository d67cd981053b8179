/*
 * show ("Fiche du compte"): one account, its guardian, the children a
 * director may see (those of their school; all of them for the helpdesk),
 * its password as the list shows it, the letters issued with their dates,
 * the key dates, and the history. A director sees the events of their
 * school only, and the password and eligibility as their school may use
 * them (credential_links): a guardian eligible through a child elsewhere
 * has no password and is not eligible on this school's card. The
 * helpdesk academy-wide sees the whole account.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "db.h"
#include "server.h"
#include "xmalloc.h"

enum {
	ACCOUNT_ID, ACCOUNT_LOGIN, ACCOUNT_STATE, ACCOUNT_STATE_LABEL,
	ACCOUNT_EXPIRED, ACCOUNT_PROVISIONAL, ACCOUNT_HAS_PASSWORD,
	ACCOUNT_EMAIL, ACCOUNT_CIVILITY, ACCOUNT_GUARDIAN, ACCOUNT_PHONE,
	ACCOUNT_GRANTED, ACCOUNT_REFUSAL, ACCOUNT_CREATED, ACCOUNT_LETTER,
	ACCOUNT_EXPIRES, ACCOUNT_FIRST_LOGIN, ACCOUNT_ACTIVATED,
	ACCOUNT_LAST_ACCESS, ACCOUNT_IN_SCOPE,
};
static struct db_stmt show_account = DB_STMT(
    "select a.id, a.login, a.state, st.label,"
    "  letter_expired(a.state, a.letter_at),"
    "  a.provisional, a.password_hash is not null,"
    "  coalesce(a.email, g.email), g.civility,"
    "  g.last_name || ' ' || g.first_name, g.phone,"
    "  exists (select 1 from credential_links cl where cl.guardian_id = g.id"
    "   and ($2::int is null or cl.school_id = $2)),"
    "  case when $2::int is null then (select ge.reason"
    "   from guardian_eligibility ge where ge.guardian_id = g.id)"
    "   else credential_refusal(k.reasons) end,"
    "  to_char(a.created_at at time zone 'Europe/Paris', 'DD/MM/YYYY HH24:MI'),"
    "  to_char(a.letter_at at time zone 'Europe/Paris', 'DD/MM/YYYY'),"
    "  to_char(letter_expires_at(a.letter_at) at time zone"
    "   'Europe/Paris', 'DD/MM/YYYY'),"
    "  to_char(a.first_login_at at time zone 'Europe/Paris',"
    "   'DD/MM/YYYY HH24:MI'),"
    "  to_char(a.activated_at at time zone 'Europe/Paris',"
    "   'DD/MM/YYYY HH24:MI'),"
    "  to_char(a.last_access_at at time zone 'Europe/Paris',"
    "   'DD/MM/YYYY HH24:MI'),"
    "  k.in_scope"
    " from accounts a join guardians g on g.id = a.guardian_id"
    " join account_states st on st.code = a.state"
    " cross join lateral (select count(*) > 0 as in_scope,"
    "   string_agg(distinct eligibility_reason(p.status, p.ine, p.class_id,"
    "   l.legal), ' ; ') as reasons"
    "  from links l join pupils p on p.id = l.pupil_id"
    "  where l.guardian_id = g.id and ($2::int is null"
    "  or p.school_id = $2)) k"
    " where a.login = $1");

enum {
	CHILD_NAME, CHILD_CLASS, CHILD_UAI, CHILD_SCHOOL_NAME, CHILD_RELATION,
	CHILD_LEGAL, CHILD_REASON, CHILD_BIRTH_DATE,
};
static struct db_stmt show_children = DB_STMT(
    "select p.last_name || ' ' || p.first_name, c.name, s.uai,"
    "  coalesce(s.name, s.uai), l.relation, l.legal,"
    "  eligibility_reason(p.status, p.ine, p.class_id, l.legal),"
    "  to_char(p.birth_date, 'DD/MM/YYYY')"
    " from links l join pupils p on p.id = l.pupil_id"
    " join schools s on s.id = p.school_id"
    " left join classes c on c.id = p.class_id"
    " where l.guardian_id = (select guardian_id from accounts"
    "  where id = $1)"
    " and ($2::int is null or p.school_id = $2)"
    " order by s.uai, c.rank nulls last, c.name nulls last,"
    "  ecadm_fold(p.last_name)");

/* The events of the account in the scope's school, as the journal
 * counts them; all of them academy-wide. */
enum {
	EVENT_AT, EVENT_ACTION, EVENT_FROM, EVENT_TO, EVENT_ACTOR,
	EVENT_CHANNEL, EVENT_DETAIL,
};
static struct db_stmt show_events = DB_STMT(
    "select to_char(e.at at time zone 'Europe/Paris',"
    "  'DD/MM/YYYY HH24:MI:SS'), e.action, e.from_state, e.to_state,"
    "  e.actor, e.channel, e.detail"
    " from events e where e.account_id = $1"
    " and ($2::int is null or e.school_id = $2) order by e.id");

/* The messages sent (or being sent) to the account, newest first: what,
 * to whom, when queued, and where it stands. Never their vars. */
enum {
	MAIL_KIND, MAIL_TO, MAIL_QUEUED, MAIL_SENT, MAIL_FAILED,
	MAIL_ATTEMPTS, MAIL_ERROR,
};
static struct db_stmt show_mails = DB_STMT(
    "select kind, recipient,"
    "  to_char(created_at at time zone 'Europe/Paris', 'DD/MM/YYYY HH24:MI'),"
    "  to_char(sent_at at time zone 'Europe/Paris', 'DD/MM/YYYY HH24:MI'),"
    "  to_char(failed_at at time zone 'Europe/Paris', 'DD/MM/YYYY HH24:MI'),"
    "  attempts, last_error"
    " from outbox where account_id = $1 order by id desc limit 50");

/* The mails of the card. */
static json_t *
show_mail_list(PGresult *mails)
{
	json_t		*list = json_array();
	const char	*status;
	int		 r;

	for (r = 0; r < PQntuples(mails); r++) {
		status = db_get(mails, r, MAIL_SENT) != NULL ? "sent" :
		    db_get(mails, r, MAIL_FAILED) != NULL ? "failed" :
		    "pending";
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s?,"
		    " s:s?, s:s, s:I, s:s?}",
		    "kind", db_get(mails, r, MAIL_KIND),
		    "to", db_get(mails, r, MAIL_TO),
		    "queued", db_get(mails, r, MAIL_QUEUED),
		    "sent", db_get(mails, r, MAIL_SENT),
		    "failed", db_get(mails, r, MAIL_FAILED),
		    "status", status,
		    "attempts", (json_int_t)db_get_int(mails, r, MAIL_ATTEMPTS),
		    "error", db_get(mails, r, MAIL_ERROR)));
	}
	return list;
}

/* The account's card from its row, its password as the scope may see
 * it. */
static json_t *
show_card(PGresult *res)
{
	json_t		*o;
	const char	*state = db_get(res, 0, ACCOUNT_STATE);
	char		*clear;

	o = json_pack("{s:s, s:s, s:s, s:b, s:s?, s:s?, s:s, s:s?, s:b, s:s?,"
	    " s:{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}}",
	    "login", db_get(res, 0, ACCOUNT_LOGIN),
	    "state", state,
	    "state_label", db_get(res, 0, ACCOUNT_STATE_LABEL),
	    "expired", db_get_bool(res, 0, ACCOUNT_EXPIRED),
	    "email", db_get(res, 0, ACCOUNT_EMAIL),
	    "civility", db_get(res, 0, ACCOUNT_CIVILITY),
	    "guardian", db_get(res, 0, ACCOUNT_GUARDIAN),
	    "phone", db_get(res, 0, ACCOUNT_PHONE),
	    "eligible", db_get_bool(res, 0, ACCOUNT_GRANTED),
	    "reason", db_get(res, 0, ACCOUNT_REFUSAL),
	    "dates",
	    "created", db_get(res, 0, ACCOUNT_CREATED),
	    "letter", db_get(res, 0, ACCOUNT_LETTER),
	    "expires", state != NULL && strcmp(state, "notifie") == 0 ?
	    db_get(res, 0, ACCOUNT_EXPIRES) : NULL,
	    "first_login", db_get(res, 0, ACCOUNT_FIRST_LOGIN),
	    "activated", db_get(res, 0, ACCOUNT_ACTIVATED),
	    "last_access", db_get(res, 0, ACCOUNT_LAST_ACCESS));
	/* The password only where the scope may hand it out. */
	if (!db_get_bool(res, 0, ACCOUNT_GRANTED))
		json_object_set_new(o, "password", json_null());
	else if ((clear = account_open_password(db_get_int(res, 0,
	    ACCOUNT_ID), db_get(res, 0, ACCOUNT_PROVISIONAL))) != NULL) {
		json_object_set_new(o, "password", json_string(clear));
		freestr_secret(clear);
	} else
		json_object_set_new(o, "password", db_get_bool(res, 0,
		    ACCOUNT_HAS_PASSWORD) ? json_string("******") :
		    json_null());
	return o;
}

/* The children of the card. */
static json_t *
show_children_list(PGresult *kids)
{
	json_t	*children = json_array();
	int	 r;

	for (r = 0; r < PQntuples(kids); r++)
		json_array_append_new(children, json_pack("{s:s, s:s?, s:s, s:s,"
		    " s:s?, s:b, s:b, s:s?, s:s}",
		    "name", db_get(kids, r, CHILD_NAME),
		    "class", db_get(kids, r, CHILD_CLASS),
		    "school", db_get(kids, r, CHILD_UAI),
		    "school_name", db_get(kids, r, CHILD_SCHOOL_NAME),
		    "relation", db_get(kids, r, CHILD_RELATION),
		    "legal", db_get_bool(kids, r, CHILD_LEGAL),
		    "eligible", db_get(kids, r, CHILD_REASON) == NULL,
		    "reason", db_get(kids, r, CHILD_REASON),
		    "birth_date", db_get(kids, r, CHILD_BIRTH_DATE)));
	return children;
}

/* The history of the card into o, and the letters issued among it. */
static void
show_history(json_t *o, PGresult *evs)
{
	json_t		*events = json_array(), *letters = json_array();
	const char	*action;
	int		 r;

	for (r = 0; r < PQntuples(evs); r++) {
		action = db_get(evs, r, EVENT_ACTION);
		json_array_append_new(events, json_pack("{s:s, s:s, s:s, s:s?,"
		    " s:s?, s:s, s:s, s:s?}",
		    "at", db_get(evs, r, EVENT_AT), "action", action,
		    "label", action_label(action),
		    "from", db_get(evs, r, EVENT_FROM),
		    "to", db_get(evs, r, EVENT_TO),
		    "actor", db_get(evs, r, EVENT_ACTOR),
		    "channel", db_get(evs, r, EVENT_CHANNEL),
		    "detail", db_get(evs, r, EVENT_DETAIL)));
		if (strcmp(action, "notify_paper") == 0 ||
		    strcmp(action, "reset") == 0 ||
		    strcmp(action, "reminder_paper") == 0 ||
		    strcmp(action, "notify_email") == 0 ||
		    strcmp(action, "reminder_email") == 0)
			json_array_append_new(letters, json_pack("{s:s, s:s,"
			    " s:s}", "at", db_get(evs, r, EVENT_AT), "kind",
			    action_label(action), "by", db_get(evs, r,
			    EVENT_ACTOR)));
	}
	json_object_set_new(o, "letters", letters);
	json_object_set_new(o, "events", events);
}

void
op_show(struct worker *w, struct request *req)
{
	const char	*login, *v[2];
	PGresult	*res, *kids = NULL, *evs = NULL, *mails = NULL;
	char		 school[16];
	int		 academy = req->scope.school_id == 0;

	if ((login = req_arg_str(req, "login", 1)) == NULL)
		return;
	snprintf(school, sizeof school, "%d", req->scope.school_id);
	v[0] = login;
	v[1] = academy ? NULL : school;
	if ((res = db_query(w->db, &show_account, 2, v)) == NULL) {
		req_db_error(req, w->db);
		return;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		req_error(req, E_NOT_FOUND, "Identifiant inconnu : %s.", login);
		return;
	}
	if (!db_get_bool(res, 0, ACCOUNT_IN_SCOPE)) {
		PQclear(res);
		req_error(req, E_FORBIDDEN, "Le compte %s n'a pas d'enfant dans "
		    "votre école.", login);
		return;
	}
	v[0] = db_get(res, 0, ACCOUNT_ID);
	if ((kids = db_query(w->db, &show_children, 2, v)) == NULL ||
	    (evs = db_query(w->db, &show_events, 2, v)) == NULL ||
	    (mails = db_queryv(w->db, &show_mails, v[0])) == NULL) {
		req_db_error(req, w->db);
		goto out;
	}
	req->result = show_card(res);
	json_object_set_new(req->result, "children", show_children_list(kids));
	show_history(req->result, evs);
	json_object_set_new(req->result, "mails", show_mail_list(mails));
out:
	PQclear(mails);
	PQclear(res);
	PQclear(kids);
	PQclear(evs);
}
