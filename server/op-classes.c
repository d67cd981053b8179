/* classes: the classes of one school, with their levels and counts. */
#include <stdio.h>

#include "db.h"
#include "server.h"

void
op_classes(struct worker *w, struct request *req)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "select c.name,"
	    " string_agg(distinct p.level, '-' order by p.level),"
	    " count(distinct p.id),"
	    " count(distinct l.guardian_id),"
	    " count(distinct a.id) filter (where a.state = 'active')"
	    " from classes c"
	    " left join pupils p on p.class_id = c.id"
	    " left join links l on l.pupil_id = p.id"
	    " left join accounts a on a.guardian_id = l.guardian_id"
	    " where c.school_id = $1"
	    " group by c.id, c.name order by c.rank nulls last, c.name");
	enum { CLASS_NAME, CLASS_LEVELS, CLASS_PUPILS, CLASS_GUARDIANS,
	    CLASS_ACTIVATED };
	PGresult		*res;
	json_t			*classes;
	char			 school[16];
	int			 i;

	snprintf(school, sizeof school, "%d", req->scope.school_id);
	if ((res = db_queryv(w->db, &stmt, school)) == NULL) {
		req_db_error(req, w->db);
		return;
	}
	classes = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(classes, json_pack(
		    "{s:s, s:s?, s:I, s:I, s:I}",
		    "name", db_get(res, i, CLASS_NAME),
		    "levels", db_get(res, i, CLASS_LEVELS),
		    "pupils", (json_int_t)db_get_int(res, i, CLASS_PUPILS),
		    "guardians", (json_int_t)db_get_int(res, i,
		    CLASS_GUARDIANS),
		    "activated", (json_int_t)db_get_int(res, i,
		    CLASS_ACTIVATED)));
	PQclear(res);
	req->result = json_pack("{s:s, s:s?, s:o}", "school", req->scope.uai,
	    "school_name", req->scope.school_name, "classes", classes);
}
