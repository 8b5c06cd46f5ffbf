/*
 * Aliases: an /etc/aliases-style file: "name: target, target", comments
 * with '#', continuation lines starting with white space, and a
 * "default: target" entry used for every local name without its own.
 * Names match without regard to case; the first entry for a name wins.
 */
#ifndef POSTIE_ALIASES_H
#define POSTIE_ALIASES_H

#include <stddef.h>

struct error;
struct strlist;
struct aliases;

/*
 * Read and parse an aliases file (at most 1 MiB).  Parsing and each
 * lookup take time linear and logarithmic in the entries (sorted once).
 * Errors: EX_CONFIG naming the file and line.
 */
struct aliases *aliases_load(const char *path, struct error *);
/* The same over text; name is for messages. */
struct aliases *aliases_parse(const char *text, size_t len, const char *name,
	    struct error *);
/*
 * Expand a local name (no '@'): appends its targets (or the default's, or
 * the name itself when neither exists) to out.  One level, as msmtp.
 */
void	aliases_expand(const struct aliases *, const char *, struct strlist *);
void	aliases_free(struct aliases *);

#endif
