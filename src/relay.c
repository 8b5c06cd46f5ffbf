/*
 * The relay policy of one send: routes by recipient, failover to backup
 * accounts (relay.h).  What an outcome means for the queue and the exit
 * code stays deliver.c's; whether a failure is worth another relay is
 * outcome_failover_worth()'s.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "config.h"
#include "error.h"
#include "log.h"
#include "message.h"
#include "outcome.h"
#include "ratelimit.h"
#include "relay.h"
#include "route.h"
#include "transport.h"
#include "util.h"
#include "xmalloc.h"

/*
 * The transports of the accounts other than the caller's, and the relays
 * found down in this process (one wait per run for a dead relay, as the
 * queue runner does for its own accounts).
 */
struct slot {
	const struct account	*acct;
	struct transport	*t;
	char			*down;	/* why it did not answer, or NULL */
	time_t			 full;	/* rate_limit window full until */
	char			*full_why; /* ... and the words for it */
};
static struct slot	*slots;
static size_t		 nslots;

static struct slot *
slot_of(const struct account *a)
{
	size_t	i;

	for (i = 0; i < nslots; i++)
		if (slots[i].acct == a)
			return &slots[i];
	slots = xreallocarray(slots, nslots + 1, sizeof(*slots));
	memset(&slots[nslots], 0, sizeof(slots[nslots]));
	slots[nslots].acct = a;
	return &slots[nslots++];
}

void
relay_finish(void)
{
	size_t	i;

	for (i = 0; i < nslots; i++) {
		transport_free(slots[i].t);
		free(slots[i].down);
		free(slots[i].full_why);
	}
	free(slots);
	slots = NULL;
	nslots = 0;
}

int
relay_has_policy(const struct account *a)
{
	return a->nfailover > 0 || (a->routes != NULL && a->routes->n > 0);
}

/* The account or one of its failover accounts speaks TLS. */
static int
chain_tls(const struct account *a)
{
	size_t	i;

	if (a->tls)
		return 1;
	for (i = 0; i < a->nfailover; i++)
		if (a->failover_to[i]->tls)
			return 1;
	return 0;
}

int
relay_needs_tls(const struct account *a)
{
	size_t	i;

	if (chain_tls(a))
		return 1;
	/* a routed part goes through the route's account and its failover
	 * accounts, never through further routes */
	for (i = 0; a->routes != NULL && i < a->routes->n; i++)
		if (a->routes->v[i].acct != NULL &&
		    chain_tls(a->routes->v[i].acct))
			return 1;
	return 0;
}

static void
describe_failover(const struct account *a, struct buf *out)
{
	size_t	i;

	if (a->nfailover == 0)
		return;
	buf_printf(out, "account '%s' fails over to", a->name);
	for (i = 0; i < a->nfailover; i++)
		buf_printf(out, "%s '%s' (relay %s)", i > 0 ? "," : "",
		    a->failover_to[i]->name, a->failover_to[i]->host);
	buf_addstr(out, "\n");
}

void
relay_describe(const struct account *a, const struct envelope *env,
    struct buf *out)
{
	const struct route	*r;
	const struct account	*seen[64];
	size_t			 i, j, nseen = 0;

	describe_failover(a, out);
	for (i = 0; a->routes != NULL && i < env->rcpts.n; i++) {
		if ((r = route_match(a->routes, env->rcpts.v[i])) == NULL ||
		    r->acct == NULL)
			continue;
		buf_printf(out, "route <%s>: account '%s' (relay %s), "
		    "pattern '%s' (%s:%d)\n", env->rcpts.v[i], r->acct->name,
		    r->acct->host, r->pattern, r->file, r->line);
		for (j = 0; j < nseen && seen[j] != r->acct; j++)
			;
		if (j == nseen && r->acct != a && nseen < 64) {
			seen[nseen++] = r->acct;
			describe_failover(r->acct, out);
		}
	}
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* dst (initialised, same recipients) becomes a copy of src. */
static void
outcome_copy(struct outcome *dst, const struct outcome *src)
{
	size_t	i;

	outcome_reset(dst);
	for (i = 0; i < src->n && i < dst->n; i++) {
		outcome_set_rcpt(dst, i, src->rcpt[i].state, src->rcpt[i].code,
		    src->rcpt[i].enhanced, src->rcpt[i].reply);
		dst->rcpt[i].relay = dup_or_null(src->rcpt[i].relay);
		dst->rcpt[i].account = dup_or_null(src->rcpt[i].account);
	}
	if (src->class != OUTCOME_NONE)
		outcome_fail(dst, src->class, src->step, src->exitcode,
		    src->smtp_code, src->reply, src->hint);
	memcpy(dst->enhanced, src->enhanced, sizeof(dst->enhanced));
	dst->unknown = src->unknown;
	dst->relay = dup_or_null(src->relay);
	dst->account = dup_or_null(src->account);
	dst->server_id = dup_or_null(src->server_id);
	dst->final_code = src->final_code;
	dst->final_reply = dup_or_null(src->final_reply);
}

/* One account's try: its transport (made on first use) and the send. */
static int
attempt(const struct account *a, struct transport **tp,
    const struct message *msg, const struct envelope *env,
    struct outcome *res, struct error *err)
{
	struct message_reader	*r;
	int			 rv;

	if (*tp == NULL &&
	    (*tp = transport_new(a, log_verbose(), err)) == NULL) {
		/*
		 * passwordeval, TLS or AUTH settings, an OAuth2 grant
		 * refused: the account's fault.  A token endpoint that is
		 * down is worth a retry.
		 */
		outcome_fail(res, err->code == EX_CONFIG ||
		    err->code == EX_NOPERM ? OUTCOME_SETUP : OUTCOME_RETRY,
		    STEP_NONE, err->code, 0, err->msg,
		    err->code != EX_CONFIG ? NULL :
		    /* secret_eval() names its key: "passwordeval printed" */
		    strstr(err->msg, "eval ") != NULL ? "fix the "
		    "command named above (run it by hand as this user to "
		    "see it work)" : "fix the account's setting named "
		    "above");
		return -1;
	}
	r = message_reader_new(msg);
	/* transport_send() names refused recipients itself. */
	rv = transport_send(*tp, env, r, message_size(msg), res, err);
	message_reader_free(r);
	return rv;
}

/*
 * The log line of a try that failed over ("outcome=failover"): at
 * LOG_ERR when the account is set up wrong (it needs fixing even though
 * the mail went out), at LOG_INFO when its relay was only unavailable.
 */
static void
log_failover(const struct account *a, const struct message *msg,
    const struct envelope *env, const struct outcome *res,
    const struct error *err)
{
	struct log_attempt	la;

	if (a->logfile == NULL && a->syslog == NULL)
		return;
	log_open(a->logfile, a->syslog);
	memset(&la, 0, sizeof(la));
	la.account = a->name;
	la.host = a->host;
	la.tls = a->tls;
	la.auth = a->auth != NULL && strcmp(a->auth, "off") != 0;
	la.user = a->user;
	la.from = env->sender;
	la.rcpts = &env->rcpts;
	la.res = res;
	la.size = (long long)message_size(msg);
	la.smtp_code = res->smtp_code;
	la.smtp_text = err->msg;
	la.outcome = "failover";
	la.exit_code = res->class == OUTCOME_SETUP ? res->exitcode != 0 ?
	    res->exitcode : EX_CONFIG : 0;
	log_attempt(&la);
}

/*
 * A slot of a's rate_limit for this send (ratelimit.h), taken just before
 * its relay is tried, so that every account a message goes through
 * (route, failover) counts its own sends.  Returns 0 to go, 1 when the
 * window is full (err says until when, *until is the next try): then
 * every later send through a in this process is refused at once, without
 * reading the file again.  A file that cannot be used stops a's sends
 * for a minute rather than send blind past the provider's limit.
 */
static int
rate_full(const struct account *a, struct slot *s, time_t *until,
    double *taken, struct error *err)
{
	struct error	rerr = ERROR_INIT;
	int		rc;

	*taken = 0;
	if (a->rate_limit <= 0)
		return 0;
	if (s->full == 0) {
		if ((rc = ratelimit_account(a, &s->full, taken, &rerr)) == 1)
			return 0;
		if (rc == -1) {
			s->full = time(NULL) + 60;
			s->full_why = xasprintf("account '%s': rate_limit "
			    "not counted (%s), next try in a minute",
			    a->name, rerr.msg);
		} else
			s->full_why = xstrdup(rerr.msg);
		error_release(&rerr);
	}
	*until = s->full;
	error_set(err, EX_TEMPFAIL, "%s", s->full_why);
	return 1;
}

/*
 * One transaction through a and then its failover accounts, in order.
 * tp: a's own transport when the caller keeps it, else NULL.
 */
static int
send_chain(const struct account *a, struct transport **tp,
    const struct message *msg, const struct envelope *env,
    struct outcome *res, int pinned, struct error *err)
{
	const struct account	*cur, *setup_bad = NULL;
	struct outcome		 retry;
	struct error		 setup_err = ERROR_INIT, retry_err = ERROR_INIT;
	struct error		 rerr = ERROR_INIT;
	struct slot		*s;
	time_t			 until;
	double			 taken = 0;
	char			*setup_hint = NULL;
	size_t			 k, i;
	int			 rv = -1, have_retry = 0;

	outcome_init(&retry, res->n);
	if (pinned && a->nfailover > 0)
		log_info("no failover for this message: an earlier attempt "
		    "through account '%s' was lost after the final dot, and "
		    "its relay may have it", a->name);
	for (k = 0; k <= (pinned ? 0 : a->nfailover); k++) {
		cur = k == 0 ? a : a->failover_to[k - 1];
		/* the caller keeps a's transport; the slot remembers
		 * whether the relay was found down in this run */
		s = slot_of(cur);
		if ((s->down == NULL || k == a->nfailover) &&
		    rate_full(cur, s, &until, &taken, &rerr)) {
			/* not tried: the mail waits for a's own slot, and
			 * a full backup leaves a's failure as it was */
			if (k == 0) {
				error_set(err, rerr.code, "%s", rerr.msg);
				outcome_fail(res, OUTCOME_RETRY, STEP_NONE,
				    EX_TEMPFAIL, 0, rerr.msg, NULL);
				res->limited = res->n -
				    outcome_count(res, RCPT_ACCEPTED) -
				    outcome_count(res, RCPT_PERMFAIL);
				res->not_before = until;
				error_release(&rerr);
				break;
			}
			log_info("account '%s' not tried: %s", cur->name,
			    rerr.msg);
			error_release(&rerr);
			continue;
		}
		if (k > 0) {
			outcome_reset(res);
			error_release(err);
			log_info("trying account '%s' (relay %s) instead",
			    cur->name, cur->host);
		}
		if (s->down != NULL && k < a->nfailover) {
			/* found down earlier in this run: the next one */
			error_set(err, EX_TEMPFAIL, "not tried: %s (earlier "
			    "in this run)", s->down);
			outcome_fail(res, OUTCOME_RETRY, STEP_CONNECT,
			    EX_TEMPFAIL, 0, err->msg, NULL);
		} else {
			rv = attempt(cur, k == 0 && tp != NULL ? tp : &s->t,
			    msg, env, res, err);
			/* counted until now, as the provider counts */
			if (taken > 0 && ratelimit_account_settle(cur, taken,
			    &rerr) == -1) {
				log_debug("account '%s': %s", cur->name,
				    rerr.msg);
				error_release(&rerr);
			}
		}
		if (rv == 0)
			break;
		if (s->down == NULL && res->class ==
		    OUTCOME_RETRY && res->smtp_code == 0 &&
		    (res->step == STEP_CONNECT || res->step == STEP_GREETING))
			s->down = xstrdup(err->msg);
		if (pinned || k == a->nfailover || !outcome_failover_worth(res))
			break;
		/* worth the next relay: say why, keep what to report */
		if (res->class == OUTCOME_SETUP) {
			log_warnx("account '%s' failed: %s%s%s", cur->name,
			    err->msg, res->hint != NULL ? "; to fix it: " : "",
			    res->hint != NULL ? res->hint : "");
			if (setup_bad == NULL) {
				setup_bad = cur;
				error_set(&setup_err, err->code, "%s", err->msg);
				setup_hint = dup_or_null(res->hint);
			}
		} else {
			log_info("account '%s' (relay %s) failed: %s",
			    cur->name, cur->host, err->msg);
			outcome_copy(&retry, res);
			error_release(&retry_err);
			error_set(&retry_err, err->code, "%s", err->msg);
			have_retry = 1;
		}
		log_failover(cur, msg, env, res, err);
	}
	if (rv == 0 && k > 0) {
		/* a backup delivered: the relay used, for log, -v, --json */
		free(res->account);
		res->account = xstrdup(cur->name);
		for (i = 0; i < res->n; i++) {
			free(res->rcpt[i].account);
			res->rcpt[i].account = xstrdup(cur->name);
			free(res->rcpt[i].relay);
			res->rcpt[i].relay = dup_or_null(res->relay);
		}
		log_info("sent through account '%s' (relay %s), the failover "
		    "of account '%s'", cur->name, res->relay != NULL ?
		    res->relay : cur->host, a->name);
		if (setup_bad != NULL)
			log_warnx("account '%s' is set up wrong and must be "
			    "fixed, although its failover '%s' sent this "
			    "message: %s%s%s", setup_bad->name, cur->name,
			    setup_err.msg, setup_hint != NULL ? "; " : "",
			    setup_hint != NULL ? setup_hint : "");
	} else if (rv == -1 && have_retry && res->class != OUTCOME_RETRY &&
	    res->class != OUTCOME_PERMANENT) {
		/*
		 * One relay was only unavailable, a later one set up wrong:
		 * the message waits for the first to come back (queued, not
		 * held).
		 */
		outcome_copy(res, &retry);
		error_set(err, retry_err.code, "%s", retry_err.msg);
	}
	error_release(&setup_err);
	error_release(&retry_err);
	free(setup_hint);
	outcome_release(&retry);
	return rv;
}

/* Rank of a failed part's class for the merged outcome: the one that
 * keeps the most (RETRY is retried, SETUP held, PERMANENT given up). */
static int
rank(enum outcome_class c)
{
	switch (c) {
	case OUTCOME_RETRY:
		return 3;
	case OUTCOME_SETUP:
		return 2;
	case OUTCOME_PERMANENT:
		return 1;
	default:
		return 0;
	}
}

static void
join(char **dst, const char *s)
{
	char	*t;

	if (s == NULL)
		return;
	if (*dst == NULL) {
		*dst = xstrdup(s);
		return;
	}
	t = xasprintf("%s,%s", *dst, s);
	free(*dst);
	*dst = t;
}

int
relay_send(const struct account *acct, struct transport **tp,
    const struct message *msg, struct outcome *res, struct error *err)
{
	const struct envelope	 *env = message_envelope(msg);
	const struct account	**accts;
	struct envelope		  sub;
	struct outcome		  one;
	struct error		  e = ERROR_INIT;
	size_t			 *group, *idx, n = env->rcpts.n, ng, g, i, nb;
	size_t			  delivered = 0;
	int			  rv, best = 0, other = 0, pinned = res->unknown;
	int			  best_limited = 0;

	if (acct->routes == NULL || acct->routes->n == 0 || n == 0) {
		rv = send_chain(acct, tp, msg, env, res, pinned, err);
		res->unknown |= pinned;
		return rv;
	}
	group = xcalloc(n, sizeof(*group));
	accts = xcalloc(n, sizeof(*accts));
	ng = route_split(acct->routes, acct, &env->rcpts, group, accts);
	if (ng == 1 && accts[0] == acct) {
		free(group);
		free(accts);
		rv = send_chain(acct, tp, msg, env, res, pinned, err);
		res->unknown |= pinned;
		return rv;
	}
	idx = xcalloc(n, sizeof(*idx));
	sub.sender = env->sender;
	for (g = 0; g < ng; g++) {
		memset(&sub.rcpts, 0, sizeof(sub.rcpts));
		for (i = 0, nb = 0; i < n; i++)
			if (group[i] == g) {
				idx[nb++] = i;
				strlist_add(&sub.rcpts, env->rcpts.v[i]);
			}
		log_debug("route: %zu recipient(s) (<%s>%s) through account "
		    "'%s'", nb, sub.rcpts.v[0], nb > 1 ? "..." : "",
		    accts[g]->name);
		outcome_init(&one, nb);
		rv = send_chain(accts[g], accts[g] == acct ? tp : NULL, msg,
		    &sub, &one, pinned, &e);
		for (i = 0; i < nb; i++) {
			struct rcpt_result *r = &res->rcpt[idx[i]];
			enum rcpt_state st = one.rcpt[i].state;

			/* a failed transaction decides its open recipients */
			if (rv == -1 && st == RCPT_PENDING)
				st = one.class == OUTCOME_PERMANENT ?
				    RCPT_PERMFAIL : RCPT_TEMPFAIL;
			outcome_set_rcpt(res, idx[i], st, one.rcpt[i].code != 0 ||
			    rv == 0 ? one.rcpt[i].code : one.smtp_code,
			    one.rcpt[i].reply != NULL || rv == 0 ?
			    one.rcpt[i].enhanced : one.enhanced,
			    one.rcpt[i].reply != NULL || rv == 0 ?
			    one.rcpt[i].reply : one.reply);
			free(r->account);
			free(r->relay);
			r->account = xstrdup(one.rcpt[i].account != NULL ?
			    one.rcpt[i].account : accts[g]->name);
			r->relay = dup_or_null(one.rcpt[i].relay != NULL ?
			    one.rcpt[i].relay : one.relay);
		}
		if (one.limited > 0) {
			res->limited += one.limited;
			if (res->not_before == 0 ||
			    one.not_before < res->not_before)
				res->not_before = one.not_before;
		}
		if (one.account != NULL || accts[g] != acct)
			other = 1;
		join(&res->relay, one.relay);
		join(&res->account, one.account != NULL ? one.account :
		    accts[g]->name);
		if (rv == 0) {
			delivered++;
			if (one.final_code != 0) {
				res->final_code = one.final_code;
				free(res->final_reply);
				res->final_reply = dup_or_null(one.final_reply);
				free(res->server_id);
				res->server_id = dup_or_null(one.server_id);
			}
		} else {
			res->unknown |= one.unknown;
			if (rank(one.class) > best) {
				/* the failure the merged outcome reports */
				best = rank(one.class);
				best_limited = one.limited > 0;
				outcome_fail(res, one.class, one.step,
				    one.exitcode, one.smtp_code, one.reply,
				    one.hint);
				memcpy(res->enhanced, one.enhanced,
				    sizeof(res->enhanced));
				error_release(err);
				error_set(err, e.code, "for %zu recipient(s) "
				    "through account '%s': %s", nb,
				    accts[g]->name, e.msg);
			} else if (one.limited > 0)
				/* a full window is no fault: the caller
				 * says it once */
				log_debug("for %zu recipient(s) through "
				    "account '%s': %s", nb, accts[g]->name,
				    e.msg);
			else
				log_warnx("for %zu recipient(s) through "
				    "account '%s': %s%s%s", nb, accts[g]->name,
				    e.msg, one.hint != NULL ? "; to fix it: " :
				    "", one.hint != NULL ? one.hint : "");
		}
		error_release(&e);
		outcome_release(&one);
		strlist_release(&sub.rcpts);
	}
	if (!other) {
		free(res->account);
		res->account = NULL;
	}
	res->unknown |= pinned;
	free(idx);
	free(group);
	free(accts);
	if (delivered == 0)
		return -1;
	if (best > 0) {
		/*
		 * Some parts went out: as transport_send() does for a batch,
		 * the failed parts' recipients are kept (4xx) or refused
		 * (5xx) and the message counts as sent.
		 */
		if (best_limited)
			log_debug("%s", err->msg);
		else
			log_warnx("%s%s%s", err->msg, res->hint != NULL ?
			    "; to fix it: " : "", res->hint != NULL ?
			    res->hint : "");
		error_release(err);
		res->class = OUTCOME_NONE;
		res->step = STEP_NONE;
	}
	return 0;
}
