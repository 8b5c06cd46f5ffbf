#!/bin/sh
# The embedded default for every user (issue 11 part 3): with no relay,
# an ordinary user's mail to root or to another user cannot be written
# by that user (the spool is root:mail 2775, as on Debian), so it goes
# through the drop directory; root's postie -q (the path unit's service)
# delivers it into each mailbox.  The sender is forced to the owner.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t073lib.sh"

getent group mail >/dev/null || skip "no group mail"
SPOOL="$TMP/spool"
mkdir "$SPOOL"
chown root:mail "$SPOOL"
chmod 2775 "$SPOOL"
cat >"$SYS" <<CONF
qualify_domain example.org
local_spool $SPOOL
queue_dir $TMP/queue
CONF
chmod 644 "$SYS"

# Before the drop directory exists: held in the user's own queue with
# the way to set the system up (exit 73), never "queued" for nothing.
cat >"$TMP/home.nobody/.postierc" <<CONF
qualify_domain example.org
local_spool $SPOOL
queue_dir $TMP/home.nobody/queue
CONF
chown nobody "$TMP/home.nobody/.postierc"
printf 'Subject: early\n\nbefore the drop directory\n' >"$TMP/in"
as_user nobody root <"$TMP/in"
check_rc 73
check_grep "^postie: NOT SENT: .*held until the configuration is fixed: as a user, postie cannot write other users' mailboxes: as root, mkdir -m 1733" "$TMP/stderr"
check_no_grep 'queued as' "$TMP/stderr"

# Partly: the user's own mailbox takes it, root's cannot be written by
# the user; root's copy is held the same way (exit 73, how to fix it),
# not queued as if a retry could help, and only root's recipient stays.
: >"$SPOOL/nobody"
chown nobody "$SPOOL/nobody"
chmod 600 "$SPOOL/nobody"
printf 'Subject: partly\n\npartly delivered\n' >"$TMP/in"
as_user nobody nobody root <"$TMP/in"
check_rc 73
check_grep "^postie: NOT SENT: 1 of 2 recipient\(s\): .*held until the configuration is fixed: as a user, postie cannot write other users' mailboxes" "$TMP/stderr"
check_no_grep 'queued as' "$TMP/stderr"
[ "$(grep -c '^partly delivered$' "$SPOOL/nobody")" -eq 1 ] ||
    fail "the user's own mailbox did not get it once"
as_user nobody -bp
[ "$(grep -c ' <root@example.org> held=setup ' "$TMP/stdout")" -eq 2 ] ||
    fail "mailq: $(cat "$TMP/stdout")"
check_no_grep '<nobody@example.org> .*<nobody@example.org>' "$TMP/stdout"

mkdir -m 1733 "$DROP"
# The user's postie -q now hands both over.
as_user nobody -q
check_rc 0
[ "$(drop_count)" -eq 2 ] || fail "held entries not handed over"
as_root -q
check_rc 0
check_grep '^before the drop directory$' "$SPOOL/root"
check_grep '^partly delivered$' "$SPOOL/root"
[ "$(grep -c '^partly delivered$' "$SPOOL/nobody")" -eq 1 ] ||
    fail "the user's own mailbox got it again"
rm "$TMP/home.nobody/.postierc"

printf 'Subject: cron output\n\nhello from a cron job\n' >"$TMP/in"
as_user nobody root www-data <"$TMP/in"
check_rc 0
check_grep '^postie: handed to the system queue \(drop/[0-9a-f.]+\)$' \
    "$TMP/stderr"
[ "$(drop_count)" -eq 1 ] || fail "drop holds $(drop_count) files"
check_no_grep '^hello from a cron job$' "$SPOOL/root"	# not by the user

as_root -q
check_rc 0
[ "$(drop_count)" -eq 0 ] || fail "drop still holds $(drop_count) files"
for u in root www-data; do
	check_grep '^hello from a cron job$' "$SPOOL/$u"
	check_grep '^From nobody@example.org ' "$SPOOL/$u"
	[ "$(stat -c %U "$SPOOL/$u")" = "$u" ] ||
	    fail "$SPOOL/$u belongs to $(stat -c %U "$SPOOL/$u")"
done
[ "$(qcount)" -eq 0 ] || fail "left in the queue"

# Debian's cron mails a job's output with the daemon's environment, not
# the job's: HOME=/root when cron was started from a root shell.  That
# home is not the user's (nobody may not enter it): postie takes the
# password database's, never stops at /root/.postierc (exit 78, the
# output lost).
mkdir -m 700 "$TMP/home.root"
printf 'Subject: Cron <nobody@x> job\n\ncron output, HOME=/root\n' >"$TMP/in"
AS_HOME="$TMP/home.root" as_user nobody -FCronDaemon -i -B8BITMIME -oem \
    root <"$TMP/in"
check_rc 0
check_grep '^postie: handed to the system queue' "$TMP/stderr"
as_root -q
check_rc 0
check_grep '^cron output, HOME=/root$' "$SPOOL/root"

# Root itself delivers directly; a user with a relay of their own too.
printf 'Subject: direct\n\nfrom root\n' >"$TMP/in"
as_root www-data <"$TMP/in"
check_rc 0
check_no_grep 'handed to the system queue' "$TMP/stderr"
check_grep '^from root$' "$SPOOL/www-data"

# A user's relay is down: queued in the user's own queue, which no root
# timer flushes, and the line says what will send it.
cat >"$TMP/home.nobody/.postierc" <<CONF
host 127.0.0.1
port $(free_port)
queue_dir $TMP/home.nobody/queue
CONF
chown nobody "$TMP/home.nobody/.postierc"
as_user nobody a@example.com <"$TMP/in"
check_rc 0
check_grep "^postie: queued as " "$TMP/stderr"
check_grep "is in this user's own queue \(mailq\): it is sent by 'postie -q', by a later send that succeeds, or by a user timer" "$TMP/stderr"
exit 0
