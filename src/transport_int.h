/*
 * The transport's private parts, shared by its three files: transport.c
 * (the libcurl session: set-up, callbacks, the send), relayerr.c (what a
 * libcurl result and the relay's replies mean: exit code, class, step,
 * hints) and tls.c (certificate pinning).  Included by nothing else.
 */
#ifndef POSTIE_TRANSPORT_INT_H
#define POSTIE_TRANSPORT_INT_H

#include <curl/curl.h>

#ifdef HAVE_OPENSSL
#include <openssl/x509.h>
#endif

#include "outcome.h"
#include "progress.h"
#include "util.h"

struct envelope;
struct error;
struct message_reader;

#define REPLY_TEXT_MAX		1024	/* reply text kept per reply */
#define LINE_MAX_LEN		4096	/* RFC 5321 4.5.3.1.5 says 512 */
#define FP_LEN			32	/* SHA-256 */

/* The SMTP command the next reply answers. */
enum tstep {
	TS_GREETING,
	TS_EHLO,
	TS_HELO,
	TS_STARTTLS,
	TS_AUTH,
	TS_MAIL,
	TS_RCPT,
	TS_DATA,
	TS_BODY,	/* 354 seen: the data, then the final reply */
	TS_DOT,	/* the final reply came */
	TS_OTHER,
	TS_MAX
};

struct reply {
	int	 code;		/* 0: none */
	char	*text;		/* owned, NULL when none */
};

/* What one transport_send() learns; reset for every message. */
struct sendstate {
	enum tstep		 step;
	size_t			 nrcpt;		/* RCPT commands sent */
	struct outcome	*res;
	struct message_reader	*reader;
	struct error		 rderr;		/* the reader's failure */
	int			 rdfail;
	int			 body_eof;	/* all of the message was read */
	off_t			 size;		/* its size, or -1 */
	off_t			 nread;
	struct buf		 line;		/* partial reply line */
	int			 cur_code;	/* reply being assembled */
	struct buf		 cur_text;
	int			 cur_lines;
	struct reply		 rep[TS_MAX];	/* last reply per step */
	struct reply		 last;
	struct reply		 challenge;	/* AUTH's last 334: an OAuth2
						   server's error (oauth2.h) */
	int			 in_auth;	/* AUTH exchange in progress */
	int			 tls_up;	/* STARTTLS answered 220 */
	int			 ehlo_auth;	/* last EHLO listed AUTH */
	int			 quitting;	/* QUIT sent: step is frozen */
	struct error		 abort;		/* our own reason to stop */
	int			 aborted;
	size_t			 data_bytes;	/* for the -v trace */
	off_t			 sent;		/* message octets on the wire */
	struct buf		 trace;
	/* The wait in progress (see the *_TIMEOUT values in transport.c):
	 * since when (monotonic seconds), for how long, for what; and the
	 * wait that ran out, which ended the transfer. */
	double			 wait_since;
	int			 wait_limit;	/* 0: not waiting */
	const char		*wait_what;
	const char		*expired;
	curl_off_t		 ul_seen;	/* libcurl's upload count */
};

/* Each wait's limit in seconds (RFC 5321 4.5.3.2, or "timeout N"). */
struct timeouts {
	int	 connect, greeting, command, data_init, data_block, data_done;
};

struct transport {
	CURL		*curl;
	char		*url;
	char		*host;		/* the relay, for messages */
	char		*tlsname;	/* the name the certificate is for */
	char		*where;		/* "host:port", for messages */
	struct curl_slist *connect_to;
	int		 implicit_tls;
	int		 starttls;
	int		 port;
	int		 nxdomain;	/* the relay name does not exist */
	char		*nopass;	/* the user, when no password is
					   configured */
	int		 silent465;	/* port 465 never greeted a client
					   that waits for a greeting */
	int		 fresh;		/* the last send failed: never reuse
					   its connection */
	int		 auth;		/* credentials are configured */
	int		 verbose;
	int		 fp_cert;	/* a certificate fingerprint is set */
	unsigned char	 fp[FP_LEN];
	int		 fp_ok;		/* this connection's cert matched */
	int		 fp_bad;
	char		 fp_seen[FP_LEN * 3];
	char		 errbuf[CURL_ERROR_SIZE];
	struct sendstate st;
	struct progress	 prog;
	int		 prog_on;	/* draw the progress line */
	int		 interrupted;	/* cut off by a signal */
	struct timeouts	 tmo;
	/* OAuth2 (oauth2.h): the account, the bearer token in use (a
	 * secret) and whether it was renewed after a 535 already */
	const struct account *oauth2_acct;	/* borrowed */
	char		*bearer;
	int		 renewed;
	char		*proxy;		/* CURLOPT_PROXY of proxy_host */
	char		*iface;		/* CURLOPT_INTERFACE of source_ip */
};

/* curl_easy_setopt() while rc is CURLE_OK (a CURLcode rc in scope). */
#define SETOPT(t, opt, val) do {					\
	if (rc == CURLE_OK)						\
		rc = curl_easy_setopt((t)->curl, (opt), (val));		\
} while (0)

/* transport.c, for probe.c */
CURLcode perform(struct transport *, struct outcome *,
	    struct message_reader *, off_t);
int	renew_bearer(struct transport *);
int	on_debug(CURL *, curl_infotype, char *, size_t, void *);

/* relayerr.c */
int	security_failed(const struct transport *, CURLcode);
enum outcome_step public_step(enum tstep);
char	*setup_hint(const struct transport *, CURLcode);
char	*server_id(const char *);
int	name_missing(const char *);
void	classify(const struct transport *, CURLcode, struct outcome *,
	    const struct error *);
int	interpret(struct transport *, CURLcode, const struct envelope *,
	    struct outcome *, struct error *);
void	finish_accepted(struct outcome *, enum rcpt_state,
	    const struct reply *);
const char *reply_str(const struct reply *, char *, size_t);

/* tls.c */
int	parse_fingerprint(struct transport *, const char *, const char **,
	    struct error *);
#ifdef HAVE_OPENSSL
extern int fp_index;	/* our SSL_CTX ex_data slot */
int	fp_verify(int, X509_STORE_CTX *);
CURLcode on_sslctx(CURL *, void *, void *);
#endif

#endif
