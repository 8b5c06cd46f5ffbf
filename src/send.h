/*
 * One delivery attempt through an account: its relay (transport.h) or,
 * with no relay, the local mailboxes (local.h).  Used alike by the
 * direct send (deliver.c), the queue runner (runner.c) and bounces
 * (bounce.c); it keeps nothing and decides nothing beyond classifying
 * the failures that are the account's fault (OUTCOME_SETUP).  Also the
 * one log line of an attempt ("logfile", "syslog").
 */
#ifndef POSTIE_SEND_H
#define POSTIE_SEND_H

struct account;
struct envelope;
struct error;
struct local_opts;
struct message;
struct outcome;
struct strlist;
struct transport;

/*
 * Deliver msg through acct: res must be set up for the envelope
 * (outcome_init); *tp is the account's transport, created on first use
 * (one connection for several messages), freed by the caller with
 * transport_free().  qd is the qualify domain when the caller has it,
 * else NULL.  Returns 0 when at least one recipient accepted, else -1
 * with err and res classified.
 */
int	send_attempt(const struct account *, const char *qd,
	    struct transport **tp, const struct message *, struct outcome *,
	    struct error *);

/* The domains that are this host: qd, the FQDN, the host name. */
void	send_local_domains(struct strlist *, const char *qd);

/* Local delivery options of acct (domains: from send_local_domains). */
void	send_local_opts(struct local_opts *, const struct account *,
	    const struct strlist *domains);

/* With no relay every recipient must be on this host (EX_UNAVAILABLE). */
int	send_check_local(const struct local_opts *, const struct envelope *,
	    struct error *);

/*
 * One line for the account's "logfile" and "syslog" (nothing when it has
 * neither): queue id (or NULL), sender, recipients, res (may be NULL),
 * size, text (the error, or NULL for the server's reply), outcome
 * ("delivered", "queued", ...) and exit code.  Never the password.
 */
void	send_log(const struct account *, const char *id, const char *sender,
	    const struct strlist *rcpts, const struct outcome *res,
	    long long size, const char *text, const char *outcome, int code);

#endif
