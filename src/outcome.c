/*
 * The outcome of a delivery and the one rule that turns it into
 * consequences (see outcome.h).  Pure: no I/O, no globals.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "outcome.h"
#include "util.h"
#include "xmalloc.h"

static void
copy_enhanced(char dst[16], const char *src)
{
	size_t	len;

	dst[0] = '\0';
	if (src == NULL)
		return;
	len = strlen(src);
	if (len > 15)
		len = 15;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void
outcome_init(struct outcome *o, size_t nrcpts)
{
	memset(o, 0, sizeof(*o));
	o->n = nrcpts;
	if (nrcpts > 0)
		o->rcpt = xcalloc(nrcpts, sizeof(*o->rcpt));
}

/* Drop the transaction-level failure, keep the recipient array. */
static void
clear_failure(struct outcome *o)
{
	free(o->reply);
	free(o->relay);
	free(o->hint);
	free(o->server_id);
	free(o->final_reply);
	free(o->account);
	o->reply = o->relay = o->hint = o->server_id = o->final_reply = NULL;
	o->account = NULL;
	o->final_code = 0;
	o->class = OUTCOME_NONE;
	o->step = STEP_NONE;
	o->exitcode = 0;
	o->smtp_code = 0;
	o->enhanced[0] = '\0';
	o->unknown = 0;
	o->timedout = 0;
	o->limited = 0;
	o->not_before = 0;
}

void
outcome_release(struct outcome *o)
{
	size_t	i;

	if (o == NULL)
		return;
	for (i = 0; i < o->n && o->rcpt != NULL; i++) {
		free(o->rcpt[i].reply);
		free(o->rcpt[i].relay);
		free(o->rcpt[i].account);
	}
	free(o->rcpt);
	clear_failure(o);
	o->rcpt = NULL;
	o->n = 0;
}

void
outcome_reset(struct outcome *o)
{
	size_t	i;

	for (i = 0; i < o->n; i++) {
		free(o->rcpt[i].reply);
		free(o->rcpt[i].relay);
		free(o->rcpt[i].account);
		memset(&o->rcpt[i], 0, sizeof(o->rcpt[i]));
	}
	clear_failure(o);
}

size_t
outcome_count(const struct outcome *o, enum rcpt_state st)
{
	size_t	i, n = 0;

	for (i = 0; i < o->n; i++)
		if (o->rcpt[i].state == st)
			n++;
	return n;
}

void
outcome_set_rcpt(struct outcome *o, size_t i, enum rcpt_state st, int code,
    const char *enhanced, const char *reply)
{
	struct rcpt_result *r;

	if (i >= o->n)
		return;
	r = &o->rcpt[i];
	r->state = st;
	r->code = code;
	copy_enhanced(r->enhanced, enhanced);
	free(r->reply);
	r->reply = dup_or_null(reply);
}

void
outcome_fail(struct outcome *o, enum outcome_class cls,
    enum outcome_step step, int exitcode, int smtp_code, const char *reply,
    const char *hint)
{
	o->class = cls;
	o->step = step;
	o->exitcode = exitcode;
	o->smtp_code = smtp_code;
	free(o->reply);
	o->reply = dup_or_null(reply);
	free(o->hint);
	o->hint = dup_or_null(hint);
}

/* The number of digits (at most 3) at p. */
static size_t
digits(const char *p)
{
	size_t	n = 0;

	while (n < 3 && p[n] >= '0' && p[n] <= '9')
		n++;
	return n;
}

int
outcome_enhanced(const char *text, char dst[16])
{
	size_t	a, b;

	dst[0] = '\0';
	if (text == NULL || (text[0] != '2' && text[0] != '4' &&
	    text[0] != '5') || text[1] != '.')
		return 0;
	if ((a = digits(text + 2)) == 0 || text[2 + a] != '.')
		return 0;
	b = digits(text + 3 + a);
	if (b == 0 || (text[3 + a + b] != '\0' && text[3 + a + b] != ' '))
		return 0;
	/* at most "5.123.456": 9 octets */
	memcpy(dst, text, 3 + a + b);
	dst[3 + a + b] = '\0';
	return 1;
}

enum outcome_class
outcome_class_of_reply(enum outcome_step step, int code)
{
	if (code >= 200 && code < 400)
		return OUTCOME_NONE;
	if (code >= 500 && code < 600) {
		/*
		 * A refused AUTH or STARTTLS is this account not matching
		 * the server, not the message being refused.
		 */
		if (step == STEP_AUTH || step == STEP_STARTTLS)
			return OUTCOME_SETUP;
		return OUTCOME_PERMANENT;
	}
	/* 4xx, no reply, or a code outside the protocol. */
	return OUTCOME_RETRY;
}

static int
code_or(int code, int dflt)
{
	return code != 0 ? code : dflt;
}

int
outcome_failover_worth(const struct outcome *o)
{
	size_t	open;

	if (o->class != OUTCOME_RETRY && o->class != OUTCOME_SETUP)
		return 0;
	if (o->unknown || o->limited > 0)
		return 0;
	open = o->n - outcome_count(o, RCPT_ACCEPTED) -
	    outcome_count(o, RCPT_PERMFAIL);
	if (open == 0)
		return 0;
	switch (o->step) {
	case STEP_NONE:		/* the account's secret or token */
	case STEP_CONNECT:
	case STEP_GREETING:
	case STEP_EHLO:
	case STEP_STARTTLS:
	case STEP_AUTH:
	case STEP_MAIL:
	case STEP_RCPT:
	case STEP_DATA:		/* the DATA command: nothing sent yet */
		return 1;
	case STEP_BODY:		/* the relay may have the message */
	case STEP_DOT:
	case STEP_LOCAL:
		return 0;
	}
	return 0;
}

void
outcome_decide(const struct outcome *o, int queue_on,
    struct outcome_action *a)
{
	size_t	accepted, refused, open;

	memset(a, 0, sizeof(*a));
	accepted = outcome_count(o, RCPT_ACCEPTED);
	refused = outcome_count(o, RCPT_PERMFAIL);
	open = o->n - accepted - refused;	/* PENDING or TEMPFAIL */

	switch (o->class) {
	case OUTCOME_NONE:
		a->bounce = refused > 0;
		if (open > 0) {
			/* Some recipients got a 4xx. */
			a->keep = queue_on;
			a->exitcode = queue_on ? 0 : EX_TEMPFAIL;
		} else if (accepted == 0 && refused > 0)
			/* Everybody refused, yet no transaction failure. */
			a->exitcode = code_or(o->exitcode, EX_UNAVAILABLE);
		break;
	case OUTCOME_RETRY:
		a->bounce = refused > 0;
		a->keep = queue_on && open > 0;
		/* After the data the relay may have it: a second one
		 * would duplicate it. */
		a->failover = outcome_failover_worth(o);
		if (open > 0 && !queue_on)
			a->exitcode = code_or(o->exitcode, EX_TEMPFAIL);
		break;
	case OUTCOME_SETUP:
		a->bounce = refused > 0;
		a->keep = a->hold = queue_on && open > 0;
		a->failover = outcome_failover_worth(o);
		a->exitcode = code_or(o->exitcode, EX_CONFIG);
		break;
	case OUTCOME_PERMANENT:
		/* Refused for good: everything not delivered is reported. */
		a->bounce = accepted < o->n;
		a->exitcode = accepted > 0 ? 0 :
		    code_or(o->exitcode, EX_UNAVAILABLE);
		break;
	}
}

const char *
outcome_class_name(enum outcome_class c)
{
	switch (c) {
	case OUTCOME_NONE:
		return "none";
	case OUTCOME_RETRY:
		return "retry";
	case OUTCOME_SETUP:
		return "setup";
	case OUTCOME_PERMANENT:
		return "permanent";
	}
	return "unknown";
}

const char *
outcome_step_name(enum outcome_step s)
{
	static const char *const names[] = {
		"none", "connect", "greeting", "ehlo", "starttls", "auth",
		"mail", "rcpt", "data", "body", "dot", "local"
	};

	if ((size_t)s < sizeof(names) / sizeof(names[0]))
		return names[s];
	return "unknown";
}

void
outcome_json_attempt(struct buf *b, const struct outcome *o,
    const char *sender, const struct strlist *rcpts, const char *open)
{
	buf_addstr(b, ", \"relay\": ");
	buf_add_json_str_or_null(b, o->relay);
	if (o->account != NULL) {
		/* the account(s) that delivered, other than "account" */
		buf_addstr(b, ", \"sent_via\": ");
		buf_add_json_str(b, o->account);
	}
	buf_addstr(b, ", \"server_id\": ");
	buf_add_json_str_or_null(b, o->server_id);
	buf_addstr(b, ", \"sender\": ");
	buf_add_json_str(b, sender);
	buf_addstr(b, ", ");
	outcome_json(b, o, rcpts, open);
}

void
outcome_json(struct buf *b, const struct outcome *o,
    const struct strlist *rcpts, const char *open)
{
	size_t	i;

	buf_addstr(b, "\"recipients\": [");
	for (i = 0; i < rcpts->n; i++) {
		const struct rcpt_result *r = i < o->n ? &o->rcpt[i] : NULL;
		enum rcpt_state	 st = r != NULL ? r->state : RCPT_PENDING;

		buf_addstr(b, i > 0 ? ", {\"address\": " : "{\"address\": ");
		buf_add_json_str(b, rcpts->v[i]);
		buf_addstr(b, ", \"status\": ");
		buf_add_json_str(b, st == RCPT_ACCEPTED ? "delivered" :
		    st == RCPT_PERMFAIL ? "refused" : open);
		buf_printf(b, ", \"code\": %d, \"enhanced\": ",
		    r != NULL ? r->code : 0);
		buf_add_json_str_or_null(b, r != NULL &&
		    r->enhanced[0] != '\0' ? r->enhanced : NULL);
		buf_addstr(b, ", \"text\": ");
		buf_add_json_str_or_null(b, r != NULL ? r->reply : NULL);
		if (r != NULL && r->account != NULL) {
			/* routes or failover: where this one went */
			buf_addstr(b, ", \"account\": ");
			buf_add_json_str(b, r->account);
			buf_addstr(b, ", \"relay\": ");
			buf_add_json_str_or_null(b, r->relay);
		}
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
		buf_add_json_str_or_null(b, o->hint);
		buf_addch(b, '}');
	}
}
