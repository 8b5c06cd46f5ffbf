/*
 * Fuzz target for the command line (cli.c and popt): the input is split
 * at NUL bytes into argv (the first piece is argv[0], so the mailq and
 * newaliases faces are reached too).  cli_parse() must never crash, never
 * print except for --help/--usage, never modify argv, fail only with
 * EX_USAGE and an empty result, and never let a recipient or a sender
 * through that starts with '-' (option injection, CVE-2016-10033 shape).
 */
#include "autoconfig.h"

#include <sys/mman.h>

#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "error.h"
#include "xmalloc.h"
#include "fuzz.h"

#define MAX_ARGS	128

static void	check_empty(const struct cli_opts *);
static void	check_list(const struct strlist *);

static int	outfd = -1;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* stdout goes to a memory file so that any output can be seen. */
	fflush(stdout);
	if ((outfd = memfd_create("fuzz_cli_stdout", 0)) == -1 ||
	    dup2(outfd, STDOUT_FILENO) == -1) {
		perror("fuzz_cli: stdout");
		abort();
	}
	return 0;
}

static void
check_empty(const struct cli_opts *o)
{
	FUZZ_ASSERT(o->sender == NULL && o->fullname == NULL);
	FUZZ_ASSERT(o->config_file == NULL && o->account == NULL);
	FUZZ_ASSERT(o->subject == NULL);
	FUZZ_ASSERT(o->rcpts.n == 0 && o->rcpts.v == NULL);
	FUZZ_ASSERT(o->cc.n == 0 && o->bcc.n == 0 && o->attach.n == 0);
	FUZZ_ASSERT(o->ignored.n == 0);
}

/* Addresses from the command line: never an option, never empty. */
static void
check_list(const struct strlist *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++) {
		FUZZ_ASSERT(l->v[i] != NULL);
		FUZZ_ASSERT(l->v[i][0] != '-');
		FUZZ_ASSERT(l->v[i][0] != '\0');
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cli_opts	  o;
	struct error	  err = ERROR_INIT;
	char		 *copy, *argv[MAX_ARGS + 1], *saved[MAX_ARGS];
	char		 *p, *end;
	int		  argc = 0, i, rc;
	off_t		  printed;

	if (size > 4096)
		return 0;
	if (outfd == -1)
		LLVMFuzzerInitialize(NULL, NULL);
	/* One copy with a NUL after each piece. */
	copy = xmalloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';
	p = copy;
	end = copy + size;
	while (argc < MAX_ARGS) {
		argv[argc] = p;
		saved[argc] = xstrdup(argv[argc]);
		argc++;
		p += strlen(p) + 1;
		if (p > end)
			break;
	}
	argv[argc] = NULL;

	rc = cli_parse(&o, argc, argv, &err);
	fflush(stdout);
	printed = lseek(STDOUT_FILENO, 0, SEEK_CUR);
	for (i = 0; i < argc; i++) {
		FUZZ_ASSERT(strcmp(argv[i], saved[i]) == 0);
		free(saved[i]);
	}
	FUZZ_ASSERT(argv[argc] == NULL);
	if (rc == -1) {
		FUZZ_ASSERT(err.code == EX_USAGE && err.msg != NULL);
		FUZZ_ASSERT(printed == 0);
		check_empty(&o);
		error_release(&err);
	} else {
		FUZZ_ASSERT(rc == 0 && err.msg == NULL);
		FUZZ_ASSERT(printed == 0 || o.mode == CLI_HELP ||
		    o.mode == CLI_USAGE);
		FUZZ_ASSERT(o.progname != NULL);
		check_list(&o.rcpts);
		check_list(&o.cc);
		check_list(&o.bcc);
		/* "" is the null sender; "-x" would be an option. */
		FUZZ_ASSERT(o.sender == NULL || o.sender[0] != '-');
		if (o.mode == CLI_SEND)
			FUZZ_ASSERT(o.rcpts.n > 0 || o.cc.n > 0 ||
			    o.bcc.n > 0 || o.extract_rcpts);
		if (o.mode == CLI_QUEUE_LIST || o.mode == CLI_QUEUE_RUN ||
		    o.mode == CLI_NEWALIASES)
			FUZZ_ASSERT(o.rcpts.n == 0);
		cli_opts_release(&o);
	}
	if (printed != 0) {
		FUZZ_ASSERT(ftruncate(STDOUT_FILENO, 0) == 0);
		FUZZ_ASSERT(lseek(STDOUT_FILENO, 0, SEEK_SET) == 0);
	}
	free(copy);
	return 0;
}
