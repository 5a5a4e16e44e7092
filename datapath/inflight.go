package datapath

import (
	"encoding/binary"
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/packet"
)

// A packet comes back to gofwd once per diverted hook, and the kernel does
// not carry gofw's conntrack entry along (gofw's conntrack is not the
// skb's). The in-flight table carries it: when a packet leaves a hook that
// is not its last, gofwd records the entry and classification under the
// packet's fingerprint; at the next hook it takes them back. This keeps
// per-packet facts such as INVALID (which a later lookup by tuple could not
// recover) exactly as conntrack decided them at the first hook, and keeps
// the packet mark free for the user's -j MARK.
//
// The fingerprint hashes what the kernel does not change between hooks
// (addresses, protocol, IP id and length, ports, TCP sequence numbers and
// the first payload bytes) and leaves out what it does (TTL, the IP header
// checksum). Two packets with equal fingerprints in flight at once are two
// copies of one segment of one flow; either entry is right for both.

// flight is what travels with a packet between hooks.
type flight struct {
	conn    *conntrack.Conn
	info    conntrack.CtInfo
	noTrack bool
	zone    uint16
	// forward: the packet was routed onward at PREROUTING; FORWARD runs
	// at its POSTROUTING visit, with in as its input interface (the kernel
	// names no input device at POSTROUTING).
	forward bool
	in      string
	// merged: POSTROUTING already ran in the OUTPUT visit; loop: the
	// packet then comes back in through the loopback device.
	merged, loop bool
	// answer: a REJECT answer gofw sent, counted in inflight.answers.
	answer bool
	// gen is the compiled ruleset the earlier visit ran under
	// (packet.Packet.Gen).
	gen uint32
}

// inflight is a two-generation map: entries older than two rotations (the
// packet was dropped or stolen by the kernel between hooks) are dropped
// whole, and their unconfirmed entries discarded, as the kernel frees an
// unconfirmed conntrack with its skb.
type inflight struct {
	mu        sync.Mutex
	cur, prev map[uint64]flight
	seed      maphash.Seed
	// answers counts REJECT answers recorded and not yet taken, so the
	// OUTPUT hook looks for one only while there may be one.
	answers atomic.Int64
}

func newInflight() *inflight {
	return &inflight{cur: map[uint64]flight{}, prev: map[uint64]flight{}, seed: maphash.MakeSeed()}
}

// fingerprint hashes the parts of p that stay the same from hook to hook.
// Called for every packet; must not allocate.
func (f *inflight) fingerprint(p *packet.Packet) uint64 { return f.hash(p, true) }

// answerFingerprint leaves out the source address and IP id: gofw sends a
// REJECT answer with both zero when the kernel is to choose them (a
// forwarded packet's answer takes its source from the route), so it can
// only be recognised by the rest.
func (f *inflight) answerFingerprint(p *packet.Packet) uint64 { return f.hash(p, false) }

func (f *inflight) hash(p *packet.Packet, src bool) uint64 {
	var h maphash.Hash
	h.SetSeed(f.seed)
	var b [48]byte
	d := p.Dst.As16()
	if src {
		s := p.Src.As16()
		copy(b[0:16], s[:])
		binary.BigEndian.PutUint16(b[33:], p.IPID)
	} else {
		b[0] = 1 // never equal to a full fingerprint's input
	}
	copy(b[16:32], d[:])
	b[32] = p.Proto
	binary.BigEndian.PutUint16(b[35:], uint16(p.TotalLen))
	binary.BigEndian.PutUint16(b[37:], p.SrcPort)
	binary.BigEndian.PutUint16(b[39:], p.DstPort)
	binary.BigEndian.PutUint32(b[41:], p.Seq)
	binary.BigEndian.PutUint16(b[45:], p.ICMPID)
	h.Write(b[:47])
	if pl := p.Payload(); len(pl) > 0 {
		h.Write(pl[:min(len(pl), 16)])
	}
	return h.Sum64()
}

// put records what p carries on to its next hook.
func (f *inflight) put(key uint64, fl flight) {
	f.mu.Lock()
	f.cur[key] = fl
	f.mu.Unlock()
}

// take returns and forgets what the packet carried from its previous hook.
func (f *inflight) take(key uint64) (flight, bool) {
	f.mu.Lock()
	fl, ok := f.cur[key]
	if ok {
		delete(f.cur, key)
	} else if fl, ok = f.prev[key]; ok {
		delete(f.prev, key)
	}
	f.mu.Unlock()
	return fl, ok
}

// rotate ages the table by one generation and returns the entries that
// expired, for the caller to discard their unconfirmed conntrack entries.
func (f *inflight) rotate() map[uint64]flight {
	f.mu.Lock()
	old := f.prev
	f.prev, f.cur = f.cur, make(map[uint64]flight, len(f.cur))
	f.mu.Unlock()
	return old
}

// len returns how many packets are in flight.
func (f *inflight) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.cur) + len(f.prev)
}
