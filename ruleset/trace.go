package ruleset

import (
	"github.com/gofw/gofw/packet"
	"github.com/gofw/gofw/target"
)

// Trace records what the engine did with one packet: every rule that
// matched and every policy applied, in order. gofw trace prints it; the
// packet path passes a nil *Trace, on which recording costs one compare.
type Trace struct {
	Steps []TraceStep
}

// TraceStep is one matched rule, a policy, or an engine note.
type TraceStep struct {
	Hook         packet.Hook
	Table, Chain string
	// Num is the rule's 1-based position in Chain; 0 for the chain's
	// policy or a note.
	Num int
	// Rule is the rule that matched; nil for a policy or a note.
	Rule *Rule
	// Verdict is what the rule or policy decided: Continue for a rule that
	// only counted, jumped or marked.
	Verdict target.Verdict
	// Note explains an engine decision that is not a rule's (a packet
	// dropped before the hooks); empty otherwise.
	Note string
}

func (t *Trace) add(h packet.Hook, c *cchain, num int, r *Rule, v target.Verdict) {
	if t == nil {
		return
	}
	t.Steps = append(t.Steps, TraceStep{Hook: h, Table: c.table, Chain: c.name, Num: num, Rule: r, Verdict: v})
}

func (t *Trace) note(h packet.Hook, s string) {
	if t == nil {
		return
	}
	t.Steps = append(t.Steps, TraceStep{Hook: h, Note: s})
}
