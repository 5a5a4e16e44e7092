package match

import (
	"math"
	"strings"
	"sync"
	"sync/atomic"
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

// TestStatisticNth: nth mode matches exactly the packets numbered p, p+n,
// p+2n... (from 0), as libxt_statistic's initial count every-packet and
// xt_statistic's wrapping counter make it; "!" matches the others.
func TestStatisticNth(t *testing.T) {
	for _, c := range []struct {
		rule string
		want string // one character per packet: x matched, . not
	}{
		{"--mode nth --every 3 --packet 0", "x..x..x..x.."},
		{"--mode nth --every 3 --packet 2", "..x..x..x..x"},
		{"--mode nth --every 3 --packet 1", ".x..x..x..x."},
		{"--mode nth ! --every 3 --packet 0", ".xx.xx.xx.xx"},
		{"--mode nth --every 1 --packet 0", "xxxxxxxxxxxx"},
		{"--mode nth --every 5 --packet 4", "....x....x.."},
	} {
		m := stMatch(t, &Env{}, "-m statistic "+c.rule)
		p := stUDP(t, "198.18.0.1", 1000, "198.18.0.2", 53, nil)
		got := make([]byte, len(c.want))
		for i := range got {
			got[i] = '.'
			if m.Match(p) {
				got[i] = 'x'
			}
		}
		if string(got) != c.want {
			t.Errorf("%s: %s, want %s", c.rule, got, c.want)
		}
	}
}

// TestStatisticRandom: with a fixed seed, the share of matching packets is
// within six standard deviations of the binomial mean (so a wrong
// threshold, a lost bit or a stuck generator fails), and the ends are
// exact: 0 never matches, 1 always does.
func TestStatisticRandom(t *testing.T) {
	const n = 100000
	for _, c := range []struct {
		rule string
		p    float64
	}{
		{"--mode random --probability 0.3", 0.3},
		{"--mode random --probability 0.5", 0.5},
		{"--mode random --probability 0.01", 0.01},
		{"--mode random ! --probability 0.25", 0.75},
		{"--mode random --probability 0", 0},
		{"--mode random --probability 1", 1},
		{"--mode random ! --probability 1", 0},
	} {
		m := stMatch(t, &Env{}, "-m statistic "+c.rule)
		m.(*Statistic).rng.Store(0x5eed)
		p := stUDP(t, "198.18.0.1", 1000, "198.18.0.2", 53, nil)
		hits := 0
		for range n {
			if m.Match(p) {
				hits++
			}
		}
		mean := n * c.p
		slack := 6 * math.Sqrt(n*c.p*(1-c.p))
		if float64(hits) < mean-slack || float64(hits) > mean+slack {
			t.Errorf("%s: %d of %d matched, want %.0f±%.0f", c.rule, hits, n, mean, slack)
		}
	}
}

// TestStatisticRandomSeeds: two rules get different streams (a rule per
// kube-proxy endpoint must not pick the same packets as its neighbour).
func TestStatisticRandomSeeds(t *testing.T) {
	a := stMatch(t, &Env{}, "-m statistic --mode random --probability 0.5")
	b := stMatch(t, &Env{}, "-m statistic --mode random --probability 0.5")
	p := stUDP(t, "198.18.0.1", 1000, "198.18.0.2", 53, nil)
	same := 0
	for range 1000 {
		if a.Match(p) == b.Match(p) {
			same++
		}
	}
	if same > 600 {
		t.Errorf("two rules agreed on %d of 1000 packets", same)
	}
}

// TestStatisticAllocs: both modes allocate nothing.
func TestStatisticAllocs(t *testing.T) {
	for _, rule := range []string{"--mode random --probability 0.5", "--mode nth --every 3 --packet 1"} {
		m := stMatch(t, &Env{}, "-m statistic "+rule)
		p := stUDP(t, "198.18.0.1", 1000, "198.18.0.2", 53, nil)
		if n := testing.AllocsPerRun(1000, func() { m.Match(p) }); n != 0 {
			t.Errorf("%s: Match allocates %v times per packet", rule, n)
		}
	}
}

// TestStatisticConcurrent: workers sharing an nth counter still match
// exactly one packet in n (run with -race).
func TestStatisticConcurrent(t *testing.T) {
	m := stMatch(t, &Env{}, "-m statistic --mode nth --every 7 --packet 0")
	const workers, per = 8, 7 * 500
	var hits atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		p := stUDP(t, "198.18.0.1", 1000, "198.18.0.2", 53, nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				if m.Match(p) {
					hits.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if got, want := hits.Load(), int64(workers*per/7); got != want {
		t.Errorf("%d matched, want %d", got, want)
	}
}
