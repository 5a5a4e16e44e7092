package packet

import (
	"bytes"
	"net/netip"
	"testing"
)

func fuzzSeeds() [][]byte {
	c4, s4, c6, s6 := "198.18.0.1", "198.18.0.2", "fd00::1", "fd00::2"
	udp := BuildUDP(ap(s4, 5353), ap(c4, 53), []byte("q"))
	udp6 := BuildUDP(ap(s6, 5353), ap(c6, 53), []byte("q"))
	seeds := [][]byte{
		BuildTCP(ap(c4, 999), ap(s4, 22), TCPSyn, 1, 0, 100, nil, WithMSS(1460), WithWScale(7), WithSACKPerm(), WithSACK(1, 2)),
		BuildTCP(ap(c6, 999), ap(s6, 22), TCPAck, 1, 0, 100, []byte("data"), WithTCPOptions([]byte{1, 2, 4, 5, 0xb4})),
		udp, udp6,
		BuildUDPLite(ap(c4, 1), ap(s4, 2), 8, []byte("abc")),
		BuildSCTP(ap(c4, 1), ap(s4, 2), 1, make([]byte, 16)),
		BuildDCCP(ap(c6, 1), ap(s6, 2), 0, 1, nil),
		BuildICMP(ip(c4), ip(s4), ICMPEcho, 0, 7, 1, nil),
		BuildICMP(ip(c6), ip(s6), ICMPv6EchoReply, 0, 7, 1, nil),
		BuildICMPError(ip(c4), ip(s4), 3, 3, udp),
		BuildICMPError(ip(c4), ip(s4), 11, 0, BuildICMP(ip(s4), ip(c4), ICMPEcho, 0, 7, 1, nil), WithQuote(28)),
		BuildICMPError(ip(c6), ip(s6), 1, 4, udp6),
		BuildICMPError(ip(c4), ip(s4), 3, 4, BuildTCP(ap(s4, 1), ap(c4, 2), TCPSyn, 1, 0, 1, nil), WithQuote(38)),
		insertExt6(udp6, ipv6HopByHop, []byte{1, 4, 0, 0, 0, 0}),
		BuildIP(ip(c4), ip(s4), ProtoGRE, []byte{0, 0, 8, 0}, WithIPOptions([]byte{148, 4, 0, 0})),
	}
	seeds = append(seeds, Fragment(BuildUDP(ap(c4, 1), ap(s4, 2), make([]byte, 64)), 32)...)
	seeds = append(seeds, Fragment(BuildTCP(ap(c6, 1), ap(s6, 2), TCPAck, 1, 1, 1, make([]byte, 64)), 32)...)
	return seeds
}

// inBounds reports whether an offset is -1 or inside data.
func inBounds(off, n int) bool { return off == -1 || (off >= 0 && off <= n) }

// FuzzDecode checks that Decode never panics on any input, that every
// offset it reports stays inside the datagram, that decoding is a function
// of the bytes alone, and that after any rewrite the packet still carries
// right checksums (if it had them) and decodes to the rewritten values.
func FuzzDecode(f *testing.F) {
	for i, s := range fuzzSeeds() {
		f.Add(s, uint8(i), uint16(i*1000))
	}
	f.Fuzz(func(t *testing.T, data []byte, sel uint8, v uint16) {
		orig := bytes.Clone(data)
		var p Packet
		r := Decode(data, &p)
		if !bytes.Equal(data, orig) {
			t.Fatal("Decode wrote to its input")
		}
		n := len(p.Data)
		if n > len(data) || (n > 0 && &p.Data[0] != &data[0]) {
			t.Fatalf("Data is not a prefix of the input")
		}
		if r != p.Reason || p.Malformed != (r != ReasonNone) {
			t.Fatalf("return %v, Reason %v, Malformed %v disagree", r, p.Reason, p.Malformed)
		}
		for _, o := range []int{p.L4Off, p.PayloadOff, p.InnerOff, p.InnerL4Off} {
			if !inBounds(o, n) {
				t.Fatalf("offset %d outside 0..%d: %s", o, n, dump(&p))
			}
		}
		if p.HdrLen > n || (p.TotalLen != n && !r.L3()) {
			t.Fatalf("HdrLen %d / TotalLen %d vs %d bytes", p.HdrLen, p.TotalLen, n)
		}
		if p.HasPorts && (p.L4Off < 0 || p.L4Off+4 > n) {
			t.Fatalf("ports without a transport header: %s", dump(&p))
		}
		if p.TCPHdrLen != 0 && p.L4Off+p.TCPHdrLen > n {
			t.Fatalf("TCP header past the end: %s", dump(&p))
		}
		if p.HasInner && (p.InnerOff < p.L4Off+8 || p.InnerL4Off < p.InnerOff) {
			t.Fatalf("inner offsets out of order: %s", dump(&p))
		}
		// Option walks and checksum checks must not panic either.
		p.TCPMSS()
		p.TCPWScale()
		p.TCPSACKPerm()
		p.TCPSACK(v32(v))
		p.Payload()
		csumOK, hdrOK := p.ChecksumOK(), p.HeaderChecksumOK()

		var q Packet
		Decode(data, &q)
		if dump(&q) != dump(&p) {
			t.Fatalf("decoding twice differs:\n%s\n%s", dump(&p), dump(&q))
		}

		// Rewrite a copy, so the input stays as the fuzzer gave it.
		buf := bytes.Clone(data)
		Decode(buf, &p)
		a4 := netip.AddrFrom4([4]byte{198, 19, byte(v >> 8), byte(v)})
		a6 := netip.AddrFrom16([16]byte{0xfd, 14: byte(v >> 8), 15: byte(v)})
		a := a4
		if p.Family == 6 {
			a = a6
		}
		ops := []func() bool{
			func() bool { return p.SetSrc(a) },
			func() bool { return p.SetDst(a) },
			func() bool { return p.SetSrcPort(v) },
			func() bool { return p.SetDstPort(v) },
			func() bool { return p.SetICMPID(v) },
			func() bool { return p.SetInnerSrc(a) },
			func() bool { return p.SetInnerDst(a) },
			func() bool { return p.SetInnerSrcPort(v) },
			func() bool { return p.SetInnerDstPort(v) },
			func() bool { return p.SetInnerICMPID(v) },
			func() bool { return p.SetTTL(uint8(v)) },
			func() bool { return p.SetTOS(uint8(v)) },
			func() bool { return p.SetTCPMSS(v) },
		}
		// sel picks which rewrites run: bit i of a 13-bit mask.
		mask := uint16(sel)<<5 | v&0x1f
		for i, op := range ops {
			if mask&(1<<i) != 0 {
				op()
			}
		}
		if len(p.Data) != n || !bytes.Equal(buf[n:], data[n:]) {
			t.Fatalf("rewrite changed the length or bytes past the datagram")
		}
		if !p.Changed && !bytes.Equal(buf, data) {
			t.Fatalf("bytes changed without Changed")
		}
		if csumOK && !p.ChecksumOK() {
			t.Fatalf("transport checksum broken by rewrites %013b: %s\n before %x\n after  %x", mask, dump(&p), data, buf)
		}
		if hdrOK && !p.HeaderChecksumOK() {
			t.Fatalf("header checksum broken by rewrites %013b", mask)
		}
		got := dump(&p)
		var re Packet
		Decode(buf, &re)
		re.Changed = p.Changed
		if d := dump(&re); d != got {
			t.Fatalf("rewrites %013b: fields\n     %s\n but redecode gives\n     %s", mask, got, d)
		}
	})
}

func v32(v uint16) uint32 { return uint32(v) << 16 }
