// Package target holds gofw's target extensions, one file per extension,
// with the option table, parsing, checks, save/print and the action side by
// side. ACCEPT, DROP, RETURN, QUEUE, jumps and gotos are a rule's standard
// verdict and live in package ruleset, as in the kernel.
package target

import (
	"strings"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
)

// Target is one target extension instance in a rule.
type Target interface {
	// Parse applies one option, in the order given.
	Parse(a *match.Arg) error
	// Final checks the options together and fills defaults (x6_fcheck).
	Final(r *match.Rule) error
	// Save appends the options as iptables-save prints them, each preceded
	// by a space.
	Save(b *strings.Builder)
	// Print appends the text of iptables -L, preceded by a space.
	Print(b *strings.Builder, numeric bool)
}

// Info describes a target extension. The ruleset enforces Table, Hooks and
// Proto for every chain reachable from each hook, as xt_check_target does;
// a Target that also implements match.Checker gets its own checks run.
type Info struct {
	Name  string
	Opts  []match.Opt
	New   func() Target
	Table string          // "" for any table
	Hooks packet.HookMask // 0 for any hook
	Proto uint8           // required "-p", 0 for none
}

var byName = map[string]*Info{}

func init() {
	for _, i := range registry {
		byName[i.Name] = i
	}
}

// Lookup returns the target extension called name.
func Lookup(name string) (*Info, bool) {
	i, ok := byName[name]
	return i, ok
}

// All returns every target extension, in registry order.
func All() []*Info { return registry }

// Specs returns the options of i in the grammar's form.
func (i *Info) Specs() []grammar.OptSpec { return match.Specs(i.Opts) }

// Verdict is what a target's hot path decides for the packet.
type Verdict uint8

// Target verdicts. Continue goes on with the next rule (MARK, LOG, ...);
// the others end the packet's walk of the table, as the kernel's
// XT_CONTINUE and NF_* values do.
const (
	Continue Verdict = iota
	Accept
	Drop
	// Rejected drops the packet after the datapath has sent the answer the
	// packet's RejectWith names (the kernel's REJECT sends it itself and
	// returns NF_DROP).
	Rejected
	// Queued hands the packet to the NFQUEUE queue in the packet's QueueNum.
	Queued
)

var verdictNames = [...]string{"CONTINUE", "ACCEPT", "DROP", "REJECT", "QUEUE"}

// String returns the verdict as gofw trace prints it.
func (v Verdict) String() string {
	if int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return "?"
}

// Doer is the hot path of a target: act on the packet and say what happens
// to it. It is called for every packet that reaches the rule, so it must
// not allocate or block. Extensions that need outside state also implement
// match.Binder.
type Doer interface {
	Do(p *packet.Packet) Verdict
}
