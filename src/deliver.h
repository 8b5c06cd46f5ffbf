/*
 * Delivery policy of a direct send: what happens to a finished message.
 * Between the faces (main.c, bs.c, which format the message) and one
 * attempt (send.h: transport.h or local.h), the queue store (queue.h),
 * dead.letter (mbox.h), bounces (bounce.h).  The queue runner and the
 * queue commands are runner.h.
 */
#ifndef POSTIE_DELIVER_H
#define POSTIE_DELIVER_H

#include "outcome.h"

struct account;
struct buf;
struct envelope;
struct error;
struct message;

/* What a face asks of the delivery policy (not the command line). */
struct deliver_opts {
	int		 bounce;	/* -oem: mail refusals back */
	int		 queue_only;	/* -odq: queue without trying */
	int		 no_flush;	/* never start the background flush */
	/* to run postie -q again after a send (background flush) */
	const char	*argv0;
	const char	*config_file;	/* -C, or NULL */
	const char	*account;	/* --account, or NULL */
};

/* What became of a message (deliver_message()). */
enum deliver_status {
	DLV_SENT = 0,		/* every recipient accepted */
	DLV_PARTIAL,		/* some accepted, the rest refused for good
				   (bounced with -oem) or deferred (4xx)
				   with "queue off", so never retried */
	DLV_QUEUED,		/* kept in the queue, whole or the 4xx
				   recipients (others may be accepted or
				   refused: see out) */
	DLV_HELD,		/* kept in the queue, held: the relay or
				   account is set up wrong (OUTCOME_SETUP);
				   deliver_message() returns -1 with the
				   specific code and what to fix */
	DLV_REFUSED,		/* refused for good, nothing accepted */
	DLV_FAILED		/* not delivered and not kept in the queue
				   (dead.letter at most): the caller must
				   retry */
};

struct deliver_report {
	enum deliver_status status;
	char		*queue_id;	/* DLV_QUEUED, DLV_HELD: the id; owned */
	struct outcome	 out;		/* the attempt: per-recipient states
					   and replies, the failing reply;
					   n == 0 when nothing was tried
					   (-odq) */
};

void	deliver_report_init(struct deliver_report *);
/*
 * The report as one JSON object and a newline (--json): status, queue
 * id, account, relay, the relay's queue id, sender, per recipient its
 * address, status (delivered, queued, held, refused, failed), SMTP code,
 * enhanced code and text; the failure (class, step, code, exit, hint)
 * when there was one, and error (the line stderr shows, or null).
 */
void	deliver_report_json(const struct deliver_report *,
	    const struct envelope *, const char *account, const char *error,
	    struct buf *);
void	deliver_report_release(struct deliver_report *);

/*
 * Deliver a finalized message through the account (its relay, or the
 * local mailboxes when it has none), or keep it: a temporary failure is
 * queued (exit 0 with "queued as ID"), -odq queues without trying, and
 * when the queue cannot be written the message goes to dead.letter.
 * Refused recipients are bounced with -oem.  qd is the qualify domain.
 * rep, when not NULL (initialised by the caller), receives what
 * happened, for a face that answers per message (-bs, --json); the
 * return value and err are the exit-code contract either way.
 * Errors: the transport's code for a permanent failure, EX_TEMPFAIL when
 * nothing could be kept (or with "queue off").
 */
int	deliver_message(const struct deliver_opts *, const struct account *,
	    const char *qd, const struct message *, struct deliver_report *,
	    struct error *);
/*
 * Whether the account can route one recipient as an SMTP client gave it
 * (before aliases and qualification, which are applied here as the
 * formatter applies them), for -bs's answer at RCPT time.  With a relay,
 * always 0: the relay decides.  With none (local delivery), every
 * address it expands to must be local and a user of this host.
 * Errors: EX_UNAVAILABLE (a remote address and no relay), EX_NOUSER
 * (no such local user), EX_TEMPFAIL (the user database failed).
 */
struct aliases;
int	deliver_check_rcpt(const struct account *, const char *qd,
	    const struct aliases *, const char *rcpt, struct error *);
/*
 * --dry-run: print on stderr the account, relay, port, TLS mode and AUTH
 * (mechanism and user, never the password) a send would use, or the
 * local delivery, and fail as the routing would: EX_UNAVAILABLE for a
 * remote recipient with no relay.
 */
int	deliver_dry_run(const struct account *, const char *qd,
	    const struct message *, struct error *);

/*
 * Where a large piped message is spooled first: the account's queue
 * tmp/ (allocated), so that a full $TMPDIR does not stop a message the
 * queue could still keep; NULL when the account does not queue.
 */
char	*deliver_spool_dir(const struct account *);

/* Hand the message to the system drop directory (drop.h).  Errors as
 * drop_submit(). */
int	deliver_hand_over(const struct message *, struct error *);

#endif
