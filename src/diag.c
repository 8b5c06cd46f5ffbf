/*
 * The diagnostics of diag.h: one probe of the relay through the
 * transport (so the connection, TLS and AUTH are a send's), and the
 * report of what it saw, worded for a person setting postie up.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "diag.h"
#include "error.h"
#include "outcome.h"
#include "transport.h"
#include "util.h"
#include "xmalloc.h"

#define EHLO_LINES_MAX	200	/* lines of one EHLO reply looked at */

static const char *const probe_cmds[] = { NULL, "VRFY", "EXPN", "HELP" };

/* An SMTP reply line "NNN-text" or "NNN text": its code, else 0. */
static int
line_code(const char *l)
{
	if (l[0] < '2' || l[0] > '5' || !isdigit((unsigned char)l[1]) ||
	    !isdigit((unsigned char)l[2]) ||
	    (l[3] != '\0' && l[3] != ' ' && l[3] != '-'))
		return 0;
	return (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
}

static const char *
line_text(const char *l)
{
	return l[3] != '\0' ? l + 4 : "";
}

static void
upper(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)toupper((unsigned char)*s);
}

/* One keyword libcurl 7.88.1 compares case-sensitively, written otherwise. */
static void
case_note(struct diag_ehlo *e, const char *kw, size_t len, const char *want)
{
	if (strncmp(kw, want, len) == 0)
		return;
	strlist_add_owned(&e->notes, xasprintf("the server offers '%.*s' "
	    "in lower or mixed case: libcurl 7.88.1 only recognises '%s' "
	    "and will act as if it were not offered", (int)len, kw, want));
}

void
diag_ehlo_parse(const char *const *lines, size_t n, struct diag_ehlo *e)
{
	const char	*t, *p;
	char		*mech, *end;
	size_t		 i, kwlen, mlen;
	int		 exact_auth = 0, any_auth = 0;

	memset(e, 0, sizeof(*e));
	if (n == 0 || line_code(lines[0]) != 250)
		return;
	e->domain = xstrdup(line_text(lines[0]));
	for (i = 1; lines[0][3] == '-' && i < n && i < EHLO_LINES_MAX; i++) {
		if (line_code(lines[i]) != 250)
			break;
		t = line_text(lines[i]);
		if (*t == '\0')
			continue;	/* smtp-sink ends with a bare "250" */
		strlist_add(&e->caps, t);
		kwlen = strcspn(t, " =");
		if (kwlen == 4 && strncasecmp(t, "AUTH", 4) == 0) {
			any_auth = 1;
			if (strncmp(t, "AUTH ", 5) == 0)
				exact_auth = 1;
			for (p = t + 4; *p != '\0'; p += mlen) {
				p += strspn(p, " =");
				mlen = strcspn(p, " ");
				if (mlen == 0)
					break;
				mech = xstrndup(p, mlen);
				upper(mech);
				if (!strlist_contains(&e->auth, mech))
					strlist_add(&e->auth, mech);
				free(mech);
			}
		} else if (kwlen == 8 && strncasecmp(t, "STARTTLS", 8) == 0) {
			e->starttls = 1;
			case_note(e, t, kwlen, "STARTTLS");
		} else if (kwlen == 4 && strncasecmp(t, "SIZE", 4) == 0) {
			case_note(e, t, kwlen, "SIZE");
			e->size = -1;
			if (t[4] == ' ') {
				errno = 0;
				e->size = strtoll(t + 5, &end, 10);
				if (errno != 0 || end == t + 5 || e->size < 0)
					e->size = -1;
			}
		} else if (kwlen == 8 && strncasecmp(t, "SMTPUTF8", 8) == 0)
			case_note(e, t, kwlen, "SMTPUTF8");
		if (lines[i][3] != '-')
			break;	/* the last line */
	}
	if (any_auth && !exact_auth)
		strlist_add(&e->notes, "the server offers AUTH only in a form "
		    "libcurl 7.88.1 does not recognise (it needs a line "
		    "'AUTH mechanism...' in upper case): postie cannot log "
		    "in to it");
}

void
diag_ehlo_release(struct diag_ehlo *e)
{
	if (e == NULL)
		return;
	free(e->domain);
	strlist_release(&e->caps);
	strlist_release(&e->auth);
	strlist_release(&e->notes);
	memset(e, 0, sizeof(*e));
}

int
diag_reply_exitcode(enum diag_command cmd, int code)
{
	if (code / 100 == 2)
		return EX_OK;
	if ((cmd == DIAG_VERIFY || cmd == DIAG_EXPAND) &&
	    (code == 550 || code == 551 || code == 553))
		return EX_NOUSER;
	if (code / 100 != 4 && code / 100 != 5)
		return EX_PROTOCOL;
	/* 0: CURLE_OK, so the reply code alone decides */
	return transport_exitcode(0, code);
}

/*
 * The dialogue's pieces.  Commands are "-> X", reply lines "<- X".
 * reply_after(): the reply lines that follow command index i (or the
 * greeting, for i == (size_t)-1), as pointers past "<- ".
 */
static size_t
reply_after(const struct strlist *d, size_t i, const char **out, size_t max)
{
	size_t	j, n = 0;

	for (j = i == (size_t)-1 ? 0 : i + 1; j < d->n; j++) {
		if (strncmp(d->v[j], "<- ", 3) != 0)
			break;
		if (n < max)
			out[n++] = d->v[j] + 3;
	}
	return n;
}

/* The index of the last command starting with cmd, or (size_t)-1. */
static size_t
last_command(const struct strlist *d, const char *cmd)
{
	size_t	i, len = strlen(cmd);

	for (i = d->n; i > 0; i--)
		if (strncmp(d->v[i - 1], "-> ", 3) == 0 &&
		    strncasecmp(d->v[i - 1] + 3, cmd, len) == 0)
			return i - 1;
	return (size_t)-1;
}

static void
add_esc(struct buf *out, const char *s)
{
	buf_add_escaped(out, s, strlen(s));
}

/* A certificate's item ("Subject:CN = x") without its name, or NULL. */
static const char *
cert_item(const struct transport_cert *c, const char *name)
{
	size_t	i, len = strlen(name);

	for (i = 0; i < c->info.n; i++)
		if (strncmp(c->info.v[i], name, len) == 0 &&
		    c->info.v[i][len] == ':')
			return c->info.v[i] + len + 1;
	return NULL;
}

static void
format_certs(const struct transport_probe *p, struct buf *out)
{
	const struct transport_cert	*c;
	const char			*v, *w;
	size_t				 i;

	for (i = 0; i < p->ncerts; i++) {
		c = &p->certs[i];
		buf_printf(out, "Certificate %zu of %zu%s:\n", i + 1,
		    p->ncerts, i == 0 ? " (the server's)" : "");
		if ((v = cert_item(c, "Subject")) != NULL) {
			buf_addstr(out, "    Subject: ");
			add_esc(out, v);
			buf_addch(out, '\n');
		}
		if ((v = cert_item(c, "X509v3 Subject Alternative Name")) !=
		    NULL) {
			buf_addstr(out, "    Names: ");
			add_esc(out, v);
			buf_addch(out, '\n');
		}
		if ((v = cert_item(c, "Issuer")) != NULL) {
			buf_addstr(out, "    Issuer: ");
			add_esc(out, v);
			buf_addch(out, '\n');
		}
		v = cert_item(c, "Start date");
		w = cert_item(c, "Expire date");
		if (v != NULL && w != NULL) {
			buf_addstr(out, "    Valid: ");
			add_esc(out, v);
			buf_addstr(out, " to ");
			add_esc(out, w);
			buf_addch(out, '\n');
		}
		if (c->sha256 != NULL)
			buf_printf(out, "    SHA-256 fingerprint: %s\n",
			    c->sha256);
	}
	if (p->ncerts > 0 && p->certs[0].sha256 != NULL)
		buf_printf(out, "    (to pin it: tls_fingerprint %s)\n",
		    p->certs[0].sha256);
}

static void
format_ehlo(const struct transport_probe *p, struct buf *out)
{
	const char		*lines[EHLO_LINES_MAX];
	struct diag_ehlo	 e;
	size_t			 i, n, at, helo, tls_at;
	int			 after_tls;

	/* the later one: libcurl falls back to HELO after a refused EHLO */
	at = last_command(&p->dialogue, "EHLO ");
	helo = last_command(&p->dialogue, "HELO ");
	if (helo != (size_t)-1 && (at == (size_t)-1 || helo > at))
		at = helo;
	if (at == (size_t)-1)
		return;
	tls_at = last_command(&p->dialogue, "STARTTLS");
	after_tls = tls_at != (size_t)-1 && tls_at < at;
	n = reply_after(&p->dialogue, at, lines, EHLO_LINES_MAX);
	diag_ehlo_parse(lines, n, &e);
	if (n > 0 && e.domain == NULL) {
		buf_addstr(out, at == helo ? "EHLO and HELO refused: " :
		    "EHLO refused: ");
		add_esc(out, lines[n - 1]);
		buf_addch(out, '\n');
		diag_ehlo_release(&e);
		return;
	}
	if (at == helo) {
		buf_addstr(out, "Capabilities: none (EHLO refused, HELO "
		    "accepted: no ESMTP, so no TLS, AUTH or SIZE)\n");
		diag_ehlo_release(&e);
		return;
	}
	buf_printf(out, "Capabilities%s:\n", after_tls ?
	    " (after STARTTLS)" : p->implicit_tls ? " (over TLS)" : "");
	for (i = 0; i < e.caps.n; i++) {
		buf_addstr(out, "    ");
		add_esc(out, e.caps.v[i]);
		buf_addch(out, '\n');
	}
	if (e.size > 0)
		buf_printf(out, "Maximum message size: %lld bytes (%.1f MiB)\n",
		    e.size, (double)e.size / (1024.0 * 1024.0));
	buf_addstr(out, "Authentication mechanisms:");
	for (i = 0; i < e.auth.n; i++) {
		buf_addch(out, ' ');
		add_esc(out, e.auth.v[i]);
	}
	buf_addstr(out, e.auth.n == 0 ? " none offered\n" : "\n");
	if (!after_tls && !p->implicit_tls && !p->starttls && e.starttls)
		buf_addstr(out, "Note: the server offers STARTTLS, but this "
		    "account does not use it (tls on, tls_starttls on)\n");
	for (i = 0; i < e.notes.n; i++) {
		buf_addstr(out, "Note: ");
		add_esc(out, e.notes.v[i]);
		buf_addch(out, '\n');
	}
	diag_ehlo_release(&e);
}

static void
format_login(const struct transport_probe *p, const struct account *a,
    struct buf *out)
{
	const char	*lines[8], *mech;
	size_t		 at, j, n, mlen;
	int		 code = 0;

	if (!p->auth) {
		buf_addstr(out, "Login: none configured (no 'auth' in the "
		    "account)\n");
		return;
	}
	at = last_command(&p->dialogue, "AUTH ");
	if (at == (size_t)-1) {
		buf_addstr(out, "Login: not tried (the probe stopped before "
		    "it)\n");
		return;
	}
	mech = p->dialogue.v[at] + 8;
	mlen = strcspn(mech, " ");
	/* the final reply: after the last SASL line of the exchange */
	for (j = at; j < p->dialogue.n; j++) {
		if (strncmp(p->dialogue.v[j], "<- ", 3) == 0 &&
		    line_code(p->dialogue.v[j] + 3) != 334) {
			n = reply_after(&p->dialogue, j - 1, lines, 8);
			code = n > 0 ? line_code(lines[n - 1]) : 0;
			break;
		}
	}
	if (code / 100 == 2 && a != NULL && a->user != NULL &&
	    *a->user != '\0') {
		buf_addstr(out, "Login: accepted for user '");
		add_esc(out, a->user);
		buf_printf(out, "' (AUTH %.*s)\n", (int)mlen, mech);
	} else if (code / 100 == 2)
		buf_printf(out, "Login: accepted (AUTH %.*s)\n", (int)mlen,
		    mech); else if (code != 0) {
		buf_printf(out, "Login: REFUSED (AUTH %.*s): ", (int)mlen,
		    mech);
		add_esc(out, p->dialogue.v[j] + 3);
		buf_addch(out, '\n');
	} else
		buf_addstr(out, "Login: no answer\n");
}

void
diag_format(const struct transport_probe *p, enum diag_command cmd,
    const struct account *a, struct buf *out)
{
	const char	*lines[EHLO_LINES_MAX];
	size_t		 i, n, at;

	if (cmd != DIAG_SERVER_INFO) {
		at = last_command(&p->dialogue, probe_cmds[cmd] != NULL ?
		    probe_cmds[cmd] : "NOOP");
		if (at == (size_t)-1)
			return;
		n = reply_after(&p->dialogue, at, lines, EHLO_LINES_MAX);
		for (i = 0; i < n; i++) {
			add_esc(out, lines[i]);
			buf_addch(out, '\n');
		}
		return;
	}
	buf_printf(out, "Relay: %s", p->relay != NULL ? p->relay : "?");
	if (a != NULL && a->name != NULL) {
		buf_addstr(out, " (account '");
		add_esc(out, a->name);
		buf_addstr(out, "')");
	}
	buf_addch(out, '\n');
	n = reply_after(&p->dialogue, (size_t)-1, lines, EHLO_LINES_MAX);
	if (n == 0 && p->dialogue.n == 0)
		return;
	for (i = 0; i < n; i++) {
		buf_addstr(out, i == 0 ? "Greeting: " : "          ");
		add_esc(out, lines[i]);
		buf_addch(out, '\n');
	}
	if (p->tls != NULL) {
		buf_addstr(out, "TLS: ");
		add_esc(out, p->tls);
		buf_addstr(out, p->implicit_tls ? " (from the start)\n" :
		    " (STARTTLS)\n");
	} else if (!p->implicit_tls && !p->starttls)
		buf_addstr(out, "TLS: none (tls off): the login and the mail "
		    "go in clear text\n");
	format_certs(p, out);
	format_ehlo(p, out);
	if (last_command(&p->dialogue, "EHLO ") != (size_t)-1 ||
	    last_command(&p->dialogue, "HELO ") != (size_t)-1)
		format_login(p, a, out);
}

/* A step's own advice when the transport has none (a RETRY failure). */
static const char *
step_hint(const struct transport_probe *p)
{
	switch (p->res.step) {
	case STEP_CONNECT:
		return "check 'host' and 'port', and that the relay is up and "
		    "reachable from this machine";
	case STEP_GREETING:
		if (p->res.smtp_code / 100 == 4)
			return "the relay is busy or refusing connections for "
			    "now: try again later";
		return "check 'port' and 'tls_starttls': the relay may expect "
		    "another protocol on this port";
	default:
		if (p->res.smtp_code / 100 == 4)
			return "a temporary refusal: try again later";
		return NULL;
	}
}

char *
diag_failure_line(const struct transport_probe *p, const char *msg)
{
	struct buf	 b = BUF_INIT;
	const char	*hint = p->res.hint != NULL ? p->res.hint :
			    step_hint(p);
	static const char prefix[] = "cannot send to ";

	if (msg == NULL)
		msg = "the probe failed";
	if (strncmp(msg, prefix, sizeof(prefix) - 1) == 0)
		msg += sizeof(prefix) - 1;	/* "host:port: why" */
	buf_addstr(&b, msg);
	if (hint != NULL) {
		buf_addstr(&b, "; ");
		buf_addstr(&b, hint);
	}
	return buf_detach(&b);
}

/* The answer to VRFY/EXPN/HELP (a probe that got as far as that). */
static int
answer(const struct transport_probe *p, enum diag_command cmd,
    const char *arg, struct error *err)
{
	const char	*lines[EHLO_LINES_MAX];
	struct buf	 b = BUF_INIT;
	size_t		 at, n = 0;
	int		 code = diag_reply_exitcode(cmd, p->code);

	if (code == EX_OK)
		return 0;
	at = last_command(&p->dialogue, probe_cmds[cmd]);
	if (at != (size_t)-1)
		n = reply_after(&p->dialogue, at, lines, EHLO_LINES_MAX);
	if (n > 0)
		buf_add_escaped(&b, lines[n - 1], strlen(lines[n - 1]));
	else
		buf_printf(&b, "%d", p->code);
	if (code == EX_NOUSER)
		error_set(err, code, "%s: %s %s: %s: the relay knows no such "
		    "%s", p->relay, probe_cmds[cmd], arg != NULL ? arg : "",
		    buf_str(&b), cmd == DIAG_VERIFY ? "address" : "list");
	else if (p->code == 500 || p->code == 502 || p->code == 504)
		error_set(err, code, "%s: %s: %s: the relay does not offer "
		    "%s%s", p->relay, probe_cmds[cmd], buf_str(&b),
		    probe_cmds[cmd], cmd == DIAG_HELP ? "" : " (many turn it "
		    "off against address harvesting)");
	else if (code == EX_TEMPFAIL)
		error_set(err, code, "%s: %s: %s: a temporary refusal: try "
		    "again later", p->relay, probe_cmds[cmd], buf_str(&b));
	else
		error_set(err, code, "%s: %s refused: %s", p->relay,
		    probe_cmds[cmd], buf_str(&b));
	buf_release(&b);
	return -1;
}

/*
 * After a certificate that failed verification, the chain is fetched
 * once more without verifying it and without logging in (no credentials
 * go to a server that may not be the relay), so that the user sees what
 * the server presents: the CA to trust or the fingerprint to pin, to be
 * compared with one obtained another way.
 */
static void
untrusted_chain(const struct account *a, int verbose, struct buf *out)
{
	struct account		 b = *a;	/* shallow: only borrowed */
	struct transport	*t;
	struct transport_probe	 p;
	struct error		 err = ERROR_INIT;

	b.tls_certcheck = 0;
	b.tls_fingerprint = NULL;
	b.auth = NULL;
	b.user = NULL;
	b.password = NULL;
	b.passwordeval = NULL;
	b.oauth2_token_file = NULL;
	if ((t = transport_new(&b, verbose, &err)) == NULL) {
		error_release(&err);
		return;
	}
	(void)transport_probe(t, NULL, NULL, &p, &err);
	transport_free(t);
	if (p.ncerts > 0) {
		buf_addstr(out, "The certificate chain, NOT VERIFIED (fetched "
		    "again without checks and without logging in; compare "
		    "the fingerprint with one obtained another way before "
		    "you pin it or trust its CA):\n");
		format_certs(&p, out);
	}
	error_release(&err);
	transport_probe_release(&p);
}

int
diag_run(const struct account *a, enum diag_command cmd, const char *arg,
    int verbose, struct error *err)
{
	struct transport	*t;
	struct transport_probe	 p;
	struct buf		 out = BUF_INIT;
	struct error		 perr = ERROR_INIT;
	char			*line;
	int			 rv;

	if (a->host == NULL)
		return error_set(err, EX_CONFIG, "account '%s' has no relay "
		    "host (it delivers locally): nothing to ask; set 'host' "
		    "or name another account with --account", a->name);
	if ((t = transport_new(a, verbose, err)) == NULL)
		return -1;
	rv = transport_probe(t, probe_cmds[cmd], arg, &p, &perr);
	transport_free(t);
	diag_format(&p, cmd, a, &out);
	if (rv == -1 && p.untrusted && cmd == DIAG_SERVER_INFO)
		untrusted_chain(a, verbose, &out);
	if (out.len > 0 && (fwrite(out.data, 1, out.len, stdout) != out.len ||
	    fflush(stdout) == EOF) && rv == 0)
		rv = error_set_errno(&perr, EX_IOERR, "cannot write the "
		    "report");
	buf_release(&out);
	if (perr.code == EX_IOERR || perr.code == EX_USAGE) {
		error_set(err, perr.code, "%s", perr.msg);
		rv = -1;
	} else if (p.answered && cmd != DIAG_SERVER_INFO)
		rv = answer(&p, cmd, arg, err);
	else if (rv == -1) {
		line = diag_failure_line(&p, perr.msg);
		error_set(err, perr.code != EX_OK ? perr.code : EX_SOFTWARE,
		    "%s", line);
		free(line);
	}
	error_release(&perr);
	transport_probe_release(&p);
	return rv;
}
