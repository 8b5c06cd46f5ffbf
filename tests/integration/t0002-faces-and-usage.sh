#!/bin/sh
# The program's faces and its refusals: --version, --help, mailq, -bp,
# newaliases, -q; unknown options, unsupported -b modes, recipients that
# look like options, and option injection (-X never opens its file).
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

# The user config (HOME is $TMP) keeps the queue in $TMP: the queue
# commands below never touch the real spool.
write_config "$TMP/.postierc" <<EOF
local_spool $TMP/spool
EOF
mkdir -p "$TMP/spool"

run_postie --version
check_rc 0
check_grep '^postie [0-9]' "$TMP/stdout"
# the system file this binary reads ($POSTIE_SYSCONFIG in tests)
check_grep '^system configuration: /nonexistent$' "$TMP/stdout"
run_postie --help
check_rc 0
check_grep '(^| )-t' "$TMP/stdout"

ln -s "$POSTIE" "$TMP/mailq"
ln -s "$POSTIE" "$TMP/newaliases"
set +e
HOME=$TMP POSTIE_SYSCONFIG=/nonexistent "$TMP/mailq" >"$TMP/stdout" 2>&1
rc=$?
set -e
check_rc 0
check_grep 'queue is empty' "$TMP/stdout"
set +e
HOME=$TMP POSTIE_SYSCONFIG=/nonexistent "$TMP/newaliases" >"$TMP/stdout" 2>&1
rc=$?
set -e
check_rc 0
run_postie -bp
check_rc 0
check_grep 'queue is empty' "$TMP/stdout"
run_postie -q
check_rc 0
# sendmail's -q argument is glued: "-q 30m" is refused with the fix
# named; "-q30m" works; --help says so
run_postie -q 30m
check_rc 64
check_grep 'glued to it.*-q30m' "$TMP/stderr"
run_postie -q30m
check_rc 0
run_postie --help
check_grep 'ARG is glued to -q' "$TMP/stdout"

for bad in -bd -bv -bz; do
	run_postie "$bad" a@example.com </dev/null
	check_rc 64
	check_grep "$bad" "$TMP/stderr"
done
run_postie -k a@example.com </dev/null
check_rc 64
check_grep "unknown option" "$TMP/stderr"
run_postie -f </dev/null
check_rc 64

# Option injection: a recipient or sender that looks like an option.
for args in "-- -oQ/tmp/x@y" "-- -X$TMP/log" "-f -bv a@example.com"; do
	# shellcheck disable=SC2086
	run_postie $args </dev/null
	check_rc 64
done
[ ! -e /tmp/x@y ] || fail "a file was created through a recipient"
[ ! -e "$TMP/log" ] || fail "a file was created through a recipient"

# -X FILE is the transaction log, as in sendmail and msmtp: the log line.
write_config "$TMP/config" <<EOF
local_spool $TMP/spool
EOF
mkdir -p "$TMP/spool"
printf 'Subject: x\n\nbody\n' >"$TMP/in"
run_postie -C "$TMP/config" -X "$TMP/log" root <"$TMP/in"
check_rc 0
check_grep ' recipients=root@.* outcome=delivered ' "$TMP/log"
[ -s "$TMP/spool/root" ] || fail "the message did not land in the mailbox"

# No recipients at all.
printf 'Subject: x\n\nbody\n' >"$TMP/in"
run_postie -C "$TMP/config" <"$TMP/in"
check_rc 64
check_grep 'recipient' "$TMP/stderr"
# -t that finds none.
run_postie -C "$TMP/config" -t </dev/null
check_rc 66
exit 0
