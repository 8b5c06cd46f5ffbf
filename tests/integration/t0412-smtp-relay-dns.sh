#!/bin/sh
# R26, R27: the relay's name is not in DNS (NXDOMAIN), or DNS fails
# (SERVFAIL).  A name that does not exist is a set-up failure: exit 68,
# the message held with the 'host' setting to check.  A failing DNS
# server may heal: the message is queued (exit 0), or 75 with
# queue off.  Real answers from a real resolver: a DNS server on
# 127.0.0.1 (dnsd.py), which /etc/resolv.conf names inside a private
# mount namespace of this test only, so root and unshare(1) are needed.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

if [ "${POSTIE_T0412_NS:-0}" != 1 ]; then
	[ "$(id -u)" -eq 0 ] || skip "needs root (a private /etc/resolv.conf)"
	unshare --mount --propagation private true 2>/dev/null ||
	    skip "unshare --mount does not work here"
	set +e
	POSTIE_T0412_NS=1 unshare --mount --propagation private sh "$0"
	st=$?
	set -e
	exit $st
fi

# Inside the namespace: this resolv.conf is seen by postie alone.
printf 'nameserver 127.0.0.1\noptions attempts:1 timeout:2\n' >"$TMP/resolv.conf"
mount --bind "$TMP/resolv.conf" /etc/resolv.conf

DNS_PID=""
start_dnsd() {
	[ -z "$DNS_PID" ] || { kill "$DNS_PID"; wait "$DNS_PID" 2>/dev/null || :; }
	: >"$TMP/dns.log"
	"$PYTHON" "$POSTIE_SRCDIR/tests/integration/dnsd.py" --rcode "$1" \
	    --log "$TMP/dns.log" --lifetime 60 2>"$TMP/dns.err" &
	DNS_PID=$!
	SMTPD_PIDS="$SMTPD_PIDS $DNS_PID"	# cleanup() stops it
	i=0
	while ! grep -q ready "$TMP/dns.log"; do
		i=$((i + 1))
		if [ $i -gt 50 ] || ! kill -0 "$DNS_PID" 2>/dev/null; then
			cat "$TMP/dns.err" >&2
			skip "the test DNS server could not listen on 127.0.0.1:53"
		fi
		sleep 0.1
	done
}

config() {
	write_config "$TMP/config" <<CONF
account default
host relay.postie-test.invalid
port 25
from sender@example.org
timeout 10
$1
CONF
}
config ""
printf 'Subject: dns\n\nhello\n' >"$TMP/in"

# R26: NXDOMAIN.
start_dnsd 3
run_postie -C "$TMP/config" a@example.com <"$TMP/in"
check_rc 68
check_grep '^postie: NOT SENT: .*kept in the queue as .*, held until the configuration is fixed: check the .host. setting: .relay.postie-test.invalid. is not a name in DNS' "$TMP/stderr"
check_grep '^query ' "$TMP/dns.log"
run_postie -C "$TMP/config" -bp
check_grep 'held=setup' "$TMP/stdout"
# The schedule leaves it alone; it is never expired or bounced by it.
run_postie -C "$TMP/config" -q --due
check_rc 0
run_postie -C "$TMP/config" -bp
check_grep 'held=setup' "$TMP/stdout"
rm -rf "$TMP/queue"

# Direct (queue off): the same class and exit code, nothing kept.
config "queue off"
run_postie -C "$TMP/config" a@example.com <"$TMP/in"
check_rc 68
check_grep "relay host .relay.postie-test.invalid. does not exist \(no such name in DNS\)" "$TMP/stderr"
[ ! -d "$TMP/queue" ] || [ -z "$(find "$TMP/queue" -name '*.env')" ] ||
    fail "queue off kept a queue entry"

# R27: SERVFAIL is worth a retry: queued, not held.
config ""
start_dnsd 2
run_postie -C "$TMP/config" a@example.com <"$TMP/in"
check_rc 0
check_grep '^postie: queued as .*: cannot resolve relay host .relay.postie-test.invalid. now' "$TMP/stderr"
check_no_grep 'NOT SENT|not a name in DNS' "$TMP/stderr"
run_postie -C "$TMP/config" -bp
check_no_grep 'held=' "$TMP/stdout"
check_grep 'relay.postie-test.invalid' "$TMP/stdout"
rm -rf "$TMP/queue"
config "queue off"
run_postie -C "$TMP/config" a@example.com <"$TMP/in"
check_rc 75
exit 0
