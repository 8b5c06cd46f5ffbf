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
/*
 * 0: nothing goes to stderr any more (-bs, where stdout is the SMTP
 * dialogue and a caller takes stderr output as failure): warnings, info
 * and the error line go to syslog when "syslog" is set, else nowhere,
 * and "logfile -" is not used.  1: back to stderr.
 */
void	log_set_stderr(int);
void	log_warnx(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((__format__(printf, 1, 2)));
/* -v: what was chosen and what happened; -vv: log_trace, the dialogue. */
void	log_debug(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	log_trace(const char *, ...) __attribute__((__format__(printf, 1, 2)));
/* Print the one error line of a failed run. */
void	log_error(const struct error *);

/*
 * The delivery log: "logfile FILE" (appended, O_NOFOLLOW, mode 0600;
 * "-" is stdout, as msmtp) and "syslog FACILITY" (LOG_MAIL, LOG_USER...).  Either
 * may be NULL.  log_open() may be called again (another account); a file
 * that cannot be opened is a warning, never a failure.
 */
void	log_open(const char *logfile, const char *syslog_facility);
void	log_close(void);

struct outcome;
struct strlist;

/* One delivery attempt: one log line.  Borrowed pointers; NULL: none. */
struct log_attempt {
	const char		*queue_id;
	const char		*account;
	const char		*host;
	int			 tls;
	int			 auth;		/* AUTH configured */
	const char		*user;		/* never the password */
	const char		*from;
	const struct strlist	*rcpts;
	const struct outcome *res;		/* per-recipient status */
	long long		 size;
	int			 smtp_code;	/* 0: none; the final reply
						   when accepted, else the
						   worst */
	const char		*smtp_text;	/* its text, or the error */
	const char		*outcome;	/* delivered queued bounced
						   dead.letter failed ... */
	int			 exit_code;
};
void	log_attempt(const struct log_attempt *);
/* The line log_attempt() writes, without time and newline (tests). */
char	*log_attempt_line(const struct log_attempt *);

#endif
