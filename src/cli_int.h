/* cli.c and cli_msmtp.c (the msmtp face): what they share. */
#ifndef POSTIE_CLI_INT_H
#define POSTIE_CLI_INT_H

#include <popt.h>

struct cli_opts;
struct error;
struct strlist;

/* cli.c */
extern struct poptOption cli_table[];	/* every face's options */
const struct poptOption *cli_find_long(const struct poptOption *,
	    const char *, size_t);
int	cli_takes_arg(const struct poptOption *);
/* One option from poptGetNextOpt(); arg is borrowed (NULL for none). */
int	cli_handle(struct cli_opts *, int, char *, struct error *);
int	cli_add_list(struct strlist *, const char *, const char *,
	    struct error *);
/* Record an accepted-and-ignored option as "-Xvalue". */
void	cli_ignore(struct cli_opts *, int, const char *);
void	cli_replace(char **, char *);

/* cli_msmtp.c */
int	msmtp_parse(struct cli_opts *, int, char **, struct error *);
void	msmtp_help(void);

#endif
