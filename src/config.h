/*
 * Configuration: msmtp-compatible files (system, then user), accounts
 * and secrets (the aliases file: aliases.h).  An existing msmtprc works
 * unchanged.
 */
#ifndef POSTIE_CONFIG_H
#define POSTIE_CONFIG_H

#include "route.h"
#include "util.h"

struct error;

#define RUNNER_MAX_CONNECTIONS	64	/* queue_connections, at most */

#define TRI_AUTO	(-1)	/* for set_*_header: "auto" */

/* oauth2_provider */
#define OAUTH2_PROVIDER_CUSTOM		0	/* the default: give the URLs */
#define OAUTH2_PROVIDER_MICROSOFT	1
#define OAUTH2_PROVIDER_GOOGLE		2

/* oauth2_flow */
#define OAUTH2_FLOW_REFRESH_TOKEN	0	/* the default */
#define OAUTH2_FLOW_CLIENT_CREDENTIALS	1

/* Queue defaults (seconds): 5 days of retries, backoff capped at 4 h. */
#define CONFIG_QUEUE_LIFETIME		(5 * 86400)
#define CONFIG_QUEUE_BACKOFF_MAX	(4 * 3600)

/* One account: msmtp's keys plus postie's own.  All strings owned. */
struct account {
	char	*name;		/* "default" for the unnamed defaults */
	char	*file;		/* where it was defined, for messages */
	int	 line;

	char	*host;		/* NULL: no relay; the embedded local default */
	int	 port;		/* 0: 25, or 465 for tls on + tls_starttls off */
	int	 tls;		/* tls on|off (0) */
	int	 tls_starttls;	/* on (1) | off: implicit TLS (smtps) */
	char	*tls_trust_file;/* CA file; NULL or "system": system store */
	char	*tls_crl_file;
	int	 tls_certcheck;	/* on (1) | off */
	char	*tls_fingerprint; /* SHA-256 of the server's public key or
				     certificate, "AB:CD:..." as msmtp */
	char	*tls_cert_file;
	char	*tls_key_file;
	char	*tls_host_override;

	char	*auth;		/* NULL or "off": none; "on": any; else the
				   mechanism: "plain" "login" "cram-md5"
				   "xoauth2" "oauthbearer" "external" ... */
	char	*user;
	char	*password;	/* secret; wiped on free */
	char	*passwordeval;	/* command run with /bin/sh -c */
	int	 auth_cleartext;/* postie: allow AUTH without TLS (0) */

	/* OAuth2 (oauth2.h): with oauth2_token_file set and auth xoauth2 or
	 * oauthbearer, postie gets and refreshes the bearer token itself. */
	char	*oauth2_token_file;	/* the token cache (JSON, 0600) */
	int	 oauth2_provider;	/* OAUTH2_PROVIDER_*: presets */
	char	*oauth2_tenant;		/* Microsoft; NULL: "common" */
	char	*oauth2_token_url;	/* token endpoint; https:// or
					   http:// to loopback */
	char	*oauth2_device_url;	/* device authorization endpoint
					   (RFC 8628), for --oauth2-authorize */
	char	*oauth2_auth_url;	/* authorization endpoint (RFC 6749
					   4.1, with PKCE), for
					   --oauth2-authorize */
	char	*oauth2_client_id;
	char	*oauth2_client_secret;	/* secret; wiped on free */
	char	*oauth2_client_secret_eval; /* command, as passwordeval */
	char	*oauth2_scope;		/* NULL: none sent */
	int	 oauth2_flow;		/* OAUTH2_FLOW_* */

	char	*from;		/* envelope sender default (after expansion
				   of %U %H %C %M as msmtp); may hold
				   wildcards for account selection */
	char	*from_full_name;
	int	 allow_from_override;	/* on (1) */
	char	*domain;	/* EHLO argument; NULL: the host's FQDN, else
				   [address] (never "localhost") */
	char	*qualify_domain;/* postie: for bare local names; default
				   /etc/mailname, else the host's FQDN */
	char	*aliases;	/* aliases file */
	int	 timeout;	/* seconds; 0: postie's default */
	char	*logfile;
	char	*syslog;	/* NULL/off, or a facility name ("LOG_MAIL") */
	int	 set_from_header;	/* TRI_AUTO | 0 | 1 */
	int	 set_date_header;	/* TRI_AUTO | 0 */
	int	 set_msgid_header;	/* TRI_AUTO | 0 */
	int	 remove_bcc_headers;	/* 1 | 0 */
	int	 undisclosed_recipients;/* 0 | 1 */

	char	*local_spool;	/* postie: mbox directory (/var/mail) */
	int	 implicit;	/* made from a file's keys outside any
				   account: ranked below explicit ones */
	char	*local_maildir;	/* postie: Maildir path template
				   ("~/Maildir"; ~ is the user's home,
				   %u the user name) */

	int	 queue;		/* postie: queue on temporary failure (1) */
	char	*queue_dir;	/* NULL: queue_default_dir() */
	int	 queue_lifetime;	/* seconds before a bounce (5 days) */
	int	 queue_flush_on_send;	/* flush due entries after a
					   successful send (1) */
	int	 queue_backoff_max;	/* seconds, cap of the retry delay */
	int	 queue_connections;	/* postie: a flush's connections
					   at once (1..RUNNER_MAX_CONNECTIONS) */
	int	 rate_limit;	/* postie: sends per window, encoded as
				   N * 2 + 1 for N/hour, N * 2 for
				   N/minute; 0: no limit (account_rate()) */

	int	 drop_allow_from;	/* postie: keep the sender a drop
					   file names (0: its owner's) */
	int	 drop_max_size;		/* postie: octets of a drop file's
					   message; 0: DROP_MAX_SIZE */

	/* Relay policy (route.h, relay.h). */
	char	*failover;	/* postie: backup account names, space
				   separated, tried in order */
	int	 read_envelope_from;	/* the envelope sender from From:
					   (msmtp --read-envelope-from) */
	int	 set_sender_header;	/* postie: keep From, add Sender:
					   with the account's address */
	char	*source_ip;	/* local address to connect from */
	char	*proxy_host;	/* SOCKS5 proxy (socks5h: it resolves) */
	int	 proxy_port;	/* 0: 1080 */
	/* Filled once every file is read (borrowed accounts): */
	const struct account **failover_to;	/* owned array */
	size_t	 nfailover;
	const struct route_table *routes;	/* the config's, or NULL */
	int	 message_size_limit;	/* postie: octets of a -bs message
					   (SIZE); 0: none */
};

struct config {
	struct account	**accounts;	/* in definition order */
	size_t		  naccounts;
	char		 *default_name;	/* "account default : NAME" or NULL */
	struct strlist	  files;	/* files read, in order */
	struct route_table routes;	/* "route" lines, first match wins */
};
#define CONFIG_INIT	{ NULL, 0, NULL, STRLIST_INIT, ROUTE_TABLE_INIT }

/*
 * Load the system file (SYSCONFDIR "/postie.conf"; $POSTIE_SYSCONFIG
 * overrides the path, for tests), then the user file: path when given
 * (-C), else $POSTIE_CONFIG, else $XDG_CONFIG_HOME/postie/config, else
 * ~/.postierc.  Missing default files are fine (nothing configured);
 * a file named explicitly must exist.
 * Errors: EX_CONFIG "FILE:LINE: what is wrong" for an unknown key, a bad
 * value, a file holding a password that is not 0600 and owned by the
 * user (as msmtp); EX_NOINPUT-free: an unreadable named file is EX_CONFIG.
 */
int	config_load(struct config *, const char *path, struct error *);

/* Only the user file of config_load() (the system file is not read). */
int	config_load_user(struct config *, const char *path, struct error *);

/* The system file's path: $POSTIE_SYSCONFIG, else SYSCONFDIR/postie.conf.
 * Borrowed. */
const char *config_system_path(void);

/*
 * For the msmtp face without -C: msmtp's own user file
 * ($XDG_CONFIG_HOME/msmtp/config, else ~/.msmtprc) when it exists and
 * postie's does not (nor POSTIE_CONFIG), so that a link named msmtp
 * reads what msmtp read.  Allocated, or NULL: the usual user file.
 */
char	*config_msmtp_user_file(void);

/*
 * Read a small regular file (at most 1 MiB) whole, as the config files
 * are read: *text is allocated and NUL-terminated (wipe it with
 * freezero_str(): it may hold passwords); len may be NULL.  what names
 * the file in messages.  Errors: EX_CONFIG.
 */
int	config_read_file(const char *path, const char *what, char **text,
	    size_t *len, struct error *);

/* Parse one file's text (for tests and fuzzing); name is for messages. */
int	config_parse(struct config *, const char *text, size_t len,
	    const char *name, struct error *);

void	config_release(struct config *);

/*
 * Choose the account: by name when name is not NULL (EX_CONFIG if there is
 * none), else the first whose "from" matches the envelope sender (exact,
 * case-insensitive, or a shell wildcard), else "account default", else
 * the first account, else an empty account (no host: local delivery).
 * Never returns NULL without setting err.  The result is borrowed from
 * cfg (or a static empty account).
 */
const struct account *config_select(const struct config *, const char *name,
	    const char *sender, struct error *);
/*
 * The account a queue entry names (by name, or the default's alias
 * "default"; NULL: the default account), without config_select()'s -v
 * line; config_log_queued()
 * says it under -v, once per account and flush.
 */
const struct account *config_select_queued(const struct config *,
	    const char *name, struct error *);
void	config_log_queued(const struct account *);

/*
 * Settings from the command line (msmtp's --host, --port, --tls, -X...,
 * sendmail's -X): settings holds triples OPTION, KEY, VALUE (v[0] the
 * option as the user gave it, for messages, v[1] the key, v[2] its
 * value, then the next), each applied through the key's own handler as
 * a file line "KEY VALUE" would be (the value taken as it is: no quotes).
 * They go over a copy of base (one of cfg's accounts, or what
 * config_select() returned), or over a new account with the defaults
 * when base is NULL (msmtp's --host: no configuration file data).  The
 * copy takes base's name and its place in cfg (it is appended when base
 * is not one of cfg's) and is returned, borrowed from cfg.  A setting
 * that changes where or how the mail goes (host, port, tls*, auth, user,
 * passwordeval...) also turns the queue off for the account: a later
 * flush would read the account from the file, without the settings.
 * Errors: EX_USAGE "--port: invalid value 'x' for 'port'" and the like.
 */
const struct account *config_override(struct config *,
	    const struct account *base, const struct strlist *settings,
	    struct error *);

/* The qualify domain: the account's, else /etc/mailname, else the FQDN.
 * Returns an allocated string. */
char	*account_qualify_domain(const struct account *);
struct rate;
/* The account's rate_limit (ratelimit.h); n 0: none. */
void	 account_rate(const struct account *, struct rate *);

#endif
