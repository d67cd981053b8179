/* Documents: dates, letters rendered in a batch, their record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "db.h"
#include "document.h"
#include "pdf.h"
#include "proto.h"
#include "server.h"
#include "xmalloc.h"

int
doc_stamp(struct db *db, struct doc_stamp *st)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "with t as (select now() at time zone 'Europe/Paris' as t)"
	    " select extract(year from t)::int, extract(month from t)::int,"
	    "  extract(day from t)::int,"
	    "  to_char(letter_expires_at(t), 'DD/MM/YYYY'),"
	    "  to_char(t, 'YYYYMMDDHH24MISS') from t");
	enum { STAMP_YEAR, STAMP_MONTH, STAMP_DAY, STAMP_EXPIRES,
	    STAMP_COMPACT };
	PGresult		*res;

	if ((res = db_query(db, &stmt, 0, NULL)) == NULL)
		return -1;
	pdf_french_date((int)db_get_int(res, 0, STAMP_YEAR),
	    (int)db_get_int(res, 0, STAMP_MONTH),
	    (int)db_get_int(res, 0, STAMP_DAY), st->date, sizeof st->date);
	snprintf(st->expires, sizeof st->expires, "%s", db_get(res, 0,
	    STAMP_EXPIRES));
	snprintf(st->compact, sizeof st->compact, "%s", db_get(res, 0,
	    STAMP_COMPACT));
	PQclear(res);
	return 0;
}

int
doc_letters_pdf(const struct doc_letter *letters, size_t n,
    const struct doc_stamp *st, struct buf *out, char **cause)
{
	struct letter_child	*kids = NULL;
	struct letter		 l;
	struct pdf		*pdf;
	json_t			*child;
	size_t			 i, j, nkids;
	int			 r;

	if ((pdf = pdf_new("Notification des comptes", cause)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		nkids = json_array_size(letters[i].children);
		kids = xreallocarray(kids, nkids > 0 ? nkids : 1, sizeof *kids);
		json_array_foreach(letters[i].children, j, child) {
			kids[j].name = json_string_value(json_object_get(child,
			    "name"));
			kids[j].class_name = json_string_value(json_object_get(
			    child, "class"));
		}
		memset(&l, 0, sizeof l);
		l.school_name = letters[i].school_name;
		l.school_uai = letters[i].school_uai;
		l.town = letters[i].town;
		l.civility = letters[i].civility;
		l.guardian = letters[i].guardian;
		l.login = letters[i].login;
		l.password = letters[i].password;
		l.expires = st->expires;
		l.children = kids;
		l.nchildren = nkids;
		l.guichet_url = server_cfg.guichet_url;
		l.activation_days = server_cfg.activation_days;
		l.date = st->date;
		pdf_letter(pdf, &l);
	}
	free(kids);
	r = pdf_finish(pdf, out, cause);
	pdf_free(pdf);
	return r;
}

void
doc_letter_clear(struct doc_letter *l)
{
	free(l->login);
	free(l->civility);
	free(l->guardian);
	freestr_secret(l->password);
	json_decref(l->children);
	free(l->school_name);
	free(l->school_uai);
	free(l->town);
	memset(l, 0, sizeof *l);
}

int
doc_record(struct db *db, struct request *req, const char *kind,
    const char *format, int pages, const int64_t *ids, size_t n,
    const struct buf *content)
{
	static struct db_stmt	 doc = DB_STMT(
	    "insert into documents (kind, format, school_id, staff_id, pages,"
	    " accounts, sha256) values ($1, $2, nullif($3, '0')::int, $4,"
	    " $5, $6::bigint[], $7)");
	static struct db_stmt	 event = DB_STMT(
	    "insert into events (school_id, staff_id, action, actor, channel,"
	    " detail) values (nullif($1, '0')::int, $2, $3, $4, $5, $6)");
	struct buf		 list;
	char			 school[16], staff[16], npages[16], sha[65];
	char			 action[32], *detail;
	PGresult		*res;
	size_t			 i;

	buf_init(&list);
	buf_add_str(&list, "{");
	for (i = 0; i < n; i++)
		buf_printf(&list, "%s%lld", i > 0 ? "," : "",
		    (long long)ids[i]);
	buf_add_str(&list, "}");
	snprintf(school, sizeof school, "%d", req->scope.school_id);
	snprintf(staff, sizeof staff, "%d", req->session->staff_id);
	snprintf(npages, sizeof npages, "%d", pages);
	proto_sha256_hex(content->data, content->len, sha);
	res = db_queryv(db, &doc, kind, format, school, staff, npages,
	    buf_cstr(&list), sha);
	buf_free(&list);
	if (res == NULL)
		return -1;
	PQclear(res);
	snprintf(action, sizeof action, "document_%s", kind);
	xasprintf(&detail, "%s, %zu compte%s", format, n, n > 1 ? "s" : "");
	res = db_queryv(db, &event, school, staff, action,
	    req->session->login, req->channel, detail);
	free(detail);
	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}
