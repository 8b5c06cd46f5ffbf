/*
 * Unit tests for the configuration module: msmtp-compatible parsing,
 * file loading and permissions, account selection, passwordeval, aliases.
 */
#include "autoconfig.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "aliases.h"
#include "config.h"
#include "secret.h"
#include "error.h"
#include "util.h"
#include "xmalloc.h"

#define NAME	"t.conf"

static char	 tmpdir[] = "/tmp/postie-test-config.XXXXXX";
static char	*testdata;

/* Helpers. */

static char *
find_testdata(void)
{
	static const char *const cand[] = { "tests/data", "data", "../data",
	    "../tests/data", "../../tests/data" };
	const char	*env = getenv("TESTDATA");
	char		*dir, *probe;
	const char	*slash;
	size_t		 i;

	if (env != NULL && *env != '\0')
		return xstrdup(env);
	/* __FILE__ is ".../tests/unit/test_config.c" or relative to tests/. */
	slash = strrchr(__FILE__, '/');
	dir = slash != NULL ? xasprintf("%.*s/../data",
	    (int)(slash - __FILE__), __FILE__) : xstrdup("../data");
	probe = xasprintf("%s/config/msmtprc", dir);
	if (access(probe, R_OK) == 0) {
		free(probe);
		return dir;
	}
	free(probe);
	free(dir);
	for (i = 0; i < sizeof(cand) / sizeof(cand[0]); i++) {
		probe = xasprintf("%s/config/msmtprc", cand[i]);
		if (access(probe, R_OK) == 0) {
			free(probe);
			return xstrdup(cand[i]);
		}
		free(probe);
	}
	return xstrdup("tests/data");
}

static char *
slurp(const char *path, size_t *len)
{
	struct buf	 b = BUF_INIT;
	char		 chunk[4096];
	ssize_t		 r;
	int		 fd;

	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	while ((r = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(&b, chunk, (size_t)r);
	close(fd);
	*len = b.len;
	return buf_detach(&b);
}

static char *
write_file(const char *name, const char *text, mode_t mode)
{
	char	*path;
	int	 fd;

	path = xasprintf("%s/%s", tmpdir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(util_write_all(fd, text, strlen(text)), 0);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

static void
parse_ok(struct config *cfg, const char *text)
{
	struct error	err = ERROR_INIT;
	int		rc;

	rc = config_parse(cfg, text, strlen(text), NAME, &err);
	if (rc != 0)
		fail_msg("unexpected error: %s", err.msg);
	assert_int_equal(err.code, EX_OK);
}

static const struct account *
only_account(const struct config *cfg, const char *name)
{
	size_t	i;

	for (i = 0; i < cfg->naccounts; i++)
		if (strcmp(cfg->accounts[i]->name, name) == 0)
			return cfg->accounts[i];
	fail_msg("no account '%s'", name);
	return NULL;
}

static const char *
str_field(const struct account *a, size_t off)
{
	return *(const char *const *)(const void *)((const char *)a + off);
}

static int
int_field(const struct account *a, size_t off)
{
	return *(const int *)(const void *)((const char *)a + off);
}

static void
rm_rf(const char *dir)
{
	char	*cmd;

	cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static int
group_setup(void **state)
{
	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	testdata = find_testdata();
	/* Never read the real /etc/postie.conf or ~/.postierc. */
	setenv("POSTIE_SYSCONFIG", "/nonexistent/postie.conf", 1);
	unsetenv("POSTIE_CONFIG");
	setenv("HOME", tmpdir, 1);
	unsetenv("XDG_CONFIG_HOME");
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	rm_rf(tmpdir);
	free(testdata);
	return 0;
}

/* Keys: each value lands in its field. */

struct key_case {
	const char	*line;
	size_t		 off;
	int		 is_str;
	const char	*s;	/* expected string (NULL: unset) */
	int		 i;	/* expected int */
};

#define STR(f, v)	offsetof(struct account, f), 1, v, 0
#define INT(f, v)	offsetof(struct account, f), 0, NULL, v

static const struct key_case key_cases[] = {
	{ "host smtp.example.org", STR(host, "smtp.example.org") },
	{ "host 192.0.2.1", STR(host, "192.0.2.1") },
	{ "host ::1", STR(host, "::1") },
	{ "port 587", INT(port, 587) },
	{ "port 1", INT(port, 1) },
	{ "port 65535", INT(port, 65535) },
	{ "tls on", INT(tls, 1) },
	{ "tls", INT(tls, 1) },			/* empty is "on" */
	{ "tls off", INT(tls, 0) },
	{ "tls ON", INT(tls, 1) },
	{ "tls_starttls off", INT(tls_starttls, 0) },
	{ "tls_starttls", INT(tls_starttls, 1) },
	{ "tls_trust_file /etc/ssl/ca.pem", STR(tls_trust_file,
	    "/etc/ssl/ca.pem") },
	{ "tls_trust_file system", STR(tls_trust_file, "system") },
	{ "tls_trust_file", STR(tls_trust_file, NULL) },
	{ "tls_crl_file /etc/ssl/crl.pem", STR(tls_crl_file,
	    "/etc/ssl/crl.pem") },
	{ "tls_certcheck off", INT(tls_certcheck, 0) },
	{ "tls_certcheck on", INT(tls_certcheck, 1) },
	{ "tls_fingerprint "
	    "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:"
	    "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff",
	    STR(tls_fingerprint,
	    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
	    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF") },
	{ "tls_fingerprint "
	    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33",
	    STR(tls_fingerprint,
	    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33") },
	{ "tls_fingerprint "
	    "sha256//YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRMwE=",
	    STR(tls_fingerprint,
	    "sha256//YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRMwE=") },
	{ "tls_fingerprint", STR(tls_fingerprint, NULL) },
	{ "tls_cert_file /c.pem", STR(tls_cert_file, "/c.pem") },
	{ "tls_key_file /k.pem", STR(tls_key_file, "/k.pem") },
	{ "tls_host_override mx.example.org", STR(tls_host_override,
	    "mx.example.org") },
	{ "auth on", STR(auth, "on") },
	{ "auth", STR(auth, "on") },
	{ "auth off", STR(auth, NULL) },
	{ "auth plain", STR(auth, "plain") },
	{ "auth PLAIN", STR(auth, "plain") },
	{ "auth scram-sha-1", STR(auth, "scram-sha-1") },
	{ "auth scram-sha-256", STR(auth, "scram-sha-256") },
	{ "auth external", STR(auth, "external") },
	{ "auth gssapi", STR(auth, "gssapi") },
	{ "auth cram-md5", STR(auth, "cram-md5") },
	{ "auth digest-md5", STR(auth, "digest-md5") },
	{ "auth login", STR(auth, "login") },
	{ "auth ntlm", STR(auth, "ntlm") },
	{ "auth oauthbearer", STR(auth, "oauthbearer") },
	{ "auth xoauth2", STR(auth, "xoauth2") },
	{ "user jane@example.org", STR(user, "jane@example.org") },
	{ "user", STR(user, NULL) },
	{ "password p#ss w0rd", STR(password, "p#ss w0rd") },
	{ "passwordeval pass show mail", STR(passwordeval,
	    "pass show mail") },
	{ "auth_cleartext on", INT(auth_cleartext, 1) },
	/* OAuth2 */
	{ "oauth2_token_file /t.json", STR(oauth2_token_file, "/t.json") },
	{ "oauth2_token_url https://login.example/token",
	    STR(oauth2_token_url, "https://login.example/token") },
	{ "oauth2_token_endpoint http://127.0.0.1:8080/t",
	    STR(oauth2_token_url, "http://127.0.0.1:8080/t") },
	{ "oauth2_token_url http://[::1]/t", STR(oauth2_token_url,
	    "http://[::1]/t") },
	{ "oauth2_token_url http://localhost/t", STR(oauth2_token_url,
	    "http://localhost/t") },
	{ "oauth2_token_url", STR(oauth2_token_url, NULL) },
	{ "oauth2_provider microsoft", INT(oauth2_provider,
	    OAUTH2_PROVIDER_MICROSOFT) },
	{ "oauth2_provider Google", INT(oauth2_provider,
	    OAUTH2_PROVIDER_GOOGLE) },
	{ "oauth2_provider custom", INT(oauth2_provider,
	    OAUTH2_PROVIDER_CUSTOM) },
	{ "oauth2_tenant contoso.onmicrosoft.com", STR(oauth2_tenant,
	    "contoso.onmicrosoft.com") },
	{ "oauth2_device_endpoint https://login.example/devicecode",
	    STR(oauth2_device_url, "https://login.example/devicecode") },
	{ "oauth2_client_id abc-123", STR(oauth2_client_id, "abc-123") },
	{ "oauth2_client_secret s#cret", STR(oauth2_client_secret,
	    "s#cret") },
	{ "oauth2_client_secret_eval pass show x",
	    STR(oauth2_client_secret_eval, "pass show x") },
	{ "oauth2_scope https://outlook.office365.com/.default",
	    STR(oauth2_scope, "https://outlook.office365.com/.default") },
	{ "oauth2_flow client_credentials", INT(oauth2_flow,
	    OAUTH2_FLOW_CLIENT_CREDENTIALS) },
	{ "oauth2_flow refresh_token", INT(oauth2_flow,
	    OAUTH2_FLOW_REFRESH_TOKEN) },
	{ "auth_cleartext off", INT(auth_cleartext, 0) },
	{ "from jane@example.org", STR(from, "jane@example.org") },
	{ "from *@example.org", STR(from, "*@example.org") },
	{ "from 100%x@example.org", STR(from, "100%x@example.org") },
	{ "from_full_name Jane Doe", STR(from_full_name, "Jane Doe") },
	{ "allow_from_override off", INT(allow_from_override, 0) },
	{ "domain client.example.org", STR(domain, "client.example.org") },
	{ "domain [192.0.2.7]", STR(domain, "[192.0.2.7]") },
	{ "domain", STR(domain, NULL) },	/* the FQDN, else [address] */
	{ "qualify_domain example.net", STR(qualify_domain, "example.net") },
	{ "aliases /etc/aliases", STR(aliases, "/etc/aliases") },
	{ "timeout 30", INT(timeout, 30) },
	{ "timeout off", INT(timeout, 0) },
	{ "connect_timeout 12", INT(timeout, 12) },
	{ "logfile /var/log/postie.log", STR(logfile,
	    "/var/log/postie.log") },
	{ "logfile -", STR(logfile, "-") },
	{ "syslog on", STR(syslog, "LOG_USER") },
	{ "syslog", STR(syslog, "LOG_USER") },
	{ "syslog off", STR(syslog, NULL) },
	{ "syslog LOG_MAIL", STR(syslog, "LOG_MAIL") },
	{ "syslog LOG_LOCAL7", STR(syslog, "LOG_LOCAL7") },
	{ "set_from_header on", INT(set_from_header, 1) },
	{ "set_from_header off", INT(set_from_header, 0) },
	{ "set_from_header auto", INT(set_from_header, TRI_AUTO) },
	{ "set_date_header off", INT(set_date_header, 0) },
	{ "set_date_header auto", INT(set_date_header, TRI_AUTO) },
	{ "set_msgid_header off", INT(set_msgid_header, 0) },
	{ "set_msgid_header auto", INT(set_msgid_header, TRI_AUTO) },
	{ "remove_bcc_headers off", INT(remove_bcc_headers, 0) },
	{ "undisclosed_recipients on", INT(undisclosed_recipients, 1) },
	{ "read_envelope_from on", INT(read_envelope_from, 1) },
	{ "read_envelope_from off", INT(read_envelope_from, 0) },
	{ "set_sender_header on", INT(set_sender_header, 1) },
	{ "set_sender_header off", INT(set_sender_header, 0) },
	/* network */
	{ "source_ip 192.0.2.5", STR(source_ip, "192.0.2.5") },
	{ "source_ip 2001:db8::5", STR(source_ip, "2001:db8::5") },
	{ "source_ip", STR(source_ip, NULL) },
	{ "proxy_host 127.0.0.1", STR(proxy_host, "127.0.0.1") },
	{ "proxy_host socks.example.org", STR(proxy_host,
	    "socks.example.org") },
	{ "proxy_port 9050", INT(proxy_port, 9050) },
	{ "local_spool /var/spool/mail", STR(local_spool,
	    "/var/spool/mail") },
	{ "local_maildir ~/Mail/%u", STR(local_maildir, "~/Mail/%u") },
	/* the queue */
	{ "queue off", INT(queue, 0) },
	{ "queue on", INT(queue, 1) },
	{ "queue_dir /var/spool/postie", STR(queue_dir,
	    "/var/spool/postie") },
	{ "queue_lifetime 5d", INT(queue_lifetime, 5 * 86400) },
	{ "queue_lifetime 12h", INT(queue_lifetime, 12 * 3600) },
	{ "queue_lifetime 90", INT(queue_lifetime, 90) },
	{ "queue_lifetime 30m", INT(queue_lifetime, 1800) },
	{ "queue_lifetime 2w", INT(queue_lifetime, 14 * 86400) },
	{ "queue_lifetime 1s", INT(queue_lifetime, 1) },
	{ "queue_flush_on_send off", INT(queue_flush_on_send, 0) },
	{ "queue_backoff_max 1h", INT(queue_backoff_max, 3600) },
	/* msmtp's older names, mapped */
	{ "add_missing_from_header off", INT(set_from_header, 0) },
	{ "add_missing_from_header on", INT(set_from_header, TRI_AUTO) },
	{ "add_missing_date_header off", INT(set_date_header, 0) },
	{ "keepbcc on", INT(remove_bcc_headers, 0) },
	{ "keepbcc off", INT(remove_bcc_headers, 1) },
	{ "maildomain example.com", STR(qualify_domain, "example.com") },
	/* quoting */
	{ "user \"  spaced  \"", STR(user, "  spaced  ") },
	{ "user \"a \\\"q\\\" b\"", STR(user, "a \"q\" b") },
	{ "user \"back\\\\slash\"", STR(user, "back\\slash") },
	{ "user \"x\\y\"", STR(user, "x\\y") },
	{ "user \"\"", STR(user, NULL) },
	{ "user pa\"ss", STR(user, "pa\"ss") },
	{ "user   bob  \t ", STR(user, "bob") },
	{ "user\tbob", STR(user, "bob") },
	{ "  user bob", STR(user, "bob") },
	{ "user b\xc3\xa9n\xc3\xa9" "dicte", STR(user,
	    "b\xc3\xa9n\xc3\xa9" "dicte") },
};

static void
config_parse__each_key__sets_its_field(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
		const struct key_case	*c = &key_cases[i];
		struct config		 cfg = CONFIG_INIT;
		char			*text;

		text = xasprintf("account a\nhost h.example\n%s\n", c->line);
		parse_ok(&cfg, text);
		assert_int_equal(cfg.naccounts, 1);
		if (c->is_str) {
			const char *got = str_field(cfg.accounts[0], c->off);

			if (c->s == NULL && got != NULL)
				fail_msg("'%s': expected unset, got '%s'",
				    c->line, got);
			if (c->s != NULL && (got == NULL ||
			    strcmp(got, c->s) != 0))
				fail_msg("'%s': expected '%s', got '%s'",
				    c->line, c->s, got ? got : "(null)");
		} else if (int_field(cfg.accounts[0], c->off) != c->i)
			fail_msg("'%s': expected %d, got %d", c->line, c->i,
			    int_field(cfg.accounts[0], c->off));
		config_release(&cfg);
		free(text);
	}
}

/* Errors: the exact message, with file and line. */

struct err_case {
	const char	*text;
	const char	*msg;
};

static const struct err_case err_cases[] = {
	{ "account a\nhost h\noauth2_token_url http://login.example/t\n",
	    "t.conf:3: invalid value 'http://login.example/t' for "
	    "'oauth2_token_url': the token endpoint must be an https:// URL "
	    "(http:// only to a loopback address)" },
	{ "account a\nhost h\noauth2_token_endpoint ftp://x/t\n",
	    "t.conf:3: invalid value 'ftp://x/t' for 'oauth2_token_endpoint': "
	    "the token endpoint must be an https:// URL (http:// only to a "
	    "loopback address)" },
	{ "account a\nhost h\noauth2_provider yahoo\n",
	    "t.conf:3: invalid value 'yahoo' for 'oauth2_provider': use "
	    "microsoft, google or custom" },
	{ "account a\nhost h\noauth2_tenant a/b\n",
	    "t.conf:3: invalid value 'a/b' for 'oauth2_tenant'" },
	{ "account a\nhost h\noauth2_flow device\n",
	    "t.conf:3: invalid value 'device' for 'oauth2_flow': use "
	    "refresh_token or client_credentials" },
	{ "account a\nhost h\nport 0\n",
	    "t.conf:3: invalid value '0' for 'port'" },
	{ "account a\nhost h\nport 65536\n",
	    "t.conf:3: invalid value '65536' for 'port'" },
	{ "account a\nhost h\nport 25x\n",
	    "t.conf:3: invalid value '25x' for 'port'" },
	{ "account a\nhost h\nport -1\n",
	    "t.conf:3: invalid value '-1' for 'port'" },
	{ "account a\nhost h\nport\n",
	    "t.conf:3: invalid value '' for 'port'" },
	{ "account a\nhost h\ntimeout 0\n",
	    "t.conf:3: invalid value '0' for 'timeout'" },
	{ "account a\nhost h\ntimeout soon\n",
	    "t.conf:3: invalid value 'soon' for 'timeout'" },
	{ "account a\nhost h\ntls yes\n",
	    "t.conf:3: invalid value 'yes' for 'tls'" },
	{ "account a\nhost h\ntls_starttls 1\n",
	    "t.conf:3: invalid value '1' for 'tls_starttls'" },
	{ "account a\nhost h\ntls_certcheck maybe\n",
	    "t.conf:3: invalid value 'maybe' for 'tls_certcheck'" },
	{ "account a\nhost h\ntls_fingerprint AB:CD\n",
	    "t.conf:3: invalid value 'AB:CD' for 'tls_fingerprint'" },
	{ "account a\nhost h\ntls_fingerprint "
	    "0011:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:\n",
	    "t.conf:3: invalid value "
	    "'0011:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:' "
	    "for 'tls_fingerprint'" },
	{ "account a\nhost h\ntls_fingerprint sha256//\n",
	    "t.conf:3: invalid value 'sha256//' for 'tls_fingerprint'" },
	{ "account a\nhost h\ntls_fingerprint sha256//a b\n",
	    "t.conf:3: invalid value 'sha256//a b' for 'tls_fingerprint'" },
	{ "account a\nhost h\nauth magic\n",
	    "t.conf:3: invalid value 'magic' for 'auth'" },
	{ "account a\nhost h\nauth_cleartext sure\n",
	    "t.conf:3: invalid value 'sure' for 'auth_cleartext'" },
	{ "account a\nhost h\nallow_from_override no\n",
	    "t.conf:3: invalid value 'no' for 'allow_from_override'" },
	{ "account a\nhost h\nqueue maybe\n",
	    "t.conf:3: invalid value 'maybe' for 'queue'" },
	{ "account a\nhost h\nqueue_lifetime 0\n",
	    "t.conf:3: invalid value '0' for 'queue_lifetime'" },
	{ "account a\nhost h\nqueue_lifetime 5y\n",
	    "t.conf:3: invalid value '5y' for 'queue_lifetime'" },
	{ "account a\nhost h\nqueue_lifetime 400d\n",
	    "t.conf:3: invalid value '400d' for 'queue_lifetime'" },
	{ "account a\nhost h\nqueue_lifetime d\n",
	    "t.conf:3: invalid value 'd' for 'queue_lifetime'" },
	{ "account a\nhost h\nqueue_backoff_max -1\n",
	    "t.conf:3: invalid value '-1' for 'queue_backoff_max'" },
	{ "account a\nhost h\nsyslog LOG_KERN\n",
	    "t.conf:3: invalid value 'LOG_KERN' for 'syslog'" },
	{ "account a\nhost h\nsyslog LOG_LOCAL8\n",
	    "t.conf:3: invalid value 'LOG_LOCAL8' for 'syslog'" },
	{ "account a\nhost h\nset_from_header always\n",
	    "t.conf:3: invalid value 'always' for 'set_from_header'" },
	{ "account a\nhost h\nset_date_header on\n",
	    "t.conf:3: invalid value 'on' for 'set_date_header'" },
	{ "account a\nhost h\nset_msgid_header on\n",
	    "t.conf:3: invalid value 'on' for 'set_msgid_header'" },
	{ "account a\nhost h\nremove_bcc_headers x\n",
	    "t.conf:3: invalid value 'x' for 'remove_bcc_headers'" },
	{ "account a\nhost h\nundisclosed_recipients x\n",
	    "t.conf:3: invalid value 'x' for 'undisclosed_recipients'" },
	{ "account a\nhost h\nkeepbcc x\n",
	    "t.conf:3: invalid value 'x' for 'keepbcc'" },
	{ "account a\nhost h\nadd_missing_date_header x\n",
	    "t.conf:3: invalid value 'x' for 'add_missing_date_header'" },
	{ "account a\nhost h\ndomain bad domain\n",
	    "t.conf:3: invalid value 'bad domain' for 'domain'" },
	{ "account a\nhost bad/host\n",
	    "t.conf:2: invalid value 'bad/host' for 'host'" },
	{ "account a\nhost\n",
	    "t.conf:2: 'host' needs a value" },
	{ "account a\nhost h\nprotocol lmtp\n",
	    "t.conf:3: protocol 'lmtp' is not supported" },
	{ "account a\nhost h\nprotocol http\n",
	    "t.conf:3: invalid value 'http' for 'protocol'" },
	{ "account a\nhost h\nhots h2\n",
	    "t.conf:3: unknown key 'hots'" },
	{ "account a\naccount a\n",
	    "t.conf:2: account 'a' is already defined" },
	{ "account a\naccount b : zz\n",
	    "t.conf:2: account 'b' inherits from 'zz', which is not defined "
	    "above it" },
	{ "account b : b\n",
	    "t.conf:1: account 'b' inherits from 'b', which is not defined "
	    "above it" },
	{ "account\n", "t.conf:1: 'account' needs a name" },
	{ "account a :\n",
	    "t.conf:1: 'account' has ':' but no account to inherit from" },
	{ "account a b\n", "t.conf:1: invalid account name 'a b'" },
	{ "defaults now\n", "t.conf:1: 'defaults' takes no value" },
	{ "account a\nuser \"open\n",
	    "t.conf:2: unterminated quoted value" },
	{ "account a\nuser \"a\" b\n",
	    "t.conf:2: text after the closing quote" },
	{ "account a\nuser a\033b\n",
	    "t.conf:2: control character in line" },
	{ "account a\r\nhost h\r\nport x\r\n",
	    "t.conf:3: invalid value 'x' for 'port'" },
};

static void
config_parse__bad_input__names_file_and_line(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		struct config	cfg = CONFIG_INIT;
		struct error	err = ERROR_INIT;
		int		rc;

		rc = config_parse(&cfg, err_cases[i].text,
		    strlen(err_cases[i].text), NAME, &err);
		if (rc != -1)
			fail_msg("case %zu: accepted", i);
		assert_int_equal(err.code, EX_CONFIG);
		if (strcmp(err.msg, err_cases[i].msg) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, err.msg,
			    err_cases[i].msg);
		/* Nothing half-parsed is left behind. */
		assert_int_equal(cfg.naccounts, 0);
		config_release(&cfg);
		error_release(&err);
	}
}

static void
config_parse__long_line_or_nul__refused(void **state)
{
	struct config	 cfg = CONFIG_INIT;
	struct error	 err = ERROR_INIT;
	struct buf	 b = BUF_INIT;
	size_t		 i;
	static const char nul[] = "account a\nuser a\0b\n";

	(void)state;
	buf_addstr(&b, "account a\nuser ");
	for (i = 0; i < 5000; i++)
		buf_addch(&b, 'x');
	buf_addch(&b, '\n');
	assert_int_equal(config_parse(&cfg, b.data, b.len, NAME, &err), -1);
	assert_string_equal(err.msg, "t.conf:2: line longer than 4096 bytes");
	error_release(&err);
	assert_int_equal(config_parse(&cfg, nul, sizeof(nul) - 1, NAME, &err),
	    -1);
	assert_string_equal(err.msg, "t.conf:2: NUL byte in line");
	error_release(&err);
	buf_release(&b);
	config_release(&cfg);
}

/* msmtp keys postie does not implement are accepted. */

static void
config_parse__msmtp_only_keys__accepted(void **state)
{
	static const char *const lines[] = {
		"tls_priorities NORMAL:-VERS-TLS1.0",
		"tls_min_dh_prime_bits 1024",
		"tls_force_sslv3 off",
		"dsn_notify failure,delay",
		"dsn_return headers",
		"ntlmdomain WORKGROUP",
		"socket /run/smtp.sock",
		"logfile_time_format %Y-%m-%d",
		"eval echo host mail.example.org",
		"protocol smtp",
		"auto_from off",
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct config	cfg = CONFIG_INIT;
		char		*text;

		text = xasprintf("account a\nhost h.example\n%s\n", lines[i]);
		parse_ok(&cfg, text);
		assert_string_equal(cfg.accounts[0]->host, "h.example");
		config_release(&cfg);
		free(text);
	}
}

/* route and failover: resolved once every file is read. */
static void
config_parse__route_and_failover__resolved(void **state)
{
	struct config		 cfg = CONFIG_INIT;
	const struct account	*a, *b, *c;

	(void)state;
	parse_ok(&cfg, "account a\nhost a.example\nfailover b, c\n"
	    "route *.corp.example b\n"
	    "account b\nhost b.example\n"
	    "account c : b\nhost c.example\n"
	    "route corp.example c\n");
	a = cfg.accounts[0];
	b = cfg.accounts[1];
	c = cfg.accounts[2];
	assert_string_equal(a->failover, "b c");
	assert_int_equal(a->nfailover, 2);
	assert_ptr_equal(a->failover_to[0], b);
	assert_ptr_equal(a->failover_to[1], c);
	assert_int_equal(b->nfailover, 0);
	config_release(&cfg);
	/* "failover" in defaults: every account but the backup itself */
	parse_ok(&cfg, "defaults\nhost h.example\nfailover spare\n"
	    "account a\naccount spare\nhost spare.example\n");
	assert_int_equal(cfg.accounts[0]->nfailover, 1);
	assert_string_equal(cfg.accounts[0]->failover_to[0]->name, "spare");
	assert_int_equal(cfg.accounts[1]->nfailover, 0);
	config_release(&cfg);
	parse_ok(&cfg, "account a\nhost a.example\nfailover b, c\n"
	    "route *.corp.example b\n"
	    "account b\nhost b.example\n"
	    "account c : b\nhost c.example\n"
	    "route corp.example c\n");
	a = cfg.accounts[0];
	b = cfg.accounts[1];
	c = cfg.accounts[2];
	/* route lines belong to the file, not to the section they are in */
	assert_int_equal(cfg.routes.n, 2);
	assert_ptr_equal(a->routes, &cfg.routes);
	assert_ptr_equal(c->routes, &cfg.routes);
	assert_string_equal(cfg.routes.v[0].pattern, "*.corp.example");
	assert_ptr_equal(cfg.routes.v[0].acct, b);
	assert_ptr_equal(cfg.routes.v[1].acct, c);
	assert_int_equal(cfg.routes.v[1].line, 9);
	assert_ptr_equal(route_match(&cfg.routes, "x@mx.CORP.example")->acct,
	    b);
	/* a later file's routes come first */
	parse_ok(&cfg, "route *.example c\n");
	assert_int_equal(cfg.routes.n, 3);
	assert_ptr_equal(route_match(&cfg.routes, "x@mx.corp.example")->acct,
	    c);
	config_release(&cfg);
}

static void
config_parse__bad_route_or_failover__refused(void **state)
{
	static const struct err_case cases[] = {
		{ "account a\nhost h\nroute *.example\n",
		    "t.conf:3: 'route' takes a domain pattern and an account "
		    "name: route *.example.com work" },
		{ "account a\nhost h\nroute x y z\n",
		    "t.conf:3: 'route' takes a domain pattern and an account "
		    "name: route *.example.com work" },
		{ "account a\nhost h\nroute a@b a\n",
		    "t.conf:3: invalid domain pattern 'a@b' for 'route'" },
		{ "account a\nhost h\nroute *.example nobody\n",
		    "t.conf:3: route *.example names account 'nobody', which "
		    "is not defined" },
		{ "account a\nhost h\naccount l\nroute *.example l\n",
		    "t.conf:4: route *.example names account 'l', which has "
		    "no host (a route goes to a relay)" },
		{ "account a\nhost h\nfailover nobody\n",
		    "t.conf:1: account 'a' fails over to 'nobody', which is "
		    "not defined" },
		{ "account a\nhost h\nfailover l\naccount l\n",
		    "t.conf:1: account 'a' fails over to 'l', which has no "
		    "host (failover goes to a relay)" },
		{ "account a\nhost h\nfailover x:y\n",
		    "t.conf:3: invalid account name 'x:y' for 'failover'" },
		{ "account a\nhost h\nsource_ip relay.example\n",
		    "t.conf:3: invalid value 'relay.example' for 'source_ip'" },
		{ "account a\nhost h\nproxy_port 0\n",
		    "t.conf:3: invalid value '0' for 'proxy_port'" },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config	cfg = CONFIG_INIT;
		struct error	err = ERROR_INIT;

		assert_int_equal(config_parse(&cfg, cases[i].text,
		    strlen(cases[i].text), NAME, &err), -1);
		assert_int_equal(err.code, EX_CONFIG);
		if (strcmp(err.msg, cases[i].msg) != 0)
			fail_msg("case %zu: got '%s'", i, err.msg);
		error_release(&err);
		config_release(&cfg);
	}
}

static void
config_parse__auto_from_on__unsets_from(void **state)
{
	struct config	cfg = CONFIG_INIT;

	(void)state;
	parse_ok(&cfg, "account a\nfrom a@example.org\nauto_from on\n"
	    "account b\nauto_from off\nfrom b@example.org\n");
	assert_null(cfg.accounts[0]->from);
	assert_string_equal(cfg.accounts[1]->from, "b@example.org");
	config_release(&cfg);
}

/* Defaults of a fresh account, as the header lists them. */

static void
config_parse__fresh_account__has_defaults(void **state)
{
	struct config		 cfg = CONFIG_INIT;
	const struct account	*a;

	(void)state;
	parse_ok(&cfg, "account plain\n");
	a = cfg.accounts[0];
	assert_string_equal(a->name, "plain");
	assert_string_equal(a->file, NAME);
	assert_int_equal(a->line, 1);
	assert_null(a->host);
	assert_int_equal(a->port, 0);
	assert_int_equal(a->tls, 0);
	assert_int_equal(a->tls_starttls, 1);
	assert_int_equal(a->tls_certcheck, 1);
	assert_null(a->auth);
	assert_int_equal(a->auth_cleartext, 0);
	assert_int_equal(a->allow_from_override, 1);
	assert_null(a->domain);		/* never "localhost" */
	assert_int_equal(a->timeout, 0);
	assert_null(a->syslog);
	assert_int_equal(a->set_from_header, TRI_AUTO);
	assert_int_equal(a->set_date_header, TRI_AUTO);
	assert_int_equal(a->set_msgid_header, TRI_AUTO);
	assert_int_equal(a->remove_bcc_headers, 1);
	assert_int_equal(a->undisclosed_recipients, 0);
	assert_int_equal(a->queue, 1);
	assert_null(a->queue_dir);
	assert_int_equal(a->queue_lifetime, 5 * 86400);
	assert_int_equal(a->queue_flush_on_send, 1);
	assert_int_equal(a->queue_backoff_max, 4 * 3600);
	assert_null(cfg.default_name);
	config_release(&cfg);
}

/* defaults and "account A : B, C" follow msmtp. */

static void
config_parse__defaults_and_parents__inherited_in_order(void **state)
{
	struct config		 cfg = CONFIG_INIT;
	const struct account	*a, *c, *d, *e;

	(void)state;
	parse_ok(&cfg,
	    "defaults\n"
	    "port 587\n"
	    "tls on\n"
	    "account a\n"
	    "host a.example\n"
	    "user ua\n"
	    "auth plain\n"
	    "account b\n"
	    "host b.example\n"
	    "tls off\n"
	    "account c : a, b\n"
	    "from c@example.org\n"
	    "defaults\n"
	    "timeout 30\n"
	    "account d\n"
	    "host d.example\n"
	    "account e : c\n");
	assert_int_equal(cfg.naccounts, 5);
	a = only_account(&cfg, "a");
	assert_int_equal(a->port, 587);
	assert_int_equal(a->tls, 1);
	assert_int_equal(a->timeout, 0);	/* defaults given later */
	c = only_account(&cfg, "c");
	assert_string_equal(c->host, "b.example");	/* b is last */
	assert_int_equal(c->tls, 0);			/* b set it */
	assert_string_equal(c->user, "ua");		/* b did not */
	assert_string_equal(c->auth, "plain");
	assert_int_equal(c->port, 587);
	assert_string_equal(c->from, "c@example.org");
	assert_null(a->from);
	d = only_account(&cfg, "d");
	assert_int_equal(d->timeout, 30);
	assert_int_equal(d->port, 587);
	/* What c inherited is c's own for its children. */
	e = only_account(&cfg, "e");
	assert_string_equal(e->host, "b.example");
	assert_string_equal(e->user, "ua");
	assert_int_equal(e->tls, 0);
	assert_string_equal(e->from, "c@example.org");
	config_release(&cfg);
}

static void
config_parse__password_and_eval__later_wins(void **state)
{
	struct config		 cfg = CONFIG_INIT;
	const struct account	*a, *b;

	(void)state;
	parse_ok(&cfg,
	    "defaults\n"
	    "password fromdefaults\n"
	    "account a\n"
	    "passwordeval echo x\n"
	    "account b\n");
	a = only_account(&cfg, "a");
	assert_null(a->password);
	assert_string_equal(a->passwordeval, "echo x");
	b = only_account(&cfg, "b");
	assert_string_equal(b->password, "fromdefaults");
	assert_null(b->passwordeval);
	config_release(&cfg);
}

static void
config_parse__account_default__sets_default_name(void **state)
{
	struct config		 cfg = CONFIG_INIT;
	const struct account	*d;

	(void)state;
	parse_ok(&cfg,
	    "account one\nhost one.example\n"
	    "account two\nhost two.example\n"
	    "account default : two\n");
	assert_string_equal(cfg.default_name, "two");
	d = only_account(&cfg, "default");
	assert_string_equal(d->host, "two.example");
	config_release(&cfg);
}

static void
config_parse__expansions__replaced(void **state)
{
	struct config	 cfg = CONFIG_INIT;
	struct passwd	*pw;
	char		 host[256], *want, *fqdn, *mailname;

	(void)state;
	/* a HOME that exists: util_home_dir() passes over one that does
	 * not (a daemon's environment) */
	setenv("HOME", tmpdir, 1);
	parse_ok(&cfg,
	    "account a\n"
	    "from %U@%H\n"
	    "logfile ~/postie.log\n"
	    "aliases ~\n"
	    "tls_trust_file ~other/ca.pem\n"
	    "account b\n"
	    "from x@%C\n"
	    "domain %M\n");
	pw = getpwuid(getuid());
	assert_non_null(pw);
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	want = xasprintf("%s@%s", pw->pw_name, host);
	assert_string_equal(cfg.accounts[0]->from, want);
	free(want);
	want = xasprintf("%s/postie.log", tmpdir);
	assert_string_equal(cfg.accounts[0]->logfile, want);
	free(want);
	assert_string_equal(cfg.accounts[0]->aliases, tmpdir);
	assert_string_equal(cfg.accounts[0]->tls_trust_file, "~other/ca.pem");
	fqdn = util_fqdn();
	want = xasprintf("x@%s", fqdn);
	assert_string_equal(cfg.accounts[1]->from, want);
	free(want);
	mailname = util_first_line("/etc/mailname");
	assert_string_equal(cfg.accounts[1]->domain,
	    mailname != NULL ? mailname : fqdn);
	free(mailname);
	free(fqdn);
	config_release(&cfg);
}

/* URL accounts. */

struct url_case {
	const char	*lines;
	const char	*host;
	int		 port, tls, starttls;
	const char	*user;
	const char	*domain;
};

static const struct url_case url_cases[] = {
	{ "url smtp://mail.example.org", "mail.example.org", 0, 0, 1, NULL,
	    NULL },
	{ "url smtp://mail.example.org:2525", "mail.example.org", 2525, 0, 1,
	    NULL, NULL },
	{ "tls on\nurl smtp://mail.example.org", "mail.example.org", 0, 1, 1,
	    NULL, NULL },
	{ "url smtp+starttls://joe@mail.example.org:587", "mail.example.org",
	    587, 1, 1, "joe", NULL },
	{ "url smtps://me%40example.org@mail.example.org", "mail.example.org",
	    0, 1, 0, "me@example.org", NULL },
	{ "url SMTPS://relay.example.org:465/client.example.org",
	    "relay.example.org", 465, 1, 0, NULL, "client.example.org" },
	{ "url smtps://[::1]:465/", "::1", 465, 1, 0, NULL, NULL },
	{ "port 25\nurl smtps://h.example", "h.example", 0, 1, 0, NULL,
	    NULL },
	{ "url smtps://h.example\nport 2465", "h.example", 2465, 1, 0, NULL,
	    NULL },
};

static void
config_parse__url__sets_server_fields(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++) {
		const struct url_case	*c = &url_cases[i];
		struct config		 cfg = CONFIG_INIT;
		const struct account	*a;
		char			*text;

		text = xasprintf("account a\n%s\n", c->lines);
		parse_ok(&cfg, text);
		a = cfg.accounts[0];
		assert_string_equal(a->host, c->host);
		assert_int_equal(a->port, c->port);
		assert_int_equal(a->tls, c->tls);
		assert_int_equal(a->tls_starttls, c->starttls);
		if (c->user == NULL)
			assert_null(a->user);
		else
			assert_string_equal(a->user, c->user);
		if (c->domain == NULL)
			assert_null(a->domain);
		else
			assert_string_equal(a->domain, c->domain);
		config_release(&cfg);
		free(text);
	}
}

static const struct err_case url_err_cases[] = {
	{ "account a\nurl smtps://joe:hunter2@mail.example.org\n",
	    "t.conf:2: a password in 'url' is refused: use 'password' or "
	    "'passwordeval'" },
	{ "account a\nurl http://joe:hunter2@mail.example.org\n",
	    "t.conf:2: a password in 'url' is refused: use 'password' or "
	    "'passwordeval'" },
	{ "account a\nurl lmtp://mail.example.org\n",
	    "t.conf:2: invalid value for 'url': the scheme must be smtp, "
	    "smtp+starttls or smtps" },
	{ "account a\nurl mail.example.org\n",
	    "t.conf:2: invalid value for 'url': not a URL" },
	{ "account a\nurl smtp://\n",
	    "t.conf:2: invalid value for 'url': bad host name" },
	{ "account a\nurl smtp://h:70000\n",
	    "t.conf:2: invalid value for 'url': bad port" },
	{ "account a\nurl smtp://h:\n",
	    "t.conf:2: invalid value for 'url': bad port" },
	{ "account a\nurl smtp://h?x=1\n",
	    "t.conf:2: invalid value for 'url': only "
	    "scheme://[user@]host[:port][/domain] is understood" },
	{ "account a\nurl smtp://[::1\n",
	    "t.conf:2: invalid value for 'url': unterminated '['" },
	{ "account a\nurl smtp://@h\n",
	    "t.conf:2: invalid value for 'url': bad user name" },
	{ "account a\nurl smtp://u%4@h\n",
	    "t.conf:2: invalid value for 'url': bad user name" },
};

static void
config_parse__bad_url__refused_without_echoing_it(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(url_err_cases) / sizeof(url_err_cases[0]);
	    i++) {
		struct config	cfg = CONFIG_INIT;
		struct error	err = ERROR_INIT;

		assert_int_equal(config_parse(&cfg, url_err_cases[i].text,
		    strlen(url_err_cases[i].text), NAME, &err), -1);
		assert_int_equal(err.code, EX_CONFIG);
		if (strcmp(err.msg, url_err_cases[i].msg) != 0)
			fail_msg("case %zu: got '%s'", i, err.msg);
		assert_null(strstr(err.msg, "hunter2"));
		error_release(&err);
		config_release(&cfg);
	}
}

/* A real-world msmtprc parses unchanged. */

static void
config_parse__msmtprc_fixture__parses_unchanged(void **state)
{
	struct config		 cfg = CONFIG_INIT;
	struct error		 err = ERROR_INIT;
	const struct account	*g, *f, *d;
	char			*path, *text, *log;
	size_t			 len;

	(void)state;
	path = xasprintf("%s/config/msmtprc", testdata);
	text = slurp(path, &len);
	assert_int_equal(config_parse(&cfg, text, len, path, &err), 0);
	assert_int_equal(cfg.naccounts, 3);
	assert_string_equal(cfg.default_name, "gmail");
	log = xasprintf("%s/.msmtp.log", tmpdir);

	g = only_account(&cfg, "gmail");
	assert_string_equal(g->host, "smtp.gmail.com");
	assert_int_equal(g->port, 587);
	assert_int_equal(g->tls, 1);
	assert_int_equal(g->tls_starttls, 1);
	assert_string_equal(g->auth, "on");
	assert_string_equal(g->user, "jane.doe@gmail.com");
	assert_string_equal(g->from, "jane.doe@gmail.com");
	assert_null(g->password);
	assert_string_equal(g->passwordeval, "gpg --quiet --for-your-eyes-only "
	    "--no-tty --decrypt ~/.msmtp-gmail.gpg");
	assert_string_equal(g->tls_trust_file,
	    "/etc/ssl/certs/ca-certificates.crt");
	assert_string_equal(g->logfile, log);
	assert_string_equal(g->file, path);

	f = only_account(&cfg, "fastmail");
	assert_string_equal(f->host, "smtp.fastmail.com");
	assert_int_equal(f->port, 465);
	assert_int_equal(f->tls, 1);
	assert_int_equal(f->tls_starttls, 0);
	assert_string_equal(f->passwordeval, "pass show mail/fastmail");
	assert_int_equal(f->set_from_header, TRI_AUTO);

	d = only_account(&cfg, "default");
	assert_string_equal(d->host, "smtp.gmail.com");
	assert_int_equal(d->port, 587);
	free(log);
	free(text);
	free(path);
	config_release(&cfg);
}

/* Selection. */

static void
config_select__name_from_default__chosen_in_order(void **state)
{
	struct config		 cfg = CONFIG_INIT;
	struct error		 err = ERROR_INIT;
	const struct account	*a;

	(void)state;
	parse_ok(&cfg,
	    "account a\nhost a.example\nfrom a@example.org\n"
	    "account b\nhost b.example\nfrom *@b.example\n"
	    "account c\nhost c.example\n"
	    "account brackets\nhost br.example\nfrom x[1]@example.org\n"
	    "account default : c\n");
	a = config_select(&cfg, "b", NULL, &err);
	assert_non_null(a);
	assert_string_equal(a->name, "b");
	/* -a wins over the sender */
	a = config_select(&cfg, "c", "a@example.org", &err);
	assert_string_equal(a->name, "c");
	a = config_select(&cfg, "nope", NULL, &err);
	assert_null(a);
	assert_int_equal(err.code, EX_CONFIG);
	assert_string_equal(err.msg, "account 'nope' not found");
	error_release(&err);

	a = config_select(&cfg, NULL, "A@Example.ORG", &err);
	assert_string_equal(a->name, "a");
	a = config_select(&cfg, NULL, "someone@B.Example", &err);
	assert_string_equal(a->name, "b");
	/* An exact match counts even where the pattern would not match. */
	a = config_select(&cfg, NULL, "X[1]@example.org", &err);
	assert_string_equal(a->name, "brackets");
	a = config_select(&cfg, NULL, "other@elsewhere.example", &err);
	assert_string_equal(a->name, "default");
	assert_string_equal(a->host, "c.example");
	a = config_select(&cfg, NULL, NULL, &err);
	assert_string_equal(a->name, "default");
	a = config_select(&cfg, NULL, "", &err);
	assert_string_equal(a->name, "default");
	assert_int_equal(err.code, EX_OK);
	config_release(&cfg);
}

static void
config_select__no_default__first_account(void **state)
{
	struct config		 cfg = CONFIG_INIT;
	struct error		 err = ERROR_INIT;
	const struct account	*a;

	(void)state;
	parse_ok(&cfg,
	    "account x\nhost x.example\naccount y\nhost y.example\n");
	a = config_select(&cfg, NULL, "nobody@example.org", &err);
	assert_string_equal(a->name, "x");
	config_release(&cfg);
}

static void
config_select__default_name_only__resolves_name_default(void **state)
{
	struct config		 cfg = CONFIG_INIT;
	struct error		 err = ERROR_INIT;
	const struct account	*a;

	(void)state;
	/* As config_load leaves it when "default" was named in one file. */
	parse_ok(&cfg,
	    "account x\nhost x.example\naccount y\nhost y.example\n");
	cfg.default_name = xstrdup("y");
	a = config_select(&cfg, NULL, NULL, &err);
	assert_string_equal(a->name, "y");
	a = config_select(&cfg, "default", NULL, &err);
	assert_non_null(a);
	assert_string_equal(a->name, "y");
	config_release(&cfg);
}

static void
config_select__nothing_configured__empty_account(void **state)
{
	struct config		 cfg = CONFIG_INIT;
	struct error		 err = ERROR_INIT;
	const struct account	*a;

	(void)state;
	a = config_select(&cfg, NULL, "root@localhost", &err);
	assert_non_null(a);
	assert_null(a->host);
	assert_int_equal(a->port, 0);
	assert_int_equal(a->tls, 0);
	assert_int_equal(a->tls_starttls, 1);
	assert_int_equal(a->tls_certcheck, 1);
	assert_int_equal(a->set_from_header, TRI_AUTO);
	assert_int_equal(a->set_date_header, TRI_AUTO);
	assert_int_equal(a->set_msgid_header, TRI_AUTO);
	assert_int_equal(a->remove_bcc_headers, 1);
	assert_int_equal(a->allow_from_override, 1);
	assert_int_equal(err.code, EX_OK);
	assert_null(config_select(&cfg, "gmail", NULL, &err));
	assert_int_equal(err.code, EX_CONFIG);
	error_release(&err);
}

/* Loading: permissions, order, environment. */

struct mode_case {
	const char	*text;
	mode_t		 mode;
	int		 is_system;
	const char	*what;	/* "PATH: what (fix PATH)", or NULL: loads */
	const char	*fix;
};

#define READABLE	"contains a password but is readable by others"
#define WRITABLE	"is writable by others"

static const struct mode_case mode_cases[] = {
	{ "account a\nhost h\npassword secret\n", 0600, 0, NULL, NULL },
	{ "account a\nhost h\npassword secret\n", 0400, 0, NULL, NULL },
	{ "account a\nhost h\npassword secret\n", 0644, 0,
	    READABLE, "chmod 600" },
	{ "account a\nhost h\npassword secret\n", 0640, 0,
	    READABLE, "chmod 600" },
	{ "defaults\npassword\naccount a\nhost h\n", 0604, 0,
	    READABLE, "chmod 600" },
	{ "account a\nhost h\npasswordeval echo secret\n", 0644, 0, NULL,
	    NULL },
	{ "account a\nhost h\noauth2_client_secret s\n", 0644, 0,
	    READABLE, "chmod 600" },
	{ "account a\nhost h\noauth2_client_secret_eval echo s\n", 0644, 0,
	    NULL, NULL },
	{ "account a\nhost h\n", 0644, 0, NULL, NULL },
	{ "account a\nhost h\n", 0646, 0,
	    WRITABLE, "chmod o-w" },
	{ "account a\nhost h\npassword secret\n", 0640, 1, NULL, NULL },
	{ "account a\nhost h\npassword secret\n", 0644, 1,
	    READABLE, "chmod o-r" },
	{ "account a\nhost h\n", 0666, 1,
	    WRITABLE, "chmod o-w" },
};

static void
config_load__file_modes__checked_as_msmtp(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(mode_cases) / sizeof(mode_cases[0]); i++) {
		const struct mode_case	*c = &mode_cases[i];
		struct config		 cfg = CONFIG_INIT;
		struct error		 err = ERROR_INIT;
		char			*path, *want;
		int			 rc;

		path = write_file("mode.conf", c->text, c->mode);
		if (c->is_system) {
			setenv("POSTIE_SYSCONFIG", path, 1);
			rc = config_load(&cfg, NULL, &err);
			setenv("POSTIE_SYSCONFIG", "/nonexistent/postie.conf",
			    1);
		} else
			rc = config_load(&cfg, path, &err);
		if (c->what == NULL) {
			if (rc != 0)
				fail_msg("case %zu: %s", i, err.msg);
			assert_int_equal(cfg.naccounts, 1);
			assert_int_equal(cfg.files.n, 1);
			assert_string_equal(cfg.files.v[0], path);
		} else {
			assert_int_equal(rc, -1);
			assert_int_equal(err.code, EX_CONFIG);
			want = xasprintf("%s: %s (%s %s)", path, c->what,
			    c->fix, path);
			if (strcmp(err.msg, want) != 0)
				fail_msg("case %zu: got '%s'", i, err.msg);
			assert_null(strstr(err.msg, "secret"));
			assert_int_equal(cfg.naccounts, 0);
			free(want);
		}
		error_release(&err);
		config_release(&cfg);
		unlink(path);
		free(path);
	}
}

static void
config_load__named_file_missing__ex_config(void **state)
{
	struct config	 cfg = CONFIG_INIT;
	struct error	 err = ERROR_INIT;
	char		*path, *want;

	(void)state;
	path = xasprintf("%s/absent.conf", tmpdir);
	assert_int_equal(config_load(&cfg, path, &err), -1);
	assert_int_equal(err.code, EX_CONFIG);
	want = xasprintf("cannot open configuration file '%s': %s", path,
	    strerror(ENOENT));
	assert_string_equal(err.msg, want);
	error_release(&err);

	setenv("POSTIE_CONFIG", path, 1);
	assert_int_equal(config_load(&cfg, NULL, &err), -1);
	assert_int_equal(err.code, EX_CONFIG);
	unsetenv("POSTIE_CONFIG");
	error_release(&err);

	assert_int_equal(config_load(&cfg, tmpdir, &err), -1);
	assert_int_equal(err.code, EX_CONFIG);
	assert_non_null(strstr(err.msg, "is not a regular file"));
	error_release(&err);
	free(want);
	free(path);
	config_release(&cfg);
}

static void
config_load__system_then_user__user_replaces_same_name(void **state)
{
	struct config	 cfg = CONFIG_INIT;
	struct error	 err = ERROR_INIT;
	char		*sys, *user;

	(void)state;
	sys = write_file("sys.conf",
	    "account a\nhost a.sys\naccount b\nhost b.sys\n"
	    "account default : a\n", 0644);
	user = write_file("user.conf",
	    "account b\nhost b.user\naccount c\nhost c.user\n", 0600);
	setenv("POSTIE_SYSCONFIG", sys, 1);
	setenv("POSTIE_CONFIG", user, 1);
	if (config_load(&cfg, NULL, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(cfg.naccounts, 4);
	assert_string_equal(cfg.accounts[0]->name, "a");
	assert_string_equal(cfg.accounts[1]->name, "b");
	assert_string_equal(cfg.accounts[1]->host, "b.user");
	assert_string_equal(cfg.accounts[1]->file, user);
	assert_string_equal(cfg.accounts[2]->name, "default");
	assert_string_equal(cfg.accounts[3]->host, "c.user");
	assert_string_equal(cfg.default_name, "a");
	assert_int_equal(cfg.files.n, 2);
	assert_string_equal(cfg.files.v[0], sys);
	assert_string_equal(cfg.files.v[1], user);
	config_release(&cfg);

	/* -C wins over $POSTIE_CONFIG. */
	memset(&cfg, 0, sizeof(cfg));
	unsetenv("POSTIE_SYSCONFIG");
	setenv("POSTIE_SYSCONFIG", "/nonexistent/postie.conf", 1);
	assert_int_equal(config_load(&cfg, sys, &err), 0);
	assert_int_equal(cfg.files.n, 1);
	assert_string_equal(cfg.files.v[0], sys);
	unsetenv("POSTIE_CONFIG");
	config_release(&cfg);
	unlink(sys);
	unlink(user);
	free(sys);
	free(user);
}

static void
config_load__default_user_files__xdg_then_postierc(void **state)
{
	struct config	 cfg = CONFIG_INIT;
	struct error	 err = ERROR_INIT;
	char		*rc, *xdgdir, *xdg, *parent;

	(void)state;
	/* Nothing anywhere: fine, nothing configured. */
	assert_int_equal(config_load(&cfg, NULL, &err), 0);
	assert_int_equal(cfg.naccounts, 0);
	assert_int_equal(cfg.files.n, 0);
	config_release(&cfg);

	rc = write_file(".postierc", "account rc\nhost rc.example\n", 0600);
	assert_int_equal(config_load(&cfg, NULL, &err), 0);
	assert_int_equal(cfg.files.n, 1);
	assert_string_equal(cfg.files.v[0], rc);
	config_release(&cfg);

	/* $HOME/.config/postie/config when XDG_CONFIG_HOME is unset. */
	xdgdir = xasprintf("%s/.config/postie", tmpdir);
	xdg = xasprintf("%s/config", xdgdir);
	parent = xasprintf("%s/.config", tmpdir);
	assert_int_equal(mkdir(parent, 0700), 0);
	assert_int_equal(mkdir(xdgdir, 0700), 0);
	free(parent);
	free(write_file(".config/postie/config",
	    "account xdg\nhost xdg.example\n", 0600));
	assert_int_equal(config_load(&cfg, NULL, &err), 0);
	assert_int_equal(cfg.files.n, 1);
	assert_string_equal(cfg.files.v[0], xdg);
	config_release(&cfg);

	/* $XDG_CONFIG_HOME points elsewhere, without a file: ~/.postierc. */
	setenv("XDG_CONFIG_HOME", "/nonexistent", 1);
	assert_int_equal(config_load(&cfg, NULL, &err), 0);
	assert_string_equal(cfg.files.v[0], rc);
	config_release(&cfg);
	/* A relative $XDG_CONFIG_HOME is ignored (XDG base dir spec). */
	setenv("XDG_CONFIG_HOME", "relative", 1);
	assert_int_equal(config_load(&cfg, NULL, &err), 0);
	assert_string_equal(cfg.files.v[0], xdg);
	config_release(&cfg);
	unsetenv("XDG_CONFIG_HOME");

	unlink(xdg);
	unlink(rc);
	free(xdg);
	free(xdgdir);
	free(rc);
}

/* Secrets. */

struct eval_case {
	const char	*cmd;
	const char	*want;	/* the password, or NULL: error */
	const char	*msg;
};

static const struct eval_case eval_cases[] = {
	{ "echo s3cret", "s3cret", NULL },
	{ "printf 'first\\nsecond\\n'", "first", NULL },
	{ "printf 'crlf\\r\\n'", "crlf", NULL },
	{ "printf 'no newline'", "no newline", NULL },
	{ "exit 1", NULL, "account 'a': passwordeval command failed (exit 1)" },
	{ "echo leaked; exit 3", NULL,
	    "account 'a': passwordeval command failed (exit 3)" },
	{ "true", NULL, "account 'a': passwordeval printed nothing" },
	{ "echo", NULL, "account 'a': passwordeval printed nothing" },
	{ "cat", NULL, "account 'a': passwordeval printed nothing" },
	{ "kill -9 $$", NULL,
	    "account 'a': passwordeval command failed (signal 9)" },
	{ "yes | head -c 70000", NULL,
	    "account 'a': passwordeval printed more than 65536 bytes" },
};

static void
account_password__passwordeval__first_line_or_error(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(eval_cases) / sizeof(eval_cases[0]); i++) {
		const struct eval_case	*c = &eval_cases[i];
		struct config		 cfg = CONFIG_INIT;
		struct error		 err = ERROR_INIT;
		char			*text, *pw = NULL;
		int			 rc;

		text = xasprintf("account a\nhost h\npasswordeval %s\n",
		    c->cmd);
		parse_ok(&cfg, text);
		rc = secret_password(cfg.accounts[0], &pw, &err);
		if (c->want != NULL) {
			if (rc != 0)
				fail_msg("'%s': %s", c->cmd, err.msg);
			assert_non_null(pw);
			assert_string_equal(pw, c->want);
		} else {
			assert_int_equal(rc, -1);
			assert_null(pw);
			assert_int_equal(err.code, EX_CONFIG);
			assert_string_equal(err.msg, c->msg);
			assert_null(strstr(err.msg, "leaked"));
		}
		freezero_str(pw);
		error_release(&err);
		config_release(&cfg);
		free(text);
	}
}

static void
account_password__passwordeval__stdin_is_dev_null(void **state)
{
	struct config	 cfg = CONFIG_INIT;
	struct error	 err = ERROR_INIT;
	char		*pw = NULL;
	int		 fds[2], saved;

	(void)state;
	/* Our stdin holds a line: the command must not see it. */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(util_write_all(fds[1], "from stdin\n", 11), 0);
	close(fds[1]);
	saved = dup(STDIN_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fds[0], STDIN_FILENO) >= 0);
	close(fds[0]);
	parse_ok(&cfg, "account a\npasswordeval cat\n");
	assert_int_equal(secret_password(cfg.accounts[0], &pw, &err), -1);
	assert_true(dup2(saved, STDIN_FILENO) >= 0);
	close(saved);
	assert_null(pw);
	assert_string_equal(err.msg,
	    "account 'a': passwordeval printed nothing");
	error_release(&err);
	config_release(&cfg);
}

static void
account_password__password_or_nothing__returned(void **state)
{
	struct config	 cfg = CONFIG_INIT;
	struct error	 err = ERROR_INIT;
	char		*pw = NULL;

	(void)state;
	parse_ok(&cfg, "account a\npassword \"  with spaces \"\n"
	    "account b\nhost h\n");
	assert_int_equal(secret_password(cfg.accounts[0], &pw, &err), 0);
	assert_string_equal(pw, "  with spaces ");
	freezero_str(pw);
	pw = (char *)&cfg;	/* must be overwritten with NULL */
	assert_int_equal(secret_password(cfg.accounts[1], &pw, &err), 0);
	assert_null(pw);
	assert_int_equal(err.code, EX_OK);
	config_release(&cfg);
}

static void
account_qualify_domain__unset__mailname_or_fqdn(void **state)
{
	struct config	 cfg = CONFIG_INIT;
	char		*d, *want;

	(void)state;
	parse_ok(&cfg, "account a\nqualify_domain example.net\naccount b\n");
	d = account_qualify_domain(cfg.accounts[0]);
	assert_string_equal(d, "example.net");
	free(d);
	if ((want = util_first_line("/etc/mailname")) == NULL)
		want = util_fqdn();
	d = account_qualify_domain(cfg.accounts[1]);
	assert_string_equal(d, want);
	free(d);
	d = account_qualify_domain(NULL);
	assert_string_equal(d, want);
	free(d);
	free(want);
	config_release(&cfg);
}

/* Aliases. */

struct alias_case {
	const char	*name;
	const char	*want;	/* targets joined with ' ' */
};

static void
check_expand(const struct aliases *al, const struct alias_case *c)
{
	struct strlist	 out = STRLIST_INIT;
	struct buf	 b = BUF_INIT;
	size_t		 i;

	aliases_expand(al, c->name, &out);
	for (i = 0; i < out.n; i++) {
		if (i > 0)
			buf_addch(&b, ' ');
		buf_addstr(&b, out.v[i]);
	}
	if (strcmp(buf_str(&b), c->want) != 0)
		fail_msg("'%s': got '%s', want '%s'", c->name, buf_str(&b),
		    c->want);
	buf_release(&b);
	strlist_release(&out);
}

static const struct alias_case fixture_cases[] = {
	{ "root", "admin@example.org" },
	{ "ROOT", "admin@example.org" },
	{ "postmaster", "root" },		/* one level only */
	{ "webmaster", "web1@example.org web2@example.org" },
	{ "team", "a@example.org b@example.org c@example.org" },
	{ "nobody", "catchall@example.org" },	/* default */
	{ "default", "catchall@example.org" },
	{ "x@example.org", "x@example.org" },	/* not a local name */
};

static void
aliases_load__fixture__expands_one_level(void **state)
{
	struct aliases	*al;
	struct error	 err = ERROR_INIT;
	char		*path;
	size_t		 i;

	(void)state;
	path = xasprintf("%s/config/aliases", testdata);
	al = aliases_load(path, &err);
	if (al == NULL)
		fail_msg("%s", err.msg);
	for (i = 0; i < sizeof(fixture_cases) / sizeof(fixture_cases[0]); i++)
		check_expand(al, &fixture_cases[i]);
	aliases_free(al);
	free(path);
}

static void
aliases_parse__no_default__name_itself(void **state)
{
	static const char text[] =
	    "# no default here\n"
	    "ops: alice@example.org ,bob@example.org,,\n"
	    "\n"
	    "ops: ignored@example.org\n"
	    "list:\n"
	    "  one@example.org,\n"
	    "# a comment between continuation lines\n"
	    "\ttwo@example.org\r\n";
	static const struct alias_case cases[] = {
		{ "ops", "alice@example.org bob@example.org" },
		{ "list", "one@example.org two@example.org" },
		{ "unknown", "unknown" },
	};
	struct aliases	*al;
	struct error	 err = ERROR_INIT;
	size_t		 i;

	(void)state;
	al = aliases_parse(text, sizeof(text) - 1, "a", &err);
	if (al == NULL)
		fail_msg("%s", err.msg);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_expand(al, &cases[i]);
	aliases_free(al);
	check_expand(NULL, &cases[2]);
}

/* I15: 40,000 entries (issue 10 item 15): every one found, the first of a
 * name wins even when a later one differs only in case, and the default
 * applies to the rest. */
static void
aliases_parse__many_entries__first_wins_default_applies(void **state)
{
	struct buf	 b = BUF_INIT;
	struct aliases	*al;
	struct error	 err = ERROR_INIT;
	struct strlist	 out = STRLIST_INIT;
	int		 i;

	(void)state;
	buf_addstr(&b, "zz-last: first-zz@example.org\n");
	for (i = 40000; i > 0; i--)
		buf_printf(&b, "u%d: t%d@example.org\n", i, i);
	buf_addstr(&b, "ZZ-LAST: second-zz@example.org\n"
	    "default: catchall@example.org\nu7: dup@example.org\n");
	al = aliases_parse(b.data, b.len, "big", &err);
	if (al == NULL)
		fail_msg("%s", err.msg);
	aliases_expand(al, "u1", &out);
	aliases_expand(al, "U40000", &out);
	aliases_expand(al, "u7", &out);
	aliases_expand(al, "Zz-Last", &out);
	aliases_expand(al, "nobody", &out);
	aliases_expand(al, "x@elsewhere.org", &out);
	assert_int_equal(out.n, 6);
	assert_string_equal(out.v[0], "t1@example.org");
	assert_string_equal(out.v[1], "t40000@example.org");
	assert_string_equal(out.v[2], "t7@example.org");
	assert_string_equal(out.v[3], "first-zz@example.org");
	assert_string_equal(out.v[4], "catchall@example.org");
	assert_string_equal(out.v[5], "x@elsewhere.org");
	strlist_release(&out);
	aliases_free(al);
	buf_release(&b);
}

static void
aliases_parse__malformed__ex_config_with_line(void **state)
{
	static const struct err_case cases[] = {
		{ "root admin@example.org\n",
		    "a:1: expected 'name: address, ...'" },
		{ "# c\n  admin@example.org\n",
		    "a:2: continuation line without an entry" },
		{ "ok: x\nempty:\n", "a:2: alias 'empty' has no address" },
		{ "two words: x\n", "a:1: expected 'name: address, ...'" },
		{ ": x\n", "a:1: expected 'name: address, ...'" },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error	err = ERROR_INIT;

		assert_null(aliases_parse(cases[i].text, strlen(cases[i].text),
		    "a", &err));
		assert_int_equal(err.code, EX_CONFIG);
		if (strcmp(err.msg, cases[i].msg) != 0)
			fail_msg("case %zu: got '%s'", i, err.msg);
		error_release(&err);
	}
}

static void
aliases_load__missing_or_huge__ex_config(void **state)
{
	struct error	 err = ERROR_INIT;
	char		*path;
	int		 fd;

	(void)state;
	path = xasprintf("%s/no-aliases", tmpdir);
	assert_null(aliases_load(path, &err));
	assert_int_equal(err.code, EX_CONFIG);
	assert_non_null(strstr(err.msg, "cannot open aliases file"));
	error_release(&err);
	free(path);

	path = xasprintf("%s/big-aliases", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 2 * 1024 * 1024), 0);
	close(fd);
	assert_null(aliases_load(path, &err));
	assert_int_equal(err.code, EX_CONFIG);
	assert_non_null(strstr(err.msg, "is larger than"));
	error_release(&err);
	unlink(path);
	free(path);
}

static void
config_parse__keys_before_any_section__are_the_default_account(void **state)
{
	static const char text[] = "# relay\nhost relay.example.com\nport 2525\n";
	struct config		 cfg = CONFIG_INIT;
	struct error		 err = ERROR_INIT;
	const struct account	*a;

	(void)state;
	assert_int_equal(config_parse(&cfg, text, sizeof(text) - 1, "t.conf",
	    &err), 0);
	assert_int_equal(cfg.naccounts, 1);
	a = config_select(&cfg, NULL, NULL, &err);
	assert_non_null(a);
	assert_string_equal(a->name, "default");
	assert_string_equal(a->host, "relay.example.com");
	assert_int_equal(a->port, 2525);
	config_release(&cfg);

	/* Local-only keys make an implicit default too... */
	assert_int_equal(config_parse(&cfg, "local_spool /s\n", 15, "t.conf",
	    &err), 0);
	a = config_select(&cfg, NULL, NULL, &err);
	assert_non_null(a);
	assert_string_equal(a->local_spool, "/s");
	assert_null(a->host);
	/* ...that an explicit account in a later file outranks. */
	assert_int_equal(config_parse(&cfg, "account work\nhost w\n", 20,
	    "u.conf", &err), 0);
	a = config_select(&cfg, NULL, NULL, &err);
	assert_string_equal(a->name, "work");
	config_release(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config_parse__keys_before_any_section__are_the_default_account),
		cmocka_unit_test(config_parse__each_key__sets_its_field),
		cmocka_unit_test(config_parse__route_and_failover__resolved),
		cmocka_unit_test(config_parse__bad_route_or_failover__refused),
		cmocka_unit_test(config_parse__bad_input__names_file_and_line),
		cmocka_unit_test(config_parse__long_line_or_nul__refused),
		cmocka_unit_test(config_parse__msmtp_only_keys__accepted),
		cmocka_unit_test(config_parse__auto_from_on__unsets_from),
		cmocka_unit_test(config_parse__fresh_account__has_defaults),
		cmocka_unit_test(
		    config_parse__defaults_and_parents__inherited_in_order),
		cmocka_unit_test(config_parse__password_and_eval__later_wins),
		cmocka_unit_test(
		    config_parse__account_default__sets_default_name),
		cmocka_unit_test(config_parse__expansions__replaced),
		cmocka_unit_test(config_parse__url__sets_server_fields),
		cmocka_unit_test(
		    config_parse__bad_url__refused_without_echoing_it),
		cmocka_unit_test(
		    config_parse__msmtprc_fixture__parses_unchanged),
		cmocka_unit_test(
		    config_select__name_from_default__chosen_in_order),
		cmocka_unit_test(config_select__no_default__first_account),
		cmocka_unit_test(
		    config_select__default_name_only__resolves_name_default),
		cmocka_unit_test(
		    config_select__nothing_configured__empty_account),
		cmocka_unit_test(config_load__file_modes__checked_as_msmtp),
		cmocka_unit_test(config_load__named_file_missing__ex_config),
		cmocka_unit_test(
		    config_load__system_then_user__user_replaces_same_name),
		cmocka_unit_test(
		    config_load__default_user_files__xdg_then_postierc),
		cmocka_unit_test(
		    account_password__passwordeval__first_line_or_error),
		cmocka_unit_test(
		    account_password__passwordeval__stdin_is_dev_null),
		cmocka_unit_test(
		    account_password__password_or_nothing__returned),
		cmocka_unit_test(
		    account_qualify_domain__unset__mailname_or_fqdn),
		cmocka_unit_test(aliases_load__fixture__expands_one_level),
		cmocka_unit_test(aliases_parse__no_default__name_itself),
		cmocka_unit_test(
		    aliases_parse__many_entries__first_wins_default_applies),
		cmocka_unit_test(aliases_parse__malformed__ex_config_with_line),
		cmocka_unit_test(aliases_load__missing_or_huge__ex_config),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
