/*
 * Unit tests for cli.c: the argv vectors real callers pass to
 * /usr/sbin/sendmail, the mailq and newaliases faces, the compose
 * options, and the option-injection checks.
 */
#include "autoconfig.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli.h"
#include "error.h"
#include "util.h"
#include "xmalloc.h"

#define MAXARGS	24

/*
 * One argv and what cli_parse() must make of it.  String fields: NULL
 * expects NULL.  List fields hold the entries joined with '|'; NULL or
 * "" expects an empty list.  code != EX_OK expects a failure whose
 * message contains errsub, and nothing else is checked.
 */
struct parse_case {
	const char	*name;
	const char	*argv[MAXARGS];
	int		 code;
	const char	*errsub;
	enum cli_mode	 mode;
	int		 t;
	int		 i;
	int		 v;
	const char	*sender;
	const char	*fullname;
	const char	*config;
	const char	*errmode;
	const char	*delivery;
	const char	*queue_arg;
	const char	*rcpts;
	const char	*ignored;
	const char	*subject;
	const char	*attach;
	const char	*cc;
	const char	*bcc;
	const char	*account;
	int		 dry_run;
	int		 json;
	const char	*settings;	/* OPTION|KEY|VALUE|... */
	int		 new_account;
	int		 ref;		/* --read-envelope-from */
};

static const struct parse_case cases[] = {
	/* real callers */
	{ .name = "debian cron",
	  .argv = { "/usr/sbin/sendmail", "-FCronDaemon", "-i", "-B8BITMIME",
	    "-oem", "root" },
	  .i = 1, .fullname = "CronDaemon", .errmode = "m", .rcpts = "root",
	  .ignored = "-B8BITMIME" },
	{ .name = "cronie",
	  .argv = { "/usr/sbin/sendmail", "-FCronDaemon", "-i", "-odi",
	    "-oem", "-oi", "-t", "-f", "user" },
	  .t = 1, .i = 1, .fullname = "CronDaemon", .errmode = "m",
	  .delivery = "i", .sender = "user" },
	{ .name = "anacron",
	  .argv = { "/usr/sbin/sendmail", "-FAnacron", "-odi", "root" },
	  .fullname = "Anacron", .delivery = "i", .rcpts = "root" },
	{ .name = "bsd-mailx",
	  .argv = { "/usr/sbin/sendmail", "-i", "-t" },
	  .t = 1, .i = 1 },
	{ .name = "bsd-mailx with -f",
	  .argv = { "/usr/sbin/sendmail", "-i", "-t", "-f", "me@example.org" },
	  .t = 1, .i = 1, .sender = "me@example.org" },
	{ .name = "gnu mail",
	  .argv = { "/usr/sbin/sendmail", "-oi", "-f", "user@host", "-t" },
	  .t = 1, .i = 1, .sender = "user@host" },
	{ .name = "s-nail",
	  .argv = { "/usr/sbin/sendmail", "-i", "--", "rcpt@example.org" },
	  .i = 1, .rcpts = "rcpt@example.org" },
	{ .name = "git send-email",
	  .argv = { "/usr/sbin/sendmail", "-f", "a@example.org", "-i",
	    "r1@example.org", "r2@example.org" },
	  .i = 1, .sender = "a@example.org",
	  .rcpts = "r1@example.org|r2@example.org" },
	{ .name = "php mail()",
	  .argv = { "/usr/sbin/sendmail", "-t", "-i" },
	  .t = 1, .i = 1 },
	{ .name = "logwatch, mdadm",
	  .argv = { "/usr/sbin/sendmail", "-t" },
	  .t = 1 },
	{ .name = "clustered -ti",
	  .argv = { "sendmail", "-ti" },
	  .t = 1, .i = 1 },
	{ .name = "-F separate with a space",
	  .argv = { "sendmail", "-F", "Cron Daemon", "root" },
	  .fullname = "Cron Daemon", .rcpts = "root" },

	/* faces and modes */
	{ .name = "-bs (symfony)",
	  .argv = { "sendmail", "-bs" },
	  .mode = CLI_SMTP },
	{ .name = "-bs -i (Laravel)",
	  .argv = { "sendmail", "-bs", "-i" },
	  .mode = CLI_SMTP, .i = 1 },
	{ .name = "-bs -odb -oem (Alpine)",
	  .argv = { "sendmail", "-bs", "-odb", "-oem" },
	  .mode = CLI_SMTP, .delivery = "b", .errmode = "m" },
	{ .name = "mailq face",
	  .argv = { "/usr/bin/mailq" },
	  .mode = CLI_QUEUE_LIST },
	{ .name = "mailq -v",
	  .argv = { "mailq", "-v" },
	  .mode = CLI_QUEUE_LIST, .v = 1 },
	{ .name = "newaliases face",
	  .argv = { "/usr/bin/newaliases" },
	  .mode = CLI_NEWALIASES },
	{ .name = "-bp",
	  .argv = { "sendmail", "-bp" },
	  .mode = CLI_QUEUE_LIST },
	{ .name = "-b p separate",
	  .argv = { "sendmail", "-b", "p" },
	  .mode = CLI_QUEUE_LIST },
	{ .name = "-bi",
	  .argv = { "sendmail", "-bi" },
	  .mode = CLI_NEWALIASES },
	{ .name = "-I",
	  .argv = { "sendmail", "-I" },
	  .mode = CLI_NEWALIASES },
	{ .name = "-bm after -bp: last wins",
	  .argv = { "sendmail", "-bp", "-bm", "root" },
	  .mode = CLI_SEND, .rcpts = "root" },
	{ .name = "-q",
	  .argv = { "sendmail", "-q" },
	  .mode = CLI_QUEUE_RUN },
	{ .name = "-qf",
	  .argv = { "sendmail", "-qf" },
	  .mode = CLI_QUEUE_RUN, .queue_arg = "f" },
	{ .name = "-q30m",
	  .argv = { "sendmail", "-q30m" },
	  .mode = CLI_QUEUE_RUN, .queue_arg = "30m" },
	{ .name = "-qRsite",
	  .argv = { "sendmail", "-qRexample.org" },
	  .mode = CLI_QUEUE_RUN, .queue_arg = "Rexample.org" },
	{ .name = "-vq: bare q at the end of a cluster",
	  .argv = { "sendmail", "-vq" },
	  .mode = CLI_QUEUE_RUN, .v = 1 },
	{ .name = "--flush",
	  .argv = { "postie", "--flush" },
	  .mode = CLI_QUEUE_RUN },
	{ .name = "-F -q: -q is the argument",
	  .argv = { "sendmail", "-F", "-q", "-t" },
	  .t = 1, .fullname = "-q" },
	{ .name = "--version",
	  .argv = { "postie", "--version" },
	  .mode = CLI_VERSION },

	/* sender */
	{ .name = "-f '' is the null sender",
	  .argv = { "sendmail", "-f", "", "root" },
	  .sender = "", .rcpts = "root" },
	{ .name = "-f '<>' passes through",
	  .argv = { "sendmail", "-f", "<>", "root" },
	  .sender = "<>", .rcpts = "root" },
	{ .name = "-fuser attached",
	  .argv = { "sendmail", "-fuser", "root" },
	  .sender = "user", .rcpts = "root" },
	{ .name = "-r",
	  .argv = { "sendmail", "-r", "a@b", "root" },
	  .sender = "a@b", .rcpts = "root" },
	{ .name = "--from=",
	  .argv = { "postie", "--from=a@b", "root" },
	  .sender = "a@b", .rcpts = "root" },

	/* recipients */
	{ .name = "commas",
	  .argv = { "sendmail", "a@b,c@d" },
	  .rcpts = "a@b|c@d" },
	{ .name = "commas and spaces",
	  .argv = { "sendmail", "a@b, c@d" },
	  .rcpts = "a@b|c@d" },
	{ .name = "empty pieces dropped",
	  .argv = { "sendmail", " , a@b ,, ", "c@d" },
	  .rcpts = "a@b|c@d" },

	/* -o */
	{ .name = "-o i separate, as getopt takes it",
	  .argv = { "sendmail", "-o", "i", "root" },
	  .i = 1, .rcpts = "root" },
	{ .name = "-oeX -odX and ignored -oX",
	  .argv = { "sendmail", "-oQ/tmp/x", "-oeq", "-odb", "-o7", "-oez",
	    "-oe", "-odz", "root" },
	  .errmode = "q", .delivery = "b", .rcpts = "root",
	  .ignored = "-oQ/tmp/x|-o7|-oez|-oe|-odz" },
	{ .name = "-eX as -oeX",
	  .argv = { "sendmail", "-ee", "-ex", "root" },
	  .errmode = "e", .rcpts = "root", .ignored = "-ex" },

	/* -X: the transaction log, as sendmail's and msmtp's */
	{ .name = "-X is the logfile setting",
	  .argv = { "sendmail", "-X/tmp/log", "a@b" },
	  .rcpts = "a@b", .settings = "-X|logfile|/tmp/log" },

	/* the msmtp face: msmtp's options, a lone dot is always data */
	{ .name = "msmtp: mutt's call",
	  .argv = { "/usr/bin/msmtp", "-oi", "-oem", "-f", "me@example.org",
	    "--", "a@example.com" },
	  .i = 1, .sender = "me@example.org", .rcpts = "a@example.com",
	  .ignored = "-oi|-oem" },
	{ .name = "msmtp: -a and -C glued, -t",
	  .argv = { "msmtp", "-Cmy.conf", "-awork", "-t" },
	  .i = 1, .t = 1, .config = "my.conf", .account = "work" },
	{ .name = "msmtp: server settings over the account",
	  .argv = { "msmtp", "--host=smtp.example.org", "--port", "587",
	    "--tls", "--auth=on", "--user", "u", "--domain=me.example",
	    "--timeout=10", "-X", "/tmp/l", "--logfile=/tmp/m", "a@b" },
	  .i = 1, .rcpts = "a@b", .new_account = 1,
	  .settings = "--host|host|smtp.example.org|--port|port|587|"
	    "--tls|tls|on|--auth|auth|on|--user|user|u|--domain|domain|"
	    "me.example|--timeout|timeout|10|-X|logfile|/tmp/l|"
	    "--logfile|logfile|/tmp/m" },
	{ .name = "msmtp: an optional argument is only --opt=V (getopt)",
	  .argv = { "msmtp", "--tls-starttls=off", "--set-from-header",
	    "--tls", "off", "a@b" },
	  .i = 1, .rcpts = "off|a@b",
	  .settings = "--tls-starttls|tls_starttls|off|"
	    "--set-from-header|set_from_header|auto|--tls|tls|on" },
	{ .name = "msmtp: -d, -v (-vt is -v -t), -P, --read-envelope-from",
	  .argv = { "msmtp", "-d", "-vt", "-P", "--read-envelope-from",
	    "a@b" },
	  .i = 1, .t = 1, .v = 2, .dry_run = 1, .ref = 1, .rcpts = "a@b" },
	{ .name = "msmtp: -F, -bm and the ignored letters",
	  .argv = { "msmtp", "-FCron Daemon", "-bm", "-B8BITMIME", "-G",
	    "-N", "never", "a@b" },
	  .i = 1, .fullname = "Cron Daemon", .rcpts = "a@b",
	  .ignored = "-B8BITMIME|-G",
	  .settings = "-N|dsn_notify|never" },
	{ .name = "msmtp: --version, --help",
	  .argv = { "msmtp", "--version" }, .mode = CLI_VERSION, .i = 1 },
	{ .name = "msmtp: --host and -a",
	  .argv = { "msmtp", "-a", "work", "--host=h", "a@b" },
	  .code = EX_USAGE, .errsub = "cannot use both --host and --account" },
	{ .name = "msmtp: --from and --read-envelope-from",
	  .argv = { "msmtp", "--read-envelope-from", "--from=x@y", "a@b" },
	  .code = EX_USAGE, .errsub = "cannot use both --from and" },
	{ .name = "msmtp: unknown long option",
	  .argv = { "msmtp", "--bogus=1", "a@b" },
	  .code = EX_USAGE, .errsub = "unknown option '--bogus'" },
	{ .name = "msmtp: sendmail's -q is not msmtp's",
	  .argv = { "msmtp", "-q" },
	  .code = EX_USAGE, .errsub = "unknown option '-q'" },
	{ .name = "msmtp: --rmqs",
	  .argv = { "msmtp", "--rmqs=example.org" },
	  .code = EX_USAGE, .errsub = "postie does not ask a server" },
	{ .name = "msmtp: --port without its value",
	  .argv = { "msmtp", "--port" },
	  .code = EX_USAGE, .errsub = "'--port' needs an argument" },
	{ .name = "msmtp: --help takes no value",
	  .argv = { "msmtp", "--read-recipients=1" },
	  .code = EX_USAGE, .errsub = "takes no argument" },
	{ .name = "msmtp: -bp",
	  .argv = { "msmtp", "-bp" },
	  .code = EX_USAGE, .errsub = "-bp is not supported by msmtp" },
	{ .name = "msmtp: options end at the first recipient",
	  .argv = { "msmtp", "a@b", "-a", "x" },
	  .code = EX_USAGE, .errsub = "recipient '-a' looks like an option" },
	{ .name = "msmtp: no recipients",
	  .argv = { "msmtp", "-a", "x" },
	  .code = EX_USAGE, .errsub = "no recipients given and no -t" },

	/* accepted and ignored */
	{ .name = "every ignored option",
	  .argv = { "sendmail", "-G", "-m", "-n", "-U", "-Am", "-Ac",
	    "-O", "a=b", "-h", "3", "-Lx", "-N", "never", "-R", "hdrs",
	    "-V", "id", "-psmtp", "-B", "7BIT", "root" },
	  .rcpts = "root",
	  .ignored = "-G|-m|-n|-U|-Am|-Ac|-Oa=b|-h3|-Lx|-Nnever|-Rhdrs|"
	    "-Vid|-psmtp|-B7BIT" },
	{ .name = "-C is the config file, read later by config",
	  .argv = { "sendmail", "-C/etc/shadow", "a@b" },
	  .config = "/etc/shadow", .rcpts = "a@b" },

	/* compose */
	{ .name = "compose",
	  .argv = { "postie", "-s", "Subj", "-a", "f1", "-a", "f2", "-c",
	    "c@d", "-b", "x@y", "rcpt" },
	  .subject = "Subj", .attach = "f1|f2", .cc = "c@d", .bcc = "x@y",
	  .rcpts = "rcpt" },
	{ .name = "-bx@y is a bcc",
	  .argv = { "postie", "-bx@y", "rcpt" },
	  .bcc = "x@y", .rcpts = "rcpt" },
	{ .name = "-b root is a bcc",
	  .argv = { "postie", "-b", "root", "rcpt" },
	  .bcc = "root", .rcpts = "rcpt" },
	{ .name = "compose long options",
	  .argv = { "postie", "--subject", "S", "--attach=f", "--cc", "a@b,c@d",
	    "--bcc", "e@f", "rcpt" },
	  .subject = "S", .attach = "f", .cc = "a@b|c@d", .bcc = "e@f",
	  .rcpts = "rcpt" },
	{ .name = "bcc only is enough",
	  .argv = { "postie", "--bcc", "e@f" },
	  .bcc = "e@f" },

	/* postie */
	{ .name = "postie options",
	  .argv = { "postie", "--account", "work", "--dry-run", "--json",
	    "--config", "c.conf", "-v", "--verbose", "-v", "root" },
	  .account = "work", .dry_run = 1, .json = 1, .config = "c.conf",
	  .v = 3, .rcpts = "root" },

	/* errors */
	{ .name = "-- then -x",
	  .argv = { "sendmail", "--", "-x" },
	  .code = EX_USAGE, .errsub = "recipient '-x' looks like an option" },
	{ .name = "-x hidden in a comma list",
	  .argv = { "sendmail", "a@b,-x" },
	  .code = EX_USAGE, .errsub = "recipient '-x'" },
	{ .name = "option after an operand is an operand",
	  .argv = { "sendmail", "a@b", "-C/etc/shadow" },
	  .code = EX_USAGE, .errsub = "recipient '-C/etc/shadow'" },
	{ .name = "-- then -oQ",
	  .argv = { "sendmail", "--", "-oQ/tmp/x@y" },
	  .code = EX_USAGE, .errsub = "looks like an option" },
	{ .name = "-bs with a recipient",
	  .argv = { "sendmail", "-bs", "root" },
	  .code = EX_USAGE, .errsub = "-bs takes no recipients" },
	{ .name = "-bv",
	  .argv = { "sendmail", "-bv", "root" },
	  .code = EX_USAGE, .errsub = "-bv is not supported" },
	{ .name = "-bd",
	  .argv = { "sendmail", "-bd" },
	  .code = EX_USAGE, .errsub = "-bd is not supported" },
	{ .name = "-bt",
	  .argv = { "sendmail", "-b", "t" },
	  .code = EX_USAGE, .errsub = "-bt is not supported" },
	{ .name = "-bz",
	  .argv = { "sendmail", "-bz", "root" },
	  .code = EX_USAGE, .errsub = "'-bz'" },
	{ .name = "-k unknown",
	  .argv = { "sendmail", "-k", "root" },
	  .code = EX_USAGE, .errsub = "unknown option '-k'" },
	{ .name = "-k inside a cluster",
	  .argv = { "sendmail", "-tk" },
	  .code = EX_USAGE, .errsub = "unknown option '-k'" },
	{ .name = "-d is not accepted (neither Postfix nor OpenSMTPD)",
	  .argv = { "sendmail", "-d0.1", "root" },
	  .code = EX_USAGE, .errsub = "unknown option '-d'" },
	{ .name = "unknown long option",
	  .argv = { "postie", "--bogus", "root" },
	  .code = EX_USAGE, .errsub = "unknown option '--bogus'" },
	{ .name = "-f without argument",
	  .argv = { "sendmail", "-f" },
	  .code = EX_USAGE, .errsub = "option '-f' needs an argument" },
	{ .name = "-f -bv",
	  .argv = { "sendmail", "-f", "-bv", "root" },
	  .code = EX_USAGE, .errsub = "sender '-bv' looks like an option" },
	{ .name = "-r -x",
	  .argv = { "sendmail", "-r", "-x", "root" },
	  .code = EX_USAGE, .errsub = "sender '-x'" },
	{ .name = "bare -o",
	  .argv = { "sendmail", "root", "-o" },
	  .code = EX_USAGE, .errsub = "recipient '-o'" },
	{ .name = "bare -o at the end of the options",
	  .argv = { "sendmail", "-o" },
	  .code = EX_USAGE, .errsub = "option '-o' needs an argument" },
	{ .name = "empty -o",
	  .argv = { "sendmail", "-o", "", "root" },
	  .code = EX_USAGE, .errsub = "option '-o' needs an argument" },
	{ .name = "--cc -x",
	  .argv = { "postie", "--cc", "-x", "root" },
	  .code = EX_USAGE, .errsub = "cc address '-x'" },
	{ .name = "-b with an option-looking address",
	  .argv = { "postie", "-b", "-x@y", "root" },
	  .code = EX_USAGE, .errsub = "bcc address '-x@y'" },
	{ .name = "no recipients and no -t",
	  .argv = { "sendmail", "-i" },
	  .code = EX_USAGE, .errsub = "no recipients" },
	{ .name = "-q with a recipient",
	  .argv = { "sendmail", "-q", "root" },
	  .code = EX_USAGE, .errsub = "unexpected recipient 'root'" },
	{ .name = "mailq with a recipient",
	  .argv = { "mailq", "root" },
	  .code = EX_USAGE, .errsub = "unexpected recipient" },
};

static int
count_argv(const char *const *argv)
{
	int	n = 0;

	while (n < MAXARGS && argv[n] != NULL)
		n++;
	return n;
}

static char *
join(const struct strlist *l)
{
	struct buf	b = BUF_INIT;
	size_t		i;

	for (i = 0; i < l->n; i++) {
		if (i > 0)
			buf_addch(&b, '|');
		buf_addstr(&b, l->v[i]);
	}
	return buf_detach(&b);
}

static void
check_str(const char *what, const char *want, const char *got,
    const char *name)
{
	if (want == NULL && got == NULL)
		return;
	if (want == NULL || got == NULL || strcmp(want, got) != 0)
		fail_msg("%s: %s: want '%s', got '%s'", name, what,
		    want != NULL ? want : "(null)",
		    got != NULL ? got : "(null)");
}

static void
check_list(const char *what, const char *want, const struct strlist *l,
    const char *name)
{
	char	*got = join(l);

	check_str(what, want != NULL ? want : "", got, name);
	free(got);
}

/*
 * cli_parse() takes char **; the table holds string literals, so copy
 * them into writable storage first.
 */
static int
parse(const char *const *av, struct cli_opts *o, struct error *err)
{
	char	*copy[MAXARGS + 1];
	int	 n, i, rc;

	n = count_argv(av);
	for (i = 0; i < n; i++)
		copy[i] = xstrdup(av[i]);
	copy[n] = NULL;
	rc = cli_parse(o, n, copy, err);
	for (i = 0; i < n; i++)
		free(copy[i]);
	return rc;
}

static void
cli_parse__real_callers_and_errors__fields_as_sendmail(void **state)
{
	struct cli_opts		 o;
	struct error		 err = ERROR_INIT;
	const struct parse_case	*c;
	size_t			 k;
	int			 rc;

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		c = &cases[k];
		/* the progname is borrowed from argv: check it on a copy */
		rc = parse(c->argv, &o, &err);
		if (c->code != EX_OK) {
			if (rc != -1)
				fail_msg("%s: parsed, want error %d", c->name,
				    c->code);
			if (err.code != c->code)
				fail_msg("%s: code %d, want %d (%s)", c->name,
				    err.code, c->code, err.msg);
			if (strstr(err.msg, c->errsub) == NULL)
				fail_msg("%s: message '%s' lacks '%s'",
				    c->name, err.msg, c->errsub);
			/* the options are released after an error */
			assert_int_equal(o.rcpts.n, 0);
			assert_null(o.sender);
			error_release(&err);
			continue;
		}
		if (rc != 0)
			fail_msg("%s: failed: %s", c->name, err.msg);
		if (o.mode != c->mode)
			fail_msg("%s: mode %d, want %d", c->name, o.mode,
			    c->mode);
		if (o.extract_rcpts != c->t || o.ignore_dots != c->i ||
		    o.verbose != c->v || o.dry_run != c->dry_run ||
		    o.json != c->json)
			fail_msg("%s: t=%d i=%d v=%d dry=%d json=%d", c->name,
			    o.extract_rcpts, o.ignore_dots, o.verbose,
			    o.dry_run, o.json);
		check_str("sender", c->sender, o.sender, c->name);
		check_str("fullname", c->fullname, o.fullname, c->name);
		check_str("config", c->config, o.config_file, c->name);
		check_str("errmode", c->errmode, o.errmode, c->name);
		check_str("delivery", c->delivery, o.delivery, c->name);
		check_str("queue_arg", c->queue_arg, o.queue_arg, c->name);
		check_str("subject", c->subject, o.subject, c->name);
		check_str("account", c->account, o.account, c->name);
		check_list("rcpts", c->rcpts, &o.rcpts, c->name);
		check_list("ignored", c->ignored, &o.ignored, c->name);
		check_list("attach", c->attach, &o.attach, c->name);
		check_list("cc", c->cc, &o.cc, c->name);
		check_list("bcc", c->bcc, &o.bcc, c->name);
		check_list("settings", c->settings, &o.settings, c->name);
		if (o.new_account != c->new_account ||
		    o.read_envelope_from != c->ref)
			fail_msg("%s: new_account=%d read_envelope_from=%d",
			    c->name, o.new_account, o.read_envelope_from);
		cli_opts_release(&o);
	}
}

static void
cli_parse__argv0_basename__picks_face_and_hint(void **state)
{
	char		 a0[] = "/usr/lib/sendmail", a1[] = "-t";
	char		*argv[] = { a0, a1, NULL };
	struct cli_opts	 o;
	struct error	 err = ERROR_INIT;

	(void)state;
	assert_int_equal(cli_parse(&o, 2, argv, &err), 0);
	assert_string_equal(o.progname, "sendmail");
	assert_int_equal(o.mode, CLI_SEND);
	assert_string_equal(cli_usage_hint(),
	    "try 'sendmail --help' for more information");
	cli_opts_release(&o);
	/* release twice is harmless: the struct is left empty */
	cli_opts_release(&o);
	cli_opts_release(NULL);
}

static void
cli_parse__argv_not_modified__same_words(void **state)
{
	char		 a0[] = "sendmail", a1[] = "-FCronDaemon", a2[] = "-q",
			 a3[] = "-oi";
	char		*argv[] = { a0, a1, a2, a3, NULL };
	struct cli_opts	 o;
	struct error	 err = ERROR_INIT;

	(void)state;
	assert_int_equal(cli_parse(&o, 4, argv, &err), 0);
	assert_int_equal(o.mode, CLI_QUEUE_RUN);
	assert_ptr_equal(argv[2], a2);
	assert_string_equal(argv[1], "-FCronDaemon");
	assert_string_equal(argv[2], "-q");
	assert_null(argv[4]);
	cli_opts_release(&o);
}

/* -X is a setting for the send: parsing never opens (or creates) it. */
static void
cli_parse__X_logfile__file_not_created(void **state)
{
	char		 path[128], xopt[160], a0[] = "sendmail",
			 a2[] = "a@b";
	char		*argv[4];
	struct cli_opts	 o;
	struct error	 err = ERROR_INIT;
	struct stat	 st;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/postie-test-cli-%ld.log",
	    (long)getpid());
	snprintf(xopt, sizeof(xopt), "-X%s", path);
	unlink(path);
	argv[0] = a0;
	argv[1] = xopt;
	argv[2] = a2;
	argv[3] = NULL;
	assert_int_equal(cli_parse(&o, 3, argv, &err), 0);
	assert_int_equal(o.ignored.n, 0);
	assert_int_equal(o.settings.n, 3);
	assert_string_equal(o.settings.v[1], "logfile");
	assert_string_equal(o.settings.v[2], path);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(errno, ENOENT);
	cli_opts_release(&o);
}

/*
 * Run cli_parse() with stdout sent to a temporary file, and return what
 * it printed (allocated).
 */
static char *
capture(const char *const *av, struct cli_opts *o, int *rc)
{
	struct error	 err = ERROR_INIT;
	struct buf	 b = BUF_INIT;
	FILE		*tmp;
	char		 chunk[4096];
	size_t		 n;
	int		 saved;

	fflush(stdout);
	tmp = tmpfile();
	assert_non_null(tmp);
	saved = dup(STDOUT_FILENO);
	assert_true(saved != -1);
	assert_true(dup2(fileno(tmp), STDOUT_FILENO) != -1);
	*rc = parse(av, o, &err);
	fflush(stdout);
	assert_true(dup2(saved, STDOUT_FILENO) != -1);
	close(saved);
	rewind(tmp);
	while ((n = fread(chunk, 1, sizeof(chunk), tmp)) > 0)
		buf_add(&b, chunk, n);
	fclose(tmp);
	error_release(&err);
	return buf_detach(&b);
}

static void
cli_parse__help__prints_faces_and_groups(void **state)
{
	const char	*av[] = { "/usr/sbin/sendmail", "--help", NULL };
	const char	*const *names;
	char		 want[64];
	struct cli_opts	 o;
	char		*out;
	int		 rc;

	(void)state;
	out = capture(av, &o, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(o.mode, CLI_HELP);
	assert_non_null(strstr(out, "Usage: sendmail "));
	assert_non_null(strstr(out, "sendmail -bp | mailq"));
	assert_non_null(strstr(out, "sendmail -bi | newaliases"));
	assert_non_null(strstr(out, "sendmail -s subject"));
	assert_non_null(strstr(out, "Sendmail options:"));
	assert_non_null(strstr(out, "Accepted and ignored"));
	assert_non_null(strstr(out, "Compose options"));
	assert_non_null(strstr(out, "postie options:"));
	for (names = cli_long_options(); *names != NULL; names++) {
		snprintf(want, sizeof(want), "--%s", *names);
		if (strstr(out, want) == NULL)
			fail_msg("--help lacks %s", want);
	}
	free(out);
	cli_opts_release(&o);
}

static void
cli_parse__usage__prints_short_usage(void **state)
{
	const char	*av[] = { "postie", "--usage", NULL };
	struct cli_opts	 o;
	char		*out;
	int		 rc;

	(void)state;
	out = capture(av, &o, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(o.mode, CLI_USAGE);
	assert_non_null(strstr(out, "Usage: postie"));
	assert_non_null(strstr(out, "[--flush]"));
	assert_null(strstr(out, "Sendmail options:"));
	/* each flag once: in the [-ti...] cluster, not again alone */
	assert_non_null(strstr(out, "[-ti"));
	assert_null(strstr(out, "[-t]"));
	assert_null(strstr(out, "[-i]"));
	assert_null(strstr(out, "[-U]"));
	/* -v once, with its long name; not in the cluster too */
	assert_non_null(strstr(out, "[-v|--verbose]"));
	{
		const char	*cl = strstr(out, "[-ti");
		size_t		 n = strcspn(cl, "]");

		assert_null(memchr(cl, 'v', n));
	}
	/* -q's argument is glued, as sendmail's */
	assert_non_null(strstr(out, "[-q[ARG]]"));
	free(out);
	cli_opts_release(&o);
}

static void
cli_parse__compose_options__filled_and_compose_on(void **state)
{
	static const char *const argv[] = { "postie", "--reply-to", "r@x",
	    "--header", "X-A: 1", "--header=X-B: 2", "--html", "p.html",
	    "--body", "b.txt", "--inline", "i.png", "--inline", "j.png",
	    "--charset", "latin1", "rcpt", NULL };
	static const char *const plain[] = { "sendmail", "-oi", "rcpt", NULL };
	struct cli_opts	 o;
	struct error	 err = ERROR_INIT;

	(void)state;
	assert_int_equal(cli_parse(&o, 17, (char **)(uintptr_t)argv, &err), 0);
	assert_int_equal(o.compose, 1);
	assert_string_equal(o.reply_to, "r@x");
	assert_int_equal(o.headers.n, 2);
	assert_string_equal(o.headers.v[0], "X-A: 1");
	assert_string_equal(o.headers.v[1], "X-B: 2");
	assert_string_equal(o.html, "p.html");
	assert_string_equal(o.body_file, "b.txt");
	assert_int_equal(o.inlines.n, 2);
	assert_string_equal(o.inlines.v[1], "j.png");
	assert_string_equal(o.charset, "latin1");
	cli_opts_release(&o);
	/* compose mode is never guessed: plain sendmail use stays off */
	assert_int_equal(cli_parse(&o, 3, (char **)(uintptr_t)plain, &err), 0);
	assert_int_equal(o.compose, 0);
	cli_opts_release(&o);
}

static void
cli_parse__import_config__format_and_one_path(void **state)
{
	static const char *one[] = { "postie", "--import-config", "ssmtp",
	    "/etc/ssmtp/ssmtp.conf", NULL };
	static const char *two[] = { "postie", "--import-config=dma", "a",
	    "b", NULL };
	struct cli_opts	 o;
	struct error	 err = ERROR_INIT;

	(void)state;
	assert_int_equal(cli_parse(&o, 4, (char **)(uintptr_t)one, &err), 0);
	assert_int_equal(o.mode, CLI_IMPORT_CONFIG);
	assert_string_equal(o.import_format, "ssmtp");
	assert_int_equal(o.rcpts.n, 1);
	assert_string_equal(o.rcpts.v[0], "/etc/ssmtp/ssmtp.conf");
	cli_opts_release(&o);
	assert_int_equal(cli_parse(&o, 4, (char **)(uintptr_t)two, &err), -1);
	assert_int_equal(err.code, EX_USAGE);
	assert_non_null(strstr(err.msg, "takes one file or directory"));
	error_release(&err);
}

static void
cli_parse__oauth2_authorize__account_and_no_operand(void **state)
{
	static const char *one[] = { "postie", "--oauth2-authorize", "m365",
	    NULL };
	static const char *two[] = { "postie", "--oauth2-authorize=m365",
	    "a@example.com", NULL };
	struct cli_opts	 o;
	struct error	 err = ERROR_INIT;

	(void)state;
	assert_int_equal(cli_parse(&o, 3, (char **)(uintptr_t)one, &err), 0);
	assert_int_equal(o.mode, CLI_OAUTH2_AUTHORIZE);
	assert_string_equal(o.account, "m365");
	cli_opts_release(&o);
	assert_int_equal(cli_parse(&o, 3, (char **)(uintptr_t)two, &err), -1);
	assert_int_equal(err.code, EX_USAGE);
	assert_non_null(strstr(err.msg, "unexpected operand 'a@example.com' "
	    "with --oauth2-authorize"));
	error_release(&err);
}

static void
cli_long_options__table__expected_names(void **state)
{
	static const char *const want[] = { "from", "verbose", "config",
	    "subject", "attach", "cc", "bcc", "reply-to", "header", "html",
	    "body", "inline", "charset", "account", "dry-run", "json",
	    "flush", "progress", "no-progress", "due", "queue-delete",
	    "queue-hold", "queue-release", "import-config",
	    "oauth2-authorize", "server-info", "serverinfo", "verify",
	    "expand", "server-help", "help", "usage", "version" };
	const char	*const *names = cli_long_options();
	size_t		 i, j, n = 0;

	(void)state;
	while (names[n] != NULL)
		n++;
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++)
			if (strcmp(names[j], want[i]) == 0)
				break;
		if (j == n)
			fail_msg("long option --%s missing", want[i]);
	}
}

static void
cli_parse__diagnostics__mode_account_and_argument(void **state)
{
	static const struct {
		const char	*av[6];
		int		 rc;
		enum cli_mode	 mode;
		const char	*account, *arg;
	} t[] = {
		{ { "postie", "--server-info", NULL }, 0, CLI_SERVER_INFO,
		    NULL, NULL },
		{ { "postie", "--serverinfo", "-a", "gmail", NULL }, 0,
		    CLI_SERVER_INFO, "gmail", NULL },
		{ { "postie", "--server-info", "--account", "work", NULL }, 0,
		    CLI_SERVER_INFO, "work", NULL },
		{ { "postie", "--verify", "bob@example.org", NULL }, 0,
		    CLI_VERIFY, NULL, "bob@example.org" },
		{ { "postie", "--expand", "staff", "-a", "x", NULL }, 0,
		    CLI_EXPAND, "x", "staff" },
		{ { "postie", "--server-help", "MAIL", NULL }, 0,
		    CLI_SERVER_HELP, NULL, "MAIL" },
		{ { "postie", "--server-help", NULL }, 0, CLI_SERVER_HELP,
		    NULL, NULL },
		/* the last mode wins, with its own argument only (fuzz_cli:
		 * the --expand list leaked, or became HELP's topic) */
		{ { "postie", "--expand", "staff", "--server-help", "MAIL",
		    NULL }, 0, CLI_SERVER_HELP, NULL, "MAIL" },
		{ { "postie", "--verify", "a@b", "--server-help", NULL }, 0,
		    CLI_SERVER_HELP, NULL, NULL },
		{ { "postie", "--expand", "staff", "--server-info", NULL }, 0,
		    CLI_SERVER_INFO, NULL, NULL },
		{ { "postie", "--server-help", "--verify", "a@b", NULL }, 0,
		    CLI_VERIFY, NULL, "a@b" },
		{ { "postie", "--server-info", "a@b", NULL }, -1, 0, NULL,
		    NULL },
		{ { "postie", "--server-help", "A", "B", NULL }, -1, 0, NULL,
		    NULL },
		{ { "postie", "--verify", "", NULL }, -1, 0, NULL, NULL },
		{ { "postie", "--server-info", "-s", "x", NULL }, -1, 0, NULL,
		    NULL },
		{ { "postie", "--server-info", "-a", "x", "-a", NULL }, -1, 0,
		    NULL, NULL },
		{ { "postie", "--server-info", "--json", NULL }, -1, 0, NULL,
		    NULL },
		{ { "postie", "--verify", "a@b", "--dry-run", NULL }, -1, 0,
		    NULL, NULL },
	};
	struct cli_opts	 o;
	struct error	 err = ERROR_INIT;
	size_t		 i;
	int		 ac, rc;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		for (ac = 0; t[i].av[ac] != NULL; ac++)
			;
		rc = cli_parse(&o, ac, (char **)(uintptr_t)t[i].av, &err);
		if (rc != t[i].rc)
			fail_msg("case %zu: rc %d (%s)", i, rc,
			    err.msg != NULL ? err.msg : "");
		if (rc == 0) {
			assert_int_equal(o.mode, t[i].mode);
			if (t[i].account == NULL)
				assert_null(o.account);
			else
				assert_string_equal(o.account, t[i].account);
			if (t[i].arg == NULL)
				assert_null(o.diag_arg);
			else
				assert_string_equal(o.diag_arg, t[i].arg);
			assert_false(o.compose);
		} else
			assert_int_equal(err.code, EX_USAGE);
		error_release(&err);
		cli_opts_release(&o);
	}
}

static char *
read_man_page(void)
{
	const char	*src = getenv("POSTIE_SRCDIR");
	const char	*data = getenv("TESTDATA");
	char		*path, *candidates[4];
	struct buf	 b = BUF_INIT;
	char		 chunk[4096];
	FILE		*f = NULL;
	size_t		 n, i, nc = 0;

	if (src != NULL)
		candidates[nc++] = xasprintf("%s/doc/postie.1", src);
	if (data != NULL)
		candidates[nc++] = xasprintf("%s/../../doc/postie.1", data);
	candidates[nc++] = xstrdup("doc/postie.1");
	candidates[nc++] = xstrdup("../doc/postie.1");
	for (i = 0; i < nc; i++) {
		path = candidates[i];
		if (f == NULL)
			f = fopen(path, "r");
		free(path);
	}
	if (f == NULL)
		fail_msg("doc/postie.1 not found (set POSTIE_SRCDIR)");
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	return buf_detach(&b);
}

/*
 * roff spelling of "--name": every '-' written "\-" ("\-\-dry\-run").
 * Returns an allocated string.
 */
static char *
roff_option(const char *name)
{
	struct buf	b = BUF_INIT;

	buf_addstr(&b, "\\-\\-");
	for (; *name != '\0'; name++) {
		if (*name == '-')
			buf_addch(&b, '\\');
		buf_addch(&b, *name);
	}
	return buf_detach(&b);
}

/* 1 if "--name" (plain or roff-escaped) occurs as a whole word in man. */
static int
documented(const char *man, const char *name)
{
	const char	*p;
	char		*needle;
	size_t		 i, len;
	int		 found = 0;

	for (i = 0; i < 2 && !found; i++) {
		needle = i == 0 ? roff_option(name) :
		    xasprintf("--%s", name);
		len = strlen(needle);
		for (p = man; (p = strstr(p, needle)) != NULL; p += len) {
			if (p[len] != '-' && p[len] != '_' &&
			    !(p[len] >= 'a' && p[len] <= 'z') &&
			    !(p[len] == '\\' && p[len + 1] == '-')) {
				found = 1;
				break;
			}
		}
		free(needle);
	}
	return found;
}

static void
cli_long_options__man_page__documents_each(void **state)
{
	const char	*const *names;
	char		*man;

	(void)state;
	man = read_man_page();
	assert_non_null(strstr(man, ".TH POSTIE 1"));
	for (names = cli_long_options(); *names != NULL; names++)
		if (!documented(man, *names))
			fail_msg("doc/postie.1 does not document --%s",
			    *names);
	/* the test itself must be able to fail */
	assert_false(documented(man, "no-such-option"));
	free(man);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    cli_parse__real_callers_and_errors__fields_as_sendmail),
		cmocka_unit_test(
		    cli_parse__argv0_basename__picks_face_and_hint),
		cmocka_unit_test(cli_parse__argv_not_modified__same_words),
		cmocka_unit_test(cli_parse__X_logfile__file_not_created),
		cmocka_unit_test(cli_parse__help__prints_faces_and_groups),
		cmocka_unit_test(cli_parse__usage__prints_short_usage),
		cmocka_unit_test(
		    cli_parse__compose_options__filled_and_compose_on),
		cmocka_unit_test(cli_parse__import_config__format_and_one_path),
		cmocka_unit_test(
		    cli_parse__oauth2_authorize__account_and_no_operand),
		cmocka_unit_test(
		    cli_parse__diagnostics__mode_account_and_argument),
		cmocka_unit_test(cli_long_options__table__expected_names),
		cmocka_unit_test(cli_long_options__man_page__documents_each),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
