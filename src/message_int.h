/*
 * The message's private parts, shared by message.c (reading, accessors,
 * readers) and message_finalize.c (recipients, the fields postie adds,
 * the body's encoding, the serialised head).  Included by nothing else.
 */
#ifndef POSTIE_MESSAGE_INT_H
#define POSTIE_MESSAGE_INT_H

#include <sys/types.h>

#include "message.h"
#include "rfc5322.h"
#include "util.h"

struct error;

#define LINE_MAX_SMTP	998		/* RFC 5322 2.1.1 */

enum body_enc {
	BODY_ASIS = 0,	/* line endings normalised to CRLF */
	BODY_QP		/* re-encoded as quoted-printable */
};

/* What one pass over the body learned. */
struct body_stats {
	off_t		 lines;		/* line count (a final partial too) */
	off_t		 content;	/* octets, line endings excluded */
	off_t		 maxline;	/* longest line, line ending excluded */
	off_t		 longline;	/* number of the first line > 998 */
	int		 nul;		/* a NUL byte was seen */
	int		 eightbit;	/* a byte > 127 was seen */
	struct utf8_check utf8;
};

/*
 * Where the raw body bytes are: in memory, or a byte range of a file
 * (the seekable input itself, or a spool file of a piped input).
 */
struct body_src {
	struct buf	 mem;
	int		 fd;		/* -1: mem */
	off_t		 start;
	off_t		 end;
	const struct message_body_ops *gen;	/* a generated body, or NULL */
	void		*genctx;
	off_t		 gensize;
};

struct message {
	struct envelope		 env;
	struct header_list	 hdrs;
	struct body_src		 body;
	struct body_stats	 stats;
	enum body_enc		 enc;
	int			 verbatim;	/* body bytes are final */
	struct buf		 head;	/* serialised header block + CRLF */
	off_t			 body_size;	/* octets the body yields */
	char			*msgid;
	int			 finalized;
	int			 lead_fold;	/* input line 1 began with white
						   space: no header block */
	char			*spool_dir;	/* message_opts' */
	struct strlist		 rewrites;	/* message_rewrites() */
};

/* message.c: the octets the body yields, counted by reading it. */
off_t	count_body(const struct message *, struct error *);

#endif
