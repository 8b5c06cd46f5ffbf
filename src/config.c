/*
 * Configuration files in msmtp's syntax: reading them (size, mode,
 * owner), sections ("defaults", "account A : B" and inheritance), the
 * system and user files merged, and the account chosen for a send.  The
 * keys and their values are config_keys.c's; the aliases file is
 * aliases.c's.
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
#include "util.h"
#include "xmalloc.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"
#endif

#define FILE_MAX	(1024 * 1024)	/* config and aliases files */
#define LINE_MAX_LEN	4096		/* one config line */

static const struct account *chosen(const struct account *, const char *);
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

/* What config_select() returns when nothing is configured. */
static char empty_name[] = "default";
/* (the table's int defaults, set on first use; no EHLO domain) */
static struct account empty_account = {
	.name = empty_name,
};

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
	int		 first = 1;

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
	inherit(pa, &p->defaults);

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
		inherit(pa, pp);
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
		/* "AuthPass=secret", "user|host:secret": the key alone */
		int	kl = (int)strcspn(key, "=|:");
		char	*dir;
		int	rv;

		if (f == IMPORT_NONE)
			return perr(p, err, "unknown key '%.*s'", kl, key);
		/* nullmailer's path is its directory */
		dir = xstrdup(p->name);
		if (f == IMPORT_NULLMAILER && strrchr(dir, '/') != NULL)
			*strrchr(dir, '/') = '\0';
		else if (f == IMPORT_NULLMAILER) {
			free(dir);
			dir = xstrdup(".");
		}
		rv = perr(p, err, "unknown key '%.*s': this is %s's "
		    "configuration, not postie's; convert it with "
		    "'postie --import-config %s %s'", kl, key,
		    import_format_name(f), import_format_name(f), dir);
		free(dir);
		return rv;
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
	route_table_release(&p->routes);
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
	if (p->naccts == 0 && p->defaults.ngiven != 0) {
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
	/* a later file's routes are tried first (the user's over the
	 * system's) */
	route_table_prepend(&cfg->routes, &p->routes);
}

/*
 * Once every file is read: the accounts that "route" and "failover"
 * name, which must exist and have a relay.
 */
static int
resolve(struct config *cfg, struct error *err)
{
	struct account	*a, *b;
	char		*copy, *name, *save = NULL;
	size_t		 i, j, n;

	for (i = 0; i < cfg->routes.n; i++) {
		struct route *r = &cfg->routes.v[i];

		if ((b = find_account(cfg, r->account)) == NULL ||
		    b->host == NULL)
			return error_set(err, EX_CONFIG, "%s:%d: route %s "
			    "names account '%s', which %s", r->file, r->line,
			    r->pattern, r->account, b == NULL ? "is not "
			    "defined" : "has no host (a route goes to a relay)");
		r->acct = b;
	}
	for (i = 0; i < cfg->naccounts; i++) {
		a = cfg->accounts[i];
		free(a->failover_to);
		a->failover_to = NULL;
		a->nfailover = 0;
		a->routes = cfg->routes.n > 0 ? &cfg->routes : NULL;
		if (a->failover == NULL)
			continue;
		copy = xstrdup(a->failover);
		for (n = 0, name = strtok_r(copy, " ", &save); name != NULL;
		    name = strtok_r(NULL, " ", &save))
			n++;
		a->failover_to = xcalloc(n, sizeof(*a->failover_to));
		strcpy(copy, a->failover);
		for (j = 0, name = strtok_r(copy, " ", &save); name != NULL;
		    name = strtok_r(NULL, " ", &save)) {
			b = find_account(cfg, name);
			/* itself: a "failover" in defaults reaches the
			 * backups too */
			if (b == a || (b != NULL && strcmp(b->name, a->name)
			    == 0))
				continue;
			if (b == NULL || b->host == NULL) {
				error_set(err, EX_CONFIG, "%s:%d: account '%s' "
				    "fails over to '%s', which %s", a->file,
				    a->line, a->name, name, b == NULL ? "is not "
				    "defined" : "has no host (failover goes to a "
				    "relay)");
				free(copy);
				return -1;
			}
			a->failover_to[j++] = b;
		}
		a->nfailover = j;
		free(copy);
	}
	return 0;
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
	return resolve(cfg, err);
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
	route_table_release(&cfg->routes);
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

	home = util_home_dir();
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

char *
config_msmtp_user_file(void)
{
	const char	*xdg = getenv("XDG_CONFIG_HOME"), *env;
	char		*own, *home, *path;

	/* postie's own user file, or POSTIE_CONFIG, wins */
	if ((env = getenv("POSTIE_CONFIG")) != NULL && *env != '\0')
		return NULL;
	if ((own = user_file()) == NULL)
		return NULL;
	if (access(own, F_OK) == 0) {
		free(own);
		return NULL;
	}
	free(own);
	/* msmtp 1.8: $XDG_CONFIG_HOME/msmtp/config, else ~/.msmtprc */
	home = util_home_dir();
	if (xdg != NULL && xdg[0] == '/')
		path = xasprintf("%s/msmtp/config", xdg);
	else if (home != NULL)
		path = xasprintf("%s/.config/msmtp/config", home);
	else
		return NULL;
	if (access(path, F_OK) != 0 && home != NULL) {
		free(path);
		path = xasprintf("%s/.msmtprc", home);
	}
	free(home);
	if (access(path, F_OK) == 0)
		return path;
	free(path);
	return NULL;
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
			return resolve(cfg, err);
	}
	rc = load_file(cfg, user, must, 0, err);
	free(user);
	return rc == 0 ? resolve(cfg, err) : rc;
}

/* Selection. */

static int	quiet;	/* config_select_queued(): no -v line */

/* For -v: which account, and why (the caller returns it). */
static const struct account *
chosen(const struct account *a, const char *why)
{
	if (quiet)
		return a;
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
	account_defaults(&empty_account, 0);
	return chosen(&empty_account, "nothing is configured");
}

const struct account *
config_select_queued(const struct config *cfg, const char *name,
    struct error *err)
{
	const struct account	*a;

	if (name == NULL) {
		quiet = 1;
		a = config_select(cfg, NULL, NULL, err);
		quiet = 0;
		return a;
	}
	if ((a = find_account(cfg, name)) != NULL ||
	    (strcmp(name, "default") == 0 && cfg->default_name != NULL &&
	    (a = find_account(cfg, cfg->default_name)) != NULL))
		return a;
	error_set(err, EX_CONFIG, "account '%s' not found", name);
	return NULL;
}

void
config_log_queued(const struct account *a)
{
	(void)chosen(a, "the one its queue entry names");
}

/* Keys that choose the relay or the way to it: see config_override(). */
static int
routes_mail(const char *key)
{
	static const char *const keys_[] = { "host", "port", "url", "auth",
	    "user", "password", "passwordeval", "protocol", "proxy_host",
	    "proxy_port", "socket", "source_ip", NULL };
	size_t	i;

	if (strncmp(key, "tls", 3) == 0 || strncmp(key, "oauth2_", 7) == 0)
		return 1;
	for (i = 0; keys_[i] != NULL; i++)
		if (strcmp(keys_[i], key) == 0)
			return 1;
	return 0;
}

const struct account *
config_override(struct config *cfg, const struct account *base,
    const struct strlist *settings, struct error *err)
{
	struct parse		 p;
	const struct keydef	*k;
	struct account		*a;
	size_t			 i, j;
	int			 unqueued = 0;

	memset(&p, 0, sizeof(p));
	p.name = "command line";
	p.defaults.a = a = account_new("command line", 0,
	    base != NULL ? base->name : "cmdline");
	if (base != NULL) {
		account_copy_fields(a, base);
		a->implicit = base->implicit;
		/* what resolve() filled: routes and the failover accounts */
		a->routes = base->routes;
		if (base->nfailover > 0) {
			a->failover_to = xcalloc(base->nfailover,
			    sizeof(*a->failover_to));
			memcpy(a->failover_to, base->failover_to,
			    base->nfailover * sizeof(*a->failover_to));
			a->nfailover = base->nfailover;
		}
		free(a->file);
		a->file = xstrdup(base->file != NULL ? base->file :
		    "command line");
		a->line = base->line;
	}
	for (i = 0; i + 3 <= settings->n; i += 3) {
		const char *opt = settings->v[i], *key = settings->v[i + 1];

		for (k = keys; k->name != NULL; k++)
			if (strcmp(k->name, key) == 0)
				break;
		if (k->name == NULL) {
			error_set(err, EX_SOFTWARE, "%s: no key '%s'", opt,
			    key);
			goto fail;
		}
		if (k->fn(&p, &p.defaults, k, settings->v[i + 2], err) == -1) {
			/* "command line:0: invalid value..." -> the option */
			const char *m = strstr(err->msg, ": ");
			char *msg = xasprintf("%s: %s", opt, m != NULL ?
			    m + 2 : err->msg);

			error_release(err);
			error_set(err, EX_USAGE, "%s", msg);
			free(msg);
			goto fail;
		}
		if (routes_mail(key))
			unqueued = 1;
	}
	if (unqueued && a->queue) {
		a->queue = 0;
		log_debug("settings from the command line choose the relay: "
		    "a temporary failure is not queued (exit 75), since a "
		    "later flush would not know them");
	}
	for (j = 0; j < cfg->naccounts; j++)
		if (cfg->accounts[j] == base)
			break;
	if (j < cfg->naccounts)
		account_free(cfg->accounts[j]);
	else {
		cfg->accounts = xreallocarray(cfg->accounts,
		    cfg->naccounts + 1, sizeof(*cfg->accounts));
		cfg->naccounts++;
	}
	cfg->accounts[j] = a;
	p.defaults.a = NULL;
	parse_release(&p);
	log_debug("account '%s' with %zu setting(s) from the command line",
	    a->name, settings->n / 3);
	return a;
fail:
	parse_release(&p);
	return NULL;
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

