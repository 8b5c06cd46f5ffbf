/*
 * Unit tests for the formatter (message.c): reading from pipes and files,
 * completion, qualification, -t, dots, line endings, re-encoding, sizes.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/types.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aliases.h"
#include "config.h"
#include "error.h"
#include "message.h"
#include "util.h"

enum src { FROM_PIPE, FROM_FILE };

/* An fd from which the text can be read, as a pipe or a regular file. */
static int
input_fd(const char *text, size_t len, enum src how)
{
	int	p[2];
	pid_t	pid;

	if (how == FROM_FILE) {
		char	path[] = "/tmp/postie-test-msg.XXXXXX";
		int	fd = mkstemp(path);

		assert_true(fd != -1);
		unlink(path);
		assert_int_equal(util_write_all(fd, text, len), 0);
		assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
		return fd;
	}
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		close(p[0]);
		util_write_all(p[1], text, len);
		_exit(0);
	}
	close(p[1]);
	return p[0];
}

static void
default_opts(struct message_opts *mo, struct strlist *rcpts)
{
	memset(mo, 0, sizeof(*mo));
	mo->qualify_domain = "example.org";
	mo->msgid_domain = "example.org";
	mo->set_from_header = TRI_AUTO;
	mo->set_date_header = TRI_AUTO;
	mo->set_msgid_header = TRI_AUTO;
	mo->remove_bcc_headers = 1;
	mo->sender = "sender@example.org";
	mo->rcpts = rcpts;
}

/* Read, finalize and serialise; returns the bytes (allocated) or NULL. */
static char *
run(const char *text, size_t len, enum src how, struct message_opts *mo,
    struct message **out, size_t *outlen, struct error *err)
{
	struct message	*msg;
	struct buf	 b = BUF_INIT;
	struct message_reader *r;
	char		 blk[777];	/* odd size: crosses every boundary */
	ssize_t		 n;
	int		 fd = input_fd(text, len, how);

	msg = message_read(fd, mo, err);
	close(fd);
	while (wait(NULL) > 0)
		;
	if (msg == NULL)
		return NULL;
	if (message_finalize(msg, mo, err) == -1) {
		message_free(msg);
		return NULL;
	}
	r = message_reader_new(msg);
	while ((n = message_reader_read(r, blk, sizeof(blk), err)) > 0)
		buf_add(&b, blk, (size_t)n);
	assert_int_equal(n, 0);
	message_reader_free(r);
	assert_int_equal((off_t)b.len, message_size(msg));
	if (outlen != NULL)
		*outlen = b.len;
	if (out != NULL)
		*out = msg;
	else
		message_free(msg);
	return buf_detach(&b);
}

/* The body: what follows the first empty line. */
static const char *
body_of(const char *m)
{
	const char *s = strstr(m, "\r\n\r\n");

	assert_non_null(s);
	return s + 4;
}

/* Every line ends in CRLF, no bare CR or LF, none over 998 octets. */
static void
assert_wire_form(const char *m, size_t len)
{
	size_t	i, col = 0;

	for (i = 0; i < len; i++) {
		if (m[i] == '\r') {
			assert_true(i + 1 < len && m[i + 1] == '\n');
			i++;
			col = 0;
			continue;
		}
		assert_true(m[i] != '\n');
		col++;
		assert_true(col <= 998);
	}
	assert_true(len == 0 || (len >= 2 && m[len - 2] == '\r' &&
	    m[len - 1] == '\n'));
}

static void
message__plain_message__completed_and_crlf(void **state)
{
	static const char in[] = "Subject: hi\nTo: a@example.com\n\nline 1\n"
	    "line 2\n";
	struct strlist		 rcpts = STRLIST_INIT;
	struct message_opts	 mo;
	struct message		*msg;
	struct error		 err = ERROR_INIT;
	size_t			 len;
	char			*m;
	enum src		 how;

	(void)state;
	strlist_add(&rcpts, "a@example.com");
	default_opts(&mo, &rcpts);
	for (how = FROM_PIPE; how <= FROM_FILE; how++) {
		m = run(in, sizeof(in) - 1, how, &mo, &msg, &len, &err);
		assert_non_null(m);
		assert_wire_form(m, len);
		assert_true(strncmp(m, "Subject: hi\r\nTo: a@example.com\r\n",
		    31) == 0);
		assert_non_null(strstr(m, "\r\nFrom: "));
		assert_non_null(strstr(m, "<sender@example.org>\r\n"));
		assert_non_null(strstr(m, "\r\nDate: "));
		assert_non_null(strstr(m, "\r\nMessage-ID: <"));
		assert_non_null(strstr(m, "@example.org>\r\n"));
		assert_string_equal(body_of(m), "line 1\r\nline 2\r\n");
		assert_string_equal(message_envelope(msg)->sender,
		    "sender@example.org");
		assert_int_equal(message_envelope(msg)->rcpts.n, 1);
		assert_non_null(message_id(msg));
		free(m);
		message_free(msg);
	}
	strlist_release(&rcpts);
}

static void
message__line_endings__normalised_to_crlf(void **state)
{
	static const struct {
		const char	*in;
		const char	*body;
	} cases[] = {
		{ "S: x\n\na\nb\n", "a\r\nb\r\n" },
		{ "S: x\r\n\r\na\r\nb\r\n", "a\r\nb\r\n" },
		{ "S: x\r\rA\rb\r", "A\r\nb\r\n" },
		{ "S: x\n\na\r\nb\rc\nd", "a\r\nb\r\nc\r\nd\r\n" },
		{ "S: x\n\nno final newline", "no final newline\r\n" },
		{ "S: x\n\n", "" },
		{ "S: x\n\n\n\n", "\r\n\r\n" },
		/* SMTP smuggling shapes arrive as plain lines. */
		{ "S: x\n\na\n.\rMAIL FROM:<x@y>\n",
		  "a\r\n.\r\nMAIL FROM:<x@y>\r\n" },
	};
	struct strlist		 rcpts = STRLIST_INIT;
	struct message_opts	 mo;
	struct error		 err = ERROR_INIT;
	size_t			 i, len;
	char			*m;
	enum src		 how;

	(void)state;
	strlist_add(&rcpts, "a@example.com");
	default_opts(&mo, &rcpts);
	mo.ignore_dots = 1;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (how = FROM_PIPE; how <= FROM_FILE; how++) {
			m = run(cases[i].in, strlen(cases[i].in), how, &mo,
			    NULL, &len, &err);
			assert_non_null(m);
			assert_wire_form(m, len);
			assert_string_equal(body_of(m), cases[i].body);
			free(m);
		}
	strlist_release(&rcpts);
}

static void
message__lone_dot__ends_input_unless_ignore_dots(void **state)
{
	static const char in[] = "S: x\n\na\n..b\n.\nafter\n";
	struct strlist		 rcpts = STRLIST_INIT;
	struct message_opts	 mo;
	struct error		 err = ERROR_INIT;
	char			*m;
	enum src		 how;

	(void)state;
	strlist_add(&rcpts, "a@example.com");
	default_opts(&mo, &rcpts);
	for (how = FROM_PIPE; how <= FROM_FILE; how++) {
		mo.ignore_dots = 0;
		m = run(in, sizeof(in) - 1, how, &mo, NULL, NULL, &err);
		assert_string_equal(body_of(m), "a\r\n..b\r\n");
		free(m);
		mo.ignore_dots = 1;
		m = run(in, sizeof(in) - 1, how, &mo, NULL, NULL, &err);
		assert_string_equal(body_of(m), "a\r\n..b\r\n.\r\nafter\r\n");
		free(m);
		/* A dot inside the header block ends the message too. */
		mo.ignore_dots = 0;
		m = run("Subject: s\n.\nTo: x@y\n", 22, how, &mo, NULL, NULL,
		    &err);
		assert_string_equal(body_of(m), "");
		assert_null(strstr(m, "To: x@y"));
		free(m);
	}
	strlist_release(&rcpts);
}

static void
message__mbox_from_line__dropped(void **state)
{
	static const char in[] = "From someone Thu Nov 26 00:00:00 2026\n"
	    "Subject: x\n\nbody\n";
	struct strlist		 rcpts = STRLIST_INIT;
	struct message_opts	 mo;
	struct error		 err = ERROR_INIT;
	char			*m;

	(void)state;
	strlist_add(&rcpts, "a@example.com");
	default_opts(&mo, &rcpts);
	m = run(in, sizeof(in) - 1, FROM_PIPE, &mo, NULL, NULL, &err);
	assert_true(strncmp(m, "Subject: x\r\n", 12) == 0);
	assert_null(strstr(m, "someone"));
	free(m);
	strlist_release(&rcpts);
}

static void
message__no_header__body_kept_whole(void **state)
{
	static const char in[] = "just text\nmore: text\n";
	struct strlist		 rcpts = STRLIST_INIT;
	struct message_opts	 mo;
	struct error		 err = ERROR_INIT;
	char			*m;
	enum src		 how;

	(void)state;
	strlist_add(&rcpts, "a@example.com");
	default_opts(&mo, &rcpts);
	for (how = FROM_PIPE; how <= FROM_FILE; how++) {
		m = run(in, sizeof(in) - 1, how, &mo, NULL, NULL, &err);
		assert_string_equal(body_of(m), "just text\r\nmore: text\r\n");
		free(m);
	}
	strlist_release(&rcpts);
}

static void
message__extract_rcpts__to_cc_bcc_and_bcc_removed(void **state)
{
	static const char in[] = "To: a@example.com, Team: b@example.com,"
	    " \"Doe, J\" <c@example.com>;\nCc: d@example.com\n"
	    "Bcc: hidden@example.com\nBcc: root\nSubject: s\n\nx\n";
	struct strlist		 rcpts = STRLIST_INIT;
	struct message_opts	 mo;
	struct message		*msg;
	struct error		 err = ERROR_INIT;
	const struct envelope	*env;
	char			*m;

	(void)state;
	strlist_add(&rcpts, "argv@example.net");
	default_opts(&mo, &rcpts);
	mo.extract_rcpts = 1;
	m = run(in, sizeof(in) - 1, FROM_PIPE, &mo, &msg, NULL, &err);
	assert_non_null(m);
	env = message_envelope(msg);
	assert_int_equal(env->rcpts.n, 7);
	assert_true(strlist_contains(&env->rcpts, "argv@example.net"));
	assert_true(strlist_contains(&env->rcpts, "c@example.com"));
	assert_true(strlist_contains(&env->rcpts, "hidden@example.com"));
	assert_true(strlist_contains(&env->rcpts, "root@example.org"));
	assert_null(strstr(m, "Bcc"));
	assert_null(strstr(m, "hidden"));
	free(m);
	message_free(msg);
	strlist_release(&rcpts);
}

static void
message__no_recipients__usage_or_noinput(void **state)
{
	struct strlist		 rcpts = STRLIST_INIT;
	struct message_opts	 mo;
	struct error		 err = ERROR_INIT;

	(void)state;
	default_opts(&mo, &rcpts);
	assert_null(run("Subject: x\n\nb\n", 14, FROM_PIPE, &mo, NULL, NULL,
	    &err));
	assert_int_equal(err.code, EX_USAGE);
	error_release(&err);
	mo.extract_rcpts = 1;
	assert_null(run("", 0, FROM_PIPE, &mo, NULL, NULL, &err));
	assert_int_equal(err.code, EX_NOINPUT);
	error_release(&err);
	assert_null(run("To: undisclosed-recipients:;\n\nx\n", 32, FROM_PIPE,
	    &mo, NULL, NULL, &err));
	assert_int_equal(err.code, EX_NOINPUT);
	error_release(&err);
}

static void
message__bare_names__qualified_in_envelope_and_headers(void **state)
{
	static const char in[] = "From: root (Cron Daemon)\nTo: root\n"
	    "Cc: Ops <ops>, x@elsewhere.net\nSubject: root\n\nroot\n";
	struct strlist		 rcpts = STRLIST_INIT;
	struct message_opts	 mo;
	struct message		*msg;
	struct error		 err = ERROR_INIT;
	char			*m;

	(void)state;
	strlist_add(&rcpts, "root");
	default_opts(&mo, &rcpts);
	mo.sender = "cron";
	m = run(in, sizeof(in) - 1, FROM_PIPE, &mo, &msg, NULL, &err);
	assert_non_null(m);
	assert_non_null(strstr(m, "From: root@example.org (Cron Daemon)\r\n"));
	assert_non_null(strstr(m, "To: root@example.org\r\n"));
	assert_non_null(strstr(m,
	    "Cc: Ops <ops@example.org>, x@elsewhere.net\r\n"));
	assert_non_null(strstr(m, "Subject: root\r\n"));
	assert_string_equal(body_of(m), "root\r\n");
	assert_string_equal(message_envelope(msg)->sender, "cron@example.org");
	assert_string_equal(message_envelope(msg)->rcpts.v[0],
	    "root@example.org");
	free(m);
	message_free(msg);
	strlist_release(&rcpts);
}

static void
message__null_sender_and_fullname__from_header(void **state)
{
	struct strlist		 rcpts = STRLIST_INIT;
	struct message_opts	 mo;
	struct message		*msg;
	struct error		 err = ERROR_INIT;
	char			*m;

	(void)state;
	strlist_add(&rcpts, "a@example.com");
	default_opts(&mo, &rcpts);
	mo.sender = "<>";
	mo.fullname = "Cron Daemon";
	m = run("\n", 1, FROM_PIPE, &mo, &msg, NULL, &err);
	assert_non_null(m);
	assert_string_equal(message_envelope(msg)->sender, "");
	assert_non_null(strstr(m, "From: Cron Daemon <"));
	free(m);
	message_free(msg);

	mo.sender = "a@example.org";
	mo.fullname = "Evil\r\nBcc: x@y";
	assert_null(run("\n", 1, FROM_PIPE, &mo, NULL, NULL, &err));
	assert_int_equal(err.code, EX_DATAERR);
	error_release(&err);
	strlist_release(&rcpts);
}

/* The login's GECOS name (root's is "root") never names a configured
 * "from" address; from_full_name does. */
static void
message__configured_from__no_gecos_name(void **state)
{
	struct strlist		 rcpts = STRLIST_INIT;
	struct message_opts	 mo;
	struct message		*msg;
	struct error		 err = ERROR_INIT;
	char			*m;

	(void)state;
	strlist_add(&rcpts, "a@example.com");
	default_opts(&mo, &rcpts);
	mo.from_default = "ops@example.org";
	mo.sender = NULL;
	mo.fullname = NULL;
	mo.from_full_name = NULL;
	m = run("Subject: s\n\nx\n", 14, FROM_PIPE, &mo, &msg, NULL, &err);
	assert_non_null(m);
	assert_string_equal(message_envelope(msg)->sender, "ops@example.org");
	assert_non_null(strstr(m, "\r\nFrom: ops@example.org\r\n"));
	free(m);
	message_free(msg);

	mo.from_full_name = "Ops Team";
	m = run("Subject: s\n\nx\n", 14, FROM_PIPE, &mo, &msg, NULL, &err);
	assert_non_null(m);
	assert_non_null(strstr(m, "From: Ops Team <ops@example.org>\r\n"));
	free(m);
	message_free(msg);
	strlist_release(&rcpts);
}

static void
message__existing_headers__kept_not_duplicated(void **state)
{
	static const char in[] = "From: Me <me@example.org>\n"
	    "Date: Mon, 1 Jan 2024 00:00:00 +0000\n"
	    "Message-ID: <fixed@example.org>\n\nb\n";
	struct strlist		 rcpts = STRLIST_INIT;
	struct message_opts	 mo;
	struct message		*msg;
	struct error		 err = ERROR_INIT;
	char			*m, *s;

	(void)state;
	strlist_add(&rcpts, "a@example.com");
	default_opts(&mo, &rcpts);
	m = run(in, sizeof(in) - 1, FROM_PIPE, &mo, &msg, NULL, &err);
	s = strstr(m, "From:");
	assert_non_null(s);
	assert_null(strstr(s + 1, "From:"));
	assert_null(strstr(strstr(m, "Date:") + 1, "Date:"));
	assert_string_equal(message_id(msg), "<fixed@example.org>");
	free(m);
	message_free(msg);
	strlist_release(&rcpts);
}

/* Decode quoted-printable (for checking round trips). */
static char *
qp_decode(const char *s, size_t *outlen)
{
	struct buf	b = BUF_INIT;

	while (*s != '\0') {
		if (s[0] == '=' && s[1] == '\r' && s[2] == '\n')
			s += 3;
		else if (s[0] == '=') {
			char	hex[3] = { s[1], s[2], 0 };

			buf_addch(&b, (int)strtol(hex, NULL, 16));
			s += 3;
		} else if (s[0] == '\r' && s[1] == '\n') {
			buf_addch(&b, '\n');
			s += 2;
		} else
			buf_addch(&b, *s++);
	}
	*outlen = b.len;
	return buf_detach(&b);
}

static void
message__long_line_not_mime__reencoded_quoted_printable(void **state)
{
	struct strlist		 rcpts = STRLIST_INIT;
	struct message_opts	 mo;
	struct error		 err = ERROR_INIT;
	struct buf		 in = BUF_INIT, body = BUF_INIT;
	size_t			 len, dlen;
	char			*m, *d;
	int			 i;
	enum src		 how;

	(void)state;
	buf_addstr(&in, "Subject: long\n\nshort\n");
	for (i = 0; i < 5000; i++)
		buf_addch(&body, 'a' + i % 26);
	buf_addstr(&body, "\nFrom me\nend =\n");
	buf_add(&in, body.data, body.len);
	strlist_add(&rcpts, "a@example.com");
	default_opts(&mo, &rcpts);
	for (how = FROM_PIPE; how <= FROM_FILE; how++) {
		m = run(in.data, in.len, how, &mo, NULL, &len, &err);
		assert_non_null(m);
		assert_wire_form(m, len);
		assert_non_null(strstr(m, "MIME-Version: 1.0\r\n"));
		assert_non_null(strstr(m,
		    "Content-Type: text/plain; charset=US-ASCII\r\n"));
		assert_non_null(strstr(m,
		    "Content-Transfer-Encoding: quoted-printable\r\n"));
		d = qp_decode(body_of(m), &dlen);
		assert_int_equal(dlen, body.len + 6);
		assert_true(strncmp(d, "short\n", 6) == 0);
		assert_memory_equal(d + 6, body.data, body.len);
		free(d);
		free(m);
	}
	buf_release(&in);
	buf_release(&body);
	strlist_release(&rcpts);
}

static void
message__long_line_multipart__dataerr_names_line(void **state)
{
	struct strlist		 rcpts = STRLIST_INIT;
	struct message_opts	 mo;
	struct error		 err = ERROR_INIT;
	struct buf		 in = BUF_INIT;
	int			 i;

	(void)state;
	buf_addstr(&in, "MIME-Version: 1.0\nContent-Type: multipart/mixed;"
	    " boundary=x\n\n--x\n\n");
	for (i = 0; i < 1200; i++)
		buf_addch(&in, 'z');
	buf_addstr(&in, "\n--x--\n");
	strlist_add(&rcpts, "a@example.com");
	default_opts(&mo, &rcpts);
	assert_null(run(in.data, in.len, FROM_PIPE, &mo, NULL, NULL, &err));
	assert_int_equal(err.code, EX_DATAERR);
	assert_non_null(strstr(err.msg, "line 3"));
	error_release(&err);
	buf_release(&in);
	strlist_release(&rcpts);
}

static void
message__single_part_mime_long_line__cte_replaced(void **state)
{
	struct strlist		 rcpts = STRLIST_INIT;
	struct message_opts	 mo;
	struct error		 err = ERROR_INIT;
	struct buf		 in = BUF_INIT;
	size_t			 len;
	char			*m;
	int			 i;

	(void)state;
	buf_addstr(&in, "MIME-Version: 1.0\nContent-Type: text/plain; "
	    "charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n");
	for (i = 0; i < 2000; i++)
		buf_addstr(&in, "\xc3\xa9");
	buf_addch(&in, '\n');
	strlist_add(&rcpts, "a@example.com");
	default_opts(&mo, &rcpts);
	m = run(in.data, in.len, FROM_PIPE, &mo, NULL, &len, &err);
	assert_non_null(m);
	assert_wire_form(m, len);
	assert_non_null(strstr(m, "charset=utf-8\r\n"));
	assert_non_null(strstr(m,
	    "Content-Transfer-Encoding: quoted-printable\r\n"));
	assert_null(strstr(m, "8bit"));
	free(m);
	buf_release(&in);
	strlist_release(&rcpts);
}

static void
message__nul_in_body__quoted_printable_not_truncated(void **state)
{
	static const char in[] = "Subject: n\n\nbefore\0after\n";
	struct strlist		 rcpts = STRLIST_INIT;
	struct message_opts	 mo;
	struct error		 err = ERROR_INIT;
	char			*m;

	(void)state;
	strlist_add(&rcpts, "a@example.com");
	default_opts(&mo, &rcpts);
	m = run(in, sizeof(in) - 1, FROM_PIPE, &mo, NULL, NULL, &err);
	assert_non_null(m);
	assert_string_equal(body_of(m), "before=00after\r\n");
	free(m);
	strlist_release(&rcpts);
}

static void
message__utf8_body_undeclared__charset_declared(void **state)
{
	static const char in[] = "Subject: u\n\nGr\xc3\xbc\xc3\x9f""e\n";
	static const char latin[] = "Subject: u\n\nGr\xfc\xdf""e\n";
	struct strlist		 rcpts = STRLIST_INIT;
	struct message_opts	 mo;
	struct error		 err = ERROR_INIT;
	char			*m;

	(void)state;
	strlist_add(&rcpts, "a@example.com");
	default_opts(&mo, &rcpts);
	m = run(in, sizeof(in) - 1, FROM_PIPE, &mo, NULL, NULL, &err);
	assert_non_null(strstr(m, "Content-Type: text/plain; charset=UTF-8"));
	assert_non_null(strstr(m, "Content-Transfer-Encoding: 8bit"));
	assert_string_equal(body_of(m), "Gr\xc3\xbc\xc3\x9f""e\r\n");
	free(m);
	/* Other 8-bit text passes as it came, undeclared. */
	m = run(latin, sizeof(latin) - 1, FROM_PIPE, &mo, NULL, NULL, &err);
	assert_null(strstr(m, "Content-Type"));
	assert_string_equal(body_of(m), "Gr\xfc\xdf""e\r\n");
	free(m);
	strlist_release(&rcpts);
}

static void
message__large_body__streamed_identical(void **state)
{
	struct strlist		 rcpts = STRLIST_INIT;
	struct message_opts	 mo;
	struct error		 err = ERROR_INIT;
	struct buf		 in = BUF_INIT, want = BUF_INIT;
	size_t			 len;
	char			*m;
	int			 i;
	enum src		 how;

	(void)state;
	buf_addstr(&in, "Subject: big\n\n");
	/* 3 MiB, crossing every block size, CR at block ends included. */
	for (i = 0; i < 60000; i++) {
		buf_printf(&in, "%06d line of text with a CR\r", i);
		buf_printf(&want, "%06d line of text with a CR\r\n", i);
		buf_printf(&in, "second half %d\n", i);
		buf_printf(&want, "second half %d\r\n", i);
	}
	strlist_add(&rcpts, "a@example.com");
	default_opts(&mo, &rcpts);
	for (how = FROM_PIPE; how <= FROM_FILE; how++) {
		m = run(in.data, in.len, how, &mo, NULL, &len, &err);
		assert_non_null(m);
		assert_int_equal(strlen(body_of(m)), want.len);
		assert_memory_equal(body_of(m), want.data, want.len);
		free(m);
	}
	buf_release(&in);
	buf_release(&want);
	strlist_release(&rcpts);
}

static void
message__header_line_too_long__folded_or_refused(void **state)
{
	struct strlist		 rcpts = STRLIST_INIT;
	struct message_opts	 mo;
	struct error		 err = ERROR_INIT;
	struct buf		 in = BUF_INIT;
	size_t			 len;
	char			*m;
	int			 i;

	(void)state;
	buf_addstr(&in, "X-Words:");
	for (i = 0; i < 300; i++)
		buf_addstr(&in, " word");
	buf_addstr(&in, "\n\nb\n");
	strlist_add(&rcpts, "a@example.com");
	default_opts(&mo, &rcpts);
	m = run(in.data, in.len, FROM_PIPE, &mo, NULL, &len, &err);
	assert_non_null(m);
	assert_wire_form(m, len);
	free(m);
	buf_reset(&in);
	buf_addstr(&in, "X-Blob: ");
	for (i = 0; i < 1500; i++)
		buf_addch(&in, 'q');
	buf_addstr(&in, "\n\nb\n");
	assert_null(run(in.data, in.len, FROM_PIPE, &mo, NULL, NULL, &err));
	assert_int_equal(err.code, EX_DATAERR);
	assert_non_null(strstr(err.msg, "X-Blob"));
	error_release(&err);
	buf_release(&in);
	strlist_release(&rcpts);
}

static void
message__aliases__local_names_expanded_before_qualification(void **state)
{
	static const char al_text[] = "root: ops@example.com, admin\n"
	    "default: catchall@example.com\n";
	struct strlist		 rcpts = STRLIST_INIT;
	struct message_opts	 mo;
	struct message		*msg;
	struct aliases		*al;
	struct error		 err = ERROR_INIT;
	const struct envelope	*env;
	char			*m;

	(void)state;
	al = aliases_parse(al_text, sizeof(al_text) - 1, "aliases", &err);
	assert_non_null(al);
	strlist_add(&rcpts, "root");
	strlist_add(&rcpts, "someone");
	strlist_add(&rcpts, "x@remote.example");
	default_opts(&mo, &rcpts);
	mo.aliases = al;
	m = run("\n", 1, FROM_PIPE, &mo, &msg, NULL, &err);
	assert_non_null(m);
	env = message_envelope(msg);
	assert_true(strlist_contains(&env->rcpts, "ops@example.com"));
	assert_true(strlist_contains(&env->rcpts, "admin@example.org"));
	assert_true(strlist_contains(&env->rcpts, "catchall@example.com"));
	assert_true(strlist_contains(&env->rcpts, "x@remote.example"));
	assert_false(strlist_contains(&env->rcpts, "root@example.org"));
	free(m);
	message_free(msg);
	aliases_free(al);
	strlist_release(&rcpts);
}

static void
message__bad_recipient__dataerr_or_usage(void **state)
{
	static const char *const bad[] = { "a@b>\r\nRCPT TO:<evil@x",
	    "two@@example.com", "sp ace@example.com" };
	struct strlist		 rcpts = STRLIST_INIT;
	struct message_opts	 mo;
	struct error		 err = ERROR_INIT;
	size_t			 i;

	(void)state;
	default_opts(&mo, &rcpts);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strlist_release(&rcpts);
		strlist_add(&rcpts, bad[i]);
		mo.rcpts = &rcpts;
		assert_null(run("\n", 1, FROM_PIPE, &mo, NULL, NULL, &err));
		assert_true(err.code == EX_DATAERR || err.code == EX_USAGE);
		error_release(&err);
	}
	strlist_release(&rcpts);
	strlist_add(&rcpts, "a@example.com");
	mo.rcpts = &rcpts;
	mo.sender = "a@b\r\nRSET";
	assert_null(run("\n", 1, FROM_PIPE, &mo, NULL, NULL, &err));
	assert_int_equal(err.code, EX_DATAERR);
	error_release(&err);
	strlist_release(&rcpts);
}

static void
message_write__fd__same_bytes_as_reader(void **state)
{
	static const char in[] = "Subject: w\n\nx\ny\n";
	struct strlist		 rcpts = STRLIST_INIT;
	struct message_opts	 mo;
	struct message		*msg;
	struct error		 err = ERROR_INIT;
	char			 path[] = "/tmp/postie-test-w.XXXXXX";
	char			*m, got[4096];
	size_t			 len;
	ssize_t			 n;
	int			 fd;

	(void)state;
	strlist_add(&rcpts, "a@example.com");
	default_opts(&mo, &rcpts);
	m = run(in, sizeof(in) - 1, FROM_FILE, &mo, &msg, &len, &err);
	fd = mkstemp(path);
	unlink(path);
	assert_int_equal(message_write(msg, fd, &err), 0);
	n = pread(fd, got, sizeof(got), 0);
	assert_int_equal((size_t)n, len);
	assert_memory_equal(got, m, len);
	close(fd);
	free(m);
	message_free(msg);
	strlist_release(&rcpts);
}

static void
message_new_wire__queued_bytes__sent_verbatim(void **state)
{
	static const char wire[] = "Subject: q\r\n\r\nline\r\n.dot\r\n";
	struct envelope		 env;
	struct message		*msg;
	struct message_reader	*r;
	struct error		 err = ERROR_INIT;
	char			 path[] = "/tmp/postie-test-wire.XXXXXX";
	char			 got[256];
	ssize_t			 n;
	int			 fd, pass;

	(void)state;
	fd = mkstemp(path);
	unlink(path);
	assert_int_equal(util_write_all(fd, wire, sizeof(wire) - 1), 0);
	memset(&env, 0, sizeof(env));
	env.sender = (char *)(uintptr_t)"a@example.org";
	strlist_add(&env.rcpts, "b@example.org");
	msg = message_new_wire(fd, sizeof(wire) - 1, &env);
	assert_int_equal(message_size(msg), sizeof(wire) - 1);
	assert_string_equal(message_envelope(msg)->rcpts.v[0],
	    "b@example.org");
	r = message_reader_new(msg);
	for (pass = 0; pass < 2; pass++) {
		n = message_reader_read(r, got, sizeof(got), &err);
		assert_int_equal(n, sizeof(wire) - 1);
		assert_memory_equal(got, wire, sizeof(wire) - 1);
		assert_int_equal(message_reader_read(r, got, sizeof(got),
		    &err), 0);
		message_reader_rewind(r);
	}
	message_reader_free(r);
	message_free(msg);
	strlist_release(&env.rcpts);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(message__plain_message__completed_and_crlf),
		cmocka_unit_test(message__line_endings__normalised_to_crlf),
		cmocka_unit_test(message__lone_dot__ends_input_unless_ignore_dots),
		cmocka_unit_test(message__mbox_from_line__dropped),
		cmocka_unit_test(message__no_header__body_kept_whole),
		cmocka_unit_test(message__extract_rcpts__to_cc_bcc_and_bcc_removed),
		cmocka_unit_test(message__no_recipients__usage_or_noinput),
		cmocka_unit_test(message__bare_names__qualified_in_envelope_and_headers),
		cmocka_unit_test(message__null_sender_and_fullname__from_header),
		cmocka_unit_test(message__configured_from__no_gecos_name),
		cmocka_unit_test(message__existing_headers__kept_not_duplicated),
		cmocka_unit_test(message__long_line_not_mime__reencoded_quoted_printable),
		cmocka_unit_test(message__long_line_multipart__dataerr_names_line),
		cmocka_unit_test(message__single_part_mime_long_line__cte_replaced),
		cmocka_unit_test(message__nul_in_body__quoted_printable_not_truncated),
		cmocka_unit_test(message__utf8_body_undeclared__charset_declared),
		cmocka_unit_test(message__large_body__streamed_identical),
		cmocka_unit_test(message__header_line_too_long__folded_or_refused),
		cmocka_unit_test(message__aliases__local_names_expanded_before_qualification),
		cmocka_unit_test(message__bad_recipient__dataerr_or_usage),
		cmocka_unit_test(message_write__fd__same_bytes_as_reader),
		cmocka_unit_test(message_new_wire__queued_bytes__sent_verbatim),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
