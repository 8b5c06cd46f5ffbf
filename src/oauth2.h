/*
 * OAuth2 bearer tokens that refresh themselves: the account's token file
 * (oauth2_token_file, JSON) holds the access token, its expiry and the
 * refresh token; before AUTH the transport asks oauth2_token(), which
 * refreshes at the token endpoint when the access token is about to
 * expire, under a lock on the file.  The only module that uses json-c.
 */
#ifndef POSTIE_OAUTH2_H
#define POSTIE_OAUTH2_H

#include <stddef.h>

struct account;
struct error;

/* An access token is used while it has more than this left (seconds). */
#define OAUTH2_MARGIN		300
/* expires_in when the token endpoint sends none (RFC 6749 5.1). */
#define OAUTH2_DEFAULT_LIFETIME	3600
#define OAUTH2_FILE_MAX		(64 * 1024)

/*
 * The token file's content.  All strings owned; the secrets are wiped
 * by oauth2_cache_release().  getmail's token files carry client_id,
 * client_secret and token_uri as well: they are used when the account
 * sets none.
 */
struct oauth2_cache {
	char		*access_token;	/* secret */
	char		*refresh_token;	/* secret */
	long long	 expires_at;	/* epoch seconds; 0: unknown */
	char		*client_id;
	char		*client_secret;	/* secret */
	char		*token_uri;
};
#define OAUTH2_CACHE_INIT	{ NULL, NULL, 0, NULL, NULL, NULL }

void	oauth2_cache_release(struct oauth2_cache *);

/*
 * Parse a token file's text (len bytes; an empty text is an empty
 * cache).  what names the file in messages.  Unknown members are
 * ignored.  Errors: EX_CONFIG (not a JSON object, a member of the wrong
 * type).  Pure.
 */
int	oauth2_cache_parse(const char *text, size_t len, const char *what,
	    struct oauth2_cache *, struct error *);

/* 1 when the access token has more than OAUTH2_MARGIN seconds left at
 * now.  Pure. */
int	oauth2_cache_fresh(const struct oauth2_cache *, long long now);

/*
 * The new token file: old (the file's text, len bytes, may be empty)
 * with access_token, refresh_token and expires_at replaced by the
 * cache's, every other member kept.  Returns allocated text (a secret:
 * free it with freezero_str()).  Pure.
 */
char	*oauth2_cache_update(const char *old, size_t len,
	    const struct oauth2_cache *);

/*
 * The account's token endpoint (device 0) or device authorization
 * endpoint (device 1): its oauth2_token_url / oauth2_device_endpoint,
 * else its oauth2_provider's: Microsoft's for oauth2_tenant ("common"
 * when unset, which client credentials refuse: NULL), Google's.  NULL
 * when there is none.  Allocated.  Pure.
 */
char	*oauth2_endpoint(const struct account *, int device);

/*
 * The scope to ask for: oauth2_scope, else the provider's (Microsoft:
 * SMTP.Send offline_access, or .default for client credentials; Google:
 * https://mail.google.com/), else NULL.  Borrowed.  Pure.
 */
const char *oauth2_scope(const struct account *);

/*
 * What a provider's refusal means, in one line with what to do (pure;
 * allocated, or NULL when the text is not one the function knows).
 *
 * oauth2_explain_challenge(): the SASL error challenge an SMTP server
 * sends after a refused XOAUTH2 or OAUTHBEARER token: the 334 reply's
 * text (with or without "334 "), base64 of JSON: Gmail's
 * {"status":"401","schemes":"Bearer","scope":"https://mail.google.com/"}
 * or RFC 7628's {"status":"invalid_token", ...}.
 *
 * oauth2_explain_aadsts(): Microsoft's AADSTSnnnn code in a token
 * endpoint's error_description (AADSTS70008 expired grant, AADSTS50076
 * multi-factor authentication, AADSTS65001 consent, ...); an unknown
 * code gets Microsoft's look-up URL.
 *
 * account names the account in the command to run (for a challenge,
 * NULL when the token is the account's password, not oauth2_*'s).
 */
char	*oauth2_explain_challenge(const char *text, const char *account);
char	*oauth2_explain_aadsts(const char *description, const char *account);

/* What a token endpoint's answer is read for (messages only). */
struct oauth2_ctx {
	const char	*account;
	const char	*file;		/* the token file */
	const char	*url;		/* the token endpoint */
	int		 flow;		/* OAUTH2_FLOW_* (config.h) */
};

/*
 * Read a token endpoint's answer (RFC 6749 5.1, 5.2): on HTTP 200 with
 * an access_token, set the cache's access_token and expires_at (now +
 * expires_in) and its refresh_token when the answer has one (else the
 * old one stays).  Errors (the cache is unchanged):
 *   EX_NOPERM    invalid_grant (re-authorise: the message says so and
 *                names the file), invalid_client, unauthorized_client
 *   EX_TEMPFAIL  HTTP 5xx, 429, 408
 *   EX_CONFIG    any other error the endpoint names, another 4xx
 *   EX_PROTOCOL  an answer that is not a JSON object or has no token
 * The endpoint's error and error_description are quoted, escaped and
 * cut; no token ever is.  Pure.
 */
int	oauth2_response_parse(const struct oauth2_ctx *, long status,
	    const char *body, size_t len, long long now,
	    struct oauth2_cache *, struct error *);

/*
 * The account's access token: the cached one while fresh, else a new
 * one from the token endpoint (refresh_token or client_credentials
 * grant), stored back atomically (tmp, fsync, rename; mode 0600).  The
 * token file must be a regular file owned by the user with no group or
 * other permission bits, and is locked (flock) while it is read and
 * replaced, so that concurrent sends refresh once.  A missing file is
 * created for client_credentials.  *token is allocated: free it with
 * freezero_str().
 * Errors: EX_CONFIG (settings, the file's mode or content), EX_NOPERM
 * (the grant or client refused), EX_TEMPFAIL (the endpoint unreachable
 * or failing for now), those of secret_eval() and http_post_form().
 */
int	oauth2_token(const struct account *, char **token, struct error *);

/*
 * After the server refused the token refused (a 535): oauth2_token(),
 * but refreshing even a fresh token when the file still holds refused
 * (a token revoked before its expiry); one another process renewed
 * meanwhile is taken as it is.  The same errors.
 */
int	oauth2_token_renew(const struct account *, const char *refused,
	    char **token, struct error *);

/*
 * The device authorization flow (RFC 8628), for --oauth2-authorize.
 * The endpoint's first answer: device_code (a secret), user_code, the
 * verification URI (Google spells it verification_url), expires_in and
 * the poll interval (seconds; 5 when absent).
 */
struct oauth2_device {
	char		*device_code;	/* secret */
	char		*user_code;
	char		*uri;
	long long	 expires_in;
	long long	 interval;
};
#define OAUTH2_DEVICE_INIT	{ NULL, NULL, NULL, 0, 0 }

void	oauth2_device_release(struct oauth2_device *);

/*
 * Read the device endpoint's answer.  Errors: those of
 * oauth2_response_parse() for an error answer, EX_PROTOCOL when a
 * member is missing.  Pure.
 */
int	oauth2_device_parse(const struct oauth2_ctx *, long status,
	    const char *body, size_t len, struct oauth2_device *,
	    struct error *);

#define OAUTH2_POLL_DONE	0	/* the cache holds the tokens */
#define OAUTH2_POLL_PENDING	1	/* authorization_pending: again */
#define OAUTH2_POLL_SLOW_DOWN	2	/* slow_down: 5 s more, again */

/*
 * Read the token endpoint's answer to a device_code poll: one of the
 * OAUTH2_POLL_* values, or -1 with EX_NOPERM for access_denied and
 * expired_token, else the errors of oauth2_response_parse().  Pure.
 */
int	oauth2_poll_parse(const struct oauth2_ctx *, long status,
	    const char *body, size_t len, long long now,
	    struct oauth2_cache *, struct error *);

/* The authorization code flow with PKCE (RFC 6749 4.1, RFC 7636). */

#define OAUTH2_VERIFIER_LEN	64	/* code_verifier: 43 to 128 */
#define OAUTH2_CHALLENGE_LEN	43	/* BASE64URL(SHA-256), no padding */
#define OAUTH2_CODE_WAIT	600	/* seconds for the browser */

/*
 * The S256 code_challenge of a code_verifier into out (NUL-terminated).
 * Errors: EX_SOFTWARE when postie was built without OpenSSL.  Pure.
 */
int	oauth2_pkce_challenge(const char *verifier,
	    char out[OAUTH2_CHALLENGE_LEN + 1], struct error *);

/*
 * The account's authorization endpoint: oauth2_authorization_endpoint,
 * else Google's for oauth2_provider google, else NULL.  Allocated.
 */
char	*oauth2_auth_endpoint(const struct account *);

/*
 * The URL the user opens: the endpoint with response_type=code,
 * client_id, redirect_uri, scope, state, code_challenge,
 * code_challenge_method=S256, access_type=offline and prompt=consent
 * (Google's, for a refresh token every time), each percent-encoded.
 * Allocated.  Pure.
 */
char	*oauth2_auth_url(const char *endpoint, const char *client_id,
	    const char *scope, const char *redirect_uri, const char *state,
	    const char *challenge);

/*
 * The browser's request to the loopback redirect, its request line
 * ("GET /?code=...&state=... HTTP/1.1"): 1 with *code (allocated, a
 * secret) when it carries the code and state, 0 when it is not the
 * redirect (another path, no code and no error: a favicon), -1 with
 * EX_NOPERM (error=access_denied or another error the provider
 * names) or EX_PROTOCOL (state missing or not ours: not the request
 * postie started).  Pure.
 */
int	oauth2_redirect_parse(const char *request_line, const char *state,
	    char **code, struct error *);

/*
 * Tells the user where to go: the device flow's URI and user code
 * (redirect NULL), or the code flow's URL and its loopback redirect
 * URI (code NULL).
 */
typedef void (*oauth2_show_fn)(const char *account, const char *uri,
	    const char *code, const char *redirect, void *arg);

/*
 * --oauth2-authorize.  With an authorization endpoint
 * (oauth2_authorization_endpoint, or oauth2_provider google) and no
 * oauth2_device_endpoint: the authorization code flow with PKCE (S256)
 * and a loopback redirect (http://127.0.0.1:PORT/, a port the kernel
 * picks; or the address the browser ended on, pasted as a line on
 * standard input), the code exchanged at oauth2_token_url with its
 * code_verifier.  Else the device flow at oauth2_device_endpoint, then
 * polling oauth2_token_url until the user has approved (or the code
 * expires).  The tokens are written into oauth2_token_file (created
 * 0600; an existing file must pass oauth2_token()'s checks and keeps
 * its other members).  show is called once.
 * Errors: EX_CONFIG (settings missing), EX_NOPERM (declined, expired,
 * refused), EX_PROTOCOL (a redirect that is not ours), EX_TEMPFAIL (no
 * browser came back within OAUTH2_CODE_WAIT), those of
 * http_post_form() and oauth2_response_parse().
 */
int	oauth2_authorize(const struct account *, oauth2_show_fn, void *arg,
	    struct error *);

#endif
