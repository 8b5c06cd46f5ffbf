#!/bin/sh
# The network knobs with msmtp's names (issue 14; P6 in tests/README): the proxy environment
# (all_proxy, smtp_proxy, which libcurl obeys) is ignored unless
# proxy_host is configured; proxy_host/proxy_port go through a SOCKS5
# proxy that resolves the relay's name; source_ip is the local address;
# domain is the EHLO name.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

start_smtpd
DEAD=$(free_port)
write_config "$TMP/config" <<CONF
account default
queue off
host 127.0.0.1
port $SMTPD_PORT
from sender@example.org
CONF
printf 'Subject: net\n\nhello\n' >"$TMP/msg"

# The trap: proxy variables pointing at a dead loopback port.  A daemon's
# environment must not redirect (or stop) mail.
for var in all_proxy ALL_PROXY smtp_proxy; do
	set +e
	env "$var=socks5h://127.0.0.1:$DEAD" POSTIE_SYSCONFIG=/nonexistent \
	    HOME="$TMP" "$POSTIE" -C "$TMP/config" a@example.com \
	    <"$TMP/msg" >"$TMP/stdout" 2>"$TMP/stderr"
	rc=$?
	set -e
	check_rc 0
done
check_count 3

# proxy_host: through the SOCKS5 proxy, which resolves the name
# (socks5h), and nothing else
"$PYTHON" "$POSTIE_SRCDIR/tests/integration/socks5.py" \
    --port-file "$TMP/socks.port" --log "$TMP/socks.log" --lifetime 120 \
    >"$TMP/socks.out" 2>&1 &
SMTPD_PIDS="$SMTPD_PIDS $!"
i=0
while [ ! -s "$TMP/socks.port" ]; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "the SOCKS5 proxy did not start"
	sleep 0.1
done
SOCKS_PORT=$(cat "$TMP/socks.port")
write_config "$TMP/config" <<CONF
account default
queue off
host localhost
port $SMTPD_PORT
from sender@example.org
proxy_host 127.0.0.1
proxy_port $SOCKS_PORT
domain client.example.org
CONF
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 0
check_count 4
check_grep "^CONNECT localhost:$SMTPD_PORT\$" "$TMP/socks.log"
check_grep '^EHLO client\.example\.org$' "$(transcript)"

# a proxy that is down: not delivered, never straight to the relay
sed -i "s/^proxy_port .*/proxy_port $DEAD/" "$TMP/config"
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 75
check_count 4

# source_ip: the connection leaves from that address; one this host does
# not have cannot be used
write_config "$TMP/config" <<CONF
account default
queue off
host 127.0.0.1
port $SMTPD_PORT
from sender@example.org
source_ip 127.0.0.1
CONF
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 0
check_count 5
sed -i "s/^source_ip .*/source_ip 192.0.2.1/" "$TMP/config"
run_postie -C "$TMP/config" --json a@example.com <"$TMP/msg"
check_rc 78	# EX_CONFIG: the account's set-up, not the relay
check_grep 'source_ip 192\.0\.2\.1 is not an address of this host' "$TMP/stdout"
check_grep '"class": "setup"' "$TMP/stdout"
check_count 5
exit 0
