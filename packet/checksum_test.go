package packet

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"testing"
)

// TestSumBytes cross-checks the 64-bit checksum loop against the textbook
// 16-bit one, over every length up to 300 and every tail case.
func TestSumBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 300; n++ {
		for range 20 {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(r.Uint32())
				if r.IntN(4) == 0 {
					b[i] = 0xff // stress the carries
				}
			}
			if got, want := fold(sumBytes(b, 0)), ^refSum(b); got != want {
				t.Fatalf("len %d %x: fold(sumBytes) = %#04x, want %#04x", n, b, got, want)
			}
		}
	}
	if got := fold(^uint64(0)); got != 0xffff {
		t.Errorf("fold(max) = %#x, want 0xffff", got)
	}
}

// pseudo returns the pseudo-header of a decoded packet, built the slow way.
func pseudo(p *Packet, proto uint8, n int) []byte {
	var b []byte
	if p.Family == 4 {
		b = append(b, p.Data[12:20]...)
		b = append(b, 0, proto)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	} else {
		b = append(b, p.Data[8:40]...)
		b = binary.BigEndian.AppendUint32(b, uint32(n))
		b = append(b, 0, 0, 0, proto)
	}
	return b
}

// TestBuildChecksums checks what the builders produce with the textbook
// sum, so the builders (which share sumBytes) cannot hide a bug in it.
func TestBuildChecksums(t *testing.T) {
	for _, fam := range []string{"198.18.0.", "fd00::"} {
		c, s := fam+"1", fam+"2"
		for _, dg := range [][]byte{
			BuildTCP(ap(c, 1), ap(s, 2), TCPSyn, 1, 0, 9, []byte("odd"), WithMSS(1400)),
			BuildUDP(ap(c, 1), ap(s, 2), []byte("hello, world")),
			BuildDCCP(ap(c, 1), ap(s, 2), 2, 5, []byte("x")),
			BuildUDPLite(ap(c, 1), ap(s, 2), 0, []byte("abc")),
			BuildICMP(ip(c), ip(s), 8, 0, 1, 2, []byte("ping")),
		} {
			var p Packet
			if Decode(dg, &p) != ReasonNone {
				t.Fatalf("%x: %s", dg, dump(&p))
			}
			if p.Family == 4 && refSum(dg[:p.HdrLen]) != 0 {
				t.Errorf("%s proto %d: IPv4 header checksum wrong", fam, p.Proto)
			}
			l4 := dg[p.L4Off:]
			var ps []byte
			if p.Proto != ProtoICMP {
				ps = pseudo(&p, p.Proto, len(l4))
			}
			if refSum(ps, l4) != 0 {
				t.Errorf("%s proto %d: transport checksum wrong: %x", fam, p.Proto, dg)
			}
		}
	}
}

// TestSCTPCRC checks the CRC32c against the iSCSI test vector (RFC 3720
// B.4: 32 zero bytes give 0x8a9136aa) and its little-endian placement
// (RFC 4960 appendix B).
func TestSCTPCRC(t *testing.T) {
	if got := sctpCRC(make([]byte, 32)); got != 0x8a9136aa {
		t.Errorf("sctpCRC(32 zeros) = %#x, want 0x8a9136aa", got)
	}
	dg := BuildSCTP(ap("198.18.0.1", 1), ap("198.18.0.2", 2), 7, make([]byte, 16))
	l4 := append([]byte(nil), dg[20:]...)
	stored := binary.LittleEndian.Uint32(l4[8:])
	clear(l4[8:12])
	if want := crc32.Checksum(l4, crc32.MakeTable(crc32.Castagnoli)); stored != want {
		t.Errorf("stored CRC %#x, want %#x", stored, want)
	}
}

func TestChecksumOK(t *testing.T) {
	c4, s4 := "198.18.0.1", "198.18.0.2"
	c6, s6 := "fd00::1", "fd00::2"
	udpOrig := BuildUDP(ap(s4, 5353), ap(c4, 53), make([]byte, 10))
	flip := func(b []byte, i int) []byte { return mut(b, func(b []byte) { b[i] ^= 0x20 }) }
	tests := []struct {
		name string
		data []byte
		want bool
	}{
		// Right checksums pass, in every protocol.
		{"tcp", BuildTCP(ap(c4, 1), ap(s4, 2), TCPAck, 1, 2, 3, []byte("data")), true},
		{"tcp6", BuildTCP(ap(c6, 1), ap(s6, 2), TCPAck, 1, 2, 3, []byte("data")), true},
		{"udp", BuildUDP(ap(c4, 1), ap(s4, 2), []byte("q")), true},
		{"udp6", BuildUDP(ap(c6, 1), ap(s6, 2), []byte("q")), true},
		{"udplite full coverage", BuildUDPLite(ap(c4, 1), ap(s4, 2), 0, []byte("abcdef")), true},
		{"udplite header coverage", BuildUDPLite(ap(c6, 1), ap(s6, 2), 8, []byte("abcdef")), true},
		{"dccp", BuildDCCP(ap(c4, 1), ap(s4, 2), 2, 9, []byte("abc")), true},
		{"sctp", BuildSCTP(ap(c4, 1), ap(s4, 2), 9, make([]byte, 20)), true},
		{"icmp", BuildICMP(ip(c4), ip(s4), 8, 0, 1, 1, []byte("abc")), true},
		{"icmp error", BuildICMPError(ip(c4), ip(s4), 3, 3, udpOrig), true},
		{"icmpv6", BuildICMP(ip(c6), ip(s6), 128, 0, 1, 1, []byte("abc")), true},
		{"unparsed protocol has no checksum to check", BuildIP(ip(c4), ip(s4), ProtoGRE, []byte{1, 2, 3, 4}), true},

		// UDP checksum 0 means none (udp_error), in both families.
		{"udp without checksum", BuildUDP(ap(c4, 1), ap(s4, 2), []byte("q"), WithNoUDPChecksum()), true},
		{"udp6 without checksum", BuildUDP(ap(c6, 1), ap(s6, 2), []byte("q"), WithNoUDPChecksum()), true},

		// Wrong checksums fail.
		{"tcp bad", BuildTCP(ap(c4, 1), ap(s4, 2), TCPAck, 1, 2, 3, nil, WithBadChecksum()), false},
		{"tcp payload changed", flip(BuildTCP(ap(c4, 1), ap(s4, 2), TCPAck, 1, 2, 3, []byte("data")), 41), false},
		{"tcp pseudo-header changed", flip(BuildTCP(ap(c4, 1), ap(s4, 2), TCPAck, 1, 2, 3, nil), 15), false},
		{"udp bad", BuildUDP(ap(c4, 1), ap(s4, 2), nil, WithBadChecksum()), false},
		{"udp6 bad", BuildUDP(ap(c6, 1), ap(s6, 2), nil, WithBadChecksum()), false},
		{"udplite bad", BuildUDPLite(ap(c4, 1), ap(s4, 2), 0, []byte("abc"), WithBadChecksum()), false},
		{"udplite change outside coverage is not checked", flip(BuildUDPLite(ap(c4, 1), ap(s4, 2), 8, []byte("abcdef")), 30), true},
		{"dccp bad", BuildDCCP(ap(c4, 1), ap(s4, 2), 2, 9, nil, WithBadChecksum()), false},
		{"sctp bad", BuildSCTP(ap(c4, 1), ap(s4, 2), 9, make([]byte, 20), WithBadChecksum()), false},
		{"icmp bad", BuildICMP(ip(c4), ip(s4), 8, 0, 1, 1, nil, WithBadChecksum()), false},
		{"icmp error quote changed", flip(BuildICMPError(ip(c4), ip(s4), 3, 3, udpOrig), 60), false},
		{"icmpv6 pseudo-header changed", flip(BuildICMP(ip(c6), ip(s6), 128, 0, 1, 1, nil), 39), false},

		// A fragment cannot be checked: the sum covers the whole datagram.
		{"first fragment", Fragment(BuildUDP(ap(c4, 1), ap(s4, 2), make([]byte, 100)), 48)[0], true},
		{"later fragment", Fragment(BuildUDP(ap(c4, 1), ap(s4, 2), make([]byte, 100)), 48)[1], true},
	}
	var p Packet
	for _, tt := range tests {
		if r := Decode(tt.data, &p); r != ReasonNone {
			t.Errorf("%s: Decode: %v", tt.name, r)
			continue
		}
		if got := p.ChecksumOK(); got != tt.want {
			t.Errorf("%s: ChecksumOK = %v, want %v (%x)", tt.name, got, tt.want, tt.data)
		}
	}
}

func TestHeaderChecksumOK(t *testing.T) {
	var p Packet
	good := BuildUDP(ap("198.18.0.1", 1), ap("198.18.0.2", 2), nil, WithIPOptions([]byte{148, 4, 0, 0}))
	for _, tt := range []struct {
		name string
		data []byte
		want bool
	}{
		{"ipv4 with options", good, true},
		{"ipv4 ttl changed", mut(good, func(b []byte) { b[8]-- }), false},
		{"ipv4 option changed", mut(good, func(b []byte) { b[22] = 1 }), false},
		{"ipv6 has no header checksum", BuildUDP(ap("fd00::1", 1), ap("fd00::2", 2), nil), true},
		{"broken header", good[:10], false},
	} {
		Decode(tt.data, &p)
		if got := p.HeaderChecksumOK(); got != tt.want {
			t.Errorf("%s: HeaderChecksumOK = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestChecksumOKNoAllocs(t *testing.T) {
	var p Packet
	Decode(BuildTCP(ap("198.18.0.1", 1), ap("198.18.0.2", 2), TCPAck, 1, 2, 3, make([]byte, 1400)), &p)
	if n := testing.AllocsPerRun(100, func() { p.ChecksumOK() }); n != 0 {
		t.Errorf("ChecksumOK: %v allocations, want 0", n)
	}
	Decode(BuildSCTP(ap("198.18.0.1", 1), ap("198.18.0.2", 2), 9, make([]byte, 100)), &p)
	if n := testing.AllocsPerRun(100, func() { p.ChecksumOK() }); n != 0 {
		t.Errorf("ChecksumOK sctp: %v allocations, want 0", n)
	}
}

func BenchmarkChecksumOK(b *testing.B) {
	for _, n := range []int{0, 1400} {
		dg := BuildTCP(ap("198.18.0.1", 1), ap("198.18.0.2", 2), TCPAck, 1, 2, 3, make([]byte, n))
		b.Run(fmt.Sprintf("tcp-%d", n), func(b *testing.B) {
			var p Packet
			Decode(dg, &p)
			b.SetBytes(int64(len(dg)))
			b.ReportAllocs()
			for b.Loop() {
				if !p.ChecksumOK() {
					b.Fatal("bad checksum")
				}
			}
		})
	}
}
