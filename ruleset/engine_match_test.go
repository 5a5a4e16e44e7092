package ruleset

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
	"github.com/gofw/gofw/target"
)

// End-to-end tests of the match hot paths through the engine: a ruleset is
// restored, compiled (binding the matches to the engine's environment) and
// run hook by hook over crafted packets, so that conntrack classifies them
// as the rules then see them.

// matchTestHost is the host the engine runs on: lo and eth0 198.18.0.1/24.
func matchTestHost() *match.Host {
	return match.NewHost([]match.Iface{
		{Name: "lo", Index: 1, Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}},
		{Name: "eth0", Index: 2, Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("198.18.0.1/24")}},
	})
}

// matchEngine is engineFor with the host's addresses in the
// environment (addrtype needs them).
func matchEngine(t testing.TB, text string) *Engine {
	t.Helper()
	var out strings.Builder
	rs, err := Restore(New(), strings.NewReader(text), RestoreOptions{}, &out)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	e := NewEngine(conntrack.NewTable(conntrack.Config{}), &match.Env{Host: matchTestHost()})
	if err := e.Load(rs); err != nil {
		t.Fatalf("load: %v", err)
	}
	return e
}

// tcpStep is one TCP segment of a conversation: who sends it, flags, sequence
// and acknowledgment numbers.
type tcpStep struct {
	src, dst netip.AddrPort
	flags    uint8
	seq, ack uint32
	payload  string
	inbound  bool // arrives on eth0 (PREROUTING, INPUT); else sent by the host (OUTPUT, POSTROUTING)
	at       time.Duration
	want     target.Verdict
	state    conntrack.CtInfo
	rules    string
}

// hostFirewallRules is a typical host firewall: loopback, established and
// related traffic, INVALID dropped, new SSH, web ports by multiport, ping;
// broadcasts dropped quietly before anything else. Replies leave only as
// replies.
const hostFirewallRules = `*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT DROP [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m addrtype --dst-type BROADCAST,MULTICAST -j DROP
-A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT
-A INPUT -m conntrack --ctstate INVALID -j DROP
-A INPUT -m conntrack --ctstate NEW -p tcp --dport 22 -j ACCEPT
-A INPUT -p tcp -m multiport --dports 80,443,8000:8100 -m conntrack --ctstate NEW -j ACCEPT
-A INPUT -p icmp -m icmp --icmp-type echo-request -m comment --comment "ping" -j ACCEPT
-A OUTPUT -o lo -j ACCEPT
-A OUTPUT -m conntrack --ctstate ESTABLISHED,RELATED --ctdir REPLY -j ACCEPT
-A OUTPUT -p tcp -m tcp --syn -m owner --uid-owner 0 -j ACCEPT
COMMIT
`

// runTCPStep builds, decodes and runs one segment through its hooks.
func runTCPStep(t *testing.T, e *Engine, s tcpStep) (*packet.Packet, target.Verdict, *Trace) {
	t.Helper()
	p := &packet.Packet{}
	p.ResetMeta()
	dg := packet.BuildTCP(s.src, s.dst, s.flags, s.seq, s.ack, 64240, []byte(s.payload))
	if r := packet.Decode(dg, p); r != packet.ReasonNone {
		t.Fatalf("decode: %v", r)
	}
	p.Now = int64(1000*time.Second + s.at)
	hooks := []packet.Hook{packet.Prerouting, packet.Input}
	if s.inbound {
		p.InIface = "eth0"
	} else {
		p.OutIface = "eth0"
		p.HasOwner = true // a local socket owned by root
		hooks = []packet.Hook{packet.Output, packet.Postrouting}
	}
	v, tr := runHooks(e, p, hooks...)
	return p, v, tr
}

// TestEngineStatefulHandshake runs a TCP handshake to port 22 through the
// stateful ruleset: the SYN is NEW and let in by the conntrack rule, the
// SYN-ACK leaves as a reply, the ACK and data are ESTABLISHED and let in
// by the state rule. Around it, other flows exercise the multiport and
// icmp rules and the INVALID and policy drops.
func TestEngineStatefulHandshake(t *testing.T) {
	e := matchEngine(t, hostFirewallRules)
	cli := netip.MustParseAddrPort("198.18.1.1:40000")
	srv := netip.MustParseAddrPort("198.18.0.1:22")
	const (
		ms            = time.Millisecond
		stateRule     = "filter/INPUT/3"
		sshRule       = "filter/INPUT/5"
		multiportRule = "filter/INPUT/6"
		invalidRule   = "filter/INPUT/4"
		replyRule     = "filter/OUTPUT/2"
		ownerRule     = "filter/OUTPUT/3"
		inPolicy      = "filter/INPUT/policy"
	)
	rows := []struct {
		name string
		tcpStep
	}{
		{"SYN", tcpStep{src: cli, dst: srv, flags: packet.TCPSyn, seq: 1000, inbound: true,
			want: target.Accept, state: conntrack.New, rules: sshRule}},
		{"SYN-ACK", tcpStep{src: srv, dst: cli, flags: packet.TCPSyn | packet.TCPAck, seq: 5000, ack: 1001, at: 1 * ms,
			want: target.Accept, state: conntrack.EstablishedReply, rules: replyRule}},
		{"ACK", tcpStep{src: cli, dst: srv, flags: packet.TCPAck, seq: 1001, ack: 5001, inbound: true, at: 2 * ms,
			want: target.Accept, state: conntrack.Established, rules: stateRule}},
		{"data", tcpStep{src: cli, dst: srv, flags: packet.TCPAck | packet.TCPPsh, seq: 1001, ack: 5001, payload: "SSH-2.0-x\r\n", inbound: true, at: 3 * ms,
			want: target.Accept, state: conntrack.Established, rules: stateRule}},
		{"data back", tcpStep{src: srv, dst: cli, flags: packet.TCPAck | packet.TCPPsh, seq: 5001, ack: 1012, payload: "SSH-2.0-y\r\n", at: 4 * ms,
			want: target.Accept, state: conntrack.EstablishedReply, rules: replyRule}},
		// A SYN to a port nobody opened falls to the policy.
		{"SYN to 23", tcpStep{src: cli, dst: netip.MustParseAddrPort("198.18.0.1:23"), flags: packet.TCPSyn, seq: 7000, inbound: true, at: 5 * ms,
			want: target.Drop, state: conntrack.New, rules: inPolicy}},
		// multiport: single ports and a range, on new flows only.
		{"SYN to 443", tcpStep{src: netip.MustParseAddrPort("198.18.1.1:40001"), dst: netip.MustParseAddrPort("198.18.0.1:443"), flags: packet.TCPSyn, seq: 1, inbound: true, at: 6 * ms,
			want: target.Accept, state: conntrack.New, rules: multiportRule}},
		{"SYN to 8050", tcpStep{src: netip.MustParseAddrPort("198.18.1.1:40002"), dst: netip.MustParseAddrPort("198.18.0.1:8050"), flags: packet.TCPSyn, seq: 1, inbound: true, at: 7 * ms,
			want: target.Accept, state: conntrack.New, rules: multiportRule}},
		{"SYN to 8200", tcpStep{src: netip.MustParseAddrPort("198.18.1.1:40003"), dst: netip.MustParseAddrPort("198.18.0.1:8200"), flags: packet.TCPSyn, seq: 1, inbound: true, at: 8 * ms,
			want: target.Drop, state: conntrack.New, rules: inPolicy}},
		// SYN+FIN is no TCP state: conntrack says INVALID, the rule drops it.
		{"SYN+FIN", tcpStep{src: netip.MustParseAddrPort("198.18.1.1:40004"), dst: srv, flags: packet.TCPSyn | packet.TCPFin, seq: 1, inbound: true, at: 9 * ms,
			want: target.Drop, state: conntrack.Invalid, rules: invalidRule}},
		// The host's own connection out: the owner rule lets its SYN go.
		{"own SYN out", tcpStep{src: netip.MustParseAddrPort("198.18.0.1:50000"), dst: netip.MustParseAddrPort("198.18.1.1:80"), flags: packet.TCPSyn, seq: 1, at: 10 * ms,
			want: target.Accept, state: conntrack.New, rules: ownerRule}},
		// A SYN-ACK for a flow never seen starting is not a reply:
		// conntrack finds it INVALID, and only replies may leave.
		{"stray SYN-ACK out", tcpStep{src: netip.MustParseAddrPort("198.18.0.1:22"), dst: netip.MustParseAddrPort("198.18.1.9:40000"), flags: packet.TCPSyn | packet.TCPAck, seq: 1, ack: 1, at: 11 * ms,
			want: target.Drop, state: conntrack.Invalid, rules: "filter/OUTPUT/policy"}},
	}
	for _, r := range rows {
		p, v, tr := runTCPStep(t, e, r.tcpStep)
		// The trace also lists the raw/mangle/nat policies on the way;
		// the rule that decided is the filter step.
		var filter []string
		for _, f := range strings.Fields(traceRules(tr)) {
			if strings.HasPrefix(f, "filter/") {
				filter = append(filter, f)
			}
		}
		got := strings.Join(filter, " ")
		if v != r.want || p.CtInfo != r.state || got != r.rules {
			t.Errorf("%s: got %v, ctinfo %v, rules [%s]; want %v, %v, [%s]", r.name, v, p.CtInfo, got, r.want, r.state, r.rules)
		}
	}
	// The handshake left one ASSURED entry for the SSH connection.
	c, _ := e.CT.Lookup(conntrack.MakeTuple(cli.Addr(), srv.Addr(), conntrack.ProtoTCP, cli.Port(), srv.Port()), 0, int64(1000*time.Second))
	if c == nil || c.TCPState() != conntrack.TCPEstablished || c.Status()&conntrack.StatusAssured == 0 {
		t.Fatalf("ssh entry: %v, want an ESTABLISHED, ASSURED entry", c)
	}
	// Established traffic through the whole pipeline, every match of the
	// ruleset on its path, allocates nothing.
	dg := packet.BuildTCP(cli, srv, packet.TCPAck, 1012, 5012, 64240, nil)
	var p packet.Packet
	allocs := testing.AllocsPerRun(100, func() {
		p.ResetMeta()
		packet.Decode(dg, &p)
		p.InIface, p.Now = "eth0", int64(1001*time.Second)
		if v := e.Hook(&p, packet.Prerouting, nil); v == target.Accept {
			if v = e.Hook(&p, packet.Input, nil); v != target.Accept {
				t.Fatalf("established ACK: %v at INPUT", v)
			}
		}
	})
	if allocs != 0 || p.CtInfo != conntrack.Established {
		t.Errorf("established ACK: %v allocations (ctinfo %v), want 0 (ESTABLISHED)", allocs, p.CtInfo)
	}
	// A broadcast is dropped by addrtype before the state rules.
	b := &packet.Packet{}
	b.ResetMeta()
	if r := packet.Decode(packet.BuildUDP(netip.MustParseAddrPort("198.18.0.7:68"), netip.MustParseAddrPort("198.18.0.255:67"), nil), b); r != packet.ReasonNone {
		t.Fatal(r)
	}
	b.InIface = "eth0"
	if v, tr := runHooks(e, b, inHooks...); v != target.Drop || !strings.Contains(traceRules(tr), "filter/INPUT/2") {
		t.Errorf("broadcast: got %v [%s], want DROP by filter/INPUT/2", v, traceRules(tr))
	}
}

// TestEngineRefusesUnbindable: a rule whose match cannot be evaluated
// honestly is refused when the ruleset is loaded, by name, and the
// running ruleset stays.
func TestEngineRefusesUnbindable(t *testing.T) {
	for _, r := range []struct{ rule, want string }{
		{"-A INPUT -m addrtype --dst-type BLACKHOLE -j DROP", "-m addrtype: --dst-type BLACKHOLE needs the routing table"},
		{"-A INPUT -m addrtype ! --src-type UNREACHABLE -j DROP", "-m addrtype: --src-type UNREACHABLE"},
		{"-A OUTPUT -m owner --gid-owner 10 --suppl-groups -j ACCEPT", "-m owner: --suppl-groups"},
	} {
		e := matchEngine(t, hostFirewallRules)
		old := e.Ruleset()
		var out strings.Builder
		rs, err := Restore(New(), strings.NewReader("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"+r.rule+"\nCOMMIT\n"), RestoreOptions{}, &out)
		if err != nil {
			t.Fatalf("%s: restore: %v", r.rule, err)
		}
		err = e.Load(rs)
		if err == nil || !strings.Contains(err.Error(), r.want) {
			t.Errorf("%s: load: %v, want an error with %q", r.rule, err, r.want)
		}
		if e.Ruleset() != old {
			t.Errorf("%s: a refused ruleset replaced the running one", r.rule)
		}
	}
	// Without the host's addresses addrtype cannot decide LOCAL.
	e := NewEngine(conntrack.NewTable(conntrack.Config{}), &match.Env{})
	var out strings.Builder
	rs, err := Restore(New(), strings.NewReader("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -m addrtype --dst-type LOCAL -j ACCEPT\nCOMMIT\n"), RestoreOptions{}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Load(rs); err == nil || !strings.Contains(err.Error(), "host's interfaces") {
		t.Errorf("addrtype without a host: load: %v, want a refusal", err)
	}
}
