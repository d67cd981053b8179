/*
 * Mail to guardians. mail_enqueue() writes a message into the outbox
 * (sql/007_outbox.sql) inside the caller's transaction; the mailer thread
 * (mailer.c) delivers it later, to a Maildir or over SMTP.
 */
#ifndef MAIL_H
#define MAIL_H

#include <jansson.h>

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

#endif
