#!/bin/sh
# Compose mode refuses CR, LF and NUL in every value that becomes a header:
# -s, --header, --reply-to, -c, attachment names.  Nothing is sent.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t02-compose-lib.sh"

printf 'body\n' >"$TMP/in"
printf 'x\n' >"$TMP/file.txt"
cr=$(printf '\r')
nl='
'
attempt() {
	run_postie -C "$TMP/config" "$@" a@example.com <"$TMP/in"
	check_rc 65
	check_grep 'line break' "$TMP/stderr"
}
attempt -s "x${cr}${nl}Bcc: victim@example.org"
attempt -s "x${nl}Bcc: victim@example.org"
attempt -s "x${cr}Bcc: victim@example.org"
attempt --header "X-A: 1${cr}${nl}Bcc: victim@example.org"
attempt --reply-to "a@example.org${nl}Bcc: victim@example.org"
attempt -c "c@example.org${nl}Bcc: victim@example.org"
attempt -a "$TMP/file.txt;name=x${nl}Content-Type: text/html"
# A file whose name holds a line break.
printf 'y\n' >"$TMP/evil${nl}Bcc: v@example.org"
attempt -a "$TMP/evil${nl}Bcc: v@example.org"
check_count 0
[ ! -s "$(transcript)" ] || fail "postie connected"

# --header may not override what compose writes.
run_postie -C "$TMP/config" --header 'Content-Type: text/html' a@example.com \
    <"$TMP/in"
check_rc 64
run_postie -C "$TMP/config" --header 'Bcc: v@example.org' a@example.com \
    <"$TMP/in"
check_rc 64
run_postie -C "$TMP/config" --header 'no colon' a@example.com <"$TMP/in"
check_rc 64

# Quotes and backslashes in a name are escaped, and a harmless extra
# header with non-ASCII is encoded.
run_postie -C "$TMP/config" -s ok --header 'X-Tag: café' \
    -a "$TMP/file.txt;name=a \"b\" \\c.txt" a@example.com <"$TMP/in"
check_rc 0
check_count 1
mime_check "$(eml 1)" 'a "b" \c.txt'="$TMP/file.txt"
check_grep 'filename="a \\"b\\" \\\\c.txt"' "$(eml 1)"
check_grep '^X-Tag: =\?UTF-8\?B\?Y2Fmw6k=\?=' "$(eml 1)"
check_no_grep '^Bcc' "$(eml 1)"
exit 0
