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

# A flush's attempts (issue 11 part 4): per entry tried, per recipient
# tried, what the relay said; a reply's control characters escaped.
rm -rf "$Q"
tmpwhy=$(printf 'rcpt:tmp@example.com=451 4.2.0 later \033[2J')
start_smtpd --fail 'rcpt:bad@example.com=550 5.1.1 user unknown' \
    --fail "$tmpwhy"
qconf "$SMTPD_PORT"
msg j3
run_postie -odq -C "$TMP/config" bob@example.com bad@example.com \
    tmp@example.com <"$TMP/in"
check_rc 0
id=$(queued_id)
[ -n "$id" ] || fail "no queue id: $(cat "$TMP/stderr")"
run_postie --json -C "$TMP/config" -q
check_rc 0
# one object (json.load refuses anything after it) and a newline
[ "$(tail -c 1 "$TMP/stdout" | od -An -c | tr -d ' ')" = '\n' ] ||
    fail "no newline at the end: $(cat "$TMP/stdout")"
if grep -q "$(printf '\033')" "$TMP/stdout"; then
	fail "a raw ESC in the JSON"
fi
want 'd["sent"]' 0
want 'd["partial"]' 1
want 'd["queued"]' 1
want 'd["entries"][0]["id"]' "$id"
want 'len(d["attempts"])' 1
want 'd["attempts"][0]["queue_id"]' "$id"
want 'd["attempts"][0]["status"]' queued
want 'd["attempts"][0]["account"]' default
want 'd["attempts"][0]["relay"]' "127.0.0.1:$SMTPD_PORT"
want 'd["attempts"][0]["sender"]' sender@example.org
want '[r["address"] for r in d["attempts"][0]["recipients"]]' \
    "['bob@example.com', 'bad@example.com', 'tmp@example.com']"
want '[r["status"] for r in d["attempts"][0]["recipients"]]' \
    "['delivered', 'refused', 'queued']"
want '[r["code"] for r in d["attempts"][0]["recipients"]]' "[250, 550, 451]"
want '[r["enhanced"] for r in d["attempts"][0]["recipients"]]' \
    "[None, '5.1.1', '4.2.0']"
want '"user unknown" in d["attempts"][0]["recipients"][1]["text"]' True
want '"later \x1b[2J" in d["attempts"][0]["recipients"][2]["text"]' True
check_count 1
kill "$SMTPD_PID"

# The relay now takes tmp@: the second flush tries only it, delivered.
start_smtpd
qconf "$SMTPD_PORT"
run_postie --json -C "$TMP/config" -q
check_rc 0
want 'd["sent"]' 1
want 'd["partial"]' 0
want 'd["entries"]' '[]'
want 'len(d["attempts"])' 1
want 'd["attempts"][0]["queue_id"]' "$id"
want 'd["attempts"][0]["status"]' sent
want '[(r["address"], r["status"], r["code"]) for r in d["attempts"][0]["recipients"]]' \
    "[('tmp@example.com', 'delivered', 250)]"
want '"failure" in d["attempts"][0]' False
check_count 1
check_queue 0
kill "$SMTPD_PID"

# queue_connections 2: the worker's attempts reach the one object too,
# each entry exactly once.
start_smtpd --delay dot=1
qconf "$SMTPD_PORT" "queue_connections 2"
ids=""
for k in 1 2 3; do
	msg "w$k"
	run_postie -odq -C "$TMP/config" a@example.com <"$TMP/in"
	check_rc 0
	ids="$ids $(queued_id)"
done
run_postie --json -C "$TMP/config" -q
check_rc 0
want 'd["sent"]' 3
want 'sorted(a["queue_id"] for a in d["attempts"]) == sorted("'"$ids"'".split())' True
want '[a["status"] for a in d["attempts"]]' "['sent', 'sent', 'sent']"
check_count 3
check_queue 0
n=$(grep -c '^EHLO' "$SMTPD_DIR/transcript.log")
[ "$n" -ge 2 ] || fail "one connection only ($n): no worker took an entry"
kill "$SMTPD_PID"

# The relay down: the first entry's try is an attempt (its failure
# says where); the second, not tried behind it, is only in "entries".
qconf "$(free_port)"
for k in 1 2; do
	msg "d$k"
	run_postie -odq -C "$TMP/config" a@example.com <"$TMP/in"
	check_rc 0
done
run_postie --json -C "$TMP/config" -q
check_rc 0
want 'd["queued"]' 2
want 'len(d["entries"])' 2
want 'len(d["attempts"])' 1
want 'd["attempts"][0]["status"]' queued
want 'd["attempts"][0]["recipients"][0]["status"]' queued
want 'd["attempts"][0]["failure"]["class"]' retry
want 'd["attempts"][0]["failure"]["step"]' connect
want 'd["attempts"][0]["error"] is not None' True
exit 0
