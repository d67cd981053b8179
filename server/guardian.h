/*
 * What the guardian operations share (guardian.c): their sessions, the
 * links mailed to them, the failure counters of the guichet, the checks of
 * the forms' fields and the events they write. The tables are in
 * sql/008_guardian.sql.
 */
#ifndef GUARDIAN_H
#define GUARDIAN_H

#include <stdint.h>

#include <jansson.h>

struct db;
struct request;
struct worker;

/* Who acts and through what, in the events of the guichet. */
#define GUARDIAN_ACTOR		"guichet"
#define GUARDIAN_CHANNEL	"guichet"

/*
 * The guichet's limits. A login gets few tries (its provisional password
 * and its child's birth date are short secrets); an address more, since a
 * school's parents may share one (a town hall's computer, a carrier's
 * NAT), and mail requests are limited so the guichet cannot be used to
 * flood an inbox.
 */
#define GUARDIAN_LOGIN_MAX_FAILURES	5
#define GUARDIAN_ADDR_MAX_FAILURES	20
#define GUARDIAN_MAIL_MAX		10
#define GUARDIAN_WINDOW			"15 minutes"
#define GUARDIAN_LOCK			"15 minutes"
/* A guardian session ends after this long without a request. */
#define GUARDIAN_SESSION_IDLE		"30 minutes"
/* Validity of a forgotten-password link, in hours. */
#define GUARDIAN_PASSWORD_LINK_HOURS	24

/* The one answer to a refused guichet login, whatever the cause. */
#define GUARDIAN_REFUSED	"Identifiant ou mot de passe incorrect."
#define GUARDIAN_EXPIRED	"Session expirée : reconnectez-vous."

/* The throttle keys of one attempt. */
struct guardian_keys {
	char	login[96];
	char	addr[96];
};

/* A live guardian session, as guardian_session_get() found it. */
struct guardian_session {
	char	 id[24];
	char	 account_id[24];
	char	 pupil_id[24];		/* "" when none */
	char	*login;
};

/* A link being followed, locked until the transaction ends. */
struct guardian_link {
	char	 id[24];
	char	 account_id[24];
	char	*login;
	char	*new_email;		/* email_change links */
};

/* The keys of a login (case folded) and an address (NULL: none). */
void	 guardian_keys(struct guardian_keys *, const char *login,
	    const char *addr);
/* 1 with the lock's E_AUTH message set if a key is locked, 0 if not, -1
 * with the error set. */
int	 guardian_locked(struct worker *, struct request *,
	    const struct guardian_keys *);
/* Count a failure on both keys: 1 with the lock message set if this one
 * locked a key, else 0 and *remaining the login's tries left; -1 on a
 * database error (set). */
int	 guardian_failed(struct worker *, struct request *,
	    const struct guardian_keys *, int *remaining);
/* Forget the failures of a login (it succeeded). */
void	 guardian_forgive(struct worker *, const struct guardian_keys *);
/* Whether this address may ask for one more mail (counted). */
int	 guardian_mail_allowed(struct worker *, const char *addr);

/* Open a session; token holds 65 bytes. -1 on a database error. */
int	 guardian_session_open(struct worker *, const char *account_id,
	    const char *stage, const char *pupil_id, char *token);
/* The live session of the "session" argument at that stage (the account
 * still in the state the stage needs); -1 with the error set. */
int	 guardian_session_get(struct worker *, struct request *,
	    const char *stage, struct guardian_session *);
void	 guardian_session_clear(struct guardian_session *);
/* End a session (id), or every session of an account (id NULL). */
int	 guardian_sessions_end(struct db *, const char *session_id,
	    const char *account_id);

/* A new link of that kind for the account, killing the live one; token
 * holds 65 bytes. Inside the caller's transaction; -1 on error. */
int	 guardian_link_issue(struct db *, const char *account_id,
	    const char *kind, int hours, const char *new_email, char *token);
/* A new activation link and its mail. In the caller's transaction. */
int	 guardian_activation_send(struct db *, const char *account_id,
	    const char *login, const char *email);
/* Find and lock the live link of that kind, for an account in that state
 * (one that moved on since the link was mailed makes it as good as used):
 * -1 with E_NOT_FOUND, E_INVALID (expired, with details) or the database
 * error set. In a transaction. */
int	 guardian_link_take(struct worker *, struct request *,
	    const char *token, const char *kind, const char *state,
	    struct guardian_link *);
int	 guardian_link_spend(struct db *, const char *link_id);
void	 guardian_link_clear(struct guardian_link *);

/* Add a {field, text} to a list of bad fields (created when NULL). */
void	 guardian_field_error(json_t **details, const char *field,
	    const char *text);
/* Check a new password and its confirmation into details. */
void	 guardian_check_password(json_t **details, const char *password,
	    const char *confirmation);
/* With bad fields, set the E_INVALID reply listing them and return -1. */
int	 guardian_fields_refuse(struct request *, json_t *details);

/* Write an account event (action, detail) as actor through channel, with
 * no change of state, in the caller's transaction. */
int	 guardian_event(struct db *, const char *actor, const char *channel,
	    int school_id, const char *account_id, const char *action,
	    const char *detail);

#endif
