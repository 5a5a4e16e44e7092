package match

import (
	"fmt"
	"strings"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/packet"
)

// icmpInfo is the icmp match (libipt_icmp.c, ip_tables.c icmp_match): an
// ICMP type and a range of codes. "-p icmp --icmp-type 8" loads it
// implicitly.
var icmpInfo = &Info{
	Name: "icmp",
	Opts: []Opt{
		{Name: "icmp-type", Arg: true, Inv: true},
	},
	New:   func() Match { return &ICMP{Type: ICMPAny, CodeMax: 0xff} },
	Proto: packet.ProtoICMP,
}

// ICMPAny is the type value that stands for every ICMP type: iptables
// stores "--icmp-type any" as type 0xff, codes 0-255, and the kernel's
// icmp_type_code_match treats 0xff as a wildcard.
const ICMPAny = 0xff

// ICMPType is one name iptables knows for an ICMP type, or for a type with
// a code (range).
type ICMPType struct {
	Name             string
	Type             uint8
	CodeMin, CodeMax uint8
}

// ICMPTypes is iptables' ICMP name table (icmp_codes in libxt_icmp.h), in
// its order: parsing takes a unique case-insensitive prefix of a name, -L
// prints the first name whose type and codes are equal, and
// "iptables -p icmp --help" lists it (see ICMPTypeList). Aliases follow the
// name they stand for, with the same type and codes.
var ICMPTypes = []ICMPType{
	{"any", ICMPAny, 0, 0xff},
	{"echo-reply", 0, 0, 0xff},
	{"pong", 0, 0, 0xff}, // alias

	{"destination-unreachable", 3, 0, 0xff},
	{"network-unreachable", 3, 0, 0},
	{"host-unreachable", 3, 1, 1},
	{"protocol-unreachable", 3, 2, 2},
	{"port-unreachable", 3, 3, 3},
	{"fragmentation-needed", 3, 4, 4},
	{"source-route-failed", 3, 5, 5},
	{"network-unknown", 3, 6, 6},
	{"host-unknown", 3, 7, 7},
	{"network-prohibited", 3, 9, 9},
	{"host-prohibited", 3, 10, 10},
	{"TOS-network-unreachable", 3, 11, 11},
	{"TOS-host-unreachable", 3, 12, 12},
	{"communication-prohibited", 3, 13, 13},
	{"host-precedence-violation", 3, 14, 14},
	{"precedence-cutoff", 3, 15, 15},

	{"source-quench", 4, 0, 0xff},

	{"redirect", 5, 0, 0xff},
	{"network-redirect", 5, 0, 0},
	{"host-redirect", 5, 1, 1},
	{"TOS-network-redirect", 5, 2, 2},
	{"TOS-host-redirect", 5, 3, 3},

	{"echo-request", 8, 0, 0xff},
	{"ping", 8, 0, 0xff}, // alias

	{"router-advertisement", 9, 0, 0xff},

	{"router-solicitation", 10, 0, 0xff},

	{"time-exceeded", 11, 0, 0xff},
	{"ttl-exceeded", 11, 0, 0xff}, // alias
	{"ttl-zero-during-transit", 11, 0, 0},
	{"ttl-zero-during-reassembly", 11, 1, 1},

	{"parameter-problem", 12, 0, 0xff},
	{"ip-header-bad", 12, 0, 0},
	{"required-option-missing", 12, 1, 1},

	{"timestamp-request", 13, 0, 0xff},

	{"timestamp-reply", 14, 0, 0xff},

	{"address-mask-request", 17, 0, 0xff},

	{"address-mask-reply", 18, 0, 0xff},
}

// ICMPTypeList returns the "Valid ICMP Types:" block of
// "iptables -p icmp --help", as libxt_icmp.h's xt_print_icmp_types prints
// it: a type on its own line, its codes indented by three spaces, an alias
// in parentheses after the name it repeats. It ends with a newline.
func ICMPTypeList() string {
	var b strings.Builder
	b.WriteString("Valid ICMP Types:")
	for i, t := range ICMPTypes {
		switch {
		case i > 0 && t.Type == ICMPTypes[i-1].Type && t.CodeMin == ICMPTypes[i-1].CodeMin && t.CodeMax == ICMPTypes[i-1].CodeMax:
			fmt.Fprintf(&b, " (%s)", t.Name)
		case i > 0 && t.Type == ICMPTypes[i-1].Type:
			b.WriteString("\n   " + t.Name)
		default:
			b.WriteString("\n" + t.Name)
		}
	}
	b.WriteByte('\n')
	return b.String()
}

// ICMP is one icmp match: the type must equal Type (or Type is ICMPAny)
// and the code lie in [CodeMin, CodeMax], negated as a whole by Inv.
type ICMP struct {
	Type             uint8
	CodeMin, CodeMax uint8
	Inv              bool

	set bool
}

// parseICMPType parses a name (a unique case-insensitive prefix of one in
// ICMPTypes), "TYPE", "TYPE/CODE" or "TYPE/MIN:MAX", with the messages of
// iptables 1.8.9 (libxtables' ICMP parser, which also accepts a type range
// only when both ends are equal).
func parseICMPType(s string) (typ, codeMin, codeMax uint8, err error) {
	match := -1
	for i, t := range ICMPTypes {
		if len(s) > len(t.Name) || !strings.EqualFold(t.Name[:len(s)], s) {
			continue
		}
		if match >= 0 {
			return 0, 0, 0, grammar.Paramf("Ambiguous ICMP type `%s': `%s' or `%s'?", s, ICMPTypes[match].Name, t.Name)
		}
		match = i
	}
	if match >= 0 {
		t := ICMPTypes[match]
		return t.Type, t.CodeMin, t.CodeMax, nil
	}
	t0, t1, rest, ok := parseU8Range(s)
	if !ok {
		return 0, 0, 0, grammar.Paramf("Unknown ICMP type `%s'", s)
	}
	if t0 != t1 {
		return 0, 0, 0, grammar.Paramf("ICMP type range not supported")
	}
	if rest == "" {
		return t0, 0, 0xff, nil
	}
	if rest[0] == '/' {
		var c0, c1 uint8
		c0, c1, rest, ok = parseU8Range(rest[1:])
		if !ok {
			return 0, 0, 0, grammar.Paramf("Unknown ICMP code `%s'", s)
		}
		if rest == "" {
			return t0, c0, c1, nil
		}
	}
	return 0, 0, 0, grammar.Paramf("unknown character %c", rest[0])
}

// parseU8Range reads "N" or "N:M" (C strtoul, base 0, each at most 255)
// from the start of s.
func parseU8Range(s string) (lo, hi uint8, rest string, ok bool) {
	v, rest, ok := XtStrtoul(s, 0, 255)
	if !ok {
		return 0, 0, s, false
	}
	w := v
	if rest != "" && rest[0] == ':' {
		if w, rest, ok = XtStrtoul(rest[1:], 0, 255); !ok {
			return 0, 0, s, false
		}
	}
	return uint8(v), uint8(w), rest, true
}

// Parse implements Match.
func (c *ICMP) Parse(a *Arg) error {
	t, lo, hi, err := parseICMPType(a.Value)
	if err != nil {
		return err
	}
	c.Type, c.CodeMin, c.CodeMax, c.Inv, c.set = t, lo, hi, a.Inv, true
	return nil
}

// Final implements Match: --icmp-type is mandatory (XTOPT_MAND), which is
// why "-p icmp -m icmp" alone is refused.
func (c *ICMP) Final(*Rule) error {
	if !c.set {
		return xoMissing("icmp", "icmp-type")
	}
	return nil
}

func (c *ICMP) fullCodes() bool { return c.CodeMin == 0 && c.CodeMax == 0xff }

// Save implements Match. It writes numbers, and "any" only for type 255
// with every code: "--icmp-type 255/255" stays itself (upstream 5b5430d6,
// v1.8.10; 1.8.9 saved it as "any"). Like iptables, only the lower end of
// a code range is saved.
func (c *ICMP) Save(b *strings.Builder) {
	xoSaveInv(b, c.Inv)
	if c.Type == ICMPAny && c.fullCodes() {
		b.WriteString(" --icmp-type any")
		return
	}
	fmt.Fprintf(b, " --icmp-type %d", c.Type)
	if !c.fullCodes() {
		fmt.Fprintf(b, "/%d", c.CodeMin)
	}
}

// Print implements Match, as libipt_icmp's print_icmptype: a name from
// ICMPTypes unless numeric or there is none, else "type T [code C|codes
// A-B]" glued to "icmp" (iptables prints "icmptype 8").
func (c *ICMP) Print(b *strings.Builder, numeric bool) {
	b.WriteString(" icmp")
	if !numeric {
		for _, t := range ICMPTypes {
			if t.Type == c.Type && t.CodeMin == c.CodeMin && t.CodeMax == c.CodeMax {
				b.WriteByte(' ')
				if c.Inv {
					b.WriteByte('!')
				}
				b.WriteString(t.Name)
				return
			}
		}
	}
	if c.Inv {
		b.WriteString(" !")
	}
	fmt.Fprintf(b, "type %d", c.Type)
	switch {
	case c.CodeMin == c.CodeMax:
		fmt.Fprintf(b, " code %d", c.CodeMin)
	case !c.fullCodes():
		fmt.Fprintf(b, " codes %d-%d", c.CodeMin, c.CodeMax)
	}
}

// Match implements Matcher as ip_tables.c icmp_match and
// icmp_type_code_match do: type ICMPAny matches every message, else the
// type must be equal and the code within [CodeMin, CodeMax]; Inv negates
// the whole. A non-first fragment never matches and a message shorter than
// the 8-byte ICMP header is dropped. Type and code come from the raw
// header, so an ICMP error whose quote conntrack could not read still
// matches.
//
// Called for every packet; must not allocate.
func (c *ICMP) Match(p *packet.Packet) bool {
	if p.FragOff != 0 {
		return false
	}
	h := l4Hdr(p, 8)
	if h == nil {
		p.Hotdrop = true
		return false
	}
	typ, code := h[0], h[1]
	return (c.Type == ICMPAny || (typ == c.Type && code >= c.CodeMin && code <= c.CodeMax)) != c.Inv
}
