/*
 * Fuzz target for the -bs protocol engine (smtpd.c): the input is what a
 * client sends.  Checks on every input: no crash or leak, every
 * transaction within the limits (at most 1000 recipients, no CR, LF or
 * NUL in the envelope, a recipient never starting with '-'), the data
 * file holding exactly txn.size octets, every
 * reply line a 3-digit code ending in CRLF, no descriptor leaked.
 */
#include "autoconfig.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "smtpd.h"
#include "util.h"
#include "fuzz.h"

static int	lowest_fd(void);
static void	check_txn(const struct smtpd_txn *);
static void	check_replies(int);

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
check_txn(const struct smtpd_txn *t)
{
	char	 buf[8192];
	size_t	 i, total = 0;
	ssize_t	 n;

	FUZZ_ASSERT(t->sender != NULL && strpbrk(t->sender, "\r\n") == NULL);
	FUZZ_ASSERT(t->rcpts.n >= 1 && t->rcpts.n <= 1000);
	for (i = 0; i < t->rcpts.n; i++) {
		FUZZ_ASSERT(t->rcpts.v[i][0] != '-');
		FUZZ_ASSERT(strpbrk(t->rcpts.v[i], "\r\n") == NULL);
	}
	FUZZ_ASSERT(t->fd != -1);
	while ((n = read(t->fd, buf, sizeof(buf))) > 0)
		total += (size_t)n;
	FUZZ_ASSERT(n == 0 && total == t->size);
}

static void
check_replies(int fd)
{
	char	buf[65536], *p, *end, *eol;
	ssize_t	n;

	n = pread(fd, buf, sizeof(buf), 0);
	FUZZ_ASSERT(n >= 0);
	for (p = buf, end = buf + n; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			break;	/* a reply cut by the buffer */
		FUZZ_ASSERT(eol - p >= 5 && eol[-1] == '\r');
		FUZZ_ASSERT(p[0] >= '2' && p[0] <= '5' && p[1] >= '0' &&
		    p[1] <= '9' && p[2] >= '0' && p[2] <= '9');
		FUZZ_ASSERT(p[3] == ' ' || p[3] == '-');
		FUZZ_ASSERT(memchr(p, '\r', (size_t)(eol - p) - 1) == NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct smtpd_opts o = { "fuzz.example", 4096, 0, 0, 1 };
	struct error	 err = ERROR_INIT;
	struct smtpd	*s;
	struct smtpd_txn txn;
	int		 in, out, fd0, r;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	fd0 = lowest_fd();
	in = util_tmpfile(&err);
	out = util_tmpfile(&err);
	FUZZ_ASSERT(in != -1 && out != -1);
	FUZZ_ASSERT(util_write_all(in, data, size) == 0);
	FUZZ_ASSERT(lseek(in, 0, SEEK_SET) == 0);
	s = smtpd_new(in, out, &o);
	while ((r = smtpd_next(s, &txn, &err)) > 0) {
		if (r == SMTPD_RCPT) {
			/* every other recipient refused, by its length */
			FUZZ_ASSERT(smtpd_rcpt(s) != NULL);
			if (strlen(smtpd_rcpt(s)) % 2 == 0)
				FUZZ_ASSERT(smtpd_rcpt_verdict(s, 550, "5.1.1",
				    "no", &err) == 0);
			continue;
		}
		check_txn(&txn);
		FUZZ_ASSERT(smtpd_reply(s, 250, "2.0.0", "Ok", &err) == 0);
		smtpd_txn_release(&txn);
	}
	FUZZ_ASSERT(r == 0);	/* a file never times out nor fails */
	FUZZ_ASSERT(txn.fd == -1 && txn.sender == NULL);
	smtpd_free(s);
	check_replies(out);
	close(in);
	close(out);
	FUZZ_ASSERT(lowest_fd() == fd0);
	return 0;
}
