package packet

import (
	"encoding/binary"
	"hash/crc32"
	"math/bits"
)

// sumBytes adds b to the one's complement accumulator acc, as 16-bit
// big-endian words (an odd last byte is padded with zero, RFC 1071). b must
// start at an even offset of the checksummed region. The accumulator is a
// plain 64-bit sum with end-around carry; fold reduces it.
func sumBytes(b []byte, acc uint64) uint64 {
	var c uint64
	for len(b) >= 32 {
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b), c)
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b[8:]), c)
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b[16:]), c)
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b[24:]), c)
		b = b[32:]
	}
	for len(b) >= 8 {
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b), c)
		b = b[8:]
	}
	var tail uint64
	if len(b) >= 4 {
		tail = uint64(binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		tail += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		tail += uint64(b[0]) << 8
	}
	acc, c2 := bits.Add64(acc, tail, c)
	return acc + c2 // cannot overflow again: acc+tail+c wrapped, so acc is small
}

// fold reduces a one's complement accumulator to 16 bits (2^16 = 1 modulo
// 0xffff, so folding keeps the sum).
func fold(acc uint64) uint16 {
	acc = acc>>32 + acc&0xffffffff
	acc = acc>>32 + acc&0xffffffff
	for acc>>16 != 0 {
		acc = acc>>16 + acc&0xffff
	}
	return uint16(acc)
}

// pseudoSum is the one's complement sum of the transport pseudo-header
// (RFC 793 / RFC 8200 8.1) for a transport segment of length n.
func (p *Packet) pseudoSum(proto uint8, n int) uint64 {
	d := p.Data
	var acc uint64
	if p.Family == 4 {
		acc = sumBytes(d[12:20], 0)
	} else {
		acc = sumBytes(d[8:40], 0)
	}
	return acc + uint64(proto) + uint64(n)
}

// HeaderChecksumOK reports whether the IPv4 header checksum is right (IPv6
// has none). ip_rcv_core drops a packet with a bad header checksum before
// PREROUTING, so packets from NFQUEUE always pass; gofw trace and capture
// replays should drop a packet that fails, as the kernel would never have
// shown it to netfilter.
func (p *Packet) HeaderChecksumOK() bool {
	if p.Family != 4 || p.HdrLen < 20 {
		return p.Family == 6 && !p.Reason.L3()
	}
	return fold(sumBytes(p.Data[:p.HdrLen], 0)) == 0xffff
}

// ChecksumOK reports whether the transport checksum is right, the way the
// trackers' error functions check it with nf_conntrack_checksum=1: TCP, UDP
// (a zero UDP checksum means "none" and passes, in both families, as
// udp_error has it), UDP-Lite over its coverage, DCCP over its coverage
// (RFC 4340, see dccpCov), ICMP and ICMPv6, and SCTP's CRC32c. The
// sum covers the whole rest of the packet after the transport header start,
// as nf_ip_checksum does (skb->len - dataoff), not just the UDP length.
//
// The engine calls it only for packets received from outside, that is at
// PREROUTING, and only when nf_conntrack_checksum is on: locally generated
// packets may carry a checksum the NIC has yet to fill in (CHECKSUM_PARTIAL),
// which is why the kernel skips the check at other hooks. A false result
// makes the packet INVALID for conntrack; it is not dropped. It costs a pass
// over the payload, so it is a method and not a field Decode fills.
//
// A malformed packet fails. A fragment passes: its checksum covers the whole
// datagram, which the kernel checks only after nf_defrag reassembled it.
func (p *Packet) ChecksumOK() bool {
	if p.Malformed {
		return false
	}
	if p.L4Off < 0 || p.FragOff != 0 || p.MoreFrag {
		return true
	}
	l4 := p.Data[p.L4Off:]
	n := len(l4)
	switch p.Proto {
	case ProtoTCP:
		return fold(sumBytes(l4, p.pseudoSum(ProtoTCP, n))) == 0xffff
	case ProtoUDP:
		if be16(l4[6:]) == 0 {
			return true
		}
		return fold(sumBytes(l4, p.pseudoSum(ProtoUDP, n))) == 0xffff
	case ProtoUDPLite:
		// RFC 3828 3.1: the pseudo-header carries the full length, the
		// sum covers cov bytes. (udplite_error passes IPPROTO_UDP to
		// nf_checksum_partial; gofw follows the RFC, as the UDP-Lite
		// receiver in net/ipv4/udp.c does.)
		cov := int(be16(l4[4:]))
		if cov == 0 || cov > n {
			cov = n
		}
		return fold(sumBytes(l4[:cov], p.pseudoSum(ProtoUDPLite, n))) == 0xffff
	case ProtoDCCP:
		cov := dccpCov(l4, n)
		return fold(sumBytes(l4[:cov], p.pseudoSum(ProtoDCCP, n))) == 0xffff
	case ProtoICMP:
		if p.Family != 4 {
			return true
		}
		return fold(sumBytes(l4, 0)) == 0xffff
	case ProtoICMPv6:
		if p.Family != 6 {
			return true
		}
		return fold(sumBytes(l4, p.pseudoSum(ProtoICMPv6, n))) == 0xffff
	case ProtoSCTP:
		return binary.LittleEndian.Uint32(l4[8:]) == sctpCRC(l4)
	}
	return true
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var zero4 [4]byte

// sctpCRC computes the SCTP CRC32c of the packet b with its checksum field
// taken as zero (RFC 4960 6.8), without copying b. The result goes into the
// header little-endian, as sctp_compute_cksum leaves it.
func sctpCRC(b []byte) uint32 {
	c := crc32.Update(0, castagnoli, b[:8])
	c = crc32.Update(c, castagnoli, zero4[:])
	return crc32.Update(c, castagnoli, b[12:])
}
