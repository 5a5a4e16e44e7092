package packet

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
)

// flow describes a datagram to build; the property tests rewrite a built
// one and compare it with one built afresh from the rewritten description.
type flow struct {
	proto    uint8 // ProtoTCP, ProtoUDP, ProtoUDPLite, ProtoDCCP, ProtoSCTP, ProtoICMP (echo, either family)
	src, dst netip.AddrPort
	id       uint16 // ICMP echo id
	noCsum   bool   // UDP checksum 0
	cov      uint16 // UDP-Lite coverage
	tcpOpts  []byte
	payload  []byte
	ttl, tos uint8
}

func (f flow) build() []byte {
	o := []BuildOpt{WithTTL(f.ttl), WithTOS(f.tos)}
	switch f.proto {
	case ProtoTCP:
		return BuildTCP(f.src, f.dst, TCPAck|TCPPsh, 1000, 2000, 512, f.payload, append(o, WithTCPOptions(f.tcpOpts))...)
	case ProtoUDP:
		if f.noCsum {
			o = append(o, WithNoUDPChecksum())
		}
		return BuildUDP(f.src, f.dst, f.payload, o...)
	case ProtoUDPLite:
		return BuildUDPLite(f.src, f.dst, f.cov, f.payload, o...)
	case ProtoDCCP:
		return BuildDCCP(f.src, f.dst, 2, 77, f.payload, o...)
	case ProtoSCTP:
		return BuildSCTP(f.src, f.dst, 0x01020304, f.payload, o...)
	}
	typ := uint8(ICMPEcho)
	if f.src.Addr().Is6() {
		typ = ICMPv6EchoRequest
	}
	return BuildICMP(f.src.Addr(), f.dst.Addr(), typ, 0, f.id, 3, f.payload, o...)
}

var protos = []uint8{ProtoTCP, ProtoUDP, ProtoUDPLite, ProtoDCCP, ProtoSCTP, ProtoICMP}

func randAddr(r *rand.Rand, v6 bool) netip.Addr {
	if v6 {
		var b [16]byte
		b[0] = 0xfd
		for i := 1; i < 16; i++ {
			b[i] = byte(r.Uint32())
		}
		return netip.AddrFrom16(b)
	}
	return netip.AddrFrom4([4]byte{198, 18 + byte(r.IntN(2)), byte(r.Uint32()), byte(r.Uint32())})
}

func randFlow(r *rand.Rand, v6 bool) flow {
	f := flow{
		proto:   protos[r.IntN(len(protos))],
		src:     netip.AddrPortFrom(randAddr(r, v6), uint16(r.Uint32())),
		dst:     netip.AddrPortFrom(randAddr(r, v6), uint16(r.Uint32())),
		id:      uint16(r.Uint32()),
		noCsum:  r.IntN(4) == 0,
		ttl:     byte(r.Uint32()),
		tos:     byte(r.Uint32()),
		payload: make([]byte, r.IntN(300)),
	}
	for i := range f.payload {
		f.payload[i] = byte(r.Uint32())
	}
	if f.proto == ProtoUDPLite && r.IntN(2) == 0 {
		f.cov = uint16(8 + r.IntN(len(f.payload)+1))
	}
	if f.proto == ProtoTCP && r.IntN(2) == 0 {
		// An odd number of NOPs puts the MSS value at an odd offset.
		f.tcpOpts = append(bytes.Repeat([]byte{TCPOptNOP}, r.IntN(4)), TCPOptMSS, 4, byte(r.Uint32()), byte(r.Uint32()))
	}
	return f
}

// csumOffsets lists where p's checksums are, so compare can treat their
// two encodings of zero as equal.
func csumOffsets(p *Packet) map[int]bool {
	m := map[int]bool{}
	if p.Family == 4 {
		m[10] = true
	}
	if off, kind, _ := p.l4Csum(p.Proto, p.L4Off); kind != csumNone {
		m[off] = true
	}
	if p.HasInner {
		if p.Family == 4 {
			m[p.InnerOff+10] = true
		}
		if off, kind, _ := p.l4Csum(p.InnerProto, p.InnerL4Off); kind != csumNone {
			m[off] = true
		}
	}
	return m
}

// compare reports how got differs from want, byte for byte except that a
// checksum may hold 0x0000 where the full computation gave 0xffff or the
// other way round (the same one's complement zero; RFC 1624 section 3).
func compare(got, want []byte, p *Packet) string {
	if len(got) != len(want) {
		return fmt.Sprintf("length %d, want %d", len(got), len(want))
	}
	cs := csumOffsets(p)
	for i := 0; i < len(got); i++ {
		if cs[i] && i+1 < len(got) {
			g, w := be16(got[i:]), be16(want[i:])
			if !csumEquiv(g, w) || (g != w && p.Proto == ProtoUDP) {
				return fmt.Sprintf("checksum at %d: %#04x, want %#04x", i, g, w)
			}
			i++
			continue
		}
		if got[i] != want[i] {
			return fmt.Sprintf("byte %d: %#02x, want %#02x", i, got[i], want[i])
		}
	}
	return ""
}

// TestRewriteMatchesRebuild is the property test of the incremental
// checksums: random packets of every protocol and family get random
// rewrites, and must come out equal to packets built from scratch (full
// checksum computation) with the rewritten values, and decode to them.
func TestRewriteMatchesRebuild(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var p Packet
	for i := range 5000 {
		v6 := r.IntN(2) == 0
		f := randFlow(r, v6)
		dg := f.build()
		if Decode(dg, &p) != ReasonNone || !p.ChecksumOK() {
			t.Fatalf("%d: built packet bad: %s", i, dump(&p))
		}
		var log []string
		g := f
		for range 1 + r.IntN(4) {
			switch r.IntN(7) {
			case 0:
				g.src = netip.AddrPortFrom(randAddr(r, v6), g.src.Port())
				log = append(log, "SetSrc")
				if !p.SetSrc(g.src.Addr()) {
					t.Fatalf("%d: SetSrc refused", i)
				}
			case 1:
				g.dst = netip.AddrPortFrom(randAddr(r, v6), g.dst.Port())
				log = append(log, "SetDst")
				if !p.SetDst(g.dst.Addr()) {
					t.Fatalf("%d: SetDst refused", i)
				}
			case 2, 3:
				port := uint16(r.Uint32())
				if f.proto == ProtoICMP {
					g.id = port
					log = append(log, "SetICMPID")
					if !p.SetICMPID(port) {
						t.Fatalf("%d: SetICMPID refused", i)
					}
				} else if r.IntN(2) == 0 {
					g.src = netip.AddrPortFrom(g.src.Addr(), port)
					log = append(log, "SetSrcPort")
					if !p.SetSrcPort(port) {
						t.Fatalf("%d: SetSrcPort refused", i)
					}
				} else {
					g.dst = netip.AddrPortFrom(g.dst.Addr(), port)
					log = append(log, "SetDstPort")
					if !p.SetDstPort(port) {
						t.Fatalf("%d: SetDstPort refused", i)
					}
				}
			case 4:
				g.ttl = byte(r.Uint32())
				log = append(log, "SetTTL")
				p.SetTTL(g.ttl)
			case 5:
				g.tos = byte(r.Uint32())
				log = append(log, "SetTOS")
				p.SetTOS(g.tos)
			case 6:
				if g.tcpOpts != nil {
					mss := uint16(r.Uint32())
					g.tcpOpts = append([]byte(nil), g.tcpOpts...)
					binary.BigEndian.PutUint16(g.tcpOpts[len(g.tcpOpts)-2:], mss)
					log = append(log, "SetTCPMSS")
					if !p.SetTCPMSS(mss) {
						t.Fatalf("%d: SetTCPMSS refused", i)
					}
				}
			}
		}
		want := g.build()
		if d := compare(p.Data, want, &p); d != "" {
			t.Fatalf("%d: proto %d after %v: %s\n got  %x\n want %x", i, f.proto, log, d, p.Data, want)
		}
		if len(log) > 0 && !p.Changed {
			t.Fatalf("%d: Changed not set after %v", i, log)
		}
		if !p.ChecksumOK() || !p.HeaderChecksumOK() {
			t.Fatalf("%d: checksum wrong after %v", i, log)
		}
		got := dump(&p)
		var q Packet
		Decode(p.Data, &q)
		q.Changed = p.Changed
		if d := dump(&q); d != got {
			t.Fatalf("%d: after %v fields\n     %s\n but redecode gives\n     %s", i, log, got, d)
		}
	}
}

// TestInnerRewriteMatchesRebuild does the same for ICMP errors: the quoted
// datagram is rewritten as nf_nat_icmp_reply_translation does, and must
// equal an error built around the rewritten datagram, for every quote
// length that does not cut a checksum field in half.
func TestInnerRewriteMatchesRebuild(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var p Packet
	n := 0
	for i := range 20000 {
		v6 := r.IntN(2) == 0
		f := randFlow(r, v6)
		orig := f.build()
		var o Packet
		Decode(orig, &o)
		// Quote at least what gives a tuple; up to the whole datagram.
		min := o.L4Off + 4
		if f.proto == ProtoICMP {
			min = o.L4Off + 8
		}
		q := min + r.IntN(len(orig)-min+1)
		if off, kind, _ := o.l4Csum(f.proto, o.L4Off); kind != csumNone && q == off+1 {
			continue // half a checksum field: nothing can update it
		}
		router, host := randAddr(r, v6), f.src.Addr()
		typ, code := uint8(ICMPDestUnreach), uint8(3)
		if v6 {
			typ, code = 1, 4
		}
		build := func(inner []byte, from, to netip.Addr) []byte {
			return BuildICMPError(from, to, typ, code, inner, WithQuote(q), WithICMPRest(0x1234))
		}
		dg := build(orig, router, host)
		if Decode(dg, &p) != ReasonNone || !p.HasInner || !p.ChecksumOK() {
			t.Fatalf("%d: built error bad: %s", i, dump(&p))
		}
		g, newRouter, newHost := f, router, host
		var log []string
		for range 1 + r.IntN(4) {
			switch r.IntN(5) {
			case 0:
				g.src = netip.AddrPortFrom(randAddr(r, v6), g.src.Port())
				log = append(log, "SetInnerSrc")
				if !p.SetInnerSrc(g.src.Addr()) {
					t.Fatalf("%d: SetInnerSrc refused", i)
				}
			case 1:
				g.dst = netip.AddrPortFrom(randAddr(r, v6), g.dst.Port())
				log = append(log, "SetInnerDst")
				if !p.SetInnerDst(g.dst.Addr()) {
					t.Fatalf("%d: SetInnerDst refused", i)
				}
			case 2:
				port := uint16(r.Uint32())
				if f.proto == ProtoICMP {
					g.id = port
					log = append(log, "SetInnerICMPID")
					if !p.SetInnerICMPID(port) {
						t.Fatalf("%d: SetInnerICMPID refused", i)
					}
				} else if r.IntN(2) == 0 {
					g.src = netip.AddrPortFrom(g.src.Addr(), port)
					log = append(log, "SetInnerSrcPort")
					if !p.SetInnerSrcPort(port) {
						t.Fatalf("%d: SetInnerSrcPort refused", i)
					}
				} else {
					g.dst = netip.AddrPortFrom(g.dst.Addr(), port)
					log = append(log, "SetInnerDstPort")
					if !p.SetInnerDstPort(port) {
						t.Fatalf("%d: SetInnerDstPort refused", i)
					}
				}
			case 3:
				newRouter = randAddr(r, v6)
				log = append(log, "SetSrc")
				p.SetSrc(newRouter)
			case 4:
				newHost = randAddr(r, v6)
				log = append(log, "SetDst")
				p.SetDst(newHost)
			}
		}
		inner := g.build()
		if f.proto == ProtoSCTP {
			// The quoted CRC32c is left alone (see setInnerPort).
			var ip Packet
			Decode(inner, &ip)
			copy(inner[ip.L4Off+8:ip.L4Off+12], orig[o.L4Off+8:o.L4Off+12])
		}
		want := build(inner, newRouter, newHost)
		if d := compare(p.Data, want, &p); d != "" {
			t.Fatalf("%d: proto %d quote %d after %v: %s\n got  %x\n want %x", i, f.proto, q, log, d, p.Data, want)
		}
		if !p.ChecksumOK() || !p.HeaderChecksumOK() {
			t.Fatalf("%d: checksum wrong after %v", i, log)
		}
		got := dump(&p)
		var re Packet
		Decode(p.Data, &re)
		re.Changed = p.Changed
		if d := dump(&re); d != got {
			t.Fatalf("%d: after %v fields\n     %s\n but redecode gives\n     %s", i, log, got, d)
		}
		n++
	}
	if n < 10000 {
		t.Fatalf("only %d cases ran", n)
	}
}

// TestRewriteUDPChecksumZero covers the two UDP special cases of
// __udp_manip_pkt: a zero checksum ("none") is left zero, and an update
// that computes to zero is sent as 0xffff (CSUM_MANGLED_0).
func TestRewriteUDPChecksumZero(t *testing.T) {
	var p Packet
	Decode(BuildUDP(ap("198.18.0.1", 1), ap("198.18.0.2", 2), []byte("x"), WithNoUDPChecksum()), &p)
	p.SetSrc(ip("198.19.9.9"))
	p.SetDstPort(9999)
	if c := be16(p.Data[26:]); c != 0 {
		t.Errorf("zero UDP checksum became %#04x", c)
	}

	Decode(BuildUDP(ap("198.18.0.1", 1), ap("198.18.0.2", 2), []byte("x")), &p)
	hc, old := be16(p.Data[26:]), p.SrcPort
	// The port that makes ~(~HC + ~old + new) zero.
	port := ^fold(uint64(^hc) + uint64(^old))
	if !p.SetSrcPort(port) {
		t.Fatal("SetSrcPort refused")
	}
	if c := be16(p.Data[26:]); c != 0xffff {
		t.Errorf("checksum after SetSrcPort(%d) = %#04x, want 0xffff", port, c)
	}
	if !p.ChecksumOK() {
		t.Errorf("mangled zero does not verify")
	}
}

// TestRewriteRefused checks that a rewrite the packet has no header for
// changes nothing and reports false.
func TestRewriteRefused(t *testing.T) {
	c4, s4 := "198.18.0.1", "198.18.0.2"
	udp := BuildUDP(ap(c4, 1), ap(s4, 2), nil)
	tests := []struct {
		name string
		data []byte
		op   func(p *Packet) bool
	}{
		{"ipv6 address into ipv4", udp, func(p *Packet) bool { return p.SetSrc(ip("fd00::1")) }},
		{"ipv4 address into ipv6", BuildUDP(ap("fd00::1", 1), ap("fd00::2", 2), nil), func(p *Packet) bool { return p.SetDst(ip(c4)) }},
		{"invalid address", udp, func(p *Packet) bool { return p.SetDst(netip.Addr{}) }},
		{"ports of icmp", BuildICMP(ip(c4), ip(s4), 8, 0, 1, 1, nil), func(p *Packet) bool { return p.SetSrcPort(1) }},
		{"ports of a later fragment", Fragment(BuildUDP(ap(c4, 1), ap(s4, 2), make([]byte, 64)), 32)[1], func(p *Packet) bool { return p.SetDstPort(1) }},
		{"sctp port in a first fragment", Fragment(BuildSCTP(ap(c4, 1), ap(s4, 2), 1, make([]byte, 64)), 32)[0], func(p *Packet) bool { return p.SetDstPort(1) }},
		{"icmp id of an error", BuildICMPError(ip(c4), ip(s4), 3, 3, udp), func(p *Packet) bool { return p.SetICMPID(1) }},
		{"icmp id of a router advertisement", BuildICMP(ip(c4), ip(s4), 9, 0, 1, 1, nil), func(p *Packet) bool { return p.SetICMPID(5) }},
		{"icmp id of udp", udp, func(p *Packet) bool { return p.SetICMPID(5) }},
		{"inner address of an echo", BuildICMP(ip(c4), ip(s4), 8, 0, 1, 1, nil), func(p *Packet) bool { return p.SetInnerSrc(ip(c4)) }},
		{"inner ports of a quoted ping", BuildICMPError(ip(c4), ip(s4), 3, 3, BuildICMP(ip(s4), ip(c4), 8, 0, 1, 1, nil)), func(p *Packet) bool { return p.SetInnerSrcPort(1) }},
		{"inner icmp id of a quoted udp", BuildICMPError(ip(c4), ip(s4), 3, 3, udp), func(p *Packet) bool { return p.SetInnerICMPID(1) }},
		{"inner ipv6 address into ipv4 quote", BuildICMPError(ip(c4), ip(s4), 3, 3, udp), func(p *Packet) bool { return p.SetInnerDst(ip("fd00::1")) }},
		{"mss without the option", BuildTCP(ap(c4, 1), ap(s4, 2), TCPSyn, 1, 0, 1, nil), func(p *Packet) bool { return p.SetTCPMSS(536) }},
		{"ttl of a broken header", udp[:19], func(p *Packet) bool { return p.SetTTL(1) }},
		{"tos of a broken header", udp[:19], func(p *Packet) bool { return p.SetTOS(1) }},
		{"address of a broken header", mut(udp, func(b []byte) { b[0] = 0x44 }), func(p *Packet) bool { return p.SetSrc(ip(s4)) }},
	}
	var p Packet
	for _, tt := range tests {
		data := append([]byte(nil), tt.data...)
		Decode(data, &p)
		before := dump(&p)
		if tt.op(&p) {
			t.Errorf("%s: accepted", tt.name)
		}
		if !bytes.Equal(data, tt.data) || p.Changed || dump(&p) != before {
			t.Errorf("%s: refused but changed the packet", tt.name)
		}
	}
}

// TestRewriteFragments: rewriting every fragment (addresses everywhere,
// ports and their checksum in the first) gives the fragments of the
// rewritten datagram, so reassembly sees a right checksum.
func TestRewriteFragments(t *testing.T) {
	for _, fam := range []string{"198.18.0.", "fd00::"} {
		payload := make([]byte, 200)
		for i := range payload {
			payload[i] = byte(i * 7)
		}
		orig := BuildTCP(ap(fam+"1", 1000), ap(fam+"2", 80), TCPAck, 5, 6, 7, payload)
		want := Fragment(BuildTCP(ap(fam+"9", 1000), ap(fam+"2", 8080), TCPAck, 5, 6, 7, payload), 64)
		var p Packet
		for i, f := range Fragment(orig, 64) {
			Decode(f, &p)
			if !p.SetSrc(ip(fam + "9")) {
				t.Fatalf("%s fragment %d: SetSrc refused", fam, i)
			}
			if ok := p.SetDstPort(8080); ok != (i == 0) {
				t.Errorf("%s fragment %d: SetDstPort = %v", fam, i, ok)
			}
			if !bytes.Equal(p.Data, want[i]) {
				t.Errorf("%s fragment %d:\n got  %x\n want %x", fam, i, p.Data, want[i])
			}
		}
	}
}

// TestRewriteTTLTOS checks the header-checksum update and the IPv6 layout.
func TestRewriteTTLTOS(t *testing.T) {
	for _, fam := range []string{"198.18.0.", "fd00::"} {
		var p Packet
		Decode(BuildUDP(ap(fam+"1", 1), ap(fam+"2", 2), nil, WithTTL(64), WithTOS(0)), &p)
		p.SetTTL(63)
		p.SetTOS(0xb9)
		want := BuildUDP(ap(fam+"1", 1), ap(fam+"2", 2), nil, WithTTL(63), WithTOS(0xb9))
		if !bytes.Equal(p.Data, want) {
			t.Errorf("%s:\n got  %x\n want %x", fam, p.Data, want)
		}
		if p.TTL != 63 || p.TOS != 0xb9 || !p.Changed {
			t.Errorf("%s: fields not updated: %s", fam, dump(&p))
		}
	}
}

func TestRewriteNoAllocs(t *testing.T) {
	udp := BuildUDP(ap("198.18.0.2", 5353), ap("198.18.0.1", 53), make([]byte, 10))
	tcp := BuildTCP(ap("198.18.0.1", 1000), ap("198.18.0.2", 80), TCPSyn, 1, 0, 1, nil, WithMSS(1460))
	tcp6 := BuildTCP(ap("fd00::1", 1000), ap("fd00::2", 80), TCPSyn, 1, 0, 1, nil)
	sctp := BuildSCTP(ap("198.18.0.1", 1), ap("198.18.0.2", 2), 1, make([]byte, 64))
	icmp := BuildICMP(ip("198.18.0.1"), ip("198.18.0.2"), 8, 0, 1, 1, nil)
	icmpErr := BuildICMPError(ip("198.18.0.1"), ip("198.18.0.2"), 3, 3, udp)
	a, b := ip("198.19.0.1"), ip("198.19.0.2")
	a6, b6 := ip("fd00::a"), ip("fd00::b")
	tests := []struct {
		name string
		data []byte
		op   func(p *Packet, i int)
	}{
		{"SetSrc/SetDst", tcp, func(p *Packet, i int) { p.SetSrc(a); p.SetDst(b) }},
		{"SetSrc/SetDst ipv6", tcp6, func(p *Packet, i int) { p.SetSrc(a6); p.SetDst(b6) }},
		{"SetSrcPort/SetDstPort", udp, func(p *Packet, i int) { p.SetSrcPort(uint16(i)); p.SetDstPort(uint16(i)) }},
		{"SetDstPort sctp", sctp, func(p *Packet, i int) { p.SetDstPort(uint16(i)) }},
		{"SetICMPID", icmp, func(p *Packet, i int) { p.SetICMPID(uint16(i)) }},
		{"inner rewrite", icmpErr, func(p *Packet, i int) {
			p.SetInnerSrc(a)
			p.SetInnerDst(b)
			p.SetInnerSrcPort(uint16(i))
			p.SetInnerDstPort(uint16(i))
		}},
		{"SetTTL/SetTOS", udp, func(p *Packet, i int) { p.SetTTL(uint8(i)); p.SetTOS(uint8(i)) }},
		{"SetTCPMSS", tcp, func(p *Packet, i int) { p.SetTCPMSS(uint16(i)) }},
	}
	for _, tt := range tests {
		var p Packet
		Decode(append([]byte(nil), tt.data...), &p)
		i := 0
		if n := testing.AllocsPerRun(200, func() { i++; tt.op(&p, i) }); n != 0 {
			t.Errorf("%s: %v allocations, want 0", tt.name, n)
		}
		if !p.ChecksumOK() || !p.HeaderChecksumOK() {
			t.Errorf("%s: checksums wrong after repeated rewrites", tt.name)
		}
	}
}

func BenchmarkRewrite(b *testing.B) {
	udp := BuildUDP(ap("198.18.0.2", 5353), ap("198.18.0.1", 53), make([]byte, 10))
	snat, alt := ip("198.19.0.1"), ip("198.19.0.2")
	cases := []struct {
		name string
		data []byte
		op   func(p *Packet, i int)
	}{
		{"snat-tcp", BuildTCP(ap("198.18.0.1", 1000), ap("198.18.0.2", 80), TCPAck, 1, 1, 1, make([]byte, 1400)), func(p *Packet, i int) {
			if i&1 == 0 {
				p.SetSrc(snat)
			} else {
				p.SetSrc(alt)
			}
			p.SetSrcPort(uint16(i))
		}},
		{"dnat-udp6", BuildUDP(ap("fd00::1", 1000), ap("fd00::2", 53), make([]byte, 100)), func(p *Packet, i int) {
			if i&1 == 0 {
				p.SetDst(ip("fd00::a"))
			} else {
				p.SetDst(ip("fd00::b"))
			}
			p.SetDstPort(uint16(i))
		}},
		{"icmp-error-inner", BuildICMPError(ip("198.18.0.1"), ip("198.18.0.2"), 3, 3, udp), func(p *Packet, i int) {
			if i&1 == 0 {
				p.SetInnerSrc(snat)
				p.SetDst(snat)
			} else {
				p.SetInnerSrc(alt)
				p.SetDst(alt)
			}
			p.SetInnerSrcPort(uint16(i))
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var p Packet
			Decode(append([]byte(nil), c.data...), &p)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				c.op(&p, i)
			}
		})
	}
}
