/*
 * Small shared helpers: a growable byte buffer, a string list, and a few
 * string functions.  Nothing here does I/O except util_read_file().
 */
#ifndef POSTIE_UTIL_H
#define POSTIE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

struct error;

/*
 * A growable buffer.  data is always NUL-terminated (the NUL is not counted
 * in len), so it can be used as a C string when it holds text.
 * Initialise with BUF_INIT or buf_init(); release with buf_release().
 */
struct buf {
	char	*data;		/* owned; NULL until the first add */
	size_t	 len;
	size_t	 cap;
};
#define BUF_INIT	{ NULL, 0, 0 }

void	 buf_init(struct buf *);
void	 buf_grow(struct buf *, size_t);	/* room for n more bytes */
void	 buf_add(struct buf *, const void *, size_t);
void	 buf_addstr(struct buf *, const char *);
void	 buf_addch(struct buf *, int);
void	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((__format__(printf, 2, 3)));
void	 buf_reset(struct buf *);		/* len = 0, keeps memory */
void	 buf_release(struct buf *);		/* frees; reusable after */
/* Returns the allocated string (never NULL) and leaves the buffer empty. */
char	*buf_detach(struct buf *);
/* Returns data as a C string ("" when empty); borrowed. */
const char *buf_str(const struct buf *);

/*
 * A list of owned strings.  v[n] is always NULL once anything was added.
 */
struct strlist {
	char	**v;
	size_t	  n;
	size_t	  cap;
};
#define STRLIST_INIT	{ NULL, 0, 0 }

void	 strlist_add(struct strlist *, const char *);	/* copies */
void	 strlist_add_owned(struct strlist *, char *);	/* takes ownership */
int	 strlist_contains(const struct strlist *, const char *); /* exact */
int	 strlist_contains_nocase(const struct strlist *, const char *);
void	 strlist_release(struct strlist *);

/*
 * A set of strings for de-duplication in linear time: the strings are
 * borrowed and must outlive the set.  Initialise with STRSET_INIT.
 */
struct strset {
	const char	**slot;
	size_t		  cap;		/* a power of two, or 0 */
	size_t		  n;
};
#define STRSET_INIT	{ NULL, 0, 0 }

int	 strset_has(const struct strset *, const char *);
void	 strset_add(struct strset *, const char *);	/* if absent */
void	 strset_release(struct strset *);

/* Trim ASCII space and tab at both ends, in place; returns s. */
char	*str_trim(char *);
/* 1 if s starts with prefix, ignoring ASCII case. */
int	 str_has_prefix_nocase(const char *, const char *);
/* 1 if the n bytes at p hold a CR, LF or NUL. */
int	 mem_has_crlfnul(const char *, size_t);
/* 1 if s (a C string) holds a CR or LF. */
int	 str_has_crlf(const char *);

/*
 * The first line ending (LF or CR) in [p, e), or NULL.  cr is a hint:
 * 0 when the block is known to hold no CR (only LF is looked for).
 */
const char *util_find_eol(const char *p, const char *e, int cr);

/*
 * The one line-ending normaliser (RFC 5321 2.3.8, RFC 2049 4): LF, CRLF
 * and a lone CR each end one line, also when a CRLF is split across two
 * blocks (*prev_cr carries the state; 0 at the start).  Each call takes
 * the next piece of line content from *pp (up to e) into *seg, *len
 * (possibly empty) and returns 1 when a line ending follows it (and is
 * consumed), 0 when the piece runs to e.  cr as for util_find_eol():
 *	while (p < e) {
 *		eol = crlf_next(&prev_cr, 1, &p, e, &seg, &len);
 *		(the text seg, len) ... if (!eol) break; (a CRLF) ...
 *	}
 */
int	 crlf_next(int *prev_cr, int cr, const char **pp, const char *e,
	    const char **seg, size_t *len);

/*
 * Append the n bytes at p to b in a form safe to print on a terminal or
 * in a log: every C0 control (ESC, BEL, BS, CR, LF, NUL...) but TAB, DEL,
 * every C1 control (U+0080..U+009F, which 8-bit terminals take as CSI or
 * OSC) and every byte that is not part of well-formed UTF-8 becomes
 * "\xNN"; a backslash becomes "\\"; valid UTF-8 text is kept.  One
 * trailing CR (a reply line's CRLF cut at the LF) is dropped first.  The
 * one escaping rule for untrusted text (server replies, queue fields).
 */
void	 buf_add_escaped(struct buf *, const char *, size_t);
/*
 * Append s (NULL: "") as a JSON string: quotes, backslashes and controls
 * escaped, and every byte that is not part of valid UTF-8 replaced by
 * U+FFFD, so the output is always valid UTF-8 JSON (RFC 8259).
 */
void	 buf_add_json_str(struct buf *, const char *);
/* The same, but NULL is the JSON null. */
void	 buf_add_json_str_or_null(struct buf *, const char *);

/*
 * The host's fully qualified name: the canonical name of gethostname()
 * from getaddrinfo(AI_CANONNAME) when it has a dot, else the short name.
 * Returns an allocated string; never NULL ("localhost" as a last resort).
 */
char	*util_fqdn(void);

/*
 * The first line of a small text file (like /etc/mailname), trimmed.
 * Returns an allocated string, or NULL when the file cannot be read or
 * the line is empty.
 */
char	*util_first_line(const char *);
/*
 * The EHLO name when "domain" is not set: the host's fully qualified
 * name (with a dot), else the address literal of the local address
 * (RFC 5321 4.1.3: "[192.0.2.1]", "[IPv6:2001:db8::1]") that source_ip
 * names or that a connection to host would use; "[127.0.0.1]" when
 * nothing is known.  Never "localhost".  Allocated.
 */
char	*util_ehlo_name(const char *host, int port, const char *source_ip);

/* $HOME when it is absolute and the user may enter it (Debian's cron
 * hands a user's mailer the daemon's HOME=/root), else the password
 * database's home of the real user, else $HOME; allocated, or NULL when
 * neither is known. */
char	*util_home_dir(void);

/* The real user's login name from the password database (allocated), or
 * NULL when it has none; each caller has its own fallback. */
char	*util_login_name(void);

/* Fill p with n random octets (getrandom(), waiting for the pool at boot);
 * -1 when the kernel cannot give them. */
int	 util_random(void *p, size_t n);

/*
 * A host name, an IPv4 or IPv6 address (RFC 1123 2.1, RFC 4291 2.2) or
 * an address literal, as the n octets at s: letters, digits and "-._:%[]"
 * only (the value ends up in a URL).  The one host check of the config.
 */
int	 util_valid_host(const char *s, size_t n);


/*
 * An unlinked temporary file in $TMPDIR (else /tmp), mode 0600: O_TMPFILE
 * where the file system has it, else mkostemp and unlink.  Returns the
 * fd, or -1 with EX_TEMPFAIL (nowhere to hold it: the caller keeps the
 * message).  util_tmpfile_in() tries first first (NULL: skipped).
 */
int	 util_tmpfile(struct error *);
/* 32 random bits (getrandom), or time and pid when there is no entropy
 * yet (early boot): for names made unique with O_EXCL, never secrets. */
unsigned int util_rnd32(void);
/* The value of a hexadecimal digit (either case), or -1. */
int	 util_hexval(int);
/* s (up to max octets, NULL: nothing) as one line: CR, LF and other
 * controls become spaces. */
void	 buf_add_clean(struct buf *, const char *s, size_t max);
int	 util_tmpfile_in(const char *first, struct error *);

/*
 * write(2) all n bytes, retrying on EINTR and short writes.
 * Returns 0, or -1 with errno set.
 */
int	 util_write_all(int, const void *, size_t);
/* read(2) exactly n bytes, retrying on EINTR and short reads.  Returns
 * 0, or -1 at an error or an end of file first. */
int	 util_read_all(int, void *, size_t);

#endif
