/*
 * transport_probe(): the diagnostics' SMTP session (diag.h), beside
 * transport_send() in transport.c and sharing its set-up, callbacks and
 * result meanings (transport_int.h).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "error.h"
#include "log.h"
#include "message.h"
#include "outcome.h"
#include "transport.h"
#include "transport_int.h"
#include "util.h"
#include "xmalloc.h"

/*
 * transport_probe(): the diagnostics' connection (diag.h).  libcurl 7.88.1
 * sends one command instead of a mail transaction when nothing is
 * uploaded: with CURLOPT_MAIL_RCPT and no CURLOPT_CUSTOMREQUEST "VRFY
 * local@domain" (the brackets stripped), with both "CUSTOM rcpt" (EXPN;
 * it adds " SMTPUTF8" when the server offers it), with neither the
 * custom request or "HELP".  A reply other than 2xx (553 to VRFY aside)
 * is CURLE_WEIRD_SERVER_REPLY "Command failed: N".  The reply lines go to
 * the header callback as always, and with CURLOPT_NOBODY not also to the
 * write callback (whose default is stdout).
 */
#define PROBE_LINES_MAX	2000	/* dialogue lines kept */

struct probe_ctx {
	struct transport	*t;
	struct transport_probe	*p;
};

static void
probe_add(struct transport_probe *p, const char *dir, const char *l,
    size_t len)
{
	struct buf	b = BUF_INIT;

	if (p->dialogue.n >= PROBE_LINES_MAX)
		return;
	buf_addstr(&b, dir);
	buf_add(&b, l, len < LINE_MAX_LEN ? len : LINE_MAX_LEN);
	strlist_add_owned(&p->dialogue, buf_detach(&b));
}

/* Records the dialogue, then libcurl's trace goes on as for a send. */
static int
probe_debug(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	struct probe_ctx	*c = arg;
	struct buf		 b = BUF_INIT;
	size_t			 len, off;

	switch (type) {
	case CURLINFO_HEADER_OUT:
		for (len = size; len > 0 && (data[len - 1] == '\n' ||
		    data[len - 1] == '\r'); len--)
			;
		/* before on_debug() moves the AUTH state on */
		transport_redact(data, len, c->t->st.in_auth, &b);
		probe_add(c->p, "-> ", buf_str(&b), b.len);
		buf_release(&b);
		break;
	case CURLINFO_HEADER_IN:
		for (off = 0; off < size; off += len + 1) {
			for (len = 0; off + len < size && data[off + len] !=
			    '\n'; len++)
				;
			probe_add(c->p, "<- ", data + off, len > 0 &&
			    data[off + len - 1] == '\r' ? len - 1 : len);
		}
		break;
	case CURLINFO_TEXT:
		if (size > 21 && memcmp(data, "SSL connection using ", 21) ==
		    0 && c->p->tls == NULL) {
			len = data[size - 1] == '\n' ? size - 1 : size;
			c->p->tls = xstrndup(data + 21, len - 21);
		}
		break;
	default:
		break;
	}
	return on_debug(h, type, data, size, c->t);
}

/* "AB:CD:..." of the certificate in PEM, or NULL. */
static char *
pem_sha256(const char *pem)
{
#ifdef HAVE_OPENSSL
	BIO		*bio;
	X509		*x;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 n = 0, i;
	char		*out = NULL;

	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL)
		return NULL;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (x != NULL && X509_digest(x, EVP_sha256(), md, &n) == 1 &&
	    n == FP_LEN) {
		out = xmalloc(FP_LEN * 3);
		for (i = 0; i < FP_LEN; i++)
			snprintf(out + i * 3, 4, "%02X%s", md[i],
			    i + 1 < FP_LEN ? ":" : "");
	}
	X509_free(x);
	return out;
#else
	(void)pem;
	return NULL;
#endif
}

static void
probe_certs(struct transport *t, struct transport_probe *p)
{
	struct curl_certinfo	*ci = NULL;
	struct curl_slist	*s;
	int			 i;

	if (curl_easy_getinfo(t->curl, CURLINFO_CERTINFO, &ci) != CURLE_OK ||
	    ci == NULL || ci->num_of_certs <= 0)
		return;
	p->certs = xcalloc((size_t)ci->num_of_certs, sizeof(*p->certs));
	for (i = 0; i < ci->num_of_certs; i++, p->ncerts++)
		for (s = ci->certinfo[i]; s != NULL; s = s->next) {
			if (strncmp(s->data, "Cert:", 5) == 0)
				p->certs[i].sha256 = pem_sha256(s->data + 5);
			else
				strlist_add(&p->certs[i].info, s->data);
		}
}

int
transport_probe(struct transport *t, const char *cmd, const char *arg,
    struct transport_probe *p, struct error *err)
{
	struct probe_ctx	 c;
	struct envelope		 none;
	struct curl_slist	*rcpt = NULL;
	CURLcode		 rc = CURLE_OK;
	int			 ret = 0;

	memset(p, 0, sizeof(*p));
	c.t = t;
	c.p = p;
	outcome_init(&p->res, 0);
	p->relay = xstrdup(t->where);
	p->implicit_tls = t->implicit_tls;
	p->starttls = t->starttls;
	p->auth = t->auth;
	/* CUSTOMREQUEST and the address go out verbatim */
	if (arg != NULL && (str_has_crlf(arg) || *arg == '\0'))
		return error_set(err, EX_USAGE, "invalid argument for %s: "
		    "empty, or it contains CR or LF", cmd);
	if (cmd != NULL && strcmp(cmd, "VRFY") == 0 && arg != NULL)
		cmd = NULL;	/* libcurl's own VRFY for a recipient */
	else if (cmd == NULL)
		cmd = "NOOP";
	if (arg != NULL && (rcpt = curl_slist_append(NULL, arg)) == NULL)
		return error_set(err, EX_OSERR, "out of memory");

	SETOPT(t, CURLOPT_UPLOAD, 0L);
	SETOPT(t, CURLOPT_NOBODY, 1L);
	SETOPT(t, CURLOPT_CUSTOMREQUEST, cmd);
	SETOPT(t, CURLOPT_MAIL_RCPT, rcpt);
	SETOPT(t, CURLOPT_CERTINFO, 1L);
	SETOPT(t, CURLOPT_FRESH_CONNECT, 1L);
	SETOPT(t, CURLOPT_DEBUGFUNCTION, probe_debug);
	SETOPT(t, CURLOPT_DEBUGDATA, &c);
	if (rc == CURLE_OK) {
		rc = perform(t, &p->res, NULL, -1);
		/* a refused OAuth2 token is renewed once, as for a send */
		if (rc == CURLE_LOGIN_DENIED && renew_bearer(t) == 0)
			rc = perform(t, &p->res, NULL, -1);
	} else
		ret = error_set(err, EX_SOFTWARE, "cannot set up libcurl for "
		    "%s: %s", t->where, curl_easy_strerror(rc));
	probe_certs(t, p);
	p->untrusted = rc == CURLE_PEER_FAILED_VERIFICATION;
	/* the probe command is the only one a send never makes */
	p->code = t->st.rep[TS_OTHER].code;
	p->answered = p->code != 0;
	if (ret == 0 && rc != CURLE_OK) {
		memset(&none, 0, sizeof(none));
		if (interpret(t, rc, &none, &p->res, err) == -1)
			classify(t, rc, &p->res, err);
		ret = -1;
	}
	t->fresh = 1;
	curl_easy_setopt(t->curl, CURLOPT_DEBUGFUNCTION, on_debug);
	curl_easy_setopt(t->curl, CURLOPT_DEBUGDATA, t);
	curl_easy_setopt(t->curl, CURLOPT_MAIL_RCPT, NULL);
	curl_easy_setopt(t->curl, CURLOPT_CUSTOMREQUEST, NULL);
	curl_easy_setopt(t->curl, CURLOPT_CERTINFO, 0L);
	curl_easy_setopt(t->curl, CURLOPT_NOBODY, 0L);
	curl_easy_setopt(t->curl, CURLOPT_UPLOAD, 1L);
	curl_slist_free_all(rcpt);
	return ret;
}

void
transport_probe_release(struct transport_probe *p)
{
	size_t	i;

	if (p == NULL)
		return;
	free(p->relay);
	strlist_release(&p->dialogue);
	free(p->tls);
	for (i = 0; i < p->ncerts; i++) {
		strlist_release(&p->certs[i].info);
		free(p->certs[i].sha256);
	}
	free(p->certs);
	outcome_release(&p->res);
	memset(p, 0, sizeof(*p));
}
