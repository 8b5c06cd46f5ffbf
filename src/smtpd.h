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

struct smtpd_opts {
	const char	*hostname;	/* for the 220 greeting and 250 EHLO */
	size_t		 size_limit;	/* octets; 0 = none */
	int		 timeout;	/* seconds per command; RFC 5321 4.5.3.2: 300 */
};

struct smtpd_txn {
	char		*sender;	/* owned; "" for the null sender */
	struct strlist	 rcpts;		/* owned, at most 1000 */
	int		 fd;		/* util_tmpfile(): dot-unstuffed data, LF line ends */
	size_t		 size;		/* octets in fd */
};

struct smtpd;

struct smtpd *smtpd_new(int in, int out, const struct smtpd_opts *);
/*
 * Run the dialogue until a transaction's final dot.  Returns 1 with txn
 * filled (the caller then calls smtpd_reply() once and
 * smtpd_txn_release()), 0 at QUIT or EOF (EOF discards an open
 * transaction), -1 on I/O error or timeout (EX_IOERR).
 */
int	smtpd_next(struct smtpd *, struct smtpd_txn *, struct error *);
/* The reply to the final dot; text may not hold CR or LF. */
int	smtpd_reply(struct smtpd *, int code, const char *enhanced,
	    const char *text, struct error *);
void	smtpd_txn_release(struct smtpd_txn *);
void	smtpd_free(struct smtpd *);

#endif
