// Package match holds gofw's match extensions, one file per extension, each
// with its option table, parsing, cross-option checks, save/print and hot
// path side by side (the shape of an iptables libxt_*.c file plus its
// kernel xt_*.c). registry.go lists them all.
//
// It also holds the contract shared with package target: option arguments,
// the description of the rule an extension sits in, and the value parsers
// and printers iptables' extensions share (ports, marks, quoting).
package match

import (
	"strings"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/packet"
)

// Opt is one option an extension accepts.
type Opt struct {
	Name string // without dashes: "dport"
	Arg  bool   // takes a required argument
	Inv  bool   // may be negated with "!"
	// Multi allows the option more than once in one instance.
	Multi bool
	// Extra is how many further non-option words the option may take after
	// its argument (--tcp-flags MASK COMP: 1); they arrive in Arg.Extra.
	Extra int
	// Canon is the name Parse sees when this is an alias
	// ("destination-port" for "dport"); "" means Name.
	Canon string
}

// Arg is one option as the user gave it, handed to Parse.
type Arg struct {
	Name  string   // canonical name without dashes
	Inv   bool     // preceded by "!"
	Value string   // the argument, "" for options without one
	Extra []string // non-option words that followed (the second list of --tcp-flags)
	Index int      // 1-based argument index, for error messages
	// Proto and InvProto are the rule's -p as far as it was given before
	// this option (0: none or "all"): iptables' parsers see only that.
	Proto    uint8
	InvProto bool
}

// Rule describes the rule an extension is part of, for Final checks.
type Rule struct {
	Proto    uint8 // -p, 0 for "all" or none
	InvProto bool
	Table    string
}

// Where describes where a rule sits, for load-time checks: the table and the
// hooks from which its chain is reachable (0 for a chain no hook reaches,
// which the kernel does not check against hooks either).
type Where struct {
	Table    string
	Hooks    packet.HookMask
	Proto    uint8
	InvProto bool
}

// Match is one match extension instance in a rule.
type Match interface {
	// Parse applies one option, in the order given on the command line.
	Parse(a *Arg) error
	// Final checks the options together and fills defaults, as the
	// extension's x6_fcheck does. Errors are parameter problems.
	Final(r *Rule) error
	// Save appends the options as iptables-save prints them, each preceded
	// by a space (" --dport 22").
	Save(b *strings.Builder)
	// Print appends the text of iptables -L, preceded by a space
	// (" tcp dpt:22"); numeric is -n.
	Print(b *strings.Builder, numeric bool)
}

// Checker is implemented by extensions whose validity depends on options and
// placement together (the kernel's checkentry): the ruleset calls Check for
// every rule when a table is committed. The error text is the kernel's log
// line without the "x_tables: " prefix.
type Checker interface {
	Check(w *Where) error
}

// Info describes a match extension: its name, options, constructor and
// where it may appear. The ruleset enforces Tables, Hooks and Proto for
// every chain reachable from each hook, as x_tables' xt_check_match does.
type Info struct {
	Name  string
	Opts  []Opt
	New   func() Match
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

// Lookup returns the match called name.
func Lookup(name string) (*Info, bool) {
	i, ok := byName[name]
	return i, ok
}

// All returns every match extension, in registry order.
func All() []*Info { return registry }

// Specs returns the options of i in the grammar's form.
func (i *Info) Specs() []grammar.OptSpec { return Specs(i.Opts) }

// Specs converts an option table to the grammar's form.
func Specs(opts []Opt) []grammar.OptSpec {
	s := make([]grammar.OptSpec, len(opts))
	for k, o := range opts {
		s[k] = grammar.OptSpec{Name: o.Name, Arg: o.Arg}
	}
	return s
}

// Resolve finds option name in opts, following aliases, and checks that a
// negation is allowed. ext names the extension for error messages.
func Resolve(opts []Opt, ext, name string, inv bool) (string, error) {
	for _, o := range opts {
		if o.Name != name {
			continue
		}
		if inv && !o.Inv {
			return "", grammar.Paramf("%s: option \"--%s\" cannot be inverted.", ext, name)
		}
		if o.Canon != "" {
			return o.Canon, nil
		}
		return o.Name, nil
	}
	return "", grammar.Paramf("unknown option \"--%s\"", name)
}
