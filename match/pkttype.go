package match

import (
	"fmt"
	"strings"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/packet"
)

// pkttypeInfo is the pkttype match (libxt_pkttype.c, xt_pkttype.c): the
// link-layer class of the packet (unicast to this host, broadcast,
// multicast, or to another host).
var pkttypeInfo = &Info{
	Name: "pkttype",
	Opts: []Opt{
		{Name: "pkt-type", Arg: true, Inv: true},
	},
	New: func() Match { return &PktType{} },
}

// pktTypeNames is libxt_pkttype's supported_types: the names parsed
// (case-insensitively) and, first name per value, printed. "outgoing" is
// not among them, as in iptables.
var pktTypeNames = []struct {
	name string
	typ  packet.PktType
}{
	{"unicast", packet.PktHost},
	{"broadcast", packet.PktBroadcast},
	{"multicast", packet.PktMulticast},
	{"otherhost", packet.PktOtherHost},
	{"bcast", packet.PktBroadcast}, // alias
	{"mcast", packet.PktMulticast}, // alias
	{"host", packet.PktHost},       // alias
}

// PktType is one pkttype match: the packet's class equals Type, negated by
// Inv. xt_pkttype derives the class of a locally sent packet from its
// destination address (multicast, broadcast) rather than skb->pkt_type.
type PktType struct {
	Type packet.PktType
	Inv  bool

	set bool
}

// Parse implements Match.
func (p *PktType) Parse(a *Arg) error {
	for _, n := range pktTypeNames {
		if strings.EqualFold(n.name, a.Value) {
			p.Type, p.Inv, p.set = n.typ, a.Inv, true
			return nil
		}
	}
	return grammar.Paramf("Bad packet type '%s'", a.Value)
}

// Final implements Match: --pkt-type is mandatory (XTOPT_MAND).
func (p *PktType) Final(*Rule) error {
	if !p.set {
		return xoMissing("pkttype", "pkt-type")
	}
	return nil
}

func (p *PktType) name() string {
	for _, n := range pktTypeNames {
		if n.typ == p.Type {
			return n.name
		}
	}
	return fmt.Sprint(p.Type)
}

// Save implements Match.
func (p *PktType) Save(b *strings.Builder) {
	xoSaveInv(b, p.Inv)
	b.WriteString(" --pkt-type " + p.name())
}

// Print implements Match ("PKTTYPE != broadcast").
func (p *PktType) Print(b *strings.Builder, numeric bool) {
	if p.Inv {
		b.WriteString(" PKTTYPE != " + p.name())
	} else {
		b.WriteString(" PKTTYPE = " + p.name())
	}
}

// pktLoopback is PACKET_LOOPBACK (<linux/if_packet.h>): the looped-back
// copy of a locally sent broadcast or multicast, which the datapath may
// report as it is.
const pktLoopback packet.PktType = 5

// Match implements Matcher as xt_pkttype.c pkttype_mt: the packet's class,
// where a looped-back packet counts as multicast when its IPv4 destination
// is multicast (always for IPv6) and as broadcast otherwise; negated by
// Inv.
//
// Called for every packet; must not allocate.
func (p *PktType) Match(pk *packet.Packet) bool {
	typ := pk.PktType
	if typ == pktLoopback {
		switch {
		case pk.Family == 6 || (pk.Family == 4 && pk.Dst.IsMulticast()):
			typ = packet.PktMulticast
		default:
			typ = packet.PktBroadcast
		}
	}
	return (typ == p.Type) != p.Inv
}
