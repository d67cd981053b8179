/*
 * The ONDE reader. The file is decoded once into UTF-8 (a file that is not
 * valid UTF-8 is Windows-1252), then parsed record by record; the header
 * maps column names to the known columns, and each data record is checked
 * field by field before it is written out as one COPY line. All errors are
 * collected, so the director fixes the file in one go.
 */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "buf.h"
#include "log.h"
#include "onde.h"
#include "utf8.h"
#include "valid.h"
#include "xmalloc.h"

enum onde_column {
	C_UAI, C_ECOLE, C_COMMUNE, C_ELEVE_ID, C_NOM_ELEVE, C_PRENOM_ELEVE,
	C_DATE_NAISSANCE, C_INE, C_STATUT, C_CLASSE, C_NIVEAU, C_RESP_ID,
	C_RESP_CIVILITE, C_RESP_NOM, C_RESP_PRENOM, C_RESP_LIEN, C_RESP_LEGAL,
	C_RESP_COURRIEL, C_RESP_TELEPHONE, C__COUNT
};

/* The columns, in the order of the staging table. */
static const struct {
	const char	*name;
	int		 required;
	size_t		 max;		/* characters */
} onde_columns[C__COUNT] = {
	[C_UAI] = { "uai", 1, 8 },
	[C_ECOLE] = { "ecole", 0, 120 },
	[C_COMMUNE] = { "commune", 0, 80 },
	[C_ELEVE_ID] = { "eleve_id", 1, 40 },
	[C_NOM_ELEVE] = { "nom_eleve", 1, 100 },
	[C_PRENOM_ELEVE] = { "prenom_eleve", 1, 100 },
	[C_DATE_NAISSANCE] = { "date_naissance", 1, 10 },
	[C_INE] = { "ine", 0, 11 },
	[C_STATUT] = { "statut", 1, 20 },
	[C_CLASSE] = { "classe", 0, 40 },
	[C_NIVEAU] = { "niveau", 0, 3 },
	[C_RESP_ID] = { "resp_id", 0, 40 },
	[C_RESP_CIVILITE] = { "resp_civilite", 0, 3 },
	[C_RESP_NOM] = { "resp_nom", 0, 100 },
	[C_RESP_PRENOM] = { "resp_prenom", 0, 100 },
	[C_RESP_LIEN] = { "resp_lien", 0, 20 },
	[C_RESP_LEGAL] = { "resp_legal", 0, 3 },
	[C_RESP_COURRIEL] = { "resp_courriel", 0, 254 },
	[C_RESP_TELEPHONE] = { "resp_telephone", 0, 30 },
};

static const char *const onde_levels[] = { "PS", "MS", "GS", "CP", "CE1",
    "CE2", "CM1", "CM2", NULL };

struct onde_reader {
	struct onde_result	*res;
	onde_row_fn		 row_fn;
	void			*row_arg;
	int			 line;		/* physical line of the record */
	int			 embedded;	/* line breaks inside its quotes */
	int			 nul_line;	/* of a NUL byte in it; 0: none */
	int			 header_done;
	int			 stop;		/* header unusable */
	/* The current record: its fields' bytes, NUL-separated, in one
	 * buffer (no allocation per field), and pointers into it. */
	struct buf		 record;
	size_t			*offsets;
	char			**fields;
	size_t			 nfields;
	size_t			 size;
	/* Header: file column -> enum onde_column, or -1 (ignored). */
	int			*map;
	size_t			 ncolumns;
	struct buf		 out;
	/* What earlier lines said, to find lines that contradict them: an
	 * open-addressing table (glibc's hsearch hashes poorly and spent
	 * most of the reading in strcmp). */
	struct seen_slot	*seen;
	size_t			 seen_mask;
	size_t			 seen_used;
	struct onde_arena	*arena;
};

struct seen_slot {
	uint64_t		 hash;
	struct onde_seen	*data;		/* NULL: empty */
};

/* Keys and values of the seen table live in blocks freed together. */
struct onde_arena {
	struct onde_arena	*next;
	size_t			 used;
	size_t			 size;
	char			 data[];
};

/* Blocks start small (a school's file) and double up to the size that
 * huge pages serve (an academy's). */
#define ARENA_FIRST	(64u << 10)
#define ARENA_MAX	(8u << 20)

/* What a key of the seen table remembers. */
struct onde_seen {
	const char	*key;		/* kind letter, then the key */
	int		 line;
	uint64_t	 hash;		/* of the data described */
	const char	*other;		/* for an INE: its pupil */
};

const char *
onde_encoding_name(enum onde_encoding e)
{
	switch (e) {
	case ONDE_UTF8:
		return "UTF-8";
	case ONDE_UTF8_BOM:
		return "UTF-8 (BOM)";
	case ONDE_CP1252:
		return "Windows-1252";
	}
	return "?";
}

static void __attribute__((format(printf, 4, 5)))
onde_error(struct onde_result *res, int line, const char *column,
    const char *fmt, ...)
{
	struct onde_error	*e;
	va_list			 ap;

	res->total_errors++;
	if (res->nerrors == ONDE_MAX_ERRORS)
		return;
	res->errors = xreallocarray(res->errors, res->nerrors + 1,
	    sizeof *res->errors);
	e = &res->errors[res->nerrors++];
	e->line = line;
	e->column = column != NULL ? xstrdup(column) : NULL;
	va_start(ap, fmt);
	if (vasprintf(&e->reason, fmt, ap) == -1)
		e->reason = xstrdup("erreur");
	va_end(ap);
}

void
onde_result_free(struct onde_result *res)
{
	size_t	i;

	for (i = 0; i < res->nerrors; i++) {
		free(res->errors[i].column);
		free(res->errors[i].reason);
	}
	free(res->errors);
	memset(res, 0, sizeof *res);
}

json_t *
onde_errors_json(const struct onde_result *res)
{
	const struct onde_error	*e;
	json_t			*list = json_array();
	char			*text;
	size_t			 i;

	for (i = 0; i < res->nerrors; i++) {
		e = &res->errors[i];
		if (e->column != NULL)
			xasprintf(&text, "ligne %d, colonne %s : %s", e->line,
			    e->column, e->reason);
		else
			xasprintf(&text, "ligne %d : %s", e->line, e->reason);
		json_array_append_new(list, json_pack("{s:i, s:s?, s:s, s:s}",
		    "line", e->line, "column", e->column, "reason", e->reason,
		    "text", text));
		free(text);
	}
	return list;
}

/* Append a value to the COPY line: NULL as \N, backslashes doubled (the
 * checks left no control character to escape). */
static void
copy_field(struct buf *out, const char *v, int last)
{
	size_t	n;

	if (v == NULL)
		buf_add(out, "\\N", 2);
	else {
		while (*v != '\0') {
			n = strcspn(v, "\\");
			buf_add(out, v, n);
			v += n;
			if (*v == '\\') {
				buf_add(out, "\\\\", 2);
				v++;
			}
		}
	}
	buf_add(out, last ? "\n" : "\t", 1);
}

static int
identifier_valid(const char *s)
{
	for (; *s != '\0'; s++) {
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		    *s == '.'))
			return 0;
	}
	return 1;
}

static void
upper_ascii(char *s)
{
	for (; *s != '\0'; s++) {
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
	}
}

static void
lower_ascii(char *s)
{
	for (; *s != '\0'; s++) {
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
	}
}

/* The header: known columns in any case and order, others ignored. */
static void
onde_header(struct onde_reader *r)
{
	size_t	i;
	int	c, seen[C__COUNT] = { 0 };
	char	*name;

	r->ncolumns = r->nfields;
	r->map = xcalloc(r->ncolumns > 0 ? r->ncolumns : 1, sizeof *r->map);
	for (i = 0; i < r->nfields; i++) {
		r->map[i] = -1;
		name = r->fields[i];
		if (name == NULL)
			continue;
		lower_ascii(name);
		for (c = 0; c < C__COUNT; c++) {
			if (strcmp(name, onde_columns[c].name) != 0)
				continue;
			if (seen[c]) {
				onde_error(r->res, r->line, onde_columns[c].name,
				    "colonne en double");
				r->stop = 1;
			}
			seen[c] = 1;
			r->map[i] = c;
		}
	}
	for (c = 0; c < C__COUNT; c++) {
		if (onde_columns[c].required && !seen[c]) {
			onde_error(r->res, r->line, onde_columns[c].name,
			    "colonne obligatoire absente de l'en-tête");
			r->stop = 1;
		}
	}
	r->header_done = 1;
}

static void *
arena_alloc(struct onde_reader *r, size_t n)
{
	struct onde_arena	*a = r->arena;
	size_t			 size;

	n = (n + 7) & ~(size_t)7;
	if (n > ARENA_FIRST)
		fatalx("arena_alloc: %zu bytes", n);
	if (a == NULL || a->size - a->used < n) {
		size = a == NULL ? ARENA_FIRST : a->size < ARENA_MAX ?
		    a->size * 2 : ARENA_MAX;
		a = xcalloc(1, sizeof *a + size);
		xmadvise_huge(a, sizeof *a + size);
		a->size = size;
		a->next = r->arena;
		r->arena = a;
	}
	a->used += n;
	return a->data + a->used - n;
}

/* FNV-1a over some fields, each ended by a separator. */
static uint64_t
fields_hash(char *const *v, const int *cols)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	const char	*p;

	for (; *cols >= 0; cols++) {
		for (p = v[*cols] != NULL ? v[*cols] : ""; *p != '\0'; p++)
			h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
		h = (h ^ 0x1f) * 0x100000001b3ULL;
	}
	return h;
}

static uint64_t
key_hash(const char *kind, const char *key)
{
	uint64_t	h = 0xcbf29ce484222325ULL;

	for (; *kind != '\0'; kind++)
		h = (h ^ (unsigned char)*kind) * 0x100000001b3ULL;
	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 0x100000001b3ULL;
	return h;
}

/* Double the table once it is half full. */
static void
seen_grow(struct onde_reader *r)
{
	struct seen_slot	*old = r->seen;
	size_t			 oldsize = r->seen_mask + 1, i, j;

	r->seen_mask = oldsize * 2 - 1;
	r->seen = xcalloc(oldsize * 2, sizeof *r->seen);
	/* A lookup lands anywhere in tens of megabytes: with 4 kB pages
	 * nearly every one also missed the TLB. */
	xmadvise_huge(r->seen, oldsize * 2 * sizeof *r->seen);
	for (i = 0; i < oldsize; i++) {
		if (old[i].data == NULL)
			continue;
		for (j = old[i].hash & r->seen_mask; r->seen[j].data != NULL;
		    j = (j + 1) & r->seen_mask)
			;
		r->seen[j] = old[i];
	}
	free(old);
}

/* Remember key as seen on this line, or return what an earlier line said
 * of it. */
static struct onde_seen *
seen_before(struct onde_reader *r, const char *kind, const char *key,
    uint64_t hash, const char *other)
{
	struct seen_slot	*slot;
	struct onde_seen	*s;
	uint64_t		 h = key_hash(kind, key);
	size_t			 i, klen = strlen(kind), len = strlen(key);
	char			*k;

	if (r->seen_used * 2 >= r->seen_mask)
		seen_grow(r);
	for (i = h & r->seen_mask;; i = (i + 1) & r->seen_mask) {
		slot = &r->seen[i];
		if (slot->data == NULL)
			break;
		if (slot->hash == h && strncmp(slot->data->key, kind,
		    klen) == 0 && strcmp(slot->data->key + klen, key) == 0)
			return slot->data;
	}
	k = arena_alloc(r, klen + len + 1);
	memcpy(k, kind, klen);
	memcpy(k + klen, key, len + 1);
	s = arena_alloc(r, sizeof *s);
	s->key = k;
	s->line = r->line;
	s->hash = hash;
	s->other = other != NULL ? strcpy(arena_alloc(r, strlen(other) + 1),
	    other) : NULL;
	slot->hash = h;
	slot->data = s;
	r->seen_used++;
	return NULL;
}

/*
 * Lines that contradict earlier ones: the same pupil or guardian described
 * two ways, a link given twice, one INE for two pupils.
 */
static void
onde_contradictions(struct onde_reader *r, char *const *v, int *first_pupil,
    int *first_guardian)
{
	static const int	 pupil[] = { C_UAI, C_NOM_ELEVE, C_PRENOM_ELEVE,
				    C_DATE_NAISSANCE, C_INE, C_STATUT,
				    C_CLASSE, C_NIVEAU, -1 };
	static const int	 guardian[] = { C_RESP_CIVILITE, C_RESP_NOM,
				    C_RESP_PRENOM, C_RESP_COURRIEL,
				    C_RESP_TELEPHONE, -1 };
	struct onde_seen	*s;
	char			 link[256];
	uint64_t		 h;

	h = fields_hash(v, pupil);
	s = seen_before(r, "p", v[C_ELEVE_ID], h, NULL);
	*first_pupil = s == NULL;
	if (s != NULL && s->hash != h)
		onde_error(r->res, r->line, "eleve_id", "l'élève %s est décrit "
		    "autrement ligne %d", v[C_ELEVE_ID], s->line);
	*first_guardian = 0;
	if (v[C_RESP_ID] != NULL) {
		h = fields_hash(v, guardian);
		s = seen_before(r, "g", v[C_RESP_ID], h, NULL);
		*first_guardian = s == NULL;
		if (s != NULL && s->hash != h)
			onde_error(r->res, r->line, "resp_id", "le responsable "
			    "%s est décrit autrement ligne %d", v[C_RESP_ID],
			    s->line);
	}
	/* Both ids are at most 40 characters (checked before). */
	snprintf(link, sizeof link, "%s\x1f%s", v[C_ELEVE_ID],
	    v[C_RESP_ID] != NULL ? v[C_RESP_ID] : "");
	if ((s = seen_before(r, "l", link, 0, NULL)) != NULL)
		onde_error(r->res, r->line, "resp_id", "lien élève-responsable "
		    "déjà donné ligne %d", s->line);
	if (v[C_INE] != NULL && (s = seen_before(r, "i", v[C_INE], 0,
	    v[C_ELEVE_ID])) != NULL && strcmp(s->other, v[C_ELEVE_ID]) != 0)
		onde_error(r->res, r->line, "ine", "INE déjà porté par l'élève "
		    "%s ligne %d", s->other, s->line);
}

/* The known columns of the record in v, by enum onde_column (NULL for
 * an empty field); -1 if the record has not the header's fields. */
static int
onde_record_fields(struct onde_reader *r, char *v[C__COUNT])
{
	size_t	i;

	if (r->nfields != r->ncolumns) {
		onde_error(r->res, r->line, NULL, "%zu champs au lieu de %zu "
		    "(séparateur « ; » attendu)", r->nfields, r->ncolumns);
		return -1;
	}
	for (i = 0; i < r->nfields; i++) {
		if (r->map[i] >= 0 && r->fields[i] != NULL &&
		    r->fields[i][0] != '\0')
			v[r->map[i]] = r->fields[i];
	}
	return 0;
}

/* Text: valid, without control characters, not too long. A field that
 * is not is dropped, so later checks do not report it again. */
static void
onde_check_text(struct onde_reader *r, char *v[C__COUNT])
{
	int	c;

	for (c = 0; c < C__COUNT; c++) {
		if (v[c] == NULL) {
			if (onde_columns[c].required)
				onde_error(r->res, r->line,
				    onde_columns[c].name,
				    "valeur obligatoire manquante");
			continue;
		}
		if (!valid_utf8_text(v[c], strlen(v[c]))) {
			onde_error(r->res, r->line, onde_columns[c].name,
			    "caractère de contrôle ou invalide");
			v[c] = NULL;
		} else if (utf8_chars(v[c]) > onde_columns[c].max) {
			onde_error(r->res, r->line, onde_columns[c].name,
			    "valeur trop longue (%zu caractères au plus)",
			    onde_columns[c].max);
			v[c] = NULL;
		}
	}
}

/* The pupil's fields; the birth date, as PostgreSQL reads it, in date. */
static void
onde_check_pupil(struct onde_reader *r, char *v[C__COUNT], char date[16])
{
	struct onde_result	*res = r->res;
	const char		*cause;
	size_t			 i;
	int			 y, m, d;

	if (v[C_UAI] != NULL) {
		if (valid_uai(v[C_UAI], &cause) == -1)
			onde_error(res, r->line, "uai", "%s", cause);
		upper_ascii(v[C_UAI]);
	}
	if (v[C_ELEVE_ID] != NULL && !identifier_valid(v[C_ELEVE_ID]))
		onde_error(res, r->line, "eleve_id", "identifiant invalide "
		    "(lettres, chiffres, « - », « _ » et « . »)");
	if (v[C_DATE_NAISSANCE] != NULL) {
		if (valid_date(v[C_DATE_NAISSANCE], &y, &m, &d, &cause) == -1)
			onde_error(res, r->line, "date_naissance", "%s : %s",
			    cause, v[C_DATE_NAISSANCE]);
		else
			snprintf(date, 16, "%04d-%02d-%02d", y, m, d);
	}
	if (v[C_INE] != NULL) {
		if (valid_ine(v[C_INE], &cause) == -1)
			onde_error(res, r->line, "ine", "%s", cause);
		upper_ascii(v[C_INE]);
	}
	if (v[C_STATUT] != NULL && strcmp(v[C_STATUT], "admis_definitif") != 0 &&
	    strcmp(v[C_STATUT], "admis_provisoire") != 0 &&
	    strcmp(v[C_STATUT], "inscrit") != 0)
		onde_error(res, r->line, "statut", "statut inconnu « %s » "
		    "(admis_definitif, admis_provisoire ou inscrit)",
		    v[C_STATUT]);
	if (v[C_NIVEAU] != NULL) {
		upper_ascii(v[C_NIVEAU]);
		for (i = 0; onde_levels[i] != NULL; i++) {
			if (strcmp(onde_levels[i], v[C_NIVEAU]) == 0)
				break;
		}
		if (onde_levels[i] == NULL)
			onde_error(res, r->line, "niveau", "niveau inconnu « %s »"
			    " (PS, MS, GS, CP, CE1, CE2, CM1 ou CM2)",
			    v[C_NIVEAU]);
	}
}

/* A guardian has an id, a name and a legal flag; no guardian, none of
 * the guardian's fields. */
static void
onde_check_guardian_given(struct onde_reader *r, char *v[C__COUNT])
{
	struct onde_result	*res = r->res;
	int			 c;

	if (v[C_RESP_ID] == NULL) {
		for (c = C_RESP_CIVILITE; c <= C_RESP_TELEPHONE; c++) {
			if (v[c] != NULL) {
				onde_error(res, r->line, "resp_id",
				    "responsable sans identifiant");
				break;
			}
		}
		return;
	}
	if (!identifier_valid(v[C_RESP_ID]))
		onde_error(res, r->line, "resp_id", "identifiant invalide");
	if (v[C_RESP_NOM] == NULL)
		onde_error(res, r->line, "resp_nom", "nom du responsable "
		    "manquant");
	if (v[C_RESP_PRENOM] == NULL)
		onde_error(res, r->line, "resp_prenom", "prénom du "
		    "responsable manquant");
	if (v[C_RESP_LEGAL] == NULL)
		onde_error(res, r->line, "resp_legal", "« oui » ou « non » "
		    "attendu");
}

/* The values of the guardian's fields. */
static void
onde_check_guardian(struct onde_reader *r, char *v[C__COUNT])
{
	struct onde_result	*res = r->res;
	const char		*cause;

	onde_check_guardian_given(r, v);
	if (v[C_RESP_LEGAL] != NULL) {
		lower_ascii(v[C_RESP_LEGAL]);
		if (strcmp(v[C_RESP_LEGAL], "oui") != 0 &&
		    strcmp(v[C_RESP_LEGAL], "non") != 0)
			onde_error(res, r->line, "resp_legal", "« oui » ou "
			    "« non » attendu, pas « %s »", v[C_RESP_LEGAL]);
	}
	if (v[C_RESP_CIVILITE] != NULL &&
	    strcmp(v[C_RESP_CIVILITE], "M.") != 0 &&
	    strcmp(v[C_RESP_CIVILITE], "Mme") != 0)
		onde_error(res, r->line, "resp_civilite", "« M. » ou « Mme » "
		    "attendu");
	if (v[C_RESP_COURRIEL] != NULL) {
		if (valid_email(v[C_RESP_COURRIEL], &cause) == -1)
			onde_error(res, r->line, "resp_courriel", "%s : %s",
			    cause, v[C_RESP_COURRIEL]);
		lower_ascii(v[C_RESP_COURRIEL]);
	}
	if (v[C_RESP_TELEPHONE] != NULL &&
	    strspn(v[C_RESP_TELEPHONE], "0123456789 +.-()") !=
	    strlen(v[C_RESP_TELEPHONE]))
		onde_error(res, r->line, "resp_telephone", "numéro invalide");
}

/* Write the COPY line of a valid record and hand it to row_fn. */
static void
onde_write(struct onde_reader *r, char *const v[C__COUNT], const char *date,
    int first_pupil, int first_guardian)
{
	const char	*out[C__COUNT];
	char		 line[16];
	int		 c;

	for (c = 0; c < C__COUNT; c++)
		out[c] = v[c];
	out[C_DATE_NAISSANCE] = date;
	if (v[C_RESP_LEGAL] != NULL)
		out[C_RESP_LEGAL] = v[C_RESP_LEGAL][0] == 'o' ? "t" : "f";
	buf_reset(&r->out);
	snprintf(line, sizeof line, "%d", r->line);
	copy_field(&r->out, line, 0);
	/* The first line of each pupil and guardian carries them for the
	 * merge, which then needs no sort to pick one. */
	copy_field(&r->out, first_pupil ? "t" : "f", 0);
	copy_field(&r->out, first_guardian ? "t" : "f", 0);
	for (c = 0; c < C__COUNT; c++)
		copy_field(&r->out, out[c], c == C__COUNT - 1);
	if (r->row_fn(r->row_arg, (char *)buf_head(&r->out),
	    buf_left(&r->out)) == -1)
		r->stop = 1;
}

/* Check one data record and write its COPY line. */
static void
onde_record(struct onde_reader *r)
{
	struct onde_result	*res = r->res;
	char			*v[C__COUNT] = { NULL }, date[16];
	int			 before = (int)res->total_errors;
	int			 first_pupil = 0, first_guardian = 0;

	res->lines++;
	if (onde_record_fields(r, v) == -1)
		return;
	onde_check_text(r, v);
	onde_check_pupil(r, v, date);
	onde_check_guardian(r, v);
	/* Compare with earlier lines only a line whose fields are valid. */
	if ((int)res->total_errors == before && v[C_ELEVE_ID] != NULL)
		onde_contradictions(r, v, &first_pupil, &first_guardian);
	/* Once the file is known bad nothing more is written. */
	if (res->total_errors > 0)
		return;
	onde_write(r, v, date, first_pupil, first_guardian);
}

static void
onde_field_cb(void *s, size_t len, void *arg)
{
	struct onde_reader	*r = arg;
	const char		*p = s, *end = p + len;

	/* Line breaks inside quotes are physical lines too. A NUL byte would
	 * silently cut the field short once it is a C string: note its line,
	 * the record is refused whole. */
	for (; p != NULL && p < end; p++) {
		if (*p == '\0' && r->nul_line == 0)
			r->nul_line = r->line + r->embedded;
		r->embedded += *p == '\n';
	}

	if (r->nfields == r->size) {
		r->size = r->size == 0 ? 32 : r->size * 2;
		r->fields = xreallocarray(r->fields, r->size,
		    sizeof *r->fields);
		r->offsets = xreallocarray(r->offsets, r->size,
		    sizeof *r->offsets);
	}
	r->offsets[r->nfields++] = r->record.len;
	buf_add(&r->record, s != NULL ? s : "", s != NULL ? len : 0);
	buf_add(&r->record, "", 1);
}

static void
onde_record_cb(int c, void *arg)
{
	struct onde_reader	*r = arg;
	size_t			 i;

	/* With CSV_REPALL_NL every line feed comes here, ending a record or
	 * an empty line: that counts physical lines. */
	for (i = 0; i < r->nfields; i++)
		r->fields[i] = (char *)r->record.data + r->offsets[i];
	if (r->nfields > 0 && !r->stop && r->nul_line != 0) {
		onde_error(r->res, r->nul_line, NULL, "caractère nul (octet "
		    "0x00) : le fichier est endommagé");
		/* Without its header nothing after it can be read. */
		if (!r->header_done)
			r->stop = 1;
		else
			r->res->lines++;
	} else if (r->nfields > 0 && !r->stop && !r->header_done &&
	    r->embedded > 0) {
		/* A quote left open in the header swallowed the lines after
		 * it: say so, rather than report the columns it hid. */
		onde_error(r->res, r->line, NULL, "guillemet non fermé dans "
		    "l'en-tête");
		r->stop = 1;
	} else if (r->nfields > 0 && !r->stop) {
		if (!r->header_done)
			onde_header(r);
		else
			onde_record(r);
	}
	buf_reset(&r->record);
	r->nfields = 0;
	r->nul_line = 0;
	r->line += r->embedded;
	r->embedded = 0;
	if (c == '\n')
		r->line++;
}

/* Decode Windows-1252 into UTF-8; -1 with the line of a byte that has no
 * meaning in that code page. */
static int
cp1252_to_utf8(const char *in, size_t len, struct buf *out, int *bad_line,
    unsigned *bad_byte)
{
	iconv_t	 cd;
	char	*src = (char *)in, *dst;
	size_t	 left = len, room, n;
	int	 status = 0;

	if ((cd = iconv_open("UTF-8", "WINDOWS-1252")) == (iconv_t)-1)
		fatal("iconv_open WINDOWS-1252");
	while (left > 0) {
		room = left * 3 + 16;
		dst = (char *)buf_reserve(out, room);
		n = iconv(cd, &src, &left, &dst, &room);
		buf_commit(out, (size_t)(dst - (char *)out->data) - out->len);
		if (n == (size_t)-1 && errno != E2BIG) {
			*bad_byte = (unsigned char)*src;
			*bad_line = 1;
			for (const char *p = in; p < src; p++)
				*bad_line += *p == '\n';
			status = -1;
			break;
		}
	}
	iconv_close(cd);
	return status;
}

static void
onde_csv_init(struct csv_parser *p)
{
	if (csv_init(p, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL |
	    CSV_APPEND_NULL) != 0)
		fatalx("csv_init");
	csv_set_delim(p, ';');
}

/* Whether the bytes are well-formed UTF-8 (control characters allowed). */
static int
utf8_wellformed(const char *s, size_t len)
{
	unsigned int	cp;
	size_t		n;

	while (len > 0) {
		if ((unsigned char)*s < 0x80) {
			s++;
			len--;
			continue;
		}
		n = utf8_decode(s, len, &cp);
		/* U+FFFD stands for any bad sequence; only EF BF BD is it. */
		if (cp == 0xfffd && (n != 3 || memcmp(s, "\xef\xbf\xbd", 3) != 0))
			return 0;
		s += n;
		len -= n;
	}
	return 1;
}

int
onde_read(const void *data, size_t len, onde_row_fn row_fn, void *arg,
    struct onde_result *res)
{
	struct onde_reader	 r;
	struct csv_parser	 p;
	struct buf		 converted;
	const char		*text = data;
	unsigned		 bad_byte = 0;
	int			 bad_line = 1, physical;

	memset(res, 0, sizeof *res);
	memset(&r, 0, sizeof r);
	r.res = res;
	r.row_fn = row_fn;
	r.row_arg = arg;
	r.line = 1;
	buf_init(&converted);
	buf_init(&r.out);

	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		res->encoding = ONDE_UTF8_BOM;
		text += 3;
		len -= 3;
	} else if (utf8_wellformed(text, len))
		res->encoding = ONDE_UTF8;
	else {
		res->encoding = ONDE_CP1252;
		if (cp1252_to_utf8(text, len, &converted, &bad_line,
		    &bad_byte) == -1) {
			onde_error(res, bad_line, NULL, "octet 0x%02X sans "
			    "signification en Windows-1252 : le fichier n'est "
			    "ni en UTF-8 ni en Windows-1252", bad_byte);
			buf_free(&converted);
			return -1;
		}
		text = (const char *)converted.data;
		len = converted.len;
	}
	if (res->encoding == ONDE_UTF8_BOM && !utf8_wellformed(text, len)) {
		onde_error(res, 1, NULL, "le fichier annonce l'UTF-8 (BOM) mais "
		    "n'en est pas");
		return -1;
	}

	r.seen_mask = 1023;
	r.seen = xcalloc(r.seen_mask + 1, sizeof *r.seen);
	onde_csv_init(&p);
	/* Feed line by line so a parse error names its line; after one, start
	 * afresh on the next line so later errors are found too. */
	for (physical = 1; len > 0 && !r.stop; physical++) {
		const char	*nl = memchr(text, '\n', len);
		size_t		 n = nl != NULL ? (size_t)(nl - text) + 1 : len;

		if (csv_parse(&p, text, n, onde_field_cb, onde_record_cb,
		    &r) != n) {
			/* Not r.line: a quoted value may have started lines
			 * above, and those lines must count for the next. */
			onde_error(res, physical, NULL, "guillemets mal placés "
			    "(un champ entre guillemets doit s'y terminer, "
			    "et un guillemet s'y double)");
			csv_free(&p);
			onde_csv_init(&p);
			buf_reset(&r.record);
			r.nfields = 0;
			r.embedded = 0;
			r.nul_line = 0;
			r.line = physical + 1;
		}
		text += n;
		len -= n;
	}
	if (!r.stop && csv_fini(&p, onde_field_cb, onde_record_cb, &r) != 0)
		onde_error(res, r.line, NULL, "guillemet non refermé en fin de "
		    "fichier");
	csv_free(&p);
	if (!r.header_done && res->total_errors == 0)
		onde_error(res, 1, NULL, "fichier vide : l'en-tête manque");
	else if (res->lines == 0 && res->total_errors == 0)
		onde_error(res, 2, NULL, "aucune ligne après l'en-tête");

	buf_free(&r.record);
	free(r.offsets);
	free(r.fields);
	free(r.map);
	free(r.seen);
	while (r.arena != NULL) {
		struct onde_arena *next = r.arena->next;

		free(r.arena);
		r.arena = next;
	}
	buf_free(&r.out);
	buf_free(&converted);
	return res->total_errors > 0 || r.stop ? -1 : 0;
}
