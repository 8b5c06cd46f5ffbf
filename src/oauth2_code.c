/*
 * The authorization code flow with PKCE (RFC 7636) and a loopback
 * redirect (RFC 8252 7.3) for --oauth2-authorize: beside the device flow
 * and the token file in oauth2.c, sharing its helpers (oauth2_int.h).
 */
#include "autoconfig.h"

#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json.h>
#ifdef HAVE_OPENSSL
#include <openssl/evp.h>
#endif

#include "config.h"
#include "error.h"
#include "http.h"
#include "log.h"
#include "oauth2.h"
#include "secret.h"
#include "util.h"
#include "xmalloc.h"

#include "oauth2_int.h"

/* The authorization code flow with PKCE. */

#define REQUEST_MAX	8192	/* of the browser's request */
#define REQUEST_WAIT	10	/* seconds for a connection's request */
#define UNRESERVED	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
			"0123456789-._~"

static void
b64url(const unsigned char *p, size_t n, struct buf *out)
{
	static const char	 a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned		 acc = 0;
	int			 bits = 0;
	size_t			 i;

	for (i = 0; i < n; i++) {
		acc = (acc << 8) | p[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			buf_addch(out, a[(acc >> bits) & 0x3f]);
		}
	}
	if (bits > 0)
		buf_addch(out, a[(acc << (6 - bits)) & 0x3f]);
}

int
oauth2_pkce_challenge(const char *verifier, char out[OAUTH2_CHALLENGE_LEN + 1],
    struct error *err)
{
#ifdef HAVE_OPENSSL
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 n = 0;
	struct buf	 b = BUF_INIT;

	if (EVP_Digest(verifier, strlen(verifier), md, &n, EVP_sha256(),
	    NULL) != 1 || n != 32)
		return error_set(err, EX_SOFTWARE, "cannot compute SHA-256");
	b64url(md, n, &b);
	memcpy(out, b.data, OAUTH2_CHALLENGE_LEN);
	out[OAUTH2_CHALLENGE_LEN] = '\0';
	buf_release(&b);
	explicit_bzero(md, sizeof(md));
	return 0;
#else
	(void)verifier;
	out[0] = '\0';
	return error_set(err, EX_SOFTWARE, "postie was built without OpenSSL: "
	    "no SHA-256 for the PKCE code challenge (use the device flow)");
#endif
}

char *
oauth2_auth_endpoint(const struct account *a)
{
	if (a->oauth2_auth_url != NULL)
		return xstrdup(a->oauth2_auth_url);
	if (a->oauth2_provider == OAUTH2_PROVIDER_GOOGLE)
		return xstrdup(GOOGLE_AUTH);
	return NULL;
}

static void
pct_encode(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (strchr(UNRESERVED, *s) != NULL)
			buf_addch(b, *s);
		else
			buf_printf(b, "%%%02X", (unsigned char)*s);
	}
}

static void
query_add(struct buf *b, const char *name, const char *value)
{
	buf_addch(b, b->len == 0 || strchr(buf_str(b), '?') == NULL ? '?' :
	    '&');
	buf_addstr(b, name);
	buf_addch(b, '=');
	pct_encode(b, value);
}

char *
oauth2_auth_url(const char *endpoint, const char *client_id,
    const char *scope, const char *redirect_uri, const char *state,
    const char *challenge)
{
	struct buf	b = BUF_INIT;

	buf_addstr(&b, endpoint);
	/* query_add() starts with '?' unless the URL has one already */
	query_add(&b, "response_type", "code");
	query_add(&b, "client_id", client_id);
	query_add(&b, "redirect_uri", redirect_uri);
	if (scope != NULL)
		query_add(&b, "scope", scope);
	query_add(&b, "state", state);
	query_add(&b, "code_challenge", challenge);
	query_add(&b, "code_challenge_method", "S256");
	query_add(&b, "access_type", "offline");
	query_add(&b, "prompt", "consent");
	return buf_detach(&b);
}

/* application/x-www-form-urlencoded value of n bytes, decoded. */
static char *
pct_decode_n(const char *s, size_t n)
{
	struct buf	b = BUF_INIT;
	size_t		i;
	int		hi, lo;

	for (i = 0; i < n; i++) {
		if (s[i] == '+')
			buf_addch(&b, ' ');
		else if (s[i] == '%' && i + 2 < n &&
		    (hi = util_hexval(s[i + 1])) != -1 &&
		    (lo = util_hexval(s[i + 2])) != -1) {
			buf_addch(&b, hi * 16 + lo);
			i += 2;
		} else
			buf_addch(&b, s[i]);
	}
	if (b.data == NULL)
		buf_addstr(&b, "");
	return buf_detach(&b);
}

/* The decoded value of name in query (up to end), or NULL. */
static char *
query_get(const char *q, const char *end, const char *name)
{
	const char	*p, *amp, *eq;
	size_t		 n = strlen(name);

	for (p = q; p < end; p = amp + 1) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq != NULL && (size_t)(eq - p) == n &&
		    memcmp(p, name, n) == 0)
			return pct_decode_n(eq + 1, (size_t)(amp - eq - 1));
	}
	return NULL;
}

int
oauth2_redirect_parse(const char *line, const char *state, char **code,
    struct error *err)
{
	const char	*target, *sp, *q;
	char		*got_state, *error, *desc;
	struct buf	 b = BUF_INIT;
	int		 rc;

	*code = NULL;
	if (strncmp(line, "GET ", 4) != 0)
		return 0;
	target = line + 4;
	if ((sp = strchr(target, ' ')) == NULL)
		sp = target + strlen(target);
	if (target[0] != '/' || (target[1] != '?' && target + 1 != sp))
		return 0;	/* not our path, "/" */
	q = target[1] == '?' ? target + 2 : sp;
	error = query_get(q, sp, "error");
	*code = query_get(q, sp, "code");
	if (error == NULL && *code == NULL)
		return 0;
	got_state = query_get(q, sp, "state");
	if (got_state == NULL || strcmp(got_state, state) != 0)
		rc = error_set(err, EX_PROTOCOL, "the authorization redirect "
		    "carries %s state: it is not the request this postie "
		    "started; run --oauth2-authorize again", got_state == NULL ?
		    "no" : "another");
	else if (error != NULL) {
		buf_add_escaped(&b, error, strnlen(error, DESC_MAX));
		if ((desc = query_get(q, sp, "error_description")) != NULL) {
			buf_addstr(&b, ": ");
			buf_add_escaped(&b, desc, strnlen(desc, DESC_MAX));
			free(desc);
		}
		rc = error_set(err, EX_NOPERM, "the OAuth2 authorization was "
		    "%s (%s)", strcmp(error, "access_denied") == 0 ?
		    "declined" : "refused", buf_str(&b));
		buf_release(&b);
	} else
		rc = 1;
	free(error);
	free(got_state);
	if (rc != 1) {
		freezero_str(*code);
		*code = NULL;
	}
	return rc;
}

/* n random characters of the unreserved set (RFC 7636 4.1). */
static char *
random_string(size_t n, struct error *err)
{
	unsigned char	*r;
	char		*s;
	size_t		 i;

	r = xmalloc(n);
	if (getrandom(r, n, 0) != (ssize_t)n) {
		free(r);
		error_set_errno(err, EX_OSERR, "cannot get random bytes");
		return NULL;
	}
	s = xmalloc(n + 1);
	for (i = 0; i < n; i++)
		s[i] = UNRESERVED[r[i] % 64];	/* the first 64: A-Z a-z 0-9 - . */
	s[n] = '\0';
	explicit_bzero(r, n);
	free(r);
	return s;
}

/* A listening socket on 127.0.0.1 and a port the kernel picks. */
static int
loopback_listen(int *port, struct error *err)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return error_set_errno(err, EX_OSERR, "cannot create a socket "
		    "for the authorization redirect");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 4) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		error_set_errno(err, EX_OSERR, "cannot listen on 127.0.0.1 for "
		    "the authorization redirect");
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

static long long
mono_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec;
}

/* Milliseconds left until deadline (seconds), for poll(): never < 0. */
static int
ms_left(long long deadline)
{
	long long	left = deadline - mono_now();

	return left <= 0 ? 0 : (int)(left * 1000);
}

/* The request line of one connection (NULL when none came in time). */
static char *
read_request(int fd)
{
	char		 buf[REQUEST_MAX + 1];
	size_t		 n = 0;
	ssize_t		 r;
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	long long	 deadline = mono_now() + REQUEST_WAIT;
	char		*eol, *line = NULL;

	while (n < REQUEST_MAX) {
		if (poll(&pfd, 1, ms_left(deadline)) <= 0)
			break;
		r = read(fd, buf + n, REQUEST_MAX - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		buf[n] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL ||
		    strstr(buf, "\n\n") != NULL)
			break;
	}
	buf[n] = '\0';
	if ((eol = strchr(buf, '\n')) != NULL) {
		if (eol > buf && eol[-1] == '\r')
			eol--;
		line = xstrndup(buf, (size_t)(eol - buf));
	}
	explicit_bzero(buf, sizeof(buf));
	return line;
}

static void
answer(int fd, int status, const char *text)
{
	char	*r;

	r = xasprintf("HTTP/1.1 %d %s\r\nContent-Type: text/plain; "
	    "charset=utf-8\r\nContent-Length: %zu\r\nConnection: close\r\n"
	    "Cache-Control: no-store\r\n\r\n%s\n", status, status == 200 ?
	    "OK" : status == 404 ? "Not Found" : "Bad Request",
	    strlen(text) + 1, text);
	(void)util_write_all(fd, r, strlen(r));
	free(r);
}

/*
 * A line pasted on standard input: the address the browser ended on
 * (http://127.0.0.1:PORT/?code=...&state=..., when it could not reach
 * this machine), read as the redirect's request.  0 when it is not one.
 */
static int
pasted(const char *line, const char *state, char **code, struct error *err)
{
	const char	*q = strchr(line, '?');
	char		*req;
	size_t		 n;
	int		 rc;

	if (q == NULL)
		return 0;
	n = strcspn(q, " \t\r\n");
	req = xasprintf("GET /%.*s HTTP/1.1", (int)n, q);
	rc = oauth2_redirect_parse(req, state, code, err);
	freezero_str(req);
	return rc;
}

/* Append what stdin has to b: 0, or -1 at its end (or an error: stdin
 * is then no longer watched). */
static int
stdin_more(struct buf *b)
{
	char	 c[512];
	ssize_t	 r;

	r = read(STDIN_FILENO, c, sizeof(c));
	if (r <= 0)
		return -1;
	if (b->len >= REQUEST_MAX && memchr(b->data, '\n', b->len) == NULL) {
		explicit_bzero(b->data, b->len);	/* no address is that */
		buf_reset(b);				/* long: drop it */
	}
	if (b->len < REQUEST_MAX)
		buf_add(b, c, (size_t)r);
	explicit_bzero(c, sizeof(c));
	return 0;
}

/* The first whole line of b, taken out of it (allocated, a secret), or
 * NULL when there is none yet. */
static char *
next_line(struct buf *b)
{
	char	*nl, *line;
	size_t	 n;

	if (b->len == 0 || (nl = memchr(b->data, '\n', b->len)) == NULL)
		return NULL;
	n = (size_t)(nl - b->data);
	line = xstrndup(b->data, n);
	memmove(b->data, nl + 1, b->len - n - 1);
	explicit_bzero(b->data + b->len - n - 1, n + 1);
	b->len -= n + 1;
	b->data[b->len] = '\0';
	return line;
}

/*
 * Wait for the browser at the loopback redirect, or for its address
 * pasted on standard input: *code (a secret) from the first request
 * that is the redirect.
 */
static int
wait_code(int lfd, const char *state, char **code, struct error *err)
{
	struct pollfd	 pfd[2] = { { lfd, POLLIN, 0 },
			    { STDIN_FILENO, POLLIN, 0 } };
	struct buf	 in = BUF_INIT;
	long long	 deadline = mono_now() + OAUTH2_CODE_WAIT;
	char		*line;
	nfds_t		 nfds = 2;
	int		 fd, rc = 0, r;

	buf_grow(&in, REQUEST_MAX + 512);	/* never moves */
	while (rc == 0) {
		if (mono_now() >= deadline) {
			rc = error_set(err, EX_TEMPFAIL, "no browser came "
			    "back with the authorization within %d seconds: "
			    "run --oauth2-authorize again", OAUTH2_CODE_WAIT);
			break;
		}
		r = poll(pfd, nfds, ms_left(deadline));
		if (r == -1 && errno != EINTR) {
			rc = error_set_errno(err, EX_OSERR, "cannot wait for "
			    "the authorization redirect");
			break;
		}
		if (r <= 0)
			continue;
		if (nfds == 2 && pfd[1].revents != 0) {
			if (stdin_more(&in) == -1)
				nfds = 1;	/* no more input: the browser */
			while (rc == 0 && (line = next_line(&in)) != NULL) {
				rc = pasted(line, state, code, err);
				if (rc == 0)
					log_warnx("that is not the address "
					    "the browser ended on (it starts "
					    "with http://127.0.0.1:): paste it "
					    "whole, or wait for the browser");
				freezero_str(line);
			}
			continue;
		}
		if ((pfd[0].revents & POLLIN) == 0 ||
		    (fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
			continue;
		line = read_request(fd);
		rc = line != NULL ? oauth2_redirect_parse(line, state, code,
		    err) : 0;
		if (line != NULL)
			freezero_str(line);
		if (rc == 1)
			answer(fd, 200, "postie has the authorization; you may "
			    "close this window.");
		else if (rc == -1)
			answer(fd, 400, err->msg);
		else
			answer(fd, 404, "Not the authorization redirect.");
		close(fd);
	}
	if (in.data != NULL)
		explicit_bzero(in.data, in.cap);
	buf_release(&in);
	return rc == 1 ? 0 : -1;
}

/* The code for tokens at the token endpoint (c gets them). */
static int
code_exchange(const struct account *a, const struct oauth2_ctx *x,
    const char *code, const char *verifier, const char *redirect,
    struct oauth2_cache *c, struct error *err)
{
	struct http_response	 res = HTTP_RESPONSE_INIT;
	const char		*f[15];
	char			*secret;
	size_t			 n = 0;
	int			 rc;

	if (client_secret(a, c, &secret, err) == -1)
		return -1;
	f[n++] = "grant_type";
	f[n++] = "authorization_code";
	f[n++] = "code";
	f[n++] = code;
	f[n++] = "redirect_uri";
	f[n++] = redirect;
	f[n++] = "client_id";
	f[n++] = a->oauth2_client_id;
	f[n++] = "code_verifier";
	f[n++] = verifier;
	if (secret != NULL) {
		f[n++] = "client_secret";
		f[n++] = secret;
	}
	f[n] = NULL;
	rc = post(a, x->url, f, &res, err);
	freezero_str(secret);
	if (rc == 0)
		rc = oauth2_response_parse(x, res.status, res.body, res.len,
		    (long long)time(NULL), c, err);
	http_response_release(&res);
	if (rc == 0 && c->refresh_token == NULL)
		rc = error_set(err, EX_PROTOCOL, "%s gave account '%s' no "
		    "refresh_token: postie could not renew the access token "
		    "(the provider must grant offline access)", x->url,
		    x->account);
	return rc;
}

int
code_flow(const struct account *a, const struct oauth2_ctx *x,
    const char *endpoint, oauth2_show_fn show, void *arg,
    struct oauth2_cache *c, struct error *err)
{
	char	 challenge[OAUTH2_CHALLENGE_LEN + 1];
	char	*verifier = NULL, *state = NULL, *redirect = NULL, *url = NULL;
	char	*code = NULL;
	int	 lfd = -1, port = 0, rc = -1;

	if ((verifier = random_string(OAUTH2_VERIFIER_LEN, err)) == NULL ||
	    (state = random_string(24, err)) == NULL ||
	    oauth2_pkce_challenge(verifier, challenge, err) == -1 ||
	    (lfd = loopback_listen(&port, err)) == -1)
		goto done;
	redirect = xasprintf("http://127.0.0.1:%d/", port);
	url = oauth2_auth_url(endpoint, a->oauth2_client_id, oauth2_scope(a),
	    redirect, state, challenge);
	show(x->account, url, NULL, redirect, arg);
	if (wait_code(lfd, state, &code, err) == 0 &&
	    code_exchange(a, x, code, verifier, redirect, c, err) == 0)
		rc = 0;
done:
	if (lfd != -1)
		close(lfd);
	freezero_str(verifier);
	freezero_str(code);
	free(state);
	free(redirect);
	free(url);
	return rc;
}
