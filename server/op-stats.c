/*
 * stats ("État des comptes"): how far the accounts of one school have
 * come. Counts per state for the school, per class and per level; the
 * share of guardians activated and of pupils with at least one activated
 * guardian; the letters whose password expires within 15 days. An account
 * counts in every school (class, level) where its guardian has a child:
 * both directors follow it.
 */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "server.h"
#include "state.h"

enum { SCHOOL_CODE, SCHOOL_LABEL, SCHOOL_COUNT };
static struct db_stmt stats_school = DB_STMT(
    "select st.code, st.label, count(distinct a.id)"
    " from account_states st"
    " left join (accounts a"
    "  join links l on l.guardian_id = a.guardian_id"
    "  join pupils p on p.id = l.pupil_id and p.school_id = $1)"
    " on a.state = st.code"
    " group by st.code, st.label, st.rank order by st.rank");

/* Per class ($2 = 'class') or per level ($2 = 'level'). */
enum { GROUP_NAME, GROUP_STATE, GROUP_COUNT, GROUP_RANK };
static struct db_stmt stats_groups = DB_STMT(
    "select case when $2 = 'class' then c.name else p.level end, a.state,"
    "  count(distinct a.id),"
    "  min(case when $2 = 'class' then c.rank else level_rank(p.level) end)"
    " from pupils p left join classes c on c.id = p.class_id"
    " join links l on l.pupil_id = p.id"
    " join accounts a on a.guardian_id = l.guardian_id"
    " where p.school_id = $1"
    " group by 1, 2 order by 4 nulls last, 1 nulls last");

enum { PUPILS_TOTAL, PUPILS_ACTIVATED };
static struct db_stmt stats_pupils = DB_STMT(
    "select count(*), count(*) filter (where exists ("
    "  select 1 from links l join accounts a on a.guardian_id = l.guardian_id"
    "  where l.pupil_id = p.id and a.state = 'active'))"
    " from pupils p where p.school_id = $1");

enum { EXPIRING_LOGIN, EXPIRING_GUARDIAN, EXPIRING_DATE };
static struct db_stmt stats_expiring = DB_STMT(
    "select a.login, g.last_name || ' ' || g.first_name,"
    "  to_char(letter_expires_at(a.letter_at) at time zone"
    "   'Europe/Paris', 'DD/MM/YYYY')"
    " from accounts a join guardians g on g.id = a.guardian_id"
    " where a.state = 'notifie'"
    " and letter_expires_at(a.letter_at) between now()"
    "  and now() + interval '15 days'"
    " and exists (select 1 from links l join pupils p on p.id = l.pupil_id"
    "  where l.guardian_id = a.guardian_id and p.school_id = $1)"
    " order by a.letter_at, a.login");

/* Groups ({name, states: {code: n}, total}) from rows (name, state, n). */
static json_t *
stats_group_list(PGresult *res)
{
	json_t		*list = json_array(), *g = NULL, *states = NULL;
	const char	*name, *prev = NULL;
	json_int_t	 total = 0;
	int		 r, i;

	for (r = 0; r < PQntuples(res); r++) {
		name = db_get(res, r, GROUP_NAME) != NULL ?
		    db_get(res, r, GROUP_NAME) : "";
		if (g == NULL || strcmp(prev, name) != 0) {
			if (g != NULL)
				json_object_set_new(g, "total",
				    json_integer(total));
			states = json_object();
			for (i = 0; i < STATE__STORED; i++)
				json_object_set_new(states, state_info(i)->code,
				    json_integer(0));
			g = json_pack("{s:s, s:o}", "name", name, "states",
			    states);
			json_array_append_new(list, g);
			total = 0;
		}
		prev = name;
		json_object_set_new(states, db_get(res, r, GROUP_STATE),
		    json_integer(db_get_int(res, r, GROUP_COUNT)));
		total += db_get_int(res, r, GROUP_COUNT);
	}
	if (g != NULL)
		json_object_set_new(g, "total", json_integer(total));
	return list;
}

/* How many pupils have at least one activated guardian. */
static json_t *
stats_pupil_share(PGresult *pupils)
{
	json_int_t	total = (json_int_t)db_get_int(pupils, 0, PUPILS_TOTAL);
	json_int_t	activated = (json_int_t)db_get_int(pupils, 0,
			    PUPILS_ACTIVATED);

	return json_pack("{s:I, s:I, s:f}", "total", total, "with_activated",
	    activated, "share", total > 0 ? (double)activated /
	    (double)total : 0.0);
}

void
op_stats(struct worker *w, struct request *req)
{
	PGresult	*res = NULL, *classes = NULL, *levels = NULL;
	PGresult	*pupils = NULL, *expiring = NULL;
	json_t		*o, *states, *exp;
	json_int_t	 total = 0, n, active = 0, live;
	char		 school[16];
	int		 i;

	snprintf(school, sizeof school, "%d", req->scope.school_id);
	if ((res = db_queryv(w->db, &stats_school, school)) == NULL ||
	    (classes = db_queryv(w->db, &stats_groups, school, "class")) ==
	    NULL ||
	    (levels = db_queryv(w->db, &stats_groups, school, "level")) ==
	    NULL ||
	    (pupils = db_queryv(w->db, &stats_pupils, school)) == NULL ||
	    (expiring = db_queryv(w->db, &stats_expiring, school)) == NULL) {
		req_db_error(req, w->db);
		goto out;
	}
	o = json_pack("{s:s, s:s?}", "school", req->scope.uai, "school_name",
	    req->scope.school_name);
	states = json_array();
	for (i = 0; i < PQntuples(res); i++) {
		n = (json_int_t)db_get_int(res, i, SCHOOL_COUNT);
		json_object_set_new(o, db_get(res, i, SCHOOL_CODE),
		    json_integer(n));
		json_array_append_new(states, json_pack("{s:s, s:s, s:I}",
		    "code", db_get(res, i, SCHOOL_CODE), "label",
		    db_get(res, i, SCHOOL_LABEL), "count", n));
		total += n;
		if (strcmp(db_get(res, i, SCHOOL_CODE), "active") == 0)
			active = n;
	}
	/* Shares of the accounts that can be used (not deactivated). */
	live = total - json_integer_value(json_object_get(o, "desactive"));
	json_object_set_new(o, "total", json_integer(total));
	json_object_set_new(o, "states", states);
	json_object_set_new(o, "classes", stats_group_list(classes));
	json_object_set_new(o, "levels", stats_group_list(levels));
	json_object_set_new(o, "guardians", json_pack("{s:I, s:I, s:f}",
	    "accounts", live, "activated", active, "share", live > 0 ?
	    (double)active / (double)live : 0.0));
	json_object_set_new(o, "pupils", stats_pupil_share(pupils));
	exp = json_array();
	for (i = 0; i < PQntuples(expiring); i++)
		json_array_append_new(exp, json_pack("{s:s, s:s, s:s}",
		    "login", db_get(expiring, i, EXPIRING_LOGIN), "guardian",
		    db_get(expiring, i, EXPIRING_GUARDIAN), "expires",
		    db_get(expiring, i, EXPIRING_DATE)));
	json_object_set_new(o, "expiring", exp);
	json_object_set_new(o, "expiring_15_days",
	    json_integer((json_int_t)json_array_size(exp)));
	req->result = o;
out:
	PQclear(res);
	PQclear(classes);
	PQclear(levels);
	PQclear(pupils);
	PQclear(expiring);
}
