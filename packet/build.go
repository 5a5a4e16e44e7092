package packet

import (
	"encoding/binary"
	"net/netip"
)

// The builders craft well-formed datagrams with right checksums, for tests
// in every package and for generating capture files. The family follows the
// addresses: IPv4 addresses give an IPv4 datagram, IPv6 addresses an IPv6
// one. They allocate and are not meant for the packet path; handed
// addresses of mixed or unknown family they panic, like any misused test
// helper.

// BuildOpt adjusts a datagram being built.
type BuildOpt func(*buildConf)

type buildConf struct {
	ttl      uint8
	tos      uint8
	id       uint16
	df       bool
	fragOff  uint16 // in 8-byte units
	moreFrag bool
	ipOpts   []byte
	tcpOpts  []byte
	urgent   uint16
	rest     uint32 // ICMP bytes 4-7 of an error
	restSet  bool
	quote    int // bytes of the offending datagram an ICMP error quotes
	noCsum   bool
	badCsum  bool
}

// WithTTL sets the IPv4 TTL or IPv6 hop limit (default 64).
func WithTTL(ttl uint8) BuildOpt { return func(c *buildConf) { c.ttl = ttl } }

// WithTOS sets the IPv4 TOS byte or IPv6 traffic class.
func WithTOS(tos uint8) BuildOpt { return func(c *buildConf) { c.tos = tos } }

// WithID sets the IPv4 identification field (default 1).
func WithID(id uint16) BuildOpt { return func(c *buildConf) { c.id = id } }

// WithDF sets the IPv4 don't-fragment bit.
func WithDF() BuildOpt { return func(c *buildConf) { c.df = true } }

// WithFrag makes the datagram a fragment: offset in 8-byte units and the
// more-fragments flag (IPv6 gets a fragment header). With a nonzero offset
// the payload given to the builder is the fragment's data and no transport
// header is built; use BuildIP.
func WithFrag(off uint16, more bool) BuildOpt {
	return func(c *buildConf) { c.fragOff, c.moreFrag = off, more }
}

// WithIPOptions adds raw IPv4 options (padded with EOL to a multiple of 4).
func WithIPOptions(b []byte) BuildOpt { return func(c *buildConf) { c.ipOpts = b } }

// WithTCPOptions appends raw TCP option bytes (padded with EOL to a
// multiple of 4).
func WithTCPOptions(b []byte) BuildOpt {
	return func(c *buildConf) { c.tcpOpts = append(c.tcpOpts, b...) }
}

// WithMSS adds a TCP maximum segment size option.
func WithMSS(mss uint16) BuildOpt {
	return WithTCPOptions([]byte{TCPOptMSS, 4, byte(mss >> 8), byte(mss)})
}

// WithWScale adds a TCP window scale option, preceded by a NOP as Linux
// sends it.
func WithWScale(shift uint8) BuildOpt {
	return WithTCPOptions([]byte{TCPOptNOP, TCPOptWScale, 3, shift})
}

// WithSACKPerm adds a TCP SACK-permitted option, padded with two NOPs.
func WithSACKPerm() BuildOpt {
	return WithTCPOptions([]byte{TCPOptNOP, TCPOptNOP, TCPOptSACKPerm, 2})
}

// WithSACK adds a TCP SACK option with the given (left, right) edge pairs.
func WithSACK(edges ...uint32) BuildOpt {
	b := []byte{TCPOptNOP, TCPOptNOP, TCPOptSACK, byte(2 + 4*len(edges))}
	for _, e := range edges {
		b = binary.BigEndian.AppendUint32(b, e)
	}
	return WithTCPOptions(b)
}

// WithUrgent sets the TCP urgent pointer.
func WithUrgent(ptr uint16) BuildOpt { return func(c *buildConf) { c.urgent = ptr } }

// WithICMPRest sets bytes 4-7 of an ICMP error (the unused word, the MTU of
// "fragmentation needed", the pointer of a parameter problem, the gateway of
// a redirect).
func WithICMPRest(v uint32) BuildOpt { return func(c *buildConf) { c.rest, c.restSet = v, true } }

// WithQuote sets how many bytes of the offending datagram an ICMP error
// quotes. The default is what Linux's icmp_send quotes: as much as fits in
// 576 bytes (548 after the IPv4 and ICMP headers), or 1280 for ICMPv6.
func WithQuote(n int) BuildOpt { return func(c *buildConf) { c.quote = n } }

// WithNoUDPChecksum leaves the UDP checksum 0 ("none").
func WithNoUDPChecksum() BuildOpt { return func(c *buildConf) { c.noCsum = true } }

// WithBadChecksum flips the transport checksum so that it is wrong, for
// tests of nf_conntrack_checksum.
func WithBadChecksum() BuildOpt { return func(c *buildConf) { c.badCsum = true } }

func conf(opts []BuildOpt) *buildConf {
	c := &buildConf{ttl: 64, id: 1}
	for _, o := range opts {
		o(c)
	}
	return c
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// BuildTCP builds a TCP segment from src to dst with the given flags
// (TCPSyn|TCPAck...), sequence and acknowledgment numbers, window, payload
// and options (WithMSS, WithWScale, WithSACKPerm, WithTCPOptions, and the IP
// options).
func BuildTCP(src, dst netip.AddrPort, flags uint8, seq, ack uint32, win uint16, payload []byte, opts ...BuildOpt) []byte {
	c := conf(opts)
	to := pad4(append([]byte(nil), c.tcpOpts...))
	h := make([]byte, 20+len(to), 20+len(to)+len(payload))
	put16(h[0:], src.Port())
	put16(h[2:], dst.Port())
	binary.BigEndian.PutUint32(h[4:], seq)
	binary.BigEndian.PutUint32(h[8:], ack)
	h[12] = byte((20 + len(to)) / 4 << 4)
	h[13] = flags
	put16(h[14:], win)
	put16(h[18:], c.urgent)
	copy(h[20:], to)
	l4 := append(h, payload...)
	return buildIP(src.Addr(), dst.Addr(), ProtoTCP, l4, 16, c)
}

// BuildUDP builds a UDP datagram from src to dst.
func BuildUDP(src, dst netip.AddrPort, payload []byte, opts ...BuildOpt) []byte {
	c := conf(opts)
	l4 := make([]byte, 8, 8+len(payload))
	put16(l4[0:], src.Port())
	put16(l4[2:], dst.Port())
	put16(l4[4:], uint16(8+len(payload)))
	l4 = append(l4, payload...)
	csumAt := 6
	if c.noCsum {
		csumAt = -1
	}
	return buildIP(src.Addr(), dst.Addr(), ProtoUDP, l4, csumAt, c)
}

// BuildUDPLite builds a UDP-Lite datagram whose checksum covers cov bytes
// (0: all of it, RFC 3828).
func BuildUDPLite(src, dst netip.AddrPort, cov uint16, payload []byte, opts ...BuildOpt) []byte {
	c := conf(opts)
	l4 := make([]byte, 8, 8+len(payload))
	put16(l4[0:], src.Port())
	put16(l4[2:], dst.Port())
	put16(l4[4:], cov)
	l4 = append(l4, payload...)
	return buildIP(src.Addr(), dst.Addr(), ProtoUDPLite, l4, 6, c)
}

// BuildSCTP builds an SCTP packet with the given verification tag and raw
// chunks, with its CRC32c.
func BuildSCTP(src, dst netip.AddrPort, vtag uint32, chunks []byte, opts ...BuildOpt) []byte {
	c := conf(opts)
	l4 := make([]byte, 12, 12+len(chunks))
	put16(l4[0:], src.Port())
	put16(l4[2:], dst.Port())
	binary.BigEndian.PutUint32(l4[4:], vtag)
	l4 = append(l4, chunks...)
	crc := sctpCRC(l4)
	if c.badCsum {
		crc = ^crc
	}
	binary.LittleEndian.PutUint32(l4[8:], crc)
	return buildIP(src.Addr(), dst.Addr(), ProtoSCTP, l4, -1, c)
}

// BuildDCCP builds a DCCP packet of type typ with the 16-byte generic
// header (X=1, 48-bit sequence number seq) and no options.
func BuildDCCP(src, dst netip.AddrPort, typ uint8, seq uint64, payload []byte, opts ...BuildOpt) []byte {
	c := conf(opts)
	l4 := make([]byte, 16, 16+len(payload))
	put16(l4[0:], src.Port())
	put16(l4[2:], dst.Port())
	l4[4] = 4 // data offset in 32-bit words
	l4[8] = typ<<1 | 1
	put16(l4[10:], uint16(seq>>32))
	binary.BigEndian.PutUint32(l4[12:], uint32(seq))
	l4 = append(l4, payload...)
	return buildIP(src.Addr(), dst.Addr(), ProtoDCCP, l4, 6, c)
}

// BuildICMP builds an ICMP (IPv4 addresses) or ICMPv6 (IPv6 addresses)
// message with the identifier and sequence number in bytes 4-7, the layout
// of every query type.
func BuildICMP(src, dst netip.Addr, typ, code uint8, id, seq uint16, payload []byte, opts ...BuildOpt) []byte {
	c := conf(opts)
	l4 := make([]byte, 8, 8+len(payload))
	l4[0], l4[1] = typ, code
	put16(l4[4:], id)
	put16(l4[6:], seq)
	l4 = append(l4, payload...)
	proto := uint8(ProtoICMP)
	if src.Is6() {
		proto = ProtoICMPv6
	}
	return buildIP(src, dst, proto, l4, 2, c)
}

// BuildICMPError builds an ICMP error (or ICMPv6 error, type < 128) from src
// to dst quoting the datagram orig, truncated as WithQuote says.
func BuildICMPError(src, dst netip.Addr, typ, code uint8, orig []byte, opts ...BuildOpt) []byte {
	c := conf(opts)
	q := c.quote
	if q == 0 {
		q = 576 - 20 - 8
		if src.Is6() {
			q = 1280 - 40 - 8
		}
	}
	if q > len(orig) {
		q = len(orig)
	}
	l4 := make([]byte, 8, 8+q)
	l4[0], l4[1] = typ, code
	if c.restSet {
		binary.BigEndian.PutUint32(l4[4:], c.rest)
	}
	l4 = append(l4, orig[:q]...)
	proto := uint8(ProtoICMP)
	if src.Is6() {
		proto = ProtoICMPv6
	}
	return buildIP(src, dst, proto, l4, 2, c)
}

// BuildIP builds a datagram of any protocol around the raw transport bytes
// l4, whose checksum (if any) is the caller's.
func BuildIP(src, dst netip.Addr, proto uint8, l4 []byte, opts ...BuildOpt) []byte {
	return buildIP(src, dst, proto, append([]byte(nil), l4...), -1, conf(opts))
}

// buildIP wraps l4 in an IPv4 or IPv6 header and fills the transport
// checksum at csumAt (-1: none) over the pseudo-header (not for ICMPv4).
func buildIP(src, dst netip.Addr, proto uint8, l4 []byte, csumAt int, c *buildConf) []byte {
	var ip []byte
	if src.Is4() && dst.Is4() {
		opts := pad4(append([]byte(nil), c.ipOpts...))
		ihl := 20 + len(opts)
		ip = make([]byte, ihl, ihl+len(l4))
		ip[0] = 0x40 | byte(ihl/4)
		ip[1] = c.tos
		put16(ip[2:], uint16(ihl+len(l4)))
		put16(ip[4:], c.id)
		fo := c.fragOff & 0x1fff
		if c.df {
			fo |= 0x4000
		}
		if c.moreFrag {
			fo |= 0x2000
		}
		put16(ip[6:], fo)
		ip[8] = c.ttl
		ip[9] = proto
		s, d := src.As4(), dst.As4()
		copy(ip[12:], s[:])
		copy(ip[16:], d[:])
		copy(ip[20:], opts)
		put16(ip[10:], ^fold(sumBytes(ip, 0)))
	} else if src.Is6() && dst.Is6() && !src.Is4In6() && !dst.Is4In6() {
		next := proto
		var ext []byte
		if c.fragOff != 0 || c.moreFrag {
			ext = make([]byte, 8)
			ext[0] = proto
			fo := c.fragOff << 3
			if c.moreFrag {
				fo |= 1
			}
			put16(ext[2:], fo)
			binary.BigEndian.PutUint32(ext[4:], uint32(c.id))
			next = ipv6Fragment
		}
		ip = make([]byte, 40, 40+len(ext)+len(l4))
		binary.BigEndian.PutUint32(ip[0:], 6<<28|uint32(c.tos)<<20)
		put16(ip[4:], uint16(len(ext)+len(l4)))
		ip[6] = next
		ip[7] = c.ttl
		s, d := src.As16(), dst.As16()
		copy(ip[8:], s[:])
		copy(ip[24:], d[:])
		ip = append(ip, ext...)
	} else {
		panic("packet: build: addresses " + src.String() + " and " + dst.String() + " are not both IPv4 or both IPv6")
	}
	if csumAt >= 0 && c.fragOff == 0 {
		var acc uint64
		if proto != ProtoICMP {
			var p Packet
			p.Data = ip
			p.Family = 4
			if src.Is6() {
				p.Family = 6
			}
			acc = p.pseudoSum(proto, len(l4))
		}
		cov := len(l4)
		if proto == ProtoUDPLite {
			if v := int(be16(l4[4:])); v != 0 && v <= len(l4) {
				cov = v
			}
		}
		put16(l4[csumAt:], 0)
		sum := ^fold(sumBytes(l4[:cov], acc))
		if sum == 0 && (proto == ProtoUDP || proto == ProtoUDPLite) {
			sum = 0xffff
		}
		if c.badCsum {
			sum ^= 0x5a5a
		}
		put16(l4[csumAt:], sum)
	}
	return append(ip, l4...)
}

// Fragment splits a well-formed datagram into fragments carrying at most
// size bytes of payload each (size is rounded down to a multiple of 8), as
// ip_do_fragment would, so tests can feed the first, middle and last
// fragment of a real datagram. IPv4 options are copied into every fragment;
// an IPv6 datagram gets a fragment header after the fixed header (its own
// extension headers, if any, travel in the fragmentable part). It panics
// unless dg is a whole, well-formed datagram and size is at least 8.
func Fragment(dg []byte, size int) [][]byte {
	var p Packet
	if Decode(dg, &p) != ReasonNone || p.FragOff != 0 || p.MoreFrag {
		panic("packet: Fragment: not a whole well-formed datagram")
	}
	size &^= 7
	if size <= 0 {
		panic("packet: Fragment: size below 8")
	}
	hl := p.HdrLen
	if p.Family == 6 {
		hl = 40
	}
	hdr, body := p.Data[:hl], p.Data[hl:]
	var out [][]byte
	for off := 0; off < len(body); off += size {
		end := min(off+size, len(body))
		more := end < len(body)
		var f []byte
		if p.Family == 4 {
			f = append(append([]byte(nil), hdr...), body[off:end]...)
			put16(f[2:], uint16(len(f)))
			fo := uint16(off/8) | be16(hdr[6:])&0x4000
			if more {
				fo |= 0x2000
			}
			put16(f[6:], fo)
			put16(f[10:], 0)
			put16(f[10:], ^fold(sumBytes(f[:hl], 0)))
		} else {
			fh := make([]byte, 8)
			fh[0] = hdr[6]
			fo := uint16(off/8) << 3
			if more {
				fo |= 1
			}
			put16(fh[2:], fo)
			binary.BigEndian.PutUint32(fh[4:], 1)
			f = append(append(append([]byte(nil), hdr...), fh...), body[off:end]...)
			f[6] = ipv6Fragment
			put16(f[4:], uint16(len(f)-40))
		}
		out = append(out, f)
	}
	return out
}
