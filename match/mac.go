package match

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/packet"
)

// macInfo is the mac match (libxt_mac.c, xt_mac.c): the Ethernet source
// address of a received packet. Only hooks that see a received frame may
// use it, as xt_mac's registration says.
var macInfo = &Info{
	Name: "mac",
	Opts: []Opt{
		{Name: "mac-source", Arg: true, Inv: true},
	},
	New:   func() Match { return &MAC{} },
	Hooks: packet.Prerouting.Mask() | packet.Input.Mask() | packet.Forward.Mask(),
}

// MAC is one mac match: the frame's source address equals Addr, negated
// by Inv; a packet without an Ethernet header never matches.
type MAC struct {
	Addr [6]byte
	Inv  bool

	set bool
}

// parseMAC parses six colon-separated groups of one or two hex digits, as
// xtopt_parse_ethermac accepts them ("42:1:2:3:4:5" is fine).
func parseMAC(s string) ([6]byte, bool) {
	var m [6]byte
	parts := strings.Split(s, ":")
	if len(parts) != len(m) {
		return m, false
	}
	for i, p := range parts {
		if len(p) < 1 || len(p) > 2 || strings.Trim(p, "0123456789abcdefABCDEF") != "" {
			return m, false
		}
		v, _ := strconv.ParseUint(p, 16, 8)
		m[i] = byte(v)
	}
	return m, true
}

// Parse implements Match.
func (m *MAC) Parse(a *Arg) error {
	addr, ok := parseMAC(a.Value)
	if !ok {
		return grammar.Paramf("Invalid MAC address specified.")
	}
	m.Addr, m.Inv, m.set = addr, a.Inv, true
	return nil
}

// Final implements Match: --mac-source is mandatory (XTOPT_MAND).
func (m *MAC) Final(*Rule) error {
	if !m.set {
		return xoMissing("mac", "mac-source")
	}
	return nil
}

func (m *MAC) text() string {
	a := m.Addr
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3], a[4], a[5])
}

// Save implements Match.
func (m *MAC) Save(b *strings.Builder) {
	xoSaveInv(b, m.Inv)
	b.WriteString(" --mac-source " + m.text())
}

// Print implements Match ("MAC ! 42:01:02:03:04:05").
func (m *MAC) Print(b *strings.Builder, numeric bool) {
	b.WriteString(" MAC")
	xoSaveInv(b, m.Inv)
	b.WriteString(" " + m.text())
}

// Match implements Matcher as xt_mac.c mac_mt: the Ethernet source address
// of the received frame equals Addr, negated by Inv. A packet without an
// Ethernet header (not received on an Ethernet device, or the datapath did
// not get it) never matches, negated or not.
//
// Called for every packet; must not allocate.
func (m *MAC) Match(p *packet.Packet) bool {
	if !p.HasMAC {
		return false
	}
	return (p.SrcMAC == m.Addr) != m.Inv
}
