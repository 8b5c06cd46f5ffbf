/*
 * Unit tests for the pure parts of the SMTP transport: the exit code
 * table, the failure classes and the -v trace redaction.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sysexits.h>

#include <curl/curl.h>

#include "transport.h"
#include "util.h"

static void transport_exitcode__table__matches_contract(void **);
static void transport_redact__table__hides_sasl_data(void **);
static void transport_redact__auth_exchange__every_line_redacted(void **);

static const struct {
	int	 curlcode;
	long	 smtp;
	int	 want;
	const char *what;
} exit_cases[] = {
	{ CURLE_OK, 250, EX_OK, "delivered" },
	{ CURLE_OK, 0, EX_OK, "delivered, no code" },
	{ CURLE_OK, 451, EX_TEMPFAIL, "ok but 4xx seen" },
	{ CURLE_OK, 554, EX_UNAVAILABLE, "ok but 5xx seen" },
	{ CURLE_SEND_ERROR, 451, EX_TEMPFAIL, "MAIL 451" },
	{ CURLE_SEND_ERROR, 450, EX_TEMPFAIL, "all RCPT 450" },
	{ CURLE_SEND_ERROR, 550, EX_UNAVAILABLE, "MAIL 550" },
	{ CURLE_SEND_ERROR, 554, EX_UNAVAILABLE, "DATA 554" },
	{ CURLE_SEND_ERROR, 0, EX_TEMPFAIL, "write failed" },
	{ CURLE_SEND_ERROR, 250, EX_TEMPFAIL, "write failed after 250" },
	{ CURLE_WEIRD_SERVER_REPLY, 421, EX_TEMPFAIL, "greeting 421" },
	{ CURLE_WEIRD_SERVER_REPLY, 451, EX_TEMPFAIL, "final 451" },
	{ CURLE_WEIRD_SERVER_REPLY, 554, EX_UNAVAILABLE, "final 554" },
	{ CURLE_WEIRD_SERVER_REPLY, 552, EX_UNAVAILABLE, "final 552" },
	{ CURLE_WEIRD_SERVER_REPLY, 0, EX_PROTOCOL, "garbage" },
	{ CURLE_WEIRD_SERVER_REPLY, 354, EX_PROTOCOL, "354 out of place" },
	{ CURLE_LOGIN_DENIED, 535, EX_NOPERM, "AUTH 535" },
	{ CURLE_LOGIN_DENIED, 534, EX_NOPERM, "AUTH 534" },
	{ CURLE_LOGIN_DENIED, 454, EX_TEMPFAIL, "AUTH 454" },
	{ CURLE_LOGIN_DENIED, 0, EX_NOPERM, "AUTH no code" },
	{ CURLE_AUTH_ERROR, 0, EX_NOPERM, "auth function error" },
	{ CURLE_USE_SSL_FAILED, 0, EX_UNAVAILABLE, "no STARTTLS offered" },
	{ CURLE_USE_SSL_FAILED, 454, EX_TEMPFAIL, "STARTTLS 454" },
	{ CURLE_USE_SSL_FAILED, 502, EX_UNAVAILABLE, "STARTTLS 502" },
	{ CURLE_COULDNT_RESOLVE_HOST, 0, EX_NOHOST, "no such host" },
	{ CURLE_COULDNT_RESOLVE_PROXY, 0, EX_NOHOST, "no such proxy" },
	{ CURLE_COULDNT_CONNECT, 0, EX_TEMPFAIL, "refused" },
	{ CURLE_OPERATION_TIMEDOUT, 0, EX_TEMPFAIL, "timeout" },
	{ CURLE_OPERATION_TIMEDOUT, 250, EX_TEMPFAIL, "timeout after 250" },
	{ CURLE_RECV_ERROR, 0, EX_TEMPFAIL, "reset" },
	{ CURLE_GOT_NOTHING, 0, EX_TEMPFAIL, "closed at once" },
	{ CURLE_SSL_CONNECT_ERROR, 0, EX_UNAVAILABLE, "handshake" },
	{ CURLE_PEER_FAILED_VERIFICATION, 0, EX_UNAVAILABLE, "untrusted" },
	{ CURLE_SSL_PINNEDPUBKEYNOTMATCH, 0, EX_UNAVAILABLE, "pin" },
	{ CURLE_SSL_CACERT_BADFILE, 0, EX_CONFIG, "bad trust file" },
	{ CURLE_SSL_CERTPROBLEM, 0, EX_CONFIG, "bad client cert" },
	{ CURLE_SSL_CRL_BADFILE, 0, EX_CONFIG, "bad CRL file" },
	{ CURLE_URL_MALFORMAT, 0, EX_CONFIG, "bad URL" },
	{ CURLE_INTERFACE_FAILED, 0, EX_CONFIG, "source_ip not ours" },
	{ CURLE_OUT_OF_MEMORY, 0, EX_OSERR, "no memory" },
	{ CURLE_ABORTED_BY_CALLBACK, 0, EX_IOERR, "reader abort" },
	{ CURLE_READ_ERROR, 0, EX_IOERR, "read error" },
	{ CURLE_UNSUPPORTED_PROTOCOL, 0, EX_SOFTWARE, "no smtps" },
	{ CURLE_UNSUPPORTED_PROTOCOL, 421, EX_TEMPFAIL, "unknown, 4xx" },
};

static void
transport_exitcode__table__matches_contract(void **state)
{
	size_t	i;
	int	got;

	(void)state;
	for (i = 0; i < sizeof(exit_cases) / sizeof(exit_cases[0]); i++) {
		got = transport_exitcode(exit_cases[i].curlcode,
		    exit_cases[i].smtp);
		if (got != exit_cases[i].want)
			fail_msg("case %zu (%s): curl %d smtp %ld: got %d, "
			    "want %d", i, exit_cases[i].what,
			    exit_cases[i].curlcode, exit_cases[i].smtp, got,
			    exit_cases[i].want);
	}
}

static const struct {
	const char	*line;
	int		 in_auth;
	const char	*want;
	int		 want_auth;
} redact_cases[] = {
	{ "AUTH PLAIN AHVzZXIAc2VjcmV0", 0, "AUTH PLAIN <redacted>", 1 },
	{ "auth plain AHVzZXIAc2VjcmV0", 0, "auth plain <redacted>", 1 },
	{ "AUTH LOGIN dXNlcg==", 0, "AUTH LOGIN <redacted>", 1 },
	{ "AUTH LOGIN", 0, "AUTH LOGIN", 1 },
	{ "AUTH XOAUTH2 dXNlcj1hAWF1dGg9QmVhcmVyIHQBAQ==", 0,
	    "AUTH XOAUTH2 <redacted>", 1 },
	{ "c2VjcmV0", 1, "<redacted>", 1 },
	{ "MAIL FROM:<a@b>", 1, "<redacted>", 1 },	/* still in AUTH */
	{ "*", 1, "<redacted>", 1 },
	{ "MAIL FROM:<a@b> SIZE=10", 0, "MAIL FROM:<a@b> SIZE=10", 0 },
	{ "RCPT TO:<x@y>", 0, "RCPT TO:<x@y>", 0 },
	{ "EHLO localhost", 0, "EHLO localhost", 0 },
	{ "AUTHX", 0, "AUTHX", 0 },
	{ "", 0, "", 0 },
};

static void
transport_redact__table__hides_sasl_data(void **state)
{
	struct buf	b = BUF_INIT;
	size_t		i;
	int		r;

	(void)state;
	for (i = 0; i < sizeof(redact_cases) / sizeof(redact_cases[0]); i++) {
		buf_reset(&b);
		r = transport_redact(redact_cases[i].line,
		    strlen(redact_cases[i].line), redact_cases[i].in_auth, &b);
		if (strcmp(buf_str(&b), redact_cases[i].want) != 0 ||
		    r != redact_cases[i].want_auth)
			fail_msg("case %zu: '%s' gave '%s' (%d), want '%s' "
			    "(%d)", i, redact_cases[i].line, buf_str(&b), r,
			    redact_cases[i].want, redact_cases[i].want_auth);
	}
	buf_release(&b);
}

/* An AUTH LOGIN exchange as the trace sees it: no secret survives. */
static void
transport_redact__auth_exchange__every_line_redacted(void **state)
{
	static const char *const lines[] = {
		"AUTH LOGIN dXNlcg==", "c2VjcmV0", "QUlUSCBzZWNyZXQ="
	};
	struct buf	b = BUF_INIT;
	size_t		i;
	int		in_auth = 0;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		in_auth = transport_redact(lines[i], strlen(lines[i]),
		    in_auth, &b);
		buf_addch(&b, '\n');
	}
	assert_string_equal(buf_str(&b),
	    "AUTH LOGIN <redacted>\n<redacted>\n<redacted>\n");
	assert_null(strstr(buf_str(&b), "dXNlcg"));
	assert_null(strstr(buf_str(&b), "c2VjcmV0"));
	buf_release(&b);
}

static const struct {
	int			 code;
	int			 setup;
	enum outcome_class	 cls;
} class_cases[] = {
	{ EX_TEMPFAIL, 0, OUTCOME_RETRY },	/* connection refused, 4xx */
	{ EX_NOPERM, 1, OUTCOME_SETUP },	/* 535 */
	{ EX_NOHOST, 0, OUTCOME_RETRY },
	{ EX_PROTOCOL, 0, OUTCOME_RETRY },
	{ EX_UNAVAILABLE, 1, OUTCOME_SETUP },	/* certificate, STARTTLS */
	{ EX_UNAVAILABLE, 0, OUTCOME_PERMANENT },	/* 5xx to MAIL, DATA */
	{ EX_NOUSER, 0, OUTCOME_PERMANENT },	/* all recipients refused */
	{ EX_NOUSER, 1, OUTCOME_PERMANENT },
	{ EX_DATAERR, 0, OUTCOME_PERMANENT },	/* message too big */
	{ EX_USAGE, 0, OUTCOME_PERMANENT },
	{ EX_NOINPUT, 0, OUTCOME_PERMANENT },
	{ EX_OSERR, 0, OUTCOME_RETRY },
};

static void
transport_class__errors__classified(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(class_cases) / sizeof(class_cases[0]); i++)
		if (transport_class(class_cases[i].code,
		    class_cases[i].setup) != class_cases[i].cls)
			fail_msg("case %zu (%d %d)", i, class_cases[i].code,
			    class_cases[i].setup);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(transport_class__errors__classified),
		cmocka_unit_test(transport_exitcode__table__matches_contract),
		cmocka_unit_test(transport_redact__table__hides_sasl_data),
		cmocka_unit_test(
		    transport_redact__auth_exchange__every_line_redacted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
