#!/bin/bash
# The Debian package on a fresh Debian 12: build postie_*.deb (twice, the
# second a rebuild with a higher version) from the committed tree,
# debootstrap bookworm into a directory, install exim4-daemon-light, then
# the .deb with apt, and live with it:
#   - exim4 is gone and /usr/sbin/sendmail is postie;
#   - "echo hi | mail -s x root" and a cron job's output (root's and a
#     user's, run by a real cron daemon started for a while) arrive in
#     /var/mail/root and /var/mail/alice;
#   - a relay written into /etc/postie.conf (smtpd.py of the test suite,
#     on the host's loopback: a chroot shares the network namespace) is
#     used at once, with no reload, by the same cron daemon's mail
#     (root's job directly, alice's through the drop directory and the
#     /etc/cron.d/postie runner), by cron's sendmail call and by
#     www-data (which cannot read the file: the drop directory and
#     root's postie -q);
#   - mail queued while the relay is down, and a message www-data
#     dropped, survive an upgrade to the rebuilt .deb and leave after it;
#   - purge keeps a spool that holds mail and removes an empty one.
# Run as root.  Ends with "pkg-check: pass (N s)" or "pkg-check: FAIL
# (...)", exit 0 or 1.
#	tests/pkg/fresh-root-install.sh [--keep] [--base TARBALL]
# --keep leaves the root and the debs for a look; --base unpacks a tar
# of a fresh minbase root (.ci/fresh-root --save-base makes one, so CI
# debootstraps once) instead of running debootstrap.
set -u
cd "$(dirname "$0")/../.."
top=$PWD
keep=0
base=""
while [ $# -gt 0 ]; do
	case $1 in
	--keep) keep=1 ;;
	--base) base=${2:?--base needs a tar file}; shift ;;
	*) echo "usage: $0 [--keep] [--base TARBALL]" >&2; exit 2 ;;
	esac
	shift
done
suite=bookworm
start=$(date +%s)
PY=/usr/bin/python3

say() { echo "pkg-check: $* [$(( $(date +%s) - start )) s]"; }
fail() { say "FAIL ($*)"; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root: debootstrap, chroot"

# What this check needs on the host, beyond .ci/deps.
need=""
for p in debootstrap debhelper dh-autoreconf dpkg-dev lintian \
    python3-aiosmtpd; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		need="$need $p"
done
if [ -n "$need" ]; then
	say "installing$need"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $need >/dev/null ||
		fail "cannot install$need"
fi

# The Debian archive this machine uses (one-line or deb822 sources).
mirror=$(
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] && awk -v s="$suite" '$1 == "deb" {
			i = 2; if ($i ~ /^\[/) while ($i !~ /\]$/) i++
			if ($i ~ /\]$/) i++
			if ($(i + 1) == s) { print $i; exit } }' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && awk -v s="$suite" '
			/^[ \t]*$/ { if (ok && deb && u != "") { print u; exit }
				ok = deb = 0; u = ""; next }
			tolower($1) == "types:" { for (i = 2; i <= NF; i++)
				if ($i == "deb") deb = 1 }
			tolower($1) == "uris:" { u = $2 }
			tolower($1) == "suites:" { for (i = 2; i <= NF; i++)
				if ($i == s) ok = 1 }
			END { if (ok && deb && u != "") print u }' "$f"
	done | head -n 1)
[ -n "$mirror" ] || fail "no $suite archive in /etc/apt/sources.list*"

work=$(mktemp -d /var/tmp/postie-pkg.XXXXXX)
root=$work/root
smtpd_pid=""
cleanup() {
	local p m
	[ -n "$smtpd_pid" ] && kill "$smtpd_pid" 2>/dev/null
	# cron and whatever it started: only processes inside this root.
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] &&
			kill -9 "${p#/proc/}" 2>/dev/null
	done
	for m in dev/pts dev proc; do
		mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m"
	done
	if [ "$keep" -eq 1 ]; then
		echo "pkg-check: kept $work"
	else
		rm -rf --one-file-system "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the packages: the committed tree, built as a user would ----------
build() {	# build VERSION: a .deb of HEAD with that version in $work
	local d=$work/build-$1
	mkdir -p "$d"
	git -C "$top" archive --prefix=postie/ HEAD | tar -x -C "$d" ||
		return 1
	if [ "$1" != base ]; then
		local v
		v=$(dpkg-parsechangelog -l "$d/postie/debian/changelog" -S Version)
		{
			printf 'postie (%s+rebuild1) unstable; urgency=medium\n\n' "$v"
			printf '  * Rebuild, for the upgrade check.\n\n'
			printf ' -- pkg-check <root@localhost>  %s\n\n' "$(date -R)"
			cat "$d/postie/debian/changelog"
		} >"$d/changelog.new" &&
			mv "$d/changelog.new" "$d/postie/debian/changelog"
	fi
	# the base build runs the unit tests; the rebuild skips them
	(cd "$d/postie" && if [ "$1" != base ]; then
		export DEB_BUILD_OPTIONS=nocheck; fi &&
	    dpkg-buildpackage -us -uc -b) >"$d/build.log" 2>&1 ||
		{ tail -n 30 "$d/build.log"; return 1; }
}
say "building the package (twice: the second is the upgrade)"
build base || fail "dpkg-buildpackage"
build rebuild || fail "dpkg-buildpackage (rebuild)"
deb1=$(ls "$work"/build-base/postie_*.deb | grep -v dbgsym)
deb2=$(ls "$work"/build-rebuild/postie_*.deb | grep -v dbgsym)
say "built $(basename "$deb1") and $(basename "$deb2")"
lint=$(lintian "$work"/build-base/postie_*.changes 2>&1)
echo "$lint" | grep -v 'running with root privileges' | sed 's/^/lintian: /'
echo "$lint" | grep -q '^E:' && fail "lintian reports errors"
say "lintian: $(echo "$lint" | grep -c '^E:') errors, $(echo "$lint" |
    grep -c '^W:') warnings (overrides: debian/postie.lintian-overrides)"

# --- the fresh root -----------------------------------------------------
if [ -n "$base" ]; then
	say "unpacking the fresh $suite root $base"
	mkdir "$root" && tar -x -C "$root" -f "$base" ||
		fail "cannot unpack $base"
else
	say "debootstrap --variant=minbase $suite from $mirror"
	debootstrap --variant=minbase "$suite" "$root" "$mirror" \
	    >"$work/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$work/debootstrap.log"; fail "debootstrap"; }
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
echo pkgcheck >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost pkgcheck\n' >"$root/etc/hosts"
# No daemon a package installs may start inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
mount -t proc proc "$root/proc" &&
mount --bind /dev "$root/dev" &&
mount --bind /dev/pts "$root/dev/pts" ||
	fail "mounting /proc and /dev"

inroot() {	# in CMD...: a command inside the root, as root, clean environment
	chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
	    PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
	    "$@"
}
apt_in() { inroot apt-get -y -q -o Dpkg::Use-Pty=0 "$@" >>"$work/apt.log" 2>&1; }

say "installing exim4-daemon-light, bsd-mailx, cron"
apt_in install --no-install-recommends exim4-daemon-light bsd-mailx cron ||
	{ tail -n 20 "$work/apt.log"; fail "apt-get install exim4"; }
inroot test -x /usr/sbin/exim4 || fail "exim4 not installed"
inroot useradd -m alice || fail "useradd"

cp "$deb1" "$deb2" "$root/tmp/"
say "apt-get install ./$(basename "$deb1")"
apt_in install "/tmp/$(basename "$deb1")" ||
	{ tail -n 30 "$work/apt.log"; fail "apt-get install postie"; }

# --- postie replaced exim4 ----------------------------------------------
inroot dpkg-query -W -f='${Status}\n' exim4-daemon-light 2>/dev/null |
	grep -q 'ok installed' && fail "exim4-daemon-light still installed"
[ -e "$root/usr/sbin/exim4" ] && fail "/usr/sbin/exim4 still there"
[ "$(readlink -f "$root/usr/sbin/sendmail")" = "$root/usr/bin/postie" ] ||
	fail "/usr/sbin/sendmail is not postie"
[ "$(readlink -f "$root/usr/lib/sendmail")" = "$root/usr/bin/postie" ] ||
	fail "/usr/lib/sendmail is not postie"
for f in usr/bin/mailq usr/bin/newaliases usr/share/man/man1/postie.1.gz \
    usr/share/man/man5/postie.conf.5.gz etc/cron.d/postie \
    lib/systemd/system/postie-queue.timer lib/systemd/system/postie-queue.path \
    usr/share/bash-completion/completions/postie \
    usr/share/zsh/vendor-completions/_postie; do
	[ -e "$root/$f" ] || fail "/$f missing"
done
[ -L "$root/etc/systemd/system/timers.target.wants/postie-queue.timer" ] ||
	fail "postie-queue.timer not enabled"
[ -L "$root/etc/systemd/system/paths.target.wants/postie-queue.path" ] ||
	fail "postie-queue.path not enabled"
[ "$(stat -c %a:%U "$root/var/spool/postie")" = 700:root ] ||
	fail "/var/spool/postie is $(stat -c %a:%U "$root/var/spool/postie")"
[ "$(stat -c %a:%U "$root/var/spool/postie-drop")" = 1733:root ] ||
	fail "/var/spool/postie-drop is $(stat -c %a:%U "$root/var/spool/postie-drop")"
[ "$(stat -c %a "$root/etc/postie.conf")" = 640 ] ||
	fail "/etc/postie.conf is mode $(stat -c %a "$root/etc/postie.conf")"
say "exim4 replaced; files, units and spool in place"

# --- local delivery: mailx, and cron --------------------------------------
echo "hi from mailx" | inroot mail -s "x mailx" root ||
	fail "mail -s x root: exit $?"
grep -q '^Subject: x mailx' "$root/var/mail/root" &&
	grep -q '^hi from mailx' "$root/var/mail/root" ||
	fail "mailx's message is not in /var/mail/root"
say "mail -s x root arrived in /var/mail/root"

# A real cron daemon for a while: root's job and alice's job print a
# line; cron mails it; alice cannot read /etc/postie.conf, so her mail
# goes through the drop directory to root's queue runner, which is the
# /etc/cron.d/postie line here (no systemd in a chroot).  cron runs with
# the environment of the shell that started it (HOME=/root), and
# Debian's cron gives the mailer that environment, not the job's.
printf '* * * * * root echo cron-root-output\n' >"$root/etc/cron.d/pkgcheck"
chmod 644 "$root/etc/cron.d/pkgcheck"
printf '* * * * * echo cron-alice-output\n' | inroot crontab -u alice - ||
	fail "crontab -u alice"
inroot cron || fail "cannot start cron"
say "cron started; waiting for its mail (at most 200 s)"
i=0
until grep -q '^cron-root-output' "$root/var/mail/root" 2>/dev/null &&
    grep -q '^cron-alice-output' "$root/var/mail/alice" 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 200 ] && {
		ls -la "$root/var/mail" "$root/var/spool/postie-drop" >&2
		ls "$root/home/alice" >&2
		fail "cron's mail did not arrive in 200 s"
	}
	sleep 1
done
grep -q '^Subject: Cron <root@' "$root/var/mail/root" ||
	fail "root's cron mail has no cron Subject"
grep -q '^Subject: Cron <alice@' "$root/var/mail/alice" ||
	fail "alice's cron mail has no cron Subject"
grep -q '^From alice@' "$root/var/mail/alice" ||
	fail "alice's cron mail is not from alice"
say "cron's mail (root's directly, alice's via the drop directory) arrived"

# --- a relay in /etc/postie.conf, no reload -----------------------------
start_relay() {	# start_relay DIR: smtpd.py on the host, sets port
	mkdir -p "$1"
	"$PY" "$top/tests/integration/smtpd.py" --port-file "$1/port" \
	    --dir "$1" --lifetime 600 >"$1/log" 2>&1 &
	smtpd_pid=$!
	i=0
	while [ ! -s "$1/port" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && { cat "$1/log"; fail "smtpd.py did not start"; }
		sleep 0.1
	done
	port=$(cat "$1/port")
}
write_conf() {	# write_conf PORT
	cat >"$root/etc/postie.conf" <<EOF
# pkg-check: a relay on the host's loopback
account relay
host 127.0.0.1
port $1
tls off
auth off
from root@pkgcheck.example
account default : relay
EOF
}
start_relay "$work/relay"
write_conf "$port"
count() { ls "$work/relay"/*.eml 2>/dev/null | wc -l; }
relay_has() {	# relay_has DIR TEXT: a message holding TEXT reached DIR
	grep -l -- "$2" "$1"/*.eml >/dev/null 2>&1
}

# The same cron daemon, from its next minute on: both jobs' mail now
# leaves through the relay (alice's via the drop directory and the
# cron.d runner, which reads the new file).
say "waiting for cron's mail at the relay (at most 200 s)"
i=0
until relay_has "$work/relay" cron-root-output &&
    relay_has "$work/relay" cron-alice-output; do
	i=$((i + 1))
	[ $i -gt 200 ] && {
		ls -la "$work/relay" "$root/var/spool/postie-drop" >&2
		fail "cron's mail did not reach the relay in 200 s"
	}
	sleep 1
done
kill "$(cat "$root/run/crond.pid")" 2>/dev/null
rm -f "$root/etc/cron.d/pkgcheck"
inroot crontab -u alice -r
say "cron's mail (root's and alice's) went to the relay in /etc/postie.conf"

# cron's own call, as /usr/sbin/cron makes it for root's job
printf 'From: root (Cron Daemon)\nTo: ops@example.org\nSubject: Cron <root@pkgcheck> job\n\ncron-relay-output\n' |
	inroot /usr/sbin/sendmail -FCronDaemon -i -B8BITMIME -oem ops@example.org ||
	fail "cron's sendmail call through the relay: exit $?"
relay_has "$work/relay" cron-relay-output ||
	fail "the relay did not get cron's message"
# www-data, as PHP's mail() calls it
printf 'To: web@example.org\nSubject: from php\n\nwww-data-output\n' |
	inroot runuser -u www-data -- /usr/sbin/sendmail -t -i ||
	fail "www-data's sendmail -t -i: exit $?"
# root's queue runner (the path unit, or the cron.d line)
runner() {
	inroot sh -c "$(sed -n '/^[^#].*[[:space:]]root[[:space:]]/s/^.*[[:space:]]root[[:space:]]*//p' \
	    "$root/etc/cron.d/postie")"
}
runner
relay_has "$work/relay" www-data-output ||
	fail "the relay did not get www-data's message"
grep -q '"web@example.org"' "$work/relay"/*.json ||
	fail "www-data's message had the wrong recipient"
say "the relay configured in /etc/postie.conf took cron's and www-data's mail"

# --- upgrade with mail in the queue ---------------------------------------
kill "$smtpd_pid"; wait "$smtpd_pid" 2>/dev/null; smtpd_pid=""
for n in 1 2 3; do
	printf 'Subject: queued %s\n\nqueued-%s\n' $n $n |
		inroot /usr/sbin/sendmail ops@example.org 2>>"$work/queue.log" ||
		fail "queueing with the relay down: exit $?"
done
q=$(inroot mailq 2>/dev/null | grep -c 'ops@example.org')
[ "$q" -eq 3 ] || { inroot mailq; fail "mailq shows $q of 3 queued messages"; }
# and one a user handed over that no runner has taken in yet
printf 'To: web@example.org\nSubject: dropped\n\ndropped-before-upgrade\n' |
	inroot runuser -u www-data -- /usr/sbin/sendmail -t -i ||
	fail "www-data's sendmail before the upgrade: exit $?"
d=$(ls "$root/var/spool/postie-drop" | wc -l)
[ "$d" -eq 1 ] || fail "the drop directory holds $d files, not 1"
say "apt-get install ./$(basename "$deb2") with 3 messages queued, 1 dropped"
apt_in install "/tmp/$(basename "$deb2")" ||
	{ tail -n 30 "$work/apt.log"; fail "upgrade"; }
inroot dpkg-query -W -f='${Version}' postie | grep -q rebuild1 ||
	fail "the upgrade did not happen"
grep -q 'pkg-check' "$root/etc/postie.conf" ||
	fail "the upgrade replaced the changed /etc/postie.conf"
[ "$(stat -c %a "$root/etc/postie.conf")" = 640 ] ||
	fail "the upgrade changed /etc/postie.conf's mode"
q=$(inroot mailq 2>/dev/null | grep -c 'ops@example.org')
d=$(ls "$root/var/spool/postie-drop" | wc -l)
[ "$q" -eq 3 ] && [ "$d" -eq 1 ] ||
	fail "after the upgrade: $q of 3 queued, $d of 1 dropped"
start_relay "$work/relay2"
write_conf "$port"
inroot /usr/bin/postie -q || fail "postie -q after the upgrade: exit $?"
for n in 1 2 3; do
	relay_has "$work/relay2" "queued-$n" ||
		fail "queued message $n was lost in the upgrade"
done
relay_has "$work/relay2" dropped-before-upgrade ||
	fail "the dropped message was lost in the upgrade"
[ "$(ls "$work/relay2"/*.eml | wc -l)" -eq 4 ] ||
	fail "the relay got $(ls "$work/relay2"/*.eml | wc -l) messages, not 4"
say "the upgrade kept the 3 queued messages and the dropped one; they left after it, once each"

# --- purge ----------------------------------------------------------------
kill "$smtpd_pid"; wait "$smtpd_pid" 2>/dev/null; smtpd_pid=""
printf 'Subject: kept\n\nkept\n' | inroot /usr/sbin/sendmail ops@example.org \
    2>>"$work/queue.log" || fail "queueing before the purge"
apt_in purge postie bsd-mailx || { tail -n 20 "$work/apt.log"; fail "purge"; }
ls "$root"/var/spool/postie/q/*.env >/dev/null 2>&1 ||
	fail "purge removed queued mail"
[ -e "$root/etc/postie.conf" ] && fail "purge left /etc/postie.conf"
say "purge with mail queued: the spool was kept"
apt_in install "/tmp/$(basename "$deb2")" || fail "reinstall"
rm -f "$root"/var/spool/postie/q/*
apt_in purge postie bsd-mailx || fail "second purge"
[ -e "$root/var/spool/postie" ] && fail "purge left an empty /var/spool/postie"
[ -e "$root/var/spool/postie-drop" ] && fail "purge left /var/spool/postie-drop"
say "purge with an empty spool removed it"

say "pass"
exit 0
