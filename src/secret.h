/*
 * Secrets: the account's password from "password" or "passwordeval" (and
 * the OAuth2 token, oauth2.h).  Handed to the transport as a value just
 * before AUTH; never logged, never queued.
 */
#ifndef POSTIE_SECRET_H
#define POSTIE_SECRET_H

struct account;
struct error;

/*
 * Run cmd with /bin/sh -c, stdin from /dev/null, stderr passed through,
 * and keep the first line of its output (CR LF or LF ended; at most 64
 * KiB of output, a command printing more is killed).  account and key
 * name the setting in errors ("account 'x': passwordeval command failed
 * (exit 1)").  *out is allocated: free it with freezero_str().
 * Errors: EX_CONFIG (the command failed, was killed, printed nothing or
 * too much), EX_OSERR (pipe, fork, wait).
 */
int	secret_eval(const char *account, const char *key, const char *cmd,
	    char **out, struct error *);

/*
 * The account's password: "password", else the first line printed by
 * "passwordeval" (secret_eval()), else NULL with no error (libcurl then
 * tries without).  *out is allocated; free it with freezero_str().
 * Errors: those of secret_eval().
 */
int	secret_password(const struct account *, char **out, struct error *);

#endif
