#!/usr/bin/env bash
# The README's first command: gofw firewalling real traffic, end to end, in
# three throwaway network namespaces:
#
#   lan (198.18.1.2) --veth-lan-- router (gofwd) --veth-wan-- wan (198.19.1.2)
#
# gofwd runs in the router with examples/rules.v4 (stateful INPUT, FORWARD
# with MASQUERADE, a DNAT port-forward). The script sends traffic that is
# accepted, dropped, rejected and NATed, shows the counters and the
# connection table, and removes everything it made. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (it creates network namespaces)"; exit 1; }
tmp=$(mktemp -d)
lan=gofw-demo-lan-$$ router=gofw-demo-router-$$ wan=gofw-demo-wan-$$
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for n in $lan $router $wan; do ip netns del "$n" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
say() { printf '\n\033[1m# %s\033[0m\n' "$*"; }
step() { printf '\033[1m%s$ %s\033[0m\n' "$1" "${*:3}"; ip netns exec "$2" "${@:3}" || echo "(exit status $?)"; }

# urfave_cli_no_docs leaves out urfave/cli's man-page generator, whose
# markdown library costs milliseconds at every start of every program.
go build -tags urfave_cli_no_docs -o "$tmp/bin/" ./cmd/... ./examples/nettool
export PATH=$tmp/bin:$PATH GOFW_SOCKET=$tmp/gofw.sock
backend=${GOFW_DIVERT:-auto}

ip netns add $lan; ip netns add $router; ip netns add $wan
ip link add veth-lan netns $router type veth peer name eth0 netns $lan
ip link add veth-wan netns $router type veth peer name eth0 netns $wan
ip -n $router addr add 198.18.1.1/24 dev veth-lan
ip -n $router addr add 198.19.1.1/24 dev veth-wan
ip -n $lan addr add 198.18.1.2/24 dev eth0
ip -n $wan addr add 198.19.1.2/24 dev eth0
for n in $lan $router $wan; do ip -n $n link set lo up; done
ip -n $router link set veth-lan up; ip -n $router link set veth-wan up
ip -n $lan link set eth0 up; ip -n $wan link set eth0 up
ip -n $lan route add default via 198.18.1.1
ip netns exec $router sysctl -qw net.ipv4.ip_forward=1
# The wan host has no route back to the LAN: only MASQUERADE lets the LAN out.

ip netns exec $lan nettool serve tcp 198.18.1.2:80 120 & pids+=($!)
ip netns exec $wan nettool serve tcp 198.19.1.2:80 120 & pids+=($!)
ip netns exec $router nettool serve tcp 0.0.0.0:80 120 & pids+=($!)
ip netns exec $router gofwd --rules examples/rules.v4 --divert "$backend" 2>"$tmp/gofwd.log" & pids+=($!)
for _ in $(seq 100); do grep -q diverting "$tmp/gofwd.log" 2>/dev/null && break; sleep 0.05; done
grep -q diverting "$tmp/gofwd.log" || { cat "$tmp/gofwd.log"; exit 1; }
cat "$tmp/gofwd.log"

say "LAN to the internet: FORWARD accepts, MASQUERADE rewrites the source (the server sees 198.19.1.1)"
step lan $lan nettool dial tcp 198.19.1.2:80
say "internet to the router's port 8080: DNAT forwards it to the LAN host's port 80"
step wan $wan nettool dial tcp 198.19.1.1:8080
say "LAN to the router's web port: INPUT accepts (multiport 80,443)"
step lan $lan nettool dial tcp 198.18.1.1:80
say "internet to the router's ssh port: the SSH chain logs and drops it (silence, then a timeout)"
step wan $wan nettool dial tcp 198.19.1.1:22 1
say "internet to the router's port 23: REJECT --reject-with tcp-reset (refused at once)"
step wan $wan nettool dial tcp 198.19.1.1:23
say "LAN to the router's UDP port 53: REJECT sends an ICMP port unreachable"
step lan $lan nettool dial udp 198.18.1.1:53
say "the counters, as iptables -L -n -v prints them"
step router $router gofw -L -n -v
step router $router gofw -t nat -L -n -v
say "gofw's own connection table, as conntrack -L prints it (note the NATed reply tuples)"
step router $router gofw conntrack -L
say "gofwd's log (LOG lines, in the kernel's format)"
cat "$tmp/gofwd.log"
