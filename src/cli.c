/*
 * The command line: popt tables for sendmail's options (accepted as
 * sendmail accepts them), mailx's compose options and postie's long
 * options, and the checks that keep an operand from acting as an option.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <popt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_int.h"
#include "error.h"
#include "mime.h"
#include "util.h"
#include "xmalloc.h"

/*
 * Values poptGetNextOpt() returns.  Short options use their letter; the
 * long-only ones start above any character so the two never meet.
 */
enum {
	OPT_ACCOUNT = 256,
	OPT_BCC,
	OPT_DRY_RUN,
	OPT_FLUSH,
	OPT_DUE,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
	OPT_HELP,
	OPT_JSON,
	OPT_QUEUE_DELETE,
	OPT_QUEUE_HOLD,
	OPT_QUEUE_RELEASE,
	OPT_USAGE,
	OPT_VERSION,
	OPT_REPLY_TO,
	OPT_HEADER,
	OPT_HTML,
	OPT_BODY,
	OPT_INLINE,
	OPT_CHARSET,
	OPT_IMPORT_CONFIG,
	OPT_OAUTH2_AUTHORIZE,
	OPT_SERVER_INFO,
	OPT_VERIFY,
	OPT_EXPAND,
	OPT_SERVER_HELP
};

/*
 * The longest argv we copy for the -q pre-pass.  Real callers pass a few
 * dozen words; the cap only bounds the allocation.
 */
#define CLI_MAX_ARGS	100000

/* Upper bound of long option names, for cli_long_options(). */
#define CLI_MAX_LONG	48

static const char *progname = "postie";	/* borrowed from argv[0] */
static char	 hint_name[64] = "postie";	/* a copy, for the hint */
static char	 usage_hint[128];

static int	 prepass(int, char **, const char ***, int *, struct strlist *,
		    struct error *);
static const struct poptOption *find_short(const struct poptOption *, int);
static int	 set_mode_b(struct cli_opts *, const char *, struct error *);
static int	 set_o(struct cli_opts *, const char *, struct error *);
static int	 set_errmode(struct cli_opts *, const char *);
static int	 bad_option(poptContext, int, struct error *);
static int	 diag_options(struct cli_opts *, struct error *);
static char	*synopsis(void);
static void	 print_usage(poptContext);
static void	 long_names(const struct poptOption *, const char **, size_t *);

/*
 * Sendmail's own options.  Which letters exist and which are ignored
 * follows Postfix sendmail(1) (src/sendmail/sendmail.c GETOPT_LIST) and
 * OpenSMTPD enqueue.c; -C and --config are the same option.
 */
static struct poptOption sendmail_table[] = {
	{ NULL, 't', POPT_ARG_NONE, NULL, 't',
	  "read recipients from the To, Cc and Bcc headers", NULL },
	{ NULL, 'i', POPT_ARG_NONE, NULL, 'i',
	  "a line holding a single dot does not end the message", NULL },
	{ NULL, 'f', POPT_ARG_STRING, NULL, 'f',
	  "envelope sender ('' or '<>' for the null sender)", "ADDR" },
	{ "from", 'r', POPT_ARG_STRING, NULL, 'r',
	  "envelope sender, as -f", "ADDR" },
	{ NULL, 'F', POPT_ARG_STRING, NULL, 'F',
	  "full name for a From header that postie adds", "NAME" },
	{ "verbose", 'v', POPT_ARG_NONE, NULL, 'v',
	  "trace the delivery on stderr (repeat for more)", NULL },
	{ "config", 'C', POPT_ARG_STRING, NULL, 'C',
	  "read this configuration file", "FILE" },
	{ NULL, 'b', POPT_ARG_STRING, NULL, 'b',
	  "-bm send (default), -bs SMTP on stdin, -bp list the queue, "
	  "-bi newaliases; a value longer than one letter is a Bcc address",
	  "MODE|ADDR" },
	{ NULL, 'q', POPT_ARG_STRING | POPT_ARGFLAG_OPTIONAL, NULL, 'q',
	  "flush the queue; ARG is glued to -q, as in sendmail "
	  "(-qf, -q30m, -qIid, -qRsite: passed on)", "ARG" },
	{ NULL, 'o', POPT_ARG_STRING, NULL, 'o',
	  "-oi as -i, -oeX error mode, -odX delivery mode; "
	  "other -oX ignored", "X" },
	{ NULL, 'e', POPT_ARG_STRING, NULL, 'e',
	  "error mode, as -oeX", "X" },
	{ NULL, 'I', POPT_ARG_NONE, NULL, 'I',
	  "initialise the aliases, as -bi", NULL },
	{ NULL, 'X', POPT_ARG_STRING, NULL, 'X',
	  "append the delivery log line to FILE (the 'logfile' key)",
	  "FILE" },
	POPT_TABLEEND
};

/*
 * Accepted so that existing callers keep working, recorded in
 * cli_opts.ignored, and otherwise without effect; except -X, the
 * transaction log: postie appends its log line to that file (the
 * "logfile" key; log.c writes no "<?" or "<%" into it, so a PHPMailer
 * style -X/var/www/x.php injection cannot plant code).
 */
static struct poptOption ignored_table[] = {
	{ NULL, 'A', POPT_ARG_STRING, NULL, 'A',
	  "submission type (-Am, -Ac)", "X" },
	{ NULL, 'B', POPT_ARG_STRING, NULL, 'B',
	  "body type (7BIT, 8BITMIME)", "TYPE" },
	{ NULL, 'G', POPT_ARG_NONE, NULL, 'G', "gateway submission", NULL },
	{ NULL, 'h', POPT_ARG_STRING, NULL, 'h', "hop count", "N" },
	{ NULL, 'L', POPT_ARG_STRING, NULL, 'L', "syslog label", "TAG" },
	{ NULL, 'm', POPT_ARG_NONE, NULL, 'm', "me too", NULL },
	{ NULL, 'N', POPT_ARG_STRING, NULL, 'N', "DSN notify", "DSN" },
	{ NULL, 'n', POPT_ARG_NONE, NULL, 'n', "no aliasing", NULL },
	{ NULL, 'O', POPT_ARG_STRING, NULL, 'O', "sendmail option",
	  "OPT=VAL" },
	{ NULL, 'p', POPT_ARG_STRING, NULL, 'p', "received protocol",
	  "PROTO" },
	{ NULL, 'R', POPT_ARG_STRING, NULL, 'R', "DSN return", "RET" },
	{ NULL, 'U', POPT_ARG_NONE, NULL, 'U', "initial submission", NULL },
	{ NULL, 'V', POPT_ARG_STRING, NULL, 'V', "DSN envelope id",
	  "ENVID" },
	POPT_TABLEEND
};

/* mailx's compose options; the compose mode uses them. */
static struct poptOption compose_table[] = {
	{ "subject", 's', POPT_ARG_STRING, NULL, 's', "subject",
	  "SUBJECT" },
	{ "attach", 'a', POPT_ARG_STRING, NULL, 'a',
	  "attach a file (repeatable)", "FILE" },
	{ "cc", 'c', POPT_ARG_STRING, NULL, 'c',
	  "carbon copy (repeatable)", "ADDR" },
	{ "bcc", '\0', POPT_ARG_STRING, NULL, OPT_BCC,
	  "blind carbon copy (repeatable; also -b ADDR)", "ADDR" },
	{ "reply-to", '\0', POPT_ARG_STRING, NULL, OPT_REPLY_TO,
	  "Reply-To address", "ADDR" },
	{ "header", '\0', POPT_ARG_STRING, NULL, OPT_HEADER,
	  "add a header field (repeatable)", "'NAME: VALUE'" },
	{ "html", '\0', POPT_ARG_STRING, NULL, OPT_HTML,
	  "HTML version of the text (alone: HTML only)", "FILE" },
	{ "body", '\0', POPT_ARG_STRING, NULL, OPT_BODY,
	  "read the text from FILE instead of stdin", "FILE" },
	{ "inline", '\0', POPT_ARG_STRING, NULL, OPT_INLINE,
	  "a file the HTML shows, as cid:NAME (repeatable)", "FILE" },
	{ "charset", '\0', POPT_ARG_STRING, NULL, OPT_CHARSET,
	  "charset of the text when it is not UTF-8", "NAME" },
	POPT_TABLEEND
};

static struct poptOption postie_table[] = {
	{ "account", '\0', POPT_ARG_STRING, NULL, OPT_ACCOUNT,
	  "use this account of the configuration", "NAME" },
	{ "dry-run", '\0', POPT_ARG_NONE, NULL, OPT_DRY_RUN,
	  "do everything but send", NULL },
	{ "json", '\0', POPT_ARG_NONE, NULL, OPT_JSON,
	  "print the result as JSON", NULL },
	{ "flush", '\0', POPT_ARG_NONE, NULL, OPT_FLUSH,
	  "flush the queue, as -q", NULL },
	{ "progress", '\0', POPT_ARG_NONE, NULL, OPT_PROGRESS,
	  "show the upload's progress (default: on a terminal, over 4 MiB)",
	  NULL },
	{ "no-progress", '\0', POPT_ARG_NONE, NULL, OPT_NO_PROGRESS,
	  "never show the upload's progress", NULL },
	{ "due", '\0', POPT_ARG_NONE, NULL, OPT_DUE,
	  "with -q: only entries whose retry time has come, none held "
	  "(the timer's form)", NULL },
	{ "queue-delete", '\0', POPT_ARG_STRING, NULL, OPT_QUEUE_DELETE,
	  "remove a message from the queue", "ID" },
	{ "queue-hold", '\0', POPT_ARG_STRING, NULL, OPT_QUEUE_HOLD,
	  "keep a queued message from being sent", "ID" },
	{ "queue-release", '\0', POPT_ARG_STRING, NULL, OPT_QUEUE_RELEASE,
	  "send a held message with the next flush", "ID" },
	{ "import-config", '\0', POPT_ARG_STRING, NULL, OPT_IMPORT_CONFIG,
	  "print a postie.conf made from ssmtp's, nullmailer's or dma's "
	  "configuration (operand: its file or directory)", "FORMAT" },
	{ "oauth2-authorize", '\0', POPT_ARG_STRING, NULL,
	  OPT_OAUTH2_AUTHORIZE, "get the account's first OAuth2 refresh "
	  "token (device code flow) into its oauth2_token_file", "ACCOUNT" },
	{ "server-info", '\0', POPT_ARG_NONE, NULL, OPT_SERVER_INFO,
	  "connect with the account's settings and show what the relay "
	  "offers (TLS, certificates, AUTH) and whether the login works; "
	  "sends no mail", NULL },
	{ "serverinfo", '\0', POPT_ARG_NONE, NULL,
	  OPT_SERVER_INFO, "as --server-info (msmtp's spelling)", NULL },
	{ "verify", '\0', POPT_ARG_STRING, NULL, OPT_VERIFY,
	  "ask the relay whether it knows an address (VRFY)", "ADDR" },
	{ "expand", '\0', POPT_ARG_STRING, NULL, OPT_EXPAND,
	  "ask the relay to expand a mailing list (EXPN)", "LIST" },
	{ "server-help", '\0', POPT_ARG_NONE, NULL, OPT_SERVER_HELP,
	  "show the relay's HELP text (operand: a topic)", NULL },
	{ "help", '\0', POPT_ARG_NONE, NULL, OPT_HELP,
	  "show this help", NULL },
	{ "usage", '\0', POPT_ARG_NONE, NULL, OPT_USAGE,
	  "show a short usage message", NULL },
	{ "version", '\0', POPT_ARG_NONE, NULL, OPT_VERSION,
	  "show the version", NULL },
	POPT_TABLEEND
};

struct poptOption cli_table[] = {
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, sendmail_table, 0,
	  "Sendmail options:", NULL },
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, ignored_table, 0,
	  "Accepted and ignored (sendmail compatibility):", NULL },
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, compose_table, 0,
	  "Compose options (mailx):", NULL },
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, postie_table, 0,
	  "postie options:", NULL },
	POPT_TABLEEND
};

int
cli_parse(struct cli_opts *o, int argc, char **argv, struct error *err)
{
	struct strlist	 owned = STRLIST_INIT;
	poptContext	 con = NULL;
	const char	**av = NULL;
	const char	*const *rest;
	char		*arg, *other = NULL;
	const char	*slash;
	int		 ac = 0, rc = -1, i, done = 0;

	memset(o, 0, sizeof(*o));
	o->progress = -1;
	progname = "postie";
	if (argc > 0 && argv[0] != NULL && argv[0][0] != '\0') {
		slash = strrchr(argv[0], '/');
		progname = slash != NULL && slash[1] != '\0' ? slash + 1 :
		    argv[0];
	}
	o->progname = progname;
	o->argv0 = argc > 0 && argv[0] != NULL && argv[0][0] != '\0' ?
	    argv[0] : "postie";
	snprintf(hint_name, sizeof(hint_name), "%s", progname);
	if (strcmp(progname, "mailq") == 0)
		o->mode = CLI_QUEUE_LIST;
	else if (strcmp(progname, "newaliases") == 0)
		o->mode = CLI_NEWALIASES;
	else if (strcmp(progname, "msmtp") == 0)
		return msmtp_parse(o, argc, argv, err);

	if (prepass(argc, argv, &av, &ac, &owned, err) == -1)
		goto fail;

	/*
	 * POSIXMEHARDER: options end at the first operand, as in Postfix
	 * (getopt with "+"), so a recipient list cannot smuggle "-C file".
	 * NO_EXEC, and no poptReadDefaultConfig(): ~/.popt must not add
	 * aliases or run programs inside /usr/sbin/sendmail.
	 */
	con = poptGetContext("postie", ac, av, cli_table,
	    POPT_CONTEXT_POSIXMEHARDER | POPT_CONTEXT_NO_EXEC);
	other = synopsis();
	poptSetOtherOptionHelp(con, other);

	while (!done && (rc = poptGetNextOpt(con)) > 0) {
		arg = poptGetOptArg(con);
		switch (rc) {
		case OPT_HELP:
			poptPrintHelp(con, stdout, 0);
			o->mode = CLI_HELP;
			done = 1;
			break;
		case OPT_USAGE:
			poptSetOtherOptionHelp(con, "[--] [recipient...]");
			print_usage(con);
			o->mode = CLI_USAGE;
			done = 1;
			break;
		case OPT_VERSION:
			o->mode = CLI_VERSION;
			done = 1;
			break;
		default:
			if (cli_handle(o, rc, arg, err) == -1) {
				free(arg);
				goto fail;
			}
			break;
		}
		free(arg);
	}
	if (done)
		goto out;
	if (rc < -1) {
		bad_option(con, rc, err);
		goto fail;
	}

	/*
	 * Operands are recipients.  cron's MAILTO="a, b" arrives as one
	 * word, so split at commas; addr.c validates each piece later.
	 */
	rest = (const char *const *)poptGetArgs(con);
	for (i = 0; rest != NULL && rest[i] != NULL; i++)
		if (cli_add_list(&o->rcpts, rest[i], "recipient", err) == -1)
			goto fail;
	if (o->due && o->mode != CLI_QUEUE_RUN) {
		error_set(err, EX_USAGE, "--due goes with -q (postie -q "
		    "--due)");
		goto fail;
	}

	switch (o->mode) {
	case CLI_SEND:
		if (o->rcpts.n == 0 && o->cc.n == 0 && o->bcc.n == 0 &&
		    !o->extract_rcpts) {
			error_set(err, EX_USAGE,
			    "no recipients given and no -t");
			goto fail;
		}
		break;
	case CLI_SMTP:
		/* the envelope comes from MAIL and RCPT */
		if (o->rcpts.n > 0 || o->compose) {
			error_set(err, EX_USAGE, "-bs takes no recipients "
			    "or compose options: the SMTP dialogue gives "
			    "the envelope");
			goto fail;
		}
		break;
	case CLI_IMPORT_CONFIG:
		if (o->rcpts.n > 1) {
			error_set(err, EX_USAGE, "--import-config takes one "
			    "file or directory, not '%s'", o->rcpts.v[1]);
			goto fail;
		}
		break;
	case CLI_SERVER_INFO:
	case CLI_VERIFY:
	case CLI_EXPAND:
	case CLI_SERVER_HELP:
		if (diag_options(o, err) == -1)
			goto fail;
		break;
	case CLI_OAUTH2_AUTHORIZE:
		if (o->rcpts.n > 0) {
			error_set(err, EX_USAGE, "unexpected operand '%s' with "
			    "--oauth2-authorize", o->rcpts.v[0]);
			goto fail;
		}
		break;
	case CLI_QUEUE_LIST:
	case CLI_QUEUE_RUN:
	case CLI_QUEUE_DELETE:
	case CLI_QUEUE_HOLD:
	case CLI_QUEUE_RELEASE:
	case CLI_NEWALIASES:
		if (o->rcpts.n > 0 && o->mode == CLI_QUEUE_RUN &&
		    o->queue_arg == NULL && (isdigit((unsigned char)
		    o->rcpts.v[0][0]) || strcmp(o->rcpts.v[0], "f") == 0)) {
			/* "-q 30m": sendmail's argument is glued */
			error_set(err, EX_USAGE, "unexpected recipient '%s' "
			    "with -q: write the argument glued to it, as "
			    "sendmail does: -q%s", o->rcpts.v[0],
			    o->rcpts.v[0]);
			goto fail;
		} else if (o->rcpts.n > 0) {
			error_set(err, EX_USAGE, "unexpected recipient '%s' "
			    "with %s", o->rcpts.v[0],
			    o->mode == CLI_QUEUE_RUN ? "-q" :
			    o->mode == CLI_QUEUE_LIST ? "-bp" :
			    o->mode == CLI_NEWALIASES ? "-bi" :
			    "--queue-delete/-hold/-release");
			goto fail;
		}
		break;
	default:
		break;
	}

out:
	poptFreeContext(con);
	free(other);
	free(av);
	strlist_release(&owned);
	return 0;

fail:
	if (con != NULL)
		poptFreeContext(con);
	free(other);
	free(av);
	strlist_release(&owned);
	cli_opts_release(o);
	return -1;
}

void
cli_compose_opts(const struct cli_opts *o, struct compose_opts *co)
{
	co->subject = o->subject;
	co->reply_to = o->reply_to;
	co->html = o->html;
	co->body_file = o->body_file;
	co->charset = o->charset;
	co->rcpts = &o->rcpts;
	co->cc = &o->cc;
	co->bcc = &o->bcc;
	co->attach = &o->attach;
	co->inlines = &o->inlines;
	co->headers = &o->headers;
}

void
cli_opts_release(struct cli_opts *o)
{
	if (o == NULL)
		return;
	free(o->sender);
	free(o->fullname);
	free(o->config_file);
	free(o->errmode);
	free(o->delivery);
	free(o->queue_arg);
	free(o->queue_id);
	free(o->import_format);
	free(o->diag_arg);
	free(o->subject);
	strlist_release(&o->attach);
	strlist_release(&o->cc);
	strlist_release(&o->bcc);
	free(o->reply_to);
	strlist_release(&o->headers);
	free(o->html);
	free(o->body_file);
	strlist_release(&o->inlines);
	free(o->charset);
	free(o->account);
	strlist_release(&o->rcpts);
	strlist_release(&o->ignored);
	strlist_release(&o->settings);
	memset(o, 0, sizeof(*o));
}

const char *
cli_usage_hint(void)
{
	snprintf(usage_hint, sizeof(usage_hint),
	    "try '%s --help' for more information", hint_name);
	return usage_hint;
}

const char *const *
cli_long_options(void)
{
	static const char	*names[CLI_MAX_LONG + 1];
	size_t			 n = 0;

	long_names(cli_table, names, &n);
	names[n] = NULL;
	return names;
}

static void
long_names(const struct poptOption *t, const char **names, size_t *n)
{
	for (; t->longName != NULL || t->shortName != '\0' ||
	    t->arg != NULL; t++) {
		if ((t->argInfo & POPT_ARG_MASK) == POPT_ARG_INCLUDE_TABLE)
			long_names(t->arg, names, n);
		else if (t->longName != NULL && *n < CLI_MAX_LONG)
			names[(*n)++] = t->longName;
	}
}

/*
 * popt gives an optional argument the next word when the option stands
 * alone ("-q root" would flush "root"), but sendmail's bare -q takes none
 * (Postfix matches "-q" exactly before getopt).  Copy argv, turning a
 * bare -q into --flush; the scan follows popt's own rules so that a word
 * that is another option's argument ("-F -q") is left alone.
 */
static int
prepass(int argc, char **argv, const char ***avp, int *acp,
    struct strlist *owned, struct error *err)
{
	const struct poptOption	*opt = NULL;
	const char		**av;
	const char		*a, *eq;
	int			 i, j, ac = 0, opts = 1;

	if (argc < 0 || argc > CLI_MAX_ARGS)
		return error_set(err, EX_USAGE, "too many arguments (%d)",
		    argc);
	/* each word gives at most two, plus argv[0] and the NULL */
	av = xreallocarray(NULL, (size_t)argc * 2 + 2, sizeof(*av));
	av[ac++] = argc > 0 && argv[0] != NULL ? argv[0] : "postie";
	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (!opts || a[0] != '-' || a[1] == '\0' ||
		    strcmp(a, "--") == 0) {
			/* POSIXMEHARDER: the first operand ends options */
			opts = 0;
			av[ac++] = a;
			continue;
		}
		if (a[1] == '-') {
			eq = strchr(a + 2, '=');
			opt = cli_find_long(cli_table, a + 2,
			    eq != NULL ? (size_t)(eq - a - 2) : strlen(a + 2));
			av[ac++] = a;
			if (opt != NULL && eq == NULL && cli_takes_arg(opt) &&
			    i + 1 < argc)
				av[ac++] = argv[++i];
			continue;
		}
		for (j = 1; a[j] != '\0'; j++) {
			opt = find_short(cli_table, (unsigned char)a[j]);
			if (opt == NULL || cli_takes_arg(opt))
				break;
		}
		if (opt != NULL && a[j] == 'q' && a[j + 1] == '\0') {
			if (j > 1) {
				strlist_add_owned(owned, xstrndup(a, j));
				av[ac++] = owned->v[owned->n - 1];
			}
			av[ac++] = "--flush";
			continue;
		}
		av[ac++] = a;
		if (opt != NULL && a[j] != '\0' && a[j + 1] == '\0' &&
		    !(opt->argInfo & POPT_ARGFLAG_OPTIONAL) && i + 1 < argc)
			av[ac++] = argv[++i];
	}
	av[ac] = NULL;
	*avp = av;
	*acp = ac;
	return 0;
}

static const struct poptOption *
find_short(const struct poptOption *t, int c)
{
	const struct poptOption	*r;

	for (; t->longName != NULL || t->shortName != '\0' ||
	    t->arg != NULL; t++) {
		if ((t->argInfo & POPT_ARG_MASK) == POPT_ARG_INCLUDE_TABLE) {
			if ((r = find_short(t->arg, c)) != NULL)
				return r;
		} else if (t->shortName != '\0' && t->shortName == c)
			return t;
	}
	return NULL;
}

const struct poptOption *
cli_find_long(const struct poptOption *t, const char *name, size_t len)
{
	const struct poptOption	*r;

	for (; t->longName != NULL || t->shortName != '\0' ||
	    t->arg != NULL; t++) {
		if ((t->argInfo & POPT_ARG_MASK) == POPT_ARG_INCLUDE_TABLE) {
			if ((r = cli_find_long(t->arg, name, len)) != NULL)
				return r;
		} else if (t->longName != NULL &&
		    strlen(t->longName) == len &&
		    strncmp(t->longName, name, len) == 0)
			return t;
	}
	return NULL;
}

int
cli_takes_arg(const struct poptOption *opt)
{
	return (opt->argInfo & POPT_ARG_MASK) != POPT_ARG_NONE;
}

/* One option from poptGetNextOpt(); arg is borrowed (NULL for none). */
int
cli_handle(struct cli_opts *o, int c, char *arg, struct error *err)
{
	switch (c) {
	case 't':
		o->extract_rcpts = 1;
		break;
	case 'i':
		o->ignore_dots = 1;
		break;
	case 'f':
	case 'r':
		/* Postfix sendmail(1) SECURITY: "-f -bv" is no sender */
		if (arg[0] == '-')
			return error_set(err, EX_USAGE, "sender '%s' looks "
			    "like an option", arg);
		cli_replace(&o->sender, xstrdup(arg));
		break;
	case 'F':
		cli_replace(&o->fullname, xstrdup(arg));
		break;
	case 'v':
		o->verbose++;
		break;
	case 'C':
		cli_replace(&o->config_file, xstrdup(arg));
		break;
	case 'b':
		return set_mode_b(o, arg, err);
	case 'q':
		o->mode = CLI_QUEUE_RUN;
		cli_replace(&o->queue_arg, arg != NULL && arg[0] != '\0' ?
		    xstrdup(arg) : NULL);
		break;
	case OPT_FLUSH:
		o->mode = CLI_QUEUE_RUN;
		cli_replace(&o->queue_arg, NULL);
		break;
	case OPT_DUE:
		o->due = 1;
		break;
	case OPT_PROGRESS:
	case OPT_NO_PROGRESS:
		o->progress = c == OPT_PROGRESS;
		break;
	case 'o':
		return set_o(o, arg, err);
	case 'e':
		if (set_errmode(o, arg) == 0)
			cli_ignore(o, c, arg);
		break;
	case 'I':
		o->mode = CLI_NEWALIASES;
		break;
	case 'A':
	case 'B':
	case 'h':
	case 'L':
	case 'N':
	case 'O':
	case 'p':
	case 'R':
	case 'V':
		cli_ignore(o, c, arg);
		break;
	case 'X':
		/* sendmail's and msmtp's transaction log: the log line */
		strlist_add(&o->settings, "-X");
		strlist_add(&o->settings, "logfile");
		strlist_add(&o->settings, arg);
		break;
	case 'G':
	case 'm':
	case 'n':
	case 'U':
		cli_ignore(o, c, "");
		break;
	case 's':
		o->compose = 1;
		cli_replace(&o->subject, xstrdup(arg));
		break;
	case 'a':
		o->compose = 1;
		strlist_add(&o->attach, arg);
		break;
	case 'c':
		o->compose = 1;
		return cli_add_list(&o->cc, arg, "cc address", err);
	case OPT_BCC:
		o->compose = 1;
		return cli_add_list(&o->bcc, arg, "bcc address", err);
	case OPT_REPLY_TO:
		o->compose = 1;
		cli_replace(&o->reply_to, xstrdup(arg));
		break;
	case OPT_HEADER:
		o->compose = 1;
		strlist_add(&o->headers, arg);
		break;
	case OPT_HTML:
		o->compose = 1;
		cli_replace(&o->html, xstrdup(arg));
		break;
	case OPT_BODY:
		o->compose = 1;
		cli_replace(&o->body_file, xstrdup(arg));
		break;
	case OPT_INLINE:
		o->compose = 1;
		strlist_add(&o->inlines, arg);
		break;
	case OPT_CHARSET:
		o->compose = 1;
		cli_replace(&o->charset, xstrdup(arg));
		break;
	case OPT_ACCOUNT:
		cli_replace(&o->account, xstrdup(arg));
		break;
	case OPT_DRY_RUN:
		o->dry_run = 1;
		break;
	case OPT_JSON:
		o->json = 1;
		break;
	case OPT_OAUTH2_AUTHORIZE:
		o->mode = CLI_OAUTH2_AUTHORIZE;
		cli_replace(&o->account, xstrdup(arg));
		break;
	case OPT_SERVER_INFO:
	case OPT_SERVER_HELP:
		/* The last mode wins; an earlier --verify's address is not
		 * this one's argument. */
		o->mode = c == OPT_SERVER_INFO ? CLI_SERVER_INFO :
		    CLI_SERVER_HELP;
		cli_replace(&o->diag_arg, NULL);
		break;
	case OPT_VERIFY:
	case OPT_EXPAND:
		o->mode = c == OPT_VERIFY ? CLI_VERIFY : CLI_EXPAND;
		if (arg[0] == '\0' || str_has_crlf(arg))
			return error_set(err, EX_USAGE, "--%s needs an %s "
			    "without CR or LF", c == OPT_VERIFY ? "verify" :
			    "expand", c == OPT_VERIFY ? "address" : "list name");
		cli_replace(&o->diag_arg, xstrdup(arg));
		break;
	case OPT_IMPORT_CONFIG:
		o->mode = CLI_IMPORT_CONFIG;
		cli_replace(&o->import_format, xstrdup(arg));
		break;
	case OPT_QUEUE_DELETE:
	case OPT_QUEUE_HOLD:
	case OPT_QUEUE_RELEASE:
		o->mode = c == OPT_QUEUE_DELETE ? CLI_QUEUE_DELETE :
		    c == OPT_QUEUE_HOLD ? CLI_QUEUE_HOLD : CLI_QUEUE_RELEASE;
		cli_replace(&o->queue_id, xstrdup(arg));
		break;
	default:
		return error_set(err, EX_SOFTWARE, "option value %d not "
		    "handled", c);
	}
	return 0;
}

/*
 * -b is sendmail's mode and mailx's Bcc.  A one-letter value is a mode
 * ("-bm", "-b p"); anything longer is an address ("-bx@y", "-b root").
 */
static int
set_mode_b(struct cli_opts *o, const char *v, struct error *err)
{
	if (v[0] == '\0')
		return error_set(err, EX_USAGE,
		    "option '-b' needs an argument");
	if (v[1] != '\0') {
		o->compose = 1;
		return cli_add_list(&o->bcc, v, "bcc address", err);
	}
	switch (v[0]) {
	case 'm':
		o->mode = CLI_SEND;
		return 0;
	case 'p':
		o->mode = CLI_QUEUE_LIST;
		return 0;
	case 'i':
		o->mode = CLI_NEWALIASES;
		return 0;
	case 's':	/* SMTP on stdin */
		o->mode = CLI_SMTP;
		return 0;
	case 'a':	/* ARPANET mode */
	case 'D':	/* daemon, foreground */
	case 'd':	/* daemon */
	case 'H':	/* purge host status */
	case 'h':	/* print host status */
	case 'l':	/* daemon, loopback */
	case 'P':	/* shared memory queue counts */
	case 't':	/* address test mode */
	case 'v':	/* verify addresses */
		return error_set(err, EX_USAGE,
		    "-b%c is not supported by postie", v[0]);
	default:
		return error_set(err, EX_USAGE, "unknown mode '-b%c'", v[0]);
	}
}

/*
 * -oX: sendmail's one-letter options.  -oi, -oeX and -odX mean
 * something to postie; every other one is recorded and ignored
 * (including -oQ, the queue directory).
 */
static int
set_o(struct cli_opts *o, const char *v, struct error *err)
{
	if (v[0] == '\0')
		return error_set(err, EX_USAGE,
		    "option '-o' needs an argument");
	if (strcmp(v, "i") == 0) {
		o->ignore_dots = 1;
		return 0;
	}
	if (v[0] == 'e' && set_errmode(o, v + 1) == 1)
		return 0;
	if (v[0] == 'd' && v[1] != '\0' && v[2] == '\0' &&
	    strchr("ibqd", v[1]) != NULL) {
		cli_replace(&o->delivery, xstrndup(v + 1, 1));
		return 0;
	}
	cli_ignore(o, 'o', v);
	return 0;
}

/* Returns 1 when v is one error-mode letter (m e p q w) and was set. */
static int
set_errmode(struct cli_opts *o, const char *v)
{
	if (v[0] == '\0' || v[1] != '\0' || strchr("mepqw", v[0]) == NULL)
		return 0;
	cli_replace(&o->errmode, xstrndup(v, 1));
	return 1;
}

/*
 * Split s at commas, trim each piece, drop empty ones and add the rest.
 * A piece that starts with '-' is refused: Postfix sendmail(1) SECURITY,
 * an address from a user must never become an option.
 */
int
cli_add_list(struct strlist *l, const char *s, const char *what,
    struct error *err)
{
	char	*copy, *p, *piece, *next;

	copy = xstrdup(s);
	for (p = copy; p != NULL; p = next) {
		next = strchr(p, ',');
		if (next != NULL)
			*next++ = '\0';
		piece = str_trim(p);
		if (*piece == '\0')
			continue;
		if (*piece == '-') {
			error_set(err, EX_USAGE, "%s '%s' looks like an "
			    "option", what, piece);
			free(copy);
			return -1;
		}
		strlist_add(l, piece);
	}
	free(copy);
	return 0;
}

/*
 * The diagnostics send nothing, so "-a NAME" names the account there, as
 * in msmtp (msmtp --serverinfo -a gmail), and not a file to attach; any
 * other compose option is a mistake.  --server-help takes an optional
 * topic as its operand; the others none.
 */
static int
diag_options(struct cli_opts *o, struct error *err)
{
	const char	*name = o->mode == CLI_SERVER_INFO ? "--server-info" :
			    o->mode == CLI_VERIFY ? "--verify" :
			    o->mode == CLI_EXPAND ? "--expand" : "--server-help";

	if (o->attach.n == 1 && o->account == NULL) {
		o->account = xstrdup(o->attach.v[0]);
		strlist_release(&o->attach);
		o->compose = o->subject != NULL || o->cc.n > 0 ||
		    o->bcc.n > 0 || o->reply_to != NULL || o->headers.n > 0 ||
		    o->html != NULL || o->body_file != NULL ||
		    o->inlines.n > 0 || o->charset != NULL;
	}
	if (o->json || o->dry_run)
		return error_set(err, EX_USAGE, "%s does not take %s",
		    name, o->json ? "--json" : "--dry-run");
	if (o->compose || o->attach.n > 0)
		return error_set(err, EX_USAGE, "%s sends no mail: it takes "
		    "no compose options (-a NAME, as in msmtp, names the "
		    "account)", name);
	if (o->mode == CLI_SERVER_HELP && o->rcpts.n == 1) {
		cli_replace(&o->diag_arg, xstrdup(o->rcpts.v[0]));
		strlist_release(&o->rcpts);
	}
	if (o->rcpts.n > 0)
		return error_set(err, EX_USAGE, "unexpected operand '%s' with "
		    "%s", o->rcpts.v[0], name);
	return 0;
}

static int
bad_option(poptContext con, int rc, struct error *err)
{
	const char	*bad = poptBadOption(con, POPT_BADOPTION_NOALIAS);
	const char	*p;
	char		 letter[3] = { '-', '\0', '\0' };

	if (bad == NULL)
		bad = "?";
	if (rc == POPT_ERROR_NOARG)
		return error_set(err, EX_USAGE,
		    "option '%s' needs an argument", bad);
	if (rc == POPT_ERROR_BADOPT) {
		/* name the letter in a cluster: "-tk" is "-k" */
		if (bad[0] == '-' && bad[1] != '-' && bad[1] != '\0') {
			for (p = bad + 1; *p != '\0'; p++)
				if (find_short(cli_table, (unsigned char)*p) ==
				    NULL)
					break;
			if (*p != '\0') {
				letter[1] = *p;
				bad = letter;
			}
		}
		return error_set(err, EX_USAGE, "unknown option '%s'", bad);
	}
	return error_set(err, EX_USAGE, "option '%s': %s", bad,
	    poptStrerror(rc));
}

/* Record an accepted-and-ignored option as "-Xvalue". */
void
cli_ignore(struct cli_opts *o, int c, const char *v)
{
	strlist_add_owned(&o->ignored, xasprintf("-%c%s", c,
	    v != NULL ? v : ""));
}

void
cli_replace(char **field, char *v)
{
	free(*field);
	*field = v;
}

/* The text after "Usage: PROG": one SYNOPSIS line per face. */
/*
 * popt 1.19 lists each short-only flag twice in its usage: once in the
 * "[-tivIGmnU]" cluster and once alone ("[-t]").  Print its text without
 * the lone copies.
 */
static void
print_usage(poptContext con)
{
	char	*text = NULL, *p, *q, *cluster = NULL;
	size_t	 len = 0, n;
	FILE	*f;

	if ((f = open_memstream(&text, &len)) == NULL) {
		poptPrintUsage(con, stdout, 0);
		return;
	}
	poptPrintUsage(con, f, 0);
	fclose(f);
	if ((p = strstr(text, " [-")) != NULL && p[3] != '-') {
		n = strcspn(p + 3, "]");
		cluster = xstrndup(p + 3, n);
	}
	for (p = text; cluster != NULL && (p = strstr(p, " [-")) != NULL;) {
		/* a lone flag "[-x]" whose letter the cluster holds */
		if (p[3] != '\0' && p[3] != '-' && p[4] == ']' &&
		    strchr(cluster, p[3]) != NULL && p != strstr(text, " [-")) {
			q = p + 5;
			memmove(p, q, strlen(q) + 1);
			continue;
		}
		p += 3;
	}
	/* a flag shown with its long name ("[-v|--verbose]") leaves the
	 * cluster: each option is listed once */
	if (cluster != NULL && (p = strstr(text, " [-")) != NULL) {
		char	 pat[5] = { '[', '-', '\0', '|', '\0' };

		p += 3;
		for (q = p; *q != ']' && *q != '\0';) {
			pat[2] = *q;
			if (strstr(text, pat) != NULL)
				memmove(q, q + 1, strlen(q + 1) + 1);
			else
				q++;
		}
	}
	/* sendmail's -q takes its argument glued: -q30m, not -q 30m */
	if ((p = strstr(text, "[-q ARG]")) != NULL) {
		fwrite(text, 1, (size_t)(p - text), stdout);
		fputs("[-q[ARG]]", stdout);
		fputs(p + 8, stdout);
	} else
		fputs(text, stdout);
	free(cluster);
	free(text);
}

static char *
synopsis(void)
{
	return xasprintf("[-iv] [-f sender] [-F name] [-o option]... "
	    "[--] recipient...\n"
	    "  or:  %s -t [-iv] [-f sender] [-F name] < message\n"
	    "  or:  %s -s subject [-a file]... [-c addr]... [-b addr]... "
	    "recipient...\n"
	    "  or:  %s -bs [-i] [-odX] [-oeX]\n"
	    "  or:  %s -bp | mailq\n"
	    "  or:  %s -q[arg] | %s --flush\n"
	    "  or:  %s -bi | newaliases\n"
	    "  or:  %s --server-info | --verify addr | --expand list | "
	    "--server-help [topic] [--account name]",
	    progname, progname, progname, progname, progname, progname,
	    progname, progname);
}
