/*
 * Streaming RFC 5322 header-block parser: physical lines in, header fields
 * out.  Pure and bounded (see rfc5322.h).
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "rfc5322.h"
#include "util.h"
#include "xmalloc.h"

static int	flush(struct rfc5322 *, struct error *);
static void	rawadd(struct rfc5322 *, const char *, size_t);

void
rfc5322_init(struct rfc5322 *p, struct header_list *out)
{
	memset(p, 0, sizeof(*p));
	p->out = out;
}

static void
rawadd(struct rfc5322 *p, const char *s, size_t n)
{
	if (p->rawlen + n + 1 > p->rawcap) {
		while (p->rawlen + n + 1 > p->rawcap)
			p->rawcap = p->rawcap ? p->rawcap * 2 : 128;
		p->raw = xrealloc(p->raw, p->rawcap);
	}
	memcpy(p->raw + p->rawlen, s, n);
	p->rawlen += n;
	p->raw[p->rawlen] = '\0';
}

int
rfc5322_valid_name(const char *s, size_t n)
{
	size_t	i;

	if (n == 0)
		return 0;
	/* RFC 5322 2.2: printable US-ASCII except colon. */
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 33 || (unsigned char)s[i] > 126 ||
		    s[i] == ':')
			return 0;
	return 1;
}

static int
flush(struct rfc5322 *p, struct error *err)
{
	if (p->name == NULL)
		return 0;
	if (p->out->n >= RFC5322_MAX_FIELDS)
		return error_set(err, EX_DATAERR,
		    "message header has more than %d fields",
		    RFC5322_MAX_FIELDS);
	header_list_add(p->out, p->name, p->raw != NULL ? p->raw : "");
	free(p->name);
	p->name = NULL;
	p->rawlen = 0;
	if (p->raw != NULL)
		p->raw[0] = '\0';
	return 0;
}

int
rfc5322_push(struct rfc5322 *p, const char *line, size_t len,
    struct error *err)
{
	const char	*colon;
	size_t		 nlen;

	if (p->done)
		return RFC5322_BODY;
	if (len == 0) {
		if (flush(p, err) == -1)
			return -1;
		p->done = 1;
		return RFC5322_END;
	}
	p->total += len + 1;
	if (p->total > RFC5322_MAX_HEADER)
		return error_set(err, EX_DATAERR,
		    "message header block is larger than %d octets",
		    RFC5322_MAX_HEADER);
	if (memchr(line, '\0', len) != NULL)
		return error_set(err, EX_DATAERR,
		    "NUL byte in the message header");

	if (line[0] == ' ' || line[0] == '\t') {
		if (p->name == NULL) {
			/* A continuation with nothing to continue. */
			p->done = 1;
			return RFC5322_BODY;
		}
		if (p->rawlen + len + 1 > RFC5322_MAX_FIELD)
			return error_set(err, EX_DATAERR,
			    "header field '%s' is longer than %d octets",
			    p->name, RFC5322_MAX_FIELD);
		rawadd(p, "\n", 1);
		rawadd(p, line, len);
		return RFC5322_MORE;
	}

	colon = memchr(line, ':', len);
	nlen = colon != NULL ? (size_t)(colon - line) : 0;
	/* obs-optional allows WSP before the colon (RFC 5322 4.5.8). */
	while (nlen > 0 && (line[nlen - 1] == ' ' || line[nlen - 1] == '\t'))
		nlen--;
	if (colon == NULL || !rfc5322_valid_name(line, nlen)) {
		if (flush(p, err) == -1)
			return -1;
		p->done = 1;
		return RFC5322_BODY;
	}
	if (flush(p, err) == -1)
		return -1;
	if (len - (size_t)(colon + 1 - line) > RFC5322_MAX_FIELD)
		return error_set(err, EX_DATAERR,
		    "header field '%.*s' is longer than %d octets",
		    (int)(nlen > 64 ? 64 : nlen), line, RFC5322_MAX_FIELD);
	p->name = xstrndup(line, nlen);
	p->rawlen = 0;
	rawadd(p, colon + 1, len - (size_t)(colon + 1 - line));
	return RFC5322_MORE;
}

int
rfc5322_finish(struct rfc5322 *p, struct error *err)
{
	if (p->done)
		return 0;
	p->done = 1;
	return flush(p, err);
}

void
rfc5322_release(struct rfc5322 *p)
{
	free(p->name);
	free(p->raw);
	p->name = p->raw = NULL;
	p->rawlen = p->rawcap = 0;
}

char *
rfc5322_unfold(const char *raw)
{
	struct buf	 b = BUF_INIT;
	const char	*s;
	char		*out, *t;

	for (s = raw; *s != '\0'; s++) {
		if (*s == '\r' || *s == '\n')
			continue;
		buf_addch(&b, *s);
	}
	out = buf_detach(&b);
	t = str_trim(out);
	if (t != out)
		memmove(out, t, strlen(t) + 1);
	return out;
}

void
header_list_add(struct header_list *l, const char *name, const char *raw)
{
	struct header	*h;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	h = &l->v[l->n++];
	h->name = xstrdup(name);
	h->raw = xstrdup(raw);
	h->value = rfc5322_unfold(raw);
}

long
header_list_find(const struct header_list *l, const char *name, size_t from)
{
	size_t	i;

	for (i = from; i < l->n; i++)
		if (strcasecmp(l->v[i].name, name) == 0)
			return (long)i;
	return -1;
}

void
header_list_remove(struct header_list *l, size_t i)
{
	if (i >= l->n)
		return;
	free(l->v[i].name);
	free(l->v[i].raw);
	free(l->v[i].value);
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
	l->n--;
}

void
header_list_set(struct header_list *l, size_t i, const char *value)
{
	if (i >= l->n)
		return;
	free(l->v[i].raw);
	free(l->v[i].value);
	l->v[i].raw = xasprintf(" %s", value);
	l->v[i].value = rfc5322_unfold(value);
}

void
header_list_release(struct header_list *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].raw);
		free(l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}
