package conntrack

import (
	"errors"
	"time"
)

// InsertSpec describes an entry created from user space (conntrack -I),
// what ctnetlink_create_conntrack takes.
type InsertSpec struct {
	// Orig is the original tuple; Reply the reply tuple (zero: the
	// inverse of Orig).
	Orig, Reply Tuple
	Zone        uint16
	// Timeout is the lifetime (required, as conntrack -I requires -t).
	Timeout time.Duration
	// Status bits to set (conntrack -u): SEEN_REPLY, ASSURED, ... The
	// bits the table owns (EXPECTED, CONFIRMED, DYING, ...) are ignored.
	Status Status
	// State is the TCP state (--state), for TCP entries.
	State TCPState
	Mark  uint32
	// Portid names who asked in the NEW event (Command.Portid).
	Portid uint32
}

// Errors of Insert, in the wording conntrack prints after "Operation
// failed: ".
var (
	ErrExists    = errors.New("Such conntrack exists, try -U to update")
	ErrNoTimeout = errors.New("conntrack: a timeout is required")
	ErrTableFull = errors.New("nf_conntrack: table full, dropping packet")
	ErrNoInverse = errors.New("conntrack: the tuple has no inverse")
)

// Insert creates a confirmed entry from spec, as ctnetlink's create path
// with nf_conntrack_hash_check_insert: it fails with ErrExists if either
// tuple is taken, obeys Max (with early drop), counts "insert" and sends a
// NEW event. Window tracking of a TCP entry starts from its next packets,
// as for an entry picked up mid-stream.
func (t *Table) Insert(spec InsertSpec, now int64) (*Conn, error) {
	if spec.Timeout <= 0 {
		return nil, ErrNoTimeout
	}
	orig := spec.Orig
	orig.normalize()
	reply := spec.Reply
	if reply == (Tuple{}) {
		var ok bool
		if reply, ok = orig.Invert(); !ok {
			return nil, ErrNoInverse
		}
	}
	reply.normalize()
	n := t.count.Add(1)
	if t.cfg.Max > 0 && n > int64(t.cfg.Max) && !t.earlyDrop(orig.hash(spec.Zone, t.seed), now) {
		t.count.Add(-1)
		return nil, ErrTableFull
	}
	c := &Conn{tuple: [2]Tuple{orig, reply}, zone: spec.Zone, start: now}
	c.use.Store(1)
	c.mark.Store(spec.Mark)
	if t.cfg.Acct {
		c.ext = &connExt{hasAcct: true}
	}
	if orig.Proto == ProtoTCP && spec.State < numTCPStates {
		c.tcp.state = spec.State
	}
	c.status.Store(uint32(spec.Status &^ tableOwnedStatus))
	h0 := orig.hash(c.zone, t.seed)
	h1 := reply.hash(c.zone, t.seed)
	a, b := t.lockPair(h0, h1)
	if x, _ := a.find(&orig, c.zone, h0); x != nil {
		unlockPair(a, b)
		t.count.Add(-1)
		return nil, ErrExists
	}
	if x, _ := b.find(&reply, c.zone, h1); x != nil {
		unlockPair(a, b)
		t.count.Add(-1)
		return nil, ErrExists
	}
	c.timeout.Store(now + int64(spec.Timeout))
	a.insert(c, Original, h0)
	b.insert(c, Reply, h1)
	c.setStatus(StatusConfirmed)
	unlockPair(a, b)
	t.stats.insert.Add(1)
	// ctnetlink_new_conntrack reports the same event bits as a change
	// from user space: the NEW message carries the mark, even 0.
	t.publishFrom(c, EventNew, updateEventBits, now, spec.Portid)
	return c, nil
}

// Update sets the mark of every confirmed entry matching f (conntrack -U
// -m) and returns them as they are afterwards. Each changed entry sends an
// UPDATE event.
func (t *Table) Update(f *Filter, mark uint32, now int64) []Entry {
	var out []Entry
	t.forEach(func(c *Conn) {
		if f != nil && !f.Match(c) {
			return
		}
		c.SetMark(mark)
		t.deliverCached(c, now)
		out = append(out, t.snapshot(c, now))
	})
	return out
}
