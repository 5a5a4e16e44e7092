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
