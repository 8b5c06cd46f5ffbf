/*
 * What oauth2.c (the token file, refresh, the device flow) and
 * oauth2_code.c (the authorization code flow with PKCE) share.
 */
#ifndef POSTIE_OAUTH2_INT_H
#define POSTIE_OAUTH2_INT_H

#include "http.h"
#include "oauth2.h"

struct account;
struct error;

#define DESC_MAX	300	/* of the endpoint's error_description */
#define GOOGLE_AUTH	"https://accounts.google.com/o/oauth2/v2/auth"

/* oauth2.c */
int	client_secret(const struct account *, const struct oauth2_cache *,
	    char **, struct error *);
int	post(const struct account *, const char *url, const char *const *f,
	    struct http_response *, struct error *);

/* oauth2_code.c: the code flow; c gets the tokens */
int	code_flow(const struct account *, const struct oauth2_ctx *,
	    const char *endpoint, oauth2_show_fn, void *,
	    struct oauth2_cache *, struct error *);

#endif
