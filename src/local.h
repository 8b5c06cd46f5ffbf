/*
 * The embedded default: delivery to local mailboxes when no relay is
 * configured.  mbox in the spool directory (/var/mail/USER, fcntl and
 * dotlock locking, mboxrd ">From " quoting) or Maildir when the user's
 * Maildir exists.
 */
#ifndef POSTIE_LOCAL_H
#define POSTIE_LOCAL_H

struct envelope;
struct error;
struct message;
struct outcome;
struct strlist;

struct local_opts {
	const char	*spool;		/* mbox directory; NULL: /var/mail */
	const char	*maildir;	/* template; NULL: "~/Maildir" */
	const struct strlist *domains;	/* domains that are this host */
	int		 lock_timeout;	/* seconds to wait for a mailbox
					   lock; 0: 10 (tests use 1) */
};

/*
 * 1 when the mailbox is local: no domain, or a domain (case-insensitive)
 * in opts->domains or "localhost".
 */
int	local_is_local(const struct local_opts *, const char *);

/* The user name of a local mailbox ("root@host" -> "root"); allocated. */
char	*local_user(const char *);

/*
 * Whether local_deliver() would find the user of a local mailbox:
 * 0, or -1 with EX_NOUSER ("unknown local user 'x'") or EX_TEMPFAIL
 * (the user database failed).  For -bs's answer at RCPT.
 */
int	local_check_user(const char *mailbox, struct error *);

/*
 * Deliver the message to every local recipient of the envelope; each
 * outcome goes in res (RCPT_ACCEPTED, RCPT_PERMFAIL for an unknown user,
 * RCPT_TEMPFAIL for a lock timeout or a full disk).  Returns 0 when at
 * least one recipient got it, else -1 with err (EX_NOUSER unknown users,
 * EX_TEMPFAIL lock/disk, EX_CANTCREAT cannot write the mailbox).
 * Prints where each copy landed with log_debug().
 *
 * As for transport_send(), res must have been set up by the caller with
 * outcome_init(res, number of envelope recipients) (EX_SOFTWARE
 * otherwise).  Recipients that are not local (local_is_local() is 0) are
 * left RCPT_PENDING for the caller; when there is no local recipient at
 * all the result is -1 with EX_UNAVAILABLE.  A user named twice (root and
 * root@localhost) gets one copy; both entries share its outcome.
 *
 * Where each copy landed: an accepted recipient's rcpt[i].reply is
 * "delivered to PATH" (PATH: the mbox file, or the Maildir file in new/)
 * and its code 250.  A failed one holds the reason ("unknown local user
 * 'x'", code 550; "mailbox '/var/mail/x' is locked", code 451 ...).
 * Failures are also reported with log_warnx() when the result is 0, and
 * when several recipients failed (err then summarises).  When the result
 * is 0 and some failed, res->exitcode is the code that names them (as
 * err would: EX_CANTCREAT when no lock or disk failure is among them),
 * with res->class left OUTCOME_NONE.
 */
int	local_deliver(const struct local_opts *, const struct message *,
	    struct outcome *, struct error *);

#endif
