# Sourced by the drop-directory tests (t073x) after lib.sh: two real users
# (www-data and nobody) who cannot read a root-only 0600 system config,
# a drop directory and a queue under $TMP (never the real spool).

[ "$(id -u)" -eq 0 ] || skip "needs root (two real users, a root-only config)"
command -v setpriv >/dev/null 2>&1 || skip "setpriv (util-linux) not found"
for u in www-data nobody; do
	id "$u" >/dev/null 2>&1 || skip "no user $u"
done

# The users must traverse $TMP (0700 from mktemp) to reach the drop
# directory and the system config (which stays 0600 root).
chmod 755 "$TMP"
# ...and run postie from a copy they can reach (the build tree may be in
# a directory only root can enter).
mkdir "$TMP/bin"
chmod 755 "$TMP/bin"
cp "$POSTIE" "$TMP/bin/postie"
chmod 755 "$TMP/bin/postie"
POSTIE="$TMP/bin/postie"
DROP="$TMP/drop"
SYS="$TMP/system.conf"
SYSPW=Sys-Pa55-w0rd
for u in www-data nobody; do
	mkdir "$TMP/home.$u"
	chown "$u:$(id -g "$u")" "$TMP/home.$u"
	chmod 700 "$TMP/home.$u"
done

# sysconf PORT [EXTRA_LINES]: the system config: the relay with its
# password, root:root 0600.
sysconf() {
	cat >"$SYS" <<CONF
defaults
queue_dir $TMP/queue
qualify_domain example.org
timeout 10
account default
host 127.0.0.1
port $1
from root@example.org
auth plain
user sys
password $SYSPW
auth_cleartext on
${2:-}
CONF
	chown root:root "$SYS"
	chmod 600 "$SYS"
}

# as_user USER ARGS... [<input]: postie as USER (no groups, a clean
# environment, HOME the user's or $AS_HOME); sets $rc, leaves
# $TMP/stdout and $TMP/stderr.
as_user() {
	u=$1
	shift
	set +e
	setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups -- \
	    env -i PATH=/usr/bin:/bin HOME="${AS_HOME:-$TMP/home.$u}" \
	    POSTIE_SYSCONFIG="$SYS" POSTIE_DROPDIR="$DROP" \
	    "$POSTIE" "$@" >"$TMP/stdout" 2>"$TMP/stderr"
	rc=$?
	set -e
}

# sh_user USER COMMAND: a shell command as USER; returns its status.
sh_user() {
	setpriv --reuid="$1" --regid="$(id -g "$1")" --clear-groups -- \
	    env -i PATH=/usr/bin:/bin HOME="$TMP/home.$1" sh -c "$2" \
	    >/dev/null 2>&1
}

# as_root ARGS...: the root side (postie -q), bounded in time.
as_root() {
	set +e
	env HOME="$TMP" POSTIE_SYSCONFIG="$SYS" POSTIE_DROPDIR="$DROP" \
	    timeout 60 "$POSTIE" "$@" >"$TMP/stdout" 2>"$TMP/stderr"
	rc=$?
	set -e
}

# drop_count: entries in the drop directory (as root sees them).
drop_count() {
	find "$DROP" -mindepth 1 -maxdepth 1 | wc -l
}

# qcount: published entries in the root queue.
qcount() {
	if [ -d "$TMP/queue/q" ]; then
		find "$TMP/queue/q" -name '*.env' | wc -l
	else
		echo 0
	fi
}

# mail_from_of RCPT: the envelope sender of the message sent to RCPT.
mail_from_of() {
	"$PYTHON" -c 'import json, glob, sys
for f in sorted(glob.glob(sys.argv[1] + "/*.json")):
    m = json.load(open(f))
    if sys.argv[2] in m["rcpt_tos"]:
        print(m["mail_from"])' "$SMTPD_DIR" "$1"
}
