/*
 * Unit tests of util.c's escaping of untrusted text for terminals and
 * logs (the never-lose issue, item 10).
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "interrupt.h"
#include "progress.h"
#include "util.h"

static const struct {
	const char	*in;
	size_t		 len;
	const char	*out;
} cases[] = {
	{ "250 ok", 6, "250 ok" },
	{ "250 ok\r", 7, "250 ok" },			/* stray CR dropped */
	{ "a\rb", 3, "a\\x0db" },			/* inner CR escaped */
	{ "\033[2Jx", 5, "\\x1b[2Jx" },			/* CSI clear screen */
	{ "\033]0;t\007", 6, "\\x1b]0;t\\x07" },	/* OSC title, BEL */
	{ "a\bb\nc", 5, "a\\x08b\\x0ac" },		/* BS, LF */
	{ "a\tb", 3, "a\tb" },				/* TAB kept */
	{ "\x7f", 1, "\\x7f" },				/* DEL */
	{ "caf\xc3\xa9", 5, "caf\xc3\xa9" },		/* UTF-8 kept */
	{ "\xe2\x82\xac", 3, "\xe2\x82\xac" },		/* euro sign */
	{ "\xc2\x9b" "2J", 4, "\\xc2\\x9b2J" },		/* C1 CSI */
	{ "\x9b" "2J", 3, "\\x9b2J" },			/* 8-bit CSI */
	{ "\xe9t\xe9", 3, "\\xe9t\\xe9" },		/* Latin-1 */
	{ "\xc0\xaf", 2, "\\xc0\\xaf" },		/* overlong */
	{ "\xed\xa0\x80", 3, "\\xed\\xa0\\x80" },	/* surrogate */
	{ "\xe2\x82", 2, "\\xe2\\x82" },		/* truncated */
	{ "a\0b", 3, "a\\x00b" },			/* NUL */
};

static void
buf_add_escaped__table__matches(void **state)
{
	struct buf	b = BUF_INIT;
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&b);
		buf_add_escaped(&b, cases[i].in, cases[i].len);
		assert_string_equal(buf_str(&b), cases[i].out);
	}
	buf_release(&b);
}

/* JSON strings are always valid UTF-8 JSON (mailq --json, issue 10). */
static void
buf_add_json_str__table__valid_utf8_json(void **state)
{
	static const struct {
		const char	*in, *want;
	} jcases[] = {
		{ "plain", "\"plain\"" },
		{ NULL, "\"\"" },
		{ "a\"b\\c", "\"a\\\"b\\\\c\"" },
		{ "l1\r\nl2\tx", "\"l1\\r\\nl2\\tx\"" },
		{ "\033[2J\007", "\"\\u001b[2J\\u0007\"" },
		{ "del\177", "\"del\\u007f\"" },
		{ "caf\xc3\xa9 \xe2\x82\xac", "\"caf\xc3\xa9 \xe2\x82\xac\"" },
		{ "latin1 \xe9t\xe9", "\"latin1 \\ufffdt\\ufffd\"" },
		{ "overlong \xc0\xaf", "\"overlong \\ufffd\\ufffd\"" },
		{ "cut \xe2\x82", "\"cut \\ufffd\\ufffd\"" },
		{ "surrogate \xed\xa0\x80", "\"surrogate \\ufffd\\ufffd\\ufffd\"" },
	};
	struct buf	b = BUF_INIT;
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(jcases) / sizeof(jcases[0]); i++) {
		buf_reset(&b);
		buf_add_json_str(&b, jcases[i].in);
		if (strcmp(buf_str(&b), jcases[i].want) != 0)
			fail_msg("case %zu: got %s, want %s", i, buf_str(&b),
			    jcases[i].want);
	}
	buf_release(&b);
}

static void
progress_format__cases__text(void **state)
{
	char	b[128];

	(void)state;
	progress_format(b, sizeof(b), 12582912, 41943040, 2.0);
	assert_string_equal(b, "12.0 MiB of 40.0 MiB (30%), 6.0 MiB/s, "
	    "0:05 left  ");
	progress_format(b, sizeof(b), 0, 41943040, 0.0);
	assert_string_equal(b, "0.0 MiB of 40.0 MiB (0%)  ");
	/* more than the total (a count of headers) is clamped */
	progress_format(b, sizeof(b), 50000000, 41943040, 10.0);
	assert_string_equal(b, "40.0 MiB of 40.0 MiB (100%), 4.0 MiB/s, "
	    "0:00 left  ");
	progress_format(b, sizeof(b), 1048576, 1073741824, 1.0);
	assert_string_equal(b, "1.0 MiB of 1024.0 MiB (0%), 1.0 MiB/s, "
	    "17:03 left  ");
	progress_set(0);
	assert_int_equal(progress_wanted(1u << 30), 0);
	progress_set(1);
	assert_int_equal(progress_wanted(PROGRESS_MIN - 1), 0);
	assert_int_equal(progress_wanted(PROGRESS_MIN), 1);
	progress_set(-1);
}

/* Feed s[0..n) to crlf_next() (with the CR hint or without) into b. */
static void
crlf_feed(int *prev_cr, const char *p, const char *e, int hint,
    struct buf *b)
{
	const char	*seg;
	size_t		 len;
	int		 cr = hint || memchr(p, '\r', (size_t)(e - p)) != NULL;

	while (p < e) {
		int eol = crlf_next(prev_cr, cr, &p, e, &seg, &len);

		buf_add(b, seg, len);
		if (!eol)
			break;
		buf_add(b, "\r\n", 2);
	}
}

/* crlf_next() over every split of each input: the same CRLF text. */
static void
crlf_next__every_split__crlf_text(void **state)
{
	static const struct {
		const char	*in;
		const char	*out;
	} tab[] = {
		{ "", "" },
		{ "a", "a" },
		{ "a\n", "a\r\n" },
		{ "a\r\nb", "a\r\nb" },
		{ "a\rb\r", "a\r\nb\r\n" },
		{ "\n\r\n\r\r", "\r\n\r\n\r\n\r\n" },
		{ "x\r\n\ny", "x\r\n\r\ny" },
	};
	struct buf	 b = BUF_INIT;
	const char	*in;
	size_t		 i, k, n;
	int		 prev_cr, hint;

	(void)state;
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		in = tab[i].in;
		n = strlen(in);
		for (k = 0; k <= n; k++)
			for (hint = 0; hint <= 1; hint++) {
				/* two blocks: [0, k) and [k, n) */
				buf_reset(&b);
				prev_cr = 0;
				crlf_feed(&prev_cr, in, in + k, hint, &b);
				crlf_feed(&prev_cr, in + k, in + n, hint, &b);
				assert_int_equal(b.len, strlen(tab[i].out));
				assert_memory_equal(b.data, tab[i].out, b.len);
			}
	}
	buf_release(&b);
}

/* The EHLO default: the FQDN when it has a dot, else an address
 * literal (source_ip's, or the connection's); never "localhost". */
static void
util_ehlo_name__no_domain__fqdn_or_literal(void **state)
{
	char	*fqdn, *n;
	int	 qualified;

	(void)state;
	fqdn = util_fqdn();
	qualified = strchr(fqdn, '.') != NULL &&
	    strncmp(fqdn, "localhost", 9) != 0;
	n = util_ehlo_name("127.0.0.1", 25, "2001:db8::7");
	assert_string_equal(n, qualified ? fqdn : "[IPv6:2001:db8::7]");
	free(n);
	n = util_ehlo_name("127.0.0.1", 25, "192.0.2.7");
	assert_string_equal(n, qualified ? fqdn : "[192.0.2.7]");
	free(n);
	/* the local address of a connection to a loopback relay */
	n = util_ehlo_name("127.0.0.1", 2525, NULL);
	assert_string_equal(n, qualified ? fqdn : "[127.0.0.1]");
	free(n);
	n = util_ehlo_name(NULL, 0, NULL);
	assert_true(strcmp(n, "localhost") != 0);
	free(n);
	free(fqdn);
}

/*
 * cron mails a job's output with the daemon's HOME (/root): a HOME that
 * does not exist or cannot be entered is not the user's.
 */
static void
util_home_dir__unusable_home__password_database(void **state)
{
	struct passwd	*pw = getpwuid(getuid());
	char		*h;

	(void)state;
	assert_non_null(pw);
	setenv("HOME", "/tmp", 1);
	h = util_home_dir();
	assert_string_equal(h, "/tmp");
	free(h);
	setenv("HOME", "/nonexistent/postie-test-home", 1);
	h = util_home_dir();
	assert_string_equal(h, pw->pw_dir);
	free(h);
	setenv("HOME", "relative/home", 1);
	h = util_home_dir();
	assert_string_equal(h, pw->pw_dir);
	free(h);
	unsetenv("HOME");
	h = util_home_dir();
	assert_string_equal(h, pw->pw_dir);
	free(h);
}

/* bsd-mailx and s-nail start their sendmail with SIGHUP and SIGINT
 * ignored (and nohup SIGHUP): those stay ignored; the others are caught
 * and noted. */
static void
interrupt_install__inherited_ignore__kept(void **state)
{
	struct sigaction	 ign, dfl, got;

	(void)state;
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	dfl = ign;
	dfl.sa_handler = SIG_DFL;
	assert_int_equal(sigaction(SIGHUP, &ign, NULL), 0);
	assert_int_equal(sigaction(SIGINT, &ign, NULL), 0);
	assert_int_equal(sigaction(SIGTERM, &dfl, NULL), 0);
	interrupt_install();
	assert_int_equal(sigaction(SIGHUP, NULL, &got), 0);
	assert_true(got.sa_handler == SIG_IGN);
	assert_int_equal(sigaction(SIGINT, NULL, &got), 0);
	assert_true(got.sa_handler == SIG_IGN);
	assert_int_equal(sigaction(SIGTERM, NULL, &got), 0);
	assert_true(got.sa_handler != SIG_IGN && got.sa_handler != SIG_DFL);
	assert_int_equal(raise(SIGHUP), 0);
	assert_int_equal(interrupt_pending(), 0);
	assert_int_equal(raise(SIGTERM), 0);
	assert_int_equal(interrupt_pending(), SIGTERM);
	assert_int_equal(sigaction(SIGHUP, &dfl, NULL), 0);
	assert_int_equal(sigaction(SIGINT, &dfl, NULL), 0);
	assert_int_equal(sigaction(SIGTERM, &dfl, NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buf_add_escaped__table__matches),
		cmocka_unit_test(buf_add_json_str__table__valid_utf8_json),
		cmocka_unit_test(progress_format__cases__text),
		cmocka_unit_test(crlf_next__every_split__crlf_text),
		cmocka_unit_test(util_ehlo_name__no_domain__fqdn_or_literal),
		cmocka_unit_test(util_home_dir__unusable_home__password_database),
		cmocka_unit_test(interrupt_install__inherited_ignore__kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
