package ruleset

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gofw/gofw/grammar"
)

// RestoreOptions are gofw-restore's options.
type RestoreOptions struct {
	Noflush  bool   // -n: add to the tables instead of replacing them
	Test     bool   // -t: check everything, commit nothing
	Counters bool   // -c: apply [packets:bytes]
	Table    string // -T: only this table's block
	Verbose  bool   // -v
	// Warn receives iptables-restore's warnings (for stderr), if not nil.
	Warn func(string) `json:"-"`
}

// Restore errors are *grammar.Error with Line set. gofw-restore prints a
// parameter problem (ExitParameter) with "Error occurred at line: N", and a
// failure (ExitFailure) as iptables' one line "line N failed" or "COMMIT
// expected at line N", which is then the whole message.

// lineFailed is iptables-restore's "line N failed", with the reason iptables
// leaves to dmesg appended.
func lineFailed(n int, why error) error {
	msg := fmt.Sprintf("line %d failed", n)
	if why != nil {
		msg += ": " + why.Error()
	}
	return &grammar.Error{Code: grammar.ExitFailure, Msg: msg, Line: n}
}

// Restore applies an iptables-restore input to rs, table block by table
// block: each COMMIT publishes its table whole into the returned ruleset, a
// failing block leaves its table as it was, and processing stops at the first
// error (blocks committed before it stay committed, as with iptables).
func Restore(rs *Ruleset, in io.Reader, o RestoreOptions, out *strings.Builder) (*Ruleset, error) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var (
		n       int
		wt      *Table // the table block being built
		skip    bool   // block of a table other than -T's
		inTable bool
	)
	for sc.Scan() {
		n++
		text := sc.Text()
		if inTable && skip {
			if text == "COMMIT" {
				inTable, skip = false, false
			}
			continue
		}
		l, err := grammar.ParseRestoreLine(text, n, inTable, Catalog)
		if err != nil {
			return rs, restoreErr(err, n)
		}
		switch {
		case l == nil:
		case l.Table != nil:
			name := l.Table.Name
			if _, ok := lookupTableDef(name); !ok {
				return rs, &grammar.Error{Code: grammar.ExitParameter, Msg: fmt.Sprintf("gofw-restore: unable to initialize table '%s'", name), Line: n}
			}
			inTable = true
			if o.Table != "" && o.Table != name {
				skip = true
				continue
			}
			var t *Table
			rs, t, _ = rs.init(name)
			wt = t.clone()
			if !o.Noflush {
				flushTable(wt, o.Verbose, out)
			}
		case l.Chain != nil:
			if err := restoreChain(wt, l.Chain, n, o); err != nil {
				return rs, err
			}
		case l.Commit:
			if err := validate(wt); err != nil {
				return rs, lineFailed(n, err)
			}
			if !o.Test {
				rs = rs.with(wt)
			}
			inTable, wt = false, nil
		case l.Command != nil:
			if err := restoreCommand(wt, l.Command, n, o, out); err != nil {
				return rs, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return rs, &grammar.Error{Code: grammar.ExitFailure, Msg: err.Error(), Line: n}
	}
	if inTable {
		return rs, &grammar.Error{Code: grammar.ExitFailure, Msg: fmt.Sprintf("COMMIT expected at line %d", n+1), Line: n + 1}
	}
	return rs, nil
}

func restoreErr(err error, n int) error {
	if e, ok := err.(*grammar.Error); ok {
		if e.Code == grammar.ExitFailure {
			if strings.HasPrefix(e.Msg, "line ") {
				return e
			}
			return lineFailed(n, e)
		}
		e.Line = n
		return e
	}
	return &grammar.Error{Code: grammar.ExitParameter, Msg: err.Error(), Line: n}
}

// flushTable empties a table for a restore without --noflush: every chain
// flushed, every user chain deleted. Policies stay, their counters restart
// from zero, as iptables-legacy-restore leaves them (new objects, so the
// live snapshot keeps counting until the block commits).
func flushTable(t *Table, verbose bool, out *strings.Builder) {
	for _, c := range t.Chains() {
		if verbose {
			fmt.Fprintf(out, "Flushing chain `%s'\n", c.Name)
		}
		c.Rules = nil
		if c.Builtin {
			c.PolicyCounters = &Counters{}
		}
	}
	for _, c := range append([]*Chain(nil), t.users...) {
		if verbose {
			fmt.Fprintf(out, "Deleting chain `%s'\n", c.Name)
		}
		t.removeUser(c.Name)
	}
}

func restoreChain(t *Table, c *grammar.ChainLine, n int, o RestoreOptions) error {
	param := func(format string, a ...any) error {
		return &grammar.Error{Code: grammar.ExitParameter, Msg: fmt.Sprintf(format, a...), Line: n}
	}
	if c.Name == nil {
		return param("gofw-restore: line %d chain name invalid", n)
	}
	name := *c.Name
	if len(name) >= maxNameLen {
		return param("Invalid chain name `%s' (%d chars max)", name, maxNameLen-1)
	}
	if c.Policy == nil {
		return param("gofw-restore: line %d policy invalid", n)
	}
	ch, exists := t.chains[name]
	if exists && ch.Builtin {
		if *c.Policy != "-" {
			switch *c.Policy {
			case "ACCEPT":
				ch.Policy = PolicyAccept
			case "DROP":
				ch.Policy = PolicyDrop
			default:
				return &grammar.Error{Code: grammar.ExitFailure,
					Msg: fmt.Sprintf("Can't set policy `%s' on `%s' line %d: Bad policy name", *c.Policy, name, n), Line: n}
			}
			if o.Counters {
				var p, b uint64
				if c.Counters == nil || !parseBracketCounters(*c.Counters, &p, &b) {
					return param("invalid policy counters for chain '%s'", name)
				}
				ch.PolicyCounters = &Counters{}
				ch.PolicyCounters.Set(p, b)
			}
		}
		return nil
	}
	if *c.Policy != "-" {
		return &grammar.Error{Code: grammar.ExitFailure,
			Msg: fmt.Sprintf("Can't set policy `%s' on `%s' line %d: Bad built-in chain name", *c.Policy, name, n), Line: n}
	}
	if exists {
		if !o.Noflush {
			return param("error creating chain '%s':File exists", name)
		}
		ch.Rules = nil
		return nil
	}
	if err := checkChainName(name); err != nil {
		return param("%s", err.Msg)
	}
	t.addUser(name)
	return nil
}

// parseBracketCounters reads "[P:B]" as sscanf("[%llu:%llu]").
func parseBracketCounters(s string, p, b *uint64) bool {
	if !strings.HasPrefix(s, "[") {
		return false
	}
	ps, bs, ok := strings.Cut(s[1:], ":")
	if !ok {
		return false
	}
	var ok1, ok2 bool
	*p, ok1 = scanCounter(ps)
	*b, ok2 = scanCounter(strings.TrimSuffix(bs, "]"))
	return ok1 && ok2
}

func restoreCommand(t *Table, cl *grammar.CommandLine, n int, o RestoreOptions, out *strings.Builder) error {
	for _, e := range cl.Line.Elems {
		// Lines for IPv6 are for ip6tables-restore: skip them, as
		// iptables-restore does.
		if e.Opt != nil && e.Opt.Name.Name == "-6" {
			return nil
		}
	}
	c, err := FromAST(&cl.Line, true, n)
	if err != nil {
		return restoreErr(err, n)
	}
	if o.Warn != nil {
		for _, w := range c.Warnings {
			o.Warn(w)
		}
	}
	c.Table = t.Name
	if cl.Counters != nil && o.Counters {
		if c.Counters {
			return restoreErr(grammar.Paramf("multiple -c flags not allowed"), n)
		}
		p, ok := scanCounter(cl.Counters.Packets)
		if !ok {
			return restoreErr(grammar.Paramf("-c packet counter not numeric"), n)
		}
		b, ok := scanCounter(cl.Counters.Bytes)
		if !ok {
			return restoreErr(grammar.Paramf("-c byte counter not numeric"), n)
		}
		for _, r := range c.Rules {
			r.Counters.Set(p, b)
		}
	}
	// -v echoes each rule, except with --noflush, where iptables-restore
	// prints nothing.
	c.Verbose = 0
	if o.Verbose && !o.Noflush {
		c.Verbose = 1
	}
	var err2 error
	switch {
	case c.Op&(OpList|OpListRules) != 0:
		err2 = list(t, c, out)
	case c.Op&(OpZero|OpZeroNum) != 0:
		err2 = zero(t, c, out, true)
	case c.Op == OpCheck:
		ch, ok := t.chains[c.Chain]
		if !ok {
			err2 = errNoChain
		} else {
			for _, r := range c.Rules {
				if find(ch, r) < 0 {
					err2 = errBadRule
				}
			}
		}
	default:
		err2 = edit(t, c, out)
	}
	if err2 != nil {
		return restoreErr(err2, n)
	}
	return nil
}

// LoadFile restores the file at path onto rs, as gofwd does with --rules at
// start and on SIGHUP. Unlike gofw-restore it is all or nothing: on any
// error it returns rs unchanged and the error names the file and line.
func LoadFile(rs *Ruleset, path string) (*Ruleset, error) {
	f, err := os.Open(path)
	if err != nil {
		return rs, err
	}
	defer f.Close()
	var out strings.Builder
	nrs, err := Restore(rs, f, RestoreOptions{}, &out)
	if err != nil {
		if e, ok := err.(*grammar.Error); ok && e.Line > 0 && !strings.HasPrefix(e.Msg, "line ") {
			return rs, fmt.Errorf("%s: line %d: %s", path, e.Line, e.Msg)
		}
		return rs, fmt.Errorf("%s: %v", path, err)
	}
	return nrs, nil
}
