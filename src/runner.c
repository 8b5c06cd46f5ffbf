/*
 * The queue runner: the schedule (due, expiry, backoff), what an
 * attempt's outcome means for a queued entry, its bounce and its log
 * line; postie -q with one connection per account, the background flush,
 * the queue commands and root's drop-directory intake.
 */
#include "autoconfig.h"

#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bounce.h"
#include "config.h"
#include "drop.h"
#include "error.h"
#include "interrupt.h"
#include "log.h"
#include "message.h"
#include "outcome.h"
#include "queue.h"
#include "ratelimit.h"
#include "relay.h"
#include "runner.h"
#include "send.h"
#include "transport.h"
#include "util.h"
#include "xmalloc.h"

#define BACKOFF_FIRST	300		/* 5 minutes */
#define BACKOFF_MAX	(4 * 3600)	/* when the account says 0 */
#define RATE_WAIT_MAX	90		/* seconds a flush waits for a slot */

/* One run's state: one transport (connection) per account. */
struct run {
	const struct config	*cfg;
	const struct account	**acct;
	struct transport	**t;
	char			**down;		/* per account: why its relay
						   failed to answer this run */
	size_t			  n;
	int			  untried;	/* run_deliver(): not tried,
						   its relay is down */
};

/*
 * Which of a parallel flush's processes this is: 0 the flush itself, 1
 * to N-1 its workers (flush_queue()).  Worker w takes only the entries
 * of accounts with queue_connections above w, so an account never has
 * more connections at once than it allows.
 */
static int	run_worker;

/*
 * Whether this flush may wait for rate_limit slots: one flush per queue
 * does (with its workers, which share the lock), holding an flock on
 * QUEUE/rate/.wait ('.' never starts an account's file there).  Any other
 * ends at a full window as before, leaving the mail to the one waiting:
 * a send's background flush or the next timer run never piles up
 * sleeping processes behind a backlog.
 */
static int	may_wait;

/*
 * With postie -q --json: this process's attempts, as JSON objects
 * separated by ", " (flush_attempt()), and how many of them reached some
 * but not all of their recipients; NULL without --json, so a normal flush
 * writes nothing.  A worker hands its text to the parent over its pipe
 * (flush_queue()); past ATTEMPTS_MAX the rest is counted, not written.
 */
#define ATTEMPTS_MAX	(16 * 1024 * 1024)
static struct buf	*flush_json;
static size_t		 fj_partial, fj_dropped, fj_objects;

static int	expire(const struct queue_entry *, struct outcome *, int,
		    struct error *);
static void	bounce_failed(const struct queue_entry *,
		    const struct queue_lock *, const struct account *,
		    const struct strlist *, const struct strlist *,
		    const char *);
static const struct account *run_account(const struct run *, const char *,
		    struct error *);
static int	run_deliver(struct run *, const struct queue_entry *,
		    const struct message *, struct outcome *, struct error *);
static int	run_hand_over(const struct message *, struct outcome *,
		    struct error *);
static void	run_log(const struct run *, const struct queue_entry *,
		    const struct envelope *, const struct outcome *,
		    const struct error *, const char *);
static int	hold_unrecorded(struct queue *, struct queue_lock *,
		    struct queue_entry *, struct error *);
static int	flush_queue(const struct runner_opts *, struct config *,
		    const struct account *, struct error *);
static void	flush_attempt(const struct queue_entry *,
		    const struct envelope *, const struct outcome *,
		    const struct error *, const char *);
static void	flush_summary(struct queue *, size_t, int);
static int	worker_report(int, size_t);
static size_t	worker_collect(int);
static int	ingest_drops(const struct account *, struct error *);

int
runner_backoff(int attempts, int max, unsigned int rnd)
{
	long	d = BACKOFF_FIRST;
	int	i;

	if (max <= 0)
		max = BACKOFF_MAX;
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
runner_due(struct queue *q, time_t now)
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

struct queue *
runner_open_queue(const struct account *acct, int create, struct error *err)
{
	struct queue	*q;
	char		*dir;

	dir = acct->queue_dir != NULL ? xstrdup(acct->queue_dir) :
	    queue_default_dir();
	q = queue_open(dir, create, err);
	free(dir);
	if (q != NULL)
		queue_set_retry(q, runner_backoff(1, acct->queue_backoff_max,
		    util_rnd32()), acct->queue_backoff_max > 0 ?
		    acct->queue_backoff_max : BACKOFF_MAX);
	return q;
}

int
runner_record(struct queue *q, struct queue_lock *l, struct queue_entry *e,
    const struct outcome *res, const struct error *attempt_err,
    const struct account *acct, int backoff_max, struct error *err)
{
	struct strlist	 failed = STRLIST_INIT, replies = STRLIST_INIT;
	const size_t	*map;
	const char	*why = NULL;
	char		*freason = NULL;
	size_t		 i, k, n;
	int		 rc;
	/* Given up (res NULL: expired) or refused for good. */
	int		 perm = attempt_err != NULL && (res == NULL ||
			    res->class == OUTCOME_PERMANENT);

	map = queue_lock_map(l, &n);
	for (i = 0; i < n; i++) {
		k = map[i];
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
	if (failed.n > 0 && acct != NULL)
		bounce_failed(e, l, acct, &failed, &replies,
		    freason != NULL ? freason : why != NULL ? why :
		    "refused by the server");
	if (queue_entry_pending(e) > 0) {
		e->next_attempt = time(NULL) + runner_backoff(e->attempts,
		    backoff_max, util_rnd32());
		/* a route's part not tried for its rate_limit: its slot,
		 * or the backoff when other recipients wait for less */
		if (res != NULL && res->not_before > 0 &&
		    (res->not_before < e->next_attempt ||
		    queue_entry_pending(e) <= res->limited))
			e->next_attempt = res->not_before;
	}
	rc = queue_update(q, l, e, err);
	strlist_release(&failed);
	strlist_release(&replies);
	free(freason);
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
bounce_failed(const struct queue_entry *e,
    const struct queue_lock *l, const struct account *acct,
    const struct strlist *failed, const struct strlist *why,
    const char *reason)
{
	struct message	*orig;
	struct error	 berr = ERROR_INIT;

	if (!e->bounce || e->sender == NULL || e->sender[0] == '\0')
		return;
	if ((orig = queue_lock_message(l, e, failed)) == NULL)
		return;
	if (bounce_send(acct, e->sender, orig, failed, why, reason,
	    &berr) == -1) {
		log_warnx("cannot bounce queue entry %s to <%s>: %s", e->id,
		    e->sender, berr.msg);
		error_release(&berr);
	}
	message_free(orig);
}

/*
 * One pass over the queue (runner_flush()).  *wake: when the earliest
 * entry left for a full rate_limit window may go (0: none), or one not
 * due yet whose next try is before *horizon (the latest such slot seen
 * in this flush: another account's window, waited for in a later pass);
 * *horizon is moved on; the words for each full window are added to
 * limited.
 */
static int
flush_pass(struct queue *q, const struct config *cfg,
    const struct account *acct, int force, size_t *sent, size_t *left,
    time_t *wake, time_t *horizon, struct strlist *limited,
    struct error *err)
{
	struct queue_entry	**v, *e;
	struct queue_lock	 *l;
	struct message		 *msg;
	struct outcome		  res;
	struct error		  derr = ERROR_INIT, ferr = ERROR_INIT;
	const struct account	 *ea;
	const char		 *outcome;
	struct run		  run;
	size_t			  n, i, j;
	time_t			  now = time(NULL), lifetime;
	int			  rc, expired, probed = 0, stop = 0;

	*sent = *left = 0;
	*wake = 0;
	lifetime = acct->queue_lifetime;
	if (queue_list(q, &v, &n, err) == -1)
		return -1;
	memset(&run, 0, sizeof(run));
	run.cfg = cfg;
	queue_batch_begin(q);
	for (i = 0; i < n && !stop; i++) {
		if (interrupt_pending() != 0) {
			/* SIGTERM (systemd stop): the entry sent last is
			 * recorded; the rest waits for the next run */
			log_warnx("queue '%s': stopped by signal %d, %zu "
			    "entries left for the next run", queue_path(q),
			    interrupt_pending(), n - i);
			*left += n - i;
			break;
		}
		/* force (postie -q) tries all but entries held by hand */
		if (v[i]->held == HOLD_ADMIN || (!force && (v[i]->held ||
		    (v[i]->next_attempt > now &&
		    now - v[i]->created < lifetime)))) {
			/* due within the rate_limit waits: waited for too */
			if (!v[i]->held && v[i]->next_attempt <= *horizon &&
			    (*wake == 0 || v[i]->next_attempt < *wake))
				*wake = v[i]->next_attempt;
			(*left)++;
			continue;
		}
		/* An outcome that cannot be recorded would be sent again
		 * blind by every later run: check before the first send. */
		if (!probed && queue_writable(q, err) == -1) {
			error_set(err, err->code, "%s: not flushing, so that "
			    "no message is sent twice (%zu entries left)",
			    err->msg, n - i);
			*left += n - i;
			stop = 1;
			break;
		}
		probed = 1;
		if (run_worker > 0 && ((ea = run_account(&run, v[i]->account,
		    &ferr)) == NULL || ea->queue_connections <= run_worker)) {
			/* fewer connections for its account: another's */
			error_release(&ferr);
			continue;
		}
		rc = queue_lock_entry(q, v[i]->id, &l, &e, &msg, &ferr);
		if (rc == -1) {
			log_warnx("queue '%s': %s: skipped", queue_path(q),
			    ferr.msg);
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
		if (e->unrecorded && e->held != HOLD_ADMIN) {
			/* what an earlier attempt did is not known */
			message_free(msg);
			(*left)++;
			if (hold_unrecorded(q, l, e, err) == -1) {
				*left += n - i - 1;
				stop = 1;
			}
			queue_entry_free(e);
			continue;
		}
		outcome_init(&res, message_envelope(msg)->rcpts.n);
		/* the relay may have it already: no failover (relay.h) */
		res.unknown = e->unknown;
		run.untried = 0;
		rc = run_deliver(&run, e, msg, &res, &derr);
		if (res.limited > 0) {
			/* once per account and pass (relay.c remembers the
			 * full window until relay_finish()) */
			const char *why = rc == -1 && res.limited == res.n &&
			    derr.msg != NULL ? derr.msg : "some recipients "
			    "wait for their route's rate_limit";

			if (!strlist_contains(limited, why))
				strlist_add(limited, why);
			if (*wake == 0 || res.not_before < *wake)
				*wake = res.not_before;
			if (res.not_before > *horizon)
				*horizon = res.not_before;
		}
		if (rc == -1 && res.limited == res.n && res.n > 0) {
			/* rate_limit reached: not tried, not failed; kept
			 * for when the next slot frees */
			e->next_attempt = res.not_before;
			if (queue_update(q, l, e, &ferr) == -1) {
				log_warnx("queue entry %s: %s", e->id,
				    ferr.msg);
				error_release(&ferr);
			}
			(*left)++;
			message_free(msg);
			outcome_release(&res);
			error_release(&derr);
			queue_entry_free(e);
			continue;
		}
		/* Past its lifetime, an entry expires only after this last try
		 * failed (as Postfix): a machine off for days keeps its mail. */
		expired = lifetime > 0 && now - e->created >= lifetime &&
		    expire(e, &res, rc, &derr);
		if (expired)
			rc = -1;
		if ((ea = run_account(&run, NULL, &ferr)) == NULL)
			error_release(&ferr);
		/* msg (its dup of the locked fd) lives until it is logged */
		if (runner_record(q, l, e, &res, rc == -1 ? &derr : NULL, ea,
		    acct->queue_backoff_max, &ferr) == -1) {
			/* never send again what cannot be recorded */
			error_set(err, EX_CANTCREAT, "queue entry %s: its "
			    "outcome could not be recorded (%s): flush "
			    "stopped, nothing more is sent from '%s' until "
			    "it can record outcomes", e->id, ferr.msg,
			    queue_path(q));
			error_release(&ferr);
			stop = 1;
			*left += n - i - 1;
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
		run_log(&run, e, message_envelope(msg), &res,
		    rc == -1 ? &derr : NULL, outcome);
		if (flush_json != NULL && !run.untried)
			flush_attempt(e, message_envelope(msg), &res,
			    rc == -1 ? &derr : NULL, outcome);
		message_free(msg);
		outcome_release(&res);
		error_release(&derr);
		queue_entry_free(e);
	}
	queue_entries_free(v, n);
	if (queue_batch_end(q) > 0)
		log_warnx("queue '%s': some delivered messages could not be "
		    "removed (they are not sent again)", queue_path(q));
	for (i = 0; i < run.n; i++) {
		transport_free(run.t[i]);
		free(run.down[i]);
	}
	free(run.t);
	free(run.down);
	free(run.acct);
	relay_finish();
	return stop ? -1 : 0;
}

/*
 * Sleeps until when, or until a signal (interrupt.h).  Returns 0 at
 * when, -1 when a signal came first.
 */
static int
nap_until(time_t when)
{
	struct timespec	ts = { 0, 200 * 1000 * 1000 };

	while (time(NULL) < when) {
		if (interrupt_pending() != 0)
			return -1;
		nanosleep(&ts, NULL);	/* EINTR: the loop checks */
	}
	return interrupt_pending() != 0 ? -1 : 0;
}

int
runner_flush(struct queue *q, const struct config *cfg,
    const struct account *acct, int force, size_t *sent, size_t *left,
    struct error *err)
{
	struct strlist	 limited = STRLIST_INIT;
	size_t		 s1, l1, i;
	time_t		 wake, wait, horizon = 0;
	int		 rv, pass;

	*sent = *left = 0;
	/*
	 * A full rate_limit window that frees within RATE_WAIT_MAX (any
	 * N/minute) is waited for, so that one flush drains a backlog at
	 * the provider's rate; a longer one (N/hour) ends the flush, its
	 * entries queued with their next try at the next slot.  Later
	 * passes try only what is due: what the first tried and failed
	 * keeps its backoff.
	 */
	for (pass = 0;; pass++) {
		rv = flush_pass(q, cfg, acct, pass == 0 ? force : 0, &s1, &l1,
		    &wake, &horizon, &limited, err);
		*sent += s1;
		*left = l1;
		if (rv == -1 || wake == 0 || interrupt_pending() != 0)
			break;
		wait = wake - time(NULL);
		if (wait > RATE_WAIT_MAX)
			break;
		if (!may_wait) {
			log_info("another postie -q of this queue is waiting "
			    "for its rate_limit slots: this one ends");
			break;
		}
		if (wait < 1) {		/* never a busy loop */
			wait = 1;
			wake = time(NULL) + 1;
		}
		for (i = 0; i < limited.n; i++)
			log_info("%s: waiting %lld s for the next slot",
			    limited.v[i], (long long)wait);
		if (nap_until(wake) == -1)
			break;		/* a signal: what waited is left */
		strlist_release(&limited);
	}
	for (i = 0; i < limited.n; i++)
		log_warnx("%s: the rest of its queue is left for the next try",
		    limited.v[i]);
	strlist_release(&limited);
	return rv;
}

/*
 * An entry whose last outcome could not be recorded (the queue was full
 * or read-only then): some recipients may have it already, so it is
 * held, never sent again blind, until the administrator releases it.
 */
static int
hold_unrecorded(struct queue *q, struct queue_lock *l, struct queue_entry *e,
    struct error *err)
{
	struct error	uerr = ERROR_INIT;

	e->held = HOLD_ADMIN;
	free(e->last_error);
	e->last_error = xstrdup("the outcome of an attempt could not be "
	    "recorded (the queue was full or read-only): some recipients may "
	    "have it already; held, 'postie --queue-release ID' sends it "
	    "again to the recipients listed");
	log_warnx("queue entry %s %s: the outcome of an earlier attempt was "
	    "never recorded (the queue was full or read-only): held, not sent "
	    "again blind ('postie --queue-release %s' sends it)", e->id,
	    e->msgid != NULL ? e->msgid : "", e->id);
	if (queue_update(q, l, e, &uerr) == 0)
		return 0;
	error_set(err, EX_CANTCREAT, "queue entry %s: cannot record its hold "
	    "(%s): flush stopped, nothing more is sent from '%s' until it can "
	    "record outcomes", e->id, uerr.msg, queue_path(q));
	error_release(&uerr);
	return -1;
}

static const struct account *
run_account(const struct run *run, const char *name, struct error *err)
{
	const struct account	*a;

	a = config_select_queued(run->cfg, name, err);
	if (a == NULL && name != NULL && strcmp(name, "default") == 0) {
		/* the built-in account of an empty config */
		error_release(err);
		a = config_select_queued(run->cfg, NULL, err);
	}
	return a;
}

static int
run_deliver(struct run *run, const struct queue_entry *e,
    const struct message *msg, struct outcome *res, struct error *err)
{
	const struct account	*a;
	const char		*name = e->account;
	size_t			 i;

	if ((a = run_account(run, name, err)) == NULL)
		return -1;
	for (i = 0; i < run->n; i++)
		if (run->acct[i] == a)
			break;
	if (i == run->n) {
		run->acct = xreallocarray(run->acct, run->n + 1,
		    sizeof(*run->acct));
		run->t = xreallocarray(run->t, run->n + 1, sizeof(*run->t));
		run->down = xreallocarray(run->down, run->n + 1,
		    sizeof(*run->down));
		run->acct[i] = a;
		run->t[i] = NULL;
		run->down[i] = NULL;
		run->n++;
		config_log_queued(a);
	}
	if (run->down[i] != NULL && !relay_has_policy(a)) {
		/* one wait for a dead relay per run, not one per message */
		error_set(err, EX_TEMPFAIL, "not tried: %s (earlier in this "
		    "run)", run->down[i]);
		run->untried = 1;
		outcome_fail(res, OUTCOME_RETRY, STEP_CONNECT, EX_TEMPFAIL, 0,
		    err->msg, NULL);
		return -1;
	}
	if (a->host == NULL && geteuid() != 0 && drop_available())
		return run_hand_over(msg, res, err);
	/* said only when it is sent again, not when left untried */
	if (e->unknown)
		log_warnx("queue entry %s: the last attempt's outcome is "
		    "unknown: resending %s (possible duplicate)", e->id,
		    e->msgid != NULL ? e->msgid : "");
	if (send_attempt(a, NULL, &run->t[i], msg, res, err) == 0)
		return 0;
	/* a dead relay, or one whose wait ran out at any step: the
	 * others wait for the next run, not one timeout each */
	if (res->class == OUTCOME_RETRY && (res->timedout ||
	    (res->smtp_code == 0 && (res->step == STEP_CONNECT ||
	    res->step == STEP_GREETING))))
		run->down[i] = xstrdup(err->msg);
	return -1;
}

/*
 * A user's queued local mail, once the drop directory exists: handed to
 * root's runner (the entry is then done), never written by the user.
 */
static int
run_hand_over(const struct message *msg, struct outcome *res,
    struct error *err)
{
	char	*name;
	size_t	 i;

	if ((name = drop_submit(drop_dir(), msg, err)) == NULL) {
		outcome_fail(res, OUTCOME_RETRY, STEP_LOCAL, err->code, 0,
		    err->msg, NULL);
		return -1;
	}
	for (i = 0; i < res->n; i++)
		outcome_set_rcpt(res, i, RCPT_ACCEPTED, 250, "",
		    "handed to the system queue");
	log_info("handed to the system queue (%s)", name);
	free(name);
	return 0;
}

/* The attempt's log line: env holds the recipients tried (NULL: all). */
static void
run_log(const struct run *run, const struct queue_entry *e,
    const struct envelope *env, const struct outcome *res,
    const struct error *ae, const char *outcome)
{
	const struct account	*a;
	struct error		 err = ERROR_INIT;

	if ((a = run_account(run, e->account, &err)) == NULL) {
		error_release(&err);
		return;
	}
	send_log(a, e->id, e->sender, env != NULL ? &env->rcpts : &e->rcpts,
	    res, (long long)e->size, ae != NULL ? ae->msg : NULL, outcome,
	    ae != NULL && strcmp(outcome, "queued") != 0 ? ae->code : 0);
}

void
runner_flush_background(const struct account *acct, const char *argv0,
    int bounce, const char *config_file, const char *account)
{
	struct error	 err = ERROR_INIT;
	struct queue	*q;
	pid_t		 pid;
	const char	*av[10];
	int		 due, fd, status, ac = 0;

	if (!acct->queue || !acct->queue_flush_on_send || argv0 == NULL)
		return;
	if ((q = runner_open_queue(acct, 0, &err)) == NULL) {
		error_release(&err);
		return;
	}
	due = runner_due(q, time(NULL));
	queue_close(q);
	if (!due)
		return;
	fflush(NULL);
	if ((pid = fork()) == -1)
		return;
	if (pid > 0) {
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		return;
	}
	if (setsid() == -1 || (pid = fork()) == -1)
		_exit(0);
	if (pid > 0)
		_exit(0);
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	/*
	 * A fresh runner: nothing of this process's state carries over.  By
	 * argv[0] (searched in PATH like the caller did), not /proc/self/exe,
	 * which is the interpreter when postie runs under valgrind.
	 */
	av[ac++] = argv0;
	av[ac++] = "-q";
	av[ac++] = "--due";	/* the schedule, and nothing held */
	if (bounce)
		av[ac++] = "-oem";
	if (config_file != NULL) {
		av[ac++] = "-C";
		av[ac++] = config_file;
	}
	if (account != NULL) {
		av[ac++] = "--account";
		av[ac++] = account;
	}
	av[ac] = NULL;
	execvp(argv0, (char *const *)(uintptr_t)av);
	_exit(0);
}

int
runner_command(const struct runner_opts *opts, struct error *err)
{
	struct config		  cfg = CONFIG_INIT;
	const struct account	 *acct;
	struct queue_entry	**v = NULL;
	struct queue		 *q = NULL;
	struct buf		  b = BUF_INIT;
	size_t			  n = 0;
	int			  rv = -1;

	/* A user who may not read the system file: their own queue. */
	if ((drop_prepare() ? config_load_user(&cfg, opts->config_file,
	    err) : config_load(&cfg, opts->config_file, err)) == -1)
		goto out;
	if ((acct = config_select(&cfg, opts->account, NULL, err)) == NULL)
		goto out;
	if (opts->cmd == RUNNER_FLUSH) {
		/* the users' drop files first; a broken drop directory
		 * must not stop the flush of what is already queued */
		if (geteuid() == 0 && ingest_drops(acct, err) == -1) {
			log_warnx("%s", err->msg);
			error_release(err);
		}
		rv = flush_queue(opts, &cfg, acct, err);
		goto out;
	}
	if ((q = runner_open_queue(acct, opts->cmd != RUNNER_LIST, err)) ==
	    NULL) {
		if (opts->cmd == RUNNER_LIST && err->code == EX_NOINPUT) {
			/* no queue directory yet: nothing was ever kept */
			error_release(err);
			fputs(opts->json ? "[]\n" : "Mail queue is empty\n",
			    stdout);
			rv = 0;
		}
		goto out;
	}
	switch (opts->cmd) {
	case RUNNER_LIST:
		if (queue_list(q, &v, &n, err) == -1)
			goto out;
		queue_format(&b, v, n, time(NULL), opts->json);
		fputs(buf_str(&b), stdout);
		rv = fflush(stdout) == 0 ? 0 : error_set_errno(err, EX_IOERR,
		    "cannot write the listing");
		break;
	case RUNNER_DELETE:
		rv = queue_delete(q, opts->queue_id, err);
		break;
	case RUNNER_HOLD:
	case RUNNER_RELEASE:
		rv = queue_hold(q, opts->queue_id, opts->cmd == RUNNER_HOLD,
		    err);
		break;
	default:
		rv = error_set(err, EX_SOFTWARE, "unexpected queue command");
		break;
	}
out:
	queue_entries_free(v, n);
	buf_release(&b);
	queue_close(q);
	config_release(&cfg);
	return rv;
}

/* The lock of may_wait: its fd (kept open for the run), or -1. */
static int
wait_lock(const struct config *cfg, struct queue *q)
{
	char	*dir, *path;
	size_t	 i;
	int	 fd, any = 0;

	for (i = 0; i < cfg->naccounts && !any; i++)
		any = cfg->accounts[i]->rate_limit > 0;
	if (!any)
		return -1;
	dir = xasprintf("%s/rate", queue_path(q));
	path = xasprintf("%s/.wait", dir);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		fd = -1;
	else
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		    0600);
	if (fd != -1 && flock(fd, LOCK_EX | LOCK_NB) == -1) {
		close(fd);
		fd = -1;
	}
	free(dir);
	free(path);
	return fd;
}

/*
 * The processes a flush needs: the most queue_connections of the
 * accounts that have entries in acct's queue (1 when it cannot tell).
 */
static int
connections(const struct config *cfg, const struct account *acct)
{
	struct queue_entry	**v;
	struct queue		 *q;
	struct error		  err = ERROR_INIT;
	struct run		  run;
	const struct account	 *a;
	size_t			  n, i;
	int			  most = 1;

	if ((q = runner_open_queue(acct, 0, &err)) == NULL) {
		error_release(&err);
		return 1;
	}
	memset(&run, 0, sizeof(run));
	run.cfg = cfg;
	if (queue_list(q, &v, &n, &err) == 0) {
		for (i = 0; i < n; i++) {
			if ((a = run_account(&run, v[i]->account, &err)) ==
			    NULL)
				error_release(&err);
			else if (a->queue_connections > most)
				most = a->queue_connections;
		}
		queue_entries_free(v, n);
	} else
		error_release(&err);
	queue_close(q);
	return most < RUNNER_MAX_CONNECTIONS ? most : RUNNER_MAX_CONNECTIONS;
}

/*
 * postie -q: every due entry through one transport per account, so
 * one SMTP connection per account for the whole run.  postie -q tries
 * everything not held by hand (Postfix's sendmail -q); the timer's
 * -q --due keeps the schedule.
 */
static int
flush_queue(const struct runner_opts *opts, struct config *cfg,
    const struct account *acct, struct error *err)
{
	struct queue	*q;
	struct buf	 ab = BUF_INIT;
	size_t		 sent, left;
	pid_t		 kids[RUNNER_MAX_CONNECTIONS];
	int		 kfd[RUNNER_MAX_CONNECTIONS];
	int		 rv, fds[2], nkids = 0, i, nproc, wfd;

	/*
	 * queue_connections N, per account: as many flushes at once as the
	 * most any queued entry's account allows, this process and the
	 * rest children, each with its own connections (worker w takes the
	 * accounts that allow more than w).  The entries' locks (queue.h)
	 * give each entry to one of them; rate_limit is counted in a file
	 * all of them share.  The children report how many they sent over
	 * a pipe each (with --json, their attempts' text too).
	 */
	if ((q = runner_open_queue(acct, 1, err)) == NULL)
		return -1;
	wfd = wait_lock(cfg, q);
	may_wait = wfd != -1;
	queue_close(q);
	nproc = connections(cfg, acct);
	if (opts->json)
		flush_json = &ab;
	if (nproc > 1) {
		fflush(stdout);
		fflush(stderr);
		for (i = 1; i < nproc; i++) {
			pid_t pid;

			if (pipe(fds) == -1)
				break;		/* fewer workers, still correct */
			if ((pid = fork()) == -1) {
				close(fds[0]);
				close(fds[1]);
				break;
			}
			if (pid == 0) {
				run_worker = i;
				close(fds[0]);
				while (nkids > 0)
					close(kfd[--nkids]);
				sent = 0;
				rv = 0;
				if ((q = runner_open_queue(acct, 1, err)) ==
				    NULL || runner_flush(q, cfg, acct,
				    !opts->due, &sent, &left, err) == -1) {
					log_warnx("queue worker: %s", err->msg);
					rv = 1;
				}
				if (q != NULL)
					queue_close(q);
				if (worker_report(fds[1], sent) == -1)
					rv = 1;
				_exit(rv);
			}
			close(fds[1]);
			kfd[nkids] = fds[0];
			kids[nkids++] = pid;
		}
	}
	if ((q = runner_open_queue(acct, 1, err)) == NULL) {
		rv = -1;
		sent = 0;
	} else
		rv = runner_flush(q, cfg, acct, !opts->due, &sent, &left, err);
	if (interrupt_pending() != 0)
		for (i = 0; i < nkids; i++)
			kill(kids[i], SIGTERM);
	for (i = 0; i < nkids; i++) {
		pid_t	w;
		int	st = 0;

		/* read before the wait: a worker's text may fill its pipe */
		sent += worker_collect(kfd[i]);
		close(kfd[i]);
		while ((w = waitpid(kids[i], &st, 0)) == -1 && errno == EINTR)
			;
		if (w == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			if (rv == 0)
				rv = error_set(err, EX_TEMPFAIL, "a queue "
				    "worker failed (see above); what it did "
				    "not send stays queued");
		}
	}
	if (wfd != -1)
		close(wfd);		/* releases the lock */
	if (q != NULL && rv == 0 && (opts->json || log_verbose() ||
	    isatty(STDERR_FILENO)))
		flush_summary(q, sent, opts->json);
	if (q != NULL)
		queue_close(q);
	flush_json = NULL;
	buf_release(&ab);
	fj_partial = fj_dropped = fj_objects = 0;
	return q == NULL ? -1 : rv;
}

/*
 * A worker's report to the parent on its own pipe: what it sent, then,
 * with --json, its counts, the number and length of its attempts' text
 * and the text itself (worker_collect()).
 */
static int
worker_report(int fd, size_t sent)
{
	size_t	h[5];

	h[0] = sent;
	if (flush_json == NULL)
		return util_write_all(fd, h, sizeof(h[0]));
	h[1] = fj_partial;
	h[2] = fj_dropped;
	h[3] = fj_objects;
	h[4] = flush_json->len;
	if (util_write_all(fd, h, sizeof(h)) == -1 ||
	    util_write_all(fd, flush_json->data, flush_json->len) == -1)
		return -1;
	return 0;
}

/*
 * The parent's side: a worker's count of entries sent, and with --json
 * its attempts spliced into this process's, whole or not at all (a
 * worker that died writing adds none; past ATTEMPTS_MAX in all they are
 * counted in fj_dropped).
 */
static size_t
worker_collect(int fd)
{
	size_t	h[5];
	char	*text;

	if (util_read_all(fd, h, sizeof(h[0])) == -1)
		return 0;
	if (flush_json == NULL ||
	    util_read_all(fd, h + 1, sizeof(h) - sizeof(h[0])) == -1)
		return h[0];
	fj_partial += h[1];
	fj_dropped += h[2];
	if (h[4] == 0 || h[4] > ATTEMPTS_MAX)
		return h[0];
	text = xmalloc(h[4]);
	if (util_read_all(fd, text, h[4]) == 0) {
		if (flush_json->len + h[4] + 2 > ATTEMPTS_MAX)
			fj_dropped += h[3];
		else {
			if (flush_json->len > 0)
				buf_addstr(flush_json, ", ");
			buf_add(flush_json, text, h[4]);
			fj_objects += h[3];
		}
	}
	free(text);
	return h[0];
}

/*
 * One attempt of a flush as a JSON object (--json), added to flush_json.
 * Its status says what became of the recipients tried now (env), with
 * the send report's names (deliver.h): sent (all delivered), partial
 * (some delivered, the rest refused for good), queued (some still wait
 * for a retry), held (a set-up failure), refused (none delivered, none
 * left); and expired: its last try past queue_lifetime, every recipient
 * still open refused.  outcome is run_log()'s word for the entry.
 */
static void
flush_attempt(const struct queue_entry *e, const struct envelope *env,
    const struct outcome *res, const struct error *ae, const char *outcome)
{
	struct buf	*b = flush_json;
	const char	*st;
	size_t		 ok, was = b->len;

	/* of the recipients tried now, as a send says it (deliver.h) */
	ok = outcome_count(res, RCPT_ACCEPTED);
	st = strcmp(outcome, "expired") == 0 || strcmp(outcome, "held") == 0 ||
	    strcmp(outcome, "queued") == 0 ? outcome : ok == env->rcpts.n ?
	    "sent" : ok > 0 ? "partial" : "refused";
	if (ok > 0 && ok < env->rcpts.n)
		fj_partial++;
	if (b->len > 0)
		buf_addstr(b, ", ");
	buf_addstr(b, "{\"queue_id\": ");
	buf_add_json_str(b, e->id);
	buf_addstr(b, ", \"status\": ");
	buf_add_json_str(b, st);
	buf_addstr(b, ", \"account\": ");
	buf_add_json_str_or_null(b, e->account);
	outcome_json_attempt(b, res, env->sender, &env->rcpts,
	    strcmp(st, "held") == 0 ? "held" :
	    strcmp(st, "queued") == 0 ? "queued" : "refused");
	buf_addstr(b, ", \"error\": ");
	buf_add_json_str_or_null(b, ae != NULL ? ae->msg : NULL);
	buf_addch(b, '}');
	if (b->len > ATTEMPTS_MAX) {
		b->len = was;		/* bounded: counted, not written */
		fj_dropped++;
	} else
		fj_objects++;
}

/*
 * After a flush, for a human (a terminal, or -v): what was sent, what is
 * still queued and when it is tried next, what is held and why.  With
 * json, one object on stdout instead: the counts and the entries left
 * (as mailq --json lists them).
 */
static void
flush_summary(struct queue *q, size_t sent, int json)
{
	struct buf		  b = BUF_INIT;
	struct queue_entry	**v;
	struct error		  err = ERROR_INIT;
	const struct queue_entry *first_q = NULL, *first_h = NULL;
	size_t			  n, i, nq = 0, nh = 0, na = 0;
	time_t			  now = time(NULL);

	if (queue_list(q, &v, &n, &err) == -1) {
		log_warnx("%s", err.msg);
		error_release(&err);
		return;
	}
	for (i = 0; i < n; i++) {
		if (v[i]->held == HOLD_SETUP) {
			if (nh++ == 0)
				first_h = v[i];
		} else if (v[i]->held == HOLD_ADMIN)
			na++;
		else if (nq++ == 0)
			first_q = v[i];
	}
	if (json) {
		buf_printf(&b, "{\"sent\": %zu, \"queued\": %zu, \"held\": "
		    "%zu, \"entries\": ", sent, nq, nh + na);
		queue_format(&b, v, n, now, 1);
		while (b.len > 0 && b.data[b.len - 1] == '\n')
			b.len--;
		buf_printf(&b, ", \"partial\": %zu, \"attempts\": [",
		    fj_partial);
		if (flush_json != NULL)
			buf_add(&b, flush_json->data, flush_json->len);
		buf_addch(&b, ']');
		if (fj_dropped > 0)
			buf_printf(&b, ", \"attempts_left_out\": %zu",
			    fj_dropped);
		buf_addstr(&b, "}\n");
		if (fwrite(b.data, 1, b.len, stdout) != b.len ||
		    fflush(stdout) == EOF)
			log_warnx("cannot write the JSON report");
		buf_release(&b);
		queue_entries_free(v, n);
		return;
	}
	log_info("queue: %zu sent, %zu still queued, %zu held", sent, nq,
	    nh + na);
	if (first_q != NULL)
		log_info("  queued %s: next try in %lld min: %s", first_q->id,
		    (long long)(first_q->next_attempt > now ?
		    (first_q->next_attempt - now + 59) / 60 : 0),
		    first_q->last_error != NULL ? first_q->last_error :
		    "not tried yet");
	if (first_h != NULL)
		log_info("  held %s until the configuration is fixed: %s",
		    first_h->id, first_h->last_error != NULL ?
		    first_h->last_error : "set-up failure");
	if (na > 0)
		log_info("  %zu held by --queue-hold (--queue-release ID "
		    "sends it)", na);
	queue_entries_free(v, n);
}

/* Root's postie -q: every drop file into the queue, as untrusted input. */
static int
ingest_drops(const struct account *acct, struct error *err)
{
	struct drop_opts	 o;
	struct queue		*q;
	size_t			 moved, refused;
	char			*qd;
	int			 rv;

	if ((q = runner_open_queue(acct, 1, err)) == NULL)
		return -1;
	qd = account_qualify_domain(acct);
	memset(&o, 0, sizeof(o));
	o.qualify_domain = qd;
	o.allow_from = acct->drop_allow_from;
	o.max_size = acct->drop_max_size;
	o.account = acct->name;
	rv = drop_ingest(drop_dir(), drop_needed(), q, &o, &moved, &refused,
	    err);
	if (moved + refused > 0)
		log_debug("drop directory: %zu queued, %zu refused", moved,
		    refused);
	free(qd);
	queue_close(q);
	return rv;
}
