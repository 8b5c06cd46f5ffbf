#!/bin/sh
# Secrets never leave postie except to the server's AUTH exchange: with
# AUTH PLAIN, LOGIN and XOAUTH2, accepted and refused (535), the password
# or token, in clear or in any SASL base64 form, is absent from -v output,
# stdout, error messages, the logfile, the queue files and the mailq
# listing (text and JSON).
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

PW='S3cr3t-Pw/7+x'
USER_=user
# The forms a leak could take: the secret, and every SASL blob carrying
# it (PLAIN with and without authzid, LOGIN's password line, XOAUTH2).
FORMS="$TMP/forms"
{
	printf '%s\n' "$PW"
	printf '%s' "$PW" | base64 -w0; echo
	printf '\0%s\0%s' "$USER_" "$PW" | base64 -w0; echo
	printf '%s\0%s\0%s' "$USER_" "$USER_" "$PW" | base64 -w0; echo
	printf 'user=%s\001auth=Bearer %s\001\001' "$USER_" "$PW" |
	    base64 -w0; echo
} >"$FORMS"
no_secret() {
	while IFS= read -r form; do
		for f in "$@"; do
			[ -e "$f" ] || continue
			if grep -rqF -- "$form" "$f"; then
				fail "secret form '$form' found in $f"
			fi
		done
	done <"$FORMS"
}
config() {
	write_config "$TMP/config" <<CONF
account default
host 127.0.0.1
port $SMTPD_PORT
from sender@example.org
timeout 10
auth $1
user $USER_
password $PW
auth_cleartext on
logfile $TMP/log
$2
CONF
}
printf 'Subject: secrets\n\nhello\n' >"$TMP/in"

# Accepted: the server saw the right credentials; postie said nothing.
start_smtpd --auth "$USER_:$PW" --no-auth-require-tls --xoauth2
n=0
for mech in plain login xoauth2; do
	config $mech "queue off"
	run_postie -vv -C "$TMP/config" a@example.com <"$TMP/in"
	check_rc 0
	n=$((n + 1))
	check_count $n
	[ "$(json_field $n auth)" = "\"$USER_\"" ] || fail "$mech: not authenticated"
	check_grep "^AUTH $(echo $mech | tr a-z A-Z)" "$(transcript)"
	check_grep "AUTH $(echo $mech | tr a-z A-Z).*<redacted>|<redacted>" \
	    "$TMP/stderr"
	no_secret "$TMP/stderr" "$TMP/stdout" "$TMP/log"
done
# The XOAUTH2 blob did go to the server (the test can see a leak).
check_grep "^AUTH XOAUTH2 $(sed -n 5p "$FORMS")" "$(transcript)"

# Refused: direct mode exit 77; queue mode keeps the message, and neither
# the message, the queue files nor the listings hold the secret.
start_smtpd --auth "$USER_:other" --no-auth-require-tls --xoauth2 \
    --fail 'auth=535 5.7.8 bad credentials'
for mech in plain login xoauth2; do
	config $mech "queue off"
	run_postie -vv -C "$TMP/config" a@example.com <"$TMP/in"
	check_rc 77
	check_grep 'authentication failed: 535 5.7.8 bad credentials' \
	    "$TMP/stderr"
	no_secret "$TMP/stderr" "$TMP/stdout" "$TMP/log"
	config $mech ""
	run_postie -vv -C "$TMP/config" a@example.com <"$TMP/in"
	check_rc 77
	check_grep '^postie: NOT SENT: .*kept in the queue as ' "$TMP/stderr"
	no_secret "$TMP/stderr" "$TMP/stdout" "$TMP/log" "$TMP/queue"
done
check_count 0
run_postie -C "$TMP/config" -bp
check_rc 0
check_grep 'authentication failed' "$TMP/stdout"
no_secret "$TMP/stdout" "$TMP/stderr"
run_postie -C "$TMP/config" -bp --json
check_rc 0
no_secret "$TMP/stdout" "$TMP/stderr"
# A flush against the refusing server: still nothing.
run_postie -vv -C "$TMP/config" -qf
no_secret "$TMP/stdout" "$TMP/stderr" "$TMP/log" "$TMP/queue"
[ -s "$TMP/log" ] || fail "the logfile was never written"
exit 0
