#!/bin/sh
# Per-recipient state.  R10: one recipient refused with 550, the other
# delivered once, nothing queued, exit 0.  R11: one recipient deferred
# with 450: the other delivered, only the deferred one stays queued and
# the retry sends to it alone, with the same Message-ID.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t05lib.sh"

# R10
start_smtpd --fail 'rcpt:bad@example.com=550 5.1.1 user unknown'
qconf "$SMTPD_PORT"
msg r10
run_postie -C "$TMP/config" good@example.com bad@example.com <"$TMP/in"
check_rc 0
check_grep 'bad@example.com.*550 5.1.1 user unknown' "$TMP/stderr"
check_queue 0
check_count 1
[ "$(json_field 1 rcpt_tos)" = '["good@example.com"]' ] || fail "rcpts $(json_field 1 rcpt_tos)"
check_grep 'outcome=partial exitcode=EX_OK' "$TMP/log"
check_grep 'recipients=good@example.com,bad@example.com states=accepted:250,rejected:550 ' "$TMP/log"

# R11
start_smtpd --fail 'rcpt:slow@example.com=450 4.2.1 mailbox busy'
qconf "$SMTPD_PORT"
msg r11
run_postie -C "$TMP/config" good@example.com slow@example.com <"$TMP/in"
check_rc 0
check_grep 'queued as .*mailbox busy' "$TMP/stderr"
check_queue 1
check_count 1
[ "$(json_field 1 rcpt_tos)" = '["good@example.com"]' ] || fail "rcpts $(json_field 1 rcpt_tos)"
id=$(queued_id)
check_grep '^rcpt A good@example.com$' "$Q/q/$id.env"
check_grep '^rcpt T slow@example.com$' "$Q/q/$id.env"
run_postie -C "$TMP/config" -bp
check_grep "^$id [0-9]+ 0m <sender@example.org> <slow@example.com> attempts=1" "$TMP/stdout"
check_no_grep 'good@' "$TMP/stdout"

# The retry: still busy -> stays, attempts grow; then accepted.
run_postie -C "$TMP/config" -qf
check_rc 0
check_queue 1
check_grep '^attempts 2$' "$Q/q/$id.env"
first=$SMTPD_DIR
start_smtpd
qconf "$SMTPD_PORT"
run_postie -C "$TMP/config" -qf
check_rc 0
check_queue 0
check_count 1
[ "$(json_field 1 rcpt_tos)" = '["slow@example.com"]' ] || fail "rcpts $(json_field 1 rcpt_tos)"
a=$(grep -i '^Message-ID:' "$first/0001.eml")
b=$(grep -i '^Message-ID:' "$SMTPD_DIR/0001.eml")
[ "$a" = "$b" ] || fail "Message-ID changed: $a / $b"
exit 0
