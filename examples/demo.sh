#!/usr/bin/env bash
# The README's first command. It builds gofw, starts gofwd with the example
# ruleset on a private control socket, and uses gofw the way an iptables user
# would. gofwd runs with --divert none: this demo shows the control plane;
# gofwd takes no traffic here. Everything it starts and makes is removed
# on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@" || echo "(exit status $?)"; }

go build -o "$tmp/bin/" ./cmd/...
export PATH=$tmp/bin:$PATH GOFW_SOCKET=$tmp/gofw.sock
gofwd --divert none --rules examples/rules.v4 2>"$tmp/gofwd.log" &
pid=$!
for _ in $(seq 100); do [ -S "$GOFW_SOCKET" ] && break; sleep 0.05; done

step gofw -L -n -v
step gofw -A INPUT -p udp --dport 53 -m state --state NEW -j ACCEPT
step gofw -I SSH 1 -s 198.18.7.7 -j DROP
step gofw -S SSH
step gofw -t nat -L PREROUTING -n --line-numbers
step gofw -A INPUT -p tcp --dport 99999 -j ACCEPT
step gofw -X SSH
step gofw-save -t filter
printf '\n\033[1m$ gofw-restore <<< "*filter ... -A INPUT -j NOCHAIN ... COMMIT"\033[0m\n'
printf '*filter\n-A INPUT -j ACCEPT\n-A INPUT -j NOCHAIN\nCOMMIT\n' | gofw-restore --noflush || echo "(exit status $?: nothing changed)"
step gofw -S INPUT
echo
echo "gofwd's log:"
cat "$tmp/gofwd.log"
