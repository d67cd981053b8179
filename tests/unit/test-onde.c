/* Unit tests of server/onde.h: reading an ONDE extraction into COPY lines
 * (encodings, header, quotes, line endings) and reporting its bad lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iconv.h>

#include <cmocka.h>

#include "buf.h"
#include "onde.h"

/* The columns in the order of the COPY line (the enum of server/onde.c),
 * which starts with the line number and the first-line flags of the pupil
 * and the guardian. */
enum {
	UAI, ECOLE, COMMUNE, ELEVE_ID, NOM_ELEVE, PRENOM_ELEVE,
	DATE_NAISSANCE, INE, STATUT, CLASSE, NIVEAU, RESP_ID, RESP_CIVILITE,
	RESP_NOM, RESP_PRENOM, RESP_LIEN, RESP_LEGAL, RESP_COURRIEL,
	RESP_TELEPHONE, NCOLS
};

static const char *const names[NCOLS] = {
	"uai", "ecole", "commune", "eleve_id", "nom_eleve", "prenom_eleve",
	"date_naissance", "ine", "statut", "classe", "niveau", "resp_id",
	"resp_civilite", "resp_nom", "resp_prenom", "resp_lien", "resp_legal",
	"resp_courriel", "resp_telephone",
};

#define HEADER \
	"uai;ecole;commune;eleve_id;nom_eleve;prenom_eleve;date_naissance;" \
	"ine;statut;classe;niveau;resp_id;resp_civilite;resp_nom;" \
	"resp_prenom;resp_lien;resp_legal;resp_courriel;resp_telephone"

/* A valid line, already in the form the reader writes out (but the date and
 * resp_legal), with names that Windows-1252 can hold. */
static const char *const good[NCOLS] = {
	[UAI] = "0330001X",
	[ECOLE] = "\xc3\x89" "cole Jean Jaur\xc3\xa8s",		/* École */
	[COMMUNE] = "Bordeaux",
	[ELEVE_ID] = "E-2017.042",
	[NOM_ELEVE] = "\xc5\x92uvrard",				/* Œuvrard */
	[PRENOM_ELEVE] = "\xc3\x89lo\xc3\xafse",		/* Éloïse */
	[DATE_NAISSANCE] = "05/03/2017",
	[INE] = "1234567890A",
	[STATUT] = "admis_definitif",
	[CLASSE] = "CP-A",
	[NIVEAU] = "CP",
	[RESP_ID] = "R_881",
	[RESP_CIVILITE] = "Mme",
	[RESP_NOM] = "\xc5\x92uvrard",
	[RESP_PRENOM] = "H\xc3\xa9l\xc3\xa8ne",			/* Hélène */
	[RESP_LIEN] = "mere",
	[RESP_LEGAL] = "oui",
	[RESP_COURRIEL] = "helene.oeuvrard@example.fr",
	[RESP_TELEPHONE] = "06 12 34 56 78",
};

/* The COPY line of good[] read at line n. */
#define GOOD_COPY(n) \
	#n "\tt\tt\t0330001X\t\xc3\x89" "cole Jean Jaur\xc3\xa8s\tBordeaux\t" \
	"E-2017.042\t\xc5\x92uvrard\t\xc3\x89lo\xc3\xafse\t2017-03-05\t" \
	"1234567890A\tadmis_definitif\tCP-A\tCP\tR_881\tMme\t" \
	"\xc5\x92uvrard\tH\xc3\xa9l\xc3\xa8ne\tmere\tt\t" \
	"helene.oeuvrard@example.fr\t06 12 34 56 78\n"

/* What the row callback saw. */
struct sink {
	const struct onde_result *res;
	struct buf	 out;		/* the COPY lines, one after another */
	int		 calls;
	int		 after_error;	/* calls made once an error was found */
	int		 stop_at;	/* return -1 on this call (0: never) */
};

/* The row callback: keeps the lines and notes calls after an error. */
static int
sink_row(void *arg, const char *line, size_t len)
{
	struct sink	*s = arg;

	s->calls++;
	if (s->res->total_errors > 0)
		s->after_error++;
	buf_add(&s->out, line, len);
	return s->stop_at != 0 && s->calls == s->stop_at ? -1 : 0;
}

/* Read len bytes of data into s and res. */
static int
run(const void *data, size_t len, struct sink *s, struct onde_result *res)
{
	memset(s, 0, sizeof *s);
	buf_init(&s->out);
	s->res = res;
	return onde_read(data, len, sink_row, s, res);
}

/* Like run() with a stop_at already set by the caller. */
static int
run_stop(const char *data, struct sink *s, struct onde_result *res,
    int stop_at)
{
	memset(s, 0, sizeof *s);
	buf_init(&s->out);
	s->res = res;
	s->stop_at = stop_at;
	return onde_read(data, strlen(data), sink_row, s, res);
}

/* The COPY output as a string (owned by the sink). */
static const char *
sink_text(struct sink *s)
{
	return buf_cstr(&s->out);
}

/* A printable copy for messages (C escapes; past ASCII too when raw). */
static const char *
esc_bytes(const char *s, int raw)
{
	static char	out[4][8192];
	static int	k;
	char		*o = out[k++ % 4];
	size_t		 n = 0;

	if (s == NULL)
		return "(null)";
	for (; *s != '\0' && n + 5 < sizeof out[0]; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\t')
			n += (size_t)snprintf(o + n, 8192 - n, "\\t");
		else if (c == '\n')
			n += (size_t)snprintf(o + n, 8192 - n, "\\n");
		else if (c >= 0x20 && c != 0x7f && (c < 0x80 || !raw))
			o[n++] = (char)c;
		else
			n += (size_t)snprintf(o + n, 8192 - n, "\\x%02x", c);
	}
	o[n] = '\0';
	return o;
}

/* A printable copy of UTF-8 text, for messages. */
static const char *
esc(const char *s)
{
	return esc_bytes(s, 0);
}

/* Print every error kept in res, for the failure messages. */
static void
dump_errors(const struct onde_result *res)
{
	size_t	i;

	print_error("  %zu errors found, %zu kept:\n", res->total_errors,
	    res->nerrors);
	for (i = 0; i < res->nerrors && i < 20; i++)
		print_error("    line %d, column %s: %s\n", res->errors[i].line,
		    res->errors[i].column == NULL ? "(none)" :
		    res->errors[i].column, res->errors[i].reason);
}

/* Fail at the caller's line unless error i is at line, column, part. */
static void
check_error(const struct onde_result *res, size_t i, int line,
    const char *column, const char *part, const char *file, int at)
{
	const struct onde_error	*e;

	if (i >= res->nerrors) {
		print_error("expected an error #%zu at line %d, column %s; "
		    "got only %zu\n", i, line, column == NULL ? "(none)" :
		    column, res->nerrors);
		dump_errors(res);
		_fail(file, at);
	}
	e = &res->errors[i];
	if (e->line != line || (column == NULL) != (e->column == NULL) ||
	    (column != NULL && strcmp(column, e->column) != 0) ||
	    e->reason == NULL || e->reason[0] == '\0' ||
	    (part != NULL && strstr(e->reason, part) == NULL)) {
		print_error("error #%zu: expected line %d, column %s, reason "
		    "containing \"%s\"; got line %d, column %s, reason "
		    "\"%s\"\n",
		    i, line, column == NULL ? "(none)" : column,
		    part == NULL ? "" : part, e->line, e->column == NULL ?
		    "(none)" : e->column, e->reason == NULL ? "(null)" :
		    e->reason);
		dump_errors(res);
		_fail(file, at);
	}
}

#define ERROR_AT(res, i, line, column, part) \
	check_error(res, i, line, column, part, __FILE__, __LINE__)

/* Fail at the caller's line unless res holds exactly one error. */
#define ONE_ERROR(res) do { \
	if ((res)->total_errors != 1 || (res)->nerrors != 1) { \
		print_error("expected exactly 1 error, got %zu\n", \
		    (res)->total_errors); \
		dump_errors(res); \
		fail(); \
	} \
} while (0)

/* Fail at the caller's line unless res holds no error. */
#define NO_ERROR(res) do { \
	if ((res)->total_errors != 0) { \
		print_error("expected no error, got %zu\n", \
		    (res)->total_errors); \
		dump_errors(res); \
		fail(); \
	} \
} while (0)

/* Fail at the caller's line unless the COPY output is want. */
#define COPY_IS(s, want) do { \
	const char *got_ = sink_text(s); \
	if (strcmp(got_, want) != 0) { \
		print_error("COPY output:\n  expected \"%s\"\n  got      " \
		    "\"%s\"\n", esc(want), esc(got_)); \
		fail(); \
	} \
} while (0)

/* Join the values with ';' into dst (static storage of the caller). */
static const char *
join(char *dst, size_t size, const char *const v[], size_t n)
{
	size_t	i, o = 0;

	dst[0] = '\0';
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(dst + o, size - o, "%s%s", i > 0 ? ";" :
		    "", v[i] == NULL ? "" : v[i]);
	assert_true(o < size);
	return dst;
}

/* good[] as a line. */
static const char *
good_line(void)
{
	static char	line[1024];

	return join(line, sizeof line, good, NCOLS);
}

/* good[] with column c set to value, as a line. */
static const char *
line_with(int c, const char *value)
{
	static char	 line[1024];
	const char	*v[NCOLS];

	memcpy(v, good, sizeof v);
	v[c] = value;
	return join(line, sizeof line, v, NCOLS);
}

/* good[] with pairs of (column, value) set, ending with -1, as a line:
 * another pupil or guardian, so lines do not contradict each other. */
static const char *
line_withv(int c, ...)
{
	static char	 line[1024];
	const char	*v[NCOLS];
	va_list		 ap;

	memcpy(v, good, sizeof v);
	va_start(ap, c);
	for (; c >= 0; c = va_arg(ap, int))
		v[c] = va_arg(ap, const char *);
	va_end(ap);
	return join(line, sizeof line, v, NCOLS);
}

/* A file of the header and the given lines, each ending in eol. */
static char *
file_of(const char *eol, const char *const lines[], size_t n)
{
	struct buf	b;
	size_t		i;

	buf_init(&b);
	buf_add_str(&b, HEADER);
	buf_add_str(&b, eol);
	for (i = 0; i < n; i++) {
		buf_add_str(&b, lines[i]);
		buf_add_str(&b, eol);
	}
	buf_cstr(&b);
	return (char *)b.data;
}

/* UTF-8 text as Windows-1252 (a new string). */
static char *
to_cp1252(const char *s)
{
	iconv_t	 cd;
	size_t	 left = strlen(s), room = left + 1;
	char	*in = (char *)s, *out = malloc(room), *o = out;

	assert_non_null(out);
	cd = iconv_open("WINDOWS-1252", "UTF-8");
	assert_true(cd != (iconv_t)-1);
	assert_true(iconv(cd, &in, &left, &o, &room) != (size_t)-1);
	iconv_close(cd);
	*o = '\0';
	return out;
}

/* The reference UAI check letter: "ABCDEFGHJKLMNPRSTUVWXYZ"[n mod 23]. */
static char
ref_uai_letter(const char *digits7)
{
	static const char	 letters[] = "ABCDEFGHJKLMNPRSTUVWXYZ";
	unsigned long		 n = 0;
	int			 i;

	for (i = 0; i < 7; i++)
		n = n * 10 + (unsigned long)(digits7[i] - '0');
	return letters[n % 23];
}

/* Header, good line, bad line: one error at line 3 on column, one row. */
static void
check_bad_line(const char *bad, const char *column, const char *part,
    const char *file, int at)
{
	/* column NULL: an error on the whole line; part NULL: any reason. */
	struct onde_result	 res;
	struct sink		 s;
	char			 copy[1024];
	const char		*lines[2];
	char			*data;
	int			 rc;

	snprintf(copy, sizeof copy, "%s", bad);
	lines[0] = good_line();
	lines[1] = copy;
	data = file_of("\n", lines, 2);
	rc = run(data, strlen(data), &s, &res);
	if (rc != -1 || res.total_errors != 1) {
		print_error("line 3 \"%s\": expected -1 and 1 error, got %d "
		    "and %zu\n", esc(copy), rc, res.total_errors);
		dump_errors(&res);
		_fail(file, at);
	}
	check_error(&res, 0, 3, column, part, file, at);
	if (s.calls != 1 || s.after_error != 0 ||
	    strcmp(sink_text(&s), GOOD_COPY(2)) != 0) {
		print_error("line 3 \"%s\": expected the COPY line of line 2 "
		    "only, got %d calls (%d after the error): \"%s\"\n",
		    esc(copy), s.calls, s.after_error, esc(sink_text(&s)));
		_fail(file, at);
	}
	onde_result_free(&res);
	buf_free(&s.out);
	free(data);
}

#define BAD_LINE(bad, column, part) \
	check_bad_line(bad, column, part, __FILE__, __LINE__)

/* Header and one full line: one COPY line, fields in the enum order. */
static void
test_minimal_full(void **state)
{
	struct onde_result	 res;
	struct sink		 s;
	const char		*lines[1] = { good_line() };
	char			*data = file_of("\n", lines, 1);

	(void)state;
	assert_int_equal(run(data, strlen(data), &s, &res), 0);
	NO_ERROR(&res);
	assert_int_equal(s.calls, 1);
	assert_int_equal(res.lines, 1);
	assert_int_equal(res.encoding, ONDE_UTF8);
	COPY_IS(&s, GOOD_COPY(2));
	onde_result_free(&res);
	buf_free(&s.out);
	free(data);
}

/* Empty optional values come out as \N, resp_legal "non" as f. */
static void
test_minimal_absent_values(void **state)
{
	static const char	 want[] = "2\tt\tf\t0330001X\t\\N\t\\N\tE1\tMartin\t"
	    "L\xc3\xa9o\t2019-12-31\t\\N\tinscrit\t\\N\t\\N\t\\N\t\\N\t\\N\t"
	    "\\N\t\\N\t\\N\t\\N\t\\N\n";
	static const char	 want_legal[] = "2\tt\tt\t0330001X\t\\N\t\\N\tE1\t"
	    "Martin\tL\xc3\xa9o\t2019-12-31\t\\N\tinscrit\t\\N\t\\N\tR1\t\\N\t"
	    "Martin\tPaul\t\\N\tf\t\\N\t\\N\n";
	static const char	 data[] = HEADER "\n"
	    "0330001X;;;E1;Martin;L\xc3\xa9o;31/12/2019;;inscrit;;;;;;;;;;\n";
	static const char	 data_legal[] = HEADER "\n"
	    "0330001X;;;E1;Martin;L\xc3\xa9o;31/12/2019;;inscrit;;;R1;;Martin;"
	    "Paul;;non;;\n";
	struct onde_result	 res;
	struct sink		 s;

	(void)state;
	assert_int_equal(run(data, strlen(data), &s, &res), 0);
	NO_ERROR(&res);
	assert_int_equal(s.calls, 1);
	COPY_IS(&s, want);
	onde_result_free(&res);
	buf_free(&s.out);

	assert_int_equal(run(data_legal, strlen(data_legal), &s, &res), 0);
	NO_ERROR(&res);
	assert_int_equal(s.calls, 1);
	COPY_IS(&s, want_legal);
	onde_result_free(&res);
	buf_free(&s.out);
}

/* Only the required columns in the header: the others are \N. */
static void
test_header_required_only(void **state)
{
	static const char	 data[] = "uai;eleve_id;nom_eleve;prenom_eleve;"
	    "date_naissance;statut\n"
	    "0330001X;E1;Martin;Paul;01/09/2018;admis_provisoire\n";
	static const char	 want[] = "2\tt\tf\t0330001X\t\\N\t\\N\tE1\tMartin\t"
	    "Paul\t2018-09-01\t\\N\tadmis_provisoire\t\\N\t\\N\t\\N\t\\N\t\\N\t"
	    "\\N\t\\N\t\\N\t\\N\t\\N\n";
	struct onde_result	 res;
	struct sink		 s;

	(void)state;
	assert_int_equal(run(data, strlen(data), &s, &res), 0);
	NO_ERROR(&res);
	COPY_IS(&s, want);
	onde_result_free(&res);
	buf_free(&s.out);
}

/* Header names in any case and order; unknown columns are ignored. */
static void
test_header_case_order_unknown(void **state)
{
	static const int	 order[NCOLS] = { RESP_TELEPHONE, STATUT,
	    RESP_ID, NOM_ELEVE, UAI, RESP_COURRIEL, DATE_NAISSANCE, CLASSE,
	    RESP_LEGAL, ECOLE, PRENOM_ELEVE, RESP_NOM, INE, RESP_LIEN,
	    COMMUNE, NIVEAU, RESP_CIVILITE, ELEVE_ID, RESP_PRENOM };
	static const char	*const header[NCOLS + 2] = { "Resp_Telephone",
	    "STATUT", "resp_ID", "Nom_Eleve", "UAI", "autre", "RESP_courriel",
	    "Date_Naissance", "Classe", "resp_legal", "ECOLE", "Prenom_eleve",
	    "RESP_NOM", "Ine", "Resp_Lien", "Commune", "NiVeAu",
	    "Resp_Civilite", "divers", "Eleve_Id", "resp_prenom" };
	const char		*values[NCOLS + 2];
	char			 hline[1024], vline[1024], data[2100];
	struct onde_result	 res;
	struct sink		 s;
	size_t			 i, k = 0;

	(void)state;
	/* The unknown columns "autre" (5) and "divers" (18) hold junk. */
	for (i = 0; i < NCOLS + 2; i++) {
		if (i == 5)
			values[i] = "ignor\xc3\xa9";
		else if (i == 18)
			values[i] = "\"x;y\"";
		else
			values[i] = good[order[k++]];
	}
	snprintf(data, sizeof data, "%s\n%s\n",
	    join(hline, sizeof hline, header, NCOLS + 2),
	    join(vline, sizeof vline, values, NCOLS + 2));
	assert_int_equal(run(data, strlen(data), &s, &res), 0);
	NO_ERROR(&res);
	assert_int_equal(s.calls, 1);
	COPY_IS(&s, GOOD_COPY(2));
	onde_result_free(&res);
	buf_free(&s.out);
}

/* A required column missing from the header: an error on line 1 naming it. */
static void
test_header_missing_required(void **state)
{
	static const int	 required[] = { UAI, ELEVE_ID, NOM_ELEVE,
	    PRENOM_ELEVE, DATE_NAISSANCE, STATUT };
	const char		*hv[NCOLS], *vv[NCOLS];
	char			 hline[1024], vline[1024], data[2100];
	struct onde_result	 res;
	struct sink		 s;
	size_t			 i, c, n;

	(void)state;
	for (i = 0; i < sizeof required / sizeof required[0]; i++) {
		for (c = 0, n = 0; c < NCOLS; c++) {
			if ((int)c == required[i])
				continue;
			hv[n] = names[c];
			vv[n++] = good[c];
		}
		snprintf(data, sizeof data, "%s\n%s\n",
		    join(hline, sizeof hline, hv, n),
		    join(vline, sizeof vline, vv, n));
		if (run(data, strlen(data), &s, &res) != -1 ||
		    res.total_errors != 1) {
			print_error("header without %s: expected -1 and 1 "
			    "error\n", names[required[i]]);
			dump_errors(&res);
			fail();
		}
		ERROR_AT(&res, 0, 1, names[required[i]], NULL);
		assert_int_equal(s.calls, 0);
		onde_result_free(&res);
		buf_free(&s.out);
	}
}

/* A column twice in the header (in two cases): an error on line 1. */
static void
test_header_duplicate(void **state)
{
	char			 data[2100];
	struct onde_result	 res;
	struct sink		 s;

	(void)state;
	snprintf(data, sizeof data, "%s;Nom_Eleve\n%s;Martin\n", HEADER,
	    good_line());
	assert_int_equal(run(data, strlen(data), &s, &res), -1);
	ONE_ERROR(&res);
	ERROR_AT(&res, 0, 1, "nom_eleve", "double");
	assert_int_equal(s.calls, 0);
	onde_result_free(&res);
	buf_free(&s.out);
}

/* A quote left open in the header is named as such, on line 1, not as the
 * columns it swallowed. */
static void
test_header_open_quote(void **state)
{
	char			 data[2100];
	struct onde_result	 res;
	struct sink		 s;

	(void)state;
	snprintf(data, sizeof data, "uai;\"ecole;commune\nE1\";Martin\n%s\n",
	    good_line());
	assert_int_equal(run(data, strlen(data), &s, &res), -1);
	ONE_ERROR(&res);
	ERROR_AT(&res, 0, 1, NULL, "guillemet non fermé dans l'en-tête");
	assert_int_equal(s.calls, 0);
	onde_result_free(&res);
	buf_free(&s.out);
}

/* CRLF and LF files give the same COPY lines. */
static void
test_crlf_lf(void **state)
{
	const char		*lines[3];
	char			 l3[1024], l4[1024];
	char			*lf, *crlf;
	struct onde_result	 res;
	struct sink		 s1, s2;

	(void)state;
	snprintf(l3, sizeof l3, "%s", line_with(RESP_ID, "R_882"));
	snprintf(l4, sizeof l4, "%s", line_withv(ELEVE_ID, "E9", INE,
	    "9876543210B", -1));
	lines[0] = good_line();
	lines[1] = l3;
	lines[2] = l4;
	lf = file_of("\n", lines, 3);
	crlf = file_of("\r\n", lines, 3);

	assert_int_equal(run(lf, strlen(lf), &s1, &res), 0);
	NO_ERROR(&res);
	onde_result_free(&res);
	assert_int_equal(run(crlf, strlen(crlf), &s2, &res), 0);
	NO_ERROR(&res);
	onde_result_free(&res);
	assert_int_equal(s1.calls, 3);
	assert_int_equal(s2.calls, 3);
	COPY_IS(&s2, sink_text(&s1));
	/* And without an end of line after the last one. */
	buf_free(&s2.out);
	crlf[strlen(crlf) - 2] = '\0';
	assert_int_equal(run(crlf, strlen(crlf), &s2, &res), 0);
	NO_ERROR(&res);
	onde_result_free(&res);
	COPY_IS(&s2, sink_text(&s1));
	buf_free(&s1.out);
	buf_free(&s2.out);
	free(lf);
	free(crlf);
}

/* UTF-8, UTF-8 with BOM and Windows-1252 files give the same COPY lines. */
static void
test_encodings(void **state)
{
	const char		*lines[2];
	char			 l3[1024];
	char			*utf8, *bom, *cp;
	struct onde_result	 res;
	struct sink		 s1, s2, s3;
	size_t			 n;

	(void)state;
	snprintf(l3, sizeof l3, "%s", line_withv(ELEVE_ID, "E9", INE,
	    "9876543210B", PRENOM_ELEVE,
	    "No\xc3\xabl \xc3\x80 \xe2\x82\xac", -1));	/* Noël À € */
	lines[0] = good_line();
	lines[1] = l3;
	utf8 = file_of("\r\n", lines, 2);
	n = strlen(utf8);
	bom = malloc(n + 4);
	assert_non_null(bom);
	memcpy(bom, "\xef\xbb\xbf", 3);
	memcpy(bom + 3, utf8, n + 1);
	cp = to_cp1252(utf8);
	/* Œ is 0x8C, é 0xE9, € 0x80 in Windows-1252. */
	assert_non_null(strstr(cp, "\x8cuvrard"));
	assert_non_null(strstr(cp, "H\xe9l\xe8ne"));
	assert_non_null(strstr(cp, "\x80"));

	assert_int_equal(run(utf8, n, &s1, &res), 0);
	NO_ERROR(&res);
	assert_int_equal(res.encoding, ONDE_UTF8);
	onde_result_free(&res);
	assert_int_equal(run(bom, n + 3, &s2, &res), 0);
	NO_ERROR(&res);
	assert_int_equal(res.encoding, ONDE_UTF8_BOM);
	onde_result_free(&res);
	assert_int_equal(run(cp, strlen(cp), &s3, &res), 0);
	NO_ERROR(&res);
	assert_int_equal(res.encoding, ONDE_CP1252);
	onde_result_free(&res);

	assert_int_equal(s1.calls, 2);
	assert_non_null(strstr(sink_text(&s1), GOOD_COPY(2)));
	COPY_IS(&s2, sink_text(&s1));
	COPY_IS(&s3, sink_text(&s1));
	buf_free(&s1.out);
	buf_free(&s2.out);
	buf_free(&s3.out);
	free(utf8);
	free(bom);
	free(cp);
}

/* A byte undefined in Windows-1252 (0x81): an error naming its line. */
static void
test_cp1252_undefined_byte(void **state)
{
	const char		*lines[3];
	char			 l4[1024];
	char			*utf8, *cp, *p;
	struct onde_result	 res;
	struct sink		 s;

	(void)state;
	snprintf(l4, sizeof l4, "%s", line_with(NOM_ELEVE, "Mar#tin"));
	lines[0] = good_line();
	lines[1] = good_line();
	lines[2] = l4;
	utf8 = file_of("\n", lines, 3);
	cp = to_cp1252(utf8);
	p = strchr(cp, '#');
	assert_non_null(p);
	*p = '\x81';
	assert_int_equal(run(cp, strlen(cp), &s, &res), -1);
	ONE_ERROR(&res);
	ERROR_AT(&res, 0, 4, NULL, "0x81");
	assert_int_equal(s.calls, 0);
	onde_result_free(&res);
	buf_free(&s.out);
	free(utf8);
	free(cp);
}

/* Windows-1252 bytes shaped like a UTF-8 surrogate or overlong: cp1252. */
static void
test_cp1252_not_utf8_surrogate(void **state)
{
	/* "í", no-break space, "€" is ED A0 80: a UTF-8 surrogate, not valid
	 * UTF-8, so the file is Windows-1252 (DESIGN.md §6). Likewise the
	 * overlong E0 80 80 ("à€€"). */
	static const char	*const names_cp[] = { "Mart\xed\xa0\x80",
	    "\xe0\x80\x80" };
	static const char	*const names_utf8[] = {
	    "Mart\xc3\xad\xc2\xa0\xe2\x82\xac",		/* Martí € */
	    "\xc3\xa0\xe2\x82\xac\xe2\x82\xac" };		/* à€€ */
	const char		*lines[1];
	char			*data;
	struct onde_result	 res;
	struct sink		 s;
	size_t			 i;

	(void)state;
	for (i = 0; i < 2; i++) {
		lines[0] = line_with(COMMUNE, names_cp[i]);
		data = file_of("\n", lines, 1);
		if (run(data, strlen(data), &s, &res) != 0 ||
		    res.encoding != ONDE_CP1252) {
			print_error("commune \"%s\" (Windows-1252): expected 0 "
			    "and %s, got %s\n", esc_bytes(names_cp[i], 1),
			    onde_encoding_name(ONDE_CP1252),
			    onde_encoding_name(res.encoding));
			dump_errors(&res);
			fail();
		}
		assert_int_equal(s.calls, 1);
		assert_non_null(strstr(sink_text(&s), names_utf8[i]));
		onde_result_free(&res);
		buf_free(&s.out);
		free(data);
	}
}

/* Quoted fields: ';' inside and doubled quotes. */
static void
test_quoted_fields(void **state)
{
	static const char	 want[] = "2\tt\tf\t0330001X\tA;B\tC\"D\tE1\t"
	    "Martin\t\"Paul\"\t2018-09-01\t\\N\tinscrit\t\\N\t\\N\t\\N\t\\N\t"
	    "\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n";
	static const char	 data[] = "uai;ecole;commune;eleve_id;"
	    "nom_eleve;prenom_eleve;date_naissance;statut\n"
	    "\"0330001X\";\"A;B\";\"C\"\"D\";E1;\"Martin\";\"\"\"Paul\"\"\";"
	    "01/09/2018;inscrit\n";
	struct onde_result	 res;
	struct sink		 s;

	(void)state;
	assert_int_equal(run(data, strlen(data), &s, &res), 0);
	NO_ERROR(&res);
	COPY_IS(&s, want);
	onde_result_free(&res);
	buf_free(&s.out);
}

/* A backslash in a name is doubled in the COPY line. */
static void
test_backslash_doubled(void **state)
{
	static const char	 want[] = "2\tt\tf\t0330001X\tO\\\\Brien\t\\\\\tE1\t"
	    "Martin\tPaul\t2018-09-01\t\\N\tinscrit\t\\N\t\\N\t\\N\t\\N\t\\N\t"
	    "\\N\t\\N\t\\N\t\\N\t\\N\n";
	static const char	 data[] = "uai;ecole;commune;eleve_id;"
	    "nom_eleve;prenom_eleve;date_naissance;statut\n"
	    "0330001X;O\\Brien;\\;E1;Martin;Paul;01/09/2018;inscrit\n";
	struct onde_result	 res;
	struct sink		 s;

	(void)state;
	assert_int_equal(run(data, strlen(data), &s, &res), 0);
	NO_ERROR(&res);
	COPY_IS(&s, want);
	onde_result_free(&res);
	buf_free(&s.out);
}

/* A UAI with a wrong check letter. */
static void
test_error_uai_letter(void **state)
{
	static const char	 letters[] = "ABCDEFGHJKLMNPRSTUVWXYZ";
	char			 uai[9], ok;

	(void)state;
	/* good[UAI] is 0330001X; Y is the next letter. */
	assert_int_equal(ref_uai_letter("0330001"), 'X');
	BAD_LINE(line_with(UAI, "0330001Y"), "uai", "lettre de contr");
	/* Another school: the letter after its right one. */
	ok = ref_uai_letter("0750001");
	snprintf(uai, sizeof uai, "0750001%c",
	    letters[(strchr(letters, ok) - letters + 1) % 23]);
	BAD_LINE(line_with(UAI, uai), "uai", "lettre de contr");
}

/* 31/02/2019 is not a date. */
static void
test_error_date(void **state)
{
	(void)state;
	BAD_LINE(line_with(DATE_NAISSANCE, "31/02/2019"), "date_naissance",
	    "31/02/2019");
	BAD_LINE(line_with(DATE_NAISSANCE, "2019-02-01"), "date_naissance",
	    NULL);
}

/* A malformed INE. */
static void
test_error_ine(void **state)
{
	(void)state;
	BAD_LINE(line_with(INE, "12345678901"), "ine", NULL);
	BAD_LINE(line_with(INE, "123456789A1"), "ine", NULL);
}

/* An unknown statut. */
static void
test_error_statut(void **state)
{
	(void)state;
	BAD_LINE(line_with(STATUT, "admis"), "statut", "admis");
	BAD_LINE(line_with(STATUT, "radie"), "statut", "radie");
}

/* An unknown niveau. */
static void
test_error_niveau(void **state)
{
	(void)state;
	BAD_LINE(line_with(NIVEAU, "CM3"), "niveau", "CM3");
	BAD_LINE(line_with(NIVEAU, "6E"), "niveau", NULL);
}

/* resp_legal other than oui or non. */
static void
test_error_resp_legal(void **state)
{
	(void)state;
	BAD_LINE(line_with(RESP_LEGAL, "yes"), "resp_legal", NULL);
	BAD_LINE(line_with(RESP_LEGAL, "1"), "resp_legal", NULL);
	BAD_LINE(line_with(RESP_LEGAL, "o"), "resp_legal", NULL);
}

/* resp_id given without resp_nom. */
static void
test_error_resp_without_nom(void **state)
{
	(void)state;
	BAD_LINE(line_with(RESP_NOM, ""), "resp_nom", NULL);
}

/* resp_nom, resp_prenom or resp_courriel filled without resp_id. */
static void
test_error_names_without_resp_id(void **state)
{
	static const int	 cols[] = { RESP_NOM, RESP_PRENOM,
	    RESP_COURRIEL };
	const char		*v[NCOLS];
	char			 line[1024];
	size_t			 i;
	int			 c;

	(void)state;
	for (i = 0; i < sizeof cols / sizeof cols[0]; i++) {
		memcpy(v, good, sizeof v);
		for (c = RESP_ID; c < NCOLS; c++)
			v[c] = c == cols[i] ? good[c] : NULL;
		BAD_LINE(join(line, sizeof line, v, NCOLS), "resp_id", NULL);
	}
}

/* Any other guardian column filled without resp_id is an error too. */
static void
test_error_guardian_without_resp_id(void **state)
{
	static const int	 cols[] = { RESP_CIVILITE, RESP_LIEN,
	    RESP_LEGAL, RESP_TELEPHONE };
	struct onde_result	 res;
	struct sink		 s;
	const char		*v[NCOLS], *lines[1];
	char			 line[1024], *data;
	size_t			 i;
	int			 c, accepted = 0;

	(void)state;
	for (i = 0; i < sizeof cols / sizeof cols[0]; i++) {
		memcpy(v, good, sizeof v);
		for (c = RESP_ID; c < NCOLS; c++)
			v[c] = c == cols[i] ? good[c] : NULL;
		lines[0] = join(line, sizeof line, v, NCOLS);
		data = file_of("\n", lines, 1);
		if (run(data, strlen(data), &s, &res) != -1 ||
		    res.nerrors != 1 || res.errors[0].line != 2 ||
		    res.errors[0].column == NULL ||
		    strcmp(res.errors[0].column, "resp_id") != 0) {
			print_error("%s = \"%s\" without resp_id: expected an "
			    "error at line 2, column resp_id; got %zu errors "
			    "and the COPY line \"%s\"\n", names[cols[i]],
			    good[cols[i]], res.total_errors,
			    esc(sink_text(&s)));
			dump_errors(&res);
			accepted++;
		}
		onde_result_free(&res);
		buf_free(&s.out);
		free(data);
	}
	if (accepted > 0)
		fail_msg("%d of %zu guardian columns accepted without resp_id",
		    accepted, sizeof cols / sizeof cols[0]);
}

/* A bad email address. */
static void
test_error_email(void **state)
{
	(void)state;
	BAD_LINE(line_with(RESP_COURRIEL, "jean@example"), "resp_courriel",
	    "jean@example");
	BAD_LINE(line_with(RESP_COURRIEL, "jean.example.fr"), "resp_courriel",
	    NULL);
}

/* A line with the wrong number of fields: an error on the whole line. */
static void
test_error_field_count(void **state)
{
	char	line[1100];

	(void)state;
	snprintf(line, sizeof line, "%s;extra", good_line());
	BAD_LINE(line, NULL, NULL);
	snprintf(line, sizeof line, "%s", good_line());
	*strrchr(line, ';') = '\0';
	BAD_LINE(line, NULL, NULL);
	BAD_LINE("0330001X", NULL, NULL);
}

/* A quote inside an unquoted field, or after a closing quote (strict). */
static void
test_error_stray_quote(void **state)
{
	(void)state;
	BAD_LINE(line_with(NOM_ELEVE, "Ma\"rtin"), NULL, "guillemet");
	BAD_LINE(line_with(NOM_ELEVE, "\"Mar\"tin"), NULL, "guillemet");
}

/* Several bad lines: each reported with its line, no row after the first. */
static void
test_several_bad_lines(void **state)
{
	const char		*lines[8];
	char			 l[8][1100];
	char			*data;
	struct onde_result	 res;
	struct sink		 s;

	(void)state;
	snprintf(l[0], sizeof l[0], "%s", good_line());		 /* 2 */
	snprintf(l[1], sizeof l[1], "%s", line_with(STATUT, "x")); /* 3 */
	snprintf(l[2], sizeof l[2], "%s", line_with(RESP_ID, "R2")); /* 4 */
	snprintf(l[3], sizeof l[3], "%s",
	    line_with(DATE_NAISSANCE, "30/02/2020"));		 /* 5 */
	snprintf(l[4], sizeof l[4], "%s", line_with(RESP_ID, "R3")); /* 6 */
	snprintf(l[5], sizeof l[5], "%s;x", line_with(RESP_ID, "R4")); /* 7 */
	snprintf(l[6], sizeof l[6], "%s", line_with(INE, "1"));	 /* 8 */
	snprintf(l[7], sizeof l[7], "%s",
	    line_with(UAI, "0330001Y"));			 /* 9 */
	for (size_t i = 0; i < 8; i++)
		lines[i] = l[i];
	data = file_of("\n", lines, 8);
	assert_int_equal(run(data, strlen(data), &s, &res), -1);
	if (res.total_errors != 5) {
		print_error("expected 5 errors, got %zu\n", res.total_errors);
		dump_errors(&res);
		fail();
	}
	ERROR_AT(&res, 0, 3, "statut", NULL);
	ERROR_AT(&res, 1, 5, "date_naissance", NULL);
	ERROR_AT(&res, 2, 7, NULL, NULL);
	ERROR_AT(&res, 3, 8, "ine", NULL);
	ERROR_AT(&res, 4, 9, "uai", NULL);
	assert_int_equal(res.lines, 8);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.after_error, 0);
	COPY_IS(&s, GOOD_COPY(2));
	onde_result_free(&res);
	buf_free(&s.out);
	free(data);
}

/* A stray quote does not hide the bad lines after it (fixed in one go). */
static void
test_bad_lines_after_stray_quote(void **state)
{
	const char		*lines[4];
	char			 l[4][1100];
	char			*data;
	struct onde_result	 res;
	struct sink		 s;

	(void)state;
	snprintf(l[0], sizeof l[0], "%s", line_with(STATUT, "x")); /* 2 */
	snprintf(l[1], sizeof l[1], "%s", line_with(NOM_ELEVE,
	    "Ma\"rtin"));					 /* 3 */
	snprintf(l[2], sizeof l[2], "%s", line_with(RESP_ID, "R2")); /* 4 */
	snprintf(l[3], sizeof l[3], "%s", line_with(NIVEAU, "XX")); /* 5 */
	for (size_t i = 0; i < 4; i++)
		lines[i] = l[i];
	data = file_of("\n", lines, 4);
	assert_int_equal(run(data, strlen(data), &s, &res), -1);
	ERROR_AT(&res, 0, 2, "statut", NULL);
	ERROR_AT(&res, 1, 3, NULL, "guillemet");
	ERROR_AT(&res, 2, 5, "niveau", NULL);
	assert_int_equal(res.total_errors, 3);
	assert_int_equal(s.calls, 0);
	onde_result_free(&res);
	buf_free(&s.out);
	free(data);
}

/* Blank lines (LF and CRLF) do not shift the numbers of later lines. */
static void
test_blank_lines_keep_numbers(void **state)
{
	static const char	*const eols[] = { "\n", "\r\n" };
	const char		*lines[7];
	char			 bad[1100], second[1100];
	char			*data;
	struct onde_result	 res;
	struct sink		 s;
	size_t			 i;

	(void)state;
	snprintf(bad, sizeof bad, "%s", line_with(NIVEAU, "CM3"));
	snprintf(second, sizeof second, "%s", line_with(RESP_ID, "R2"));
	for (i = 0; i < 2; i++) {
		lines[0] = good_line();		/* 2 */
		lines[1] = "";			/* 3 */
		lines[2] = "";			/* 4 */
		lines[3] = second;		/* 5 */
		lines[4] = "";			/* 6 */
		lines[5] = bad;			/* 7 */
		lines[6] = "";			/* 8 */
		data = file_of(eols[i], lines, 7);
		assert_int_equal(run(data, strlen(data), &s, &res), -1);
		ONE_ERROR(&res);
		ERROR_AT(&res, 0, 7, "niveau", NULL);
		assert_int_equal(s.calls, 2);
		/* Line 5: the same pupil again (not first), a new guardian. */
		assert_non_null(strstr(sink_text(&s), GOOD_COPY(2)
		    "5\tf\tt\t0330001X\t"));
		onde_result_free(&res);
		buf_free(&s.out);
		free(data);
	}
}

/* A quoted value over two physical lines does not shift later numbers. */
static void
test_multiline_value_keeps_numbers(void **state)
{
	const char		*lines[3];
	char			 l3[1100], l5[1100];
	char			*data;
	struct onde_result	 res;
	struct sink		 s;

	(void)state;
	/* Lines 3 and 4 are one record. */
	snprintf(l3, sizeof l3, "%s", line_with(ECOLE, "\"\xc3\x89" "cole\n"
	    "Jaur\xc3\xa8s\""));
	snprintf(l5, sizeof l5, "%s", line_with(STATUT, "x"));
	lines[0] = good_line();		/* 2 */
	lines[1] = l3;			/* 3-4 */
	lines[2] = l5;			/* 5 */
	data = file_of("\n", lines, 3);
	assert_int_equal(run(data, strlen(data), &s, &res), -1);
	if (res.total_errors != 2) {
		print_error("expected 2 errors, got %zu\n", res.total_errors);
		dump_errors(&res);
		fail();
	}
	/* The line feed is refused in the value. */
	assert_int_equal(res.errors[0].line >= 3 && res.errors[0].line <= 4,
	    1);
	ERROR_AT(&res, 1, 5, "statut", NULL);
	onde_result_free(&res);
	buf_free(&s.out);
	free(data);
}

/* A stray quote in a value over two lines: named on its own line, and the
 * lines after it keep their numbers. */
static void
test_multiline_stray_quote_keeps_numbers(void **state)
{
	const char		*lines[3];
	char			 l3[1100], l5[1100];
	char			*data;
	struct onde_result	 res;
	struct sink		 s;

	(void)state;
	/* Lines 3 and 4 are one record, broken on line 4. */
	snprintf(l3, sizeof l3, "%s", line_with(NOM_ELEVE, "\"Mar\ntin\"x"));
	snprintf(l5, sizeof l5, "%s", line_with(STATUT, "x"));
	lines[0] = good_line();		/* 2 */
	lines[1] = l3;			/* 3-4 */
	lines[2] = l5;			/* 5 */
	data = file_of("\n", lines, 3);
	assert_int_equal(run(data, strlen(data), &s, &res), -1);
	if (res.total_errors != 2) {
		print_error("expected 2 errors, got %zu\n", res.total_errors);
		dump_errors(&res);
		fail();
	}
	ERROR_AT(&res, 0, 4, NULL, "guillemet");
	ERROR_AT(&res, 1, 5, "statut", NULL);
	assert_int_equal(s.calls, 1);
	onde_result_free(&res);
	buf_free(&s.out);
	free(data);
}

/* An empty file, blank lines only, or a header alone: refused. */
static void
test_empty_and_header_only(void **state)
{
	static const char	*const files[] = { "", "\n", "\r\n\r\n",
	    "\xef\xbb\xbf", HEADER, HEADER "\n", HEADER "\r\n\r\n" };
	struct onde_result	 res;
	struct sink		 s;
	size_t			 i;
	int			 rc;

	(void)state;
	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		rc = run(files[i], strlen(files[i]), &s, &res);
		if (rc != -1 || res.total_errors == 0 || res.nerrors == 0 ||
		    s.calls != 0) {
			print_error("file \"%s\": expected -1 and an error, "
			    "got %d, %zu errors, %d rows\n",
			    esc(strlen(files[i]) > 30 ? "HEADER..." : files[i]),
			    rc, res.total_errors, s.calls);
			fail();
		}
		assert_non_null(res.errors[0].reason);
		assert_int_equal(res.lines, 0);
		onde_result_free(&res);
		buf_free(&s.out);
	}
}

/* Past ONDE_MAX_ERRORS errors only the count grows. */
static void
test_max_errors(void **state)
{
	struct buf		 b;
	struct onde_result	 res;
	struct sink		 s;
	char			 bad[1100];
	size_t			 i, n = ONDE_MAX_ERRORS + 234;

	(void)state;
	snprintf(bad, sizeof bad, "%s\n", line_with(STATUT, "x"));
	buf_init(&b);
	buf_add_str(&b, HEADER "\n");
	for (i = 0; i < n; i++)
		buf_add_str(&b, bad);
	assert_int_equal(run(buf_head(&b), buf_left(&b), &s, &res), -1);
	assert_int_equal(res.nerrors, ONDE_MAX_ERRORS);
	assert_int_equal(res.total_errors, n);
	assert_int_equal(res.lines, n);
	ERROR_AT(&res, 0, 2, "statut", NULL);
	ERROR_AT(&res, ONDE_MAX_ERRORS - 1, ONDE_MAX_ERRORS + 1, "statut",
	    NULL);
	assert_int_equal(s.calls, 0);
	onde_result_free(&res);
	buf_free(&s.out);
	buf_free(&b);
}

/* onde_errors_json: line, column, reason, "ligne N, colonne X : raison". */
static void
test_errors_json(void **state)
{
	const char		*lines[3];
	char			 l2[1100], l3[1100], want[1200];
	char			*data;
	struct onde_result	 res;
	struct sink		 s;
	json_t			*a, *o;
	size_t			 i;

	(void)state;
	snprintf(l2, sizeof l2, "%s", line_with(STATUT, "x"));
	snprintf(l3, sizeof l3, "%s;y", good_line());
	lines[0] = l2;
	lines[1] = good_line();
	lines[2] = l3;
	data = file_of("\n", lines, 3);
	assert_int_equal(run(data, strlen(data), &s, &res), -1);
	assert_int_equal(res.nerrors, 2);
	a = onde_errors_json(&res);
	assert_non_null(a);
	assert_true(json_is_array(a));
	assert_int_equal(json_array_size(a), 2);
	for (i = 0; i < 2; i++) {
		o = json_array_get(a, i);
		assert_true(json_is_object(o));
		assert_int_equal(json_integer_value(json_object_get(o, "line")),
		    res.errors[i].line);
		assert_string_equal(json_string_value(json_object_get(o,
		    "reason")), res.errors[i].reason);
	}
	o = json_array_get(a, 0);
	assert_int_equal(json_integer_value(json_object_get(o, "line")), 2);
	assert_string_equal(json_string_value(json_object_get(o, "column")),
	    "statut");
	snprintf(want, sizeof want, "ligne 2, colonne statut : %s",
	    res.errors[0].reason);
	assert_string_equal(json_string_value(json_object_get(o, "text")),
	    want);
	o = json_array_get(a, 1);
	assert_int_equal(json_integer_value(json_object_get(o, "line")), 4);
	assert_true(json_is_null(json_object_get(o, "column")));
	snprintf(want, sizeof want, "ligne 4 : %s", res.errors[1].reason);
	assert_string_equal(json_string_value(json_object_get(o, "text")),
	    want);
	json_decref(a);
	onde_result_free(&res);
	buf_free(&s.out);
	free(data);
}

/* Every '#' of the text (a new string) as a NUL byte, which a literal
 * cannot hold; the length stays that of the text. */
static char *
with_nul(const char *text, size_t *len)
{
	char	*data = strdup(text), *p;

	assert_non_null(data);
	*len = strlen(data);
	for (p = data; (p = strchr(p, '#')) != NULL; p++)
		*p = '\0';
	return data;
}

/* A NUL byte is a bad line, in either encoding, never a field cut short:
 * "Martin\0" must not pass for "Martin". */
static void
test_nul_byte(void **state)
{
	const char		*lines[3];
	char			 l3[1100], l4[1100], want[200];
	char			*utf8, *cp, *data;
	struct onde_result	 res;
	struct sink		 s;
	json_t			*a;
	size_t			 i, len;

	(void)state;
	/* Another pupil, so that only the NUL byte can make line 3 bad. */
	snprintf(l3, sizeof l3, "%s", line_withv(ELEVE_ID, "E3", INE, "",
	    NOM_ELEVE, "Martin#", -1));
	snprintf(l4, sizeof l4, "%s", line_withv(ELEVE_ID, "E9", INE,
	    "9876543210B", STATUT, "x", -1));
	lines[0] = good_line();		/* 2 */
	lines[1] = l3;			/* 3 */
	lines[2] = l4;			/* 4 */
	utf8 = file_of("\n", lines, 3);
	cp = to_cp1252(utf8);
	for (i = 0; i < 2; i++) {
		data = with_nul(i == 0 ? utf8 : cp, &len);
		assert_int_equal(run(data, len, &s, &res), -1);
		assert_int_equal(res.encoding, i == 0 ? ONDE_UTF8 :
		    ONDE_CP1252);
		if (res.total_errors != 2) {
			print_error("expected 2 errors, got %zu\n",
			    res.total_errors);
			dump_errors(&res);
			fail();
		}
		ERROR_AT(&res, 0, 3, NULL, "caractère nul");
		/* The line after it is still read and checked. */
		ERROR_AT(&res, 1, 4, "statut", NULL);
		assert_int_equal(res.lines, 3);
		assert_int_equal(s.calls, 1);
		COPY_IS(&s, GOOD_COPY(2));
		a = onde_errors_json(&res);
		snprintf(want, sizeof want, "ligne 3 : %s",
		    res.errors[0].reason);
		assert_string_equal(json_string_value(json_object_get(
		    json_array_get(a, 0), "text")), want);
		json_decref(a);
		onde_result_free(&res);
		buf_free(&s.out);
		free(data);
	}
	free(utf8);
	free(cp);

	/* Inside a quoted value over two lines: the line of the byte. */
	snprintf(l3, sizeof l3, "%s", line_with(ECOLE, "\"\xc3\x89" "cole\n"
	    "Jau#r\xc3\xa8s\""));
	snprintf(l4, sizeof l4, "%s", line_with(NIVEAU, "XX"));
	lines[1] = l3;			/* 3-4 */
	lines[2] = l4;			/* 5 */
	utf8 = file_of("\n", lines, 3);
	data = with_nul(utf8, &len);
	assert_int_equal(run(data, len, &s, &res), -1);
	if (res.total_errors != 2) {
		print_error("expected 2 errors, got %zu\n", res.total_errors);
		dump_errors(&res);
		fail();
	}
	ERROR_AT(&res, 0, 4, NULL, "caractère nul");
	ERROR_AT(&res, 1, 5, "niveau", NULL);
	onde_result_free(&res);
	buf_free(&s.out);
	free(data);
	free(utf8);

	/* In the header: nothing after it can be read. */
	lines[1] = l4;
	utf8 = file_of("\n", lines, 2);
	utf8[5] = '#';			/* "uai;e#ole" */
	data = with_nul(utf8, &len);
	assert_int_equal(run(data, len, &s, &res), -1);
	ONE_ERROR(&res);
	ERROR_AT(&res, 0, 1, NULL, "caractère nul");
	assert_int_equal(res.lines, 0);
	assert_int_equal(s.calls, 0);
	onde_result_free(&res);
	buf_free(&s.out);
	free(data);
	free(utf8);
}

/* The row callback returning -1 stops the reading. */
static void
test_row_stop(void **state)
{
	const char		*lines[4];
	char			 bad[1100], l3[1100], l4[1100];
	char			*data;
	struct onde_result	 res;
	struct sink		 s;

	(void)state;
	snprintf(bad, sizeof bad, "%s", line_with(STATUT, "x"));
	snprintf(l3, sizeof l3, "%s", line_with(RESP_ID, "R2"));
	snprintf(l4, sizeof l4, "%s", line_with(RESP_ID, "R3"));
	lines[0] = good_line();
	lines[1] = l3;
	lines[2] = l4;
	lines[3] = bad;
	data = file_of("\n", lines, 4);
	run_stop(data, &s, &res, 1);
	assert_int_equal(s.calls, 1);
	COPY_IS(&s, GOOD_COPY(2));
	/* Nothing past the stop is read: the bad line 5 is not seen. */
	assert_int_equal(res.total_errors, 0);
	onde_result_free(&res);
	buf_free(&s.out);

	run_stop(data, &s, &res, 2);
	assert_int_equal(s.calls, 2);
	/* Line 3: the same pupil again (not first), a new guardian. */
	assert_non_null(strstr(sink_text(&s), GOOD_COPY(2)
	    "3\tf\tt\t0330001X\t"));
	assert_int_equal(res.total_errors, 0);
	onde_result_free(&res);
	buf_free(&s.out);
	free(data);
}

/* Lines that contradict earlier ones: the same pupil or guardian described
 * two ways, a link given twice, one INE for two pupils; each named with
 * the line it contradicts, and the first line of each is flagged. */
static void
test_contradictions(void **state)
{
	const char		*lines[5];
	char			 l[5][1100];
	char			*data;
	struct onde_result	 res;
	struct sink		 s;
	size_t			 i;

	(void)state;
	snprintf(l[0], sizeof l[0], "%s", good_line());			/* 2 */
	snprintf(l[1], sizeof l[1], "%s", line_with(PRENOM_ELEVE, "Zoé"));	/* 3 */
	snprintf(l[2], sizeof l[2], "%s", line_withv(ELEVE_ID, "E7",
	    RESP_PRENOM, "Autre", -1));					/* 4 */
	snprintf(l[3], sizeof l[3], "%s", good_line());			/* 5 */
	snprintf(l[4], sizeof l[4], "%s", line_withv(ELEVE_ID, "E8",
	    RESP_ID, "R8", -1));					/* 6 */
	for (i = 0; i < 5; i++)
		lines[i] = l[i];
	data = file_of("\n", lines, 5);
	assert_int_equal(run(data, strlen(data), &s, &res), -1);
	if (res.total_errors != 6) {
		print_error("expected 6 errors, got %zu\n", res.total_errors);
		dump_errors(&res);
		fail();
	}
	ERROR_AT(&res, 0, 3, "eleve_id", "décrit autrement ligne 2");
	ERROR_AT(&res, 1, 3, "resp_id", "déjà donné ligne 2");
	ERROR_AT(&res, 2, 4, "resp_id", "décrit autrement ligne 2");
	ERROR_AT(&res, 3, 4, "ine", "l'élève E-2017.042 ligne 2");
	ERROR_AT(&res, 4, 5, "resp_id", "déjà donné ligne 2");
	ERROR_AT(&res, 5, 6, "ine", "l'élève E-2017.042 ligne 2");
	/* Only the good line before the first error was written. */
	assert_int_equal(s.calls, 1);
	COPY_IS(&s, GOOD_COPY(2));
	onde_result_free(&res);
	buf_free(&s.out);
	free(data);
}

/* The prints of onde-print.c: one per school, of its lines whatever
 * their order and numbers, and of nothing else. */
struct print_sink {
	char		uai[4][16];
	unsigned char	print[4][32];
	int		n;
};

static void
print_take(void *arg, const char *uai, const unsigned char *p, size_t len)
{
	struct print_sink	*s = arg;

	assert_int_equal(len, 32);
	assert_true(s->n < 4);
	snprintf(s->uai[s->n], sizeof s->uai[s->n], "%s", uai);
	memcpy(s->print[s->n++], p, 32);
}

static void
prints_of(const char *const *lines, size_t n, struct print_sink *s)
{
	struct onde_prints	p;
	size_t			i;
	int			j, k;
	char			uai[16];
	unsigned char		print[32];

	onde_prints_init(&p);
	for (i = 0; i < n; i++)
		assert_int_equal(onde_prints_add(&p, lines[i],
		    strlen(lines[i])), 0);
	memset(s, 0, sizeof *s);
	onde_prints_foreach(&p, print_take, s);
	onde_prints_free(&p);
	/* In UAI order, to compare runs. */
	for (j = 1; j < s->n; j++)
		for (k = j; k > 0 && strcmp(s->uai[k - 1], s->uai[k]) > 0;
		    k--) {
			memcpy(uai, s->uai[k], sizeof uai);
			memcpy(s->uai[k], s->uai[k - 1], sizeof uai);
			memcpy(s->uai[k - 1], uai, sizeof uai);
			memcpy(print, s->print[k], 32);
			memcpy(s->print[k], s->print[k - 1], 32);
			memcpy(s->print[k - 1], print, 32);
		}
}

static void
test_school_prints(void **state)
{
	static const char *const a[] = {
		"2\tt\tt\t0330001A\tE1\tDUPONT\n",
		"3\tf\tf\t0330002B\tE2\tMARTIN\n",
		"4\tt\tf\t0330001A\tE3\tDURAND\n",
	};
	/* The same lines, other order, other numbers and flags. */
	static const char *const b[] = {
		"9\tf\tf\t0330001A\tE3\tDURAND\n",
		"7\tt\tt\t0330002B\tE2\tMARTIN\n",
		"8\tf\tt\t0330001A\tE1\tDUPONT\n",
	};
	/* One field of one line of 0330001A changed. */
	static const char *const c[] = {
		"2\tt\tt\t0330001A\tE1\tDUPONT\n",
		"3\tf\tf\t0330002B\tE2\tMARTIN\n",
		"4\tt\tf\t0330001A\tE3\tDURANT\n",
	};
	struct print_sink	pa, pb, pc;
	struct onde_prints	p;

	(void)state;
	prints_of(a, 3, &pa);
	prints_of(b, 3, &pb);
	prints_of(c, 3, &pc);
	assert_int_equal(pa.n, 2);
	assert_string_equal(pa.uai[0], "0330001A");
	assert_string_equal(pa.uai[1], "0330002B");
	assert_memory_equal(pa.print, pb.print, sizeof pa.print);
	assert_memory_not_equal(pa.print[0], pc.print[0], 32);
	assert_memory_equal(pa.print[1], pc.print[1], 32);
	assert_memory_not_equal(pa.print[0], pa.print[1], 32);

	/* Many schools: the table grows and keeps each apart. */
	{
		char	line[64];
		int	i;

		onde_prints_init(&p);
		for (i = 0; i < 5000; i++) {
			snprintf(line, sizeof line, "%d\tt\tt\t%07dA\tE\n",
			    i + 2, i % 1500);
			assert_int_equal(onde_prints_add(&p, line,
			    strlen(line)), 0);
		}
		assert_int_equal(p.count, 1500);
		onde_prints_free(&p);
	}
	onde_prints_init(&p);
	assert_int_equal(onde_prints_add(&p, "2\tt\tt\n", 7), -1);
	onde_prints_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_full),
		cmocka_unit_test(test_minimal_absent_values),
		cmocka_unit_test(test_header_required_only),
		cmocka_unit_test(test_header_case_order_unknown),
		cmocka_unit_test(test_header_missing_required),
		cmocka_unit_test(test_header_duplicate),
		cmocka_unit_test(test_crlf_lf),
		cmocka_unit_test(test_encodings),
		cmocka_unit_test(test_cp1252_undefined_byte),
		cmocka_unit_test(test_cp1252_not_utf8_surrogate),
		cmocka_unit_test(test_quoted_fields),
		cmocka_unit_test(test_backslash_doubled),
		cmocka_unit_test(test_error_uai_letter),
		cmocka_unit_test(test_error_date),
		cmocka_unit_test(test_error_ine),
		cmocka_unit_test(test_error_statut),
		cmocka_unit_test(test_error_niveau),
		cmocka_unit_test(test_error_resp_legal),
		cmocka_unit_test(test_error_resp_without_nom),
		cmocka_unit_test(test_error_names_without_resp_id),
		cmocka_unit_test(test_error_guardian_without_resp_id),
		cmocka_unit_test(test_error_email),
		cmocka_unit_test(test_error_field_count),
		cmocka_unit_test(test_error_stray_quote),
		cmocka_unit_test(test_several_bad_lines),
		cmocka_unit_test(test_bad_lines_after_stray_quote),
		cmocka_unit_test(test_school_prints),
		cmocka_unit_test(test_blank_lines_keep_numbers),
		cmocka_unit_test(test_multiline_value_keeps_numbers),
		cmocka_unit_test(test_multiline_stray_quote_keeps_numbers),
		cmocka_unit_test(test_empty_and_header_only),
		cmocka_unit_test(test_max_errors),
		cmocka_unit_test(test_errors_json),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_header_open_quote),
		cmocka_unit_test(test_row_stop),
		cmocka_unit_test(test_contradictions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
