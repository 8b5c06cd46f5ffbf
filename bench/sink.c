/*
 * bench/sink.c: the benchmark's SMTP sink.  It accepts every message on
 * 127.0.0.1, checks it in the stream (no disk): for each message it logs
 * the number of recipients, the DATA size and a hash of the body, so that
 * run.sh can prove that every message arrived intact.  STARTTLS (OpenSSL)
 * when given a certificate, so that plain and TLS runs share one server.
 *
 *   sink -p PORTFILE -l LOGFILE [-c CERT -k KEY] [-D DIR] [-t SECONDS]
 *	[-d MS]		-d: hold every reply MS milliseconds (a relay's
 *			round trip, for the parallel-flush workload)
 *	[-T FILE]	-T: append to FILE one line "%.3f\n" per accepted
 *			message, its arrival (CLOCK_REALTIME, at the final
 *			dot), written at once (the rate-limit workload)
 *   sink -H FILE	print the body hash of a message file, as the sink
 *			computes it (for the expected value)
 *
 * One thread per connection, blocking I/O: simple, and the clients under
 * test are one connection each.  The body hash is FNV-1a 64 over the body
 * (after the first empty line) with CRLF turned into LF, so that a tool
 * that gets LF on stdin and one that gets a CRLF file hash alike.
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define BUFSZ	(256 * 1024)	/* also the longest line accepted */
#define FNV_OFF	0xcbf29ce484222325ULL
#define FNV_PRM	0x100000001b3ULL

struct conn {
	int		 fd;
	SSL		*ssl;
	char		*buf;
	size_t		 off, len;
	char		 first[256];	/* the first RCPT address */
};

struct msgstate {
	int		 in_body;
	uint64_t	 hash;
	uint64_t	 size;		/* DATA bytes after unstuffing */
	uint64_t	 body;		/* body bytes after CRLF->LF */
};

static SSL_CTX		*tls_ctx;
static int		 logfd = -1;
static int		 timefd = -1;		/* -T */
static const char	*dumpdir;
static pthread_mutex_t	 loglock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long	 nmsg;
static long		 reply_delay_ms;	/* -d */

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("sink: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static ssize_t
c_read(struct conn *c, void *p, size_t n)
{
	ssize_t r;

	if (c->ssl != NULL) {
		r = SSL_read(c->ssl, p, (int)n);
		return r > 0 ? r : (SSL_get_error(c->ssl, (int)r) ==
		    SSL_ERROR_ZERO_RETURN ? 0 : -1);
	}
	do
		r = read(c->fd, p, n);
	while (r < 0 && errno == EINTR);
	return r;
}

static int
c_write(struct conn *c, const char *s)
{
	size_t n = strlen(s), done = 0;
	ssize_t r;

	if (reply_delay_ms > 0) {
		struct timespec ts = { reply_delay_ms / 1000,
		    (reply_delay_ms % 1000) * 1000000L };

		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
	}
	while (done < n) {
		if (c->ssl != NULL)
			r = SSL_write(c->ssl, s + done, (int)(n - done));
		else
			r = write(c->fd, s + done, n - done);
		if (r <= 0) {
			if (c->ssl == NULL && r < 0 && errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)r;
	}
	return 0;
}

/*
 * The next line (with its LF) in *line / *n; 0 at EOF, -1 on error or a
 * line longer than the buffer.
 */
static int
c_line(struct conn *c, char **line, size_t *n)
{
	char *nl;
	ssize_t r;

	for (;;) {
		nl = memchr(c->buf + c->off, '\n', c->len - c->off);
		if (nl != NULL) {
			*line = c->buf + c->off;
			*n = (size_t)(nl - *line) + 1;
			c->off += *n;
			return 1;
		}
		if (c->off > 0) {
			memmove(c->buf, c->buf + c->off, c->len - c->off);
			c->len -= c->off;
			c->off = 0;
		}
		if (c->len == BUFSZ)
			return -1;
		r = c_read(c, c->buf + c->len, BUFSZ - c->len);
		if (r <= 0)
			return r == 0 && c->len == 0 ? 0 : -1;
		c->len += (size_t)r;
	}
}

static uint64_t
fnv(uint64_t h, const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= u[i];
		h *= FNV_PRM;
	}
	return h;
}

/* One line of the message (unstuffed, with its line end) into the state. */
static void
msg_line(struct msgstate *m, const char *p, size_t n)
{
	size_t k = n;

	m->size += n;
	/* Canonical form: the line without CR before LF, then LF. */
	if (k > 0 && p[k - 1] == '\n')
		k--;
	if (k > 0 && p[k - 1] == '\r')
		k--;
	if (!m->in_body) {
		if (k == 0)
			m->in_body = 1;
		return;
	}
	m->hash = fnv(m->hash, p, k);
	m->hash = fnv(m->hash, "\n", 1);
	m->body += k + 1;
}

static void
log_msg(struct conn *c, int nrcpt, const struct msgstate *m)
{
	char line[512];
	int n;

	pthread_mutex_lock(&loglock);
	nmsg++;
	n = snprintf(line, sizeof(line), "%lu first=%s rcpt=%d size=%llu "
	    "body=%llu hash=%016llx tls=%d\n", nmsg, c->first, nrcpt,
	    (unsigned long long)m->size, (unsigned long long)m->body,
	    (unsigned long long)m->hash, c->ssl != NULL);
	if (write(logfd, line, (size_t)n) != n)
		die("cannot write the log");
	if (timefd >= 0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		n = snprintf(line, sizeof(line), "%.3f\n",
		    (double)ts.tv_sec + ts.tv_nsec / 1e9);
		if (write(timefd, line, (size_t)n) != n)
			die("cannot write the times");
	}
	pthread_mutex_unlock(&loglock);
}

static int
dump_open(void)
{
	static unsigned long seq;
	char path[4096];
	unsigned long n;

	pthread_mutex_lock(&loglock);
	n = ++seq;
	pthread_mutex_unlock(&loglock);
	snprintf(path, sizeof(path), "%s/%06lu.eml", dumpdir, n);
	return open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
}

static int
do_data(struct conn *c, int nrcpt)
{
	struct msgstate m = { 0, FNV_OFF, 0, 0 };
	char *line;
	size_t n;
	int r, fd = -1;

	if (c_write(c, "354 go ahead\r\n") < 0)
		return -1;
	if (dumpdir != NULL)
		fd = dump_open();
	for (;;) {
		r = c_line(c, &line, &n);
		if (r <= 0)
			return -1;
		if (line[0] == '.') {
			if ((n == 3 && line[1] == '\r') || n == 2)
				break;
			line++;		/* RFC 5321 4.5.2: unstuff */
			n--;
		}
		msg_line(&m, line, n);
		if (fd >= 0 && write(fd, line, n) != (ssize_t)n)
			die("cannot write a dump file");
	}
	if (fd >= 0)
		close(fd);
	log_msg(c, nrcpt, &m);
	return c_write(c, "250 2.0.0 OK queued\r\n");
}

/* Keep the address of "RCPT TO:<addr> ..." for the log (the tag). */
static void
first_rcpt(struct conn *c, const char *line, size_t n)
{
	const char *lt = memchr(line, '<', n), *gt;
	size_t len;

	c->first[0] = '\0';
	if (lt == NULL || (gt = memchr(lt, '>', n - (size_t)(lt - line))) ==
	    NULL)
		return;
	len = (size_t)(gt - lt - 1);
	if (len >= sizeof(c->first))
		len = sizeof(c->first) - 1;
	memcpy(c->first, lt + 1, len);
	c->first[len] = '\0';
}

static int
cmd_is(const char *line, const char *cmd)
{
	return strncasecmp(line, cmd, strlen(cmd)) == 0;
}

static void *
session(void *arg)
{
	struct conn *c = arg;
	char *line, ehlo[512];
	size_t n;
	int nrcpt = 0, one = 1;

	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (c_write(c, "220 127.0.0.1 ESMTP bench sink\r\n") < 0)
		goto out;
	while (c_line(c, &line, &n) > 0) {
		if (cmd_is(line, "EHLO")) {
			snprintf(ehlo, sizeof(ehlo), "250-127.0.0.1\r\n"
			    "250-PIPELINING\r\n250-8BITMIME\r\n"
			    "250-SIZE 0\r\n%s250 ENHANCEDSTATUSCODES\r\n",
			    tls_ctx != NULL && c->ssl == NULL ?
			    "250-STARTTLS\r\n" : "");
			nrcpt = 0;
			if (c_write(c, ehlo) < 0)
				break;
		} else if (cmd_is(line, "HELO")) {
			if (c_write(c, "250 127.0.0.1\r\n") < 0)
				break;
		} else if (cmd_is(line, "STARTTLS") && tls_ctx != NULL &&
		    c->ssl == NULL) {
			if (c_write(c, "220 2.0.0 ready\r\n") < 0)
				break;
			c->off = c->len = 0;	/* RFC 3207 4.2: discard */
			c->ssl = SSL_new(tls_ctx);
			SSL_set_fd(c->ssl, c->fd);
			if (SSL_accept(c->ssl) != 1)
				break;
		} else if (cmd_is(line, "MAIL")) {
			nrcpt = 0;
			if (c_write(c, "250 2.1.0 OK\r\n") < 0)
				break;
		} else if (cmd_is(line, "RCPT")) {
			if (nrcpt++ == 0)
				first_rcpt(c, line, n);
			if (c_write(c, "250 2.1.5 OK\r\n") < 0)
				break;
		} else if (cmd_is(line, "DATA")) {
			if (do_data(c, nrcpt) < 0)
				break;
			nrcpt = 0;
		} else if (cmd_is(line, "RSET")) {
			nrcpt = 0;
			if (c_write(c, "250 2.0.0 OK\r\n") < 0)
				break;
		} else if (cmd_is(line, "NOOP")) {
			if (c_write(c, "250 2.0.0 OK\r\n") < 0)
				break;
		} else if (cmd_is(line, "QUIT")) {
			c_write(c, "221 2.0.0 bye\r\n");
			break;
		} else if (c_write(c, "502 5.5.2 not implemented\r\n") < 0)
			break;
	}
out:
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	close(c->fd);
	free(c->buf);
	free(c);
	return NULL;
}

static int
hash_file(const char *path)
{
	struct msgstate m = { 0, FNV_OFF, 0, 0 };
	struct conn c;
	char *line;
	size_t n;
	int r;

	memset(&c, 0, sizeof(c));
	if ((c.fd = open(path, O_RDONLY)) < 0)
		die("cannot open %s", path);
	c.buf = malloc(BUFSZ);
	while ((r = c_line(&c, &line, &n)) > 0)
		msg_line(&m, line, n);
	if (r < 0)
		die("cannot read %s (or a line is too long)", path);
	printf("body=%llu hash=%016llx\n", (unsigned long long)m.body,
	    (unsigned long long)m.hash);
	free(c.buf);
	close(c.fd);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *portfile = NULL, *logfile = NULL, *cert = NULL,
	    *key = NULL, *timefile = NULL;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	pthread_attr_t attr;
	pthread_t t;
	struct conn *c;
	FILE *f;
	int ch, s, fd, one = 1, lifetime = 600;

	while ((ch = getopt(argc, argv, "p:l:c:k:D:t:d:T:H:")) != -1) {
		switch (ch) {
		case 'p': portfile = optarg; break;
		case 'l': logfile = optarg; break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'D': dumpdir = optarg; break;
		case 't': lifetime = atoi(optarg); break;
		case 'd': reply_delay_ms = atol(optarg); break;
		case 'T': timefile = optarg; break;
		case 'H': return hash_file(optarg);
		default: die("usage: sink -p PORTFILE -l LOG [-c CERT -k KEY] "
		    "[-D DIR] [-t SECONDS] [-d MS] [-T FILE] | "
		    "sink -H FILE");
		}
	}
	if (portfile == NULL || logfile == NULL)
		die("-p and -l are required");
	signal(SIGPIPE, SIG_IGN);
	alarm((unsigned)lifetime);	/* never outlive a broken run */
	if (cert != NULL) {
		tls_ctx = SSL_CTX_new(TLS_server_method());
		if (tls_ctx == NULL ||
		    SSL_CTX_use_certificate_chain_file(tls_ctx, cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(tls_ctx, key, SSL_FILETYPE_PEM)
		    != 1)
			die("cannot load %s / %s", cert, key ? key : "(none)");
	}
	if ((logfd = open(logfile, O_WRONLY | O_CREAT | O_APPEND, 0644)) < 0)
		die("cannot open %s", logfile);
	if (timefile != NULL && (timefd = open(timefile,
	    O_WRONLY | O_CREAT | O_APPEND, 0644)) < 0)
		die("cannot open %s", timefile);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		die("socket: %s", strerror(errno));
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(s, 256) < 0 ||
	    getsockname(s, (struct sockaddr *)&sa, &sl) < 0)
		die("bind/listen: %s", strerror(errno));
	if ((f = fopen(portfile, "w")) == NULL)
		die("cannot write %s", portfile);
	fprintf(f, "%d\n", ntohs(sa.sin_port));
	fclose(f);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		fd = accept(s, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die("accept: %s", strerror(errno));
		}
		c = calloc(1, sizeof(*c));
		c->buf = malloc(BUFSZ);
		c->fd = fd;
		if (c->buf == NULL ||
		    pthread_create(&t, &attr, session, c) != 0)
			die("cannot start a session thread");
	}
}
