package ruleset

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gofw/gofw/grammar"
)

// The upstream iptables per-extension tests (.t files), read from
// ../shared/conformance as CI places it beside the checkout. Their format is
// described in ../shared/conformance/README.md.
const conformanceDir = "../../shared/conformance"

// tLine is one test line of a .t file, with the chains and table in force.
type tLine struct {
	file     string
	line     int
	rule     string
	expected string
	result   string // OK, FAIL or NOMATCH, variant resolved for LEGACY
	chains   []string
	table    string
}

func readT(t *testing.T, path string) []tLine {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []tLine
	var chains []string
	table := ""
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		s := sc.Text()
		if strings.TrimSpace(s) == "" {
			continue
		}
		switch s[0] {
		case '#', '@', '%':
			continue
		case ':':
			chains = strings.Split(s[1:], ",")
			continue
		case '*':
			table = s[1:]
			continue
		}
		fs := strings.Split(s, ";")
		if len(fs) < 3 {
			t.Fatalf("%s:%d: broken test line", path, n)
		}
		res := strings.TrimSpace(fs[2])
		if len(fs) > 3 {
			// Variant lines: field 3 applies to the backend named in
			// field 4, else field 5, else field 3 inverted.
			switch {
			case strings.TrimSpace(fs[3]) == "LEGACY":
			case len(fs) > 4 && strings.TrimSpace(fs[4]) != "":
				res = strings.TrimSpace(fs[4])
				if res != "OK" && res != "FAIL" {
					res = "NOMATCH"
				}
			default:
				res = map[string]string{"OK": "FAIL", "FAIL": "OK", "NOMATCH": "OK"}[res]
			}
		}
		exp := fs[1]
		if exp == "=" {
			exp = fs[0]
		}
		out = append(out, tLine{file: filepath.Base(path), line: n, rule: fs[0], expected: exp, result: res, chains: chains, table: table})
	}
	return out
}

// skips lists the .t lines gofw deliberately does not pass, with the reason;
// every entry must be a line that really fails, so the list cannot go stale.
func readSkips(t *testing.T) map[string]string {
	f, err := os.Open("testdata/conformance-skips.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		s := sc.Text()
		if s == "" || s[0] == '#' {
			continue
		}
		k, why, _ := strings.Cut(s, " ")
		m[k] = strings.TrimSpace(why)
	}
	return m
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if e, ok := err.(*grammar.Error); ok {
		return e.Code
	}
	return 1
}

func run(t *testing.T, rs *Ruleset, args ...string) (*Ruleset, string, error) {
	t.Helper()
	return Run(rs, args)
}

// stripCounters removes "-c X" or "-c X Y" from a rule's words, as upstream
// does before deleting.
func stripCounters(w []string) []string {
	var out []string
	for i := 0; i < len(w); i++ {
		if w[i] == "-c" || w[i] == "--set-counters" {
			if i+1 < len(w) && strings.Contains(w[i+1], ",") {
				i++
			} else {
				i += 2
			}
			continue
		}
		out = append(out, w[i])
	}
	return out
}

// checkLine runs one .t line for one chain and returns what went wrong.
func checkLine(t *testing.T, tl tLine, chain string) string {
	words := grammar.SplitRestoreLine(tl.rule)
	pre := []string{"-A", chain}
	if tl.table != "" {
		pre = append(pre, "-t", tl.table)
	}
	rs, _, err := run(t, New(), append(pre, words...)...)
	code := exitCode(err)
	if tl.result == "FAIL" {
		if code == 0 {
			return "should fail, was accepted"
		}
		return ""
	}
	if code != 0 {
		return "rejected: " + err.Error()
	}
	table := tl.table
	if table == "" {
		table = "filter"
	}
	_, s, err := run(t, rs, "-t", table, "-S", chain)
	if err != nil {
		return "-S: " + err.Error()
	}
	want := "-A " + chain + " " + tl.expected
	var got []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "-A ") {
			got = append(got, l)
		}
	}
	found := len(got) == 1 && got[0] == want
	if tl.result == "OK" && !found {
		return "printed " + strings.Join(got, " | ") + ", want " + want
	}
	if tl.result == "NOMATCH" && found {
		return "printed " + want + ", which it must not"
	}
	var save strings.Builder
	tb, _ := rs.Table(table)
	tb.Save(&save, false, "gofw-save", time.Time{})
	if found != strings.Contains(save.String(), "\n"+want+"\n") {
		return "-S and save disagree"
	}
	del := append([]string{"-D", chain}, pre[2:]...)
	rs, _, err = run(t, rs, append(del, stripCounters(words)...)...)
	if err != nil {
		return "-D failed: " + err.Error()
	}
	tb, _ = rs.Table(table)
	if c, _ := tb.Chain(chain); len(c.Rules) != 0 {
		return "-D left the rule in place"
	}
	return ""
}

func TestConformance(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(conformanceDir, "iptables-t", "*.t"))
	if len(files) == 0 {
		t.Fatalf("no .t files in %s: the shared corpus must be beside the checkout", conformanceDir)
	}
	skips := readSkips(t)
	used := map[string]bool{}
	passed, total := 0, 0
	for _, path := range files {
		for _, tl := range readT(t, path) {
			key := tl.file + ":" + itoa(uint64(tl.line))
			total++
			var problems []string
			for _, ch := range tl.chains {
				if p := checkLine(t, tl, ch); p != "" {
					problems = append(problems, ch+": "+p)
				}
			}
			if why, skipped := skips[key]; skipped {
				used[key] = true
				if len(problems) == 0 {
					t.Errorf("%s passes but is listed in conformance-skips.txt (%s): remove it", key, why)
				}
				continue
			}
			if len(problems) > 0 {
				t.Errorf("%s %q: %s", key, tl.rule, strings.Join(problems, "; "))
				continue
			}
			passed++
		}
	}
	var stale []string
	for k := range skips {
		if !used[k] {
			stale = append(stale, k)
		}
	}
	sort.Strings(stale)
	for _, k := range stale {
		t.Errorf("conformance-skips.txt lists %s, which is not a test line", k)
	}
	t.Logf("%d of %d .t lines pass, %d skipped with a reason", passed, total, len(used))
}
