/*
 * Messages for the user on stderr ("postie: ..."), and the verbose trace.
 * Formats carry no trailing newline.
 */
#ifndef POSTIE_LOG_H
#define POSTIE_LOG_H

struct error;

/* progname prefixes every line; verbose > 0 shows log_debug() lines. */
void	log_init(const char *progname, int verbose);
int	log_verbose(void);
void	log_warnx(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((__format__(printf, 1, 2)));
/* Print the one error line of a failed run. */
void	log_error(const struct error *);

#endif
