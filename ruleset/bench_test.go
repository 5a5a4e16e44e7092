package ruleset

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
	"github.com/gofw/gofw/target"
)

// genRules returns an INPUT chain of n rules of the usual kind: address
// and port drops (none of which the benchmark's packets hit) before the
// rule that accepts ssh; stateful adds the ESTABLISHED,RELATED shortcut
// first, as most real rulesets have it.
func genRules(n int, stateful bool) string {
	var b strings.Builder
	b.WriteString("*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n")
	if stateful {
		b.WriteString("-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n")
		n--
	}
	for i := 0; i < n-1; i++ {
		x, y := (i/250)%250+1, i%250+1
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, "-A INPUT -s 198.19.%d.%d/32 -j DROP\n", x, y)
		case 1:
			fmt.Fprintf(&b, "-A INPUT -p tcp -m tcp --dport %d -j DROP\n", 1024+i%60000)
		case 2:
			fmt.Fprintf(&b, "-A INPUT -s 198.19.%d.0/24 -p udp -m udp --dport %d -j DROP\n", x, 1024+i%60000)
		case 3:
			fmt.Fprintf(&b, "-A INPUT -d 198.19.%d.%d/32 -p tcp -j REJECT --reject-with tcp-reset\n", x, y)
		}
	}
	b.WriteString("-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n")
	return b.String()
}

func benchEngine(b *testing.B, text string, linear bool) *Engine {
	b.Helper()
	var out strings.Builder
	rs, err := Restore(New(), strings.NewReader(text), RestoreOptions{}, &out)
	if err != nil {
		b.Fatal(err)
	}
	e := NewEngine(conntrack.NewTable(conntrack.Config{Max: -1}), &match.Env{})
	e.Linear = linear
	if err := e.Load(rs); err != nil {
		b.Fatal(err)
	}
	return e
}

// BenchmarkNewFlow: the first packet of a new connection (a SYN to port
// 22) through PREROUTING and INPUT, conntrack included, for rulesets of
// 10 to 100 000 rules. The aim (issue #3/#6): 100 000 rules cost at most
// 3x what 10 rules cost; Linear shows the kernel-like walk beside it.
func BenchmarkNewFlow(b *testing.B) {
	for _, n := range []int{10, 1000, 10000, 100000} {
		for _, linear := range []bool{false, true} {
			if linear && n > 10000 {
				continue // minutes per run; the trend is clear at 10 000
			}
			name := fmt.Sprintf("rules=%d", n)
			if linear {
				name += "/linear"
			}
			b.Run(name, func(b *testing.B) {
				e := benchEngine(b, genRules(n, true), linear)
				dst := netip.AddrPortFrom(netip.MustParseAddr("198.18.0.1"), 22)
				data := packet.BuildTCP(netip.AddrPortFrom(netip.MustParseAddr("198.18.7.7"), 1), dst, packet.TCPSyn, 1, 0, 65535, nil)
				buf := make([]byte, len(data))
				var p packet.Packet
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					copy(buf, data)
					p.ResetMeta()
					packet.Decode(buf, &p)
					// A new flow each time: another source address and
					// port, checksums kept right.
					p.SetSrc(netip.AddrFrom4([4]byte{198, 18, byte(i >> 16), byte(i >> 8)}))
					p.SetSrcPort(uint16(i) | 1024)
					p.Changed = false
					p.InIface = "eth0"
					p.Now = int64(i)
					if e.Hook(&p, packet.Prerouting, nil) != target.Accept || e.Hook(&p, packet.Input, nil) != target.Accept || p.CtInfo != conntrack.New {
						b.Fatalf("packet %d: not accepted as NEW (%v)", i, p.CtInfo)
					}
				}
			})
		}
	}
}

// established sets up one ESTABLISHED TCP flow through e and returns a
// function that runs one more packet of it through PREROUTING and INPUT.
func established(b *testing.B, e *Engine, src, dst netip.AddrPort) func(i int) target.Verdict {
	var p packet.Packet
	send := func(data []byte, now int64) target.Verdict {
		p.ResetMeta()
		packet.Decode(data, &p)
		p.InIface = "eth0"
		p.Now = now
		if v := e.Hook(&p, packet.Prerouting, nil); v != target.Accept {
			return v
		}
		return e.Hook(&p, packet.Input, nil)
	}
	send(packet.BuildTCP(src, dst, packet.TCPSyn, 100, 0, 65535, nil), 1)
	send(packet.BuildTCP(dst, src, packet.TCPSyn|packet.TCPAck, 500, 101, 65535, nil), 2)
	data := packet.BuildTCP(src, dst, packet.TCPAck, 101, 501, 65535, nil)
	buf := make([]byte, len(data))
	return func(i int) target.Verdict {
		copy(buf, data)
		return send(buf, int64(3+i))
	}
}

// BenchmarkEstablished: one packet of an established flow through a
// typical stateful ruleset (the shortcut rule first), which must not
// allocate.
func BenchmarkEstablished(b *testing.B) {
	for _, n := range []int{10, 10000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			e := benchEngine(b, genRules(n, true), false)
			next := established(b, e, netip.MustParseAddrPort("198.18.7.7:40000"), netip.MustParseAddrPort("198.18.0.1:22"))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if next(i) != target.Accept {
					b.Fatal("not accepted")
				}
			}
		})
	}
}

// TestEstablishedNoAlloc backs the hot-path claim of Hook: a packet of an
// established flow costs no allocation, NATed or not.
func TestEstablishedNoAlloc(t *testing.T) {
	b := &testing.B{}
	e := benchEngine(b, genRules(1000, true), false)
	next := established(b, e, netip.MustParseAddrPort("198.18.7.7:40000"), netip.MustParseAddrPort("198.18.0.1:22"))
	i := 0
	if n := testing.AllocsPerRun(200, func() { next(i); i++ }); n != 0 {
		t.Errorf("established packet: %v allocations, want 0", n)
	}
}

// natBenchEngine runs a router ruleset that DNATs port 8080 to a LAN host.
func natBenchEngine(b *testing.B) *Engine {
	e := benchEngine(b, "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"+
		"-A PREROUTING -d 198.19.0.1/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 198.18.0.10:80\nCOMMIT\n"+
		"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"+
		"-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A FORWARD -m conntrack --ctstate DNAT -j ACCEPT\n"+
		"-A FORWARD -p tcp -m tcp --dport 9000 -j ACCEPT\nCOMMIT\n", false)
	return e
}

// forwardFlow sets up one forwarded flow to dst (after the SYN and the
// SYN-ACK) and returns a function running one more client packet of it
// through PREROUTING, FORWARD and POSTROUTING, and checking where it went.
func forwardFlow(b testing.TB, e *Engine, src, dst, want netip.AddrPort) func(i int) bool {
	var p packet.Packet
	send := func(data []byte, now int64) bool {
		p.ResetMeta()
		packet.Decode(data, &p)
		p.InIface, p.OutIface, p.Now = "wan0", "lan0", now
		for _, h := range []packet.Hook{packet.Prerouting, packet.Forward, packet.Postrouting} {
			if e.Hook(&p, h, nil) != target.Accept {
				return false
			}
		}
		return true
	}
	send(packet.BuildTCP(src, dst, packet.TCPSyn, 100, 0, 65535, nil), 1)
	p.ResetMeta()
	packet.Decode(packet.BuildTCP(want, src, packet.TCPSyn|packet.TCPAck, 500, 101, 65535, nil), &p)
	p.InIface, p.OutIface, p.Now = "lan0", "wan0", 2
	for _, h := range []packet.Hook{packet.Prerouting, packet.Forward, packet.Postrouting} {
		e.Hook(&p, h, nil)
	}
	data := packet.BuildTCP(src, dst, packet.TCPAck, 101, 501, 65535, make([]byte, 1000))
	buf := make([]byte, len(data))
	return func(i int) bool {
		copy(buf, data)
		return send(buf, int64(3+i)) && p.Dst == want.Addr() && p.DstPort == want.Port()
	}
}

// BenchmarkEstablishedNAT: a packet of an established, DNATed flow
// (rewritten from the entry, checksums updated incrementally) beside one of
// an un-NATed flow through the same forwarding path; neither allocates.
func BenchmarkEstablishedNAT(b *testing.B) {
	for _, nat := range []bool{true, false} {
		name := "plain"
		dst, want := netip.MustParseAddrPort("198.18.0.10:9000"), netip.MustParseAddrPort("198.18.0.10:9000")
		if nat {
			name = "dnat"
			dst, want = netip.MustParseAddrPort("198.19.0.1:8080"), netip.MustParseAddrPort("198.18.0.10:80")
		}
		b.Run(name, func(b *testing.B) {
			next := forwardFlow(b, natBenchEngine(b), netip.MustParseAddrPort("198.19.5.5:40000"), dst, want)
			b.ReportAllocs()
			b.SetBytes(1040)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if !next(i) {
					b.Fatal("packet not forwarded where expected")
				}
			}
		})
	}
}

// TestEstablishedNATNoAlloc: the NAT rewrite of an established packet
// allocates nothing.
func TestEstablishedNATNoAlloc(t *testing.T) {
	b := &testing.B{}
	next := forwardFlow(t, natBenchEngine(b), netip.MustParseAddrPort("198.19.5.5:40000"),
		netip.MustParseAddrPort("198.19.0.1:8080"), netip.MustParseAddrPort("198.18.0.10:80"))
	i := 0
	if n := testing.AllocsPerRun(200, func() {
		if !next(i) {
			t.Fatal("packet not DNATed")
		}
		i++
	}); n != 0 {
		t.Errorf("NATed established packet: %v allocations, want 0", n)
	}
}
