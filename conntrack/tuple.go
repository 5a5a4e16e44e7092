package conntrack

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"strconv"
)

// Family is the layer-3 family of a tuple, numbered as the kernel's
// NFPROTO_* values because conntrack -o extended prints that number
// ("ipv4     2").
type Family uint8

// Families gofw tracks.
const (
	IPv4 Family = 2  // NFPROTO_IPV4
	IPv6 Family = 10 // NFPROTO_IPV6
)

// String returns the family's name as conntrack-tools prints it.
func (f Family) String() string {
	switch f {
	case IPv4:
		return "ipv4"
	case IPv6:
		return "ipv6"
	}
	return "unknown"
}

// IP protocol numbers the trackers know by name.
const (
	ProtoICMP    = 1
	ProtoTCP     = 6
	ProtoUDP     = 17
	ProtoDCCP    = 33
	ProtoGRE     = 47
	ProtoICMPv6  = 58
	ProtoSCTP    = 132
	ProtoUDPLite = 136
)

// ProtoName returns the layer-4 name conntrack-tools prints for proto
// ("unknown" for protocols it has no name for).
func ProtoName(proto uint8) string {
	switch proto {
	case ProtoTCP:
		return "tcp"
	case ProtoUDP:
		return "udp"
	case ProtoUDPLite:
		return "udplite"
	case ProtoSCTP:
		return "sctp"
	case ProtoDCCP:
		return "dccp"
	case ProtoICMP:
		return "icmp"
	case ProtoICMPv6:
		return "icmpv6"
	case ProtoGRE:
		return "gre"
	}
	return "unknown"
}

// hasPorts reports whether proto's tuple carries ports, as the kernel's
// port-based l4 trackers (tcp, udp, udplite, sctp, dccp) do.
func hasPorts(proto uint8) bool {
	switch proto {
	case ProtoTCP, ProtoUDP, ProtoUDPLite, ProtoSCTP, ProtoDCCP:
		return true
	}
	return false
}

func isICMP(proto uint8) bool { return proto == ProtoICMP || proto == ProtoICMPv6 }

// Dir is the direction of a tuple or a packet within its connection, as the
// kernel's enum ip_conntrack_dir.
type Dir uint8

// The two directions. Original is the direction of the packet that created
// the entry.
const (
	Original Dir = 0 // IP_CT_DIR_ORIGINAL
	Reply    Dir = 1 // IP_CT_DIR_REPLY
)

// String returns "ORIGINAL" or "REPLY", the spelling of --ctdir.
func (d Dir) String() string {
	if d == Original {
		return "ORIGINAL"
	}
	return "REPLY"
}

// Tuple identifies one direction of a connection, as the kernel's struct
// nf_conntrack_tuple. It is packed and pointer-free, so it can be compared
// with == and used as a map key.
//
// Addresses are 16 bytes for both families; an IPv4 address occupies the
// first four bytes and the rest is zero (the kernel's union nf_inet_addr).
// The two 16-bit "id" parts are the kernel's src.u / dst.u unions:
//
//	TCP, UDP, UDP-Lite, SCTP, DCCP: SrcPort, DstPort are the ports
//	ICMP, ICMPv6: SrcPort is the query id, DstPort is type<<8 | code
//	GRE: SrcPort, DstPort are the PPTP call ids (keys), 0 otherwise
//	any other protocol: both 0
//
// Ports are in host byte order.
type Tuple struct {
	Src, Dst [16]byte
	SrcPort  uint16
	DstPort  uint16
	Proto    uint8
	Family   Family
}

// MakeTuple returns the tuple of a port-based (or generic) packet from src
// to dst. The family follows src; an IPv4-mapped IPv6 address counts as
// IPv6, as it does on the wire.
func MakeTuple(src, dst netip.Addr, proto uint8, sport, dport uint16) Tuple {
	t := Tuple{Proto: proto, SrcPort: sport, DstPort: dport}
	t.Family, t.Src = addrBytes(src)
	_, t.Dst = addrBytes(dst)
	return t
}

// MakeICMPTuple returns the tuple of an ICMP or ICMPv6 packet, laid out as
// the kernel's icmp_pkt_to_tuple does: id in the source part, type and code
// in the destination part.
func MakeICMPTuple(src, dst netip.Addr, proto, typ, code uint8, id uint16) Tuple {
	return MakeTuple(src, dst, proto, id, uint16(typ)<<8|uint16(code))
}

func addrBytes(a netip.Addr) (Family, [16]byte) {
	var b [16]byte
	if a.Is4() {
		v := a.As4()
		copy(b[:], v[:])
		return IPv4, b
	}
	return IPv6, a.As16()
}

func bytesAddr(f Family, b *[16]byte) netip.Addr {
	if f == IPv4 {
		return netip.AddrFrom4([4]byte{b[0], b[1], b[2], b[3]})
	}
	return netip.AddrFrom16(*b)
}

// SrcAddr returns the source address.
func (t *Tuple) SrcAddr() netip.Addr { return bytesAddr(t.Family, &t.Src) }

// DstAddr returns the destination address.
func (t *Tuple) DstAddr() netip.Addr { return bytesAddr(t.Family, &t.Dst) }

// SetSrcAddr replaces the source address (the family is left alone).
func (t *Tuple) SetSrcAddr(a netip.Addr) { _, t.Src = addrBytes(a) }

// SetDstAddr replaces the destination address (the family is left alone).
func (t *Tuple) SetDstAddr(a netip.Addr) { _, t.Dst = addrBytes(a) }

// ICMPType returns the ICMP type of an ICMP/ICMPv6 tuple.
func (t *Tuple) ICMPType() uint8 { return uint8(t.DstPort >> 8) }

// ICMPCode returns the ICMP code of an ICMP/ICMPv6 tuple.
func (t *Tuple) ICMPCode() uint8 { return uint8(t.DstPort) }

// ICMPID returns the query identifier of an ICMP/ICMPv6 tuple.
func (t *Tuple) ICMPID() uint16 { return t.SrcPort }

// icmpInverse maps an ICMP query type to the type of its answer and back,
// as the invmap of nf_conntrack_proto_icmp.c icmp_invert_tuple. Types not
// listed have no inverse, so no entry can be built for them.
var icmpInverse = [19]int16{
	0: 8, 8: 0, // echo reply, echo request
	13: 14, 14: 13, // timestamp request / reply
	15: 16, 16: 15, // information request / reply
	17: 18, 18: 17, // address mask request / reply
	1: -1, 2: -1, 3: -1, 4: -1, 5: -1, 6: -1, 7: -1, 9: -1, 10: -1, 11: -1, 12: -1,
}

// icmpv6Inverse is the ICMPv6 equivalent (nf_conntrack_proto_icmpv6.c
// invmap): echo 128/129 and node information 139/140.
func icmpv6Inverse(typ uint8) (uint8, bool) {
	switch typ {
	case 128:
		return 129, true
	case 129:
		return 128, true
	case 139:
		return 140, true
	case 140:
		return 139, true
	}
	return 0, false
}

// Invert returns the tuple of a packet travelling the other way, as the
// kernel's nf_ct_invert_tuple: addresses swapped, ports (or GRE keys)
// swapped, ICMP query types mapped to their answers with id and code kept.
// ok is false when the tuple has no inverse (an ICMP type that is not a
// query or an answer); no entry can be created for such a packet.
func (t Tuple) Invert() (inv Tuple, ok bool) {
	inv = Tuple{Src: t.Dst, Dst: t.Src, Proto: t.Proto, Family: t.Family}
	switch t.Proto {
	case ProtoICMP:
		typ := t.ICMPType()
		if int(typ) >= len(icmpInverse) || icmpInverse[typ] < 0 {
			return Tuple{}, false
		}
		inv.SrcPort = t.SrcPort
		inv.DstPort = uint16(icmpInverse[typ])<<8 | uint16(t.ICMPCode())
	case ProtoICMPv6:
		typ, ok := icmpv6Inverse(t.ICMPType())
		if !ok {
			return Tuple{}, false
		}
		inv.SrcPort = t.SrcPort
		inv.DstPort = uint16(typ)<<8 | uint16(t.ICMPCode())
	default:
		// nf_ct_invert_tuple swaps src.u.all and dst.u.all for every
		// other protocol; for generic ones both are zero.
		inv.SrcPort, inv.DstPort = t.DstPort, t.SrcPort
	}
	return inv, true
}

// normalize clears the parts of the tuple the protocol does not use, so a
// caller that left stray ports in a generic tuple cannot split one flow
// into several entries (the kernel's generic pkt_to_tuple fills nothing).
func (t *Tuple) normalize() {
	if hasPorts(t.Proto) || isICMP(t.Proto) || t.Proto == ProtoGRE {
		return
	}
	t.SrcPort, t.DstPort = 0, 0
}

// String renders the tuple the way conntrack prints one direction:
// "src=A dst=B sport=P dport=Q" (or "type=T code=C id=I" for ICMP).
func (t Tuple) String() string {
	return string(appendTuple(nil, &t))
}

func appendTuple(b []byte, t *Tuple) []byte {
	b = append(b, "src="...)
	b = t.SrcAddr().AppendTo(b)
	b = append(b, " dst="...)
	b = t.DstAddr().AppendTo(b)
	return appendL4(b, t)
}

// appendL4 appends the protocol part of a tuple as libnetfilter_conntrack's
// snprintf_default.c __snprintf_proto does, with a leading blank.
func appendL4(b []byte, t *Tuple) []byte {
	switch {
	case hasPorts(t.Proto):
		b = append(b, " sport="...)
		b = strconv.AppendUint(b, uint64(t.SrcPort), 10)
		b = append(b, " dport="...)
		b = strconv.AppendUint(b, uint64(t.DstPort), 10)
	case isICMP(t.Proto):
		b = append(b, " type="...)
		b = strconv.AppendUint(b, uint64(t.ICMPType()), 10)
		b = append(b, " code="...)
		b = strconv.AppendUint(b, uint64(t.ICMPCode()), 10)
		b = append(b, " id="...)
		b = strconv.AppendUint(b, uint64(t.ICMPID()), 10)
	case t.Proto == ProtoGRE:
		b = append(b, " srckey=0x"...)
		b = strconv.AppendUint(b, uint64(t.SrcPort), 16)
		b = append(b, " dstkey=0x"...)
		b = strconv.AppendUint(b, uint64(t.DstPort), 16)
	}
	return b
}

// Hashing. The kernel keys its hash with a random seed (hash_conntrack_raw
// uses siphash with a boot-time key) so that remote peers cannot aim many
// tuples at one bucket; gofw does the same with a per-table seed and a
// wyhash-style multiply-mix, which costs a few nanoseconds.
const (
	hk0 = 0xa0761d6478bd642f
	hk1 = 0xe7037ed1a0b428db
	hk2 = 0x8ebc6af09c88c6e3
	hk3 = 0x589965cc75374cc3
	hk4 = 0x1d8e4e27c47d124f
)

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// hash returns the 64-bit hash of the tuple in zone. Called for every
// packet; must not allocate.
func (t *Tuple) hash(zone uint16, seed uint64) uint64 {
	a := binary.LittleEndian.Uint64(t.Src[0:8])
	b := binary.LittleEndian.Uint64(t.Src[8:16])
	c := binary.LittleEndian.Uint64(t.Dst[0:8])
	d := binary.LittleEndian.Uint64(t.Dst[8:16])
	e := uint64(t.SrcPort) | uint64(t.DstPort)<<16 | uint64(t.Proto)<<32 |
		uint64(t.Family)<<40 | uint64(zone)<<48
	h := mix(a^seed^hk0, b^hk1) ^ mix(c^hk2, d^seed^hk3)
	return mix(h^e^hk4, seed^hk1)
}
