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
struct send_result;
struct strlist;

struct local_opts {
	const char	*spool;		/* mbox directory; NULL: /var/mail */
	const char	*maildir;	/* template; NULL: "~/Maildir" */
	const struct strlist *domains;	/* domains that are this host */
};

/*
 * 1 when the mailbox is local: no domain, or a domain (case-insensitive)
 * in opts->domains or "localhost".
 */
int	local_is_local(const struct local_opts *, const char *);

/* The user name of a local mailbox ("root@host" -> "root"); allocated. */
char	*local_user(const char *);

/*
 * Deliver the message to every local recipient of the envelope; each
 * outcome goes in res (RCPT_ACCEPTED, RCPT_PERMFAIL for an unknown user,
 * RCPT_TEMPFAIL for a lock timeout or a full disk).  Returns 0 when at
 * least one recipient got it, else -1 with err (EX_NOUSER unknown users,
 * EX_TEMPFAIL lock/disk, EX_CANTCREAT cannot write the mailbox).
 * Prints where each copy landed with log_debug().
 */
int	local_deliver(const struct local_opts *, const struct message *,
	    struct send_result *, struct error *);

#endif
