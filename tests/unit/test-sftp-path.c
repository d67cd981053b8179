/* Unit tests of sftp_path_name (sshd/sftp.c): the one function between a
 * client's path and the staff member's folder. A path is the folder, or
 * one of its files, or nothing. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sftp.h"

/* The name path designates, or NULL when it is refused. */
static const char *
path_name(const char *path)
{
	static char	name[NAME_MAX + 1];

	memset(name, 'X', sizeof name);
	if (sftp_path_name(path, name, sizeof name) == -1)
		return NULL;
	return name;
}

/* A file of the folder, however the client writes it. */
static void
test_path_file(void **unused)
{
	(void)unused;
	assert_string_equal(path_name("/a.pdf"), "a.pdf");
	assert_string_equal(path_name("a.pdf"), "a.pdf");
	assert_string_equal(path_name("./a.pdf"), "a.pdf");
	assert_string_equal(path_name("//a.pdf"), "a.pdf");
	assert_string_equal(path_name("/./a.pdf"), "a.pdf");
	assert_string_equal(path_name(".//./a.pdf"), "a.pdf");
	assert_string_equal(path_name("/Liste élèves CM2.pdf"),
	    "Liste élèves CM2.pdf");
	assert_string_equal(path_name("a..b.pdf"), "a..b.pdf");
}

/* The folder itself, which is both "/" and the current directory. */
static void
test_path_folder(void **unused)
{
	(void)unused;
	assert_string_equal(path_name("/"), "");
	assert_string_equal(path_name(""), "");
	assert_string_equal(path_name("."), "");
	assert_string_equal(path_name("//"), "");
	assert_string_equal(path_name("/."), "");
	assert_string_equal(path_name("./"), "");
}

/* Nothing above the folder. */
static void
test_path_above(void **unused)
{
	(void)unused;
	assert_null(path_name(".."));
	assert_null(path_name("/.."));
	assert_null(path_name("../x"));
	assert_null(path_name("/../etc/passwd"));
	assert_null(path_name("/../../etc/passwd"));
	assert_null(path_name("./../x"));
	assert_null(path_name("/a/../b"));
	assert_null(path_name("a/.."));
}

/* Nothing below it either, and no hidden file. */
static void
test_path_below(void **unused)
{
	(void)unused;
	assert_null(path_name("a/b"));
	assert_null(path_name("/a/b"));
	assert_null(path_name("a/"));
	assert_null(path_name("a//b"));
	assert_null(path_name("/.ssh"));
	assert_null(path_name(".profile"));
}

/* No name a person could not have typed, none a file cannot have. */
static void
test_path_bytes(void **unused)
{
	char	long_name[302];

	(void)unused;
	assert_null(path_name("a\nb.pdf"));
	assert_null(path_name("\x1b[2Ja.pdf"));
	assert_null(path_name("a\x7f.pdf"));
	assert_null(path_name("a\xff.pdf"));
	assert_null(path_name(NULL));
	memset(long_name, 'a', 300);
	long_name[0] = '/';
	long_name[300] = '\0';
	assert_null(path_name(long_name));
	/* NAME_MAX bytes is the longest name a file can have. */
	memset(long_name, 'a', NAME_MAX);
	long_name[NAME_MAX] = '\0';
	assert_string_equal(path_name(long_name), long_name);
	long_name[NAME_MAX] = 'a';
	long_name[NAME_MAX + 1] = '\0';
	assert_null(path_name(long_name));
}

/* The caller's buffer bounds the name. */
static void
test_path_buffer(void **unused)
{
	char	out[5];

	(void)unused;
	assert_int_equal(sftp_path_name("/a.pdf", out, sizeof out), -1);
	assert_int_equal(sftp_path_name("/a.pd", out, sizeof out), 0);
	assert_string_equal(out, "a.pd");
	assert_int_equal(sftp_path_name("/", out, 1), 0);
	assert_string_equal(out, "");
	assert_int_equal(sftp_path_name("/", out, 0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_file),
		cmocka_unit_test(test_path_folder),
		cmocka_unit_test(test_path_above),
		cmocka_unit_test(test_path_below),
		cmocka_unit_test(test_path_bytes),
		cmocka_unit_test(test_path_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
