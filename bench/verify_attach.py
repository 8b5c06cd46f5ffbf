#!/usr/bin/python3
"""bench/verify_attach.py: does a dumped message carry an attachment intact?

    verify_attach.py MESSAGE.eml ATTACHMENT

Parses the message (the DATA bytes as the bench sink dumped them with -D),
decodes every leaf MIME part and exits 0 when one of them is byte-for-byte
the attachment file (SHA-256), 1 otherwise, printing what it found.
"""

import email
import email.policy
import hashlib
import sys


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(sys.argv[2], "rb") as f:
        want = hashlib.sha256(f.read()).hexdigest()
    with open(sys.argv[1], "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.compat32)
    seen = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        data = part.get_payload(decode=True) or b""
        got = hashlib.sha256(data).hexdigest()
        if got == want:
            print("ok: %s (%s, %d bytes, %s)" % (
                part.get_content_type(), part.get("Content-Transfer-Encoding"),
                len(data), part.get_filename()))
            return 0
        seen.append("%s/%d" % (part.get_content_type(), len(data)))
    print("attachment not found intact; parts: %s" % ", ".join(seen))
    return 1


if __name__ == "__main__":
    sys.exit(main())
