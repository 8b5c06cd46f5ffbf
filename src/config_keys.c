/*
 * The configuration keys: the table (one row per key: name, handler,
 * field, flags, default) and the handlers that check and store each
 * value, with the account helpers that walk the table.
 */
#include "autoconfig.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "config_int.h"
#include "error.h"
#include "http.h"
#include "import.h"
#include "log.h"
#include "ratelimit.h"
#include "util.h"
#include "xmalloc.h"

/* (the compound literals are only looked at for their members' types) */
#define S(m)	{ offsetof(struct account, m), \
	_Generic((struct account){ 0 }.m, char *: FK_STR) }
#define I(m)	{ offsetof(struct account, m), \
	_Generic((struct account){ 0 }.m, int: FK_INT) }
#define NOFIELD	{ 0, FK_NONE }
#define FIELD(x)	((struct field)x)

static char	**str_at(struct account *, struct field);
static int	*int_at(struct account *, struct field);
static void	 set_given(struct pacct *, struct field);
static void	 set_str(struct pacct *, struct field, char *);
static void	 set_int(struct pacct *, struct field, int);
static void	 copy_field(struct account *, const struct account *,
		    struct field);
static int	 bad_value(struct parse *, const struct keydef *,
		    const char *, struct error *);
static int	 parse_bool(const char *);
static int	 parse_int(const char *, size_t, long, long, int *);
static char	*user_name(void);
static char	*expand_tilde(const char *);
static char	*expand_pct(const char *, const char *);
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
static int	 k_rate(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_duration(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_connections(struct parse *, struct pacct *,
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
static int	 k_route(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_failover(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 k_source_ip(struct parse *, struct pacct *,
		    const struct keydef *, const char *, struct error *);
static int	 pct_decode(const char *, size_t, char **);

/*
 * Rows may leave out the trailing members (flags, def, sdef: 0): the
 * warning for that is off for this table alone.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
/*
 * Every key msmtp 1.8 knows, and postie's own.  Keys with k_ignored are
 * accepted so that an existing msmtprc works, with a warning.
 */
const struct keydef keys[] = {
	/* server */
	{ "host", k_host, S(host), 0 },
	{ "port", k_port, I(port), 0 },
	{ "url", k_url, NOFIELD, 0 },
	/* domain NULL: the host's FQDN, else [address] (transport.c) */
	{ "domain", k_domain, S(domain), 0 },
	{ "timeout", k_timeout, I(timeout), 0 },
	{ "connect_timeout", k_timeout, I(timeout), 0 },
	{ "protocol", k_protocol, NOFIELD, 0 },
	/* TLS */
	{ "tls", k_bool, I(tls), 0 },
	{ "tls_starttls", k_bool, I(tls_starttls), 0, 1 },
	{ "tls_trust_file", k_string, S(tls_trust_file), K_FILE },
	{ "tls_crl_file", k_string, S(tls_crl_file), K_FILE },
	{ "tls_certcheck", k_bool, I(tls_certcheck), 0, 1 },
	{ "tls_fingerprint", k_fingerprint, S(tls_fingerprint), 0 },
	{ "tls_cert_file", k_string, S(tls_cert_file), K_FILE },
	{ "tls_key_file", k_string, S(tls_key_file), K_FILE },
	{ "tls_host_override", k_string, S(tls_host_override), 0 },
	/* authentication */
	{ "auth", k_auth, S(auth), 0 },
	{ "user", k_string, S(user), 0 },
	{ "password", k_password, S(password), 0 },
	{ "passwordeval", k_passwordeval, S(passwordeval), 0 },
	{ "auth_cleartext", k_bool, I(auth_cleartext), 0 },
	/* OAuth2 (oauth2.h) */
	{ "oauth2_token_file", k_string, S(oauth2_token_file), K_FILE },
	{ "oauth2_provider", k_oauth2_provider, I(oauth2_provider), 0 },
	{ "oauth2_tenant", k_oauth2_tenant, S(oauth2_tenant), 0 },
	{ "oauth2_token_url", k_token_url, S(oauth2_token_url), 0 },
	{ "oauth2_token_endpoint", k_token_url, S(oauth2_token_url), 0 },
	{ "oauth2_device_endpoint", k_token_url, S(oauth2_device_url), 0 },
	{ "oauth2_authorization_endpoint", k_token_url, S(oauth2_auth_url),
	    0 },
	{ "oauth2_client_id", k_string, S(oauth2_client_id), 0 },
	{ "oauth2_client_secret", k_client_secret, S(oauth2_client_secret),
	    0 },
	{ "oauth2_client_secret_eval", k_client_secret_eval,
	    S(oauth2_client_secret_eval), 0 },
	{ "oauth2_scope", k_string, S(oauth2_scope), 0 },
	{ "oauth2_flow", k_oauth2_flow, I(oauth2_flow), 0 },
	/* envelope and headers */
	{ "from", k_string, S(from), K_EXPAND_FROM },
	{ "from_full_name", k_string, S(from_full_name), 0 },
	{ "allow_from_override", k_bool, I(allow_from_override), 0, 1 },
	{ "qualify_domain", k_string, S(qualify_domain), K_EXPAND_HOST },
	{ "aliases", k_string, S(aliases), K_FILE },
	{ "set_from_header", k_from_header, I(set_from_header), 0, TRI_AUTO },
	{ "set_date_header", k_auto_off, I(set_date_header), 0, TRI_AUTO },
	{ "set_msgid_header", k_auto_off, I(set_msgid_header), 0, TRI_AUTO },
	{ "remove_bcc_headers", k_bool, I(remove_bcc_headers), 0, 1 },
	{ "undisclosed_recipients", k_bool, I(undisclosed_recipients), 0 },
	/* local delivery */
	{ "local_spool", k_string, S(local_spool), K_FILE },
	{ "local_maildir", k_string, S(local_maildir), 0 },
	/* the queue */
	{ "queue", k_bool, I(queue), 0, 1 },
	{ "queue_dir", k_string, S(queue_dir), K_FILE },
	{ "queue_lifetime", k_duration, I(queue_lifetime),
	    0, CONFIG_QUEUE_LIFETIME },
	{ "queue_flush_on_send", k_bool, I(queue_flush_on_send), 0, 1 },
	{ "queue_backoff_max", k_duration, I(queue_backoff_max),
	    0, CONFIG_QUEUE_BACKOFF_MAX },
	{ "rate_limit", k_rate, I(rate_limit), 0 },
	{ "queue_connections", k_connections, I(queue_connections), 0, 1 },
	/* the system drop directory (drop.h) */
	{ "drop_allow_from", k_bool, I(drop_allow_from), 0 },
	{ "drop_max_size", k_size, I(drop_max_size), 0 },
	/* -bs (bs.h) */
	{ "message_size_limit", k_size, I(message_size_limit), 0 },
	/* relay policy (route.h, relay.h) */
	{ "route", k_route, NOFIELD, 0 },
	{ "failover", k_failover, S(failover), 0 },
	{ "read_envelope_from", k_bool, I(read_envelope_from), 0 },
	{ "set_sender_header", k_bool, I(set_sender_header), 0 },
	{ "source_ip", k_source_ip, S(source_ip), 0 },
	{ "proxy_host", k_host, S(proxy_host), 0 },
	{ "proxy_port", k_port, I(proxy_port), 0 },
	/* logging */
	{ "logfile", k_string, S(logfile), K_FILE },
	{ "syslog", k_syslog, S(syslog), 0 },
	/* msmtp's older names, mapped onto the keys above */
	{ "add_missing_from_header", k_add_missing, I(set_from_header), 0 },
	{ "add_missing_date_header", k_add_missing, I(set_date_header), 0 },
	{ "keepbcc", k_keepbcc, I(remove_bcc_headers), 0 },
	{ "auto_from", k_auto_from, S(from), 0 },
	{ "maildomain", k_string, S(qualify_domain), 0 },
	/* msmtp keys postie does not implement */
	{ "tls_priorities", k_ignored, NOFIELD, 0 },
	{ "tls_min_dh_prime_bits", k_ignored, NOFIELD, 0 },
	{ "tls_force_sslv3", k_ignored, NOFIELD, 0 },
	{ "dsn_notify", k_ignored, NOFIELD, 0 },
	{ "dsn_return", k_ignored, NOFIELD, 0 },
	{ "ntlmdomain", k_ignored, NOFIELD, 0 },
	{ "socket", k_ignored, NOFIELD, 0 },
	{ "logfile_time_format", k_ignored, NOFIELD, 0 },
	{ "eval", k_ignored, NOFIELD, 0 },
	{ NULL, NULL, NOFIELD, 0 }
};
#pragma GCC diagnostic pop

/* msmtp's mechanism names (its "auth" command), plus on and off. */
static const char *const auth_mechs[] = {
	"on", "plain", "scram-sha-1", "scram-sha-256", "external", "gssapi",
	"cram-md5", "digest-md5", "login", "ntlm", "oauthbearer", "xoauth2",
	NULL
};

/* Accounts and their fields. */

struct account *
account_new(const char *file, int line, const char *name)
{
	struct account	*a;

	a = xcalloc(1, sizeof(*a));
	a->name = xstrdup(name);
	a->file = xstrdup(file);
	a->line = line;
	account_defaults(a, 1);
	return a;
}

/* The table's defaults; strings (sdef) only when with_strings. */
void
account_defaults(struct account *a, int with_strings)
{
	const struct keydef	*k;

	for (k = keys; k->name != NULL; k++)
		if (k->field.kind == FK_INT && k->def != 0)
			*int_at(a, k->field) = k->def;
		else if (k->field.kind == FK_STR && k->sdef != NULL &&
		    with_strings) {
			freezero_str(*str_at(a, k->field));
			*str_at(a, k->field) = xstrdup(k->sdef);
		}
}

static char **
str_at(struct account *a, struct field f)
{
	return (char **)(void *)((char *)a + f.off);
}

static int *
int_at(struct account *a, struct field f)
{
	return (int *)(void *)((char *)a + f.off);
}

void
account_free(struct account *a)
{
	const struct keydef	*k;
	char			**p;

	if (a == NULL)
		return;
	for (k = keys; k->name != NULL; k++)
		if (k->field.kind == FK_STR) {
			p = str_at(a, k->field);
			freezero_str(*p);
			*p = NULL;	/* another key may name the field */
		}
	free(a->failover_to);
	free(a->name);
	free(a->file);
	free(a);
}

static void
set_given(struct pacct *pa, struct field f)
{
	if (!pa->given[f.off]) {
		pa->given[f.off] = 1;
		pa->ngiven++;
	}
}

static void
set_str(struct pacct *pa, struct field f, char *owned)
{
	char	**p = str_at(pa->a, f);

	freezero_str(*p);
	*p = owned;
	set_given(pa, f);
}

static void
set_int(struct pacct *pa, struct field f, int v)
{
	*int_at(pa->a, f) = v;
	set_given(pa, f);
}

/* Copy into dst every field src was given (defaults, a parent). */
void
inherit(struct pacct *dst, const struct pacct *src)
{
	const struct keydef	*k;

	for (k = keys; k->name != NULL; k++)
		if (k->field.kind != FK_NONE && src->given[k->field.off]) {
			/* twice for a field two keys name: harmless */
			copy_field(dst->a, src->a, k->field);
			set_given(dst, k->field);
		}
}

/* Copy every field of src into dst (config_override()). */
void
account_copy_fields(struct account *dst, const struct account *src)
{
	const struct keydef	*k;

	for (k = keys; k->name != NULL; k++)
		if (k->field.kind != FK_NONE)
			copy_field(dst, src, k->field);
}

static void
copy_field(struct account *dst, const struct account *src, struct field f)
{
	const char	*base = (const char *)src + f.off;
	const char	*s;
	char		**d;

	if (f.kind == FK_STR) {
		s = *(const char *const *)(const void *)base;
		d = str_at(dst, f);
		freezero_str(*d);
		*d = s != NULL ? xstrdup(s) : NULL;
	} else
		*int_at(dst, f) = *(const int *)(const void *)base;
}

/* Values. */

int
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
 * %U.  msmtp looks at $USER and $LOGNAME first; the password database
 * comes first here so that a system-wide "from %U@..." with
 * allow_from_override off cannot be changed through the environment.
 */
static char *
user_name(void)
{
	const char	*s;
	char		*n;

	if ((n = util_login_name()) != NULL)
		return n;
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
	if ((home = util_home_dir()) == NULL)
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
	if (!util_valid_host(v, strlen(v)))
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
		set_str(pa, k->field, NULL);	/* the default */
		return 0;
	}
	d = expand_pct(v, "HCM");
	if (!util_valid_host(d, strlen(d))) {
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

/* "queue_connections N": the flush's parallel connections, 1 to 64. */
static int
k_connections(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	int	n;

	if (parse_int(v, strlen(v), 1, RUNNER_MAX_CONNECTIONS, &n) == -1)
		return bad_value(p, k, v, err);
	set_int(pa, k->field, n);
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
	set_str(pa, FIELD(S(passwordeval)), NULL);
	return 0;
}

static int
k_passwordeval(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	(void)p;
	(void)err;
	set_str(pa, k->field, *v != '\0' ? xstrdup(v) : NULL);
	set_str(pa, FIELD(S(password)), NULL);
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
	set_str(pa, FIELD(S(oauth2_client_secret_eval)), NULL);
	return 0;
}

static int
k_client_secret_eval(struct parse *p, struct pacct *pa,
    const struct keydef *k, const char *v, struct error *err)
{
	(void)p;
	(void)err;
	set_str(pa, k->field, *v != '\0' ? xstrdup(v) : NULL);
	set_str(pa, FIELD(S(oauth2_client_secret)), NULL);
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

/* "N/minute", "N/hour" or "off" (ratelimit.h), kept as one int. */
static int
k_rate(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	struct rate	r;
	struct error	rerr = ERROR_INIT;

	if (ratelimit_parse(v, &r, &rerr) == -1) {
		error_release(&rerr);
		return bad_value(p, k, v, err);
	}
	set_int(pa, k->field, (int)(r.n * 2 + (r.window == 3600)));
	return 0;
}

void
account_rate(const struct account *a, struct rate *r)
{
	r->n = a->rate_limit > 0 ? (unsigned)a->rate_limit / 2 : 0;
	r->window = a->rate_limit > 0 && (a->rate_limit & 1) ? 3600 : 60;
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
	static const char *const path_keys[] = { "socket", NULL };
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

/*
 * "route DOMAIN-PATTERN ACCOUNT": a line of the file, not of the section
 * it stands in.  The account is looked up once every file is read.
 */
static int
k_route(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	char	*copy, *pat, *acct, *save = NULL;
	int	 rv = 0;

	(void)pa;
	copy = xstrdup(v);
	pat = strtok_r(copy, " \t", &save);
	acct = pat != NULL ? strtok_r(NULL, " \t", &save) : NULL;
	if (pat == NULL || acct == NULL || strtok_r(NULL, " \t", &save) !=
	    NULL)
		rv = perr(p, err, "'%s' takes a domain pattern and an account "
		    "name: route *.example.com work", k->name);
	else if (!route_valid_pattern(pat))
		rv = perr(p, err, "invalid domain pattern '%s' for '%s'", pat,
		    k->name);
	else
		route_table_add(&p->routes, pat, acct, p->name, p->line);
	free(copy);
	return rv;
}

/* "failover ACCOUNT...": names, checked once every file is read. */
static int
k_failover(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	struct buf	 b = BUF_INIT;
	char		*copy, *name, *save = NULL;

	copy = xstrdup(v);
	for (name = strtok_r(copy, " \t,", &save); name != NULL;
	    name = strtok_r(NULL, " \t,", &save)) {
		if (strchr(name, '"') != NULL || strchr(name, ':') != NULL) {
			buf_release(&b);
			perr(p, err, "invalid account name '%s' for '%s'",
			    name, k->name);
			free(copy);
			return -1;
		}
		if (b.len > 0)
			buf_addch(&b, ' ');
		buf_addstr(&b, name);
	}
	free(copy);
	set_str(pa, k->field, b.len > 0 ? buf_detach(&b) : NULL);
	buf_release(&b);
	return 0;
}

/* "source_ip ADDRESS": the local address to connect from (msmtp). */
static int
k_source_ip(struct parse *p, struct pacct *pa, const struct keydef *k,
    const char *v, struct error *err)
{
	unsigned char	a[sizeof(struct in6_addr)];

	if (*v == '\0') {
		set_str(pa, k->field, NULL);
		return 0;
	}
	if (inet_pton(AF_INET, v, a) != 1 && inet_pton(AF_INET6, v, a) != 1)
		return bad_value(p, k, v, err);
	set_str(pa, k->field, xstrdup(v));
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
	if (!util_valid_host(h, (size_t)(hend - h)))
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
	    !util_valid_host(end + 1, strlen(end + 1)))
		return perr(p, err, "invalid value for 'url': bad domain");
	if (at != NULL && (at == rest ||
	    pct_decode(rest, (size_t)(at - rest), &user) == -1))
		return perr(p, err, "invalid value for 'url': bad user name");

	set_str(pa, FIELD(S(host)), xstrndup(h, (size_t)(hend - h)));
	set_int(pa, FIELD(I(port)), port);
	if (mode == 1) {
		set_int(pa, FIELD(I(tls)), 1);
		set_int(pa, FIELD(I(tls_starttls)), 1);
	} else if (mode == 2) {
		set_int(pa, FIELD(I(tls)), 1);
		set_int(pa, FIELD(I(tls_starttls)), 0);
	}
	if (user != NULL)
		set_str(pa, FIELD(S(user)), user);
	if (*end == '/' && end[1] != '\0')
		set_str(pa, FIELD(S(domain)), xstrdup(end + 1));
	return 0;
}
