package target

import (
	"fmt"
	"strings"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
)

// markInfo is the MARK target, revision 2 (libxt_MARK.c mark_tg_*,
// xt_mark.c mark_tg): every form is stored as "clear Mask, then XOR
// Value", which is why iptables-save prints them all as --set-xmark.
var markInfo = &Info{
	Name: "MARK",
	Opts: []match.Opt{
		{Name: "set-xmark", Arg: true},
		{Name: "set-mark", Arg: true},
		{Name: "and-mark", Arg: true},
		{Name: "or-mark", Arg: true},
		{Name: "xor-mark", Arg: true},
	},
	New: func() Target { return &Mark{} },
}

// markRules is mark_tg_opts: each operation excludes every other. Rows are
// in table order, partners in id order (O_SET_MARK, O_AND_MARK, O_OR_MARK,
// O_XOR_MARK, O_SET_XMARK), which decides the pair an error names.
var markRules = []match.XtOptRule{
	{Name: "set-xmark", Excl: []string{"set-mark", "and-mark", "or-mark", "xor-mark"}},
	{Name: "set-mark", Excl: []string{"and-mark", "or-mark", "xor-mark", "set-xmark"}},
	{Name: "and-mark", Excl: []string{"set-mark", "or-mark", "xor-mark", "set-xmark"}},
	{Name: "or-mark", Excl: []string{"set-mark", "and-mark", "xor-mark", "set-xmark"}},
	{Name: "xor-mark", Excl: []string{"set-mark", "and-mark", "or-mark", "set-xmark"}},
}

// Mark is one MARK target: the packet mark becomes (mark &^ Mask) ^ Value
// (xt_mark_tginfo2).
type Mark struct {
	Value, Mask uint32

	seen given
}

// Parse implements Target, turning each form into value/mask as
// mark_tg_parse does.
func (t *Mark) Parse(a *match.Arg) error {
	switch a.Name {
	case "set-xmark", "set-mark":
		v, m, err := xtParseMarkMask("MARK", a.Name, a.Value)
		if err != nil {
			return err
		}
		t.Value, t.Mask = v, m
		if a.Name == "set-mark" {
			t.Mask = v | m
		}
	default:
		n, err := match.XtParseUint("MARK", a.Name, a.Value, 0, 0xffffffff)
		if err != nil {
			return err
		}
		v := uint32(n)
		switch a.Name {
		case "and-mark":
			t.Value, t.Mask = 0, ^v
		case "or-mark":
			t.Value, t.Mask = v, v
		case "xor-mark":
			t.Value, t.Mask = v, 0
		}
	}
	t.seen.add(a.Name)
	return nil
}

// Final implements Target (mark_tg_check, then the option table's
// exclusions).
func (t *Mark) Final(*match.Rule) error {
	if len(t.seen) == 0 {
		return grammar.Paramf("MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required")
	}
	return match.XtFcheck("MARK", markRules, t.seen)
}

// Save implements Target.
func (t *Mark) Save(b *strings.Builder) {
	fmt.Fprintf(b, " --set-xmark 0x%x/0x%x", t.Value, t.Mask)
}

// markText appends mark_tg_print's (and connmark_tg_print's) reading of a
// value/mask pair: the simplest operation that has the same effect.
func markText(b *strings.Builder, name string, value, mask uint32) {
	switch {
	case value == 0:
		fmt.Fprintf(b, " %s and 0x%x", name, ^mask)
	case value == mask:
		fmt.Fprintf(b, " %s or 0x%x", name, value)
	case mask == 0:
		fmt.Fprintf(b, " %s xor 0x%x", name, value)
	case mask == 0xffffffff:
		fmt.Fprintf(b, " %s set 0x%x", name, value)
	default:
		fmt.Fprintf(b, " %s xset 0x%x/0x%x", name, value, mask)
	}
}

// Print implements Target.
func (t *Mark) Print(b *strings.Builder, numeric bool) {
	markText(b, "MARK", t.Value, t.Mask)
}

// Do implements Doer as xt_mark.c mark_tg: the mark becomes
// (mark &^ Mask) ^ Value. Called for every packet; must not allocate.
func (t *Mark) Do(p *packet.Packet) Verdict {
	p.Mark = (p.Mark &^ t.Mask) ^ t.Value
	return Continue
}
