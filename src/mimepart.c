/*
 * One part of a composed message: the file it comes from (a regular
 * file, a /proc or /sys file read whole, the text spooled from stdin and
 * converted from --charset), the scan that picks its encoding, the
 * 7bit, quoted-printable and base64 encoders (every line ending CRLF for
 * text) and its exact encoded size; the Content-* fields of a text or
 * file part.
 */
#include "autoconfig.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/vfs.h>

#include <linux/magic.h>

#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "error.h"
#include "filetype.h"
#include "hdrenc.h"
#include "log.h"
#include "mime_int.h"
#include "util.h"
#include "xmalloc.h"

#define PSEUDO_MAX	(16 * 1024 * 1024)	/* a /proc, /sys file */
#define LINE_MAX_SMTP	998		/* RFC 5322 2.1.1 */

static const char *const enc_names[] = { "7bit", "quoted-printable",
    "base64" };

static void	scan_init(struct scan *);
static void	scan_data(struct scan *, const char *, size_t);
static int	scan_fd(struct scan *, int, off_t, off_t, const char *,
		    struct error *);
static int	 pseudo_fs(int);
static int	 read_whole(const char *, const char *, int, struct stat *,
		    struct error *);
static void	part_hdr(struct part *, const char *, const char *);
/*
 * Encoders
 */

void
enc_init(struct enc *e, enum mime_enc how)
{
	memset(e, 0, sizeof(*e));
	e->how = how;
	qp_enc_init(&e->qp);
	b64_enc_init(&e->b64);
}

void
enc_data(struct enc *e, const char *p, size_t n, struct buf *out)
{
	const char	*end = p + n, *s;
	size_t		 len;
	int		 eol;

	if (n > 0)
		e->any = 1;
	if (e->how == MIME_BASE64) {
		b64_enc_data(&e->b64, p, n, out);
		return;
	}
	while (p < end) {
		eol = crlf_next(&e->prev_cr, 1, &p, end, &s, &len);
		if (len > 0) {
			if (e->how == MIME_QP)
				qp_enc_data(&e->qp, s, len, out);
			else
				buf_add(out, s, len);
			e->midline = 1;
		}
		if (!eol)
			break;
		if (e->how == MIME_QP)
			qp_enc_eol(&e->qp, out);
		else
			buf_add(out, "\r\n", 2);
		e->midline = 0;
	}
}

/*
 * End of a part's content.  Inside a multipart the delimiter's leading
 * CRLF ends the last line (RFC 2046 5.1.1), so nothing is added; the
 * whole body (final_crlf) must end in CRLF.
 */
void
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
int
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
int
is_utf8_name(const char *cs)
{
	return strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0;
}

/*
 * Copy in to the spool file out, converting from charset to UTF-8 when
 * charset is not NULL (iconv, streaming: an incomplete character at the
 * end of a block waits for the next one).  *len gets the spooled size.
 */
int
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

struct part *
part_new(const char *label, int fd, off_t start, off_t len)
{
	struct part	*p = xcalloc(1, sizeof(*p));

	p->label = xstrdup(label);
	p->fd = fd;
	p->start = start;
	p->len = len;
	return p;
}

void
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
long long
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
int
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
int
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
