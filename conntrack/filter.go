package conntrack

import "net/netip"

// Filter selects entries the way conntrack-tools' filter options do for
// -L, -D, -G and -E (cli-formats.md A.5). Every set field must match (they
// combine with AND); the zero Filter matches everything. Optional scalars
// are pointers: nil means "not given".
type Filter struct {
	Family Family // -f: 0 means any
	Proto  *uint8 // -p

	// -s/-d (original source/destination) and -r/-q (reply source and
	// destination). An invalid (zero) prefix means not given; a plain
	// address is a full-length prefix.
	OrigSrc, OrigDst, ReplySrc, ReplyDst netip.Prefix

	// --sport/--dport (original) and --reply-port-src/--reply-port-dst.
	OrigSport, OrigDport, ReplySport, ReplyDport *uint16
	// --icmp-type, --icmp-code, --icmp-id (original tuple).
	ICMPType, ICMPCode *uint8
	ICMPID             *uint16

	// State is --state (TCP state).
	State *TCPState
	// Mark is -m V; MarkMask the optional /MASK (0 means all ones).
	Mark     *uint32
	MarkMask uint32
	// Status is -u: every listed bit must be set. Unreplied is the
	// pseudo-status UNREPLIED: SEEN_REPLY must not be set.
	Status    Status
	Unreplied bool
	// Zone is -w.
	Zone *uint16

	// SrcNAT, DstNAT, AnyNAT are -n, -g, -j. With NATAddr they select
	// entries NATed to that address (SNAT: the reply destination; DNAT:
	// the reply source). Without it they use conntrack-tools' heuristic:
	// the original and reply tuples differ in address or layer-4 part,
	// which reports every ICMP entry as both SNAT and DNAT, as the tool
	// does.
	SrcNAT, DstNAT, AnyNAT bool
	NATAddr                netip.Addr
}

// Match reports whether c passes the filter.
func (f *Filter) Match(c *Conn) bool {
	e := Entry{
		Orig: c.tuple[Original], Reply: c.tuple[Reply], Zone: c.zone,
		Status: c.Status(), Mark: c.Mark(),
	}
	if e.Orig.Proto == ProtoTCP {
		e.State = c.TCPState()
	}
	return f.MatchEntry(&e)
}

func prefixHas(p netip.Prefix, a netip.Addr) bool {
	return !p.IsValid() || p.Contains(a)
}

func u16Is(p *uint16, v uint16) bool { return p == nil || *p == v }

// MatchEntry reports whether the snapshot e passes the filter.
func (f *Filter) MatchEntry(e *Entry) bool {
	o, r := &e.Orig, &e.Reply
	if f.Family != 0 && o.Family != f.Family {
		return false
	}
	if f.Proto != nil && o.Proto != *f.Proto {
		return false
	}
	if !prefixHas(f.OrigSrc, o.SrcAddr()) || !prefixHas(f.OrigDst, o.DstAddr()) ||
		!prefixHas(f.ReplySrc, r.SrcAddr()) || !prefixHas(f.ReplyDst, r.DstAddr()) {
		return false
	}
	if !u16Is(f.OrigSport, o.SrcPort) || !u16Is(f.OrigDport, o.DstPort) ||
		!u16Is(f.ReplySport, r.SrcPort) || !u16Is(f.ReplyDport, r.DstPort) {
		return false
	}
	if f.ICMPType != nil && (!isICMP(o.Proto) || o.ICMPType() != *f.ICMPType) {
		return false
	}
	if f.ICMPCode != nil && (!isICMP(o.Proto) || o.ICMPCode() != *f.ICMPCode) {
		return false
	}
	if f.ICMPID != nil && (!isICMP(o.Proto) || o.ICMPID() != *f.ICMPID) {
		return false
	}
	if f.State != nil && (o.Proto != ProtoTCP || e.State != *f.State) {
		return false
	}
	if f.Mark != nil {
		m := f.MarkMask
		if m == 0 {
			m = ^uint32(0)
		}
		if e.Mark&m != *f.Mark&m {
			return false
		}
	}
	if e.Status&f.Status != f.Status {
		return false
	}
	if f.Unreplied && e.Status&StatusSeenReply != 0 {
		return false
	}
	if f.Zone != nil && e.Zone != *f.Zone {
		return false
	}
	if f.SrcNAT || f.DstNAT || f.AnyNAT {
		snat, dnat := e.natted(f.NATAddr)
		switch {
		case f.AnyNAT && !snat && !dnat:
			return false
		case f.SrcNAT && !snat:
			return false
		case f.DstNAT && !dnat:
			return false
		}
	}
	return true
}

// natted tells whether the entry counts as source- and destination-NATed
// for conntrack's -n/-g/-j.
func (e *Entry) natted(to netip.Addr) (snat, dnat bool) {
	o, r := &e.Orig, &e.Reply
	if to.IsValid() {
		return r.DstAddr() == to, r.SrcAddr() == to
	}
	snat = o.Src != r.Dst || o.SrcPort != r.DstPort
	dnat = o.Dst != r.Src || o.DstPort != r.SrcPort
	return snat, dnat
}
