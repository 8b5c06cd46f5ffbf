#!/bin/sh
# I8: CR/LF in the envelope.  libcurl 7.88 puts CR/LF from MAIL_FROM/RCPT
# on the wire as is (command injection), so postie must refuse before
# connecting: -f/-r values and recipients (argv, -t headers, -c/-b) with
# CRLF, LF or CR exit 65 and nothing reaches the server.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

start_smtpd
write_config "$TMP/config" <<CONF
host 127.0.0.1
port $SMTPD_PORT
qualify_domain example.org
CONF
printf 'Subject: env\n\nbody\n' >"$TMP/in"
cr=$(printf '\r')
nl='
'
cmd="RCPT TO:<evil@example.net>"

n=0
expect65() {
	[ "$rc" -eq 65 ] || fail "case $n: exit $rc, expected 65"
	n=$((n + 1))
}
for brk in "$cr$nl" "$nl" "$cr"; do
	run_postie -C "$TMP/config" -f "a@example.org>${brk}$cmd" \
	    a@example.com <"$TMP/in"
	expect65
	run_postie -C "$TMP/config" -r "<a@example.org${brk}$cmd>" \
	    a@example.com <"$TMP/in"
	expect65
	run_postie -C "$TMP/config" "a@example.com>${brk}$cmd" <"$TMP/in"
	expect65
	run_postie -C "$TMP/config" a@example.com "b@example.com${brk}DATA" \
	    <"$TMP/in"
	expect65
	run_postie -C "$TMP/config" -s x -c "c@example.com${brk}$cmd" \
	    a@example.com <"$TMP/in"
	expect65
	run_postie -C "$TMP/config" -s x -b "c@example.com${brk}$cmd" \
	    a@example.com <"$TMP/in"
	expect65
	# quoted local parts may hold many things, never a line break
	run_postie -C "$TMP/config" "\"a${brk}$cmd\"@example.com" <"$TMP/in"
	expect65
done
check_count 0
[ ! -s "$(transcript)" ] || fail "postie contacted the server"

# -t: a bare CR inside To: is a line end (I4); the next line is not a
# header, so it starts the body and never reaches the envelope.
printf 'To: a@example.com\rRCPT TO:<evil@example.net>\nSubject: t\n\nx\n' \
    >"$TMP/in"
run_postie -C "$TMP/config" -t <"$TMP/in"
check_rc 0
check_count 1
[ "$(json_field 1 rcpt_tos)" = '["a@example.com"]' ] ||
    fail "rcpts $(json_field 1 rcpt_tos)"
check_no_grep 'evil' "$(transcript)"

# The same addresses without the break are sent, and the server saw one
# RCPT per recipient.
printf 'Subject: env\n\nbody\n' >"$TMP/in"
run_postie -C "$TMP/config" -f a@example.org a@example.com b@example.com \
    <"$TMP/in"
check_rc 0
check_count 2
[ "$(grep -c '^RCPT TO:' "$(transcript)")" -eq 3 ] ||
    fail "expected 3 RCPT commands"
check_no_grep 'evil' "$(transcript)"
exit 0
