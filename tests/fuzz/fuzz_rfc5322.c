/*
 * Fuzz target for the RFC 5322 header-block parser: the input is split
 * into lines as message.c does (LF, a CR before it dropped) and pushed
 * until the block ends.  Checks that no line is lost or invented and that
 * every field the parser gives out respects the caps and the grammar.
 */
#include "autoconfig.h"

#include <string.h>

#include "error.h"
#include "rfc5322.h"
#include "xmalloc.h"
#include "fuzz.h"

static size_t	count_nl(const char *);

static size_t
count_nl(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++)
		if (*s == '\n')
			n++;
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct header_list	 hl = HEADER_LIST_INIT;
	struct rfc5322		 p;
	struct error		 err = ERROR_INIT;
	const char		*s = (const char *)data, *end = s + size, *nl;
	size_t			 len, taken = 0, lines, i, total = 0;
	int			 st = RFC5322_MORE, failed = 0;
	char			*u;
	long			 k;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	rfc5322_init(&p, &hl);
	while (s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		len = (size_t)((nl != NULL ? nl : end) - s);
		if (len > 0 && s[len - 1] == '\r')
			len--;
		st = rfc5322_push(&p, s, len, &err);
		if (st == -1) {
			failed = 1;
			break;
		}
		if (st == RFC5322_BODY)
			break;
		taken++;		/* MORE, or END (the empty line) */
		if (st == RFC5322_END)
			break;
		s = nl != NULL ? nl + 1 : end;
	}
	if (!failed && rfc5322_finish(&p, &err) == -1)
		failed = 1;
	if (failed) {
		/* Errors are EX_DATAERR with a message, nothing else. */
		FUZZ_ASSERT(err.code == EX_DATAERR && err.msg != NULL);
		error_release(&err);
	} else {
		FUZZ_ASSERT(err.code == EX_OK && err.msg == NULL);
		/* Once ended, the parser takes no more lines. */
		FUZZ_ASSERT(rfc5322_push(&p, "X: y", 4, &err) ==
		    RFC5322_BODY);
		/*
		 * Every line taken is in exactly one field: a field is its
		 * first line plus one line per "\n" in raw; END's empty
		 * line is the only one not in a field.
		 */
		lines = 0;
		for (i = 0; i < hl.n; i++)
			lines += 1 + count_nl(hl.v[i].raw);
		FUZZ_ASSERT(lines + (st == RFC5322_END ? 1 : 0) == taken);
	}
	FUZZ_ASSERT(hl.n <= RFC5322_MAX_FIELDS);
	for (i = 0; i < hl.n; i++) {
		struct header *h = &hl.v[i];

		FUZZ_ASSERT(rfc5322_valid_name(h->name, strlen(h->name)));
		FUZZ_ASSERT(strlen(h->raw) <= RFC5322_MAX_FIELD);
		/* The unfolded value never holds a line break. */
		FUZZ_ASSERT(strpbrk(h->value, "\r\n") == NULL);
		FUZZ_ASSERT(strlen(h->value) <= strlen(h->raw));
		u = rfc5322_unfold(h->raw);
		FUZZ_ASSERT(strcmp(u, h->value) == 0);
		free(u);
		/* A name found must be found again at its first place. */
		k = header_list_find(&hl, h->name, 0);
		FUZZ_ASSERT(k >= 0 && (size_t)k <= i);
		total += strlen(h->name) + strlen(h->raw);
	}
	FUZZ_ASSERT(total <= RFC5322_MAX_HEADER);
	/* The list helpers on what was parsed. */
	if (hl.n > 0) {
		u = xstrdup(hl.v[hl.n - 1].value);
		header_list_set(&hl, 0, u);
		FUZZ_ASSERT(strcmp(hl.v[0].value, u) == 0);
		free(u);
		header_list_remove(&hl, hl.n / 2);
	}
	rfc5322_release(&p);
	header_list_release(&hl);
	return 0;
}
