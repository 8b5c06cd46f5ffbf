/*
 * The two text forms of a queue entry: its .env file (written by
 * queue_env_text(), read back strictly by queue_env_parse()) and the
 * mailq listing (queue_format()).
 */
#include "autoconfig.h"

#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "error.h"
#include "outcome.h"
#include "queue.h"
#include "queue_env.h"
#include "util.h"
#include "xmalloc.h"

static void	 json_str(struct buf *, const char *);

static char
state_char(enum rcpt_state s)
{
	switch (s) {
	case RCPT_ACCEPTED:
		return 'A';
	case RCPT_PERMFAIL:
		return 'F';
	case RCPT_TEMPFAIL:
		return 'T';
	case RCPT_PENDING:
		break;
	}
	return 'P';
}

static int
char_state(int c, enum rcpt_state *s)
{
	switch (c) {
	case 'A':
		*s = RCPT_ACCEPTED;
		return 0;
	case 'F':
		*s = RCPT_PERMFAIL;
		return 0;
	case 'T':
		*s = RCPT_TEMPFAIL;
		return 0;
	case 'P':
		*s = RCPT_PENDING;
		return 0;
	default:
		return -1;
	}
}

/* A decimal number, no sign, at most 18 digits. */
static int
parse_num(const char *s, long long *out)
{
	long long	v = 0;
	size_t		i;

	if (s[0] == '\0')
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 18 || !isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/*
 * The .env format, one "key value" per line in this fixed order, then
 * "rcpt STATE ADDRESS" lines, then "end" (the trailer: a file cut short
 * has none).  Nothing in it is ever interpreted beyond these fields
 * (OpenSMTPD CVE-2020-8794 went through an envelope file).
 */
int
queue_entry_parse(const char *text, size_t len, const char *id,
    struct queue_entry **out, struct error *err)
{
	return queue_env_parse(text, len, id, out, err);
}

int
queue_env_parse(const char *text, size_t len, const char *id,
    struct queue_entry **out, struct error *err)
{
	static const char *const keys[] = { "id", "account", "sender",
	    "msgid", "size", "created", "next", "attempts", "held",
	    "unknown", "bounce", "error", NULL };
	struct queue_entry	*e;
	struct buf		 states = BUF_INIT;
	const char		*s = text, *end = text + len, *nl;
	char			*line = NULL, *val;
	long long		 v;
	size_t			 k = 0, n;
	int			 lineno = 0, done = 0;

	e = xcalloc(1, sizeof(*e));
	if (memchr(text, '\0', len) != NULL)
		goto bad;
	while (s < end) {
		lineno++;
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			goto bad;	/* torn: no final newline */
		n = (size_t)(nl - s);
		if (n > ENV_LINE_MAX || memchr(s, '\r', n) != NULL)
			goto bad;
		free(line);
		line = xstrndup(s, n);
		s = nl + 1;
		if (done)
			goto bad;	/* anything after the trailer */
		if (lineno == 1) {
			if (strcmp(line, ENV_MAGIC) != 0)
				goto bad;
			continue;
		}
		if (keys[k] != NULL) {
			size_t kl = strlen(keys[k]);

			if (strncmp(line, keys[k], kl) != 0 ||
			    line[kl] != ' ')
				goto bad;
			val = line + kl + 1;
			switch (k) {
			case 0:
				if (strcmp(val, id) != 0)
					goto bad;
				e->id = xstrdup(val);
				break;
			case 1:
				e->account = *val != '\0' ? xstrdup(val) :
				    NULL;
				break;
			case 2:
				/* Untrusted: a mailbox or nothing (<>). */
				if (*val != '\0' &&
				    addr_check_mailbox(val, 0, NULL) == -1)
					goto bad;
				e->sender = xstrdup(val);
				break;
			case 3:
				e->msgid = xstrdup(val);
				break;
			case 11:
				e->last_error = xstrdup(val);
				break;
			default:
				if (parse_num(val, &v) == -1)
					goto bad;
				if (k == 4)
					e->size = (off_t)v;
				else if (k == 5)
					e->created = (time_t)v;
				else if (k == 6)
					e->next_attempt = (time_t)v;
				else if (k == 7)
					e->attempts = v > INT_MAX ? INT_MAX :
					    (int)v;
				else if (v > (k == 8 ? HOLD_SETUP : 1))
					goto bad;
				else if (k == 8)
					e->held = (int)v;
				else if (k == 9)
					e->unknown = (int)v;
				else
					e->bounce = (int)v;
				break;
			}
			k++;
			continue;
		}
		if (strcmp(line, "end") == 0) {
			done = 1;
			continue;
		}
		if (strncmp(line, "rcpt ", 5) != 0 || line[5] == '\0' ||
		    line[6] != ' ' || line[7] == '\0')
			goto bad;
		{
			enum rcpt_state	st;

			if (char_state(line[5], &st) == -1 ||
			    addr_check_mailbox(line + 7, 0, NULL) == -1)
				goto bad;
			buf_addch(&states, line[5]);
			strlist_add(&e->rcpts, line + 7);
		}
	}
	if (!done || e->rcpts.n == 0)
		goto bad;
	e->state = xcalloc(e->rcpts.n, sizeof(*e->state));
	for (n = 0; n < e->rcpts.n; n++)
		char_state(states.data[n], &e->state[n]);
	buf_release(&states);
	free(line);
	*out = e;
	return 0;
bad:
	buf_release(&states);
	free(line);
	queue_entry_free(e);
	return error_set(err, EX_DATAERR, "queue entry %s: damaged envelope "
	    "file (line %d)", id, lineno);
}


void
queue_env_text(struct buf *b, const struct queue_entry *e)
{
	size_t	i;

	buf_printf(b, "%s\nid %s\naccount ", ENV_MAGIC, e->id);
	buf_add_clean(b, e->account, ENV_LINE_MAX / 2);
	buf_addstr(b, "\nsender ");
	buf_add_clean(b, e->sender, ENV_LINE_MAX / 2);
	buf_addstr(b, "\nmsgid ");
	buf_add_clean(b, e->msgid, ENV_LINE_MAX / 2);
	buf_printf(b, "\nsize %lld\ncreated %lld\nnext %lld\nattempts %d\n"
	    "held %d\nunknown %d\nbounce %d\nerror ", (long long)e->size,
	    (long long)e->created, (long long)e->next_attempt, e->attempts,
	    e->held, e->unknown ? 1 : 0, e->bounce ? 1 : 0);
	buf_add_clean(b, e->last_error, ERROR_TEXT_MAX);
	buf_addch(b, '\n');
	for (i = 0; i < e->rcpts.n; i++) {
		buf_printf(b, "rcpt %c ", state_char(e->state[i]));
		buf_add_clean(b, e->rcpts.v[i], ENV_LINE_MAX / 2);
		buf_addch(b, '\n');
	}
	buf_addstr(b, "end\n");
}

/* The listing. */

static void
json_str(struct buf *b, const char *s)
{
	buf_add_json_str(b, s);
}

void
queue_format(struct buf *b, struct queue_entry *const *v, size_t n,
    time_t now, int json)
{
	size_t	i, j;
	int	first;

	if (json) {
		buf_addch(b, '[');
		for (i = 0; i < n; i++) {
			const struct queue_entry *e = v[i];

			buf_addstr(b, i > 0 ? ",\n {" : "\n {");
			buf_addstr(b, "\"id\": ");
			json_str(b, e->id);
			buf_printf(b, ", \"size\": %lld, \"created\": %lld, "
			    "\"age\": %lld, \"next_attempt\": %lld, "
			    "\"attempts\": %d, \"held\": %s, \"unknown\": %s, "
			    "\"account\": ", (long long)e->size,
			    (long long)e->created,
			    (long long)(now - e->created),
			    (long long)e->next_attempt, e->attempts,
			    e->held ? "true" : "false",
			    e->unknown ? "true" : "false");

			if (e->account != NULL)
				json_str(b, e->account);
			else
				buf_addstr(b, "null");
			if (e->held)
				buf_printf(b, ", \"held_by\": \"%s\"",
				    e->held == HOLD_SETUP ? "setup" : "admin");
			buf_addstr(b, ", \"sender\": ");
			json_str(b, e->sender);
			buf_addstr(b, ", \"message_id\": ");
			json_str(b, e->msgid);
			buf_addstr(b, ", \"recipients\": [");
			first = 1;
			for (j = 0; j < e->rcpts.n; j++) {
				if (e->state[j] != RCPT_PENDING &&
				    e->state[j] != RCPT_TEMPFAIL)
					continue;
				if (!first)
					buf_addstr(b, ", ");
				json_str(b, e->rcpts.v[j]);
				first = 0;
			}
			buf_addstr(b, "], \"last_error\": ");
			json_str(b, e->last_error);
			buf_addch(b, '}');
		}
		buf_addstr(b, n > 0 ? "\n]\n" : "]\n");
		return;
	}
	if (n == 0) {
		buf_addstr(b, "Mail queue is empty\n");
		return;
	}
	for (i = 0; i < n; i++) {
		const struct queue_entry *e = v[i];
		long long	age = (long long)(now - e->created);

		buf_printf(b, "%s%s %lld ", e->id, e->held ? "!" :
		    e->unknown ? "?" : "", (long long)e->size);
		if (age < 3600)
			buf_printf(b, "%lldm", age < 0 ? 0 : age / 60);
		else if (age < 86400)
			buf_printf(b, "%lldh", age / 3600);
		else
			buf_printf(b, "%lldd", age / 86400);
		buf_addstr(b, " <");
		buf_add_clean(b, e->sender, 512);
		buf_addstr(b, ">");
		for (j = 0; j < e->rcpts.n; j++)
			if (e->state[j] == RCPT_PENDING ||
			    e->state[j] == RCPT_TEMPFAIL) {
				buf_addstr(b, " <");
				buf_add_clean(b, e->rcpts.v[j], 512);
				buf_addch(b, '>');
			}
		if (e->held)
			buf_printf(b, " held=%s", e->held == HOLD_SETUP ?
			    "setup" : "admin");
		buf_printf(b, " attempts=%d", e->attempts);
		if (e->last_error != NULL && e->last_error[0] != '\0') {
			/* the relay's words: escaped as on stderr (\x1b),
			 * C1 controls (U+009B, a CSI) too */
			buf_addstr(b, " (");
			buf_add_escaped(b, e->last_error,
			    strnlen(e->last_error, ERROR_TEXT_MAX));
			buf_addch(b, ')');
		}
		buf_addch(b, '\n');
	}
	buf_printf(b, "-- %zu request%s\n", n, n == 1 ? "" : "s");
}
