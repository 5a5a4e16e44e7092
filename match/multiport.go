package match

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/packet"
)

// multiportInfo is the multiport match, revision 1 (libxt_multiport.c,
// xt_multiport.c): up to 15 ports or port ranges on the source, the
// destination or either side. The three options exclude each other.
var multiportInfo = &Info{
	Name: "multiport",
	Opts: []Opt{
		{Name: "source-ports", Arg: true, Inv: true},
		{Name: "sports", Arg: true, Inv: true, Canon: "source-ports"},
		{Name: "destination-ports", Arg: true, Inv: true},
		{Name: "dports", Arg: true, Inv: true, Canon: "destination-ports"},
		{Name: "ports", Arg: true, Inv: true},
	},
	New: func() Match { return &Multiport{} },
}

// Which ports a multiport match compares, numbered as the kernel's enum
// xt_multiport_flags.
const (
	MultiportSource      = 0 // XT_MULTIPORT_SOURCE: --sports
	MultiportDestination = 1 // XT_MULTIPORT_DESTINATION: --dports
	MultiportEither      = 2 // XT_MULTIPORT_EITHER: --ports
)

// MultiportSlots is XT_MULTI_PORTS: a single port takes one slot of the
// kernel's array, a range two.
const MultiportSlots = 15

// PortRange is an inclusive range of ports; Lo == Hi is a single port (a
// multiport range needs Lo < Hi, so the two never mix up).
type PortRange struct{ Lo, Hi uint16 }

// Multiport is one multiport match: a packet matches when its port (or
// either port for MultiportEither) is in one of Ranges[:N], negated by Inv.
type Multiport struct {
	Flags  uint8 // MultiportSource, MultiportDestination or MultiportEither
	Inv    bool
	N      uint8 // ranges in use
	Ranges [MultiportSlots]PortRange

	lists map[string]string // option -> its list, parsed in Final once -p is known
	order []string          // options in the order given
	proto string            // service name space for -L: "tcp", "udp", ...
}

// multiportOpts are the canonical options in libxt_multiport's table order,
// which is also their id order.
var multiportOpts = []string{"source-ports", "destination-ports", "ports"}

// multiportProtos are the protocols multiport works with, with the name
// libxt_multiport's proto_to_name gives them for service look-ups.
var multiportProtos = map[uint8]string{
	packet.ProtoTCP: "tcp", packet.ProtoUDP: "udp", packet.ProtoUDPLite: "udplite",
	packet.ProtoSCTP: "sctp", packet.ProtoDCCP: "dccp",
}

// Parse implements Match. It checks -p as iptables' parser does
// (check_proto), so "-m multiport --dports 1 -p tcp" is refused as there;
// the list is kept and parsed in Final.
func (m *Multiport) Parse(a *Arg) error {
	if err := multiportProto(a.Proto, a.InvProto); err != nil {
		return err
	}
	if m.lists == nil {
		m.lists = map[string]string{}
	}
	m.lists[a.Name] = a.Value
	m.order = append(m.order, a.Name)
	m.Inv = a.Inv
	switch a.Name {
	case "source-ports":
		m.Flags = MultiportSource
	case "destination-ports":
		m.Flags = MultiportDestination
	case "ports":
		m.Flags = MultiportEither
	}
	return nil
}

// Final implements Match: it checks -p as check_proto does, parses the
// lists as parse_multi_ports_v1 does, then refuses two of the options
// together as xtables_options_fcheck does (they all exclude each other).
func (m *Multiport) Final(r *Rule) error {
	if len(m.order) == 0 {
		return grammar.Paramf("multiport expection an option") // sic, iptables 1.8.9
	}
	if err := multiportProto(r.Proto, r.InvProto); err != nil {
		return err
	}
	m.proto = multiportProtos[r.Proto]
	for _, o := range m.order {
		if err := m.parseList(m.lists[o]); err != nil {
			return err
		}
	}
	given := map[string]bool{}
	for _, o := range m.order {
		given[o] = true
	}
	return xoExclusive("multiport", multiportOpts, multiportOpts, given)
}

// multiportProto is check_proto: multiport needs one of its protocols,
// not negated.
func multiportProto(proto uint8, inv bool) error {
	_, ok := multiportProtos[proto]
	switch {
	case inv || (!ok && proto != 0):
		return grammar.Paramf("multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP")
	case !ok:
		return grammar.Paramf("multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'")
	}
	return nil
}

// parseList fills Ranges from "PORT[:PORT][,...]".
func (m *Multiport) parseList(list string) error {
	slots := 0
	m.N = 0
	for _, p := range strings.Split(list, ",") {
		if slots == MultiportSlots {
			return grammar.Paramf("too many ports specified")
		}
		lo, hiText, isRange := strings.Cut(p, ":")
		if isRange && slots == MultiportSlots-1 {
			return grammar.Paramf("too many ports specified")
		}
		l, err := ParsePort(lo, m.proto)
		if err != nil {
			return err
		}
		h := l
		slots++
		if isRange {
			if h, err = ParsePort(hiText, m.proto); err != nil {
				return err
			}
			if l >= h {
				return grammar.Paramf("invalid portrange specified")
			}
			slots++
		}
		m.Ranges[m.N] = PortRange{l, h}
		m.N++
	}
	return nil
}

var multiportSaveNames = [...]string{"sports", "dports", "ports"}

func (m *Multiport) writePorts(b *strings.Builder, numeric bool) {
	for i, r := range m.Ranges[:m.N] {
		if i > 0 {
			b.WriteByte(',')
		}
		PortText(b, r.Lo, m.proto, numeric)
		if r.Lo != r.Hi {
			b.WriteByte(':')
			PortText(b, r.Hi, m.proto, numeric)
		}
	}
}

// Save implements Match: always the short option names, ports as numbers.
func (m *Multiport) Save(b *strings.Builder) {
	xoSaveInv(b, m.Inv)
	fmt.Fprintf(b, " --%s ", multiportSaveNames[m.Flags])
	m.writePorts(b, true)
}

// Print implements Match. The negation comes after the direction with a
// space of its own ("multiport dports  !22"), as __multiport_print_v1.
func (m *Multiport) Print(b *strings.Builder, numeric bool) {
	fmt.Fprintf(b, " multiport %s ", multiportSaveNames[m.Flags])
	if m.Inv {
		b.WriteString(" !")
	}
	m.writePorts(b, numeric)
}

// Match implements Matcher as xt_multiport.c multiport_mt and
// ports_match_v1 do: the first range holding the port (either port for
// --ports) decides, negated by Inv; with none the answer is Inv. Every
// protocol multiport accepts keeps its ports in the first four bytes of
// its header, which is all it reads. A non-first fragment never matches
// and a header shorter than four bytes is dropped.
//
// Called for every packet; must not allocate.
func (m *Multiport) Match(p *packet.Packet) bool {
	if p.FragOff != 0 {
		return false
	}
	h := l4Hdr(p, 4)
	if h == nil {
		p.Hotdrop = true
		return false
	}
	src, dst := binary.BigEndian.Uint16(h), binary.BigEndian.Uint16(h[2:])
	n := min(int(m.N), MultiportSlots)
	for _, r := range m.Ranges[:n] {
		switch m.Flags {
		case MultiportSource:
			if src >= r.Lo && src <= r.Hi {
				return !m.Inv
			}
		case MultiportDestination:
			if dst >= r.Lo && dst <= r.Hi {
				return !m.Inv
			}
		case MultiportEither:
			if (src >= r.Lo && src <= r.Hi) || (dst >= r.Lo && dst <= r.Hi) {
				return !m.Inv
			}
		}
	}
	return m.Inv
}
