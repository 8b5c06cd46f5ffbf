/*
 * Messages for the user on stderr, and the -v trace.
 */
#include "autoconfig.h"

#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "outcome.h"
#include "util.h"
#include "xmalloc.h"

#define LOG_FIELD_MAX	512	/* one value in a log line */

static const char	*progname = "postie";
static int		 verbosity;
static int		 logfd = -1;
static char		*logpath;
static int		 use_syslog;
static int		 quiet;		/* log_set_stderr(0): -bs */

static void	 field(struct buf *, const char *, const char *, int);

void
log_init(const char *name, int verbose)
{
	if (name != NULL)
		progname = name;
	verbosity = verbose;
}

void
log_set_stderr(int on)
{
	quiet = !on;
}

int
log_verbose(void)
{
	return verbosity;
}

static void	vlog(const char *, const char *, va_list)
		    __attribute__((__format__(printf, 2, 0)));

/*
 * Every line for stderr passes here: what it quotes (a server's reply,
 * a queue field) may hold ESC, OSC, BEL, CR or BS that would drive the
 * terminal, so the whole line goes through buf_add_escaped().
 */
static void
put_line(const char *prefix, const char *msg)
{
	struct buf	b = BUF_INIT;

	buf_printf(&b, "%s: %s", progname, prefix);
	buf_add_escaped(&b, msg, strlen(msg));
	if (quiet) {
		/* -bs: stdout is the dialogue, stderr must stay empty */
		if (use_syslog)
			syslog(LOG_NOTICE, "%s", b.data + strlen(progname) + 2);
		buf_release(&b);
		return;
	}
	buf_addch(&b, '\n');
	fwrite(b.data, 1, b.len, stderr);
	buf_release(&b);
}

static void
vlog(const char *prefix, const char *fmt, va_list ap)
{
	struct buf	b = BUF_INIT;
	va_list		ap2;
	int		n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	buf_grow(&b, (size_t)n + 1);
	vsnprintf(b.data, (size_t)n + 1, fmt, ap);
	b.len = (size_t)n;
	put_line(prefix, b.data);
	buf_release(&b);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (verbosity <= 0)
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void
log_trace(const char *fmt, ...)
{
	va_list	ap;

	if (verbosity <= 1)
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void
log_error(const struct error *err)
{
	put_line("", err->msg != NULL ? err->msg : "unknown error");
}

static const struct {
	const char	*name;
	int		 facility;
} facilities[] = {
	{ "LOG_USER", LOG_USER }, { "LOG_MAIL", LOG_MAIL },
	{ "LOG_LOCAL0", LOG_LOCAL0 }, { "LOG_LOCAL1", LOG_LOCAL1 },
	{ "LOG_LOCAL2", LOG_LOCAL2 }, { "LOG_LOCAL3", LOG_LOCAL3 },
	{ "LOG_LOCAL4", LOG_LOCAL4 }, { "LOG_LOCAL5", LOG_LOCAL5 },
	{ "LOG_LOCAL6", LOG_LOCAL6 }, { "LOG_LOCAL7", LOG_LOCAL7 },
	{ NULL, 0 }
};

void
log_open(const char *logfile, const char *fac)
{
	size_t	i;

	if (logfile != NULL && (logpath == NULL ||
	    strcmp(logpath, logfile) != 0)) {
		if (logfd > STDERR_FILENO)
			close(logfd);
		free(logpath);
		logpath = xstrdup(logfile);
		if (strcmp(logfile, "-") == 0)
			/* msmtp's "-"; never into the -bs dialogue */
			logfd = quiet ? -1 : STDOUT_FILENO;
		else if ((logfd = open(logfile, O_WRONLY | O_APPEND |
		    O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600)) == -1)
			log_warnx("cannot open log file '%s': %s", logfile,
			    strerror(errno));
	}
	if (fac != NULL && !use_syslog) {
		for (i = 0; facilities[i].name != NULL; i++)
			if (strcmp(facilities[i].name, fac) == 0)
				break;
		openlog(progname, LOG_PID, facilities[i].name != NULL ?
		    facilities[i].facility : LOG_MAIL);
		use_syslog = 1;
	}
}

void
log_close(void)
{
	if (logfd > STDERR_FILENO)
		close(logfd);
	logfd = -1;
	free(logpath);
	logpath = NULL;
	if (use_syslog)
		closelog();
	use_syslog = 0;
}

/*
 * key=value, the value quoted when it holds blanks; controls and bytes
 * that are not UTF-8 written as \xNN (buf_add_escaped), so a server's
 * words can neither break the line nor drive a terminal.
 */
static void
field(struct buf *b, const char *key, const char *v, int quote)
{
	struct buf	 e = BUF_INIT;
	size_t		 i;

	buf_printf(b, " %s=", key);
	if (v == NULL) {
		buf_addch(b, '-');
		return;
	}
	buf_add_escaped(&e, v, strnlen(v, LOG_FIELD_MAX));
	if (quote)
		buf_addch(b, '"');
	for (i = 0; i < e.len; i++) {
		if (quote && (e.data[i] == '"' || e.data[i] == '\\'))
			buf_addch(b, '\\');
		buf_addch(b, e.data[i]);
	}
	if (quote)
		buf_addch(b, '"');
	buf_release(&e);
}

/* An address in the line: no blanks, controls or commas; "-" if none. */
static void
add_addr(struct buf *b, const char *s)
{
	size_t	i;

	if (s == NULL || *s == '\0') {
		buf_addch(b, s == NULL ? '-' : '<');
		if (s != NULL)
			buf_addch(b, '>');	/* the null sender */
		return;
	}
	for (i = 0; i < LOG_FIELD_MAX && s[i] != '\0'; i++)
		buf_addch(b, (unsigned char)s[i] < 0x21 || s[i] == ',' ||
		    s[i] == 0x7f ? '_' : s[i]);
}

/* msmtp writes the sysexits name: exitcode=EX_OK. */
static const char *
exit_name(int code)
{
	static const char *const names[] = {
		"EX_USAGE", "EX_DATAERR", "EX_NOINPUT", "EX_NOUSER",
		"EX_NOHOST", "EX_UNAVAILABLE", "EX_SOFTWARE", "EX_OSERR",
		"EX_OSFILE", "EX_CANTCREAT", "EX_IOERR", "EX_TEMPFAIL",
		"EX_PROTOCOL", "EX_NOPERM", "EX_CONFIG"
	};

	if (code == 0)
		return "EX_OK";
	if (code >= 64 && code <= 78)
		return names[code - 64];
	return "EX_SOFTWARE";
}

/*
 * The line may name a sender, recipients and a server's reply, which
 * the sender chose; -X FILE lets a caller pick the file (PHPMailer's
 * CVE-2016-10033 wrote "-X/var/www/x.php").  "<?" and "<%" become
 * "\x3c?" and "\x3c%", so no line starts PHP (or ASP) code.  Consumes b.
 */
static char *
defuse(struct buf *b)
{
	struct buf	out = BUF_INIT;
	size_t		i;

	for (i = 0; i < b->len; i++) {
		if (b->data[i] == '<' && i + 1 < b->len &&
		    (b->data[i + 1] == '?' || b->data[i + 1] == '%'))
			buf_addstr(&out, "\\x3c");
		else
			buf_addch(&out, b->data[i]);
	}
	buf_release(b);
	return buf_detach(&out);
}

char *
log_attempt_line(const struct log_attempt *a)
{
	static const char *const states[] = { "pending", "accepted",
	    "deferred", "rejected" };
	struct buf	 b = BUF_INIT;
	size_t		 i;

	/*
	 * msmtp's field names (host tls auth user from recipients mailsize
	 * smtpstatus smtpmsg exitcode), so that greps written for its log
	 * work; postie adds id, account, states and outcome.
	 */
	buf_addstr(&b, "delivery");
	field(&b, "id", a->queue_id, 0);
	field(&b, "account", a->account, 1);
	field(&b, "host", a->host, 0);
	buf_printf(&b, " tls=%s auth=%s", a->tls ? "on" : "off",
	    a->auth ? "on" : "off");
	field(&b, "user", a->user, 1);
	buf_addstr(&b, " from=");
	add_addr(&b, a->from);
	buf_addstr(&b, " recipients=");
	for (i = 0; a->rcpts != NULL && i < a->rcpts->n; i++) {
		if (i > 0)
			buf_addch(&b, ',');
		add_addr(&b, a->rcpts->v[i]);
	}
	buf_addstr(&b, " states=");
	for (i = 0; a->rcpts != NULL && i < a->rcpts->n; i++) {
		const char *st = "-";

		if (a->res != NULL && i < a->res->n &&
		    (size_t)a->res->rcpt[i].state < 4)
			st = states[a->res->rcpt[i].state];
		buf_printf(&b, "%s%s", i > 0 ? "," : "", st);
		if (a->res != NULL && i < a->res->n &&
		    a->res->rcpt[i].code != 0)
			buf_printf(&b, ":%d", a->res->rcpt[i].code);
	}
	if (a->rcpts == NULL || a->rcpts->n == 0)
		buf_addstr(&b, "-");
	buf_printf(&b, " mailsize=%lld smtpstatus=%d", a->size, a->smtp_code);
	field(&b, "smtpmsg", a->smtp_text, 1);
	field(&b, "outcome", a->outcome, 0);
	buf_printf(&b, " exitcode=%s", exit_name(a->exit_code));
	return defuse(&b);
}

void
log_attempt(const struct log_attempt *a)
{
	struct buf	 b = BUF_INIT;
	char		*line, ts[64];
	struct tm	 tm;
	time_t		 now;

	if (logfd == -1 && !use_syslog)
		return;
	line = log_attempt_line(a);
	if (use_syslog)
		syslog(a->exit_code == 0 ? LOG_INFO : LOG_ERR, "%s", line);
	if (logfd != -1) {
		now = time(NULL);
		gmtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		buf_printf(&b, "%s %s[%ld]: %s\n", ts, progname,
		    (long)getpid(), line);
		/* one write(2) with O_APPEND: lines of parallel runs
		 * never interleave */
		if (util_write_all(logfd, b.data, b.len) == -1)
			log_debug("cannot write the log file: %s",
			    strerror(errno));
		buf_release(&b);
	}
	free(line);
}
