package match

import (
	"fmt"
	"strings"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/packet"
)

// dscpInfo is the dscp match (libxt_dscp.c, xt_dscp.c): the six DSCP bits
// of the IPv4 TOS byte, given as a number or as a DiffServ class name.
var dscpInfo = &Info{
	Name: "dscp",
	Opts: []Opt{
		{Name: "dscp", Arg: true, Inv: true},
		{Name: "dscp-class", Arg: true, Inv: true},
	},
	New: func() Match { return &DSCP{} },
}

// DSCPMax is the largest DSCP value (XT_DSCP_MAX).
const DSCPMax = 0x3f

// dscpClasses is iptables' class table (dscp_helper.c), in its search
// order.
var dscpClasses = []struct {
	name  string
	value uint8
}{
	{"CS0", 0x00}, {"CS1", 0x08}, {"CS2", 0x10}, {"CS3", 0x18},
	{"CS4", 0x20}, {"CS5", 0x28}, {"CS6", 0x30}, {"CS7", 0x38},
	{"BE", 0x00},
	{"AF11", 0x0a}, {"AF12", 0x0c}, {"AF13", 0x0e},
	{"AF21", 0x12}, {"AF22", 0x14}, {"AF23", 0x16},
	{"AF31", 0x1a}, {"AF32", 0x1c}, {"AF33", 0x1e},
	{"AF41", 0x22}, {"AF42", 0x24}, {"AF43", 0x26},
	{"EF", 0x2e},
}

// DSCP is one dscp match: (tos >> 2) == Value, negated by Inv.
type DSCP struct {
	Value uint8
	Inv   bool

	given map[string]bool
}

// Parse implements Match.
func (d *DSCP) Parse(a *Arg) error {
	if a.Name == "dscp" {
		v, err := XtParseUint("dscp", "dscp", a.Value, 0, DSCPMax)
		if err != nil {
			return err
		}
		d.Value = uint8(v)
	} else {
		// class_to_dscp compares only the length of the class name, so
		// "EFX" is EF, as in iptables.
		found := false
		for _, c := range dscpClasses {
			if len(a.Value) >= len(c.name) && strings.EqualFold(a.Value[:len(c.name)], c.name) {
				d.Value, found = c.value, true
				break
			}
		}
		if !found {
			return grammar.Paramf("Invalid DSCP value `%s'", a.Value)
		}
	}
	if d.given == nil {
		d.given = map[string]bool{}
	}
	d.given[a.Name] = true
	d.Inv = a.Inv
	return nil
}

var dscpOpts = []string{"dscp", "dscp-class"}

// Final implements Match: one of the two options is needed (dscp_check),
// not both.
func (d *DSCP) Final(*Rule) error {
	if len(d.given) == 0 {
		return grammar.Paramf("DSCP match: Parameter --dscp is required")
	}
	return xoExclusive("dscp", dscpOpts, dscpOpts, d.given)
}

// Save implements Match: a class is saved as its number.
func (d *DSCP) Save(b *strings.Builder) {
	xoSaveInv(b, d.Inv)
	fmt.Fprintf(b, " --dscp 0x%02x", d.Value)
}

// Print implements Match ("DSCP match !0x2e").
func (d *DSCP) Print(b *strings.Builder, numeric bool) {
	b.WriteString(" DSCP match ")
	if d.Inv {
		b.WriteByte('!')
	}
	fmt.Fprintf(b, "0x%02x", d.Value)
}

// Match implements Matcher as xt_dscp.c dscp_mt (and dscp_mt6): the upper
// six bits of the TOS byte (traffic class) equal Value, negated by Inv.
//
// Called for every packet; must not allocate.
func (d *DSCP) Match(p *packet.Packet) bool {
	return (p.TOS>>2 == d.Value) != d.Inv
}
