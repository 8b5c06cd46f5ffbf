#!/bin/sh
# I4 and SMTP smuggling, systematically: every end-of-data look-alike
# (\n.\n \r.\r \n.\r\n \r\n.\n \r.\n \n.\r \r\n.\r\n) inside a body.  With -i
# each arrives as data: one message, one envelope, the exact normalised
# bytes (every line ending CRLF, the dot line stuffed on the wire and
# unstuffed by the server).  Without -i a lone dot ends the input as
# sendmail does: the rest is dropped, never sent as commands.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

start_smtpd
write_config "$TMP/config" <<CONF
host 127.0.0.1
port $SMTPD_PORT
qualify_domain example.org
CONF
# body N: the received body of message N, CRLF kept, into $TMP/body.
body() {
	"$PYTHON" -c 'import sys
d = open(sys.argv[1], "rb").read()
sys.stdout.buffer.write(d.split(b"\r\n\r\n", 1)[1])' \
	    "$(printf '%s/%04d.eml' "$SMTPD_DIR" "$1")" >"$TMP/body"
}

n=0
for shape in '\n.\n' '\r.\r' '\n.\r\n' '\r\n.\n' '\r.\n' '\n.\r' \
    '\r\n.\r\n'; do
	printf "Subject: s\n\nfirst${shape}MAIL FROM:<evil@example.net>\r\nRCPT TO:<evil@example.net>\nDATA\r\nlast\n" \
	    >"$TMP/in"
	# With -i: data.
	run_postie -C "$TMP/config" -i a@example.com <"$TMP/in"
	check_rc 0
	n=$((n + 1))
	check_count $n
	body $n
	printf 'first\r\n.\r\nMAIL FROM:<evil@example.net>\r\nRCPT TO:<evil@example.net>\r\nDATA\r\nlast\r\n' |
	    cmp -s - "$TMP/body" || fail "shape $shape with -i: body differs"
	[ "$(json_field $n rcpt_tos)" = '["a@example.com"]' ] ||
	    fail "shape $shape: rcpts $(json_field $n rcpt_tos)"
	[ "$(json_field $n mail_from)" != '"evil@example.net"' ] ||
	    fail "shape $shape: smuggled sender"

	# Without -i: the dot line ends the input; the rest is never sent.
	run_postie -C "$TMP/config" a@example.com <"$TMP/in"
	check_rc 0
	n=$((n + 1))
	check_count $n
	body $n
	printf 'first\r\n' | cmp -s - "$TMP/body" ||
	    fail "shape $shape without -i: body differs"
done
# One transaction per run; the data never became commands.
[ "$(grep -c '^MAIL FROM:' "$(transcript)")" -eq $n ] ||
    fail "$(grep -c '^MAIL FROM:' "$(transcript)") MAIL commands for $n runs"
check_no_grep 'evil' "$(transcript)"
check_no_grep '^RCPT TO:<[^a]' "$(transcript)"

# Dots that start longer lines stay data, with and without -i.
printf 'Subject: s\n\n.MAIL FROM:<evil@example.net>\n..\n. \n' >"$TMP/in"
for i in '' -i; do
	run_postie -C "$TMP/config" $i a@example.com <"$TMP/in"
	check_rc 0
	n=$((n + 1))
	body $n
	printf '.MAIL FROM:<evil@example.net>\r\n..\r\n. \r\n' |
	    cmp -s - "$TMP/body" || fail "leading dots not kept as data ($i)"
done
check_no_grep 'evil' "$(transcript)"
exit 0
