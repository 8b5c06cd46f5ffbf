/*
 * The queue runner: postie -q (and the timer's -q --due), the background
 * flush after a send, the queue commands (-bp/mailq, --queue-delete,
 * --queue-hold, --queue-release) and root's intake of the drop
 * directory.
 *
 * It owns the schedule: what is due, expiry (only after a failed last
 * try past the lifetime), the backoff, what an attempt's outcome means
 * for an entry (done, refused, wait, held), the bounce of what is
 * refused for good, and the log line of each attempt.  It calls the
 * store (queue.h), one attempt (send.h) and bounce_send() (bounce.h)
 * directly; none of them calls back.
 *
 * A run stops, and says why, as soon as the queue cannot record an
 * outcome (read-only or full file system): it checks before its first
 * send (queue_writable()), and an entry whose outcome could not be
 * recorded is held, never sent again blind.
 */
#ifndef POSTIE_RUNNER_H
#define POSTIE_RUNNER_H

#include <stddef.h>
#include <time.h>

struct account;
struct config;
struct error;
struct outcome;
struct queue;
struct queue_entry;
struct queue_lock;

enum runner_cmd {
	RUNNER_FLUSH = 0,	/* -q */
	RUNNER_LIST,		/* -bp, mailq */
	RUNNER_DELETE,		/* --queue-delete ID */
	RUNNER_HOLD,		/* --queue-hold ID */
	RUNNER_RELEASE		/* --queue-release ID */
};

/* What the command line asks of the runner (main.c fills it). */
struct runner_opts {
	enum runner_cmd	 cmd;
	int		 due;		/* --due: the schedule only */
	int		 json;		/* --json */
	const char	*queue_id;	/* DELETE, HOLD, RELEASE */
	const char	*config_file;	/* -C, or NULL */
	const char	*account;	/* --account, or NULL */
};

/* -q, -bp/mailq, --queue-delete, --queue-hold, --queue-release. */
int	runner_command(const struct runner_opts *, struct error *);

/*
 * The account's queue (queue_dir, or queue_default_dir()), opened with
 * its retry limits; with create, made when missing.
 */
struct queue *runner_open_queue(const struct account *, int create,
	    struct error *);

/*
 * After a successful direct send: when something in acct's queue is
 * due, start "argv0 -q --due" (with -oem, -C config_file, --account
 * account when given) detached, so that the caller never waits for it.
 * Only when something is due: a normal send pays one readdir.
 */
void	runner_flush_background(const struct account *, const char *argv0,
	    int bounce, const char *config_file, const char *account);

/*
 * One run over q: every due entry (with force, all but those held by
 * hand: postie -q), oldest first, each through send_attempt() with one
 * transport per account (so one connection per account), accounts
 * looked up in cfg by the entry's name.  acct (the selected account)
 * gives the lifetime.  Counts go to *sent and *left.  Errors: the queue
 * itself, and EX_CANTCREAT when it cannot record an outcome (the run
 * stops there); a failed delivery is recorded in its entry.
 */
int	runner_flush(struct queue *, const struct config *,
	    const struct account *, int force, size_t *sent, size_t *left,
	    struct error *);

/*
 * Record the outcome of one attempt of entry e (res from send_attempt()
 * over the entry's wire message; attempt_err the failure, or NULL):
 * accepted recipients become done, refused ones are bounced (with the
 * entry's -oem, through acct; acct NULL: no bounce), the rest wait with
 * backoff (up to backoff_max seconds; 0: 4 h).  The entry is removed
 * when nothing is left.  Unlocks l.  Errors: the store's, when the
 * outcome could not be recorded.
 */
int	runner_record(struct queue *, struct queue_lock *l,
	    struct queue_entry *e, const struct outcome *res,
	    const struct error *attempt_err, const struct account *acct,
	    int backoff_max, struct error *);

/* 1 when an entry of q is due at now (not held, next attempt passed):
 * the cheap check before a background flush. */
int	runner_due(struct queue *, time_t now);

/*
 * The delay before the next attempt, in seconds, after attempts failed
 * ones: 300 doubling up to max (0: 4 h), then +-10% jitter from rnd,
 * never above max.  Pure.
 */
int	runner_backoff(int attempts, int max, unsigned int rnd);

#endif
