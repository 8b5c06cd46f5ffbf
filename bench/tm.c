/*
 * bench/tm.c: run a command N times (P at a time) and measure it: wall
 * time from fork to the last wait (CLOCK_MONOTONIC, ns) and the peak RSS
 * of the largest child (wait4's ru_maxrss, the number GNU time's %M
 * prints).  Finer than /usr/bin/time (10 ms) and without a shell between.
 *
 *   tm [-n N] [-P P] [-i STDIN] [-e STDERR] [-t SECONDS] -- CMD ARGS...
 *
 * Prints "wall_ns=W maxrss_kb=K fails=F" (F: children that did not exit 0).
 */
#define _GNU_SOURCE
#include <sys/resource.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *in = "/dev/null", *errf = "/dev/null";
static pid_t kids[64];

/* -t: a run that takes too long is killed, and counts as failed. */
static void
on_alarm(int sig)
{
	size_t i;

	(void)sig;
	for (i = 0; i < sizeof(kids) / sizeof(kids[0]); i++)
		if (kids[i] > 0)
			kill(kids[i], SIGKILL);
}

static pid_t
start(char **argv)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0) {
		perror("tm: fork");
		exit(2);
	}
	if (pid > 0)
		return pid;
	if ((fd = open(in, O_RDONLY)) < 0 || dup2(fd, 0) < 0)
		_exit(126);
	if ((fd = open("/dev/null", O_WRONLY)) < 0 || dup2(fd, 1) < 0)
		_exit(126);
	if ((fd = open(errf, O_WRONLY | O_CREAT | O_APPEND, 0644)) < 0 ||
	    dup2(fd, 2) < 0)
		_exit(126);
	execvp(argv[0], argv);
	fprintf(stderr, "tm: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int
main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	long n = 1, par = 1, started = 0, running = 0, fails = 0, maxrss = 0;
	int ch, status, timeout = 0;
	pid_t pid;
	size_t i;

	while ((ch = getopt(argc, argv, "+n:P:i:e:t:")) != -1) {
		switch (ch) {
		case 'n': n = atol(optarg); break;
		case 'P': par = atol(optarg); break;
		case 'i': in = optarg; break;
		case 'e': errf = optarg; break;
		case 't': timeout = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: tm [-n N] [-P P] [-i IN] "
			    "[-e ERR] -- CMD ARGS...\n");
			return 2;
		}
	}
	if (optind >= argc || par < 1 || par > 64)
		return 2;
	signal(SIGALRM, on_alarm);
	alarm((unsigned)timeout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (started < n || running > 0) {
		while (started < n && running < par) {
			pid = start(argv + optind);
			for (i = 0; kids[i] > 0; i++)
				;
			kids[i] = pid;
			started++;
			running++;
		}
		while ((pid = wait4(-1, &status, 0, &ru)) < 0 && errno == EINTR)
			;
		if (pid < 0) {
			perror("tm: wait4");
			return 2;
		}
		for (i = 0; i < sizeof(kids) / sizeof(kids[0]); i++)
			if (kids[i] == pid)
				kids[i] = 0;
		running--;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fails++;
		if (ru.ru_maxrss > maxrss)
			maxrss = ru.ru_maxrss;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("wall_ns=%lld maxrss_kb=%ld fails=%ld\n",
	    (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL +
	    (t1.tv_nsec - t0.tv_nsec), maxrss, fails);
	return 0;
}
