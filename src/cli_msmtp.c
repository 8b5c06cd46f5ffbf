/*
 * The msmtp face of the command line (cli.h): postie run through a link
 * named "msmtp".  Beside cli.c, sharing its helpers (cli_int.h).
 */
#include "autoconfig.h"

#include <ctype.h>
#include <popt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "error.h"
#include "mime.h"
#include "util.h"
#include "xmalloc.h"
#include "cli_int.h"

/*
 * The msmtp face: postie invoked as "msmtp" (a link the user makes)
 * takes msmtp 1.8's options with msmtp's meanings, so that scripts and
 * mutt's "set sendmail=msmtp" work unchanged.  msmtp's getopt string is
 * "Pd::SC:a:f:N:R:X:tA:B:b:F:Gh:iL:mnO:o:v"; its long options that set
 * an account key ("--tls-trust-file" is "tls_trust_file") become
 * settings for config_override(), so each goes through that key's own
 * check.  Options end at the first operand (msmtp's getopt would go on:
 * DEVIATIONS.md), as in the sendmail face.
 */
enum {
	M_KEY = 0,		/* an account key: the name with '_' */
	M_VERSION, M_HELP, M_CONFIGURE, M_PRETEND, M_DEBUG, M_SERVERINFO,
	M_RMQS, M_FILE, M_ACCOUNT, M_HOST, M_FROM, M_READ_RCPTS,
	M_READ_ENVELOPE_FROM
};

#define M_NONE		0	/* no argument */
#define M_REQ		1	/* required: --opt=V, --opt V, -xV, -x V */
#define M_OPT		2	/* optional: only --opt=V (getopt's rule) */

static const struct msmtp_opt {
	const char	*name;
	int		 letter;	/* short option, or 0 */
	int		 arg;
	int		 what;
	const char	*absent;	/* M_OPT's value when none is given */
} msmtp_opts[] = {
	{ "version", 0, M_NONE, M_VERSION, NULL },
	{ "help", 0, M_NONE, M_HELP, NULL },
	{ "configure", 0, M_REQ, M_CONFIGURE, NULL },
	{ "pretend", 'P', M_NONE, M_PRETEND, NULL },
	{ "debug", 'd', M_OPT, M_DEBUG, NULL },
	{ "serverinfo", 'S', M_NONE, M_SERVERINFO, NULL },
	{ "rmqs", 0, M_REQ, M_RMQS, NULL },
	{ "file", 'C', M_REQ, M_FILE, NULL },
	{ "account", 'a', M_REQ, M_ACCOUNT, NULL },
	{ "host", 0, M_REQ, M_HOST, NULL },
	{ "port", 0, M_REQ, M_KEY, NULL },
	{ "timeout", 0, M_REQ, M_KEY, NULL },
	{ "connect-timeout", 0, M_REQ, M_KEY, NULL },
	{ "auto-from", 0, M_OPT, M_KEY, "on" },
	{ "from", 'f', M_REQ, M_FROM, NULL },
	{ "maildomain", 0, M_REQ, M_KEY, NULL },
	{ "auth", 0, M_OPT, M_KEY, "on" },
	{ "user", 0, M_REQ, M_KEY, NULL },
	{ "passwordeval", 0, M_REQ, M_KEY, NULL },
	{ "tls", 0, M_OPT, M_KEY, "on" },
	{ "tls-starttls", 0, M_OPT, M_KEY, "on" },
	{ "tls-trust-file", 0, M_REQ, M_KEY, NULL },
	{ "tls-crl-file", 0, M_REQ, M_KEY, NULL },
	{ "tls-fingerprint", 0, M_REQ, M_KEY, NULL },
	{ "tls-key-file", 0, M_REQ, M_KEY, NULL },
	{ "tls-cert-file", 0, M_REQ, M_KEY, NULL },
	{ "tls-certcheck", 0, M_OPT, M_KEY, "on" },
	{ "tls-force-sslv3", 0, M_OPT, M_KEY, "on" },
	{ "tls-min-dh-prime-bits", 0, M_REQ, M_KEY, NULL },
	{ "tls-priorities", 0, M_REQ, M_KEY, NULL },
	{ "tls-host-override", 0, M_REQ, M_KEY, NULL },
	{ "dsn-notify", 'N', M_REQ, M_KEY, NULL },
	{ "dsn-return", 'R', M_REQ, M_KEY, NULL },
	{ "protocol", 0, M_REQ, M_KEY, NULL },
	{ "domain", 0, M_REQ, M_KEY, NULL },
	{ "logfile", 'X', M_REQ, M_KEY, NULL },
	{ "logfile-time-format", 0, M_REQ, M_KEY, NULL },
	{ "syslog", 0, M_OPT, M_KEY, "on" },
	{ "aliases", 0, M_REQ, M_KEY, NULL },
	{ "proxy-host", 0, M_REQ, M_KEY, NULL },
	{ "proxy-port", 0, M_REQ, M_KEY, NULL },
	{ "add-missing-from-header", 0, M_OPT, M_KEY, "on" },
	{ "add-missing-date-header", 0, M_OPT, M_KEY, "on" },
	{ "set-from-header", 0, M_OPT, M_KEY, "auto" },
	{ "set-date-header", 0, M_OPT, M_KEY, "auto" },
	{ "set-msgid-header", 0, M_OPT, M_KEY, "auto" },
	{ "remove-bcc-headers", 0, M_OPT, M_KEY, "on" },
	{ "undisclosed-recipients", 0, M_OPT, M_KEY, "on" },
	{ "source-ip", 0, M_REQ, M_KEY, NULL },
	{ "socket", 0, M_REQ, M_KEY, NULL },
	{ "keepbcc", 0, M_OPT, M_KEY, "on" },
	{ "read-recipients", 't', M_NONE, M_READ_RCPTS, NULL },
	{ "read-envelope-from", 0, M_NONE, M_READ_ENVELOPE_FROM, NULL },
	{ NULL, 0, 0, 0, NULL }
};

/* -v: as -d, without its optional argument ("-vt" is -v -t). */
static const struct msmtp_opt msmtp_v = { "debug", 'v', M_NONE, M_DEBUG,
    NULL };

/* msmtp's sendmail-compatibility letters: "b:" is checked, -F is the
 * full name, the others are accepted and ignored (-i always holds). */
#define MSMTP_IGNORED_ARG	"ABhLOo"
#define MSMTP_IGNORED_FLAG	"Gimn"

static const struct msmtp_opt *
msmtp_find(const char *name, size_t len, int letter)
{
	const struct msmtp_opt	*m;

	for (m = msmtp_opts; m->name != NULL; m++)
		if (name != NULL ? strlen(m->name) == len &&
		    strncmp(m->name, name, len) == 0 : m->letter == letter &&
		    letter != 0)
			return m;
	return NULL;
}

/* One msmtp option; opt is how it was given ("--port", "-X"). */
static int
msmtp_handle(struct cli_opts *o, const struct msmtp_opt *m, const char *opt,
    const char *arg, struct error *err)
{
	const struct poptOption	*si;
	char			*key, *p;

	switch (m->what) {
	case M_KEY:
		key = xstrdup(m->name);
		for (p = key; *p != '\0'; p++)
			if (*p == '-')
				*p = '_';
		strlist_add(&o->settings, opt);
		strlist_add_owned(&o->settings, key);
		strlist_add(&o->settings, arg != NULL ? arg : m->absent);
		return 0;
	case M_VERSION:
		o->mode = CLI_VERSION;
		return 0;
	case M_HELP:
		o->mode = CLI_HELP;
		return 0;
	case M_CONFIGURE:
		return error_set(err, EX_USAGE, "msmtp's --configure is not "
		    "available: write the account into ~/.postierc (see "
		    "postie.conf(5))");
	case M_PRETEND:
		o->dry_run = 1;
		return 0;
	case M_DEBUG:
		/* msmtp prints the whole dialogue: postie's -vv */
		if (o->verbose < 2)
			o->verbose = 2;
		return 0;
	case M_SERVERINFO:
		/* postie's own --server-info, where this build has it */
		si = cli_find_long(cli_table, "server-info", 11);
		if (si != NULL && !cli_takes_arg(si))
			return cli_handle(o, si->val, NULL, err);
		return error_set(err, EX_USAGE, "msmtp's --serverinfo (-S) "
		    "is not available in this postie");
	case M_RMQS:
		return error_set(err, EX_USAGE, "msmtp's --rmqs is not "
		    "available: postie does not ask a server to run its "
		    "queue (ETRN)");
	case M_FILE:
		cli_replace(&o->config_file, xstrdup(arg));
		return 0;
	case M_ACCOUNT:
		if (o->new_account)
			return error_set(err, EX_USAGE, "cannot use both "
			    "--host and --account");
		cli_replace(&o->account, xstrdup(arg));
		return 0;
	case M_HOST:
		if (o->account != NULL)
			return error_set(err, EX_USAGE, "cannot use both "
			    "--host and --account");
		o->new_account = 1;
		strlist_add(&o->settings, opt);
		strlist_add(&o->settings, "host");
		strlist_add(&o->settings, arg);
		return 0;
	case M_FROM:
		if (o->read_envelope_from)
			return error_set(err, EX_USAGE, "cannot use both "
			    "--from and --read-envelope-from");
		if (arg[0] == '-')
			return error_set(err, EX_USAGE, "sender '%s' looks "
			    "like an option", arg);
		cli_replace(&o->sender, xstrdup(arg));
		return 0;
	case M_READ_RCPTS:
		o->extract_rcpts = 1;
		return 0;
	case M_READ_ENVELOPE_FROM:
		if (o->sender != NULL)
			return error_set(err, EX_USAGE, "cannot use both "
			    "--from and --read-envelope-from");
		o->read_envelope_from = 1;
		return 0;
	default:
		return error_set(err, EX_SOFTWARE, "msmtp option '%s' not "
		    "handled", opt);
	}
}

/* A short option letter of msmtp's sendmail compatibility. */
static int
msmtp_compat(struct cli_opts *o, int c, const char *arg, struct error *err)
{
	if (c == 'F') {
		cli_replace(&o->fullname, xstrdup(arg));
		return 0;
	}
	if (c == 'b') {
		if (strcmp(arg, "m") == 0)
			return 0;
		return error_set(err, EX_USAGE, "-b%s is not supported by "
		    "msmtp (nor by postie's msmtp face)", arg);
	}
	cli_ignore(o, c, arg != NULL ? arg : "");
	return 0;
}

int
msmtp_parse(struct cli_opts *o, int argc, char **argv, struct error *err)
{
	const struct msmtp_opt	*m;
	const char		*a, *eq, *arg;
	char			 opt[3] = { '-', '\0', '\0' };
	int			 i, j, c, rc = 0;

	o->msmtp = 1;
	o->ignore_dots = 1;	/* msmtp: a lone "." is data, always */
	for (i = 1; i < argc && rc == 0; i++) {
		a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-' || a[1] == '\0')
			break;		/* the first operand ends options */
		if (a[1] == '-') {
			eq = strchr(a + 2, '=');
			m = msmtp_find(a + 2, eq != NULL ? (size_t)(eq - a - 2) :
			    strlen(a + 2), 0);
			if (m == NULL) {
				rc = error_set(err, EX_USAGE, "unknown option "
				    "'%.*s'", eq != NULL ? (int)(eq - a) :
				    (int)strlen(a), a);
				break;
			}
			arg = eq != NULL ? eq + 1 : NULL;
			if (m->arg == M_NONE && arg != NULL) {
				rc = error_set(err, EX_USAGE, "option '--%s' "
				    "takes no argument", m->name);
				break;
			}
			if (m->arg == M_REQ && arg == NULL) {
				if (i + 1 >= argc) {
					rc = error_set(err, EX_USAGE, "option "
					    "'--%s' needs an argument", m->name);
					break;
				}
				arg = argv[++i];
			}
			{
				char *name = xasprintf("--%s", m->name);

				rc = msmtp_handle(o, m, name, arg, err);
				free(name);
			}
			continue;
		}
		for (j = 1; a[j] != '\0' && rc == 0; j++) {
			c = (unsigned char)a[j];
			opt[1] = (char)c;
			if (c == 'v') {		/* msmtp: -v is -d */
				rc = msmtp_handle(o, &msmtp_v, opt, NULL, err);
				continue;
			}
			m = msmtp_find(NULL, 0, c);
			if (m == NULL && strchr(MSMTP_IGNORED_FLAG, c) != NULL &&
			    c != '\0') {
				rc = msmtp_compat(o, c, NULL, err);
				continue;
			}
			if (m == NULL && strchr(MSMTP_IGNORED_ARG "bF", c) ==
			    NULL) {
				rc = error_set(err, EX_USAGE, "unknown option "
				    "'-%c'", c);
				break;
			}
			if (m != NULL && m->arg == M_NONE) {
				rc = msmtp_handle(o, m, opt, NULL, err);
				continue;
			}
			/* the rest of the word, or (required) the next */
			arg = a[j + 1] != '\0' ? a + j + 1 : NULL;
			if (arg == NULL && (m == NULL || m->arg == M_REQ)) {
				if (i + 1 >= argc) {
					rc = error_set(err, EX_USAGE, "option "
					    "'-%c' needs an argument", c);
					break;
				}
				arg = argv[++i];
			}
			rc = m != NULL ? msmtp_handle(o, m, opt, arg, err) :
			    msmtp_compat(o, c, arg, err);
			break;
		}
	}
	for (; rc == 0 && i < argc; i++)
		rc = cli_add_list(&o->rcpts, argv[i], "recipient", err);
	if (rc == 0 && o->mode == CLI_SEND && o->rcpts.n == 0 &&
	    !o->extract_rcpts)
		rc = error_set(err, EX_USAGE, "no recipients given and no -t");
	if (rc == 0 && o->mode == CLI_HELP)
		msmtp_help();
	if (rc != 0)
		cli_opts_release(o);
	return rc;
}

/* --help in the msmtp face. */
void
msmtp_help(void)
{
	const struct msmtp_opt	*m;
	size_t			 col = 2;

	printf("Usage: msmtp [option...] [--] recipient...\n"
	    "  or:  msmtp [option...] -t [--] [recipient...]\n"
	    "postie in msmtp's face: msmtp's options with msmtp's meanings; "
	    "a lone \".\" never\nends the message.  See postie(1), "
	    "MSMTP FACE.\nOptions:\n ");
	for (m = msmtp_opts; m->name != NULL; m++) {
		size_t	n = strlen(m->name) + 3 + (m->letter ? 4 : 0) +
			    (m->arg == M_REQ ? 2 : m->arg == M_OPT ? 4 : 0);

		if (col + n > 78) {
			printf("\n ");
			col = 2;
		}
		if (m->letter)
			printf(" -%c,", m->letter);
		printf(" --%s%s", m->name, m->arg == M_REQ ? "=X" :
		    m->arg == M_OPT ? "[=X]" : "");
		col += n;
	}
	printf("\nAccepted for sendmail compatibility: -bm -F NAME -i -v "
	    "-A -B -G -h -L -m -n -O -o\n");
}
