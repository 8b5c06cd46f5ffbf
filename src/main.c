/*
 * postie: a sendmail-compatible mail sender.  This file wires the stages
 * (command line, config, formatter, then deliver.c) and is the only place
 * that prints the final error and returns the exit code.
 */
#include "autoconfig.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "addr.h"
#include "xmalloc.h"
#include "aliases.h"
#include "bs.h"
#include "config.h"
#include "deliver.h"
#include "diag.h"
#include "drop.h"
#include "error.h"
#include "import.h"
#include "log.h"
#include "message.h"
#include "runner.h"
#include "mime.h"
#include "interrupt.h"
#include "progress.h"
#include "oauth2.h"

static int	send_message(const struct cli_opts *, int *, struct error *);
static const struct account *choose(struct config *, const struct cli_opts *,
		    const char *, struct error *);
static char	*header_sender(const struct message *, struct error *);
static int	import_command(const struct cli_opts *, struct error *);
static int	queue_command(const struct cli_opts *, struct error *);
static int	oauth2_command(const struct cli_opts *, struct error *);
static int	diag_command(const struct cli_opts *, struct error *);

int
main(int argc, char **argv)
{
	struct error	 err = ERROR_INIT;
	struct cli_opts	 opts;
	size_t		 i;
	int		 rv = 0, code, smtp = 0, session = 0;

	/* A closed connection must be an error, never a silent death. */
	signal(SIGPIPE, SIG_IGN);
	/* A file size limit must be EFBIG (queue: could not queue), not a
	 * silent death (as Postfix). */
	signal(SIGXFSZ, SIG_IGN);
	/* A caller's SIGCHLD ignored (Perl's $SIG{CHLD} = 'IGNORE' is kept
	 * through exec) makes waitpid() fail with ECHILD: passwordeval's
	 * status, the queue workers' and the type probe's would be lost. */
	signal(SIGCHLD, SIG_DFL);
	log_init("postie", 0);
	if (getuid() != geteuid() || getgid() != getegid()) {
		/*
		 * Do nothing more with privileges than say no: no atexit
		 * handlers, no stdio flushing beyond this line.
		 */
		fputs("postie: refusing to run set-user-ID or set-group-ID: "
		    "install postie without those bits\n", stderr);
		_exit(EX_NOPERM);
	}
	if (cli_parse(&opts, argc, argv, &err) == -1) {
		log_error(&err);
		fprintf(stderr, "%s\n", cli_usage_hint());
		code = err.code;
		error_release(&err);
		return code;
	}
	log_init(opts.progname, opts.verbose);
	progress_set(opts.progress);
	if (opts.msmtp && opts.config_file == NULL)
		opts.config_file = config_msmtp_user_file();
	/* a flush is never cut off halfway by SIGTERM, SIGINT, SIGHUP */
	if (opts.mode == CLI_QUEUE_RUN)
		interrupt_install();
	for (i = 0; i < opts.ignored.n; i++)
		log_debug("option %s accepted and ignored", opts.ignored.v[i]);
	switch (opts.mode) {
	case CLI_HELP:
	case CLI_USAGE:
		break;
	case CLI_VERSION:
		printf("postie %s\nsystem configuration: %s\n",
		    PACKAGE_VERSION, config_system_path());
		break;
	case CLI_NEWALIASES:
		log_info("aliases are read directly from the file named by "
		    "'aliases' in the config; there is nothing to rebuild");
		break;
	case CLI_QUEUE_LIST:
	case CLI_QUEUE_RUN:
	case CLI_QUEUE_DELETE:
	case CLI_QUEUE_HOLD:
	case CLI_QUEUE_RELEASE:
		rv = queue_command(&opts, &err);
		break;
	case CLI_SEND:
		rv = send_message(&opts, &session, &err);
		break;
	case CLI_SMTP:
		/* stdout is the dialogue; a caller takes stderr as failure */
		smtp = 1;
		log_set_stderr(0);
		rv = send_message(&opts, &session, &err);
		break;
	case CLI_IMPORT_CONFIG:
		rv = import_command(&opts, &err);
		break;
	case CLI_OAUTH2_AUTHORIZE:
		rv = oauth2_command(&opts, &err);
		break;
	case CLI_SERVER_INFO:
	case CLI_VERIFY:
	case CLI_EXPAND:
	case CLI_SERVER_HELP:
		rv = diag_command(&opts, &err);
		break;
	}
	cli_opts_release(&opts);
	log_close();
	if (smtp && !session && (rv == -1 || err.code != EX_OK)) {
		/* the session could not start: say so on both sides */
		bs_refuse(STDOUT_FILENO, &err);
		log_set_stderr(1);
	}
	if (rv == -1 || err.code != EX_OK) {
		log_error(&err);
		code = err.code != EX_OK ? err.code : EX_SOFTWARE;
		error_release(&err);
		return code;
	}
	return EX_OK;
}

/* The formatter's options from the command line and the account. */
static void
fill_message_opts(struct message_opts *mo, const struct cli_opts *opts,
    const struct account *acct, const char *qd, const struct aliases *al)
{
	memset(mo, 0, sizeof(*mo));
	mo->extract_rcpts = opts->extract_rcpts;
	mo->ignore_dots = opts->ignore_dots;
	mo->sender = opts->sender;
	mo->read_envelope_from = acct->read_envelope_from;
	if (!acct->allow_from_override && acct->from != NULL) {
		/* msmtp: neither -f nor the From header overrides "from" */
		if (opts->sender != NULL)
			log_debug("-f ignored: allow_from_override is off");
		if (acct->read_envelope_from)
			log_debug("read_envelope_from ignored: "
			    "allow_from_override is off");
		mo->sender = NULL;
		mo->read_envelope_from = 0;
	}
	mo->set_sender_header = acct->set_sender_header;
	mo->fullname = opts->fullname;
	mo->from_default = acct->from;
	mo->from_full_name = acct->from_full_name;
	mo->qualify_domain = qd;
	mo->msgid_domain = qd;
	mo->aliases = al;
	mo->set_from_header = acct->set_from_header;
	mo->set_date_header = acct->set_date_header;
	mo->set_msgid_header = acct->set_msgid_header;
	mo->remove_bcc_headers = acct->remove_bcc_headers;
	mo->rcpts = &opts->rcpts;
}

/* The delivery policy's options from the command line. */
static void
fill_deliver_opts(struct deliver_opts *d, const struct cli_opts *opts)
{
	memset(d, 0, sizeof(*d));
	d->bounce = opts->errmode != NULL && strcmp(opts->errmode, "m") == 0;
	d->queue_only = opts->delivery != NULL &&
	    strcmp(opts->delivery, "q") == 0;
	d->argv0 = opts->argv0;
	d->config_file = opts->config_file;
	d->account = opts->account;
}

/* -q, -bp/mailq, --queue-delete/-hold/-release: the runner's options. */
static int
queue_command(const struct cli_opts *opts, struct error *err)
{
	struct runner_opts	ro;

	memset(&ro, 0, sizeof(ro));
	switch (opts->mode) {
	case CLI_QUEUE_LIST:
		ro.cmd = RUNNER_LIST;
		break;
	case CLI_QUEUE_DELETE:
		ro.cmd = RUNNER_DELETE;
		break;
	case CLI_QUEUE_HOLD:
		ro.cmd = RUNNER_HOLD;
		break;
	case CLI_QUEUE_RELEASE:
		ro.cmd = RUNNER_RELEASE;
		break;
	default:
		ro.cmd = RUNNER_FLUSH;
		break;
	}
	ro.due = opts->due;
	ro.json = opts->json;
	ro.queue_id = opts->queue_id;
	ro.config_file = opts->config_file;
	ro.account = opts->account;
	return runner_command(&ro, err);
}

/* --json: the report on stdout; stderr still has its lines. */
static void
print_json(const struct deliver_report *rep, const struct message *msg,
    const struct account *acct, const char *error)
{
	struct buf	b = BUF_INIT;

	deliver_report_json(rep, message_envelope(msg), acct->name, error,
	    &b);
	if (fwrite(b.data, 1, b.len, stdout) != b.len || fflush(stdout) == EOF)
		log_warnx("cannot write the JSON report: %s", strerror(errno));
	buf_release(&b);
}

/* Without -bs, one message from stdin; with it, an SMTP session
 * (*session set once it starts). */
static int
send_message(const struct cli_opts *opts, int *session, struct error *err)
{
	struct config		 cfg = CONFIG_INIT;
	const struct account	*acct;
	struct aliases		*al = NULL;
	struct message		*msg = NULL;
	struct message_opts	 mo;
	struct compose_opts	 co;
	struct deliver_opts	 dop;
	struct deliver_report	 rep;
	struct strlist		 rcpts = STRLIST_INIT;	/* compose mode */
	char			*qd = NULL, *spool = NULL, *env_from = NULL;
	size_t			 i;
	int			 rv = -1, dropping, sys_unread;

	/* The system file is root's alone: see drop.h. */
	dropping = sys_unread = drop_prepare();
	if ((dropping ? config_load_user(&cfg, opts->config_file, err) :
	    config_load(&cfg, opts->config_file, err)) == -1)
		goto out;
	if ((acct = choose(&cfg, opts, opts->sender, err)) == NULL)
		goto out;
	qd = account_qualify_domain(acct);
	if (acct->aliases != NULL &&
	    (al = aliases_load(acct->aliases, err)) == NULL)
		goto out;
	fill_message_opts(&mo, opts, acct, qd, al);
	mo.spool_dir = spool = deliver_spool_dir(acct);
	fill_deliver_opts(&dop, opts);
	/* A user may not write the others' mailboxes: root's runner does. */
	if (acct->host == NULL && !dropping && geteuid() != 0 &&
	    drop_available())
		dropping = 1;
	if (opts->mode == CLI_SMTP) {
		/* routing unknown when root's account will decide it */
		struct bs_ctx	c = { &dop, acct, qd, &mo,
		    dropping && acct->host == NULL,
		    !(sys_unread && acct->host == NULL),
		    (size_t)acct->message_size_limit };

		*session = 1;
		rv = bs_run(STDIN_FILENO, STDOUT_FILENO, &c, err);
		goto out;
	}

	/* Compose mode builds the message from the options instead. */
	cli_compose_opts(opts, &co);
	msg = opts->compose ?
	    mime_compose(&co, &mo, STDIN_FILENO, &rcpts, err) :
	    message_read(STDIN_FILENO, &mo, err);
	if (msg != NULL && opts->read_envelope_from) {
		/* msmtp: the From header's address is the envelope sender,
		 * and chooses the account when -a did not */
		if ((env_from = header_sender(msg, err)) == NULL ||
		    (acct = choose(&cfg, opts, env_from, err)) == NULL)
			goto out;
		free(qd);
		qd = account_qualify_domain(acct);
		aliases_free(al);
		al = NULL;
		if (acct->aliases != NULL &&
		    (al = aliases_load(acct->aliases, err)) == NULL)
			goto out;
		fill_message_opts(&mo, opts, acct, qd, al);
		mo.spool_dir = spool;
		mo.sender = env_from;
		if (!acct->allow_from_override && acct->from != NULL)
			mo.sender = NULL;
	}
	if (msg == NULL || message_finalize(msg, &mo, err) == -1)
		goto out;
	/*
	 * From here the message is whole: a signal no longer kills postie
	 * (Ctrl-C while typing it still does) but stops the send, and the
	 * message is queued.
	 */
	interrupt_install();

	if (opts->dry_run) {
		const struct envelope *env = message_envelope(msg);

		fprintf(stderr, "MAIL FROM:<%s>\n", env->sender);
		for (i = 0; i < env->rcpts.n; i++)
			fprintf(stderr, "RCPT TO:<%s>\n", env->rcpts.v[i]);
		for (i = 0; i < message_rewrites(msg)->n; i++)
			fprintf(stderr, "header %s\n",
			    message_rewrites(msg)->v[i]);
		rv = message_write(msg, STDOUT_FILENO, err);
		if (rv == 0)
			rv = deliver_dry_run(acct, qd, msg, err);
		goto out;
	}
	if (dropping && acct->host == NULL)
		rv = deliver_hand_over(msg, err);
	else {
		deliver_report_init(&rep);
		rv = deliver_message(&dop, acct, qd, msg, &rep, err);
		if (opts->json)
			print_json(&rep, msg, acct, rv == -1 ? err->msg : NULL);
		deliver_report_release(&rep);
	}
out:
	message_free(msg);
	strlist_release(&rcpts);
	aliases_free(al);
	free(qd);
	free(spool);
	free(env_from);
	config_release(&cfg);
	return rv;
}

/* The account: chosen as config_select() does, then the command line's
 * settings (msmtp's --host and the like, -X) over it. */
static const struct account *
choose(struct config *cfg, const struct cli_opts *opts, const char *sender,
    struct error *err)
{
	const struct account	*acct = NULL;

	if (!opts->new_account &&
	    (acct = config_select(cfg, opts->account, sender, err)) == NULL)
		return NULL;
	if (opts->settings.n == 0)
		return acct;
	return config_override(cfg, acct, &opts->settings, err);
}

/* The address of the message's From header (--read-envelope-from). */
static char *
header_sender(const struct message *msg, struct error *err)
{
	struct addr_list	 l = ADDR_LIST_INIT;
	const char		*from = message_header(msg, "From");
	char			*s;

	if (from == NULL) {
		error_set(err, EX_DATAERR, "--read-envelope-from: the message "
		    "has no From header");
		return NULL;
	}
	if (addr_parse_list(from, &l, err) == -1) {
		error_prefix(err, "--read-envelope-from: the From header");
		return NULL;
	}
	if (l.n == 0) {
		addr_list_release(&l);
		error_set(err, EX_DATAERR, "--read-envelope-from: the From "
		    "header holds no address");
		return NULL;
	}
	s = xstrdup(l.v[0].spec);
	addr_list_release(&l);
	return s;
}

static void
oauth2_show(const char *account, const char *uri, const char *code,
    const char *redirect, void *arg)
{
	(void)arg;
	if (code != NULL)
		printf("To authorize postie for account '%s', open\n  %s\nand "
		    "enter the code\n  %s\nWaiting...\n", account, uri, code);
	else
		printf("To authorize postie for account '%s', open this URL "
		    "in a browser:\n  %s\nThe browser then comes back to "
		    "postie at %s: on another machine, forward that port first "
		    "(ssh -L PORT:127.0.0.1:PORT this-host, PORT from that "
		    "address), or paste here the address the browser ends on "
		    "when it cannot connect.\nWaiting...\n", account, uri,
		    redirect);
	fflush(stdout);
}

/* --oauth2-authorize ACCOUNT: the device or code flow into the token
 * file. */
static int
oauth2_command(const struct cli_opts *opts, struct error *err)
{
	struct config		 cfg = CONFIG_INIT;
	const struct account	*acct;
	int			 rv = -1;

	if (config_load(&cfg, opts->config_file, err) == 0 &&
	    (acct = config_select(&cfg, opts->account, NULL, err)) != NULL &&
	    oauth2_authorize(acct, oauth2_show, NULL, err) == 0) {
		printf("The tokens of account '%s' are in %s\n", acct->name,
		    acct->oauth2_token_file);
		rv = 0;
	}
	config_release(&cfg);
	return rv;
}

/* --server-info, --verify, --expand, --server-help (diag.h). */
static int
diag_command(const struct cli_opts *opts, struct error *err)
{
	struct config		 cfg = CONFIG_INIT;
	const struct account	*acct;
	enum diag_command	 cmd;
	int			 rv = -1;

	cmd = opts->mode == CLI_VERIFY ? DIAG_VERIFY :
	    opts->mode == CLI_EXPAND ? DIAG_EXPAND :
	    opts->mode == CLI_SERVER_HELP ? DIAG_HELP : DIAG_SERVER_INFO;
	if (config_load(&cfg, opts->config_file, err) == 0 &&
	    (acct = config_select(&cfg, opts->account, NULL, err)) != NULL)
		rv = diag_run(acct, cmd, opts->diag_arg, opts->verbose, err);
	config_release(&cfg);
	return rv;
}

/* --import-config: the translation on stdout, each note as a warning. */
static int
import_command(const struct cli_opts *opts, struct error *err)
{
	struct buf		 out = BUF_INIT, notes = BUF_INIT;
	enum import_format	 f = import_format_parse(opts->import_format);
	char			*line, *save = NULL;
	int			 rv;

	if (f == IMPORT_NONE)
		return error_set(err, EX_USAGE, "unknown format '%s' for "
		    "--import-config: use ssmtp, nullmailer or dma",
		    opts->import_format);
	rv = import_config(f, opts->rcpts.n > 0 ? opts->rcpts.v[0] : NULL,
	    &out, &notes, err);
	if (rv == 0) {
		if (fwrite(out.data, 1, out.len, stdout) != out.len ||
		    fflush(stdout) == EOF)
			rv = error_set_errno(err, EX_IOERR, "cannot write the "
			    "configuration");
		for (line = strtok_r(notes.data, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save))
			log_warnx("%s", line);
	}
	if (out.data != NULL)
		explicit_bzero(out.data, out.len);	/* passwords */
	buf_release(&out);
	buf_release(&notes);
	return rv;
}
