/*
 * journal: what was done in a school, newest first: each account event
 * with the login it concerns, documents issued, imports.
 */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "server.h"
#include "valid.h"

#define JOURNAL_MAX	2000

void
op_journal(struct worker *w, struct request *req)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "select to_char(e.at at time zone 'Europe/Paris',"
	    "  'DD/MM/YYYY HH24:MI:SS'), e.action, a.login,"
	    "  g.last_name || ' ' || g.first_name, e.from_state, e.to_state,"
	    "  e.actor, e.channel, e.detail"
	    " from events e"
	    " left join accounts a on a.id = e.account_id"
	    " left join guardians g on g.id = a.guardian_id"
	    " where e.school_id = $1"
	    " and ($2::date is null or e.at >= ($2::date::timestamp"
	    "  at time zone 'Europe/Paris'))"
	    " order by e.id desc limit $3");
	enum { EVENT_AT, EVENT_ACTION, EVENT_LOGIN, EVENT_GUARDIAN,
	    EVENT_FROM, EVENT_TO, EVENT_ACTOR, EVENT_CHANNEL, EVENT_DETAIL };
	const char		*since, *v[3], *cause;
	char			 school[16], limit[16], iso[16];
	json_int_t		 max;
	PGresult		*res;
	json_t			*list;
	int			 y, m, d, r;

	since = req_arg_str(req, "since", 0);
	max = req_arg_int(req, "limit", 500);
	if (req->error != -1)
		return;
	if (since != NULL) {
		if (valid_date(since, &y, &m, &d, &cause) == -1) {
			req_error(req, E_INVALID, "Date de début : %s (JJ/MM/AAAA"
			    ").", cause);
			return;
		}
		snprintf(iso, sizeof iso, "%04d-%02d-%02d", y, m, d);
	}
	if (max < 1) {
		req_error(req, E_INVALID, "Nombre d'événements invalide : "
		    "%lld (au moins 1).", (long long)max);
		return;
	}
	if (max > JOURNAL_MAX)
		max = JOURNAL_MAX;
	snprintf(school, sizeof school, "%d", req->scope.school_id);
	snprintf(limit, sizeof limit, "%lld", (long long)max);
	v[0] = school;
	v[1] = since != NULL ? iso : NULL;
	v[2] = limit;
	if ((res = db_query(w->db, &stmt, 3, v)) == NULL) {
		req_db_error(req, w->db);
		return;
	}
	list = json_array();
	for (r = 0; r < PQntuples(res); r++)
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s?,"
		    " s:s?, s:s?, s:s?, s:s, s:s, s:s?}",
		    "at", db_get(res, r, EVENT_AT),
		    "action", db_get(res, r, EVENT_ACTION),
		    "label", action_label(db_get(res, r, EVENT_ACTION)),
		    "login", db_get(res, r, EVENT_LOGIN),
		    "guardian", db_get(res, r, EVENT_GUARDIAN),
		    "from", db_get(res, r, EVENT_FROM),
		    "to", db_get(res, r, EVENT_TO),
		    "actor", db_get(res, r, EVENT_ACTOR),
		    "channel", db_get(res, r, EVENT_CHANNEL),
		    "detail", db_get(res, r, EVENT_DETAIL)));
	PQclear(res);
	req->result = json_pack("{s:s, s:o}", "school", req->scope.uai,
	    "events", list);
}
