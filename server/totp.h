/* TOTP (RFC 6238): HMAC-SHA1, 30-second steps, 6 digits, base32 secrets. */
#ifndef TOTP_H
#define TOTP_H

#include <stdint.h>
#include <time.h>

/* Seconds of one time step. */
#define TOTP_PERIOD		30
/* Bytes of a generated secret (160 bits, as RFC 4226 recommends), and the
 * length of its base32 form (no padding: 20 bytes are 32 characters). */
#define TOTP_SECRET_BYTES	20
#define TOTP_SECRET_LEN		32
/* The issuer shown by authenticator applications. */
#define TOTP_ISSUER		"Responsables"

/* The code of that base32 secret at that time; -1 if the secret is bad. */
int	totp_code(const char *secret, time_t when);
/* The time step of a moment. */
int64_t	totp_step(time_t when);
/* 1 if code is the code of a step within one of now's (clock drift) and
 * later than last_step (-1: none used yet), else 0. A code is thus good
 * once: the caller records *step (the latest step that matched) and passes
 * it as last_step next time. step may be NULL. */
int	totp_check(const char *secret, const char *code, time_t now,
	    int64_t last_step, int64_t *step);
/* 1 if code is the current one or one step away (clock drift). */
int	totp_verify(const char *secret, const char *code);
/* A new secret from the CSPRNG, base32; out holds TOTP_SECRET_LEN + 1. */
void	totp_secret_generate(char *out);
/* The otpauth:// URI authenticator applications read (from a QR code):
 * otpauth://totp/Responsables:LOGIN?secret=...&issuer=Responsables. */
char	*totp_uri(const char *login, const char *secret);

#endif
