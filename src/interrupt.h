/*
 * SIGTERM, SIGINT and SIGHUP do not kill postie in the middle of a
 * delivery: they are noted, and the delivery stops where that loses
 * nothing: a send not yet past the end of the data is cut off (the
 * message is then queued, or stays queued), a send past it waits for the
 * relay's reply, and a flush stops before its next entry.
 */
#ifndef POSTIE_INTERRUPT_H
#define POSTIE_INTERRUPT_H

/* Catch the three signals from now on (no SA_RESTART needed: the
 * handler only records the number), except those the caller left
 * ignored (SIG_IGN inherited through exec: nohup, mailx, s-nail). */
void	interrupt_install(void);
/* The signal received, or 0. */
int	interrupt_pending(void);

#endif
