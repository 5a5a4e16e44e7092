package target

import (
	"testing"

	"github.com/gofw/gofw/packet"
)

// redirectRows were checked against iptables-legacy 1.8.9 on Linux 6.18.
var redirectRows = []row{
	{"nat", packet.Prerouting, "-p tcp -j REDIRECT --to-ports 42", "-p tcp -j REDIRECT --to-ports 42", " redir ports 42", " redir ports 42", ""},
	{"nat", packet.Output, "-p tcp -j REDIRECT --to-ports 0", "-p tcp -j REDIRECT --to-ports 0", " redir ports 0", " redir ports 0", ""},
	{"nat", packet.Prerouting, "-p tcp -j REDIRECT --to-ports 65535", "-p tcp -j REDIRECT --to-ports 65535", " redir ports 65535", " redir ports 65535", ""},
	{"nat", packet.Prerouting, "-p tcp -j REDIRECT --to-ports 65536", "", "", "", "exit 2: Port `65536' not valid"},
	{"nat", packet.Prerouting, "-p udp -j REDIRECT --to-ports 0-0", "-p udp -j REDIRECT --to-ports 0", " redir ports 0", " redir ports 0", ""},
	{"nat", packet.Prerouting, "-p udp -j REDIRECT --to-ports 512-512", "-p udp -j REDIRECT --to-ports 512", " redir ports 512", " redir ports 512", ""},
	{"nat", packet.Prerouting, "-p udp -j REDIRECT --to-ports 42-1234", "-p udp -j REDIRECT --to-ports 42-1234", " redir ports 42-1234", " redir ports 42-1234", ""},
	{"nat", packet.Prerouting, "-p tcp -j REDIRECT --to-ports 42-1234 --random", "-p tcp -j REDIRECT --to-ports 42-1234 --random", " redir ports 42-1234 random", " redir ports 42-1234 random", ""},
	{"nat", packet.Prerouting, "-p tcp -j REDIRECT --to-ports 42-1234/567", "", "", "", "exit 2: Shifted portmap ranges not supported with this kernel"},
	{"nat", packet.Prerouting, "-p tcp -j REDIRECT --to-ports ssh", "-p tcp -j REDIRECT --to-ports 22", " redir ports 22", " redir ports 22", ""},
	{"nat", packet.Prerouting, "-p tcp -j REDIRECT --to-ports ftp-data", "-p tcp -j REDIRECT --to-ports 20", " redir ports 20", " redir ports 20", ""},
	{"nat", packet.Prerouting, "-p tcp -j REDIRECT --to-ports ftp-ssh", "", "", "", "exit 2: Port `ftp-ssh' not valid"},
	{"nat", packet.Prerouting, "-p tcp -j REDIRECT --to-ports 10-ssh", "", "", "", "exit 2: Port `ssh' not valid"},
	{"nat", packet.Prerouting, "-j REDIRECT --to-ports 42", "", "", "", "exit 2: Need TCP, UDP, SCTP or DCCP with port specification"},
	{"nat", packet.Prerouting, "-j REDIRECT --random", "-j REDIRECT --random", " random", " random", ""},
	{"nat", packet.Prerouting, "-j REDIRECT", "-j REDIRECT", "", "", ""},
	{"nat", packet.Prerouting, "-p tcp -j REDIRECT --to-ports 42 --random-fully", "", "", "", "exit 2: unknown option \"--random-fully\""},
	{"nat", packet.Prerouting, "-p tcp -j REDIRECT --to-ports 42:50", "", "", "", "exit 2: Invalid port:port syntax - use dash"},
	{"nat", packet.Prerouting, "-p icmp -j REDIRECT --to-ports 5", "-p icmp -j REDIRECT --to-ports 5", " redir ports 5", " redir ports 5", ""},
	// REDIRECT target: used from hooks INPUT, but only usable from PREROUTING/OUTPUT
	{"nat", packet.Input, "-j REDIRECT", "", "", "", "placement"},
	// REDIRECT target: used from hooks POSTROUTING, but only usable from PREROUTING/OUTPUT
	{"nat", packet.Postrouting, "-j REDIRECT", "", "", "", "placement"},
	// REDIRECT target: only valid in nat table, not mangle
	{"mangle", packet.Prerouting, "-j REDIRECT", "", "", "", "placement"},
}

func TestRedirect(t *testing.T) { runRows(t, redirectRows) }

// TestRedirectConformance runs upstream's libxt_REDIRECT.t.
func TestRedirectConformance(t *testing.T) { runTFile(t, "libxt_REDIRECT.t") }
