/*
 * Passwords: scrypt hashes in PHC strings ("$scrypt$ln=15,r=8,p=1$salt$hash",
 * base64 without padding) for staff and for the passwords guardians choose,
 * and the generator of the passwords we hand out.
 */
#ifndef PASSWORD_H
#define PASSWORD_H

#include <stddef.h>

/* scrypt cost: N = 2^15, about 100 ms a hash on the reference machine. */
#define PASSWORD_SCRYPT_LN	15
#define PASSWORD_SCRYPT_R	8
#define PASSWORD_SCRYPT_P	1

/* Letters and digits without look-alikes (no 0/O, 1/l/I). */
#define PASSWORD_ALPHABET \
	"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"

/* Hash with a fresh salt; the PHC string, or NULL if scrypt failed. */
char	*password_hash(const char *password);
/* 1 if the password matches the PHC string, 0 if not (or unparsable). */
int	 password_verify(const char *password, const char *phc);
/* Burn the time of one verification (unknown logins cost the same). */
void	 password_dummy_verify(const char *password);
/* len characters from PASSWORD_ALPHABET, drawn without modulo bias from
 * the CSPRNG, at least one letter and one digit; out holds len + 1. */
void	 password_generate(char *out, size_t len);

#endif
