/*
 * Unit tests of the direct-send policy, deliver_message(): what becomes
 * of a message for each outcome of the attempt (sent, queued, held with
 * the specific exit code, refused, queue off, dead.letter when the queue
 * cannot be written, -odq, -oem).  The attempt (send_attempt) and the
 * bounce delivery (bounce_send) are linked wrapped (-Wl,--wrap): each
 * test says what the relay did; the queue and dead.letter are real, in a
 * private directory.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <sys/types.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "deliver.h"
#include "error.h"
#include "message.h"
#include "outcome.h"
#include "queue.h"
#include "util.h"
#include "xmalloc.h"

struct fixture {
	char		 dir[64];
	char		*qdir;
	struct config	 cfg;
	struct account	*acct;
};

/* What the fake relay does with the next attempt. */
enum fake_kind {
	FAKE_ACCEPT,		/* 250 for everyone */
	FAKE_DOWN,		/* connection refused: OUTCOME_RETRY */
	FAKE_AUTH,		/* 535: OUTCOME_SETUP, EX_NOPERM */
	FAKE_REFUSE,		/* 550 at MAIL: OUTCOME_PERMANENT */
	FAKE_HALF		/* first recipient 250, the others 450 */
};
static enum fake_kind	fake;
static int		attempts, bounces;

int	__wrap_send_attempt(const struct account *, const char *,
	    struct transport **, const struct message *, struct outcome *,
	    struct error *);
int	__wrap_bounce_send(const struct account *, const char *,
	    const struct message *, const struct strlist *,
	    const struct strlist *, const char *, struct error *);

int
__wrap_send_attempt(const struct account *a, const char *qd,
    struct transport **tp, const struct message *msg, struct outcome *res,
    struct error *err)
{
	size_t	i;

	(void)a;
	(void)qd;
	(void)tp;
	attempts++;
	assert_int_equal(res->n, message_envelope(msg)->rcpts.n);
	switch (fake) {
	case FAKE_ACCEPT:
		for (i = 0; i < res->n; i++)
			outcome_set_rcpt(res, i, RCPT_ACCEPTED, 250, "2.0.0",
			    "ok");
		return 0;
	case FAKE_HALF:
		outcome_set_rcpt(res, 0, RCPT_ACCEPTED, 250, "2.0.0", "ok");
		for (i = 1; i < res->n; i++)
			outcome_set_rcpt(res, i, RCPT_TEMPFAIL, 450, "4.2.1",
			    "mailbox busy");
		return 0;
	case FAKE_DOWN:
		error_set(err, EX_TEMPFAIL, "cannot connect: refused");
		outcome_fail(res, OUTCOME_RETRY, STEP_CONNECT, EX_TEMPFAIL, 0,
		    err->msg, NULL);
		return -1;
	case FAKE_AUTH:
		error_set(err, EX_NOPERM, "AUTH refused: 535 bad password");
		outcome_fail(res, OUTCOME_SETUP, STEP_AUTH, EX_NOPERM, 535,
		    "bad password", "check 'user' and 'password'");
		return -1;
	case FAKE_REFUSE:
		error_set(err, EX_UNAVAILABLE, "MAIL FROM refused: 550 no");
		outcome_fail(res, OUTCOME_PERMANENT, STEP_MAIL, EX_UNAVAILABLE,
		    550, "no", NULL);
		return -1;
	}
	return -1;
}

int
__wrap_bounce_send(const struct account *a, const char *to,
    const struct message *orig, const struct strlist *failed,
    const struct strlist *why, const char *reason, struct error *err)
{
	(void)a;
	(void)orig;
	(void)why;
	(void)reason;
	(void)err;
	assert_string_equal(to, "s@example.org");
	assert_true(failed->n > 0);
	bounces++;
	return 0;
}

static int
setup(void **state)
{
	struct fixture	*f = xcalloc(1, sizeof(*f));
	struct error	 err = ERROR_INIT;
	char		*text;

	strcpy(f->dir, "/tmp/test_deliver.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->qdir = xasprintf("%s/queue", f->dir);
	text = xasprintf("account t\nhost 127.0.0.1\nqueue_dir %s\n"
	    "queue_flush_on_send off\n", f->qdir);
	f->cfg = (struct config)CONFIG_INIT;
	assert_int_equal(config_parse(&f->cfg, text, strlen(text), "t.conf",
	    &err), 0);
	free(text);
	f->acct = (struct account *)(uintptr_t)config_select(&f->cfg, "t",
	    NULL, &err);
	assert_non_null(f->acct);
	setenv("HOME", f->dir, 1);
	attempts = bounces = 0;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		*cmd;

	config_release(&f->cfg);
	cmd = xasprintf("rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f->qdir);
	free(f);
	return 0;
}

static struct message *
make_msg(const struct fixture *f, int nrcpt)
{
	static const char *const all[] = { "a@example.com", "b@example.com" };
	struct message_opts	 mo;
	struct strlist		 rcpts = STRLIST_INIT;
	struct message		*msg;
	struct error		 err = ERROR_INIT;
	static const char	 text[] = "Subject: t\nMessage-ID: <m@test>\n\n"
	    "body\n";
	char			*path;
	int			 fd, i;

	for (i = 0; i < nrcpt; i++)
		strlist_add(&rcpts, all[i]);
	path = xasprintf("%s/input", f->dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(util_write_all(fd, text, sizeof(text) - 1), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	memset(&mo, 0, sizeof(mo));
	mo.qualify_domain = "example.org";
	mo.set_from_header = TRI_AUTO;
	mo.set_date_header = TRI_AUTO;
	mo.set_msgid_header = TRI_AUTO;
	mo.remove_bcc_headers = 1;
	mo.sender = "s@example.org";
	mo.rcpts = &rcpts;
	msg = message_read(fd, &mo, &err);
	assert_non_null(msg);
	assert_int_equal(message_finalize(msg, &mo, &err), 0);
	close(fd);
	unlink(path);
	free(path);
	strlist_release(&rcpts);
	return msg;
}

/* The queue's entries (0 when there is no queue yet). */
static size_t
queued(const struct fixture *f, int *held)
{
	struct queue_entry	**v;
	struct queue		 *q;
	struct error		  err = ERROR_INIT;
	size_t			  n;

	if ((q = queue_open(f->qdir, 0, &err)) == NULL) {
		error_release(&err);
		return 0;
	}
	assert_int_equal(queue_list(q, &v, &n, &err), 0);
	if (held != NULL)
		*held = n > 0 ? v[0]->held : -1;
	queue_entries_free(v, n);
	queue_close(q);
	return n;
}

/* Deliver one message with opts: the return value, err and rep. */
static int
send_one(struct fixture *f, const struct deliver_opts *o, int nrcpt,
    struct deliver_report *rep, struct error *err)
{
	struct message	*msg = make_msg(f, nrcpt);
	int		 rv;

	deliver_report_init(rep);
	rv = deliver_message(o, f->acct, "example.org", msg, rep, err);
	message_free(msg);
	return rv;
}

static void
deliver_message__all_accepted__sent_exit_0(void **state)
{
	struct fixture		*f = *state;
	struct deliver_opts	 o;
	struct deliver_report	 rep;
	struct error		 err = ERROR_INIT;

	memset(&o, 0, sizeof(o));
	fake = FAKE_ACCEPT;
	assert_int_equal(send_one(f, &o, 2, &rep, &err), 0);
	assert_int_equal(rep.status, DLV_SENT);
	assert_null(rep.queue_id);
	assert_int_equal(rep.out.rcpt[1].state, RCPT_ACCEPTED);
	assert_int_equal(attempts, 1);
	assert_int_equal(queued(f, NULL), 0);
	deliver_report_release(&rep);
}

static void
deliver_message__relay_down__queued_exit_0(void **state)
{
	struct fixture		*f = *state;
	struct deliver_opts	 o;
	struct deliver_report	 rep;
	struct error		 err = ERROR_INIT;
	int			 held;

	memset(&o, 0, sizeof(o));
	fake = FAKE_DOWN;
	assert_int_equal(send_one(f, &o, 2, &rep, &err), 0);
	assert_int_equal(rep.status, DLV_QUEUED);
	assert_non_null(rep.queue_id);
	assert_int_equal(rep.out.class, OUTCOME_RETRY);
	assert_int_equal(queued(f, &held), 1);
	assert_int_equal(held, HOLD_NONE);
	deliver_report_release(&rep);
}

static void
deliver_message__auth_refused__held_with_specific_code(void **state)
{
	struct fixture		*f = *state;
	struct deliver_opts	 o;
	struct deliver_report	 rep;
	struct error		 err = ERROR_INIT;
	int			 held;

	memset(&o, 0, sizeof(o));
	fake = FAKE_AUTH;
	assert_int_equal(send_one(f, &o, 1, &rep, &err), -1);
	assert_int_equal(err.code, EX_NOPERM);
	assert_non_null(strstr(err.msg, "NOT SENT"));
	assert_non_null(strstr(err.msg, "check 'user' and 'password'"));
	assert_int_equal(rep.status, DLV_HELD);
	assert_non_null(rep.queue_id);
	assert_non_null(strstr(err.msg, rep.queue_id));
	assert_int_equal(queued(f, &held), 1);
	assert_int_equal(held, HOLD_SETUP);
	error_release(&err);
	deliver_report_release(&rep);
}

static void
deliver_message__refused_for_good__transport_code_nothing_kept(void **state)
{
	struct fixture		*f = *state;
	struct deliver_opts	 o;
	struct deliver_report	 rep;
	struct error		 err = ERROR_INIT;

	memset(&o, 0, sizeof(o));
	fake = FAKE_REFUSE;
	assert_int_equal(send_one(f, &o, 2, &rep, &err), -1);
	assert_int_equal(err.code, EX_UNAVAILABLE);
	assert_int_equal(rep.status, DLV_REFUSED);
	assert_int_equal(queued(f, NULL), 0);
	assert_int_equal(bounces, 0);	/* no -oem */
	error_release(&err);
	deliver_report_release(&rep);

	/* -oem: the sender hears of it */
	o.bounce = 1;
	assert_int_equal(send_one(f, &o, 2, &rep, &err), -1);
	assert_int_equal(bounces, 1);
	error_release(&err);
	deliver_report_release(&rep);
}

static void
deliver_message__one_deferred__only_it_queued(void **state)
{
	struct fixture		*f = *state;
	struct deliver_opts	 o;
	struct deliver_report	 rep;
	struct error		 err = ERROR_INIT;
	struct queue_entry	**v;
	struct queue		 *q;
	size_t			  n;

	memset(&o, 0, sizeof(o));
	fake = FAKE_HALF;
	assert_int_equal(send_one(f, &o, 2, &rep, &err), 0);
	assert_int_equal(rep.status, DLV_QUEUED);
	q = queue_open(f->qdir, 0, &err);
	assert_non_null(q);
	assert_int_equal(queue_list(q, &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0]->state[0], RCPT_ACCEPTED);
	assert_int_equal(v[0]->state[1], RCPT_TEMPFAIL);
	assert_int_equal(queue_entry_pending(v[0]), 1);
	queue_entries_free(v, n);
	queue_close(q);
	deliver_report_release(&rep);
}

static void
deliver_message__queue_off__ex_tempfail_not_kept(void **state)
{
	struct fixture		*f = *state;
	struct deliver_opts	 o;
	struct deliver_report	 rep;
	struct error		 err = ERROR_INIT;

	memset(&o, 0, sizeof(o));
	f->acct->queue = 0;
	fake = FAKE_DOWN;
	assert_int_equal(send_one(f, &o, 1, &rep, &err), -1);
	assert_int_equal(err.code, EX_TEMPFAIL);
	assert_int_equal(rep.status, DLV_FAILED);
	assert_int_equal(queued(f, NULL), 0);
	error_release(&err);
	deliver_report_release(&rep);

	/* a 4xx recipient with queue off is given up: partial, exit 0 */
	fake = FAKE_HALF;
	assert_int_equal(send_one(f, &o, 2, &rep, &err), 0);
	assert_int_equal(rep.status, DLV_PARTIAL);
	assert_int_equal(queued(f, NULL), 0);
	deliver_report_release(&rep);
}

static void
deliver_message__queue_unwritable__dead_letter_ex_tempfail(void **state)
{
	struct fixture		*f = *state;
	struct deliver_opts	 o;
	struct deliver_report	 rep;
	struct error		 err = ERROR_INIT;
	struct stat		 st;
	char			*dead;
	int			 fd;

	/* a regular file where the queue directory should be */
	fd = open(f->qdir, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	memset(&o, 0, sizeof(o));
	fake = FAKE_DOWN;
	assert_int_equal(send_one(f, &o, 1, &rep, &err), -1);
	assert_int_equal(err.code, EX_TEMPFAIL);
	assert_int_equal(rep.status, DLV_FAILED);
	dead = xasprintf("%s/dead.letter", f->dir);
	assert_non_null(strstr(err.msg, dead));
	assert_int_equal(stat(dead, &st), 0);
	assert_true(st.st_size > 0);
	free(dead);
	error_release(&err);
	deliver_report_release(&rep);
}

static void
deliver_message__odq__queued_without_attempt(void **state)
{
	struct fixture		*f = *state;
	struct deliver_opts	 o;
	struct deliver_report	 rep;
	struct error		 err = ERROR_INIT;

	memset(&o, 0, sizeof(o));
	o.queue_only = 1;
	fake = FAKE_ACCEPT;
	assert_int_equal(send_one(f, &o, 2, &rep, &err), 0);
	assert_int_equal(rep.status, DLV_QUEUED);
	assert_int_equal(attempts, 0);
	assert_int_equal(rep.out.n, 0);
	assert_int_equal(queued(f, NULL), 1);
	deliver_report_release(&rep);
}

int
main(void)
{
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(deliver_message__all_accepted__sent_exit_0),
		T(deliver_message__relay_down__queued_exit_0),
		T(deliver_message__auth_refused__held_with_specific_code),
		T(deliver_message__refused_for_good__transport_code_nothing_kept),
		T(deliver_message__one_deferred__only_it_queued),
		T(deliver_message__queue_off__ex_tempfail_not_kept),
		T(deliver_message__queue_unwritable__dead_letter_ex_tempfail),
		T(deliver_message__odq__queued_without_attempt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
