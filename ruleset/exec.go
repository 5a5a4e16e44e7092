package ruleset

import (
	"fmt"
	"strings"

	"github.com/gofw/gofw/grammar"
)

// Runtime failures, worded as iptables reports the kernel's errno for each
// command (iptc_strerror), without the trailing period the caller adds.
var (
	errNoChain     = grammar.Failf("No chain/target/match by that name")
	errBadRule     = grammar.Failf("Bad rule (does a matching rule exist in that chain?)")
	errChainExists = grammar.Failf("Chain already exists")
)

func fail(format string, a ...any) error { return grammar.Failf(format, a...) }

// Exec applies c to rs. It returns the ruleset to publish (rs itself when
// nothing changed) and writes what iptables would print to out. A failed
// command returns rs unchanged: every change is made on a copy and checked
// whole before it is returned.
func Exec(rs *Ruleset, c *Command, out *strings.Builder) (*Ruleset, error) {
	rs, t, err := rs.init(c.Table)
	if err != nil {
		return rs, err
	}
	orig := rs
	if c.Op&(OpList|OpListRules) != 0 {
		if err := list(t, c, out); err != nil {
			return orig, err
		}
		if c.Op&(OpZero|OpZeroNum) == 0 {
			return rs, nil
		}
		return rs, zero(t, c, out, false)
	}
	if c.Op&(OpZero|OpZeroNum) != 0 {
		return rs, zero(t, c, out, false)
	}
	if c.Op == OpCheck {
		ch, ok := t.chains[c.Chain]
		if !ok {
			return orig, errNoChain
		}
		if err := checkJump(t, c); err != nil {
			return orig, err
		}
		for _, r := range c.Rules {
			echo(c, r, out)
			if find(ch, r) < 0 {
				return orig, errBadRule
			}
		}
		return rs, nil
	}
	nt := t.clone()
	if err := edit(nt, c, out); err != nil {
		return orig, err
	}
	if err := validate(nt); err != nil {
		return orig, err
	}
	return rs.with(nt), nil
}

// edit applies a modifying command to a table being built.
func edit(t *Table, c *Command, out *strings.Builder) error {
	switch c.Op {
	case OpAppend, OpInsert, OpReplace, OpDelete, OpDeleteNum:
		ch, ok := t.chains[c.Chain]
		if !ok {
			return errNoChain
		}
		if c.Op != OpDeleteNum {
			if err := checkJump(t, c); err != nil {
				return err
			}
		}
		return editRules(ch, c, out)
	case OpFlush:
		return forChains(t, c.Chain, func(ch *Chain) {
			if c.Verbose > 0 {
				fmt.Fprintf(out, "Flushing chain `%s'\n", ch.Name)
			}
			ch.Rules = nil
		})
	case OpNewChain:
		if _, ok := t.chains[c.Chain]; ok {
			return errChainExists
		}
		t.addUser(c.Chain)
	case OpDeleteChain:
		return deleteChains(t, c, out)
	case OpRename:
		return rename(t, c)
	case OpSetPolicy:
		ch, ok := t.chains[c.Chain]
		if !ok {
			return errNoChain
		}
		if !ch.Builtin {
			return fail("Bad built-in chain name")
		}
		switch c.Policy {
		case "ACCEPT":
			ch.Policy = PolicyAccept
		case "DROP":
			ch.Policy = PolicyDrop
		default:
			return fail("Bad policy name: a built-in chain's policy is ACCEPT or DROP, not %s", c.Policy)
		}
		if c.Counters {
			// A new Counters object, so that the published snapshot
			// changes only when the new one is swapped in.
			ch.PolicyCounters = &Counters{}
			ch.PolicyCounters.Set(c.Packets, c.ByteCount)
		}
	default:
		return fail("command not supported here")
	}
	return nil
}

func echo(c *Command, r *Rule, out *strings.Builder) {
	if c.Verbose > 0 {
		out.WriteString(verboseLine(r))
	}
}

func editRules(ch *Chain, c *Command, out *strings.Builder) error {
	n := len(ch.Rules)
	switch c.Op {
	case OpAppend:
		for _, r := range c.Rules {
			echo(c, r, out)
			ch.Rules = append(ch.Rules, r)
		}
	case OpInsert:
		if c.Num > n+1 {
			return fail("Index of insertion too big")
		}
		// Each rule goes in at the same index, so several addresses end
		// up in reverse order, as with iptables.
		for _, r := range c.Rules {
			echo(c, r, out)
			i := c.Num - 1
			ch.Rules = append(ch.Rules, nil)
			copy(ch.Rules[i+1:], ch.Rules[i:])
			ch.Rules[i] = r
		}
	case OpReplace:
		if c.Num > n {
			return fail("Index of replacement too big")
		}
		echo(c, c.Rules[0], out)
		ch.Rules[c.Num-1] = c.Rules[0]
	case OpDeleteNum:
		if c.Num > n {
			return fail("Index of deletion too big")
		}
		ch.Rules = append(ch.Rules[:c.Num-1], ch.Rules[c.Num:]...)
	case OpDelete:
		for _, r := range c.Rules {
			echo(c, r, out)
			i := find(ch, r)
			if i < 0 {
				return errBadRule
			}
			ch.Rules = append(ch.Rules[:i], ch.Rules[i+1:]...)
		}
	}
	return nil
}

// find returns the index of the first rule in ch equal to r, or -1.
func find(ch *Chain, r *Rule) int {
	spec := r.Spec()
	for i, x := range ch.Rules {
		if x.Spec() == spec {
			return i
		}
	}
	return -1
}

// checkJump checks that a jump or goto names an existing chain of the table,
// as iptables does before it gives up and reports an unknown target.
func checkJump(t *Table, c *Command) error {
	for _, r := range c.Rules {
		if r.Kind != KindJump && r.Kind != KindGoto {
			continue
		}
		ch, ok := t.chains[r.Chain]
		if ok && !ch.Builtin {
			continue
		}
		if ok {
			// The kernel refuses a jump to a built-in chain.
			return fail("Invalid argument: cannot jump to built-in chain %s", r.Chain)
		}
		if r.Kind == KindGoto {
			return grammar.ParamNLf("goto '%s' is not a chain", r.Chain)
		}
		return grammar.ParamNLf("Couldn't load target `%s':No such file or directory", r.Chain)
	}
	return nil
}

func forChains(t *Table, name string, f func(*Chain)) error {
	if name != "" {
		ch, ok := t.chains[name]
		if !ok {
			return errNoChain
		}
		f(ch)
		return nil
	}
	for _, ch := range t.Chains() {
		f(ch)
	}
	return nil
}

func deleteChains(t *Table, c *Command, out *strings.Builder) error {
	var names []string
	if c.Chain != "" {
		ch, ok := t.chains[c.Chain]
		if !ok {
			return errNoChain
		}
		if ch.Builtin {
			return fail("Invalid argument: %s is a built-in chain and cannot be deleted", c.Chain)
		}
		names = []string{c.Chain}
	} else {
		for _, ch := range t.users {
			names = append(names, ch.Name)
		}
	}
	for _, n := range names {
		if c.Verbose > 0 {
			fmt.Fprintf(out, "Deleting chain `%s'\n", n)
		}
		if t.References(n) > 0 {
			return fail("Too many links")
		}
		if len(t.chains[n].Rules) > 0 {
			return fail("Directory not empty")
		}
		t.removeUser(n)
	}
	return nil
}

func rename(t *Table, c *Command) error {
	ch, ok := t.chains[c.Chain]
	if !ok || ch.Builtin {
		return errNoChain
	}
	if _, ok := t.chains[c.NewName]; ok {
		return fail("File exists")
	}
	rules := ch.Rules
	t.removeUser(c.Chain)
	n := t.addUser(c.NewName)
	n.Rules = rules
	// Jumps follow the chain: rewrite them, as libiptc does.
	for _, x := range t.chains {
		for i, r := range x.Rules {
			if (r.Kind == KindJump || r.Kind == KindGoto) && r.Chain == c.Chain {
				nr := *r
				nr.Chain = c.NewName
				x.Rules[i] = &nr
			}
		}
	}
	return nil
}

func list(t *Table, c *Command, out *strings.Builder) error {
	if c.Chain != "" {
		if _, ok := t.chains[c.Chain]; !ok {
			return errNoChain
		}
	}
	if c.Op&OpList != 0 {
		t.List(out, c.Chain, c.Num, c.Format)
	} else {
		t.ListRules(out, c.Chain, c.Num, c.Verbose > 0)
	}
	return nil
}

// zero resets counters. On the live table it does so in place: counters are
// not part of the ruleset's structure, so zeroing needs no new snapshot.
// Inside a restore block (fresh) it gives the rules new counters instead, so
// that nothing changes unless the block commits.
func zero(t *Table, c *Command, out *strings.Builder, fresh bool) error {
	reset := func(ch *Chain, i int) {
		if fresh {
			r := *ch.Rules[i]
			r.Counters = &Counters{}
			ch.Rules[i] = &r
			return
		}
		ch.Rules[i].Counters.Set(0, 0)
	}
	if c.Op&OpZeroNum != 0 && c.Num > 0 {
		ch, ok := t.chains[c.Chain]
		if !ok {
			return errNoChain
		}
		if c.Num > len(ch.Rules) {
			return fail("Index of counter too big")
		}
		reset(ch, c.Num-1)
		return nil
	}
	return forChains(t, c.Chain, func(ch *Chain) {
		if c.Verbose > 0 {
			fmt.Fprintf(out, "Zeroing chain `%s'\n", ch.Name)
		}
		for i := range ch.Rules {
			reset(ch, i)
		}
		if fresh {
			ch.PolicyCounters = &Counters{}
		} else {
			ch.PolicyCounters.Set(0, 0)
		}
	})
}

// Run parses and executes one command line against rs.
func Run(rs *Ruleset, words []string) (*Ruleset, string, error) {
	c, err := ParseCommand(words, false, 0)
	if err != nil {
		return rs, "", err
	}
	var out strings.Builder
	nrs, err := Exec(rs, c, &out)
	return nrs, out.String(), err
}
