/*
 * The MIME type of an attachment, from libmagic.  The only module that
 * includes <magic.h>.  libmagic (and its 6 MiB database) is loaded in a
 * child process that types every file of a message at once and exits, so
 * postie itself never maps it: a send with attachments peaks at the
 * larger of typing and sending, not at their sum.
 */
#ifndef POSTIE_FILETYPE_H
#define POSTIE_FILETYPE_H

#include <stddef.h>

/* What libmagic says of one file. */
struct filetype {
	char	*type;		/* "type/subtype", lower case; owned */
	char	*charset;	/* its charset= (owned), or NULL */
};

/*
 * Type the n open files fds[] (regular files; fds[i] == -1 is skipped
 * and left empty) into out[] (n entries).  The files are typed in one
 * child process; when it cannot be started (or dies), here, and
 * libmagic is closed and unloaded before this returns.  The type is
 * advisory: any failure gives application/octet-stream (libmagic
 * missing or its database unreadable: one warning).  Never fails.
 * The files' offsets are restored.
 */
void	filetype_guess(const int *fds, size_t n, struct filetype *out);

/* Free what filetype_guess() set in out[0..n). */
void	filetype_release(struct filetype *out, size_t n);

/*
 * A MIME type/subtype of token characters, lower-cased (allocated), or
 * NULL when t is not one (RFC 2045 5.1).
 */
char	*filetype_valid(const char *t);

#endif
