#!/bin/sh
# Permanent failures and expiry.  R9 with -oem (cron's flag): exit 67,
# nothing queued, a bounce with the whole message in the local mailbox.
# L13: never a bounce for the null sender.  Expiry after queue_lifetime:
# one last try, then bounced and removed; with the relay up an old entry
# is delivered, not expired (issue 10 item 2, L19).  L12: with the clock moved (faketime), the backoff
# grows and is respected, and the entry expires after 5 days.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t05lib.sh"

me=$(id -un)
box="$TMP/mail/$me"

# R9 + -oem
start_smtpd --fail 'rcpt:a@example.com=550 5.1.1 no such user'
qconf "$SMTPD_PORT"
msg perm
run_postie -C "$TMP/config" -oem a@example.com <"$TMP/in"
check_rc 67
check_queue 0
check_count 0
check_grep "^Subject: Undelivered Mail Returned to Sender" "$box"
check_grep "^Auto-Submitted: auto-replied" "$box"
# each refused recipient with the server's own reply (issue 11 part 4)
check_grep "^    <a@example.com>: 550 5.1.1 no such user" "$box"
check_grep "^Message-ID: <perm@postie.test>" "$box"
check_grep "^body of perm" "$box"
check_grep "bounce for <sender@example.org> written" "$TMP/stderr"

# without -oem: no bounce
rm -f "$box"
run_postie -C "$TMP/config" a@example.com <"$TMP/in"
check_rc 67
[ ! -e "$box" ] || fail "bounce without -oem"

# L13: the null sender never gets a bounce.
run_postie -C "$TMP/config" -oem -f '' a@example.com <"$TMP/in"
check_rc 67
[ ! -e "$box" ] || fail "bounce to the null sender"

# Issue 10 item 12: a queued message the relay then refuses for good is
# never removed without a word.
PORT=$(free_port)
qconf "$PORT"
msg later
run_postie -C "$TMP/config" a@example.com <"$TMP/in"
check_rc 0
check_queue 1
id=$(queued_id)
qconf "$SMTPD_PORT"
run_postie -C "$TMP/config" -qf
check_rc 0
check_queue 0
check_grep "queue entry $id <later@postie.test>: refused for good, not sent, removed: .*550 5.1.1 no such user" "$TMP/stderr"
[ "$(grep -c 'refused for good' "$TMP/stderr")" -eq 1 ] || fail "not one line"

# Expiry: lifetime 1 second, relay down, -oem recorded in the entry.
PORT=$(free_port)
qconf "$PORT" "queue_lifetime 1"
msg old
run_postie -C "$TMP/config" -oem a@example.com <"$TMP/in"
check_rc 0
check_queue 1
id=$(queued_id)
check_grep '^bounce 1$' "$Q/q/$id.env"
sleep 2
run_postie -C "$TMP/config" -q
check_rc 0
check_queue 0
# expired after its last try failed (issue 10 item 2), never silently
check_grep "queue entry $id <old@postie.test>: expired after [0-9]+ seconds in the queue \(2 attempts\); last error: connection to .* refused \(bounce to the sender\)" "$TMP/stderr"
check_grep "^Message-ID: <old@postie.test>" "$box"
check_grep "expired after" "$box"
check_grep "id=$id .*outcome=expired" "$TMP/log"

# The machine was off for longer than the lifetime: the relay is up, so
# the old entry is delivered, not expired.
rm -f "$box"
qconf "$PORT" "queue_lifetime 1"
msg offline
run_postie -C "$TMP/config" -oem a@example.com <"$TMP/in"
check_rc 0
id=$(queued_id)
sleep 2
kill "$SMTPD_PID"
start_smtpd
qconf "$SMTPD_PORT" "queue_lifetime 1"
n=$(find "$SMTPD_DIR" -name '[0-9]*.json' | wc -l)
run_postie -C "$TMP/config" -q --due
check_rc 0
check_queue 0
check_count $((n + 1))
[ ! -e "$box" ] || fail "bounced although delivered"
check_no_grep 'expired' "$TMP/stderr"
check_grep "id=$id .*outcome=delivered" "$TMP/log"

# L12: time jumps.
command -v faketime >/dev/null || skip "faketime not installed"
rm -f "$box"
qconf "$PORT"
msg l12
run_postie -C "$TMP/config" -oem a@example.com <"$TMP/in"
id=$(queued_id)
ft() {
	faketime_postie "$1" -C "$TMP/config" -q --due
}
next() {
	sed -n 's/^next //p' "$Q/q/$id.env"
}
n1=$(next)
now=$(date +%s)
[ $((n1 - now)) -ge 260 ] && [ $((n1 - now)) -le 340 ] || fail "first delay $((n1 - now))"
ft +2m			# not due yet
check_grep '^attempts 1$' "$Q/q/$id.env"
ft +6m			# due: second attempt, delay ~10 min
check_rc 0
check_grep '^attempts 2$' "$Q/q/$id.env"
n2=$(next)
d=$((n2 - now - 360))
[ $d -ge 530 ] && [ $d -le 670 ] || fail "second delay $d"
ft +10m			# not due (next at ~+16m)
check_grep '^attempts 2$' "$Q/q/$id.env"
ft +17m			# third attempt, delay ~20 min
check_grep '^attempts 3$' "$Q/q/$id.env"
n3=$(next)
d=$((n3 - now - 1020))
[ $d -ge 1070 ] && [ $d -le 1330 ] || fail "third delay $d"
ft +6d			# past queue_lifetime (5 days): bounced
check_rc 0
check_queue 0
check_grep "^Message-ID: <l12@postie.test>" "$box"
check_grep "4 attempts" "$box"	# three, then the last try
exit 0
