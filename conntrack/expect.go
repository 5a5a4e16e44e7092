package conntrack

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// ExpectFlags are an expectation's flags (NF_CT_EXPECT_*).
type ExpectFlags uint8

// Expectation flags, with the kernel's values.
const (
	ExpectPermanent ExpectFlags = 0x1 // may match many times
	ExpectInactive  ExpectFlags = 0x2 // not yet usable
	ExpectUserspace ExpectFlags = 0x4 // created through ctnetlink
)

// Expect is an expectation: a future connection that belongs to Master
// (an FTP data connection, a TFTP transfer), the kernel's struct
// nf_conntrack_expect. Helpers (a later issue) create them with AddExpect.
type Expect struct {
	// Tuple is the child's ORIGINAL tuple; Mask selects the bits that must
	// match (all-ones = exact, zero = wildcard). Only the source address
	// and source port may be wildcarded: helpers always know the
	// destination, and the table indexes expectations by it.
	Tuple, Mask Tuple
	// Master is the confirmed entry that expects the child.
	Master *Conn
	// Class is the helper's expectation class (FTP/TFTP 0; SIP
	// signalling, audio, video, image).
	Class uint8
	// Helper is attached to the child when it is created ("" for none).
	Helper string
	// Flags are the expectation's flags.
	Flags ExpectFlags
	// Timeout is the expectation's lifetime (FTP, TFTP: 300 s).
	Timeout time.Duration
	// Fn, if set, runs on the child right after it is created from this
	// expectation (the kernel's expectfn), after FollowMaster.
	Fn func(child *Conn, e *Expect)

	// FollowMaster makes the child NATed like its master when it is
	// created, as nf_nat_follow_master: its source becomes the address
	// the master's Dir-opposite tuple is sent to, its destination the
	// other end of that tuple with port SavedPort, so that a data
	// connection aimed at the NAT box reaches the real host. NAT helpers
	// (FTP, TFTP) set it when the master is NATed.
	FollowMaster bool
	// Dir is the direction the child will travel, in the master's terms
	// (the kernel's exp->dir): the opposite of the packet that announced
	// it.
	Dir Dir
	// SavedPort is the port the real host announced, before NAT moved the
	// expectation to another one (exp->saved_proto).
	SavedPort uint16

	expires int64
	id      uint32
}

// ID returns the expectation's id.
func (e *Expect) ID() uint32 { return e.id }

// Errors from AddExpect, mirroring the kernel's return codes.
var (
	// ErrExpectBusy: an overlapping expectation of another master exists
	// (-EBUSY; FTP NAT then tries another port).
	ErrExpectBusy = errors.New("conntrack: expectation overlaps another")
	// ErrExpectFull: the table holds ExpectMax expectations.
	ErrExpectFull = errors.New("nf_conntrack: expectation table full")
	// ErrExpectTooMany: the master has too many expectations of this
	// class and none could be evicted (-EMFILE).
	ErrExpectTooMany = errors.New("conntrack: too many expectations for this master")
	// ErrExpectMaster: the master is missing or dying.
	ErrExpectMaster = errors.New("conntrack: expectation master is not a live entry")
	// ErrExpectMask: the mask wildcards part of the destination.
	ErrExpectMask = errors.New("conntrack: expectation mask must match the destination exactly")
)

type expectKey struct {
	dst    [16]byte
	dport  uint16
	zone   uint16
	proto  uint8
	family Family
}

func keyOf(t *Tuple, zone uint16) expectKey {
	return expectKey{dst: t.Dst, dport: t.DstPort, zone: zone, proto: t.Proto, family: t.Family}
}

// expectTable is the expectation hash (nf_ct_expect_hash).
type expectTable struct {
	t       *Table
	mu      sync.Mutex
	m       map[expectKey][]*Expect
	count   atomic.Int64
	seq     uint32
	pending []ExpectEvent // events to send once mu is released
}

func (x *expectTable) init(t *Table) {
	x.t = t
	x.m = make(map[expectKey][]*Expect)
}

func (e *Expect) zone() uint16 { return e.Master.zone }

// maskedEqual compares a tuple to an expectation under its mask.
func (e *Expect) matches(t *Tuple) bool {
	m := &e.Mask
	for i := range t.Src {
		if t.Src[i]&m.Src[i] != e.Tuple.Src[i]&m.Src[i] {
			return false
		}
	}
	return t.SrcPort&m.SrcPort == e.Tuple.SrcPort&m.SrcPort
}

// clashes is expect_clash: two expectations whose tuples agree under the
// intersection of their masks could match the same packet.
func (e *Expect) clashes(o *Expect) bool {
	for i := range e.Tuple.Src {
		m := e.Mask.Src[i] & o.Mask.Src[i]
		if e.Tuple.Src[i]&m != o.Tuple.Src[i]&m {
			return false
		}
	}
	m := e.Mask.SrcPort & o.Mask.SrcPort
	return e.Tuple.SrcPort&m == o.Tuple.SrcPort&m
}

// AddExpect registers e, as nf_ct_expect_related: an identical expectation
// of the same master is replaced; an overlapping one of another master
// makes it fail with ErrExpectBusy; when the master already has
// maxPerClass expectations of e.Class (0: no limit) the oldest is evicted;
// past Config.ExpectMax it fails with ErrExpectFull (and logs the kernel's
// "expectation table full").
//
// The master may still be unconfirmed, as the kernel allows: TFTP expects
// the transfer on the request that creates the master. Such an expectation
// matches nothing until the master is confirmed, and goes with it if it
// never is (RemoveExpectsOf, as destroy_conntrack does).
func (t *Table) AddExpect(e *Expect, maxPerClass int, now int64) error {
	m := e.Master
	if m == nil || m.Status()&StatusDying != 0 {
		return ErrExpectMaster
	}
	n := 16
	if e.Tuple.Family == IPv4 {
		n = 4
	}
	for _, b := range e.Mask.Dst[:n] {
		if b != 0xff {
			return ErrExpectMask
		}
	}
	if hasPorts(e.Tuple.Proto) && e.Mask.DstPort != 0xffff {
		return ErrExpectMask
	}
	e.Tuple.normalize()
	k := keyOf(&e.Tuple, m.zone)
	x := &t.expects
	defer t.flushExpectEvents()
	x.mu.Lock()
	defer x.mu.Unlock()
	var evicted []*Expect
	l := x.m[k]
	for i := 0; i < len(l); i++ {
		o := l[i]
		if o.Master == m && o.Class == e.Class && o.Tuple == e.Tuple && o.Mask == e.Mask {
			l = x.unlinkLocked(k, o, now)
			evicted = append(evicted, o)
			i--
			continue
		}
		if o.clashes(e) {
			return ErrExpectBusy
		}
	}
	if maxPerClass > 0 {
		var oldest *Expect
		n := 0
		for _, ol := range x.m {
			for _, o := range ol {
				if o.Master == m && o.Class == e.Class {
					n++
					if oldest == nil || o.expires < oldest.expires {
						oldest = o
					}
				}
			}
		}
		if n >= maxPerClass {
			if oldest == nil {
				return ErrExpectTooMany
			}
			x.unlinkLocked(keyOf(&oldest.Tuple, m.zone), oldest, now)
			evicted = append(evicted, oldest)
		}
	}
	if x.count.Load() >= int64(t.cfg.ExpectMax) {
		t.logf(now, "nf_conntrack: expectation table full")
		return ErrExpectFull
	}
	x.seq++
	e.id = uint32(mix(uint64(x.seq)^hk4, t.seed^hk0))
	e.expires = now + int64(e.Timeout)
	x.m[k] = append(x.m[k], e)
	x.count.Add(1)
	if t.hasExpectSubscribers() {
		x.pending = append(x.pending, ExpectEvent{Type: EventNew, Entry: e.snapshot(now)})
	}
	// No master reference: as nf_ct_expect_alloc says, the kernel does not
	// count unfulfilled expectations in the master's use (they die before
	// it); only a child that matched one holds it (applyExpectation).
	t.stats.expectCreate.Add(1)
	for range evicted {
		t.stats.expectDelete.Add(1)
	}
	return nil
}

// unlinkLocked removes o from bucket k and queues its DESTROY event
// (nf_ct_unlink_expect_report).
func (x *expectTable) unlinkLocked(k expectKey, o *Expect, now int64) []*Expect {
	l := x.m[k]
	for i, p := range l {
		if p == o {
			l = append(l[:i], l[i+1:]...)
			break
		}
	}
	if len(l) == 0 {
		delete(x.m, k)
	} else {
		x.m[k] = l
	}
	x.count.Add(-1)
	if x.t.hasExpectSubscribers() {
		x.pending = append(x.pending, ExpectEvent{Type: EventDestroy, Entry: o.snapshot(now)})
	}
	return l
}

// flushEvents sends the events queued under x.mu; called after unlocking.
func (t *Table) flushExpectEvents() {
	x := &t.expects
	x.mu.Lock()
	evs := x.pending
	x.pending = nil
	x.mu.Unlock()
	for i := range evs {
		t.publishExpect(&evs[i])
	}
}

// RemoveExpect removes e and reports whether it was registered.
func (t *Table) RemoveExpect(e *Expect, now int64) bool {
	x := &t.expects
	defer t.flushExpectEvents()
	x.mu.Lock()
	defer x.mu.Unlock()
	k := keyOf(&e.Tuple, e.zone())
	for _, o := range x.m[k] {
		if o == e {
			x.unlinkLocked(k, o, now)
			t.stats.expectDelete.Add(1)
			return true
		}
	}
	return false
}

// applyExpectation makes c an expected entry if an expectation matches its
// original tuple, as init_conntrack with nf_ct_find_expectation: EXPECTED
// is set, the master is recorded and copies its mark to the child, the
// expectation's helper is attached; a non-permanent expectation is used
// up.
func (t *Table) applyExpectation(c *Conn, now int64) {
	tu := &c.tuple[Original]
	k := keyOf(tu, c.zone)
	x := &t.expects
	x.mu.Lock()
	var e *Expect
	for _, o := range x.m[k] {
		if o.Flags&ExpectInactive != 0 || o.expires <= now || !o.matches(tu) {
			continue
		}
		if o.Master.Status()&(StatusConfirmed|StatusDying) != StatusConfirmed {
			continue
		}
		e = o
		break
	}
	if e == nil {
		x.mu.Unlock()
		return
	}
	m := e.Master
	m.use.Add(1) // the child's reference
	if e.Flags&ExpectPermanent == 0 {
		x.unlinkLocked(k, e, now)
		t.stats.expectDelete.Add(1)
	}
	x.mu.Unlock()
	t.flushExpectEvents()
	c.setStatus(StatusExpected)
	c.master = m
	c.mark.Store(m.mark.Load())
	if e.Helper != "" {
		if id, err := helperID(e.Helper); err == nil {
			c.attachHelper(id)
		}
	}
	t.stats.expectNew.Add(1)
	if e.FollowMaster {
		t.followMaster(c, e, now)
	}
	if e.Fn != nil {
		e.Fn(c, e)
	}
}

// followMaster is nf_nat_follow_master: NAT the fresh child c the way its
// master is NATed. Source: the address the master's tuple of the other
// direction is sent to (the NAT box's address as the peer knows it).
// Destination: where that tuple comes from, the real host, at the port it
// announced. Both manips end up done, so the nat table is never walked for
// the child. A mapping that cannot be made unique leaves the child to fail
// at confirmation, as in the kernel.
func (t *Table) followMaster(c *Conn, e *Expect, now int64) {
	mt := e.Master.tuple[e.Dir^1]
	r := NATRange{Flags: NATMapIPs}
	r.MinAddr = mt.DstAddr()
	r.MaxAddr = r.MinAddr
	t.SetupNAT(c, &r, ManipSrc, now)
	r = NATRange{Flags: NATMapIPs | NATProtoSpecified, MinPort: e.SavedPort, MaxPort: e.SavedPort}
	r.MinAddr = mt.SrcAddr()
	r.MaxAddr = r.MinAddr
	t.SetupNAT(c, &r, ManipDst, now)
}

// RemoveExpectsOf drops every expectation of master m. The engine calls it
// when a master that expected something before its confirmation is
// dropped instead (nf_ct_remove_expectations in destroy_conntrack).
func (t *Table) RemoveExpectsOf(m *Conn, now int64) {
	if t.expects.count.Load() > 0 {
		t.removeExpectsOf(m, now)
	}
}

// removeExpectsOf drops every expectation of a master that is going away.
func (t *Table) removeExpectsOf(m *Conn, now int64) {
	x := &t.expects
	defer t.flushExpectEvents()
	x.mu.Lock()
	defer x.mu.Unlock()
	for k, l := range x.m {
		for i := 0; i < len(l); i++ {
			if l[i].Master == m {
				l = x.unlinkLocked(k, l[i], now)
				t.stats.expectDelete.Add(1)
				i--
			}
		}
	}
}

// expireExpects drops expectations whose time is up.
func (t *Table) expireExpects(now int64) {
	x := &t.expects
	if x.count.Load() == 0 {
		return
	}
	defer t.flushExpectEvents()
	x.mu.Lock()
	defer x.mu.Unlock()
	for k, l := range x.m {
		for i := 0; i < len(l); i++ {
			if l[i].expires <= now {
				l = x.unlinkLocked(k, l[i], now)
				t.stats.expectDelete.Add(1)
				i--
			}
		}
	}
}

// ExpectCount returns the number of expectations (conntrack -C expect).
func (t *Table) ExpectCount() int { return int(t.expects.count.Load()) }

// FlushExpect removes every expectation (conntrack -F expect) and returns
// how many there were.
func (t *Table) FlushExpect(now int64) int {
	x := &t.expects
	defer t.flushExpectEvents()
	x.mu.Lock()
	defer x.mu.Unlock()
	n := 0
	for k, l := range x.m {
		for len(l) > 0 {
			l = x.unlinkLocked(k, l[0], now)
			t.stats.expectDelete.Add(1)
			n++
		}
	}
	return n
}

// ExpectEntry is a snapshot of an expectation for listing.
type ExpectEntry struct {
	Timeout uint32 // remaining whole seconds
	Tuple   Tuple
	Mask    Tuple
	Master  Tuple // the master's original tuple
	Zone    uint16
	Class   uint8
	Helper  string
	Flags   ExpectFlags
	ID      uint32
}

// snapshot lists e. The helper shown is the master's, as ctnetlink dumps
// CTA_EXPECT_HELP_NAME from the master's helper (an FTP data connection
// is listed helper=ftp though it gets no helper itself); an expectation
// whose master has none shows the helper it gives its child.
func (e *Expect) snapshot(now int64) ExpectEntry {
	left := max(e.expires-now, 0)
	h := e.Master.Helper()
	if h == "" {
		h = e.Helper
	}
	return ExpectEntry{
		Timeout: uint32(left / int64(time.Second)),
		Tuple:   e.Tuple, Mask: e.Mask,
		Master: e.Master.tuple[Original], Zone: e.zone(),
		Class: e.Class, Helper: h, Flags: e.Flags, ID: e.id,
	}
}

// ListExpect returns a snapshot of the expectations (conntrack -L expect).
func (t *Table) ListExpect(now int64) []ExpectEntry {
	x := &t.expects
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []ExpectEntry
	for _, l := range x.m {
		for _, e := range l {
			out = append(out, e.snapshot(now))
		}
	}
	return out
}

// ExpectEvent is one message of the expectation event stream (conntrack -E
// expect).
type ExpectEvent struct {
	Type  EventType // EventNew or EventDestroy
	Entry ExpectEntry
}

// AppendExpectEvent appends ev as conntrack -E expect prints it: the tag
// right-aligned in nine columns, then the expectation line.
func AppendExpectEvent(b []byte, ev *ExpectEvent) []byte {
	tag := "[" + ev.Type.String() + "]"
	for i := len(tag); i < 9; i++ {
		b = append(b, ' ')
	}
	b = append(b, tag...)
	b = append(b, ' ')
	return ev.Entry.AppendText(b)
}

// ExpectSubscription receives expectation events on C, with the same
// never-blocking rule as Subscription (a full buffer loses the event).
type ExpectSubscription struct {
	sink[ExpectEvent]
	t *Table
}

// SubscribeExpect starts an expectation event subscription with a buffer
// of buf events.
func (t *Table) SubscribeExpect(buf int) *ExpectSubscription {
	s := &ExpectSubscription{sink: newSink[ExpectEvent](buf), t: t}
	addSub(&t.subs.mu, &t.subs.expect, s)
	return s
}

// Close ends the subscription and closes C.
func (s *ExpectSubscription) Close() {
	removeSub(&s.t.subs.mu, &s.t.subs.expect, s)
	s.close()
}

func (t *Table) hasExpectSubscribers() bool {
	p := t.subs.expect.Load()
	return p != nil && len(*p) > 0
}

func (t *Table) publishExpect(ev *ExpectEvent) {
	p := t.subs.expect.Load()
	if p == nil {
		return
	}
	for _, s := range *p {
		if !s.send(ev) {
			s.lost.Add(1)
		}
	}
}
