package target

import (
	"testing"

	"github.com/gofw/gofw/packet"
)

// masqueradeRows were checked against iptables-legacy 1.8.9 on Linux 6.18.
var masqueradeRows = []row{
	{"nat", packet.Postrouting, "-j MASQUERADE", "-j MASQUERADE", "", "", ""},
	{"nat", packet.Postrouting, "-j MASQUERADE --random", "-j MASQUERADE --random", " random", " random", ""},
	{"nat", packet.Postrouting, "-j MASQUERADE --random-fully", "-j MASQUERADE --random-fully", " random-fully", " random-fully", ""},
	{"nat", packet.Postrouting, "-j MASQUERADE --random --random-fully", "-j MASQUERADE --random --random-fully", " random random-fully", " random random-fully", ""},
	{"nat", packet.Postrouting, "-p tcp -j MASQUERADE --to-ports 1024", "-p tcp -j MASQUERADE --to-ports 1024", " masq ports: 1024", " masq ports: 1024", ""},
	{"nat", packet.Postrouting, "-p udp -j MASQUERADE --to-ports 1024-65535", "-p udp -j MASQUERADE --to-ports 1024-65535", " masq ports: 1024-65535", " masq ports: 1024-65535", ""},
	{"nat", packet.Postrouting, "-p udp -j MASQUERADE --to-ports 1024-65536", "", "", "", "exit 2: Port `65536' not valid"},
	{"nat", packet.Postrouting, "-p udp -j MASQUERADE --to-ports -1", "", "", "", "exit 2: Port `-1' not valid"},
	{"nat", packet.Postrouting, "-j MASQUERADE --to-ports 1024", "", "", "", "exit 2: Need TCP, UDP, SCTP or DCCP with port specification"},
	{"nat", packet.Postrouting, "-p tcp -j MASQUERADE --to-ports ssh", "-p tcp -j MASQUERADE --to-ports 22", " masq ports: 22", " masq ports: 22", ""},
	{"nat", packet.Postrouting, "-p tcp -j MASQUERADE --to-ports ssh-http", "", "", "", "exit 2: Port `ssh-http' not valid"},
	{"nat", packet.Postrouting, "-p tcp -j MASQUERADE --to-ports 10-ssh", "", "", "", "exit 2: Port `ssh' not valid"},
	{"nat", packet.Postrouting, "-p tcp -j MASQUERADE --to-ports 20-10", "", "", "", "exit 2: Port range `10' funky"},
	{"nat", packet.Postrouting, "-p tcp -j MASQUERADE --to-ports 10:20", "", "", "", "exit 2: Invalid port:port syntax - use dash"},
	{"nat", packet.Postrouting, "-p tcp -j MASQUERADE --to-ports 10-20/30", "-p tcp -j MASQUERADE --to-ports 10-20/0", " masq ports: 10-20/0", " masq ports: 10-20/0", ""},
	{"nat", packet.Postrouting, "-p tcp -j MASQUERADE --to-ports 10x", "", "", "", "exit 2: Garbage after port value: `x'"},
	{"nat", packet.Postrouting, "-p tcp -j MASQUERADE --to-ports 0", "-p tcp -j MASQUERADE --to-ports 0", " masq ports: 0", " masq ports: 0", ""},
	{"nat", packet.Postrouting, "-p tcp -j MASQUERADE --to-ports 0x10-0x20", "-p tcp -j MASQUERADE --to-ports 16-32", " masq ports: 16-32", " masq ports: 16-32", ""},
	{"nat", packet.Postrouting, "-p tcp -j MASQUERADE --to-ports 1024-2000 --random-fully --random", "-p tcp -j MASQUERADE --to-ports 1024-2000 --random --random-fully", " masq ports: 1024-2000 random random-fully", " masq ports: 1024-2000 random random-fully", ""},
	{"nat", packet.Postrouting, "-p tcp -j MASQUERADE --to-ports 1024 --to-ports 1025", "", "", "", "generic"},
	{"nat", packet.Postrouting, "-p tcp -j MASQUERADE --to-ports 1.2.3.4:5", "", "", "", "exit 2: Garbage after port value: `.2.3.4:5'"},
	{"nat", packet.Postrouting, "-j MASQUERADE --persistent", "", "", "", "exit 2: unknown option \"--persistent\""},
	// MASQUERADE target: used from hooks INPUT, but only usable from POSTROUTING
	{"nat", packet.Input, "-j MASQUERADE", "", "", "", "placement"},
	// MASQUERADE target: used from hooks OUTPUT, but only usable from POSTROUTING
	{"nat", packet.Output, "-j MASQUERADE", "", "", "", "placement"},
	// MASQUERADE target: only valid in nat table, not mangle
	{"mangle", packet.Postrouting, "-j MASQUERADE", "", "", "", "placement"},
}

func TestMasquerade(t *testing.T) { runRows(t, masqueradeRows) }

// TestMasqueradeConformance runs upstream's libipt_MASQUERADE.t.
func TestMasqueradeConformance(t *testing.T) { runTFile(t, "libipt_MASQUERADE.t") }
