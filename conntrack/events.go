package conntrack

import (
	"sync"
	"sync/atomic"
)

// Event bits cached on a Conn until delivery, numbered as the kernel's
// enum ip_conntrack_events (IPCT_*). They decide what an UPDATE message
// carries, as ctnetlink_conntrack_event does.
const (
	evNew       uint32 = 1 << 0 // IPCT_NEW
	evRelated   uint32 = 1 << 1 // IPCT_RELATED
	evDestroy   uint32 = 1 << 2 // IPCT_DESTROY
	evReply     uint32 = 1 << 3 // IPCT_REPLY: first reply packet
	evAssured   uint32 = 1 << 4 // IPCT_ASSURED
	evProtoinfo uint32 = 1 << 5 // IPCT_PROTOINFO: TCP state change
	evHelper    uint32 = 1 << 6 // IPCT_HELPER
	evMark      uint32 = 1 << 7 // IPCT_MARK
)

// EventType is the kind of an event message, as a bit so that a
// subscription can select several (conntrack -E -e NEW,DESTROY).
type EventType uint8

// Event types.
const (
	EventNew     EventType = 1 << iota // entry confirmed (also for expected entries)
	EventUpdate                        // first reply, TCP state change, ASSURED, mark or helper change
	EventDestroy                       // entry removed (timeout, delete, flush, RST, early drop)
	EventAll     = EventNew | EventUpdate | EventDestroy
)

// String returns "NEW", "UPDATE" or "DESTROY".
func (e EventType) String() string {
	switch e {
	case EventNew:
		return "NEW"
	case EventUpdate:
		return "UPDATE"
	case EventDestroy:
		return "DESTROY"
	}
	return "?"
}

// ParseEventType maps a name as conntrack -e takes it to its bit.
func ParseEventType(name string) (EventType, bool) {
	for _, e := range []EventType{EventNew, EventUpdate, EventDestroy} {
		if e.String() == name {
			return e, true
		}
	}
	return 0, false
}

// Event is one message of the event stream: the entry as it was when the
// event was sent, plus the kernel event bits that decide which optional
// fields the message carries.
type Event struct {
	Type  EventType
	Bits  uint32 // IPCT_* bits behind an UPDATE (what changed)
	Entry Entry
	// Portid is who caused the event from user space (Command.Portid),
	// 0 for the packet path and the table itself.
	Portid uint32
}

// Subscription receives events on C. Delivery never blocks the packet
// path: when C's buffer is full the event is lost (counted by Lost), except
// DESTROY events, which wait on the dying list and are retried by GCStep,
// as the kernel's event redelivery does.
type Subscription struct {
	sink[Event]
	mask   EventType
	filter *Filter
	t      *Table
}

type subscribers struct {
	mu     sync.Mutex
	list   atomic.Pointer[[]*Subscription]
	expect atomic.Pointer[[]*ExpectSubscription]
}

// Subscribe starts an event subscription with a buffer of buf events for
// the types in mask (0 means all) that match f (nil matches all).
func (t *Table) Subscribe(buf int, mask EventType, f *Filter) *Subscription {
	if mask == 0 {
		mask = EventAll
	}
	s := &Subscription{sink: newSink[Event](buf), mask: mask, t: t}
	if f != nil {
		fc := *f
		s.filter = &fc
	}
	addSub(&t.subs.mu, &t.subs.list, s)
	return s
}

// Close ends the subscription and closes C.
func (s *Subscription) Close() {
	removeSub(&s.t.subs.mu, &s.t.subs.list, s)
	s.close()
}

func (s *Subscription) wants(ev *Event) bool {
	return s.mask&ev.Type != 0 && (s.filter == nil || s.filter.MatchEntry(&ev.Entry))
}

// hasSubscribers is the cheap test done before building any event.
func (t *Table) hasSubscribers() bool {
	p := t.subs.list.Load()
	return p != nil && len(*p) > 0
}

// publish sends an event about c to every interested subscriber.
func (t *Table) publish(c *Conn, typ EventType, now int64) {
	t.publishBits(c, typ, 0, now)
}

func (t *Table) publishBits(c *Conn, typ EventType, bits uint32, now int64) {
	t.publishFrom(c, typ, bits, now, 0)
}

// publishFrom is publishBits for an event a user-space request caused.
func (t *Table) publishFrom(c *Conn, typ EventType, bits uint32, now int64, portid uint32) {
	if !t.hasSubscribers() {
		return
	}
	ev := Event{Type: typ, Bits: bits, Entry: t.snapshot(c, now), Portid: portid}
	switch typ {
	case EventNew:
		ev.Bits |= evNew | evProtoinfo | evHelper
	case EventDestroy:
		ev.Bits |= evDestroy
	}
	var missed []*Subscription
	for _, s := range *t.subs.list.Load() {
		if !s.wants(&ev) || s.send(&ev) {
			continue
		}
		if typ == EventDestroy {
			missed = append(missed, s)
		} else {
			s.lost.Add(1)
		}
	}
	if len(missed) > 0 {
		t.dying.add(ev, missed, max(t.cfg.Max/16, 1024))
	}
}

// deliverCached sends one UPDATE for the events c's packets cached since
// the last delivery (nf_ct_deliver_cached_events).
func (t *Table) deliverCached(c *Conn, now int64) {
	if c.events.Load() == 0 {
		return
	}
	bits := c.events.Swap(0)
	if bits == 0 || c.Status()&StatusDying != 0 {
		return
	}
	t.publishBits(c, EventUpdate, bits, now)
}

// dyingList holds DESTROY events some subscriber could not take yet: the
// kernel keeps such entries on its dying list (conntrack -L dying) and
// redelivers. It is bounded; past the bound the event is lost.
type dyingList struct {
	mu    sync.Mutex
	items []dyingItem
}

type dyingItem struct {
	ev   Event
	subs []*Subscription
}

func (d *dyingList) add(ev Event, subs []*Subscription, limit int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.items) >= limit {
		for _, s := range subs {
			s.lost.Add(1)
		}
		return
	}
	d.items = append(d.items, dyingItem{ev: ev, subs: subs})
}

// redeliver retries the owed DESTROY events, oldest first.
func (d *dyingList) redeliver() {
	d.mu.Lock()
	defer d.mu.Unlock()
	keep := d.items[:0]
	for _, it := range d.items {
		left := it.subs[:0]
		for _, s := range it.subs {
			if !s.send(&it.ev) {
				left = append(left, s)
			}
		}
		if len(left) > 0 {
			it.subs = left
			keep = append(keep, it)
		}
	}
	for i := len(keep); i < len(d.items); i++ {
		d.items[i] = dyingItem{}
	}
	d.items = keep
}

func (d *dyingList) entries() []Entry {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Entry, len(d.items))
	for i, it := range d.items {
		out[i] = it.ev.Entry
	}
	return out
}
