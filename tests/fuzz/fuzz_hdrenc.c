/*
 * Round-trip fuzz target for the header value encoders of hdrenc.c:
 * hdrenc_unstructured (RFC 2047 words, folding), hdrenc_fold and
 * hdrenc_param (RFC 2045 token / quoted-string, RFC 2231 continuations).
 * The first input byte picks the field name's length, the rest is the
 * value (valid UTF-8 without CR, LF or NUL, as the callers guarantee).
 * Each output is decoded as a reader would and must give the value back;
 * folds are "\n" before white space only; encoded words are at most 75
 * octets and, like RFC 2231 pieces, hold whole characters.
 */
#include "autoconfig.h"

#include <string.h>

#include "hdrenc.h"
#include "util.h"
#include "xmalloc.h"
#include "fuzz.h"

#define EW_MAX		75	/* RFC 2047 2 */
#define FOLD_LIMIT	78	/* RFC 5322 2.1.1 */
#define PIECE_MAX	60	/* hdrenc.h: RFC 2231 continuation */

static int	hexval(int);
static void	check_folds(const char *, size_t, int);
static char	*unfold(const char *);
static void	decode_text(const char *, struct buf *);
static void	check_param(const char *, int);
static void	same(const struct buf *, const char *);

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
same(const struct buf *b, const char *s)
{
	size_t	n = strlen(s);

	if (b->len != n || (n > 0 && memcmp(b->data, s, n) != 0)) {
		fprintf(stderr, "decoded '%s'\n   want '%s'\n", buf_str(b), s);
		FUZZ_ASSERT(!"the encoded value decodes to the input");
	}
}

/*
 * "\n" only before SP/HTAB, no CR; lines over 78 octets (the first one
 * counting "Name: ") only when they hold no encoded word, if ew_fit.
 */
static void
check_folds(const char *v, size_t namelen, int ew_fit)
{
	const char	*p = v, *nl;
	size_t		 col = namelen + 2, len;

	FUZZ_ASSERT(strchr(v, '\r') == NULL);
	for (;;) {
		nl = strchr(p, '\n');
		len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (ew_fit && col + len > FOLD_LIMIT &&
		    memmem(p, len, "=?UTF-8?B?", 10) != NULL) {
			fprintf(stderr, "line of %zu octets: '%.*s'\n",
			    col + len, (int)len, p);
			FUZZ_ASSERT(!"encoded words fit in 78 columns");
		}
		if (nl == NULL)
			break;
		FUZZ_ASSERT(nl[1] == ' ' || nl[1] == '\t');
		p = nl + 1;
		col = 0;
	}
}

/* RFC 5322 2.2.3 unfolding. */
static char *
unfold(const char *v)
{
	struct buf	 b = BUF_INIT;

	for (; *v != '\0'; v++)
		if (*v != '\n')
			buf_addch(&b, *v);
	return buf_detach(&b);
}

/* RFC 2047 6.2: words decoded, white space between two of them dropped. */
static void
decode_text(const char *s, struct buf *out)
{
	struct buf	 w = BUF_INIT;
	const char	*p, *e;
	size_t		 n, ws;
	int		 prev_ew = 0;

	for (p = s; *p != '\0'; p = e) {
		for (e = p; *e == ' ' || *e == '\t'; e++)
			;
		ws = (size_t)(e - p);
		for (; *e != '\0' && *e != ' ' && *e != '\t'; e++)
			;
		n = (size_t)(e - p) - ws;
		buf_reset(&w);
		if (n > 0 && fuzz_decode_word(p + ws, n, &w) == 0) {
			FUZZ_ASSERT(n <= EW_MAX);
			FUZZ_ASSERT(utf8_valid(w.data, w.len));
			if (!prev_ew)
				buf_add(out, p, ws);
			buf_add(out, w.data, w.len);
			prev_ew = 1;
		} else {
			buf_add(out, p, ws + n);
			prev_ew = 0;
		}
	}
	buf_release(&w);
}

/* "; name=token", "; name=\"...\"" or RFC 2231 pieces. */
static void
check_param(const char *s, int ascii_only)
{
	struct buf	 b = BUF_INIT, dec = BUF_INIT;
	const char	*p, *e;
	size_t		 piece = 0, start;
	int		 plain = 1, hi, lo;
	const unsigned char *q;

	for (q = (const unsigned char *)s; *q != '\0'; q++)
		if (*q < 0x20 || *q >= 0x7F)
			plain = 0;
	hdrenc_param(&b, "filename", s, ascii_only);
	FUZZ_ASSERT(strpbrk(buf_str(&b), "\r\n") == NULL);
	for (q = (const unsigned char *)buf_str(&b); *q != '\0'; q++)
		FUZZ_ASSERT(*q >= 0x20 && *q < 0x7F);
	p = buf_str(&b);
	if (strncmp(p, "; filename=", 11) == 0) {
		p += 11;
		if (*p == '"') {
			for (p++; *p != '"'; p++) {
				FUZZ_ASSERT(*p != '\0');
				if (*p == '\\')
					p++;
				buf_addch(&dec, *p);
			}
			FUZZ_ASSERT(p[1] == '\0');
		} else
			buf_addstr(&dec, p);
		/* Only a value of printable ASCII comes back unchanged. */
		if (plain)
			same(&dec, s);
		goto out;
	}
	FUZZ_ASSERT(!ascii_only);
	while (*p != '\0') {
		FUZZ_ASSERT(strncmp(p, "; filename*", 11) == 0);
		p += 11;
		if (*p == '=') {
			FUZZ_ASSERT(piece == 0);
			p++;
		} else {
			char want[32];

			snprintf(want, sizeof(want), "%zu*=", piece);
			FUZZ_ASSERT(strncmp(p, want, strlen(want)) == 0);
			p += strlen(want);
		}
		if (piece == 0) {
			FUZZ_ASSERT(strncmp(p, "UTF-8''", 7) == 0);
			p += 7;
		}
		e = strchr(p, ';');
		if (e == NULL)
			e = p + strlen(p);
		FUZZ_ASSERT((size_t)(e - p) <= PIECE_MAX);
		start = dec.len;
		for (; p < e; p++) {
			if (*p != '%') {
				buf_addch(&dec, *p);
				continue;
			}
			FUZZ_ASSERT(p + 2 < e);
			hi = hexval(p[1]);
			lo = hexval(p[2]);
			FUZZ_ASSERT(hi >= 0 && lo >= 0);
			buf_addch(&dec, hi * 16 + lo);
			p += 2;
		}
		/* Each piece decodes alone (RFC 2231 4.1). */
		FUZZ_ASSERT(utf8_valid(buf_str(&dec) + start,
		    dec.len - start));
		piece++;
	}
	same(&dec, s);
out:
	buf_release(&b);
	buf_release(&dec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf	 dec = BUF_INIT;
	char		*s, *v, *u;
	size_t		 namelen;

	if (size < 1 || size > 16 * 1024)
		return 0;
	namelen = data[0] % 40 + 1;
	s = xstrndup((const char *)data + 1, size - 1);
	/* The callers refuse these before encoding. */
	if (strpbrk(s, "\r\n") != NULL || !utf8_valid(s, strlen(s))) {
		free(s);
		return 0;
	}

	v = hdrenc_unstructured(s, namelen);
	check_folds(v, namelen, 1);
	u = unfold(v);
	decode_text(u, &dec);
	/* Trailing blanks are dropped by design (hdrenc.h). */
	{
		char	*t = xstrdup(s), *e = t + strlen(t);

		while (e > t && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		same(&dec, t);
		free(t);
	}
	buf_reset(&dec);
	free(u);
	free(v);

	v = hdrenc_fold(s, namelen);
	check_folds(v, namelen, 0);
	u = unfold(v);
	FUZZ_ASSERT(strcmp(u, s) == 0);
	free(u);
	free(v);

	check_param(s, 0);
	check_param(s, 1);

	buf_release(&dec);
	free(s);
	return 0;
}
