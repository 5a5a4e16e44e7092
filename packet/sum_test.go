package packet

import "testing"

// TestChecksumExported checks Checksum and PseudoHeader against the
// checksums the builders write and ChecksumOK verifies.
func TestChecksumExported(t *testing.T) {
	for _, tc := range []struct {
		name string
		dg   []byte
	}{
		{"tcp4", BuildTCP(ap("198.18.0.1", 1000), ap("198.18.0.2", 22), TCPSyn, 1, 0, 100, []byte("odd"))},
		{"udp4", BuildUDP(ap("198.18.0.1", 1000), ap("198.18.0.2", 53), []byte("abcd"))},
		{"tcp6", BuildTCP(ap("fd00::1", 1000), ap("fd00::2", 22), TCPAck, 1, 2, 100, []byte("x"))},
	} {
		var p Packet
		if r := Decode(tc.dg, &p); r != ReasonNone {
			t.Fatalf("%s: decode: %v", tc.name, r)
		}
		l4 := p.Data[p.L4Off:]
		off := 16
		if p.Proto == ProtoUDP {
			off = 6
		}
		want := be16(l4[off:])
		put16(l4[off:], 0)
		got := Checksum(l4, PseudoHeader(p.Src, p.Dst, p.Proto, len(l4)))
		put16(l4[off:], got)
		if got != want || !p.ChecksumOK() {
			t.Errorf("%s: Checksum = %#04x, want %#04x", tc.name, got, want)
		}
		if p.Family == 4 {
			h := p.Data[:p.HdrLen]
			want := be16(h[10:])
			put16(h[10:], 0)
			if got := Checksum(h, 0); got != want {
				t.Errorf("%s: header Checksum = %#04x, want %#04x", tc.name, got, want)
			}
			put16(h[10:], want)
		}
	}
}
