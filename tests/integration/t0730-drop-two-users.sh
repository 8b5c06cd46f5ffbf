#!/bin/sh
# Daemons without credentials: www-data and nobody cannot read the
# root-only system config (which holds the relay's password), yet both
# can send.  Each message goes to the drop directory (1733 root, made by
# root's postie -q); neither user can list it, read or remove the other's
# file; root's postie -q sends both with the system account and the
# envelope sender forced to the owner (unless drop_allow_from).  A user
# whose own config names a relay sends directly; a missing or too open
# drop directory is refused (78), the message kept in dead.letter with a
# line saying how to set the system up (issue 11 part 3; L21).
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t073lib.sh"

start_smtpd --auth "sys:$SYSPW" --no-auth-require-tls
sysconf "$SMTPD_PORT"

# A system file everyone may read needs no drop directory: none is made.
printf 'queue_dir %s/queue\n' "$TMP" >"$TMP/open.conf"
chmod 644 "$TMP/open.conf"
set +e
env HOME="$TMP" POSTIE_SYSCONFIG="$TMP/open.conf" POSTIE_DROPDIR="$DROP" \
    "$POSTIE" -q >"$TMP/stdout" 2>"$TMP/stderr"
rc=$?
set -e
check_rc 0
[ ! -e "$DROP" ] || fail "drop directory made for a readable system file"

# Root's first run with the private file makes it.
as_root -q
check_rc 0
[ "$(stat -c '%a %U %G' "$DROP")" = "1733 root root" ] ||
    fail "drop directory is $(stat -c '%a %U %G' "$DROP")"
check_grep "created the drop directory" "$TMP/stderr"

# The users really cannot read the system config.
for u in www-data nobody; do
	if sh_user $u "cat '$SYS'"; then
		fail "$u can read the system config"
	fi
done

# mailq works for them: their own queue, not 78 (issue 11 part 3)
as_user nobody -bp
check_rc 0
check_grep '^Mail queue is empty$' "$TMP/stdout"

printf 'Subject: from php\n\nhello from www-data\n' >"$TMP/in"
as_user www-data -f ceo@example.com a@example.com <"$TMP/in"
check_rc 0
check_grep '^postie: handed to the system queue \(drop/[0-9a-f.]+\)$' \
    "$TMP/stderr"
check_fixed_absent "$SYSPW" "$TMP/stderr"
f1="$DROP/$(sed -n 's/^postie: handed to the system queue (drop\/\(.*\))$/\1/p' \
    "$TMP/stderr")"
printf 'hello from cron\n' >"$TMP/in"
as_user nobody -s 'cron output' b@example.com <"$TMP/in"
check_rc 0
check_grep '^postie: handed to the system queue' "$TMP/stderr"
f2="$DROP/$(sed -n 's/^postie: handed to the system queue (drop\/\(.*\))$/\1/p' \
    "$TMP/stderr")"
[ "$(drop_count)" -eq 2 ] || fail "drop holds $(drop_count) files"
[ "$(stat -c '%a %U' "$f1")" = "600 www-data" ] || fail "$f1: $(stat -c '%a %U' "$f1")"
[ "$(stat -c '%a %U' "$f2")" = "600 nobody" ] || fail "$f2: $(stat -c '%a %U' "$f2")"
check_count 0

# Neither can list the directory, read, rename or remove the other's file.
for pair in "www-data $f2" "nobody $f1"; do
	set -- $pair
	if sh_user $1 "ls '$DROP'"; then fail "$1 can list the drop directory"; fi
	if sh_user $1 "cat '$2'"; then fail "$1 can read $2"; fi
	sh_user $1 "rm -f '$2'" || :
	[ -f "$2" ] || fail "$1 removed $2"
	if sh_user $1 "mv '$2' '$DROP/stolen'"; then fail "$1 renamed $2"; fi
	if sh_user $1 "printf x >>'$2'"; then fail "$1 appended to $2"; fi
done

# Root's queue run sends both with the system account.
as_root -q
check_rc 0
check_count 2
[ "$(drop_count)" -eq 0 ] || fail "drop still holds $(drop_count) files"
[ "$(qcount)" -eq 0 ] || fail "queue holds $(qcount) entries"
[ "$(mail_from_of a@example.com)" = www-data@example.org ] ||
    fail "sender of www-data's mail: $(mail_from_of a@example.com)"
[ "$(mail_from_of b@example.com)" = nobody@example.org ] ||
    fail "sender of nobody's mail: $(mail_from_of b@example.com)"
[ "$(json_field 1 auth)" = '"sys"' ] || fail "not sent with the system account"
grep -q 'hello from www-data' "$SMTPD_DIR"/*.eml || fail "body lost"
grep -q '^Subject: cron output' "$SMTPD_DIR"/*.eml || fail "subject lost"

# drop_allow_from: the sender the user gave is kept.
sysconf "$SMTPD_PORT" "drop_allow_from on"
printf 'Subject: allowed\n\nx\n' >"$TMP/in"
as_user www-data -f ceo@example.com c@example.com <"$TMP/in"
check_rc 0
as_root -q
check_rc 0
check_count 3
[ "$(mail_from_of c@example.com)" = ceo@example.com ] ||
    fail "drop_allow_from: sender $(mail_from_of c@example.com)"
sysconf "$SMTPD_PORT"

# A user with a relay of their own sends directly.
start_smtpd
cat >"$TMP/home.www-data/.postierc" <<CONF
host 127.0.0.1
port $SMTPD_PORT
queue off
CONF
chown www-data "$TMP/home.www-data/.postierc"
chmod 600 "$TMP/home.www-data/.postierc"
as_user www-data d@example.com <"$TMP/in"
check_rc 0
check_no_grep 'handed to the system queue' "$TMP/stderr"
check_count 1
[ "$(drop_count)" -eq 0 ] || fail "dropped although a relay was configured"
rm "$TMP/home.www-data/.postierc"

# A drop directory others can read, or none at all: refused.
chmod 1777 "$DROP"
as_user nobody e@example.com <"$TMP/in"
check_rc 78
check_grep "drop directory '$DROP' must be a directory owned by root with mode 1733" \
    "$TMP/stderr"
# Root's run warns and still flushes its queue.
as_root -q
check_rc 0
check_grep "warning: drop directory '$DROP' must be" "$TMP/stderr"
rmdir "$DROP"
printf 'Subject: kept\n\nnever lost\n' >"$TMP/in2"
as_user nobody e@example.com <"$TMP/in2"
check_rc 78
check_grep '^postie: NOT SENT: cannot hand the message to the system queue.*appended to .*/home.nobody/dead.letter.*mkdir -m 1733' "$TMP/stderr"
check_grep '^never lost$' "$TMP/home.nobody/dead.letter"
check_grep '^Subject: kept$' "$TMP/home.nobody/dead.letter"
# A directory of the same name made by a user is never used.
mkdir -m 1733 "$DROP"
chown nobody "$DROP"
as_user www-data e@example.com <"$TMP/in"
check_rc 78
exit 0
