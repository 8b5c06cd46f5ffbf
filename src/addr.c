/*
 * Addresses: a parser for RFC 5322 address lists (3.4, with the obsolete
 * forms of 4.4) as found in To/Cc/Bcc/From, and the RFC 5321 4.1.2 checks
 * an envelope mailbox must pass before it reaches libcurl.  Hand-written:
 * none of our libraries parses addresses (libcurl only wraps them in <>).
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "error.h"
#include "util.h"
#include "xmalloc.h"

#define ADDR_MAX_LEN	65536	/* longest header value we parse */
#define ADDR_MAX_DEPTH	32	/* deepest comment nesting */
#define SHOW_MAX	100	/* bytes of a subject quoted in a message */
#define LOCAL_MAX	64	/* RFC 5321 4.5.3.1.1 */
#define DOMAIN_MAX	255	/* RFC 5321 4.5.3.1.2 */

/*
 * The lexer turns the value into tokens; CFWS (white space and comments)
 * is dropped and only remembered as "ws" on the token after it.
 */
enum tok_type {
	T_END,
	T_ATOM,
	T_QSTRING,
	T_DLITERAL,
	T_DOT,
	T_AT,
	T_COMMA,
	T_COLON,
	T_SEMI,
	T_LT,
	T_GT
};

struct tok {
	enum tok_type	 type;
	int		 ws;		/* CFWS between it and the previous */
	size_t		 start;		/* value[start..end) */
	size_t		 end;
};

struct parser {
	const char	*s;		/* borrowed */
	size_t		 len;
	struct tok	*t;
	size_t		 nt;
	size_t		 cap;
	size_t		 i;		/* current token */
	struct error	*err;		/* borrowed */
};

static int	 is_atext(unsigned char);
static int	 is_dot_string(const char *, size_t);
static char	*show(const char *, size_t);
static int	 fail(struct parser *, const char *, ...)
		    __attribute__((__format__(printf, 2, 3)));
static char	*tok_desc(const struct parser *, const struct tok *);
static void	 push(struct parser *, enum tok_type, int, size_t, size_t);
static int	 scan_comment(struct parser *, size_t *);
static int	 scan_quoted(struct parser *, size_t *);
static int	 scan_literal(struct parser *, size_t *);
static int	 lex(struct parser *);
static const struct tok *cur(const struct parser *);
static void	 add_word(const struct parser *, const struct tok *,
		    struct buf *);
static char	*phrase_text(const struct parser *, size_t, size_t);
static int	 parse_domain(struct parser *, struct buf *, size_t *);
static int	 parse_addr_spec(struct parser *, struct addr *);
static int	 skip_route(struct parser *);
static int	 parse_angle(struct parser *, size_t, size_t,
		    struct addr_list *);
static int	 parse_address(struct parser *, int, struct addr_list *,
		    int *);
static int	 parse_list(struct parser *, struct addr_list *);
static void	 list_push(struct addr_list *, struct addr *);
static int	 bad_mailbox(struct error *, int, const char *, const char *);
static int	 utf8_valid(const char *);
static const char *check_domain(const char *);
static const char *check_literal(const char *, size_t);

/* RFC 5322 3.2.3 atext, plus UTF8-non-ascii (RFC 6532 3.2). */
static int
is_atext(unsigned char c)
{
	if (c >= 0x80)
		return 1;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* 1 when s[0..n) is an RFC 5321 Dot-string (atoms joined by single dots). */
static int
is_dot_string(const char *s, size_t n)
{
	size_t	i;
	int	want_atext = 1;

	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (want_atext)
				return 0;
			want_atext = 1;
		} else if (is_atext((unsigned char)s[i]))
			want_atext = 0;
		else
			return 0;
	}
	return !want_atext;
}

/*
 * A subject safe to put in an error message: control characters escaped
 * so that an error line can never hold a raw CR or LF, and cut after
 * SHOW_MAX bytes.  Returns an allocated string.
 */
static char *
show(const char *s, size_t n)
{
	struct buf	 b = BUF_INIT;
	size_t		 i;
	unsigned char	 c;

	for (i = 0; i < n && b.len < SHOW_MAX; i++) {
		c = (unsigned char)s[i];
		if (c == '\r')
			buf_addstr(&b, "\\r");
		else if (c == '\n')
			buf_addstr(&b, "\\n");
		else if (c == '\t')
			buf_addstr(&b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			buf_printf(&b, "\\x%02x", c);
		else
			buf_addch(&b, c);
	}
	if (i < n)
		buf_addstr(&b, "...");
	return buf_detach(&b);
}

static int
fail(struct parser *p, const char *fmt, ...)
{
	va_list	 ap;
	char	*why, *v;

	va_start(ap, fmt);
	why = xvasprintf(fmt, ap);
	va_end(ap);
	v = show(p->s, p->len);
	error_set(p->err, EX_DATAERR, "malformed address list '%s': %s", v,
	    why);
	free(v);
	free(why);
	return -1;
}

/* How a token is named in an error message.  Returns an allocated string. */
static char *
tok_desc(const struct parser *p, const struct tok *t)
{
	char	*v, *d;

	switch (t->type) {
	case T_END:
		return xstrdup("end of list");
	case T_QSTRING:
		return xstrdup("quoted string");
	case T_DLITERAL:
		return xstrdup("domain literal");
	default:
		v = show(p->s + t->start, t->end - t->start);
		d = xasprintf("'%s'", v);
		free(v);
		return d;
	}
}

static void
push(struct parser *p, enum tok_type type, int ws, size_t start, size_t end)
{
	if (p->nt == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 32;
		p->t = xreallocarray(p->t, p->cap, sizeof(*p->t));
	}
	p->t[p->nt].type = type;
	p->t[p->nt].ws = ws;
	p->t[p->nt].start = start;
	p->t[p->nt].end = end;
	p->nt++;
}

/*
 * RFC 5322 3.2.2 comment: nested, with quoted-pairs.  Any other byte is
 * obs-ctext (4.1) and dropped with the comment.  *pos is on the '('.
 */
static int
scan_comment(struct parser *p, size_t *pos)
{
	size_t	k = *pos;
	int	depth = 0;
	char	c;

	while (k < p->len) {
		c = p->s[k];
		if (c == '\\') {
			/* quoted-pair: the next byte is not a paren */
			if (k + 1 >= p->len)
				break;
			if (p->s[k + 1] == '\r' || p->s[k + 1] == '\n')
				return fail(p, "CR or LF at offset %zu", k + 1);
			k += 2;
			continue;
		}
		if (c == '\r' || c == '\n')
			return fail(p, "CR or LF at offset %zu", k);
		if (c == '(') {
			if (++depth > ADDR_MAX_DEPTH)
				return fail(p, "comments nested deeper than "
				    "%d at offset %zu", ADDR_MAX_DEPTH, k);
		} else if (c == ')' && --depth == 0) {
			*pos = k + 1;
			return 0;
		}
		k++;
	}
	return fail(p, "unbalanced '(' at offset %zu (unterminated comment)",
	    *pos);
}

/* RFC 5322 3.2.4 quoted-string.  *pos is on the opening quote. */
static int
scan_quoted(struct parser *p, size_t *pos)
{
	size_t	k = *pos + 1;
	char	c;

	while (k < p->len) {
		c = p->s[k];
		if (c == '"') {
			*pos = k + 1;
			return 0;
		}
		if (c == '\\') {
			if (k + 1 >= p->len)
				break;
			k++;
			c = p->s[k];
		}
		if (c == '\r' || c == '\n')
			return fail(p, "CR or LF at offset %zu", k);
		k++;
	}
	return fail(p, "unbalanced '\"' at offset %zu (unterminated quoted "
	    "string)", *pos);
}

/* RFC 5322 3.4.1 domain-literal (with 4.4 obs-dtext).  *pos is on '['. */
static int
scan_literal(struct parser *p, size_t *pos)
{
	size_t	k = *pos + 1;
	char	c;

	while (k < p->len) {
		c = p->s[k];
		if (c == ']') {
			*pos = k + 1;
			return 0;
		}
		if (c == '[')
			return fail(p, "'[' inside a domain literal at offset "
			    "%zu", k);
		/*
		 * obs-dtext allows a quoted-pair, which no address literal
		 * (RFC 5321 4.1.3) can hold and which the spec could not keep
		 * faithfully: refused.
		 */
		if (c == '\\')
			return fail(p, "backslash inside a domain literal at "
			    "offset %zu", k);
		if (c == '\r' || c == '\n')
			return fail(p, "CR or LF at offset %zu", k);
		k++;
	}
	return fail(p, "unbalanced '[' at offset %zu (unterminated domain "
	    "literal)", *pos);
}

static int
lex(struct parser *p)
{
	size_t		 pos = 0, start;
	int		 ws = 0;
	enum tok_type	 type;
	unsigned char	 c;

	while (pos < p->len) {
		c = (unsigned char)p->s[pos];
		start = pos;
		switch (c) {
		case ' ':
		case '\t':
			ws = 1;
			pos++;
			continue;
		case '(':
			if (scan_comment(p, &pos) == -1)
				return -1;
			ws = 1;
			continue;
		case '"':
			if (scan_quoted(p, &pos) == -1)
				return -1;
			push(p, T_QSTRING, ws, start, pos);
			ws = 0;
			continue;
		case '[':
			if (scan_literal(p, &pos) == -1)
				return -1;
			push(p, T_DLITERAL, ws, start, pos);
			ws = 0;
			continue;
		case ')':
		case ']':
			return fail(p, "unbalanced '%c' at offset %zu", c, pos);
		case '\r':
		case '\n':
			/* The value must be unfolded: a line end is injection. */
			return fail(p, "CR or LF at offset %zu", pos);
		case '\\':
			return fail(p, "backslash outside a quoted string at "
			    "offset %zu", pos);
		case '.':
			type = T_DOT;
			break;
		case '@':
			type = T_AT;
			break;
		case ',':
			type = T_COMMA;
			break;
		case ':':
			type = T_COLON;
			break;
		case ';':
			type = T_SEMI;
			break;
		case '<':
			type = T_LT;
			break;
		case '>':
			type = T_GT;
			break;
		default:
			if (!is_atext(c))
				return fail(p, "invalid character 0x%02x at "
				    "offset %zu", c, pos);
			while (pos < p->len && is_atext((unsigned char)p->s[pos]))
				pos++;
			push(p, T_ATOM, ws, start, pos);
			ws = 0;
			continue;
		}
		push(p, type, ws, pos, pos + 1);
		pos++;
		ws = 0;
	}
	push(p, T_END, ws, pos, pos);
	return 0;
}

static const struct tok *
cur(const struct parser *p)
{
	return &p->t[p->i];
}

/* Append the semantic value of an atom or quoted string (3.2.4). */
static void
add_word(const struct parser *p, const struct tok *t, struct buf *b)
{
	size_t	k;

	if (t->type != T_QSTRING) {
		buf_add(b, p->s + t->start, t->end - t->start);
		return;
	}
	/* The lexer checked that every backslash has a byte after it. */
	for (k = t->start + 1; k < t->end - 1; k++) {
		if (p->s[k] == '\\')
			k++;
		buf_addch(b, p->s[k]);
	}
}

/*
 * A display name: words and dots (obs-phrase, 4.1) with one space where
 * the value had white space or a comment between them; quotes removed,
 * comments dropped, RFC 2047 words kept as they are.
 */
static char *
phrase_text(const struct parser *p, size_t from, size_t to)
{
	struct buf	b = BUF_INIT;
	size_t		k;

	for (k = from; k < to; k++) {
		if (k > from && p->t[k].ws)
			buf_addch(&b, ' ');
		add_word(p, &p->t[k], &b);
	}
	return buf_detach(&b);
}

/*
 * domain = dot-atom / domain-literal / obs-domain (CFWS between atoms).
 * Appends the domain without CFWS to b; *last is its last token.
 */
static int
parse_domain(struct parser *p, struct buf *b, size_t *last)
{
	const struct tok	*t = cur(p);
	size_t			 k;
	char			*d;

	if (t->type == T_DLITERAL) {
		for (k = t->start; k < t->end; k++)
			if (p->s[k] != ' ' && p->s[k] != '\t')
				buf_addch(b, p->s[k]);
		*last = p->i++;
		return 0;
	}
	for (;;) {
		t = cur(p);
		if (t->type != T_ATOM) {
			d = tok_desc(p, t);
			fail(p, "expected a domain at offset %zu, found %s",
			    t->start, d);
			free(d);
			return -1;
		}
		add_word(p, t, b);
		*last = p->i++;
		if (cur(p)->type != T_DOT)
			return 0;
		buf_addch(b, '.');
		p->i++;
	}
}

/*
 * addr-spec = local-part ["@" domain]; without the domain it is a bare
 * local name ("root"), which sendmail accepts and qualifies.  The
 * local-part is word *("." word) (obs-local-part, CFWS allowed between).
 */
static int
parse_addr_spec(struct parser *p, struct addr *a)
{
	struct buf		 local = BUF_INIT, spec = BUF_INIT;
	const struct tok	*t;
	size_t			 first = p->i, last = p->i, k;
	int			 want_word = 1;
	char			*d;

	for (t = cur(p); t->type == T_ATOM || t->type == T_QSTRING ||
	    t->type == T_DOT; t = cur(p)) {
		if ((t->type == T_DOT) == want_word) {
			d = tok_desc(p, t);
			fail(p, "unexpected %s at offset %zu%s", d, t->start,
			    want_word ? " in local part" :
			    " (a display name needs an <address>)");
			free(d);
			buf_release(&local);
			return -1;
		}
		if (t->type == T_DOT)
			buf_addch(&local, '.');
		else
			add_word(p, t, &local);
		want_word = t->type == T_DOT;
		last = p->i++;
	}
	if (first == p->i || want_word) {
		buf_release(&local);
		return fail(p, first == p->i ? "empty local part at offset %zu" :
		    "local part ends with '.' at offset %zu", cur(p)->start);
	}
	/* RFC 5321 4.1.2: quote the local part only when it needs it. */
	if (is_dot_string(buf_str(&local), local.len))
		buf_add(&spec, local.data, local.len);
	else {
		buf_addch(&spec, '"');
		for (k = 0; k < local.len; k++) {
			if (local.data[k] == '"' || local.data[k] == '\\')
				buf_addch(&spec, '\\');
			buf_addch(&spec, local.data[k]);
		}
		buf_addch(&spec, '"');
	}
	buf_release(&local);
	a->has_domain = 0;
	if (cur(p)->type == T_AT) {
		buf_addch(&spec, '@');
		p->i++;
		if (parse_domain(p, &spec, &last) == -1) {
			buf_release(&spec);
			return -1;
		}
		a->has_domain = 1;
	}
	a->spec = buf_detach(&spec);
	a->display = NULL;
	a->start = p->t[first].start;
	a->end = p->t[last].end;
	return 0;
}

/*
 * RFC 5322 4.4 obs-route: obs-domain-list ":" where obs-domain-list is
 * *(CFWS / ",") "@" domain *("," [CFWS] ["@" domain]).  Routes are
 * ignored (RFC 5321 C, 4.1.1.3), so the domains are discarded.
 */
static int
skip_route(struct parser *p)
{
	struct buf	scratch = BUF_INIT;
	size_t		last;

	while (cur(p)->type == T_COMMA)
		p->i++;
	if (cur(p)->type != T_AT)
		return fail(p, "malformed route at offset %zu", cur(p)->start);
	while (cur(p)->type == T_AT) {
		p->i++;
		if (parse_domain(p, &scratch, &last) == -1) {
			buf_release(&scratch);
			return -1;
		}
		while (cur(p)->type == T_COMMA)
			p->i++;
	}
	buf_release(&scratch);
	if (cur(p)->type != T_COLON)
		return fail(p, "malformed route: expected ':' at offset %zu",
		    cur(p)->start);
	p->i++;
	return 0;
}

/* name-addr = [display-name] angle-addr; the current token is '<'. */
static int
parse_angle(struct parser *p, size_t from, size_t to, struct addr_list *out)
{
	struct addr	 a;
	size_t		 lt = cur(p)->start;
	char		*d;

	p->i++;
	if (cur(p)->type == T_GT)
		return fail(p, "empty address '<>' at offset %zu", lt);
	if (cur(p)->type == T_AT || cur(p)->type == T_COMMA)
		if (skip_route(p) == -1)
			return -1;
	if (parse_addr_spec(p, &a) == -1)
		return -1;
	if (cur(p)->type != T_GT) {
		free(a.spec);
		if (cur(p)->type == T_END)
			return fail(p, "unbalanced '<' at offset %zu", lt);
		d = tok_desc(p, cur(p));
		fail(p, "unexpected %s at offset %zu (missing '>')", d,
		    cur(p)->start);
		free(d);
		return -1;
	}
	p->i++;
	if (from < to)
		a.display = phrase_text(p, from, to);
	list_push(out, &a);
	return 0;
}

/*
 * address = mailbox / group.  Reads the leading words, then decides on
 * what follows them: ':' starts a group, '<' an angle-addr, anything
 * else means the words were an addr-spec.
 */
static int
parse_address(struct parser *p, int in_group, struct addr_list *out,
    int *group)
{
	const struct tok	*t;
	struct addr		 a;
	size_t			 from = p->i, to;
	char			*d;

	*group = 0;
	for (t = cur(p); t->type == T_ATOM || t->type == T_QSTRING ||
	    t->type == T_DOT; t = cur(p))
		p->i++;
	to = p->i;
	switch (t->type) {
	case T_COLON:
		if (in_group)
			return fail(p, "group inside a group at offset %zu",
			    t->start);
		if (from == to)
			return fail(p, "missing group name at offset %zu",
			    t->start);
		p->i++;
		*group = 1;
		return 0;
	case T_LT:
		return parse_angle(p, from, to, out);
	case T_AT:
	case T_COMMA:
	case T_SEMI:
	case T_END:
		p->i = from;
		if (parse_addr_spec(p, &a) == -1)
			return -1;
		list_push(out, &a);
		return 0;
	case T_GT:
		return fail(p, "unbalanced '>' at offset %zu", t->start);
	default:
		d = tok_desc(p, t);
		fail(p, "unexpected %s at offset %zu", d, t->start);
		free(d);
		return -1;
	}
}

/*
 * address-list = (address *("," address)) / obs-addr-list, where the
 * obsolete form allows empty elements ("a@b,,c@d").  A group left open
 * at the end of the value is accepted as if it had its ';'.
 */
static int
parse_list(struct parser *p, struct addr_list *out)
{
	const struct tok	*t;
	int			 in_group = 0, group;
	char			*d;

	for (;;) {
		t = cur(p);
		switch (t->type) {
		case T_END:
			return 0;
		case T_COMMA:
			p->i++;
			continue;
		case T_SEMI:
			if (!in_group)
				return fail(p, "';' outside a group at offset "
				    "%zu", t->start);
			in_group = 0;
			p->i++;
			t = cur(p);
			if (t->type != T_COMMA && t->type != T_END) {
				d = tok_desc(p, t);
				fail(p, "unexpected %s after a group at offset "
				    "%zu", d, t->start);
				free(d);
				return -1;
			}
			continue;
		default:
			break;
		}
		if (parse_address(p, in_group, out, &group) == -1)
			return -1;
		if (group) {
			in_group = 1;
			continue;
		}
		t = cur(p);
		if (t->type == T_COMMA)
			p->i++;
		else if (t->type == T_END || (t->type == T_SEMI && in_group))
			continue;
		else if (t->type == T_GT)
			return fail(p, "unbalanced '>' at offset %zu", t->start);
		else if (t->type == T_SEMI)
			return fail(p, "';' outside a group at offset %zu",
			    t->start);
		else {
			d = tok_desc(p, t);
			fail(p, "unexpected %s after an address at offset %zu",
			    d, t->start);
			free(d);
			return -1;
		}
	}
}

static void
list_push(struct addr_list *l, struct addr *a)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n++] = *a;
}

int
addr_parse_list(const char *value, struct addr_list *out, struct error *err)
{
	struct parser	p;
	struct addr_list tmp = ADDR_LIST_INIT;
	size_t		k;
	int		rc;

	if (value == NULL)
		value = "";
	memset(&p, 0, sizeof(p));
	p.s = value;
	p.err = err;
	p.len = strnlen(value, ADDR_MAX_LEN + 1);
	if (p.len > ADDR_MAX_LEN)
		return fail(&p, "longer than %d bytes", ADDR_MAX_LEN);
	rc = lex(&p);
	if (rc == 0)
		rc = parse_list(&p, &tmp);
	free(p.t);
	if (rc == -1) {
		addr_list_release(&tmp);
		return -1;
	}
	/* Out parameters are written only on success. */
	for (k = 0; k < tmp.n; k++)
		list_push(out, &tmp.v[k]);
	free(tmp.v);
	return 0;
}

void
addr_list_release(struct addr_list *l)
{
	size_t	k;

	if (l == NULL)
		return;
	for (k = 0; k < l->n; k++) {
		free(l->v[k].spec);
		free(l->v[k].display);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

char *
addr_qualify_list(const char *value, const char *domain, struct error *err)
{
	struct addr_list	 l = ADDR_LIST_INIT;
	struct buf		 b = BUF_INIT;
	size_t			 k, pos = 0;

	if (domain == NULL || *domain == '\0') {
		error_set(err, EX_SOFTWARE, "cannot qualify addresses: no "
		    "domain");
		return NULL;
	}
	if (strpbrk(domain, "\r\n") != NULL) {
		error_set(err, EX_DATAERR, "cannot qualify addresses: CR or "
		    "LF in domain");
		return NULL;
	}
	if (addr_parse_list(value, &l, err) == -1)
		return NULL;
	/* Spans come in value order; copy around them, inserting "@domain". */
	for (k = 0; k < l.n; k++) {
		if (l.v[k].has_domain)
			continue;
		buf_add(&b, value + pos, l.v[k].end - pos);
		buf_addch(&b, '@');
		buf_addstr(&b, domain);
		pos = l.v[k].end;
	}
	buf_addstr(&b, value + pos);
	addr_list_release(&l);
	return buf_detach(&b);
}

static int
bad_mailbox(struct error *err, int code, const char *s, const char *why)
{
	char	*v = show(s, strlen(s));

	error_set(err, code, "invalid address '%s': %s", v, why);
	free(v);
	return -1;
}

/*
 * Well-formed UTF-8 (RFC 3629 4): no overlong forms, no surrogates,
 * nothing above U+10FFFF.
 */
static int
utf8_valid(const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;
	unsigned int		 cp, min;
	int			 n, k;

	while (*s != '\0') {
		if (*s < 0x80) {
			s++;
			continue;
		}
		if ((*s & 0xe0) == 0xc0) {
			n = 1;
			cp = *s & 0x1f;
			min = 0x80;
		} else if ((*s & 0xf0) == 0xe0) {
			n = 2;
			cp = *s & 0x0f;
			min = 0x800;
		} else if ((*s & 0xf8) == 0xf0) {
			n = 3;
			cp = *s & 0x07;
			min = 0x10000;
		} else
			return 0;
		for (k = 1; k <= n; k++) {
			/* A NUL here fails the test: no overread. */
			if ((s[k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		s += n + 1;
	}
	return 1;
}

/*
 * RFC 5321 4.1.3 address-literal between the brackets: IPv4, "IPv6:"
 * or a General-address-literal (tag ":" 1*dcontent).
 */
static const char *
check_literal(const char *d, size_t n)
{
	char	 tmp[DOMAIN_MAX + 1];
	size_t	 k, colon;
	struct in6_addr a6;
	struct in_addr	a4;

	if (n == 0)
		return "empty address literal";
	memcpy(tmp, d, n);
	tmp[n] = '\0';
	if (strspn(tmp, "0123456789.") == n)
		return inet_pton(AF_INET, tmp, &a4) == 1 ? NULL :
		    "invalid IPv4 address literal";
	if (strncasecmp(tmp, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, tmp + 5, &a6) == 1 ? NULL :
		    "invalid IPv6 address literal";
	colon = strcspn(tmp, ":");
	if (colon == 0 || colon >= n - 1)
		return "invalid address literal";
	/* Standardized-tag = Ldh-str */
	for (k = 0; k < colon; k++)
		if (!((tmp[k] >= 'a' && tmp[k] <= 'z') ||
		    (tmp[k] >= 'A' && tmp[k] <= 'Z') ||
		    (tmp[k] >= '0' && tmp[k] <= '9') || tmp[k] == '-'))
			return "invalid address literal tag";
	if (tmp[0] == '-' || tmp[colon - 1] == '-')
		return "invalid address literal tag";
	for (k = colon + 1; k < n; k++)
		if ((unsigned char)tmp[k] < 33 || (unsigned char)tmp[k] > 126 ||
		    tmp[k] == '[' || tmp[k] == ']' || tmp[k] == '\\')
			return "invalid character in address literal";
	return NULL;
}

/*
 * RFC 5321 4.1.2 Domain = sub-domain *("." sub-domain), sub-domain =
 * Let-dig [Ldh-str]; U-labels (non-ASCII) allowed for SMTPUTF8 (RFC 6531
 * 3.3).  Or an address-literal.  Returns NULL or the reason.
 */
static const char *
check_domain(const char *d)
{
	size_t		n = strlen(d), k;
	int		label = 0;
	unsigned char	c, prev = '.';

	if (n > DOMAIN_MAX)
		return "domain longer than 255 octets";
	if (d[0] == '[') {
		if (n < 2 || d[n - 1] != ']')
			return "unbalanced '[' in domain";
		return check_literal(d + 1, n - 2);
	}
	for (k = 0; k < n; k++) {
		c = (unsigned char)d[k];
		if (c == '.') {
			if (label == 0)
				return "empty label in domain";
			if (prev == '-')
				return "domain label ends with '-'";
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c >= 0x80)
			label++;
		else if (c == '-') {
			if (label == 0)
				return "domain label starts with '-'";
			label++;
		} else
			return "invalid character in domain";
		prev = c;
	}
	if (label == 0)
		return "empty label in domain";
	if (prev == '-')
		return "domain label ends with '-'";
	return NULL;
}

int
addr_check_mailbox(const char *s, int allow_bare, struct error *err)
{
	const unsigned char	*u;
	const char		*p, *at = NULL, *why;
	int			 quoted = 0, ats = 0;
	size_t			 llen;

	if (s == NULL || *s == '\0')
		return error_set(err, EX_DATAERR, "empty address");
	/* reliability.md "Option injection": never let it look like a flag. */
	if (*s == '-')
		return bad_mailbox(err, EX_USAGE, s, "starts with '-'");

	/* First what could smuggle SMTP commands or confuse the framing. */
	for (u = (const unsigned char *)s; *u != '\0'; u++) {
		if (*u == '\r' || *u == '\n')
			return bad_mailbox(err, EX_DATAERR, s,
			    "contains CR or LF");
		if (*u < 0x20 || *u == 0x7f)
			return bad_mailbox(err, EX_DATAERR, s,
			    "contains a control character");
	}
	if (!utf8_valid(s))
		return bad_mailbox(err, EX_DATAERR, s, "invalid UTF-8");
	for (p = s; *p != '\0'; p++) {
		if (quoted && *p == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p == '"')
			quoted = !quoted;
		else if (quoted)
			continue;
		else if (*p == ' ')
			return bad_mailbox(err, EX_DATAERR, s,
			    "contains a space");
		else if (*p == '<' || *p == '>')
			return bad_mailbox(err, EX_DATAERR, s,
			    "contains '<' or '>'");
		else if (*p == '@' && ats++ == 0)
			at = p;
	}
	if (quoted)
		return bad_mailbox(err, EX_DATAERR, s,
		    "unterminated quoted string");
	if (ats > 1)
		return bad_mailbox(err, EX_DATAERR, s, "more than one '@'");

	/* Local-part = Dot-string / Quoted-string */
	llen = at != NULL ? (size_t)(at - s) : strlen(s);
	if (llen == 0)
		return bad_mailbox(err, EX_DATAERR, s, "empty local part");
	if (s[0] == '"') {
		/* QcontentSMTP: the scan above found the closing quote. */
		for (p = s + 1; *p != '"'; p++)
			if (*p == '\\')
				p++;
		if (p == s + 1)
			return bad_mailbox(err, EX_DATAERR, s,
			    "empty local part");
		if ((size_t)(p + 1 - s) != llen)
			return bad_mailbox(err, EX_DATAERR, s,
			    "text after the quoted local part");
	} else if (!is_dot_string(s, llen))
		return bad_mailbox(err, EX_DATAERR, s, memchr(s, '"', llen) ?
		    "misplaced quote in local part" :
		    "invalid local part (RFC 5321 Dot-string)");
	if (llen > LOCAL_MAX)
		return bad_mailbox(err, EX_DATAERR, s,
		    "local part longer than 64 octets");

	if (at == NULL)
		return allow_bare ? 0 :
		    bad_mailbox(err, EX_DATAERR, s, "missing domain");
	if (at[1] == '\0')
		return bad_mailbox(err, EX_DATAERR, s, "empty domain");
	if ((why = check_domain(at + 1)) != NULL)
		return bad_mailbox(err, EX_DATAERR, s, why);
	return 0;
}

char *
addr_envelope_sender(const char *s, struct error *err)
{
	struct addr_list	 l = ADDR_LIST_INIT;
	const char		*p, *e;
	char			*v, *r;

	if (s == NULL)
		return xstrdup("");
	for (p = s; *p == ' ' || *p == '\t'; p++)
		;
	for (e = p + strlen(p); e > p && (e[-1] == ' ' || e[-1] == '\t'); e--)
		;
	/* RFC 5321 4.5.5: the null reverse-path. */
	if (e == p || (e - p == 2 && p[0] == '<' && p[1] == '>'))
		return xstrdup("");
	if (*p == '-') {
		bad_mailbox(err, EX_USAGE, s, "starts with '-'");
		return NULL;
	}
	if (addr_parse_list(s, &l, err) == -1)
		return NULL;
	if (l.n != 1) {
		v = show(s, strlen(s));
		error_set(err, EX_DATAERR, "invalid sender '%s': %s", v,
		    l.n == 0 ? "no address" : "more than one address");
		free(v);
		addr_list_release(&l);
		return NULL;
	}
	if (addr_check_mailbox(l.v[0].spec, 1, err) == -1) {
		addr_list_release(&l);
		return NULL;
	}
	r = l.v[0].spec;
	l.v[0].spec = NULL;
	addr_list_release(&l);
	return r;
}

int
addr_split_arg(const char *s, struct strlist *out, struct error *err)
{
	struct addr_list	 l = ADDR_LIST_INIT;
	const char		*p;
	char			*v;
	size_t			 k;

	if (s == NULL)
		s = "";
	for (p = s; *p == ' ' || *p == '\t'; p++)
		;
	if (*p == '-')
		return bad_mailbox(err, EX_USAGE, s, "starts with '-'");
	if (addr_parse_list(s, &l, err) == -1)
		return -1;
	if (l.n == 0) {
		v = show(s, strlen(s));
		error_set(err, EX_DATAERR, "invalid recipient '%s': no address",
		    v);
		free(v);
		return -1;
	}
	/* Check them all first: out is written only on success. */
	for (k = 0; k < l.n; k++)
		if (addr_check_mailbox(l.v[k].spec, 1, err) == -1) {
			addr_list_release(&l);
			return -1;
		}
	for (k = 0; k < l.n; k++) {
		strlist_add_owned(out, l.v[k].spec);
		l.v[k].spec = NULL;
	}
	addr_list_release(&l);
	return 0;
}

/*
 * Both scan for the last '@' outside a quoted string (backslash escapes
 * honoured inside quotes).  An '@' with nothing after it counts as no
 * domain, so addr_has_domain(s) == (addr_domain(s) != NULL).
 */
const char *
addr_domain(const char *s)
{
	const char	*p, *at = NULL;
	int		 quoted = 0;

	if (s == NULL)
		return NULL;
	for (p = s; *p != '\0'; p++) {
		if (quoted && *p == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == '@')
			at = p;
	}
	return at != NULL && at[1] != '\0' ? at + 1 : NULL;
}

int
addr_has_domain(const char *s)
{
	return addr_domain(s) != NULL;
}
