package target

import (
	"testing"

	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
)

// nflogRows were checked against iptables-legacy 1.8.9 on Linux 6.18.
var nflogRows = []row{
	{"filter", packet.Input, "-j NFLOG --nflog-group 1", "-j NFLOG --nflog-group 1", " nflog-group 1", " nflog-group 1", ""},
	{"filter", packet.Input, "-j NFLOG --nflog-group 65535", "-j NFLOG --nflog-group 65535", " nflog-group 65535", " nflog-group 65535", ""},
	{"filter", packet.Input, "-j NFLOG --nflog-group 65536", "", "", "", "exit 2: NFLOG: bad value for option \"--nflog-group\", or out of range (0-65535).\n"},
	{"filter", packet.Input, "-j NFLOG --nflog-group 0", "-j NFLOG", "", "", ""},
	{"filter", packet.Input, "-j NFLOG --nflog-group 0x10", "-j NFLOG --nflog-group 16", " nflog-group 16", " nflog-group 16", ""},
	{"filter", packet.Input, "-j NFLOG --nflog-group -1", "", "", "", "exit 2: NFLOG: bad value for option \"--nflog-group\", or out of range (0-65535).\n"},
	{"filter", packet.Input, "-j NFLOG --nflog-group \"\"", "", "", "", "exit 2: NFLOG: bad value for option \"--nflog-group\", or out of range (0-65535).\n"},
	{"filter", packet.Input, "-j NFLOG --nflog-range 1", "-j NFLOG --nflog-range 1", " nflog-range 1", " nflog-range 1", ""},
	{"filter", packet.Input, "-j NFLOG --nflog-range 4294967295", "-j NFLOG --nflog-range 4294967295", " nflog-range 4294967295", " nflog-range 4294967295", ""},
	{"filter", packet.Input, "-j NFLOG --nflog-range 4294967296", "", "", "", "exit 2: NFLOG: bad value for option \"--nflog-range\", or out of range (0-4294967295).\n"},
	{"filter", packet.Input, "-j NFLOG --nflog-range -1", "", "", "", "exit 2: NFLOG: bad value for option \"--nflog-range\", or out of range (0-4294967295).\n"},
	{"filter", packet.Input, "-j NFLOG --nflog-range 0", "-j NFLOG", "", "", ""},
	{"filter", packet.Input, "-j NFLOG --nflog-size 0", "-j NFLOG --nflog-size 0", " nflog-size 0", " nflog-size 0", ""},
	{"filter", packet.Input, "-j NFLOG --nflog-size 1", "-j NFLOG --nflog-size 1", " nflog-size 1", " nflog-size 1", ""},
	{"filter", packet.Input, "-j NFLOG --nflog-size 4294967295", "-j NFLOG --nflog-size 4294967295", " nflog-size 4294967295", " nflog-size 4294967295", ""},
	{"filter", packet.Input, "-j NFLOG --nflog-size 4294967296", "", "", "", "exit 2: NFLOG: bad value for option \"--nflog-size\", or out of range (0-4294967295).\n"},
	{"filter", packet.Input, "-j NFLOG --nflog-size -1", "", "", "", "exit 2: NFLOG: bad value for option \"--nflog-size\", or out of range (0-4294967295).\n"},
	{"filter", packet.Input, "-j NFLOG --nflog-prefix xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "-j NFLOG --nflog-prefix xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", " nflog-prefix xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", " nflog-prefix xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", ""},
	{"filter", packet.Input, "-j NFLOG --nflog-prefix xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "-j NFLOG --nflog-prefix xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", " nflog-prefix xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", " nflog-prefix xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", ""},
	{"filter", packet.Input, "-j NFLOG --nflog-prefix \"\"", "", "", "", "exit 2: Argument must have a minimum length of 1 characters\n"},
	{"filter", packet.Input, "-j NFLOG --nflog-prefix \"a b\"", "-j NFLOG --nflog-prefix \"a b\"", " nflog-prefix \"a b\"", " nflog-prefix \"a b\"", ""},
	{"filter", packet.Input, "-j NFLOG --nflog-prefix \"say \\\"hi\\\"\"", "-j NFLOG --nflog-prefix \"say \\\\hi\\\\\"", " nflog-prefix \"say \\\\hi\\\\\"", " nflog-prefix \"say \\\\hi\\\\\"", ""},
	{"filter", packet.Input, "-j NFLOG --nflog-threshold 1", "-j NFLOG --nflog-threshold 1", " nflog-threshold 1", " nflog-threshold 1", ""},
	{"filter", packet.Input, "-j NFLOG --nflog-threshold 0", "-j NFLOG", "", "", ""},
	{"filter", packet.Input, "-j NFLOG --nflog-threshold 65535", "-j NFLOG --nflog-threshold 65535", " nflog-threshold 65535", " nflog-threshold 65535", ""},
	{"filter", packet.Input, "-j NFLOG --nflog-threshold 65536", "", "", "", "exit 2: NFLOG: bad value for option \"--nflog-threshold\", or out of range (0-65535).\n"},
	{"filter", packet.Input, "-j NFLOG", "-j NFLOG", "", "", ""},
	{"filter", packet.Input, "-j NFLOG --nflog-group 3 --nflog-threshold 5 --nflog-prefix p --nflog-size 100", "-j NFLOG --nflog-prefix p --nflog-group 3 --nflog-size 100 --nflog-threshold 5", " nflog-prefix p nflog-group 3 nflog-size 100 nflog-threshold 5", " nflog-prefix p nflog-group 3 nflog-size 100 nflog-threshold 5", ""},
	// iptables also prints a warning about --nflog-range first; gofw has no
	// channel for warnings.
	{"filter", packet.Input, "-j NFLOG --nflog-size 5 --nflog-range 7", "", "", "", "exit 2: NFLOG: option \"--nflog-range\" cannot be used together with \"--nflog-size\".\n"},
	{"filter", packet.Input, "-j NFLOG --nflog-group 1 --nflog-group 2", "", "", "", "generic"},
	{"filter", packet.Input, "-j NFLOG --nflog-group 3 --nflog-threshold 5", "-j NFLOG --nflog-group 3 --nflog-threshold 5", " nflog-group 3 nflog-threshold 5", " nflog-group 3 nflog-threshold 5", ""},
}

func TestNFLog(t *testing.T) { runRows(t, nflogRows) }

// TestNFLogConformance runs upstream's libxt_NFLOG.t.
func TestNFLogConformance(t *testing.T) { runTFile(t, "libxt_NFLOG.t") }

// TestNFLogDumps round-trips the NFLOG rules of the real dumps.
func TestNFLogDumps(t *testing.T) { runDumps(t, "NFLOG", 3) }

// TestNFLogNewline checks NFLOG's newline refusal, worded as LOG's.
func TestNFLogNewline(t *testing.T) {
	tg := nflogInfo.New()
	err := tg.Parse(&match.Arg{Name: "nflog-prefix", Value: "a\nb"})
	if got, want := errText(err), "exit 2: Newlines not allowed in --log-prefix"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
