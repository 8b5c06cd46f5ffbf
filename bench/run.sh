#!/bin/bash
# bench/run.sh: postie side by side with msmtp, curl, swaks and s-nail on one
# loopback SMTP sink (issue 5).  See bench/README.md.
#
#   bench/run.sh [--quick] [--no-install] [--smtp-sink]
#
# --quick       small sizes and few repetitions (about two minutes, one of
#               them workload 11's rate-limit window; CI): the exit status
#               is about integrity only, never about timing
# --no-install  do not apt-get the peers; tools that are missing are "n/a"
# --smtp-sink   also run workload 4 into Postfix's smtp-sink (cross-check of
#               the ceiling with the sink the issue's numbers came from)
#
# Exit status: 0 when every message every tool sent arrived intact at the
# sink (count, recipients, body hash), 1 when one was lost or corrupted,
# 2 when the bench itself could not run.
set -u
BENCH=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$BENCH")
QUICK=0 INSTALL=1 SMTPSINK=0
for a; do
	case $a in
	--quick) QUICK=1 ;;
	--no-install) INSTALL=0 ;;
	--smtp-sink) SMTPSINK=1 ;;
	-h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown argument '$a' (try --help)" >&2; exit 2 ;;
	esac
done
POSTIE=${POSTIE:-$TOP/src/postie}
PY=/usr/bin/python3
RES=$BENCH/results
BIN=$RES/bin
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
[ $QUICK = 1 ] && STAMP=$STAMP-quick
OUT=$RES/$STAMP
TMO=600				# seconds: no single measurement runs longer
W=""
SINK_PIDS=""
BG_PIDS=""

cleanup() {
	for p in $BG_PIDS $SINK_PIDS; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	[ -n "$W" ] && rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() { printf '%s\n' "$*" >&2; }
die() { say "run.sh: $*"; exit 2; }

# ---------------------------------------------------------------- peers
install_peers() {
	local p need=""
	for p in msmtp curl swaks s-nail time valgrind openssl gcc libc6-dev \
	    libssl-dev libnet-ssleay-perl libio-socket-ssl-perl python3 \
	    ca-certificates; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q 'ok installed' || need="$need $p"
	done
	# smtp-sink comes with Postfix; "No configuration" starts no MTA.
	if [ $SMTPSINK = 1 ] && [ ! -x /usr/sbin/smtp-sink ]; then
		echo 'postfix postfix/main_mailer_type select No configuration' |
		    debconf-set-selections
		need="$need postfix"
	fi
	[ -z "$need" ] && return 0
	say "installing:$need"
	# Plain msmtp, never msmtp-mta (that one would own /usr/sbin/sendmail).
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 \
	    update -qq >/dev/null 2>&1
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 \
	    install -y -qq --no-install-recommends $need >/dev/null ||
	    die "cannot install:$need"
}

[ $INSTALL = 1 ] && install_peers
command -v gcc >/dev/null || die "gcc is needed to build the bench tools"
if [ ! -x "$POSTIE" ]; then
	say "building postie"
	make -C "$TOP" -j2 >/dev/null || die "cannot build $POSTIE"
fi

mkdir -p "$BIN" "$OUT" || die "cannot create $OUT"
for t in gen tm rawsend sink; do
	if [ ! -x "$BIN/$t" ] || [ "$BENCH/$t.c" -nt "$BIN/$t" ]; then
		l=""
		[ $t = sink ] && l="-pthread -lssl -lcrypto"
		gcc -std=c11 -O2 -Wall -Wextra -o "$BIN/$t" "$BENCH/$t.c" $l ||
		    die "cannot build bench/$t.c"
	fi
done

# The start-up floors: nothing but the libraries' loading.
gcc -O2 -o "$BIN/floor-libcurl" "$BENCH/floor.c" -Wl,--no-as-needed -lcurl \
    2>/dev/null || rm -f "$BIN/floor-libcurl"
# floor-postie-libs: the libraries postie's binary itself names (NEEDED).
gcc -O2 -o "$BIN/floor-postie-libs" "$BENCH/floor.c" -Wl,--no-as-needed \
    $(objdump -p "$POSTIE" 2>/dev/null | awk '/NEEDED/ { printf "-l:%s ", $2 }') \
    2>/dev/null || rm -f "$BIN/floor-postie-libs"

W=$(mktemp -d /tmp/postie-bench.XXXXXX) || die "mktemp"
mkdir "$W/home" "$W/dump" "$W/bin"
# Measure a snapshot: a rebuild of the tree during the run (make relinks
# src/postie in place) must not make an exec fail or change the binary.
cp "$POSTIE" "$W/bin/postie" || die "cannot copy $POSTIE"
POSTIE_SRC=$POSTIE
POSTIE=$W/bin/postie
# No user or system configuration of any tool is read: HOME is empty.
export HOME=$W/home POSTIE_SYSCONFIG=/nonexistent LC_ALL=C

have() { command -v "$1" >/dev/null 2>&1; }
TOOLS_SMALL=""			# the tools that send a small message
for t in postie msmtp curl swaks s-nail; do
	if [ $t = postie ] || have $t; then
		TOOLS_SMALL="$TOOLS_SMALL $t"
	else
		say "$t not found: its rows are n/a"
	fi
done

# ---------------------------------------------------------------- sizes
if [ $QUICK = 1 ]; then
	N_VER=20 N_SEQ=10 N_TLS=10 PAR_ROUNDS=1 PAR_BATCH=20 BIG=10000000
	BIG_REPS=1 NRCPT=100 RCPT_REPS=1 ATT=2000000 ATT_REPS=1
	NPF=100 QN=20 FLAT_SMALL=1000000 FLAT_BIG=32000000 CALLGRIND=0
	RATE_N=20 RATE_M=30
else
	N_VER=200 N_SEQ=500 N_TLS=500 PAR_ROUNDS=5 PAR_BATCH=100
	BIG=100000000 BIG_REPS=5 NRCPT=1000 RCPT_REPS=5 ATT=20000000
	ATT_REPS=5 NPF=2000 QN=1000 FLAT_SMALL=1000000 FLAT_BIG=1000000000 CALLGRIND=1
	RATE_N=600 RATE_M=2000
fi

# ---------------------------------------------------------------- sinks
# start_sink NAME [sink options]: sets PORT_<NAME>
start_sink() {
	local name=$1 i=0
	shift
	"$BIN/sink" -p "$W/$name.port" -l "$W/$name.log" -t 7200 "$@" \
	    2>"$W/$name.err" &
	SINK_PIDS="$SINK_PIDS $!"
	while [ ! -s "$W/$name.port" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && die "sink $name did not start: $(cat "$W/$name.err")"
		sleep 0.05
	done
	eval "PORT_$name=\$(cat \"\$W/\$name.port\")"
}

# Self-signed CA, and a server certificate for 127.0.0.1 and localhost.
(
	cd "$W" &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bench CA" \
	    -keyout ca.key -out ca.pem 2>/dev/null &&
	openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
	    -keyout server.key -out server.csr 2>/dev/null &&
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >server.ext &&
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
	    -CAcreateserial -days 2 -extfile server.ext -out server.pem \
	    2>/dev/null
) || die "cannot make certificates"

start_sink plain
start_sink tls -c "$W/server.pem" -k "$W/server.key"
start_sink dump -D "$W/dump"

# Configuration files, mode 0600 as msmtp and postie want.
for s in plain tls dump; do
	eval "port=\$PORT_$s"
	{
		printf 'defaults\nhost 127.0.0.1\nport %s\n' "$port"
		[ $s = tls ] && printf 'tls on\ntls_starttls on\ntls_trust_file %s\n' \
		    "$W/ca.pem"
	} >"$W/postie-$s.conf"
	{
		printf 'account default\nhost 127.0.0.1\nport %s\nfrom bench@example.org\n' \
		    "$port"
		[ $s = tls ] && printf 'tls on\ntls_starttls on\ntls_trust_file %s\n' \
		    "$W/ca.pem"
	} >"$W/msmtp-$s.conf"
done
chmod 600 "$W"/*.conf

# A private queue: postie queues on a temporary failure (root's default is
# /var/spool/postie, shared with everything else on the machine).  Only a
# build that knows queue_dir gets it, and only then are messages queued on
# purpose (workload 7).
mkdir -m 700 "$W/queue"
printf 'defaults\nqueue_dir %s\n' "$W/queue" >"$W/probe.conf"
chmod 600 "$W/probe.conf"
QDIR=0
"$POSTIE" -C "$W/probe.conf" -bp >/dev/null 2>&1
[ $? -ne 78 ] && QDIR=1		# 78: EX_CONFIG, an unknown key
if [ $QDIR = 1 ]; then
	for s in plain tls dump; do
		printf 'queue_dir %s\n' "$W/queue" >>"$W/postie-$s.conf"
	done
fi

# ---------------------------------------------------------------- inputs
# mkmsg NAME BYTES: NAME.lf (stdin of postie, msmtp), NAME.crlf (curl -T),
# NAME.swaks (swaks --data: without the last newline, swaks adds one),
# NAME.body (s-nail: the body alone), NAME.wire (rawsend); NAME.hash.
mkmsg() {
	local f
	"$BIN/gen" -m "$2" -f lf >"$W/$1.lf"
	"$BIN/gen" -m "$2" -f crlf >"$W/$1.crlf"
	"$BIN/gen" -m "$2" -f wire >"$W/$1.wire"
	head -c -1 "$W/$1.lf" >"$W/$1.swaks"
	tail -n +5 "$W/$1.lf" >"$W/$1.body"
	"$BIN/sink" -H "$W/$1.lf" | sed 's/.*hash=//' >"$W/$1.hash"
	# The same body, whatever the form (.body: no header, so a blank
	# line first).
	for f in crlf body; do
		[ "$( { [ $f = body ] && echo; cat "$W/$1.$f"; } |
		    "$BIN/sink" -H /dev/stdin | sed 's/.*hash=//')" = \
		    "$(cat "$W/$1.hash")" ] || die "generator: $1.$f differs"
	done
}
mkmsg small 2048

# ---------------------------------------------------------------- running
SAMPLES=$OUT/samples.tsv
: >"$SAMPLES"
ERRLOG=$OUT/stderr.log
: >"$ERRLOG"

# send_cmd TOOL SINK TAG MSG: the command that sends message MSG (a mkmsg
# name) through sink SINK (plain, tls, dump) to TAG@example.com, as each
# tool is meant to be used; sets the array CMD and its stdin IN.
send_cmd() {
	local tool=$1 s=$2 tag=$3 m=$W/$4 port
	eval "port=\$PORT_$s"
	IN=/dev/null
	case $tool in
	postie)
		CMD=("$POSTIE" -C "$W/postie-$s.conf" "$tag@example.com")
		IN=$m.lf ;;
	msmtp)
		CMD=(msmtp -C "$W/msmtp-$s.conf" "$tag@example.com")
		IN=$m.lf ;;
	curl)
		CMD=(curl -sS --url "smtp://127.0.0.1:$port"
		    --mail-from bench@example.org --mail-rcpt "$tag@example.com"
		    -T "$m.crlf")
		[ $s = tls ] && CMD+=(--ssl-reqd --cacert "$W/ca.pem") ;;
	swaks)
		CMD=(swaks --silent 2 --server "127.0.0.1:$port"
		    --from bench@example.org --to "$tag@example.com"
		    --data "@$m.swaks")
		[ $s = tls ] && CMD+=(--tls --tls-verify --tls-ca-path "$W/ca.pem") ;;
	s-nail)
		# localhost for TLS: s-nail checks the name, not an IP SAN.
		CMD=(s-nail -:/ -S v15-compat -S nosave -S sendwait
		    -S smtp-auth=none -S from=bench@example.org
		    -s 'bench message')
		if [ $s = tls ]; then
			CMD+=(-S "mta=smtp://localhost:$port" -S smtp-use-starttls
			    -S "tls-ca-file=$W/ca.pem")
		else
			CMD+=(-S "mta=smtp://127.0.0.1:$port")
		fi
		CMD+=("$tag@example.com")
		IN=$m.body ;;
	raw)
		CMD=("$BIN/rawsend" "$port" "$m.wire" "$tag@example.com") ;;
	esac
}

# measure WORKLOAD TOOL UNITS N P: run CMD N times, P at a time, with stdin
# IN; one sample line: workload tool units wall_ns rss_kb fails.
measure() {
	local r
	r=$("$BIN/tm" -t $TMO -n "$4" -P "$5" -i "$IN" -e "$ERRLOG" -- "${CMD[@]}")
	r=${r//wall_ns=/}
	r=${r//maxrss_kb=/}
	r=${r//fails=/}
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${r// /	}" >>"$SAMPLES"
}

# ---------------------------------------------------------------- checks
LOST=0
# expect SINK TAG COUNT HASH [RCPTS]: COUNT messages whose first recipient
# is TAG@example.com arrived at SINK with body hash HASH (- for any) and
# RCPTS recipients (default 1).
expect() {
	local n bad
	read -r n bad < <(awk -v tag="first=$2@example.com" -v hash="$4" \
	    -v rcpt="rcpt=${5:-1}" '
		$2 == tag { n++; if ((hash != "-" && $6 != "hash=" hash) ||
		    $3 != rcpt) bad++ }
		END { printf "%d %d\n", n, bad }' "$W/$1.log")
	if [ "$n" != "$3" ] || [ "$bad" != 0 ]; then
		say "LOST OR CORRUPTED: $2: $n of $3 messages arrived, $bad damaged"
		printf '%s\tLOST\t%s of %s arrived, %s damaged\n' "$2" "$n" "$3" \
		    "$bad" >>"$OUT/integrity.tsv"
		LOST=$((LOST + 1))
	else
		printf '%s\tok\t%s messages\n' "$2" "$3" >>"$OUT/integrity.tsv"
	fi
}
: >"$OUT/integrity.tsv"
note() { printf '%s\n' "$*" >>"$OUT/notes.txt"; }
: >"$OUT/notes.txt"

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- 1 start-up
say "workload 1: --version x $N_VER"
for i in $(seq "$N_VER"); do
	for t in $TOOLS_SMALL; do
		case $t in
		s-nail) CMD=(s-nail -V) ;;
		*) CMD=("$([ $t = postie ] && echo "$POSTIE" || echo $t)" --version) ;;
		esac
		IN=/dev/null
		measure 1-version "$t" 1 1 1
	done
	for t in floor-libcurl floor-postie-libs; do
		[ -x "$BIN/$t" ] || continue
		CMD=("$BIN/$t")
		measure 1-version "$t" 1 1 1
	done
done

if [ $CALLGRIND = 1 ] && have valgrind; then
	say "workload 1: callgrind, one small send"
	for t in postie msmtp curl; do
		send_cmd $t plain "cg-$t" small
		valgrind --tool=callgrind --callgrind-out-file="$W/cg.$t" \
		    "${CMD[@]}" <"$IN" >/dev/null 2>>"$ERRLOG"
		ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$W/cg.$t")
		printf '%s\t%s\n' "$t" "${ir:-0}" >>"$OUT/callgrind.tsv"
		cp "$W/cg.$t" "$OUT/callgrind.out.$t"
		expect plain "cg-$t" 1 "$(cat "$W/small.hash")"
	done
fi

# ---------------------------------------------------------------- 2, 3 small
small_workload() {	# SINK LABEL N
	local s=$1 lab=$2 n=$3 i t r
	say "workload $lab: $n messages of 2 KiB, sequential, alternating"
	for i in $(seq "$n"); do
		for t in $TOOLS_SMALL; do
			send_cmd $t "$s" "$lab-seq-$t" small
			measure "$lab-seq" "$t" 1 1 1
		done
	done
	say "workload $lab: $((PAR_ROUNDS * PAR_BATCH)) messages, 4 in parallel"
	for r in $(seq "$PAR_ROUNDS"); do
		for t in $TOOLS_SMALL; do
			send_cmd $t "$s" "$lab-par-$t" small
			measure "$lab-par4" "$t" "$PAR_BATCH" "$PAR_BATCH" 4
		done
	done
	for t in $TOOLS_SMALL; do
		expect "$s" "$lab-seq-$t" "$n" "$(cat "$W/small.hash")"
		expect "$s" "$lab-par-$t" $((PAR_ROUNDS * PAR_BATCH)) \
		    "$(cat "$W/small.hash")"
	done
}
small_workload plain 2 "$N_SEQ"
small_workload tls 3 "$N_TLS"

# ---------------------------------------------------------------- 4 big
say "workload 4: one message of $((BIG / 1000000)) MB x $BIG_REPS"
mkmsg big "$BIG"
BIGSZ=$(stat -c %s "$W/big.lf")
for i in $(seq "$BIG_REPS"); do
	for t in postie msmtp curl raw; do
		[ $t = msmtp ] && ! have msmtp && continue
		send_cmd $t plain "4-big-$t" big
		measure 4-big "$t" "$BIGSZ" 1 1
	done
done
for t in postie msmtp curl raw; do
	[ $t = msmtp ] && ! have msmtp && continue
	expect plain "4-big-$t" "$BIG_REPS" "$(cat "$W/big.hash")"
done

# The same message from a pipe (cron, PHP, git: the usual sendmail case).
pipe_send() {	# TOOL SIZE TAG WORKLOAD SEED
	local t=$1 n=$2 fmt=lf
	send_cmd "$t" plain "$3" small
	if [ $t = curl ]; then	# -T -: the message from stdin
		fmt=crlf
		CMD=("${CMD[@]:0:${#CMD[@]}-1}" -)
	fi
	rm -f "$W/fifo"
	mkfifo "$W/fifo"
	"$BIN/gen" -m "$n" -f $fmt -S "$5" >"$W/fifo" 2>/dev/null &
	BG_PIDS=$!
	IN=$W/fifo
	measure "$4" "$t" "$n" 1 1
	wait "$BG_PIDS"
	BG_PIDS=""
}
say "workload 4: the same from a pipe x $BIG_REPS"
for i in $(seq "$BIG_REPS"); do
	for t in postie msmtp curl; do
		[ $t = msmtp ] && ! have msmtp && continue
		pipe_send $t "$BIG" "4-pipe-$t" 4-big-pipe 4
	done
done
h=$("$BIN/gen" -m "$BIG" -f lf -S 4 | "$BIN/sink" -H /dev/stdin | sed 's/.*hash=//')
for t in postie msmtp curl; do
	[ $t = msmtp ] && ! have msmtp && continue
	expect plain "4-pipe-$t" "$BIG_REPS" "$h"
done

if [ $SMTPSINK = 1 ] && [ -x /usr/sbin/smtp-sink ]; then
	# Postfix's sink, no dump (a dump halves its speed): counted with -c
	# only, the integrity of these bytes is checked on our sink above.
	say "workload 4 (cross-check): the same into Postfix's smtp-sink"
	sp=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	/usr/sbin/smtp-sink -u postfix -c "127.0.0.1:$sp" 100 >"$W/smtp-sink.out" 2>&1 &
	SINK_PIDS="$SINK_PIDS $!"
	sleep 0.3
	PORT_pfx=$sp
	printf 'defaults\nhost 127.0.0.1\nport %s\n' "$sp" >"$W/postie-pfx.conf"
	printf 'account default\nhost 127.0.0.1\nport %s\nfrom bench@example.org\n' \
	    "$sp" >"$W/msmtp-pfx.conf"
	chmod 600 "$W"/*.conf
	for i in $(seq "$BIG_REPS"); do
		for t in postie msmtp curl raw; do
			send_cmd $t pfx "4-pfx-$t" big
			measure 4-big-smtp-sink "$t" "$BIGSZ" 1 1
		done
	done
fi
rm -f "$W"/big.*

# ---------------------------------------------------------------- 5 rcpts
say "workload 5: one message to $NRCPT recipients x $RCPT_REPS"
rcpt_cmd() {	# TOOL TAG: CMD for NRCPT recipients, the first TAG@
	local t=$1 tag=$2 i list=()
	for i in $(seq 2 "$NRCPT"); do list+=("$tag-$i@example.com"); done
	send_cmd "$t" plain "$tag" small
	case $t in
	postie | msmtp) CMD+=("${list[@]}") ;;
	curl) for i in "${list[@]}"; do CMD+=(--mail-rcpt "$i"); done ;;
	swaks) local IFS=,; CMD+=(--to "$tag@example.com,${list[*]}") ;;
	esac
}
for i in $(seq "$RCPT_REPS"); do
	for t in postie msmtp curl swaks; do
		[ $t != postie ] && ! have $t && continue
		rcpt_cmd $t "5-rcpt-$t"
		measure 5-rcpts "$t" 1 1 1
	done
done
# postie sends more than 100 recipients as transactions of 100 (RFC 5321
# 4.5.3.1.8 guarantees no more; issue 10): each run is then several sink
# records, the first naming TAG@, the others TAG-N@.  What must hold: REPS
# runs, every record intact, REPS x NRCPT recipients in all.
expect_rcpts() {	# SINK TAG REPS HASH NRCPT
	local runs recs total bad
	read -r runs recs total bad < <(awk -v tag="$2" -v hash="hash=$4" '
		$2 == "first=" tag "@example.com" { runs++ }
		index($2, "first=" tag "@") == 1 ||
		    index($2, "first=" tag "-") == 1 {
			recs++; split($3, r, "="); total += r[2]
			if ($6 != hash) bad++ }
		END { printf "%d %d %d %d\n", runs, recs, total, bad }' \
	    "$W/$1.log")
	if [ "$runs" != "$3" ] || [ "$bad" != 0 ] ||
	    [ "$total" != $(($3 * $5)) ]; then
		say "LOST OR CORRUPTED: $2: $runs of $3 runs, $total of $(($3 * $5)) recipients, $bad of $recs transactions damaged"
		printf '%s\tLOST\t%s of %s runs, %s of %s recipients, %s damaged\n' \
		    "$2" "$runs" "$3" "$total" $(($3 * $5)) "$bad" \
		    >>"$OUT/integrity.tsv"
		LOST=$((LOST + 1))
	else
		printf '%s\tok\t%s messages, %s recipients in %s transaction(s)\n' \
		    "$2" "$3" "$total" "$recs" >>"$OUT/integrity.tsv"
	fi
}
for t in postie msmtp curl swaks; do
	[ $t != postie ] && ! have $t && continue
	expect_rcpts plain "5-rcpt-$t" "$RCPT_REPS" "$(cat "$W/small.hash")" \
	    "$NRCPT"
done

# ---------------------------------------------------------------- 6 attach
# compose_cmd TOOL SINK TAG FILE: send the small body with FILE attached.
compose_cmd() {
	local t=$1 s=$2 tag=$3 f=$4 port
	eval "port=\$PORT_$s"
	IN=$W/small.body
	case $t in
	postie)
		CMD=("$POSTIE" -C "$W/postie-$s.conf" -s 'bench attach' -a "$f"
		    "$tag@example.com") ;;
	s-nail)
		CMD=(s-nail -:/ -S v15-compat -S nosave -S sendwait
		    -S smtp-auth=none -S from=bench@example.org
		    -S "mta=smtp://127.0.0.1:$port" -s 'bench attach' -a "$f"
		    "$tag@example.com") ;;
	swaks)
		CMD=(swaks --silent 2 --server "127.0.0.1:$port"
		    --from bench@example.org --to "$tag@example.com"
		    --header 'Subject: bench attach' --body "@$W/small.body"
		    --attach "@$f")
		IN=/dev/null ;;
	curl)
		CMD=(curl -sS --url "smtp://127.0.0.1:$port"
		    --mail-from bench@example.org --mail-rcpt "$tag@example.com"
		    -H 'Subject: bench attach'
		    -F "=<$W/small.body;type=text/plain"
		    -F "file=@$f;encoder=base64")
		IN=/dev/null ;;
	esac
}

# Is compose mode there?  One small attachment through the dump sink.
"$BIN/gen" -b 3000 -S 7 >"$W/probe.bin"
compose_cmd postie dump probe-a "$W/probe.bin"
HAVE_A=0
if "${CMD[@]}" <"$IN" >/dev/null 2>&1; then
	f=$(awk '$2 == "first=probe-a@example.com" { printf "%06d.eml\n", $1 }' \
	    "$W/dump.log" | tail -n 1)
	[ -n "$f" ] && "$PY" "$BENCH/verify_attach.py" "$W/dump/$f" \
	    "$W/probe.bin" >/dev/null 2>&1 && HAVE_A=1
fi
rm -f "$W/dump"/*.eml
if [ $HAVE_A = 0 ]; then
	note "postie -a: not available in this build (compose workloads n/a)"
	say "postie -a is not available: workload 6 and 8 (attachment) n/a"
fi

ATT_TOOLS=""
for t in postie s-nail swaks curl; do
	[ $t = postie ] && [ $HAVE_A = 0 ] && continue
	[ $t != postie ] && ! have $t && continue
	ATT_TOOLS="$ATT_TOOLS $t"
done
say "workload 6: compose with a $((ATT / 1000000)) MB attachment x $ATT_REPS"
"$BIN/gen" -b "$ATT" -S 6 >"$W/att.bin"
for i in $(seq "$ATT_REPS"); do
	for t in $ATT_TOOLS; do
		compose_cmd $t plain "6-att-$t" "$W/att.bin"
		measure 6-attach "$t" "$ATT" 1 1
	done
done
for t in $ATT_TOOLS; do
	expect plain "6-att-$t" "$ATT_REPS" - 1
	# One more through the dump sink: the attachment decoded intact?
	compose_cmd $t dump "6-chk-$t" "$W/att.bin"
	"${CMD[@]}" <"$IN" >/dev/null 2>>"$ERRLOG"
	f=$(awk -v t="first=6-chk-$t@example.com" \
	    '$2 == t { printf "%06d.eml\n", $1 }' "$W/dump.log" | tail -n 1)
	if [ -n "$f" ] && "$PY" "$BENCH/verify_attach.py" "$W/dump/$f" \
	    "$W/att.bin" >>"$OUT/notes.txt" 2>&1; then
		printf '6-chk-%s\tok\tattachment decoded intact\n' "$t" \
		    >>"$OUT/integrity.tsv"
	else
		say "CORRUPTED: $t: the attachment did not arrive intact"
		printf '6-chk-%s\tLOST\tattachment not intact\n' "$t" \
		    >>"$OUT/integrity.tsv"
		LOST=$((LOST + 1))
	fi
	rm -f "$W/dump"/*.eml
done
rm -f "$W/att.bin"

# ---------------------------------------------------------------- 7 queue
# Queue $QN messages while the relay is down (a port nobody listens on),
# then flush them with one "postie -q" into the sink.
say "workload 7: queue flush of $QN"
deadport=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'defaults\nhost 127.0.0.1\nport %s\nqueue_dir %s\n' "$deadport" \
    "$W/queue" >"$W/postie-dead.conf"
chmod 600 "$W/postie-dead.conf"
HAVE_Q=0
if [ $QDIR = 1 ] &&
    "$POSTIE" -C "$W/postie-dead.conf" 7-probe@example.com <"$W/small.lf" \
    >/dev/null 2>&1 &&
    "$POSTIE" -C "$W/postie-dead.conf" -bp 2>/dev/null | grep -q 7-probe &&
    "$POSTIE" -C "$W/postie-plain.conf" -qf >/dev/null 2>&1 &&
    grep -q 'first=7-probe@' "$W/plain.log"; then
	HAVE_Q=1
fi
if [ $HAVE_Q = 1 ]; then
	for i in $(seq "$QN"); do
		"$POSTIE" -C "$W/postie-dead.conf" 7-queue@example.com \
		    <"$W/small.lf" >/dev/null 2>>"$ERRLOG"
	done
	# -qf: every entry now (-q alone sends only the entries that are due).
	CMD=("$POSTIE" -C "$W/postie-plain.conf" -qf)
	IN=/dev/null
	measure 7-flush postie-q "$QN" 1 1
	expect plain 7-queue "$QN" "$(cat "$W/small.hash")"
	send_cmd postie plain 7-procs small
	measure 7-flush postie-procs "$QN" "$QN" 1
	expect plain 7-procs "$QN" "$(cat "$W/small.hash")"
else
	note "postie -q: no queue (or no queue_dir) in this build (workload 7 n/a)"
	say "postie has no queue yet: workload 7 n/a"
fi
left=$(find "$W/queue" -name '*.env' 2>/dev/null | wc -l)
if [ "$left" -ne 0 ]; then
	say "LOST: $left message(s) left in the queue (see $ERRLOG)"
	printf 'queue\tLOST\t%s messages left in the queue\n' "$left" \
	    >>"$OUT/integrity.tsv"
	LOST=$((LOST + 1))
fi

# ---------------------------------------------------------------- 9 -bs
# A framework's session (symfony/mailer, issue 12): $NBS messages through
# one "postie -bs" versus one piped postie process each.
NBS=100
say "workload 9: $NBS messages through one -bs session vs one process each"
awk '{ sub(/\r$/, ""); if (substr($0, 1, 1) == ".") $0 = "." $0
	printf "%s\r\n", $0 }' "$W/small.lf" >"$W/small.bs"
{
	printf 'EHLO bench.example\r\n'
	for i in $(seq "$NBS"); do
		printf 'MAIL FROM:<bench@example.org>\r\n'
		printf 'RCPT TO:<9-bs@example.com>\r\nDATA\r\n'
		cat "$W/small.bs"
		printf '.\r\n'
	done
	printf 'QUIT\r\n'
} >"$W/9.dialogue"
if "$POSTIE" -C "$W/postie-plain.conf" -bs </dev/null >/dev/null 2>&1; then
	CMD=("$POSTIE" -C "$W/postie-plain.conf" -bs)
	IN=$W/9.dialogue
	measure 9-bs postie-bs "$NBS" 1 1
	expect plain 9-bs "$NBS" "$(cat "$W/small.hash")"
	send_cmd postie plain 9-procs small
	measure 9-bs postie-procs "$NBS" "$NBS" 1
	expect plain 9-procs "$NBS" "$(cat "$W/small.hash")"
else
	note "postie -bs: not available in this build (workload 9 n/a)"
	say "postie has no -bs: workload 9 n/a"
fi

# ---------------------------------------------------------------- 10 parallel
# A flush over a relay with round trips (issue 14): $NPF queued messages
# into a sink that holds every reply 20 ms, with queue_connections 1, 4
# and 8, against one postie process per message and one msmtp per message
# (a queue script's way).
say "workload 10: flush of $NPF over a 20 ms relay, 1/4/8 connections"
start_sink slow -d 20
printf 'defaults\nhost 127.0.0.1\nport %s\n' "$PORT_slow" >"$W/postie-slow.conf"
printf 'account default\nhost 127.0.0.1\nport %s\nfrom bench@example.org\n' \
    "$PORT_slow" >"$W/msmtp-slow.conf"
chmod 600 "$W/postie-slow.conf" "$W/msmtp-slow.conf"
printf 'defaults\nqueue_dir %s\nqueue_connections 2\n' "$W/queue" \
    >"$W/probe-qc.conf"
chmod 600 "$W/probe-qc.conf"
"$POSTIE" -C "$W/probe-qc.conf" -bp >/dev/null 2>&1
if [ $? -ne 78 ] && [ $HAVE_Q = 1 ]; then	# 78: an unknown key
	for c in 1 4 8; do
		printf 'defaults\nhost 127.0.0.1\nport %s\nqueue_dir %s\nqueue_connections %s\n' \
		    "$PORT_slow" "$W/queue" "$c" >"$W/postie-slow$c.conf"
		chmod 600 "$W/postie-slow$c.conf"
		for i in $(seq "$NPF"); do
			"$POSTIE" -C "$W/postie-dead.conf" "10-c$c@example.com" \
			    <"$W/small.lf" >/dev/null 2>>"$ERRLOG"
		done
		CMD=("$POSTIE" -C "$W/postie-slow$c.conf" -qf)
		IN=/dev/null
		measure 10-flush "postie-c$c" "$NPF" 1 1
		expect slow "10-c$c" "$NPF" "$(cat "$W/small.hash")"
	done
	send_cmd postie slow 10-procs small
	measure 10-flush postie-procs "$NPF" "$NPF" 1
	expect slow 10-procs "$NPF" "$(cat "$W/small.hash")"
	if have msmtp; then
		send_cmd msmtp slow 10-msmtp small
		measure 10-flush msmtp-procs "$NPF" "$NPF" 1
		expect slow 10-msmtp "$NPF" "$(cat "$W/small.hash")"
	fi
else
	note "postie has no queue_connections (workload 10 n/a)"
	say "postie has no queue_connections: workload 10 n/a"
fi

# ---------------------------------------------------------------- 11 rate
# A flush under "rate_limit N/minute" (issue 14): $RATE_M messages queued
# (-odq) for one account, then one "postie -q", which waits for each
# window's next slot, and "-q --due" every second for anything it left
# (bounded: the windows needed plus 30 s).
# The sink stamps each arrival (-T); summary.py --rate turns the stamps
# into the peak in any 60 s (never over N: integrity), the rate achieved
# while more than N waited, and the total time.
say "workload 11: flush of $RATE_M under rate_limit $RATE_N/minute"
mkdir -m 700 "$W/queue11"
printf 'defaults\nqueue_dir %s\nrate_limit %s/minute\n' "$W/queue11" \
    "$RATE_N" >"$W/probe-rl.conf"
chmod 600 "$W/probe-rl.conf"
"$POSTIE" -C "$W/probe-rl.conf" -bp >/dev/null 2>&1
if [ $? -ne 78 ] && [ $HAVE_Q = 1 ]; then	# 78: an unknown key
	start_sink rate -T "$W/rate.times"
	printf 'defaults\nhost 127.0.0.1\nport %s\nqueue_dir %s\nrate_limit %s/minute\n' \
	    "$PORT_rate" "$W/queue11" "$RATE_N" >"$W/postie-rate.conf"
	chmod 600 "$W/postie-rate.conf"
	for i in $(seq "$RATE_M"); do
		"$POSTIE" -C "$W/postie-rate.conf" -odq "11-rate-$i@example.com" \
		    <"$W/small.lf" >/dev/null 2>>"$ERRLOG"
	done
	# One flush: it waits for each window's next slot (a slot within
	# 90 s; any N/minute) and drains the queue at the limit.  Then, for
	# a postie that ends its flush at a full window instead, the timer:
	# "-q --due" once a second until the queue is empty (bounded).
	t0=$(date +%s.%N)
	span=$(( ((RATE_M - 1) / RATE_N) * 60 + 30 ))
	end=$(( ${t0%.*} + span ))
	"$BIN/tm" -t "$span" -n 1 -P 1 -i /dev/null -e "$ERRLOG" -- \
	    "$POSTIE" -C "$W/postie-rate.conf" -q >/dev/null
	runs=1
	CMD=("$POSTIE" -C "$W/postie-rate.conf" -q --due)
	IN=/dev/null
	while [ "$(find "$W/queue11" -name '*.env' | wc -l)" -ne 0 ] &&
	    [ "$(date +%s)" -lt $end ]; do
		"$BIN/tm" -t 60 -n 1 -P 1 -i /dev/null -e "$ERRLOG" -- \
		    "${CMD[@]}" >/dev/null
		runs=$((runs + 1))
		sleep 1
	done
	cp "$W/rate.times" "$OUT/rate.times"
	peak=$("$PY" "$BENCH/summary.py" --rate "$W/rate.times" "$RATE_N" \
	    "$RATE_M" "$t0" "$runs" "$OUT/rate.tsv") || peak=-1
	# every message exactly once (its own recipient), intact
	read -r n bad < <(awk -v hash="hash=$(cat "$W/small.hash")" '
		$2 ~ /^first=11-rate-[0-9]+@example.com$/ { seen[$2]++
		    if ($6 != hash || $3 != "rcpt=1") bad++ }
		END { for (k in seen) { n++; if (seen[k] != 1) bad++ }
		    printf "%d %d\n", n, bad }' "$W/rate.log")
	if [ "$n" != "$RATE_M" ] || [ "$bad" != 0 ]; then
		say "LOST OR CORRUPTED: 11-rate: $n of $RATE_M messages arrived, $bad damaged or twice"
		printf '11-rate\tLOST\t%s of %s arrived, %s damaged or twice\n' \
		    "$n" "$RATE_M" "$bad" >>"$OUT/integrity.tsv"
		LOST=$((LOST + 1))
	else
		printf '11-rate\tok\t%s messages, each once\n' "$RATE_M" \
		    >>"$OUT/integrity.tsv"
	fi
	if [ "$peak" -lt 0 ] || [ "$peak" -gt "$RATE_N" ]; then
		say "RATE LIMIT TRIPPED: 11-rate: $peak arrivals within 60 s, limit $RATE_N"
		printf '11-peak\tLOST\t%s arrivals within 60 s, over rate_limit %s/minute\n' \
		    "$peak" "$RATE_N" >>"$OUT/integrity.tsv"
		LOST=$((LOST + 1))
	else
		printf '11-peak\tok\tat most %s arrivals in any 60 s (limit %s)\n' \
		    "$peak" "$RATE_N" >>"$OUT/integrity.tsv"
	fi
	left=$(find "$W/queue11" -name '*.env' | wc -l)
	if [ "$left" -ne 0 ]; then
		say "LOST: 11-rate: $left message(s) still queued after the deadline"
		printf '11-queue\tLOST\t%s messages left in the queue\n' \
		    "$left" >>"$OUT/integrity.tsv"
		LOST=$((LOST + 1))
	fi
	note "workload 11: msmtp/curl: no rate limit; a queue script would have to sleep (no rows)"
else
	note "workload 11 n/a: postie has no rate_limit (or no queue) in this build"
	say "postie has no rate_limit: workload 11 n/a"
fi

# ---------------------------------------------------------------- 8 flat
# Peak RSS for a small and a big message (from a pipe: the big one is
# never on disk), and for a small and a big attachment (a file: -a needs
# one; deleted at once).
say "workload 8: memory, $((FLAT_SMALL / 1000000)) MB vs $((FLAT_BIG / 1000000)) MB"
flat_msg() {	# TOOL SIZE LABEL
	local h
	pipe_send "$1" "$2" "8-$3-$1" "8-msg-$3" 8
	h=$("$BIN/gen" -m "$2" -f lf -S 8 | "$BIN/sink" -H /dev/stdin |
	    sed 's/.*hash=//')
	expect plain "8-$3-$1" 1 "$h"
}
for t in postie msmtp curl; do
	[ $t != postie ] && ! have $t && continue
	flat_msg $t "$FLAT_SMALL" small
	flat_msg $t "$FLAT_BIG" big
done
for t in postie s-nail; do
	[ $t = postie ] && [ $HAVE_A = 0 ] && continue
	[ $t != postie ] && ! have $t && continue
	for lab in small big; do
		[ $lab = small ] && n=$FLAT_SMALL || n=$FLAT_BIG
		"$BIN/gen" -b "$n" -S 9 >"$W/flat.bin"
		compose_cmd $t plain "8-att$lab-$t" "$W/flat.bin"
		measure "8-att-$lab" "$t" "$n" 1 1
		rm -f "$W/flat.bin"
		expect plain "8-att$lab-$t" 1 - 1
	done
done

# ---------------------------------------------------------------- report
{
	echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p')," \
	    "$(free -g | awk '/^Mem:/ { print $2 }') GiB"
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "postie: $("$POSTIE" --version 2>&1 | head -n 1)" \
	    "($POSTIE_SRC, tree at $(git -C "$TOP" rev-parse --short HEAD \
	    2>/dev/null || echo '?')$(git -C "$TOP" diff --quiet HEAD -- src \
	    2>/dev/null || echo ' + uncommitted changes in src'))"
	for t in msmtp curl swaks s-nail; do
		have $t || continue
		case $t in
		s-nail) v=$(s-nail -V 2>&1 | head -n 1) ;;
		swaks) v=$(swaks --version 2>&1 | head -n 1) ;;
		*) v=$($t --version 2>&1 | head -n 1) ;;
		esac
		echo "$t: $v"
	done
	echo "mode: $([ $QUICK = 1 ] && echo quick || echo full)"
	echo "load average at the start: $LOAD0; at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/machine.txt"
"$PY" "$BENCH/summary.py" "$OUT" | tee "$OUT/table.md"
ln -sfn "$STAMP" "$RES/latest"
if [ $LOST -ne 0 ]; then
	say "run.sh: $LOST integrity check(s) failed (see $OUT/integrity.tsv)"
	exit 1
fi
say "run.sh: every message arrived intact; results in $OUT"
exit 0
