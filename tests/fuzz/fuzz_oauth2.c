/*
 * Fuzz target for oauth2.c's JSON readers: the input is read as a token
 * file, as a token endpoint's answer (the first byte picks the HTTP
 * status), as a device endpoint's answer and as a poll answer.  Errors
 * carry the documented codes and never a line break (the endpoint's words
 * are escaped); a parsed token file rewritten by oauth2_cache_update()
 * parses again to the same tokens.
 */
#include "autoconfig.h"

#include <string.h>

#include "config.h"
#include "error.h"
#include "oauth2.h"
#include "xmalloc.h"
#include "fuzz.h"

static const long statuses[] = { 200, 400, 401, 404, 429, 500, 503, 302 };

static void
check_err(const struct error *err)
{
	FUZZ_ASSERT(err->msg != NULL);
	FUZZ_ASSERT(strpbrk(err->msg, "\r\n") == NULL);
	FUZZ_ASSERT(err->code == EX_NOPERM || err->code == EX_TEMPFAIL ||
	    err->code == EX_CONFIG || err->code == EX_PROTOCOL);
}

static void
same_str(const char *a, const char *b)
{
	FUZZ_ASSERT((a == NULL) == (b == NULL));
	FUZZ_ASSERT(a == NULL || strcmp(a, b) == 0);
}

static void
cache_roundtrip(const char *text, size_t len)
{
	struct oauth2_cache	 c, again;
	struct error		 err = ERROR_INIT;
	char			*out;

	if (oauth2_cache_parse(text, len, "f", &c, &err) == -1) {
		FUZZ_ASSERT(err.code == EX_CONFIG);
		error_release(&err);
		return;
	}
	out = oauth2_cache_update(text, len, &c);
	FUZZ_ASSERT(oauth2_cache_parse(out, strlen(out), "f", &again,
	    &err) == 0);
	same_str(c.access_token, again.access_token);
	same_str(c.refresh_token, again.refresh_token);
	FUZZ_ASSERT(c.expires_at == again.expires_at);
	freezero_str(out);
	oauth2_cache_release(&c);
	oauth2_cache_release(&again);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* A refusal's explanation is one line; a redirect is ours or not. */
static void
provider_words(const char *text, size_t size)
{
	struct error	 err = ERROR_INIT;
	char		*z = xstrndup(text, size), *r, *code;
	int		 rc;

	if ((r = oauth2_explain_challenge(z, "a")) != NULL) {
		FUZZ_ASSERT(strpbrk(r, "\r\n") == NULL);
		free(r);
	}
	if ((r = oauth2_explain_aadsts(z, "a")) != NULL) {
		FUZZ_ASSERT(strpbrk(r, "\r\n") == NULL);
		free(r);
	}
	rc = oauth2_redirect_parse(z, "S", &code, &err);
	FUZZ_ASSERT(rc >= -1 && rc <= 1);
	FUZZ_ASSERT((rc == 1) == (code != NULL));
	if (rc == -1) {
		check_err(&err);
		error_release(&err);
	}
	free(code);
	free(z);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oauth2_ctx	 x = { "a", "/f", "https://t/", 0 };
	struct oauth2_cache	 c = OAUTH2_CACHE_INIT;
	struct oauth2_device	 d;
	struct error		 err = ERROR_INIT;
	const char		*text = (const char *)data + 1;
	long			 status;
	int			 rc;

	if (size < 1 || size > OAUTH2_FILE_MAX)
		return 0;
	status = statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
	x.flow = data[0] & 0x80 ? OAUTH2_FLOW_CLIENT_CREDENTIALS :
	    OAUTH2_FLOW_REFRESH_TOKEN;
	size--;
	cache_roundtrip(text, size);

	if (oauth2_response_parse(&x, status, text, size, 1000, &c,
	    &err) == 0) {
		FUZZ_ASSERT(status == 200 && c.access_token != NULL);
		FUZZ_ASSERT(c.expires_at > 1000);
	} else {
		check_err(&err);
		error_release(&err);
	}
	oauth2_cache_release(&c);

	rc = oauth2_poll_parse(&x, status, text, size, 1000, &c, &err);
	FUZZ_ASSERT(rc >= -1 && rc <= OAUTH2_POLL_SLOW_DOWN);
	if (rc == -1) {
		check_err(&err);
		error_release(&err);
	}
	oauth2_cache_release(&c);

	if (oauth2_device_parse(&x, status, text, size, &d, &err) == 0) {
		FUZZ_ASSERT(d.device_code != NULL && d.user_code != NULL &&
		    d.uri != NULL);
		FUZZ_ASSERT(d.interval > 0 && d.expires_in > 0);
		oauth2_device_release(&d);
	} else {
		check_err(&err);
		error_release(&err);
	}
	provider_words(text, size);
	return 0;
}
