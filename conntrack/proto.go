package conntrack

import "time"

// udpStreamAge is how long an entry must exist before a reply makes it a
// stream (the kernel's stream_ts = creation + 2 s).
const udpStreamAge = 2 * time.Second

// udpPacket is nf_conntrack_udp_packet: 30 s until a reply has been seen
// and the entry is older than two seconds, then 120 s and ASSURED. A
// request answered at once stays a 30 s, unassured entry.
func (t *Table) udpPacket(c *Conn, seg *Segment, info CtInfo, now int64, ev *uint32) pktResult {
	st := c.Status()
	dir := info.Dir()
	if st&StatusSeenReply == 0 {
		c.refresh(t.cfg.Timeouts.UDP, now)
		c.account(dir, seg.Len)
		return resAccept
	}
	extra := t.cfg.Timeouts.UDP
	stream := false
	// Still active after two seconds? Extend (time_after: strictly).
	if now > c.start+int64(udpStreamAge) {
		extra = t.cfg.Timeouts.UDPStream
		stream = st&StatusAssured == 0
	}
	c.refresh(extra, now)
	c.account(dir, seg.Len)
	// A NAT-clash entry times out soon and is never ASSURED.
	if st&StatusNATClash == 0 && stream && c.setStatus(StatusAssured) {
		*ev |= evAssured
	}
	return resAccept
}

// udpLitePacket is nf_conntrack_udplite_packet: like UDP without the
// two-second rule.
func (t *Table) udpLitePacket(c *Conn, seg *Segment, info CtInfo, now int64, ev *uint32) pktResult {
	st := c.Status()
	if st&StatusSeenReply == 0 {
		c.refresh(t.cfg.Timeouts.UDP, now)
	} else {
		c.refresh(t.cfg.Timeouts.UDPStream, now)
		if st&StatusNATClash == 0 && c.setStatus(StatusAssured) {
			*ev |= evAssured
		}
	}
	c.account(info.Dir(), seg.Len)
	return resAccept
}

// grePacket is nf_conntrack_gre_packet: 30 s unreplied, 180 s and ASSURED
// from the first packet seen after a reply.
func (t *Table) grePacket(c *Conn, seg *Segment, info CtInfo, now int64, ev *uint32) pktResult {
	st := c.Status()
	if st&StatusSeenReply == 0 {
		c.refresh(t.cfg.Timeouts.GRE, now)
	} else {
		c.refresh(t.cfg.Timeouts.GREStream, now)
		if st&StatusNATClash == 0 && c.setStatus(StatusAssured) {
			*ev |= evAssured
		}
	}
	c.account(info.Dir(), seg.Len)
	return resAccept
}

// genericPacket is the kernel's generic_packet: 600 s, refreshed by every
// packet, never ASSURED.
func (t *Table) genericPacket(c *Conn, seg *Segment, info CtInfo, now int64) pktResult {
	c.refresh(t.cfg.Timeouts.Generic, now)
	c.account(info.Dir(), seg.Len)
	return resAccept
}

// icmpValidNew reports whether an ICMP/ICMPv6 type may create an entry:
// only queries (echo, timestamp, information, address mask; ICMPv6 echo
// and node information), as valid_new in the kernel's icmp trackers.
func icmpValidNew(proto, typ uint8) bool {
	if proto == ProtoICMP {
		return typ == 8 || typ == 13 || typ == 15 || typ == 17
	}
	return typ == 128 || typ == 139
}

// icmpPacket is nf_conntrack_icmp_packet / icmpv6_packet: an entry exists
// only for a query; every packet refreshes it to 30 s. The entry is not
// removed when the answer arrives (duplicates must still match) and is
// never ASSURED.
func (t *Table) icmpPacket(c *Conn, seg *Segment, info CtInfo, now int64) pktResult {
	o := &c.tuple[Original]
	if !icmpFamilyOK(o) || !icmpValidNew(o.Proto, o.ICMPType()) {
		return resInvalid // "can't create new conn with this type"
	}
	to := t.cfg.Timeouts.ICMP
	if o.Proto == ProtoICMPv6 {
		to = t.cfg.Timeouts.ICMPv6
	}
	c.refresh(to, now)
	c.account(info.Dir(), seg.Len)
	return resAccept
}

// icmpFamilyOK reports whether an ICMP tuple travels in its own family:
// ICMP in IPv4, ICMPv6 in IPv6. The kernel's trackers refuse the other
// combinations (state->pf checks), so such a packet is INVALID.
func icmpFamilyOK(t *Tuple) bool {
	return (t.Proto == ProtoICMP && t.Family == IPv4) || (t.Proto == ProtoICMPv6 && t.Family == IPv6)
}

// icmpIsError reports whether an ICMP type is an error that quotes a
// packet: destination unreachable, source quench, redirect, time exceeded,
// parameter problem (icmp_is_err).
func icmpIsError(typ uint8) bool {
	switch typ {
	case 3, 4, 5, 11, 12:
		return true
	}
	return false
}

// icmpv6Untracked reports whether an ICMPv6 type is neighbour discovery or
// MLD, which the kernel marks UNTRACKED (noct_valid_new): MLD query,
// report, done, router and neighbour solicitation and advertisement, MLDv2
// report, multicast router advertisement and solicitation.
func icmpv6Untracked(typ uint8) bool {
	switch typ {
	case 130, 131, 132, 133, 134, 135, 136, 143, 151, 152:
		return true
	}
	return false
}

// icmpError is the error path of the kernel's icmp trackers
// (icmp_error, icmpv6_error and nf_conntrack_inet_error). done is false
// for a packet that is not an error: it is tracked normally. An error is
// RELATED (or RELATED_REPLY) to the entry of the packet it quotes, and
// INVALID when there is none; it changes nothing in the entry.
func (t *Table) icmpError(seg *Segment, tu *Tuple, now int64) (c *Conn, info CtInfo, done bool) {
	typ := tu.ICMPType()
	if tu.Proto == ProtoICMP {
		if typ > 18 { // NR_ICMP_TYPES
			t.stats.error.Add(1) // "invalid icmp type"
			return nil, Invalid, true
		}
		if !icmpIsError(typ) {
			return nil, 0, false
		}
	} else {
		if icmpv6Untracked(typ) {
			return nil, Untracked, true
		}
		// Types from 128 on are informational, except redirect (137),
		// which the kernel checks and then treats as an error; gofw's
		// decoder flags a redirect that fails those checks Malformed.
		if typ >= 128 && typ != 137 {
			return nil, 0, false
		}
	}
	// The quoted packet was sent by the receiver of this error; its
	// entry is found under the inverse of its tuple.
	inner := seg.Inner
	inner.normalize()
	inv, ok := inner.Invert()
	if !ok {
		t.stats.error.Add(1)
		return nil, Invalid, true
	}
	c, dir := t.find(&inv, seg.Zone, now)
	if c == nil {
		t.stats.error.Add(1)
		return nil, Invalid, true
	}
	// The error must travel to the address the found direction sends to;
	// its source is not checked (any router may report).
	if c.tuple[dir].Dst != tu.Dst {
		t.stats.error.Add(1) // "outer daddr mismatch"
		return nil, Invalid, true
	}
	if dir == Reply {
		return c, RelatedReply, true
	}
	return c, Related, true
}
