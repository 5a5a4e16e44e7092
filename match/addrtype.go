package match

import (
	"strings"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/packet"
)

// addrtypeInfo is the addrtype match (libxt_addrtype.c, xt_addrtype.c),
// revision 1 (struct xt_addrtype_info_v1), which iptables 1.8.9 uses on any
// kernel that has it: the routing type of the source and destination
// addresses, optionally looked up on the packet's own interface only.
var addrtypeInfo = &Info{
	Name: "addrtype",
	Opts: []Opt{
		{Name: "src-type", Arg: true, Inv: true},
		{Name: "dst-type", Arg: true, Inv: true},
		{Name: "limit-iface-in"},
		{Name: "limit-iface-out"},
	},
	New: func() Match { return &Addrtype{seen: map[string]bool{}} },
}

var addrtypeRules = []XtOptRule{
	{Name: "limit-iface-in", Excl: []string{"limit-iface-out"}},
	{Name: "limit-iface-out", Excl: []string{"limit-iface-in"}},
}

// addrtypeNames are the route types of <linux/rtnetlink.h> in RTN_* order:
// bit i of a type mask is addrtypeNames[i].
var addrtypeNames = []string{
	"UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST",
	"BLACKHOLE", "UNREACHABLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE",
}

// Addrtype is one addrtype match. Src and Dst are masks of route types
// (bit RTN_x); 0 means "not tested". LimitIn/LimitOut restrict the route
// lookup to the packet's input or output interface.
type Addrtype struct {
	Src, Dst          uint16
	InvSrc, InvDst    bool
	LimitIn, LimitOut bool

	seen map[string]bool
}

// parseAddrtypes is libxt_addrtype's parse_types: a comma-separated list,
// each item any case-insensitive prefix of a type name (the first name in
// table order that it begins, so "U" is UNSPEC).
func parseAddrtypes(arg string) (uint16, error) {
	var mask uint16
	one := func(name string) bool {
		for i, n := range addrtypeNames {
			if len(name) <= len(n) && strings.EqualFold(name, n[:len(name)]) {
				mask |= 1 << i
				return true
			}
		}
		return false
	}
	for {
		item, rest, more := strings.Cut(arg, ",")
		if !more {
			break
		}
		if item == "" || !one(item) {
			// iptables quotes the rest of the list here, not the item.
			return 0, grammar.Paramf("addrtype: bad type `%s'", arg)
		}
		arg = rest
	}
	if arg == "" || !one(arg) {
		return 0, grammar.Paramf("addrtype: bad type \"%s\"", arg)
	}
	return mask, nil
}

// Parse implements Match.
func (m *Addrtype) Parse(a *Arg) error {
	m.seen[a.Name] = true
	switch a.Name {
	case "src-type", "dst-type":
		mask, err := parseAddrtypes(a.Value)
		if err != nil {
			return err
		}
		if a.Name == "src-type" {
			m.Src |= mask
			m.InvSrc = m.InvSrc || a.Inv
		} else {
			m.Dst |= mask
			m.InvDst = m.InvDst || a.Inv
		}
	case "limit-iface-in":
		m.LimitIn = true
	case "limit-iface-out":
		m.LimitOut = true
	}
	return nil
}

// Final implements Match.
func (m *Addrtype) Final(*Rule) error {
	if !m.seen["src-type"] && !m.seen["dst-type"] {
		return grammar.Paramf("addrtype: you must specify --src-type or --dst-type")
	}
	return XtFcheck("addrtype", addrtypeRules, m.seen)
}

// Check implements Checker with xt_addrtype's addrtype_mt_checkentry_v1:
// there is no input interface after routing for output and no output
// interface before it.
func (m *Addrtype) Check(w *Where) error {
	const early = 1<<packet.Prerouting | 1<<packet.Input
	const late = 1<<packet.Postrouting | 1<<packet.Output
	switch {
	case m.LimitIn && m.LimitOut:
		return rlKernelErrf("xt_addrtype: both incoming and outgoing interface limitation cannot be selected")
	case w.Hooks&early != 0 && m.LimitOut:
		return rlKernelErrf("xt_addrtype: output interface limitation not valid in PREROUTING and INPUT")
	case w.Hooks&late != 0 && m.LimitIn:
		return rlKernelErrf("xt_addrtype: input interface limitation not valid in POSTROUTING and OUTPUT")
	}
	return nil
}

func printAddrtypes(b *strings.Builder, mask uint16) {
	sep := ""
	for i, n := range addrtypeNames {
		if mask&(1<<i) != 0 {
			b.WriteString(sep + n)
			sep = ","
		}
	}
}

// Save implements Match.
func (m *Addrtype) Save(b *strings.Builder) {
	if m.Src != 0 {
		if m.InvSrc {
			b.WriteString(" !")
		}
		b.WriteString(" --src-type ")
		printAddrtypes(b, m.Src)
	}
	if m.Dst != 0 {
		if m.InvDst {
			b.WriteString(" !")
		}
		b.WriteString(" --dst-type ")
		printAddrtypes(b, m.Dst)
	}
	if m.LimitIn {
		b.WriteString(" --limit-iface-in")
	}
	if m.LimitOut {
		b.WriteString(" --limit-iface-out")
	}
}

// Print implements Match.
func (m *Addrtype) Print(b *strings.Builder, numeric bool) {
	b.WriteString(" ADDRTYPE match")
	if m.Src != 0 {
		b.WriteString(" src-type ")
		if m.InvSrc {
			b.WriteByte('!')
		}
		printAddrtypes(b, m.Src)
	}
	if m.Dst != 0 {
		b.WriteString(" dst-type ")
		if m.InvDst {
			b.WriteByte('!')
		}
		printAddrtypes(b, m.Dst)
	}
	if m.LimitIn {
		b.WriteString(" limit-in")
	}
	if m.LimitOut {
		b.WriteString(" limit-out")
	}
}
