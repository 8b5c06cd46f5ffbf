#!/bin/sh
# postie --import-config: an ssmtp, nullmailer and dma setup becomes a
# postie.conf that sends through the same relay with the same login (the
# loopback server requires AUTH); the notes go to stderr; a foreign file
# met as postie's own config names its format and the command.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

start_smtpd --auth user:pw --no-auth-require-tls
eml() { printf '%s/%04d.eml' "$SMTPD_DIR" "$1"; }

# ssmtp: mailhub + AuthUser/AuthPass without TLS (so: auth_cleartext)
mkdir -p "$TMP/ssmtp"
printf 'root=postmaster\nmailhub=127.0.0.1:%s\nAuthUser=user\nAuthPass=pw\nFromLineOverride=YES\n' \
    "$SMTPD_PORT" >"$TMP/ssmtp/ssmtp.conf"
run_postie --import-config ssmtp "$TMP/ssmtp/ssmtp.conf"
check_rc 0
check_grep '^host 127\.0\.0\.1$' "$TMP/stdout"
check_grep '^auth_cleartext on$' "$TMP/stdout"
check_grep 'warning: .*without TLS' "$TMP/stderr"
check_grep 'warning: root=postmaster' "$TMP/stderr"
cp "$TMP/stdout" "$TMP/ssmtp.postie"
chmod 600 "$TMP/ssmtp.postie"
printf 'Subject: via ssmtp import\n\nx\n' >"$TMP/in"
run_postie -C "$TMP/ssmtp.postie" a@example.com <"$TMP/in"
check_rc 0
check_count 1
check_grep '^Subject: via ssmtp import' "$(eml 1)"

# the same ssmtp.conf as postie's config: the format and the command
cp "$TMP/ssmtp/ssmtp.conf" "$TMP/as-postie"
chmod 600 "$TMP/as-postie"
run_postie -C "$TMP/as-postie" a@example.com <"$TMP/in"
check_rc 78
check_grep "this is ssmtp's configuration.*postie --import-config ssmtp" \
    "$TMP/stderr"
check_count 1

# nullmailer: a directory; the first smtp remote is the default
mkdir -p "$TMP/nm"
printf '127.0.0.1 smtp --port=%s --user=user --pass=pw\n127.0.0.2 smtp --port=1\n' \
    "$SMTPD_PORT" >"$TMP/nm/remotes"
printf 'client.example.org\n' >"$TMP/nm/me"
run_postie --import-config nullmailer "$TMP/nm"
check_rc 0
check_grep '^account default : nullmailer1$' "$TMP/stdout"
check_grep '^failover nullmailer2$' "$TMP/stdout"
cp "$TMP/stdout" "$TMP/nm.postie"
chmod 600 "$TMP/nm.postie"
run_postie -C "$TMP/nm.postie" a@example.com <"$TMP/in"
check_rc 0
check_count 2

# dma: AUTHPATH names the login file
printf 'user|127.0.0.1:pw\n' >"$TMP/auth.conf"
printf 'SMARTHOST 127.0.0.1\nPORT %s\nAUTHPATH %s\nINSECURE\n' \
    "$SMTPD_PORT" "$TMP/auth.conf" >"$TMP/dma.conf"
run_postie --import-config dma "$TMP/dma.conf"
check_rc 0
cp "$TMP/stdout" "$TMP/dma.postie"
chmod 600 "$TMP/dma.postie"
run_postie -C "$TMP/dma.postie" a@example.com <"$TMP/in"
check_rc 0
check_count 3

# usage errors
run_postie --import-config exim
check_rc 64
check_grep "unknown format 'exim'" "$TMP/stderr"
run_postie --import-config ssmtp "$TMP/nonexistent"
check_rc 78
check_grep 'cannot open' "$TMP/stderr"
exit 0
