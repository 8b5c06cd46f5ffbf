/*
 * Delivery policy: send a finished message now (relay or local mailbox),
 * or keep it (queue, dead.letter), bounce what is refused for good, and
 * run the queue with one connection per account.  The exit-code contract
 * of doc/postie.1 (EXIT STATUS) is decided here.
 */
#include "autoconfig.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "aliases.h"
#include "cli.h"
#include "config.h"
#include "deliver.h"
#include "bounce.h"
#include "drop.h"
#include "error.h"
#include "local.h"
#include "log.h"
#include "message.h"
#include "queue.h"
#include "transport.h"
#include "util.h"
#include "xmalloc.h"

/* The queue runner's state: one transport (connection) per account. */
struct runner {
	const struct config	*cfg;
	const struct account	**acct;
	struct transport	**t;
	char			**down;		/* per account: why its relay
						   failed to answer this run */
	size_t			  n;
	int			  bounce;	/* -oem */
};

static void	report_copy(struct deliver_report *,
		    const struct outcome *);
static int	keep(const struct account *, const struct message *,
		    const struct outcome *, const char *, int,
		    struct deliver_report *, struct error *);
static int	deliver(const struct account *, const char *,
		    struct transport **, const struct message *,
		    struct outcome *, struct error *);
static int	deliver_local(const struct account *, const struct message *,
		    const char *, struct outcome *, struct error *);
static int	held(const struct outcome *, const struct error *,
		    struct deliver_report *, struct error *);
static void	local_domains(struct strlist *, const char *);
static int	all_local(const struct local_opts *, const struct envelope *,
		    struct error *);
static int	bounce(const struct account *, const char *,
		    const struct message *, const struct strlist *,
		    const struct strlist *, const char *, struct error *);
static void	log_send(const struct account *, const char *,
		    const struct message *, const struct envelope *,
		    const struct outcome *, const char *, const char *,
		    int);
static struct queue *open_queue(const struct account *, int,
		    struct error *);
static int	run_deliver(void *, const char *, const struct message *,
		    struct outcome *, struct error *);
static int	run_bounce(void *, const char *, const struct message *,
		    const struct strlist *, const struct strlist *,
		    const char *, struct error *);
static void	run_attempt(void *, const struct queue_entry *,
		    const struct envelope *, const struct outcome *,
		    const struct error *, const char *);
static const struct account *run_account(struct runner *, const char *,
		    struct error *);
static void	flush_background(const struct account *,
		    const struct deliver_opts *);
static int	flush_queue(const struct cli_opts *, struct config *,
		    const struct account *, int, struct error *);
static int	ingest_drops(const struct account *, struct error *);
static void	flush_summary(struct queue *, size_t, int);
static int	run_hand_over(const struct message *, struct outcome *,
		    struct error *);

/* What -oem asks for: mail the errors back (cron passes it). */
static int
want_bounce(const struct cli_opts *opts)
{
	return opts->errmode != NULL && strcmp(opts->errmode, "m") == 0;
}

void
deliver_report_init(struct deliver_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	rep->status = DLV_FAILED;
}

void
deliver_report_release(struct deliver_report *rep)
{
	if (rep == NULL)
		return;
	free(rep->queue_id);
	outcome_release(&rep->out);
	deliver_report_init(rep);
}

/* The attempt into the report: recipients and the failure, if any. */
static void
report_copy(struct deliver_report *rep, const struct outcome *res)
{
	size_t	i;

	outcome_release(&rep->out);
	outcome_init(&rep->out, res->n);
	for (i = 0; i < res->n; i++)
		outcome_set_rcpt(&rep->out, i, res->rcpt[i].state,
		    res->rcpt[i].code, res->rcpt[i].enhanced,
		    res->rcpt[i].reply);
	if (res->class != OUTCOME_NONE)
		outcome_fail(&rep->out, res->class, res->step, res->exitcode,
		    res->smtp_code, res->reply, res->hint);
	rep->out.unknown = res->unknown;
	rep->out.relay = res->relay != NULL ? xstrdup(res->relay) : NULL;
	rep->out.server_id = res->server_id != NULL ?
	    xstrdup(res->server_id) : NULL;
	rep->out.final_code = res->final_code;
	rep->out.final_reply = res->final_reply != NULL ?
	    xstrdup(res->final_reply) : NULL;
}

static const char *
status_name(enum deliver_status s)
{
	switch (s) {
	case DLV_SENT:		return "sent";
	case DLV_PARTIAL:	return "partial";
	case DLV_QUEUED:	return "queued";
	case DLV_HELD:		return "held";
	case DLV_REFUSED:	return "refused";
	case DLV_FAILED:	return "failed";
	}
	return "unknown";
}

/* One recipient's fate, as --json names it. */
static const char *
rcpt_name(const struct deliver_report *rep, enum rcpt_state st)
{
	switch (st) {
	case RCPT_ACCEPTED:
		return "delivered";
	case RCPT_PERMFAIL:
		return "refused";
	default:
		return rep->status == DLV_QUEUED ? "queued" :
		    rep->status == DLV_HELD ? "held" : "failed";
	}
}

static void
json_str_or_null(struct buf *b, const char *s)
{
	if (s != NULL)
		buf_add_json_str(b, s);
	else
		buf_addstr(b, "null");
}

void
deliver_report_json(const struct deliver_report *rep,
    const struct envelope *env, const char *account, const char *error,
    struct buf *b)
{
	const struct outcome	*o = &rep->out;
	size_t			 i;

	buf_addstr(b, "{\"status\": ");
	buf_add_json_str(b, status_name(rep->status));
	buf_addstr(b, ", \"queue_id\": ");
	json_str_or_null(b, rep->queue_id);
	buf_addstr(b, ", \"account\": ");
	json_str_or_null(b, account);
	buf_addstr(b, ", \"relay\": ");
	json_str_or_null(b, o->relay);
	buf_addstr(b, ", \"server_id\": ");
	json_str_or_null(b, o->server_id);
	buf_addstr(b, ", \"sender\": ");
	buf_add_json_str(b, env->sender);
	buf_addstr(b, ", \"recipients\": [");
	for (i = 0; i < env->rcpts.n; i++) {
		const struct rcpt_result *r = i < o->n ? &o->rcpt[i] : NULL;

		buf_addstr(b, i > 0 ? ", {\"address\": " : "{\"address\": ");
		buf_add_json_str(b, env->rcpts.v[i]);
		buf_addstr(b, ", \"status\": ");
		buf_add_json_str(b, rcpt_name(rep, r != NULL ? r->state :
		    RCPT_PENDING));
		buf_printf(b, ", \"code\": %d, \"enhanced\": ",
		    r != NULL ? r->code : 0);
		json_str_or_null(b, r != NULL && r->enhanced[0] != '\0' ?
		    r->enhanced : NULL);
		buf_addstr(b, ", \"text\": ");
		json_str_or_null(b, r != NULL ? r->reply : NULL);
		buf_addch(b, '}');
	}
	buf_addstr(b, "]");
	if (o->class != OUTCOME_NONE) {
		buf_addstr(b, ", \"failure\": {\"class\": ");
		buf_add_json_str(b, outcome_class_name(o->class));
		buf_addstr(b, ", \"step\": ");
		buf_add_json_str(b, outcome_step_name(o->step));
		buf_printf(b, ", \"code\": %d, \"exit\": %d, \"hint\": ",
		    o->smtp_code, o->exitcode);
		json_str_or_null(b, o->hint);
		buf_addch(b, '}');
	}
	buf_addstr(b, ", \"error\": ");
	json_str_or_null(b, error);
	buf_addstr(b, "}\n");
}

/*
 * Deliver now, or keep: the exit-code contract of doc/postie.1 (EXIT
 * STATUS) and ../shared/reliability.md section 1.  Exit 0 means delivered
 * or durably queued; a permanent refusal keeps the transport's code.
 */
int
deliver_message(const struct deliver_opts *opts, const struct account *acct,
    const char *qd, const struct message *msg, struct deliver_report *rep,
    struct error *err)
{
	const struct envelope	*env = message_envelope(msg);
	struct strlist		 failed = STRLIST_INIT, replies = STRLIST_INIT;
	struct outcome	 res;
	struct transport	*t = NULL;
	struct error		 derr = ERROR_INIT;
	struct deliver_report	 own;
	const char		*why = NULL;
	size_t			 i, pending = 0;
	int			 rv, bnc = opts->bounce;

	outcome_init(&res, env->rcpts.n);
	deliver_report_init(&own);
	if (rep == NULL)
		rep = &own;
	if (acct->queue && opts->queue_only) {
		/* -odq: queue only; the next flush sends it */
		rv = keep(acct, msg, NULL, "queued on request (-odq)", bnc,
		    rep, err);
		deliver_report_release(&own);
		outcome_release(&res);
		return rv;
	}
	/* One send, one account: without TLS, skip its set-up cost. */
	if (acct->host != NULL && !acct->tls)
		transport_plain_only();
	rv = deliver(acct, qd, &t, msg, &res, &derr);
	transport_free(t);
	if (rv == 0) {
		for (i = 0; i < res.n; i++) {
			if (res.rcpt[i].state == RCPT_PERMFAIL)
				bounce_add(&failed, &replies, env->rcpts.v[i],
				    &res.rcpt[i]);
			else if (res.rcpt[i].state != RCPT_ACCEPTED) {
				pending++;
				if (why == NULL)
					why = res.rcpt[i].reply;
			}
		}
		if (failed.n > 0 && bnc && env->sender[0] != '\0' &&
		    bounce(acct, env->sender, msg, &failed, &replies,
		    "refused by the server", &derr) == -1) {
			log_warnx("cannot write the bounce: %s", derr.msg);
			error_release(&derr);
		}
		if (pending > 0 && acct->queue) {
			/* only the 4xx recipients stay queued */
			rv = keep(acct, msg, &res, why != NULL ? why :
			    "temporary failure", bnc, rep, err);
		} else {
			/* with 'queue' off a 4xx recipient is given up */
			rep->status = failed.n > 0 || pending > 0 ?
			    DLV_PARTIAL : DLV_SENT;
			if (pending > 0)
				log_warnx("%zu recipient(s) not delivered "
				    "(temporary failure) and 'queue' is off: "
				    "not retried", pending);
			log_debug("result: accepted for %zu of %zu "
			    "recipient(s) by %s%s%s", outcome_count(&res,
			    RCPT_ACCEPTED), res.n, res.relay != NULL ?
			    res.relay : "?", res.final_reply != NULL ? ": " :
			    "", res.final_reply != NULL ? res.final_reply : "");
			log_send(acct, NULL, msg, env, &res, NULL,
			    failed.n > 0 ? "partial" : "delivered", 0);
			flush_background(acct, opts);
		}
		report_copy(rep, &res);
		strlist_release(&failed);
		strlist_release(&replies);
		outcome_release(&res);
		deliver_report_release(&own);
		return rv;
	}
	if (res.class == OUTCOME_NONE)	/* not classified: keep it */
		outcome_fail(&res, OUTCOME_RETRY, STEP_NONE, derr.code, 0,
		    derr.msg, NULL);
	if (res.class == OUTCOME_PERMANENT || !acct->queue) {
		/* refused for good, or queue off: msmtp's behaviour */
		for (i = 0; i < res.n; i++)
			if (res.rcpt[i].state != RCPT_ACCEPTED)
				bounce_add(&failed, &replies, env->rcpts.v[i],
				    &res.rcpt[i]);
		if (bnc && env->sender[0] != '\0' &&
		    res.class == OUTCOME_PERMANENT) {
			struct error	berr = ERROR_INIT;

			if (bounce(acct, env->sender, msg, &failed, &replies,
			    derr.msg, &berr) == -1) {
				log_warnx("cannot write the bounce: %s",
				    berr.msg);
				error_release(&berr);
			}
		}
		log_send(acct, NULL, msg, env, &res, derr.msg, "failed",
		    derr.code);
		rep->status = res.class == OUTCOME_PERMANENT ? DLV_REFUSED :
		    DLV_FAILED;
		report_copy(rep, &res);
		deliver_report_release(&own);
		error_set(err, derr.code, "%s", derr.msg);
		error_release(&derr);
		strlist_release(&failed);
		strlist_release(&replies);
		outcome_release(&res);
		return -1;
	}
	rv = keep(acct, msg, &res, derr.msg, bnc, rep, err);
	if (rv == 0 && res.class == OUTCOME_SETUP)
		rv = held(&res, &derr, rep, err);
	report_copy(rep, &res);
	error_release(&derr);
	outcome_release(&res);
	deliver_report_release(&own);
	return rv;
}

/*
 * The relay or the account is set up wrong: the message is kept, held
 * (never retried on the schedule: another try with the same password
 * only risks a lock-out), and the caller hears the specific code, that
 * nothing was sent, and what to change.
 */
static int
held(const struct outcome *res, const struct error *why,
    struct deliver_report *rep, struct error *err)
{
	struct outcome_action	a;

	outcome_decide(res, 1, &a);
	rep->status = DLV_HELD;
	return error_set(err, a.exitcode, "NOT SENT: %s.  The message is "
	    "kept in the queue as %s, held until the configuration is "
	    "fixed%s%s; then send it with 'postie -q'", why->msg,
	    rep->queue_id, res->hint != NULL ? ": " : "",
	    res->hint != NULL ? res->hint : "");
}

/*
 * Queue the message (res: the attempt, NULL for -odq), or when the
 * queue cannot be written, dead.letter and EX_TEMPFAIL.
 */
static int
keep(const struct account *acct, const struct message *msg,
    const struct outcome *res, const char *reason, int bnc,
    struct deliver_report *rep, struct error *err)
{
	const struct envelope	*env = message_envelope(msg);
	struct error		 qerr = ERROR_INIT, derr = ERROR_INIT;
	struct queue		*q;
	char			*id = NULL, *dead;

	if ((q = open_queue(acct, 1, &qerr)) != NULL) {
		id = queue_save(q, msg, res, acct->name, reason, bnc, &qerr);
		queue_close(q);
	}
	if (id != NULL) {
		int hold = res != NULL && res->class == OUTCOME_SETUP;

		if (!hold)	/* else held() says it, with the fix */
			log_info("queued as %s: %s", id, reason);
		/* root's queue has the timer; a user's own only if they
		 * set one up: say what will send it */
		if (!hold && geteuid() != 0)
			log_info("%s is in this user's own queue (mailq): it "
			    "is sent by 'postie -q', by a later send that "
			    "succeeds, or by a user timer (systemctl --user "
			    "enable --now postie-queue.timer)", id);
		log_send(acct, id, msg, env, res, reason, hold ? "held" :
		    "queued", 0);
		rep->status = DLV_QUEUED;
		free(rep->queue_id);
		rep->queue_id = id;
		return 0;
	}
	rep->status = DLV_FAILED;
	if ((dead = queue_dead_letter(msg, res, &derr)) != NULL) {
		error_set(err, EX_TEMPFAIL, "%s (%s); the whole message was "
		    "appended to '%s' (if the sender retries too, it may "
		    "arrive twice)", qerr.msg, reason, dead);
		log_send(acct, NULL, msg, env, res, err->msg, "dead.letter",
		    EX_TEMPFAIL);
		free(dead);
	} else {
		error_set(err, EX_TEMPFAIL, "%s (%s); the message was not "
		    "kept (%s): the caller must retry", qerr.msg, reason,
		    derr.msg);
		log_send(acct, NULL, msg, env, res, err->msg, "failed",
		    EX_TEMPFAIL);
	}
	error_release(&qerr);
	error_release(&derr);
	return -1;
}

/*
 * res must be set up for the envelope; *tp is created on first use.  qd
 * is the qualify domain when the caller has it (each lookup may ask DNS),
 * else NULL.
 */
static int
deliver(const struct account *acct, const char *qd, struct transport **tp,
    const struct message *msg, struct outcome *res, struct error *err)
{
	const struct envelope	*env = message_envelope(msg);
	struct message_reader	*r;
	char			*own = NULL;
	int			 rv;

	if (acct->host == NULL) {
		if (qd == NULL)
			qd = own = account_qualify_domain(acct);
		rv = deliver_local(acct, msg, qd, res, err);
		free(res->relay);
		res->relay = xstrdup("local");
		free(own);
		/*
		 * A user may not write another user's mailbox, and no retry
		 * changes that: held, with the way to set the system up
		 * (the drop directory, which root's runner empties).
		 */
		if (rv == -1 && geteuid() != 0 && res->class ==
		    OUTCOME_RETRY && res->exitcode == EX_CANTCREAT)
			outcome_fail(res, OUTCOME_SETUP, STEP_LOCAL,
			    EX_CANTCREAT, 0, err->msg, "as a user, postie "
			    "cannot write other users' mailboxes: as root, "
			    "mkdir -m 1733 " DROP_DIR " (the Debian package "
			    "does) so that root's postie -q delivers them");
		return rv;
	}
	if (*tp == NULL &&
	    (*tp = transport_new(acct, log_verbose(), err)) == NULL) {
		/*
		 * passwordeval, TLS or AUTH settings, an OAuth2 grant
		 * refused: the account's fault.  A token endpoint that is
		 * down is worth a retry.
		 */
		outcome_fail(res, err->code == EX_CONFIG ||
		    err->code == EX_NOPERM ? OUTCOME_SETUP : OUTCOME_RETRY,
		    STEP_NONE, err->code, 0, err->msg,
		    err->code == EX_CONFIG ? "fix the account's settings "
		    "named above (run a passwordeval command by hand as "
		    "this user to see it work)" : NULL);
		return -1;
	}
	r = message_reader_new(msg);
	/* transport_send() names refused recipients itself. */
	rv = transport_send(*tp, env, r, message_size(msg), res, err);
	message_reader_free(r);
	return rv;
}

static void
local_domains(struct strlist *domains, const char *qd)
{
	char	host[256];

	strlist_add(domains, qd);
	strlist_add_owned(domains, util_fqdn());
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		strlist_add(domains, host);
	}
}

/* The embedded default: every recipient must be on this host. */
static int
deliver_local(const struct account *acct, const struct message *msg,
    const char *qd, struct outcome *res, struct error *err)
{
	const struct envelope	*env = message_envelope(msg);
	struct strlist		 domains = STRLIST_INIT;
	struct local_opts	 lo;
	int			 rv = -1;

	local_domains(&domains, qd);
	memset(&lo, 0, sizeof(lo));
	lo.spool = acct->local_spool;
	lo.maildir = acct->local_maildir;
	lo.domains = &domains;
	if (all_local(&lo, env, err) == 0)
		rv = local_deliver(&lo, msg, res, err);
	else
		outcome_fail(res, OUTCOME_PERMANENT, STEP_NONE, err->code, 0,
		    err->msg, NULL);
	strlist_release(&domains);
	return rv;
}

/* With no relay every recipient must be on this host (EX_UNAVAILABLE). */
static int
all_local(const struct local_opts *lo, const struct envelope *env,
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

int
deliver_check_rcpt(const struct account *acct, const char *qd,
    const struct aliases *al, const char *rcpt, struct error *err)
{
	struct strlist	 domains = STRLIST_INIT, exp = STRLIST_INIT;
	struct local_opts lo;
	size_t		 i;
	int		 rv = 0;

	if (acct->host != NULL)
		return 0;
	if (al != NULL && !addr_has_domain(rcpt))
		aliases_expand(al, rcpt, &exp);
	else
		strlist_add(&exp, rcpt);
	local_domains(&domains, qd);
	memset(&lo, 0, sizeof(lo));
	lo.domains = &domains;
	for (i = 0; i < exp.n && rv == 0; i++) {
		if (!local_is_local(&lo, exp.v[i]))
			rv = error_set(err, EX_UNAVAILABLE, "no relay "
			    "configured for remote recipient <%s>%s%s%s",
			    exp.v[i], strcmp(exp.v[i], rcpt) != 0 ?
			    " (alias of " : "", strcmp(exp.v[i], rcpt) != 0 ?
			    rcpt : "", strcmp(exp.v[i], rcpt) != 0 ? ")" : "");
		else
			rv = local_check_user(exp.v[i], err);
	}
	strlist_release(&exp);
	strlist_release(&domains);
	return rv;
}

int
deliver_dry_run(const struct account *acct, const char *qd,
    const struct message *msg, struct error *err)
{
	const struct envelope	*env = message_envelope(msg);
	struct strlist		 domains = STRLIST_INIT;
	struct local_opts	 lo;
	int			 port, rv;

	if (acct->host != NULL) {
		port = acct->port != 0 ? acct->port :
		    acct->tls && !acct->tls_starttls ? 465 : 25;
		fprintf(stderr, "account '%s': relay %s port %d, TLS %s, "
		    "AUTH %s%s%s\n", acct->name, acct->host, port,
		    !acct->tls ? "off" : acct->tls_starttls ? "STARTTLS" :
		    "implicit (smtps)", acct->auth == NULL ||
		    strcmp(acct->auth, "off") == 0 ? "off" : acct->auth,
		    acct->user != NULL ? " as " : "",
		    acct->user != NULL ? acct->user : "");
		return 0;
	}
	local_domains(&domains, qd);
	memset(&lo, 0, sizeof(lo));
	lo.spool = acct->local_spool;
	lo.maildir = acct->local_maildir;
	lo.domains = &domains;
	fprintf(stderr, "account '%s': no relay: local delivery to %s\n",
	    acct->name, acct->local_spool != NULL ? acct->local_spool :
	    "/var/mail");
	rv = all_local(&lo, env, err);
	strlist_release(&domains);
	return rv;
}

/*
 * A bounce (-oem) to the sender's local mailbox: the sender when it is
 * a local address, else the user running postie (the local owner).
 * Sent with the null sender, so it can never bounce itself.
 */
static int
bounce(const struct account *acct, const char *sender,
    const struct message *orig, const struct strlist *failed,
    const struct strlist *why, const char *reason, struct error *err)
{
	struct strlist		 domains = STRLIST_INIT, rcpts = STRLIST_INIT;
	struct message_opts	 mo;
	struct local_opts	 lo;
	struct outcome	 res;
	struct message		*m;
	struct passwd		*pw;
	char			*qd, *to;
	int			 rv = -1;

	qd = account_qualify_domain(acct);
	local_domains(&domains, qd);
	memset(&lo, 0, sizeof(lo));
	lo.spool = acct->local_spool;
	lo.maildir = acct->local_maildir;
	lo.domains = &domains;
	if (local_is_local(&lo, sender))
		to = xstrdup(sender);
	else if ((pw = getpwuid(getuid())) != NULL && pw->pw_name != NULL)
		to = xasprintf("%s@%s", pw->pw_name, qd);
	else
		to = xasprintf("%lu@%s", (unsigned long)getuid(), qd);
	strlist_add(&rcpts, to);
	m = bounce_new(orig, to, failed, why, reason, qd);
	memset(&mo, 0, sizeof(mo));
	mo.sender = "";
	mo.qualify_domain = qd;
	mo.msgid_domain = qd;
	mo.set_from_header = TRI_AUTO;
	mo.set_date_header = TRI_AUTO;
	mo.set_msgid_header = TRI_AUTO;
	mo.remove_bcc_headers = 1;
	mo.rcpts = &rcpts;
	if (message_finalize(m, &mo, err) == 0) {
		outcome_init(&res, message_envelope(m)->rcpts.n);
		if ((rv = local_deliver(&lo, m, &res, err)) == 0)
			log_info("bounce for <%s> written to the local "
			    "mailbox of <%s>", sender, to);
		outcome_release(&res);
	}
	message_free(m);
	strlist_release(&rcpts);
	strlist_release(&domains);
	free(to);
	free(qd);
	return rv;
}

/*
 * The log line's account and attempt fields.  The SMTP status is the
 * reply to the final "." when the message was accepted (with the
 * relay's queue id), else the worst recipient reply.
 */
static void
fill_attempt(struct log_attempt *a, const struct account *acct,
    const char *id, const char *from, const struct strlist *rcpts,
    const struct outcome *res, long long size)
{
	size_t	i;

	memset(a, 0, sizeof(*a));
	a->queue_id = id;
	a->account = acct->name;
	a->host = acct->host != NULL ? acct->host : "local";
	a->tls = acct->tls;
	a->auth = acct->auth != NULL && strcmp(acct->auth, "off") != 0;
	a->user = acct->user;
	a->from = from;
	a->rcpts = rcpts;
	a->res = res;
	a->size = size;
	for (i = 0; res != NULL && i < res->n; i++)
		if (res->rcpt[i].code != 0 && (a->smtp_code == 0 ||
		    res->rcpt[i].code >= 400)) {
			a->smtp_code = res->rcpt[i].code;
			a->smtp_text = res->rcpt[i].reply;
		}
	if (res != NULL && res->final_code != 0 && (a->smtp_code == 0 ||
	    a->smtp_code < 400)) {
		a->smtp_code = res->final_code;
		a->smtp_text = res->final_reply;
	}
}

/* One line per attempt for "logfile" and "syslog"; never the password. */
static void
log_send(const struct account *acct, const char *id,
    const struct message *msg, const struct envelope *env,
    const struct outcome *res, const char *text, const char *outcome,
    int code)
{
	struct log_attempt	a;

	if (acct->logfile == NULL && acct->syslog == NULL)
		return;
	log_open(acct->logfile, acct->syslog);
	fill_attempt(&a, acct, id, env->sender, &env->rcpts, res,
	    (long long)message_size(msg));
	if (text != NULL)
		a.smtp_text = text;
	a.outcome = outcome;
	a.exit_code = code;
	log_attempt(&a);
}

char *
deliver_spool_dir(const struct account *acct)
{
	char	*dir, *tmp;

	if (!acct->queue)
		return NULL;
	dir = acct->queue_dir != NULL ? xstrdup(acct->queue_dir) :
	    queue_default_dir();
	tmp = xasprintf("%s/tmp", dir);
	free(dir);
	return tmp;
}

static struct queue *
open_queue(const struct account *acct, int create, struct error *err)
{
	struct queue_hooks	 h;
	struct queue		*q;
	char			*dir;

	dir = acct->queue_dir != NULL ? xstrdup(acct->queue_dir) :
	    queue_default_dir();
	q = queue_open(dir, create, err);
	free(dir);
	if (q != NULL) {
		memset(&h, 0, sizeof(h));
		h.backoff_max = acct->queue_backoff_max;
		queue_set_hooks(q, &h);
	}
	return q;
}

/*
 * After a successful send: flush what is due, detached (double fork,
 * setsid, stdio on /dev/null) so that the caller never waits for it.
 * Only when something is due: a normal send pays one readdir.
 */
static void
flush_background(const struct account *acct, const struct deliver_opts *opts)
{
	struct error	 err = ERROR_INIT;
	struct queue	*q;
	pid_t		 pid;
	const char	*av[10];
	int		 due, fd, status, ac = 0;

	if (!acct->queue || !acct->queue_flush_on_send || opts->no_flush ||
	    opts->argv0 == NULL)
		return;
	if ((q = open_queue(acct, 0, &err)) == NULL) {
		error_release(&err);
		return;
	}
	due = queue_due(q, time(NULL));
	queue_close(q);
	if (!due)
		return;
	fflush(NULL);
	if ((pid = fork()) == -1)
		return;
	if (pid > 0) {
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		return;
	}
	if (setsid() == -1 || (pid = fork()) == -1)
		_exit(0);
	if (pid > 0)
		_exit(0);
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	/*
	 * A fresh runner: nothing of this process's state carries over.  By
	 * argv[0] (searched in PATH like the caller did), not /proc/self/exe,
	 * which is the interpreter when postie runs under valgrind.
	 */
	av[ac++] = opts->argv0;
	av[ac++] = "-q";
	av[ac++] = "--due";	/* the schedule, and nothing held */
	if (opts->bounce)
		av[ac++] = "-oem";
	if (opts->config_file != NULL) {
		av[ac++] = "-C";
		av[ac++] = opts->config_file;
	}
	if (opts->account != NULL) {
		av[ac++] = "--account";
		av[ac++] = opts->account;
	}
	av[ac] = NULL;
	execvp(opts->argv0, (char *const *)(uintptr_t)av);
	_exit(0);
}

/* -bp, -q, --queue-delete, --queue-hold, --queue-release. */
int
deliver_queue_command(const struct cli_opts *opts, struct error *err)
{
	struct config		  cfg = CONFIG_INIT;
	const struct account	 *acct;
	struct queue_entry	**v = NULL;
	struct queue		 *q = NULL;
	struct buf		  b = BUF_INIT;
	size_t			  n = 0;
	int			  rv = -1;

	/* A user who may not read the system file: their own queue. */
	if ((drop_prepare() ? config_load_user(&cfg, opts->config_file,
	    err) : config_load(&cfg, opts->config_file, err)) == -1)
		goto out;
	if ((acct = config_select(&cfg, opts->account, NULL, err)) == NULL)
		goto out;
	if (opts->mode == CLI_QUEUE_RUN) {
		/* the users' drop files first; a broken drop directory
		 * must not stop the flush of what is already queued */
		if (geteuid() == 0 && ingest_drops(acct, err) == -1) {
			log_warnx("%s", err->msg);
			error_release(err);
		}
		/* postie -q tries everything not held by hand (Postfix's
		 * sendmail -q); the timer's -q --due keeps the schedule */
		rv = flush_queue(opts, &cfg, acct, !opts->due, err);
		goto out;
	}
	if ((q = open_queue(acct, opts->mode != CLI_QUEUE_LIST, err)) ==
	    NULL) {
		if (opts->mode == CLI_QUEUE_LIST && err->code == EX_NOINPUT) {
			/* no queue directory yet: nothing was ever kept */
			error_release(err);
			fputs(opts->json ? "[]\n" : "Mail queue is empty\n",
			    stdout);
			rv = 0;
		}
		goto out;
	}
	switch (opts->mode) {
	case CLI_QUEUE_LIST:
		if (queue_list(q, &v, &n, err) == -1)
			goto out;
		queue_format(&b, v, n, time(NULL), opts->json);
		fputs(buf_str(&b), stdout);
		rv = fflush(stdout) == 0 ? 0 : error_set_errno(err, EX_IOERR,
		    "cannot write the listing");
		break;
	case CLI_QUEUE_DELETE:
		rv = queue_delete(q, opts->queue_id, err);
		break;
	case CLI_QUEUE_HOLD:
	case CLI_QUEUE_RELEASE:
		rv = queue_hold(q, opts->queue_id,
		    opts->mode == CLI_QUEUE_HOLD, err);
		break;
	default:
		rv = error_set(err, EX_SOFTWARE, "unexpected queue command");
		break;
	}
out:
	queue_entries_free(v, n);
	buf_release(&b);
	queue_close(q);
	config_release(&cfg);
	return rv;
}

/*
 * postie -q: every due entry through one transport per account, so
 * one SMTP connection per account for the whole run.
 */
static int
flush_queue(const struct cli_opts *opts, struct config *cfg,
    const struct account *acct, int force, struct error *err)
{
	struct queue_hooks	 h;
	struct runner		 run;
	struct queue		*q;
	size_t			 sent, left, i;
	int			 rv;

	if ((q = open_queue(acct, 1, err)) == NULL)
		return -1;
	memset(&run, 0, sizeof(run));
	run.cfg = cfg;
	run.bounce = want_bounce(opts);
	memset(&h, 0, sizeof(h));
	h.bounce = run_bounce;
	h.attempt = run_attempt;
	h.ctx = &run;
	h.backoff_max = acct->queue_backoff_max;
	queue_set_hooks(q, &h);
	rv = queue_run(q, force, acct->queue_lifetime, run_deliver, &run,
	    &sent, &left, err);
	if (rv == 0 && (opts->json || log_verbose() ||
	    isatty(STDERR_FILENO)))
		flush_summary(q, sent, opts->json);
	for (i = 0; i < run.n; i++) {
		transport_free(run.t[i]);
		free(run.down[i]);
	}
	free(run.t);
	free(run.down);
	free(run.acct);
	queue_close(q);
	return rv;
}

/*
 * After a flush, for a human (a terminal, or -v): what was sent, what is
 * still queued and when it is tried next, what is held and why.  With
 * json, one object on stdout instead: the counts and the entries left
 * (as mailq --json lists them).
 */
static void
flush_summary(struct queue *q, size_t sent, int json)
{
	struct buf		  b = BUF_INIT;
	struct queue_entry	**v;
	struct error		  err = ERROR_INIT;
	const struct queue_entry *first_q = NULL, *first_h = NULL;
	size_t			  n, i, nq = 0, nh = 0, na = 0;
	time_t			  now = time(NULL);

	if (queue_list(q, &v, &n, &err) == -1) {
		log_warnx("%s", err.msg);
		error_release(&err);
		return;
	}
	for (i = 0; i < n; i++) {
		if (v[i]->held == HOLD_SETUP) {
			if (nh++ == 0)
				first_h = v[i];
		} else if (v[i]->held == HOLD_ADMIN)
			na++;
		else if (nq++ == 0)
			first_q = v[i];
	}
	if (json) {
		buf_printf(&b, "{\"sent\": %zu, \"queued\": %zu, \"held\": "
		    "%zu, \"entries\": ", sent, nq, nh + na);
		queue_format(&b, v, n, now, 1);
		while (b.len > 0 && b.data[b.len - 1] == '\n')
			b.len--;
		buf_addstr(&b, "}\n");
		if (fwrite(b.data, 1, b.len, stdout) != b.len ||
		    fflush(stdout) == EOF)
			log_warnx("cannot write the JSON report");
		buf_release(&b);
		queue_entries_free(v, n);
		return;
	}
	log_info("queue: %zu sent, %zu still queued, %zu held", sent, nq,
	    nh + na);
	if (first_q != NULL)
		log_info("  queued %s: next try in %lld min: %s", first_q->id,
		    (long long)(first_q->next_attempt > now ?
		    (first_q->next_attempt - now + 59) / 60 : 0),
		    first_q->last_error != NULL ? first_q->last_error :
		    "not tried yet");
	if (first_h != NULL)
		log_info("  held %s until the configuration is fixed: %s",
		    first_h->id, first_h->last_error != NULL ?
		    first_h->last_error : "set-up failure");
	if (na > 0)
		log_info("  %zu held by --queue-hold (--queue-release ID "
		    "sends it)", na);
	queue_entries_free(v, n);
}

static const struct account *
run_account(struct runner *run, const char *name, struct error *err)
{
	const struct account	*a;

	a = config_select(run->cfg, name, NULL, err);
	if (a == NULL && name != NULL && strcmp(name, "default") == 0) {
		/* the built-in account of an empty config */
		error_release(err);
		a = config_select(run->cfg, NULL, NULL, err);
	}
	return a;
}

static int
run_deliver(void *ctx, const char *name, const struct message *msg,
    struct outcome *res, struct error *err)
{
	struct runner		*run = ctx;
	const struct account	*a;
	size_t			 i;

	if ((a = run_account(run, name, err)) == NULL)
		return -1;
	for (i = 0; i < run->n; i++)
		if (run->acct[i] == a)
			break;
	if (i == run->n) {
		run->acct = xreallocarray(run->acct, run->n + 1,
		    sizeof(*run->acct));
		run->t = xreallocarray(run->t, run->n + 1, sizeof(*run->t));
		run->down = xreallocarray(run->down, run->n + 1,
		    sizeof(*run->down));
		run->acct[i] = a;
		run->t[i] = NULL;
		run->down[i] = NULL;
		run->n++;
	}
	if (run->down[i] != NULL) {
		/* one wait for a dead relay per run, not one per message */
		error_set(err, EX_TEMPFAIL, "not tried: %s (earlier in this "
		    "run)", run->down[i]);
		outcome_fail(res, OUTCOME_RETRY, STEP_CONNECT, EX_TEMPFAIL, 0,
		    err->msg, NULL);
		return -1;
	}
	if (a->host == NULL && geteuid() != 0 && drop_available())
		return run_hand_over(msg, res, err);
	if (deliver(a, NULL, &run->t[i], msg, res, err) == 0)
		return 0;
	if (res->class == OUTCOME_RETRY && res->smtp_code == 0 &&
	    (res->step == STEP_CONNECT || res->step == STEP_GREETING))
		run->down[i] = xstrdup(err->msg);
	return -1;
}

/*
 * A user's queued local mail, once the drop directory exists: handed to
 * root's runner (the entry is then done), never written by the user.
 */
static int
run_hand_over(const struct message *msg, struct outcome *res,
    struct error *err)
{
	char	*name;
	size_t	 i;

	if ((name = drop_submit(drop_dir(), msg, err)) == NULL) {
		outcome_fail(res, OUTCOME_RETRY, STEP_LOCAL, err->code, 0,
		    err->msg, NULL);
		return -1;
	}
	for (i = 0; i < res->n; i++)
		outcome_set_rcpt(res, i, RCPT_ACCEPTED, 250, "",
		    "handed to the system queue");
	log_info("handed to the system queue (%s)", name);
	free(name);
	return 0;
}

static int
run_bounce(void *ctx, const char *to, const struct message *orig,
    const struct strlist *failed, const struct strlist *why,
    const char *reason, struct error *err)
{
	struct runner		*run = ctx;
	const struct account	*a;

	if ((a = run_account(run, NULL, err)) == NULL)
		return -1;
	return bounce(a, to, orig, failed, why, reason, err);
}

static void
run_attempt(void *ctx, const struct queue_entry *e,
    const struct envelope *env, const struct outcome *res,
    const struct error *ae, const char *outcome)
{
	struct runner		*run = ctx;
	const struct account	*a;
	struct error		 err = ERROR_INIT;
	struct log_attempt	 la;

	if ((a = run_account(run, e->account, &err)) == NULL) {
		error_release(&err);
		return;
	}
	if (a->logfile == NULL && a->syslog == NULL)
		return;
	log_open(a->logfile, a->syslog);
	fill_attempt(&la, a, e->id, e->sender, env != NULL ? &env->rcpts :
	    &e->rcpts, res, (long long)e->size);
	if (ae != NULL)
		la.smtp_text = ae->msg;
	la.outcome = outcome;
	la.exit_code = ae != NULL && strcmp(outcome, "queued") != 0 ?
	    ae->code : 0;
	log_attempt(&la);
}

/*
 * A user who cannot read the system config, or whose mail is local: the
 * system queue sends it.  When there is no drop directory to hand it to,
 * the message is kept in dead.letter and the error says how to set the
 * system up (never a configuration error with the message gone).
 */
int
deliver_hand_over(const struct message *msg, struct error *err)
{
	const char	*dir = drop_dir(), *base;
	char		*name, *dead;
	struct error	 derr = ERROR_INIT;

	if ((name = drop_submit(dir, msg, err)) == NULL) {
		if ((dead = queue_dead_letter(msg, NULL, &derr)) == NULL) {
			error_set(err, err->code, "NOT SENT: %s; the message "
			    "was not kept either (%s): the caller must retry",
			    err->msg, derr.msg);
			error_release(&derr);
			return -1;
		}
		error_set(err, err->code, "NOT SENT: %s.  The message was "
		    "appended to '%s'.  To let users send mail, as root: "
		    "mkdir -m 1733 %s and start postie-queue.path (or a "
		    "'postie -q --due' timer); the Debian package does both",
		    err->msg, dead, dir);
		free(dead);
		return -1;
	}
	base = strrchr(dir, '/') != NULL ? strrchr(dir, '/') + 1 : dir;
	log_info("handed to the system queue (%s/%s)", base, name);
	free(name);
	return 0;
}

/* Root's postie -q: every drop file into the queue, as untrusted input. */
static int
ingest_drops(const struct account *acct, struct error *err)
{
	struct drop_opts	 o;
	struct queue		*q;
	size_t			 moved, refused;
	char			*qd;
	int			 rv;

	if ((q = open_queue(acct, 1, err)) == NULL)
		return -1;
	qd = account_qualify_domain(acct);
	memset(&o, 0, sizeof(o));
	o.qualify_domain = qd;
	o.allow_from = acct->drop_allow_from;
	o.max_size = acct->drop_max_size;
	o.account = acct->name;
	rv = drop_ingest(drop_dir(), drop_needed(), q, &o, &moved, &refused,
	    err);
	if (moved + refused > 0)
		log_debug("drop directory: %zu queued, %zu refused", moved,
		    refused);
	free(qd);
	queue_close(q);
	return rv;
}
