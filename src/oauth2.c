/*
 * OAuth2 token refresh: the token file (JSON through json-c), its lock,
 * the token endpoint (http.h) and the atomic rewrite.  Every token and
 * client secret is wiped when it is let go.
 *
 * What json-c holds of a secret, and how it is wiped:
 *   - parsing: the tokener's string buffer (sized once for the whole
 *     text, so it never moves, and zeroed before json_tokener_free())
 *     and each string object (json_wipe() zeroes the top-level strings,
 *     inline or allocated, before json_object_put());
 *   - writing the token file: json-c never sees the tokens.  The object
 *     is serialised with random placeholders, which are then replaced
 *     in a buffer of our own sized once (oauth2_cache_update()).
 * Not wiped: member names (linkhash keys: not secrets), nested values
 * (postie reads only top-level members; a token nested deeper in a
 * provider's answer is freed unwiped), and json-c's allocator slack.
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

#define LOCK_TRIES	10	/* reopen after a concurrent rename */

void
oauth2_cache_release(struct oauth2_cache *c)
{
	if (c == NULL)
		return;
	freezero_str(c->access_token);
	freezero_str(c->refresh_token);
	freezero_str(c->client_secret);
	free(c->client_id);
	free(c->token_uri);
	memset(c, 0, sizeof(*c));
}

/* Zero the string members of o (json-c frees them without wiping). */
static void
json_wipe(struct json_object *o)
{
	struct json_object_iterator	 it, end;
	struct json_object		*v;

	if (o == NULL || !json_object_is_type(o, json_type_object))
		return;
	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it)) {
		v = json_object_iter_peek_value(&it);
		if (json_object_is_type(v, json_type_string))
			explicit_bzero((void *)(uintptr_t)
			    json_object_get_string(v),
			    (size_t)json_object_get_string_len(v));
	}
}

static void
json_free(struct json_object *o)
{
	json_wipe(o);
	json_object_put(o);
}

/* A JSON object from len bytes, or NULL (also for another JSON type). */
static struct json_object *
json_parse(const char *text, size_t len)
{
	struct json_tokener	*tok;
	struct json_object	*o;

	if (len > INT_MAX - 1 || (tok = json_tokener_new()) == NULL)
		return NULL;
	/* No string is longer than the text: the buffer never moves. */
	if (printbuf_memset(tok->pb, 0, 0, (int)len + 1) == -1) {
		json_tokener_free(tok);
		return NULL;
	}
	printbuf_reset(tok->pb);
	o = json_tokener_parse_ex(tok, text, (int)len);
	if (o != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(o, json_type_object))) {
		json_free(o);
		o = NULL;
	}
	explicit_bzero(tok->pb->buf, (size_t)tok->pb->size);
	json_tokener_free(tok);
	return o;
}

/* A string member: 0 (absent or null: *out stays NULL), 1, or -1. */
static int
get_str(struct json_object *o, const char *key, char **out)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	if (json_object_get_string_len(v) == 0)
		return 0;
	*out = xstrdup(json_object_get_string(v));
	return 1;
}

/* A number member (an integer, a float, or digits in a string). */
static int
get_num(struct json_object *o, const char *key, long long *out)
{
	struct json_object	*v;
	const char		*s;
	char			*end;
	long long		 n;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double)) {
		*out = (long long)json_object_get_int64(v);
		return 1;
	}
	if (!json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || end == s || (*end != '\0' && *end != '.'))
		return -1;
	*out = n;
	return 1;
}

int
oauth2_cache_parse(const char *text, size_t len, const char *what,
    struct oauth2_cache *c, struct error *err)
{
	struct json_object	*o;
	const char		*bad = NULL;

	memset(c, 0, sizeof(*c));
	if (len == 0)
		return 0;
	if ((o = json_parse(text, len)) == NULL)
		return error_set(err, EX_CONFIG, "%s: not a JSON object (an "
		    "OAuth2 token file holds {\"access_token\": ..., "
		    "\"refresh_token\": ..., \"expires_at\": ...})", what);
	if (get_str(o, "access_token", &c->access_token) == -1)
		bad = "access_token";
	else if (get_str(o, "refresh_token", &c->refresh_token) == -1)
		bad = "refresh_token";
	else if (get_num(o, "expires_at", &c->expires_at) == -1)
		bad = "expires_at";
	else if (get_str(o, "client_id", &c->client_id) == -1)
		bad = "client_id";
	else if (get_str(o, "client_secret", &c->client_secret) == -1)
		bad = "client_secret";
	else if (get_str(o, "token_uri", &c->token_uri) == -1)
		bad = "token_uri";
	json_free(o);
	if (bad != NULL) {
		oauth2_cache_release(c);
		return error_set(err, EX_CONFIG, "%s: '%s' has the wrong type",
		    what, bad);
	}
	return 0;
}

int
oauth2_cache_fresh(const struct oauth2_cache *c, long long now)
{
	return c->access_token != NULL && c->expires_at > now &&
	    c->expires_at - now > OAUTH2_MARGIN;
}

static void
set_str(struct json_object *o, const char *key, const char *v)
{
	struct json_object	*old;

	if (json_object_object_get_ex(o, key, &old) && old != NULL &&
	    json_object_is_type(old, json_type_string))
		explicit_bzero((void *)(uintptr_t)json_object_get_string(old),
		    (size_t)json_object_get_string_len(old));
	if (v == NULL)
		json_object_object_del(o, key);
	else
		json_object_object_add(o, key, json_object_new_string(v));
}

/*
 * A token as a JSON string, its bytes kept as they are (as json-c writes
 * them): only '"', '\\' and controls are escaped.  Not buf_add_json_str(),
 * which makes invalid UTF-8 valid: a token must read back byte for byte.
 */
static void
json_token(struct buf *out, const char *v)
{
	const unsigned char	*p;

	buf_addch(out, '"');
	for (p = (const unsigned char *)v; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			buf_addch(out, '\\');
			buf_addch(out, *p);
		} else if (*p < 0x20 || *p == 0x7f)
			buf_printf(out, "\\u%04x", *p);
		else
			buf_addch(out, *p);
	}
	buf_addch(out, '"');
}

/* Replace "\"mark\"" in text by v as a JSON string (v NULL: none was
 * set, the member is absent). */
static void
put_secret(struct buf *out, const char *text, const char *mark,
    const char *v)
{
	char		*q = xasprintf("\"%s\"", mark);
	const char	*at = strstr(text, q);

	if (at == NULL || v == NULL)
		buf_addstr(out, text);
	else {
		buf_add(out, text, (size_t)(at - text));
		json_token(out, v);
		buf_addstr(out, at + strlen(q));
	}
	free(q);
}

char *
oauth2_cache_update(const char *old, size_t len,
    const struct oauth2_cache *c)
{
	struct json_object	*o = NULL;
	struct buf		 mid = BUF_INIT, out = BUF_INIT;
	const char		*s;
	char			 at[40], rt[40];
	size_t			 room;

	if (len > 0)
		o = json_parse(old, len);
	if (o == NULL)
		o = json_object_new_object();
	/* placeholders for json-c; the tokens go in below */
	snprintf(at, sizeof(at), "postie-access-%08x%08x", util_rnd32(),
	    util_rnd32());
	snprintf(rt, sizeof(rt), "postie-refresh-%08x%08x", util_rnd32(),
	    util_rnd32());
	set_str(o, "access_token", c->access_token != NULL ? at : NULL);
	set_str(o, "refresh_token", c->refresh_token != NULL ? rt : NULL);
	json_object_object_add(o, "expires_at",
	    json_object_new_int64((int64_t)c->expires_at));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	/* sized once (6 octets per escaped byte at most): never moved */
	room = strlen(s) + 2 + 6 * (strlen(c->access_token != NULL ?
	    c->access_token : "") + strlen(c->refresh_token != NULL ?
	    c->refresh_token : ""));
	buf_grow(&mid, room);
	buf_grow(&out, room);
	put_secret(&mid, s, at, c->access_token);
	put_secret(&out, buf_str(&mid), rt, c->refresh_token);
	buf_addch(&out, '\n');
	explicit_bzero(mid.data, mid.len);
	buf_release(&mid);
	explicit_bzero((void *)(uintptr_t)s, strlen(s));
	json_free(o);
	return buf_detach(&out);
}

/* Provider errors. */

/* RFC 4648 base64 (padding optional, no white space) into out;
 * -1 when text is not base64. */
static int
b64_decode(const char *text, struct buf *out)
{
	static const char	 alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char		*p, *q;
	unsigned		 acc = 0;
	int			 bits = 0, pad = 0;

	for (p = text; *p != '\0'; p++) {
		if (*p == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || (q = strchr(alpha, *p)) == NULL)
			return -1;
		acc = (acc << 6) | (unsigned)(q - alpha);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_addch(out, (int)((acc >> bits) & 0xff));
		}
	}
	return pad > 2 ? -1 : 0;
}

/* A member as a string (a number is printed), escaped; NULL if absent. */
static char *
member_text(struct json_object *o, const char *key)
{
	struct json_object	*v;
	struct buf		 b = BUF_INIT;
	const char		*s;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return NULL;
	s = json_object_get_string(v);
	if (s == NULL || s[0] == '\0')
		return NULL;
	buf_add_escaped(&b, s, strnlen(s, DESC_MAX));
	return buf_detach(&b);
}

char *
oauth2_explain_challenge(const char *text, const char *account)
{
	struct json_object	*o;
	struct buf		 raw = BUF_INIT;
	char			*status, *scope, *r;
	const char		*what;

	if (strncmp(text, "334", 3) == 0 && (text[3] == ' ' ||
	    text[3] == '\0'))
		text += text[3] == ' ' ? 4 : 3;
	if (text[0] != '\0' && b64_decode(text, &raw) == 0)
		while (raw.len > 0 && (raw.data[raw.len - 1] == '\n' ||
		    raw.data[raw.len - 1] == '\r' ||
		    raw.data[raw.len - 1] == ' '))
			raw.len--;
	if (raw.len == 0 || (o = json_parse(buf_str(&raw), raw.len)) == NULL) {
		buf_release(&raw);
		return NULL;
	}
	buf_release(&raw);
	if ((status = member_text(o, "status")) == NULL) {
		json_object_put(o);
		return NULL;
	}
	scope = member_text(o, "scope");
	json_object_put(o);
	if (strcmp(status, "401") == 0 || strcmp(status, "invalid_token") == 0)
		what = "the access token is invalid, expired or revoked, or "
		    "belongs to another user than 'user': set 'user' to the "
		    "mailbox that was authorized";
	else if (strcmp(status, "400") == 0 ||
	    strcmp(status, "invalid_request") == 0)
		what = "the server could not use the request (Gmail: 'user' "
		    "is not the Google account the token was issued for, or "
		    "the token is not a Google access token)";
	else if (strcmp(status, "403") == 0 ||
	    strcmp(status, "insufficient_scope") == 0)
		what = "the token was granted without the scope this server "
		    "needs: set oauth2_scope to it";
	else
		what = "the server refused the token";
	r = xasprintf("the server's OAuth2 error: status %s%s%s: %s; then "
	    "%s%s", status, scope != NULL ? ", scope " : "",
	    scope != NULL ? scope : "", what, account != NULL ?
	    "run postie --oauth2-authorize " : "get a new token for the "
	    "password or passwordeval of the account", account != NULL ?
	    account : "");
	free(status);
	free(scope);
	return r;
}

/*
 * Microsoft Entra ID (Azure AD) sign-in errors: what to do; reauth:
 * the fix ends with running --oauth2-authorize.
 */
static const struct {
	long		 code;
	int		 reauth;
	const char	*hint;
} aadsts[] = {
	{ 70008, 1, "the refresh token expired (unused for 90 days, or the "
	  "sign-in was revoked)" },
	{ 700082, 1, "the refresh token expired because it was not used" },
	{ 50173, 1, "the grant is no longer valid (the password was changed "
	  "or the sessions were revoked)" },
	{ 50132, 1, "the session was revoked (a password change or expiry)" },
	{ 50133, 1, "the session was revoked (a password change or expiry)" },
	{ 50076, 1, "the tenant requires multi-factor authentication for "
	  "this sign-in: complete it in the browser when authorizing (the "
	  "refresh token of an MFA sign-in keeps working)" },
	{ 50079, 1, "the user must register for multi-factor "
	  "authentication: sign in once at https://aka.ms/mfasetup" },
	{ 65001, 1, "the application has no consent for the scope it asks: "
	  "the user (or a tenant admin, for admin-only permissions) must "
	  "consent to SMTP.Send for oauth2_client_id" },
	{ 65004, 1, "the user declined the consent: accept it when "
	  "authorizing" },
	{ 53003, 0, "Conditional Access blocked the sign-in: a tenant admin "
	  "must allow this application, device or location" },
	{ 700016, 0, "no application with this oauth2_client_id in the "
	  "tenant: check oauth2_client_id and oauth2_tenant" },
	{ 7000215, 0, "the client secret is wrong: oauth2_client_secret must "
	  "be the secret's value, not its ID" },
	{ 7000222, 0, "the client secret expired: create a new one in the "
	  "app registration and put it in oauth2_client_secret" },
	{ 7000218, 0, "the app registration needs a client secret, or must "
	  "allow public client flows: set oauth2_client_secret, or turn on "
	  "'Allow public client flows'" },
	{ 90002, 0, "the tenant does not exist: check oauth2_tenant" },
	{ 70011, 0, "the scope is not valid: check oauth2_scope (Microsoft: "
	  "https://outlook.office365.com/SMTP.Send offline_access, or "
	  "https://outlook.office365.com/.default for client credentials)" },
	{ 500011, 0, "the tenant has no such resource (no Exchange Online?): "
	  "check oauth2_scope and oauth2_tenant" },
};

char *
oauth2_explain_aadsts(const char *desc, const char *account)
{
	const char	*p;
	char		*end;
	long		 code;
	size_t		 i;

	if (desc == NULL || (p = strstr(desc, "AADSTS")) == NULL)
		return NULL;
	errno = 0;
	code = strtol(p + 6, &end, 10);
	if (end == p + 6 || errno != 0 || code <= 0)
		return NULL;
	for (i = 0; i < sizeof(aadsts) / sizeof(aadsts[0]); i++)
		if (aadsts[i].code == code)
			return xasprintf("Microsoft's AADSTS%ld: %s%s%s%s",
			    code, aadsts[i].hint, aadsts[i].reauth ?
			    "; then run postie --oauth2-authorize " :
			    " (account ", account, aadsts[i].reauth ? "" :
			    ")");
	return xasprintf("Microsoft's AADSTS%ld: see "
	    "https://login.microsoftonline.com/error?code=%ld", code, code);
}

/* The endpoint's words: error and error_description, escaped and cut. */
static char *
refusal(struct json_object *o, const char *code)
{
	struct buf	 b = BUF_INIT;
	char		*desc = NULL, *t;
	size_t		 n;

	buf_add_escaped(&b, code, strlen(code));
	if (o != NULL && get_str(o, "error_description", &desc) == 1) {
		/* Microsoft's tail: "\r\nTrace ID: ... Timestamp: ..." */
		n = strcspn(desc, "\r\n");
		if ((t = strstr(desc, " Trace ID:")) != NULL &&
		    (size_t)(t - desc) < n)
			n = (size_t)(t - desc);
		buf_addstr(&b, ": ");
		buf_add_escaped(&b, desc, n > DESC_MAX ? DESC_MAX : n);
		if (n > DESC_MAX)
			buf_addstr(&b, "...");
	}
	free(desc);
	return buf_detach(&b);
}

/* err's message, then "; " and hint (freed). */
static void
add_hint(struct error *err, char *hint)
{
	char	*old = xstrdup(err->msg != NULL ? err->msg : "");
	int	 code = err->code;

	error_release(err);
	error_set(err, code, "%s; %s", old, hint);
	free(old);
	free(hint);
}

static int
refused(const struct oauth2_ctx *x, struct json_object *o, const char *code,
    struct error *err)
{
	char	*why = refusal(o, code), *desc = NULL, *hint;

	if (strcmp(code, "invalid_grant") == 0 &&
	    x->flow == OAUTH2_FLOW_REFRESH_TOKEN)
		error_set(err, EX_NOPERM, "OAuth2 refresh token for account "
		    "'%s' was refused by %s (%s): re-authorize, then put the "
		    "new refresh_token into %s", x->account, x->url, why,
		    x->file);
	else if (strcmp(code, "invalid_grant") == 0 ||
	    strcmp(code, "invalid_client") == 0 ||
	    strcmp(code, "unauthorized_client") == 0)
		error_set(err, EX_NOPERM, "OAuth2 client of account '%s' was "
		    "refused by %s (%s): check oauth2_client_id and "
		    "oauth2_client_secret", x->account, x->url, why);
	else
		error_set(err, EX_CONFIG, "OAuth2 token request of account "
		    "'%s' was refused by %s (%s): check the oauth2_* settings",
		    x->account, x->url, why);
	free(why);
	if (o != NULL && get_str(o, "error_description", &desc) == 1 &&
	    (hint = oauth2_explain_aadsts(desc, x->account)) != NULL) {
		add_hint(err, hint);
	}
	free(desc);
	return -1;
}

static int
granted(const struct oauth2_ctx *x, struct json_object *o, long long now,
    struct oauth2_cache *c, struct error *err)
{
	char		*at = NULL, *rt = NULL;
	long long	 in = OAUTH2_DEFAULT_LIFETIME;

	if (get_str(o, "access_token", &at) != 1 ||
	    get_num(o, "expires_in", &in) == -1 ||
	    get_str(o, "refresh_token", &rt) == -1) {
		freezero_str(at);
		freezero_str(rt);
		return error_set(err, EX_PROTOCOL, "%s answered account '%s' "
		    "without a usable access_token", x->url, x->account);
	}
	if (in <= 0 || in > 10LL * 365 * 86400)
		in = OAUTH2_DEFAULT_LIFETIME;
	freezero_str(c->access_token);
	c->access_token = at;
	c->expires_at = now + in;
	if (rt != NULL) {
		freezero_str(c->refresh_token);
		c->refresh_token = rt;
	}
	return 0;
}

int
oauth2_response_parse(const struct oauth2_ctx *x, long status,
    const char *body, size_t len, long long now, struct oauth2_cache *c,
    struct error *err)
{
	struct json_object	*o;
	char			*code = NULL;
	int			 rc;

	o = json_parse(body, len);
	if (status == 200 && o != NULL)
		rc = granted(x, o, now, c, err);
	else if (status >= 500 || status == 429 || status == 408)
		rc = error_set(err, EX_TEMPFAIL, "%s answered HTTP %ld to "
		    "account '%s's token request", x->url, status, x->account);
	else if (o != NULL && get_str(o, "error", &code) == 1)
		rc = refused(x, o, code, err);
	else if (status >= 400 && status < 500)
		rc = error_set(err, EX_CONFIG, "%s answered HTTP %ld to "
		    "account '%s's token request: check oauth2_token_url",
		    x->url, status, x->account);
	else
		rc = error_set(err, EX_PROTOCOL, "%s answered HTTP %ld "
		    "without a JSON token to account '%s'", x->url, status,
		    x->account);
	free(code);
	json_free(o);
	return rc;
}

/* The token file. */

static int
check_file(const char *path, const struct stat *st, struct error *err)
{
	if (!S_ISREG(st->st_mode))
		return error_set(err, EX_CONFIG, "%s: the OAuth2 token file "
		    "is not a regular file", path);
	if (st->st_uid != geteuid())
		return error_set(err, EX_CONFIG, "%s: the OAuth2 token file "
		    "is owned by another user (uid %lu)", path,
		    (unsigned long)st->st_uid);
	if (st->st_mode & (S_IRWXG | S_IRWXO))
		return error_set(err, EX_CONFIG, "%s: the OAuth2 token file "
		    "is accessible by others (chmod 600 %s)", path, path);
	return 0;
}

static int
open_file(const char *path, int create, struct error *err)
{
	int	fd, flags = O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;

	if ((fd = open(path, flags)) == -1 && errno == ENOENT && create)
		fd = open(path, flags | O_CREAT | O_EXCL, 0600);
	if (fd == -1 && errno == EEXIST)
		fd = open(path, flags);
	if (fd == -1) {
		if (errno == ENOENT && create)
			return error_set_errno(err, EX_CONFIG, "cannot create "
			    "the OAuth2 token file %s", path);
		if (errno == ENOENT)
			return error_set(err, EX_CONFIG, "no OAuth2 token "
			    "file %s: it must hold the refresh_token of the "
			    "first authorization (see OAUTH2 in postie.conf(5))",
			    path);
		return error_set_errno(err, EX_CONFIG, "cannot open the OAuth2 "
		    "token file %s", path);
	}
	return fd;
}

/*
 * Open and lock the file.  A process that got the lock after another
 * renamed a new file over it holds the old inode: it opens again.
 */
static int
lock_file(const char *path, int create, struct error *err)
{
	struct stat	st, now;
	int		fd, i;

	for (i = 0; i < LOCK_TRIES; i++) {
		if ((fd = open_file(path, create, err)) == -1)
			return -1;
		if (fstat(fd, &st) == -1) {
			error_set_errno(err, EX_OSERR, "cannot stat %s", path);
			close(fd);
			return -1;
		}
		if (check_file(path, &st, err) == -1) {
			close(fd);
			return -1;
		}
		while (flock(fd, LOCK_EX) == -1) {
			if (errno != EINTR) {
				error_set_errno(err, EX_OSERR, "cannot lock "
				    "%s", path);
				close(fd);
				return -1;
			}
		}
		if (stat(path, &now) == 0 && now.st_ino == st.st_ino &&
		    now.st_dev == st.st_dev)
			return fd;
		close(fd);
	}
	return error_set(err, EX_TEMPFAIL, "cannot lock %s: it keeps being "
	    "replaced", path);
}

static int
read_fd(int fd, const char *path, char **text, size_t *len,
    struct error *err)
{
	char	*buf;
	size_t	 n = 0;
	ssize_t	 r;

	buf = xmalloc(OAUTH2_FILE_MAX + 1);
	for (;;) {
		r = read(fd, buf + n, OAUTH2_FILE_MAX + 1 - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			explicit_bzero(buf, n);
			free(buf);
			return error_set_errno(err, EX_CONFIG, "cannot read %s",
			    path);
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > OAUTH2_FILE_MAX) {
			explicit_bzero(buf, n);
			free(buf);
			return error_set(err, EX_CONFIG, "%s is larger than %d "
			    "bytes", path, OAUTH2_FILE_MAX);
		}
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

static void
sync_dir(const char *path)
{
	char	*dir, *slash;
	int	 fd;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
}

/* Write text to a new 0600 file and sync it. */
static int
write_tmp(const char *tmp, int fd, const char *text, struct error *err)
{
	int	rc = 0;

	if (fchmod(fd, 0600) == -1 ||
	    util_write_all(fd, text, strlen(text)) == -1 || fsync(fd) == -1)
		rc = error_set_errno(err, EX_CANTCREAT, "cannot write %s", tmp);
	if (close(fd) == -1 && rc == 0)
		rc = error_set_errno(err, EX_CANTCREAT, "cannot write %s", tmp);
	return rc;
}

/* Replace the file by text: a 0600 temporary beside it, fsync, rename. */
static int
store(const char *path, const char *text, struct error *err)
{
	char	*tmp;
	int	 fd, rc = -1;

	tmp = xasprintf("%s.tmpXXXXXX", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		error_set_errno(err, EX_CANTCREAT, "cannot create a temporary "
		    "file beside %s", path);
		free(tmp);
		return -1;
	}
	if (write_tmp(tmp, fd, text, err) == 0) {
		if (rename(tmp, path) == -1)
			error_set_errno(err, EX_CANTCREAT, "cannot rename %s "
			    "to %s", tmp, path);
		else {
			sync_dir(path);
			rc = 0;
		}
	}
	if (rc == -1)
		(void)unlink(tmp);
	free(tmp);
	return rc;
}

/* Provider presets. */

#define MS_LOGIN	"https://login.microsoftonline.com/"
#define GOOGLE_TOKEN	"https://oauth2.googleapis.com/token"
#define GOOGLE_DEVICE	"https://oauth2.googleapis.com/device/code"

char *
oauth2_endpoint(const struct account *a, int device)
{
	const char	*tenant = a->oauth2_tenant;

	if (!device && a->oauth2_token_url != NULL)
		return xstrdup(a->oauth2_token_url);
	if (device && a->oauth2_device_url != NULL)
		return xstrdup(a->oauth2_device_url);
	switch (a->oauth2_provider) {
	case OAUTH2_PROVIDER_MICROSOFT:
		if (tenant == NULL) {
			/* app-only tokens belong to one tenant */
			if (a->oauth2_flow == OAUTH2_FLOW_CLIENT_CREDENTIALS)
				return NULL;
			tenant = "common";
		}
		return xasprintf(MS_LOGIN "%s/oauth2/v2.0/%s", tenant,
		    device ? "devicecode" : "token");
	case OAUTH2_PROVIDER_GOOGLE:
		return xstrdup(device ? GOOGLE_DEVICE : GOOGLE_TOKEN);
	default:
		return NULL;
	}
}

const char *
oauth2_scope(const struct account *a)
{
	if (a->oauth2_scope != NULL)
		return a->oauth2_scope;
	switch (a->oauth2_provider) {
	case OAUTH2_PROVIDER_MICROSOFT:
		return a->oauth2_flow == OAUTH2_FLOW_CLIENT_CREDENTIALS ?
		    "https://outlook.office365.com/.default" :
		    "https://outlook.office365.com/SMTP.Send offline_access";
	case OAUTH2_PROVIDER_GOOGLE:
		return "https://mail.google.com/";
	default:
		return NULL;
	}
}

/* Why an account has no token endpoint, as an EX_CONFIG error. */
static int
no_endpoint(const struct account *a, const char *account, const char *key,
    struct error *err)
{
	const char	*file = a->file != NULL ? a->file : "?";

	if (a->oauth2_provider == OAUTH2_PROVIDER_MICROSOFT)
		return error_set(err, EX_CONFIG, "%s:%d: account '%s': "
		    "oauth2_flow client_credentials with oauth2_provider "
		    "microsoft needs oauth2_tenant", file, a->line, account);
	return error_set(err, EX_CONFIG, "%s:%d: account '%s' has "
	    "oauth2_token_file but no %s (or oauth2_provider)", file, a->line,
	    account, key);
}

/* The token request. */

int
client_secret(const struct account *a, const struct oauth2_cache *c,
    char **out, struct error *err)
{
	*out = NULL;
	if (a->oauth2_client_secret != NULL)
		*out = xstrdup(a->oauth2_client_secret);
	else if (a->oauth2_client_secret_eval != NULL)
		return secret_eval(a->name, "oauth2_client_secret_eval",
		    a->oauth2_client_secret_eval, out, err);
	else if (c->client_secret != NULL)
		*out = xstrdup(c->client_secret);
	return 0;
}

static int
request(const struct account *a, const struct oauth2_ctx *x,
    struct oauth2_cache *c, struct error *err)
{
	struct http_response	 res = HTTP_RESPONSE_INIT;
	const char		*f[13];
	const char		*id;
	char			*secret;
	size_t			 n = 0;
	int			 rc;

	id = a->oauth2_client_id != NULL ? a->oauth2_client_id : c->client_id;
	if (x->flow == OAUTH2_FLOW_REFRESH_TOKEN && c->refresh_token == NULL)
		return error_set(err, EX_CONFIG, "%s has no refresh_token for "
		    "account '%s': authorize first and put the refresh_token "
		    "there (see OAUTH2 in postie.conf(5))", x->file,
		    x->account);
	if (client_secret(a, c, &secret, err) == -1)
		return -1;
	if (x->flow == OAUTH2_FLOW_REFRESH_TOKEN) {
		f[n++] = "grant_type";
		f[n++] = "refresh_token";
		f[n++] = "refresh_token";
		f[n++] = c->refresh_token;
	} else {
		f[n++] = "grant_type";
		f[n++] = "client_credentials";
	}
	if (id != NULL) {
		f[n++] = "client_id";
		f[n++] = id;
	}
	if (secret != NULL) {
		f[n++] = "client_secret";
		f[n++] = secret;
	}
	if (oauth2_scope(a) != NULL) {
		f[n++] = "scope";
		f[n++] = oauth2_scope(a);
	}
	f[n] = NULL;
	log_debug("account '%s': refreshing the OAuth2 access token at %s",
	    x->account, x->url);
	rc = http_post_form(x->url, f, a->tls_trust_file, a->timeout, &res,
	    err);
	freezero_str(secret);
	if (rc == 0)
		rc = oauth2_response_parse(x, res.status, res.body, res.len,
		    (long long)time(NULL), c, err);
	http_response_release(&res);
	return rc;
}

/* Refresh c and write it back over the file's old text. */
static int
refresh(const struct account *a, const struct oauth2_ctx *x,
    const char *old, size_t len, struct oauth2_cache *c, struct error *err)
{
	struct error	 werr = ERROR_INIT;
	char		*text;

	if (request(a, x, c, err) == -1)
		return -1;
	text = oauth2_cache_update(old, len, c);
	if (store(x->file, text, &werr) == -1) {
		/* The new token still works for this send. */
		log_warnx("account '%s': the refreshed OAuth2 token is not "
		    "saved: %s", x->account, werr.msg);
		error_release(&werr);
	}
	freezero_str(text);
	return 0;
}

int
oauth2_token_renew(const struct account *a, const char *refused,
    char **token, struct error *err)
{
	struct oauth2_cache	 c = OAUTH2_CACHE_INIT;
	struct oauth2_ctx	 x;
	char			*text = NULL, *url = NULL;
	size_t			 len = 0;
	int			 fd, rc = -1;

	x.account = a->name != NULL ? a->name : "default";
	x.file = a->oauth2_token_file;
	x.flow = a->oauth2_flow;
	if ((fd = lock_file(x.file, x.flow == OAUTH2_FLOW_CLIENT_CREDENTIALS,
	    err)) == -1)
		return -1;
	if (read_fd(fd, x.file, &text, &len, err) == -1 ||
	    oauth2_cache_parse(text, len, x.file, &c, err) == -1)
		goto done;
	/* Another process may have renewed it already: then take theirs. */
	if (!oauth2_cache_fresh(&c, (long long)time(NULL)) ||
	    (refused != NULL && strcmp(c.access_token, refused) == 0)) {
		url = oauth2_endpoint(a, 0);
		x.url = url != NULL ? url : c.token_uri;
		if (x.url == NULL) {
			no_endpoint(a, x.account, "oauth2_token_url", err);
			goto done;
		}
		if (refresh(a, &x, text, len, &c, err) == -1)
			goto done;
	}
	*token = xstrdup(c.access_token);
	rc = 0;
done:
	close(fd);	/* the lock goes with it */
	if (text != NULL)
		explicit_bzero(text, len);
	free(text);
	free(url);
	oauth2_cache_release(&c);
	return rc;
}

int
oauth2_token(const struct account *a, char **token, struct error *err)
{
	return oauth2_token_renew(a, NULL, token, err);
}

/* The device flow (RFC 8628). */

#define DEVICE_GRANT	"urn:ietf:params:oauth:grant-type:device_code"
#define DEVICE_WAIT_MAX	1800	/* seconds of polling at most */
#define INTERVAL_MAX	60

void
oauth2_device_release(struct oauth2_device *d)
{
	if (d == NULL)
		return;
	freezero_str(d->device_code);
	free(d->user_code);
	free(d->uri);
	memset(d, 0, sizeof(*d));
}

int
oauth2_device_parse(const struct oauth2_ctx *x, long status,
    const char *body, size_t len, struct oauth2_device *d, struct error *err)
{
	struct json_object	*o;
	struct oauth2_cache	 scratch = OAUTH2_CACHE_INIT;
	int			 ok;

	memset(d, 0, sizeof(*d));
	if (status == 200 && (o = json_parse(body, len)) == NULL)
		return error_set(err, EX_PROTOCOL, "%s answered account '%s' "
		    "without JSON", x->url, x->account);
	if (status != 200) {
		/* an error answer: classified as a token request's */
		oauth2_response_parse(x, status, body, len, 0, &scratch, err);
		oauth2_cache_release(&scratch);
		return -1;
	}
	ok = get_str(o, "device_code", &d->device_code) == 1 &&
	    get_str(o, "user_code", &d->user_code) == 1 &&
	    (get_str(o, "verification_uri", &d->uri) == 1 ||
	    get_str(o, "verification_url", &d->uri) == 1) &&
	    get_num(o, "expires_in", &d->expires_in) != -1 &&
	    get_num(o, "interval", &d->interval) != -1;
	json_free(o);
	if (!ok) {
		oauth2_device_release(d);
		return error_set(err, EX_PROTOCOL, "%s answered account '%s' "
		    "without a device_code, user_code and verification_uri",
		    x->url, x->account);
	}
	if (d->interval <= 0)
		d->interval = 5;
	if (d->interval > INTERVAL_MAX)
		d->interval = INTERVAL_MAX;
	if (d->expires_in <= 0 || d->expires_in > DEVICE_WAIT_MAX)
		d->expires_in = DEVICE_WAIT_MAX;
	return 0;
}

int
oauth2_poll_parse(const struct oauth2_ctx *x, long status, const char *body,
    size_t len, long long now, struct oauth2_cache *c, struct error *err)
{
	struct json_object	*o;
	char			*code = NULL;
	int			 rc = -2;

	if (status != 200 && (o = json_parse(body, len)) != NULL) {
		if (get_str(o, "error", &code) == 1) {
			if (strcmp(code, "authorization_pending") == 0)
				rc = OAUTH2_POLL_PENDING;
			else if (strcmp(code, "slow_down") == 0)
				rc = OAUTH2_POLL_SLOW_DOWN;
			else if (strcmp(code, "access_denied") == 0)
				rc = error_set(err, EX_NOPERM, "the OAuth2 "
				    "authorization of account '%s' was declined",
				    x->account);
			else if (strcmp(code, "expired_token") == 0)
				rc = error_set(err, EX_NOPERM, "the OAuth2 code "
				    "of account '%s' expired before it was "
				    "entered: run --oauth2-authorize again",
				    x->account);
		}
		free(code);
		json_free(o);
		if (rc != -2)
			return rc;
	}
	if (oauth2_response_parse(x, status, body, len, now, c, err) == -1)
		return -1;
	return OAUTH2_POLL_DONE;
}

int
post(const struct account *a, const char *url, const char *const *f,
    struct http_response *res, struct error *err)
{
	return http_post_form(url, f, a->tls_trust_file, a->timeout, res, err);
}

static int
device_start(const struct account *a, const struct oauth2_ctx *x,
    const char *url, struct oauth2_device *d, struct error *err)
{
	struct http_response	 res = HTTP_RESPONSE_INIT;
	struct oauth2_ctx	 dx = *x;
	const char		*f[5];
	size_t			 n = 0;
	int			 rc;

	dx.url = url;
	f[n++] = "client_id";
	f[n++] = a->oauth2_client_id;
	if (oauth2_scope(a) != NULL) {
		f[n++] = "scope";
		f[n++] = oauth2_scope(a);
	}
	f[n] = NULL;
	rc = post(a, dx.url, f, &res, err);
	if (rc == 0)
		rc = oauth2_device_parse(&dx, res.status, res.body, res.len, d,
		    err);
	http_response_release(&res);
	return rc;
}

/* Poll until the user approves; c gets the tokens. */
static int
device_poll(const struct account *a, const struct oauth2_ctx *x,
    struct oauth2_device *d, struct oauth2_cache *c, struct error *err)
{
	struct http_response	 res = HTTP_RESPONSE_INIT;
	const char		*f[9];
	char			*secret;
	long long		 deadline = (long long)time(NULL) + d->expires_in;
	size_t			 n = 0;
	int			 rc;

	if (client_secret(a, c, &secret, err) == -1)
		return -1;
	f[n++] = "grant_type";
	f[n++] = DEVICE_GRANT;
	f[n++] = "device_code";
	f[n++] = d->device_code;
	f[n++] = "client_id";
	f[n++] = a->oauth2_client_id;
	if (secret != NULL) {
		f[n++] = "client_secret";
		f[n++] = secret;
	}
	f[n] = NULL;
	do {
		sleep((unsigned int)d->interval);
		if ((rc = post(a, x->url, f, &res, err)) == 0)
			rc = oauth2_poll_parse(x, res.status, res.body,
			    res.len, (long long)time(NULL), c, err);
		http_response_release(&res);
		if (rc == OAUTH2_POLL_SLOW_DOWN && d->interval < INTERVAL_MAX)
			d->interval += 5;
	} while (rc > 0 && (long long)time(NULL) < deadline);
	freezero_str(secret);
	if (rc > 0)
		return error_set(err, EX_NOPERM, "the OAuth2 code of account "
		    "'%s' was not entered in time: run --oauth2-authorize "
		    "again", x->account);
	return rc;
}

/* Write the new tokens into the (locked) token file. */
static int
save_tokens(const struct oauth2_ctx *x, const struct oauth2_cache *c,
    struct error *err)
{
	char	*old = NULL, *text;
	size_t	 len = 0;
	int	 fd, rc;

	if ((fd = lock_file(x->file, 1, err)) == -1)
		return -1;
	if (read_fd(fd, x->file, &old, &len, err) == -1) {
		close(fd);
		return -1;
	}
	text = oauth2_cache_update(old, len, c);
	rc = store(x->file, text, err);
	freezero_str(text);
	explicit_bzero(old, len);
	free(old);
	close(fd);
	return rc;
}


int
oauth2_authorize(const struct account *a, oauth2_show_fn show, void *arg,
    struct error *err)
{
	struct oauth2_device	 d = OAUTH2_DEVICE_INIT;
	struct oauth2_cache	 c = OAUTH2_CACHE_INIT;
	struct oauth2_ctx	 x;
	const char		*missing = NULL;
	char			*token_url, *device_url, *auth_url = NULL;
	int			 rc = -1;

	x.account = a->name != NULL ? a->name : "default";
	x.file = a->oauth2_token_file;
	x.flow = OAUTH2_FLOW_REFRESH_TOKEN;
	token_url = oauth2_endpoint(a, 0);
	/* the code flow unless a device endpoint is named */
	if (a->oauth2_device_url == NULL)
		auth_url = oauth2_auth_endpoint(a);
	device_url = auth_url == NULL ? oauth2_endpoint(a, 1) : NULL;
	x.url = token_url;
	if (x.file == NULL)
		missing = "oauth2_token_file";
	else if (token_url == NULL)
		missing = "oauth2_token_url";
	else if (device_url == NULL && auth_url == NULL)
		missing = "oauth2_device_endpoint";
	else if (a->oauth2_client_id == NULL)
		missing = "oauth2_client_id";
	if (missing != NULL)
		error_set(err, EX_CONFIG, "%s:%d: account '%s' has no %s: "
		    "--oauth2-authorize needs oauth2_token_file, "
		    "oauth2_client_id and oauth2_provider (or "
		    "oauth2_token_url and oauth2_device_endpoint or "
		    "oauth2_authorization_endpoint)",
		    a->file != NULL ? a->file : "?", a->line, x.account,
		    missing);
	else if (auth_url != NULL) {
		if (code_flow(a, &x, auth_url, show, arg, &c, err) == 0 &&
		    save_tokens(&x, &c, err) == 0)
			rc = 0;
	} else if (device_start(a, &x, device_url, &d, err) == 0) {
		show(x.account, d.uri, d.user_code, NULL, arg);
		if (device_poll(a, &x, &d, &c, err) == 0 &&
		    save_tokens(&x, &c, err) == 0)
			rc = 0;
	}
	free(token_url);
	free(device_url);
	free(auth_url);
	oauth2_device_release(&d);
	oauth2_cache_release(&c);
	return rc;
}
