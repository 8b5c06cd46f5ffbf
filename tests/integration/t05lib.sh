# Sourced by the queue tests (t05xx) after lib.sh: a private queue
# directory ($Q, never the real spool), a config writer and checks of the
# queue, tmp/ and what the servers received.

Q="$TMP/queue"
SINK_PIDS=""
SINK_DIRS=""

# qconf PORT [EXTRA_LINES]: the test config; short timeouts, the queue,
# the log file and local mailboxes all under $TMP.
qconf() {
	write_config "$TMP/config" <<CONF
account default
host 127.0.0.1
port $1
from sender@example.org
timeout 5
queue_dir $Q
logfile $TMP/log
local_spool $TMP/mail
${2:-}
CONF
	mkdir -p "$TMP/mail"
}

msg() {
	printf 'Subject: %s\nMessage-ID: <%s@postie.test>\n\nbody of %s\n' \
	    "$1" "$1" "$1" >"$TMP/in"
}

# qcount: published entries in the queue.
qcount() {
	if [ -d "$Q/q" ]; then
		find "$Q/q" -name '*.env' | wc -l
	else
		echo 0
	fi
}

# check_queue N: N entries, every .env with its .msg, nothing in tmp/.
check_queue() {
	got=$(qcount)
	[ "$got" -eq "$1" ] || fail "queue holds $got entries, expected $1"
	if [ -d "$Q/q" ]; then
		m=$(find "$Q/q" -name '*.msg' | wc -l)
		[ "$m" -eq "$1" ] || fail "queue holds $m .msg files, expected $1"
	fi
	if [ -d "$Q/tmp" ]; then
		t=$(find "$Q/tmp" -type f | wc -l)
		[ "$t" -eq 0 ] || fail "tmp/ holds $t files: $(ls "$Q/tmp")"
	fi
}

# queued_id: the id from "postie: queued as ID: reason" on stderr.
queued_id() {
	sed -n 's/^postie: queued as \([A-Za-z0-9._-]*\): .*/\1/p' "$TMP/stderr"
}

# check_msgids DIR N: N messages in the server's records, each
# Message-ID exactly once.
check_msgids() {
	all=$(cat "$1"/*.eml 2>/dev/null | grep -i '^Message-ID:' | wc -l)
	uniq=$(cat "$1"/*.eml 2>/dev/null | grep -i '^Message-ID:' |
	    sort -u | wc -l)
	[ "$all" -eq "$2" ] || fail "server got $all messages, expected $2"
	[ "$uniq" -eq "$all" ] || fail "duplicate Message-IDs: $all, $uniq unique"
}

# start_sink DIR FLAGS...: Postfix smtp-sink on a free port, dumping
# each message into DIR (-d); sets SINK_PORT.  Skips when not installed.
start_sink() {
	[ -x /usr/sbin/smtp-sink ] || skip "smtp-sink not installed (apt-get install postfix)"
	sdir=$1
	shift
	mkdir -p "$sdir"
	chmod 777 "$sdir"
	SINK_PORT=$(free_port)
	if [ "$(id -u)" -eq 0 ]; then
		# smtp-sink drops to nobody, who must reach the dump directory
		chmod 711 "$TMP"
		set -- -u nobody "$@"
	fi
	/usr/sbin/smtp-sink "$@" -d "$sdir/%H%M%S." "127.0.0.1:$SINK_PORT" 64 \
	    >"$sdir.log" 2>&1 &
	SINK_PIDS="$SINK_PIDS $!"
	i=0
	until "$PYTHON" -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' \
	    "$SINK_PORT" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 50 ] || skip "smtp-sink did not start: $(cat "$sdir.log")"
		sleep 0.1
	done
}

# sink_count DIR: messages smtp-sink dumped.
sink_count() {
	find "$1" -type f | wc -l
}

# check_sink_msgids DIR N: as check_msgids for smtp-sink dumps.
check_sink_msgids() {
	all=$(cat "$1"/* 2>/dev/null | grep -i '^Message-ID:' | wc -l)
	uniq=$(cat "$1"/* 2>/dev/null | grep -i '^Message-ID:' | sort -u |
	    wc -l)
	[ "$all" -eq "$2" ] || fail "smtp-sink got $all messages, expected $2"
	[ "$uniq" -eq "$all" ] || fail "duplicate Message-IDs: $all, $uniq unique"
}

stop_sinks() {
	for p in $SINK_PIDS; do
		kill "$p" 2>/dev/null || :
		wait "$p" 2>/dev/null || :
	done
	SINK_PIDS=""
}

# A server that accepts connections and never says a word (R3).
start_mute() {
	MUTE_PORT=$(free_port)
	"$PYTHON" -c 'import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
conns = []
end = time.time() + 60
while time.time() < end:
    s.settimeout(1)
    try:
        conns.append(s.accept()[0])
    except OSError:
        pass' "$MUTE_PORT" &
	SINK_PIDS="$SINK_PIDS $!"
	wait_port "$MUTE_PORT"
}

# wait_port PORT: until something listens there (5 s at most).
wait_port() {
	i=0
	until "$PYTHON" -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' \
	    "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 50 ] || fail "nothing listens on port $1"
		sleep 0.1
	done
}

trap 'stop_sinks; cleanup' EXIT
