package ruleset

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/gofw/gofw/match"
)

// Format selects what a listing shows, as iptables' FMT_* flags.
type Format struct {
	Numeric     bool // -n
	Verbose     bool // -v
	Exact       bool // -x
	LineNumbers bool // --line-numbers
}

// printNum appends a counter as xtables_print_num does: exact with -x,
// otherwise scaled to K/M/G/T so it fits five columns. table selects the
// padded column form; the policy line uses the unpadded one.
func printNum(b *strings.Builder, n uint64, exact, table bool) {
	if exact {
		if table {
			fmt.Fprintf(b, "%8d ", n)
		} else {
			fmt.Fprintf(b, "%d ", n)
		}
		return
	}
	if n <= 99999 {
		if table {
			fmt.Fprintf(b, "%5d ", n)
		} else {
			fmt.Fprintf(b, "%d ", n)
		}
		return
	}
	for _, unit := range []byte{'K', 'M', 'G', 'T'} {
		n = (n + 500) / 1000
		if n <= 9999 || unit == 'T' {
			if table {
				fmt.Fprintf(b, "%4d%c ", n, unit)
			} else {
				fmt.Fprintf(b, "%d%c ", n, unit)
			}
			return
		}
	}
}

func pad(b *strings.Builder, s string, w int) {
	b.WriteString(s)
	for i := len(s); i < w; i++ {
		b.WriteByte(' ')
	}
}

// chainHeader appends iptables -L's "Chain X (...)" line and column header.
func (t *Table) chainHeader(b *strings.Builder, c *Chain, f Format) {
	b.WriteString("Chain ")
	b.WriteString(c.Name)
	if c.Builtin {
		b.WriteString(" (policy ")
		b.WriteString(c.Policy.String())
		if f.Verbose {
			b.WriteByte(' ')
			printNum(b, c.PolicyCounters.Packets.Load(), f.Exact, false)
			b.WriteString("packets, ")
			printNum(b, c.PolicyCounters.Bytes.Load(), f.Exact, false)
			b.WriteString("bytes")
		}
		b.WriteString(")\n")
	} else {
		fmt.Fprintf(b, " (%d references)\n", t.References(c.Name))
	}
	if f.LineNumbers {
		b.WriteString("num  ")
	}
	if f.Verbose {
		if f.Exact {
			b.WriteString("    pkts      bytes ")
		} else {
			b.WriteString(" pkts bytes ")
		}
	}
	b.WriteString("target     prot opt")
	if f.Verbose {
		b.WriteString(" in     out    ")
	}
	b.WriteString(" source               destination         \n")
}

// protoText returns the protocol column of -L: a number with -n (as
// iptables 1.8.9 prints it), else the /etc/protocols name, "all" for 0.
func protoText(p uint8, numeric bool) string {
	if numeric {
		return itoa(uint64(p))
	}
	if p == 0 {
		return "all"
	}
	if n, ok := match.ProtoName(p); ok {
		return n
	}
	return itoa(uint64(p))
}

// addrText renders a source or destination column.
func addrText(a, m netip.Addr, numeric bool) string {
	if !numeric && m.As4() == [4]byte{} {
		return "anywhere"
	}
	var s string
	if numeric {
		s = a.String()
	} else {
		s = hostName(a, m)
	}
	switch n := match.MaskLen(m); {
	case n == 32:
	case n >= 0:
		s += "/" + itoa(uint64(n))
	default:
		s += "/" + m.String()
	}
	return s
}

// hostName names a host address for -L without -n, as iptables does with
// gethostbyaddr; gofw reads /etc/hosts only, so a listing never waits on
// DNS. Networks print numerically, as in iptables.
func hostName(a, m netip.Addr) string {
	if match.MaskLen(m) != 32 {
		return a.String()
	}
	return match.HostName(a)
}

// listRule appends one rule line of iptables -L (print_firewall).
func listRule(b *strings.Builder, r *Rule, num int, f Format) {
	if f.LineNumbers {
		fmt.Fprintf(b, "%-4d ", num)
	}
	if f.Verbose {
		printNum(b, r.Counters.Packets.Load(), f.Exact, true)
		printNum(b, r.Counters.Bytes.Load(), f.Exact, true)
	}
	pad(b, r.TargetName(), 9)
	b.WriteByte(' ')
	b.WriteByte(invChar(r.Inv&InvProto != 0))
	pad(b, protoText(r.Proto, f.Numeric), 4)
	b.WriteByte(' ')
	b.WriteString(fragText(r))
	b.WriteByte(' ')
	if f.Verbose {
		b.WriteByte(' ')
		pad(b, ifaceText(r.InIface, r.Inv&InvIn != 0, f.Numeric), 6)
		b.WriteByte(' ')
		pad(b, ifaceText(r.OutIface, r.Inv&InvOut != 0, f.Numeric), 6)
		b.WriteByte(' ')
	}
	b.WriteByte(invChar(r.Inv&InvSrc != 0))
	pad(b, addrText(r.Src, r.SrcMask, f.Numeric), 19)
	b.WriteByte(' ')
	b.WriteByte(invChar(r.Inv&InvDst != 0))
	pad(b, addrText(r.Dst, r.DstMask, f.Numeric), 19)
	b.WriteByte(' ')
	r.printTail(b, f.Numeric)
	b.WriteByte('\n')
}

// printTail appends "[goto] ", the matches' and the target's -L text.
func (r *Rule) printTail(b *strings.Builder, numeric bool) {
	if r.Kind == KindGoto {
		b.WriteString("[goto] ")
	}
	for _, m := range r.Matches {
		m.M.Print(b, numeric)
	}
	if r.Kind == KindExt {
		r.Target.Print(b, numeric)
	}
}

// verboseLine is the line iptables -v prints for -A/-I/-D/-C/-R
// (print_firewall_line with FMT_PRINT_RULE): untabulated, numeric, and the
// protocol named only from iptables' own table.
func verboseLine(r *Rule) string {
	var b strings.Builder
	b.WriteString(r.TargetName())
	b.WriteByte(' ')
	b.WriteByte(invChar(r.Inv&InvProto != 0))
	if n, ok := match.ChainProtoName(r.Proto); ok {
		b.WriteString(n)
	} else {
		b.WriteString(itoa(uint64(r.Proto)))
	}
	b.WriteString(" opt ")
	b.WriteString(fragText(r))
	b.WriteString(" in ")
	b.WriteString(ifaceText(r.InIface, r.Inv&InvIn != 0, true))
	b.WriteString(" out ")
	b.WriteString(ifaceText(r.OutIface, r.Inv&InvOut != 0, true))
	b.WriteString(" ")
	b.WriteByte(invChar(r.Inv&InvSrc != 0))
	b.WriteString(addrText(r.Src, r.SrcMask, true))
	b.WriteString(" ")
	b.WriteByte(invChar(r.Inv&InvDst != 0))
	b.WriteString("-> ")
	b.WriteString(addrText(r.Dst, r.DstMask, true))
	b.WriteString("  ")
	r.printTail(&b, true)
	b.WriteByte('\n')
	return b.String()
}

func invChar(inv bool) byte {
	if inv {
		return '!'
	}
	return ' '
}

// fragText is the opt column: "--", "-f" for -f, "!f" for ! -f.
func fragText(r *Rule) string {
	switch {
	case r.Frag && r.Inv&InvFrag != 0:
		return "!f"
	case r.Frag:
		return "-f"
	}
	return "--"
}

func ifaceText(name string, inv, numeric bool) string {
	if name == "" {
		if numeric {
			name = "*"
		} else {
			name = "any"
		}
	}
	if inv {
		return "!" + name
	}
	return name
}

// List appends iptables -L output for chain (all chains if ""), or only
// rule num of it when num > 0; zero also zeroes what was listed (-L -Z).
func (t *Table) List(b *strings.Builder, chain string, num int, f Format) {
	first := true
	for _, c := range t.Chains() {
		if chain != "" && c.Name != chain {
			continue
		}
		if !first {
			b.WriteByte('\n')
		}
		first = false
		if num == 0 {
			t.chainHeader(b, c, f)
		}
		for i, r := range c.Rules {
			if num == 0 || num == i+1 {
				listRule(b, r, i+1, f)
			}
		}
	}
}

// ListRules appends iptables -S output for chain (all chains if ""), or
// only rule num when num > 0. counters is -S -v.
func (t *Table) ListRules(b *strings.Builder, chain string, num int, counters bool) {
	chains := t.Chains()
	if chain != "" {
		c := t.chains[chain]
		chains = []*Chain{c}
	}
	if num == 0 {
		for _, c := range chains {
			if c.Builtin {
				b.WriteString("-P ")
				b.WriteString(c.Name)
				b.WriteByte(' ')
				b.WriteString(c.Policy.String())
				if counters {
					fmt.Fprintf(b, " -c %d %d", c.PolicyCounters.Packets.Load(), c.PolicyCounters.Bytes.Load())
				}
				b.WriteByte('\n')
			}
		}
		for _, c := range chains {
			if !c.Builtin {
				b.WriteString("-N ")
				b.WriteString(c.Name)
				b.WriteByte('\n')
			}
		}
	}
	for _, c := range chains {
		for i, r := range c.Rules {
			if num != 0 && num != i+1 {
				continue
			}
			b.WriteString("-A ")
			b.WriteString(c.Name)
			r.save(b, counters)
			b.WriteByte('\n')
		}
	}
}

// Save appends the table in iptables-save format; counters is -c. now is the
// time for the header and footer comments, prog the program name in them.
func (t *Table) Save(b *strings.Builder, counters bool, prog string, now time.Time) {
	stamp := now.Format("Mon Jan _2 15:04:05 2006")
	fmt.Fprintf(b, "# Generated by %s on %s\n*%s\n", prog, stamp, t.Name)
	for _, c := range t.Chains() {
		if c.Builtin {
			fmt.Fprintf(b, ":%s %s [%d:%d]\n", c.Name, c.Policy, c.PolicyCounters.Packets.Load(), c.PolicyCounters.Bytes.Load())
		} else {
			fmt.Fprintf(b, ":%s - [0:0]\n", c.Name)
		}
	}
	for _, c := range t.Chains() {
		for _, r := range c.Rules {
			if counters {
				fmt.Fprintf(b, "[%d:%d] ", r.Counters.Packets.Load(), r.Counters.Bytes.Load())
			}
			b.WriteString("-A ")
			b.WriteString(c.Name)
			r.save(b, false)
			b.WriteByte('\n')
		}
	}
	fmt.Fprintf(b, "COMMIT\n# Completed on %s\n", stamp)
}
