/*
 * Compose mode's private parts, shared by mime.c (the command line, the
 * header fields, the MIME tree and the generator that streams it) and
 * mimepart.c (one part's content: its input file, the scan that picks
 * 7bit, quoted-printable or base64, the encoders and the exact encoded
 * size).  Included by nothing else.
 */
#ifndef POSTIE_MIME_INT_H
#define POSTIE_MIME_INT_H

#include <sys/stat.h>
#include <sys/types.h>

#include "util.h"

struct error;
struct filetype;

#define CHUNK		(64 * 1024)	/* read block */

enum mime_enc {
	MIME_7BIT = 0,
	MIME_QP,
	MIME_BASE64
};

/*
 * An encoder over raw octets.  For text (7bit, QP) every line ending
 * (LF, CRLF or a lone CR) becomes CRLF, the canonical form of RFC 2049 4;
 * base64 carries the octets unchanged.
 */
struct enc {
	enum mime_enc	 how;
	struct qp_enc	 qp;
	struct b64_enc	 b64;
	int		 prev_cr;
	int		 midline;	/* text after the last CRLF */
	int		 any;		/* any input at all */
};

/* What one pass over a text learned, and the encoded sizes. */
struct scan {
	long long	 lines;
	long long	 cur;		/* octets on the current line */
	long long	 maxline;
	long long	 badline;	/* first line with invalid UTF-8 */
	int		 eightbit;
	int		 nul;
	int		 cr;		/* a CR octet: base64 */
	int		 prev_cr;
	int		 dash;		/* "--=_" matched at bol */
	int		 boundary_like;	/* a line starts "--=_" */
	struct utf8_check utf8;
	struct enc	 e7;		/* encoders run for their sizes */
	struct enc	 eqp;
	long long	 n7;
	long long	 nqp;
};

/* One leaf: octets [start, start+len) of fd, encoded one way. */
struct part {
	char		*label;		/* "attachment 'x'" */
	int		 fd;		/* owned */
	off_t		 start;
	off_t		 len;
	enum mime_enc	 enc;
	struct enc	 e7, eqp;	/* state after the scan, for sizes */
	long long	 n7, nqp;
	int		 final_crlf;	/* whole body: end in CRLF */
	struct strlist	 hname;		/* its Content-* fields */
	struct strlist	 hval;
};

/* mimepart.c */
void	enc_init(struct enc *, enum mime_enc);
void	enc_data(struct enc *, const char *, size_t, struct buf *);
void	enc_finish(struct enc *, int, struct buf *);
int	open_input(const char *, const char *, struct stat *,
	    struct error *);
int	spool_copy(int, int, const char *, off_t *, struct error *);
struct part *part_new(const char *, int, off_t, off_t);
void	part_free(struct part *);
long long part_size(const struct part *);
int	text_part(struct part *, const char *, const char *,
	    struct error *);
int	file_part(const struct filetype *, struct part *, const char *,
	    const char *, const char *, const char *,
	    struct error *);
int	is_utf8_name(const char *);

#endif
