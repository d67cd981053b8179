/* Unit tests of server/crypto.h: the key file, sealing and opening
 * provisional passwords (AES-256-GCM bound to the account id) and the
 * bytea hex form. Each test works in its own temporary directory. */
#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto.h"
#include "log.h"

#define PASSWORD	"Abcdef12345"
#define ACCOUNT		INT64_C(4242)

/* The temporary directory of a test and its key file. */
struct tmp {
	char	dir[PATH_MAX];
	char	key[PATH_MAX + 32];
};

/* A new temporary directory; the key path in it does not exist yet. */
static int
setup_tmp(void **state)
{
	struct tmp	*t = calloc(1, sizeof *t);
	const char	*base = getenv("TMPDIR");

	if (t == NULL)
		return -1;
	snprintf(t->dir, sizeof t->dir, "%s/test-crypto.XXXXXX",
	    base != NULL && base[0] != '\0' ? base : "/tmp");
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	snprintf(t->key, sizeof t->key, "%s/provisional.key", t->dir);
	crypto_key_unload();
	*state = t;
	return 0;
}

/* Forget the key, remove the key file and the directory. */
static int
teardown_tmp(void **state)
{
	struct tmp	*t = *state;
	int		 rc = 0;

	crypto_key_unload();
	if (unlink(t->key) == -1 && access(t->key, F_OK) == 0)
		rc = -1;
	if (rmdir(t->dir) == -1)
		rc = -1;
	free(t);
	return rc;
}

/* Load the key at path, failing the test with the cause if refused. */
static void
load_key(const char *path)
{
	char	*cause = NULL;

	if (crypto_key_load(path, &cause) != 0) {
		print_error("crypto_key_load(\"%s\"): expected 0, got -1 "
		    "(%s)\n", path, cause == NULL ? "no cause" : cause);
		free(cause);
		fail();
	}
}

/* Write n bytes of value c to path. */
static void
write_file(const char *path, int c, size_t n)
{
	unsigned char	 buf[256];
	int		 fd;

	assert_true(n <= sizeof buf);
	memset(buf, c, n);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	close(fd);
}

/* A missing key file is created 0600, 32 bytes; a reload gives the same key. */
static void
test_key_create_and_reload(void **state)
{
	struct tmp	*t = *state;
	unsigned char	 sealed[64 + CRYPTO_OVERHEAD];
	struct stat	 st;
	size_t		 n;
	char		*out;

	assert_int_equal(access(t->key, F_OK), -1);
	load_key(t->key);
	assert_int_equal(stat(t->key, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	if ((st.st_mode & 07777) != 0600) {
		print_error("key file mode: expected 0600, got %04o\n",
		    (unsigned)(st.st_mode & 07777));
		fail();
	}
	assert_int_equal(st.st_size, CRYPTO_KEY_LEN);

	n = crypto_seal(ACCOUNT, PASSWORD, sealed);
	assert_int_equal(n, strlen(PASSWORD) + CRYPTO_OVERHEAD);
	crypto_key_unload();
	load_key(t->key);
	/* Not rewritten by the second load. */
	assert_int_equal(stat(t->key, &st), 0);
	assert_int_equal(st.st_size, CRYPTO_KEY_LEN);
	out = crypto_open(ACCOUNT, sealed, n);
	if (out == NULL) {
		print_error("crypto_open after reloading the key: expected "
		    "\"%s\", got NULL\n", PASSWORD);
		fail();
	}
	assert_string_equal(out, PASSWORD);
	free(out);
}

/* Another key file does not open what the first one sealed. */
static void
test_key_other_file(void **state)
{
	struct tmp	*t = *state;
	unsigned char	 sealed[64 + CRYPTO_OVERHEAD];
	char		 other[PATH_MAX + 32];
	size_t		 n;
	char		*out;

	load_key(t->key);
	n = crypto_seal(ACCOUNT, PASSWORD, sealed);
	snprintf(other, sizeof other, "%s/other.key", t->dir);
	load_key(other);
	out = crypto_open(ACCOUNT, sealed, n);
	unlink(other);
	if (out != NULL) {
		print_error("crypto_open under another key: expected NULL, got "
		    "\"%s\"\n", out);
		free(out);
		fail();
	}
}

/* A key file of the wrong size is refused with a cause and left alone. */
static void
test_key_wrong_size(void **state)
{
	static const size_t	 sizes[] = { 0, 1, CRYPTO_KEY_LEN - 1,
	    CRYPTO_KEY_LEN + 1, 2 * CRYPTO_KEY_LEN };
	struct tmp		*t = *state;
	struct stat		 st;
	char			*cause;
	size_t			 i;
	int			 rc;

	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		write_file(t->key, 0x5a, sizes[i]);
		cause = NULL;
		rc = crypto_key_load(t->key, &cause);
		if (rc != -1 || cause == NULL || cause[0] == '\0') {
			print_error("key file of %zu bytes: expected -1 with a "
			    "cause, got %d (%s)\n", sizes[i], rc,
			    cause == NULL ? "no cause" : cause);
			free(cause);
			fail();
		}
		free(cause);
		assert_int_equal(stat(t->key, &st), 0);
		assert_int_equal(st.st_size, (off_t)sizes[i]);
	}
}

/* A key path in a directory that does not exist: refused with a cause. */
static void
test_key_bad_path(void **state)
{
	struct tmp	*t = *state;
	char		 path[PATH_MAX + 32], *cause = NULL;

	snprintf(path, sizeof path, "%s/none/key", t->dir);
	assert_int_equal(crypto_key_load(path, &cause), -1);
	assert_non_null(cause);
	assert_true(cause[0] != '\0');
	free(cause);
}

/* Seal then open passwords of 8 to 14 characters. */
static void
test_seal_open_lengths(void **state)
{
	static const char	 chars[] = "aB3xY9kLmN0pQr";
	struct tmp		*t = *state;
	unsigned char		 sealed[64 + CRYPTO_OVERHEAD];
	char			 pw[16], *out;
	size_t			 len, n;

	load_key(t->key);
	for (len = 8; len <= 14; len++) {
		memcpy(pw, chars, len);
		pw[len] = '\0';
		memset(sealed, 0, sizeof sealed);
		n = crypto_seal(ACCOUNT, pw, sealed);
		assert_int_equal(n, len + CRYPTO_OVERHEAD);
		assert_int_equal(sealed[0], 1);
		/* The password does not appear in clear. */
		assert_null(memmem(sealed, n, pw, len));
		out = crypto_open(ACCOUNT, sealed, n);
		if (out == NULL || strcmp(out, pw) != 0) {
			print_error("seal/open \"%s\": got %s%s%s\n", pw,
			    out == NULL ? "" : "\"", out == NULL ? "NULL" :
			    out, out == NULL ? "" : "\"");
			free(out);
			fail();
		}
		free(out);
	}
}

/* Sealed for one account, it does not open for another. */
static void
test_open_other_account(void **state)
{
	static const int64_t	 others[] = { ACCOUNT + 1, ACCOUNT - 1, 0, -1,
	    ACCOUNT + (INT64_C(1) << 32), ACCOUNT + (INT64_C(1) << 56),
	    INT64_MAX, INT64_MIN };
	struct tmp		*t = *state;
	unsigned char		 sealed[64 + CRYPTO_OVERHEAD];
	size_t			 i, n;
	char			*out;

	load_key(t->key);
	n = crypto_seal(ACCOUNT, PASSWORD, sealed);
	for (i = 0; i < sizeof others / sizeof others[0]; i++) {
		out = crypto_open(others[i], sealed, n);
		if (out != NULL) {
			print_error("sealed for %lld, opened for %lld: "
			    "expected NULL, got \"%s\"\n", (long long)ACCOUNT,
			    (long long)others[i], out);
			free(out);
			fail();
		}
	}
	out = crypto_open(ACCOUNT, sealed, n);
	assert_non_null(out);
	assert_string_equal(out, PASSWORD);
	free(out);
}

/* Flipping any one byte (each bit pattern 0x01 and 0x80) fails to open. */
static void
test_open_tampered(void **state)
{
	static const unsigned char	 masks[] = { 0x01, 0x80, 0xff };
	struct tmp			*t = *state;
	unsigned char			 sealed[64 + CRYPTO_OVERHEAD];
	unsigned char			 copy[64 + CRYPTO_OVERHEAD];
	size_t				 i, m, n;
	char				*out;

	load_key(t->key);
	n = crypto_seal(ACCOUNT, PASSWORD, sealed);
	for (i = 0; i < n; i++) {
		for (m = 0; m < sizeof masks; m++) {
			memcpy(copy, sealed, n);
			copy[i] ^= masks[m];
			out = crypto_open(ACCOUNT, copy, n);
			if (out != NULL) {
				print_error("byte %zu of %zu xor 0x%02x: "
				    "expected NULL, got \"%s\"\n", i, n,
				    masks[m], out);
				free(out);
				fail();
			}
		}
	}
}

/* Truncated or extended data fails to open. */
static void
test_open_truncated(void **state)
{
	struct tmp	*t = *state;
	unsigned char	 sealed[64 + CRYPTO_OVERHEAD + 1];
	size_t		 i, n;
	char		*out;

	load_key(t->key);
	n = crypto_seal(ACCOUNT, PASSWORD, sealed);
	for (i = 0; i < n; i++) {
		out = crypto_open(ACCOUNT, sealed, i);
		if (out != NULL) {
			print_error("first %zu of %zu bytes: expected NULL, "
			    "got \"%s\"\n", i, n, out);
			free(out);
			fail();
		}
	}
	/* The last byte dropped from the front (nonce shifted). */
	assert_null(crypto_open(ACCOUNT, sealed + 1, n - 1));
	/* One byte too many. */
	sealed[n] = 0;
	assert_null(crypto_open(ACCOUNT, sealed, n + 1));
}

/* Two seals of the same password differ (random nonce); both open. */
static void
test_seal_random_nonce(void **state)
{
	struct tmp	*t = *state;
	unsigned char	 a[64 + CRYPTO_OVERHEAD], b[64 + CRYPTO_OVERHEAD];
	size_t		 na, nb;
	char		*out;

	load_key(t->key);
	na = crypto_seal(ACCOUNT, PASSWORD, a);
	nb = crypto_seal(ACCOUNT, PASSWORD, b);
	assert_int_equal(na, nb);
	if (memcmp(a, b, na) == 0) {
		print_error("two seals of \"%s\" are identical\n", PASSWORD);
		fail();
	}
	/* The nonces themselves differ. */
	assert_memory_not_equal(a + 1, b + 1, 12);
	out = crypto_open(ACCOUNT, a, na);
	assert_non_null(out);
	assert_string_equal(out, PASSWORD);
	free(out);
	out = crypto_open(ACCOUNT, b, nb);
	assert_non_null(out);
	assert_string_equal(out, PASSWORD);
	free(out);
}

/* Without a key loaded, open returns NULL. */
static void
test_open_without_key(void **state)
{
	struct tmp	*t = *state;
	unsigned char	 sealed[64 + CRYPTO_OVERHEAD];
	char		*cause = NULL;
	size_t		 n;

	load_key(t->key);
	n = crypto_seal(ACCOUNT, PASSWORD, sealed);
	crypto_key_unload();
	assert_null(crypto_open(ACCOUNT, sealed, n));
	/* A failed load does not load one either. */
	write_file(t->key, 0, 3);
	assert_int_equal(crypto_key_load(t->key, &cause), -1);
	free(cause);
	assert_null(crypto_open(ACCOUNT, sealed, n));
}

/* crypto_bytea_hex then crypto_bytea_parse gives the bytes back. */
static void
test_bytea_round_trip(void **state)
{
	struct tmp	*t = *state;
	unsigned char	 all[256], sealed[64 + CRYPTO_OVERHEAD], *back;
	char		*hex, *out;
	size_t		 i, len, n;

	for (i = 0; i < sizeof all; i++)
		all[i] = (unsigned char)i;
	hex = crypto_bytea_hex(all, sizeof all);
	assert_non_null(hex);
	assert_int_equal(strlen(hex), 2 + 2 * sizeof all);
	assert_int_equal(strncmp(hex, "\\x000102", 8), 0);
	assert_string_equal(hex + strlen(hex) - 4, "feff");
	len = 0;
	back = crypto_bytea_parse(hex, &len);
	assert_non_null(back);
	assert_int_equal(len, sizeof all);
	assert_memory_equal(back, all, sizeof all);
	free(back);
	free(hex);

	/* Upper-case digits are read too. */
	back = crypto_bytea_parse("\\xABcd", &len);
	assert_non_null(back);
	assert_int_equal(len, 2);
	assert_int_equal(back[0], 0xab);
	assert_int_equal(back[1], 0xcd);
	free(back);

	/* A sealed password through its text form. */
	load_key(t->key);
	n = crypto_seal(ACCOUNT, PASSWORD, sealed);
	hex = crypto_bytea_hex(sealed, n);
	back = crypto_bytea_parse(hex, &len);
	assert_non_null(back);
	assert_int_equal(len, n);
	out = crypto_open(ACCOUNT, back, len);
	assert_non_null(out);
	assert_string_equal(out, PASSWORD);
	free(out);
	free(back);
	free(hex);
}

/* Malformed bytea text is refused. */
static void
test_bytea_parse_bad(void **state)
{
	static const char	*const bad[] = { "x12", "\\x1", "\\xzz", "",
	    "\\x", "\\", "\\X12", "12", "\\x12 ", " \\x12", "\\x1g",
	    "\\x123", "\\\\x12" };
	unsigned char		*p;
	size_t			 i, len;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		len = 12345;
		p = crypto_bytea_parse(bad[i], &len);
		if (p != NULL) {
			print_error("crypto_bytea_parse(\"%s\"): expected "
			    "NULL, got %zu bytes\n", bad[i], len);
			free(p);
			fail();
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_key_create_and_reload,
		    setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_key_other_file,
		    setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_key_wrong_size,
		    setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_key_bad_path,
		    setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_seal_open_lengths,
		    setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_open_other_account,
		    setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_open_tampered,
		    setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_open_truncated,
		    setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_seal_random_nonce,
		    setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_open_without_key,
		    setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_bytea_round_trip,
		    setup_tmp, teardown_tmp),
		cmocka_unit_test(test_bytea_parse_bad),
	};

	/* The key creation is logged at info level: keep the report clean. */
	log_init("test-crypto", LOG_LEVEL_WARN, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
