/*
 * Delivery policy: what happens to a finished message, and the queue
 * commands.  Between main (which formats the message) and the transports
 * (transport.h, local.h) and the queue (queue.h).
 */
#ifndef POSTIE_DELIVER_H
#define POSTIE_DELIVER_H

struct account;
struct cli_opts;
struct error;
struct message;

/*
 * Deliver a finalized message through the account (its relay, or the
 * local mailboxes when it has none), or keep it: a temporary failure is
 * queued (exit 0 with "queued as ID"), -odq queues without trying, and
 * when the queue cannot be written the message goes to dead.letter.
 * Refused recipients are bounced with -oem.  qd is the qualify domain.
 * Errors: the transport's code for a permanent failure, EX_TEMPFAIL when
 * nothing could be kept (or with "queue off").
 */
int	deliver_message(const struct cli_opts *, const struct account *,
	    const char *qd, const struct message *, struct error *);

/*
 * --dry-run: print on stderr the account, relay, port, TLS mode and AUTH
 * (mechanism and user, never the password) a send would use, or the
 * local delivery, and fail as the routing would: EX_UNAVAILABLE for a
 * remote recipient with no relay.
 */
int	deliver_dry_run(const struct account *, const char *qd,
	    const struct message *, struct error *);

/* Hand the message to the system drop directory (drop.h).  Errors as
 * drop_submit(). */
int	deliver_hand_over(const struct message *, struct error *);

/* -q, -bp/mailq, --queue-delete, --queue-hold, --queue-release. */
int	deliver_queue_command(const struct cli_opts *, struct error *);

#endif
