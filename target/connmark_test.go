package target

import (
	"errors"
	"syscall"
	"testing"

	"github.com/gofw/gofw/packet"
)

// connmarkRows were checked against iptables-legacy 1.8.9 on Linux 6.18.
var connmarkRows = []row{
	// libxt_CONNMARK.t's lines.
	{"mangle", packet.Prerouting, "-j CONNMARK --restore-mark", "-j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff", " CONNMARK restore", " CONNMARK restore", ""},
	{"mangle", packet.Forward, "-j CONNMARK --save-mark", "-j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff", " CONNMARK save", " CONNMARK save", ""},
	{"mangle", packet.Output, "-j CONNMARK --save-mark --nfmask 0xfffffff --ctmask 0xffffffff", "-j CONNMARK --save-mark --nfmask 0xfffffff --ctmask 0xffffffff", " CONNMARK save nfmask 0xfffffff ctmask ~0xffffffff", " CONNMARK save nfmask 0xfffffff ctmask ~0xffffffff", ""},
	{"mangle", packet.Postrouting, "-j CONNMARK --restore-mark --nfmask 0xfffffff --ctmask 0xffffffff", "-j CONNMARK --restore-mark --nfmask 0xfffffff --ctmask 0xffffffff", " CONNMARK restore ctmask 0xffffffff nfmask ~0xfffffff", " CONNMARK restore ctmask 0xffffffff nfmask ~0xfffffff", ""},
	{"mangle", packet.Prerouting, "-j CONNMARK", "", "", "", "exit 2: CONNMARK target: No operation specified"},
	// The set forms all save as --set-xmark; -L picks the simplest reading.
	{"mangle", packet.Prerouting, "-j CONNMARK --set-mark 5", "-j CONNMARK --set-xmark 0x5/0xffffffff", " CONNMARK set 0x5", " CONNMARK set 0x5", ""},
	{"mangle", packet.Prerouting, "-j CONNMARK --set-mark 5/0xff", "-j CONNMARK --set-xmark 0x5/0xff", " CONNMARK xset 0x5/0xff", " CONNMARK xset 0x5/0xff", ""},
	{"mangle", packet.Prerouting, "-j CONNMARK --set-xmark 5", "-j CONNMARK --set-xmark 0x5/0xffffffff", " CONNMARK set 0x5", " CONNMARK set 0x5", ""},
	{"mangle", packet.Prerouting, "-j CONNMARK --set-xmark 5/0xff", "-j CONNMARK --set-xmark 0x5/0xff", " CONNMARK xset 0x5/0xff", " CONNMARK xset 0x5/0xff", ""},
	{"mangle", packet.Prerouting, "-j CONNMARK --and-mark 5", "-j CONNMARK --set-xmark 0x0/0xfffffffa", " CONNMARK and 0x5", " CONNMARK and 0x5", ""},
	{"mangle", packet.Prerouting, "-j CONNMARK --or-mark 5", "-j CONNMARK --set-xmark 0x5/0x5", " CONNMARK or 0x5", " CONNMARK or 0x5", ""},
	{"mangle", packet.Prerouting, "-j CONNMARK --xor-mark 5", "-j CONNMARK --set-xmark 0x5/0x0", " CONNMARK xor 0x5", " CONNMARK xor 0x5", ""},
	{"mangle", packet.Prerouting, "-j CONNMARK --set-mark 0", "-j CONNMARK --set-xmark 0x0/0xffffffff", " CONNMARK and 0x0", " CONNMARK and 0x0", ""},
	{"mangle", packet.Prerouting, "-j CONNMARK --set-xmark 0/0", "-j CONNMARK --set-xmark 0x0/0x0", " CONNMARK and 0xffffffff", " CONNMARK and 0xffffffff", ""},
	// save/restore masks: --mask sets both, and excludes --ctmask/--nfmask.
	{"mangle", packet.Prerouting, "-j CONNMARK --save-mark --mask 0xff", "-j CONNMARK --save-mark --nfmask 0xff --ctmask 0xff", " CONNMARK save mask 0xff", " CONNMARK save mask 0xff", ""},
	{"mangle", packet.Prerouting, "-j CONNMARK --restore-mark --mask 0xff", "-j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xff", " CONNMARK restore mask 0xff", " CONNMARK restore mask 0xff", ""},
	{"mangle", packet.Prerouting, "-j CONNMARK --save-mark --nfmask 0xf", "-j CONNMARK --save-mark --nfmask 0xf --ctmask 0xffffffff", " CONNMARK save nfmask 0xf ctmask ~0xffffffff", " CONNMARK save nfmask 0xf ctmask ~0xffffffff", ""},
	{"mangle", packet.Prerouting, "-j CONNMARK --save-mark --ctmask 0xf", "-j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xf", " CONNMARK save nfmask 0xffffffff ctmask ~0xf", " CONNMARK save nfmask 0xffffffff ctmask ~0xf", ""},
	{"mangle", packet.Prerouting, "-j CONNMARK --save-mark --ctmask 0xf --nfmask 0xff", "-j CONNMARK --save-mark --nfmask 0xff --ctmask 0xf", " CONNMARK save nfmask 0xff ctmask ~0xf", " CONNMARK save nfmask 0xff ctmask ~0xf", ""},
	{"mangle", packet.Prerouting, "-j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xf", "-j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xf", " CONNMARK restore ctmask 0xf nfmask ~0xff", " CONNMARK restore ctmask 0xf nfmask ~0xff", ""},
	{"mangle", packet.Prerouting, "-j CONNMARK --save-mark --mask 0xf --nfmask 0xff", "", "", "", "exit 2: CONNMARK: option \"--nfmask\" cannot be used together with \"--mask\".\n"},
	{"mangle", packet.Prerouting, "-j CONNMARK --save-mark --mask 0xff --ctmask 0xf", "", "", "", "exit 2: CONNMARK: option \"--ctmask\" cannot be used together with \"--mask\".\n"},
	// Options apply in order.
	{"mangle", packet.Prerouting, "-j CONNMARK --set-mark 5 --mask 0xff", "-j CONNMARK --set-xmark 0x5/0xff", " CONNMARK xset 0x5/0xff", " CONNMARK xset 0x5/0xff", ""},
	{"mangle", packet.Prerouting, "-j CONNMARK --mask 0xff --set-mark 5", "-j CONNMARK --set-xmark 0x5/0xffffffff", " CONNMARK set 0x5", " CONNMARK set 0x5", ""},
	{"mangle", packet.Prerouting, "-j CONNMARK --set-mark 5 --nfmask 0xff", "-j CONNMARK --set-xmark 0x5/0xffffffff", " CONNMARK set 0x5", " CONNMARK set 0x5", ""},
	{"mangle", packet.Prerouting, "-j CONNMARK --set-mark 5 --ctmask 0xff", "-j CONNMARK --set-xmark 0x5/0xff", " CONNMARK xset 0x5/0xff", " CONNMARK xset 0x5/0xff", ""},
	{"mangle", packet.Prerouting, "-j CONNMARK --mask 0xff", "", "", "", "exit 2: CONNMARK target: No operation specified"},
	{"mangle", packet.Prerouting, "-j CONNMARK --save-mark --restore-mark", "", "", "", "exit 2: CONNMARK: option \"--save-mark\" cannot be used together with \"--restore-mark\".\n"},
	{"mangle", packet.Prerouting, "-j CONNMARK --restore-mark --save-mark", "", "", "", "exit 2: CONNMARK: option \"--save-mark\" cannot be used together with \"--restore-mark\".\n"},
	{"mangle", packet.Prerouting, "-j CONNMARK --set-mark 1 --save-mark --restore-mark", "", "", "", "exit 2: CONNMARK: option \"--set-mark\" cannot be used together with \"--save-mark\".\n"},
	// Shifts (revision 2).
	{"mangle", packet.Prerouting, "-j CONNMARK --left-shift-mark 3", "", "", "", "exit 2: CONNMARK target: No operation specified"},
	{"mangle", packet.Prerouting, "-j CONNMARK --save-mark --left-shift-mark 3", "-j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff --left-shift-mark 3", " CONNMARK save left-shift-mark 3", " CONNMARK save left-shift-mark 3", ""},
	{"mangle", packet.Prerouting, "-j CONNMARK --restore-mark --right-shift-mark 3", "-j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff --right-shift-mark 3", " CONNMARK restore right-shift-mark 3", " CONNMARK restore right-shift-mark 3", ""},
	{"mangle", packet.Prerouting, "-j CONNMARK --restore-mark --right-shift-mark 31", "-j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff --right-shift-mark 31", " CONNMARK restore right-shift-mark 31", " CONNMARK restore right-shift-mark 31", ""},
	// The parser allows 32; the kernel refuses it with EINVAL and logs nothing.
	{"mangle", packet.Prerouting, "-j CONNMARK --restore-mark --right-shift-mark 32", "", "", "", "kernel: CONNMARK target: shift by 32 bits refused, the kernel allows at most 31"},
	{"mangle", packet.Prerouting, "-j CONNMARK --restore-mark --right-shift-mark 33", "", "", "", "exit 2: CONNMARK: bad value for option \"--right-shift-mark\", or out of range (0-32).\n"},
	{"mangle", packet.Prerouting, "-j CONNMARK --restore-mark --right-shift-mark 3 --left-shift-mark 2", "-j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff --left-shift-mark 2", " CONNMARK restore left-shift-mark 2", " CONNMARK restore left-shift-mark 2", ""},
	{"mangle", packet.Prerouting, "-j CONNMARK --set-mark 5 --left-shift-mark 3", "-j CONNMARK --set-xmark 0x5/0xffffffff --left-shift-mark 3", " CONNMARK set 0x5 left-shift-mark 3", " CONNMARK set 0x5 left-shift-mark 3", ""},
	{"mangle", packet.Prerouting, "-j CONNMARK --save-mark --left-shift-mark 0", "-j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff", " CONNMARK save", " CONNMARK save", ""},
	{"mangle", packet.Prerouting, "-j CONNMARK --save-mark --mask abc", "", "", "", "exit 2: CONNMARK: bad value for option \"--mask\", or out of range (0-4294967295).\n"},
	{"mangle", packet.Prerouting, "-j CONNMARK --save-mark --nfmask 0x1/0x2", "", "", "", "exit 2: CONNMARK: bad value for option \"--nfmask\", or out of range (0-4294967295).\n"},
	{"mangle", packet.Prerouting, "-j CONNMARK --set-mark 5 --and-mark 6", "", "", "", "exit 2: CONNMARK: option \"--set-mark\" cannot be used together with \"--and-mark\".\n"},
	{"mangle", packet.Prerouting, "-j CONNMARK --save-mark --nfmask 1 --nfmask 2", "", "", "", "generic"},
	{"filter", packet.Input, "-j CONNMARK --save-mark", "-j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff", " CONNMARK save", " CONNMARK save", ""},
}

func TestConnmark(t *testing.T) { runRows(t, connmarkRows) }

// TestConnmarkConformance runs upstream's libxt_CONNMARK.t.
func TestConnmarkConformance(t *testing.T) { runTFile(t, "libxt_CONNMARK.t") }

// TestConnmarkShiftCheck: shifts up to 31 bits load, 32 is refused with
// EINVAL by the kernel although the parser takes it.
func TestConnmarkShiftCheck(t *testing.T) {
	for _, c := range []struct {
		spec string
		ok   bool
	}{
		{"-j CONNMARK --save-mark --left-shift-mark 31", true},
		{"-j CONNMARK --save-mark --left-shift-mark 32", false},
		{"-j CONNMARK --set-mark 1 --right-shift-mark 32", false},
	} {
		b, err := build(c.spec)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		err = b.check("mangle", packet.Prerouting.Mask())
		if (err == nil) != c.ok || err != nil && !errors.Is(err, syscall.EINVAL) {
			t.Errorf("%s: got %v, want ok=%v", c.spec, err, c.ok)
		}
	}
}
