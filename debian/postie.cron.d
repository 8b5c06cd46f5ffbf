# /etc/cron.d/postie: flush postie's mail queue (and take in the messages
# users dropped) every minute, on systems that do not run systemd.  With
# systemd, postie-queue.timer and postie-queue.path do it and this line
# does nothing.
SHELL=/bin/sh
PATH=/usr/sbin:/usr/bin:/sbin:/bin
* * * * *	root	[ -d /run/systemd/system ] || [ ! -x /usr/bin/postie ] || /usr/bin/postie -q --due >/dev/null 2>&1
