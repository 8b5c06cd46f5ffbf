/*
 * Secrets: where a password (and later an OAuth2 token) comes from.  The
 * transport asks for one just before AUTH; nothing else sees it.  Every
 * secret returned is allocated and must be freed with freezero_str().
 */
#include "autoconfig.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "error.h"
#include "secret.h"
#include "xmalloc.h"

#define PWEVAL_MAX	(64 * 1024)	/* a command's output */

int
secret_eval(const char *account, const char *key, const char *cmd,
    char **out, struct error *err)
{
	char	*buf;
	size_t	 n = 0, line;
	ssize_t	 r;
	pid_t	 pid;
	int	 fds[2], status, devnull, rc = -1, overflow = 0;

	if (pipe2(fds, O_CLOEXEC) == -1)
		return error_set_errno(err, EX_OSERR, "account '%s': cannot "
		    "run %s: pipe", account, key);
	if ((pid = fork()) == -1) {
		error_set_errno(err, EX_OSERR, "account '%s': cannot run "
		    "%s: fork", account, key);
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls until exec. */
		devnull = open("/dev/null", O_RDONLY);
		if (devnull == -1 || dup2(devnull, STDIN_FILENO) == -1 ||
		    dup2(fds[1], STDOUT_FILENO) == -1)
			_exit(127);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	buf = xmalloc(PWEVAL_MAX + 1);
	for (;;) {
		r = read(fds[0], buf + n, PWEVAL_MAX + 1 - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n > PWEVAL_MAX) {
			overflow = 1;
			kill(pid, SIGKILL);
			break;
		}
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			error_set_errno(err, EX_OSERR, "account '%s': cannot "
			    "wait for %s", account, key);
			goto done;
		}
	}
	if (overflow)
		error_set(err, EX_CONFIG, "account '%s': %s printed "
		    "more than %d bytes", account, key, PWEVAL_MAX);
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		error_set(err, EX_CONFIG, "account '%s': %s command "
		    "failed (exit %d)", account, key, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		error_set(err, EX_CONFIG, "account '%s': %s command "
		    "failed (signal %d)", account, key, WTERMSIG(status));
	else {
		line = 0;
		while (line < n && buf[line] != '\n')
			line++;
		if (line > 0 && buf[line - 1] == '\r')
			line--;
		if (line == 0)
			error_set(err, EX_CONFIG, "account '%s': %s "
			    "printed nothing", account, key);
		else {
			*out = xstrndup(buf, line);
			rc = 0;
		}
	}
done:
	explicit_bzero(buf, PWEVAL_MAX + 1);
	free(buf);
	return rc;
}

int
secret_password(const struct account *a, char **out, struct error *err)
{
	if (a->password != NULL) {
		*out = xstrdup(a->password);
		return 0;
	}
	if (a->passwordeval == NULL) {
		*out = NULL;
		return 0;
	}
	return secret_eval(a->name, "passwordeval", a->passwordeval, out,
	    err);
}
