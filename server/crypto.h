/*
 * Secrets at rest: AES-256-GCM under the server key. Provisional passwords
 * are bound to their account id (the associated data is the id), TOTP
 * secrets to their staff id with a purpose prefix ("ecadm-totp" then the
 * id), so a ciphertext copied onto another account, or a provisional
 * password copied into a TOTP secret, does not decrypt. Stored as version
 * (1 byte) || nonce (12) || ciphertext || tag (16).
 */
#ifndef CRYPTO_H
#define CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_KEY_LEN		32
#define CRYPTO_OVERHEAD		(1 + 12 + 16)

/* Load the key file, creating it (mode 0600, random) when it does not
 * exist. -1 and *cause if it cannot be read, is not 32 bytes, or is open
 * to group or others. ecadmd refuses to start rather than create a key
 * when the database holds secrets sealed with the lost one (server.c). */
int	 crypto_key_load(const char *path, char **cause);
/* Forget the key (tests). */
void	 crypto_key_unload(void);
/* Encrypt a password for an account; out holds strlen + CRYPTO_OVERHEAD.
 * Returns the length written. */
size_t	 crypto_seal(int64_t account_id, const char *password,
	    unsigned char *out);
/* Decrypt; a new string, or NULL if the data was not sealed for that
 * account with this key. */
char	*crypto_open(int64_t account_id, const unsigned char *, size_t);
/* The same for a staff member's base32 TOTP secret. */
size_t	 crypto_seal_totp(int64_t staff_id, const char *secret,
	    unsigned char *out);
char	*crypto_open_totp(int64_t staff_id, const unsigned char *, size_t);

/* Hex of a sealed password as a PostgreSQL bytea literal ("\x..."). */
char	*crypto_bytea_hex(const unsigned char *, size_t);
/* Parse PostgreSQL's hex bytea output; NULL if malformed. */
unsigned char *crypto_bytea_parse(const char *, size_t *len);

#endif
