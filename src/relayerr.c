/*
 * What a libcurl result and the relay's replies mean: the sysexits code
 * (transport_exitcode), the failure class (transport_class, classify),
 * the step, the error message (interpret), the relay's queue id and the
 * hint for a set-up failure.  Pure except name_missing(), which asks the
 * resolver once more.
 */
#include "autoconfig.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "config.h"
#include "error.h"
#include "log.h"
#include "message.h"
#include "oauth2.h"
#include "transport.h"
#include "transport_int.h"
#include "xmalloc.h"

/*
 * The table of transport.h.  The SMTP code wins where the server said
 * something (4xx is always worth a retry); the libcurl code decides the
 * rest.  A refused MAIL, RCPT or DATA is CURLE_SEND_ERROR and a refused
 * final "." is CURLE_WEIRD_SERVER_REPLY, so both defer to the reply.
 */
int
transport_exitcode(int curlcode, long smtp_code)
{
	int	cls = (int)(smtp_code / 100);

	switch (curlcode) {
	case CURLE_OK:
		if (cls == 4)
			return EX_TEMPFAIL;
		if (cls == 5)
			return EX_UNAVAILABLE;
		return EX_OK;
	case CURLE_SEND_ERROR:
		if (cls == 5)
			return EX_UNAVAILABLE;
		/* 4xx, or the connection broke while writing */
		return EX_TEMPFAIL;
	case CURLE_WEIRD_SERVER_REPLY:
		if (cls == 4)
			return EX_TEMPFAIL;
		if (cls == 5)
			return EX_UNAVAILABLE;
		return EX_PROTOCOL;
	case CURLE_LOGIN_DENIED:
	case CURLE_AUTH_ERROR:
		if (cls == 4)
			return EX_TEMPFAIL;	/* 454 4.7.0 */
		return EX_NOPERM;
	case CURLE_USE_SSL_FAILED:
		if (cls == 4)
			return EX_TEMPFAIL;	/* 454 TLS not available */
		return EX_UNAVAILABLE;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return EX_NOHOST;
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_AGAIN:
		return EX_TEMPFAIL;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_SHUTDOWN_FAILED:
		return EX_UNAVAILABLE;
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_URL_MALFORMAT:
	case CURLE_INTERFACE_FAILED:	/* source_ip not of this host */
		return EX_CONFIG;
	case CURLE_READ_ERROR:
	case CURLE_ABORTED_BY_CALLBACK:
	case CURLE_WRITE_ERROR:
		return EX_IOERR;
	case CURLE_OUT_OF_MEMORY:
		return EX_OSERR;
	default:
		if (cls == 4)
			return EX_TEMPFAIL;
		return EX_SOFTWARE;
	}
}

const char *
reply_str(const struct reply *r, char *b, size_t sz)
{
	if (r->code == 0)
		snprintf(b, sz, "%s", r->text != NULL ? r->text : "no reply");
	else
		snprintf(b, sz, "%d %s", r->code, r->text != NULL ?
		    r->text : "");
	return b;
}

/* Recipients that got 2xx to RCPT take the transaction's outcome. */
void
finish_accepted(struct outcome *res, enum rcpt_state s,
    const struct reply *r)
{
	size_t	i;

	for (i = 0; i < res->n; i++) {
		if (res->rcpt[i].state != RCPT_PENDING ||
		    res->rcpt[i].code / 100 != 2)
			continue;
		res->rcpt[i].state = s;
		if (r != NULL && s != RCPT_ACCEPTED) {
			res->rcpt[i].code = r->code;
			(void)outcome_enhanced(r->text, res->rcpt[i].enhanced);
			free(res->rcpt[i].reply);
			res->rcpt[i].reply = r->text != NULL ?
			    xstrdup(r->text) : NULL;
		}
	}
}

/*
 * A failure of the relay's security set-up (certificate, pin, STARTTLS,
 * AUTH) rather than of the message: the queue keeps such mail.
 */
int
security_failed(const struct transport *t, CURLcode rc)
{
	if (t->st.aborted || t->fp_bad || t->nxdomain || t->silent465)
		return 1;	/* unchecked fingerprint, no AUTH offered */
	/* 454: TLS not available "due to temporary reason" (RFC 3207) */
	if (rc == CURLE_USE_SSL_FAILED && t->st.rep[TS_STARTTLS].code / 100 == 4)
		return 0;
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_LOGIN_DENIED:
	case CURLE_AUTH_ERROR:
	case CURLE_INTERFACE_FAILED:	/* the account's source_ip */
		return 1;
	default:
		return 0;
	}
}

enum outcome_class
transport_class(int exitcode, int setup)
{
	switch (exitcode) {
	case EX_NOUSER:
	case EX_DATAERR:
	case EX_USAGE:
	case EX_NOINPUT:
		return OUTCOME_PERMANENT;
	case EX_UNAVAILABLE:
		/* 5xx, unless the relay's TLS or authentication failed */
		return setup ? OUTCOME_SETUP : OUTCOME_PERMANENT;
	default:
		return setup ? OUTCOME_SETUP : OUTCOME_RETRY;
	}
}

/* The public name of the step a transaction stopped at. */
enum outcome_step
public_step(enum tstep s)
{
	switch (s) {
	case TS_GREETING:	return STEP_GREETING;
	case TS_EHLO:
	case TS_HELO:		return STEP_EHLO;
	case TS_STARTTLS:	return STEP_STARTTLS;
	case TS_AUTH:		return STEP_AUTH;
	case TS_MAIL:		return STEP_MAIL;
	case TS_RCPT:		return STEP_RCPT;
	case TS_DATA:		return STEP_DATA;
	case TS_BODY:		return STEP_BODY;
	case TS_DOT:		return STEP_DOT;
	default:		return STEP_NONE;
	}
}

/*
 * The relay's queue id in its reply to the final dot: the word after
 * "queued as" (Postfix, Exim's "id=" is not guessed), at most 64
 * printable characters; NULL when there is none.
 */
char *
server_id(const char *text)
{
	const char	*p;
	size_t		 n = 0;

	if (text == NULL || (p = strstr(text, "queued as ")) == NULL)
		return NULL;
	p += strlen("queued as ");
	while (p[n] > ' ' && p[n] < 0x7f && n < 64)
		n++;
	while (n > 0 && (p[n - 1] == ')' || p[n - 1] == '.' ||
	    p[n - 1] == ','))
		n--;
	return n > 0 ? xstrndup(p, n) : NULL;
}

/*
 * After libcurl could not resolve the relay: is the name missing
 * (NXDOMAIN, or no address of any family), as opposed to a DNS server
 * that failed or timed out?  libcurl's error does not say, so ask the
 * resolver once more; only the missing name is the configuration's
 * fault.
 */
int
name_missing(const char *host)
{
	struct addrinfo	 hints, *ai = NULL;
	int		 rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, NULL, &hints, &ai);
	if (ai != NULL)
		freeaddrinfo(ai);
#ifdef EAI_NODATA
	if (rc == EAI_NODATA)
		return 1;
#endif
	return rc == EAI_NONAME;
}

/*
 * What to change after a SETUP failure: one sentence naming the key.
 * Allocated, or NULL when there is nothing better to say than the error.
 */
char *
setup_hint(const struct transport *t, CURLcode rc)
{
	if (t->nxdomain)
		return xasprintf("check the 'host' setting: '%s' is not a "
		    "name in DNS", t->host);
	if (t->silent465)
		return xstrdup("port 465 speaks TLS from the start: set "
		    "tls on and tls_starttls off");
	if (rc == CURLE_INTERFACE_FAILED && t->iface != NULL)
		return xasprintf("source_ip %s is not an address of this "
		    "host: change or remove 'source_ip'", t->iface + 5);
	if (t->fp_bad)
		return xasprintf("if the relay's certificate changed on "
		    "purpose, set tls_fingerprint %s", t->fp_seen);
	if (t->st.aborted && t->fp_cert)
		return xstrdup("use a relay that offers TLS, or remove "
		    "tls_fingerprint");
	if (t->st.aborted)
		return xstrdup("remove 'auth' (and 'user') if the relay "
		    "needs no login, or use the relay's submission port "
		    "(587 with tls_starttls on, or 465 with tls_starttls "
		    "off), where it offers AUTH");
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
		if (strstr(t->errbuf, "expired") != NULL)
			return xstrdup("the relay's certificate has expired: "
			    "once its administrator renewed it, the message "
			    "can go");
		if (strstr(t->errbuf, "match") != NULL)
			return xasprintf("the certificate is not for '%s': set "
			    "'host' (or tls_host_override) to a name it "
			    "covers", t->tlsname);
		/* FALLTHROUGH */
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
		if (t->fp_seen[0] != '\0')
			return xasprintf("set tls_trust_file to the CA "
			    "certificate that signed %s's certificate, or, "
			    "once you checked that it is the relay's, pin it "
			    "with 'tls_fingerprint %s'", t->tlsname,
			    t->fp_seen);
		return xasprintf("set tls_trust_file to the CA certificate "
		    "that signed %s's certificate, or pin it with "
		    "tls_fingerprint", t->tlsname);
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return xstrdup("if the relay's key changed on purpose, "
		    "update tls_fingerprint");
	case CURLE_USE_SSL_FAILED:
		if (t->port == 465)
			return xstrdup("port 465 speaks TLS from the start: "
			    "set tls_starttls off");
		return xstrdup("the relay does not offer STARTTLS here: use "
		    "its TLS port (465, with tls_starttls off)");
	case CURLE_SSL_CONNECT_ERROR:
		if (t->implicit_tls && t->port != 465)
			return xasprintf("port %d may expect STARTTLS, not TLS "
			    "from the start: set tls_starttls on", t->port);
		return xstrdup("check the tls_* settings (tls_trust_file, "
		    "tls_starttls) against the relay");
	case CURLE_LOGIN_DENIED:
	case CURLE_AUTH_ERROR:
		if (t->nopass != NULL)
			return xasprintf("no password is configured for "
			    "user '%s' (postie never prompts): set 'password' "
			    "or 'passwordeval', or check 'user'", t->nopass);
		return xstrdup("check 'user' and 'password' (or "
		    "'passwordeval'), and 'auth' for the mechanism");
	default:
		return NULL;
	}
}

/*
 * Where the transport fails, it says what kind of failure it was: the
 * relay's security set-up (SETUP), the message or its recipients refused
 * for good (PERMANENT), or anything a later try may cure (RETRY).
 * outcome_decide() turns that into consequences.
 */
void
classify(const struct transport *t, CURLcode rc, struct outcome *res,
    const struct error *err)
{
	const struct sendstate	*st = &t->st;
	const struct reply	*r = &st->last;
	enum outcome_class	 cls;
	enum outcome_step	 step;
	char			*hint;

	cls = transport_class(err->code, security_failed(t, rc));
	step = public_step(st->step);
	if (step == STEP_NONE || (step == STEP_GREETING && r->code == 0))
		step = STEP_CONNECT;
	if (st->step < TS_OTHER && st->rep[st->step].code != 0)
		r = &st->rep[st->step];
	hint = cls == OUTCOME_SETUP ? setup_hint(t, rc) : NULL;
	outcome_fail(res, cls, step, err->code, r->code, err->msg, hint);
	(void)outcome_enhanced(r->text, res->enhanced);
	res->timedout = rc == CURLE_OPERATION_TIMEDOUT;
	free(hint);
	free(res->relay);
	res->relay = xstrdup(t->where);
}

int
interpret(struct transport *t, CURLcode rc, const struct envelope *env,
    struct outcome *res, struct error *err)
{
	struct sendstate	*st = &t->st;
	const struct reply	*r;
	char			 rb[REPLY_TEXT_MAX + 16];
	const char		*cerr;
	size_t			 i, n4 = 0, n5 = 0, first = (size_t)-1;
	long			 oserr = 0;
	int			 code;

	cerr = t->errbuf[0] != '\0' ? t->errbuf : curl_easy_strerror(rc);
	t->nxdomain = 0;
	t->silent465 = 0;

	if (rc == CURLE_OK) {
		/* libcurl only gets here after a 250 to the final "." */
		free(res->relay);
		res->relay = xstrdup(t->where);
		free(res->server_id);
		res->server_id = server_id(st->rep[TS_DOT].text);
		res->final_code = st->rep[TS_DOT].code;
		free(res->final_reply);
		res->final_reply = st->rep[TS_DOT].text != NULL ?
		    xstrdup(st->rep[TS_DOT].text) : NULL;
		for (i = 0; i < res->n; i++) {
			struct rcpt_result *rr = &res->rcpt[i];

			if (rr->state == RCPT_PENDING) {
				rr->state = RCPT_ACCEPTED;
				continue;
			}
			log_warnx("recipient <%s> %s by server: %d %s",
			    env->rcpts.v[i], rr->state ==
			    RCPT_TEMPFAIL ? "deferred" : "rejected", rr->code,
			    rr->reply != NULL ? rr->reply : "");
		}
		return 0;
	}

	if (st->rdfail) {
		error_set(err, st->rderr.code, "%s", st->rderr.msg != NULL ?
		    st->rderr.msg : "cannot read the message");
		return -1;
	}
	if (t->interrupted)
		return error_set(err, EX_TEMPFAIL, "cannot send to %s: "
		    "interrupted by signal %d (%s) before the end of the "
		    "data: not sent", t->where, t->interrupted,
		    strsignal(t->interrupted));
	if (st->aborted) {
		error_set(err, st->abort.code, "%s", st->abort.msg);
		return -1;
	}
	if (t->fp_bad) {
		return error_set(err, EX_UNAVAILABLE, "TLS certificate of %s "
		    "does not match tls_fingerprint (its SHA-256 "
		    "fingerprint is %s)", t->tlsname, t->fp_seen);
	}

	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		if ((t->nxdomain = name_missing(t->host)))
			return error_set(err, EX_NOHOST, "relay host '%s' "
			    "does not exist (no such name in DNS)", t->host);
		/* SERVFAIL, a timeout, no network yet: worth a retry */
		return error_set(err, EX_TEMPFAIL, "cannot resolve relay "
		    "host '%s' now: %s", t->host, cerr);
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(t->curl, CURLINFO_OS_ERRNO, &oserr);
		if (oserr == ECONNREFUSED)
			return error_set(err, EX_TEMPFAIL, "connection to %s "
			    "refused", t->where);
		return error_set(err, EX_TEMPFAIL, "cannot connect to %s: %s",
		    t->where, oserr != 0 ? strerror((int)oserr) : cerr);
	case CURLE_PEER_FAILED_VERIFICATION:
		return error_set(err, EX_UNAVAILABLE, "TLS certificate of %s "
		    "not trusted: %s", t->tlsname, cerr);
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return error_set(err, EX_UNAVAILABLE, "TLS public key of %s "
		    "does not match tls_fingerprint", t->tlsname);
	case CURLE_USE_SSL_FAILED:
		r = &st->rep[TS_STARTTLS];
		if (r->code != 0)
			return error_set(err, transport_exitcode(rc, r->code),
			    "STARTTLS refused by %s: %s", t->where,
			    reply_str(r, rb, sizeof(rb)));
		return error_set(err, EX_UNAVAILABLE, "STARTTLS not offered "
		    "by %s", t->where);
	case CURLE_OPERATION_TIMEDOUT:
		if (st->step == TS_GREETING && st->last.code == 0 &&
		    st->last.text == NULL) {
			curl_off_t	ct = 0;

			/* TCP connected, then silence: not a connect timeout */
			if (curl_easy_getinfo(t->curl, CURLINFO_CONNECT_TIME_T,
			    &ct) == CURLE_OK && ct > 0 && t->port == 465 &&
			    !t->implicit_tls) {
				/* smtps waits for our TLS hello: set-up */
				t->silent465 = 1;
				return error_set(err, EX_UNAVAILABLE,
				    "connected to %s, but it sent no greeting "
				    "in time: port 465 expects TLS from the "
				    "start, not %s", t->where, t->starttls ?
				    "STARTTLS" : "plain SMTP");
			}
			if (ct > 0)
				return error_set(err, EX_TEMPFAIL, "connected to "
				    "%s, but it sent no greeting in time",
				    t->where);
			return error_set(err, EX_TEMPFAIL, "connection to %s "
			    "timed out", t->where);
		}
		break;
	default:
		break;
	}

	/* The step the server's last word was about. */
	switch (st->step) {
	case TS_BODY:
		/* Every octet went out (libcurl then sends the dot at
		 * once): a reset before that is a plain failed send. */
		if (st->body_eof && st->sent >= st->nread) {
			/* The duplicate window: the server may have it. */
			res->unknown = 1;
			finish_accepted(res, RCPT_TEMPFAIL, NULL);
			return error_set(err, EX_TEMPFAIL, "cannot send to %s: "
			    "connection lost after the end of data: the "
			    "message may have been delivered (possible "
			    "duplicate)%s", t->where,
			    rc == CURLE_OPERATION_TIMEDOUT ?
			    " (no reply in time)" : "");
		}
		finish_accepted(res, RCPT_TEMPFAIL, NULL);
		return error_set(err, EX_TEMPFAIL, "cannot send to %s: "
		    "connection lost while sending the message: %s",
		    t->where, cerr);
	case TS_DOT:
	case TS_DATA:
		r = &st->rep[st->step];
		if (r->code == 0 && rc == CURLE_OPERATION_TIMEDOUT) {
			/* DATA unanswered: nothing of the message went out */
			finish_accepted(res, RCPT_TEMPFAIL, NULL);
			return error_set(err, EX_TEMPFAIL, "cannot send to %s: "
			    "%s", t->where, cerr);
		}
		code = transport_exitcode(rc, r->code);
		finish_accepted(res, code == EX_TEMPFAIL ? RCPT_TEMPFAIL :
		    RCPT_PERMFAIL, r);
		return error_set(err, code, "cannot send to %s: %s: %s",
		    t->where, st->step == TS_DOT ? "message refused after "
		    "the end of data" : "DATA refused",
		    reply_str(r, rb, sizeof(rb)));
	case TS_RCPT:
		for (i = 0; i < res->n; i++) {
			if (res->rcpt[i].state == RCPT_TEMPFAIL)
				n4++;
			else if (res->rcpt[i].state == RCPT_PERMFAIL)
				n5++;
			else
				continue;
			if (first == (size_t)-1)
				first = i;
		}
		if (rc == CURLE_SEND_ERROR && first != (size_t)-1 &&
		    n4 + n5 == res->n) {
			snprintf(rb, sizeof(rb), "%d %s",
			    res->rcpt[first].code,
			    res->rcpt[first].reply != NULL ?
			    res->rcpt[first].reply : "");
			if (n4 == 0)
				return error_set(err, EX_NOUSER, "cannot send "
				    "to %s: all recipients refused: %s",
				    t->where, rb);
			return error_set(err, EX_TEMPFAIL, "cannot send to "
			    "%s: no recipient accepted: %s", t->where, rb);
		}
		break;
	case TS_MAIL:
	case TS_EHLO:
	case TS_HELO:
		r = &st->rep[st->step];
		if (r->code >= 400)
			return error_set(err, transport_exitcode(rc, r->code),
			    "cannot send to %s: %s refused: %s", t->where,
			    st->step == TS_MAIL ? "MAIL FROM" :
			    st->step == TS_EHLO ? "EHLO" : "HELO",
			    reply_str(r, rb, sizeof(rb)));
		break;
	case TS_AUTH:
		r = &st->rep[TS_AUTH];
		/* libcurl gives up at an error challenge (Gmail's 334) */
		if (r->code == 0 && st->challenge.code != 0)
			r = &st->challenge;
		if (r->code != 0) {
			char *why = st->challenge.text == NULL ? NULL :
			    oauth2_explain_challenge(st->challenge.text,
			    t->oauth2_acct == NULL ? NULL :
			    t->oauth2_acct->name != NULL ?
			    t->oauth2_acct->name : "default");

			error_set(err, transport_exitcode(rc, r->code),
			    "cannot send to %s: authentication failed: %s%s%s",
			    t->where, reply_str(r, rb, sizeof(rb)),
			    why != NULL ? "; " : "", why != NULL ? why : "");
			free(why);
			return -1;
		}
		break;
	case TS_GREETING:
		r = &st->rep[TS_GREETING];
		if (r->code != 0 && r->code / 100 != 2)
			return error_set(err, transport_exitcode(rc, r->code),
			    "cannot send to %s: server refused the "
			    "connection: %s", t->where,
			    reply_str(r, rb, sizeof(rb)));
		break;
	default:
		break;
	}
	if (rc == CURLE_LOGIN_DENIED)
		/* libcurl found no mechanism both sides know */
		return error_set(err, EX_UNAVAILABLE, "cannot send to %s: "
		    "authentication failed: no usable mechanism (%s)",
		    t->where, cerr);
	code = transport_exitcode(rc, st->last.code);
	if (st->step == TS_BODY || st->step == TS_DOT)
		finish_accepted(res, code == EX_TEMPFAIL ? RCPT_TEMPFAIL :
		    RCPT_PERMFAIL, NULL);
	if (st->last.code != 0)
		return error_set(err, code, "cannot send to %s: %s (last "
		    "reply: %s)", t->where, cerr, reply_str(&st->last, rb,
		    sizeof(rb)));
	return error_set(err, code, "cannot send to %s: %s", t->where, cerr);
}
