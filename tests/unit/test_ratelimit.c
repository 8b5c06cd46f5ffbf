/*
 * Unit tests for ratelimit.c: parsing "N/minute", the sliding window
 * (pure), and the shared file: N slots per window across calls, the time
 * the next slot frees, a clock set back, a torn file, an account name
 * with a slash.
 */
#include "autoconfig.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "ratelimit.h"
#include "util.h"
#include "xmalloc.h"

static void
parse__forms__n_and_window(void **state)
{
	struct error	err = ERROR_INIT;
	struct rate	r;

	(void)state;
	assert_int_equal(ratelimit_parse("30/minute", &r, &err), 0);
	assert_int_equal(r.n, 30);
	assert_int_equal(r.window, 60);
	assert_int_equal(ratelimit_parse("500/hour", &r, &err), 0);
	assert_int_equal(r.n, 500);
	assert_int_equal(r.window, 3600);
	assert_int_equal(ratelimit_parse("off", &r, &err), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(ratelimit_parse("30", &r, &err), -1);
	assert_int_equal(err.code, EX_CONFIG);
	assert_non_null(strstr(err.msg, "N/minute"));
	error_release(&err);
	assert_int_equal(ratelimit_parse("30/fortnight", &r, &err), -1);
	assert_non_null(strstr(err.msg, "fortnight"));
	error_release(&err);
	assert_int_equal(ratelimit_parse("0/minute", &r, &err), -1);
	error_release(&err);
	assert_int_equal(ratelimit_parse("-3/minute", &r, &err), -1);
	error_release(&err);
}

static void
window__full__next_free_is_oldest_plus_window(void **state)
{
	struct rate	r = { 3, 60 };
	double		t[] = { 1030.5, 1000.2, 1010.0, 900.0 };
	int		fits;
	time_t		next;
	size_t		k;

	(void)state;
	/* 900 is outside (1040 - 60, 1040]; three remain: full */
	k = ratelimit_window(t, 4, &r, 1040.0, &fits, &next);
	assert_int_equal(k, 3);
	assert_int_equal(fits, 0);
	assert_int_equal(next, 1061);	/* 1000.2 + 60, rounded up */
	assert_true(t[0] == 1000.2 && t[1] == 1010.0 && t[2] == 1030.5);
	/* 61 s on, the oldest left: one fits */
	k = ratelimit_window(t, 3, &r, 1061.0, &fits, &next);
	assert_int_equal(k, 2);
	assert_int_equal(fits, 1);
}

static void
window__clock_set_back__future_times_clamped(void **state)
{
	struct rate	r = { 2, 60 };
	double		t[] = { 5000.0, 5010.0 };
	int		fits;
	time_t		next;

	(void)state;
	/* both "in the future" at 100: clamped to now, still counted */
	assert_int_equal(ratelimit_window(t, 2, &r, 100.0, &fits, &next), 2);
	assert_int_equal(fits, 0);
	assert_int_equal(next, 160);
}

static char *
tmpdir(void)
{
	char	*d = xstrdup("/tmp/test_ratelimit.XXXXXX");

	assert_non_null(mkdtemp(d));
	return d;
}

static void
rmtree(const char *d)
{
	char	*cmd = xasprintf("rm -rf '%s'", d);

	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static void
take__n_per_window__then_refused_until_free(void **state)
{
	struct error	 err = ERROR_INIT;
	struct rate	 r = { 3, 60 };
	char		*d = tmpdir();
	time_t		 next;
	int		 i;

	(void)state;
	for (i = 0; i < 3; i++)
		assert_int_equal(ratelimit_take(d, "m365", &r, 2000.0 + i,
		    &next, &err), 1);
	assert_int_equal(ratelimit_take(d, "m365", &r, 2010.0, &next, &err),
	    0);
	assert_int_equal(next, 2060);
	/* another account has its own window */
	assert_int_equal(ratelimit_take(d, "gmail", &r, 2010.0, &next, &err),
	    1);
	/* a refusal took no slot: at 2060 the first one freed */
	assert_int_equal(ratelimit_take(d, "m365", &r, 2060.0, &next, &err),
	    1);
	assert_int_equal(ratelimit_take(d, "m365", &r, 2060.5, &next, &err),
	    0);
	assert_int_equal(next, 2061);
	rmtree(d);
	free(d);
}

/* A send counts until it ended: the provider counts at acceptance. */
static void
settle__slow_send__window_runs_from_its_end(void **state)
{
	struct error	 err = ERROR_INIT;
	struct rate	 r = { 2, 60 };
	char		*d = tmpdir();
	time_t		 next;

	(void)state;
	assert_int_equal(ratelimit_take(d, "a", &r, 1000.0, &next, &err), 1);
	assert_int_equal(ratelimit_take(d, "a", &r, 1001.0, &next, &err), 1);
	/* the first send took 5 s: it was accepted at 1005 */
	assert_int_equal(ratelimit_settle(d, "a", &r, 1000.0, 1005.0, &err),
	    0);
	/* at 1061 the second has left the window; the first not yet */
	assert_int_equal(ratelimit_take(d, "a", &r, 1061.5, &next, &err), 1);
	assert_int_equal(ratelimit_take(d, "a", &r, 1062.0, &next, &err), 0);
	assert_int_equal(next, 1065);
	rmtree(d);
	free(d);
}

static void
settle_times__match_gone_and_never_earlier(void **state)
{
	double	t[4] = { 10.0, 20.0, 30.0, 0 };

	(void)state;
	/* the one written as was (to the millisecond) moves to now */
	assert_int_equal(ratelimit_settle_times(t, 3, 20.0004, 25.0), 3);
	assert_true(t[0] == 10.0 && t[1] == 25.0 && t[2] == 30.0);
	/* gone from the file (pruned): now is counted */
	assert_int_equal(ratelimit_settle_times(t, 3, 15.0, 40.0), 4);
	assert_true(t[3] == 40.0);
	/* a clock set back never moves a time earlier */
	assert_int_equal(ratelimit_settle_times(t, 4, 30.0, 29.0), 4);
	assert_true(t[2] == 30.0);
}

static void
take__torn_file_and_odd_name__still_counts(void **state)
{
	struct error	 err = ERROR_INIT;
	struct rate	 r = { 2, 60 };
	char		*d = tmpdir(), *p;
	struct stat	 st;
	time_t		 next;
	FILE		*f;

	(void)state;
	assert_int_equal(ratelimit_take(d, "../evil/acct", &r, 100.0, &next,
	    &err), 1);
	/* the name is encoded: nothing outside rate/ */
	p = xasprintf("%s/rate/%%2E./evil", d);
	assert_int_not_equal(stat(p, &st), 0);
	free(p);
	p = xasprintf("%s/rate/%%2E.%%2Fevil%%2Facct", d);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* garbage and a torn last line are skipped; the good line counts */
	assert_non_null(f = fopen(p, "a"));
	fputs("garbage\n-5\n101.0\n10", f);
	fclose(f);
	assert_int_equal(ratelimit_take(d, "../evil/acct", &r, 102.0, &next,
	    &err), 0);
	assert_int_equal(next, 160);
	free(p);
	rmtree(d);
	free(d);
}

static void
take__no_limit__no_file(void **state)
{
	struct error	 err = ERROR_INIT;
	struct rate	 r = { 0, 60 };
	char		*d = tmpdir(), *p;
	struct stat	 st;
	time_t		 next;

	(void)state;
	assert_int_equal(ratelimit_take(d, "a", &r, 1.0, &next, &err), 1);
	p = xasprintf("%s/rate", d);
	assert_int_not_equal(stat(p, &st), 0);
	free(p);
	rmtree(d);
	free(d);
}

static void
take__unusable_dir__error_not_allowed(void **state)
{
	struct error	 err = ERROR_INIT;
	struct rate	 r = { 1, 60 };
	time_t		 next;

	(void)state;
	assert_int_equal(ratelimit_take("/nonexistent/queue", "a", &r, 1.0,
	    &next, &err), -1);
	assert_int_equal(err.code, EX_TEMPFAIL);
	assert_non_null(strstr(err.msg, "rate_limit"));
	error_release(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse__forms__n_and_window),
		cmocka_unit_test(window__full__next_free_is_oldest_plus_window),
		cmocka_unit_test(window__clock_set_back__future_times_clamped),
		cmocka_unit_test(take__n_per_window__then_refused_until_free),
		cmocka_unit_test(take__torn_file_and_odd_name__still_counts),
		cmocka_unit_test(settle__slow_send__window_runs_from_its_end),
		cmocka_unit_test(settle_times__match_gone_and_never_earlier),
		cmocka_unit_test(take__no_limit__no_file),
		cmocka_unit_test(take__unusable_dir__error_not_allowed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
