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

// Small pools, so random rules and packets meet often.
var (
	idxHosts = []string{"198.18.0.1", "198.18.0.2", "198.18.1.7", "198.19.4.4", "198.19.200.9"}
	idxPorts = []uint16{22, 53, 80, 443, 8080, 1000}
)

// randRule returns one random rule spec for chain, from gen.
func randRule(r *rand.Rand, chain string, jump bool) string {
	var b []string
	inv := func() string {
		if r.IntN(6) == 0 {
			return "! "
		}
		return ""
	}
	host := func() string { return idxHosts[r.IntN(len(idxHosts))] }
	if r.IntN(3) == 0 {
		b = append(b, inv()+"-s "+[]string{host() + "/32", host() + "/24", host() + "/16", "198.18.0.0/15", host() + "/255.0.255.0"}[r.IntN(5)])
	}
	if r.IntN(4) == 0 {
		b = append(b, inv()+"-d "+[]string{host() + "/32", host() + "/24", "198.19.0.0/16"}[r.IntN(3)])
	}
	if r.IntN(5) == 0 {
		b = append(b, inv()+"-i "+[]string{"eth0", "eth+", "lo"}[r.IntN(3)])
	}
	switch r.IntN(5) {
	case 0, 1:
		proto := []string{"tcp", "udp"}[r.IntN(2)]
		b = append(b, "-p "+proto)
		p := idxPorts[r.IntN(len(idxPorts))]
		switch r.IntN(5) {
		case 0:
			b = append(b, inv()+fmt.Sprintf("--dport %d", p))
		case 1:
			b = append(b, fmt.Sprintf("--dport %d:%d", p, p+uint16(r.IntN(80))))
		case 2:
			b = append(b, fmt.Sprintf("-m multiport %s--dports %d,%d:%d", inv(), p, p+100, p+102))
		case 3:
			b = append(b, inv()+fmt.Sprintf("--sport %d", p))
		}
	case 2:
		b = append(b, inv()+"-p icmp")
	}
	switch r.IntN(8) {
	case 0:
		b = append(b, "-j ACCEPT")
	case 1, 2:
		b = append(b, "-j DROP")
	case 3:
		b = append(b, "-j RETURN")
	case 4:
		if jump {
			b = append(b, "-j USER")
		}
	case 5:
		b = append(b, fmt.Sprintf("-j MARK --set-mark %d", r.IntN(9)))
	case 6:
		if jump {
			b = append(b, "-g USER")
		}
	}
	return "-A " + chain + " " + strings.Join(b, " ")
}

func randRuleset(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString("*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:USER - [0:0]\n")
	for i, n := 0, indexMin+r.IntN(60); i < n; i++ {
		b.WriteString(randRule(r, "INPUT", true) + "\n")
	}
	for i, n := 0, r.IntN(40); i < n; i++ {
		b.WriteString(randRule(r, "USER", false) + "\n")
	}
	b.WriteString("COMMIT\n")
	return b.String()
}

func randPacket(t testing.TB, r *rand.Rand) []byte {
	src := netip.MustParseAddr(idxHosts[r.IntN(len(idxHosts))])
	dst := netip.MustParseAddr(idxHosts[r.IntN(len(idxHosts))])
	sp, dp := idxPorts[r.IntN(len(idxPorts))]+uint16(r.IntN(3)), idxPorts[r.IntN(len(idxPorts))]+uint16(r.IntN(104))
	switch r.IntN(4) {
	case 0:
		return packet.BuildUDP(netip.AddrPortFrom(src, sp), netip.AddrPortFrom(dst, dp), []byte("x"))
	case 1:
		return packet.BuildICMP(src, dst, 8, 0, 1, 1, nil)
	case 2:
		// A non-first fragment: no ports at all.
		return packet.BuildIP(src, dst, packet.ProtoTCP, []byte("12345678"), packet.WithFrag(8, false))
	}
	return packet.BuildTCP(netip.AddrPortFrom(src, sp), netip.AddrPortFrom(dst, dp), packet.TCPSyn, 1, 0, 1000, nil)
}

// compareIndex runs the same packets through an indexed and a linear
// engine loaded with text, and fails on any difference in verdict, mark,
// matched rules or counters.
func compareIndex(t *testing.T, r *rand.Rand, text string, packets int) {
	t.Helper()
	var out strings.Builder
	rs, err := Restore(New(), strings.NewReader(text), RestoreOptions{}, &out)
	if err != nil {
		t.Fatalf("restore: %v\n%s", err, text)
	}
	rs2, _ := Restore(New(), strings.NewReader(text), RestoreOptions{}, &out)
	fast := NewEngine(conntrack.NewTable(conntrack.Config{}), &match.Env{})
	slow := NewEngine(conntrack.NewTable(conntrack.Config{}), &match.Env{})
	slow.Linear = true
	if err := fast.Load(rs); err != nil {
		t.Fatal(err)
	}
	if err := slow.Load(rs2); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < packets; i++ {
		b := randPacket(t, r)
		in := []string{"eth0", "eth1", "lo"}[r.IntN(3)]
		var got, want target.Verdict
		var trg, trw Trace
		var pg, pw packet.Packet
		for k, pp := range []*packet.Packet{&pg, &pw} {
			pp.ResetMeta()
			packet.Decode(append([]byte(nil), b...), pp)
			pp.InIface = in
			if k == 0 {
				got = fast.Hook(pp, packet.Input, &trg)
			} else {
				want = slow.Hook(pp, packet.Input, &trw)
			}
		}
		if got != want || pg.Mark != pw.Mark || traceRules(&trg) != traceRules(&trw) {
			t.Fatalf("packet %d (%s on %s): indexed %v mark %d [%s], linear %v mark %d [%s]\nruleset:\n%s",
				i, endpoints(&pw), in, got, pg.Mark, traceRules(&trg), want, pw.Mark, traceRules(&trw), text)
		}
	}
	ft, _ := rs.Table("filter")
	st, _ := rs2.Table("filter")
	for _, name := range []string{"INPUT", "USER"} {
		fc, _ := ft.Chain(name)
		sc, _ := st.Chain(name)
		for i := range fc.Rules {
			if a, b := fc.Rules[i].Counters.Packets.Load(), sc.Rules[i].Counters.Packets.Load(); a != b {
				t.Fatalf("%s rule %d: indexed counted %d, linear %d\n%s", name, i+1, a, b, text)
			}
		}
	}
}

// TestIndexDifferential: the chain index never changes what happens to a
// packet (STYLE: the linear evaluator is the reference).
func TestIndexDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for i := 0; i < 300; i++ {
		compareIndex(t, r, randRuleset(r), 60)
	}
}

func FuzzIndex(f *testing.F) {
	f.Add(uint64(1), uint64(2))
	f.Add(uint64(99), uint64(5))
	f.Fuzz(func(t *testing.T, a, b uint64) {
		r := rand.New(rand.NewPCG(a, b))
		compareIndex(t, r, randRuleset(r), 30)
	})
}

// TestIndexFiles checks where typical rules are filed.
func TestIndexFiles(t *testing.T) {
	var b strings.Builder
	b.WriteString("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n")
	for i := 0; i < indexMin; i++ {
		fmt.Fprintf(&b, "-A INPUT -s 198.18.0.%d/32 -j DROP\n", i+1)
	}
	b.WriteString("-A INPUT -p tcp --dport 22 -j ACCEPT\n")
	b.WriteString("-A INPUT -p udp -m multiport --dports 53,67:68 -j ACCEPT\n")
	b.WriteString("-A INPUT -d 198.19.0.0/16 -j ACCEPT\n")
	b.WriteString("-A INPUT ! -s 198.18.0.0/15 -j DROP\n")
	b.WriteString("COMMIT\n")
	e := engineFor(t, b.String())
	x := e.prog.Load().hooks[packet.Input][1].chain.index
	if x == nil {
		t.Fatal("no index for a long chain")
	}
	got := fmt.Sprintf("wild=%v tcp22=%v udp53=%v udp67=%v udp68=%v src32=%d dst16=%d",
		x.wild, x.dport[0][22], x.dport[1][53], x.dport[1][67], x.dport[1][68], len(x.src[0].m), len(x.dst[0].m))
	want := "wild=[19] tcp22=[16] udp53=[17] udp67=[17] udp68=[17] src32=16 dst16=1"
	if got != want {
		t.Errorf("filed as %s\nwant      %s", got, want)
	}
}
