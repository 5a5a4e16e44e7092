package packet

import "net/netip"

// IPv6 extension headers that Decode walks past to find the transport
// header, as the kernel's ipv6_skip_exthdr (net/ipv6/exthdrs_core.c).
const (
	ipv6HopByHop = 0
	ipv6Routing  = 43
	ipv6Fragment = 44
	ipv6AH       = 51
	ipv6NoNext   = 59
	ipv6DestOpts = 60
)

// ICMPv6 types gofw treats specially (RFC 4443).
const (
	ICMPv6EchoRequest = 128
	ICMPv6EchoReply   = 129
)

// ICMPv6IsError reports whether an ICMPv6 type is an error quoting the
// offending datagram: every type below 128, as nf_conntrack_proto_icmpv6.c
// icmpv6_error.
func ICMPv6IsError(typ uint8) bool { return typ < 128 }

// decodeIPv6 mirrors ipv6_rcv's length checks and trimming, then walks the
// extension headers to the transport header.
func (p *Packet) decodeIPv6(data []byte) Reason {
	p.Family = 6
	if len(data) < 40 {
		return p.fail(ReasonShort)
	}
	plen := int(be16(data[4:]))
	next := data[6]
	if plen == 0 && next == ipv6HopByHop {
		// A jumbogram's length is in a hop-by-hop option (RFC 2675);
		// Linux accepts it only with GSO. gofw leaves it undecoded.
		return p.fail(ReasonIPv6Jumbo)
	}
	if 40+plen > p.wire {
		return p.fail(ReasonPayloadLen)
	}
	data = data[:min(40+plen, len(data))]
	p.Data = data
	p.TotalLen = 40 + plen
	p.TOS = byte(be16(data[0:]) >> 4)
	p.TTL = data[7]
	p.Src = netip.AddrFrom16([16]byte(data[8:24]))
	p.Dst = netip.AddrFrom16([16]byte(data[24:40]))
	off, proto, frag, ok := skipExtHdrs(data, 40, next)
	if !ok {
		p.HdrLen = 40
		return p.fail(ReasonExtHdr)
	}
	p.HdrLen = off
	p.Proto = proto
	if frag >= 0 {
		p.FragOff = uint16(frag >> 3)
		p.MoreFrag = frag&1 != 0
	}
	if p.FragOff != 0 || proto == ipv6NoNext {
		p.PayloadOff = off
		return ReasonNone
	}
	return p.decodeL4(off)
}

// skipExtHdrs walks IPv6 extension headers from off, as ipv6_skip_exthdr
// does, and returns the offset and protocol of what follows them. A
// fragment header stops the walk when its offset is not zero (the rest is
// the middle of a datagram); frag is the fragment header's offset-and-flags
// word, or -1 without one. ok is false when a header runs past data.
func skipExtHdrs(data []byte, off int, next uint8) (end int, proto uint8, frag int, ok bool) {
	frag = -1
	for {
		switch next {
		case ipv6HopByHop, ipv6Routing, ipv6DestOpts, ipv6AH, ipv6Fragment:
		default:
			return off, next, frag, true
		}
		if len(data)-off < 8 {
			return off, next, frag, false
		}
		var hlen int
		switch next {
		case ipv6Fragment:
			frag = int(be16(data[off+2:]))
			hlen = 8
			if frag&^7 != 0 {
				return off + hlen, data[off], frag, true
			}
		case ipv6AH:
			hlen = (int(data[off+1]) + 2) * 4
		default:
			hlen = (int(data[off+1]) + 1) * 8
		}
		if hlen > len(data)-off {
			return off, next, frag, false
		}
		next = data[off]
		off += hlen
	}
}

// decodeInner6 decodes the datagram quoted by an ICMPv6 error at off, as
// nf_ct_get_tuplepr does with ipv6_get_l4proto: the IPv6 header, its
// extension headers (a non-first fragment gives no tuple), then 4 bytes of
// ports or 8 bytes of ICMPv6 header.
func (p *Packet) decodeInner6(off int) {
	d := p.Data
	if len(d)-off < 40 || d[off]>>4 != 6 {
		return
	}
	l4, proto, frag, ok := skipExtHdrs(d, off+40, d[off+6])
	if !ok || (frag >= 0 && frag&^7 != 0) || proto == ipv6NoNext {
		return
	}
	if !p.decodeInnerL4(l4, proto) {
		return
	}
	p.HasInner = true
	p.InnerOff = off
	p.InnerL4Off = l4
	p.InnerProto = proto
	p.InnerSrc = netip.AddrFrom16([16]byte(d[off+8 : off+24]))
	p.InnerDst = netip.AddrFrom16([16]byte(d[off+24 : off+40]))
}
