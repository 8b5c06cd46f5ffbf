/*
 * SMTP delivery through libcurl, to the account's relay: transport.c (the
 * session), relayerr.c (what a result means), tls.c (certificate pins).
 * With http.c the only module that includes <curl/curl.h>.
 */
#ifndef POSTIE_TRANSPORT_H
#define POSTIE_TRANSPORT_H

#include <sys/types.h>

#include "outcome.h"
#include "util.h"

struct account;
struct buf;
struct envelope;
struct error;
struct message_reader;

/*
 * Declare that this process will speak no TLS (a single send through an
 * account with "tls off"): OpenSSL is then set up without parsing the
 * system openssl.cnf.  Call before the first transport_new(); a TLS
 * account afterwards is refused (EX_SOFTWARE), so a process that may
 * meet several accounts (the queue runner) must not call it.
 */
void	transport_plain_only(void);


/* One relay connection set-up, reusable for several messages. */
struct transport;

/*
 * Prepare a transport for the account (which must have a host): TLS
 * settings checked, the password resolved (passwordeval runs here; with
 * oauth2_token_file and auth xoauth2/oauthbearer, oauth2_token() gets the
 * bearer token, refreshing it when it is about to expire).
 * Errors: EX_CONFIG (bad TLS/auth settings, passwordeval failed, the
 * token file refused), EX_NOPERM (the OAuth2 grant refused), EX_TEMPFAIL
 * (the token endpoint unreachable), EX_SOFTWARE (libcurl init).
 */
struct transport *transport_new(const struct account *, int verbose,
	    struct error *);

/*
 * Send one message over the transport (the connection is kept for the
 * next call).  size is the exact message size or -1.  res must have been
 * initialised for the envelope's recipients; each is set.  Returns 0 when
 * the message was delivered to at least one recipient (rejected ones are
 * in res and reported with log_warnx), -1 otherwise, with err set:
 *   EX_TEMPFAIL   connect refused/timed out, 4xx anywhere, lost connection
 *   EX_NOHOST     the relay's name does not resolve
 *   EX_NOUSER     every recipient refused with 5xx
 *   EX_UNAVAILABLE 5xx at greeting, MAIL, DATA or after the final "."; TLS
 *                 required but unavailable or the certificate not trusted
 *   EX_NOPERM     authentication refused
 *   EX_PROTOCOL   unintelligible server reply
 * The message names the SMTP step and quotes the server's reply.
 */
int	transport_send(struct transport *, const struct envelope *,
	    struct message_reader *, off_t size, struct outcome *,
	    struct error *);

void	transport_free(struct transport *);

/* One certificate of the relay's chain, as a probe saw it. */
struct transport_cert {
	struct strlist	 info;		/* libcurl's "Name:value" items
					   (Subject, Issuer, Start date, Expire
					   date...), the PEM left out */
	char		*sha256;	/* "AB:CD:..." of the DER certificate,
					   NULL when it could not be computed */
};

/* What transport_probe() saw; all owned, freed by
 * transport_probe_release(). */
struct transport_probe {
	char		*relay;		/* "host:port" */
	struct strlist	 dialogue;	/* every line in order: "-> EHLO x"
					   for a command (SASL data and
					   initial responses redacted),
					   "<- 250-SIZE 1000" for a reply line */
	char		*tls;		/* "TLSv1.3 / TLS_AES_..." or NULL */
	int		 implicit_tls;	/* TLS from the start (smtps) */
	int		 starttls;	/* TLS through STARTTLS */
	struct transport_cert *certs;	/* the chain, server's first */
	size_t		 ncerts;
	int		 auth;		/* credentials configured: AUTH ran */
	int		 untrusted;	/* the certificate failed verification
					   (chain, name or date) */
	int		 answered;	/* the probe command got a reply */
	int		 code;		/* ... its code (0 none) */
	struct outcome	 res;		/* a failure's class, step, exit code,
					   reply and hint (no recipients) */
};

/*
 * Connect as transport_send() would (TLS, certificate checks and AUTH as
 * configured), then send one command instead of a message and QUIT:
 * "NOOP" when cmd is NULL, else cmd ("VRFY", "EXPN", "HELP") with arg
 * (may be NULL for HELP).  The certificate chain is gathered.  p is
 * initialised here and filled as far as the dialogue got, also on
 * failure.  Returns 0 when the command got a 2xx (or 252), -1 otherwise
 * with err and p->res set as transport_send() sets them (same codes);
 * when p->answered, the failure is the server's answer to the command.
 * Errors also: EX_USAGE for an argument with CR, LF or NUL.
 */
int	transport_probe(struct transport *, const char *cmd, const char *arg,
	    struct transport_probe *p, struct error *);
void	transport_probe_release(struct transport_probe *);

/*
 * The sysexits code for a libcurl result and the last SMTP reply code
 * (0 when there was none).  Pure; unit-tested as a table.
 */
int	transport_exitcode(int curlcode, long smtp_code);

/*
 * The failure class of a failed transaction (outcome.h) from its
 * sysexits code and whether the relay's security set-up failed (setup:
 * certificate, pin, STARTTLS, AUTH refused or none usable): PERMANENT
 * for a refused recipient list or a bad message (EX_NOUSER, EX_DATAERR,
 * EX_USAGE, EX_NOINPUT), else SETUP when setup, else PERMANENT for
 * EX_UNAVAILABLE (5xx), else RETRY.  Pure;
 * the transport sets the class with it where it fails.
 */
enum outcome_class transport_class(int exitcode, int setup);

/*
 * The -v trace form of one command line the client sent (line holds no
 * CRLF), appended to out: SASL data never appears.  An AUTH command with
 * an initial response becomes "AUTH PLAIN <redacted>", and every line
 * sent while an AUTH exchange is in progress (in_auth: after AUTH and
 * before the server's final reply to it) becomes "<redacted>".  Returns
 * 1 when the line starts or continues an AUTH exchange, else 0.  Pure.
 */
int	transport_redact(const char *line, size_t len, int in_auth,
	    struct buf *out);

#endif
