package packet

import (
	"fmt"
	"testing"
)

func TestTCPOptions(t *testing.T) {
	syn := func(opts ...byte) []byte {
		return BuildTCP(ap("198.18.0.1", 1), ap("198.18.0.2", 2), TCPSyn, 1, 0, 1, nil, WithTCPOptions(opts))
	}
	tests := []struct {
		name string
		data []byte
		want string // mss, wscale, sackperm as TCPMSS, TCPWScale, TCPSACKPerm report them
	}{
		// What Linux sends in a SYN.
		{"linux syn", syn(2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7), "mss=1460 wscale=7 sackperm=true"},
		{"no options", syn(), "mss=- wscale=- sackperm=false"},
		{"mss at an odd offset", syn(1, 2, 4, 2, 0x18), "mss=536 wscale=- sackperm=false"},
		{"wscale above 14 is reported raw", syn(3, 3, 15), "mss=- wscale=15 sackperm=false"},

		// The walk stops as tcp_parse_options stops.
		{"eol ends the list", syn(0, 2, 4, 5, 0xb4), "mss=- wscale=- sackperm=false"},
		{"length 0 stops the walk", syn(9, 0, 2, 4, 5, 0xb4), "mss=- wscale=- sackperm=false"},
		{"length 1 stops the walk", syn(9, 1, 2, 4, 5, 0xb4), "mss=- wscale=- sackperm=false"},
		{"option running past the header stops the walk", syn(1, 1, 1, 1, 1, 1, 3, 3), "mss=- wscale=- sackperm=false"},
		{"unknown options are skipped", syn(254, 6, 1, 2, 3, 4, 4, 2), "mss=- wscale=- sackperm=true"},
		{"wrong-length option is skipped, a later right one found", syn(2, 3, 9, 2, 4, 1, 0), "mss=256 wscale=- sackperm=false"},
		{"sackperm needs length 2", syn(4, 3, 0, 1), "mss=- wscale=- sackperm=false"},
	}
	var p Packet
	for _, tt := range tests {
		if r := Decode(tt.data, &p); r != ReasonNone {
			t.Fatalf("%s: %v", tt.name, r)
		}
		mss, wscale := "-", "-"
		if v, ok := p.TCPMSS(); ok {
			mss = fmt.Sprint(v)
		}
		if v, ok := p.TCPWScale(); ok {
			wscale = fmt.Sprint(v)
		}
		got := fmt.Sprintf("mss=%s wscale=%s sackperm=%v", mss, wscale, p.TCPSACKPerm())
		if got != tt.want {
			t.Errorf("%s:\n got  %s\n want %s", tt.name, got, tt.want)
		}
	}
	if Decode(syn(), &p); p.TCPOptions() != nil {
		t.Errorf("TCPOptions of an option-less header = %x", p.TCPOptions())
	}
	Decode(syn(2, 4, 1, 0), &p)
	if o := p.TCPOptions(); len(o) != 4 || o[0] != 2 {
		t.Errorf("TCPOptions = %x, want 02040100", o)
	}
	if v, ok := p.TCPOption(TCPOptMSS, 4); !ok || len(v) != 2 || v[0] != 1 {
		t.Errorf("TCPOption(MSS) = %x, %v", v, ok)
	}
	Decode(BuildUDP(ap("198.18.0.1", 1), ap("198.18.0.2", 2), nil), &p)
	if _, ok := p.TCPMSS(); ok || p.TCPSACKPerm() || p.TCPOptions() != nil {
		t.Errorf("options found in a UDP datagram")
	}
}

// TestTCPSACK follows tcp_sack: the highest right edge after ack, in
// sequence space, from the first well-formed SACK option.
func TestTCPSACK(t *testing.T) {
	seg := func(opts ...BuildOpt) []byte {
		return BuildTCP(ap("198.18.0.1", 1), ap("198.18.0.2", 2), TCPAck, 1, 1000, 1, nil, opts...)
	}
	tests := []struct {
		name string
		data []byte
		ack  uint32
		want uint32
	}{
		{"no options", seg(), 1000, 1000},
		{"one block", seg(WithSACK(2000, 3000)), 1000, 3000},
		{"highest of three", seg(WithSACK(2000, 3000, 5000, 6000, 3500, 4000)), 1000, 6000},
		{"edges below ack are ignored", seg(WithSACK(100, 500)), 1000, 1000},
		{"sequence space wraps", seg(WithSACK(0xfffffff0, 0x10)), 0xffffff00, 0x10},
		{"block count not whole: option skipped", seg(WithTCPOptions([]byte{1, 1, 5, 6, 0, 0, 0x10, 0})), 1000, 1000},
		{"timestamps only", seg(WithTCPOptions([]byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2})), 1000, 1000},
	}
	var p Packet
	for _, tt := range tests {
		Decode(tt.data, &p)
		if got := p.TCPSACK(tt.ack); got != tt.want {
			t.Errorf("%s: TCPSACK(%d) = %d, want %d", tt.name, tt.ack, got, tt.want)
		}
	}
}

func TestTCPOptionsNoAllocs(t *testing.T) {
	var p Packet
	Decode(BuildTCP(ap("198.18.0.1", 1), ap("198.18.0.2", 2), TCPSyn, 1, 0, 1, nil,
		WithMSS(1460), WithSACKPerm(), WithWScale(7), WithSACK(1, 2)), &p)
	n := testing.AllocsPerRun(100, func() {
		p.TCPMSS()
		p.TCPWScale()
		p.TCPSACKPerm()
		p.TCPSACK(0)
		p.TCPOption(TCPOptTimestamp, 10)
	})
	if n != 0 {
		t.Errorf("option walks: %v allocations, want 0", n)
	}
}
