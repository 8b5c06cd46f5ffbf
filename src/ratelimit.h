/*
 * An account's send rate ("rate_limit N/minute"), shared by every postie
 * process that sends through it: direct sends, flushes, parallel flush
 * workers.  postie has no daemon to count for it, so the count lives in a
 * small file in the queue directory, "rate/ACCOUNT", holding the times of
 * the sends in the current window, one per line, under flock(2).
 *
 * A send asks for a slot first; when the window is full it gets the time
 * the next slot frees instead, and the message is queued with that as
 * its next try (never sent over the provider's limit and refused there).
 */
#ifndef POSTIE_RATELIMIT_H
#define POSTIE_RATELIMIT_H

#include <time.h>

struct error;

struct rate {
	unsigned	n;		/* sends allowed per window; 0: no limit */
	unsigned	window;		/* seconds: 60 (minute) or 3600 (hour) */
};

/*
 * Parses "N/minute", "N/min", "N/hour", "N/h" or "off" into r.  Returns 0,
 * or -1 with EX_CONFIG set in err.
 */
int	ratelimit_parse(const char *, struct rate *, struct error *);

/*
 * Takes a slot for one send of account at now (seconds).  Returns 1 when
 * the send may go (the slot is recorded), 0 when the window is full (then
 * *next_free is when a slot frees up), -1 when the file cannot be used
 * (err set: the caller queues the message rather than send blind).
 * dir is the queue directory; "rate/" is made in it when missing.
 */
int	ratelimit_take(const char *dir, const char *account,
	    const struct rate *, double now, time_t *next_free,
	    struct error *);

/*
 * A send is counted from its start (the slot is taken before the relay
 * is tried) to its end: a provider counts the message when it accepts
 * it, which may be seconds later, so once the send is over its time in
 * the file is moved to now.  Otherwise a slow first window and a fast
 * second one could put N+1 acceptances within one window at the
 * provider.  was is the time ratelimit_take() recorded; when it is no
 * longer in the file, now is recorded.  Returns 0, or -1 with err set.
 */
int	ratelimit_settle(const char *dir, const char *account,
	    const struct rate *, double was, double now, struct error *);

/*
 * ratelimit_take() for one send through an account with a rate_limit
 * (1 when it has none), in its queue directory (made, as the queue makes
 * it, on a fresh install's first send).  When the window is full (0),
 * err says "account 'X': rate_limit N/minute reached, the next slot
 * frees at HH:MM:SS" (EX_TEMPFAIL) and *next_free is that time.  On 1,
 * *taken is the time recorded (0 without a limit), for
 * ratelimit_account_settle() once the send is over.
 */
struct account;
int	ratelimit_account(const struct account *, time_t *next_free,
	    double *taken, struct error *);
int	ratelimit_account_settle(const struct account *, double taken,
	    struct error *);

/*
 * The pure part, for the tests: given the sorted send times t[0..n-1]
 * (n may exceed r->n after a lowered limit), drops the ones outside the
 * window ending at now, clamps times in the future to now (a clock set
 * back), and says whether one more send fits.  Returns the number of
 * times kept (moved to the front of t); *fits is 1 or 0, and when 0,
 * *next_free is when the oldest kept one leaves the window.
 */
size_t	ratelimit_window(double *t, size_t n, const struct rate *,
	    double now, int *fits, time_t *next_free);

/*
 * The pure part of ratelimit_settle(): t[0..n-1] has room for n+1; the
 * time equal to was (to the file's millisecond) becomes now, or now is
 * added when none is.  Sorts t; returns its new length.
 */
size_t	ratelimit_settle_times(double *t, size_t n, double was, double now);

#endif
