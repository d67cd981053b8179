/*
 * The outbox as the metrics show it: how many messages wait (neither sent
 * nor given up) and how old the oldest of them is, read from the database
 * at each scrape.
 *
 * Why at scrape time rather than from the mailer thread: the mailer is
 * what these figures watch. When a relay hangs, the mailer sits in one
 * delivery and would report nothing new, precisely while the outbox grows;
 * and the outbox is shared by every instance, whose mailers take turns on
 * it. The query is cheap: the partial index outbox_due holds only the
 * messages still to send.
 *
 * A scrape must neither take a worker's connection nor hang on the
 * database. The metrics thread has a connection of its own (one more than
 * the workers', opened at the first scrape, then kept), and everything on
 * it is asynchronous libpq under one deadline: the connection, the query,
 * its result. Past the deadline, or on any error, the connection is
 * dropped (opened again at the next scrape) and the scrape says
 * ecadmd_outbox_query_success 0 instead of figures it does not have. The
 * server gives up on its side too (statement_timeout). Only a host name in
 * [database] url is resolved synchronously by libpq, as the workers'.
 *
 * Only the metrics thread (libmicrohttpd's one thread) touches this file's
 * state, and metrics_outbox_close() runs once that thread is gone.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "log.h"
#include "metrics.h"
#include "server.h"

/* The whole reading, connection included, in milliseconds: well within
 * Prometheus's default scrape timeout (10 s). */
#define OUTBOX_DEADLINE_MS	2000

enum { OUTBOX_DEPTH, OUTBOX_OLDEST_AGE };
static const char	 outbox_sql[] =
    "set statement_timeout = 1000;"
    " select count(*),"
    "  coalesce(extract(epoch from now() - min(created_at)), 0)::float8"
    " from outbox where sent_at is null and failed_at is null";

static PGconn		*outbox_conn;
static int		 outbox_failing;	/* logged once, not each scrape */

static int64_t
outbox_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on the connection's socket until the deadline; 0 when
 * they came, -1 past the deadline or on an error. */
static int
outbox_poll(PGconn *conn, short events, int64_t deadline)
{
	struct pollfd	pfd;
	int64_t		left;
	int		r;

	if ((pfd.fd = PQsocket(conn)) < 0)
		return -1;
	pfd.events = events;
	for (;;) {
		if ((left = deadline - outbox_now_ms()) <= 0)
			return -1;
		if ((r = poll(&pfd, 1, (int)left)) > 0)
			return 0;
		if (r == 0 || errno != EINTR)
			return -1;
	}
}

/* A new connection, made without blocking past the deadline; NULL and
 * why if none. */
static PGconn *
outbox_connect(int64_t deadline, char *why, size_t len)
{
	static const char *const	 keys[] = { "dbname",
		"fallback_application_name", NULL };
	const char			*values[] = { server_cfg.database,
		"ecadmd-metrics", NULL };
	PostgresPollingStatusType	 st = PGRES_POLLING_WRITING;
	PGconn				*conn;

	/* The url is expanded as the workers' is (conninfo or URI). */
	if ((conn = PQconnectStartParams(keys, values, 1)) == NULL) {
		snprintf(why, len, "out of memory");
		return NULL;
	}
	while (PQstatus(conn) != CONNECTION_BAD && st != PGRES_POLLING_OK &&
	    st != PGRES_POLLING_FAILED) {
		if (outbox_poll(conn, st == PGRES_POLLING_READING ? POLLIN :
		    POLLOUT, deadline) == -1)
			break;
		st = PQconnectPoll(conn);
	}
	if (st == PGRES_POLLING_OK && PQsetnonblocking(conn, 1) == 0)
		return conn;
	if (PQstatus(conn) == CONNECTION_BAD)
		snprintf(why, len, "cannot connect: %.*s",
		    (int)strcspn(PQerrorMessage(conn), "\n"),
		    PQerrorMessage(conn));
	else
		snprintf(why, len, "cannot connect within %d ms",
		    OUTBOX_DEADLINE_MS);
	PQfinish(conn);
	return NULL;
}

/* The connection failed under a query: why, and -1. */
static int
outbox_lost(PGconn *conn, char *why, size_t len)
{
	snprintf(why, len, "%.*s", (int)strcspn(PQerrorMessage(conn), "\n"),
	    PQerrorMessage(conn));
	return -1;
}

/* Send the query and read its results until the deadline: 0 and the
 * figures, or -1. */
static int
outbox_query(PGconn *conn, int64_t deadline, long long *depth,
    double *oldest, char *why, size_t len)
{
	PGresult	*res;
	int		 r, found = 0, ok = 1;

	snprintf(why, len, "no answer within %d ms", OUTBOX_DEADLINE_MS);
	if (!PQsendQuery(conn, outbox_sql))
		return -1;
	/* Non-blocking: what the socket did not take yet is flushed as it
	 * drains (libpq may need to read meanwhile). */
	while ((r = PQflush(conn)) == 1) {
		if (outbox_poll(conn, POLLIN | POLLOUT, deadline) == -1)
			return -1;
		if (!PQconsumeInput(conn))
			return outbox_lost(conn, why, len);
	}
	if (r == -1)
		return outbox_lost(conn, why, len);
	for (;;) {
		while (PQisBusy(conn)) {
			if (outbox_poll(conn, POLLIN, deadline) == -1)
				return -1;
			if (!PQconsumeInput(conn))
				return outbox_lost(conn, why, len);
		}
		if ((res = PQgetResult(conn)) == NULL)
			break;
		switch (PQresultStatus(res)) {
		case PGRES_COMMAND_OK:		/* the set */
			break;
		case PGRES_TUPLES_OK:
			if (PQntuples(res) == 1) {
				*depth = strtoll(PQgetvalue(res, 0,
				    OUTBOX_DEPTH), NULL, 10);
				*oldest = strtod(PQgetvalue(res, 0,
				    OUTBOX_OLDEST_AGE), NULL);
				found = 1;
			}
			break;
		default:
			snprintf(why, len, "%.*s",
			    (int)strcspn(PQresultErrorMessage(res), "\n"),
			    PQresultErrorMessage(res));
			ok = 0;
			break;
		}
		PQclear(res);
	}
	return ok && found ? 0 : -1;
}

void
metrics_outbox_render(struct buf *b)
{
	int64_t		 deadline = outbox_now_ms() + OUTBOX_DEADLINE_MS;
	char		 why[256];
	long long	 depth = 0;
	double		 oldest = 0;
	int		 ok;

	if (outbox_conn != NULL && PQstatus(outbox_conn) != CONNECTION_OK)
		metrics_outbox_close();
	if (outbox_conn == NULL)
		outbox_conn = outbox_connect(deadline, why, sizeof why);
	ok = outbox_conn != NULL && outbox_query(outbox_conn, deadline,
	    &depth, &oldest, why, sizeof why) == 0;
	/* Logged when it starts and stops failing, not at every scrape
	 * while the database is down. */
	if (!ok && !outbox_failing)
		log_warnx("metrics: outbox: %s", why);
	else if (ok && outbox_failing)
		log_info("metrics: outbox readable again");
	outbox_failing = !ok;
	/* Whatever was in flight is abandoned with the connection. */
	if (!ok)
		metrics_outbox_close();

	buf_printf(b, "# HELP ecadmd_outbox_query_success Whether this "
	    "scrape could read the outbox (1) or not (0: the database refused "
	    "or did not answer within %d ms).\n"
	    "# TYPE ecadmd_outbox_query_success gauge\n"
	    "ecadmd_outbox_query_success %d\n", OUTBOX_DEADLINE_MS, ok);
	if (!ok)
		return;
	buf_printf(b, "# HELP ecadmd_outbox_depth Mails in the outbox neither "
	    "sent nor given up (shared by every instance of the database).\n"
	    "# TYPE ecadmd_outbox_depth gauge\n"
	    "ecadmd_outbox_depth %lld\n"
	    "# HELP ecadmd_outbox_oldest_age_seconds Age of the oldest of "
	    "them (0 when there is none).\n"
	    "# TYPE ecadmd_outbox_oldest_age_seconds gauge\n"
	    "ecadmd_outbox_oldest_age_seconds %.3f\n", depth, oldest);
}

void
metrics_outbox_close(void)
{
	if (outbox_conn != NULL)
		PQfinish(outbox_conn);
	outbox_conn = NULL;
}
