package match

import (
	"encoding/binary"
	"strings"

	"github.com/gofw/gofw/packet"
)

// udpInfo is the udp match (libxt_udp.c, xt_tcpudp.c): source and
// destination port ranges. "-p udp --dport 53" loads it implicitly. The
// long names come first and are canonical, as iptables names them in its
// messages ("udp: option \"--destination-port\" can only be used once.").
var udpInfo = &Info{
	Name: "udp",
	Opts: []Opt{
		{Name: "source-port", Arg: true, Inv: true},
		{Name: "sport", Arg: true, Inv: true, Canon: "source-port"},
		{Name: "destination-port", Arg: true, Inv: true},
		{Name: "dport", Arg: true, Inv: true, Canon: "destination-port"},
	},
	New:   func() Match { return &UDP{SportHi: 65535, DportHi: 65535} },
	Proto: packet.ProtoUDP,
}

// UDP is one udp match: the packet's ports must lie in both ranges (each
// negated on its own), as xt_tcpudp's udp_mt checks.
type UDP struct {
	SportLo, SportHi   uint16
	DportLo, DportHi   uint16
	InvSport, InvDport bool
}

// Parse implements Match. Ports are read as XTTYPE_PORTRC reads them
// (decimal or a service name, "LO:HI" with open ends), not with tcp's
// base-0 parser: "--sport 0x10" is refused by iptables' udp too.
func (u *UDP) Parse(a *Arg) error {
	lo, hi, err := xoParsePortRC("udp", a.Name, a.Value)
	if err != nil {
		return err
	}
	switch a.Name {
	case "source-port":
		u.SportLo, u.SportHi, u.InvSport = lo, hi, a.Inv
	case "destination-port":
		u.DportLo, u.DportHi, u.InvDport = lo, hi, a.Inv
	}
	return nil
}

// Final implements Match; udp has no cross-option rules.
func (u *UDP) Final(*Rule) error { return nil }

// Save implements Match.
func (u *UDP) Save(b *strings.Builder) {
	savePorts(b, "sport", u.SportLo, u.SportHi, u.InvSport)
	savePorts(b, "dport", u.DportLo, u.DportHi, u.InvDport)
}

// Print implements Match.
func (u *UDP) Print(b *strings.Builder, numeric bool) {
	b.WriteString(" udp")
	printPorts(b, "spt", "udp", u.SportLo, u.SportHi, u.InvSport, numeric)
	printPorts(b, "dpt", "udp", u.DportLo, u.DportHi, u.InvDport, numeric)
}

// Match implements Matcher as xt_tcpudp.c udp_mt does: a non-first
// fragment never matches, and a datagram too short for the 8-byte header
// is dropped. The ports come from the raw header, so a datagram conntrack
// refused for its length field still matches on them.
//
// Called for every packet; must not allocate.
func (u *UDP) Match(p *packet.Packet) bool {
	if p.FragOff != 0 {
		return false
	}
	h := l4Hdr(p, 8)
	if h == nil {
		p.Hotdrop = true
		return false
	}
	return portIn(u.SportLo, u.SportHi, binary.BigEndian.Uint16(h), u.InvSport) &&
		portIn(u.DportLo, u.DportHi, binary.BigEndian.Uint16(h[2:]), u.InvDport)
}
