/*
 * The aliases file (aliases.h): parsed once into an array sorted by name,
 * looked up by binary search.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "aliases.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

struct alias {
	char		*name;
	int		 line;		/* where the entry starts */
	struct strlist	 targets;
};

struct aliases {
	struct alias	*v;		/* sorted by name once parsed */
	size_t		 n;
	size_t		 cap;
	const struct alias *def;	/* the "default" entry, or NULL */
};

static int
entry_cmp(const void *a, const void *b)
{
	const struct alias	*x = a, *y = b;
	int			 c = strcasecmp(x->name, y->name);

	if (c != 0)
		return c;
	return (x->line > y->line) - (x->line < y->line);
}

static int
key_cmp(const void *k, const void *e)
{
	return strcasecmp(k, ((const struct alias *)e)->name);
}

/* The entries are sorted by name once parsed: a binary search. */
static struct alias *
alias_find(const struct aliases *al, const char *name)
{
	return al->n == 0 ? NULL :
	    bsearch(name, al->v, al->n, sizeof(*al->v), key_cmp);
}

/*
 * Sort the entries by name (then line) and keep the first of each name,
 * as msmtp's linear search did: O(n log n) for the whole file, where a
 * duplicate check per entry was quadratic.
 */
static void
sort_unique(struct aliases *al, const char *name)
{
	size_t	i, o = 0;

	if (al->n > 1)
		qsort(al->v, al->n, sizeof(*al->v), entry_cmp);
	for (i = 0; i < al->n; i++) {
		if (o > 0 && strcasecmp(al->v[o - 1].name, al->v[i].name) ==
		    0) {
			log_warnx("%s:%d: duplicate alias '%s' ignored", name,
			    al->v[i].line, al->v[i].name);
			free(al->v[i].name);
			strlist_release(&al->v[i].targets);
			continue;
		}
		al->v[o++] = al->v[i];
	}
	al->n = o;
}

/*
 * "name: target, target" with continuation lines starting with a blank
 * (as /etc/aliases, aliases(5)); '#' starts a comment line.  The first
 * entry for a name wins, as msmtp's linear search.
 */
struct aliases *
aliases_parse(const char *text, size_t len, const char *name,
    struct error *err)
{
	struct aliases	*al;
	struct alias	*e;
	struct buf	 entry = BUF_INIT;
	const char	*s = text, *end = text + len, *nl;
	char		*line, *colon, *nm, *t, *save = NULL;
	size_t		 n;
	int		 lineno = 0, start = 0, more;

	al = xcalloc(1, sizeof(*al));
	do {
		more = s < end;
		if (more) {
			lineno++;
			nl = memchr(s, '\n', (size_t)(end - s));
			n = (nl != NULL ? nl : end) - s;
			if (memchr(s, '\0', n) != NULL) {
				error_set(err, EX_CONFIG, "%s:%d: NUL byte in "
				    "line", name, lineno);
				goto fail;
			}
			line = xstrndup(s, n);
			line[strcspn(line, "\r")] = '\0';
			s = nl != NULL ? nl + 1 : end;
			t = str_trim(line);
			if (*t == '\0' || *t == '#') {
				free(line);
				continue;
			}
			if ((line[0] == ' ' || line[0] == '\t')) {
				if (entry.len == 0) {
					error_set(err, EX_CONFIG, "%s:%d: "
					    "continuation line without an "
					    "entry", name, lineno);
					free(line);
					goto fail;
				}
				buf_addch(&entry, ',');
				buf_addstr(&entry, t);
				free(line);
				continue;
			}
		} else
			line = NULL;

		/* A new entry starts (or the text ended): finish the last. */
		if (entry.len > 0) {
			if ((colon = strchr(entry.data, ':')) != NULL)
				*colon = '\0';
			nm = str_trim(entry.data);
			if (colon == NULL || *nm == '\0' ||
			    strpbrk(nm, " \t") != NULL) {
				error_set(err, EX_CONFIG, "%s:%d: expected "
				    "'name: address, ...'", name, start);
				free(line);
				goto fail;
			}
			{
				if (al->n == al->cap) {
					al->cap = al->cap ? al->cap * 2 : 16;
					al->v = xreallocarray(al->v, al->cap,
					    sizeof(*al->v));
				}
				e = &al->v[al->n];
				memset(e, 0, sizeof(*e));
				e->name = xstrdup(nm);
				e->line = start;
				for (t = strtok_r(colon + 1, ",", &save);
				    t != NULL; t = strtok_r(NULL, ",", &save))
					if (*(t = str_trim(t)) != '\0')
						strlist_add(&e->targets, t);
				if (e->targets.n == 0) {
					error_set(err, EX_CONFIG, "%s:%d: "
					    "alias '%s' has no address", name,
					    start, e->name);
					free(e->name);
					free(line);
					goto fail;
				}
				al->n++;
			}
			buf_reset(&entry);
		}
		if (line != NULL) {
			start = lineno;
			buf_addstr(&entry, str_trim(line));
			free(line);
		}
	} while (more);
	buf_release(&entry);
	sort_unique(al, name);
	al->def = alias_find(al, "default");
	return al;
fail:
	buf_release(&entry);
	aliases_free(al);
	return NULL;
}

struct aliases *
aliases_load(const char *path, struct error *err)
{
	struct aliases	*al;
	char		*text;
	size_t		 len;

	if (config_read_file(path, "aliases file", &text, &len, err) == -1)
		return NULL;
	al = aliases_parse(text, len, path, err);
	free(text);
	return al;
}

void
aliases_expand(const struct aliases *al, const char *name,
    struct strlist *out)
{
	const struct alias	*e = NULL;
	size_t			 i;

	if (al != NULL && strchr(name, '@') == NULL &&
	    (e = alias_find(al, name)) == NULL)
		e = al->def;
	if (e == NULL) {
		strlist_add(out, name);
		return;
	}
	for (i = 0; i < e->targets.n; i++)
		strlist_add(out, e->targets.v[i]);
}

void
aliases_free(struct aliases *al)
{
	size_t	i;

	if (al == NULL)
		return;
	for (i = 0; i < al->n; i++) {
		free(al->v[i].name);
		strlist_release(&al->v[i].targets);
	}
	free(al->v);
	free(al);
}
