#!/bin/sh
# -bs with a real framework (issue 12): Debian's php-symfony-mailer, its
# SendmailTransport with the default "-bs" command pointed at postie.
# Two messages in one script (one with an attachment) arrive once each;
# a recipient the relay refuses makes Symfony throw.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

command -v php >/dev/null 2>&1 || skip "no php (apt-get install php-cli)"
[ -f /usr/share/php/Symfony/Component/Mailer/autoload.php ] ||
    skip "no symfony/mailer (apt-get install php-symfony-mailer)"

start_smtpd --fail 'rcpt:bad@example.com=550 5.1.1 user unknown'
write_config "$TMP/config" <<CONF
account default
queue off
host 127.0.0.1
port $SMTPD_PORT
from app@example.org
timeout 5
CONF
printf '%%PDF-1.4 not really\n' >"$TMP/report.pdf"

cmd="$POSTIE -C $TMP/config -bs"
# POSTIE_VALGRIND=1 (as run_postie): the session under valgrind too
[ "${POSTIE_VALGRIND:-0}" = 1 ] &&
    cmd="valgrind -q --error-exitcode=99 --leak-check=full \
--errors-for-leak-kinds=definite,indirect --child-silent-after-fork=yes \
--log-file=$TMP/valgrind.%p $cmd"
POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" \
    php "$POSTIE_SRCDIR/tests/integration/t0801-bs-symfony.php" \
    "$cmd" "$TMP/report.pdf" \
    >"$TMP/stdout" 2>"$TMP/stderr" || fail "php failed: $(cat "$TMP/stdout")"
for v in "$TMP"/valgrind.*; do
	[ ! -s "$v" ] || fail "valgrind: $(cat "$v")"
done
check_grep '^sent 1$' "$TMP/stdout"
check_grep '^sent 2$' "$TMP/stdout"
check_grep '^thrown 3: .*550.*user unknown' "$TMP/stdout"
check_no_grep '^sent 3$' "$TMP/stdout"
[ ! -s "$TMP/stderr" ] || fail "stderr: $(cat "$TMP/stderr")"

check_count 2
[ "$(json_field 1 rcpt_tos)" = '["a@example.com"]' ] ||
    fail "rcpt_tos 1 is $(json_field 1 rcpt_tos)"
[ "$(json_field 2 rcpt_tos)" = '["b@example.com", "c@example.com"]' ] ||
    fail "rcpt_tos 2 is $(json_field 2 rcpt_tos)"
check_grep '^Subject: symfony one' "$SMTPD_DIR/0001.eml"
check_grep '^\.a dot line' "$SMTPD_DIR/0001.eml"
check_grep '^Subject: symfony two' "$SMTPD_DIR/0002.eml"
check_grep 'filename=report\.pdf' "$SMTPD_DIR/0002.eml"
# each message once
[ "$(grep -l 'symfony one' "$SMTPD_DIR"/*.eml | wc -l)" -eq 1 ] ||
    fail "message 1 arrived more than once"
[ "$(grep -l 'symfony two' "$SMTPD_DIR"/*.eml | wc -l)" -eq 1 ] ||
    fail "message 2 arrived more than once"
exit 0
