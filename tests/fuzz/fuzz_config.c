/*
 * Fuzz target for the config parser: the input is parsed as a system file
 * and again as a user file over it (the merge path), then an account is
 * selected, and the same bytes are read as an aliases file.  Checks that
 * errors are EX_CONFIG and that no value handed to the transport or the
 * envelope holds a line break.
 */
#include "autoconfig.h"

#include <string.h>

#include "aliases.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "util.h"
#include "fuzz.h"

static void	check_account(const struct account *);
static void	no_crlf(const char *);

static void
no_crlf(const char *s)
{
	FUZZ_ASSERT(s == NULL || strpbrk(s, "\r\n") == NULL);
}

static void
check_account(const struct account *a)
{
	FUZZ_ASSERT(a != NULL && a->name != NULL);
	FUZZ_ASSERT(a->port >= 0 && a->port <= 65535);
	FUZZ_ASSERT(a->timeout >= 0);
	/* These end up in SMTP commands or URLs. */
	no_crlf(a->name);
	no_crlf(a->host);
	no_crlf(a->user);
	no_crlf(a->domain);
	no_crlf(a->from);
	no_crlf(a->from_full_name);
	no_crlf(a->qualify_domain);
	no_crlf(a->tls_host_override);
	no_crlf(a->auth);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Unknown keys are warned about on stderr (run the fuzzer with
	 * -close_fd_mask=2 to keep it quiet). */
	log_init("fuzz_config", 0);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config		 cfg = CONFIG_INIT;
	struct error		 err = ERROR_INIT;
	struct strlist		 out = STRLIST_INIT;
	struct aliases		*al;
	const struct account	*a;
	const char		*text = (const char *)data;
	size_t			 i;

	if (size > 1024 * 1024)
		return 0;
	if (config_parse(&cfg, text, size, "fuzz-system", &err) == -1) {
		FUZZ_ASSERT(err.code == EX_CONFIG && err.msg != NULL);
		FUZZ_ASSERT(strncmp(err.msg, "fuzz-system:", 12) == 0);
		error_release(&err);
	} else if (config_parse(&cfg, text, size, "fuzz-user", &err) == -1) {
		/* The same text parsed once must parse again. */
		FUZZ_ASSERT(!"a file that parsed once parses again");
	}
	for (i = 0; i < cfg.naccounts; i++) {
		check_account(cfg.accounts[i]);
		a = config_select(&cfg, cfg.accounts[i]->name, NULL, &err);
		FUZZ_ASSERT(a != NULL);
	}
	a = config_select(&cfg, NULL, "user@example.org", &err);
	FUZZ_ASSERT(a != NULL);
	check_account(a);
	if (config_select(&cfg, "no such account \001", NULL, &err) == NULL) {
		FUZZ_ASSERT(err.code == EX_CONFIG);
		error_release(&err);
	}
	config_release(&cfg);
	FUZZ_ASSERT(cfg.naccounts == 0 && cfg.accounts == NULL);

	if ((al = aliases_parse(text, size, "fuzz-aliases", &err)) == NULL) {
		FUZZ_ASSERT(err.code == EX_CONFIG && err.msg != NULL);
		error_release(&err);
	} else {
		aliases_expand(al, "root", &out);
		aliases_expand(al, "postmaster", &out);
		FUZZ_ASSERT(out.n >= 2);
		for (i = 0; i < out.n; i++)
			no_crlf(out.v[i]);
		strlist_release(&out);
		aliases_free(al);
	}
	return 0;
}
