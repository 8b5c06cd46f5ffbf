/*
 * Round-trip fuzz target for the streaming base64 encoder (hdrenc.c): the
 * input is encoded at once and in small pieces (same bytes), its size is
 * b64_enc_size(), every line but the last holds exactly 76 characters
 * (RFC 2045 6.8) and is followed by CRLF, the last has no CRLF, and the
 * strict decoder below gives the input back.
 */
#include "autoconfig.h"

#include <string.h>

#include "hdrenc.h"
#include "util.h"
#include "fuzz.h"

#define B64_LINE	76

static void	encode(const uint8_t *, size_t, size_t, struct buf *);

static void
encode(const uint8_t *data, size_t size, size_t step, struct buf *out)
{
	struct b64_enc	e;
	size_t		k;

	b64_enc_init(&e);
	for (k = 0; k < size; k += step)
		b64_enc_data(&e, data + k, size - k < step ? size - k : step,
		    out);
	b64_enc_finish(&e, out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf	 a = BUF_INIT, b = BUF_INIT, chars = BUF_INIT;
	struct buf	 dec = BUF_INIT;
	const char	*s, *end;
	size_t		 col = 0, i, pad = 0;
	int		 v[4], k;

	if (size > 256 * 1024)
		return 0;
	encode(data, size, size > 0 ? size : 1, &a);
	encode(data, size, size > 0 ? (size_t)data[0] % 5 + 1 : 1, &b);
	FUZZ_ASSERT(a.len == b.len &&
	    (a.len == 0 || memcmp(a.data, b.data, a.len) == 0));
	FUZZ_ASSERT((long long)a.len == b64_enc_size((long long)size));

	/* Line structure. */
	end = a.len > 0 ? a.data + a.len : NULL;
	for (s = a.data; s != NULL && s < end; s++) {
		if (*s == '\r') {
			FUZZ_ASSERT(s + 2 < end && s[1] == '\n');
			FUZZ_ASSERT(col == B64_LINE);
			col = 0;
			s++;
			continue;
		}
		FUZZ_ASSERT(*s != '\n');
		buf_addch(&chars, *s);
		col++;
	}
	FUZZ_ASSERT(col <= B64_LINE);

	/* Decode, padding only at the end. */
	FUZZ_ASSERT(chars.len % 4 == 0);
	for (i = 0; i < chars.len; i += 4) {
		for (k = 0; k < 4; k++) {
			if (chars.data[i + k] == '=' && i + 4 == chars.len &&
			    k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			FUZZ_ASSERT(pad == 0);
			v[k] = fuzz_b64val(chars.data[i + k]);
			FUZZ_ASSERT(v[k] >= 0);
		}
		buf_addch(&dec, (v[0] << 2) | (v[1] >> 4));
		if (pad < 2)
			buf_addch(&dec, ((v[1] & 15) << 4) | (v[2] >> 2));
		if (pad < 1)
			buf_addch(&dec, ((v[2] & 3) << 6) | v[3]);
	}
	FUZZ_ASSERT(dec.len == size);
	FUZZ_ASSERT(size == 0 || memcmp(dec.data, data, size) == 0);

	buf_release(&a);
	buf_release(&b);
	buf_release(&chars);
	buf_release(&dec);
	return 0;
}
