package ruleset

import (
	"sort"

	"github.com/gofw/gofw/packet"
)

// tableDef is a table iptables knows, with its built-in chains in hook order.
type tableDef struct {
	name  string
	hooks []packet.Hook
}

// tableDefs are the tables gofw implements, as iptable_{filter,nat,mangle,raw}
// register them (valid_hooks).
var tableDefs = []tableDef{
	{"filter", []packet.Hook{packet.Input, packet.Forward, packet.Output}},
	{"nat", []packet.Hook{packet.Prerouting, packet.Input, packet.Output, packet.Postrouting}},
	{"mangle", []packet.Hook{packet.Prerouting, packet.Input, packet.Forward, packet.Output, packet.Postrouting}},
	{"raw", []packet.Hook{packet.Prerouting, packet.Output}},
}

func lookupTableDef(name string) (*tableDef, bool) {
	for i := range tableDefs {
		if tableDefs[i].name == name {
			return &tableDefs[i], true
		}
	}
	return nil, false
}

// Policy is a built-in chain's policy.
type Policy uint8

// The only policies iptables allows.
const (
	PolicyAccept Policy = iota
	PolicyDrop
)

func (p Policy) String() string {
	if p == PolicyDrop {
		return "DROP"
	}
	return "ACCEPT"
}

// Chain is a built-in or user chain.
type Chain struct {
	Name    string
	Builtin bool
	Hook    packet.Hook // for built-in chains
	Policy  Policy
	// PolicyCounters count packets that fell off the end of a built-in
	// chain; user chains have none (iptables-save prints [0:0]).
	PolicyCounters *Counters
	Rules          []*Rule
}

// Table is one table: its chains, built-ins first in hook order.
type Table struct {
	Name   string
	chains map[string]*Chain
	// Builtins in hook order; user chains are kept sorted by name (strcmp),
	// the order libiptc lists them in.
	builtins []*Chain
	users    []*Chain
}

func newTable(def *tableDef) *Table {
	t := &Table{Name: def.name, chains: map[string]*Chain{}}
	for _, h := range def.hooks {
		c := &Chain{Name: h.String(), Builtin: true, Hook: h, PolicyCounters: &Counters{}}
		t.chains[c.Name] = c
		t.builtins = append(t.builtins, c)
	}
	return t
}

// Chain returns the chain called name.
func (t *Table) Chain(name string) (*Chain, bool) {
	c, ok := t.chains[name]
	return c, ok
}

// Chains returns the chains in listing order: built-ins in hook order, then
// user chains sorted by name.
func (t *Table) Chains() []*Chain {
	out := make([]*Chain, 0, len(t.builtins)+len(t.users))
	return append(append(out, t.builtins...), t.users...)
}

// Builtins returns the built-in chains in hook order.
func (t *Table) Builtins() []*Chain { return t.builtins }

// clone returns a copy whose chains can be edited without touching t. Rules
// are shared: they are immutable, and sharing keeps their counters.
func (t *Table) clone() *Table {
	n := &Table{Name: t.Name, chains: make(map[string]*Chain, len(t.chains))}
	cp := func(c *Chain) *Chain {
		d := *c
		d.Rules = append([]*Rule(nil), c.Rules...)
		n.chains[d.Name] = &d
		return &d
	}
	for _, c := range t.builtins {
		n.builtins = append(n.builtins, cp(c))
	}
	for _, c := range t.users {
		n.users = append(n.users, cp(c))
	}
	return n
}

func (t *Table) addUser(name string) *Chain {
	c := &Chain{Name: name, PolicyCounters: &Counters{}}
	t.chains[name] = c
	i := sort.Search(len(t.users), func(i int) bool { return t.users[i].Name >= name })
	t.users = append(t.users, nil)
	copy(t.users[i+1:], t.users[i:])
	t.users[i] = c
	return c
}

func (t *Table) removeUser(name string) {
	delete(t.chains, name)
	for i, c := range t.users {
		if c.Name == name {
			t.users = append(t.users[:i], t.users[i+1:]...)
			return
		}
	}
}

// References counts the rules (jumps and gotos) that point at chain name,
// as iptables -L's "(N references)".
func (t *Table) References(name string) int {
	n := 0
	for _, c := range t.chains {
		for _, r := range c.Rules {
			if (r.Kind == KindJump || r.Kind == KindGoto) && r.Chain == name {
				n++
			}
		}
	}
	return n
}

// Ruleset is an immutable snapshot of every table. Readers (the packet path,
// listings) hold one for as long as they need; writers build a new one and
// publish it whole, so no reader sees half a change.
type Ruleset struct {
	tables map[string]*Table
	// order lists the initialised tables newest first: iptables-legacy-save
	// prints /proc/net/ip_tables_names, where the most recently
	// initialised table comes first.
	order []string
}

// New returns an empty ruleset in which no table has been used yet.
func New() *Ruleset { return &Ruleset{tables: map[string]*Table{}} }

// Table returns table name if it has been initialised.
func (rs *Ruleset) Table(name string) (*Table, bool) {
	t, ok := rs.tables[name]
	return t, ok
}

// Tables returns the initialised tables in iptables-legacy-save's order.
func (rs *Ruleset) Tables() []*Table {
	out := make([]*Table, 0, len(rs.order))
	for _, n := range rs.order {
		out = append(out, rs.tables[n])
	}
	return out
}

// with returns a copy of rs with table t replaced (or initialised).
func (rs *Ruleset) with(t *Table) *Ruleset {
	n := &Ruleset{tables: make(map[string]*Table, len(rs.tables)+1), order: rs.order}
	for k, v := range rs.tables {
		n.tables[k] = v
	}
	if _, ok := rs.tables[t.Name]; !ok {
		n.order = append([]string{t.Name}, rs.order...)
	}
	n.tables[t.Name] = t
	return n
}

// init returns rs with table name initialised (an empty table with its
// built-in chains), as the kernel does when iptables first opens it.
func (rs *Ruleset) init(name string) (*Ruleset, *Table, error) {
	if t, ok := rs.tables[name]; ok {
		return rs, t, nil
	}
	def, ok := lookupTableDef(name)
	if !ok {
		return rs, nil, errNoTable(name)
	}
	t := newTable(def)
	return rs.with(t), t, nil
}
