/*
 * Unit tests for compose mode (mime.c): the -a argument syntax, the MIME
 * structure of composed messages read back through the generator, exact
 * sizes, rewinding, and the refusals (line breaks, missing files).
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "error.h"
#include "message.h"
#include "mime.h"
#include "util.h"
#include "xmalloc.h"

static char	dir[] = "/tmp/postie-test-mime.XXXXXX";
/* cli_opts holds owned (non-const) strings: give it arrays */
static char	s_hello[] = "hello";
static char	s_inject[] = "x\r\nBcc: v@example.org";
static char	s_bad[] = "\xff bad";
static char	cs_latin1[] = "ISO-8859-1";
static char	cs_none[] = "no-such-charset";

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char	*cmd = xasprintf("rm -rf '%s'", dir);
	int	 rc;

	(void)state;
	rc = system(cmd);
	free(cmd);
	return rc == 0 ? 0 : -1;
}

/* Write a file under dir; returns its path (allocated). */
static char *
mkfile(const char *name, const void *data, size_t len)
{
	char	*path = xasprintf("%s/%s", dir, name);
	int	 fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd != -1);
	assert_int_equal(util_write_all(fd, data, len), 0);
	close(fd);
	return path;
}

static void
message_opts_init(struct message_opts *mo)
{
	memset(mo, 0, sizeof(*mo));
	mo->qualify_domain = "example.org";
	mo->msgid_domain = "example.org";
	mo->set_from_header = TRI_AUTO;
	mo->set_date_header = TRI_AUTO;
	mo->set_msgid_header = TRI_AUTO;
	mo->remove_bcc_headers = 1;
	mo->sender = "sender@example.org";
}

/*
 * Compose from o with the text in a file, finalize, and read the message
 * back through a reader (twice, to check rewinding).  Returns the bytes
 * or NULL with err set.
 */
static char *
compose(struct cli_opts *o, const char *text, size_t *lenp,
    struct strlist *rcpts, struct error *err)
{
	struct message_opts	 mo;
	struct compose_opts	 co;
	struct message		*msg;
	struct message_reader	*r;
	struct buf		 b = BUF_INIT, b2 = BUF_INIT;
	char			 blk[333];	/* odd size: crosses parts */
	char			*tpath = mkfile("stdin", text, strlen(text));
	ssize_t			 n;
	int			 fd = open(tpath, O_RDONLY);

	free(tpath);
	message_opts_init(&mo);
	cli_compose_opts(o, &co);
	msg = mime_compose(&co, &mo, fd, rcpts, err);
	close(fd);
	if (msg == NULL)
		return NULL;
	assert_int_equal(message_finalize(msg, &mo, err), 0);
	r = message_reader_new(msg);
	while ((n = message_reader_read(r, blk, sizeof(blk), err)) > 0)
		buf_add(&b, blk, (size_t)n);
	assert_int_equal(n, 0);
	message_reader_rewind(r);
	while ((n = message_reader_read(r, blk, sizeof(blk), err)) > 0)
		buf_add(&b2, blk, (size_t)n);
	assert_int_equal(b.len, b2.len);
	assert_memory_equal(b.data, b2.data, b.len);
	/* the size announced before sending is exact */
	assert_int_equal((size_t)message_size(msg), b.len);
	message_reader_free(r);
	message_free(msg);
	buf_release(&b2);
	*lenp = b.len;
	return buf_detach(&b);
}

static size_t
count(const char *hay, const char *needle)
{
	size_t	n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay++)
		n++;
	return n;
}

static void
mime_parse_file_arg__cases__split(void **state)
{
	static const struct {
		const char *arg, *path, *type, *name;
		int rc;
	} v[] = {
		{ "a.pdf", "a.pdf", NULL, NULL, 0 },
		{ "a.pdf;type=application/pdf", "a.pdf", "application/pdf",
		  NULL, 0 },
		{ "a;b.txt;name=x y;type=text/plain", "a;b.txt", "text/plain",
		  "x y", 0 },
		{ "f;name=a;b", "f", NULL, "a;b", 0 },
		{ ";type=text/plain", NULL, NULL, NULL, -1 },
		{ "f;name=", NULL, NULL, NULL, -1 },
	};
	struct error	 err = ERROR_INIT;
	char		*p, *t, *n;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		p = t = n = NULL;
		assert_int_equal(mime_parse_file_arg(v[i].arg, &p, &t, &n,
		    &err), v[i].rc);
		if (v[i].rc == -1) {
			assert_int_equal(err.code, EX_USAGE);
			error_release(&err);
			continue;
		}
		assert_string_equal(p, v[i].path);
		if (v[i].type == NULL)
			assert_null(t);
		else
			assert_string_equal(t, v[i].type);
		if (v[i].name == NULL)
			assert_null(n);
		else
			assert_string_equal(n, v[i].name);
		free(p);
		free(t);
		free(n);
	}
}

static void
mime_compose__ascii_text__single_7bit_part(void **state)
{
	struct cli_opts	 o;
	struct strlist	 rcpts = STRLIST_INIT;
	struct error	 err = ERROR_INIT;
	size_t		 len;
	char		*m;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.compose = 1;
	o.subject = s_hello;
	strlist_add(&o.rcpts, "root");
	strlist_add(&o.cc, "c@example.com");
	strlist_add(&o.bcc, "hidden@example.com");
	m = compose(&o, "line one\nline two", &len, &rcpts, &err);
	assert_non_null(m);
	assert_non_null(strstr(m, "To: root@example.org\r\n"));
	assert_non_null(strstr(m, "Cc: c@example.com\r\n"));
	assert_non_null(strstr(m, "Subject: hello\r\n"));
	assert_non_null(strstr(m, "Content-Type: text/plain; "
	    "charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n"));
	assert_null(strstr(m, "hidden"));
	/* a last line without newline still ends in CRLF */
	assert_non_null(strstr(m, "\r\n\r\nline one\r\nline two\r\n"));
	assert_int_equal(m[len - 1], '\n');
	/* envelope: operands, Cc and Bcc */
	assert_int_equal(rcpts.n, 3);
	assert_string_equal(rcpts.v[2], "hidden@example.com");
	free(m);
	strlist_release(&rcpts);
	strlist_release(&o.rcpts);
	strlist_release(&o.cc);
	strlist_release(&o.bcc);
}

static void
mime_compose__text_and_attachments__multipart_mixed(void **state)
{
	static const unsigned char bin[] = { 0, 1, 2, 0xff, 0xfe, '\r', '\n',
	    'x', 0x80 };
	struct cli_opts	 o;
	struct strlist	 rcpts = STRLIST_INIT;
	struct error	 err = ERROR_INIT;
	char		*bpath = mkfile("data.bin", bin, sizeof(bin));
	char		*tpath = mkfile("notes.txt", "a\nb\n", 4);
	char		*m, *b, *delim, *close, *arg;
	const char	*p;
	size_t		 len;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.compose = 1;
	strlist_add(&o.rcpts, "a@example.com");
	strlist_add(&o.attach, bpath);
	arg = xasprintf("%s;name=R\xc3\xa9sum\xc3\xa9.txt", tpath);
	strlist_add(&o.attach, arg);
	m = compose(&o, "Gr\xc3\xbc\xc3\x9f" "e\n", &len, &rcpts, &err);
	assert_non_null(m);
	p = strstr(m, "Content-Type: multipart/mixed; boundary=\"");
	assert_non_null(p);
	p += strlen("Content-Type: multipart/mixed; boundary=\"");
	b = xstrndup(p, strcspn(p, "\""));
	assert_true(strlen(b) >= 34);	/* 128 random bits in hex */
	delim = xasprintf("\r\n--%s\r\n", b);
	close = xasprintf("\r\n--%s--\r\n", b);
	/* three parts: text, binary, text attachment; closed once at the end */
	assert_int_equal(count(m, delim), 3);
	assert_non_null(strstr(m, close));
	assert_string_equal(m + len - strlen(close), close);
	assert_non_null(strstr(m, "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe"));
	/* binary: base64, no charset on a non-text type */
	assert_non_null(strstr(m, "Content-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment; filename=data.bin\r\n\r\n"
	    "AAEC//4NCniA\r\n--"));
	/* UTF-8 name: RFC 2231 in the disposition, plain in the type */
	assert_non_null(strstr(m, "name=\"R_sum_.txt\""));
	assert_non_null(strstr(m,
	    "filename*=UTF-8''R%C3%A9sum%C3%A9.txt"));
	free(b);
	free(delim);
	free(close);
	free(m);
	free(arg);
	free(bpath);
	free(tpath);
	strlist_release(&rcpts);
	strlist_release(&o.rcpts);
	strlist_release(&o.attach);
}

static void
mime_compose__html_only_and_inline__structure(void **state)
{
	struct cli_opts	 o;
	struct strlist	 rcpts = STRLIST_INIT;
	struct error	 err = ERROR_INIT;
	char		*hpath = mkfile("p.html", "<p>x</p>\n", 9);
	char		*ipath = mkfile("logo.gif", "GIF89a\1\0\1\0\0\0\0;", 14);
	char		*m;
	size_t		 len;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.compose = 1;
	o.html = hpath;
	strlist_add(&o.rcpts, "a@example.com");
	m = compose(&o, "", &len, &rcpts, &err);
	assert_non_null(m);
	assert_non_null(strstr(m, "Content-Type: text/html; charset=us-ascii"
	    "\r\n"));
	assert_null(strstr(m, "multipart"));
	free(m);
	strlist_release(&rcpts);

	strlist_add(&o.inlines, ipath);
	m = compose(&o, "text\n", &len, &rcpts, &err);
	assert_non_null(m);
	assert_non_null(strstr(m, "Content-Type: multipart/alternative;"));
	assert_non_null(strstr(m, "Content-Type: multipart/related;"));
	assert_non_null(strstr(m, "Content-ID: <logo.gif>\r\n"));
	assert_non_null(strstr(m, "Content-Disposition: inline; "
	    "filename=logo.gif\r\n"));
	free(m);
	strlist_release(&rcpts);
	strlist_release(&o.rcpts);
	strlist_release(&o.inlines);
	free(hpath);
	free(ipath);
}

static void
mime_compose__refusals__error_codes(void **state)
{
	struct cli_opts	 o;
	struct strlist	 rcpts = STRLIST_INIT;
	struct error	 err = ERROR_INIT;
	char		*missing = xasprintf("%s/none.pdf", dir);
	size_t		 len;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.compose = 1;
	strlist_add(&o.rcpts, "a@example.com");

	o.subject = s_inject;
	assert_null(compose(&o, "t\n", &len, &rcpts, &err));
	assert_int_equal(err.code, EX_DATAERR);
	error_release(&err);
	o.subject = s_bad;
	assert_null(compose(&o, "t\n", &len, &rcpts, &err));
	assert_int_equal(err.code, EX_DATAERR);
	error_release(&err);
	o.subject = NULL;

	assert_null(compose(&o, "caf\xe9\n", &len, &rcpts, &err));
	assert_int_equal(err.code, EX_DATAERR);
	assert_non_null(strstr(err.msg, "--charset"));
	error_release(&err);

	strlist_add(&o.attach, missing);
	assert_null(compose(&o, "t\n", &len, &rcpts, &err));
	assert_int_equal(err.code, EX_NOINPUT);
	assert_non_null(strstr(err.msg, "none.pdf"));
	error_release(&err);
	strlist_release(&o.attach);

	strlist_add(&o.attach, dir);
	assert_null(compose(&o, "t\n", &len, &rcpts, &err));
	assert_int_equal(err.code, EX_NOINPUT);
	error_release(&err);
	strlist_release(&o.attach);

	strlist_add(&o.headers, "Content-Type: text/html");
	assert_null(compose(&o, "t\n", &len, &rcpts, &err));
	assert_int_equal(err.code, EX_USAGE);
	error_release(&err);
	strlist_release(&o.headers);

	assert_int_equal(rcpts.n, 0);	/* nothing half-built */
	free(missing);
	strlist_release(&o.rcpts);
}

static void
mime_compose__charset_latin1__converted_to_utf8(void **state)
{
	struct cli_opts	 o;
	struct strlist	 rcpts = STRLIST_INIT;
	struct error	 err = ERROR_INIT;
	char		*m;
	size_t		 len;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.compose = 1;
	o.charset = cs_latin1;
	strlist_add(&o.rcpts, "a@example.com");
	m = compose(&o, "caf\xe9\n", &len, &rcpts, &err);
	assert_non_null(m);
	assert_non_null(strstr(m, "charset=UTF-8"));
	assert_non_null(strstr(m, "\r\n\r\ncaf=C3=A9\r\n"));
	free(m);
	strlist_release(&rcpts);
	o.charset = cs_none;
	assert_null(compose(&o, "x\n", &len, &rcpts, &err));
	assert_int_equal(err.code, EX_USAGE);
	error_release(&err);
	strlist_release(&o.rcpts);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mime_parse_file_arg__cases__split),
		cmocka_unit_test(mime_compose__ascii_text__single_7bit_part),
		cmocka_unit_test(
		    mime_compose__text_and_attachments__multipart_mixed),
		cmocka_unit_test(
		    mime_compose__html_only_and_inline__structure),
		cmocka_unit_test(mime_compose__refusals__error_codes),
		cmocka_unit_test(
		    mime_compose__charset_latin1__converted_to_utf8),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
