#!/bin/sh
# T9: passwordeval that fails, prints nothing or only a newline: direct
# mode exit 78 with the command's stderr shown and nothing sent; queue
# mode keeps the message held, also exit 78 with NOT SENT and the fix.  The secret is never printed, even
# when the failing command printed it.  passwordeval runs with /bin/sh and
# never sees data from the message or the command line: its arguments
# and environment hold none of the recipients, sender, names, subject or
# body.  A working command works also when the caller ignores SIGCHLD.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

PW=S3cr3t-pw-9
start_smtpd --auth "user:$PW" --no-auth-require-tls
config() {
	write_config "$TMP/config" <<CONF
account default
host 127.0.0.1
port $SMTPD_PORT
from sender@example.org
timeout 10
auth plain
user user
auth_cleartext on
passwordeval $1
$2
CONF
}
printf 'Subject: pe\n\nhello\n' >"$TMP/in"

n=0
for pe in false true 'printf "\\n"' "echo diag-from-command >&2; exit 3" \
    "echo $PW; exit 1"; do
	n=$((n + 1))
	config "$pe" "queue off"
	run_postie -v -C "$TMP/config" a@example.com <"$TMP/in"
	check_rc 78
	check_grep "passwordeval (command failed|printed nothing)" "$TMP/stderr"
	check_fixed_absent "$PW" "$TMP/stderr"
	check_fixed_absent "$PW" "$TMP/stdout"
	check_no_grep '^(AUTH|MAIL)' "$(transcript)"
	rm -rf "$TMP/queue"
	config "$pe" ""
	run_postie -C "$TMP/config" a@example.com <"$TMP/in"
	check_rc 78
	check_grep '^postie: NOT SENT: .*passwordeval.*kept in the queue as .*, held until the configuration is fixed: .*postie -q' "$TMP/stderr"
	check_fixed_absent "$PW" "$TMP/stderr"
	if grep -rqF -- "$PW" "$TMP/queue"; then
		fail "the secret is in the queue"
	fi
done
config "echo diag-from-command >&2; exit 3" "queue off"
run_postie -C "$TMP/config" a@example.com <"$TMP/in"
check_grep '^diag-from-command$' "$TMP/stderr"
check_count 0

# What the command sees: /bin/sh -c with the configured text, no
# arguments, the caller's environment; none of the message's data.
config 'printf "%s\n" "$0" "$@" >'"$TMP/pe.args"'; env >'"$TMP/pe.env; echo $PW" \
    "queue off"
run_postie -C "$TMP/config" -f from-tok@example.org -F Name-tok -s subject-tok \
    rcpt-tok@example.com <"$TMP/in"
check_rc 0
check_count 1
[ "$(json_field 1 auth)" = '"user"' ] || fail "not authenticated"
[ "$(cat "$TMP/pe.args")" = sh ] || fail "passwordeval got: $(cat "$TMP/pe.args")"
check_grep "^HOME=$TMP\$" "$TMP/pe.env"
for tok in from-tok rcpt-tok Name-tok subject-tok hello; do
	check_fixed_absent "$tok" "$TMP/pe.args"
	check_fixed_absent "$tok" "$TMP/pe.env"
done

# A caller that ignores SIGCHLD (Perl's $SIG{CHLD} = 'IGNORE', kept
# through exec): postie still gets passwordeval's exit status and sends
# (before: "cannot wait for passwordeval: No child processes", queued).
config "echo $PW" "queue off"
vg=""
if [ "${POSTIE_VALGRIND:-0}" = 1 ]; then
	vg="valgrind -q --error-exitcode=99 --leak-check=full"
	vg="$vg --errors-for-leak-kinds=definite,indirect"
	vg="$vg --child-silent-after-fork=yes --log-file=$TMP/valgrind.%p"
fi
before=$(find "$SMTPD_DIR" -name '[0-9]*.json' | wc -l)
set +e
POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" perl -e \
    '$SIG{CHLD} = "IGNORE"; exec @ARGV or die "exec: $!\n"' \
    $vg "$POSTIE" -C "$TMP/config" a@example.com <"$TMP/in" \
    >"$TMP/stdout" 2>"$TMP/stderr"
rc=$?
set -e
check_rc 0
check_count $((before + 1))
check_no_grep 'cannot wait' "$TMP/stderr"
exit 0
