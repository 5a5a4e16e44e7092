package target

import (
	"net/netip"
	"strings"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
)

// redirectInfo is the REDIRECT target (libxt_DNAT.c's REDIRECT half,
// xt_REDIRECT.c / nf_nat_redirect.c): destination NAT to the primary
// address of the incoming interface (127.0.0.1 from OUTPUT), optionally to
// a port range. The kernel allows it in the nat table's PREROUTING and
// OUTPUT only.
var redirectInfo = &Info{
	Name: "REDIRECT",
	Opts: []match.Opt{
		{Name: "to-ports", Arg: true},
		{Name: "random"},
	},
	New:   func() Target { return &Redirect{} },
	Table: "nat",
	Hooks: packet.Prerouting.Mask() | packet.Output.Mask(),
}

// Redirect is one REDIRECT target. Range never has NATMapIPs.
type Redirect struct {
	Range NATRange

	spec natSpec
	nat  natEnv
}

// loopback4 is where REDIRECT sends locally generated packets.
var loopback4 = netip.AddrFrom4([4]byte{127, 0, 0, 1})

// Bind implements match.Binder.
func (t *Redirect) Bind(env *match.Env) error { return t.nat.bind(env, "REDIRECT") }

// Do implements Doer, as nf_nat_redirect_ipv4: a DNAT to this host, the
// primary address of the incoming interface (127.0.0.1 from OUTPUT); an
// interface without an address drops the packet.
func (t *Redirect) Do(p *packet.Packet) Verdict {
	dst := loopback4
	if p.Hook != packet.Output {
		a, ok := t.nat.host.PrimaryAddr(p.InIface, 4)
		if !ok {
			return Drop
		}
		dst = a
	}
	r := t.Range.ct()
	r.Flags |= conntrack.NATMapIPs
	r.MinAddr, r.MaxAddr = dst, dst
	return t.nat.setup(p, &r, conntrack.ManipDst)
}

// Parse implements Target.
func (t *Redirect) Parse(a *match.Arg) error {
	if a.Name == "to-ports" {
		return t.spec.parse(a.Value, true)
	}
	t.spec.flags |= natFlagOption(a.Name)
	return nil
}

// Final implements Target. REDIRECT is loaded as revision 0, whose layout
// cannot carry a base port, so DNAT_fcheck refuses "/BASE".
func (t *Redirect) Final(r *match.Rule) error {
	if err := t.spec.final(&t.Range, r.Proto, true); err != nil {
		return err
	}
	if t.Range.Flags&NATProtoOffset != 0 {
		return grammar.Paramf("Shifted portmap ranges not supported with this kernel")
	}
	return nil
}

// Save implements Target.
func (t *Redirect) Save(b *strings.Builder) {
	t.Range.write(b, "--to-ports ", "--", true)
}

// Print implements Target.
func (t *Redirect) Print(b *strings.Builder, numeric bool) {
	t.Range.write(b, "redir ports ", "", true)
}
