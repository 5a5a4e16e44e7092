package ruleset

import (
	"strings"
	"testing"

	"github.com/gofw/gofw/bench/gen"
)

// benchRestore restores the n-rule ruleset of bench/gen, the text
// bench/restore.sh hands to gofw-restore and iptables-legacy-restore, into
// an empty ruleset: parsing, building, validating and publishing the
// table, without the control socket.
func benchRestore(b *testing.B, n int) {
	var text strings.Builder
	if err := gen.Ruleset(&text, n); err != nil {
		b.Fatal(err)
	}
	in := text.String()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		var out strings.Builder
		rs, err := Restore(New(), strings.NewReader(in), RestoreOptions{}, &out)
		if err != nil {
			b.Fatal(err)
		}
		if tb, _ := rs.Table("filter"); tb == nil {
			b.Fatal("no filter table")
		}
	}
}

func BenchmarkRestore10k(b *testing.B)  { benchRestore(b, 10000) }
func BenchmarkRestore100k(b *testing.B) { benchRestore(b, 100000) }
