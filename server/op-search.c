/*
 * search: the rows of the Responsables tab. One row per pupil-guardian link
 * of the scope (a pupil without any guardian on file has one row of its
 * own), with the pupil, the guardian, the account and why the link cannot
 * carry an account when it cannot. A director searches one school; the
 * helpdesk may search the whole academy, then rows are capped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "buf.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "server.h"
#include "state.h"
#include "utf8.h"
#include "xmalloc.h"

/* The columns of a search statement (search_stmt()). */
enum {
	SEARCH_UAI, SEARCH_PUPIL_ID, SEARCH_PUPIL_LAST, SEARCH_PUPIL_FIRST,
	SEARCH_CLASS, SEARCH_INE, SEARCH_LEVEL, SEARCH_GUARDIAN_ID,
	SEARCH_CIVILITY, SEARCH_GUARDIAN_LAST, SEARCH_GUARDIAN_FIRST,
	SEARCH_LEGAL, SEARCH_RELATION, SEARCH_LOGIN, SEARCH_STATE,
	SEARCH_PROVISIONAL, SEARCH_HAS_PASSWORD, SEARCH_EMAIL, SEARCH_REASON,
	SEARCH_EXPIRED, SEARCH_ACCOUNT, SEARCH_MAIL_FAILED, SEARCH_GRANTED,
};

/* Rows an academy-wide search returns at most. */
#define SEARCH_ACADEMY_LIMIT	200

/*
 * The password column: the provisional password in clear while the
 * guardian has not chosen one (the director reprints it), "******" once
 * they have, nothing before notification. Nothing either on the row of a
 * guardian who has no link that can carry an account in the school
 * searched (credential_links): their credentials are not this school's
 * to hand out, whatever their children elsewhere.
 */
static void
search_password(json_t *row, PGresult *res, int r)
{
	unsigned char	*sealed;
	char		*clear;
	size_t		 len;

	if (!db_get_bool(res, r, SEARCH_GRANTED))
		return;
	if (db_get(res, r, SEARCH_PROVISIONAL) != NULL) {
		sealed = crypto_bytea_parse(db_get(res, r, SEARCH_PROVISIONAL),
		    &len);
		clear = sealed != NULL ? crypto_open(db_get_int(res, r,
		    SEARCH_ACCOUNT), sealed, len) : NULL;
		free(sealed);
		if (clear == NULL) {
			log_warnx("provisional password of account %s does "
			    "not decrypt", db_get(res, r, SEARCH_ACCOUNT));
			return;
		}
		json_object_set_new(row, "password", json_string(clear));
		freestr_secret(clear);
	} else if (db_get_bool(res, r, SEARCH_HAS_PASSWORD))
		json_object_set_new(row, "password", json_string("******"));
}

/*
 * The statement of one combination of filters. Each combination is its own
 * prepared statement with only its predicates, rather than one statement
 * of "$n is null or ..." clauses: PostgreSQL then keeps one generic plan
 * per combination instead of planning every search again, which cost more
 * than running it.
 */
enum {
	FILTER_SCHOOL = 1,	/* else the academy */
	FILTER_CLASSES = 2,
	FILTER_STATE = 4,
	FILTER_QUERY = 8,
	FILTER_EMAIL = 16,
	FILTER__VARIANTS = 32,
};

/* int4, text[], text, text, bool, int4 (pg_type OIDs). */
static const Oid search_types[6] = { 23, 1009, 25, 25, 16, 23 };

static struct db_stmt *
search_stmt(unsigned mask)
{
	static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
	static struct db_stmt	 stmts[FILTER__VARIANTS];
	struct buf		 sql;

	pthread_mutex_lock(&lock);
	if (stmts[mask].sql == NULL) {
		buf_init(&sql);
		/* Fewer joins, less planning: the school's UAI comes from the
		 * scope and the state's label from state_label(). */
		buf_add_str(&sql, mask & FILTER_SCHOOL ? "select null::text," :
		    "select sc.uai,");
		buf_add_str(&sql,
		    "  p.onde_id, p.last_name, p.first_name,"
		    "  c.name, p.ine, p.level, g.onde_id, g.civility,"
		    "  g.last_name, g.first_name, l.legal, l.relation,"
		    "  a.login, a.state,"
		    "  a.provisional, a.password_hash is not null,"
		    "  coalesce(a.email, g.email),"
		    "  eligibility_reason(p.status, p.ine, p.class_id, l.legal),"
		    "  letter_expired(a.state, a.letter_at),"
		    "  a.id, a.mail_failed_at is not null,");
		/* Whether the password may be shown: in the school searched,
		 * or academy-wide in any. Asked only of rows that have one
		 * (the conjunction stops at its first false), so a search of
		 * accounts never notified pays nothing for it. */
		buf_add_str(&sql,
		    "  (a.provisional is not null or a.password_hash is not"
		    "   null) and exists (select 1 from credential_links cl"
		    "   where cl.guardian_id = g.id");
		buf_add_str(&sql, mask & FILTER_SCHOOL ?
		    " and cl.school_id = $1::int) from pupils p" :
		    ") from pupils p");
		if (!(mask & FILTER_SCHOOL))
			buf_add_str(&sql, " join schools sc on sc.id ="
			    " p.school_id");
		buf_add_str(&sql,
		    " left join classes c on c.id = p.class_id"
		    " left join links l on l.pupil_id = p.id"
		    " left join guardians g on g.id = l.guardian_id"
		    " left join accounts a on a.guardian_id = g.id"
		    " where true");
		/* Parameters keep their numbers whatever the combination.
		 * In a school, classes are found by their index on (school,
		 * name), then their pupils by theirs: not every pupil of the
		 * school (the classes are the school's, so that is the
		 * scope). */
		if ((mask & FILTER_SCHOOL) && (mask & FILTER_CLASSES))
			buf_add_str(&sql, " and p.class_id in (select c2.id"
			    " from classes c2 where c2.school_id = $1::int"
			    " and c2.name = any ($2::text[]))");
		else if (mask & FILTER_SCHOOL)
			buf_add_str(&sql, " and p.school_id = $1::int");
		else if (mask & FILTER_CLASSES)
			buf_add_str(&sql, " and c.name = any ($2::text[])");
		if (mask & FILTER_STATE)
			buf_add_str(&sql, " and a.state = $3::text");
		if (mask & FILTER_QUERY)
			buf_add_str(&sql, " and position(ecadm_fold($4::text) in"
			    " ecadm_fold(concat_ws(' ', p.last_name,"
			    " p.first_name, g.last_name, g.first_name, a.login,"
			    " p.ine))) > 0");
		if (mask & FILTER_EMAIL)
			buf_add_str(&sql, " and (coalesce(a.email, g.email)"
			    " is not null) = $5::boolean");
		buf_add_str(&sql,
		    " order by c.rank nulls last, c.name nulls last,"
		    "  p.name_key, p.onde_id, g.name_key, g.onde_id"
		    " limit $6::int");
		stmts[mask].sql = buf_cstr(&sql);	/* kept for good */
		stmts[mask].ntypes = 6;
		stmts[mask].types = search_types;
	}
	pthread_mutex_unlock(&lock);
	return &stmts[mask];
}

/* The filters of a search, as the client sent them. */
struct search_args {
	json_t		*classes;
	const char	*state;
	const char	*query;		/* NULL if empty */
	const char	*email;		/* "avec", "sans" or NULL */
	int		 academy;
};

/* Read and check the filters; -1 with the error set. */
static int
search_parse(struct request *req, struct search_args *a)
{
	a->academy = req->scope.school_id == 0;
	a->classes = req_arg_strings(req, "classes");
	a->state = req_arg_str(req, "state", 0);
	a->query = req_arg_str(req, "query", 0);
	a->email = req_arg_str(req, "email", 0);
	if (req->error != -1)
		return -1;
	if (a->state != NULL) {
		/* A stored state: "expire" is only shown. */
		if ((unsigned)state_lookup(a->state) >= STATE__STORED) {
			req_error(req, E_INVALID, "État inconnu : %s.",
			    a->state);
			return -1;
		}
	}
	if (a->email != NULL && strcmp(a->email, "avec") != 0 &&
	    strcmp(a->email, "sans") != 0) {
		req_error(req, E_INVALID, "Filtre de courriel : « avec » ou "
		    "« sans ».");
		return -1;
	}
	/* Three characters, not bytes: "Zoé" is enough. */
	if (a->academy && (a->query == NULL || utf8_chars(a->query) < 3)) {
		req_error(req, E_INVALID, "Recherche dans l'académie : "
		    "saisissez au moins 3 caractères (nom, identifiant, INE).");
		return -1;
	}
	if (a->query != NULL && a->query[0] == '\0')
		a->query = NULL;
	return 0;
}

/* Run the statement of the filters given; NULL with the error set. */
static PGresult *
search_run(struct worker *w, struct request *req,
    const struct search_args *a)
{
	PGresult	*res;
	const char	*v[6];
	char		 school[16], limit[16], *list = NULL;

	if (a->classes != NULL)
		list = sql_text_array(a->classes);
	snprintf(school, sizeof school, "%d", req->scope.school_id);
	snprintf(limit, sizeof limit, "%d", a->academy ?
	    SEARCH_ACADEMY_LIMIT + 1 : 1000000);
	v[0] = a->academy ? NULL : school;
	v[1] = list;
	v[2] = a->state;
	v[3] = a->query;
	v[4] = a->email == NULL ? NULL : strcmp(a->email, "avec") == 0 ?
	    "t" : "f";
	v[5] = limit;
	/* The unused parameters are sent as nulls the statement ignores. */
	res = db_query(w->db, search_stmt((a->academy ? 0 : FILTER_SCHOOL) |
	    (v[1] != NULL ? FILTER_CLASSES : 0) | (a->state != NULL ?
	    FILTER_STATE : 0) | (a->query != NULL ? FILTER_QUERY : 0) |
	    (a->email != NULL ? FILTER_EMAIL : 0)), 6, v);
	free(list);
	if (res == NULL)
		req_db_error(req, w->db);
	return res;
}

/*
 * A value of a row. ecadmd's connections ask for UTF-8 (client_encoding,
 * server_db_defaults()), and PostgreSQL sends only valid text in it, so
 * the check json_string() would make again on every cell of every search
 * is skipped.
 */
static json_t *
search_text(const char *v)
{
	return v != NULL ? json_string_nocheck(v) : json_null();
}

static void
search_set(json_t *row, const char *key, json_t *value)
{
	json_object_set_new_nocheck(row, key, value);
}

/* Row r of the result as the client shows it. */
static json_t *
search_row(struct request *req, PGresult *res, int r, int academy)
{
	json_t	*row;
	char	*pupil, *guardian = NULL;

	pupil = person_name(db_get(res, r, SEARCH_PUPIL_LAST),
	    db_get(res, r, SEARCH_PUPIL_FIRST));
	if (db_get(res, r, SEARCH_GUARDIAN_ID) != NULL)
		guardian = person_name(db_get(res, r, SEARCH_GUARDIAN_LAST),
		    db_get(res, r, SEARCH_GUARDIAN_FIRST));
	row = json_object();
	search_set(row, "school", search_text(academy ?
	    db_get(res, r, SEARCH_UAI) : req->scope.uai));
	search_set(row, "pupil", search_text(pupil));
	search_set(row, "pupil_id", search_text(db_get(res, r,
	    SEARCH_PUPIL_ID)));
	search_set(row, "class", search_text(db_get(res, r, SEARCH_CLASS)));
	search_set(row, "ine", search_text(db_get(res, r, SEARCH_INE)));
	search_set(row, "level", search_text(db_get(res, r, SEARCH_LEVEL)));
	search_set(row, "guardian", search_text(guardian));
	search_set(row, "guardian_id", search_text(db_get(res, r,
	    SEARCH_GUARDIAN_ID)));
	search_set(row, "civility", search_text(db_get(res, r,
	    SEARCH_CIVILITY)));
	search_set(row, "legal", db_get(res, r, SEARCH_LEGAL) == NULL ?
	    json_null() : json_boolean(db_get_bool(res, r, SEARCH_LEGAL)));
	search_set(row, "relation", search_text(db_get(res, r,
	    SEARCH_RELATION)));
	search_set(row, "login", search_text(db_get(res, r, SEARCH_LOGIN)));
	search_set(row, "state", search_text(db_get(res, r, SEARCH_STATE)));
	search_set(row, "state_label", search_text(state_label(db_get(res, r,
	    SEARCH_STATE))));
	search_set(row, "password", json_null());
	search_set(row, "email", search_text(db_get(res, r, SEARCH_EMAIL)));
	search_set(row, "eligible", json_boolean(db_get(res, r,
	    SEARCH_REASON) == NULL));
	search_set(row, "reason", search_text(db_get(res, r, SEARCH_REASON)));
	search_set(row, "expired", json_boolean(db_get_bool(res, r,
	    SEARCH_EXPIRED)));
	/* A message to the guardian was given up (mailer.c). */
	search_set(row, "mail_failed", json_boolean(db_get_bool(res, r,
	    SEARCH_MAIL_FAILED)));
	search_password(row, res, r);
	free(pupil);
	free(guardian);
	return row;
}

void
op_search(struct worker *w, struct request *req)
{
	struct search_args	 a;
	json_t			*rows;
	PGresult		*res;
	int			 r;

	memset(&a, 0, sizeof a);
	if (search_parse(req, &a) == -1 ||
	    (res = search_run(w, req, &a)) == NULL)
		goto out;
	rows = json_array();
	for (r = 0; r < PQntuples(res); r++) {
		if (a.academy && r == SEARCH_ACADEMY_LIMIT)
			break;
		json_array_append_new(rows, search_row(req, res, r,
		    a.academy));
	}
	req->result = json_pack("{s:s?, s:o, s:b}", "school",
	    a.academy ? NULL : req->scope.uai, "rows", rows, "truncated",
	    a.academy && PQntuples(res) > SEARCH_ACADEMY_LIMIT);
	PQclear(res);
out:
	json_decref(a.classes);
}
