#!/usr/bin/python3
"""A scriptable SMTP server for postie's integration tests (aiosmtpd 1.4.3).

Listens on 127.0.0.1, port chosen by the kernel and written to --port-file
once listening.  Each accepted transaction becomes DIR/NNNN.eml (the DATA
bytes after dot-unstuffing, CRLF kept) and DIR/NNNN.json (the envelope);
every command line the client sends is appended to DIR/transcript.log.
--fail makes one step answer with a given reply instead:

  greeting=421 4.3.2 busy       mail=451 4.3.0 try later
  rcpt:bad@example.com=550 5.1.1 user unknown
  data=554 5.5.1 no            (the reply to DATA itself)
  dot=451 4.3.0 later | dot=554 5.7.1 spam | dot=drop (close, no reply)
  auth=535 5.7.8 bad credentials    starttls=454 4.7.0 not now

--max-rcpts N answers "452 4.5.3 too many recipients" to the RCPT after
N in one transaction.  --delay dot=SECONDS holds the reply to the final
"." (a client stays alive while a test looks at it), dot-once=SECONDS
only the first message's; greeting=, ehlo=, mail=, rcpt= and data=
SECONDS hold that reply (data: the 354); --xoauth2 also offers AUTH XOAUTH2 and
--oauthbearer AUTH OAUTHBEARER (RFC 7628), both checked against --auth
USER:TOKEN; with --oauth2-error JSON a refused token first gets the
error challenge "334 base64(JSON)" as Gmail sends it, then (after the
client's answer) the 535.

--vrfy ADDR=REPLY answers VRFY ADDR, --expn LIST=REPLY answers EXPN LIST
(a " SMTPUTF8" parameter is ignored) and --help-reply REPLY answers HELP;
"|" separates the lines of a multi-line reply ("250-a|250 b").  Without
them aiosmtpd's own answers stay: VRFY 252, EXPN 502, HELP its list.

Run with Debian's /usr/bin/python3.  Exits after --lifetime seconds.
"""

import argparse
import asyncio
import base64
import json
import time
import logging
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, LoginPassword, syntax


class Recorder:
    """Writes transactions and the transcript into one directory."""

    def __init__(self, directory):
        self.dir = directory
        self.count = 0

    def transcript(self, text):
        with open(os.path.join(self.dir, "transcript.log"), "ab") as f:
            f.write(text + b"\n")

    def save(self, server, envelope, note=None):
        self.count += 1
        base = os.path.join(self.dir, "%04d" % self.count)
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content)
        login = server.session.login_data
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "mail_options": envelope.mail_options,
            "rcpt_options": getattr(envelope, "per_rcpt_options", []),
            "tls": server.tls_active(),
            "auth": login.decode("utf-8", "replace")
                    if isinstance(login, bytes) else login,
            "time": time.time(),     # when the final dot was answered
        }
        if note:
            meta["note"] = note
        # The .json appears last: its presence means the record is whole.
        with open(base + ".json.tmp", "w") as f:
            json.dump(meta, f, indent=1)
        os.rename(base + ".json.tmp", base + ".json")


class Handler:
    def __init__(self, fails, recorder, delays=None):
        self.fails = fails
        self.rec = recorder
        self.delays = delays or {}
        self.delayed_once = False
        self.max_rcpts = 0

    async def handle_MAIL(self, server, session, envelope, address, options):
        if "mail" in self.delays:
            await asyncio.sleep(self.delays["mail"])
        if "mail" in self.fails:
            return self.fails["mail"]
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        envelope.per_rcpt_options = []
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        if "rcpt" in self.delays:
            await asyncio.sleep(self.delays["rcpt"])
        reply = self.fails.get("rcpt:" + address.lower())
        if reply:
            return reply
        if self.max_rcpts and len(envelope.rcpt_tos) >= self.max_rcpts:
            return "452 4.5.3 too many recipients"

        envelope.rcpt_tos.append(address)
        envelope.per_rcpt_options.append(options)
        return "250 OK"

    async def handle_VRFY(self, server, session, envelope, address):
        reply = self.fails.get("vrfy:" + address.lower())
        return multiline(reply) if reply else MISSING

    async def handle_DATA(self, server, session, envelope):
        if "dot" in self.delays:
            await asyncio.sleep(self.delays["dot"])
        if "dot-once" in self.delays and not self.delayed_once:
            # Only the first message: its reply comes late, and a client
            # that reused the connection would read it as the next one's.
            self.delayed_once = True
            await asyncio.sleep(self.delays["dot-once"])
        reply = self.fails.get("dot")
        if reply == "drop":
            # The duplicate window: the server has the message, the
            # client never hears so.
            self.rec.save(server, envelope, note="dropped")
            server.transport.close()
            await asyncio.sleep(3600)   # cancelled by connection_lost
        if reply:
            return reply
        self.rec.save(server, envelope)
        # Postfix's form, so clients can pick out the relay's queue id
        return "250 2.0.0 Ok: queued as SINK%04d" % self.rec.count


class TestSMTP(SMTP):
    """aiosmtpd's server plus the transcript and the scripted failures."""

    fails = {}
    delays = {}
    rec = None
    implicit_tls = False
    oauth2_error = ""
    login_ok = None   # not auth_*: aiosmtpd offers every auth_X as AUTH X

    def tls_active(self):
        return self.implicit_tls or self._tls_protocol is not None

    def connection_made(self, transport):
        starttls = self._original_transport is not None
        super().connection_made(transport)
        if starttls:
            self.rec.transcript(b"--- TLS started ---")
            return
        if self.implicit_tls:
            self.rec.transcript(b"--- TLS (implicit) ---")
        # Log command lines: the command loop reads with readuntil() and
        # the default b"\n"; DATA reads with b"\r\n" (not logged); SASL
        # continuation lines come through readline().
        reader = self._reader
        until, readline = reader.readuntil, reader.readline

        async def readuntil_logged(separator=b"\n"):
            line = await until(separator)
            if separator == b"\n":
                self.rec.transcript(line.rstrip(b"\r\n"))
            return line

        async def readline_logged():
            line = await readline()
            self.rec.transcript(line.rstrip(b"\r\n"))
            return line

        reader.readuntil = readuntil_logged
        reader.readline = readline_logged

    async def _handle_client(self):
        if "greeting" in self.delays:
            await asyncio.sleep(self.delays["greeting"])
        if "greeting" in self.fails:
            await self.push(self.fails["greeting"])
            self.transport.close()
            return
        await super()._handle_client()

    async def smtp_STARTTLS(self, arg):
        if "starttls" in self.fails:
            await self.push(self.fails["starttls"])
            return
        await super().smtp_STARTTLS(arg)

    async def auth_XOAUTH2(self, _, args):
        """Google's XOAUTH2: base64 of "user=U^Aauth=Bearer T^A^A"."""
        if len(args) == 1:
            blob = await self.challenge_auth("")
            if blob is MISSING:
                return AuthResult(success=False)
        else:
            try:
                blob = base64.b64decode(args[1].encode(), validate=True)
            except Exception:
                await self.push("501 5.5.2 Can't decode base64")
                return AuthResult(success=False, handled=True)
        parts = blob.split(b"\x01")
        user = parts[0][5:] if parts[0].startswith(b"user=") else b""
        token = b""
        if len(parts) > 1 and parts[1].startswith(b"auth=Bearer "):
            token = parts[1][12:]
        return await self.oauth2_result("XOAUTH2", LoginPassword(user, token))

    async def oauth2_result(self, mechanism, creds):
        """Gmail's refusal: an error challenge first, then the 535."""
        if (TestSMTP.oauth2_error and "auth" not in TestSMTP.fails and
                not TestSMTP.login_ok(creds)):
            if await self.challenge_auth(TestSMTP.oauth2_error) is MISSING:
                return AuthResult(success=False)
            return AuthResult(success=False, handled=False)
        return self._authenticate(mechanism, creds)

    async def auth_OAUTHBEARER(self, _, args):
        """RFC 7628: base64 of "n,a=U,^Aauth=Bearer T^A^A"."""
        if len(args) == 1:
            blob = await self.challenge_auth("")
            if blob is MISSING:
                return AuthResult(success=False)
        else:
            try:
                blob = base64.b64decode(args[1].encode(), validate=True)
            except Exception:
                await self.push("501 5.5.2 Can't decode base64")
                return AuthResult(success=False, handled=True)
        parts = blob.split(b"\x01")
        user = b""
        for field in parts[0].split(b","):
            if field.startswith(b"a="):
                user = field[2:]
        token = b""
        for kv in parts[1:]:
            if kv.startswith(b"auth=Bearer "):
                token = kv[12:]
        return await self.oauth2_result("OAUTHBEARER",
                                        LoginPassword(user, token))

    @syntax("EHLO hostname")     # kept in HELP's list, as before
    async def smtp_EHLO(self, arg):
        if "ehlo" in self.delays:
            await asyncio.sleep(self.delays["ehlo"])
        await super().smtp_EHLO(arg)

    async def smtp_EXPN(self, arg):
        name = (arg or "").split(" ")[0].lower()
        if "expn:" + name in self.fails:
            await self.push(multiline(self.fails["expn:" + name]))
            return
        await super().smtp_EXPN(arg)

    @syntax("HELP [command]")     # kept in HELP's own list, as before
    async def smtp_HELP(self, arg):
        if "help" in self.fails:
            await self.push(multiline(self.fails["help"]))
            return
        await super().smtp_HELP(arg)

    async def smtp_DATA(self, arg):
        if "data" in self.delays and self.envelope.rcpt_tos:
            await asyncio.sleep(self.delays["data"])
        if "data" in self.fails and self.envelope.rcpt_tos:
            await self.push(self.fails["data"])
            return
        await super().smtp_DATA(arg)


def multiline(reply):
    """ "250-a|250 b" is sent as two lines. """
    return "\r\n".join(reply.split("|"))


def tls_context(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def parse_fail(spec):
    key, sep, reply = spec.partition("=")
    if not sep or not reply:
        raise argparse.ArgumentTypeError("expected STEP=REPLY: %r" % spec)
    return key.lower(), reply


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port-file", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--lifetime", type=float, default=120)
    p.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--require-starttls", action="store_true")
    p.add_argument("--implicit-tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--auth", metavar="USER:PASS")
    p.add_argument("--auth-require-tls", dest="auth_require_tls",
                   action="store_true", default=True)
    p.add_argument("--no-auth-require-tls", dest="auth_require_tls",
                   action="store_false")
    p.add_argument("--fail", action="append", type=parse_fail, default=[])
    p.add_argument("--delay", action="append", type=parse_fail, default=[])
    p.add_argument("--xoauth2", action="store_true")
    p.add_argument("--max-rcpts", type=int, default=0)
    p.add_argument("--oauthbearer", action="store_true")
    p.add_argument("--vrfy", action="append", type=parse_fail, default=[])
    p.add_argument("--expn", action="append", type=parse_fail, default=[])
    p.add_argument("--help-reply")
    p.add_argument("--oauth2-error", default="")
    a = p.parse_args()

    logging.basicConfig(level=logging.CRITICAL)
    rec = Recorder(a.dir)
    TestSMTP.fails = dict(a.fail)
    TestSMTP.fails.update(("vrfy:" + k, v) for k, v in a.vrfy)
    TestSMTP.fails.update(("expn:" + k, v) for k, v in a.expn)
    if a.help_reply:
        TestSMTP.fails["help"] = a.help_reply
    TestSMTP.rec = rec
    TestSMTP.implicit_tls = a.implicit_tls is not None
    TestSMTP.delays = {k: float(v) for k, v in a.delay}
    TestSMTP.oauth2_error = a.oauth2_error
    TestSMTP.login_ok = staticmethod(
        lambda c: a.auth is not None and
        c.login + b":" + c.password == a.auth.encode())
    handler = Handler(TestSMTP.fails, rec,
                      {k: float(v) for k, v in a.delay})
    handler.max_rcpts = a.max_rcpts

    def authenticator(server, session, envelope, mechanism, data):
        if "auth" in TestSMTP.fails:
            return AuthResult(success=False, handled=False,
                              message=TestSMTP.fails["auth"])
        if (isinstance(data, LoginPassword) and a.auth is not None and
                data.login + b":" + data.password == a.auth.encode()):
            return AuthResult(success=True, auth_data=data)
        return AuthResult(success=False, handled=False)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    starttls_ctx = tls_context(*a.starttls) if a.starttls else None

    def factory():
        return TestSMTP(
            handler, hostname="smtpd.test", loop=loop,
            enable_SMTPUTF8=True,
            tls_context=starttls_ctx,
            require_starttls=a.require_starttls,
            authenticator=authenticator,
            auth_exclude_mechanism=([] if a.xoauth2 else ["XOAUTH2"]) +
            ([] if a.oauthbearer else ["OAUTHBEARER"]),
            # implicit TLS is TLS, but aiosmtpd only knows STARTTLS
            auth_require_tls=a.auth_require_tls and not a.implicit_tls)

    ssl_ctx = tls_context(*a.implicit_tls) if a.implicit_tls else None
    server = loop.run_until_complete(
        loop.create_server(factory, "127.0.0.1", 0, ssl=ssl_ctx))
    port = server.sockets[0].getsockname()[1]
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, a.port_file)

    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.add_signal_handler(signal.SIGINT, loop.stop)
    loop.call_later(a.lifetime, loop.stop)
    try:
        loop.run_forever()
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
