#!/bin/sh
# D1-D3: postie --server-info (and msmtp's --serverinfo): what the relay offers
# over plain SMTP, STARTTLS and SMTPS, the certificate chain with SHA-256
# fingerprints, whether the login works; never a mail transaction; the
# exit code of what failed (77 login refused, 69 TLS, 75 relay down or
# busy) with one line saying what to change (issue 14).
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

make_certs
# config TLS STARTTLS [auth lines...]: the account for $SMTPD_PORT
config() {
	tls=$1 starttls=$2
	shift 2
	{
		printf 'account default\nhost 127.0.0.1\nport %s\n' "$SMTPD_PORT"
		printf 'from sender@example.org\ntls %s\n' "$tls"
		printf 'tls_starttls %s\ntls_trust_file %s\n' "$starttls" "$C/ca.pem"
		for l in "$@"; do printf '%s\n' "$l"; done
	} | write_config "$TMP/config"
}
# no_mail: the server saw no mail transaction
no_mail() {
	check_count 0
	check_no_grep '^(MAIL|RCPT|DATA)' "$(transcript)"
}
fp() {
	openssl x509 -noout -fingerprint -sha256 -in "$1" | sed 's/.*=//'
}

# Plain SMTP, no login: 0; the greeting and capabilities; a NOOP.
start_smtpd
config off on
run_postie -C "$TMP/config" --server-info
check_rc 0
check_grep "^Relay: 127\.0\.0\.1:$SMTPD_PORT \(account 'default'\)\$" "$TMP/stdout"
check_grep '^Greeting: 220 smtpd\.test ' "$TMP/stdout"
check_grep '^TLS: none \(tls off\)' "$TMP/stdout"
check_grep '^Capabilities:$' "$TMP/stdout"
check_grep '^    SIZE 33554432$' "$TMP/stdout"
check_grep '^    8BITMIME$' "$TMP/stdout"
check_grep '^Maximum message size: 33554432 bytes \(32\.0 MiB\)$' "$TMP/stdout"
check_grep '^Login: none configured' "$TMP/stdout"
check_no_grep '^Certificate' "$TMP/stdout"
[ -s "$TMP/stderr" ] && fail "stderr not empty"
check_grep '^NOOP$' "$(transcript)"
no_mail
# msmtp's spelling is the same command
run_postie -C "$TMP/config" --serverinfo
check_rc 0
check_grep '^Greeting: 220 smtpd\.test ' "$TMP/stdout"

# STARTTLS, trusted CA, login accepted: the chain, the capabilities that
# count (after STARTTLS), the mechanisms, the login; no password shown.
start_smtpd --starttls "$C/server.pem" "$C/server.key" --auth alice:S3cr3t-pw
config on on 'auth on' 'user alice' 'password S3cr3t-pw'
run_postie -C "$TMP/config" --server-info
check_rc 0
check_grep '^TLS: TLSv1\.[23] / [A-Z0-9_-]+ \(STARTTLS\)$' "$TMP/stdout"
check_grep "^Certificate 1 of [12] \(the server's\):" "$TMP/stdout"
check_grep '^    Subject: CN ?= ?localhost$' "$TMP/stdout"
check_grep '^    Issuer: CN ?= ?postie test CA$' "$TMP/stdout"
check_grep '^    Names: .*127\.0\.0\.1' "$TMP/stdout"
check_grep '^    Valid: .* GMT to .* GMT$' "$TMP/stdout"
check_grep "^    SHA-256 fingerprint: $(fp "$C/server.pem")\$" "$TMP/stdout"
check_grep "tls_fingerprint $(fp "$C/server.pem")" "$TMP/stdout"
check_grep '^Capabilities \(after STARTTLS\):$' "$TMP/stdout"
check_grep '^    AUTH LOGIN PLAIN$' "$TMP/stdout"
check_grep '^Authentication mechanisms: LOGIN PLAIN$' "$TMP/stdout"
check_grep "^Login: accepted for user 'alice' \(AUTH PLAIN\)\$" "$TMP/stdout"
check_fixed_absent 'S3cr3t-pw' "$TMP/stdout"
check_fixed_absent 'S3cr3t-pw' "$TMP/stderr"
check_grep '^--- TLS started ---$' "$(transcript)"
no_mail
# -vv shows the dialogue on stderr, the SASL data redacted
run_postie -vv -C "$TMP/config" --server-info
check_rc 0
check_grep '^postie: -> AUTH PLAIN <redacted>$' "$TMP/stderr"
check_grep '^postie: -> NOOP$' "$TMP/stderr"
check_fixed_absent 'S3cr3t-pw' "$TMP/stderr"
# The pinned fingerprint works as the report says.
config on on "tls_fingerprint $(fp "$C/server.pem")" 'auth on' \
    'user alice' 'password S3cr3t-pw'
run_postie -C "$TMP/config" --server-info
check_rc 0

# A pin that does not match: 69, and the fingerprint seen is named.
config on on "tls_fingerprint $(fp "$C/self.pem")" 'auth on' \
    'user alice' 'password S3cr3t-pw'
run_postie -C "$TMP/config" --server-info
check_rc 69
check_grep "does not match tls_fingerprint \(its SHA-256 fingerprint is $(fp "$C/server.pem")\)" "$TMP/stderr"
check_grep "; if the relay's certificate changed on purpose, set tls_fingerprint $(fp "$C/server.pem")" "$TMP/stderr"

# The login refused: 77 and the keys to check; the rest is still shown.
config on on 'auth on' 'user alice' 'password wrong'
run_postie -C "$TMP/config" --server-info
check_rc 77
check_grep '^Login: REFUSED \(AUTH PLAIN\): 535 ' "$TMP/stdout"
check_grep '^Capabilities \(after STARTTLS\):$' "$TMP/stdout"
check_grep "^postie: 127\.0\.0\.1:$SMTPD_PORT: authentication failed: 535 .*; check 'user' and 'password'" "$TMP/stderr"
[ "$(wc -l <"$TMP/stderr")" -eq 1 ] || fail "more than one line on stderr"
check_no_grep 'cannot send' "$TMP/stderr"
no_mail

# The certificate not trusted: 69, the fix named; nothing after STARTTLS.
start_smtpd --starttls "$C/self.pem" "$C/self.key" --auth alice:S3cr3t-pw
config on on 'auth on' 'user alice' 'password S3cr3t-pw'
run_postie -C "$TMP/config" --server-info
check_rc 69
check_grep 'TLS certificate of 127\.0\.0\.1 not trusted.*; set tls_trust_file' "$TMP/stderr"
check_grep '^Greeting: 220 ' "$TMP/stdout"
# the chain it presents, fetched again without checks or login
check_grep '^The certificate chain, NOT VERIFIED' "$TMP/stdout"
check_grep "^    SHA-256 fingerprint: $(fp "$C/self.pem")\$" "$TMP/stdout"
check_grep '^Login: not tried' "$TMP/stdout"
check_no_grep '^AUTH' "$(transcript)"
[ "$(grep -c '^STARTTLS$' "$(transcript)")" -eq 2 ] ||
    fail "expected two STARTTLS (the checked one, the unchecked one)"
no_mail
# pinned as the report says, the same server passes (login included)
config on on "tls_fingerprint $(fp "$C/self.pem")" 'auth on' \
    'user alice' 'password S3cr3t-pw'
run_postie -C "$TMP/config" --server-info
check_rc 0
check_grep "^Login: accepted for user 'alice'" "$TMP/stdout"

# STARTTLS required, not offered: 69.
start_smtpd
config on on
run_postie -C "$TMP/config" --server-info
check_rc 69
check_grep 'STARTTLS not offered.*; the relay does not offer STARTTLS here' "$TMP/stderr"
check_grep '^Capabilities:$' "$TMP/stdout"
no_mail

# Login configured, the relay offers no AUTH (cleartext allowed): 69.
start_smtpd --auth alice:S3cr3t-pw
config off on 'auth on' 'user alice' 'password S3cr3t-pw' 'auth_cleartext on'
run_postie -C "$TMP/config" --server-info
check_rc 69
check_grep 'does not support authentication.*; remove .auth.' "$TMP/stderr"
check_grep '^Authentication mechanisms: none offered$' "$TMP/stdout"
no_mail

# SMTPS (TLS from the start), login accepted.
start_smtpd --implicit-tls "$C/server.pem" "$C/server.key" --auth alice:S3cr3t-pw
config on off 'auth on' 'user alice' 'password S3cr3t-pw'
run_postie -C "$TMP/config" --server-info
check_rc 0
check_grep '^TLS: TLSv1\.[23] / [A-Z0-9_-]+ \(from the start\)$' "$TMP/stdout"
check_grep "^    SHA-256 fingerprint: $(fp "$C/server.pem")\$" "$TMP/stdout"
check_grep '^Capabilities \(over TLS\):$' "$TMP/stdout"
check_grep "^Login: accepted for user 'alice'" "$TMP/stdout"
no_mail
# SMTPS account against a STARTTLS port: 69, and the TLS mode named.
start_smtpd --starttls "$C/server.pem" "$C/server.key"
config on off
run_postie -C "$TMP/config" --server-info
check_rc 69
check_grep 'tls_starttls on' "$TMP/stderr"

# A greeting of 421: 75, try later.
start_smtpd --fail 'greeting=421 4.3.2 busy'
config off on
run_postie -C "$TMP/config" --server-info
check_rc 75
check_grep '421 4\.3\.2 busy.*; the relay is busy' "$TMP/stderr"
check_grep '^Greeting: 421 4\.3\.2 busy$' "$TMP/stdout"

# Nobody listening: 75, and where to look.
SMTPD_PORT=$(free_port)
config off on
run_postie -C "$TMP/config" --server-info
check_rc 75
check_grep "^postie: connection to 127\.0\.0\.1:$SMTPD_PORT refused; check 'host' and 'port'" "$TMP/stderr"
[ "$(wc -l <"$TMP/stderr")" -eq 1 ] || fail "more than one line on stderr"

# An account without a relay: 78, nothing to ask.
printf 'account default\nfrom sender@example.org\n' | write_config "$TMP/config"
run_postie -C "$TMP/config" --server-info
check_rc 78
check_grep 'has no relay host' "$TMP/stderr"
exit 0
