/*
 * Mailbox writing: the one mboxrd writer ("From " line, LF line endings,
 * ">From " quoting) used by local mailbox delivery (local.c) and by
 * dead.letter, the last resort when a message can be neither sent nor
 * queued.
 */
#ifndef POSTIE_MBOX_H
#define POSTIE_MBOX_H

struct error;
struct message;
struct outcome;

/*
 * Stream msg to fd with LF line endings (CRLF becomes LF, a lone CR is
 * kept).  With mbox: first the "From SENDER DATE" line (sender NULL or
 * "": MAILER-DAEMON), then headers (raw lines, LF-terminated; may be
 * NULL), mboxrd quoting of ^>*From lines, and the message ends with a
 * newline and one empty line.  Without mbox (a Maildir file) the bytes
 * only.  path names fd in errors.  Returns 0, or -1 with EX_TEMPFAIL on
 * a write error (full disk, quota, file size limit) or the reader's
 * error.
 */
int	mbox_write(int fd, const char *path, const char *sender,
	    const char *headers, const struct message *, int mbox,
	    struct error *);

/*
 * Append the whole message (headers included) to ~/dead.letter in mbox
 * form, after the "From " line one X-Postie-Not-Delivered: header per
 * recipient res (the attempt, may be NULL) did not deliver, with the
 * server's reply: O_APPEND|O_NOFOLLOW|O_CREAT, mode 0600, flock'ed,
 * never as a privileged user on another's file; a failed write is cut
 * back to the size measured under the lock.  Returns the path
 * (allocated) or NULL with err (EX_CANTCREAT).
 */
char	*mbox_dead_letter(const struct message *, const struct outcome *res,
	    struct error *);

#endif
