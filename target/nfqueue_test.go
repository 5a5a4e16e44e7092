package target

import (
	"testing"

	"github.com/gofw/gofw/packet"
)

// nfqueueRows were checked against iptables-legacy 1.8.9 on Linux 6.18.
var nfqueueRows = []row{
	// libxt_NFQUEUE.t's lines (open ranges end at 65534, as upstream since 1.8.11).
	{"filter", packet.Input, "-j NFQUEUE", "-j NFQUEUE --queue-num 0", " NFQUEUE num 0", " NFQUEUE num 0", ""},
	{"filter", packet.Input, "-j NFQUEUE --queue-num 0", "-j NFQUEUE --queue-num 0", " NFQUEUE num 0", " NFQUEUE num 0", ""},
	{"filter", packet.Input, "-j NFQUEUE --queue-num 65535", "-j NFQUEUE --queue-num 65535", " NFQUEUE num 65535", " NFQUEUE num 65535", ""},
	{"filter", packet.Input, "-j NFQUEUE --queue-num 65536", "", "", "", "exit 2: NFQUEUE: bad value for option \"--queue-num\", or out of range (0-65535).\n"},
	{"filter", packet.Input, "-j NFQUEUE --queue-num -1", "", "", "", "exit 2: NFQUEUE: bad value for option \"--queue-num\", or out of range (0-65535).\n"},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance 0:65534", "-j NFQUEUE --queue-balance 0:65534", " NFQUEUE balance 0:65534", " NFQUEUE balance 0:65534", ""},
	// 1.8.9 says (0-65535) but sends 65535 to the kernel, which refuses it;
	// gofw follows upstream (a392cf0e) and libxt_NFQUEUE.t: the maximum is 65534.
	{"filter", packet.Input, "-j NFQUEUE --queue-balance 0:65536", "", "", "", "exit 2: NFQUEUE: bad value for option \"--queue-balance\" near \"65536\", or out of range (0-65534).\n"},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance -1:65535", "", "", "", "exit 2: NFQUEUE: bad value for option \"--queue-balance\" near \"-1:65535\", or out of range (0-65534).\n"},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance 4", "", "", "", "exit 2: Bad range \"4\""},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance :4", "-j NFQUEUE --queue-balance 0:4", " NFQUEUE balance 0:4", " NFQUEUE balance 0:4", ""},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance 3:4", "-j NFQUEUE --queue-balance 3:4", " NFQUEUE balance 3:4", " NFQUEUE balance 3:4", ""},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance 4:4", "", "", "", "exit 2: 4 should be less than 4"},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance 4:3", "", "", "", "exit 2: 4 should be less than 3"},
	{"filter", packet.Input, "-j NFQUEUE --queue-num 10 --queue-bypass", "-j NFQUEUE --queue-num 10 --queue-bypass", " NFQUEUE num 10 bypass", " NFQUEUE num 10 bypass", ""},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance 0:6 --queue-cpu-fanout --queue-bypass", "-j NFQUEUE --queue-balance 0:6 --queue-bypass --queue-cpu-fanout", " NFQUEUE balance 0:6 bypass cpu-fanout", " NFQUEUE balance 0:6 bypass cpu-fanout", ""},
	{"filter", packet.Input, "-j NFQUEUE --queue-bypass --queue-balance 0:6 --queue-cpu-fanout", "-j NFQUEUE --queue-balance 0:6 --queue-bypass --queue-cpu-fanout", " NFQUEUE balance 0:6 bypass cpu-fanout", " NFQUEUE balance 0:6 bypass cpu-fanout", ""},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance 0:6 --queue-bypass", "-j NFQUEUE --queue-balance 0:6 --queue-bypass", " NFQUEUE balance 0:6 bypass", " NFQUEUE balance 0:6 bypass", ""},
	{"filter", packet.Input, "-j NFQUEUE --queue-bypass", "-j NFQUEUE --queue-num 0 --queue-bypass", " NFQUEUE num 0 bypass", " NFQUEUE num 0 bypass", ""},
	// Exclusions, and xtopt_parse_mint's range syntax.
	{"filter", packet.Input, "-j NFQUEUE --queue-num 1 --queue-balance 1:2", "", "", "", "exit 2: NFQUEUE: option \"--queue-num\" cannot be used together with \"--queue-balance\".\n"},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance 1:2 --queue-num 1", "", "", "", "exit 2: NFQUEUE: option \"--queue-num\" cannot be used together with \"--queue-balance\".\n"},
	{"filter", packet.Input, "-j NFQUEUE --queue-cpu-fanout", "", "", "", "exit 2: NFQUEUE: option \"--queue-cpu-fanout\" also requires \"--queue-balance\".\n"},
	{"filter", packet.Input, "-j NFQUEUE --queue-cpu-fanout --queue-num 3", "", "", "", "exit 2: NFQUEUE: option \"--queue-cpu-fanout\" also requires \"--queue-balance\".\n"},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance 1:2:3", "", "", "", "exit 2: NFQUEUE: Too many components for option \"--queue-balance\" (max: 2)\n"},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance 1x:2", "", "", "", "exit 2: NFQUEUE: Argument to \"--queue-balance\" has unexpected characters near \"x:2\".\n"},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance \"1 :2\"", "", "", "", "exit 2: NFQUEUE: Argument to \"--queue-balance\" has unexpected characters near \" :2\".\n"},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance 0x10:0x20", "-j NFQUEUE --queue-balance 16:32", " NFQUEUE balance 16:32", " NFQUEUE balance 16:32", ""},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance \"\"", "", "", "", "exit 2: Bad range \"\""},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance ::", "", "", "", "exit 2: NFQUEUE: Too many components for option \"--queue-balance\" (max: 2)\n"},
	{"filter", packet.Input, "-j NFQUEUE --queue-num \" 5\"", "-j NFQUEUE --queue-num 5", " NFQUEUE num 5", " NFQUEUE num 5", ""},
	{"filter", packet.Input, "-j NFQUEUE --queue-num 5x", "", "", "", "exit 2: NFQUEUE: bad value for option \"--queue-num\", or out of range (0-65535).\n"},
	{"filter", packet.Input, "-j NFQUEUE --queue-bypass --queue-num 5", "-j NFQUEUE --queue-num 5 --queue-bypass", " NFQUEUE num 5 bypass", " NFQUEUE num 5 bypass", ""},
	{"nat", packet.Prerouting, "-j NFQUEUE --queue-num 5", "-j NFQUEUE --queue-num 5", " NFQUEUE num 5", " NFQUEUE num 5", ""},
}

func TestNFQueue(t *testing.T) { runRows(t, nfqueueRows) }

// TestNFQueueConformance runs upstream's libxt_NFQUEUE.t.
func TestNFQueueConformance(t *testing.T) { runTFile(t, "libxt_NFQUEUE.t") }
