/*
 * list ("Éditer la liste"): the guardians of a selection with their login,
 * their provisional password in clear (or ****** once they chose one) and
 * the state of their account, as a PDF table or a CSV file (UTF-8, ';').
 * A guardian with no link that can carry an account in the school
 * (credential_links) is listed without a password: their credentials are
 * not this school's to hand out. The list changes nothing but is recorded
 * like every document that carries passwords.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "account.h"
#include "db.h"
#include "document.h"
#include "log.h"
#include "pdf.h"
#include "server.h"
#include "state.h"
#include "xmalloc.h"

/* The rows of the list; the state's label comes from states.def
 * (state_shown()), "Notifié (expiré)" included. */
enum {
	LIST_PUPIL, LIST_CLASS, LIST_GUARDIAN, LIST_ACCOUNT, LIST_LOGIN,
	LIST_PROVISIONAL, LIST_HAS_PASSWORD, LIST_STATE, LIST_EXPIRED,
	LIST_REASON, LIST_GRANTED,
};
static struct db_stmt list_select = DB_STMT(
    "select p.last_name || ' ' || p.first_name, c.name,"
    "  g.last_name || ' ' || g.first_name, a.id, a.login, a.provisional,"
    "  a.password_hash is not null, a.state,"
    "  letter_expired(a.state, a.letter_at),"
    "  eligibility_reason(p.status, p.ine, p.class_id, l.legal),"
    "  exists (select 1 from credential_links cl"
    "   where cl.guardian_id = g.id and cl.school_id = $1)"
    " from links l join pupils p on p.id = l.pupil_id"
    " join guardians g on g.id = l.guardian_id"
    " left join classes c on c.id = p.class_id"
    " left join accounts a on a.guardian_id = g.id"
    " where p.school_id = $1"
    " and ($2::text[] is null or c.name = any ($2::text[]))"
    " and ($3::text[] is null or a.login = any ($3::text[]))"
    " order by c.rank nulls last, c.name nulls last,"
    "  ecadm_fold(p.last_name),"
    "  ecadm_fold(p.first_name), p.id, ecadm_fold(g.last_name), g.id");

/*
 * One CSV field, quoted by libcsv, then the separator. A cell that a
 * spreadsheet would take for a formula (starting with =, +, -, @, a tab
 * or a carriage return) gets a leading quote, as OWASP advises against
 * CSV injection: names come from an extraction we do not control, and a
 * director opens the list in a spreadsheet.
 */
static void
list_csv_field(struct buf *out, const char *v, int last)
{
	char	*quoted = NULL;
	size_t	 len, room, n;

	if (v == NULL)
		v = "";
	else if (v[0] != '\0' && strchr("=+-@\t\r", v[0]) != NULL) {
		xasprintf(&quoted, "'%s", v);
		v = quoted;
	}
	len = strlen(v);
	room = 2 * len + 3;
	n = csv_write2(buf_reserve(out, room), room, v, len, '"');
	buf_commit(out, n);
	buf_add(out, last ? "\r\n" : ";", last ? 2 : 1);
	free(quoted);
}

/* The rows of one list, read from the database, freed by list_free(). */
struct list_batch {
	PGresult	*res;
	struct list_row	*rows;		/* pointing into res and clear */
	char		**clear;	/* passwords in clear, wiped */
	int64_t		*ids;		/* the accounts listed with a password */
	size_t		 nids;
	int		 n;
};

static int
list_id_cmp(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The format asked for, "pdf" by default; NULL with the error set. */
static const char *
list_parse_format(struct request *req)
{
	const char	*format;

	format = req_arg_str(req, "format", 0);
	if (req->error != -1)
		return NULL;
	if (format == NULL)
		return "pdf";
	if (strcmp(format, "pdf") != 0 && strcmp(format, "csv") != 0) {
		req_error(req, E_INVALID, "Format : « pdf » ou « csv ».");
		return NULL;
	}
	return format;
}

/* One row of the list from row r of the result. */
static void
list_read_row(struct list_batch *b, int r)
{
	PGresult	*res = b->res;
	struct list_row	*row = &b->rows[r];

	row->pupil = db_get(res, r, LIST_PUPIL);
	row->class_name = db_get(res, r, LIST_CLASS);
	row->guardian = db_get(res, r, LIST_GUARDIAN);
	row->login = db_get(res, r, LIST_LOGIN);
	row->state = row->login != NULL ? state_shown(db_get(res, r,
	    LIST_STATE), db_get_bool(res, r, LIST_EXPIRED))->label :
	    db_get(res, r, LIST_REASON);
	/* No password where the school has no credentials to give. */
	if (!db_get_bool(res, r, LIST_GRANTED))
		return;
	if (db_get(res, r, LIST_PROVISIONAL) != NULL) {
		b->clear[r] = account_open_password(db_get_int(res, r,
		    LIST_ACCOUNT), db_get(res, r, LIST_PROVISIONAL));
		row->password = b->clear[r];
	} else if (db_get_bool(res, r, LIST_HAS_PASSWORD))
		row->password = "******";
	if (row->password != NULL)
		b->ids[b->nids++] = db_get_int(res, r, LIST_ACCOUNT);
}

/* The rows of the selection, their passwords opened. */
static int
list_read(struct worker *w, const struct selection *sel,
    struct list_batch *b)
{
	size_t	i, c;
	int	r;

	if ((b->res = db_query(w->db, &list_select, 3, sel->params)) == NULL)
		return -1;
	b->n = PQntuples(b->res);
	b->rows = xcalloc(b->n > 0 ? (size_t)b->n : 1, sizeof *b->rows);
	b->clear = xcalloc(b->n > 0 ? (size_t)b->n : 1, sizeof *b->clear);
	b->ids = xcalloc(b->n > 0 ? (size_t)b->n : 1, sizeof *b->ids);
	for (r = 0; r < b->n; r++)
		list_read_row(b, r);
	/* Each account once, in the record (a guardian has several rows). */
	qsort(b->ids, b->nids, sizeof *b->ids, list_id_cmp);
	for (i = 0, c = 0; i < b->nids; i++) {
		if (c == 0 || b->ids[c - 1] != b->ids[i])
			b->ids[c++] = b->ids[i];
	}
	b->nids = c;
	return 0;
}

static void
list_free(struct list_batch *b)
{
	int	r;

	for (r = 0; r < b->n; r++)
		freestr_secret(b->clear[r]);
	free(b->clear);
	free(b->rows);
	free(b->ids);
	PQclear(b->res);
}

/* The list as a CSV file. */
static void
list_csv(struct buf *out, const struct list_batch *b)
{
	static const char *const headers[] = { "Élève", "Classe",
	    "Responsable", "Identifiant", "Mot de passe", "État" };
	const struct list_row	*row;
	int			 c, r;

	/* A BOM, or spreadsheets read UTF-8 as Windows-1252. */
	buf_add_str(out, "\xef\xbb\xbf");
	for (c = 0; c < 6; c++)
		list_csv_field(out, headers[c], c == 5);
	for (r = 0; r < b->n; r++) {
		row = &b->rows[r];
		list_csv_field(out, row->pupil, 0);
		list_csv_field(out, row->class_name, 0);
		list_csv_field(out, row->guardian, 0);
		list_csv_field(out, row->login, 0);
		list_csv_field(out, row->password, 0);
		list_csv_field(out, row->state, 1);
	}
}

/* The selection as the PDF's heading says it. */
static void
list_selection_text(const struct selection *sel, char *text, size_t size)
{
	json_t	*item;
	size_t	 k, used, need;

	if (sel->classes == NULL) {
		snprintf(text, size, "%s", sel->logins != NULL ?
		    "Comptes choisis" : "Toute l'école");
		return;
	}
	/* Whole names only: a name that does not fit ends the line with
	 * "…", never cut inside a character. */
	used = (size_t)snprintf(text, size, "Classes :");
	json_array_foreach(sel->classes, k, item) {
		need = strlen(json_string_value(item)) + (k > 0 ? 2 : 1);
		if (used + need + sizeof " …" > size) {
			snprintf(text + used, size - used, " …");
			break;
		}
		used += (size_t)snprintf(text + used, size - used, "%s %s",
		    k > 0 ? "," : "", json_string_value(item));
	}
}

/* The list as a PDF table; NULL, logged, if it could not be made. */
static struct pdf *
list_pdf(struct request *req, const struct list_batch *b,
    const struct selection *sel, const struct doc_stamp *stamp,
    struct buf *out)
{
	struct list_doc	 doc;
	struct pdf	*pdf;
	char		 selection[512], *cause;

	list_selection_text(sel, selection, sizeof selection);
	memset(&doc, 0, sizeof doc);
	doc.school_name = req->scope.school_name;
	doc.school_uai = req->scope.uai;
	doc.selection = selection;
	doc.rows = b->rows;
	doc.nrows = (size_t)b->n;
	doc.date = stamp->date;
	if ((pdf = pdf_new("Liste des responsables", &cause)) == NULL)
		goto fail;
	pdf_list(pdf, &doc);
	if (pdf_finish(pdf, out, &cause) == -1)
		goto fail;
	return pdf;
fail:
	log_warnx("list: %s", cause);
	free(cause);
	pdf_free(pdf);
	return NULL;
}

void
op_list(struct worker *w, struct request *req)
{
	struct list_batch	 batch;
	struct doc_stamp	 stamp;
	struct pdf		*pdf = NULL;
	struct selection	 sel;
	const char		*format;
	char			 name[96];
	int			 pages = 0;

	memset(&batch, 0, sizeof batch);
	if ((format = list_parse_format(req)) == NULL)
		return;
	if (selection_parse(req, &sel) == -1) {
		selection_free(&sel);
		return;
	}

	if (db_begin(w->db) == -1 || db_set_context(w->db,
	    req->session->login, req->channel, NULL, req->scope.school_id,
	    NULL) == -1 || doc_stamp(w->db, &stamp) == -1 ||
	    list_read(w, &sel, &batch) == -1)
		goto fail;
	if (strcmp(format, "csv") == 0)
		list_csv(&req->blob, &batch);
	else if ((pdf = list_pdf(req, &batch, &sel, &stamp,
	    &req->blob)) == NULL) {
		db_rollback(w->db);
		req_error(req, E_INTERNAL, "La liste n'a pas pu être "
		    "produite.");
		goto out;
	} else
		pages = pdf_pages(pdf);
	if (doc_record(w->db, req, "list", format, pages, batch.ids,
	    batch.nids, &req->blob) == -1 || db_commit(w->db) == -1)
		goto fail;
	snprintf(name, sizeof name, "Educonnect-ListeResponsables-%s.%s",
	    stamp.compact, format);
	req->blob_name = xstrdup(name);
	req->result = json_pack("{s:i, s:s, s:i}", "rows", batch.n, "format",
	    format, "pages", pages);
	goto out;
fail:
	req_db_error(req, w->db);
	db_rollback(w->db);
	buf_free_secret(&req->blob);
out:
	list_free(&batch);
	pdf_free(pdf);
	selection_free(&sel);
}
