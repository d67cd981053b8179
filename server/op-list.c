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

static int
list_id_cmp(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

void
op_list(struct worker *w, struct request *req)
{
	static const char *const headers[] = { "Élève", "Classe",
	    "Responsable", "Identifiant", "Mot de passe", "État" };
	struct list_row		*rows = NULL;
	struct list_doc		 doc;
	struct doc_stamp	 stamp;
	struct pdf		*pdf = NULL;
	struct selection	 sel;
	PGresult		*res = NULL;
	const char		*format;
	char			 name[96], selection[512];
	char			*cause, **clear = NULL;
	int64_t			*ids = NULL;
	size_t			 nids = 0, i;
	int			 r, n = 0, c, granted;

	format = req_arg_str(req, "format", 0);
	if (req->error != -1)
		return;
	if (format == NULL)
		format = "pdf";
	if (strcmp(format, "pdf") != 0 && strcmp(format, "csv") != 0) {
		req_error(req, E_INVALID, "Format : « pdf » ou « csv ».");
		return;
	}
	if (selection_parse(req, &sel) == -1) {
		selection_free(&sel);
		return;
	}

	if (db_begin(w->db) == -1 || db_set_context(w->db,
	    req->session->login, req->channel, NULL, req->scope.school_id,
	    NULL) == -1 || doc_stamp(w->db, &stamp) == -1)
		goto fail;
	if ((res = db_query(w->db, &list_select, 3, sel.params)) == NULL)
		goto fail;
	n = PQntuples(res);
	rows = xcalloc(n > 0 ? (size_t)n : 1, sizeof *rows);
	clear = xcalloc(n > 0 ? (size_t)n : 1, sizeof *clear);
	ids = xcalloc(n > 0 ? (size_t)n : 1, sizeof *ids);
	for (r = 0; r < n; r++) {
		rows[r].pupil = db_get(res, r, 0);
		rows[r].class_name = db_get(res, r, 1);
		rows[r].guardian = db_get(res, r, 2);
		rows[r].login = db_get(res, r, 4);
		rows[r].state = db_get(res, r, 4) != NULL ? state_shown(
		    db_get(res, r, 7), db_get_bool(res, r, 8))->label :
		    db_get(res, r, 9);
		/* No password where the school has no credentials to give. */
		granted = db_get_bool(res, r, 10);
		if (granted && db_get(res, r, 5) != NULL) {
			clear[r] = account_open_password(db_get_int(res, r, 3),
			    db_get(res, r, 5));
			rows[r].password = clear[r];
		} else if (granted && db_get_bool(res, r, 6))
			rows[r].password = "******";
		if (rows[r].password != NULL)
			ids[nids++] = db_get_int(res, r, 3);
	}
	/* Each account once, in the record (a guardian has several rows). */
	qsort(ids, nids, sizeof *ids, list_id_cmp);
	for (i = 0, c = 0; i < nids; i++) {
		if (c == 0 || ids[c - 1] != ids[i])
			ids[c++] = ids[i];
	}
	nids = (size_t)c;

	if (strcmp(format, "csv") == 0) {
		/* A BOM, or spreadsheets read UTF-8 as Windows-1252. */
		buf_add_str(&req->blob, "\xef\xbb\xbf");
		for (c = 0; c < 6; c++)
			list_csv_field(&req->blob, headers[c], c == 5);
		for (r = 0; r < n; r++) {
			list_csv_field(&req->blob, rows[r].pupil, 0);
			list_csv_field(&req->blob, rows[r].class_name, 0);
			list_csv_field(&req->blob, rows[r].guardian, 0);
			list_csv_field(&req->blob, rows[r].login, 0);
			list_csv_field(&req->blob, rows[r].password, 0);
			list_csv_field(&req->blob, rows[r].state, 1);
		}
	} else {
		if (sel.classes != NULL) {
			json_t	*item;
			size_t	 k, used;

			/* Whole names only: a name that does not fit ends
			 * the line with "…", never cut inside a character. */
			used = (size_t)snprintf(selection, sizeof selection,
			    "Classes :");
			json_array_foreach(sel.classes, k, item) {
				size_t	need = strlen(json_string_value(item)) +
				    (k > 0 ? 2 : 1);

				if (used + need + sizeof " …" > sizeof selection) {
					snprintf(selection + used, sizeof selection -
					    used, " …");
					break;
				}
				used += (size_t)snprintf(selection + used,
				    sizeof selection - used, "%s %s", k > 0 ?
				    "," : "", json_string_value(item));
			}
		} else
			snprintf(selection, sizeof selection, "%s",
			    sel.logins != NULL ? "Comptes choisis" :
			    "Toute l'école");
		memset(&doc, 0, sizeof doc);
		doc.school_name = req->scope.school_name;
		doc.school_uai = req->scope.uai;
		doc.selection = selection;
		doc.rows = rows;
		doc.nrows = (size_t)n;
		doc.date = stamp.date;
		if ((pdf = pdf_new("Liste des responsables", &cause)) == NULL ||
		    (pdf_list(pdf, &doc), pdf_finish(pdf, &req->blob,
		    &cause)) == -1) {
			log_warnx("list: %s", cause);
			free(cause);
			db_rollback(w->db);
			req_error(req, E_INTERNAL, "La liste n'a pas pu être "
			    "produite.");
			goto out;
		}
	}
	if (doc_record(w->db, req, "list", format, pdf != NULL ?
	    pdf_pages(pdf) : 0, ids, nids, &req->blob) == -1 ||
	    db_commit(w->db) == -1)
		goto fail;
	snprintf(name, sizeof name, "Educonnect-ListeResponsables-%s.%s",
	    stamp.compact, format);
	req->blob_name = xstrdup(name);
	req->result = json_pack("{s:i, s:s, s:i}", "rows", n, "format", format,
	    "pages", pdf != NULL ? pdf_pages(pdf) : 0);
	goto out;
fail:
	req_db_error(req, w->db);
	db_rollback(w->db);
	buf_free_secret(&req->blob);
out:
	for (r = 0; r < n; r++)
		freestr_secret(clear[r]);
	free(clear);
	free(rows);
	free(ids);
	PQclear(res);
	pdf_free(pdf);
	selection_free(&sel);
}
