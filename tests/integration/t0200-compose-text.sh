#!/bin/sh
# Compose mode, the text: 7bit ASCII, UTF-8 subject and body, --charset,
# long lines, "From " lines, recipients, --dry-run versus what arrived.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t02-compose-lib.sh"

# ASCII: one text/plain part in 7bit; -c/-b on the envelope, Bcc nowhere.
printf 'Hello.\nAll is well.\n' >"$TMP/in"
run_postie -C "$TMP/config" -s 'Backup done' -c cc@example.org \
    -b hidden@example.org --bcc other@example.org a@example.com <"$TMP/in"
check_rc 0
check_count 1
[ "$(json_field 1 rcpt_tos)" = '["a@example.com", "cc@example.org", "hidden@example.org", "other@example.org"]' ] ||
    fail "rcpt_tos is $(json_field 1 rcpt_tos)"
mime_check "$(eml 1)"
[ "$(cat "$TMP/parts")" = 'text/plain|7bit||us-ascii' ] ||
    fail "parts: $(cat "$TMP/parts")"
check_grep '^To: a@example.com.$' "$(eml 1)"
check_grep '^Cc: cc@example.org.$' "$(eml 1)"
check_grep '^Subject: Backup done.$' "$(eml 1)"
check_no_grep 'hidden|other@' "$(eml 1)"
text_of "$(eml 1)" 0
cmp -s "$TMP/text" "$TMP/in" || fail "text differs"

# UTF-8 subject (long: folded, encoded words never split a character),
# display names, and a UTF-8 body with a "From " line: quoted-printable.
subj='Sauvegarde de höst terminée — résumé: ärger über alles, 日本語のテキストも含む長い件名です'
printf 'Grüße aus Köln.\nFrom here on, all is well.\n.\n' >"$TMP/in"
run_postie -C "$TMP/config" -s "$subj" -c 'Jörg Müller <j@example.org>' \
    'Zoë <z@example.com>' <"$TMP/in"
check_rc 0
mime_check "$(eml 2)"
[ "$(cat "$TMP/subject")" = "$subj" ] ||
    fail "subject decoded as '$(cat "$TMP/subject")'"
[ "$(cat "$TMP/parts")" = 'text/plain|quoted-printable||UTF-8' ] ||
    fail "parts: $(cat "$TMP/parts")"
check_grep '^=46rom here on' "$(eml 2)"
check_grep '^Subject: .*=\?UTF-8\?B\?' "$(eml 2)"
text_of "$(eml 2)" 0
cmp -s "$TMP/text" "$TMP/in" || fail "UTF-8 text differs"
"$PYTHON" - "$(eml 2)" <<'PY' || fail "display names"
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(),
                             policy=email.policy.default)
assert m["To"].addresses[0].display_name == "Zoë", m["To"]
assert m["Cc"].addresses[0].display_name == "Jörg Müller", m["Cc"]
PY

# Latin-1 text with --charset latin1: converted to UTF-8.
printf 'Gr\374\337e, caf\351\n' >"$TMP/in"
run_postie -C "$TMP/config" -s latin --charset latin1 a@example.com <"$TMP/in"
check_rc 0
mime_check "$(eml 3)"
text_of "$(eml 3)" 0
[ "$(cat "$TMP/text")" = 'Grüße, café' ] || fail "latin1: $(cat "$TMP/text")"

# Invalid UTF-8 without --charset: refused, nothing sent.
run_postie -C "$TMP/config" -s latin a@example.com <"$TMP/in"
check_rc 65
check_grep 'not valid UTF-8 \(line 1\).*--charset' "$TMP/stderr"
check_count 3
# An unknown charset is a usage error.
run_postie -C "$TMP/config" -s x --charset no-such-cs a@example.com <"$TMP/in"
check_rc 64

# Long lines (over 998): quoted-printable, soft breaks, content intact.
"$PYTHON" -c 'print("x" * 5000); print("short"); print("y " * 700)' >"$TMP/in"
run_postie -C "$TMP/config" -s long a@example.com <"$TMP/in"
check_rc 0
mime_check "$(eml 4)"
[ "$(cat "$TMP/parts")" = 'text/plain|quoted-printable||us-ascii' ] ||
    fail "parts: $(cat "$TMP/parts")"
text_of "$(eml 4)" 0
cmp -s "$TMP/text" "$TMP/in" || fail "long text differs"
awk 'length($0) > 77 { exit 1 }' "$(eml 4)" || fail "a QP line over 76"

# Stdin from a pipe is spooled; --body reads a file instead.
printf 'from the body file\n' >"$TMP/body"
run_postie -C "$TMP/config" -s body --body "$TMP/body" a@example.com </dev/null
check_rc 0
text_of "$(eml 5)" 0
cmp -s "$TMP/text" "$TMP/body" || fail "--body text differs"

# --dry-run prints what the relay gets, but for Date and Message-ID.
printf 'same\n' >"$TMP/in"
run_postie -C "$TMP/config" -s 'dry ü' -a "$TMP/body" a@example.com <"$TMP/in"
check_rc 0
run_postie -C "$TMP/config" --dry-run -s 'dry ü' -a "$TMP/body" \
    a@example.com <"$TMP/in"
check_rc 0
check_count 6
norm() {
	grep -v -e '^Date: ' -e '^Message-ID: ' "$1" |
	    sed 's/=_[0-9a-f]\{32\}_/=_B_/g'
}
norm "$(eml 6)" >"$TMP/sent"
norm "$TMP/stdout" >"$TMP/dry"
cmp -s "$TMP/sent" "$TMP/dry" || fail "--dry-run output differs from the sent message"
check_grep '^RCPT TO:<a@example.com>' "$TMP/stderr"
exit 0
