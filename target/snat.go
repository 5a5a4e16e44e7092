package target

import (
	"strings"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
)

// snatInfo is the SNAT target (libipt_SNAT.c, xt_nat.c): rewrite the source
// of a new connection. The kernel allows it in the nat table's POSTROUTING
// and INPUT only. The range syntax is DNAT's (dnat.go).
var snatInfo = &Info{
	Name: "SNAT",
	Opts: []match.Opt{
		{Name: "to-source", Arg: true},
		{Name: "random"},
		{Name: "random-fully"},
		{Name: "persistent"},
	},
	New:   func() Target { return &SNAT{} },
	Table: "nat",
	Hooks: packet.Postrouting.Mask() | packet.Input.Mask(),
}

// SNAT is one SNAT target.
type SNAT struct {
	Range NATRange

	spec natSpec
	nat  natEnv
}

// Bind implements match.Binder.
func (t *SNAT) Bind(env *match.Env) error { return t.nat.bind(env, "SNAT") }

// Do implements Doer: xt_snat_target_v2.
func (t *SNAT) Do(p *packet.Packet) Verdict {
	r := t.Range.ct()
	return t.nat.setup(p, &r, conntrack.ManipSrc)
}

// Parse implements Target.
func (t *SNAT) Parse(a *match.Arg) error {
	if a.Name == "to-source" {
		return t.spec.parse(a.Value, false)
	}
	t.spec.flags |= natFlagOption(a.Name)
	return nil
}

// compatBase mirrors how iptables 1.8.9 loads SNAT and MASQUERADE: through
// the IPv4 nf_nat_ipv4_multi_range_compat layout, which has no field for
// the base port. "PORTS/BASE" keeps its offset flag with base 0, which is
// what the kernel then maps with, and iptables-save prints "/0".
func compatBase(r *NATRange) {
	r.BasePort = 0
}

// Final implements Target.
func (t *SNAT) Final(r *match.Rule) error {
	if err := t.spec.final(&t.Range, r.Proto, false); err != nil {
		return err
	}
	compatBase(&t.Range)
	if !t.spec.given {
		return grammar.ParamNLf("SNAT: option \"--to-source\" must be specified")
	}
	return nil
}

// Save implements Target.
func (t *SNAT) Save(b *strings.Builder) {
	t.Range.write(b, "--to-source ", "--", false)
}

// Print implements Target.
func (t *SNAT) Print(b *strings.Builder, numeric bool) {
	t.Range.write(b, "to:", "", false)
}
