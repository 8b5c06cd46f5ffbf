/*
 * A small HTTPS POST through libcurl, for the OAuth2 token endpoint
 * (oauth2.h): a form-urlencoded body, the response in a bounded buffer.
 * With the transport (transport.c, relayerr.c, tls.c) the only module
 * that includes <curl/curl.h>.
 */
#ifndef POSTIE_HTTP_H
#define POSTIE_HTTP_H

#include <stddef.h>

struct error;

#define HTTP_BODY_MAX	(64 * 1024)	/* a response body */
#define HTTP_TIMEOUT	60		/* seconds for the whole request */

struct http_response {
	long	 status;	/* the HTTP status code */
	char	*body;		/* owned, NUL-terminated; may hold secrets */
	size_t	 len;
};
#define HTTP_RESPONSE_INIT	{ 0, NULL, 0 }

/* Wipes and frees the body; accepts a zeroed response. */
void	http_response_release(struct http_response *);

/*
 * 1 when url may carry secrets: https://, or http:// to a loopback
 * address (127.0.0.0/8, ::1, localhost).  0 otherwise (and for anything
 * libcurl cannot parse as a URL).  Pure but for libcurl's URL parser.
 */
int	http_url_allowed(const char *url);

/*
 * POST fields (name, value, name, value, ..., NULL; each URL-encoded
 * here) to url as application/x-www-form-urlencoded.  https:// is
 * verified against cafile (NULL or "system": the system store); no
 * redirects, no proxy from the environment; timeout seconds for the
 * whole request (0: HTTP_TIMEOUT).  Any HTTP status is a success: the
 * caller reads res->status.
 * Errors: EX_CONFIG (url not allowed: see http_url_allowed()),
 * EX_CONFIG also when the server's certificate is not trusted or the CA
 * file cannot be read, EX_TEMPFAIL (DNS, connect, other TLS failures,
 * timeout), EX_DATAERR (a body over
 * HTTP_BODY_MAX), EX_SOFTWARE (libcurl set-up).  Messages name the URL
 * without its query and never quote a field.
 */
int	http_post_form(const char *url, const char *const *fields,
	    const char *cafile, long timeout, struct http_response *res,
	    struct error *);

#endif
