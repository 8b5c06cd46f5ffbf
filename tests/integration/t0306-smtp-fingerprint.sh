#!/bin/sh
# tls_fingerprint: msmtp's SHA-256 certificate fingerprint and libcurl's
# public key pin (sha256//BASE64) replace CA verification; a mismatch is
# exit 69 and nothing is sent.  A build or config that supports neither
# form skips (77).
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

make_certs
start_smtpd --starttls "$C/self.pem" "$C/self.key"
config() {
	write_config "$TMP/config" <<CONF
account default
# direct mode: these tests check the exit codes of the contract
queue off
host 127.0.0.1
port $SMTPD_PORT
from sender@example.org
tls on
tls_fingerprint $1
CONF
}
printf 'Subject: x\n\nhello\n' >"$TMP/msg"
supported=0
sent=0

# The certificate form (needs postie built with OpenSSL).
fp=$(openssl x509 -in "$C/self.pem" -noout -fingerprint -sha256 | cut -d= -f2)
config "$fp"
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
if grep -q 'built without OpenSSL' "$TMP/stderr"; then
	check_rc 78
	echo "note: certificate fingerprints not supported by this build" >&2
else
	check_rc 0
	sent=$((sent + 1))
	check_count $sent
	bad=$(openssl x509 -in "$C/server.pem" -noout -fingerprint -sha256 |
	    cut -d= -f2)
	config "$bad"
	run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
	check_rc 69
	check_grep 'does not match tls_fingerprint' "$TMP/stderr"
	check_count $sent
	supported=1
fi

# The public key form.
spki=$(openssl x509 -in "$C/self.pem" -pubkey -noout |
    openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
config "sha256//$spki"
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
if grep -q "invalid value.*tls_fingerprint" "$TMP/stderr"; then
	check_rc 78
	echo "note: the config does not accept sha256// pins" >&2
else
	check_rc 0
	sent=$((sent + 1))
	check_count $sent
	config "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
	check_rc 69
	check_grep 'does not match tls_fingerprint' "$TMP/stderr"
	check_count $sent
	supported=1
fi
[ $supported = 1 ] || exit 77
exit 0
