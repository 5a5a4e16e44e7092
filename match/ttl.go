package match

import (
	"fmt"
	"strings"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/packet"
)

// ttlInfo is the ttl match (libipt_ttl.c, xt_hl.c's ttl_mt): the IPv4
// time-to-live compared with a value. Only equality can be negated, and
// the options exclude each other.
var ttlInfo = &Info{
	Name: "ttl",
	Opts: []Opt{
		{Name: "ttl-eq", Arg: true, Inv: true},
		{Name: "ttl-lt", Arg: true},
		{Name: "ttl-gt", Arg: true},
	},
	New: func() Match { return &TTL{} },
}

// TTL comparison modes, numbered as the kernel's IPT_TTL_EQ..IPT_TTL_GT.
const (
	TTLEq = 0 // ttl == Value
	TTLNe = 1 // ttl != Value ("! --ttl-eq")
	TTLLt = 2 // ttl < Value
	TTLGt = 3 // ttl > Value
)

// TTL is one ttl match.
type TTL struct {
	Mode  uint8 // TTLEq, TTLNe, TTLLt or TTLGt
	Value uint8

	given map[string]bool
}

// The ttl options in libipt_ttl's table order and in id order, which decide
// how iptables words a conflict.
var (
	ttlTableOrder = []string{"ttl-lt", "ttl-gt", "ttl-eq"}
	ttlIDOrder    = []string{"ttl-eq", "ttl-lt", "ttl-gt"}
)

// Parse implements Match.
func (t *TTL) Parse(a *Arg) error {
	v, err := XtParseUint("ttl", a.Name, a.Value, 0, 255)
	if err != nil {
		return err
	}
	if t.given == nil {
		t.given = map[string]bool{}
	}
	t.given[a.Name] = true
	t.Value = uint8(v)
	switch {
	case a.Name == "ttl-eq" && a.Inv:
		t.Mode = TTLNe
	case a.Name == "ttl-eq":
		t.Mode = TTLEq
	case a.Name == "ttl-lt":
		t.Mode = TTLLt
	default:
		t.Mode = TTLGt
	}
	return nil
}

// Final implements Match: exactly one option is needed (ttl_check; the
// missing closing quote is iptables').
func (t *TTL) Final(*Rule) error {
	if len(t.given) == 0 {
		return grammar.Paramf("TTL match: You must specify one of `--ttl-eq', `--ttl-lt', `--ttl-gt")
	}
	return xoExclusive("ttl", ttlTableOrder, ttlIDOrder, t.given)
}

// Save implements Match.
func (t *TTL) Save(b *strings.Builder) {
	switch t.Mode {
	case TTLEq:
		fmt.Fprintf(b, " --ttl-eq %d", t.Value)
	case TTLNe:
		fmt.Fprintf(b, " ! --ttl-eq %d", t.Value)
	case TTLLt:
		fmt.Fprintf(b, " --ttl-lt %d", t.Value)
	case TTLGt:
		fmt.Fprintf(b, " --ttl-gt %d", t.Value)
	}
}

var ttlOps = [...]string{TTLEq: "==", TTLNe: "!=", TTLLt: "<", TTLGt: ">"}

// Print implements Match ("TTL match TTL > 5").
func (t *TTL) Print(b *strings.Builder, numeric bool) {
	fmt.Fprintf(b, " TTL match TTL %s %d", ttlOps[t.Mode], t.Value)
}

// Match implements Matcher as xt_hl.c ttl_mt: the IPv4 TTL compared with
// Value as Mode says.
//
// Called for every packet; must not allocate.
func (t *TTL) Match(p *packet.Packet) bool {
	switch t.Mode {
	case TTLEq:
		return p.TTL == t.Value
	case TTLNe:
		return p.TTL != t.Value
	case TTLLt:
		return p.TTL < t.Value
	case TTLGt:
		return p.TTL > t.Value
	}
	return false
}
