package conntrack

// gofwd's fast path (--fast-path) leaves the packets of a decided,
// established TCP connection to the kernel: gofw marks the connection in
// the kernel's own conntrack and the divert lets marked packets by. The
// entry here then shows [OFFLOAD], as the kernel shows a flowtable's, and
// its state, window data, timeout and counters stop following the
// packets. It comes back (pullBack) when one of its packets reaches gofw
// again (a SYN, FIN or RST, a packet the kernel finds out of window, or
// any packet once a reload ended the offload), when it is deleted, and
// when its timeout runs out.
//
// The fast path's bookkeeping lives in the status word's upper half,
// above the kernel's bits and never shown: which directions had a packet
// accepted, by which compiled ruleset (its low 8 bits), and how many
// packets (up to OffloadAfter).
const (
	offGenShift                 = 16
	offGenMask           uint32 = 0xff << offGenShift
	offAccepted          uint32 = 1 << 24 // << Dir: 24 ORIGINAL, 25 REPLY
	offCountShift               = 26
	offCountMask         uint32 = 0xf << offCountShift
	internalStatus       uint32 = 0xffff0000
	offloadBookkeeping          = offGenMask | offAccepted | offAccepted<<1 | offCountMask
	offloadClearOnReturn        = offloadBookkeeping | uint32(StatusOffload)
)

// OffloadAfter is how many packets of a connection gofw accepts before it
// hands the connection to the kernel. Handing over and taking back cost a
// message to the kernel each; a connection that ends after a few packets
// (a request and its answer) gains nothing from it: with none, the fast
// path cost 8% of new connections per second on the benchmark machine.
const OffloadAfter = 15

// noteAccepted records that a packet of direction dir was accepted by the
// compiled ruleset gen (ruleset.Engine.Gen) and, once a packet of each
// direction and OffloadAfter packets in all have been accepted by the same
// one, sets OFFLOAD and reports true: the caller must then have the kernel take the connection's
// packets. Later calls report false until the entry comes back. Only the
// low 8 bits of gen are kept: two reloads 256 apart with no packet of the
// connection in between would be taken for one.
func (c *Conn) noteAccepted(dir Dir, gen uint32) bool {
	g := (gen << offGenShift) & offGenMask
	for {
		old := c.status.Load()
		if old&uint32(StatusOffload|StatusDying) != 0 {
			return false
		}
		n := old
		if n&offGenMask != g {
			n = n&^offloadBookkeeping | g
		}
		n |= offAccepted << (dir & 1)
		if n&offCountMask != offCountMask {
			n += 1 << offCountShift
		}
		both := n&(offAccepted|offAccepted<<1) == offAccepted|offAccepted<<1 &&
			(n&offCountMask)>>offCountShift >= OffloadAfter
		if both {
			n |= uint32(StatusOffload)
		}
		if n == old {
			return false
		}
		if c.status.CompareAndSwap(old, n) {
			return both
		}
	}
}

// NoteAccepted is Conn.noteAccepted, counted in the table (EndOffloads).
func (t *Table) NoteAccepted(c *Conn, dir Dir, gen uint32) bool {
	if !c.noteAccepted(dir, gen) {
		return false
	}
	t.offloaded.Add(1)
	return true
}

// Offloaded reports whether the kernel has been asked to take the
// connection's packets.
func (c *Conn) Offloaded() bool { return c.status.Load()&uint32(StatusOffload) != 0 }

// pullBack ends an offload: the entry's window data no longer describe the
// connection (gofw missed its packets), so each direction's is learnt
// again from its next packet, as the kernel's flow_offload_fixup_tcp does;
// and the kernel is told (Config.OnPullBack) to hand the packets back. It
// reports whether this call ended it.
func (t *Table) pullBack(c *Conn) bool {
	if !t.pullBackQuiet(c) {
		return false
	}
	if t.cfg.OnPullBack != nil {
		t.cfg.OnPullBack(c)
	}
	return true
}

// pullBackQuiet is pullBack without telling the kernel.
func (t *Table) pullBackQuiet(c *Conn) bool {
	for {
		old := c.status.Load()
		if old&uint32(StatusOffload) == 0 {
			return false
		}
		if c.status.CompareAndSwap(old, old&^offloadClearOnReturn) {
			break
		}
	}
	t.offloaded.Add(-1)
	c.mu.Lock()
	for d := range c.tcp.seen {
		c.tcp.seen[d].maxwin = 0
		c.tcp.flags[d] &^= tcpFlagMaxackSet
	}
	c.mu.Unlock()
	return true
}

// SetOnPullBack sets Config.OnPullBack; call it before any packet runs.
func (t *Table) SetOnPullBack(fn func(c *Conn)) { t.cfg.OnPullBack = fn }

// expired reports whether c's timeout ran out, for deleting it. An
// offloaded entry's timeout stopped following its packets, which the
// kernel still sees: it is not deleted but brought back, with its state's
// timeout afresh, so that its next packet, if there is one, reaches gofw
// and finds it.
func (t *Table) expired(c *Conn, now int64) bool {
	if !c.expired(now) {
		return false
	}
	if c.status.Load()&uint32(StatusOffload) == 0 || !t.pullBack(c) {
		return true
	}
	c.mu.Lock()
	d := t.tcpTimeouts[c.tcp.state]
	c.mu.Unlock()
	c.timeout.Store(now + int64(d))
	return false
}

// EndOffloads brings every offloaded entry back at once, without telling
// the kernel entry by entry: for a divert that no longer lets any
// offloaded connection by (a reload, gofwd's fast path ending). It
// returns how many came back.
func (t *Table) EndOffloads() int {
	n := 0
	if t.offloaded.Load() <= 0 {
		return 0 // the usual case: no walk of a large table per rule change
	}
	t.forEach(func(c *Conn) {
		if c.status.Load()&uint32(StatusOffload) == 0 {
			return
		}
		if t.pullBackQuiet(c) {
			n++
		}
	})
	return n
}
