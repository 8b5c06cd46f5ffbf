# Sourced by the compose tests (t02xx) after lib.sh: a relay, a config,
# and mime_check, which parses a received message with Python's email
# package (policy=default) and checks it as an independent MIME reader.

start_smtpd
write_config "$TMP/config" <<CONF
defaults
host 127.0.0.1
port $SMTPD_PORT
from sender@example.org
CONF

# eml N: the path of the N-th message the relay received.
eml() {
	echo "$SMTPD_DIR/$(printf %04d "$1").eml"
}

# mime_check EML [NAME=PATH]...: no defects in any part or header, no
# line over 998 octets, every header line <= 78 octets, every attachment
# named NAME decodes to PATH's bytes (text parts in 7bit/QP compared after
# CRLF -> LF, their canonical form) and has the Content-Type that
# file --mime-type gives (an empty file: application/octet-stream).
# Prints one line per leaf part: "type|cte|filename|charset" to
# $TMP/parts, and the decoded Subject to $TMP/subject.
mime_check() {
	"$PYTHON" - "$TMP" "$@" <<'PY' || fail "mime_check $*"
import email, email.policy, subprocess, sys
tmp, path, *files = sys.argv[1:]
want = dict(f.split("=", 1) for f in files)
raw = open(path, "rb").read()
bad = []
head, _, _ = raw.partition(b"\r\n\r\n")
for line in raw.split(b"\r\n"):
    if len(line) > 998:
        bad.append("line over 998 octets")
for line in head.split(b"\r\n"):
    if len(line) > 78:
        bad.append("header line over 78: %r" % line)
if b"\n" in raw.replace(b"\r\n", b""):
    bad.append("bare LF")
m = email.message_from_bytes(raw, policy=email.policy.default)
out = []
seen = set()
for p in m.walk():
    if p.defects:
        bad.append("defects %r in %s" % (p.defects, p.get_content_type()))
    for k, v in p.items():
        if getattr(v, "defects", None):
            bad.append("header %s defects %r" % (k, v.defects))
    if p.is_multipart():
        continue
    fn = p.get_filename()
    cte = p.get("Content-Transfer-Encoding", "7bit")
    out.append("%s|%s|%s|%s" % (p.get_content_type(), cte, fn or "",
                                p.get_param("charset") or ""))
    if fn is None or fn not in want:
        continue
    seen.add(fn)
    data = p.get_payload(decode=True)
    orig = open(want[fn], "rb").read()
    if cte.lower() != "base64":
        data = data.replace(b"\r\n", b"\n")
    if data != orig:
        bad.append("%s: decoded content differs (%d vs %d octets)" %
                   (fn, len(data), len(orig)))
    ft = subprocess.run(["file", "--mime-type", "-b", want[fn]],
                        capture_output=True, text=True).stdout.strip()
    if ft == "inode/x-empty":
        ft = "application/octet-stream"
    if p.get_content_type() != ft:
        bad.append("%s: type %s, file says %s" % (fn, p.get_content_type(), ft))
for fn in want:
    if fn not in seen:
        bad.append("attachment %s not found" % fn)
open(tmp + "/parts", "w").write("\n".join(out) + "\n")
open(tmp + "/subject", "w").write(str(m.get("Subject", "")) + "\n")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PY
}

# text_of EML N: the decoded text of leaf part N (0-based) to $TMP/text.
text_of() {
	"$PYTHON" - "$1" "$2" "$TMP/text" <<'PY'
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(),
                             policy=email.policy.default)
leaves = [p for p in m.walk() if not p.is_multipart()]
open(sys.argv[3], "w", encoding="utf-8", newline="").write(
    leaves[int(sys.argv[2])].get_content().replace("\r\n", "\n"))
PY
}
