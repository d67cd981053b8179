/* TOTP (RFC 6238): HMAC-SHA1, 30-second steps, 6 digits, base32 secrets. */
#ifndef TOTP_H
#define TOTP_H

#include <stdint.h>
#include <time.h>

/* The code of that base32 secret at that time; -1 if the secret is bad. */
int	totp_code(const char *secret, time_t when);
/* 1 if code is the current one or one step away (clock drift). */
int	totp_verify(const char *secret, const char *code);

#endif
