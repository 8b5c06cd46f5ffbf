/*
 * The queue: what happens when a message cannot be delivered now.
 *
 * A queue directory holds tmp/ (files being written) and q/ (published
 * entries).  An entry is two files: ID.msg, the message bytes exactly as
 * sent (immutable, written once), and ID.env, the envelope and delivery
 * state (rewritten atomically: tmp file, fsync, rename).  An entry exists
 * once its .env exists; it is published by writing both in tmp/, fsync,
 * renaming .msg then .env into q/, and fsync of q/.  A runner locks the
 * .msg file (flock) while it works on an entry, so two runners never send
 * one message twice.  Every file read back is untrusted: names are
 * checked, opened O_NOFOLLOW, must be regular, one link, our owner, and
 * the .env is parsed strictly (bounded, no interpretation of its text).
 *
 * dead.letter is the last resort when the queue cannot be written.
 */
#ifndef POSTIE_QUEUE_H
#define POSTIE_QUEUE_H

#include <sys/types.h>
#include <time.h>

#include "transport.h"
#include "util.h"

struct error;
struct message;
struct envelope;

/* One entry's state, as read from its .env file. */
struct queue_entry {
	char		*id;
	char		*account;	/* account name, NULL for the default */
	char		*sender;	/* "" for the null sender */
	struct strlist	 rcpts;		/* every recipient of the message */
	enum rcpt_state	*state;		/* per recipient: PENDING/TEMPFAIL
					   wait, ACCEPTED done, PERMFAIL
					   refused (reported) */
	char		*msgid;
	off_t		 size;		/* octets of ID.msg */
	time_t		 created;
	time_t		 next_attempt;
	int		 attempts;
	int		 held;		/* HOLD_*: not sent on the schedule */
	int		 unknown;	/* lost after the final "." once:
					   a retry may duplicate */
	int		 bounce;	/* -oem: bounce on permanent failure */
	char		*last_error;	/* one line, CR/LF never stored */
};

/*
 * Why an entry is held.  HOLD_ADMIN (--queue-hold) is never sent until
 * --queue-release.  HOLD_SETUP (the last attempt failed with
 * OUTCOME_SETUP: a wrong password, an untrusted certificate...) is never
 * retried on the schedule, as retrying cannot cure it; an explicit flush
 * (postie -q, after the configuration was fixed) tries it again.
 */
enum {
	HOLD_NONE = 0,
	HOLD_ADMIN = 1,
	HOLD_SETUP = 2
};

struct queue;

/*
 * The default queue directory: /var/spool/postie for root, else
 * $XDG_STATE_HOME/postie/queue (~/.local/state/postie/queue).
 * Returns an allocated string.
 */
char	*queue_default_dir(void);

/*
 * Open (and with create, make: mode 0700, owned by us) a queue directory.
 * Stale tmp/ files (older than 1 hour) and orphan .msg files are removed.
 * Errors: EX_CANTCREAT / EX_CONFIG (not a directory, wrong owner or mode).
 */
struct queue *queue_open(const char *dir, int create, struct error *);
void	queue_close(struct queue *);

/*
 * Queue a message durably.  res says which recipients are still to be
 * tried (PENDING and TEMPFAIL ones; NULL: all of them); the others are
 * recorded as done or refused.  reason is the error that made us queue
 * (kept as last_error).  Returns the new entry's id (allocated).
 * Errors: EX_TEMPFAIL "could not queue: ..." (ENOSPC, EFBIG, EIO, EROFS),
 * with nothing left behind in q/ or tmp/.
 */
char	*queue_save(struct queue *, const struct message *,
	    const struct outcome *res, const char *account,
	    const char *reason, int bounce, struct error *);

/* All entries, oldest first.  Unreadable or torn entries are skipped with
 * a warning.  *out is an allocated array of allocated entries. */
int	queue_list(struct queue *, struct queue_entry ***out, size_t *n,
	    struct error *);
void	queue_entry_free(struct queue_entry *);
void	queue_entries_free(struct queue_entry **, size_t);

/*
 * Lock an entry for delivery.  Returns 1 with *msg (a wire message of the
 * still-pending recipients, see message_new_wire) and *entry set, 0 when
 * another runner holds it or it is gone, -1 on error.
 */
struct queue_lock;
int	queue_lock_entry(struct queue *, const char *id, struct queue_lock **,
	    struct queue_entry **, struct message **, struct error *);
/*
 * Record the outcome of one attempt (res from transport_send over *msg;
 * err the failure, or NULL on success): accepted recipients become done,
 * refused ones are reported, the rest wait with backoff (5 min doubling
 * up to 4 h, with jitter).  The entry is removed when nothing is left.
 * Unlocks and frees the lock.
 */
int	queue_finish(struct queue *, struct queue_lock *, struct queue_entry *,
	    const struct outcome *res, const struct error *attempt_err,
	    struct error *);

/*
 * Flush: every due entry (all with force, as -qf), oldest first, through
 * deliver(), which sends one message and fills res (deliver.c supplies it and
 * keeps one transport, hence one connection, per account).  Entries
 * locked by another runner are skipped.  Expired entries (older than
 * lifetime seconds) are bounced and removed.  Counts go to *sent and
 * *left.  Errors: only for the queue itself (a failed delivery is
 * recorded in its entry, not returned).
 */
typedef int	(*queue_deliver_fn)(void *ctx, const char *account,
		    const struct message *, struct outcome *,
		    struct error *);
int	queue_run(struct queue *, int force, time_t lifetime,
	    queue_deliver_fn, void *ctx, size_t *sent, size_t *left,
	    struct error *);

/*
 * What the queue asks of its caller (main): write a bounce (with -oem,
 * for refused or expired recipients; never called for the null sender),
 * and hear of each attempt of queue_run (for the log: env holds the
 * recipients tried, res their outcome; outcome is "delivered",
 * "partial", "queued", "bounced" or "expired"; env and res may be
 * NULL).  backoff_max caps the retry delay (0: 4 hours).
 */
struct queue_hooks {
	int	(*bounce)(void *ctx, const char *to, const struct message *orig,
		    const struct strlist *failed, const struct strlist *why,
		    const char *reason, struct error *);
	void	(*attempt)(void *ctx, const struct queue_entry *,
		    const struct envelope *env, const struct outcome *res,
		    const struct error *, const char *outcome);
	void	*ctx;
	int	 backoff_max;
};
void	queue_set_hooks(struct queue *, const struct queue_hooks *);
/* The directory the queue was opened with (borrowed). */
const char *queue_path(const struct queue *);

/* Unlock without recording anything (the entry stays as it was). */
void	queue_unlock(struct queue_lock *);

/* Number of recipients of the entry still to be tried. */
size_t	queue_entry_pending(const struct queue_entry *);

/* 1 when an entry is due (not held, next attempt passed): the cheap
 * check before a background flush. */
int	queue_due(struct queue *, time_t now);


/*
 * The delay before the next attempt, in seconds, after attempts failed
 * ones: 300 doubling up to max, then +-10% jitter from rnd, never above
 * max.  Pure.
 */
int	queue_backoff(int attempts, int max, unsigned int rnd);

/* Parse an .env file's text (for tests and fuzzing).  EX_DATAERR. */
int	queue_entry_parse(const char *text, size_t len, const char *id,
	    struct queue_entry **, struct error *);

/*
 * The mailq listing of entries (as queue_list returns them): one line
 * per entry, "ID[!?] SIZE AGE <sender> <rcpt>... attempts=N (error)"
 * ('!' held, '?' outcome unknown) and a count, or "Mail queue is empty";
 * with json a JSON array of objects.  Appended to b.
 */
void	queue_format(struct buf *, struct queue_entry *const *, size_t n,
	    time_t now, int json);

/* --queue-delete, --queue-hold, --queue-release. */
int	queue_delete(struct queue *, const char *id, struct error *);
int	queue_hold(struct queue *, const char *id, int hold, struct error *);

/*
 * Append the whole message (headers included) to ~/dead.letter in mbox
 * form, after the "From " line one X-Postie-Not-Delivered: header per
 * recipient res (the attempt, may be NULL) did not deliver, with the
 * server's reply: O_APPEND|O_NOFOLLOW|O_CREAT, mode 0600, never as a privileged
 * user on another's file.  Returns the path (allocated) or NULL with err.
 */
char	*queue_dead_letter(const struct message *, const struct outcome *res,
	    struct error *);

#endif
