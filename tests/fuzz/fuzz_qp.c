/*
 * Round-trip fuzz target for the quoted-printable encoder (hdrenc.c): the
 * input is a text body whose LF bytes are hard line breaks.  It is
 * encoded twice, at once and in small pieces, and the two outputs must be
 * equal; then decoded by the strict RFC 2045 6.7 decoder below, which must
 * give the input back.  Every encoded line is at most 76 octets, ends in
 * CRLF, holds only printable ASCII, has no white space before a hard
 * break, and does not start with "From ".
 */
#include "autoconfig.h"

#include <string.h>

#include "hdrenc.h"
#include "util.h"
#include "fuzz.h"

#define QP_LINE	76	/* RFC 2045 6.7(5) */

static void	encode(const uint8_t *, size_t, size_t, struct buf *);
static int	hexval(int);
static void	decode_check(const struct buf *, struct buf *);
static void	same(const struct buf *, const struct buf *);

static void
same(const struct buf *a, const struct buf *b)
{
	FUZZ_ASSERT(a->len == b->len);
	FUZZ_ASSERT(a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* Encode with data handed over in pieces of at most step bytes. */
static void
encode(const uint8_t *data, size_t size, size_t step, struct buf *out)
{
	struct qp_enc	 q;
	const char	*s = (const char *)data, *end = s + size, *nl;
	size_t		 n, k;

	qp_enc_init(&q);
	while (s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		n = (size_t)((nl != NULL ? nl : end) - s);
		for (k = 0; k < n; k += step)
			qp_enc_data(&q, s + k, n - k < step ? n - k : step,
			    out);
		if (nl == NULL)
			break;
		qp_enc_eol(&q, out);
		s = nl + 1;
	}
	qp_enc_finish(&q, out);
}

static int
hexval(int c)
{
	/* RFC 2045 6.7(1): uppercase only is what an encoder must emit. */
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Check the encoded form line by line and decode it: "=" CRLF is a soft
 * break, a bare CRLF a hard one (decoded as LF).
 */
static void
decode_check(const struct buf *enc, struct buf *dec)
{
	const char	*s, *end, *eol;
	size_t		 n, i;
	int		 hi, lo;

	if (enc->len == 0)
		return;
	s = enc->data;
	end = s + enc->len;
	while (s < end) {
		eol = memchr(s, '\r', (size_t)(end - s));
		/* Every line, the last one too, ends in CRLF. */
		FUZZ_ASSERT(eol != NULL && eol + 1 < end && eol[1] == '\n');
		n = (size_t)(eol - s);
		FUZZ_ASSERT(n <= QP_LINE);
		/* hdrenc.h: no line starts "From " (mbox would quote it). */
		FUZZ_ASSERT(n < 5 || memcmp(s, "From ", 5) != 0);
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)s[i];

			FUZZ_ASSERT(c == '\t' || (c >= 32 && c <= 126));
			if (c != '=') {
				buf_addch(dec, c);
				continue;
			}
			if (i + 1 == n)
				break;		/* soft line break */
			FUZZ_ASSERT(i + 2 < n);
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			FUZZ_ASSERT(hi >= 0 && lo >= 0);
			buf_addch(dec, hi * 16 + lo);
			i += 2;
		}
		if (n == 0 || s[n - 1] != '=') {
			/* RFC 2045 6.7(3): no trailing white space. */
			FUZZ_ASSERT(n == 0 || (s[n - 1] != ' ' &&
			    s[n - 1] != '\t'));
			buf_addch(dec, '\n');
		}
		s = eol + 2;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf	whole = BUF_INIT, pieces = BUF_INIT, dec = BUF_INIT;
	size_t		step;

	if (size > 256 * 1024)
		return 0;
	encode(data, size, size > 0 ? size : 1, &whole);
	/* The filter is streaming: how the input is cut must not matter. */
	step = size > 0 ? (size_t)data[0] % 7 + 1 : 1;
	encode(data, size, step, &pieces);
	same(&whole, &pieces);
	buf_reset(&pieces);
	encode(data, size, 1, &pieces);
	same(&whole, &pieces);

	decode_check(&whole, &dec);
	FUZZ_ASSERT(dec.len == size);
	FUZZ_ASSERT(size == 0 || memcmp(dec.data, data, size) == 0);

	buf_release(&whole);
	buf_release(&pieces);
	buf_release(&dec);
	return 0;
}
