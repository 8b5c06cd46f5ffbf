/*
 * The mail object and the formatter.
 *
 * message_read() reads a message from a file descriptor as a stream: the
 * header block is parsed (bounded), the body is scanned once and kept
 * replayable without holding it whole (small bodies in memory, a seekable
 * input by offset, anything else spooled to an unlinked temporary file).
 * message_finalize() validates and completes it.  A message_reader then
 * yields the exact bytes to send: header lines, an empty line, the body;
 * every line ends in CRLF and none exceeds 998 octets.  The reader can be
 * created any number of times (retry, several mailboxes, the queue).
 */
#ifndef POSTIE_MESSAGE_H
#define POSTIE_MESSAGE_H

#include <sys/types.h>

#include "util.h"

struct error;
struct aliases;

/* The SMTP envelope. */
struct envelope {
	char		*sender;	/* "" is the null sender <> */
	struct strlist	 rcpts;		/* validated RFC 5321 mailboxes */
};

/* What the formatter needs to know from the command line and config. */
struct message_opts {
	int		 extract_rcpts;	/* -t */
	int		 ignore_dots;	/* -i / -oi: a lone "." is data */
	const char	*sender;	/* -f/-r; NULL: not given, "": <> */
	const char	*fullname;	/* -F */
	const char	*from_default;	/* config "from", may be NULL */
	const char	*from_full_name;/* config "from_full_name" */
	const char	*qualify_domain;/* for bare local names */
	const char	*msgid_domain;	/* right side of a generated
					   Message-ID (qualify domain) */
	const struct aliases *aliases;	/* may be NULL */
	int		 set_from_header;	/* TRI_AUTO | 0 | 1 */
	int		 set_date_header;	/* TRI_AUTO | 0 */
	int		 set_msgid_header;	/* TRI_AUTO | 0 */
	int		 remove_bcc_headers;	/* 1 | 0 */
	int		 set_sender_header;	/* keep From, add Sender: with
						   from_default (or the envelope
						   sender) when From differs */
	int		 read_envelope_from;	/* no -f: the envelope sender is
						   From's address (msmtp) */
	const struct strlist *rcpts;	/* from argv, already split */
	const char	*spool_dir;	/* where a large body is spooled
					   first (the queue's tmp/, where
					   it can still be kept); then
					   $TMPDIR.  May be NULL */
};

struct message;

/*
 * Read a message from fd (stdin in practice) until EOF, or until a lone
 * "." line unless opts->ignore_dots.  A leading mbox "From " line is
 * dropped.  Returns a new message or NULL.
 * Errors: EX_IOERR (read), EX_DATAERR (header block too large, NUL or
 * malformed header), EX_TEMPFAIL (nowhere to spool a large body: the
 * caller must keep the message).
 */
struct message *message_read(int fd, const struct message_opts *,
	    struct error *);

/*
 * Validate and complete: recipients from argv (+ To/Cc/Bcc with -t),
 * aliases for local names, qualification of bare names in the envelope
 * and in From/To/Cc/Sender/Reply-To, Date/Message-ID/From when missing,
 * Bcc removed, body encoding chosen (a non-MIME body with an overlong
 * line or a NUL is re-encoded as quoted-printable with MIME headers).
 * Errors: EX_USAGE (no recipients and no -t), EX_NOINPUT (-t found no
 * recipients), EX_DATAERR (bad address, overlong line in a MIME body).
 */
int	message_finalize(struct message *, const struct message_opts *,
	    struct error *);

/*
 * A body made by another module (compose mode): the callbacks yield the
 * body's exact wire bytes (CRLF lines of at most 998 octets), can start
 * over, and free their context.  size is the exact octet count.
 */
struct message_body_ops {
	ssize_t	(*read)(void *ctx, void *buf, size_t len, struct error *);
	int	(*rewind)(void *ctx, struct error *);
	void	(*free)(void *ctx);
};

/*
 * A message from header fields (name, value pairs; values are unfolded
 * text that the formatter folds when serialising) and a generated body.
 * Takes ownership of ctx (freed with ops->free by message_free, also on
 * error).  message_finalize() then completes it as any other message;
 * the body is never re-encoded.
 */
struct message *message_new_composed(const char *const *names,
	    const char *const *values, size_t nfields,
	    const struct message_body_ops *, void *ctx, off_t size);

/*
 * A message whose bytes are already final (a queue entry): the n octets
 * of fd from offset 0 are sent verbatim, with this envelope.  Takes
 * ownership of fd; the envelope is copied.  Needs no finalize.
 */
struct message *message_new_wire(int fd, off_t size, const struct envelope *);

void	message_free(struct message *);

const struct envelope *message_envelope(const struct message *);
/* What finalize did to the author headers, one line each ("From: added
 * (there was none)", "Sender: added (set_sender_header on)"...), for
 * --dry-run.  Empty when nothing was changed. */
const struct strlist *message_rewrites(const struct message *);
/* The Message-ID, with angle brackets, or NULL when the message has none. */
const char *message_id(const struct message *);
/* The exact number of octets a reader yields (known after finalize). */
off_t	message_size(const struct message *);
/* Value of the first header with this name (unfolded, trimmed), or NULL. */
const char *message_header(const struct message *, const char *name);

/* A pull reader over the finalized message. */
struct message_reader;
struct message_reader *message_reader_new(const struct message *);
/* Copies up to len bytes into buf; returns the count, 0 at the end, or -1
 * with EX_IOERR. */
ssize_t	message_reader_read(struct message_reader *, void *, size_t,
	    struct error *);
void	message_reader_rewind(struct message_reader *);
void	message_reader_free(struct message_reader *);

/*
 * Write the whole finalized message to fd (for the queue, dead.letter and
 * --dry-run).  Errors: EX_IOERR / EX_CANTCREAT.
 */
int	message_write(const struct message *, int fd, struct error *);

#endif
