package target

import (
	"net/netip"
	"testing"

	"github.com/gofw/gofw/packet"
)

// dnatRows were checked against iptables-legacy 1.8.9 on Linux 6.18.
var dnatRows = []row{
	// Addresses and ranges; the first lines are libipt_DNAT.t's.
	{"nat", packet.Prerouting, "-j DNAT --to-destination 1.1.1.1", "-j DNAT --to-destination 1.1.1.1", " to:1.1.1.1", " to:1.1.1.1", ""},
	{"nat", packet.Prerouting, "-j DNAT --to-destination 1.1.1.1-1.1.1.10", "-j DNAT --to-destination 1.1.1.1-1.1.1.10", " to:1.1.1.1-1.1.1.10", " to:1.1.1.1-1.1.1.10", ""},
	{"nat", packet.Prerouting, "-j DNAT --to-destination 1.1.1.1:1025-65535", "", "", "", "exit 2: Need TCP, UDP, SCTP or DCCP with port specification"},
	{"nat", packet.Prerouting, "-j DNAT --to-destination 1.1.1.1 --to-destination 2.2.2.2", "", "", "", "generic"},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:1025-65535", "-p tcp -j DNAT --to-destination 1.1.1.1:1025-65535", " to:1.1.1.1:1025-65535", " to:1.1.1.1:1025-65535", ""},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1-1.1.1.10:1025-65535", "-p tcp -j DNAT --to-destination 1.1.1.1-1.1.1.10:1025-65535", " to:1.1.1.1-1.1.1.10:1025-65535", " to:1.1.1.1-1.1.1.10:1025-65535", ""},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1-1.1.1.10:1025-65536", "", "", "", "exit 2: Port `65536' not valid"},
	// Shifted port maps (revision 2 keeps the base port).
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:1000-2000/1000", "-p tcp -j DNAT --to-destination 1.1.1.1:1000-2000/1000", " to:1.1.1.1:1000-2000/1000", " to:1.1.1.1:1000-2000/1000", ""},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:1000-2000/3000", "-p tcp -j DNAT --to-destination 1.1.1.1:1000-2000/3000", " to:1.1.1.1:1000-2000/3000", " to:1.1.1.1:1000-2000/3000", ""},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:1000-2000/65535", "-p tcp -j DNAT --to-destination 1.1.1.1:1000-2000/65535", " to:1.1.1.1:1000-2000/65535", " to:1.1.1.1:1000-2000/65535", ""},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:1000-2000/0", "", "", "", "exit 2: Port `0' not valid"},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:1000-2000/65536", "", "", "", "exit 2: Port `65536' not valid"},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:ssh", "-p tcp -j DNAT --to-destination 1.1.1.1:22", " to:1.1.1.1:22", " to:1.1.1.1:22", ""},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:ftp-data", "-p tcp -j DNAT --to-destination 1.1.1.1:20", " to:1.1.1.1:20", " to:1.1.1.1:20", ""},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:echo-ssh", "", "", "", "exit 2: Port `echo-ssh' not valid"},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:10-20/ftp", "-p tcp -j DNAT --to-destination 1.1.1.1:10-20/21", " to:1.1.1.1:10-20/21", " to:1.1.1.1:10-20/21", ""},
	{"nat", packet.Prerouting, "-j DNAT", "", "", "", "exit 2: DNAT: option \"--to-destination\" must be specified\n"},
	// Which -p allows ports: by number, inversion ignored; ICMP too.
	{"nat", packet.Prerouting, "-p icmp -j DNAT --to-destination 1.1.1.1:1025-65535", "-p icmp -j DNAT --to-destination 1.1.1.1:1025-65535", " to:1.1.1.1:1025-65535", " to:1.1.1.1:1025-65535", ""},
	{"nat", packet.Prerouting, "-p udp -j DNAT --to-destination 1.1.1.1:1025-65535", "-p udp -j DNAT --to-destination 1.1.1.1:1025-65535", " to:1.1.1.1:1025-65535", " to:1.1.1.1:1025-65535", ""},
	{"nat", packet.Prerouting, "-p sctp -j DNAT --to-destination 1.1.1.1:1025", "-p sctp -j DNAT --to-destination 1.1.1.1:1025", " to:1.1.1.1:1025", " to:1.1.1.1:1025", ""},
	{"nat", packet.Prerouting, "-p dccp -j DNAT --to-destination 1.1.1.1:1025", "-p dccp -j DNAT --to-destination 1.1.1.1:1025", " to:1.1.1.1:1025", " to:1.1.1.1:1025", ""},
	{"nat", packet.Prerouting, "-p udplite -j DNAT --to-destination 1.1.1.1:1025", "", "", "", "exit 2: Need TCP, UDP, SCTP or DCCP with port specification"},
	{"nat", packet.Prerouting, "! -p tcp -j DNAT --to-destination 1.1.1.1:1025", "! -p tcp -j DNAT --to-destination 1.1.1.1:1025", " to:1.1.1.1:1025", " to:1.1.1.1:1025", ""},
	// parse_ports: C numbers, service names only for a single port or the base.
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:10-20/ssh-x", "", "", "", "exit 2: Port `ssh-x' not valid"},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:10-20/30x", "-p tcp -j DNAT --to-destination 1.1.1.1:10-20/30", " to:1.1.1.1:10-20/30", " to:1.1.1.1:10-20/30", ""},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:10-20/0x10", "-p tcp -j DNAT --to-destination 1.1.1.1:10-20/16", " to:1.1.1.1:10-20/16", " to:1.1.1.1:10-20/16", ""},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:10-20/", "", "", "", "exit 2: Port `' not valid"},
	// parse_to's colon handling: no address, two-character address, second colon.
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination :80", "-p tcp -j DNAT --to-destination :80", " to::80", " to::80", ""},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 12:80", "-p tcp -j DNAT --to-destination :80", " to::80", " to::80", ""},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1:80", "", "", "", "exit 2: Bad IP address \"1\""},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:80:90", "", "", "", "exit 2: Bad IP address \"1.1.1.1:80:90\""},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1-1.1.1.2:80:90", "", "", "", "exit 2: Bad IP address \"1.1.1.2:80:90\""},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:80x", "", "", "", "exit 2: Garbage after port value: `x'"},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:90-80", "", "", "", "exit 2: Port range `80' funky"},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:90-80/5", "", "", "", "exit 2: Port range `80/5' funky"},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:80-90x", "", "", "", "exit 2: Garbage after port range: `x'"},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:80-ssh", "", "", "", "exit 2: Port `ssh' not valid"},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:0x50", "-p tcp -j DNAT --to-destination 1.1.1.1:80", " to:1.1.1.1:80", " to:1.1.1.1:80", ""},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:", "", "", "", "exit 2: Port `' not valid"},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:-5", "", "", "", "exit 2: Port `-5' not valid"},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:70000-80000", "", "", "", "exit 2: Port `70000-80000' not valid"},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:80-", "", "", "", "exit 2: Port `' not valid"},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination \"1.1.1.1: 80\"", "-p tcp -j DNAT --to-destination 1.1.1.1:80", " to:1.1.1.1:80", " to:1.1.1.1:80", ""},
	// Addresses are inet_pton dotted quads.
	{"nat", packet.Prerouting, "-j DNAT --to-destination 1.1.1.300", "", "", "", "exit 2: Bad IP address \"1.1.1.300\""},
	{"nat", packet.Prerouting, "-j DNAT --to-destination 1.1.1.1-1.1.1", "", "", "", "exit 2: Bad IP address \"1.1.1\""},
	{"nat", packet.Prerouting, "-j DNAT --to-destination 1.1.1.10-1.1.1.1", "-j DNAT --to-destination 1.1.1.10-1.1.1.1", " to:1.1.1.10-1.1.1.1", " to:1.1.1.10-1.1.1.1", ""},
	{"nat", packet.Prerouting, "-j DNAT --to-destination 1.1.1.1-1.1.1.2-1.1.1.3", "", "", "", "exit 2: Bad IP address \"1.1.1.2-1.1.1.3\""},
	{"nat", packet.Prerouting, "-j DNAT --to-destination 01.1.1.1", "", "", "", "exit 2: Bad IP address \"01.1.1.1\""},
	{"nat", packet.Prerouting, "-j DNAT --to-destination [1.1.1.1]", "", "", "", "exit 2: Invalid address format"},
	{"nat", packet.Prerouting, "-j DNAT --to-destination [1.1.1.1]:80", "", "", "", "exit 2: Invalid address format"},
	{"nat", packet.Prerouting, "-j DNAT --to-destination \"\"", "", "", "", "exit 2: Bad IP address \"\""},
	{"nat", packet.Prerouting, "-j DNAT --to-destination -1.1.1.1", "", "", "", "exit 2: Bad IP address \"\""},
	{"nat", packet.Prerouting, "-j DNAT --to-destination 1.1.1.1-", "", "", "", "exit 2: Bad IP address \"\""},
	{"nat", packet.Prerouting, "-j DNAT --to-destination ::1", "", "", "", "exit 2: Bad IP address \"::1\""},
	// Flags, repeats and error order.
	{"nat", packet.Prerouting, "-j DNAT --to-destination 1.1.1.1 --random --persistent", "-j DNAT --to-destination 1.1.1.1 --random --persistent", " to:1.1.1.1 random persistent", " to:1.1.1.1 random persistent", ""},
	{"nat", packet.Prerouting, "-j DNAT --to-destination 1.1.1.1 --persistent --random", "-j DNAT --to-destination 1.1.1.1 --random --persistent", " to:1.1.1.1 random persistent", " to:1.1.1.1 random persistent", ""},
	{"nat", packet.Prerouting, "-j DNAT --to-destination 1.1.1.1 --random-fully", "", "", "", "exit 2: unknown option \"--random-fully\""},
	{"nat", packet.Prerouting, "-j DNAT --random", "", "", "", "exit 2: DNAT: option \"--to-destination\" must be specified\n"},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:80 --to-destination 2.2.2.2", "", "", "", "generic"},
	{"nat", packet.Prerouting, "-j DNAT --to-destination bad --to-destination 1.1.1.1", "", "", "", "exit 2: Bad IP address \"bad\""},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:80-80", "-p tcp -j DNAT --to-destination 1.1.1.1:80", " to:1.1.1.1:80", " to:1.1.1.1:80", ""},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:80-80/80", "-p tcp -j DNAT --to-destination 1.1.1.1:80/80", " to:1.1.1.1:80/80", " to:1.1.1.1:80/80", ""},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:80/80", "", "", "", "exit 2: Garbage after port value: `/80'"},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1:ssh-22", "", "", "", "exit 2: Port `ssh-22' not valid"},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.1-2.2.2.2:0", "-p tcp -j DNAT --to-destination 1.1.1.1-2.2.2.2:0", " to:1.1.1.1-2.2.2.2:0", " to:1.1.1.1-2.2.2.2:0", ""},
	{"nat", packet.Prerouting, "-j DNAT --to-destination 1.1.1.300:80x", "", "", "", "exit 2: Need TCP, UDP, SCTP or DCCP with port specification"},
	{"nat", packet.Prerouting, "-p tcp -j DNAT --to-destination 1.1.1.300:80x", "", "", "", "exit 2: Garbage after port value: `x'"},
	// Placement: nat PREROUTING and OUTPUT only.
	{"nat", packet.Output, "-j DNAT --to-destination 1.1.1.1", "-j DNAT --to-destination 1.1.1.1", " to:1.1.1.1", " to:1.1.1.1", ""},
	// DNAT target: used from hooks INPUT, but only usable from PREROUTING/OUTPUT
	{"nat", packet.Input, "-j DNAT --to-destination 1.1.1.1", "", "", "", "placement"},
	// DNAT target: used from hooks POSTROUTING, but only usable from PREROUTING/OUTPUT
	{"nat", packet.Postrouting, "-j DNAT --to-destination 1.1.1.1", "", "", "", "placement"},
	// DNAT target: only valid in nat table, not filter
	{"filter", packet.Input, "-j DNAT --to-destination 1.1.1.1", "", "", "", "placement"},
}

func TestDNAT(t *testing.T) { runRows(t, dnatRows) }

// TestDNATConformance runs upstream's libipt_DNAT.t.
func TestDNATConformance(t *testing.T) { runTFile(t, "libipt_DNAT.t") }

// TestNATRangeValues checks the typed ranges the datapath reads, for the
// four NAT targets.
func TestNATRangeValues(t *testing.T) {
	a := netip.MustParseAddr
	for _, c := range []struct {
		spec string
		want NATRange
	}{
		{"-j DNAT --to-destination 198.18.0.1",
			NATRange{Flags: NATMapIPs, MinAddr: a("198.18.0.1"), MaxAddr: a("198.18.0.1")}},
		{"-j DNAT --to-destination 198.18.0.10-198.18.0.1 --random --persistent",
			NATRange{Flags: NATMapIPs | NATRandom | NATPersistent, MinAddr: a("198.18.0.10"), MaxAddr: a("198.18.0.1")}},
		{"-p tcp -j DNAT --to-destination 198.18.0.1-198.18.0.9:1000-2000/ftp",
			NATRange{Flags: NATMapIPs | NATProtoSpecified | NATProtoOffset, MinAddr: a("198.18.0.1"), MaxAddr: a("198.18.0.9"), MinPort: 1000, MaxPort: 2000, BasePort: 21}},
		{"-p udp -j DNAT --to-destination :ssh",
			NATRange{Flags: NATProtoSpecified, MinPort: 22, MaxPort: 22}},
		// parse_to skips an address part of exactly two characters.
		{"-p tcp -j DNAT --to-destination 12:80",
			NATRange{Flags: NATProtoSpecified, MinPort: 80, MaxPort: 80}},
		{"-j SNAT --to-source 198.18.0.1 --random-fully",
			NATRange{Flags: NATMapIPs | NATRandomFully, MinAddr: a("198.18.0.1"), MaxAddr: a("198.18.0.1")}},
		// SNAT and MASQUERADE lose the base port (compatBase).
		{"-p tcp -j SNAT --to-source 198.18.0.1:1024-2047/4096",
			NATRange{Flags: NATMapIPs | NATProtoSpecified | NATProtoOffset, MinAddr: a("198.18.0.1"), MaxAddr: a("198.18.0.1"), MinPort: 1024, MaxPort: 2047}},
		{"-p tcp -j MASQUERADE --to-ports 10-20/30 --random",
			NATRange{Flags: NATProtoSpecified | NATProtoOffset | NATRandom, MinPort: 10, MaxPort: 20}},
		{"-j MASQUERADE", NATRange{}},
		{"-p icmp -j REDIRECT --to-ports 0x10-0x20",
			NATRange{Flags: NATProtoSpecified, MinPort: 16, MaxPort: 32}},
	} {
		b, err := build(c.spec)
		if err != nil {
			t.Errorf("%s: %v", c.spec, err)
			continue
		}
		var got NATRange
		switch tg := b.tg.(type) {
		case *DNAT:
			got = tg.Range
		case *SNAT:
			got = tg.Range
		case *Masquerade:
			got = tg.Range
		case *Redirect:
			got = tg.Range
		}
		if got != c.want {
			t.Errorf("%s:\n got %+v\nwant %+v", c.spec, got, c.want)
		}
	}
}

// TestNATFinalTwice checks that Final can run again (a rule rebuilt for
// -D or a restore retry) without the range piling up.
func TestNATFinalTwice(t *testing.T) {
	b, err := build("-p tcp -j DNAT --to-destination 198.18.0.1:80 --random")
	if err != nil {
		t.Fatal(err)
	}
	first := b.tg.(*DNAT).Range
	if err := b.tg.Final(&b.rule); err != nil {
		t.Fatal(err)
	}
	if got := b.tg.(*DNAT).Range; got != first {
		t.Errorf("second Final: got %+v, want %+v", got, first)
	}
}
