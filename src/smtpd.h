/*
 * smtpd: the server side of SMTP (RFC 5321) on a pair of fds, for -bs.
 * Protocol only, no delivery.  Forward-only iterator, no callbacks:
 *
 *	s = smtpd_new(0, 1, &o);
 *	while ((r = smtpd_next(s, &txn, err)) == 1) {
 *		... deliver txn ...
 *		smtpd_reply(s, 250, "2.0.0", "Ok: queued as X");
 *		smtpd_txn_release(&txn);
 *	}
 *	smtpd_free(s);
 *
 * Data lines are streamed to the file; no line or message is held whole.
 */
#ifndef POSTIE_SMTPD_H
#define POSTIE_SMTPD_H

#include <stddef.h>

#include "error.h"
#include "util.h"

/*
 * The server timeouts of RFC 5321 4.5.3.2 (seconds; 0: none):
 * cmd_timeout bounds the wait for each whole command line, from the
 * moment the server is ready for it to its line end (4.5.3.2.7: at
 * least 5 minutes; a client that trickles a line byte by byte does not
 * reset it); data_timeout bounds each wait for more data between DATA's
 * 354 and the final dot (the client's data block timeout of 4.5.3.2.5,
 * 3 minutes), so a message may take as long as it needs while it keeps
 * coming.
 */
#define SMTPD_CMD_TIMEOUT	300
#define SMTPD_DATA_TIMEOUT	180

struct smtpd_opts {
	const char	*hostname;	/* for the 220 greeting and 250 EHLO */
	size_t		 size_limit;	/* octets; 0 = none */
	int		 cmd_timeout;	/* seconds; see above */
	int		 data_timeout;	/* seconds; see above */
	int		 check_rcpt;	/* smtpd_next() returns SMTPD_RCPT for
					   each recipient, for a verdict */
};

struct smtpd_txn {
	char		*sender;	/* owned; "" for the null sender */
	struct strlist	 rcpts;		/* owned, at most 1000 */
	int		 fd;		/* util_tmpfile(): dot-unstuffed data, LF line ends */
	size_t		 size;		/* octets in fd */
};

struct smtpd;

struct smtpd *smtpd_new(int in, int out, const struct smtpd_opts *);
#define SMTPD_TXN	1	/* smtpd_next(): a transaction's final dot */
#define SMTPD_RCPT	2	/* smtpd_next(): a recipient to judge */

/*
 * Run the dialogue until a transaction's final dot.  Returns SMTPD_TXN
 * with txn filled (the caller then calls smtpd_reply() once and
 * smtpd_txn_release()), 0 at QUIT or EOF (EOF discards an open
 * transaction), -1 on I/O error or timeout (EX_IOERR; the client got a
 * 421).  With check_rcpt, also SMTPD_RCPT (txn left empty) for each
 * RCPT whose address is well-formed, before it joins the transaction:
 * the caller reads smtpd_rcpt() and answers smtpd_rcpt_verdict(); a
 * recipient left without a verdict is accepted by the next call.
 */
int	smtpd_next(struct smtpd *, struct smtpd_txn *, struct error *);
/* The recipient awaiting a verdict (as the client gave it), or NULL.
 * Borrowed until the verdict. */
const char *smtpd_rcpt(const struct smtpd *);
/* The reply to that RCPT: a 2xx adds the recipient to the transaction,
 * a 4xx or 5xx refuses it (the transaction goes on).  text may not hold
 * CR or LF (EX_SOFTWARE: the client then gets 451 4.3.0). */
int	smtpd_rcpt_verdict(struct smtpd *, int code, const char *enhanced,
	    const char *text, struct error *);
/* The reply to the final dot; text may not hold CR or LF. */
int	smtpd_reply(struct smtpd *, int code, const char *enhanced,
	    const char *text, struct error *);
void	smtpd_txn_release(struct smtpd_txn *);
void	smtpd_free(struct smtpd *);

#endif
