package target

import (
	"errors"
	"syscall"
	"testing"

	"github.com/gofw/gofw/packet"
)

// rejectRows were checked against iptables-legacy 1.8.9 on Linux 6.18.
var rejectRows = []row{
	{"filter", packet.Input, "-j REJECT", "-j REJECT --reject-with icmp-port-unreachable", " reject-with icmp-port-unreachable", " reject-with icmp-port-unreachable", ""},
	{"filter", packet.Input, "-j REJECT --reject-with icmp-net-unreachable", "-j REJECT --reject-with icmp-net-unreachable", " reject-with icmp-net-unreachable", " reject-with icmp-net-unreachable", ""},
	{"filter", packet.Forward, "-j REJECT --reject-with icmp-host-unreachable", "-j REJECT --reject-with icmp-host-unreachable", " reject-with icmp-host-unreachable", " reject-with icmp-host-unreachable", ""},
	{"filter", packet.Output, "-j REJECT --reject-with icmp-proto-unreachable", "-j REJECT --reject-with icmp-proto-unreachable", " reject-with icmp-proto-unreachable", " reject-with icmp-proto-unreachable", ""},
	{"filter", packet.Input, "-j REJECT --reject-with icmp-net-prohibited", "-j REJECT --reject-with icmp-net-prohibited", " reject-with icmp-net-prohibited", " reject-with icmp-net-prohibited", ""},
	{"filter", packet.Input, "-j REJECT --reject-with icmp-host-prohibited", "-j REJECT --reject-with icmp-host-prohibited", " reject-with icmp-host-prohibited", " reject-with icmp-host-prohibited", ""},
	{"filter", packet.Input, "-j REJECT --reject-with icmp-admin-prohibited", "-j REJECT --reject-with icmp-admin-prohibited", " reject-with icmp-admin-prohibited", " reject-with icmp-admin-prohibited", ""},
	{"filter", packet.Input, "-j REJECT --reject-with net-unreach", "-j REJECT --reject-with icmp-net-unreachable", " reject-with icmp-net-unreachable", " reject-with icmp-net-unreachable", ""},
	{"filter", packet.Input, "-j REJECT --reject-with host-unreach", "-j REJECT --reject-with icmp-host-unreachable", " reject-with icmp-host-unreachable", " reject-with icmp-host-unreachable", ""},
	{"filter", packet.Input, "-j REJECT --reject-with proto-unreach", "-j REJECT --reject-with icmp-proto-unreachable", " reject-with icmp-proto-unreachable", " reject-with icmp-proto-unreachable", ""},
	{"filter", packet.Input, "-j REJECT --reject-with port-unreach", "-j REJECT --reject-with icmp-port-unreachable", " reject-with icmp-port-unreachable", " reject-with icmp-port-unreachable", ""},
	{"filter", packet.Input, "-j REJECT --reject-with net-prohib", "-j REJECT --reject-with icmp-net-prohibited", " reject-with icmp-net-prohibited", " reject-with icmp-net-prohibited", ""},
	{"filter", packet.Input, "-j REJECT --reject-with host-prohib", "-j REJECT --reject-with icmp-host-prohibited", " reject-with icmp-host-prohibited", " reject-with icmp-host-prohibited", ""},
	{"filter", packet.Input, "-j REJECT --reject-with admin-prohib", "-j REJECT --reject-with icmp-admin-prohibited", " reject-with icmp-admin-prohibited", " reject-with icmp-admin-prohibited", ""},
	{"filter", packet.Input, "-j REJECT --reject-with ICMP-HOST-PROHIBITED", "-j REJECT --reject-with icmp-host-prohibited", " reject-with icmp-host-prohibited", " reject-with icmp-host-prohibited", ""},
	{"filter", packet.Input, "-j REJECT --reject-with \"\"", "-j REJECT --reject-with icmp-net-unreachable", " reject-with icmp-net-unreachable", " reject-with icmp-net-unreachable", ""},
	{"filter", packet.Input, "-j REJECT --reject-with h", "-j REJECT --reject-with icmp-host-unreachable", " reject-with icmp-host-unreachable", " reject-with icmp-host-unreachable", ""},
	{"filter", packet.Input, "-j REJECT --reject-with icmp-p", "-j REJECT --reject-with icmp-proto-unreachable", " reject-with icmp-proto-unreachable", " reject-with icmp-proto-unreachable", ""},
	{"filter", packet.Input, "-j REJECT --reject-with icmp-a", "-j REJECT --reject-with icmp-admin-prohibited", " reject-with icmp-admin-prohibited", " reject-with icmp-admin-prohibited", ""},
	{"filter", packet.Input, "-j REJECT --reject-with foo", "", "", "", "exit 2: unknown reject type \"foo\""},
	{"filter", packet.Input, "-j REJECT --reject-with icmp-net-unreachablex", "", "", "", "exit 2: unknown reject type \"icmp-net-unreachablex\""},
	{"filter", packet.Input, "-j REJECT --reject-with tcp-reset", "", "", "", "kernel: ipt_REJECT: TCP_RESET invalid for non-tcp"},
	{"filter", packet.Input, "-p tcp -j REJECT --reject-with tcp-reset", "-p tcp -j REJECT --reject-with tcp-reset", " reject-with tcp-reset", " reject-with tcp-reset", ""},
	{"filter", packet.Input, "-p tcp -j REJECT --reject-with tcp-rst", "-p tcp -j REJECT --reject-with tcp-reset", " reject-with tcp-reset", " reject-with tcp-reset", ""},
	{"filter", packet.Input, "-p tcp -j REJECT --reject-with t", "-p tcp -j REJECT --reject-with tcp-reset", " reject-with tcp-reset", " reject-with tcp-reset", ""},
	{"filter", packet.Input, "! -p tcp -j REJECT --reject-with tcp-reset", "", "", "", "kernel: ipt_REJECT: TCP_RESET invalid for non-tcp"},
	{"filter", packet.Input, "-p udp -j REJECT --reject-with tcp-reset", "", "", "", "kernel: ipt_REJECT: TCP_RESET invalid for non-tcp"},
	{"filter", packet.Input, "-p udp -j REJECT --reject-with icmp-port-unreachable", "-p udp -j REJECT --reject-with icmp-port-unreachable", " reject-with icmp-port-unreachable", " reject-with icmp-port-unreachable", ""},
	{"filter", packet.Input, "-j REJECT --reject-with net-unreach --reject-with host-unreach", "", "", "", "generic"},
	{"filter", packet.Input, "-j REJECT ! --reject-with net-unreach", "", "", "", "generic"},
	// REJECT target: only valid in filter table, not mangle
	{"mangle", packet.Input, "-j REJECT", "", "", "", "placement"},
	// REJECT target: only valid in filter table, not nat
	{"nat", packet.Prerouting, "-j REJECT", "", "", "", "placement"},
	// REJECT target: only valid in filter table, not raw
	{"raw", packet.Prerouting, "-j REJECT", "", "", "", "placement"},
}

func TestReject(t *testing.T) { runRows(t, rejectRows) }

// TestRejectConformance runs upstream's libipt_REJECT.t.
func TestRejectConformance(t *testing.T) { runTFile(t, "libipt_REJECT.t") }

// TestRejectDumps round-trips the REJECT rules of the real dumps.
func TestRejectDumps(t *testing.T) { runDumps(t, "REJECT", 10) }

// TestRejectCheck checks ipt_REJECT's tcp-reset rule: it looks at -p only,
// not at the chain, and fails with EINVAL.
func TestRejectCheck(t *testing.T) {
	for _, c := range []struct {
		spec string
		ok   bool
	}{
		{"-p tcp -j REJECT --reject-with tcp-reset", true},
		{"-p 6 -j REJECT --reject-with tcp-rst", true},
		{"-j REJECT --reject-with tcp-reset", false},
		{"! -p tcp -j REJECT --reject-with tcp-reset", false},
		{"-p udp -j REJECT --reject-with tcp-reset", false},
		{"-p udp -j REJECT", true},
	} {
		b, err := build(c.spec)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		// 0: a user chain no hook reaches is checked all the same.
		for _, hooks := range []packet.HookMask{packet.Input.Mask(), 0} {
			err := b.check("filter", hooks)
			if (err == nil) != c.ok || err != nil && !errors.Is(err, syscall.EINVAL) {
				t.Errorf("%s (hooks %#x): got %v, want ok=%v", c.spec, hooks, err, c.ok)
			}
		}
	}
}
