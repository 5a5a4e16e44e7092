package target

import (
	"strings"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
)

// masqueradeInfo is the MASQUERADE target (libipt_MASQUERADE.c,
// xt_MASQUERADE.c / nf_nat_masquerade.c): source NAT to the address of the
// outgoing interface, optionally into a port range. The kernel allows it
// in the nat table's POSTROUTING only.
var masqueradeInfo = &Info{
	Name: "MASQUERADE",
	Opts: []match.Opt{
		{Name: "to-ports", Arg: true},
		{Name: "random"},
		{Name: "random-fully"},
	},
	New:   func() Target { return &Masquerade{} },
	Table: "nat",
	Hooks: packet.Postrouting.Mask(),
}

// Masquerade is one MASQUERADE target. Range never has NATMapIPs: the
// address comes from the interface when the connection starts.
type Masquerade struct {
	Range NATRange

	spec natSpec
	nat  natEnv
}

// Bind implements match.Binder.
func (t *Masquerade) Bind(env *match.Env) error { return t.nat.bind(env, "MASQUERADE") }

// Do implements Doer, as nf_nat_masquerade_ipv4: the source becomes the
// address the outgoing interface would give a packet to this destination,
// and the entry remembers the interface so it dies with it.
func (t *Masquerade) Do(p *packet.Packet) Verdict {
	c := p.Conn
	if c == nil {
		return Drop
	}
	orig := c.Tuple(conntrack.Original)
	if a := orig.SrcAddr(); a.IsUnspecified() {
		// A local packet from 0.0.0.0 (DHCP) is not meant to be
		// masqueraded.
		return Accept
	}
	src, ok := t.nat.host.SourceAddr(p.OutIface, p.Dst)
	if !ok {
		if t.nat.log != nil {
			t.nat.log(p.OutIface + " ate my IP address")
		}
		return Drop
	}
	r := t.Range.ct()
	r.Flags |= conntrack.NATMapIPs
	r.MinAddr, r.MaxAddr = src, src
	c.SetMasqIface(p.OutIface)
	return t.nat.setup(p, &r, conntrack.ManipSrc)
}

// Parse implements Target.
func (t *Masquerade) Parse(a *match.Arg) error {
	if a.Name == "to-ports" {
		return t.spec.parse(a.Value, true)
	}
	t.spec.flags |= natFlagOption(a.Name)
	return nil
}

// Final implements Target.
func (t *Masquerade) Final(r *match.Rule) error {
	if err := t.spec.final(&t.Range, r.Proto, true); err != nil {
		return err
	}
	compatBase(&t.Range)
	return nil
}

// Save implements Target.
func (t *Masquerade) Save(b *strings.Builder) {
	t.Range.write(b, "--to-ports ", "--", true)
}

// Print implements Target.
func (t *Masquerade) Print(b *strings.Builder, numeric bool) {
	t.Range.write(b, "masq ports: ", "", true)
}
