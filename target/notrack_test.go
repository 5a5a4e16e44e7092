package target

import (
	"testing"

	"github.com/gofw/gofw/packet"
)

// notrackRows were checked against iptables-legacy 1.8.9 on Linux 6.18.
var notrackRows = []row{
	{"raw", packet.Prerouting, "-j NOTRACK", "-j NOTRACK", " NOTRACK", " NOTRACK", ""},
	{"raw", packet.Output, "-j NOTRACK", "-j NOTRACK", " NOTRACK", " NOTRACK", ""},
	{"raw", packet.Prerouting, "-j NOTRACK --notrack", "", "", "", "exit 2: unknown option \"--notrack\""},
	// CT target: only valid in raw table, not mangle
	{"mangle", packet.Prerouting, "-j NOTRACK", "", "", "", "placement"},
}

func TestNoTrack(t *testing.T) { runRows(t, notrackRows) }

// TestNoTrackConformance runs upstream's libxt_NOTRACK.t.
func TestNoTrackConformance(t *testing.T) { runTFile(t, "libxt_NOTRACK.t") }
