/*
 * The mailer: one thread of ecadmd, with its own database connection,
 * that delivers the outbox (sql/007_outbox.sql).
 *
 * One message at a time, one transaction each: take the oldest due row
 * with FOR UPDATE SKIP LOCKED, compose it (mail-text.c), deliver it
 * (mail-deliver.c) while the row stays locked, then mark it sent (its vars
 * wiped: they may hold a token) or schedule the next attempt, retry_base
 * seconds doubled at each one. A relay's 5xx, or max_attempts reached,
 * gives the message up and marks the account (mail_failed_at) so the
 * director sees it in the search and on the card. The row lock is what
 * lets several ecadmd share one database: another instance skips the row
 * being sent instead of sending it twice. A crash between delivery and the
 * mark sends the message again at the next start: at least once, never
 * lost.
 *
 * Waking up. The mailer LISTENs on "outbox", which a trigger NOTIFYs when
 * a transaction that queued messages commits, in this instance or any
 * other; between two notifications it sleeps until the next retry is due
 * (60 s at most, so a lost notification delays a message, never loses
 * it). A poll every few seconds would have been simpler, but a parent
 * waiting for an activation link at the guichet would wait that long, and
 * every idle instance would query the database for nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "hex.h"
#include "account.h"
#include "buf.h"
#include "db.h"
#include "log.h"
#include "mail.h"
#include "server.h"
#include "valid.h"
#include "xmalloc.h"

/* Longest sleep, and the wait after the database went away. */
#define MAILER_IDLE_MAX		60
#define MAILER_DB_RETRY		5
/* The longest delay between two attempts. */
#define MAILER_BACKOFF_MAX	21600

static pthread_t	 mailer_thread;
static int		 mailer_pipe[2] = { -1, -1 };
static atomic_int	 mailer_stopping;
static int		 mailer_running;

enum {
	DUE_ID, DUE_KIND, DUE_ACCOUNT, DUE_RECIPIENT, DUE_VARS, DUE_ATTEMPTS,
	DUE_LOGIN, DUE_PROVISIONAL, DUE_EXPIRES,
};
/* The oldest message due, locked; another instance skips it. The
 * password only while the account still has a provisional one. */
static struct db_stmt mailer_due = DB_STMT(
    "select o.id, o.kind, o.account_id, o.recipient, o.vars::text,"
    "  o.attempts, a.login,"
    "  case when a.state = 'notifie' then a.provisional end,"
    "  to_char(letter_expires_at(a.letter_at) at time zone 'Europe/Paris',"
    "   'DD/MM/YYYY')"
    " from outbox o left join accounts a on a.id = o.account_id"
    " where o.sent_at is null and o.failed_at is null"
    " and o.next_attempt_at <= now()"
    " order by o.next_attempt_at, o.id limit 1"
    " for update of o skip locked");

/* Delivered: the vars go (a token in clear), and a message that reached
 * the account clears an earlier failure. */
static struct db_stmt mailer_sent = DB_STMT(
    "with o as (update outbox set sent_at = now(), attempts = attempts + 1,"
    "  vars = '{}', last_error = null where id = $1 returning account_id)"
    " update accounts a set mail_failed_at = null from o"
    " where a.id = o.account_id and a.mail_failed_at is not null");

/* Not delivered: the next attempt, or given up ($4: for good, or the
 * attempts are spent) with the account marked. */
static struct db_stmt mailer_retry = DB_STMT(
    "with o as (update outbox set attempts = attempts + 1,"
    "  last_error = $2,"
    "  next_attempt_at = now() + least($5::int,"
    "   $3::int * 2 ^ attempts) * interval '1 second',"
    "  failed_at = case when $4::bool or attempts + 1 >= $6::int"
    "   then now() end,"
    "  vars = case when $4::bool or attempts + 1 >= $6::int"
    "   then '{}' else vars end"
    "  where id = $1 returning account_id, failed_at)"
    " update accounts a set mail_failed_at = o.failed_at from o"
    " where a.id = o.account_id and o.failed_at is not null");

/* Seconds until the next message is due. */
static struct db_stmt mailer_next = DB_STMT(
    "select ceil(extract(epoch from min(next_attempt_at) - now()))::int"
    " from outbox where sent_at is null and failed_at is null");

/* A Message-ID: the outbox id, random bytes, the sender's domain. */
static char *
mailer_message_id(const char *id, const char *from)
{
	unsigned char	 rnd[8];
	char		*addr = mail_address(from), *at, *mid, hex[17];

	if (RAND_bytes(rnd, sizeof rnd) != 1)
		fatalx("RAND_bytes");
	hex_encode(rnd, sizeof rnd, hex);
	at = strchr(addr, '@');
	xasprintf(&mid, "%s.%s@%s", id, hex, at != NULL ? at + 1 :
	    "ecadm.invalid");
	free(addr);
	return mid;
}

/* The facts of row r and the message made of them; -1 and *error if it
 * cannot be made (that will not change: the message is given up). */
static int
mailer_compose(PGresult *res, struct buf *msg, char **error)
{
	struct mail_facts	 f;
	json_t			*vars;
	const char		*cause;
	char			*password = NULL, *mid;
	int			 kind, r;

	memset(&f, 0, sizeof f);
	if ((kind = mail_kind_lookup(db_get(res, 0, DUE_KIND))) == -1) {
		xasprintf(error, "unknown kind %s", db_get(res, 0, DUE_KIND));
		return -1;
	}
	/* The address goes into a header and the envelope: nothing but an
	 * address may pass (a CR or LF would add headers). */
	if (valid_email(db_get(res, 0, DUE_RECIPIENT), &cause) == -1) {
		xasprintf(error, "recipient: %s", cause);
		return -1;
	}
	vars = json_loads(db_get(res, 0, DUE_VARS), 0, NULL);
	f.kind = (enum mail_kind)kind;
	f.from = server_cfg.mail_from;
	f.to = db_get(res, 0, DUE_RECIPIENT);
	f.guichet_url = server_cfg.guichet_url;
	f.school = json_string_value(json_object_get(vars, "school"));
	f.token = json_string_value(json_object_get(vars, "token"));
	f.days = (int)json_integer_value(json_object_get(vars, "days"));
	f.login = kind == MAIL_NOTIFICATION ? db_get(res, 0, DUE_LOGIN) :
	    json_string_value(json_object_get(vars, "login"));
	if (f.login == NULL)
		f.login = db_get(res, 0, DUE_LOGIN);
	/* The provisional password is never in the outbox: it is opened
	 * here, from the account, as the sheet does. */
	if (kind == MAIL_NOTIFICATION && db_get(res, 0, DUE_PROVISIONAL) !=
	    NULL && (password = account_open_password(db_get_int(res, 0,
	    DUE_ACCOUNT), db_get(res, 0, DUE_PROVISIONAL))) == NULL)
		log_warnx("outbox %s: the provisional password does not "
		    "decrypt", db_get(res, 0, DUE_ID));
	f.password = password;
	f.expires = db_get(res, 0, DUE_EXPIRES);
	f.date = time(NULL);
	f.message_id = mid = mailer_message_id(db_get(res, 0, DUE_ID),
	    server_cfg.mail_from);
	r = mail_text_compose(&f, msg, error);
	free(mid);
	if (password != NULL)
		freestr_secret(password);
	json_decref(vars);
	return r;
}

/* Record the outcome of the message of row 0. */
static int
mailer_mark(struct db *db, PGresult *res, enum mail_result result,
    const char *error)
{
	PGresult	*up;
	char		 base[16], most[16], max[16];

	if (result == MAIL_SENT)
		up = db_queryv(db, &mailer_sent, db_get(res, 0, DUE_ID));
	else {
		snprintf(base, sizeof base, "%d", server_cfg.mail_retry_base);
		snprintf(most, sizeof most, "%d", MAILER_BACKOFF_MAX);
		snprintf(max, sizeof max, "%d", server_cfg.mail_max_attempts);
		up = db_queryv(db, &mailer_retry, db_get(res, 0, DUE_ID), error,
		    base, result == MAIL_FAILED ? "true" : "false", most, max);
	}
	if (up == NULL)
		return -1;
	PQclear(up);
	return 0;
}

/* Send the oldest due message: 1 if one was handled, 0 if none is due,
 * -1 on a database error. */
static int
mailer_send_one(struct db *db)
{
	enum mail_result	 result;
	struct buf		 msg;
	PGresult		*res;
	char			*error = NULL, *from;
	int			 attempts, r = 1;

	if (db_begin(db) == -1)
		return -1;
	if ((res = db_query(db, &mailer_due, 0, NULL)) == NULL) {
		db_rollback(db);
		return -1;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		db_rollback(db);
		return 0;
	}
	buf_init(&msg);
	attempts = (int)db_get_int(res, 0, DUE_ATTEMPTS) + 1;
	if (mailer_compose(res, &msg, &error) == -1)
		result = MAIL_FAILED;
	else {
		from = mail_address(server_cfg.mail_from);
		result = mail_deliver(from, db_get(res, 0, DUE_RECIPIENT),
		    &msg, &error);
		free(from);
	}
	buf_free_secret(&msg);
	if (result == MAIL_SENT)
		log_info("outbox %s: %s sent", db_get(res, 0, DUE_ID),
		    db_get(res, 0, DUE_KIND));
	else
		log_warnx("outbox %s: %s, attempt %d%s: %s", db_get(res, 0,
		    DUE_ID), db_get(res, 0, DUE_KIND), attempts,
		    result == MAIL_FAILED || attempts >=
		    server_cfg.mail_max_attempts ? ", given up" : "",
		    error != NULL ? error : "?");
	if (mailer_mark(db, res, result, error) == -1 ||
	    db_commit(db) == -1) {
		db_rollback(db);
		r = -1;
	}
	free(error);
	PQclear(res);
	return r;
}

/* Seconds to sleep: until the next message is due, within bounds. */
static int
mailer_idle(struct db *db)
{
	PGresult	*res;
	int		 s = MAILER_IDLE_MAX;

	if ((res = db_query(db, &mailer_next, 0, NULL)) == NULL)
		return MAILER_DB_RETRY;
	if (db_get(res, 0, 0) != NULL)
		s = (int)db_get_int(res, 0, 0);
	PQclear(res);
	return s < 0 ? 0 : s > MAILER_IDLE_MAX ? MAILER_IDLE_MAX : s;
}

/* Sleep up to seconds, or until a notification or the stop. */
static void
mailer_wait(struct db *db, int seconds)
{
	struct pollfd	 pfd[2];
	PGnotify	*n;
	PGconn		*conn = db_conn(db);
	char		 c;

	pfd[0].fd = mailer_pipe[0];
	pfd[0].events = POLLIN;
	pfd[1].fd = PQsocket(conn);
	pfd[1].events = POLLIN;
	if (poll(pfd, pfd[1].fd >= 0 ? 2 : 1, seconds * 1000) == -1 &&
	    errno != EINTR)
		fatal("poll");
	/* Drained, not read once: the pipe is only a doorbell. */
	if (pfd[0].revents & POLLIN)
		while (read(mailer_pipe[0], &c, 1) == 1)
			;
	/* Read the notifications, whatever they say: one is enough. */
	if (pfd[1].fd >= 0 && PQconsumeInput(conn)) {
		while ((n = PQnotifies(conn)) != NULL)
			PQfreemem(n);
	}
}

static void *
mailer_main(void *arg)
{
	struct db	*db = arg;
	int		 sent = 0;

	log_context_set("mailer");
	while (!atomic_load(&mailer_stopping)) {
		/* LISTEN again each round: a connection that was reset
		 * (db_ensure) has forgotten it; it costs nothing. */
		if (db_ensure(db) == -1 || db_run(db, "listen outbox") == -1) {
			mailer_wait(db, MAILER_DB_RETRY);
			continue;
		}
		while (!atomic_load(&mailer_stopping) &&
		    (sent = mailer_send_one(db)) == 1)
			;
		if (atomic_load(&mailer_stopping))
			break;
		mailer_wait(db, sent == -1 ? MAILER_DB_RETRY :
		    mailer_idle(db));
	}
	db_close(db);
	return NULL;
}

void
mailer_start(void)
{
	struct db	*db;
	sigset_t	 all, old;
	char		*cause;

	if (mail_deliver_init(&cause) == -1)
		fatalx("mail: %s", cause);
	if (pipe2(mailer_pipe, O_CLOEXEC | O_NONBLOCK) == -1)
		fatal("pipe2");
	if ((db = db_open(server_cfg.database, &cause)) == NULL)
		fatalx("database: %s", cause);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&mailer_thread, NULL, mailer_main, db) != 0)
		fatalx("pthread_create");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	mailer_running = 1;
	log_info("mailer started: %s %s", server_cfg.smtp_url != NULL ?
	    "SMTP relay" : "Maildir", server_cfg.smtp_url != NULL ?
	    server_cfg.smtp_url : server_cfg.maildir);
}

void
mailer_stop(void)
{
	if (!mailer_running)
		return;
	atomic_store(&mailer_stopping, 1);
	/* A full pipe already rings: nothing to do if it fails. */
	if (write(mailer_pipe[1], "x", 1) == -1 && errno != EAGAIN)
		log_warn("mailer: wake-up");
	pthread_join(mailer_thread, NULL);
	close(mailer_pipe[0]);
	close(mailer_pipe[1]);
	mail_deliver_free();
	mailer_running = 0;
}

int
mailer_stopping_now(void)
{
	return atomic_load(&mailer_stopping);
}
