#!/bin/sh
# Compose mode, HTML: text + --html is multipart/alternative, --html alone
# is HTML only, --inline makes multipart/related with a Content-ID.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t02-compose-lib.sh"

printf '<html><body><p>Grüße</p><img src="cid:pixel.png"></body></html>\n' \
    >"$TMP/page.html"
"$PYTHON" -c 'import sys, base64; open(sys.argv[1], "wb").write(base64.b64decode(
"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNgYGAAAAAEAAH2FzhVAAAAAElFTkSuQmCC"))' \
    "$TMP/pixel.png"
printf 'Grüße (text version)\n' >"$TMP/in"

# text + HTML
run_postie -C "$TMP/config" -s html --html "$TMP/page.html" a@example.com \
    <"$TMP/in"
check_rc 0
mime_check "$(eml 1)"
check_grep '^Content-Type: multipart/alternative;' "$(eml 1)"
[ "$(cat "$TMP/parts")" = 'text/plain|quoted-printable||UTF-8
text/html|quoted-printable||UTF-8' ] || fail "parts: $(cat "$TMP/parts")"
text_of "$(eml 1)" 1
cmp -s "$TMP/text" "$TMP/page.html" || fail "HTML differs"

# HTML alone (empty stdin)
run_postie -C "$TMP/config" -s html --html "$TMP/page.html" a@example.com \
    </dev/null
check_rc 0
mime_check "$(eml 2)"
[ "$(cat "$TMP/parts")" = 'text/html|quoted-printable||UTF-8' ] ||
    fail "parts: $(cat "$TMP/parts")"
check_grep '^Content-Type: text/html; charset=UTF-8' "$(eml 2)"

# text + HTML + inline image + attachment:
# mixed(alternative(text, related(html, image)), attachment)
printf 'report\n' >"$TMP/report.txt"
run_postie -C "$TMP/config" -s inline --html "$TMP/page.html" \
    --inline "$TMP/pixel.png" -a "$TMP/report.txt" a@example.com <"$TMP/in"
check_rc 0
mime_check "$(eml 3)" pixel.png="$TMP/pixel.png" report.txt="$TMP/report.txt"
"$PYTHON" - "$(eml 3)" <<'PY' || fail "structure"
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(),
                             policy=email.policy.default)
def shape(p):
    if p.is_multipart():
        return (p.get_content_type(), [shape(k) for k in p.iter_parts()])
    return p.get_content_type()
want = ("multipart/mixed", [("multipart/alternative", ["text/plain",
        ("multipart/related", ["text/html", "image/png"])]), "text/plain"])
assert shape(m) == want, shape(m)
img = [p for p in m.walk() if p.get_content_type() == "image/png"][0]
assert img["Content-ID"] == "<pixel.png>", img["Content-ID"]
assert img.get_content_disposition() == "inline"
PY

# --inline without --html is a usage error
run_postie -C "$TMP/config" -s x --inline "$TMP/pixel.png" a@example.com \
    <"$TMP/in"
check_rc 64
check_count 3
exit 0
