/*
 * Unit tests of the drop directory's header parser: the accepted form,
 * and every way a hostile file can get it wrong.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sysexits.h>
#include <stdlib.h>
#include <string.h>

#include "drop.h"
#include "error.h"
#include "util.h"

static void
drop_header_parse__valid__returns_envelope_and_size(void **state)
{
	static const char	 h[] = "postie-drop 1\nsize 42\n"
	    "sender <a@example.org>\nrcpt <b@example.com>\n"
	    "rcpt <\"x y\"@example.com>\n\n";
	struct strlist		 rcpts = STRLIST_INIT;
	struct error		 err = ERROR_INIT;
	char			*sender = NULL;
	off_t			 size = 0;

	(void)state;
	assert_int_equal(drop_header_parse(h, strlen(h), &sender, &rcpts,
	    &size, &err), 0);
	assert_string_equal(sender, "a@example.org");
	assert_int_equal(rcpts.n, 2);
	assert_string_equal(rcpts.v[0], "b@example.com");
	assert_string_equal(rcpts.v[1], "\"x y\"@example.com");
	assert_int_equal(size, 42);
	free(sender);
	strlist_release(&rcpts);
}

static void
drop_header_parse__null_sender__returns_empty(void **state)
{
	static const char	 h[] = "postie-drop 1\nsize 1\nsender <>\n"
	    "rcpt <b@example.com>\n\n";
	struct strlist		 rcpts = STRLIST_INIT;
	struct error		 err = ERROR_INIT;
	char			*sender = NULL;
	off_t			 size = 0;

	(void)state;
	assert_int_equal(drop_header_parse(h, strlen(h), &sender, &rcpts,
	    &size, &err), 0);
	assert_string_equal(sender, "");
	free(sender);
	strlist_release(&rcpts);
}

static void
drop_header_parse__hostile__refused_with_dataerr(void **state)
{
	static const char *const bad[] = {
		"",
		"\n",
		"postie-drop 2\nsize 1\nsender <>\nrcpt <b@example.com>\n\n",
		"postie-drop 1 \nsize 1\nsender <>\nrcpt <b@example.com>\n\n",
		"postie-drop 1\nsize 0\nsender <>\nrcpt <b@example.com>\n\n",
		"postie-drop 1\nsize -1\nsender <>\nrcpt <b@example.com>\n\n",
		"postie-drop 1\nsize 1x\nsender <>\nrcpt <b@example.com>\n\n",
		"postie-drop 1\nsize 9999999999999999\nsender <>\n"
		    "rcpt <b@example.com>\n\n",
		"postie-drop 1\nsize 1\nsender <>\n\n",
		"postie-drop 1\nsize 1\nsender <>\nrcpt <b@example.com>\n",
		"postie-drop 1\nsize 1\nsender\nrcpt <b@example.com>\n\n",
		"postie-drop 1\nsize 1\nsender a@example.org\n"
		    "rcpt <b@example.com>\n\n",
		"postie-drop 1\nsize 1\nsender <>\nrcpt <>\n\n",
		"postie-drop 1\nsize 1\nsender <>\nrcpt <-oQ/tmp/x@example.com>\n\n",
		"postie-drop 1\nsize 1\nsender <-bv>\nrcpt <b@example.com>\n\n",
		"postie-drop 1\nsize 1\nsender <>\nrcpt <b@example.com>\r\n\n",
		"postie-drop 1\nsize 1\nsender <>\n"
		    "rcpt <b@example.com\rRCPT TO:<e@example.net>>\n\n",
		"postie-drop 1\nsize 1\nsender <>\nrcpt <b@example.com>\n"
		    "RCPT TO:<e@example.net>\n\n",
		"postie-drop 1\nsize 1\nsender <>\nrcpt <b@example.com> x\n\n",
		"postie-drop 1\nsize 1\nsender <>\nrcpt <b@example.com>\n\nx",
		"postie-drop 1\nsize 1\nsender <>\nrcpt <b@exa mple.com>\n\n",
		"postie-drop 1\nsize 1\nsender <>\nrcpt <bare>\n\n",
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct strlist	 rcpts = STRLIST_INIT;
		struct error	 err = ERROR_INIT;
		char		*sender = NULL;
		off_t		 size = 0;

		if (drop_header_parse(bad[i], strlen(bad[i]), &sender,
		    &rcpts, &size, &err) != -1)
			fail_msg("case %zu accepted: %s", i, bad[i]);
		assert_int_equal(err.code, EX_DATAERR);
		assert_null(sender);
		assert_int_equal(rcpts.n, 0);
		error_release(&err);
	}
}

static void
drop_header_parse__nul_inside__refused(void **state)
{
	static const char	 h[] = "postie-drop 1\nsize 1\nsender <>\n"
	    "rcpt <b@exa\0mple.com>\n\n";
	struct strlist		 rcpts = STRLIST_INIT;
	struct error		 err = ERROR_INIT;
	char			*sender = NULL;
	off_t			 size = 0;

	(void)state;
	assert_int_equal(drop_header_parse(h, sizeof(h) - 1, &sender, &rcpts,
	    &size, &err), -1);
	assert_int_equal(err.code, EX_DATAERR);
	error_release(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    drop_header_parse__valid__returns_envelope_and_size),
		cmocka_unit_test(
		    drop_header_parse__null_sender__returns_empty),
		cmocka_unit_test(
		    drop_header_parse__hostile__refused_with_dataerr),
		cmocka_unit_test(drop_header_parse__nul_inside__refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
