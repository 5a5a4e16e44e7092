#!/bin/sh
# bench/traffic.sh: real traffic through gofwd beside no firewall, the
# kernel's iptables-legacy with the same rules.v4, and an accept-all
# NFQUEUE loop in C (issue 6, "a benchmark suite that anyone can run";
# issue 5's last point). A benchmark, not a test: it prints medians and
# ratios in one table and writes bench/out/traffic.json; it asserts
# nothing about speed.
#
# As root, from anywhere:  bench/traffic.sh
# It needs go and: apt-get install -y iperf3 libnetfilter-queue-dev libmnl-dev gcc
# (GOFW_BENCH_INSTALL=1 makes it run that apt-get itself).
#
# Knobs (environment) and their defaults; the default suite takes about
# 25 minutes on 2 CPUs:
#   DURATION=3     seconds of traffic per measurement (whole seconds)
#   RUNS=3         rounds; each measures every configuration once
#   SIZES="1 10 1000 10000 100000"   INPUT rules (1: the accepting rule
#                  alone, the "accept-all" ruleset; linear only)
#   VARIANTS="linear stateful"       stateful puts the conntrack
#                  ESTABLISHED,RELATED shortcut first
#   FIREWALLS="none iptables nfq-full nfq-batch gofwd gofwd-fast"
#                  gofwd-fast is gofwd --fast-path (README: Fast path)
#   TESTS="tcp1 tcp4 udp conn"
#   QUEUES=1       NFQUEUE queues, for gofwd (--queues) and the C loop
#                  (one process per queue)
#   NFQ_DIVERT=gofwd  where the C loop takes packets: "gofwd" replays the
#                  divert gofwd itself installs (the same hooks, so the
#                  same number of trips to user space per packet), "input"
#                  is one raw PREROUTING rule (one trip per received
#                  packet, as the issue's anchors were measured)
#   CONN_WORKERS=8 concurrent connections of the conn test
#   UDP_SENDER=udpflood  the udp test's sender: udpflood (bench/udpflood,
#                  64 datagrams per sendmmsg) or iperf3 (-u, one datagram
#                  per system call: on 2 CPUs it caps the udp test near
#                  190 kpps with no firewall, below the NFQUEUE path)
# A quick look:  DURATION=2 RUNS=1 SIZES="10 10000" bench/traffic.sh
#
# Setup: two namespaces joined by one veth pair, the sender 198.19.255.1
# and the receiver 198.19.255.2. The firewall runs in the receiver, on its
# INPUT path; the sender has none. Configurations (firewall x ruleset)
# run in turn, each in namespaces made for it and removed after it, and
# the order is reversed every other round so none always goes first. The
# firewalls without a ruleset (none, the C loop) are measured once per
# round and set beside every ruleset.
#   tcp1, tcp4  iperf3, one stream and four (-P 4): bit/s received;
#   udp         64-byte datagrams/s that passed the firewall, counted by
#               the receiver's kernel (Udp InDatagrams + RcvbufErrors), from
#               bench/udpflood to a socket that is never read (no reader
#               competes with the firewall for a CPU); with UDP_SENDER=iperf3,
#               iperf3 -u -l 64 -b 0 sends, and udp-app is what the iperf3
#               server read (sent less lost), which its one read per
#               datagram caps well below what the kernel delivers, so it is
#               shown, not used for the ratios that matter;
#   conn        bench/connrate: connect, one byte, close, from
#               CONN_WORKERS workers: completed connections/s.
# A measurement that fails counts as 0 and is listed under the table.
set -eu

DURATION=${DURATION:-3}
RUNS=${RUNS:-3}
SIZES=${SIZES:-"1 10 1000 10000 100000"}
VARIANTS=${VARIANTS:-"linear stateful"}
FIREWALLS=${FIREWALLS:-"none iptables nfq-full nfq-batch gofwd gofwd-fast"}
TESTS=${TESTS:-"tcp1 tcp4 udp conn"}
QUEUES=${QUEUES:-1}
NFQ_DIVERT=${NFQ_DIVERT:-gofwd}
CONN_WORKERS=${CONN_WORKERS:-8}
UDP_SENDER=${UDP_SENDER:-udpflood}

die() { echo "bench/traffic.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root: it makes network namespaces"

posint() { # posint NAME VALUE MAX
	case $2 in '' | *[!0-9]* | 0) die "$1 must be a positive whole number, not '$2'" ;; esac
	[ "$2" -le "$3" ] || die "$1 is at most $3"
}
posint DURATION "$DURATION" 60
posint RUNS "$RUNS" 50
posint QUEUES "$QUEUES" 16
posint CONN_WORKERS "$CONN_WORKERS" 256
for n in $SIZES; do posint SIZES "$n" 130000; done
for v in $VARIANTS; do case $v in linear | stateful) ;; *) die "VARIANTS: $v is not linear or stateful" ;; esac; done
for f in $FIREWALLS; do case $f in none | iptables | nfq-full | nfq-batch | gofwd | gofwd-fast) ;; *) die "FIREWALLS: unknown $f" ;; esac; done
for t in $TESTS; do case $t in tcp1 | tcp4 | udp | conn) ;; *) die "TESTS: unknown $t" ;; esac; done
case $NFQ_DIVERT in gofwd | input) ;; *) die "NFQ_DIVERT is gofwd or input" ;; esac
case $UDP_SENDER in udpflood | iperf3) ;; *) die "UDP_SENDER is udpflood or iperf3" ;; esac

# What it needs, and the one command that installs it.
pkgs="iperf3 libnetfilter-queue-dev libmnl-dev gcc"
missing() {
	for c in ip iptables-legacy iptables-legacy-restore iptables-legacy-save iperf3 cc ss timeout; do
		command -v "$c" >/dev/null || { echo "$c"; return; }
	done
	[ -f /usr/include/libnetfilter_queue/libnetfilter_queue.h ] || { echo libnetfilter_queue.h; return; }
	[ -f /usr/include/libmnl/libmnl.h ] || { echo libmnl.h; return; }
}
m=$(missing)
if [ -n "$m" ] && [ "${GOFW_BENCH_INSTALL:-}" = 1 ]; then
	apt-get install -y $pkgs || die "apt-get install -y $pkgs failed"
	m=$(missing)
fi
[ -z "$m" ] || die "$m not found; install what this needs with: apt-get install -y $pkgs (or run with GOFW_BENCH_INSTALL=1)"
command -v go >/dev/null || die "go not found (export PATH=/usr/local/go/bin:\$PATH)"

cd "$(dirname "$0")/.."
tmp=$(mktemp -d /tmp/gofw-traffic.XXXXXX)
tx=gofw-tx-$$
rx=gofw-rx-$$
pids= # every background process this script started and has not reaped
cleanup() {
	for p in $pids; do stop "$p"; done
	ip netns del "$tx" 2>/dev/null || true
	ip netns del "$rx" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "building gofwd, the helpers and the C loop in $tmp"
go build -tags urfave_cli_no_docs -o "$tmp/" ./cmd/gofwd ./cmd/gofw ./bench/connrate ./bench/udpflood ./bench/trafficreport ./bench/gen/trafficgen
cc -O2 -Wall -o "$tmp/nfq-accept" bench/nfq-accept.c -lnetfilter_queue -lmnl

# The rulesets, one file per variant and size, the same for both firewalls.
rulesets=
for v in $VARIANTS; do
	for n in $SIZES; do
		[ "$v" = stateful ] && [ "$n" -lt 2 ] && continue
		flag=
		[ "$v" = stateful ] && flag=-stateful
		"$tmp/trafficgen" $flag "$n" >"$tmp/rules-$v-$n"
		rulesets="$rulesets $v:$n"
	done
done
"$tmp/trafficgen" 1 >"$tmp/rules-accept"

TX=198.19.255.1
RX=198.19.255.2

# bg NS CMD...: start CMD in namespace NS in the background; its PID
# (ip netns exec execs CMD, so it is CMD's) goes to $pid and $pids.
bg() {
	ns=$1
	shift
	ip netns exec "$ns" "$@" &
	pid=$!
	pids="$pids $pid"
}

# stop PID: SIGTERM, SIGKILL after 5 s, then reap it.
stop() {
	kill "$1" 2>/dev/null || true
	i=0
	while kill -0 "$1" 2>/dev/null; do
		[ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" = Z ] && break
		i=$((i + 1))
		[ $i -le 50 ] || { kill -9 "$1" 2>/dev/null || true; break; }
		sleep 0.1
	done
	wait "$1" 2>/dev/null || true
	pids=$(echo "$pids" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
}

# until_ok TRIES CMD...: run CMD every 0.1 s until it succeeds.
until_ok() {
	n=$1
	shift
	i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -le "$n" ] || return 1
		sleep 0.1
	done
}

# udp_in: datagrams that reached the receiver's UDP layer, past its
# firewall, whether or not the socket had room for them (Udp InDatagrams
# plus RcvbufErrors in /proc/net/snmp).
udp_in() {
	ip netns exec "$rx" awk '/^Udp:/ {
		if (!h) { for (i = 2; i <= NF; i++) c[$i] = i; h = 1; next }
		print $c["InDatagrams"] + $c["RcvbufErrors"]; exit
	}' /proc/net/snmp
}

listening() { [ -n "$(ip netns exec "$rx" ss -Hltn "sport = :$1")" ]; }
udp_bound() { [ -n "$(ip netns exec "$rx" ss -Hlun "sport = :$1")" ]; }

netns_up() {
	ip netns add "$tx"
	ip netns add "$rx"
	ip -n "$tx" link add veth0 type veth peer name veth0 netns "$rx"
	ip -n "$tx" addr add "$TX/24" dev veth0
	ip -n "$rx" addr add "$RX/24" dev veth0
	for ns in "$tx" "$rx"; do
		ip -n "$ns" link set lo up
		ip -n "$ns" link set veth0 up
	done
}

netns_down() {
	ip netns del "$tx"
	ip netns del "$rx"
}

# queues: the NFQUEUE target's queue options, as gofwd sets them.
queues() {
	if [ "$QUEUES" = 1 ]; then echo "--queue-num 0"; else echo "--queue-balance 0:$((QUEUES - 1))"; fi
}
if [ "$NFQ_DIVERT" = input ]; then
	printf '*raw\n-A PREROUTING -j NFQUEUE %s\nCOMMIT\n' "$(queues)" >"$tmp/nfq-divert"
fi

# gofwd_up FILE [FLAG...]: start gofwd in the receiver with FILE and the
# flags; $fwpids gets it.
gofwd_up() {
	sock=$tmp/gofwd.sock
	rm -f "$sock"
	gofwd_rules=$1
	shift
	bg "$rx" "$tmp/gofwd" --divert iptables-legacy --rules "$gofwd_rules" --socket "$sock" --queues "$QUEUES" "$@" 2>>"$tmp/gofwd.log"
	fwpids=$pid
	# gofwd answers on its socket once the ruleset is loaded and the
	# divert installed (a large ruleset takes a while).
	until_ok 1200 "$tmp/gofw" --socket "$sock" -S FORWARD || {
		tail -20 "$tmp/gofwd.log" >&2
		die "gofwd did not come up with $gofwd_rules"
	}
}

# capture_divert: run gofwd once to learn the divert it installs (its
# GOFW-* chains and jumps in raw and mangle), for the C loop to replay.
capture_divert() {
	netns_up
	gofwd_up "$tmp/rules-accept"
	for t in raw mangle; do
		ip netns exec "$rx" iptables-legacy-save -t "$t" |
			grep -E '^\*|^:GOFW-|^-A .*GOFW-|^COMMIT' || true
	done >"$tmp/nfq-divert"
	stop "$fwpids"
	netns_down
	grep -q NFQUEUE "$tmp/nfq-divert" || die "found no NFQUEUE rule in gofwd's divert"
}

# fw_up FW RULES: install firewall FW in the receiver.
fw_up() {
	fwpids=
	case $1 in
	none) ;;
	iptables)
		ip netns exec "$rx" iptables-legacy-restore <"$2" || die "iptables-legacy-restore refused $2"
		;;
	nfq-full | nfq-batch)
		flag=
		[ "$1" = nfq-batch ] && flag=-b
		q=0
		while [ $q -lt "$QUEUES" ]; do
			: >"$tmp/nfq-$q.log"
			bg "$rx" "$tmp/nfq-accept" $flag -q $q >>"$tmp/nfq-$q.log" 2>&1
			fwpids="$fwpids $pid"
			until_ok 50 grep -q "queue $q bound" "$tmp/nfq-$q.log" || die "nfq-accept did not bind queue $q: $(cat "$tmp/nfq-$q.log")"
			q=$((q + 1))
		done
		ip netns exec "$rx" iptables-legacy-restore --noflush <"$tmp/nfq-divert" || die "could not install the C loop's divert"
		;;
	gofwd) gofwd_up "$2" ;;
	gofwd-fast) gofwd_up "$2" --fast-path ;;
	esac
}

fw_down() {
	for p in $fwpids; do stop "$p"; done
	fwpids=
}

# measure_iperf TEST: measure's iperf3 tests (tcp1, tcp4, udp with
# UDP_SENDER=iperf3).
measure_iperf() {
	bg "$rx" iperf3 -s -1 -p 5201 >/dev/null 2>&1
	srv=$pid
	until_ok 50 listening 5201 || die "iperf3 -s did not listen"
	case $1 in
	tcp1) args= proto=tcp ;;
	tcp4) args="-P 4" proto=tcp ;;
	udp) args="-u -l 64 -b 0" proto=udp ;;
	esac
	u0=$(udp_in)
	timeout $((DURATION + 20)) ip netns exec "$tx" \
		iperf3 -c "$RX" -p 5201 -t "$DURATION" --connect-timeout 3000 -J $args >"$out" 2>&1 || true
	u1=$(udp_in)
	stop "$srv"
	v=$("$tmp/trafficreport" iperf "$proto" "$out")
	if [ "$1" = udp ]; then
		# What iperf3 read is kept as udp-app; the figure is what
		# passed the firewall.
		echo "$fw $variant $size udp-app $r $v" >>"$tmp/results"
		line="$line udp-app=$v"
		v=$(echo "$u0 $u1 $DURATION" | awk '{ printf "%.0f", ($2 - $1) / $3 }')
	fi
}

# measure_flood: measure's udp test with udpflood.
measure_flood() {
	bg "$rx" "$tmp/udpflood" -sink "$RX:5203"
	srv=$pid
	until_ok 50 udp_bound 5203 || die "udpflood -sink did not bind"
	u0=$(udp_in)
	timeout $((DURATION + 20)) ip netns exec "$tx" \
		"$tmp/udpflood" -send "$RX:5203" -t "$DURATION" >"$out" 2>&1 || true
	u1=$(udp_in)
	stop "$srv"
	# Over the seconds the sender measured itself (it stops at its first
	# look at the clock past DURATION).
	secs=$(sed -n 's/.*"seconds":\([0-9.e+]*\).*/\1/p' "$out")
	v=$(echo "$u0 $u1 ${secs:-0}" | awk '{ printf "%.0f", ($3 > 0 ? ($2 - $1) / $3 : 0) }')
}

# measure TEST: one measurement of TEST against the receiver; sets v to
# the figure (0 if it failed, with a line in $tmp/failures). It runs in
# this shell, not in $(...), so that what it starts is in $pids.
measure() {
	out=$tmp/out.json
	: >"$out"
	case $1 in
	udp)
		if [ "$UDP_SENDER" = iperf3 ]; then measure_iperf udp; else measure_flood; fi
		;;
	tcp1 | tcp4) measure_iperf "$1" ;;
	conn)
		timeout $((DURATION + 20)) ip netns exec "$tx" \
			"$tmp/connrate" -connect "$RX:5202" -t "$DURATION" -w "$CONN_WORKERS" >"$out" 2>&1 || true
		v=$(sed -n 's/.*"per_second":\([0-9.e+]*\).*/\1/p' "$out")
		[ -n "$v" ] || v=0
		;;
	esac
	case $v in 0 | 0.0*) echo "$label $1 run $r: $(head -c 300 "$out" | tr '\n' ' ')" >>"$tmp/failures" ;; esac
}

# config FW VARIANT:SIZE: one configuration, every test, one run each.
config() {
	fw=$1
	if [ "$2" = - ]; then
		variant=- size=- rules=$tmp/rules-accept label=$fw
	else
		variant=${2%:*} size=${2#*:} rules=$tmp/rules-$variant-$size label="$fw $variant $size"
	fi
	netns_up
	fw_up "$fw" "$rules"
	bg "$rx" "$tmp/connrate" -listen "$RX:5202" >/dev/null 2>>"$tmp/connrate.log"
	conn_srv=$pid
	until_ok 50 listening 5202 || die "connrate -listen did not listen"
	line=
	for t in $TESTS; do
		measure "$t"
		echo "$fw $variant $size $t $r $v" >>"$tmp/results"
		line="$line $t=$v"
	done
	stop "$conn_srv"
	fw_down
	netns_down
	printf 'run %d  %-26s%s\n' "$r" "$label" "$line"
}

has() { case " $FIREWALLS " in *" $1 "*) return 0 ;; esac; return 1; }

if [ "$NFQ_DIVERT" = gofwd ] && { has nfq-full || has nfq-batch; }; then
	capture_divert
fi
echo "C loop divert ($NFQ_DIVERT):"
sed 's/^/  /' "$tmp/nfq-divert" 2>/dev/null || echo "  (not used)"

# The order of one round: the firewalls without a ruleset, then iptables
# and gofwd (and gofwd --fast-path) side by side for each ruleset.
order=
for f in none nfq-full nfq-batch; do has "$f" && order="$order $f/-"; done
for rs in $rulesets; do
	for f in iptables gofwd gofwd-fast; do has "$f" && order="$order $f/$rs"; done
done
reversed=$(echo $order | tr ' ' '\n' | tac | tr '\n' ' ')

load=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$tmp/results"
: >"$tmp/failures"
r=1
while [ $r -le "$RUNS" ]; do
	list=$order
	[ $((r % 2)) = 0 ] && list=$reversed
	for c in $list; do config "${c%%/*}" "${c#*/}"; done
	r=$((r + 1))
done

mkdir -p bench/out
cp "$tmp/results" bench/out/traffic.txt
echo
"$tmp/trafficreport" table -json bench/out/traffic.json -failures "$tmp/failures" -divert-rules "$tmp/nfq-divert" \
	-date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" -commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
	-kernel "$(uname -r)" -iptables "$(iptables-legacy --version 2>&1 | head -1)" -load "$load" \
	-duration "$DURATION" -runs "$RUNS" -queues "$QUEUES" -divert "$NFQ_DIVERT" -udp-sender "$UDP_SENDER" -workers "$CONN_WORKERS" \
	"$tmp/results"
echo "wrote bench/out/traffic.json (raw figures: bench/out/traffic.txt)"
