/*
 * Mail to guardians. mail_enqueue() writes a message into the outbox
 * (sql/007_outbox.sql) inside the caller's transaction; the mailer thread
 * (mailer.c) delivers it later, to a Maildir or over SMTP.
 */
#ifndef MAIL_H
#define MAIL_H

#include <time.h>

#include <jansson.h>

#include "buf.h"

struct db;

enum mail_kind {
	MAIL_NOTIFICATION,	/* login, provisional password, guichet URL */
	MAIL_ACTIVATION,	/* the link that makes the account active */
	MAIL_FORGOT_LOGIN,	/* the login, to the account's address */
	MAIL_FORGOT_PASSWORD,	/* a link to choose a new password */
	MAIL_EMAIL_CHANGE,	/* a link confirming a new address */
};

/* The kind's name in the outbox ("notification", ...). */
const char	*mail_kind_name(enum mail_kind);
/*
 * Queue a message for account_id (NULL: none) to the address, with the
 * values its text needs (stolen; NULL: none). Must run inside a
 * transaction (db_begin): the message goes when the change commits. -1
 * on a database error.
 */
int		 mail_enqueue(struct db *, enum mail_kind, const char *account_id,
		    const char *recipient, json_t *vars);
/* The kind of a name from the outbox; -1 if unknown. */
int		 mail_kind_lookup(const char *);

/*
 * mail-text.c: the message, made at delivery. The vars each kind reads
 * from the outbox row:
 *   notification     school (name, optional); the login, the provisional
 *                    password and its expiry are read from the account
 *                    at delivery, never stored in the outbox
 *   activation       token (in clear), days (validity, optional)
 *   forgot_login     login
 *   forgot_password  token
 *   email_change     token
 */
struct mail_facts {
	enum mail_kind	 kind;
	const char	*from;		/* header From, as configured */
	const char	*to;
	const char	*guichet_url;
	const char	*school;	/* NULL: "l'école" */
	const char	*login;
	const char	*password;	/* notification; NULL: a reminder */
	const char	*expires;	/* DD/MM/YYYY, with the password */
	const char	*token;
	int		 days;		/* validity of a link */
	time_t		 date;
	const char	*message_id;	/* without <> */
};

/* The whole message (headers, CRLF lines) into out; -1 and *cause when a
 * fact the kind needs is missing. */
int		 mail_text_compose(const struct mail_facts *, struct buf *out,
		    char **cause);
/* The address in a From value ("Name <a@b>" or "a@b"), for the envelope
 * and the Message-ID's domain; caller frees. */
char		*mail_address(const char *from);

/* mail-deliver.c: handing a message to the Maildir or the relay. */
enum mail_result {
	MAIL_SENT,
	MAIL_RETRY,		/* try again later */
	MAIL_FAILED,		/* refused for good (a 5xx) */
};

/* Read the relay's password; -1 and *cause. Before any thread starts. */
int		 mail_deliver_init(char **cause);
void		 mail_deliver_free(void);
/* Deliver msg from the envelope address to to; *error says why not. */
enum mail_result mail_deliver(const char *from, const char *to,
		    const struct buf *msg, char **error);

#endif
