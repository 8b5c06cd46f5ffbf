/*
 * HTTPS POST on a libcurl easy handle, for the OAuth2 token endpoint.
 * The request body and the response may hold secrets: both are wiped,
 * and each is one buffer sized before the first byte goes in, so no
 * realloc() leaves a copy behind.  libcurl's own send and receive
 * buffers and OpenSSL's record buffers are not ours to wipe.
 */
#include "autoconfig.h"

#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "error.h"
#include "http.h"
#include "util.h"
#include "xmalloc.h"

#define CONNECT_TIMEOUT	30

struct sink {
	struct buf	b;
	int		overflow;
};

void
http_response_release(struct http_response *res)
{
	if (res == NULL)
		return;
	if (res->body != NULL)
		explicit_bzero(res->body, res->len);
	free(res->body);
	res->body = NULL;
	res->len = 0;
	res->status = 0;
}

/* 127.0.0.0/8, ::1 (with or without brackets) or "localhost". */
static int
loopback(const char *host)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;
	char		 h[64];
	size_t		 n = strlen(host);

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n >= sizeof(h))
		return 0;
	memcpy(h, host, n);
	h[n] = '\0';
	if (inet_pton(AF_INET, h, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, h, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

int
http_url_allowed(const char *url)
{
	CURLU	*u;
	char	*scheme = NULL, *host = NULL;
	int	 ok = 0;

	if ((u = curl_url()) == NULL)
		return 0;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		if (strcasecmp(scheme, "https") == 0)
			ok = 1;
		else if (strcasecmp(scheme, "http") == 0)
			ok = loopback(host);
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

/* The URL for messages: without user info, query or fragment. */
static char *
url_shown(const char *url)
{
	CURLU	*u;
	char	*s = NULL, *r;

	if ((u = curl_url()) == NULL)
		return xstrdup("(the token URL)");
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_QUERY, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK)
		(void)curl_url_get(u, CURLUPART_URL, &s, 0);
	curl_url_cleanup(u);
	r = xstrdup(s != NULL ? s : "(the token URL)");
	curl_free(s);
	return r;
}

static size_t
on_write(char *p, size_t size, size_t n, void *arg)
{
	struct sink	*s = arg;
	size_t		 total = size * n;

	if (total > HTTP_BODY_MAX || s->b.len + total > HTTP_BODY_MAX) {
		s->overflow = 1;
		return 0;	/* CURLE_WRITE_ERROR */
	}
	buf_add(&s->b, p, total);
	return total;
}

/* name=value&... with every name and value URL-encoded; a secret. */
static int
form_body(CURL *h, const char *const *fields, struct buf *body)
{
	char	*e;
	size_t	 i, room = 0;

	/* sized once (3 octets per encoded byte): a secret never moves */
	for (i = 0; fields[i] != NULL && fields[i + 1] != NULL; i += 2)
		room += 3 * (strlen(fields[i]) + strlen(fields[i + 1])) + 2;
	buf_grow(body, room);

	for (i = 0; fields[i] != NULL && fields[i + 1] != NULL; i += 2) {
		if (i > 0)
			buf_addch(body, '&');
		if ((e = curl_easy_escape(h, fields[i], 0)) == NULL)
			return -1;
		buf_addstr(body, e);
		curl_free(e);
		buf_addch(body, '=');
		if ((e = curl_easy_escape(h, fields[i + 1], 0)) == NULL)
			return -1;
		buf_addstr(body, e);
		explicit_bzero(e, strlen(e));
		curl_free(e);
	}
	return 0;
}

#define SETOPT(opt, val) do {						\
	if (rc == CURLE_OK)						\
		rc = curl_easy_setopt(h, (opt), (val));			\
} while (0)

static CURLcode
set_options(CURL *h, const char *url, const char *body, const char *cafile,
    long timeout, struct curl_slist *hdrs, struct sink *sink, char *errbuf)
{
	CURLcode	rc = CURLE_OK;

	SETOPT(CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	SETOPT(CURLOPT_PROTOCOLS_STR, "https,http");
#else
	SETOPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTPS | CURLPROTO_HTTP));
#endif
	SETOPT(CURLOPT_PROXY, "");
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(CURLOPT_CONNECTTIMEOUT, timeout < CONNECT_TIMEOUT ? timeout :
	    (long)CONNECT_TIMEOUT);
	SETOPT(CURLOPT_TIMEOUT, timeout);
	SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	if (cafile != NULL && strcmp(cafile, "system") != 0)
		SETOPT(CURLOPT_CAINFO, cafile);
	SETOPT(CURLOPT_HTTPHEADER, hdrs);
	SETOPT(CURLOPT_POSTFIELDS, body);
	SETOPT(CURLOPT_WRITEFUNCTION, on_write);
	SETOPT(CURLOPT_WRITEDATA, sink);
	SETOPT(CURLOPT_USERAGENT, "postie/" PACKAGE_VERSION);
	return rc;
}

/* What a failed perform means: a setup fault, or worth a later try. */
static int
perform_code(CURLcode rc)
{
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return EX_CONFIG;
	case CURLE_OUT_OF_MEMORY:
		return EX_OSERR;
	default:
		return EX_TEMPFAIL;
	}
}

static int
post(CURL *h, const char *url, const char *shown, const char *const *fields,
    const char *cafile, long timeout, struct http_response *res,
    struct error *err)
{
	struct buf		 body = BUF_INIT;
	struct sink		 sink = { BUF_INIT, 0 };
	struct curl_slist	*hdrs;
	char			 errbuf[CURL_ERROR_SIZE] = "";
	CURLcode		 rc;
	int			 ret = -1;

	/* the answer holds tokens: its buffer is sized once, never moved */
	buf_grow(&sink.b, HTTP_BODY_MAX);
	hdrs = curl_slist_append(NULL, "Accept: application/json");
	if (hdrs == NULL || form_body(h, fields, &body) == -1) {
		error_set(err, EX_OSERR, "%s: out of memory", shown);
		goto done;
	}
	rc = set_options(h, url, buf_str(&body), cafile, timeout, hdrs,
	    &sink, errbuf);
	if (rc != CURLE_OK) {
		error_set(err, EX_SOFTWARE, "cannot set up libcurl for %s: %s",
		    shown, curl_easy_strerror(rc));
		goto done;
	}
	rc = curl_easy_perform(h);
	if (sink.overflow)
		error_set(err, EX_DATAERR, "%s: the response is larger than "
		    "%d bytes", shown, HTTP_BODY_MAX);
	else if (rc != CURLE_OK)
		error_set(err, perform_code(rc), "cannot reach %s: %s", shown,
		    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
	else {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
		res->len = sink.b.len;
		res->body = buf_detach(&sink.b);
		ret = 0;
	}
done:
	curl_slist_free_all(hdrs);
	if (body.data != NULL)
		explicit_bzero(body.data, body.len);
	buf_release(&body);
	if (sink.b.data != NULL)
		explicit_bzero(sink.b.data, sink.b.len);
	buf_release(&sink.b);
	return ret;
}

int
http_post_form(const char *url, const char *const *fields,
    const char *cafile, long timeout, struct http_response *res,
    struct error *err)
{
	CURL	*h;
	char	*shown;
	int	 rc;

	shown = url_shown(url);
	if (!http_url_allowed(url)) {
		error_set(err, EX_CONFIG, "refusing to send credentials to %s: "
		    "the URL must be https:// (or http:// to a loopback "
		    "address)", shown);
		free(shown);
		return -1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(shown);
		return error_set(err, EX_SOFTWARE, "cannot initialise libcurl");
	}
	if ((h = curl_easy_init()) == NULL) {
		curl_global_cleanup();
		free(shown);
		return error_set(err, EX_SOFTWARE, "cannot create a libcurl "
		    "handle");
	}
	rc = post(h, url, shown, fields, cafile, timeout > 0 ? timeout :
	    HTTP_TIMEOUT, res, err);
	curl_easy_cleanup(h);
	curl_global_cleanup();
	free(shown);
	return rc;
}
