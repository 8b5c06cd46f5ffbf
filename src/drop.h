/*
 * The system drop directory: how a user who cannot read the system
 * config (and so the relay's password) still sends mail, without set-id
 * programs.
 *
 * The directory (DROP_DIR, mode 1733 root:root) lets anyone create a
 * file but nobody but root list or read the others' files, and the
 * sticky bit keeps anyone from removing another's file.  A sender writes
 * one file: a small strict header (version, size, envelope) and the
 * finalized message bytes, created O_EXCL mode 0600 under a dot name,
 * fsync'ed, then renamed to its final name.  The root-run queue runner
 * (postie -q) moves every such file into the real queue, treating it as
 * untrusted input, and the normal flush sends it with the system account.
 *
 * The header, one LF-terminated line each, then an empty line:
 *	postie-drop 1
 *	size N			(octets of message after the header)
 *	sender <ADDR>		(<> for the null sender)
 *	rcpt <ADDR>		(one line per recipient, at least one)
 */
#ifndef POSTIE_DROP_H
#define POSTIE_DROP_H

#include <sys/types.h>

#include "util.h"

struct error;
struct message;
struct queue;

#define DROP_DIR	"/var/spool/postie-drop"
#define DROP_HEADER_MAX	(4 * 1024 * 1024)	/* octets of the header */
#define DROP_MAX_SIZE	(64 * 1024 * 1024)	/* default message cap */

/* $POSTIE_DROPDIR (tests) or DROP_DIR.  Borrowed. */
const char *drop_dir(void);

/*
 * 1 when this run must hand its message to the system queue: postie is
 * not root and the system config file exists but cannot be read (EACCES).
 * The caller then reads only the user's own file (config_load_user())
 * and drops the message unless that file names a relay.
 */
int	drop_prepare(void);

/*
 * 1 when the system config file exists and others may not read it: the
 * case the drop directory is for, so root's postie -q creates it only
 * then (never on a machine, or in a test, that does not need it).
 */
int	drop_needed(void);

/*
 * 1 when drop_dir() is there for users: a directory owned by root with
 * mode 1733 (the Debian package makes it; so does root's postie -q when
 * the system file is private).  A user's local mail then goes through it:
 * root's runner can write every mailbox, a user cannot.
 */
int	drop_available(void);

/*
 * Write the finalized message into the drop directory dir.  Returns the
 * new file's name (allocated).
 * Errors: EX_CONFIG (no drop directory, or not root's mode 1733 one),
 * EX_TEMPFAIL (the file could not be written: nothing is left behind).
 */
char	*drop_submit(const char *dir, const struct message *, struct error *);

/* What the root runner needs from the system account. */
struct drop_opts {
	const char	*qualify_domain;	/* for the forced sender */
	int		 allow_from;	/* keep the sender the file names */
	off_t		 max_size;	/* message octets; 0: DROP_MAX_SIZE */
	const char	*account;	/* queue entries' account, or NULL */
};

/*
 * Root only: move every complete drop file of dir into q (created, mode
 * 1733, when create is set and it does not exist; see drop_needed()).
 * Each file is opened O_NOFOLLOW|O_NONBLOCK and must be a regular file
 * with one link (a name sharing an inode with a refused one is refused
 * too), not owned by root, within the size cap, with a valid header and
 * a message in wire form (CRLF lines of at most 998 octets, no NUL); its
 * envelope sender becomes the owner's login@qualify_domain unless
 * allow_from, and every recipient must pass addr_check_mailbox().  Files
 * that fail are removed with a warning and never sent; dot files (being
 * written) older than an hour are removed.  Counts go to *moved and
 * *refused.
 * Errors: only for the directory itself (EX_CONFIG: wrong owner or mode;
 * EX_CANTCREAT) and for the queue (EX_TEMPFAIL: the file stays).
 */
int	drop_ingest(const char *dir, int create, struct queue *q,
	    const struct drop_opts *, size_t *moved, size_t *refused,
	    struct error *);

/*
 * Parse a drop header (text up to and including the empty line; pure,
 * for tests and fuzzing).  *sender and rcpts get the envelope as the file
 * names it (addresses checked with addr_check_mailbox()), *size the
 * message octets.
 * Errors: EX_DATAERR naming the line.
 */
int	drop_header_parse(const char *text, size_t len, char **sender,
	    struct strlist *rcpts, off_t *size, struct error *);

#endif
