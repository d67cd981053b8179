/* Account operations shared by the handlers: the C side of the one
 * transition path, and provisional passwords. */
#ifndef ACCOUNT_H
#define ACCOUNT_H

#include <stddef.h>
#include <stdint.h>

struct db;

/* Length of the provisional passwords handed out (8 to 14 allowed). */
#define ACCOUNT_PASSWORD_LEN	10

/*
 * Move accounts to to_state (NULL: keep their state, a reminder) through
 * account_transition() in the database, in the caller's transaction. With
 * passwords (one per id, in clear), they become the new provisional
 * passwords, sealed here for their account. Returns how many accounts
 * moved, or -1 (see db_error_*).
 */
int	 account_transition(struct db *, const int64_t *ids, size_t n,
	    const char *to_state, const char *action, char *const *passwords,
	    const char *detail);
/* A new provisional password (ACCOUNT_PASSWORD_LEN + 1 bytes). */
void	 account_new_password(char *);
/* The provisional password of an account from its stored bytea text, or
 * NULL if it does not open (caller frees with freestr_secret). */
char	*account_open_password(int64_t id, const char *bytea);

#endif
