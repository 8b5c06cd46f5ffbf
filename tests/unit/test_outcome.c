/*
 * Unit tests for outcome.c: the one delivery rule, outcome_decide(), as a
 * table (every class x queue on/off x recipient states x unknown), the
 * reply classification, and the bookkeeping helpers (run under valgrind
 * and ASan in CI, so the release paths are checked for leaks too).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "log.h"
#include "outcome.h"
#include "util.h"

/* Recipient states as a string: A accepted, T 4xx, P 5xx, - pending. */
struct decide_case {
	enum outcome_class cls;
	int		 exitcode;	/* the outcome's specific code */
	int		 unknown;
	int		 queue_on;
	const char	*rcpts;
	struct outcome_action want;	/* keep hold failover bounce exit */
};

static const struct decide_case cases[] = {
	/* Nothing failed. */
	{ OUTCOME_NONE, 0, 0, 1, "AA", { 0, 0, 0, 0, 0 } },
	{ OUTCOME_NONE, 0, 0, 0, "AA", { 0, 0, 0, 0, 0 } },
	{ OUTCOME_NONE, 0, 0, 1, "AP", { 0, 0, 0, 1, 0 } },
	{ OUTCOME_NONE, 0, 0, 0, "AP", { 0, 0, 0, 1, 0 } },
	{ OUTCOME_NONE, 0, 0, 1, "AT", { 1, 0, 0, 0, 0 } },
	{ OUTCOME_NONE, 0, 0, 0, "AT", { 0, 0, 0, 0, EX_TEMPFAIL } },
	{ OUTCOME_NONE, 0, 0, 1, "ATP", { 1, 0, 0, 1, 0 } },
	{ OUTCOME_NONE, 0, 0, 1, "PP", { 0, 0, 0, 1, EX_UNAVAILABLE } },
	{ OUTCOME_NONE, EX_NOUSER, 0, 0, "PP",
	    { 0, 0, 0, 1, EX_NOUSER } },
	/* Temporary trouble. */
	{ OUTCOME_RETRY, EX_TEMPFAIL, 0, 1, "--", { 1, 0, 1, 0, 0 } },
	{ OUTCOME_RETRY, EX_TEMPFAIL, 0, 0, "--",
	    { 0, 0, 1, 0, EX_TEMPFAIL } },
	{ OUTCOME_RETRY, EX_UNAVAILABLE, 0, 0, "--",
	    { 0, 0, 1, 0, EX_UNAVAILABLE } },
	{ OUTCOME_RETRY, 0, 0, 0, "--", { 0, 0, 1, 0, EX_TEMPFAIL } },
	{ OUTCOME_RETRY, EX_TEMPFAIL, 0, 1, "PT", { 1, 0, 1, 1, 0 } },
	{ OUTCOME_RETRY, EX_TEMPFAIL, 0, 1, "TT", { 1, 0, 1, 0, 0 } },
	/* Lost after the final dot: queue it, never another relay. */
	{ OUTCOME_RETRY, EX_TEMPFAIL, 1, 1, "--", { 1, 0, 0, 0, 0 } },
	{ OUTCOME_RETRY, EX_TEMPFAIL, 1, 0, "--",
	    { 0, 0, 0, 0, EX_TEMPFAIL } },
	/* A RETRY with nothing open left has nothing to keep. */
	{ OUTCOME_RETRY, EX_TEMPFAIL, 0, 1, "AP", { 0, 0, 0, 1, 0 } },
	/* This account does not match the server. */
	{ OUTCOME_SETUP, EX_NOPERM, 0, 1, "--", { 1, 1, 1, 0, EX_NOPERM } },
	{ OUTCOME_SETUP, EX_NOPERM, 0, 0, "--", { 0, 0, 1, 0, EX_NOPERM } },
	{ OUTCOME_SETUP, EX_NOHOST, 0, 1, "--", { 1, 1, 1, 0, EX_NOHOST } },
	{ OUTCOME_SETUP, EX_UNAVAILABLE, 0, 1, "--",
	    { 1, 1, 1, 0, EX_UNAVAILABLE } },
	{ OUTCOME_SETUP, 0, 0, 1, "--", { 1, 1, 1, 0, EX_CONFIG } },
	{ OUTCOME_SETUP, EX_NOPERM, 0, 1, "P-", { 1, 1, 1, 1, EX_NOPERM } },
	/* Refused for good. */
	{ OUTCOME_PERMANENT, EX_NOUSER, 0, 1, "PP",
	    { 0, 0, 0, 1, EX_NOUSER } },
	{ OUTCOME_PERMANENT, EX_NOUSER, 0, 0, "PP",
	    { 0, 0, 0, 1, EX_NOUSER } },
	{ OUTCOME_PERMANENT, EX_DATAERR, 0, 1, "--",
	    { 0, 0, 0, 1, EX_DATAERR } },
	{ OUTCOME_PERMANENT, 0, 0, 1, "--",
	    { 0, 0, 0, 1, EX_UNAVAILABLE } },
	/* No class-specific code and no recipient: nothing to do. */
	{ OUTCOME_NONE, 0, 0, 1, "", { 0, 0, 0, 0, 0 } },
};

static void
build(struct outcome *o, const struct decide_case *c)
{
	size_t	i, n = strlen(c->rcpts);

	outcome_init(o, n);
	for (i = 0; i < n; i++)
		switch (c->rcpts[i]) {
		case 'A':
			outcome_set_rcpt(o, i, RCPT_ACCEPTED, 250, "2.0.0",
			    "ok");
			break;
		case 'T':
			outcome_set_rcpt(o, i, RCPT_TEMPFAIL, 451, "4.3.0",
			    "later");
			break;
		case 'P':
			outcome_set_rcpt(o, i, RCPT_PERMFAIL, 550, "5.1.1",
			    "no such user");
			break;
		default:
			break;
		}
	if (c->cls != OUTCOME_NONE || c->exitcode != 0)
		outcome_fail(o, c->cls, STEP_RCPT, c->exitcode, 0, "reply",
		    "hint");
	o->unknown = c->unknown;
}

static void
decide__table(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct decide_case *c = &cases[i];
		struct outcome o;
		struct outcome_action a;

		build(&o, c);
		outcome_decide(&o, c->queue_on, &a);
		if (a.keep != c->want.keep || a.hold != c->want.hold ||
		    a.failover != c->want.failover ||
		    a.bounce != c->want.bounce ||
		    a.exitcode != c->want.exitcode) {
			print_error("case %zu (%s q=%d \"%s\" unknown=%d): got "
			    "keep=%d hold=%d failover=%d bounce=%d exit=%d\n",
			    i, outcome_class_name(c->cls), c->queue_on,
			    c->rcpts, c->unknown, a.keep, a.hold, a.failover,
			    a.bounce, a.exitcode);
			outcome_release(&o);
			fail();
		}
		outcome_release(&o);
	}
}

/* Every class x queue x unknown: the invariants that hold whatever the
 * recipient states are. */
static void
decide__invariants(void **state)
{
	static const char *const sets[] = { "", "-", "A", "T", "P", "AT",
	    "AP", "TP", "ATP", "--", "AA", "PP" };
	int	cls, q, unk;
	size_t	s;

	(void)state;
	for (cls = OUTCOME_NONE; cls <= OUTCOME_PERMANENT; cls++)
	for (q = 0; q <= 1; q++)
	for (unk = 0; unk <= 1; unk++)
	for (s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
		struct decide_case c = { (enum outcome_class)cls, 0, unk, q,
		    sets[s], { 0, 0, 0, 0, 0 } };
		struct outcome o;
		struct outcome_action a;

		build(&o, &c);
		outcome_decide(&o, q, &a);
		/* Nothing is kept without a queue; held implies kept. */
		if (!q)
			assert_int_equal(a.keep, 0);
		if (a.hold)
			assert_int_equal(a.keep, 1);
		/* Only SETUP holds; PERMANENT never keeps nor fails over. */
		if (cls != OUTCOME_SETUP)
			assert_int_equal(a.hold, 0);
		if (cls == OUTCOME_PERMANENT) {
			assert_int_equal(a.keep, 0);
			assert_int_equal(a.failover, 0);
		}
		/* An outcome lost after the dot never goes elsewhere. */
		if (unk)
			assert_int_equal(a.failover, 0);
		/* A bounce only when someone was refused or PERMANENT. */
		if (a.bounce)
			assert_true(strchr(sets[s], 'P') != NULL ||
			    cls == OUTCOME_PERMANENT);
		/* SETUP always exits non-zero. */
		if (cls == OUTCOME_SETUP)
			assert_int_not_equal(a.exitcode, 0);
		outcome_release(&o);
	}
}

/* Failover: which failures are worth the same transaction elsewhere. */
static void
failover_worth__table(void **state)
{
	static const struct {
		enum outcome_class cls;
		enum outcome_step step;
		int		 unknown;
		const char	*rcpts;
		int		 want;
	} c[] = {
		/* the relay cannot be reached or will not talk now */
		{ OUTCOME_RETRY, STEP_CONNECT, 0, "-", 1 },
		{ OUTCOME_RETRY, STEP_GREETING, 0, "-", 1 },
		{ OUTCOME_RETRY, STEP_EHLO, 0, "--", 1 },
		/* a 4xx before the data */
		{ OUTCOME_RETRY, STEP_MAIL, 0, "-", 1 },
		{ OUTCOME_RETRY, STEP_RCPT, 0, "TT", 1 },
		{ OUTCOME_RETRY, STEP_DATA, 0, "-", 1 },
		/* TLS or AUTH of that relay, the account's secret */
		{ OUTCOME_SETUP, STEP_STARTTLS, 0, "-", 1 },
		{ OUTCOME_SETUP, STEP_CONNECT, 0, "-", 1 },
		{ OUTCOME_SETUP, STEP_AUTH, 0, "-", 1 },
		{ OUTCOME_SETUP, STEP_NONE, 0, "-", 1 },
		{ OUTCOME_RETRY, STEP_NONE, 0, "-", 1 },
		/* some refused for good, the rest still open */
		{ OUTCOME_RETRY, STEP_CONNECT, 0, "P-", 1 },
		/* after the data: the relay may have it */
		{ OUTCOME_RETRY, STEP_BODY, 0, "-", 0 },
		{ OUTCOME_RETRY, STEP_DOT, 0, "-", 0 },
		{ OUTCOME_RETRY, STEP_DOT, 1, "-", 0 },
		{ OUTCOME_RETRY, STEP_CONNECT, 1, "-", 0 },
		/* refused for good: never elsewhere */
		{ OUTCOME_PERMANENT, STEP_GREETING, 0, "-", 0 },
		{ OUTCOME_PERMANENT, STEP_MAIL, 0, "-", 0 },
		{ OUTCOME_PERMANENT, STEP_RCPT, 0, "PP", 0 },
		{ OUTCOME_PERMANENT, STEP_DOT, 0, "-", 0 },
		/* nothing failed, nothing open, or a local mailbox */
		{ OUTCOME_NONE, STEP_NONE, 0, "AT", 0 },
		{ OUTCOME_RETRY, STEP_CONNECT, 0, "AP", 0 },
		{ OUTCOME_RETRY, STEP_CONNECT, 0, "", 0 },
		{ OUTCOME_RETRY, STEP_LOCAL, 0, "-", 0 },
		{ OUTCOME_SETUP, STEP_LOCAL, 0, "-", 0 },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct decide_case dc = { c[i].cls, 0, c[i].unknown, 1,
		    c[i].rcpts, { 0, 0, 0, 0, 0 } };
		struct outcome_action a;
		struct outcome o;

		build(&o, &dc);
		o.step = c[i].step;
		if (outcome_failover_worth(&o) != c[i].want) {
			print_error("case %zu (%s at %s, \"%s\", unknown=%d): "
			    "want %d\n", i, outcome_class_name(c[i].cls),
			    outcome_step_name(c[i].step), c[i].rcpts,
			    c[i].unknown, c[i].want);
			outcome_release(&o);
			fail();
		}
		/* outcome_decide() says the same */
		outcome_decide(&o, 1, &a);
		assert_int_equal(a.failover, c[i].want);
		outcome_release(&o);
	}
}

/* A full rate_limit window: the mail waits for its own relay's slot. */
static void
failover_worth__rate_limited__never(void **state)
{
	struct decide_case dc = { OUTCOME_RETRY, 0, 0, 1, "--",
	    { 0, 0, 0, 0, 0 } };
	struct outcome_action a;
	struct outcome o;

	(void)state;
	build(&o, &dc);
	o.step = STEP_NONE;
	assert_int_equal(outcome_failover_worth(&o), 1);	/* a secret */
	o.limited = o.n;
	o.not_before = 1000;
	assert_int_equal(outcome_failover_worth(&o), 0);
	outcome_decide(&o, 1, &a);
	assert_int_equal(a.failover, 0);
	assert_int_equal(a.keep, 1);		/* kept for the next slot */
	assert_int_equal(a.hold, 0);
	assert_int_equal(a.exitcode, 0);
	outcome_decide(&o, 0, &a);
	assert_int_equal(a.exitcode, EX_TEMPFAIL);	/* queue off */
	outcome_release(&o);
}

static void
class_of_reply__codes(void **state)
{
	(void)state;
	assert_int_equal(outcome_class_of_reply(STEP_RCPT, 250), OUTCOME_NONE);
	assert_int_equal(outcome_class_of_reply(STEP_DATA, 354), OUTCOME_NONE);
	assert_int_equal(outcome_class_of_reply(STEP_RCPT, 451), OUTCOME_RETRY);
	assert_int_equal(outcome_class_of_reply(STEP_AUTH, 454), OUTCOME_RETRY);
	assert_int_equal(outcome_class_of_reply(STEP_RCPT, 550),
	    OUTCOME_PERMANENT);
	assert_int_equal(outcome_class_of_reply(STEP_DOT, 554),
	    OUTCOME_PERMANENT);
	assert_int_equal(outcome_class_of_reply(STEP_AUTH, 535), OUTCOME_SETUP);
	assert_int_equal(outcome_class_of_reply(STEP_STARTTLS, 502),
	    OUTCOME_SETUP);
	assert_int_equal(outcome_class_of_reply(STEP_DOT, 0), OUTCOME_RETRY);
	assert_int_equal(outcome_class_of_reply(STEP_MAIL, 999), OUTCOME_RETRY);
}

static void
helpers__count_reset_release(void **state)
{
	struct outcome o;

	(void)state;
	outcome_init(&o, 3);
	outcome_set_rcpt(&o, 0, RCPT_ACCEPTED, 250, "2.1.5", "ok");
	outcome_set_rcpt(&o, 1, RCPT_PERMFAIL, 550,
	    "5.1.1-far-too-long-an-enhanced-code", "gone");
	outcome_set_rcpt(&o, 1, RCPT_PERMFAIL, 551, "5.1.6", "moved");
	outcome_set_rcpt(&o, 7, RCPT_ACCEPTED, 250, NULL, NULL);	/* ignored */
	assert_int_equal(outcome_count(&o, RCPT_ACCEPTED), 1);
	assert_int_equal(outcome_count(&o, RCPT_PERMFAIL), 1);
	assert_int_equal(outcome_count(&o, RCPT_PENDING), 1);
	assert_int_equal(o.rcpt[1].code, 551);
	assert_string_equal(o.rcpt[1].enhanced, "5.1.6");
	assert_string_equal(o.rcpt[1].reply, "moved");
	outcome_fail(&o, OUTCOME_SETUP, STEP_AUTH, EX_NOPERM, 535, "no",
	    "check user");
	outcome_fail(&o, OUTCOME_SETUP, STEP_AUTH, EX_NOPERM, 535, "denied",
	    "check user and password");
	assert_string_equal(o.reply, "denied");
	assert_string_equal(o.hint, "check user and password");
	outcome_reset(&o);
	assert_int_equal(o.n, 3);
	assert_int_equal(outcome_count(&o, RCPT_PENDING), 3);
	assert_int_equal(o.class, OUTCOME_NONE);
	assert_null(o.reply);
	assert_null(o.hint);
	outcome_release(&o);
	assert_int_equal(o.n, 0);
	assert_null(o.rcpt);
	outcome_release(&o);	/* twice is harmless */
}

static void
names__all(void **state)
{
	(void)state;
	assert_string_equal(outcome_class_name(OUTCOME_NONE), "none");
	assert_string_equal(outcome_class_name(OUTCOME_RETRY), "retry");
	assert_string_equal(outcome_class_name(OUTCOME_SETUP), "setup");
	assert_string_equal(outcome_class_name(OUTCOME_PERMANENT),
	    "permanent");
	assert_string_equal(outcome_step_name(STEP_NONE), "none");
	assert_string_equal(outcome_step_name(STEP_STARTTLS), "starttls");
	assert_string_equal(outcome_step_name(STEP_DOT), "dot");
	assert_string_equal(outcome_step_name(STEP_LOCAL), "local");
	assert_string_equal(outcome_step_name((enum outcome_step)99),
	    "unknown");
}

static void
enhanced__cases(void **state)
{
	static const struct {
		const char *text, *want;
	} c[] = {
		{ "5.1.1 no such user", "5.1.1" },
		{ "4.7.0", "4.7.0" },
		{ "2.0.0 Ok: queued as X", "2.0.0" },
		{ "5.123.456 odd but legal", "5.123.456" },
		{ "3.1.1 wrong class", "" },
		{ "5.1 short", "" },
		{ "5.1.1234 long detail", "" },
		{ "5.1.1x glued", "" },
		{ "OK queued", "" },
		{ "", "" },
	};
	char	dst[16];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		assert_int_equal(outcome_enhanced(c[i].text, dst),
		    c[i].want[0] != '\0');
		assert_string_equal(dst, c[i].want);
	}
	assert_int_equal(outcome_enhanced(NULL, dst), 0);
	assert_string_equal(dst, "");
}

/* The log line: msmtp's field names, the final reply, the null sender. */
static void
log_line__fields__msmtp_names(void **state)
{
	struct outcome		 o;
	struct log_attempt	 a;
	struct strlist		 rcpts = STRLIST_INIT;
	char			*line;

	(void)state;
	strlist_add(&rcpts, "a@example.com");
	strlist_add(&rcpts, "b,x@example.com");
	outcome_init(&o, 2);
	outcome_set_rcpt(&o, 0, RCPT_ACCEPTED, 250, "2.1.5", "ok");
	outcome_set_rcpt(&o, 1, RCPT_PERMFAIL, 550, "5.1.1", "no");
	memset(&a, 0, sizeof(a));
	a.queue_id = "Q1";
	a.account = "work";
	a.host = "smtp.example.org";
	a.tls = 1;
	a.auth = 1;
	a.user = "jane";
	a.from = "";
	a.rcpts = &rcpts;
	a.res = &o;
	a.size = 1234;
	a.smtp_code = 250;
	a.smtp_text = "2.0.0 Ok: queued as 4F2C81234AB";
	a.outcome = "partial";
	a.exit_code = 0;
	line = log_attempt_line(&a);
	assert_string_equal(line, "delivery id=Q1 account=\"work\" "
	    "host=smtp.example.org tls=on auth=on user=\"jane\" from=<> "
	    "recipients=a@example.com,b_x@example.com "
	    "states=accepted:250,rejected:550 mailsize=1234 smtpstatus=250 "
	    "smtpmsg=\"2.0.0 Ok: queued as 4F2C81234AB\" outcome=partial "
	    "exitcode=EX_OK");
	free(line);
	a.exit_code = 77;
	a.res = NULL;
	line = log_attempt_line(&a);
	assert_non_null(strstr(line, " states=-,- "));
	assert_non_null(strstr(line, " exitcode=EX_NOPERM"));
	free(line);
	outcome_release(&o);
	strlist_release(&rcpts);
}

/* The one --json writer of recipients: states, codes, escapes, failure. */
static void
json__states_escapes_failure__valid(void **state)
{
	struct outcome	 o;
	struct strlist	 rcpts = STRLIST_INIT;
	struct buf	 b = BUF_INIT;

	(void)state;
	strlist_add(&rcpts, "a@example.com");
	strlist_add(&rcpts, "b@example.com");
	strlist_add(&rcpts, "c\"@example.com");
	outcome_init(&o, 3);
	outcome_set_rcpt(&o, 0, RCPT_ACCEPTED, 250, "", "ok");
	outcome_set_rcpt(&o, 1, RCPT_PERMFAIL, 550, "5.1.1", "5.1.1 no\033[2J");
	outcome_set_rcpt(&o, 2, RCPT_TEMPFAIL, 451, "4.2.0", NULL);
	outcome_json(&b, &o, &rcpts, "queued");
	buf_addch(&b, '\0');
	assert_string_equal(b.data, "\"recipients\": ["
	    "{\"address\": \"a@example.com\", \"status\": \"delivered\", "
	    "\"code\": 250, \"enhanced\": null, \"text\": \"ok\"}, "
	    "{\"address\": \"b@example.com\", \"status\": \"refused\", "
	    "\"code\": 550, \"enhanced\": \"5.1.1\", "
	    "\"text\": \"5.1.1 no\\u001b[2J\"}, "
	    "{\"address\": \"c\\\"@example.com\", \"status\": \"queued\", "
	    "\"code\": 451, \"enhanced\": \"4.2.0\", \"text\": null}]");
	b.len = 0;
	outcome_fail(&o, OUTCOME_RETRY, STEP_CONNECT, 75, 0, "refused", NULL);
	outcome_json(&b, &o, &rcpts, "held");
	buf_addch(&b, '\0');
	assert_non_null(strstr(b.data, "}], \"failure\": {\"class\": "
	    "\"retry\", \"step\": \"connect\", \"code\": 0, \"exit\": 75, "
	    "\"hint\": null}"));
	assert_int_equal(b.data[strlen(b.data) - 1], '}');
	buf_release(&b);
	outcome_release(&o);
	strlist_release(&rcpts);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decide__table),
		cmocka_unit_test(decide__invariants),
		cmocka_unit_test(failover_worth__table),
		cmocka_unit_test(failover_worth__rate_limited__never),
		cmocka_unit_test(class_of_reply__codes),
		cmocka_unit_test(enhanced__cases),
		cmocka_unit_test(log_line__fields__msmtp_names),
		cmocka_unit_test(helpers__count_reset_release),
		cmocka_unit_test(names__all),
		cmocka_unit_test(json__states_escapes_failure__valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
