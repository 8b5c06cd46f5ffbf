/*
 * The error type: a sysexits(3) code and a message for the user.
 *
 * A function that can fail takes a "struct error *" as its last argument,
 * fills it in and returns -1 (or NULL); on success it leaves it untouched.
 * Only main() prints an error and exits with its code.
 */
#ifndef POSTIE_ERROR_H
#define POSTIE_ERROR_H

#include <sysexits.h>

struct error {
	int	 code;		/* EX_* from <sysexits.h>; EX_OK when unset */
	char	*msg;		/* owned; no trailing newline or period */
};

#define ERROR_INIT	{ EX_OK, NULL }

/* Set the error (replacing any earlier one).  Always returns -1. */
int	error_set(struct error *, int, const char *, ...)
	    __attribute__((__format__(printf, 3, 4)));
/* Like error_set(), with ": strerror(errno)" appended. */
int	error_set_errno(struct error *, int, const char *, ...)
	    __attribute__((__format__(printf, 3, 4)));
/* Prefix the message with "what: " keeping the code.  Returns -1. */
int	error_prefix(struct error *, const char *, ...)
	    __attribute__((__format__(printf, 2, 3)));
/* Free the message and reset to ERROR_INIT. */
void	error_release(struct error *);

#endif
