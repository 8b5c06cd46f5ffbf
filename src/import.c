/*
 * postie --import-config: ssmtp, nullmailer and dma configurations as a
 * postie.conf, and the detector for such files met as postie's own.
 * Written by hand: no library reads these three ad-hoc formats.  Facts
 * about each format are from its manual (ssmtp.conf(5), nullmailer-send(8)
 * and nullmailer(7), dma(8)).
 */
#include "autoconfig.h"

#include <sys/stat.h>

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "error.h"
#include "import.h"
#include "util.h"
#include "xmalloc.h"

/* Files bigger than this are not configurations. */
#define IMPORT_FILE_MAX	(1024 * 1024)

/* A line iterator over NUL-terminated text. */
struct lines {
	const char	*p;
	char		*line;	/* the current line, owned */
	int		 no;
};

static int	 next_line(struct lines *);
static void	 note(struct buf *, struct buf *, const char *, ...)
		    __attribute__((__format__(printf, 3, 4)));
static int	 yes(const char *);
static int	 has_mangling(const char *);
static void	 put_key(struct buf *, const char *, const char *);
static char	*host_port(const char *, int *);
static int	 read_opt(const char *, struct error *, char **);
static char	*first_word(char *);

static const struct {
	enum import_format	 f;
	const char		*name;
	const char		*path;
} formats[] = {
	{ IMPORT_SSMTP, "ssmtp", "/etc/ssmtp/ssmtp.conf" },
	{ IMPORT_NULLMAILER, "nullmailer", "/etc/nullmailer" },
	{ IMPORT_DMA, "dma", "/etc/dma/dma.conf" },
};

/* ssmtp.conf(5)'s keys (matched without case, as ssmtp does). */
static const char *const ssmtp_keys[] = {
	"root", "mailhub", "rewritedomain", "hostname", "fromlineoverride",
	"usetls", "usestarttls", "usetlscert", "tlscert", "tlskey",
	"tls_ca_file", "tls_ca_dir", "authuser", "authpass", "authmethod",
	"debug", "remoteport", NULL
};

/* dma(8)'s keys (upper case, as dma writes them). */
static const char *const dma_keys[] = {
	"SMARTHOST", "PORT", "ALIASES", "SPOOLDIR", "AUTHPATH", "CERTFILE",
	"SECURETRANSFER", "STARTTLS", "OPPORTUNISTIC_TLS", "FINGERPRINT",
	"MASQUERADE", "MAILNAME", "NULLCLIENT", "INSECURE", "DEFER",
	"FULLBOUNCE", "VERIFYCERT", NULL
};

enum import_format
import_format_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(formats[i].name, s) == 0)
			return formats[i].f;
	return IMPORT_NONE;
}

const char *
import_format_name(enum import_format f)
{
	size_t	i;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (formats[i].f == f)
			return formats[i].name;
	return "none";
}

const char *
import_default_path(enum import_format f)
{
	size_t	i;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (formats[i].f == f)
			return formats[i].path;
	return NULL;
}

enum import_format
import_detect(const char *key, const char *rest)
{
	const char	*eq = strchr(key, '=');
	size_t		 i, n = eq != NULL ? (size_t)(eq - key) : strlen(key);
	char		 w[32];

	/* ssmtp: key=value, or "key = value" */
	if (eq != NULL || rest[0] == '=')
		for (i = 0; ssmtp_keys[i] != NULL; i++)
			if (strlen(ssmtp_keys[i]) == n &&
			    strncasecmp(ssmtp_keys[i], key, n) == 0)
				return IMPORT_SSMTP;
	for (i = 0; dma_keys[i] != NULL; i++)
		if (strcmp(dma_keys[i], key) == 0)
			return IMPORT_DMA;
	/* nullmailer remotes: "HOST PROTOCOL [--option...]" */
	n = strcspn(rest, " \t");
	if (n > 0 && n < sizeof(w)) {
		memcpy(w, rest, n);
		w[n] = '\0';
		if ((strcmp(w, "smtp") == 0 || strcmp(w, "qmqp") == 0) &&
		    strchr(key, '=') == NULL)
			return IMPORT_NULLMAILER;
	}
	return IMPORT_NONE;
}

/* Advance to the next line; 0 at the end.  The line has no line end. */
static int
next_line(struct lines *l)
{
	size_t	n;

	free(l->line);
	l->line = NULL;
	if (l->p == NULL || *l->p == '\0')
		return 0;
	n = strcspn(l->p, "\n");
	l->line = xstrndup(l->p, n);
	if (n > 0 && l->line[n - 1] == '\r')
		l->line[n - 1] = '\0';
	l->p += n;
	if (*l->p == '\n')
		l->p++;
	l->no++;
	return 1;
}

/* A problem: a comment in the output and a line in notes. */
static void
note(struct buf *out, struct buf *notes, const char *fmt, ...)
{
	va_list	 ap;
	char	*m;

	va_start(ap, fmt);
	m = xvasprintf(fmt, ap);
	va_end(ap);
	buf_printf(out, "# NOTE: %s\n", m);
	buf_printf(notes, "%s\n", m);
	free(m);
}

static int
yes(const char *v)
{
	return strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 ||
	    strcmp(v, "1") == 0;
}

/* A value ssmtp 2.64 cuts short: it splits lines at '=' and blanks and
 * treats '#' as the start of a comment. */
static int
has_mangling(const char *v)
{
	return strpbrk(v, "#= \t") != NULL;
}

/* "key value" with a value msmtp's syntax reads back unchanged. */
static void
put_key(struct buf *out, const char *key, const char *v)
{
	const char	*c;

	if (strpbrk(v, " \t\"\\#") == NULL && *v != '\0') {
		buf_printf(out, "%s %s\n", key, v);
		return;
	}
	buf_printf(out, "%s \"", key);
	for (c = v; *c != '\0'; c++) {
		if (*c == '"' || *c == '\\')
			buf_addch(out, '\\');
		buf_addch(out, *c);
	}
	buf_addstr(out, "\"\n");
}

/* "host[:port]": the host (allocated); *port 0 when none is given. */
static char *
host_port(const char *s, int *port)
{
	const char	*c = strrchr(s, ':');

	*port = 0;
	if (c != NULL && s[0] != '[' && strchr(s, ':') == c) {
		*port = atoi(c + 1);
		return xstrndup(s, (size_t)(c - s));
	}
	return xstrdup(s);
}

int
import_ssmtp(const char *conf, const char *revaliases, struct buf *out,
    struct buf *notes, struct error *err)
{
	struct lines	 l = { conf, NULL, 0 };
	char		*hub = NULL, *user = NULL, *pass = NULL, *method = NULL;
	char		*rewrite = NULL, *hostname = NULL, *root = NULL;
	char		*cert = NULL, *key = NULL, *ca = NULL, *cadir = NULL;
	char		*host;
	int		 tls = 0, starttls = 0, override = -1, port, rport = 0;
	int		 rv = -1;

	while (next_line(&l)) {
		char	*s = str_trim(l.line), *eq, *k, *v;

		if (*s == '\0' || *s == '#')
			continue;
		if ((eq = strchr(s, '=')) == NULL) {
			note(out, notes, "ssmtp.conf:%d: no '=' in the line: "
			    "ignored", l.no);
			continue;
		}
		*eq = '\0';
		k = str_trim(s);
		v = str_trim(eq + 1);
#define TAKE(name, var) \
	if (strcasecmp(k, name) == 0) { free(var); var = xstrdup(v); continue; }
		TAKE("mailhub", hub);
		TAKE("authuser", user);
		TAKE("authpass", pass);
		TAKE("authmethod", method);
		TAKE("rewritedomain", rewrite);
		TAKE("hostname", hostname);
		TAKE("root", root);
		TAKE("tlscert", cert);
		TAKE("tlskey", key);
		TAKE("tls_ca_file", ca);
		TAKE("tls_ca_dir", cadir);
#undef TAKE
		if (strcasecmp(k, "usetls") == 0)
			tls = yes(v);
		else if (strcasecmp(k, "usestarttls") == 0)
			starttls = yes(v);
		else if (strcasecmp(k, "fromlineoverride") == 0)
			override = yes(v);
		else if (strcasecmp(k, "remoteport") == 0)
			rport = atoi(v);
		else if (strcasecmp(k, "usetlscert") == 0 ||
		    strcasecmp(k, "debug") == 0)
			;	/* implied by TLSCert; -v instead */
		else
			note(out, notes, "ssmtp.conf:%d: key '%s' has no "
			    "equivalent in postie: ignored", l.no, k);
	}
	next_line(&l);
	if (hub == NULL) {
		error_set(err, EX_DATAERR, "ssmtp.conf names no relay "
		    "(no mailhub=)");
		goto out;
	}
	host = host_port(hub, &port);
	if (port == 0)
		port = rport;
	buf_addstr(out, "# postie.conf from ssmtp's configuration "
	    "(postie --import-config ssmtp)\n");
	buf_addstr(out, "defaults\n");
	if (rewrite != NULL)
		put_key(out, "qualify_domain", rewrite);
	else if (hostname != NULL)
		put_key(out, "qualify_domain", hostname);
	buf_addstr(out, "\naccount ssmtp\n");
	put_key(out, "host", host);
	free(host);
	if (port != 0)
		buf_printf(out, "port %d\n", port);
	/* ssmtp: STARTTLS implies TLS; UseTLS alone is TLS from the start */
	if (tls || starttls) {
		buf_addstr(out, "tls on\n");
		buf_printf(out, "tls_starttls %s\n", starttls ? "on" : "off");
		note(out, notes, "ssmtp never checked the relay's "
		    "certificate; postie does (system CAs, or "
		    "tls_trust_file): for a self-signed relay set "
		    "tls_fingerprint to the SHA-256 fingerprint of its "
		    "certificate");
	} else
		buf_addstr(out, "tls off\n");
	if (hostname != NULL)
		put_key(out, "domain", hostname);
	if (ca != NULL)
		put_key(out, "tls_trust_file", ca);
	if (cadir != NULL)
		note(out, notes, "TLS_CA_Dir=%s: postie takes one file of CA "
		    "certificates (tls_trust_file), not a directory", cadir);
	if (cert != NULL) {
		put_key(out, "tls_cert_file", cert);
		put_key(out, "tls_key_file", key != NULL ? key : cert);
	}
	if (user != NULL) {
		if (method != NULL && strcasecmp(method, "cram-md5") == 0)
			buf_addstr(out, "auth cram-md5\n");
		else
			buf_addstr(out, "auth login\n");
		put_key(out, "user", user);
		if (pass != NULL) {
			put_key(out, "password", pass);
			if (has_mangling(pass))
				note(out, notes, "AuthPass holds '#', '=' or "
				    "blanks, which ssmtp 2.64 cut off: postie "
				    "uses the whole value as written; check "
				    "it is the real password");
			note(out, notes, "this file holds a password: make "
			    "it mode 0600 (postie refuses it otherwise)");
		}
		if (!tls && !starttls) {
			buf_addstr(out, "auth_cleartext on\n");
			note(out, notes, "ssmtp sent the password over a "
			    "connection without TLS; postie needs "
			    "'auth_cleartext on' for that (kept here): "
			    "prefer 'tls on' if the relay offers it");
		}
	}
	if (override == 1)
		buf_addstr(out, "allow_from_override on\n");
	else if (override == 0) {
		/* ssmtp rewrites From and ignores -f unless overriding */
		buf_addstr(out, "allow_from_override off\n");
		buf_addstr(out, "set_from_header on\n");
	}
	buf_addstr(out, "\naccount default : ssmtp\n");
	if (root != NULL)
		note(out, notes, "root=%s: ssmtp sent the mail of system "
		    "users (uid < 1000) there; in postie write an aliases "
		    "file with 'root: %s' (and a line per system user) and "
		    "name it with 'aliases FILE'", root, root);

	l.p = revaliases;
	l.no = 0;
	while (next_line(&l)) {
		char	*s = str_trim(l.line), *f, *h;

		if (*s == '\0' || *s == '#')
			continue;
		if ((f = strchr(s, ':')) == NULL) {
			note(out, notes, "revaliases:%d: no ':' in the line: "
			    "ignored", l.no);
			continue;
		}
		*f++ = '\0';
		if ((h = strchr(f, ':')) != NULL)
			*h++ = '\0';
		note(out, notes, "revaliases:%d: mail of local user '%s' "
		    "was sent as '%s'%s%s: postie picks the sender per "
		    "user from that user's ~/.postierc ('from %s')", l.no,
		    s, f, h != NULL ? " through " : "", h != NULL ? h : "",
		    f);
	}
	next_line(&l);
	rv = 0;
out:
	freezero_str(pass);
	free(hub); free(user); free(method); free(rewrite);
	free(hostname); free(root); free(cert); free(key); free(ca);
	free(cadir);
	return rv;
}

int
import_nullmailer(const struct nullmailer_files *f, struct buf *out,
    struct buf *notes, struct error *err)
{
	struct lines	 l = { f->remotes, NULL, 0 };
	struct strlist	 names = STRLIST_INIT;
	struct buf	 accts = BUF_INIT;
	const char	*dd = f->defaultdomain;
	const char	*qd = f->defaulthost != NULL ? f->defaulthost : f->me;
	size_t		 i;

	while (next_line(&l)) {
		char	*s = str_trim(l.line), *w, *save = NULL, *host, *proto;
		char	*name;
		int	 ssl = 0, starttls = 0, insecure = 0, have_pass = 0;
		int	 have_user = 0, auth_login = 0;

		if (*s == '\0' || *s == '#')
			continue;
		host = strtok_r(s, " \t", &save);
		/* nullmailer-send(8): "The protocol name defaults to smtp" */
		proto = strtok_r(NULL, " \t", &save);
		if (proto != NULL && strcmp(proto, "smtp") != 0) {
			note(&accts, notes, "remotes:%d: protocol '%s' of %s: "
			    "postie speaks only smtp; this remote is left "
			    "out", l.no, proto, host);
			continue;
		}
		name = xasprintf("nullmailer%zu", names.n + 1);
		strlist_add_owned(&names, name);
		buf_printf(&accts, "\naccount %s\n", name);
		put_key(&accts, "host", host);
		while (proto != NULL &&
		    (w = strtok_r(NULL, " \t", &save)) != NULL) {
			char	*v = strchr(w, '=');

			if (v != NULL)
				*v++ = '\0';
			if (strcmp(w, "--port") == 0 && v != NULL)
				buf_printf(&accts, "port %d\n", atoi(v));
			else if (strcmp(w, "--user") == 0 && v != NULL) {
				put_key(&accts, "user", v);
				have_user = 1;
			} else if (strcmp(w, "--pass") == 0 && v != NULL) {
				put_key(&accts, "password", v);
				have_pass = 1;
				if (strpbrk(v, "\"'") != NULL)
					note(&accts, notes, "remotes:%d: the "
					    "password holds quotes, which "
					    "nullmailer passed on as part of "
					    "it (it splits at blanks and "
					    "knows no quoting): check it",
					    l.no);
			} else if (strcmp(w, "--ssl") == 0)
				ssl = 1;
			else if (strcmp(w, "--starttls") == 0)
				starttls = 1;
			else if (strcmp(w, "--insecure") == 0)
				insecure = 1;
			else if (strcmp(w, "--source") == 0 && v != NULL)
				put_key(&accts, "source_ip", v);
			else if (strcmp(w, "--x509cafile") == 0 && v != NULL)
				put_key(&accts, "tls_trust_file", v);
			else if (strcmp(w, "--x509crlfile") == 0 && v != NULL)
				put_key(&accts, "tls_crl_file", v);
			else if (strcmp(w, "--x509certfile") == 0 &&
			    v != NULL) {
				/* one PEM file with the certificate and key */
				put_key(&accts, "tls_cert_file", v);
				put_key(&accts, "tls_key_file", v);
			} else if (strcmp(w, "--auth-login") == 0)
				auth_login = 1;
			else
				note(&accts, notes, "remotes:%d: option '%s' "
				    "has no equivalent in postie: ignored",
				    l.no, w);
		}
		/* after every option: --auth-login may come before --user */
		if (have_user)
			buf_addstr(&accts, auth_login ? "auth login\n" :
			    "auth on\n");
		if (ssl || starttls) {
			buf_addstr(&accts, "tls on\n");
			buf_printf(&accts, "tls_starttls %s\n",
			    starttls ? "on" : "off");
		} else
			buf_addstr(&accts, "tls off\n");
		if (insecure) {
			buf_addstr(&accts, "tls_certcheck off\n");
			note(&accts, notes, "remotes:%d: --insecure: the "
			    "relay's certificate is not checked "
			    "(tls_certcheck off); prefer tls_fingerprint",
			    l.no);
		}
		if (have_pass && !ssl && !starttls) {
			buf_addstr(&accts, "auth_cleartext on\n");
			note(&accts, notes, "remotes:%d: the password went "
			    "over a connection without TLS; kept with "
			    "'auth_cleartext on'", l.no);
		}
	}
	next_line(&l);
	if (names.n == 0) {
		buf_release(&accts);
		strlist_release(&names);
		return error_set(err, EX_DATAERR, "nullmailer's remotes "
		    "names no smtp relay");
	}
	buf_addstr(out, "# postie.conf from nullmailer's configuration "
	    "(postie --import-config nullmailer)\n");
	buf_addstr(out, "defaults\n");
	if (qd != NULL && strchr(qd, '.') == NULL && dd != NULL) {
		/* nullmailer-inject: defaultdomain completes a host name
		 * without a dot, defaulthost (or me) included */
		char *full = xasprintf("%s.%s", qd, dd);

		put_key(out, "qualify_domain", full);
		free(full);
	} else if (qd != NULL)
		put_key(out, "qualify_domain", qd);
	/* the EHLO name: helohost, else me (nullmailer-send) */
	if (f->helohost != NULL)
		put_key(out, "domain", f->helohost);
	else if (f->me != NULL)
		put_key(out, "domain", f->me);
	if (dd != NULL)
		note(out, notes, "defaultdomain %s: nullmailer appended it "
		    "to host names without a dot; postie does not: write "
		    "full names", dd);
	for (i = 0; f->unmapped != NULL && i < f->unmapped->n; i++)
		note(out, notes, "%s: this nullmailer setting has no "
		    "equivalent in postie: ignored", f->unmapped->v[i]);
	buf_add(out, accts.data, accts.len);
	buf_release(&accts);
	buf_printf(out, "\naccount default : %s\n", names.v[0]);
	if (names.n > 1) {
		/* nullmailer tries the remotes in order: so does failover */
		buf_addstr(out, "# nullmailer tried the remotes in order\n"
		    "failover");
		for (i = 1; i < names.n; i++)
			buf_printf(out, " %s", names.v[i]);
		buf_addstr(out, "\n");
	}
	if (f->adminaddr != NULL)
		note(out, notes, "adminaddr %s: nullmailer sent mail for "
		    "local users there; in postie write an aliases file "
		    "with 'default: %s' and name it with 'aliases FILE'",
		    f->adminaddr, f->adminaddr);
	strlist_release(&names);
	return 0;
}

int
import_dma(const char *conf, const char *auth, struct buf *out,
    struct buf *notes, struct error *err)
{
	struct lines	 l = { conf, NULL, 0 };
	char		*hub = NULL, *user = NULL, *pass = NULL;
	char		*masq = NULL, *mailname = NULL, *aliases = NULL;
	char		*cert = NULL, *fp = NULL;
	int		 port = 0, secure = 0, starttls = 0, insecure = 0;
	int		 opportunistic = 0, rv = -1;

	while (next_line(&l)) {
		char	*s = l.line, *k, *v;

		if ((k = strchr(s, '#')) != NULL)
			*k = '\0';	/* dma: '#' starts a comment */
		s = str_trim(s);
		if (*s == '\0')
			continue;
		k = s;
		s += strcspn(s, " \t");
		if (*s != '\0')
			*s++ = '\0';
		v = str_trim(s);
#define TAKE(name, var) \
	if (strcmp(k, name) == 0) { free(var); var = xstrdup(v); continue; }
		TAKE("SMARTHOST", hub);
		TAKE("MASQUERADE", masq);
		TAKE("MAILNAME", mailname);
		TAKE("ALIASES", aliases);
		TAKE("CERTFILE", cert);
		TAKE("FINGERPRINT", fp);
#undef TAKE
		if (strcmp(k, "PORT") == 0)
			port = atoi(v);
		else if (strcmp(k, "SECURETRANSFER") == 0)
			secure = 1;
		else if (strcmp(k, "STARTTLS") == 0)
			starttls = 1;
		else if (strcmp(k, "OPPORTUNISTIC_TLS") == 0)
			opportunistic = 1;
		else if (strcmp(k, "INSECURE") == 0)
			insecure = 1;
		else if (strcmp(k, "AUTHPATH") == 0 ||
		    strcmp(k, "NULLCLIENT") == 0)
			;	/* read by import_config(); postie relays all */
		else if (strcmp(k, "SPOOLDIR") == 0)
			note(out, notes, "SPOOLDIR %s: dma's queue is not "
			    "taken over: run 'dma -q' before switching", v);
		else
			note(out, notes, "dma.conf:%d: '%s' has no "
			    "equivalent in postie: ignored", l.no, k);
	}
	next_line(&l);
	if (hub == NULL) {
		error_set(err, EX_DATAERR, "dma.conf names no relay (no "
		    "SMARTHOST): dma delivered directly, which postie does "
		    "not do; configure a relay");
		goto out;
	}
	/* auth.conf: "user|smarthost:password", the line for our relay */
	l.p = auth;
	l.no = 0;
	while (next_line(&l)) {
		char	*s = str_trim(l.line), *bar, *colon;

		if (*s == '\0' || *s == '#')
			continue;
		if ((bar = strchr(s, '|')) == NULL ||
		    (colon = strchr(bar, ':')) == NULL)
			continue;
		*bar++ = '\0';
		*colon++ = '\0';
		if (strcasecmp(bar, hub) != 0 || user != NULL)
			continue;
		user = xstrdup(s);
		pass = xstrdup(colon);
	}
	next_line(&l);

	buf_addstr(out, "# postie.conf from dma's configuration "
	    "(postie --import-config dma)\n");
	buf_addstr(out, "defaults\n");
	if (mailname != NULL && mailname[0] != '/')
		put_key(out, "qualify_domain", mailname);
	else if (mailname != NULL)
		note(out, notes, "MAILNAME %s: postie reads /etc/mailname "
		    "itself; for another file write its name with "
		    "'qualify_domain'", mailname);
	if (aliases != NULL)
		put_key(out, "aliases", aliases);
	buf_addstr(out, "\naccount dma\n");
	put_key(out, "host", hub);
	if (port != 0)
		buf_printf(out, "port %d\n", port);
	if (secure) {
		buf_addstr(out, "tls on\n");
		buf_printf(out, "tls_starttls %s\n", starttls ? "on" : "off");
		if (opportunistic)
			note(out, notes, "OPPORTUNISTIC_TLS: postie never "
			    "falls back to a connection without TLS");
	} else
		buf_addstr(out, "tls off\n");
	if (fp != NULL)
		put_key(out, "tls_fingerprint", fp);
	if (cert != NULL) {
		put_key(out, "tls_cert_file", cert);
		put_key(out, "tls_key_file", cert);
	}
	if (user != NULL) {
		buf_addstr(out, "auth on\n");
		put_key(out, "user", user);
		put_key(out, "password", pass);
		note(out, notes, "this file holds a password: make it mode "
		    "0600 (postie refuses it otherwise)");
		if (!secure) {
			if (insecure)
				buf_addstr(out, "auth_cleartext on\n");
			note(out, notes, "the password goes over a "
			    "connection without TLS%s", insecure ? " (dma's "
			    "INSECURE, kept as 'auth_cleartext on')" :
			    ": dma refused that without INSECURE, and so "
			    "does postie: set 'tls on'");
		}
	}
	if (masq != NULL) {
		const char *at = strchr(masq, '@');

		if (at != NULL && at != masq && at[1] == '\0') {
			/* dma(8): "john@" sends as john at the host's
			 * name (its MAILNAME): postie's %M */
			char *from = xasprintf("%s%s", masq,
			    mailname != NULL && mailname[0] != '/' ?
			    mailname : "%M");

			put_key(out, "from", from);
			free(from);
		} else if (at != NULL && at != masq)
			put_key(out, "from", masq);
		else
			put_key(out, "qualify_domain", at != NULL ? at + 1 :
			    masq);
	}
	buf_addstr(out, "\naccount default : dma\n");
	if (!secure)
		note(out, notes, "dma sent this mail without TLS; so does "
		    "this config: set 'tls on' if the relay offers it");
	rv = 0;
out:
	freezero_str(pass);
	free(hub); free(user); free(masq); free(mailname);
	free(aliases); free(cert); free(fp);
	return rv;
}

/* Read an optional file: 0 with *text NULL when it does not exist. */
static int
read_opt(const char *path, struct error *err, char **text)
{
	struct error	 e = ERROR_INIT;
	size_t		 len;

	*text = NULL;
	if (access(path, F_OK) == -1)
		return 0;
	if (config_read_file(path, "file", text, &len, &e) == -1) {
		error_set(err, e.code, "%s", e.msg);
		error_release(&e);
		return -1;
	}
	return 0;
}

/* nullmailer's one-line files hold one word each. */
static char *
first_word(char *s)
{
	if (s == NULL)
		return NULL;
	s = str_trim(s);
	s[strcspn(s, " \t\r\n")] = '\0';
	return *s != '\0' ? s : NULL;
}

int
import_config(enum import_format f, const char *path, struct buf *out,
    struct buf *notes, struct error *err)
{
	char	*a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL;
	char	*h = NULL, *pdir = NULL, *dir, *p;
	int	 rv = -1;

	if (path == NULL)
		path = import_default_path(f);
	switch (f) {
	case IMPORT_SSMTP:
		if (config_read_file(path, "ssmtp configuration", &a, NULL,
		    err) == -1)
			break;
		dir = xstrdup(path);
		if ((p = strrchr(dir, '/')) != NULL)
			*p = '\0';
		else
			strcpy(dir, ".");
		p = xasprintf("%s/revaliases", dir);
		free(dir);
		if (read_opt(p, err, &b) == 0)
			rv = import_ssmtp(a, b, out, notes, err);
		free(p);
		break;
	case IMPORT_NULLMAILER: {
		static const char *const n[] = { "remotes", "me",
		    "defaultdomain", "defaulthost", "adminaddr", "helohost" };
		/* nullmailer's other control files: no equivalent here */
		static const char *const other[] = { "allmailfrom", "idhost",
		    "sendtimeout", "pausetime", "maxpause", NULL };
		char	**v[] = { &a, &b, &c, &d, &e, &h };
		struct nullmailer_files	nf;
		struct strlist		unmapped = STRLIST_INIT;
		struct stat		st;
		size_t	  i;

		/* the remotes file named instead of its directory */
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			dir = xstrdup(path);
			if ((p = strrchr(dir, '/')) != NULL)
				*p = '\0';
			else
				strcpy(dir, ".");
			pdir = dir;	/* freed at out */
			path = pdir;
		}
		for (i = 0; i < 6; i++) {
			p = xasprintf("%s/%s", path, n[i]);
			if (i == 0 ? config_read_file(p, "nullmailer "
			    "remotes", v[i], NULL, err) : read_opt(p, err,
			    v[i])) {
				free(p);
				goto out;
			}
			free(p);
		}
		for (i = 0; other[i] != NULL; i++) {
			p = xasprintf("%s/%s", path, other[i]);
			if (access(p, F_OK) == 0)
				strlist_add(&unmapped, other[i]);
			free(p);
		}
		memset(&nf, 0, sizeof(nf));
		nf.remotes = a;
		nf.me = first_word(b);
		nf.defaultdomain = first_word(c);
		nf.defaulthost = first_word(d);
		nf.adminaddr = first_word(e);
		nf.helohost = first_word(h);
		nf.unmapped = &unmapped;
		rv = import_nullmailer(&nf, out, notes, err);
		strlist_release(&unmapped);
		break;
	}
	case IMPORT_DMA: {
		struct lines	 l;
		char		*authpath = NULL;

		if (config_read_file(path, "dma configuration", &a, NULL,
		    err) == -1)
			break;
		l.p = a;
		l.line = NULL;
		l.no = 0;
		while (next_line(&l)) {
			char *s = str_trim(l.line);

			if (strncmp(s, "AUTHPATH", 8) == 0 &&
			    (s[8] == ' ' || s[8] == '\t')) {
				free(authpath);
				authpath = xstrdup(str_trim(s + 8));
			}
		}
		if (authpath != NULL && read_opt(authpath, err, &b) == -1) {
			free(authpath);
			break;
		}
		free(authpath);
		rv = import_dma(a, b, out, notes, err);
		break;
	}
	default:
		error_set(err, EX_USAGE, "unknown format for --import-config: "
		    "use ssmtp, nullmailer or dma");
		break;
	}
out:
	freezero_str(a);
	freezero_str(b);
	free(c); free(d); free(e); free(h); free(pdir);
	return rv;
}
