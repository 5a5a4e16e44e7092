package match

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gofw/gofw/grammar"
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
type Statistic struct {
	Mode        uint8
	Invert      bool
	Probability uint32
	Every       uint32
	Packet      uint32

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
	return XtFcheck("statistic", statisticRules, s.seen)
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
