package conntrack

import (
	"math/bits"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Table is the connection table of one gofw daemon (the kernel's per-netns
// conntrack state): the confirmed hash, the unconfirmed and dying lists,
// the expectations, the counters and the event subscribers. It is safe for
// concurrent use by any number of packet workers and control-plane calls.
type Table struct {
	cfg         Config
	seed        uint64
	shardShift  uint
	shards      []shard
	tcpTimeouts [tcpTOSize]time.Duration

	count atomic.Int64 // nf_conntrack_count: unconfirmed + confirmed, not dying
	// offloaded counts the entries handed to the kernel (offload.go).
	offloaded atomic.Int64
	stats     counters
	lastLog   atomic.Int64
	// gcEarlyDrop arms the GC's eviction mode after a "table full" drop,
	// as conntrack_gc_work.early_drop.
	gcEarlyDrop atomic.Bool

	unconf [16]struct {
		mu sync.Mutex
		m  map[*Conn]struct{}
	}

	dying   dyingList
	expects expectTable
	nat     natState
	subs    subscribers
	gc      gcState
}

// NewTable returns an empty table configured by cfg (the zero Config is the
// kernel's default configuration).
func NewTable(cfg Config) *Table {
	cfg = cfg.withDefaults()
	t := &Table{cfg: cfg, seed: rand.Uint64()}
	t.shards = make([]shard, cfg.Shards)
	t.shardShift = uint(64 - bits.TrailingZeros(uint(cfg.Shards)))
	for i := range t.unconf {
		t.unconf[i].m = make(map[*Conn]struct{})
	}
	to := &cfg.Timeouts
	t.tcpTimeouts = [tcpTOSize]time.Duration{
		TCPSynSent:     to.TCPSynSent,
		TCPSynRecv:     to.TCPSynRecv,
		TCPEstablished: to.TCPEstablished,
		TCPFinWait:     to.TCPFinWait,
		TCPCloseWait:   to.TCPCloseWait,
		TCPLastAck:     to.TCPLastAck,
		TCPTimeWait:    to.TCPTimeWait,
		TCPClose:       to.TCPClose,
		TCPSynSent2:    120 * time.Second, // fixed in the kernel: no sysctl
		tRetrans:       to.TCPMaxRetrans,
		tUnack:         to.TCPUnack,
	}
	t.expects.init(t)
	return t
}

// Config returns the table's configuration with defaults filled in.
func (t *Table) Config() Config { return t.cfg }

func (t *Table) shardOf(h uint64) *shard { return &t.shards[h>>t.shardShift&uint64(len(t.shards)-1)] }

// lockPair locks the shards of two hashes in index order (once if they are
// the same), as nf_conntrack_double_lock, and returns them.
func (t *Table) lockPair(h0, h1 uint64) (a, b *shard) {
	i := h0 >> t.shardShift & uint64(len(t.shards)-1)
	j := h1 >> t.shardShift & uint64(len(t.shards)-1)
	a, b = &t.shards[i], &t.shards[j]
	switch {
	case i == j:
		a.mu.Lock()
	case i < j:
		a.mu.Lock()
		b.mu.Lock()
	default:
		b.mu.Lock()
		a.mu.Lock()
	}
	return a, b
}

func unlockPair(a, b *shard) {
	a.mu.Unlock()
	if a != b {
		b.mu.Unlock()
	}
}

// Lookup returns the confirmed entry one of whose tuples is tu in zone,
// and which direction matched (__nf_conntrack_find_get). An expired entry
// found on the way is deleted and not returned. Called for every packet;
// must not allocate.
func (t *Table) Lookup(tu Tuple, zone uint16, now int64) (*Conn, Dir) {
	tu.normalize()
	return t.find(&tu, zone, now)
}

func (t *Table) find(tu *Tuple, zone uint16, now int64) (*Conn, Dir) {
	h := tu.hash(zone, t.seed)
	s := t.shardOf(h)
	s.mu.Lock()
	c, d := s.find(tu, zone, h)
	s.mu.Unlock()
	if c != nil && t.expired(c, now) {
		t.kill(c, now)
		return nil, 0
	}
	return c, d
}

// In classifies one packet and runs its protocol tracker, as the kernel's
// nf_conntrack_in (with resolve_normal_ct and the l4 trackers). It returns
// the entry the packet belongs to (nil when INVALID or UNTRACKED), the
// packet's CtInfo, and Drop when the packet must be dropped (table full and
// nothing could be evicted, or a TCP reopen raced with a delete).
//
// A returned entry may be unconfirmed (a NEW or RELATED first packet): the
// caller must then either Confirm it at the packet's last hook or Discard
// it if the packet is dropped. Call Confirm at the last hook for packets of
// confirmed entries too: it delivers the events this packet caused.
//
// Called for every packet; for a packet of an existing entry it does not
// allocate.
func (t *Table) In(seg *Segment, now int64) (c *Conn, info CtInfo, v Verdict) {
	tu := seg.Tuple
	tu.normalize()
	proto := tu.Proto
	if seg.Malformed || seg.BadChecksum || (tu.Family != IPv4 && tu.Family != IPv6) {
		if isICMP(proto) {
			t.stats.error.Add(1) // icmp_error: short packet, bad checksum
		} else {
			t.stats.invalid.Add(1) // get_l4proto, tcp_error, udp_error
		}
		return nil, Invalid, Accept
	}
	switch {
	case icmpFamilyOK(&tu):
		if c, info, done := t.icmpError(seg, &tu, now); done {
			return c, info, Accept
		}
	case proto == ProtoTCP:
		if !tcpFlagsValid(seg.TCPFlags) {
			t.stats.invalid.Add(1) // tcp_error: "invalid tcp flag combination"
			return nil, Invalid, Accept
		}
	}
	for attempt := 0; ; attempt++ {
		c, dir := t.find(&tu, seg.Zone, now)
		isNew := c == nil
		if !isNew && c.status.Load()&uint32(StatusOffload) != 0 {
			// A packet of an offloaded connection came to gofw: it is
			// gofw's again from here (pullBack).
			t.pullBack(c)
		}
		if isNew {
			c, v = t.newConn(&tu, seg, now)
			if v == Drop {
				t.stats.drop.Add(1)
				return nil, Invalid, Drop
			}
			if c == nil {
				t.stats.invalid.Add(1) // no inverse tuple
				return nil, Invalid, Accept
			}
		}
		// ctinfo, as resolve_normal_ct.
		switch st := c.Status(); {
		case dir == Reply:
			info = EstablishedReply
		case st&StatusSeenReply != 0:
			info = Established
		case st&StatusExpected != 0:
			info = Related
		default:
			info = New
		}
		var ev uint32
		res := t.track(c, seg, info, now, &ev)
		if res == resRepeat && attempt == 0 {
			// TCP reopen: the old entry is gone, classify again.
			continue
		}
		if res != resAccept {
			if isNew {
				t.release(c)
			}
			t.stats.invalid.Add(1)
			if res == resDrop || res == resRepeat {
				t.stats.drop.Add(1)
				return nil, Invalid, Drop
			}
			return nil, Invalid, Accept
		}
		if isNew {
			t.addUnconfirmed(c)
		}
		if info == EstablishedReply && c.setStatus(StatusSeenReply) {
			ev |= evReply
		}
		if ev != 0 {
			c.cacheEvent(ev)
		}
		return c, info, Accept
	}
}

// track dispatches to the protocol tracker (nf_conntrack_handle_packet).
func (t *Table) track(c *Conn, seg *Segment, info CtInfo, now int64, ev *uint32) pktResult {
	switch c.Proto() {
	case ProtoTCP:
		return t.tcpPacket(c, seg, info, now, ev)
	case ProtoUDP:
		return t.udpPacket(c, seg, info, now, ev)
	case ProtoUDPLite:
		return t.udpLitePacket(c, seg, info, now, ev)
	case ProtoICMP, ProtoICMPv6:
		return t.icmpPacket(c, seg, info, now)
	case ProtoGRE:
		return t.grePacket(c, seg, info, now, ev)
	}
	return t.genericPacket(c, seg, info, now)
}

// newConn allocates an unconfirmed entry for a packet that found none, as
// init_conntrack and __nf_conntrack_alloc: the reply tuple is the inverse
// (no inverse: nil, the packet is INVALID); over Max, early drop must free
// room or the packet is dropped; a matching expectation makes the entry
// EXPECTED with a master.
func (t *Table) newConn(tu *Tuple, seg *Segment, now int64) (*Conn, Verdict) {
	rt, ok := tu.Invert()
	if !ok {
		return nil, Accept
	}
	n := t.count.Add(1)
	if t.cfg.Max > 0 && n > int64(t.cfg.Max) {
		if !t.earlyDrop(tu.hash(seg.Zone, t.seed), now) {
			t.gcEarlyDrop.Store(true)
			t.count.Add(-1)
			t.logf(now, "nf_conntrack: table full, dropping packet")
			return nil, Drop
		}
	}
	c := &Conn{tuple: [2]Tuple{*tu, rt}, zone: seg.Zone, start: now}
	c.use.Store(1)
	if t.cfg.Acct {
		c.ext = &connExt{hasAcct: true}
	}
	if t.expects.count.Load() > 0 {
		t.applyExpectation(c, now)
	}
	return c, Accept
}

func (t *Table) addUnconfirmed(c *Conn) {
	u := &t.unconf[c.ID()%uint32(len(t.unconf))]
	u.mu.Lock()
	u.m[c] = struct{}{}
	u.mu.Unlock()
}

// delUnconfirmed removes c from the unconfirmed list and reports whether
// it was there.
func (t *Table) delUnconfirmed(c *Conn) bool {
	u := &t.unconf[c.ID()%uint32(len(t.unconf))]
	u.mu.Lock()
	_, ok := u.m[c]
	delete(u.m, c)
	u.mu.Unlock()
	return ok
}

// release frees an entry that never made it into the hash: it no longer
// counts against Max and its master loses the reference.
func (t *Table) release(c *Conn) {
	c.setStatus(StatusDying)
	t.count.Add(-1)
	if m := c.master; m != nil {
		m.use.Add(-1)
	}
}

// Discard drops an unconfirmed entry whose packet was dropped before its
// last hook (filter DROP, NAT failure): it simply disappears, as in the
// kernel, without events. Discarding a confirmed entry does nothing.
func (t *Table) Discard(c *Conn) {
	if c == nil || c.Status()&StatusConfirmed != 0 {
		return
	}
	if t.delUnconfirmed(c) {
		t.release(c)
	}
}

// Confirm is the kernel's nf_conntrack_confirm, run at a packet's last hook
// (POSTROUTING or INPUT). For an unconfirmed entry created by an
// ORIGINAL-direction packet it inserts both tuples into the hash, starts the
// timer and sends the NEW event; for any entry it then delivers the events
// its packets cached.
//
// On an insert race (another entry with the same original or reply tuple
// got in first) protocols that allow clashes (UDP, UDP-Lite, GRE) merge
// into the existing entry, which is returned and which the packet must
// carry from now on; otherwise the packet is dropped (insert_failed).
func (t *Table) Confirm(c *Conn, info CtInfo, now int64) (*Conn, Verdict) {
	if c == nil {
		return nil, Accept
	}
	st := c.Status()
	if st&StatusConfirmed != 0 {
		t.deliverCached(c, now)
		return c, Accept
	}
	if info.Dir() != Original {
		// REJECT-attached packets travel the other way; the entry is
		// confirmed by the packet that created it.
		return c, Accept
	}
	if !t.delUnconfirmed(c) {
		return nil, Drop // discarded already
	}
	if st&StatusDying != 0 {
		// Flushed while unconfirmed.
		t.stats.insertFailed.Add(1)
		t.release(c)
		return nil, Drop
	}
	h0 := c.tuple[Original].hash(c.zone, t.seed)
	h1 := c.tuple[Reply].hash(c.zone, t.seed)
	a, b := t.lockPair(h0, h1)
	if x, _ := a.find(&c.tuple[Original], c.zone, h0); x != nil {
		return t.resolveClash(c, x, a, b, h1, now)
	}
	if x, _ := b.find(&c.tuple[Reply], c.zone, h1); x != nil {
		return t.resolveClash(c, x, a, b, h1, now)
	}
	d0 := a.insert(c, Original, h0)
	d1 := b.insert(c, Reply, h1)
	if max(d0, d1) > chainMax(h0) {
		a.remove(c, Original, h0)
		b.remove(c, Reply, h1)
		unlockPair(a, b)
		t.stats.chainTooLong.Add(1)
		t.stats.insertFailed.Add(1)
		t.release(c)
		return nil, Drop
	}
	// The timeout becomes absolute at confirmation.
	c.timeout.Add(now)
	c.setStatus(StatusConfirmed)
	unlockPair(a, b)
	if st&StatusSrcNAT != 0 {
		t.linkBySrc(c)
	}
	c.events.Store(0)
	t.publish(c, EventNew, now)
	return c, Accept
}

// chainMax is the kernel's MIN_CHAINLEN + random(MAX_CHAINLEN) (50..79
// entries in one hash chain), scaled by 16 for open addressing, where a
// probe run at the 3/4 load limit is routinely dozens of slots long: an
// insert that would land further than this from its home slot is refused
// with chaintoolong. With a seeded hash it means the hash is under attack
// or broken, never bad luck.
func chainMax(h uint64) int { return (50 + int(h>>40)%30) * 16 }

// resolveClash is nf_ct_resolve_clash, called with both shards locked
// when c's tuples clash with x already in the hash.
func (t *Table) resolveClash(c, x *Conn, a, b *shard, h1 uint64, now int64) (*Conn, Verdict) {
	switch c.Proto() {
	case ProtoUDP, ProtoUDPLite, ProtoGRE: // l4proto->allow_clash
	default:
		unlockPair(a, b)
		t.stats.drop.Add(1)
		t.stats.insertFailed.Add(1)
		t.release(c)
		return nil, Drop
	}
	if canMerge(x, c) {
		unlockPair(a, b)
		return t.mergeClash(c, x), Accept
	}
	// nf_ct_resolve_clash_harder: the reply direction must be unique
	// unless both entries are the same flow.
	if y, _ := b.find(&c.tuple[Reply], c.zone, h1); y != nil {
		unlockPair(a, b)
		if canMerge(y, c) {
			return t.mergeClash(c, y), Accept
		}
		t.stats.drop.Add(1)
		t.stats.insertFailed.Add(1)
		t.release(c)
		return nil, Drop
	}
	// Only the original tuple clashes: insert the entry under its reply
	// tuple alone, hidden from listings, for one second, never ASSURED.
	c.timeout.Store(now + int64(time.Second))
	c.setStatus(StatusFixedTimeout | StatusNATClash)
	b.insert(c, Reply, h1)
	c.setStatus(StatusConfirmed)
	unlockPair(a, b)
	t.stats.clashResolve.Add(1)
	return c, Accept
}

// canMerge is nf_ct_can_merge: the two entries describe the same flow,
// either way round.
func canMerge(x, c *Conn) bool {
	if x.zone != c.zone || x.Status()&StatusDying != 0 {
		return false
	}
	return (x.tuple[Original] == c.tuple[Original] && x.tuple[Reply] == c.tuple[Reply]) ||
		(x.tuple[Original] == c.tuple[Reply] && x.tuple[Reply] == c.tuple[Original])
}

// mergeClash attaches the packet to the winner x and frees the loser c,
// carrying its byte count over (nf_ct_acct_merge).
func (t *Table) mergeClash(c, x *Conn) *Conn {
	if c.ext != nil && x.ext != nil {
		p, n := c.Counters(Original)
		x.ext.acct[Original].packets.Add(p)
		x.ext.acct[Original].bytes.Add(n)
	}
	t.release(c)
	t.stats.clashResolve.Add(1)
	return x
}

// kill removes a confirmed entry from the hash and sends its DESTROY event
// (nf_ct_delete); for an unconfirmed one it only sets DYING so that Confirm
// refuses it. It reports whether this call did it (false if the entry was
// already dying).
func (t *Table) kill(c *Conn, now int64) bool { return t.killFrom(c, now, 0) }

// killFrom is kill for a deletion a user-space request asked for: its
// DESTROY event names the requester (Command.Portid).
func (t *Table) killFrom(c *Conn, now int64, portid uint32) bool {
	if !c.setStatus(StatusDying) {
		return false
	}
	// The kernel must not go on letting by the packets of a connection
	// gofw no longer knows.
	t.pullBack(c)
	st := c.Status()
	if st&StatusConfirmed == 0 {
		return true
	}
	h1 := c.tuple[Reply].hash(c.zone, t.seed)
	if st&StatusNATClash != 0 {
		s := t.shardOf(h1)
		s.mu.Lock()
		s.remove(c, Reply, h1)
		s.mu.Unlock()
	} else {
		h0 := c.tuple[Original].hash(c.zone, t.seed)
		a, b := t.lockPair(h0, h1)
		a.remove(c, Original, h0)
		b.remove(c, Reply, h1)
		unlockPair(a, b)
	}
	t.count.Add(-1)
	if st&StatusSrcNAT != 0 {
		t.unlinkBySrc(c)
	}
	if m := c.master; m != nil {
		m.use.Add(-1)
	}
	if t.expects.count.Load() > 0 {
		t.removeExpectsOf(c, now)
	}
	if st&StatusNATClash == 0 {
		t.publishFrom(c, EventDestroy, 0, now, portid)
	}
	return true
}

// earlyDrop is the kernel's early_drop: when the table is full, look at
// the new tuple's home bucket and the next seven (here: pairs of slots,
// the size of a kernel bucket at the default load) and delete every
// confirmed, unassured entry of the first bucket that has one. Expired
// entries met on the way are reaped without counting. Eviction is local
// by design: it is not "the oldest unassured entry anywhere".
func (t *Table) earlyDrop(h uint64, now int64) bool {
	const buckets, perBucket = 8, 2
	var victims, expired [buckets * perBucket]*Conn
	nv, ne := 0, 0
	s := t.shardOf(h)
	s.mu.Lock()
	if len(s.slots) > 0 {
		mask := uint64(len(s.slots) - 1)
		for b := 0; b < buckets && nv == 0; b++ {
			for k := 0; k < perBucket; k++ {
				i := (h + uint64(b*perBucket+k)) & mask
				c := s.slots[i]
				if c == nil {
					continue
				}
				st := c.Status()
				switch {
				case c.expired(now) && !c.Offloaded():
					expired[ne] = c
					ne++
				case st&(StatusAssured|StatusDying) == 0 && st&StatusConfirmed != 0:
					victims[nv] = c
					nv++
				}
			}
		}
	}
	s.mu.Unlock()
	for _, c := range expired[:ne] {
		t.kill(c, now)
	}
	drops := 0
	for _, c := range victims[:nv] {
		if t.kill(c, now) {
			drops++
		}
	}
	t.stats.earlyDrop.Add(uint64(drops))
	return drops > 0
}

// logf sends msg to Config.Log at most once per second of the table's
// clock (net_warn_ratelimited).
func (t *Table) logf(now int64, msg string) {
	if t.cfg.Log == nil {
		return
	}
	last := t.lastLog.Load()
	if last != 0 && now-last < int64(time.Second) {
		return
	}
	if t.lastLog.CompareAndSwap(last, max(now, 1)) {
		t.cfg.Log(msg)
	}
}

// Count returns the number of entries, unconfirmed ones included, as
// nf_conntrack_count (what conntrack -C prints).
func (t *Table) Count() int { return int(t.count.Load()) }

// forEach calls fn for every confirmed entry once (listings skip the
// hidden NAT-clash entries, as the kernel's dumps do). Entries are
// gathered shard by shard and fn runs without any table lock held.
func (t *Table) forEach(fn func(c *Conn)) {
	var batch []*Conn
	for i := range t.shards {
		s := &t.shards[i]
		batch = batch[:0]
		s.mu.Lock()
		for k, c := range s.slots {
			if c != nil && wordDir(s.words[k]) == Original {
				batch = append(batch, c)
			}
		}
		s.mu.Unlock()
		for _, c := range batch {
			fn(c)
		}
	}
}

// ListTable selects one of the lists conntrack -L can show.
type ListTable uint8

// The lists (conntrack -L conntrack|unconfirmed|dying).
const (
	ListConntrack ListTable = iota
	ListUnconfirmed
	ListDying
)

// List returns a snapshot of the entries of list which that match f (nil
// matches all), in hash order like the kernel's dump.
func (t *Table) List(which ListTable, f *Filter, now int64) []Entry {
	var out []Entry
	add := func(e Entry) {
		if f == nil || f.MatchEntry(&e) {
			out = append(out, e)
		}
	}
	switch which {
	case ListConntrack:
		t.forEach(func(c *Conn) { add(t.snapshot(c, now)) })
	case ListUnconfirmed:
		for i := range t.unconf {
			u := &t.unconf[i]
			u.mu.Lock()
			cs := make([]*Conn, 0, len(u.m))
			for c := range u.m {
				cs = append(cs, c)
			}
			u.mu.Unlock()
			for _, c := range cs {
				add(t.snapshot(c, now))
			}
		}
	case ListDying:
		for _, e := range t.dying.entries() {
			add(e)
		}
	}
	return out
}

// Get returns the confirmed entry whose original or reply tuple is tu
// (conntrack -G).
func (t *Table) Get(tu Tuple, zone uint16, now int64) (Entry, bool) {
	c, _ := t.Lookup(tu, zone, now)
	if c == nil || c.Status()&StatusNATClash != 0 {
		return Entry{}, false
	}
	return t.snapshot(c, now), true
}

// Delete removes every confirmed entry matching f (nil: all) and returns
// them as they were just before (conntrack -D prints them).
func (t *Table) Delete(f *Filter, now int64) []Entry { return t.deleteFrom(f, now, 0) }

// deleteFrom is Delete for a user-space request (Command.Portid).
func (t *Table) deleteFrom(f *Filter, now int64, portid uint32) []Entry {
	var out []Entry
	t.forEach(func(c *Conn) {
		e := t.snapshot(c, now)
		if f != nil && !f.MatchEntry(&e) {
			return
		}
		if t.killFrom(c, now, portid) {
			out = append(out, e)
		}
	})
	return out
}

// Flush deletes every confirmed entry (conntrack -F) and returns how many.
// Unconfirmed entries are marked dying so that they never get in.
func (t *Table) Flush(now int64) int { return t.flushFrom(now, 0) }

// flushFrom is Flush for a user-space request (Command.Portid).
func (t *Table) flushFrom(now int64, portid uint32) int {
	n := 0
	t.forEach(func(c *Conn) {
		if t.killFrom(c, now, portid) {
			n++
		}
	})
	for i := range t.unconf {
		u := &t.unconf[i]
		u.mu.Lock()
		for c := range u.m {
			c.setStatus(StatusDying)
		}
		u.mu.Unlock()
	}
	return n
}

// TupleTaken reports whether tu is already some other confirmed entry's
// tuple, as nf_conntrack_tuple_taken (NAT uses it to find a free port).
// An entry with the same original tuple as ignored does not count: it is
// the same flow and Confirm resolves it.
func (t *Table) TupleTaken(tu Tuple, ignored *Conn, now int64) bool {
	tu.normalize()
	zone := ignored.zone
	c, _ := t.find(&tu, zone, now)
	if c == nil || c == ignored {
		return false
	}
	if c.tuple[Original] == ignored.tuple[Original] && c.zone == zone {
		return false
	}
	t.stats.found.Add(1)
	return true
}
