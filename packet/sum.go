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
