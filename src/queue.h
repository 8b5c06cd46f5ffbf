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
	int		 held;		/* --queue-hold: never sent */
	int		 unknown;	/* lost after the final "." once:
					   a retry may duplicate */
	int		 bounce;	/* -oem: bounce on permanent failure */
	char		*last_error;	/* one line, CR/LF never stored */
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
	    const struct send_result *res, const char *account,
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
	    const struct send_result *res, const struct error *attempt_err,
	    struct error *);

/*
 * Flush: every due entry (all with force, as -qf), oldest first, through
 * deliver(), which sends one message and fills res (main supplies it and
 * keeps one transport, hence one connection, per account).  Entries
 * locked by another runner are skipped.  Expired entries (older than
 * lifetime seconds) are bounced and removed.  Counts go to *sent and
 * *left.  Errors: only for the queue itself (a failed delivery is
 * recorded in its entry, not returned).
 */
typedef int	(*queue_deliver_fn)(void *ctx, const char *account,
		    const struct message *, struct send_result *,
		    struct error *);
int	queue_run(struct queue *, int force, time_t lifetime,
	    queue_deliver_fn, void *ctx, size_t *sent, size_t *left,
	    struct error *);

/* --queue-delete, --queue-hold, --queue-release. */
int	queue_delete(struct queue *, const char *id, struct error *);
int	queue_hold(struct queue *, const char *id, int hold, struct error *);

/*
 * Append the whole message (headers included) to ~/dead.letter in mbox
 * form: O_APPEND|O_NOFOLLOW|O_CREAT, mode 0600, never as a privileged
 * user on another's file.  Returns the path (allocated) or NULL with err.
 */
char	*queue_dead_letter(const struct message *, struct error *);

#endif
