/*
 * A streaming RFC 5322 header-block parser: push physical lines (without
 * their line ending), get complete header fields out.  Unfolds, bounds
 * sizes, does no I/O, holds no globals: it can be fuzzed directly.
 */
#ifndef POSTIE_RFC5322_H
#define POSTIE_RFC5322_H

#include <stddef.h>

struct error;

#define RFC5322_MAX_FIELD	(64 * 1024)	/* one unfolded field */
#define RFC5322_MAX_HEADER	(1024 * 1024)	/* the whole block */
#define RFC5322_MAX_FIELDS	10000

/* One header field. */
struct header {
	char	*name;		/* field name as written */
	char	*raw;		/* the value as written: everything after the
				   colon, folds kept as "\n" + WSP */
	char	*value;		/* unfolded and trimmed (for parsing) */
};

struct header_list {
	struct header	*v;
	size_t		 n;
	size_t		 cap;
};
#define HEADER_LIST_INIT	{ NULL, 0, 0 }

enum rfc5322_state {
	RFC5322_MORE = 0,	/* line taken as part of the header block */
	RFC5322_END,		/* empty line: the block ended, line consumed */
	RFC5322_BODY		/* not a header line: the block ended and this
				   line is the first line of the body */
};

struct rfc5322 {
	struct header_list	*out;	/* borrowed: where fields go */
	char			*name;	/* field being collected */
	char			*raw;
	size_t			 rawlen;
	size_t			 rawcap;
	size_t			 total;	/* bytes taken so far */
	int			 done;
};

void	rfc5322_init(struct rfc5322 *, struct header_list *);
/*
 * Push one physical line (no CR/LF at its end).  Returns the state, or -1
 * with EX_DATAERR (NUL in a header, field or block too large, too many
 * fields).  A continuation line before any field makes the block end
 * (RFC5322_BODY), as sendmail does with a body that has no header.
 */
int	rfc5322_push(struct rfc5322 *, const char *, size_t, struct error *);
/* End of input inside the header block: flush the pending field. */
int	rfc5322_finish(struct rfc5322 *, struct error *);
void	rfc5322_release(struct rfc5322 *);

/* Header list helpers. */
void	header_list_add(struct header_list *, const char *name,
	    const char *raw);
/* Index of the first field named name (case-insensitive) at or after
 * from, or -1. */
long	header_list_find(const struct header_list *, const char *, size_t);
void	header_list_remove(struct header_list *, size_t);
/* Replace a field's value: raw and value both become the new text. */
void	header_list_set(struct header_list *, size_t, const char *);
void	header_list_release(struct header_list *);

/* 1 when the bytes form a valid field name (printable ASCII but ':'). */
int	rfc5322_valid_name(const char *, size_t);
/* Unfold raw header text (drop CR/LF before WSP) and trim; allocated. */
char	*rfc5322_unfold(const char *);

#endif
