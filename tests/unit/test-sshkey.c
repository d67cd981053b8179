/* Unit tests of server/sshkey.h: OpenSSH public key lines made by
 * ssh-keygen and their fingerprints as `ssh-keygen -lf` printed them, then
 * hostile lines: unknown types, bad base64, a blob of another type, cut,
 * padded or oversized blobs, bad comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "sshkey.h"
#include "xmalloc.h"

/* Made with `ssh-keygen -t TYPE -C COMMENT`, fingerprints from
 * `ssh-keygen -lf`. The two sk- keys were put together from the ed25519
 * and nistp256 keys with the application "ssh:" (no security key at hand);
 * ssh-keygen -lf reads them and printed these fingerprints. */
static const struct {
	const char	*line;
	const char	*type;
	const char	*comment;
	const char	*fingerprint;
} good[] = {
	{ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFCiU9aDYovjQgbSA6ZqC7UdZ2U2fK"
	  "brFGVJy9z3vw+9 test ed25519", "ssh-ed25519", "test ed25519",
	  "SHA256:AJlP30nPkpKNdQN18DX9UD2HbpTRW3wP4/mbGcTvI20" },
	{ "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNT"
	  "YAAABBBOi72QQD5xSt5twEFT7py1XRFHe7Q1H57pAKYwJOL1ZM8WHL/NTHZoZPPsM+"
	  "1BZtarg/uqWHu72iHQTR9hR3I60= test ecdsab256",
	  "ecdsa-sha2-nistp256", "test ecdsab256",
	  "SHA256:zGqE0Y7/wK5PhbCeWWGnjDU/QqkARm5GEEIitKyUkQo" },
	{ "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzOD"
	  "QAAABhBJSHmxXLeqdRYcH/2XAmfd6nU+5kNjpgGzPgwJtG7EriqAq1ptoHP2Y+oE1b"
	  "wK7bz775uZQk4V/yF0aoGvbEYXb/a670A+LberEZqh2nCkn+shR+QGyaBpKdFeBFEC"
	  "+waw== test ecdsab384", "ecdsa-sha2-nistp384", "test ecdsab384",
	  "SHA256:4gdaybrXwlRNVMWQRKsKNJi+hWhsA4SJaWaPu+s/2Aw" },
	{ "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1Mj"
	  "EAAACFBADroMBq72lfR6Ncr3DAxKC6ApLwwRTSQFeqpZ+F/S5Kf53qeY4WBLLjZetY"
	  "8YLnLeSEqL7xgvurayu2x34osLK2ygAAwplbccxXDcVQB1EX5/LBLX2H7k6me1HGMk"
	  "ABJpBBnCfJ/iWhC1QxkogX8NS4zkZsKMA+4Kmv5PR7LoiinrOl3g== test "
	  "ecdsab521", "ecdsa-sha2-nistp521", "test ecdsab521",
	  "SHA256:b8VC3W9SQaSdxR5JZxXDe/log3PAu/QRELtIJXL9Sm8" },
	{ "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC2quHuFSaTW2u6cXtTn5QYca9yy+"
	  "O+henAW3oR7R+pQqtbUGPPtpP2ULTp6vX5rHqOcClRAaUq2g1klD5HH7HOpq3EEBSp"
	  "sFVPQ+es6J51YE1TXamtZSBNcnP7FRa41yJujKOXFQP6dTIsDlCUy/7e+c/YOpClUE"
	  "ztxD/VO3ZvsvD8jArIDcXUHSkBRa90KiXRl4XhemALMdjnKAqYHuO8t8IBr5/v2/hG"
	  "goUBbm32NNoW6h0XQ5UKLOsANxogQLPE3LrwHjWhxxwmDvsY+zYJMcAXp8l4ND530U"
	  "3JRu/EstGEr3jlIRR+fpp6TEzYPqmkE6x60fHXViYxxWZ2FUyf test rsab2048",
	  "ssh-rsa", "test rsab2048",
	  "SHA256:/OV51cwylz8Jl+hWS+DEQWDM+R14l1YCkJ9ry2sAIxE" },
	{ "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29"
	  "tAAAAIFCiU9aDYovjQgbSA6ZqC7UdZ2U2fKbrFGVJy9z3vw+9AAAABHNzaDo= test "
	  "sk-ed25519", "sk-ssh-ed25519@openssh.com", "test sk-ed25519",
	  "SHA256:97Z8I+djNmkisMTZIE9490x8PYj/1sbWJABdPQ+oGwk" },
	{ "sk-ecdsa-sha2-nistp256@openssh.com AAAAInNrLWVjZHNhLXNoYTItbmlzdHA"
	  "yNTZAb3BlbnNzaC5jb20AAAAIbmlzdHAyNTYAAABBBOi72QQD5xSt5twEFT7py1XRF"
	  "He7Q1H57pAKYwJOL1ZM8WHL/NTHZoZPPsM+1BZtarg/uqWHu72iHQTR9hR3I60AAAA"
	  "Ec3NoOg== test sk-ecdsa", "sk-ecdsa-sha2-nistp256@openssh.com",
	  "test sk-ecdsa",
	  "SHA256:HPFNgyC9bQmOTParXPatbiTNzDjNyB9q4OUgef0zImE" },
};
#define NGOOD	(sizeof good / sizeof good[0])

#define ED25519_B64	"AAAAC3NzaC1lZDI1NTE5AAAAIFCiU9aDYovjQgbSA6ZqC7UdZ2U2" \
	"fKbrFGVJy9z3vw+9"
#define ED25519_FP	"SHA256:AJlP30nPkpKNdQN18DX9UD2HbpTRW3wP4/mbGcTvI20"

/* Parse a line that must be refused; returns the cause (to free), after
 * checking that nothing was left in the key. */
static char *
refused(const char *line)
{
	struct sshkey	 key;
	char		*cause = NULL;

	if (sshkey_parse(line, &key, &cause) != -1)
		fail_msg("accepted: %.80s", line);
	assert_non_null(cause);
	assert_null(key.blob);
	assert_null(key.comment);
	return cause;
}

/* Whether line is refused with a cause containing words. */
static void
assert_refused(const char *line, const char *words)
{
	char	*cause = refused(line);

	if (strstr(cause, words) == NULL)
		fail_msg("cause « %s », expected « %s » in it, for %.80s",
		    cause, words, line);
	free(cause);
}

/* "TYPE BASE64(blob)" for a blob made by hand. */
static char *
line_of(const char *type, const unsigned char *blob, size_t len)
{
	char	*b64, *line;

	b64 = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, blob, (int)len);
	xasprintf(&line, "%s %s", type, b64);
	free(b64);
	return line;
}

/* Whether the line of a blob made by hand is refused with words in the
 * cause. */
static void
assert_blob_refused(const char *type, const unsigned char *blob, size_t len,
    const char *words)
{
	char	*line = line_of(type, blob, len);

	assert_refused(line, words);
	free(line);
}

/* Whether the line of a blob made by hand is accepted, whole. */
static void
assert_blob_accepted(const char *type, const unsigned char *blob, size_t len)
{
	struct sshkey	 key;
	char		*line = line_of(type, blob, len), *cause = NULL;

	if (sshkey_parse(line, &key, &cause) != 0)
		fail_msg("a blob of %zu bytes refused: %s", len, cause);
	assert_int_equal(key.len, len);
	assert_memory_equal(key.blob, blob, len);
	sshkey_clear(&key);
	free(line);
}

/* Append an SSH string to a blob being built. */
static size_t
put_string(unsigned char *out, size_t at, const void *s, size_t len)
{
	out[at] = (unsigned char)(len >> 24);
	out[at + 1] = (unsigned char)(len >> 16);
	out[at + 2] = (unsigned char)(len >> 8);
	out[at + 3] = (unsigned char)len;
	memcpy(out + at + 4, s, len);
	return at + 4 + len;
}

/* The decoded blob of the ed25519 test key. */
static size_t
ed25519_blob(unsigned char *out)
{
	return (size_t)EVP_DecodeBlock(out, (const unsigned char *)ED25519_B64,
	    (int)strlen(ED25519_B64));
}

static void
test_ssh_keygen_keys(void **unused)
{
	struct sshkey	 key;
	char		*cause = NULL;
	size_t		 i;

	(void)unused;
	for (i = 0; i < NGOOD; i++) {
		if (sshkey_parse(good[i].line, &key, &cause) != 0)
			fail_msg("%s refused: %s", good[i].type, cause);
		assert_string_equal(key.type, good[i].type);
		assert_string_equal(key.comment, good[i].comment);
		assert_string_equal(key.fingerprint, good[i].fingerprint);
		assert_true(key.len > 4 + strlen(good[i].type));
		sshkey_clear(&key);
		assert_null(key.blob);
	}
}

/* Blanks, tabs, a final CRLF, no comment, a UTF-8 comment. */
static void
test_line_forms(void **unused)
{
	struct sshkey	 key;
	char		*cause = NULL, comment[SSHKEY_COMMENT_MAX + 1];
	char		*line;

	(void)unused;
	assert_int_equal(sshkey_parse("ssh-ed25519 " ED25519_B64, &key,
	    &cause), 0);
	assert_null(key.comment);
	assert_string_equal(key.fingerprint, ED25519_FP);
	sshkey_clear(&key);

	assert_int_equal(sshkey_parse("  ssh-ed25519\t" ED25519_B64
	    "  \r\n", &key, &cause), 0);
	assert_null(key.comment);
	sshkey_clear(&key);

	assert_int_equal(sshkey_parse("ssh-ed25519 " ED25519_B64
	    "  clé de Hélène  à l'école \n", &key, &cause), 0);
	assert_string_equal(key.comment, "clé de Hélène  à l'école");
	assert_string_equal(key.fingerprint, ED25519_FP);
	sshkey_clear(&key);

	/* A comment of exactly the limit passes, one byte more does not. */
	memset(comment, 'c', SSHKEY_COMMENT_MAX);
	comment[SSHKEY_COMMENT_MAX] = '\0';
	xasprintf(&line, "ssh-ed25519 %s %s", ED25519_B64, comment);
	assert_int_equal(sshkey_parse(line, &key, &cause), 0);
	assert_int_equal(strlen(key.comment), SSHKEY_COMMENT_MAX);
	sshkey_clear(&key);
	free(line);
	xasprintf(&line, "ssh-ed25519 %s %sc", ED25519_B64, comment);
	assert_refused(line, "commentaire trop long");
	free(line);
}

static void
test_unknown_types(void **unused)
{
	char	*line;

	(void)unused;
	assert_refused("", "ligne vide");
	assert_refused("   \n", "ligne vide");
	assert_refused("foo AAAA", "type « foo » inconnu");
	assert_refused("ssh-dss " ED25519_B64, "type « ssh-dss » inconnu");
	/* authorized_keys options are not a key. */
	assert_refused("from=\"10.0.0.1\" ssh-ed25519 " ED25519_B64,
	    "inconnu");
	/* A type that is no name is not repeated in the message. */
	assert_refused("ssh-\x01\x02 AAAA", "type de clé inconnu");
	line = xmalloc(100001);
	memset(line, 'x', 100000);
	line[100000] = '\0';
	assert_refused(line, "type de clé inconnu");
	free(line);
	assert_refused("ssh-ed25519", "la clé manque");
	assert_refused("ssh-ed25519   \r\n", "la clé manque");
}

static void
test_bad_base64(void **unused)
{
	(void)unused;
	assert_refused("ssh-ed25519 AAAAnotbase64!!! x", "base64 invalide");
	/* Cut to a length that is no multiple of 4. */
	assert_refused("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFCiU9a",
	    "base64 invalide");
	assert_refused("ssh-ed25519 AAAA=AAA", "base64 invalide");
	assert_refused("ssh-ed25519 ====", "base64 invalide");
	assert_refused("ssh-ed25519 A===", "base64 invalide");
	/* The URL-safe alphabet is not OpenSSH's. */
	assert_refused("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFCiU9aDYovjQgbSA6"
	    "ZqC7UdZ2U2fKbrFGVJy9z3vw-9", "base64 invalide");
}

static void
test_type_mismatch(void **unused)
{
	(void)unused;
	assert_refused("ssh-rsa " ED25519_B64 " x",
	    "le type annoncé (« ssh-rsa ») n'est pas celui de la clé");
	assert_refused("sk-ssh-ed25519@openssh.com " ED25519_B64,
	    "n'est pas celui");
	/* Base64 of "hello world!": no SSH string at all. */
	assert_refused("ssh-ed25519 aGVsbG8gd29ybGQh", "n'est pas celui");
}

/* Blobs cut short, with a byte too many, with a field of the wrong
 * size, with a length that points past the end, the wrong curve. */
static void
test_bad_blobs(void **unused)
{
	unsigned char	 blob[256], made[256], point[65];
	size_t		 len, at;

	(void)unused;
	len = ed25519_blob(blob);
	assert_int_equal(len, 4 + 11 + 4 + 32);

	assert_blob_refused("ssh-ed25519", blob, len - 1, "clé ssh-ed25519 tronquée ou mal formée");
	assert_blob_refused("ssh-ed25519", blob, 4 + 11 + 2, "tronquée");
	assert_blob_refused("ssh-ed25519", blob, 4 + 11, "tronquée");
	assert_blob_refused("ssh-ed25519", blob, 6, "n'est pas celui");

	blob[len] = 0;
	assert_blob_refused("ssh-ed25519", blob, len + 1, "tronquée ou mal formée");

	/* A key of 31 bytes. */
	at = put_string(made, 0, "ssh-ed25519", 11);
	at = put_string(made, at, blob + 19, 31);
	assert_blob_refused("ssh-ed25519", made, at, "mal formée");

	/* A length of 4 GiB - 1 for the key. */
	memcpy(made, blob, len);
	made[15] = made[16] = made[17] = made[18] = 0xff;
	assert_blob_refused("ssh-ed25519", made, len, "mal formée");
	/* The same for the type string. */
	made[0] = 0x80;
	assert_blob_refused("ssh-ed25519", made, len, "n'est pas celui");

	/* A nistp256 key that says nistp384. */
	memset(point, 4, sizeof point);
	at = put_string(made, 0, "ecdsa-sha2-nistp256", 19);
	at = put_string(made, at, "nistp384", 8);
	at = put_string(made, at, point, sizeof point);
	assert_blob_refused("ecdsa-sha2-nistp256", made, at, "mal formée");
	/* The right one passes: the check is on shape, not on the curve. */
	at = put_string(made, 0, "ecdsa-sha2-nistp256", 19);
	at = put_string(made, at, "nistp256", 8);
	at = put_string(made, at, point, sizeof point);
	assert_blob_accepted("ecdsa-sha2-nistp256", made, at);

	/* An RSA key without its modulus, or with an empty one. */
	at = put_string(made, 0, "ssh-rsa", 7);
	at = put_string(made, at, "\x01\x00\x01", 3);
	assert_blob_refused("ssh-rsa", made, at, "mal formée");
	at = put_string(made, at, "", 0);
	assert_blob_refused("ssh-rsa", made, at, "mal formée");

	/* A security key without its application. */
	at = put_string(made, 0, "sk-ssh-ed25519@openssh.com", 26);
	at = put_string(made, at, blob + 19, 32);
	assert_blob_refused("sk-ssh-ed25519@openssh.com", made, at, "mal formée");
}

/* Over SSHKEY_BLOB_MAX, decoded or not: refused before any allocation
 * of its size (the base64 of a 10 MB line is not decoded). */
static void
test_huge(void **unused)
{
	unsigned char	*blob, *modulus;
	char		*line;
	size_t		 len, at;

	(void)unused;
	len = SSHKEY_BLOB_MAX + 1;
	blob = xcalloc(1, len);
	modulus = xcalloc(1, len);
	at = put_string(blob, 0, "ssh-rsa", 7);
	at = put_string(blob, at, "\x01\x00\x01", 3);
	put_string(blob, at, modulus, len - at - 4);
	assert_blob_refused("ssh-rsa", blob, len, "clé trop longue");
	/* The largest allowed passes. */
	put_string(blob, at, modulus, SSHKEY_BLOB_MAX - at - 4);
	assert_blob_accepted("ssh-rsa", blob, SSHKEY_BLOB_MAX);
	free(blob);
	free(modulus);

	line = xmalloc(10u << 20);
	memcpy(line, "ssh-rsa ", 8);
	memset(line + 8, 'A', (10u << 20) - 9);
	line[(10u << 20) - 1] = '\0';
	assert_refused(line, "clé trop longue");
	free(line);
}

static void
test_bad_comments(void **unused)
{
	(void)unused;
	assert_refused("ssh-ed25519 " ED25519_B64 " a\x01z", "commentaire "
	    "illisible");
	assert_refused("ssh-ed25519 " ED25519_B64 " a\nssh-rsa AAAA",
	    "commentaire illisible");
	assert_refused("ssh-ed25519 " ED25519_B64 " \xc3\x28", "commentaire "
	    "illisible");
	assert_refused("ssh-ed25519 " ED25519_B64 " caf\xc3", "commentaire "
	    "illisible");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ssh_keygen_keys),
		cmocka_unit_test(test_line_forms),
		cmocka_unit_test(test_unknown_types),
		cmocka_unit_test(test_bad_base64),
		cmocka_unit_test(test_type_mismatch),
		cmocka_unit_test(test_bad_blobs),
		cmocka_unit_test(test_huge),
		cmocka_unit_test(test_bad_comments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
