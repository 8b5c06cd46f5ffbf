/*
 * Compose mode: a MIME message (RFC 2045-2049) built from the command line
 * (-s -a -c -b --html --inline --body --header ...) around a text read
 * from stdin or a file.  Attachments are typed with libmagic (filetype.h:
 * in a child process, only when there is one) and streamed from their
 * files through base64 or quoted-printable encoders, so the message is
 * never held in memory; the exact size is computed before anything is
 * sent.
 */
#ifndef POSTIE_MIME_H
#define POSTIE_MIME_H

struct error;
struct message;
struct message_opts;
struct strlist;

/*
 * What compose mode is given (cli_compose_opts() fills it from the
 * command line).  Everything is borrowed and must outlive the message.
 */
struct compose_opts {
	const char		*subject;	/* -s */
	const char		*reply_to;	/* --reply-to */
	const char		*html;		/* --html FILE */
	const char		*body_file;	/* --body FILE (else fd) */
	const char		*charset;	/* --charset: the text's */
	const struct strlist	*rcpts;		/* To: the operands */
	const struct strlist	*cc;		/* -c */
	const struct strlist	*bcc;		/* -b, --bcc */
	const struct strlist	*attach;	/* -a FILE[;type=T][;name=N] */
	const struct strlist	*inlines;	/* --inline FILE */
	const struct strlist	*headers;	/* --header 'Name: value' */
};

/*
 * Build the message of compose mode: To/Cc/Reply-To/Subject/extra header
 * fields (RFC 2047 encoded and folded near 78 octets), MIME-Version and
 * Content-Type, and a generated body (text from fd or --body, --html,
 * --inline, attachments).  Every envelope recipient (operands, -c, -b and
 * --bcc; Bcc never appears in a header) is appended to rcpts, and
 * mo->rcpts is pointed at it, so message_finalize(msg, mo) collects them;
 * rcpts must outlive that call.  mo->qualify_domain qualifies bare names
 * in the headers.  Nothing is connected to or queued here: every file is
 * opened and checked first.
 * Errors: EX_DATAERR (CR, LF or NUL in a value that becomes a header; a
 * value or text that is not valid UTF-8; a text that is not valid in the
 * --charset), EX_USAGE (malformed --header, -a option, unknown charset,
 * --inline without --html), EX_NOINPUT (an attachment, --html, --inline
 * or --body file missing, unreadable, a directory or not a regular file),
 * EX_IOERR (reading stdin), EX_CANTCREAT (the spool file for stdin).
 * The file descriptor is read to its end; it is not closed.
 */
struct message *mime_compose(const struct compose_opts *,
	    struct message_opts *,
	    int fd, struct strlist *rcpts, struct error *);

/*
 * Split an -a/--inline argument "FILE[;type=TYPE][;name=NAME]" (the
 * parameters in any order; the path runs to the first ";type=" or
 * ";name=").  Outputs are allocated (type and name NULL when absent),
 * written only on success.  Errors: EX_USAGE (empty path or value).
 */
int	mime_parse_file_arg(const char *, char **path, char **type,
	    char **name, struct error *);

#endif
