/*
 * Fuzz target for the queue-entry reader (queue_entry_parse, the .env
 * file) and the mailq listing made from it.  queue.h treats every file
 * read back as untrusted: an entry that parses must hold an envelope that
 * could go to the SMTP server as is (each address a valid RFC 5321
 * mailbox, never an option, no line break), and the listing, plain or
 * JSON, must not let its text break out of its line or its string.
 */
#include "autoconfig.h"

#include <string.h>

#include "addr.h"
#include "error.h"
#include "queue.h"
#include "util.h"
#include "fuzz.h"

#define ID	"20240101T000000.fuzz"

static void	check_addr(const char *, int);
static void	check_json(const char *);
static void	check_text(const char *);

static void
check_addr(const char *s, int null_ok)
{
	struct error	err = ERROR_INIT;

	FUZZ_ASSERT(s != NULL);
	if (null_ok && *s == '\0')
		return;
	FUZZ_ASSERT(s[0] != '-');
	if (addr_check_mailbox(s, 0, &err) == -1) {
		fprintf(stderr, "queued address '%s': %s\n", s, err.msg);
		FUZZ_ASSERT(!"a queued address is a valid mailbox");
	}
}

/* Strings hold no raw control character; escapes are JSON's. */
static void
check_json(const char *s)
{
	int	in = 0, depth = 0, k;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (!in) {
			if (c == '"')
				in = 1;
			else if (c == '[' || c == '{')
				depth++;
			else if (c == ']' || c == '}')
				FUZZ_ASSERT(--depth >= 0);
			continue;
		}
		FUZZ_ASSERT(c >= 0x20);
		if (c == '"')
			in = 0;
		else if (c == '\\') {
			s++;
			FUZZ_ASSERT(strchr("\"\\/bfnrtu", *s) != NULL &&
			    *s != '\0');
			if (*s == 'u')
				for (k = 1; k <= 4; k++)
					FUZZ_ASSERT(strchr("0123456789abcdef"
					    "ABCDEF", s[k]) != NULL &&
					    s[k] != '\0');
		}
	}
	FUZZ_ASSERT(!in && depth == 0);
}

/* One entry: one line, then the count line; no other control bytes but
 * a TAB, which the listing keeps as stderr does (buf_add_escaped()). */
static void
check_text(const char *s)
{
	size_t	nl = 0;

	for (; *s != '\0'; s++) {
		if (*s == '\n')
			nl++;
		else
			FUZZ_ASSERT(((unsigned char)*s >= 0x20 || *s == '\t') &&
			    (unsigned char)*s != 0x7f);
	}
	FUZZ_ASSERT(nl <= 2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct queue_entry	*e = NULL;
	struct error		 err = ERROR_INIT;
	struct buf		 b = BUF_INIT;
	size_t			 i;

	if (size > 256 * 1024)
		return 0;
	if (queue_entry_parse((const char *)data, size, ID, &e, &err) == -1) {
		FUZZ_ASSERT(err.code == EX_DATAERR && err.msg != NULL);
		FUZZ_ASSERT(e == NULL);
		error_release(&err);
		return 0;
	}
	FUZZ_ASSERT(e != NULL && e->id != NULL && strcmp(e->id, ID) == 0);
	FUZZ_ASSERT(e->rcpts.n > 0 && e->state != NULL);
	FUZZ_ASSERT(e->size >= 0 && e->attempts >= 0);
	check_addr(e->sender, 1);
	for (i = 0; i < e->rcpts.n; i++)
		check_addr(e->rcpts.v[i], 0);
	FUZZ_ASSERT(e->account == NULL || strpbrk(e->account, "\r\n") == NULL);
	FUZZ_ASSERT(e->last_error == NULL ||
	    strpbrk(e->last_error, "\r\n") == NULL);
	(void)queue_entry_pending(e);

	queue_format(&b, &e, 1, e->created + 90000, 0);
	check_text(buf_str(&b));
	buf_reset(&b);
	queue_format(&b, &e, 1, e->created, 1);
	check_json(buf_str(&b));
	buf_release(&b);
	queue_entry_free(e);
	return 0;
}
