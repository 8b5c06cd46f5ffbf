#!/bin/sh
# I9: option injection.  A recipient or -f value that looks like an option
# (-X/file, -oQ/dir, -C/etc/shadow after an operand, -f '-bv', -oQ.. after
# "--") is refused with EX_USAGE (64) or EX_DATAERR (65), and no file is
# created, opened or even looked at (checked with strace when it works).
# The PHPMailer shapes (CVE-2016-10033) and the real sendmail options
# -X/-oQ given by a caller: -oQ is ignored, -X FILE gets the log line (and
# never a "<?" that would start PHP code in it).
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

start_smtpd
write_config "$TMP/config" <<CONF
host 127.0.0.1
port $SMTPD_PORT
qualify_domain example.org
CONF
printf 'Subject: opt\n\nbody\n' >"$TMP/in"
X="$TMP/x.php"
QD="$TMP/qdir"

use_strace=0
if command -v strace >/dev/null 2>&1 &&
    strace -f -qq -o /dev/null true 2>/dev/null; then
	use_strace=1
else
	echo "note: strace does not work here; checking files only" >&2
fi

# traced ARGS...: run_postie, under strace when it works (file syscalls
# into $TMP/trace, the execve line with argv left out).
traced() {
	if [ $use_strace = 1 ]; then
		set +e
		POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" strace -f -qq \
		    -e trace=%file -o "$TMP/trace.raw" "$POSTIE" "$@" \
		    <"$TMP/in" >"$TMP/stdout" 2>"$TMP/stderr"
		rc=$?
		set -e
		grep -v 'execve(' "$TMP/trace.raw" >"$TMP/trace" || :
	else
		run_postie "$@" <"$TMP/in"
		: >"$TMP/trace"
	fi
}
# unread PATH: no system call named it (open, stat, access...).
unread() {
	check_fixed_absent "$1" "$TMP/trace"
}
# untouched PATH...: not created, and unread.
untouched() {
	for p in "$@"; do
		[ ! -e "$p" ] || fail "'$p' was created"
		unread "$p"
	done
}
usage_or_data() {
	[ "$rc" -eq 64 ] || [ "$rc" -eq 65 ] ||
	    fail "exit $rc, expected 64 or 65"
}

# Injected through recipients and -f: refused.
traced -C "$TMP/config" a@example.com "-X$X"
check_rc 64
untouched "$X"
traced -C "$TMP/config" a@example.com "-oQ$QD"
check_rc 64
untouched "$QD"
traced -C "$TMP/config" a@example.com -C/etc/shadow
check_rc 64
unread /etc/shadow
check_grep "recipient '-C/etc/shadow' looks like an option" "$TMP/stderr"
traced -C "$TMP/config" a@example.com -C /etc/shadow
check_rc 64
unread /etc/shadow
traced -C "$TMP/config" -f '-bv' a@example.com
check_rc 64
traced -C "$TMP/config" -f "-X$X" a@example.com
usage_or_data
untouched "$X"
traced -C "$TMP/config" -- "-oQ$QD@example.com"
check_rc 64
untouched "$QD"
traced -C "$TMP/config" -- a@example.com "-X$X"
check_rc 64
untouched "$X"
# cron's MAILTO="a@b, -X/file" arrives as one word, split at commas
traced -C "$TMP/config" "a@example.com, -X$X"
check_rc 64
untouched "$X"
check_count 0

# PHPMailer: the sender as one word (a valid quoted local part: it is
# only ever an address, sent as such), then the escapeshellcmd split.
traced -C "$TMP/config" \
    "-f\"attacker\\\" -oQ/tmp/ -X$X some\"@example.com" a@example.com
untouched "$X"
traced -C "$TMP/config" '-f"attacker\\"' -oQ/tmp/ "-X$X" 'some"@example.com' \
    a@example.com
usage_or_data
untouched "$X"

# The real options, from the caller: -oQ ignored (no directory), -X the
# transaction log as in sendmail and msmtp: the log line, where nothing
# the sender chose can open PHP code.
traced -C "$TMP/config" "-X$X" "-oQ$QD" -f '"<?php_echo(1);?>"@example.com' \
    a@example.com
check_rc 0
untouched "$QD"
check_grep 'recipients=a@example.com .*smtpstatus=250' "$X"
check_fixed_absent '<?' "$X"
if [ $use_strace = 1 ]; then
	# the trace is real: it shows the config file being opened
	check_grep "$TMP/config" "$TMP/trace"
fi
check_count 2
exit 0
