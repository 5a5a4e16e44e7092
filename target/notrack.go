package target

import (
	"strings"

	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
)

// notrackInfo is the NOTRACK target. iptables 1.8.9 loads it as an alias
// of CT revision 2 with XT_CT_NOTRACK | XT_CT_NOTRACK_ALIAS set
// (libxt_CT.c notrack_ct2_tg_init), so the kernel checks it as CT: raw
// table only.
var notrackInfo = &Info{
	Name:  "NOTRACK",
	New:   func() Target { return &NoTrack{} },
	Table: "raw",
}

// NoTrack is one NOTRACK target: the packet stays untracked. It has no
// options.
type NoTrack struct{}

// Parse implements Target; NOTRACK has no options for the grammar to pass.
func (t *NoTrack) Parse(*match.Arg) error { return nil }

// Final implements Target.
func (t *NoTrack) Final(*match.Rule) error { return nil }

// Save implements Target: the alias saves as plain "-j NOTRACK".
func (t *NoTrack) Save(*strings.Builder) {}

// Print implements Target (ct_print_v1 for the alias).
func (t *NoTrack) Print(b *strings.Builder, numeric bool) {
	b.WriteString(" NOTRACK")
}

// Do implements Doer: NOTRACK is CT --notrack (xt_ct_target with no
// template), so it too leaves a packet that already has a conntrack
// attachment or template alone. Called for every packet; must not
// allocate.
func (t *NoTrack) Do(p *packet.Packet) Verdict {
	if p.Conn != nil || p.HasTemplate || p.NoTrack {
		return Continue
	}
	p.HasTemplate, p.NoTrack = true, true
	return Continue
}
