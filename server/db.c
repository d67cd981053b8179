/* libpq helpers: prepared statements, transactions, error mapping. */
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "metrics.h"
#include "state.h"
#include "xmalloc.h"

struct db {
	PGconn		*conn;
	char		*conninfo;
	unsigned char	*prepared;	/* by statement id */
	size_t		 nprepared;
	int		 in_tx;
	enum proto_error error;
	char		 sqlstate[6];
	char		 message[512];
};

static atomic_int	 db_next_stmt_id;
/* Settings every new or reset connection runs first (db_set_defaults). */
static char		*db_defaults;

void
db_set_defaults(const char *sql)
{
	free(db_defaults);
	db_defaults = sql != NULL ? xstrdup(sql) : NULL;
}

/* Run the session defaults on a fresh connection; -1 with a cause. */
static int
db_apply_defaults(PGconn *conn, char **cause)
{
	PGresult	*res;
	int		 ok;

	if (db_defaults == NULL)
		return 0;
	res = PQexec(conn, db_defaults);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok && cause != NULL) {
		xasprintf(cause, "%s", PQerrorMessage(conn));
		(*cause)[strcspn(*cause, "\n")] = '\0';
	}
	PQclear(res);
	return ok ? 0 : -1;
}

/* Quiet libpq's notices (they go to stderr otherwise). */
static void
db_notice(void *arg, const char *message)
{
	(void)arg;
	log_debug("postgres: %s", message);
}

static PGconn *
db_connect(const char *conninfo, char **cause)
{
	PGconn	*conn;

	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		xasprintf(cause, "%s", PQerrorMessage(conn));
		(*cause)[strcspn(*cause, "\n")] = '\0';
		PQfinish(conn);
		return NULL;
	}
	PQsetNoticeProcessor(conn, db_notice, NULL);
	if (db_apply_defaults(conn, cause) == -1) {
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

struct db *
db_open(const char *conninfo, char **cause)
{
	struct db	*db;
	PGconn		*conn;

	if ((conn = db_connect(conninfo, cause)) == NULL)
		return NULL;
	db = xcalloc(1, sizeof *db);
	db->conn = conn;
	db->conninfo = xstrdup(conninfo);
	db->error = E_INTERNAL;
	return db;
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	PQfinish(db->conn);
	free(db->conninfo);
	free(db->prepared);
	free(db);
}

PGconn *
db_conn(struct db *db)
{
	return db->conn;
}

/*
 * Whether the connection is gone. libpq learns that PostgreSQL closed a
 * connection (a restart, pg_terminate_backend) only when it next reads
 * it: an idle connection still says CONNECTION_OK, and a request run on
 * it would fail (E_BUSY) although the database is back, once per worker
 * after every restart. Between two requests nothing is due on the socket
 * but notifications or the server's last words (a FATAL error, then the
 * end of the stream): read what is there now, and libpq sees the end.
 */
static int
db_lost(struct db *db)
{
	struct pollfd	 pfd;
	int		 i;

	if (PQstatus(db->conn) != CONNECTION_OK)
		return 1;
	pfd.fd = PQsocket(db->conn);
	pfd.events = POLLIN;
	pfd.revents = 0;
	/* A few rounds at most: the message, then the end of the stream.
	 * Notifications stay buffered for PQnotifies(). */
	for (i = 0; i < 4 && poll(&pfd, 1, 0) == 1; i++) {
		if (!PQconsumeInput(db->conn))
			break;
	}
	return PQstatus(db->conn) != CONNECTION_OK;
}

int
db_ensure(struct db *db)
{
	if (!db_lost(db))
		return 0;
	log_warnx("database connection lost, reconnecting");
	PQreset(db->conn);
	memset(db->prepared, 0, db->nprepared);
	db->in_tx = 0;
	if (PQstatus(db->conn) != CONNECTION_OK ||
	    db_apply_defaults(db->conn, NULL) == -1) {
		log_warnx("database: %s", PQerrorMessage(db->conn));
		metrics_db_reconnect(0);
		return -1;
	}
	metrics_db_reconnect(1);
	return 0;
}

/* Record a failed result: keep the SQLSTATE, map it, log what is not the
 * user's doing. */
static void
db_fail(struct db *db, const PGresult *res, const char *what)
{
	const char	*state = NULL, *primary = NULL;

	if (res != NULL) {
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	}
	snprintf(db->sqlstate, sizeof db->sqlstate, "%s",
	    state != NULL ? state : "");
	if (state == NULL) {
		db->error = E_BUSY;
		snprintf(db->message, sizeof db->message, "Base de données "
		    "indisponible, réessayez dans un instant.");
		log_warnx("%s: %s", what, PQerrorMessage(db->conn));
		return;
	}
	if (strcmp(state, "EC001") == 0) {
		/* Our triggers speak French already. */
		db->error = E_BAD_TRANSITION;
		snprintf(db->message, sizeof db->message, "%s.", primary);
		return;
	}
	if (strcmp(state, "23505") == 0) {
		db->error = E_CONFLICT;
		snprintf(db->message, sizeof db->message, "Existe déjà.");
		return;
	}
	if (strncmp(state, "23", 2) == 0 || strncmp(state, "22", 2) == 0) {
		db->error = E_INVALID;
		snprintf(db->message, sizeof db->message, "Donnée refusée par "
		    "la base de données.");
		log_warnx("%s: %s: %s", what, state, primary);
		return;
	}
	if (strcmp(state, "57014") == 0) {
		/* statement_timeout: a runaway query must not hold a worker. */
		db->error = E_BUSY;
		snprintf(db->message, sizeof db->message, "Opération trop "
		    "longue, interrompue : réessayez plus tard.");
		log_warnx("%s: %s: %s", what, state, primary);
		return;
	}
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	    strcmp(state, "55P03") == 0) {
		db->error = E_BUSY;
		snprintf(db->message, sizeof db->message, "Opération en "
		    "conflit avec une autre, réessayez.");
		return;
	}
	db->error = E_INTERNAL;
	snprintf(db->message, sizeof db->message, "Erreur interne du "
	    "serveur.");
	log_warnx("%s: %s: %s", what, state, primary);
}

static PGresult *
db_check(struct db *db, PGresult *res, const char *what)
{
	ExecStatusType	st = PQresultStatus(res);

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return res;
	db_fail(db, res, what);
	PQclear(res);
	return NULL;
}

/* Prepare the statement on this connection if it is not yet. */
static int
db_prepare(struct db *db, struct db_stmt *stmt, char *name, size_t len)
{
	PGresult	*res;
	int		 id, zero = 0;
	size_t		 n;

	if ((id = atomic_load(&stmt->id)) == 0) {
		id = atomic_fetch_add(&db_next_stmt_id, 1) + 1;
		if (!atomic_compare_exchange_strong(&stmt->id, &zero, id))
			id = zero;	/* another thread named it first */
	}
	snprintf(name, len, "s%d", id);
	if ((size_t)id < db->nprepared && db->prepared[id])
		return 0;
	res = PQprepare(db->conn, name, stmt->sql, stmt->ntypes, stmt->types);
	if (db_check(db, res, "prepare") == NULL)
		return -1;
	PQclear(res);
	if ((size_t)id >= db->nprepared) {
		n = (size_t)id * 2 + 16;
		db->prepared = xreallocarray(db->prepared, n, 1);
		memset(db->prepared + db->nprepared, 0, n - db->nprepared);
		db->nprepared = n;
	}
	db->prepared[id] = 1;
	return 0;
}

PGresult *
db_query(struct db *db, struct db_stmt *stmt, int nparams,
    const char *const *values)
{
	char	name[16];

	if (db_prepare(db, stmt, name, sizeof name) == -1)
		return NULL;
	return db_check(db, PQexecPrepared(db->conn, name, nparams, values,
	    NULL, NULL, 0), name);
}

PGresult *
db_exec(struct db *db, const char *sql, int nparams,
    const char *const *values)
{
	return db_check(db, PQexecParams(db->conn, sql, nparams, NULL, values,
	    NULL, NULL, 0), "exec");
}

int
db_run(struct db *db, const char *sql)
{
	PGresult	*res;

	if ((res = db_check(db, PQexec(db->conn, sql), sql)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

int
db_begin(struct db *db)
{
	if (db_run(db, "begin") == -1)
		return -1;
	db->in_tx = 1;
	return 0;
}

int
db_commit(struct db *db)
{
	int	r;

	r = db_run(db, "commit");
	db->in_tx = 0;
	return r;
}

void
db_rollback(struct db *db)
{
	PGresult	*res;

	res = PQexec(db->conn, "rollback");
	PQclear(res);
	db->in_tx = 0;
}

int
db_in_transaction(struct db *db)
{
	return db->in_tx || PQtransactionStatus(db->conn) == PQTRANS_INTRANS ||
	    PQtransactionStatus(db->conn) == PQTRANS_INERROR;
}

int
db_set_context(struct db *db, const char *actor, const char *channel,
    const char *action, int school_id, const char *detail)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "select set_config('ecadm.actor', $1, true),"
	    " set_config('ecadm.channel', $2, true),"
	    " set_config('ecadm.action', coalesce($3, ''), true),"
	    " set_config('ecadm.school_id', coalesce($4, ''), true),"
	    " set_config('ecadm.detail', coalesce($5, ''), true)");
	PGresult		*res;
	char			 school[16];

	snprintf(school, sizeof school, "%d", school_id);
	res = db_queryv(db, &stmt, actor, channel, action,
	    school_id > 0 ? school : NULL, detail);
	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

enum proto_error
db_error_code(struct db *db)
{
	return db->error;
}

const char *
db_error_message(struct db *db)
{
	return db->message;
}

const char *
db_error_sqlstate(struct db *db)
{
	return db->sqlstate;
}

const char *
db_get(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return PQgetvalue(res, row, col);
}

long long
db_get_int(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return 0;
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

int
db_get_bool(const PGresult *res, int row, int col)
{
	return !PQgetisnull(res, row, col) &&
	    PQgetvalue(res, row, col)[0] == 't';
}

/*
 * The clients label states from states.def, the server filters on its
 * codes and the database holds the transitions between the codes of
 * account_states: a table edited by hand, or a states.def changed without
 * its migration, would make them disagree without anyone noticing. The
 * stored states (all but EXPIRE) must be exactly the table's rows, with
 * the same labels.
 */
int
db_check_states(PGconn *conn, char **cause)
{
	enum { STATES_CODE, STATES_LABEL };
	PGresult	*res;
	const char	*code, *label;
	int		 r, s, n, ok = -1;

	res = PQexec(conn, "select code, label from account_states");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		xasprintf(cause, "account_states: %.*s",
		    (int)strcspn(PQresultErrorMessage(res), "\n"),
		    PQresultErrorMessage(res));
		goto out;
	}
	n = PQntuples(res);
	for (r = 0; r < n; r++) {
		code = db_get(res, r, STATES_CODE);
		label = db_get(res, r, STATES_LABEL);
		s = state_lookup(code);
		if (s < 0 || s >= STATE__STORED) {
			xasprintf(cause, "account_states holds state \"%s\", "
			    "unknown to states.def", code);
			goto out;
		}
		if (strcmp(label, state_info(s)->label) != 0) {
			xasprintf(cause, "account_states labels state \"%s\" "
			    "\"%s\", states.def \"%s\"", code, label,
			    state_info(s)->label);
			goto out;
		}
	}
	/* Codes are the table's key: as many rows, all known, is all. */
	if (n != STATE__STORED) {
		xasprintf(cause, "account_states has %d states, states.def %d",
		    n, (int)STATE__STORED);
		goto out;
	}
	ok = 0;
out:
	PQclear(res);
	return ok;
}
