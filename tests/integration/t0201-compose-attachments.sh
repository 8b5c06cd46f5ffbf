#!/bin/sh
# Compose mode, attachments: typed by libmagic as file(1) types them,
# byte-identical after decoding, RFC 2231 names, ;type= and ;name=.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t02-compose-lib.sh"

command -v file >/dev/null || skip "file(1) is not installed"
A="$TMP/att"
mkdir "$A"
# random bytes after a fixed lead that no magic matches (bare random data
# starting "MZ" is a DOS executable to libmagic, 1 run in 65,536)
{ printf '\217\001\377\376\000\003'; head -c 100000 /dev/urandom; } >"$A/random.bin"
: >"$A/empty.dat"
printf 'plain text\nline two\n' >"$A/notes.txt"
printf 'a,b\r\n1,2\r\n' >"$A/windows.csv"
printf 'caf\351 cr\350me\n' >"$A/latin1.txt"
printf '{"key": "välue"}\n' >"$A/data.json"
printf 'From the start\n--=_looks like a boundary\n' >"$A/tricky.txt"
"$PYTHON" - "$A" <<'PY'
import sys, zlib, struct, gzip, tarfile, os
d = sys.argv[1]
def chunk(t, data):
    c = struct.pack(">I", len(data)) + t + data
    return c + struct.pack(">I", zlib.crc32(t + data) & 0xffffffff)
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(b"\0\0\0\0")) + chunk(b"IEND", b""))
open(d + "/pixel.png", "wb").write(png)
open(d + "/doc.pdf", "wb").write(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
with gzip.open(d + "/log.gz", "wb") as f:
    f.write(b"log line\n" * 1000)
with tarfile.open(d + "/bundle.tar", "w") as t:
    t.add(d + "/notes.txt", arcname="notes.txt")
open(d + "/Ärger über Café — ein sehr langer Dateiname für Fortsetzungen.txt",
     "w", encoding="utf-8").write("Grüße\n")
PY
long="Ärger über Café — ein sehr langer Dateiname für Fortsetzungen.txt"

printf 'Files attached.\n' >"$TMP/in"
run_postie -C "$TMP/config" -s 'attachments' \
    -a "$A/random.bin" -a "$A/empty.dat" -a "$A/notes.txt" \
    -a "$A/windows.csv" -a "$A/latin1.txt" -a "$A/data.json" \
    -a "$A/tricky.txt" -a "$A/pixel.png" -a "$A/doc.pdf" -a "$A/log.gz" \
    -a "$A/bundle.tar" -a "$A/$long" a@example.com <"$TMP/in"
check_rc 0
check_count 1
mime_check "$(eml 1)" random.bin="$A/random.bin" empty.dat="$A/empty.dat" \
    notes.txt="$A/notes.txt" windows.csv="$A/windows.csv" \
    latin1.txt="$A/latin1.txt" data.json="$A/data.json" \
    tricky.txt="$A/tricky.txt" pixel.png="$A/pixel.png" \
    doc.pdf="$A/doc.pdf" log.gz="$A/log.gz" bundle.tar="$A/bundle.tar" \
    "$long=$A/$long"
# The size announced before sending (SIZE=) is exact.
size=$(sed -n 's/^MAIL FROM:.* SIZE=\([0-9]*\).*/\1/p' "$(transcript)" | head -1)
[ "$size" = "$(wc -c <"$(eml 1)" | tr -d ' ')" ] ||
    fail "SIZE=$size but $(wc -c <"$(eml 1)") octets arrived"
# Encodings: text 7bit/QP, text with CR or binary as base64; charsets.
for want in 'text/plain|7bit||us-ascii' \
    'application/octet-stream|base64|random.bin|' \
    'application/octet-stream|base64|empty.dat|' \
    'text/plain|7bit|notes.txt|us-ascii' \
    'text/plain|base64|windows.csv|us-ascii' \
    'text/plain|quoted-printable|latin1.txt|iso-8859-1' \
    'application/json|quoted-printable|data.json|' \
    'text/plain|quoted-printable|tricky.txt|us-ascii' \
    'image/png|base64|pixel.png|' \
    'application/pdf|base64|doc.pdf|' \
    "text/plain|quoted-printable|$long|utf-8"; do
	grep -Fxq -- "$want" "$TMP/parts" ||
	    fail "no part '$want' in: $(cat "$TMP/parts")"
done
# Never a charset on a binary type; RFC 2231 for the UTF-8 name with a
# plain fallback in Content-Type; a tricky line is never a delimiter.
check_no_grep 'application/pdf;.*charset' "$(eml 1)"
check_grep "filename\\*0\\*=UTF-8''%C3%84rger" "$(eml 1)"
check_grep 'name="_rger _ber Caf_ _ ein sehr langer' "$(eml 1)"
check_grep '^--=3D_looks like' "$(eml 1)"
check_grep '^=46rom the start' "$(eml 1)"
# Every base64 line is 76 characters but the last of each part.
"$PYTHON" - "$(eml 1)" <<'PY' || fail "base64 line lengths"
import re, sys
raw = open(sys.argv[1], "rb").read().decode("ascii", "replace")
for body in re.findall(r"base64\r\n(?:[^\r\n]+\r\n)*\r\n(.*?)\r\n--", raw, re.S):
    lines = body.split("\r\n")
    assert all(len(l) == 76 for l in lines[:-1]), [len(l) for l in lines]
    assert len(lines[-1]) <= 76
PY

# ;type= and ;name= override libmagic and the file name.
run_postie -C "$TMP/config" -s override \
    -a "$A/random.bin;type=application/x-custom;name=renamed \"q\" \\.bin" \
    a@example.com <"$TMP/in"
check_rc 0
"$PYTHON" - "$(eml 2)" "$A/random.bin" <<'PY' || fail "override"
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(),
                             policy=email.policy.default)
p = [p for p in m.walk() if p.get_filename()][0]
assert p.get_content_type() == "application/x-custom", p.get_content_type()
assert p.get_filename() == 'renamed "q" \\.bin', p.get_filename()
assert p.get_payload(decode=True) == open(sys.argv[2], "rb").read()
assert not p.defects and not any(v.defects for k, v in p.items())
PY

# Only attachments, empty stdin: no text part.
run_postie -C "$TMP/config" -a "$A/pixel.png" a@example.com </dev/null
check_rc 0
mime_check "$(eml 3)" pixel.png="$A/pixel.png"
[ "$(cat "$TMP/parts")" = 'image/png|base64|pixel.png|' ] ||
    fail "parts: $(cat "$TMP/parts")"
exit 0
