/*
 * Unit tests for route.c: which account a recipient's domain routes to
 * (first match wins, fnmatch globs, case-insensitive), and the split of
 * a recipient list into one group per account.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"
#include "route.h"
#include "util.h"

/* Three accounts for the routes to point at (only their addresses). */
static struct account corp, bulk, dflt;

static void
table(struct route_table *t)
{
	memset(t, 0, sizeof(*t));
	route_table_add(t, "corp.example", "corp", "t.conf", 1);
	route_table_add(t, "*.corp.example", "corp", "t.conf", 2);
	route_table_add(t, "*.example", "bulk", "t.conf", 3);
	route_table_add(t, "\\[192.0.2.*]", "bulk", "t.conf", 4);
	t->v[0].acct = t->v[1].acct = &corp;
	t->v[2].acct = t->v[3].acct = &bulk;
}

static void
route_match__domains__first_match_wins(void **state)
{
	static const struct {
		const char	*rcpt;
		int		 want;	/* route index, -1: none */
	} c[] = {
		{ "jane@corp.example", 0 },
		{ "jane@CORP.Example", 0 },		/* case-insensitive */
		{ "jane@mx.corp.example", 1 },
		{ "jane@a.b.corp.example", 1 },		/* '*' spans dots */
		{ "jane@other.example", 2 },
		{ "jane@corp.example.org", -1 },	/* whole domain only */
		{ "jane@example", -1 },
		{ "\"a@b\"@other.example", 2 },		/* the last '@' */
		{ "jane@[192.0.2.7]", 3 },
		{ "jane", -1 },				/* no domain */
		{ "jane@", -1 },
	};
	struct route_table	 t;
	const struct route	*r;
	size_t			 i;

	(void)state;
	table(&t);
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		r = route_match(&t, c[i].rcpt);
		if ((r == NULL ? -1 : (int)(r - t.v)) != c[i].want)
			fail_msg("%s: route %d, want %d", c[i].rcpt,
			    r == NULL ? -1 : (int)(r - t.v), c[i].want);
	}
	assert_null(route_match(NULL, "jane@corp.example"));
	route_table_release(&t);
}

static void
route_split__mixed__one_group_per_account(void **state)
{
	struct route_table	 t;
	struct strlist		 rcpts = STRLIST_INIT;
	const struct account	*acct[5];
	size_t			 group[5], ng;

	(void)state;
	table(&t);
	strlist_add(&rcpts, "a@elsewhere.org");
	strlist_add(&rcpts, "b@corp.example");
	strlist_add(&rcpts, "c@x.example");
	strlist_add(&rcpts, "d@mx.corp.example");
	strlist_add(&rcpts, "e@elsewhere.net");
	ng = route_split(&t, &dflt, &rcpts, group, acct);
	assert_int_equal(ng, 3);
	/* groups in order of first appearance */
	assert_ptr_equal(acct[0], &dflt);
	assert_ptr_equal(acct[1], &corp);
	assert_ptr_equal(acct[2], &bulk);
	assert_int_equal(group[0], 0);
	assert_int_equal(group[1], 1);
	assert_int_equal(group[2], 2);
	assert_int_equal(group[3], 1);
	assert_int_equal(group[4], 0);
	/* no routes: everybody through the default */
	ng = route_split(NULL, &dflt, &rcpts, group, acct);
	assert_int_equal(ng, 1);
	assert_ptr_equal(acct[0], &dflt);
	assert_int_equal(group[4], 0);
	strlist_release(&rcpts);
	route_table_release(&t);
}

static void
route_table__prepend_and_patterns(void **state)
{
	struct route_table	 a = ROUTE_TABLE_INIT, b = ROUTE_TABLE_INIT;

	(void)state;
	route_table_add(&a, "*.sys.example", "sys", "/etc/postie.conf", 1);
	route_table_add(&b, "*.example", "user", "~/.postierc", 4);
	route_table_prepend(&a, &b);
	assert_int_equal(a.n, 2);
	assert_int_equal(b.n, 0);
	assert_null(b.v);
	assert_string_equal(a.v[0].account, "user");
	assert_string_equal(a.v[1].account, "sys");
	assert_string_equal(route_match(&a, "x@h.sys.example")->account,
	    "user");
	route_table_prepend(&a, &b);	/* empty: nothing changes */
	assert_int_equal(a.n, 2);
	route_table_release(&a);
	route_table_release(&a);	/* twice is harmless */

	assert_true(route_valid_pattern("*.example.com"));
	assert_true(route_valid_pattern("\\[192.0.2.*]"));
	assert_false(route_valid_pattern(""));
	assert_false(route_valid_pattern("a b"));
	assert_false(route_valid_pattern("user@example.com"));
	assert_false(route_valid_pattern("x\x7f"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(route_match__domains__first_match_wins),
		cmocka_unit_test(route_split__mixed__one_group_per_account),
		cmocka_unit_test(route_table__prepend_and_patterns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
