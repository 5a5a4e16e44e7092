package ruleset

import (
	"strings"
	"testing"

	"github.com/gofw/gofw/target"
)

// TestTraceNATNoPortNote: a connection SNAT finds no free port for is
// dropped when its entry fails to insert, and the trace says so, not that
// the table is full (found by the kernel differential, nat-ranges: the
// kernel drops it too, counting drop and insert_failed).
func TestTraceNATNoPortNote(t *testing.T) {
	rules := `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -o eth0 -p udp -j SNAT --to-source 198.18.0.1:2000
COMMIT
`
	_, res := traceRun(t, traceHost, rules, `udp 198.18.1.2:2000 > 198.18.0.2:53 len=10
udp 198.18.1.3:2000 > 198.18.0.2:53 len=10
`)
	if len(res) != 2 {
		t.Fatalf("%d results", len(res))
	}
	if res[0].Verdict != target.Accept {
		t.Errorf("first: %v, want ACCEPT", res[0].Verdict)
	}
	r := res[1]
	notes := strings.Join(r.Notes, "\n")
	if r.Verdict != target.Drop || r.By != "conntrack" || !strings.Contains(notes, "insert failed") || strings.Contains(notes, "table full") {
		t.Errorf("second: %v by %q, notes:\n%s\nwant DROP by conntrack, insert failed and no table full", r.Verdict, r.By, notes)
	}
}
