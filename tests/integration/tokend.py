#!/usr/bin/python3
"""A loopback OAuth2 token endpoint for postie's integration tests.

Listens on 127.0.0.1 (plain HTTP, or HTTPS with --tls CERT KEY), port
chosen by the kernel and written to --port-file once listening.  POST
/token takes the refresh_token and client_credentials grants (RFC 6749
4.4, 6) as application/x-www-form-urlencoded and answers JSON:

  {"access_token": TOKEN, "token_type": "Bearer", "expires_in": N
   [, "refresh_token": ROTATED]}

Every request is appended to DIR/requests.log as one JSON line (the form
fields, client_secret included: this is a test); the number of requests
is in DIR/count.  --refresh-token names the one valid refresh token (any
other is invalid_grant), --client-id/--client-secret the client (else
invalid_client).  --refuse ERROR (or a file DIR/refuse holding ERROR)
answers 400 {"error": ERROR} to every request; --status N answers HTTP N
with no token; --delay S waits S seconds first; --rotate issues a new
refresh token "rt-N" with every answer.

The device flow (RFC 8628): POST /devicecode answers device_code
"dc-1", user_code "ABCD-1234" and interval 1; the token endpoint answers
the device_code grant with authorization_pending --device-pending times,
then with the token and refresh token "rt-dev" (or access_denied with
--device-deny).

The authorization code flow with PKCE (RFC 6749 4.1, RFC 7636): GET
/authorize (what a browser opens) checks response_type=code, the
client_id, a redirect_uri to http://127.0.0.1:PORT/ and
code_challenge_method=S256, keeps the code_challenge and answers 302 to
redirect_uri?code=ac-1&state=STATE (error=access_denied with
--authorize-deny; another state with --authorize-bad-state).  The
token endpoint's authorization_code grant wants code ac-1, the same
redirect_uri and a code_verifier whose BASE64URL(SHA-256) is that
challenge (else invalid_grant), and answers the token and refresh token
"rt-code".  Exits after --lifetime seconds.
"""

import base64
import hashlib

import argparse
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    opts = None
    lock = threading.Lock()
    count = 0
    polls = 0
    challenge = None
    redirect = None

    def log_message(self, *args):
        pass

    def answer(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def record(self, form):
        o = self.opts
        with Handler.lock:
            Handler.count += 1
            n = Handler.count
            with open(os.path.join(o.dir, "requests.log"), "a") as f:
                f.write(json.dumps({"path": self.path, "form": form,
                                    "content_type": self.headers.get(
                                        "Content-Type")}) + "\n")
            tmp = os.path.join(o.dir, "count.tmp")
            with open(tmp, "w") as f:
                f.write("%d\n" % n)
            os.rename(tmp, os.path.join(o.dir, "count"))
        return n

    def refusal(self):
        o = self.opts
        path = os.path.join(o.dir, "refuse")
        if os.path.exists(path):
            with open(path) as f:
                return f.read().strip()
        return o.refuse

    def do_GET(self):
        o = self.opts
        url = urllib.parse.urlsplit(self.path)
        q = {k: v[0] for k, v in urllib.parse.parse_qs(
            url.query, keep_blank_values=True).items()}
        self.record(q)
        if url.path != "/authorize":
            return self.answer(404, {"error": "not_found"})
        redirect = q.get("redirect_uri", "")
        if (q.get("response_type") != "code" or
                q.get("client_id") != o.client_id or
                not redirect.startswith("http://127.0.0.1:") or
                q.get("code_challenge_method") != "S256" or
                len(q.get("code_challenge", "")) != 43 or
                "state" not in q):
            return self.answer(400, {"error": "invalid_request"})
        with Handler.lock:
            Handler.challenge = q["code_challenge"]
            Handler.redirect = redirect
        if o.authorize_deny:
            back = {"error": "access_denied", "state": q["state"]}
        else:
            back = {"code": "ac-1", "state": q["state"]}
        if o.authorize_bad_state:
            back["state"] = "not-" + q["state"]
        self.send_response(302)
        self.send_header("Location",
                         redirect + "?" + urllib.parse.urlencode(back))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        o = self.opts
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n).decode("utf-8", "replace")
        form = {k: v[0] for k, v in urllib.parse.parse_qs(
            raw, keep_blank_values=True).items()}
        count = self.record(form)
        if o.delay:
            time.sleep(o.delay)
        if self.path == "/devicecode":
            if form.get("client_id") != o.client_id:
                return self.answer(400, {"error": "invalid_client"})
            return self.answer(200, {
                "device_code": "dc-1", "user_code": "ABCD-1234",
                "verification_uri": "https://login.example/device",
                "expires_in": 60, "interval": 1})
        if self.path != "/token":
            return self.answer(404, {"error": "not_found"})
        if o.status:
            return self.answer(o.status, {})
        refuse = self.refusal()
        if refuse:
            return self.answer(400, {
                "error": refuse,
                "error_description": "AADSTS70000: the grant is refused "
                                     "(test)"})
        if (form.get("client_id") != o.client_id or
                form.get("client_secret") != o.client_secret):
            return self.answer(401, {"error": "invalid_client"})
        grant = form.get("grant_type")
        if grant == "refresh_token":
            if form.get("refresh_token") != Handler.valid_rt:
                return self.answer(400, {"error": "invalid_grant"})
        elif grant == "urn:ietf:params:oauth:grant-type:device_code":
            if form.get("device_code") != "dc-1":
                return self.answer(400, {"error": "invalid_grant"})
            if o.device_deny:
                return self.answer(400, {"error": "access_denied"})
            with Handler.lock:
                Handler.polls += 1
                polls = Handler.polls
            if polls <= o.device_pending:
                return self.answer(400, {"error": "authorization_pending"})
            return self.answer(200, {
                "access_token": o.token, "token_type": "Bearer",
                "expires_in": o.expires_in, "refresh_token": "rt-dev"})
        elif grant == "authorization_code":
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(
                verifier.encode()).digest()).rstrip(b"=").decode()
            if (form.get("code") != "ac-1" or
                    form.get("redirect_uri") != Handler.redirect or
                    not 43 <= len(verifier) <= 128 or
                    digest != Handler.challenge):
                return self.answer(400, {
                    "error": "invalid_grant",
                    "error_description": "code, redirect_uri or "
                                         "code_verifier wrong"})
            return self.answer(200, {
                "access_token": o.token, "token_type": "Bearer",
                "expires_in": o.expires_in, "refresh_token": "rt-code"})
        elif grant != "client_credentials":
            return self.answer(400, {"error": "unsupported_grant_type"})
        reply = {"access_token": o.token, "token_type": "Bearer",
                 "expires_in": o.expires_in}
        if o.rotate and grant == "refresh_token":
            Handler.valid_rt = "rt-%d" % count
            reply["refresh_token"] = Handler.valid_rt
        return self.answer(200, reply)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port-file", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--lifetime", type=float, default=120)
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--token", default="at-new")
    p.add_argument("--expires-in", type=int, default=3600)
    p.add_argument("--refresh-token", default="rt-0")
    p.add_argument("--client-id", default="client-1")
    p.add_argument("--client-secret", default="s3cret")
    p.add_argument("--refuse", default="")
    p.add_argument("--status", type=int, default=0)
    p.add_argument("--delay", type=float, default=0)
    p.add_argument("--rotate", action="store_true")
    p.add_argument("--device-pending", type=int, default=0)
    p.add_argument("--device-deny", action="store_true")
    p.add_argument("--authorize-deny", action="store_true")
    p.add_argument("--authorize-bad-state", action="store_true")
    a = p.parse_args()

    Handler.opts = a
    Handler.valid_rt = a.refresh_token
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if a.tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(*a.tls)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, a.port_file)
    timer = threading.Timer(a.lifetime, server.shutdown)
    timer.daemon = True
    timer.start()
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
