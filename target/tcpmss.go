package target

import (
	"strconv"
	"strings"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
)

// tcpmssInfo is the TCPMSS target (libxt_TCPMSS.c, xt_TCPMSS.c): rewrite
// the MSS option of TCP SYNs, to a fixed value or to the path MTU minus
// 40. The kernel registers it for -p tcp only.
var tcpmssInfo = &Info{
	Name: "TCPMSS",
	Opts: []match.Opt{
		{Name: "set-mss", Arg: true},
		{Name: "clamp-mss-to-pmtu"},
	},
	New:   func() Target { return &TCPMSS{} },
	Proto: packet.ProtoTCP,
}

// tcpmssMax is the largest --set-mss for IPv4: 65535 minus the 20-byte IP
// header (libxt_TCPMSS.c's .max = UINT16_MAX - hdrsize).
const tcpmssMax = 65535 - 20

// TCPMSS is one TCPMSS target.
type TCPMSS struct {
	Clamp bool   // --clamp-mss-to-pmtu (the kernel's mss 0xffff)
	MSS   uint16 // --set-mss, when not Clamp

	set bool
}

// Parse implements Target. The two options do not exclude each other:
// the last one given wins, as in TCPMSS_parse.
func (t *TCPMSS) Parse(a *match.Arg) error {
	switch a.Name {
	case "set-mss":
		v, err := match.XtParseUint("TCPMSS", a.Name, a.Value, 0, tcpmssMax)
		if err != nil {
			return err
		}
		t.Clamp, t.MSS = false, uint16(v)
	case "clamp-mss-to-pmtu":
		t.Clamp, t.MSS = true, 0
	}
	t.set = true
	return nil
}

// Final implements Target (TCPMSS_check).
func (t *TCPMSS) Final(*match.Rule) error {
	if !t.set {
		return grammar.Paramf("TCPMSS target: At least one parameter is required")
	}
	return nil
}

// tcpmssClampHooks are the hooks where the route, and so the path MTU, is
// known (xt_TCPMSS.c tcpmss_tg4_check).
const tcpmssClampHooks = packet.HookMask(1<<packet.Forward | 1<<packet.Output | 1<<packet.Postrouting)

// Check implements match.Checker for the placement half of
// tcpmss_tg4_check. Its other half needs the rule's matches: see
// CheckMatches.
func (t *TCPMSS) Check(w *match.Where) error {
	if t.Clamp && w.Hooks&^tcpmssClampHooks != 0 {
		return kernelEINVAL("xt_TCPMSS: path-MTU clamping only supported in FORWARD, OUTPUT and POSTROUTING hooks")
	}
	return nil
}

// CheckMatches is the rest of tcpmss_tg4_check: the rule must carry a tcp
// match that requires SYN set (find_syn_match: --syn or --tcp-flags with
// SYN in the compared flags, not negated), because only SYNs carry an MSS
// option. It needs the rule's matches, which match.Where does not give;
// the ruleset must call it with them when it loads a rule.
func (t *TCPMSS) CheckMatches(ms []match.Match) error {
	for _, m := range ms {
		if tcp, ok := m.(*match.TCP); ok && tcp.FlagCmp&packet.TCPSyn != 0 && !tcp.InvFlags {
			return nil
		}
	}
	return kernelEINVAL("xt_TCPMSS: Only works on TCP SYN packets")
}

// Save implements Target.
func (t *TCPMSS) Save(b *strings.Builder) {
	if t.Clamp {
		b.WriteString(" --clamp-mss-to-pmtu")
	} else {
		b.WriteString(" --set-mss " + strconv.Itoa(int(t.MSS)))
	}
}

// Print implements Target.
func (t *TCPMSS) Print(b *strings.Builder, numeric bool) {
	if t.Clamp {
		b.WriteString(" TCPMSS clamp to PMTU")
	} else {
		b.WriteString(" TCPMSS set " + strconv.Itoa(int(t.MSS)))
	}
}
