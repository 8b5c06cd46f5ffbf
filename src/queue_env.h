/*
 * The .env text of a queue entry (private to the store: queue.c and
 * queue_env.c).
 */
#ifndef POSTIE_QUEUE_ENV_H
#define POSTIE_QUEUE_ENV_H

#include <stddef.h>

struct buf;
struct error;
struct queue_entry;

#define ENV_MAGIC	"postie-queue 1"
#define ENV_LINE_MAX	2048		/* one line of it */
#define ERROR_TEXT_MAX	512		/* last_error as stored */

/* Parse an .env file's text into a new entry (*out).  EX_DATAERR. */
int	queue_env_parse(const char *text, size_t len, const char *id,
	    struct queue_entry **out, struct error *);

/* The .env text of e, appended to b (line breaks never stored). */
void	queue_env_text(struct buf *, const struct queue_entry *);

#endif
