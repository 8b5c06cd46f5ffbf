/*
 * What happened to a delivery, and what it means.  The transports
 * (transport.c, local.c) fill a struct outcome; everything after them
 * (deliver.c, runner.c, bounce.c, the log, -bs, --json) reads it.  The
 * one rule that turns an outcome into consequences (queue, hold,
 * failover, bounce, exit code) is outcome_decide(): no other module asks
 * "is this temporary?".
 *
 * Failure classes:
 *   OUTCOME_NONE       nothing failed (recipients may still differ: see
 *                      their states)
 *   OUTCOME_RETRY      the relay or the path to it is in trouble for now:
 *                      connection refused or timed out, a 4xx, a DNS
 *                      failure that is not NXDOMAIN, a lost connection, a
 *                      full local disk, a mailbox lock: queue and retry on
 *                      the schedule; another relay is worth a try
 *   OUTCOME_SETUP      this relay/account is configured wrong or does not
 *                      match the server: AUTH refused, no usable AUTH,
 *                      certificate untrusted or pin mismatch, STARTTLS
 *                      missing, wrong TLS mode for the port, NXDOMAIN
 *                      relay name, passwordeval/OAuth2 failure: keep the
 *                      message held (never retried on the schedule),
 *                      exit with the specific code; another relay is worth
 *                      a try
 *   OUTCOME_PERMANENT  the server refused the message or recipients for
 *                      good (5xx at MAIL, RCPT, DATA, after the data;
 *                      unknown local user); never retried, never sent
 *                      elsewhere; bounced with -oem
 *
 * An outcome with "unknown" set was lost after the final dot: the relay
 * may have the message.  It is RETRY for the queue, but never failover
 * (a second relay would duplicate it).
 *
 * An account whose rate_limit window is full is not tried: RETRY at
 * STEP_NONE with "limited" and "not_before" set, never failover (the
 * mail waits for its own relay's next slot rather than go elsewhere).
 */
#ifndef POSTIE_OUTCOME_H
#define POSTIE_OUTCOME_H

#include <stddef.h>
#include <time.h>

struct buf;
struct strlist;

enum outcome_class {
	OUTCOME_NONE = 0,
	OUTCOME_RETRY,
	OUTCOME_SETUP,
	OUTCOME_PERMANENT
};

/* The SMTP step (or local step) a failure happened at. */
enum outcome_step {
	STEP_NONE = 0,		/* before anything: config, secrets */
	STEP_CONNECT,		/* DNS, TCP, implicit TLS handshake */
	STEP_GREETING,
	STEP_EHLO,		/* EHLO or HELO */
	STEP_STARTTLS,		/* STARTTLS and its handshake, cert checks */
	STEP_AUTH,
	STEP_MAIL,
	STEP_RCPT,
	STEP_DATA,		/* the DATA command (354 expected) */
	STEP_BODY,		/* sending the message bytes */
	STEP_DOT,		/* the reply to the final dot */
	STEP_LOCAL		/* local mailbox delivery */
};

/* What happened to one recipient. */
enum rcpt_state {
	RCPT_PENDING = 0,	/* not tried (the transaction failed first) */
	RCPT_ACCEPTED,		/* delivered (accepted, then final 250) */
	RCPT_TEMPFAIL,		/* 4xx: try again later */
	RCPT_PERMFAIL		/* 5xx: never try again */
};

struct rcpt_result {
	enum rcpt_state	 state;
	int		 code;		/* SMTP reply code, 0 if none */
	char		 enhanced[16];	/* "5.1.1", "" if none */
	char		*reply;		/* reply text, owned, may be NULL */
	char		*relay;		/* with routes or failover: the relay
					   ("host:port") and account that */
	char		*account;	/* answered for this recipient;
					   owned, NULL otherwise */
};

/* The outcome of one transaction (one relay, or local delivery). */
struct outcome {
	struct rcpt_result *rcpt;	/* one per envelope recipient, in order */
	size_t		 n;
	enum outcome_class class;	/* of the transaction's failure */
	enum outcome_step step;		/* where it failed (STEP_NONE: ok) */
	int		 exitcode;	/* sysexits code of the failure (the
					   specific one: EX_NOPERM for AUTH,
					   EX_NOHOST for NXDOMAIN...) */
	int		 smtp_code;	/* the failing reply, 0 if none */
	char		 enhanced[16];
	char		*reply;		/* its text (owned), may be NULL */
	char		*relay;		/* "host:port" that answered, or
					   "local"; owned, may be NULL */
	char		*hint;		/* for SETUP: what to change, one
					   sentence naming the key; owned */
	int		 unknown;	/* lost after the final "." */
	int		 timedout;	/* a wait for the relay ran out */
	char		*server_id;	/* the relay's queue id from the final
					   250 ("queued as X"), owned */
	int		 final_code;	/* the reply to the final "." when
					   the message was accepted, 0 if none */
	char		*final_reply;	/* its text, owned, may be NULL */
	char		*account;	/* with routes or failover: the
					   account(s) that delivered, when
					   not (only) the message's own;
					   relay then names their relays.
					   Owned, NULL otherwise */
	size_t		 limited;	/* recipients not tried: their
					   account's rate_limit window was
					   full (ratelimit.h) */
	time_t		 not_before;	/* then: when its next slot frees,
					   the next try; 0 otherwise */
};

void	outcome_init(struct outcome *, size_t nrcpts);
void	outcome_release(struct outcome *);
/* Forget the results of an earlier attempt (all recipients PENDING). */
void	outcome_reset(struct outcome *);
/* Number of recipients in a state. */
size_t	outcome_count(const struct outcome *, enum rcpt_state);
/* Set one recipient's result (reply copied, may be NULL). */
void	outcome_set_rcpt(struct outcome *, size_t i, enum rcpt_state,
	    int code, const char *enhanced, const char *reply);
/* Set the transaction's failure (reply and hint copied, may be NULL). */
void	outcome_fail(struct outcome *, enum outcome_class, enum outcome_step,
	    int exitcode, int smtp_code, const char *reply, const char *hint);

/*
 * The enhanced status code (RFC 3463: class.subject.detail, class 2, 4
 * or 5, subject and detail of 1 to 3 digits) at the start of a reply's
 * text, into dst ("" when there is none).  Returns 1 when found.  Pure.
 */
int	outcome_enhanced(const char *text, char dst[16]);

/* The class a bare SMTP reply code means at a step (4xx RETRY, 5xx
 * PERMANENT, 2xx/3xx NONE).  Pure. */
enum outcome_class outcome_class_of_reply(enum outcome_step, int code);

/*
 * Is a failed transaction worth the same transaction through another
 * relay (failover)?  Yes for a RETRY or SETUP failure before the message
 * data went out: connection refused or timed out, a 4xx greeting, EHLO,
 * MAIL, RCPT or DATA reply, a TLS or AUTH failure of that relay, a
 * secret or token of that account that could not be had (STEP_NONE).
 * Never for a PERMANENT refusal (another relay would be refused too, or
 * deliver what the first refused), never once the data was sent (BODY,
 * DOT, or "unknown": the first relay may have it), never for local
 * delivery, never for a full rate_limit window ("limited": the mail
 * waits for its own relay), and never when no recipient is left open.
 * Pure.
 */
int	outcome_failover_worth(const struct outcome *);

/* What the delivery policy does with an outcome. */
struct outcome_action {
	int	keep;		/* queue the recipients still pending/4xx */
	int	hold;		/* ... held: not retried on the schedule */
	int	failover;	/* worth the same transaction on the next relay */
	int	bounce;		/* refused recipients to report (-oem) */
	int	exitcode;	/* of a direct send: 0, or the EX_* code */
};

/*
 * The one rule.  queue_on: the account queues (else a RETRY exits
 * EX_TEMPFAIL with nothing kept, as msmtp).  Pure; table-tested.
 *   every recipient accepted           -> exit 0
 *   some refused (5xx), rest accepted  -> bounce, exit 0
 *   some 4xx, rest accepted            -> keep those, exit 0
 *   RETRY                              -> keep, failover (before the
 *                                         data: outcome_failover_worth()),
 *                                         exit 0 (EX_TEMPFAIL without queue)
 *   SETUP                              -> keep+hold, failover (as RETRY),
 *                                         exit the specific code
 *   PERMANENT (nothing accepted)       -> bounce, exit the specific code
 */
void	outcome_decide(const struct outcome *, int queue_on,
	    struct outcome_action *);

/* Names for logs, mailq and --json: "none" "retry" "setup" "permanent";
 * "connect" "greeting" "ehlo" ... */
const char *outcome_class_name(enum outcome_class);
const char *outcome_step_name(enum outcome_step);

/*
 * The one writer of an attempt's recipients for --json (a send's report,
 * deliver.c, and each attempt of a flush's, runner.c): appends
 *   "recipients": [{"address", "status", "code", "enhanced", "text"
 *   (and "account", "relay" when routes or failover sent it elsewhere)},
 *   ...]
 * for each address of rcpts (the envelope tried, in the outcome's order),
 * then, when the transaction failed, ", \"failure\": {class, step, code,
 * exit, hint}".  A recipient's status is "delivered" (accepted),
 * "refused" (5xx), or open for any other state: "queued", "held",
 * "failed" as the caller says.  Every string goes through
 * buf_add_json_str() (valid UTF-8 JSON, controls escaped).
 */
void	outcome_json(struct buf *, const struct outcome *,
	    const struct strlist *rcpts, const char *open);
/*
 * The part of a --json report both faces share, after their own status
 * and account: "relay", "sent_via" (when routes or failover delivered
 * through another account), "server_id", "sender", then outcome_json().
 */
void	outcome_json_attempt(struct buf *, const struct outcome *,
	    const char *sender, const struct strlist *rcpts, const char *open);

#endif
