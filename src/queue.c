/*
 * The queue store: messages that could not be delivered now, kept durably
 * in a spool directory: ids, files, the .env format, atomic writes,
 * locks, listing.  When and how entries are sent is the runner's
 * (runner.c); dead.letter is mbox.c's.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "error.h"
#include "log.h"
#include "message.h"
#include "queue.h"
#include "queue_env.h"
#include "outcome.h"
#include "util.h"
#include "xmalloc.h"

#define ENV_MAX		(32 * 1024 * 1024)	/* one .env file */
#define ID_MAX		100		/* length of an entry id */
#define STALE_AGE	3600		/* seconds: stale tmp/, orphans */
#define FIRST_RETRY	300		/* seconds, unless the runner sets it */
#define RETRY_MAX	(4 * 3600)	/* the longest backoff, likewise */

/*
 * During a flush, deleting a delivered entry (two inodes freed) cost more
 * wall time than sending it (measured: 0.8 ms against 0.3 ms a message).
 * The .env (small) is unlinked at once, which makes the entry done for
 * good before the next send; a reaper thread unlinks the .msg (its data
 * blocks) and does the final close while the main thread waits on the
 * network.  It holds the entry's flock until the file is gone.
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
	struct reaper		*reaper;	/* during a batch */
	char			*dir;
	int			 dfd;	/* the queue directory */
	int			 tfd;	/* tmp/ */
	int			 qfd;	/* q/ */
	int			 in_run; /* a batch: one fsync of q/ at the
					   end, not one per entry */
	int			 first_retry;	/* seconds after a save that
						   followed an attempt */
	int			 retry_max;	/* the longest backoff */
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
	q->first_retry = FIRST_RETRY;
	q->retry_max = RETRY_MAX;
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
queue_set_retry(struct queue *q, int first, int max)
{
	q->first_retry = first > 0 ? first : FIRST_RETRY;
	q->retry_max = max > 0 ? max : RETRY_MAX;
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
	rc = queue_env_parse(text, n, id, out, err);
	free(text);
	if (rc == 0)
		clamp_times(*out, time(NULL), q->retry_max);
	return rc;
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

	queue_env_text(&b, e);
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
 * back (a resend); a batch syncs once at its end instead
 * (queue_batch_end), which costs one fsync per run rather than one per
 * message (measured: 3 to 8 ms each here), at the price of possible resends after a power cut during
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

		/* the .env is gone already (queue_update) */
		name = xasprintf("%s.msg", job.id);
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
			e.next_attempt = e.created + q->first_retry;
	}
	if (pending == 0) {
		error_set(err, EX_SOFTWARE, "could not queue: no recipient "
		    "left to try");
		goto fail;
	}
	queue_env_text(&b, &e);

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
				e->unrecorded = (st.st_mode & S_IWUSR) == 0;
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
	e->unrecorded = (st.st_mode & S_IWUSR) == 0;
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

/*
 * The run's batch: a reaper thread for the removals, and one fsync of q/
 * at the end instead of one per entry.
 */
void
queue_batch_begin(struct queue *q)
{
	q->in_run = 1;
	reaper_start(q);
}

size_t
queue_batch_end(struct queue *q)
{
	size_t	failed = reaper_stop(q);

	q->in_run = 0;
	fsync(q->qfd);
	return failed;
}

const size_t *
queue_lock_map(const struct queue_lock *l, size_t *n)
{
	*n = l->n;
	return l->map;
}

struct message *
queue_lock_message(const struct queue_lock *l, const struct queue_entry *e,
    const struct strlist *rcpts)
{
	struct envelope	env;
	int		fd;

	if ((fd = fcntl(l->fd, F_DUPFD_CLOEXEC, 0)) == -1)
		return NULL;
	memset(&env, 0, sizeof(env));
	env.sender = e->sender;
	env.rcpts = *rcpts;
	return message_new_wire(fd, e->size, &env);
}

/*
 * A delivered entry is done once its .env is gone: that unlink happens
 * now, before the next send, so that a flush killed at any moment never
 * sends it again.  The .msg (the costly unlink, the data blocks) and the
 * lock go to the reaper during a batch; an orphan .msg left by a kill is
 * never sent (no .env) and clean_stale() removes it once stale.
 */
int
queue_update(struct queue *q, struct queue_lock *l,
    const struct queue_entry *e, struct error *err)
{
	char	*name;
	int	 rc = 0;

	if (queue_entry_pending(e) > 0) {
		rc = write_env(q, e, err);
		if (rc == -1)
			(void)fchmod(l->fd, S_IRUSR);	/* not recorded */
		else if (e->unrecorded)
			(void)fchmod(l->fd, S_IRUSR | S_IWUSR);
		queue_unlock(l);
		return rc;
	}
	name = xasprintf("%s.env", e->id);
	if (unlinkat(q->qfd, name, 0) == -1 && errno != ENOENT)
		rc = error_set_errno(err, EX_CANTCREAT, "cannot remove "
		    "delivered queue entry %s from '%s/q'", e->id, q->dir);
	free(name);
	if (rc == -1)
		(void)fchmod(l->fd, S_IRUSR);	/* not recorded */
	if (rc == 0 && q->reaper != NULL) {
		reaper_push(q->reaper, e->id, l->fd);
		l->fd = -1;	/* the reaper closes it */
	} else if (rc == 0 && remove_entry(q, e->id) == -1)
		rc = error_set_errno(err, EX_IOERR, "cannot remove queue "
		    "entry %s", e->id);
	queue_unlock(l);
	return rc;
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

/*
 * Can the queue record an outcome?  A one-byte file written, synced and
 * renamed over DIR/.probe (kept: no unlink, outside tmp/ and q/): a
 * read-only or full file system fails here, before anything is sent.
 */
int
queue_writable(struct queue *q, struct error *err)
{
	char	*name;
	int	 fd, rc = 0;

	name = xasprintf(".probe.%ld.%08x", (long)getpid(), util_rnd32());
	fd = openat(q->dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		rc = error_set_errno(err, EX_CANTCREAT, "the queue '%s' "
		    "cannot record outcomes: cannot create a file in the queue directory",
		    q->dir);
	else {
		if (util_write_all(fd, "x", 1) == -1 || fsync(fd) == -1)
			rc = error_set_errno(err, EX_CANTCREAT, "the queue "
			    "'%s' cannot record outcomes: cannot write in "
			    "tmp/", q->dir);
		close(fd);
		if (rc == 0 && renameat(q->dfd, name, q->dfd, ".probe") == -1)
			rc = error_set_errno(err, EX_CANTCREAT, "the queue "
			    "'%s' cannot record outcomes: cannot rename in "
			    "tmp/", q->dir);
		if (rc == -1)
			unlinkat(q->dfd, name, 0);
	}
	free(name);
	return rc;
}
