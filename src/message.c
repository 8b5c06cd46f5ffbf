/*
 * The mail object and the formatter: read a message as a stream, validate
 * and complete it, and hand out readers that yield the exact bytes to
 * send.  The body is scanned once while it is read and never held whole.
 */
#include "autoconfig.h"

#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "aliases.h"
#include "config.h"
#include "error.h"
#include "hdrenc.h"
#include "log.h"
#include "message.h"
#include "rfc5322.h"
#include "util.h"
#include "xmalloc.h"

#define CHUNK		(64 * 1024)	/* input and output block size */
#define MEM_MAX		(256 * 1024)	/* body kept in memory up to this */
#define LINE_MAX_SMTP	998		/* RFC 5322 2.1.1 */
#define FOLD_AT		78		/* RFC 5322 2.1.1 "SHOULD" */

enum body_enc {
	BODY_ASIS = 0,	/* line endings normalised to CRLF */
	BODY_QP		/* re-encoded as quoted-printable */
};

/* What one pass over the body learned. */
struct body_stats {
	off_t		 lines;		/* line count (a final partial too) */
	off_t		 content;	/* octets, line endings excluded */
	off_t		 maxline;	/* longest line, line ending excluded */
	off_t		 longline;	/* number of the first line > 998 */
	int		 nul;		/* a NUL byte was seen */
	int		 eightbit;	/* a byte > 127 was seen */
	struct utf8_check utf8;
};

/*
 * Where the raw body bytes are: in memory, or a byte range of a file
 * (the seekable input itself, or a spool file of a piped input).
 */
struct body_src {
	struct buf	 mem;
	int		 fd;		/* -1: mem */
	off_t		 start;
	off_t		 end;
	const struct message_body_ops *gen;	/* a generated body, or NULL */
	void		*genctx;
	off_t		 gensize;
};

struct message {
	struct envelope		 env;
	struct header_list	 hdrs;
	struct body_src		 body;
	struct body_stats	 stats;
	enum body_enc		 enc;
	int			 verbatim;	/* body bytes are final */
	struct buf		 head;	/* serialised header block + CRLF */
	off_t			 body_size;	/* octets the body yields */
	char			*msgid;
	int			 finalized;
	int			 lead_fold;	/* input line 1 began with white
						   space: no header block */
	char			*spool_dir;	/* message_opts' */
	struct strlist		 rewrites;	/* message_rewrites() */
};

/* Line reader over the input: yields line fragments, never more than the
 * buffer holds; eol tells whether the fragment ends its line. */
struct lreader {
	int		 fd;
	char		*buf;
	size_t		 pos;
	size_t		 len;
	int		 eof;
	int		 has_cr;	/* the block holds a CR somewhere */
	off_t		 offset;	/* input offset of buf[pos] */
};

struct line {
	const char	*p;
	size_t		 len;		/* content, line ending excluded */
	size_t		 rawlen;	/* with the line ending */
	int		 eol;		/* 1 when a line ending was seen */
	int		 more;		/* a piece of a line longer than the
					   block: more of it follows */
};

struct message_reader {
	const struct message	*msg;
	off_t			 hpos;		/* position in msg->head */
	off_t			 bpos;		/* next raw body offset */
	int			 body_done;
	int			 prev_cr;	/* last raw byte was a CR */
	int			 midline;	/* output is inside a line */
	struct qp_enc		 qp;
	struct buf		 out;
	size_t			 outpos;
	char			*in;		/* raw input block */
};

static int	lr_fill(struct lreader *, struct error *);
static int	lr_line(struct lreader *, struct line *, struct error *);
static char	*find_eol(char *, char *, int);
static void	lr_unread(struct lreader *, const struct line *);
static int	read_headers(struct message *, struct lreader *,
		    const struct message_opts *, int *, struct error *);
static int	read_body(struct message *, struct lreader *,
		    const struct message_opts *, int, int, struct error *);
static void	stats_line(struct body_stats *, const char *, size_t);
static void	stats_eol(struct body_stats *, off_t);
static int	body_add(struct message *, const char *, size_t,
		    struct error *);
static int	spill(struct message *, struct error *);
static int	body_flush(struct message *, struct error *);
static int	body_done(struct message *, struct error *);
static int	collect_rcpts(struct message *, const struct message_opts *,
		    struct strlist *, struct error *);
static int	qualify_headers(struct message *, const char *);
static int	add_missing(struct message *, const struct message_opts *,
		    struct error *);
static int	choose_encoding(struct message *, struct error *);
static int	serialise_head(struct message *, struct error *);
static char	*make_date(void);
static char	*make_msgid(const char *);
static char	*login_name(void);
static char	*gecos_name(void);
static ssize_t	body_pread(const struct message *, void *, size_t, off_t,
		    struct error *);
static void	transform(struct message_reader *, const char *, size_t);
static size_t	crlf_into(struct message_reader *, const char *, size_t,
		    char *);
static off_t	count_body(const struct message *, struct error *);

/*
 * Input
 */

static int
lr_fill(struct lreader *r, struct error *err)
{
	ssize_t	n;

	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	}
	while (!r->eof && r->len < CHUNK) {
		n = read(r->fd, r->buf + r->len, CHUNK - r->len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return error_set_errno(err, EX_IOERR,
			    "cannot read the message");
		}
		if (n == 0)
			r->eof = 1;
		r->len += (size_t)n;
		/* One read is enough to make progress. */
		break;
	}
	/* Most input has no CR at all: then only LF needs looking for. */
	r->has_cr = memchr(r->buf, '\r', r->len) != NULL;
	return 0;
}

/* The first CR or LF in [p, e), or NULL; CR only looked for if cr. */
static char *
find_eol(char *p, char *e, int cr)
{
	char	*nl = memchr(p, '\n', (size_t)(e - p)), *c;

	if (!cr)
		return nl;
	c = memchr(p, '\r', (size_t)((nl != NULL ? nl : e) - p));
	return c != NULL ? c : nl;
}

/*
 * The next line fragment.  Line endings are LF, CRLF or a lone CR.
 * Returns 1 with a fragment, 0 at the end of input, -1 on error.
 */
static int
lr_line(struct lreader *r, struct line *l, struct error *err)
{
	char	*s, *e, *nl;
	size_t	 avail;

	for (;;) {
		avail = r->len - r->pos;
		s = r->buf + r->pos;
		e = s + avail;
		nl = avail > 0 ? find_eol(s, e, r->has_cr) : NULL;
		if (nl != NULL && *nl == '\r' && nl + 1 == e && !r->eof) {
			/* CR at the end of the block: is an LF next? */
			if (r->pos == 0 && r->len == CHUNK) {
				/* Full block: hand out the text before it. */
				if (nl == s)
					goto refill;
				l->p = s;
				l->len = l->rawlen = (size_t)(nl - s);
				l->eol = 0;
				l->more = 1;
				r->pos += l->rawlen;
				r->offset += (off_t)l->rawlen;
				return 1;
			}
			goto refill;
		}
		if (nl != NULL) {
			l->p = s;
			l->len = (size_t)(nl - s);
			l->rawlen = l->len + 1;
			if (*nl == '\r' && nl + 1 < e && nl[1] == '\n')
				l->rawlen++;
			l->eol = 1;
			l->more = 0;
			r->pos += l->rawlen;
			r->offset += (off_t)l->rawlen;
			return 1;
		}
		if (avail > 0 && (r->eof || (r->pos == 0 && r->len == CHUNK))) {
			/* A final line without ending, or a long line. */
			l->p = s;
			l->len = l->rawlen = avail;
			l->eol = 0;
			l->more = !r->eof;
			r->pos += avail;
			r->offset += (off_t)avail;
			return 1;
		}
		if (avail == 0 && r->eof)
			return 0;
refill:
		if (lr_fill(r, err) == -1)
			return -1;
	}
}

/* A line that is exactly "." (sendmail's end of input without -i). */
static int
is_dot_line(const struct line *l)
{
	return l->eol && l->len == 1 && l->p[0] == '.';
}

struct message *
message_read(int fd, const struct message_opts *opts, struct error *err)
{
	struct message	*msg;
	struct lreader	 r;
	struct stat	 st;
	int		 seekable = 0, nobody = 0;

	msg = xcalloc(1, sizeof(*msg));
	msg->body.fd = -1;
	if (opts->spool_dir != NULL)
		msg->spool_dir = xstrdup(opts->spool_dir);
	memset(&r, 0, sizeof(r));
	r.fd = fd;
	r.buf = xmalloc(CHUNK);

	/*
	 * A regular file can be read again later by offset: the body then
	 * needs no copy.  Anything else (a pipe) is kept in memory or spooled.
	 */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		off_t cur = lseek(fd, 0, SEEK_CUR);

		if (cur != -1 && (msg->body.fd = fcntl(fd, F_DUPFD_CLOEXEC,
		    0)) != -1) {
			r.offset = cur;
			seekable = 1;
		}
	}
	if (read_headers(msg, &r, opts, &nobody, err) == -1 ||
	    read_body(msg, &r, opts, seekable, nobody, err) == -1) {
		free(r.buf);
		message_free(msg);
		return NULL;
	}
	free(r.buf);
	return msg;
}

struct message *
message_new_composed(const char *const *names, const char *const *values,
    size_t n, const struct message_body_ops *ops, void *ctx, off_t size)
{
	struct message	*msg = xcalloc(1, sizeof(*msg));
	size_t		 i;

	msg->body.fd = -1;
	msg->body.gen = ops;
	msg->body.genctx = ctx;
	msg->body.gensize = size;
	for (i = 0; i < n; i++) {
		header_list_add(&msg->hdrs, names[i], "");
		header_list_set(&msg->hdrs, msg->hdrs.n - 1, values[i]);
	}
	return msg;
}

struct message *
message_new_wire(int fd, off_t size, const struct envelope *env)
{
	struct message	*msg = xcalloc(1, sizeof(*msg));
	size_t		 i;

	msg->body.fd = fd;
	msg->body.start = 0;
	msg->body.end = size;
	msg->body_size = size;
	msg->verbatim = 1;
	msg->finalized = 1;
	msg->env.sender = xstrdup(env->sender);
	for (i = 0; i < env->rcpts.n; i++)
		strlist_add(&msg->env.rcpts, env->rcpts.v[i]);
	return msg;
}

/* Give back the line just returned by lr_line(). */
static void
lr_unread(struct lreader *r, const struct line *l)
{
	r->pos -= l->rawlen;
	r->offset -= (off_t)l->rawlen;
}

/* 1 when a line fragment starts like a header field or a fold. */
static int
looks_like_field(const struct line *l)
{
	const char	*c;

	if (l->len > 0 && (l->p[0] == ' ' || l->p[0] == '\t'))
		return 1;
	c = memchr(l->p, ':', l->len);
	return c != NULL && rfc5322_valid_name(l->p, (size_t)(c - l->p));
}

/*
 * Read the header block.  On return the reader stands at the first byte
 * of the body; *nobody is set when a lone "." ended the message inside
 * the header block.
 */
static int
read_headers(struct message *msg, struct lreader *r,
    const struct message_opts *opts, int *nobody, struct error *err)
{
	struct rfc5322	 p;
	struct line	 l;
	int		 n, st, first = 1;

	rfc5322_init(&p, &msg->hdrs);
	for (;;) {
		if ((n = lr_line(r, &l, err)) == -1)
			goto fail;
		if (n == 0)
			break;
		if (l.more) {
			/* Longer than the read block: only a body does that. */
			if (looks_like_field(&l)) {
				error_set(err, EX_DATAERR, "a header line of "
				    "the message is longer than %d octets",
				    CHUNK);
				goto fail;
			}
			lr_unread(r, &l);
			break;
		}
		if (first && l.len >= 5 && memcmp(l.p, "From ", 5) == 0) {
			/* An mbox "From " line is not part of the message. */
			first = 0;
			continue;
		}
		first = 0;
		if (!opts->ignore_dots && is_dot_line(&l)) {
			/* sendmail: a lone dot ends the message. */
			*nobody = 1;
			break;
		}
		if ((st = rfc5322_push(&p, l.p, l.len, err)) == -1)
			goto fail;
		if (st == RFC5322_END)
			break;
		if (st == RFC5322_BODY) {
			/* Not a header line: it is the body's first line. */
			if (msg->hdrs.n == 0 && l.len > 0 &&
			    (l.p[0] == ' ' || l.p[0] == '\t'))
				msg->lead_fold = 1;
			lr_unread(r, &l);
			break;
		}
	}
	if (rfc5322_finish(&p, err) == -1)
		goto fail;
	rfc5322_release(&p);
	return 0;
fail:
	rfc5322_release(&p);
	return -1;
}

/* Account for one line fragment's content. */
static void
stats_line(struct body_stats *s, const char *p, size_t n)
{
	size_t	i;

	s->content += (off_t)n;
	if (!s->nul && memchr(p, '\0', n) != NULL)
		s->nul = 1;
	if (!s->eightbit) {
		/* Eight octets at a time: any high bit set? */
		for (i = 0; i + 8 <= n; i += 8) {
			uint64_t w;

			memcpy(&w, p + i, 8);
			if (w & UINT64_C(0x8080808080808080))
				break;
		}
		for (; i < n; i++)
			if ((unsigned char)p[i] > 127) {
				s->eightbit = 1;
				utf8_check_data(&s->utf8,
				    (const unsigned char *)p + i, n - i);
				return;
			}
	} else
		utf8_check_data(&s->utf8, (const unsigned char *)p, n);
}

static void
stats_eol(struct body_stats *s, off_t len)
{
	s->lines++;
	if (len > s->maxline)
		s->maxline = len;
	if (len > LINE_MAX_SMTP && s->longline == 0)
		s->longline = s->lines;
}

/*
 * Scan the body once: statistics for finalize, the lone-dot end, and the
 * bytes kept (by offset for a seekable input, else in memory or spooled).
 */
static int
read_body(struct message *msg, struct lreader *r,
    const struct message_opts *opts, int seekable, int nobody,
    struct error *err)
{
	struct line	 l;
	off_t		 cur = 0;	/* length of the current line so far */
	off_t		 linestart;
	int		 n;

	msg->body.start = msg->body.end = seekable ? r->offset : 0;
	if (nobody)
		return 0;
	for (linestart = r->offset;; ) {
		if ((n = lr_line(r, &l, err)) == -1)
			return -1;
		if (n == 0)
			break;
		if (cur == 0 && !opts->ignore_dots && is_dot_line(&l)) {
			/* The dot line itself is not part of the message. */
			if (seekable)
				msg->body.end = linestart;
			return seekable ? 0 : body_done(msg, err);
		}
		if (!seekable && body_add(msg, l.p, l.rawlen, err) == -1)
			return -1;
		stats_line(&msg->stats, l.p, l.len);
		cur += (off_t)l.len;
		if (l.eol) {
			stats_eol(&msg->stats, cur);
			cur = 0;
			linestart = r->offset;
		}
	}
	if (cur > 0)	/* a final line without a line ending */
		stats_eol(&msg->stats, cur);
	if (seekable)
		msg->body.end = r->offset;
	return seekable ? 0 : body_done(msg, err);
}

/* A spooled body is complete: flush it and drop the write buffer. */
static int
body_done(struct message *msg, struct error *err)
{
	if (msg->body.fd == -1)
		return 0;
	if (body_flush(msg, err) == -1)
		return -1;
	buf_release(&msg->body.mem);
	return 0;
}

/*
 * Append raw body bytes: to memory up to MEM_MAX, then to a spool file.
 * Used only when the input cannot be read again.
 */
static int
body_add(struct message *msg, const char *p, size_t n, struct error *err)
{
	struct body_src	*b = &msg->body;

	if (b->fd != -1) {
		/*
		 * Spooling: mem gathers the bytes for one write a block
		 * (lines come one by one); b->end counts them all.
		 */
		buf_add(&b->mem, p, n);
		b->end += (off_t)n;
		if (b->mem.len >= CHUNK)
			return body_flush(msg, err);
		return 0;
	}
	buf_add(&b->mem, p, n);
	b->end = (off_t)b->mem.len;
	if (b->mem.len > MEM_MAX)
		return spill(msg, err);
	return 0;
}

/* Write what spooling gathered (nothing when the body is in memory). */
static int
body_flush(struct message *msg, struct error *err)
{
	struct body_src	*b = &msg->body;

	if (b->fd == -1 || b->mem.len == 0)
		return 0;
	if (util_write_all(b->fd, b->mem.data, b->mem.len) == -1)
		return error_set_errno(err, EX_TEMPFAIL,
		    "cannot spool the message body");
	buf_reset(&b->mem);
	return 0;
}

/* Move the in-memory body to an unlinked temporary file. */
static int
spill(struct message *msg, struct error *err)
{
	int	fd;

	if ((fd = util_tmpfile_in(msg->spool_dir, err)) == -1)
		return -1;
	if (util_write_all(fd, msg->body.mem.data, msg->body.mem.len) == -1) {
		close(fd);
		return error_set_errno(err, EX_TEMPFAIL,
		    "cannot spool the message body");
	}
	msg->body.fd = fd;
	msg->body.start = 0;
	msg->body.end = (off_t)msg->body.mem.len;
	buf_release(&msg->body.mem);
	return 0;
}

/*
 * Finalize
 */

/* The first address of the From header (allocated), or NULL. */
static char *
from_address(const struct message *msg)
{
	struct addr_list	 al = ADDR_LIST_INIT;
	struct error		 e = ERROR_INIT;
	char			*a = NULL;
	long			 k;

	if ((k = header_list_find(&msg->hdrs, "From", 0)) == -1)
		return NULL;
	if (addr_parse_list(msg->hdrs.v[k].value, &al, &e) == 0 && al.n > 0 &&
	    al.v[0].spec != NULL && *al.v[0].spec != '\0')
		a = xstrdup(al.v[0].spec);
	error_release(&e);
	addr_list_release(&al);
	return a;
}

/* The account's own address for Sender: "from" when it is one address
 * (not a pattern), else the envelope sender; NULL for the null sender. */
static char *
account_address(const struct message *msg, const struct message_opts *opts)
{
	struct error	e = ERROR_INIT;
	const char	*f = opts->from_default;

	if (f != NULL && strpbrk(f, "*?[") == NULL &&
	    addr_check_mailbox(f, 0, &e) == 0)
		return xstrdup(f);
	error_release(&e);
	if (*msg->env.sender != '\0')
		return xstrdup(msg->env.sender);
	return NULL;
}

/*
 * set_sender_header on: the author's From stays, and Sender names the
 * account that sends it (RFC 5322 3.6.2), unless From is that address.
 */
static void
add_sender(struct message *msg, const struct message_opts *opts)
{
	char	*acct, *from;
	long	 k;

	if ((acct = account_address(msg, opts)) == NULL)
		return;
	from = from_address(msg);
	if (from != NULL && strcasecmp(from, acct) == 0) {
		strlist_add(&msg->rewrites, "Sender: not added (From is the "
		    "account's address)");
	} else {
		while ((k = header_list_find(&msg->hdrs, "Sender", 0)) != -1)
			header_list_remove(&msg->hdrs, (size_t)k);
		header_list_add(&msg->hdrs, "Sender", "");
		header_list_set(&msg->hdrs, msg->hdrs.n - 1, acct);
		strlist_add_owned(&msg->rewrites, xasprintf("Sender: %s "
		    "added (set_sender_header on; From kept)", acct));
	}
	free(from);
	free(acct);
}

int
message_finalize(struct message *msg, const struct message_opts *opts,
    struct error *err)
{
	struct strlist	 rcpts = STRLIST_INIT;
	const char	*qd = opts->qualify_domain;
	size_t		 i;
	long		 k;

	if (msg->finalized)
		return 0;
	if (collect_rcpts(msg, opts, &rcpts, err) == -1)
		goto fail;
	msg->env.rcpts = rcpts;
	memset(&rcpts, 0, sizeof(rcpts));

	/* The envelope sender. */
	if (opts->sender != NULL) {
		msg->env.sender = addr_envelope_sender(opts->sender, err);
		if (msg->env.sender == NULL)
			goto fail;
	} else if (opts->read_envelope_from &&
	    (msg->env.sender = from_address(msg)) != NULL) {
		/* read_envelope_from: the author's address (msmtp) */
		if (addr_check_mailbox(msg->env.sender, 1, err) == -1)
			return error_prefix(err, "read_envelope_from: the "
			    "From header's address");
	} else if (opts->from_default != NULL && *opts->from_default != '\0') {
		msg->env.sender = addr_envelope_sender(opts->from_default, err);
		if (msg->env.sender == NULL)
			return error_prefix(err, "invalid 'from' in the config");
	} else {
		msg->env.sender = login_name();
	}
	if (*msg->env.sender != '\0' && !addr_has_domain(msg->env.sender) &&
	    qd != NULL) {
		char *q = xasprintf("%s@%s", msg->env.sender, qd);

		free(msg->env.sender);
		msg->env.sender = q;
	}
	if (*msg->env.sender != '\0' &&
	    addr_check_mailbox(msg->env.sender, 0, err) == -1)
		return error_prefix(err, "invalid envelope sender");

	if (qd != NULL && qualify_headers(msg, qd) == -1)
		goto fail;

	/* RFC 5322 3.6.3: Bcc must not reach the recipients. */
	if (opts->remove_bcc_headers)
		while ((k = header_list_find(&msg->hdrs, "Bcc", 0)) != -1)
			header_list_remove(&msg->hdrs, (size_t)k);
	/* RFC 5321 4.4: the final delivery adds Return-Path; a client
	 * SHOULD NOT send one (Postfix and nullmailer remove it too). */
	while ((k = header_list_find(&msg->hdrs, "Return-Path", 0)) != -1)
		header_list_remove(&msg->hdrs, (size_t)k);

	if (add_missing(msg, opts, err) == -1)
		goto fail;
	if (msg->body.gen == NULL && choose_encoding(msg, err) == -1)
		goto fail;
	if (serialise_head(msg, err) == -1)
		goto fail;
	if (msg->body.gen != NULL)
		msg->body_size = msg->body.gensize;
	else if (msg->enc == BODY_QP) {
		if ((msg->body_size = count_body(msg, err)) == -1)
			goto fail;
	} else {
		msg->body_size = msg->stats.content + 2 * msg->stats.lines;
	}
	for (i = 0; i < msg->env.rcpts.n; i++)
		log_debug("recipient: <%s>", msg->env.rcpts.v[i]);
	msg->finalized = 1;
	return 0;
fail:
	strlist_release(&rcpts);
	return -1;
}

/* Add an address, once (seen holds l's strings, for linear time). */
static void
add_rcpt(struct strlist *l, struct strset *seen, const char *a)
{
	if (strset_has(seen, a))
		return;
	strlist_add(l, a);
	strset_add(seen, l->v[l->n - 1]);
}

static int
collect_rcpts(struct message *msg, const struct message_opts *opts,
    struct strlist *out, struct error *err)
{
	static const char *const fields[] = { "To", "Cc", "Bcc" };
	struct strlist	 raw = STRLIST_INIT, exp = STRLIST_INIT;
	struct strset	 seen = STRSET_INIT;
	struct addr_list al = ADDR_LIST_INIT;
	size_t		 i;
	long		 k;

	if (opts->rcpts != NULL)
		for (i = 0; i < opts->rcpts->n; i++)
			if (addr_split_arg(opts->rcpts->v[i], &raw, err) == -1)
				goto fail;
	if (opts->extract_rcpts) {
		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			for (k = header_list_find(&msg->hdrs, fields[i], 0);
			    k != -1; k = header_list_find(&msg->hdrs,
			    fields[i], (size_t)k + 1)) {
				if (addr_parse_list(msg->hdrs.v[k].value, &al,
				    err) == -1) {
					error_prefix(err, "cannot read "
					    "recipients from the %s header",
					    fields[i]);
					goto fail;
				}
			}
		}
		for (i = 0; i < al.n; i++)
			strlist_add(&raw, al.v[i].spec);
		addr_list_release(&al);
	}
	if (raw.n == 0) {
		if (opts->extract_rcpts && msg->lead_fold)
			error_set(err, EX_DATAERR, "line 1 of the message "
			    "starts with white space (a continued header "
			    "line with no field before it), so the message "
			    "has no header block and -t found no recipients: "
			    "remove the leading blank");
		else if (opts->extract_rcpts)
			error_set(err, EX_NOINPUT, "no recipients found in "
			    "the message (To, Cc and Bcc are empty)");
		else
			error_set(err, EX_USAGE, "no recipients given "
			    "(name them as arguments, or use -t to read "
			    "them from the message)");
		goto fail;
	}
	/* Aliases apply to local names, before qualification. */
	for (i = 0; i < raw.n; i++) {
		if (opts->aliases != NULL && !addr_has_domain(raw.v[i]))
			aliases_expand(opts->aliases, raw.v[i], &exp);
		else
			strlist_add(&exp, raw.v[i]);
	}
	for (i = 0; i < exp.n; i++) {
		char *a;

		if (!addr_has_domain(exp.v[i]) && opts->qualify_domain != NULL)
			a = xasprintf("%s@%s", exp.v[i], opts->qualify_domain);
		else
			a = xstrdup(exp.v[i]);
		if (addr_check_mailbox(a, 0, err) == -1) {
			free(a);
			error_prefix(err, "invalid recipient");
			goto fail;
		}
		add_rcpt(out, &seen, a);
		free(a);
	}
	strset_release(&seen);
	strlist_release(&raw);
	strlist_release(&exp);
	return 0;
fail:
	strset_release(&seen);
	addr_list_release(&al);
	strlist_release(&raw);
	strlist_release(&exp);
	return -1;
}

/* Qualify bare local names in the address headers, in place. */
static int
qualify_headers(struct message *msg, const char *domain)
{
	static const char *const fields[] = { "From", "To", "Cc", "Bcc",
	    "Sender", "Reply-To" };
	struct error	 e = ERROR_INIT;
	struct addr_list al = ADDR_LIST_INIT;
	size_t		 i, j;
	int		 bare;
	char		*q;

	for (i = 0; i < msg->hdrs.n; i++) {
		struct header *h = &msg->hdrs.v[i];

		for (j = 0; j < sizeof(fields) / sizeof(fields[0]); j++)
			if (strcasecmp(h->name, fields[j]) == 0)
				break;
		if (j == sizeof(fields) / sizeof(fields[0]))
			continue;
		if (addr_parse_list(h->value, &al, &e) == -1) {
			/* Not ours to judge unless -t reads it: keep it. */
			log_debug("%s header left as is: %s", h->name, e.msg);
			error_release(&e);
			continue;
		}
		for (bare = 0, j = 0; j < al.n; j++)
			if (!al.v[j].has_domain)
				bare = 1;
		addr_list_release(&al);
		if (!bare)
			continue;
		if ((q = addr_qualify_list(h->value, domain, &e)) == NULL) {
			error_release(&e);
			continue;
		}
		header_list_set(&msg->hdrs, i, q);
		free(q);
	}
	return 0;
}

static int
add_missing(struct message *msg, const struct message_opts *opts,
    struct error *err)
{
	const char	*name;
	char		*addr, *ph, *v, *gecos = NULL;
	long		 k;

	if (opts->fullname != NULL && mem_has_crlfnul(opts->fullname,
	    strlen(opts->fullname)))
		return error_set(err, EX_DATAERR,
		    "full name given with -F holds a line break");

	k = header_list_find(&msg->hdrs, "From", 0);
	if (opts->set_from_header == 1 || (opts->set_from_header ==
	    TRI_AUTO && k == -1)) {
		if (*msg->env.sender != '\0')
			addr = xstrdup(msg->env.sender);
		else {
			char *u = login_name();

			addr = opts->qualify_domain != NULL ?
			    xasprintf("%s@%s", u, opts->qualify_domain) :
			    xstrdup(u);
			free(u);
		}
		name = opts->fullname;
		if (name == NULL || *name == '\0')
			name = opts->from_full_name;
		/* The login's GECOS name names the login's mail (as
		 * Postfix, -f too), never the account's configured "from"
		 * address: that one takes from_full_name or no name. */
		if ((name == NULL || *name == '\0') &&
		    (opts->sender != NULL || opts->from_default == NULL))
			name = gecos = gecos_name();
		if (name != NULL && *name != '\0') {
			ph = hdrenc_phrase(name);
			v = xasprintf("%s <%s>", ph, addr);
			free(ph);
		} else
			v = xstrdup(addr);
		strlist_add_owned(&msg->rewrites, xasprintf("From: %s %s", v,
		    k == -1 ? "added (there was none)" : "replaced "
		    "(set_from_header on)"));
		while ((k = header_list_find(&msg->hdrs, "From", 0)) != -1)
			header_list_remove(&msg->hdrs, (size_t)k);
		header_list_add(&msg->hdrs, "From", "");
		header_list_set(&msg->hdrs, msg->hdrs.n - 1, v);
		free(v);
		free(addr);
		free(gecos);
	}
	if (opts->set_sender_header == 1)
		add_sender(msg, opts);
	if (opts->set_date_header != 0 &&
	    header_list_find(&msg->hdrs, "Date", 0) == -1) {
		v = make_date();
		header_list_add(&msg->hdrs, "Date", "");
		header_list_set(&msg->hdrs, msg->hdrs.n - 1, v);
		free(v);
	}
	k = header_list_find(&msg->hdrs, "Message-ID", 0);
	if (k == -1 && opts->set_msgid_header != 0) {
		msg->msgid = make_msgid(opts->msgid_domain != NULL ?
		    opts->msgid_domain : opts->qualify_domain);
		header_list_add(&msg->hdrs, "Message-ID", "");
		header_list_set(&msg->hdrs, msg->hdrs.n - 1, msg->msgid);
	} else if (k != -1)
		msg->msgid = xstrdup(msg->hdrs.v[k].value);
	return 0;
}

static int
is_mime(const struct message *msg)
{
	return header_list_find(&msg->hdrs, "MIME-Version", 0) != -1 ||
	    header_list_find(&msg->hdrs, "Content-Type", 0) != -1 ||
	    header_list_find(&msg->hdrs, "Content-Transfer-Encoding", 0) != -1;
}

static void
set_header(struct message *msg, const char *name, const char *value)
{
	long	k = header_list_find(&msg->hdrs, name, 0);

	if (k == -1) {
		header_list_add(&msg->hdrs, name, "");
		k = (long)msg->hdrs.n - 1;
	}
	header_list_set(&msg->hdrs, (size_t)k, value);
}

/*
 * A body that cannot travel as it is (a line over 998 octets, a NUL) is
 * re-encoded as quoted-printable, which loses nothing.  That is correct
 * for a non-MIME message and for a single-part MIME message in an
 * identity encoding; a multipart message would need its parts rewritten,
 * so it is refused.
 */
static int
choose_encoding(struct message *msg, struct error *err)
{
	const char	*ct, *cte;
	int		 mime = is_mime(msg);
	int		 utf8 = utf8_check_ok(&msg->stats.utf8);

	msg->enc = BODY_ASIS;
	if (msg->stats.maxline <= LINE_MAX_SMTP && !msg->stats.nul) {
		if (!mime && msg->stats.eightbit && utf8) {
			/* Declare what the 8-bit text is (UTF-8 is the only
			 * safe guess; other 8-bit text passes undeclared). */
			set_header(msg, "MIME-Version", "1.0");
			set_header(msg, "Content-Type",
			    "text/plain; charset=UTF-8");
			set_header(msg, "Content-Transfer-Encoding", "8bit");
		}
		return 0;
	}
	ct = message_header(msg, "Content-Type");
	cte = message_header(msg, "Content-Transfer-Encoding");
	if (mime && ((ct != NULL && (str_has_prefix_nocase(ct, "multipart/") ||
	    str_has_prefix_nocase(ct, "message/"))) || (cte != NULL &&
	    strcasecmp(cte, "7bit") != 0 && strcasecmp(cte, "8bit") != 0 &&
	    strcasecmp(cte, "binary") != 0))) {
		if (msg->stats.longline > 0)
			return error_set(err, EX_DATAERR, "line %lld of the "
			    "body is longer than %d octets, and the message "
			    "is MIME (%s): encode that part as "
			    "quoted-printable or base64",
			    (long long)msg->stats.longline, LINE_MAX_SMTP,
			    ct != NULL ? ct : cte);
		return error_set(err, EX_DATAERR, "the body holds a NUL byte, "
		    "and the message is MIME (%s): encode that part as "
		    "base64", ct != NULL ? ct : cte);
	}
	msg->enc = BODY_QP;
	if (!mime) {
		set_header(msg, "MIME-Version", "1.0");
		set_header(msg, "Content-Type", msg->stats.eightbit ?
		    (utf8 ? "text/plain; charset=UTF-8" :
		    "text/plain; charset=unknown-8bit") :
		    "text/plain; charset=US-ASCII");
	}
	set_header(msg, "Content-Transfer-Encoding", "quoted-printable");
	log_debug("body re-encoded as quoted-printable (%s)",
	    msg->stats.nul ? "NUL byte" : "line over 998 octets");
	return 0;
}

/*
 * Write a header field, folding any physical line over 998 octets at white
 * space (RFC 5322 2.2.3).  Fields we generate are short already.
 */
static int
add_field(struct buf *b, const struct header *h, struct error *err)
{
	const char	*s, *line, *end, *cut;
	size_t		 n, prefix;

	buf_addstr(b, h->name);
	buf_addch(b, ':');
	prefix = strlen(h->name) + 1;
	for (line = h->raw; ; line = end + 1) {
		end = strchr(line, '\n');
		n = end != NULL ? (size_t)(end - line) : strlen(line);
		while (prefix + n > LINE_MAX_SMTP) {
			/* Fold at the last WSP that fits (after column 1). */
			cut = NULL;
			for (s = line + 1; s < line + n &&
			    prefix + (size_t)(s - line) <= FOLD_AT * 12; s++)
				if ((*s == ' ' || *s == '\t') &&
				    prefix + (size_t)(s - line) <= LINE_MAX_SMTP)
					cut = s;
			if (cut == NULL)
				return error_set(err, EX_DATAERR, "header field "
				    "'%s' has a line longer than %d octets "
				    "that cannot be folded", h->name,
				    LINE_MAX_SMTP);
			buf_add(b, line, (size_t)(cut - line));
			buf_add(b, "\r\n", 2);
			n -= (size_t)(cut - line);
			line = cut;
			prefix = 0;
		}
		buf_add(b, line, n);
		buf_add(b, "\r\n", 2);
		prefix = 0;
		if (end == NULL)
			break;
	}
	return 0;
}

static int
serialise_head(struct message *msg, struct error *err)
{
	size_t	i;

	buf_reset(&msg->head);
	for (i = 0; i < msg->hdrs.n; i++)
		if (add_field(&msg->head, &msg->hdrs.v[i], err) == -1)
			return -1;
	buf_add(&msg->head, "\r\n", 2);
	return 0;
}

static char *
make_date(void)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed",
	    "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t		 now = time(NULL);
	struct tm	 tm;
	long		 off;

	/* RFC 5322 3.3, in English whatever the locale. */
	localtime_r(&now, &tm);
	off = tm.tm_gmtoff / 60;
	return xasprintf("%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}

static char *
make_msgid(const char *domain)
{
	unsigned char	 r[8];
	time_t		 now = time(NULL);
	struct tm	 tm;
	size_t		 i;
	char		 hex[17];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		for (i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)(rand() ^ (int)now);
	for (i = 0; i < sizeof(r); i++)
		snprintf(hex + 2 * i, 3, "%02x", r[i]);
	gmtime_r(&now, &tm);
	return xasprintf("<%04d%02d%02d%02d%02d%02d.%ld.%s@%s>",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (long)getpid(), hex,
	    domain != NULL ? domain : "localhost");
}

static char *
login_name(void)
{
	struct passwd	*pw = getpwuid(getuid());

	if (pw != NULL && pw->pw_name != NULL && *pw->pw_name != '\0')
		return xstrdup(pw->pw_name);
	return xasprintf("uid%ld", (long)getuid());
}

/* The caller's full name from the password database, or NULL. */
static char *
gecos_name(void)
{
	struct passwd	*pw = getpwuid(getuid());
	char		*g;

	if (pw == NULL || pw->pw_gecos == NULL || *pw->pw_gecos == '\0')
		return NULL;
	g = xstrndup(pw->pw_gecos, strcspn(pw->pw_gecos, ","));
	if (*g == '\0' || mem_has_crlfnul(g, strlen(g))) {
		free(g);
		return NULL;
	}
	return g;
}

/*
 * Accessors
 */

void
message_free(struct message *msg)
{
	if (msg == NULL)
		return;
	free(msg->env.sender);
	strlist_release(&msg->env.rcpts);
	header_list_release(&msg->hdrs);
	buf_release(&msg->body.mem);
	if (msg->body.fd != -1)
		close(msg->body.fd);
	if (msg->body.gen != NULL && msg->body.gen->free != NULL)
		msg->body.gen->free(msg->body.genctx);
	buf_release(&msg->head);
	free(msg->msgid);
	free(msg->spool_dir);
	strlist_release(&msg->rewrites);
	free(msg);
}

const struct envelope *
message_envelope(const struct message *msg)
{
	return &msg->env;
}

const struct strlist *
message_rewrites(const struct message *msg)
{
	return &msg->rewrites;
}

const char *
message_id(const struct message *msg)
{
	return msg->msgid;
}

off_t
message_size(const struct message *msg)
{
	return (off_t)msg->head.len + msg->body_size;
}

const char *
message_header(const struct message *msg, const char *name)
{
	long	k = header_list_find(&msg->hdrs, name, 0);

	return k == -1 ? NULL : msg->hdrs.v[k].value;
}

/*
 * Readers
 */

static ssize_t
body_pread(const struct message *msg, void *p, size_t n, off_t off,
    struct error *err)
{
	const struct body_src	*b = &msg->body;
	ssize_t			 r;

	if (off >= b->end)
		return 0;
	if ((off_t)n > b->end - off)
		n = (size_t)(b->end - off);
	if (b->fd == -1) {
		memcpy(p, b->mem.data + off, n);
		return (ssize_t)n;
	}
	do
		r = pread(b->fd, p, n, off);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		return error_set_errno(err, EX_IOERR,
		    "cannot read the message again");
	if (r == 0)
		return error_set(err, EX_IOERR,
		    "the message input shrank while it was being sent");
	return r;
}

struct message_reader *
message_reader_new(const struct message *msg)
{
	struct message_reader	*r = xcalloc(1, sizeof(*r));

	r->msg = msg;
	r->in = xmalloc(CHUNK);
	message_reader_rewind(r);
	return r;
}

void
message_reader_rewind(struct message_reader *r)
{
	r->hpos = 0;
	r->bpos = r->msg->body.gen != NULL ? 0 : r->msg->body.start;
	r->body_done = 0;
	r->prev_cr = 0;
	r->midline = 0;
	qp_enc_init(&r->qp);
	buf_reset(&r->out);
	r->outpos = 0;
}

/* Normalise (and maybe encode) one block of raw body bytes into r->out. */
static void
transform(struct message_reader *r, const char *p, size_t n)
{
	const char	*e = p + n, *s;
	int		 cr = memchr(p, '\r', n) != NULL;

	if (r->msg->enc != BODY_QP) {
		buf_grow(&r->out, 2 * n);
		r->out.len += crlf_into(r, p, n, r->out.data + r->out.len);
		r->out.data[r->out.len] = '\0';
		return;
	}
	while (p < e) {
		if (r->prev_cr && *p == '\n') {
			/* The LF of a CRLF already turned into a line end. */
			r->prev_cr = 0;
			p++;
			continue;
		}
		r->prev_cr = 0;
		if ((s = find_eol((char *)(uintptr_t)p, (char *)(uintptr_t)e,
		    cr)) == NULL)
			s = e;
		if (s > p) {
			qp_enc_data(&r->qp, p, (size_t)(s - p), &r->out);
			r->midline = 1;
		}
		if (s == e)
			break;
		qp_enc_eol(&r->qp, &r->out);
		r->midline = 0;
		r->prev_cr = *s == '\r';
		p = s + 1;
	}
}

/*
 * Line ends normalised to CRLF, into a plain buffer with room for 2n
 * octets (every octet a line end at worst).  Returns the octets written.
 */
static size_t
crlf_into(struct message_reader *r, const char *p, size_t n, char *o)
{
	const char	*e = p + n, *s;
	char		*start = o;
	int		 cr = memchr(p, '\r', n) != NULL;

	while (p < e) {
		if (r->prev_cr && *p == '\n') {
			r->prev_cr = 0;
			p++;
			continue;
		}
		r->prev_cr = 0;
		if ((s = find_eol((char *)(uintptr_t)p, (char *)(uintptr_t)e,
		    cr)) == NULL)
			s = e;
		if (s > p) {
			memcpy(o, p, (size_t)(s - p));
			o += s - p;
			r->midline = 1;
		}
		if (s == e)
			break;
		*o++ = '\r';
		*o++ = '\n';
		r->midline = 0;
		r->prev_cr = *s == '\r';
		p = s + 1;
	}
	return (size_t)(o - start);
}

ssize_t
message_reader_read(struct message_reader *r, void *dst, size_t len,
    struct error *err)
{
	const struct message	*msg = r->msg;
	size_t			 done = 0, n, room, blk;
	ssize_t			 got;
	int			 direct;

	while (done < len) {
		if (r->hpos < (off_t)msg->head.len) {
			n = msg->head.len - (size_t)r->hpos;
			if (n > len - done)
				n = len - done;
			memcpy((char *)dst + done, msg->head.data + r->hpos, n);
			r->hpos += (off_t)n;
			done += n;
			continue;
		}
		if (r->outpos < r->out.len) {
			n = r->out.len - r->outpos;
			if (n > len - done)
				n = len - done;
			memcpy((char *)dst + done, r->out.data + r->outpos, n);
			r->outpos += n;
			done += n;
			continue;
		}
		if (r->body_done)
			break;
		if (msg->body.gen != NULL) {
			if (r->bpos == 0 && msg->body.gen->rewind(
			    msg->body.genctx, err) == -1)
				return -1;
			got = msg->body.gen->read(msg->body.genctx,
			    (char *)dst + done, len - done, err);
			if (got == -1)
				return -1;
			if (got == 0)
				r->body_done = 1;
			r->bpos += got;
			done += (size_t)got;
			continue;
		}
		room = len - done;
		if (msg->verbatim) {
			/* Final bytes go straight to the caller. */
			got = body_pread(msg, (char *)dst + done, room, r->bpos,
			    err);
			if (got == -1)
				return -1;
			if (got == 0)
				r->body_done = 1;
			r->bpos += got;
			done += (size_t)got;
			continue;
		}
		/*
		 * Line endings are normalised straight into the caller's
		 * buffer when it has room for the worst case (every octet a
		 * line end: two out for one in); else through r->out.
		 */
		blk = CHUNK;
		direct = msg->enc == BODY_ASIS && room >= 2 * 4096 + 2;
		if (direct && blk > (room - 2) / 2)
			blk = (room - 2) / 2;
		buf_reset(&r->out);
		r->outpos = 0;
		got = body_pread(msg, r->in, blk, r->bpos, err);
		if (got == -1)
			return -1;
		if (got == 0) {
			r->body_done = 1;
			if (msg->enc == BODY_QP)
				qp_enc_finish(&r->qp, &r->out);
			else if (r->midline)
				buf_add(&r->out, "\r\n", 2);
			continue;
		}
		r->bpos += got;
		if (direct)
			done += crlf_into(r, r->in, (size_t)got,
			    (char *)dst + done);
		else
			transform(r, r->in, (size_t)got);
	}
	return (ssize_t)done;
}

void
message_reader_free(struct message_reader *r)
{
	if (r == NULL)
		return;
	buf_release(&r->out);
	free(r->in);
	free(r);
}

/* The size of the encoded body: one pass of the encoder, output dropped. */
static off_t
count_body(const struct message *msg, struct error *err)
{
	struct message_reader	*r = message_reader_new(msg);
	char			*blk = xmalloc(CHUNK);
	off_t			 total = 0;
	ssize_t			 n;

	r->hpos = (off_t)msg->head.len;
	while ((n = message_reader_read(r, blk, CHUNK, err)) > 0)
		total += n;
	free(blk);
	message_reader_free(r);
	return n == -1 ? -1 : total;
}

int
message_write(const struct message *msg, int fd, struct error *err)
{
	struct message_reader	*r = message_reader_new(msg);
	char			*blk = xmalloc(CHUNK);
	ssize_t			 n;
	int			 rv = 0;

	while ((n = message_reader_read(r, blk, CHUNK, err)) > 0)
		if (util_write_all(fd, blk, (size_t)n) == -1) {
			rv = error_set_errno(err, EX_IOERR,
			    "cannot write the message");
			break;
		}
	if (n == -1)
		rv = -1;
	free(blk);
	message_reader_free(r);
	return rv;
}
