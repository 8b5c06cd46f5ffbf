/*
 * Round-trip fuzz target for RFC 2047 display names (hdrenc_phrase) and
 * the UTF-8 checks of hdrenc.c.  The phrase is decoded back as a mail
 * reader would (RFC 2047 6: encoded words decoded, the white space between
 * two of them dropped; RFC 5322 3.2.4: quoted-string unescaped) and must
 * equal the input; every encoded word is at most 75 octets and, for valid
 * UTF-8 input, never splits a character.  utf8_valid() and the streaming
 * check, cut anywhere, must agree with the reference validator below.
 */
#include "autoconfig.h"

#include <string.h>

#include "hdrenc.h"
#include "util.h"
#include "xmalloc.h"
#include "fuzz.h"

#define EW_MAX	75	/* RFC 2047 2 */

static int	ref_utf8(const unsigned char *, size_t);
static void	decode_phrase(const char *, struct buf *, int);

/* RFC 3629 4, written out as its ABNF table. */
static int
ref_utf8(const unsigned char *s, size_t n)
{
	size_t	i = 0;

	while (i < n) {
		unsigned char c = s[i];
		unsigned char lo = 0x80, hi = 0xBF;
		size_t k, len;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			len = 2;
		else if (c >= 0xE0 && c <= 0xEF)
			len = 3;
		else if (c >= 0xF0 && c <= 0xF4)
			len = 4;
		else
			return 0;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
		else if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
		if (i + len > n)
			return 0;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (k = 2; k < len; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xBF)
				return 0;
		i += len;
	}
	return 1;
}

/* Decode a phrase as a reader does; checks the encoded words' limits. */
static void
decode_phrase(const char *s, struct buf *out, int valid)
{
	struct buf	 w = BUF_INIT;
	const char	*p, *e;
	size_t		 n, ws;
	int		 prev_ew = 0;

	if (s[0] == '"') {
		/* RFC 5322 3.2.4 quoted-string, the whole phrase. */
		for (p = s + 1; *p != '"'; p++) {
			FUZZ_ASSERT(*p != '\0');
			if (*p == '\\') {
				p++;
				FUZZ_ASSERT(*p != '\0');
			}
			buf_addch(out, *p);
		}
		FUZZ_ASSERT(p[1] == '\0');
		return;
	}
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
			/* RFC 2047 5(3): a word holds whole characters. */
			if (valid)
				FUZZ_ASSERT(ref_utf8((unsigned char *)w.data,
				    w.len));
			/* RFC 2047 6.2: white space between words goes. */
			if (!prev_ew)
				buf_add(out, p, ws);
			if (w.len > 0)
				buf_add(out, w.data, w.len);
			prev_ew = 1;
		} else {
			buf_add(out, p, ws + n);
			prev_ew = 0;
		}
	}
	buf_release(&w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct utf8_check	 u;
	struct buf		 dec = BUF_INIT;
	char			*s, *enc;
	size_t			 n, cut;
	int			 ref;

	if (size > 64 * 1024)
		return 0;

	/* The UTF-8 checks, on all the bytes (NUL included). */
	ref = ref_utf8(data, size);
	FUZZ_ASSERT(utf8_valid((const char *)data, size) == ref);
	cut = size > 0 ? data[0] % (size + 1) : 0;
	utf8_check_init(&u);
	utf8_check_data(&u, data, cut);
	utf8_check_data(&u, data + cut, size - cut);
	FUZZ_ASSERT(utf8_check_ok(&u) == ref);

	/* The phrase, on the C string. */
	s = xstrndup((const char *)data, size);
	n = strlen(s);
	enc = hdrenc_phrase(s);
	/* A phrase is one line of a header: no line break, no NUL. */
	FUZZ_ASSERT(strpbrk(enc, "\r\n") == NULL);
	if (!hdrenc_is_ascii(s)) {
		/* Non-ASCII goes out as encoded words, 7-bit only. */
		const unsigned char *q;

		for (q = (const unsigned char *)enc; *q != '\0'; q++)
			FUZZ_ASSERT(*q >= 32 && *q <= 126);
	}
	/*
	 * A plain-ASCII name that already holds "=?" is passed through as
	 * is on purpose (pre-encoded display names): no round trip then.
	 */
	if (!(hdrenc_is_ascii(s) && strstr(s, "=?") != NULL)) {
		decode_phrase(enc, &dec, ref_utf8((unsigned char *)s, n));
		if (dec.len != n || (n > 0 && memcmp(dec.data, s, n) != 0)) {
			fprintf(stderr, "phrase '%s' decodes to '%s'\n", enc,
			    buf_str(&dec));
			FUZZ_ASSERT(!"hdrenc_phrase decodes back to its input");
		}
	}
	buf_release(&dec);
	free(enc);
	free(s);
	return 0;
}
