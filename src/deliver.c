/*
 * Delivery policy of a direct send: send a finished message now (relay
 * or local mailbox, through send.h), or keep it (queue, dead.letter),
 * bounce what is refused for good, start the background flush.  The
 * exit-code contract of doc/postie.1 (EXIT STATUS) is decided here.  The
 * queue runner (postie -q) is runner.c.
 */
#include "autoconfig.h"

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "aliases.h"
#include "config.h"
#include "deliver.h"
#include "bounce.h"
#include "drop.h"
#include "error.h"
#include "local.h"
#include "mbox.h"
#include "log.h"
#include "message.h"
#include "queue.h"
#include "relay.h"
#include "runner.h"
#include "send.h"
#include "transport.h"
#include "util.h"
#include "xmalloc.h"

static void	report_copy(struct deliver_report *,
		    const struct outcome *);
static int	keep(const struct account *, const struct message *,
		    const struct outcome *, const char *, int,
		    struct deliver_report *, struct error *);
static int	held(const struct outcome *, const struct error *,
		    struct deliver_report *, struct error *);
static void	log_send(const struct account *, const char *,
		    const struct message *, const struct envelope *,
		    const struct outcome *, const char *, const char *,
		    int);

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
	for (i = 0; i < res->n; i++) {
		outcome_set_rcpt(&rep->out, i, res->rcpt[i].state,
		    res->rcpt[i].code, res->rcpt[i].enhanced,
		    res->rcpt[i].reply);
		if (res->rcpt[i].relay != NULL)
			rep->out.rcpt[i].relay = xstrdup(res->rcpt[i].relay);
		if (res->rcpt[i].account != NULL)
			rep->out.rcpt[i].account =
			    xstrdup(res->rcpt[i].account);
	}
	if (res->account != NULL)
		rep->out.account = xstrdup(res->account);
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

void
deliver_report_json(const struct deliver_report *rep,
    const struct envelope *env, const char *account, const char *error,
    struct buf *b)
{
	const struct outcome	*o = &rep->out;

	buf_addstr(b, "{\"status\": ");
	buf_add_json_str(b, status_name(rep->status));
	buf_addstr(b, ", \"queue_id\": ");
	buf_add_json_str_or_null(b, rep->queue_id);
	buf_addstr(b, ", \"account\": ");
	buf_add_json_str_or_null(b, account);
	/* a recipient neither accepted nor refused: what became of it */
	outcome_json_attempt(b, o, env->sender, &env->rcpts,
	    rep->status == DLV_QUEUED ?
	    "queued" : rep->status == DLV_HELD ? "held" : "failed");
	buf_addstr(b, ", \"error\": ");
	buf_add_json_str_or_null(b, error);
	buf_addstr(b, "}\n");
}

/* A queued entry's next try moved to when (a rate_limit slot). */
static void
deliver_defer(const struct account *acct, const char *id, time_t when)
{
	struct error		 err = ERROR_INIT;
	struct queue		*q;
	struct queue_lock	*l;
	struct queue_entry	*e;
	struct message		*m;

	if (id == NULL || (q = runner_open_queue(acct, 0, &err)) == NULL) {
		error_release(&err);
		return;
	}
	if (queue_lock_entry(q, id, &l, &e, &m, &err) == 1) {
		e->next_attempt = when;
		if (queue_update(q, l, e, &err) == -1)
			error_release(&err);
		message_free(m);
		queue_entry_free(e);
	}
	error_release(&err);
	queue_close(q);
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
	if (acct->host != NULL && !relay_needs_tls(acct))
		transport_plain_only();
	rv = send_attempt(acct, qd, &t, msg, &res, &derr);
	transport_free(t);
	relay_finish();
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
		    bounce_send(acct, env->sender, msg, &failed, &replies,
		    "refused by the server", &derr) == -1) {
			log_warnx("cannot write the bounce: %s", derr.msg);
			error_release(&derr);
		}
		if (pending > 0 && acct->queue) {
			/* only the 4xx recipients stay queued */
			rv = keep(acct, msg, &res, why != NULL ? why :
			    "temporary failure", bnc, rep, err);
			if (rv == 0 && res.limited > 0) {
				log_warnx("%zu recipient(s) wait for their "
				    "account's rate_limit: %s", res.limited,
				    why != NULL ? why : "window full");
				deliver_defer(acct, rep->queue_id,
				    res.not_before);
			}
			/* the others got it; these wait for a fix (a
			 * mailbox the user may not write) */
			if (rv == 0 && res.class == OUTCOME_SETUP) {
				error_release(&derr);
				error_set(&derr, res.exitcode, "%zu of %zu "
				    "recipient(s): %s", pending, res.n,
				    why != NULL ? why : "");
				rv = held(&res, &derr, rep, err);
				error_release(&derr);
			}
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
			if (!opts->no_flush)
				runner_flush_background(acct, opts->argv0,
				    opts->bounce, opts->config_file, opts->account);
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

			if (bounce_send(acct, env->sender, msg, &failed, &replies,
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
		if (res.limited > 0)
			error_set(err, derr.code, "%s, and 'queue' is off: "
			    "not sent", derr.msg);
		else
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
	else if (rv == 0 && res.limited > 0)
		/* over the limit: not tried, its next slot the next try */
		deliver_defer(acct, rep->queue_id, res.not_before);
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

	if ((q = runner_open_queue(acct, 1, &qerr)) != NULL) {
		id = queue_save(q, msg, res, acct->name, reason, bnc, &qerr);
		queue_close(q);
	}
	if (id != NULL) {
		int hold = res != NULL && res->class == OUTCOME_SETUP;
		struct outcome_action	act;

		/* a held send exits with the set-up failure's code */
		if (hold)
			outcome_decide(res, 1, &act);

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
		    "queued", hold ? act.exitcode : 0);
		rep->status = DLV_QUEUED;
		free(rep->queue_id);
		rep->queue_id = id;
		return 0;
	}
	rep->status = DLV_FAILED;
	if ((dead = mbox_dead_letter(msg, res, &derr)) != NULL) {
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
	send_local_domains(&domains, qd);
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
		{
			struct buf b = BUF_INIT;	/* routes, failover */

			relay_describe(acct, env, &b);
			fputs(buf_str(&b), stderr);
			buf_release(&b);
		}
		return 0;
	}
	send_local_domains(&domains, qd);
	send_local_opts(&lo, acct, &domains);
	fprintf(stderr, "account '%s': no relay: local delivery to %s\n",
	    acct->name, acct->local_spool != NULL ? acct->local_spool :
	    "/var/mail");
	rv = send_check_local(&lo, env, err);
	strlist_release(&domains);
	return rv;
}

/* The attempt's line for "logfile" and "syslog". */
static void
log_send(const struct account *acct, const char *id,
    const struct message *msg, const struct envelope *env,
    const struct outcome *res, const char *text, const char *outcome,
    int code)
{
	send_log(acct, id, env->sender, &env->rcpts, res,
	    (long long)message_size(msg), text, outcome, code);
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
		if ((dead = mbox_dead_letter(msg, NULL, &derr)) == NULL) {
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
