#!/bin/sh
# T2, the expired certificate, two ways: a certificate that expired days
# ago (made by openssl under faketime, signed by a trusted CA), and a
# valid one seen from three days in the future (postie under faketime:
# libfaketime moves OpenSSL's clock too).  Direct mode: exit 69, the
# reason named, no MAIL.  Queue mode: kept held (a set-up failure, issue
# 11), exit 69 with the fix, nothing sent in clear.  Then T1 (name
# mismatch) and T2 (untrusted CA) held, and T4 (STARTTLS refused with
# 454, temporary by RFC 3207) queued, in queue mode (t0301/t0302 cover
# them in direct mode).
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

command -v faketime >/dev/null 2>&1 || skip "faketime not installed"
E="$TMP/expired"
mkdir -p "$E"
(
cd "$E"
faketime -f '-10d' openssl req -x509 -newkey rsa:2048 -nodes -days 30 \
    -subj "/CN=postie expired-test CA" -keyout ca.key -out ca.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >server.ext
faketime -f '-5d' openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
    -CAcreateserial -days 1 -extfile server.ext -out old.pem 2>/dev/null
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
    -days 1 -extfile server.ext -out good.pem 2>/dev/null
) || fail "cannot make the certificates"
if openssl x509 -in "$E/old.pem" -noout -checkend 0 >/dev/null; then
	fail "old.pem is not expired: faketime did not move openssl"
fi

TRUST="$E/ca.pem"
config() {
	write_config "$TMP/config" <<CONF
account default
host 127.0.0.1
port $SMTPD_PORT
from sender@example.org
timeout 10
tls on
tls_starttls on
tls_trust_file $TRUST
$1
CONF
}
printf 'Subject: expired\n\nhello\n' >"$TMP/in"

# The certificate expired four days ago.
start_smtpd --starttls "$E/old.pem" "$E/server.key"
config "queue off"
run_postie -C "$TMP/config" a@example.com <"$TMP/in"
check_rc 69
check_grep 'not trusted.*expired' "$TMP/stderr"
check_count 0
check_no_grep '^(MAIL|AUTH)' "$(transcript)"
# Queue mode: kept and held, still nothing in clear.
config ""
run_postie -C "$TMP/config" a@example.com <"$TMP/in"
check_rc 69
check_grep '^postie: NOT SENT: .*expired.*kept in the queue as .*held.*certificate has expired' "$TMP/stderr"
check_count 0
check_no_grep '^(MAIL|AUTH)' "$(transcript)"

# A valid certificate, and the same certificate three days later.
start_smtpd --starttls "$E/good.pem" "$E/server.key"
config "queue off"
run_postie -C "$TMP/config" a@example.com <"$TMP/in"
check_rc 0
check_count 1
faketime_postie '+3d' -C "$TMP/config" a@example.com <"$TMP/in"
check_rc 69
check_grep 'not trusted.*expired' "$TMP/stderr"
check_count 1

# T1, T2, T4 with the queue on: kept, never sent in clear.
make_certs
TRUST="$C/ca.pem"
for fault in wrong-name untrusted starttls-454; do
	case $fault in
	wrong-name)
		start_smtpd --starttls "$C/wrong.pem" "$C/wrong.key" ;;
	untrusted)
		start_smtpd --starttls "$C/self.pem" "$C/self.key" ;;
	starttls-454)
		start_smtpd --starttls "$C/server.pem" "$C/server.key" \
		    --fail 'starttls=454 4.7.0 later' ;;
	esac
	rm -rf "$TMP/queue"
	config ""
	run_postie -C "$TMP/config" a@example.com <"$TMP/in"
	case $fault in
	wrong-name)
		check_rc 69
		check_grep "^postie: NOT SENT: .*not trusted.*held.*set 'host' \\(or tls_host_override\\)" "$TMP/stderr" ;;
	untrusted)
		check_rc 69
		check_grep '^postie: NOT SENT: .*not trusted.*held.*set tls_trust_file' "$TMP/stderr"
		# and the pin it would take: the certificate's own SHA-256
		fp=$(openssl x509 -in "$C/self.pem" -noout -fingerprint \
		    -sha256 | sed 's/.*=//')
		check_grep "pin it with 'tls_fingerprint $fp'; then send it" \
		    "$TMP/stderr" ;;
	starttls-454)
		check_rc 0
		check_grep '^postie: queued as .*STARTTLS refused' "$TMP/stderr" ;;
	esac
	[ "$(find "$TMP/queue/q" -name '*.env' | wc -l)" -eq 1 ] ||
	    fail "not queued"
	check_count 0
	check_no_grep '^(MAIL|AUTH)' "$(transcript)"
done
exit 0
