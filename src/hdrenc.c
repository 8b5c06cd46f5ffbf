/*
 * Encoders for message text: quoted-printable (RFC 2045), RFC 2047
 * encoded words for phrases, and a streaming UTF-8 check.  Written by hand
 * because they must be streaming filters over our own buffers; libcurl's
 * encoders are tied to curl_mime and emit whole parts.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "hdrenc.h"
#include "util.h"
#include "xmalloc.h"

#define QP_MAX	76

static const char hexdig[] = "0123456789ABCDEF";

static void	qp_put(struct qp_enc *, struct buf *, const char *, int);
static void	qp_byte(struct qp_enc *, struct buf *, unsigned char);
static void	qp_flush_head(struct qp_enc *, struct buf *);

void
qp_enc_init(struct qp_enc *q)
{
	memset(q, 0, sizeof(*q));
	q->pending = -1;
	q->bol = 1;
}

/* Write one output token (a literal octet or an "=XX" triplet). */
static void
qp_put(struct qp_enc *q, struct buf *out, const char *tok, int n)
{
	/* Leave room for the "=" of a soft break. */
	if (q->col + n > QP_MAX - 1) {
		buf_add(out, "=\r\n", 3);
		q->col = 0;
		/*
		 * A soft break may put "From " at the start of a line, where
		 * an mbox would quote it: encode an F that lands there.
		 */
		if (n == 1 && tok[0] == 'F') {
			buf_add(out, "=46", 3);
			q->col = 3;
			return;
		}
	}
	buf_add(out, tok, (size_t)n);
	q->col += n;
}

static void
qp_lit(struct qp_enc *q, struct buf *out, unsigned char c)
{
	char	t[3];

	if ((c >= 33 && c <= 126 && c != '=') || c == ' ' || c == '\t') {
		t[0] = (char)c;
		qp_put(q, out, t, 1);
	} else {
		t[0] = '=';
		t[1] = hexdig[c >> 4];
		t[2] = hexdig[c & 15];
		qp_put(q, out, t, 3);
	}
}

static void
qp_enc_hex(struct qp_enc *q, struct buf *out, unsigned char c)
{
	char	t[3];

	t[0] = '=';
	t[1] = hexdig[c >> 4];
	t[2] = hexdig[c & 15];
	qp_put(q, out, t, 3);
}

static void
qp_byte(struct qp_enc *q, struct buf *out, unsigned char c)
{
	if (q->pending != -1) {
		qp_lit(q, out, (unsigned char)q->pending);
		q->pending = -1;
	}
	if (c == ' ' || c == '\t')
		q->pending = c;	/* encoded only if a line break follows */
	else
		qp_lit(q, out, c);
}

static void
qp_flush_head(struct qp_enc *q, struct buf *out)
{
	int	i;

	if (q->nhead == 5 && memcmp(q->head, "From ", 5) == 0) {
		qp_enc_hex(q, out, 'F');
		for (i = 1; i < 5; i++)
			qp_byte(q, out, (unsigned char)q->head[i]);
	} else {
		for (i = 0; i < q->nhead; i++)
			qp_byte(q, out, (unsigned char)q->head[i]);
	}
	q->nhead = 0;
	q->bol = 0;
}

void
qp_enc_data(struct qp_enc *q, const char *p, size_t n, struct buf *out)
{
	size_t	i = 0;

	while (q->bol && i < n) {
		q->head[q->nhead++] = p[i++];
		if (q->nhead == 5 || memcmp(q->head, "From ", q->nhead) != 0)
			qp_flush_head(q, out);
	}
	for (; i < n; i++)
		qp_byte(q, out, (unsigned char)p[i]);
}

void
qp_enc_eol(struct qp_enc *q, struct buf *out)
{
	if (q->bol)
		qp_flush_head(q, out);
	if (q->pending != -1) {
		/* RFC 2045 6.7(3): trailing white space must be encoded. */
		qp_enc_hex(q, out, (unsigned char)q->pending);
		q->pending = -1;
	}
	buf_add(out, "\r\n", 2);
	q->col = 0;
	q->bol = 1;
}

void
qp_enc_finish(struct qp_enc *q, struct buf *out)
{
	if (q->bol && q->nhead == 0)
		return;
	if (q->bol)
		qp_flush_head(q, out);
	if (q->pending != -1) {
		qp_enc_hex(q, out, (unsigned char)q->pending);
		q->pending = -1;
	}
	/* A soft break keeps "no final newline" while ending in CRLF. */
	buf_add(out, "=\r\n", 3);
	q->col = 0;
	q->bol = 1;
}

void
utf8_check_init(struct utf8_check *u)
{
	memset(u, 0, sizeof(*u));
}

void
utf8_check_data(struct utf8_check *u, const unsigned char *p, size_t n)
{
	size_t	i;

	if (u->bad)
		return;
	for (i = 0; i < n; i++) {
		unsigned c = p[i];

		if (u->need > 0) {
			if ((c & 0xC0) != 0x80) {
				u->bad = 1;
				return;
			}
			u->cp = (u->cp << 6) | (c & 0x3F);
			if (--u->need == 0 && (u->cp < u->min ||
			    u->cp > 0x10FFFF ||
			    (u->cp >= 0xD800 && u->cp <= 0xDFFF))) {
				u->bad = 1;
				return;
			}
		} else if (c < 0x80) {
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			u->need = 1; u->cp = c & 0x1F; u->min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			u->need = 2; u->cp = c & 0x0F; u->min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			u->need = 3; u->cp = c & 0x07; u->min = 0x10000;
		} else {
			u->bad = 1;
			return;
		}
	}
}

int
utf8_check_ok(const struct utf8_check *u)
{
	return !u->bad && u->need == 0;
}

int
utf8_valid(const char *s, size_t n)
{
	struct utf8_check	u;

	utf8_check_init(&u);
	utf8_check_data(&u, (const unsigned char *)s, n);
	return utf8_check_ok(&u);
}

int
hdrenc_is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if (((unsigned char)*s < 32 && *s != '\t') ||
		    (unsigned char)*s > 126)
			return 0;
	return 1;
}

/* Length of the UTF-8 sequence starting with c (1 for invalid bytes). */
static size_t
u8len(unsigned char c)
{
	if (c >= 0xF0)
		return 4;
	if (c >= 0xE0)
		return 3;
	if (c >= 0xC0)
		return 2;
	return 1;
}

static void
b64(struct buf *out, const unsigned char *p, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t	i;

	for (i = 0; i + 2 < n; i += 3) {
		buf_addch(out, tab[p[i] >> 2]);
		buf_addch(out, tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)]);
		buf_addch(out, tab[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)]);
		buf_addch(out, tab[p[i + 2] & 63]);
	}
	if (n - i == 1) {
		buf_addch(out, tab[p[i] >> 2]);
		buf_addch(out, tab[(p[i] & 3) << 4]);
		buf_addstr(out, "==");
	} else if (n - i == 2) {
		buf_addch(out, tab[p[i] >> 2]);
		buf_addch(out, tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)]);
		buf_addch(out, tab[(p[i + 1] & 15) << 2]);
		buf_addch(out, '=');
	}
}

char *
hdrenc_phrase(const char *s)
{
	struct buf		 out = BUF_INIT;
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s), i, start, len;
	int			 special = 0;

	if (hdrenc_is_ascii(s)) {
		for (i = 0; i < n; i++)
			if (strchr("()<>[]:;@\\,.\"", s[i]) != NULL)
				special = 1;
		if (!special && n > 0)
			return xstrdup(s);
		/* RFC 5322 3.2.4 quoted-string. */
		buf_addch(&out, '"');
		for (i = 0; i < n; i++) {
			if (s[i] == '"' || s[i] == '\\')
				buf_addch(&out, '\\');
			buf_addch(&out, s[i]);
		}
		buf_addch(&out, '"');
		return buf_detach(&out);
	}
	/*
	 * RFC 2047 2: an encoded word is at most 75 octets; "=?UTF-8?B?" and
	 * "?=" take 12, leaving 63 base64 characters = 45 octets of text.
	 * Words are split between characters (RFC 2047 5(3)).
	 */
	for (start = 0; start < n; start = i) {
		len = 0;
		i = start;
		while (i < n) {
			size_t cl = u8len(p[i]);

			if (i + cl > n)
				cl = n - i;
			if (len + cl > 45)
				break;
			len += cl;
			i += cl;
		}
		if (start > 0)
			buf_addch(&out, ' ');
		buf_addstr(&out, "=?UTF-8?B?");
		b64(&out, p + start, i - start);
		buf_addstr(&out, "?=");
	}
	return buf_detach(&out);
}

/*
 * Base64 as a stream (RFC 2045 6.8).
 */

static const char b64tab[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

#define B64_LINE	76	/* RFC 2045 6.8: at most 76 characters */

void
b64_enc_init(struct b64_enc *e)
{
	memset(e, 0, sizeof(*e));
}

/* Emit one group of four characters, breaking the line before it when
 * the line is full (so the last line never ends in CRLF). */
static void
b64_group(struct b64_enc *e, struct buf *out, const char g[4])
{
	if (e->col == B64_LINE) {
		buf_add(out, "\r\n", 2);
		e->col = 0;
	}
	buf_add(out, g, 4);
	e->col += 4;
}

void
b64_enc_data(struct b64_enc *e, const void *data, size_t n, struct buf *out)
{
	const unsigned char	*p = data;
	char			 g[4], *o;
	size_t			 i = 0, groups;

	/* Complete a group left over from the last call. */
	while (e->nin > 0 && i < n) {
		e->in[e->nin++] = p[i++];
		if (e->nin < 3)
			continue;
		g[0] = b64tab[e->in[0] >> 2];
		g[1] = b64tab[((e->in[0] & 3) << 4) | (e->in[1] >> 4)];
		g[2] = b64tab[((e->in[1] & 15) << 2) | (e->in[2] >> 6)];
		g[3] = b64tab[e->in[2] & 63];
		b64_group(e, out, g);
		e->nin = 0;
	}
	/* Whole groups straight into the buffer: 4 characters, plus a line
	 * break every 19 groups. */
	groups = (n - i) / 3;
	buf_grow(out, groups * 4 + (groups / 19 + 1) * 2);
	o = out->data + out->len;
	for (; n - i >= 3; i += 3) {
		if (e->col == B64_LINE) {
			*o++ = '\r';
			*o++ = '\n';
			e->col = 0;
		}
		o[0] = b64tab[p[i] >> 2];
		o[1] = b64tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		o[2] = b64tab[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		o[3] = b64tab[p[i + 2] & 63];
		o += 4;
		e->col += 4;
	}
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
	while (i < n)
		e->in[e->nin++] = p[i++];
}

void
b64_enc_finish(struct b64_enc *e, struct buf *out)
{
	char	g[4];

	if (e->nin == 0)
		return;
	g[0] = b64tab[e->in[0] >> 2];
	if (e->nin == 1) {
		g[1] = b64tab[(e->in[0] & 3) << 4];
		g[2] = '=';
	} else {
		g[1] = b64tab[((e->in[0] & 3) << 4) | (e->in[1] >> 4)];
		g[2] = b64tab[(e->in[1] & 15) << 2];
	}
	g[3] = '=';
	b64_group(e, out, g);
	e->nin = 0;
}

long long
b64_enc_size(long long n)
{
	long long	chars;

	if (n <= 0)
		return 0;
	chars = (n + 2) / 3 * 4;
	return chars + 2 * ((chars - 1) / B64_LINE);
}

/*
 * Folding.  A struct fold writes tokens to a value, each preceded by its
 * separator (white space), and breaks the line before the separator when
 * the token would pass the limit.
 */

#define FOLD_LIMIT	78	/* RFC 5322 2.1.1 */
#define EW_MAX		75	/* RFC 2047 2: one encoded word */
#define EW_OVERHEAD	12	/* "=?UTF-8?B?" + "?=" */

struct fold {
	struct buf	out;
	size_t		col;	/* octets on the current line */
	int		empty;	/* nothing written: no fold yet */
};

static void
fold_init(struct fold *f, size_t namelen)
{
	buf_init(&f->out);
	f->col = namelen + 2;	/* "Name: " */
	f->empty = 1;
}

/* Room left on the line for separator + token. */
static size_t
fold_room(const struct fold *f)
{
	return f->col < FOLD_LIMIT ? FOLD_LIMIT - f->col : 0;
}

static void
fold_break(struct fold *f)
{
	buf_addch(&f->out, '\n');
	f->col = 0;
}

static void	fold_sep(struct fold *, const char **, size_t *);

/*
 * Write all but the last octet of a white-space separator, folding inside
 * it when the line is full (a fold between two WSP octets loses nothing
 * on unfolding), so that a long run of blanks cannot push a token past the
 * limit.  Advances *sep and *seplen to the octet left (if any).
 */
static void
fold_sep(struct fold *f, const char **sep, size_t *seplen)
{
	while (*seplen > 1) {
		if (f->col >= FOLD_LIMIT - 1 && f->col > 1)
			fold_break(f);
		buf_addch(&f->out, **sep);
		f->col++;
		f->empty = 0;	/* blanks written: a fold may follow */
		(*sep)++;
		(*seplen)--;
	}
}

/*
 * Add sep (white space, possibly empty) and a token.  A line is broken
 * before sep when the token does not fit and the line holds something;
 * a token longer than a line stays whole.
 */
static void
fold_add(struct fold *f, const char *sep, size_t seplen, const char *tok,
    size_t toklen)
{
	fold_sep(f, &sep, &seplen);
	if (!f->empty && seplen > 0 && seplen + toklen > fold_room(f) &&
	    f->col > 1)
		fold_break(f);
	buf_add(&f->out, sep, seplen);
	buf_add(&f->out, tok, toklen);
	f->col += seplen + toklen;
	if (seplen + toklen > 0)
		f->empty = 0;
}

/* Octets of UTF-8 text that fit in one encoded word of at most max
 * octets, ending on a character boundary (RFC 2047 5(3)). */
static size_t
ew_fit(const unsigned char *p, size_t n, size_t max)
{
	size_t	avail, i = 0, cl;

	if (max <= EW_OVERHEAD + 4)
		return 0;
	avail = (max - EW_OVERHEAD) / 4 * 3;	/* text octets */
	while (i < n) {
		cl = u8len(p[i]);
		if (i + cl > n)
			cl = n - i;
		if (i + cl > avail)
			break;
		i += cl;
	}
	return i;
}

/*
 * Encode n octets of UTF-8 as encoded words, the first preceded by sep
 * and the others by one space (ignored between encoded words, RFC 2047
 * 6.2).  Each word fills the room left on its line, up to 75 octets.
 */
static void
fold_encoded(struct fold *f, const char *sep, size_t seplen,
    const unsigned char *p, size_t n)
{
	struct buf	w = BUF_INIT;
	size_t		k, room;

	fold_sep(f, &sep, &seplen);
	while (n > 0) {
		room = fold_room(f);
		room = room > seplen ? room - seplen : 0;
		if (room > EW_MAX)
			room = EW_MAX;
		k = ew_fit(p, n, room);
		/* Too little room for a useful word: fold first. */
		if ((k == 0 || (k < 9 && k < n)) && !f->empty && seplen > 0 &&
		    f->col > 1) {
			fold_break(f);
			room = FOLD_LIMIT - seplen;
			if (room > EW_MAX)
				room = EW_MAX;
			k = ew_fit(p, n, room);
		}
		if (k == 0)
			k = ew_fit(p, n, EW_MAX);
		buf_reset(&w);
		buf_addstr(&w, "=?UTF-8?B?");
		b64(&w, p, k);
		buf_addstr(&w, "?=");
		buf_add(&f->out, sep, seplen);
		buf_add(&f->out, w.data, w.len);
		f->col += seplen + w.len;
		f->empty = 0;
		p += k;
		n -= k;
		sep = " ";
		seplen = 1;
	}
	buf_release(&w);
}

char *
hdrenc_fold(const char *s, size_t namelen)
{
	struct fold	 f;
	const char	*p = s, *ws, *tok;
	int		 quote, depth;

	fold_init(&f, namelen);
	while (*p != '\0') {
		ws = p;
		while (*p == ' ' || *p == '\t')
			p++;
		tok = p;
		/* A token runs to white space outside quotes and comments. */
		quote = depth = 0;
		while (*p != '\0') {
			if (*p == '\\' && (quote || depth > 0) && p[1] != '\0')
				p++;
			else if (*p == '"' && depth == 0)
				quote = !quote;
			else if (*p == '(' && !quote)
				depth++;
			else if (*p == ')' && !quote && depth > 0)
				depth--;
			else if ((*p == ' ' || *p == '\t') && !quote &&
			    depth == 0)
				break;
			p++;
		}
		if (p == tok) {
			/* Trailing white space: keep it, never fold there. */
			buf_add(&f.out, ws, (size_t)(p - ws));
			break;
		}
		fold_add(&f, ws, (size_t)(tok - ws), tok, (size_t)(p - tok));
	}
	return buf_detach(&f.out);
}

/* A word that must be encoded in unstructured text. */
static int
needs_ew(const char *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x7F || c < 0x20)
			return 1;
		/* RFC 2047 5(1): text that looks like an encoded word. */
		if (c == '=' && i + 1 < n && p[i + 1] == '?')
			return 1;
	}
	return 0;
}

char *
hdrenc_unstructured(const char *s, size_t namelen)
{
	struct fold	 f;
	const char	*p = s, *ws, *tok, *run, *runsep = NULL, *e = NULL;
	size_t		 runseplen = 0;
	char		*copy, *end;

	/*
	 * Trailing blanks mean nothing to a reader, and a line of blanks
	 * alone must not be generated (RFC 5322 3.2.2): a long run of them
	 * at the end could not be folded.  Drop them.
	 */
	copy = xstrdup(s);
	for (end = copy + strlen(copy); end > copy &&
	    (end[-1] == ' ' || end[-1] == '\t'); end--)
		;
	*end = '\0';
	p = s = copy;
	fold_init(&f, namelen);
	run = NULL;
	for (;;) {
		ws = p;
		while (*p == ' ' || *p == '\t')
			p++;
		tok = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		if (p > tok && needs_ew(tok, (size_t)(p - tok))) {
			/* Extend the current run of encoded words. */
			if (run == NULL) {
				run = tok;
				runsep = ws;
				runseplen = (size_t)(tok - ws);
			}
			e = p;
			continue;
		}
		if (run != NULL) {
			/* The run ends with its last word (e), the white
			 * space after it separates it from the next. */
			fold_encoded(&f, runsep, runseplen,
			    (const unsigned char *)run, (size_t)(e - run));
			run = NULL;
		}
		if (p == tok) {
			buf_add(&f.out, ws, (size_t)(p - ws));
			break;
		}
		fold_add(&f, ws, (size_t)(tok - ws), tok, (size_t)(p - tok));
	}
	free(copy);
	return buf_detach(&f.out);
}

char *
hdrenc_mailboxes(const char *const *display, const char *const *spec,
    size_t n, size_t namelen)
{
	struct fold	 f;
	char		*ph, *angle;
	size_t		 i;

	fold_init(&f, namelen);
	for (i = 0; i < n; i++) {
		const char *sep = i == 0 ? "" : " ";

		if (display == NULL || display[i] == NULL ||
		    *display[i] == '\0') {
			fold_add(&f, sep, strlen(sep), spec[i],
			    strlen(spec[i]));
		} else {
			if (hdrenc_is_ascii(display[i])) {
				ph = hdrenc_phrase(display[i]);
				fold_add(&f, sep, strlen(sep), ph, strlen(ph));
				free(ph);
			} else
				fold_encoded(&f, sep, strlen(sep),
				    (const unsigned char *)display[i],
				    strlen(display[i]));
			angle = xasprintf("<%s>", spec[i]);
			fold_add(&f, " ", 1, angle, strlen(angle));
			free(angle);
		}
		if (i + 1 < n) {
			buf_addch(&f.out, ',');
			f.col++;
		}
	}
	return buf_detach(&f.out);
}

/* RFC 2045 5.1 token characters. */
static int
is_tspecial_free(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 32 || (unsigned char)*s >= 127 ||
		    strchr("()<>@,;:\\\"/[]?=", *s) != NULL)
			return 0;
	return 1;
}

/* RFC 2231 7 / RFC 5987 attr-char: sent as is in an extended value. */
static int
attr_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || strchr("!#$&+-.^_`|~", c) != NULL;
}

#define PARAM_PIECE	60	/* characters of one continuation */

void
hdrenc_param(struct buf *b, const char *attr, const char *value,
    int ascii_only)
{
	const unsigned char	*p = (const unsigned char *)value;
	struct buf		 pct = BUF_INIT;
	size_t			 i, cl, start, k, piece;
	int			 ascii = 1;

	for (i = 0; p[i] != '\0'; i++)
		if (p[i] >= 0x80)
			ascii = 0;
	if (ascii || ascii_only) {
		buf_printf(b, "; %s=", attr);
		if (is_tspecial_free(value)) {
			buf_addstr(b, value);
			return;
		}
		buf_addch(b, '"');
		for (i = 0; p[i] != '\0'; i++) {
			if (p[i] >= 0x80) {
				/* one '_' per character, not per octet */
				buf_addch(b, '_');
				while ((p[i + 1] & 0xC0) == 0x80)
					i++;
				continue;
			}
			if (p[i] < 0x20 || p[i] == 0x7F) {
				buf_addch(b, '_');
				continue;
			}
			if (p[i] == '"' || p[i] == '\\')
				buf_addch(b, '\\');
			buf_addch(b, p[i]);
		}
		buf_addch(b, '"');
		return;
	}

	/*
	 * RFC 2231 3 and 4: percent-encoded UTF-8, in pieces that end
	 * between characters so that each piece also decodes alone.
	 */
	piece = 0;
	for (start = 0; p[start] != '\0'; start = i) {
		buf_reset(&pct);
		for (i = start; p[i] != '\0'; i += k) {
			size_t before = pct.len;

			k = u8len(p[i]);
			for (cl = 0; cl < k && p[i + cl] != '\0'; cl++) {
				if (attr_char(p[i + cl]))
					buf_addch(&pct, p[i + cl]);
				else
					buf_printf(&pct, "%%%c%c",
					    hexdig[p[i + cl] >> 4],
					    hexdig[p[i + cl] & 15]);
			}
			k = cl;
			if (pct.len > PARAM_PIECE && before > 0) {
				pct.len = before;
				break;
			}
		}
		if (start == 0 && p[i] == '\0')
			buf_printf(b, "; %s*=UTF-8''%.*s", attr,
			    (int)pct.len, pct.data);
		else
			buf_printf(b, "; %s*%zu*=%s%.*s", attr, piece++,
			    start == 0 ? "UTF-8''" : "", (int)pct.len,
			    pct.data);
	}
	buf_release(&pct);
}
