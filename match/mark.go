package match

import (
	"fmt"
	"strings"

	"github.com/gofw/gofw/packet"
)

// markInfo is the mark match, revision 1 (libxt_mark.c, xt_mark.c): the
// packet's mark under a mask.
var markInfo = &Info{
	Name: "mark",
	Opts: []Opt{
		{Name: "mark", Arg: true, Inv: true},
	},
	New: func() Match { return &Mark{} },
}

// Mark is one mark match: (skb mark & Mask) == Mark, negated by Inv. The
// value is kept as given, not masked, as iptables stores and saves it.
type Mark struct {
	Mark, Mask uint32
	Inv        bool

	set bool
}

// Parse implements Match (XTTYPE_MARKMASK32).
func (m *Mark) Parse(a *Arg) error {
	v, mask, err := xoParseValMask("mark", "mark", a.Value)
	if err != nil {
		return err
	}
	m.Mark, m.Mask, m.Inv, m.set = v, mask, a.Inv, true
	return nil
}

// Final implements Match: --mark is mandatory (XTOPT_MAND).
func (m *Mark) Final(*Rule) error {
	if !m.set {
		return xoMissing("mark", "mark")
	}
	return nil
}

// writeMarkMask appends " 0xV" or " 0xV/0xM" as libxt_mark's print_mark:
// the mask only when it is not all ones.
func writeMarkMask(b *strings.Builder, v, mask uint32) {
	fmt.Fprintf(b, " 0x%x", v)
	if mask != 0xffffffff {
		fmt.Fprintf(b, "/0x%x", mask)
	}
}

// Save implements Match.
func (m *Mark) Save(b *strings.Builder) {
	xoSaveInv(b, m.Inv)
	b.WriteString(" --mark")
	writeMarkMask(b, m.Mark, m.Mask)
}

// Print implements Match ("mark match ! 0x1/0xff").
func (m *Mark) Print(b *strings.Builder, numeric bool) {
	b.WriteString(" mark match")
	xoSaveInv(b, m.Inv)
	writeMarkMask(b, m.Mark, m.Mask)
}

// Match implements Matcher as xt_mark.c mark_mt: (skb mark & Mask) ==
// Mark, negated by Inv.
//
// Called for every packet; must not allocate.
func (m *Mark) Match(p *packet.Packet) bool {
	return (p.Mark&m.Mask == m.Mark) != m.Inv
}
