package match

import (
	"syscall"
	"testing"
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
