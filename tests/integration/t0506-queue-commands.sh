#!/bin/sh
# Listing and commands: -bp, mailq, --json (strings escaped), and
# --queue-hold, --queue-release, --queue-delete; refused ids.  The log
# file: one line per attempt.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t05lib.sh"

PORT=$(free_port)
qconf "$PORT"
run_postie -C "$TMP/config" -bp
check_rc 0
check_grep '^Mail queue is empty$' "$TMP/stdout"
[ ! -e "$Q" ] || fail "-bp created the queue directory"
run_postie -C "$TMP/config" -bp --json
check_rc 0
[ "$(cat "$TMP/stdout")" = "[]" ] || fail "--json: $(cat "$TMP/stdout")"

msg one
run_postie -C "$TMP/config" -f '"odd\"q"@example.org' a@example.com \
    b@example.com <"$TMP/in"
check_rc 0
one=$(queued_id)
msg two
run_postie -C "$TMP/config" -odq c@example.com <"$TMP/in"
two=$(queued_id)
run_postie -C "$TMP/config" -bp
check_rc 0
check_grep "^$one [0-9]+ 0m <.*> <a@example.com> <b@example.com> attempts=1 \\(connection to 127.0.0.1:$PORT refused\\)$" "$TMP/stdout"
check_grep "^$two [0-9]+ 0m <sender@example.org> <c@example.com> attempts=0 " "$TMP/stdout"
check_grep '^-- 2 requests$' "$TMP/stdout"
# The mailq face lists the same.
"$(dirname "$POSTIE")/mailq" -C "$TMP/config" >"$TMP/mailq" 2>&1 ||
    fail "mailq failed"
check_grep "^$one " "$TMP/mailq"
run_postie -C "$TMP/config" -bp --json
"$PYTHON" - "$TMP/stdout" "$one" "$two" <<'PY' || fail "--json output wrong"
import json, sys
v = json.load(open(sys.argv[1]))
assert [e["id"] for e in v] == sys.argv[2:4], v
assert v[0]["recipients"] == ["a@example.com", "b@example.com"], v
assert v[0]["attempts"] == 1 and v[1]["attempts"] == 0, v
assert "refused" in v[0]["last_error"], v
assert v[1]["sender"] == "sender@example.org", v
assert v[0]["sender"] == '"odd\\"q"@example.org', v
assert v[0]["message_id"] == "<one@postie.test>", v
assert v[0]["held"] is False and v[0]["account"] == "default", v
PY

# hold / release / delete
run_postie -C "$TMP/config" --queue-hold "$two"
check_rc 0
run_postie -C "$TMP/config" -bp
check_grep "^$two! " "$TMP/stdout"
start_smtpd
qconf "$SMTPD_PORT"
run_postie -C "$TMP/config" -qf
check_rc 0
check_count 1
check_queue 1
check_grep '<one@postie.test>' "$SMTPD_DIR/0001.eml"
run_postie -C "$TMP/config" --queue-release "$two"
check_rc 0
run_postie -C "$TMP/config" -q
check_count 2
check_queue 0
msg three
run_postie -C "$TMP/config" -odq d@example.com <"$TMP/in"
three=$(queued_id)
run_postie -C "$TMP/config" --queue-delete "$three"
check_rc 0
check_queue 0
run_postie -C "$TMP/config" --queue-delete "$three"
check_rc 66
run_postie -C "$TMP/config" --queue-delete ../../etc/passwd
check_rc 65
# a well-formed id that names nothing is 66, as postie(1) says
run_postie -C "$TMP/config" --queue-delete=bogus
check_rc 66
check_grep "no queue entry 'bogus'" "$TMP/stderr"
run_postie -C "$TMP/config" --queue-hold
check_rc 64
run_postie -C "$TMP/config" -qf
check_count 2

# The log: one line per attempt, with the outcome and the exit code.
check_grep "id=$one account=\"default\" host=127.0.0.1 tls=off auth=off user=- from=[^ ]+@[^ ]+ recipients=a@example.com,b@example.com states=pending,pending mailsize=[0-9]+ smtpstatus=0 smtpmsg=\"connection to .* refused\" outcome=queued exitcode=EX_OK" "$TMP/log"
check_grep "id=$one .*recipients=a@example.com,b@example.com states=accepted:250,accepted:250 mailsize=[0-9]+ smtpstatus=250 smtpmsg=\"2.0.0 Ok: queued as SINK[0-9]+\" outcome=delivered exitcode=EX_OK" "$TMP/log"
[ "$(grep -c "id=$two " "$TMP/log")" -eq 2 ] || fail "log lines for $two"
[ "$(wc -l <"$TMP/log")" -eq 5 ] || fail "$(wc -l <"$TMP/log") log lines, expected 5"
exit 0
