/*
 * Encoders for message text: RFC 2045 quoted-printable as a streaming
 * filter, RFC 2047 encoded words for header phrases, UTF-8 checks.
 * Pure code over struct buf.
 */
#ifndef POSTIE_HDRENC_H
#define POSTIE_HDRENC_H

#include <stddef.h>

struct buf;

/*
 * Streaming quoted-printable encoder for text (RFC 2045 6.7).  Input comes
 * as line content in pieces; hard line breaks are given by
 * qp_enc_eol() and become CRLF.  Encoded lines never exceed 76 octets
 * (soft breaks "=" CRLF, never inside an "=XX" triplet); space and tab
 * before a line break are encoded; "From " at the start of a line is
 * written "=46rom " (mbox safety); a "." alone... is left to SMTP
 * dot-stuffing.
 */
struct qp_enc {
	int	col;		/* octets on the current output line */
	int	pending;	/* a space or tab not yet written, or -1 */
	int	bol;		/* at the beginning of an input line */
	char	head[5];	/* start-of-line bytes held to spot "From " */
	int	nhead;
};

void	qp_enc_init(struct qp_enc *);
void	qp_enc_data(struct qp_enc *, const char *, size_t, struct buf *);
void	qp_enc_eol(struct qp_enc *, struct buf *);
/* End of input: flush; no line break is added if the last line had none,
 * a soft break ends it instead when needed. */
void	qp_enc_finish(struct qp_enc *, struct buf *);

/* UTF-8 validation state for streaming checks (RFC 3629). */
struct utf8_check {
	int	need;		/* continuation bytes still expected */
	int	bad;		/* an invalid sequence was seen */
	unsigned min;		/* overlong detection */
	unsigned cp;
};
void	utf8_check_init(struct utf8_check *);
void	utf8_check_data(struct utf8_check *, const unsigned char *, size_t);
/* 1 when everything fed so far is complete, valid UTF-8. */
int	utf8_check_ok(const struct utf8_check *);
int	utf8_valid(const char *, size_t);

/*
 * A display name as an RFC 5322 phrase: an atom sequence when it is plain
 * ASCII, a quoted-string when it has specials, RFC 2047 "B" encoded words
 * in UTF-8 when it has non-ASCII (each word at most 75 octets, never
 * splitting a character).  Returns an allocated string.
 */
char	*hdrenc_phrase(const char *);

/* 1 when the string is all printable ASCII or WSP. */
int	hdrenc_is_ascii(const char *);

#endif
