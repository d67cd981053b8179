/*
 * Shared declarations of ecadmd: the types of requests and jobs, then one
 * section per file, headed by the name of the file that defines what it
 * declares. server.c explains the model.
 */
#ifndef SERVER_H
#define SERVER_H

#include "compat.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "proto.h"

struct db;
struct sshkey;

/*
 * Types shared by the loop, the workers and the handlers.
 */

struct session_school {
	int		 id;
	char		 uai[9];
	char		*name;		/* NULL until an import names it */
	char		*town;
};

/* A logged-in staff member, cached on the connection. */
struct session {
	int64_t			 id;		/* staff_sessions.id */
	int			 staff_id;
	char			*login;
	char			*name;
	unsigned		 role;
	size_t			 nschools;
	struct session_school	*schools;	/* a director's schools */
	struct timespec		 checked;	/* last confirmed in the db */
	unsigned		 epoch;		/* revocations seen */
};

/* The school an operation runs in, as the gate resolved it. */
struct scope {
	int	 school_id;		/* 0: academy-wide */
	char	 uai[9];
	char	*school_name;
	char	*school_town;
};

/* One request, from the frame that brought it to the reply bytes. */
struct request {
	uint64_t	 conn_id;
	json_int_t	 id;
	enum proto_op	 op;
	json_t		*msg;		/* the whole message */
	json_t		*args;		/* its "args", always an object */
	unsigned	 peer;
	const char	*channel;	/* the client program, from hello */
	const char	*addr;		/* the client's IP address, no port */
	struct session	*session;	/* NULL before login */
	struct scope	 scope;
	struct buf	 upload;	/* binary payload of OPF_UPLOAD ops */
	char		 upload_sha256[65];	/* its announced digest */

	/* Set by the handler. */
	json_t		*result;
	int		 error;		/* -1, or an enum proto_error */
	char		*message;
	json_t		*error_details;	/* a list, for errors of many parts */
	struct buf	 blob;		/* binary payload of the reply */
	char		*blob_name;
	struct session	*new_session;	/* login: the connection's session */
	int		 end_session;	/* logout */
};

/* A request on its way to a worker and back. The loop owns the connection;
 * workers only touch the request. */
struct job {
	void			*conn;
	struct request		 req;
	struct buf		 out;	/* the reply frames */
	struct timespec		 queued;
	atomic_int		 cancelled;	/* its connection is gone */
	TAILQ_ENTRY(job)	 entry;
};

/* One worker thread and its database connection. */
struct worker {
	int		 index;
	pthread_t	 thread;
	struct db	*db;
};

/* server.c: main, the configuration. */
struct server_config {
	char	*listen;		/* host:port */
	char	*tls_cert;
	char	*tls_key;
	char	*peer_ca;		/* CA of the front-end daemons */
	char	*database;		/* libpq conninfo or URL */
	char	*key_file;		/* AES key of sealed secrets */
	char	*guichet_url;		/* printed on the letters */
	int	 activation_days;	/* validity of an activation link */
	int	 workers;
	int	 max_connections;
	int	 max_queue;
	int	 session_idle;		/* minutes */
	int	 session_lifetime;	/* hours, however active */
	int	 session_check;		/* seconds between database checks */
	int	 handshake_timeout;	/* seconds */
	int	 login_timeout;		/* seconds to log in */
	int	 write_timeout;		/* seconds a client may leave replies unread */
	int	 queue_timeout;		/* seconds a request may wait for a worker */
	int	 max_untrusted_per_address;
	int	 statement_timeout;	/* seconds, 0: none */
	int	 lock_timeout;		/* seconds, 0: none */
	int	 login_max_failures;	/* per account, then locked */
	int	 login_addr_max_failures; /* per source address */
	int	 login_failure_decay;	/* seconds to forget one failure */
	char	*totp_required;		/* roles, comma-separated */
	unsigned totp_roles;		/* the same as ROLE_* bits */
	int	 debug;
	char	*maildir;		/* delivery when smtp_url is empty */
	char	*smtp_url;		/* smtp:// or smtps:// */
	char	*smtp_user;
	char	*smtp_password_file;
	int	 smtp_starttls;		/* require STARTTLS on smtp:// */
	char	*smtp_ca;		/* CA file of the relay */
	char	*mail_from;		/* header From */
	int	 mail_max_attempts;
	int	 mail_retry_base;	/* seconds, doubled at each attempt */
	char	*metrics_listen;	/* loopback host:port, or NULL: off */
};

extern struct server_config server_cfg;

/* loop.c: the network side (conn.c, behind conn.h, has the connections). */
void	 loop_run(void *tls_ctx);
/* Called by a worker when a job is done. */
void	 loop_complete(struct job *);
/* Seconds between two CLOCK_MONOTONIC readings. */
double	 timespec_since(const struct timespec *);

/* worker.c: the pool. */
void	 worker_start(void);
void	 worker_stop(void);
/* Queue a job; -1 if the queue is full. */
int	 worker_submit(struct job *);
size_t	 worker_queued(void);
/* Run the handler of req->op. */
void	 op_dispatch(struct worker *, struct request *);

/* mailer.c: the thread that delivers the outbox. */
void	 mailer_start(void);
void	 mailer_stop(void);
/* Whether the mailer is asked to stop (a transfer then gives up). */
int	 mailer_stopping_now(void);

/* req.c: what handlers read from a request and answer. */
/* Set an error reply; the message (French, for people) is printf-like. */
void	 req_error(struct request *, enum proto_error, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* Set the error reply that matches the last database failure. */
void	 req_db_error(struct request *, struct db *);
/* Typed views of the arguments; NULL or fallback when absent. Wrong types
 * set an E_INVALID error and return NULL or fallback. */
const char *req_arg_str(struct request *, const char *name, int required);
json_int_t req_arg_int(struct request *, const char *name,
	    json_int_t fallback);
int	 req_arg_bool(struct request *, const char *name, int fallback);
/* The string array argument (a lone string counts as one); NULL if absent. */
json_t	*req_arg_strings(struct request *, const char *name);
/* Serialize the reply into out. */
void	 req_reply(struct request *, struct buf *out);
void	 req_clear(struct request *);

/* gate.c: the one check before any handler. */
int	 gate_check_role(struct request *);
int	 gate_run(struct worker *, struct request *);

/* session.c: staff logins, sessions, throttles. */
void	 session_free(struct session *);
/* What a client learns of its session (with its token after a login). */
json_t	*session_describe(const struct session *, const char *token);
void	 session_login(struct worker *, struct request *);
void	 session_resume(struct worker *, struct request *);
void	 session_logout(struct worker *, struct request *);
/* The logins of ecadm-sshd by SSH key, for op-ssh.c; addr is the SSH
 * client's address. Whether key is one of login's and the account may log
 * in: 0 and whether a TOTP code will be asked, or -1 with the error set
 * (E_AUTH); nothing is counted. */
int	 session_key_check(struct worker *, struct request *,
	    const char *login, const struct sshkey *, const char *addr,
	    int *totp);
/* Open a session by key and TOTP code, as session_login does with a
 * password: the same refusals, failures counted against the account and
 * addr, the session recorded with the key (channel "ssh"). */
void	 session_key_login(struct worker *, struct request *,
	    const char *login, const struct sshkey *, const char *addr,
	    const char *code);
/* Check a cached session against the database if it is due; 0 if valid. */
int	 session_refresh(struct worker *, struct request *);
/* The key that counts failures of a source address: the address, an IPv6
 * one cut to its /64, an IPv4-mapped one as IPv4. */
#define SESSION_ADDR_KEY_LEN	64
void	 session_addr_key(const char *addr, char out[SESSION_ADDR_KEY_LEN]);
/* A new random token in hex, for a client to hold, and the bytea literal
 * of its SHA-256 ("\x<hex>"), the only form a database keeps. */
#define TOKEN_LEN	(2 * 32 + 1)
#define TOKEN_HASH_LEN	(2 + 2 * 32 + 1)
void	 token_new(char token[TOKEN_LEN], char hash[TOKEN_HASH_LEN]);
void	 token_hash_literal(const char *token, char hash[TOKEN_HASH_LEN]);
/* Forget cached sessions of that staff member (disabled, or a key of
 * theirs removed): each is checked against the database at its next
 * request. */
void	 gate_revoke_staff(int staff_id);

/* selection.c: the accounts notify and list apply to. */
struct selection {
	json_t		*classes;	/* names, or NULL */
	json_t		*logins;	/* or NULL */
	char		*classes_sql;	/* as text[] literals, or NULL */
	char		*logins_sql;
	char		 school[16];
	const char	*params[3];	/* $1 school, $2 classes, $3 logins */
};

/* Exactly one of classes, logins, all; an E_INVALID error if not. */
int	 selection_parse(struct request *, struct selection *);
void	 selection_free(struct selection *);
/* A JSON array of strings as a text[] literal, every element quoted. */
char	*sql_text_array(json_t *);

/* text.c */
/* "LAST First", as the ministry's lists write people. */
char	*person_name(const char *last, const char *first);
/* The French label of an event's action. */
const char *action_label(const char *);
/* The label of a state code, as account_states has it; NULL for NULL.
 * Kept here too so the search, the hottest query, joins less. */
const char *state_label(const char *);

/* op-*.c: the handlers, op_NAME in op-NAME.c (op_staff_* in op-staff.c). */
typedef void (*op_handler)(struct worker *, struct request *);
void	 op_whoami(struct worker *, struct request *);
void	 op_classes(struct worker *, struct request *);
void	 op_search(struct worker *, struct request *);
void	 op_stats(struct worker *, struct request *);
void	 op_staff_add(struct worker *, struct request *);
void	 op_staff_list(struct worker *, struct request *);
void	 op_staff_disable(struct worker *, struct request *);
void	 op_staff_set_key(struct worker *, struct request *);
void	 op_staff_totp(struct worker *, struct request *);
void	 op_staff_keys(struct worker *, struct request *);
void	 op_staff_remove_key(struct worker *, struct request *);
/* op-ssh.c: the logins of ecadm-sshd by SSH key. */
void	 op_ssh_key(struct worker *, struct request *);
void	 op_ssh_login(struct worker *, struct request *);
void	 op_import(struct worker *, struct request *);
void	 op_notify(struct worker *, struct request *);
void	 op_reset(struct worker *, struct request *);
void	 op_list(struct worker *, struct request *);
void	 op_show(struct worker *, struct request *);
void	 op_journal(struct worker *, struct request *);
/* op-guardian*.c: the guichet's operations for guardians. */
void	 op_guardian_login(struct worker *, struct request *);
void	 op_guardian_activate(struct worker *, struct request *);
void	 op_guardian_confirm(struct worker *, struct request *);
void	 op_guardian_resend(struct worker *, struct request *);
void	 op_guardian_account(struct worker *, struct request *);
void	 op_guardian_password(struct worker *, struct request *);
void	 op_guardian_email(struct worker *, struct request *);
void	 op_guardian_email_confirm(struct worker *, struct request *);
void	 op_guardian_forgot_login(struct worker *, struct request *);
void	 op_guardian_forgot_password(struct worker *, struct request *);
void	 op_guardian_reset_password(struct worker *, struct request *);
void	 op_guardian_logout(struct worker *, struct request *);
/* op-set-email.c: the helpdesk's actions on an activation. */
void	 op_set_email(struct worker *, struct request *);
void	 op_resend_activation(struct worker *, struct request *);

#endif
