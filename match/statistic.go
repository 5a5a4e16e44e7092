package match

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/packet"
)

// statisticInfo is the statistic match (libxt_statistic.c, xt_statistic.c):
// a random share of packets, or every nth. kube-proxy balances services
// with "--mode random --probability".
var statisticInfo = &Info{
	Name: "statistic",
	Opts: []Opt{
		{Name: "mode", Arg: true},
		{Name: "probability", Arg: true, Inv: true},
		{Name: "every", Arg: true, Inv: true},
		{Name: "packet", Arg: true},
	},
	New: func() Match { return &Statistic{seen: map[string]bool{}} },
}

// Statistic modes, as XT_STATISTIC_MODE_*.
const (
	StatisticRandom = 0
	StatisticNth    = 1
)

// Statistic is one statistic match, in the kernel's representation:
// Probability is out of 2^31 (compared with a 31-bit random number), Every
// is n-1.
//
// Its counter and random state live in the rule instance, as the kernel's
// xt_statistic_priv does, so they survive edits of other rules (the
// ruleset shares rules between snapshots) and start afresh for a rule
// parsed anew.
type Statistic struct {
	Mode        uint8
	Invert      bool
	Probability uint32
	Every       uint32
	Packet      uint32

	// count is master->count: the position in the cycle of n packets,
	// starting at n-1-p (libxt_statistic's u.nth.count) so that the
	// packets numbered p, p+n, p+2n... (from 0) match.
	count atomic.Uint32
	// rng is the state of a SplitMix64 generator, advanced with one atomic
	// add per packet: lock-free, allocation-free and safe for every
	// worker at once, where the kernel reads its per-CPU get_random_u32.
	rng atomic.Uint64

	seen map[string]bool
}

// Parse implements Match.
func (s *Statistic) Parse(a *Arg) error {
	s.seen[a.Name] = true
	switch a.Name {
	case "mode":
		switch a.Value {
		case "random":
			s.Mode = StatisticRandom
		case "nth":
			s.Mode = StatisticNth
		default:
			return grammar.Paramf("Bad mode \"%s\"", a.Value)
		}
	case "probability":
		p, err := strconv.ParseFloat(strings.TrimSpace(a.Value), 64)
		if err != nil || math.IsNaN(p) || p < 0 || p > 1 {
			return grammar.ParamNLf("statistic: bad value for option \"--probability\", or out of range (0-1).")
		}
		// As libxt_statistic: the share of 2^31, rounded.
		s.Probability = uint32(math.Round(0x80000000 * p))
		s.Invert = s.Invert || a.Inv
	case "every":
		v, err := XtParseUint("statistic", "every", a.Value, 1, math.MaxUint32)
		if err != nil {
			return err
		}
		s.Every = uint32(v) - 1
		s.Invert = s.Invert || a.Inv
	case "packet":
		v, err := XtParseUint("statistic", "packet", a.Value, 0, math.MaxUint32)
		if err != nil {
			return err
		}
		s.Packet = uint32(v)
	}
	return nil
}

// statisticRules is libxt_statistic's option table as fcheck sees it.
var statisticRules = []XtOptRule{
	{Name: "mode", Mand: true},
	{Name: "probability", Excl: []string{"every", "packet"}},
	{Name: "every", Excl: []string{"probability"}, Also: []string{"packet"}},
	{Name: "packet", Excl: []string{"probability"}, Also: []string{"every"}},
}

// Final implements Match: statistic_check, then the option table's checks.
func (s *Statistic) Final(*Rule) error {
	if s.Mode == StatisticRandom && !s.seen["probability"] {
		return grammar.Paramf("--probability must be specified when using random mode")
	}
	if s.Mode == StatisticNth && !s.seen["every"] && !s.seen["packet"] {
		return grammar.Paramf("--every and --packet must be specified when using nth mode")
	}
	if s.Packet > s.Every {
		return grammar.Paramf("the --packet p must be 0 <= p <= n-1")
	}
	if err := XtFcheck("statistic", statisticRules, s.seen); err != nil {
		return err
	}
	// statistic_mt_check sets master->count from libxt_statistic's
	// u.nth.count, every - packet.
	s.count.Store(s.Every - s.Packet)
	s.rng.Store(rand.Uint64())
	return nil
}

// splitmix64Gamma is SplitMix64's increment (2^64 over the golden ratio).
const splitmix64Gamma = 0x9e3779b97f4a7c15

// random32 returns 32 random bits from the rule's SplitMix64 stream.
func (s *Statistic) random32() uint32 {
	z := s.rng.Add(splitmix64Gamma)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return uint32((z ^ z>>31) >> 32)
}

// Match implements Matcher as xt_statistic.c statistic_mt does. Random
// mode compares 31 random bits with the probability (so 1.0, stored as
// 2^31, always matches and 0 never does). Nth mode steps the counter with
// a compare-and-swap loop, as the kernel's atomic_cmpxchg: it wraps to 0
// after n-1, and the packet that brings it to 0 matches.
//
// Called for every packet; must not allocate.
func (s *Statistic) Match(p *packet.Packet) bool {
	hit := false
	switch s.Mode {
	case StatisticRandom:
		hit = s.random32()&0x7FFFFFFF < s.Probability
	case StatisticNth:
		for {
			o := s.count.Load()
			n := o + 1
			if o == s.Every {
				n = 0
			}
			if s.count.CompareAndSwap(o, n) {
				hit = n == 0
				break
			}
		}
	}
	return hit != s.Invert
}

func (s *Statistic) text(b *strings.Builder, dash string) {
	inv := ""
	if s.Invert {
		inv = " !"
	}
	if s.Mode == StatisticRandom {
		fmt.Fprintf(b, " %smode random%s %sprobability %.11f", dash, inv, dash, float64(s.Probability)/0x80000000)
		return
	}
	fmt.Fprintf(b, " %smode nth%s %severy %d %spacket %d", dash, inv, dash, uint64(s.Every)+1, dash, s.Packet)
}

// Save implements Match.
func (s *Statistic) Save(b *strings.Builder) { s.text(b, "--") }

// Print implements Match.
func (s *Statistic) Print(b *strings.Builder, numeric bool) {
	b.WriteString(" statistic")
	s.text(b, "")
}
