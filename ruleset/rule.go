package ruleset

import (
	"net/netip"
	"strings"
	"sync/atomic"

	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/target"
)

// Kind is what a rule does when it matches: one of the standard verdicts, a
// jump or goto, or a target extension.
type Kind uint8

// Rule kinds. Standard verdicts are not target objects, as in the kernel.
const (
	KindNone   Kind = iota // no target: the rule only counts
	KindAccept             // -j ACCEPT
	KindDrop               // -j DROP
	KindQueue              // -j QUEUE (NFQUEUE queue 0)
	KindReturn             // -j RETURN
	KindJump               // -j CHAIN
	KindGoto               // -g CHAIN
	KindExt                // -j EXTENSION
)

var standardTargets = map[string]Kind{
	"ACCEPT": KindAccept, "DROP": KindDrop, "QUEUE": KindQueue, "RETURN": KindReturn,
}

// Inversion flags of a rule's IP part (the kernel's IPT_INV_*).
const (
	InvIn    uint8 = 0x01
	InvOut   uint8 = 0x02
	InvSrc   uint8 = 0x08
	InvDst   uint8 = 0x10
	InvFrag  uint8 = 0x20
	InvProto uint8 = 0x40
)

// Counters are a rule's or a policy's packet and byte counts. They are
// shared by every snapshot that holds the rule, so edits of other rules
// keep them.
type Counters struct {
	Packets atomic.Uint64
	Bytes   atomic.Uint64
}

// Add counts one packet of n bytes.
func (c *Counters) Add(n int) {
	c.Packets.Add(1)
	c.Bytes.Add(uint64(n))
}

// Set sets both counts.
func (c *Counters) Set(p, b uint64) {
	c.Packets.Store(p)
	c.Bytes.Store(b)
}

// MatchRef is a match instance with its extension description.
type MatchRef struct {
	Info *match.Info
	M    match.Match
}

// Rule is one rule. It is immutable once in a snapshot, except its counters.
type Rule struct {
	Src, SrcMask netip.Addr
	Dst, DstMask netip.Addr
	InIface      string // "" for any; a trailing "+" is a prefix wildcard
	OutIface     string
	Proto        uint8
	Frag         bool
	Inv          uint8

	Matches []MatchRef

	Kind       Kind
	Chain      string // jump or goto destination
	TargetInfo *target.Info
	Target     target.Target

	Counters *Counters
}

func newRule() *Rule {
	z := netip.AddrFrom4([4]byte{})
	return &Rule{Src: z, SrcMask: z, Dst: z, DstMask: z, Counters: &Counters{}}
}

// TargetName is the name in -L's target column and after -j/-g.
func (r *Rule) TargetName() string {
	switch r.Kind {
	case KindAccept:
		return "ACCEPT"
	case KindDrop:
		return "DROP"
	case KindQueue:
		return "QUEUE"
	case KindReturn:
		return "RETURN"
	case KindJump, KindGoto:
		return r.Chain
	case KindExt:
		return r.TargetInfo.Name
	}
	return ""
}

// Spec returns the rule as iptables -S prints it after "-A CHAIN", without
// counters. Two rules are the same rule for -D and -C when their specs are
// equal, which is what comparing the kernel's binary entries amounts to.
func (r *Rule) Spec() string {
	var b strings.Builder
	r.save(&b, false)
	return b.String()
}

// save appends the rule's text as iptables-save prints it (print_rule4),
// with " -c P B" before the target when counters is set (-S -v).
func (r *Rule) save(b *strings.Builder, counters bool) {
	saveAddr(b, 's', r.Src, r.SrcMask, r.Inv&InvSrc != 0)
	saveAddr(b, 'd', r.Dst, r.DstMask, r.Inv&InvDst != 0)
	saveIface(b, 'i', r.InIface, r.Inv&InvIn != 0)
	saveIface(b, 'o', r.OutIface, r.Inv&InvOut != 0)
	if r.Proto != 0 {
		if r.Inv&InvProto != 0 {
			b.WriteString(" !")
		}
		b.WriteString(" -p ")
		if n, ok := match.ProtoName(r.Proto); ok {
			b.WriteString(n)
		} else {
			b.WriteString(itoa(uint64(r.Proto)))
		}
	}
	if r.Frag {
		if r.Inv&InvFrag != 0 {
			b.WriteString(" !")
		}
		b.WriteString(" -f")
	}
	for _, m := range r.Matches {
		b.WriteString(" -m ")
		b.WriteString(m.Info.Name)
		m.M.Save(b)
	}
	if counters {
		b.WriteString(" -c ")
		b.WriteString(itoa(r.Counters.Packets.Load()))
		b.WriteByte(' ')
		b.WriteString(itoa(r.Counters.Bytes.Load()))
	}
	switch r.Kind {
	case KindNone:
	case KindGoto:
		b.WriteString(" -g ")
		b.WriteString(r.Chain)
	default:
		b.WriteString(" -j ")
		b.WriteString(r.TargetName())
		if r.Kind == KindExt {
			r.Target.Save(b)
		}
	}
}

func saveAddr(b *strings.Builder, letter byte, a, m netip.Addr, inv bool) {
	if a.As4() == [4]byte{} && m.As4() == [4]byte{} && !inv {
		return
	}
	if inv {
		b.WriteString(" !")
	}
	b.WriteString(" -")
	b.WriteByte(letter)
	b.WriteByte(' ')
	match.AddrMaskText(b, a, m)
}

func saveIface(b *strings.Builder, letter byte, name string, inv bool) {
	if name == "" {
		return
	}
	if inv {
		b.WriteString(" !")
	}
	b.WriteString(" -")
	b.WriteByte(letter)
	b.WriteByte(' ')
	if !strings.ContainsAny(name, " \t\n\"") {
		b.WriteString(name)
		return
	}
	// iptables accepts a name the kernel would refuse ("Warning: weird
	// character in interface") and saves it bare, so that a blank in it
	// splits the saved line; quoted, it loads back as it was, here and in
	// iptables-restore (add_param_to_argv).
	b.WriteByte('"')
	for i := 0; i < len(name); i++ {
		if c := name[i]; c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(name[i])
	}
	b.WriteByte('"')
}

func itoa(v uint64) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return string(buf[i:])
}
