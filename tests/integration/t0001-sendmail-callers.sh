#!/bin/sh
# Every real caller's command line works unchanged: the argv that cron,
# cronie, anacron, bsd-mailx, GNU mail, s-nail, git send-email, PHP,
# logwatch and mdadm pass to sendmail, each delivered through a real SMTP
# server with the envelope the caller meant.  (t0005 runs the clients
# themselves: mutt, s-nail, bsd-mailx, PHP, git send-email.)
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

start_smtpd
write_config "$TMP/config" <<EOF
host 127.0.0.1
port $SMTPD_PORT
qualify_domain example.org
EOF

n=0
# send "expected sender" 'expected rcpts (JSON list)' argv...  < message
send() {
	want_from=$1 want_rcpts=$2
	shift 2
	n=$((n + 1))
	run_postie -C "$TMP/config" "$@"
	check_rc 0
	check_count $n
	got_from=$(json_field $n mail_from)
	got_rcpts=$(json_field $n rcpt_tos)
	[ "$got_from" = "\"$want_from\"" ] ||
	    fail "caller $n ($*): sender $got_from, expected $want_from"
	[ "$got_rcpts" = "$want_rcpts" ] ||
	    fail "caller $n ($*): recipients $got_rcpts, expected $want_rcpts"
}
eml() { printf '%s/%04d.eml' "$SMTPD_DIR" "$1"; }

me=$(id -un)
cron_msg='Subject: Cron <root@host> run-parts /etc/cron.daily
Content-Type: text/plain; charset=UTF-8
From: root (Cron Daemon)
To: root

output of the job
'
# 1 Debian cron
printf '%s' "$cron_msg" >"$TMP/in"
send <"$TMP/in" "$me@example.org" '["root@example.org"]' \
    -FCronDaemon -i -B8BITMIME -oem root
check_grep '^From: root@example.org \(Cron Daemon\)' "$(eml 1)"
check_grep '^To: root@example.org' "$(eml 1)"
# 2 cronie
printf '%s' "$cron_msg" >"$TMP/in"
send <"$TMP/in" "user@example.org" '["root@example.org"]' \
    -FCronDaemon -i -odi -oem -oi -t -f user
# 3 anacron
printf 'Subject: anacron\n\njob output\n' >"$TMP/in"
send "$me@example.org" '["root@example.org"]' -FAnacron -odi root <"$TMP/in"
check_grep '^From: Anacron <' "$(eml 3)"
# 4, 5 bsd-mailx, without and with -f
printf 'To: ops@example.com\nSubject: mailx\n\nbody\n' >"$TMP/in"
send "$me@example.org" '["ops@example.com"]' -i -t <"$TMP/in"
printf 'To: ops@example.com\nCc: dev@example.com\nSubject: mailx\n\nbody\n' >"$TMP/in"
send <"$TMP/in" "me@example.net" '["ops@example.com", "dev@example.com"]' \
    -i -t -f me@example.net
# 6 GNU mail
printf 'To: a@example.com\nSubject: gnu\n\n.\nnot the end with -oi\n' >"$TMP/in"
send "user@host.example" '["a@example.com"]' -oi -f user@host.example -t <"$TMP/in"
check_grep '^not the end with -oi' "$(eml 6)"
# 7 s-nail
printf 'Subject: s-nail\n\nx\n' >"$TMP/in"
send "$me@example.org" '["rcpt@example.com"]' -i -- rcpt@example.com <"$TMP/in"
# 8 git send-email
printf 'From: Dev <dev@example.com>\nSubject: [PATCH] x\n\n---\n' >"$TMP/in"
send <"$TMP/in" "dev@example.com" '["a@example.com", "b@example.com"]' \
    -f dev@example.com -i a@example.com b@example.com
# 9 PHP mail()
printf 'To: web@example.com\nSubject: php\nX-PHP-Originating-Script: 0:x.php\n\nhi\n' >"$TMP/in"
send "$me@example.org" '["web@example.com"]' -t -i <"$TMP/in"
# 10 logwatch, mdadm
printf 'To: root\nFrom: mdadm monitoring <root>\nSubject: Fail event\n\nmd0\n' >"$TMP/in"
send "$me@example.org" '["root@example.org"]' -t <"$TMP/in"
check_grep '^From: mdadm monitoring <root@example.org>' "$(eml 10)"
# 11 cron's MAILTO with several addresses in one word
printf 'Subject: m\n\nx\n' >"$TMP/in"
send <"$TMP/in" "$me@example.org" '["a@example.com", "b@example.com"]' \
    'a@example.com, b@example.com'
# 12, 13 the null sender
printf 'Subject: bounce\n\nx\n' >"$TMP/in"
send "<>" '["a@example.com"]' -f '<>' a@example.com <"$TMP/in"
printf 'Subject: bounce\n\nx\n' >"$TMP/in"
send "<>" '["a@example.com"]' -f '' a@example.com <"$TMP/in"
# 14 as sendmail (the link's name)
ln -s "$POSTIE" "$TMP/sendmail"
printf 'Subject: link\n\nx\n' >"$TMP/in"
set +e
POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" "$TMP/sendmail" -C "$TMP/config" \
    -oi a@example.com <"$TMP/in" 2>"$TMP/stderr"
rc=$?
set -e
check_rc 0
check_count 14
exit 0
