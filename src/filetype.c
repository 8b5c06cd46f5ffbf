/*
 * Attachment types from libmagic, opened with dlopen() in a child
 * process that types every file of the message and exits (filetype.h).
 * The only file that includes <magic.h>.
 */
#include "autoconfig.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filetype.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

#define OUT_MAX	(64 * 1024)	/* the child's answer, per file */

/*
 * The libmagic speed flags of ../shared/libraries.md, less two:
 * NO_CHECK_TAR made 5.44 call a tar file application/x-gtar where
 * file(1) says application/x-tar (measured), and NO_CHECK_CDF would lose
 * the Office 97 types (msword, vnd.ms-excel), which only the CDF check
 * knows.  COMPRESS stays unset: never decompress (or fork) for a type.
 */
#define MAGIC_FLAGS	(MAGIC_MIME_TYPE | MAGIC_MIME_ENCODING | \
	MAGIC_ERROR | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_ELF | \
	MAGIC_NO_CHECK_APPTYPE | MAGIC_NO_CHECK_TOKENS)

/*
 * libmagic is opened with dlopen() on the first attachment, so that a
 * plain sendmail run maps neither it nor the compression libraries it
 * needs (three of the 40 objects a send loads).
 */
struct magic_api {
	void		*dl;
	magic_t		(*open)(int);
	int		(*load)(magic_t, const char *);
	int		(*setparam)(magic_t, int, const void *);
	const char	*(*descriptor)(magic_t, int);
	const char	*(*error)(magic_t);
	void		(*close)(magic_t);
};

/* libmagic, once loaded (or failed to load) for a set of files. */
struct magicctx {
	struct magic_api api;
	magic_t		 magic;
	int		 magic_failed;
};

static int	 magic_dlopen(struct magic_api *);
static char	*magic_type(struct magicctx *, int, char **);
static void	 magic_unload(struct magicctx *);
static void	 type_here(const int *, size_t, size_t, struct filetype *);
static int	 type_child(const int *, size_t, struct filetype *);

/* A MIME type/subtype of token characters, lower-cased; or NULL. */
char *
filetype_valid(const char *t)
{
	const char	*p;
	char		*r, *q;
	int		 slash = 0;

	for (p = t; *p != '\0'; p++) {
		if (*p == '/') {
			if (slash++ || p == t || p[1] == '\0')
				return NULL;
		} else if ((unsigned char)*p <= 32 ||
		    (unsigned char)*p >= 127 ||
		    strchr("()<>@,;:\\\"[]?=", *p) != NULL)
			return NULL;
	}
	if (!slash)
		return NULL;
	r = xstrdup(t);
	for (q = r; *q != '\0'; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	return r;
}

/* Open libmagic and find its functions; 0 (warned, once) if it fails. */
static int
magic_dlopen(struct magic_api *a)
{
	if (a->dl != NULL)
		return 1;
	if ((a->dl = dlopen(LIBMAGIC_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		log_warnx("cannot load %s (%s): attachments are sent as "
		    "application/octet-stream", LIBMAGIC_SONAME, dlerror());
		return 0;
	}
	a->open = (magic_t (*)(int))dlsym(a->dl, "magic_open");
	a->load = (int (*)(magic_t, const char *))dlsym(a->dl, "magic_load");
	a->setparam = (int (*)(magic_t, int, const void *))dlsym(a->dl,
	    "magic_setparam");
	a->descriptor = (const char *(*)(magic_t, int))dlsym(a->dl,
	    "magic_descriptor");
	a->error = (const char *(*)(magic_t))dlsym(a->dl, "magic_error");
	a->close = (void (*)(magic_t))dlsym(a->dl, "magic_close");
	if (a->open == NULL || a->load == NULL || a->setparam == NULL ||
	    a->descriptor == NULL || a->error == NULL || a->close == NULL) {
		log_warnx("%s lacks a function postie needs: attachments "
		    "are sent as application/octet-stream", LIBMAGIC_SONAME);
		dlclose(a->dl);
		a->dl = NULL;
		return 0;
	}
	return 1;
}

/*
 * The type of an open file from libmagic (opened and loaded once, on the
 * first attachment).  magic_descriptor() restores the offset of a
 * seekable fd, and parts are read with pread() anyway.  Returns the
 * type (allocated) and *charset (allocated or NULL); the result is
 * advisory, so any failure gives application/octet-stream.
 */
static char *
magic_type(struct magicctx *c, int fd, char **charset)
{
	const char	*r, *semi, *cs;
	char		*type, *t;

	*charset = NULL;
	if (c->magic == NULL && !c->magic_failed && magic_dlopen(&c->api)) {
		c->magic = c->api.open(MAGIC_FLAGS);
		/* 5.44 reads up to 7 MiB of every file; file(1) long did with
		 * 1 MiB, which keeps the peak RSS of a send small. */
		if (c->magic != NULL) {
			size_t max = 1024 * 1024;

			c->api.setparam(c->magic, MAGIC_PARAM_BYTES_MAX, &max);
		}
		if (c->magic == NULL || c->api.load(c->magic, NULL) == -1) {
			log_warnx("cannot load the libmagic database (%s): "
			    "attachments are sent as application/octet-stream",
			    c->magic != NULL ? c->api.error(c->magic) :
			    strerror(errno));
			if (c->magic != NULL)
				c->api.close(c->magic);
			c->magic = NULL;
			c->magic_failed = 1;
		}
	}
	if (c->magic == NULL)
		return xstrdup("application/octet-stream");
	if ((r = c->api.descriptor(c->magic, fd)) == NULL) {
		log_debug("libmagic: %s", c->api.error(c->magic));
		return xstrdup("application/octet-stream");
	}
	semi = strchr(r, ';');
	t = xstrndup(r, semi != NULL ? (size_t)(semi - r) : strlen(r));
	type = filetype_valid(str_trim(t));
	free(t);
	if (type == NULL || strcmp(type, "inode/x-empty") == 0 ||
	    strcmp(type, "application/x-empty") == 0) {
		/* an empty file has no type; a neutral one is sane */
		free(type);
		return xstrdup("application/octet-stream");
	}
	if (semi != NULL && (cs = strstr(semi, "charset=")) != NULL) {
		cs += strlen("charset=");
		if (*cs != '\0' && strcmp(cs, "binary") != 0 &&
		    strspn(cs, "abcdefghijklmnopqrstuvwxyz0123456789-_.:") ==
		    strlen(cs))
			*charset = xstrdup(cs);
	}
	return type;
}

static void
magic_unload(struct magicctx *c)
{
	if (c->magic != NULL)
		c->api.close(c->magic);
	c->magic = NULL;
	if (c->api.dl != NULL)
		dlclose(c->api.dl);
	c->api.dl = NULL;
}

/* Type fds[from..n) in this process; libmagic is unloaded after. */
static void
type_here(const int *fds, size_t from, size_t n, struct filetype *out)
{
	struct magicctx	c;
	size_t		i;

	memset(&c, 0, sizeof(c));
	for (i = from; i < n; i++)
		if (fds[i] != -1 && out[i].type == NULL)
			out[i].type = magic_type(&c, fds[i], &out[i].charset);
	magic_unload(&c);
}

/*
 * The child writes one line per file typed, "TYPE SP CHARSET LF" (an
 * empty CHARSET for none; neither holds white space), and exits; the
 * parent takes the lines in order.  Returns how many files were typed
 * (the rest are typed here), or -1 when no child could be started.
 */
static int
type_child(const int *fds, size_t n, struct filetype *out)
{
	struct buf	 b = BUF_INIT;
	char		 blk[4096], *line, *sp, *nl, *cs;
	pid_t		 pid;
	ssize_t		 r;
	size_t		 i, cap = OUT_MAX * (n + 1);
	int		 p[2], st, done = 0;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	fflush(NULL);
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		struct magicctx	 c;
		char		*t, *chs;

		close(p[0]);
		memset(&c, 0, sizeof(c));
		for (i = 0; i < n; i++) {
			if (fds[i] == -1)
				continue;
			t = magic_type(&c, fds[i], &chs);
			buf_printf(&b, "%s %s\n", t, chs != NULL ? chs : "");
			free(t);
			free(chs);
		}
		magic_unload(&c);
		(void)util_write_all(p[1], b.data, b.len);
		_exit(0);
	}
	close(p[1]);
	for (;;) {
		r = read(p[0], blk, sizeof(blk));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0 || b.len + (size_t)r > cap)
			break;
		buf_add(&b, blk, (size_t)r);
	}
	close(p[0]);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	line = b.data;
	for (i = 0; i < n && line != NULL; i++) {
		if (fds[i] == -1)
			continue;
		if ((nl = memchr(line, '\n', b.len - (size_t)(line - b.data))) ==
		    NULL || (sp = memchr(line, ' ', (size_t)(nl - line))) == NULL)
			break;
		*sp = '\0';
		*nl = '\0';
		cs = sp + 1;
		if ((out[i].type = filetype_valid(line)) == NULL)
			out[i].type = xstrdup("application/octet-stream");
		out[i].charset = *cs != '\0' ? xstrdup(cs) : NULL;
		line = nl + 1;
		done++;
		if ((size_t)(line - b.data) >= b.len)
			line = NULL;
	}
	buf_release(&b);
	return done;
}

void
filetype_guess(const int *fds, size_t n, struct filetype *out)
{
	size_t	i, want = 0;

	memset(out, 0, n * sizeof(*out));
	for (i = 0; i < n; i++)
		want += fds[i] != -1;
	if (want == 0)
		return;
	if (type_child(fds, n, out) != (int)want)
		type_here(fds, 0, n, out);
}

void
filetype_release(struct filetype *out, size_t n)
{
	size_t	i;

	for (i = 0; out != NULL && i < n; i++) {
		free(out[i].type);
		free(out[i].charset);
		out[i].type = out[i].charset = NULL;
	}
}
