#!/bin/sh
# What reaches the server: -t with Bcc (Bcc gets it, the header is gone),
# dots with and without -i, bare LF / CR / mixed input arriving as CRLF,
# SMTP smuggling shapes arriving as data, a 5000-octet line never sent raw,
# an empty message, NUL bytes not truncated, a leading continuation line
# named as the problem, Return-Path removed.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

start_smtpd
write_config "$TMP/config" <<EOF
host 127.0.0.1
port $SMTPD_PORT
qualify_domain example.org
EOF
eml() { printf '%s/%04d.eml' "$SMTPD_DIR" "$1"; }
# body N: the received body of message N, CRLF kept, into $TMP/body.
body() {
	"$PYTHON" -c 'import sys
d = open(sys.argv[1], "rb").read()
sys.stdout.buffer.write(d.split(b"\r\n\r\n", 1)[1])' "$(eml "$1")" >"$TMP/body"
}
# wire N: every line of message N ends in CRLF and none exceeds 998.
wire() {
	"$PYTHON" -c 'import sys
d = open(sys.argv[1], "rb").read()
assert d.endswith(b"\r\n"), "no final CRLF"
for l in d.split(b"\r\n")[:-1]:
    assert b"\n" not in l and b"\r" not in l, "bare CR or LF: %r" % l[:40]
    assert len(l) <= 998, "line of %d octets" % len(l)' "$(eml "$1")" ||
	    fail "message $1 is not in wire form"
}

# 1: -t with Bcc (I12)
printf 'To: a@example.com\nBcc: secret@example.com\nSubject: t\n\nx\n' >"$TMP/in"
run_postie -C "$TMP/config" -t <"$TMP/in"
check_rc 0
check_count 1
[ "$(json_field 1 rcpt_tos)" = '["a@example.com", "secret@example.com"]' ] ||
    fail "Bcc recipient missing from the envelope: $(json_field 1 rcpt_tos)"
check_no_grep '^Bcc:|secret' "$(eml 1)"
wire 1

# 2, 3: a lone dot without and with -i
printf 'Subject: d\n\nbefore\n.\nafter\n' >"$TMP/in"
run_postie -C "$TMP/config" a@example.com <"$TMP/in"
check_rc 0
body 2
printf 'before\r\n' | cmp -s - "$TMP/body" || fail "dot did not end the message"
printf 'Subject: d\n\nbefore\n.\n..two\nafter\n' >"$TMP/in"
run_postie -C "$TMP/config" -i a@example.com <"$TMP/in"
check_rc 0
body 3
printf 'before\r\n.\r\n..two\r\nafter\r\n' | cmp -s - "$TMP/body" ||
    fail "with -i the dot lines must arrive as data"

# 4: bare LF, bare CR, mixed, and smuggling shapes (I4)
printf 'Subject: e\n\nlf\ncr\rcrlf\r\nx\n.\ny\r.\rz\n.\r\nMAIL FROM:<evil@example.com>\n' >"$TMP/in"
run_postie -C "$TMP/config" -i a@example.com <"$TMP/in"
check_rc 0
check_count 4
body 4
printf 'lf\r\ncr\r\ncrlf\r\nx\r\n.\r\ny\r\n.\r\nz\r\n.\r\nMAIL FROM:<evil@example.com>\r\n' |
    cmp -s - "$TMP/body" || fail "line endings not normalised, or data ended early"
wire 4
[ "$(json_field 4 rcpt_tos)" = '["a@example.com"]' ] || fail "smuggled envelope"

# 5: a 5000-octet line is re-encoded, and decodes to the original (I3)
"$PYTHON" -c 'print("Subject: long\n\nstart\n" + "0123456789" * 500 + "\nend")' \
    >"$TMP/long"
run_postie -C "$TMP/config" a@example.com <"$TMP/long"
check_rc 0
wire 5
"$PYTHON" -c 'import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"),
    policy=email.policy.default)
assert m["Content-Transfer-Encoding"] == "quoted-printable"
assert not m.defects, m.defects
body = m.get_content()
want = "start\n" + "0123456789" * 500 + "\nend\n"
assert body == want, (len(body), len(want))' "$(eml 5)" ||
    fail "long line not re-encoded correctly"

# 6: an empty message still gets From, Date and Message-ID (I1)
run_postie -C "$TMP/config" a@example.com </dev/null
check_rc 0
check_grep '^From: ' "$(eml 6)"
check_grep '^Date: ' "$(eml 6)"
check_grep '^Message-ID: <' "$(eml 6)"
wire 6

# 7: a NUL in the body is encoded, not truncated (I2)
printf 'Subject: nul\n\nbefore\000after\n' >"$TMP/in"
run_postie -C "$TMP/config" a@example.com <"$TMP/in"
check_rc 0
check_grep '^before=00after' "$(eml 7)"

# 8: a NUL in a header is refused, nothing sent
printf 'Subject: a\000b\n\nx\n' >"$TMP/in"
run_postie -C "$TMP/config" a@example.com <"$TMP/in"
check_rc 65
check_count 7

# 9: -t and a header block whose line 1 is a continuation: the error
# names line 1, not "To, Cc and Bcc are empty"; nothing sent
printf ' From: a@example.com\nTo: b@example.com\nSubject: s\n\nx\n' >"$TMP/in"
run_postie -C "$TMP/config" -t <"$TMP/in"
check_rc 65
check_grep 'line 1 of the message starts with white space' "$TMP/stderr"
check_no_grep 'are empty' "$TMP/stderr"
check_count 7

# 10: a Return-Path in the input never reaches the relay (RFC 5321 4.4)
printf 'Return-Path: <forged@example.net>\nSubject: rp\nreturn-path: <x@y>\n\nx\n' >"$TMP/in"
run_postie -C "$TMP/config" a@example.com <"$TMP/in"
check_rc 0
check_count 8
check_grep '^Subject: rp' "$(eml 8)"
if grep -qi '^return-path:' "$(eml 8)"; then
	fail "a Return-Path header reached the relay"
fi
exit 0
