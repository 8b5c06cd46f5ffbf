/*
 * Messages for the user on stderr, and the -v trace.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>

#include "error.h"
#include "log.h"

static const char	*progname = "postie";
static int		 verbosity;

void
log_init(const char *name, int verbose)
{
	if (name != NULL)
		progname = name;
	verbosity = verbose;
}

int
log_verbose(void)
{
	return verbosity;
}

static void
vlog(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: %s", progname, prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (verbosity <= 0)
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void
log_error(const struct error *err)
{
	fprintf(stderr, "%s: %s\n", progname,
	    err->msg != NULL ? err->msg : "unknown error");
}
