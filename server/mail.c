/* Queueing mail: a row in the outbox, in the caller's transaction. */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "mail.h"
#include "xmalloc.h"

const char *
mail_kind_name(enum mail_kind kind)
{
	switch (kind) {
	case MAIL_NOTIFICATION:
		return "notification";
	case MAIL_ACTIVATION:
		return "activation";
	case MAIL_FORGOT_LOGIN:
		return "forgot_login";
	case MAIL_FORGOT_PASSWORD:
		return "forgot_password";
	case MAIL_EMAIL_CHANGE:
		return "email_change";
	}
	fatalx("mail_kind_name: %d", (int)kind);
}

int
mail_kind_lookup(const char *name)
{
	int	k;

	for (k = MAIL_NOTIFICATION; k <= MAIL_EMAIL_CHANGE; k++) {
		if (strcmp(mail_kind_name((enum mail_kind)k), name) == 0)
			return k;
	}
	return -1;
}

int
mail_enqueue(struct db *db, enum mail_kind kind, const char *account_id,
    const char *recipient, json_t *vars)
{
	static struct db_stmt	 insert = DB_STMT(
	    "insert into outbox (kind, account_id, recipient, vars)"
	    " values ($1, $2::bigint, $3, $4::jsonb)");
	PGresult		*res;
	char			*text;

	if (!db_in_transaction(db))
		fatalx("mail_enqueue outside a transaction");
	if (vars == NULL)
		vars = json_object();
	text = json_dumps(vars, JSON_COMPACT | JSON_ENCODE_ANY);
	res = db_queryv(db, &insert, mail_kind_name(kind), account_id,
	    recipient, text);
	/* The vars may hold a token in clear. */
	freestr_secret(text);
	json_decref(vars);
	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}
