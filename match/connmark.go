package match

import (
	"strings"

	"github.com/gofw/gofw/packet"
)

// connmarkInfo is the connmark match, revision 1 (libxt_connmark.c,
// xt_connmark.c): the mark of the packet's connection under a mask.
var connmarkInfo = &Info{
	Name: "connmark",
	Opts: []Opt{
		{Name: "mark", Arg: true, Inv: true},
	},
	New: func() Match { return &Connmark{} },
}

// Connmark is one connmark match: (ct mark & Mask) == Mark, negated by
// Inv; a packet without a connection never matches (xt_connmark's
// connmark_mt).
type Connmark struct {
	Mark, Mask uint32
	Inv        bool

	set bool
}

// Parse implements Match (XTTYPE_MARKMASK32).
func (c *Connmark) Parse(a *Arg) error {
	v, mask, err := xoParseValMask("connmark", "mark", a.Value)
	if err != nil {
		return err
	}
	c.Mark, c.Mask, c.Inv, c.set = v, mask, a.Inv, true
	return nil
}

// Final implements Match: --mark is mandatory (XTOPT_MAND).
func (c *Connmark) Final(*Rule) error {
	if !c.set {
		return xoMissing("connmark", "mark")
	}
	return nil
}

// Save implements Match.
func (c *Connmark) Save(b *strings.Builder) {
	xoSaveInv(b, c.Inv)
	b.WriteString(" --mark")
	writeMarkMask(b, c.Mark, c.Mask)
}

// Print implements Match. libxt_connmark prints "connmark match " and then
// the optional "!" before the value's own leading space, hence two spaces
// when not negated ("connmark match  0x2").
func (c *Connmark) Print(b *strings.Builder, numeric bool) {
	b.WriteString(" connmark match ")
	if c.Inv {
		b.WriteByte('!')
	}
	writeMarkMask(b, c.Mark, c.Mask)
}

// Match implements Matcher as xt_connmark.c connmark_mt: (ct mark & Mask)
// == Mark, negated by Inv. A packet without an entry (INVALID, UNTRACKED)
// never matches, negated or not.
//
// Called for every packet; must not allocate.
func (c *Connmark) Match(p *packet.Packet) bool {
	if p.Conn == nil {
		return false
	}
	return (p.Conn.Mark()&c.Mask == c.Mark) != c.Inv
}
