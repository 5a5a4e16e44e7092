package match

import (
	"fmt"
	"strings"

	"github.com/gofw/gofw/packet"
)

// lengthInfo is the length match (libxt_length.c, xt_length.c): the IP
// datagram's total length within a range.
var lengthInfo = &Info{
	Name: "length",
	Opts: []Opt{
		{Name: "length", Arg: true, Inv: true},
	},
	New: func() Match { return &Length{} },
}

// Length is one length match: Min <= tot_len <= Max, negated by Inv.
type Length struct {
	Min, Max uint16
	Inv      bool

	set bool
}

// Parse implements Match (XTTYPE_UINT16RC; "4:3" is refused as upstream
// does since v1.8.11).
func (l *Length) Parse(a *Arg) error {
	lo, hi, err := xoParseMint("length", "length", a.Value, 0xffff)
	if err != nil {
		return err
	}
	l.Min, l.Max, l.Inv, l.set = uint16(lo), uint16(hi), a.Inv, true
	return nil
}

// Final implements Match: --length is mandatory (XTOPT_MAND).
func (l *Length) Final(*Rule) error {
	if !l.set {
		return xoMissing("length", "length")
	}
	return nil
}

func (l *Length) writeRange(b *strings.Builder) {
	if l.Min == l.Max {
		fmt.Fprintf(b, "%d", l.Min)
	} else {
		fmt.Fprintf(b, "%d:%d", l.Min, l.Max)
	}
}

// Save implements Match.
func (l *Length) Save(b *strings.Builder) {
	xoSaveInv(b, l.Inv)
	b.WriteString(" --length ")
	l.writeRange(b)
}

// Print implements Match ("length !0:65535").
func (l *Length) Print(b *strings.Builder, numeric bool) {
	b.WriteString(" length ")
	if l.Inv {
		b.WriteByte('!')
	}
	l.writeRange(b)
}

// Match implements Matcher as xt_length.c length_mt and length_mt6: the
// datagram's length (IPv4 tot_len; for IPv6 the payload length plus the
// 40-byte header, which the kernel adds in 16 bits, so a jumbo-sized sum
// wraps) within [Min, Max], negated by Inv: the packet's WireLen (Decode
// trims Data to that length; a truncated capture keeps it in TotalLen).
//
// Called for every packet; must not allocate.
func (l *Length) Match(p *packet.Packet) bool {
	n := uint16(p.WireLen())
	return (n >= l.Min && n <= l.Max) != l.Inv
}
