/*
 * Encoders for message text: quoted-printable (RFC 2045), RFC 2047
 * encoded words for phrases, and a streaming UTF-8 check.  Written by hand
 * because they must be streaming filters over our own buffers; libcurl's
 * encoders are tied to curl_mime and emit whole parts.
 */
#include "autoconfig.h"

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
