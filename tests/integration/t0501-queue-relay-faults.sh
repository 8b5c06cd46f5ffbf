#!/bin/sh
# The relay faults of the matrix, with queueing on (the default):
# temporary ones are queued with exit 0 (R3 R4 R6 R8 R12); set-up faults
# (T3 STARTTLS missing, T6 AUTH 535) are kept held with their specific
# code, a NOT SENT line and the fix (issue 11 part 1); permanent ones exit
# with the contract's code and keep nothing (R5 R7 R9 R13).  Every kept
# message is then delivered exactly once by a flush against a healthy
# server; the timer's -q --due never retries a held one.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t05lib.sh"

n=0
# case EXPECTED_RC QUEUED EXTRA_CONFIG -- smtpd options...
# (QUEUED 2: kept and held)
case_run() {
	want=$1 queued=$2 extra=$3
	shift 3
	n=$((n + 1))
	rm -rf "$Q"
	start_smtpd "$@"
	qconf "$SMTPD_PORT" "$extra"
	msg "case$n"
	run_postie -C "$TMP/config" a@example.com <"$TMP/in"
	check_rc "$want"
	check_queue "$((queued > 0))"
	if [ "$queued" -eq 2 ]; then
		check_grep '^postie: NOT SENT: .*The message is kept in the queue as [A-Za-z0-9._-]+, held until the configuration is fixed: .*; then send it with .postie -q.$' "$TMP/stderr"
		check_no_grep 'queued as' "$TMP/stderr"
		check_grep '^held 2$' "$Q"/q/*.env
		check_grep 'outcome=held' "$TMP/log"
	elif [ "$queued" -eq 1 ]; then
		check_grep '^postie: queued as ' "$TMP/stderr"
	else
		check_no_grep 'queued as' "$TMP/stderr"
	fi
	check_count 0
	kill "$SMTPD_PID"
}

case_run 0 1 "" --fail 'greeting=421 4.3.2 busy'		# R4
check_grep 'server refused the connection: 421' "$TMP/stderr"
case_run 69 0 "" --fail 'greeting=554 5.3.2 go away'		# R5
check_grep '554 5.3.2 go away' "$TMP/stderr"
case_run 0 1 "" --fail 'mail=451 4.3.0 try later'		# R6
case_run 69 0 "" --fail 'mail=550 5.7.1 no'			# R7
case_run 0 1 "" --fail 'rcpt:a@example.com=450 4.2.1 later'	# R8
case_run 67 0 "" --fail 'rcpt:a@example.com=550 5.1.1 unknown'	# R9
case_run 0 1 "" --fail 'dot=451 4.3.0 later'			# R12
case_run 69 0 "" --fail 'dot=554 5.7.1 spam'			# R13
# T3: TLS required, the server offers no STARTTLS: nothing in clear.
case_run 69 2 "tls on"
check_grep 'STARTTLS not offered' "$TMP/stderr"
check_grep 'use its TLS port \(465, with tls_starttls off\)' "$TMP/stderr"
check_no_grep '^MAIL' "$(transcript)"
# T6: AUTH refused with 535: held, never retried on the schedule (a
# lock-out risk); the password is never printed or logged.
case_run 77 2 "auth plain
user jane
password s3cret-pw
auth_cleartext on" --auth jane:other --no-auth-require-tls \
    --fail 'auth=535 5.7.8 bad credentials'
check_grep 'authentication failed' "$TMP/stderr"
check_grep "check 'user' and 'password'" "$TMP/stderr"
check_fixed_absent 's3cret-pw' "$TMP/stderr"
check_fixed_absent 's3cret-pw' "$TMP/log"
check_fixed_absent "$(printf 'jane\000s3cret-pw' | base64)" "$TMP/log"
check_grep 'user="jane"' "$TMP/log"
# The log line says what the caller heard: the 535 and exit 77.
check_grep 'smtpstatus=535 .*outcome=held exitcode=EX_NOPERM$' "$TMP/log"
run_postie -C "$TMP/config" -bp
check_grep '!.* held=setup attempts=1 \(.*authentication failed' "$TMP/stdout"
# The timer's form leaves it alone, even when due.
sed -i 's/^next .*/next 0/' "$Q"/q/*.env
start_smtpd --auth jane:s3cret-pw --no-auth-require-tls
qconf "$SMTPD_PORT" "auth plain
user jane
password s3cret-pw
auth_cleartext on"
run_postie -C "$TMP/config" -q --due
check_rc 0
check_queue 1
check_count 0
# The password is fixed: postie -q sends it.
run_postie -C "$TMP/config" -q
check_rc 0
check_queue 0
check_count 1
check_msgids "$SMTPD_DIR" 1

# R3: accepts, never greets: the timeout, then queued.
rm -rf "$Q"
start_mute
qconf "$MUTE_PORT" "timeout 1"
msg mute
run_postie -C "$TMP/config" a@example.com <"$TMP/in"
check_rc 0
check_queue 1
check_grep 'queued as' "$TMP/stderr"

# STARTTLS against port 465 (smtps): the server waits for a TLS hello,
# postie for a greeting: a wrong TLS mode for the port (issue 11 part 1),
# held with the fix, not retried for days.  Port 465 needs root.
if "$PYTHON" -c 'import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 465))' 2>/dev/null; then
	rm -rf "$Q"
	"$PYTHON" -c 'import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 465))
s.listen(8)
conns = []
end = time.time() + 30
while time.time() < end:
    s.settimeout(1)
    try:
        conns.append(s.accept()[0])
    except OSError:
        pass' &
	SINK_PIDS="$SINK_PIDS $!"
	wait_port 465
	qconf 465 "timeout 1
tls on
tls_starttls on"
	msg smtps
	run_postie -C "$TMP/config" a@example.com <"$TMP/in"
	check_rc 69
	check_queue 1
	check_grep '^postie: NOT SENT: .*port 465 expects TLS from the start, not STARTTLS.*held until the configuration is fixed: port 465 speaks TLS from the start: set tls on and tls_starttls off; then send it' "$TMP/stderr"
	check_grep '^held 2$' "$Q"/q/*.env
else
	echo "port 465 cannot be bound here: its case is skipped" >&2
fi

# R12 again, end to end: queued after 451 on ".", delivered once later.
rm -rf "$Q"
start_smtpd --fail 'dot=451 4.3.0 later'
qconf "$SMTPD_PORT"
msg r12
run_postie -C "$TMP/config" a@example.com b@example.com <"$TMP/in"
check_rc 0
check_queue 1
id=$(queued_id)
check_grep '^rcpt T a@example.com$' "$Q/q/$id.env"
start_smtpd
qconf "$SMTPD_PORT"
run_postie -C "$TMP/config" -qf
check_rc 0
check_count 1
check_queue 0
[ "$(json_field 1 rcpt_tos)" = '["a@example.com", "b@example.com"]' ] ||
    fail "rcpts $(json_field 1 rcpt_tos)"
check_grep '<r12@postie.test>' "$SMTPD_DIR/0001.eml"
exit 0
