/*
 * Addresses: RFC 5322 address lists (as found in To/Cc/Bcc/From headers,
 * with groups, comments, quoted strings, encoded display names) and
 * RFC 5321 mailboxes (the envelope).  Pure code: no I/O, no globals.
 */
#ifndef POSTIE_ADDR_H
#define POSTIE_ADDR_H

#include <stddef.h>

struct error;
struct strlist;

/* One mailbox found in an address list. */
struct addr {
	char	*spec;		/* addr-spec, CFWS removed: "a@b", "\"x y\"@b", "root" */
	char	*display;	/* display name, unquoted, NULL when absent;
				   RFC 2047 words are left encoded */
	int	 has_domain;	/* 0 for a bare local name like "root" */
	size_t	 start;		/* byte span of the addr-spec in the value: */
	size_t	 end;		/* value[start..end) (for in-place rewriting) */
};

struct addr_list {
	struct addr	*v;
	size_t		 n;
	size_t		 cap;
};
#define ADDR_LIST_INIT	{ NULL, 0, 0 }

/*
 * Parse an unfolded header value holding an RFC 5322 address-list
 * (obsolete forms accepted: empty list elements, routes, a missing ';' at
 * the end of a group).  Mailboxes are appended to list; group names and
 * comments are dropped.  An empty group ("undisclosed-recipients:;")
 * adds nothing.  The value is borrowed.
 * Errors: EX_DATAERR naming the problem (unbalanced quote, comment or
 * angle bracket; CR, LF or NUL; an empty address; a value over 64 KiB or
 * comments nested deeper than 32).  On error list is left unchanged.
 */
int	addr_parse_list(const char *, struct addr_list *, struct error *);
void	addr_list_release(struct addr_list *);

/*
 * Rewrite an address-list value so that every bare local name ("root")
 * reads "root@domain"; everything else is kept byte for byte.  Returns an
 * allocated string, or NULL with EX_DATAERR when the value does not parse.
 */
char	*addr_qualify_list(const char *, const char *, struct error *);

/*
 * Check that s is usable as an SMTP envelope mailbox (RFC 5321 4.1.2
 * Mailbox, with non-ASCII allowed for SMTPUTF8), or a bare local name
 * when allow_bare is set.  Refuses: empty, leading '-', CR/LF/NUL or
 * other control characters, '<' '>' or space outside a quoted local
 * part, more than one unquoted '@', local part over 64 or domain over 255
 * octets, an empty local part or domain.
 * Errors: EX_DATAERR, naming the address and the reason (EX_USAGE for a
 * leading '-', which is an option injection attempt).
 */
int	addr_check_mailbox(const char *, int allow_bare, struct error *);

/*
 * Turn a sender given on the command line (-f/-r) into an envelope
 * mailbox: "<a@b>" -> "a@b", "" and "<>" -> "" (null sender), "Name
 * <a@b>" -> "a@b".  Returns an allocated string or NULL with EX_DATAERR
 * (or EX_USAGE for a leading '-').
 */
char	*addr_envelope_sender(const char *, struct error *);

/*
 * Split one recipient argument that may hold several addresses separated
 * by commas (cron's MAILTO="a, b"), as an address list; each addr-spec is
 * appended to out.  Errors as addr_parse_list(); a word starting with '-'
 * is EX_USAGE.
 */
int	addr_split_arg(const char *, struct strlist *, struct error *);

/* 1 when the mailbox has an unquoted '@' with a domain after it. */
int	addr_has_domain(const char *);
/* Pointer to the domain part of a mailbox (after the last unquoted '@'),
 * or NULL for a bare local name (or an '@' with nothing after it).
 * Borrowed from s. */
const char *addr_domain(const char *);

#endif
