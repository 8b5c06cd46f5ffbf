#!/bin/sh
# Hostile drop files, written by hand by www-data: root's postie -q treats
# each as untrusted and never sends one that is a symlink (to the root-only
# config!), a hard link, a FIFO, a directory, over drop_max_size, with a
# bad header, CR or an extra line in the envelope, an option-like
# recipient, a bare LF in the message (smuggling), or a wrong size.  Each
# is removed with a warning.  A well-formed hand-made file is sent, with
# the sender forced to its owner whatever it claims.  Unfinished dot files
# are kept while fresh and removed after an hour.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t073lib.sh"

start_smtpd --auth "sys:$SYSPW" --no-auth-require-tls
sysconf "$SMTPD_PORT" "drop_max_size 1k"
as_root -q
check_rc 0

STAGE="$TMP/stage"
mkdir "$STAGE"
chmod 755 "$STAGE"
MSG='Subject: hand made\r\nFrom: ceo@example.com\r\n\r\nhello\r\n'
# stage NAME HEADER_LINES [MESSAGE] [SIZE]: a file for www-data to copy;
# SIZE defaults to the message's real length.
stage() {
	printf "${3:-$MSG}" >"$STAGE/$1.msg"
	size=${4:-$(wc -c <"$STAGE/$1.msg")}
	{ printf "postie-drop 1\nsize %s\n$2\n" "$size"; cat "$STAGE/$1.msg"; } \
	    >"$STAGE/$1"
	chmod 644 "$STAGE/$1"
}
# put NAME: www-data writes the staged file into the drop directory.
put() {
	sh_user www-data "cat '$STAGE/$1' >'$DROP/$1'" ||
	    fail "www-data cannot write $1"
}

# 1: well formed, claiming to come from the CEO.
stage 1.good 'sender <ceo@example.com>\nrcpt <good@example.com>\n'
put 1.good
# 2: a symlink to root's config; 3: a hard link pair.
sh_user www-data "ln -s '$SYS' '$DROP/2.link'" || fail "no symlink"
stage 3.a 'sender <>\nrcpt <hard@example.com>\n'
put 3.a
linked=1
sh_user www-data "ln '$DROP/3.a' '$DROP/3.b'" || {
	linked=0
	echo "note: the kernel refused the hard link" >&2
}
# 4: a FIFO (the runner must not block on it); 5: a directory.
sh_user www-data "mkfifo '$DROP/4.fifo' && mkdir '$DROP/5.dir'" ||
    fail "no fifo"
# 6: over drop_max_size (1 KiB of valid lines).
stage 6.big 'sender <>\nrcpt <big@example.com>\n' \
    "$(printf 'Subject: big\\r\\n\\r\\n'; i=0; while [ $i -lt 40 ]; do
	printf '%s\\r\\n' xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i + 1)); done)"
put 6.big
# 7: another version; 8: CR in a recipient; 9: an extra command line.
{ printf 'postie-drop 2\nsize 6\nsender <>\nrcpt <v@example.com>\n\nabc\r\n'; } \
    >"$STAGE/7.version"
chmod 644 "$STAGE/7.version"
put 7.version
stage 8.cr 'sender <>\nrcpt <cr@example.com\rRCPT TO:<evil@example.net>>\n'
put 8.cr
stage 9.line 'sender <>\nrcpt <line@example.com>\nRCPT TO:<evil@example.net>\n'
put 9.line
# 10: an option-like recipient; 11: a bare LF ending DATA on a lax relay.
stage 10.opt 'sender <>\nrcpt <-oQ/tmp/x@example.com>\n'
put 10.opt
stage 11.smuggle 'sender <>\nrcpt <lf@example.com>\n' \
    'Subject: s\r\n\r\nx\n.\nMAIL FROM:<evil@example.net>\r\n'
put 11.smuggle
# 12: the size says less than the file holds; 13: no recipient.
stage 12.size 'sender <>\nrcpt <size@example.com>\n' "$MSG" 3
put 12.size
stage 13.none 'sender <>\n'
put 13.none
# 14: a name postie never makes.
stage 14 'sender <>\nrcpt <name@example.com>\n'
sh_user www-data "cat '$STAGE/14' >'$DROP/bad name'" || fail "no bad name"
# Dot files: one unfinished for two hours, one just started.
sh_user www-data "printf partial >'$DROP/.old' && touch -d '2 hours ago' '$DROP/.old' && printf partial >'$DROP/.new'" ||
    fail "no dot files"

as_root -v -q
check_rc 0
# Only the good one went out, from www-data whatever it claimed.
check_count 1
[ "$(json_field 1 rcpt_tos)" = '["good@example.com"]' ] ||
    fail "sent to $(json_field 1 rcpt_tos)"
[ "$(json_field 1 mail_from)" = '"www-data@example.org"' ] ||
    fail "sender $(json_field 1 mail_from)"
[ "$(json_field 1 auth)" = '"sys"' ] || fail "not the system account"
check_no_grep 'evil|-oQ' "$(transcript)"
if grep -rqF -- "$SYSPW" "$SMTPD_DIR"/*.eml "$TMP/queue"; then
	fail "the system password left through a drop file"
fi
for n in 2.link 4.fifo 5.dir 6.big 7.version 8.cr 9.line 10.opt 11.smuggle \
    12.size 13.none; do
	check_grep "drop file '$DROP/$n' \\(uid [0-9]+\\) refused, never sent" \
	    "$TMP/stderr"
	[ ! -e "$DROP/$n" ] && [ ! -L "$DROP/$n" ] || fail "$n was left behind"
done
check_grep 'larger than the limit of 1024 octets' "$TMP/stderr"
check_grep 'not a regular file|Too many levels' "$TMP/stderr"
check_grep 'bare LF in the message' "$TMP/stderr"
check_grep "drop file '$DROP/bad name' .*not a name postie makes" "$TMP/stderr"
if [ "$linked" = 1 ]; then
	for n in 3.a 3.b; do
		check_grep "$n' \\(uid [0-9]+\\) refused, never sent: more than one link" \
		    "$TMP/stderr"
	done
fi
check_grep "drop file '.old' of uid [0-9]+ was never finished" "$TMP/stderr"
# What is left: the fresh dot file only.
left=$(cd "$DROP" && ls -A | tr '\n' ' ')
[ "$left" = ".new " ] || fail "left in the drop directory: $left"
[ "$(qcount)" -eq 0 ] || fail "queue holds $(qcount) entries"
# The system config is untouched and still root-only.
[ "$(stat -c '%a %U' "$SYS")" = "600 root" ] || fail "system config changed"
exit 0
