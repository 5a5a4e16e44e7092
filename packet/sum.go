package packet

import "net/netip"

// Checksum returns the Internet checksum (RFC 1071) of b with acc, a one's
// complement sum such as PseudoHeader's, added in: the value a header's
// checksum field takes when the field is zero in b. Targets that build or
// grow a datagram (REJECT's replies, TCPMSS, CHECKSUM) use it; the Set
// methods update checksums incrementally instead. It does not allocate.
func Checksum(b []byte, acc uint64) uint16 { return ^fold(sumBytes(b, acc)) }

// PseudoHeader returns the one's complement sum of the transport
// pseudo-header for a segment of n bytes of proto from src to dst (RFC 9293
// 3.1, RFC 8200 8.1), to hand to Checksum. src and dst must be of one
// family.
func PseudoHeader(src, dst netip.Addr, proto uint8, n int) uint64 {
	var acc uint64
	if src.Is4() {
		s, d := src.As4(), dst.As4()
		acc = sumBytes(s[:], sumBytes(d[:], 0))
	} else {
		s, d := src.As16(), dst.As16()
		acc = sumBytes(s[:], sumBytes(d[:], 0))
	}
	return acc + uint64(proto) + uint64(n)
}

// FinishChecksum computes the TCP or UDP checksum of a packet whose checksum
// was not ready (CsumNotReady) and that gofw rewrote: the kernel treats a
// packet handed back with new bytes as fully checksummed (nfqnl_mangle sets
// CHECKSUM_NONE), so the partial sum the sender left must become the real
// one. It reports whether it filled a checksum.
func (p *Packet) FinishChecksum() bool {
	if !p.CsumNotReady || p.L4Off < 0 || p.Malformed || p.FragOff != 0 || p.MoreFrag {
		return false
	}
	l4 := p.Data[p.L4Off:]
	var at int
	switch p.Proto {
	case ProtoTCP:
		at = 16
	case ProtoUDP:
		at = 6
	default:
		return false
	}
	if len(l4) < at+2 {
		return false
	}
	l4[at], l4[at+1] = 0, 0
	c := Checksum(l4, PseudoHeader(p.Src, p.Dst, p.Proto, len(l4)))
	if c == 0 && p.Proto == ProtoUDP {
		c = 0xffff
	}
	put16(l4[at:], c)
	p.CsumNotReady = false
	return true
}
