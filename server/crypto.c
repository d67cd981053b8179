/* AES-256-GCM for provisional passwords and TOTP secrets, on OpenSSL's EVP
 * interface. crypto.h describes the format and the associated data. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "hex.h"
#include "crypto.h"
#include "log.h"
#include "xmalloc.h"

#define CRYPTO_VERSION	1
#define NONCE_LEN	12
#define TAG_LEN		16
/* Prefix of the associated data of TOTP secrets. */
#define CRYPTO_AAD_TOTP	"ecadm-totp"

static unsigned char	crypto_key[CRYPTO_KEY_LEN];
static int		crypto_key_loaded;

/* Write a new random key; O_EXCL so two starting servers cannot both. */
static int
crypto_key_create(const char *path, char **cause)
{
	unsigned char	key[CRYPTO_KEY_LEN];
	int		fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		if (errno == EEXIST)
			return 0;
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (RAND_bytes(key, sizeof key) != 1)
		fatalx("RAND_bytes failed");
	if (write(fd, key, sizeof key) != (ssize_t)sizeof key ||
	    fsync(fd) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	OPENSSL_cleanse(key, sizeof key);
	log_info("created the server key %s", path);
	return 0;
}

int
crypto_key_load(const char *path, char **cause)
{
	struct stat	st;
	ssize_t		n;
	int		fd;

	if (crypto_key_create(path, cause) == -1)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || st.st_size != CRYPTO_KEY_LEN) {
		xasprintf(cause, "%s: not a %d-byte key", path, CRYPTO_KEY_LEN);
		close(fd);
		return -1;
	}
	/* Whoever reads the key reads every provisional password and TOTP
	 * secret in the database: refuse to run with a key others could
	 * have copied, rather than warn in a log nobody reads. */
	if (st.st_mode & 077) {
		xasprintf(cause, "%s is open to group or others (mode %04o): "
		    "chmod 600 it (and consider it exposed)", path,
		    (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	n = read(fd, crypto_key, sizeof crypto_key);
	close(fd);
	if (n != (ssize_t)sizeof crypto_key) {
		xasprintf(cause, "%s: short read", path);
		return -1;
	}
	crypto_key_loaded = 1;
	return 0;
}

void
crypto_key_unload(void)
{
	OPENSSL_cleanse(crypto_key, sizeof crypto_key);
	crypto_key_loaded = 0;
}

/* The associated data: the purpose's prefix (none for provisional
 * passwords, as they were first sealed), then the id, big-endian. Its
 * length differs with the purpose, so a box sealed for one purpose never
 * opens for another, whatever the ids. */
static size_t
crypto_aad(const char *purpose, int64_t id, unsigned char aad[32])
{
	size_t	plen = strlen(purpose);
	int	i;

	memcpy(aad, purpose, plen);
	for (i = 7; i >= 0; i--) {
		aad[plen + (size_t)i] = (unsigned char)id;
		id >>= 8;
	}
	return plen + 8;
}

/* Seal a string under the key with that associated data. */
static size_t
crypto_seal_aad(const char *purpose, int64_t id, const char *clear,
    unsigned char *out)
{
	EVP_CIPHER_CTX	*ctx;
	unsigned char	 aad[32], *nonce = out + 1, *ct = out + 1 + NONCE_LEN;
	size_t		 len = strlen(clear), aadlen;
	int		 n, m;

	if (!crypto_key_loaded)
		fatalx("crypto_seal: no key loaded");
	out[0] = CRYPTO_VERSION;
	/* A random 96-bit nonce per secret: far from GCM's 2^32 limit
	 * for one key even at national scale. */
	if (RAND_bytes(nonce, NONCE_LEN) != 1)
		fatalx("RAND_bytes failed");
	aadlen = crypto_aad(purpose, id, aad);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, crypto_key,
	    nonce) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1 ||
	    EVP_EncryptUpdate(ctx, ct, &n, (const unsigned char *)clear,
	    (int)len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, ct + n, &m) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
	    ct + n + m) != 1)
		fatalx("AES-256-GCM encryption failed");
	EVP_CIPHER_CTX_free(ctx);
	return 1 + NONCE_LEN + (size_t)(n + m) + TAG_LEN;
}

/* Open what crypto_seal_aad() sealed with the same purpose and id. */
static char *
crypto_open_aad(const char *purpose, int64_t id, const unsigned char *in,
    size_t len)
{
	EVP_CIPHER_CTX	*ctx;
	unsigned char	 aad[32];
	char		*out;
	size_t		 ctlen, aadlen;
	int		 n, m, ok;

	if (!crypto_key_loaded || len < CRYPTO_OVERHEAD ||
	    in[0] != CRYPTO_VERSION || len > CRYPTO_OVERHEAD + 64)
		return NULL;
	ctlen = len - CRYPTO_OVERHEAD;
	out = xmalloc(ctlen + 1);
	aadlen = crypto_aad(purpose, id, aad);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		fatalx("EVP_CIPHER_CTX_new");
	ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, crypto_key,
	    in + 1) == 1 &&
	    EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aadlen) == 1 &&
	    EVP_DecryptUpdate(ctx, (unsigned char *)out, &n,
	    in + 1 + NONCE_LEN, (int)ctlen) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
	    (void *)(in + len - TAG_LEN)) == 1 &&
	    EVP_DecryptFinal_ex(ctx, (unsigned char *)out + n, &m) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok) {
		freezero(out, ctlen + 1);
		return NULL;
	}
	out[n + m] = '\0';
	return out;
}

size_t
crypto_seal(int64_t account_id, const char *password, unsigned char *out)
{
	return crypto_seal_aad("", account_id, password, out);
}

char *
crypto_open(int64_t account_id, const unsigned char *in, size_t len)
{
	return crypto_open_aad("", account_id, in, len);
}

size_t
crypto_seal_totp(int64_t staff_id, const char *secret, unsigned char *out)
{
	return crypto_seal_aad(CRYPTO_AAD_TOTP, staff_id, secret, out);
}

char *
crypto_open_totp(int64_t staff_id, const unsigned char *in, size_t len)
{
	return crypto_open_aad(CRYPTO_AAD_TOTP, staff_id, in, len);
}

char *
crypto_bytea_hex(const unsigned char *p, size_t len)
{
	char	*s = xmalloc(2 * len + 3);

	s[0] = '\\';
	s[1] = 'x';
	hex_encode(p, len, s + 2);
	return s;
}

unsigned char *
crypto_bytea_parse(const char *s, size_t *lenp)
{
	unsigned char	*out;
	size_t		 len, i;
	int		 hi, lo;

	if (s[0] != '\\' || s[1] != 'x' || (len = strlen(s + 2)) % 2 != 0 ||
	    len == 0)
		return NULL;
	out = xmalloc(len / 2);
	for (i = 0; i < len / 2; i++) {
		if ((hi = hex_value(s[2 + 2 * i])) < 0 ||
		    (lo = hex_value(s[3 + 2 * i])) < 0) {
			free(out);
			return NULL;
		}
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	*lenp = len / 2;
	return out;
}
