package conntrack

import (
	"errors"
	"strconv"
	"time"
)

// This file executes parsed conntrack commands against a Table: what the
// kernel's ctnetlink answers to conntrack-tools, and what conntrack-tools
// then prints on stdout. gofwd serves it on its control socket.

// Exec runs c and returns its standard output. Entries come one per line
// in every format, so a client can count them for the summary line
// (Command.Summary). Failures are worded as conntrack-tools words the
// kernel's answers. -E is served by Events instead.
func (t *Table) Exec(c *Command) ([]byte, *CmdError) {
	now := t.cfg.Clock()
	if c.Out.KTimestamp && t.cfg.Timestamp {
		// With timestamps on, conntrack -o ktimestamp prints the
		// kernel's wall-clock start and stop times, which gofw does
		// not keep; saying so beats printing something else.
		return nil, paramErr("output format `ktimestamp' is not supported by gofw: it keeps no wall-clock start times (delta-time is in the default output)")
	}
	switch c.Op {
	case OpList:
		return t.execList(c, now)
	case OpExpList:
		var b []byte
		for _, x := range t.ListExpect(now) {
			if c.Filter.Family != 0 && x.Tuple.Family != c.Filter.Family {
				continue
			}
			if c.Out.Timestamp {
				b = appendExpectStamp(b, time.Now())
			}
			b = x.AppendText(b)
			b = append(b, '\n')
		}
		if c.Out.JSON && len(b) > 0 {
			return nil, paramErr("output format `json' is not supported for expectations")
		}
		return b, nil
	case OpGet:
		return t.execGet(c, now)
	case OpDelete:
		return t.execDelete(c, now), nil
	case OpUpdate:
		return t.execUpdate(c, now), nil
	case OpCreate, OpAdd:
		return nil, t.execCreate(c, now)
	case OpFlush:
		if c.Filter.Family != 0 {
			// A flush for one family (ctnetlink_flush_conntrack with
			// an l3 filter) deletes that family's entries.
			f := Filter{Family: c.Filter.Family}
			t.deleteFrom(&f, now, c.Portid)
		} else {
			t.flushFrom(now, c.Portid)
		}
		return nil, nil
	case OpExpFlush:
		t.FlushExpect(now)
		return nil, nil
	case OpCount:
		return append(strconv.AppendInt(nil, int64(t.Count()), 10), '\n'), nil
	case OpExpCount:
		return append(strconv.AppendInt(nil, int64(t.ExpectCount()), 10), '\n'), nil
	case OpStats:
		return append(t.Stats().AppendText(nil, 0), '\n'), nil
	case OpExpStats:
		return append(t.Stats().AppendExpectText(nil, 0), '\n'), nil
	case OpVersion:
		return []byte(Version), nil
	case OpHelp, OpUsage:
		return []byte(c.Help("gofw conntrack")), nil
	case OpExpCreate, OpExpDelete, OpExpGet:
		return nil, paramErr("gofw does not create, get or delete single expectations: its helpers own them (use -L expect, -F expect)")
	}
	return nil, paramErr("-E streams events: it is not a one-shot request")
}

func (c *Command) format() FormatOpts {
	return FormatOpts{Extended: c.Out.Extended, ID: c.Out.ID}
}

// appendEntry appends e as one output line.
func (c *Command) appendEntry(b []byte, e *Entry) []byte {
	if c.Out.JSON {
		j, _ := e.MarshalJSON()
		b = append(b, j...)
	} else {
		b = e.AppendText(b, c.format())
	}
	return append(b, '\n')
}

// appendExpectStamp is the "[%-8ld.%-6ld]\t" prefix conntrack-tools puts
// before expectations with -o timestamp (left-aligned fields).
func appendExpectStamp(b []byte, now time.Time) []byte {
	b = append(b, '[')
	n := len(b)
	b = strconv.AppendInt(b, now.Unix(), 10)
	for len(b)-n < 8 {
		b = append(b, ' ')
	}
	b = append(b, '.')
	n = len(b)
	b = strconv.AppendInt(b, int64(now.Nanosecond()/1000), 10)
	for len(b)-n < 6 {
		b = append(b, ' ')
	}
	return append(b, "]\t"...)
}

// appendEventStamp is the "[%-.8ld.%-.6ld]\t" prefix of -E -o timestamp
// (zero-padded fields).
func appendEventStamp(b []byte, now time.Time) []byte {
	s := strconv.FormatInt(now.Unix(), 10)
	u := strconv.Itoa(now.Nanosecond() / 1000)
	b = append(b, '[')
	for i := len(s); i < 8; i++ {
		b = append(b, '0')
	}
	b = append(b, s...)
	b = append(b, '.')
	for i := len(u); i < 6; i++ {
		b = append(b, '0')
	}
	b = append(b, u...)
	return append(b, "]\t"...)
}

// statusFilterEmpty is the -u that the kernel's dump filter refuses: no
// bit to test at all (-u UNSET, or only ignored names).
func (c *Command) statusFilterEmpty() bool {
	return c.HasStatus && c.Status == 0 && c.NotStatus == 0
}

func (t *Table) execList(c *Command, now int64) ([]byte, *CmdError) {
	var b []byte
	if c.List != ListConntrack {
		for _, e := range t.List(c.List, nil, now) {
			if c.Match(&e) {
				b = c.appendEntry(b, &e)
			}
		}
		return b, nil
	}
	if c.statusFilterEmpty() {
		// ctnetlink_alloc_filter: a status filter with a zero mask
		// is -EINVAL.
		return nil, failErr("Operation failed: invalid parameters")
	}
	t.forEachLive(now, func(x *Conn) {
		e := t.snapshot(x, now)
		if !c.Match(&e) {
			return
		}
		b = c.appendEntry(b, &e)
		if c.Zero && x.ext != nil {
			// IPCTNL_MSG_CT_GET_CTRZERO: dump, then zero.
			for d := range x.ext.acct {
				x.ext.acct[d].packets.Store(0)
				x.ext.acct[d].bytes.Store(0)
			}
		}
	})
	return b, nil
}

// forEachLive calls fn for every confirmed entry that has not expired.
// Expired ones met on the way are deleted, as ctnetlink's dump evicts
// them (ctnetlink_dump_table) rather than show them.
func (t *Table) forEachLive(now int64, fn func(x *Conn)) {
	t.forEach(func(x *Conn) {
		if t.expired(x, now) {
			t.kill(x, now)
			return
		}
		fn(x)
	})
}

// tuples builds the original and reply tuples of -I, -A and -G from the
// command line, as libnetfilter_conntrack's NFCT_SOPT_SETUP_REPLY and
// _ORIGINAL do: a tuple given whole is used, the other is its inverse
// (reply is left zero for Insert to invert). The ICMP options always
// describe the original direction. okOrig tells whether the original
// addresses were given.
func (c *Command) tuples() (orig, reply Tuple, okOrig bool, err *CmdError) {
	var proto uint8
	if c.Filter.Proto != nil {
		proto = *c.Filter.Proto
	}
	u16 := func(p *uint16) uint16 {
		if p == nil {
			return 0
		}
		return *p
	}
	u8 := func(p *uint8) uint8 {
		if p == nil {
			return 0
		}
		return *p
	}
	okOrig = c.OrigSrc.IsValid() && c.OrigDst.IsValid()
	okReply := c.ReplySrc.IsValid() && c.ReplyDst.IsValid()
	if isICMP(proto) {
		src, dst := c.OrigSrc, c.OrigDst
		if !okOrig {
			src, dst = c.ReplyDst, c.ReplySrc
		}
		orig = MakeICMPTuple(src, dst, proto, u8(c.ICMPType), u8(c.ICMPCode), u16(c.ICMPID))
		inv, ok := orig.Invert()
		if !ok {
			// icmp_nlattr_to_tuple: a type with no answer is -EINVAL.
			return orig, reply, okOrig, failErr("Operation failed: invalid parameters")
		}
		if okReply {
			reply = inv
			reply.SetSrcAddr(c.ReplySrc)
			reply.SetDstAddr(c.ReplyDst)
		}
		return orig, reply, okOrig, nil
	}
	if okReply {
		reply = MakeTuple(c.ReplySrc, c.ReplyDst, proto, u16(c.ReplySport), u16(c.ReplyDport))
	}
	if okOrig {
		orig = MakeTuple(c.OrigSrc, c.OrigDst, proto, u16(c.OrigSport), u16(c.OrigDport))
	} else {
		orig, _ = reply.Invert()
	}
	return orig, reply, okOrig, nil
}

func (t *Table) execGet(c *Command, now int64) ([]byte, *CmdError) {
	orig, _, okOrig, err := c.tuples()
	if err != nil {
		return nil, err
	}
	if !okOrig {
		// ctnetlink_get_conntrack is asked with the original tuple
		// only; conntrack-tools sends an incomplete one otherwise.
		return nil, failErr("Operation failed: invalid parameters")
	}
	e, ok := t.Get(orig, 0, now)
	if !ok {
		return nil, failErr("Operation failed: such conntrack doesn't exist")
	}
	if !c.Match(&e) {
		// Found under its reply tuple: conntrack-tools' own filter
		// then drops it (0 entries shown).
		return nil, nil
	}
	e.Use++ // the reference ctnetlink_get_conntrack holds while replying
	return c.appendEntry(nil, &e), nil
}

func (t *Table) execDelete(c *Command, now int64) []byte {
	var b []byte
	t.forEachLive(now, func(x *Conn) {
		e := t.snapshot(x, now)
		if c.Match(&e) && t.killFrom(x, now, c.Portid) {
			b = c.appendEntry(b, &e)
		}
	})
	return b
}

// updateEventBits are the events ctnetlink_new_conntrack and
// ctnetlink_change_conntrack report for any entry created or changed from
// user space, whatever changed.
const updateEventBits = evReply | evAssured | evHelper | evProtoinfo | evMark

// apply makes the changes of -U (and of -A on an existing entry) to x and
// reports whether anything changed; unchanged entries are skipped, as
// conntrack-tools skips them.
func (t *Table) apply(c *Command, x *Conn, e *Entry, now int64) bool {
	changed := false
	if c.HasMark {
		m := (e.Mark &^ c.MarkMask) ^ c.Mark
		if m != e.Mark {
			x.mark.Store(m)
			changed = true
		}
	}
	if c.HasStatus {
		bits := c.Status &^ tableOwnedStatus
		if e.Status&bits != bits {
			x.setStatus(bits)
			changed = true
		}
	}
	if c.HasTimeout && c.Timeout != e.Timeout {
		x.timeout.Store(now + int64(c.Timeout)*int64(time.Second))
		changed = true
	}
	if s := c.Filter.State; s != nil && x.Proto() == ProtoTCP && *s != e.State {
		x.mu.Lock()
		x.tcp.state = *s
		x.mu.Unlock()
		changed = true
	}
	if changed {
		t.publishFrom(x, EventUpdate, updateEventBits, now, c.Portid)
	}
	return changed
}

func (t *Table) execUpdate(c *Command, now int64) []byte {
	var b []byte
	t.forEachLive(now, func(x *Conn) {
		e := t.snapshot(x, now)
		if !c.Match(&e) || !t.apply(c, x, &e, now) {
			return
		}
		e = t.snapshot(x, now)
		e.Use++ // printed through a get, as conntrack-tools does
		b = c.appendEntry(b, &e)
	})
	return b
}

func (t *Table) execCreate(c *Command, now int64) *CmdError {
	orig, reply, _, cerr := c.tuples()
	if cerr != nil {
		return cerr
	}
	if c.Status&StatusExpected != 0 {
		// ctnetlink_change_status refuses bits only the kernel sets.
		return failErr("Operation failed: Device or resource busy")
	}
	spec := InsertSpec{Orig: orig, Reply: reply, Status: c.Status, Mark: c.Mark, Portid: c.Portid}
	if c.Zone != nil {
		spec.Zone = *c.Zone
	}
	spec.Timeout = time.Duration(c.Timeout) * time.Second
	if spec.Timeout == 0 {
		// The kernel takes a zero timeout and the entry expires at
		// once; Insert wants a lifetime, so give it the shortest.
		spec.Timeout = 1
	}
	if c.Filter.State != nil {
		spec.State = *c.Filter.State
	}
	_, err := t.Insert(spec, now)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrExists) && c.Op == OpAdd:
		// -A without NLM_F_EXCL: update the entry that is there.
		if x, _ := t.Lookup(orig, spec.Zone, now); x != nil {
			e := t.snapshot(x, now)
			t.apply(c, x, &e, now)
		}
		return nil
	case errors.Is(err, ErrExists):
		return failErr("Operation failed: Such conntrack exists, try -U to update")
	case errors.Is(err, ErrTableFull):
		return failErr("Operation failed: not enough memory")
	}
	return failErr("Operation failed: invalid parameters")
}

// DefaultEventBuffer is the number of events a -E listener may have
// queued before further ones are lost (about what the kernel's default
// netlink receive buffer holds).
const DefaultEventBuffer = 1024

// eventBuffer turns -b (bytes of socket buffer) into a number of queued
// events, at about 256 bytes per event message.
func (c *Command) eventBuffer() int {
	if c.BufferSize <= 0 {
		return DefaultEventBuffer
	}
	return min(max(c.BufferSize/256, 16), 1<<16)
}

// LostEventsWarning is what gofw conntrack -E prints on stderr when
// events were lost, worded as conntrack-tools' ENOBUFS warning.
const LostEventsWarning = "WARNING: We have hit ENOBUFS! We are losing events.\n" +
	"This message means that the current event buffer size is too small.\n" +
	"Please, check --buffer-size in conntrack(8) manpage.\n"

// Events serves -E and -E expect: it subscribes to the table and calls
// emit with batches of event lines (stdout) and with warnings (stderr),
// until done is closed or emit fails. It never blocks the packet path: a
// listener that does not keep up loses events, and is told so with
// LostEventsWarning, as conntrack-tools is told by ENOBUFS.
func (t *Table) Events(c *Command, done <-chan struct{}, emit func(stdout, stderr string) error) error {
	buf := c.eventBuffer()
	notice := func() error {
		if c.BufferSize <= 0 {
			return nil
		}
		return emit("", "NOTICE: event buffer size has been set to "+strconv.Itoa(buf)+" events.\n")
	}
	if c.Op == OpExpEvent {
		return t.expectEvents(c, buf, done, emit, notice)
	}
	if c.Op != OpEvent {
		return paramErr("not an event command")
	}
	sub := t.Subscribe(buf, c.Events, &c.Filter)
	defer sub.Close()
	if err := notice(); err != nil {
		return err
	}
	var reported uint64
	checkLost := func() error {
		if l := sub.Lost(); l > reported {
			reported = l
			return emit("", LostEventsWarning)
		}
		return nil
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var b []byte
	add := func(ev *Event) {
		if !c.Match(&ev.Entry) {
			return
		}
		if c.Out.Timestamp {
			b = appendEventStamp(b, time.Now())
		}
		if c.Out.JSON {
			j, _ := ev.Entry.MarshalJSON()
			b = append(b, `{"event":"`+ev.Type.String()+`",`...)
			b = append(b, j[1:]...)
		} else {
			b = AppendEvent(b, ev, c.format())
		}
		b = append(b, '\n')
	}
	for {
		select {
		case <-done:
			return nil
		case <-tick.C:
			if err := checkLost(); err != nil {
				return err
			}
		case ev, ok := <-sub.C:
			if !ok {
				return nil
			}
			b = b[:0]
			add(&ev)
			// Send what is queued in one frame, within bounds.
		drain:
			for n := 1; n < 256; n++ {
				select {
				case ev, ok = <-sub.C:
					if !ok {
						break drain
					}
					add(&ev)
				default:
					break drain
				}
			}
			if len(b) > 0 {
				if err := emit(string(b), ""); err != nil {
					return err
				}
			}
			if err := checkLost(); err != nil {
				return err
			}
		}
	}
}

func (t *Table) expectEvents(c *Command, buf int, done <-chan struct{}, emit func(stdout, stderr string) error, notice func() error) error {
	sub := t.SubscribeExpect(buf)
	defer sub.Close()
	if err := notice(); err != nil {
		return err
	}
	var reported uint64
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return nil
		case <-tick.C:
		case ev, ok := <-sub.C:
			if !ok {
				return nil
			}
			if c.Events == 0 || c.Events&ev.Type != 0 {
				var b []byte
				if c.Out.Timestamp {
					b = appendExpectStamp(b, time.Now())
				}
				b = AppendExpectEvent(b, &ev)
				if err := emit(string(append(b, '\n')), ""); err != nil {
					return err
				}
			}
		}
		if l := sub.Lost(); l > reported {
			reported = l
			if err := emit("", LostEventsWarning); err != nil {
				return err
			}
		}
	}
}
