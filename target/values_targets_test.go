package target

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
)

// splitWords splits a rule the way the .t files need it: on blanks, with
// double quotes grouping (and "" giving an empty word).
func splitWords(s string) []string {
	var words []string
	var cur strings.Builder
	in, have := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			in, have = !in, true
		case c == ' ' && !in:
			if have {
				words = append(words, cur.String())
			}
			cur.Reset()
			have = false
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if have {
		words = append(words, cur.String())
	}
	return words
}

// built is a target built from a rule tail, with its texts.
type built struct {
	info  *Info
	tg    Target
	rule  match.Rule
	save  string // " -j NAME ..." as -S prints the target part
	list  string // -L text
	listN string // -L -n text
}

// build parses "[[!] -p PROTO] -j NAME [options]" and hands the options to
// the target the way the grammar and ruleset do: aliases and negation
// through match.Resolve, "can only be used once" for options without
// Multi, a missing argument refused; then Final. It is what the ruleset
// will do, kept small so these tests need neither.
func build(spec string) (*built, error) {
	w := splitWords(spec)
	b := &built{}
	inv := false
	i := 0
	for ; i < len(w); i++ {
		switch w[i] {
		case "!":
			inv = true
			continue
		case "-p":
			p, err := match.ParseProto(w[i+1])
			if err != nil {
				return nil, err
			}
			b.rule.Proto, b.rule.InvProto = p, inv
			i++
		case "-j":
			info, ok := Lookup(w[i+1])
			if !ok {
				return nil, fmt.Errorf("no target %q", w[i+1])
			}
			b.info, b.tg = info, info.New()
			i++
		default:
			if b.tg == nil {
				return nil, fmt.Errorf("unexpected %q", w[i])
			}
			goto opts
		}
		inv = false
	}
opts:
	if b.tg == nil {
		return nil, fmt.Errorf("no -j in %q", spec)
	}
	seen := map[string]bool{}
	for ; i < len(w); i++ {
		if w[i] == "!" {
			inv = true
			continue
		}
		if !strings.HasPrefix(w[i], "--") {
			return nil, fmt.Errorf("unexpected word %q", w[i])
		}
		name := strings.TrimPrefix(w[i], "--")
		var opt *match.Opt
		for k := range b.info.Opts {
			if b.info.Opts[k].Name == name {
				opt = &b.info.Opts[k]
			}
		}
		canon, err := match.Resolve(b.info.Opts, b.info.Name, name, inv)
		if err != nil {
			return nil, err
		}
		if seen[canon] && !opt.Multi {
			return nil, grammar.ParamNLf("%s: option \"--%s\" can only be used once.", b.info.Name, name)
		}
		seen[canon] = true
		a := &match.Arg{Name: canon, Inv: inv, Index: i + 1}
		if opt.Arg {
			if i+1 >= len(w) {
				return nil, grammar.Paramf("option \"--%s\" requires an argument", name)
			}
			i++
			a.Value = w[i]
		}
		if err := b.tg.Parse(a); err != nil {
			return nil, err
		}
		inv = false
	}
	b.rule.Table = b.info.Table
	if err := b.tg.Final(&b.rule); err != nil {
		return nil, err
	}
	var s strings.Builder
	s.WriteString(" -j " + b.info.Name)
	b.tg.Save(&s)
	b.save = strings.TrimPrefix(s.String(), " ")
	s.Reset()
	b.tg.Print(&s, false)
	b.list = s.String()
	s.Reset()
	b.tg.Print(&s, true)
	b.listN = s.String()
	return b, nil
}

// check runs the target's load-time check for a rule reachable from hooks.
func (b *built) check(table string, hooks packet.HookMask) error {
	c, ok := b.tg.(match.Checker)
	if !ok {
		return nil
	}
	return c.Check(&match.Where{Table: table, Hooks: hooks, Proto: b.rule.Proto, InvProto: b.rule.InvProto})
}

// errText renders an error as iptables prints it, for comparing: the
// message, with a blank line marked by a trailing "\n" where iptables adds
// one.
func errText(err error) string {
	if err == nil {
		return ""
	}
	var ge *grammar.Error
	if errors.As(err, &ge) {
		s := fmt.Sprintf("exit %d: %s", ge.Code, ge.Msg)
		if ge.Blank {
			s += "\n"
		}
		return s
	}
	return err.Error()
}

// protoText is the "[!] -p NAME" part iptables-save prints.
func protoText(r match.Rule) string {
	n, _ := match.ProtoName(r.Proto)
	if r.InvProto {
		return "! -p " + n
	}
	return "-p " + n
}

// checkPlacement is the ruleset's generic xt_check_target part (table,
// hooks, protocol), so that .t FAIL lines refused by it count here too.
func checkPlacement(i *Info, table string, h packet.Hook, r match.Rule) error {
	if i.Table != "" && i.Table != table {
		return fmt.Errorf("%s target: only valid in %s table, not %s", i.Name, i.Table, table)
	}
	if i.Hooks != 0 && !i.Hooks.Has(h) {
		return fmt.Errorf("%s target: used from hook %s", i.Name, h)
	}
	if i.Proto != 0 && (r.Proto != i.Proto || r.InvProto) {
		return fmt.Errorf("%s target: only valid for protocol %d", i.Name, i.Proto)
	}
	return nil
}

// TestXtParseMarkMask covers XTTYPE_MARKMASK32's messages (checked with
// iptables 1.8.9 -j MARK).
func TestXtParseMarkMask(t *testing.T) {
	bad := "exit 2: MARK: bad integer value for option \"--set-xmark\", or out of range.\n"
	trail := "exit 2: MARK: trailing garbage after value for option \"--set-xmark\".\n"
	for _, c := range []struct {
		in         string
		mark, mask uint32
		err        string
	}{
		{"5", 5, 0xffffffff, ""},
		{"0x5/0xff", 5, 0xff, ""},
		{" 5", 5, 0xffffffff, ""},
		{"017/0", 15, 0, ""},
		{"4294967296", 0, 0, bad},
		{"-1", 0, 0, bad},
		{"5/", 0, 0, bad},
		{"/5", 0, 0, bad},
		{"0x5/0x", 0, 0, trail},
		{"5/6/7", 0, 0, trail},
		{"5x", 0, 0, trail},
	} {
		m, k, err := xtParseMarkMask("MARK", "set-xmark", c.in)
		if got := errText(err); got != c.err || err == nil && (m != c.mark || k != c.mask) {
			t.Errorf("%q: got %#x/%#x %q, want %#x/%#x %q", c.in, m, k, got, c.mark, c.mask, c.err)
		}
	}
}

// TestKernelError checks that load-time refusals carry the errno that
// decides iptables' message.
func TestKernelError(t *testing.T) {
	if err := kernelENOENT("x"); !errors.Is(err, syscall.ENOENT) || err.Error() != "x" {
		t.Errorf("kernelENOENT: %v", err)
	}
	if err := kernelEINVAL("y"); !errors.Is(err, syscall.EINVAL) || err.Error() != "y" {
		t.Errorf("kernelEINVAL: %v", err)
	}
}

// row is one behaviour checked against iptables-legacy 1.8.9 on Linux
// 6.18: a rule tail added to a built-in chain of table, and what -S
// (after "-A CHAIN "), -L and -L -n print for it, or why it is refused.
type row struct {
	table string
	hook  packet.Hook
	spec  string
	save  string // "" when refused
	list  string // -L text of the target, from its leading space
	listN string // the same with -n
	// err: "" accepted; "exit 2: MSG" a parameter problem, with a trailing
	// "\n" where iptables prints a blank line; "kernel: LOG" refused by
	// the target's own load-time check (exit 1); "placement" refused by
	// the ruleset's table/hook/protocol check (exit 1); "generic" refused
	// by the ruleset's option handling (repeat, negation, argument).
	err string
}

// runRows checks each row.
func runRows(t *testing.T, rows []row) {
	t.Helper()
	for _, r := range rows {
		b, err := build(r.spec)
		var got string
		switch {
		case err != nil:
			got = errText(err)
			var ge *grammar.Error
			if errors.As(err, &ge) && (strings.Contains(ge.Msg, "can only be used once") ||
				strings.Contains(ge.Msg, "cannot be inverted") || strings.Contains(ge.Msg, "requires an argument")) {
				got = "generic"
			}
		case b.check(r.table, r.hook.Mask()) != nil:
			got = "kernel: " + b.check(r.table, r.hook.Mask()).Error()
		case checkPlacement(b.info, r.table, r.hook, b.rule) != nil:
			got = "placement"
		}
		if got != r.err {
			t.Errorf("%s %s %s:\n got error %q\nwant error %q", r.table, r.hook, r.spec, got, r.err)
			continue
		}
		if got != "" {
			continue
		}
		save := b.save
		if b.rule.Proto != 0 {
			save = protoText(b.rule) + " " + save
		}
		if save != r.save || b.list != r.list || b.listN != r.listN {
			t.Errorf("%s %s %s:\n got %q, -L %q, -L -n %q\nwant %q, -L %q, -L -n %q",
				r.table, r.hook, r.spec, save, b.list, b.listN, r.save, r.list, r.listN)
		}
	}
}

// conformanceDir holds the upstream .t files; tests read them from there
// rather than copy them into the repository.
const conformanceDir = "../../shared/conformance/iptables-t/"

// runTFile runs every test line of an upstream .t file as
// iptables-test.py does with the legacy backend (conformance/README.md):
// for each chain of the current header, OK lines must load and save as
// expected, FAIL lines must be refused by the parser or at load,
// NOMATCH lines must load and save differently. "@"/"%" lines are skipped.
func runTFile(t *testing.T, name string) {
	t.Helper()
	data, err := os.ReadFile(conformanceDir + name)
	if err != nil {
		t.Skipf("conformance corpus not available: %v", err)
	}
	table := "filter"
	var chains []packet.Hook
	n := 0
	for ln, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		switch line[0] {
		case '#', '@', '%':
			continue
		case ':':
			chains = nil
			for _, c := range strings.Split(line[1:], ",") {
				h, ok := hookByChain[c]
				if !ok {
					t.Fatalf("%s:%d: chain %q", name, ln+1, c)
				}
				chains = append(chains, h)
			}
			continue
		case '*':
			table = line[1:]
			continue
		}
		f := strings.Split(line, ";")
		res := strings.TrimSpace(f[2])
		if len(f) > 3 && strings.TrimSpace(f[3]) != "LEGACY" {
			res = map[string]string{"OK": "FAIL", "FAIL": "OK", "NOMATCH": "OK"}[res]
		}
		want := f[1]
		if want == "=" {
			want = f[0]
		}
		n++
		b, perr := build(f[0])
		for _, h := range chains {
			var lerr error
			if perr == nil {
				if lerr = b.check(table, h.Mask()); lerr == nil {
					lerr = checkPlacement(b.info, table, h, b.rule)
				}
			}
			got := ""
			if perr == nil && lerr == nil {
				got = b.save
				if b.rule.Proto != 0 {
					got = protoText(b.rule) + " " + got
				}
			}
			switch res {
			case "OK":
				if perr != nil || lerr != nil {
					t.Errorf("%s:%d (%s): %s: refused: %v%v", name, ln+1, h, f[0], perr, lerr)
				} else if got != want {
					t.Errorf("%s:%d (%s): %s:\n got %q\nwant %q", name, ln+1, h, f[0], got, want)
				}
			case "FAIL":
				if got != "" {
					t.Errorf("%s:%d (%s): %s: accepted as %q, want FAIL", name, ln+1, h, f[0], got)
				}
			case "NOMATCH":
				if perr != nil || lerr != nil || got == want {
					t.Errorf("%s:%d (%s): %s: got %q (%v%v), want it loaded and not %q", name, ln+1, h, f[0], got, perr, lerr, want)
				}
			}
		}
	}
	if n == 0 {
		t.Errorf("%s: no test lines", name)
	}
}

var hookByChain = map[string]packet.Hook{
	"PREROUTING": packet.Prerouting, "INPUT": packet.Input, "FORWARD": packet.Forward,
	"OUTPUT": packet.Output, "POSTROUTING": packet.Postrouting,
}

// dumpDir holds real iptables-save dumps (firewalld, Fedora, ...).
const dumpDir = "../../shared/conformance/iptables-shell-dumps/"

// dumpTargets returns, from every dump, each rule whose target is name:
// its "[!] -p PROTO" (if any) and its "-j NAME ..." part, as iptables-save
// printed them.
func dumpTargets(t *testing.T, name string) [][2]string {
	t.Helper()
	var out [][2]string
	err := filepath.WalkDir(dumpDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, l := range strings.Split(string(data), "\n") {
			i := strings.Index(l, " -j "+name)
			if i < 0 || !strings.HasPrefix(l[i+4+len(name):]+" ", " ") {
				continue
			}
			proto := ""
			if m := dumpProto.FindString(l[:i]); m != "" {
				proto = strings.TrimSpace(m)
			}
			out = append(out, [2]string{proto, l[i+1:]})
		}
		return nil
	})
	if err != nil {
		t.Skipf("dumps not available: %v", err)
	}
	return out
}

var dumpProto = regexp.MustCompile(`( !)? -p \S+`)

// runDumps checks that every -j NAME part of the dumps parses and saves
// back unchanged, which a restore/save round trip needs.
func runDumps(t *testing.T, name string, min int) {
	t.Helper()
	got := dumpTargets(t, name)
	if len(got) < min {
		t.Errorf("found %d %s rules in the dumps, want at least %d", len(got), name, min)
	}
	for _, d := range got {
		spec := strings.TrimSpace(d[0] + " " + d[1])
		b, err := build(spec)
		if err != nil {
			t.Errorf("%s: %v", spec, err)
			continue
		}
		if b.save != d[1] {
			t.Errorf("%s:\n got %q\nwant %q", spec, b.save, d[1])
		}
	}
}
