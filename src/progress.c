/*
 * The upload progress line.  libcurl's own meter (CURLOPT_NOPROGRESS 0
 * without a callback) prints a table meant for curl(1), so postie
 * formats its own from CURLOPT_XFERINFOFUNCTION's counts.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

static int	mode = -1;

void
progress_set(int m)
{
	mode = m;
}

int
progress_wanted(uint64_t total)
{
	if (total < PROGRESS_MIN || mode == 0)
		return 0;
	return mode == 1 || isatty(STDERR_FILENO);
}

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
progress_start(struct progress *p, uint64_t total)
{
	p->total = total;
	p->start = p->last = now();
	p->shown = 0;
}

void
progress_update(struct progress *p, uint64_t done)
{
	char	line[128];
	double	t = now();

	if (t - p->last < 0.5 && done < p->total)
		return;
	p->last = t;
	progress_format(line, sizeof(line), done, p->total, t - p->start);
	fprintf(stderr, "\rpostie: %s", line);
	fflush(stderr);
	p->shown = 1;
}

void
progress_end(struct progress *p)
{
	if (p->shown)
		fputc('\n', stderr);
	p->shown = 0;
}

void
progress_format(char *buf, size_t len, uint64_t done, uint64_t total,
    double secs)
{
	const double	mib = 1024.0 * 1024.0;
	double		rate;
	unsigned long	left = 0;
	unsigned	pct;

	if (done > total)
		done = total;
	rate = secs > 0.0 ? (double)done / secs : 0.0;
	pct = total > 0 ? (unsigned)(done * 100 / total) : 100;
	if (rate > 0.0)
		left = (unsigned long)((double)(total - done) / rate + 0.5);
	if (rate > 0.0)
		snprintf(buf, len, "%.1f MiB of %.1f MiB (%u%%), %.1f MiB/s, "
		    "%lu:%02lu left  ", (double)done / mib, (double)total / mib,
		    pct, rate / mib, left / 60, left % 60);
	else
		snprintf(buf, len, "%.1f MiB of %.1f MiB (%u%%)  ",
		    (double)done / mib, (double)total / mib, pct);
}
