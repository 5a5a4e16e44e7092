package match

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/packet"
)

// This file holds a small rule driver for the match tests (xoRun): it
// splits a rule the way the .t files write it, hands each option to its
// match as the ruleset will (aliases resolved, "only once" and negation
// checked by Resolve), runs Final, applies the placement checks the ruleset
// makes (Info.Proto, Info.Hooks, Checker) and renders the rule as
// iptables-save and -L print it. TestXoConformance runs every line of the
// upstream .t files of the matches in this file's family through it.

// xoInst is one match of a rule being driven.
type xoInst struct {
	info *Info
	m    Match
	seen map[string]bool
}

// xoRule is a rule as the driver sees it: -p and the matches, in order.
type xoRule struct {
	proto    uint8
	invProto bool
	ms       []xoInst
}

var xoHooks = map[string]packet.Hook{
	"PREROUTING": packet.Prerouting, "INPUT": packet.Input, "FORWARD": packet.Forward,
	"OUTPUT": packet.Output, "POSTROUTING": packet.Postrouting,
}

// xoSplit splits a rule into words, honouring double quotes as
// iptables-restore does.
func xoSplit(s string) []string {
	var words []string
	var cur strings.Builder
	in, have := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			in, have = !in, true
		case c == '\\' && in && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case (c == ' ' || c == '\t') && !in:
			if have {
				words = append(words, cur.String())
				cur.Reset()
				have = false
			}
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

// xoErrPlace is a placement error, what the kernel refuses with EINVAL.
type xoErrPlace struct{ msg string }

func (e *xoErrPlace) Error() string { return e.msg }

// xoRun drives one rule given as words into table/chain.
func xoRun(table, chain string, words []string) (*xoRule, error) {
	r := &xoRule{}
	inv, protoLoaded := false, false
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "!":
			if inv {
				return nil, grammar.Paramf("multiple consecutive ! not allowed")
			}
			inv = true
			continue
		case w == "-p":
			i++
			if i == len(words) {
				return nil, grammar.Paramf("option \"-p\" requires an argument")
			}
			p, err := ParseProto(words[i])
			if err != nil {
				return nil, err
			}
			r.proto, r.invProto, protoLoaded = p, inv, false
		case w == "-m":
			i++
			if i == len(words) {
				return nil, grammar.Paramf("option \"-m\" requires an argument")
			}
			info, ok := Lookup(words[i])
			if !ok {
				return nil, grammar.Paramf("Couldn't load match `%s':No such file or directory", words[i])
			}
			r.ms = append(r.ms, xoInst{info: info, m: info.New(), seen: map[string]bool{}})
			if n, ok := ProtoName(r.proto); ok && n == info.Name {
				protoLoaded = true
			}
		case strings.HasPrefix(w, "--"):
			// Options of all loaded matches are known, newest first, as in
			// the merged getopt table.
			k := len(r.ms) - 1
			var opt *Opt
			for ; k >= 0 && opt == nil; k-- {
				for j := range r.ms[k].info.Opts {
					if r.ms[k].info.Opts[j].Name == w[2:] {
						opt = &r.ms[k].info.Opts[j]
						break
					}
				}
			}
			if opt == nil {
				// "-p udp --sport 53": iptables loads the protocol's match
				// on demand and reads the option again.
				if name, ok := ProtoName(r.proto); ok && !protoLoaded && !r.invProto {
					if info, ok := Lookup(name); ok {
						r.ms = append(r.ms, xoInst{info: info, m: info.New(), seen: map[string]bool{}})
						protoLoaded = true
						i--
						continue
					}
				}
				return nil, grammar.Paramf("unknown option \"%s\"", w)
			}
			inst := &r.ms[k+1]
			canon, err := Resolve(inst.info.Opts, inst.info.Name, opt.Name, inv)
			if err != nil {
				return nil, err
			}
			if inst.seen[canon] && !opt.Multi {
				return nil, grammar.ParamNLf("%s: option \"--%s\" can only be used once.", inst.info.Name, canon)
			}
			inst.seen[canon] = true
			a := &Arg{Name: canon, Inv: inv, Index: i + 1, Proto: r.proto, InvProto: r.invProto}
			if opt.Arg {
				i++
				if i == len(words) {
					return nil, grammar.Paramf("option \"%s\" requires an argument", w)
				}
				a.Value = words[i]
			}
			if err := inst.m.Parse(a); err != nil {
				return nil, err
			}
		default:
			return nil, grammar.Paramf("Bad argument `%s'", w)
		}
		inv = false
	}
	for _, inst := range r.ms {
		if err := inst.m.Final(&Rule{Proto: r.proto, InvProto: r.invProto, Table: table}); err != nil {
			return nil, err
		}
	}
	hook, builtin := xoHooks[chain]
	for _, inst := range r.ms {
		i := inst.info
		if i.Proto != 0 && (r.proto != i.Proto || r.invProto) {
			return nil, &xoErrPlace{fmt.Sprintf("%s match: only valid for protocol %d", i.Name, i.Proto)}
		}
		if i.Table != "" && i.Table != table {
			return nil, &xoErrPlace{fmt.Sprintf("%s match: only valid in %s table, not %s", i.Name, i.Table, table)}
		}
		if i.Hooks != 0 && builtin && !i.Hooks.Has(hook) {
			return nil, &xoErrPlace{fmt.Sprintf("%s match: used from hooks %s, but only valid from %s", i.Name, chain, xoHookNames(i.Hooks))}
		}
		if c, ok := inst.m.(Checker); ok {
			w := &Where{Table: table, Proto: r.proto, InvProto: r.invProto}
			if builtin {
				w.Hooks = hook.Mask()
			}
			if err := c.Check(w); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

func xoHookNames(m packet.HookMask) string {
	var names []string
	for h := packet.Hook(0); h < packet.NumHooks; h++ {
		if m.Has(h) {
			names = append(names, h.String())
		}
	}
	return strings.Join(names, "/")
}

// save renders the rule as iptables-save does after "-A CHAIN".
func (r *xoRule) save() string {
	var b strings.Builder
	if r.proto != 0 || r.invProto {
		if r.invProto {
			b.WriteString(" !")
		}
		if n, ok := ProtoName(r.proto); ok {
			b.WriteString(" -p " + n)
		} else {
			fmt.Fprintf(&b, " -p %d", r.proto)
		}
	}
	for _, inst := range r.ms {
		b.WriteString(" -m " + inst.info.Name)
		inst.m.Save(&b)
	}
	return strings.TrimPrefix(b.String(), " ")
}

// print renders the matches as -L does after the destination column.
func (r *xoRule) print(numeric bool) string {
	var b strings.Builder
	for _, inst := range r.ms {
		inst.m.Print(&b, numeric)
	}
	return b.String()
}

// xoRow is one oracle-checked behaviour: a rule, and either what iptables
// 1.8.9 printed for it (-S after "-A CHAIN ", -L and -L -n after the
// destination column) or its error (Msg of a parameter problem; for a
// kernel refusal, the log line after "x_tables: ip_tables: ").
type xoRow struct {
	table, chain string
	rule         string
	save         string
	print        string
	printN       string
	err          string
}

// xoCheck runs rows through xoRun.
func xoCheck(t *testing.T, rows []xoRow) {
	t.Helper()
	for _, row := range rows {
		table, chain := row.table, row.chain
		if table == "" {
			table = "filter"
		}
		if chain == "" {
			chain = "INPUT"
		}
		r, err := xoRun(table, chain, xoSplit(row.rule))
		if row.err != "" {
			if err == nil {
				t.Errorf("%s: accepted as %q, want error %q", row.rule, r.save(), row.err)
			} else if err.Error() != row.err {
				t.Errorf("%s:\n got error %q\nwant error %q", row.rule, err.Error(), row.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: unexpected error %q", row.rule, err)
			continue
		}
		if got := r.save(); got != row.save {
			t.Errorf("%s: save\n got %q\nwant %q", row.rule, got, row.save)
		}
		if got := r.print(false); got != row.print {
			t.Errorf("%s: -L\n got %q\nwant %q", row.rule, got, row.print)
		}
		if got := r.print(true); got != row.printN {
			t.Errorf("%s: -L -n\n got %q\nwant %q", row.rule, got, row.printN)
		}
		// What is saved must load again to the same rule.
		r2, err := xoRun(table, chain, xoSplit(row.save))
		if err != nil {
			t.Errorf("%s: saved form %q does not load: %v", row.rule, row.save, err)
		} else if got := r2.save(); got != row.save {
			t.Errorf("%s: saved form reloads as %q", row.rule, got)
		}
	}
}

// xoConformanceFiles are the upstream .t files of the matches this driver
// family covers (read in place from shared/, never copied).
var xoConformanceFiles = []string{
	"libxt_udp.t", "libipt_icmp.t", "libxt_multiport.t", "libxt_state.t",
	"libxt_conntrack.t", "libipt_conntrack.t", "libxt_comment.t", "libxt_mark.t",
	"libxt_connmark.t", "libxt_iprange.t", "libipt_iprange.t", "libxt_length.t",
	"libipt_ttl.t", "libxt_pkttype.t", "libxt_mac.t", "libxt_tos.t", "libxt_dscp.t",
}

// TestXoConformance runs every test line of the .t files above, for every
// chain of its header: OK lines must load and save as expected, FAIL lines
// must be refused (by a parameter problem or a placement check).
func TestXoConformance(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "conformance", "iptables-t")
	for _, name := range xoConformanceFiles {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v (the corpus is read from shared/ beside the repo)", name, err)
		}
		sc := bufio.NewScanner(f)
		var chains []string
		table := "filter"
		lineNo, tested := 0, 0
		for sc.Scan() {
			lineNo++
			line := sc.Text()
			switch {
			case line == "" || line[0] == '#':
				continue
			case line[0] == ':':
				chains = strings.Split(line[1:], ",")
				continue
			case line[0] == '*':
				table = line[1:]
				continue
			}
			fields := strings.Split(line, ";")
			if len(fields) < 3 {
				t.Errorf("%s:%d: malformed line %q", name, lineNo, line)
				continue
			}
			rule, want, verdict := fields[0], fields[1], fields[2]
			if want == "=" {
				want = rule
			}
			for _, chain := range chains {
				tested++
				r, err := xoRun(table, chain, xoSplit(rule))
				switch verdict {
				case "FAIL":
					if err == nil {
						t.Errorf("%s:%d [%s]: %q loaded as %q, want failure", name, lineNo, chain, rule, r.save())
					}
				case "OK":
					if err != nil {
						t.Errorf("%s:%d [%s]: %q: %v", name, lineNo, chain, rule, err)
					} else if got := r.save(); got != want {
						t.Errorf("%s:%d [%s]: %q saves as\n %q\nwant %q", name, lineNo, chain, rule, got, want)
					}
				default:
					t.Errorf("%s:%d: unknown verdict %q", name, lineNo, verdict)
				}
			}
		}
		f.Close()
		t.Logf("%s: %d line x chain runs", name, tested)
		if tested == 0 {
			t.Errorf("%s: no test lines found", name)
		}
	}
}

// The shared parsers, row by row.

func TestXoParseMint(t *testing.T) {
	for _, c := range []struct {
		in      string
		max     uint64
		lo, hi  uint64
		wantErr string
	}{
		{"1", 65535, 1, 1, ""},
		{":2", 65535, 0, 2, ""},
		{"4:", 65535, 4, 65535, ""},
		{":", 65535, 0, 65535, ""},
		{"", 65535, 0, 0, ""},
		{"0x10:0x20", 65535, 16, 32, ""},
		{"010", 65535, 8, 8, ""},
		{"4:4", 65535, 4, 4, ""},
		{"5:+6", 65535, 5, 6, ""},
		{"0:4294967295", 0xffffffff, 0, 0xffffffff, ""},
		{"4:3", 65535, 0, 0, `length: bad value for option "--length" near "3", or out of range (4-65535).`},
		{"0:65536", 65535, 0, 0, `length: bad value for option "--length" near "65536", or out of range (0-65535).`},
		{"-1:65535", 65535, 0, 0, `length: bad value for option "--length" near "-1:65535", or out of range (0-65535).`},
		{"1x", 65535, 0, 0, `length: Argument to "--length" has unexpected characters near "x".`},
		{"0x", 65535, 0, 0, `length: Argument to "--length" has unexpected characters near "x".`},
		{"1:2:3", 65535, 0, 0, `length: Too many components for option "--length" (max: 2)`},
	} {
		lo, hi, err := xoParseMint("length", "length", c.in, c.max)
		if c.wantErr != "" {
			if err == nil || err.Error() != c.wantErr {
				t.Errorf("%q: got %d,%d err %v, want error %q", c.in, lo, hi, err, c.wantErr)
			}
			continue
		}
		if err != nil || lo != c.lo || hi != c.hi {
			t.Errorf("%q: got %d,%d err %v, want %d,%d", c.in, lo, hi, err, c.lo, c.hi)
		}
	}
}

func TestXoParsePortRC(t *testing.T) {
	for _, c := range []struct {
		in      string
		lo, hi  uint16
		wantErr string
	}{
		{"53", 53, 53, ""},
		{"domain", 53, 53, ""},
		{"domain:ntp", 53, 123, ""},
		{"010", 10, 10, ""}, // getaddrinfo reads decimal only
		{":", 0, 65535, ""},
		{":4", 0, 4, ""},
		{"4:", 4, 65535, ""},
		{":0", 0, 0, ""},
		{"", 0, 0, ""},
		{"0x10", 0, 0, `Port "0x10" does not resolve to anything.`},
		{"-1", 0, 0, `Port "-1" does not resolve to anything.`},
		{"65536", 0, 0, `Port "65536" does not resolve to anything.`},
		{"1x", 0, 0, `Port "1x" does not resolve to anything.`},
		{"1:2:3", 0, 0, `udp: Too many components for option "--source-port" (max: 2)`},
		{"4:3", 0, 0, `invalid portrange (min > max)`},
	} {
		lo, hi, err := xoParsePortRC("udp", "source-port", c.in)
		if c.wantErr != "" {
			if err == nil || err.Error() != c.wantErr {
				t.Errorf("%q: got %d,%d err %v, want error %q", c.in, lo, hi, err, c.wantErr)
			}
			continue
		}
		if err != nil || lo != c.lo || hi != c.hi {
			t.Errorf("%q: got %d,%d err %v, want %d,%d", c.in, lo, hi, err, c.lo, c.hi)
		}
	}
}

func TestXoParseValMask(t *testing.T) {
	bad := `mark: bad integer value for option "--mark", or out of range.`
	garbage := `mark: trailing garbage after value for option "--mark".`
	for _, c := range []struct {
		in        string
		val, mask uint32
		wantErr   string
	}{
		{"0xfeedcafe/0xfeedcafe", 0xfeedcafe, 0xfeedcafe, ""},
		{"4294967295", 0xffffffff, 0xffffffff, ""},
		{"010", 8, 0xffffffff, ""},
		{"0/0", 0, 0, ""},
		{"4294967296", 0, 0, bad},
		{"-1", 0, 0, bad},
		{"1/", 0, 0, bad},
		{"/1", 0, 0, bad},
		{"1x", 0, 0, garbage},
		{"1/2x", 0, 0, garbage},
	} {
		v, m, err := xoParseValMask("mark", "mark", c.in)
		if c.wantErr != "" {
			if err == nil || err.Error() != c.wantErr {
				t.Errorf("%q: got %#x/%#x err %v, want error %q", c.in, v, m, err, c.wantErr)
			}
			continue
		}
		if err != nil || v != c.val || m != c.mask {
			t.Errorf("%q: got %#x/%#x err %v, want %#x/%#x", c.in, v, m, err, c.val, c.mask)
		}
	}
}

func TestXoParseHostMask(t *testing.T) {
	badMask := `conntrack: bad value for option "--ctorigsrc", neither a valid network mask nor valid CIDR (0-32).`
	for _, c := range []struct {
		in, want string // want: ADDR/MASKLEN
		wantErr  string
	}{
		{"198.18.0.5", "198.18.0.5/32", ""},
		{"198.18.0.5/16", "198.18.0.5/16", ""}, // host bits kept, as iptables saves them
		{"198.18.0.0/255.255.0.0", "198.18.0.0/16", ""},
		{"198.18.0.0/0x10", "198.18.0.0/16", ""},
		{"1.2.3.4/0", "1.2.3.4/0", ""},
		{"198.18.0.0/abc", "", badMask},
		{"198.18.0.0/", "", badMask},
		{"198.18.0.0/-1", "", badMask},
		{"198.18.0.0/33", "", badMask},
		{"198.18.0.1/255.255.0.255", "", badMask},
		{"foo.invalid", "", "host/network `foo.invalid' not found"},
	} {
		a, m, err := xoParseHostMask("conntrack", "ctorigsrc", c.in)
		if c.wantErr != "" {
			if err == nil || err.Error() != c.wantErr {
				t.Errorf("%q: got %v/%v err %v, want error %q", c.in, a, m, err, c.wantErr)
			}
			continue
		}
		if got := fmt.Sprintf("%v/%d", a, MaskLen(m)); err != nil || got != c.want {
			t.Errorf("%q: got %s err %v, want %s", c.in, got, err, c.want)
		}
	}
}

// TestXoErrorClasses checks that the messages iptables ends with a newline
// (an empty line before its "Try" hint) are marked so, and the others not.
func TestXoErrorClasses(t *testing.T) {
	for _, c := range []struct {
		err   error
		blank bool
	}{
		{xoMissing("mark", "mark"), true},
		{xoExclusive("ttl", ttlTableOrder, ttlIDOrder, map[string]bool{"ttl-eq": true, "ttl-gt": true}), true},
		{func() error { _, _, err := xoParseMint("length", "length", "x", 9); return err }(), true},
		{func() error { _, _, err := xoParsePortRC("udp", "source-port", "foo"); return err }(), true},
		{func() error { _, _, _, err := parseICMPType("echo"); return err }(), false},
	} {
		var e *grammar.Error
		if !errors.As(c.err, &e) {
			t.Errorf("%v: not a *grammar.Error", c.err)
			continue
		}
		if e.Code != grammar.ExitParameter || e.Blank != c.blank {
			t.Errorf("%q: code %d blank %v, want %d %v", e.Msg, e.Code, e.Blank, grammar.ExitParameter, c.blank)
		}
	}
}

func TestHostName(t *testing.T) {
	a, _ := ParseAddr("198.18.255.254")
	if got := HostName(a); got != "198.18.255.254" {
		t.Errorf("HostName(%v) = %q, want the number (no /etc/hosts entry)", a, got)
	}
}

// FuzzXoRoundTrip checks, for any rule the matches of this family accept,
// that its saved form loads again and saves the same, and that printing
// never panics. ICMP code ranges are left out: iptables saves only their
// lower end ("3/1:2" saves as "3/1"), and so does gofw.
func FuzzXoRoundTrip(f *testing.F) {
	for _, s := range []string{
		"-p udp --sport 53 --dport 67:68",
		"-p icmp --icmp-type 3/1",
		"-p tcp -m multiport ! --dports 1,2:3",
		"-m state --state NEW,est",
		"-m conntrack ! --ctstate NEW --ctexpire 10:20 --ctorigsrc 198.18.0.0/16 --ctorigsrcport 1000:2000 --ctdir REPLY",
		`-m comment --comment "a \"b\""`,
		"-m mark ! --mark 1/0xff -m connmark --mark 2",
		"-m iprange --src-range 1.1.1.1-1.1.1.10 ! --dst-range 198.18.0.1",
		"-m length --length :4 -m ttl ! --ttl-eq 3 -m pkttype --pkt-type bcast",
		"-m mac --mac-source 42:1:2:3:4:5 -m tos --tos Minimize-Cost -m dscp --dscp-class AF41",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rule string) {
		r, err := xoRun("filter", "INPUT", xoSplit(rule))
		if err != nil {
			return
		}
		for _, inst := range r.ms {
			if c, ok := inst.m.(*ICMP); ok && c.CodeMin != c.CodeMax && !c.fullCodes() {
				return
			}
		}
		r.print(false)
		r.print(true)
		saved := r.save()
		r2, err := xoRun("filter", "INPUT", xoSplit(saved))
		if err != nil {
			t.Fatalf("%q saves as %q, which does not load: %v", rule, saved, err)
		}
		if again := r2.save(); again != saved {
			t.Fatalf("%q saves as %q, which reloads as %q", rule, saved, again)
		}
	})
}
