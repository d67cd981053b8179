/*
 * ecadmd: the server of Responsables, the only owner of the database.
 *
 * Concurrency model. One thread runs an epoll loop over every socket
 * (loop.c, and conn.c for each connection): TLS handshakes, reading and
 * writing frames, all non-blocking.
 * A fixed pool of worker threads (worker.c), each with its own PostgreSQL
 * connection, takes complete requests from one queue, runs the gate and the
 * handler, and hands the serialized reply back to the loop.
 *
 * Why this and not a single-threaded loop over asynchronous libpq: the
 * handlers are transactions of several dependent statements (check, update,
 * write events, render a document); written as straight-line libpq code
 * they read like the rules they enforce, and a batch stays atomic without
 * a hand-written state machine per operation. The cost of threads is kept
 * where it is cheap: a thousand idle sessions are a struct and an SSL object
 * each in the loop thread, never a thread or a database connection; the
 * database sees exactly `workers` connections (20 at most); a slow query or
 * a 100 ms scrypt hash occupies one worker, not the loop, so other clients
 * keep being served. Workers share nothing but the queue; the loop owns the
 * connections and the sessions cached on them, and a connection has at
 * most one request in flight, so no lock guards them.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "config.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "migrate.h"
#include "password.h"
#include "server.h"
#include "tls.h"
#include "totp.h"
#include "xmalloc.h"

#define DEFAULT_CONFIG	"/etc/ecadm/ecadmd.ini"

struct server_config server_cfg;
static int	log_to_syslog;

static const struct config_key server_keys[] = {
	{ "server", "listen", CONFIG_STRING, &server_cfg.listen,
	    "127.0.0.1:7443", "address and port to listen on (host:port)" },
	{ "server", "workers", CONFIG_INT, &server_cfg.workers, "8",
	    "worker threads, each with one database connection (1-20)" },
	{ "server", "max_connections", CONFIG_INT,
	    &server_cfg.max_connections, "4096",
	    "connections held at once; more are refused" },
	{ "server", "max_queue", CONFIG_INT, &server_cfg.max_queue, "256",
	    "requests waiting for a worker before E_BUSY is answered" },
	{ "server", "queue_timeout", CONFIG_INT, &server_cfg.queue_timeout,
	    "10", "seconds a request may wait for a worker; E_BUSY after" },
	{ "server", "handshake_timeout", CONFIG_INT,
	    &server_cfg.handshake_timeout, "10",
	    "seconds a client has to complete the TLS handshake" },
	{ "server", "login_timeout", CONFIG_INT, &server_cfg.login_timeout,
	    "30", "seconds a client has to log in before it is disconnected" },
	{ "server", "max_untrusted_per_address", CONFIG_INT,
	    &server_cfg.max_untrusted_per_address, "64",
	    "connections of one address in the handshake or not logged in; "
	    "more are refused" },
	{ "server", "write_timeout", CONFIG_INT, &server_cfg.write_timeout,
	    "60", "seconds a client may leave its replies unread before it "
	    "is disconnected" },
	{ "tls", "certificate", CONFIG_STRING, &server_cfg.tls_cert,
	    "/etc/ecadm/server.crt", "server certificate chain (PEM)" },
	{ "tls", "key", CONFIG_STRING, &server_cfg.tls_key,
	    "/etc/ecadm/server.key", "server private key (PEM, mode 0600)" },
	{ "tls", "peer_ca", CONFIG_STRING, &server_cfg.peer_ca, NULL,
	    "CA of the client certificates of ecadm-sshd and ecadm-guichet" },
	{ "database", "url", CONFIG_STRING, &server_cfg.database,
	    "postgresql:///ecadm", "libpq connection string or URL" },
	{ "database", "statement_timeout", CONFIG_INT,
	    &server_cfg.statement_timeout, "60",
	    "seconds a statement may run (0: no limit; imports get ten times "
	    "as long)" },
	{ "database", "lock_timeout", CONFIG_INT, &server_cfg.lock_timeout,
	    "10", "seconds a statement may wait for a lock (0: no limit)" },
	{ "security", "key_file", CONFIG_STRING, &server_cfg.key_file,
	    "/var/lib/ecadm/secret.key",
	    "AES-256 key of sealed secrets (mode 0600); created if missing and "
	    "nothing is sealed" },
	{ "security", "activation_days", CONFIG_INT,
	    &server_cfg.activation_days, "7",
	    "days an activation link sent to a guardian stays valid" },
	{ "security", "session_idle", CONFIG_INT, &server_cfg.session_idle,
	    "30", "minutes without a request before a staff session ends" },
	{ "security", "session_lifetime", CONFIG_INT,
	    &server_cfg.session_lifetime, "12",
	    "hours after login when a staff session ends, however active" },
	{ "security", "session_check", CONFIG_INT, &server_cfg.session_check,
	    "10", "seconds between two checks of a session in the database" },
	{ "security", "login_max_failures", CONFIG_INT,
	    &server_cfg.login_max_failures, "5",
	    "failed logins before the account is locked (30 s, doubling, 1 h "
	    "at most)" },
	{ "security", "login_addr_max_failures", CONFIG_INT,
	    &server_cfg.login_addr_max_failures, "30",
	    "failed logins from one address (IPv6: /64) before all its logins "
	    "are refused" },
	{ "security", "login_failure_decay", CONFIG_INT,
	    &server_cfg.login_failure_decay, "300",
	    "seconds without failure for an account's or address's count to "
	    "lose one" },
	{ "security", "totp_required", CONFIG_STRING,
	    &server_cfg.totp_required, "",
	    "roles that must log in with a TOTP code (directeur,assistance,"
	    "admin)" },
	{ "documents", "guichet_url", CONFIG_STRING, &server_cfg.guichet_url,
	    "https://guichet.example.fr/",
	    "address of ecadm-guichet printed on the letters (and their QR "
	    "code)" },
	{ "mail", "maildir", CONFIG_STRING, &server_cfg.maildir, "var/mail",
	    "Maildir the messages to guardians are delivered to (tmp/, new/) "
	    "when smtp_url is empty" },
	{ "mail", "smtp_url", CONFIG_STRING, &server_cfg.smtp_url, "",
	    "relay to send through instead: smtp://host:port or "
	    "smtps://host:port (empty: the Maildir)" },
	{ "mail", "smtp_starttls", CONFIG_BOOL, &server_cfg.smtp_starttls,
	    "no", "on smtp://, require STARTTLS (never send in clear)" },
	{ "mail", "smtp_ca", CONFIG_STRING, &server_cfg.smtp_ca, "",
	    "CA file that signs the relay's certificate (empty: the system's)" },
	{ "mail", "smtp_user", CONFIG_STRING, &server_cfg.smtp_user, "",
	    "login on the relay (empty: no authentication)" },
	{ "mail", "smtp_password_file", CONFIG_STRING,
	    &server_cfg.smtp_password_file, "",
	    "file holding the relay's password on its first line (mode 0600)" },
	{ "mail", "from", CONFIG_STRING, &server_cfg.mail_from,
	    "Services en ligne <ne-pas-repondre@ecadm.invalid>",
	    "From of the messages (ASCII: \"Name <address>\" or an address)" },
	{ "mail", "max_attempts", CONFIG_INT, &server_cfg.mail_max_attempts,
	    "10", "attempts before a message is given up and the account "
	    "marked" },
	{ "mail", "retry_base", CONFIG_INT, &server_cfg.mail_retry_base, "60",
	    "seconds before the second attempt, doubled at each one after "
	    "(6 h at most)" },
	{ "metrics", "listen", CONFIG_STRING, &server_cfg.metrics_listen, "",
	    "loopback address and port (host:port) of the Prometheus metrics, "
	    "plain HTTP at /metrics (empty: not served)" },
	{ "log", "debug", CONFIG_BOOL, &server_cfg.debug, "no",
	    "log every request" },
	{ "log", "syslog", CONFIG_BOOL, &log_to_syslog, "no",
	    "log to syslog instead of standard error" },
	{ NULL, NULL, CONFIG_STRING, NULL, NULL, NULL },
};

/* Check the settings that have a range, and read totp_required. */
static void
config_check(void)
{
	char		*copy, *p, *save, *end;
	unsigned	 role;

	if (server_cfg.session_idle < 1 || server_cfg.session_lifetime < 1)
		fatalx("[security] session_idle and session_lifetime must be "
		    "at least 1");
	if (server_cfg.login_max_failures < 1 ||
	    server_cfg.login_addr_max_failures < 1 ||
	    server_cfg.login_failure_decay < 1)
		fatalx("[security] login_max_failures, login_addr_max_failures "
		    "and login_failure_decay must be at least 1");
	if (server_cfg.mail_max_attempts < 1 || server_cfg.mail_retry_base < 1)
		fatalx("[mail] max_attempts and retry_base must be at least 1");
	if (server_cfg.maildir == NULL || server_cfg.mail_from == NULL ||
	    server_cfg.guichet_url == NULL)
		fatalx("[mail] maildir and from, and [documents] guichet_url, "
		    "must not be empty");
	server_cfg.totp_roles = 0;
	if (server_cfg.totp_required == NULL)
		return;
	copy = xstrdup(server_cfg.totp_required);
	for (p = strtok_r(copy, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save)) {
		p += strspn(p, " \t");
		end = p + strlen(p);
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*p == '\0')
			continue;
		if ((role = proto_role_lookup(p)) == 0)
			fatalx("[security] totp_required: unknown role \"%s\" "
			    "(directeur, assistance, admin)", p);
		server_cfg.totp_roles |= role;
	}
	free(copy);
}

/* A short-lived connection for start-up work; exits if there is none. */
static PGconn *
startup_connect(void)
{
	PGconn	*conn = PQconnectdb(server_cfg.database);

	if (PQstatus(conn) != CONNECTION_OK)
		fatalx("database: %.*s", (int)strcspn(PQerrorMessage(conn),
		    "\n"), PQerrorMessage(conn));
	return conn;
}

/* Load the server key. A missing key is created only while nothing in
 * the database was sealed with one: a new key would open none of those
 * secrets, and minting it silently would turn a lost file (a restore that
 * forgot it, a wrong path) into every provisional password and TOTP
 * secret lost, discovered one complaint at a time. */
static void
startup_key_load(PGconn *conn)
{
	struct stat	 st;
	PGresult	*res;
	char		*cause;
	int		 passwords, totp;

	if (stat(server_cfg.key_file, &st) == -1) {
		if (errno != ENOENT)
			fatal("key: %s", server_cfg.key_file);
		res = PQexec(conn, "select exists (select 1 from accounts"
		    "  where provisional is not null),"
		    " exists (select 1 from staff"
		    "  where totp_sealed is not null)");
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			fatalx("database: %s", PQresultErrorMessage(res));
		passwords = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		totp = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
		PQclear(res);
		if (passwords || totp)
			fatalx("key: %s is missing, but the database holds "
			    "%s%s%s sealed with it: restore the key file from "
			    "its backup (or fix [security] key_file); a new "
			    "key could not open them, so none is created",
			    server_cfg.key_file, passwords ? "provisional "
			    "passwords" : "", passwords && totp ? " and " : "",
			    totp ? "TOTP secrets" : "");
	}
	if (crypto_key_load(server_cfg.key_file, &cause) == -1)
		fatalx("key: %s", cause);
}

/* Seal the TOTP secrets stored in clear before migration 005 (the
 * database cannot: it does not hold the key). */
static void
startup_seal_clear_totp(PGconn *conn)
{
	PGresult	*res, *up;
	unsigned char	 box[128 + CRYPTO_OVERHEAD];
	const char	*values[2];
	char		*hex;
	int		 i, n;

	PQclear(PQexec(conn, "begin"));
	res = PQexec(conn, "select id, totp_secret_clear from staff"
	    " where totp_secret_clear is not null for update");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		fatalx("database: %s", PQresultErrorMessage(res));
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		if (strlen(PQgetvalue(res, i, 1)) > 128)
			fatalx("staff %s: TOTP secret too long",
			    PQgetvalue(res, i, 0));
		hex = crypto_bytea_hex(box, crypto_seal_totp(
		    strtoll(PQgetvalue(res, i, 0), NULL, 10),
		    PQgetvalue(res, i, 1), box));
		values[0] = PQgetvalue(res, i, 0);
		values[1] = hex;
		up = PQexecParams(conn, "update staff set totp_sealed = $2,"
		    " totp_secret_clear = null, totp_last_step = null where id = $1",
		    2, NULL, values, NULL, NULL, 0);
		if (PQresultStatus(up) != PGRES_COMMAND_OK)
			fatalx("database: %s", PQresultErrorMessage(up));
		PQclear(up);
		free(hex);
	}
	PQclear(res);
	res = PQexec(conn, "commit");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		fatalx("database: %s", PQresultErrorMessage(res));
	PQclear(res);
	if (n > 0)
		log_info("sealed %d TOTP secret%s stored in clear", n,
		    n == 1 ? "" : "s");
}

static int
cmd_migrate(void)
{
	char	*cause;
	int	 n;

	if ((n = migrate_run(server_cfg.database, &cause)) == -1) {
		log_warnx("migrate: %s", cause);
		free(cause);
		return 1;
	}
	log_info("database is up to date (%d migration%s applied)", n,
	    n == 1 ? "" : "s");
	return 0;
}

/* Enrol a new administrator in TOTP when admins must use it: else no
 * one could log in to enrol the first one. The otpauth URI to show, or
 * NULL. */
static char *
init_admin_totp(PGconn *conn, const char *login, const char *staff_id)
{
	unsigned char	 box[TOTP_SECRET_LEN + CRYPTO_OVERHEAD];
	char		 secret[TOTP_SECRET_LEN + 1], *hex, *uri = NULL;
	const char	*values[2];
	PGresult	*res;

	startup_key_load(conn);
	totp_secret_generate(secret);
	hex = crypto_bytea_hex(box, crypto_seal_totp(strtoll(staff_id, NULL,
	    10), secret, box));
	values[0] = staff_id;
	values[1] = hex;
	res = PQexecParams(conn, "update staff set totp_sealed = $2"
	    " where id = $1", 2, NULL, values, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_COMMAND_OK)
		uri = totp_uri(login, secret);
	else
		log_warnx("init-admin: %s", PQresultErrorMessage(res));
	PQclear(res);
	free(hex);
	OPENSSL_cleanse(secret, sizeof secret);
	return uri;
}

static int
cmd_init_admin(const char *login)
{
	char		 password[17], *hash, *cause, *uri = NULL;
	const char	*values[3];
	PGconn		*conn;
	PGresult	*res;
	int		 status = 1;

	if (migrate_is_current(server_cfg.database, &cause) != 1) {
		log_warnx("init-admin: %s", cause != NULL ? cause :
		    "run 'ecadmd migrate' first");
		return 1;
	}
	password_generate(password, 16);
	if ((hash = password_hash(password)) == NULL)
		fatalx("scrypt failed");
	conn = PQconnectdb(server_cfg.database);
	if (PQstatus(conn) != CONNECTION_OK) {
		log_warnx("database: %s", PQerrorMessage(conn));
		goto out;
	}
	values[0] = login;
	values[1] = hash;
	values[2] = "init-admin";
	PQclear(PQexec(conn, "begin"));
	res = PQexecParams(conn,
	    "with s as (insert into staff (login, name, role, password_hash)"
	    "  values ($1, 'Administrateur', 'admin', $2) returning id)"
	    " insert into events (staff_id, action, actor, channel)"
	    " select id, 'staff_add', 'ecadmd', $3 from s returning staff_id",
	    3, NULL, values, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		log_warnx("init-admin: %s", PQresultErrorMessage(res));
	else if ((server_cfg.totp_roles & ROLE_ADMIN) == 0 ||
	    (uri = init_admin_totp(conn, login, PQgetvalue(res, 0, 0))) !=
	    NULL)
		status = 0;
	PQclear(res);
	res = PQexec(conn, status == 0 ? "commit" : "rollback");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		log_warnx("init-admin: %s", PQresultErrorMessage(res));
		status = 1;
	}
	PQclear(res);
	if (status == 0) {
		/* The one time this password (and TOTP secret) is shown. */
		printf("%s %s\n", login, password);
		if (uri != NULL)
			printf("%s\n", uri);
		fflush(stdout);
	}
	if (uri != NULL)
		freezero(uri, strlen(uri));
out:
	PQfinish(conn);
	OPENSSL_cleanse(password, sizeof password);
	free(hash);
	return status;
}

/* Limits of every worker's database session: a runaway query or a lock
 * held elsewhere must not hold a worker for ever. */
static void
server_db_defaults(void)
{
	char	sql[192];

	if (server_cfg.statement_timeout < 0 || server_cfg.lock_timeout < 0)
		fatalx("statement_timeout and lock_timeout must not be "
		    "negative");
	/* Text comes back as UTF-8 whatever the database's encoding, so it
	 * goes into JSON as it is (op-search.c). */
	snprintf(sql, sizeof sql, "set statement_timeout = '%ds';"
	    " set lock_timeout = '%ds'; set client_encoding = 'UTF8'",
	    server_cfg.statement_timeout, server_cfg.lock_timeout);
	db_set_defaults(sql);
}

static int
cmd_serve(void)
{
	SSL_CTX		*ctx;
	PGconn		*conn;
	sigset_t	 mask;
	char		*cause;

	if (server_cfg.workers < 1 || server_cfg.workers > 20)
		fatalx("workers must be between 1 and 20");
	if (migrate_is_current(server_cfg.database, &cause) != 1)
		fatalx("database: %s", cause != NULL ? cause :
		    "schema out of date: run 'ecadmd migrate'");
	if ((ctx = tls_server_ctx(server_cfg.tls_cert, server_cfg.tls_key,
	    server_cfg.peer_ca, &cause)) == NULL)
		fatalx("tls: %s", cause);
	conn = startup_connect();
	if (db_check_states(conn, &cause) == -1)
		fatalx("database: %s", cause);
	startup_key_load(conn);
	startup_seal_clear_totp(conn);
	PQfinish(conn);
	server_db_defaults();

	/*
	 * Keep freed memory in the worker threads' arenas rather than giving
	 * it back after every request: a search builds and frees some 100 kB
	 * (its result, its JSON, its reply), and with glibc's default
	 * threshold each free trimmed the arena with madvise() and the next
	 * request took the pages back one fault at a time (perf: 9% of
	 * ecadmd's time in a search under load). What is kept is bounded by
	 * the largest requests of the workers, not by their number.
	 */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);

	/* The loop takes signals through a signalfd; block them first so
	 * every thread inherits the mask. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);

	/* Before the workers: a refused address stops us before the
	 * database sees a connection. */
	metrics_start();
	worker_start();
	mailer_start();
	log_info("ecadmd %s ready", ECADM_VERSION);
	loop_run(ctx);
	/* Scrapes are answered until the loop has drained. */
	metrics_stop();
	/* The mailer first: a message being delivered is finished or left
	 * to the next start, never cut half-way (it is marked after). */
	mailer_stop();
	worker_stop();
	SSL_CTX_free(ctx);
	crypto_key_unload();
	log_info("stopped");
	return 0;
}

#define SERVER_OPERANDS_HELP \
	"  serve             run the server (the default)\n" \
	"  migrate           apply the database migrations\n" \
	"  init-admin LOGIN  create an administrator; its password (and\n" \
	"                    its TOTP URI when admins need one) is\n" \
	"                    printed once\n"

int
main(int argc, char **argv)
{
	static const struct config_daemon	 daemon = { "ecadmd",
		server_keys, DEFAULT_CONFIG,
		"[serve | migrate | init-admin LOGIN]", SERVER_OPERANDS_HELP,
		&server_cfg.debug, &log_to_syslog };
	const char				*command;
	int					 status, first;

	first = config_daemon_args(&daemon, argc, argv);
	argc -= first;
	argv += first;
	command = argc > 0 ? argv[0] : "serve";
	config_check();

	if (strcmp(command, "serve") == 0 && argc <= 1)
		status = cmd_serve();
	else if (strcmp(command, "migrate") == 0 && argc == 1)
		status = cmd_migrate();
	else if (strcmp(command, "init-admin") == 0 && argc == 2)
		status = cmd_init_admin(argv[1]);
	else
		config_daemon_usage(&daemon, 2);
	config_free(server_keys);
	return status;
}
