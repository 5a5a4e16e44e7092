package packet

import (
	"bytes"
	"fmt"
	"testing"
)

// TestDecodeCapture: a packet cut short at a copy range decodes to what the
// whole packet decodes to, lengths included, when its headers are all in
// the cut; otherwise DecodeCapture says so rather than decode half a
// header. A cut that holds the whole packet is a plain Decode.
func TestDecodeCapture(t *testing.T) {
	c4, s4, c6, s6 := "198.18.0.1", "198.18.0.2", "fd00::1", "fd00::2"
	big := make([]byte, 1400)
	tcp4 := BuildTCP(ap(c4, 40000), ap(s4, 22), TCPAck|TCPPsh, 7, 9, 512, big, WithMSS(1460), WithSACK(1, 2))
	udp6 := BuildUDP(ap(c6, 5353), ap(s6, 53), big)
	ext6 := insertExt6(udp6, ipv6DestOpts, make([]byte, 6+8*60)) // a 488-byte destination options header
	rows := []struct {
		name string
		pkt  []byte
		cut  int
		ok   bool
	}{
		{"tcp4 cut after its options", tcp4, 64, true},
		{"tcp4 cut at 512", tcp4, 512, true},
		{"tcp4 cut inside its options", tcp4, 40, false},
		{"tcp4 cut inside the IP header", tcp4, 12, false},
		{"tcp4 whole", tcp4, len(tcp4), true},
		{"udp6 cut after its header", udp6, 48, true},
		{"udp6 cut inside its header", udp6, 44, false},
		{"udp6 behind 488 bytes of extension headers, cut at 512", ext6, 512, false},
		{"udp6 behind extension headers, cut just after its UDP header", ext6, 40 + 488 + 8, true},
		{"udp6 behind extension headers, cut a byte short", ext6, 40 + 488 + 7, false},
		{"icmp error cut", BuildICMPError(ip(c4), ip(s4), 3, 3, BuildUDP(ap(s4, 1), ap(c4, 2), big)), 512, false},
		{"non-first fragment cut", Fragment(BuildUDP(ap(c4, 1), ap(s4, 2), big), 600)[1], 64, true},
	}
	for _, r := range rows {
		var whole, cut Packet
		wr := Decode(r.pkt, &whole)
		if wr != ReasonNone {
			t.Fatalf("%s: the whole packet does not decode: %v", r.name, wr)
		}
		cr, ok := DecodeCapture(r.pkt[:r.cut], len(r.pkt), &cut)
		if ok != r.ok {
			t.Errorf("%s: ok %v, want %v", r.name, ok, r.ok)
			continue
		}
		if !ok {
			continue
		}
		if cr != ReasonNone || cut.Truncated != (r.cut < len(r.pkt)) || len(cut.Data) != r.cut {
			t.Errorf("%s: reason %v, truncated %v, %d bytes of data", r.name, cr, cut.Truncated, len(cut.Data))
		}
		if d := capDiff(&whole, &cut); d != "" {
			t.Errorf("%s: cut decodes differently: %s", r.name, d)
		}
	}
	// Length checks go by the wire: a UDP length past the packet is
	// malformed even where the cut could not show it.
	bad := bytes.Clone(BuildUDP(ap(c4, 1), ap(s4, 2), big))
	bad[20+4], bad[20+5] = 0x10, 0 // UDP length 4096 in a 1428-byte packet
	var p Packet
	if r, ok := DecodeCapture(bad[:64], len(bad), &p); !ok || r != ReasonUDPLen {
		t.Errorf("UDP length past the packet, cut: %v %v, want %v", r, ok, ReasonUDPLen)
	}
	// The IP header's length must not exceed the wire's.
	if r, ok := DecodeCapture(tcp4[:64], len(tcp4)-1, &p); !ok || r != ReasonTotalLen {
		t.Errorf("total length past the wire length: %v %v, want %v", r, ok, ReasonTotalLen)
	}
}

// capDiff names the first header field or length in which a cut packet's
// decoding differs from the whole packet's.
func capDiff(w, c *Packet) string {
	type f struct {
		name string
		a, b any
	}
	for _, x := range []f{
		{"Family", w.Family, c.Family}, {"Src", w.Src, c.Src}, {"Dst", w.Dst, c.Dst},
		{"Proto", w.Proto, c.Proto}, {"HdrLen", w.HdrLen, c.HdrLen}, {"TotalLen", w.TotalLen, c.TotalLen},
		{"WireLen", w.WireLen(), c.WireLen()}, {"FragOff", w.FragOff, c.FragOff}, {"MoreFrag", w.MoreFrag, c.MoreFrag},
		{"L4Off", w.L4Off, c.L4Off}, {"PayloadOff", w.PayloadOff, c.PayloadOff}, {"HasPorts", w.HasPorts, c.HasPorts},
		{"SrcPort", w.SrcPort, c.SrcPort}, {"DstPort", w.DstPort, c.DstPort}, {"TCPFlags", w.TCPFlags, c.TCPFlags},
		{"Seq", w.Seq, c.Seq}, {"Ack", w.Ack, c.Ack}, {"Window", w.Window, c.Window}, {"TCPHdrLen", w.TCPHdrLen, c.TCPHdrLen},
		{"Reason", w.Reason, c.Reason}, {"TTL", w.TTL, c.TTL}, {"TOS", w.TOS, c.TOS}, {"IPID", w.IPID, c.IPID},
	} {
		if x.a != x.b {
			return x.name + ": " + fmt.Sprint(x.a) + " whole, " + fmt.Sprint(x.b) + " cut"
		}
	}
	return ""
}

// FuzzDecodeCapture: DecodeCapture never panics on any cut of any input,
// and a cut it accepts decodes to the whole packet's headers and lengths,
// its offsets inside the cut.
func FuzzDecodeCapture(f *testing.F) {
	for i, s := range fuzzSeeds() {
		f.Add(s, uint16(20+i*4))
	}
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		var whole, c Packet
		Decode(data, &whole)
		wire := len(whole.Data)
		if whole.Family == 0 || whole.Reason.L3() {
			wire = len(data)
		}
		k := min(int(cut), wire)
		r, ok := DecodeCapture(data[:k], wire, &c)
		if !ok {
			return
		}
		n := len(c.Data)
		if n > k {
			t.Fatalf("Data %d bytes of a %d-byte cut", n, k)
		}
		for _, o := range []int{c.L4Off, c.PayloadOff} {
			if !inBounds(o, n) {
				t.Fatalf("offset %d outside 0..%d: %s", o, n, dump(&c))
			}
		}
		if c.TCPHdrLen != 0 && c.L4Off+c.TCPHdrLen > n {
			t.Fatalf("TCP header past the cut: %s", dump(&c))
		}
		if whole.Reason.L3() || whole.Family == 0 {
			return // a broken network header: only no panic is promised
		}
		if r != whole.Reason {
			t.Fatalf("reason %v cut, %v whole", r, whole.Reason)
		}
		if whole.Reason == ReasonNone {
			if d := capDiff(&whole, &c); d != "" {
				t.Fatalf("cut at %d of %d: %s", k, wire, d)
			}
		}
	})
}
