/*
 * SMTP delivery through libcurl: one easy handle per relay, the envelope
 * and the streamed message handed to libcurl, and every server reply
 * parsed on the side so that each recipient gets its own outcome.
 */
#include "autoconfig.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#ifdef HAVE_OPENSSL
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#endif

#include "config.h"
#include "error.h"
#include "log.h"
#include "message.h"
#include "interrupt.h"
#include "oauth2.h"
#include "progress.h"
#include "transport.h"
#include "transport_int.h"
#include "secret.h"
#include "util.h"
#include "xmalloc.h"

/*
 * How long each reply may take when the account sets no "timeout": RFC
 * 5321 4.5.3.2's client values.  EHLO, STARTTLS and AUTH have none there;
 * they get MAIL's.  Connecting is not in the RFC: 30 s, as most MTAs.
 * With "timeout N" in the config, every wait is N.  libcurl 7.88.1 has
 * one timeout for the whole connection set-up and one per reply, so
 * each wait is timed by on_progress() (called at least once a second),
 * and libcurl's own timeouts are only the backstop.
 */
#define CONNECT_TIMEOUT		30	/* TCP connect */
#define GREETING_TIMEOUT	300	/* 4.5.3.2.1 the 220 */
#define COMMAND_TIMEOUT		300	/* 4.5.3.2.2-3 MAIL, RCPT; EHLO ... */
#define DATA_INIT_TIMEOUT	120	/* 4.5.3.2.4 the 354 */
#define DATA_BLOCK_TIMEOUT	180	/* 4.5.3.2.5 each block sent */
#define DATA_DONE_TIMEOUT	600	/* 4.5.3.2.6 the reply to "." */

/* The waits on_progress() tells apart (and the words for them). */
static const char	W_CONNECT[] = "not connected";
static const char	W_GREETING[] = "no greeting";
static const char	W_BLOCK[] = "the relay stopped taking the message";
static const char	W_DONE[] = "no reply to the end of the data";

static int	curl_users;	/* transports alive: curl_global_init once */
static int	plain_only;	/* transport_plain_only() was called */

static int	global_init(struct error *);
static int	auth_options(const struct account *, const char **,
		    struct error *);
static int	valid_host(const char *);
static char	*bracket(const char *);
static int	setup(struct transport *, const struct account *,
		    struct error *);
static void	reply_set(struct reply *, int, const char *);
static void	reply_clear(struct reply *);
static void	state_reset(struct sendstate *);
static double	now_mono(void);
static void	wait_for(struct transport *, const char *, int);
static void	state_release(struct sendstate *);
static size_t	on_header(char *, size_t, size_t, void *);
static void	reply_line(struct transport *, const char *, size_t);
static void	reply_done(struct transport *, int, const char *);
static void	note_command(struct transport *, const char *, size_t);
static void	trace_flush(struct transport *);
static size_t	on_read(char *, size_t, size_t, void *);
static int	on_progress(void *, curl_off_t, curl_off_t, curl_off_t,
		    curl_off_t);

int
transport_redact(const char *line, size_t len, int in_auth, struct buf *out)
{
	size_t	i, mech_end;

	if (in_auth) {
		buf_addstr(out, "<redacted>");
		return 1;
	}
	if (len >= 5 && strncasecmp(line, "AUTH ", 5) == 0) {
		/* "AUTH" SP mechanism [SP initial-response] (RFC 4954 4) */
		for (i = 5; i < len && line[i] == ' '; i++)
			;
		mech_end = i;
		while (mech_end < len && line[mech_end] != ' ')
			mech_end++;
		buf_add(out, line, mech_end);
		if (mech_end < len)
			buf_addstr(out, " <redacted>");
		return 1;
	}
	buf_add(out, line, len);
	return 0;
}

void
transport_plain_only(void)
{
	if (curl_users > 0 || plain_only)
		return;
	plain_only = 1;
#ifdef HAVE_OPENSSL
	/*
	 * libcurl's global init sets OpenSSL up in full: it parses the
	 * system openssl.cnf and loads every error string, 1.5 M of the
	 * 15 M instructions of a small send, for nothing when no TLS is
	 * spoken.  Initialising first without them makes that a no-op.
	 */
	OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG |
	    OPENSSL_INIT_NO_LOAD_SSL_STRINGS |
	    OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, NULL);
#endif
}

static int
global_init(struct error *err)
{
	if (curl_users == 0) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return error_set(err, EX_SOFTWARE,
			    "cannot initialise libcurl");
#ifdef HAVE_OPENSSL
		if (fp_index < 0)
			fp_index = SSL_CTX_get_ex_new_index(0, NULL, NULL,
			    NULL, NULL);
#endif
	}
	curl_users++;
	return 0;
}

/* CURLOPT_LOGIN_OPTIONS for the account's "auth" value. */
static int
auth_options(const struct account *a, const char **opts, struct error *err)
{
	static const struct {
		const char	*name;
		const char	*opt;
	} mechs[] = {
		{ "on", "AUTH=*" },
		{ "plain", "AUTH=PLAIN" },
		{ "login", "AUTH=LOGIN" },
		{ "cram-md5", "AUTH=CRAM-MD5" },
		{ "digest-md5", "AUTH=DIGEST-MD5" },
		{ "ntlm", "AUTH=NTLM" },
		{ "gssapi", "AUTH=GSSAPI" },
		{ "external", "AUTH=EXTERNAL" },
		{ "xoauth2", "AUTH=XOAUTH2" },
		{ "oauthbearer", "AUTH=OAUTHBEARER" },
	};
	size_t	i;

	for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (strcasecmp(a->auth, mechs[i].name) == 0) {
			*opts = mechs[i].opt;
			return 0;
		}
	return error_set(err, EX_CONFIG, "authentication method '%s' is not "
	    "supported (use on, plain, login, cram-md5, digest-md5, ntlm, "
	    "gssapi, external, xoauth2 or oauthbearer)", a->auth);
}

/* One transaction: the state reset, curl_easy_perform(), the trace. */
CURLcode
perform(struct transport *t, struct outcome *res, struct message_reader *rd,
    off_t size)
{
	CURLcode	rc;

	state_reset(&t->st);
	t->st.res = res;
	t->st.reader = rd;
	t->st.size = size;
	t->fp_bad = 0;
	t->errbuf[0] = '\0';
	wait_for(t, W_CONNECT, t->tmo.connect);
	rc = curl_easy_perform(t->curl);
	trace_flush(t);
	if (rc == CURLE_ABORTED_BY_CALLBACK && t->st.expired != NULL &&
	    !t->interrupted) {
		/* one of our waits ran out: a timeout like libcurl's own */
		snprintf(t->errbuf, sizeof(t->errbuf), "%s within %d s",
		    t->st.expired, t->st.wait_limit);
		rc = CURLE_OPERATION_TIMEDOUT;
	}
	return rc;
}

/*
 * A new bearer token after the server refused ours, once per transport.
 * The failure to get one (the grant refused: re-authorize) is said as a
 * warning; the 535 stays the error.
 */
int
renew_bearer(struct transport *t)
{
	struct error	 err = ERROR_INIT;
	char		*pw = NULL;

	if (t->oauth2_acct == NULL || t->renewed)
		return -1;
	t->renewed = 1;
	if (oauth2_token_renew(t->oauth2_acct, t->bearer, &pw, &err) == -1) {
		log_warnx("%s", err.msg);
		error_release(&err);
		return -1;
	}
	log_debug("the OAuth2 token was refused: trying once more with a "
	    "renewed one");
	if (curl_easy_setopt(t->curl, CURLOPT_XOAUTH2_BEARER, pw) !=
	    CURLE_OK) {
		freezero_str(pw);
		return -1;
	}
	freezero_str(t->bearer);
	t->bearer = pw;
	return 0;
}

/*
 * With a token file and a bearer mechanism postie gets the token itself
 * (oauth2.h); otherwise password/passwordeval is the token, as in msmtp.
 */
static int
uses_oauth2(const struct account *a, const char *mech)
{
	return a->oauth2_token_file != NULL &&
	    (strcmp(mech, "AUTH=XOAUTH2") == 0 ||
	    strcmp(mech, "AUTH=OAUTHBEARER") == 0);
}

/* A host name or address literal that cannot change the URL's shape. */
static int
valid_host(const char *h)
{
	const unsigned char	*p;

	if (*h == '\0')
		return 0;
	for (p = (const unsigned char *)h; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f || strchr("/?#@\\%", *p) != NULL)
			return 0;
	return 1;
}

/* An IPv6 literal in brackets, for URLs and CURLOPT_CONNECT_TO. */
static char *
bracket(const char *h)
{
	if (strchr(h, ':') != NULL && h[0] != '[')
		return xasprintf("[%s]", h);
	return xstrdup(h);
}

static int
setup(struct transport *t, const struct account *a, struct error *err)
{
	const char	*mech = NULL, *pin = NULL;
	char		*pw = NULL, *esc, *host, *urlhost, *ct, *ehlo;
	long		 tmo;
	CURLcode	 rc = CURLE_OK;
	int		 port;

	t->implicit_tls = a->tls && !a->tls_starttls;
	t->starttls = a->tls && a->tls_starttls;
	port = a->port > 0 ? a->port : t->implicit_tls ? 465 : 25;
	t->port = port;
	t->auth = a->auth != NULL && strcasecmp(a->auth, "off") != 0;
	host = bracket(a->host);
	t->where = xasprintf("%s:%d", host, port);
	t->host = xstrdup(a->host);

	if (t->auth && !a->tls && !a->auth_cleartext) {
		error_set(err, EX_CONFIG, "refusing to send credentials over "
		    "an unencrypted connection to %s; enable tls or set "
		    "auth_cleartext on", a->host);
		goto fail;
	}
	if (t->auth && auth_options(a, &mech, err) == -1)
		goto fail;
	if (t->auth && strcmp(mech, "AUTH=EXTERNAL") != 0 &&
	    (a->user == NULL || *a->user == '\0')) {
		error_set(err, EX_CONFIG, "auth is %s but no user is set for "
		    "account '%s'", a->auth, a->name != NULL ? a->name : "");
		goto fail;
	}
	if (a->tls && a->tls_fingerprint != NULL &&
	    parse_fingerprint(t, a->tls_fingerprint, &pin, err) == -1)
		goto fail;
	if (t->auth && strcmp(mech, "AUTH=EXTERNAL") != 0 &&
	    (uses_oauth2(a, mech) ? oauth2_token(a, &pw, err) :
	    secret_password(a, &pw, err)) == -1)
		goto fail;
	/* no password nor passwordeval: AUTH goes with an empty one */
	if (t->auth && pw == NULL && strcmp(mech, "AUTH=EXTERNAL") != 0 &&
	    !uses_oauth2(a, mech))
		t->nopass = xstrdup(a->user);

	/* "domain", else the FQDN, else [address]: never "localhost" */
	ehlo = a->domain != NULL && *a->domain != '\0' ? xstrdup(a->domain) :
	    util_ehlo_name(a->host, port, a->source_ip);
	log_debug("EHLO name: %s", ehlo);
	esc = curl_easy_escape(t->curl, ehlo, 0);
	free(ehlo);
	if (esc == NULL) {
		error_set(err, EX_SOFTWARE, "cannot build the relay URL");
		goto fail;
	}
	/*
	 * tls_host_override: the URL names the host the certificate must be
	 * valid for (and SNI), CURLOPT_CONNECT_TO sends the connection to the
	 * real relay, resolved by libcurl as usual.
	 */
	if (a->tls && a->tls_host_override != NULL &&
	    *a->tls_host_override != '\0') {
		urlhost = bracket(a->tls_host_override);
		t->tlsname = xstrdup(a->tls_host_override);
		ct = xasprintf("%s:%d:%s:%d", urlhost, port, host, port);
		t->connect_to = curl_slist_append(NULL, ct);
		free(ct);
		if (t->connect_to == NULL) {
			free(urlhost);
			curl_free(esc);
			error_set(err, EX_OSERR, "out of memory");
			goto fail;
		}
	} else {
		urlhost = xstrdup(host);
		t->tlsname = xstrdup(a->host);
	}
	/* The path is the EHLO name; without it libcurl uses gethostname(). */
	t->url = xasprintf("%s://%s:%d/%s", t->implicit_tls ? "smtps" :
	    "smtp", urlhost, port, esc);
	curl_free(esc);
	free(urlhost);

	SETOPT(t, CURLOPT_URL, t->url);
#if LIBCURL_VERSION_NUM >= 0x075500
	SETOPT(t, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#endif
	/*
	 * A sendmail does not follow $all_proxy or $smtp_proxy (msmtp does
	 * not either): a daemon's environment must not redirect mail.  Only
	 * proxy_host (SOCKS5; socks5h: the proxy resolves the relay's name).
	 */
	if (a->proxy_host != NULL) {
		char *ph = bracket(a->proxy_host);

		t->proxy = xasprintf("socks5h://%s:%d", ph, a->proxy_port > 0 ?
		    a->proxy_port : 1080);
		free(ph);
		SETOPT(t, CURLOPT_PROXY, t->proxy);
	} else
		SETOPT(t, CURLOPT_PROXY, "");
	if (a->source_ip != NULL) {
		t->iface = xasprintf("host!%s", a->source_ip);
		SETOPT(t, CURLOPT_INTERFACE, t->iface);
	}
	if (t->connect_to != NULL)
		SETOPT(t, CURLOPT_CONNECT_TO, t->connect_to);
	SETOPT(t, CURLOPT_ERRORBUFFER, t->errbuf);
	SETOPT(t, CURLOPT_NOSIGNAL, 1L);
	SETOPT(t, CURLOPT_TCP_NODELAY, 1L);
	if (a->timeout > 0) {
		t->tmo.connect = t->tmo.greeting = t->tmo.command =
		    t->tmo.data_init = t->tmo.data_block =
		    t->tmo.data_done = (int)a->timeout;
	} else {
		t->tmo.connect = CONNECT_TIMEOUT;
		t->tmo.greeting = GREETING_TIMEOUT;
		t->tmo.command = COMMAND_TIMEOUT;
		t->tmo.data_init = DATA_INIT_TIMEOUT;
		t->tmo.data_block = DATA_BLOCK_TIMEOUT;
		t->tmo.data_done = DATA_DONE_TIMEOUT;
	}
	/*
	 * The backstops, a little above what on_progress() allows: the
	 * whole set-up (connect, greeting, EHLO, STARTTLS, EHLO, AUTH and
	 * its continuation), and the longest reply.  libcurl checks its
	 * low-speed limit while it waits for the reply to "." too, so that
	 * one gets the longest wait as well.
	 */
	tmo = t->tmo.connect + t->tmo.greeting + 6L * t->tmo.command + 1;
	SETOPT(t, CURLOPT_CONNECTTIMEOUT, tmo);
	/* one connection: a replaced one is closed, not kept for reuse */
	SETOPT(t, CURLOPT_MAXCONNECTS, 1L);
	tmo = t->tmo.data_done + 1;
	SETOPT(t, CURLOPT_SERVER_RESPONSE_TIMEOUT, tmo);
	SETOPT(t, CURLOPT_LOW_SPEED_LIMIT, 1L);
	SETOPT(t, CURLOPT_LOW_SPEED_TIME, tmo);

	if (a->tls) {
		/* Never CURLUSESSL_TRY: a stripped STARTTLS must fail. */
		SETOPT(t, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
		if (!a->tls_certcheck || pin != NULL || t->fp_cert) {
			SETOPT(t, CURLOPT_SSL_VERIFYPEER, 0L);
			SETOPT(t, CURLOPT_SSL_VERIFYHOST, 0L);
		} else {
			SETOPT(t, CURLOPT_SSL_VERIFYPEER, 1L);
			SETOPT(t, CURLOPT_SSL_VERIFYHOST, 2L);
		}
		if (a->tls_trust_file != NULL &&
		    strcmp(a->tls_trust_file, "system") != 0)
			SETOPT(t, CURLOPT_CAINFO, a->tls_trust_file);
		if (a->tls_crl_file != NULL)
			SETOPT(t, CURLOPT_CRLFILE, a->tls_crl_file);
		if (a->tls_cert_file != NULL)
			SETOPT(t, CURLOPT_SSLCERT, a->tls_cert_file);
		if (a->tls_key_file != NULL)
			SETOPT(t, CURLOPT_SSLKEY, a->tls_key_file);
		if (pin != NULL)
			SETOPT(t, CURLOPT_PINNEDPUBLICKEY, pin);
#ifdef HAVE_OPENSSL
		/*
		 * A certificate pin; or full verification, where the
		 * callback only notes the server's fingerprint for the
		 * "not trusted" line (never with VERIFYPEER off: its
		 * SSL_VERIFY_PEER would turn verification on).
		 */
		if (t->fp_cert) {
			SETOPT(t, CURLOPT_SSL_CTX_FUNCTION, on_sslctx);
			SETOPT(t, CURLOPT_SSL_CTX_DATA, t);
		} else if (a->tls_certcheck && pin == NULL &&
		    curl_easy_setopt(t->curl, CURLOPT_SSL_CTX_DATA, t) ==
		    CURLE_OK)
			/* a libcurl on another TLS library refuses: no print */
			(void)curl_easy_setopt(t->curl,
			    CURLOPT_SSL_CTX_FUNCTION, on_sslctx);
#endif
	}

	if (t->auth && uses_oauth2(a, mech)) {
		t->oauth2_acct = a;
		t->bearer = pw != NULL ? xstrdup(pw) : NULL;
	}
	if (t->auth) {
		SETOPT(t, CURLOPT_LOGIN_OPTIONS, mech);
		if (a->user != NULL)
			SETOPT(t, CURLOPT_USERNAME, a->user);
		if (strcmp(mech, "AUTH=XOAUTH2") == 0 ||
		    strcmp(mech, "AUTH=OAUTHBEARER") == 0) {
			if (pw != NULL)
				SETOPT(t, CURLOPT_XOAUTH2_BEARER, pw);
		} else if (pw != NULL)
			SETOPT(t, CURLOPT_PASSWORD, pw);
		/* RFC 4954 4: the initial response saves a round trip. */
		SETOPT(t, CURLOPT_SASL_IR, 1L);
	}

	SETOPT(t, CURLOPT_UPLOAD, 1L);
	/* Fewer, larger reads and writes for big messages (default 64 KiB). */
	SETOPT(t, CURLOPT_UPLOAD_BUFFERSIZE, 256L * 1024);
	SETOPT(t, CURLOPT_READFUNCTION, on_read);
	SETOPT(t, CURLOPT_READDATA, t);
	SETOPT(t, CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(t, CURLOPT_HEADERDATA, t);
	/*
	 * The debug callback tells which command each reply answers, so it
	 * is always on; it prints only with -v.
	 */
	SETOPT(t, CURLOPT_DEBUGFUNCTION, on_debug);
	SETOPT(t, CURLOPT_DEBUGDATA, t);
	SETOPT(t, CURLOPT_VERBOSE, 1L);
#if LIBCURL_VERSION_NUM >= 0x080200
	SETOPT(t, CURLOPT_MAIL_RCPT_ALLOWFAILS, 1L);
#else
	SETOPT(t, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
#endif
	if (rc != CURLE_OK) {
		error_set(err, rc == CURLE_OUT_OF_MEMORY ? EX_OSERR :
		    EX_SOFTWARE, "cannot set up libcurl for %s: %s", t->where,
		    curl_easy_strerror(rc));
		goto fail;
	}
	/*
	 * libcurl keeps its own copy (which it frees without wiping: nothing
	 * we can do about that); ours goes now.
	 */
	freezero_str(pw);
	free(host);
	return 0;
fail:
	freezero_str(pw);
	free(host);
	return -1;
}

struct transport *
transport_new(const struct account *a, int verbose, struct error *err)
{
	struct transport	*t;

	if (a->host == NULL || !valid_host(a->host)) {
		error_set(err, EX_CONFIG, "invalid relay host '%s'",
		    a->host != NULL ? a->host : "");
		return NULL;
	}
	if (a->tls && plain_only) {
		/* The system TLS policy was not loaded: never speak TLS. */
		error_set(err, EX_SOFTWARE, "TLS account '%s' after a "
		    "plain-only set-up", a->name != NULL ? a->name : "");
		return NULL;
	}
	if (a->tls && a->tls_host_override != NULL &&
	    !valid_host(a->tls_host_override)) {
		error_set(err, EX_CONFIG, "invalid tls_host_override '%s'",
		    a->tls_host_override);
		return NULL;
	}
	if (global_init(err) == -1)
		return NULL;
	t = xcalloc(1, sizeof(*t));
	t->verbose = verbose;
	buf_init(&t->st.line);
	buf_init(&t->st.cur_text);
	buf_init(&t->st.trace);
	t->curl = curl_easy_init();
	if (t->curl == NULL) {
		error_set(err, EX_SOFTWARE, "cannot create a libcurl handle");
		transport_free(t);
		return NULL;
	}
	if (setup(t, a, err) == -1) {
		transport_free(t);
		return NULL;
	}
	return t;
}

void
transport_free(struct transport *t)
{
	if (t == NULL)
		return;
	if (t->curl != NULL) {
		curl_easy_cleanup(t->curl);
		if (--curl_users == 0)
			curl_global_cleanup();
	}
	state_release(&t->st);
	freezero_str(t->bearer);
	curl_slist_free_all(t->connect_to);
	free(t->url);
	free(t->host);
	free(t->nopass);
	free(t->tlsname);
	free(t->where);
	free(t->proxy);
	free(t->iface);
	explicit_bzero(t, sizeof(*t));
	free(t);
}

static void
reply_set(struct reply *r, int code, const char *text)
{
	free(r->text);
	r->code = code;
	r->text = xstrdup(text);
}

static void
reply_clear(struct reply *r)
{
	free(r->text);
	r->text = NULL;
	r->code = 0;
}

static void
state_reset(struct sendstate *st)
{
	int	i;

	st->step = TS_GREETING;
	st->nrcpt = 0;
	st->res = NULL;
	st->reader = NULL;
	error_release(&st->rderr);
	st->rdfail = 0;
	st->body_eof = 0;
	st->size = -1;
	st->nread = 0;
	buf_reset(&st->line);
	st->cur_code = 0;
	buf_reset(&st->cur_text);
	st->cur_lines = 0;
	for (i = 0; i < TS_MAX; i++)
		reply_clear(&st->rep[i]);
	reply_clear(&st->last);
	reply_clear(&st->challenge);
	st->in_auth = 0;
	st->tls_up = 0;
	st->ehlo_auth = 0;
	st->quitting = 0;
	error_release(&st->abort);
	st->aborted = 0;
	st->data_bytes = 0;
	st->sent = 0;
	buf_reset(&st->trace);
	st->wait_since = 0;
	st->wait_limit = 0;
	st->wait_what = NULL;
	st->expired = NULL;
	st->ul_seen = 0;
}

static void
state_release(struct sendstate *st)
{
	state_reset(st);
	buf_release(&st->line);
	buf_release(&st->cur_text);
	buf_release(&st->trace);
}

/*
 * Every reply line, in order (libcurl hands them to the header callback,
 * CRLF included).  Split into lines ourselves in case one call carries
 * several or a part.  Returning less than given stops the transfer
 * (CURLE_WRITE_ERROR): used when st.abort says why.
 */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct transport	*t = arg;
	struct sendstate	*st = &t->st;
	size_t			 i, len = size * n;

	for (i = 0; i < len; i++) {
		if (p[i] == '\n') {
			/* the CR goes, and with it the NUL moves (reply_line()
			 * reads the text up to it) */
			if (st->line.len > 0 &&
			    st->line.data[st->line.len - 1] == '\r')
				st->line.data[--st->line.len] = '\0';
			reply_line(t, buf_str(&st->line), st->line.len);
			buf_reset(&st->line);
		} else if (st->line.len < LINE_MAX_LEN)
			buf_addch(&st->line, p[i]);
	}
	return st->aborted ? 0 : len;
}

/* One reply line: "250-text" continues, "250 text" or "250" ends. */
static void
reply_line(struct transport *t, const char *l, size_t len)
{
	struct sendstate	*st = &t->st;
	const char		*text = len > 4 ? l + 4 : "";
	size_t			 tlen;
	int			 code = 0, last;

	if (len >= 3 && l[0] >= '2' && l[0] <= '5' && l[1] >= '0' &&
	    l[1] <= '9' && l[2] >= '0' && l[2] <= '9')
		code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
	last = len <= 3 || l[3] != '-';
	if (code == 0)
		last = 1;	/* garbage: libcurl fails the transfer */
	if (st->cur_lines == 0) {
		st->cur_code = code;
		buf_reset(&st->cur_text);
	} else if (st->cur_text.len < REPLY_TEXT_MAX)
		buf_addch(&st->cur_text, ' ');
	if (code == 0)
		text = l;
	/* len, not the NUL: the line's buffer may still hold its CR */
	tlen = code == 0 ? len : len > 4 ? len - 4 : 0;
	if (tlen > REPLY_TEXT_MAX - st->cur_text.len)
		tlen = REPLY_TEXT_MAX - st->cur_text.len;
	if (st->cur_text.len < REPLY_TEXT_MAX)
		buf_add(&st->cur_text, text, strnlen(text, tlen));
	st->cur_lines++;
	/*
	 * libcurl 7.88.1 looks for "AUTH " exactly (case-sensitive, not the
	 * old "AUTH="); without it, it silently skips authentication.
	 */
	if (st->step == TS_EHLO && st->cur_lines > 1 &&
	    strncmp(text, "AUTH ", 5) == 0)
		st->ehlo_auth = 1;
	if (last) {
		st->cur_lines = 0;
		reply_done(t, st->cur_code, buf_str(&st->cur_text));
	}
}

static void
reply_done(struct transport *t, int code, const char *text)
{
	struct sendstate	*st = &t->st;
	struct rcpt_result	*r;
	int			 tls_now;

	/*
	 * libcurl says QUIT after a refusal; its 221 must not hide the
	 * reply that failed the transaction.
	 */
	if (st->quitting)
		return;
	reply_set(&st->last, code, text);
	switch (st->step) {
	case TS_RCPT:
		if (st->res != NULL && st->nrcpt > 0 &&
		    st->nrcpt <= st->res->n) {
			r = &st->res->rcpt[st->nrcpt - 1];
			r->code = code;
			(void)outcome_enhanced(text, r->enhanced);
			free(r->reply);
			r->reply = xstrdup(text);
			if (code / 100 == 4)
				r->state = RCPT_TEMPFAIL;
			else if (code / 100 == 5 || code == 0)
				r->state = RCPT_PERMFAIL;
		}
		break;
	case TS_AUTH:
		if (code == 334) {
			reply_set(&st->challenge, code, text);
			return;		/* the exchange goes on */
		}
		st->in_auth = 0;
		break;
	case TS_STARTTLS:
		if (code == 220)
			st->tls_up = 1;
		break;
	case TS_DATA:
		reply_set(&st->rep[TS_DATA], code, text);
		if (code == 354) {
			st->step = TS_BODY;
			wait_for(t, W_BLOCK, t->tmo.data_block);
		}
		return;
	case TS_BODY:
		reply_set(&st->rep[TS_DOT], code, text);
		st->step = TS_DOT;
		return;
	default:
		break;
	}
	reply_set(&st->rep[st->step], code, text);

	tls_now = t->implicit_tls || st->tls_up;
	/*
	 * The fingerprint was checked in the handshake; make sure it was,
	 * before the client says anything that matters over this TLS.
	 */
	if (t->fp_cert && tls_now && st->step != TS_STARTTLS && !t->fp_ok &&
	    !st->aborted) {
		error_set(&st->abort, EX_UNAVAILABLE, "TLS certificate of %s "
		    "was not checked against tls_fingerprint", t->tlsname);
		st->aborted = 1;
	}
	/*
	 * Credentials configured but no AUTH in the EHLO reply that counts
	 * (after STARTTLS when there is one): libcurl would go on without
	 * authenticating.  msmtp stops here, so do we.
	 */
	if ((st->step == TS_EHLO || st->step == TS_HELO) &&
	    code / 100 == 2 && t->auth &&
	    (!t->starttls || st->tls_up) && !st->ehlo_auth && !st->aborted) {
		error_set(&st->abort, EX_UNAVAILABLE, "cannot send to %s: the "
		    "server does not support authentication (no AUTH in its "
		    "EHLO reply)", t->where);
		st->aborted = 1;
	}
}

/*
 * libcurl's trace: HEADER_OUT is each command we send, HEADER_IN each
 * reply line, DATA_OUT the message.  Must return 0.
 */
int
on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	struct transport	*t = arg;
	size_t			 len;

	(void)h;
	switch (type) {
	case CURLINFO_HEADER_OUT:
		trace_flush(t);
		note_command(t, data, size);
		break;
	case CURLINFO_HEADER_IN:
		trace_flush(t);
		if (!t->verbose)
			break;
		while (size > 0) {
			for (len = 0; len < size && data[len] != '\n'; len++)
				;
			log_trace("<- %.*s", (int)(len > 0 &&
			    data[len - 1] == '\r' ? len - 1 : len), data);
			if (len < size)
				len++;
			data += len;
			size -= len;
		}
		break;
	case CURLINFO_DATA_OUT:
		t->st.data_bytes += size;
		t->st.sent += (off_t)size;
		break;
	case CURLINFO_TEXT:
		if (!t->verbose || size == 0)
			break;
		len = data[size - 1] == '\n' ? size - 1 : size;
		/* -v: the TLS version and cipher; -vv: all of libcurl's */
		if (len > 21 && memcmp(data, "SSL connection using ", 21) == 0)
			log_debug("TLS: %.*s", (int)(len - 21), data + 21);
		else
			log_trace("* %.*s", (int)len, data);
		break;
	default:
		break;
	}
	return 0;
}

/*
 * libcurl's transfer counts: the message octets sent so far.  Called
 * at least once a second, so it also stops a send on SIGTERM, SIGINT or
 * SIGHUP (once interrupt_install() was called), but only before the
 * whole message went out: after that the relay may accept it, so its
 * reply is awaited (bounded by the timeout).  The message stays with
 * postie: queued by a direct send, still queued for a flush.
 */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct transport	*t = arg;

	struct sendstate	*st = &t->st;
	curl_off_t		 ct = 0;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	if (interrupt_pending() != 0 && !st->body_eof) {
		t->interrupted = interrupt_pending();
		return 1;
	}
	if (t->prog_on && ulnow > 0)
		progress_update(&t->prog, (uint64_t)ulnow);

	/* The waits of RFC 5321 4.5.3.2 (see CONNECT_TIMEOUT). */
	if (st->wait_what == W_CONNECT && st->last.code == 0 &&
	    curl_easy_getinfo(t->curl, CURLINFO_CONNECT_TIME_T, &ct) ==
	    CURLE_OK && ct > 0)
		wait_for(t, W_GREETING, t->tmo.greeting);
	if (st->step == TS_BODY) {
		if (st->body_eof && st->sent >= st->nread) {
			if (st->wait_what != W_DONE)
				wait_for(t, W_DONE, t->tmo.data_done);
		} else if (ulnow > st->ul_seen) {
			/* a block went out: the data timeout starts again */
			wait_for(t, W_BLOCK, t->tmo.data_block);
		}
		st->ul_seen = ulnow;
	}
	if (st->wait_limit > 0 && st->expired == NULL &&
	    now_mono() - st->wait_since > st->wait_limit) {
		st->expired = st->wait_what;
		return 1;
	}
	return 0;
}

static double
now_mono(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A reply (or connecting) is awaited from now on, for at most limit s. */
static void
wait_for(struct transport *t, const char *what, int limit)
{
	t->st.wait_since = now_mono();
	t->st.wait_limit = limit;
	t->st.wait_what = what;
}

/* A command went out: the next reply answers it. */
static void
note_command(struct transport *t, const char *cmd, size_t len)
{
	struct sendstate	*st = &t->st;
	static const struct {
		const char	*prefix;
		enum tstep	 step;
	} cmds[] = {
		{ "EHLO ", TS_EHLO },
		{ "HELO ", TS_HELO },
		{ "STARTTLS", TS_STARTTLS },
		{ "AUTH ", TS_AUTH },
		{ "MAIL FROM:", TS_MAIL },
		{ "RCPT TO:", TS_RCPT },
		{ "DATA", TS_DATA },
	};
	size_t	i, plen;

	while (len > 0 && (cmd[len - 1] == '\n' || cmd[len - 1] == '\r'))
		len--;
	if (t->verbose) {
		buf_reset(&st->trace);
		transport_redact(cmd, len, st->in_auth, &st->trace);
		log_trace("-> %s", buf_str(&st->trace));
		buf_reset(&st->trace);
	}
	if (st->in_auth) {
		wait_for(t, "no reply to AUTH", t->tmo.command);
		return;		/* SASL data: stays in TS_AUTH */
	}
	if (len == 4 && strncasecmp(cmd, "QUIT", 4) == 0) {
		st->quitting = 1;
		return;
	}
	st->step = TS_OTHER;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		plen = strlen(cmds[i].prefix);
		if (len >= plen && strncasecmp(cmd, cmds[i].prefix, plen) == 0) {
			st->step = cmds[i].step;
			break;
		}
	}
	switch (st->step) {
	case TS_EHLO:	wait_for(t, "no reply to EHLO", t->tmo.command); break;
	case TS_HELO:	wait_for(t, "no reply to HELO", t->tmo.command); break;
	case TS_STARTTLS:
		wait_for(t, "no reply to STARTTLS", t->tmo.command);
		break;
	case TS_AUTH:	wait_for(t, "no reply to AUTH", t->tmo.command); break;
	case TS_MAIL:
		wait_for(t, "no reply to MAIL FROM", t->tmo.command);
		break;
	case TS_RCPT:	wait_for(t, "no reply to RCPT TO", t->tmo.command); break;
	case TS_DATA:	wait_for(t, "no reply to DATA", t->tmo.data_init); break;
	default:	wait_for(t, "no reply", t->tmo.command); break;
	}
	if (st->step == TS_EHLO)
		st->ehlo_auth = 0;
	else if (st->step == TS_AUTH)
		st->in_auth = 1;
	else if (st->step == TS_RCPT)
		st->nrcpt++;
}

static void
trace_flush(struct transport *t)
{
	if (t->st.data_bytes > 0 && t->verbose)
		log_trace("-> [%zu bytes of message data]", t->st.data_bytes);
	t->st.data_bytes = 0;
}

static size_t
on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct transport	*t = arg;
	ssize_t			 r;

	if (t->st.body_eof)
		return 0;
	r = message_reader_read(t->st.reader, buf, size * n, &t->st.rderr);
	if (r < 0) {
		t->st.rdfail = 1;
		return CURL_READFUNC_ABORT;
	}
	t->st.nread += r;
	/* With a known size libcurl stops asking once it has it all. */
	if (r == 0 || (t->st.size >= 0 && t->st.nread >= t->st.size))
		t->st.body_eof = 1;
	return (size_t)r;
}

/*
 * Recipients per transaction: RFC 5321 4.5.3.1.8 guarantees only 100,
 * and libcurl caps the replies it keeps for one transfer (300 KB, about
 * 20,000 recipients).
 */
#define RCPT_BATCH	100

static int	send_one(struct transport *, const struct envelope *,
		    struct message_reader *, off_t, struct outcome *,
		    struct error *);

/* 452 with 4.5.3 or "too many": the rest goes in the next transaction. */
static int
too_many(const struct rcpt_result *r)
{
	return r->state == RCPT_TEMPFAIL && r->code == 452 &&
	    (strcmp(r->enhanced, "4.5.3") == 0 || (r->reply != NULL &&
	    strstr(r->reply, "too many") != NULL));
}

/* One transaction's results into the whole message's, by index. */
static void
merge(struct outcome *all, const struct outcome *one, const size_t *idx)
{
	size_t	i;

	for (i = 0; i < one->n; i++)
		outcome_set_rcpt(all, idx[i], one->rcpt[i].state,
		    one->rcpt[i].code, one->rcpt[i].enhanced,
		    one->rcpt[i].reply);
	if (one->class != OUTCOME_NONE) {
		outcome_fail(all, one->class, one->step, one->exitcode,
		    one->smtp_code, one->reply, one->hint);
		memcpy(all->enhanced, one->enhanced, sizeof(all->enhanced));
	}
	all->unknown |= one->unknown;
	if (one->relay != NULL) {
		free(all->relay);
		all->relay = xstrdup(one->relay);
	}
	if (one->final_code != 0) {
		all->final_code = one->final_code;
		free(all->final_reply);
		all->final_reply = one->final_reply != NULL ?
		    xstrdup(one->final_reply) : NULL;
		free(all->server_id);
		all->server_id = one->server_id != NULL ?
		    xstrdup(one->server_id) : NULL;
	}
}

/*
 * The message in transactions of at most RCPT_BATCH recipients (one,
 * for almost every message); recipients a server refused with "452 too
 * many recipients" go at once into the next one, as Postfix does, as
 * long as each round delivers to somebody.  When a transaction fails
 * after others delivered, its recipients are kept (4xx) or refused (5xx)
 * and the untried ones stay pending: the caller queues what is left.
 */
int
transport_send(struct transport *t, const struct envelope *env,
    struct message_reader *rd, off_t size, struct outcome *res,
    struct error *err)
{
	struct envelope	 sub;
	struct outcome	 one;
	size_t		*todo, *idx, ntodo, nb, i, k, accepted = 0, ok;
	int		 rv = 0;

	if (env->rcpts.n <= RCPT_BATCH) {
		/* almost every message: one transaction, done unless some
		 * recipients got a 452 while others were taken */
		rv = send_one(t, env, rd, size, res, err);
		if (rv == -1 || outcome_count(res, RCPT_ACCEPTED) == 0)
			return rv;
		for (i = 0, k = 0; i < res->n; i++)
			k += too_many(&res->rcpt[i]);
		if (k == 0)
			return rv;
	}

	todo = xcalloc(env->rcpts.n, sizeof(*todo));
	idx = xcalloc(RCPT_BATCH, sizeof(*idx));
	ntodo = 0;
	if (env->rcpts.n <= RCPT_BATCH) {
		/* the first transaction ran: only its 452s are left */
		for (i = 0; i < res->n; i++)
			if (too_many(&res->rcpt[i]))
				todo[ntodo++] = i;
			else if (res->rcpt[i].state == RCPT_ACCEPTED)
				accepted++;
	} else {
		outcome_reset(res);
		for (i = 0; i < env->rcpts.n; i++)
			todo[ntodo++] = i;
	}
	sub.sender = env->sender;
	while (ntodo > 0) {
		nb = ntodo < RCPT_BATCH ? ntodo : RCPT_BATCH;
		memset(&sub.rcpts, 0, sizeof(sub.rcpts));
		for (i = 0; i < nb; i++) {
			idx[i] = todo[i];
			strlist_add(&sub.rcpts, env->rcpts.v[todo[i]]);
		}
		memmove(todo, todo + nb, (ntodo - nb) * sizeof(*todo));
		ntodo -= nb;
		outcome_init(&one, nb);
		message_reader_rewind(rd);
		error_release(err);
		rv = send_one(t, &sub, rd, size, &one, err);
		merge(res, &one, idx);
		ok = outcome_count(&one, RCPT_ACCEPTED);
		accepted += ok;
		/* the 452s first, while the server keeps taking some */
		for (i = 0; rv == 0 && ok > 0 && i < nb; i++)
			if (too_many(&one.rcpt[i])) {
				memmove(todo + 1, todo, ntodo * sizeof(*todo));
				todo[0] = idx[i];
				ntodo++;
			}
		outcome_release(&one);
		strlist_release(&sub.rcpts);
		if (rv == -1)
			break;
	}
	free(todo);
	free(idx);
	if (rv == -1 && accepted > 0) {
		/* some got it: what the failed transaction had is decided,
		 * the rest stays pending, and the message counts as sent */
		for (i = 0; i < res->n; i++)
			if (res->rcpt[i].state == RCPT_PENDING &&
			    res->rcpt[i].code != 0)
				res->rcpt[i].state = res->class ==
				    OUTCOME_PERMANENT ? RCPT_PERMFAIL :
				    RCPT_TEMPFAIL;
		log_warnx("%s", err->msg);
		error_release(err);
		res->class = OUTCOME_NONE;
		rv = 0;
	}
	return rv;
}

static int
send_one(struct transport *t, const struct envelope *env,
    struct message_reader *rd, off_t size, struct outcome *res,
    struct error *err)
{
	struct curl_slist	*rcpts = NULL, *tmp, *tail = NULL;
	char			*from;
	CURLcode		 rc = CURLE_OK;
	size_t			 i;
	int			 ret;

	if (env->rcpts.n == 0 || res->n != env->rcpts.n)
		return error_set(err, EX_SOFTWARE, "no recipients to send to");
	outcome_reset(res);
	/*
	 * libcurl before 8.22 puts CR/LF in an address on the wire as is:
	 * SMTP command injection.  The formatter refuses them already.
	 */
	if (str_has_crlf(env->sender))
		error_set(err, EX_DATAERR, "invalid envelope sender: it "
		    "contains CR or LF");
	for (i = 0; err->code == EX_OK && i < env->rcpts.n; i++)
		if (str_has_crlf(env->rcpts.v[i]))
			error_set(err, EX_DATAERR, "invalid envelope "
			    "recipient: it contains CR or LF");
	if (err->code != EX_OK) {
		outcome_fail(res, OUTCOME_PERMANENT, STEP_NONE, err->code, 0,
		    err->msg, NULL);
		return -1;
	}
	from = xasprintf("<%s>", env->sender);
	for (i = 0; i < env->rcpts.n; i++) {
		char	*r = xasprintf("<%s>", env->rcpts.v[i]);

		/* One node linked at the tail: curl_slist_append() walks the
		 * whole list each time (quadratic for many recipients). */
		tmp = curl_slist_append(NULL, r);
		free(r);
		if (tmp == NULL) {
			curl_slist_free_all(rcpts);
			free(from);
			error_set(err, EX_OSERR, "out of memory");
			outcome_fail(res, OUTCOME_RETRY, STEP_NONE, EX_OSERR,
			    0, err->msg, NULL);
			return -1;
		}
		if (tail == NULL)
			rcpts = tmp;
		else
			tail->next = tmp;
		tail = tmp;
	}

	SETOPT(t, CURLOPT_MAIL_FROM, from);
	SETOPT(t, CURLOPT_MAIL_RCPT, rcpts);
	SETOPT(t, CURLOPT_INFILESIZE_LARGE,
	    (curl_off_t)(size >= 0 ? size : -1));
	t->prog_on = size > 0 && progress_wanted((uint64_t)size);
	if (t->prog_on)
		progress_start(&t->prog, (uint64_t)size);
	t->interrupted = 0;
	SETOPT(t, CURLOPT_XFERINFOFUNCTION, on_progress);
	SETOPT(t, CURLOPT_XFERINFODATA, t);
	SETOPT(t, CURLOPT_NOPROGRESS, 0L);
	/*
	 * After a timeout or any other failure the connection may still
	 * carry a late reply, which would answer the next command: open a
	 * new one (MAXCONNECTS 1 then closes the old one).
	 */
	SETOPT(t, CURLOPT_FRESH_CONNECT, t->fresh ? 1L : 0L);
	if (rc == CURLE_OK)
		rc = perform(t, res, rd, size);
	/*
	 * An OAuth2 token refused (535) may have been revoked before its
	 * expiry: renew it once and try again, on a new connection.
	 * Nothing of the message was read yet (AUTH comes before DATA).
	 */
	if (rc == CURLE_LOGIN_DENIED && t->st.nread == 0 &&
	    renew_bearer(t) == 0) {
		outcome_reset(res);
		curl_easy_setopt(t->curl, CURLOPT_FRESH_CONNECT, 1L);
		rc = perform(t, res, rd, size);
	}
	t->fresh = rc != CURLE_OK;
	curl_easy_setopt(t->curl, CURLOPT_NOPROGRESS, 1L);
	progress_end(&t->prog);
	ret = interpret(t, rc, env, res, err);
	if (ret == -1)
		classify(t, rc, res, err);
	curl_easy_setopt(t->curl, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(rcpts);
	free(from);
	t->st.res = NULL;
	t->st.reader = NULL;
	return ret;
}
