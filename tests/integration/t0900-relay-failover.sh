#!/bin/sh
# Failover (issue 14; P1-P4 in tests/README): three relays on loopback, one refusing connections,
# one answering 421, one accepting.  The same transaction goes through the
# next account at once; a permanent refusal and a failure after the final
# dot are never tried elsewhere; a backup delivering after the primary's
# configuration failure still warns what to fix and logs at err.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

DEAD=$(free_port)
start_smtpd --fail 'greeting=421 4.3.2 too busy, try later'
BUSY_PORT=$SMTPD_PORT BUSY_DIR=$SMTPD_DIR
start_smtpd
GOOD_PORT=$SMTPD_PORT GOOD_DIR=$SMTPD_DIR

config() {	# config FAILOVER [extra lines for account a]
	write_config "$TMP/config" <<CONF
logfile $TMP/log
from sender@example.org

account a
host 127.0.0.1
port $1
failover busy good
${2:-}

account busy
host 127.0.0.1
port $BUSY_PORT

account good
host 127.0.0.1
port $GOOD_PORT
CONF
}
printf 'Subject: failover\n\nhello\n' >"$TMP/msg"

# refused -> 421 -> accepted: delivered once, by the third; -v and --json
# name the relay actually used
config "$DEAD"
run_postie -C "$TMP/config" --dry-run a@example.com <"$TMP/msg"
check_rc 0
check_grep "^account 'a' fails over to 'busy' \(relay 127\.0\.0\.1\), 'good' \(relay 127\.0\.0\.1\)$" "$TMP/stderr"
run_postie -C "$TMP/config" -v --json a@example.com b@example.org <"$TMP/msg"
check_rc 0
SMTPD_DIR=$GOOD_DIR check_count 1
SMTPD_DIR=$BUSY_DIR check_count 0
check_grep "account 'a' \(relay 127\.0\.0\.1\) failed: .*refused" "$TMP/stderr"
check_grep "account 'busy' \(relay 127\.0\.0\.1\) failed: .*421 4\.3\.2 too busy" "$TMP/stderr"
check_grep "sent through account 'good' \(relay 127\.0\.0\.1:$GOOD_PORT\), the failover of account 'a'" "$TMP/stderr"
check_grep '"status": "sent"' "$TMP/stdout"
check_grep "\"relay\": \"127\.0\.0\.1:$GOOD_PORT\"" "$TMP/stdout"
check_grep '"sent_via": "good"' "$TMP/stdout"
check_grep "\"address\": \"a@example.com\", \"status\": \"delivered\".*\"account\": \"good\", \"relay\": \"127\.0\.0\.1:$GOOD_PORT\"" "$TMP/stdout"
# the log: each failed relay (outcome=failover, at info: only down), then
# the delivery with the account and relay used
check_grep "account=\"a\" host=127\.0\.0\.1 .*outcome=failover exitcode=EX_OK" "$TMP/log"
check_grep "account=\"busy\" host=127\.0\.0\.1 .*smtpstatus=421 .*outcome=failover" "$TMP/log"
check_grep "account=\"good\" host=127\.0\.0\.1:$GOOD_PORT .*states=accepted:250,accepted:250 .*outcome=delivered exitcode=EX_OK" "$TMP/log"

# a permanent refusal is never tried elsewhere
start_smtpd --fail 'mail=550 5.7.1 sender refused'
config "$SMTPD_PORT" "queue off"
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 69
check_grep '550 5\.7\.1 sender refused' "$TMP/stderr"
SMTPD_DIR=$GOOD_DIR check_count 1
check_no_grep "account 'good'" "$TMP/stderr"

# a failure after the final dot is never resent elsewhere (the relay may
# have it): with the queue it is kept for the same account
start_smtpd --fail 'dot=451 4.3.0 try again later'
config "$SMTPD_PORT"
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 0
check_grep 'queued as ' "$TMP/stderr"
SMTPD_DIR=$GOOD_DIR check_count 1
run_postie -C "$TMP/config" -bp
check_grep '451 4\.3\.0 try again later' "$TMP/stdout"

# lost after the final dot (no reply): the relay may have it, so it is
# kept for that relay only, and a flush never sends it through a backup,
# not even when that relay is down then
start_smtpd --fail 'dot=drop'
DROP_DIR=$SMTPD_DIR
config "$SMTPD_PORT" "queue_dir $TMP/queue2"
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 0
check_grep 'queued as .*possible duplicate' "$TMP/stderr"
SMTPD_DIR=$GOOD_DIR check_count 1
run_postie -C "$TMP/config" -q -v
check_rc 0
check_grep "no failover for this message: an earlier attempt through account 'a' was lost after the final dot" "$TMP/stderr"
SMTPD_DIR=$DROP_DIR check_count 2
SMTPD_DIR=$GOOD_DIR check_count 1
config "$DEAD" "queue_dir $TMP/queue2"
run_postie -C "$TMP/config" -q
check_rc 0
SMTPD_DIR=$GOOD_DIR check_count 1
run_postie -C "$TMP/config" -bp
check_grep '^[^ ]+\? .*attempts=3' "$TMP/stdout"

# a 4xx before the data (MAIL) goes to the next relay
start_smtpd --fail 'mail=451 4.3.0 local problem'
config "$SMTPD_PORT"
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 0
SMTPD_DIR=$GOOD_DIR check_count 2

# the primary refuses the login (configuration class): the backup sends
# it, and the primary's failure is still a warning naming what to fix and
# a log line at err (exit code EX_NOPERM)
start_smtpd --auth user:right --no-auth-require-tls \
    --fail 'auth=535 5.7.8 bad credentials'
config "$SMTPD_PORT" "auth plain
auth_cleartext on
user user
password wrong"
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 0
SMTPD_DIR=$GOOD_DIR check_count 3
check_grep "warning: account 'a' failed: .*535 5\.7\.8 bad credentials" "$TMP/stderr"
check_grep "warning: account 'a' is set up wrong and must be fixed, although its failover 'good' sent this message: .*535" "$TMP/stderr"
check_grep "account=\"a\" .*smtpmsg=\".*535 5\.7\.8 bad credentials.*\" outcome=failover exitcode=EX_NOPERM" "$TMP/log"

# every relay down: queued for the primary, exit 0 (or 75 without queue)
config "$DEAD" "failover busy"
sed -i "s/^port $GOOD_PORT\$/port $DEAD/" "$TMP/config"
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 0
check_grep 'queued as ' "$TMP/stderr"
# the flush fails over too: the primary is still down, two messages for
# it (the dot failure above and this one) go through the backup, once
config "$DEAD" "failover good"
run_postie -C "$TMP/config" -q -v
check_rc 0
SMTPD_DIR=$GOOD_DIR check_count 5
check_grep "sent through account 'good'" "$TMP/stderr"
run_postie -C "$TMP/config" -bp
check_grep 'Mail queue is empty' "$TMP/stdout"
config "$DEAD" "queue off"
sed -i "s/^port $GOOD_PORT\$/port $DEAD/" "$TMP/config"
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 75
SMTPD_DIR=$GOOD_DIR check_count 5
exit 0
