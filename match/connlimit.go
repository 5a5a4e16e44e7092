package match

import (
	"fmt"
	"math/bits"
	"strings"

	"github.com/gofw/gofw/grammar"
)

// connlimitInfo is the connlimit match (libxt_connlimit.c, xt_connlimit.c
// with nf_conncount), revision 1: the number of tracked connections from
// (or to) an address group compared with a limit.
var connlimitInfo = &Info{
	Name: "connlimit",
	Opts: []Opt{
		{Name: "connlimit-upto", Arg: true, Inv: true},
		{Name: "connlimit-above", Arg: true, Inv: true},
		{Name: "connlimit-mask", Arg: true},
		{Name: "connlimit-saddr"},
		{Name: "connlimit-daddr"},
	},
	New: func() Match { return &Connlimit{Mask: 0xffffffff, seen: map[string]bool{}} },
}

var connlimitRules = []XtOptRule{
	{Name: "connlimit-upto", Excl: []string{"connlimit-above"}},
	{Name: "connlimit-above", Excl: []string{"connlimit-upto"}},
	{Name: "connlimit-saddr", Excl: []string{"connlimit-daddr"}},
	{Name: "connlimit-daddr", Excl: []string{"connlimit-saddr"}},
}

// Connlimit is one connlimit match: it matches when the count of
// connections in the packet's group is above Limit, or at most Limit when
// Upto (XT_CONNLIMIT_INVERT). Groups are source addresses (destination with
// Dest) under Mask, an IPv4 netmask in host byte order.
type Connlimit struct {
	Limit uint32
	Upto  bool
	Dest  bool
	Mask  uint32

	seen map[string]bool
}

// Parse implements Match.
func (c *Connlimit) Parse(a *Arg) error {
	c.seen[a.Name] = true
	switch a.Name {
	case "connlimit-upto", "connlimit-above":
		v, err := XtParseUint("connlimit", a.Name, a.Value, 0, 0xffffffff)
		if err != nil {
			return err
		}
		c.Limit = uint32(v)
		// "! --connlimit-upto N" is --connlimit-above N and vice versa.
		c.Upto = (a.Name == "connlimit-upto") != a.Inv
	case "connlimit-mask":
		n, err := XtPlen("connlimit", a.Name, a.Value)
		if err != nil {
			return err
		}
		// XTTYPE_PLENMASK turns the length into a mask; 33 and up (and
		// the 255 of a non-contiguous mask) leave all 32 bits set.
		c.Mask = 0xffffffff
		if n < 32 {
			c.Mask = ^uint32(0) << (32 - n) // 0 for n == 0
		}
	case "connlimit-saddr":
		c.Dest = false
	case "connlimit-daddr":
		c.Dest = true
	}
	return nil
}

// Final implements Match.
func (c *Connlimit) Final(*Rule) error {
	if !c.seen["connlimit-upto"] && !c.seen["connlimit-above"] {
		return grammar.Paramf("You must specify \"--connlimit-above\" or \"--connlimit-upto\".")
	}
	return XtFcheck("connlimit", connlimitRules, c.seen)
}

// maskBits is libxt_connlimit's count_bits4: the prefix length of a mask.
func (c *Connlimit) maskBits() int { return 32 - bits.Len32(^c.Mask) }

// Save implements Match; mask and address side are always written.
func (c *Connlimit) Save(b *strings.Builder) {
	if c.Upto {
		fmt.Fprintf(b, " --connlimit-upto %d", c.Limit)
	} else {
		fmt.Fprintf(b, " --connlimit-above %d", c.Limit)
	}
	fmt.Fprintf(b, " --connlimit-mask %d", c.maskBits())
	if c.Dest {
		b.WriteString(" --connlimit-daddr")
	} else {
		b.WriteString(" --connlimit-saddr")
	}
}

// Print implements Match: "#conn src/32 > 10".
func (c *Connlimit) Print(b *strings.Builder, numeric bool) {
	side, op := "src", ">"
	if c.Dest {
		side = "dst"
	}
	if c.Upto {
		op = "<="
	}
	fmt.Fprintf(b, " #conn %s/%d %s %d", side, c.maskBits(), op, c.Limit)
}
