/*
 * Unit tests of bs.c's one rule for the reply to a final dot: what a
 * delivery report (deliver.h) becomes on the SMTP side of -bs.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "aliases.h"
#include "bs.h"
#include "config.h"
#include "message.h"
#include "deliver.h"
#include "error.h"
#include "outcome.h"
#include "util.h"
#include "xmalloc.h"

struct rcpt {
	enum rcpt_state	 state;
	const char	*enhanced;
	const char	*reply;
};

static const struct {
	const char		*name;
	enum deliver_status	 status;
	int			 rv;
	const char		*queue_id;
	const char		*server_id;
	const char		*errmsg;
	struct rcpt		 r[2];
	size_t			 n;
	int			 code;
	const char		*enhanced;
	const char		*text;
} cases[] = {
	{ "sent, relay id", DLV_SENT, 0, NULL, "4Q1x", NULL,
	  { { RCPT_ACCEPTED, "", NULL } }, 1,
	  250, "2.0.0", "Ok: queued as 4Q1x" },
	{ "sent, no relay id", DLV_SENT, 0, NULL, NULL, NULL,
	  { { RCPT_ACCEPTED, "", NULL } }, 1,
	  250, "2.0.0", "Ok: queued as GEN" },
	{ "queued", DLV_QUEUED, 0, "Q123", NULL, NULL,
	  { { RCPT_TEMPFAIL, "4.2.1", "4.2.1 later" } }, 1,
	  250, "2.0.0", "Ok: queued as Q123" },
	{ "held (set-up failure)", DLV_HELD, -1, "Q9", NULL,
	  "NOT SENT: authentication failed",
	  { { RCPT_PENDING, "", NULL } }, 1,
	  250, "2.0.0", "Ok: queued as Q9 (held: the relay or the account is "
	  "set up wrong, see mailq)" },
	{ "refused", DLV_REFUSED, -1, NULL, NULL, "refused by the server",
	  { { RCPT_PERMFAIL, "5.1.1", "5.1.1 user unknown" } }, 1,
	  550, "5.1.1", "refused: user unknown" },
	{ "refused, other code", DLV_REFUSED, -1, NULL, NULL, "x",
	  { { RCPT_PERMFAIL, "5.7.1", "5.7.1 relaying\r\ndenied" } }, 1,
	  550, "5.7.1", "refused: relaying\\x0d\\x0adenied" },
	{ "partial", DLV_PARTIAL, 0, NULL, "id", NULL,
	  { { RCPT_ACCEPTED, "", NULL },
	    { RCPT_PERMFAIL, "5.1.1", "5.1.1 <b@x>: unknown" } }, 2,
	  550, "5.1.1", "1 of 2 recipients not delivered: <b@x>: unknown" },
	{ "failed, nothing kept", DLV_FAILED, -1, NULL, NULL,
	  "connection to 127.0.0.1:1 refused",
	  { { RCPT_PENDING, "", NULL } }, 1,
	  451, "4.3.0", "connection to 127.0.0.1:1 refused" },
	{ "failed without a message", DLV_FAILED, -1, NULL, NULL, NULL,
	  { { RCPT_PENDING, "", NULL } }, 1,
	  451, "4.3.0", "unknown error" },
};

static void
bs_reply_for__table__matches(void **state)
{
	struct deliver_report	 rep;
	struct error		 e = ERROR_INIT;
	const char		*enh;
	char			*text;
	size_t			 i, k;
	int			 code;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		deliver_report_init(&rep);
		rep.status = cases[i].status;
		if (cases[i].queue_id != NULL)
			rep.queue_id = xstrdup(cases[i].queue_id);
		outcome_init(&rep.out, cases[i].n);
		for (k = 0; k < cases[i].n; k++)
			outcome_set_rcpt(&rep.out, k, cases[i].r[k].state, 0,
			    cases[i].r[k].enhanced, cases[i].r[k].reply);
		if (cases[i].server_id != NULL)
			rep.out.server_id = xstrdup(cases[i].server_id);
		if (cases[i].errmsg != NULL)
			error_set(&e, EX_UNAVAILABLE, "%s", cases[i].errmsg);
		bs_reply_for(&rep, cases[i].rv, &e, "GEN", &code, &enh, &text);
		if (code != cases[i].code || strcmp(enh, cases[i].enhanced) != 0 ||
		    strcmp(text, cases[i].text) != 0)
			fail_msg("%s: got %d %s %s", cases[i].name, code, enh,
			    text);
		assert_null(strpbrk(text, "\r\n"));
		free(text);
		error_release(&e);
		deliver_report_release(&rep);
	}
}

static void
bs_reply_for__long_reason__bounded(void **state)
{
	struct deliver_report	 rep;
	struct error		 e = ERROR_INIT;
	const char		*enh;
	char			*text, big[5000];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	deliver_report_init(&rep);
	error_set(&e, EX_TEMPFAIL, "%s", big);
	bs_reply_for(&rep, -1, &e, "GEN", &(int){ 0 }, &enh, &text);
	assert_true(strlen(text) <= 403);
	assert_string_equal(text + strlen(text) - 3, "...");
	free(text);
	error_release(&e);
	deliver_report_release(&rep);
}

static void
bs_rcpt_verdict__no_relay__remote_and_unknown_refused(void **state)
{
	static const char al_text[] = "postmaster: root\n"
	    "sales: someone@remote.example\n";
	static const struct {
		const char	*rcpt;
		int		 code;
		const char	*enhanced;
		const char	*text;	/* a prefix */
	} want[] = {
		{ "root", 250, "2.1.5", "Ok" },
		{ "root@example.org", 250, "2.1.5", "Ok" },
		{ "ROOT@localhost", 250, "2.1.5", "Ok" },
		{ "postmaster", 250, "2.1.5", "Ok" },
		{ "someone@remote.example", 550, "5.1.2",
		  "no relay configured for remote recipient "
		  "<someone@remote.example>" },
		{ "sales", 550, "5.1.2", "no relay configured for remote "
		  "recipient <someone@remote.example> (alias of sales)" },
		{ "no-such-user-p0stie@example.org", 550, "5.1.1",
		  "unknown local user 'no-such-user-p0stie'" },
	};
	struct error		 e = ERROR_INIT;
	struct account		 acct;
	struct message_opts	 mo;
	struct bs_ctx		 c;
	struct aliases		*al;
	const char		*enh;
	char			*text;
	size_t			 i;
	int			 code;

	(void)state;
	al = aliases_parse(al_text, strlen(al_text), "aliases", &e);
	assert_non_null(al);
	memset(&acct, 0, sizeof(acct));
	memset(&mo, 0, sizeof(mo));
	memset(&c, 0, sizeof(c));
	mo.aliases = al;
	c.acct = &acct;
	c.qd = "example.org";
	c.mo = &mo;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		bs_rcpt_verdict(&c, want[i].rcpt, &code, &enh, &text);
		if (code != want[i].code ||
		    strcmp(enh, want[i].enhanced) != 0 ||
		    strncmp(text, want[i].text, strlen(want[i].text)) != 0)
			fail_msg("%s: got %d %s %s", want[i].rcpt, code, enh,
			    text);
		free(text);
	}
	/* with a relay, the relay decides */
	acct.host = xstrdup("relay.example");
	bs_rcpt_verdict(&c, "someone@remote.example", &code, &enh, &text);
	assert_int_equal(code, 250);
	free(text);
	bs_rcpt_verdict(&c, "no-such-user-p0stie", &code, &enh, &text);
	assert_int_equal(code, 250);
	free(text);
	free(acct.host);
	aliases_free(al);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bs_reply_for__table__matches),
		cmocka_unit_test(bs_reply_for__long_reason__bounded),
		cmocka_unit_test(
		    bs_rcpt_verdict__no_relay__remote_and_unknown_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
