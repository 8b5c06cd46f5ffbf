#!/bin/sh
# OAuth2 that refreshes itself (issue 13): the token file, the token
# endpoint (integration/tokend.py over HTTPS with the test CA) and the
# relay requiring XOAUTH2 or OAUTHBEARER with the currently valid token
# (tests/README T11, T12, T13).
#  (a) an expired token is refreshed once, the file rewritten 0600, the
#      mail sent with the new token; the rotated refresh token is stored
#  (b) a fresh cached token is used without asking the endpoint
#  (c) invalid_grant: exit 77 direct; kept held in the queue with it on;
#      the line says to re-authorize and names the file; no secret shown
#  (d) a token file readable by others is refused, naming chmod 600
#  (e) client credentials: the file is created 0600
#  (f) ten concurrent sends with an expired token: one refresh
#  (g) --oauth2-authorize: the device flow end to end, then a send; a
#      declined authorization is exit 77 and writes nothing
#  (h) a fresh cached token the server refuses (revoked early): renewed
#      once and the send retried; a second 535 is exit 77; a refused
#      renewal says re-authorize
#  (i) a token endpoint that is slow past the timeout, or answers 503:
#      a temporary failure (exit 75 direct, queued otherwise)
#  (j) Gmail's refusal (334 base64 JSON, then 535) is decoded into one
#      line with what to do; Microsoft's AADSTS code in a refused grant
#      too
#  (k) --oauth2-authorize with the authorization code flow and PKCE
#      (Google's): the loopback redirect, the S256 challenge checked
#      against the verifier, the tokens stored 0600; a declined
#      authorization is exit 77 and a redirect with another state 76,
#      both writing nothing
#  (l) the code flow without the loopback: the browser's last address
#      pasted on standard input
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

TOKEND="$POSTIE_SRCDIR/tests/integration/tokend.py"
make_certs

# start_tokend [tokend.py options...]: sets TOKEND_PORT and TOKEND_DIR;
# lib.sh's cleanup stops it with the SMTP servers.
start_tokend() {
	TOKEND_DIR="$TMP/tokend$(( $(echo $SMTPD_PIDS | wc -w) + 1 ))"
	mkdir "$TOKEND_DIR"
	"$PYTHON" "$TOKEND" --port-file "$TOKEND_DIR/port" --dir "$TOKEND_DIR" \
	    --tls "$C/server.pem" "$C/server.key" --lifetime 120 "$@" \
	    >"$TOKEND_DIR/log" 2>&1 &
	SMTPD_PIDS="$SMTPD_PIDS $!"
	i=0
	while [ ! -s "$TOKEND_DIR/port" ]; do
		i=$((i + 1))
		[ $i -le 100 ] || { cat "$TOKEND_DIR/log" >&2;
		    fail "the token server did not start"; }
		sleep 0.1
	done
	TOKEND_PORT=$(cat "$TOKEND_DIR/port")
}

requests() {
	if [ -f "$TOKEND_DIR/count" ]; then cat "$TOKEND_DIR/count"; else echo 0; fi
}

# config MECH [EXTRA_LINES]
config() {
	write_config "$TMP/config" <<CONF
account default
host 127.0.0.1
port $SMTPD_PORT
from sender@example.org
tls on
tls_starttls on
tls_trust_file $C/ca.pem
auth $1
user user@example.org
oauth2_token_file $TMP/token.json
oauth2_token_url https://127.0.0.1:$TOKEND_PORT/token
oauth2_client_id client-1
oauth2_client_secret s3cret
oauth2_scope https://mail.example/.default
${2:-}
CONF
}

# token_file ACCESS EXPIRES_AT [REFRESH]
token_file() {
	printf '{"access_token": "%s", "expires_at": %s, "refresh_token": "%s",
 "scope": "https://mail.example/.default"}\n' "$1" "$2" "${3:-rt-0}" \
	    >"$TMP/token.json"
	chmod 600 "$TMP/token.json"
}

mode_of() {
	stat -c %a "$1"
}

NOW=$(date +%s)
printf 'Subject: oauth2\n\nhello\n' >"$TMP/msg"

# (a) expired: one refresh, rotated refresh token stored, sent via XOAUTH2
start_tokend --token at-fresh-1 --rotate
start_smtpd --starttls "$C/server.pem" "$C/server.key" --xoauth2 \
    --auth "user@example.org:at-fresh-1"
config xoauth2
token_file at-old $((NOW - 10))
run_postie -v -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 0
check_count 1
[ "$(requests)" -eq 1 ] || fail "$(requests) token requests, expected 1"
check_grep '^AUTH XOAUTH2' "$(transcript)"
[ "$(json_field 1 auth)" = '"user@example.org"' ] || fail "not authenticated"
[ "$(mode_of "$TMP/token.json")" = 600 ] || fail "token file mode $(mode_of "$TMP/token.json")"
"$PYTHON" - "$TMP/token.json" "$TOKEND_DIR/requests.log" "$NOW" <<'PY' ||
import json, sys
t = json.load(open(sys.argv[1]))
assert t["access_token"] == "at-fresh-1", t
assert t["refresh_token"] == "rt-1", t          # rotated and stored
assert t["scope"] == "https://mail.example/.default", t   # kept
assert int(sys.argv[3]) + 3000 < t["expires_at"] < int(sys.argv[3]) + 4000, t
r = json.loads(open(sys.argv[2]).readline())
assert r["form"] == {"grant_type": "refresh_token", "refresh_token": "rt-0",
                     "client_id": "client-1", "client_secret": "s3cret",
                     "scope": "https://mail.example/.default"}, r
assert r["content_type"] == "application/x-www-form-urlencoded", r
PY
    fail "token file or request wrong"
ls "$TMP" | grep -q 'token.json.tmp' && fail "a temporary token file was left"
for s in at-fresh-1 at-old rt-0 rt-1 s3cret; do
	check_fixed_absent "$s" "$TMP/stderr"
done

# (b) the stored token is fresh now: no request, sent with it (OAUTHBEARER)
start_smtpd --starttls "$C/server.pem" "$C/server.key" --oauthbearer \
    --auth "user@example.org:at-fresh-1"
config oauthbearer
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 0
check_count 1
check_grep '^AUTH OAUTHBEARER' "$(transcript)"
[ "$(requests)" -eq 1 ] || fail "$(requests) token requests, expected still 1"

# (c) the grant is revoked: direct (queue off) exit 77 with the fix
# named; with the queue on the message is kept held (a set-up failure,
# never retried on the schedule) with the same line and exit 77.
# Nothing is sent and the token file is unchanged.
echo invalid_grant >"$TOKEND_DIR/refuse"
token_file at-old $((NOW - 10)) rt-1
config oauthbearer 'queue off'
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 77
fix="re-authorize, then put the new refresh_token into $TMP/token.json"
check_grep "OAuth2 refresh token for account 'default' was refused" "$TMP/stderr"
check_grep 'invalid_grant: AADSTS70000' "$TMP/stderr"
check_grep "$fix" "$TMP/stderr"
config oauthbearer
printf 'Subject: held\nMessage-ID: <held@postie.test>\n\nkeep me\n' \
    >"$TMP/held"
run_postie -C "$TMP/config" a@example.com <"$TMP/held"
check_rc 77
check_grep "^postie: NOT SENT: OAuth2 refresh token .*$fix.*kept in the queue as .*held until the configuration is fixed; then send it with 'postie -q'" "$TMP/stderr"
check_fixed_absent rt-1 "$TMP/stderr"
check_fixed_absent s3cret "$TMP/stderr"
[ "$(requests)" -eq 3 ] || fail "$(requests) token requests, expected 3"
check_count 1
run_postie -C "$TMP/config" -bp --json
"$PYTHON" - "$TMP/stdout" <<'PY' || fail "the message is not in the queue"
import json, sys
v = json.load(open(sys.argv[1]))
assert len(v) == 1 and v[0]["held"] is True, v
assert v[0]["held_by"] == "setup", v
assert v[0]["message_id"] == "<held@postie.test>", v
assert "invalid_grant" in v[0]["last_error"], v
PY
grep -q '"rt-1"' "$TMP/token.json" || fail "the token file was changed"
rm -f "$TOKEND_DIR/refuse"
rm -rf "$TMP/queue"

# (d) a token file others can read is refused before any request
token_file at-fresh-1 $((NOW + 3600)) rt-1
chmod 644 "$TMP/token.json"
config xoauth2 'queue off'
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 78
check_grep "$TMP/token.json: the OAuth2 token file is accessible by others \(chmod 600 $TMP/token.json\)" \
    "$TMP/stderr"
[ "$(requests)" -eq 3 ] || fail "a request was made for a refused file"
check_count 1

# (e) client credentials: no refresh token; the file is created 0600
start_tokend --token at-app
start_smtpd --starttls "$C/server.pem" "$C/server.key" --xoauth2 \
    --auth "user@example.org:at-app"
rm -f "$TMP/token.json"
config xoauth2 'oauth2_flow client_credentials'
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 0
check_count 1
[ "$(mode_of "$TMP/token.json")" = 600 ] || fail "created token file mode $(mode_of "$TMP/token.json")"
"$PYTHON" - "$TOKEND_DIR/requests.log" <<'PY' || fail "client_credentials request wrong"
import json, sys
r = json.loads(open(sys.argv[1]).readline())
assert r["form"]["grant_type"] == "client_credentials", r
assert "refresh_token" not in r["form"], r
PY

# (f) ten concurrent sends, one expired token: exactly one refresh
start_tokend --token at-many --delay 0.5
start_smtpd --starttls "$C/server.pem" "$C/server.key" --xoauth2 \
    --auth "user@example.org:at-many"
config xoauth2 'queue off'
token_file at-old $((NOW - 10))
pids=""
for i in 1 2 3 4 5 6 7 8 9 10; do
	POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" \
	    "$POSTIE" -C "$TMP/config" a@example.com <"$TMP/msg" \
	    >"$TMP/out$i" 2>&1 &
	pids="$pids $!"
done
for p in $pids; do
	wait "$p" || fail "a concurrent send failed: $(cat "$TMP"/out*)"
done
check_count 10
[ "$(requests)" -eq 1 ] || fail "$(requests) token requests for 10 sends, expected 1"

# (g) the device flow: the URL and code shown, two pending polls, then
# the tokens written into a new 0600 file, which the next send uses
start_tokend --token at-dev --device-pending 2
start_smtpd --starttls "$C/server.pem" "$C/server.key" --xoauth2 \
    --auth "user@example.org:at-dev"
rm -f "$TMP/token.json"
config xoauth2 "oauth2_device_endpoint https://127.0.0.1:$TOKEND_PORT/devicecode"
run_postie -C "$TMP/config" --oauth2-authorize default </dev/null
check_rc 0
check_grep '^  https://login.example/device$' "$TMP/stdout"
check_grep '^  ABCD-1234$' "$TMP/stdout"
check_grep "^The tokens of account 'default' are in $TMP/token.json" "$TMP/stdout"
check_fixed_absent dc-1 "$TMP/stdout"
check_fixed_absent rt-dev "$TMP/stdout"
check_fixed_absent rt-dev "$TMP/stderr"
[ "$(requests)" -eq 4 ] || fail "$(requests) requests, expected 1 + 3 polls"
[ "$(mode_of "$TMP/token.json")" = 600 ] || fail "token file mode $(mode_of "$TMP/token.json")"
grep -q '"refresh_token": "rt-dev"' "$TMP/token.json" || fail "no refresh token stored"
"$PYTHON" - "$TOKEND_DIR/requests.log" <<'PY' || fail "device flow requests wrong"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
assert r[0]["path"] == "/devicecode", r[0]
assert r[0]["form"] == {"client_id": "client-1",
                        "scope": "https://mail.example/.default"}, r[0]
assert r[1]["form"]["grant_type"] == \
    "urn:ietf:params:oauth:grant-type:device_code", r[1]
assert r[1]["form"]["device_code"] == "dc-1", r[1]
PY
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 0
check_count 1
[ "$(requests)" -eq 4 ] || fail "the fresh token was not used"

start_tokend --device-deny
rm -f "$TMP/token.json"
config xoauth2 "oauth2_device_endpoint https://127.0.0.1:$TOKEND_PORT/devicecode"
run_postie -C "$TMP/config" --oauth2-authorize default </dev/null
check_rc 77
check_grep "the OAuth2 authorization of account 'default' was declined" "$TMP/stderr"
[ ! -e "$TMP/token.json" ] || fail "a declined authorization wrote a token file"

# (h) a 535 to a cached token: one renewal, then the send again
start_tokend --token at-new
start_smtpd --starttls "$C/server.pem" "$C/server.key" --xoauth2 \
    --auth "user@example.org:at-new"
config xoauth2 'queue off'
token_file at-revoked $((NOW + 3600))
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 0
check_count 1
[ "$(requests)" -eq 1 ] || fail "$(requests) token requests, expected 1"
[ "$(grep -c '^AUTH XOAUTH2' "$(transcript)")" -eq 2 ] ||
    fail "expected two AUTH commands"
grep -q '"at-new"' "$TMP/token.json" || fail "the renewed token was not stored"

# ... and a renewed token refused again: exit 77, one renewal only
start_tokend --token at-wrong
start_smtpd --starttls "$C/server.pem" "$C/server.key" --xoauth2 \
    --auth "user@example.org:at-new"
config xoauth2 'queue off'
token_file at-revoked $((NOW + 3600))
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 77
check_grep '535' "$TMP/stderr"
[ "$(requests)" -eq 1 ] || fail "$(requests) token requests, expected 1"
check_count 0

# ... and the renewal refused: exit 77, the fix named
start_tokend --refuse invalid_grant
start_smtpd --starttls "$C/server.pem" "$C/server.key" --xoauth2 \
    --auth "user@example.org:at-new"
config xoauth2 'queue off'
token_file at-revoked $((NOW + 3600))
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 77
check_grep "$fix" "$TMP/stderr"
check_fixed_absent rt-0 "$TMP/stderr"
check_count 0

# (i) slow or failing token endpoint: temporary
start_tokend --delay 4
start_smtpd --starttls "$C/server.pem" "$C/server.key" --xoauth2 \
    --auth "user@example.org:at-new"
config xoauth2 'queue off
timeout 1'
token_file at-old $((NOW - 10))
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 75
check_grep "cannot reach https://127.0.0.1:$TOKEND_PORT/token" "$TMP/stderr"
start_tokend --status 503
config xoauth2 'queue off'
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 75
check_grep "https://127.0.0.1:$TOKEND_PORT/token answered HTTP 503" "$TMP/stderr"
config xoauth2
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 0
check_grep '^postie: queued as [^:]*: .*answered HTTP 503' "$TMP/stderr"
check_count 0
grep -q '"at-old"' "$TMP/token.json" || fail "the token file was changed"

# (j) a token Gmail refuses with its error challenge, after the one
# renewal: exit 77, the challenge decoded (status, scope, what to do);
# libcurl stops at the 334 (it does not answer it and wait for the 535)
start_tokend --token at-also-wrong
start_smtpd --starttls "$C/server.pem" "$C/server.key" --xoauth2 \
    --auth "user@example.org:at-good" \
    --oauth2-error '{"status":"401","schemes":"Bearer","scope":"https://mail.google.com/"}'
config xoauth2 'queue off'
token_file at-revoked $((NOW + 3600))
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 77
check_grep "authentication failed: .*; the server's OAuth2 error: status 401, scope https://mail.google.com/: the access token is invalid, expired or revoked.*then run postie --oauth2-authorize default" "$TMP/stderr"
[ "$(wc -l <"$TMP/stderr")" -eq 1 ] || fail "more than one line: $(cat "$TMP/stderr")"
check_fixed_absent at-also-wrong "$TMP/stderr"
check_count 0
# ... and a grant refused with an AADSTS code postie has no words for
# (tokend.py's 70000): Microsoft's look-up URL for it
start_tokend --refuse invalid_grant
config xoauth2 'queue off'
token_file at-old $((NOW - 10))
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 77
check_grep "Microsoft's AADSTS70000: see https://login.microsoftonline.com/error\?code=70000" "$TMP/stderr"
# (k) the code flow.  browse: postie --oauth2-authorize in the
# background; the URL it prints opened as a browser would (Python,
# following the redirect to postie's loopback address); then its exit.
# Under valgrind as run_postie runs it (POSTIE_VALGRIND=1; exit 99).
VG=
if [ "${POSTIE_VALGRIND:-0}" = 1 ]; then
	VG="valgrind -q --error-exitcode=99 --leak-check=full
	    --errors-for-leak-kinds=definite,indirect --log-file=$TMP/vg.%p"
fi
# authorize_start STDIN: postie --oauth2-authorize in the background
# (apid), the URL it prints (url); authorize_end: its exit status (rc;
# 124 when it still waited for the browser after 120 s)
authorize_start() {
	: >"$TMP/stdout"	# now: the job's own redirection may come late
	# shellcheck disable=SC2086
	POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" timeout 120 $VG "$POSTIE" \
	    -C "$TMP/config" \
	    --oauth2-authorize default <"$1" >"$TMP/stdout" 2>"$TMP/stderr" &
	apid=$!
	SMTPD_PIDS="$SMTPD_PIDS $apid"	# stopped by cleanup if we fail
	i=0
	while ! grep -q '^  https://' "$TMP/stdout"; do
		i=$((i + 1))
		[ $i -le 300 ] || fail "no URL printed: $(cat "$TMP/stderr")"
		sleep 0.1
	done
	url=$(sed -n 's/^  \(https:.*\)$/\1/p' "$TMP/stdout")
}
authorize_end() {
	set +e
	wait "$apid"
	rc=$?
	set -e
}
browse() {
	authorize_start /dev/null
	"$PYTHON" - "$url" "$C/ca.pem" >"$TMP/browser" 2>&1 <<'PY' || :
import ssl, sys, urllib.error, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2])
try:
    r = urllib.request.urlopen(sys.argv[1], context=ctx, timeout=20)
    print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
PY
	authorize_end
}
start_tokend --token at-code
start_smtpd --starttls "$C/server.pem" "$C/server.key" --xoauth2 \
    --auth "user@example.org:at-code"
rm -f "$TMP/token.json"
config xoauth2 "oauth2_authorization_endpoint https://127.0.0.1:$TOKEND_PORT/authorize"
browse
check_rc 0
check_grep '^200 postie has the authorization' "$TMP/browser"
check_grep '^The browser then comes back to postie at http://127.0.0.1:[0-9]+/' "$TMP/stdout"
check_grep "^The tokens of account 'default' are in $TMP/token.json" "$TMP/stdout"
[ "$(mode_of "$TMP/token.json")" = 600 ] || fail "token file mode $(mode_of "$TMP/token.json")"
grep -q '"refresh_token": "rt-code"' "$TMP/token.json" || fail "no refresh token stored"
check_fixed_absent ac-1 "$TMP/stdout"
check_fixed_absent rt-code "$TMP/stdout"
check_fixed_absent rt-code "$TMP/stderr"
"$PYTHON" - "$TOKEND_DIR/requests.log" "$url" <<'PY' || fail "code flow requests wrong"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
assert len(r) == 2, r
q = r[0]["form"]
assert r[0]["path"].startswith("/authorize?"), r[0]
assert q["response_type"] == "code" and q["client_id"] == "client-1", q
assert q["code_challenge_method"] == "S256", q
assert q["scope"] == "https://mail.example/.default", q
assert q["access_type"] == "offline" and q["prompt"] == "consent", q
f = r[1]["form"]
assert r[1]["path"] == "/token", r[1]
assert f["grant_type"] == "authorization_code" and f["code"] == "ac-1", f
assert f["redirect_uri"] == q["redirect_uri"], (f, q)
assert len(f["code_verifier"]) == 64, f
assert f["code_verifier"] not in sys.argv[2], "verifier in the URL"
assert f["client_secret"] == "s3cret", f
PY
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 0
check_count 1
[ "$(requests)" -eq 2 ] || fail "the fresh token was not used"

start_tokend --authorize-deny
rm -f "$TMP/token.json"
config xoauth2 "oauth2_authorization_endpoint https://127.0.0.1:$TOKEND_PORT/authorize"
browse
check_rc 77
check_grep "the OAuth2 authorization was declined \(access_denied\)" "$TMP/stderr"
check_grep '^400 ' "$TMP/browser"
[ ! -e "$TMP/token.json" ] || fail "a declined authorization wrote a token file"

start_tokend --authorize-bad-state
config xoauth2 "oauth2_authorization_endpoint https://127.0.0.1:$TOKEND_PORT/authorize"
browse
check_rc 76
check_grep "carries another state: it is not the request this postie started" "$TMP/stderr"
[ ! -e "$TMP/token.json" ] || fail "a foreign redirect wrote a token file"
[ "$(requests)" -eq 1 ] || fail "a foreign redirect's code was exchanged"
# (l) a browser that cannot reach this machine (over SSH, no port
# forward): the address it ends on, pasted on standard input, gives
# postie the code just as the redirect would
start_tokend --token at-code
rm -f "$TMP/token.json"
config xoauth2 "oauth2_authorization_endpoint https://127.0.0.1:$TOKEND_PORT/authorize"
mkfifo "$TMP/paste"
exec 7<>"$TMP/paste"	# held open: postie's stdin neither blocks nor ends
authorize_start "$TMP/paste"
"$PYTHON" - "$url" "$C/ca.pem" >"$TMP/location" <<'PY' || fail "no redirect from /authorize"
import http.client, ssl, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
ctx = ssl.create_default_context(cafile=sys.argv[2])
c = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=20)
c.request("GET", u.path + "?" + u.query)
r = c.getresponse()
assert r.status == 302, r.status
print(r.getheader("Location"))
PY
# a wrong line, then the address as pasted (with blanks), in one go:
# postie takes them one line at a time
{ printf 'not the address\n'; sed 's/^/  /' "$TMP/location"; } >"$TMP/paste"
authorize_end
exec 7>&-
check_rc 0
check_grep 'not the address the browser ended on' "$TMP/stderr"
grep -q '"refresh_token": "rt-code"' "$TMP/token.json" || fail "no refresh token stored"
[ "$(requests)" -eq 2 ] || fail "$(requests) requests, expected the authorize and the exchange"
exit 0
