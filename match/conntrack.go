package match

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/packet"
)

// conntrackInfo is the conntrack match, revision 3 (libxt_conntrack.c,
// xt_conntrack.c), the newest one, which iptables 1.8.9 picks on current
// kernels: state, protocol, addresses and port ranges of both directions,
// status bits, remaining lifetime and direction of the packet's connection.
var conntrackInfo = &Info{
	Name: "conntrack",
	Opts: []Opt{
		{Name: "ctstate", Arg: true, Inv: true},
		{Name: "ctproto", Arg: true, Inv: true},
		{Name: "ctorigsrc", Arg: true, Inv: true},
		{Name: "ctorigdst", Arg: true, Inv: true},
		{Name: "ctreplsrc", Arg: true, Inv: true},
		{Name: "ctrepldst", Arg: true, Inv: true},
		{Name: "ctstatus", Arg: true, Inv: true},
		{Name: "ctexpire", Arg: true, Inv: true},
		{Name: "ctorigsrcport", Arg: true, Inv: true},
		{Name: "ctorigdstport", Arg: true, Inv: true},
		{Name: "ctreplsrcport", Arg: true, Inv: true},
		{Name: "ctrepldstport", Arg: true, Inv: true},
		{Name: "ctdir", Arg: true},
	},
	New: func() Match { return &Conntrack{} },
}

// StateMask is a set of connection states as --state and --ctstate name
// them, with the kernel's bit values (XT_CONNTRACK_STATE_* in
// uapi/linux/netfilter/xt_conntrack.h), so that the per-packet test is one
// AND with conntrack.CtStateBits: a packet's bit is StateInvalid without a
// conntrack entry, StateUntracked for a NOTRACK one, else
// 1 << (ctinfo % IP_CT_IS_REPLY + 1) (replies share the bit of their
// original-direction state), plus StateSNAT / StateDNAT when the entry was
// NATed. -m state uses the same numbering: iptables since 1.4.17 loads it
// as an alias of conntrack, so its UNTRACKED is XT_CONNTRACK_STATE_UNTRACKED
// too, not xt_state.h's 1 << 6.
type StateMask uint16

// Connection state bits.
const (
	StateInvalid     StateMask = 1 << 0 // XT_CONNTRACK_STATE_INVALID
	StateEstablished StateMask = 1 << 1 // bit of IP_CT_ESTABLISHED (0)
	StateRelated     StateMask = 1 << 2 // bit of IP_CT_RELATED (1)
	StateNew         StateMask = 1 << 3 // bit of IP_CT_NEW (2)
	StateSNAT        StateMask = 1 << 6 // XT_CONNTRACK_STATE_SNAT, 1 << (IP_CT_NUMBER + 1): --ctstate only
	StateDNAT        StateMask = 1 << 7 // XT_CONNTRACK_STATE_DNAT, 1 << (IP_CT_NUMBER + 2): --ctstate only
	StateUntracked   StateMask = 1 << 8 // XT_CONNTRACK_STATE_UNTRACKED, 1 << (IP_CT_NUMBER + 3)
)

// stateNames is the order libxt_conntrack both parses (the first name the
// word is a case-insensitive prefix of wins) and prints (print_state) in;
// the two orders differ, so each row says where it prints.
var stateNames = []struct {
	name  string
	bit   StateMask
	print int // position in the printed list
}{
	{"INVALID", StateInvalid, 0},
	{"NEW", StateNew, 1},
	{"ESTABLISHED", StateEstablished, 3},
	{"RELATED", StateRelated, 2},
	{"UNTRACKED", StateUntracked, 4},
	{"SNAT", StateSNAT, 5}, // conntrack only
	{"DNAT", StateDNAT, 6}, // conntrack only
}

// statePrintOrder lists the bits in print order:
// INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED,SNAT,DNAT.
var statePrintOrder = func() [7]int {
	var o [7]int
	for i, s := range stateNames {
		o[s.print] = i
	}
	return o
}()

// writeStates appends the names of the bits in m, comma-separated, in print
// order.
func writeStates(b *strings.Builder, m StateMask) {
	first := true
	for _, i := range statePrintOrder {
		if m&stateNames[i].bit == 0 {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		b.WriteString(stateNames[i].name)
		first = false
	}
}

// parseStateWord returns the bit of the first of the first n names that
// word is a non-empty case-insensitive prefix of (strncasecmp(word, NAME,
// len(word)) as libxt_conntrack's parse_state does).
func parseStateWord(word string, n int) (StateMask, bool) {
	for _, s := range stateNames[:n] {
		if word != "" && len(word) <= len(s.name) && strings.EqualFold(s.name[:len(word)], word) {
			return s.bit, true
		}
	}
	return 0, false
}

// Connection status bits --ctstatus names, with the kernel's values (enum
// ip_conntrack_status, the same numbering as conntrack.Status).
const (
	CTStatusExpected  uint32 = 1 << 0 // IPS_EXPECTED
	CTStatusSeenReply uint32 = 1 << 1 // IPS_SEEN_REPLY
	CTStatusAssured   uint32 = 1 << 2 // IPS_ASSURED
	CTStatusConfirmed uint32 = 1 << 3 // IPS_CONFIRMED
)

// statusNames is libxt_conntrack's status table in parse order (a prefix
// of the name selects it); NONE adds no bit. Printing uses the bit order,
// which is the same minus NONE.
var statusNames = []struct {
	name string
	bit  uint32
}{
	{"NONE", 0},
	{"EXPECTED", CTStatusExpected},
	{"SEEN_REPLY", CTStatusSeenReply},
	{"ASSURED", CTStatusAssured},
	{"CONFIRMED", CTStatusConfirmed},
}

// The options a Conntrack carries, with the kernel's XT_CONNTRACK_* flag
// values (match_flags and invert_flags of xt_conntrack_mtinfo3).
const (
	ctFlagState       uint16 = 1 << 0
	ctFlagProto       uint16 = 1 << 1
	ctFlagOrigSrc     uint16 = 1 << 2
	ctFlagOrigDst     uint16 = 1 << 3
	ctFlagReplSrc     uint16 = 1 << 4
	ctFlagReplDst     uint16 = 1 << 5
	ctFlagStatus      uint16 = 1 << 6
	ctFlagExpires     uint16 = 1 << 7
	ctFlagOrigSrcPort uint16 = 1 << 8
	ctFlagOrigDstPort uint16 = 1 << 9
	ctFlagReplSrcPort uint16 = 1 << 10
	ctFlagReplDstPort uint16 = 1 << 11
	ctFlagDirection   uint16 = 1 << 12 // inverted means REPLY
)

// CTAddr is an address test of the conntrack match. Addr keeps the host
// bits the user gave (iptables saves them back); the kernel compares
// (tuple ^ Addr) & Mask.
type CTAddr struct{ Addr, Mask netip.Addr }

// Conntrack is one conntrack match. Flags says which tests are on and Inv
// which of them are negated (ctFlag* bits); with ctFlagDirection, Inv set
// means "--ctdir REPLY". The fields are those of xt_conntrack_mtinfo3.
type Conntrack struct {
	Flags, Inv uint16

	States StateMask
	Status uint32
	Proto  uint8

	OrigSrc, OrigDst, ReplSrc, ReplDst CTAddr

	OrigSrcPort, OrigDstPort, ReplSrcPort, ReplDstPort PortRange

	ExpireMin, ExpireMax uint32
}

// addrField and portField map an option to its flag and field.
func (c *Conntrack) addrField(name string) (uint16, *CTAddr) {
	switch name {
	case "ctorigsrc":
		return ctFlagOrigSrc, &c.OrigSrc
	case "ctorigdst":
		return ctFlagOrigDst, &c.OrigDst
	case "ctreplsrc":
		return ctFlagReplSrc, &c.ReplSrc
	case "ctrepldst":
		return ctFlagReplDst, &c.ReplDst
	}
	return 0, nil
}

func (c *Conntrack) portField(name string) (uint16, *PortRange) {
	switch name {
	case "ctorigsrcport":
		return ctFlagOrigSrcPort, &c.OrigSrcPort
	case "ctorigdstport":
		return ctFlagOrigDstPort, &c.OrigDstPort
	case "ctreplsrcport":
		return ctFlagReplSrcPort, &c.ReplSrcPort
	case "ctrepldstport":
		return ctFlagReplDstPort, &c.ReplDstPort
	}
	return 0, nil
}

// Parse implements Match, as conntrack_mt_parse (revision 3).
func (c *Conntrack) Parse(a *Arg) error {
	var flag uint16
	switch a.Name {
	case "ctstate":
		flag = ctFlagState
		m, err := parseStateList(a.Value, "ctstate", len(stateNames), true)
		if err != nil {
			return err
		}
		c.States = m
	case "ctproto":
		flag = ctFlagProto
		p, err := ParseProto(a.Value)
		if err != nil {
			return err
		}
		// Protocol 0 is never a connection's protocol (upstream
		// 2e704f6d, v1.8.10; 1.8.9 accepted it).
		if p == 0 {
			if a.Inv {
				return grammar.Paramf("conntrack: condition would always match protocol")
			}
			return grammar.Paramf("conntrack: rule would never match protocol")
		}
		c.Proto = p
	case "ctorigsrc", "ctorigdst", "ctreplsrc", "ctrepldst":
		var f *CTAddr
		flag, f = c.addrField(a.Name)
		addr, mask, err := xoParseHostMask("conntrack", a.Name, a.Value)
		if err != nil {
			return err
		}
		*f = CTAddr{addr, mask}
	case "ctorigsrcport", "ctorigdstport", "ctreplsrcport", "ctrepldstport":
		var f *PortRange
		flag, f = c.portField(a.Name)
		lo, hi, err := xoParsePortRC("conntrack", a.Name, a.Value)
		if err != nil {
			return err
		}
		*f = PortRange{lo, hi}
	case "ctstatus":
		flag = ctFlagStatus
		m, err := parseStatusList(a.Value)
		if err != nil {
			return err
		}
		c.Status = m
	case "ctexpire":
		flag = ctFlagExpires
		lo, hi, err := xoParseMint("conntrack", "ctexpire", a.Value, 0xffffffff)
		if err != nil {
			return err
		}
		c.ExpireMin, c.ExpireMax = uint32(lo), uint32(hi)
	case "ctdir":
		flag = ctFlagDirection
		switch {
		case strings.EqualFold(a.Value, "ORIGINAL"):
			c.Inv &^= ctFlagDirection
		case strings.EqualFold(a.Value, "REPLY"):
			c.Inv |= ctFlagDirection
		default:
			return XtBadValue("conntrack", "ctdir", a.Value)
		}
		c.Flags |= flag
		return nil
	}
	c.Flags |= flag
	if a.Inv {
		c.Inv |= flag
	}
	return nil
}

// parseStateList parses a comma-separated list of the first n names of
// stateNames, with libxt_conntrack's messages: a bad word is reported with
// the rest of the list from it on. opt names the option in the state
// match's own complaint about an empty last word ("NEW,"); ct selects the
// conntrack wording instead (Bad ctstate "").
func parseStateList(list, opt string, n int, ct bool) (StateMask, error) {
	bad := "Bad state \"%s\""
	if ct {
		bad = "Bad ctstate \"%s\""
	}
	var m StateMask
	rest := list
	for {
		word, after, more := strings.Cut(rest, ",")
		if !more {
			if rest == "" && !ct {
				return 0, grammar.Paramf("\"--%s\" requires a list of states with no spaces, e.g. ESTABLISHED,RELATED", opt)
			}
			bit, ok := parseStateWord(rest, n)
			if !ok {
				return 0, grammar.Paramf(bad, rest)
			}
			return m | bit, nil
		}
		// A word before a comma is reported with the rest of the list,
		// as iptables passes its pointer into the whole argument.
		bit, ok := parseStateWord(word, n)
		if !ok {
			return 0, grammar.Paramf(bad, rest)
		}
		m |= bit
		rest = after
	}
}

// parseStatusList parses --ctstatus as conntrack_ps_statuses does: a word
// must be a non-empty prefix of a name in statusNames, and a bad word is
// reported with the rest of the list after it.
func parseStatusList(list string) (uint32, error) {
	var m uint32
	rest := list
	for {
		word, after, more := strings.Cut(rest, ",")
		found := false
		for _, s := range statusNames {
			if word != "" && len(word) <= len(s.name) && strings.EqualFold(s.name[:len(word)], word) {
				m |= s.bit
				found = true
				break
			}
		}
		if !found {
			return 0, grammar.Paramf("Bad ctstatus \"%s\"", rest)
		}
		if !more {
			return m, nil
		}
		rest = after
	}
}

// Final implements Match: at least one option is needed
// (conntrack_mt_check).
func (c *Conntrack) Final(*Rule) error {
	if c.Flags == 0 {
		return grammar.Paramf("conntrack: At least one option is required")
	}
	return nil
}

// dump writes the options as conntrack_dump does: prefix "--" for save,
// "" for -L.
func (c *Conntrack) dump(b *strings.Builder, pfx string, numeric bool) {
	inv := func(f uint16) {
		if c.Inv&f != 0 {
			b.WriteString(" !")
		}
	}
	if c.Flags&ctFlagState != 0 {
		inv(ctFlagState)
		fmt.Fprintf(b, " %sctstate ", pfx)
		writeStates(b, c.States)
	}
	if c.Flags&ctFlagProto != 0 {
		inv(ctFlagProto)
		fmt.Fprintf(b, " %sctproto %d", pfx, c.Proto)
	}
	for _, o := range []struct {
		name string
		flag uint16
		a    *CTAddr
	}{
		{"ctorigsrc", ctFlagOrigSrc, &c.OrigSrc}, {"ctorigdst", ctFlagOrigDst, &c.OrigDst},
		{"ctreplsrc", ctFlagReplSrc, &c.ReplSrc}, {"ctrepldst", ctFlagReplDst, &c.ReplDst},
	} {
		if c.Flags&o.flag == 0 {
			continue
		}
		inv(o.flag)
		fmt.Fprintf(b, " %s%s", pfx, o.name)
		// conntrack_dump_addr: "anywhere" for address 0 whatever the mask.
		if !numeric && o.a.Addr.IsUnspecified() {
			b.WriteString(" anywhere")
			continue
		}
		b.WriteByte(' ')
		if numeric {
			b.WriteString(o.a.Addr.String())
		} else {
			b.WriteString(HostName(o.a.Addr))
		}
		xoMaskSuffix(b, o.a.Mask)
	}
	for _, o := range []struct {
		name string
		flag uint16
		p    PortRange
	}{
		{"ctorigsrcport", ctFlagOrigSrcPort, c.OrigSrcPort}, {"ctorigdstport", ctFlagOrigDstPort, c.OrigDstPort},
		{"ctreplsrcport", ctFlagReplSrcPort, c.ReplSrcPort}, {"ctrepldstport", ctFlagReplDstPort, c.ReplDstPort},
	} {
		if c.Flags&o.flag == 0 {
			continue
		}
		inv(o.flag)
		// conntrack_dump_ports prints one port when hi is 0 or equal.
		if o.p.Hi == 0 || o.p.Lo == o.p.Hi {
			fmt.Fprintf(b, " %s%s %d", pfx, o.name, o.p.Lo)
		} else {
			fmt.Fprintf(b, " %s%s %d:%d", pfx, o.name, o.p.Lo, o.p.Hi)
		}
	}
	if c.Flags&ctFlagStatus != 0 {
		inv(ctFlagStatus)
		fmt.Fprintf(b, " %sctstatus ", pfx)
		if c.Status == 0 {
			b.WriteString("NONE")
		}
		first := true
		for _, s := range statusNames[1:] {
			if c.Status&s.bit != 0 {
				if !first {
					b.WriteByte(',')
				}
				b.WriteString(s.name)
				first = false
			}
		}
	}
	if c.Flags&ctFlagExpires != 0 {
		inv(ctFlagExpires)
		fmt.Fprintf(b, " %sctexpire %d", pfx, c.ExpireMin)
		if c.ExpireMax != c.ExpireMin {
			fmt.Fprintf(b, ":%d", c.ExpireMax)
		}
	}
	if c.Flags&ctFlagDirection != 0 {
		dir := "ORIGINAL"
		if c.Inv&ctFlagDirection != 0 {
			dir = "REPLY"
		}
		fmt.Fprintf(b, " %sctdir %s", pfx, dir)
	}
}

// Save implements Match.
func (c *Conntrack) Save(b *strings.Builder) { c.dump(b, "--", true) }

// Print implements Match.
func (c *Conntrack) Print(b *strings.Builder, numeric bool) { c.dump(b, "", numeric) }

// Match implements Matcher as xt_conntrack.c conntrack_mt does for
// revision 3. The state test comes first and is the only one a packet
// without an entry (INVALID or UNTRACKED) can pass: for such a packet the
// match is true exactly when --ctstate was given and passed, whatever else
// the rule asks. Then come the direction, the four address tests under
// their masks, protocol, the four port ranges (the tuples' id parts: for
// ICMP the query id and type<<8|code, as the kernel's src.u.all /
// dst.u.all), status bits (any of them) and the remaining lifetime, each
// negated on its own.
//
// Called for every packet; must not allocate.
func (c *Conntrack) Match(p *packet.Packet) bool {
	if c.Flags&ctFlagState != 0 {
		bits := StateMask(conntrack.CtStateBits(p.Conn, p.CtInfo))
		if (bits&c.States != 0) == c.inv(ctFlagState) {
			return false
		}
	}
	ct := p.Conn
	if ct == nil || p.CtInfo == conntrack.Untracked || p.CtInfo == conntrack.Invalid {
		return c.Flags&ctFlagState != 0
	}
	if c.Flags&ctFlagDirection != 0 && (p.CtInfo.Dir() == conntrack.Original) == c.inv(ctFlagDirection) {
		return false
	}
	orig, repl := ct.Tuple(conntrack.Original), ct.Tuple(conntrack.Reply)
	if !c.addrOK(ctFlagOrigSrc, &c.OrigSrc, &orig.Src, orig.Family) ||
		!c.addrOK(ctFlagOrigDst, &c.OrigDst, &orig.Dst, orig.Family) ||
		!c.addrOK(ctFlagReplSrc, &c.ReplSrc, &repl.Src, repl.Family) ||
		!c.addrOK(ctFlagReplDst, &c.ReplDst, &repl.Dst, repl.Family) {
		return false
	}
	if c.Flags&ctFlagProto != 0 && (ct.Proto() == c.Proto) == c.inv(ctFlagProto) {
		return false
	}
	if !c.portOK(ctFlagOrigSrcPort, c.OrigSrcPort, orig.SrcPort) ||
		!c.portOK(ctFlagOrigDstPort, c.OrigDstPort, orig.DstPort) ||
		!c.portOK(ctFlagReplSrcPort, c.ReplSrcPort, repl.SrcPort) ||
		!c.portOK(ctFlagReplDstPort, c.ReplDstPort, repl.DstPort) {
		return false
	}
	if c.Flags&ctFlagStatus != 0 && (uint32(ct.Status())&c.Status != 0) == c.inv(ctFlagStatus) {
		return false
	}
	if c.Flags&ctFlagExpires != 0 {
		// Whole seconds left, rounded down as nf_ct_expires(ct) / HZ. For
		// an entry not yet confirmed (the first packet) the kernel
		// subtracts the clock from a relative timeout, which gives 0 or
		// garbage depending on jiffies; gofw uses the lifetime the entry
		// will get, which is what conntrack -L shows for it.
		secs := uint64(ct.Timeout(p.Now) / time.Second)
		in := secs >= uint64(c.ExpireMin) && secs <= uint64(c.ExpireMax)
		if in == c.inv(ctFlagExpires) {
			return false
		}
	}
	return true
}

func (c *Conntrack) inv(flag uint16) bool { return c.Inv&flag != 0 }

// addrOK is one address test: conntrack_addrcmp, ((tuple ^ addr) & mask)
// == 0 in the rule's family, negated when asked. A tuple of the other
// family never compares equal.
func (c *Conntrack) addrOK(flag uint16, a *CTAddr, tu *[16]byte, fam conntrack.Family) bool {
	if c.Flags&flag == 0 {
		return true
	}
	return a.match(tu, fam) != c.inv(flag)
}

func (a *CTAddr) match(tu *[16]byte, fam conntrack.Family) bool {
	if a.Addr.Is4() {
		if fam != conntrack.IPv4 {
			return false
		}
		x, m := a.Addr.As4(), a.Mask.As4()
		for i := range x {
			if (tu[i]^x[i])&m[i] != 0 {
				return false
			}
		}
		return true
	}
	if fam != conntrack.IPv6 {
		return false
	}
	x, m := a.Addr.As16(), a.Mask.As16()
	for i := range x {
		if (tu[i]^x[i])&m[i] != 0 {
			return false
		}
	}
	return true
}

// portOK is one port test of ct_proto_port_check_v3: port_match on the
// tuple's id part.
func (c *Conntrack) portOK(flag uint16, r PortRange, port uint16) bool {
	return c.Flags&flag == 0 || portIn(r.Lo, r.Hi, port, c.inv(flag))
}

// FlowInvariant reports whether the match gives the same answer for every
// ESTABLISHED packet of one direction of a connection: everything but
// --ctexpire, which counts down (gofwd's fast path,
// ruleset.Ruleset.OffloadBlocker).
func (c *Conntrack) FlowInvariant() bool { return c.Flags&ctFlagExpires == 0 }
