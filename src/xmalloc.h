/*
 * Allocation that never fails: on exhaustion these print one line and
 * exit with EX_OSERR.  Library code uses them and checks no NULLs.
 */
#ifndef POSTIE_XMALLOC_H
#define POSTIE_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
/* Returns an allocated string; the caller frees it. */
char	*xasprintf(const char *, ...)
	    __attribute__((__format__(printf, 1, 2)));
char	*xvasprintf(const char *, va_list)
	    __attribute__((__format__(printf, 1, 0)));
/* Zero then free a buffer that held a secret.  Accepts NULL. */
void	 freezero_str(char *);

#endif
