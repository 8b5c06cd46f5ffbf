/*
 * The shared send rate of an account (ratelimit.h).  The window is a
 * sliding one, as providers count ("30 messages a minute" means no 31
 * within any 60 seconds), kept as the send times themselves: at most N
 * lines of "%.3f\n".  Rewritten in place under an exclusive flock(2); a
 * torn write (a crash mid-way) leaves lines that fail to parse, which are
 * skipped, so the worst case is one window with too few counted sends.
 */
#include "autoconfig.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>		/* isfinite() */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "error.h"
#include "queue.h"
#include "ratelimit.h"
#include "util.h"
#include "xmalloc.h"

#define RATE_MAX	100000u		/* sends per window, at most */
#define RATE_FILE_MAX	(RATE_MAX * 24)	/* bytes read back, at most */

int
ratelimit_parse(const char *s, struct rate *r, struct error *err)
{
	char		*end;
	unsigned long	 n;
	const char	*unit;

	r->n = 0;
	r->window = 60;
	if (strcmp(s, "off") == 0 || strcmp(s, "0") == 0)
		return 0;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (end == s || errno != 0 || n == 0 || n > RATE_MAX || *end != '/')
		return error_set(err, EX_CONFIG, "rate_limit '%s': expected "
		    "N/minute or N/hour with N from 1 to %u, or off", s,
		    RATE_MAX);
	unit = end + 1;
	if (strcmp(unit, "minute") == 0 || strcmp(unit, "min") == 0 ||
	    strcmp(unit, "m") == 0)
		r->window = 60;
	else if (strcmp(unit, "hour") == 0 || strcmp(unit, "h") == 0)
		r->window = 3600;
	else
		return error_set(err, EX_CONFIG, "rate_limit '%s': the unit "
		    "is 'minute' or 'hour', not '%s'", s, unit);
	r->n = (unsigned)n;
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

size_t
ratelimit_window(double *t, size_t n, const struct rate *r, double now,
    int *fits, time_t *next_free)
{
	size_t	i, k = 0;

	for (i = 0; i < n; i++) {
		if (t[i] > now)
			t[i] = now;	/* written while the clock was ahead */
		if (t[i] > now - r->window)
			t[k++] = t[i];
	}
	qsort(t, k, sizeof(*t), cmp_double);
	*fits = r->n == 0 || k < r->n;
	*next_free = 0;
	if (!*fits) {
		/* the (k - n + 1)-th oldest must leave before one fits */
		double	free_at = t[k - r->n] + r->window;

		*next_free = (time_t)free_at;
		if ((double)*next_free < free_at)
			(*next_free)++;		/* rounded up */
	}
	return k;
}

/* "rate/" + the account with anything but [A-Za-z0-9._-] as %XX. */
static char *
rate_path(const char *dir, const char *account)
{
	struct buf	 b = BUF_INIT;
	const char	*p;

	buf_printf(&b, "%s/rate/", dir);
	if (*account == '.')
		buf_printf(&b, "%%%02X", (unsigned char)*account++);
	for (p = account; *p != '\0'; p++) {
		unsigned char	c = (unsigned char)*p;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')
			buf_addch(&b, c);
		else
			buf_printf(&b, "%%%02X", c);
	}
	return buf_detach(&b);
}

/* The times in the file; a line that does not parse is skipped. */
static double *
read_times(int fd, size_t *np, struct error *err)
{
	struct buf	 b = BUF_INIT;
	char		 chunk[8192], *line, *next, *end;
	ssize_t		 r;
	double		*t = NULL, v;
	size_t		 n = 0, cap = 0;

	while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			buf_release(&b);
			error_set_errno(err, EX_TEMPFAIL, "cannot read the "
			    "send-rate file");
			return NULL;
		}
		if (b.len + (size_t)r > RATE_FILE_MAX)
			break;		/* the newest sends are what matter */
		buf_add(&b, chunk, (size_t)r);
	}
	for (line = b.data; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next == NULL)
			break;		/* a torn last line */
		*next++ = '\0';
		errno = 0;
		v = strtod(line, &end);
		if (end == line || *end != '\0' || errno != 0 || !isfinite(v) ||
		    v < 0)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			t = xreallocarray(t, cap, sizeof(*t));
		}
		t[n++] = v;
	}
	buf_release(&b);
	*np = n;
	if (t == NULL)
		t = xmalloc(sizeof(*t));
	return t;
}

/*
 * The one file operation, under the lock: "take" (was < 0) records now
 * when it fits; "settle" moves the time recorded as was to now (the end
 * of that send), or records now when it is gone.
 */
static int
rate_file(const char *dir, const char *account, const struct rate *r,
    double was, double now, time_t *next_free, struct error *err)
{
	char		*path, *rdir;
	struct buf	 out = BUF_INIT;
	double		*t;
	size_t		 n, k, i;
	int		 fd, fits, ret = -1;

	rdir = xasprintf("%s/rate", dir);
	if (mkdir(rdir, 0700) == -1 && errno != EEXIST) {
		error_set_errno(err, EX_TEMPFAIL, "cannot make %s for "
		    "rate_limit", rdir);
		free(rdir);
		return -1;
	}
	free(rdir);
	path = rate_path(dir, account);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		error_set_errno(err, EX_TEMPFAIL, "cannot open %s for "
		    "rate_limit", path);
		free(path);
		return -1;
	}
	while (flock(fd, LOCK_EX) == -1) {
		if (errno != EINTR) {
			error_set_errno(err, EX_TEMPFAIL, "cannot lock %s",
			    path);
			goto out;
		}
	}
	if ((t = read_times(fd, &n, err)) == NULL)
		goto out;
	if (was < 0) {
		k = ratelimit_window(t, n, r, now, &fits, next_free);
		if (fits)
			t[k++] = now;
	} else {
		/* room for one more: read_times() gave at least one */
		t = xreallocarray(t, n + 1, sizeof(*t));
		k = ratelimit_settle_times(t, n, was, now);
		fits = 1;
	}
	/* keep at most n lines: the newest decide the window */
	for (i = k > r->n ? k - r->n : 0; i < k; i++)
		buf_printf(&out, "%.3f\n", t[i]);
	free(t);
	if (lseek(fd, 0, SEEK_SET) == -1 || ftruncate(fd, 0) == -1 ||
	    util_write_all(fd, out.data != NULL ? out.data : "", out.len) ==
	    -1) {
		error_set_errno(err, EX_TEMPFAIL, "cannot write %s", path);
		goto out;
	}
	ret = fits;
out:
	buf_release(&out);
	close(fd);		/* releases the lock */
	free(path);
	return ret;
}

size_t
ratelimit_settle_times(double *t, size_t n, double was, double now)
{
	size_t	i, k;

	for (i = 0; i < n; i++)
		if (t[i] > was - 0.001 && t[i] < was + 0.001)
			break;		/* as written: %.3f */
	if (i < n) {
		if (now > t[i])
			t[i] = now;
		k = n;
	} else
		t[(k = n + 1) - 1] = now;	/* gone: counted again */
	qsort(t, k, sizeof(*t), cmp_double);
	return k;
}

int
ratelimit_take(const char *dir, const char *account, const struct rate *r,
    double now, time_t *next_free, struct error *err)
{
	*next_free = 0;
	if (r->n == 0)
		return 1;
	return rate_file(dir, account, r, -1.0, now, next_free, err);
}

int
ratelimit_settle(const char *dir, const char *account, const struct rate *r,
    double was, double now, struct error *err)
{
	time_t	unused;

	if (r->n == 0)
		return 0;
	return rate_file(dir, account, r, was, now, &unused, err) == -1 ?
	    -1 : 0;
}

/* The account's queue directory, made on a fresh install's first send
 * as the queue makes it. */
static char *
account_dir(const struct account *a, struct error *err)
{
	struct queue	*q;
	char		*dir, *path;

	dir = a->queue_dir != NULL ? xstrdup(a->queue_dir) :
	    queue_default_dir();
	q = queue_open(dir, 1, err);
	free(dir);
	if (q == NULL)
		return NULL;
	path = xstrdup(queue_path(q));
	queue_close(q);
	return path;
}

static double
now_real(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
ratelimit_account_settle(const struct account *a, double taken,
    struct error *err)
{
	struct rate	 r;
	char		*dir;
	int		 rc;

	account_rate(a, &r);
	if (r.n == 0 || taken <= 0)
		return 0;
	if ((dir = account_dir(a, err)) == NULL)
		return -1;
	rc = ratelimit_settle(dir, a->name, &r, taken, now_real(), err);
	free(dir);
	return rc;
}

int
ratelimit_account(const struct account *a, time_t *next_free,
    double *taken, struct error *err)
{
	struct rate	 r;
	struct tm	 tm;
	char		 when[32], *dir;
	double		 now;
	int		 rc;

	account_rate(a, &r);
	*next_free = 0;
	*taken = 0;
	if (r.n == 0)
		return 1;
	if ((dir = account_dir(a, err)) == NULL)
		return -1;
	now = now_real();
	rc = ratelimit_take(dir, a->name, &r, now, next_free, err);
	free(dir);
	if (rc == 1)
		*taken = now;
	if (rc == 0) {
		if (localtime_r(next_free, &tm) == NULL ||
		    strftime(when, sizeof(when), "%H:%M:%S", &tm) == 0)
			snprintf(when, sizeof(when), "%lld",
			    (long long)*next_free);
		error_set(err, EX_TEMPFAIL, "account '%s': rate_limit %u/%s "
		    "reached, the next slot frees at %s", a->name, r.n,
		    r.window == 3600 ? "hour" : "minute", when);
	}
	return rc;
}
