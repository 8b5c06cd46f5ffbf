#!/bin/sh
# The msmtp face (issue 15): postie run through a link named "msmtp"
# takes msmtp's options with msmtp's meanings, and a lone "." never ends
# the input (mutt's set sendmail="/usr/bin/msmtp" relies on it).  The
# sendmail face's -X FILE appends the log line there.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

ln -s "$POSTIE" "$TMP/msmtp"
SENDMAIL=$POSTIE
POSTIE=$TMP/msmtp
start_smtpd
P1=$SMTPD_PORT D1=$SMTPD_DIR
start_smtpd
P2=$SMTPD_PORT D2=$SMTPD_DIR
DEAD=$(free_port)
write_config "$TMP/config" <<CONF
account default
host 127.0.0.1
port $DEAD
from default@example.org
account other
host 127.0.0.1
port $P2
from other@example.org
CONF
count() { find "$1" -name '[0-9]*.json' | wc -l; }

# mutt: a lone "." line is text, the message goes on after it; -a picks
# the account.
printf 'Subject: mutt\n\nfirst\n.\nafter the dot\n' >"$TMP/msg"
run_postie -C "$TMP/config" -a other -- a@example.com <"$TMP/msg"
check_rc 0
[ "$(count "$D2")" -eq 1 ] || fail "-a other: server 2 has $(count "$D2")"
check_grep '^after the dot' "$D2/0001.eml"
tr -d '\r' <"$D2/0001.eml" | grep -qx '\.' || fail "the lone dot was lost"
[ "$(count "$D1")" -eq 0 ] || fail "server 1 got mail"

# --host/--port: a server from the command line, no account of the file
# (its default account points at a dead port); both argument forms.
run_postie -C "$TMP/config" --host=127.0.0.1 --port="$P1" --tls=off \
    --auth=off b@example.com <"$TMP/msg"
check_rc 0
[ "$(count "$D1")" -eq 1 ] || fail "--host/--port: server 1 has $(count "$D1")"
run_postie -C "$TMP/config" --host 127.0.0.1 --port "$P1" --domain \
    client.example c@example.com <"$TMP/msg"
check_rc 0
[ "$(count "$D1")" -eq 2 ] || fail "--host X --port N: not delivered"
check_grep '^EHLO client.example$' "$D1/transcript.log"
# --port alone goes over the chosen account (its from stays)
run_postie -C "$TMP/config" --port="$P1" d@example.com <"$TMP/msg"
check_rc 0
[ "$(count "$D1")" -eq 3 ] || fail "--port over the default account"
grep -q '"default@example.org"' "$D1/0003.json" ||
    fail "the default account's from was not used"
# a bad value is named with its option
run_postie -C "$TMP/config" --port=notaport e@example.com <"$TMP/msg"
check_rc 64
check_grep "^msmtp: --port: invalid value 'notaport' for 'port'" \
    "$TMP/stderr"
run_postie -C "$TMP/config" -a other --host=127.0.0.1 e@example.com \
    <"$TMP/msg"
check_rc 64
check_grep 'cannot use both --host and --account' "$TMP/stderr"

# a server given on the command line that is down: not queued (a later
# flush would not know it), the caller keeps the message
run_postie -C "$TMP/config" --host=127.0.0.1 --port="$DEAD" f@example.com \
    <"$TMP/msg"
check_rc 75
check_no_grep 'queued as' "$TMP/stderr"
[ -z "$(find "$TMP/queue" -name '*.env' 2>/dev/null)" ] ||
    fail "a message for a command-line server was queued"

# --read-envelope-from: the From header's address is the envelope
# sender and chooses the account whose from matches
printf 'From: Other <other@example.org>\nSubject: ref\n\nbody\n' >"$TMP/ref"
run_postie -C "$TMP/config" --read-envelope-from g@example.com <"$TMP/ref"
check_rc 0
[ "$(count "$D2")" -eq 2 ] || fail "--read-envelope-from chose no account"
grep -q '"mail_from": "other@example.org"' "$D2/0002.json" ||
    fail "envelope sender: $(cat "$D2/0002.json")"

# -X LOGFILE (msmtp's --logfile): msmtp's field names
run_postie -C "$TMP/config" -a other -X "$TMP/msmtp.log" h@example.com \
    <"$TMP/msg"
check_rc 0
check_grep 'host=127.0.0.1 .*recipients=h@example.com .*smtpstatus=250 ' \
    "$TMP/msmtp.log"

# -P (--pretend): nothing is sent
run_postie -C "$TMP/config" -a other -P i@example.com <"$TMP/msg"
check_rc 0
[ "$(count "$D2")" -eq 3 ] || fail "-P sent the message"

# -S: postie's --server-info where this build has it, else said so
run_postie -C "$TMP/config" -a other -S
if "$SENDMAIL" --help | grep -q -- '--server-info'; then
	check_rc 0
else
	check_rc 64
	check_grep "msmtp's --serverinfo \(-S\) is not available" "$TMP/stderr"
fi
run_postie --rmqs=example.org
check_rc 64

# The sendmail face: -X FILE is the log line too, and a sender that
# carries PHP code cannot plant it in the file (CVE-2016-10033's -X).
POSTIE=$SENDMAIL
run_postie -C "$TMP/config" --account other -X "$TMP/web.php" \
    -f '"<?php_system(1);?>"@example.org' j@example.com <"$TMP/msg"
check_rc 0
check_grep 'recipients=j@example.com' "$TMP/web.php"
check_fixed_absent '<?' "$TMP/web.php"
# and there a lone dot still ends the message, as sendmail's
run_postie -C "$TMP/config" --account other k@example.com <"$TMP/msg"
check_rc 0
check_no_grep '^after the dot' "$D2/0005.eml"

# Without -C the msmtp face reads msmtp's own ~/.msmtprc, as msmtp does,
# when there is no ~/.postierc: a script calling msmtp works unchanged.
POSTIE=$TMP/msmtp
n1=$(count "$D1")
write_config "$TMP/.msmtprc" <<CONF
account default
host 127.0.0.1
port $P1
from rc@example.org
CONF
printf 'Subject: rc\n\nhello\n' >"$TMP/msg"
run_postie m@example.com <"$TMP/msg"
check_rc 0
[ "$(count "$D1")" -eq $((n1 + 1)) ] || fail "~/.msmtprc was not read"
check_grep '^Subject: rc' "$D1/000$((n1 + 1)).eml"
# postie's own user file, when present, wins
write_config "$TMP/.postierc" <<CONF
account default
host 127.0.0.1
port $DEAD
from rc@example.org
queue off
CONF
run_postie m@example.com <"$TMP/msg"
check_rc 75
[ "$(count "$D1")" -eq $((n1 + 1)) ] || fail "~/.msmtprc won over ~/.postierc"
rm -f "$TMP/.msmtprc" "$TMP/.postierc"
exit 0
