package ruleset

import (
	"bytes"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/packet"
	"github.com/gofw/gofw/target"
)

// The host of the trace tests: eth0 on 198.18.0.0/24, eth1 on
// 198.18.1.0/24, and a "wan" default route (a /0 prefix).
var traceHost = TraceOptions{
	Local: []netip.Addr{netip.MustParseAddr("198.18.9.9")},
	Ifaces: []TraceIface{
		{"eth0", netip.MustParsePrefix("198.18.0.1/24")},
		{"eth1", netip.MustParsePrefix("198.18.1.1/24")},
		{"wan", netip.MustParsePrefix("198.19.255.1/0")},
	},
}

// traceRun runs the spec through a tracer for rules (a restore file, ""
// for none) and returns the tracer and the results.
func traceRun(t *testing.T, o TraceOptions, rules, spec string) (*Tracer, []TraceResult) {
	t.Helper()
	if rules != "" {
		var out strings.Builder
		rs, err := Restore(New(), strings.NewReader(rules), RestoreOptions{}, &out)
		if err != nil {
			t.Fatalf("restore: %v", err)
		}
		o.Rules = rs
	}
	tr, err := NewTracer(o)
	if err != nil {
		t.Fatalf("NewTracer: %v", err)
	}
	pkts, err := packet.ParseSpec(spec)
	if err != nil {
		t.Fatalf("spec: %v", err)
	}
	src := SpecSource(pkts)
	var res []TraceResult
	for {
		tp, err := src.Next()
		if err != nil {
			break
		}
		res = append(res, tr.Packet(tp))
	}
	return tr, res
}

func hooksText(r *TraceResult) string {
	var b []string
	for _, h := range r.Hooks {
		s := h.Hook.String()
		if h.In != "" {
			s += " in=" + h.In
		}
		if h.Out != "" {
			s += " out=" + h.Out
		}
		b = append(b, s)
	}
	return strings.Join(b, ", ")
}

// TestTracePath covers the hook path and interface decisions.
func TestTracePath(t *testing.T) {
	rows := []struct {
		name, spec, want string
	}{
		// To a local address: PREROUTING, INPUT; the input interface
		// is the one whose prefix holds the source.
		{"to local", "udp 198.18.0.2:1 > 198.18.0.1:53", "PREROUTING in=eth0, INPUT in=eth0"},
		{"to local on another iface", "udp 198.18.1.7:1 > 198.18.0.1:53", "PREROUTING in=eth1, INPUT in=eth1"},
		{"to a --local address", "udp 198.18.0.2:1 > 198.18.9.9:53", "PREROUTING in=eth0, INPUT in=eth0"},
		// The longest prefix wins; the /0 is the default route.
		{"to local from the default route", "udp 198.19.3.3:1 > 198.18.0.1:53", "PREROUTING in=wan, INPUT in=wan"},
		// From a local address: OUTPUT, POSTROUTING, out by the
		// destination's prefix.
		{"from local", "udp 198.18.0.1:53 > 198.18.1.2:1", "OUTPUT out=eth1, POSTROUTING out=eth1"},
		{"from a --local address", "udp 198.18.9.9:53 > 198.19.0.5:1", "OUTPUT out=wan, POSTROUTING out=wan"},
		// Neither: forwarded, the input interface kept to POSTROUTING
		// as ip_output passes it.
		{"forward", "udp 198.18.0.2:1 > 198.18.1.2:2", "PREROUTING in=eth0, FORWARD in=eth0 out=eth1, POSTROUTING in=eth0 out=eth1"},
		// Local to local, loopback included: out and back in on lo.
		{"local to local", "udp 198.18.0.1:1 > 198.18.1.1:2", "OUTPUT out=lo, POSTROUTING out=lo, PREROUTING in=lo, INPUT in=lo"},
		{"loopback", "tcp 127.0.0.1:1 > 127.0.0.1:2 S", "OUTPUT out=lo, POSTROUTING out=lo, PREROUTING in=lo, INPUT in=lo"},
		// The capture's interface (pcapng) beats the prefixes: input for
		// received packets, output for local ones.
		{"capture iface in", "udp 198.18.0.2:1 > 198.18.1.2:2 dev=eth7", "PREROUTING in=eth7, FORWARD in=eth7 out=eth1, POSTROUTING in=eth7 out=eth1"},
		{"capture iface out", "udp 198.18.0.1:1 > 198.18.1.2:2 dev=eth7", "OUTPUT out=eth7, POSTROUTING out=eth7"},
	}
	for _, r := range rows {
		_, res := traceRun(t, traceHost, "", r.spec)
		if got := hooksText(&res[0]); got != r.want {
			t.Errorf("%s: %s\n got %s\nwant %s", r.name, r.spec, got, r.want)
		}
	}
	// Without any prefix holding an address, the interface is unknown.
	_, res := traceRun(t, TraceOptions{Local: []netip.Addr{netip.MustParseAddr("198.18.0.1")}}, "", "udp 198.18.0.2:1 > 198.18.0.1:2")
	if got := hooksText(&res[0]); got != "PREROUTING, INPUT" {
		t.Errorf("no ifaces: got %s", got)
	}
}

// TestTraceRedecide checks that the path after PREROUTING follows the
// destination as DNAT left it.
func TestTraceRedecide(t *testing.T) {
	rules := `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d 198.18.0.1/32 -p udp -j DNAT --to-destination 198.18.1.2
-A PREROUTING -d 198.18.1.9/32 -p udp -j DNAT --to-destination 198.18.0.1:53
COMMIT
`
	rows := []struct{ spec, hooks, nat string }{
		// To a local address, DNATed away: forwarded.
		{"udp 198.18.0.2:1 > 198.18.0.1:53", "PREROUTING in=eth0, FORWARD in=eth0 out=eth1, POSTROUTING in=eth0 out=eth1", "198.18.0.2:1 > 198.18.1.2:53"},
		// Forwarded, DNATed to this host: delivered.
		{"udp 198.18.0.2:1 > 198.18.1.9:7", "PREROUTING in=eth0, INPUT in=eth0", "198.18.0.2:1 > 198.18.0.1:53"},
	}
	for _, r := range rows {
		_, res := traceRun(t, traceHost, rules, r.spec)
		got := &res[0]
		if h := hooksText(got); h != r.hooks || got.NATSrc+" > "+got.NATDst != r.nat {
			t.Errorf("%s:\n got %s, nat %s > %s\nwant %s, nat %s", r.spec, h, got.NATSrc, got.NATDst, r.hooks, r.nat)
		}
	}
}

// stepsText lists the steps as "table/CHAIN/N" or ".../policy".
func stepsText(r *TraceResult) string {
	var b []string
	for i := range r.Steps {
		if r.Steps[i].Note == "" {
			b = append(b, stepName(&r.Steps[i]))
		}
	}
	return strings.Join(b, " ")
}

const statefulRules = `*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:SSH - [0:0]
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
-A INPUT -m state --state INVALID -j DROP
-A INPUT -p tcp -m tcp --dport 22 -j SSH
-A INPUT -p udp -m udp --dport 53 -j ACCEPT
-A SSH -s 198.18.0.66/32 -j RETURN
-A SSH -j ACCEPT
COMMIT
`

// TestTraceVerdicts runs a small stateful ruleset: which rules matched,
// what decided, and the conntrack state, packet by packet.
func TestTraceVerdicts(t *testing.T) {
	spec := `tcp 198.18.0.2:40000 > 198.18.0.1:22 S seq=1000
tcp 198.18.0.1:22 > 198.18.0.2:40000 SA seq=5000 ack=1001
tcp 198.18.0.2:40000 > 198.18.0.1:22 A seq=1001 ack=5001
tcp 198.18.0.66:40001 > 198.18.0.1:22 S seq=1
tcp 198.18.0.2:40002 > 198.18.0.1:22 SF seq=1
udp 198.18.0.2:5353 > 198.18.0.1:53
icmp 198.18.0.1 > 198.18.0.2 port-unreachable quote=6
icmp 198.18.0.3 > 198.18.0.1 port-unreachable quote=[udp 198.18.0.1:9 > 198.18.0.3:9]
udp 198.18.0.2:1 > 198.18.0.1:2 snap=21
`
	rows := []struct {
		steps, verdict, by, state string
		reply                     bool
	}{
		// 1: a new SSH connection, accepted by the SSH chain.
		{"filter/INPUT/3 filter/SSH/2", "ACCEPT", "filter/SSH/2", "NEW", false},
		// 2: the SYN-ACK leaves through OUTPUT's policy.
		{"filter/OUTPUT/policy", "ACCEPT", "filter/OUTPUT/policy", "ESTABLISHED", true},
		// 3: the ACK is ESTABLISHED.
		{"filter/INPUT/1", "ACCEPT", "filter/INPUT/1", "ESTABLISHED", false},
		// 4: RETURN from SSH back to INPUT, which falls to its policy.
		{"filter/INPUT/3 filter/SSH/1 filter/INPUT/policy", "DROP", "filter/INPUT/policy", "NEW", false},
		// 5: SYN+FIN is an invalid flag combination.
		{"filter/INPUT/2", "DROP", "filter/INPUT/2", "INVALID", false},
		// 6, 7: a UDP query and an ICMP error about it, in the reply
		// direction (RELATED reply is the state RELATED).
		{"filter/INPUT/4", "ACCEPT", "filter/INPUT/4", "NEW", false},
		{"filter/OUTPUT/policy", "ACCEPT", "filter/OUTPUT/policy", "RELATED", true},
		// 8: an ICMP error quoting nothing known.
		{"filter/INPUT/2", "DROP", "filter/INPUT/2", "INVALID", false},
		// 9: a broken IP header never reaches a table.
		{"", "DROP", "engine", "INVALID", false},
	}
	_, res := traceRun(t, traceHost, statefulRules, spec)
	if len(res) != len(rows) {
		t.Fatalf("%d results, want %d", len(res), len(rows))
	}
	for i, r := range rows {
		g := &res[i]
		if s := stepsText(g); s != r.steps || g.Verdict.String() != r.verdict || g.By != r.by || g.CtState != r.state || g.CtReply != r.reply {
			t.Errorf("packet %d (%s):\n got %s => %s by %s, %s reply=%v\nwant %s => %s by %s, %s reply=%v", i+1, g.Summary,
				s, g.Verdict, g.By, g.CtState, g.CtReply, r.steps, r.verdict, r.by, r.state, r.reply)
		}
	}
	if n := res[8].Notes; len(n) != 1 || n[0] != "engine: dropped: bad total length" {
		t.Errorf("packet 9 notes %q", n)
	}
}

// TestTraceTableFull fills a two-entry table. Entries the kernel may evict
// early (unassured) go to make room; assured ones stay and the new packet
// is dropped. One shard keeps the eviction probe over the whole table, so
// the test does not depend on where the hash puts the entries; how many
// go does (early_drop empties the first probed bucket that has a victim).
func TestTraceTableFull(t *testing.T) {
	o := traceHost
	o.Conntrack = conntrack.Config{Max: 2, Shards: 1}
	tr, res := traceRun(t, o, "", `udp 198.18.0.2:1 > 198.18.0.1:53
udp 198.18.0.2:2 > 198.18.0.1:53
udp 198.18.0.2:3 > 198.18.0.1:53
`)
	g := res[2]
	es := tr.Conntrack()
	if g.Verdict != target.Accept || g.CtState != "NEW" || len(g.Notes) != 1 ||
		!strings.HasPrefix(g.Notes[0], "conntrack: table full, ") || !strings.HasSuffix(g.Notes[0], " dropped early to make room") {
		t.Errorf("unassured: packet 3 %s %s %q, want ACCEPT NEW after an early drop", g.Verdict, g.CtState, g.Notes)
	}
	if len(es) == 0 || len(es) > 2 || es[len(es)-1].Orig.SrcPort != 3 {
		t.Errorf("unassured: entries %v, want the new one last", es)
	}

	tr, res = traceRun(t, o, "", `tcp 198.18.0.2:1 > 198.18.0.1:22 S seq=1
tcp 198.18.0.1:22 > 198.18.0.2:1 SA seq=9 ack=2
tcp 198.18.0.2:1 > 198.18.0.1:22 A seq=2 ack=10
tcp 198.18.0.2:2 > 198.18.0.1:22 S seq=1
tcp 198.18.0.1:22 > 198.18.0.2:2 SA seq=9 ack=2
tcp 198.18.0.2:2 > 198.18.0.1:22 A seq=2 ack=10
udp 198.18.0.2:3 > 198.18.0.1:53
`)
	g = res[6]
	if g.Verdict != target.Drop || g.By != "conntrack" || g.CtState != "INVALID" ||
		!reflect.DeepEqual(g.Notes, []string{"conntrack: table full, dropping packet"}) {
		t.Errorf("assured: packet 7 %s by %q %s %q, want DROP by conntrack INVALID, table full", g.Verdict, g.By, g.CtState, g.Notes)
	}
	if es := tr.Conntrack(); len(es) != 2 || es[0].Status&conntrack.StatusAssured == 0 || es[1].Status&conntrack.StatusAssured == 0 {
		t.Errorf("assured: entries %v, want the two assured ones", es)
	}
}

// TestTraceConntrackList checks the final listing: capture order, the
// timeouts counted from the last packet, expired entries gone.
func TestTraceConntrackList(t *testing.T) {
	spec := `udp 198.18.0.2:9 > 198.18.0.1:53
+10s
udp 198.18.0.2:8 > 198.18.0.1:53
tcp 198.18.0.2:7 > 198.18.0.1:22 S seq=1
+25s
icmp 198.18.0.2 > 198.18.0.1 echo-request id=3
`
	tr, _ := traceRun(t, traceHost, "", spec)
	var got []string
	for _, e := range tr.Conntrack() {
		got = append(got, e.String())
	}
	want := []string{
		// The first UDP entry (30 s) expired 5 s before the last packet.
		"udp      17 5 src=198.18.0.2 dst=198.18.0.1 sport=8 dport=53 [UNREPLIED] src=198.18.0.1 dst=198.18.0.2 sport=53 dport=8 mark=0 use=1",
		"tcp      6 95 SYN_SENT src=198.18.0.2 dst=198.18.0.1 sport=7 dport=22 [UNREPLIED] src=198.18.0.1 dst=198.18.0.2 sport=22 dport=7 mark=0 use=1",
		"icmp     1 30 src=198.18.0.2 dst=198.18.0.1 type=8 code=0 id=3 [UNREPLIED] src=198.18.0.1 dst=198.18.0.2 type=0 code=0 id=3 mark=0 use=1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("conntrack -L:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTraceJSON checks the JSON object's shape: the required keys, the
// optional ones left out when empty, and a skipped packet.
func TestTraceJSON(t *testing.T) {
	spec := `tcp 198.18.0.2:40000 > 198.18.0.1:22 S seq=1000
udp [fd00::2]:1 > [fd00::1]:2
tcp 198.18.0.1:22 > 198.18.0.2:40000 SA seq=5000 ack=1001
`
	_, res := traceRun(t, traceHost, statefulRules, spec)
	want := []string{
		`{"n":1,"time":0,"packet":"tcp 198.18.0.2:40000 > 198.18.0.1:22 S seq=1000 win=65535 len=0",` +
			`"hooks":[{"hook":"PREROUTING","in":"eth0"},{"hook":"INPUT","in":"eth0"}],` +
			`"rules":["filter/INPUT/3","filter/SSH/2"],"verdict":"ACCEPT","by":"filter/SSH/2","ctstate":"NEW"}`,
		`{"n":2,"time":0,"packet":"udp [fd00::2]:1 > [fd00::1]:2 len=0","skipped":"IPv6: iptables sees only IPv4 (ip6tables rules are not traced)","rules":[]}`,
		`{"n":3,"time":0,"packet":"tcp 198.18.0.1:22 > 198.18.0.2:40000 SA seq=5000 ack=1001 win=65535 len=0",` +
			`"hooks":[{"hook":"OUTPUT","out":"eth0"},{"hook":"POSTROUTING","out":"eth0"}],` +
			`"rules":[],"policies":["filter/OUTPUT"],"verdict":"ACCEPT","by":"filter/OUTPUT/policy","ctstate":"ESTABLISHED","ctdir":"reply"}`,
	}
	for i := range res {
		b, err := res[i].MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want[i] {
			t.Errorf("packet %d:\n got %s\nwant %s", i+1, b, want[i])
		}
	}
}

// TestRunTrace checks the whole output of a text trace and where the
// summary line goes.
func TestRunTrace(t *testing.T) {
	pkts, err := packet.ParseSpec("tcp 198.18.0.2:40000 > 198.18.0.1:22 S seq=1000 mss=1460\n+1.5s\ntcp 198.18.0.66:1 > 198.18.0.1:22 S\n")
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rs, err := Restore(New(), strings.NewReader(statefulRules), RestoreOptions{}, &out)
	if err != nil {
		t.Fatal(err)
	}
	o := traceHost
	o.Rules = rs
	var stdout, stderr bytes.Buffer
	if err := RunTrace(o, SpecSource(pkts), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	want := `packet 1 +0.000000s: tcp 198.18.0.2:40000 > 198.18.0.1:22 S seq=1000 win=65535 mss=1460 len=0
  PREROUTING in=eth0
  INPUT in=eth0
    filter/INPUT/3: -A INPUT -p tcp -m tcp --dport 22 -j SSH
    filter/SSH/2: -A SSH -j ACCEPT
  verdict: ACCEPT by filter/SSH/2, ctstate: NEW

packet 2 +1.500000s: tcp 198.18.0.66:1 > 198.18.0.1:22 S seq=0 win=65535 len=0
  PREROUTING in=eth0
  INPUT in=eth0
    filter/INPUT/3: -A INPUT -p tcp -m tcp --dport 22 -j SSH
    filter/SSH/1: -A SSH -s 198.18.0.66/32 -j RETURN
    filter/INPUT/policy: -P INPUT DROP
  verdict: DROP by filter/INPUT/policy, ctstate: NEW

conntrack -L:
tcp      6 118 SYN_SENT src=198.18.0.2 dst=198.18.0.1 sport=40000 dport=22 [UNREPLIED] src=198.18.0.1 dst=198.18.0.2 sport=22 dport=40000 mark=0 use=1
`
	if stdout.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout.String(), want)
	}
	if s := stderr.String(); s != "conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.\n" {
		t.Errorf("stderr %q", s)
	}
}

func TestParseTraceIface(t *testing.T) {
	rows := []struct {
		in   string
		want TraceIface
		err  string
	}{
		{"eth0=198.18.0.1/24", TraceIface{"eth0", netip.MustParsePrefix("198.18.0.1/24")}, ""},
		{"lo=198.18.5.5", TraceIface{"lo", netip.MustParsePrefix("198.18.5.5/32")}, ""},
		{"eth0", TraceIface{}, "want NAME=ADDR/PREFIX"},
		{"=198.18.0.1/24", TraceIface{}, "want NAME=ADDR/PREFIX"},
		{"averyveryverylongname=198.18.0.1/24", TraceIface{}, "up to 15 characters"},
		{"eth0=198.18.0.1/33", TraceIface{}, "such as eth0=198.18.0.1/24"},
		{"eth0=fe80::1%eth0/64", TraceIface{}, "such as eth0=198.18.0.1/24"},
	}
	for _, r := range rows {
		got, err := ParseTraceIface(r.in)
		if r.err != "" {
			if err == nil || !strings.Contains(err.Error(), r.err) {
				t.Errorf("%q: error %v, want %q", r.in, err, r.err)
			}
			continue
		}
		if err != nil || got != r.want {
			t.Errorf("%q: got %v, %v; want %v", r.in, got, err, r.want)
		}
	}
}

// TestTraceLogQueue checks that LOG lines show with the packet that wrote
// them, and that a QUEUE verdict, with no listener offline, leaves no
// entry behind (the kernel drops the packet and its unconfirmed entry).
func TestTraceLogQueue(t *testing.T) {
	rules := `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p udp -j LOG --log-prefix "dns: "
-A INPUT -p udp -m udp --dport 53 -j ACCEPT
-A INPUT -p tcp -j QUEUE
COMMIT
`
	tr, res := traceRun(t, traceHost, rules, "udp 198.18.0.2:1 > 198.18.0.1:53\ntcp 198.18.0.2:1 > 198.18.0.1:22 S\n")
	if n := res[0].Notes; len(n) != 1 || !strings.HasPrefix(n[0], "log: dns: IN=eth0 OUT= MAC= SRC=198.18.0.2 DST=198.18.0.1 ") {
		t.Errorf("LOG notes %q", n)
	}
	if g := res[1]; g.Verdict != target.Queued || g.By != "filter/INPUT/3" || len(g.Notes) != 1 || !strings.HasPrefix(g.Notes[0], "queue 0: no listener") {
		t.Errorf("QUEUE: %s by %s, notes %q", g.Verdict, g.By, g.Notes)
	}
	if es := tr.Conntrack(); len(es) != 1 || es[0].Orig.Proto != conntrack.ProtoUDP {
		t.Errorf("entries %v, want the UDP one only", es)
	}
}
