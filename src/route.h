/*
 * Routes by recipient: "route DOMAIN-PATTERN ACCOUNT" lines.  The first
 * route whose pattern (a shell glob, fnmatch(3), case-insensitive)
 * matches a recipient's domain sends that recipient through its
 * account; recipients no route matches go through the message's own
 * account.  Pure: no I/O; relay.c splits a message with it.
 */
#ifndef POSTIE_ROUTE_H
#define POSTIE_ROUTE_H

#include <stddef.h>

struct account;
struct strlist;

struct route {
	char		*pattern;	/* "*.example.com", owned */
	char		*account;	/* the account's name, owned */
	char		*file;		/* where the line is, for messages */
	int		 line;
	const struct account *acct;	/* resolved by config.c, borrowed */
};

struct route_table {
	struct route	*v;
	size_t		 n;
};
#define ROUTE_TABLE_INIT	{ NULL, 0 }

/* A pattern postie takes: non-empty, no blanks, no '@', printable. */
int	route_valid_pattern(const char *);
void	route_table_add(struct route_table *, const char *pattern,
	    const char *account, const char *file, int line);
/* Move every route of from before those of to (from is left empty). */
void	route_table_prepend(struct route_table *to, struct route_table *from);
void	route_table_release(struct route_table *);

/*
 * The first route for a recipient (an RFC 5321 mailbox: its domain is
 * what follows the last '@'; a mailbox without one matches no route),
 * or NULL.  The domain is matched with FNM_CASEFOLD; an address literal
 * ("[192.0.2.1]") needs its '[' escaped in the pattern ("\\[192.0.2.*]").
 */
const struct route *route_match(const struct route_table *,
	    const char *rcpt);

/*
 * Group the recipients by account: group[i] is the index (0, 1, ...)
 * of recipient i's group, in order of first appearance, and acct[g] the
 * account of group g (dflt for recipients no route matches, or when
 * routes is NULL).  group has rcpts->n entries, acct room for as many.
 * Returns the number of groups.
 */
size_t	route_split(const struct route_table *, const struct account *dflt,
	    const struct strlist *rcpts, size_t *group,
	    const struct account **acct);

#endif
