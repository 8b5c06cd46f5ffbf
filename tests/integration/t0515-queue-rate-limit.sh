#!/bin/sh
# rate_limit 5/hour: postie -q sends 5 of 12 queued messages and leaves
# 7 queued, not tried, next try about an hour ahead, none failed; a direct
# send over the limit is queued (exit 0), and with queue off it exits 75.
# Routes and failover: every account a message goes through counts its
# own sends; a full window is never a reason to use the backup.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t05lib.sh"

start_smtpd
qconf "$SMTPD_PORT"
echo "rate_limit 5/hour" >>"$TMP/config"
run() {
	POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" "$POSTIE" -C "$TMP/config" "$@"
}
i=0
while [ $i -lt 12 ]; do
	msg "r$i"
	run -odq "r$i@example.com" <"$TMP/in" 2>/dev/null ||
	    fail "cannot queue message $i"
	i=$((i + 1))
done
check_queue 12
run -q 2>"$TMP/q.err" || fail "postie -q failed: $(cat "$TMP/q.err")"
check_queue 7
check_count 5
grep -q 'rate_limit 5/hour reached' "$TMP/q.err" ||
    fail "no rate_limit word: $(cat "$TMP/q.err")"
[ "$(grep -c 'rate_limit' "$TMP/q.err")" -eq 1 ] ||
    fail "not one rate_limit warning for the run: $(cat "$TMP/q.err")"
# the 7 left: not tried (no attempt counted), next try when the window's
# oldest send leaves it, an hour from now (a slot that far is not waited
# for: the flush ends; t0517 has the waits of N/minute)
now=$(date +%s)
for f in "$Q"/q/*.env; do
	next=$(sed -n 's/^next //p' "$f")
	att=$(sed -n 's/^attempts //p' "$f")
	[ "$att" -eq 0 ] || fail "$f: attempts $att, expected 0 (not tried)"
	d=$((next - now))
	[ "$d" -ge 3590 ] && [ "$d" -le 3602 ] ||
	    fail "$f: next try in $d s, expected about 3600"
done
msg direct
run "d@example.com" <"$TMP/in" 2>"$TMP/d.err" ||
    fail "the direct send over the limit did not exit 0"
grep -q "^postie: queued as .*: account 'default': rate_limit 5/hour reached, the next slot frees at" \
    "$TMP/d.err" || fail "direct send: $(cat "$TMP/d.err")"
[ "$(grep -c queued "$TMP/d.err")" -eq 1 ] ||
    fail "direct send: not one 'queued' line: $(cat "$TMP/d.err")"
f=$(grep -l '^rcpt . d@example.com$' "$Q"/q/*.env)
d=$(( $(sed -n 's/^next //p' "$f") - $(date +%s) ))
[ "$d" -ge 3590 ] && [ "$d" -le 3602 ] ||
    fail "direct send: next try in $d s, expected the next slot (~3600 s)"
check_queue 8
check_count 5
echo "queue off" >>"$TMP/config"
set +e
run "e@example.com" <"$TMP/in" 2>"$TMP/e.err"
rc=$?
set -e
[ "$rc" -eq 75 ] || fail "queue off over the limit: exit $rc: $(cat "$TMP/e.err")"
check_count 5

# The first send of a fresh install, before any queue directory exists:
# the limit's count is kept in the queue, which is made for it; the
# message goes out (it used to be queued, "cannot make .../rate").
Q=$TMP/fresh-queue
qconf "$SMTPD_PORT"
echo "rate_limit 5/minute" >>"$TMP/config"
[ ! -e "$Q" ] || fail "the fresh queue exists already"
msg fresh
run "f@example.com" <"$TMP/in" 2>"$TMP/f.err" ||
    fail "first send: $(cat "$TMP/f.err")"
grep -q 'queued' "$TMP/f.err" && fail "first send queued: $(cat "$TMP/f.err")"
check_count 6

# Routes: each account a message goes through counts its own sends.
# main has no limit; bulk (the route for *.bulk.example) 2/hour.  Four
# messages, each to one recipient of each: main takes all four, bulk two;
# the other two entries keep only their bulk recipient, next try ~1 h.
rm -rf "$Q"
start_smtpd
write_config "$TMP/config" <<CONF
from sender@example.org
timeout 5
queue_dir $Q
account main
host 127.0.0.1
port $SMTPD_PORT
account bulk
host 127.0.0.1
port $SMTPD_PORT
rate_limit 2/hour
route *.bulk.example bulk
account default : main
CONF
i=0
while [ $i -lt 4 ]; do
	msg "route$i"
	run -odq "m$i@main.example" "b$i@x.bulk.example" <"$TMP/in" ||
	    fail "cannot queue route message $i"
	i=$((i + 1))
done
run -q 2>"$TMP/r.err" || fail "postie -q (routes): $(cat "$TMP/r.err")"
check_count 6
n=$(cat "$SMTPD_DIR"/[0-9]*.json | grep -o '"[a-z][0-9]@x.bulk.example"' | wc -l)
[ "$n" -eq 2 ] || fail "bulk got $n recipients through its 2/hour"
n=$(cat "$SMTPD_DIR"/[0-9]*.json | grep -o '"m[0-9]@main.example"' | wc -l)
[ "$n" -eq 4 ] || fail "main got $n of its 4 recipients"
check_queue 2
[ "$(grep -c 'rate_limit' "$TMP/r.err")" -eq 1 ] ||
    fail "routes: not one rate_limit warning: $(cat "$TMP/r.err")"
now=$(date +%s)
for f in "$Q"/q/*.env; do
	grep -q '^rcpt A m[0-9]@main.example$' "$f" ||
	    fail "$f: the main recipient is not marked delivered: $(cat "$f")"
	grep -q '^rcpt [PT] b[0-9]@x.bulk.example$' "$f" ||
	    fail "$f: the bulk recipient is not open: $(cat "$f")"
	next=$(sed -n 's/^next //p' "$f")
	d=$((next - now))
	[ "$d" -ge 3590 ] && [ "$d" -le 3602 ] ||
	    fail "$f (routes): next try in $d s, expected about 3600"
done
# A second flush within the hour sends nothing more through bulk.
run -q 2>"$TMP/r2.err" || fail "second postie -q: $(cat "$TMP/r2.err")"
check_count 6
check_queue 2

# Failover: a full window is no failure, so the backup is not tried; the
# message waits for its own relay's slot.
rm -rf "$Q"
PRIM_PORT=$SMTPD_PORT PRIM_DIR=$SMTPD_DIR
start_smtpd
write_config "$TMP/config" <<CONF
from sender@example.org
timeout 5
queue_dir $Q
account backup
host 127.0.0.1
port $SMTPD_PORT
account prim
host 127.0.0.1
port $PRIM_PORT
rate_limit 1/hour
failover backup
account default : prim
CONF
msg fo1
run "f1@example.com" <"$TMP/in" 2>"$TMP/f1.err" || fail "failover 1: $(cat "$TMP/f1.err")"
msg fo2
run "f2@example.com" <"$TMP/in" 2>"$TMP/f2.err" || fail "failover 2: $(cat "$TMP/f2.err")"
grep -q "queued as .*account 'default': rate_limit 1/hour reached" "$TMP/f2.err" ||
    fail "failover 2 not queued for prim's limit: $(cat "$TMP/f2.err")"
check_count 0			# the backup: never
SMTPD_DIR=$PRIM_DIR check_count 7	# the 6 routed, and fo1
check_queue 1

exit 0
