/*
 * Unit tests for import.c: ssmtp, nullmailer and dma configurations (the
 * real-shaped files in tests/data/import/) become a postie.conf that
 * postie's own parser reads back with the same relay, port, TLS mode and
 * login; mangled values and settings without an equivalent are noted;
 * and the detector names the format of a foreign line.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"
#include "error.h"
#include "import.h"
#include "util.h"
#include "xmalloc.h"

static char *
data_path(const char *name)
{
	const char	*d = getenv("TESTDATA");

	return xasprintf("%s/import/%s", d != NULL ? d : "../tests/data",
	    name);
}

/* Parse the translation with postie's parser; the default account. */
static const struct account *
reparse(struct config *cfg, const struct buf *out)
{
	struct error		 err = ERROR_INIT;
	const struct account	*a;

	if (config_parse(cfg, out->data, out->len, "imported", &err) == -1)
		fail_msg("the translation does not parse: %s\n%s", err.msg,
		    out->data);
	a = config_select(cfg, NULL, NULL, &err);
	assert_non_null(a);
	return a;
}

static void
import_config__ssmtp_files__same_relay_and_login(void **state)
{
	struct buf		 out = BUF_INIT, notes = BUF_INIT;
	struct config		 cfg = CONFIG_INIT;
	struct error		 err = ERROR_INIT;
	const struct account	*a;
	char			*p = data_path("ssmtp/ssmtp.conf");

	(void)state;
	assert_int_equal(import_config(IMPORT_SSMTP, p, &out, &notes, &err),
	    0);
	a = reparse(&cfg, &out);
	assert_string_equal(a->host, "smtp.example.com");
	assert_int_equal(a->port, 587);
	assert_int_equal(a->tls, 1);
	assert_int_equal(a->tls_starttls, 1);
	assert_string_equal(a->user, "relay-user@example.com");
	/* the whole value, with the '=' and '#' ssmtp would have cut */
	assert_string_equal(a->password, "s3cret=with#hash");
	assert_string_equal(a->qualify_domain, "example.com");
	assert_string_equal(a->domain, "web1.example.com");
	assert_string_equal(a->tls_trust_file,
	    "/etc/ssl/certs/ca-certificates.crt");
	/* FromLineOverride=NO: the From header is ours, -f is not taken */
	assert_int_equal(a->allow_from_override, 0);
	assert_int_equal(a->set_from_header, 1);
	assert_non_null(strstr(notes.data, "ssmtp 2.64 cut off"));
	assert_non_null(strstr(notes.data, "root=postmaster@example.com"));
	assert_non_null(strstr(notes.data, "revaliases:7: mail of local "
	    "user 'root' was sent as 'ops@example.com'"));
	assert_non_null(strstr(notes.data, "user 'alice'"));
	assert_non_null(strstr(out.data, "# NOTE: AuthPass"));
	config_release(&cfg);
	buf_release(&out);
	buf_release(&notes);
	free(p);
}

static void
import_ssmtp__plain_login__cleartext_said_in_words(void **state)
{
	struct buf		 out = BUF_INIT, notes = BUF_INIT;
	struct config		 cfg = CONFIG_INIT;
	struct error		 err = ERROR_INIT;
	const struct account	*a;

	(void)state;
	assert_int_equal(import_ssmtp("mailhub=relay.example.org\n"
	    "AuthUser=u\nAuthPass=pw\n", NULL, &out, &notes, &err), 0);
	a = reparse(&cfg, &out);
	assert_string_equal(a->host, "relay.example.org");
	assert_int_equal(a->tls, 0);
	assert_int_equal(a->auth_cleartext, 1);
	assert_non_null(strstr(notes.data, "without TLS"));
	config_release(&cfg);
	buf_release(&out);
	buf_release(&notes);

	/* no relay: nothing to translate */
	assert_int_equal(import_ssmtp("root=x@y\n", NULL, &out, &notes, &err),
	    -1);
	assert_int_equal(err.code, EX_DATAERR);
	error_release(&err);
	buf_release(&out);
	buf_release(&notes);
}

static void
import_config__nullmailer_dir__remotes_in_order(void **state)
{
	struct buf		 out = BUF_INIT, notes = BUF_INIT;
	struct config		 cfg = CONFIG_INIT;
	struct error		 err = ERROR_INIT;
	const struct account	*a;
	char			*p = data_path("nullmailer");

	(void)state;
	assert_int_equal(import_config(IMPORT_NULLMAILER, p, &out, &notes,
	    &err), 0);
	a = reparse(&cfg, &out);
	assert_string_equal(a->host, "smtp.example.com");
	assert_int_equal(a->port, 587);
	assert_int_equal(a->tls, 1);
	assert_int_equal(a->tls_starttls, 1);
	assert_string_equal(a->user, "relay-user");
	assert_string_equal(a->password, "p4ss");
	assert_string_equal(a->qualify_domain, "web1.example.com");
	/* the second remote is an account of its own, implicit TLS */
	a = config_select(&cfg, "nullmailer2", NULL, &err);
	assert_non_null(a);
	assert_string_equal(a->host, "backup.example.net");
	assert_int_equal(a->port, 465);
	assert_int_equal(a->tls_starttls, 0);
	/* qmqp has no equivalent: left out, and said */
	assert_null(config_select(&cfg, "nullmailer3", NULL, &err));
	error_release(&err);
	assert_non_null(strstr(notes.data, "protocol 'qmqp'"));
	assert_non_null(strstr(out.data, "\naccount default : nullmailer1\n"
	    "# nullmailer tried the remotes in order\nfailover nullmailer2\n"));
	a = config_select(&cfg, NULL, NULL, &err);
	assert_int_equal(a->nfailover, 1);
	assert_string_equal(a->failover_to[0]->name, "nullmailer2");
	assert_non_null(strstr(notes.data, "adminaddr ops@example.com"));
	assert_non_null(strstr(notes.data, "defaultdomain example.com"));
	config_release(&cfg);
	buf_release(&out);
	buf_release(&notes);
	free(p);
	/* the remotes file itself names its directory */
	p = data_path("nullmailer/remotes");
	assert_int_equal(import_config(IMPORT_NULLMAILER, p, &out, &notes,
	    &err), 0);
	assert_non_null(strstr(out.data, "\nfailover nullmailer2\n"));
	buf_release(&out);
	buf_release(&notes);
	free(p);
}

/*
 * nullmailer-send(8)'s options in any order: --auth-login before --user
 * stays LOGIN, --source and --x509certfile have postie keys, a remote
 * without a protocol is smtp; helohost names the EHLO, defaultdomain
 * completes defaulthost, and control files with no equivalent are said.
 */
static void
import_nullmailer__options_any_order__mapped_or_flagged(void **state)
{
	struct buf		 out = BUF_INIT, notes = BUF_INIT;
	struct config		 cfg = CONFIG_INIT;
	struct error		 err = ERROR_INIT;
	struct strlist		 unmapped = STRLIST_INIT;
	struct nullmailer_files	 f;
	const struct account	*a;

	(void)state;
	strlist_add(&unmapped, "sendtimeout");
	memset(&f, 0, sizeof(f));
	f.remotes = "relay.example.org smtp --auth-login --user=u --pass=p "
	    "--starttls --source=192.0.2.5 --x509certfile=/etc/c.pem\n"
	    "backup.example.org\n";
	f.me = "web1.example.org";
	f.defaulthost = "web1";
	f.defaultdomain = "example.org";
	f.helohost = "mx.example.org";
	f.unmapped = &unmapped;
	assert_int_equal(import_nullmailer(&f, &out, &notes, &err), 0);
	a = reparse(&cfg, &out);
	assert_string_equal(a->auth, "login");
	assert_string_equal(a->source_ip, "192.0.2.5");
	assert_string_equal(a->tls_cert_file, "/etc/c.pem");
	assert_string_equal(a->tls_key_file, "/etc/c.pem");
	assert_string_equal(a->domain, "mx.example.org");
	assert_string_equal(a->qualify_domain, "web1.example.org");
	assert_null(strstr(notes.data, "no equivalent in postie: ignored\n"
	    "remotes"));
	assert_null(strstr(notes.data, "'--source'"));
	assert_null(strstr(notes.data, "'--x509certfile'"));
	assert_non_null(strstr(notes.data, "sendtimeout: this nullmailer "
	    "setting has no equivalent"));
	/* the protocol defaults to smtp: the second line is the backup */
	assert_int_equal(a->nfailover, 1);
	assert_string_equal(a->failover_to[0]->host, "backup.example.org");
	config_release(&cfg);
	buf_release(&out);
	buf_release(&notes);
	strlist_release(&unmapped);
}

static void
import_dma__conf_and_auth__login_of_the_smarthost(void **state)
{
	struct buf		 out = BUF_INIT, notes = BUF_INIT;
	struct config		 cfg = CONFIG_INIT;
	struct error		 err = ERROR_INIT;
	const struct account	*a;
	char			*cp = data_path("dma.conf");
	char			*ap = data_path("auth.conf");
	char			*conf, *auth;

	(void)state;
	assert_int_equal(config_read_file(cp, "t", &conf, NULL, &err), 0);
	assert_int_equal(config_read_file(ap, "t", &auth, NULL, &err), 0);
	assert_int_equal(import_dma(conf, auth, &out, &notes, &err), 0);
	a = reparse(&cfg, &out);
	assert_string_equal(a->host, "mail.example.com");
	assert_int_equal(a->port, 465);
	assert_int_equal(a->tls, 1);
	assert_int_equal(a->tls_starttls, 0);
	assert_string_equal(a->user, "relay@example.com");
	/* dma's password is everything after the first ':' */
	assert_string_equal(a->password, "pa:ss");
	assert_string_equal(a->qualify_domain, "example.com");
	assert_non_null(strstr(notes.data, "SPOOLDIR /var/spool/dma"));
	assert_non_null(strstr(notes.data, "'DEFER' has no equivalent"));
	config_release(&cfg);
	buf_release(&out);
	buf_release(&notes);
	freezero_str(conf);
	freezero_str(auth);
	free(cp);
	free(ap);
}

/* dma's MASQUERADE "john@" (dma(8): john at the host's name) becomes a
 * valid from, not "john@", which postie refuses. */
static void
import_dma__masquerade_user_only__valid_from(void **state)
{
	struct buf		 out = BUF_INIT, notes = BUF_INIT;
	struct config		 cfg = CONFIG_INIT;
	struct error		 err = ERROR_INIT;
	const struct account	*a;

	(void)state;
	assert_int_equal(import_dma("SMARTHOST mail.example.com\n"
	    "SECURETRANSFER\nMASQUERADE john@\n", NULL, &out, &notes, &err),
	    0);
	assert_non_null(strstr(out.data, "\nfrom john@%M\n"));
	a = reparse(&cfg, &out);
	assert_true(strncmp(a->from, "john@", 5) == 0 && a->from[5] != '\0');
	config_release(&cfg);
	buf_release(&out);
	buf_release(&notes);
	assert_int_equal(import_dma("SMARTHOST mail.example.com\n"
	    "MAILNAME mx.example.org\nMASQUERADE john@\n", NULL, &out,
	    &notes, &err), 0);
	a = reparse(&cfg, &out);
	assert_string_equal(a->from, "john@mx.example.org");
	config_release(&cfg);
	buf_release(&out);
	buf_release(&notes);
}

static void
import_detect__foreign_lines__named(void **state)
{
	static const struct {
		const char		*key, *rest;
		enum import_format	 want;
	} cases[] = {
		{ "mailhub=smtp.example.com:587", "", IMPORT_SSMTP },
		{ "AuthPass=x", "", IMPORT_SSMTP },
		{ "mailhub", "= smtp.example.com", IMPORT_SSMTP },
		{ "SMARTHOST", "mail.example.com", IMPORT_DMA },
		{ "SECURETRANSFER", "", IMPORT_DMA },
		{ "smtp.example.com", "smtp --port=587", IMPORT_NULLMAILER },
		{ "relay.example.com", "qmqp", IMPORT_NULLMAILER },
		{ "hots", "relay.example.com", IMPORT_NONE },
		{ "mailhub=", "", IMPORT_SSMTP },
		{ "foo=bar", "", IMPORT_NONE },
		{ "smarthost", "x", IMPORT_NONE },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (import_detect(cases[i].key, cases[i].rest) !=
		    cases[i].want)
			fail_msg("case %zu: '%s' '%s'", i, cases[i].key,
			    cases[i].rest);
	assert_int_equal(import_format_parse("ssmtp"), IMPORT_SSMTP);
	assert_int_equal(import_format_parse("exim"), IMPORT_NONE);
	assert_string_equal(import_format_name(IMPORT_DMA), "dma");
}

static void
config_parse__ssmtp_file__error_names_format_and_command(void **state)
{
	struct config	 cfg = CONFIG_INIT;
	struct error	 err = ERROR_INIT;
	static const char text[] = "# sSMTP\nmailhub=smtp.example.com\n";

	(void)state;
	assert_int_equal(config_parse(&cfg, text, sizeof(text) - 1,
	    "/etc/postie.conf", &err), -1);
	assert_int_equal(err.code, EX_CONFIG);
	assert_non_null(strstr(err.msg, "/etc/postie.conf:2"));
	assert_non_null(strstr(err.msg, "this is ssmtp's configuration"));
	assert_non_null(strstr(err.msg, "postie --import-config ssmtp "
	    "/etc/postie.conf"));
	error_release(&err);
	config_release(&cfg);
}

/* A foreign file's first line may be its password (ssmtp's AuthPass=,
 * dma's auth.conf): the error names the key, never the value; for
 * nullmailer the command names the directory of the file. */
static void
config_parse__foreign_secret_line__value_not_echoed(void **state)
{
	static const struct {
		const char	*text, *want, *absent;
	} cases[] = {
		{ "AuthPass=TopSecret99\nmailhub=h\n",
		    "t.conf:1: unknown key 'AuthPass': this is ssmtp's "
		    "configuration", "TopSecret99" },
		{ "relay@example.org|mail.example.org:TopSecret99\n",
		    "t.conf:1: unknown key 'relay@example.org'", "TopSecret99" },
		{ "smtp.example.org smtp --user=u --pass=TopSecret99\n",
		    "'postie --import-config nullmailer /etc/nullmailer'",
		    "TopSecret99" },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config	 cfg = CONFIG_INIT;
		struct error	 err = ERROR_INIT;
		const char	*name = i == 2 ? "/etc/nullmailer/remotes" :
		    "t.conf";

		assert_int_equal(config_parse(&cfg, cases[i].text,
		    strlen(cases[i].text), name, &err), -1);
		if (strstr(err.msg, cases[i].want) == NULL ||
		    strstr(err.msg, cases[i].absent) != NULL)
			fail_msg("case %zu: %s", i, err.msg);
		error_release(&err);
		config_release(&cfg);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    import_config__ssmtp_files__same_relay_and_login),
		cmocka_unit_test(
		    import_ssmtp__plain_login__cleartext_said_in_words),
		cmocka_unit_test(
		    import_config__nullmailer_dir__remotes_in_order),
		cmocka_unit_test(
		    import_nullmailer__options_any_order__mapped_or_flagged),
		cmocka_unit_test(
		    import_dma__conf_and_auth__login_of_the_smarthost),
		cmocka_unit_test(import_dma__masquerade_user_only__valid_from),
		cmocka_unit_test(import_detect__foreign_lines__named),
		cmocka_unit_test(
		    config_parse__ssmtp_file__error_names_format_and_command),
		cmocka_unit_test(
		    config_parse__foreign_secret_line__value_not_echoed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
