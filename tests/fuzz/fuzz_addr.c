/*
 * Fuzz target for the address parser (addr.c): the input is one header
 * value.  Checks the contract of addr.h on every input: spans inside the
 * value, has_domain agreeing with addr_has_domain(), a failed parse
 * leaving the list alone, qualification giving every mailbox a domain and
 * nothing else changed, and no envelope address that could be taken for
 * an option or carry a line break.
 */
#include "autoconfig.h"

#include <string.h>

#include "addr.h"
#include "error.h"
#include "util.h"
#include "xmalloc.h"
#include "fuzz.h"

#define DOMAIN		"example.org"
#define ADDR_MAX	65536	/* addr.c ADDR_MAX_LEN */

static void	check_envelope(const char *);
static void	check_list(const char *, const struct addr_list *, size_t);
static void	check_qualify(const char *, const struct addr_list *);
static void	check_reparse(const struct addr *);

/* A mailbox that reaches the SMTP envelope. */
static void
check_envelope(const char *s)
{
	struct error	err = ERROR_INIT;

	FUZZ_ASSERT(s[0] != '-');
	FUZZ_ASSERT(strpbrk(s, "\r\n") == NULL);
	FUZZ_ASSERT(addr_check_mailbox(s, 1, &err) == 0);
}

static void
check_list(const char *v, const struct addr_list *l, size_t from)
{
	size_t	len = strlen(v), k;

	for (k = from; k < l->n; k++) {
		const struct addr *a = &l->v[k];

		FUZZ_ASSERT(a->spec != NULL && a->spec[0] != '\0');
		FUZZ_ASSERT(a->start <= a->end && a->end <= len);
		FUZZ_ASSERT(a->has_domain == addr_has_domain(a->spec));
		FUZZ_ASSERT(strpbrk(a->spec, "\r\n") == NULL);
		FUZZ_ASSERT(a->display == NULL ||
		    strpbrk(a->display, "\r\n") == NULL);
		/* Spans come in value order and do not overlap. */
		if (k > from)
			FUZZ_ASSERT(l->v[k - 1].end <= a->start);
	}
}

/* An addr-spec as given out parses back to itself. */
static void
check_reparse(const struct addr *a)
{
	struct addr_list	l = ADDR_LIST_INIT;
	struct error		err = ERROR_INIT;

	if (addr_parse_list(a->spec, &l, &err) == -1) {
		fprintf(stderr, "spec '%s' does not parse: %s\n", a->spec,
		    err.msg);
		FUZZ_ASSERT(!"an addr-spec given out parses again");
	}
	FUZZ_ASSERT(l.n == 1);
	FUZZ_ASSERT(strcmp(l.v[0].spec, a->spec) == 0);
	FUZZ_ASSERT(l.v[0].has_domain == a->has_domain);
	addr_list_release(&l);
}

static void
check_qualify(const char *v, const struct addr_list *l)
{
	struct addr_list	 q = ADDR_LIST_INIT;
	struct error		 err = ERROR_INIT;
	char			*s, *want;
	size_t			 k;

	s = addr_qualify_list(v, DOMAIN, &err);
	FUZZ_ASSERT(s != NULL);
	if (strlen(s) > ADDR_MAX) {
		free(s);
		return;
	}
	if (addr_parse_list(s, &q, &err) == -1) {
		fprintf(stderr, "qualified '%s' does not parse: %s\n", s,
		    err.msg);
		FUZZ_ASSERT(!"a qualified list parses again");
	}
	FUZZ_ASSERT(q.n == l->n);
	for (k = 0; k < q.n; k++) {
		FUZZ_ASSERT(q.v[k].has_domain);
		if (l->v[k].has_domain)
			FUZZ_ASSERT(strcmp(q.v[k].spec, l->v[k].spec) == 0);
		else {
			want = xasprintf("%s@%s", l->v[k].spec, DOMAIN);
			FUZZ_ASSERT(strcmp(q.v[k].spec, want) == 0);
			free(want);
		}
	}
	addr_list_release(&q);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addr_list	 l = ADDR_LIST_INIT;
	struct strlist		 out = STRLIST_INIT;
	struct error		 err = ERROR_INIT;
	char			*v, *r;
	size_t			 k;

	if (size > 4 * ADDR_MAX)
		return 0;
	v = xstrndup((const char *)data, size);

	/* A list that already holds one mailbox must keep it on error. */
	FUZZ_ASSERT(addr_parse_list("keep@example.org", &l, &err) == 0);
	FUZZ_ASSERT(l.n == 1);
	if (addr_parse_list(v, &l, &err) == -1) {
		FUZZ_ASSERT(err.code == EX_DATAERR && err.msg != NULL);
		FUZZ_ASSERT(l.n == 1 &&
		    strcmp(l.v[0].spec, "keep@example.org") == 0);
		error_release(&err);
		FUZZ_ASSERT(addr_qualify_list(v, DOMAIN, &err) == NULL);
		error_release(&err);
	} else {
		check_list(v, &l, 1);
		for (k = 1; k < l.n; k++) {
			check_reparse(&l.v[k]);
			(void)addr_check_mailbox(l.v[k].spec, 0, &err);
			error_release(&err);
		}
		/* check_qualify wants the list of v alone. */
		free(l.v[0].spec);
		free(l.v[0].display);
		memmove(&l.v[0], &l.v[1], (l.n - 1) * sizeof(l.v[0]));
		l.n--;
		check_qualify(v, &l);
	}
	addr_list_release(&l);

	/* -f / -r */
	if ((r = addr_envelope_sender(v, &err)) != NULL) {
		if (r[0] != '\0')
			check_envelope(r);
		free(r);
	} else {
		FUZZ_ASSERT(err.code == EX_DATAERR || err.code == EX_USAGE);
		error_release(&err);
	}

	/* Recipient operands. */
	if (addr_split_arg(v, &out, &err) == 0) {
		FUZZ_ASSERT(out.n > 0);
		for (k = 0; k < out.n; k++)
			check_envelope(out.v[k]);
	} else {
		FUZZ_ASSERT(err.code == EX_DATAERR || err.code == EX_USAGE);
		FUZZ_ASSERT(out.n == 0);
		error_release(&err);
	}
	strlist_release(&out);

	(void)addr_domain(v);
	if (addr_check_mailbox(v, 1, &err) == 0)
		check_envelope(v);
	error_release(&err);
	free(v);
	return 0;
}
