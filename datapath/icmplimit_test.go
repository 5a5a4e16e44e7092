package datapath

import (
	"net/netip"
	"testing"
	"time"

	"github.com/gofw/gofw/packet"
)

// TestICMPLimit drives icmpLimit with an injected clock and sysctls: each
// row sends bursts of errors and counts how many the kernel's icmp_send
// limits would let out (net/ipv4/icmp.c, inet_peer_xrlim_allow).
func TestICMPLimit(t *testing.T) {
	type burst struct {
		at      time.Duration // since the row's start
		to      string
		typ     uint8
		code    uint8
		lo      bool // the rejected packet came in on loopback
		local   bool // the error goes to this host
		n, want int  // sent, let out
	}
	unreach := func(at time.Duration, to string, n, want int) burst {
		return burst{at: at, to: to, typ: 3, code: 3, n: n, want: want}
	}
	for _, row := range []struct {
		name    string
		sysctls map[string]int64
		consume int64 // credits each sent error takes (the kernel draws 0-2)
		bursts  []burst
	}{
		{name: "6 at once to a host, then one a second", bursts: []burst{
			unreach(0, "198.18.1.2", 8, 6),
			unreach(500*time.Millisecond, "198.18.1.2", 1, 0),
			unreach(time.Second, "198.18.1.2", 2, 1),
			unreach(3*time.Second, "198.18.1.2", 3, 2),
		}},
		{name: "each host has its bucket", bursts: []burst{
			unreach(0, "198.18.1.2", 7, 6),
			unreach(0, "198.18.1.3", 7, 6),
		}},
		{name: "tokens stop at 6 after a long silence", bursts: []burst{
			unreach(0, "198.18.1.2", 6, 6),
			unreach(time.Hour, "198.18.1.2", 8, 6),
		}},
		{name: "icmp_ratelimit 10 s: a new host's 60 s of tokens are 6 errors", sysctls: map[string]int64{"icmp_ratelimit": 10000}, bursts: []burst{
			unreach(0, "198.18.1.2", 8, 6),
			unreach(9*time.Second, "198.18.1.2", 1, 0),
			unreach(10*time.Second, "198.18.1.2", 1, 1),
		}},
		{name: "icmp_ratelimit 60 s: a new host gets one", sysctls: map[string]int64{"icmp_ratelimit": 60000}, bursts: []burst{
			unreach(0, "198.18.1.2", 3, 1),
		}},
		{name: "icmp_ratelimit 0: no per-host limit", sysctls: map[string]int64{"icmp_ratelimit": 0}, bursts: []burst{
			unreach(0, "198.18.1.2", 40, 40),
		}},
		{name: "icmp_ratemask without destination unreachable", sysctls: map[string]int64{"icmp_ratemask": 0x1810}, bursts: []burst{
			unreach(0, "198.18.1.2", 20, 20),
			{to: "198.18.1.2", typ: 11, n: 8, want: 6}, // time exceeded still limited
		}},
		{name: "fragmentation needed is never limited", bursts: []burst{
			{to: "198.18.1.2", typ: 3, code: 4, n: 10, want: 10},
		}},
		{name: "from loopback: no limit, no credit used", consume: 2, bursts: []burst{
			{to: "127.0.0.1", typ: 3, code: 3, lo: true, local: true, n: 100, want: 100},
			unreach(0, "198.18.1.2", 8, 6),
		}},
		{name: "to this host: the global limit only", consume: 2, bursts: []burst{
			{to: "198.19.1.1", typ: 3, code: 3, local: true, n: 30, want: 25},
		}},
		{name: "global: icmp_msgs_burst credits, refilled at icmp_msgs_per_sec after 20 ms", consume: 2, bursts: []burst{
			unreach(0, "198.18.1.2", 6, 6),
			unreach(0, "198.18.1.3", 6, 6),
			unreach(0, "198.18.1.4", 6, 6),
			unreach(0, "198.18.1.5", 6, 6),
			unreach(0, "198.18.1.6", 6, 1), // 50 credits: 25 errors
			unreach(10*time.Millisecond, "198.18.1.7", 1, 0),
			unreach(20*time.Millisecond, "198.18.1.7", 6, 6), // 20 credits: room for 10 errors
		}},
		{name: "icmp_msgs_per_sec 0: nothing once the credit is spent", sysctls: map[string]int64{"icmp_msgs_per_sec": 0, "icmp_msgs_burst": 4}, consume: 1, bursts: []burst{
			unreach(0, "198.18.1.2", 2, 0), // the credit starts at 0 and never refills
		}},
	} {
		t.Run(row.name, func(t *testing.T) {
			l := newICMPLimit()
			l.sysctl = func(name string) (int64, bool) {
				v, ok := row.sysctls[name]
				return v, ok
			}
			l.rand = func() int64 { return row.consume }
			start := int64(1000 * time.Second)
			for i, b := range row.bursts {
				got := 0
				for range b.n {
					if l.allow(netip.MustParseAddr(b.to), b.typ, b.code, b.lo, b.local, start+int64(b.at)) {
						got++
					}
				}
				if got != b.want {
					t.Errorf("burst %d (%d of type %d code %d to %s at %v): %d let out, want %d", i, b.n, b.typ, b.code, b.to, b.at, got, b.want)
				}
			}
		})
	}
}

// TestICMPLimitRereadsSysctls: a changed sysctl takes effect within a
// second, as the kernel reads it for each error.
func TestICMPLimitRereadsSysctls(t *testing.T) {
	l := newICMPLimit()
	rate := int64(1000)
	l.sysctl = func(name string) (int64, bool) { return rate, name == "icmp_ratelimit" }
	l.rand = func() int64 { return 0 }
	dst := netip.MustParseAddr("198.18.1.2")
	now := int64(time.Hour)
	for range 6 {
		l.allow(dst, 3, 3, false, false, now)
	}
	if l.allow(dst, 3, 3, false, false, now) {
		t.Fatal("7th error at once let out")
	}
	rate = 0
	if l.allow(dst, 3, 3, false, false, now+int64(500*time.Millisecond)) {
		t.Error("icmp_ratelimit read again before a second passed")
	}
	if !l.allow(dst, 3, 3, false, false, now+int64(time.Second)) {
		t.Error("icmp_ratelimit=0 not in effect a second later")
	}
}

// TestRejecterAllow: TCP resets are never limited; ICMP errors are.
func TestRejecterAllow(t *testing.T) {
	r := &rejecter{limit: newICMPLimit()}
	r.limit.sysctl = func(string) (int64, bool) { return 0, false }
	rst := &packet.Packet{Proto: packet.ProtoTCP, Dst: netip.MustParseAddr("198.18.1.2")}
	icmp := &packet.Packet{Proto: packet.ProtoICMP, ICMPType: 3, ICMPCode: 10, Dst: netip.MustParseAddr("198.18.1.2")}
	rsts, errs := 0, 0
	for range 10 {
		if r.allow(rst, false, false, 0) {
			rsts++
		}
		if r.allow(icmp, false, false, 0) {
			errs++
		}
	}
	if rsts != 10 || errs != 6 {
		t.Errorf("10 resets and 10 host-prohibited at once: %d and %d let out, want 10 and 6", rsts, errs)
	}
}
