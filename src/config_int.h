/*
 * The configuration's private parts, shared by config.c (the files:
 * reading, sections, inheritance, choosing the account) and
 * config_keys.c (the key table, one row per key, and the handlers that
 * parse each value).  Included by nothing else.
 */
#ifndef POSTIE_CONFIG_INT_H
#define POSTIE_CONFIG_INT_H

#include <stddef.h>

#include "config.h"

struct error;

#define MAILNAME	"/etc/mailname"

/*
 * Where a key's value lives in struct account: its offset and kind.
 * S(m) names the char * member m, I(m) the int member m (a member of
 * another type does not compile); NOFIELD, a key that stores nothing
 * itself.  pacct.given[] records which fields a section set, so that
 * "defaults" and "account A : B" copy exactly those (msmtp's mask).
 */
struct field {
	size_t	off;
	int	kind;
};
#define FK_NONE	0
#define FK_STR	1
#define FK_INT	2

/* S(), I(), NOFIELD and FIELD() are config_keys.c's. */

/* An account being parsed, with the fields given for it. */
struct pacct {
	struct account	*a;
	unsigned char	 given[sizeof(struct account)];	/* by offset */
	int		 ngiven;
};

/* The state of parsing one file. */
struct parse {
	const char	 *name;		/* file name, for messages */
	int		  line;
	struct pacct	  defaults;
	struct pacct	**accts;	/* this file's accounts, in order */
	size_t		  naccts;
	size_t		  cap;
	struct pacct	 *cur;		/* NULL before the first section */
	char		 *default_name;
	int		  has_password;	/* a "password" line was seen */
	struct route_table routes;	/* this file's "route" lines */
};

struct keydef;
typedef int (*key_fn)(struct parse *, struct pacct *, const struct keydef *,
    const char *, struct error *);

/* Flags for string keys. */
#define K_FILE		0x01	/* a file name: "~" is $HOME */
#define K_REQUIRED	0x02	/* an empty value is an error */
#define K_EXPAND_FROM	0x04	/* %U %H %C %M as msmtp's "from" */
#define K_EXPAND_HOST	0x08	/* %H %C %M as msmtp's "domain" */

/*
 * One row per key: its name, the handler that parses the value, the
 * field it sets, K_* flags, and the default of a new account (an int;
 * for a string, sdef).  A new key is one row here, one field in struct
 * account (config.h), and the code that uses it.
 */
struct keydef {
	const char	*name;
	key_fn		 fn;
	struct field	 field;
	int		 flags;
	int		 def;
	const char	*sdef;
};

/* config_keys.c */
extern const struct keydef keys[];	/* NULL-terminated */
struct account *account_new(const char *, int, const char *);
void	 account_defaults(struct account *, int);
void	 account_free(struct account *);
void	 inherit(struct pacct *, const struct pacct *);
void	 account_copy_fields(struct account *, const struct account *);
int	 perr(struct parse *, struct error *, const char *, ...)
		    __attribute__((__format__(printf, 3, 4)));

#endif
