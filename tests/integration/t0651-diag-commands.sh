#!/bin/sh
# D4: postie --verify ADDR (VRFY), --expand LIST (EXPN), --server-help [TOPIC]
# (HELP): the relay's reply on stdout, 0 only for a 2xx; 67 no such user
# or list, 69 not offered, 75 a 4xx; connection and login failures as for
# --server-info; the account by --account or msmtp's -a (issue 14).
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

start_smtpd --vrfy 'bob@example.org=550 5.1.1 <bob@example.org>: no such user' \
    --vrfy 'alice@example.org=250 2.1.5 Alice <alice@example.org>' \
    --vrfy 'later@example.org=450 4.2.1 try later' \
    --expn 'staff=250-Alice <alice@example.org>|250 Bob <bob@example.org>' \
    --expn 'nolist=550 5.1.1 no such list'
write_config "$TMP/config" <<CONF
account default
host 127.0.0.1
port $SMTPD_PORT
from sender@example.org

account other
host 127.0.0.1
port $(free_port)
from sender@example.org
CONF

run_postie -C "$TMP/config" --verify alice@example.org
check_rc 0
[ "$(cat "$TMP/stdout")" = '250 2.1.5 Alice <alice@example.org>' ] ||
    fail "unexpected VRFY output: $(cat "$TMP/stdout")"
check_grep '^VRFY alice@example.org$' "$(transcript)"
check_no_grep '^(MAIL|RCPT|DATA)' "$(transcript)"

# 252: cannot verify, but will accept (aiosmtpd's default): 0
run_postie -C "$TMP/config" --verify carol@example.org
check_rc 0
check_grep '^252 ' "$TMP/stdout"

run_postie -C "$TMP/config" --verify bob@example.org
check_rc 67
check_grep '^550 5\.1\.1 <bob@example\.org>: no such user$' "$TMP/stdout"
check_grep "^postie: 127\.0\.0\.1:$SMTPD_PORT: VRFY bob@example\.org: 550 .*: the relay knows no such address\$" "$TMP/stderr"

run_postie -C "$TMP/config" --verify later@example.org
check_rc 75
check_grep 'try again later' "$TMP/stderr"

# EXPN: every line of a multi-line reply
run_postie -C "$TMP/config" --expand staff
check_rc 0
printf '250-Alice <alice@example.org>\n250 Bob <bob@example.org>\n' >"$TMP/want"
cmp -s "$TMP/want" "$TMP/stdout" || fail "unexpected EXPN output: $(cat "$TMP/stdout")"
check_grep '^EXPN staff' "$(transcript)"
run_postie -C "$TMP/config" --expand nolist
check_rc 67
check_grep 'no such list' "$TMP/stderr"
# not implemented (aiosmtpd's own 502): 69
run_postie -C "$TMP/config" --expand all
check_rc 69
check_grep '^502 ' "$TMP/stdout"
check_grep 'the relay does not offer EXPN' "$TMP/stderr"

# HELP, and HELP with a topic
run_postie -C "$TMP/config" --server-help
check_rc 0
check_grep '^250 Supported commands: .*VRFY' "$TMP/stdout"
check_grep '^HELP$' "$(transcript)"
run_postie -C "$TMP/config" --server-help MAIL
check_rc 0
check_grep '^250 Syntax: MAIL FROM:' "$TMP/stdout"
check_grep '^HELP MAIL$' "$(transcript)"

# The account: --account and msmtp's -a name the one that is down.
for opt in --account -a; do
	run_postie -C "$TMP/config" --server-help "$opt" other
	check_rc 75
	check_grep 'refused; check .host. and .port.' "$TMP/stderr"
done
run_postie -C "$TMP/config" --server-info -a nosuch
check_rc 78

# Usage errors: 64, nothing sent.
run_postie -C "$TMP/config" --verify "$(printf 'a@b\r\nRSET')"
check_rc 64
run_postie -C "$TMP/config" --verify ''
check_rc 64
run_postie -C "$TMP/config" --server-info a@example.org
check_rc 64
check_grep "unexpected operand 'a@example.org'" "$TMP/stderr"
run_postie -C "$TMP/config" --server-info -s subject
check_rc 64
check_grep 'no compose options' "$TMP/stderr"
check_no_grep 'RSET' "$(transcript)"
exit 0
