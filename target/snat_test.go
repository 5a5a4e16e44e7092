package target

import (
	"testing"

	"github.com/gofw/gofw/packet"
)

// snatRows were checked against iptables-legacy 1.8.9 on Linux 6.18.
var snatRows = []row{
	{"nat", packet.Postrouting, "-j SNAT --to-source 1.1.1.1", "-j SNAT --to-source 1.1.1.1", " to:1.1.1.1", " to:1.1.1.1", ""},
	{"nat", packet.Postrouting, "-j SNAT --to-source 1.1.1.1-1.1.1.10", "-j SNAT --to-source 1.1.1.1-1.1.1.10", " to:1.1.1.1-1.1.1.10", " to:1.1.1.1-1.1.1.10", ""},
	{"nat", packet.Postrouting, "-j SNAT --to-source 1.1.1.1:1025-65535", "", "", "", "exit 2: Need TCP, UDP, SCTP or DCCP with port specification"},
	{"nat", packet.Postrouting, "-j SNAT --to-source 1.1.1.1 --to-source 2.2.2.2", "", "", "", "generic"},
	{"nat", packet.Postrouting, "-j SNAT --to-source 1.1.1.1 --random", "-j SNAT --to-source 1.1.1.1 --random", " to:1.1.1.1 random", " to:1.1.1.1 random", ""},
	{"nat", packet.Postrouting, "-j SNAT --to-source 1.1.1.1 --random-fully", "-j SNAT --to-source 1.1.1.1 --random-fully", " to:1.1.1.1 random-fully", " to:1.1.1.1 random-fully", ""},
	{"nat", packet.Postrouting, "-j SNAT --to-source 1.1.1.1 --persistent", "-j SNAT --to-source 1.1.1.1 --persistent", " to:1.1.1.1 persistent", " to:1.1.1.1 persistent", ""},
	{"nat", packet.Postrouting, "-j SNAT --to-source 1.1.1.1 --random --persistent", "-j SNAT --to-source 1.1.1.1 --random --persistent", " to:1.1.1.1 random persistent", " to:1.1.1.1 random persistent", ""},
	{"nat", packet.Postrouting, "-j SNAT --to-source 1.1.1.1 --random --random-fully", "-j SNAT --to-source 1.1.1.1 --random --random-fully", " to:1.1.1.1 random random-fully", " to:1.1.1.1 random random-fully", ""},
	{"nat", packet.Postrouting, "-j SNAT --to-source 1.1.1.1 --random --random-fully --persistent", "-j SNAT --to-source 1.1.1.1 --random --random-fully --persistent", " to:1.1.1.1 random random-fully persistent", " to:1.1.1.1 random random-fully persistent", ""},
	{"nat", packet.Postrouting, "-j SNAT --to-source 1.1.1.1 --random-fully --persistent --random", "-j SNAT --to-source 1.1.1.1 --random --random-fully --persistent", " to:1.1.1.1 random random-fully persistent", " to:1.1.1.1 random random-fully persistent", ""},
	{"nat", packet.Postrouting, "-p tcp -j SNAT --to-source 1.1.1.1:1025-65535", "-p tcp -j SNAT --to-source 1.1.1.1:1025-65535", " to:1.1.1.1:1025-65535", " to:1.1.1.1:1025-65535", ""},
	{"nat", packet.Postrouting, "-p tcp -j SNAT --to-source 1.1.1.1-1.1.1.10:1025-65535", "-p tcp -j SNAT --to-source 1.1.1.1-1.1.1.10:1025-65535", " to:1.1.1.1-1.1.1.10:1025-65535", " to:1.1.1.1-1.1.1.10:1025-65535", ""},
	{"nat", packet.Postrouting, "-p tcp -j SNAT --to-source 1.1.1.1-1.1.1.10:1025-65536", "", "", "", "exit 2: Port `65536' not valid"},
	{"nat", packet.Postrouting, "-p tcp -j SNAT --to-source 1.1.1.1-1.1.1.10:1025-65535 --to-source 2.2.2.2-2.2.2.20:1025-65535", "", "", "", "generic"},
	{"nat", packet.Postrouting, "-j SNAT", "", "", "", "exit 2: SNAT: option \"--to-source\" must be specified\n"},
	{"nat", packet.Postrouting, "-j SNAT --random", "", "", "", "exit 2: SNAT: option \"--to-source\" must be specified\n"},
	{"nat", packet.Postrouting, "-p tcp -j SNAT --to-source 1.1.1.1:1025-65535/100", "-p tcp -j SNAT --to-source 1.1.1.1:1025-65535/0", " to:1.1.1.1:1025-65535/0", " to:1.1.1.1:1025-65535/0", ""},
	{"nat", packet.Postrouting, "-p tcp -j SNAT --to-source 1.1.1.1:ssh", "-p tcp -j SNAT --to-source 1.1.1.1:22", " to:1.1.1.1:22", " to:1.1.1.1:22", ""},
	{"nat", packet.Postrouting, "-p tcp -j SNAT --to-source :80", "-p tcp -j SNAT --to-source :80", " to::80", " to::80", ""},
	{"nat", packet.Postrouting, "-p tcp -j SNAT --to-source 12:80", "-p tcp -j SNAT --to-source :80", " to::80", " to::80", ""},
	{"nat", packet.Postrouting, "-p icmp -j SNAT --to-source 1.1.1.1:5", "-p icmp -j SNAT --to-source 1.1.1.1:5", " to:1.1.1.1:5", " to:1.1.1.1:5", ""},
	{"nat", packet.Postrouting, "-j SNAT --to-source 1.1.1.1 ! --random", "", "", "", "generic"},
	{"nat", packet.Input, "-j SNAT --to-source 1.1.1.1", "-j SNAT --to-source 1.1.1.1", " to:1.1.1.1", " to:1.1.1.1", ""},
	// SNAT target: used from hooks PREROUTING, but only usable from INPUT/POSTROUTING
	{"nat", packet.Prerouting, "-j SNAT --to-source 1.1.1.1", "", "", "", "placement"},
	// SNAT target: used from hooks OUTPUT, but only usable from INPUT/POSTROUTING
	{"nat", packet.Output, "-j SNAT --to-source 1.1.1.1", "", "", "", "placement"},
}

func TestSNAT(t *testing.T) { runRows(t, snatRows) }

// TestSNATConformance runs upstream's libipt_SNAT.t.
func TestSNATConformance(t *testing.T) { runTFile(t, "libipt_SNAT.t") }
