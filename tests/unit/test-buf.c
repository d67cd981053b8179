/* Unit tests of common/buf.h (the growable buffer) and common/utf8.h (display
 * widths and fitting text to columns). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "utf8.h"

#define ELLIPSIS	"\xe2\x80\xa6"

static void
test_buf_init_empty(void **state)
{
	struct buf	b;

	(void)state;
	memset(&b, 0x5a, sizeof b);
	buf_init(&b);
	assert_null(b.data);
	assert_int_equal(b.off, 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.size, 0);
	assert_int_equal(buf_left(&b), 0);
	/* Adding nothing allocates nothing. */
	buf_add(&b, "x", 0);
	assert_int_equal(buf_left(&b), 0);
	assert_string_equal(buf_cstr(&b), "");
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.size, 0);
}

static void
test_buf_add(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b);
	buf_add(&b, "hello", 5);
	assert_int_equal(buf_left(&b), 5);
	assert_memory_equal(buf_head(&b), "hello", 5);
	buf_add_str(&b, ", world");
	assert_int_equal(buf_left(&b), 12);
	assert_string_equal(buf_cstr(&b), "hello, world");
	/* Bytes, NUL included. */
	buf_add(&b, "\0\xff", 2);
	assert_int_equal(buf_left(&b), 14);
	assert_memory_equal(buf_head(&b) + 12, "\0\xff", 2);
	buf_reset(&b);
	assert_int_equal(buf_left(&b), 0);
	buf_add_str(&b, "again");
	assert_string_equal(buf_cstr(&b), "again");
	buf_free(&b);
}

static void
test_buf_add_grows(void **state)
{
	struct buf	b;
	char		chunk[1000];
	size_t		i, j;

	(void)state;
	buf_init(&b);
	for (i = 0; i < 1000; i++) {
		memset(chunk, (int)('a' + i % 26), sizeof chunk);
		buf_add(&b, chunk, sizeof chunk);
		assert_true(b.size >= b.len);
	}
	assert_int_equal(buf_left(&b), 1000 * sizeof chunk);
	for (i = 0; i < 1000; i++) {
		for (j = 0; j < sizeof chunk; j += 250)
			assert_int_equal(buf_head(&b)[i * sizeof chunk + j],
			    'a' + i % 26);
	}
	buf_free(&b);
}

static void
test_buf_printf(void **state)
{
	struct buf	 b;
	char		*s;

	(void)state;
	buf_init(&b);
	buf_printf(&b, "%s=%d", "x", 42);
	assert_int_equal(buf_left(&b), 4);
	assert_string_equal(buf_cstr(&b), "x=42");
	buf_printf(&b, "%s", "");
	assert_int_equal(buf_left(&b), 4);
	buf_printf(&b, ", %05.1f|%-4s|%x", 3.14159, "ab", 255u);
	assert_string_equal(buf_cstr(&b), "x=42, 003.1|ab  |ff");
	/* Longer than any first allocation. */
	buf_reset(&b);
	buf_printf(&b, "[%0600d]", 7);
	assert_int_equal(buf_left(&b), 602);
	s = buf_cstr(&b);
	assert_int_equal(s[0], '[');
	assert_int_equal(s[1], '0');
	assert_int_equal(s[599], '0');
	assert_int_equal(s[600], '7');
	assert_int_equal(s[601], ']');
	assert_int_equal(s[602], '\0');
	assert_int_equal(strlen(s), 602);
	buf_free(&b);
}

static void
test_buf_consume(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b);
	buf_add_str(&b, "hello world");
	buf_consume(&b, 6);
	assert_int_equal(buf_left(&b), 5);
	assert_memory_equal(buf_head(&b), "world", 5);
	assert_string_equal(buf_cstr(&b), "world");
	buf_add_str(&b, "!");
	assert_string_equal(buf_cstr(&b), "world!");
	buf_consume(&b, 0);
	assert_int_equal(buf_left(&b), 6);
	/* Consuming everything rewinds the buffer. */
	buf_consume(&b, 6);
	assert_int_equal(buf_left(&b), 0);
	assert_int_equal(b.off, 0);
	assert_int_equal(b.len, 0);
	buf_add_str(&b, "next");
	assert_ptr_equal(buf_head(&b), b.data);
	assert_string_equal(buf_cstr(&b), "next");
	buf_free(&b);
}

static void
test_buf_reserve_commit(void **state)
{
	struct buf	 b;
	unsigned char	*p;

	(void)state;
	buf_init(&b);
	p = buf_reserve(&b, 10);
	assert_non_null(p);
	assert_true(b.size - b.len >= 10);
	/* Nothing is counted before the commit. */
	assert_int_equal(buf_left(&b), 0);
	memcpy(p, "0123456789", 10);
	buf_commit(&b, 10);
	assert_int_equal(buf_left(&b), 10);
	assert_memory_equal(buf_head(&b), "0123456789", 10);
	/* A partial commit. */
	p = buf_reserve(&b, 100);
	assert_ptr_equal(p, b.data + b.len);
	assert_true(b.size - b.len >= 100);
	memcpy(p, "abc", 3);
	buf_commit(&b, 3);
	assert_string_equal(buf_cstr(&b), "0123456789abc");
	/* A large reservation grows the allocation and keeps the bytes. */
	p = buf_reserve(&b, 1 << 20);
	assert_true(b.size - b.len >= 1 << 20);
	memset(p, 'z', 1 << 20);
	buf_commit(&b, 1 << 20);
	assert_int_equal(buf_left(&b), 13 + (1 << 20));
	assert_memory_equal(buf_head(&b), "0123456789abc", 13);
	assert_int_equal(buf_head(&b)[13 + (1 << 20) - 1], 'z');
	buf_free(&b);
}

static void
test_buf_reclaim_front(void **state)
{
	struct buf	b;
	char		data[200];
	size_t		size, i;

	(void)state;
	for (i = 0; i < sizeof data; i++)
		data[i] = (char)('A' + i % 50);
	buf_init(&b);
	buf_add(&b, data, sizeof data);
	size = b.size;
	assert_true(size >= sizeof data);
	/* Consume most of it, then ask for more than the free tail but
	 * less than the free space in all: the front is reused. */
	buf_consume(&b, 150);
	assert_int_equal(b.off, 150);
	assert_true(b.size - b.len < size - 50);
	(void)buf_reserve(&b, size - 50);
	assert_int_equal(b.size, size);
	assert_int_equal(b.off, 0);
	assert_int_equal(b.len, 50);
	assert_int_equal(buf_left(&b), 50);
	assert_memory_equal(buf_head(&b), data + 150, 50);
	/* Appending after the move keeps the order. */
	buf_add(&b, "++", 2);
	assert_memory_equal(buf_head(&b), data + 150, 50);
	assert_memory_equal(buf_head(&b) + 50, "++", 2);
	buf_free(&b);
}

static void
test_buf_cstr(void **state)
{
	struct buf	 b;
	char		*s;

	(void)state;
	buf_init(&b);
	s = buf_cstr(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	buf_add(&b, "abc", 3);
	s = buf_cstr(&b);
	assert_string_equal(s, "abc");
	/* The NUL is not counted, and adding overwrites it. */
	assert_int_equal(buf_left(&b), 3);
	buf_add(&b, "def", 3);
	assert_string_equal(buf_cstr(&b), "abcdef");
	buf_consume(&b, 2);
	s = buf_cstr(&b);
	assert_ptr_equal(s, (char *)buf_head(&b));
	assert_string_equal(s, "cdef");
	buf_free(&b);
}

static void
test_buf_u32be(void **state)
{
	static const unsigned char	want[] = {
		0x01, 0x02, 0x03, 0x04,
		0x00, 0x00, 0x00, 0x00,
		0xff, 0xff, 0xff, 0xff,
		0x80, 0x00, 0x00, 0x7f,
	};
	struct buf			b;

	(void)state;
	buf_init(&b);
	buf_add_u32be(&b, 0x01020304u);
	buf_add_u32be(&b, 0);
	buf_add_u32be(&b, 0xffffffffu);
	buf_add_u32be(&b, 0x8000007fu);
	assert_int_equal(buf_left(&b), sizeof want);
	assert_memory_equal(buf_head(&b), want, sizeof want);
	buf_free(&b);
}

static void
test_buf_free_secret(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b);
	buf_add_str(&b, "secret");
	buf_free_secret(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.size, 0);
	/* On an empty buffer too. */
	buf_free_secret(&b);
	assert_null(b.data);
}

/* utf8 */

static int
setup_locale(void **state)
{
	(void)state;
	utf8_locale_init();
	return 0;
}

static void
test_utf8_width(void **state)
{
	(void)state;
	assert_int_equal(utf8_width(""), 0);
	assert_int_equal(utf8_width("abc"), 3);
	assert_int_equal(utf8_width("\xc3\x89lo\xc3\xafse"), 6);	/* Éloïse */
	assert_int_equal(utf8_width("Nguy\xe1\xbb\x85n"), 6);		/* Nguyễn */
	assert_int_equal(utf8_width("\xe6\xbc\xa2\xe5\xad\x97"), 4);	/* 漢字 */
	assert_int_equal(utf8_width("\xc5\x92uvre"), 5);		/* Œuvre */
	/* e + combining acute: one cell. */
	assert_int_equal(utf8_width("e\xcc\x81"), 1);
	/* A control character counts as one cell (shown as "?"). */
	assert_int_equal(utf8_width("a\tb"), 3);
	/* Each invalid byte is one replacement cell. */
	assert_int_equal(utf8_width("\xff"), 1);
	assert_int_equal(utf8_width("a\xff" "b"), 3);
}

static void
test_utf8_decode(void **state)
{
	unsigned int	cp;

	(void)state;
	cp = 0;
	assert_int_equal(utf8_decode("A", 1, &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(utf8_decode("\xc3\xa9", 2, &cp), 2);
	assert_int_equal(cp, 0xe9);
	assert_int_equal(utf8_decode("\xe1\xbb\x85", 3, &cp), 3);
	assert_int_equal(cp, 0x1ec5);
	assert_int_equal(utf8_decode("\xf0\x9f\x98\x80", 4, &cp), 4);
	assert_int_equal(cp, 0x1f600);
	/* Invalid: U+FFFD, and always some progress. */
	assert_true(utf8_decode("\xff", 1, &cp) >= 1);
	assert_int_equal(cp, 0xfffd);
	assert_true(utf8_decode("\x80", 1, &cp) >= 1);
	assert_int_equal(cp, 0xfffd);
	assert_int_equal(utf8_decode("\xc3\xa9", 1, &cp), 1);
	assert_int_equal(cp, 0xfffd);
	assert_int_equal(utf8_decode("\xe2\x82" "A", 3, &cp), 1);
	assert_int_equal(cp, 0xfffd);
	assert_true(utf8_decode("\xc0\xaf", 2, &cp) >= 1);
	assert_int_equal(cp, 0xfffd);
	assert_true(utf8_decode("\xed\xa0\x80", 3, &cp) >= 1);
	assert_int_equal(cp, 0xfffd);
	assert_true(utf8_decode("\xf4\x90\x80\x80", 4, &cp) >= 1);
	assert_int_equal(cp, 0xfffd);
}

/* A copy of s with its control bytes escaped, for messages (one of 4
 * rotating buffers, so a message can show several strings). */
static const char *
esc(const char *s)
{
	static char	out[4][512];
	static int	which;
	char		*o = out[which++ % 4];
	size_t		 i = 0;

	for (; *s != '\0' && i + 5 < sizeof out[0]; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || c == '\\')
			i += (size_t)snprintf(o + i, sizeof out[0] - i,
			    "\\x%02x", c);
		else
			o[i++] = (char)c;
	}
	o[i] = '\0';
	return o;
}

/* utf8_fit(s, width, right) must give want, whose width is width. */
static void
check_fit(const char *s, int width, int right, const char *want,
    const char *file, int line)
{
	char	*got;

	got = utf8_fit(s, width, right);
	if (got == NULL || strcmp(got, want) != 0) {
		print_error("utf8_fit(\"%s\", %d, %d): expected \"%s\", got "
		    "\"%s\"\n", esc(s), width, right, esc(want),
		    got == NULL ? "(null)" : esc(got));
		free(got);
		_fail(file, line);
	}
	if (utf8_width(got) != width) {
		print_error("utf8_fit(\"%s\", %d, %d) = \"%s\": width %d\n",
		    esc(s), width, right, esc(got), utf8_width(got));
		free(got);
		_fail(file, line);
	}
	free(got);
}

#define FIT(s, width, right, want) \
	check_fit(s, width, right, want, __FILE__, __LINE__)

static void
test_utf8_fit_pad(void **state)
{
	(void)state;
	FIT("abc", 6, 0, "abc   ");
	FIT("abc", 3, 0, "abc");
	FIT("", 3, 0, "   ");
	FIT("\xc3\x89lo\xc3\xafse", 8, 0, "\xc3\x89lo\xc3\xafse  ");
	FIT("Nguy\xe1\xbb\x85n", 7, 0, "Nguy\xe1\xbb\x85n ");
	FIT("\xe6\xbc\xa2\xe5\xad\x97", 5, 0, "\xe6\xbc\xa2\xe5\xad\x97 ");
	/* Right-aligned: padding on the left. */
	FIT("abc", 6, 1, "   abc");
	FIT("42", 2, 1, "42");
	FIT("", 2, 1, "  ");
	FIT("\xc3\x89lo\xc3\xafse", 8, 1, "  \xc3\x89lo\xc3\xafse");
	FIT("\xe6\xbc\xa2\xe5\xad\x97", 6, 1, "  \xe6\xbc\xa2\xe5\xad\x97");
}

static void
test_utf8_fit_truncate(void **state)
{
	(void)state;
	FIT("abcdef", 4, 0, "abc" ELLIPSIS);
	FIT("abcdef", 5, 0, "abcd" ELLIPSIS);
	FIT("abcdef", 1, 0, ELLIPSIS);
	FIT("\xc3\x89lo\xc3\xafse", 4, 0, "\xc3\x89lo" ELLIPSIS);
	FIT("Nguy\xe1\xbb\x85n V\xc4\x83n", 6, 0, "Nguy\xe1\xbb\x85" ELLIPSIS);
	/* Wide characters: never cut in half; pad what is left. */
	FIT("\xe6\xbc\xa2\xe5\xad\x97\xe6\xbc\xa2", 5, 0,
	    "\xe6\xbc\xa2\xe5\xad\x97" ELLIPSIS);
	FIT("\xe6\xbc\xa2\xe5\xad\x97\xe6\xbc\xa2", 4, 0,
	    "\xe6\xbc\xa2" ELLIPSIS " ");
	FIT("\xe6\xbc\xa2\xe5\xad\x97", 2, 0, ELLIPSIS " ");
	/* Right-aligned and too long: cut the same way. */
	FIT("abcdef", 4, 1, "abc" ELLIPSIS);
	FIT("123456789", 5, 1, "1234" ELLIPSIS);
}

static void
test_utf8_fit_controls(void **state)
{
	(void)state;
	FIT("a\tb", 3, 0, "a?b");
	FIT("a\nb", 4, 0, "a?b ");
	FIT("\x1b[31mred", 8, 0, "?[31mred");
	FIT("x\x7fy", 3, 0, "x?y");
	FIT("\x01\x1f", 2, 0, "??");
	/* C1 controls (CSI U+009B, NEL U+0085). */
	FIT("a\xc2\x9b" "2Jb", 5, 0, "a?2Jb");
	FIT("\xc2\x85z", 2, 1, "?z");
	/* In the kept part of a cut string too. */
	FIT("\x1b\x1b\x1b\x1b\x1b\x1b", 4, 0, "???" ELLIPSIS);
}

static void
test_utf8_fit_zero(void **state)
{
	(void)state;
	FIT("abc", 0, 0, "");
	FIT("abc", 0, 1, "");
	FIT("", 0, 0, "");
	FIT("\xe6\xbc\xa2", 0, 0, "");
}

/* Every width from 0 to past the text gives exactly that many cells. */
static void
test_utf8_fit_every_width(void **state)
{
	static const char	*texts[] = {
		"abc",
		"\xc3\x89lo\xc3\xafse Nguy\xe1\xbb\x85n",
		"\xe6\xbc\xa2\xe5\xad\x97 et \xe4\xbb\xae\xe5\x90\x8d",
		"e\xcc\x81t\xc3\xa9",
		"a\tb\x1b" "c",
		"\xf0\x9f\x98\x80 ok",
	};
	char			*got;
	size_t			 i;
	int			 w, right;

	(void)state;
	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		for (w = 0; w <= utf8_width(texts[i]) + 3; w++) {
			for (right = 0; right <= 1; right++) {
				got = utf8_fit(texts[i], w, right);
				assert_non_null(got);
				if (utf8_width(got) != w) {
					print_error("utf8_fit(\"%s\", %d, %d)"
					    " = \"%s\": width %d\n",
					    esc(texts[i]), w, right, esc(got),
					    utf8_width(got));
					free(got);
					fail();
				}
				free(got);
			}
		}
	}
}

static void
test_utf8_fit_invalid(void **state)
{
	static const char	*texts[] = {
		"\xff\xfe",
		"ab\xc3",
		"\xe2\x82",
		"\xc0\xaf\xc0\xaf",
		"\xed\xa0\x80z",
		"\xf4\x90\x80\x80",
		"\x80\x80\x80\x80\x80\x80\x80\x80\x80",
		"a\xf0\x9f\x98",
	};
	char			*got;
	size_t			 i;
	int			 w;

	(void)state;
	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		for (w = 0; w <= 10; w++) {
			got = utf8_fit(texts[i], w, (int)(i % 2));
			assert_non_null(got);
			assert_int_equal(utf8_width(got), w);
			free(got);
		}
	}
}

/* A wipe clears every byte that held data since the last one: after a
 * reset or a compaction too, not only up to the current end. */
static void
test_buf_wipe_extent(void **state)
{
	struct buf	b;
	size_t		i;

	(void)state;
	buf_init(&b);
	buf_add_str(&b, "secret-secret-secret");
	buf_reset(&b);
	buf_add_str(&b, "ab");
	buf_wipe(&b);
	assert_int_equal(buf_left(&b), 0);
	for (i = 0; i < 20; i++)
		assert_int_equal(b.data[i], 0);
	/* Compaction moves unread bytes to the front. */
	buf_add_str(&b, "0123456789");
	buf_consume(&b, 8);
	buf_reserve(&b, b.size - 3);
	assert_int_equal(buf_left(&b), 2);
	buf_wipe(&b);
	for (i = 0; i < 10; i++)
		assert_int_equal(b.data[i], 0);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_init_empty),
		cmocka_unit_test(test_buf_wipe_extent),
		cmocka_unit_test(test_buf_add),
		cmocka_unit_test(test_buf_add_grows),
		cmocka_unit_test(test_buf_printf),
		cmocka_unit_test(test_buf_consume),
		cmocka_unit_test(test_buf_reserve_commit),
		cmocka_unit_test(test_buf_reclaim_front),
		cmocka_unit_test(test_buf_cstr),
		cmocka_unit_test(test_buf_u32be),
		cmocka_unit_test(test_buf_free_secret),
		cmocka_unit_test(test_utf8_width),
		cmocka_unit_test(test_utf8_decode),
		cmocka_unit_test(test_utf8_fit_pad),
		cmocka_unit_test(test_utf8_fit_truncate),
		cmocka_unit_test(test_utf8_fit_controls),
		cmocka_unit_test(test_utf8_fit_zero),
		cmocka_unit_test(test_utf8_fit_every_width),
		cmocka_unit_test(test_utf8_fit_invalid),
	};

	return cmocka_run_group_tests(tests, setup_locale, NULL);
}
