#!/bin/sh
# Sender alignment (issue 14), as msmtp 1.8 documents set_from_header and
# allow_from_override, plus set_sender_header (the author's From kept,
# Sender: the account's address) and read_envelope_from; --dry-run says
# which header was added or replaced.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

start_smtpd
config() {
	write_config "$TMP/config" <<CONF
account default
queue off
host 127.0.0.1
port $SMTPD_PORT
from login@example.org
$1
CONF
}
printf 'From: Author <author@other.example>\nSubject: x\n\nhello\n' >"$TMP/authored"
printf 'Subject: x\n\nhello\n' >"$TMP/bare"
n=0
sent() {	# sent HEADER-REGEX: the last message has it
	n=$((n + 1))
	check_count $n
	check_grep "$1" "$SMTPD_DIR/$(printf %04d $n).eml"
}

# set_from_header on: From is replaced by the envelope sender
config "set_from_header on"
run_postie -C "$TMP/config" --dry-run a@example.com <"$TMP/authored"
check_rc 0
check_grep '^header From: login@example.org replaced \(set_from_header on\)$' "$TMP/stderr"
check_grep '^From: login@example.org' "$TMP/stdout"
run_postie -C "$TMP/config" a@example.com <"$TMP/authored"
check_rc 0
sent '^From: login@example.org.$'
check_no_grep 'author@other' "$SMTPD_DIR/0001.eml"

# auto (the default): only a missing From is added; off: never
config ""
run_postie -C "$TMP/config" --dry-run a@example.com <"$TMP/bare"
check_grep '^header From: login@example.org added \(there was none\)$' "$TMP/stderr"
run_postie -C "$TMP/config" --dry-run a@example.com <"$TMP/authored"
check_no_grep '^header ' "$TMP/stderr"
config "set_from_header off"
run_postie -C "$TMP/config" a@example.com <"$TMP/bare"
check_rc 0
n=$((n + 1))
check_count $n
check_no_grep '^From:' "$SMTPD_DIR/$(printf %04d $n).eml"

# set_sender_header on: the author's From stays, Sender names the account
config "set_sender_header on"
run_postie -C "$TMP/config" --dry-run a@example.com <"$TMP/authored"
check_grep '^header Sender: login@example.org added \(set_sender_header on; From kept\)$' "$TMP/stderr"
run_postie -C "$TMP/config" a@example.com <"$TMP/authored"
check_rc 0
sent '^From: Author <author@other.example>.$'
check_grep '^Sender: login@example.org.$' "$SMTPD_DIR/$(printf %04d $n).eml"
[ "$(json_field $n mail_from)" = '"login@example.org"' ] ||
    fail "mail_from is $(json_field $n mail_from)"
# ... and none when From is the account's address already
printf 'From: login@example.org\nSender: someone@else.example\nSubject: x\n\nhi\n' |
    run_postie -C "$TMP/config" --dry-run a@example.com
check_grep '^header Sender: not added \(From is the account.s address\)$' "$TMP/stderr"

# allow_from_override off: -f does not change "from" (msmtp 1.8.20)
config "allow_from_override off"
run_postie -C "$TMP/config" -f other@example.net a@example.com <"$TMP/bare"
check_rc 0
n=$((n + 1))
[ "$(json_field $n mail_from)" = '"login@example.org"' ] ||
    fail "mail_from is $(json_field $n mail_from)"
config "allow_from_override on"
run_postie -C "$TMP/config" -f other@example.net a@example.com <"$TMP/bare"
n=$((n + 1))
[ "$(json_field $n mail_from)" = '"other@example.net"' ] ||
    fail "mail_from is $(json_field $n mail_from)"

# read_envelope_from on: the envelope sender is From's address; -f wins;
# allow_from_override off keeps "from"
config "read_envelope_from on"
run_postie -C "$TMP/config" a@example.com <"$TMP/authored"
check_rc 0
n=$((n + 1))
[ "$(json_field $n mail_from)" = '"author@other.example"' ] ||
    fail "mail_from is $(json_field $n mail_from)"
run_postie -C "$TMP/config" -f explicit@example.net a@example.com <"$TMP/authored"
n=$((n + 1))
[ "$(json_field $n mail_from)" = '"explicit@example.net"' ] ||
    fail "mail_from is $(json_field $n mail_from)"
config "read_envelope_from on
allow_from_override off"
run_postie -C "$TMP/config" a@example.com <"$TMP/authored"
n=$((n + 1))
[ "$(json_field $n mail_from)" = '"login@example.org"' ] ||
    fail "mail_from is $(json_field $n mail_from)"
check_count $n
exit 0
