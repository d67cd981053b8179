/* stats: how far the accounts of one school have come, state by state. */
#include <stdio.h>

#include "db.h"
#include "server.h"

void
op_stats(struct worker *w, struct request *req)
{
	/* An account counts in every school where its guardian has a
	 * child: both directors follow it. */
	static struct db_stmt	 stmt = DB_STMT(
	    "select st.code, st.label, count(distinct a.id)"
	    " from account_states st"
	    " left join (accounts a"
	    "  join links l on l.guardian_id = a.guardian_id"
	    "  join pupils p on p.id = l.pupil_id and p.school_id = $1)"
	    " on a.state = st.code"
	    " group by st.code, st.label, st.rank order by st.rank");
	PGresult		*res;
	json_t			*o, *states;
	json_int_t		 total = 0, n;
	char			 school[16];
	int			 i;

	snprintf(school, sizeof school, "%d", req->scope.school_id);
	if ((res = db_queryv(w->db, &stmt, school)) == NULL) {
		req_db_error(req, w->db);
		return;
	}
	o = json_pack("{s:s, s:s?}", "school", req->scope.uai, "school_name",
	    req->scope.school_name);
	states = json_array();
	for (i = 0; i < PQntuples(res); i++) {
		n = (json_int_t)db_get_int(res, i, 2);
		json_object_set_new(o, db_get(res, i, 0), json_integer(n));
		json_array_append_new(states, json_pack("{s:s, s:s, s:I}",
		    "code", db_get(res, i, 0), "label", db_get(res, i, 1),
		    "count", n));
		total += n;
	}
	PQclear(res);
	json_object_set_new(o, "total", json_integer(total));
	json_object_set_new(o, "states", states);
	req->result = o;
}
