package match

import (
	"strings"
	"testing"
)

// Rows checked against iptables-legacy 1.8.9: what -S and -L -n print, or
// the error it gives.
func TestStatistic(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		save, list string
		err        string
	}{
		{args: []string{"--mode", "random", "--probability", "0.33333333333"},
			save: " --mode random --probability 0.33333333349", list: " statistic mode random probability 0.33333333349"},
		{args: []string{"--mode", "random", "!", "--probability", "0.5"},
			save: " --mode random ! --probability 0.50000000000", list: " statistic mode random ! probability 0.50000000000"},
		{args: []string{"--mode", "nth", "!", "--every", "3", "--packet", "2"},
			save: " --mode nth ! --every 3 --packet 2", list: " statistic mode nth ! every 3 packet 2"},
		{args: []string{"--mode", "random", "--probability", "0"}, save: " --mode random --probability 0.00000000000"},
		{args: []string{"--mode", "random", "--probability", "1"}, save: " --mode random --probability 1.00000000000"},
		{args: []string{"--mode", "random", "--probability", "0.5e0"}, save: " --mode random --probability 0.50000000000"},
		{args: []string{"--mode", "nth", "--every", "3"}, err: `statistic: option "--every" also requires "--packet".`},
		{args: []string{"--mode", "nth", "--every", "3", "--packet", "3"}, err: "the --packet p must be 0 <= p <= n-1"},
		{args: []string{"--mode", "random"}, err: "--probability must be specified when using random mode"},
		{args: []string{"--probability", "0.5"}, err: `statistic: option "--mode" must be specified`},
		{args: []string{"--mode", "random", "--probability", "1.5"}, err: `statistic: bad value for option "--probability", or out of range (0-1).`},
		{args: []string{"--mode", "random", "--probability", "abc"}, err: `statistic: bad value for option "--probability", or out of range (0-1).`},
		{args: []string{"--mode", "foo"}, err: `Bad mode "foo"`},
		{args: []string{"--mode", "nth", "--every", "0"}, err: `statistic: bad value for option "--every", or out of range (1-4294967295).`},
		{args: []string{"--mode", "nth", "--every", "4294967296"}, err: `statistic: bad value for option "--every", or out of range (1-4294967295).`},
		{args: []string{"--mode", "nth", "--every", "2", "--probability", "0.1"}, err: `statistic: option "--probability" cannot be used together with "--every".`},
		{args: []string{"--mode", "nth", "--packet", "1"}, err: "the --packet p must be 0 <= p <= n-1"},
	} {
		m := statisticInfo.New()
		var err error
		inv := false
		for i := 0; i < len(tc.args) && err == nil; i++ {
			if tc.args[i] == "!" {
				inv = true
				continue
			}
			a := &Arg{Name: strings.TrimPrefix(tc.args[i], "--"), Inv: inv}
			inv = false
			if a.Name != "mode" && a.Name != "probability" && a.Name != "every" && a.Name != "packet" {
				t.Fatalf("%v: bad row", tc.args)
			}
			i++
			a.Value = tc.args[i]
			err = m.Parse(a)
		}
		if err == nil {
			err = m.Final(&Rule{})
		}
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%v: error %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		var s, l strings.Builder
		m.Save(&s)
		m.Print(&l, true)
		if s.String() != tc.save {
			t.Errorf("%v: save %q, want %q", tc.args, s.String(), tc.save)
		}
		if tc.list != "" && l.String() != tc.list {
			t.Errorf("%v: -L %q, want %q", tc.args, l.String(), tc.list)
		}
	}
}
