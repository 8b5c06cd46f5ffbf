/*
 * The queue: messages that could not be delivered now, kept durably in a
 * spool directory and sent later by a runner (postie -q), plus the last
 * resort when even the spool cannot be written (dead.letter).
 */
#include "autoconfig.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "bounce.h"
#include "error.h"
#include "log.h"
#include "message.h"
#include "interrupt.h"
#include "queue.h"
#include "outcome.h"
#include "util.h"
#include "xmalloc.h"

#define ENV_MAGIC	"postie-queue 1"
#define ENV_MAX		(32 * 1024 * 1024)	/* one .env file */
#define ENV_LINE_MAX	2048		/* one line of it */
#define ERROR_TEXT_MAX	512		/* last_error as stored */
#define ID_MAX		100		/* length of an entry id */
#define STALE_AGE	3600		/* seconds: stale tmp/, orphans */
#define BACKOFF_FIRST	300		/* 5 minutes */
#define DEAD_LINE_MAX	4096		/* dead.letter line buffer */

/*
 * During a flush, deleting a delivered entry (two inodes freed) cost more
 * wall time than sending it (measured: 0.8 ms against 0.3 ms a message).
 * A reaper thread does the unlinks and the final close while the main
 * thread waits on the network.  It holds the entry's flock until both
 * files are gone, so no other runner can pick the entry up meanwhile.
 */
#define REAP_MAX	64

struct reap {
	char	*id;
	int	 fd;		/* the locked ID.msg */
};

struct reaper {
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct reap	 v[REAP_MAX];
	size_t		 head;
	size_t		 n;
	int		 done;
	int		 qfd;
	size_t		 failed;
};

struct queue {
	struct reaper		*reaper;	/* during queue_run */
	char			*dir;
	int			 dfd;	/* the queue directory */
	int			 tfd;	/* tmp/ */
	int			 qfd;	/* q/ */
	int			 in_run; /* queue_run: one fsync of q/ at the
					   end, not one per entry */
	struct queue_hooks	 hooks;
};

struct queue_lock {
	char	*id;
	int	 fd;		/* ID.msg, flock'ed */
	size_t	*map;		/* message rcpt i -> entry rcpt */
	size_t	 n;
};

static int	 valid_id(const char *);
static char	*new_id(void);
static int	 open_subdir(int, const char *, int, struct error *);
static int	 check_dir(int, const char *, struct error *);
static int	 mkdir_p(const char *, struct error *);
static void	 clean_stale(struct queue *);
static int	 check_file(int, const char *, struct stat *, struct error *);
static int	 read_env(struct queue *, const char *, struct queue_entry **,
		    struct error *);
static int	 parse_env(const char *, size_t, const char *,
		    struct queue_entry **, struct error *);
static void	 env_text(struct buf *, const struct queue_entry *);
static int	 write_env(struct queue *, const struct queue_entry *,
		    struct error *);
static int	 write_tmp(struct queue *, const char *, const struct buf *,
		    const struct message *, struct error *);
static int	 remove_entry(struct queue *, const char *);
static void	 reaper_start(struct queue *);
static void	 reaper_push(struct reaper *, const char *, int);
static size_t	 reaper_stop(struct queue *);
static void	 entry_fields_free(struct queue_entry *);
static int	 entry_cmp(const void *, const void *);
static char	 state_char(enum rcpt_state);
static int	 char_state(int, enum rcpt_state *);
static int	 expire(const struct queue_entry *, struct outcome *, int,
		    struct error *);
static void	 bounce_failed(struct queue *, struct queue_entry *,
		    const struct queue_lock *, const struct strlist *,
		    const struct strlist *, const char *);
static void	 json_str(struct buf *, const char *);

/* Names, randomness, directories. */

/* RFC-free but strict: ^[A-Za-z0-9._-]+$, no leading dot, bounded. */
static int
valid_id(const char *s)
{
	size_t	i;

	if (s == NULL || s[0] == '\0' || s[0] == '.' || s[0] == '-')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= ID_MAX)
			return 0;
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' &&
		    s[i] != '_' && s[i] != '-')
			return 0;
	}
	return 1;
}


/* time, pid and randomness: never derived from the message. */
static char *
new_id(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return xasprintf("%lld.%05ld.%ld.%08x", (long long)ts.tv_sec,
	    ts.tv_nsec / 10000, (long)getpid(), util_rnd32());
}

/* Our own directory, private: never follow another user's files. */
static int
check_dir(int fd, const char *path, struct error *err)
{
	struct stat	st;

	if (fstat(fd, &st) == -1)
		return error_set_errno(err, EX_CANTCREAT, "cannot stat queue "
		    "directory '%s'", path);
	if (!S_ISDIR(st.st_mode))
		return error_set(err, EX_CONFIG, "queue directory '%s' is not "
		    "a directory", path);
	if (st.st_uid != geteuid())
		return error_set(err, EX_CONFIG, "queue directory '%s' is "
		    "owned by uid %lu, not by us (uid %lu)", path,
		    (unsigned long)st.st_uid, (unsigned long)geteuid());
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return error_set(err, EX_CONFIG, "queue directory '%s' is "
		    "writable by others (chmod 700 %s)", path, path);
	return 0;
}

static int
open_subdir(int dfd, const char *name, int create, struct error *err)
{
	int	fd;

	if (create && mkdirat(dfd, name, 0700) == -1 && errno != EEXIST)
		return error_set_errno(err, EX_CANTCREAT, "cannot create "
		    "queue directory '%s'", name);
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1)
		return error_set_errno(err, errno == ENOENT ? EX_NOINPUT :
		    EX_CANTCREAT, "cannot open queue directory '%s'", name);
	if (check_dir(fd, name, err) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* mkdir -p with mode 0700 for the parts we create. */
static int
mkdir_p(const char *path, struct error *err)
{
	char	*p = xstrdup(path), *s;

	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		if (*s == '/' && s[1] == '/')
			continue;
		{
			char	c = *s;

			*s = '\0';
			if (mkdir(p, 0700) == -1 && errno != EEXIST) {
				error_set_errno(err, EX_CANTCREAT, "cannot "
				    "create queue directory '%s'", p);
				free(p);
				return -1;
			}
			*s = c;
		}
		if (*s == '\0')
			break;
	}
	free(p);
	return 0;
}

char *
queue_default_dir(void)
{
	const char	*xdg = getenv("XDG_STATE_HOME");
	char		*home, *d;

	if (geteuid() == 0)
		return xstrdup("/var/spool/postie");
	if (xdg != NULL && xdg[0] == '/')
		return xasprintf("%s/postie/queue", xdg);
	if ((home = util_home_dir()) == NULL)
		return xstrdup("/var/spool/postie");
	d = xasprintf("%s/.local/state/postie/queue", home);
	free(home);
	return d;
}

struct queue *
queue_open(const char *dir, int create, struct error *err)
{
	struct queue	*q;
	int		 fd;

	if (create && mkdir_p(dir, err) == -1)
		return NULL;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		error_set_errno(err, errno == ENOENT ? EX_NOINPUT :
		    EX_CANTCREAT, "cannot open queue directory '%s'", dir);
		return NULL;
	}
	if (check_dir(fd, dir, err) == -1) {
		close(fd);
		return NULL;
	}
	q = xcalloc(1, sizeof(*q));
	q->dir = xstrdup(dir);
	q->dfd = fd;
	q->tfd = q->qfd = -1;
	q->hooks.backoff_max = 4 * 3600;
	if ((q->tfd = open_subdir(fd, "tmp", create, err)) == -1 ||
	    (q->qfd = open_subdir(fd, "q", create, err)) == -1) {
		error_prefix(err, "queue '%s'", dir);
		queue_close(q);
		return NULL;
	}
	clean_stale(q);
	return q;
}

void
queue_close(struct queue *q)
{
	if (q == NULL)
		return;
	reaper_stop(q);
	if (q->tfd != -1)
		close(q->tfd);
	if (q->qfd != -1)
		close(q->qfd);
	close(q->dfd);
	free(q->dir);
	free(q);
}

const char *
queue_path(const struct queue *q)
{
	return q->dir;
}

void
queue_set_hooks(struct queue *q, const struct queue_hooks *h)
{
	q->hooks = *h;
	if (q->hooks.backoff_max <= 0)
		q->hooks.backoff_max = 4 * 3600;
}

/*
 * tmp/ files older than STALE_AGE are what a crash left between write
 * and rename (never published, never sent).  A q/ID.msg without its
 * .env is what a crash left between the two unlinks of a removal (or the
 * two renames of a save: hence the age, a save takes milliseconds).
 */
static void
clean_stale(struct queue *q)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	time_t		 now = time(NULL);
	char		*env;
	int		 fd;

	if ((fd = dup(q->tfd)) != -1 && (d = fdopendir(fd)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if (fstatat(q->tfd, de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == 0 &&
			    now - st.st_mtime > STALE_AGE) {
				log_debug("removing stale queue file "
				    "'tmp/%s'", de->d_name);
				unlinkat(q->tfd, de->d_name, 0);
			}
		}
		closedir(d);
	} else if (fd != -1)
		close(fd);

	if ((fd = dup(q->qfd)) == -1)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		size_t	len = strlen(de->d_name);

		if (len < 5 || strcmp(de->d_name + len - 4, ".msg") != 0)
			continue;
		env = xstrdup(de->d_name);
		memcpy(env + len - 4, ".env", 4);
		if (faccessat(q->qfd, env, F_OK, AT_SYMLINK_NOFOLLOW) == -1 &&
		    errno == ENOENT &&
		    fstatat(q->qfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		    0 && now - st.st_mtime > STALE_AGE) {
			log_debug("removing orphan queue file 'q/%s'",
			    de->d_name);
			unlinkat(q->qfd, de->d_name, 0);
		}
		free(env);
	}
	closedir(d);
}

/* Entry files. */

/*
 * Open a file of q/ for reading as an untrusted input: no symlink, a
 * regular file, one link (a hard link could point at another's file),
 * ours.
 */
static int
check_file(int dfd, const char *name, struct stat *st, struct error *err)
{
	int	fd;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		if (errno == ENOENT)
			return -2;
		return error_set_errno(err, EX_DATAERR, "queue file 'q/%s' "
		    "refused", name);
	}
	if (fstat(fd, st) == -1) {
		error_set_errno(err, EX_IOERR, "cannot stat queue file '%s'",
		    name);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode) || st->st_nlink != 1 ||
	    st->st_uid != geteuid()) {
		error_set(err, EX_DATAERR, "queue file 'q/%s' refused: %s",
		    name, !S_ISREG(st->st_mode) ? "not a regular file" :
		    st->st_nlink != 1 ? "it has other hard links" :
		    "owned by another user");
		close(fd);
		return -1;
	}
	return fd;
}

/* 0 ok, -2 gone, -1 error (torn, foreign, unreadable). */
/*
 * Times written while the clock was ahead would leave an entry never due
 * and never expiring: a creation time in the future becomes now, and so
 * does a next attempt further away than the longest backoff.
 */
static void
clamp_times(struct queue_entry *e, time_t now, int backoff_max)
{
	if (e->created > now)
		e->created = now;
	if (e->next_attempt > now + (backoff_max > 0 ? backoff_max : 0))
		e->next_attempt = now;
}

static int
read_env(struct queue *q, const char *id, struct queue_entry **out,
    struct error *err)
{
	struct stat	 st;
	char		*name, *text;
	size_t		 n = 0;
	ssize_t		 r;
	int		 fd, rc;

	name = xasprintf("%s.env", id);
	fd = check_file(q->qfd, name, &st, err);
	free(name);
	if (fd < 0)
		return fd;
	if (st.st_size > ENV_MAX) {
		close(fd);
		return error_set(err, EX_DATAERR, "queue entry %s: envelope "
		    "larger than %d bytes", id, ENV_MAX);
	}
	text = xmalloc((size_t)st.st_size + 1);
	while (n < (size_t)st.st_size) {
		r = read(fd, text + n, (size_t)st.st_size - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	text[n] = '\0';
	rc = parse_env(text, n, id, out, err);
	free(text);
	if (rc == 0)
		clamp_times(*out, time(NULL), q->hooks.backoff_max);
	return rc;
}

static char
state_char(enum rcpt_state s)
{
	switch (s) {
	case RCPT_ACCEPTED:
		return 'A';
	case RCPT_PERMFAIL:
		return 'F';
	case RCPT_TEMPFAIL:
		return 'T';
	case RCPT_PENDING:
		break;
	}
	return 'P';
}

static int
char_state(int c, enum rcpt_state *s)
{
	switch (c) {
	case 'A':
		*s = RCPT_ACCEPTED;
		return 0;
	case 'F':
		*s = RCPT_PERMFAIL;
		return 0;
	case 'T':
		*s = RCPT_TEMPFAIL;
		return 0;
	case 'P':
		*s = RCPT_PENDING;
		return 0;
	default:
		return -1;
	}
}

/* A decimal number, no sign, at most 18 digits. */
static int
parse_num(const char *s, long long *out)
{
	long long	v = 0;
	size_t		i;

	if (s[0] == '\0')
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 18 || !isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/*
 * The .env format, one "key value" per line in this fixed order, then
 * "rcpt STATE ADDRESS" lines, then "end" (the trailer: a file cut short
 * has none).  Nothing in it is ever interpreted beyond these fields
 * (OpenSMTPD CVE-2020-8794 went through an envelope file).
 */
int
queue_entry_parse(const char *text, size_t len, const char *id,
    struct queue_entry **out, struct error *err)
{
	return parse_env(text, len, id, out, err);
}

static int
parse_env(const char *text, size_t len, const char *id,
    struct queue_entry **out, struct error *err)
{
	static const char *const keys[] = { "id", "account", "sender",
	    "msgid", "size", "created", "next", "attempts", "held",
	    "unknown", "bounce", "error", NULL };
	struct queue_entry	*e;
	struct buf		 states = BUF_INIT;
	const char		*s = text, *end = text + len, *nl;
	char			*line = NULL, *val;
	long long		 v;
	size_t			 k = 0, n;
	int			 lineno = 0, done = 0;

	e = xcalloc(1, sizeof(*e));
	if (memchr(text, '\0', len) != NULL)
		goto bad;
	while (s < end) {
		lineno++;
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			goto bad;	/* torn: no final newline */
		n = (size_t)(nl - s);
		if (n > ENV_LINE_MAX || memchr(s, '\r', n) != NULL)
			goto bad;
		free(line);
		line = xstrndup(s, n);
		s = nl + 1;
		if (done)
			goto bad;	/* anything after the trailer */
		if (lineno == 1) {
			if (strcmp(line, ENV_MAGIC) != 0)
				goto bad;
			continue;
		}
		if (keys[k] != NULL) {
			size_t kl = strlen(keys[k]);

			if (strncmp(line, keys[k], kl) != 0 ||
			    line[kl] != ' ')
				goto bad;
			val = line + kl + 1;
			switch (k) {
			case 0:
				if (strcmp(val, id) != 0)
					goto bad;
				e->id = xstrdup(val);
				break;
			case 1:
				e->account = *val != '\0' ? xstrdup(val) :
				    NULL;
				break;
			case 2:
				/* Untrusted: a mailbox or nothing (<>). */
				if (*val != '\0' &&
				    addr_check_mailbox(val, 0, NULL) == -1)
					goto bad;
				e->sender = xstrdup(val);
				break;
			case 3:
				e->msgid = xstrdup(val);
				break;
			case 11:
				e->last_error = xstrdup(val);
				break;
			default:
				if (parse_num(val, &v) == -1)
					goto bad;
				if (k == 4)
					e->size = (off_t)v;
				else if (k == 5)
					e->created = (time_t)v;
				else if (k == 6)
					e->next_attempt = (time_t)v;
				else if (k == 7)
					e->attempts = v > INT_MAX ? INT_MAX :
					    (int)v;
				else if (v > (k == 8 ? HOLD_SETUP : 1))
					goto bad;
				else if (k == 8)
					e->held = (int)v;
				else if (k == 9)
					e->unknown = (int)v;
				else
					e->bounce = (int)v;
				break;
			}
			k++;
			continue;
		}
		if (strcmp(line, "end") == 0) {
			done = 1;
			continue;
		}
		if (strncmp(line, "rcpt ", 5) != 0 || line[5] == '\0' ||
		    line[6] != ' ' || line[7] == '\0')
			goto bad;
		{
			enum rcpt_state	st;

			if (char_state(line[5], &st) == -1 ||
			    addr_check_mailbox(line + 7, 0, NULL) == -1)
				goto bad;
			buf_addch(&states, line[5]);
			strlist_add(&e->rcpts, line + 7);
		}
	}
	if (!done || e->rcpts.n == 0)
		goto bad;
	e->state = xcalloc(e->rcpts.n, sizeof(*e->state));
	for (n = 0; n < e->rcpts.n; n++)
		char_state(states.data[n], &e->state[n]);
	buf_release(&states);
	free(line);
	*out = e;
	return 0;
bad:
	buf_release(&states);
	free(line);
	queue_entry_free(e);
	return error_set(err, EX_DATAERR, "queue entry %s: damaged envelope "
	    "file (line %d)", id, lineno);
}


static void
env_text(struct buf *b, const struct queue_entry *e)
{
	size_t	i;

	buf_printf(b, "%s\nid %s\naccount ", ENV_MAGIC, e->id);
	buf_add_clean(b, e->account, ENV_LINE_MAX / 2);
	buf_addstr(b, "\nsender ");
	buf_add_clean(b, e->sender, ENV_LINE_MAX / 2);
	buf_addstr(b, "\nmsgid ");
	buf_add_clean(b, e->msgid, ENV_LINE_MAX / 2);
	buf_printf(b, "\nsize %lld\ncreated %lld\nnext %lld\nattempts %d\n"
	    "held %d\nunknown %d\nbounce %d\nerror ", (long long)e->size,
	    (long long)e->created, (long long)e->next_attempt, e->attempts,
	    e->held, e->unknown ? 1 : 0, e->bounce ? 1 : 0);
	buf_add_clean(b, e->last_error, ERROR_TEXT_MAX);
	buf_addch(b, '\n');
	for (i = 0; i < e->rcpts.n; i++) {
		buf_printf(b, "rcpt %c ", state_char(e->state[i]));
		buf_add_clean(b, e->rcpts.v[i], ENV_LINE_MAX / 2);
		buf_addch(b, '\n');
	}
	buf_addstr(b, "end\n");
}

/*
 * Write tmp/NAME from text or msg, fsync it.  O_EXCL: a name is never
 * reused.  On failure the tmp file is removed.
 */
static int
write_tmp(struct queue *q, const char *name, const struct buf *text,
    const struct message *msg, struct error *err)
{
	struct error	 werr = ERROR_INIT;
	int		 fd, rc = 0, saved;

	fd = openat(q->tfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		return error_set_errno(err, EX_TEMPFAIL, "could not queue: "
		    "cannot create '%s/tmp/%s'", q->dir, name);
	if (text != NULL) {
		if (util_write_all(fd, text->data, text->len) == -1)
			rc = error_set_errno(err, EX_TEMPFAIL, "could not "
			    "queue: cannot write '%s/tmp/%s'", q->dir, name);
	} else if (message_write(msg, fd, &werr) == -1) {
		rc = error_set(err, EX_TEMPFAIL, "could not queue: %s to "
		    "'%s/tmp/%s'", werr.msg, q->dir, name);
		error_release(&werr);
	}
	if (rc == 0 && fsync(fd) == -1)
		rc = error_set_errno(err, EX_TEMPFAIL, "could not queue: "
		    "cannot sync '%s/tmp/%s'", q->dir, name);
	if (close(fd) == -1 && rc == 0)
		rc = error_set_errno(err, EX_TEMPFAIL, "could not queue: "
		    "cannot write '%s/tmp/%s'", q->dir, name);
	if (rc == -1) {
		saved = errno;
		unlinkat(q->tfd, name, 0);
		errno = saved;
	}
	return rc;
}

/* Replace q/ID.env atomically: tmp file, fsync, rename, fsync q/. */
static int
write_env(struct queue *q, const struct queue_entry *e, struct error *err)
{
	struct buf	 b = BUF_INIT;
	char		*tname, *qname;
	int		 rc = -1;

	env_text(&b, e);
	tname = xasprintf("%s.env.%08x", e->id, util_rnd32());
	qname = xasprintf("%s.env", e->id);
	if (write_tmp(q, tname, &b, NULL, err) == -1)
		goto out;
	if (renameat(q->tfd, tname, q->qfd, qname) == -1) {
		error_set_errno(err, EX_TEMPFAIL, "could not queue: cannot "
		    "rename into '%s/q'", q->dir);
		unlinkat(q->tfd, tname, 0);
		goto out;
	}
	/*
	 * No fsync of q/ here: after a crash the old .env or the new one
	 * is there, both whole (the file was synced before the rename), and
	 * either is a valid state of the entry.
	 */
	rc = 0;
out:
	buf_release(&b);
	free(tname);
	free(qname);
	return rc;
}

/*
 * The .env goes first: an entry without it no longer exists.  The
 * directory is synced so that a power cut cannot bring a delivered entry
 * back (a resend); queue_run syncs once at its end instead, which costs
 * one fsync per run rather than one per message (measured: 3 to 8 ms
 * each here), at the price of possible resends after a power cut during
 * a run.  A crash of the process loses nothing either way.
 */
static int
remove_entry(struct queue *q, const char *id)
{
	char	*name;
	int	 rc = 0;

	name = xasprintf("%s.env", id);
	if (unlinkat(q->qfd, name, 0) == -1 && errno != ENOENT)
		rc = -1;
	memcpy(name + strlen(name) - 4, ".msg", 4);
	if (unlinkat(q->qfd, name, 0) == -1 && errno != ENOENT)
		rc = -1;
	free(name);
	if (!q->in_run)
		fsync(q->qfd);
	return rc;
}

static void *
reaper_main(void *arg)
{
	struct reaper	*r = arg;
	struct reap	 job;
	char		*name;

	for (;;) {
		pthread_mutex_lock(&r->mu);
		while (r->n == 0 && !r->done)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->n == 0) {
			pthread_mutex_unlock(&r->mu);
			return NULL;
		}
		job = r->v[r->head];
		r->head = (r->head + 1) % REAP_MAX;
		r->n--;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);

		name = xasprintf("%s.env", job.id);
		if (unlinkat(r->qfd, name, 0) == -1 && errno != ENOENT)
			r->failed++;
		memcpy(name + strlen(name) - 4, ".msg", 4);
		if (unlinkat(r->qfd, name, 0) == -1 && errno != ENOENT)
			r->failed++;
		close(job.fd);	/* releases the flock, frees the inode */
		free(name);
		free(job.id);
	}
}

static void
reaper_start(struct queue *q)
{
	struct reaper	*r = xcalloc(1, sizeof(*r));

	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->qfd = q->qfd;
	if (pthread_create(&r->thread, NULL, reaper_main, r) != 0) {
		/* No thread: entries are removed inline, as before. */
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->cv);
		free(r);
		return;
	}
	q->reaper = r;
}

/* Hand a delivered entry and its locked fd to the reaper (waits while
 * REAP_MAX removals are pending). */
static void
reaper_push(struct reaper *r, const char *id, int fd)
{
	pthread_mutex_lock(&r->mu);
	while (r->n == REAP_MAX)
		pthread_cond_wait(&r->cv, &r->mu);
	r->v[(r->head + r->n) % REAP_MAX].id = xstrdup(id);
	r->v[(r->head + r->n) % REAP_MAX].fd = fd;
	r->n++;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* Finish every pending removal.  Returns how many unlinks failed. */
static size_t
reaper_stop(struct queue *q)
{
	struct reaper	*r = q->reaper;
	size_t		 failed;

	if (r == NULL)
		return 0;
	pthread_mutex_lock(&r->mu);
	r->done = 1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	failed = r->failed;
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
	q->reaper = NULL;
	return failed;
}

/* The fields queue_save() allocates (not id, not the borrowed rcpts). */
static void
entry_fields_free(struct queue_entry *e)
{
	free(e->account);
	free(e->sender);
	free(e->msgid);
	free(e->last_error);
	free(e->state);
}

char *
queue_save(struct queue *q, const struct message *msg,
    const struct outcome *res, const char *account, const char *reason,
    int bounce, struct error *err)
{
	const struct envelope	*env = message_envelope(msg);
	struct queue_entry	 e;
	struct buf		 b = BUF_INIT;
	char			*id, *tmsg = NULL, *tenv = NULL;
	size_t			 i, pending = 0;
	int			 msg_in_q = 0;

	if (str_has_crlf(env->sender) || (account != NULL &&
	    str_has_crlf(account)))
		return error_set(err, EX_SOFTWARE, "could not queue: line "
		    "break in the envelope"), NULL;
	for (i = 0; i < env->rcpts.n; i++)
		if (str_has_crlf(env->rcpts.v[i]))
			return error_set(err, EX_SOFTWARE, "could not queue: "
			    "line break in the envelope"), NULL;

	memset(&e, 0, sizeof(e));
	e.id = id = new_id();
	e.account = account != NULL ? xstrdup(account) : NULL;
	e.sender = xstrdup(env->sender);
	e.rcpts = env->rcpts;		/* borrowed, never freed here */
	e.msgid = message_id(msg) != NULL ? xstrdup(message_id(msg)) : NULL;
	e.size = message_size(msg);
	e.created = time(NULL);
	e.next_attempt = e.created;
	e.bounce = bounce;
	e.last_error = reason != NULL ? xstrdup(reason) : NULL;
	if (res != NULL && res->class == OUTCOME_SETUP)
		e.held = HOLD_SETUP;
	e.state = xcalloc(env->rcpts.n + 1, sizeof(*e.state));
	for (i = 0; i < env->rcpts.n; i++) {
		e.state[i] = res != NULL && i < res->n ? res->rcpt[i].state :
		    RCPT_PENDING;
		if (e.state[i] == RCPT_PENDING || e.state[i] == RCPT_TEMPFAIL)
			pending++;
	}
	if (res != NULL) {
		e.unknown = res->unknown;
		if (res->n > 0)
			e.attempts = 1;
		/* the next try after the first backoff step */
		if (e.attempts > 0)
			e.next_attempt = e.created + queue_backoff(1,
			    q->hooks.backoff_max, util_rnd32());
	}
	if (pending == 0) {
		error_set(err, EX_SOFTWARE, "could not queue: no recipient "
		    "left to try");
		goto fail;
	}
	env_text(&b, &e);

	tmsg = xasprintf("%s.msg", id);
	tenv = xasprintf("%s.env", id);
	if (write_tmp(q, tmsg, NULL, msg, err) == -1)
		goto fail;
	if (write_tmp(q, tenv, &b, NULL, err) == -1)
		goto fail;
	/* .msg first: an entry exists once its .env is in q/ */
	if (renameat(q->tfd, tmsg, q->qfd, tmsg) == -1) {
		error_set_errno(err, EX_TEMPFAIL, "could not queue: cannot "
		    "rename into '%s/q'", q->dir);
		goto fail;
	}
	msg_in_q = 1;
	if (renameat(q->tfd, tenv, q->qfd, tenv) == -1) {
		error_set_errno(err, EX_TEMPFAIL, "could not queue: cannot "
		    "rename into '%s/q'", q->dir);
		goto fail;
	}
	if (fsync(q->qfd) == -1) {
		error_set_errno(err, EX_TEMPFAIL, "could not queue: cannot "
		    "sync '%s/q'", q->dir);
		unlinkat(q->qfd, tenv, 0);
		goto fail;
	}
	entry_fields_free(&e);
	buf_release(&b);
	free(tmsg);
	free(tenv);
	return id;
fail:
	if (tmsg != NULL) {
		unlinkat(q->tfd, tmsg, 0);
		unlinkat(q->tfd, tenv, 0);
		if (msg_in_q)
			unlinkat(q->qfd, tmsg, 0);
	}
	entry_fields_free(&e);
	buf_release(&b);
	free(tmsg);
	free(tenv);
	free(id);
	return NULL;
}

/* Listing. */

static int
entry_cmp(const void *a, const void *b)
{
	const struct queue_entry *x = *(const struct queue_entry *const *)a;
	const struct queue_entry *y = *(const struct queue_entry *const *)b;

	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->id, y->id);
}

int
queue_list(struct queue *q, struct queue_entry ***out, size_t *np,
    struct error *err)
{
	struct queue_entry	**v = NULL, *e;
	struct error		  ferr = ERROR_INIT;
	struct dirent		 *de;
	struct stat		  st;
	DIR			 *d;
	size_t			  n = 0, cap = 0, len;
	char			 *id, *mname;
	int			  fd, rc;

	if ((fd = dup(q->qfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return error_set_errno(err, EX_IOERR, "cannot read queue "
		    "directory '%s/q'", q->dir);
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 5 ||
		    strcmp(de->d_name + len - 4, ".env") != 0)
			continue;
		id = xstrndup(de->d_name, len - 4);
		if (!valid_id(id)) {
			log_warnx("queue '%s': ignoring file 'q/%s': not a "
			    "queue file name", q->dir, de->d_name);
			free(id);
			continue;
		}
		rc = read_env(q, id, &e, &ferr);
		if (rc == 0) {
			/* torn or foreign .msg: never listed, never sent */
			mname = xasprintf("%s.msg", id);
			fd = check_file(q->qfd, mname, &st, &ferr);
			free(mname);
			if (fd >= 0) {
				close(fd);
				if (st.st_size != e->size) {
					rc = error_set(&ferr, EX_DATAERR,
					    "queue entry %s: message file "
					    "is %lld bytes, expected %lld", id,
					    (long long)st.st_size,
					    (long long)e->size);
				}
			} else
				rc = fd == -2 ? error_set(&ferr, EX_DATAERR,
				    "queue entry %s: message file missing",
				    id) : -1;
			if (rc != 0)
				queue_entry_free(e);
		}
		if (rc == -1)
			log_warnx("queue '%s': %s: skipped", q->dir, ferr.msg);
		error_release(&ferr);
		free(id);
		if (rc != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[n++] = e;
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), entry_cmp);
	*out = v;
	*np = n;
	return 0;
}

void
queue_entry_free(struct queue_entry *e)
{
	if (e == NULL)
		return;
	free(e->id);
	free(e->account);
	free(e->sender);
	strlist_release(&e->rcpts);
	free(e->state);
	free(e->msgid);
	free(e->last_error);
	free(e);
}

void
queue_entries_free(struct queue_entry **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		queue_entry_free(v[i]);
	free(v);
}

size_t
queue_entry_pending(const struct queue_entry *e)
{
	size_t	i, n = 0;

	for (i = 0; i < e->rcpts.n; i++)
		if (e->state[i] == RCPT_PENDING || e->state[i] == RCPT_TEMPFAIL)
			n++;
	return n;
}

int
queue_due(struct queue *q, time_t now)
{
	struct queue_entry	**v;
	struct error		  err = ERROR_INIT;
	size_t			  n, i;
	int			  due = 0;

	if (queue_list(q, &v, &n, &err) == -1) {
		error_release(&err);
		return 0;
	}
	for (i = 0; i < n && !due; i++)
		if (!v[i]->held && v[i]->next_attempt <= now)
			due = 1;
	queue_entries_free(v, n);
	return due;
}

/* Delivery. */

int
queue_lock_entry(struct queue *q, const char *id, struct queue_lock **lp,
    struct queue_entry **ep, struct message **mp, struct error *err)
{
	struct queue_entry	*e = NULL;
	struct queue_lock	*l;
	struct envelope		 env;
	struct stat		 st;
	char			*name;
	size_t			 i;
	int			 fd, rc, wfd;

	if (!valid_id(id))
		return error_set(err, EX_DATAERR, "invalid queue id '%s'", id);
	name = xasprintf("%s.msg", id);
	fd = check_file(q->qfd, name, &st, err);
	free(name);
	if (fd == -2)
		return 0;
	if (fd == -1)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		close(fd);
		if (errno == EWOULDBLOCK)
			return 0;
		return error_set_errno(err, EX_IOERR, "cannot lock queue "
		    "entry %s", id);
	}
	/* Removed by another runner between our open and our lock? */
	if (fstat(fd, &st) == -1 || st.st_nlink != 1) {
		close(fd);
		return 0;
	}
	rc = read_env(q, id, &e, err);
	if (rc != 0) {
		close(fd);
		return rc == -2 ? 0 : -1;
	}
	if (st.st_size != e->size) {
		error_set(err, EX_DATAERR, "queue entry %s: message file is "
		    "%lld bytes, expected %lld", id, (long long)st.st_size,
		    (long long)e->size);
		close(fd);
		queue_entry_free(e);
		return -1;
	}
	l = xcalloc(1, sizeof(*l));
	l->id = xstrdup(id);
	l->fd = fd;
	l->map = xcalloc(e->rcpts.n + 1, sizeof(*l->map));
	memset(&env, 0, sizeof(env));
	env.sender = e->sender;
	for (i = 0; i < e->rcpts.n; i++)
		if (e->state[i] == RCPT_PENDING ||
		    e->state[i] == RCPT_TEMPFAIL) {
			l->map[l->n++] = i;
			strlist_add(&env.rcpts, e->rcpts.v[i]);
		}
	if (l->n == 0) {
		/* Nothing left (a crash after the last send): done. */
		remove_entry(q, id);
		strlist_release(&env.rcpts);
		queue_entry_free(e);
		queue_unlock(l);
		return 0;
	}
	/* The dup shares the lock (one open file description). */
	if ((wfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		error_set_errno(err, EX_OSERR, "cannot lock queue entry %s",
		    id);
		strlist_release(&env.rcpts);
		queue_entry_free(e);
		queue_unlock(l);
		return -1;
	}
	*mp = message_new_wire(wfd, e->size, &env);
	strlist_release(&env.rcpts);
	*lp = l;
	*ep = e;
	return 1;
}

void
queue_unlock(struct queue_lock *l)
{
	if (l == NULL)
		return;
	if (l->fd != -1)
		close(l->fd);	/* releases the flock */
	free(l->map);
	free(l->id);
	free(l);
}

int
queue_backoff(int attempts, int max, unsigned int rnd)
{
	long	d = BACKOFF_FIRST;
	int	i;

	if (max <= 0)
		max = 4 * 3600;
	for (i = 1; i < attempts && d < max; i++)
		d *= 2;
	if (d > max)
		d = max;
	/* jitter: spread runners that failed together over +-10% */
	d = d - d / 10 + (long)(rnd % (unsigned int)(d / 5 + 1));
	if (d > max)
		d = max;
	if (d < 1)
		d = 1;
	return (int)d;
}

int
queue_finish(struct queue *q, struct queue_lock *l, struct queue_entry *e,
    const struct outcome *res, const struct error *attempt_err,
    struct error *err)
{
	struct strlist	 failed = STRLIST_INIT, replies = STRLIST_INIT;
	const char	*why = NULL;
	char		*freason = NULL;
	size_t		 i, k;
	int		 rc = 0;
	/* Given up (res NULL: expired) or refused for good. */
	int		 perm = attempt_err != NULL && (res == NULL ||
			    res->class == OUTCOME_PERMANENT);

	for (i = 0; i < l->n; i++) {
		k = l->map[i];
		if (res != NULL && i < res->n) {
			const struct rcpt_result *rr = &res->rcpt[i];

			e->state[k] = rr->state;
			if (rr->state == RCPT_PENDING && perm)
				e->state[k] = RCPT_PERMFAIL;
			if (rr->state == RCPT_TEMPFAIL && why == NULL &&
			    rr->reply != NULL && attempt_err == NULL)
				why = rr->reply;
		} else if (attempt_err != NULL)
			e->state[k] = perm ? RCPT_PERMFAIL : RCPT_TEMPFAIL;
		if (e->state[k] == RCPT_PERMFAIL) {
			bounce_add(&failed, &replies, e->rcpts.v[k],
			    res != NULL && i < res->n ? &res->rcpt[i] : NULL);
			if (res != NULL && i < res->n &&
			    res->rcpt[i].reply != NULL && freason == NULL)
				freason = xasprintf("%d %s",
				    res->rcpt[i].code, res->rcpt[i].reply);
		}
	}
	if (res != NULL && res->unknown)
		e->unknown = 1;
	if (e->attempts < INT_MAX)
		e->attempts++;
	if (attempt_err != NULL && attempt_err->msg != NULL)
		why = attempt_err->msg;
	/* Held until the configuration changes; any other result frees it. */
	if (e->held != HOLD_ADMIN)
		e->held = attempt_err != NULL && res != NULL &&
		    res->class == OUTCOME_SETUP ? HOLD_SETUP : HOLD_NONE;
	if (why != NULL) {
		free(e->last_error);
		e->last_error = xstrdup(why);
	}
	if (failed.n > 0)
		bounce_failed(q, e, l, &failed, &replies, freason != NULL ?
		    freason : why != NULL ? why : "refused by the server");
	if (queue_entry_pending(e) == 0 && q->reaper != NULL) {
		reaper_push(q->reaper, e->id, l->fd);
		l->fd = -1;	/* the reaper closes it */
	} else if (queue_entry_pending(e) == 0) {
		if (remove_entry(q, e->id) == -1)
			rc = error_set_errno(err, EX_IOERR, "cannot remove "
			    "queue entry %s", e->id);
	} else {
		e->next_attempt = time(NULL) + queue_backoff(e->attempts,
		    q->hooks.backoff_max, util_rnd32());
		rc = write_env(q, e, err);
	}
	strlist_release(&failed);
	strlist_release(&replies);
	free(freason);
	queue_unlock(l);
	return rc;
}

/*
 * The last try of an entry past its lifetime did not deliver everything:
 * every recipient still open fails for good (keeping the server's last
 * reply for the bounce), and *err says so.  Returns 1 when it expired, 0
 * when nothing was left open (the try delivered it).
 */
static int
expire(const struct queue_entry *e, struct outcome *res, int rc,
    struct error *err)
{
	size_t	i, open = 0;
	char	*last;

	for (i = 0; i < res->n; i++)
		if (res->rcpt[i].state != RCPT_ACCEPTED &&
		    res->rcpt[i].state != RCPT_PERMFAIL) {
			res->rcpt[i].state = RCPT_PERMFAIL;
			open++;
		}
	if (open == 0 && rc == 0)
		return 0;
	last = xstrdup(err->msg != NULL ? err->msg : e->last_error != NULL ?
	    e->last_error : "none");
	error_set(err, EX_UNAVAILABLE, "expired after %lld seconds in the "
	    "queue (%d attempts); last error: %s",
	    (long long)(time(NULL) - e->created), e->attempts + 1, last);
	free(last);
	res->class = OUTCOME_PERMANENT;
	return 1;
}

/* With -oem: tell the sender (never the null sender: no loops). */
static void
bounce_failed(struct queue *q, struct queue_entry *e,
    const struct queue_lock *l, const struct strlist *failed,
    const struct strlist *why, const char *reason)
{
	struct message	*orig;
	struct envelope	 env;
	struct error	 berr = ERROR_INIT;
	int		 fd;

	if (!e->bounce || e->sender == NULL || e->sender[0] == '\0' ||
	    q->hooks.bounce == NULL)
		return;
	if ((fd = fcntl(l->fd, F_DUPFD_CLOEXEC, 0)) == -1)
		return;
	memset(&env, 0, sizeof(env));
	env.sender = e->sender;
	env.rcpts = *failed;
	orig = message_new_wire(fd, e->size, &env);
	if (q->hooks.bounce(q->hooks.ctx, e->sender, orig, failed, why,
	    reason, &berr) == -1) {
		log_warnx("cannot bounce queue entry %s to <%s>: %s", e->id,
		    e->sender, berr.msg);
		error_release(&berr);
	}
	message_free(orig);
}

int
queue_run(struct queue *q, int force, time_t lifetime, queue_deliver_fn fn,
    void *ctx, size_t *sent, size_t *left, struct error *err)
{
	struct queue_entry	**v, *e;
	struct queue_lock	 *l;
	struct message		 *msg;
	struct outcome	  res;
	struct error		  derr = ERROR_INIT, ferr = ERROR_INIT;
	const char		 *outcome;
	size_t			  n, i, j;
	time_t			  now = time(NULL);
	int			  rc, expired;

	*sent = *left = 0;
	if (queue_list(q, &v, &n, err) == -1)
		return -1;
	q->in_run = 1;
	reaper_start(q);
	for (i = 0; i < n; i++) {
		if (interrupt_pending() != 0) {
			/* SIGTERM (systemd stop): the entry sent last is
			 * recorded; the rest waits for the next run */
			log_warnx("queue '%s': stopped by signal %d, %zu "
			    "entries left for the next run", q->dir,
			    interrupt_pending(), n - i);
			*left += n - i;
			break;
		}
		/* force (postie -q) tries all but entries held by hand */
		if (v[i]->held == HOLD_ADMIN || (!force && (v[i]->held ||
		    (v[i]->next_attempt > now &&
		    now - v[i]->created < lifetime)))) {
			(*left)++;
			continue;
		}
		rc = queue_lock_entry(q, v[i]->id, &l, &e, &msg, &ferr);
		if (rc == -1) {
			log_warnx("queue '%s': %s: skipped", q->dir, ferr.msg);
			error_release(&ferr);
			continue;
		}
		if (rc == 0)
			continue;	/* another runner has it, or done */
		if (e->held == HOLD_ADMIN || (!force && e->held)) {
			(*left)++;
			message_free(msg);
			queue_entry_free(e);
			queue_unlock(l);
			continue;
		}
		outcome_init(&res, message_envelope(msg)->rcpts.n);
		if (e->unknown)
			log_warnx("queue entry %s: the last attempt's outcome "
			    "is unknown: resending %s (possible duplicate)",
			    e->id, e->msgid != NULL ? e->msgid : "");
		rc = fn(ctx, e->account, msg, &res, &derr);
		/* Past its lifetime, an entry expires only after this last try
		 * failed (as Postfix): a machine off for days keeps its mail. */
		expired = lifetime > 0 && now - e->created >= lifetime &&
		    expire(e, &res, rc, &derr);
		if (expired)
			rc = -1;
		/* msg (its dup of the locked fd) lives until the hook ran */
		if (queue_finish(q, l, e, &res, rc == -1 ? &derr : NULL,
		    &ferr) == -1) {
			log_warnx("%s", ferr.msg);
			error_release(&ferr);
		}
		if (queue_entry_pending(e) == 0)
			(*sent)++;
		else
			(*left)++;
		outcome = expired ? "expired" : queue_entry_pending(e) == 0 ?
		    (rc == -1 ? "bounced" : "delivered") :
		    e->held == HOLD_SETUP ? "held" : "queued";
		if (expired)
			log_warnx("queue entry %s %s: %s%s", e->id,
			    e->msgid != NULL ? e->msgid : "", derr.msg,
			    e->bounce ? " (bounce to the sender)" : "");
		if (e->held == HOLD_SETUP)
			log_warnx("queue entry %s held, not retried until the "
			    "configuration is fixed: %s%s%s", e->id,
			    derr.msg != NULL ? derr.msg : "set-up failure",
			    res.hint != NULL ? ": " : "",
			    res.hint != NULL ? res.hint : "");
		for (j = 0; outcome[0] == 'd' && j < e->rcpts.n; j++)
			if (e->state[j] == RCPT_PERMFAIL)
				outcome = "partial";
		/* Never remove a refused message without a word. */
		if (strcmp(outcome, "bounced") == 0)
			log_warnx("queue entry %s %s: refused for good, not "
			    "sent, removed%s: %s", e->id,
			    e->msgid != NULL ? e->msgid : "", e->bounce ?
			    " (bounce to the sender)" : "", derr.msg != NULL ?
			    derr.msg : "refused");
		else if (strcmp(outcome, "partial") == 0)
			log_warnx("queue entry %s %s: some recipients refused "
			    "for good, not sent to them%s", e->id,
			    e->msgid != NULL ? e->msgid : "", e->bounce ?
			    " (bounce to the sender)" : "");
		if (q->hooks.attempt != NULL)
			q->hooks.attempt(q->hooks.ctx, e,
			    message_envelope(msg), &res,
			    rc == -1 ? &derr : NULL, outcome);
		message_free(msg);
		outcome_release(&res);
		error_release(&derr);
		queue_entry_free(e);
	}
	queue_entries_free(v, n);
	if (reaper_stop(q) > 0)
		log_warnx("queue '%s': some delivered entries could not be "
		    "removed and may be sent again", q->dir);
	q->in_run = 0;
	fsync(q->qfd);
	return 0;
}

/* Commands. */

int
queue_delete(struct queue *q, const char *id, struct error *err)
{
	struct queue_entry	*e;
	struct queue_lock	*l;
	struct message		*msg;
	int			 rc;

	rc = queue_lock_entry(q, id, &l, &e, &msg, err);
	if (rc == -1)
		return -1;
	if (rc == 0)
		return error_set(err, EX_NOINPUT, "no queue entry '%s' (or "
		    "it is being delivered now)", id);
	message_free(msg);
	rc = remove_entry(q, id);
	queue_entry_free(e);
	queue_unlock(l);
	if (rc == -1)
		return error_set_errno(err, EX_IOERR, "cannot remove queue "
		    "entry %s", id);
	return 0;
}

int
queue_hold(struct queue *q, const char *id, int hold, struct error *err)
{
	struct queue_entry	*e;
	struct queue_lock	*l;
	struct message		*msg;
	int			 rc;

	rc = queue_lock_entry(q, id, &l, &e, &msg, err);
	if (rc == -1)
		return -1;
	if (rc == 0)
		return error_set(err, EX_NOINPUT, "no queue entry '%s' (or "
		    "it is being delivered now)", id);
	message_free(msg);
	e->held = hold ? HOLD_ADMIN : HOLD_NONE;
	if (!hold)
		e->next_attempt = time(NULL);
	rc = write_env(q, e, err);
	queue_entry_free(e);
	queue_unlock(l);
	return rc;
}

/* The listing. */

static void
json_str(struct buf *b, const char *s)
{
	buf_add_json_str(b, s);
}

void
queue_format(struct buf *b, struct queue_entry *const *v, size_t n,
    time_t now, int json)
{
	size_t	i, j;
	int	first;

	if (json) {
		buf_addch(b, '[');
		for (i = 0; i < n; i++) {
			const struct queue_entry *e = v[i];

			buf_addstr(b, i > 0 ? ",\n {" : "\n {");
			buf_addstr(b, "\"id\": ");
			json_str(b, e->id);
			buf_printf(b, ", \"size\": %lld, \"created\": %lld, "
			    "\"age\": %lld, \"next_attempt\": %lld, "
			    "\"attempts\": %d, \"held\": %s, \"unknown\": %s, "
			    "\"account\": ", (long long)e->size,
			    (long long)e->created,
			    (long long)(now - e->created),
			    (long long)e->next_attempt, e->attempts,
			    e->held ? "true" : "false",
			    e->unknown ? "true" : "false");

			if (e->account != NULL)
				json_str(b, e->account);
			else
				buf_addstr(b, "null");
			if (e->held)
				buf_printf(b, ", \"held_by\": \"%s\"",
				    e->held == HOLD_SETUP ? "setup" : "admin");
			buf_addstr(b, ", \"sender\": ");
			json_str(b, e->sender);
			buf_addstr(b, ", \"message_id\": ");
			json_str(b, e->msgid);
			buf_addstr(b, ", \"recipients\": [");
			first = 1;
			for (j = 0; j < e->rcpts.n; j++) {
				if (e->state[j] != RCPT_PENDING &&
				    e->state[j] != RCPT_TEMPFAIL)
					continue;
				if (!first)
					buf_addstr(b, ", ");
				json_str(b, e->rcpts.v[j]);
				first = 0;
			}
			buf_addstr(b, "], \"last_error\": ");
			json_str(b, e->last_error);
			buf_addch(b, '}');
		}
		buf_addstr(b, n > 0 ? "\n]\n" : "]\n");
		return;
	}
	if (n == 0) {
		buf_addstr(b, "Mail queue is empty\n");
		return;
	}
	for (i = 0; i < n; i++) {
		const struct queue_entry *e = v[i];
		long long	age = (long long)(now - e->created);

		buf_printf(b, "%s%s %lld ", e->id, e->held ? "!" :
		    e->unknown ? "?" : "", (long long)e->size);
		if (age < 3600)
			buf_printf(b, "%lldm", age < 0 ? 0 : age / 60);
		else if (age < 86400)
			buf_printf(b, "%lldh", age / 3600);
		else
			buf_printf(b, "%lldd", age / 86400);
		buf_addstr(b, " <");
		buf_add_clean(b, e->sender, 512);
		buf_addstr(b, ">");
		for (j = 0; j < e->rcpts.n; j++)
			if (e->state[j] == RCPT_PENDING ||
			    e->state[j] == RCPT_TEMPFAIL) {
				buf_addstr(b, " <");
				buf_add_clean(b, e->rcpts.v[j], 512);
				buf_addch(b, '>');
			}
		if (e->held)
			buf_printf(b, " held=%s", e->held == HOLD_SETUP ?
			    "setup" : "admin");
		buf_printf(b, " attempts=%d", e->attempts);
		if (e->last_error != NULL && e->last_error[0] != '\0') {
			buf_addstr(b, " (");
			buf_add_clean(b, e->last_error, ERROR_TEXT_MAX);
			buf_addch(b, ')');
		}
		buf_addch(b, '\n');
	}
	buf_printf(b, "-- %zu request%s\n", n, n == 1 ? "" : "s");
}

/* dead.letter. */

char *
queue_dead_letter(const struct message *msg, const struct outcome *res,
    struct error *err)
{
	const struct envelope	*env = message_envelope(msg);
	struct message_reader	*rd;
	struct buf		 out = BUF_INIT, line = BUF_INIT;
	struct stat		 st;
	char			*home, *path, chunk[8192], date[64];
	time_t			 now = time(NULL);
	struct tm		 tm;
	ssize_t			 r;
	size_t			 i, k;
	int			 fd, rc = 0;

	if ((home = util_home_dir()) == NULL) {
		error_set(err, EX_CANTCREAT, "cannot write dead.letter: no "
		    "home directory");
		return NULL;
	}
	path = xasprintf("%s/dead.letter", home);
	free(home);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC | O_NOCTTY, 0600);
	if (fd == -1) {
		error_set_errno(err, EX_CANTCREAT, "cannot open '%s'", path);
		free(path);
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1 || st.st_uid != geteuid()) {
		error_set(err, EX_CANTCREAT, "refusing to write '%s': not a "
		    "regular file of ours with one link", path);
		close(fd);
		free(path);
		return NULL;
	}
	/*
	 * The size to cut back to on failure is measured under the lock:
	 * another writer may have appended while we waited for it.
	 */
	if (flock(fd, LOCK_EX) == -1 || fstat(fd, &st) == -1) {
		error_set_errno(err, EX_CANTCREAT, "cannot lock '%s'", path);
		close(fd);
		free(path);
		return NULL;
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
	/* mboxrd: "From " line, LF endings, ">From " quoting */
	buf_addstr(&out, "From ");
	buf_add_clean(&out, env->sender[0] != '\0' ? env->sender :
	    "MAILER-DAEMON", 512);
	buf_printf(&out, " %s\n", date);
	/* what each recipient's server said: the reason it is here */
	for (i = 0; res != NULL && i < res->n && i < env->rcpts.n; i++) {
		if (res->rcpt[i].state == RCPT_ACCEPTED)
			continue;
		buf_addstr(&out, "X-Postie-Not-Delivered: <");
		buf_add_clean(&out, env->rcpts.v[i], 512);
		buf_addch(&out, '>');
		if (res->rcpt[i].code != 0) {
			buf_printf(&out, ": %d ", res->rcpt[i].code);
			buf_add_clean(&out, res->rcpt[i].reply, 400);
		}
		buf_addch(&out, '\n');
	}
	rd = message_reader_new(msg);
	while (rc == 0 && (r = message_reader_read(rd, chunk, sizeof(chunk),
	    err)) != 0) {
		if (r < 0) {
			rc = -1;
			break;
		}
		for (i = 0; i < (size_t)r; i++) {
			if (chunk[i] != '\n' && line.len < DEAD_LINE_MAX) {
				buf_addch(&line, chunk[i]);
				continue;
			}
			if (line.len > 0 && line.data[line.len - 1] == '\r')
				line.len--;
			for (k = 0; k < line.len && line.data[k] == '>'; k++)
				;
			if (line.len - k >= 5 &&
			    strncmp(line.data + k, "From ", 5) == 0)
				buf_addch(&out, '>');
			buf_add(&out, line.data, line.len);
			if (chunk[i] == '\n')
				buf_addch(&out, '\n');
			else
				buf_addch(&out, chunk[i]);
			buf_reset(&line);
			if (out.len > 65536) {
				if (util_write_all(fd, out.data, out.len) == -1)
					rc = error_set_errno(err,
					    EX_CANTCREAT, "cannot write '%s'",
					    path);
				buf_reset(&out);
			}
		}
	}
	message_reader_free(rd);
	if (line.len > 0) {
		buf_add(&out, line.data, line.len);
		buf_addch(&out, '\n');
	}
	buf_addch(&out, '\n');
	if (rc == 0 && util_write_all(fd, out.data, out.len) == -1)
		rc = error_set_errno(err, EX_CANTCREAT, "cannot write '%s'",
		    path);
	if (rc == 0 && fsync(fd) == -1 && errno != EINVAL)
		rc = error_set_errno(err, EX_CANTCREAT, "cannot sync '%s'",
		    path);
	/* never leave half a message for the reader of the mbox */
	if (rc == -1 && ftruncate(fd, st.st_size) == -1)
		log_warnx("cannot remove a partial message from '%s': %s",
		    path, strerror(errno));
	if (close(fd) == -1 && rc == 0)
		rc = error_set_errno(err, EX_CANTCREAT, "cannot write '%s'",
		    path);
	buf_release(&out);
	buf_release(&line);
	if (rc == -1) {
		free(path);
		return NULL;
	}
	return path;
}
