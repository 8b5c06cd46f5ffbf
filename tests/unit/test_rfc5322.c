/*
 * Unit tests for the RFC 5322 header-block parser and the encoders in
 * hdrenc.c that the formatter uses (quoted-printable, RFC 2047 phrases,
 * UTF-8 checks).
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "hdrenc.h"
#include "rfc5322.h"
#include "util.h"

/* Push a block of "\n"-separated lines; returns the last state. */
static int
push_block(struct header_list *hl, const char *text, struct error *err,
    int *lines_taken)
{
	struct rfc5322	 p;
	const char	*s = text, *e;
	int		 st = RFC5322_MORE;

	rfc5322_init(&p, hl);
	*lines_taken = 0;
	while (*s != '\0') {
		e = strchr(s, '\n');
		if (e == NULL)
			e = s + strlen(s);
		st = rfc5322_push(&p, s, (size_t)(e - s), err);
		if (st == -1)
			break;
		(*lines_taken)++;
		if (st != RFC5322_MORE)
			break;
		s = *e ? e + 1 : e;
	}
	if (st == RFC5322_MORE && rfc5322_finish(&p, err) == -1)
		st = -1;
	rfc5322_release(&p);
	return st;
}

static void
rfc5322_push__folded_field__unfolds_value_keeps_raw(void **state)
{
	struct header_list	 hl = HEADER_LIST_INIT;
	struct error		 err = ERROR_INIT;
	int			 n;

	(void)state;
	assert_int_equal(push_block(&hl, "Subject: a\n\tb\n  c\nTo: x@y\n\n",
	    &err, &n), RFC5322_END);
	assert_int_equal(hl.n, 2);
	assert_string_equal(hl.v[0].name, "Subject");
	assert_string_equal(hl.v[0].raw, " a\n\tb\n  c");
	assert_string_equal(hl.v[0].value, "a\tb  c");
	assert_string_equal(hl.v[1].value, "x@y");
	header_list_release(&hl);
}

static void
rfc5322_push__non_header_line__ends_block_as_body(void **state)
{
	static const struct {
		const char	*text;
		size_t		 fields;
		int		 lines;	/* lines consumed incl. the last */
	} cases[] = {
		{ "Subject: x\nhello world\n", 1, 2 },
		{ "hello: world\n", 1, 1 },	/* looks like a field */
		{ "hello\nSubject: x\n", 0, 1 },
		{ " leading fold\n", 0, 1 },
		{ "Bad Name: x\n", 0, 1 },	/* space in a name */
		{ ": empty name\n", 0, 1 },
		{ "Subject : spaced\n\n", 1, 2 },	/* obs WSP before ':' */
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct header_list	hl = HEADER_LIST_INIT;
		struct error		err = ERROR_INIT;
		int			n, st;

		st = push_block(&hl, cases[i].text, &err, &n);
		assert_int_not_equal(st, -1);
		assert_int_equal(hl.n, cases[i].fields);
		assert_int_equal(n, cases[i].lines);
		header_list_release(&hl);
	}
}

static void
rfc5322_push__nul_in_header__dataerr(void **state)
{
	struct header_list	 hl = HEADER_LIST_INIT;
	struct error		 err = ERROR_INIT;
	struct rfc5322		 p;

	(void)state;
	rfc5322_init(&p, &hl);
	assert_int_equal(rfc5322_push(&p, "Subject: a\0b", 12, &err), -1);
	assert_int_equal(err.code, EX_DATAERR);
	assert_non_null(strstr(err.msg, "NUL"));
	rfc5322_release(&p);
	header_list_release(&hl);
	error_release(&err);
}

static void
rfc5322_push__oversized_field__dataerr(void **state)
{
	struct header_list	 hl = HEADER_LIST_INIT;
	struct error		 err = ERROR_INIT;
	struct rfc5322		 p;
	char			*line = malloc(1000);
	int			 i, st = 0;

	(void)state;
	memset(line, 'x', 1000);
	line[0] = ' ';
	rfc5322_init(&p, &hl);
	assert_int_equal(rfc5322_push(&p, "X-Big: y", 8, &err), RFC5322_MORE);
	for (i = 0; i < 100 && st != -1; i++)
		st = rfc5322_push(&p, line, 1000, &err);
	assert_int_equal(st, -1);
	assert_int_equal(err.code, EX_DATAERR);
	assert_non_null(strstr(err.msg, "X-Big"));
	free(line);
	rfc5322_release(&p);
	header_list_release(&hl);
	error_release(&err);
}

static void
rfc5322_push__too_many_bytes__dataerr(void **state)
{
	struct header_list	 hl = HEADER_LIST_INIT;
	struct error		 err = ERROR_INIT;
	struct rfc5322		 p;
	char			 line[900];
	int			 i, st = 0;

	(void)state;
	memset(line, 'v', sizeof(line));
	memcpy(line, "X-A: ", 5);
	rfc5322_init(&p, &hl);
	for (i = 0; i < 2000 && st != -1; i++)
		st = rfc5322_push(&p, line, sizeof(line), &err);
	assert_int_equal(st, -1);
	assert_int_equal(err.code, EX_DATAERR);
	assert_true(hl.n < 2000);
	rfc5322_release(&p);
	header_list_release(&hl);
	error_release(&err);
}

static void
header_list__find_set_remove__case_insensitive(void **state)
{
	struct header_list	hl = HEADER_LIST_INIT;

	(void)state;
	header_list_add(&hl, "To", " a@b");
	header_list_add(&hl, "Bcc", " secret@b");
	header_list_add(&hl, "to", " c@d");
	assert_int_equal(header_list_find(&hl, "TO", 0), 0);
	assert_int_equal(header_list_find(&hl, "To", 1), 2);
	assert_int_equal(header_list_find(&hl, "Cc", 0), -1);
	header_list_remove(&hl, 1);
	assert_int_equal(hl.n, 2);
	assert_int_equal(header_list_find(&hl, "bcc", 0), -1);
	header_list_set(&hl, 0, "x@y");
	assert_string_equal(hl.v[0].raw, " x@y");
	assert_string_equal(hl.v[0].value, "x@y");
	header_list_release(&hl);
}

/* Encode text given with "\n" line breaks; returns the allocated output. */
static char *
qp(const char *in)
{
	struct qp_enc	 q;
	struct buf	 out = BUF_INIT;
	const char	*s = in, *e;

	qp_enc_init(&q);
	for (;;) {
		e = strchr(s, '\n');
		if (e == NULL) {
			qp_enc_data(&q, s, strlen(s), &out);
			break;
		}
		qp_enc_data(&q, s, (size_t)(e - s), &out);
		qp_enc_eol(&q, &out);
		s = e + 1;
	}
	qp_enc_finish(&q, &out);
	return buf_detach(&out);
}

static void
qp_enc__table__rfc2045_rules(void **state)
{
	static const struct {
		const char	*in;
		const char	*out;
	} cases[] = {
		{ "hello\n", "hello\r\n" },
		{ "a=b\n", "a=3Db\r\n" },
		{ "trailing \n", "trailing=20\r\n" },
		{ "tab\t\n", "tab=09\r\n" },
		{ "mid space ok\n", "mid space ok\r\n" },
		{ "From here\n", "=46rom here\r\n" },
		{ "Fro\n", "Fro\r\n" },
		{ "From\n", "From\r\n" },
		{ "x\nFrom y\n", "x\r\n=46rom y\r\n" },
		{ "caf\xc3\xa9\n", "caf=C3=A9\r\n" },
		{ "no newline", "no newline=\r\n" },
		{ "", "" },
		{ "\n\n", "\r\n\r\n" },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *o = qp(cases[i].in);

		assert_string_equal(o, cases[i].out);
		free(o);
	}
}

static void
qp_enc__long_line__soft_breaks_at_76(void **state)
{
	char	 in[5001], *o, *line, *save = NULL;
	size_t	 total = 0;

	(void)state;
	memset(in, 'a', 5000);
	in[5000] = '\0';
	/* Put "=" signs where a triplet could straddle a break. */
	in[74] = in[75] = in[150] = '=';
	o = qp(in);
	for (line = strtok_r(o, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		size_t n = strlen(line);

		assert_true(n >= 1 && line[n - 1] == '\r');
		assert_true(n - 1 <= 76);
		/* A line ends in a soft break or a complete triplet. */
		if (n >= 3)
			assert_true(line[n - 2] == '=' || line[n - 3] != '=' ||
			    line[n - 2] != '\r');
		total += n - 1;
	}
	assert_true(total > 5000);
	free(o);
}

static void
utf8_valid__table__accepts_and_refuses(void **state)
{
	static const struct {
		const char	*s;
		int		 ok;
	} cases[] = {
		{ "plain", 1 },
		{ "caf\xc3\xa9", 1 },
		{ "\xe2\x82\xac", 1 },
		{ "\xf0\x9f\x98\x80", 1 },
		{ "\xc3", 0 },			/* truncated */
		{ "\xc0\xaf", 0 },		/* overlong */
		{ "\xed\xa0\x80", 0 },		/* surrogate */
		{ "\xff", 0 },
		{ "latin1 \xe9t\xe9", 0 },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(utf8_valid(cases[i].s, strlen(cases[i].s)),
		    cases[i].ok);
}

static void
hdrenc_phrase__table__atom_quoted_or_encoded(void **state)
{
	static const struct {
		const char	*in;
		const char	*out;
	} cases[] = {
		{ "Cron Daemon", "Cron Daemon" },
		{ "Doe, John", "\"Doe, John\"" },
		{ "say \"hi\"", "\"say \\\"hi\\\"\"" },
		{ "J. R.", "\"J. R.\"" },
		{ "J\xc3\xb6rg", "=?UTF-8?B?SsO2cmc=?=" },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *o = hdrenc_phrase(cases[i].in);

		assert_string_equal(o, cases[i].out);
		free(o);
	}
}

static void
hdrenc_phrase__long_utf8__words_under_76_whole_chars(void **state)
{
	char	 in[301], *o, *w, *save = NULL;
	int	 i;

	(void)state;
	/* 100 three-octet characters. */
	for (i = 0; i < 100; i++)
		memcpy(in + 3 * i, "\xe2\x82\xac", 3);
	in[300] = '\0';
	o = hdrenc_phrase(in);
	for (w = strtok_r(o, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		assert_true(strlen(w) <= 75);
		assert_true(strncmp(w, "=?UTF-8?B?", 10) == 0);
		/* 45 octets = 15 whole characters per word, none split. */
		assert_true((strlen(w) - 12) % 4 == 0);
	}
	free(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc5322_push__folded_field__unfolds_value_keeps_raw),
		cmocka_unit_test(rfc5322_push__non_header_line__ends_block_as_body),
		cmocka_unit_test(rfc5322_push__nul_in_header__dataerr),
		cmocka_unit_test(rfc5322_push__oversized_field__dataerr),
		cmocka_unit_test(rfc5322_push__too_many_bytes__dataerr),
		cmocka_unit_test(header_list__find_set_remove__case_insensitive),
		cmocka_unit_test(qp_enc__table__rfc2045_rules),
		cmocka_unit_test(qp_enc__long_line__soft_breaks_at_76),
		cmocka_unit_test(utf8_valid__table__accepts_and_refuses),
		cmocka_unit_test(hdrenc_phrase__table__atom_quoted_or_encoded),
		cmocka_unit_test(hdrenc_phrase__long_utf8__words_under_76_whole_chars),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
