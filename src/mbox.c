/*
 * The mboxrd writer, and dead.letter.
 */
#include "autoconfig.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "mbox.h"
#include "message.h"
#include "outcome.h"
#include "util.h"
#include "xmalloc.h"

#define OUT_FLUSH	65536		/* write when this much is buffered */
#define PREFIX_MAX	1024		/* look-ahead for a ">>>From " line */

/*
 * The copy filter from the reader's CRLF lines to a mailbox file: CRLF
 * becomes LF and, for mbox, a line matching ^>*From  gets one more '>'
 * (mboxrd, so that readers can undo it).  Output is buffered.
 */
struct copy {
	int		 fd;
	int		 quote;		/* mboxrd quoting on */
	int		 cr;		/* a CR is held back */
	int		 bol;		/* at a line start */
	size_t		 matched;	/* bytes of "From " matched */
	struct buf	 pending;	/* held-back line start */
	struct buf	 out;
	int		 last;		/* last byte emitted, -1: none */
	int		 werrno;	/* first write error, 0: none */
};

static void
copy_init(struct copy *c, int fd, int quote)
{
	c->fd = fd;
	c->quote = quote;
	c->cr = 0;
	c->bol = 1;
	c->matched = 0;
	buf_init(&c->pending);
	buf_init(&c->out);
	c->last = -1;
	c->werrno = 0;
}

static void
copy_release(struct copy *c)
{
	buf_release(&c->pending);
	buf_release(&c->out);
}

static void
copy_flush(struct copy *c)
{
	if (c->out.len > 0 && c->werrno == 0 &&
	    util_write_all(c->fd, c->out.data, c->out.len) == -1)
		c->werrno = errno != 0 ? errno : EIO;
	buf_reset(&c->out);
}

static void
copy_emit(struct copy *c, int ch)
{
	buf_addch(&c->out, ch);
	c->last = ch;
	if (c->out.len >= OUT_FLUSH)
		copy_flush(c);
}

/* One LF-terminated-line byte: mboxrd quoting at line starts. */
static void
copy_filter(struct copy *c, int ch)
{
	static const char	from[] = "From ";
	size_t			i;

	if (!c->quote || !c->bol) {
		copy_emit(c, ch);
		if (ch == '\n')
			c->bol = 1;
		return;
	}
	/* At a line start: hold back ">*From " until it matches or cannot. */
	buf_addch(&c->pending, ch);
	if (ch == '>' && c->matched == 0 && c->pending.len < PREFIX_MAX)
		return;
	if (ch == from[c->matched] && ++c->matched < sizeof(from) - 1)
		return;
	if (c->matched == sizeof(from) - 1)
		copy_emit(c, '>');
	for (i = 0; i < c->pending.len; i++)
		copy_emit(c, (unsigned char)c->pending.data[i]);
	buf_reset(&c->pending);
	c->matched = 0;
	c->bol = ch == '\n';
}

/* One input byte: CRLF becomes LF (a lone CR is kept). */
static void
copy_byte(struct copy *c, int ch)
{
	if (c->cr) {
		c->cr = 0;
		if (ch == '\n') {
			copy_filter(c, '\n');
			return;
		}
		copy_filter(c, '\r');
	}
	if (ch == '\r') {
		c->cr = 1;
		return;
	}
	copy_filter(c, ch);
}

/*
 * The mbox separator: "From SENDER DATE" with an asctime(3)-style date in
 * local time, written with fixed English names whatever the locale.  The
 * null sender is MAILER-DAEMON; white space in a quoted local part would
 * break the line's fields, so it becomes '_'.
 */
static void
from_line(struct buf *b, const char *sender)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed",
	    "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm	 tm;
	time_t		 now = time(NULL);
	const char	*p;

	buf_addstr(b, "From ");
	if (sender == NULL || *sender == '\0')
		buf_addstr(b, "MAILER-DAEMON");
	else
		for (p = sender; *p != '\0'; p++)
			buf_addch(b, (unsigned char)*p <= ' ' ? '_' : *p);
	if (localtime_r(&now, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	buf_printf(b, " %s %s %2d %02d:%02d:%02d %d\n",
	    days[tm.tm_wday % 7], months[tm.tm_mon % 12], tm.tm_mday,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
}

int
mbox_write(int fd, const char *path, const char *sender,
    const char *headers, const struct message *msg, int mbox,
    struct error *err)
{
	struct message_reader	*r;
	struct copy		 c;
	char			 buf[16384];
	ssize_t			 n, i;
	int			 ret = 0;

	copy_init(&c, fd, mbox);
	if (mbox) {
		from_line(&c.out, sender);
		if (headers != NULL)
			buf_addstr(&c.out, headers);
	}
	r = message_reader_new(msg);
	while (c.werrno == 0) {
		if ((n = message_reader_read(r, buf, sizeof(buf), err)) == -1) {
			ret = -1;
			break;
		}
		if (n == 0)
			break;
		for (i = 0; i < n; i++)
			copy_byte(&c, (unsigned char)buf[i]);
	}
	message_reader_free(r);
	if (ret == 0 && c.werrno == 0) {
		if (c.cr)
			copy_filter(&c, '\r');
		for (i = 0; i < (ssize_t)c.pending.len; i++)
			copy_emit(&c, (unsigned char)c.pending.data[i]);
		if (c.last != '\n' && (mbox || c.last != -1))
			copy_emit(&c, '\n');
		/* mbox: an empty line separates messages. */
		if (mbox)
			copy_emit(&c, '\n');
		copy_flush(&c);
	}
	if (ret == 0 && c.werrno != 0) {
		errno = c.werrno;
		ret = error_set_errno(err, EX_TEMPFAIL, "cannot write to '%s'",
		    path);
	}
	copy_release(&c);
	return ret;
}

/* dead.letter. */

char *
mbox_dead_letter(const struct message *msg, const struct outcome *res,
    struct error *err)
{
	const struct envelope	*env = message_envelope(msg);
	struct buf		 hdr = BUF_INIT;
	struct stat		 st;
	char			*home, *path;
	size_t			 i;
	int			 fd, rc = 0;

	if ((home = util_home_dir()) == NULL) {
		error_set(err, EX_CANTCREAT, "cannot write dead.letter: no "
		    "home directory");
		return NULL;
	}
	path = xasprintf("%s/dead.letter", home);
	free(home);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC | O_NOCTTY, 0600);
	if (fd == -1) {
		error_set_errno(err, EX_CANTCREAT, "cannot open '%s'", path);
		free(path);
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1 || st.st_uid != geteuid()) {
		error_set(err, EX_CANTCREAT, "refusing to write '%s': not a "
		    "regular file of ours with one link", path);
		close(fd);
		free(path);
		return NULL;
	}
	/*
	 * The size to cut back to on failure is measured under the lock:
	 * another writer may have appended while we waited for it.
	 */
	if (flock(fd, LOCK_EX) == -1 || fstat(fd, &st) == -1) {
		error_set_errno(err, EX_CANTCREAT, "cannot lock '%s'", path);
		close(fd);
		free(path);
		return NULL;
	}
	/* what each recipient's server said: the reason it is here */
	for (i = 0; res != NULL && i < res->n && i < env->rcpts.n; i++) {
		if (res->rcpt[i].state == RCPT_ACCEPTED)
			continue;
		buf_addstr(&hdr, "X-Postie-Not-Delivered: <");
		buf_add_clean(&hdr, env->rcpts.v[i], 512);
		buf_addch(&hdr, '>');
		if (res->rcpt[i].code != 0) {
			buf_printf(&hdr, ": %d ", res->rcpt[i].code);
			buf_add_clean(&hdr, res->rcpt[i].reply, 400);
		}
		buf_addch(&hdr, '\n');
	}
	if (mbox_write(fd, path, env->sender, buf_str(&hdr), msg, 1,
	    err) == -1)
		rc = error_set(err, EX_CANTCREAT, "%s", err->msg);
	if (rc == 0 && fsync(fd) == -1 && errno != EINVAL)
		rc = error_set_errno(err, EX_CANTCREAT, "cannot sync '%s'",
		    path);
	/* never leave half a message for the reader of the mbox */
	if (rc == -1 && ftruncate(fd, st.st_size) == -1)
		log_warnx("cannot remove a partial message from '%s': %s",
		    path, strerror(errno));
	if (close(fd) == -1 && rc == 0)
		rc = error_set_errno(err, EX_CANTCREAT, "cannot write '%s'",
		    path);
	buf_release(&hdr);
	if (rc == -1) {
		free(path);
		return NULL;
	}
	return path;
}
