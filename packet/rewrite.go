package packet

import (
	"encoding/binary"
	"net/netip"
)

// Rewrites change Data in place and keep every checksum right by updating
// it incrementally (RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m')), the way
// nf_nat_proto.c does with csum_replace4 and inet_proto_csum_replace*, so a
// rewrite costs the same for a 40-byte ACK as for a 64 KiB datagram. They
// also update the decoded fields, so the packet reads as if decoded anew,
// and set Changed.
//
// Each rewrite returns false, changing nothing, when the packet has no such
// header (a malformed network header, an address of the other family, no
// ports, not an ICMP query, no quoted datagram). nf_nat_packet drops a packet
// whose manip fails, and the datapath should do the same.
//
// Rewrites are called on the packet path; they must not allocate.

// csumDelta is a pending checksum change: the one's complement sum of
// ~old + new over the changed 16-bit words.
type csumDelta uint64

func (d *csumDelta) word(old, new uint16) { *d += csumDelta(^old) + csumDelta(new) }

// bytes adds the change of an even-length field that starts at an even
// offset of the checksummed region.
func (d *csumDelta) bytes(old, new []byte) {
	for i := 0; i+1 < len(old); i += 2 {
		d.word(be16(old[i:]), be16(new[i:]))
	}
}

func put16(b []byte, v uint16) { binary.BigEndian.PutUint16(b, v) }

// csumKind says how a transport checksum field is updated.
type csumKind uint8

const (
	csumNone    csumKind = iota // no checksum in reach, or not an Internet checksum (SCTP)
	csumPlain                   // TCP, DCCP, ICMP, ICMPv6
	csumUDP                     // 0 means "no checksum" and stays 0; a computed 0 is sent as 0xffff
	csumUDPLite                 // always present; a computed 0 is sent as 0xffff
)

// apply adds d to the checksum at off and returns its old and new value.
// A UDP result of 0 becomes 0xffff (CSUM_MANGLED_0), as __udp_manip_pkt
// does, because 0 would mean "no checksum".
func (p *Packet) apply(off int, kind csumKind, d csumDelta) (old, new uint16) {
	b := p.Data[off : off+2]
	old = be16(b)
	if kind == csumNone || (kind == csumUDP && old == 0) {
		return old, old
	}
	new = ^fold(uint64(^old) + uint64(d))
	if new == 0 && (kind == csumUDP || kind == csumUDPLite) {
		new = 0xffff
	}
	put16(b, new)
	return old, new
}

// l4Csum locates the checksum of a transport header of proto at l4 and says
// how to update it and whether it covers the pseudo-header. A quoted header
// in an ICMP error may stop after 8 bytes; its checksum is updated whenever
// the field lies inside the quote. (tcp_manip_pkt and dccp_manip_pkt wait
// for the whole fixed header; the difference only shows in a quote cut
// inside the header, whose checksum nobody verifies, and updating keeps the
// quote equal to what the rewritten sender would have sent.) SCTP's CRC32c
// cannot be updated incrementally (see setPort).
func (p *Packet) l4Csum(proto uint8, l4 int) (off int, kind csumKind, pseudo bool) {
	if l4 < 0 {
		return 0, csumNone, false
	}
	n := len(p.Data) - l4
	switch proto {
	case ProtoTCP:
		if n >= 18 {
			return l4 + 16, csumPlain, true
		}
	case ProtoUDP:
		if n >= 8 {
			return l4 + 6, csumUDP, true
		}
	case ProtoUDPLite:
		if n >= 8 {
			return l4 + 6, csumUDPLite, true
		}
	case ProtoDCCP:
		if n >= 8 {
			return l4 + 6, csumPlain, true
		}
	case ProtoICMP:
		if n >= 4 && p.Family == 4 {
			return l4 + 2, csumPlain, false
		}
	case ProtoICMPv6:
		if n >= 4 && p.Family == 6 {
			return l4 + 2, csumPlain, true
		}
	}
	return 0, csumNone, false
}

// SetSrc rewrites the source address, as nf_nat_ipv4_manip_pkt /
// nf_nat_ipv6_manip_pkt do for NF_NAT_MANIP_SRC: the IPv4 header checksum
// and the transport checksum (pseudo-header) follow, unless the transport
// header is malformed, which is left as it came. A non-first fragment has
// no transport header; the first fragment's checksum takes the whole change,
// so the reassembled datagram is right.
func (p *Packet) SetSrc(a netip.Addr) bool { return p.setAddr(false, a) }

// SetDst rewrites the destination address, as SetSrc does the source.
func (p *Packet) SetDst(a netip.Addr) bool { return p.setAddr(true, a) }

func (p *Packet) setAddr(dst bool, a netip.Addr) bool {
	off, ok := p.addrOff(0, p.Family, dst, a)
	if !ok || p.Reason.L3() {
		return false
	}
	var d csumDelta
	p.writeAddr(off, a, &d)
	if p.Family == 4 {
		p.apply(10, csumPlain, d)
	}
	// A malformed transport header is treated as absent: its checksum is
	// left alone, so the packet stays as malformed as it came.
	if off, kind, pseudo := p.l4Csum(p.Proto, p.L4Off); pseudo && !p.Malformed {
		p.apply(off, kind, d)
	}
	if dst {
		p.Dst = addrAt(p.Data, off, p.Family)
	} else {
		p.Src = addrAt(p.Data, off, p.Family)
	}
	p.Changed = true
	return true
}

// addrOff returns the offset of the source or destination address of the IP
// header at ip, when a is of the header's family.
func (p *Packet) addrOff(ip int, family uint8, dst bool, a netip.Addr) (int, bool) {
	switch {
	case family == 4 && a.Is4():
		if dst {
			return ip + 16, true
		}
		return ip + 12, true
	case family == 6 && a.Is6():
		if dst {
			return ip + 24, true
		}
		return ip + 8, true
	}
	return 0, false
}

// writeAddr stores a at off and adds the change to d.
func (p *Packet) writeAddr(off int, a netip.Addr, d *csumDelta) {
	if a.Is4() {
		b := a.As4()
		d.bytes(p.Data[off:off+4], b[:])
		copy(p.Data[off:], b[:])
		return
	}
	b := a.As16()
	d.bytes(p.Data[off:off+16], b[:])
	copy(p.Data[off:], b[:])
}

func addrAt(d []byte, off int, family uint8) netip.Addr {
	if family == 4 {
		return netip.AddrFrom4([4]byte(d[off : off+4]))
	}
	return netip.AddrFrom16([16]byte(d[off : off+16]))
}

// SetSrcPort rewrites the transport source port (TCP, UDP, UDP-Lite, SCTP,
// DCCP), as the l4proto manip functions of nf_nat_proto.c do, updating the
// transport checksum. SCTP's CRC32c is recomputed over the packet, as
// sctp_manip_pkt does; an SCTP fragment cannot be rewritten because its CRC
// covers bytes that are not here.
func (p *Packet) SetSrcPort(port uint16) bool { return p.setPort(0, port) }

// SetDstPort rewrites the transport destination port, as SetSrcPort does
// the source port.
func (p *Packet) SetDstPort(port uint16) bool { return p.setPort(2, port) }

func (p *Packet) setPort(at int, port uint16) bool {
	if !p.HasPorts || (p.Proto == ProtoSCTP && p.MoreFrag) {
		return false
	}
	off := p.L4Off + at
	var d csumDelta
	d.word(be16(p.Data[off:]), port)
	put16(p.Data[off:], port)
	if p.Proto == ProtoSCTP {
		l4 := p.Data[p.L4Off:]
		binary.LittleEndian.PutUint32(l4[8:], sctpCRC(l4))
	} else if off, kind, _ := p.l4Csum(p.Proto, p.L4Off); kind != csumNone {
		p.apply(off, kind, d)
	}
	if at == 0 {
		p.SrcPort = port
	} else {
		p.DstPort = port
	}
	p.Changed = true
	return true
}

// isICMP reports whether the packet is a decoded ICMP message of its own
// family (ICMP in IPv4, ICMPv6 in IPv6).
func (p *Packet) isICMP() bool {
	return p.PayloadOff >= 0 && p.L4Off >= 0 &&
		((p.Family == 4 && p.Proto == ProtoICMP) || (p.Family == 6 && p.Proto == ProtoICMPv6))
}

// SetICMPID rewrites the identifier of an ICMP query or reply (echo,
// timestamp, information, address mask; ICMPv6 echo), updating the ICMP
// checksum, as icmp_manip_pkt and icmpv6_manip_pkt do: this is the "port"
// NAT gives ping flows. Other ICMP types have no identifier and return false.
func (p *Packet) SetICMPID(id uint16) bool {
	if !p.isICMP() || !p.icmpHasID(p.Proto, p.ICMPType) {
		return false
	}
	var d csumDelta
	d.word(p.ICMPID, id)
	put16(p.Data[p.L4Off+4:], id)
	p.apply(p.L4Off+2, csumPlain, d)
	p.ICMPID = id
	p.Changed = true
	return true
}

// SetInnerSrc rewrites the source address of the datagram quoted in an ICMP
// error, as nf_nat_icmp_reply_translation does with the inverse manip: the
// quoted IPv4 header checksum, the quoted transport checksum when the quote
// holds it, and the outer ICMP checksum (which covers all those bytes)
// follow. The kernel recomputes the outer checksum in full; the incremental
// update gives the same value for a packet that arrived with a right one.
func (p *Packet) SetInnerSrc(a netip.Addr) bool { return p.setInnerAddr(false, a) }

// SetInnerDst rewrites the destination address of the quoted datagram, as
// SetInnerSrc does the source.
func (p *Packet) SetInnerDst(a netip.Addr) bool { return p.setInnerAddr(true, a) }

func (p *Packet) setInnerAddr(dst bool, a netip.Addr) bool {
	if !p.HasInner {
		return false
	}
	off, ok := p.addrOff(p.InnerOff, p.Family, dst, a)
	if !ok {
		return false
	}
	var d csumDelta
	p.writeAddr(off, a, &d)
	outer := d
	if p.Family == 4 {
		old, new := p.apply(p.InnerOff+10, csumPlain, d)
		outer.word(old, new)
	}
	if off, kind, pseudo := p.l4Csum(p.InnerProto, p.InnerL4Off); pseudo {
		old, new := p.apply(off, kind, d)
		outer.word(old, new)
	}
	p.apply(p.L4Off+2, csumPlain, outer)
	if dst {
		p.InnerDst = addrAt(p.Data, off, p.Family)
	} else {
		p.InnerSrc = addrAt(p.Data, off, p.Family)
	}
	p.Changed = true
	return true
}

// SetInnerSrcPort rewrites the source port of the quoted datagram, updating
// its transport checksum when the quote holds it (not SCTP's CRC32c, which
// the kernel recomputes over the truncated quote and no receiver checks) and
// the outer ICMP checksum.
func (p *Packet) SetInnerSrcPort(port uint16) bool { return p.setInnerPort(0, port) }

// SetInnerDstPort rewrites the destination port of the quoted datagram, as
// SetInnerSrcPort does the source port.
func (p *Packet) SetInnerDstPort(port uint16) bool { return p.setInnerPort(2, port) }

func (p *Packet) setInnerPort(at int, port uint16) bool {
	if !p.HasInner || !p.InnerHasPorts {
		return false
	}
	off := p.InnerL4Off + at
	var d csumDelta
	d.word(be16(p.Data[off:]), port)
	put16(p.Data[off:], port)
	outer := d
	if off, kind, _ := p.l4Csum(p.InnerProto, p.InnerL4Off); kind != csumNone {
		old, new := p.apply(off, kind, d)
		outer.word(old, new)
	}
	p.apply(p.L4Off+2, csumPlain, outer)
	if at == 0 {
		p.InnerSrcPort = port
	} else {
		p.InnerDstPort = port
	}
	p.Changed = true
	return true
}

// SetInnerICMPID rewrites the identifier of a quoted ICMP query (an error
// about a ping), updating the quoted ICMP checksum and the outer one.
func (p *Packet) SetInnerICMPID(id uint16) bool {
	if !p.HasInner || p.InnerProto != p.Proto || !p.icmpHasID(p.InnerProto, p.InnerICMPType) {
		return false
	}
	var d csumDelta
	d.word(p.InnerICMPID, id)
	put16(p.Data[p.InnerL4Off+4:], id)
	outer := d
	old, new := p.apply(p.InnerL4Off+2, csumPlain, d)
	outer.word(old, new)
	p.apply(p.L4Off+2, csumPlain, outer)
	p.InnerICMPID = id
	p.Changed = true
	return true
}

// SetTTL sets the IPv4 TTL or IPv6 hop limit, updating the IPv4 header
// checksum, as ipt_TTL / ip6t_HL do (csum_replace2 on the TTL/protocol
// word).
func (p *Packet) SetTTL(ttl uint8) bool {
	switch {
	case p.Reason.L3() || p.Family == 0:
		return false
	case p.Family == 4:
		var d csumDelta
		old := be16(p.Data[8:])
		p.Data[8] = ttl
		d.word(old, be16(p.Data[8:]))
		p.apply(10, csumPlain, d)
	default:
		p.Data[7] = ttl
	}
	p.TTL = ttl
	p.Changed = true
	return true
}

// SetTOS sets the IPv4 TOS byte or IPv6 traffic class (DSCP and ECN),
// updating the IPv4 header checksum, as xt_DSCP / ipt_ECN do.
func (p *Packet) SetTOS(tos uint8) bool {
	switch {
	case p.Reason.L3() || p.Family == 0:
		return false
	case p.Family == 4:
		var d csumDelta
		old := be16(p.Data[0:])
		p.Data[1] = tos
		d.word(old, be16(p.Data[0:]))
		p.apply(10, csumPlain, d)
	default:
		p.Data[0] = 0x60 | tos>>4
		p.Data[1] = tos<<4 | p.Data[1]&0x0f
	}
	p.TOS = tos
	p.Changed = true
	return true
}
