/*
 * bs: the -bs face.  SMTP on a pair of fds (smtpd.h); each transaction
 * becomes a message through the same formatter as a piped one (with the
 * client's envelope) and goes through deliver_message(), and the reply
 * to its final dot says what became of it:
 *
 *	(at RCPT) a recipient the account cannot route: 550 5.1.2, an
 *	unknown local user: 550 5.1.1; after the dot:
 *	delivered or durably queued	250 2.0.0 Ok: queued as ID
 *	refused (some or all rcpts)	550 5.x.x reason
 *	not delivered, nothing kept	451 4.3.0 reason
 *	the message itself is bad	554 5.6.0 reason
 *
 * The face decides nothing about queueing, bouncing or exit codes.
 */
#ifndef POSTIE_BS_H
#define POSTIE_BS_H

struct account;
struct deliver_opts;
struct error;
struct message_opts;

struct bs_ctx {
	const struct deliver_opts *dop;		/* borrowed */
	const struct account	*acct;		/* borrowed */
	const char		*qd;		/* qualify domain, borrowed */
	/* the formatter's options; sender, rcpts, extract_rcpts and
	 * ignore_dots are replaced per transaction; borrowed */
	const struct message_opts *mo;
	int			 hand_over;	/* to the drop directory
						   (deliver_hand_over()) */
	int			 check_rcpt;	/* the account's routing is
						   the one that will deliver:
						   judge each RCPT by it
						   (deliver_check_rcpt()) */
	size_t			 size_limit;	/* octets; 0: none */
};

/*
 * For tests: POSTIE_TEST_BS_TIMEOUTS="CMD,DATA" (seconds) replaces the
 * server timeouts of smtpd.h (SMTPD_CMD_TIMEOUT, SMTPD_DATA_TIMEOUT).
 */
#define BS_TIMEOUTS_ENV	"POSTIE_TEST_BS_TIMEOUTS"

/*
 * Run the session on in/out until QUIT or EOF (returns 0; an open
 * transaction is discarded at EOF).  Returns -1 with EX_IOERR when the
 * dialogue breaks (read or write error, timeout).
 */
int	bs_run(int in, int out, const struct bs_ctx *, struct error *);

/* The reply to RCPT for rcpt: 250, or the refusal of
 * deliver_check_rcpt() (550 5.1.2 no relay, 550 5.1.1 unknown user,
 * 451 4.3.0 lookup failure); text allocated.  */
void	bs_rcpt_verdict(const struct bs_ctx *, const char *rcpt, int *code,
	    const char **enhanced, char **text);

/* A session that cannot start (config error): "421 4.3.0 reason" on
 * out instead of the greeting.  Write errors are ignored. */
void	bs_refuse(int out, const struct error *);

/* The one-line reply to a transaction's final dot for a delivery
 * report (deliver.h), written into code/enhanced/text (text: an
 * allocated string, no CR or LF, the caller frees it).  Pure. */
struct deliver_report;
void	bs_reply_for(const struct deliver_report *, int rv,
	    const struct error *, const char *fallback_id, int *code,
	    const char **enhanced, char **text);

#endif
