/*
 * Routes by recipient (route.h).  Pure.
 */
#include "autoconfig.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "util.h"
#include "xmalloc.h"

int
route_valid_pattern(const char *p)
{
	const unsigned char *s = (const unsigned char *)p;

	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s == 0x7f || *s == '@')
			return 0;
	return 1;
}

void
route_table_add(struct route_table *t, const char *pattern,
    const char *account, const char *file, int line)
{
	struct route	*r;

	t->v = xreallocarray(t->v, t->n + 1, sizeof(*t->v));
	r = &t->v[t->n++];
	memset(r, 0, sizeof(*r));
	r->pattern = xstrdup(pattern);
	r->account = xstrdup(account);
	r->file = xstrdup(file != NULL ? file : "");
	r->line = line;
}

void
route_table_prepend(struct route_table *to, struct route_table *from)
{
	if (from->n == 0)
		return;
	to->v = xreallocarray(to->v, to->n + from->n, sizeof(*to->v));
	memmove(to->v + from->n, to->v, to->n * sizeof(*to->v));
	memcpy(to->v, from->v, from->n * sizeof(*to->v));
	to->n += from->n;
	free(from->v);
	from->v = NULL;
	from->n = 0;
}

void
route_table_release(struct route_table *t)
{
	size_t	i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		free(t->v[i].pattern);
		free(t->v[i].account);
		free(t->v[i].file);
	}
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

const struct route *
route_match(const struct route_table *t, const char *rcpt)
{
	const char	*at;
	size_t		 i;

	if (t == NULL || rcpt == NULL || (at = strrchr(rcpt, '@')) == NULL ||
	    at[1] == '\0')
		return NULL;
	for (i = 0; i < t->n; i++)
		if (fnmatch(t->v[i].pattern, at + 1, FNM_CASEFOLD) == 0)
			return &t->v[i];
	return NULL;
}

size_t
route_split(const struct route_table *t, const struct account *dflt,
    const struct strlist *rcpts, size_t *group, const struct account **acct)
{
	const struct route	*r;
	const struct account	*a;
	size_t			 i, g, ng = 0;

	for (i = 0; i < rcpts->n; i++) {
		r = route_match(t, rcpts->v[i]);
		a = r != NULL && r->acct != NULL ? r->acct : dflt;
		for (g = 0; g < ng; g++)
			if (acct[g] == a)
				break;
		if (g == ng)
			acct[ng++] = a;
		group[i] = g;
	}
	return ng;
}
