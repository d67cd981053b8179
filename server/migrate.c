/*
 * Schema migrations. Each file of sql/ runs once, in a transaction that
 * also records it in schema_migrations; an advisory lock keeps two
 * instances started together from racing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "log.h"
#include "migrate.h"
#include "xmalloc.h"

/* Any constant will do, as long as it stays the same. */
#define MIGRATE_LOCK	"7283416"

static int
migrate_exec(PGconn *conn, const char *sql, char **cause)
{
	PGresult	*res;
	const char	*msg;

	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		msg = PQresultErrorMessage(res);
		xasprintf(cause, "%.*s", (int)strcspn(msg, "\n"), msg);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

static PGconn *
migrate_connect(const char *conninfo, char **cause)
{
	PGconn	*conn = PQconnectdb(conninfo);

	if (PQstatus(conn) != CONNECTION_OK) {
		xasprintf(cause, "%.*s", (int)strcspn(PQerrorMessage(conn),
		    "\n"), PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

static int
migrate_recorded(PGconn *conn, int version, char **cause)
{
	PGresult	*res;
	char		 v[16];
	const char	*values[1] = { v };
	int		 n;

	snprintf(v, sizeof v, "%d", version);
	res = PQexecParams(conn, "select 1 from schema_migrations"
	    " where version = $1", 1, NULL, values, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		xasprintf(cause, "%s", PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	n = PQntuples(res);
	PQclear(res);
	return n > 0;
}

int
migrate_run(const char *conninfo, char **cause)
{
	const struct migration	*m;
	PGconn			*conn;
	PGresult		*res;
	char			 v[16], *sub;
	const char		*values[2];
	int			 applied = 0, r;

	if ((conn = migrate_connect(conninfo, cause)) == NULL)
		return -1;
	if (migrate_exec(conn, "set client_min_messages = warning;"
	    " create table if not exists schema_migrations ("
	    " version integer primary key, name text not null,"
	    " applied_at timestamptz not null default now())", cause) == -1)
		goto fail;
	for (m = migrations; m->name != NULL; m++) {
		if (migrate_exec(conn, "begin", cause) == -1 ||
		    migrate_exec(conn, "select pg_advisory_xact_lock("
		    MIGRATE_LOCK ")", cause) == -1)
			goto fail;
		if ((r = migrate_recorded(conn, m->version, cause)) == -1)
			goto fail_tx;
		if (r == 1) {
			migrate_exec(conn, "commit", cause);
			continue;
		}
		if (migrate_exec(conn, m->sql, &sub) == -1) {
			xasprintf(cause, "%s: %s", m->name, sub);
			free(sub);
			goto fail_tx;
		}
		snprintf(v, sizeof v, "%d", m->version);
		values[0] = v;
		values[1] = m->name;
		res = PQexecParams(conn, "insert into schema_migrations"
		    " (version, name) values ($1, $2)", 2, NULL, values, NULL,
		    NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			xasprintf(cause, "%s", PQresultErrorMessage(res));
			PQclear(res);
			goto fail_tx;
		}
		PQclear(res);
		if (migrate_exec(conn, "commit", cause) == -1)
			goto fail;
		log_info("migration %s applied", m->name);
		applied++;
	}
	PQfinish(conn);
	return applied;
fail_tx:
	PQclear(PQexec(conn, "rollback"));
fail:
	PQfinish(conn);
	return -1;
}

/* The highest migration recorded in the database; -1 with a cause. */
static int
migrate_newest_recorded(PGconn *conn, char **cause)
{
	PGresult	*res;
	int		 v;

	res = PQexec(conn, "select coalesce(max(version), 0)"
	    " from schema_migrations");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		xasprintf(cause, "the schema is not installed: run "
		    "'ecadmd migrate'");
		PQclear(res);
		return -1;
	}
	v = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

int
migrate_is_current(const char *conninfo, char **cause)
{
	const struct migration	*m;
	PGconn			*conn;
	int			 r = 1, newest = 0;

	if ((conn = migrate_connect(conninfo, cause)) == NULL)
		return -1;
	for (m = migrations; m->name != NULL && r == 1; m++) {
		if ((r = migrate_recorded(conn, m->version, cause)) == -1) {
			free(*cause);
			xasprintf(cause, "the schema is not installed: run "
			    "'ecadmd migrate'");
		}
		newest = m->version;
	}
	/*
	 * A schema newer than this binary (a newer ecadmd ran migrate) may
	 * hold rules this one does not know, such as sealed secrets: serving
	 * it could let through what the newer schema forbids.
	 */
	if (r == 1) {
		int	recorded = migrate_newest_recorded(conn, cause);

		if (recorded == -1)
			r = -1;
		else if (recorded > newest) {
			xasprintf(cause, "the schema (migration %d) is newer "
			    "than this ecadmd (%d): upgrade ecadmd", recorded,
			    newest);
			r = -1;
		}
	}
	PQfinish(conn);
	return r;
}
