package match

import (
	"fmt"
	"strings"
	"sync"
	"syscall"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/packet"
)

// limitInfo is the limit match (libxt_limit.c, xt_limit.c): a token bucket
// shared by every packet the rule sees.
var limitInfo = &Info{
	Name: "limit",
	Opts: []Opt{
		{Name: "limit", Arg: true},
		{Name: "limit-burst", Arg: true},
	},
	New: func() Match { return &Limit{Avg: limitDefaultAvg, Burst: 5} },
}

// XT_LIMIT_SCALE: a rate is stored as the cost of one packet in
// 1/10000ths of a second (xt_limit.h).
const limitScale = 10000

// limitDefaultAvg is libxt_limit's default "3/hour" in cost units.
const limitDefaultAvg = limitScale * 60 * 60 / 3

// limitCreditsPerSecond is the kernel's HZ * CREDITS_PER_JIFFY for
// xt_limit: CREDITS_PER_JIFFY is the largest power of two not above
// 0xFFFFFFFF / (HZ*60*60*24), and the product is 32000 for HZ 250 and
// HZ 1000 alike (128*250, 32*1000); 25600 for HZ 100 is the only common
// outlier. gofw counts credits per second with this value, so the overflow
// check and the bucket behave as on a 250 or 1000 Hz kernel.
const limitCreditsPerSecond = 32000

// limitCreditsPerJiffy is xt_limit's CREDITS_PER_JIFFY on the virtual
// 1000 Hz clock (jiffies.go): the largest power of two not above
// 0xFFFFFFFF / (HZ*60*60*24), so that one day of credit fits in 32 bits.
const limitCreditsPerJiffy = limitCreditsPerSecond / hz

// Limit is one limit match. Avg and Burst are struct xt_rateinfo's avg and
// burst: Avg is the cost of one packet in 1/10000 s (limitScale), so
// "--limit 5/sec" is 2000; Match turns them into credits exactly as
// xt_limit's user2credits does.
//
// The token bucket lives in the rule instance, as the kernel's
// xt_limit_priv lives in the rule's matchinfo: the ruleset shares a rule
// between snapshots, so the bucket survives edits of other rules (where
// the kernel, which rebuilds the whole table on any edit, refills every
// bucket of the table), and a rule parsed anew (a restore, a reload)
// starts full again as a new kernel rule does.
type Limit struct {
	Avg   uint32
	Burst uint32

	bucket limitBucket
}

// limitBucket is struct xt_limit_priv: credit and the jiffy of the last
// refill. The kernel updates it with cmpxchg; a mutex gives the same
// all-or-nothing update to gofw's workers without a retry loop.
type limitBucket struct {
	mu      sync.Mutex
	started bool
	prev    uint64 // jiffies of the last refill
	credit  uint32
}

// limitRate parses a rate as libxt_limit's parse_rate does: "N[/unit]",
// N read by atoi (so "3x/m" is 3/minute and a negative N wraps), unit any
// prefix of second, minute, hour or day. It returns the cost in limitScale
// units; ok is false for the "bad rate" cases.
func limitRate(s string) (cost uint32, ok bool, err error) {
	mult := uint64(1)
	if _, unit, found := strings.Cut(s, "/"); found {
		if unit == "" {
			return 0, false, nil
		}
		if mult, ok = rlUnitMult(unit); !ok {
			return 0, false, nil
		}
	}
	r := uint32(rlAtoi(s))
	if r == 0 {
		return 0, false, nil
	}
	cost = uint32(limitScale*mult) / r
	if cost == 0 {
		// The rate maps to infinity; 1/day is the slowest one can ask.
		return 0, false, grammar.Paramf("Rate too fast \"%s\"", s)
	}
	return cost, true, nil
}

// Parse implements Match.
func (l *Limit) Parse(a *Arg) error {
	switch a.Name {
	case "limit":
		cost, ok, err := limitRate(a.Value)
		if err != nil {
			return err
		}
		if !ok {
			// The stray quote is iptables' own.
			return grammar.Paramf("bad rate \"%s\"'", a.Value)
		}
		l.Avg = cost
	case "limit-burst":
		v, err := XtParseUint("limit", "limit-burst", a.Value, 0, 10000)
		if err != nil {
			return err
		}
		l.Burst = uint32(v)
	}
	return nil
}

// Final implements Match; limit has no cross-option rules.
func (l *Limit) Final(*Rule) error { return nil }

// limitCredits is xt_limit's user2credits: a cost in limitScale units as
// credits, dividing first where multiplying would overflow 32 bits.
func limitCredits(user uint32) uint32 {
	if user > 0xFFFFFFFF/limitCreditsPerSecond {
		return user / limitScale * limitCreditsPerSecond
	}
	return user * limitCreditsPerSecond / limitScale
}

// Match implements Matcher as xt_limit.c limit_mt does: credit grows by
// CREDITS_PER_JIFFY for every jiffy since the last packet (in 32 bits, as
// the kernel's u32 credit_increase, so the sum wraps after 2^32 credits of
// idling), is capped at avg*burst, and a packet matches when it can pay
// the cost of one packet. The bucket starts full, as limit_mt_check fills
// it; it starts counting at the first packet, which gives the same credit
// as the kernel's start at checkentry time since a full bucket stays full.
//
// Workers stamp p.Now independently, so a packet may carry a time a little
// before the last refill; it then refills nothing instead of wrapping the
// jiffy difference into a huge credit as a backwards jiffies would.
//
// Called for every packet; must not allocate.
func (l *Limit) Match(p *packet.Packet) bool {
	now := jiffies(p.Now)
	capacity := limitCredits(l.Avg * l.Burst)
	cost := limitCredits(l.Avg)
	b := &l.bucket
	b.mu.Lock()
	if !b.started {
		b.started, b.prev, b.credit = true, now, capacity
	}
	if timeAfter(now, b.prev) {
		b.credit += uint32((now - b.prev) * limitCreditsPerJiffy)
		b.prev = now
	}
	if b.credit > capacity {
		b.credit = capacity
	}
	ok := b.credit >= cost
	if ok {
		b.credit -= cost
	}
	b.mu.Unlock()
	return ok
}

// Check implements Checker with xt_limit's limit_mt_check: a burst of 0, or
// one whose credit total (avg*burst, in 32 bits) overflows, is refused with
// ERANGE.
func (l *Limit) Check(*Where) error {
	if l.Burst == 0 || limitCredits(l.Avg*l.Burst) < limitCredits(l.Avg) {
		return &KernelError{
			Msg:   fmt.Sprintf("xt_limit: Overflow, try lower: %d/%d", l.Avg, l.Burst),
			Errno: syscall.ERANGE,
		}
	}
	return nil
}

// limitRates is libxt_limit's rates table, longest period first.
var limitRates = []struct {
	name string
	mult uint32
}{
	{"day", limitScale * 24 * 60 * 60},
	{"hour", limitScale * 60 * 60},
	{"min", limitScale * 60},
	{"sec", limitScale},
}

// printLimitRate appends " N/unit" as libxt_limit's print_rate does: the
// longest unit for which the count is not dominated by the remainder, so
// "1/hour" may come back as another unit when the cost does not divide.
func printLimitRate(b *strings.Builder, period uint32) {
	if period == 0 {
		b.WriteString(" inf")
		return
	}
	i := 1
	for ; i < len(limitRates); i++ {
		m := limitRates[i].mult
		if period > m || m/period < m%period {
			break
		}
	}
	fmt.Fprintf(b, " %d/%s", limitRates[i-1].mult/period, limitRates[i-1].name)
}

// Save implements Match; the default burst of 5 is left out.
func (l *Limit) Save(b *strings.Builder) {
	b.WriteString(" --limit")
	printLimitRate(b, l.Avg)
	if l.Burst != 5 {
		fmt.Fprintf(b, " --limit-burst %d", l.Burst)
	}
}

// Print implements Match.
func (l *Limit) Print(b *strings.Builder, numeric bool) {
	b.WriteString(" limit: avg")
	printLimitRate(b, l.Avg)
	fmt.Fprintf(b, " burst %d", l.Burst)
}
