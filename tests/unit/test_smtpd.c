/*
 * Unit tests of smtpd.c, the server side of -bs: a scripted client
 * dialogue in a file (or a pipe, for the timeout) on the input, the
 * replies collected from a file on the output.
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
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "smtpd.h"
#include "util.h"

struct session {
	struct smtpd	*s;
	int		 in;
	int		 out;
};

static const struct smtpd_opts opts = { "mx.example.org", 0, 10, 10, 0 };

static int
file_with(const char *text, size_t len)
{
	struct error	err = ERROR_INIT;
	int		fd;

	fd = util_tmpfile(&err);
	assert_true(fd != -1);
	assert_int_equal(util_write_all(fd, text, len), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void
start(struct session *se, const char *script, const struct smtpd_opts *o)
{
	struct error	err = ERROR_INIT;

	se->in = file_with(script, strlen(script));
	se->out = util_tmpfile(&err);
	assert_true(se->out != -1);
	se->s = smtpd_new(se->in, se->out, o != NULL ? o : &opts);
}

/* Everything written so far on the output. */
static char *
output(struct session *se)
{
	off_t	 n = lseek(se->out, 0, SEEK_END);
	char	*p = calloc(1, (size_t)n + 1);

	assert_non_null(p);
	assert_int_equal(pread(se->out, p, (size_t)n, 0), n);
	return p;
}

static char *
contents(int fd, size_t *len)
{
	off_t	 n = lseek(fd, 0, SEEK_END);
	char	*p = calloc(1, (size_t)n + 1);

	assert_non_null(p);
	assert_int_equal(pread(fd, p, (size_t)n, 0), n);
	*len = (size_t)n;
	return p;
}

static void
finish(struct session *se, const char *want)
{
	char	*got;

	smtpd_free(se->s);
	got = output(se);
	assert_string_equal(got, want);
	free(got);
	close(se->in);
	close(se->out);
}

static void
smtpd_next__full_dialogue__txn_and_replies(void **state)
{
	struct session	 se;
	struct smtpd_txn txn;
	struct error	 err = ERROR_INIT;
	char		*data;
	size_t		 len;

	(void)state;
	start(&se, "EHLO client.example\r\n"
	    "MAIL FROM:<a@example.org> SIZE=100 BODY=8BITMIME\r\n"
	    "RCPT TO:<b@example.org>\r\n"
	    "RCPT TO: <c@example.org>\r\n"
	    "DATA\r\n"
	    "Subject: x\r\n\r\n..dot\r\nline\r\n.\r\n"
	    "QUIT\r\n", NULL);
	assert_int_equal(smtpd_next(se.s, &txn, &err), 1);
	assert_string_equal(txn.sender, "a@example.org");
	assert_int_equal(txn.rcpts.n, 2);
	assert_string_equal(txn.rcpts.v[0], "b@example.org");
	assert_string_equal(txn.rcpts.v[1], "c@example.org");
	data = contents(txn.fd, &len);
	assert_string_equal(data, "Subject: x\n\n.dot\nline\n");
	assert_int_equal(txn.size, len);
	free(data);
	assert_int_equal(smtpd_reply(se.s, 250, "2.0.0", "Ok: queued as X",
	    &err), 0);
	smtpd_txn_release(&txn);
	assert_int_equal(smtpd_next(se.s, &txn, &err), 0);
	finish(&se, "220 mx.example.org ESMTP postie\r\n"
	    "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE\r\n"
	    "250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n"
	    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "250 2.0.0 Ok: queued as X\r\n"
	    "221 2.0.0 Bye\r\n");
}

static void
smtpd_next__bad_commands__replied_and_session_goes_on(void **state)
{
	struct session	 se;
	struct smtpd_txn txn;
	struct error	 err = ERROR_INIT;
	char		 script[4096], *p;

	(void)state;
	p = script;
	p += sprintf(p, "HELO\r\nHELO c\r\nRCPT TO:<b@example.org>\r\n"
	    "MAIL FROM:a@example.org\r\nMAIL FROM:<a@example.org> X=1\r\n"
	    "MAIL FROM:<>\r\nMAIL FROM:<a@example.org>\r\nDATA\r\n"
	    "RCPT TO:<-oQ/tmp>\r\nRCPT TO:<b@example.org>\r\n"
	    "VRFY root\r\nEXPN x\r\nSTARTTLS\r\nFOO\r\nNOOP\r\nHELP\r\n");
	memset(p, 'x', 2000);
	p += 2000;
	p += sprintf(p, "\r\nDATA x\r\nDATA\r\nbody\n.\nRSET\r\nQUIT\r\n");
	start(&se, script, NULL);
	assert_int_equal(smtpd_next(se.s, &txn, &err), 1);
	assert_string_equal(txn.sender, "");
	assert_int_equal(txn.rcpts.n, 1);
	assert_int_equal(txn.size, 5);
	smtpd_txn_release(&txn);
	assert_int_equal(smtpd_reply(se.s, 550, "5.1.1", "no", &err), 0);
	assert_int_equal(smtpd_next(se.s, &txn, &err), 0);
	finish(&se, "220 mx.example.org ESMTP postie\r\n"
	    "501 5.5.4 Syntax: HELO hostname\r\n"
	    "250 mx.example.org\r\n"
	    "503 5.5.1 Error: need MAIL command\r\n"
	    "501 5.5.4 Syntax: MAIL FROM:<address>\r\n"
	    "555 5.5.4 Error: unsupported parameter\r\n"
	    "250 2.1.0 Ok\r\n"
	    "503 5.5.1 Error: nested MAIL command\r\n"
	    "503 5.5.1 Error: need RCPT command\r\n"
	    "553 5.1.3 Error: bad recipient address syntax\r\n"
	    "250 2.1.5 Ok\r\n"
	    "252 2.5.0 Cannot VRFY user, but will accept message and "
	    "attempt delivery\r\n"
	    "502 5.5.1 Error: command not implemented\r\n"
	    "502 5.5.1 Error: command not implemented\r\n"
	    "500 5.5.2 Error: command not recognized\r\n"
	    "250 2.0.0 Ok\r\n"
	    "214-2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP VRFY "
	    "HELP QUIT\r\n"
	    "214 2.0.0 postie: mail is relayed as by sendmail\r\n"
	    "500 5.5.2 Error: line too long\r\n"
	    "501 5.5.4 Syntax: DATA\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "550 5.1.1 no\r\n"
	    "250 2.0.0 Ok\r\n"
	    "221 2.0.0 Bye\r\n");
}

static void
smtpd_next__eof_in_data__discards(void **state)
{
	struct session	 se;
	struct smtpd_txn txn;
	struct error	 err = ERROR_INIT;

	(void)state;
	start(&se, "HELO c\r\nMAIL FROM:<a@example.org>\r\n"
	    "RCPT TO:<b@example.org>\r\nDATA\r\nSubject: x\r\n\r\nbo", NULL);
	assert_int_equal(smtpd_next(se.s, &txn, &err), 0);
	assert_null(txn.sender);
	assert_int_equal(txn.fd, -1);
	smtpd_txn_release(&txn);
	finish(&se, "220 mx.example.org ESMTP postie\r\n"
	    "250 mx.example.org\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n");
}

static void
smtpd_next__two_txns_rset__second_envelope_only(void **state)
{
	struct session	 se;
	struct smtpd_txn txn;
	struct error	 err = ERROR_INIT;
	char		*data;
	size_t		 len;

	(void)state;
	start(&se, "EHLO c\nMAIL FROM:<a@example.org>\nRCPT TO:<x@example.org>\n"
	    "RSET\nMAIL FROM:<d@example.org>\nRCPT TO:<e@example.org>\n"
	    "DATA\n.\n"
	    "MAIL FROM:<f@example.org>\nRCPT TO:<g@example.org>\nDATA\n"
	    "a\r\n.\r\n", NULL);
	assert_int_equal(smtpd_next(se.s, &txn, &err), 1);
	assert_string_equal(txn.sender, "d@example.org");
	assert_int_equal(txn.rcpts.n, 1);
	assert_string_equal(txn.rcpts.v[0], "e@example.org");
	assert_int_equal(txn.size, 0);
	smtpd_txn_release(&txn);
	assert_int_equal(smtpd_reply(se.s, 250, "2.0.0", "one", &err), 0);
	assert_int_equal(smtpd_next(se.s, &txn, &err), 1);
	assert_string_equal(txn.sender, "f@example.org");
	data = contents(txn.fd, &len);
	assert_string_equal(data, "a\n");
	free(data);
	smtpd_txn_release(&txn);
	assert_int_equal(smtpd_reply(se.s, 451, "4.3.0", "two", &err), 0);
	assert_int_equal(smtpd_next(se.s, &txn, &err), 0);
	finish(&se, "220 mx.example.org ESMTP postie\r\n"
	    "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE\r\n"
	    "250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n"
	    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok\r\n"
	    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 one\r\n"
	    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n451 4.3.0 two\r\n");
}

static void
smtpd_next__size_limit__552_at_mail_and_after_data(void **state)
{
	static const struct smtpd_opts small = { "h", 10, 10, 10, 0 };
	struct session	 se;
	struct smtpd_txn txn;
	struct error	 err = ERROR_INIT;

	(void)state;
	start(&se, "EHLO c\r\nMAIL FROM:<a@example.org> SIZE=11\r\n"
	    "MAIL FROM:<a@example.org> SIZE=x\r\n"
	    "MAIL FROM:<a@example.org> SIZE=10\r\nRCPT TO:<b@example.org>\r\n"
	    "DATA\r\n0123456789\r\n.\r\nQUIT\r\n", &small);
	assert_int_equal(smtpd_next(se.s, &txn, &err), 0);
	assert_null(txn.sender);
	finish(&se, "220 h ESMTP postie\r\n"
	    "250-h\r\n250-PIPELINING\r\n250-SIZE 10\r\n"
	    "250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n"
	    "552 5.3.4 Error: message size exceeds fixed limit\r\n"
	    "501 5.5.4 Error: bad SIZE parameter\r\n"
	    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "552 5.3.4 Error: message size exceeds fixed limit\r\n"
	    "221 2.0.0 Bye\r\n");
}

/* A data line far longer than the buffer arrives whole and unchanged. */
static void
smtpd_next__long_data_line__streamed_intact(void **state)
{
	struct session	 se;
	struct smtpd_txn txn;
	struct error	 err = ERROR_INIT;
	size_t		 n = 30000, len, i;
	char		*script, *p, *data;

	(void)state;
	script = malloc(n + 200);
	assert_non_null(script);
	p = script + sprintf(script, "HELO c\r\nMAIL FROM:<a@example.org>\r\n"
	    "RCPT TO:<b@example.org>\r\nDATA\r\n.");
	for (i = 0; i < n; i++)
		*p++ = "ab\r"[i % 3];
	strcpy(p, "\r\n.\r\n");
	start(&se, script, NULL);
	assert_int_equal(smtpd_next(se.s, &txn, &err), 1);
	data = contents(txn.fd, &len);
	assert_int_equal(len, n + 1);
	assert_memory_equal(data, script + (p - script) - n, n);
	assert_int_equal(data[n], '\n');
	free(data);
	free(script);
	smtpd_txn_release(&txn);
	assert_int_equal(smtpd_next(se.s, &txn, &err), 0);
	smtpd_free(se.s);
	close(se.in);
	close(se.out);
}

static void
smtpd_next__too_many_errors__421(void **state)
{
	struct session	 se;
	struct smtpd_txn txn;
	struct error	 err = ERROR_INIT;
	char		 script[1024] = "", *got;
	int		 i;

	(void)state;
	for (i = 0; i < 30; i++)
		strcat(script, "BAD\r\n");
	start(&se, script, NULL);
	assert_int_equal(smtpd_next(se.s, &txn, &err), 0);
	smtpd_free(se.s);
	got = output(&se);
	assert_non_null(strstr(got, "500 5.5.2 Error: command not recognized"
	    "\r\n421 4.7.0 mx.example.org Error: too many errors\r\n"));
	free(got);
	close(se.in);
	close(se.out);
}

static void
smtpd_next__silent_client__421_and_error(void **state)
{
	static const struct smtpd_opts quick = { "h", 0, 1, 1, 0 };
	struct smtpd	*s;
	struct smtpd_txn txn;
	struct error	 err = ERROR_INIT;
	int		 in[2], out[2];
	char		 buf[256];
	ssize_t		 n;

	(void)state;
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	assert_int_equal(write(in[1], "HELO c\r\n", 8), 8);
	s = smtpd_new(in[0], out[1], &quick);
	assert_int_equal(smtpd_next(s, &txn, &err), -1);
	assert_int_equal(err.code, EX_IOERR);
	error_release(&err);
	smtpd_free(s);
	n = read(out[0], buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "220 h ESMTP postie\r\n250 h\r\n"
	    "421 4.4.2 h Error: timeout exceeded\r\n");
	close(in[0]);
	close(in[1]);
	close(out[0]);
	close(out[1]);
}

static void
smtpd_next__rcpt_verdict__refused_one_left_out(void **state)
{
	static const struct smtpd_opts judge = { "h", 0, 10, 10, 1 };
	struct session	 se;
	struct smtpd_txn txn;
	struct error	 err = ERROR_INIT;

	(void)state;
	start(&se, "HELO c\r\nMAIL FROM:<a@example.org>\r\n"
	    "RCPT TO:<nobody@example.org>\r\nRCPT TO:<b@example.org>\r\n"
	    "RCPT TO:<c@example.org>\r\nRCPT TO:<bad address>\r\n"
	    "DATA\r\nx\r\n.\r\nQUIT\r\n", &judge);
	assert_int_equal(smtpd_next(se.s, &txn, &err), SMTPD_RCPT);
	assert_null(txn.sender);
	assert_string_equal(smtpd_rcpt(se.s), "nobody@example.org");
	assert_int_equal(smtpd_rcpt_verdict(se.s, 550, "5.1.1",
	    "unknown local user 'nobody'", &err), 0);
	assert_null(smtpd_rcpt(se.s));
	assert_int_equal(smtpd_rcpt_verdict(se.s, 250, "2.1.5", "Ok", &err),
	    -1);	/* nothing awaits a verdict */
	assert_int_equal(err.code, EX_SOFTWARE);
	error_release(&err);
	assert_int_equal(smtpd_next(se.s, &txn, &err), SMTPD_RCPT);
	assert_string_equal(smtpd_rcpt(se.s), "b@example.org");
	assert_int_equal(smtpd_rcpt_verdict(se.s, 250, "2.1.5", "Ok", &err),
	    0);
	/* c: no verdict, so the next call accepts it; the malformed one
	 * never reaches the caller */
	assert_int_equal(smtpd_next(se.s, &txn, &err), SMTPD_RCPT);
	assert_string_equal(smtpd_rcpt(se.s), "c@example.org");
	assert_int_equal(smtpd_next(se.s, &txn, &err), SMTPD_TXN);
	assert_int_equal(txn.rcpts.n, 2);
	assert_string_equal(txn.rcpts.v[0], "b@example.org");
	assert_string_equal(txn.rcpts.v[1], "c@example.org");
	assert_int_equal(smtpd_reply(se.s, 250, "2.0.0", "Ok: queued as X",
	    &err), 0);
	smtpd_txn_release(&txn);
	assert_int_equal(smtpd_next(se.s, &txn, &err), 0);
	finish(&se, "220 h ESMTP postie\r\n250 h\r\n250 2.1.0 Ok\r\n"
	    "550 5.1.1 unknown local user 'nobody'\r\n250 2.1.5 Ok\r\n"
	    "250 2.1.5 Ok\r\n553 5.1.3 Error: bad recipient address syntax\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "250 2.0.0 Ok: queued as X\r\n221 2.0.0 Bye\r\n");
}

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A child that writes head at once, then each of the n lines every
 * gap_ms milliseconds; returns its pid. */
static pid_t
trickle(int fd, const char *head, const char *const *lines, int gap_ms)
{
	struct timespec	 gap = { gap_ms / 1000, (gap_ms % 1000) * 1000000L };
	pid_t		 pid;
	size_t		 i;

	pid = fork();
	assert_true(pid != -1);
	if (pid != 0)
		return pid;
	signal(SIGPIPE, SIG_DFL);
	if (write(fd, head, strlen(head)) < 0)
		_exit(1);
	for (i = 0; lines[i] != NULL; i++) {
		nanosleep(&gap, NULL);
		if (write(fd, lines[i], strlen(lines[i])) < 0)
			_exit(1);
	}
	_exit(0);
}

static void
reap(pid_t pid)
{
	int	st;

	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
}

static void
smtpd_next__trickled_command__cmd_timeout_bounds_the_line(void **state)
{
	/* one byte every 300 ms never lets a per-read timeout of 1 s
	 * expire: the command's 1 s covers the whole line */
	static const char *const bytes[] = { "O", "O", "P", "x", "x", "x",
	    "x", "x", "x", "x", "x", "x", "\r\n", NULL };
	static const struct smtpd_opts quick = { "h", 0, 1, 10, 0 };
	struct smtpd	*s;
	struct smtpd_txn txn;
	struct error	 err = ERROR_INIT;
	int		 in[2], out[2];
	double		 t0, took;
	pid_t		 pid;

	(void)state;
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	pid = trickle(in[1], "N", bytes, 300);
	s = smtpd_new(in[0], out[1], &quick);
	t0 = now_s();
	assert_int_equal(smtpd_next(s, &txn, &err), -1);
	took = now_s() - t0;
	assert_int_equal(err.code, EX_IOERR);
	assert_non_null(strstr(err.msg, "waiting for a command"));
	assert_true(took >= 0.9 && took < 3.0);
	error_release(&err);
	smtpd_free(s);
	reap(pid);
	close(in[0]);
	close(in[1]);
	close(out[0]);
	close(out[1]);
}

static void
smtpd_next__slow_data__data_timeout_per_block(void **state)
{
	/* DATA lines 400 ms apart for 2 s: longer than the 1 s command
	 * timeout, within the 1 s data timeout for each block */
	static const char *const lines[] = { "a\r\n", "b\r\n", "c\r\n",
	    "d\r\n", "e\r\n", ".\r\n", NULL };
	static const struct smtpd_opts o = { "h", 0, 1, 1, 0 };
	struct smtpd	*s;
	struct smtpd_txn txn;
	struct error	 err = ERROR_INIT;
	int		 in[2], out[2];
	pid_t		 pid;

	(void)state;
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	pid = trickle(in[1], "HELO c\r\nMAIL FROM:<a@b.example>\r\n"
	    "RCPT TO:<c@d.example>\r\nDATA\r\n", lines, 400);
	s = smtpd_new(in[0], out[1], &o);
	assert_int_equal(smtpd_next(s, &txn, &err), SMTPD_TXN);
	assert_int_equal(txn.size, 10);
	smtpd_txn_release(&txn);
	reap(pid);
	/* then silence in the middle of DATA: the data timeout */
	assert_int_equal(write(in[1], "MAIL FROM:<a@b.example>\r\n"
	    "RCPT TO:<c@d.example>\r\nDATA\r\nhalf", 58), 58);
	assert_int_equal(smtpd_next(s, &txn, &err), -1);
	assert_int_equal(err.code, EX_IOERR);
	assert_non_null(strstr(err.msg, "in the middle of DATA"));
	error_release(&err);
	smtpd_free(s);
	close(in[0]);
	close(in[1]);
	close(out[0]);
	close(out[1]);
}

static void
smtpd_reply__crlf_in_text__refused(void **state)
{
	struct session	 se;
	struct error	 err = ERROR_INIT;

	(void)state;
	start(&se, "", NULL);
	assert_int_equal(smtpd_reply(se.s, 250, "2.0.0", "a\r\n250 b", &err),
	    -1);
	assert_int_equal(err.code, EX_SOFTWARE);
	error_release(&err);
	finish(&se, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(smtpd_next__full_dialogue__txn_and_replies),
		cmocka_unit_test(
		    smtpd_next__bad_commands__replied_and_session_goes_on),
		cmocka_unit_test(smtpd_next__eof_in_data__discards),
		cmocka_unit_test(
		    smtpd_next__two_txns_rset__second_envelope_only),
		cmocka_unit_test(
		    smtpd_next__size_limit__552_at_mail_and_after_data),
		cmocka_unit_test(smtpd_next__long_data_line__streamed_intact),
		cmocka_unit_test(smtpd_next__too_many_errors__421),
		cmocka_unit_test(smtpd_next__silent_client__421_and_error),
		cmocka_unit_test(smtpd_reply__crlf_in_text__refused),
		cmocka_unit_test(
		    smtpd_next__rcpt_verdict__refused_one_left_out),
		cmocka_unit_test(
		    smtpd_next__trickled_command__cmd_timeout_bounds_the_line),
		cmocka_unit_test(smtpd_next__slow_data__data_timeout_per_block),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
