#!/bin/sh
# Real mail clients from Debian 12 (C1-C7 in tests/README) with postie as
# their sendmail: mutt, s-nail, bsd-mailx, PHP mail() and git send-email
# each send through integration/smtpd.py, and each refusal (550 to every
# recipient) reaches the client as the failure it is; a hangup during
# s-nail's send (C7) does not stop it.  t0001 replays the argv such
# callers pass; here the clients build the message and the argv
# themselves.  Every client runs with HOME, MAIL and its rc file in $TMP:
# none of them sees /usr/sbin/sendmail, ~/.muttrc or /var/mail.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

missing=""
for c in mutt s-nail bsd-mailx php git perl; do
	command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
done
# git send-email is a Perl script in git's exec path; it needs Mail::Address
if ! command -v git >/dev/null 2>&1 ||
    [ ! -x "$(git --exec-path)/git-send-email" ] ||
    ! perl -MMail::Address -e 1 2>/dev/null; then
	missing="$missing git-send-email"
fi
[ -z "$missing" ] || skip "clients missing:$missing (apt-get install mutt s-nail bsd-mailx php-cli git-email libmailtools-perl)"

me=$(id -un)
start_smtpd
GOOD_DIR=$SMTPD_DIR GOOD_PORT=$SMTPD_PORT
start_smtpd --fail 'rcpt:nobody@example.com=550 5.1.1 no such user'
BAD_DIR=$SMTPD_DIR BAD_PORT=$SMTPD_PORT
mkdir "$TMP/mail" "$TMP/home" "$TMP/bin" "$TMP/sbin" "$TMP/calls"
for c in good bad; do
	if [ $c = good ]; then port=$GOOD_PORT; else port=$BAD_PORT; fi
	write_config "$TMP/$c.conf" <<EOF
host 127.0.0.1
port $port
timeout 10
qualify_domain example.org
local_spool $TMP/mail
logfile $TMP/log
EOF
done

# The clients' sendmail: postie under the name it is installed as, with
# the environment run_postie gives it, under valgrind with
# POSTIE_VALGRIND=1 (a memory error or a leak: exit 99).  Each call leaves
# its argv (one word a line), stderr and exit code in $TMP/calls/N/ and
# passes stderr and the exit code on to the client.
ln -s "$POSTIE" "$TMP/sbin/sendmail"
cat >"$TMP/bin/sendmail" <<EOF
#!/bin/sh
n=1
while ! mkdir "$TMP/calls/\$n" 2>/dev/null; do
	n=\$((n + 1))
	[ \$n -le 100 ] || exit 70
done
d="$TMP/calls/\$n"
printf '%s\n' "\$@" >"\$d/argv"
if [ "${POSTIE_VALGRIND:-0}" = 1 ]; then
	POSTIE_SYSCONFIG=/nonexistent valgrind -q --error-exitcode=99 \\
	    --leak-check=full --errors-for-leak-kinds=definite,indirect \\
	    --child-silent-after-fork=yes --log-file="\$d/valgrind.%p" \\
	    "$TMP/sbin/sendmail" "\$@" 2>"\$d/stderr"
else
	POSTIE_SYSCONFIG=/nonexistent "$TMP/sbin/sendmail" "\$@" 2>"\$d/stderr"
fi
rc=\$?
[ \$rc -ne 99 ] || cat "\$d"/valgrind.* >>"\$d/stderr"
echo \$rc >"\$d/rc"
cat "\$d/stderr" >&2
exit \$rc
EOF
# bsd-mailx and git's --smtp-server run their sendmail without arguments
# of its own: one wrapper per config.
for c in good bad; do
	printf '#!/bin/sh\nexec %s -C %s "$@"\n' "$TMP/bin/sendmail" \
	    "$TMP/$c.conf" >"$TMP/bin/sendmail-$c"
done
chmod +x "$TMP/bin/sendmail" "$TMP/bin/sendmail-good" "$TMP/bin/sendmail-bad"

# Reads a received message with Python's email package.
cat >"$TMP/msg.py" <<'EOF'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"),
                                   policy=email.policy.default)
what, args = sys.argv[2], sys.argv[3:]
if what == "header":            # every value, decoded (RFC 2047)
    for v in m.get_all(args[0]) or []:
        print(str(v))
elif what == "count":           # how many such header fields
    print(len(m.get_all(args[0]) or []))
elif what == "text":            # the first text/plain part, decoded
    part = m.get_body(preferencelist=("plain",))
    sys.stdout.write(part.get_content())
elif what == "attachment":      # attachment NAME OUT: its decoded bytes
    for part in m.iter_attachments():
        if part.get_filename() == args[0]:
            open(args[1], "wb").write(part.get_payload(decode=True))
            sys.exit(0)
    sys.exit("no attachment named %s" % args[0])
EOF
msg() { "$PYTHON" "$TMP/msg.py" "$@"; }

# The clients' environment: nothing of the real user's or the system's.
clientenv() {
	env HOME="$TMP/home" MAIL="$TMP/home/spool" MAILRC=/dev/null \
	    GIT_CONFIG_NOSYSTEM=1 LC_ALL=C.UTF-8 TERM=dumb "$@"
}
# client NAME CMD... [<input]: run a client; sets $crc, leaves its output
# in $TMP/client.out and $TMP/client.err, and postie's last call's stderr
# in $TMP/stderr (for fail()).  Never fails by itself.
client() {
	cname=$1
	shift
	calls_before=$(ncalls)
	set +e
	clientenv timeout 120 "$@" >"$TMP/client.out" 2>"$TMP/client.err"
	crc=$?
	set -e
	last=$(ncalls)
	if [ "$last" -gt 0 ]; then
		cp "$TMP/calls/$last/stderr" "$TMP/stderr" 2>/dev/null || :
	fi
	[ "$crc" -ne 124 ] || fail "$cname did not finish in 120 s"
}
ncalls() { find "$TMP/calls" -mindepth 1 -maxdepth 1 -type d | wc -l; }
# check_calls N: the client ran sendmail N times (in all); each exited.
check_calls() {
	got=$(ncalls)
	[ "$got" -eq "$1" ] || fail "$cname ran sendmail $got times, expected $1"
	[ -f "$TMP/calls/$got/rc" ] || fail "$cname: postie's call $got never ended"
}
# call_rc N: the exit code of postie's call N.
call_rc() { cat "$TMP/calls/$1/rc"; }
# check_argv N 'word word ...': postie's call N got exactly these words.
check_argv() {
	got=$(tr '\n' ' ' <"$TMP/calls/$1/argv")
	[ "$got" = "$2 " ] || fail "$cname ran sendmail with '$got', expected '$2'"
}
# at DIR N: server DIR's message N, .eml
at() { printf '%s/%04d.eml' "$1" "$2"; }
# check_env DIR N SENDER 'RCPTS (JSON)': the envelope of DIR's message N.
check_env() {
	SMTPD_DIR=$1
	got=$(json_field "$2" mail_from)
	[ "$got" = "\"$3\"" ] || fail "$cname: envelope sender $got, expected $3"
	got=$(json_field "$2" rcpt_tos)
	[ "$got" = "$4" ] || fail "$cname: recipients $got, expected $4"
}
# check_server DIR N: DIR has received N messages in all.
check_server() {
	got=$(find "$1" -name '[0-9]*.json' | wc -l)
	[ "$got" -eq "$2" ] ||
	    fail "$cname: $1 received $got messages, expected $2"
}
# check_header EML NAME VALUE: the header field, decoded, is VALUE.
check_header() {
	got=$(msg "$1" header "$2")
	[ "$got" = "$3" ] || fail "$cname: $2 is '$got', expected '$3'"
}
# check_no_header EML NAME
check_no_header() {
	[ "$(msg "$1" count "$2")" -eq 0 ] || fail "$cname: $2 header in $1"
}
# check_attachment EML NAME FILE: the attachment decodes to FILE's bytes.
check_attachment() {
	msg "$1" attachment "$2" "$TMP/got.att" ||
	    fail "$cname: no attachment $2 in $1"
	cmp -s "$3" "$TMP/got.att" ||
	    fail "$cname: attachment $2 differs from what was attached"
}
# check_once EML: one Date and one Message-ID (the client's or postie's).
check_once() {
	[ "$(msg "$1" count Message-ID)" -eq 1 ] ||
	    fail "$cname: not one Message-ID in $1"
	[ "$(msg "$1" count Date)" -eq 1 ] || fail "$cname: not one Date in $1"
}
check_client_grep() {
	grep -Eq -- "$1" "$TMP/client.err" "$TMP/client.out" || {
		cat "$TMP/client.out" "$TMP/client.err" >&2
		fail "$cname: '$1' not in its output"
	}
}
# check_dotline EML: a line holding one dot came through.
check_dotline() {
	grep -q "$(printf '^\\.\r$')" "$1" || fail "$cname: the lone dot is gone"
}
refused='all recipients refused: 550 5.1.1 no such user'

# The attachment: every byte value, then 300 KiB of noise (a message over
# 256 KiB, which postie spools before sending).
"$PYTHON" -c 'import os, sys
sys.stdout.buffer.write(bytes(range(256)) + os.urandom(300 * 1024))' \
    >"$TMP/data.bin"
# A body with a line holding one dot, which must not end the message.
printf 'Grüße,\n.\nthe report is attached.\n' >"$TMP/body"
subject='Grüße aus Köln: report'
ngood=0 n=0

# C1: mutt in batch mode, with mutt's default $sendmail flags (-oem -oi),
# the envelope sender from $from, and the Bcc header written (write_bcc):
# postie must take Bcc into the envelope and drop the header.
muttrc() {
	cat <<EOF
set sendmail="$TMP/bin/sendmail -oem -oi -C $TMP/$1.conf"
set from="Mutt User <mutt@example.com>"
set use_envelope_from=yes
set write_bcc=yes
set copy=no
set record=""
set charset="utf-8"
set send_charset="utf-8"
set folder="$TMP/home/Mail"
set spoolfile="$TMP/home/spool"
set mbox="$TMP/home/mbox"
set postponed="$TMP/home/postponed"
EOF
}
muttrc good >"$TMP/muttrc"
client mutt mutt -n -F "$TMP/muttrc" -s "$subject" -c cc@example.com \
    -b bcc@example.com -a "$TMP/data.bin" -- rcpt@example.com <"$TMP/body"
n=$((n + 1)) ngood=$((ngood + 1))
[ "$crc" -eq 0 ] || fail "mutt exited $crc: $(cat "$TMP/client.err")"
check_calls $n
[ "$(call_rc $n)" -eq 0 ] || fail "mutt: postie exited $(call_rc $n)"
check_argv $n "-oem -oi -C $TMP/good.conf -f mutt@example.com -- rcpt@example.com cc@example.com bcc@example.com"
[ ! -s "$TMP/calls/$n/stderr" ] || fail "mutt: postie wrote to stderr"
check_server "$GOOD_DIR" $ngood
check_env "$GOOD_DIR" $ngood mutt@example.com \
    '["rcpt@example.com", "cc@example.com", "bcc@example.com"]'
eml=$(at "$GOOD_DIR" $ngood)
check_header "$eml" Subject "$subject"
check_header "$eml" From 'Mutt User <mutt@example.com>'
check_header "$eml" Cc cc@example.com
check_no_header "$eml" Bcc
check_fixed_absent bcc@example.com "$eml"
check_once "$eml"
check_attachment "$eml" data.bin "$TMP/data.bin"
msg "$eml" text >"$TMP/got.txt"
cmp -s "$TMP/body" "$TMP/got.txt" || fail "mutt: the text differs"

# mutt's refusal: postie exits 67 with the server's reply, which mutt
# shows; with -oem the refusal is also bounced to the local mailbox (of
# the user running postie, as mutt@example.com is not local).
muttrc bad >"$TMP/muttrc"
client mutt mutt -n -F "$TMP/muttrc" -s refused -- nobody@example.com <"$TMP/body"
n=$((n + 1))
[ "$crc" -ne 0 ] || fail "mutt exited 0 on a refusal"
check_calls $n
[ "$(call_rc $n)" -eq 67 ] || fail "mutt: postie exited $(call_rc $n), expected 67"
check_grep "$refused" "$TMP/calls/$n/stderr"
check_grep 'bounce for <mutt@example.com> written' "$TMP/calls/$n/stderr"
check_client_grep 'child exited 67'
check_client_grep "$refused"
check_grep '^Subject: Undelivered Mail Returned to Sender' "$TMP/mail/$me"
check_server "$BAD_DIR" 0
rm -f "$TMP/mail/$me"

# C2: s-nail; mta-arguments carries -C, -r the sender (s-nail passes
# -F NAME -f ADDR), sendwait makes its exit status the MTA's.
snail() {
	conf=$1
	shift
	client s-nail s-nail -n -Snosave -Ssendwait -Sttycharset=utf-8 \
	    -Sexpandaddr=restrict -Smta="$TMP/bin/sendmail" \
	    -Smta-arguments="-C $TMP/$conf.conf" "$@"
}
snail good -s "$subject" -a "$TMP/data.bin" -r 'Snail User <snail@example.com>' \
    -c cc@example.com -b bcc@example.com rcpt@example.com <"$TMP/body"
n=$((n + 1)) ngood=$((ngood + 1))
[ "$crc" -eq 0 ] || fail "s-nail exited $crc: $(cat "$TMP/client.err")"
check_calls $n
[ "$(call_rc $n)" -eq 0 ] || fail "s-nail: postie exited $(call_rc $n)"
check_argv $n "-i -C $TMP/good.conf -F Snail User -f snail@example.com -- rcpt@example.com cc@example.com bcc@example.com"
[ ! -s "$TMP/calls/$n/stderr" ] || fail "s-nail: postie wrote to stderr"
check_server "$GOOD_DIR" $ngood
check_env "$GOOD_DIR" $ngood snail@example.com \
    '["rcpt@example.com", "cc@example.com", "bcc@example.com"]'
eml=$(at "$GOOD_DIR" $ngood)
check_header "$eml" Subject "$subject"
check_header "$eml" From 'Snail User <snail@example.com>'
check_no_header "$eml" Bcc
check_fixed_absent bcc@example.com "$eml"
check_once "$eml"
check_attachment "$eml" data.bin "$TMP/data.bin"
msg "$eml" text >"$TMP/got.txt"
cmp -s "$TMP/body" "$TMP/got.txt" || fail "s-nail: the text differs"

snail bad -s refused -r snail@example.com nobody@example.com <"$TMP/body"
n=$((n + 1))
[ "$crc" -ne 0 ] || fail "s-nail exited 0 on a refusal"
check_calls $n
[ "$(call_rc $n)" -eq 67 ] || fail "s-nail: postie exited $(call_rc $n), expected 67"
check_grep "$refused" "$TMP/calls/$n/stderr"
check_client_grep "$refused"
check_client_grep 'message not sent'
check_server "$BAD_DIR" 0

# C3: bsd-mailx, its sendmail from a MAILRC (an executable path, no
# arguments: the wrapper adds -C); it passes -i -t and writes the Bcc
# header, which postie must move into the envelope only.
printf 'set sendmail=%s\nset nosave\n' "$TMP/bin/sendmail-good" >"$TMP/mailrc"
printf 'mailx body\n.\nafter the dot\n' >"$TMP/mailx.body"
client bsd-mailx env MAILRC="$TMP/mailrc" bsd-mailx -s 'mailx subject' \
    -c cc@example.com -b bcc@example.com rcpt@example.com <"$TMP/mailx.body"
n=$((n + 1)) ngood=$((ngood + 1))
[ "$crc" -eq 0 ] || fail "bsd-mailx exited $crc: $(cat "$TMP/client.err")"
check_calls $n
[ "$(call_rc $n)" -eq 0 ] || fail "bsd-mailx: postie exited $(call_rc $n)"
check_argv $n "-C $TMP/good.conf -i -t"
[ ! -s "$TMP/calls/$n/stderr" ] || fail "bsd-mailx: postie wrote to stderr"
check_server "$GOOD_DIR" $ngood
check_env "$GOOD_DIR" $ngood "$me@example.org" \
    '["rcpt@example.com", "cc@example.com", "bcc@example.com"]'
eml=$(at "$GOOD_DIR" $ngood)
check_header "$eml" Subject 'mailx subject'
check_header "$eml" To rcpt@example.com
check_header "$eml" Cc cc@example.com
check_grep "^From: (.* <)?$me@example.org>?.?$" "$eml"
check_no_header "$eml" Bcc
check_fixed_absent bcc@example.com "$eml"
check_once "$eml"
msg "$eml" text >"$TMP/got.txt"
cmp -s "$TMP/mailx.body" "$TMP/got.txt" || fail "bsd-mailx: the text differs"

printf 'set sendmail=%s\nset nosave\n' "$TMP/bin/sendmail-bad" >"$TMP/mailrc"
client bsd-mailx env MAILRC="$TMP/mailrc" bsd-mailx -s refused \
    nobody@example.com <"$TMP/mailx.body"
n=$((n + 1))
[ "$crc" -ne 0 ] || fail "bsd-mailx exited 0 on a refusal"
check_calls $n
[ "$(call_rc $n)" -eq 67 ] || fail "bsd-mailx: postie exited $(call_rc $n), expected 67"
check_client_grep "$refused"
check_client_grep 'sendmail process failed with error code 67'
check_server "$BAD_DIR" 0

# C4: PHP mail() through sendmail_path, extra headers as one CRLF-joined
# string (the usual form), the 5th parameter -f for the envelope.
php_headers='From: Web <web-from@example.com>\r\nX-Extra: yes\r\nCc: phpcc@example.com\r\nBcc: hidden@example.com\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8'
# php_mail CONF TO SUBJECT [HEADERS]: mail() prints what it returned.
php_mail() {
	client php php -n -d "sendmail_path=$TMP/bin/sendmail -C $TMP/$1.conf -t -i" \
	    -r 'var_export(mail($argv[1], $argv[2], "php body\n.\nend\n",
	        stripcslashes($argv[3]), "-f bounce@example.com"));' \
	    "$2" "$3" "${4:-$php_headers}"
}
php_subject='=?UTF-8?B?'$(printf '%s' "$subject" | base64 -w0)'?='
php_mail good 'Web One <web1@example.com>, web2@example.com' "$php_subject"
n=$((n + 1)) ngood=$((ngood + 1))
[ "$crc" -eq 0 ] || fail "php exited $crc: $(cat "$TMP/client.err")"
[ "$(cat "$TMP/client.out")" = true ] ||
    fail "mail() returned $(cat "$TMP/client.out"), expected true"
check_calls $n
[ "$(call_rc $n)" -eq 0 ] || fail "php: postie exited $(call_rc $n)"
check_argv $n "-C $TMP/good.conf -t -i -f bounce@example.com"
[ ! -s "$TMP/calls/$n/stderr" ] || fail "php: postie wrote to stderr"
check_server "$GOOD_DIR" $ngood
check_env "$GOOD_DIR" $ngood bounce@example.com \
    '["web1@example.com", "web2@example.com", "phpcc@example.com", "hidden@example.com"]'
eml=$(at "$GOOD_DIR" $ngood)
check_header "$eml" Subject "$subject"
check_header "$eml" To 'Web One <web1@example.com>, web2@example.com'
check_header "$eml" X-Extra yes
check_header "$eml" From 'Web <web-from@example.com>'
check_no_header "$eml" Bcc
check_fixed_absent hidden@example.com "$eml"
check_once "$eml"
check_dotline "$eml"
check_grep '^end' "$eml"

# A refused recipient: mail() returns false, postie says why (exit 67).
php_mail bad nobody@example.com refused 'From: web-from@example.com'
n=$((n + 1))
[ "$(cat "$TMP/client.out")" = false ] ||
    fail "mail() returned $(cat "$TMP/client.out") on a refusal, expected false"
check_calls $n
[ "$(call_rc $n)" -eq 67 ] || fail "php: postie exited $(call_rc $n), expected 67"
check_grep "$refused" "$TMP/calls/$n/stderr"
check_client_grep "$refused"
check_server "$BAD_DIR" 0

# Only some recipients refused (R10): delivered to the others, exit 0, so
# mail() returns true; the refused one is named on stderr.
php_mail bad nobody@example.com 'partly refused'
n=$((n + 1))
[ "$(cat "$TMP/client.out")" = true ] ||
    fail "mail() returned $(cat "$TMP/client.out") on a partial refusal"
check_calls $n
[ "$(call_rc $n)" -eq 0 ] || fail "php: postie exited $(call_rc $n), expected 0"
check_grep 'recipient <nobody@example.com> rejected by server: 550 5.1.1 no such user' \
    "$TMP/calls/$n/stderr"
check_server "$BAD_DIR" 1
check_env "$BAD_DIR" 1 bounce@example.com '["phpcc@example.com", "hidden@example.com"]'

# C5: git send-email, once through --sendmail-cmd (a shell command line;
# the envelope sender is the local user, as git passes no -f), once
# through --smtp-server=/abs/path with --envelope-sender=auto (-f from
# --from).  The commit message holds a line with one dot (git passes -i).
git init -q "$TMP/repo"
(
	cd "$TMP/repo"
	clientenv git config user.name 'Dev Eloper'
	clientenv git config user.email dev@example.com
	printf 'hello\n' >f
	clientenv git add f
	clientenv git commit -q -m 'add f' -m "$(printf 'why:\n.\nthe end')"
	clientenv git format-patch -q -1 -o "$TMP/patches"
) || fail "cannot make the git repository"
patch=$(ls "$TMP/patches"/*.patch)
gse() {
	client git-send-email sh -c 'cd "$1" && shift && exec git send-email "$@" </dev/null' \
	    - "$TMP/repo" --to=list@example.com --cc=rev@example.com \
	    --from='Dev Eloper <dev@example.com>' --suppress-cc=all \
	    --confirm=never --no-validate --quiet "$@" "$patch"
}
gse --sendmail-cmd="$TMP/bin/sendmail -C $TMP/good.conf"
n=$((n + 1)) ngood=$((ngood + 1))
[ "$crc" -eq 0 ] || fail "git send-email exited $crc: $(cat "$TMP/client.err")"
check_calls $n
[ "$(call_rc $n)" -eq 0 ] || fail "git send-email: postie exited $(call_rc $n)"
check_argv $n "-C $TMP/good.conf -i list@example.com rev@example.com"
check_server "$GOOD_DIR" $ngood
check_env "$GOOD_DIR" $ngood "$me@example.org" \
    '["list@example.com", "rev@example.com"]'
eml=$(at "$GOOD_DIR" $ngood)
check_header "$eml" Subject '[PATCH] add f'
check_header "$eml" From 'Dev Eloper <dev@example.com>'
check_once "$eml"
check_dotline "$eml"
check_grep '^\+hello' "$eml"

gse --smtp-server="$TMP/bin/sendmail-good" --envelope-sender=auto
n=$((n + 1)) ngood=$((ngood + 1))
[ "$crc" -eq 0 ] || fail "git send-email exited $crc: $(cat "$TMP/client.err")"
check_calls $n
check_argv $n "-C $TMP/good.conf -f dev@example.com -i list@example.com rev@example.com"
check_server "$GOOD_DIR" $ngood
check_env "$GOOD_DIR" $ngood dev@example.com \
    '["list@example.com", "rev@example.com"]'
check_header "$(at "$GOOD_DIR" $ngood)" Subject '[PATCH] add f'

client git-send-email sh -c 'cd "$1" && shift && exec git send-email "$@" </dev/null' \
    - "$TMP/repo" --to=nobody@example.com --from='Dev Eloper <dev@example.com>' \
    --suppress-cc=all --confirm=never --no-validate --quiet \
    --sendmail-cmd="$TMP/bin/sendmail -C $TMP/bad.conf" "$patch"
n=$((n + 1))
[ "$crc" -ne 0 ] || fail "git send-email exited 0 on a refusal"
check_calls $n
[ "$(call_rc $n)" -eq 67 ] || fail "git send-email: postie exited $(call_rc $n), expected 67"
check_client_grep "$refused"
check_server "$BAD_DIR" 1

# C6: the relay down.  With the queue on, postie keeps the message and
# exits 0 (README's exit table), so mail() returns true and says nothing
# is lost: "queued as ID" on stderr; the flush delivers it once.  With
# queue off it exits 75 and mail() returns false.
down=$(free_port)
write_config "$TMP/down.conf" <<EOF
host 127.0.0.1
port $down
timeout 10
qualify_domain example.org
local_spool $TMP/mail
EOF
php_mail down web1@example.com 'queued'
n=$((n + 1))
[ "$(cat "$TMP/client.out")" = true ] ||
    fail "mail() returned $(cat "$TMP/client.out") with the message queued"
check_calls $n
[ "$(call_rc $n)" -eq 0 ] || fail "php: postie exited $(call_rc $n) with the message queued"
check_grep "queued as [^ ]+: connection to 127.0.0.1:$down refused" "$TMP/calls/$n/stderr"
run_postie -C "$TMP/good.conf" -q
check_rc 0
ngood=$((ngood + 1))
check_server "$GOOD_DIR" $ngood
check_env "$GOOD_DIR" $ngood bounce@example.com \
    '["web1@example.com", "phpcc@example.com", "hidden@example.com"]'
check_header "$(at "$GOOD_DIR" $ngood)" Subject queued

printf 'queue off\n' >>"$TMP/down.conf"
php_mail down web1@example.com 'not kept'
n=$((n + 1))
[ "$(cat "$TMP/client.out")" = false ] ||
    fail "mail() returned $(cat "$TMP/client.out") with nothing kept"
check_calls $n
[ "$(call_rc $n)" -eq 75 ] || fail "php: postie exited $(call_rc $n), expected 75"
check_grep "connection to 127.0.0.1:$down refused" "$TMP/calls/$n/stderr"
check_server "$GOOD_DIR" $ngood

# C7: a hangup while s-nail's sendmail talks to a slow relay.  s-nail and
# bsd-mailx run their sendmail with SIGHUP and SIGINT ignored, so that
# closing the terminal does not stop the send (s-nail without sendwait
# does not even wait for it); postie keeps them ignored and delivers.
# (Before: "queued as ID: interrupted by signal 1", sent only by a flush.)
start_smtpd --delay rcpt=2
SLOW_DIR=$SMTPD_DIR
write_config "$TMP/slow.conf" <<EOF
host 127.0.0.1
port $SMTPD_PORT
timeout 30
qualify_domain example.org
local_spool $TMP/mail
EOF
vg=""
if [ "${POSTIE_VALGRIND:-0}" = 1 ]; then
	vg="valgrind -q --error-exitcode=99 --leak-check=full"
	vg="$vg --errors-for-leak-kinds=definite,indirect"
	vg="$vg --child-silent-after-fork=yes --log-file=$TMP/valgrind-hup.%p"
fi
cat >"$TMP/bin/sendmail-pid" <<EOF
#!/bin/sh
echo \$\$ >"$TMP/postie.pid"
POSTIE_SYSCONFIG=/nonexistent exec $vg "$TMP/sbin/sendmail" -C "$TMP/slow.conf" "\$@"
EOF
chmod +x "$TMP/bin/sendmail-pid"
cname=s-nail
clientenv timeout 60 s-nail -n -Snosave -Ssendwait -Smta="$TMP/bin/sendmail-pid" \
    -s hangup -r snail@example.com rcpt@example.com <"$TMP/body" \
    >"$TMP/client.out" 2>"$TMP/client.err" &
snail_pid=$!
i=0
until [ -s "$TMP/postie.pid" ] &&
    grep -q '^RCPT' "$SLOW_DIR/transcript.log" 2>/dev/null; do
	i=$((i + 1))
	[ $i -le 300 ] || fail "s-nail's sendmail never reached RCPT"
	sleep 0.1
done
# bit 0 of SigIgn is SIGHUP
grep -Eq '^SigIgn:.*[13579bdf]$' "/proc/$(cat "$TMP/postie.pid")/status" ||
    fail "postie (s-nail's sendmail) did not keep SIGHUP ignored"
kill -HUP "$(cat "$TMP/postie.pid")"
set +e
wait $snail_pid
crc=$?
set -e
[ "$crc" -eq 0 ] ||
    fail "s-nail exited $crc after the hangup: $(cat "$TMP/client.err")"
check_no_grep 'interrupted|queued' "$TMP/client.err"
check_server "$SLOW_DIR" 1
check_env "$SLOW_DIR" 1 snail@example.com '["rcpt@example.com"]'
[ -z "$(find "$TMP/queue" -name '*.env' 2>/dev/null)" ] ||
    fail "s-nail: the message was queued after the hangup"
exit 0
