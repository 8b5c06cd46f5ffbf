/*
 * Unit tests for diag.c: the EHLO capability parser (case, the old
 * "AUTH=" form, SIZE, what libcurl 7.88.1 would miss), the exit code of a
 * diagnostic command's reply, the failure line, and the report built
 * from a probe's dialogue.
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

#include "config.h"
#include "diag.h"
#include "transport.h"
#include "util.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))

static void
diag_ehlo_parse__postfix_reply__caps_auth_size(void **state)
{
	static const char *const l[] = {
		"250-mail.example.org",
		"250-PIPELINING",
		"250-SIZE 10240000",
		"250-STARTTLS",
		"250-AUTH PLAIN LOGIN",
		"250-AUTH=PLAIN LOGIN",
		"250-ENHANCEDSTATUSCODES",
		"250 8BITMIME",
	};
	struct diag_ehlo	e;

	(void)state;
	diag_ehlo_parse(l, N(l), &e);
	assert_string_equal(e.domain, "mail.example.org");
	assert_int_equal(e.caps.n, 7);
	assert_string_equal(e.caps.v[0], "PIPELINING");
	assert_string_equal(e.caps.v[6], "8BITMIME");
	assert_int_equal(e.auth.n, 2);	/* each mechanism once */
	assert_string_equal(e.auth.v[0], "PLAIN");
	assert_string_equal(e.auth.v[1], "LOGIN");
	assert_true(e.starttls);
	assert_true(e.size == 10240000);
	assert_int_equal(e.notes.n, 0);
	diag_ehlo_release(&e);
}

static void
diag_ehlo_parse__lower_case_keywords__noted_for_libcurl(void **state)
{
	static const char *const l[] = {
		"250-relay.test",
		"250-size 1000",
		"250-starttls",
		"250 auth=login cram-md5",
	};
	struct diag_ehlo	e;

	(void)state;
	diag_ehlo_parse(l, N(l), &e);
	assert_true(e.size == 1000);
	assert_true(e.starttls);
	/* RFC 5321 2.4: the keywords match in any case */
	assert_int_equal(e.auth.n, 2);
	assert_string_equal(e.auth.v[0], "LOGIN");
	assert_string_equal(e.auth.v[1], "CRAM-MD5");
	/* size, starttls, and AUTH only in a form libcurl misses */
	assert_int_equal(e.notes.n, 3);
	assert_non_null(strstr(e.notes.v[0], "'size'"));
	assert_non_null(strstr(e.notes.v[1], "'STARTTLS'"));
	assert_non_null(strstr(e.notes.v[2], "cannot log in"));
	diag_ehlo_release(&e);
}

static void
diag_ehlo_parse__odd_replies__bounded_results(void **state)
{
	static const char *const helo[] = { "250 relay.test" };
	static const char *const refused[] = { "554 5.7.1 go away" };
	static const char *const size[] = {
		"250-x", "250-SIZE", "250-SIZE junk", "250 SIZE 0",
	};
	struct diag_ehlo	e;

	(void)state;
	diag_ehlo_parse(helo, N(helo), &e);
	assert_string_equal(e.domain, "relay.test");
	assert_int_equal(e.caps.n, 0);
	diag_ehlo_release(&e);

	diag_ehlo_parse(refused, N(refused), &e);
	assert_null(e.domain);
	assert_int_equal(e.caps.n, 0);
	diag_ehlo_release(&e);

	diag_ehlo_parse(NULL, 0, &e);
	assert_null(e.domain);
	diag_ehlo_release(&e);

	diag_ehlo_parse(size, N(size), &e);
	assert_int_equal(e.caps.n, 3);
	assert_true(e.size == 0);	/* the last one: no limit */
	diag_ehlo_release(&e);
	diag_ehlo_parse(size, 3, &e);
	assert_true(e.size == -1);	/* no number */
	diag_ehlo_release(&e);

	{
		/* smtp-sink's last line is a bare "250" */
		static const char *const sink[] = {
			"250-smtp-sink", "250-PIPELINING", "250",
		};

		diag_ehlo_parse(sink, N(sink), &e);
		assert_int_equal(e.caps.n, 1);
		assert_string_equal(e.caps.v[0], "PIPELINING");
		diag_ehlo_release(&e);
	}
}

static void
diag_reply_exitcode__table__codes(void **state)
{
	static const struct {
		enum diag_command	cmd;
		int			code, want;
	} t[] = {
		{ DIAG_VERIFY, 250, EX_OK },
		{ DIAG_VERIFY, 251, EX_OK },
		{ DIAG_VERIFY, 252, EX_OK },
		{ DIAG_VERIFY, 550, EX_NOUSER },
		{ DIAG_VERIFY, 551, EX_NOUSER },
		{ DIAG_VERIFY, 553, EX_NOUSER },
		{ DIAG_EXPAND, 550, EX_NOUSER },
		{ DIAG_VERIFY, 502, EX_UNAVAILABLE },
		{ DIAG_EXPAND, 502, EX_UNAVAILABLE },
		{ DIAG_VERIFY, 450, EX_TEMPFAIL },
		{ DIAG_HELP, 214, EX_OK },
		{ DIAG_HELP, 550, EX_UNAVAILABLE },
		{ DIAG_HELP, 421, EX_TEMPFAIL },
		{ DIAG_SERVER_INFO, 250, EX_OK },
		{ DIAG_SERVER_INFO, 0, EX_PROTOCOL },
		{ DIAG_SERVER_INFO, 354, EX_PROTOCOL },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < N(t); i++) {
		if (diag_reply_exitcode(t[i].cmd, t[i].code) != t[i].want)
			fail_msg("case %zu: %d", i, t[i].code);
	}
}

static void
probe_init(struct transport_probe *p, const char *const *dialogue, size_t n)
{
	size_t	i;

	memset(p, 0, sizeof(*p));
	outcome_init(&p->res, 0);
	p->relay = strdup("relay.test:587");
	for (i = 0; i < n; i++)
		strlist_add(&p->dialogue, dialogue[i]);
}

static void
diag_failure_line__hint_or_step__one_line(void **state)
{
	struct transport_probe	 p;
	char			*l;

	(void)state;
	probe_init(&p, NULL, 0);
	/* a set-up failure: the transport's hint */
	outcome_fail(&p.res, OUTCOME_SETUP, STEP_AUTH, EX_NOPERM, 535, NULL,
	    "check 'user' and 'password'");
	l = diag_failure_line(&p, "cannot send to relay.test:587: "
	    "authentication failed: 535 no");
	assert_string_equal(l, "relay.test:587: authentication failed: 535 "
	    "no; check 'user' and 'password'");
	free(l);
	/* a relay down: the step's own */
	outcome_fail(&p.res, OUTCOME_RETRY, STEP_CONNECT, EX_TEMPFAIL, 0,
	    NULL, NULL);
	free(p.res.hint);
	p.res.hint = NULL;
	l = diag_failure_line(&p, "connection to relay.test:587 refused");
	assert_non_null(strstr(l, "refused; check 'host' and 'port'"));
	assert_null(strchr(l, '\n'));
	free(l);
	/* a 5xx with nothing to add */
	outcome_fail(&p.res, OUTCOME_PERMANENT, STEP_MAIL, EX_UNAVAILABLE,
	    554, NULL, NULL);
	l = diag_failure_line(&p, "x");
	assert_string_equal(l, "x");
	free(l);
	transport_probe_release(&p);
}

static void
diag_format__starttls_dialogue__caps_after_tls_and_login(void **state)
{
	static const char *const d[] = {
		"<- 220 relay.test ESMTP",
		"-> EHLO me.test",
		"<- 250-relay.test",
		"<- 250-STARTTLS",
		"<- 250 SIZE 1048576",
		"-> STARTTLS",
		"<- 220 go ahead",
		"-> EHLO me.test",
		"<- 250-relay.test",
		"<- 250-AUTH PLAIN",
		"<- 250 SIZE 1048576",
		"-> AUTH PLAIN <redacted>",
		"<- 235 2.7.0 ok",
		"-> NOOP",
		"<- 250 OK",
		"-> QUIT",
		"<- 221 bye",
	};
	struct transport_probe	 p;
	struct account		 a;
	struct buf		 out = BUF_INIT;
	const char		*s;
	char			 name[] = "work", user[] = "alice";

	(void)state;
	probe_init(&p, d, N(d));
	p.starttls = 1;
	p.auth = 1;
	p.tls = strdup("TLSv1.3 / TLS_AES_128_GCM_SHA256");
	p.ncerts = 1;
	p.certs = calloc(1, sizeof(*p.certs));
	strlist_add(&p.certs[0].info, "Subject:CN = relay.test");
	strlist_add(&p.certs[0].info, "Issuer:CN = CA\x1b[31m");
	p.certs[0].sha256 = strdup("AB:CD");
	memset(&a, 0, sizeof(a));
	a.name = name;
	a.user = user;
	diag_format(&p, DIAG_SERVER_INFO, &a, &out);
	s = buf_str(&out);
	assert_non_null(strstr(s, "Relay: relay.test:587 (account 'work')\n"
	    "Greeting: 220 relay.test ESMTP\n"
	    "TLS: TLSv1.3 / TLS_AES_128_GCM_SHA256 (STARTTLS)\n"
	    "Certificate 1 of 1 (the server's):\n"
	    "    Subject: CN = relay.test\n"));
	/* the server's bytes are escaped */
	assert_non_null(strstr(s, "    Issuer: CN = CA\\x1b[31m\n"));
	assert_non_null(strstr(s, "    SHA-256 fingerprint: AB:CD\n"));
	assert_non_null(strstr(s, "Capabilities (after STARTTLS):\n"
	    "    AUTH PLAIN\n    SIZE 1048576\n"));
	assert_null(strstr(s, "    STARTTLS\n"));
	assert_non_null(strstr(s, "Maximum message size: 1048576 bytes "
	    "(1.0 MiB)\n"));
	assert_non_null(strstr(s, "Authentication mechanisms: PLAIN\n"));
	assert_non_null(strstr(s, "Login: accepted for user 'alice' "
	    "(AUTH PLAIN)\n"));
	buf_release(&out);

	/* --verify: the reply lines only */
	transport_probe_release(&p);
	{
		static const char *const v[] = {
			"<- 220 relay.test", "-> EHLO me", "<- 250 relay.test",
			"-> VRFY bob", "<- 550-no such", "<- 550 user",
			"-> QUIT", "<- 221 bye",
		};

		probe_init(&p, v, N(v));
		diag_format(&p, DIAG_VERIFY, &a, &out);
		assert_string_equal(buf_str(&out),
		    "550-no such\n550 user\n");
	}
	buf_release(&out);
	transport_probe_release(&p);
}

static void
diag_format__auth_refused__login_refused_line(void **state)
{
	static const char *const d[] = {
		"<- 220 relay.test",
		"-> EHLO me",
		"<- 250-relay.test",
		"<- 250 AUTH LOGIN",
		"-> AUTH LOGIN",
		"<- 334 VXNlcm5hbWU6",
		"-> <redacted>",
		"<- 334 UGFzc3dvcmQ6",
		"-> <redacted>",
		"<- 535 5.7.8 no",
		"-> QUIT",
	};
	struct transport_probe	 p;
	struct buf		 out = BUF_INIT;

	(void)state;
	probe_init(&p, d, N(d));
	p.auth = 1;
	diag_format(&p, DIAG_SERVER_INFO, NULL, &out);
	assert_non_null(strstr(buf_str(&out),
	    "Login: REFUSED (AUTH LOGIN): 535 5.7.8 no\n"));
	assert_non_null(strstr(buf_str(&out), "TLS: none (tls off)"));
	buf_release(&out);
	transport_probe_release(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(diag_ehlo_parse__postfix_reply__caps_auth_size),
		cmocka_unit_test(
		    diag_ehlo_parse__lower_case_keywords__noted_for_libcurl),
		cmocka_unit_test(diag_ehlo_parse__odd_replies__bounded_results),
		cmocka_unit_test(diag_reply_exitcode__table__codes),
		cmocka_unit_test(diag_failure_line__hint_or_step__one_line),
		cmocka_unit_test(
		    diag_format__starttls_dialogue__caps_after_tls_and_login),
		cmocka_unit_test(diag_format__auth_refused__login_refused_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
