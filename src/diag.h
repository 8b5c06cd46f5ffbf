/*
 * The diagnostics a new user runs to test a set-up without sending mail:
 * --server-info (msmtp's --serverinfo), --verify ADDR (VRFY),
 * --expand LIST (EXPN) and --server-help (HELP).  The connection, TLS and
 * AUTH are the transport's (transport_probe()), so a diagnostic succeeds
 * or fails exactly where a send through the same account would, with the
 * same exit code; this module only words the report.
 */
#ifndef POSTIE_DIAG_H
#define POSTIE_DIAG_H

#include <stddef.h>

#include "util.h"

struct account;
struct error;
struct transport_probe;

enum diag_command {
	DIAG_SERVER_INFO = 0,	/* greeting, EHLO, TLS, certificates, login */
	DIAG_VERIFY,		/* VRFY ADDR */
	DIAG_EXPAND,		/* EXPN LIST */
	DIAG_HELP		/* HELP [TOPIC] */
};

/* What an EHLO reply offers (diag_ehlo_parse()). */
struct diag_ehlo {
	char		*domain;	/* the first line's text; owned */
	struct strlist	 caps;		/* one per further line, as sent */
	struct strlist	 auth;		/* AUTH mechanisms, upper-cased, each
					   once (from "AUTH x y" and the old
					   "AUTH=x y") */
	int		 starttls;	/* STARTTLS offered */
	long long	 size;		/* SIZE limit; 0 none or unlimited,
					   -1 SIZE without a number */
	struct strlist	 notes;		/* what libcurl 7.88.1 will miss
					   (a keyword not in upper case) */
};

/*
 * Parse one EHLO reply: lines "250-domain", "250-KEYWORD params", ...,
 * "250 LAST" (reply code and separator included, no CRLF).  A reply that
 * is not 250 gives an empty result.  Keywords are matched without regard
 * to case (RFC 5321 2.4); one libcurl 7.88.1 would not see because it is
 * not in upper case (AUTH, SIZE, STARTTLS, SMTPUTF8) adds a note.  e is
 * initialised here; free it with diag_ehlo_release().  Pure.
 */
void	diag_ehlo_parse(const char *const *lines, size_t n,
	    struct diag_ehlo *e);
void	diag_ehlo_release(struct diag_ehlo *);

/*
 * The exit code of the server's reply to a diagnostic command (VRFY,
 * EXPN, HELP, NOOP): 0 for 2xx (252 "cannot verify, will accept"
 * included), EX_NOUSER for 550, 551 and 553 to VRFY or EXPN (no such
 * user or list, as a refused RCPT), and otherwise transport_exitcode()'s
 * (EX_TEMPFAIL for 4xx, EX_UNAVAILABLE for 5xx: 502 is "not
 * implemented").  Pure.
 */
int	diag_reply_exitcode(enum diag_command, int code);

/*
 * The report of a probe, appended to out: for --server-info the relay,
 * the greeting, TLS version and cipher, the certificate chain with
 * SHA-256 fingerprints, the EHLO capabilities (those after STARTTLS, when
 * there was one), the AUTH mechanisms and whether the login worked; for
 * the other commands the server's reply lines.  Only what the probe saw
 * is reported: a probe that failed half-way reports the steps it passed.
 * acct names the relay and user.  Pure.
 */
void	diag_format(const struct transport_probe *, enum diag_command,
	    const struct account *, struct buf *out);

/*
 * The one line a human can act on after a failed probe, allocated: the
 * transport's error (its "cannot send to X:" worded for a probe), then
 * what to change: the transport's hint for a set-up failure (certificate,
 * STARTTLS, AUTH), else one for the step that failed (connect, greeting,
 * a 4xx).  Pure.
 */
char	*diag_failure_line(const struct transport_probe *, const char *msg);

/*
 * Run a diagnostic against the account's relay (which must have a host)
 * and print its report on stdout; arg is the address (VRFY), the list
 * (EXPN) or an optional topic (HELP).  Nothing is sent as mail.  Returns
 * 0 only when it worked: connected, TLS and login as configured, and a
 * 2xx to the command.  Otherwise -1 with err set to the code of what
 * failed, as a send through the account would exit (EX_NOHOST the relay
 * name does not exist, EX_UNAVAILABLE TLS or certificate refused or a
 * 5xx, EX_NOPERM the login refused, EX_TEMPFAIL the relay down, busy or
 * a 4xx, EX_CONFIG the account's settings, EX_NOUSER VRFY/EXPN: no such
 * user), its message diag_failure_line()'s.
 */
int	diag_run(const struct account *, enum diag_command, const char *arg,
	    int verbose, struct error *);

#endif
