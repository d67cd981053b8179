/* Unit tests of common/valid.h: UAI, INE, dates, email addresses, the
 * password policy and the UTF-8 text check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "valid.h"

/* A printable copy of n bytes (C escapes for the others), for messages. */
static const char *
esc(const char *s, size_t n)
{
	static char	out[1200];
	size_t		i, o = 0;

	for (i = 0; i < n && o + 5 < sizeof out; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, sizeof out - o, "\\x%02x",
			    c);
	}
	out[o] = '\0';
	return out;
}

/* Fail at the caller's line unless hay contains needle. */
static void
check_contains(const char *what, const char *hay, const char *needle,
    const char *file, int line)
{
	if (hay == NULL || strstr(hay, needle) == NULL) {
		print_error("%s: cause \"%s\" does not contain \"%s\"\n", what,
		    hay == NULL ? "(null)" : hay, needle);
		_fail(file, line);
	}
}

/*
 * Each checker runs one validator on one input and reports, on failure,
 * the input, the expected and the actual result and the cause given.
 * want is 0 (accepted) or -1 (refused); when refused and part is not
 * NULL, the cause must contain part.
 */
typedef int (*validator)(const char *, const char **);

static void
check_one(const char *name, validator fn, const char *s, int want,
    const char *part, const char *file, int line)
{
	const char	*cause = NULL;
	char		 what[1400];
	int		 got;

	got = fn(s, &cause);
	snprintf(what, sizeof what, "%s(\"%s\")", name, esc(s, strlen(s)));
	if (got != want) {
		print_error("%s: expected %d, got %d (cause: %s)\n", what, want,
		    got, cause == NULL ? "(none)" : cause);
		_fail(file, line);
	}
	if (want == -1) {
		if (cause == NULL || cause[0] == '\0') {
			print_error("%s: refused without a cause\n", what);
			_fail(file, line);
		}
		if (part != NULL)
			check_contains(what, cause, part, file, line);
	}
}

#define UAI(s, want, part) \
	check_one("valid_uai", valid_uai, s, want, part, __FILE__, __LINE__)
#define INE(s, want) \
	check_one("valid_ine", valid_ine, s, want, NULL, __FILE__, __LINE__)
#define EMAIL(s, want) \
	check_one("valid_email", valid_email, s, want, NULL, __FILE__, \
	    __LINE__)
#define PASSWORD(s, want, part) \
	check_one("valid_password", valid_password, s, want, part, __FILE__, \
	    __LINE__)

/* The reference check letter: "ABCDEFGHJKLMNPRSTUVWXYZ"[n mod 23]. */
static char
ref_uai_letter(const char *digits7)
{
	static const char	 letters[] = "ABCDEFGHJKLMNPRSTUVWXYZ";
	unsigned long		 n = 0;
	int			 i;

	for (i = 0; i < 7; i++)
		n = n * 10 + (unsigned long)(digits7[i] - '0');
	return letters[n % 23];
}

static void
test_uai_letter_known(void **state)
{
	(void)state;
	/* 330001 = 23 * 14347 + 20 -> 'X'. */
	assert_int_equal(valid_uai_letter("0330001"), 'X');
	/* 750001 mod 23 = 17 -> 'U'. */
	assert_int_equal(valid_uai_letter("0750001"), 'U');
	assert_int_equal(valid_uai_letter("0000000"), 'A');
	/* 9999999 mod 23 = 13 -> 'P'. */
	assert_int_equal(valid_uai_letter("9999999"), 'P');
	/* 123456 mod 23 = 15 -> 'S'. */
	assert_int_equal(valid_uai_letter("0123456"), 'S');
}

static void
test_uai_letter_sweep(void **state)
{
	char	digits[8];
	long	n;

	(void)state;
	/* Every residue mod 23, and a spread of numbers over the range. */
	for (n = 0; n <= 9999999; n += n < 100 ? 1 : 99991) {
		snprintf(digits, sizeof digits, "%07ld", n);
		assert_int_equal(valid_uai_letter(digits),
		    ref_uai_letter(digits));
	}
}

static void
test_uai_good(void **state)
{
	(void)state;
	UAI("0330001X", 0, NULL);
	UAI("0750001U", 0, NULL);
	UAI("0000000A", 0, NULL);
	UAI("9999999P", 0, NULL);
	UAI("0123456S", 0, NULL);
	/* The letter is case-insensitive. */
	UAI("0330001x", 0, NULL);
	UAI("0750001u", 0, NULL);
}

static void
test_uai_wrong_letter(void **state)
{
	(void)state;
	UAI("0330001A", -1, "lettre de contrôle");
	UAI("0330001Y", -1, "lettre de contrôle");
	UAI("0330001y", -1, "lettre de contrôle");
	/* Letters outside the check alphabet can never match. */
	UAI("0330001I", -1, "lettre de contrôle");
	UAI("0330001O", -1, "lettre de contrôle");
	UAI("0330001Q", -1, "lettre de contrôle");
}

static void
test_uai_malformed(void **state)
{
	(void)state;
	UAI("", -1, "mal formé");
	UAI("0330001", -1, "mal formé");
	UAI("330001X", -1, "mal formé");
	UAI("00330001X", -1, "mal formé");
	UAI("0330001XX", -1, "mal formé");
	UAI("03300O1X", -1, "mal formé");
	UAI("A330001X", -1, "mal formé");
	UAI("03300010", -1, "mal formé");
	UAI("0330001 ", -1, "mal formé");
	UAI(" 0330001X", -1, "mal formé");
	UAI("0330001-", -1, "mal formé");
	UAI("0330001\xc3\x89", -1, "mal formé");
}

static void
test_ine(void **state)
{
	(void)state;
	/* 10 digits + 1 letter. */
	INE("1234567890A", 0);
	INE("1234567890a", 0);
	/* 9 digits + 2 letters. */
	INE("123456789AB", 0);
	INE("123456789ab", 0);
	INE("123456789aB", 0);
	/* Refused shapes. */
	INE("12345678901", -1);
	INE("12345678ABC", -1);
	INE("1234567890", -1);
	INE("1234567890AB", -1);
	INE("123456789A", -1);
	INE("", -1);
	INE("A1234567890", -1);
	INE("12345678A9B", -1);
	INE("123456789A1", -1);
	INE("1234567890-", -1);
	INE("1234567890 ", -1);
	INE("123456789 A", -1);
}

#define DATE_OK(s, y, m, d) do { \
	const char *cause_ = NULL; \
	int y_ = -1, m_ = -1, d_ = -1; \
	if (valid_date(s, &y_, &m_, &d_, &cause_) != 0) { \
		print_error("valid_date(\"%s\"): refused (%s)\n", s, \
		    cause_ == NULL ? "(none)" : cause_); \
		fail(); \
	} \
	assert_int_equal(y_, y); \
	assert_int_equal(m_, m); \
	assert_int_equal(d_, d); \
} while (0)

#define DATE_BAD(s) do { \
	const char *cause_ = NULL; \
	int y_ = -1, m_ = -1, d_ = -1, r_; \
	r_ = valid_date(s, &y_, &m_, &d_, &cause_); \
	if (r_ != -1) { \
		print_error("valid_date(\"%s\"): expected -1, got %d " \
		    "(%d-%d-%d)\n", s, r_, y_, m_, d_); \
		fail(); \
	} \
	assert_non_null(cause_); \
} while (0)

static void
test_date_good(void **state)
{
	(void)state;
	DATE_OK("01/01/2020", 2020, 1, 1);
	DATE_OK("29/02/2024", 2024, 2, 29);
	DATE_OK("29/02/2000", 2000, 2, 29);
	DATE_OK("28/02/2023", 2023, 2, 28);
	DATE_OK("31/01/2021", 2021, 1, 31);
	DATE_OK("30/04/2021", 2021, 4, 30);
	DATE_OK("31/12/2021", 2021, 12, 31);
	DATE_OK("01/01/1900", 1900, 1, 1);
	DATE_OK("31/12/2199", 2199, 12, 31);
	DATE_OK("14/07/1989", 1989, 7, 14);
}

static void
test_date_null_outputs(void **state)
{
	const char	*cause = NULL;

	(void)state;
	assert_int_equal(valid_date("15/08/2010", NULL, NULL, NULL, &cause),
	    0);
}

static void
test_date_bad(void **state)
{
	(void)state;
	DATE_BAD("29/02/2023");
	DATE_BAD("29/02/1900");
	DATE_BAD("29/02/2100");
	DATE_BAD("30/02/2024");
	DATE_BAD("31/02/2020");
	DATE_BAD("31/04/2020");
	DATE_BAD("31/06/2020");
	DATE_BAD("31/09/2020");
	DATE_BAD("31/11/2020");
	DATE_BAD("32/01/2020");
	DATE_BAD("00/01/2020");
	DATE_BAD("01/00/2020");
	DATE_BAD("01/13/2020");
	DATE_BAD("31/12/1899");
	DATE_BAD("01/01/2200");
	DATE_BAD("01/01/0000");
	/* Malformed. */
	DATE_BAD("1/1/2020");
	DATE_BAD("01/1/2020");
	DATE_BAD("01-01-2020");
	DATE_BAD("01.01.2020");
	DATE_BAD("2020/01/01");
	DATE_BAD("2020-01-01");
	DATE_BAD("01/01/20");
	DATE_BAD("01/01/20200");
	DATE_BAD("01/01/2020 ");
	DATE_BAD(" 1/01/2020");
	DATE_BAD("0a/01/2020");
	DATE_BAD("01/01/2O20");
	DATE_BAD("");
}

static void
test_email_good(void **state)
{
	(void)state;
	EMAIL("jean.dupont@example.fr", 0);
	EMAIL("a@b.fr", 0);
	EMAIL("marie+ecole@ac-bordeaux.fr", 0);
	EMAIL("parent@mail.ecole.ac-paris.fr", 0);
	EMAIL("Jean.Dupont@Example.COM", 0);
	EMAIL("x_y-z.1@sub-domain.example.org", 0);
	EMAIL("o'brien@example.ie", 0);
	EMAIL("123@456.fr", 0);
}

static void
test_email_bad(void **state)
{
	(void)state;
	EMAIL("", -1);
	EMAIL("jean.dupont.example.fr", -1);
	EMAIL("jean@dupont@example.fr", -1);
	EMAIL("@example.fr", -1);
	EMAIL(".jean@example.fr", -1);
	EMAIL("jean.@example.fr", -1);
	EMAIL("jean..dupont@example.fr", -1);
	EMAIL("jean@", -1);
	EMAIL("jean@example", -1);
	EMAIL("jean@.example.fr", -1);
	EMAIL("jean@example.fr.", -1);
	EMAIL("jean@example..fr", -1);
	EMAIL("jean@example.f", -1);
	EMAIL("jean@example.f2", -1);
	EMAIL("jean@example.123", -1);
	EMAIL("jean@-example.fr", -1);
	EMAIL("jean@example-.fr", -1);
	EMAIL("jean@ex.-ample.fr", -1);
	EMAIL("jean@example.-fr", -1);
	EMAIL("jean dupont@example.fr", -1);
	EMAIL("jean@exam ple.fr", -1);
	EMAIL(" jean@example.fr", -1);
	EMAIL("jean@example.fr ", -1);
	EMAIL("jean@exam_ple.fr", -1);
	EMAIL("jean(x)@example.fr", -1);
	EMAIL("j\xc3\xa9r\xc3\xb4me@example.fr", -1);
	EMAIL("jean@\xc3\xa9" "cole.fr", -1);
}

static void
test_email_lengths(void **state)
{
	char	addr[400], local[100], domain[300];

	(void)state;
	/* 64-character local part: accepted; 65: refused. */
	memset(local, 'a', 64);
	local[64] = '\0';
	snprintf(addr, sizeof addr, "%s@example.fr", local);
	EMAIL(addr, 0);
	memset(local, 'a', 65);
	local[65] = '\0';
	snprintf(addr, sizeof addr, "%s@example.fr", local);
	EMAIL(addr, -1);

	/* 254 characters in all: accepted; 255: refused. The domain is
	 * 63 + 1 + 63 + 1 + 58 + 3 = 189 characters. */
	memset(local, 'l', 64);
	local[64] = '\0';
	memset(domain, 'b', 63);
	domain[63] = '.';
	memset(domain + 64, 'c', 63);
	domain[127] = '.';
	memset(domain + 128, 'd', 58);
	memcpy(domain + 186, ".fr", 4);
	snprintf(addr, sizeof addr, "%s@%s", local, domain);
	assert_int_equal(strlen(addr), 254);
	EMAIL(addr, 0);
	memset(domain + 128, 'd', 59);
	memcpy(domain + 187, ".fr", 4);
	snprintf(addr, sizeof addr, "%s@%s", local, domain);
	assert_int_equal(strlen(addr), 255);
	EMAIL(addr, -1);

	/* A label of 64 characters is refused. */
	memset(domain, 'e', 64);
	memcpy(domain + 64, ".fr", 4);
	snprintf(addr, sizeof addr, "a@%s", domain);
	EMAIL(addr, -1);
	domain[63] = '\0';
	snprintf(addr, sizeof addr, "a@%s.fr", domain);
	EMAIL(addr, 0);
}

static void
test_password(void **state)
{
	(void)state;
	PASSWORD("abcdefg1", 0, NULL);
	PASSWORD("1234567a", 0, NULL);
	PASSWORD("Abcdefghijk123", 0, NULL);
	PASSWORD("abc!def1?", 0, NULL);
	PASSWORD("P@ss-w0rd_~{}", 0, NULL);
	PASSWORD("Z9Z9Z9Z9", 0, NULL);

	/* Length: 7 and 15 characters are refused. */
	PASSWORD("abcdef1", -1, "8 à 14");
	PASSWORD("Abcdefghijk1234", -1, "8 à 14");
	PASSWORD("", -1, "8 à 14");
	/* Letters and digits are both needed. */
	PASSWORD("abcdefgh", -1, "lettres et des chiffres");
	PASSWORD("12345678", -1, "lettres et des chiffres");
	PASSWORD("!!!!????", -1, "lettres et des chiffres");
	PASSWORD("abcd!!!!", -1, "lettres et des chiffres");
	/* Accents, spaces and control characters are refused. */
	PASSWORD("abcd\xc3\xa9" "123", -1, "sans accent");
	PASSWORD("abcd efg1", -1, "sans accent");
	PASSWORD("abcd\tefg1", -1, "sans accent");
	PASSWORD("abcd\x7f" "efg1", -1, "sans accent");
}

#define UTF8_OK(s) do { \
	if (valid_utf8_text(s, sizeof(s) - 1) != 1) { \
		print_error("valid_utf8_text(\"%s\"): expected 1, got 0\n", \
		    esc(s, sizeof(s) - 1)); \
		fail(); \
	} \
} while (0)
#define UTF8_BAD(s) do { \
	if (valid_utf8_text(s, sizeof(s) - 1) != 0) { \
		print_error("valid_utf8_text(\"%s\"): expected 0, got 1\n", \
		    esc(s, sizeof(s) - 1)); \
		fail(); \
	} \
} while (0)

static void
test_utf8_good(void **state)
{
	(void)state;
	UTF8_OK("");
	UTF8_OK("Martin");
	UTF8_OK("\xc3\x89lo\xc3\xafse Nguy\xe1\xbb\x85n \xc5\x92 \xc3\x9f");
	UTF8_OK("M\xc3\xbcller-L\xc3\xa9vy (ab) ~!");
	UTF8_OK("\xe6\xbc\xa2\xe5\xad\x97");		/* 漢字 */
	UTF8_OK("\xf0\x9f\x98\x80");			/* U+1F600 */
	UTF8_OK("\xc2\xa0");				/* U+00A0, first after C1 */
	UTF8_OK("\xc2\xa9");				/* U+00A9 */
	UTF8_OK("\xdf\xbf");				/* U+07FF */
	UTF8_OK("\xe0\xa0\x80");			/* U+0800 */
	UTF8_OK("\xed\x9f\xbf");			/* U+D7FF */
	UTF8_OK("\xee\x80\x80");			/* U+E000 */
	UTF8_OK("\xef\xbf\xbd");			/* U+FFFD */
	UTF8_OK("\xf0\x90\x80\x80");			/* U+10000 */
	UTF8_OK("\xf4\x8f\xbf\xbf");			/* U+10FFFF */
}

static void
test_utf8_controls(void **state)
{
	(void)state;
	UTF8_BAD("\x01");
	UTF8_BAD("abc\ndef");
	UTF8_BAD("abc\tdef");
	UTF8_BAD("abc\rdef");
	UTF8_BAD("\x1b[31m");
	UTF8_BAD("abc\x7f");
	UTF8_BAD("ab\0cd");
	/* C1 controls U+0080..U+009F. */
	UTF8_BAD("\xc2\x80");
	UTF8_BAD("a\xc2\x85z");
	UTF8_BAD("\xc2\x9b" "31m");
	UTF8_BAD("\xc2\x9f");
}

static void
test_utf8_malformed(void **state)
{
	(void)state;
	/* Overlong forms. */
	UTF8_BAD("\xc0\xaf");
	UTF8_BAD("\xc1\xbf");
	UTF8_BAD("\xe0\x80\xaf");
	UTF8_BAD("\xe0\x9f\xbf");
	UTF8_BAD("\xf0\x80\x80\xaf");
	UTF8_BAD("\xf0\x8f\xbf\xbf");
	/* Surrogates. */
	UTF8_BAD("\xed\xa0\x80");
	UTF8_BAD("\xed\xbf\xbf");
	UTF8_BAD("\xed\xa0\xbd\xed\xb8\x80");
	/* Truncated sequences, at the end and before other bytes. */
	UTF8_BAD("\xc3");
	UTF8_BAD("abc\xc3");
	UTF8_BAD("\xe2\x82");
	UTF8_BAD("\xf0\x9f\x98");
	UTF8_BAD("\xc3" "A");
	UTF8_BAD("\xe2\x82" "AB");
	UTF8_BAD("\xf0\x9f\x98" "A");
	/* Stray continuation bytes. */
	UTF8_BAD("\x80");
	UTF8_BAD("a\xbf" "b");
	/* Bytes that never appear. */
	UTF8_BAD("\xf5\x80\x80\x80");
	UTF8_BAD("\xf8\x88\x80\x80\x80");
	UTF8_BAD("\xfe");
	UTF8_BAD("\xff");
	/* Past U+10FFFF. */
	UTF8_BAD("\xf4\x90\x80\x80");
	UTF8_BAD("\xf4\xbf\xbf\xbf");
}

static void
test_utf8_length(void **state)
{
	(void)state;
	/* Only len bytes are looked at. */
	assert_int_equal(valid_utf8_text("abc\x01", 3), 1);
	assert_int_equal(valid_utf8_text("abc\x01", 4), 0);
	assert_int_equal(valid_utf8_text("\xc3\xa9", 2), 1);
	/* A sequence cut by the length is truncated. */
	assert_int_equal(valid_utf8_text("\xc3\xa9", 1), 0);
	assert_int_equal(valid_utf8_text("\xe6\xbc\xa2", 2), 0);
	assert_int_equal(valid_utf8_text("\xf0\x9f\x98\x80", 3), 0);
	assert_int_equal(valid_utf8_text("", 0), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uai_letter_known),
		cmocka_unit_test(test_uai_letter_sweep),
		cmocka_unit_test(test_uai_good),
		cmocka_unit_test(test_uai_wrong_letter),
		cmocka_unit_test(test_uai_malformed),
		cmocka_unit_test(test_ine),
		cmocka_unit_test(test_date_good),
		cmocka_unit_test(test_date_null_outputs),
		cmocka_unit_test(test_date_bad),
		cmocka_unit_test(test_email_good),
		cmocka_unit_test(test_email_bad),
		cmocka_unit_test(test_email_lengths),
		cmocka_unit_test(test_password),
		cmocka_unit_test(test_utf8_good),
		cmocka_unit_test(test_utf8_controls),
		cmocka_unit_test(test_utf8_malformed),
		cmocka_unit_test(test_utf8_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
