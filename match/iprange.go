package match

import (
	"net/netip"
	"strings"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/packet"
)

// iprangeInfo is the iprange match, revision 1 (libxt_iprange.c,
// xt_iprange.c): source and/or destination address within an inclusive
// range.
var iprangeInfo = &Info{
	Name: "iprange",
	Opts: []Opt{
		{Name: "src-range", Arg: true, Inv: true},
		{Name: "dst-range", Arg: true, Inv: true},
	},
	New: func() Match { return &IPRange{} },
}

// Flag bits of an IPRange, with the kernel's values (IPRANGE_* in
// uapi/linux/netfilter/xt_iprange.h).
const (
	IPRangeSrc    = 1 << 0
	IPRangeDst    = 1 << 1
	IPRangeSrcInv = 1 << 4
	IPRangeDstInv = 1 << 5
)

// IPRange is one iprange match. A range whose ends are reversed is kept:
// the kernel accepts it (logging that it "will never match"), and so does
// gofw.
type IPRange struct {
	Flags          uint8
	SrcMin, SrcMax netip.Addr
	DstMin, DstMax netip.Addr
}

// parseIPRange parses "A-B" or "A" (then B is A) as iprange_parse_range
// does, with dotted-quad addresses.
func parseIPRange(opt, s string) (lo, hi netip.Addr, err error) {
	as, bs, isRange := strings.Cut(s, "-")
	lo, ok := ParseAddr(as)
	if !ok {
		return lo, hi, XtBadValue("iprange", opt, as)
	}
	if !isRange {
		return lo, lo, nil
	}
	if hi, ok = ParseAddr(bs); !ok {
		return lo, hi, XtBadValue("iprange", opt, bs)
	}
	return lo, hi, nil
}

// Parse implements Match.
func (r *IPRange) Parse(a *Arg) error {
	lo, hi, err := parseIPRange(a.Name, a.Value)
	if err != nil {
		return err
	}
	if a.Name == "src-range" {
		r.SrcMin, r.SrcMax = lo, hi
		r.Flags |= IPRangeSrc
		if a.Inv {
			r.Flags |= IPRangeSrcInv
		}
	} else {
		r.DstMin, r.DstMax = lo, hi
		r.Flags |= IPRangeDst
		if a.Inv {
			r.Flags |= IPRangeDstInv
		}
	}
	return nil
}

// Final implements Match: one of the ranges is needed (iprange_mt_check).
func (r *IPRange) Final(*Rule) error {
	if r.Flags&(IPRangeSrc|IPRangeDst) == 0 {
		return grammar.Paramf("iprange match: You must specify `--src-range' or `--dst-range'")
	}
	return nil
}

// Save implements Match.
func (r *IPRange) Save(b *strings.Builder) {
	if r.Flags&IPRangeSrc != 0 {
		xoSaveInv(b, r.Flags&IPRangeSrcInv != 0)
		b.WriteString(" --src-range " + r.SrcMin.String() + "-" + r.SrcMax.String())
	}
	if r.Flags&IPRangeDst != 0 {
		xoSaveInv(b, r.Flags&IPRangeDstInv != 0)
		b.WriteString(" --dst-range " + r.DstMin.String() + "-" + r.DstMax.String())
	}
}

// Print implements Match: addresses are numbers even without -n.
func (r *IPRange) Print(b *strings.Builder, numeric bool) {
	if r.Flags&IPRangeSrc != 0 {
		b.WriteString(" source IP range")
		xoSaveInv(b, r.Flags&IPRangeSrcInv != 0)
		b.WriteString(" " + r.SrcMin.String() + "-" + r.SrcMax.String())
	}
	if r.Flags&IPRangeDst != 0 {
		b.WriteString(" destination IP range")
		xoSaveInv(b, r.Flags&IPRangeDstInv != 0)
		b.WriteString(" " + r.DstMin.String() + "-" + r.DstMax.String())
	}
}

// Match implements Matcher as xt_iprange.c iprange_mt4 / iprange_mt6: each
// given address must lie within its inclusive range, each test negated on
// its own. A reversed range matches nothing (and everything negated). An
// address of the other family than the range is outside it.
//
// Called for every packet; must not allocate.
func (r *IPRange) Match(p *packet.Packet) bool {
	if r.Flags&IPRangeSrc != 0 && inIPRange(p.Src, r.SrcMin, r.SrcMax) == (r.Flags&IPRangeSrcInv != 0) {
		return false
	}
	if r.Flags&IPRangeDst != 0 && inIPRange(p.Dst, r.DstMin, r.DstMax) == (r.Flags&IPRangeDstInv != 0) {
		return false
	}
	return true
}

func inIPRange(a, lo, hi netip.Addr) bool {
	if a.Is4() != lo.Is4() {
		return false
	}
	return a.Compare(lo) >= 0 && a.Compare(hi) <= 0
}
