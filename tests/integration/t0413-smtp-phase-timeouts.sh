#!/bin/sh
# R23 (per phase): each wait has its own timeout, as RFC 5321 4.5.3.2
# and postie.conf(5) say; the greeting, EHLO, STARTTLS and AUTH no
# longer share the 30 s connect timeout.  With "timeout N" every wait
# is N on its own: a greeting and an EHLO reply that each take most of
# N (together more than N) are fine; one reply later than N is a
# timeout named by its step, and the message is queued.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

config() {
	write_config "$TMP/config" <<CONF
account default
host 127.0.0.1
port $SMTPD_PORT
from sender@example.org
$1
CONF
}
printf 'Subject: phases\n\nhello\n' >"$TMP/in"

# Each wait is N: greeting 2 s + EHLO 2 s > timeout 3, delivered.
start_smtpd --delay greeting=2 --delay ehlo=2 --delay mail=2 --delay rcpt=2
config "timeout 3"
run_postie -C "$TMP/config" a@example.com <"$TMP/in"
check_rc 0
check_count 1

# One reply later than N: queued, and the step is named.
for step in ehlo mail rcpt data; do
	start_smtpd --delay "$step=6"
	config "timeout 3"
	rm -rf "$TMP/queue"
	run_postie -C "$TMP/config" a@example.com <"$TMP/in"
	check_rc 0
	case $step in
	ehlo)	want="no reply to EHLO within 3 s" ;;
	mail)	want="no reply to MAIL FROM within 3 s" ;;
	rcpt)	want="no reply to RCPT TO within 3 s" ;;
	data)	want="no reply to DATA within 3 s" ;;
	esac
	check_grep "^postie: queued as .*$want" "$TMP/stderr"
	check_count 0
	run_postie -C "$TMP/config" -bp
	check_grep "$want" "$TMP/stdout"
done
start_smtpd --delay greeting=6
config "timeout 3"
rm -rf "$TMP/queue"
run_postie -C "$TMP/config" a@example.com <"$TMP/in"
check_rc 0
check_grep "^postie: queued as .*connected to 127.0.0.1:$SMTPD_PORT, but it sent no greeting in time" "$TMP/stderr"

# The defaults: a greeting after 32 s is inside the RFC's 5 minutes,
# though past the 30 s for connecting (which it used to share).
start_smtpd --delay greeting=32
config ""
rm -rf "$TMP/queue"
run_postie -C "$TMP/config" a@example.com <"$TMP/in"
check_rc 0
check_no_grep 'queued' "$TMP/stderr"
check_count 1
exit 0
