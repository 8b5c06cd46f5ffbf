#!/bin/sh
# Plain SMTP delivery: the envelope and the exact bytes the relay gets.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

start_smtpd
write_config "$TMP/config" <<CONF
account default
# direct mode: these tests check the exit codes of the contract
queue off
host 127.0.0.1
port $SMTPD_PORT
from sender@example.org
CONF

printf 'Subject: plain\n\nhello\n.dot line\n' >"$TMP/msg"
run_postie -C "$TMP/config" -f env@example.org a@example.com b@example.com \
    <"$TMP/msg"
check_rc 0
check_count 1
[ "$(json_field 1 mail_from)" = '"env@example.org"' ] ||
    fail "mail_from is $(json_field 1 mail_from)"
[ "$(json_field 1 rcpt_tos)" = '["a@example.com", "b@example.com"]' ] ||
    fail "rcpt_tos is $(json_field 1 rcpt_tos)"
[ "$(json_field 1 tls)" = false ] || fail "tls is on"
check_grep '^MAIL FROM:<env@example.org>' "$(transcript)"
# EHLO: the host's fully qualified name, else the address literal of
# the connection's local address; never "localhost" (RFC 5321 4.1.4)
check_grep '^EHLO (\[127\.0\.0\.1\]|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)$' "$(transcript)"
check_no_grep '^EHLO localhost' "$(transcript)"
# CRLF everywhere, and a leading dot survives the dot-stuffing round trip.
check_grep '^Subject: plain.$' "$SMTPD_DIR/0001.eml"
printf 'hello\r\n.dot line\r\n' >"$TMP/tail"
tail -c "$(wc -c <"$TMP/tail")" "$SMTPD_DIR/0001.eml" | cmp -s - "$TMP/tail" ||
    fail "message body differs"
[ ! -s "$TMP/stderr" ] || fail "unexpected stderr output"

# Null sender: MAIL FROM:<>.
run_postie -C "$TMP/config" -f '' a@example.com <"$TMP/msg"
check_rc 0
check_count 2
check_grep '^MAIL FROM:<>' "$(transcript)"

# -v names the account chosen and why: by -a, by the envelope sender
# matching an account's "from", or the default
cat >>"$TMP/config" <<CONF

account ops
host 127.0.0.1
port $SMTPD_PORT
from ops@example.net
CONF
run_postie -C "$TMP/config" -v a@example.com <"$TMP/msg"
check_rc 0
check_grep "account 'default' \(relay 127\.0\.0\.1, port $SMTPD_PORT\) chosen: the default account" "$TMP/stderr"
run_postie -C "$TMP/config" -v -f ops@example.net a@example.com <"$TMP/msg"
check_rc 0
check_grep "account 'ops' .* chosen: its 'from' matches the envelope sender" "$TMP/stderr"
run_postie -C "$TMP/config" -v --account ops a@example.com <"$TMP/msg"
check_rc 0
check_grep "account 'ops' .* chosen: named with -a/--account" "$TMP/stderr"

# msmtp keys without meaning here: only under -v, except those that
# would send the mail another way (a socket), which are said every time
write_config "$TMP/config2" <<CONF
host 127.0.0.1
port $SMTPD_PORT
queue off
dsn_notify never
socket /run/nothing.sock
CONF
run_postie -C "$TMP/config2" a@example.com <"$TMP/msg"
check_rc 0
check_no_grep "dsn_notify" "$TMP/stderr"
check_grep "warning: .*key 'socket' is not supported.*directly" "$TMP/stderr"
run_postie -C "$TMP/config2" -v a@example.com <"$TMP/msg"
check_rc 0
check_grep "key 'dsn_notify' is not supported by postie and is ignored" "$TMP/stderr"

# --dry-run names the account, relay, port, TLS and AUTH; nothing is sent
n=$(ls "$SMTPD_DIR"/*.eml | wc -l)
run_postie -C "$TMP/config" --dry-run --account ops a@example.com <"$TMP/msg"
check_rc 0
check_grep "^account 'ops': relay 127\.0\.0\.1 port $SMTPD_PORT, TLS off, AUTH off$" "$TMP/stderr"
check_count "$n"
# --progress (issue 11 part 4): a line for an upload over 4 MiB, ended
# with a newline; none for a small one, none without a terminal.
{ printf 'Subject: big\n\n'; head -c 6291456 /dev/zero | tr '\0' 'x' |
    fold -w 76; } >"$TMP/big"
run_postie -C "$TMP/config" --progress a@example.com <"$TMP/big"
check_rc 0
check_grep 'postie: [0-9.]+ MiB of 6\.[0-9] MiB \(100%\)' "$TMP/stderr"
[ "$(tail -c 1 "$TMP/stderr" | od -An -c | tr -d ' ')" = '\n' ] ||
    fail "progress line not ended"
run_postie -C "$TMP/config" a@example.com <"$TMP/big"
check_rc 0
[ ! -s "$TMP/stderr" ] || fail "progress without a terminal"
run_postie -C "$TMP/config" --progress a@example.com <"$TMP/msg"
check_rc 0
[ ! -s "$TMP/stderr" ] || fail "progress for a small message"

exit 0
