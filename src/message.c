/*
 * The mail object and the formatter: read a message as a stream, and
 * hand out readers that yield the exact bytes to send.  The body is
 * scanned once while it is read and never held whole.  Validating and
 * completing it (message_finalize()) is message_finalize.c's.
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
#include "message_int.h"
#include "rfc5322.h"
#include "util.h"
#include "xmalloc.h"

#define CHUNK		(64 * 1024)	/* input and output block size */
#define MEM_MAX		(256 * 1024)	/* body kept in memory up to this */


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
static ssize_t	body_pread(const struct message *, void *, size_t, off_t,
		    struct error *);
static void	transform(struct message_reader *, const char *, size_t);
static size_t	crlf_into(struct message_reader *, const char *, size_t,
		    char *);

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
		nl = avail > 0 ? (char *)(uintptr_t)util_find_eol(s, e,
		    r->has_cr) : NULL;
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
	const char	*e = p + n, *seg;
	size_t		 len;
	int		 cr = memchr(p, '\r', n) != NULL, eol;

	if (r->msg->enc != BODY_QP) {
		buf_grow(&r->out, 2 * n);
		r->out.len += crlf_into(r, p, n, r->out.data + r->out.len);
		r->out.data[r->out.len] = '\0';
		return;
	}
	while (p < e) {
		eol = crlf_next(&r->prev_cr, cr, &p, e, &seg, &len);
		if (len > 0) {
			qp_enc_data(&r->qp, seg, len, &r->out);
			r->midline = 1;
		}
		if (!eol)
			break;
		qp_enc_eol(&r->qp, &r->out);
		r->midline = 0;
	}
}

/*
 * Line ends normalised to CRLF, into a plain buffer with room for 2n
 * octets (every octet a line end at worst).  Returns the octets written.
 */
static size_t
crlf_into(struct message_reader *r, const char *p, size_t n, char *o)
{
	const char	*e = p + n, *seg;
	char		*start = o;
	size_t		 len;
	int		 cr = memchr(p, '\r', n) != NULL, eol;

	while (p < e) {
		eol = crlf_next(&r->prev_cr, cr, &p, e, &seg, &len);
		if (len > 0) {
			memcpy(o, seg, len);
			o += len;
			r->midline = 1;
		}
		if (!eol)
			break;
		*o++ = '\r';
		*o++ = '\n';
		r->midline = 0;
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
off_t
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
