package target

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
)

// dnatInfo is the DNAT target, revision 2 (libxt_DNAT.c, xt_nat.c
// xt_dnat_target_v2): rewrite the destination of a new connection. The
// kernel allows it in the nat table's PREROUTING and OUTPUT only.
//
// This file also holds the NAT range that SNAT, MASQUERADE and REDIRECT
// share, as libxt_DNAT.c holds parse_to and parse_ports in iptables 1.8.9.
var dnatInfo = &Info{
	Name: "DNAT",
	Opts: []match.Opt{
		{Name: "to-destination", Arg: true},
		{Name: "random"},
		{Name: "persistent"},
	},
	New:   func() Target { return &DNAT{} },
	Table: "nat",
	Hooks: packet.Prerouting.Mask() | packet.Output.Mask(),
}

// NATFlags says which parts of a NATRange are set, with the kernel's
// NF_NAT_RANGE_* values (nf_nat.h).
type NATFlags uint32

// The NAT range flags.
const (
	NATMapIPs         NATFlags = 0x01 // MinAddr..MaxAddr given
	NATProtoSpecified NATFlags = 0x02 // MinPort..MaxPort given
	NATRandom         NATFlags = 0x04 // --random: hash-based random port offset
	NATPersistent     NATFlags = 0x08 // --persistent: same address for a client
	NATRandomFully    NATFlags = 0x10 // --random-fully: prandom port choice
	NATProtoOffset    NATFlags = 0x20 // BasePort given: ports shift by an offset
)

// NATRange is a NAT mapping as the kernel's nf_nat_range2 holds it, ready
// for nf_nat_setup_info-style use: an address range, a port range, a base
// port for shifted port maps, and flags.
type NATRange struct {
	Flags            NATFlags
	MinAddr, MaxAddr netip.Addr // valid with NATMapIPs
	MinPort, MaxPort uint16     // valid with NATProtoSpecified
	BasePort         uint16     // valid with NATProtoOffset
}

// natPortOK is __NAT_parse's test for "-p" before a port may be given. It
// looks at the protocol number only: "! -p tcp" passes, as in iptables.
// ICMP passes too (its id is the "port"), although the message omits it.
func natPortOK(proto uint8) bool {
	switch proto {
	case packet.ProtoTCP, packet.ProtoUDP, packet.ProtoSCTP, packet.ProtoDCCP, packet.ProtoICMP:
		return true
	}
	return false
}

// natService resolves a service name as getservbyname(name, NULL) does
// for xtables_service_to_port: the protocols are tried in the order
// /etc/services usually lists them.
func natService(name string) (uint16, bool) {
	for _, p := range []string{"tcp", "udp", "sctp", "dccp"} {
		if v, ok := match.ServicePort(name, p); ok {
			return v, true
		}
	}
	return 0, false
}

// parsePorts reads "PORT[-PORT[/BASE]]" into r as libxt_DNAT.c's
// parse_ports does: a service name only for a single port or the base,
// a C number otherwise, with iptables' messages.
func (r *NATRange) parsePorts(arg string, proto uint8) error {
	if !natPortOK(proto) {
		return grammar.Paramf("Need TCP, UDP, SCTP or DCCP with port specification")
	}
	r.Flags |= NATProtoSpecified
	port, end, ok := match.XtStrtoul(arg, 0, 0xffff)
	if !ok {
		p, ok := natService(arg)
		if !ok {
			return grammar.Paramf("Port `%s' not valid", arg)
		}
		port, end = uint64(p), ""
	}
	switch {
	case end == "":
		r.MinPort, r.MaxPort = uint16(port), uint16(port)
		return nil
	case end[0] == '-':
		arg = end[1:]
	case end[0] == ':':
		return grammar.Paramf("Invalid port:port syntax - use dash")
	default:
		return grammar.Paramf("Garbage after port value: `%s'", end)
	}
	// A range: no service names here.
	max, end, ok := match.XtStrtoul(arg, 0, 0xffff)
	if !ok {
		return grammar.Paramf("Port `%s' not valid", arg)
	}
	if max < port {
		return grammar.Paramf("Port range `%s' funky", arg)
	}
	r.MinPort, r.MaxPort = uint16(port), uint16(max)
	switch {
	case end == "":
		return nil
	case end[0] == '/':
		arg = end[1:]
	default:
		return grammar.Paramf("Garbage after port range: `%s'", end)
	}
	// parse_ports does not look past the base port's digits.
	base, _, ok := match.XtStrtoul(arg, 1, 0xffff)
	if !ok {
		p, ok := natService(arg)
		if !ok {
			return grammar.Paramf("Port `%s' not valid", arg)
		}
		base = uint64(p)
	}
	r.Flags |= NATProtoOffset
	r.BasePort = uint16(base)
	return nil
}

// parseTo reads "[ADDR[-ADDR]][:PORTSPEC]" into r as libxt_DNAT.c's
// parse_to does for IPv4, quirks included: a second ':' makes the whole
// string an (invalid) address, and an address part of exactly two
// characters before the colon is skipped.
func (r *NATRange) parseTo(arg string, proto uint8) error {
	if strings.IndexByte(arg, '[') >= 0 {
		return grammar.Paramf("Invalid address format")
	}
	addr := arg
	if c := strings.IndexByte(arg, ':'); c >= 0 && strings.IndexByte(arg[c+1:], ':') < 0 {
		if err := r.parsePorts(arg[c+1:], proto); err != nil {
			return err
		}
		if c == 0 || c == 2 {
			return nil
		}
		addr = arg[:c]
	}
	r.Flags |= NATMapIPs
	lo, hi, dash := strings.Cut(addr, "-")
	min, ok := match.ParseAddr(lo)
	if !ok {
		return grammar.Paramf("Bad IP address \"%s\"", lo)
	}
	max := min
	if dash {
		if max, ok = match.ParseAddr(hi); !ok {
			return grammar.Paramf("Bad IP address \"%s\"", hi)
		}
	}
	r.MinAddr, r.MaxAddr = min, max
	return nil
}

// text appends sprint_range's form: "ADDR[-ADDR][:PORT[-PORT][/BASE]]".
func (r *NATRange) text(b *strings.Builder, skipColon bool) {
	if r.Flags&NATMapIPs != 0 {
		b.WriteString(r.MinAddr.String())
		if r.MaxAddr != r.MinAddr {
			b.WriteByte('-')
			b.WriteString(r.MaxAddr.String())
		}
	}
	if r.Flags&NATProtoSpecified != 0 {
		if r.Flags&NATMapIPs != 0 || !skipColon {
			b.WriteByte(':')
		}
		b.WriteString(strconv.Itoa(int(r.MinPort)))
		if r.MaxPort != r.MinPort {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(int(r.MaxPort)))
		}
		if r.Flags&NATProtoOffset != 0 {
			b.WriteByte('/')
			b.WriteString(strconv.Itoa(int(r.BasePort)))
		}
	}
}

// write appends __NAT_print's output: the range after rangeOpt when there
// is one, then the flags, each after pfx ("--" for save, "" for -L).
func (r *NATRange) write(b *strings.Builder, rangeOpt, pfx string, skipColon bool) {
	if r.Flags&(NATMapIPs|NATProtoSpecified) != 0 {
		b.WriteByte(' ')
		b.WriteString(rangeOpt)
		r.text(b, skipColon)
	}
	for _, f := range []struct {
		f    NATFlags
		name string
	}{{NATRandom, "random"}, {NATRandomFully, "random-fully"}, {NATPersistent, "persistent"}} {
		if r.Flags&f.f != 0 {
			b.WriteString(" " + pfx + f.name)
		}
	}
}

// natFlagOption returns the flag a NAT target's flag option sets.
func natFlagOption(name string) NATFlags {
	switch name {
	case "random":
		return NATRandom
	case "random-fully":
		return NATRandomFully
	case "persistent":
		return NATPersistent
	}
	return 0
}

// natSpec is what a NAT target keeps between Parse and Final. Only Final
// knows "-p", and parse_to checks it before anything else in a port part,
// so a range with ports is parsed in Final. Errors that do not depend on
// "-p" (a '[', a bad address without ports) are still reported by Parse,
// before a repeated option is, as iptables reports them.
type natSpec struct {
	arg   string
	given bool
	flags NATFlags
}

// parse records arg and checks what it can without the protocol.
func (s *natSpec) parse(arg string, portsOnly bool) error {
	s.arg, s.given = arg, true
	if portsOnly {
		return nil
	}
	if c := strings.IndexByte(arg, ':'); c >= 0 && strings.IndexByte(arg[c+1:], ':') < 0 && strings.IndexByte(arg, '[') < 0 {
		return nil
	}
	var r NATRange
	return r.parseTo(arg, 0)
}

// final parses the kept argument into a fresh range carrying the flags.
func (s *natSpec) final(r *NATRange, proto uint8, portsOnly bool) error {
	*r = NATRange{Flags: s.flags}
	if !s.given {
		return nil
	}
	if portsOnly {
		return r.parsePorts(s.arg, proto)
	}
	return r.parseTo(s.arg, proto)
}

// DNAT is one DNAT target.
type DNAT struct {
	Range NATRange

	spec natSpec
	nat  natEnv
}

// ct returns r in the form conntrack's SetupNAT takes.
func (r *NATRange) ct() conntrack.NATRange {
	return conntrack.NATRange{
		Flags:   conntrack.NATFlags(r.Flags),
		MinAddr: r.MinAddr, MaxAddr: r.MaxAddr,
		MinPort: r.MinPort, MaxPort: r.MaxPort,
		BasePort: r.BasePort,
	}
}

// natEnv is what the NAT targets borrow from the engine: the connection
// table that records bindings, the host's interfaces (MASQUERADE,
// REDIRECT) and the log.
type natEnv struct {
	ct   *conntrack.Table
	host *match.Host
	log  func(string)
}

func (n *natEnv) bind(env *match.Env, name string) error {
	if env.CT == nil {
		return fmt.Errorf("%s needs connection tracking, which this engine runs without", name)
	}
	n.ct, n.host, n.log = env.CT, env.Host, env.Log
	return nil
}

// setup records the binding on the packet's new entry and returns the
// verdict nf_nat_setup_info gives: ACCEPT, which ends the nat chain; the
// engine then rewrites the packet from the entry. The nat table is only
// walked for packets with an entry, so p.Conn is set.
func (n *natEnv) setup(p *packet.Packet, r *conntrack.NATRange, m conntrack.Manip) Verdict {
	if p.Conn == nil || n.ct.SetupNAT(p.Conn, r, m, p.Now) != nil {
		return Drop
	}
	return Accept
}

// Bind implements match.Binder.
func (t *DNAT) Bind(env *match.Env) error { return t.nat.bind(env, "DNAT") }

// Do implements Doer: xt_dnat_target_v2.
func (t *DNAT) Do(p *packet.Packet) Verdict {
	r := t.Range.ct()
	return t.nat.setup(p, &r, conntrack.ManipDst)
}

// Parse implements Target.
func (t *DNAT) Parse(a *match.Arg) error {
	if a.Name == "to-destination" {
		return t.spec.parse(a.Value, false)
	}
	t.spec.flags |= natFlagOption(a.Name)
	return nil
}

// Final implements Target.
func (t *DNAT) Final(r *match.Rule) error {
	if err := t.spec.final(&t.Range, r.Proto, false); err != nil {
		return err
	}
	if !t.spec.given {
		return grammar.ParamNLf("DNAT: option \"--to-destination\" must be specified")
	}
	return nil
}

// Save implements Target.
func (t *DNAT) Save(b *strings.Builder) {
	t.Range.write(b, "--to-destination ", "--", false)
}

// Print implements Target.
func (t *DNAT) Print(b *strings.Builder, numeric bool) {
	t.Range.write(b, "to:", "", false)
}
