/*
 * Unit tests for attachment typing (filetype.c): libmagic's answers come
 * back in order from the child, skipped entries stay empty, the files'
 * offsets are kept, and libmagic is never left mapped in this process.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "filetype.h"
#include "util.h"

/* An unlinked temporary file holding data, at offset 0. */
static int
tmpfile_with(const void *data, size_t len)
{
	struct error	 err = ERROR_INIT;
	int		 fd = util_tmpfile(&err);

	assert_true(fd != -1);
	assert_int_equal(util_write_all(fd, data, len), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* Does /proc/self/maps name s? */
static int
mapped(const char *s)
{
	FILE	*f = fopen("/proc/self/maps", "r");
	char	 line[4096];
	int	 found = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, s) != NULL)
			found = 1;
	fclose(f);
	return found;
}

static void
filetype_guess__mixed_files__types_in_order(void **state)
{
	static const unsigned char png[] = { 0x89, 'P', 'N', 'G', '\r', '\n',
	    0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0, 1, 0, 0, 0,
	    1, 8, 2, 0, 0, 0 };
	static const char text[] = "hello\nworld\n";
	struct filetype	 ft[4];
	int		 fds[4];
	size_t		 i;

	(void)state;
	fds[0] = tmpfile_with(png, sizeof(png));
	fds[1] = -1;
	fds[2] = tmpfile_with(text, strlen(text));
	fds[3] = tmpfile_with("", 0);
	assert_int_equal(lseek(fds[2], 3, SEEK_SET), 3);
	filetype_guess(fds, 4, ft);
	assert_string_equal(ft[0].type, "image/png");
	assert_null(ft[1].type);
	assert_null(ft[1].charset);
	assert_string_equal(ft[2].type, "text/plain");
	assert_string_equal(ft[2].charset, "us-ascii");
	assert_string_equal(ft[3].type, "application/octet-stream");
	/* the offset the caller had is kept */
	assert_int_equal(lseek(fds[2], 0, SEEK_CUR), 3);
	/* typed in a child: nothing of libmagic is left in this process */
	assert_false(mapped("libmagic"));
	assert_false(mapped("magic.mgc"));
	filetype_release(ft, 4);
	for (i = 0; i < 4; i++)
		if (fds[i] != -1)
			close(fds[i]);
}

static void
filetype_guess__nothing_to_type__all_empty(void **state)
{
	struct filetype	 ft[2];
	int		 fds[2] = { -1, -1 };

	(void)state;
	memset(ft, 0xff, sizeof(ft));
	filetype_guess(fds, 2, ft);
	assert_null(ft[0].type);
	assert_null(ft[1].type);
	filetype_release(ft, 2);
}

static void
filetype_valid__table__lowercased_or_null(void **state)
{
	static const struct {
		const char	*in;
		const char	*out;
	} tab[] = {
		{ "Text/Plain", "text/plain" },
		{ "application/vnd.ms-excel", "application/vnd.ms-excel" },
		{ "image/svg+xml", "image/svg+xml" },
		{ "text", NULL },
		{ "a/b/c", NULL },
		{ "/plain", NULL },
		{ "text/", NULL },
		{ "te xt/plain", NULL },
		{ "text/pl;ain", NULL },
		{ "", NULL },
	};
	size_t	 i;
	char	*r;

	(void)state;
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		r = filetype_valid(tab[i].in);
		if (tab[i].out == NULL)
			assert_null(r);
		else
			assert_string_equal(r, tab[i].out);
		free(r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(filetype_guess__mixed_files__types_in_order),
		cmocka_unit_test(filetype_guess__nothing_to_type__all_empty),
		cmocka_unit_test(filetype_valid__table__lowercased_or_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
