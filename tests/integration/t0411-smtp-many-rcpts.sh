#!/bin/sh
# Issue 10 item 5 (R24): recipients go in transactions of at most 100 (RFC 5321
# 4.5.3.1.8), and a "452 4.5.3 too many recipients" sends the rest in a
# new transaction at once, as Postfix does.  10,000 recipients arrive in
# one run, each exactly once.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

config() {
	write_config "$TMP/config" <<CONF
account default
queue off
host 127.0.0.1
port $SMTPD_PORT
from sender@example.org
CONF
}
count_rcpts() {	# every recipient the server got, one per line
	"$PYTHON" -c 'import json, glob, sys
for f in sorted(glob.glob(sys.argv[1] + "/*.json")):
    for r in json.load(open(f))["rcpt_tos"]:
        print(r)' "$SMTPD_DIR"
}
printf 'Subject: many\n\nhello all\n' >"$TMP/msg"

# 250 recipients: three transactions (100, 100, 50).
start_smtpd
config
i=0
: >"$TMP/rcpts"
while [ $i -lt 250 ]; do
	echo "u$i@example.com" >>"$TMP/rcpts"
	i=$((i + 1))
done
run_postie -C "$TMP/config" $(cat "$TMP/rcpts") <"$TMP/msg"
check_rc 0
check_count 3
[ "$(count_rcpts | sort | uniq | wc -l)" -eq 250 ] || fail "not 250 distinct"
[ "$(count_rcpts | wc -l)" -eq 250 ] || fail "a recipient got it twice"
kill "$SMTPD_PID"

# A server that takes 30 per transaction: the 452s go again at once.
start_smtpd --max-rcpts 30
config
run_postie -C "$TMP/config" $(head -n 70 "$TMP/rcpts") <"$TMP/msg"
check_rc 0
check_count 3		# 30 + 30 + 10
[ "$(count_rcpts | sort -u | wc -l)" -eq 70 ] || fail "not 70 delivered"
[ "$(count_rcpts | wc -l)" -eq 70 ] || fail "duplicates"
check_no_grep 'not delivered' "$TMP/stderr"
kill "$SMTPD_PID"

# 10,000 recipients, in one run.
start_smtpd
config
i=0
: >"$TMP/rcpts10k"
while [ $i -lt 10000 ]; do
	echo "r$i@example.com"
	i=$((i + 1))
done >"$TMP/rcpts10k"
run_postie -C "$TMP/config" $(cat "$TMP/rcpts10k") <"$TMP/msg"
check_rc 0
check_count 100
[ "$(count_rcpts | sort -u | wc -l)" -eq 10000 ] || fail "not 10000 delivered"
kill "$SMTPD_PID"
exit 0
