/*
 * Unit tests of the queue: entries saved, listed, locked, finished,
 * deleted and held; torn and foreign files refused; the backoff
 * schedule; the error classification; the listing; dead.letter (mbox.c);
 * the runner's record and flush (runner.c, its attempt wrapped).
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "error.h"
#include "message.h"
#include "bounce.h"
#include "mbox.h"
#include "queue.h"
#include "runner.h"
#include "send.h"
#include "outcome.h"
#include "util.h"
#include "xmalloc.h"

struct fixture {
	char		 dir[64];	/* the test's private directory */
	char		*qdir;
	struct queue	*q;
};

static int
setup(void **state)
{
	struct fixture	*f = xcalloc(1, sizeof(*f));
	struct error	 err = ERROR_INIT;

	strcpy(f->dir, "/tmp/test_queue.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->qdir = xasprintf("%s/spool/queue", f->dir);
	f->q = queue_open(f->qdir, 1, &err);
	assert_non_null(f->q);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		*cmd;

	queue_close(f->q);
	cmd = xasprintf("rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f->qdir);
	free(f);
	return 0;
}

/* A finalized message with these recipients (a NULL-terminated list). */
static struct message *
make_msg(const struct fixture *f, const char *sender, const char *body,
    const char *const *rcpt)
{
	struct message_opts	 mo;
	struct strlist		 rcpts = STRLIST_INIT;
	struct message		*msg;
	struct error		 err = ERROR_INIT;
	char			*path, *text;
	int			 fd;

	for (; *rcpt != NULL; rcpt++)
		strlist_add(&rcpts, *rcpt);
	path = xasprintf("%s/input", f->dir);
	text = xasprintf("Subject: test\nMessage-ID: <%s@test>\n\n%s\n", body,
	    body);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(util_write_all(fd, text, strlen(text)), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	memset(&mo, 0, sizeof(mo));
	mo.qualify_domain = "example.org";
	mo.set_from_header = TRI_AUTO;
	mo.set_date_header = TRI_AUTO;
	mo.set_msgid_header = TRI_AUTO;
	mo.remove_bcc_headers = 1;
	mo.sender = sender;
	mo.rcpts = &rcpts;
	msg = message_read(fd, &mo, &err);
	assert_non_null(msg);
	assert_int_equal(message_finalize(msg, &mo, &err), 0);
	close(fd);
	unlink(path);
	free(path);
	free(text);
	strlist_release(&rcpts);
	return msg;
}

static const char *const two[] = { "a@example.com", "b@example.com", NULL };

static char *
save(struct fixture *f, const char *body, const struct outcome *res)
{
	struct message	*msg = make_msg(f, "s@example.org", body, two);
	struct error	 err = ERROR_INIT;
	char		*id;

	id = queue_save(f->q, msg, res, "acct", "relay down", 1, &err);
	assert_non_null(id);
	message_free(msg);
	return id;
}

/* Number of files in the queue's subdirectory sub ("q" or "tmp"). */
static int
count_files(const struct fixture *f, const char *sub)
{
	struct dirent	*de;
	DIR		*d;
	char		*p = xasprintf("%s/%s", f->qdir, sub);
	int		 n = 0;

	d = opendir(p);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	free(p);
	return n;
}

static char *
entry_path(const struct fixture *f, const char *id, const char *ext)
{
	return xasprintf("%s/q/%s.%s", f->qdir, id, ext);
}

static size_t
list_n(struct fixture *f)
{
	struct queue_entry	**v;
	struct error		  err = ERROR_INIT;
	size_t			  n;

	assert_int_equal(queue_list(f->q, &v, &n, &err), 0);
	queue_entries_free(v, n);
	return n;
}

static void
queue_save__new_message__listed_with_its_envelope(void **state)
{
	struct fixture		 *f = *state;
	struct queue_entry	**v;
	struct error		  err = ERROR_INIT;
	size_t			  n;
	char			 *id;

	id = save(f, "one", NULL);
	assert_int_equal(count_files(f, "q"), 2);
	assert_int_equal(count_files(f, "tmp"), 0);
	assert_int_equal(queue_list(f->q, &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0]->id, id);
	assert_string_equal(v[0]->account, "acct");
	assert_string_equal(v[0]->sender, "s@example.org");
	assert_string_equal(v[0]->msgid, "<one@test>");
	assert_string_equal(v[0]->last_error, "relay down");
	assert_int_equal(v[0]->rcpts.n, 2);
	assert_int_equal(v[0]->state[0], RCPT_PENDING);
	assert_int_equal(v[0]->attempts, 0);
	assert_int_equal(v[0]->bounce, 1);
	assert_true(v[0]->next_attempt <= time(NULL));
	assert_int_equal(queue_entry_pending(v[0]), 2);
	queue_entries_free(v, n);
	free(id);
}

static void
queue_save__reason_with_newline__stored_on_one_line(void **state)
{
	struct fixture		 *f = *state;
	struct message		 *msg = make_msg(f, "s@example.org", "nl", two);
	struct queue_entry	**v;
	struct error		  err = ERROR_INIT;
	size_t			  n;
	char			 *id;

	id = queue_save(f->q, msg, NULL, NULL, "bad\r\nrcpt evil", 0, &err);
	assert_non_null(id);
	assert_int_equal(queue_list(f->q, &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0]->last_error, "bad  rcpt evil");
	assert_null(v[0]->account);
	assert_int_equal(v[0]->rcpts.n, 2);
	queue_entries_free(v, n);
	message_free(msg);
	free(id);
}

static void
queue_lock_entry__pending_subset__wire_message_has_only_them(void **state)
{
	struct fixture		*f = *state;
	struct outcome	 res;
	struct queue_lock	*l;
	struct queue_entry	*e;
	struct message		*msg;
	struct error		 err = ERROR_INIT;
	char			*id;

	outcome_init(&res, 2);
	res.rcpt[0].state = RCPT_ACCEPTED;
	res.rcpt[1].state = RCPT_TEMPFAIL;
	res.rcpt[1].code = 450;
	id = save(f, "partial", &res);
	outcome_release(&res);

	assert_int_equal(queue_lock_entry(f->q, id, &l, &e, &msg, &err), 1);
	assert_int_equal(message_envelope(msg)->rcpts.n, 1);
	assert_string_equal(message_envelope(msg)->rcpts.v[0],
	    "b@example.com");
	assert_string_equal(message_envelope(msg)->sender, "s@example.org");
	assert_int_equal(e->attempts, 1);
	assert_true(e->next_attempt > time(NULL));
	message_free(msg);
	queue_unlock(l);
	queue_entry_free(e);
	free(id);
}

static void
queue_lock_entry__locked_elsewhere__returns_zero(void **state)
{
	struct fixture		*f = *state;
	struct queue_lock	*l, *l2;
	struct queue_entry	*e, *e2;
	struct message		*msg, *msg2;
	struct error		 err = ERROR_INIT;
	char			*id = save(f, "lock", NULL);
	pid_t			 pid;
	int			 status;

	assert_int_equal(queue_lock_entry(f->q, id, &l, &e, &msg, &err), 1);
	/* a second open file description in this process */
	assert_int_equal(queue_lock_entry(f->q, id, &l2, &e2, &msg2, &err),
	    0);
	/* and another process */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(queue_lock_entry(f->q, id, &l2, &e2, &msg2, &err) == 0 ?
		    0 : 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	message_free(msg);
	queue_unlock(l);
	queue_entry_free(e);
	/* unlocked: available again */
	assert_int_equal(queue_lock_entry(f->q, id, &l, &e, &msg, &err), 1);
	message_free(msg);
	queue_unlock(l);
	queue_entry_free(e);
	free(id);
}

static void
runner_record__all_accepted__entry_removed(void **state)
{
	struct fixture		*f = *state;
	struct outcome	 res;
	struct queue_lock	*l;
	struct queue_entry	*e;
	struct message		*msg;
	struct error		 err = ERROR_INIT;
	char			*id = save(f, "done", NULL);

	assert_int_equal(queue_lock_entry(f->q, id, &l, &e, &msg, &err), 1);
	outcome_init(&res, 2);
	res.rcpt[0].state = res.rcpt[1].state = RCPT_ACCEPTED;
	message_free(msg);
	assert_int_equal(runner_record(f->q, l, e, &res, NULL, NULL, 0, &err), 0);
	assert_int_equal(count_files(f, "q"), 0);
	assert_int_equal(count_files(f, "tmp"), 0);
	assert_int_equal(queue_lock_entry(f->q, id, &l, &e, &msg, &err), 0);
	outcome_release(&res);
	queue_entry_free(e);
	free(id);
}

static void
runner_record__one_deferred__only_it_stays_with_backoff(void **state)
{
	struct fixture		*f = *state;
	struct outcome	 res;
	struct queue_lock	*l;
	struct queue_entry	*e;
	struct message		*msg;
	struct error		 err = ERROR_INIT;
	char			*id = save(f, "half", NULL);
	time_t			 now = time(NULL);

	assert_int_equal(queue_lock_entry(f->q, id, &l, &e, &msg, &err), 1);
	outcome_init(&res, 2);
	res.rcpt[0].state = RCPT_ACCEPTED;
	res.rcpt[1].state = RCPT_TEMPFAIL;
	res.rcpt[1].code = 451;
	res.rcpt[1].reply = xstrdup("4.3.0 later");
	res.unknown = 1;
	message_free(msg);
	assert_int_equal(runner_record(f->q, l, e, &res, NULL, NULL, 0, &err), 0);
	outcome_release(&res);
	queue_entry_free(e);

	assert_int_equal(queue_lock_entry(f->q, id, &l, &e, &msg, &err), 1);
	assert_int_equal(e->state[0], RCPT_ACCEPTED);
	assert_int_equal(e->state[1], RCPT_TEMPFAIL);
	assert_int_equal(e->attempts, 1);
	assert_int_equal(e->unknown, 1);
	assert_string_equal(e->last_error, "4.3.0 later");
	assert_true(e->next_attempt >= now + 270 &&
	    e->next_attempt <= now + 331);
	assert_int_equal(message_envelope(msg)->rcpts.n, 1);
	message_free(msg);
	queue_unlock(l);
	queue_entry_free(e);
	assert_int_equal(count_files(f, "tmp"), 0);
	free(id);
}

static void
runner_record__permanent_error__refused_and_removed(void **state)
{
	struct fixture		*f = *state;
	struct queue_lock	*l;
	struct queue_entry	*e;
	struct message		*msg;
	struct error		 err = ERROR_INIT, perm = ERROR_INIT;
	char			*id = save(f, "perm", NULL);

	assert_int_equal(queue_lock_entry(f->q, id, &l, &e, &msg, &err), 1);
	message_free(msg);
	error_set(&perm, EX_UNAVAILABLE, "MAIL FROM refused: 550 no");
	assert_int_equal(runner_record(f->q, l, e, NULL, &perm, NULL, 0, &err), 0);
	assert_int_equal(e->state[0], RCPT_PERMFAIL);
	assert_int_equal(count_files(f, "q"), 0);
	error_release(&perm);
	queue_entry_free(e);
	free(id);
}

/* L17: in a batch the .env of a delivered entry is gone at once (done
 * for good if the process is killed now); the reaper removes the rest. */
static void
queue_update__done_in_batch__env_gone_before_next_send(void **state)
{
	struct fixture		*f = *state;
	struct queue_lock	*l;
	struct queue_entry	*e;
	struct message		*msg;
	struct error		 err = ERROR_INIT;
	struct stat		 st;
	char			*id = save(f, "batch", NULL), *env;
	size_t			 i;

	assert_int_equal(queue_lock_entry(f->q, id, &l, &e, &msg, &err), 1);
	message_free(msg);
	for (i = 0; i < e->rcpts.n; i++)
		e->state[i] = RCPT_ACCEPTED;
	queue_batch_begin(f->q);
	assert_int_equal(queue_update(f->q, l, e, &err), 0);
	env = entry_path(f, id, "env");
	assert_int_equal(lstat(env, &st), -1);
	assert_int_equal(queue_batch_end(f->q), 0);
	assert_int_equal(count_files(f, "q"), 0);
	free(env);
	queue_entry_free(e);
	free(id);
}

/*
 * L16: when the new state cannot be written (here a file size limit, as
 * a full disk), the entry is marked: the next lock says its outcome was
 * never recorded.  queue_writable() fails the same way before a send.
 */
static void
queue_update__rewrite_fails__marked_unrecorded(void **state)
{
	struct fixture		*f = *state;
	struct queue_lock	*l;
	struct queue_entry	*e;
	struct message		*msg;
	struct error		 err = ERROR_INIT;
	struct rlimit		 old, lim;
	char			*id = save(f, "full", NULL);

	assert_int_equal(queue_writable(f->q, &err), 0);
	assert_int_equal(queue_lock_entry(f->q, id, &l, &e, &msg, &err), 1);
	message_free(msg);
	assert_int_equal(e->unrecorded, 0);
	e->state[0] = RCPT_ACCEPTED;	/* [1] stays pending: a rewrite */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 0;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(queue_writable(f->q, &err), -1);
	assert_int_equal(err.code, EX_CANTCREAT);
	error_release(&err);
	assert_int_equal(queue_update(f->q, l, e, &err), -1);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	error_release(&err);
	queue_entry_free(e);
	/* the old state is still there, and the mark says it is stale */
	assert_int_equal(queue_lock_entry(f->q, id, &l, &e, &msg, &err), 1);
	assert_int_equal(e->unrecorded, 1);
	assert_int_equal(message_envelope(msg)->rcpts.n, 2);
	message_free(msg);
	/* a successful update (the runner's hold) clears the mark */
	e->held = HOLD_ADMIN;
	assert_int_equal(queue_update(f->q, l, e, &err), 0);
	queue_entry_free(e);
	assert_int_equal(queue_lock_entry(f->q, id, &l, &e, &msg, &err), 1);
	assert_int_equal(e->unrecorded, 0);
	assert_int_equal(e->held, HOLD_ADMIN);
	message_free(msg);
	queue_unlock(l);
	queue_entry_free(e);
	assert_int_equal(count_files(f, "tmp"), 0);
	free(id);
}

static void
queue_delete__entry__gone(void **state)
{
	struct fixture	*f = *state;
	struct error	 err = ERROR_INIT;
	char		*id = save(f, "del", NULL);

	assert_int_equal(queue_delete(f->q, id, &err), 0);
	assert_int_equal(count_files(f, "q"), 0);
	assert_int_equal(queue_delete(f->q, id, &err), -1);
	assert_int_equal(err.code, EX_NOINPUT);
	error_release(&err);
	assert_int_equal(queue_delete(f->q, "../etc/passwd", &err), -1);
	assert_int_equal(err.code, EX_DATAERR);
	error_release(&err);
	free(id);
}

/* A fake transport: counts calls, accepts everyone. */
static int	delivered;

/*
 * The runner calls send_attempt() and bounce_send() directly: this test
 * links them wrapped (-Wl,--wrap), through fake and fake_bounce.
 */
typedef int	(*fake_fn)(void *, const char *, const struct message *,
		    struct outcome *, struct error *);
static fake_fn	fake;
static int	(*fake_bounce)(void *, const char *, const struct message *,
		    const struct strlist *, const struct strlist *,
		    const char *, struct error *);

int	__wrap_send_attempt(const struct account *, const char *,
	    struct transport **, const struct message *, struct outcome *,
	    struct error *);
int	__wrap_bounce_send(const struct account *, const char *,
	    const struct message *, const struct strlist *,
	    const struct strlist *, const char *, struct error *);

int
__wrap_send_attempt(const struct account *a, const char *qd,
    struct transport **tp, const struct message *msg, struct outcome *res,
    struct error *err)
{
	(void)qd;
	(void)tp;
	return fake(NULL, a->name, msg, res, err);
}

int
__wrap_bounce_send(const struct account *a, const char *to,
    const struct message *orig, const struct strlist *failed,
    const struct strlist *why, const char *reason, struct error *err)
{
	(void)a;
	if (fake_bounce == NULL)
		return 0;
	return fake_bounce(NULL, to, orig, failed, why, reason, err);
}

/* runner_flush() over the fixture's queue with account "acct". */
static int
run(struct fixture *f, int force, int lifetime, fake_fn fn, size_t *sent,
    size_t *left, struct error *err)
{
	static const char	 text[] = "account acct\nhost localhost\n"
	    "account default : acct\n";
	struct config		 cfg = CONFIG_INIT;
	struct account		*a;
	int			 rv;

	assert_int_equal(config_parse(&cfg, text, sizeof(text) - 1, "t.conf",
	    err), 0);
	a = (struct account *)(uintptr_t)config_select(&cfg, "acct", NULL,
	    err);
	assert_non_null(a);
	a->queue_lifetime = lifetime;
	fake = fn;
	rv = runner_flush(f->q, &cfg, a, force, sent, left, err);
	config_release(&cfg);
	return rv;
}

static int
accept_all(void *ctx, const char *account, const struct message *msg,
    struct outcome *res, struct error *err)
{
	size_t	i;

	(void)ctx;
	(void)err;
	assert_string_equal(account, "acct");
	assert_int_equal(res->n, message_envelope(msg)->rcpts.n);
	for (i = 0; i < res->n; i++)
		res->rcpt[i].state = RCPT_ACCEPTED;
	delivered++;
	return 0;
}

static int
refuse_temp(void *ctx, const char *account, const struct message *msg,
    struct outcome *res, struct error *err)
{
	(void)ctx;
	(void)account;
	(void)msg;
	(void)res;
	delivered++;
	return error_set(err, EX_TEMPFAIL, "connection refused");
}

static void
queue_hold__held_entry__not_sent_until_released(void **state)
{
	struct fixture	*f = *state;
	struct error	 err = ERROR_INIT;
	size_t		 sent, left;
	char		*id = save(f, "held", NULL);

	assert_int_equal(queue_hold(f->q, id, 1, &err), 0);
	delivered = 0;
	assert_int_equal(run(f, 1, 86400, accept_all, &sent, &left, &err), 0);
	assert_int_equal(delivered, 0);
	assert_int_equal(left, 1);
	assert_int_equal(queue_hold(f->q, id, 0, &err), 0);
	assert_int_equal(run(f, 0, 86400, accept_all, &sent, &left, &err), 0);
	assert_int_equal(delivered, 1);
	assert_int_equal(sent, 1);
	assert_int_equal(left, 0);
	assert_int_equal(count_files(f, "q"), 0);
	free(id);
}

/* The relay refused our password: a set-up failure. */
static int
refuse_setup(void *ctx, const char *account, const struct message *msg,
    struct outcome *res, struct error *err)
{
	(void)ctx;
	(void)account;
	(void)msg;
	delivered++;
	outcome_fail(res, OUTCOME_SETUP, STEP_AUTH, EX_NOPERM, 535,
	    "authentication failed", "check 'user' and 'password'");
	return error_set(err, EX_NOPERM, "authentication failed: 535");
}

static void
runner_flush__setup_failure__held_until_explicit_flush(void **state)
{
	struct fixture		 *f = *state;
	struct error		  err = ERROR_INIT;
	struct queue_entry	**v;
	size_t			  sent, left, n;
	char			 *id = save(f, "setup", NULL);

	delivered = 0;
	assert_int_equal(run(f, 0, 86400, refuse_setup, &sent, &left, &err), 0);
	assert_int_equal(delivered, 1);
	assert_int_equal(left, 1);
	assert_int_equal(queue_list(f->q, &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0]->held, HOLD_SETUP);
	/* never due on the schedule, even when its retry time has come */
	assert_int_equal(runner_due(f->q, v[0]->next_attempt + 1), 0);
	queue_entries_free(v, n);
	assert_int_equal(run(f, 0, 86400, accept_all, &sent, &left, &err), 0);
	assert_int_equal(delivered, 1);
	/* a second set-up failure on an explicit flush keeps it held */
	assert_int_equal(run(f, 1, 86400, refuse_setup, &sent, &left, &err), 0);
	assert_int_equal(delivered, 2);
	assert_int_equal(queue_list(f->q, &v, &n, &err), 0);
	assert_int_equal(v[0]->held, HOLD_SETUP);
	queue_entries_free(v, n);
	/* a temporary failure frees it: back on the schedule */
	assert_int_equal(run(f, 1, 86400, refuse_temp, &sent, &left, &err), 0);
	assert_int_equal(delivered, 3);
	assert_int_equal(queue_list(f->q, &v, &n, &err), 0);
	assert_int_equal(v[0]->held, HOLD_NONE);
	queue_entries_free(v, n);
	/* postie -q (force) sends it */
	assert_int_equal(run(f, 1, 86400, accept_all, &sent, &left, &err), 0);
	assert_int_equal(delivered, 4);
	assert_int_equal(sent, 1);
	assert_int_equal(list_n(f), 0);
	free(id);
}

/* L16: a queue that cannot record an outcome is not flushed at all. */
static void
runner_flush__queue_unwritable__nothing_sent_ex_cantcreat(void **state)
{
	struct fixture	*f = *state;
	struct error	 err = ERROR_INIT;
	struct rlimit	 old, lim;
	size_t		 sent, left;
	char		*a = save(f, "w1", NULL), *b = save(f, "w2", NULL);

	delivered = 0;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 0;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(run(f, 1, 86400, accept_all, &sent, &left, &err),
	    -1);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(err.code, EX_CANTCREAT);
	assert_non_null(strstr(err.msg, "no message is sent twice"));
	assert_int_equal(delivered, 0);
	assert_int_equal(sent, 0);
	assert_int_equal(left, 2);
	assert_int_equal(list_n(f), 2);
	error_release(&err);
	free(a);
	free(b);
}

static void
queue_hold__admin_hold__not_sent_by_force(void **state)
{
	struct fixture	*f = *state;
	struct error	 err = ERROR_INIT;
	size_t		 sent, left;
	char		*id = save(f, "admin", NULL);

	assert_int_equal(queue_hold(f->q, id, 1, &err), 0);
	delivered = 0;
	/* a set-up failure never turns a hold by hand into HOLD_SETUP */
	assert_int_equal(run(f, 1, 86400, accept_all, &sent, &left, &err), 0);
	assert_int_equal(delivered, 0);
	assert_int_equal(left, 1);
	assert_int_equal(queue_delete(f->q, id, &err), 0);
	free(id);
}

static void
runner_flush__failed_attempt__not_due_until_backoff(void **state)
{
	struct fixture	*f = *state;
	struct error	 err = ERROR_INIT;
	size_t		 sent, left;
	char		*a = save(f, "r1", NULL), *b = save(f, "r2", NULL);

	delivered = 0;
	assert_int_equal(run(f, 0, 86400, refuse_temp, &sent, &left, &err), 0);
	assert_int_equal(delivered, 2);
	assert_int_equal(left, 2);
	/* backoff: nothing is due now */
	assert_int_equal(runner_due(f->q, time(NULL)), 0);
	assert_int_equal(run(f, 0, 86400, refuse_temp, &sent, &left, &err), 0);
	assert_int_equal(delivered, 2);
	/* -qf ignores the backoff */
	assert_int_equal(run(f, 1, 86400, accept_all, &sent, &left, &err), 0);
	assert_int_equal(delivered, 4);
	assert_int_equal(sent, 2);
	assert_int_equal(list_n(f), 0);
	free(a);
	free(b);
}

static int	bounces;

static int
count_bounce(void *ctx, const char *to, const struct message *orig,
    const struct strlist *failed, const struct strlist *why,
    const char *reason, struct error *err)
{
	(void)ctx;
	(void)err;
	assert_string_equal(to, "s@example.org");
	assert_int_equal(failed->n, 2);
	/* expired: no server reply for either, the reason says it */
	assert_int_equal(why->n, 2);
	assert_string_equal(why->v[0], "");
	assert_non_null(strstr(reason, "expired"));
	assert_true(message_size(orig) > 0);
	bounces++;
	return 0;
}

static void
runner_flush__expired_relay_down__last_try_then_bounced(void **state)
{
	struct fixture		*f = *state;
	struct message		*msg;
	struct error		 err = ERROR_INIT;
	size_t			 sent, left;
	char			*a, *b;

	fake_bounce = count_bounce;
	a = save(f, "old", NULL);
	/* the null sender: expires without a bounce (no loops) */
	msg = make_msg(f, "", "null", two);
	b = queue_save(f->q, msg, NULL, "acct", "x", 1, &err);
	assert_non_null(b);
	message_free(msg);
	sleep(1);
	delivered = bounces = 0;
	/* each gets its last try; it fails, so both expire */
	assert_int_equal(run(f, 0, 1, refuse_temp, &sent, &left, &err), 0);
	assert_int_equal(delivered, 2);
	assert_int_equal(bounces, 1);
	assert_int_equal(list_n(f), 0);
	free(a);
	free(b);
}

/* A machine off for longer than the lifetime keeps its mail. */
static void
runner_flush__expired_relay_up__delivered_not_bounced(void **state)
{
	struct fixture		*f = *state;
	struct error		 err = ERROR_INIT;
	size_t			 sent, left;
	char			*a;

	fake_bounce = count_bounce;
	a = save(f, "old", NULL);
	sleep(1);
	delivered = bounces = 0;
	assert_int_equal(run(f, 0, 1, accept_all, &sent, &left, &err), 0);
	assert_int_equal(delivered, 1);
	assert_int_equal(sent, 1);
	assert_int_equal(bounces, 0);
	assert_int_equal(list_n(f), 0);
	free(a);
}

/* bounce.c: the text part names each recipient with its reply, then
 * the original follows whole as message/rfc822. */
static void
bounce_new__replies__listed_and_original_attached(void **state)
{
	struct fixture	*f = *state;
	struct message	*orig, *b;
	struct strlist	 failed = STRLIST_INIT, why = STRLIST_INIT;
	struct strlist	 to = STRLIST_INIT;
	struct message_opts mo;
	struct error	 err = ERROR_INIT;
	char		 text[8192];
	ssize_t		 n;
	int		 fd;

	orig = make_msg(f, "s@example.org", "bounced-body", two);
	strlist_add(&failed, "a@example.com");
	strlist_add(&why, "550 5.1.1 no such user\r\nInjected: x");
	strlist_add(&failed, "b@example.com");
	strlist_add(&why, "");
	b = bounce_new(orig, "s@example.org", &failed, &why, "expired",
	    "example.org");
	memset(&mo, 0, sizeof(mo));
	mo.sender = "";
	mo.qualify_domain = "example.org";
	mo.msgid_domain = "example.org";
	mo.set_from_header = TRI_AUTO;
	mo.set_date_header = TRI_AUTO;
	mo.set_msgid_header = TRI_AUTO;
	strlist_add(&to, "s@example.org");
	mo.rcpts = &to;
	assert_int_equal(message_finalize(b, &mo, &err), 0);
	fd = util_tmpfile(&err);
	assert_true(fd >= 0);
	assert_int_equal(message_write(b, fd, &err), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	n = read(fd, text, sizeof(text) - 1);
	assert_true(n > 0);
	text[n] = '\0';
	close(fd);
	/* the reply is one line: its CR LF became spaces */
	assert_non_null(strstr(text, "    <a@example.com>: 550 5.1.1 no such "
	    "user  Injected: x\r\n"));
	assert_null(strstr(text, "\r\nInjected:"));
	assert_non_null(strstr(text, "    <b@example.com>\r\n"));
	assert_non_null(strstr(text, "Reason: expired"));
	assert_non_null(strstr(text, "message/rfc822"));
	assert_non_null(strstr(text, "Message-ID: <bounced-body@test>"));
	assert_non_null(strstr(text, "MAILER-DAEMON@example.org"));
	message_free(b);
	message_free(orig);
	strlist_release(&failed);
	strlist_release(&why);
	strlist_release(&to);
}

/* Files that are not what the queue wrote are never sent. */
static void
queue_list__torn_or_foreign_files__skipped(void **state)
{
	struct fixture		*f = *state;
	struct queue_lock	*l;
	struct queue_entry	*e;
	struct message		*msg;
	struct error		 err = ERROR_INIT;
	char			*torn = save(f, "torn", NULL),
				*cut = save(f, "cut", NULL),
				*sym = save(f, "sym", NULL),
				*hard = save(f, "hard", NULL);
	char			*p, *p2;
	size_t			 sent, left;
	struct stat		 st;

	/* .env cut short: no trailer */
	p = entry_path(f, torn, "env");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(truncate(p, st.st_size - 4), 0);
	free(p);
	/* .msg shorter than recorded */
	p = entry_path(f, cut, "msg");
	assert_int_equal(truncate(p, 10), 0);
	free(p);
	/* .env replaced by a symlink */
	p = entry_path(f, sym, "env");
	p2 = xasprintf("%s/elsewhere", f->dir);
	assert_int_equal(rename(p, p2), 0);
	assert_int_equal(symlink(p2, p), 0);
	free(p);
	free(p2);
	/* .msg with a second hard link */
	p = entry_path(f, hard, "msg");
	p2 = xasprintf("%s/link", f->dir);
	assert_int_equal(link(p, p2), 0);
	free(p);
	free(p2);

	assert_int_equal(list_n(f), 0);
	assert_int_equal(queue_lock_entry(f->q, hard, &l, &e, &msg, &err), -1);
	assert_non_null(strstr(err.msg, "hard links"));
	error_release(&err);
	assert_int_equal(queue_lock_entry(f->q, cut, &l, &e, &msg, &err), -1);
	error_release(&err);
	assert_int_equal(queue_lock_entry(f->q, sym, &l, &e, &msg, &err), -1);
	error_release(&err);
	delivered = 0;
	assert_int_equal(run(f, 1, 86400, accept_all, &sent, &left, &err), 0);
	assert_int_equal(delivered, 0);
	free(torn);
	free(cut);
	free(sym);
	free(hard);
}

static void
queue_open__stale_tmp_file__removed(void **state)
{
	struct fixture	*f = *state;
	struct error	 err = ERROR_INIT;
	struct timespec	 old[2];
	char		*fresh = xasprintf("%s/tmp/fresh.msg", f->qdir);
	char		*stale = xasprintf("%s/tmp/stale.msg", f->qdir);
	int		 fd;

	fd = open(fresh, O_CREAT | O_WRONLY, 0600);
	close(fd);
	fd = open(stale, O_CREAT | O_WRONLY, 0600);
	close(fd);
	old[0].tv_sec = old[1].tv_sec = time(NULL) - 7200;
	old[0].tv_nsec = old[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, stale, old, 0), 0);
	queue_close(f->q);
	f->q = queue_open(f->qdir, 0, &err);
	assert_non_null(f->q);
	assert_int_equal(access(stale, F_OK), -1);
	assert_int_equal(access(fresh, F_OK), 0);
	free(fresh);
	free(stale);
}

static void
queue_open__missing_without_create__ex_noinput(void **state)
{
	struct fixture	*f = *state;
	struct error	 err = ERROR_INIT;
	char		*p = xasprintf("%s/none", f->dir);

	assert_null(queue_open(p, 0, &err));
	assert_int_equal(err.code, EX_NOINPUT);
	error_release(&err);
	assert_int_equal(chmod(f->qdir, 0777), 0);
	assert_null(queue_open(f->qdir, 0, &err));
	assert_int_equal(err.code, EX_CONFIG);
	error_release(&err);
	assert_int_equal(chmod(f->qdir, 0700), 0);
	free(p);
}

static const struct {
	int		attempts;
	int		max;
	unsigned int	rnd;
	int		lo, hi;
} backoff_cases[] = {
	{ 1, 14400, 0, 270, 270 },
	{ 1, 14400, 60, 330, 330 },
	{ 1, 14400, 12345, 270, 330 },
	{ 2, 14400, 0, 540, 540 },
	{ 3, 14400, 0, 1080, 1080 },
	{ 6, 14400, 99999, 8640, 10560 },
	{ 7, 14400, 0, 12960, 12960 },	/* 19200 capped at 4 h, -10% */
	{ 7, 14400, 1u << 31, 12960, 14400 },	/* never above the cap */
	{ 50, 14400, 7, 12960, 14400 },
	{ 1000000, 14400, 7, 12960, 14400 },
	{ 3, 600, 0, 540, 600 },
	{ 1, 0, 0, 270, 270 },		/* max 0: the default */
};

static void
runner_backoff__schedule__doubles_and_caps(void **state)
{
	size_t	i;
	int	d;

	(void)state;
	for (i = 0; i < sizeof(backoff_cases) / sizeof(backoff_cases[0]);
	    i++) {
		d = runner_backoff(backoff_cases[i].attempts,
		    backoff_cases[i].max, backoff_cases[i].rnd);
		if (d < backoff_cases[i].lo || d > backoff_cases[i].hi)
			fail_msg("case %zu: %d not in [%d, %d]", i, d,
			    backoff_cases[i].lo, backoff_cases[i].hi);
	}
}


#define HEAD	"postie-queue 1\nid X1\naccount a\nsender s@x\nmsgid <m>\n" \
		"size 10\ncreated 1\nnext 2\nattempts 0\nheld 0\nunknown 0\n" \
		"bounce 0\nerror e\n"

#define HEAD_HELD(h) "postie-queue 1\nid X1\naccount a\nsender s@x\n" \
		"msgid <m>\nsize 10\ncreated 1\nnext 2\nattempts 0\nheld " h \
		"\nunknown 0\nbounce 0\nerror e\n"

static const struct {
	const char	*text;
	int		 ok;
} parse_cases[] = {
	{ HEAD "rcpt P a@x\nend\n", 1 },
	{ HEAD_HELD("2") "rcpt P a@x\nend\n", 1 },	/* HOLD_SETUP */
	{ HEAD_HELD("3") "rcpt P a@x\nend\n", 0 },
	{ HEAD "rcpt P a@x\nrcpt A b@x\nrcpt F c@x\nrcpt T d@x\nend\n", 1 },
	{ HEAD "rcpt P a@x\nend", 0 },		/* torn: no newline */
	{ HEAD "rcpt P a@x\n", 0 },		/* torn: no trailer */
	{ HEAD "end\n", 0 },			/* no recipient */
	{ HEAD "rcpt X a@x\nend\n", 0 },	/* unknown state */
	{ HEAD "rcpt P a@x\r\nend\n", 0 },	/* CR */
	{ HEAD "rcpt P a@x\nend\nrcpt P evil@x\n", 0 },	/* after end */
	{ HEAD "RCPT TO:<evil@x>\nend\n", 0 },
	{ "postie-queue 2\n", 0 },
	{ "postie-queue 1\nid X2\n", 0 },	/* id not the file's */
	{ "postie-queue 1\nid X1\nsender s@x\n", 0 },	/* order */
	{ "", 0 },
};

static void
queue_entry_parse__cases__strict(void **state)
{
	struct queue_entry	*e;
	struct error		 err = ERROR_INIT;
	size_t			 i;
	int			 rc;

	(void)state;
	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		rc = queue_entry_parse(parse_cases[i].text,
		    strlen(parse_cases[i].text), "X1", &e, &err);
		if ((rc == 0) != parse_cases[i].ok)
			fail_msg("case %zu: rc %d", i, rc);
		if (rc == 0)
			queue_entry_free(e);
		else
			error_release(&err);
	}
	assert_int_equal(queue_entry_parse(HEAD "rcpt P a@x\nend\n",
	    strlen(HEAD "rcpt P a@x\nend\n") + 1, "X1", &e, &err), -1);
	error_release(&err);
}

static void
queue_format__json_and_text__escaped(void **state)
{
	struct queue_entry	 e, *v[1];
	enum rcpt_state		 st[2] = { RCPT_ACCEPTED, RCPT_TEMPFAIL };
	struct buf		 b = BUF_INIT;

	(void)state;
	memset(&e, 0, sizeof(e));
	e.id = xstrdup("ID1");
	e.sender = xstrdup("a\"b\\c@x");
	strlist_add(&e.rcpts, "done@x");
	strlist_add(&e.rcpts, "wait@x");
	e.state = st;
	e.size = 42;
	e.created = 1000;
	e.attempts = 3;
	e.last_error = xstrdup("450 \x01 later\t\xc2\x9b");
	v[0] = &e;
	queue_format(&b, v, 1, 1000 + 7200, 1);
	assert_non_null(strstr(buf_str(&b), "\"sender\": \"a\\\"b\\\\c@x\""));
	assert_non_null(strstr(buf_str(&b), "\"recipients\": [\"wait@x\"]"));
	assert_non_null(strstr(buf_str(&b),
	    "\"last_error\": \"450 \\u0001 later\\t\\u009b\""));
	assert_non_null(strstr(buf_str(&b), "\"account\": null"));
	assert_non_null(strstr(buf_str(&b), "\"age\": 7200"));
	buf_reset(&b);
	queue_format(&b, v, 1, 1000 + 7200, 0);
	/* the relay's words escaped as on stderr, a C1 control (CSI) too */
	assert_string_equal(buf_str(&b), "ID1 42 2h <a\"b\\c@x> <wait@x> "
	    "attempts=3 (450 \\x01 later\t\\xc2\\x9b)\n-- 1 request\n");
	buf_reset(&b);
	queue_format(&b, v, 0, 0, 0);
	assert_string_equal(buf_str(&b), "Mail queue is empty\n");
	buf_reset(&b);
	queue_format(&b, v, 0, 0, 1);
	assert_string_equal(buf_str(&b), "[]\n");
	buf_release(&b);
	free(e.id);
	free(e.sender);
	free(e.last_error);
	strlist_release(&e.rcpts);
}

/* Each recipient not delivered is named with its server's reply. */
static void
mbox_dead_letter__outcome__replies_in_headers(void **state)
{
	struct fixture	*f = *state;
	struct message	*msg = make_msg(f, "s@example.org", "dl", two);
	struct outcome	 res;
	struct error	 err = ERROR_INIT;
	char		*path, text[4096];
	ssize_t		 n;
	int		 fd;

	setenv("HOME", f->dir, 1);
	outcome_init(&res, 2);
	outcome_set_rcpt(&res, 0, RCPT_ACCEPTED, 250, "", "ok");
	outcome_set_rcpt(&res, 1, RCPT_PERMFAIL, 550, "5.1.1",
	    "5.1.1 no such user\r\nX-Evil: 1");
	path = mbox_dead_letter(msg, &res, &err);
	assert_non_null(path);
	fd = open(path, O_RDONLY);
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	assert_true(n > 0);
	text[n] = '\0';
	assert_non_null(strstr(text, "\nX-Postie-Not-Delivered: "
	    "<b@example.com>: 550 5.1.1 no such user  X-Evil: 1\n"));
	assert_null(strstr(text, "<a@example.com>: 250"));
	assert_null(strstr(text, "\nX-Evil:"));
	unlink(path);
	free(path);
	outcome_release(&res);
	message_free(msg);
}

static void
mbox_dead_letter__twice__appended_mboxrd(void **state)
{
	struct fixture	*f = *state;
	struct message	*msg = make_msg(f, "s@example.org", "From me", two);
	struct error	 err = ERROR_INIT;
	struct buf	 b = BUF_INIT;
	char		*path, *want, chunk[4096];
	ssize_t		 n;
	int		 fd;

	setenv("HOME", f->dir, 1);
	path = mbox_dead_letter(msg, NULL, &err);
	assert_non_null(path);
	free(path);
	path = mbox_dead_letter(msg, NULL, &err);
	assert_non_null(path);
	want = xasprintf("%s/dead.letter", f->dir);
	assert_string_equal(path, want);
	fd = open(path, O_RDONLY);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(&b, chunk, (size_t)n);
	close(fd);
	assert_true(strncmp(buf_str(&b), "From s@example.org ", 19) == 0);
	assert_non_null(strstr(buf_str(&b), "\n>From me\n"));
	assert_null(strchr(buf_str(&b), '\r'));
	assert_non_null(strstr(strstr(buf_str(&b), "\n>From me\n") + 1,
	    "\nFrom s@example.org "));	/* the second copy */
	/* a symlink is never followed */
	unlink(path);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	free(path);
	assert_null(mbox_dead_letter(msg, NULL, &err));
	error_release(&err);
	buf_release(&b);
	free(want);
	message_free(msg);
}

/*
 * L14: another writer appends to dead.letter while we wait for its lock,
 * then our write fails half way (file size limit): we remove only our
 * partial copy, never the other writer's message.  The size to cut back
 * to is measured under the lock.
 */
static void
mbox_dead_letter__failed_write_after_wait__other_kept(void **state)
{
	struct fixture	*f = *state;
	struct message	*msg = make_msg(f, "s@example.org", "mine", two);
	struct error	 err = ERROR_INIT;
	struct rlimit	 old, lim;
	struct stat	 st;
	char		*path, other[100], got[200];
	int		 sync[2], fd, status;
	pid_t		 pid;
	ssize_t		 n;
	char		 c;

	setenv("HOME", f->dir, 1);
	path = xasprintf("%s/dead.letter", f->dir);
	memset(other, 'x', sizeof(other));
	memcpy(other, "From o@example.org", 18);
	other[sizeof(other) - 1] = '\n';
	assert_int_equal(pipe(sync), 0);
	if ((pid = fork()) == 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd == -1 || flock(fd, LOCK_EX) == -1)
			_exit(1);
		(void)write(sync[1], "l", 1);
		usleep(300 * 1000);	/* the parent is now waiting */
		if (write(fd, other, sizeof(other)) != (ssize_t)sizeof(other))
			_exit(1);
		_exit(0);
	}
	assert_true(pid > 0);
	close(sync[1]);
	assert_int_equal(read(sync[0], &c, 1), 1);
	close(sync[0]);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = sizeof(other) + 20;	/* room for 20 of our bytes */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	signal(SIGXFSZ, SIG_IGN);
	free(path);
	path = mbox_dead_letter(msg, NULL, &err);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_null(path);
	assert_int_equal(err.code, EX_CANTCREAT);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	path = xasprintf("%s/dead.letter", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, sizeof(other));
	fd = open(path, O_RDONLY);
	n = read(fd, got, sizeof(got));
	close(fd);
	assert_int_equal(n, sizeof(other));
	assert_memory_equal(got, other, sizeof(other));
	free(path);
	error_release(&err);
	message_free(msg);
}

/* Rewrite an entry's "created" and "next" lines. */
static void
set_times(struct fixture *f, const char *id, long long created,
    long long next)
{
	char		*path = entry_path(f, id, "env"), text[8192], *line, *save;
	struct buf	 b = BUF_INIT;
	ssize_t		 n;
	int		 fd;

	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, text, sizeof(text) - 1);
	assert_true(n > 0);
	close(fd);
	text[n] = '\0';
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "created ", 8) == 0)
			buf_printf(&b, "created %lld\n", created);
		else if (strncmp(line, "next ", 5) == 0)
			buf_printf(&b, "next %lld\n", next);
		else
			buf_printf(&b, "%s\n", line);
	}
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
	close(fd);
	buf_release(&b);
	free(path);
}

/*
 * L20: an entry written while the clock was ahead is read back with its
 * times clamped to now (it is due and its age counts from now), while a
 * next attempt within the backoff cap is left alone.
 */
static void
queue_list__times_in_the_future__clamped_to_now(void **state)
{
	struct fixture		 *f = *state;
	struct queue_entry	**v;
	struct error		  err = ERROR_INIT;
	size_t			  n;
	time_t			  now = time(NULL);
	char			 *id;

	id = save(f, "ahead", NULL);
	set_times(f, id, (long long)now - 10, (long long)now + 3600);
	assert_int_equal(queue_list(f->q, &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0]->created, now - 10);
	assert_int_equal(v[0]->next_attempt, now + 3600);
	queue_entries_free(v, n);
	set_times(f, id, (long long)now + 30 * 86400,
	    (long long)now + 31 * 86400);
	assert_int_equal(queue_list(f->q, &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_true(v[0]->created <= time(NULL) && v[0]->created >= now);
	assert_true(v[0]->next_attempt <= time(NULL) &&
	    v[0]->next_attempt >= now);
	assert_int_equal(runner_due(f->q, time(NULL)), 1);
	queue_entries_free(v, n);
	free(id);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(queue_save__new_message__listed_with_its_envelope),
		T(queue_save__reason_with_newline__stored_on_one_line),
		T(queue_lock_entry__pending_subset__wire_message_has_only_them),
		T(queue_lock_entry__locked_elsewhere__returns_zero),
		T(runner_record__all_accepted__entry_removed),
		T(runner_record__one_deferred__only_it_stays_with_backoff),
		T(runner_record__permanent_error__refused_and_removed),
		T(queue_update__done_in_batch__env_gone_before_next_send),
		T(queue_update__rewrite_fails__marked_unrecorded),
		T(queue_delete__entry__gone),
		T(queue_hold__held_entry__not_sent_until_released),
		T(runner_flush__setup_failure__held_until_explicit_flush),
		T(runner_flush__queue_unwritable__nothing_sent_ex_cantcreat),
		T(queue_hold__admin_hold__not_sent_by_force),
		T(bounce_new__replies__listed_and_original_attached),
		T(runner_flush__failed_attempt__not_due_until_backoff),
		T(runner_flush__expired_relay_down__last_try_then_bounced),
		T(runner_flush__expired_relay_up__delivered_not_bounced),
		T(queue_list__torn_or_foreign_files__skipped),
		T(queue_open__stale_tmp_file__removed),
		T(queue_open__missing_without_create__ex_noinput),
		T(mbox_dead_letter__twice__appended_mboxrd),
		T(mbox_dead_letter__outcome__replies_in_headers),
		T(mbox_dead_letter__failed_write_after_wait__other_kept),
		T(queue_list__times_in_the_future__clamped_to_now),
#undef T
		cmocka_unit_test(runner_backoff__schedule__doubles_and_caps),
		cmocka_unit_test(queue_entry_parse__cases__strict),
		cmocka_unit_test(queue_format__json_and_text__escaped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
