/*
 * bs: the -bs face (bs.h).  smtpd.c speaks the protocol; this file turns
 * each transaction into a message, hands it to the delivery policy and
 * answers its final dot from the report.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bs.h"
#include "config.h"
#include "deliver.h"
#include "error.h"
#include "log.h"
#include "message.h"
#include "smtpd.h"
#include "util.h"
#include "xmalloc.h"

#define REASON_MAX	400	/* octets of a reason in a reply */

static int	rcpt(struct smtpd *, const struct bs_ctx *, struct error *);
static int	one_txn(struct smtpd *, const struct bs_ctx *,
		    struct smtpd_txn *, unsigned, struct error *);
static char	*reason(const char *);
static void	timeouts(struct smtpd_opts *);

int
bs_run(int in, int out, const struct bs_ctx *c, struct error *err)
{
	struct smtpd_opts	 so;
	struct smtpd		*s;
	struct smtpd_txn	 txn;
	unsigned		 n = 0;
	int			 r;

	memset(&so, 0, sizeof(so));
	so.hostname = c->qd;
	so.size_limit = c->size_limit;
	so.check_rcpt = c->check_rcpt;
	timeouts(&so);
	s = smtpd_new(in, out, &so);
	while ((r = smtpd_next(s, &txn, err)) > 0) {
		if (r == SMTPD_RCPT) {
			r = rcpt(s, c, err);
			if (r == -1)
				break;
			continue;
		}
		r = one_txn(s, c, &txn, ++n, err);
		smtpd_txn_release(&txn);
		if (r == -1)
			break;
	}
	smtpd_free(s);
	return r == -1 ? -1 : 0;
}

/* The server timeouts: RFC 5321's, or the tests' (bs.h). */
static void
timeouts(struct smtpd_opts *so)
{
	const char	*v = getenv(BS_TIMEOUTS_ENV);
	int		 cmd, data;
	char		 junk;

	so->cmd_timeout = SMTPD_CMD_TIMEOUT;
	so->data_timeout = SMTPD_DATA_TIMEOUT;
	if (v != NULL && sscanf(v, "%d,%d%c", &cmd, &data, &junk) == 2 &&
	    cmd > 0 && data > 0) {
		so->cmd_timeout = cmd;
		so->data_timeout = data;
	}
}

void
bs_rcpt_verdict(const struct bs_ctx *c, const char *rcpt, int *code,
    const char **enhanced, char **text)
{
	struct error	e = ERROR_INIT;

	if (deliver_check_rcpt(c->acct, c->qd, c->mo->aliases, rcpt,
	    &e) == 0) {
		*code = 250;
		*enhanced = "2.1.5";
		*text = xstrdup("Ok");
		return;
	}
	switch (e.code) {
	case EX_UNAVAILABLE:
		*code = 550;
		*enhanced = "5.1.2";
		break;
	case EX_NOUSER:
		*code = 550;
		*enhanced = "5.1.1";
		break;
	default:
		*code = 451;
		*enhanced = "4.3.0";
		break;
	}
	*text = reason(e.msg);
	error_release(&e);
}

/* Answer the RCPT awaiting its verdict; -1 on a reply error. */
static int
rcpt(struct smtpd *s, const struct bs_ctx *c, struct error *err)
{
	const char	*enh;
	char		*text;
	int		 code, rv;

	bs_rcpt_verdict(c, smtpd_rcpt(s), &code, &enh, &text);
	if (code != 250)
		log_warnx("SMTP session: RCPT TO:<%s> refused: %s",
		    smtpd_rcpt(s), text);
	rv = smtpd_rcpt_verdict(s, code, enh, text, err);
	free(text);
	return rv;
}

/* An id for a reply when the relay named none: time, pid, count. */
static char *
make_id(unsigned n)
{
	return xasprintf("%08llX%05lX%u", (unsigned long long)time(NULL),
	    (long)getpid() & 0xfffffL, n);
}

/* Build, deliver and answer one transaction; -1 only when the reply
 * cannot be written. */
static int
one_txn(struct smtpd *s, const struct bs_ctx *c, struct smtpd_txn *txn,
    unsigned n, struct error *err)
{
	struct message_opts	 mo = *c->mo;
	struct deliver_report	 rep;
	struct error		 e = ERROR_INIT;
	struct message		*msg;
	const char		*enh;
	char			*text, *id;
	int			 rv, code;

	mo.sender = txn->sender;
	if (!c->acct->allow_from_override && c->acct->from != NULL)
		mo.sender = NULL;	/* as -f: see main.c */
	mo.rcpts = &txn->rcpts;
	mo.extract_rcpts = 0;
	mo.ignore_dots = 1;		/* smtpd.c unstuffed the dots */
	deliver_report_init(&rep);
	id = make_id(n);
	msg = message_read(txn->fd, &mo, &e);
	if (msg == NULL || message_finalize(msg, &mo, &e) == -1) {
		code = e.code == EX_DATAERR || e.code == EX_USAGE ||
		    e.code == EX_NOINPUT ? 554 : 451;
		enh = code == 554 ? "5.6.0" : "4.3.0";
		text = reason(e.msg);
	} else {
		if (c->hand_over) {
			rv = deliver_hand_over(msg, &e);
			rep.status = rv == 0 ? DLV_QUEUED : DLV_FAILED;
		} else
			rv = deliver_message(c->dop, c->acct, c->qd, msg, &rep,
			    &e);
		bs_reply_for(&rep, rv, &e, id, &code, &enh, &text);
	}
	if (e.msg != NULL)
		log_warnx("message %u of the SMTP session: %s", n, e.msg);
	rv = smtpd_reply(s, code, enh, text, err);
	free(text);
	free(id);
	error_release(&e);
	deliver_report_release(&rep);
	message_free(msg);
	return rv;
}

void
bs_reply_for(const struct deliver_report *rep, int rv,
    const struct error *e, const char *fallback_id, int *code,
    const char **enhanced, char **text)
{
	const struct outcome	*o = &rep->out;
	const char		*why = e != NULL ? e->msg : NULL;
	char			*r;
	size_t			 i, bad = 0, first = o->n;

	if (rv == 0 && (rep->status == DLV_SENT ||
	    rep->status == DLV_QUEUED)) {
		*code = 250;
		*enhanced = "2.0.0";
		*text = xasprintf("Ok: queued as %s", rep->queue_id != NULL ?
		    rep->queue_id : o->server_id != NULL ? o->server_id :
		    fallback_id);
		return;
	}
	if (rep->status == DLV_HELD && rep->queue_id != NULL) {
		/*
		 * Kept, but held until the configuration is fixed: the
		 * message is safe with postie, so a retry by the client
		 * would only duplicate it.  The text says it is held.
		 */
		*code = 250;
		*enhanced = "2.0.0";
		*text = xasprintf("Ok: queued as %s (held: the relay or the "
		    "account is set up wrong, see mailq)", rep->queue_id);
		return;
	}
	if (rep->status == DLV_PARTIAL || rep->status == DLV_REFUSED) {
		for (i = 0; i < o->n; i++)
			if (o->rcpt[i].state != RCPT_ACCEPTED) {
				bad++;
				if (first == o->n)
					first = i;
			}
		*code = 550;
		*enhanced = "5.1.1";
		if (first < o->n && o->rcpt[first].enhanced[0] == '5')
			*enhanced = o->rcpt[first].enhanced;
		else if (rep->status == DLV_REFUSED && o->enhanced[0] == '5')
			*enhanced = o->enhanced;
		if (first < o->n && o->rcpt[first].reply != NULL)
			why = o->rcpt[first].reply;
		else if (o->reply != NULL)
			why = o->reply;
		r = reason(why);
		if (rep->status == DLV_PARTIAL)
			*text = xasprintf("%zu of %zu recipients not "
			    "delivered: %s", bad, o->n, r);
		else
			*text = xasprintf("refused: %s", r);
		free(r);
		return;
	}
	*code = 451;
	*enhanced = "4.3.0";
	if (why == NULL)
		why = o->reply;
	*text = reason(why);
}

void
bs_refuse(int out, const struct error *e)
{
	char	*r = reason(e->msg), *line;

	line = xasprintf("421 4.3.0 %s\r\n", r);
	(void)util_write_all(out, line, strlen(line));
	free(line);
	free(r);
}

/*
 * A reason for a reply: one line, controls escaped, bounded, without a
 * leading enhanced status code (the reply has its own).
 */
static char *
reason(const char *s)
{
	struct buf	b = BUF_INIT;
	size_t		n;

	if (s == NULL || s[0] == '\0')
		s = "unknown error";
	n = strspn(s, "0123456789.");
	if (n >= 5 && s[n] == ' ' && s[1] == '.')
		s += n + 1;
	buf_add_escaped(&b, s, strlen(s));
	if (b.len > REASON_MAX) {
		b.len = REASON_MAX;
		b.data[b.len] = '\0';
		buf_addstr(&b, "...");
	}
	return buf_detach(&b);
}
