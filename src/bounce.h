/*
 * Bounces: the message that tells a sender which recipients did not get
 * theirs, and why (for -oem, and for expired queue entries).  Built as
 * a composed message that streams the original, so a bounce of a 1 GB
 * message stays in constant memory.
 */
#ifndef POSTIE_BOUNCE_H
#define POSTIE_BOUNCE_H

struct account;
struct error;
struct message;
struct rcpt_result;
struct strlist;

/*
 * Add a refused recipient to the lists bounce_new() takes: addr to
 * failed, and its server's reply ("550 text", or "" when r is NULL or
 * has none) to why.
 */
void	bounce_add(struct strlist *failed, struct strlist *why,
	    const char *addr, const struct rcpt_result *r);

/*
 * A bounce for orig (which must outlive the result): From
 * MAILER-DAEMON@domain, To to, a text part naming the failed recipients,
 * each with the server's reply when why (parallel to failed, "" for
 * none; may be NULL) has one, and the reason; then the original message
 * as message/rfc822.  The caller finalizes it with the null sender.
 */
struct message *bounce_new(const struct message *orig, const char *to,
	    const struct strlist *failed, const struct strlist *why,
	    const char *reason, const char *domain);

/*
 * Build the bounce of orig for sender (as bounce_new()) and deliver it
 * to the sender's local mailbox through acct's local settings: the
 * sender when it is a local address, else the user running postie.
 * Sent with the null sender, so a bounce never bounces.  Used by the
 * direct send and by the queue runner alike.
 */
int	bounce_send(const struct account *, const char *sender,
	    const struct message *orig, const struct strlist *failed,
	    const struct strlist *why, const char *reason, struct error *);

#endif
