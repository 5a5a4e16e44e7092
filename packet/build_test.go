package packet

import (
	"bytes"
	"testing"
)

// TestBuildOptions checks the builder options that Decode does not report.
func TestBuildOptions(t *testing.T) {
	c4, s4 := "198.18.0.1", "198.18.0.2"
	if b := BuildUDP(ap(c4, 1), ap(s4, 2), nil, WithDF()); b[6]&0x40 == 0 {
		t.Errorf("WithDF: flags %#02x", b[6])
	}
	if b := BuildTCP(ap(c4, 1), ap(s4, 2), TCPUrg, 1, 0, 1, nil, WithUrgent(0x1234)); b[38] != 0x12 || b[39] != 0x34 {
		t.Errorf("WithUrgent: %x", b[38:40])
	}
	if b := BuildICMPError(ip(c4), ip(s4), 3, 4, BuildUDP(ap(s4, 1), ap(c4, 2), nil), WithICMPRest(1400)); !bytes.Equal(b[24:28], []byte{0, 0, 5, 0x78}) {
		t.Errorf("WithICMPRest: %x", b[24:28])
	}
	var p Packet
	for _, tt := range []struct {
		name string
		data []byte
		want string
	}{
		{"ipv4 WithFrag", BuildIP(ip(c4), ip(s4), ProtoUDP, make([]byte, 16), WithFrag(3, true), WithID(9)),
			"fam=4 hdr=20 tot=36 src=198.18.0.1 dst=198.18.0.2 proto=17 ttl=64 id=9 frag=3/true l4=-1 pay=20"},
		{"ipv6 WithFrag", BuildIP(ip("fd00::1"), ip("fd00::2"), ProtoUDP, make([]byte, 16), WithFrag(3, false)),
			"fam=6 hdr=48 tot=64 src=fd00::1 dst=fd00::2 proto=17 ttl=64 frag=3/false l4=-1 pay=48"},
	} {
		Decode(tt.data, &p)
		if got := dump(&p); got != tt.want {
			t.Errorf("%s:\n got  %s\n want %s", tt.name, got, tt.want)
		}
	}
	// Fragments put back together give the datagram's transport bytes.
	dg := BuildTCP(ap(c4, 1), ap(s4, 2), TCPAck, 1, 1, 1, make([]byte, 150))
	var body []byte
	frags := Fragment(dg, 60) // 56 bytes each: 170 bytes of TCP make 4
	if len(frags) != 4 {
		t.Fatalf("%d fragments, want 4", len(frags))
	}
	for i, f := range frags {
		Decode(f, &p)
		if int(p.FragOff)*8 != len(body) || p.MoreFrag != (i < 3) || !p.HeaderChecksumOK() {
			t.Errorf("fragment %d: %s", i, dump(&p))
		}
		body = append(body, p.Data[p.HdrLen:]...)
	}
	if !bytes.Equal(body, dg[20:]) {
		t.Errorf("fragments do not reassemble to the datagram")
	}
}
