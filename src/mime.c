/*
 * Compose mode: turns the command line and a text into a MIME message whose
 * body is generated on demand, part by part, from the files themselves.
 * libmagic types the attachments; it is the only file that includes it.
 */
#include "autoconfig.h"

#include <sys/random.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/types.h>

#include <linux/magic.h>

#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "addr.h"
#include "cli.h"
#include "error.h"
#include "filetype.h"
#include "hdrenc.h"
#include "log.h"
#include "message.h"
#include "mime.h"
#include "rfc5322.h"
#include "util.h"
#include "xmalloc.h"

#define CHUNK		(64 * 1024)	/* read block */
#define PSEUDO_MAX	(16 * 1024 * 1024)	/* a /proc, /sys file */
#define LINE_MAX_SMTP	998		/* RFC 5322 2.1.1 */
#define NAME_MAX_LEN	255		/* an attachment's file name */
#define MAX_FIELDS	64		/* top-level fields we generate */

enum mime_enc {
	MIME_7BIT = 0,
	MIME_QP,
	MIME_BASE64
};

static const char *const enc_names[] = { "7bit", "quoted-printable",
    "base64" };

/*
 * An encoder over raw octets.  For text (7bit, QP) every line ending
 * (LF, CRLF or a lone CR) becomes CRLF, the canonical form of RFC 2049 4;
 * base64 carries the octets unchanged.
 */
struct enc {
	enum mime_enc	 how;
	struct qp_enc	 qp;
	struct b64_enc	 b64;
	int		 prev_cr;
	int		 midline;	/* text after the last CRLF */
	int		 any;		/* any input at all */
};

/* What one pass over a text learned, and the encoded sizes. */
struct scan {
	long long	 lines;
	long long	 cur;		/* octets on the current line */
	long long	 maxline;
	long long	 badline;	/* first line with invalid UTF-8 */
	int		 eightbit;
	int		 nul;
	int		 cr;		/* a CR octet: base64 */
	int		 prev_cr;
	int		 dash;		/* "--=_" matched at bol */
	int		 boundary_like;	/* a line starts "--=_" */
	struct utf8_check utf8;
	struct enc	 e7;		/* encoders run for their sizes */
	struct enc	 eqp;
	long long	 n7;
	long long	 nqp;
};

/* One leaf: octets [start, start+len) of fd, encoded one way. */
struct part {
	char		*label;		/* "attachment 'x'" */
	int		 fd;		/* owned */
	off_t		 start;
	off_t		 len;
	enum mime_enc	 enc;
	struct enc	 e7, eqp;	/* state after the scan, for sizes */
	long long	 n7, nqp;
	int		 final_crlf;	/* whole body: end in CRLF */
	struct strlist	 hname;		/* its Content-* fields */
	struct strlist	 hval;
};

/* The tree: a leaf (part) or a multipart with children. */
struct node {
	struct part	*part;
	const char	*subtype;	/* "mixed", "related"... */
	char		*boundary;
	struct node	*kid[2];	/* main part(s), see build() */
	struct node	**more;		/* more children */
	size_t		 nmore;
	struct buf	 hdr;		/* its Content-Type value */
};

/* The flattened body: literal text and part contents in order. */
struct seg {
	char		*lit;		/* owned, or NULL for a part */
	size_t		 len;
	struct part	*part;		/* borrowed from gen->parts */
};

struct gen {
	struct seg	*seg;
	size_t		 nseg;
	struct part	**parts;	/* owned */
	size_t		 nparts;
	long long	 total;		/* exact body size */

	size_t		 i;		/* current segment */
	size_t		 litpos;
	off_t		 rawpos;
	int		 started;
	struct enc	 e;
	struct buf	 out;
	size_t		 outpos;
	long long	 produced;
	char		*in;
};

/* Everything compose builds, for one cleanup. */
struct compose {
	char		 rnd[33];	/* boundaries: 128 random bits */
	int		 nbound;
	struct gen	*gen;
	struct strlist	 names;		/* top-level fields */
	struct strlist	 values;
	struct node	**nodes;	/* every node, for one free */
	size_t		 nnodes;
};

static void	enc_init(struct enc *, enum mime_enc);
static void	enc_data(struct enc *, const char *, size_t, struct buf *);
static void	enc_finish(struct enc *, int, struct buf *);
static void	scan_init(struct scan *);
static void	scan_data(struct scan *, const char *, size_t);
static int	scan_fd(struct scan *, int, off_t, off_t, const char *,
		    struct error *);
static int	open_input(const char *, const char *, struct stat *,
		    struct error *);
static int	spool_copy(int, int, const char *, off_t *, struct error *);
static struct part *part_new(const char *, int, off_t, off_t);
static void	part_free(struct part *);
static long long part_size(const struct part *);
static int	text_part(struct part *, const char *, const char *,
		    struct error *);
static int	file_part(const struct filetype *, struct part *, const char *,
		    const char *, const char *, const char *,
		    struct error *);
static int	 pseudo_fs(int);
static int	 read_whole(const char *, const char *, int, struct stat *,
		    struct error *);
static void	add_hdr(struct buf *, const char *, const char *);
static void	part_hdr(struct part *, const char *, const char *);
static int	check_value(const char *, const char *, struct error *);
static int	check_utf8(const char *, const char *, struct error *);
static char	*base_name(const char *);
static char	*content_id(const char *);
static struct node *leaf(struct compose *, struct part *);
static struct node *multi(struct compose *, const char *);
static void	node_add(struct node *, struct node *);
static void	node_free(struct node *);
static void	flatten(struct gen *, struct buf *, struct node *);
static long long gen_size(const struct gen *);
static ssize_t	gen_read(void *, void *, size_t, struct error *);
static int	gen_rewind(void *, struct error *);
static void	gen_free(void *);
static int	add_field(struct compose *, const char *, char *);
static int	add_addr_field(struct compose *, const char *,
		    const struct strlist *, const char *, struct error *);
static int	add_extra_header(struct compose *, const char *,
		    struct error *);
static void	compose_release(struct compose *);

static const struct message_body_ops gen_ops = {
	gen_read, gen_rewind, gen_free
};

/*
 * Encoders
 */

static void
enc_init(struct enc *e, enum mime_enc how)
{
	memset(e, 0, sizeof(*e));
	e->how = how;
	qp_enc_init(&e->qp);
	b64_enc_init(&e->b64);
}

static void
enc_data(struct enc *e, const char *p, size_t n, struct buf *out)
{
	const char	*end = p + n, *s;

	if (n > 0)
		e->any = 1;
	if (e->how == MIME_BASE64) {
		b64_enc_data(&e->b64, p, n, out);
		return;
	}
	while (p < end) {
		if (e->prev_cr && *p == '\n') {
			/* the LF of a CRLF already ended the line */
			e->prev_cr = 0;
			p++;
			continue;
		}
		e->prev_cr = 0;
		for (s = p; s < end && *s != '\n' && *s != '\r'; s++)
			;
		if (s > p) {
			if (e->how == MIME_QP)
				qp_enc_data(&e->qp, p, (size_t)(s - p), out);
			else
				buf_add(out, p, (size_t)(s - p));
			e->midline = 1;
		}
		if (s == end)
			break;
		if (e->how == MIME_QP)
			qp_enc_eol(&e->qp, out);
		else
			buf_add(out, "\r\n", 2);
		e->midline = 0;
		e->prev_cr = *s == '\r';
		p = s + 1;
	}
}

/*
 * End of a part's content.  Inside a multipart the delimiter's leading
 * CRLF ends the last line (RFC 2046 5.1.1), so nothing is added; the
 * whole body (final_crlf) must end in CRLF.
 */
static void
enc_finish(struct enc *e, int final_crlf, struct buf *out)
{
	switch (e->how) {
	case MIME_7BIT:
		if (e->midline && final_crlf)
			buf_add(out, "\r\n", 2);
		break;
	case MIME_QP:
		qp_enc_finish(&e->qp, out);
		break;
	case MIME_BASE64:
		b64_enc_finish(&e->b64, out);
		if (final_crlf && e->any)
			buf_add(out, "\r\n", 2);
		break;
	}
}

/*
 * Scanning
 */

static void
scan_init(struct scan *s)
{
	memset(s, 0, sizeof(*s));
	utf8_check_init(&s->utf8);
	enc_init(&s->e7, MIME_7BIT);
	enc_init(&s->eqp, MIME_QP);
}

static void
scan_line_end(struct scan *s)
{
	s->lines++;
	if (s->cur > s->maxline)
		s->maxline = s->cur;
	s->cur = 0;
	s->dash = 0;
}

static void
scan_data(struct scan *s, const char *p, size_t n)
{
	static const char	 delim[] = "--=_";
	struct buf		 scratch = BUF_INIT;
	size_t			 i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\n') {
			if (!s->prev_cr)
				scan_line_end(s);
			s->prev_cr = 0;
			continue;
		}
		if (c == '\r') {
			s->cr = 1;
			s->prev_cr = 1;
			scan_line_end(s);
			continue;
		}
		s->prev_cr = 0;
		if (s->dash >= 0 && s->dash < 4) {
			if (c == (unsigned char)delim[s->dash]) {
				if (++s->dash == 4)
					s->boundary_like = 1;
			} else
				s->dash = -1;
		}
		s->cur++;
		if (c == '\0')
			s->nul = 1;
		if (c >= 0x80)
			s->eightbit = 1;
		if (c >= 0x80 || s->utf8.need > 0) {
			utf8_check_data(&s->utf8, &c, 1);
			if (s->utf8.bad && s->badline == 0)
				s->badline = s->lines + 1;
		}
	}
	enc_data(&s->e7, p, n, &scratch);
	s->n7 += (long long)scratch.len;
	buf_reset(&scratch);
	enc_data(&s->eqp, p, n, &scratch);
	s->nqp += (long long)scratch.len;
	buf_release(&scratch);
}

static int
scan_fd(struct scan *s, int fd, off_t start, off_t len, const char *label,
    struct error *err)
{
	char	*blk = xmalloc(CHUNK);
	off_t	 pos = 0;
	ssize_t	 n;

	while (pos < len) {
		size_t want = len - pos < CHUNK ? (size_t)(len - pos) : CHUNK;

		n = pread(fd, blk, want, start + pos);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(blk);
			if (n == 0)
				return error_set(err, EX_IOERR, "%s shrank "
				    "while it was read", label);
			return error_set_errno(err, EX_IOERR, "cannot read "
			    "%s", label);
		}
		scan_data(s, blk, (size_t)n);
		pos += n;
	}
	free(blk);
	if (s->cur > 0) {
		/* a last line without line ending */
		if (s->cur > s->maxline)
			s->maxline = s->cur;
	}
	if (!utf8_check_ok(&s->utf8) && s->badline == 0)
		s->badline = s->lines + 1;
	return 0;
}

/*
 * Files
 */

/*
 * Open a file named on the command line: it must be a readable regular
 * file.  O_NONBLOCK keeps a FIFO from blocking the open; it is cleared
 * once the type is known.
 */
static int
open_input(const char *what, const char *path, struct stat *st,
    struct error *err)
{
	int	fd, fl;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1)
		return error_set_errno(err, EX_NOINPUT, "cannot open %s '%s'",
		    what, path);
	if (fstat(fd, st) == -1) {
		error_set_errno(err, EX_NOINPUT, "cannot stat %s '%s'", what,
		    path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return error_set(err, EX_NOINPUT, "%s '%s' is %s", what, path,
		    S_ISDIR(st->st_mode) ? "a directory" :
		    S_ISFIFO(st->st_mode) ? "a FIFO, not a regular file" :
		    "not a regular file");
	}
	if ((fl = fcntl(fd, F_GETFL)) != -1)
		(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	if (st->st_size == 0 || pseudo_fs(fd))
		return read_whole(what, path, fd, st, err);
	return fd;
}

/*
 * /proc and /sys files say 0 (or a page) for their size and make up
 * their text when read: the size must not be believed (issue 10 item 13).
 */
static int
pseudo_fs(int fd)
{
	struct statfs	sf;

	if (fstatfs(fd, &sf) == -1)
		return 0;
	return sf.f_type == PROC_SUPER_MAGIC || sf.f_type == SYSFS_MAGIC ||
	    sf.f_type == DEBUGFS_MAGIC;
}

/*
 * A file whose size cannot be believed: read it whole (at most
 * PSEUDO_MAX octets) into a private temporary file and hand that on,
 * with st_size set to what was read.  A truly empty file stays as it is.
 * Errors: EX_NOINPUT (read), EX_DATAERR (too large), EX_TEMPFAIL (the
 * temporary file).
 */
static int
read_whole(const char *what, const char *path, int fd, struct stat *st,
    struct error *err)
{
	char	*buf = xmalloc(CHUNK);
	off_t	 total = 0;
	ssize_t	 r;
	int	 tmp = -1;

	for (;;) {
		r = read(fd, buf, CHUNK);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			error_set_errno(err, EX_NOINPUT, "cannot read %s '%s'",
			    what, path);
			goto fail;
		}
		if (r == 0)
			break;
		if (total + r > PSEUDO_MAX) {
			error_set(err, EX_DATAERR, "%s '%s' yields more than "
			    "%d octets, and its size is not known in advance "
			    "(a /proc or /sys file?): copy it to a file first",
			    what, path, PSEUDO_MAX);
			goto fail;
		}
		if (tmp == -1 && (tmp = util_tmpfile(err)) == -1)
			goto fail;
		if (util_write_all(tmp, buf, (size_t)r) == -1) {
			error_set_errno(err, EX_TEMPFAIL, "cannot copy %s '%s' "
			    "to a temporary file", what, path);
			goto fail;
		}
		total += r;
	}
	free(buf);
	if (tmp == -1) {
		/* empty after all: the original will do */
		(void)lseek(fd, 0, SEEK_SET);
		st->st_size = 0;
		return fd;
	}
	close(fd);
	if (lseek(tmp, 0, SEEK_SET) == -1) {
		error_set_errno(err, EX_TEMPFAIL, "lseek");
		close(tmp);
		return -1;
	}
	st->st_size = total;
	return tmp;
fail:
	free(buf);
	if (tmp != -1)
		close(tmp);
	close(fd);
	return -1;
}

/* An iconv name that means UTF-8 already. */
static int
is_utf8_name(const char *cs)
{
	return strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0;
}

/*
 * Copy in to the spool file out, converting from charset to UTF-8 when
 * charset is not NULL (iconv, streaming: an incomplete character at the
 * end of a block waits for the next one).  *len gets the spooled size.
 */
static int
spool_copy(int in, int out, const char *charset, off_t *len,
    struct error *err)
{
	iconv_t	 cd = (iconv_t)-1;
	char	*ib = xmalloc(CHUNK), *ob = NULL;
	size_t	 have = 0, ileft, oleft;
	char	*ip, *op;
	off_t	 total = 0, inpos = 0;
	ssize_t	 n;
	int	 eof = 0, rv = -1;

	if (charset != NULL) {
		cd = iconv_open("UTF-8", charset);
		if (cd == (iconv_t)-1) {
			error_set(err, EX_USAGE, "unknown charset '%s' given "
			    "with --charset", charset);
			goto out;
		}
		ob = xmalloc(CHUNK * 4);
	}
	while (!eof || have > 0) {
		if (!eof) {
			n = read(in, ib + have, CHUNK - have);
			if (n == -1) {
				if (errno == EINTR)
					continue;
				error_set_errno(err, EX_IOERR,
				    "cannot read the message text");
				goto out;
			}
			if (n == 0)
				eof = 1;
			have += (size_t)n;
		}
		if (cd == (iconv_t)-1) {
			if (util_write_all(out, ib, have) == -1)
				goto werr;
			total += (off_t)have;
			have = 0;
			continue;
		}
		ip = ib;
		ileft = have;
		op = ob;
		oleft = CHUNK * 4;
		if (iconv(cd, &ip, &ileft, &op, &oleft) == (size_t)-1 &&
		    errno != EINVAL) {
			/* E2BIG cannot happen: 4 output octets per input */
			error_set(err, EX_DATAERR, "the message text is not "
			    "valid %s (octet %lld)", charset,
			    (long long)(inpos + (ip - ib)));
			goto out;
		}
		if (util_write_all(out, ob, (size_t)(op - ob)) == -1)
			goto werr;
		total += op - ob;
		inpos += ip - ib;
		if (eof && ileft > 0) {
			error_set(err, EX_DATAERR, "the message text ends "
			    "inside a %s character", charset);
			goto out;
		}
		memmove(ib, ip, ileft);
		have = ileft;
		if (!eof && have == CHUNK) {
			error_set(err, EX_DATAERR, "the message text is not "
			    "valid %s", charset);
			goto out;
		}
	}
	*len = total;
	rv = 0;
	goto out;
werr:
	error_set_errno(err, EX_CANTCREAT, "cannot spool the message text");
out:
	if (cd != (iconv_t)-1)
		iconv_close(cd);
	free(ib);
	free(ob);
	return rv;
}

/*
 * Parts
 */

static struct part *
part_new(const char *label, int fd, off_t start, off_t len)
{
	struct part	*p = xcalloc(1, sizeof(*p));

	p->label = xstrdup(label);
	p->fd = fd;
	p->start = start;
	p->len = len;
	return p;
}

static void
part_free(struct part *p)
{
	if (p == NULL)
		return;
	if (p->fd != -1)
		close(p->fd);
	free(p->label);
	strlist_release(&p->hname);
	strlist_release(&p->hval);
	free(p);
}

/* The exact encoded size: scan sizes plus what finishing adds. */
static long long
part_size(const struct part *p)
{
	struct buf	 b = BUF_INIT;
	struct enc	 e;
	long long	 n;

	switch (p->enc) {
	case MIME_BASE64:
		n = b64_enc_size((long long)p->len);
		if (p->final_crlf && p->len > 0)
			n += 2;
		return n;
	case MIME_7BIT:
		e = p->e7;
		n = p->n7;
		break;
	default:
		e = p->eqp;
		n = p->nqp;
		break;
	}
	enc_finish(&e, p->final_crlf, &b);
	n += (long long)b.len;
	buf_release(&b);
	return n;
}

/* Copy the scan's results into the part. */
static void
part_take_scan(struct part *p, const struct scan *s)
{
	p->e7 = s->e7;
	p->eqp = s->eqp;
	p->n7 = s->n7;
	p->nqp = s->nqp;
}

/*
 * 7bit when the text is ASCII with lines within 998 octets and no line
 * that could pass for a delimiter; quoted-printable otherwise (RFC 2045
 * 6.7), whose "=" is always "=3D" so that "--=_" never starts a line.
 */
static enum mime_enc
text_enc(const struct scan *s)
{
	if (!s->eightbit && s->maxline <= LINE_MAX_SMTP && !s->boundary_like)
		return MIME_7BIT;
	return MIME_QP;
}

/*
 * The message text or the HTML: must be UTF-8 (after --charset) without
 * NUL; type is "plain" or "html".
 */
static int
text_part(struct part *p, const char *type, const char *what,
    struct error *err)
{
	struct scan	 s;
	char		*ct;

	scan_init(&s);
	if (scan_fd(&s, p->fd, p->start, p->len, what, err) == -1)
		return -1;
	if (s.nul)
		return error_set(err, EX_DATAERR, "%s holds a NUL octet "
		    "(line %lld): send binary data as an attachment (-a)",
		    what, s.lines + 1);
	if (s.badline > 0)
		return error_set(err, EX_DATAERR, "%s is not valid UTF-8 "
		    "(line %lld): name its charset with --charset, or send "
		    "it as an attachment (-a)", what, s.badline);
	part_take_scan(p, &s);
	p->enc = text_enc(&s);
	ct = xasprintf("text/%s; charset=%s", type,
	    s.eightbit ? "UTF-8" : "us-ascii");
	part_hdr(p, "Content-Type", ct);
	free(ct);
	part_hdr(p, "Content-Transfer-Encoding", enc_names[p->enc]);
	return 0;
}

/* A charset that QP or 7bit can carry: ASCII-compatible, 8-bit. */
static int
ascii_compatible(const char *cs)
{
	return strcmp(cs, "us-ascii") == 0 || strcmp(cs, "utf-8") == 0 ||
	    strncmp(cs, "iso-8859-", 9) == 0 ||
	    strcmp(cs, "unknown-8bit") == 0;
}

/* Types that hold text: they may travel as 7bit or quoted-printable. */
static int
textual(const char *type)
{
	static const char *const types[] = { "application/json",
	    "application/xml", "application/javascript", "image/svg+xml",
	    "application/x-sh", "application/x-shellscript" };
	size_t	i;

	if (strncmp(type, "text/", 5) == 0)
		return 1;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(type, types[i]) == 0)
			return 1;
	return 0;
}

/*
 * An attachment or an inline part: type from the override or libmagic;
 * text types that are clean (ASCII-compatible, no NUL, no CR, so that
 * the CRLF canonical form gives back the file exactly) go as 7bit or
 * quoted-printable, everything else as base64.
 */
static int
file_part(const struct filetype *ft, struct part *p, const char *override,
    const char *name, const char *disposition, const char *cid,
    struct error *err)
{
	struct buf	 ct = BUF_INIT, cd = BUF_INIT;
	struct scan	 s;
	char		*type = NULL, *charset = NULL;
	const char	*params = NULL;
	int		 text, rv = -1;

	if (override != NULL) {
		char *t = xstrndup(override, strcspn(override, ";"));

		type = filetype_valid(str_trim(t));
		free(t);
		if (type == NULL) {
			error_set(err, EX_USAGE, "invalid type '%s' for %s: "
			    "expected type/subtype", override, p->label);
			goto out;
		}
		params = strchr(override, ';');
	} else {
		type = xstrdup(ft->type != NULL ? ft->type :
		    "application/octet-stream");
		charset = ft->charset != NULL ? xstrdup(ft->charset) : NULL;
	}

	text = textual(type) && (override != NULL ||
	    (charset != NULL && ascii_compatible(charset)));
	p->enc = MIME_BASE64;
	if (text) {
		scan_init(&s);
		if (scan_fd(&s, p->fd, p->start, p->len, p->label, err) == -1)
			goto out;
		if (!s.nul && !s.cr) {
			part_take_scan(p, &s);
			p->enc = text_enc(&s);
		}
		/* libmagic looks at a prefix only: trust the whole scan */
		if (override == NULL && s.eightbit && charset != NULL &&
		    strcmp(charset, "us-ascii") == 0) {
			free(charset);
			charset = xstrdup(utf8_check_ok(&s.utf8) ? "utf-8" :
			    "unknown-8bit");
		}
		if (override != NULL && (params == NULL ||
		    strstr(params, "charset") == NULL))
			charset = xstrdup(!s.eightbit ? "us-ascii" :
			    utf8_check_ok(&s.utf8) ? "utf-8" : "unknown-8bit");
	}

	buf_addstr(&ct, type);
	if (params != NULL)
		buf_addstr(&ct, params);
	/* no charset on a binary type (libmagic gives pdf one) */
	if (charset != NULL && strncmp(type, "text/", 5) == 0)
		hdrenc_param(&ct, "charset", charset, 1);
	hdrenc_param(&ct, "name", name, 1);
	part_hdr(p, "Content-Type", ct.data);
	part_hdr(p, "Content-Transfer-Encoding", enc_names[p->enc]);
	if (cid != NULL) {
		char *v = xasprintf("<%s>", cid);

		part_hdr(p, "Content-ID", v);
		free(v);
	}
	/*
	 * RFC 2183 + RFC 2231: a non-ASCII name goes as filename*, and the
	 * plain fallback is the Content-Type name (both in one header would
	 * be a duplicate parameter to some parsers).
	 */
	buf_addstr(&cd, disposition);
	hdrenc_param(&cd, "filename", name, 0);
	part_hdr(p, "Content-Disposition", cd.data);
	log_debug("%s: %s, %s", p->label, ct.data, enc_names[p->enc]);
	rv = 0;
out:
	buf_release(&ct);
	buf_release(&cd);
	free(type);
	free(charset);
	return rv;
}

static void
part_hdr(struct part *p, const char *name, const char *value)
{
	strlist_add(&p->hname, name);
	strlist_add(&p->hval, value);
}

/* Append "Name: value" with CRLF, folded near 78 octets. */
static void
add_hdr(struct buf *b, const char *name, const char *value)
{
	char		*f = hdrenc_fold(value, strlen(name));
	const char	*p;

	buf_addstr(b, name);
	buf_addstr(b, ": ");
	for (p = f; *p != '\0'; p++) {
		if (*p == '\n')
			buf_add(b, "\r\n", 2);
		else
			buf_addch(b, *p);
	}
	buf_add(b, "\r\n", 2);
	free(f);
}

/* RFC 5322 2.2: a value from the command line must not break the line. */
static int
check_value(const char *what, const char *v, struct error *err)
{
	if (v != NULL && mem_has_crlfnul(v, strlen(v)))
		return error_set(err, EX_DATAERR, "%s holds a line break "
		    "(CR or LF): refused, it would start a new header field",
		    what);
	return 0;
}

static int
check_utf8(const char *what, const char *v, struct error *err)
{
	if (check_value(what, v, err) == -1)
		return -1;
	if (v != NULL && !utf8_valid(v, strlen(v)))
		return error_set(err, EX_DATAERR, "%s is not valid UTF-8",
		    what);
	return 0;
}

static char *
base_name(const char *path)
{
	const char	*e = path + strlen(path), *s;

	while (e > path + 1 && e[-1] == '/')
		e--;
	for (s = e; s > path && s[-1] != '/'; s--)
		;
	return xstrndup(s, (size_t)(e - s));
}

/* Content-ID for an inline file: its name with characters outside
 * [A-Za-z0-9._+-] as '_' (RFC 2392: the HTML says cid:NAME). */
static char *
content_id(const char *name)
{
	char	*r = xstrdup(name), *p;

	for (p = r; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("._+-", *p) != NULL))
			*p = '_';
	return r;
}

int
mime_parse_file_arg(const char *arg, char **pathp, char **typep,
    char **namep, struct error *err)
{
	const char	*p, *t, *n, *next, *v;
	char		*path, *type = NULL, *name = NULL, **dst;

	t = strstr(arg, ";type=");
	n = strstr(arg, ";name=");
	p = t == NULL ? n : n == NULL ? t : t < n ? t : n;
	if (p == NULL)
		p = arg + strlen(arg);
	if (p == arg)
		return error_set(err, EX_USAGE, "no file name in '%s'", arg);
	path = xstrndup(arg, (size_t)(p - arg));
	while (*p != '\0') {
		/* p is at ";type=" or ";name=" */
		dst = p[1] == 't' ? &type : &name;
		v = p + 6;
		t = strstr(v, ";type=");
		n = strstr(v, ";name=");
		next = t == NULL ? n : n == NULL ? t : t < n ? t : n;
		if (next == NULL)
			next = v + strlen(v);
		free(*dst);
		*dst = xstrndup(v, (size_t)(next - v));
		if (**dst == '\0') {
			error_set(err, EX_USAGE, "empty %s in '%s'",
			    dst == &type ? "type" : "name", arg);
			free(path);
			free(type);
			free(name);
			return -1;
		}
		p = next;
	}
	*pathp = path;
	*typep = type;
	*namep = name;
	return 0;
}

/*
 * The tree and the generator
 */

static struct node *
node_new(struct compose *c)
{
	struct node	*n = xcalloc(1, sizeof(*n));

	c->nodes = xreallocarray(c->nodes, c->nnodes + 1, sizeof(*c->nodes));
	c->nodes[c->nnodes++] = n;
	return n;
}

static struct node *
leaf(struct compose *c, struct part *p)
{
	struct node	*n = node_new(c);

	n->part = p;
	return n;
}

/*
 * Boundaries are "=_" + 128 random bits + "_" + a level number: "=_" can
 * occur in neither base64 nor quoted-printable output ('=' is "=3D"), and
 * a 7bit part with a line starting "--=_" is sent as quoted-printable
 * (text_enc), so no content line can be a delimiter; part headers start
 * with a field name or white space.  Distinct numbers keep one boundary
 * from being a prefix of another (RFC 2046 5.1.1).
 */
static struct node *
multi(struct compose *c, const char *subtype)
{
	struct node	*n = node_new(c);
	char		*ct;

	n->subtype = subtype;
	n->boundary = xasprintf("=_%s_%d", c->rnd, ++c->nbound);
	ct = xasprintf("multipart/%s", subtype);
	buf_init(&n->hdr);
	buf_addstr(&n->hdr, ct);
	hdrenc_param(&n->hdr, "boundary", n->boundary, 1);
	free(ct);
	return n;
}

static void
node_add(struct node *parent, struct node *kid)
{
	if (parent->kid[0] == NULL)
		parent->kid[0] = kid;
	else if (parent->kid[1] == NULL)
		parent->kid[1] = kid;
	else {
		parent->more = xreallocarray(parent->more, parent->nmore + 1,
		    sizeof(*parent->more));
		parent->more[parent->nmore++] = kid;
	}
}

static size_t
node_nkids(const struct node *n)
{
	return (n->kid[0] != NULL) + (n->kid[1] != NULL) + n->nmore;
}

static struct node *
node_kid(const struct node *n, size_t i)
{
	return i < 2 ? n->kid[i] : n->more[i - 2];
}

/* Frees the node only: every node is listed in struct compose. */
static void
node_free(struct node *n)
{
	if (n == NULL)
		return;
	free(n->more);
	free(n->boundary);
	buf_release(&n->hdr);
	free(n);
}

static void
gen_lit(struct gen *g, struct buf *lit)
{
	if (lit->len == 0)
		return;
	g->seg = xreallocarray(g->seg, g->nseg + 1, sizeof(*g->seg));
	g->seg[g->nseg].len = lit->len;
	g->seg[g->nseg].lit = buf_detach(lit);
	g->seg[g->nseg].part = NULL;
	g->nseg++;
}

/*
 * The body of node n: a leaf's content, or "--B" CRLF headers CRLF body
 * for each child and the close delimiter "--B--" (no CRLF after it; the
 * parent's delimiter or the caller adds one).
 */
static void
flatten(struct gen *g, struct buf *lit, struct node *n)
{
	struct node	*k;
	size_t		 i, j;

	if (n->part != NULL) {
		gen_lit(g, lit);
		g->seg = xreallocarray(g->seg, g->nseg + 1, sizeof(*g->seg));
		g->seg[g->nseg].lit = NULL;
		g->seg[g->nseg].len = 0;
		g->seg[g->nseg].part = n->part;
		g->nseg++;
		return;
	}
	for (i = 0; i < node_nkids(n); i++) {
		k = node_kid(n, i);
		buf_printf(lit, "%s--%s\r\n", i == 0 ? "" : "\r\n",
		    n->boundary);
		if (k->part != NULL)
			for (j = 0; j < k->part->hname.n; j++)
				add_hdr(lit, k->part->hname.v[j],
				    k->part->hval.v[j]);
		else
			add_hdr(lit, "Content-Type", k->hdr.data);
		buf_add(lit, "\r\n", 2);
		flatten(g, lit, k);
	}
	buf_printf(lit, "\r\n--%s--", n->boundary);
}

static long long
gen_size(const struct gen *g)
{
	long long	n = 0;
	size_t		i;

	for (i = 0; i < g->nseg; i++)
		n += g->seg[i].part != NULL ? part_size(g->seg[i].part) :
		    (long long)g->seg[i].len;
	return n;
}

static ssize_t
gen_read(void *ctx, void *dst, size_t len, struct error *err)
{
	struct gen	*g = ctx;
	struct seg	*s;
	size_t		 done = 0, n;
	ssize_t		 got;

	while (done < len) {
		if (g->outpos < g->out.len) {
			n = g->out.len - g->outpos;
			if (n > len - done)
				n = len - done;
			memcpy((char *)dst + done, g->out.data + g->outpos, n);
			g->outpos += n;
			done += n;
			continue;
		}
		if (g->i == g->nseg)
			break;
		s = &g->seg[g->i];
		if (s->part == NULL) {
			n = s->len - g->litpos;
			if (n > len - done)
				n = len - done;
			memcpy((char *)dst + done, s->lit + g->litpos, n);
			g->litpos += n;
			done += n;
			if (g->litpos == s->len) {
				g->i++;
				g->litpos = 0;
			}
			continue;
		}
		buf_reset(&g->out);
		g->outpos = 0;
		if (!g->started) {
			enc_init(&g->e, s->part->enc);
			g->rawpos = 0;
			g->started = 1;
		}
		if (g->rawpos == s->part->len) {
			enc_finish(&g->e, s->part->final_crlf, &g->out);
			g->started = 0;
			g->i++;
			continue;
		}
		n = s->part->len - g->rawpos < CHUNK ?
		    (size_t)(s->part->len - g->rawpos) : CHUNK;
		got = pread(s->part->fd, g->in, n, s->part->start + g->rawpos);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1)
			return error_set_errno(err, EX_IOERR, "cannot read %s",
			    s->part->label);
		if (got == 0)
			return error_set(err, EX_IOERR, "%s shrank while it "
			    "was being sent", s->part->label);
		g->rawpos += got;
		enc_data(&g->e, g->in, (size_t)got, &g->out);
	}
	g->produced += (long long)done;
	/* The size was announced (SIZE=): a file that changed must not go. */
	if (g->produced > g->total || (done == 0 && g->produced != g->total))
		return error_set(err, EX_IOERR, "an attachment or the text "
		    "changed while the message was being sent");
	return (ssize_t)done;
}

static int
gen_rewind(void *ctx, struct error *err)
{
	struct gen	*g = ctx;

	(void)err;
	g->i = 0;
	g->litpos = 0;
	g->started = 0;
	g->produced = 0;
	buf_reset(&g->out);
	g->outpos = 0;
	return 0;
}

static void
gen_free(void *ctx)
{
	struct gen	*g = ctx;
	size_t		 i;

	if (g == NULL)
		return;
	for (i = 0; i < g->nseg; i++)
		free(g->seg[i].lit);
	free(g->seg);
	for (i = 0; i < g->nparts; i++)
		part_free(g->parts[i]);
	free(g->parts);
	buf_release(&g->out);
	free(g->in);
	free(g);
}

static void
gen_own(struct gen *g, struct part *p)
{
	g->parts = xreallocarray(g->parts, g->nparts + 1, sizeof(*g->parts));
	g->parts[g->nparts++] = p;
}

/*
 * Header fields
 */

/* Take a folded value (allocated) for a top-level field. */
static int
add_field(struct compose *c, const char *name, char *value)
{
	if (c->names.n >= MAX_FIELDS) {
		free(value);
		return -1;
	}
	strlist_add(&c->names, name);
	strlist_add_owned(&c->values, value);
	return 0;
}

/*
 * An address field from list items (each an address-list); bare local
 * names are qualified with qd.  Display names are re-encoded.
 */
static int
add_addr_field(struct compose *c, const char *name, const struct strlist *l,
    const char *qd, struct error *err)
{
	struct addr_list	 al = ADDR_LIST_INIT;
	struct strlist		 spec = STRLIST_INIT;
	const char		**disp = NULL;
	size_t			 i;
	int			 rv = -1;

	for (i = 0; i < l->n; i++) {
		if (check_utf8(name, l->v[i], err) == -1)
			goto out;
		if (addr_parse_list(l->v[i], &al, err) == -1) {
			error_prefix(err, "invalid %s address '%s'", name,
			    l->v[i]);
			goto out;
		}
	}
	if (al.n == 0) {
		rv = 0;
		goto out;
	}
	disp = xreallocarray(NULL, al.n, sizeof(*disp));
	for (i = 0; i < al.n; i++) {
		disp[i] = al.v[i].display;
		if (!al.v[i].has_domain && qd != NULL)
			strlist_add_owned(&spec, xasprintf("%s@%s",
			    al.v[i].spec, qd));
		else
			strlist_add(&spec, al.v[i].spec);
	}
	rv = add_field(c, name, hdrenc_mailboxes(disp,
	    (const char *const *)spec.v, al.n, strlen(name)));
	if (rv == -1)
		error_set(err, EX_USAGE, "too many header fields");
out:
	free(disp);
	strlist_release(&spec);
	addr_list_release(&al);
	return rv;
}

/* Fields compose writes itself, or that have their own option. */
static const char *const reserved[] = { "To", "Cc", "Bcc", "Subject",
    "Reply-To", "MIME-Version" };

static int
add_extra_header(struct compose *c, const char *h, struct error *err)
{
	const char	*colon = strchr(h, ':');
	char		*name, *copy, *value;
	struct strlist	 one = STRLIST_INIT;
	size_t		 i;
	int		 rv;

	if (check_value("--header value", h, err) == -1)
		return -1;
	if (colon == NULL || !rfc5322_valid_name(h, (size_t)(colon - h)))
		return error_set(err, EX_USAGE, "--header '%s': expected "
		    "'Name: value'", h);
	name = xstrndup(h, (size_t)(colon - h));
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcasecmp(name, reserved[i]) == 0 ||
		    str_has_prefix_nocase(name, "Content-")) {
			error_set(err, EX_USAGE, "--header cannot set '%s': "
			    "postie writes it (use -s, -c, -b, --reply-to, "
			    "-a or the recipients)", name);
			free(name);
			return -1;
		}
	copy = xstrdup(colon + 1);
	value = str_trim(copy);
	if (check_utf8("--header value", value, err) == -1) {
		free(name);
		free(copy);
		return -1;
	}
	if (strcasecmp(name, "From") == 0 || strcasecmp(name, "Sender") == 0) {
		strlist_add(&one, value);
		rv = add_addr_field(c, name, &one, NULL, err);
		strlist_release(&one);
	} else if (hdrenc_is_ascii(value))
		rv = add_field(c, name, hdrenc_fold(value, strlen(name)));
	else
		rv = add_field(c, name, hdrenc_unstructured(value,
		    strlen(name)));
	if (rv == -1 && err->code == EX_OK)
		error_set(err, EX_USAGE, "too many header fields");
	free(name);
	free(copy);
	return rv;
}

static void
compose_release(struct compose *c)
{
	gen_free(c->gen);
	c->gen = NULL;
	while (c->nnodes > 0)
		node_free(c->nodes[--c->nnodes]);
	free(c->nodes);
	c->nodes = NULL;
	strlist_release(&c->names);
	strlist_release(&c->values);
}

/* One file argument: -a or --inline. */
struct fileopt {
	char		*path;
	char		*type;
	char		*name;
	int		 fd;
	off_t		 len;
	struct filetype	 ft;	/* libmagic's, without type= */
};

static void
fileopts_free(struct fileopt *f, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(f[i].path);
		free(f[i].type);
		free(f[i].name);
		filetype_release(&f[i].ft, 1);
		if (f[i].fd != -1)
			close(f[i].fd);
	}
	free(f);
}

/*
 * libmagic's type for every -a and --inline file without type=, all at
 * once (filetype.h: in a child, so that libmagic is never mapped here).
 */
static void
type_files(struct fileopt *att, size_t na, struct fileopt *inl, size_t ni)
{
	struct filetype	*ft;
	int		*fds;
	size_t		 i, n = na + ni;

	if (n == 0)
		return;
	fds = xreallocarray(NULL, n, sizeof(*fds));
	ft = xreallocarray(NULL, n, sizeof(*ft));
	for (i = 0; i < n; i++) {
		const struct fileopt *f = i < ni ? &inl[i] : &att[i - ni];

		fds[i] = f->type == NULL ? f->fd : -1;
	}
	filetype_guess(fds, n, ft);
	for (i = 0; i < n; i++)
		(i < ni ? &inl[i] : &att[i - ni])->ft = ft[i];
	free(fds);
	free(ft);
}

/* Parse and check the arguments of -a or --inline (no I/O). */
static struct fileopt *
parse_files(const struct strlist *l, const char *what, struct error *err)
{
	struct fileopt	*f = xcalloc(l->n + 1, sizeof(*f));
	size_t		 i;
	char		*label;

	for (i = 0; i < l->n; i++)
		f[i].fd = -1;
	for (i = 0; i < l->n; i++) {
		label = xasprintf("%s argument", what);
		if (check_value(label, l->v[i], err) == -1) {
			free(label);
			goto fail;
		}
		free(label);
		if (mime_parse_file_arg(l->v[i], &f[i].path, &f[i].type,
		    &f[i].name, err) == -1)
			goto fail;
		if (f[i].name == NULL)
			f[i].name = base_name(f[i].path);
		if (check_utf8("the attachment name", f[i].name, err) == -1) {
			error_prefix(err, "%s '%s'", what, f[i].path);
			goto fail;
		}
		if (strlen(f[i].name) > NAME_MAX_LEN || *f[i].name == '\0') {
			error_set(err, EX_DATAERR, "%s '%s': the name must "
			    "have 1 to %d octets", what, f[i].path,
			    NAME_MAX_LEN);
			goto fail;
		}
	}
	return f;
fail:
	fileopts_free(f, l->n);
	return NULL;
}

static int
open_files(struct fileopt *f, size_t n, const char *what, struct error *err)
{
	struct stat	st;
	size_t		i;

	for (i = 0; i < n; i++) {
		if ((f[i].fd = open_input(what, f[i].path, &st, err)) == -1)
			return -1;
		f[i].len = st.st_size;
	}
	return 0;
}

/* The text: --body, or fd; spooled when it cannot be read twice. */
static struct part *
read_text(const struct cli_opts *o, int fd, struct error *err)
{
	struct stat	 st;
	const char	*cs = o->charset;
	off_t		 cur, len;
	int		 in = fd, sp;

	if (cs != NULL && is_utf8_name(cs))
		cs = NULL;	/* only checked, as without --charset */
	if (o->body_file != NULL &&
	    (in = open_input("body file", o->body_file, &st, err)) == -1)
		return NULL;
	if (cs == NULL && fstat(in, &st) == 0 && S_ISREG(st.st_mode) &&
	    (cur = lseek(in, 0, SEEK_CUR)) != -1) {
		/* A regular file can be read again by offset: no copy. */
		if (in == fd && (in = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
			error_set_errno(err, EX_OSERR, "dup");
			return NULL;
		}
		return part_new("the message text", in, cur,
		    st.st_size > cur ? st.st_size - cur : 0);
	}
	if ((sp = util_tmpfile(err)) == -1 ||
	    spool_copy(in, sp, cs, &len, err) == -1) {
		if (sp != -1)
			close(sp);
		if (in != fd)
			close(in);
		return NULL;
	}
	if (in != fd)
		close(in);
	return part_new("the message text", sp, 0, len);
}

/*
 * Compose
 */

struct message *
mime_compose(const struct cli_opts *o, struct message_opts *mo, int fd,
    struct strlist *rcpts, struct error *err)
{
	struct compose	 c;
	struct fileopt	*att = NULL, *inl = NULL;
	struct part	*text = NULL, *html = NULL, *p;
	struct node	*body = NULL, *n;
	struct gen	*g;
	struct buf	 lit = BUF_INIT;
	struct strlist	 one = STRLIST_INIT;
	struct message	*msg = NULL;
	struct stat	 st;
	unsigned char	 r[16];
	size_t		 i;
	char		*label, *cid;
	int		 hfd, rv;

	memset(&c, 0, sizeof(c));

	/* 1. Every value that becomes a header, before any I/O. */
	if (check_utf8("the subject", o->subject, err) == -1 ||
	    check_utf8("--reply-to", o->reply_to, err) == -1 ||
	    check_value("--charset", o->charset, err) == -1 ||
	    check_value("the sender", mo->sender, err) == -1)
		goto fail;
	for (i = 0; i < o->rcpts.n; i++)
		if (check_utf8("a recipient", o->rcpts.v[i], err) == -1)
			goto fail;
	for (i = 0; i < o->cc.n; i++)
		if (check_utf8("a Cc address", o->cc.v[i], err) == -1)
			goto fail;
	for (i = 0; i < o->bcc.n; i++)
		if (check_value("a Bcc address", o->bcc.v[i], err) == -1)
			goto fail;
	if (o->inlines.n > 0 && o->html == NULL) {
		error_set(err, EX_USAGE, "--inline needs --html (the HTML "
		    "shows the inline files as cid:NAME)");
		goto fail;
	}
	if ((att = parse_files(&o->attach, "attachment", err)) == NULL ||
	    (inl = parse_files(&o->inlines, "inline file", err)) == NULL)
		goto fail;

	if (mo->sender != NULL && strchr(mo->sender, '<') != NULL) {
		/* -r 'Name <addr>': mailx puts it in From as given */
		strlist_add(&one, mo->sender);
		if (add_addr_field(&c, "From", &one, mo->qualify_domain,
		    err) == -1)
			goto fail;
		strlist_release(&one);
	}
	if (add_addr_field(&c, "To", &o->rcpts, mo->qualify_domain,
	    err) == -1 || add_addr_field(&c, "Cc", &o->cc,
	    mo->qualify_domain, err) == -1)
		goto fail;
	if (o->reply_to != NULL) {
		strlist_add(&one, o->reply_to);
		if (add_addr_field(&c, "Reply-To", &one, mo->qualify_domain,
		    err) == -1)
			goto fail;
		strlist_release(&one);
	}
	if (o->subject != NULL)
		add_field(&c, "Subject", hdrenc_unstructured(o->subject,
		    strlen("Subject")));
	for (i = 0; i < o->headers.n; i++)
		if (add_extra_header(&c, o->headers.v[i], err) == -1)
			goto fail;

	/* 2. Open every file: a bad one stops us before stdin is read. */
	if (open_files(att, o->attach.n, "attachment", err) == -1 ||
	    open_files(inl, o->inlines.n, "inline file", err) == -1)
		goto fail;
	g = c.gen = xcalloc(1, sizeof(*g));
	g->in = xmalloc(CHUNK);
	if (o->html != NULL) {
		if ((hfd = open_input("HTML file", o->html, &st, err)) == -1)
			goto fail;
		label = xasprintf("HTML file '%s'", o->html);
		html = part_new(label, hfd, 0, st.st_size);
		free(label);
		gen_own(g, html);
	}

	/* 3. The text. */
	if ((text = read_text(o, fd, err)) == NULL)
		goto fail;
	gen_own(g, text);
	if (text->len == 0 && (o->html != NULL || o->attach.n > 0))
		/* nothing typed: the HTML or the attachments are the mail */
		text = NULL;
	else if (text_part(text, "plain", "the message text", err) == -1)
		goto fail;
	if (html != NULL && text_part(html, "html", html->label, err) == -1)
		goto fail;

	/* 4. The files' types, then the tree:
	 * mixed(alternative(text, related(html, inline)), att) */
	type_files(att, o->attach.n, inl, o->inlines.n);
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		error_set_errno(err, EX_OSERR, "cannot get random octets "
		    "for the MIME boundaries");
		goto fail;
	}
	for (i = 0; i < sizeof(r); i++)
		snprintf(c.rnd + 2 * i, 3, "%02x", r[i]);
	if (text != NULL)
		body = leaf(&c, text);
	if (html != NULL) {
		n = leaf(&c, html);
		if (o->inlines.n > 0) {
			struct node *rel = multi(&c, "related");

			node_add(rel, n);
			for (i = 0; i < o->inlines.n; i++) {
				label = xasprintf("inline file '%s'",
				    inl[i].path);
				p = part_new(label, inl[i].fd, 0, inl[i].len);
				free(label);
				inl[i].fd = -1;
				gen_own(g, p);
				cid = content_id(inl[i].name);
				rv = file_part(&inl[i].ft, p, inl[i].type,
				    inl[i].name, "inline", cid, err);
				free(cid);
				if (rv == -1)
					goto fail;
				node_add(rel, leaf(&c, p));
			}
			n = rel;
		}
		if (body != NULL) {
			struct node *alt = multi(&c, "alternative");

			node_add(alt, body);
			node_add(alt, n);
			body = alt;
		} else
			body = n;
	}
	if (o->attach.n > 0) {
		struct node *mix = multi(&c, "mixed");

		if (body != NULL)
			node_add(mix, body);
		for (i = 0; i < o->attach.n; i++) {
			label = xasprintf("attachment '%s'", att[i].path);
			p = part_new(label, att[i].fd, 0, att[i].len);
			free(label);
			att[i].fd = -1;
			gen_own(g, p);
			if (file_part(&att[i].ft, p, att[i].type, att[i].name,
			    "attachment", NULL, err) == -1)
				goto fail;
			node_add(mix, leaf(&c, p));
		}
		body = mix;
	}

	/* 5. Top-level MIME fields, the flat body and its exact size. */
	add_field(&c, "MIME-Version", xstrdup("1.0"));
	if (body->part != NULL) {
		/* one part: its Content-* fields are the message's */
		body->part->final_crlf = 1;
		for (i = 0; i < body->part->hname.n; i++)
			add_field(&c, body->part->hname.v[i],
			    hdrenc_fold(body->part->hval.v[i],
			    strlen(body->part->hname.v[i])));
		flatten(g, &lit, body);
	} else {
		add_field(&c, "Content-Type", hdrenc_fold(body->hdr.data,
		    strlen("Content-Type")));
		flatten(g, &lit, body);
		buf_add(&lit, "\r\n", 2);
	}
	gen_lit(g, &lit);
	g->total = gen_size(g);
	log_debug("composed body: %lld octets", g->total);

	/* 6. The envelope: operands, -c and -b/--bcc (never a header). */
	for (i = 0; i < o->rcpts.n; i++)
		strlist_add(rcpts, o->rcpts.v[i]);
	for (i = 0; i < o->cc.n; i++)
		strlist_add(rcpts, o->cc.v[i]);
	for (i = 0; i < o->bcc.n; i++)
		strlist_add(rcpts, o->bcc.v[i]);
	mo->rcpts = rcpts;

	msg = message_new_composed((const char *const *)c.names.v,
	    (const char *const *)c.values.v, c.names.n, &gen_ops, g,
	    (off_t)g->total);
	c.gen = NULL;	/* the message owns it now */
fail:
	strlist_release(&one);
	buf_release(&lit);
	if (att != NULL)
		fileopts_free(att, o->attach.n);
	if (inl != NULL)
		fileopts_free(inl, o->inlines.n);
	compose_release(&c);
	return msg;
}
