/*
 * notify-baseline: the floor under "notify 1,000 guardians on paper", for
 * make bench. The same SQL the server runs, straight through libpq (lock,
 * select, the transitions with new sealed-size passwords, then rolled
 * back so the real run finds the same accounts), plus a bare libharu
 * render of as many pages of as much text, compressed, into memory. No
 * TLS, no protocol, no encryption, no QR code, no layout.
 *
 *	notify-baseline CONNINFO SCHOOL_ID
 * prints: accounts pages sql_seconds render_seconds
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hpdf.h>
#include <libpq-fe.h>

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static PGresult *
run(PGconn *c, const char *sql, int n, const char *const *v)
{
	PGresult	*r = PQexecParams(c, sql, n, NULL, v, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_TUPLES_OK &&
	    PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "%s\n%s", sql, PQresultErrorMessage(r));
		exit(1);
	}
	return r;
}

static void
error_handler(HPDF_STATUS e, HPDF_STATUS d, void *arg)
{
	(void)arg;
	fprintf(stderr, "libharu error 0x%04x/%u\n", (unsigned)e, (unsigned)d);
	exit(1);
}

int
main(int argc, char **argv)
{
	const char	*v[5];
	PGconn		*c;
	PGresult	*r;
	HPDF_Doc	 pdf;
	HPDF_Font	 font;
	HPDF_Page	 page;
	char		*ids, *sealed, *p, *q, line[128];
	double		 t0, t_sql, t_pdf;
	int		 n, i, k;

	if (argc != 3) {
		fprintf(stderr, "usage: notify-baseline CONNINFO SCHOOL_ID\n");
		return 2;
	}
	c = PQconnectdb(argv[1]);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "%s", PQerrorMessage(c));
		return 1;
	}
	t0 = now();
	PQclear(run(c, "begin", 0, NULL));
	v[0] = argv[2];
	PQclear(run(c, "select a.id from accounts a where a.guardian_id in"
	    " (select l.guardian_id from links l join pupils p on"
	    " p.id = l.pupil_id where p.school_id = $1) order by a.id"
	    " for update", 1, v));
	r = run(c, "select a.id, g.last_name || ' ' || g.first_name,"
	    " (select json_agg(p.last_name) from links l join pupils p on"
	    "  p.id = l.pupil_id where l.guardian_id = g.id"
	    "  and p.school_id = $1)"
	    " from accounts a join guardians g on g.id = a.guardian_id"
	    /* Eligible through any child, by index: the view
	     * guardian_eligibility would aggregate the whole academy. */
	    " where exists (select 1 from credential_links cl"
	    "  where cl.guardian_id = g.id)"
	    " and a.state = 'precree' and a.guardian_id in"
	    " (select l.guardian_id from links l join pupils p on"
	    " p.id = l.pupil_id where p.school_id = $1) order by 2", 1, v);
	n = PQntuples(r);
	ids = malloc((size_t)n * 24 + 3);
	sealed = malloc((size_t)n * 100 + 3);
	p = ids;
	q = sealed;
	*p++ = '{';
	*q++ = '{';
	for (i = 0; i < n; i++) {
		p += sprintf(p, "%s%s", i > 0 ? "," : "", PQgetvalue(r, i, 0));
		/* As many bytes as a sealed 10-character password. */
		q += sprintf(q, "%s\"\\\\x01%076x\"", i > 0 ? "," : "", i);
	}
	strcpy(p, "}");
	strcpy(q, "}");
	v[0] = ids;
	v[1] = "notifie";
	v[2] = "notify_paper";
	v[3] = sealed;
	v[4] = NULL;
	PQclear(run(c, "select count(*) from account_transition($1::bigint[],"
	    " $2, $3, $4::bytea[], $5)", 5, v));
	PQclear(run(c, "rollback", 0, NULL));
	t_sql = now() - t0;

	t0 = now();
	pdf = HPDF_New(error_handler, NULL);
	HPDF_UseUTFEncodings(pdf);
	HPDF_SetCompressionMode(pdf, HPDF_COMP_ALL);
	font = HPDF_GetFont(pdf, HPDF_LoadTTFontFromFile(pdf,
	    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", HPDF_TRUE),
	    "UTF-8");
	for (i = 0; i < n; i++) {
		page = HPDF_AddPage(pdf);
		HPDF_Page_SetSize(page, HPDF_PAGE_SIZE_A4,
		    HPDF_PAGE_PORTRAIT);
		HPDF_Page_SetFontAndSize(page, font, 10);
		HPDF_Page_BeginText(page);
		/* About as many lines as a notification sheet. */
		for (k = 0; k < 30; k++) {
			snprintf(line, sizeof line, "%s — ligne %d de la "
			    "feuille de notification", PQgetvalue(r, i, 1), k);
			HPDF_Page_TextOut(page, 56, 780 - 20 * (float)k, line);
		}
		HPDF_Page_EndText(page);
	}
	HPDF_SaveToStream(pdf);
	k = (int)HPDF_GetStreamSize(pdf);
	HPDF_Free(pdf);
	t_pdf = now() - t0;
	printf("%d %d %.4f %.4f %d\n", n, n, t_sql, t_pdf, k);
	PQclear(r);
	PQfinish(c);
	free(ids);
	free(sealed);
	return 0;
}
