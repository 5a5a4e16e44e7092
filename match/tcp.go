package match

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/packet"
)

// tcpInfo is the tcp match (libxt_tcp.c, xt_tcpudp.c): ports, flags and one
// TCP option. "-p tcp --dport 22" loads it implicitly.
var tcpInfo = &Info{
	Name: "tcp",
	Opts: []Opt{
		{Name: "source-port", Arg: true, Inv: true, Canon: "sport"},
		{Name: "sport", Arg: true, Inv: true},
		{Name: "destination-port", Arg: true, Inv: true, Canon: "dport"},
		{Name: "dport", Arg: true, Inv: true},
		{Name: "syn", Inv: true},
		{Name: "tcp-flags", Arg: true, Inv: true, Extra: 1},
		{Name: "tcp-option", Arg: true, Inv: true},
	},
	New:   func() Match { return &TCP{SportHi: 65535, DportHi: 65535} },
	Proto: packet.ProtoTCP,
}

// TCP is one tcp match.
type TCP struct {
	SportLo, SportHi                        uint16
	DportLo, DportHi                        uint16
	FlagMask, FlagCmp                       uint8
	Option                                  uint8
	InvSport, InvDport, InvFlags, InvOption bool

	flagsSet bool
}

// tcpFlagNames is libxt_tcp's table, in the order print_tcpf searches it.
var tcpFlagNames = []struct {
	name string
	bit  uint8
}{
	{"FIN", packet.TCPFin}, {"SYN", packet.TCPSyn}, {"RST", packet.TCPRst},
	{"PSH", packet.TCPPsh}, {"ACK", packet.TCPAck}, {"URG", packet.TCPUrg},
	{"ALL", 0x3f}, {"NONE", 0},
}

func parseTCPFlags(s string) (uint8, error) {
	var v uint8
	for _, f := range strings.Split(s, ",") {
		if f == "" {
			continue // parse_tcp_flag splits with strtok, which skips empty words
		}
		found := false
		for _, n := range tcpFlagNames {
			if strings.EqualFold(f, n.name) {
				v |= n.bit
				found = true
				break
			}
		}
		if !found {
			return 0, grammar.Paramf("Unknown TCP flag `%s'", f)
		}
	}
	return v, nil
}

func printTCPFlags(b *strings.Builder, flags uint8) {
	if flags == 0 {
		b.WriteString("NONE")
		return
	}
	first := true
	for flags != 0 {
		for _, n := range tcpFlagNames {
			if n.bit != 0 && flags&n.bit != 0 {
				if !first {
					b.WriteByte(',')
				}
				b.WriteString(n.name)
				first = false
				flags &^= n.bit
				break
			}
		}
	}
}

// Parse implements Match.
func (t *TCP) Parse(a *Arg) error {
	switch a.Name {
	case "sport":
		lo, hi, err := ParsePortRange(a.Value, "tcp")
		if err != nil {
			return err
		}
		t.SportLo, t.SportHi, t.InvSport = lo, hi, a.Inv
	case "dport":
		lo, hi, err := ParsePortRange(a.Value, "tcp")
		if err != nil {
			return err
		}
		t.DportLo, t.DportHi, t.InvDport = lo, hi, a.Inv
	case "syn", "tcp-flags":
		if t.flagsSet {
			return grammar.Paramf("Only one of `--syn' or `--tcp-flags' allowed")
		}
		t.flagsSet = true
		if a.Name == "syn" {
			t.FlagMask = packet.TCPSyn | packet.TCPRst | packet.TCPAck | packet.TCPFin
			t.FlagCmp = packet.TCPSyn
		} else {
			if len(a.Extra) != 1 {
				return grammar.Paramf("--tcp-flags requires two args.")
			}
			var err error
			if t.FlagMask, err = parseTCPFlags(a.Value); err != nil {
				return err
			}
			if t.FlagCmp, err = parseTCPFlags(a.Extra[0]); err != nil {
				return err
			}
		}
		t.InvFlags = a.Inv
	case "tcp-option":
		v, ok := ParseUint(a.Value, 1, 255)
		if !ok {
			return grammar.Paramf("Bad TCP option \"%s\"", a.Value)
		}
		t.Option, t.InvOption = uint8(v), a.Inv
	}
	return nil
}

// Final implements Match.
func (t *TCP) Final(*Rule) error { return nil }

func savePorts(b *strings.Builder, opt string, lo, hi uint16, inv bool) {
	// A full range is left out unless negated: "! --sport :" must survive a
	// save/restore round trip (upstream a86eb41e).
	if lo == 0 && hi == 65535 && !inv {
		return
	}
	if inv {
		b.WriteString(" !")
	}
	if lo == hi {
		fmt.Fprintf(b, " --%s %d", opt, lo)
	} else {
		fmt.Fprintf(b, " --%s %d:%d", opt, lo, hi)
	}
}

// Save implements Match.
func (t *TCP) Save(b *strings.Builder) {
	savePorts(b, "sport", t.SportLo, t.SportHi, t.InvSport)
	savePorts(b, "dport", t.DportLo, t.DportHi, t.InvDport)
	if t.Option != 0 || t.InvOption {
		if t.InvOption {
			b.WriteString(" !")
		}
		fmt.Fprintf(b, " --tcp-option %d", t.Option)
	}
	if t.FlagMask != 0 || t.InvFlags {
		if t.InvFlags {
			b.WriteString(" !")
		}
		b.WriteString(" --tcp-flags ")
		printTCPFlags(b, t.FlagMask)
		b.WriteByte(' ')
		printTCPFlags(b, t.FlagCmp)
	}
}

// printPorts appends " spt:22" / " dpts:!1:2", as libxt_tcp's print_ports.
func printPorts(b *strings.Builder, name, proto string, lo, hi uint16, inv, numeric bool) {
	if lo == 0 && hi == 65535 && !inv {
		return
	}
	b.WriteByte(' ')
	b.WriteString(name)
	if lo != hi {
		b.WriteByte('s')
	}
	b.WriteByte(':')
	if inv {
		b.WriteByte('!')
	}
	PortText(b, lo, proto, numeric)
	if lo != hi {
		b.WriteByte(':')
		PortText(b, hi, proto, numeric)
	}
}

// Print implements Match.
func (t *TCP) Print(b *strings.Builder, numeric bool) {
	b.WriteString(" tcp")
	printPorts(b, "spt", "tcp", t.SportLo, t.SportHi, t.InvSport, numeric)
	printPorts(b, "dpt", "tcp", t.DportLo, t.DportHi, t.InvDport, numeric)
	if t.Option != 0 || t.InvOption {
		b.WriteString(" option=")
		if t.InvOption {
			b.WriteByte('!')
		}
		fmt.Fprintf(b, "%d", t.Option)
	}
	if t.FlagMask != 0 || t.InvFlags {
		b.WriteString(" flags:")
		if t.InvFlags {
			b.WriteByte('!')
		}
		if numeric {
			fmt.Fprintf(b, "0x%02X/0x%02X", t.FlagMask, t.FlagCmp)
		} else {
			printTCPFlags(b, t.FlagMask)
			b.WriteByte('/')
			printTCPFlags(b, t.FlagCmp)
		}
	}
}

// Match implements Matcher as xt_tcpudp.c tcp_mt does. A non-first
// fragment never matches, and one at offset 8 (fragoff 1, IPv4 only: an
// IPv6 offset is counted in bytes by ipv6_find_hdr and is never 1) is
// dropped outright: it could overwrite the flags of the first fragment
// behind the rules' back. A first fragment or segment too short for the
// 20-byte header is dropped too ("we can't examine it, hence no choice").
// Ports and flags come from the raw header, so a segment conntrack found
// INVALID for its data offset still matches on them; only --tcp-option
// needs a sane data offset.
//
// Called for every packet; must not allocate.
func (t *TCP) Match(p *packet.Packet) bool {
	if p.FragOff != 0 {
		if p.FragOff == 1 && p.Family == 4 {
			p.Hotdrop = true
		}
		return false
	}
	h := l4Hdr(p, 20)
	if h == nil {
		p.Hotdrop = true
		return false
	}
	if !portIn(t.SportLo, t.SportHi, binary.BigEndian.Uint16(h), t.InvSport) ||
		!portIn(t.DportLo, t.DportHi, binary.BigEndian.Uint16(h[2:]), t.InvDport) {
		return false
	}
	if (h[13]&t.FlagMask == t.FlagCmp) == t.InvFlags {
		return false
	}
	if t.Option == 0 {
		return true
	}
	doff := int(h[12]>>4) * 4
	if doff < 20 {
		p.Hotdrop = true
		return false
	}
	return t.findOption(p, doff)
}

// findOption is tcp_find_option: it walks the options looking for the kind
// byte itself, skipping a NOP or EOL as one byte and anything else by its
// length (a zero length as one byte). Unlike the stack's option parser it
// does not stop at EOL, so --tcp-option sees kinds that follow it. Options
// cut short by the end of the datagram drop the packet.
func (t *TCP) findOption(p *packet.Packet, doff int) bool {
	if doff == 20 {
		return t.InvOption
	}
	h := l4Hdr(p, doff)
	if h == nil {
		p.Hotdrop = true
		return false
	}
	op := h[20:]
	for i := 0; i < len(op); {
		if op[i] == t.Option {
			return !t.InvOption
		}
		if op[i] < 2 || i+1 >= len(op) || op[i+1] == 0 {
			// A length byte past the options would come from the
			// payload in the kernel; any step from here ends the walk
			// all the same.
			i++
			continue
		}
		i += int(op[i+1])
	}
	return t.InvOption
}

// FlowInvariant reports whether the match gives the same answer for every
// packet of one direction of a connection: ports only, no flags or option
// test (gofwd's fast path, ruleset.Ruleset.OffloadBlocker).
func (t *TCP) FlowInvariant() bool { return !t.flagsSet && t.Option == 0 && !t.InvOption }
