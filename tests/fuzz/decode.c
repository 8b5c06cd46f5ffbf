/*
 * Decoders the encoder targets check their output with: strict, written
 * from the RFCs, independent of the code under test.
 */
#include "autoconfig.h"

#include <string.h>

#include "fuzz.h"
#include "util.h"

int
fuzz_b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
fuzz_decode_word(const char *w, size_t n, struct buf *out)
{
	const char	*t;
	size_t		 tn, i;
	int		 v[4], k, pad;

	if (n < 12 || strncmp(w, "=?UTF-8?B?", 10) != 0 ||
	    w[n - 2] != '?' || w[n - 1] != '=')
		return -1;
	t = w + 10;
	tn = n - 12;
	if (tn % 4 != 0)
		return -1;
	for (i = 0; i < tn; i += 4) {
		pad = 0;
		for (k = 0; k < 4; k++) {
			if (t[i + k] == '=' && i + 4 == tn && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad > 0 || (v[k] = fuzz_b64val(t[i + k])) < 0)
				return -1;
		}
		buf_addch(out, (v[0] << 2) | (v[1] >> 4));
		if (pad < 2)
			buf_addch(out, ((v[1] & 15) << 4) | (v[2] >> 2));
		if (pad < 1)
			buf_addch(out, ((v[2] & 3) << 6) | v[3]);
	}
	return 0;
}
