/*
 * libpq helpers for the workers: one struct db per worker connection,
 * statements prepared once per connection on first use, and database errors
 * mapped to protocol errors (a refused transition, a duplicate, a busy
 * server) with a French message.
 */
#ifndef DB_H
#define DB_H

#include <libpq-fe.h>

#include "proto.h"

/* A statement of the server, prepared on each connection that runs it. */
struct db_stmt {
	const char	*sql;
	_Atomic int	 id;		/* assigned on first use */
	/* Parameter types, when some parameters do not appear in sql (their
	 * types cannot be inferred then); else 0 and NULL. */
	int		 ntypes;
	const Oid	*types;
};
#define DB_STMT(sql)	{ sql, 0, 0, NULL }

struct db;

/* SQL that every connection opened afterwards runs first (timeouts). */
void		 db_set_defaults(const char *sql);
struct db	*db_open(const char *conninfo, char **cause);
void		 db_close(struct db *);
/* Reconnect if the connection was lost; -1 if the database is away. */
int		 db_ensure(struct db *);
PGconn		*db_conn(struct db *);
/* Whether the database's account_states matches states.def; 0, or -1 and
 * *cause. */
int		 db_check_states(PGconn *, char **cause);

/*
 * Run a statement with text parameters (NULL for SQL null). Returns the
 * result (free it with PQclear) or NULL after recording the error.
 */
PGresult	*db_query(struct db *, struct db_stmt *, int nparams,
		    const char *const *values);
/* The same with a one-off statement (not prepared). */
PGresult	*db_exec(struct db *, const char *sql, int nparams,
		    const char *const *values);
/* A statement whose result is not needed; 0 or -1. */
int		 db_run(struct db *, const char *sql);

#define DB_NARGS(...)	((int)(sizeof((const char *[]){ __VA_ARGS__ }) / \
			    sizeof(const char *)))
#define db_queryv(db, stmt, ...) \
	db_query((db), (stmt), DB_NARGS(__VA_ARGS__), \
	    (const char *const[]){ __VA_ARGS__ })
#define db_execv(db, sql, ...) \
	db_exec((db), (sql), DB_NARGS(__VA_ARGS__), \
	    (const char *const[]){ __VA_ARGS__ })

int		 db_begin(struct db *);
int		 db_commit(struct db *);
void		 db_rollback(struct db *);
int		 db_in_transaction(struct db *);
/*
 * Name who acts, for the events the triggers write in this transaction:
 * actor (a staff login, "import", "guichet"), channel (the client
 * program), action (what is done), school (0: none), detail (or NULL).
 */
int		 db_set_context(struct db *, const char *actor,
		    const char *channel, const char *action, int school_id,
		    const char *detail);

enum proto_error db_error_code(struct db *);
const char	*db_error_message(struct db *);
const char	*db_error_sqlstate(struct db *);

/* Field helpers: the value, or NULL for SQL null. */
const char	*db_get(const PGresult *, int row, int col);
long long	 db_get_int(const PGresult *, int row, int col);
int		 db_get_bool(const PGresult *, int row, int col);

#endif
