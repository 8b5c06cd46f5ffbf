/*
 * Small shared helpers: see util.h.
 */
#include "autoconfig.h"

#include <sys/random.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "util.h"
#include "xmalloc.h"

void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_grow(struct buf *b, size_t n)
{
	size_t	need = b->len + n + 1;

	if (need <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 64;
	while (b->cap < need)
		b->cap *= 2;
	b->data = xrealloc(b->data, b->cap);
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_addstr(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addch(struct buf *b, int c)
{
	char	ch = (char)c;

	buf_add(b, &ch, 1);
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
buf_release(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

char *
buf_detach(struct buf *b)
{
	char	*p = b->data;

	if (p == NULL)
		p = xstrdup("");
	buf_init(b);
	return p;
}

const char *
buf_str(const struct buf *b)
{
	return b->data != NULL ? b->data : "";
}

void
strlist_add_owned(struct strlist *l, char *s)
{
	if (l->n + 2 > l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n++] = s;
	l->v[l->n] = NULL;
}

void
strlist_add(struct strlist *l, const char *s)
{
	strlist_add_owned(l, xstrdup(s));
}

int
strlist_contains(const struct strlist *l, const char *s)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

int
strlist_contains_nocase(const struct strlist *l, const char *s)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

void
strlist_release(struct strlist *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* FNV-1a: short strings, no adversary worth a keyed hash here. */
static size_t
strhash(const char *s)
{
	size_t	h = (size_t)14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * (size_t)1099511628211ULL;
	return h;
}

int
strset_has(const struct strset *set, const char *s)
{
	size_t	i;

	if (set->cap == 0)
		return 0;
	for (i = strhash(s) & (set->cap - 1); set->slot[i] != NULL;
	    i = (i + 1) & (set->cap - 1))
		if (strcmp(set->slot[i], s) == 0)
			return 1;
	return 0;
}

void
strset_add(struct strset *set, const char *s)
{
	const char	**old = set->slot;
	size_t		  oldcap = set->cap, i, j;

	if (strset_has(set, s))
		return;
	if (2 * (set->n + 1) > set->cap) {
		/* Keep the load under one half. */
		set->cap = set->cap ? set->cap * 2 : 16;
		set->slot = xcalloc(set->cap, sizeof(*set->slot));
		for (j = 0; j < oldcap; j++) {
			if (old[j] == NULL)
				continue;
			for (i = strhash(old[j]) & (set->cap - 1);
			    set->slot[i] != NULL; i = (i + 1) & (set->cap - 1))
				;
			set->slot[i] = old[j];
		}
		free(old);
	}
	for (i = strhash(s) & (set->cap - 1); set->slot[i] != NULL;
	    i = (i + 1) & (set->cap - 1))
		;
	set->slot[i] = s;
	set->n++;
}

void
strset_release(struct strset *set)
{
	free(set->slot);
	set->slot = NULL;
	set->cap = set->n = 0;
}

char *
str_trim(char *s)
{
	char	*e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

int
str_has_prefix_nocase(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

int
mem_has_crlfnul(const char *p, size_t n)
{
	return memchr(p, '\r', n) != NULL || memchr(p, '\n', n) != NULL ||
	    memchr(p, '\0', n) != NULL;
}

int
str_has_crlf(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

/* Length of the well-formed UTF-8 sequence at p (n > 0 bytes), or 0. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t	len, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	/* RFC 3629 4: no overlong forms, surrogates or code points past
	 * U+10FFFF. */
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
		return 0;
	return len;
}

void
buf_add_escaped(struct buf *b, const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, k, len;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	for (i = 0; i < n; i += len) {
		len = utf8_len(p + i, n - i);
		if (len == 0 || (p[i] < 0x20 && p[i] != '\t') ||
		    p[i] == 0x7f || (p[i] == 0xc2 && p[i + 1] < 0xa0)) {
			/* a C1 control is escaped byte by byte */
			if (len == 0)
				len = 1;
			for (k = 0; k < len; k++)
				buf_printf(b, "\\x%02x", p[i + k]);
			continue;
		}
		buf_add(b, p + i, len);
	}
}

char *
util_fqdn(void)
{
	char		 host[256];
	struct addrinfo	 hints, *res = NULL;
	char		*name;

	if (gethostname(host, sizeof(host)) == -1 || host[0] == '\0')
		return xstrdup("localhost");
	host[sizeof(host) - 1] = '\0';
	if (strchr(host, '.') != NULL)
		return xstrdup(host);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_flags = AI_CANONNAME;
	if (getaddrinfo(host, NULL, &hints, &res) == 0 && res != NULL &&
	    res->ai_canonname != NULL && strchr(res->ai_canonname, '.') != NULL)
		name = xstrdup(res->ai_canonname);
	else
		name = xstrdup(host);
	if (res != NULL)
		freeaddrinfo(res);
	return name;
}

/* An address as an RFC 5321 address literal. */
static char *
addr_literal(const struct sockaddr *sa)
{
	char	b[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET && inet_ntop(AF_INET,
	    &((const struct sockaddr_in *)(const void *)sa)->sin_addr, b,
	    sizeof(b)) != NULL)
		return xasprintf("[%s]", b);
	if (sa->sa_family == AF_INET6 && inet_ntop(AF_INET6,
	    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, b,
	    sizeof(b)) != NULL) {
		if (strncmp(b, "::ffff:", 7) == 0 && strchr(b + 7, '.') != NULL)
			return xasprintf("[%s]", b + 7);
		return xasprintf("[IPv6:%s]", b);
	}
	return NULL;
}

char *
util_ehlo_name(const char *host, int port, const char *source_ip)
{
	struct addrinfo		 hints, *res = NULL;
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	char			*name, service[16];
	int			 fd;

	name = util_fqdn();
	if (strchr(name, '.') != NULL && strcmp(name, "localhost") != 0 &&
	    strncmp(name, "localhost.", 10) != 0)
		return name;
	free(name);
	name = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST;
	if (source_ip != NULL &&
	    getaddrinfo(source_ip, NULL, &hints, &res) == 0 && res != NULL) {
		name = addr_literal(res->ai_addr);
		freeaddrinfo(res);
		if (name != NULL)
			return name;
	}
	/* The address a datagram to the relay would leave from: connect()
	 * on a UDP socket sends nothing. */
	snprintf(service, sizeof(service), "%d", port > 0 ? port : 25);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	res = NULL;
	if (host != NULL && getaddrinfo(host, service, &hints, &res) == 0 &&
	    res != NULL) {
		if ((fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC,
		    0)) != -1) {
			if (connect(fd, res->ai_addr, res->ai_addrlen) == 0 &&
			    getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
				name = addr_literal((struct sockaddr *)&ss);
			close(fd);
		}
		freeaddrinfo(res);
	}
	return name != NULL ? name : xstrdup("[127.0.0.1]");
}

char *
util_first_line(const char *path)
{
	FILE	*f;
	char	 line[512], *s;

	if ((f = fopen(path, "re")) == NULL)
		return NULL;
	if (fgets(line, sizeof(line), f) == NULL) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	s = str_trim(line);
	return *s != '\0' ? xstrdup(s) : NULL;
}

int
util_tmpfile(struct error *err)
{
	return util_tmpfile_in(NULL, err);
}

/* An unlinked temporary file in dir, or -1 with errno. */
static int
tmpfile_at(const char *dir)
{
	char	*path;
	int	 fd = -1, saved;

#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
#endif
	if (fd == -1) {
		path = xasprintf("%s/postie.XXXXXX", dir);
		fd = mkostemp(path, O_CLOEXEC);
		saved = errno;
		if (fd != -1)
			unlink(path);
		free(path);
		errno = saved;
	}
	return fd;
}

int
util_tmpfile_in(const char *first, struct error *err)
{
	const char	*dir = getenv("TMPDIR");
	int		 fd = -1;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if (first != NULL && (fd = tmpfile_at(first)) != -1)
		return fd;
	if ((fd = tmpfile_at(dir)) != -1)
		return fd;
	/* Nowhere to hold it: the caller must keep the message. */
	if (first != NULL)
		return error_set_errno(err, EX_TEMPFAIL, "cannot create a "
		    "temporary file in %s or %s", first, dir);
	return error_set_errno(err, EX_TEMPFAIL, "cannot create a temporary "
	    "file in %s", dir);
}

int
util_write_all(int fd, const void *p, size_t n)
{
	const char	*c = p;
	ssize_t		 w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int
util_read_all(int fd, void *p, size_t n)
{
	char	*c = p;
	ssize_t	 r;

	while (n > 0) {
		if ((r = read(fd, c, n)) <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			return -1;
		}
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

void
buf_add_json_str_or_null(struct buf *b, const char *s)
{
	if (s != NULL)
		buf_add_json_str(b, s);
	else
		buf_addstr(b, "null");
}

void
buf_add_json_str(struct buf *b, const char *s)
{
	const unsigned char	*p = (const unsigned char *)(s != NULL ? s :
				    "");
	size_t			 n = strlen((const char *)p), i, len;

	buf_addch(b, '"');
	for (i = 0; i < n; i += len) {
		len = utf8_len(p + i, n - i);
		if (len == 0) {
			/* not UTF-8: JSON must be (RFC 8259 8.1) */
			buf_addstr(b, "\\ufffd");
			len = 1;
			continue;
		}
		if (len == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0) {
			/* a C1 control (U+009B is a CSI): escaped, so that
			 * jq -r never prints it raw */
			buf_printf(b, "\\u%04x", p[i + 1]);
			continue;
		}
		if (len > 1) {
			buf_add(b, p + i, len);
			continue;
		}
		switch (p[i]) {
		case '"':
			buf_addstr(b, "\\\"");
			break;
		case '\\':
			buf_addstr(b, "\\\\");
			break;
		case '\n':
			buf_addstr(b, "\\n");
			break;
		case '\r':
			buf_addstr(b, "\\r");
			break;
		case '\t':
			buf_addstr(b, "\\t");
			break;
		default:
			if (p[i] < 0x20 || p[i] == 0x7f)
				buf_printf(b, "\\u%04x", p[i]);
			else
				buf_addch(b, p[i]);
			break;
		}
	}
	buf_addch(b, '"');
}

const char *
util_find_eol(const char *p, const char *e, int cr)
{
	const char	*nl = memchr(p, '\n', (size_t)(e - p)), *c;

	if (!cr)
		return nl;
	c = memchr(p, '\r', (size_t)((nl != NULL ? nl : e) - p));
	return c != NULL ? c : nl;
}

int
crlf_next(int *prev_cr, int cr, const char **pp, const char *e,
    const char **seg, size_t *len)
{
	const char	*p = *pp, *s;

	if (*prev_cr && p < e && *p == '\n')
		p++;	/* the LF of a CRLF already ended the line */
	*prev_cr = 0;
	*seg = p;
	if ((s = util_find_eol(p, e, cr)) == NULL) {
		*len = (size_t)(e - p);
		*pp = e;
		return 0;
	}
	*len = (size_t)(s - p);
	*prev_cr = *s == '\r';
	*pp = s + 1;
	return 1;
}

char *
util_home_dir(void)
{
	const char	*h = getenv("HOME");
	struct passwd	*pw;

	if (h != NULL && h[0] == '/' && access(h, X_OK) == 0)
		return xstrdup(h);
	if ((pw = getpwuid(getuid())) != NULL && pw->pw_dir != NULL &&
	    pw->pw_dir[0] != '\0')
		return xstrdup(pw->pw_dir);
	if (h != NULL && h[0] == '/')
		return xstrdup(h);	/* a home not made yet: its error */
	return NULL;
}

char *
util_login_name(void)
{
	struct passwd	*pw = getpwuid(getuid());

	if (pw != NULL && pw->pw_name != NULL && *pw->pw_name != '\0')
		return xstrdup(pw->pw_name);
	return NULL;
}

int
util_random(void *p, size_t n)
{
	return getrandom(p, n, 0) == (ssize_t)n ? 0 : -1;
}

int
util_valid_host(const char *s, size_t n)
{
	size_t	i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("-._:%[]", s[i]) == NULL)
			return 0;
	return 1;
}

unsigned int
util_rnd32(void)
{
	unsigned int	v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t)sizeof(v))
		return v;
	return (unsigned int)time(NULL) ^ ((unsigned int)getpid() << 16) ^
	    (unsigned int)clock();
}

void
buf_add_clean(struct buf *b, const char *s, size_t max)
{
	size_t	i;

	for (i = 0; s != NULL && s[i] != '\0' && i < max; i++)
		buf_addch(b, (unsigned char)s[i] < 0x20 || s[i] == 0x7f ?
		    ' ' : s[i]);
}

int
util_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
