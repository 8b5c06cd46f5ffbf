/*
 * The progress line for a long upload on a terminal (--progress):
 * "postie: 12.0 MiB of 40.0 MiB (30%), 5.1 MiB/s, 0:05 left".  Written
 * over itself with CR, at most twice a second, ended with a newline.
 */
#ifndef POSTIE_PROGRESS_H
#define POSTIE_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

/* Messages smaller than this never show a line. */
#define PROGRESS_MIN	(4u * 1024 * 1024)

/* -1: on when stderr is a terminal (the default), 0 off, 1 on. */
void	progress_set(int mode);
/* Whether an upload of total octets shows the line. */
int	progress_wanted(uint64_t total);

struct progress {
	uint64_t	total;
	double		start;		/* seconds, monotonic */
	double		last;		/* when the line was last written */
	int		shown;
};

void	progress_start(struct progress *, uint64_t total);
/* done octets sent so far; writes the line when it is time. */
void	progress_update(struct progress *, uint64_t done);
/* Ends the line (a newline) if one was written. */
void	progress_end(struct progress *);

/* The line's text for done of total after secs seconds.  Pure. */
void	progress_format(char *, size_t, uint64_t done, uint64_t total,
	    double secs);

#endif
