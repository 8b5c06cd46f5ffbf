/*
 * Shared by the fuzz targets and replay.c: the libFuzzer entry points and
 * an assertion that stays on in every build (the targets check invariants,
 * not just the absence of crashes).
 */
#ifndef POSTIE_FUZZ_H
#define POSTIE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

/* Inputs larger than this are skipped: every parser has a cap below it
 * (RFC5322_MAX_HEADER, 64 KiB address lists) and bigger ones only slow
 * the fuzzer down. */
#define FUZZ_MAX_INPUT	(2 * 1024 * 1024)

struct buf;

/* decode.c: the value of a base64 character (RFC 4648 4), or -1. */
int	fuzz_b64val(int);
/* decode.c: decode "=?UTF-8?B?...?=" strictly (canonical padding, no stray
 * characters) onto out; -1 when w is not such a word. */
int	fuzz_decode_word(const char *, size_t, struct buf *);

#define FUZZ_ASSERT(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

#endif
