/*
 * The command line: sendmail's options as sendmail accepts them, mailx's
 * compose options, and postie's own long options.  The only module that
 * includes <popt.h>.
 */
#ifndef POSTIE_CLI_H
#define POSTIE_CLI_H

#include "util.h"

struct compose_opts;
struct error;

enum cli_mode {
	CLI_SEND = 0,		/* -bm, the default: deliver a message */
	CLI_SMTP,		/* -bs: SMTP on stdin/stdout */
	CLI_QUEUE_LIST,		/* -bp, mailq: list the queue */
	CLI_QUEUE_RUN,		/* -q, --flush: flush the queue */
	CLI_QUEUE_DELETE,	/* --queue-delete ID */
	CLI_QUEUE_HOLD,		/* --queue-hold ID */
	CLI_QUEUE_RELEASE,	/* --queue-release ID */
	CLI_NEWALIASES,		/* -bi, newaliases */
	CLI_IMPORT_CONFIG,	/* --import-config FORMAT [PATH] */
	CLI_OAUTH2_AUTHORIZE,	/* --oauth2-authorize ACCOUNT */
	CLI_SERVER_INFO,	/* --server-info, --serverinfo */
	CLI_VERIFY,		/* --verify ADDR: VRFY */
	CLI_EXPAND,		/* --expand LIST: EXPN */
	CLI_SERVER_HELP,	/* --server-help [TOPIC]: HELP */
	CLI_HELP,		/* --help: printed by cli_parse() */
	CLI_USAGE,		/* --usage: printed by cli_parse() */
	CLI_VERSION		/* --version */
};

struct cli_opts {
	enum cli_mode	 mode;
	const char	*progname;	/* basename of argv[0], borrowed */
	const char	*argv0;		/* argv[0] as given, borrowed: to run
					   postie again (background flush) */

	/* sendmail */
	int		 extract_rcpts;	/* -t */
	int		 ignore_dots;	/* -i, -oi */
	char		*sender;	/* -f / -r; NULL not given, "" = <> */
	char		*fullname;	/* -F */
	int		 verbose;	/* -v, --verbose (count) */
	char		*config_file;	/* -C, --config */
	char		*errmode;	/* -oeX: "m" "e" "p" "q" "w" or NULL */
	char		*delivery;	/* -odX: "i" "b" "q" "d" or NULL */
	char		*queue_arg;	/* -qXXX argument ("f", "30m"), or NULL */
	char		*queue_id;	/* --queue-delete/-hold/-release ID */
	char		*import_format;	/* --import-config FORMAT; the path
					   is the operand, if any */
	char		*diag_arg;	/* --verify ADDR, --expand LIST, the
					   --server-help operand; else NULL */

	/* compose (mailx): any of these turns compose on */
	int		 compose;	/* a compose option was given */
	char		*subject;	/* -s */
	struct strlist	 attach;	/* -a FILE[;type=T][;name=N] */
	struct strlist	 cc;		/* -c */
	struct strlist	 bcc;		/* -b ADDR */
	char		*reply_to;	/* --reply-to */
	struct strlist	 headers;	/* --header 'Name: value' */
	char		*html;		/* --html FILE */
	char		*body_file;	/* --body FILE (else stdin) */
	struct strlist	 inlines;	/* --inline FILE */
	char		*charset;	/* --charset: the text's charset */

	/* postie */
	char		*account;	/* --account */
	int		 dry_run;	/* --dry-run */
	int		 json;		/* --json */
	int		 due;		/* --due: -q sends only what is due */
	int		 progress;	/* --progress 1, --no-progress 0, else
					   -1 (on a terminal) */

	/* account settings from the command line (msmtp's --host, --port,
	 * ...; -X): triples OPTION, KEY, VALUE for config_override() */
	struct strlist	 settings;
	int		 new_account;	/* msmtp's --host: no account from
					   the configuration files */
	int		 read_envelope_from; /* msmtp: the envelope sender is
					   the From header's address */
	int		 msmtp;		/* invoked as "msmtp" */

	struct strlist	 rcpts;		/* operands, split at commas */
	struct strlist	 ignored;	/* accepted-and-ignored options seen,
					   as given ("-oem", "-B8BITMIME") */
};

/*
 * Parse argv.  The program name (argv[0]'s basename) picks the face:
 * "mailq" lists the queue, "newaliases" is -bi, "msmtp" takes msmtp's
 * options with msmtp's meanings (-a ACCOUNT, --host, --port, --tls,
 * -X LOGFILE, --read-envelope-from...; a lone "." never ends the
 * input), anything else is sendmail.  For --help/--usage the text is printed to stdout here and
 * mode says so.  argv is not modified.
 * Errors: EX_USAGE naming the option or operand ("unknown option '-x'",
 * "option '-f' needs an argument", "recipient '-x' looks like an option",
 * "-bv is not supported by postie", "no recipients given and no -t"...).
 * o is initialised here; after an error it is released (empty).
 * Operands and -c/-b/--bcc values are split at commas and trimmed.
 */
int	cli_parse(struct cli_opts *, int, char **, struct error *);
void	cli_opts_release(struct cli_opts *);

/* Compose mode's options (mime.h), borrowed from o. */
void	cli_compose_opts(const struct cli_opts *o, struct compose_opts *);

/* The usage line printed after a usage error ("try 'postie --help'"). */
const char *cli_usage_hint(void);

/*
 * The long option names of the popt table ("account", "config", ...),
 * NULL-terminated, without the leading "--"; static storage.  The unit
 * test checks that doc/postie.1 documents each one.
 */
const char *const *cli_long_options(void);

#endif
