package match

import (
	"fmt"
	"strings"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/packet"
)

// tosInfo is the tos match, revision 1 (libxt_tos.c, xt_dscp.c's
// tos_mt): the IPv4 TOS byte under a mask.
var tosInfo = &Info{
	Name: "tos",
	Opts: []Opt{
		{Name: "tos", Arg: true, Inv: true},
	},
	New: func() Match { return &TOS{} },
}

// tosSymbols are the RFC 1349 names iptables accepts for --tos
// (tos_values.c). A name means its value under the mask 0x3f, leaving the
// two ECN bits out of the comparison.
var tosSymbols = []struct {
	name  string
	value uint8
}{
	{"Minimize-Delay", 0x10},
	{"Maximize-Throughput", 0x08},
	{"Maximize-Reliability", 0x04},
	{"Minimize-Cost", 0x02},
	{"Normal-Service", 0x00},
}

// TOS is one tos match: (tos & Mask) == Value, negated by Inv.
type TOS struct {
	Value, Mask uint8
	Inv         bool

	set bool
}

// parseTOS parses "VALUE[/MASK]" (mask 0xff by default) or a symbolic
// name (mask 0x3f), as tos_parse_symbolic and tos_parse_numeric do: an
// argument that does not start with a number up to 255 is taken as a name.
func parseTOS(s string) (value, mask uint8, err error) {
	v, rest, ok := XtStrtoul(s, 0, 0xff)
	if !ok {
		for _, sym := range tosSymbols {
			if strings.EqualFold(sym.name, s) {
				return sym.value, 0x3f, nil
			}
		}
		return 0, 0, grammar.Paramf("Symbolic name \"%s\" is unknown", s)
	}
	illegal := grammar.Paramf("Illegal value: \"%s\"", s)
	m := uint64(0xff)
	if rest != "" && rest[0] == '/' {
		if m, rest, ok = XtStrtoul(rest[1:], 0, 0xff); !ok {
			return 0, 0, illegal
		}
	}
	if rest != "" {
		return 0, 0, illegal
	}
	return uint8(v), uint8(m), nil
}

// Parse implements Match.
func (t *TOS) Parse(a *Arg) error {
	v, m, err := parseTOS(a.Value)
	if err != nil {
		return err
	}
	t.Value, t.Mask, t.Inv, t.set = v, m, a.Inv, true
	return nil
}

// Final implements Match: --tos is mandatory (XTOPT_MAND).
func (t *TOS) Final(*Rule) error {
	if !t.set {
		return xoMissing("tos", "tos")
	}
	return nil
}

// Save implements Match: always value and mask.
func (t *TOS) Save(b *strings.Builder) {
	xoSaveInv(b, t.Inv)
	fmt.Fprintf(b, " --tos 0x%02x/0x%02x", t.Value, t.Mask)
}

// Print implements Match as tos_mt_print_v1: "tos match" directly followed
// by "!" when negated, then a symbolic name (mask 0x3f only, not with -n)
// after a space, or else value/mask with no space at all ("tos
// match0x10/0xff").
func (t *TOS) Print(b *strings.Builder, numeric bool) {
	b.WriteString(" tos match")
	if t.Inv {
		b.WriteByte('!')
	}
	if !numeric && t.Mask == 0x3f {
		for _, sym := range tosSymbols {
			if sym.value == t.Value {
				b.WriteString(" " + sym.name)
				return
			}
		}
	}
	fmt.Fprintf(b, "0x%02x/0x%02x", t.Value, t.Mask)
}

// Match implements Matcher as xt_dscp.c tos_mt: (TOS byte, or IPv6
// traffic class, & Mask) == Value, negated by Inv.
//
// Called for every packet; must not allocate.
func (t *TOS) Match(p *packet.Packet) bool {
	return (p.TOS&t.Mask == t.Value) != t.Inv
}
