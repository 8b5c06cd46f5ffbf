/*
 * Configuration files in msmtp's syntax (defaults, accounts, inheritance,
 * postie's own keys) and the account's secrets (passwordeval).  The
 * aliases file is aliases.c's.
 */
#include "autoconfig.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "error.h"
#include "http.h"
#include "import.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"
#endif

#define FILE_MAX	(1024 * 1024)	/* config and aliases files */
#define LINE_MAX_LEN	4096		/* one config line */
#define MAILNAME	"/etc/mailname"

/*
 * The account fields, so that "defaults" and "account A : B" can copy
 * exactly the settings that were given (msmtp's mask).
 */
enum field {
	F_HOST, F_PORT, F_TLS, F_TLS_STARTTLS, F_TLS_TRUST_FILE,
	F_TLS_CRL_FILE, F_TLS_CERTCHECK, F_TLS_FINGERPRINT, F_TLS_CERT_FILE,
	F_TLS_KEY_FILE, F_TLS_HOST_OVERRIDE, F_AUTH, F_USER, F_PASSWORD,
	F_PASSWORDEVAL, F_AUTH_CLEARTEXT, F_OAUTH2_TOKEN_FILE,
	F_OAUTH2_PROVIDER, F_OAUTH2_TENANT,
	F_OAUTH2_TOKEN_URL, F_OAUTH2_DEVICE_URL, F_OAUTH2_AUTH_URL, F_OAUTH2_CLIENT_ID, F_OAUTH2_CLIENT_SECRET,
	F_OAUTH2_CLIENT_SECRET_EVAL, F_OAUTH2_SCOPE, F_OAUTH2_FLOW, F_FROM, F_FROM_FULL_NAME,
	F_ALLOW_FROM_OVERRIDE, F_DOMAIN, F_QUALIFY_DOMAIN, F_ALIASES,
	F_TIMEOUT, F_LOGFILE, F_SYSLOG, F_SET_FROM_HEADER, F_SET_DATE_HEADER,
	F_SET_MSGID_HEADER, F_REMOVE_BCC_HEADERS, F_UNDISCLOSED_RECIPIENTS,
	F_LOCAL_SPOOL, F_LOCAL_MAILDIR, F_QUEUE, F_QUEUE_DIR,
	F_QUEUE_LIFETIME, F_QUEUE_FLUSH_ON_SEND, F_QUEUE_BACKOFF_MAX,
	F_DROP_ALLOW_FROM, F_DROP_MAX_SIZE, F_MESSAGE_SIZE_LIMIT, F_NONE
};
#define BIT(f)	((uint64_t)1 << (f))

struct fielddef {
	size_t	off;
	int	is_str;
};

#define S(m)	{ offsetof(struct account, m), 1 }
#define I(m)	{ offsetof(struct account, m), 0 }
static const struct fielddef fields[F_NONE] = {
	[F_HOST] = S(host),
	[F_PORT] = I(port),
	[F_TLS] = I(tls),
	[F_TLS_STARTTLS] = I(tls_starttls),
	[F_TLS_TRUST_FILE] = S(tls_trust_file),
	[F_TLS_CRL_FILE] = S(tls_crl_file),
	[F_TLS_CERTCHECK] = I(tls_certcheck),
	[F_TLS_FINGERPRINT] = S(tls_fingerprint),
	[F_TLS_CERT_FILE] = S(tls_cert_file),
	[F_TLS_KEY_FILE] = S(tls_key_file),
	[F_TLS_HOST_OVERRIDE] = S(tls_host_override),
	[F_AUTH] = S(auth),
	[F_USER] = S(user),
	[F_PASSWORD] = S(password),
	[F_PASSWORDEVAL] = S(passwordeval),
	[F_AUTH_CLEARTEXT] = I(auth_cleartext),
	[F_OAUTH2_TOKEN_FILE] = S(oauth2_token_file),
	[F_OAUTH2_PROVIDER] = I(oauth2_provider),
	[F_OAUTH2_TENANT] = S(oauth2_tenant),
	[F_OAUTH2_TOKEN_URL] = S(oauth2_token_url),
	[F_OAUTH2_DEVICE_URL] = S(oauth2_device_url),
	[F_OAUTH2_AUTH_URL] = S(oauth2_auth_url),
	[F_OAUTH2_CLIENT_ID] = S(oauth2_client_id),
	[F_OAUTH2_CLIENT_SECRET] = S(oauth2_client_secret),
	[F_OAUTH2_CLIENT_SECRET_EVAL] = S(oauth2_client_secret_eval),
	[F_OAUTH2_SCOPE] = S(oauth2_scope),
	[F_OAUTH2_FLOW] = I(oauth2_flow),
	[F_FROM] = S(from),
	[F_FROM_FULL_NAME] = S(from_full_name),
	[F_ALLOW_FROM_OVERRIDE] = I(allow_from_override),
	[F_DOMAIN] = S(domain),
	[F_QUALIFY_DOMAIN] = S(qualify_domain),
	[F_ALIASES] = S(aliases),
	[F_TIMEOUT] = I(timeout),
	[F_LOGFILE] = S(logfile),
	[F_SYSLOG] = S(syslog),
	[F_SET_FROM_HEADER] = I(set_from_header),
	[F_SET_DATE_HEADER] = I(set_date_header),
	[F_SET_MSGID_HEADER] = I(set_msgid_header),
	[F_REMOVE_BCC_HEADERS] = I(remove_bcc_headers),
	[F_UNDISCLOSED_RECIPIENTS] = I(undisclosed_recipients),
	[F_LOCAL_SPOOL] = S(local_spool),
	[F_LOCAL_MAILDIR] = S(local_maildir),
	[F_QUEUE] = I(queue),
	[F_QUEUE_DIR] = S(queue_dir),
	[F_QUEUE_LIFETIME] = I(queue_lifetime),
	[F_QUEUE_FLUSH_ON_SEND] = I(queue_flush_on_send),
	[F_QUEUE_BACKOFF_MAX] = I(queue_backoff_max),
	[F_DROP_ALLOW_FROM] = I(drop_allow_from),
	[F_DROP_MAX_SIZE] = I(drop_max_size),
	[F_MESSAGE_SIZE_LIMIT] = I(message_size_limit),
};
#undef S
#undef I

/* An account being parsed, with the fields given for it. */
struct pacct {
	struct account	*a;
	uint64_t	 mask;
};

/* The state of parsing one file. */
struct parse {
	const char	 *name;		/* file name, for messages */
	int		  line;
	struct pacct	  defaults;
	struct pacct	**accts;	/* this file's accounts, in order */
	size_t		  naccts;
	size_t		  cap;
	struct pacct	 *cur;		/* NULL before the first section */
	char		 *default_name;
	int		  has_password;	/* a "password" line was seen */
};

struct keydef;
typedef int (*key_fn)(struct parse *, struct pacct *, const struct keydef *,
    const char *, struct error *);

/* Flags for string keys. */
#define K_FILE		0x01	/* a file name: "~" is $HOME */
#define K_REQUIRED	0x02	/* an empty value is an error */
#define K_EXPAND_FROM	0x04	/* %U %H %C %M as msmtp's "from" */
#define K_EXPAND_HOST	0x08	/* %H %C %M as msmtp's "domain" */

struct keydef {
	const char	*name;
	key_fn		 fn;
	enum field	 field;
	int		 flags;
};

static struct account *account_new(const char *, int, const char *);
static char	**str_at(struct account *, enum field);
static int	*int_at(struct account *, enum field);
static void	 account_free(struct account *);
static void	 set_str(struct pacct *, enum field, char *);
static void	 set_int(struct pacct *, enum field, int);
static void	 copy_field(struct account *, const struct account *,
		    enum field);
static int	 perr(struct parse *, struct error *, const char *, ...)
		    __attribute__((__format__(printf, 3, 4)));
static int	 bad_value(struct parse *, const struct keydef *,
		    const char *, struct error *);
static int	 parse_bool(const char *);
static int	 parse_int(const char *, size_t, long, long, int *);
static int	 valid_host(const char *, size_t);
static char	*home_dir(void);
static char	*user_name(void);
static char	*expand_tilde(const char *);
static char	*expand_pct(const char *, const char *);
static const struct account *chosen(const struct account *, const char *);
static int	 k_string(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_host(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_domain(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_bool(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_port(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_timeout(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_auth(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_password(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_passwordeval(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_client_secret(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_client_secret_eval(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_token_url(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_oauth2_provider(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_oauth2_tenant(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_oauth2_flow(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_fingerprint(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_syslog(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_duration(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_size(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_from_header(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_auto_off(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_add_missing(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_keepbcc(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_auto_from(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_protocol(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_ignored(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_url(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 pct_decode(const char *, size_t, char **);
static struct pacct *find_local(const struct parse *, const char *);
static int	 start_account(struct parse *, const char *, struct error *);
static int	 unquote(struct parse *, const char *, char **,
		    struct error *);
static int	 parse_line(struct parse *, char *, struct error *);
static void	 parse_release(struct parse *);
static int	 parse_text(struct parse *, const char *, size_t,
		    const char *, struct error *);
static void	 merge(struct config *, struct parse *);
static int	 read_small_file(const char *, const char *, char **,
		    size_t *, struct stat *, struct error *);
static int	 check_mode(const char *, const struct stat *, int, int,
		    struct error *);
static int	 load_file(struct config *, const char *, int, int,
		    struct error *);
static char	*user_file(void);
static struct account *find_account(const struct config *, const char *);
/*
 * Every key msmtp 1.8 knows, and postie's own.  Keys with k_ignored are
 * accepted so that an existing msmtprc works, with a warning.
 */
static const struct keydef keys[] = {
	/* server */
	{ "host", k_host, F_HOST, 0 },
	{ "port", k_port, F_PORT, 0 },
	{ "url", k_url, F_NONE, 0 },
	{ "domain", k_domain, F_DOMAIN, 0 },
	{ "timeout", k_timeout, F_TIMEOUT, 0 },
	{ "connect_timeout", k_timeout, F_TIMEOUT, 0 },
	{ "protocol", k_protocol, F_NONE, 0 },
	/* TLS */
	{ "tls", k_bool, F_TLS, 0 },
	{ "tls_starttls", k_bool, F_TLS_STARTTLS, 0 },
	{ "tls_trust_file", k_string, F_TLS_TRUST_FILE, K_FILE },
	{ "tls_crl_file", k_string, F_TLS_CRL_FILE, K_FILE },
	{ "tls_certcheck", k_bool, F_TLS_CERTCHECK, 0 },
	{ "tls_fingerprint", k_fingerprint, F_TLS_FINGERPRINT, 0 },
	{ "tls_cert_file", k_string, F_TLS_CERT_FILE, K_FILE },
	{ "tls_key_file", k_string, F_TLS_KEY_FILE, K_FILE },
	{ "tls_host_override", k_string, F_TLS_HOST_OVERRIDE, 0 },
	/* authentication */
	{ "auth", k_auth, F_AUTH, 0 },
	{ "user", k_string, F_USER, 0 },
	{ "password", k_password, F_PASSWORD, 0 },
	{ "passwordeval", k_passwordeval, F_PASSWORDEVAL, 0 },
	{ "auth_cleartext", k_bool, F_AUTH_CLEARTEXT, 0 },
	/* OAuth2 (oauth2.h) */
	{ "oauth2_token_file", k_string, F_OAUTH2_TOKEN_FILE, K_FILE },
	{ "oauth2_provider", k_oauth2_provider, F_OAUTH2_PROVIDER, 0 },
	{ "oauth2_tenant", k_oauth2_tenant, F_OAUTH2_TENANT, 0 },
	{ "oauth2_token_url", k_token_url, F_OAUTH2_TOKEN_URL, 0 },
	{ "oauth2_token_endpoint", k_token_url, F_OAUTH2_TOKEN_URL, 0 },
	{ "oauth2_device_endpoint", k_token_url, F_OAUTH2_DEVICE_URL, 0 },
	{ "oauth2_authorization_endpoint", k_token_url, F_OAUTH2_AUTH_URL,
	    0 },
	{ "oauth2_client_id", k_string, F_OAUTH2_CLIENT_ID, 0 },
	{ "oauth2_client_secret", k_client_secret, F_OAUTH2_CLIENT_SECRET,
	    0 },
	{ "oauth2_client_secret_eval", k_client_secret_eval,
	    F_OAUTH2_CLIENT_SECRET_EVAL, 0 },
	{ "oauth2_scope", k_string, F_OAUTH2_SCOPE, 0 },
	{ "oauth2_flow", k_oauth2_flow, F_OAUTH2_FLOW, 0 },
	/* envelope and headers */
	{ "from", k_string, F_FROM, K_EXPAND_FROM },
	{ "from_full_name", k_string, F_FROM_FULL_NAME, 0 },
	{ "allow_from_override", k_bool, F_ALLOW_FROM_OVERRIDE, 0 },
	{ "qualify_domain", k_string, F_QUALIFY_DOMAIN, K_EXPAND_HOST },
	{ "aliases", k_string, F_ALIASES, K_FILE },
	{ "set_from_header", k_from_header, F_SET_FROM_HEADER, 0 },
	{ "set_date_header", k_auto_off, F_SET_DATE_HEADER, 0 },
	{ "set_msgid_header", k_auto_off, F_SET_MSGID_HEADER, 0 },
	{ "remove_bcc_headers", k_bool, F_REMOVE_BCC_HEADERS, 0 },
	{ "undisclosed_recipients", k_bool, F_UNDISCLOSED_RECIPIENTS, 0 },
	/* local delivery */
	{ "local_spool", k_string, F_LOCAL_SPOOL, K_FILE },
	{ "local_maildir", k_string, F_LOCAL_MAILDIR, 0 },
	/* the queue */
	{ "queue", k_bool, F_QUEUE, 0 },
	{ "queue_dir", k_string, F_QUEUE_DIR, K_FILE },
	{ "queue_lifetime", k_duration, F_QUEUE_LIFETIME, 0 },
	{ "queue_flush_on_send", k_bool, F_QUEUE_FLUSH_ON_SEND, 0 },
	{ "queue_backoff_max", k_duration, F_QUEUE_BACKOFF_MAX, 0 },
	/* the system drop directory (drop.h) */
	{ "drop_allow_from", k_bool, F_DROP_ALLOW_FROM, 0 },
	{ "drop_max_size", k_size, F_DROP_MAX_SIZE, 0 },
	/* -bs (bs.h) */
	{ "message_size_limit", k_size, F_MESSAGE_SIZE_LIMIT, 0 },
	/* logging */
	{ "logfile", k_string, F_LOGFILE, K_FILE },
	{ "syslog", k_syslog, F_SYSLOG, 0 },
	/* msmtp's older names, mapped onto the keys above */
	{ "add_missing_from_header", k_add_missing, F_SET_FROM_HEADER, 0 },
	{ "add_missing_date_header", k_add_missing, F_SET_DATE_HEADER, 0 },
	{ "keepbcc", k_keepbcc, F_REMOVE_BCC_HEADERS, 0 },
	{ "auto_from", k_auto_from, F_FROM, 0 },
	{ "maildomain", k_string, F_QUALIFY_DOMAIN, 0 },
	/* msmtp keys postie does not implement */
	{ "tls_priorities", k_ignored, F_NONE, 0 },
	{ "tls_min_dh_prime_bits", k_ignored, F_NONE, 0 },
	{ "tls_force_sslv3", k_ignored, F_NONE, 0 },
	{ "dsn_notify", k_ignored, F_NONE, 0 },
	{ "dsn_return", k_ignored, F_NONE, 0 },
	{ "ntlmdomain", k_ignored, F_NONE, 0 },
	{ "proxy_host", k_ignored, F_NONE, 0 },
	{ "proxy_port", k_ignored, F_NONE, 0 },
	{ "socket", k_ignored, F_NONE, 0 },
	{ "source_ip", k_ignored, F_NONE, 0 },
	{ "logfile_time_format", k_ignored, F_NONE, 0 },
	{ "eval", k_ignored, F_NONE, 0 },
	{ NULL, NULL, F_NONE, 0 }
};

/* msmtp's mechanism names (its "auth" command), plus on and off. */
static const char *const auth_mechs[] = {
	"on", "plain", "scram-sha-1", "scram-sha-256", "external", "gssapi",
	"cram-md5", "digest-md5", "login", "ntlm", "oauthbearer", "xoauth2",
	NULL
};

/* What config_select() returns when nothing is configured. */
static char empty_name[] = "default";
static struct account empty_account = {
	.name = empty_name,
	.tls_starttls = 1,
	.tls_certcheck = 1,
	.allow_from_override = 1,
	.set_from_header = TRI_AUTO,
	.set_date_header = TRI_AUTO,
	.set_msgid_header = TRI_AUTO,
	.remove_bcc_headers = 1,
	.queue = 1,
	.queue_lifetime = CONFIG_QUEUE_LIFETIME,
	.queue_flush_on_send = 1,
	.queue_backoff_max = CONFIG_QUEUE_BACKOFF_MAX,
};

/* Accounts and their fields. */

static struct account *
account_new(const char *file, int line, const char *name)
{
	struct account	*a;

	a = xcalloc(1, sizeof(*a));
	a->name = xstrdup(name);
	a->file = xstrdup(file);
	a->line = line;
	a->tls_starttls = 1;
	a->tls_certcheck = 1;
	a->allow_from_override = 1;
	a->domain = xstrdup("localhost");	/* msmtp's default EHLO */
	a->set_from_header = TRI_AUTO;
	a->set_date_header = TRI_AUTO;
	a->set_msgid_header = TRI_AUTO;
	a->remove_bcc_headers = 1;
	a->queue = 1;
	a->queue_lifetime = CONFIG_QUEUE_LIFETIME;
	a->queue_flush_on_send = 1;
	a->queue_backoff_max = CONFIG_QUEUE_BACKOFF_MAX;
	return a;
}

static char **
str_at(struct account *a, enum field f)
{
	return (char **)(void *)((char *)a + fields[f].off);
}

static int *
int_at(struct account *a, enum field f)
{
	return (int *)(void *)((char *)a + fields[f].off);
}

static void
account_free(struct account *a)
{
	int	f;

	if (a == NULL)
		return;
	for (f = 0; f < F_NONE; f++)
		if (fields[f].is_str)
			freezero_str(*str_at(a, (enum field)f));
	free(a->name);
	free(a->file);
	free(a);
}

static void
set_str(struct pacct *pa, enum field f, char *owned)
{
	char	**p = str_at(pa->a, f);

	freezero_str(*p);
	*p = owned;
	pa->mask |= BIT(f);
}

static void
set_int(struct pacct *pa, enum field f, int v)
{
	*int_at(pa->a, f) = v;
	pa->mask |= BIT(f);
}

static void
copy_field(struct account *dst, const struct account *src, enum field f)
{
	const char	*base = (const char *)src + fields[f].off;
	const char	*s;
	char		**d;

	if (fields[f].is_str) {
		s = *(const char *const *)(const void *)base;
		d = str_at(dst, f);
		freezero_str(*d);
		*d = s != NULL ? xstrdup(s) : NULL;
	} else
		*int_at(dst, f) = *(const int *)(const void *)base;
}

/* Values. */

static int
perr(struct parse *p, struct error *err, const char *fmt, ...)
{
	va_list	 ap;
	char	*m;

	va_start(ap, fmt);
	m = xvasprintf(fmt, ap);
	va_end(ap);
	error_set(err, EX_CONFIG, "%s:%d: %s", p->name, p->line, m);
	free(m);
	return -1;
}

static int
bad_value(struct parse *p, const struct keydef *k, const char *v,
    struct error *err)
{
	return perr(p, err, "invalid value '%s' for '%s'", v, k->name);
}

/* msmtp: "on", "off", and an empty value meaning "on".  -1 otherwise. */
static int
parse_bool(const char *v)
{
	if (*v == '\0' || strcasecmp(v, "on") == 0)
		return 1;
	if (strcasecmp(v, "off") == 0)
		return 0;
	return -1;
}

/* A decimal number of n characters in [min, max]; no sign, no blanks. */
static int
parse_int(const char *s, size_t n, long min, long max, int *out)
{
	long	v = 0;
	size_t	i;

	if (n == 0 || n > 10)
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

/*
 * A host name, an IPv4 or IPv6 address (RFC 1123 2.1, RFC 4291 2.2) or an
 * address literal; the value ends up in a URL, so nothing else passes.
 */
static int
valid_host(const char *s, size_t n)
{
	size_t	i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("-._:%[]", s[i]) == NULL)
			return 0;
	return 1;
}

static char *
home_dir(void)
{
	const char	*h = getenv("HOME");
	struct passwd	*pw;

	if (h != NULL && *h != '\0')
		return xstrdup(h);
	if ((pw = getpwuid(getuid())) != NULL && pw->pw_dir != NULL)
		return xstrdup(pw->pw_dir);
	return NULL;
}

/*
 * %U.  msmtp looks at $USER and $LOGNAME first; the password database
 * comes first here so that a system-wide "from %U@..." with
 * allow_from_override off cannot be changed through the environment.
 */
static char *
user_name(void)
{
	struct passwd	*pw;
	const char	*s;

	if ((pw = getpwuid(getuid())) != NULL && pw->pw_name != NULL)
		return xstrdup(pw->pw_name);
	if ((s = getenv("USER")) != NULL && *s != '\0')
		return xstrdup(s);
	if ((s = getenv("LOGNAME")) != NULL && *s != '\0')
		return xstrdup(s);
	return xasprintf("%lu", (unsigned long)getuid());
}

/* msmtp: a leading "~" is $HOME.  "~user" is left alone. */
static char *
expand_tilde(const char *v)
{
	char	*home, *s;

	if (v[0] != '~' || (v[1] != '\0' && v[1] != '/'))
		return xstrdup(v);
	if ((home = home_dir()) == NULL)
		return xstrdup(v);
	s = xasprintf("%s%s", home, v + 1);
	free(home);
	return s;
}

/*
 * msmtp 1.8.7's patterns: %U user name, %H host name, %C canonical host
 * name, %M /etc/mailname (the FQDN when it is missing).  Only the letters
 * in which are replaced; any other '%' is kept.
 */
static char *
expand_pct(const char *v, const char *which)
{
	struct buf	 b = BUF_INIT;
	char		 host[256];
	char		*t;

	for (; *v != '\0'; v++) {
		if (v[0] != '%' || v[1] == '\0' ||
		    strchr(which, v[1]) == NULL) {
			buf_addch(&b, *v);
			continue;
		}
		v++;
		switch (*v) {
		case 'U':
			t = user_name();
			break;
		case 'H':
			if (gethostname(host, sizeof(host)) == -1)
				strcpy(host, "localhost");
			host[sizeof(host) - 1] = '\0';
			t = xstrdup(host);
			break;
		case 'C':
			t = util_fqdn();
			break;
		default:	/* 'M' */
			if ((t = util_first_line(MAILNAME)) == NULL)
				t = util_fqdn();
			break;
		}
		buf_addstr(&b, t);
		free(t);
	}
	return buf_detach(&b);
}

/* Key handlers: set the field(s) of pa from the value v, or fail. */

static int
k_string(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	if (*v == '\0') {
		if (k->flags & K_REQUIRED)
			return perr(p, err, "'%s' needs a value", k->name);
		set_str(pa, k->field, NULL);
		return 0;
	}
	if (k->flags & K_FILE)
		set_str(pa, k->field, expand_tilde(v));
	else if (k->flags & K_EXPAND_FROM)
		set_str(pa, k->field, expand_pct(v, "UHCM"));
	else if (k->flags & K_EXPAND_HOST)
		set_str(pa, k->field, expand_pct(v, "HCM"));
	else
		set_str(pa, k->field, xstrdup(v));
	return 0;
}

static int
k_host(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	if (*v == '\0')
		return perr(p, err, "'%s' needs a value", k->name);
	if (!valid_host(v, strlen(v)))
		return bad_value(p, k, v, err);
	set_str(pa, k->field, xstrdup(v));
	return 0;
}

/* The EHLO argument (RFC 5321 4.1.1.1): a domain or an address literal. */
static int
k_domain(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	char	*d;

	if (*v == '\0') {
		set_str(pa, k->field, xstrdup("localhost"));
		return 0;
	}
	d = expand_pct(v, "HCM");
	if (!valid_host(d, strlen(d))) {
		free(d);
		return bad_value(p, k, v, err);
	}
	set_str(pa, k->field, d);
	return 0;
}

static int
k_bool(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	int	b;

	if ((b = parse_bool(v)) == -1)
		return bad_value(p, k, v, err);
	set_int(pa, k->field, b);
	return 0;
}

static int
k_port(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	int	port;

	if (parse_int(v, strlen(v), 1, 65535, &port) == -1)
		return bad_value(p, k, v, err);
	set_int(pa, k->field, port);
	return 0;
}

static int
k_timeout(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	int	t;

	if (strcasecmp(v, "off") == 0)
		t = 0;
	else if (parse_int(v, strlen(v), 1, INT_MAX, &t) == -1)
		return bad_value(p, k, v, err);
	set_int(pa, k->field, t);
	return 0;
}

static int
k_auth(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	size_t	i;

	if (*v == '\0')
		v = "on";
	if (strcasecmp(v, "off") == 0) {
		set_str(pa, k->field, NULL);
		return 0;
	}
	for (i = 0; auth_mechs[i] != NULL; i++)
		if (strcasecmp(v, auth_mechs[i]) == 0) {
			set_str(pa, k->field, xstrdup(auth_mechs[i]));
			return 0;
		}
	return bad_value(p, k, v, err);
}

/*
 * "password" and "passwordeval" replace each other, so that the later
 * line (or the account over its defaults) wins whichever it is.
 */
static int
k_password(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	(void)err;
	p->has_password = 1;
	set_str(pa, k->field, *v != '\0' ? xstrdup(v) : NULL);
	set_str(pa, F_PASSWORDEVAL, NULL);
	return 0;
}

static int
k_passwordeval(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	(void)p;
	(void)err;
	set_str(pa, k->field, *v != '\0' ? xstrdup(v) : NULL);
	set_str(pa, F_PASSWORD, NULL);
	return 0;
}

/* The same rule for the OAuth2 client secret and its command. */
static int
k_client_secret(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	(void)err;
	p->has_password = 1;
	set_str(pa, k->field, *v != '\0' ? xstrdup(v) : NULL);
	set_str(pa, F_OAUTH2_CLIENT_SECRET_EVAL, NULL);
	return 0;
}

static int
k_client_secret_eval(struct parse *p, struct pacct *pa,
    const struct keydef *k, const char *v, struct error *err)
{
	(void)p;
	(void)err;
	set_str(pa, k->field, *v != '\0' ? xstrdup(v) : NULL);
	set_str(pa, F_OAUTH2_CLIENT_SECRET, NULL);
	return 0;
}

/* Credentials go there: https://, or http:// to a loopback address. */
static int
k_token_url(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	if (*v == '\0') {
		set_str(pa, k->field, NULL);
		return 0;
	}
	if (!http_url_allowed(v))
		return perr(p, err, "invalid value '%s' for '%s': the token "
		    "endpoint must be an https:// URL (http:// only to a "
		    "loopback address)", v, k->name);
	set_str(pa, k->field, xstrdup(v));
	return 0;
}

static int
k_oauth2_provider(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	if (*v == '\0' || strcasecmp(v, "custom") == 0)
		set_int(pa, k->field, OAUTH2_PROVIDER_CUSTOM);
	else if (strcasecmp(v, "microsoft") == 0)
		set_int(pa, k->field, OAUTH2_PROVIDER_MICROSOFT);
	else if (strcasecmp(v, "google") == 0)
		set_int(pa, k->field, OAUTH2_PROVIDER_GOOGLE);
	else
		return perr(p, err, "invalid value '%s' for '%s': use "
		    "microsoft, google or custom", v, k->name);
	return 0;
}

/* A tenant id or domain: it goes into the token endpoint's path. */
static int
k_oauth2_tenant(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	const char	*s;

	for (s = v; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.' &&
		    *s != '_')
			return bad_value(p, k, v, err);
	set_str(pa, k->field, *v != '\0' ? xstrdup(v) : NULL);
	return 0;
}

static int
k_oauth2_flow(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	if (*v == '\0' || strcasecmp(v, "refresh_token") == 0)
		set_int(pa, k->field, OAUTH2_FLOW_REFRESH_TOKEN);
	else if (strcasecmp(v, "client_credentials") == 0)
		set_int(pa, k->field, OAUTH2_FLOW_CLIENT_CREDENTIALS);
	else
		return perr(p, err, "invalid value '%s' for '%s': use "
		    "refresh_token or client_credentials", v, k->name);
	return 0;
}

/*
 * msmtp's form: hex byte pairs separated by colons; SHA-256 (32 bytes),
 * or the deprecated SHA-1 (20) and MD5 (16), stored upper-case (the
 * transport decides which it can check).  Also libcurl's public key pin,
 * "sha256//BASE64[;sha256//BASE64...]", kept as it is.
 */
static int
k_fingerprint(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	size_t	 len = strlen(v), n, i;
	char	*s;

	if (len == 0) {
		set_str(pa, k->field, NULL);
		return 0;
	}
	if (strncmp(v, "sha256//", 8) == 0) {
		for (i = 8; i < len; i++)
			if (!isalnum((unsigned char)v[i]) &&
			    strchr("+/=;", v[i]) == NULL)
				return bad_value(p, k, v, err);
		if (len == 8)
			return bad_value(p, k, v, err);
		set_str(pa, k->field, xstrdup(v));
		return 0;
	}
	n = (len + 1) / 3;
	if (len != 3 * n - 1 || (n != 16 && n != 20 && n != 32))
		return bad_value(p, k, v, err);
	for (i = 0; i < len; i++)
		if (i % 3 == 2 ? v[i] != ':' : !isxdigit((unsigned char)v[i]))
			return bad_value(p, k, v, err);
	s = xstrdup(v);
	for (i = 0; i < len; i++)
		s[i] = (char)toupper((unsigned char)s[i]);
	set_str(pa, k->field, s);
	return 0;
}

/* msmtp: on (LOG_USER), off, or LOG_USER, LOG_MAIL, LOG_LOCAL0..7. */
static int
k_syslog(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	switch (parse_bool(v)) {
	case 1:
		set_str(pa, k->field, xstrdup("LOG_USER"));
		return 0;
	case 0:
		set_str(pa, k->field, NULL);
		return 0;
	default:
		break;
	}
	if (strcmp(v, "LOG_USER") != 0 && strcmp(v, "LOG_MAIL") != 0 &&
	    !(strncmp(v, "LOG_LOCAL", 9) == 0 && v[9] >= '0' && v[9] <= '7' &&
	    v[10] == '\0'))
		return bad_value(p, k, v, err);
	set_str(pa, k->field, xstrdup(v));
	return 0;
}

/*
 * A duration: seconds, or a number with one unit letter s, m, h, d, w
 * ("5d", "12h", "90").  At least 1 second, at most 365 days.
 */
static int
k_duration(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	size_t	n = strlen(v);
	long	mult = 1;
	int	t;

	if (n > 1 && !isdigit((unsigned char)v[n - 1])) {
		switch (tolower((unsigned char)v[n - 1])) {
		case 's':
			mult = 1;
			break;
		case 'm':
			mult = 60;
			break;
		case 'h':
			mult = 3600;
			break;
		case 'd':
			mult = 86400;
			break;
		case 'w':
			mult = 7 * 86400;
			break;
		default:
			return bad_value(p, k, v, err);
		}
		n--;
	}
	if (parse_int(v, n, 1, 365L * 86400 / mult, &t) == -1)
		return bad_value(p, k, v, err);
	set_int(pa, k->field, (int)(t * mult));
	return 0;
}

/* A size in octets, with an optional binary unit k, m or g ("64m"). */
static int
k_size(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	size_t	n = strlen(v);
	long	mult = 1;
	int	t;

	if (n > 1 && !isdigit((unsigned char)v[n - 1])) {
		switch (tolower((unsigned char)v[n - 1])) {
		case 'k':
			mult = 1024;
			break;
		case 'm':
			mult = 1024L * 1024;
			break;
		case 'g':
			mult = 1024L * 1024 * 1024;
			break;
		default:
			return bad_value(p, k, v, err);
		}
		n--;
	}
	if (parse_int(v, n, 1, INT_MAX / mult, &t) == -1)
		return bad_value(p, k, v, err);
	set_int(pa, k->field, (int)(t * mult));
	return 0;
}

static int
k_from_header(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	int	b;

	if (strcasecmp(v, "auto") == 0)
		b = TRI_AUTO;
	else if ((b = parse_bool(v)) == -1)
		return bad_value(p, k, v, err);
	set_int(pa, k->field, b);
	return 0;
}

static int
k_auto_off(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	if (strcasecmp(v, "auto") == 0)
		set_int(pa, k->field, TRI_AUTO);
	else if (strcasecmp(v, "off") == 0)
		set_int(pa, k->field, 0);
	else
		return bad_value(p, k, v, err);
	return 0;
}

/* msmtp < 1.8.8: add_missing_*_header on is today's "auto". */
static int
k_add_missing(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	int	b;

	if ((b = parse_bool(v)) == -1)
		return bad_value(p, k, v, err);
	set_int(pa, k->field, b ? TRI_AUTO : 0);
	return 0;
}

/* msmtp < 1.8.2: keepbcc on is remove_bcc_headers off. */
static int
k_keepbcc(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	int	b;

	if ((b = parse_bool(v)) == -1)
		return bad_value(p, k, v, err);
	set_int(pa, k->field, !b);
	return 0;
}

/*
 * msmtp's deprecated auto_from: the sender is USER@maildomain.  postie
 * does that for an account without "from" (maildomain is qualify_domain),
 * so "on" unsets "from".
 */
static int
k_auto_from(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	int	b;

	if ((b = parse_bool(v)) == -1)
		return bad_value(p, k, v, err);
	if (b)
		set_str(pa, k->field, NULL);
	return 0;
}

static int
k_protocol(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	(void)pa;
	if (strcasecmp(v, "smtp") == 0)
		return 0;
	if (strcasecmp(v, "lmtp") == 0)
		return perr(p, err, "protocol 'lmtp' is not supported");
	return bad_value(p, k, v, err);
}

static int
k_ignored(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	static const char *const path_keys[] = { "proxy_host", "proxy_port",
	    "socket", "source_ip", NULL };
	size_t	i;

	(void)pa;
	(void)v;
	(void)err;
	/*
	 * A key that would send the mail another way than postie will (a
	 * proxy, a socket, a source address) is said on every run; the
	 * others (DSN, TLS tuning, log format) only under -v.
	 */
	for (i = 0; path_keys[i] != NULL; i++)
		if (strcmp(k->name, path_keys[i]) == 0) {
			log_warnx("%s:%d: key '%s' is not supported by postie "
			    "and is ignored: mail goes to the relay directly",
			    p->name, p->line, k->name);
			return 0;
		}
	log_debug("%s:%d: key '%s' is not supported by postie and is ignored",
	    p->name, p->line, k->name);
	return 0;
}

/* Percent-decode n bytes (RFC 3986 2.1) into an allocated string. */
static int
pct_decode(const char *s, size_t n, char **out)
{
	struct buf	 b = BUF_INIT;
	size_t		 i;
	int		 hi, lo;

	for (i = 0; i < n; i++) {
		if (s[i] != '%') {
			buf_addch(&b, s[i]);
			continue;
		}
		if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
		    !isxdigit((unsigned char)s[i + 2])) {
			buf_release(&b);
			return -1;
		}
		hi = isdigit((unsigned char)s[i + 1]) ? s[i + 1] - '0' :
		    tolower((unsigned char)s[i + 1]) - 'a' + 10;
		lo = isdigit((unsigned char)s[i + 2]) ? s[i + 2] - '0' :
		    tolower((unsigned char)s[i + 2]) - 'a' + 10;
		/* No control characters: a user name goes into AUTH. */
		if (hi * 16 + lo < 32 || hi * 16 + lo == 127) {
			buf_release(&b);
			return -1;
		}
		buf_addch(&b, hi * 16 + lo);
		i += 2;
	}
	*out = buf_detach(&b);
	return 0;
}

/*
 * An account as one URL: scheme://[user@]host[:port][/ehlo-domain].
 *   smtp://           host and port; TLS as "tls" says (off by default)
 *   smtp+starttls://  tls on, tls_starttls on
 *   smtps://          tls on, tls_starttls off (implicit TLS, RFC 8314)
 * A password in the URL is refused: it would sit in a file that may be
 * readable, and in process listings when copied to a command line.  The
 * value is never quoted in messages, as it may hold a secret.
 */
static int
k_url(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	const char	*rest, *end, *at, *h, *hend, *after, *colon;
	char		*user = NULL;
	int		 mode, port = 0;

	(void)k;
	if ((rest = strstr(v, "://")) == NULL)
		return perr(p, err, "invalid value for 'url': not a URL");
	end = rest + 3 + strcspn(rest + 3, "/?#");
	at = memrchr(rest + 3, '@', (size_t)(end - (rest + 3)));
	if (at != NULL &&
	    memchr(rest + 3, ':', (size_t)(at - rest - 3)) != NULL)
		return perr(p, err, "a password in 'url' is refused: use "
		    "'password' or 'passwordeval'");
	if ((size_t)(rest - v) == 4 && strncasecmp(v, "smtp", 4) == 0)
		mode = 0;
	else if ((size_t)(rest - v) == 13 &&
	    strncasecmp(v, "smtp+starttls", 13) == 0)
		mode = 1;
	else if ((size_t)(rest - v) == 5 && strncasecmp(v, "smtps", 5) == 0)
		mode = 2;
	else
		return perr(p, err, "invalid value for 'url': the scheme must "
		    "be smtp, smtp+starttls or smtps");
	rest += 3;
	h = at != NULL ? at + 1 : rest;
	if (*h == '[') {
		if ((hend = memchr(h, ']', (size_t)(end - h))) == NULL)
			return perr(p, err, "invalid value for 'url': "
			    "unterminated '['");
		after = hend + 1;
		h++;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		hend = after = colon != NULL ? colon : end;
	}
	if (!valid_host(h, (size_t)(hend - h)))
		return perr(p, err, "invalid value for 'url': bad host name");
	if (after < end) {
		if (*after != ':' || parse_int(after + 1,
		    (size_t)(end - after - 1), 1, 65535, &port) == -1)
			return perr(p, err, "invalid value for 'url': "
			    "bad port");
	}
	if (*end == '?' || *end == '#' ||
	    (*end == '/' && strpbrk(end + 1, "/?#") != NULL))
		return perr(p, err, "invalid value for 'url': only "
		    "scheme://[user@]host[:port][/domain] is understood");
	if (*end == '/' && end[1] != '\0' &&
	    !valid_host(end + 1, strlen(end + 1)))
		return perr(p, err, "invalid value for 'url': bad domain");
	if (at != NULL && (at == rest ||
	    pct_decode(rest, (size_t)(at - rest), &user) == -1))
		return perr(p, err, "invalid value for 'url': bad user name");

	set_str(pa, F_HOST, xstrndup(h, (size_t)(hend - h)));
	set_int(pa, F_PORT, port);
	if (mode == 1) {
		set_int(pa, F_TLS, 1);
		set_int(pa, F_TLS_STARTTLS, 1);
	} else if (mode == 2) {
		set_int(pa, F_TLS, 1);
		set_int(pa, F_TLS_STARTTLS, 0);
	}
	if (user != NULL)
		set_str(pa, F_USER, user);
	if (*end == '/' && end[1] != '\0')
		set_str(pa, F_DOMAIN, xstrdup(end + 1));
	return 0;
}

/* Parsing. */

static struct pacct *
find_local(const struct parse *p, const char *name)
{
	size_t	i;

	for (i = 0; i < p->naccts; i++)
		if (strcmp(p->accts[i]->a->name, name) == 0)
			return p->accts[i];
	return NULL;
}

/* "account NAME [: PARENT[, PARENT...]]" */
static int
start_account(struct parse *p, const char *v, struct error *err)
{
	char		*copy, *name, *parents, *par, *save = NULL;
	struct pacct	*pa, *pp;
	int		 f, first = 1;

	copy = xstrdup(v);
	name = copy;
	if ((parents = strchr(copy, ':')) != NULL)
		*parents++ = '\0';
	name = str_trim(name);
	if (*name == '\0') {
		free(copy);
		return perr(p, err, "'account' needs a name");
	}
	if (strpbrk(name, " \t,\"") != NULL) {
		perr(p, err, "invalid account name '%s'", name);
		free(copy);
		return -1;
	}
	if (find_local(p, name) != NULL) {
		perr(p, err, "account '%s' is already defined", name);
		free(copy);
		return -1;
	}
	pa = xcalloc(1, sizeof(*pa));
	pa->a = account_new(p->name, p->line, name);
	for (f = 0; f < F_NONE; f++)
		if (p->defaults.mask & BIT(f))
			copy_field(pa->a, p->defaults.a, (enum field)f);
	pa->mask = p->defaults.mask;

	/* msmtp: the parents' settings go over the defaults, in order. */
	for (par = parents != NULL ? strtok_r(parents, ",", &save) : NULL;
	    par != NULL; par = strtok_r(NULL, ",", &save)) {
		par = str_trim(par);
		if (*par == '\0')
			continue;
		if ((pp = find_local(p, par)) == NULL) {
			perr(p, err, "account '%s' inherits from '%s', which "
			    "is not defined above it", name, par);
			account_free(pa->a);
			free(pa);
			free(copy);
			return -1;
		}
		for (f = 0; f < F_NONE; f++)
			if (pp->mask & BIT(f))
				copy_field(pa->a, pp->a, (enum field)f);
		pa->mask |= pp->mask;
		if (first && strcmp(name, "default") == 0) {
			free(p->default_name);
			p->default_name = xstrdup(par);
		}
		first = 0;
	}
	if (parents != NULL && first) {
		account_free(pa->a);
		free(pa);
		free(copy);
		return perr(p, err, "'account' has ':' but no account to "
		    "inherit from");
	}
	if (p->naccts == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		p->accts = xreallocarray(p->accts, p->cap, sizeof(*p->accts));
	}
	p->accts[p->naccts++] = pa;
	p->cur = pa;
	free(copy);
	return 0;
}

/*
 * A value in double quotes (msmtp: for leading or trailing blanks);
 * inside, \" and \\ stand for " and \.  Other values are taken as they
 * are, '#' and quotes included (passwords contain them).
 */
static int
unquote(struct parse *p, const char *v, char **out, struct error *err)
{
	struct buf	b = BUF_INIT;
	size_t		i;

	if (v[0] != '"') {
		*out = xstrdup(v);
		return 0;
	}
	for (i = 1; v[i] != '"'; i++) {
		if (v[i] == '\0') {
			buf_release(&b);
			return perr(p, err, "unterminated quoted value");
		}
		if (v[i] == '\\' && (v[i + 1] == '"' || v[i + 1] == '\\'))
			i++;
		buf_addch(&b, v[i]);
	}
	if (v[i + 1] != '\0') {
		if (b.data != NULL)
			explicit_bzero(b.data, b.len);
		buf_release(&b);
		return perr(p, err, "text after the closing quote");
	}
	*out = buf_detach(&b);
	return 0;
}

/* One line, NUL-terminated, without its line end. */
static int
parse_line(struct parse *p, char *line, struct error *err)
{
	const struct keydef	*k;
	char			*key, *s, *value = NULL;
	int			 rc;

	for (s = line; *s != '\0'; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return perr(p, err, "control character in line");
	s = line;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0' || *s == '#')
		return 0;
	key = s;
	s += strcspn(s, " \t");
	if (*s != '\0')
		*s++ = '\0';
	s = str_trim(s);

	if (strcmp(key, "defaults") == 0) {
		if (*s != '\0')
			return perr(p, err, "'defaults' takes no value");
		p->cur = &p->defaults;
		return 0;
	}
	if (strcmp(key, "account") == 0)
		return start_account(p, s, err);

	for (k = keys; k->name != NULL; k++)
		if (strcmp(k->name, key) == 0)
			break;
	if (k->name == NULL) {
		enum import_format f = import_detect(key, s);

		if (f != IMPORT_NONE)
			return perr(p, err, "unknown key '%s': this is %s's "
			    "configuration, not postie's; convert it with "
			    "'postie --import-config %s %s'", key,
			    import_format_name(f), import_format_name(f),
			    f == IMPORT_NULLMAILER ? "DIR" : p->name);
		return perr(p, err, "unknown key '%s'", key);
	}
	/*
	 * postie, unlike msmtp, takes keys before any section as defaults,
	 * so that a one-line "host relay.example.com" file works.
	 */
	if (p->cur == NULL)
		p->cur = &p->defaults;
	if (unquote(p, s, &value, err) == -1)
		return -1;
	rc = k->fn(p, p->cur, k, value, err);
	freezero_str(value);
	return rc;
}

static void
parse_release(struct parse *p)
{
	size_t	i;

	for (i = 0; i < p->naccts; i++) {
		account_free(p->accts[i]->a);
		free(p->accts[i]);
	}
	free(p->accts);
	account_free(p->defaults.a);
	free(p->default_name);
	memset(p, 0, sizeof(*p));
}

static int
parse_text(struct parse *p, const char *text, size_t len, const char *name,
    struct error *err)
{
	const char	*s = text, *end = text + len, *nl;
	char		*line;
	size_t		 n;

	memset(p, 0, sizeof(*p));
	p->name = name;
	p->defaults.a = account_new(name, 0, "defaults");
	line = xmalloc(LINE_MAX_LEN + 1);
	while (s < end) {
		p->line++;
		nl = memchr(s, '\n', (size_t)(end - s));
		n = (nl != NULL ? nl : end) - s;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (n > LINE_MAX_LEN) {
			perr(p, err, "line longer than %d bytes", LINE_MAX_LEN);
			goto fail;
		}
		if (memchr(s, '\0', n) != NULL) {
			perr(p, err, "NUL byte in line");
			goto fail;
		}
		memcpy(line, s, n);
		line[n] = '\0';
		if (parse_line(p, line, err) == -1)
			goto fail;
		s = nl != NULL ? nl + 1 : end;
	}
	/* A file with defaults but no account: they are its "default"
	 * account (implicit: see config_select()). */
	if (p->naccts == 0 && p->defaults.mask != 0) {
		if (start_account(p, "default", err) == -1)
			goto fail;
		p->accts[p->naccts - 1]->a->implicit = 1;
	}
	explicit_bzero(line, LINE_MAX_LEN + 1);
	free(line);
	return 0;
fail:
	explicit_bzero(line, LINE_MAX_LEN + 1);
	free(line);
	parse_release(p);
	return -1;
}

static struct account *
find_account(const struct config *cfg, const char *name)
{
	size_t	i;

	for (i = 0; i < cfg->naccounts; i++)
		if (strcmp(cfg->accounts[i]->name, name) == 0)
			return cfg->accounts[i];
	return NULL;
}

/* A later file's account replaces an earlier one of the same name. */
static void
merge(struct config *cfg, struct parse *p)
{
	size_t	i, j;

	for (i = 0; i < p->naccts; i++) {
		for (j = 0; j < cfg->naccounts; j++)
			if (strcmp(cfg->accounts[j]->name,
			    p->accts[i]->a->name) == 0)
				break;
		if (j < cfg->naccounts)
			account_free(cfg->accounts[j]);
		else {
			cfg->accounts = xreallocarray(cfg->accounts,
			    cfg->naccounts + 1, sizeof(*cfg->accounts));
			cfg->naccounts++;
		}
		cfg->accounts[j] = p->accts[i]->a;
		p->accts[i]->a = NULL;
	}
	if (p->default_name != NULL) {
		free(cfg->default_name);
		cfg->default_name = p->default_name;
		p->default_name = NULL;
	}
}

int
config_parse(struct config *cfg, const char *text, size_t len,
    const char *name, struct error *err)
{
	struct parse	p;

	if (parse_text(&p, text, len, name, err) == -1)
		return -1;
	merge(cfg, &p);
	parse_release(&p);
	return 0;
}

void
config_release(struct config *cfg)
{
	size_t	i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->naccounts; i++)
		account_free(cfg->accounts[i]);
	free(cfg->accounts);
	free(cfg->default_name);
	strlist_release(&cfg->files);
	cfg->accounts = NULL;
	cfg->naccounts = 0;
	cfg->default_name = NULL;
}

/* Files. */

int
config_read_file(const char *path, const char *what, char **text,
    size_t *len, struct error *err)
{
	struct stat	 st;
	size_t		 n;

	if (read_small_file(path, what, text, &n, &st, err) == -1)
		return -1;
	if (len != NULL)
		*len = n;
	return 0;
}

/*
 * Read a regular file of at most FILE_MAX bytes.  O_NONBLOCK keeps a FIFO
 * from blocking the open; it is refused right after.  *text is
 * NUL-terminated; wipe it (it may hold passwords) before freeing.
 */
static int
read_small_file(const char *path, const char *what, char **text,
    size_t *len, struct stat *st, struct error *err)
{
	char	*buf;
	size_t	 n = 0;
	ssize_t	 r;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1)
		return error_set_errno(err, EX_CONFIG, "cannot open %s '%s'",
		    what, path);
	if (fstat(fd, st) == -1) {
		error_set_errno(err, EX_CONFIG, "cannot stat %s '%s'", what,
		    path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return error_set(err, EX_CONFIG, "%s '%s' is not a regular "
		    "file", what, path);
	}
	if (st->st_size > FILE_MAX) {
		close(fd);
		return error_set(err, EX_CONFIG, "%s '%s' is larger than "
		    "%d bytes", what, path, FILE_MAX);
	}
	buf = xmalloc(FILE_MAX + 1);
	for (;;) {
		r = read(fd, buf + n, FILE_MAX + 1 - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			error_set_errno(err, EX_CONFIG, "cannot read %s '%s'",
			    what, path);
			explicit_bzero(buf, n);
			free(buf);
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > FILE_MAX) {
			explicit_bzero(buf, n);
			free(buf);
			close(fd);
			return error_set(err, EX_CONFIG, "%s '%s' is larger "
			    "than %d bytes", what, path, FILE_MAX);
		}
	}
	close(fd);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

/*
 * Never read a file anyone may change (it can run commands through
 * passwordeval).  A file with a password must be private: for the user's
 * file msmtp's rule (owned by the user, mode 0600 or stricter); for the
 * system file, not readable by others (a group may share it, as with
 * Debian's msmtp group).
 */
static int
check_mode(const char *path, const struct stat *st, int is_system,
    int has_password, struct error *err)
{
	if (st->st_mode & S_IWOTH)
		return error_set(err, EX_CONFIG, "%s: is writable by others "
		    "(chmod o-w %s)", path, path);
	if (!has_password)
		return 0;
	if (is_system) {
		if (st->st_mode & S_IROTH)
			return error_set(err, EX_CONFIG, "%s: contains a "
			    "password but is readable by others (chmod o-r %s)",
			    path, path);
		return 0;
	}
	if (st->st_uid != geteuid())
		return error_set(err, EX_CONFIG, "%s: contains a password but "
		    "is owned by another user (uid %lu)", path,
		    (unsigned long)st->st_uid);
	if (st->st_mode & (S_IRWXG | S_IRWXO))
		return error_set(err, EX_CONFIG, "%s: contains a password but "
		    "is readable by others (chmod 600 %s)", path, path);
	return 0;
}

static int
load_file(struct config *cfg, const char *path, int must_exist,
    int is_system, struct error *err)
{
	struct parse	 p;
	struct stat	 st;
	char		*text;
	size_t		 len;
	int		 rc;

	if (!must_exist && access(path, F_OK) == -1 &&
	    (errno == ENOENT || errno == ENOTDIR)) {
		log_debug("no configuration file '%s'", path);
		return 0;
	}
	if (read_small_file(path, "configuration file", &text, &len, &st,
	    err) == -1)
		return -1;
	rc = parse_text(&p, text, len, path, err);
	explicit_bzero(text, len);
	free(text);
	if (rc == -1)
		return -1;
	if (check_mode(path, &st, is_system, p.has_password, err) == -1) {
		parse_release(&p);
		return -1;
	}
	merge(cfg, &p);
	parse_release(&p);
	strlist_add(&cfg->files, path);
	log_debug("loaded configuration file '%s'", path);
	return 0;
}

/*
 * The default user file: $XDG_CONFIG_HOME/postie/config ($HOME/.config
 * when unset or not absolute, as the XDG base directory spec says) when
 * it exists, else ~/.postierc.  NULL when there is no home.
 */
static char *
user_file(void)
{
	const char	*xdg = getenv("XDG_CONFIG_HOME");
	char		*home, *path;

	home = home_dir();
	if (xdg != NULL && xdg[0] == '/')
		path = xasprintf("%s/postie/config", xdg);
	else if (home != NULL)
		path = xasprintf("%s/.config/postie/config", home);
	else
		return NULL;
	if (access(path, F_OK) == 0 || home == NULL) {
		free(home);
		return path;
	}
	free(path);
	path = xasprintf("%s/.postierc", home);
	free(home);
	return path;
}

const char *
config_system_path(void)
{
	const char	*sys;

	if ((sys = getenv("POSTIE_SYSCONFIG")) == NULL || *sys == '\0')
		sys = SYSCONFDIR "/postie.conf";
	return sys;
}

int
config_load(struct config *cfg, const char *path, struct error *err)
{
	if (load_file(cfg, config_system_path(), 0, 1, err) == -1)
		return -1;
	return config_load_user(cfg, path, err);
}

int
config_load_user(struct config *cfg, const char *path, struct error *err)
{
	const char	*env;
	char		*user;
	int		 must, rc;

	must = 1;
	if (path != NULL)
		user = xstrdup(path);
	else if ((env = getenv("POSTIE_CONFIG")) != NULL && *env != '\0')
		user = xstrdup(env);
	else {
		must = 0;
		if ((user = user_file()) == NULL)
			return 0;
	}
	rc = load_file(cfg, user, must, 0, err);
	free(user);
	return rc;
}

/* Selection. */

/* For -v: which account, and why (the caller returns it). */
static const struct account *
chosen(const struct account *a, const char *why)
{
	if (a->host != NULL && a->port != 0)
		log_debug("account '%s' (relay %s, port %d) chosen: %s",
		    a->name, a->host, a->port, why);
	else if (a->host != NULL)
		log_debug("account '%s' (relay %s) chosen: %s", a->name,
		    a->host, why);
	else
		log_debug("account '%s' chosen: %s; it names no relay, so "
		    "mail goes to local mailboxes", a->name, why);
	return a;
}

const struct account *
config_select(const struct config *cfg, const char *name, const char *sender,
    struct error *err)
{
	const struct account	*a, *implicit;
	size_t			 i;

	if (name != NULL) {
		if ((a = find_account(cfg, name)) != NULL ||
		    (strcmp(name, "default") == 0 && cfg->default_name != NULL &&
		    (a = find_account(cfg, cfg->default_name)) != NULL))
			return chosen(a, "named with -a/--account");
		error_set(err, EX_CONFIG, "account '%s' not found", name);
		return NULL;
	}
	/* msmtp 1.8.16: "from" may be a shell pattern. */
	if (sender != NULL && *sender != '\0')
		for (i = 0; i < cfg->naccounts; i++) {
			a = cfg->accounts[i];
			if (a->from != NULL && (strcasecmp(a->from, sender) == 0
			    || fnmatch(a->from, sender, FNM_CASEFOLD) == 0))
				return chosen(a, "its 'from' matches the "
				    "envelope sender");
		}
	/*
	 * An implicit "default" (keys outside any account) that names a relay
	 * ranks after the explicit default; one that does not ranks last, so
	 * that a system file holding only local settings never hides a user's
	 * accounts.
	 */
	implicit = find_account(cfg, "default");
	if (implicit != NULL && !implicit->implicit)
		return chosen(implicit, "the default account");
	if (cfg->default_name != NULL &&
	    (a = find_account(cfg, cfg->default_name)) != NULL)
		return chosen(a, "the default account");
	if (implicit != NULL && implicit->host != NULL)
		return chosen(implicit, "the default account");
	for (i = 0; i < cfg->naccounts; i++)
		if (!cfg->accounts[i]->implicit)
			return chosen(cfg->accounts[i], "the first account "
			    "(no default is set)");
	if (implicit != NULL)
		return chosen(implicit, "the default account");
	return chosen(&empty_account, "nothing is configured");
}

char *
account_qualify_domain(const struct account *a)
{
	char	*s;

	if (a != NULL && a->qualify_domain != NULL)
		return xstrdup(a->qualify_domain);
	if ((s = util_first_line(MAILNAME)) != NULL)
		return s;
	return util_fqdn();
}

