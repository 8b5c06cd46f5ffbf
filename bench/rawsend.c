/*
 * bench/rawsend.c: the ceiling of workload 4.  The least an SMTP client can
 * do: one connection, EHLO, MAIL, RCPT, DATA, then sendfile() of a file that
 * is already in wire form (CRLF, dot-stuffed; gen -f wire), ".", QUIT.  No
 * parsing, no copying through user space: what the sink can take.
 *
 *   rawsend PORT FILE [RCPT]
 */
#define _GNU_SOURCE
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int s;

static void
die(const char *what)
{
	fprintf(stderr, "rawsend: %s\n", what);
	exit(1);
}

/* Read one reply (all its lines) and check its first digit. */
static void
reply(char want)
{
	static char buf[4096];
	static size_t len;
	char *nl;
	ssize_t r;

	for (;;) {
		while ((nl = memchr(buf, '\n', len)) != NULL) {
			size_t n = (size_t)(nl - buf) + 1;
			int last = n >= 4 && buf[3] != '-';
			char first = buf[0];

			memmove(buf, buf + n, len - n);
			len -= n;
			if (last) {
				if (first != want)
					die("unexpected reply");
				return;
			}
		}
		if (len == sizeof(buf))
			die("reply too long");
		r = read(s, buf + len, sizeof(buf) - len);
		if (r <= 0)
			die("connection closed");
		len += (size_t)r;
	}
}

static void
say(const char *line, char want)
{
	if (write(s, line, strlen(line)) != (ssize_t)strlen(line))
		die("write");
	reply(want);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	struct stat st;
	char rcpt[512];
	off_t off = 0;
	ssize_t r;
	int fd, one = 1;

	if (argc != 3 && argc != 4)
		die("usage: rawsend PORT FILE [RCPT]");
	if ((fd = open(argv[2], O_RDONLY)) < 0 || fstat(fd, &st) < 0)
		die("cannot open the file");
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("cannot connect");
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	reply('2');
	say("EHLO rawsend\r\n", '2');
	say("MAIL FROM:<bench@example.org>\r\n", '2');
	snprintf(rcpt, sizeof(rcpt), "RCPT TO:<%s>\r\n",
	    argc == 4 ? argv[3] : "rcpt@example.com");
	say(rcpt, '2');
	say("DATA\r\n", '3');
	while (off < st.st_size) {
		r = sendfile(s, fd, &off, (size_t)(st.st_size - off));
		if (r <= 0)
			die("sendfile");
	}
	say(".\r\n", '2');
	say("QUIT\r\n", '2');
	close(s);
	return 0;
}
