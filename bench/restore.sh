#!/bin/sh
# bench/restore.sh: gofw-restore beside iptables-legacy-restore on the same
# generated rulesets (issue 2: "gofw no slower than iptables-legacy-restore").
# A benchmark, not a test: it prints the medians and their ratio and writes
# bench/out/restore.json; it asserts nothing about speed.
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

go build -o bin/ ./cmd/...
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

# timed CMD FILE: run CMD <FILE, fail loudly if it fails, print seconds.
timed() {
	t0=$(now)
	"$1" <"$2" >/dev/null || die "$1 failed on $2"
	t1=$(now)
	echo "$t0 $t1" | awk '{ printf "%.6f\n", ($2 - $1) / 1e9 }'
}

# median of the numbers on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# list: the numbers on stdin as a JSON array.
list() { paste -sd, - | sed 's/^/[/; s/$/]/'; }

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

	mi=$(median <"$tmp/ipt-$n")
	mg=$(median <"$tmp/gofw-$n")
	ratio=$(echo "$mg $mi" | awk '{ printf "%.2f", $1 / $2 }')
	rows="$rows$n $mi $mg $ratio
"
	entry=$(printf '{"rules": %d, "iptables_legacy_restore_s": %s, "gofw_restore_s": %s, "median_iptables_s": %s, "median_gofw_s": %s, "ratio_gofw_over_iptables": %s}' \
		"$n" "$(list <"$tmp/ipt-$n")" "$(list <"$tmp/gofw-$n")" "$mi" "$mg" "$ratio")
	entries=${entries:+$entries,
    }$entry
done

printf '%-8s  %28s  %16s  %14s\n' rules "iptables-legacy-restore (s)" "gofw-restore (s)" gofw/iptables
printf '%s' "$rows" | while read -r n mi mg ratio; do
	printf '%-8s  %28s  %16s  %14s\n' "$n" "$mi" "$mg" "$ratio"
done
echo "medians of $RUNS alternating runs; $(nproc) CPUs, kernel $(uname -r), $(iptables-legacy-restore --version 2>&1 | head -1)"

cat >"$json" <<EOF
{
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "kernel": "$(uname -r)",
  "cpus": $(nproc),
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
