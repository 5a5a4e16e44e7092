package ruleset

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
	"github.com/gofw/gofw/target"
)

// The router of the NAT tests: lan0 faces the clients, wan0 the servers.
var natHost = []match.Iface{
	{Name: "lan0", Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("198.18.0.1/24")}},
	{Name: "wan0", Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("198.19.0.1/24"), netip.MustParsePrefix("198.19.0.2/24")}},
}

func natEngine(t testing.TB, rules string) *Engine {
	t.Helper()
	var out strings.Builder
	rs, err := Restore(New(), strings.NewReader(rules), RestoreOptions{}, &out)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	e := NewEngine(conntrack.NewTable(conntrack.Config{}), &match.Env{Host: match.NewHost(natHost)})
	if err := e.Load(rs); err != nil {
		t.Fatalf("load: %v", err)
	}
	return e
}

// dgram decodes b into a fresh packet with the given interfaces.
func dgram(t testing.TB, b []byte, in, out string) *packet.Packet {
	t.Helper()
	p := &packet.Packet{}
	p.ResetMeta()
	if r := packet.Decode(b, p); r != packet.ReasonNone {
		t.Fatalf("decode: %v", r)
	}
	p.InIface, p.OutIface = in, out
	return p
}

// forward runs p through the forwarding path and returns the verdict.
func forward(e *Engine, p *packet.Packet) target.Verdict {
	for _, h := range []packet.Hook{packet.Prerouting, packet.Forward, packet.Postrouting} {
		if v := e.Hook(p, h, nil); v != target.Accept {
			return v
		}
	}
	return target.Accept
}

func endpoints(p *packet.Packet) string {
	return fmt.Sprintf("%v:%d>%v:%d", p.Src, p.SrcPort, p.Dst, p.DstPort)
}

// checksumsOK asserts the rewritten packet's checksums are right.
func checksumsOK(t *testing.T, what string, p *packet.Packet) {
	t.Helper()
	q := &packet.Packet{}
	packet.Decode(p.Data, q)
	if !q.HeaderChecksumOK() || !q.ChecksumOK() {
		t.Errorf("%s: bad checksum after rewrite", what)
	}
}

const natRules = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i wan0 -d 198.19.0.1/32 -p tcp -j DNAT --to-destination 198.18.0.10:8080
-A PREROUTING -i lan0 -d 198.18.0.1/32 -p udp -j REDIRECT --to-ports 5353
-A POSTROUTING -s 198.18.0.0/24 -o wan0 -p udp -j SNAT --to-source 198.19.0.2
-A POSTROUTING -s 198.18.0.0/24 -o wan0 -j MASQUERADE
COMMIT
`

// TestNATPortForward: DNAT on the first packet, every later packet
// rewritten from the entry, the reply reverse-NATed without any rule.
func TestNATPortForward(t *testing.T) {
	e := natEngine(t, natRules)
	cli, srv := ap("198.19.5.5", 40000), ap("198.19.0.1", 80)
	syn := dgram(t, packet.BuildTCP(cli, srv, packet.TCPSyn, 100, 0, 65535, nil), "wan0", "lan0")
	if v := forward(e, syn); v != target.Accept {
		t.Fatalf("SYN: %v", v)
	}
	if got, want := endpoints(syn), "198.19.5.5:40000>198.18.0.10:8080"; got != want {
		t.Errorf("SYN after DNAT: %s, want %s", got, want)
	}
	checksumsOK(t, "SYN", syn)
	c := syn.Conn
	if got, want := c.Tuple(conntrack.Reply).String(), "src=198.18.0.10 dst=198.19.5.5 sport=8080 dport=40000"; got != want {
		t.Errorf("reply tuple %s, want %s", got, want)
	}
	if st := c.Status(); st&conntrack.StatusDstNAT == 0 || st&conntrack.StatusSrcNAT != 0 {
		t.Errorf("status %v: want DST_NAT only", st)
	}
	synack := dgram(t, packet.BuildTCP(ap("198.18.0.10", 8080), cli, packet.TCPSyn|packet.TCPAck, 500, 101, 65535, nil), "lan0", "wan0")
	if v := forward(e, synack); v != target.Accept || synack.CtInfo != conntrack.EstablishedReply {
		t.Fatalf("SYN-ACK: %v %v", v, synack.CtInfo)
	}
	if got, want := endpoints(synack), "198.19.0.1:80>198.19.5.5:40000"; got != want {
		t.Errorf("reply after reverse NAT: %s, want %s", got, want)
	}
	checksumsOK(t, "SYN-ACK", synack)
	ack := dgram(t, packet.BuildTCP(cli, srv, packet.TCPAck, 101, 501, 65535, []byte("GET /")), "wan0", "lan0")
	if v := forward(e, ack); v != target.Accept || ack.Conn != c {
		t.Fatalf("ACK: %v, same entry %v", v, ack.Conn == c)
	}
	if got, want := endpoints(ack), "198.19.5.5:40000>198.18.0.10:8080"; got != want {
		t.Errorf("later packet: %s, want %s", got, want)
	}
	checksumsOK(t, "ACK", ack)
}

// TestNATMasqueradeClash: two clients using the same source port behind
// one address: the first keeps its port, the second is moved into
// 1024-65535, and each reply finds its own client.
func TestNATMasqueradeClash(t *testing.T) {
	e := natEngine(t, natRules)
	srv := ap("198.19.0.99", 443)
	var mapped []netip.AddrPort
	for _, cl := range []string{"198.18.0.10", "198.18.0.11"} {
		p := dgram(t, packet.BuildTCP(ap(cl, 41000), srv, packet.TCPSyn, 1, 0, 65535, nil), "lan0", "wan0")
		if v := forward(e, p); v != target.Accept {
			t.Fatalf("%s: %v", cl, v)
		}
		mapped = append(mapped, netip.AddrPortFrom(p.Src, p.SrcPort))
		if p.Conn.MasqIface() != "wan0" {
			t.Errorf("%s: masquerade interface %q", cl, p.Conn.MasqIface())
		}
	}
	if mapped[0] != ap("198.19.0.1", 41000) {
		t.Errorf("first client mapped to %v, want its port kept on the primary address", mapped[0])
	}
	if mapped[1].Addr() != netip.MustParseAddr("198.19.0.1") || mapped[1].Port() == 41000 || mapped[1].Port() < 1024 {
		t.Errorf("second client mapped to %v, want another port in 1024-65535", mapped[1])
	}
	for i, cl := range []string{"198.18.0.10", "198.18.0.11"} {
		r := dgram(t, packet.BuildTCP(srv, mapped[i], packet.TCPSyn|packet.TCPAck, 9, 2, 65535, nil), "wan0", "lan0")
		if v := forward(e, r); v != target.Accept {
			t.Fatalf("reply %d: %v", i, v)
		}
		if got, want := endpoints(r), fmt.Sprintf("198.19.0.99:443>%s:41000", cl); got != want {
			t.Errorf("reply %d: %s, want %s", i, got, want)
		}
		checksumsOK(t, "reply", r)
	}
	if n := e.CT.KillMasq("wan0", netip.Addr{}, 0); n != 2 {
		t.Errorf("interface down killed %d entries, want 2", n)
	}
}

// TestNATICMPError: an ICMP error about a DNATed flow is translated inside
// and out, so the client sees an error about the address it used.
func TestNATICMPError(t *testing.T) {
	e := natEngine(t, natRules)
	cli, srv := ap("198.19.5.5", 40001), ap("198.19.0.1", 80)
	syn := dgram(t, packet.BuildTCP(cli, srv, packet.TCPSyn, 100, 0, 65535, nil), "wan0", "lan0")
	forward(e, syn)
	// The server answers the rewritten SYN with a port unreachable.
	icmp := dgram(t, packet.BuildICMPError(netip.MustParseAddr("198.18.0.10"), cli.Addr(), 3, 3, syn.Data), "lan0", "wan0")
	if v := forward(e, icmp); v != target.Accept || icmp.CtInfo != conntrack.RelatedReply {
		t.Fatalf("ICMP error: %v %v", v, icmp.CtInfo)
	}
	got := fmt.Sprintf("%v>%v inner %v:%d>%v:%d", icmp.Src, icmp.Dst, icmp.InnerSrc, icmp.InnerSrcPort, icmp.InnerDst, icmp.InnerDstPort)
	if want := "198.19.0.1>198.19.5.5 inner 198.19.5.5:40001>198.19.0.1:80"; got != want {
		t.Errorf("ICMP error after NAT: %s, want %s", got, want)
	}
	checksumsOK(t, "ICMP error", icmp)
}

// TestNATNullBinding: a connection whose first packet matched no nat rule
// keeps a null binding: a rule added later does not touch it, new
// connections get the new rule.
func TestNATNullBinding(t *testing.T) {
	e := natEngine(t, "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n")
	cli, srv := ap("198.19.5.5", 40002), ap("198.19.0.1", 80)
	syn := dgram(t, packet.BuildTCP(cli, srv, packet.TCPSyn, 100, 0, 65535, nil), "wan0", "lan0")
	forward(e, syn)
	if st := syn.Conn.Status(); st&conntrack.StatusDstNATDone == 0 || st&conntrack.StatusSrcNATDone == 0 {
		t.Fatalf("status %v: want both NAT_DONE bits (null bindings)", st)
	}
	rs, _, err := Run(e.Ruleset(), strings.Fields("-t nat -A PREROUTING -p tcp -j DNAT --to-destination 198.19.0.10"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	again := dgram(t, packet.BuildTCP(cli, srv, packet.TCPAck, 101, 1, 65535, nil), "wan0", "lan0")
	forward(e, again)
	if again.Dst != srv.Addr() {
		t.Errorf("established packet rewritten to %v after a rule change", again.Dst)
	}
	other := dgram(t, packet.BuildTCP(ap("198.19.5.5", 40003), srv, packet.TCPSyn, 100, 0, 65535, nil), "wan0", "lan0")
	forward(e, other)
	if other.Dst != netip.MustParseAddr("198.19.0.10") {
		t.Errorf("new connection went to %v, want the new DNAT", other.Dst)
	}
}

// TestNATReverseProperty: for random flows and NAT rules, un-NATing the
// reply of a NATed packet gives back the original endpoints, and both
// packets keep valid checksums.
func TestNATReverseProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 300; i++ {
		var rule string
		switch rng.IntN(4) {
		case 0:
			rule = fmt.Sprintf("-A PREROUTING -p %s -j DNAT --to-destination 198.19.%d.%d:%d", protoOf(i), rng.IntN(250), 1+rng.IntN(250), 1+rng.IntN(65535))
		case 1:
			rule = fmt.Sprintf("-A PREROUTING -p %s -j DNAT --to-destination 198.19.0.%d-198.19.0.%d", protoOf(i), 10, 20)
		case 2:
			rule = fmt.Sprintf("-A POSTROUTING -p %s -j SNAT --to-source 198.19.0.2:%d-%d --random", protoOf(i), 2000, 2000+rng.IntN(50))
		default:
			rule = "-A POSTROUTING -o wan0 -j MASQUERADE"
		}
		e := natEngine(t, "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"+rule+"\nCOMMIT\n")
		cli := ap(fmt.Sprintf("198.18.0.%d", 2+rng.IntN(250)), uint16(1+rng.IntN(65535)))
		srv := ap(fmt.Sprintf("198.18.%d.%d", 1+rng.IntN(250), 1+rng.IntN(250)), uint16(1+rng.IntN(65535)))
		var out, back []byte
		if protoOf(i) == "tcp" {
			out = packet.BuildTCP(cli, srv, packet.TCPSyn, rng.Uint32(), 0, 65535, nil)
		} else {
			out = packet.BuildUDP(cli, srv, []byte("q"))
		}
		p := dgram(t, out, "lan0", "wan0")
		if v := forward(e, p); v != target.Accept {
			t.Fatalf("case %d (%s): %v", i, rule, v)
		}
		checksumsOK(t, rule, p)
		seenSrc, seenDst := netip.AddrPortFrom(p.Src, p.SrcPort), netip.AddrPortFrom(p.Dst, p.DstPort)
		if protoOf(i) == "tcp" {
			back = packet.BuildTCP(seenDst, seenSrc, packet.TCPSyn|packet.TCPAck, 7, p.Seq+1, 65535, nil)
		} else {
			back = packet.BuildUDP(seenDst, seenSrc, []byte("a"))
		}
		r := dgram(t, back, "wan0", "lan0")
		if v := forward(e, r); v != target.Accept {
			t.Fatalf("case %d (%s): reply %v", i, rule, v)
		}
		checksumsOK(t, rule+" reply", r)
		if netip.AddrPortFrom(r.Src, r.SrcPort) != srv || netip.AddrPortFrom(r.Dst, r.DstPort) != cli {
			t.Fatalf("case %d (%s): %v>%v went out as %v>%v, reply came back as %s", i, rule, cli, srv, seenSrc, seenDst, endpoints(r))
		}
	}
}

func protoOf(i int) string {
	if i%2 == 0 {
		return "tcp"
	}
	return "udp"
}
