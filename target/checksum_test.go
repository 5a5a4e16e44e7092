package target

import (
	"testing"

	"github.com/gofw/gofw/packet"
)

// checksumRows were checked against iptables-legacy 1.8.9 on Linux 6.18.
var checksumRows = []row{
	{"mangle", packet.Postrouting, "-j CHECKSUM --checksum-fill", "-j CHECKSUM --checksum-fill", " CHECKSUM fill", " CHECKSUM fill", ""},
	{"mangle", packet.Postrouting, "-j CHECKSUM", "", "", "", "exit 2: CHECKSUM: option \"--checksum-fill\" must be specified\n"},
	{"mangle", packet.Prerouting, "-j CHECKSUM --checksum-fill", "-j CHECKSUM --checksum-fill", " CHECKSUM fill", " CHECKSUM fill", ""},
	{"mangle", packet.Postrouting, "-j CHECKSUM --checksum-fill --checksum-fill", "", "", "", "generic"},
	{"mangle", packet.Postrouting, "-j CHECKSUM ! --checksum-fill", "", "", "", "generic"},
	// CHECKSUM target: only valid in mangle table, not filter
	{"filter", packet.Output, "-j CHECKSUM --checksum-fill", "", "", "", "placement"},
	// CHECKSUM target: only valid in mangle table, not raw
	{"raw", packet.Output, "-j CHECKSUM --checksum-fill", "", "", "", "placement"},
}

func TestChecksum(t *testing.T) { runRows(t, checksumRows) }

// TestChecksumDumps round-trips the CHECKSUM rule of the libvirt dump.
func TestChecksumDumps(t *testing.T) { runDumps(t, "CHECKSUM", 1) }

// TestChecksumDo checks --checksum-fill on TCP and UDP segments whose
// checksum is missing, half done (the pseudo-header sum a NIC would
// complete) or already right, and the packets it must leave alone.
func TestChecksumDo(t *testing.T) {
	d := doer(t, "-j CHECKSUM --checksum-fill")
	tcp := packet.BuildTCP(ap("198.18.0.1", 1), ap("198.18.0.2", 2), packet.TCPAck, 1, 2, 3, []byte("abc"))
	udp := packet.BuildUDP(ap("198.18.0.1", 68), ap("198.18.0.2", 67), []byte("dhcp"))
	set := func(dg []byte, off int, v uint16) []byte {
		c := append([]byte(nil), dg...)
		c[20+off], c[20+off+1] = byte(v>>8), byte(v)
		return c
	}
	for _, tc := range []struct {
		name    string
		dg      []byte
		changed bool
	}{
		{"tcp, right already", tcp, false},
		{"tcp, zero", set(tcp, 16, 0), true},
		{"tcp, pseudo-header only", set(tcp, 16, 0x1234), true},
		{"udp, right already", udp, false},
		{"udp, none (0)", set(udp, 6, 0), true},
		{"udp, wrong", set(udp, 6, 0xbeef), true},
	} {
		p := decode(t, tc.dg)
		if v := d.Do(p); v != Continue || p.Changed != tc.changed || !p.ChecksumOK() {
			t.Errorf("%s: got %v changed %v checksum ok %v, want CONTINUE %v true", tc.name, v, p.Changed, p.ChecksumOK(), tc.changed)
		}
		if string(p.Data) != string(tcp) && string(p.Data) != string(udp) {
			t.Errorf("%s: filled packet %x differs from the builder's", tc.name, p.Data)
		}
	}
	// A computed 0 goes out as 0xffff: find a UDP payload whose sum makes
	// the checksum 0 by fixing its last two bytes.
	z := packet.BuildUDP(ap("198.18.0.1", 68), ap("198.18.0.2", 67), []byte{0, 0, 0, 0})
	c := uint16(z[26])<<8 | uint16(z[27])
	z[30], z[31] = byte(c>>8), byte(c) // adding the old checksum as data makes the sum ~0
	z[26], z[27] = 0x55, 0x55
	p := decode(t, z)
	d.Do(p)
	if got := uint16(p.Data[26])<<8 | uint16(p.Data[27]); got != 0xffff || !p.ChecksumOK() {
		t.Errorf("zero sum: checksum %#04x ok %v, want 0xffff true", got, p.ChecksumOK())
	}
	// Left alone: fragments, other protocols, malformed headers.
	frag := packet.Fragment(set(udp, 6, 0x1111), 8)
	icmp := packet.BuildICMP(addr("198.18.0.1"), addr("198.18.0.2"), 8, 0, 1, 1, nil)
	for _, dg := range [][]byte{frag[0], frag[1], set(icmp, 2, 0)} {
		p := &packet.Packet{}
		packet.Decode(dg, p)
		before := string(p.Data)
		if d.Do(p); p.Changed || string(p.Data) != before {
			t.Errorf("%x: changed by CHECKSUM", dg)
		}
	}
	p = decode(t, set(tcp, 16, 0))
	noAllocs(t, "CHECKSUM", func() { d.Do(p) })
}
