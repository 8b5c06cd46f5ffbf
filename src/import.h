/*
 * The way in from other senders: postie --import-config FORMAT [PATH]
 * prints a postie.conf (msmtp syntax) equivalent to an ssmtp, nullmailer
 * or dma configuration, with a comment on every value the old tool
 * would have mangled and every setting that has no equivalent here.  And
 * the detector behind the config error for such a file met as postie's
 * own ("this is ssmtp's configuration: run ...").  Pure C over text
 * except import_config(), which reads the files.
 */
#ifndef POSTIE_IMPORT_H
#define POSTIE_IMPORT_H

#include <stddef.h>

struct buf;
struct error;
struct strlist;

enum import_format {
	IMPORT_NONE = 0,
	IMPORT_SSMTP,		/* /etc/ssmtp/ssmtp.conf + revaliases */
	IMPORT_NULLMAILER,	/* /etc/nullmailer/{remotes,me,...} */
	IMPORT_DMA		/* /etc/dma/dma.conf + auth.conf */
};

/* "ssmtp", "nullmailer", "dma" -> the format; IMPORT_NONE otherwise. */
enum import_format import_format_parse(const char *);
/* The format's name as import_format_parse() takes it. */
const char *import_format_name(enum import_format);
/* The default path of the format's main file (or directory). */
const char *import_default_path(enum import_format);

/*
 * What a config line that postie does not know says about its origin:
 * key is its first word (which for ssmtp holds "key=value"), rest the
 * rest of the line (may be "").  Pure.
 */
enum import_format import_detect(const char *key, const char *rest);

/*
 * The translators, over the files' texts (NULL when a file is absent).
 * Each appends a postie.conf to out and one line per problem to notes
 * (also present as "# NOTE:" comments in out).  Pure.
 * ssmtp: conf = ssmtp.conf, revaliases = revaliases.
 * nullmailer: remotes, me, defaultdomain, defaulthost, adminaddr,
 * helohost.
 * dma: conf = dma.conf, auth = the auth.conf it names.
 * Errors: EX_DATAERR when the input names no relay at all.
 */
int	import_ssmtp(const char *conf, const char *revaliases, struct buf *out,
	    struct buf *notes, struct error *);
/* nullmailer's control files (NULL: absent); unmapped: the names of the
 * present ones with no equivalent (allmailfrom, sendtimeout, ...). */
struct nullmailer_files {
	const char		*remotes, *me, *defaultdomain, *defaulthost;
	const char		*adminaddr, *helohost;
	const struct strlist	*unmapped;
};
int	import_nullmailer(const struct nullmailer_files *, struct buf *out,
	    struct buf *notes, struct error *);
int	import_dma(const char *conf, const char *auth, struct buf *out,
	    struct buf *notes, struct error *);

/*
 * Read the format's files at path (a file, or nullmailer's directory;
 * NULL: the default path) and translate them.
 * Errors: EX_CONFIG (a file cannot be read), EX_DATAERR as above.
 */
int	import_config(enum import_format, const char *path, struct buf *out,
	    struct buf *notes, struct error *);

#endif
