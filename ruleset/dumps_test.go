package ruleset

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Dumps from iptables' own shell tests (../shared/conformance/
// iptables-shell-dumps): restored, then saved table by table in the order
// the dump has them, they must come back as they were, comment lines aside.
func TestDumpRoundTrip(t *testing.T) {
	dir := filepath.Join(conformanceDir, "iptables-shell-dumps")
	for _, tc := range []struct {
		file     string
		counters bool
	}{
		{"ipt-save/ipt-save-filter.txt", false},
		{"ipt-save/policy-drop.txt", false},
		{"ipt-save/wireless.txt", false},
		{"ipt-save/fedora27-iptables", true},
		{"firewalld-restore/ipt-save-completed.txt", false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			rs, err := Restore(New(), strings.NewReader(string(b)), RestoreOptions{Counters: tc.counters}, &out)
			if err != nil {
				t.Fatalf("restore: %v", err)
			}
			var want, got strings.Builder
			for _, l := range strings.SplitAfter(string(b), "\n") {
				if strings.HasPrefix(l, "*") {
					if _, err := Save(rs, &got, l[1:len(l)-1], tc.counters, time.Time{}); err != nil {
						t.Fatal(err)
					}
				}
				if l != "" && !strings.HasPrefix(l, "#") {
					want.WriteString(l)
				}
			}
			if g := dropComments(got.String()); g != want.String() {
				t.Errorf("save after restore differs:\n%s", lineDiff(want.String(), g))
			}
		})
	}
}

// iptables.dump is a load test: all of it, and each table alone with -T.
func TestDumpLoad(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(conformanceDir, "iptables-shell-dumps/ipt-restore/iptables.dump"))
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"", "filter", "mangle", "raw", "nat"} {
		var out strings.Builder
		rs, err := Restore(New(), strings.NewReader(string(b)), RestoreOptions{Table: table}, &out)
		if err != nil {
			t.Fatalf("-T %q: %v", table, err)
		}
		if table != "" && len(rs.Tables()) != 1 {
			t.Errorf("-T %s loaded %d tables", table, len(rs.Tables()))
		}
	}
}

func dropComments(s string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			b.WriteString(l)
		}
	}
	return b.String()
}

// lineDiff shows the first lines where want and got part.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, c string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			c = g[i]
		}
		if a != c && shown < 10 {
			b.WriteString("line " + itoa(uint64(i+1)) + ":\n  want " + a + "\n  got  " + c + "\n")
			shown++
		}
	}
	return b.String()
}
