/*
 * postie: a sendmail-compatible mail sender.  This file wires the stages
 * (command line, config, formatter, transport) and is the only place that
 * prints the final error and chooses the exit code.
 */
#include "autoconfig.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "error.h"
#include "local.h"
#include "log.h"
#include "message.h"
#include "transport.h"
#include "util.h"
#include "xmalloc.h"

static int	send_message(const struct cli_opts *, struct error *);
static int	deliver(const struct account *, const struct message *,
		    struct error *);
static int	deliver_local(const struct account *, const struct message *,
		    const char *, struct error *);
static void	report(const struct message *, const struct send_result *);

int
main(int argc, char **argv)
{
	struct error	 err = ERROR_INIT;
	struct cli_opts	 opts;
	size_t		 i;
	int		 rv = 0, code;

	/* A closed connection must be an error, never a silent death. */
	signal(SIGPIPE, SIG_IGN);
	log_init("postie", 0);
	if (getuid() != geteuid() || getgid() != getegid()) {
		error_set(&err, EX_NOPERM, "refusing to run set-user-ID or "
		    "set-group-ID: install postie without those bits");
		goto out;
	}
	if (cli_parse(&opts, argc, argv, &err) == -1) {
		log_error(&err);
		fprintf(stderr, "%s\n", cli_usage_hint());
		code = err.code;
		error_release(&err);
		return code;
	}
	log_init(opts.progname, opts.verbose);
	for (i = 0; i < opts.ignored.n; i++)
		log_debug("option %s accepted and ignored", opts.ignored.v[i]);
	switch (opts.mode) {
	case CLI_HELP:
	case CLI_USAGE:
		break;
	case CLI_VERSION:
		printf("postie %s\n", PACKAGE_VERSION);
		break;
	case CLI_NEWALIASES:
		log_info("aliases are read directly from the file named by "
		    "'aliases' in the config; there is nothing to rebuild");
		break;
	case CLI_QUEUE_LIST:
		/* XXX: the queue does not exist yet: nothing is ever kept. */
		printf("Mail queue is empty\n");
		break;
	case CLI_QUEUE_RUN:
		log_debug("the mail queue is empty");
		break;
	case CLI_SEND:
		rv = send_message(&opts, &err);
		break;
	}
	cli_opts_release(&opts);
out:
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
	if (opts->sender != NULL && !acct->allow_from_override &&
	    acct->from != NULL) {
		log_debug("-f ignored: allow_from_override is off");
		mo->sender = NULL;
	}
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

static int
send_message(const struct cli_opts *opts, struct error *err)
{
	struct config		 cfg = CONFIG_INIT;
	const struct account	*acct;
	struct aliases		*al = NULL;
	struct message		*msg = NULL;
	struct message_opts	 mo;
	char			*qd = NULL;
	size_t			 i;
	int			 rv = -1;

	if (config_load(&cfg, opts->config_file, err) == -1)
		goto out;
	acct = config_select(&cfg, opts->account, opts->sender, err);
	if (acct == NULL)
		goto out;
	qd = account_qualify_domain(acct);
	if (acct->aliases != NULL &&
	    (al = aliases_load(acct->aliases, err)) == NULL)
		goto out;
	fill_message_opts(&mo, opts, acct, qd, al);

	if ((msg = message_read(STDIN_FILENO, &mo, err)) == NULL ||
	    message_finalize(msg, &mo, err) == -1)
		goto out;

	if (opts->dry_run) {
		const struct envelope *env = message_envelope(msg);

		fprintf(stderr, "MAIL FROM:<%s>\n", env->sender);
		for (i = 0; i < env->rcpts.n; i++)
			fprintf(stderr, "RCPT TO:<%s>\n", env->rcpts.v[i]);
		rv = message_write(msg, STDOUT_FILENO, err);
		goto out;
	}
	rv = deliver(acct, msg, err);
out:
	message_free(msg);
	aliases_free(al);
	free(qd);
	config_release(&cfg);
	return rv;
}

static int
deliver(const struct account *acct, const struct message *msg,
    struct error *err)
{
	const struct envelope	*env = message_envelope(msg);
	struct transport	*t;
	struct message_reader	*r;
	struct send_result	 res;
	char			*qd;
	int			 rv;

	if (acct->host == NULL) {
		qd = account_qualify_domain(acct);
		rv = deliver_local(acct, msg, qd, err);
		free(qd);
		return rv;
	}
	if ((t = transport_new(acct, log_verbose(), err)) == NULL)
		return -1;
	r = message_reader_new(msg);
	send_result_init(&res, env->rcpts.n);
	/* transport_send() names refused recipients itself. */
	rv = transport_send(t, env, r, message_size(msg), &res, err);
	send_result_release(&res);
	message_reader_free(r);
	transport_free(t);
	return rv;
}

/* The embedded default: every recipient must be on this host. */
static int
deliver_local(const struct account *acct, const struct message *msg,
    const char *qd, struct error *err)
{
	const struct envelope	*env = message_envelope(msg);
	struct strlist		 domains = STRLIST_INIT;
	struct local_opts	 lo;
	struct send_result	 res;
	char			 host[256];
	size_t			 i;
	int			 rv = -1;

	strlist_add(&domains, qd);
	strlist_add_owned(&domains, util_fqdn());
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		strlist_add(&domains, host);
	}
	memset(&lo, 0, sizeof(lo));
	lo.spool = acct->local_spool;
	lo.maildir = acct->local_maildir;
	lo.domains = &domains;
	for (i = 0; i < env->rcpts.n; i++)
		if (!local_is_local(&lo, env->rcpts.v[i])) {
			error_set(err, EX_UNAVAILABLE, "no relay configured "
			    "for remote recipient <%s>: set 'host' (and "
			    "'port', 'tls', 'auth') in /etc/postie.conf or "
			    "~/.postierc, see postie.conf(5)",
			    env->rcpts.v[i]);
			goto out;
		}
	send_result_init(&res, env->rcpts.n);
	rv = local_deliver(&lo, msg, &res, err);
	if (rv == 0)
		report(msg, &res);
	send_result_release(&res);
out:
	strlist_release(&domains);
	return rv;
}

/* After a delivery that succeeded for some: name the others. */
static void
report(const struct message *msg, const struct send_result *res)
{
	const struct envelope	*env = message_envelope(msg);
	size_t			 i;

	for (i = 0; i < res->n && i < env->rcpts.n; i++) {
		const struct rcpt_result *rr = &res->rcpt[i];

		switch (rr->state) {
		case RCPT_ACCEPTED:
			break;
		case RCPT_PERMFAIL:
			log_warnx("<%s> not delivered: %d %s",
			    env->rcpts.v[i], rr->code,
			    rr->reply != NULL ? rr->reply : "");
			break;
		case RCPT_TEMPFAIL:
		case RCPT_PENDING:
			/* XXX: kept nowhere until the queue exists. */
			log_warnx("<%s> not delivered (temporary failure, "
			    "not retried): %d %s", env->rcpts.v[i], rr->code,
			    rr->reply != NULL ? rr->reply : "");
			break;
		}
	}
}
