/*
 * Compose mode: turns the command line and a text into a MIME message whose
 * body is generated on demand, part by part, from the files themselves:
 * the header fields, the MIME tree and the generator.  A part's content
 * and encoding are mimepart.c's; libmagic's types are filetype.c's.
 */
#include "autoconfig.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "addr.h"
#include "error.h"
#include "filetype.h"
#include "hdrenc.h"
#include "log.h"
#include "message.h"
#include "mime.h"
#include "mime_int.h"
#include "rfc5322.h"
#include "util.h"
#include "xmalloc.h"

#define NAME_MAX_LEN	255		/* an attachment's file name */
#define MAX_FIELDS	64		/* top-level fields we generate */

/* The tree: a leaf (part) or a multipart with children. */
struct node {
	struct part	*part;
	const char	*subtype;	/* "mixed", "related"... */
	char		*boundary;
	struct node	*kid[2];	/* main part(s), see build() */
	struct node	**more;		/* more children */
	size_t		 nmore;
	struct buf	 hdr;		/* its Content-Type value */
};

/* The flattened body: literal text and part contents in order. */
struct seg {
	char		*lit;		/* owned, or NULL for a part */
	size_t		 len;
	struct part	*part;		/* borrowed from gen->parts */
};

struct gen {
	struct seg	*seg;
	size_t		 nseg;
	struct part	**parts;	/* owned */
	size_t		 nparts;
	long long	 total;		/* exact body size */

	size_t		 i;		/* current segment */
	size_t		 litpos;
	off_t		 rawpos;
	int		 started;
	struct enc	 e;
	struct buf	 out;
	size_t		 outpos;
	long long	 produced;
	char		*in;
};

/* Everything compose builds, for one cleanup. */
struct compose {
	char		 rnd[33];	/* boundaries: 128 random bits */
	int		 nbound;
	struct gen	*gen;
	struct strlist	 names;		/* top-level fields */
	struct strlist	 values;
	struct node	**nodes;	/* every node, for one free */
	size_t		 nnodes;
};

static void	add_hdr(struct buf *, const char *, const char *);
static int	check_value(const char *, const char *, struct error *);
static int	check_utf8(const char *, const char *, struct error *);
static char	*base_name(const char *);
static char	*content_id(const char *);
static struct node *leaf(struct compose *, struct part *);
static struct node *multi(struct compose *, const char *);
static void	node_add(struct node *, struct node *);
static void	node_free(struct node *);
static void	flatten(struct gen *, struct buf *, struct node *);
static long long gen_size(const struct gen *);
static ssize_t	gen_read(void *, void *, size_t, struct error *);
static int	gen_rewind(void *, struct error *);
static void	gen_free(void *);
static int	add_field(struct compose *, const char *, char *);
static int	add_addr_field(struct compose *, const char *,
		    const struct strlist *, const char *, struct error *);
static int	add_extra_header(struct compose *, const char *,
		    struct error *);
static void	compose_release(struct compose *);

static const struct message_body_ops gen_ops = {
	gen_read, gen_rewind, gen_free
};


/* Append "Name: value" with CRLF, folded near 78 octets. */
static void
add_hdr(struct buf *b, const char *name, const char *value)
{
	char		*f = hdrenc_fold(value, strlen(name));
	const char	*p;

	buf_addstr(b, name);
	buf_addstr(b, ": ");
	for (p = f; *p != '\0'; p++) {
		if (*p == '\n')
			buf_add(b, "\r\n", 2);
		else
			buf_addch(b, *p);
	}
	buf_add(b, "\r\n", 2);
	free(f);
}

/* RFC 5322 2.2: a value from the command line must not break the line. */
static int
check_value(const char *what, const char *v, struct error *err)
{
	if (v != NULL && mem_has_crlfnul(v, strlen(v)))
		return error_set(err, EX_DATAERR, "%s holds a line break "
		    "(CR or LF): refused, it would start a new header field",
		    what);
	return 0;
}

static int
check_utf8(const char *what, const char *v, struct error *err)
{
	if (check_value(what, v, err) == -1)
		return -1;
	if (v != NULL && !utf8_valid(v, strlen(v)))
		return error_set(err, EX_DATAERR, "%s is not valid UTF-8",
		    what);
	return 0;
}

static char *
base_name(const char *path)
{
	const char	*e = path + strlen(path), *s;

	while (e > path + 1 && e[-1] == '/')
		e--;
	for (s = e; s > path && s[-1] != '/'; s--)
		;
	return xstrndup(s, (size_t)(e - s));
}

/* Content-ID for an inline file: its name with characters outside
 * [A-Za-z0-9._+-] as '_' (RFC 2392: the HTML says cid:NAME). */
static char *
content_id(const char *name)
{
	char	*r = xstrdup(name), *p;

	for (p = r; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("._+-", *p) != NULL))
			*p = '_';
	return r;
}

int
mime_parse_file_arg(const char *arg, char **pathp, char **typep,
    char **namep, struct error *err)
{
	const char	*p, *t, *n, *next, *v;
	char		*path, *type = NULL, *name = NULL, **dst;

	t = strstr(arg, ";type=");
	n = strstr(arg, ";name=");
	p = t == NULL ? n : n == NULL ? t : t < n ? t : n;
	if (p == NULL)
		p = arg + strlen(arg);
	if (p == arg)
		return error_set(err, EX_USAGE, "no file name in '%s'", arg);
	path = xstrndup(arg, (size_t)(p - arg));
	while (*p != '\0') {
		/* p is at ";type=" or ";name=" */
		dst = p[1] == 't' ? &type : &name;
		v = p + 6;
		t = strstr(v, ";type=");
		n = strstr(v, ";name=");
		next = t == NULL ? n : n == NULL ? t : t < n ? t : n;
		if (next == NULL)
			next = v + strlen(v);
		free(*dst);
		*dst = xstrndup(v, (size_t)(next - v));
		if (**dst == '\0') {
			error_set(err, EX_USAGE, "empty %s in '%s'",
			    dst == &type ? "type" : "name", arg);
			free(path);
			free(type);
			free(name);
			return -1;
		}
		p = next;
	}
	*pathp = path;
	*typep = type;
	*namep = name;
	return 0;
}

/*
 * The tree and the generator
 */

static struct node *
node_new(struct compose *c)
{
	struct node	*n = xcalloc(1, sizeof(*n));

	c->nodes = xreallocarray(c->nodes, c->nnodes + 1, sizeof(*c->nodes));
	c->nodes[c->nnodes++] = n;
	return n;
}

static struct node *
leaf(struct compose *c, struct part *p)
{
	struct node	*n = node_new(c);

	n->part = p;
	return n;
}

/*
 * Boundaries are "=_" + 128 random bits + "_" + a level number: "=_" can
 * occur in neither base64 nor quoted-printable output ('=' is "=3D"), and
 * a 7bit part with a line starting "--=_" is sent as quoted-printable
 * (text_enc), so no content line can be a delimiter; part headers start
 * with a field name or white space.  Distinct numbers keep one boundary
 * from being a prefix of another (RFC 2046 5.1.1).
 */
static struct node *
multi(struct compose *c, const char *subtype)
{
	struct node	*n = node_new(c);
	char		*ct;

	n->subtype = subtype;
	n->boundary = xasprintf("=_%s_%d", c->rnd, ++c->nbound);
	ct = xasprintf("multipart/%s", subtype);
	buf_init(&n->hdr);
	buf_addstr(&n->hdr, ct);
	hdrenc_param(&n->hdr, "boundary", n->boundary, 1);
	free(ct);
	return n;
}

static void
node_add(struct node *parent, struct node *kid)
{
	if (parent->kid[0] == NULL)
		parent->kid[0] = kid;
	else if (parent->kid[1] == NULL)
		parent->kid[1] = kid;
	else {
		parent->more = xreallocarray(parent->more, parent->nmore + 1,
		    sizeof(*parent->more));
		parent->more[parent->nmore++] = kid;
	}
}

static size_t
node_nkids(const struct node *n)
{
	return (n->kid[0] != NULL) + (n->kid[1] != NULL) + n->nmore;
}

static struct node *
node_kid(const struct node *n, size_t i)
{
	return i < 2 ? n->kid[i] : n->more[i - 2];
}

/* Frees the node only: every node is listed in struct compose. */
static void
node_free(struct node *n)
{
	if (n == NULL)
		return;
	free(n->more);
	free(n->boundary);
	buf_release(&n->hdr);
	free(n);
}

static void
gen_lit(struct gen *g, struct buf *lit)
{
	if (lit->len == 0)
		return;
	g->seg = xreallocarray(g->seg, g->nseg + 1, sizeof(*g->seg));
	g->seg[g->nseg].len = lit->len;
	g->seg[g->nseg].lit = buf_detach(lit);
	g->seg[g->nseg].part = NULL;
	g->nseg++;
}

/*
 * The body of node n: a leaf's content, or "--B" CRLF headers CRLF body
 * for each child and the close delimiter "--B--" (no CRLF after it; the
 * parent's delimiter or the caller adds one).
 */
static void
flatten(struct gen *g, struct buf *lit, struct node *n)
{
	struct node	*k;
	size_t		 i, j;

	if (n->part != NULL) {
		gen_lit(g, lit);
		g->seg = xreallocarray(g->seg, g->nseg + 1, sizeof(*g->seg));
		g->seg[g->nseg].lit = NULL;
		g->seg[g->nseg].len = 0;
		g->seg[g->nseg].part = n->part;
		g->nseg++;
		return;
	}
	for (i = 0; i < node_nkids(n); i++) {
		k = node_kid(n, i);
		buf_printf(lit, "%s--%s\r\n", i == 0 ? "" : "\r\n",
		    n->boundary);
		if (k->part != NULL)
			for (j = 0; j < k->part->hname.n; j++)
				add_hdr(lit, k->part->hname.v[j],
				    k->part->hval.v[j]);
		else
			add_hdr(lit, "Content-Type", k->hdr.data);
		buf_add(lit, "\r\n", 2);
		flatten(g, lit, k);
	}
	buf_printf(lit, "\r\n--%s--", n->boundary);
}

static long long
gen_size(const struct gen *g)
{
	long long	n = 0;
	size_t		i;

	for (i = 0; i < g->nseg; i++)
		n += g->seg[i].part != NULL ? part_size(g->seg[i].part) :
		    (long long)g->seg[i].len;
	return n;
}

static ssize_t
gen_read(void *ctx, void *dst, size_t len, struct error *err)
{
	struct gen	*g = ctx;
	struct seg	*s;
	size_t		 done = 0, n;
	ssize_t		 got;

	while (done < len) {
		if (g->outpos < g->out.len) {
			n = g->out.len - g->outpos;
			if (n > len - done)
				n = len - done;
			memcpy((char *)dst + done, g->out.data + g->outpos, n);
			g->outpos += n;
			done += n;
			continue;
		}
		if (g->i == g->nseg)
			break;
		s = &g->seg[g->i];
		if (s->part == NULL) {
			n = s->len - g->litpos;
			if (n > len - done)
				n = len - done;
			memcpy((char *)dst + done, s->lit + g->litpos, n);
			g->litpos += n;
			done += n;
			if (g->litpos == s->len) {
				g->i++;
				g->litpos = 0;
			}
			continue;
		}
		buf_reset(&g->out);
		g->outpos = 0;
		if (!g->started) {
			enc_init(&g->e, s->part->enc);
			g->rawpos = 0;
			g->started = 1;
		}
		if (g->rawpos == s->part->len) {
			enc_finish(&g->e, s->part->final_crlf, &g->out);
			g->started = 0;
			g->i++;
			continue;
		}
		n = s->part->len - g->rawpos < CHUNK ?
		    (size_t)(s->part->len - g->rawpos) : CHUNK;
		got = pread(s->part->fd, g->in, n, s->part->start + g->rawpos);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1)
			return error_set_errno(err, EX_IOERR, "cannot read %s",
			    s->part->label);
		if (got == 0)
			return error_set(err, EX_IOERR, "%s shrank while it "
			    "was being sent", s->part->label);
		g->rawpos += got;
		enc_data(&g->e, g->in, (size_t)got, &g->out);
	}
	g->produced += (long long)done;
	/* The size was announced (SIZE=): a file that changed must not go. */
	if (g->produced > g->total || (done == 0 && g->produced != g->total))
		return error_set(err, EX_IOERR, "an attachment or the text "
		    "changed while the message was being sent");
	return (ssize_t)done;
}

static int
gen_rewind(void *ctx, struct error *err)
{
	struct gen	*g = ctx;

	(void)err;
	g->i = 0;
	g->litpos = 0;
	g->started = 0;
	g->produced = 0;
	buf_reset(&g->out);
	g->outpos = 0;
	return 0;
}

static void
gen_free(void *ctx)
{
	struct gen	*g = ctx;
	size_t		 i;

	if (g == NULL)
		return;
	for (i = 0; i < g->nseg; i++)
		free(g->seg[i].lit);
	free(g->seg);
	for (i = 0; i < g->nparts; i++)
		part_free(g->parts[i]);
	free(g->parts);
	buf_release(&g->out);
	free(g->in);
	free(g);
}

static void
gen_own(struct gen *g, struct part *p)
{
	g->parts = xreallocarray(g->parts, g->nparts + 1, sizeof(*g->parts));
	g->parts[g->nparts++] = p;
}

/*
 * Header fields
 */

/* Take a folded value (allocated) for a top-level field. */
static int
add_field(struct compose *c, const char *name, char *value)
{
	if (c->names.n >= MAX_FIELDS) {
		free(value);
		return -1;
	}
	strlist_add(&c->names, name);
	strlist_add_owned(&c->values, value);
	return 0;
}

/*
 * An address field from list items (each an address-list); bare local
 * names are qualified with qd.  Display names are re-encoded.
 */
static int
add_addr_field(struct compose *c, const char *name, const struct strlist *l,
    const char *qd, struct error *err)
{
	struct addr_list	 al = ADDR_LIST_INIT;
	struct strlist		 spec = STRLIST_INIT;
	const char		**disp = NULL;
	size_t			 i;
	int			 rv = -1;

	for (i = 0; i < l->n; i++) {
		if (check_utf8(name, l->v[i], err) == -1)
			goto out;
		if (addr_parse_list(l->v[i], &al, err) == -1) {
			error_prefix(err, "invalid %s address '%s'", name,
			    l->v[i]);
			goto out;
		}
	}
	if (al.n == 0) {
		rv = 0;
		goto out;
	}
	disp = xreallocarray(NULL, al.n, sizeof(*disp));
	for (i = 0; i < al.n; i++) {
		disp[i] = al.v[i].display;
		if (!al.v[i].has_domain && qd != NULL)
			strlist_add_owned(&spec, xasprintf("%s@%s",
			    al.v[i].spec, qd));
		else
			strlist_add(&spec, al.v[i].spec);
	}
	rv = add_field(c, name, hdrenc_mailboxes(disp,
	    (const char *const *)spec.v, al.n, strlen(name)));
	if (rv == -1)
		error_set(err, EX_USAGE, "too many header fields");
out:
	free(disp);
	strlist_release(&spec);
	addr_list_release(&al);
	return rv;
}

/* Fields compose writes itself, or that have their own option. */
static const char *const reserved[] = { "To", "Cc", "Bcc", "Subject",
    "Reply-To", "MIME-Version" };

static int
add_extra_header(struct compose *c, const char *h, struct error *err)
{
	const char	*colon = strchr(h, ':');
	char		*name, *copy, *value;
	struct strlist	 one = STRLIST_INIT;
	size_t		 i;
	int		 rv;

	if (check_value("--header value", h, err) == -1)
		return -1;
	if (colon == NULL || !rfc5322_valid_name(h, (size_t)(colon - h)))
		return error_set(err, EX_USAGE, "--header '%s': expected "
		    "'Name: value'", h);
	name = xstrndup(h, (size_t)(colon - h));
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcasecmp(name, reserved[i]) == 0 ||
		    str_has_prefix_nocase(name, "Content-")) {
			error_set(err, EX_USAGE, "--header cannot set '%s': "
			    "postie writes it (use -s, -c, -b, --reply-to, "
			    "-a or the recipients)", name);
			free(name);
			return -1;
		}
	copy = xstrdup(colon + 1);
	value = str_trim(copy);
	if (check_utf8("--header value", value, err) == -1) {
		free(name);
		free(copy);
		return -1;
	}
	if (strcasecmp(name, "From") == 0 || strcasecmp(name, "Sender") == 0) {
		strlist_add(&one, value);
		rv = add_addr_field(c, name, &one, NULL, err);
		strlist_release(&one);
	} else if (hdrenc_is_ascii(value))
		rv = add_field(c, name, hdrenc_fold(value, strlen(name)));
	else
		rv = add_field(c, name, hdrenc_unstructured(value,
		    strlen(name)));
	if (rv == -1 && err->code == EX_OK)
		error_set(err, EX_USAGE, "too many header fields");
	free(name);
	free(copy);
	return rv;
}

static void
compose_release(struct compose *c)
{
	gen_free(c->gen);
	c->gen = NULL;
	while (c->nnodes > 0)
		node_free(c->nodes[--c->nnodes]);
	free(c->nodes);
	c->nodes = NULL;
	strlist_release(&c->names);
	strlist_release(&c->values);
}

/* One file argument: -a or --inline. */
struct fileopt {
	char		*path;
	char		*type;
	char		*name;
	int		 fd;
	off_t		 len;
	struct filetype	 ft;	/* libmagic's, without type= */
};

static void
fileopts_free(struct fileopt *f, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(f[i].path);
		free(f[i].type);
		free(f[i].name);
		filetype_release(&f[i].ft, 1);
		if (f[i].fd != -1)
			close(f[i].fd);
	}
	free(f);
}

/*
 * libmagic's type for every -a and --inline file without type=, all at
 * once (filetype.h: in a child, so that libmagic is never mapped here).
 */
static void
type_files(struct fileopt *att, size_t na, struct fileopt *inl, size_t ni)
{
	struct filetype	*ft;
	int		*fds;
	size_t		 i, n = na + ni;

	if (n == 0)
		return;
	fds = xreallocarray(NULL, n, sizeof(*fds));
	ft = xreallocarray(NULL, n, sizeof(*ft));
	for (i = 0; i < n; i++) {
		const struct fileopt *f = i < ni ? &inl[i] : &att[i - ni];

		fds[i] = f->type == NULL ? f->fd : -1;
	}
	filetype_guess(fds, n, ft);
	for (i = 0; i < n; i++)
		(i < ni ? &inl[i] : &att[i - ni])->ft = ft[i];
	free(fds);
	free(ft);
}

/* Parse and check the arguments of -a or --inline (no I/O). */
static struct fileopt *
parse_files(const struct strlist *l, const char *what, struct error *err)
{
	struct fileopt	*f = xcalloc(l->n + 1, sizeof(*f));
	size_t		 i;
	char		*label;

	for (i = 0; i < l->n; i++)
		f[i].fd = -1;
	for (i = 0; i < l->n; i++) {
		label = xasprintf("%s argument", what);
		if (check_value(label, l->v[i], err) == -1) {
			free(label);
			goto fail;
		}
		free(label);
		if (mime_parse_file_arg(l->v[i], &f[i].path, &f[i].type,
		    &f[i].name, err) == -1)
			goto fail;
		if (f[i].name == NULL)
			f[i].name = base_name(f[i].path);
		if (check_utf8("the attachment name", f[i].name, err) == -1) {
			error_prefix(err, "%s '%s'", what, f[i].path);
			goto fail;
		}
		if (strlen(f[i].name) > NAME_MAX_LEN || *f[i].name == '\0') {
			error_set(err, EX_DATAERR, "%s '%s': the name must "
			    "have 1 to %d octets", what, f[i].path,
			    NAME_MAX_LEN);
			goto fail;
		}
	}
	return f;
fail:
	fileopts_free(f, l->n);
	return NULL;
}

static int
open_files(struct fileopt *f, size_t n, const char *what, struct error *err)
{
	struct stat	st;
	size_t		i;

	for (i = 0; i < n; i++) {
		if ((f[i].fd = open_input(what, f[i].path, &st, err)) == -1)
			return -1;
		f[i].len = st.st_size;
	}
	return 0;
}

/* The text: --body, or fd; spooled when it cannot be read twice. */
static struct part *
read_text(const struct compose_opts *o, int fd, struct error *err)
{
	struct stat	 st;
	const char	*cs = o->charset;
	off_t		 cur, len;
	int		 in = fd, sp;

	if (cs != NULL && is_utf8_name(cs))
		cs = NULL;	/* only checked, as without --charset */
	if (o->body_file != NULL &&
	    (in = open_input("body file", o->body_file, &st, err)) == -1)
		return NULL;
	if (cs == NULL && fstat(in, &st) == 0 && S_ISREG(st.st_mode) &&
	    (cur = lseek(in, 0, SEEK_CUR)) != -1) {
		/* A regular file can be read again by offset: no copy. */
		if (in == fd && (in = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
			error_set_errno(err, EX_OSERR, "dup");
			return NULL;
		}
		return part_new("the message text", in, cur,
		    st.st_size > cur ? st.st_size - cur : 0);
	}
	if ((sp = util_tmpfile(err)) == -1 ||
	    spool_copy(in, sp, cs, &len, err) == -1) {
		if (sp != -1)
			close(sp);
		if (in != fd)
			close(in);
		return NULL;
	}
	if (in != fd)
		close(in);
	return part_new("the message text", sp, 0, len);
}

/*
 * Compose
 */

struct message *
mime_compose(const struct compose_opts *o, struct message_opts *mo, int fd,
    struct strlist *rcpts, struct error *err)
{
	struct compose	 c;
	struct fileopt	*att = NULL, *inl = NULL;
	struct part	*text = NULL, *html = NULL, *p;
	struct node	*body = NULL, *n;
	struct gen	*g;
	struct buf	 lit = BUF_INIT;
	struct strlist	 one = STRLIST_INIT;
	struct message	*msg = NULL;
	struct stat	 st;
	unsigned char	 r[16];
	size_t		 i;
	char		*label, *cid;
	int		 hfd, rv;

	memset(&c, 0, sizeof(c));

	/* 1. Every value that becomes a header, before any I/O. */
	if (check_utf8("the subject", o->subject, err) == -1 ||
	    check_utf8("--reply-to", o->reply_to, err) == -1 ||
	    check_value("--charset", o->charset, err) == -1 ||
	    check_value("the sender", mo->sender, err) == -1)
		goto fail;
	for (i = 0; i < o->rcpts->n; i++)
		if (check_utf8("a recipient", o->rcpts->v[i], err) == -1)
			goto fail;
	for (i = 0; i < o->cc->n; i++)
		if (check_utf8("a Cc address", o->cc->v[i], err) == -1)
			goto fail;
	for (i = 0; i < o->bcc->n; i++)
		if (check_value("a Bcc address", o->bcc->v[i], err) == -1)
			goto fail;
	if (o->inlines->n > 0 && o->html == NULL) {
		error_set(err, EX_USAGE, "--inline needs --html (the HTML "
		    "shows the inline files as cid:NAME)");
		goto fail;
	}
	if ((att = parse_files(o->attach, "attachment", err)) == NULL ||
	    (inl = parse_files(o->inlines, "inline file", err)) == NULL)
		goto fail;

	if (mo->sender != NULL && strchr(mo->sender, '<') != NULL) {
		/* -r 'Name <addr>': mailx puts it in From as given */
		strlist_add(&one, mo->sender);
		if (add_addr_field(&c, "From", &one, mo->qualify_domain,
		    err) == -1)
			goto fail;
		strlist_release(&one);
	}
	if (add_addr_field(&c, "To", o->rcpts, mo->qualify_domain,
	    err) == -1 || add_addr_field(&c, "Cc", o->cc,
	    mo->qualify_domain, err) == -1)
		goto fail;
	if (o->reply_to != NULL) {
		strlist_add(&one, o->reply_to);
		if (add_addr_field(&c, "Reply-To", &one, mo->qualify_domain,
		    err) == -1)
			goto fail;
		strlist_release(&one);
	}
	if (o->subject != NULL)
		add_field(&c, "Subject", hdrenc_unstructured(o->subject,
		    strlen("Subject")));
	for (i = 0; i < o->headers->n; i++)
		if (add_extra_header(&c, o->headers->v[i], err) == -1)
			goto fail;

	/* 2. Open every file: a bad one stops us before stdin is read. */
	if (open_files(att, o->attach->n, "attachment", err) == -1 ||
	    open_files(inl, o->inlines->n, "inline file", err) == -1)
		goto fail;
	g = c.gen = xcalloc(1, sizeof(*g));
	g->in = xmalloc(CHUNK);
	if (o->html != NULL) {
		if ((hfd = open_input("HTML file", o->html, &st, err)) == -1)
			goto fail;
		label = xasprintf("HTML file '%s'", o->html);
		html = part_new(label, hfd, 0, st.st_size);
		free(label);
		gen_own(g, html);
	}

	/* 3. The text. */
	if ((text = read_text(o, fd, err)) == NULL)
		goto fail;
	gen_own(g, text);
	if (text->len == 0 && (o->html != NULL || o->attach->n > 0))
		/* nothing typed: the HTML or the attachments are the mail */
		text = NULL;
	else if (text_part(text, "plain", "the message text", err) == -1)
		goto fail;
	if (html != NULL && text_part(html, "html", html->label, err) == -1)
		goto fail;

	/* 4. The files' types, then the tree:
	 * mixed(alternative(text, related(html, inline)), att) */
	type_files(att, o->attach->n, inl, o->inlines->n);
	if (util_random(r, sizeof(r)) == -1) {
		error_set_errno(err, EX_OSERR, "cannot get random octets "
		    "for the MIME boundaries");
		goto fail;
	}
	for (i = 0; i < sizeof(r); i++)
		snprintf(c.rnd + 2 * i, 3, "%02x", r[i]);
	if (text != NULL)
		body = leaf(&c, text);
	if (html != NULL) {
		n = leaf(&c, html);
		if (o->inlines->n > 0) {
			struct node *rel = multi(&c, "related");

			node_add(rel, n);
			for (i = 0; i < o->inlines->n; i++) {
				label = xasprintf("inline file '%s'",
				    inl[i].path);
				p = part_new(label, inl[i].fd, 0, inl[i].len);
				free(label);
				inl[i].fd = -1;
				gen_own(g, p);
				cid = content_id(inl[i].name);
				rv = file_part(&inl[i].ft, p, inl[i].type,
				    inl[i].name, "inline", cid, err);
				free(cid);
				if (rv == -1)
					goto fail;
				node_add(rel, leaf(&c, p));
			}
			n = rel;
		}
		if (body != NULL) {
			struct node *alt = multi(&c, "alternative");

			node_add(alt, body);
			node_add(alt, n);
			body = alt;
		} else
			body = n;
	}
	if (o->attach->n > 0) {
		struct node *mix = multi(&c, "mixed");

		if (body != NULL)
			node_add(mix, body);
		for (i = 0; i < o->attach->n; i++) {
			label = xasprintf("attachment '%s'", att[i].path);
			p = part_new(label, att[i].fd, 0, att[i].len);
			free(label);
			att[i].fd = -1;
			gen_own(g, p);
			if (file_part(&att[i].ft, p, att[i].type, att[i].name,
			    "attachment", NULL, err) == -1)
				goto fail;
			node_add(mix, leaf(&c, p));
		}
		body = mix;
	}

	/* 5. Top-level MIME fields, the flat body and its exact size. */
	add_field(&c, "MIME-Version", xstrdup("1.0"));
	if (body->part != NULL) {
		/* one part: its Content-* fields are the message's */
		body->part->final_crlf = 1;
		for (i = 0; i < body->part->hname.n; i++)
			add_field(&c, body->part->hname.v[i],
			    hdrenc_fold(body->part->hval.v[i],
			    strlen(body->part->hname.v[i])));
		flatten(g, &lit, body);
	} else {
		add_field(&c, "Content-Type", hdrenc_fold(body->hdr.data,
		    strlen("Content-Type")));
		flatten(g, &lit, body);
		buf_add(&lit, "\r\n", 2);
	}
	gen_lit(g, &lit);
	g->total = gen_size(g);
	log_debug("composed body: %lld octets", g->total);

	/* 6. The envelope: operands, -c and -b/--bcc (never a header). */
	for (i = 0; i < o->rcpts->n; i++)
		strlist_add(rcpts, o->rcpts->v[i]);
	for (i = 0; i < o->cc->n; i++)
		strlist_add(rcpts, o->cc->v[i]);
	for (i = 0; i < o->bcc->n; i++)
		strlist_add(rcpts, o->bcc->v[i]);
	mo->rcpts = rcpts;

	msg = message_new_composed((const char *const *)c.names.v,
	    (const char *const *)c.values.v, c.names.n, &gen_ops, g,
	    (off_t)g->total);
	c.gen = NULL;	/* the message owns it now */
fail:
	strlist_release(&one);
	buf_release(&lit);
	if (att != NULL)
		fileopts_free(att, o->attach->n);
	if (inl != NULL)
		fileopts_free(inl, o->inlines->n);
	compose_release(&c);
	return msg;
}
