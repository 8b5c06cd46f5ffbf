/*
 * The error type: see error.h.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "xmalloc.h"

static int	vset(struct error *, int, const char *, const char *, va_list)
		    __attribute__((__format__(printf, 4, 0)));

static int
vset(struct error *err, int code, const char *suffix, const char *fmt,
    va_list ap)
{
	char	*m, *full;

	if (err == NULL)
		return -1;
	m = xvasprintf(fmt, ap);
	if (suffix != NULL) {
		full = xasprintf("%s: %s", m, suffix);
		free(m);
		m = full;
	}
	free(err->msg);
	err->msg = m;
	err->code = code;
	return -1;
}

int
error_set(struct error *err, int code, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vset(err, code, NULL, fmt, ap);
	va_end(ap);
	return -1;
}

int
error_set_errno(struct error *err, int code, const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;
	char	 buf[256];

	snprintf(buf, sizeof(buf), "%s", strerror(saved));
	va_start(ap, fmt);
	vset(err, code, buf, fmt, ap);
	va_end(ap);
	errno = saved;
	return -1;
}

int
error_prefix(struct error *err, const char *fmt, ...)
{
	va_list	 ap;
	char	*p, *m;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	p = xvasprintf(fmt, ap);
	va_end(ap);
	m = xasprintf("%s: %s", p, err->msg != NULL ? err->msg : "error");
	free(p);
	free(err->msg);
	err->msg = m;
	return -1;
}

void
error_release(struct error *err)
{
	if (err == NULL)
		return;
	free(err->msg);
	err->msg = NULL;
	err->code = EX_OK;
}
