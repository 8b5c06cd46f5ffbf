#!/bin/sh
# I7: header injection through every command-line value that reaches a
# header, in sendmail mode (-F, -f/-r display names) and compose mode
# (-s, --header, --reply-to, -c, -b, attachment names and types), each with
# CRLF, LF and a bare CR: exit 65, and the server is never even contacted
# (no extra header, no extra RCPT can exist).  Then the same values
# without the line break go out as one header each.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

start_smtpd
write_config "$TMP/config" <<CONF
host 127.0.0.1
port $SMTPD_PORT
qualify_domain example.org
CONF
printf 'Subject: raw\n\nbody\n' >"$TMP/in"
printf 'x\n' >"$TMP/file.txt"
cr=$(printf '\r')
nl='
'
inj="Bcc: victim@example.net"

tried=0
# attempt OPTION VALUE: must be refused with 65 (the recipient comes last).
attempt() {
	run_postie -C "$TMP/config" "$1" "$2" a@example.com <"$TMP/in"
	[ "$rc" -eq 65 ] || fail "$1 '$2': exit $rc, expected 65"
	tried=$((tried + 1))
}
for brk in "$cr$nl" "$nl" "$cr"; do
	attempt -F "Jane${brk}$inj"
	attempt -f "Jane${brk}$inj <jane@example.org>"
	attempt -r "Jane${brk}$inj <jane@example.org>"
	attempt -f "jane@example.org${brk}$inj"
	attempt -s "subject${brk}$inj"
	attempt --header "X-Tag: 1${brk}$inj"
	attempt --reply-to "r@example.org${brk}$inj"
	attempt --reply-to "Name${brk}$inj <r@example.org>"
	attempt -c "c@example.org${brk}$inj"
	attempt -c "Name${brk}$inj <c@example.org>"
	attempt -b "b@example.org${brk}$inj"
	attempt -a "$TMP/file.txt;name=x${brk}$inj"
	attempt -a "$TMP/file.txt;type=text/plain${brk}$inj"
	printf 'y\n' >"$TMP/evil${brk}$inj"
	attempt -a "$TMP/evil${brk}$inj"
	# compose and sendmail display names together
	run_postie -C "$TMP/config" -s ok -F "J${brk}$inj" a@example.com \
	    <"$TMP/in"
	check_rc 65
done
[ $tried -eq 42 ] || fail "only $tried attempts ran"
check_count 0
[ ! -s "$(transcript)" ] || fail "postie contacted the server"

# Without the line breaks each value is one header and nothing more.
run_postie -C "$TMP/config" -F 'Jane Bcc: x' -f 'Jane Bcc: <jane@example.org>' \
    a@example.com <"$TMP/in"
check_rc 0
run_postie -C "$TMP/config" -s 'Bcc: victim@example.net' \
    --header 'X-Tag: Bcc: victim@example.net' \
    --reply-to 'r@example.org' -c c@example.org \
    -a "$TMP/file.txt;name=Bcc: victim@example.net" a@example.com <"$TMP/in"
check_rc 0
check_count 2
for i in 1 2; do
	eml=$(printf '%s/%04d.eml' "$SMTPD_DIR" $i)
	check_no_grep '^Bcc:' "$eml"
	check_no_grep 'victim' "$(transcript)"
done
[ "$(json_field 1 rcpt_tos)" = '["a@example.com"]' ] ||
    fail "rcpts $(json_field 1 rcpt_tos)"
[ "$(json_field 2 rcpt_tos)" = '["a@example.com", "c@example.org"]' ] ||
    fail "rcpts $(json_field 2 rcpt_tos)"
check_grep '^Subject: Bcc: victim@example.net.$' \
    "$(printf '%s/%04d.eml' "$SMTPD_DIR" 2)"
exit 0
