/* scrypt PHC strings and password generation, on OpenSSL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "log.h"
#include "password.h"
#include "xmalloc.h"

#define SALT_LEN	16
#define HASH_LEN	32
/* N = 2^15 with r = 8 needs 32 MiB; OpenSSL's default cap is exactly that
 * and refuses, so allow more. */
#define SCRYPT_MAXMEM	(64u << 20)

static int
scrypt(const char *password, const unsigned char *salt, size_t saltlen,
    int ln, int r, int p, unsigned char *out, size_t outlen)
{
	return EVP_PBE_scrypt(password, strlen(password), salt, saltlen,
	    (uint64_t)1 << ln, (uint64_t)r, (uint64_t)p, SCRYPT_MAXMEM, out,
	    outlen) == 1 ? 0 : -1;
}

/* Base64 without padding, as PHC strings write it. */
static void
b64_encode(const unsigned char *in, size_t len, char *out)
{
	int	n;

	n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	while (n > 0 && out[n - 1] == '=')
		out[--n] = '\0';
}

static int
b64_decode(const char *in, size_t inlen, unsigned char *out, size_t outlen)
{
	char		 padded[128];
	unsigned char	 tmp[96];
	size_t		 pad = (4 - inlen % 4) % 4;
	int		 n;

	if (inlen + pad >= sizeof padded || pad == 3)
		return -1;
	memcpy(padded, in, inlen);
	memset(padded + inlen, '=', pad);
	padded[inlen + pad] = '\0';
	n = EVP_DecodeBlock(tmp, (unsigned char *)padded, (int)(inlen + pad));
	if (n < 0 || (size_t)n - pad != outlen)
		return -1;
	memcpy(out, tmp, outlen);
	return 0;
}

char *
password_hash(const char *password)
{
	unsigned char	 salt[SALT_LEN], hash[HASH_LEN];
	char		 salt64[32], hash64[64], *phc;

	if (RAND_bytes(salt, sizeof salt) != 1)
		fatalx("RAND_bytes failed");
	if (scrypt(password, salt, sizeof salt, PASSWORD_SCRYPT_LN,
	    PASSWORD_SCRYPT_R, PASSWORD_SCRYPT_P, hash, sizeof hash) == -1)
		return NULL;
	b64_encode(salt, sizeof salt, salt64);
	b64_encode(hash, sizeof hash, hash64);
	xasprintf(&phc, "$scrypt$ln=%d,r=%d,p=%d$%s$%s", PASSWORD_SCRYPT_LN,
	    PASSWORD_SCRYPT_R, PASSWORD_SCRYPT_P, salt64, hash64);
	OPENSSL_cleanse(hash, sizeof hash);
	return phc;
}

int
password_verify(const char *password, const char *phc)
{
	unsigned char	 salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
	const char	*salt64, *hash64;
	char		 prefix[64];
	int		 ln, r, p, n, ok;


	/* %n is only reached when the whole prefix matched; printing the
	 * numbers back refuses "+15", " 15" and other loose forms. */
	n = 0;
	if (sscanf(phc, "$scrypt$ln=%d,r=%d,p=%d$%n", &ln, &r, &p, &n) != 3 ||
	    n == 0)
		return 0;
	snprintf(prefix, sizeof prefix, "$scrypt$ln=%d,r=%d,p=%d$", ln, r, p);
	if (strlen(prefix) != (size_t)n || strncmp(phc, prefix, (size_t)n) != 0)
		return 0;
	/* Bound the parameters a stored string may ask for. */
	if (ln < 10 || ln > 20 || r < 1 || r > 32 || p < 1 || p > 4)
		return 0;
	salt64 = phc + n;
	if ((hash64 = strchr(salt64, '$')) == NULL)
		return 0;
	if (b64_decode(salt64, (size_t)(hash64 - salt64), salt,
	    sizeof salt) == -1 ||
	    b64_decode(hash64 + 1, strlen(hash64 + 1), want,
	    sizeof want) == -1)
		return 0;
	if (scrypt(password, salt, sizeof salt, ln, r, p, got,
	    sizeof got) == -1)
		return 0;
	ok = CRYPTO_memcmp(got, want, sizeof got) == 0;
	OPENSSL_cleanse(got, sizeof got);
	return ok;
}

void
password_dummy_verify(const char *password)
{
	static const char	dummy[] = "$scrypt$ln=15,r=8,p=1$"
	    "AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

	(void)password_verify(password, dummy);
}

void
password_generate(char *out, size_t len)
{
	static const char	 alphabet[] = PASSWORD_ALPHABET;
	const unsigned		 n = sizeof alphabet - 1;
	/* Largest multiple of n that fits a byte: bytes at or past it are
	 * drawn again, so every character is equally likely. */
	const unsigned		 limit = 256 - 256 % n;
	unsigned char		 pool[64];
	size_t			 i, used;
	int			 letters, digits;

	if (len < 2)
		fatalx("password_generate: length %zu", len);
	do {
		letters = digits = 0;
		used = sizeof pool;
		for (i = 0; i < len; i++) {
			do {
				if (used == sizeof pool) {
					if (RAND_bytes(pool, sizeof pool) != 1)
						fatalx("RAND_bytes failed");
					used = 0;
				}
			} while (pool[used++] >= limit);
			out[i] = alphabet[pool[used - 1] % n];
			if (out[i] >= '2' && out[i] <= '9')
				digits++;
			else
				letters++;
		}
		out[len] = '\0';
	} while (letters == 0 || digits == 0);
	OPENSSL_cleanse(pool, sizeof pool);
}
