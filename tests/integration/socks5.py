#!/usr/bin/python3
"""A minimal SOCKS5 proxy (RFC 1928, no authentication, CONNECT only) for
postie's integration tests.  Listens on 127.0.0.1, port chosen by the
kernel and written to --port-file; appends "CONNECT host:port" for each
request to --log.  Exits after --lifetime seconds."""

import argparse
import asyncio
import socket
import struct


async def pipe(r, w):
    try:
        while True:
            data = await r.read(65536)
            if not data:
                break
            w.write(data)
            await w.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        w.close()


def handler(log):
    async def handle(r, w):
        try:
            ver, n = await r.readexactly(2)
            await r.readexactly(n)
            w.write(b"\x05\x00")
            ver, cmd, _, atyp = await r.readexactly(4)
            if atyp == 1:
                host = socket.inet_ntoa(await r.readexactly(4))
            elif atyp == 3:
                (ln,) = await r.readexactly(1)
                host = (await r.readexactly(ln)).decode()
            else:
                host = socket.inet_ntop(socket.AF_INET6,
                                        await r.readexactly(16))
            (port,) = struct.unpack("!H", await r.readexactly(2))
            with open(log, "a") as f:
                f.write("CONNECT %s:%d\n" % (host, port))
            if cmd != 1:
                w.write(b"\x05\x07\x00\x01\0\0\0\0\0\0")
                w.close()
                return
            try:
                ur, uw = await asyncio.open_connection(host, port)
            except OSError:
                w.write(b"\x05\x05\x00\x01\0\0\0\0\0\0")
                w.close()
                return
            w.write(b"\x05\x00\x00\x01\x7f\0\0\x01\0\0")
            await w.drain()
            await asyncio.gather(pipe(r, uw), pipe(ur, w))
        except (asyncio.IncompleteReadError, ConnectionError):
            w.close()
    return handle


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--lifetime", type=float, default=120)
    a = p.parse_args()
    srv = await asyncio.start_server(handler(a.log), "127.0.0.1", 0)
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.sockets[0].getsockname()[1])
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    await asyncio.sleep(a.lifetime)


asyncio.run(main())
