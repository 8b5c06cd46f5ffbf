#!/bin/sh
# --json (issue 11 part 4): one object on stdout for a send and for a
# flush, with the queue id, the account and relay, the relay's queue id,
# and per recipient its address, status, SMTP code, enhanced code and
# text; a set-up failure says its class, step and the fix.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t05lib.sh"

jq_py() {	# jq_py EXPR: evaluate EXPR on the JSON in $TMP/stdout
	"$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$TMP/stdout" "$1"
}
want() {	# want EXPR VALUE
	got=$(jq_py "$1") || fail "bad JSON: $(cat "$TMP/stdout")"
	[ "$got" = "$2" ] || fail "$1 is '$got', expected '$2'"
}

start_smtpd --fail 'rcpt:b@example.com=550 5.1.1 no such user'
qconf "$SMTPD_PORT"
msg j1
run_postie --json -C "$TMP/config" a@example.com b@example.com <"$TMP/in"
check_rc 0
want 'd["status"]' partial
want 'd["account"]' default
want 'd["relay"]' "127.0.0.1:$SMTPD_PORT"
want 'd["server_id"]' SINK0001
want 'd["queue_id"]' None
want '[r["address"] for r in d["recipients"]]' "['a@example.com', 'b@example.com']"
want '[r["status"] for r in d["recipients"]]' "['delivered', 'refused']"
want 'd["recipients"][1]["code"]' 550
want 'd["recipients"][1]["enhanced"]' 5.1.1
want '"no such user" in d["recipients"][1]["text"]' True
want 'd["error"]' None
check_count 1
kill "$SMTPD_PID"

# A set-up failure: held, its class and step, the hint; exit 77.
start_smtpd --auth jane:right --no-auth-require-tls
qconf "$SMTPD_PORT" "auth plain
user jane
password wrong
auth_cleartext on"
msg j2
run_postie --json -C "$TMP/config" a@example.com <"$TMP/in"
check_rc 77
want 'd["status"]' held
want 'd["recipients"][0]["status"]' held
want 'd["failure"]["class"]' setup
want 'd["failure"]["step"]' auth
want 'd["failure"]["exit"]' 77
want '"password" in d["failure"]["hint"]' True
want 'd["error"].startswith("NOT SENT: ")' True
id=$(jq_py 'd["queue_id"]')
[ -f "$Q/q/$id.env" ] || fail "held entry $id not in the queue"
check_queue 1

# The flush: counts and the entries left.
run_postie --json -C "$TMP/config" -q --due
check_rc 0
want 'd["sent"]' 0
want 'd["held"]' 1
want 'd["entries"][0]["held_by"]' setup
want 'd["entries"][0]["id"]' "$id"
kill "$SMTPD_PID"
exit 0
