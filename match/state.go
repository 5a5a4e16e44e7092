package match

import (
	"strings"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/packet"
)

// stateInfo is the state match (libxt_state.c's options, carried out by
// xt_conntrack since iptables 1.4.17 made "state" an alias of conntrack
// revision 3): the connection state of the packet. It knows the five
// classic states; SNAT and DNAT are conntrack's --ctstate only.
var stateInfo = &Info{
	Name: "state",
	Opts: []Opt{
		{Name: "state", Arg: true, Inv: true},
	},
	New: func() Match { return &State{} },
}

// State is one state match: the packet's state bit must be in Mask, or
// must not be with Inv.
type State struct {
	Mask StateMask
	Inv  bool
}

// Parse implements Match, as state_parse_states does: a comma-separated
// list of case-insensitive prefixes of INVALID, NEW, ESTABLISHED, RELATED
// and UNTRACKED.
func (s *State) Parse(a *Arg) error {
	m, err := parseStateList(a.Value, "state", 5, false)
	if err != nil {
		return err
	}
	s.Mask, s.Inv = m, a.Inv
	return nil
}

// Final implements Match: --state is mandatory (XTOPT_MAND).
func (s *State) Final(*Rule) error {
	if s.Mask == 0 {
		return xoMissing("state", "state")
	}
	return nil
}

// Save implements Match.
func (s *State) Save(b *strings.Builder) {
	xoSaveInv(b, s.Inv)
	b.WriteString(" --state ")
	writeStates(b, s.Mask)
}

// Print implements Match ("! state NEW" when negated).
func (s *State) Print(b *strings.Builder, numeric bool) {
	xoSaveInv(b, s.Inv)
	b.WriteString(" state ")
	writeStates(b, s.Mask)
}

// Match implements Matcher. iptables loads -m state as conntrack revision
// 3 with only XT_CONNTRACK_STATE set, so this is xt_conntrack.c
// conntrack_mt's state test: the packet's state bit (INVALID without an
// entry, UNTRACKED for a NOTRACK packet) against the mask, negated by Inv.
// SNAT and DNAT bits may be set in the packet's bits but never in a
// --state mask.
//
// Called for every packet; must not allocate.
func (s *State) Match(p *packet.Packet) bool {
	bits := StateMask(conntrack.CtStateBits(p.Conn, p.CtInfo))
	return (bits&s.Mask != 0) != s.Inv
}
