#!/bin/sh
# -bs (issue 12): an SMTP dialogue on stdin/stdout, as symfony/mailer,
# Laravel and Alpine drive it.  Several messages in one session, RSET,
# dot-stuffing, bad commands, a recipient the relay refuses, EOF in the
# middle of DATA, relay down -> queued; with no relay, recipients that
# cannot be delivered are refused at RCPT; message_size_limit; the
# command and DATA timeouts; stderr stays empty throughout.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

start_smtpd --fail 'rcpt:bad@example.com=550 5.1.1 user unknown'
conf() {
	write_config "$TMP/config" <<CONF
account default
queue ${2:-off}
host 127.0.0.1
port $1
from sender@example.org
timeout 5
CONF
}
conf "$SMTPD_PORT"

# reply N: line N of the replies, CR removed
reply() {
	sed -n "${1}p" "$TMP/stdout" | tr -d '\r'
}
check_reply() {
	got=$(reply "$1")
	case $got in
	$2) ;;
	*) fail "reply $1 is '$got', expected '$2'" ;;
	esac
}
no_stderr() {
	[ ! -s "$TMP/stderr" ] || fail "unexpected stderr output"
}

# 1. Two messages, the second after RSET; dot-stuffing; bare LF lines.
printf '%s\r\n' 'EHLO client.example' \
    'MAIL FROM:<env@example.org> BODY=8BITMIME SIZE=80' \
    'RCPT TO:<a@example.com>' 'RCPT TO:<b@example.com>' 'DATA' \
    'Subject: one' '' 'hello' '..dot line' '.' \
    'RSET' 'MAIL FROM:<x@example.org>' 'RSET' 'NOOP' >"$TMP/in"
printf 'MAIL FROM:<>\nRCPT TO:<c@example.com>\nDATA\nSubject: two\n\nbare LF\n.\nQUIT\n' \
    >>"$TMP/in"
run_postie -C "$TMP/config" -bs <"$TMP/in"
check_rc 0
no_stderr
check_reply 1 '220 * ESMTP postie'
check_reply 2 '250-*'
check_grep '^250-PIPELINING' "$TMP/stdout"
check_grep '^250-8BITMIME' "$TMP/stdout"
check_grep '^250 ENHANCEDSTATUSCODES' "$TMP/stdout"
check_no_grep 'STARTTLS|AUTH' "$TMP/stdout"
check_reply 7 '250 2.1.0 Ok'
check_reply 8 '250 2.1.5 Ok'
check_reply 9 '250 2.1.5 Ok'
check_reply 10 '354 *'
check_reply 11 '250 2.0.0 Ok: queued as ?*'
check_reply 12 '250 2.0.0 Ok'
check_reply 13 '250 2.1.0 Ok'
check_reply 14 '250 2.0.0 Ok'
check_reply 15 '250 2.0.0 Ok'
check_reply 16 '250 2.1.0 Ok'
check_reply 17 '250 2.1.5 Ok'
check_reply 18 '354 *'
check_reply 19 '250 2.0.0 Ok: queued as ?*'
check_reply 20 '221 2.0.0 Bye'
[ "$(wc -l <"$TMP/stdout")" -eq 20 ] || fail "more than 20 reply lines"
# every reply line ends in CRLF
[ "$(grep -c "$(printf '\r')\$" "$TMP/stdout")" -eq 20 ] || fail "a reply without CRLF"
check_count 2
[ "$(json_field 1 mail_from)" = '"env@example.org"' ] ||
    fail "mail_from is $(json_field 1 mail_from)"
[ "$(json_field 1 rcpt_tos)" = '["a@example.com", "b@example.com"]' ] ||
    fail "rcpt_tos is $(json_field 1 rcpt_tos)"
check_grep '^MAIL FROM:<> ' "$(transcript)"
[ "$(json_field 2 rcpt_tos)" = '["c@example.com"]' ] ||
    fail "rcpt_tos is $(json_field 2 rcpt_tos)"
# the formatter ran: Date and Message-ID added, CRLF lines, dot kept
check_grep '^Subject: one.$' "$SMTPD_DIR/0001.eml"
check_grep '^Message-ID: <' "$SMTPD_DIR/0001.eml"
check_grep '^Date: ' "$SMTPD_DIR/0001.eml"
printf 'hello\r\n.dot line\r\n' >"$TMP/tail"
tail -c "$(wc -c <"$TMP/tail")" "$SMTPD_DIR/0001.eml" | cmp -s - "$TMP/tail" ||
    fail "message 1 body differs"
check_grep '^bare LF.$' "$SMTPD_DIR/0002.eml"

# 2. Bad commands get 5xx and the session goes on; a recipient the relay
# refuses is a 550 after the dot, never a silent 250 (one good recipient
# too: the reply says how many failed).
printf '%s\r\n' 'HELO client.example' 'MAIL FROM:<env@example.org>' \
    'RCPT TO:<not an address>' 'RCPT TO:<-oQ/tmp@x>' 'DATA x' 'FOO' \
    'STARTTLS' 'RCPT TO:<bad@example.com>' 'DATA' 'Subject: refused' '' \
    'x' '.' \
    'MAIL FROM:<env@example.org>' 'RCPT TO:<d@example.com>' \
    'RCPT TO:<bad@example.com>' 'DATA' 'Subject: partial' '' 'y' '.' \
    'QUIT' >"$TMP/in"
run_postie -C "$TMP/config" -bs <"$TMP/in"
check_rc 0
no_stderr
check_reply 2 '250 *'
check_reply 3 '250 2.1.0 Ok'
check_reply 4 '553 5.1.3 *'
check_reply 5 '553 5.1.3 *'
check_reply 6 '501 5.5.4 *'
check_reply 7 '500 5.5.2 *'
check_reply 8 '502 5.5.1 *'
check_reply 9 '250 2.1.5 Ok'
check_reply 10 '354 *'
check_reply 11 '550 5.1.1 refused: user unknown'
check_reply 15 '354 *'
check_reply 16 '550 5.1.1 1 of 2 recipients not delivered: user unknown'
check_reply 17 '221 2.0.0 Bye'
check_count 3
[ "$(json_field 3 rcpt_tos)" = '["d@example.com"]' ] ||
    fail "rcpt_tos is $(json_field 3 rcpt_tos)"

# 3. EOF in the middle of DATA: the transaction is discarded, nothing is
# sent, exit 0.
printf '%s\r\n' 'EHLO c' 'MAIL FROM:<env@example.org>' \
    'RCPT TO:<e@example.com>' 'DATA' 'Subject: cut' '' 'half a' >"$TMP/in"
printf 'message' >>"$TMP/in"
run_postie -C "$TMP/config" -bs <"$TMP/in"
check_rc 0
no_stderr
check_reply 9 '354 *'
[ "$(wc -l <"$TMP/stdout")" -eq 9 ] || fail "a reply after EOF"
check_count 3

# 4. Relay down, queue on: "250 ... queued as ID" with the queue's id,
# and the entry is there; with queue off, a 451 and nothing kept.
PORT=$(free_port)
conf "$PORT" on
printf '%s\r\n' 'HELO c' 'MAIL FROM:<env@example.org>' \
    'RCPT TO:<f@example.com>' 'DATA' 'Subject: later' '' 'z' '.' 'QUIT' \
    >"$TMP/in"
run_postie -C "$TMP/config" -bs <"$TMP/in"
check_rc 0
no_stderr
check_reply 6 '250 2.0.0 Ok: queued as ?*'
id=$(reply 6 | sed 's/.* queued as //')
[ -f "$TMP/queue/q/$id.env" ] || fail "no queue entry $id"
conf "$PORT" off
run_postie -C "$TMP/config" -bs <"$TMP/in"
check_rc 0
no_stderr
check_reply 6 '451 4.3.0 *refused*'
check_reply 7 '221 2.0.0 Bye'

# 5. The callers' argv: Alpine (-bs -odb -oem, RSET before every MAIL)
# and Laravel (-bs -i); both deliver.
conf "$SMTPD_PORT"
n0=$(find "$SMTPD_DIR" -name '[0-9]*.json' | wc -l)
printf '%s\r\n' 'EHLO c' 'RSET' 'MAIL FROM:<env@example.org>' \
    'RCPT TO:<g@example.com>' 'DATA' 'Subject: argv' '' 'w' '.' 'QUIT' \
    >"$TMP/in"
for argv in "-bs -odb -oem" "-bs -i"; do
	# shellcheck disable=SC2086
	run_postie -C "$TMP/config" $argv <"$TMP/in"
	check_rc 0
	no_stderr
	check_reply 7 '250 2.0.0 Ok'
	check_reply 11 '250 2.0.0 Ok: queued as ?*'
done
check_count $((n0 + 2))

# 6. A session that cannot start (no such config): a 421 instead of the
# greeting, the error on stderr, a non-zero exit.
run_postie -C "$TMP/nonexistent" -bs <"$TMP/in"
[ "$rc" -ne 0 ] || fail "exit 0 without a config"
check_reply 1 '421 4.3.0 *'
check_grep 'nonexistent' "$TMP/stderr"

# 7. No relay (local delivery): a remote recipient and an unknown local
# user are refused at RCPT (5xx there, not after the dot), a known user
# is accepted and gets the message; a transaction left with no
# recipient cannot start DATA.
me=$(id -un)
mkdir -p "$TMP/spool"
write_config "$TMP/local" <<CONF
qualify_domain example.org
local_spool $TMP/spool
queue_dir $TMP/lqueue
CONF
printf '%s\r\n' 'EHLO c' 'MAIL FROM:<env@example.org>' \
    'RCPT TO:<far@remote.example>' 'RCPT TO:<no-such-user-p0stie>' \
    "RCPT TO:<$me@example.org>" 'DATA' 'Subject: local' '' 'v' '.' \
    'MAIL FROM:<env@example.org>' 'RCPT TO:<far@remote.example>' 'DATA' \
    'QUIT' >"$TMP/in"
run_postie -C "$TMP/local" -bs <"$TMP/in"
check_rc 0
no_stderr
check_reply 8 '550 5.1.2 no relay configured for remote recipient <far@remote.example>*'
check_reply 9 "550 5.1.1 unknown local user 'no-such-user-p0stie'"
check_reply 10 '250 2.1.5 Ok'
check_reply 11 '354 *'
check_reply 12 '250 2.0.0 Ok: queued as ?*'
check_reply 13 '250 2.1.0 Ok'
check_reply 14 '550 5.1.2 *'
check_reply 15 '503 5.5.1 Error: need RCPT command'
check_reply 16 '221 2.0.0 Bye'
check_grep '^Subject: local$' "$TMP/spool/$me"
[ "$(grep -c '^Subject: ' "$TMP/spool/$me")" -eq 1 ] ||
    fail "the mbox has more than the one message"
check_no_grep 'far@remote|no-such-user' "$TMP/spool/$me"

# 8. message_size_limit: advertised in EHLO, a MAIL SIZE= over it is 552
# 5.3.4, data over it is 552 after the dot and nothing is sent; the
# session goes on and a small message goes out.
conf "$SMTPD_PORT"
printf 'message_size_limit 200\n' >>"$TMP/config"
n0=$(find "$SMTPD_DIR" -name '[0-9]*.json' | wc -l)
big=$(printf '%0300d' 0)
printf '%s\r\n' 'EHLO c' 'MAIL FROM:<env@example.org> SIZE=201' \
    'MAIL FROM:<env@example.org> SIZE=150' 'RCPT TO:<h@example.com>' \
    'DATA' 'Subject: big' '' "$big" '.' \
    'MAIL FROM:<env@example.org>' 'RCPT TO:<h@example.com>' 'DATA' \
    'Subject: small' '' 's' '.' 'QUIT' >"$TMP/in"
run_postie -C "$TMP/config" -bs <"$TMP/in"
check_rc 0
no_stderr
check_grep '^250-SIZE 200.$' "$TMP/stdout"
check_reply 7 '552 5.3.4 *'
check_reply 8 '250 2.1.0 Ok'
check_reply 10 '354 *'
check_reply 11 '552 5.3.4 *'
check_reply 15 '250 2.0.0 Ok: queued as ?*'
check_count $((n0 + 1))
check_grep '^Subject: small' "$SMTPD_DIR/$(printf '%04d' $((n0 + 1))).eml"

# 9. The server timeouts (RFC 5321 4.5.3.2; shortened for the test, see
# tests/README): a client that goes quiet while postie waits for a
# command, and one that goes quiet in the middle of DATA, get 421 4.4.2
# and the session ends with status 74, the message never sent.
n0=$(find "$SMTPD_DIR" -name '[0-9]*.json' | wc -l)
export POSTIE_TEST_BS_TIMEOUTS=1,1
mkfifo "$TMP/fifo"
# stalled FILE: postie -bs reads FILE's lines, then nothing (30 s at most:
# the writer is stopped once postie is done)
stalled() {
	{ cat "$1"; exec sleep 30; } >"$TMP/fifo" &
	writer=$!
	run_postie -C "$TMP/config" -bs <"$TMP/fifo"
	kill "$writer" 2>/dev/null || :
	wait "$writer" 2>/dev/null || :
}
printf 'EHLO c\r\n' >"$TMP/in"
stalled "$TMP/in"
check_rc 74
no_stderr
check_reply 7 '421 4.4.2 *timeout exceeded'
printf '%s\r\n' 'EHLO c' 'MAIL FROM:<env@example.org>' \
    'RCPT TO:<i@example.com>' 'DATA' 'Subject: stalled' '' >"$TMP/in"
stalled "$TMP/in"
check_rc 74
no_stderr
check_reply 9 '354 *'
check_reply 10 '421 4.4.2 *timeout exceeded'
unset POSTIE_TEST_BS_TIMEOUTS
check_count "$n0"
exit 0
