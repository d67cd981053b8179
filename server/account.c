/* The C side of account transitions: arrays in, one SQL call. */
#include <stdio.h>
#include <stdlib.h>

#include "account.h"
#include "buf.h"
#include "crypto.h"
#include "db.h"
#include "password.h"
#include "xmalloc.h"

int
account_transition(struct db *db, const int64_t *ids, size_t n,
    const char *to_state, const char *action, char *const *passwords,
    const char *detail)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "select count(*) from account_transition($1::bigint[], $2, $3,"
	    " $4::bytea[], $5)");
	enum { TRANSITION_MOVED };
	struct buf		 idlist, sealed;
	unsigned char		 box[64];
	const char		*v[5];
	PGresult		*res;
	size_t			 i, len;
	char			*hex;
	int			 moved;

	if (n == 0)
		return 0;
	buf_init(&idlist);
	buf_init(&sealed);
	buf_add_str(&idlist, "{");
	for (i = 0; i < n; i++)
		buf_printf(&idlist, "%s%lld", i > 0 ? "," : "",
		    (long long)ids[i]);
	buf_add_str(&idlist, "}");
	if (passwords != NULL) {
		buf_add_str(&sealed, "{");
		for (i = 0; i < n; i++) {
			len = crypto_seal(ids[i], passwords[i], box);
			hex = crypto_bytea_hex(box, len);
			/* "\\x..." inside a quoted array element. */
			buf_printf(&sealed, "%s\"\\%s\"", i > 0 ? "," : "",
			    hex);
			free(hex);
		}
		buf_add_str(&sealed, "}");
	}
	v[0] = buf_cstr(&idlist);
	v[1] = to_state;
	v[2] = action;
	v[3] = passwords != NULL ? buf_cstr(&sealed) : NULL;
	v[4] = detail;
	res = db_query(db, &stmt, 5, v);
	buf_free(&idlist);
	buf_free(&sealed);
	if (res == NULL)
		return -1;
	moved = (int)db_get_int(res, 0, TRANSITION_MOVED);
	PQclear(res);
	return moved;
}

void
account_new_password(char *out)
{
	password_generate(out, ACCOUNT_PASSWORD_LEN);
}

char *
account_open_password(int64_t id, const char *bytea)
{
	unsigned char	*sealed;
	size_t		 len;
	char		*clear;

	if (bytea == NULL ||
	    (sealed = crypto_bytea_parse(bytea, &len)) == NULL)
		return NULL;
	clear = crypto_open(id, sealed, len);
	free(sealed);
	return clear;
}
