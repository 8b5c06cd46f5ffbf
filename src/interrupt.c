/* Noting termination signals; see interrupt.h. */
#include "autoconfig.h"

#include <signal.h>
#include <string.h>

#include "interrupt.h"

static volatile sig_atomic_t	got;

static void
on_signal(int sig)
{
	got = sig;
}

void
interrupt_install(void)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct sigaction	 sa, old;
	size_t			 i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		/*
		 * A signal the caller set to be ignored stays ignored: bsd-mailx
		 * and s-nail ignore SIGHUP and SIGINT for their sendmail so that
		 * closing the terminal does not stop a send (s-nail does not
		 * even wait for it), as nohup does for SIGHUP.
		 */
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[i], &sa, NULL);
	}
}

int
interrupt_pending(void)
{
	return (int)got;
}
