#!/bin/sh
# bench/restore.sh: gofw-restore beside iptables-legacy-restore on the same
# generated rulesets (issue 2: "gofw no slower than iptables-legacy-restore").
# A benchmark, not a test: it prints the medians of the wall and CPU times
# and their ratios, and writes bench/out/restore.json; it asserts nothing
# about speed.
#
# As root, from anywhere:  bench/restore.sh
# Knobs (environment):     SIZES="10000 100000"  RUNS=7
#
# iptables-legacy-restore runs in a throwaway network namespace, gofw-restore
# against a gofwd started with --divert none on a private socket. Each run
# first empties the filter table on both sides (untimed), so every timed
# restore replaces an empty table; the two are timed alternately, the one
# going first swapped every run. After the last run of a size, the two
# tables are saved and must be identical to each other and to the input.
set -eu

SIZES=${SIZES:-"10000 100000"}
RUNS=${RUNS:-7}

die() { echo "bench/restore.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root: it makes a network namespace"
for p in ip iptables-legacy-restore iptables-legacy-save go; do
	command -v "$p" >/dev/null || die "$p not found"
done
case $RUNS in '' | *[!0-9]* | 0) die "RUNS must be a positive number" ;; esac
[ "$RUNS" -le 100 ] || die "RUNS is at most 100"

cd "$(dirname "$0")/.."
tmp=$(mktemp -d /tmp/gofw-bench.XXXXXX)
ns=gofw-bench-$$
gofwd_pid=
cleanup() {
	if [ -n "$gofwd_pid" ]; then
		kill "$gofwd_pid" 2>/dev/null || true
		wait "$gofwd_pid" 2>/dev/null || true
	fi
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

go build -tags urfave_cli_no_docs -o bin/ ./cmd/...
go build -o "$tmp/restoregen" ./bench/gen/restoregen
ip netns add "$ns"
ipt_restore() { ip netns exec "$ns" iptables-legacy-restore "$@"; }

sock=$tmp/gofw.sock
bin/gofwd --divert none --socket "$sock" 2>"$tmp/gofwd.log" &
gofwd_pid=$!
i=0
until bin/gofw --socket "$sock" -S >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -le 100 ] || { cat "$tmp/gofwd.log" >&2; die "gofwd did not answer on $sock"; }
	sleep 0.1
done
gofw_restore() { bin/gofw-restore --socket "$sock" "$@"; }

empty=$tmp/empty
printf '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n' >"$empty"

# now prints the time in nanoseconds.
now() { date +%s%N; }

# children_cpu FILE: the user+system seconds of the shell's children in
# FILE, the output of the times builtin (its second line).
children_cpu() { awk 'NR == 2 { print secs($1) + secs($2) } function secs(v) { sub(/s$/, "", v); split(v, a, "m"); return a[1] * 60 + a[2] }' "$1"; }

# gofwd_ticks: gofwd's user+system time so far, in clock ticks.
gofwd_ticks() { awk '{ print $14 + $15 }' "/proc/$gofwd_pid/stat"; }

# timed CMD FILE: run CMD <FILE, fail loudly if it fails, and print the
# wall seconds and the CPU seconds it cost: its processes' user and system
# time, and for gofw-restore also gofwd's. With the machine busy the wall
# time says more about the machine than about the programs; the CPU time
# says what each side does.
timed() {
	d0=$(gofwd_ticks)
	t0=$(now)
	times >"$tmp/times0"
	"$1" <"$2" >/dev/null || die "$1 failed on $2"
	times >"$tmp/times1"
	t1=$(now)
	d1=$(gofwd_ticks)
	d=0
	[ "$1" = gofw_restore ] && d=$((d1 - d0))
	echo "$t0 $t1 $(children_cpu "$tmp/times0") $(children_cpu "$tmp/times1") $d $(getconf CLK_TCK)" |
		awk '{ printf "%.6f %.3f\n", ($2 - $1) / 1e9, $4 - $3 + $5 / $6 }'
}

# median K: the median of column K of stdin.
median() { awk -v k="$1" '{ print $k }' | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# list K: column K of stdin as a JSON array.
list() { awk -v k="$1" '{ print $k }' | paste -sd, - | sed 's/^/[/; s/$/]/'; }

mkdir -p bench/out
json=bench/out/restore.json
rows=
for n in $SIZES; do
	case $n in '' | *[!0-9]* ) die "SIZES: $n is not a number" ;; esac
	[ "$n" -ge 32 ] && [ "$n" -le 131072 ] || die "SIZES: $n is outside 32-131072"
	f=$tmp/rules-$n
	"$tmp/restoregen" "$n" >"$f"
	: >"$tmp/ipt-$n"
	: >"$tmp/gofw-$n"
	r=1
	while [ $r -le "$RUNS" ]; do
		ipt_restore <"$empty" || die "iptables-legacy-restore could not empty the table"
		gofw_restore <"$empty" || die "gofw-restore could not empty the table"
		if [ $((r % 2)) = 1 ]; then
			timed ipt_restore "$f" >>"$tmp/ipt-$n"
			timed gofw_restore "$f" >>"$tmp/gofw-$n"
		else
			timed gofw_restore "$f" >>"$tmp/gofw-$n"
			timed ipt_restore "$f" >>"$tmp/ipt-$n"
		fi
		r=$((r + 1))
	done
	# Both hold the whole file, rule for rule.
	ip netns exec "$ns" iptables-legacy-save -t filter | grep -v '^#' >"$tmp/save-ipt"
	bin/gofw-save --socket "$sock" -t filter | grep -v '^#' >"$tmp/save-gofw"
	cmp -s "$tmp/save-ipt" "$f" || die "iptables-legacy-save differs from the $n-rule input"
	cmp -s "$tmp/save-gofw" "$f" || die "gofw-save differs from the $n-rule input"

	mi=$(median 1 <"$tmp/ipt-$n")
	mg=$(median 1 <"$tmp/gofw-$n")
	ci=$(median 2 <"$tmp/ipt-$n")
	cg=$(median 2 <"$tmp/gofw-$n")
	ratio=$(echo "$mg $mi" | awk '{ printf "%.2f", $1 / $2 }')
	cratio=$(echo "$cg $ci" | awk '{ printf "%.2f", $1 / $2 }')
	rows="$rows$n $mi $mg $ratio $ci $cg $cratio
"
	entry=$(printf '{"rules": %d, "wall_s": {"iptables_legacy_restore": %s, "gofw_restore": %s}, "cpu_s": {"iptables_legacy_restore": %s, "gofw_restore_and_gofwd": %s}, "median_wall_s": {"iptables": %s, "gofw": %s, "ratio_gofw_over_iptables": %s}, "median_cpu_s": {"iptables": %s, "gofw": %s, "ratio_gofw_over_iptables": %s}}' \
		"$n" "$(list 1 <"$tmp/ipt-$n")" "$(list 1 <"$tmp/gofw-$n")" "$(list 2 <"$tmp/ipt-$n")" "$(list 2 <"$tmp/gofw-$n")" \
		"$mi" "$mg" "$ratio" "$ci" "$cg" "$cratio")
	entries=${entries:+$entries,
    }$entry
done

fmt='%-8s  %14s  %12s  %8s  %14s  %12s  %8s\n'
printf "$fmt" "" "wall (s)" "" "" "CPU (s)" "" ""
printf "$fmt" rules iptables-legacy gofw gofw/ipt iptables-legacy gofw gofw/ipt
printf '%s' "$rows" | while read -r n mi mg ratio ci cg cratio; do
	printf "$fmt" "$n" "$mi" "$mg" "$ratio" "$ci" "$cg" "$cratio"
done
echo "medians of $RUNS alternating runs of iptables-legacy-restore and gofw-restore (CPU: with gofwd's);"
echo "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r), $(iptables-legacy-restore --version 2>&1 | head -1)"

cat >"$json" <<EOF
{
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "kernel": "$(uname -r)",
  "cpus": $(nproc),
  "loadavg": "$(cut -d' ' -f1-3 /proc/loadavg)",
  "iptables": "$(iptables-legacy-restore --version 2>&1 | head -1)",
  "go": "$(go env GOVERSION)",
  "commit": "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)",
  "runs": $RUNS,
  "results": [
    $entries
  ]
}
EOF
echo "wrote $json"
