/*
 * The system drop directory (see drop.h): a user without access to the
 * relay's password writes the finalized message there, and the root-run
 * queue runner moves it into the real queue as untrusted input.
 */
#include "autoconfig.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"
#include "drop.h"
#include "error.h"
#include "log.h"
#include "message.h"
#include "queue.h"
#include "util.h"
#include "xmalloc.h"

#define DROP_MAGIC	"postie-drop 1"
#define NAME_MAX_LEN	64		/* our names are ~40 octets */
#define LINE_MAX_LEN	1024		/* one header line */
#define STALE_SECS	3600		/* dot files older than this */
#define WIRE_LINE_MAX	998		/* RFC 5322 2.1.1 */
#define CHUNK		(64 * 1024)

static int	 valid_name(const char *);
static char	*new_name(void);
static int	 check_drop_dir(int, const char *, int, struct error *);
static int	 open_drop_dir(const char *, int, struct error *);
static int	 read_header(int, char **, size_t *, struct error *);
static int	 copy_wire(int, off_t, off_t, int, struct error *);
static int	 tmp_file(const char *, struct error *);
static char	*owner_sender(uid_t, const char *, char **);
static void	 remove_same(int, const char *, const struct stat *);
static void	 remove_stale(int, const char *);
static int	 ingest_one(int, const char *, const char *, struct queue *,
		    const struct drop_opts *, struct strlist *, int *,
		    struct error *);
static int	 parse_addr_line(const char *, size_t, const char *, char **,
		    struct error *);

const char *
drop_dir(void)
{
	const char	*d = getenv("POSTIE_DROPDIR");

	return d != NULL && d[0] == '/' ? d : DROP_DIR;
}

int
drop_prepare(void)
{
	const char	*sys;
	int		 fd;

	if (geteuid() == 0)
		return 0;
	sys = config_system_path();
	fd = open(sys, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd != -1) {
		close(fd);
		return 0;
	}
	if (errno != EACCES)
		return 0;
	log_debug("system configuration '%s' is not readable by this user: "
	    "the message goes to the system queue", sys);
	return 1;
}

int
drop_needed(void)
{
	const char	*sys;
	struct stat	 st;

	sys = config_system_path();
	return stat(sys, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & S_IROTH) == 0;
}

int
drop_available(void)
{
	struct stat	st;

	return stat(drop_dir(), &st) == 0 && S_ISDIR(st.st_mode) &&
	    st.st_uid == 0 && (st.st_mode & 07777) == 01733;
}

/* Names we create: [0-9a-f.]; anything else in the directory is foreign. */
static int
valid_name(const char *s)
{
	size_t	i;

	if (s[0] == '\0' || s[0] == '.')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (i >= NAME_MAX_LEN || (!isalnum((unsigned char)s[i]) &&
		    s[i] != '.'))
			return 0;
	return 1;
}

/* time, pid, randomness: unique with O_EXCL, never from the message. */
static char *
new_name(void)
{
	struct timespec	ts;
	unsigned int	r;

	clock_gettime(CLOCK_REALTIME, &ts);
	r = util_rnd32();
	return xasprintf("%lld.%06ld.%ld.%08x", (long long)ts.tv_sec,
	    ts.tv_nsec / 1000, (long)getpid(), r);
}

/*
 * Root's drop directory and nothing else: owned by root, sticky, not
 * readable by others (so nobody lists the others' names).  The sender
 * checks the same, so it never hands mail to a directory a user made.
 */
static int
check_drop_dir(int fd, const char *dir, int ours, struct error *err)
{
	struct stat	st;

	if (fstat(fd, &st) == -1)
		return error_set_errno(err, EX_CONFIG, "cannot stat drop "
		    "directory '%s'", dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != (ours ? geteuid() : 0) ||
	    (st.st_mode & S_ISVTX) == 0 || (st.st_mode & (S_IRGRP | S_IROTH)))
		return error_set(err, EX_CONFIG, "drop directory '%s' must be "
		    "a directory owned by root with mode 1733 (mkdir -m 1733 "
		    "%s, or run 'postie -q' as root once)", dir, dir);
	return 0;
}

/* Root: open (and with create, make) the drop directory for reading. */
static int
open_drop_dir(const char *dir, int create, struct error *err)
{
	int	fd;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT && create) {
		if (mkdir(dir, 0700) == -1 && errno != EEXIST)
			return error_set_errno(err, EX_CANTCREAT, "cannot "
			    "create drop directory '%s'", dir);
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		/* mkdir's mode is masked by the umask: set it exactly */
		if (fd != -1 && fchmod(fd, 01733) == -1) {
			error_set_errno(err, EX_CANTCREAT, "cannot set the "
			    "mode of drop directory '%s'", dir);
			close(fd);
			return -1;
		}
		if (fd != -1)
			log_info("created the drop directory '%s' (mode 1733)",
			    dir);
	}
	if (fd == -1)
		return error_set_errno(err, errno == ENOENT ? EX_NOINPUT :
		    EX_CANTCREAT, "cannot open drop directory '%s'", dir);
	if (check_drop_dir(fd, dir, 1, err) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

char *
drop_submit(const char *dir, const struct message *msg, struct error *err)
{
	const struct envelope	*env = message_envelope(msg);
	struct buf		 b = BUF_INIT;
	char			*name, *tmp;
	size_t			 i;
	off_t			 end;
	int			 dfd, fd = -1, saved;

	dfd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd == -1)
		return error_set_errno(err, EX_CONFIG, "cannot hand the "
		    "message to the system queue: drop directory '%s'", dir),
		    NULL;
	if (check_drop_dir(dfd, dir, 0, err) == -1) {
		close(dfd);
		return NULL;
	}
	buf_printf(&b, "%s\nsize %lld\nsender <%s>\n", DROP_MAGIC,
	    (long long)message_size(msg), env->sender);
	for (i = 0; i < env->rcpts.n; i++)
		buf_printf(&b, "rcpt <%s>\n", env->rcpts.v[i]);
	buf_addch(&b, '\n');

	name = new_name();
	tmp = xasprintf(".%s", name);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1) {
		error_set_errno(err, EX_TEMPFAIL, "cannot hand the message to "
		    "the system queue: cannot create a file in '%s'", dir);
		goto fail;
	}
	if (util_write_all(fd, b.data, b.len) == -1) {
		error_set_errno(err, EX_TEMPFAIL, "cannot hand the message to "
		    "the system queue: write");
		goto fail;
	}
	if (message_write(msg, fd, err) == -1) {
		error_prefix(err, "cannot hand the message to the system queue");
		err->code = EX_TEMPFAIL;
		goto fail;
	}
	end = lseek(fd, 0, SEEK_CUR);
	if (end != (off_t)b.len + message_size(msg)) {
		error_set(err, EX_SOFTWARE, "cannot hand the message to the "
		    "system queue: wrote %lld octets, expected %lld",
		    (long long)end, (long long)b.len + message_size(msg));
		goto fail;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		error_set_errno(err, EX_TEMPFAIL, "cannot hand the message to "
		    "the system queue: sync");
		goto fail;
	}
	fd = -1;
	/* A dot name until complete: the runner never reads a half file. */
	if (renameat2(dfd, tmp, dfd, name, RENAME_NOREPLACE) == -1 &&
	    (errno != EINVAL || renameat(dfd, tmp, dfd, name) == -1)) {
		error_set_errno(err, EX_TEMPFAIL, "cannot hand the message to "
		    "the system queue: rename in '%s'", dir);
		goto fail;
	}
	close(dfd);
	buf_release(&b);
	free(tmp);
	return name;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlinkat(dfd, tmp, 0);
	close(dfd);
	buf_release(&b);
	free(tmp);
	free(name);
	errno = saved;
	return NULL;
}

/* "KEY <ADDR>" at line[0..len): the address, checked, allocated. */
static int
parse_addr_line(const char *line, size_t len, const char *key, char **out,
    struct error *err)
{
	size_t	klen = strlen(key);
	char	*a;

	if (len < klen + 3 || memcmp(line, key, klen) != 0 ||
	    line[klen] != ' ' || line[klen + 1] != '<' ||
	    line[len - 1] != '>')
		return error_set(err, EX_DATAERR, "malformed '%s' line", key);
	a = xstrndup(line + klen + 2, len - klen - 3);
	if (a[0] != '\0' || strcmp(key, "sender") != 0) {
		if (addr_check_mailbox(a, 0, err) == -1) {
			free(a);
			err->code = EX_DATAERR;
			return -1;
		}
	}
	*out = a;
	return 0;
}

int
drop_header_parse(const char *text, size_t len, char **senderp,
    struct strlist *rcpts, off_t *sizep, struct error *err)
{
	struct strlist	 rl = STRLIST_INIT;
	const char	*p = text, *end = text + len, *nl;
	char		*sender = NULL, *a;
	long long	 size = 0;
	size_t		 n, i;
	int		 lineno = 0;

	if (len > DROP_HEADER_MAX || memchr(text, '\0', len) != NULL ||
	    memchr(text, '\r', len) != NULL)
		return error_set(err, EX_DATAERR, "drop header too large or "
		    "holding CR or NUL");
	for (;;) {
		if (p >= end || (nl = memchr(p, '\n', (size_t)(end - p))) ==
		    NULL) {
			error_set(err, EX_DATAERR, "drop header: no end");
			goto fail;
		}
		n = (size_t)(nl - p);
		lineno++;
		if (n > LINE_MAX_LEN) {
			error_set(err, EX_DATAERR, "drop header line %d too "
			    "long", lineno);
			goto fail;
		}
		if (lineno == 1) {
			if (n != strlen(DROP_MAGIC) ||
			    memcmp(p, DROP_MAGIC, n) != 0) {
				error_set(err, EX_DATAERR, "not a postie drop "
				    "file (version 1)");
				goto fail;
			}
		} else if (lineno == 2) {
			if (n < 6 || n > 5 + 15 || memcmp(p, "size ", 5) != 0)
				goto badsize;
			for (i = 5; i < n; i++) {
				if (!isdigit((unsigned char)p[i]))
					goto badsize;
				size = size * 10 + (p[i] - '0');
			}
			if (size <= 0)
				goto badsize;
		} else if (lineno == 3) {
			if (parse_addr_line(p, n, "sender", &sender, err) ==
			    -1) {
				error_prefix(err, "drop header line 3");
				goto fail;
			}
		} else if (n == 0) {
			break;
		} else {
			if (parse_addr_line(p, n, "rcpt", &a, err) == -1) {
				error_prefix(err, "drop header line %d",
				    lineno);
				goto fail;
			}
			strlist_add_owned(&rl, a);
		}
		p = nl + 1;
	}
	if (nl + 1 != end) {
		error_set(err, EX_DATAERR, "drop header: text after the end");
		goto fail;
	}
	if (rl.n == 0) {
		error_set(err, EX_DATAERR, "drop header: no recipient");
		goto fail;
	}
	*senderp = sender;
	for (i = 0; i < rl.n; i++)
		strlist_add(rcpts, rl.v[i]);
	strlist_release(&rl);
	*sizep = (off_t)size;
	return 0;
badsize:
	error_set(err, EX_DATAERR, "drop header line 2: bad size");
fail:
	free(sender);
	strlist_release(&rl);
	return -1;
}

/*
 * Read the header (up to its empty line) with pread, bounded.  *hdr is
 * allocated, *hlen its length including the empty line.
 */
static int
read_header(int fd, char **hdr, size_t *hlen, struct error *err)
{
	struct buf	 b = BUF_INIT;
	const char	*e;
	size_t		 from = 0;
	ssize_t		 r;

	for (;;) {
		buf_grow(&b, CHUNK);
		r = pread(fd, b.data + b.len, CHUNK, (off_t)b.len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			error_set_errno(err, EX_IOERR, "read");
			break;
		}
		if (r == 0) {
			error_set(err, EX_DATAERR, "no end of header");
			break;
		}
		b.len += (size_t)r;
		b.data[b.len] = '\0';
		if ((e = memmem(b.data + from, b.len - from, "\n\n", 2)) !=
		    NULL) {
			*hlen = (size_t)(e - b.data) + 2;
			*hdr = xstrndup(b.data, *hlen);
			buf_release(&b);
			return 0;
		}
		from = b.len - 1;
		if (b.len > DROP_HEADER_MAX) {
			error_set(err, EX_DATAERR, "header larger than %d "
			    "octets", DROP_HEADER_MAX);
			break;
		}
	}
	buf_release(&b);
	return -1;
}

/*
 * Copy size octets from fd at off into out, refusing anything that is
 * not in wire form: the transport sends these bytes verbatim, and libcurl
 * dot-stuffs only after CRLF, so a bare LF or CR could end DATA early on
 * a lax relay (SMTP smuggling, CVE-2023-51764).
 */
static int
copy_wire(int fd, off_t off, off_t size, int out, struct error *err)
{
	char	*buf = xmalloc(CHUNK);
	off_t	 done = 0;
	size_t	 i, line = 0, want;
	ssize_t	 r;
	int	 cr = 0, rv = -1;

	while (done < size) {
		want = size - done < CHUNK ? (size_t)(size - done) : CHUNK;
		r = pread(fd, buf, want, off + done);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			error_set_errno(err, EX_IOERR, "read");
			goto out;
		}
		if (r == 0) {
			error_set(err, EX_DATAERR, "shorter than its size");
			goto out;
		}
		for (i = 0; i < (size_t)r; i++) {
			if (cr && buf[i] != '\n') {
				error_set(err, EX_DATAERR, "bare CR in the "
				    "message");
				goto out;
			}
			if (buf[i] == '\r') {
				cr = 1;
			} else if (buf[i] == '\n') {
				if (!cr) {
					error_set(err, EX_DATAERR, "bare LF "
					    "in the message");
					goto out;
				}
				cr = 0;
				line = 0;
			} else if (buf[i] == '\0') {
				error_set(err, EX_DATAERR, "NUL in the "
				    "message");
				goto out;
			} else if (++line > WIRE_LINE_MAX) {
				error_set(err, EX_DATAERR, "line longer than "
				    "%d octets", WIRE_LINE_MAX);
				goto out;
			}
		}
		if (util_write_all(out, buf, (size_t)r) == -1) {
			error_set_errno(err, EX_TEMPFAIL, "could not queue: "
			    "write");
			goto out;
		}
		done += r;
	}
	if (cr || line != 0) {
		error_set(err, EX_DATAERR, "the message does not end in CRLF");
		goto out;
	}
	rv = 0;
out:
	free(buf);
	return rv;
}

/* An unlinked file in the (private) queue directory. */
static int
tmp_file(const char *qdir, struct error *err)
{
	char	*path;
	int	 fd;

	fd = open(qdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd != -1)
		return fd;
	path = xasprintf("%s/.drop.XXXXXX", qdir);
	if ((fd = mkostemp(path, O_CLOEXEC)) == -1) {
		error_set_errno(err, EX_TEMPFAIL, "could not queue: cannot "
		    "create a file in '%s'", qdir);
		free(path);
		return -1;
	}
	unlink(path);
	free(path);
	return fd;
}

/* login@domain of uid (*login: the name, allocated), or NULL. */
static char *
owner_sender(uid_t uid, const char *domain, char **login)
{
	struct passwd	*pw;
	struct error	 err = ERROR_INIT;
	char		*s;

	if ((pw = getpwuid(uid)) != NULL && pw->pw_name != NULL &&
	    pw->pw_name[0] != '\0')
		*login = xstrdup(pw->pw_name);
	else
		*login = xasprintf("%lu", (unsigned long)uid);
	s = xasprintf("%s@%s", *login, domain);
	if (addr_check_mailbox(s, 0, &err) == -1) {
		error_release(&err);
		free(s);
		return NULL;
	}
	return s;
}

/* Unlink name only while it is still the file we judged (st). */
static void
remove_same(int dfd, const char *name, const struct stat *st)
{
	struct stat	now;

	if (fstatat(dfd, name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
	    now.st_dev == st->st_dev && now.st_ino == st->st_ino)
		unlinkat(dfd, name, S_ISDIR(now.st_mode) ? AT_REMOVEDIR : 0);
}

/* A dot file: a writer's file in progress, or left by a crash. */
static void
remove_stale(int dfd, const char *name)
{
	struct stat	st;

	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !S_ISDIR(st.st_mode) && st.st_mtime < time(NULL) - STALE_SECS) {
		log_warnx("drop file '%s' of uid %lu was never finished: "
		    "removed", name, (unsigned long)st.st_uid);
		remove_same(dfd, name, &st);
	}
}

/*
 * One drop file.  Returns 0 when it was queued or refused (*refused
 * says which), -1 when the queue failed (the file stays).  linked holds
 * the inodes refused for having several names in this run, so that the
 * last name standing is refused too.
 */
static int
ingest_one(int dfd, const char *dir, const char *name, struct queue *q,
    const struct drop_opts *o, struct strlist *linked, int *refused,
    struct error *err)
{
	struct envelope	 env;
	struct message	*msg;
	struct error	 ferr = ERROR_INIT;
	struct stat	 st;
	char		*hdr = NULL, *sender = NULL, *login = NULL, *id;
	char		*reason, *ino;
	size_t		 hlen;
	off_t		 size, max;
	int		 fd, tfd, rv = 0;

	*refused = 1;
	memset(&env, 0, sizeof(env));
	memset(&st, 0, sizeof(st));
	max = o->max_size > 0 ? o->max_size : DROP_MAX_SIZE;
	if (!valid_name(name)) {
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			remove_same(dfd, name, &st);
		log_warnx("drop file '%s/%s' (uid %lu) refused, never sent: "
		    "not a name postie makes", dir, name,
		    (unsigned long)st.st_uid);
		return 0;
	}
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC);
	if (fd == -1) {
		error_set_errno(&ferr, EX_DATAERR, "cannot open");
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    (S_ISLNK(st.st_mode) || !S_ISREG(st.st_mode)))
			remove_same(dfd, name, &st);
		goto refuse;
	}
	if (fstat(fd, &st) == -1) {
		error_set_errno(&ferr, EX_DATAERR, "cannot stat");
		goto refuse_fd;
	}
	ino = xasprintf("%ju:%ju", (uintmax_t)st.st_dev,
	    (uintmax_t)st.st_ino);
	if (S_ISREG(st.st_mode) && (st.st_nlink != 1 ||
	    strlist_contains(linked, ino))) {
		/* A hard link: maybe to another user's file. */
		if (!strlist_contains(linked, ino))
			strlist_add(linked, ino);
		free(ino);
		error_set(&ferr, EX_DATAERR, "more than one link");
		goto refuse_fd;
	}
	free(ino);
	if (!S_ISREG(st.st_mode) || st.st_uid == 0) {
		error_set(&ferr, EX_DATAERR, "%s", !S_ISREG(st.st_mode) ?
		    "not a regular file" : "owned by root");
		goto refuse_fd;
	}
	if (st.st_size > max + DROP_HEADER_MAX) {
		error_set(&ferr, EX_DATAERR, "larger than the limit of %lld "
		    "octets (drop_max_size)", (long long)max);
		goto refuse_fd;
	}
	if (read_header(fd, &hdr, &hlen, &ferr) == -1 ||
	    drop_header_parse(hdr, hlen, &sender, &env.rcpts, &size,
	    &ferr) == -1)
		goto refuse_fd;
	if (size > max) {
		error_set(&ferr, EX_DATAERR, "larger than the limit of %lld "
		    "octets (drop_max_size)", (long long)max);
		goto refuse_fd;
	}
	if ((off_t)hlen + size != st.st_size) {
		error_set(&ferr, EX_DATAERR, "size %lld does not match the "
		    "file", (long long)size);
		goto refuse_fd;
	}
	/* The envelope sender is the file's owner, whatever it says. */
	if (o->allow_from)
		env.sender = sender;
	else if ((env.sender = owner_sender(st.st_uid, o->qualify_domain,
	    &login)) == NULL) {
		error_set(&ferr, EX_DATAERR, "no usable address for uid %lu",
		    (unsigned long)st.st_uid);
		goto refuse_fd;
	}
	if ((tfd = tmp_file(queue_path(q), err)) == -1) {
		rv = -1;
		goto out;
	}
	if (copy_wire(fd, (off_t)hlen, size, tfd, &ferr) == -1) {
		close(tfd);
		if (ferr.code == EX_TEMPFAIL) {
			error_set(err, ferr.code, "%s", ferr.msg);
			rv = -1;
			goto out;
		}
		goto refuse_fd;
	}
	msg = message_new_wire(tfd, size, &env);
	reason = xasprintf("handed over by %s (uid %lu)", login != NULL ?
	    login : "?", (unsigned long)st.st_uid);
	id = queue_save(q, msg, NULL, o->account, reason, 0, err);
	free(reason);
	message_free(msg);
	if (id == NULL) {
		rv = -1;
		goto out;
	}
	log_debug("drop file '%s' of uid %lu queued as %s: <%s>, %zu "
	    "recipient(s)", name, (unsigned long)st.st_uid, id, env.sender,
	    env.rcpts.n);
	free(id);
	remove_same(dfd, name, &st);
	*refused = 0;
	goto out;
refuse_fd:
	remove_same(dfd, name, &st);
refuse:
	log_warnx("drop file '%s/%s' (uid %lu) refused, never sent: %s",
	    dir, name, (unsigned long)st.st_uid, ferr.msg);
out:
	if (fd != -1)
		close(fd);
	error_release(&ferr);
	if (env.sender != sender)
		free(env.sender);
	free(sender);
	free(login);
	free(hdr);
	strlist_release(&env.rcpts);
	return rv;
}

int
drop_ingest(const char *dir, int create, struct queue *q,
    const struct drop_opts *o, size_t *moved, size_t *refused,
    struct error *err)
{
	struct strlist	 names = STRLIST_INIT, linked = STRLIST_INIT;
	struct dirent	*de;
	DIR		*d;
	size_t		 i;
	int		 dfd, fd, bad, rv = 0;

	*moved = *refused = 0;
	if ((dfd = open_drop_dir(dir, create, err)) == -1) {
		if (err->code != EX_NOINPUT)
			return -1;
		error_release(err);	/* none yet: nothing was dropped */
		return 0;
	}
	if ((fd = dup(dfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		close(dfd);
		return error_set_errno(err, EX_OSERR, "cannot read drop "
		    "directory '%s'", dir);
	}
	/* Names first, then work: never rely on readdir across unlinks. */
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			remove_stale(dfd, de->d_name);
		else
			strlist_add(&names, de->d_name);
	}
	closedir(d);
	for (i = 0; i < names.n; i++) {
		if (ingest_one(dfd, dir, names.v[i], q, o, &linked, &bad,
		    err) == -1) {
			rv = -1;
			break;
		}
		if (bad)
			(*refused)++;
		else
			(*moved)++;
	}
	strlist_release(&names);
	strlist_release(&linked);
	close(dfd);
	return rv;
}
