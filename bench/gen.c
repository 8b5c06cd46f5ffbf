/*
 * bench/gen.c: fast generator of the benchmark's messages and attachments
 * (hundreds of MB/s, so that the 1 GB inputs need not be stored anywhere).
 *
 *   gen -m BYTES [-f lf|crlf|wire] [-S SEED]	a message: a header block
 *		and about BYTES of body in 76-octet lines; some lines start
 *		with "." (to check dot-stuffing) or "From " (mbox quoting).
 *		lf: Unix text, as sendmail-style tools read it; crlf: what
 *		curl -T expects; wire: CRLF and dot-stuffed, for the raw
 *		sendfile() client (the final "." is the client's).
 *   gen -b BYTES [-S SEED]	random binary bytes (an attachment)
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t state = 88172645463325252ULL;

static uint64_t
rnd(void)
{
	/* xorshift64: fast and deterministic for a given seed */
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

static void
out(const void *p, size_t n)
{
	if (fwrite(p, 1, n, stdout) != n) {
		perror("gen: write");
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	static const char alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static char obuf[1 << 20];
	const char *fmt = "lf";
	unsigned long long want = 0, done = 0, lineno = 0;
	int ch, binary = 0, crlf, wire;
	char line[128];
	size_t n, i, len;
	uint64_t r;

	while ((ch = getopt(argc, argv, "m:b:f:S:")) != -1) {
		switch (ch) {
		case 'm': want = strtoull(optarg, NULL, 10); break;
		case 'b': want = strtoull(optarg, NULL, 10); binary = 1; break;
		case 'f': fmt = optarg; break;
		case 'S': state ^= strtoull(optarg, NULL, 10) * 2654435761ULL;
			break;
		default:
			fprintf(stderr, "usage: gen -m BYTES [-f lf|crlf|wire] "
			    "[-S SEED] | gen -b BYTES [-S SEED]\n");
			return 2;
		}
	}
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	if (binary) {
		uint64_t blk[512];

		while (done < want) {
			for (i = 0; i < 512; i++)
				blk[i] = rnd();
			n = want - done < sizeof(blk) ? want - done : sizeof(blk);
			out(blk, n);
			done += n;
		}
		return fflush(stdout) == 0 ? 0 : 1;
	}
	wire = strcmp(fmt, "wire") == 0;
	crlf = wire || strcmp(fmt, "crlf") == 0;
	n = (size_t)snprintf(line, sizeof(line), "From: Bench <bench@example.org>%s"
	    "To: rcpt@example.com%sSubject: bench message%s%s",
	    crlf ? "\r\n" : "\n", crlf ? "\r\n" : "\n", crlf ? "\r\n" : "\n",
	    crlf ? "\r\n" : "\n");
	out(line, n);
	while (done < want) {
		lineno++;
		n = 0;
		if (lineno % 37 == 0) {
			if (wire)
				line[n++] = '.';
			line[n++] = '.';
		} else if (lineno % 53 == 0) {
			memcpy(line, "From ", 5);
			n = 5;
		}
		len = wire && lineno % 37 == 0 ? 77 : 76;
		while (n < len) {
			r = rnd();
			for (i = 0; i < 10 && n < len; i++, r >>= 6)
				line[n++] = alpha[r & 63];
		}
		if (crlf)
			line[n++] = '\r';
		line[n++] = '\n';
		out(line, n);
		/* The same lines whatever the form: count the LF form. */
		done += n - (size_t)crlf - (size_t)(wire && lineno % 37 == 0);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
