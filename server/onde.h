/*
 * Reading an ONDE extraction (DESIGN.md §6): encoding detection, CSV with
 * ';' and RFC 4180 quotes (libcsv), header names in any case and order,
 * and every field checked. Valid lines come out as lines of PostgreSQL
 * COPY text for the staging table; bad ones as "ligne N, colonne X :
 * raison". Nothing here touches the database.
 *
 * A COPY line is: the line number, whether it is the first line of its
 * pupil and of its guardian (t/f), then the columns in the order of
 * onde_stage (see sql/002_domain.sql).
 */
#ifndef ONDE_H
#define ONDE_H

#include <stddef.h>

#include <jansson.h>

/* Errors kept in detail; past this only the count grows. */
#define ONDE_MAX_ERRORS	1000

enum onde_encoding {
	ONDE_UTF8,
	ONDE_UTF8_BOM,
	ONDE_CP1252,
};

struct onde_error {
	int	 line;		/* 1 is the header */
	char	*column;	/* NULL: the whole line */
	char	*reason;
};

struct onde_result {
	enum onde_encoding	 encoding;
	size_t			 lines;		/* data lines read */
	struct onde_error	*errors;
	size_t			 nerrors;	/* kept */
	size_t			 total_errors;	/* found */
};

/* Receives each valid line as COPY text (ending in '\n'); -1 stops. */
typedef int (*onde_row_fn)(void *arg, const char *, size_t);

/* Read the extraction. Rows are handed over as they are read, until the
 * first error: after it the file is known bad and only errors are
 * collected. Returns 0 when the whole file is valid and every row was
 * taken; -1 when it is not (res has the errors), or when row_fn stopped
 * the reading (res then has none). */
int	 onde_read(const void *, size_t, onde_row_fn, void *arg,
	    struct onde_result *res);
void	 onde_result_free(struct onde_result *);
/* The errors as a JSON array of {line, column, reason, text}. */
json_t	*onde_errors_json(const struct onde_result *);
const char *onde_encoding_name(enum onde_encoding);

/* The fingerprints of the schools of the COPY lines (onde-print.c). */
#define ONDE_UAI_MAX	8
struct onde_school_print;
struct evp_md_st;
struct evp_md_ctx_st;
struct onde_prints {
	struct onde_school_print	*slots;
	size_t				 size;	/* a power of two, or 0 */
	size_t				 count;
	struct evp_md_st		*sha256;	/* OpenSSL's, fetched once */
	struct evp_md_ctx_st		*ctx;
};
void	 onde_prints_init(struct onde_prints *);
void	 onde_prints_free(struct onde_prints *);
/* Adds one COPY line; -1 if it has no UAI field. */
int	 onde_prints_add(struct onde_prints *, const char *, size_t);
/* Calls fn(arg, uai, print, its length) for each school. */
void	 onde_prints_foreach(const struct onde_prints *,
	    void (*)(void *, const char *, const unsigned char *, size_t),
	    void *);

#endif
