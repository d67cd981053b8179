/*
 * TOTP codes for staff accounts with a second factor: the codes, their
 * check (a step is good once: the caller keeps the last one accepted), and
 * new secrets with the URI that enrols them in an authenticator.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "buf.h"
#include "log.h"
#include "totp.h"
#include "xmalloc.h"

static const char	base32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* Decode RFC 4648 base32 (case-insensitive, spaces and '=' ignored). */
static int
base32_decode(const char *in, unsigned char *out, size_t size)
{
	const char		*p;
	unsigned		 bits = 0, value = 0;
	size_t			 n = 0;

	for (; *in != '\0'; in++) {
		if (*in == ' ' || *in == '=')
			continue;
		if ((p = strchr(base32_alphabet, toupper((unsigned char)*in))) ==
		    NULL || *in == '\0')
			return -1;
		value = value << 5 | (unsigned)(p - base32_alphabet);
		bits += 5;
		if (bits >= 8) {
			if (n == size)
				return -1;
			out[n++] = (unsigned char)(value >> (bits - 8));
			bits -= 8;
		}
	}
	return (int)n;
}

/* RFC 4648 base32 without padding; out holds 8 * len / 5 + 2. */
static void
base32_encode(const unsigned char *in, size_t len, char *out)
{
	unsigned	bits = 0, value = 0;
	size_t		i, n = 0;

	for (i = 0; i < len; i++) {
		value = (value << 8 | in[i]) & 0xfff;
		bits += 8;
		while (bits >= 5) {
			out[n++] = base32_alphabet[(value >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[n++] = base32_alphabet[(value << (5 - bits)) & 31];
	out[n] = '\0';
}

int
totp_code(const char *secret, time_t when)
{
	unsigned char	 key[64], msg[8], md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	uint64_t	 step = (uint64_t)when / TOTP_PERIOD;
	int		 keylen, i, off;
	uint32_t	 bin;

	if ((keylen = base32_decode(secret, key, sizeof key)) <= 0)
		return -1;
	for (i = 7; i >= 0; i--) {
		msg[i] = (unsigned char)step;
		step >>= 8;
	}
	if (HMAC(EVP_sha1(), key, keylen, msg, sizeof msg, md, &mdlen) ==
	    NULL)
		return -1;
	OPENSSL_cleanse(key, sizeof key);
	off = md[mdlen - 1] & 0xf;
	bin = (uint32_t)(md[off] & 0x7f) << 24 | (uint32_t)md[off + 1] << 16 |
	    (uint32_t)md[off + 2] << 8 | md[off + 3];
	return (int)(bin % 1000000);
}

int64_t
totp_step(time_t when)
{
	return (int64_t)when / TOTP_PERIOD;
}

int
totp_check(const char *secret, const char *code, time_t now,
    int64_t last_step, int64_t *step)
{
	int64_t	 base = totp_step(now), matched = -1;
	char	*end;
	long	 want;
	int	 d, got;

	if (strlen(code) != 6 || strspn(code, "0123456789") != 6)
		return 0;
	want = strtol(code, &end, 10);
	/* Check every step of the window, not stopping early, to keep the
	 * time flat; the latest match wins so that a code is never taken
	 * for an earlier step than the one it belongs to. */
	for (d = -1; d <= 1; d++) {
		got = totp_code(secret, (time_t)((base + d) * TOTP_PERIOD));
		if (got >= 0 && got == want)
			matched = base + d;
	}
	/* A step at or before the last one accepted was used already (or
	 * belongs to a code seen before it): a replay. */
	if (matched < 0 || matched <= last_step)
		return 0;
	if (step != NULL)
		*step = matched;
	return 1;
}

int
totp_verify(const char *secret, const char *code)
{
	return totp_check(secret, code, time(NULL), -1, NULL);
}

void
totp_secret_generate(char *out)
{
	unsigned char	raw[TOTP_SECRET_BYTES];

	if (RAND_bytes(raw, sizeof raw) != 1)
		fatalx("RAND_bytes failed");
	base32_encode(raw, sizeof raw, out);
	OPENSSL_cleanse(raw, sizeof raw);
}

/* Percent-encode what is not unreserved in a URI (RFC 3986). */
static void
uri_escape(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("-._~", *s) != NULL)
			buf_add(b, s, 1);
		else
			buf_printf(b, "%%%02X", (unsigned char)*s);
	}
}

char *
totp_uri(const char *login, const char *secret)
{
	struct buf	 b;
	char		*uri;

	buf_init(&b);
	buf_add_str(&b, "otpauth://totp/" TOTP_ISSUER ":");
	uri_escape(&b, login);
	buf_add_str(&b, "?secret=");
	uri_escape(&b, secret);
	buf_add_str(&b, "&issuer=" TOTP_ISSUER);
	uri = xstrdup(buf_cstr(&b));
	/* It holds the secret. */
	buf_free_secret(&b);
	return uri;
}
