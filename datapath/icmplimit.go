package datapath

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// icmpLimit holds back REJECT's ICMP answers as the kernel's icmp_send
// holds back the ICMP errors it sends (net/ipv4/icmp.c), so that gofw
// answers a burst of rejected packets, a port scan say, exactly as often
// as iptables would: at most 6 errors at once to a host and then one per
// icmp_ratelimit (inet_peer_xrlim_allow), and icmp_msgs_per_sec over all
// hosts (icmp_global_allow). TCP resets are not limited, as nf_send_reset
// sends them without icmp_send. The limits come from the sysctls of
// gofwd's network namespace, read again at most once a second, as the
// kernel reads them for each error.
//
// gofw keeps its own buckets: the errors the kernel sends itself from the
// same host (a closed UDP port, an unreachable route) draw on the kernel's,
// not on these.
type icmpLimit struct {
	mu sync.Mutex

	// The sysctls: icmp_ratelimit (as nanoseconds), icmp_ratemask,
	// icmp_msgs_per_sec, icmp_msgs_burst.
	ratelimit     int64
	ratemask      uint32
	perSec, burst int64
	readAt        int64 // when they were read; 0: never
	sysctl        func(name string) (int64, bool)

	credit int64 // icmp_global_credit
	stamp  int64 // icmp_global_stamp
	peers  map[netip.Addr]*icmpPeer
	rand   func() int64 // 0, 1 or 2: the credits a sent error consumes
}

// icmpPeer is a host's token bucket (the inet_peer's rate_tokens and
// rate_last), in nanoseconds.
type icmpPeer struct{ tokens, last int64 }

const (
	nrICMPTypes       = 18 // NR_ICMP_TYPES
	icmpDestUnreach   = 3
	icmpFragNeeded    = 4
	xrlimBurstFactor  = 6               // XRLIM_BURST_FACTOR
	peerNewAge        = 60 * 1e9        // a new inet_peer's rate_last lies 60*HZ back
	peerMinTTL        = 120 * 1e9       // inet_peer_minttl: idle peers swept after this
	peerThreshold     = 65536 + 128     // inet_peer_threshold: beyond it, sweep them all
	peerSweepAt       = 4096            // sweep idle peers once there are this many
	globalMinInterval = int64(1e9 / 50) // icmp_global_allow refills after HZ/50
)

func newICMPLimit() *icmpLimit {
	return &icmpLimit{
		// The kernel's defaults (icmp_sk_init), until the sysctls are read.
		ratelimit: int64(time.Second), ratemask: 0x1818, perSec: 1000, burst: 50,
		sysctl: readIPv4Sysctl,
		stamp:  -1 << 62, // long ago: the first error finds a full credit
		peers:  map[netip.Addr]*icmpPeer{},
		rand:   func() int64 { return rand.Int64N(3) },
	}
}

// readIPv4Sysctl reads an integer from /proc/sys/net/ipv4, in gofwd's
// network namespace.
func readIPv4Sysctl(name string) (int64, bool) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/" + name)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 0, 64)
	return n, err == nil
}

// allow reports whether an ICMP error of type typ and code to dst may be
// sent now, and takes its tokens if so. inLoopback says the rejected
// packet came in on the loopback interface (no global limit, as
// __icmp_send skips it), toLocal that dst is this host (no per-host limit:
// icmpv4_xrlim_allow does not limit errors routed through loopback).
func (l *icmpLimit) allow(dst netip.Addr, typ, code uint8, inLoopback, toLocal bool, now int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.readAt == 0 || now-l.readAt >= int64(time.Second) {
		l.read(now)
	}
	// icmpv4_mask_allow: unknown types, PMTU discovery and the types
	// outside icmp_ratemask are never limited.
	if typ > nrICMPTypes || typ == icmpDestUnreach && code == icmpFragNeeded || l.ratemask&(1<<typ) == 0 {
		return true
	}
	// An error about a packet from loopback skips the global check and so
	// (apply_ratelimit unset) every limit, and consumes nothing.
	if inLoopback {
		return true
	}
	if !l.globalAllow(now) {
		return false
	}
	if !toLocal && !l.peerAllow(dst, now) {
		return false
	}
	l.credit -= l.rand() // icmp_global_consume, for every error sent
	return true
}

// read takes the limits from the sysctls, keeping the ones it cannot read.
func (l *icmpLimit) read(now int64) {
	l.readAt = now
	if v, ok := l.sysctl("icmp_ratelimit"); ok && v >= 0 {
		l.ratelimit = v * int64(time.Millisecond)
	}
	if v, ok := l.sysctl("icmp_ratemask"); ok {
		l.ratemask = uint32(v)
	}
	if v, ok := l.sysctl("icmp_msgs_per_sec"); ok && v >= 0 {
		l.perSec = v
	}
	if v, ok := l.sysctl("icmp_msgs_burst"); ok && v >= 0 {
		l.burst = v
	}
}

// globalAllow is icmp_global_allow: a credit refilled at icmp_msgs_per_sec
// up to icmp_msgs_burst, at most every HZ/50.
func (l *icmpLimit) globalAllow(now int64) bool {
	if l.credit > 0 {
		return true
	}
	delta := min(now-l.stamp, int64(time.Second))
	if delta < globalMinInterval {
		return false
	}
	incr := l.perSec * delta / int64(time.Second)
	if incr == 0 {
		return false
	}
	l.stamp = now
	l.credit = min(l.credit+incr, l.burst)
	return true
}

// peerAllow is inet_peer_xrlim_allow on dst's bucket: icmp_ratelimit per
// token, at most XRLIM_BURST_FACTOR tokens, a new host starting with 60
// seconds' worth.
func (l *icmpLimit) peerAllow(dst netip.Addr, now int64) bool {
	pe := l.peers[dst]
	if pe == nil {
		l.sweep(now)
		pe = &icmpPeer{last: now - peerNewAge}
		l.peers[dst] = pe
	}
	if delta := now - pe.last; delta > 0 {
		pe.last = now
		pe.tokens = min(pe.tokens+delta, xrlimBurstFactor*l.ratelimit)
	}
	if pe.tokens >= l.ratelimit {
		pe.tokens -= l.ratelimit
		return true
	}
	return false
}

// sweep forgets idle hosts before a new one is added, as the kernel's
// inet_peer_gc does: those idle for inet_peer_minttl once there are many,
// every one beyond inet_peer_threshold. A forgotten host starts afresh.
func (l *icmpLimit) sweep(now int64) {
	if len(l.peers) < peerSweepAt {
		return
	}
	for a, pe := range l.peers {
		if now-pe.last >= peerMinTTL || len(l.peers) >= peerThreshold {
			delete(l.peers, a)
		}
	}
}
