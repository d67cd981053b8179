/*
 * OpenSSH public key lines. A line is read as hostile input: a known type,
 * strict base64 (the canonical alphabet, padding only at the end), a blob
 * whose first string repeats the type and whose remaining strings are
 * exactly the fields of that type with their fixed sizes, a comment of
 * printable UTF-8; every size bounded before anything is allocated. The
 * numbers themselves are not checked to make a public key: the gateway's
 * libssh does that when it verifies a signature. What is kept is the blob
 * (what the gateway is offered), the type, the comment and the fingerprint,
 * "SHA256:" and the unpadded base64 of the blob's SHA-256, as
 * `ssh-keygen -l` prints it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "sshkey.h"
#include "valid.h"
#include "xmalloc.h"

/* The fields of a key type after its name, in the order of the blob. */
struct sshkey_type {
	const char	*name;
	const char	*curve;		/* ECDSA: the curve string first */
	int		 fields;	/* key strings: 2 for RSA (e, n) */
	size_t		 size;		/* their size, 0: any but empty */
	int		 application;	/* sk-: an application string last */
};

static const struct sshkey_type sshkey_types[] = {
	{ "ssh-ed25519", NULL, 1, 32, 0 },
	/* An uncompressed point: 0x04 and both coordinates. */
	{ "ecdsa-sha2-nistp256", "nistp256", 1, 1 + 2 * 32, 0 },
	{ "ecdsa-sha2-nistp384", "nistp384", 1, 1 + 2 * 48, 0 },
	{ "ecdsa-sha2-nistp521", "nistp521", 1, 1 + 2 * 66, 0 },
	{ "ssh-rsa", NULL, 2, 0, 0 },
	{ "sk-ssh-ed25519@openssh.com", NULL, 1, 32, 1 },
	{ "sk-ecdsa-sha2-nistp256@openssh.com", "nistp256", 1, 1 + 2 * 32, 1 },
};
#define SSHKEY_NTYPES	(sizeof sshkey_types / sizeof sshkey_types[0])

/* Blanks between the parts of a line. */
#define SSHKEY_BLANKS	" \t"

/* Read one SSH string (a 32-bit big-endian length, then the bytes) at
 * *p; 0 and its bytes, -1 if it passes end. */
static int
sshkey_string(const unsigned char **p, const unsigned char *end,
    const unsigned char **s, size_t *len)
{
	uint32_t	n;

	if (end - *p < 4)
		return -1;
	n = (uint32_t)(*p)[0] << 24 | (uint32_t)(*p)[1] << 16 |
	    (uint32_t)(*p)[2] << 8 | (*p)[3];
	*p += 4;
	if ((size_t)(end - *p) < n)
		return -1;
	*s = *p;
	*len = n;
	*p += n;
	return 0;
}

/* Whether the SSH string at *p is the text want; it is consumed. */
static int
sshkey_string_is(const unsigned char **p, const unsigned char *end,
    const char *want)
{
	const unsigned char	*s;
	size_t			 len;

	return sshkey_string(p, end, &s, &len) == 0 && len == strlen(want) &&
	    memcmp(s, want, len) == 0;
}

/* Whether the blob, after its type string, holds exactly the fields of
 * the type. */
static int
sshkey_fields_valid(const struct sshkey_type *t, const unsigned char *p,
    const unsigned char *end)
{
	const unsigned char	*s;
	size_t			 len;
	int			 i;

	if (t->curve != NULL && !sshkey_string_is(&p, end, t->curve))
		return 0;
	for (i = 0; i < t->fields; i++) {
		if (sshkey_string(&p, end, &s, &len) == -1 || len == 0 ||
		    (t->size != 0 && len != t->size))
			return 0;
	}
	if (t->application && (sshkey_string(&p, end, &s, &len) == -1 ||
	    len == 0))
		return 0;
	return p == end;
}

/* Strict base64: the canonical alphabet, a length that is a multiple of
 * 4, at most two '=' at the end. The decoded length, or -1. */
static long
sshkey_base64_length(const char *s, size_t len)
{
	size_t	i, pad = 0;

	if (len == 0 || len % 4 != 0)
		return -1;
	if (s[len - 1] == '=')
		pad = s[len - 2] == '=' ? 2 : 1;
	for (i = 0; i < len - pad; i++) {
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789+/", s[i]) == NULL || s[i] == '\0')
			return -1;
	}
	return (long)(len / 4 * 3 - pad);
}

/* The accepted type of that name, or NULL. */
static const struct sshkey_type *
sshkey_type_lookup(const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < SSHKEY_NTYPES; i++) {
		if (strlen(sshkey_types[i].name) == len &&
		    memcmp(sshkey_types[i].name, name, len) == 0)
			return &sshkey_types[i];
	}
	return NULL;
}

/* The cause of an unknown type: its name when it is short, printable
 * ASCII, else none (it would only clutter the message). */
static char *
sshkey_unknown_type(const char *name, size_t len)
{
	char	*cause;
	size_t	 i;

	for (i = 0; i < len && len <= 64; i++) {
		if (name[i] <= 0x20 || name[i] >= 0x7f)
			break;
	}
	if (i == len && len <= 64)
		xasprintf(&cause, "type « %.*s » inconnu (ssh-ed25519, "
		    "ecdsa-sha2-nistp256, -nistp384, -nistp521, ssh-rsa, "
		    "sk-ssh-ed25519@openssh.com ou "
		    "sk-ecdsa-sha2-nistp256@openssh.com attendu)", (int)len,
		    name);
	else
		cause = xstrdup("type de clé inconnu");
	return cause;
}

/* The fingerprint of the blob, as ssh-keygen -l prints it. */
static void
sshkey_fingerprint(const unsigned char *blob, size_t len,
    char out[SSHKEY_FINGERPRINT_LEN])
{
	unsigned char	 md[SHA256_DIGEST_LENGTH];
	unsigned char	 b64[4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1];
	int		 n;

	SHA256(blob, len, md);
	n = EVP_EncodeBlock(b64, md, sizeof md);
	while (n > 0 && b64[n - 1] == '=')
		n--;
	memcpy(out, "SHA256:", 7);
	memcpy(out + 7, b64, (size_t)n);
	out[7 + n] = '\0';
}

/* Check and decode the base64 part into key->blob. */
static int
sshkey_decode(const struct sshkey_type *t, const char *b64, size_t len,
    struct sshkey *key, char **cause)
{
	const unsigned char	*p, *end;
	long			 n;

	/* Bounded before decoding: nothing is allocated for a huge line. */
	if (len > 4 * ((SSHKEY_BLOB_MAX + 2) / 3)) {
		xasprintf(cause, "clé trop longue (%d octets au plus)",
		    SSHKEY_BLOB_MAX);
		return -1;
	}
	if ((n = sshkey_base64_length(b64, len)) == -1) {
		*cause = xstrdup("base64 invalide");
		return -1;
	}
	if (n > SSHKEY_BLOB_MAX) {
		xasprintf(cause, "clé trop longue (%d octets au plus)",
		    SSHKEY_BLOB_MAX);
		return -1;
	}
	/* EVP_DecodeBlock writes the padding's zero bytes too. */
	key->blob = xmalloc(len / 4 * 3);
	if (EVP_DecodeBlock(key->blob, (const unsigned char *)b64,
	    (int)len) < 0) {
		*cause = xstrdup("base64 invalide");
		return -1;
	}
	key->len = (size_t)n;
	p = key->blob;
	end = key->blob + key->len;
	if (!sshkey_string_is(&p, end, t->name)) {
		xasprintf(cause, "le type annoncé (« %s ») n'est pas celui de "
		    "la clé", t->name);
		return -1;
	}
	if (!sshkey_fields_valid(t, p, end)) {
		xasprintf(cause, "clé %s tronquée ou mal formée", t->name);
		return -1;
	}
	return 0;
}

int
sshkey_parse(const char *line, struct sshkey *key, char **cause)
{
	const struct sshkey_type	*t;
	const char			*type, *b64, *comment;
	size_t				 type_len, b64_len, comment_len;

	memset(key, 0, sizeof *key);
	type = line + strspn(line, SSHKEY_BLANKS);
	type_len = strcspn(type, SSHKEY_BLANKS "\r\n");
	if (type_len == 0) {
		*cause = xstrdup("ligne vide");
		return -1;
	}
	if ((t = sshkey_type_lookup(type, type_len)) == NULL) {
		*cause = sshkey_unknown_type(type, type_len);
		return -1;
	}
	b64 = type + type_len + strspn(type + type_len, SSHKEY_BLANKS);
	b64_len = strcspn(b64, SSHKEY_BLANKS "\r\n");
	if (b64_len == 0) {
		*cause = xstrdup("la clé manque après son type");
		return -1;
	}
	if (sshkey_decode(t, b64, b64_len, key, cause) == -1)
		goto fail;

	/* The comment: the rest, without the blanks and newline around. */
	comment = b64 + b64_len + strspn(b64 + b64_len, SSHKEY_BLANKS);
	comment_len = strlen(comment);
	if (comment_len > 0 && comment[comment_len - 1] == '\n')
		comment_len--;
	if (comment_len > 0 && comment[comment_len - 1] == '\r')
		comment_len--;
	while (comment_len > 0 && strchr(SSHKEY_BLANKS,
	    comment[comment_len - 1]) != NULL)
		comment_len--;
	if (comment_len > SSHKEY_COMMENT_MAX) {
		xasprintf(cause, "commentaire trop long (%d octets au plus)",
		    SSHKEY_COMMENT_MAX);
		goto fail;
	}
	if (!valid_utf8_text(comment, comment_len)) {
		*cause = xstrdup("commentaire illisible (caractère de contrôle "
		    "ou UTF-8 invalide)");
		goto fail;
	}
	if (comment_len > 0)
		key->comment = xstrndup(comment, comment_len);
	memcpy(key->type, t->name, strlen(t->name) + 1);
	sshkey_fingerprint(key->blob, key->len, key->fingerprint);
	return 0;
fail:
	sshkey_clear(key);
	return -1;
}

void
sshkey_clear(struct sshkey *key)
{
	free(key->blob);
	free(key->comment);
	memset(key, 0, sizeof *key);
}
