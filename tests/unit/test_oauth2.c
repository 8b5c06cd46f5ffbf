/*
 * Unit tests for oauth2.c's pure parts: the token file's parse, the
 * expiry rule, the rewrite that keeps unknown members, and the reading
 * of token endpoint answers (RFC 6749 5.1, 5.2) into codes and words;
 * also http_url_allowed() (http.c), which guards where secrets go.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"
#include "error.h"
#include "http.h"
#include "oauth2.h"
#include "xmalloc.h"

#define NOW	1800000000LL

/* Parsing the token file. */

struct parse_case {
	const char	*text;
	int		 rc;
	const char	*access;	/* expected, or NULL */
	const char	*refresh;
	long long	 expires_at;
	const char	*msg;		/* error message part, or NULL */
};

static const struct parse_case parse_cases[] = {
	{ "", 0, NULL, NULL, 0, NULL },
	{ "{}", 0, NULL, NULL, 0, NULL },
	{ "{\"access_token\": \"at\", \"refresh_token\": \"rt\", "
	    "\"expires_at\": 1800000100}", 0, "at", "rt", 1800000100, NULL },
	/* getmail's file: a float expiry, extra members */
	{ "{\"access_token\": \"at\", \"expires_at\": 1800000100.5, "
	    "\"scope\": \"x\", \"token_uri\": \"https://t/\"}", 0, "at",
	    NULL, 1800000100, NULL },
	{ "{\"expires_at\": \"1800000100\"}", 0, NULL, NULL, 1800000100,
	    NULL },
	{ "{\"access_token\": null, \"refresh_token\": \"\"}", 0, NULL, NULL,
	    0, NULL },
	{ "[]", -1, NULL, NULL, 0, "not a JSON object" },
	{ "{\"access_token\": \"at\"", -1, NULL, NULL, 0,
	    "not a JSON object" },
	{ "{} trailing", -1, NULL, NULL, 0, "not a JSON object" },
	{ "{\"access_token\": 5}", -1, NULL, NULL, 0,
	    "'access_token' has the wrong type" },
	{ "{\"expires_at\": \"soon\"}", -1, NULL, NULL, 0,
	    "'expires_at' has the wrong type" },
	{ "{\"expires_at\": [1]}", -1, NULL, NULL, 0,
	    "'expires_at' has the wrong type" },
};

static void
assert_str_or_null(const char *got, const char *want)
{
	if (want == NULL)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

static void
oauth2_cache_parse__table__fields_or_ex_config(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case	*c = &parse_cases[i];
		struct oauth2_cache	 cache = OAUTH2_CACHE_INIT;
		struct error		 err = ERROR_INIT;
		int			 rc;

		rc = oauth2_cache_parse(c->text, strlen(c->text), "t.json",
		    &cache, &err);
		if (rc != c->rc)
			fail_msg("case %zu: rc %d (%s)", i, rc,
			    err.msg != NULL ? err.msg : "");
		if (rc == 0) {
			assert_str_or_null(cache.access_token, c->access);
			assert_str_or_null(cache.refresh_token, c->refresh);
			assert_int_equal(cache.expires_at, c->expires_at);
		} else {
			assert_int_equal(err.code, EX_CONFIG);
			assert_non_null(strstr(err.msg, "t.json: "));
			assert_non_null(strstr(err.msg, c->msg));
		}
		oauth2_cache_release(&cache);
		error_release(&err);
	}
}

static void
oauth2_cache_parse__getmail_fields__kept_as_fallbacks(void **state)
{
	static const char	 text[] = "{\"client_id\": \"cid\", "
	    "\"client_secret\": \"cs\", \"token_uri\": "
	    "\"https://oauth2.googleapis.com/token\"}";
	struct oauth2_cache	 c = OAUTH2_CACHE_INIT;
	struct error		 err = ERROR_INIT;

	(void)state;
	assert_int_equal(oauth2_cache_parse(text, strlen(text), "t", &c,
	    &err), 0);
	assert_string_equal(c.client_id, "cid");
	assert_string_equal(c.client_secret, "cs");
	assert_string_equal(c.token_uri, "https://oauth2.googleapis.com/token");
	oauth2_cache_release(&c);
}

/* The expiry rule. */

static void
oauth2_cache_fresh__margin__refreshes_before_expiry(void **state)
{
	static const struct {
		const char	*access;
		long long	 expires_at;
		int		 fresh;
	} cases[] = {
		{ "at", NOW + 3600, 1 },
		{ "at", NOW + OAUTH2_MARGIN + 1, 1 },
		{ "at", NOW + OAUTH2_MARGIN, 0 },
		{ "at", NOW + 60, 0 },
		{ "at", NOW, 0 },
		{ "at", NOW - 10, 0 },
		{ "at", 0, 0 },		/* unknown expiry */
		{ NULL, NOW + 3600, 0 },	/* no token */
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct oauth2_cache	c = OAUTH2_CACHE_INIT;

		c.access_token = (char *)(uintptr_t)cases[i].access;
		c.expires_at = cases[i].expires_at;
		if (oauth2_cache_fresh(&c, NOW) != cases[i].fresh)
			fail_msg("case %zu", i);
	}
}

/* The rewrite. */

static void
oauth2_cache_update__old_members__kept_tokens_replaced(void **state)
{
	static const char	 old[] = "{\"access_token\": \"old\", "
	    "\"refresh_token\": \"rt-old\", \"expires_at\": 1, "
	    "\"scope\": \"https://mail.google.com/\", \"client_id\": \"c\"}";
	struct oauth2_cache	 in = OAUTH2_CACHE_INIT, out = OAUTH2_CACHE_INIT;
	struct error		 err = ERROR_INIT;
	char			*text;

	(void)state;
	in.access_token = xstrdup("new/+=");
	in.refresh_token = xstrdup("rt-new");
	in.expires_at = NOW + 3600;
	text = oauth2_cache_update(old, strlen(old), &in);
	assert_non_null(strstr(text, "\"scope\": \"https://mail.google.com/\""));
	assert_non_null(strstr(text, "\"client_id\": \"c\""));
	assert_null(strstr(text, "old"));
	assert_int_equal(oauth2_cache_parse(text, strlen(text), "t", &out,
	    &err), 0);
	assert_string_equal(out.access_token, "new/+=");
	assert_string_equal(out.refresh_token, "rt-new");
	assert_int_equal(out.expires_at, NOW + 3600);
	freezero_str(text);
	oauth2_cache_release(&in);
	oauth2_cache_release(&out);
}

static void
oauth2_cache_update__awkward_tokens__placeholders_gone_round_trip(void **state)
{
	struct oauth2_cache	 in = OAUTH2_CACHE_INIT, out = OAUTH2_CACHE_INIT;
	struct error		 err = ERROR_INIT;
	char			*text;

	(void)state;
	/* json-c never sees the tokens: they replace placeholders, escaped
	 * as JSON by postie */
	in.access_token = xstrdup("a\"b\\c\x01/d");
	in.refresh_token = xstrdup("postie-access-x \"quoted\"");
	in.expires_at = NOW;
	text = oauth2_cache_update("", 0, &in);
	assert_null(strstr(text, "postie-refresh-"));
	assert_non_null(strstr(text, "\"access_token\": \"a\\\"b\\\\c\\u0001/d\""));
	assert_int_equal(oauth2_cache_parse(text, strlen(text), "t", &out,
	    &err), 0);
	assert_string_equal(out.access_token, in.access_token);
	assert_string_equal(out.refresh_token, in.refresh_token);
	freezero_str(text);
	oauth2_cache_release(&out);
	/* bytes that are not UTF-8 read back as they were (the fuzzer's
	 * find: U+FFFD in their place changed the token) */
	freezero_str(in.refresh_token);
	in.refresh_token = xstrdup("rt2at\xee\xee\xee" "e=S&o");
	text = oauth2_cache_update("", 0, &in);
	assert_int_equal(oauth2_cache_parse(text, strlen(text), "t", &out,
	    &err), 0);
	assert_string_equal(out.refresh_token, in.refresh_token);
	freezero_str(text);
	oauth2_cache_release(&out);
	/* no refresh token: the member is absent, not a placeholder */
	freezero_str(in.refresh_token);
	in.refresh_token = NULL;
	text = oauth2_cache_update("{\"refresh_token\": \"rt\"}", 23, &in);
	assert_null(strstr(text, "refresh_token"));
	assert_null(strstr(text, "postie-"));
	freezero_str(text);
	oauth2_cache_release(&in);
}

static void
oauth2_cache_update__empty_or_garbage__fresh_object(void **state)
{
	static const char *const olds[] = { "", "not json", "[1,2]" };
	struct oauth2_cache	 in = OAUTH2_CACHE_INIT, out;
	struct error		 err = ERROR_INIT;
	char			*text;
	size_t			 i;

	(void)state;
	in.access_token = xstrdup("at");
	in.expires_at = NOW;
	for (i = 0; i < sizeof(olds) / sizeof(olds[0]); i++) {
		text = oauth2_cache_update(olds[i], strlen(olds[i]), &in);
		assert_int_equal(oauth2_cache_parse(text, strlen(text), "t",
		    &out, &err), 0);
		assert_string_equal(out.access_token, "at");
		assert_null(out.refresh_token);
		assert_int_equal(out.expires_at, NOW);
		freezero_str(text);
		oauth2_cache_release(&out);
	}
	oauth2_cache_release(&in);
}

/* Token endpoint answers. */

struct resp_case {
	int		 flow;
	long		 status;
	const char	*body;
	int		 code;		/* 0: success */
	const char	*access;	/* after success */
	const char	*refresh;
	long long	 expires_at;
	const char	*msg;		/* a part of the error */
};

#define RT	OAUTH2_FLOW_REFRESH_TOKEN
#define CC	OAUTH2_FLOW_CLIENT_CREDENTIALS

static const struct resp_case resp_cases[] = {
	{ RT, 200, "{\"access_token\": \"at2\", \"expires_in\": 3599, "
	    "\"token_type\": \"Bearer\"}", 0, "at2", "rt-old", NOW + 3599,
	    NULL },
	{ RT, 200, "{\"access_token\": \"at2\", \"expires_in\": \"60\", "
	    "\"refresh_token\": \"rt2\"}", 0, "at2", "rt2", NOW + 60, NULL },
	{ RT, 200, "{\"access_token\": \"at2\"}", 0, "at2", "rt-old",
	    NOW + OAUTH2_DEFAULT_LIFETIME, NULL },
	{ RT, 200, "{\"access_token\": \"at2\", \"expires_in\": -5}", 0,
	    "at2", "rt-old", NOW + OAUTH2_DEFAULT_LIFETIME, NULL },
	{ RT, 200, "{\"token_type\": \"Bearer\"}", EX_PROTOCOL, NULL, NULL,
	    0, "without a usable access_token" },
	{ RT, 200, "<html>", EX_PROTOCOL, NULL, NULL, 0,
	    "without a JSON token" },
	{ RT, 400, "{\"error\": \"invalid_grant\", \"error_description\": "
	    "\"AADSTS70008: expired\"}", EX_NOPERM, NULL, NULL, 0,
	    "OAuth2 refresh token for account 'acct' was refused by "
	    "https://t/token (invalid_grant: AADSTS70008: expired): "
	    "re-authorize, then put the new refresh_token into /tok.json" },
	{ CC, 400, "{\"error\": \"invalid_grant\"}", EX_NOPERM, NULL, NULL,
	    0, "check oauth2_client_id and oauth2_client_secret" },
	{ RT, 401, "{\"error\": \"invalid_client\"}", EX_NOPERM, NULL, NULL,
	    0, "OAuth2 client of account 'acct' was refused by "
	    "https://t/token (invalid_client): check oauth2_client_id" },
	{ RT, 400, "{\"error\": \"unauthorized_client\"}", EX_NOPERM, NULL,
	    NULL, 0, "(unauthorized_client)" },
	{ RT, 400, "{\"error\": \"invalid_scope\", \"error_description\": "
	    "\"bad\\u001b[31m\"}", EX_CONFIG, NULL, NULL, 0,
	    "(invalid_scope: bad\\x1b[31m): check the oauth2_* settings" },
	{ RT, 404, "", EX_CONFIG, NULL, NULL, 0, "answered HTTP 404" },
	{ RT, 500, "{\"error\": \"server_error\"}", EX_TEMPFAIL, NULL, NULL,
	    0, "answered HTTP 500" },
	{ RT, 503, "", EX_TEMPFAIL, NULL, NULL, 0, "HTTP 503" },
	{ RT, 429, "", EX_TEMPFAIL, NULL, NULL, 0, "HTTP 429" },
	{ RT, 302, "", EX_PROTOCOL, NULL, NULL, 0, "HTTP 302" },
};

static void
oauth2_response_parse__table__token_or_classified_error(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(resp_cases) / sizeof(resp_cases[0]); i++) {
		const struct resp_case	*c = &resp_cases[i];
		struct oauth2_ctx	 x = { "acct", "/tok.json",
		    "https://t/token", c->flow };
		struct oauth2_cache	 cache = OAUTH2_CACHE_INIT;
		struct error		 err = ERROR_INIT;
		int			 rc;

		cache.access_token = xstrdup("at-old");
		cache.refresh_token = xstrdup("rt-old");
		cache.expires_at = NOW - 1;
		rc = oauth2_response_parse(&x, c->status, c->body,
		    strlen(c->body), NOW, &cache, &err);
		if (c->code == 0) {
			if (rc != 0)
				fail_msg("case %zu: %s", i, err.msg);
			assert_string_equal(cache.access_token, c->access);
			assert_string_equal(cache.refresh_token, c->refresh);
			assert_int_equal(cache.expires_at, c->expires_at);
		} else {
			assert_int_equal(rc, -1);
			if (err.code != c->code ||
			    strstr(err.msg, c->msg) == NULL)
				fail_msg("case %zu: %d %s", i, err.code,
				    err.msg);
			/* a refused answer changes nothing */
			assert_string_equal(cache.access_token, "at-old");
			assert_string_equal(cache.refresh_token, "rt-old");
			assert_int_equal(cache.expires_at, NOW - 1);
			assert_null(strstr(err.msg, "rt-old"));
		}
		oauth2_cache_release(&cache);
		error_release(&err);
	}
}

static void
oauth2_response_parse__long_description__cut(void **state)
{
	struct oauth2_ctx	 x = { "a", "/f", "https://t/", RT };
	struct oauth2_cache	 c = OAUTH2_CACHE_INIT;
	struct error		 err = ERROR_INIT;
	char			 desc[2001], *body;

	(void)state;
	memset(desc, 'x', sizeof(desc) - 1);
	desc[sizeof(desc) - 1] = '\0';
	body = xasprintf("{\"error\": \"invalid_grant\", "
	    "\"error_description\": \"%s\"}", desc);
	assert_int_equal(oauth2_response_parse(&x, 400, body, strlen(body),
	    NOW, &c, &err), -1);
	assert_non_null(strstr(err.msg, "xxx...)"));
	assert_true(strlen(err.msg) < 600);
	free(body);
	error_release(&err);
	oauth2_cache_release(&c);
}

/* The device flow. */

static void
oauth2_device_parse__answers__codes_or_errors(void **state)
{
	static const char	 ms[] = "{\"device_code\": \"dc\", "
	    "\"user_code\": \"UC\", \"verification_uri\": "
	    "\"https://microsoft.com/devicelogin\", \"expires_in\": 900, "
	    "\"interval\": 5}";
	static const char	 google[] = "{\"device_code\": \"dc\", "
	    "\"user_code\": \"UC\", \"verification_url\": "
	    "\"https://www.google.com/device\", \"expires_in\": \"99999\"}";
	static const char	 partial[] = "{\"device_code\": \"dc\"}";
	static const char	 refused[] = "{\"error\": \"invalid_client\"}";
	struct oauth2_ctx	 x = { "a", "/f", "https://t/device", RT };
	struct oauth2_device	 d;
	struct error		 err = ERROR_INIT;

	(void)state;
	assert_int_equal(oauth2_device_parse(&x, 200, ms, strlen(ms), &d,
	    &err), 0);
	assert_string_equal(d.device_code, "dc");
	assert_string_equal(d.user_code, "UC");
	assert_string_equal(d.uri, "https://microsoft.com/devicelogin");
	assert_int_equal(d.expires_in, 900);
	assert_int_equal(d.interval, 5);
	oauth2_device_release(&d);
	/* Google's spelling; no interval: 5; a long expiry is capped */
	assert_int_equal(oauth2_device_parse(&x, 200, google, strlen(google),
	    &d, &err), 0);
	assert_string_equal(d.uri, "https://www.google.com/device");
	assert_int_equal(d.interval, 5);
	assert_true(d.expires_in <= 1800);
	oauth2_device_release(&d);
	assert_int_equal(oauth2_device_parse(&x, 200, partial,
	    strlen(partial), &d, &err), -1);
	assert_int_equal(err.code, EX_PROTOCOL);
	assert_null(d.device_code);
	error_release(&err);
	assert_int_equal(oauth2_device_parse(&x, 401, refused,
	    strlen(refused), &d, &err), -1);
	assert_int_equal(err.code, EX_NOPERM);
	error_release(&err);
	assert_int_equal(oauth2_device_parse(&x, 200, "<html>", 6, &d, &err),
	    -1);
	assert_int_equal(err.code, EX_PROTOCOL);
	error_release(&err);
}

static void
oauth2_poll_parse__answers__pending_slow_done_or_error(void **state)
{
	static const struct {
		long		 status;
		const char	*body;
		int		 rc;
		int		 code;
		const char	*msg;
	} cases[] = {
		{ 400, "{\"error\": \"authorization_pending\"}",
		    OAUTH2_POLL_PENDING, 0, NULL },
		{ 400, "{\"error\": \"slow_down\"}", OAUTH2_POLL_SLOW_DOWN,
		    0, NULL },
		{ 200, "{\"access_token\": \"at\", \"refresh_token\": "
		    "\"rt\", \"expires_in\": 10}", OAUTH2_POLL_DONE, 0, NULL },
		{ 400, "{\"error\": \"access_denied\"}", -1, EX_NOPERM,
		    "was declined" },
		{ 400, "{\"error\": \"expired_token\"}", -1, EX_NOPERM,
		    "run --oauth2-authorize again" },
		{ 400, "{\"error\": \"invalid_client\"}", -1, EX_NOPERM,
		    "(invalid_client)" },
		{ 503, "", -1, EX_TEMPFAIL, "HTTP 503" },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct oauth2_ctx	 x = { "a", "/f", "https://t/", RT };
		struct oauth2_cache	 c = OAUTH2_CACHE_INIT;
		struct error		 err = ERROR_INIT;
		int			 rc;

		rc = oauth2_poll_parse(&x, cases[i].status, cases[i].body,
		    strlen(cases[i].body), NOW, &c, &err);
		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d", i, rc);
		if (rc == OAUTH2_POLL_DONE) {
			assert_string_equal(c.access_token, "at");
			assert_string_equal(c.refresh_token, "rt");
			assert_int_equal(c.expires_at, NOW + 10);
		} else if (rc == -1) {
			assert_int_equal(err.code, cases[i].code);
			assert_non_null(strstr(err.msg, cases[i].msg));
		} else
			assert_null(c.access_token);
		oauth2_cache_release(&c);
		error_release(&err);
	}
}

/* Provider presets. */

static void
oauth2_endpoint__provider_tenant_flow__url_or_null(void **state)
{
	static const struct {
		int		 provider;
		const char	*tenant;
		int		 flow;
		const char	*token_url;	/* the account's key */
		int		 device;
		const char	*want;
	} cases[] = {
		{ OAUTH2_PROVIDER_MICROSOFT, NULL, RT, NULL, 0,
		    "https://login.microsoftonline.com/common/oauth2/v2.0/"
		    "token" },
		{ OAUTH2_PROVIDER_MICROSOFT, NULL, RT, NULL, 1,
		    "https://login.microsoftonline.com/common/oauth2/v2.0/"
		    "devicecode" },
		{ OAUTH2_PROVIDER_MICROSOFT, "contoso.com", CC, NULL, 0,
		    "https://login.microsoftonline.com/contoso.com/oauth2/"
		    "v2.0/token" },
		{ OAUTH2_PROVIDER_MICROSOFT, NULL, CC, NULL, 0, NULL },
		{ OAUTH2_PROVIDER_GOOGLE, NULL, RT, NULL, 0,
		    "https://oauth2.googleapis.com/token" },
		{ OAUTH2_PROVIDER_GOOGLE, NULL, RT, NULL, 1,
		    "https://oauth2.googleapis.com/device/code" },
		{ OAUTH2_PROVIDER_GOOGLE, NULL, RT, "https://x/t", 0,
		    "https://x/t" },
		{ OAUTH2_PROVIDER_CUSTOM, NULL, RT, NULL, 0, NULL },
		{ OAUTH2_PROVIDER_CUSTOM, NULL, RT, "https://x/t", 0,
		    "https://x/t" },
		{ OAUTH2_PROVIDER_CUSTOM, NULL, RT, "https://x/t", 1, NULL },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct account	 a;
		char		*got;

		memset(&a, 0, sizeof(a));
		a.oauth2_provider = cases[i].provider;
		a.oauth2_tenant = (char *)(uintptr_t)cases[i].tenant;
		a.oauth2_flow = cases[i].flow;
		a.oauth2_token_url = (char *)(uintptr_t)cases[i].token_url;
		got = oauth2_endpoint(&a, cases[i].device);
		if (cases[i].want == NULL ? got != NULL : got == NULL ||
		    strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu: %s", i, got != NULL ? got : "NULL");
		free(got);
	}
}

static void
oauth2_scope__preset_or_account(void **state)
{
	struct account	a;

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_null(oauth2_scope(&a));
	a.oauth2_provider = OAUTH2_PROVIDER_GOOGLE;
	assert_string_equal(oauth2_scope(&a), "https://mail.google.com/");
	a.oauth2_provider = OAUTH2_PROVIDER_MICROSOFT;
	assert_string_equal(oauth2_scope(&a),
	    "https://outlook.office365.com/SMTP.Send offline_access");
	a.oauth2_flow = CC;
	assert_string_equal(oauth2_scope(&a),
	    "https://outlook.office365.com/.default");
	a.oauth2_scope = (char *)(uintptr_t)"mine";
	assert_string_equal(oauth2_scope(&a), "mine");
}

/* Where secrets may go. */

static void
http_url_allowed__schemes_and_hosts(void **state)
{
	static const struct {
		const char	*url;
		int		 ok;
	} cases[] = {
		{ "https://login.microsoftonline.com/common/oauth2/v2.0/token",
		    1 },
		{ "https://oauth2.googleapis.com/token", 1 },
		{ "HTTPS://example.org/t", 1 },
		{ "http://127.0.0.1:8080/token", 1 },
		{ "http://127.8.9.10/token", 1 },
		{ "http://localhost/token", 1 },
		{ "http://[::1]:99/token", 1 },
		{ "http://example.org/token", 0 },
		{ "http://128.0.0.1/token", 0 },
		{ "http://[::2]/token", 0 },
		{ "http://127.0.0.1.example.org/token", 0 },
		{ "ftp://127.0.0.1/token", 0 },
		{ "file:///etc/passwd", 0 },
		{ "not a url", 0 },
		{ "", 0 },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (http_url_allowed(cases[i].url) != cases[i].ok)
			fail_msg("case %zu: %s", i, cases[i].url);
}

/* Provider errors. */

static void
oauth2_explain_challenge__gmail_and_rfc7628__one_line_with_fix(void **state)
{
	static const struct {
		const char	*text;
		const char	*account;
		const char	*want;	/* parts, '|'-separated; NULL: none */
	} cases[] = {
		/* Google's XOAUTH2 documentation, trailing newline included */
		{ "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIG1hYyIsInNjb3Bl"
		  "IjoiaHR0cHM6Ly9tYWlsLmdvb2dsZS5jb20vIn0K", "gmail",
		  "status 401, scope https://mail.google.com/: |invalid, "
		  "expired or revoked|set 'user' to the mailbox|then run "
		  "postie --oauth2-authorize gmail" },
		{ "334 eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUi"
		  "OiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==", "g",
		  "status 400, scope https://mail.google.com/: |is not the "
		  "Google account the token was issued for|--oauth2-authorize g" },
		{ "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxlX3Nj"
		  "b3BlIiwib3BlbmlkLWNvbmZpZ3VyYXRpb24iOiJodHRwczovL2V4YW1wbGUu"
		  "Y29tLy53ZWxsLWtub3duL29wZW5pZC1jb25maWd1cmF0aW9uIn0=", NULL,
		  "status invalid_token, scope example_scope: |get a new token "
		  "for the password or passwordeval" },
		{ "eyJzY2hlbWVzIjoiQmVhcmVyIn0=", "a", NULL },	/* no status */
		{ "VXNlcm5hbWU6", "a", NULL },		/* LOGIN's "Username:" */
		{ "not base64!", "a", NULL },
		{ "334 ", "a", NULL },
		{ "", "a", NULL },
	};
	size_t	 i;
	char	*got, *want, *part, *save;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = oauth2_explain_challenge(cases[i].text, cases[i].account);
		if (cases[i].want == NULL) {
			if (got != NULL)
				fail_msg("case %zu: got %s", i, got);
			continue;
		}
		if (got == NULL)
			fail_msg("case %zu: no explanation", i);
		assert_null(strpbrk(got, "\r\n"));
		want = xstrdup(cases[i].want);
		for (part = strtok_r(want, "|", &save); part != NULL;
		    part = strtok_r(NULL, "|", &save))
			if (strstr(got, part) == NULL)
				fail_msg("case %zu: '%s' not in '%s'", i, part,
				    got);
		free(want);
		free(got);
	}
}

static void
oauth2_explain_aadsts__known_codes__what_to_do(void **state)
{
	static const struct {
		const char	*desc;
		const char	*want;	/* a part; NULL: none */
	} cases[] = {
		{ "AADSTS70008: The provided authorization code or refresh "
		  "token has expired due to inactivity.\r\nTrace ID: 1\r\n",
		  "AADSTS70008: the refresh token expired (unused for 90 days, "
		  "or the sign-in was revoked); then run postie "
		  "--oauth2-authorize ms" },
		{ "AADSTS50076: Due to a configuration change made by your "
		  "administrator, or because you moved to a new location, you "
		  "must use multi-factor authentication",
		  "multi-factor authentication for this sign-in: complete it" },
		{ "AADSTS65001: The user or administrator has not consented to "
		  "use the application", "must consent to SMTP.Send for "
		  "oauth2_client_id; then run postie --oauth2-authorize ms" },
		{ "AADSTS7000215: Invalid client secret provided.",
		  "the secret's value, not its ID (account ms)" },
		{ "AADSTS12345678: something new",
		  "AADSTS12345678: see https://login.microsoftonline.com/error?"
		  "code=12345678" },
		{ "invalid refresh token", NULL },
		{ "AADSTS: no number", NULL },
	};
	size_t	 i;
	char	*got;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = oauth2_explain_aadsts(cases[i].desc, "ms");
		if (cases[i].want == NULL && got != NULL)
			fail_msg("case %zu: got %s", i, got);
		if (cases[i].want != NULL && (got == NULL ||
		    strstr(got, cases[i].want) == NULL))
			fail_msg("case %zu: got %s", i, got != NULL ? got :
			    "nothing");
		free(got);
	}
}

static void
oauth2_response_parse__aadsts_description__hint_no_trace(void **state)
{
	static const char body[] = "{\"error\": \"invalid_grant\", "
	    "\"error_description\": \"AADSTS70008: The refresh token has "
	    "expired due to inactivity. Trace ID: 9f1c Correlation ID: 77 "
	    "Timestamp: 2026-12-03 10:00:00Z\"}";
	struct oauth2_ctx	 x = { "acct", "/tok.json", "https://t/token",
	    OAUTH2_FLOW_REFRESH_TOKEN };
	struct oauth2_cache	 c = OAUTH2_CACHE_INIT;
	struct error		 err = ERROR_INIT;

	(void)state;
	assert_int_equal(oauth2_response_parse(&x, 400, body, strlen(body),
	    NOW, &c, &err), -1);
	assert_int_equal(err.code, EX_NOPERM);
	assert_non_null(strstr(err.msg, "(invalid_grant: AADSTS70008: The "
	    "refresh token has expired due to inactivity.): re-authorize"));
	assert_non_null(strstr(err.msg, "; Microsoft's AADSTS70008: the "
	    "refresh token expired"));
	assert_non_null(strstr(err.msg, "--oauth2-authorize acct"));
	assert_null(strstr(err.msg, "Trace ID"));
	error_release(&err);
	oauth2_cache_release(&c);
}

/* The authorization code flow with PKCE. */

static void
oauth2_pkce_challenge__known_verifier__s256(void **state)
{
	char		 out[OAUTH2_CHALLENGE_LEN + 1];
	struct error	 err = ERROR_INIT;

	(void)state;
#ifdef HAVE_OPENSSL
	/* BASE64URL(SHA-256(verifier)), from Python's hashlib */
	assert_int_equal(oauth2_pkce_challenge(
	    "dBjftJeZ4CVP-mJ92K1ObAwo5vPfOpvyt7hRvLOD4Ec", out, &err), 0);
	assert_string_equal(out, "1SNQ6zHJLNf4i_4WEaKo8CT0EC_EZOXuTj2l3JdbHrc");
	assert_int_equal(oauth2_pkce_challenge("", out, &err), 0);
	assert_string_equal(out, "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
#else
	assert_int_equal(oauth2_pkce_challenge("x", out, &err), -1);
	assert_int_equal(err.code, EX_SOFTWARE);
	error_release(&err);
#endif
}

static void
oauth2_auth_url__fields__percent_encoded(void **state)
{
	char	*u;

	(void)state;
	u = oauth2_auth_url("https://accounts.google.com/o/oauth2/v2/auth",
	    "id 1.apps", "https://mail.google.com/", "http://127.0.0.1:5/",
	    "st", "ch");
	assert_string_equal(u, "https://accounts.google.com/o/oauth2/v2/auth"
	    "?response_type=code&client_id=id%201.apps&redirect_uri="
	    "http%3A%2F%2F127.0.0.1%3A5%2F&scope=https%3A%2F%2Fmail.google."
	    "com%2F&state=st&code_challenge=ch&code_challenge_method=S256"
	    "&access_type=offline&prompt=consent");
	free(u);
	u = oauth2_auth_url("https://a/auth?tenant=x", "c", NULL, "r", "s",
	    "h");
	assert_string_equal(u, "https://a/auth?tenant=x&response_type=code"
	    "&client_id=c&redirect_uri=r&state=s&code_challenge=h"
	    "&code_challenge_method=S256&access_type=offline&prompt=consent");
	free(u);
}

static void
oauth2_redirect_parse__requests__code_or_error(void **state)
{
	static const struct {
		const char	*line;
		int		 rc;
		int		 code;		/* EX_* when rc is -1 */
		const char	*want;		/* the code, or a message part */
	} cases[] = {
		{ "GET /?state=S1&code=4%2F0Ab%2Bx&scope=a+b HTTP/1.1", 1, 0,
		  "4/0Ab+x" },
		{ "GET /?code=c&state=S1", 1, 0, "c" },
		{ "GET /favicon.ico HTTP/1.1", 0, 0, NULL },
		{ "GET / HTTP/1.1", 0, 0, NULL },
		{ "GET /?foo=bar HTTP/1.1", 0, 0, NULL },
		{ "POST /?code=c&state=S1 HTTP/1.1", 0, 0, NULL },
		{ "GET /?code=c&state=S2 HTTP/1.1", -1, EX_PROTOCOL,
		  "carries another state" },
		{ "GET /?code=c HTTP/1.1", -1, EX_PROTOCOL, "carries no state" },
		{ "GET /?error=access_denied&state=S1 HTTP/1.1", -1, EX_NOPERM,
		  "was declined (access_denied)" },
		{ "GET /?error=invalid_scope&error_description=bad%1Bx&"
		  "state=S1 HTTP/1.1", -1, EX_NOPERM,
		  "was refused (invalid_scope: bad\\x1bx)" },
	};
	struct error	 err = ERROR_INIT;
	size_t		 i;
	char		*code;
	int		 rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = oauth2_redirect_parse(cases[i].line, "S1", &code, &err);
		if (rc != cases[i].rc)
			fail_msg("case %zu: %d", i, rc);
		if (rc == 1)
			assert_string_equal(code, cases[i].want);
		else
			assert_null(code);
		if (rc == -1 && (err.code != cases[i].code ||
		    strstr(err.msg, cases[i].want) == NULL))
			fail_msg("case %zu: %d %s", i, err.code, err.msg);
		free(code);
		error_release(&err);
	}
}

static void
oauth2_auth_endpoint__google_preset_or_key(void **state)
{
	struct account	a;
	char		*u;

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_null(oauth2_auth_endpoint(&a));
	a.oauth2_provider = OAUTH2_PROVIDER_GOOGLE;
	u = oauth2_auth_endpoint(&a);
	assert_string_equal(u, "https://accounts.google.com/o/oauth2/v2/auth");
	free(u);
	a.oauth2_auth_url = xstrdup("https://127.0.0.1:1/authorize");
	u = oauth2_auth_endpoint(&a);
	assert_string_equal(u, "https://127.0.0.1:1/authorize");
	free(u);
	free(a.oauth2_auth_url);
	a.oauth2_provider = OAUTH2_PROVIDER_MICROSOFT;
	a.oauth2_auth_url = NULL;
	assert_null(oauth2_auth_endpoint(&a));	/* the device flow */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(oauth2_cache_parse__table__fields_or_ex_config),
		cmocka_unit_test(
		    oauth2_cache_parse__getmail_fields__kept_as_fallbacks),
		cmocka_unit_test(
		    oauth2_cache_fresh__margin__refreshes_before_expiry),
		cmocka_unit_test(
		    oauth2_cache_update__old_members__kept_tokens_replaced),
		cmocka_unit_test(
		    oauth2_cache_update__empty_or_garbage__fresh_object),
		cmocka_unit_test(
		    oauth2_response_parse__table__token_or_classified_error),
		cmocka_unit_test(oauth2_response_parse__long_description__cut),
		cmocka_unit_test(oauth2_device_parse__answers__codes_or_errors),
		cmocka_unit_test(
		    oauth2_poll_parse__answers__pending_slow_done_or_error),
		cmocka_unit_test(
		    oauth2_endpoint__provider_tenant_flow__url_or_null),
		cmocka_unit_test(oauth2_scope__preset_or_account),
		cmocka_unit_test(http_url_allowed__schemes_and_hosts),
		cmocka_unit_test(
		    oauth2_explain_challenge__gmail_and_rfc7628__one_line_with_fix),
		cmocka_unit_test(oauth2_explain_aadsts__known_codes__what_to_do),
		cmocka_unit_test(
		    oauth2_response_parse__aadsts_description__hint_no_trace),
		cmocka_unit_test(oauth2_pkce_challenge__known_verifier__s256),
		cmocka_unit_test(
		    oauth2_cache_update__awkward_tokens__placeholders_gone_round_trip),
		cmocka_unit_test(oauth2_auth_url__fields__percent_encoded),
		cmocka_unit_test(
		    oauth2_redirect_parse__requests__code_or_error),
		cmocka_unit_test(oauth2_auth_endpoint__google_preset_or_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
