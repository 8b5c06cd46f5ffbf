/*
 * Unit tests for the encoders (hdrenc.c): base64 against RFC 4648, the
 * quoted-printable filter, RFC 2047 words and folding, RFC 2231
 * parameters, mailbox lists.
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

#include "hdrenc.h"
#include "util.h"
#include "xmalloc.h"

/* A small base64 decoder for checking (not the code under test). */
static size_t
b64_decode(const char *s, size_t n, unsigned char *out)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned	acc = 0;
	int		bits = 0;
	size_t		i, o = 0;
	const char	*c;

	for (i = 0; i < n; i++) {
		if (s[i] == '=' || s[i] == '\r' || s[i] == '\n')
			continue;
		c = strchr(tab, s[i]);
		assert_non_null(c);
		acc = (acc << 6) | (unsigned)(c - tab);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return o;
}

static void
b64_enc__rfc4648_vectors__match(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	struct b64_enc	e;
	struct buf	b = BUF_INIT;
	size_t		i, j;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		/* whole, then one octet at a time */
		buf_reset(&b);
		b64_enc_init(&e);
		b64_enc_data(&e, v[i].in, strlen(v[i].in), &b);
		b64_enc_finish(&e, &b);
		assert_string_equal(buf_str(&b), v[i].out);
		buf_reset(&b);
		b64_enc_init(&e);
		for (j = 0; v[i].in[j] != '\0'; j++)
			b64_enc_data(&e, v[i].in + j, 1, &b);
		b64_enc_finish(&e, &b);
		assert_string_equal(buf_str(&b), v[i].out);
		assert_int_equal(b64_enc_size((long long)strlen(v[i].in)),
		    strlen(v[i].out));
	}
	buf_release(&b);
}

static void
b64_enc__any_length__76_columns_exact_size_round_trip(void **state)
{
	unsigned char	 in[700], dec[700];
	struct b64_enc	 e;
	struct buf	 b = BUF_INIT;
	size_t		 n, i, split;
	const char	*line, *end;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 37 + 11);
	for (n = 0; n <= sizeof(in); n += (n < 120 ? 1 : 7)) {
		buf_reset(&b);
		b64_enc_init(&e);
		split = n / 3 + 1 < n ? n / 3 + 1 : n;
		b64_enc_data(&e, in, split, &b);
		b64_enc_data(&e, in + split, n - split, &b);
		b64_enc_finish(&e, &b);
		assert_int_equal(b.len, (size_t)b64_enc_size((long long)n));
		for (line = buf_str(&b); ; line = end + 2) {
			end = strstr(line, "\r\n");
			if (end == NULL) {
				assert_true(strlen(line) <= 76);
				break;
			}
			assert_int_equal(end - line, 76);
		}
		assert_int_equal(b64_decode(b.data, b.len, dec), n);
		assert_memory_equal(dec, in, n);
	}
	buf_release(&b);
}

static char *
qp(const char *text)
{
	struct qp_enc	 q;
	struct buf	 b = BUF_INIT;
	const char	*p, *nl;

	qp_enc_init(&q);
	for (p = text; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL) {
			qp_enc_data(&q, p, strlen(p), &b);
			break;
		}
		qp_enc_data(&q, p, (size_t)(nl - p), &b);
		qp_enc_eol(&q, &b);
	}
	qp_enc_finish(&q, &b);
	return buf_detach(&b);
}

static void
qp_enc__cases__encoded(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "From here\n", "=46rom here\r\n" },
		{ "Fro\n", "Fro\r\n" },
		{ "x From y\n", "x From y\r\n" },
		{ "trailing \n", "trailing=20\r\n" },
		{ "tab\t\n", "tab=09\r\n" },
		{ "a=b\n", "a=3Db\r\n" },
		{ "caf\xc3\xa9\n", "caf=C3=A9\r\n" },
		{ "no newline", "no newline=\r\n" },
		{ "--=_x\n", "--=3D_x\r\n" },
	};
	size_t	i;
	char	*r;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		r = qp(v[i].in);
		assert_string_equal(r, v[i].out);
		free(r);
	}
}

static void
qp_enc__long_line__soft_breaks_within_76(void **state)
{
	char	 in[400], *r, *line, *end;
	size_t	 i, total = 0;

	(void)state;
	for (i = 0; i < sizeof(in) - 2; i++)
		in[i] = i % 7 == 0 ? '=' : 'a';	/* "=3D" triplets */
	in[sizeof(in) - 2] = '\n';
	in[sizeof(in) - 1] = '\0';
	r = qp(in);
	for (line = r; (end = strstr(line, "\r\n")) != NULL; line = end + 2) {
		assert_true(end - line <= 76);
		/* a soft break never splits a triplet */
		if (end[-1] == '=')
			assert_true(end - line < 3 || end[-3] != '=' ||
			    end - line == 1);
		total++;
	}
	assert_true(total > 5);
	free(r);
}

/* Decode an unstructured value as an RFC 2047 reader does (B words). */
static char *
decode_2047(const char *v)
{
	struct buf	 out = BUF_INIT, ws = BUF_INIT;
	unsigned char	 dec[200];
	const char	*p = v, *e;
	int		 prev_ew = 0;
	size_t		 n;

	while (*p != '\0') {
		buf_reset(&ws);
		while (*p == ' ' || *p == '\t' || *p == '\n') {
			if (*p != '\n')
				buf_addch(&ws, *p);
			p++;
		}
		if (strncmp(p, "=?UTF-8?B?", 10) == 0) {
			e = strstr(p + 10, "?=");
			assert_non_null(e);
			/* RFC 2047 2: at most 75 octets */
			assert_true(e + 2 - p <= 75);
			n = b64_decode(p + 10, (size_t)(e - p - 10), dec);
			/* each word is valid UTF-8 alone: no split character */
			assert_true(utf8_valid((const char *)dec, n));
			if (!prev_ew)
				buf_add(&out, ws.data, ws.len);
			buf_add(&out, dec, n);
			prev_ew = 1;
			p = e + 2;
		} else {
			buf_add(&out, ws.data, ws.len);
			e = p + strcspn(p, " \t\n");
			buf_add(&out, p, (size_t)(e - p));
			prev_ew = 0;
			p = e;
		}
	}
	buf_release(&ws);
	return buf_detach(&out);
}

/* Every line of "Name: value" within 78 octets. */
static void
assert_lines_fit(const char *name, const char *value)
{
	size_t		 col = strlen(name) + 2;
	const char	*p;

	for (p = value; *p != '\0'; p++) {
		if (*p == '\n') {
			assert_true(col <= 78);
			assert_true(p[1] == ' ' || p[1] == '\t');
			col = 0;
		} else
			col++;
	}
	assert_true(col <= 78);
}

static void
hdrenc_unstructured__utf8_texts__round_trip_folded_within_78(void **state)
{
	static const char *const v[] = {
		"plain ascii",
		"Backup of h\xc3\xb6st done",
		"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\x86"
		"\xe3\x82\xad\xe3\x82\xb9\xe3\x83\x88\xe3\x82\x82\xe5\x90\xab"
		"\xe3\x82\x80\xe9\x95\xb7\xe3\x81\x84\xe4\xbb\xb6\xe5\x90\x8d"
		"\xe3\x81\xa7\xe3\x81\x99\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"
		"\xe3\x81\xae\xe3\x83\x86\xe3\x82\xad\xe3\x82\xb9\xe3\x83\x88",
		"emoji \xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f"
		"\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0"
		"\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
		"\xf0\x9f\x98\x80 and more words after the run of emoji here",
		"a long ascii subject that has many words and must be folded "
		"somewhere before the seventy-eighth column of the line",
		"mixed \xc3\xa4 plain \xc3\xb6 plain \xc3\xbc plain \xc3\x9f "
		"plain \xc3\xa9 plain \xc3\xa8 plain \xc3\xaa plain end",
		"looks like =?UTF-8?B?eA==?= a word",
		"two  spaces\tand tab",
	};
	size_t	i;
	char	*enc, *dec;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		enc = hdrenc_unstructured(v[i], strlen("Subject"));
		assert_lines_fit("Subject", enc);
		dec = decode_2047(enc);
		assert_string_equal(dec, v[i]);
		free(dec);
		free(enc);
	}
	/* short ASCII is left alone */
	enc = hdrenc_unstructured("plain ascii", 7);
	assert_string_equal(enc, "plain ascii");
	free(enc);
	/* "=?" in plain text is encoded, so no reader decodes it */
	enc = hdrenc_unstructured("x =?a?b?c?= y", 7);
	assert_null(strstr(enc, "=?a?b"));
	free(enc);
}

static void
hdrenc_fold__quoted_string__folds_outside_quotes_only(void **state)
{
	char	*f;

	(void)state;
	f = hdrenc_fold("attachment; filename=\"a name with many spaces in "
	    "it that goes on and on past the limit\"; size=12", 19);
	/* the only fold points are the two spaces after ';' */
	assert_non_null(strstr(f, "\"a name with many spaces in it that goes "
	    "on and on past the limit\";"));
	assert_non_null(strchr(f, '\n'));
	free(f);
	f = hdrenc_fold("short", 7);
	assert_string_equal(f, "short");
	free(f);
}

static void
hdrenc_param__cases__encoded(void **state)
{
	static const struct {
		const char	*value;
		int		 ascii_only;
		const char	*out;
	} v[] = {
		{ "report.pdf", 0, "; filename=report.pdf" },
		{ "my report.pdf", 0, "; filename=\"my report.pdf\"" },
		{ "a\"b\\c", 0, "; filename=\"a\\\"b\\\\c\"" },
		{ "\xc3\x84rger.txt", 0, "; filename*=UTF-8''%C3%84rger.txt" },
		{ "\xc3\x84rger.txt", 1, "; filename=\"_rger.txt\"" },
		{ "a b\xe2\x82\xac", 0, "; filename*=UTF-8''a%20b%E2%82%AC" },
		{ "\xe2\x82\xac\x01", 1, "; filename=\"__\"" },
	};
	struct buf	b = BUF_INIT;
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		buf_reset(&b);
		hdrenc_param(&b, "filename", v[i].value, v[i].ascii_only);
		assert_string_equal(buf_str(&b), v[i].out);
	}
	buf_release(&b);
}

static void
hdrenc_param__long_utf8__continuations_end_between_characters(void **state)
{
	struct buf	 b = BUF_INIT;
	const char	*p;
	char		 name[200];
	int		 k, i;

	(void)state;
	for (i = 0; i < 40; i++)
		memcpy(name + 2 * i, "\xc3\xa9", 2);	/* 40 x e-acute */
	name[80] = '\0';
	hdrenc_param(&b, "filename", name, 0);
	assert_non_null(strstr(buf_str(&b), "; filename*0*=UTF-8''%C3%A9"));
	assert_non_null(strstr(buf_str(&b), "; filename*1*=%C3%A9"));
	/* each piece holds whole characters: 6-character multiples */
	for (p = buf_str(&b); (p = strstr(p, "*=")) != NULL; p += 2) {
		const char *v = p + 2, *e;

		if (strncmp(v, "UTF-8''", 7) == 0)
			v += 7;
		e = strchr(v, ';');
		k = e != NULL ? (int)(e - v) : (int)strlen(v);
		assert_true(k <= 66);
		assert_int_equal(k % 6, 0);
	}
	buf_release(&b);
}

static void
hdrenc_mailboxes__utf8_display__encoded_never_quoted(void **state)
{
	const char	*disp[] = { "J\xc3\xb6rg M\xc3\xbcller", NULL,
	    "Smith, John" };
	const char	*spec[] = { "j@example.org", "plain@example.org",
	    "john@example.org" };
	char		*v;

	(void)state;
	v = hdrenc_mailboxes(disp, spec, 3, 2);
	assert_string_equal(v, "=?UTF-8?B?SsO2cmcgTcO8bGxlcg==?= "
	    "<j@example.org>, plain@example.org,\n \"Smith, John\" "
	    "<john@example.org>");
	assert_lines_fit("To", v);
	free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(b64_enc__rfc4648_vectors__match),
		cmocka_unit_test(
		    b64_enc__any_length__76_columns_exact_size_round_trip),
		cmocka_unit_test(qp_enc__cases__encoded),
		cmocka_unit_test(qp_enc__long_line__soft_breaks_within_76),
		cmocka_unit_test(
		    hdrenc_unstructured__utf8_texts__round_trip_folded_within_78),
		cmocka_unit_test(
		    hdrenc_fold__quoted_string__folds_outside_quotes_only),
		cmocka_unit_test(hdrenc_param__cases__encoded),
		cmocka_unit_test(
		    hdrenc_param__long_utf8__continuations_end_between_characters),
		cmocka_unit_test(
		    hdrenc_mailboxes__utf8_display__encoded_never_quoted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
