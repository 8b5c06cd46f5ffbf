/*
 * smtpd: the server side of SMTP (RFC 5321) on a pair of fds, for -bs.
 * Input is read through one fixed buffer and handed out in fragments,
 * so no line (command or data) is ever held whole beyond the buffer;
 * the data of a transaction streams into a temporary file.  Replies are
 * collected and written when the input runs dry (PIPELINING), before a
 * transaction is handed to the caller, and at the end.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "error.h"
#include "smtpd.h"
#include "util.h"
#include "xmalloc.h"

#define IBUF_SIZE	8192	/* input buffer */
#define FRAG_MIN	4096	/* hand out a partial line from this size */
#define CMD_MAX		1024	/* a command line, CRLF excluded (RFC 5321
				   4.5.3.1.4: 512, plus extensions) */
#define RCPT_MAX	1000	/* RFC 5321 4.5.3.1.8: at least 100 */
#define ERRORS_MAX	20	/* bad commands before we hang up */
#define DATA_FLUSH	65536	/* data buffered before a write */

enum verdict {
	V_CONTINUE = 0,		/* next command */
	V_TXN,			/* a transaction is complete */
	V_QUIT,			/* QUIT or EOF */
	V_RCPT,			/* a recipient awaits a verdict */
	V_ERROR = -1		/* I/O error or timeout: err is set */
};

struct smtpd {
	int		 in;
	int		 out;
	char		*hostname;
	size_t		 size_limit;
	int		 cmd_timeout;
	int		 data_timeout;
	int		 check_rcpt;
	int		 in_data;	/* reading DATA: data_timeout applies */
	long long	 deadline;	/* ms (monotonic) for the command being
					   read; 0: none */
	char		*pending;	/* a recipient awaiting its verdict */
	int		 greeted;
	int		 helo;
	int		 errors;
	int		 eof;
	char		 ib[IBUF_SIZE];
	size_t		 ipos;
	size_t		 ilen;
	struct buf	 ob;		/* replies not yet written */
	struct smtpd_txn cur;		/* cur.sender == NULL: no MAIL yet */
};

struct frag {
	const char	*p;
	size_t		 n;
	int		 eol;		/* the fragment ends its line */
};

static int	fill(struct smtpd *, struct error *);
static int	next_frag(struct smtpd *, struct frag *, struct error *);
static int	read_cmd(struct smtpd *, char *, int *, struct error *);
static int	flush_out(struct smtpd *, struct error *);
static void	reply(struct smtpd *, int, const char *, const char *);
static void	txn_init(struct smtpd_txn *);
static int	dispatch(struct smtpd *, char *, struct smtpd_txn *,
		    struct error *);
static int	do_helo(struct smtpd *, const char *, int);
static int	do_mail(struct smtpd *, char *);
static int	do_rcpt(struct smtpd *, char *);
static int	do_data(struct smtpd *, const char *, struct smtpd_txn *,
		    struct error *);
static int	read_data(struct smtpd *, int, int *, struct error *);
static char	*parse_path(char *, char **);
static int	bad(struct smtpd *, int, const char *, const char *);

struct smtpd *
smtpd_new(int in, int out, const struct smtpd_opts *o)
{
	struct smtpd	*s;

	s = xcalloc(1, sizeof(*s));
	s->in = in;
	s->out = out;
	s->hostname = xstrdup(o->hostname != NULL && o->hostname[0] != '\0' ?
	    o->hostname : "localhost");
	s->size_limit = o->size_limit;
	s->cmd_timeout = o->cmd_timeout;
	s->data_timeout = o->data_timeout;
	s->check_rcpt = o->check_rcpt;
	txn_init(&s->cur);
	return s;
}

void
smtpd_free(struct smtpd *s)
{
	struct error	err = ERROR_INIT;

	if (s == NULL)
		return;
	if (flush_out(s, &err) == -1)
		error_release(&err);
	smtpd_txn_release(&s->cur);
	buf_release(&s->ob);
	free(s->pending);
	free(s->hostname);
	free(s);
}

static void
txn_init(struct smtpd_txn *t)
{
	memset(t, 0, sizeof(*t));
	t->fd = -1;
}

void
smtpd_txn_release(struct smtpd_txn *t)
{
	if (t == NULL)
		return;
	free(t->sender);
	strlist_release(&t->rcpts);
	if (t->fd != -1)
		close(t->fd);
	txn_init(t);
}

int
smtpd_next(struct smtpd *s, struct smtpd_txn *txn, struct error *err)
{
	char	cmd[CMD_MAX + 1];
	int	r, toolong;

	txn_init(txn);
	if (s->pending != NULL &&
	    smtpd_rcpt_verdict(s, 250, "2.1.5", "Ok", err) == -1)
		return -1;
	if (!s->greeted) {
		s->greeted = 1;
		buf_printf(&s->ob, "220 %s ESMTP postie\r\n", s->hostname);
	}
	for (;;) {
		if ((r = read_cmd(s, cmd, &toolong, err)) == -1)
			return -1;
		if (r == 0) {
			/* EOF: an open transaction is discarded */
			smtpd_txn_release(&s->cur);
			return flush_out(s, err) == -1 ? -1 : 0;
		}
		if (toolong)
			r = bad(s, 500, "5.5.2", "Error: line too long");
		else
			r = dispatch(s, cmd, txn, err);
		if (r == V_CONTINUE)
			continue;
		if (r == V_ERROR)
			return -1;
		if (r == V_RCPT)
			return SMTPD_RCPT;	/* replies wait for the verdict */
		if (flush_out(s, err) == -1) {
			smtpd_txn_release(txn);
			return -1;
		}
		return r == V_TXN ? SMTPD_TXN : 0;
	}
}

const char *
smtpd_rcpt(const struct smtpd *s)
{
	return s->pending;
}

int
smtpd_rcpt_verdict(struct smtpd *s, int code, const char *enhanced,
    const char *text, struct error *err)
{
	int	rc = 0;

	if (s->pending == NULL)
		return error_set(err, EX_SOFTWARE, "smtpd: no recipient "
		    "awaits a verdict");
	if (code < 200 || code > 599 || str_has_crlf(text) ||
	    (enhanced != NULL && str_has_crlf(enhanced))) {
		rc = error_set(err, EX_SOFTWARE, "smtpd: bad reply %d", code);
		code = 451;
		enhanced = "4.3.0";
		text = "Error: internal error";
	}
	if (code < 300)
		strlist_add(&s->cur.rcpts, s->pending);
	reply(s, code, enhanced, text);
	free(s->pending);
	s->pending = NULL;
	return rc;
}

int
smtpd_reply(struct smtpd *s, int code, const char *enhanced,
    const char *text, struct error *err)
{
	if (code < 200 || code > 599 || str_has_crlf(text) ||
	    (enhanced != NULL && str_has_crlf(enhanced)))
		return error_set(err, EX_SOFTWARE, "smtpd: bad reply %d", code);
	reply(s, code, enhanced, text);
	return flush_out(s, err);
}

/* Queue one reply line; enhanced may be NULL. */
static void
reply(struct smtpd *s, int code, const char *enhanced, const char *text)
{
	if (enhanced != NULL && enhanced[0] != '\0')
		buf_printf(&s->ob, "%d %s %s\r\n", code, enhanced, text);
	else
		buf_printf(&s->ob, "%d %s\r\n", code, text);
}

/* A reply to a bad command: counted, and V_ERROR past ERRORS_MAX
 * (the reply is then a 421 and the session ends). */
static int
bad(struct smtpd *s, int code, const char *enhanced, const char *text)
{
	reply(s, code, enhanced, text);
	if (++s->errors < ERRORS_MAX)
		return V_CONTINUE;
	buf_printf(&s->ob, "421 4.7.0 %s Error: too many errors\r\n",
	    s->hostname);
	return V_QUIT;
}

static int
flush_out(struct smtpd *s, struct error *err)
{
	if (s->ob.len == 0)
		return 0;
	if (util_write_all(s->out, s->ob.data, s->ob.len) == -1) {
		buf_reset(&s->ob);
		return error_set_errno(err, EX_IOERR, "cannot write the SMTP "
		    "reply");
	}
	buf_reset(&s->ob);
	return 0;
}

static long long
now_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The poll timeout for the next read (ms, -1: none; 0: time is up). */
static int
wait_ms(const struct smtpd *s)
{
	long long	left;

	if (s->in_data)
		return s->data_timeout > 0 ? s->data_timeout * 1000 : -1;
	if (s->deadline == 0)
		return -1;
	left = s->deadline - now_ms();
	return left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

static int
timed_out(struct smtpd *s, struct error *err)
{
	buf_printf(&s->ob, "421 4.4.2 %s Error: timeout exceeded\r\n",
	    s->hostname);
	if (flush_out(s, err) == -1)
		error_release(err);
	if (s->in_data)
		return error_set(err, EX_IOERR, "SMTP client sent no data "
		    "for %d seconds in the middle of DATA", s->data_timeout);
	return error_set(err, EX_IOERR, "SMTP client timed out after %d "
	    "seconds waiting for a command", s->cmd_timeout);
}

/*
 * Read more input: replies are written first (the client may wait for
 * them), then one read within the phase's timeout.  Returns the count
 * read, 0 at EOF, -1 on error or timeout (a 421 is sent).
 */
static int
fill(struct smtpd *s, struct error *err)
{
	struct pollfd	pfd;
	ssize_t		n;
	int		r, ms;

	if (s->eof)
		return 0;
	if (flush_out(s, err) == -1)
		return -1;
	if (s->ipos > 0) {
		memmove(s->ib, s->ib + s->ipos, s->ilen - s->ipos);
		s->ilen -= s->ipos;
		s->ipos = 0;
	}
	pfd.fd = s->in;
	pfd.events = POLLIN;
	do {
		if ((ms = wait_ms(s)) == 0)
			return timed_out(s, err);
		r = poll(&pfd, 1, ms);
	} while (r == -1 && errno == EINTR);
	if (r == -1)
		return error_set_errno(err, EX_IOERR, "cannot read the SMTP "
		    "input");
	if (r == 0)
		return timed_out(s, err);
	do
		n = read(s->in, s->ib + s->ilen, sizeof(s->ib) - s->ilen);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return error_set_errno(err, EX_IOERR, "cannot read the SMTP "
		    "input");
	if (n == 0)
		s->eof = 1;
	s->ilen += (size_t)n;
	return (int)n;
}

/*
 * The next piece of input: a whole line (eol set, CRLF or LF removed)
 * or, for a line longer than FRAG_MIN, a piece of it (never ending in a
 * CR that may belong to the CRLF).  The fragment points into the input
 * buffer and is valid until the next call.  Returns 1, 0 at EOF (a
 * final unterminated line is dropped), -1 on error.
 */
static int
next_frag(struct smtpd *s, struct frag *f, struct error *err)
{
	char	*p, *lf;
	size_t	 avail;
	int	 r;

	for (;;) {
		p = s->ib + s->ipos;
		avail = s->ilen - s->ipos;
		if ((lf = memchr(p, '\n', avail)) != NULL) {
			f->p = p;
			f->n = (size_t)(lf - p);
			if (f->n > 0 && p[f->n - 1] == '\r')
				f->n--;
			f->eol = 1;
			s->ipos += (size_t)(lf - p) + 1;
			return 1;
		}
		if (avail >= FRAG_MIN) {
			f->p = p;
			f->n = p[avail - 1] == '\r' ? avail - 1 : avail;
			f->eol = 0;
			s->ipos += f->n;
			return 1;
		}
		if ((r = fill(s, err)) == -1)
			return -1;
		if (r == 0)
			return 0;
	}
}

/* One command line into cmd (CMD_MAX + 1 bytes); *toolong when it did
 * not fit (the rest is skipped).  Returns 1, 0 at EOF, -1. */
static int
read_cmd(struct smtpd *s, char *cmd, int *toolong, struct error *err)
{
	struct frag	f;
	size_t		len = 0;
	int		r;

	*toolong = 0;
	s->deadline = s->cmd_timeout > 0 ? now_ms() +
	    (long long)s->cmd_timeout * 1000 : 0;
	do {
		if ((r = next_frag(s, &f, err)) != 1)
			return r;
		if (*toolong || f.n > CMD_MAX - len) {
			*toolong = 1;
			continue;
		}
		memcpy(cmd + len, f.p, f.n);
		len += f.n;
	} while (!f.eol);
	cmd[len] = '\0';
	return 1;
}

/* 1 when the command's verb is v (case-insensitive), with *arg set to
 * what follows the verb and its spaces. */
static int
verb_is(const char *cmd, const char *v, const char **arg)
{
	size_t	n = strlen(v);

	if (strncasecmp(cmd, v, n) != 0 || (cmd[n] != '\0' && cmd[n] != ' '))
		return 0;
	for (cmd += n; *cmd == ' '; cmd++)
		;
	*arg = cmd;
	return 1;
}

static int
dispatch(struct smtpd *s, char *cmd, struct smtpd_txn *txn,
    struct error *err)
{
	const char	*arg;

	if (verb_is(cmd, "EHLO", &arg))
		return do_helo(s, arg, 1);
	if (verb_is(cmd, "HELO", &arg))
		return do_helo(s, arg, 0);
	if (verb_is(cmd, "MAIL", &arg))
		return do_mail(s, cmd + (arg - cmd));
	if (verb_is(cmd, "RCPT", &arg))
		return do_rcpt(s, cmd + (arg - cmd));
	if (verb_is(cmd, "DATA", &arg))
		return do_data(s, arg, txn, err);
	if (verb_is(cmd, "RSET", &arg)) {
		smtpd_txn_release(&s->cur);
		reply(s, 250, "2.0.0", "Ok");
		return V_CONTINUE;
	}
	if (verb_is(cmd, "NOOP", &arg)) {
		reply(s, 250, "2.0.0", "Ok");
		return V_CONTINUE;
	}
	if (verb_is(cmd, "QUIT", &arg)) {
		smtpd_txn_release(&s->cur);
		reply(s, 221, "2.0.0", "Bye");
		return V_QUIT;
	}
	if (verb_is(cmd, "VRFY", &arg)) {
		if (*arg == '\0')
			return bad(s, 501, "5.5.4", "Syntax: VRFY address");
		reply(s, 252, "2.5.0", "Cannot VRFY user, but will accept "
		    "message and attempt delivery");
		return V_CONTINUE;
	}
	if (verb_is(cmd, "HELP", &arg)) {
		buf_printf(&s->ob, "214-2.0.0 Commands: EHLO HELO MAIL RCPT "
		    "DATA RSET NOOP VRFY HELP QUIT\r\n"
		    "214 2.0.0 postie: mail is relayed as by sendmail\r\n");
		return V_CONTINUE;
	}
	if (verb_is(cmd, "EXPN", &arg) || verb_is(cmd, "STARTTLS", &arg) ||
	    verb_is(cmd, "AUTH", &arg) || verb_is(cmd, "BDAT", &arg) ||
	    verb_is(cmd, "ETRN", &arg) || verb_is(cmd, "TURN", &arg))
		return bad(s, 502, "5.5.1", "Error: command not implemented");
	return bad(s, 500, "5.5.2", "Error: command not recognized");
}

static int
do_helo(struct smtpd *s, const char *arg, int ehlo)
{
	if (*arg == '\0')
		return bad(s, 501, "5.5.4", ehlo ? "Syntax: EHLO hostname" :
		    "Syntax: HELO hostname");
	smtpd_txn_release(&s->cur);	/* RFC 5321 4.1.4: as RSET */
	s->helo = 1;
	if (!ehlo) {
		buf_printf(&s->ob, "250 %s\r\n", s->hostname);
		return V_CONTINUE;
	}
	buf_printf(&s->ob, "250-%s\r\n250-PIPELINING\r\n", s->hostname);
	if (s->size_limit > 0)
		buf_printf(&s->ob, "250-SIZE %zu\r\n", s->size_limit);
	else
		buf_addstr(&s->ob, "250-SIZE\r\n");
	buf_addstr(&s->ob, "250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n");
	return V_CONTINUE;
}

/*
 * "<path> params" after "FROM:" or "TO:": returns the mailbox (in s,
 * the source route dropped) and points *params past the '>', or NULL
 * when the path is malformed.  Quoted local parts may hold '>'.
 */
static char *
parse_path(char *s, char **params)
{
	char	*p, *start;
	int	 quoted = 0;

	while (*s == ' ')
		s++;
	if (*s != '<')
		return NULL;
	start = ++s;
	for (p = s; *p != '\0'; p++) {
		if (quoted && *p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == '>')
			break;
	}
	if (*p != '>' || (p[1] != '\0' && p[1] != ' '))
		return NULL;
	*p++ = '\0';
	*params = p;
	/* obsolete source route: <@a,@b:user@c> */
	if (*start == '@' && (s = strchr(start, ':')) != NULL)
		start = s + 1;
	return start;
}

/* SIZE= and BODY= (RFC 1870, RFC 6152); 0, or a reply was queued. */
static int
mail_params(struct smtpd *s, char *params, int *verdict)
{
	char		*word, *save = NULL, *end;
	unsigned long long n;

	for (word = strtok_r(params, " ", &save); word != NULL;
	    word = strtok_r(NULL, " ", &save)) {
		if (str_has_prefix_nocase(word, "SIZE=")) {
			errno = 0;
			n = strtoull(word + 5, &end, 10);
			if (word[5] == '\0' || *end != '\0' || errno != 0 ||
			    !isdigit((unsigned char)word[5])) {
				*verdict = bad(s, 501, "5.5.4",
				    "Error: bad SIZE parameter");
				return -1;
			}
			if (s->size_limit > 0 && n > s->size_limit) {
				reply(s, 552, "5.3.4", "Error: message size "
				    "exceeds fixed limit");
				*verdict = V_CONTINUE;
				return -1;
			}
		} else if (strcasecmp(word, "BODY=7BIT") == 0 ||
		    strcasecmp(word, "BODY=8BITMIME") == 0) {
			continue;
		} else {
			*verdict = bad(s, 555, "5.5.4", "Error: unsupported "
			    "parameter");
			return -1;
		}
	}
	return 0;
}

static int
do_mail(struct smtpd *s, char *arg)
{
	struct error	 e = ERROR_INIT;
	char		*path, *params;
	int		 v;

	if (s->cur.sender != NULL)
		return bad(s, 503, "5.5.1", "Error: nested MAIL command");
	if (!str_has_prefix_nocase(arg, "FROM:") ||
	    (path = parse_path(arg + 5, &params)) == NULL)
		return bad(s, 501, "5.5.4", "Syntax: MAIL FROM:<address>");
	if (path[0] != '\0' && addr_check_mailbox(path, 1, &e) == -1) {
		error_release(&e);
		return bad(s, 553, "5.1.7", "Error: bad sender address "
		    "syntax");
	}
	if (mail_params(s, params, &v) == -1)
		return v;
	s->cur.sender = xstrdup(path);
	reply(s, 250, "2.1.0", "Ok");
	return V_CONTINUE;
}

static int
do_rcpt(struct smtpd *s, char *arg)
{
	struct error	 e = ERROR_INIT;
	char		*path, *params;

	if (s->cur.sender == NULL)
		return bad(s, 503, "5.5.1", "Error: need MAIL command");
	if (!str_has_prefix_nocase(arg, "TO:") ||
	    (path = parse_path(arg + 3, &params)) == NULL)
		return bad(s, 501, "5.5.4", "Syntax: RCPT TO:<address>");
	if (*params != '\0')
		return bad(s, 555, "5.5.4", "Error: unsupported parameter");
	if (addr_check_mailbox(path, 1, &e) == -1) {
		error_release(&e);
		return bad(s, 553, "5.1.3", "Error: bad recipient address "
		    "syntax");
	}
	if (s->cur.rcpts.n >= RCPT_MAX) {
		reply(s, 452, "4.5.3", "Error: too many recipients");
		return V_CONTINUE;
	}
	if (s->check_rcpt) {
		s->pending = xstrdup(path);
		return V_RCPT;
	}
	strlist_add(&s->cur.rcpts, path);
	reply(s, 250, "2.1.5", "Ok");
	return V_CONTINUE;
}

static int
do_data(struct smtpd *s, const char *arg, struct smtpd_txn *txn,
    struct error *err)
{
	struct error	e = ERROR_INIT;
	int		fd, over = 0, r;

	if (*arg != '\0')
		return bad(s, 501, "5.5.4", "Syntax: DATA");
	if (s->cur.sender == NULL)
		return bad(s, 503, "5.5.1", "Error: need MAIL command");
	if (s->cur.rcpts.n == 0)
		return bad(s, 503, "5.5.1", "Error: need RCPT command");
	if ((fd = util_tmpfile(&e)) == -1) {
		error_release(&e);
		reply(s, 451, "4.3.0", "Error: cannot store the message");
		return V_CONTINUE;
	}
	reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
	s->cur.fd = fd;
	s->in_data = 1;
	r = read_data(s, fd, &over, err);
	s->in_data = 0;
	if (r != 1) {
		/* EOF or error: the transaction is discarded */
		smtpd_txn_release(&s->cur);
		return r == 0 ? V_QUIT : V_ERROR;
	}
	if (over || lseek(fd, 0, SEEK_SET) == -1) {
		smtpd_txn_release(&s->cur);
		if (over == 1)
			reply(s, 552, "5.3.4", "Error: message size exceeds "
			    "fixed limit");
		else
			reply(s, 451, "4.3.0", "Error: cannot store the "
			    "message");
		return V_CONTINUE;
	}
	*txn = s->cur;
	txn_init(&s->cur);
	return V_TXN;
}

static int
data_flush(struct buf *b, int fd, int *bad_write)
{
	if (b->len > 0 && !*bad_write &&
	    util_write_all(fd, b->data, b->len) == -1)
		*bad_write = 1;
	buf_reset(b);
	return *bad_write ? -1 : 0;
}

/*
 * The data up to the lone dot, dot-unstuffed, LF line ends, into fd and
 * s->cur.size.  *over is 1 past the size limit, 2 when fd could not be
 * written (the rest is then read and dropped).  Returns 1 at the dot, 0 at
 * EOF, -1 on error.
 */
static int
read_data(struct smtpd *s, int fd, int *over, struct error *err)
{
	struct buf	b = BUF_INIT;
	struct frag	f;
	int		bol = 1, r, bad_write = 0;

	while ((r = next_frag(s, &f, err)) == 1) {
		if (bol && f.n > 0 && f.p[0] == '.') {
			if (f.eol && f.n == 1)
				break;
			f.p++;
			f.n--;
		}
		bol = f.eol;
		if (*over)
			continue;
		s->cur.size += f.n + (size_t)f.eol;
		if (s->size_limit > 0 && s->cur.size > s->size_limit) {
			*over = 1;
			continue;
		}
		buf_add(&b, f.p, f.n);
		if (f.eol)
			buf_addch(&b, '\n');
		if (b.len >= DATA_FLUSH && data_flush(&b, fd, &bad_write))
			*over = 2;
	}
	if (r == 1 && !*over && data_flush(&b, fd, &bad_write) == -1)
		*over = 2;
	buf_release(&b);
	return r;
}
