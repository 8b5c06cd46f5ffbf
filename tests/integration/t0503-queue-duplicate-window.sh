#!/bin/sh
# R16: the connection drops after the final "." with no reply: the entry
# stays, marked "outcome unknown", and is resent once with the same
# Message-ID.  R15: a reset in the middle of DATA is a temporary failure:
# queued, then delivered once; L10: no death by SIGPIPE on the way.
# R18: no reply to "." in time: queued, outcome unknown.  R19: a
# receiver that stops reading: the timeout, queued.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t05lib.sh"

start_smtpd --fail 'dot=drop'
qconf "$SMTPD_PORT"
msg r16
run_postie -C "$TMP/config" a@example.com <"$TMP/in"
check_rc 0
check_grep 'queued as .*possible duplicate' "$TMP/stderr"
check_queue 1
check_count 1		# the server has it: the duplicate window
id=$(queued_id)
check_grep '^unknown 1$' "$Q/q/$id.env"
run_postie -C "$TMP/config" -bp
check_grep "^$id\\? " "$TMP/stdout"
run_postie -C "$TMP/config" -bp --json
"$PYTHON" -c 'import json, sys
v = json.load(open(sys.argv[1]))
assert len(v) == 1 and v[0]["unknown"] is True, v' "$TMP/stdout" ||
    fail "--json does not say unknown"
first=$SMTPD_DIR
start_smtpd
qconf "$SMTPD_PORT"
run_postie -C "$TMP/config" -qf
check_rc 0
check_grep 'possible duplicate' "$TMP/stderr"
check_queue 0
check_count 1
a=$(grep -i '^Message-ID:' "$first/0001.eml")
b=$(grep -i '^Message-ID:' "$SMTPD_DIR/0001.eml")
[ "$a" = "$b" ] || fail "Message-ID changed: $a / $b"

# bad_server MODE: a scripted relay that misbehaves once DATA starts:
# rst (R15) resets the connection after 64 KiB of the body, slowdot
# (R18) reads the whole message and never answers the final ".", stall
# (R19) stops reading the body.  Sets BAD_PORT.
bad_server() {
	BAD_PORT=$(free_port)
	"$PYTHON" -c 'import socket, struct, sys, time
mode = sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(4)
s.settimeout(60)
while True:
    c, _ = s.accept()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    f = c.makefile("rb")
    try:
        c.sendall(b"220 bad.test ESMTP\r\n")
    except OSError:
        continue
    while True:
        try:
            line = f.readline()
        except OSError:
            break
        if not line:
            break
        cmd = line[:4].upper()
        if cmd in (b"EHLO", b"HELO"):
            c.sendall(b"250 bad.test\r\n")
        elif cmd == b"DATA":
            c.sendall(b"354 go\r\n")
            if mode == "rst":
                f.read(65536)
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
                c.close()
                sys.exit(0)
            if mode == "slowdot":
                while f.readline() not in (b".\r\n", b""):
                    pass
            time.sleep(30)
            sys.exit(0)
        else:
            c.sendall(b"250 ok\r\n")
    c.close()' "$BAD_PORT" "$1" &
	SINK_PIDS="$SINK_PIDS $!"
	wait_port "$BAD_PORT"
}

# R15: RST after 64 KiB of a 24 MiB body.  The body is far larger than
# what the sockets can buffer (the server's receive buffer is 4 KiB,
# Linux caps a send buffer at 4 MiB by default), so the reset comes
# before the last octet left postie: "while sending", and never the
# "possible duplicate" of the window after the final dot.
rm -rf "$Q"
bad_server rst
RST_PORT=$BAD_PORT
qconf "$RST_PORT"
{
	printf 'Subject: big\nMessage-ID: <r15@postie.test>\n\n'
	i=0
	while [ $i -lt 384 ]; do
		head -c 65536 /dev/zero | tr '\0' 'x' | fold -w 64
		i=$((i + 1))
	done
} >"$TMP/in"
run_postie -C "$TMP/config" a@example.com <"$TMP/in"
check_rc 0
check_grep 'queued as .*connection lost while sending' "$TMP/stderr"
check_no_grep 'possible duplicate|after the end' "$TMP/stderr"
check_queue 1
start_smtpd
qconf "$SMTPD_PORT"
run_postie -C "$TMP/config" -qf
check_rc 0
check_queue 0
check_count 1
check_msgids "$SMTPD_DIR" 1
big=$TMP/in

# R18: no reply to the final "." within the timeout: the duplicate
# window, queued with "outcome unknown".
rm -rf "$Q"
bad_server slowdot
qconf "$BAD_PORT" "timeout 2"
msg r18
run_postie -C "$TMP/config" a@example.com <"$TMP/in"
check_rc 0
check_grep 'queued as .*possible duplicate' "$TMP/stderr"
check_queue 1
id=$(queued_id)
check_grep '^unknown 1$' "$Q/q/$id.env"

# R19: the server stops reading the body: the timeout, then queued.
rm -rf "$Q"
bad_server stall
qconf "$BAD_PORT" "timeout 2"
run_postie -C "$TMP/config" a@example.com <"$big"
check_rc 0
check_grep 'queued as ' "$TMP/stderr"
check_queue 1
exit 0
