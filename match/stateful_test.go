package match

import (
	"net/netip"
	"testing"
	"time"

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
