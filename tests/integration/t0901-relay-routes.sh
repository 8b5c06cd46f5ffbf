#!/bin/sh
# Routes by recipient (issue 14; P5 in tests/README): a message whose recipients fall under
# several accounts goes once through each, with only its recipients; the
# results per recipient are merged into one outcome.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

start_smtpd
CORP_PORT=$SMTPD_PORT CORP_DIR=$SMTPD_DIR
start_smtpd --fail 'rcpt:gone@bulk.example=550 5.1.1 no such user'
BULK_PORT=$SMTPD_PORT BULK_DIR=$SMTPD_DIR
start_smtpd
MAIN_PORT=$SMTPD_PORT MAIN_DIR=$SMTPD_DIR

write_config "$TMP/config" <<CONF
logfile $TMP/log
from sender@example.org

account main
host 127.0.0.1
port $MAIN_PORT

account corp
host 127.0.0.1
port $CORP_PORT
route corp.example corp
route *.corp.example corp

account bulk
host 127.0.0.1
port $BULK_PORT
route *.EXAMPLE bulk
CONF
printf 'Subject: routes\n\nhello\n' >"$TMP/msg"

run_postie -C "$TMP/config" -v --json a@corp.example b@other.org \
    c@x.bulk.example d@mx.corp.example e@other.net <"$TMP/msg"
check_rc 0
# one transaction per account, each with only its recipients, in order
SMTPD_DIR=$CORP_DIR check_count 1
SMTPD_DIR=$BULK_DIR check_count 1
SMTPD_DIR=$MAIN_DIR check_count 1
[ "$(SMTPD_DIR=$CORP_DIR json_field 1 rcpt_tos)" = '["a@corp.example", "d@mx.corp.example"]' ] ||
    fail "corp got $(SMTPD_DIR=$CORP_DIR json_field 1 rcpt_tos)"
[ "$(SMTPD_DIR=$BULK_DIR json_field 1 rcpt_tos)" = '["c@x.bulk.example"]' ] ||
    fail "bulk got $(SMTPD_DIR=$BULK_DIR json_field 1 rcpt_tos)"
[ "$(SMTPD_DIR=$MAIN_DIR json_field 1 rcpt_tos)" = '["b@other.org", "e@other.net"]' ] ||
    fail "main got $(SMTPD_DIR=$MAIN_DIR json_field 1 rcpt_tos)"
# the same message bytes everywhere
cmp -s "$CORP_DIR/0001.eml" "$BULK_DIR/0001.eml" || fail "bodies differ"
cmp -s "$CORP_DIR/0001.eml" "$MAIN_DIR/0001.eml" || fail "bodies differ"
check_grep "route: 2 recipient\(s\) \(<a@corp.example>\.\.\.\) through account 'corp'" "$TMP/stderr"
check_grep '"status": "sent"' "$TMP/stdout"
check_grep "\"address\": \"c@x.bulk.example\", \"status\": \"delivered\".*\"account\": \"bulk\", \"relay\": \"127\.0\.0\.1:$BULK_PORT\"" "$TMP/stdout"
check_grep "\"address\": \"e@other.net\", \"status\": \"delivered\", [^}]*\"account\": \"main\"" "$TMP/stdout"
check_grep "account=\"corp,main,bulk\" host=127\.0\.0\.1:$CORP_PORT,127\.0\.0\.1:$MAIN_PORT,127\.0\.0\.1:$BULK_PORT .*outcome=delivered" "$TMP/log"

# --dry-run names the route each recipient takes
run_postie -C "$TMP/config" --dry-run a@corp.example b@other.org <"$TMP/msg"
check_rc 0
check_grep "^route <a@corp.example>: account 'corp' \(relay 127\.0\.0\.1\), pattern 'corp.example' \(.*config:[0-9]+\)$" "$TMP/stderr"
check_no_grep "^route <b@other.org>" "$TMP/stderr"
SMTPD_DIR=$MAIN_DIR check_count 1

# one route's relay refuses a recipient, another's is down: the others
# are delivered, the refused one reported, the one behind the dead
# relay queued (exit 0: delivered or queued)
sed -i "s/^port $CORP_PORT\$/port $(free_port)/" "$TMP/config"
run_postie -C "$TMP/config" --json a@corp.example b@other.org \
    gone@bulk.example <"$TMP/msg"
check_rc 0
SMTPD_DIR=$MAIN_DIR check_count 2
check_grep '"status": "queued"' "$TMP/stdout"
check_grep '"address": "a@corp.example", "status": "queued"' "$TMP/stdout"
check_grep '"address": "b@other.org", "status": "delivered"' "$TMP/stdout"
check_grep '"address": "gone@bulk.example", "status": "refused", "code": 550' "$TMP/stdout"
check_grep "for 1 recipient\(s\) through account 'corp': .*refused" "$TMP/stderr"
run_postie -C "$TMP/config" -bp
check_grep 'a@corp\.example' "$TMP/stdout"
check_no_grep 'b@other\.org|gone@bulk' "$TMP/stdout"

# the corp relay is back: the flush routes the queued recipient to it
sed -i "s/^port [0-9]*\$/&/; /^account corp\$/,/^route/ s/^port [0-9]*\$/port $CORP_PORT/" "$TMP/config"
run_postie -C "$TMP/config" -q
check_rc 0
SMTPD_DIR=$CORP_DIR check_count 2
[ "$(SMTPD_DIR=$CORP_DIR json_field 2 rcpt_tos)" = '["a@corp.example"]' ] ||
    fail "corp got $(SMTPD_DIR=$CORP_DIR json_field 2 rcpt_tos)"
SMTPD_DIR=$MAIN_DIR check_count 2

# every route refused for good: the message is refused (exit 69 or 67)
run_postie -C "$TMP/config" gone@bulk.example <"$TMP/msg"
[ "$rc" -ne 0 ] || fail "a refused recipient exited 0"
check_grep '550 5\.1\.1 no such user' "$TMP/stderr"
exit 0
