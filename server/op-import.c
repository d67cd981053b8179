/*
 * import: load an ONDE extraction (DESIGN.md §6). The file arrives whole
 * with the request. One transaction, serialized with other imports: the
 * reader streams checked lines into a temporary table by COPY; a file with
 * any bad line, or with lines that contradict each other, is refused with
 * every error and nothing is written; the staged lines are then merged
 * set-based by onde_merge() in the database. A dry run does all of it and
 * rolls back.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "log.h"
#include "onde.h"
#include "server.h"
#include "xmalloc.h"

/* COPY data goes out in chunks of about this size, at most this many
 * waiting at a time. */
#define IMPORT_CHUNK	(1u << 20)
#define IMPORT_QUEUE	4
/* Imports wait for each other on this advisory lock. */
#define IMPORT_LOCK	"select pg_advisory_xact_lock(7283417)"

/*
 * The checked lines go to PostgreSQL from a thread of their own. Sent from
 * the reader, PQputCopyData() blocked on a full socket while PostgreSQL
 * drained it, then PostgreSQL waited while the next megabyte was read: on
 * an academy the two took turns on one core for 3 s, with the other idle.
 * The reader now fills a chunk while the sender writes the one before.
 * The connection belongs to the sender from the COPY's start until it is
 * joined (import_copy_end()).
 */
struct import_copy {
	PGconn			*conn;
	struct buf		 chunk;		/* being filled by the reader */
	struct onde_prints	 prints;	/* of the schools staged */
	pthread_t		 sender;
	int			 started;
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	struct buf		 queue[IMPORT_QUEUE];	/* full chunks */
	size_t			 head, count;
	int			 done;		/* no more chunks */
	int			 failed;	/* a write failed */
};

static void *
import_sender(void *arg)
{
	struct import_copy	*ic = arg;
	struct buf		*b;
	int			 ok, skip;

	pthread_mutex_lock(&ic->lock);
	for (;;) {
		while (ic->count == 0 && !ic->done)
			pthread_cond_wait(&ic->cond, &ic->lock);
		if (ic->count == 0)
			break;
		/* The head stays out of the reader's reach until released. */
		b = &ic->queue[ic->head];
		skip = ic->failed;
		pthread_mutex_unlock(&ic->lock);
		ok = skip || PQputCopyData(ic->conn, (char *)buf_head(b),
		    (int)buf_left(b)) == 1;
		pthread_mutex_lock(&ic->lock);
		if (!ok && !ic->failed) {
			log_warnx("COPY: %s", PQerrorMessage(ic->conn));
			ic->failed = 1;
		}
		buf_reset(b);
		ic->head = (ic->head + 1) % IMPORT_QUEUE;
		ic->count--;
		pthread_cond_broadcast(&ic->cond);
	}
	pthread_mutex_unlock(&ic->lock);
	return NULL;
}

static void
import_copy_init(struct import_copy *ic, PGconn *conn)
{
	size_t	i;

	memset(ic, 0, sizeof *ic);
	ic->conn = conn;
	buf_init(&ic->chunk);
	for (i = 0; i < IMPORT_QUEUE; i++)
		buf_init(&ic->queue[i]);
	onde_prints_init(&ic->prints);
	pthread_mutex_init(&ic->lock, NULL);
	pthread_cond_init(&ic->cond, NULL);
}

static void
import_copy_free(struct import_copy *ic)
{
	size_t	i;

	buf_free(&ic->chunk);
	for (i = 0; i < IMPORT_QUEUE; i++)
		buf_free(&ic->queue[i]);
	onde_prints_free(&ic->prints);
	pthread_mutex_destroy(&ic->lock);
	pthread_cond_destroy(&ic->cond);
}

static int
import_copy_start(struct import_copy *ic)
{
	int	e;

	if ((e = pthread_create(&ic->sender, NULL, import_sender, ic)) != 0) {
		log_warnx("import: pthread_create: %s", strerror(e));
		return -1;
	}
	ic->started = 1;
	return 0;
}

/* Hand the filled chunk to the sender; -1 once a write has failed. */
static int
import_flush(struct import_copy *ic)
{
	struct buf	 tmp;
	size_t		 tail;
	int		 failed;

	pthread_mutex_lock(&ic->lock);
	while (ic->count == IMPORT_QUEUE && !ic->failed)
		pthread_cond_wait(&ic->cond, &ic->lock);
	if (!ic->failed && buf_left(&ic->chunk) > 0) {
		/* Swap buffers: the reader gets back an emptied one. */
		tail = (ic->head + ic->count) % IMPORT_QUEUE;
		tmp = ic->queue[tail];
		ic->queue[tail] = ic->chunk;
		ic->chunk = tmp;
		ic->count++;
		pthread_cond_broadcast(&ic->cond);
	}
	failed = ic->failed;
	pthread_mutex_unlock(&ic->lock);
	return failed ? -1 : 0;
}

static int
import_row(void *arg, const char *line, size_t len)
{
	struct import_copy	*ic = arg;

	if (onde_prints_add(&ic->prints, line, len) == -1)
		fatalx("import: a COPY line without its UAI");
	buf_add(&ic->chunk, line, len);
	if (buf_left(&ic->chunk) >= IMPORT_CHUNK)
		return import_flush(ic);
	return 0;
}

/* Let the sender finish (or give up), then end the COPY, aborting it with
 * a reason or not; 0 if it succeeded. */
static int
import_copy_end(struct import_copy *ic, const char *abort_reason)
{
	PGresult	*res;
	int		 ok;

	if (abort_reason == NULL && import_flush(ic) == -1)
		abort_reason = "write failed";
	pthread_mutex_lock(&ic->lock);
	ic->done = 1;
	if (abort_reason != NULL)
		ic->failed = 1;		/* what is still queued is dropped */
	pthread_cond_broadcast(&ic->cond);
	pthread_mutex_unlock(&ic->lock);
	if (ic->started) {
		pthread_join(ic->sender, NULL);
		ic->started = 0;
	}
	if (abort_reason == NULL && ic->failed)
		abort_reason = "write failed";
	if (PQputCopyEnd(ic->conn, abort_reason) != 1)
		return -1;
	res = PQgetResult(ic->conn);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok && abort_reason == NULL)
		log_warnx("COPY: %s", PQresultErrorMessage(res));
	PQclear(res);
	while ((res = PQgetResult(ic->conn)) != NULL)
		PQclear(res);
	return ok && abort_reason == NULL ? 0 : -1;
}

/* The arrays of UAIs and prints, as text, for onde_prints. */
struct import_print_arrays {
	json_t	*uai;
	json_t	*print;
};

static void
import_print_add(void *arg, const char *uai, const unsigned char *print,
    size_t len)
{
	struct import_print_arrays	*a = arg;
	char				 hex[2 * 32 + 1];
	size_t				 i;

	for (i = 0; i < len && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", print[i]);
	json_array_append_new(a->uai, json_string(uai));
	json_array_append_new(a->print, json_string(hex));
}

/* Stage the prints of the schools of the file beside their lines. */
static int
import_prints_stage(struct worker *w, const struct onde_prints *prints)
{
	static struct db_stmt		 stage = DB_STMT(
	    "insert into onde_prints (uai, print)"
	    " select u, decode(h, 'hex') from unnest($1::text[],"
	    " $2::text[]) as x(u, h)");
	struct import_print_arrays	 a;
	PGresult			*r;
	char				*uai, *print;

	a.uai = json_array();
	a.print = json_array();
	onde_prints_foreach(prints, import_print_add, &a);
	uai = sql_text_array(a.uai);
	print = sql_text_array(a.print);
	r = db_queryv(w->db, &stage, uai, print);
	free(uai);
	free(print);
	json_decref(a.uai);
	json_decref(a.print);
	if (r == NULL)
		return -1;
	PQclear(r);
	return 0;
}

/* Refuse the file: the errors, and a message that says nothing changed. */
static void
import_refuse(struct request *req, json_t *details, size_t total)
{
	req_error(req, E_INVALID, "Fichier refusé : %zu erreur%s, rien n'a "
	    "été importé.", total, total > 1 ? "s" : "");
	req->error_details = details;
}

/* "1 234 lignes, 56 comptes créés…": the import's own event. */
static char *
import_summary(json_t *r)
{
	json_t	*a = json_object_get(r, "accounts");
	json_t	*p = json_object_get(r, "pupils");
	char	*s;

	xasprintf(&s, "%lld lignes ; élèves : %lld créés, %lld modifiés, "
	    "%lld partis ; comptes : %lld créés, %lld désactivés, "
	    "%lld réactivés",
	    (long long)json_integer_value(json_object_get(r, "lines")),
	    (long long)json_integer_value(json_object_get(p, "created")),
	    (long long)json_integer_value(json_object_get(p, "updated")),
	    (long long)json_integer_value(json_object_get(p, "left")),
	    (long long)json_integer_value(json_object_get(a, "created")),
	    (long long)json_integer_value(json_object_get(a, "deactivated")),
	    (long long)json_integer_value(json_object_get(a, "reactivated")));
	return s;
}

/* Whether the merge changed anything. */
static int
import_changed(json_t *r)
{
	static const char *const keys[] = { "created", "updated", "left",
	    "removed", "deactivated", "reactivated", NULL };
	const char	*section;
	json_t		*v;
	int		 i;

	json_object_foreach(r, section, v) {
		if (!json_is_object(v))
			continue;
		for (i = 0; keys[i] != NULL; i++) {
			if (json_integer_value(json_object_get(v, keys[i])) > 0)
				return 1;
		}
	}
	return 0;
}

void
op_import(struct worker *w, struct request *req)
{
	static struct db_stmt	 event = DB_STMT(
	    "insert into events (action, actor, channel, detail)"
	    " values ('import', $1, $2, $3)");
	struct import_copy	 ic;
	struct onde_result	 res;
	struct timespec		 start;
	json_error_t		 jerr;
	json_t			*summary = NULL;
	PGresult		*r;
	char			*detail = NULL, limits[64];
	int			 dry_run, ok;

	dry_run = req_arg_bool(req, "dry_run", 0);
	if (req->error != -1)
		return;
	clock_gettime(CLOCK_MONOTONIC, &start);
	import_copy_init(&ic, db_conn(w->db));

	/* An academy takes longer than any other request: the statement
	 * limit is relaxed for this transaction only. */
	snprintf(limits, sizeof limits, "set local statement_timeout = "
	    "'%ds'", server_cfg.statement_timeout * 10);
	/* The merge hashes and sorts hundreds of thousands of rows: at the
	 * default work_mem (4 MB) they went to disk. JIT compiled each of
	 * its statements for one pass over the rows, and cost an academy's
	 * first load more than it saved (about 1.5 s of 22, make bench). */
	if (db_begin(w->db) == -1 || db_run(w->db, limits) == -1 ||
	    db_run(w->db, "set local work_mem = '64MB'") == -1 ||
	    db_run(w->db, "set local jit = off") == -1 ||
	    db_run(w->db, IMPORT_LOCK) == -1 ||
	    db_set_context(w->db, req->session->login, "import", NULL, 0,
	    NULL) == -1 || db_run(w->db,
	    "select onde_stage_create(), onde_prints_create()") == -1)
		goto fail;
	r = PQexec(ic.conn, "copy onde_stage from stdin");
	ok = PQresultStatus(r) == PGRES_COPY_IN;
	PQclear(r);
	if (!ok)
		goto fail;
	if (import_copy_start(&ic) == -1) {
		import_copy_end(&ic, "no sender");
		goto fail;
	}

	ok = onde_read(req->upload.data, req->upload.len, import_row, &ic,
	    &res) == 0;
	if (!ok && res.total_errors == 0) {
		/* The COPY failed under the reader. */
		import_copy_end(&ic, "write failed");
		onde_result_free(&res);
		goto fail;
	}
	if (!ok) {
		import_copy_end(&ic, "file refused");
		db_rollback(w->db);
		log_info("import refused: %zu errors in %zu lines",
		    res.total_errors, res.lines);
		import_refuse(req, onde_errors_json(&res), res.total_errors);
		onde_result_free(&res);
		goto out;
	}
	if (import_copy_end(&ic, NULL) == -1 ||
	    import_prints_stage(w, &ic.prints) == -1) {
		onde_result_free(&res);
		goto fail;
	}

	if ((r = db_exec(w->db, "select onde_merge()", 0, NULL)) == NULL) {
		onde_result_free(&res);
		goto fail;
	}
	summary = json_loads(db_get(r, 0, 0), 0, &jerr);
	PQclear(r);
	if (summary == NULL)
		fatalx("onde_merge returned bad JSON: %s", jerr.text);
	json_object_set_new(summary, "encoding",
	    json_string(onde_encoding_name(res.encoding)));
	json_object_set_new(summary, "changed",
	    json_boolean(import_changed(summary)));
	json_object_set_new(summary, "dry_run", json_boolean(dry_run));
	onde_result_free(&res);

	detail = import_summary(summary);
	if (dry_run)
		db_rollback(w->db);
	else {
		r = db_queryv(w->db, &event, req->session->login, req->channel,
		    detail);
		if (r == NULL || db_commit(w->db) == -1)
			goto fail;
		PQclear(r);
	}
	json_object_set_new(summary, "seconds",
	    json_real(timespec_since(&start)));
	log_info("import%s by %s: %s (%.1f s)", dry_run ? " (dry run)" : "",
	    req->session->login, detail, timespec_since(&start));
	req->result = summary;
	summary = NULL;
	goto out;
fail:
	req_db_error(req, w->db);
	db_rollback(w->db);
out:
	json_decref(summary);
	free(detail);
	import_copy_free(&ic);
}
