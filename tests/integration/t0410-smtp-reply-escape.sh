#!/bin/sh
# R25: a relay's reply text with ESC/CSI/OSC, BEL, BS and CR reaches
# stderr and the -vv trace escaped (\x1b), never raw, without the stray CR.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

evil=$(printf 'dot=554 5.7.1 \033[2J\033]0;owned\007 spam\010\rpostie: delivered')
start_smtpd --fail "$evil"
write_config "$TMP/config" <<CONF
account default
queue off
host 127.0.0.1
port $SMTPD_PORT
from sender@example.org
CONF
printf 'Subject: x\n\nhello\n' >"$TMP/msg"
run_postie -vv -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 69
check_count 0
esc=$(printf '\033')
bel=$(printf '\007')
bs=$(printf '\010')
cr=$(printf '\r')
for c in "$esc" "$bel" "$bs" "$cr"; do
	if grep -q "$c" "$TMP/stderr"; then
		fail "a raw control character reached stderr"
	fi
done
# the final error line, and the -vv trace of the reply
check_grep 'message refused after the end of data: 554 5.7.1 \\x1b\[2J\\x1b\]0;owned\\x07 spam\\x08\\x0dpostie: delivered$' \
    "$TMP/stderr"
check_grep '^postie: <- 554 5.7.1 \\x1b\[2J' "$TMP/stderr"

# The same words in a 4xx keep the message queued; mailq --json must
# stay valid UTF-8 JSON with no raw control character (the queue keeps
# no controls; invalid 8-bit becomes U+FFFD: test_util).
soft=$(printf 'dot=451 4.3.0 \033[2J caf\303\251 \007busy\rpostie: delivered \302\2332J')
start_smtpd --fail "$soft"
write_config "$TMP/config2" <<CONF
account default
host 127.0.0.1
port $SMTPD_PORT
from sender@example.org
queue_dir $TMP/queue
queue_flush_on_send off
logfile $TMP/log
CONF
run_postie -C "$TMP/config2" a@example.com <"$TMP/msg"
check_rc 0
run_postie -C "$TMP/config2" -bp --json
check_rc 0
"$PYTHON" - "$TMP/stdout" <<'PY' || fail "mailq --json is not valid UTF-8 JSON with the reply"
import json, sys
raw = open(sys.argv[1], "rb").read()
v = json.loads(raw.decode("utf-8", "strict"))
text = json.dumps(v, ensure_ascii=False)
assert "\x1b" not in text and "\x07" not in text and "\r" not in text.replace("\\r", ""), text
assert "caf\u00e9" in text and "busy" in text, text
PY
# mailq's listing: the reply escaped as on stderr, the C1 control U+009B
# (a CSI to many terminals) too; a valid UTF-8 letter stays
run_postie -C "$TMP/config2" -bp
check_rc 0
check_grep 'delivered \\xc2\\x9b2J\)$' "$TMP/stdout"
grep -q "$(printf 'caf\303\251 ')" "$TMP/stdout" || fail "mailq lost the UTF-8 letter"
if grep -q "$(printf '\302\233')" "$TMP/stdout"; then
	fail "mailq printed a raw C1 control"
fi
# the log line: the reply escaped, never a raw control
for c in "$esc" "$bel" "$cr"; do
	if grep -q "$c" "$TMP/log"; then
		fail "a raw control character reached the logfile"
	fi
done
check_grep 'smtpmsg="cannot send .*451 4.3.0 \\\\x1b\[2J caf' "$TMP/log"
exit 0
