/*
 * Completing a message read or composed (message_finalize()): the
 * envelope's recipients (-t, aliases, Bcc), bare names qualified, the
 * missing From, Date and Message-ID added, the body's encoding chosen
 * (as it is, or re-encoded as quoted-printable) and the header block
 * serialised.
 */
#include "autoconfig.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "aliases.h"
#include "config.h"
#include "error.h"
#include "hdrenc.h"
#include "log.h"
#include "message.h"
#include "message_int.h"
#include "rfc5322.h"
#include "util.h"
#include "xmalloc.h"

#define FOLD_AT		78		/* RFC 5322 2.1.1 "SHOULD" */

static int	collect_rcpts(struct message *, const struct message_opts *,
		    struct strlist *, struct error *);
static int	qualify_headers(struct message *, const char *);
static int	add_missing(struct message *, const struct message_opts *,
		    struct error *);
static int	choose_encoding(struct message *, struct error *);
static int	serialise_head(struct message *, struct error *);
static char	*make_date(void);
static char	*make_msgid(const char *);
static char	*login_name(void);
static char	*gecos_name(void);

/* The first address of the From header (allocated), or NULL. */
static char *
from_address(const struct message *msg)
{
	struct addr_list	 al = ADDR_LIST_INIT;
	struct error		 e = ERROR_INIT;
	char			*a = NULL;
	long			 k;

	if ((k = header_list_find(&msg->hdrs, "From", 0)) == -1)
		return NULL;
	if (addr_parse_list(msg->hdrs.v[k].value, &al, &e) == 0 && al.n > 0 &&
	    al.v[0].spec != NULL && *al.v[0].spec != '\0')
		a = xstrdup(al.v[0].spec);
	error_release(&e);
	addr_list_release(&al);
	return a;
}

/* The account's own address for Sender: "from" when it is one address
 * (not a pattern), else the envelope sender; NULL for the null sender. */
static char *
account_address(const struct message *msg, const struct message_opts *opts)
{
	struct error	e = ERROR_INIT;
	const char	*f = opts->from_default;

	if (f != NULL && strpbrk(f, "*?[") == NULL &&
	    addr_check_mailbox(f, 0, &e) == 0)
		return xstrdup(f);
	error_release(&e);
	if (*msg->env.sender != '\0')
		return xstrdup(msg->env.sender);
	return NULL;
}

/*
 * set_sender_header on: the author's From stays, and Sender names the
 * account that sends it (RFC 5322 3.6.2), unless From is that address.
 */
static void
add_sender(struct message *msg, const struct message_opts *opts)
{
	char	*acct, *from;
	long	 k;

	if ((acct = account_address(msg, opts)) == NULL)
		return;
	from = from_address(msg);
	if (from != NULL && strcasecmp(from, acct) == 0) {
		strlist_add(&msg->rewrites, "Sender: not added (From is the "
		    "account's address)");
	} else {
		while ((k = header_list_find(&msg->hdrs, "Sender", 0)) != -1)
			header_list_remove(&msg->hdrs, (size_t)k);
		header_list_add(&msg->hdrs, "Sender", "");
		header_list_set(&msg->hdrs, msg->hdrs.n - 1, acct);
		strlist_add_owned(&msg->rewrites, xasprintf("Sender: %s "
		    "added (set_sender_header on; From kept)", acct));
	}
	free(from);
	free(acct);
}


/*
 * Finalize
 */

int
message_finalize(struct message *msg, const struct message_opts *opts,
    struct error *err)
{
	struct strlist	 rcpts = STRLIST_INIT;
	const char	*qd = opts->qualify_domain;
	size_t		 i;
	long		 k;

	if (msg->finalized)
		return 0;
	if (collect_rcpts(msg, opts, &rcpts, err) == -1)
		goto fail;
	msg->env.rcpts = rcpts;
	memset(&rcpts, 0, sizeof(rcpts));

	/* The envelope sender. */
	if (opts->sender != NULL) {
		msg->env.sender = addr_envelope_sender(opts->sender, err);
		if (msg->env.sender == NULL)
			goto fail;
	} else if (opts->read_envelope_from &&
	    (msg->env.sender = from_address(msg)) != NULL) {
		/* read_envelope_from: the author's address (msmtp) */
		if (addr_check_mailbox(msg->env.sender, 1, err) == -1)
			return error_prefix(err, "read_envelope_from: the "
			    "From header's address");
	} else if (opts->from_default != NULL && *opts->from_default != '\0') {
		msg->env.sender = addr_envelope_sender(opts->from_default, err);
		if (msg->env.sender == NULL)
			return error_prefix(err, "invalid 'from' in the config");
	} else {
		msg->env.sender = login_name();
	}
	if (*msg->env.sender != '\0' && !addr_has_domain(msg->env.sender) &&
	    qd != NULL) {
		char *q = xasprintf("%s@%s", msg->env.sender, qd);

		free(msg->env.sender);
		msg->env.sender = q;
	}
	if (*msg->env.sender != '\0' &&
	    addr_check_mailbox(msg->env.sender, 0, err) == -1)
		return error_prefix(err, "invalid envelope sender");

	if (qd != NULL && qualify_headers(msg, qd) == -1)
		goto fail;

	/* RFC 5322 3.6.3: Bcc must not reach the recipients. */
	if (opts->remove_bcc_headers)
		while ((k = header_list_find(&msg->hdrs, "Bcc", 0)) != -1)
			header_list_remove(&msg->hdrs, (size_t)k);
	/* RFC 5321 4.4: the final delivery adds Return-Path; a client
	 * SHOULD NOT send one (Postfix and nullmailer remove it too). */
	while ((k = header_list_find(&msg->hdrs, "Return-Path", 0)) != -1)
		header_list_remove(&msg->hdrs, (size_t)k);

	if (add_missing(msg, opts, err) == -1)
		goto fail;
	if (msg->body.gen == NULL && choose_encoding(msg, err) == -1)
		goto fail;
	if (serialise_head(msg, err) == -1)
		goto fail;
	if (msg->body.gen != NULL)
		msg->body_size = msg->body.gensize;
	else if (msg->enc == BODY_QP) {
		if ((msg->body_size = count_body(msg, err)) == -1)
			goto fail;
	} else {
		msg->body_size = msg->stats.content + 2 * msg->stats.lines;
	}
	for (i = 0; i < msg->env.rcpts.n; i++)
		log_debug("recipient: <%s>", msg->env.rcpts.v[i]);
	msg->finalized = 1;
	return 0;
fail:
	strlist_release(&rcpts);
	return -1;
}

/* Add an address, once (seen holds l's strings, for linear time). */
static void
add_rcpt(struct strlist *l, struct strset *seen, const char *a)
{
	if (strset_has(seen, a))
		return;
	strlist_add(l, a);
	strset_add(seen, l->v[l->n - 1]);
}

static int
collect_rcpts(struct message *msg, const struct message_opts *opts,
    struct strlist *out, struct error *err)
{
	static const char *const fields[] = { "To", "Cc", "Bcc" };
	struct strlist	 raw = STRLIST_INIT, exp = STRLIST_INIT;
	struct strset	 seen = STRSET_INIT;
	struct addr_list al = ADDR_LIST_INIT;
	size_t		 i;
	long		 k;

	if (opts->rcpts != NULL)
		for (i = 0; i < opts->rcpts->n; i++)
			if (addr_split_arg(opts->rcpts->v[i], &raw, err) == -1)
				goto fail;
	if (opts->extract_rcpts) {
		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			for (k = header_list_find(&msg->hdrs, fields[i], 0);
			    k != -1; k = header_list_find(&msg->hdrs,
			    fields[i], (size_t)k + 1)) {
				if (addr_parse_list(msg->hdrs.v[k].value, &al,
				    err) == -1) {
					error_prefix(err, "cannot read "
					    "recipients from the %s header",
					    fields[i]);
					goto fail;
				}
			}
		}
		for (i = 0; i < al.n; i++)
			strlist_add(&raw, al.v[i].spec);
		addr_list_release(&al);
	}
	if (raw.n == 0) {
		if (opts->extract_rcpts && msg->lead_fold)
			error_set(err, EX_DATAERR, "line 1 of the message "
			    "starts with white space (a continued header "
			    "line with no field before it), so the message "
			    "has no header block and -t found no recipients: "
			    "remove the leading blank");
		else if (opts->extract_rcpts)
			error_set(err, EX_NOINPUT, "no recipients found in "
			    "the message (To, Cc and Bcc are empty)");
		else
			error_set(err, EX_USAGE, "no recipients given "
			    "(name them as arguments, or use -t to read "
			    "them from the message)");
		goto fail;
	}
	/* Aliases apply to local names, before qualification. */
	for (i = 0; i < raw.n; i++) {
		if (opts->aliases != NULL && !addr_has_domain(raw.v[i]))
			aliases_expand(opts->aliases, raw.v[i], &exp);
		else
			strlist_add(&exp, raw.v[i]);
	}
	for (i = 0; i < exp.n; i++) {
		char *a;

		if (!addr_has_domain(exp.v[i]) && opts->qualify_domain != NULL)
			a = xasprintf("%s@%s", exp.v[i], opts->qualify_domain);
		else
			a = xstrdup(exp.v[i]);
		if (addr_check_mailbox(a, 0, err) == -1) {
			free(a);
			error_prefix(err, "invalid recipient");
			goto fail;
		}
		add_rcpt(out, &seen, a);
		free(a);
	}
	strset_release(&seen);
	strlist_release(&raw);
	strlist_release(&exp);
	return 0;
fail:
	strset_release(&seen);
	addr_list_release(&al);
	strlist_release(&raw);
	strlist_release(&exp);
	return -1;
}

/* Qualify bare local names in the address headers, in place. */
static int
qualify_headers(struct message *msg, const char *domain)
{
	static const char *const fields[] = { "From", "To", "Cc", "Bcc",
	    "Sender", "Reply-To" };
	struct error	 e = ERROR_INIT;
	struct addr_list al = ADDR_LIST_INIT;
	size_t		 i, j;
	int		 bare;
	char		*q;

	for (i = 0; i < msg->hdrs.n; i++) {
		struct header *h = &msg->hdrs.v[i];

		for (j = 0; j < sizeof(fields) / sizeof(fields[0]); j++)
			if (strcasecmp(h->name, fields[j]) == 0)
				break;
		if (j == sizeof(fields) / sizeof(fields[0]))
			continue;
		if (addr_parse_list(h->value, &al, &e) == -1) {
			/* Not ours to judge unless -t reads it: keep it. */
			log_debug("%s header left as is: %s", h->name, e.msg);
			error_release(&e);
			continue;
		}
		for (bare = 0, j = 0; j < al.n; j++)
			if (!al.v[j].has_domain)
				bare = 1;
		addr_list_release(&al);
		if (!bare)
			continue;
		if ((q = addr_qualify_list(h->value, domain, &e)) == NULL) {
			error_release(&e);
			continue;
		}
		header_list_set(&msg->hdrs, i, q);
		free(q);
	}
	return 0;
}

static int
add_missing(struct message *msg, const struct message_opts *opts,
    struct error *err)
{
	const char	*name;
	char		*addr, *ph, *v, *gecos = NULL;
	long		 k;

	if (opts->fullname != NULL && mem_has_crlfnul(opts->fullname,
	    strlen(opts->fullname)))
		return error_set(err, EX_DATAERR,
		    "full name given with -F holds a line break");

	k = header_list_find(&msg->hdrs, "From", 0);
	if (opts->set_from_header == 1 || (opts->set_from_header ==
	    TRI_AUTO && k == -1)) {
		if (*msg->env.sender != '\0')
			addr = xstrdup(msg->env.sender);
		else {
			char *u = login_name();

			addr = opts->qualify_domain != NULL ?
			    xasprintf("%s@%s", u, opts->qualify_domain) :
			    xstrdup(u);
			free(u);
		}
		name = opts->fullname;
		if (name == NULL || *name == '\0')
			name = opts->from_full_name;
		/* The login's GECOS name names the login's mail (as
		 * Postfix, -f too), never the account's configured "from"
		 * address: that one takes from_full_name or no name. */
		if ((name == NULL || *name == '\0') &&
		    (opts->sender != NULL || opts->from_default == NULL))
			name = gecos = gecos_name();
		if (name != NULL && *name != '\0') {
			ph = hdrenc_phrase(name);
			v = xasprintf("%s <%s>", ph, addr);
			free(ph);
		} else
			v = xstrdup(addr);
		strlist_add_owned(&msg->rewrites, xasprintf("From: %s %s", v,
		    k == -1 ? "added (there was none)" : "replaced "
		    "(set_from_header on)"));
		while ((k = header_list_find(&msg->hdrs, "From", 0)) != -1)
			header_list_remove(&msg->hdrs, (size_t)k);
		header_list_add(&msg->hdrs, "From", "");
		header_list_set(&msg->hdrs, msg->hdrs.n - 1, v);
		free(v);
		free(addr);
		free(gecos);
	}
	if (opts->set_sender_header == 1)
		add_sender(msg, opts);
	if (opts->set_date_header != 0 &&
	    header_list_find(&msg->hdrs, "Date", 0) == -1) {
		v = make_date();
		header_list_add(&msg->hdrs, "Date", "");
		header_list_set(&msg->hdrs, msg->hdrs.n - 1, v);
		free(v);
	}
	k = header_list_find(&msg->hdrs, "Message-ID", 0);
	if (k == -1 && opts->set_msgid_header != 0) {
		msg->msgid = make_msgid(opts->msgid_domain != NULL ?
		    opts->msgid_domain : opts->qualify_domain);
		header_list_add(&msg->hdrs, "Message-ID", "");
		header_list_set(&msg->hdrs, msg->hdrs.n - 1, msg->msgid);
	} else if (k != -1)
		msg->msgid = xstrdup(msg->hdrs.v[k].value);
	return 0;
}

static int
is_mime(const struct message *msg)
{
	return header_list_find(&msg->hdrs, "MIME-Version", 0) != -1 ||
	    header_list_find(&msg->hdrs, "Content-Type", 0) != -1 ||
	    header_list_find(&msg->hdrs, "Content-Transfer-Encoding", 0) != -1;
}

static void
set_header(struct message *msg, const char *name, const char *value)
{
	long	k = header_list_find(&msg->hdrs, name, 0);

	if (k == -1) {
		header_list_add(&msg->hdrs, name, "");
		k = (long)msg->hdrs.n - 1;
	}
	header_list_set(&msg->hdrs, (size_t)k, value);
}

/*
 * A body that cannot travel as it is (a line over 998 octets, a NUL) is
 * re-encoded as quoted-printable, which loses nothing.  That is correct
 * for a non-MIME message and for a single-part MIME message in an
 * identity encoding; a multipart message would need its parts rewritten,
 * so it is refused.
 */
static int
choose_encoding(struct message *msg, struct error *err)
{
	const char	*ct, *cte;
	int		 mime = is_mime(msg);
	int		 utf8 = utf8_check_ok(&msg->stats.utf8);

	msg->enc = BODY_ASIS;
	if (msg->stats.maxline <= LINE_MAX_SMTP && !msg->stats.nul) {
		if (!mime && msg->stats.eightbit && utf8) {
			/* Declare what the 8-bit text is (UTF-8 is the only
			 * safe guess; other 8-bit text passes undeclared). */
			set_header(msg, "MIME-Version", "1.0");
			set_header(msg, "Content-Type",
			    "text/plain; charset=UTF-8");
			set_header(msg, "Content-Transfer-Encoding", "8bit");
		}
		return 0;
	}
	ct = message_header(msg, "Content-Type");
	cte = message_header(msg, "Content-Transfer-Encoding");
	if (mime && ((ct != NULL && (str_has_prefix_nocase(ct, "multipart/") ||
	    str_has_prefix_nocase(ct, "message/"))) || (cte != NULL &&
	    strcasecmp(cte, "7bit") != 0 && strcasecmp(cte, "8bit") != 0 &&
	    strcasecmp(cte, "binary") != 0))) {
		if (msg->stats.longline > 0)
			return error_set(err, EX_DATAERR, "line %lld of the "
			    "body is longer than %d octets, and the message "
			    "is MIME (%s): encode that part as "
			    "quoted-printable or base64",
			    (long long)msg->stats.longline, LINE_MAX_SMTP,
			    ct != NULL ? ct : cte);
		return error_set(err, EX_DATAERR, "the body holds a NUL byte, "
		    "and the message is MIME (%s): encode that part as "
		    "base64", ct != NULL ? ct : cte);
	}
	msg->enc = BODY_QP;
	if (!mime) {
		set_header(msg, "MIME-Version", "1.0");
		set_header(msg, "Content-Type", msg->stats.eightbit ?
		    (utf8 ? "text/plain; charset=UTF-8" :
		    "text/plain; charset=unknown-8bit") :
		    "text/plain; charset=US-ASCII");
	}
	set_header(msg, "Content-Transfer-Encoding", "quoted-printable");
	log_debug("body re-encoded as quoted-printable (%s)",
	    msg->stats.nul ? "NUL byte" : "line over 998 octets");
	return 0;
}

/*
 * Write a header field, folding any physical line over 998 octets at white
 * space (RFC 5322 2.2.3).  Fields we generate are short already.
 */
static int
add_field(struct buf *b, const struct header *h, struct error *err)
{
	const char	*s, *line, *end, *cut;
	size_t		 n, prefix;

	buf_addstr(b, h->name);
	buf_addch(b, ':');
	prefix = strlen(h->name) + 1;
	for (line = h->raw; ; line = end + 1) {
		end = strchr(line, '\n');
		n = end != NULL ? (size_t)(end - line) : strlen(line);
		while (prefix + n > LINE_MAX_SMTP) {
			/* Fold at the last WSP that fits (after column 1). */
			cut = NULL;
			for (s = line + 1; s < line + n &&
			    prefix + (size_t)(s - line) <= FOLD_AT * 12; s++)
				if ((*s == ' ' || *s == '\t') &&
				    prefix + (size_t)(s - line) <= LINE_MAX_SMTP)
					cut = s;
			if (cut == NULL)
				return error_set(err, EX_DATAERR, "header field "
				    "'%s' has a line longer than %d octets "
				    "that cannot be folded", h->name,
				    LINE_MAX_SMTP);
			buf_add(b, line, (size_t)(cut - line));
			buf_add(b, "\r\n", 2);
			n -= (size_t)(cut - line);
			line = cut;
			prefix = 0;
		}
		buf_add(b, line, n);
		buf_add(b, "\r\n", 2);
		prefix = 0;
		if (end == NULL)
			break;
	}
	return 0;
}

static int
serialise_head(struct message *msg, struct error *err)
{
	size_t	i;

	buf_reset(&msg->head);
	for (i = 0; i < msg->hdrs.n; i++)
		if (add_field(&msg->head, &msg->hdrs.v[i], err) == -1)
			return -1;
	buf_add(&msg->head, "\r\n", 2);
	return 0;
}

static char *
make_date(void)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed",
	    "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t		 now = time(NULL);
	struct tm	 tm;
	long		 off;

	/* RFC 5322 3.3, in English whatever the locale. */
	localtime_r(&now, &tm);
	off = tm.tm_gmtoff / 60;
	return xasprintf("%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}

static char *
make_msgid(const char *domain)
{
	unsigned char	 r[8];
	time_t		 now = time(NULL);
	struct tm	 tm;
	size_t		 i;
	char		 hex[17];

	if (util_random(r, sizeof(r)) == -1)
		for (i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)(rand() ^ (int)now);
	for (i = 0; i < sizeof(r); i++)
		snprintf(hex + 2 * i, 3, "%02x", r[i]);
	gmtime_r(&now, &tm);
	return xasprintf("<%04d%02d%02d%02d%02d%02d.%ld.%s@%s>",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (long)getpid(), hex,
	    domain != NULL ? domain : "localhost");
}

static char *
login_name(void)
{
	char	*n = util_login_name();

	return n != NULL ? n : xasprintf("uid%ld", (long)getuid());
}

/* The caller's full name from the password database, or NULL. */
static char *
gecos_name(void)
{
	struct passwd	*pw = getpwuid(getuid());
	char		*g;

	if (pw == NULL || pw->pw_gecos == NULL || *pw->pw_gecos == '\0')
		return NULL;
	g = xstrndup(pw->pw_gecos, strcspn(pw->pw_gecos, ","));
	if (*g == '\0' || mem_has_crlfnul(g, strlen(g))) {
		free(g);
		return NULL;
	}
	return g;
}
