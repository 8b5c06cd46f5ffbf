/*
 * Fuzz target for the formatter (message.c): the input is a message as it
 * arrives on sendmail's stdin.  It is read twice, through a pipe (the body
 * kept in memory or spooled) with recipients on the command line, and
 * through a memory file (the seekable path) with -t and -i, then
 * finalized, and the wire form is checked: only CRLF line endings, no
 * line over 998 octets (RFC 5322 2.1.1), exactly message_size() octets,
 * the same bytes on every read, no Bcc, a qualified envelope.
 */
#include "autoconfig.h"

#include <sys/mman.h>

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"
#include "error.h"
#include "message.h"
#include "rfc5322.h"
#include "util.h"
#include "fuzz.h"

#define SMTP_LINE	998
#define DOMAIN		"example.org"
#define PIPE_SIZE	(1024 * 1024)

static void	check_wire(const struct message *);
static void	read_all(const struct message *, size_t, struct buf *);
static void	run(const uint8_t *, size_t, int);

static int	lowest_fd(void);

/* The lowest free descriptor: the same after each input, or one leaked. */
static int
lowest_fd(void)
{
	int	fd;

	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	FUZZ_ASSERT(fd != -1);
	close(fd);
	return fd;
}

static void
read_all(const struct message *msg, size_t step, struct buf *out)
{
	struct message_reader	*r;
	struct error		 err = ERROR_INIT;
	char			 tmp[8192];
	ssize_t			 n;

	r = message_reader_new(msg);
	FUZZ_ASSERT(r != NULL);
	while ((n = message_reader_read(r, tmp, step, &err)) > 0) {
		FUZZ_ASSERT((size_t)n <= step);
		buf_add(out, tmp, (size_t)n);
	}
	FUZZ_ASSERT(n == 0);
	/* A rewound reader yields the same bytes again. */
	message_reader_rewind(r);
	n = message_reader_read(r, tmp, sizeof(tmp), &err);
	FUZZ_ASSERT(n >= 0 && (size_t)n <= out->len);
	FUZZ_ASSERT(n == 0 || memcmp(tmp, out->data, (size_t)n) == 0);
	message_reader_free(r);
}

static void
check_wire(const struct message *msg)
{
	const struct envelope	*env = message_envelope(msg);
	struct buf		 a = BUF_INIT, b = BUF_INIT, w = BUF_INIT;
	struct error		 err = ERROR_INIT;
	const char		*p, *end, *line;
	size_t			 i;
	int			 fd, inhead = 1;
	ssize_t			 n;
	char			 tmp[8192];

	/* The envelope: qualified, never an option. */
	FUZZ_ASSERT(env->sender != NULL && env->rcpts.n > 0);
	for (i = 0; i < env->rcpts.n; i++) {
		FUZZ_ASSERT(env->rcpts.v[i][0] != '-');
		FUZZ_ASSERT(addr_has_domain(env->rcpts.v[i]));
		FUZZ_ASSERT(addr_check_mailbox(env->rcpts.v[i], 0, &err) == 0);
	}
	FUZZ_ASSERT(message_header(msg, "Bcc") == NULL);

	read_all(msg, sizeof(tmp), &a);
	read_all(msg, 7, &b);
	FUZZ_ASSERT(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	FUZZ_ASSERT((off_t)a.len == message_size(msg));
	FUZZ_ASSERT(a.len >= 2 && a.data[a.len - 2] == '\r' &&
	    a.data[a.len - 1] == '\n');

	end = a.data + a.len;
	for (p = line = a.data; p < end; p++) {
		if (*p == '\r') {
			FUZZ_ASSERT(p + 1 < end && p[1] == '\n');
			if ((size_t)(p - line) > SMTP_LINE) {
				fprintf(stderr, "line of %zu octets at %zu\n",
				    (size_t)(p - line),
				    (size_t)(line - a.data));
				FUZZ_ASSERT(!"no line over 998 octets");
			}
			if (inhead) {
				if (p == line)
					inhead = 0;	/* the empty line */
				else if (*line != ' ' && *line != '\t') {
					const char *c = memchr(line, ':',
					    (size_t)(p - line));

					FUZZ_ASSERT(c != NULL);
					FUZZ_ASSERT(rfc5322_valid_name(line,
					    (size_t)(c - line)));
				}
			}
			line = p + 2;
			p++;
			continue;
		}
		FUZZ_ASSERT(*p != '\n');	/* a bare LF */
		if (inhead)
			FUZZ_ASSERT(*p != '\0');
	}
	FUZZ_ASSERT(!inhead);	/* the header block always ends */

	/* message_write() gives the same bytes. */
	fd = memfd_create("fuzz_message_write", MFD_CLOEXEC);
	FUZZ_ASSERT(fd != -1);
	FUZZ_ASSERT(message_write(msg, fd, &err) == 0);
	FUZZ_ASSERT(lseek(fd, 0, SEEK_SET) == 0);
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		buf_add(&w, tmp, (size_t)n);
	close(fd);
	FUZZ_ASSERT(w.len == a.len && memcmp(w.data, a.data, a.len) == 0);

	buf_release(&a);
	buf_release(&b);
	buf_release(&w);
}

static void
run(const uint8_t *data, size_t size, int seekable)
{
	struct strlist		 rcpts = STRLIST_INIT;
	struct message_opts	 o;
	struct message		*msg;
	struct error		 err = ERROR_INIT;
	int			 fd, pfd[2];

	memset(&o, 0, sizeof(o));
	o.qualify_domain = DOMAIN;
	o.msgid_domain = DOMAIN;
	o.set_from_header = TRI_AUTO;
	o.set_date_header = TRI_AUTO;
	o.set_msgid_header = TRI_AUTO;
	o.remove_bcc_headers = 1;
	o.rcpts = &rcpts;
	o.sender = "fuzz@" DOMAIN;
	if (seekable) {
		o.extract_rcpts = 1;
		o.ignore_dots = 1;
		o.fullname = "Fuzz \"Tester\" \xc3\xa9";
	} else
		strlist_add(&rcpts, "root, rcpt@" DOMAIN);

	fd = -1;
	if (!seekable && pipe2(pfd, O_CLOEXEC) == 0) {
		if (size <= 65536 ||
		    fcntl(pfd[1], F_SETPIPE_SZ, PIPE_SIZE) >= (int)size) {
			FUZZ_ASSERT(util_write_all(pfd[1], data, size) == 0);
			fd = pfd[0];
		} else
			close(pfd[0]);
		close(pfd[1]);
	}
	if (fd == -1) {
		fd = memfd_create("fuzz_message", MFD_CLOEXEC);
		FUZZ_ASSERT(fd != -1);
		FUZZ_ASSERT(util_write_all(fd, data, size) == 0);
		FUZZ_ASSERT(lseek(fd, 0, SEEK_SET) == 0);
	}

	if ((msg = message_read(fd, &o, &err)) == NULL) {
		FUZZ_ASSERT(err.code == EX_DATAERR || err.code == EX_IOERR ||
		    err.code == EX_CANTCREAT);
		FUZZ_ASSERT(err.msg != NULL);
		error_release(&err);
	} else if (message_finalize(msg, &o, &err) == -1) {
		FUZZ_ASSERT(err.code == EX_DATAERR || err.code == EX_NOINPUT ||
		    err.code == EX_USAGE);
		FUZZ_ASSERT(err.msg != NULL);
		error_release(&err);
	} else {
		FUZZ_ASSERT(err.code == EX_OK);
		check_wire(msg);
	}
	message_free(msg);
	close(fd);
	strlist_release(&rcpts);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int	fd;

	if (size > PIPE_SIZE)
		return 0;
	fd = lowest_fd();
	run(data, size, 0);
	run(data, size, 1);
	FUZZ_ASSERT(lowest_fd() == fd);	/* no descriptor leaked */
	return 0;
}
