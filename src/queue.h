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
 * This is the store only: what is due, what an outcome means for an
 * entry, backoff, expiry and bounces are the runner's (runner.h), which
 * calls these functions; the store calls nothing back.  dead.letter is
 * mbox.h's.
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
	int		 unrecorded;	/* the outcome of an attempt could not
					   be recorded (its .msg is marked
					   read-only): never sent again
					   blind (set by queue_lock_entry) */
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
 * The wire message of l's entry for rcpts (with e's sender), on its own
 * descriptor of the locked file (for a bounce); NULL on error.
 */
struct message *queue_lock_message(const struct queue_lock *,
	    const struct queue_entry *, const struct strlist *rcpts);
/* For the message queue_lock_entry() returned: its recipient i is the
 * entry's recipient map[i] (*n of them). */
const size_t *queue_lock_map(const struct queue_lock *, size_t *n);

/*
 * Write e's new state (rewritten atomically), or when it has no
 * recipient left to try, remove it: its .env at once (the entry is then
 * done, for good even if the process is killed next), its .msg at once
 * or, in a batch, by the reaper thread.  Unlocks and frees l.  Errors:
 * EX_TEMPFAIL (the rewrite) or EX_CANTCREAT (the removal) when the state
 * could not be recorded; the entry is then marked (its .msg made
 * read-only, which needs no free block) so that queue_lock_entry() sets
 * its unrecorded flag.  A successful update clears the mark.
 */
int	queue_update(struct queue *, struct queue_lock *,
	    const struct queue_entry *, struct error *);

/* A batch of updates (a run): removals by a reaper thread, one fsync of
 * q/ at the end.  queue_batch_end() returns how many unlinks failed. */
void	queue_batch_begin(struct queue *);
size_t	queue_batch_end(struct queue *);

/*
 * 0 when the queue can record an outcome (a file created, written,
 * synced and renamed over the queue directory's .probe), else -1 with
 * EX_CANTCREAT: read-only or full file system, wrong permissions.
 */
int	queue_writable(struct queue *, struct error *);

/*
 * The delay of a save that followed an attempt (queue_save with res),
 * and the longest backoff (times read back further ahead than now + max
 * are clamped to now).  Defaults: 300 s and 4 h.
 */
void	queue_set_retry(struct queue *, int first, int max);

/* The directory the queue was opened with (borrowed). */
const char *queue_path(const struct queue *);

/* Unlock without recording anything (the entry stays as it was). */
void	queue_unlock(struct queue_lock *);

/* Number of recipients of the entry still to be tried. */
size_t	queue_entry_pending(const struct queue_entry *);

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

#endif
