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
static struct db_stmt show_events = DB_STMT(
    "select to_char(e.at at time zone 'Europe/Paris',"
    "  'DD/MM/YYYY HH24:MI:SS'), e.action, e.from_state, e.to_state,"
    "  e.actor, e.channel, e.detail"
    " from events e where e.account_id = $1"
    " and ($2::int is null or e.school_id = $2) order by e.id");

void
op_show(struct worker *w, struct request *req)
{
	const char	*login, *v[2];
	PGresult	*res, *kids = NULL, *evs = NULL;
	json_t		*o, *children, *events, *letters;
	char		 school[16], *clear;
	int64_t		 id;
	int		 r, academy = req->scope.school_id == 0;

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
	if (!db_get_bool(res, 0, 19)) {
		PQclear(res);
		req_error(req, E_FORBIDDEN, "Le compte %s n'a pas d'enfant dans "
		    "votre école.", login);
		return;
	}
	id = db_get_int(res, 0, 0);
	v[0] = db_get(res, 0, 0);
	if ((kids = db_query(w->db, &show_children, 2, v)) == NULL ||
	    (evs = db_query(w->db, &show_events, 2, v)) == NULL) {
		req_db_error(req, w->db);
		goto out;
	}

	o = json_pack("{s:s, s:s, s:s, s:b, s:s?, s:s?, s:s, s:s?, s:b, s:s?,"
	    " s:{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}}",
	    "login", db_get(res, 0, 1), "state", db_get(res, 0, 2),
	    "state_label", db_get(res, 0, 3), "expired", db_get_bool(res, 0, 4),
	    "email", db_get(res, 0, 7), "civility", db_get(res, 0, 8),
	    "guardian", db_get(res, 0, 9), "phone", db_get(res, 0, 10),
	    "eligible", db_get_bool(res, 0, 11), "reason", db_get(res, 0, 12),
	    "dates", "created", db_get(res, 0, 13), "letter", db_get(res, 0, 14),
	    "expires", db_get(res, 0, 2) != NULL &&
	    strcmp(db_get(res, 0, 2), "notifie") == 0 ? db_get(res, 0, 15) :
	    NULL, "first_login", db_get(res, 0, 16), "activated",
	    db_get(res, 0, 17), "last_access", db_get(res, 0, 18));
	/* The password only where the scope may hand it out. */
	if (!db_get_bool(res, 0, 11))
		json_object_set_new(o, "password", json_null());
	else if ((clear = account_open_password(id, db_get(res, 0, 5))) !=
	    NULL) {
		json_object_set_new(o, "password", json_string(clear));
		freestr_secret(clear);
	} else
		json_object_set_new(o, "password", db_get_bool(res, 0, 6) ?
		    json_string("******") : json_null());

	children = json_array();
	for (r = 0; r < PQntuples(kids); r++)
		json_array_append_new(children, json_pack("{s:s, s:s?, s:s, s:s,"
		    " s:s?, s:b, s:b, s:s?, s:s}",
		    "name", db_get(kids, r, 0), "class", db_get(kids, r, 1),
		    "school", db_get(kids, r, 2), "school_name",
		    db_get(kids, r, 3), "relation", db_get(kids, r, 4),
		    "legal", db_get_bool(kids, r, 5), "eligible",
		    db_get(kids, r, 6) == NULL, "reason", db_get(kids, r, 6),
		    "birth_date", db_get(kids, r, 7)));
	events = json_array();
	letters = json_array();
	for (r = 0; r < PQntuples(evs); r++) {
		const char *action = db_get(evs, r, 1);

		json_array_append_new(events, json_pack("{s:s, s:s, s:s, s:s?,"
		    " s:s?, s:s, s:s, s:s?}",
		    "at", db_get(evs, r, 0), "action", action, "label",
		    action_label(action), "from", db_get(evs, r, 2), "to",
		    db_get(evs, r, 3), "actor", db_get(evs, r, 4), "channel",
		    db_get(evs, r, 5), "detail", db_get(evs, r, 6)));
		if (strcmp(action, "notify_paper") == 0 ||
		    strcmp(action, "reset") == 0 ||
		    strcmp(action, "reminder_paper") == 0)
			json_array_append_new(letters, json_pack("{s:s, s:s,"
			    " s:s}", "at", db_get(evs, r, 0), "kind",
			    action_label(action), "by", db_get(evs, r, 4)));
	}
	json_object_set_new(o, "children", children);
	json_object_set_new(o, "letters", letters);
	json_object_set_new(o, "events", events);
	req->result = o;
out:
	PQclear(res);
	PQclear(kids);
	PQclear(evs);
}
