#!/usr/bin/python3
"""A DNS server on 127.0.0.1 that answers every query with one rcode.

Used by t0715 to give postie's resolver a real "no such name" (NXDOMAIN,
rcode 3) or "server failure" (SERVFAIL, rcode 2) from loopback, which no
test can get from /etc/hosts.  Written by hand: the answer is the query's
header and question sent back with QR, RA and the rcode set, a dozen
lines; no Debian Python DNS library is installed by default, and
dnspython would be a dependency for those lines.
"""
import argparse
import socket
import time


def answer(query, rcode):
    if len(query) < 12:
        return None
    flags = int.from_bytes(query[2:4], "big")
    if flags & 0x8000:          # a response: never answer one
        return None
    rd = flags & 0x0100
    flags = 0x8000 | (flags & 0x7800) | rd | 0x0080 | rcode
    # header: id, flags, qdcount kept, an/ns/ar counts 0; question kept
    qd = query[4:6]
    end = 12
    while end < len(query) and query[end] != 0:
        end += 1 + query[end]
    end += 5                    # the root label, QTYPE, QCLASS
    if end > len(query):
        return None
    return (query[0:2] + flags.to_bytes(2, "big") + qd + b"\0" * 6 +
            query[12:end])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rcode", type=int, default=3)
    p.add_argument("--port", type=int, default=53)
    p.add_argument("--log", required=True)
    p.add_argument("--lifetime", type=float, default=60)
    a = p.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", a.port))
    s.settimeout(0.5)
    end = time.monotonic() + a.lifetime
    with open(a.log, "a", buffering=1) as log:
        log.write("ready\n")
        while time.monotonic() < end:
            try:
                q, peer = s.recvfrom(4096)
            except socket.timeout:
                continue
            r = answer(q, a.rcode)
            if r is not None:
                s.sendto(r, peer)
                log.write("query %d bytes, rcode %d\n" % (len(q), a.rcode))


if __name__ == "__main__":
    main()
