#!/bin/sh
# D1, D3, D4 against a second, independent server: Postfix's smtp-sink.
# Its EHLO (PIPELINING, XCLIENT, DSN, a bare last "250"), a 4xx and a 5xx
# greeting, an RFC 821 server (HELO only), VRFY accepted and refused,
# HELP not known; and R3, a relay that never greets.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t05lib.sh"

config() {
	printf 'account default\nhost 127.0.0.1\nport %s\nfrom s@example.org\n' \
	    "$SINK_PORT" | write_config "$TMP/config"
}

start_sink "$TMP/sink1"
config
run_postie -C "$TMP/config" --server-info
check_rc 0
check_grep '^Greeting: 220 smtp-sink ESMTP$' "$TMP/stdout"
check_grep '^    PIPELINING$' "$TMP/stdout"
check_grep '^    DSN$' "$TMP/stdout"
check_grep '^Authentication mechanisms: PLAIN LOGIN$' "$TMP/stdout"
check_no_grep '^    $' "$TMP/stdout"
run_postie -C "$TMP/config" --verify bob@example.org
check_rc 0
check_grep '^250 ' "$TMP/stdout"
run_postie -C "$TMP/config" --server-help
check_rc 69
check_grep 'the relay does not offer HELP$' "$TMP/stderr"
[ "$(sink_count "$TMP/sink1")" -eq 0 ] || fail "a diagnostic sent mail"
stop_sinks

start_sink "$TMP/sink2" -r CONNECT	# R4
config
run_postie -C "$TMP/config" --server-info
check_rc 75
check_grep '^Greeting: 4[0-9][0-9] ' "$TMP/stdout"
check_grep 'try again later' "$TMP/stderr"
stop_sinks

start_sink "$TMP/sink3" -f CONNECT	# R5
config
run_postie -C "$TMP/config" --server-info
check_rc 69
check_grep 'server refused the connection: 5[0-9][0-9] ' "$TMP/stderr"
stop_sinks

start_sink "$TMP/sink4" -e -f VRFY	# R21: HELO only
config
run_postie -C "$TMP/config" --server-info
check_rc 0
check_grep '^Capabilities: none \(EHLO refused, HELO accepted' "$TMP/stdout"
run_postie -C "$TMP/config" --verify bob@example.org
check_rc 69
check_grep '^5[0-9][0-9] ' "$TMP/stdout"
stop_sinks

# R3: a relay that accepts and never greets: 75 within the timeout.
start_mute
SINK_PORT=$MUTE_PORT
config
printf 'timeout 2\n' >>"$TMP/config"
run_postie -C "$TMP/config" --server-info
check_rc 75
check_grep 'sent no greeting in time' "$TMP/stderr"
stop_sinks
exit 0
