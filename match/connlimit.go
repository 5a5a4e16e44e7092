package match

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/packet"
)

// connlimitInfo is the connlimit match (libxt_connlimit.c, xt_connlimit.c
// with nf_conncount), revision 1: the number of tracked connections from
// (or to) an address group compared with a limit.
var connlimitInfo = &Info{
	Name: "connlimit",
	Opts: []Opt{
		{Name: "connlimit-upto", Arg: true, Inv: true},
		{Name: "connlimit-above", Arg: true, Inv: true},
		{Name: "connlimit-mask", Arg: true},
		{Name: "connlimit-saddr"},
		{Name: "connlimit-daddr"},
	},
	New: func() Match { return &Connlimit{Mask: 0xffffffff, seen: map[string]bool{}} },
}

var connlimitRules = []XtOptRule{
	{Name: "connlimit-upto", Excl: []string{"connlimit-above"}},
	{Name: "connlimit-above", Excl: []string{"connlimit-upto"}},
	{Name: "connlimit-saddr", Excl: []string{"connlimit-daddr"}},
	{Name: "connlimit-daddr", Excl: []string{"connlimit-saddr"}},
}

// Connlimit is one connlimit match: it matches when the count of
// connections in the packet's group is above Limit, or at most Limit when
// Upto (XT_CONNLIMIT_INVERT). Groups are source addresses (destination with
// Dest) under Mask, an IPv4 netmask in host byte order.
type Connlimit struct {
	Limit uint32
	Upto  bool
	Dest  bool
	Mask  uint32

	seen map[string]bool
	// count is the rule's connection count (xt_connlimit's info->data),
	// created by Bind.
	count atomic.Pointer[connCount]
}

// Parse implements Match.
func (c *Connlimit) Parse(a *Arg) error {
	c.seen[a.Name] = true
	switch a.Name {
	case "connlimit-upto", "connlimit-above":
		v, err := XtParseUint("connlimit", a.Name, a.Value, 0, 0xffffffff)
		if err != nil {
			return err
		}
		c.Limit = uint32(v)
		// "! --connlimit-upto N" is --connlimit-above N and vice versa.
		c.Upto = (a.Name == "connlimit-upto") != a.Inv
	case "connlimit-mask":
		n, err := XtPlen("connlimit", a.Name, a.Value)
		if err != nil {
			return err
		}
		// XTTYPE_PLENMASK turns the length into a mask; 33 and up (and
		// the 255 of a non-contiguous mask) leave all 32 bits set.
		c.Mask = 0xffffffff
		if n < 32 {
			c.Mask = ^uint32(0) << (32 - n) // 0 for n == 0
		}
	case "connlimit-saddr":
		c.Dest = false
	case "connlimit-daddr":
		c.Dest = true
	}
	return nil
}

// Final implements Match.
func (c *Connlimit) Final(*Rule) error {
	if !c.seen["connlimit-upto"] && !c.seen["connlimit-above"] {
		return grammar.Paramf("You must specify \"--connlimit-above\" or \"--connlimit-upto\".")
	}
	return XtFcheck("connlimit", connlimitRules, c.seen)
}

// maskBits is libxt_connlimit's count_bits4: the prefix length of a mask.
func (c *Connlimit) maskBits() int { return 32 - bits.Len32(^c.Mask) }

// Save implements Match; mask and address side are always written.
func (c *Connlimit) Save(b *strings.Builder) {
	if c.Upto {
		fmt.Fprintf(b, " --connlimit-upto %d", c.Limit)
	} else {
		fmt.Fprintf(b, " --connlimit-above %d", c.Limit)
	}
	fmt.Fprintf(b, " --connlimit-mask %d", c.maskBits())
	if c.Dest {
		b.WriteString(" --connlimit-daddr")
	} else {
		b.WriteString(" --connlimit-saddr")
	}
}

// Print implements Match: "#conn src/32 > 10".
func (c *Connlimit) Print(b *strings.Builder, numeric bool) {
	side, op := "src", ">"
	if c.Dest {
		side = "dst"
	}
	if c.Upto {
		op = "<="
	}
	fmt.Fprintf(b, " #conn %s/%d %s %d", side, c.maskBits(), op, c.Limit)
}

// The hot path mirrors nf_conncount.c as xt_connlimit uses it: per rule, a
// set of lists keyed by the masked address and the conntrack zone, each
// holding the original tuples of the connections counted for that key.
// Counting walks the key's list, drops the connections that are gone or
// closed (TIME_WAIT, CLOSE) as it meets them, and adds the packet's own
// connection if it is not listed yet.
//
// The lists belong to the rule instance, as the kernel's belong to the
// rule's matchinfo: they survive edits of other rules, and a rule parsed
// anew starts counting from nothing, as a new kernel rule does.
//
// Not mirrored: since late 2025 the kernel is reworking when a packet of an
// already confirmed connection adds it (skipping it for ESTABLISHED or
// ASSURED entries, with follow-up fixes still landing). gofw keeps the
// long-standing rule that any packet's connection is added when missing
// (a connection that predates the rule is counted on its next packet).

// connCountShards is how many independently locked parts the lists are
// spread over (the kernel's CONNCOUNT_SLOTS trees, each with its lock).
const (
	connCountShardBits = 6
	connCountShards    = 1 << connCountShardBits
)

// connCountSideGC is how many other lists a new key's insertion cleans up,
// as insert_tree collects the lists it passes on its way down the tree.
const connCountSideGC = 2

// connCountGCMax is CONNCOUNT_GC_MAX_NODES: a walk stops after freeing
// more than this many stale connections, leaving the rest for later.
const connCountGCMax = 8

// ErrNoConntrack refuses a connlimit rule in an engine without connection
// tracking: there is nothing to count.
var ErrNoConntrack = errors.New("connlimit needs connection tracking, and the engine runs without it")

// connKey is the kernel's key[]: the masked address and the zone id.
type connKey struct {
	addr uint32
	zone uint16
}

// connTuple is struct nf_conncount_tuple. conn is the entry the tuple came
// from, when the packet had one: the kernel keeps tuples only, and guesses
// whether a tuple it cannot find belongs to an entry not confirmed yet
// (its "two jiffies, or this CPU" rule); gofw knows.
type connTuple struct {
	tuple conntrack.Tuple
	zone  uint16
	conn  *conntrack.Conn
}

// connList is struct nf_conncount_list.
type connList struct {
	conns []connTuple
}

type connShard struct {
	mu sync.Mutex
	m  map[connKey]*connList
	_  [64]byte // keep neighbouring locks off one cache line
}

// connCount is struct nf_conncount_data.
type connCount struct {
	ct     *conntrack.Table
	shards [connCountShards]connShard
}

// Bind implements Binder as connlimit_mt_check does with nf_conncount_init:
// the rule gets its lists and the connection table to check them against.
// Binding again to the same table (a ruleset swap) keeps the lists.
func (c *Connlimit) Bind(env *Env) error {
	if env.CT == nil {
		return ErrNoConntrack
	}
	if cc := c.count.Load(); cc != nil && cc.ct == env.CT {
		return nil
	}
	cc := &connCount{ct: env.CT}
	for i := range cc.shards {
		cc.shards[i].m = map[connKey]*connList{}
	}
	c.count.Store(cc)
	return nil
}

// packetTuple is what nf_ct_get_tuplepr makes of a packet that carries no
// connection (INVALID, UNTRACKED): its own tuple, read from the headers.
// ok is false where the kernel cannot build one (no transport header).
func packetTuple(p *packet.Packet) (conntrack.Tuple, bool) {
	if p.Family == 0 || (p.Malformed && p.Reason.L3()) || p.L4Off < 0 || p.L4Off > len(p.Data) {
		return conntrack.Tuple{}, false
	}
	l4 := p.Data[p.L4Off:]
	switch p.Proto {
	case packet.ProtoTCP, packet.ProtoUDP, packet.ProtoUDPLite, packet.ProtoSCTP, packet.ProtoDCCP:
		if len(l4) < 4 {
			return conntrack.Tuple{}, false
		}
		return conntrack.MakeTuple(p.Src, p.Dst, p.Proto, binary.BigEndian.Uint16(l4), binary.BigEndian.Uint16(l4[2:])), true
	case packet.ProtoICMP, packet.ProtoICMPv6:
		if len(l4) < 8 {
			return conntrack.Tuple{}, false
		}
		return conntrack.MakeICMPTuple(p.Src, p.Dst, p.Proto, p.ICMPType, p.ICMPCode, p.ICMPID), true
	}
	return conntrack.MakeTuple(p.Src, p.Dst, p.Proto, 0, 0), true
}

// connClosed is nf_conncount's already_closed: a TCP connection in
// TIME_WAIT or CLOSE no longer counts.
func connClosed(c *conntrack.Conn) bool {
	if c.Proto() != packet.ProtoTCP {
		return false
	}
	s := c.TCPState()
	return s == conntrack.TCPTimeWait || s == conntrack.TCPClose
}

// pending reports whether a listed connection that the table did not
// hold is on its way in: created and not dropped. It may have been
// confirmed since the lookup (a worker confirms without the list's
// lock); an entry leaves the table only through DYING, so an entry
// without it is alive.
func (x *connTuple) pending() bool {
	return x.conn != nil && x.conn.Status()&conntrack.StatusDying == 0
}

// add is __nf_conncount_add: walk the list, freeing stale connections (at
// most connCountGCMax+1 of them per walk), stop early if the packet's
// connection is already listed, else append it. It returns the list's
// count.
func (l *connList) add(ct *conntrack.Table, x connTuple, now int64) int {
	collected := 0
	for i := 0; i < len(l.conns); {
		if collected > connCountGCMax {
			break
		}
		y := &l.conns[i]
		found, _ := ct.Lookup(y.tuple, y.zone, now)
		if found == nil {
			if y.pending() {
				if y.tuple == x.tuple && y.zone == x.zone {
					return len(l.conns) // already listed
				}
				i++
				continue
			}
			l.drop(i)
			collected++
			continue
		}
		if y.tuple == x.tuple && y.zone == x.zone {
			// "We should not see tuples twice unless someone hooks this
			// into a table without -p tcp --syn."
			return len(l.conns)
		}
		if connClosed(found) {
			l.drop(i)
			collected++
			continue
		}
		i++
	}
	l.conns = append(l.conns, x)
	return len(l.conns)
}

// gc is nf_conncount_gc_list: free stale connections of a list no packet
// is adding to. It reports whether the list is empty.
func (l *connList) gc(ct *conntrack.Table, now int64) bool {
	collected := 0
	for i := 0; i < len(l.conns) && collected <= connCountGCMax; {
		y := &l.conns[i]
		found, _ := ct.Lookup(y.tuple, y.zone, now)
		if (found == nil && !y.pending()) || (found != nil && connClosed(found)) {
			l.drop(i)
			collected++
			continue
		}
		i++
	}
	return len(l.conns) == 0
}

// drop removes the i-th connection, keeping the order (the kernel's list
// is walked oldest first).
func (l *connList) drop(i int) {
	copy(l.conns[i:], l.conns[i+1:])
	l.conns[len(l.conns)-1] = connTuple{}
	l.conns = l.conns[:len(l.conns)-1]
}

func (cc *connCount) shardOf(k connKey) *connShard {
	h := (uint64(k.addr)<<16 | uint64(k.zone)) * 0x9e3779b97f4a7c15
	return &cc.shards[h>>(64-connCountShardBits)]
}

// Match implements Matcher as xt_connlimit.c connlimit_mt does: count the
// connections of the packet's group, counting the packet's own (its
// entry's original tuple, or its own tuple when it has no entry), and
// compare with the limit. A packet with no entry whose tuple cannot be
// read is dropped (hotdrop).
//
// Called for every packet; a packet of a connection already counted does
// not allocate.
func (c *Connlimit) Match(p *packet.Packet) bool {
	cc := c.count.Load()
	if cc == nil || !p.Src.Is4() || !p.Dst.Is4() {
		return false
	}
	x := connTuple{zone: p.Zone, conn: p.Conn}
	if p.Conn != nil {
		x.tuple, x.zone = p.Conn.Tuple(conntrack.Original), p.Conn.Zone()
	} else {
		var ok bool
		if x.tuple, ok = packetTuple(p); !ok {
			p.Hotdrop = true
			return false
		}
	}
	a := p.Src.As4()
	if c.Dest {
		a = p.Dst.As4()
	}
	k := connKey{addr: binary.BigEndian.Uint32(a[:]) & c.Mask, zone: x.zone}
	s := cc.shardOf(k)
	s.mu.Lock()
	l := s.m[k]
	if l == nil {
		// As insert_tree, clean up a few other lists on the way in
		// (map order is random, so every list gets its turn) and free
		// those left empty.
		n := 0
		for ok, ol := range s.m {
			if n++; n > connCountSideGC {
				break
			}
			if ol.gc(cc.ct, p.Now) {
				delete(s.m, ok)
			}
		}
		l = &connList{}
		s.m[k] = l
	}
	n := l.add(cc.ct, x, p.Now)
	s.mu.Unlock()
	return (uint64(n) > uint64(c.Limit)) != c.Upto
}
