package target

import (
	"errors"
	"syscall"
	"testing"

	"github.com/gofw/gofw/conntrack"
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

// newConn returns a fresh connection from a table of its own, with mark.
func newConn(t *testing.T, mark uint32) *conntrack.Conn {
	t.Helper()
	tb := conntrack.NewTable(conntrack.Config{})
	seg := conntrack.Segment{Tuple: conntrack.MakeTuple(addr("198.18.0.1"), addr("198.18.0.2"), packet.ProtoUDP, 1000, 53)}
	c, _, _ := tb.In(&seg, 1)
	if c == nil {
		t.Fatal("conntrack.In gave no entry")
	}
	c.SetMark(mark)
	return c
}

// TestConnmarkDo checks connmark_tg_shift for each mode, with masks and
// shifts, on the connection mark (ct) and the packet mark (nf).
func TestConnmarkDo(t *testing.T) {
	for _, tc := range []struct {
		spec           string
		ct, nf         uint32 // before
		wantCt, wantNf uint32 // after
	}{
		// --set-xmark and its spellings: (ctmark &^ ctmask) ^ value.
		{"-j CONNMARK --set-mark 5", 0xf0, 0x1, 0x5, 0x1},
		{"-j CONNMARK --set-xmark 0x5/0xf", 0xf0, 0x1, 0xf5, 0x1},
		{"-j CONNMARK --and-mark 0xf", 0xff, 0, 0xf, 0},
		{"-j CONNMARK --or-mark 0x100", 0x1, 0, 0x101, 0},
		{"-j CONNMARK --xor-mark 0x3", 0x1, 0, 0x2, 0},
		// The set operation shifts the whole result, old bits included.
		{"-j CONNMARK --set-xmark 0x5/0xf --left-shift-mark 4", 0xf0, 0, 0xf50, 0},
		{"-j CONNMARK --set-xmark 0x50/0xf0 --right-shift-mark 4", 0x10f, 0, 0x15, 0},
		// --save-mark: ctmark = (ctmark &^ ctmask) ^ shift(mark & nfmask).
		{"-j CONNMARK --save-mark", 0xdead, 0xbeef, 0xbeef, 0xbeef},
		{"-j CONNMARK --save-mark --mask 0xff", 0x1234, 0xabcd, 0x12cd, 0xabcd},
		{"-j CONNMARK --save-mark --nfmask 0xff00 --ctmask 0xff --right-shift-mark 8", 0x1234, 0xabcd, 0x12ab, 0xabcd},
		{"-j CONNMARK --save-mark --nfmask 0xff --ctmask 0xff00 --left-shift-mark 8", 0x1234, 0xabcd, 0xcd34, 0xabcd},
		// --restore-mark: mark = (mark &^ nfmask) ^ shift(ctmark & ctmask).
		{"-j CONNMARK --restore-mark", 0xdead, 0xbeef, 0xdead, 0xdead},
		{"-j CONNMARK --restore-mark --mask 0xff", 0x1234, 0xabcd, 0x1234, 0xab34},
		{"-j CONNMARK --restore-mark --ctmask 0xff00 --nfmask 0xff --right-shift-mark 8", 0x1234, 0xabcd, 0x1234, 0xab12},
	} {
		d := doer(t, tc.spec)
		c := newConn(t, tc.ct)
		p := &packet.Packet{Mark: tc.nf, Conn: c}
		v := d.Do(p)
		if v != Continue || c.Mark() != tc.wantCt || p.Mark != tc.wantNf {
			t.Errorf("%s (ct %#x, mark %#x): got %v ct %#x mark %#x, want CONTINUE ct %#x mark %#x",
				tc.spec, tc.ct, tc.nf, v, c.Mark(), p.Mark, tc.wantCt, tc.wantNf)
		}
	}
	// No connection (INVALID or UNTRACKED): nothing changes.
	p := &packet.Packet{Mark: 7}
	if v := doer(t, "-j CONNMARK --restore-mark").Do(p); v != Continue || p.Mark != 7 {
		t.Errorf("restore without a conn: got %v mark %#x, want CONTINUE 0x7", v, p.Mark)
	}
	c := newConn(t, 1)
	for _, spec := range []string{"-j CONNMARK --set-mark 9", "-j CONNMARK --save-mark", "-j CONNMARK --restore-mark"} {
		d := doer(t, spec)
		p := &packet.Packet{Mark: 3, Conn: c}
		noAllocs(t, spec, func() { d.Do(p) })
	}
}
