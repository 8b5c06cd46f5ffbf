/*
 * One delivery attempt through an account (relay or local mailboxes),
 * and its log line.
 */
#include "autoconfig.h"

#include <sys/types.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "drop.h"
#include "error.h"
#include "local.h"
#include "log.h"
#include "message.h"
#include "outcome.h"
#include "relay.h"
#include "send.h"
#include "transport.h"
#include "util.h"
#include "xmalloc.h"

static int	send_local(const struct account *, const struct message *,
		    const char *, struct outcome *, struct error *);
static const char *first_tempfail(const struct outcome *);

int
send_attempt(const struct account *acct, const char *qd,
    struct transport **tp, const struct message *msg, struct outcome *res,
    struct error *err)
{
	char			*own = NULL;
	int			 rv;

	if (acct->host == NULL) {
		if (qd == NULL)
			qd = own = account_qualify_domain(acct);
		rv = send_local(acct, msg, qd, res, err);
		free(res->relay);
		res->relay = xstrdup("local");
		free(own);
		/*
		 * A user may not write another user's mailbox, and no retry
		 * changes that: held, with the way to set the system up
		 * (the drop directory, which root's runner empties).
		 */
		if (geteuid() != 0 && res->exitcode == EX_CANTCREAT &&
		    (rv == -1 ? res->class == OUTCOME_RETRY :
		    outcome_count(res, RCPT_TEMPFAIL) > 0))
			outcome_fail(res, OUTCOME_SETUP, STEP_LOCAL,
			    EX_CANTCREAT, 0, rv == -1 ? err->msg :
			    first_tempfail(res), "as a user, postie "
			    "cannot write other users' mailboxes: as root, "
			    "mkdir -m 1733 " DROP_DIR " (the Debian package "
			    "does) so that root's postie -q delivers them");
		return rv;
	}
	/* the relay, its routes and failover accounts: relay.h */
	return relay_send(acct, tp, msg, res, err);
}

void
send_local_domains(struct strlist *domains, const char *qd)
{
	char	host[256];

	strlist_add(domains, qd);
	strlist_add_owned(domains, util_fqdn());
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		strlist_add(domains, host);
	}
}

void
send_local_opts(struct local_opts *lo, const struct account *acct,
    const struct strlist *domains)
{
	memset(lo, 0, sizeof(*lo));
	lo->spool = acct->local_spool;
	lo->maildir = acct->local_maildir;
	lo->domains = domains;
}

/* The embedded default: every recipient must be on this host. */
static int
send_local(const struct account *acct, const struct message *msg,
    const char *qd, struct outcome *res, struct error *err)
{
	const struct envelope	*env = message_envelope(msg);
	struct strlist		 domains = STRLIST_INIT;
	struct local_opts	 lo;
	int			 rv = -1;

	send_local_domains(&domains, qd);
	send_local_opts(&lo, acct, &domains);
	if (send_check_local(&lo, env, err) == 0)
		rv = local_deliver(&lo, msg, res, err);
	else
		outcome_fail(res, OUTCOME_PERMANENT, STEP_NONE, err->code, 0,
		    err->msg, NULL);
	strlist_release(&domains);
	return rv;
}

int
send_check_local(const struct local_opts *lo, const struct envelope *env,
    struct error *err)
{
	size_t	i;

	for (i = 0; i < env->rcpts.n; i++)
		if (!local_is_local(lo, env->rcpts.v[i]))
			return error_set(err, EX_UNAVAILABLE, "no relay "
			    "configured for remote recipient <%s>: set "
			    "'host' (and 'port', 'tls', 'auth') in %s or "
			    "~/.postierc, see postie.conf(5)",
			    env->rcpts.v[i], config_system_path());
	return 0;
}

/*
 * The log line's account and attempt fields.  The SMTP status is the
 * reply to the final "." when the message was accepted (with the
 * relay's queue id), else the worst recipient reply, else the reply
 * that failed the attempt (AUTH's 535, a greeting's 421).
 */
void
send_log(const struct account *acct, const char *id, const char *from,
    const struct strlist *rcpts, const struct outcome *res, long long size,
    const char *text, const char *outcome, int code)
{
	struct log_attempt	a;
	size_t			i;

	if (acct->logfile == NULL && acct->syslog == NULL)
		return;
	log_open(acct->logfile, acct->syslog);
	memset(&a, 0, sizeof(a));
	a.queue_id = id;
	a.account = acct->name;
	a.host = acct->host != NULL ? acct->host : "local";
	a.tls = acct->tls;
	a.auth = acct->auth != NULL && strcmp(acct->auth, "off") != 0;
	a.user = acct->user;
	a.from = from;
	a.rcpts = rcpts;
	a.res = res;
	a.size = size;
	if (res != NULL && res->account != NULL) {
		/* routes or failover: the accounts and relays used */
		a.account = res->account;
		a.host = res->relay != NULL ? res->relay : a.host;
	}
	for (i = 0; res != NULL && i < res->n; i++)
		if (res->rcpt[i].code != 0 && (a.smtp_code == 0 ||
		    res->rcpt[i].code >= 400)) {
			a.smtp_code = res->rcpt[i].code;
			a.smtp_text = res->rcpt[i].reply;
		}
	if (res != NULL && res->final_code != 0 && (a.smtp_code == 0 ||
	    a.smtp_code < 400)) {
		a.smtp_code = res->final_code;
		a.smtp_text = res->final_reply;
	}
	/* no recipient reply: the reply that failed (AUTH's 535, a 421) */
	if (res != NULL && a.smtp_code == 0)
		a.smtp_code = res->smtp_code;
	if (text != NULL)
		a.smtp_text = text;
	a.outcome = outcome;
	a.exit_code = code;
	log_attempt(&a);
}

/* The reply of the first recipient with a temporary failure. */
static const char *
first_tempfail(const struct outcome *res)
{
	size_t	i;

	for (i = 0; i < res->n; i++)
		if (res->rcpt[i].state == RCPT_TEMPFAIL)
			return res->rcpt[i].reply;
	return NULL;
}
