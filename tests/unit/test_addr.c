/*
 * Unit tests for addr.c: the RFC 5322 address-list parser (the msmtp
 * header-handling shapes and RFC 5322 appendix A), the qualifier, the
 * RFC 5321 mailbox checker, sender and argument splitting.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "addr.h"
#include "error.h"
#include "util.h"
#include "xmalloc.h"

#define MAXA	4

struct exp_addr {
	const char	*spec;
	const char	*display;	/* NULL: no display name */
	const char	*span;		/* value[start..end) */
	int		 has_domain;
};

struct parse_case {
	const char	*in;
	size_t		 n;
	struct exp_addr	 a[MAXA];
};

struct fail_case {
	const char	*in;
	const char	*why;		/* substring of the message */
};

static void	check_no_crlf(const struct error *);
static void	check_spans(const char *, size_t, const struct addr_list *);
static char	*repeat(int, size_t);

static const struct parse_case parse_ok[] = {
	{ "a@b", 1, { { "a@b", NULL, "a@b", 1 } } },
	{ "a@b, c@d", 2, { { "a@b", NULL, "a@b", 1 },
	    { "c@d", NULL, "c@d", 1 } } },
	{ "a@b\t,\tc@d", 2, { { "a@b", NULL, "a@b", 1 },
	    { "c@d", NULL, "c@d", 1 } } },
	/* RFC 5322 4.4 obs-addr-list: empty elements */
	{ "a@b,,c@d", 2, { { "a@b", NULL, "a@b", 1 },
	    { "c@d", NULL, "c@d", 1 } } },
	{ " , a@b , ", 1, { { "a@b", NULL, "a@b", 1 } } },
	{ "", 0, { { NULL, NULL, NULL, 0 } } },
	{ "   ", 0, { { NULL, NULL, NULL, 0 } } },
	{ "(just a comment)", 0, { { NULL, NULL, NULL, 0 } } },
	/* groups */
	{ "team: a@b, c@d;", 2, { { "a@b", NULL, "a@b", 1 },
	    { "c@d", NULL, "c@d", 1 } } },
	{ "undisclosed-recipients:;", 0, { { NULL, NULL, NULL, 0 } } },
	{ "Undisclosed recipients:;", 0, { { NULL, NULL, NULL, 0 } } },
	{ "(Empty list)(start)Undisclosed recipients  :(nobody(that I know))"
	    "  ;", 0, { { NULL, NULL, NULL, 0 } } },
	/* RFC 5322 4.4: a group without its final ';' */
	{ "team: a@b, c@d", 2, { { "a@b", NULL, "a@b", 1 },
	    { "c@d", NULL, "c@d", 1 } } },
	{ "g1: a@b;, g2: ;, c@d", 2, { { "a@b", NULL, "a@b", 1 },
	    { "c@d", NULL, "c@d", 1 } } },
	{ "A Group:Person 1 <to6@example.com>,to7@example.com,SomeOne "
	    "<to8@example.com>;", 3,
	    { { "to6@example.com", "Person 1", "to6@example.com", 1 },
	    { "to7@example.com", NULL, "to7@example.com", 1 },
	    { "to8@example.com", "SomeOne", "to8@example.com", 1 } } },
	{ "A Group(Some people)     :Some Person <to11@(their's host.)"
	    "example.com>,              to12, \t        Person <to13@localhost>"
	    " (a friend); (the end of the group)", 3,
	    { { "to11@example.com", "Some Person",
	    "to11@(their's host.)example.com", 1 },
	    { "to12", NULL, "to12", 0 },
	    { "to13@localhost", "Person", "to13@localhost", 1 } } },
	/* comments, nested and with escapes */
	{ "a@b (x (y) \\) z)", 1, { { "a@b", NULL, "a@b", 1 } } },
	{ "Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>", 1,
	    { { "pete@silly.test", "Pete",
	    "pete(his account)@silly.test", 1 } } },
	{ "Some(wonderful \\) chap) <to10(his account)@localhost(this host)>",
	    1, { { "to10@localhost", "Some", "to10(his account)@localhost",
	    1 } } },
	{ "John (middle) Smith <j@s>", 1,
	    { { "j@s", "John Smith", "j@s", 1 } } },
	{ "John Doe <jdoe@machine(comment).  example>", 1,
	    { { "jdoe@machine.example", "John Doe",
	    "jdoe@machine(comment).  example", 1 } } },
	/* quoted display names and local parts */
	{ "\"Last, First\" <a@b>", 1,
	    { { "a@b", "Last, First", "a@b", 1 } } },
	{ "\"A; \\\"Quoted\\\" Name\" <to5@example.com>", 1,
	    { { "to5@example.com", "A; \"Quoted\" Name", "to5@example.com",
	    1 } } },
	{ "\"Giant; \\\"Big\\\" Box\" <sysservices@example.net>", 1,
	    { { "sysservices@example.net", "Giant; \"Big\" Box",
	    "sysservices@example.net", 1 } } },
	{ "\"A Person: Personal Account\" <to9@example.com>", 1,
	    { { "to9@example.com", "A Person: Personal Account",
	    "to9@example.com", 1 } } },
	{ "\"<x>, y\" <a@b>", 1, { { "a@b", "<x>, y", "a@b", 1 } } },
	{ "\"\" <a@b>", 1, { { "a@b", "", "a@b", 1 } } },
	{ "\"a;b\"@c", 1, { { "\"a;b\"@c", NULL, "\"a;b\"@c", 1 } } },
	{ "\"a\\\\b\"@c", 1, { { "\"a\\\\b\"@c", NULL, "\"a\\\\b\"@c", 1 } } },
	{ "\"a\\\"b\"@c", 1, { { "\"a\\\"b\"@c", NULL, "\"a\\\"b\"@c", 1 } } },
	/* quotes that are not needed are dropped (RFC 5321 4.1.2) */
	{ "\"abc\"@d", 1, { { "abc@d", NULL, "\"abc\"@d", 1 } } },
	{ "\"x y\"", 1, { { "\"x y\"", NULL, "\"x y\"", 0 } } },
	/* obs-phrase with a '.', obs-local-part with CFWS */
	{ "Joe Q. Public <john.q.public@example.com>", 1,
	    { { "john.q.public@example.com", "Joe Q. Public",
	    "john.q.public@example.com", 1 } } },
	{ "first . last@d", 1,
	    { { "first.last@d", NULL, "first . last@d", 1 } } },
	/* domain literals */
	{ "a@[127.0.0.1]", 1,
	    { { "a@[127.0.0.1]", NULL, "a@[127.0.0.1]", 1 } } },
	{ "x <a@[IPv6:::1]>", 1,
	    { { "a@[IPv6:::1]", "x", "a@[IPv6:::1]", 1 } } },
	/* RFC 2047 display names stay encoded */
	{ "=?utf-8?B?VGVzdCDDnHNlcg==?= <to2@example.com>", 1,
	    { { "to2@example.com", "=?utf-8?B?VGVzdCDDnHNlcg==?=",
	    "to2@example.com", 1 } } },
	{ "\xc3\x9cser <\xc3\xbc@b\xc3\xbc\x63her.de>", 1,
	    { { "\xc3\xbc@b\xc3\xbc\x63her.de", "\xc3\x9cser",
	    "\xc3\xbc@b\xc3\xbc\x63her.de", 1 } } },
	/* obs-route */
	{ "<@r1,@r2:a@b>", 1, { { "a@b", NULL, "a@b", 1 } } },
	{ "Mary Smith <@node.test:mary@example.net>", 1,
	    { { "mary@example.net", "Mary Smith", "mary@example.net", 1 } } },
	{ "<,@r1,,@r2,:a@b>", 1, { { "a@b", NULL, "a@b", 1 } } },
	/* bare local names */
	{ "root", 1, { { "root", NULL, "root", 0 } } },
	{ "root (Cron Daemon)", 1, { { "root", NULL, "root", 0 } } },
	{ "Cron Daemon <root>", 1,
	    { { "root", "Cron Daemon", "root", 0 } } },
	{ "a@b, root, \"x y\"", 3, { { "a@b", NULL, "a@b", 1 },
	    { "root", NULL, "root", 0 },
	    { "\"x y\"", NULL, "\"x y\"", 0 } } },
};

static const struct fail_case parse_bad[] = {
	{ "\"abc", "unterminated quoted string" },
	{ "\"abc\\", "unterminated quoted string" },
	{ "Name \"x <a@b>", "unterminated quoted string" },
	{ "a@b (comment", "unbalanced '('" },
	{ "a@b (x \\", "unbalanced '('" },
	{ "a@b)", "unbalanced ')'" },
	{ "<a@b", "unbalanced '<'" },
	{ "Name <a@b, c@d", "missing '>'" },
	{ "a@b>", "unbalanced '>'" },
	{ ">", "unbalanced '>'" },
	{ "a@[1.2", "unbalanced '['" },
	{ "a@b]", "unbalanced ']'" },
	{ "a@[1.[2]", "'[' inside a domain literal" },
	{ "a@b\r\nBcc: evil@x", "CR or LF" },
	{ "a@b\nc@d", "CR or LF" },
	{ "\"a\rb\"@c", "CR or LF" },
	{ "a@b (x\ny)", "CR or LF" },
	{ "<>", "empty address '<>'" },
	{ "Name <>", "empty address '<>'" },
	{ "a@b, <>", "empty address '<>'" },
	{ "a@", "expected a domain" },
	{ "a@b.", "expected a domain" },
	{ "a@b..c", "expected a domain" },
	{ "@b", "empty local part" },
	{ "a..b@c", "unexpected '.'" },
	{ "a.@b", "local part ends with '.'" },
	{ "a@b@c", "unexpected '@'" },
	{ "Cron Daemon", "needs an <address>" },
	{ "a@b c@d", "unexpected 'c'" },
	{ "<a@b> <c@d>", "unexpected '<'" },
	{ "g: h: a@b;;", "group inside a group" },
	{ ": a@b;", "missing group name" },
	{ "a@b;", "';' outside a group" },
	{ "g: a@b; c@d", "after a group" },
	{ "<@r1 a@b>", "malformed route" },
	{ "<@:a@b>", "expected a domain" },
	{ "a\\b@c", "backslash outside a quoted string" },
	{ "a@b\x01", "invalid character 0x01" },
	{ "a\x7f@b", "invalid character 0x7f" },
	{ "[1.2.3.4]", "unexpected domain literal" },
};

static void
check_no_crlf(const struct error *err)
{
	assert_non_null(err->msg);
	assert_null(strchr(err->msg, '\r'));
	assert_null(strchr(err->msg, '\n'));
}

/* Every span lies inside the value and is not empty. */
static void
check_spans(const char *v, size_t n, const struct addr_list *l)
{
	size_t	k;

	(void)v;
	for (k = 0; k < l->n; k++) {
		assert_true(l->v[k].start < l->v[k].end);
		assert_true(l->v[k].end <= n);
		if (k > 0)
			assert_true(l->v[k - 1].end <= l->v[k].start);
		assert_true(l->v[k].spec[0] != '\0');
	}
}

static char *
repeat(int c, size_t n)
{
	char	*s = xmalloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void
addr_parse_list__valid_lists__yield_expected_mailboxes(void **state)
{
	size_t	i, k;

	(void)state;
	for (i = 0; i < sizeof(parse_ok) / sizeof(parse_ok[0]); i++) {
		const struct parse_case	*c = &parse_ok[i];
		struct addr_list	 l = ADDR_LIST_INIT;
		struct error		 err = ERROR_INIT;
		int			 rc;

		print_message("case %zu: %s\n", i, c->in);
		rc = addr_parse_list(c->in, &l, &err);
		if (rc != 0)
			print_message("  error: %s\n", err.msg);
		assert_int_equal(rc, 0);
		assert_int_equal(err.code, EX_OK);
		assert_int_equal(l.n, c->n);
		for (k = 0; k < c->n; k++) {
			const struct exp_addr	*e = &c->a[k];
			const struct addr	*a = &l.v[k];

			assert_string_equal(a->spec, e->spec);
			if (e->display == NULL)
				assert_null(a->display);
			else {
				assert_non_null(a->display);
				assert_string_equal(a->display, e->display);
			}
			assert_int_equal(a->has_domain, e->has_domain);
			assert_int_equal(a->end - a->start, strlen(e->span));
			assert_memory_equal(c->in + a->start, e->span,
			    strlen(e->span));
		}
		check_spans(c->in, strlen(c->in), &l);
		addr_list_release(&l);
	}
}

static void
addr_parse_list__malformed_lists__fail_with_dataerr(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(parse_bad) / sizeof(parse_bad[0]); i++) {
		const struct fail_case	*c = &parse_bad[i];
		struct addr_list	 l = ADDR_LIST_INIT;
		struct error		 err = ERROR_INIT;

		print_message("case %zu: %s\n", i, c->in);
		/* A list already holding one mailbox must be left alone. */
		assert_int_equal(addr_parse_list("x@y", &l, &err), 0);
		assert_int_equal(addr_parse_list(c->in, &l, &err), -1);
		assert_int_equal(err.code, EX_DATAERR);
		check_no_crlf(&err);
		if (strstr(err.msg, c->why) == NULL)
			fail_msg("message '%s' lacks '%s'", err.msg, c->why);
		assert_int_equal(l.n, 1);
		assert_string_equal(l.v[0].spec, "x@y");
		addr_list_release(&l);
		error_release(&err);
	}
}

static void
addr_parse_list__deep_comments__capped_at_32(void **state)
{
	struct addr_list	 l = ADDR_LIST_INIT;
	struct error		 err = ERROR_INIT;
	struct buf		 b = BUF_INIT;
	char			*open, *close;

	(void)state;
	open = repeat('(', 32);
	close = repeat(')', 32);
	buf_printf(&b, "a@b %s%s", open, close);
	assert_int_equal(addr_parse_list(buf_str(&b), &l, &err), 0);
	assert_int_equal(l.n, 1);
	addr_list_release(&l);
	buf_reset(&b);
	buf_printf(&b, "a@b (%s%s)", open, close);
	assert_int_equal(addr_parse_list(buf_str(&b), &l, &err), -1);
	assert_int_equal(err.code, EX_DATAERR);
	assert_non_null(strstr(err.msg, "nested deeper than 32"));
	/* The message shows a bounded part of the value. */
	assert_true(strlen(err.msg) < 300);
	assert_int_equal(l.n, 0);
	free(open);
	free(close);
	buf_release(&b);
	error_release(&err);
}

static void
addr_parse_list__over_64k__fails(void **state)
{
	struct addr_list	 l = ADDR_LIST_INIT;
	struct error		 err = ERROR_INIT;
	struct buf		 b = BUF_INIT;

	(void)state;
	/* 65536 bytes: accepted. */
	while (b.len + 5 <= 65536)
		buf_addstr(&b, "a@b, ");
	while (b.len < 65536)
		buf_addch(&b, ' ');
	assert_int_equal(addr_parse_list(buf_str(&b), &l, &err), 0);
	assert_int_equal(l.n, 65536 / 5);
	addr_list_release(&l);
	buf_addch(&b, ' ');
	assert_int_equal(addr_parse_list(buf_str(&b), &l, &err), -1);
	assert_int_equal(err.code, EX_DATAERR);
	assert_non_null(strstr(err.msg, "longer than 65536 bytes"));
	assert_true(strlen(err.msg) < 300);
	assert_int_equal(l.n, 0);
	buf_release(&b);
	error_release(&err);
}

/*
 * Every prefix of a string with every construct, each in a buffer of
 * exactly its size: valgrind or ASan catches any read past the NUL.
 */
static void
addr_parse_list__every_prefix__no_overread(void **state)
{
	static const char tricky[] =
	    "\"A; \\\"Q\\\" N\" <@r1,@r2:to5(c \\) (d))@example.com>,, "
	    "g(x (y) \\) z): root (Cron), \"a;b\"@[1.2.3.4];, "
	    "J\xc3\xb6rg <x . y@(h) z>, =?utf-8?q?x?= <\"q\\\\\"@d>, team:";
	size_t	n, len = strlen(tricky);
	int	ok = 0;

	(void)state;
	for (n = 0; n <= len; n++) {
		struct addr_list	 l = ADDR_LIST_INIT;
		struct error		 err = ERROR_INIT;
		char			*s = xmalloc(n + 1), *q;
		int			 rc;

		memcpy(s, tricky, n);
		s[n] = '\0';
		rc = addr_parse_list(s, &l, &err);
		if (rc == 0) {
			check_spans(s, n, &l);
			ok++;
		} else
			check_no_crlf(&err);
		q = addr_qualify_list(s, "d", &err);
		assert_int_equal(q != NULL, rc == 0);
		free(q);
		addr_list_release(&l);
		error_release(&err);
		free(s);
	}
	/* The whole string and a fair number of prefixes parse. */
	{
		struct addr_list	l = ADDR_LIST_INIT;
		struct error		err = ERROR_INIT;

		assert_int_equal(addr_parse_list(tricky, &l, &err), 0);
		assert_int_equal(l.n, 5);
		assert_string_equal(l.v[0].spec, "to5@example.com");
		assert_string_equal(l.v[0].display, "A; \"Q\" N");
		assert_string_equal(l.v[1].spec, "root");
		assert_string_equal(l.v[2].spec, "\"a;b\"@[1.2.3.4]");
		assert_string_equal(l.v[3].spec, "x.y@z");
		assert_string_equal(l.v[4].spec, "\"q\\\\\"@d");
		addr_list_release(&l);
	}
	assert_true(ok > 10);
}

/*
 * Bounded random strings over the bytes the grammar cares about: no
 * crash, spans in range, and qualifying then re-parsing gives the same
 * mailboxes, all with a domain.
 */
static void
addr_parse_list__random_input__consistent(void **state)
{
	static const char alphabet[] = "a@b.\"\\()<>,:;[] \t-=?\x01\xc3\xa9";
	uint32_t	seed = 12345;
	int		iter, parsed = 0;
	size_t		n, k;
	char		s[48];

	(void)state;
	for (iter = 0; iter < 20000; iter++) {
		struct addr_list	 l = ADDR_LIST_INIT, l2 = ADDR_LIST_INIT;
		struct error		 err = ERROR_INIT;
		char			*q;

		seed = seed * 1103515245u + 12345u;
		n = (seed >> 16) % (sizeof(s) - 1);
		for (k = 0; k < n; k++) {
			seed = seed * 1103515245u + 12345u;
			s[k] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		s[n] = '\0';
		if (addr_parse_list(s, &l, &err) == -1) {
			check_no_crlf(&err);
			assert_int_equal(err.code, EX_DATAERR);
			error_release(&err);
			continue;
		}
		parsed++;
		check_spans(s, n, &l);
		q = addr_qualify_list(s, "d", &err);
		assert_non_null(q);
		assert_int_equal(addr_parse_list(q, &l2, &err), 0);
		assert_int_equal(l2.n, l.n);
		for (k = 0; k < l.n; k++) {
			assert_int_equal(l2.v[k].has_domain, 1);
			if (l.v[k].has_domain)
				assert_string_equal(l2.v[k].spec, l.v[k].spec);
		}
		free(q);
		addr_list_release(&l);
		addr_list_release(&l2);
	}
	assert_true(parsed > 100);
}

static void
addr_qualify_list__bare_names__get_domain_byte_exact(void **state)
{
	static const struct {
		const char	*in;
		const char	*out;
	} cases[] = {
		{ "root (Cron Daemon)", "root@d (Cron Daemon)" },
		{ "Cron Daemon <root>", "Cron Daemon <root@d>" },
		{ "a@b, root", "a@b, root@d" },
		{ "\"x y\"", "\"x y\"@d" },
		{ "a@b", "a@b" },
		{ "", "" },
		{ "undisclosed-recipients:;", "undisclosed-recipients:;" },
		{ "team: root, a@b, \"Bob\" <bob>;",
		    "team: root@d, a@b, \"Bob\" <bob@d>;" },
		{ "  root  ,,  admin (x) ", "  root@d  ,,  admin@d (x) " },
		{ "<@r:root>", "<@r:root@d>" },
		{ "first . last", "first . last@d" },
		{ "\"abc\" (q)", "\"abc\"@d (q)" },
		{ "A (c) <x@y>, b", "A (c) <x@y>, b@d" },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error	 err = ERROR_INIT;
		char		*out;

		print_message("case %zu: %s\n", i, cases[i].in);
		out = addr_qualify_list(cases[i].in, "d", &err);
		assert_non_null(out);
		assert_string_equal(out, cases[i].out);
		free(out);
	}
}

static void
addr_qualify_list__malformed_value__fails(void **state)
{
	struct error	 err = ERROR_INIT;

	(void)state;
	assert_null(addr_qualify_list("\"x", "d", &err));
	assert_int_equal(err.code, EX_DATAERR);
	error_release(&err);
	assert_null(addr_qualify_list("root", "d\r\nBcc: x", &err));
	assert_int_equal(err.code, EX_DATAERR);
	error_release(&err);
	assert_null(addr_qualify_list("root", "", &err));
	assert_int_equal(err.code, EX_SOFTWARE);
	error_release(&err);
}

static void
addr_check_mailbox__valid__accepted(void **state)
{
	static const struct {
		const char	*s;
		int		 bare;
	} cases[] = {
		{ "a@b", 0 },
		{ "a.b@example.com", 0 },
		{ "user+tag@sub.example.org", 0 },
		{ "\"x y\"@b", 0 },
		{ "\"a\\\"b\"@c", 0 },
		{ "\"a@b\"@c", 0 },
		{ "!#$%&'*+/=?^_`{|}~@x", 0 },
		{ "a@b-c.d", 0 },
		{ "x@xn--bcher-kva.de", 0 },
		{ "a@[127.0.0.1]", 0 },
		{ "a@[IPv6:2001:db8::1]", 0 },
		{ "a@[x-tag:stuff]", 0 },
		{ "j\xc3\xb6rg@b\xc3\xbc\x63her.de", 0 },
		{ "root", 1 },
		{ "\"x y\"", 1 },
	};
	char	*s, *local, *label;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error	err = ERROR_INIT;
		int		rc;

		print_message("case %zu: %s\n", i, cases[i].s);
		rc = addr_check_mailbox(cases[i].s, cases[i].bare, &err);
		if (rc != 0)
			print_message("  error: %s\n", err.msg);
		assert_int_equal(rc, 0);
		assert_int_equal(err.code, EX_OK);
	}
	/* The limits themselves: 64-octet local part, 255-octet domain. */
	local = repeat('l', 64);
	label = repeat('x', 63);
	s = xasprintf("%s@%s.%s.%s.%s", local, label, label, label, label);
	assert_int_equal(strlen(strchr(s, '@') + 1), 255);
	assert_int_equal(addr_check_mailbox(s, 0, NULL), 0);
	free(s);
	free(local);
	free(label);
}

static void
addr_check_mailbox__invalid__refused(void **state)
{
	static const struct {
		const char	*s;
		int		 bare;
		int		 code;
		const char	*why;
	} cases[] = {
		{ "a@b>\r\nRCPT TO:<evil@x", 0, EX_DATAERR, "CR or LF" },
		{ "a@b\n", 0, EX_DATAERR, "CR or LF" },
		{ "a@b\rc", 1, EX_DATAERR, "CR or LF" },
		{ "-x@b", 0, EX_USAGE, "starts with '-'" },
		{ "-oQ/tmp/x@y", 1, EX_USAGE, "starts with '-'" },
		{ "-bv", 1, EX_USAGE, "starts with '-'" },
		{ "", 1, EX_DATAERR, "empty address" },
		{ "a b@c", 0, EX_DATAERR, "space" },
		{ "a@b c", 0, EX_DATAERR, "space" },
		{ "<a@b>", 0, EX_DATAERR, "'<' or '>'" },
		{ "a@b>", 0, EX_DATAERR, "'<' or '>'" },
		{ "a@b@c", 0, EX_DATAERR, "more than one '@'" },
		{ "@b", 0, EX_DATAERR, "empty local part" },
		{ "\"\"@b", 0, EX_DATAERR, "empty local part" },
		{ "a@", 0, EX_DATAERR, "empty domain" },
		{ "root", 0, EX_DATAERR, "missing domain" },
		{ "a@b\tc", 0, EX_DATAERR, "control character" },
		{ "a\x7f@b", 0, EX_DATAERR, "control character" },
		{ "a..b@c", 0, EX_DATAERR, "Dot-string" },
		{ ".a@b", 0, EX_DATAERR, "Dot-string" },
		{ "a.@b", 0, EX_DATAERR, "Dot-string" },
		{ "a(b)@c", 0, EX_DATAERR, "Dot-string" },
		{ "a@b..c", 0, EX_DATAERR, "empty label" },
		{ "a@b.", 0, EX_DATAERR, "empty label" },
		{ "a@-b.c", 0, EX_DATAERR, "starts with '-'" },
		{ "a@b-.c", 0, EX_DATAERR, "ends with '-'" },
		{ "a@b_c.d", 0, EX_DATAERR, "invalid character in domain" },
		{ "\"ab@c", 0, EX_DATAERR, "unterminated quoted string" },
		{ "\"a\"b@c", 0, EX_DATAERR, "text after the quoted local part" },
		{ "a\"b\"@c", 0, EX_DATAERR, "misplaced quote" },
		{ "a@[1.2.3]", 0, EX_DATAERR, "invalid IPv4" },
		{ "a@[IPv6:zz]", 0, EX_DATAERR, "invalid IPv6" },
		{ "a@[]", 0, EX_DATAERR, "empty address literal" },
		{ "a@[1.2.3.4", 0, EX_DATAERR, "unbalanced '['" },
		{ "\xff@b", 0, EX_DATAERR, "invalid UTF-8" },
		{ "\xc0\xaf@b", 0, EX_DATAERR, "invalid UTF-8" },
		{ "\xc3@b", 0, EX_DATAERR, "invalid UTF-8" },
	};
	struct error	 err = ERROR_INIT;
	char		*s, *t;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("case %zu: %s\n", i, cases[i].s);
		assert_int_equal(addr_check_mailbox(cases[i].s, cases[i].bare,
		    &err), -1);
		assert_int_equal(err.code, cases[i].code);
		check_no_crlf(&err);
		if (strstr(err.msg, cases[i].why) == NULL)
			fail_msg("message '%s' lacks '%s'", err.msg,
			    cases[i].why);
		error_release(&err);
	}
	/* The injection attempt is shown, escaped. */
	assert_int_equal(addr_check_mailbox("a@b>\r\nRCPT TO:<evil@x", 0,
	    &err), -1);
	assert_string_equal(err.msg, "invalid address "
	    "'a@b>\\r\\nRCPT TO:<evil@x': contains CR or LF");
	error_release(&err);

	/* One octet over each limit. */
	t = repeat('l', 65);
	s = xasprintf("%s@b", t);
	assert_int_equal(addr_check_mailbox(s, 0, &err), -1);
	assert_non_null(strstr(err.msg, "local part longer than 64"));
	error_release(&err);
	free(s);
	free(t);
	t = repeat('x', 60);
	s = xasprintf("a@%s.%s.%s.%s.abcdefghijkl", t, t, t, t);
	assert_int_equal(strlen(s) - 2, 256);
	assert_int_equal(addr_check_mailbox(s, 0, &err), -1);
	assert_int_equal(err.code, EX_DATAERR);
	assert_non_null(strstr(err.msg, "domain longer than 255"));
	/* Long subjects are cut in the message. */
	assert_true(strlen(err.msg) < 200);
	error_release(&err);
	free(s);
	free(t);
}

static void
addr_envelope_sender__forms__give_mailbox(void **state)
{
	static const struct {
		const char	*in;
		const char	*out;		/* NULL: must fail */
		int		 code;
	} cases[] = {
		{ "", "", EX_OK },
		{ "<>", "", EX_OK },
		{ "  <>  ", "", EX_OK },
		{ "<a@b>", "a@b", EX_OK },
		{ "Name <a@b>", "a@b", EX_OK },
		{ "\"Cron Daemon\" <root@h>", "root@h", EX_OK },
		{ "a@b", "a@b", EX_OK },
		{ " a@b (comment) ", "a@b", EX_OK },
		{ "root", "root", EX_OK },
		{ "\"x y\"@b", "\"x y\"@b", EX_OK },
		{ "-bv", NULL, EX_USAGE },
		{ " -f", NULL, EX_USAGE },
		{ "<-x@b>", NULL, EX_USAGE },
		{ "a@b, c@d", NULL, EX_DATAERR },
		{ "a@b\r\nRCPT TO:<x@y>", NULL, EX_DATAERR },
		{ "<a@b", NULL, EX_DATAERR },
		{ "g:;", NULL, EX_DATAERR },
		{ "Name <>", NULL, EX_DATAERR },
		{ "a@b_c", NULL, EX_DATAERR },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error	 err = ERROR_INIT;
		char		*out;

		print_message("case %zu: %s\n", i, cases[i].in);
		out = addr_envelope_sender(cases[i].in, &err);
		assert_int_equal(err.code, cases[i].code);
		if (cases[i].out == NULL) {
			assert_null(out);
			check_no_crlf(&err);
		} else {
			assert_non_null(out);
			assert_string_equal(out, cases[i].out);
		}
		free(out);
		error_release(&err);
	}
}

static void
addr_split_arg__lists__append_each_mailbox(void **state)
{
	static const struct {
		const char	*in;
		const char	*out;		/* joined by ' '; NULL: fails */
		int		 code;
	} cases[] = {
		{ "a@b,c@d", "a@b c@d", EX_OK },
		{ "a@b, Name <c@d>", "a@b c@d", EX_OK },
		{ "a@b,,c@d", "a@b c@d", EX_OK },
		{ "root", "root", EX_OK },
		{ "root, admin", "root admin", EX_OK },
		{ "\"x y\"@d", "\"x y\"@d", EX_OK },
		{ "team: a@b, c@d;", "a@b c@d", EX_OK },
		{ "-x", NULL, EX_USAGE },
		{ "  -x", NULL, EX_USAGE },
		{ "a@b, -x", NULL, EX_USAGE },
		{ "a@b, Name <-x@y>", NULL, EX_USAGE },
		{ "", NULL, EX_DATAERR },
		{ ",", NULL, EX_DATAERR },
		{ "a b@c", NULL, EX_DATAERR },
		{ "a@b\nc@d", NULL, EX_DATAERR },
		{ "a@b, c@d_e", NULL, EX_DATAERR },
	};
	size_t	i, k;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strlist	 out = STRLIST_INIT;
		struct error	 err = ERROR_INIT;
		struct buf	 b = BUF_INIT;
		int		 rc;

		print_message("case %zu: %s\n", i, cases[i].in);
		strlist_add(&out, "keep");
		rc = addr_split_arg(cases[i].in, &out, &err);
		assert_int_equal(err.code, cases[i].code);
		if (cases[i].out == NULL) {
			assert_int_equal(rc, -1);
			check_no_crlf(&err);
			/* Nothing appended on failure. */
			assert_int_equal(out.n, 1);
		} else {
			assert_int_equal(rc, 0);
			for (k = 1; k < out.n; k++)
				buf_printf(&b, "%s%s", k > 1 ? " " : "",
				    out.v[k]);
			assert_string_equal(buf_str(&b), cases[i].out);
		}
		assert_string_equal(out.v[0], "keep");
		buf_release(&b);
		strlist_release(&out);
		error_release(&err);
	}
}

static void
addr_domain__mailboxes__point_after_last_unquoted_at(void **state)
{
	static const struct {
		const char	*s;
		const char	*domain;	/* NULL: none */
	} cases[] = {
		{ "a@b", "b" },
		{ "a@b.example", "b.example" },
		{ "root", NULL },
		{ "", NULL },
		{ "a@", NULL },
		{ "\"a@b\"", NULL },
		{ "\"a@b\"@c", "c" },
		{ "\"a\\\"@b\"@c", "c" },
		{ "a@[127.0.0.1]", "[127.0.0.1]" },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char	*d = addr_domain(cases[i].s);

		print_message("case %zu: %s\n", i, cases[i].s);
		if (cases[i].domain == NULL) {
			assert_null(d);
			assert_int_equal(addr_has_domain(cases[i].s), 0);
		} else {
			assert_non_null(d);
			assert_string_equal(d, cases[i].domain);
			/* Borrowed from the argument. */
			assert_true(d > cases[i].s);
			assert_int_equal(addr_has_domain(cases[i].s), 1);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    addr_parse_list__valid_lists__yield_expected_mailboxes),
		cmocka_unit_test(
		    addr_parse_list__malformed_lists__fail_with_dataerr),
		cmocka_unit_test(addr_parse_list__deep_comments__capped_at_32),
		cmocka_unit_test(addr_parse_list__over_64k__fails),
		cmocka_unit_test(addr_parse_list__every_prefix__no_overread),
		cmocka_unit_test(addr_parse_list__random_input__consistent),
		cmocka_unit_test(
		    addr_qualify_list__bare_names__get_domain_byte_exact),
		cmocka_unit_test(addr_qualify_list__malformed_value__fails),
		cmocka_unit_test(addr_check_mailbox__valid__accepted),
		cmocka_unit_test(addr_check_mailbox__invalid__refused),
		cmocka_unit_test(addr_envelope_sender__forms__give_mailbox),
		cmocka_unit_test(addr_split_arg__lists__append_each_mailbox),
		cmocka_unit_test(
		    addr_domain__mailboxes__point_after_last_unquoted_at),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
