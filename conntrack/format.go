package conntrack

import (
	"encoding/json"
	"strconv"
	"time"
)

// Entry is a snapshot of a Conn as listings, filters, events and JSON see
// it. It is a plain value: it stays valid after the entry is gone.
type Entry struct {
	Orig, Reply Tuple
	Zone        uint16
	Status      Status
	Mark        uint32
	State       TCPState // TCP only
	// Timeout is the remaining lifetime in whole seconds, rounded down as
	// conntrack shows it.
	Timeout uint32
	Use     int32
	ID      uint32
	Helper  string
	// Acct is set when the entry has counters (accounting was on at its
	// creation); Packets and Bytes are indexed by Dir.
	Acct    bool
	Packets [2]uint64
	Bytes   [2]uint64
	// Timestamp is set when timestamps were on at creation; Age is then
	// the entry's age in whole seconds (delta-time).
	Timestamp bool
	Age       uint64
}

// Snapshot returns c as an Entry at now.
func (t *Table) Snapshot(c *Conn, now int64) Entry { return t.snapshot(c, now) }

func (t *Table) snapshot(c *Conn, now int64) Entry {
	// Tuples and helper are fixed once confirmed; before that the owning
	// worker may still change them under c.mu (NAT), as may the TCP state.
	c.mu.Lock()
	e := Entry{
		Orig: c.tuple[Original], Reply: c.tuple[Reply],
		Zone: c.zone, Helper: helperName(c.helper),
	}
	if e.Orig.Proto == ProtoTCP {
		e.State = c.tcp.state
	}
	c.mu.Unlock()
	e.Status = c.Status()
	e.Mark = c.Mark()
	e.Use = c.Use()
	e.ID = c.ID()
	e.Timeout = uint32(c.Timeout(now) / time.Second)
	if c.ext != nil && c.ext.hasAcct {
		e.Acct = true
		for d := Original; d <= Reply; d++ {
			e.Packets[d], e.Bytes[d] = c.Counters(d)
		}
	}
	if t.cfg.Timestamp && now > c.start {
		e.Timestamp = true
		e.Age = uint64((now - c.start) / int64(time.Second))
	}
	return e
}

// FormatOpts are conntrack's -o options that change the text form.
type FormatOpts struct {
	Extended bool // -o extended: "ipv4     2 " prefix
	ID       bool // -o id: " id=N" after use=
}

// appendPadded appends s left-aligned in a field of w, then " n " (the
// "%-8s %u " of libnetfilter_conntrack).
func appendPadded(b []byte, s string, w int, n uint64) []byte {
	b = append(b, s...)
	for i := len(s); i < w; i++ {
		b = append(b, ' ')
	}
	b = append(b, ' ')
	b = strconv.AppendUint(b, n, 10)
	return append(b, ' ')
}

func appendCounters(b []byte, e *Entry, d Dir) []byte {
	if !e.Acct {
		return b
	}
	b = appendKV(b, "packets", e.Packets[d])
	return appendKV(b, "bytes", e.Bytes[d])
}

// entryFields controls the optional parts of the line, which differ
// between a listing and an event message.
type entryFields struct {
	timeout, state, counters, mark, use, ageStamp bool
}

func (e *Entry) appendLine(b []byte, o FormatOpts, f entryFields) []byte {
	start := len(b)
	if o.Extended {
		b = appendPadded(b, e.Orig.Family.String(), 8, uint64(e.Orig.Family))
	}
	b = appendPadded(b, ProtoName(e.Orig.Proto), 8, uint64(e.Orig.Proto))
	if f.timeout {
		b = strconv.AppendUint(b, uint64(e.Timeout), 10)
		b = append(b, ' ')
	}
	if f.state && e.Orig.Proto == ProtoTCP {
		b = append(b, e.State.String()...)
		b = append(b, ' ')
	}
	b = appendTuple(b, &e.Orig)
	b = append(b, ' ')
	if f.counters {
		b = appendCounters(b, e, Original)
	}
	if e.Status&StatusSeenReply == 0 {
		b = append(b, "[UNREPLIED] "...)
	}
	b = appendTuple(b, &e.Reply)
	b = append(b, ' ')
	if f.counters {
		b = appendCounters(b, e, Reply)
	}
	switch {
	case e.Status&StatusHWOffload != 0:
		b = append(b, "[HW_OFFLOAD] "...)
	case e.Status&StatusOffload != 0:
		b = append(b, "[OFFLOAD] "...)
	case e.Status&StatusAssured != 0:
		b = append(b, "[ASSURED] "...)
	}
	if f.mark {
		b = appendKV(b, "mark", uint64(e.Mark))
	}
	if e.Zone != 0 {
		b = appendKV(b, "zone", uint64(e.Zone))
	}
	if f.ageStamp && e.Timestamp {
		b = appendKV(b, "delta-time", e.Age)
	}
	if e.Helper != "" {
		b = append(b, "helper="...)
		b = append(b, e.Helper...)
		b = append(b, ' ')
	}
	if f.use {
		b = appendKV(b, "use", uint64(e.Use))
	}
	if o.ID {
		b = appendKV(b, "id", uint64(e.ID))
	}
	if len(b) > start && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return b
}

// AppendText appends the entry as conntrack -L prints it (cli-formats.md
// A.2), without the newline.
func (e *Entry) AppendText(b []byte, o FormatOpts) []byte {
	return e.appendLine(b, o, entryFields{timeout: true, state: true, counters: true, mark: true, use: true, ageStamp: true})
}

// String returns the entry's default conntrack -L line.
func (e Entry) String() string { return string(e.AppendText(nil, FormatOpts{})) }

// AppendEvent appends ev as conntrack -E prints it: the tag right-aligned
// in nine columns, then the entry with the fields the kernel puts in an
// event message (ctnetlink_conntrack_event): the TCP state only when it is
// new or changed, the timeout except on a DESTROY of an expired entry,
// the mark only when set or changed, counters only on DESTROY, never use=.
func AppendEvent(b []byte, ev *Event, o FormatOpts) []byte {
	tag := "[" + ev.Type.String() + "]"
	for i := len(tag); i < 9; i++ {
		b = append(b, ' ')
	}
	b = append(b, tag...)
	b = append(b, ' ')
	e := &ev.Entry
	f := entryFields{
		timeout: ev.Type != EventDestroy || e.Timeout != 0,
		state:   ev.Type == EventDestroy || ev.Bits&evProtoinfo != 0,
		mark:    e.Mark != 0 || ev.Bits&evMark != 0,
	}
	if ev.Type == EventDestroy {
		f.counters = true
	}
	b = e.appendLine(b, o, f)
	if ev.Portid != 0 {
		b = append(b, " [USERSPACE] portid="...)
		b = strconv.AppendUint(b, uint64(ev.Portid), 10)
	}
	return b
}

// AppendText appends the expectation as conntrack -L expect prints it
// (cli-formats.md A.7).
func (x *ExpectEntry) AppendText(b []byte) []byte {
	b = strconv.AppendUint(b, uint64(x.Timeout), 10)
	b = append(b, ' ')
	b = appendKV(b, "proto", uint64(x.Tuple.Proto))
	b = appendTuple(b, &x.Tuple)
	b = append(b, " mask-src="...)
	b = bytesAddr(x.Tuple.Family, &x.Mask.Src).AppendTo(b)
	b = append(b, " mask-dst="...)
	b = bytesAddr(x.Tuple.Family, &x.Mask.Dst).AppendTo(b)
	m := x.Mask
	m.Proto = x.Tuple.Proto
	b = appendL4(b, &m)
	b = append(b, " master-src="...)
	b = x.Master.SrcAddr().AppendTo(b)
	b = append(b, " master-dst="...)
	b = x.Master.DstAddr().AppendTo(b)
	b = appendL4(b, &x.Master)
	b = append(b, ' ')
	if x.Zone != 0 {
		b = appendKV(b, "zone", uint64(x.Zone))
	}
	if x.Flags != 0 {
		sep := ""
		for _, f := range []struct {
			bit  ExpectFlags
			name string
		}{{ExpectPermanent, "PERMANENT"}, {ExpectInactive, "INACTIVE"}, {ExpectUserspace, "USERSPACE"}} {
			if x.Flags&f.bit != 0 {
				b = append(b, sep...)
				b = append(b, f.name...)
				sep = ","
			}
		}
		b = append(b, ' ')
	}
	b = appendKV(b, "class", uint64(x.Class))
	if x.Helper != "" {
		b = append(b, "helper="...)
		b = append(b, x.Helper...)
		b = append(b, ' ')
	}
	return b[:len(b)-1]
}

// jsonTuple is one direction in the JSON form.
type jsonTuple struct {
	Src     string  `json:"src"`
	Dst     string  `json:"dst"`
	Sport   *uint16 `json:"sport,omitempty"`
	Dport   *uint16 `json:"dport,omitempty"`
	Type    *uint8  `json:"type,omitempty"`
	Code    *uint8  `json:"code,omitempty"`
	ICMPID  *uint16 `json:"id,omitempty"`
	SrcKey  *uint16 `json:"srckey,omitempty"`
	DstKey  *uint16 `json:"dstkey,omitempty"`
	Packets *uint64 `json:"packets,omitempty"`
	Bytes   *uint64 `json:"bytes,omitempty"`
}

func makeJSONTuple(t Tuple, e *Entry, d Dir) jsonTuple {
	j := jsonTuple{Src: t.SrcAddr().String(), Dst: t.DstAddr().String()}
	switch {
	case hasPorts(t.Proto):
		j.Sport, j.Dport = &t.SrcPort, &t.DstPort
	case isICMP(t.Proto):
		typ, code, id := t.ICMPType(), t.ICMPCode(), t.ICMPID()
		j.Type, j.Code, j.ICMPID = &typ, &code, &id
	case t.Proto == ProtoGRE:
		j.SrcKey, j.DstKey = &t.SrcPort, &t.DstPort
	}
	if e.Acct {
		p, b := e.Packets[d], e.Bytes[d]
		j.Packets, j.Bytes = &p, &b
	}
	return j
}

// jsonEntry is the JSON form of an Entry: one object per entry.
type jsonEntry struct {
	Family    string    `json:"family"`
	Proto     string    `json:"proto"`
	ProtoNum  uint8     `json:"protonum"`
	State     string    `json:"state,omitempty"`
	Timeout   uint32    `json:"timeout"`
	Orig      jsonTuple `json:"orig"`
	Reply     jsonTuple `json:"reply"`
	Status    []string  `json:"status"`
	Mark      uint32    `json:"mark"`
	Zone      uint16    `json:"zone"`
	Helper    string    `json:"helper,omitempty"`
	DeltaTime *uint64   `json:"delta_time,omitempty"`
	Use       int32     `json:"use"`
	ID        uint32    `json:"id"`
}

// MarshalJSON renders the entry as one JSON object with the fields family,
// proto, protonum, state (TCP), timeout, orig and reply ({src, dst, and
// sport/dport, type/code/id or srckey/dstkey, plus packets/bytes with
// accounting}), status (the set bits by name, plus UNREPLIED when no reply
// was seen), mark, zone, helper, delta_time (with timestamps), use and id.
func (e Entry) MarshalJSON() ([]byte, error) {
	j := jsonEntry{
		Family: e.Orig.Family.String(), Proto: ProtoName(e.Orig.Proto), ProtoNum: e.Orig.Proto,
		Timeout: e.Timeout, Orig: makeJSONTuple(e.Orig, &e, Original),
		Reply: makeJSONTuple(e.Reply, &e, Reply), Status: []string{},
		Mark: e.Mark, Zone: e.Zone, Helper: e.Helper, Use: e.Use, ID: e.ID,
	}
	if e.Orig.Proto == ProtoTCP {
		j.State = e.State.String()
	}
	for _, n := range statusNames {
		if e.Status&n.bit != 0 {
			j.Status = append(j.Status, n.name)
		}
	}
	if e.Status&StatusSeenReply == 0 {
		j.Status = append(j.Status, "UNREPLIED")
	}
	if e.Timestamp {
		age := e.Age
		j.DeltaTime = &age
	}
	return json.Marshal(j)
}
