/*
 * libFuzzer target: the ONDE reader (server/onde.c) on a whole extraction
 * in memory, as op-import hands it over: encoding detection and Windows-1252
 * decoding (iconv), CSV (libcsv), the header, the checks of every field and
 * the contradictions between lines. The rows it writes go straight into
 * PostgreSQL's COPY, so each must be one line of exactly the staging
 * table's columns, with no control character a value could smuggle in.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "onde.h"
#include "valid.h"

/* Line number, two flags, then the 19 columns of onde_stage. */
#define FUZZ_COPY_FIELDS	22

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct fuzz_sink {
	const struct onde_result *res;
	int		 calls;
	int		 stop_at;	/* return -1 on this call; 0: never */
};

/* The row callback: checks the COPY line. */
static int
fuzz_row(void *arg, const char *line, size_t len)
{
	struct fuzz_sink	*s = arg;
	const char		*field, *end;
	size_t			 n = 0;

	/* Rows come only while the file is still good. */
	if (s->res->total_errors != 0)
		abort();
	if (len == 0 || line[len - 1] != '\n')
		abort();
	for (field = line; field < line + len; field = end + 1) {
		end = memchr(field, '\t', (size_t)(line + len - 1 - field));
		if (end == NULL)
			end = line + len - 1;
		if (!valid_utf8_text(field, (size_t)(end - field)))
			abort();
		n++;
	}
	if (n != FUZZ_COPY_FIELDS)
		abort();
	s->calls++;
	return s->stop_at != 0 && s->calls == s->stop_at ? -1 : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct onde_result	 res;
	struct fuzz_sink	 s;
	json_t			*errors;
	size_t			 i;
	int			 rc;

	memset(&s, 0, sizeof s);
	s.res = &res;
	/* Some inputs have the caller stop the reading early. */
	s.stop_at = (int)(size % 4);
	rc = onde_read(data, size, fuzz_row, &s, &res);
	if (rc == 0 && (res.total_errors != 0 || res.lines == 0 ||
	    s.calls != (int)res.lines))
		abort();
	if (res.nerrors > res.total_errors || res.nerrors > ONDE_MAX_ERRORS ||
	    (res.total_errors > 0 && res.nerrors == 0))
		abort();
	for (i = 0; i < res.nerrors; i++) {
		if (res.errors[i].line < 1 || res.errors[i].reason == NULL)
			abort();
	}
	if (onde_encoding_name(res.encoding)[0] == '?')
		abort();
	errors = onde_errors_json(&res);
	if (json_array_size(errors) != res.nerrors)
		abort();
	json_decref(errors);
	onde_result_free(&res);
	return 0;
}
