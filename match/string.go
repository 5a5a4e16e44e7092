package match

import (
	"fmt"
	"strings"
	"syscall"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/packet"
)

// stringInfo is the string match (libxt_string.c, xt_string.c), revision 1
// (with --icase): a byte pattern searched for in the packet between two
// offsets with one of the kernel's textsearch algorithms.
var stringInfo = &Info{
	Name: "string",
	Opts: []Opt{
		{Name: "from", Arg: true},
		{Name: "to", Arg: true},
		{Name: "algo", Arg: true},
		{Name: "string", Arg: true, Inv: true},
		{Name: "hex-string", Arg: true, Inv: true},
		{Name: "icase"},
	},
	New: func() Match { return &String{To: 65535, seen: map[string]bool{}} },
}

var stringRules = []XtOptRule{
	{Name: "algo", Mand: true},
	{Name: "string", Excl: []string{"hex-string"}},
	{Name: "hex-string", Excl: []string{"string"}},
}

const (
	stringMaxPattern = 128 // XT_STRING_MAX_PATTERN_SIZE
	stringAlgoSize   = 16  // XT_STRING_MAX_ALGO_NAME_SIZE
)

// String is one string match: Pattern (1 to 128 bytes) is searched for
// with Algo ("bm" or "kmp") in the packet from offset From to To, case
// folded when ICase; Inv negates the result.
type String struct {
	Pattern  []byte
	Algo     string
	From, To uint16
	Inv      bool
	ICase    bool

	// ts is the prepared search (textsearch_prepare), built once when the
	// options are final and read-only afterwards.
	ts   *textSearch
	seen map[string]bool
}

// parseHexString is libxt_string's parse_hex_string: text with hex bytes
// between "|" pairs ("ab|0d 0a|cd"), a backslash quoting the next
// character outside them.
func parseHexString(s string) ([]byte, error) {
	if s == "" {
		return nil, grammar.Paramf("STRING must contain at least one char")
	}
	at := func(i int) byte { // C string: a NUL past the end
		if i < len(s) {
			return s[i]
		}
		return 0
	}
	var out []byte
	hex, literal := false, false
	for i := 0; i < len(s); {
		if len(out) >= stringMaxPattern {
			return nil, grammar.Paramf("STRING too long \"%s\"", s)
		}
		switch {
		case s[i] == '\\' && !hex:
			literal = true
		case s[i] == '\\':
			return nil, grammar.Paramf("Cannot include literals in hex data")
		case s[i] == '|':
			if hex {
				hex = false
			} else {
				hex = true
				// Skip white space just after the opening "|".
				for at(i+1) == ' ' {
					i++
				}
			}
			if i+1 >= len(s) {
				return out, nil
			}
			i++
		}
		switch {
		case literal:
			if i+1 >= len(s) {
				return nil, grammar.Paramf("Bad literal placement at end of string")
			}
			out = append(out, s[i+1])
			i += 2
			literal = false
		case hex:
			if i+1 >= len(s) {
				return nil, grammar.Paramf("Odd number of hex digits")
			}
			if i+2 >= len(s) {
				// A hex block must end with "|".
				return nil, grammar.Paramf("Invalid hex block")
			}
			hi, lo := rlHexVal(s[i]), rlHexVal(s[i+1])
			if hi < 0 {
				return nil, grammar.Paramf("Invalid hex char '%s'", s[i:i+1])
			}
			if lo < 0 {
				return nil, grammar.Paramf("Invalid hex char '%s'", s[i+1:i+2])
			}
			out = append(out, byte(hi<<4|lo))
			if s[i+2] == ' ' {
				i += 3 // a space may follow each byte
			} else {
				i += 2
			}
		default:
			out = append(out, s[i])
			i++
		}
	}
	return out, nil
}

// Parse implements Match.
func (m *String) Parse(a *Arg) error {
	m.seen[a.Name] = true
	switch a.Name {
	case "from", "to":
		v, err := XtParseUint("string", a.Name, a.Value, 0, 65535)
		if err != nil {
			return err
		}
		if a.Name == "from" {
			m.From = uint16(v)
		} else {
			m.To = uint16(v)
		}
	case "algo":
		m.Algo, _ = XtString(a.Value, 0, stringAlgoSize)
	case "string":
		if len(a.Value) > stringMaxPattern {
			return grammar.Paramf("STRING too long \"%s\"", a.Value)
		}
		m.Pattern, m.Inv = []byte(a.Value), a.Inv
	case "hex-string":
		p, err := parseHexString(a.Value)
		if err != nil {
			return err
		}
		m.Pattern, m.Inv = p, a.Inv
	case "icase":
		m.ICase = true
	}
	return nil
}

// Final implements Match. It also prepares the search tables, as
// string_mt_check's textsearch_prepare does, so the hot path only reads
// them.
func (m *String) Final(*Rule) error {
	if !m.seen["string"] && !m.seen["hex-string"] {
		return grammar.Paramf("STRING match: You must specify `--string' or `--hex-string'")
	}
	if err := XtFcheck("string", stringRules, m.seen); err != nil {
		return err
	}
	m.ts = prepareTextSearch(m.Algo, m.Pattern, m.ICase)
	return nil
}

// Bind implements Binder: it prepares the search of an instance built
// without Final. The first Bind of a rule comes before its first packet,
// and later ones find the tables ready and write nothing, so a ruleset
// swap never races with the packet path.
func (m *String) Bind(*Env) error {
	if m.ts == nil {
		m.ts = prepareTextSearch(m.Algo, m.Pattern, m.ICase)
	}
	if m.ts == nil {
		return fmt.Errorf("no textsearch algorithm %q for pattern %q", m.Algo, m.Pattern)
	}
	return nil
}

// Match implements Matcher as xt_string.c string_mt does with
// skb_find_text: the packet, from the first byte of its IP header, is
// searched from From on, and the pattern matches when an occurrence ends
// at or before To (the kernel's "ret + patlen <= to - from"). Searching the
// bytes From..min(To, length) finds exactly those occurrences, the first
// one first, as textsearch_find does on a linear skb.
//
// Called for every packet; must not allocate.
func (m *String) Match(p *packet.Packet) bool {
	found := false
	if ts := m.ts; ts != nil {
		from, to := int(m.From), min(int(m.To), len(p.Data))
		if from < to {
			found = ts.find(p.Data[from:to]) >= 0
		}
	}
	return found != m.Inv
}

// Check implements Checker with xt_string's string_mt_check and
// textsearch_prepare: the window must not be empty, the pattern neither,
// and the algorithm must exist. The kernel also has "fsm", whose pattern
// is a compiled token list rather than bytes; gofw does not implement it.
func (m *String) Check(*Where) error {
	switch {
	case m.From > m.To:
		return rlKernelErrf("xt_string: --from %d is past --to %d", m.From, m.To)
	case len(m.Pattern) == 0:
		return rlKernelErrf("xt_string: the pattern must not be empty")
	case m.Algo == "fsm":
		return rlKernelErrf("xt_string: textsearch algorithm \"fsm\" is not supported by gofw")
	case m.Algo != "bm" && m.Algo != "kmp":
		return &KernelError{Msg: fmt.Sprintf("xt_string: no textsearch algorithm %q", m.Algo), Errno: syscall.ENOENT}
	}
	return nil
}

// stringIsHex is is_hex_string: a pattern is shown in hex when it has a
// byte outside printable ASCII or ends with a backslash.
func stringIsHex(p []byte) bool {
	for _, c := range p {
		if c < 0x20 || c > 0x7e {
			return true
		}
	}
	return len(p) > 0 && p[len(p)-1] == '\\'
}

// appendPattern appends ` "|0a0b|"` or ` "text"` (with " and \ escaped).
func appendPattern(b *strings.Builder, p []byte) {
	b.WriteString(` "`)
	if stringIsHex(p) {
		fmt.Fprintf(b, "|%x|", p)
	} else {
		for _, c := range p {
			if c == '"' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

func (m *String) tail(b *strings.Builder, algo, from, to, icase string) {
	b.WriteString(algo + m.Algo)
	if m.From != 0 {
		fmt.Fprintf(b, "%s%d", from, m.From)
	}
	if m.To != 65535 {
		fmt.Fprintf(b, "%s%d", to, m.To)
	}
	if m.ICase {
		b.WriteString(icase)
	}
}

// Save implements Match as string_save.
func (m *String) Save(b *strings.Builder) {
	if m.Inv {
		b.WriteString(" !")
	}
	if stringIsHex(m.Pattern) {
		b.WriteString(" --hex-string")
	} else {
		b.WriteString(" --string")
	}
	appendPattern(b, m.Pattern)
	m.tail(b, " --algo ", " --from ", " --to ", " --icase")
}

// Print implements Match as string_print: `STRING match !"x"` has two
// spaces before the pattern when not negated, as in iptables.
func (m *String) Print(b *strings.Builder, numeric bool) {
	b.WriteString(" STRING match ")
	if m.Inv {
		b.WriteByte('!')
	}
	appendPattern(b, m.Pattern)
	m.tail(b, " ALGO name ", " FROM ", " TO ", " ICASE")
}
