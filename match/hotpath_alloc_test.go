package match

import (
	"testing"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/packet"
)

// allRules uses every match with a hot path in this package's header,
// state and metadata family, with most of its options, each in a chain
// where the kernel accepts it.
var allRules = []struct{ chain, rule string }{
	{"INPUT", "-p tcp --sport 1024: ! --dport 23 --syn --tcp-option 2"},
	{"INPUT", "-p tcp --tcp-option 8"},
	{"INPUT", "-p udp --sport 1:65535 ! --dport 54"},
	{"INPUT", "-p icmp --icmp-type 3/1:3"},
	{"INPUT", "-p icmp ! --icmp-type any"},
	{"INPUT", "-p tcp -m multiport --ports 22,80:90,443"},
	{"INPUT", "-p udp -m multiport ! --sports 1,2,3"},
	{"INPUT", "-m state --state ESTABLISHED,RELATED"},
	{"INPUT", "-m conntrack --ctstate NEW,SNAT --ctproto tcp --ctorigsrc 198.18.0.0/16 ! --ctrepldst 198.19.0.0/16 --ctorigdstport 22 --ctreplsrcport 1:65535 --ctstatus CONFIRMED,SEEN_REPLY --ctexpire 0:1000 --ctdir ORIGINAL"},
	{"INPUT", "-m comment --comment x"},
	{"INPUT", "-m mark ! --mark 0x1/0xf"},
	{"INPUT", "-m connmark --mark 0x0/0xff"},
	{"INPUT", "-m iprange --src-range 198.18.0.0-198.18.0.9 ! --dst-range 198.19.0.0-198.19.255.255"},
	{"INPUT", "-m length --length 20:1500"},
	{"INPUT", "-m addrtype ! --src-type LOCAL --dst-type LOCAL,BROADCAST,MULTICAST"},
	{"INPUT", "-m addrtype --dst-type LOCAL --limit-iface-in"},
	{"INPUT", "-m pkttype ! --pkt-type broadcast"},
	{"INPUT", "-m ttl --ttl-gt 1"},
	{"INPUT", "-m mac --mac-source 42:01:02:03:04:05"},
	{"INPUT", "-m tos --tos Minimize-Delay"},
	{"INPUT", "-m dscp --dscp-class AF41"},
	{"OUTPUT", "-m owner --uid-owner 1000 ! --gid-owner 0 --socket-exists"},
	{"OUTPUT", "-m owner ! --socket-exists"},
}

// allMatchers parses allRules and binds them to env.
func allMatchers(t testing.TB, env *Env) []Matcher {
	var ms []Matcher
	for _, r := range allRules {
		for _, m := range matchers(t, r.chain, r.rule) {
			if b, ok := m.(Binder); ok {
				if err := b.Bind(env); err != nil {
					t.Fatalf("%s: bind: %v", r.rule, err)
				}
			}
			ms = append(ms, m)
		}
	}
	return ms
}

// allocPackets are tcp, udp and icmp packets, with and without an entry,
// carrying every piece of metadata the matches read.
func allocPackets(t *testing.T) []*packet.Packet {
	tb := conntrack.NewTable(conntrack.Config{Shards: 4})
	meta := func(p *packet.Packet, seg *conntrack.Segment) *packet.Packet {
		p.InIface, p.Mark, p.Now = "eth0", 0x10, t0
		p.HasMAC, p.SrcMAC = true, [6]byte{0x42, 1, 2, 3, 4, 5}
		p.HasOwner, p.UID, p.GID = true, 1000, 100
		if seg != nil {
			p.Conn, p.CtInfo, _ = tb.In(seg, t0)
			if p.Conn == nil {
				t.Fatalf("no entry for %v", seg.Tuple)
			}
		}
		return p
	}
	tcpCt := &conntrack.Segment{Tuple: conntrack.MakeTuple(hpAddr(ctCli), hpAddr(ctSrv), conntrack.ProtoTCP, 40000, 22),
		TCPFlags: packet.TCPSyn, HdrLen: 20, Window: 1000, Len: 40}
	udpSeg := ctSeg(ctCli, 40000, ctSrv, 53)
	icmpSeg := &conntrack.Segment{Tuple: conntrack.MakeICMPTuple(hpAddr(ctCli), hpAddr(ctSrv), conntrack.ProtoICMP, 8, 0, 7), Len: 28}
	return []*packet.Packet{
		meta(decode(t, packet.BuildTCP(hpAP(ctCli, 40000), hpAP(ctSrv, 22), packet.TCPSyn, 1, 0, 1000, nil, packet.WithMSS(1460), packet.WithWScale(7))), tcpCt),
		meta(udpDg(t, 40000, 53), udpSeg),
		meta(icmpMsg(t, packet.ICMPEcho, 0), icmpSeg),
		meta(tcpSeg(t, 40000, 22, packet.TCPAck), nil),
		meta(udpDg(t, 40000, 53), nil),
		meta(icmpMsg(t, packet.ICMPDestUnreach, 3), nil),
	}
}

// TestMatchNoAllocs: the hot paths of every match here allocate nothing,
// on tcp, udp and icmp packets, tracked or not.
func TestMatchNoAllocs(t *testing.T) {
	ms := allMatchers(t, &Env{Host: testHost()})
	pkts := allocPackets(t)
	hits := 0
	allocs := testing.AllocsPerRun(100, func() {
		hits = 0
		for _, p := range pkts {
			for _, m := range ms {
				if m.Match(p) {
					hits++
				}
			}
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run, want 0", allocs)
	}
	// Guard against a run that tested nothing: a good share of the
	// matches hold for these packets.
	if hits < len(pkts)*len(ms)/4 {
		t.Errorf("only %d of %d evaluations matched", hits, len(pkts)*len(ms))
	}
}

// FuzzMatchers: no match panics or reads out of bounds, whatever the
// datagram holds (truncated, fragmented, malformed headers), tracked or
// not.
func FuzzMatchers(f *testing.F) {
	f.Add(packet.BuildTCP(hpAP(ctCli, 1), hpAP(ctSrv, 2), packet.TCPSyn, 1, 0, 1, nil, packet.WithMSS(1460)), uint8(0))
	f.Add(packet.BuildUDP(hpAP(ctCli, 1), hpAP(ctSrv, 2), []byte("x")), uint8(1))
	f.Add(packet.BuildICMP(hpAddr(ctCli), hpAddr(ctSrv), 8, 0, 1, 1, nil), uint8(2))
	f.Add(packet.BuildIP(hpAddr(ctCli), hpAddr(ctSrv), packet.ProtoTCP, []byte{0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 2, 0, 0, 0, 0, 0, 0, 2}), uint8(3))
	f.Add([]byte{0x45, 0, 0, 20}, uint8(4))
	ms := allMatchers(f, &Env{Host: testHost()})
	tb := conntrack.NewTable(conntrack.Config{Shards: 4})
	c, _, _ := tb.In(ctSeg(ctCli, 1, ctSrv, 2), t0)
	f.Fuzz(func(t *testing.T, dg []byte, meta uint8) {
		var p packet.Packet
		p.ResetMeta()
		packet.Decode(dg, &p)
		if meta&1 != 0 {
			p.Conn, p.CtInfo = c, conntrack.CtInfo(meta>>1%5)
		}
		if meta&0x40 != 0 {
			p.CtInfo = conntrack.Untracked
		}
		p.PktType = packet.PktType(meta >> 5)
		p.InIface = "eth0"
		for _, m := range ms {
			m.Match(&p)
		}
	})
}
