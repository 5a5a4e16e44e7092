package match

import (
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gofw/gofw/packet"
)

var limitRows = []rlRow{
	// libxt_limit.t
	{rule: "-m limit --limit 1/sec", save: "=", print: " limit: avg 1/sec burst 5"},
	{rule: "-m limit --limit 1/min", save: "=", print: " limit: avg 1/min burst 5"},
	{rule: "-m limit --limit 1000/hour", save: "=", print: " limit: avg 1000/hour burst 5"},
	{rule: "-m limit --limit 1000/day", save: "=", print: " limit: avg 1000/day burst 5"},
	{rule: "-m limit --limit 1/sec --limit-burst 1", save: "=", print: " limit: avg 1/sec burst 1"},
	{chain: "FORWARD", rule: "-m limit --limit 1/sec --limit-burst 1", save: "=", print: " limit: avg 1/sec burst 1"},
	{chain: "OUTPUT", rule: "-m limit --limit 1/sec --limit-burst 1", save: "=", print: " limit: avg 1/sec burst 1"},

	// Defaults: 3/hour, burst 5 (left out of the save form).
	{rule: "-m limit", save: "-m limit --limit 3/hour", print: " limit: avg 3/hour burst 5"},
	{rule: "-m limit --limit-burst 5", save: "-m limit --limit 3/hour", print: " limit: avg 3/hour burst 5"},
	// No unit is per second; units are any prefix of second, minute,
	// hour, day in any case; the number is read by atoi.
	{rule: "-m limit --limit 3", save: "-m limit --limit 3/sec", print: " limit: avg 3/sec burst 5"},
	{rule: "-m limit --limit 1/s", save: "-m limit --limit 1/sec", print: " limit: avg 1/sec burst 5"},
	{rule: "-m limit --limit 3/m", save: "-m limit --limit 3/min", print: " limit: avg 3/min burst 5"},
	{rule: "-m limit --limit 3/MIN", save: "-m limit --limit 3/min", print: " limit: avg 3/min burst 5"},
	{rule: "-m limit --limit 1/h", save: "-m limit --limit 1/hour", print: " limit: avg 1/hour burst 5"},
	{rule: "-m limit --limit 3x/m", save: "-m limit --limit 3/min", print: " limit: avg 3/min burst 5"},
	{rule: "-m limit --limit 4294967297/sec", save: "-m limit --limit 1/sec", print: " limit: avg 1/sec burst 5"},
	// The rate is printed back from the stored cost.
	{rule: "-m limit --limit 7/hour", save: "=", print: " limit: avg 7/hour burst 5"},
	{rule: "-m limit --limit 2/day", save: "=", print: " limit: avg 2/day burst 5"},
	{rule: "-m limit --limit 100000/day", save: "=", print: " limit: avg 100000/day burst 5"},
	{rule: "-m limit --limit 61/min", save: "=", print: " limit: avg 61/min burst 5"},
	{rule: "-m limit --limit 3601/hour", save: "=", print: " limit: avg 3601/hour burst 5"},
	{rule: "-m limit --limit 7/sec", save: "=", print: " limit: avg 7/sec burst 5"},
	{rule: "-m limit --limit 1440/day", save: "-m limit --limit 1/min", print: " limit: avg 1/min burst 5"},
	{rule: "-m limit --limit 10000/sec", save: "=", print: " limit: avg 10000/sec burst 5"},
	{rule: "-m limit --limit 6000/sec", save: "-m limit --limit 10000/sec", print: " limit: avg 10000/sec burst 5"},
	{rule: "-m limit --limit 3000/sec", save: "-m limit --limit 3333/sec", print: " limit: avg 3333/sec burst 5"},
	{rule: "-m limit --limit 1/sec --limit-burst 0x10", save: "-m limit --limit 1/sec --limit-burst 16", print: " limit: avg 1/sec burst 16"},
	{rule: "-m limit --limit 1/sec --limit-burst 10000", save: "=", print: " limit: avg 1/sec burst 10000"},

	// Parameter problems.
	{rule: "-m limit --limit 10001/sec", err: `Rate too fast "10001/sec"`},
	{rule: "-m limit --limit -3/sec", err: `Rate too fast "-3/sec"`},
	{rule: "-m limit --limit 99999999999/sec", err: `Rate too fast "99999999999/sec"`},
	{rule: "-m limit --limit 0/sec", err: `bad rate "0/sec"'`},
	{rule: "-m limit --limit 1/", err: `bad rate "1/"'`},
	{rule: "-m limit --limit 1/seconds", err: `bad rate "1/seconds"'`},
	{rule: "-m limit --limit 1/week", err: `bad rate "1/week"'`},
	{rule: "-m limit --limit x", err: `bad rate "x"'`},
	{rule: "-m limit --limit-burst 10001", err: "limit: bad value for option \"--limit-burst\", or out of range (0-10000).\n"},
	{rule: "-m limit --limit-burst -1", err: "limit: bad value for option \"--limit-burst\", or out of range (0-10000).\n"},
	{rule: "-m limit --limit-burst x", err: "limit: bad value for option \"--limit-burst\", or out of range (0-10000).\n"},

	// xt_limit's checkentry: a zero burst, or avg*burst past 32 bits.
	{rule: "-m limit --limit-burst 0", err: "xt_limit: Overflow, try lower: 12000000/0", errno: syscall.ERANGE},
	{rule: "-m limit --limit 1/d", err: "xt_limit: Overflow, try lower: 864000000/5", errno: syscall.ERANGE},
	{rule: "-m limit --limit 1/day --limit-burst 3", save: "=", print: " limit: avg 1/day burst 3"},
	{rule: "-m limit --limit 1/day --limit-burst 4", err: "xt_limit: Overflow, try lower: 864000000/4", errno: syscall.ERANGE},
	{rule: "-m limit --limit 1/day --limit-burst 10000", err: "xt_limit: Overflow, try lower: 864000000/10000", errno: syscall.ERANGE},
	{rule: "-m limit --limit 1/hour --limit-burst 10000", save: "=", print: " limit: avg 1/hour burst 10000"},
	{rule: "-m limit --limit 1/min --limit-burst 7158", save: "=", print: " limit: avg 1/min burst 7158"},
	{rule: "-m limit --limit 1/min --limit-burst 7159", err: "xt_limit: Overflow, try lower: 600000/7159", errno: syscall.ERANGE},
}

func TestLimit(t *testing.T) { rlRun(t, limitRows) }

func TestLimitOracle(t *testing.T) { rlOracle(t, limitRows) }

// TestLimitCost checks the stored cost: 1/10000 s per packet, the unit of
// xt_limit's struct xt_rateinfo, which the engine's token bucket uses.
func TestLimitCost(t *testing.T) {
	for _, c := range []struct {
		rate string
		avg  uint32
	}{
		{"1/sec", 10000}, {"5/sec", 2000}, {"3/hour", 12000000}, {"1/day", 864000000},
		{"10000/sec", 1}, {"3/min", 200000}, {"7/hour", 5142857},
	} {
		l := limitInfo.New().(*Limit)
		if err := l.Parse(&Arg{Name: "limit", Value: c.rate}); err != nil || l.Avg != c.avg {
			t.Errorf("--limit %s: avg %d, %v; want %d", c.rate, l.Avg, err, c.avg)
		}
	}
}

// stStep sends n packets at stEpoch+at and expects want of them to match.
type stStep struct {
	at   time.Duration
	n    int
	want int
}

// runSteps drives m through steps with packets made by mk, reporting the
// first step whose count of matches differs.
func runSteps(t *testing.T, name string, m Matcher, mk func() *packet.Packet, steps []stStep) {
	t.Helper()
	for i, s := range steps {
		got := 0
		for range s.n {
			if m.Match(at(mk(), stEpoch+s.at)) {
				got++
			}
		}
		if got != s.want {
			t.Errorf("%s: step %d (%d packets at +%v): %d matched, want %d", name, i, s.n, s.at, got, s.want)
			return
		}
	}
}

// TestLimitMatch drives xt_limit's token bucket: the burst is available at
// once, credit comes back at the rate in whole jiffies and never beyond the
// burst.
func TestLimitMatch(t *testing.T) {
	for _, c := range []struct {
		rule  string
		steps []stStep
	}{
		// 1/sec, burst 5: five at once, then one a second; an hour of
		// idling refills five, not 3600.
		{"--limit 1/sec", []stStep{{0, 7, 5}, {999 * time.Millisecond, 1, 0}, {time.Second, 2, 1}, {3 * time.Second, 3, 2}, {time.Hour, 10, 5}}},
		// 5/sec, burst 1: a packet costs 6400 credits, 200 jiffies.
		{"--limit 5/sec --limit-burst 1", []stStep{{0, 2, 1}, {199 * time.Millisecond, 1, 0}, {200 * time.Millisecond, 1, 1}, {time.Second, 5, 1}}},
		// 3/min, burst 2: user2credits divides first (cost 640000).
		{"--limit 3/min --limit-burst 2", []stStep{{0, 3, 2}, {19999 * time.Millisecond, 1, 0}, {20 * time.Second, 1, 1}, {20 * time.Second, 1, 0}}},
		// 3/hour (the default), burst 1: one every 20 minutes.
		{"--limit-burst 1", []stStep{{0, 2, 1}, {20*time.Minute - time.Millisecond, 1, 0}, {20 * time.Minute, 1, 1}}},
		// 10000/sec costs 3 credits; a jiffy brings 32, capped at 3 for
		// burst 1: the kernel at 1000 Hz passes one packet a jiffy.
		{"--limit 10000/sec --limit-burst 1", []stStep{{0, 2, 1}, {time.Millisecond, 2, 1}, {10 * time.Millisecond, 5, 1}}},
		{"--limit 10000/sec --limit-burst 5", []stStep{{0, 9, 5}, {time.Millisecond, 9, 5}}},
		// A packet stamped before the last refill (another worker's
		// clock) gains nothing and does not move the refill time back.
		{"--limit 1/sec", []stStep{{0, 5, 5}, {2 * time.Second, 1, 1}, {time.Second, 2, 1}, {2 * time.Second, 1, 0}, {3 * time.Second, 1, 1}}},
	} {
		m := stMatch(t, &Env{}, "-m limit "+c.rule)
		runSteps(t, c.rule, m, func() *packet.Packet { return stUDP(t, "198.18.0.1", 1000, "198.18.0.2", 53, nil) }, c.steps)
	}
}

// TestLimitAllocs: the hot path allocates nothing.
func TestLimitAllocs(t *testing.T) {
	m := stMatch(t, &Env{}, "-m limit --limit 100/sec")
	p := stUDP(t, "198.18.0.1", 1000, "198.18.0.2", 53, nil)
	var now time.Duration
	if n := testing.AllocsPerRun(1000, func() {
		now += time.Millisecond
		m.Match(at(p, stEpoch+now))
	}); n != 0 {
		t.Errorf("Match allocates %v times per packet", n)
	}
}

// TestLimitConcurrent: workers racing on one bucket never pass more than
// the credit allows (run with -race).
func TestLimitConcurrent(t *testing.T) {
	m := stMatch(t, &Env{}, "-m limit --limit 1/sec --limit-burst 50")
	const workers, per = 8, 200
	var passed atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		p := stUDP(t, "198.18.0.1", uint16(1000+w), "198.18.0.2", 53, nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				// Ten seconds of packets, interleaved across workers.
				if m.Match(at(p, stEpoch+time.Duration(i)*50*time.Millisecond)) {
					passed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	// 50 at once plus one a second for the 10 s the packets span; jitter
	// between workers can only lose credit, never make it.
	if got := passed.Load(); got < 50 || got > 60 {
		t.Errorf("%d packets passed, want 50..60", got)
	}
}
