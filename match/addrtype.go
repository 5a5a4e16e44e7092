package match

import (
	"fmt"
	"math/bits"
	"net/netip"
	"strings"
	"sync/atomic"

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
	host atomic.Pointer[Host] // set by Bind
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

// Route types, numbered as RTN_* in <linux/rtnetlink.h>: bit n of a type
// mask is type n.
const (
	rtnUnspec = iota
	rtnUnicast
	rtnLocal
	rtnBroadcast
	rtnAnycast
	rtnMulticast
	rtnBlackhole
	rtnUnreachable
	rtnProhibit
	rtnThrow
	rtnNAT
	rtnXResolve
)

// addrtypeRouteOnly are the types an IPv4 address has only when a route of
// that type was added to the local routing table by hand ("ip route add
// blackhole 192.0.2.1 table local"): inet_dev_addr_type looks the address
// up in that table, and the kernel itself puts only local and broadcast
// routes there. gofw knows the host's addresses, not its routing tables,
// so it cannot answer for them honestly and refuses rules that name them.
// (UNSPEC is answerable: no IPv4 address ever has it, so it matches
// nothing.)
const addrtypeRouteOnly = 1<<rtnAnycast | 1<<rtnBlackhole | 1<<rtnUnreachable |
	1<<rtnProhibit | 1<<rtnThrow | 1<<rtnNAT | 1<<rtnXResolve

// Bind implements Binder: it takes the host's interfaces and addresses,
// and refuses the types only a routing-table lookup could tell (see
// addrtypeRouteOnly). Bind may run again for a rule a new ruleset shares
// while packets still run the old one, so the host is stored atomically.
func (m *Addrtype) Bind(env *Env) error {
	for _, t := range []struct {
		opt  string
		mask uint16
	}{{"src-type", m.Src}, {"dst-type", m.Dst}} {
		if bad := t.mask & addrtypeRouteOnly; bad != 0 {
			n := bits.TrailingZeros16(bad)
			return fmt.Errorf("--%s %s needs the routing table, which gofw does not read (it knows the host's addresses only); it can match UNSPEC, UNICAST, LOCAL, BROADCAST and MULTICAST",
				t.opt, addrtypeNames[n])
		}
	}
	if env == nil || env.Host == nil {
		return fmt.Errorf("the engine was not given the host's interfaces and addresses, which LOCAL and BROADCAST are decided by")
	}
	m.host.Store(env.Host)
	return nil
}

// Match implements Matcher as xt_addrtype.c addrtype_mt_v1 does for IPv4:
// each given address's type must be in its mask, negated on its own.
// With --limit-iface-in (-out) only the input (output) interface's
// addresses count; a packet without that interface is looked up without
// the limit, as the kernel passes a NULL device then.
//
// The type is inet_dev_addr_type's answer, measured on Linux 6.18: 0.0.0.0
// and 255.255.255.255 are BROADCAST, 224.0.0.0/4 MULTICAST, an address of
// the host LOCAL (any 127.0.0.0/8 address too, as the kernel's local route
// for lo covers the prefix), the last address of one of the host's
// prefixes shorter than /31 BROADCAST (the network address is not: Linux
// no longer adds a broadcast route for it), anything else UNICAST. Limited
// to an interface, an address that is local to or the broadcast of
// another interface is UNICAST. Unlike the kernel, gofw still counts the
// broadcast address of an interface that is down (the kernel drops that
// route with the link; the local routes stay).
//
// gofw's tables are IPv4 (ip_tables); ip6tables' addrtype_mt6 follows other
// rules, so an IPv6 packet never matches here.
//
// Called for every packet; must not allocate.
func (m *Addrtype) Match(p *packet.Packet) bool {
	if p.Family != 4 {
		return false
	}
	h := m.host.Load()
	dev := ""
	if m.LimitIn {
		dev = p.InIface
	} else if m.LimitOut {
		dev = p.OutIface
	}
	if m.Src != 0 && (m.Src&(1<<addrType(h, p.Src, dev)) != 0) == m.InvSrc {
		return false
	}
	if m.Dst != 0 && (m.Dst&(1<<addrType(h, p.Dst, dev)) != 0) == m.InvDst {
		return false
	}
	return true
}

var (
	ipv4Any   = netip.AddrFrom4([4]byte{})
	ipv4Bcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})
)

// addrType is __inet_dev_addr_type for an IPv4 address a, restricted to
// the interface dev unless dev is "".
func addrType(h *Host, a netip.Addr, dev string) uint8 {
	switch {
	case a == ipv4Any || a == ipv4Bcast:
		return rtnBroadcast
	case a.IsMulticast():
		return rtnMulticast
	case dev == "":
		switch {
		case hostHasAddr(h, a):
			return rtnLocal
		case h.IsBroadcast(a):
			return rtnBroadcast
		case a.IsLoopback():
			return rtnLocal
		}
		return rtnUnicast
	}
	i, ok := h.Iface(dev)
	if !ok {
		return rtnUnicast
	}
	t := uint8(rtnUnicast)
	for _, pfx := range i.Addrs {
		pa := pfx.Addr()
		switch {
		case !pa.Is4():
		case pa == a:
			return rtnLocal
		case pfx.Bits() < 31 && lastAddr(pfx) == a:
			// The /32 broadcast route wins over lo's /8 local route.
			t = rtnBroadcast
		case t == rtnUnicast && pa.IsLoopback() && pfx.Contains(a):
			t = rtnLocal
		}
	}
	return t
}

// hostHasAddr reports whether a is one of the host's addresses, without
// Host.IsLocal's blanket answer for loopback addresses (127.255.255.255
// is lo's broadcast, not local).
func hostHasAddr(h *Host, a netip.Addr) bool {
	if h == nil {
		return false
	}
	s := h.cur.Load()
	return s != nil && s.local[a]
}
