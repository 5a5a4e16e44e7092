package target

import (
	"testing"

	"github.com/gofw/gofw/packet"
)

// markRows were checked against iptables-legacy 1.8.9 on Linux 6.18.
var markRows = []row{
	// libxt_MARK.t's lines.
	{"filter", packet.Input, "-j MARK --set-xmark 0xfeedcafe/0xfeedcafe", "-j MARK --set-xmark 0xfeedcafe/0xfeedcafe", " MARK or 0xfeedcafe", " MARK or 0xfeedcafe", ""},
	{"filter", packet.Input, "-j MARK --set-xmark 0x0", "-j MARK --set-xmark 0x0/0xffffffff", " MARK and 0x0", " MARK and 0x0", ""},
	{"filter", packet.Input, "-j MARK --set-xmark 4294967295", "-j MARK --set-xmark 0xffffffff/0xffffffff", " MARK or 0xffffffff", " MARK or 0xffffffff", ""},
	{"filter", packet.Input, "-j MARK --set-xmark 4294967296", "", "", "", "exit 2: MARK: bad integer value for option \"--set-xmark\", or out of range.\n"},
	{"filter", packet.Input, "-j MARK --set-xmark -1", "", "", "", "exit 2: MARK: bad integer value for option \"--set-xmark\", or out of range.\n"},
	{"filter", packet.Input, "-j MARK", "", "", "", "exit 2: MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required"},
	// XTTYPE_MARKMASK32 errors.
	{"filter", packet.Input, "-j MARK --set-xmark 0x5/0x", "", "", "", "exit 2: MARK: trailing garbage after value for option \"--set-xmark\".\n"},
	{"filter", packet.Input, "-j MARK --set-xmark 5/", "", "", "", "exit 2: MARK: bad integer value for option \"--set-xmark\", or out of range.\n"},
	{"filter", packet.Input, "-j MARK --set-xmark /5", "", "", "", "exit 2: MARK: bad integer value for option \"--set-xmark\", or out of range.\n"},
	{"filter", packet.Input, "-j MARK --set-xmark 5/6/7", "", "", "", "exit 2: MARK: trailing garbage after value for option \"--set-xmark\".\n"},
	// Every form saves as --set-xmark; -L picks the simplest reading.
	{"filter", packet.Input, "-j MARK --set-mark 5", "-j MARK --set-xmark 0x5/0xffffffff", " MARK set 0x5", " MARK set 0x5", ""},
	{"filter", packet.Input, "-j MARK --set-mark 5/0xff", "-j MARK --set-xmark 0x5/0xff", " MARK xset 0x5/0xff", " MARK xset 0x5/0xff", ""},
	{"filter", packet.Input, "-j MARK --and-mark 0xff", "-j MARK --set-xmark 0x0/0xffffff00", " MARK and 0xff", " MARK and 0xff", ""},
	{"filter", packet.Input, "-j MARK --or-mark 0xff", "-j MARK --set-xmark 0xff/0xff", " MARK or 0xff", " MARK or 0xff", ""},
	{"filter", packet.Input, "-j MARK --xor-mark 0xff", "-j MARK --set-xmark 0xff/0x0", " MARK xor 0xff", " MARK xor 0xff", ""},
	{"filter", packet.Input, "-j MARK --set-mark 0", "-j MARK --set-xmark 0x0/0xffffffff", " MARK and 0x0", " MARK and 0x0", ""},
	{"filter", packet.Input, "-j MARK --and-mark 0", "-j MARK --set-xmark 0x0/0xffffffff", " MARK and 0x0", " MARK and 0x0", ""},
	{"filter", packet.Input, "-j MARK --and-mark 0xffffffff", "-j MARK --set-xmark 0x0/0x0", " MARK and 0xffffffff", " MARK and 0xffffffff", ""},
	{"filter", packet.Input, "-j MARK --or-mark 0", "-j MARK --set-xmark 0x0/0x0", " MARK and 0xffffffff", " MARK and 0xffffffff", ""},
	// Exclusions name the first option in table order, then the partner with the lowest id.
	{"filter", packet.Input, "-j MARK --set-xmark 0x5 --set-mark 6", "", "", "", "exit 2: MARK: option \"--set-xmark\" cannot be used together with \"--set-mark\".\n"},
	{"filter", packet.Input, "-j MARK --set-mark 5 --set-mark 6", "", "", "", "generic"},
	{"filter", packet.Input, "-j MARK --and-mark 5 --or-mark 6", "", "", "", "exit 2: MARK: option \"--and-mark\" cannot be used together with \"--or-mark\".\n"},
	{"filter", packet.Input, "-j MARK --or-mark 6 --and-mark 5", "", "", "", "exit 2: MARK: option \"--and-mark\" cannot be used together with \"--or-mark\".\n"},
	{"filter", packet.Input, "-j MARK --xor-mark 6 --set-mark 5", "", "", "", "exit 2: MARK: option \"--set-mark\" cannot be used together with \"--xor-mark\".\n"},
	{"filter", packet.Input, "-j MARK --xor-mark 6 --set-xmark 5 --or-mark 1", "", "", "", "exit 2: MARK: option \"--set-xmark\" cannot be used together with \"--or-mark\".\n"},
	{"filter", packet.Input, "-j MARK --set-xmark 5 --set-mark abc", "", "", "", "exit 2: MARK: bad integer value for option \"--set-mark\", or out of range.\n"},
	{"filter", packet.Input, "-j MARK --set-xmark 0x5/0x3", "-j MARK --set-xmark 0x5/0x3", " MARK xset 0x5/0x3", " MARK xset 0x5/0x3", ""},
	{"filter", packet.Input, "-j MARK --set-xmark 0x5/0x0", "-j MARK --set-xmark 0x5/0x0", " MARK xor 0x5", " MARK xor 0x5", ""},
	{"filter", packet.Input, "-j MARK --set-mark 0x5/0", "-j MARK --set-xmark 0x5/0x5", " MARK or 0x5", " MARK or 0x5", ""},
	{"filter", packet.Input, "-j MARK --and-mark abc", "", "", "", "exit 2: MARK: bad value for option \"--and-mark\", or out of range (0-4294967295).\n"},
	{"filter", packet.Input, "-j MARK --and-mark 0x5/0x3", "", "", "", "exit 2: MARK: bad value for option \"--and-mark\", or out of range (0-4294967295).\n"},
	{"filter", packet.Input, "-j MARK --set-mark 017", "-j MARK --set-xmark 0xf/0xffffffff", " MARK set 0xf", " MARK set 0xf", ""},
	{"filter", packet.Input, "-j MARK --or-mark \" 5\"", "-j MARK --set-xmark 0x5/0x5", " MARK or 0x5", " MARK or 0x5", ""},
	{"nat", packet.Output, "-j MARK --set-mark 1", "-j MARK --set-xmark 0x1/0xffffffff", " MARK set 0x1", " MARK set 0x1", ""},
}

func TestMark(t *testing.T) { runRows(t, markRows) }

// TestMarkConformance runs upstream's libxt_MARK.t.
func TestMarkConformance(t *testing.T) { runTFile(t, "libxt_MARK.t") }

// TestMarkDo checks mark_tg's (mark &^ mask) ^ value for every form.
func TestMarkDo(t *testing.T) {
	for _, tc := range []struct {
		spec     string
		old, new uint32
	}{
		{"-j MARK --set-mark 5", 0xffff0000, 0x5},
		{"-j MARK --set-mark 5/0xff", 0xffff00aa, 0xffff0005},
		{"-j MARK --set-xmark 0x5/0xf", 0x1234, 0x1235},
		{"-j MARK --set-xmark 0x1/0x0", 0x3, 0x2}, // mask 0: a plain xor
		{"-j MARK --and-mark 0xf0", 0x1ff, 0xf0},
		{"-j MARK --or-mark 0x100", 0x1, 0x101},
		{"-j MARK --xor-mark 0x101", 0x100, 0x1},
	} {
		d := doer(t, tc.spec)
		p := &packet.Packet{Mark: tc.old}
		if v := d.Do(p); v != Continue || p.Mark != tc.new {
			t.Errorf("%s on %#x: got %v %#x, want CONTINUE %#x", tc.spec, tc.old, v, p.Mark, tc.new)
		}
	}
	d := doer(t, "-j MARK --set-mark 7")
	p := &packet.Packet{}
	noAllocs(t, "MARK", func() { d.Do(p) })
}
