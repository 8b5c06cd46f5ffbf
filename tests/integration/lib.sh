# Sourced by every integration test: a private temporary directory, the
# test SMTP server (smtpd.py), certificates, running postie, assertions.
# Tests get $POSTIE and $POSTIE_SRCDIR from tests/Makefile.am; exit 77
# means "skipped" (automake), turned into a failure by POSTIE_REQUIRE_SINK=1.

set -eu

: "${POSTIE:?POSTIE must name the postie binary}"
: "${POSTIE_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
PYTHON=/usr/bin/python3

# Sanitizer builds: libfaketime's LD_PRELOAD comes before the ASan runtime,
# which is fine here; and LeakSanitizer cannot work under ptrace, so runs
# under strace leave leak checking to the untraced runs.  (Later entries
# of ASAN_OPTIONS win.)
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
export ASAN_OPTIONS
strace() {
	ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" command strace "$@"
}
SMTPD="$POSTIE_SRCDIR/tests/integration/smtpd.py"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/postie-test.XXXXXX")
SMTPD_PIDS=""

cleanup() {
	for p in $SMTPD_PIDS; do
		kill "$p" 2>/dev/null || :
		wait "$p" 2>/dev/null || :
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "FAIL: $*" >&2
	if [ -f "$TMP/stderr" ]; then
		echo "--- postie stderr:" >&2
		cat "$TMP/stderr" >&2
	fi
	if [ -n "${SMTPD_DIR:-}" ] && [ -f "$SMTPD_DIR/transcript.log" ]; then
		echo "--- server transcript:" >&2
		cat "$SMTPD_DIR/transcript.log" >&2
	fi
	exit 1
}

skip() {
	if [ "${POSTIE_REQUIRE_SINK:-0}" = 1 ]; then
		echo "FAIL (POSTIE_REQUIRE_SINK=1): $*" >&2
		exit 1
	fi
	echo "SKIP: $*" >&2
	exit 77
}

"$PYTHON" -c 'import aiosmtpd' 2>/dev/null ||
    skip "$PYTHON cannot import aiosmtpd (apt-get install python3-aiosmtpd)"

# start_smtpd [smtpd.py options...]: start a server, wait for its port.
# Sets SMTPD_PORT, SMTPD_DIR and SMTPD_PID; the server dies on exit.
# A second call starts a second server (and overwrites the variables).
start_smtpd() {
	n=$(( $(echo $SMTPD_PIDS | wc -w) + 1 ))
	SMTPD_DIR="$TMP/smtpd$n"
	mkdir "$SMTPD_DIR"
	"$PYTHON" "$SMTPD" --port-file "$SMTPD_DIR/port" --dir "$SMTPD_DIR" \
	    --lifetime 120 "$@" >"$SMTPD_DIR/log" 2>&1 &
	SMTPD_PID=$!
	SMTPD_PIDS="$SMTPD_PIDS $SMTPD_PID"
	i=0
	while [ ! -s "$SMTPD_DIR/port" ]; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$SMTPD_PID" 2>/dev/null; then
			cat "$SMTPD_DIR/log" >&2
			skip "the test SMTP server did not start"
		fi
		sleep 0.1
	done
	SMTPD_PORT=$(cat "$SMTPD_DIR/port")
	export SMTPD_PORT SMTPD_DIR
}

# free_port: a port nobody listens on (bound to port 0, then closed).
free_port() {
	"$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# make_certs: in $TMP/certs, a CA (ca.pem) and, signed by it, server.pem/
# server.key for 127.0.0.1 and localhost, wrong.pem/wrong.key for
# wrong.test only; self.pem/self.key self-signed for 127.0.0.1 (untrusted).
make_certs() {
	C="$TMP/certs"
	mkdir -p "$C"
	(
	cd "$C"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=postie test CA" \
	    -keyout ca.key -out ca.pem 2>/dev/null
	for name in server wrong; do
		if [ $name = server ]; then
			san="subjectAltName=IP:127.0.0.1,DNS:localhost"
			cn=localhost
		else
			san="subjectAltName=DNS:wrong.test"
			cn=wrong.test
		fi
		openssl req -newkey rsa:2048 -nodes -subj "/CN=$cn" \
		    -keyout $name.key -out $name.csr 2>/dev/null
		printf '%s\n' "$san" >$name.ext
		openssl x509 -req -in $name.csr -CA ca.pem -CAkey ca.key \
		    -CAcreateserial -days 2 -extfile $name.ext \
		    -out $name.pem 2>/dev/null
	done
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
	    -addext "subjectAltName=IP:127.0.0.1" \
	    -keyout self.key -out self.pem 2>/dev/null
	) || fail "cannot make test certificates with openssl"
}

# write_config FILE <<EOF ... EOF: the config, mode 0600 (it may hold a
# password, and postie refuses such a file when others can read it).
write_config() {
	# Every test's queue lives in $TMP: never the real spool.
	{ printf 'defaults\nqueue_dir %s/queue\n' "$TMP"; cat; } >"$1"
	chmod 600 "$1"
}

# run_postie ARGS... [<input]: run postie; sets $rc, leaves $TMP/stdout
# and $TMP/stderr.  Never fails by itself.
# With POSTIE_VALGRIND=1 every run is under valgrind: a memory error or a
# leak makes the run exit 99 (never an expected code), and the report is
# left in $TMP/valgrind.PID for fail() to show.
run_postie() {
	set +e
	if [ "${POSTIE_VALGRIND:-0}" = 1 ]; then
		POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" valgrind -q \
		    --error-exitcode=99 --leak-check=full \
		    --errors-for-leak-kinds=definite,indirect \
		    --child-silent-after-fork=yes \
		    --log-file="$TMP/valgrind.%p" "$POSTIE" "$@" \
		    >"$TMP/stdout" 2>"$TMP/stderr"
		rc=$?
		[ "$rc" -eq 99 ] && cat "$TMP"/valgrind.* >>"$TMP/stderr"
	else
		POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" "$POSTIE" "$@" \
		    >"$TMP/stdout" 2>"$TMP/stderr"
		rc=$?
	fi
	set -e
}

check_rc() {
	[ "$rc" -eq "$1" ] || fail "exit code $rc, expected $1"
}

# check_grep PATTERN FILE: an extended regex must match.
check_grep() {
	grep -Eq -- "$1" "$2" || fail "'$1' not found in $2"
}

check_no_grep() {
	if grep -Eq -- "$1" "$2"; then
		fail "'$1' unexpectedly found in $2"
	fi
}

# check_fixed_absent STRING FILE: a literal string must not occur.
check_fixed_absent() {
	if grep -Fq -- "$1" "$2"; then
		fail "'$1' unexpectedly found in $2"
	fi
}

# faketime_postie OFFSET ARGS... [<input]: postie under libfaketime, bounded
# in time; sets $rc.  libfaketime can deadlock inside an AddressSanitizer
# binary at start-up (both interpose the clock and the allocator): such a
# test is skipped there (the plain and valgrind runs keep it), never hung.
faketime_postie() {
	off=$1
	shift
	set +e
	POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" timeout 60 faketime -f "$off" \
	    "$POSTIE" "$@" >"$TMP/stdout" 2>"$TMP/stderr"
	rc=$?
	set -e
	if [ "$rc" -eq 124 ] && grep -q __asan_init "$POSTIE" 2>/dev/null; then
		skip "libfaketime deadlocked inside the ASan build"
	fi
	[ "$rc" -ne 124 ] || fail "postie under faketime did not finish in 60 s"
}

# check_count N: the server recorded N messages.
check_count() {
	got=$(find "$SMTPD_DIR" -name '[0-9]*.json' | wc -l)
	[ "$got" -eq "$1" ] || fail "server received $got messages, expected $1"
}

# json_field N FIELD: a field of message N's envelope, as JSON.
json_field() {
	"$PYTHON" -c 'import json, sys
print(json.dumps(json.load(open(sys.argv[1]))[sys.argv[2]]))' \
	    "$SMTPD_DIR/$(printf %04d "$1").json" "$2"
}

# transcript: the server's command log (empty when nobody connected).
transcript() {
	if [ -f "$SMTPD_DIR/transcript.log" ]; then
		echo "$SMTPD_DIR/transcript.log"
	else
		: >"$SMTPD_DIR/transcript.log"
		echo "$SMTPD_DIR/transcript.log"
	fi
}
