/*
 * Local delivery, the embedded default when no relay is configured: the
 * user's Maildir when it exists, else an mbox in the spool directory with
 * fcntl and dotlock locking and mboxrd ">From " quoting.
 */
#include "autoconfig.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "local.h"
#include "mbox.h"
#include "log.h"
#include "message.h"
#include "outcome.h"
#include "util.h"
#include "xmalloc.h"

#define SPOOL_DEFAULT	"/var/mail"
#define MAILDIR_DEFAULT	"~/Maildir"
#define LOCK_TIMEOUT	10		/* seconds, when opts say 0 */
#define LOCK_POLL_NS	100000000L	/* 100 ms between lock tries */
#define DOTLOCK_STALE	(5 * 60)	/* seconds: older dotlocks are broken */
#define USER_MAX	256		/* longest user name we look up */
#define OPEN_TRIES	3		/* mbox replaced under us: reopen */
#define MAILDIR_TRIES	3		/* unique name collisions */

/* What we need of a passwd entry (getpwnam() storage is static). */
struct user {
	char	*name;
	uid_t	 uid;
	gid_t	 gid;
	char	*home;
};

static int	 user_name_ok(const char *);
static struct passwd *pwnam(const char *, int *);
static int	 user_lookup(const char *, struct user *, struct error *);
static void	 user_release(struct user *);
static long long mono_ms(void);
static void	 nap(void);
static char	*expand_maildir(const char *, const struct user *);
static char	*maildir_unique(void);
static int	 maildir_subdir(int, const char *, const char *,
		    const struct user *, struct error *);
static int	 deliver_maildir(const char *, const struct user *,
		    const struct message *, char **, struct error *);
static int	 mbox_open(const char *, const struct user *, struct stat *,
		    int *, struct error *);
static int	 lock_fcntl(int, const char *, long long, int,
		    struct error *);
static int	 dotlock(const char *, const char *, long long, int,
		    struct error *);
static int	 deliver_mbox(const char *, const struct user *, const char *,
		    const struct message *, int, char **, struct error *);
static int	 deliver_user(const struct local_opts *, const struct user *,
		    const char *, const struct message *, char **,
		    struct error *);
static int	 worse(int, int);
static void	 set_result(struct rcpt_result *, enum rcpt_state, int,
		    const char *);

int
local_is_local(const struct local_opts *opts, const char *mailbox)
{
	const char	*at = strrchr(mailbox, '@');
	char		*dom;
	size_t		 len;
	int		 local;

	if (at == NULL)
		return 1;
	dom = xstrdup(at + 1);
	/* An absolute domain "localhost." is the same domain. */
	len = strlen(dom);
	if (len > 0 && dom[len - 1] == '.')
		dom[len - 1] = '\0';
	local = strcasecmp(dom, "localhost") == 0 || (opts != NULL &&
	    opts->domains != NULL &&
	    strlist_contains_nocase(opts->domains, dom));
	free(dom);
	return local;
}

char *
local_user(const char *mailbox)
{
	const char	*at = strrchr(mailbox, '@');
	size_t		 len = at != NULL ? (size_t)(at - mailbox) :
	    strlen(mailbox);
	struct buf	 b = BUF_INIT;
	size_t		 i;

	/* RFC 5321 4.1.2: a quoted local part; drop the quotes and the
	 * backslashes of quoted pairs. */
	if (len >= 2 && mailbox[0] == '"' && mailbox[len - 1] == '"') {
		for (i = 1; i < len - 1; i++) {
			if (mailbox[i] == '\\' && i + 1 < len - 1)
				i++;
			buf_addch(&b, mailbox[i]);
		}
		return buf_detach(&b);
	}
	return xstrndup(mailbox, len);
}

int
local_check_user(const char *mailbox, struct error *err)
{
	struct user	 u;
	char		*name = local_user(mailbox);
	int		 rc;

	if ((rc = user_lookup(name, &u, err)) == 0)
		user_release(&u);
	free(name);
	return rc;
}

int
local_deliver(const struct local_opts *opts, const struct message *msg,
    struct outcome *res, struct error *err)
{
	const struct envelope	*env = message_envelope(msg);
	char			**done;		/* user delivered for rcpt i */
	int			 *codes;	/* EX_* outcome of rcpt i */
	size_t			 i, j, nlocal = 0, nok = 0, chosen = 0;
	int			 code = EX_OK;

	if (res->n != env->rcpts.n)
		return error_set(err, EX_SOFTWARE, "local delivery: %zu "
		    "results for %zu recipients", res->n, env->rcpts.n);
	done = xcalloc(env->rcpts.n + 1, sizeof(*done));
	codes = xcalloc(env->rcpts.n + 1, sizeof(*codes));
	for (i = 0; i < env->rcpts.n; i++) {
		const char	*rcpt = env->rcpts.v[i];
		struct error	 e = ERROR_INIT;
		struct user	 u;
		char		*name, *where = NULL;

		if (!local_is_local(opts, rcpt))
			continue;
		nlocal++;
		name = local_user(rcpt);
		if (user_lookup(name, &u, &e) == 0) {
			for (j = 0; j < i; j++)
				if (done[j] != NULL &&
				    strcmp(done[j], u.name) == 0)
					break;
			if (j < i) {
				/* One copy per user: share the outcome. */
				set_result(&res->rcpt[i], res->rcpt[j].state,
				    res->rcpt[j].code, res->rcpt[j].reply);
				codes[i] = codes[j];
			} else if (deliver_user(opts, &u, env->sender, msg,
			    &where, &e) == 0) {
				log_debug("delivered to %s", where);
				set_result(&res->rcpt[i], RCPT_ACCEPTED, 250,
				    NULL);
				res->rcpt[i].reply = xasprintf(
				    "delivered to %s", where);
				free(where);
			}
			done[i] = xstrdup(u.name);
			user_release(&u);
		}
		free(name);
		if (e.code != EX_OK) {
			/* Unknown users are permanent; a full disk, a lock,
			 * a mailbox we may not write can be fixed. */
			set_result(&res->rcpt[i], e.code == EX_NOUSER ?
			    RCPT_PERMFAIL : RCPT_TEMPFAIL, e.code == EX_NOUSER ?
			    550 : 451, e.msg);
			codes[i] = e.code;
			error_release(&e);
		}
		if (res->rcpt[i].state == RCPT_ACCEPTED)
			nok++;
		else if (codes[i] != EX_OK && (code == EX_OK ||
		    worse(codes[i], code))) {
			code = codes[i];
			chosen = i;
		}
	}
	for (i = 0; i < env->rcpts.n; i++)
		free(done[i]);
	free(done);
	free(codes);

	if (nlocal == 0) {
		error_set(err, EX_UNAVAILABLE, "no relay configured "
		    "for remote recipient '%s' (set 'host' in the "
		    "configuration file)", env->rcpts.n > 0 ?
		    env->rcpts.v[0] : "");
		outcome_fail(res, OUTCOME_PERMANENT, STEP_LOCAL,
		    EX_UNAVAILABLE, 0, err->msg, NULL);
		return -1;
	}
	for (i = 0; i < env->rcpts.n; i++) {
		if (res->rcpt[i].state != RCPT_TEMPFAIL &&
		    res->rcpt[i].state != RCPT_PERMFAIL)
			continue;
		if (nok == 0 && i == chosen)
			continue;
		log_warnx("cannot deliver to '%s': %s", env->rcpts.v[i],
		    res->rcpt[i].reply != NULL ? res->rcpt[i].reply : "");
	}
	if (nok > 0) {
		/* what stopped the others, for the caller's policy */
		res->exitcode = code;
		return 0;
	}
	/* A full disk or a lock passes; an unknown user does not. */
	outcome_fail(res, outcome_count(res, RCPT_TEMPFAIL) > 0 ?
	    OUTCOME_RETRY : OUTCOME_PERMANENT, STEP_LOCAL, code,
	    res->rcpt[chosen].code, res->rcpt[chosen].reply, NULL);
	return error_set(err, code, "%s", res->rcpt[chosen].reply);
}

/*
 * Which failure names the whole when nobody got the message: a
 * temporary one (a lock, a full disk) before a mailbox we cannot write,
 * before an unknown user.  Only the wording: the class is set from the
 * recipients' states.
 */
static int
worse(int a, int b)
{
	if (b == EX_TEMPFAIL)
		return 0;
	if (a == EX_TEMPFAIL)
		return 1;
	return b == EX_NOUSER && a != EX_NOUSER;
}

static void
set_result(struct rcpt_result *r, enum rcpt_state state, int code,
    const char *reply)
{
	char	*copy = reply != NULL ? xstrdup(reply) : NULL;

	free(r->reply);
	r->state = state;
	r->code = code;
	r->reply = copy;
}

/*
 * A name we are willing to look up and use in a path: no '/', no leading
 * '.', no control characters or spaces, bounded.
 */
static int
user_name_ok(const char *name)
{
	const unsigned char	*p;

	if (name[0] == '\0' || name[0] == '.' || strlen(name) >= USER_MAX)
		return 0;
	for (p = (const unsigned char *)name; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '/')
			return 0;
	return 1;
}

/* getpwnam() with *e = 0 for "no such user", else the errno. */
static struct passwd *
pwnam(const char *name, int *e)
{
	struct passwd	*pw;

	errno = 0;
	pw = getpwnam(name);
	*e = 0;
	/* getpwnam(3): these mean "not found" on various systems. */
	if (pw == NULL && errno != 0 && errno != ENOENT && errno != ESRCH &&
	    errno != EBADF && errno != EPERM)
		*e = errno;
	return pw;
}

static int
user_lookup(const char *name, struct user *u, struct error *err)
{
	struct passwd	*pw = NULL;
	char		*lower;
	size_t		 i;
	int		 e = 0;

	if (user_name_ok(name)) {
		pw = pwnam(name, &e);
		/* Local parts are case-sensitive, user names are mostly
		 * lower-case: try that too, as Postfix local(8) does. */
		if (pw == NULL && e == 0) {
			lower = xstrdup(name);
			for (i = 0; lower[i] != '\0'; i++)
				if (lower[i] >= 'A' && lower[i] <= 'Z')
					lower[i] = (char)(lower[i] - 'A' +
					    'a');
			if (strcmp(lower, name) != 0)
				pw = pwnam(lower, &e);
			free(lower);
		}
	}
	if (pw == NULL && e != 0) {
		errno = e;
		return error_set_errno(err, EX_TEMPFAIL,
		    "cannot look up local user '%s'", name);
	}
	if (pw == NULL)
		return error_set(err, EX_NOUSER, "unknown local user '%s'",
		    name);
	u->name = xstrdup(pw->pw_name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	u->home = xstrdup(pw->pw_dir != NULL ? pw->pw_dir : "/");
	return 0;
}

static void
user_release(struct user *u)
{
	free(u->name);
	free(u->home);
	u->name = u->home = NULL;
}

static int
deliver_user(const struct local_opts *opts, const struct user *u,
    const char *sender, const struct message *msg, char **where,
    struct error *err)
{
	struct stat	 st;
	char		*md;
	int		 r, timeout;

	md = expand_maildir(opts->maildir != NULL ? opts->maildir :
	    MAILDIR_DEFAULT, u);
	if (stat(md, &st) == 0 && S_ISDIR(st.st_mode)) {
		r = deliver_maildir(md, u, msg, where, err);
		free(md);
		return r;
	}
	free(md);
	timeout = opts->lock_timeout > 0 ? opts->lock_timeout : LOCK_TIMEOUT;
	return deliver_mbox(opts->spool != NULL ? opts->spool : SPOOL_DEFAULT,
	    u, sender, msg, timeout, where, err);
}

static long long
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
nap(void)
{
	struct timespec	ts = { 0, LOCK_POLL_NS };

	nanosleep(&ts, NULL);
}

/*
 * The Maildir template: a leading "~" is the user's home, "%u" the user
 * name, "%%" a '%'; a relative result is relative to the home (as
 * Postfix's home_mailbox).  Returns an allocated string.
 */
static char *
expand_maildir(const char *tmpl, const struct user *u)
{
	struct buf	 b = BUF_INIT;
	const char	*p = tmpl;

	if (p[0] == '~' && (p[1] == '/' || p[1] == '\0')) {
		buf_addstr(&b, u->home);
		p++;
	} else if (p[0] != '/') {
		buf_addstr(&b, u->home);
		buf_addch(&b, '/');
	}
	for (; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == 'u') {
			buf_addstr(&b, u->name);
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			buf_addch(&b, '%');
			p++;
		} else
			buf_addch(&b, *p);
	}
	return buf_detach(&b);
}

/*
 * A unique file name per the Maildir specification (cr.yp.to/proto/
 * maildir.html): "time.MusecPpid_random.host", with '/' and ':' in the
 * host name written as \057 and \072.  Returns an allocated string.
 */
static char *
maildir_unique(void)
{
	static unsigned	 seq;
	struct timespec	 ts;
	struct buf	 host = BUF_INIT;
	char		 name[256], *s;
	const char	*p;
	unsigned	 rnd;

	clock_gettime(CLOCK_REALTIME, &ts);
	rnd = util_rnd32() ^ seq++;
	if (gethostname(name, sizeof(name)) == -1)
		name[0] = '\0';
	name[sizeof(name) - 1] = '\0';
	for (p = name; *p != '\0'; p++) {
		if (*p == '/')
			buf_addstr(&host, "\\057");
		else if (*p == ':')
			buf_addstr(&host, "\\072");
		else
			buf_addch(&host, *p);
	}
	s = xasprintf("%lld.M%06ldP%ld_%08x.%s", (long long)ts.tv_sec,
	    ts.tv_nsec / 1000, (long)getpid(), rnd,
	    host.len > 0 ? buf_str(&host) : "localhost");
	buf_release(&host);
	return s;
}

/*
 * Open the Maildir subdirectory name of the Maildir open at dirfd, making
 * it when missing.  It must be a real directory (not a symlink) and, when
 * we run as root, belong to the user.  Returns the fd or -1.
 */
static int
maildir_subdir(int dirfd, const char *md, const char *name,
    const struct user *u, struct error *err)
{
	struct stat	st;
	int		fd;

	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1 && errno == ENOENT) {
		if (mkdirat(dirfd, name, 0700) == -1 && errno != EEXIST)
			return error_set_errno(err, EX_CANTCREAT,
			    "cannot create '%s/%s'", md, name);
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (fd != -1 && geteuid() == 0 &&
		    fchown(fd, u->uid, u->gid) == -1) {
			error_set_errno(err, EX_CANTCREAT,
			    "cannot change the owner of '%s/%s'", md, name);
			close(fd);
			return -1;
		}
	}
	if (fd == -1)
		return error_set_errno(err, EX_CANTCREAT,
		    "cannot open Maildir directory '%s/%s'", md, name);
	if (fstat(fd, &st) == -1 || (geteuid() == 0 && st.st_uid != u->uid)) {
		close(fd);
		return error_set(err, EX_CANTCREAT, "maildir directory "
		    "'%s/%s' does not belong to '%s'", md, name, u->name);
	}
	return fd;
}

/*
 * Maildir delivery: write tmp/UNIQUE, fsync, rename to new/UNIQUE, fsync
 * new/.  Everything goes through directory fds opened without following
 * symlinks, so a user cannot redirect a root delivery.
 */
static int
deliver_maildir(const char *md, const struct user *u,
    const struct message *msg, char **where, struct error *err)
{
	struct stat	 st;
	char		*uniq = NULL, *tmppath = NULL;
	int		 dfd, tmpfd = -1, newfd = -1, curfd = -1, fd = -1;
	int		 tries, r = -1;

	dfd = open(md, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1)
		return error_set_errno(err, EX_CANTCREAT,
		    "cannot open Maildir '%s'", md);
	if (fstat(dfd, &st) == -1 || (geteuid() == 0 && st.st_uid != u->uid)) {
		error_set(err, EX_CANTCREAT, "maildir '%s' does not belong "
		    "to '%s'", md, u->name);
		goto out;
	}
	if ((tmpfd = maildir_subdir(dfd, md, "tmp", u, err)) == -1 ||
	    (newfd = maildir_subdir(dfd, md, "new", u, err)) == -1 ||
	    (curfd = maildir_subdir(dfd, md, "cur", u, err)) == -1)
		goto out;
	for (tries = 0; tries < MAILDIR_TRIES; tries++) {
		free(uniq);
		uniq = maildir_unique();
		fd = openat(tmpfd, uniq, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd != -1 || errno != EEXIST)
			break;
	}
	if (fd == -1) {
		error_set_errno(err, errno == ENOSPC || errno == EDQUOT ?
		    EX_TEMPFAIL : EX_CANTCREAT, "cannot create '%s/tmp/%s'",
		    md, uniq);
		goto out;
	}
	if (geteuid() == 0 && fchown(fd, u->uid, u->gid) == -1) {
		error_set_errno(err, EX_CANTCREAT, "cannot change the owner "
		    "of '%s/tmp/%s'", md, uniq);
		goto fail;
	}
	tmppath = xasprintf("%s/tmp/%s", md, uniq);
	if (mbox_write(fd, tmppath, NULL, NULL, msg, 0, err) == -1)
		goto fail;
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		error_set_errno(err, EX_TEMPFAIL, "cannot write '%s/tmp/%s'",
		    md, uniq);
		goto fail;
	}
	fd = -1;
	if (renameat(tmpfd, uniq, newfd, uniq) == -1) {
		error_set_errno(err, EX_TEMPFAIL, "cannot move '%s/tmp/%s' "
		    "to new/", md, uniq);
		goto fail;
	}
	/* The rename is durable only once the directory is synced. */
	if (fsync(newfd) == -1)
		log_warnx("cannot sync '%s/new': %s", md, strerror(errno));
	*where = xasprintf("%s/new/%s", md, uniq);
	r = 0;
	goto out;
fail:
	if (fd != -1)
		close(fd);
	fd = -1;
	unlinkat(tmpfd, uniq, 0);
out:
	if (fd != -1)
		close(fd);
	if (tmpfd != -1)
		close(tmpfd);
	if (newfd != -1)
		close(newfd);
	if (curfd != -1)
		close(curfd);
	close(dfd);
	free(tmppath);
	free(uniq);
	return r;
}

/*
 * Open (creating if needed) the mbox for appending, never through a
 * symlink, and check that it is a regular file with one link (a hard link
 * to another file would let a user have root append to it), owned by the
 * user when we are root.  A new file is 0600, or 0660 user:mail when root
 * and the group "mail" exists (Debian policy 11.6).  Returns the fd, its
 * stat and whether it was created, or -1.
 */
static int
mbox_open(const char *path, const struct user *u, struct stat *st,
    int *createdp, struct error *err)
{
	const int	 flags = O_RDWR | O_APPEND | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC;
	struct group	*gr;
	struct stat	 lst;
	int		 fd = -1, tries, created = 0, fl;

	for (tries = 0; tries < OPEN_TRIES && fd == -1; tries++) {
		created = 0;
		fd = open(path, flags);
		if (fd == -1 && errno == ENOENT) {
			fd = open(path, flags | O_CREAT | O_EXCL, 0600);
			if (fd == -1 && errno == EEXIST)
				continue;
			created = fd != -1;
		}
		if (fd == -1)
			break;
	}
	if (fd == -1) {
		if (errno == ELOOP && lstat(path, &lst) == 0 &&
		    S_ISLNK(lst.st_mode))
			return error_set(err, EX_CANTCREAT, "mailbox '%s' is "
			    "a symbolic link: not following it", path);
		if (errno == ENOSPC || errno == EDQUOT)
			return error_set_errno(err, EX_TEMPFAIL,
			    "cannot create mailbox '%s'", path);
		return error_set_errno(err, EX_CANTCREAT,
		    "cannot open mailbox '%s'", path);
	}
	/* O_NONBLOCK was only so that a FIFO cannot hang the open. */
	if ((fl = fcntl(fd, F_GETFL)) != -1)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	if (fstat(fd, st) == -1) {
		error_set_errno(err, EX_CANTCREAT, "cannot stat mailbox '%s'",
		    path);
		goto fail;
	}
	if (!S_ISREG(st->st_mode)) {
		error_set(err, EX_CANTCREAT, "mailbox '%s' is not a regular "
		    "file", path);
		goto fail;
	}
	if (st->st_nlink != 1) {
		error_set(err, EX_CANTCREAT, "mailbox '%s' has %lu links: "
		    "refusing to write", path, (unsigned long)st->st_nlink);
		goto fail;
	}
	if (created && geteuid() == 0) {
		gr = getgrnam("mail");
		if (fchown(fd, u->uid, gr != NULL ? gr->gr_gid : u->gid) ==
		    -1 || fchmod(fd, gr != NULL ? 0660 : 0600) == -1) {
			error_set_errno(err, EX_CANTCREAT, "cannot set the "
			    "owner of mailbox '%s'", path);
			unlink(path);
			goto fail;
		}
		st->st_uid = u->uid;
	}
	*createdp = created;
	if (geteuid() == 0 && st->st_uid != u->uid) {
		error_set(err, EX_CANTCREAT, "mailbox '%s' does not belong to "
		    "'%s'", path, u->name);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/*
 * fcntl(2) write lock on the whole file, bounded: F_SETLK retried until
 * the deadline rather than F_SETLKW, which could wait forever.
 */
static int
lock_fcntl(int fd, const char *path, long long deadline, int timeout,
    struct error *err)
{
	struct flock	fl;

	for (;;) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(fd, F_SETLK, &fl) == 0)
			return 0;
		if (errno != EACCES && errno != EAGAIN && errno != EINTR)
			return error_set_errno(err, EX_TEMPFAIL,
			    "cannot lock mailbox '%s'", path);
		if (mono_ms() >= deadline)
			return error_set(err, EX_TEMPFAIL, "mailbox '%s' is "
			    "locked by another process (waited %d s)", path,
			    timeout);
		nap();
	}
}

/*
 * The dotlock USER.lock next to the mbox, made with O_CREAT|O_EXCL.
 * Returns 1 when held, 0 when the spool directory does not let us create
 * it (then fcntl alone, as many MDAs do), -1 on timeout.  A lock file
 * older than DOTLOCK_STALE is left over from a crash and is removed.
 * XXX: two processes breaking the same stale lock can race (one may
 * remove the other's fresh lock); the fcntl lock still serialises them.
 */
static int
dotlock(const char *lockpath, const char *path, long long deadline,
    int timeout, struct error *err)
{
	struct stat	 st;
	char		*pid;
	int		 fd;

	for (;;) {
		fd = open(lockpath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd != -1) {
			pid = xasprintf("%ld\n", (long)getpid());
			(void)util_write_all(fd, pid, strlen(pid));
			free(pid);
			close(fd);
			return 1;
		}
		if (errno == EACCES || errno == EPERM || errno == EROFS) {
			log_debug("cannot create lock file '%s': %s: using "
			    "fcntl locking alone", lockpath, strerror(errno));
			return 0;
		}
		if (errno != EEXIST)
			return error_set_errno(err, EX_TEMPFAIL,
			    "cannot create lock file '%s'", lockpath);
		if (lstat(lockpath, &st) == 0 &&
		    time(NULL) - st.st_mtime > DOTLOCK_STALE) {
			log_warnx("removing stale lock file '%s'", lockpath);
			if (unlink(lockpath) == -1 && errno != ENOENT)
				return error_set_errno(err, EX_TEMPFAIL,
				    "cannot remove stale lock file '%s'",
				    lockpath);
			continue;
		}
		if (mono_ms() >= deadline)
			return error_set(err, EX_TEMPFAIL, "mailbox '%s' is "
			    "locked: lock file '%s' exists (waited %d s)", path,
			    lockpath, timeout);
		nap();
	}
}

/*
 * mbox delivery: open, fcntl lock, dotlock, check that the path still
 * names the file we locked, append, fsync, unlock.  A failed write is
 * undone with ftruncate() so no partial message is ever left.
 */
static int
deliver_mbox(const char *spool, const struct user *u, const char *sender,
    const struct message *msg, int timeout, char **where, struct error *err)
{
	struct stat	 st, now;
	char		*path, *lockpath;
	long long	 deadline = mono_ms() + (long long)timeout * 1000;
	int		 fd = -1, tries, held = 0, r = -1, created = 0, dfd;
	char		 last;

	path = xasprintf("%s/%s", spool, u->name);
	lockpath = xasprintf("%s.lock", path);
	for (tries = 0; tries < OPEN_TRIES; tries++) {
		if ((fd = mbox_open(path, u, &st, &created, err)) == -1)
			goto out;
		if (lock_fcntl(fd, path, deadline, timeout, err) == -1)
			goto out;
		if ((held = dotlock(lockpath, path, deadline, timeout,
		    err)) == -1) {
			held = 0;
			goto out;
		}
		/* A mail reader may have replaced the file while we
		 * waited for the lock: the path must still name it. */
		if (lstat(path, &now) == 0 && now.st_dev == st.st_dev &&
		    now.st_ino == st.st_ino)
			break;
		if (held)
			unlink(lockpath);
		held = 0;
		close(fd);
		fd = -1;
	}
	if (fd == -1) {
		error_set(err, EX_TEMPFAIL, "mailbox '%s' keeps being "
		    "replaced", path);
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		error_set_errno(err, EX_TEMPFAIL, "cannot stat mailbox '%s'",
		    path);
		goto out;
	}
	/* A mailbox not ending in a newline would glue our "From " line
	 * to its last line. */
	if (st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) == 1 &&
	    last != '\n' && util_write_all(fd, "\n", 1) == -1) {
		error_set_errno(err, EX_TEMPFAIL, "cannot write to '%s'",
		    path);
		goto undo;
	}
	if (mbox_write(fd, path, sender, NULL, msg, 1, err) == -1)
		goto undo;
	if (fsync(fd) == -1) {
		error_set_errno(err, EX_TEMPFAIL, "cannot sync mailbox '%s'",
		    path);
		goto undo;
	}
	/* A new mailbox's directory entry must be durable too. */
	if (created) {
		dfd = open(spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd == -1 || fsync(dfd) == -1)
			log_warnx("cannot sync '%s': %s", spool,
			    strerror(errno));
		if (dfd != -1)
			close(dfd);
	}
	*where = xstrdup(path);
	r = 0;
	goto out;
undo:
	if (ftruncate(fd, st.st_size) == -1 || fsync(fd) == -1)
		log_warnx("cannot remove a partial message from '%s': %s",
		    path, strerror(errno));
out:
	if (held)
		unlink(lockpath);
	/* Closing drops the fcntl lock, after the data is synced. */
	if (fd != -1)
		close(fd);
	free(lockpath);
	free(path);
	return r;
}
