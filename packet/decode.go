package packet

import (
	"encoding/binary"
	"net/netip"
)

// Reason says why Decode marked a packet Malformed. The L3 reasons are the
// checks of ip_rcv_core (a kernel drops such a packet before any netfilter
// hook); the others are the checks of the conntrack trackers' error
// functions (tcp_error, udp_error, icmp_error, dccp_error, sctp_error), which
// make the packet INVALID but still let it through the ruleset.
type Reason uint8

// Reasons, in the order Decode checks them.
const (
	ReasonNone Reason = iota

	// Network layer (ip_rcv_core / ipv6_rcv).
	ReasonShort       // fewer bytes than a minimal IP header
	ReasonVersion     // version nibble is neither 4 nor 6
	ReasonIHL         // IPv4 IHL below 5
	ReasonHdrLen      // IPv4 header (IHL*4) runs past the data
	ReasonTotalLen    // IPv4 total length beyond the data or below IHL*4
	ReasonPayloadLen  // IPv6 payload length beyond the data
	ReasonExtHdr      // IPv6 extension header truncated
	ReasonIPv6Jumbo   // IPv6 payload length 0 (jumbogram), which gofw does not decode
	reasonLastNetwork // marker: reasons above are L3

	// Transport layer (the trackers' error functions).
	ReasonTCPShort      // fewer than 20 bytes of TCP header
	ReasonTCPDataOff    // TCP data offset below 5 or beyond the packet
	ReasonUDPShort      // fewer than 8 bytes of UDP or UDP-Lite header
	ReasonUDPLen        // UDP length field beyond the packet or below 8
	ReasonUDPLiteCov    // UDP-Lite checksum coverage below 8 or beyond the packet
	ReasonUDPLiteNoCsum // UDP-Lite checksum 0, which RFC 3828 forbids
	ReasonICMPShort     // fewer than 8 bytes of ICMP header
	ReasonSCTPShort     // fewer than 12 bytes of SCTP common header
	ReasonDCCPShort     // fewer than 12 bytes of DCCP generic header
	ReasonDCCPDataOff   // DCCP data offset below 3 or beyond the packet
	ReasonDCCPCsCov     // DCCP checksum coverage (RFC 4340 9.2) beyond the packet
	ReasonDCCPType      // DCCP reserved packet type, or a type that needs 48-bit sequence numbers without X
	numReasons
)

var reasonNames = [numReasons]string{
	ReasonNone:          "ok",
	ReasonShort:         "short packet",
	ReasonVersion:       "bad IP version",
	ReasonIHL:           "IHL below 5",
	ReasonHdrLen:        "IP header beyond packet",
	ReasonTotalLen:      "bad total length",
	ReasonPayloadLen:    "bad payload length",
	ReasonExtHdr:        "truncated extension header",
	ReasonIPv6Jumbo:     "jumbogram",
	reasonLastNetwork:   "?",
	ReasonTCPShort:      "truncated TCP header",
	ReasonTCPDataOff:    "bad TCP data offset",
	ReasonUDPShort:      "truncated UDP header",
	ReasonUDPLen:        "bad UDP length",
	ReasonUDPLiteCov:    "invalid UDP-Lite checksum coverage",
	ReasonUDPLiteNoCsum: "UDP-Lite checksum missing",
	ReasonICMPShort:     "truncated ICMP header",
	ReasonSCTPShort:     "truncated SCTP header",
	ReasonDCCPShort:     "truncated DCCP header",
	ReasonDCCPDataOff:   "bad DCCP data offset",
	ReasonDCCPCsCov:     "bad DCCP checksum coverage",
	ReasonDCCPType:      "bad DCCP packet type",
}

// String returns a short lower-case description, worded like the kernel's
// nf_l4proto_log_invalid messages, for logs and per-reason counters.
func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return "?"
}

// L3 reports whether r is a network-layer reason: the IP header itself is
// unusable, so addresses and protocol are unknown. The kernel drops such a
// packet in ip_rcv_core before PREROUTING; gofw only sees one from a capture
// file or a buggy local sender.
func (r Reason) L3() bool { return r != ReasonNone && r < reasonLastNetwork }

// ICMP types gofw treats specially (RFC 792, <linux/icmp.h>).
const (
	ICMPEchoReply      = 0
	ICMPDestUnreach    = 3
	ICMPSourceQuench   = 4
	ICMPRedirect       = 5
	ICMPEcho           = 8
	ICMPTimeExceeded   = 11
	ICMPParamProb      = 12
	ICMPTimestamp      = 13
	ICMPTimestampReply = 14
	ICMPInfoRequest    = 15
	ICMPInfoReply      = 16
	ICMPAddress        = 17
	ICMPAddressReply   = 18
)

// ICMPIsError reports whether an ICMP type is an error that quotes the
// datagram that caused it, as the kernel's icmp_is_err.
func ICMPIsError(typ uint8) bool {
	switch typ {
	case ICMPDestUnreach, ICMPSourceQuench, ICMPRedirect, ICMPTimeExceeded, ICMPParamProb:
		return true
	}
	return false
}

// ICMPIsQuery reports whether an ICMP type is a query or its reply, whose
// bytes 4-5 are an identifier: the types nf_nat_proto.c icmp_manip_pkt
// rewrites the id of.
func ICMPIsQuery(typ uint8) bool {
	switch typ {
	case ICMPEchoReply, ICMPEcho, ICMPTimestamp, ICMPTimestampReply,
		ICMPInfoRequest, ICMPInfoReply, ICMPAddress, ICMPAddressReply:
		return true
	}
	return false
}

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }
func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

// Decode decodes the network-layer datagram data into p, resetting every
// header field of p first (the metadata the datapath set is kept). It returns
// ReasonNone for a well-formed packet; otherwise it sets p.Malformed and
// p.Reason and returns the reason, having decoded as much as could be trusted
// (see Packet.Malformed). Bytes after the IPv4 total length (or IPv6 payload
// length) are trimmed from p.Data, as ip_rcv_core's pskb_trim_rcsum does.
//
// Decode is called for every packet; it must not allocate or panic, whatever
// data holds. p.Data aliases data.
func Decode(data []byte, p *Packet) Reason {
	p.reset(data)
	if len(data) == 0 {
		return p.fail(ReasonShort)
	}
	switch data[0] >> 4 {
	case 4:
		return p.decodeIPv4(data)
	case 6:
		return p.decodeIPv6(data)
	}
	return p.fail(ReasonVersion)
}

// DecodeCapture decodes a packet the kernel handed over cut short at the
// queue's copy range: data is its first bytes and wireLen its whole length
// (NFQA_CAP_LEN). A capture that holds the whole packet is decoded by
// Decode. A shorter one is decoded with p.Truncated set, its length checks
// made against wireLen and every length (TotalLen, WireLen) the packet's
// own; p.Data and Payload then end where the capture does.
//
// ok is false, and nothing decoded, when the capture does not hold every
// header gofw reads: the network header with its options or extension
// headers, then a TCP header with its options or a UDP header (other
// transport protocols, ICMP errors with their quoted packets among them,
// are taken whole). The caller must then look at the packet whole.
//
// Called for every packet; must not allocate or panic.
func DecodeCapture(data []byte, wireLen int, p *Packet) (r Reason, ok bool) {
	if wireLen <= len(data) {
		return Decode(data, p), true
	}
	p.reset(data)
	if !headersCaptured(data) {
		return ReasonNone, false
	}
	p.wire = wireLen
	p.Truncated = true
	if data[0]>>4 == 4 {
		return p.decodeIPv4(data), true
	}
	return p.decodeIPv6(data), true
}

// headersCaptured reports whether data, the start of an IPv4 or IPv6
// packet, holds its headers as DecodeCapture requires.
func headersCaptured(data []byte) bool {
	if len(data) == 0 {
		return false
	}
	var off int
	var proto uint8
	switch data[0] >> 4 {
	case 4:
		if len(data) < 20 {
			return false
		}
		off = int(data[0]&0x0f) * 4
		if off < 20 || off > len(data) {
			return false
		}
		if be16(data[6:])&0x1fff != 0 {
			return true // a non-first fragment: no transport header
		}
		proto = data[9]
	case 6:
		if len(data) < 40 {
			return false
		}
		var frag int
		var ok bool
		off, proto, frag, ok = skipExtHdrs(data, 40, data[6])
		if !ok {
			return false
		}
		if frag >= 0 && frag&^7 != 0 || proto == ipv6NoNext {
			return true
		}
	default:
		return false
	}
	switch proto {
	case ProtoTCP:
		return off+13 <= len(data) && off+int(data[off+12]>>4)*4 <= len(data)
	case ProtoUDP:
		return off+8 <= len(data)
	}
	return false
}

// WireLen is the packet's length: what the IP header says, Data's length
// unless the capture was cut short (Truncated). Counters, the length match
// and conntrack's sequence tracking count with it.
func (p *Packet) WireLen() int {
	if p.Truncated {
		return p.TotalLen
	}
	return len(p.Data)
}

// reset clears the header fields and per-packet verdict flags, leaving the
// metadata (hook, interfaces, mark, owner) the datapath set.
func (p *Packet) reset(data []byte) {
	p.Data = data
	p.wire = len(data)
	p.Truncated = false
	p.Family = 0
	p.HdrLen = 0
	p.TotalLen = 0
	p.Src = netip.Addr{}
	p.Dst = netip.Addr{}
	p.Proto = 0
	p.TTL = 0
	p.TOS = 0
	p.FragOff = 0
	p.MoreFrag = false
	p.IPID = 0
	p.L4Off = -1
	p.PayloadOff = -1
	p.HasPorts = false
	p.SrcPort = 0
	p.DstPort = 0
	p.TCPFlags = 0
	p.Seq = 0
	p.Ack = 0
	p.Window = 0
	p.ICMPType = 0
	p.ICMPCode = 0
	p.ICMPID = 0
	p.TCPHdrLen = 0
	p.DCCPType = 0
	p.HasInner = false
	p.InnerOff = -1
	p.InnerL4Off = -1
	p.InnerProto = 0
	p.InnerSrc = netip.Addr{}
	p.InnerDst = netip.Addr{}
	p.InnerHasPorts = false
	p.InnerSrcPort = 0
	p.InnerDstPort = 0
	p.InnerICMPType = 0
	p.InnerICMPCode = 0
	p.InnerICMPID = 0
	p.Malformed = false
	p.Reason = ReasonNone
	p.Hotdrop = false
	p.Changed = false
}

func (p *Packet) fail(r Reason) Reason {
	p.Malformed = true
	p.Reason = r
	return r
}

// decodeIPv4 mirrors ip_rcv_core's header checks, then decodes the
// transport header unless this is a non-first fragment.
func (p *Packet) decodeIPv4(data []byte) Reason {
	p.Family = 4
	if len(data) < 20 {
		return p.fail(ReasonShort)
	}
	ihl := int(data[0]&0x0f) * 4
	if ihl < 20 {
		return p.fail(ReasonIHL)
	}
	if ihl > len(data) {
		return p.fail(ReasonHdrLen)
	}
	tot := int(be16(data[2:]))
	if tot > p.wire || tot < ihl {
		return p.fail(ReasonTotalLen)
	}
	data = data[:min(tot, len(data))]
	p.Data = data
	p.HdrLen = ihl
	p.TotalLen = tot
	p.TOS = data[1]
	p.IPID = be16(data[4:])
	fo := be16(data[6:])
	p.FragOff = fo & 0x1fff
	p.MoreFrag = fo&0x2000 != 0
	p.TTL = data[8]
	p.Proto = data[9]
	p.Src = netip.AddrFrom4([4]byte(data[12:16]))
	p.Dst = netip.AddrFrom4([4]byte(data[16:20]))
	if p.FragOff != 0 {
		// A non-first fragment carries no transport header, only the
		// middle of the datagram's payload (what iptables -f matches).
		p.PayloadOff = ihl
		return ReasonNone
	}
	return p.decodeL4(ihl)
}

// decodeL4 decodes the transport header at off, applying the length checks
// of each protocol's conntrack error function. A first fragment (MoreFrag)
// carries only the start of the datagram, so a length field that covers more
// than the fragment is not an error there.
func (p *Packet) decodeL4(off int) Reason {
	d := p.Data
	// What the transport part measures on the wire; the header checks
	// below read no further than a capture DecodeCapture accepted holds.
	n := p.TotalLen - off
	p.L4Off = off
	switch p.Proto {
	case ProtoTCP:
		// As nf_conntrack_proto_tcp.c tcp_error.
		if n < 20 {
			return p.failL4(ReasonTCPShort)
		}
		doff := int(d[off+12]>>4) * 4
		if doff < 20 || doff > n {
			return p.failL4(ReasonTCPDataOff)
		}
		p.setPorts(d[off:])
		p.Seq = be32(d[off+4:])
		p.Ack = be32(d[off+8:])
		p.TCPFlags = d[off+13]
		p.Window = be16(d[off+14:])
		p.TCPHdrLen = doff
		p.PayloadOff = off + doff
	case ProtoUDP:
		// As nf_conntrack_proto_udp.c udp_error: a length field shorter
		// than the packet is accepted, a longer one is not.
		if n < 8 {
			return p.failL4(ReasonUDPShort)
		}
		ulen := int(be16(d[off+4:]))
		if ulen < 8 || (ulen > n && !p.MoreFrag) {
			return p.failL4(ReasonUDPLen)
		}
		p.setPorts(d[off:])
		p.PayloadOff = off + 8
	case ProtoUDPLite:
		// As udplite_error: coverage 0 means the whole datagram; the
		// checksum is mandatory.
		if n < 8 {
			return p.failL4(ReasonUDPShort)
		}
		cov := int(be16(d[off+4:]))
		if cov != 0 && (cov < 8 || (cov > n && !p.MoreFrag)) {
			return p.failL4(ReasonUDPLiteCov)
		}
		if be16(d[off+6:]) == 0 {
			return p.failL4(ReasonUDPLiteNoCsum)
		}
		p.setPorts(d[off:])
		p.PayloadOff = off + 8
	case ProtoSCTP:
		// As nf_conntrack_proto_sctp.c sctp_error: the 12-byte common
		// header must be there; chunks are the tracker's business.
		if n < 12 {
			return p.failL4(ReasonSCTPShort)
		}
		p.setPorts(d[off:])
		p.PayloadOff = off + 12
	case ProtoDCCP:
		return p.decodeDCCP(off, n)
	case ProtoICMP, ProtoICMPv6:
		// As nf_conntrack_proto_icmp.c icmp_error and
		// nf_conntrack_proto_icmpv6.c icmpv6_error: 8 bytes of header.
		// ICMP in IPv6 (or ICMPv6 in IPv4) is not ICMP to the kernel's
		// trackers; it is left undecoded like any unknown protocol.
		if (p.Proto == ProtoICMP) != (p.Family == 4) {
			p.PayloadOff = off
			break
		}
		if n < 8 {
			return p.failL4(ReasonICMPShort)
		}
		p.ICMPType = d[off]
		p.ICMPCode = d[off+1]
		if p.icmpHasID(p.Proto, p.ICMPType) {
			p.ICMPID = be16(d[off+4:])
		}
		p.PayloadOff = off + 8
		if p.Family == 4 && ICMPIsError(p.ICMPType) {
			p.decodeInner4(off + 8)
		} else if p.Family == 6 && ICMPv6IsError(p.ICMPType) {
			p.decodeInner6(off + 8)
		}
	default:
		// Protocols gofw does not parse (GRE, ESP, AH, ...): the whole
		// transport part is payload, for matches like esp and u32.
		p.PayloadOff = off
	}
	return ReasonNone
}

// decodeDCCP mirrors nf_conntrack_proto_dccp.c dccp_error, checksum aside
// (and coverage, see dccpCov).
func (p *Packet) decodeDCCP(off, n int) Reason {
	d := p.Data
	if n < 12 {
		return p.failL4(ReasonDCCPShort)
	}
	doff := int(d[off+4]) * 4
	if doff < 12 || doff > n {
		return p.failL4(ReasonDCCPDataOff)
	}
	if dccpCov(d[off:], n) > n {
		return p.failL4(ReasonDCCPCsCov)
	}
	typ := d[off+8] >> 1 & 0x0f
	const dccpInvalid = 10
	// DCCP-Request, -Response, -CloseReq, -Close, -Reset, -Sync, -SyncAck
	// must use 48-bit sequence numbers (RFC 4340 5.1), as dccp_error's
	// require_seq48.
	const requireSeq48 = 1<<0 | 1<<1 | 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<9
	if typ >= dccpInvalid || (requireSeq48&(1<<typ) != 0 && d[off+8]&1 == 0) {
		return p.failL4(ReasonDCCPType)
	}
	p.setPorts(d[off:])
	p.DCCPType = typ
	p.PayloadOff = off + doff
	return ReasonNone
}

// dccpCov returns how many bytes from the DCCP header start its checksum
// covers: all n with CsCov 0, else the header and (CsCov-1)*4 bytes of
// data (RFC 4340 9.2). dccp_error leaves the header out, (CsCov-1)*4 from
// the header start, which makes every valid partial-coverage packet fail its
// checksum; gofw follows the RFC and the kernel's own DCCP stack
// (dccp_csum_coverage).
func dccpCov(h []byte, n int) int {
	cs := int(h[5] & 0x0f)
	if cs == 0 {
		return n
	}
	return int(h[4])*4 + (cs-1)*4
}

// failL4 records a transport-layer fault: the network-layer fields stay
// valid, the transport header is treated as absent.
func (p *Packet) failL4(r Reason) Reason {
	p.PayloadOff = -1
	return p.fail(r)
}

func (p *Packet) setPorts(b []byte) {
	p.SrcPort = be16(b)
	p.DstPort = be16(b[2:])
	p.HasPorts = true
}

// decodeInner4 decodes the datagram quoted by an ICMPv4 error at off: the
// inner IPv4 header and as much of its transport header as the tuple needs,
// as nf_conntrack_core.c nf_ct_get_tuplepr does for nf_conntrack_inet_error
// (ipv4_get_l4proto, then 4 bytes of ports or 8 bytes of ICMP header). A
// quote that gives no tuple (too short, or a non-first fragment, which
// ipv4_get_l4proto refuses) leaves HasInner false. Unlike the kernel, gofw
// also requires version 4 and IHL >= 5 in the quote: anything else cannot be
// the header of a datagram the receiver sent.
func (p *Packet) decodeInner4(off int) {
	d := p.Data
	if len(d)-off < 20 || d[off]>>4 != 4 {
		return
	}
	ihl := int(d[off]&0x0f) * 4
	if ihl < 20 || off+ihl > len(d) {
		return
	}
	if be16(d[off+6:])&0x1fff != 0 {
		return
	}
	proto := d[off+9]
	if !p.decodeInnerL4(off+ihl, proto) {
		return
	}
	p.HasInner = true
	p.InnerOff = off
	p.InnerL4Off = off + ihl
	p.InnerProto = proto
	p.InnerSrc = netip.AddrFrom4([4]byte(d[off+12 : off+16]))
	p.InnerDst = netip.AddrFrom4([4]byte(d[off+16 : off+20]))
}

// decodeInnerL4 reads what nf_ct_get_tuple needs of a quoted transport
// header at l4: the first 4 bytes (ports) for port protocols, the 8-byte
// header for ICMP and ICMPv6, nothing for the rest (addresses-only tuples,
// as the generic tracker). It reports whether the quote was long enough.
func (p *Packet) decodeInnerL4(l4 int, proto uint8) bool {
	d := p.Data
	m := len(d) - l4
	switch proto {
	case ProtoTCP, ProtoUDP, ProtoUDPLite, ProtoSCTP, ProtoDCCP:
		if m < 4 {
			return false
		}
		p.InnerSrcPort = be16(d[l4:])
		p.InnerDstPort = be16(d[l4+2:])
		p.InnerHasPorts = true
	case ProtoICMP, ProtoICMPv6:
		if m < 8 {
			return false
		}
		p.InnerICMPType = d[l4]
		p.InnerICMPCode = d[l4+1]
		if p.icmpHasID(proto, p.InnerICMPType) {
			p.InnerICMPID = be16(d[l4+4:])
		}
	}
	return true
}

// icmpHasID reports whether an ICMP (proto 1) or ICMPv6 (proto 58) message
// of type typ carries a query identifier in bytes 4-5 that NAT may rewrite.
func (p *Packet) icmpHasID(proto, typ uint8) bool {
	if proto == ProtoICMPv6 {
		// nf_nat_proto.c icmpv6_manip_pkt rewrites echo ids only.
		return typ == ICMPv6EchoRequest || typ == ICMPv6EchoReply
	}
	return ICMPIsQuery(typ)
}

// Payload returns the transport payload (for a non-first fragment, the
// fragment's data), or nil when the transport header is malformed. It is a
// sub-slice of Data, not a copy.
func (p *Packet) Payload() []byte {
	if p.PayloadOff < 0 {
		return nil
	}
	return p.Data[p.PayloadOff:]
}
