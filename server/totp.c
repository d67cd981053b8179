/* TOTP codes for staff accounts that require a second factor. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "totp.h"

/* Decode RFC 4648 base32 (case-insensitive, spaces and '=' ignored). */
static int
base32_decode(const char *in, unsigned char *out, size_t size)
{
	static const char	 alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	const char		*p;
	unsigned		 bits = 0, value = 0;
	size_t			 n = 0;

	for (; *in != '\0'; in++) {
		if (*in == ' ' || *in == '=')
			continue;
		if ((p = strchr(alphabet, toupper((unsigned char)*in))) ==
		    NULL || *in == '\0')
			return -1;
		value = value << 5 | (unsigned)(p - alphabet);
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

int
totp_code(const char *secret, time_t when)
{
	unsigned char	 key[64], msg[8], md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	uint64_t	 step = (uint64_t)when / 30;
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

int
totp_verify(const char *secret, const char *code)
{
	time_t	now = time(NULL);
	char	*end;
	long	 want;
	int	 d, ok = 0, got;

	if (strlen(code) != 6 || strspn(code, "0123456789") != 6)
		return 0;
	want = strtol(code, &end, 10);
	/* Check every window, not stopping early, to keep the time flat. */
	for (d = -1; d <= 1; d++) {
		got = totp_code(secret, now + d * 30);
		ok |= got >= 0 && got == want;
	}
	return ok;
}
