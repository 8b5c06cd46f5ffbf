/*
 * The relay policy of one send: routes by recipient (route.h) and
 * failover to backup accounts.  Between the delivery policy (deliver.c,
 * the queue runner), which decides what an outcome means for the queue
 * and the exit code, and the SMTP transport (transport.h), which speaks
 * to one relay.
 *
 * A message whose recipients fall under several accounts goes once
 * through each, with only its recipients; the results are merged per
 * recipient into one outcome.  Each account's transaction goes through
 * its "failover" accounts in order, at once, when the relay failed in a
 * way outcome_failover_worth() says another relay may not (connection
 * refused or timed out, a 4xx before the data, a TLS or AUTH failure of
 * that relay); a permanent refusal, or a failure once the data went
 * out, is never tried elsewhere.
 */
#ifndef POSTIE_RELAY_H
#define POSTIE_RELAY_H

struct account;
struct error;
struct message;
struct outcome;
struct transport;

/*
 * Send msg through acct (which has a host), its routes and its failover
 * accounts.  *tp is acct's own transport (created on first use, kept by
 * the caller for the next message); the transports of other accounts
 * are kept here until relay_finish().  res must be set up for the
 * envelope's recipients.  Returns as transport_send(): 0 when at least
 * one recipient was delivered (the others' states say what became of
 * them), -1 with err set and res classified otherwise.  When another
 * account delivered, res->account and res->relay (and each recipient's)
 * name it.  A configuration-class failure of an account whose backup
 * delivered is still a warning naming what to fix and a log line at
 * LOG_ERR ("outcome=failover").  res->unknown set on entry says an
 * earlier attempt was lost after the final dot (the queue's "outcome
 * unknown"): acct's relay may have the message, so it is resent there
 * only, never through a failover account.
 */
int	relay_send(const struct account *acct, struct transport **tp,
	    const struct message *msg, struct outcome *res,
	    struct error *err);

/* Whether a send through acct may use another account's relay (routes
 * or failover): the caller's per-account shortcuts do not apply. */
int	relay_has_policy(const struct account *);

/* Whether any relay a send through acct may use speaks TLS. */
int	relay_needs_tls(const struct account *);

/*
 * For --dry-run: one line per route taken ("route <rcpt>: account 'X'
 * (relay H port P), pattern '...'") and the failover accounts, appended
 * to out; nothing when the account has neither.
 */
struct buf;
struct envelope;
void	relay_describe(const struct account *, const struct envelope *,
	    struct buf *);

/* Close the connections of the other accounts, forget which relays
 * were found down.  Safe to call more than once. */
void	relay_finish(void);

#endif
