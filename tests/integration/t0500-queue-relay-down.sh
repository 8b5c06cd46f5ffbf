#!/bin/sh
# R1 relay down: exit 0 and one entry queued; -q --due (the timer's form)
# waits for the backoff, -q delivers it exactly once with the same
# Message-ID, as Postfix's sendmail -q does.  'queue off'
# gives msmtp's exit 75.  -odq queues without trying; a successful send
# flushes due entries in the background (queue_flush_on_send).
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t05lib.sh"

PORT=$(free_port)
qconf "$PORT"
msg r1
run_postie -C "$TMP/config" a@example.com <"$TMP/in"
check_rc 0
check_grep "^postie: queued as [A-Za-z0-9._-]+: connection to 127.0.0.1:$PORT refused" "$TMP/stderr"
check_queue 1
id=$(queued_id)
check_grep "^rcpt P a@example.com$" "$Q/q/$id.env"
check_grep "^attempts 1$" "$Q/q/$id.env"
check_grep "id=$id .*outcome=queued exitcode=EX_OK" "$TMP/log"
[ "$(stat -c %a "$Q")" = 700 ] || fail "queue directory mode $(stat -c %a "$Q")"
[ "$(stat -c %a "$Q/q/$id.msg")" = 600 ] || fail "entry mode"

# The relay is back.  -q --due respects the backoff (5 minutes), -q
# does not.
start_smtpd
qconf "$SMTPD_PORT"
run_postie -C "$TMP/config" -q --due
check_rc 0
check_count 0
check_queue 1
run_postie -v -C "$TMP/config" -q
check_rc 0
check_grep '^postie: queue: 1 sent, 0 still queued, 0 held$' "$TMP/stderr"
check_count 1
check_queue 0
check_msgids "$SMTPD_DIR" 1
check_grep '<r1@postie.test>' "$SMTPD_DIR/0001.eml"
[ "$(json_field 1 rcpt_tos)" = '["a@example.com"]' ] || fail "rcpts $(json_field 1 rcpt_tos)"
check_grep "id=$id .*outcome=delivered exitcode=EX_OK" "$TMP/log"
# Nothing left to send twice.
run_postie -C "$TMP/config" -qf
check_count 1

# queue off: msmtp's behaviour, nothing kept.
qconf "$PORT" "queue off"
msg off
run_postie -C "$TMP/config" a@example.com <"$TMP/in"
check_rc 75
check_queue 0
check_no_grep 'queued as' "$TMP/stderr"

# -odq: queued without trying; due at once.
qconf "$SMTPD_PORT"
msg odq
run_postie -C "$TMP/config" -odq a@example.com <"$TMP/in"
check_rc 0
check_grep 'queued as .*-odq' "$TMP/stderr"
check_count 1
check_queue 1

# A successful send flushes it in the background.
msg direct
run_postie -C "$TMP/config" b@example.com <"$TMP/in"
check_rc 0
i=0
while [ "$(find "$SMTPD_DIR" -name '[0-9]*.json' | wc -l)" -lt 3 ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "background flush did not deliver"
	sleep 0.1
done
i=0
while [ "$(qcount)" -ne 0 ]; do
	i=$((i + 1))
	[ $i -lt 50 ] || fail "background flush left the entry"
	sleep 0.1
done
check_count 3
check_queue 0
check_msgids "$SMTPD_DIR" 3

# queue_flush_on_send off: no flush.
qconf "$SMTPD_PORT" "queue_flush_on_send off"
msg odq2
run_postie -C "$TMP/config" -odq a@example.com <"$TMP/in"
msg direct2
run_postie -C "$TMP/config" b@example.com <"$TMP/in"
check_rc 0
sleep 1
check_count 4
check_queue 1

# -q -v names the account of a queued entry as the one it was queued
# with, once, never "named with -a" (no -a was given).
run_postie -C "$TMP/config" -q -v
check_rc 0
check_queue 0
check_no_grep 'named with -a' "$TMP/stderr"
check_grep "^postie: account 'default' \\(relay 127\\.0\\.0\\.1, port [0-9]+\\) chosen: the one its queue entry names$" "$TMP/stderr"
exit 0
