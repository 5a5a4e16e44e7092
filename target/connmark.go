package target

import (
	"fmt"
	"strings"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
)

// connmarkInfo is the CONNMARK target, revision 2 (libxt_CONNMARK.c
// connmark_tg_*_v2, xt_connmark.c): set the connection mark, or copy it
// between packet and connection through masks and an optional shift.
var connmarkInfo = &Info{
	Name: "CONNMARK",
	Opts: []match.Opt{
		{Name: "set-xmark", Arg: true},
		{Name: "set-mark", Arg: true},
		{Name: "and-mark", Arg: true},
		{Name: "or-mark", Arg: true},
		{Name: "xor-mark", Arg: true},
		{Name: "save-mark"},
		{Name: "restore-mark"},
		{Name: "left-shift-mark", Arg: true},
		{Name: "right-shift-mark", Arg: true},
		{Name: "ctmask", Arg: true},
		{Name: "nfmask", Arg: true},
		{Name: "mask", Arg: true},
	},
	New: func() Target {
		return &Connmark{CtMask: 0xffffffff, NfMask: 0xffffffff}
	},
}

// connmarkOps is F_OP_ANY in id order (O_SET_MARK=0, O_SAVE_MARK,
// O_RESTORE_MARK, O_AND_MARK, O_OR_MARK, O_XOR_MARK, ..., O_SET_XMARK=8):
// the seven operations exclude one another.
var connmarkOps = []string{"set-mark", "save-mark", "restore-mark", "and-mark", "or-mark", "xor-mark", "set-xmark"}

// connmarkRules is connmark_tg_opts_v2 in table order, partners in id
// order, which decides the pair a conflict names.
var connmarkRules = func() []match.XtOptRule {
	others := func(self string) []string {
		var o []string
		for _, n := range connmarkOps {
			if n != self {
				o = append(o, n)
			}
		}
		return o
	}
	var r []match.XtOptRule
	for _, n := range []string{"set-xmark", "set-mark", "and-mark", "or-mark", "xor-mark", "save-mark", "restore-mark"} {
		r = append(r, match.XtOptRule{Name: n, Excl: others(n)})
	}
	return append(r,
		match.XtOptRule{Name: "ctmask", Excl: []string{"mask"}},
		match.XtOptRule{Name: "nfmask", Excl: []string{"mask"}},
		match.XtOptRule{Name: "mask", Excl: []string{"ctmask", "nfmask"}},
	)
}()

// ConnmarkMode is the operation, numbered as XT_CONNMARK_*.
type ConnmarkMode uint8

// The CONNMARK operations.
const (
	// ConnmarkSet: ctmark = (ctmark &^ CtMask) ^ CtMark.
	ConnmarkSet ConnmarkMode = 0
	// ConnmarkSave: ctmark = (ctmark &^ CtMask) ^ (mark & NfMask), the
	// packet part shifted first.
	ConnmarkSave ConnmarkMode = 1
	// ConnmarkRestore: mark = (mark &^ NfMask) ^ (ctmark & CtMask), the
	// connection part shifted first.
	ConnmarkRestore ConnmarkMode = 2
)

// ConnmarkShift is the direction of the shift, numbered as D_SHIFT_*.
type ConnmarkShift uint8

// The shift directions.
const (
	ConnmarkShiftLeft  ConnmarkShift = 0
	ConnmarkShiftRight ConnmarkShift = 1
)

// Connmark is one CONNMARK target (xt_connmark_tginfo2).
type Connmark struct {
	Mode           ConnmarkMode
	CtMark, CtMask uint32
	NfMask         uint32
	ShiftDir       ConnmarkShift
	ShiftBits      uint8

	seen given
}

// Parse implements Target. Options apply in order, as in
// connmark_tg_parse_v2: "--set-mark 1 --mask 0xff" ends with CtMask 0xff,
// "--mask 0xff --set-mark 1" with CtMask 0xffffffff.
func (t *Connmark) Parse(a *match.Arg) error {
	switch a.Name {
	case "set-xmark", "set-mark":
		v, m, err := xtParseMarkMask("CONNMARK", a.Name, a.Value)
		if err != nil {
			return err
		}
		t.Mode, t.CtMark, t.CtMask = ConnmarkSet, v, m
		if a.Name == "set-mark" {
			t.CtMask = v | m
		}
	case "save-mark":
		t.Mode = ConnmarkSave
	case "restore-mark":
		t.Mode = ConnmarkRestore
	case "left-shift-mark", "right-shift-mark":
		v, err := match.XtParseUint("CONNMARK", a.Name, a.Value, 0, 32)
		if err != nil {
			return err
		}
		t.ShiftDir, t.ShiftBits = ConnmarkShiftLeft, uint8(v)
		if a.Name == "right-shift-mark" {
			t.ShiftDir = ConnmarkShiftRight
		}
	default:
		n, err := match.XtParseUint("CONNMARK", a.Name, a.Value, 0, 0xffffffff)
		if err != nil {
			return err
		}
		v := uint32(n)
		switch a.Name {
		case "and-mark":
			t.Mode, t.CtMark, t.CtMask = ConnmarkSet, 0, ^v
		case "or-mark":
			t.Mode, t.CtMark, t.CtMask = ConnmarkSet, v, v
		case "xor-mark":
			t.Mode, t.CtMark, t.CtMask = ConnmarkSet, v, 0
		case "ctmask":
			t.CtMask = v
		case "nfmask":
			t.NfMask = v
		case "mask":
			t.CtMask, t.NfMask = v, v
		}
	}
	t.seen.add(a.Name)
	return nil
}

// Final implements Target (connmark_tg_check, then the option table).
func (t *Connmark) Final(*match.Rule) error {
	op := false
	for _, n := range connmarkOps {
		op = op || t.seen[n]
	}
	if !op {
		return grammar.Paramf("CONNMARK target: No operation specified")
	}
	return match.XtFcheck("CONNMARK", connmarkRules, t.seen)
}

// Check implements match.Checker. The parser allows a shift of 32 bits,
// but Linux refuses any shift past 31 with EINVAL, and logs nothing
// (checked on 6.18): a 32-bit shift of a u32 is undefined in C.
func (t *Connmark) Check(*match.Where) error {
	if t.ShiftBits > 31 {
		return kernelEINVAL(fmt.Sprintf("CONNMARK target: shift by %d bits refused, the kernel allows at most 31", t.ShiftBits))
	}
	return nil
}

var connmarkShiftNames = [2]string{"left-shift-mark", "right-shift-mark"}

// Save implements Target. Every form of the set operation comes out as
// --set-xmark, and save/restore always carry both masks.
func (t *Connmark) Save(b *strings.Builder) {
	switch t.Mode {
	case ConnmarkSet:
		fmt.Fprintf(b, " --set-xmark 0x%x/0x%x", t.CtMark, t.CtMask)
	case ConnmarkSave:
		fmt.Fprintf(b, " --save-mark --nfmask 0x%x --ctmask 0x%x", t.NfMask, t.CtMask)
	case ConnmarkRestore:
		fmt.Fprintf(b, " --restore-mark --nfmask 0x%x --ctmask 0x%x", t.NfMask, t.CtMask)
	}
	if t.ShiftBits != 0 {
		fmt.Fprintf(b, " --%s %d", connmarkShiftNames[t.ShiftDir&1], t.ShiftBits)
	}
}

// Print implements Target (connmark_tg_print_v2). The "~" before the
// second mask of save/restore is iptables' own text.
func (t *Connmark) Print(b *strings.Builder, numeric bool) {
	switch t.Mode {
	case ConnmarkSet:
		markText(b, "CONNMARK", t.CtMark, t.CtMask)
	case ConnmarkSave:
		switch {
		case t.NfMask == 0xffffffff && t.CtMask == 0xffffffff:
			b.WriteString(" CONNMARK save")
		case t.NfMask == t.CtMask:
			fmt.Fprintf(b, " CONNMARK save mask 0x%x", t.NfMask)
		default:
			fmt.Fprintf(b, " CONNMARK save nfmask 0x%x ctmask ~0x%x", t.NfMask, t.CtMask)
		}
	case ConnmarkRestore:
		switch {
		case t.CtMask == 0xffffffff && t.NfMask == 0xffffffff:
			b.WriteString(" CONNMARK restore")
		case t.CtMask == t.NfMask:
			fmt.Fprintf(b, " CONNMARK restore mask 0x%x", t.CtMask)
		default:
			fmt.Fprintf(b, " CONNMARK restore ctmask 0x%x nfmask ~0x%x", t.CtMask, t.NfMask)
		}
	}
	if t.ShiftBits != 0 {
		fmt.Fprintf(b, " %s %d", connmarkShiftNames[t.ShiftDir&1], t.ShiftBits)
	}
}

// shift applies the rule's shift to v, as connmark_tg_shift does after
// masking (a shift of 32 or more was refused by Check).
func (t *Connmark) shift(v uint32) uint32 {
	if t.ShiftDir == ConnmarkShiftRight {
		return v >> t.ShiftBits
	}
	return v << t.ShiftBits
}

// Do implements Doer as xt_connmark.c connmark_tg_shift. A packet without
// a connection (INVALID, UNTRACKED) is left alone. Note that for the set
// operation the kernel shifts the whole new mark, old bits included, not
// just the value; gofw does the same. A changed connection mark is reported
// as an UPDATE event (SetMark caches IPCT_MARK). Called for every packet;
// must not allocate.
func (t *Connmark) Do(p *packet.Packet) Verdict {
	c := p.Conn
	if c == nil {
		return Continue
	}
	switch t.Mode {
	case ConnmarkSet:
		if m := t.shift((c.Mark() &^ t.CtMask) ^ t.CtMark); m != c.Mark() {
			c.SetMark(m)
		}
	case ConnmarkSave:
		if m := (c.Mark() &^ t.CtMask) ^ t.shift(p.Mark&t.NfMask); m != c.Mark() {
			c.SetMark(m)
		}
	case ConnmarkRestore:
		p.Mark = (p.Mark &^ t.NfMask) ^ t.shift(c.Mark()&t.CtMask)
	}
	return Continue
}
