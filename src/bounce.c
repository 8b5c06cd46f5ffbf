/*
 * Bounces: see bounce.h.  The body is a text part, the original message
 * read through a message_reader (never copied) and the closing boundary.
 */
#include "autoconfig.h"

#include <sys/types.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounce.h"
#include "config.h"
#include "error.h"
#include "local.h"
#include "log.h"
#include "message.h"
#include "outcome.h"
#include "send.h"
#include "util.h"
#include "xmalloc.h"

/* The bounce body: a text part, the original message, the end. */
struct bounce_body {
	struct buf		 head;
	struct buf		 tail;
	struct message_reader	*rd;	/* the original, or NULL */
	int			 part;	/* 0 head, 1 orig, 2 tail */
	size_t			 off;
};

static ssize_t
bb_read(void *ctx, void *buf, size_t len, struct error *err)
{
	struct bounce_body	*bb = ctx;
	const struct buf	*src;
	ssize_t			 r;
	size_t			 k;

	for (;;) {
		if (bb->part == 1) {
			if (bb->rd == NULL) {
				bb->part = 2;
				bb->off = 0;
				continue;
			}
			r = message_reader_read(bb->rd, buf, len, err);
			if (r != 0)
				return r;
			bb->part = 2;
			bb->off = 0;
			continue;
		}
		if (bb->part > 2)
			return 0;
		src = bb->part == 0 ? &bb->head : &bb->tail;
		if (bb->off >= src->len) {
			bb->part++;
			bb->off = 0;
			continue;
		}
		k = src->len - bb->off;
		if (k > len)
			k = len;
		memcpy(buf, src->data + bb->off, k);
		bb->off += k;
		return (ssize_t)k;
	}
}

static int
bb_rewind(void *ctx, struct error *err)
{
	struct bounce_body	*bb = ctx;

	(void)err;
	bb->part = 0;
	bb->off = 0;
	if (bb->rd != NULL)
		message_reader_rewind(bb->rd);
	return 0;
}

static void
bb_free(void *ctx)
{
	struct bounce_body	*bb = ctx;

	buf_release(&bb->head);
	buf_release(&bb->tail);
	message_reader_free(bb->rd);
	free(bb);
}

static const struct message_body_ops bounce_ops = {
	bb_read, bb_rewind, bb_free
};

struct message *
bounce_new(const struct message *orig, const char *to,
    const struct strlist *failed, const struct strlist *why,
    const char *reason, const char *domain)
{
	struct bounce_body	*bb;
	const char		*names[6], *values[6];
	struct message		*m;
	char			*from, *ctype, *bnd, *subj;
	size_t			 i;

	bb = xcalloc(1, sizeof(*bb));
	bnd = xasprintf("postie-bounce-%08x%08x", util_rnd32(), util_rnd32());
	buf_printf(&bb->head, "This is a MIME-encapsulated message.\r\n\r\n"
	    "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
	    "This is postie on %s.\r\n\r\n"
	    "Your message could not be delivered to these recipients:\r\n"
	    "\r\n", bnd, domain != NULL ? domain : "localhost");
	for (i = 0; failed != NULL && i < failed->n; i++) {
		buf_addstr(&bb->head, "    <");
		buf_add_clean(&bb->head, failed->v[i], 512);
		buf_addch(&bb->head, '>');
		if (why != NULL && i < why->n && why->v[i][0] != '\0') {
			buf_addstr(&bb->head, ": ");
			buf_add_clean(&bb->head, why->v[i], 400);
		}
		buf_addstr(&bb->head, "\r\n");
	}
	buf_addstr(&bb->head, "\r\nReason: ");
	/* keep the reason inside the 998-octet line limit */
	buf_add_clean(&bb->head, reason != NULL ? reason : "unknown", 900);
	buf_printf(&bb->head, "\r\n\r\nThe message follows.\r\n\r\n--%s\r\n"
	    "Content-Type: message/rfc822\r\n"
	    "Content-Description: undelivered message\r\n\r\n", bnd);
	buf_printf(&bb->tail, "\r\n--%s--\r\n", bnd);
	bb->rd = orig != NULL ? message_reader_new(orig) : NULL;

	from = xasprintf("Mail Delivery System <MAILER-DAEMON@%s>",
	    domain != NULL ? domain : "localhost");
	ctype = xasprintf("multipart/mixed; boundary=\"%s\"", bnd);
	subj = xstrdup("Undelivered Mail Returned to Sender");
	names[0] = "From";
	values[0] = from;
	names[1] = "To";
	values[1] = to;
	names[2] = "Subject";
	values[2] = subj;
	/* RFC 3834 5: an automatic reply, never answered automatically */
	names[3] = "Auto-Submitted";
	values[3] = "auto-replied";
	names[4] = "MIME-Version";
	values[4] = "1.0";
	names[5] = "Content-Type";
	values[5] = ctype;
	m = message_new_composed(names, values, 6, &bounce_ops, bb,
	    (off_t)(bb->head.len + bb->tail.len) +
	    (orig != NULL ? message_size(orig) : 0));
	free(from);
	free(ctype);
	free(subj);
	free(bnd);
	return m;
}

void
bounce_add(struct strlist *failed, struct strlist *why, const char *addr,
    const struct rcpt_result *r)
{
	strlist_add(failed, addr);
	if (r != NULL && r->code != 0)
		strlist_add_owned(why, xasprintf("%d %s", r->code,
		    r->reply != NULL ? r->reply : ""));
	else
		strlist_add(why, "");
}

/*
 * A bounce (-oem) to the sender's local mailbox: the sender when it is
 * a local address, else the user running postie (the local owner).
 * Sent with the null sender, so it can never bounce itself.
 */
int
bounce_send(const struct account *acct, const char *sender,
    const struct message *orig, const struct strlist *failed,
    const struct strlist *why, const char *reason, struct error *err)
{
	struct strlist		 domains = STRLIST_INIT, rcpts = STRLIST_INIT;
	struct message_opts	 mo;
	struct local_opts	 lo;
	struct outcome		 res;
	struct message		*m;
	char			*qd, *to, *login;
	int			 rv = -1;

	qd = account_qualify_domain(acct);
	send_local_domains(&domains, qd);
	send_local_opts(&lo, acct, &domains);
	if (local_is_local(&lo, sender))
		to = xstrdup(sender);
	else if ((login = util_login_name()) != NULL) {
		to = xasprintf("%s@%s", login, qd);
		free(login);
	} else
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
