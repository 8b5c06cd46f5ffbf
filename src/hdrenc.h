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

/*
 * Streaming base64 encoder (RFC 2045 6.8, alphabet of RFC 4648 4).  Lines
 * hold 76 characters and are separated by CRLF; the last line gets no
 * CRLF (a MIME delimiter or the caller supplies it), so the output size
 * is pure arithmetic on the input size: b64_enc_size().
 */
struct b64_enc {
	unsigned char	in[3];	/* input octets not yet encoded */
	int		nin;
	int		col;	/* characters on the current output line */
};

void	b64_enc_init(struct b64_enc *);
void	b64_enc_data(struct b64_enc *, const void *, size_t, struct buf *);
/* Pad and flush the last group; no line break is added. */
void	b64_enc_finish(struct b64_enc *, struct buf *);
/* Octets b64_enc_* produce for n input octets. */
long long b64_enc_size(long long);

/*
 * Header values for the formatter.  Each returns an allocated string to
 * give to header_list_set(): an unfolded value with "\n" inserted before
 * white space where the line must fold, so that "Name: value" lines stay
 * within 78 octets wherever the syntax has white space to fold at
 * (RFC 5322 2.1.1, 2.2.3).  namelen is the length of the field name.
 * The input must not hold CR, LF or NUL (callers refuse those first).
 */

/*
 * Fold a value at white space outside quoted strings, comments and
 * encoded words.  A value without room to fold keeps its long line.
 */
char	*hdrenc_fold(const char *, size_t namelen);

/*
 * Unstructured text (Subject, Comments, an extra --header): words with
 * non-ASCII octets, control characters or "=?" become RFC 2047 "B"
 * encoded words in UTF-8 (adjacent ones merged into one run, which keeps
 * the spaces between them); each word is at most 75 octets, sized to the
 * room left on its line, and never splits a UTF-8 character.  Trailing
 * blanks are dropped.  The text must be valid UTF-8.
 */
char	*hdrenc_unstructured(const char *, size_t namelen);

/*
 * A mailbox list (To, Cc, Reply-To): n mailboxes, display[i] may be NULL.
 * An ASCII display name is an atom sequence or a quoted-string; one with
 * non-ASCII is a sequence of encoded words (never inside quotes, RFC 2047
 * 5(3)).  Folded between words and after the commas.
 */
char	*hdrenc_mailboxes(const char *const *display,
	    const char *const *spec, size_t n, size_t namelen);

/*
 * Append the parameter "; attr=value" to a header value being built
 * (RFC 2045 5.1): a token when the value is one, else a quoted-string with
 * '"' and '\\' escaped.  A value with non-ASCII octets is written with
 * RFC 2231 "attr*=UTF-8''%XX" (split into continuations "attr*0*=",
 * "attr*1*=" of at most 60 characters, never inside a character or a %XX
 * triplet), unless ascii_only is set: then non-ASCII characters and
 * controls become '_' in a plain quoted-string (the fallback for readers
 * that do not know RFC 2231).
 */
void	hdrenc_param(struct buf *, const char *attr, const char *value,
	    int ascii_only);

#endif
