package ruleset

import (
	"fmt"
	"strings"

	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
)

// validate makes the checks the kernel makes when a table is replaced
// (translate_table): no loop among the chains a hook reaches
// (mark_source_chains), and every match and target allowed in this table,
// from every hook that reaches its rule, with its protocol
// (xt_check_match/xt_check_target), plus each extension's own check.
// "Accepted at load, fails at the first packet" is what this prevents.
func validate(t *Table) error {
	hooks, err := reach(t)
	if err != nil {
		return err
	}
	for _, ch := range t.Chains() {
		for i, r := range ch.Rules {
			if err := checkRule(t, r, hooks[ch.Name]); err != nil {
				return fail("Invalid argument: %s (rule %d in chain %s)", err, i+1, ch.Name)
			}
		}
	}
	return nil
}

// reach computes, for every chain, the hooks from which it is reachable,
// and refuses a loop as the kernel does (ELOOP).
func reach(t *Table) (map[string]packet.HookMask, error) {
	hooks := map[string]packet.HookMask{}
	const (
		white = iota
		grey
		black
	)
	for _, b := range t.builtins {
		color := map[string]int{}
		var walk func(c *Chain) error
		walk = func(c *Chain) error {
			color[c.Name] = grey
			hooks[c.Name] |= b.Hook.Mask()
			for _, r := range c.Rules {
				if r.Kind != KindJump && r.Kind != KindGoto {
					continue
				}
				next := t.chains[r.Chain]
				switch color[next.Name] {
				case grey:
					return fail("Too many levels of symbolic links")
				case white:
					if err := walk(next); err != nil {
						return err
					}
				}
			}
			color[c.Name] = black
			return nil
		}
		if err := walk(b); err != nil {
			return nil, err
		}
	}
	return hooks, nil
}

// hookNames renders a hook mask as x_tables' textify_hooks does.
func hookNames(m packet.HookMask) string {
	var s []string
	for h := packet.Hook(0); h < packet.NumHooks; h++ {
		if m.Has(h) {
			s = append(s, h.String())
		}
	}
	return strings.Join(s, "/")
}

func checkPlace(kind, name, table string, allowedTable string, allowed packet.HookMask, proto uint8, w *match.Where) error {
	if allowedTable != "" && allowedTable != table {
		return fmt.Errorf("%s %s: only valid in %s table, not %s", name, kind, allowedTable, table)
	}
	if allowed != 0 && w.Hooks&^allowed != 0 {
		return fmt.Errorf("%s %s: used from hooks %s, but only valid from %s", name, kind, hookNames(w.Hooks), hookNames(allowed))
	}
	if proto != 0 && (w.Proto != proto || w.InvProto) {
		return fmt.Errorf("%s %s: only valid for protocol %d", name, kind, proto)
	}
	return nil
}

func checkRule(t *Table, r *Rule, hooks packet.HookMask) error {
	w := &match.Where{Table: t.Name, Hooks: hooks, Proto: r.Proto, InvProto: r.Inv&InvProto != 0}
	for _, m := range r.Matches {
		i := m.Info
		if err := checkPlace("match", i.Name, t.Name, i.Table, i.Hooks, i.Proto, w); err != nil {
			return err
		}
		if c, ok := m.M.(match.Checker); ok {
			if err := c.Check(w); err != nil {
				return err
			}
		}
	}
	if r.Kind == KindExt {
		i := r.TargetInfo
		if err := checkPlace("target", i.Name, t.Name, i.Table, i.Hooks, i.Proto, w); err != nil {
			return err
		}
		if c, ok := r.Target.(match.Checker); ok {
			if err := c.Check(w); err != nil {
				return err
			}
		}
		if c, ok := r.Target.(matchesChecker); ok {
			ms := make([]match.Match, len(r.Matches))
			for i, m := range r.Matches {
				ms[i] = m.M
			}
			if err := c.CheckMatches(ms); err != nil {
				return err
			}
		}
	}
	return nil
}

// matchesChecker is a target whose kernel check also looks at the rule's
// matches, as xt_TCPMSS's tcpmss_tg4_check walks them for a SYN match.
type matchesChecker interface {
	CheckMatches(ms []match.Match) error
}
