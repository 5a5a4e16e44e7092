package match

import (
	"net/netip"
	"testing"
	"time"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/packet"
)

// Helpers for the hot-path tests of the stateful matches (limit, hashlimit,
// recent, connlimit, string, statistic). Packets are built and decoded as
// the datapath would hand them over; time is p.Now, set by the test.

// stMatch loads a rule's match part ("-m limit --limit 1/sec") as adding it
// to the filter table's INPUT chain would, binds every instance to env and
// returns the first one as a Matcher.
func stMatch(t testing.TB, env *Env, rule string) Matcher {
	t.Helper()
	ms := stMatches(t, env, rule)
	return ms[0]
}

// stMatches is stMatch for a rule with several matches, in rule order.
func stMatches(t testing.TB, env *Env, rule string) []Matcher {
	t.Helper()
	ins, err := rlLoad(rlRow{rule: rule})
	if err != nil {
		t.Fatalf("%s: %v", rule, err)
	}
	var out []Matcher
	for _, in := range ins {
		if b, ok := in.m.(Binder); ok {
			if err := b.Bind(env); err != nil {
				t.Fatalf("%s: bind: %v", rule, err)
			}
		}
		m, ok := in.m.(Matcher)
		if !ok {
			t.Fatalf("%s: -m %s has no hot path", rule, in.info.Name)
		}
		out = append(out, m)
	}
	return out
}

func stAP(s string, port uint16) netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr(s), port)
}

// stDecode decodes dg into a fresh packet with reset metadata.
func stDecode(t testing.TB, dg []byte) *packet.Packet {
	t.Helper()
	p := &packet.Packet{}
	p.ResetMeta()
	if r := packet.Decode(dg, p); r != packet.ReasonNone {
		t.Fatalf("decode: %v", r)
	}
	return p
}

// stTCP is a TCP segment from src:sport to dst:dport.
func stTCP(t testing.TB, src string, sport uint16, dst string, dport uint16, flags uint8, payload []byte, opts ...packet.BuildOpt) *packet.Packet {
	t.Helper()
	return stDecode(t, packet.BuildTCP(stAP(src, sport), stAP(dst, dport), flags, 1000, 0, 65535, payload, opts...))
}

// stUDP is a UDP datagram from src:sport to dst:dport.
func stUDP(t testing.TB, src string, sport uint16, dst string, dport uint16, payload []byte, opts ...packet.BuildOpt) *packet.Packet {
	t.Helper()
	return stDecode(t, packet.BuildUDP(stAP(src, sport), stAP(dst, dport), payload, opts...))
}

// at sets the packet's clock to d after the engine's epoch.
func at(p *packet.Packet, d time.Duration) *packet.Packet {
	p.Now = int64(d)
	return p
}

// stEpoch is a clock value well away from zero, as a running daemon's
// monotonic clock is.
const stEpoch = 1000 * time.Hour

// TestStatefulOddPackets: whatever the packet holds (nothing decoded, a
// broken IP header, a fragment, an IPv6 datagram), the hot paths neither
// panic nor match what they cannot read.
func TestStatefulOddPackets(t *testing.T) {
	env := &Env{CT: conntrack.NewTable(conntrack.Config{})}
	rules := []string{
		"-m limit --limit 1/sec",
		"-m hashlimit --hashlimit-upto 1/sec --hashlimit-mode srcip,dstport --hashlimit-name odd",
		"-m recent --set --name odd",
		"-m recent ! --rcheck --rttl --seconds 5 --hitcount 2 --name odd",
		"-m connlimit --connlimit-above 0",
		"-m string --string x --algo bm --from 10",
		"-m string --hex-string |00| --algo kmp",
		"-m statistic --mode nth --every 2 --packet 1",
	}
	v6 := stDecode(t, packet.BuildUDP(stAP("fd00::1", 1), stAP("fd00::2", 2), []byte("x")))
	short := stUDP(t, "198.18.0.1", 1, "198.18.0.2", 2, nil)
	short.Data = short.Data[:10]
	frag := stDecode(t, packet.BuildIP(netip.MustParseAddr("198.18.0.1"), netip.MustParseAddr("198.18.0.2"), packet.ProtoUDP, []byte{1}, packet.WithFrag(3, false)))
	odd := map[string]*packet.Packet{
		"zero":     {},
		"family 4": {Family: 4, L4Off: -1, PayloadOff: -1},
		"broken":   {Family: 4, Malformed: true, Reason: packet.ReasonIHL, Data: []byte{0x45}},
		"ipv6":     v6,
		"short":    short,
		"fragment": frag,
	}
	for _, rule := range rules {
		for _, m := range stMatches(t, env, rule) {
			for name, p := range odd {
				func() {
					defer func() {
						if r := recover(); r != nil {
							t.Errorf("%s on %s packet: panic %v", rule, name, r)
						}
					}()
					q := *p
					m.Match(&q)
				}()
			}
		}
	}
}

// FuzzStatefulMatch: any datagram the decoder accepts, or half-decodes,
// goes through every stateful hot path without a panic.
func FuzzStatefulMatch(f *testing.F) {
	f.Add(packet.BuildUDP(stAP("198.18.0.1", 1), stAP("198.18.0.2", 2), []byte("GET x")), int64(0))
	f.Add(packet.BuildTCP(stAP("198.18.0.1", 1), stAP("198.18.0.2", 2), packet.TCPSyn, 1, 0, 100, nil), int64(1e9))
	f.Add([]byte{0x45, 0, 0, 20}, int64(-1))
	env := &Env{CT: conntrack.NewTable(conntrack.Config{})}
	var ms []Matcher
	for _, rule := range []string{
		"-m limit --limit 1/sec",
		"-m hashlimit --hashlimit-upto 1/sec --hashlimit-mode srcip,srcport,dstip,dstport --hashlimit-name fuzz",
		"-m hashlimit --hashlimit-upto 1kb/s --hashlimit-burst 4kb --hashlimit-mode dstport --hashlimit-name fuzzb",
		"-m recent --set --rdest --name fuzz",
		"-m recent --update --rttl --seconds 5 --hitcount 2 --reap --name fuzz",
		"-m connlimit --connlimit-upto 3 --connlimit-mask 16",
		"-m string --string GET --algo bm --icase",
		"-m string --string GET --algo kmp --from 20 --to 60",
		"-m statistic --mode random --probability 0.5",
	} {
		ms = append(ms, stMatches(f, env, rule)...)
	}
	f.Fuzz(func(t *testing.T, dg []byte, now int64) {
		p := &packet.Packet{}
		p.ResetMeta()
		packet.Decode(dg, p)
		p.Now = now
		for _, m := range ms {
			m.Match(p)
		}
	})
}
