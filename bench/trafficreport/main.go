// Command trafficreport reads what bench/traffic.sh measured and prints it.
//
//	trafficreport iperf tcp|udp FILE   the figure of one iperf3 -J run
//	trafficreport table [flags] FILE   the medians, ratios and goals; JSON
//
// An iperf3 figure is what the receiver got: bits/s for TCP, datagrams/s
// for UDP (sent less lost, over the receiver's time: what the iperf3
// server read, traffic.sh's udp-app). It prints 0 for a
// run that failed, so a broken path shows as a zero in the table rather
// than as a missing row.
//
// FILE for table holds one measurement a line, as traffic.sh appends them:
//
//	FIREWALL VARIANT RULES TEST RUN VALUE
//
// where VARIANT and RULES are "-" for the firewalls that do not load the
// ruleset (none and the C loop): their figures are set beside every
// ruleset's.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "iperf":
		if len(os.Args) != 4 {
			usage()
		}
		var v float64
		v, err = iperf(os.Args[2], os.Args[3])
		if err == nil {
			fmt.Printf("%.0f\n", v)
		}
	case "table":
		err = table(os.Args[2:], os.Stdout)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "trafficreport:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: trafficreport iperf tcp|udp FILE | trafficreport table [flags] FILE")
	os.Exit(2)
}

// iperfRun is the part of iperf3's -J output read here.
type iperfRun struct {
	Error string `json:"error"`
	End   struct {
		SumReceived struct {
			Seconds       float64 `json:"seconds"`
			BitsPerSecond float64 `json:"bits_per_second"`
			Packets       float64 `json:"packets"`
			LostPackets   float64 `json:"lost_packets"`
		} `json:"sum_received"`
	} `json:"end"`
}

// iperf returns the receiver's figure of one iperf3 -J run, 0 if it failed.
func iperf(proto, file string) (float64, error) {
	if proto != "tcp" && proto != "udp" {
		return 0, fmt.Errorf("iperf %s: want tcp or udp", proto)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	var r iperfRun
	if json.Unmarshal(b, &r) != nil || r.Error != "" {
		return 0, nil
	}
	s := r.End.SumReceived
	if proto == "tcp" {
		return s.BitsPerSecond, nil
	}
	if s.Seconds <= 0 {
		return 0, nil
	}
	return (s.Packets - s.LostPackets) / s.Seconds, nil
}

// Firewalls in the order of the table's columns.
var firewalls = []string{"none", "iptables", "nfq-full", "nfq-batch", "gofwd", "gofwd-fast"}

// tests says how each test's figure is shown.
var tests = map[string]struct {
	unit  string
	scale float64
	prec  int
}{
	"tcp1": {"Gbit/s", 1e9, 2},
	"tcp4": {"Gbit/s", 1e9, 2},
	"udp":  {"kpps", 1e3, 1},
	// udp-app is what the iperf3 server read in the udp test.
	"udp-app": {"kpps", 1e3, 1},
	"conn":    {"conn/s", 1, 0},
}

// key names one configuration's series.
type key struct {
	fw, variant string
	rules       int
	test        string
}

// ruleset is one generated INPUT chain.
type ruleset struct {
	variant string
	rules   int
}

// Result is one series in the JSON summary.
type Result struct {
	Firewall string    `json:"firewall"`
	Variant  string    `json:"variant,omitempty"`
	Rules    int       `json:"rules,omitempty"`
	Test     string    `json:"test"`
	Unit     string    `json:"unit"`
	Values   []float64 `json:"values"`
	Median   float64   `json:"median"`
}

// Ratio is gofwd's median over each peer's for one test and ruleset.
type Ratio struct {
	Test     string   `json:"test"`
	Variant  string   `json:"variant"`
	Rules    int      `json:"rules"`
	Iptables *float64 `json:"gofwd_over_iptables"`
	NfqFull  *float64 `json:"gofwd_over_nfq_full"`
	NfqBatch *float64 `json:"gofwd_over_nfq_batch"`
	None     *float64 `json:"gofwd_over_none"`
	// FastIptables is gofwd --fast-path's median over iptables-legacy's.
	FastIptables *float64 `json:"gofwd_fast_over_iptables,omitempty"`
}

// Goal is one row of issue 6's goals table that this benchmark measures.
type Goal struct {
	Figure string   `json:"figure"`
	Want   string   `json:"want"`
	Ratio  *float64 `json:"ratio"`
	Met    *bool    `json:"met"`
}

// Summary is bench/out/traffic.json.
type Summary struct {
	Date     string   `json:"date"`
	Commit   string   `json:"commit"`
	Machine  Machine  `json:"machine"`
	Knobs    Knobs    `json:"knobs"`
	Results  []Result `json:"results"`
	Ratios   []Ratio  `json:"ratios"`
	Goals    []Goal   `json:"goals"`
	Failures []string `json:"failures,omitempty"`
	// Units are the raw units of Values and Median, by test.
	Units map[string]string `json:"units"`
}

// Machine is what the figures were measured on.
type Machine struct {
	CPUs     int    `json:"nproc"`
	Model    string `json:"model_name"`
	Kernel   string `json:"kernel"`
	Iptables string `json:"iptables"`
	Go       string `json:"go"`
	Load     string `json:"loadavg_at_start"`
}

// Knobs are the settings of the run.
type Knobs struct {
	Duration  int    `json:"duration_s"`
	Runs      int    `json:"runs"`
	Queues    int    `json:"queues"`
	NfqDivert string `json:"nfq_divert"`
	// NfqRules is the iptables-restore input that diverted traffic to
	// the C loop.
	NfqRules    []string `json:"nfq_divert_rules,omitempty"`
	ConnWorkers int      `json:"conn_workers"`
	UDPSender   string   `json:"udp_sender"`
}

func table(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("table", flag.ContinueOnError)
	jsonOut := fs.String("json", "", "write the summary to `FILE`")
	var s Summary
	fs.StringVar(&s.Date, "date", "", "date of the run")
	fs.StringVar(&s.Commit, "commit", "", "git commit")
	fs.StringVar(&s.Machine.Kernel, "kernel", "", "uname -r")
	fs.StringVar(&s.Machine.Iptables, "iptables", "", "iptables-legacy --version")
	fs.StringVar(&s.Machine.Load, "load", "", "/proc/loadavg at start")
	fs.IntVar(&s.Knobs.Duration, "duration", 0, "seconds per measurement")
	fs.IntVar(&s.Knobs.Runs, "runs", 0, "rounds")
	fs.IntVar(&s.Knobs.Queues, "queues", 1, "NFQUEUE queues")
	fs.StringVar(&s.Knobs.NfqDivert, "divert", "", "hooks of the C loop")
	fs.IntVar(&s.Knobs.ConnWorkers, "workers", 0, "connrate workers")
	udpSender := fs.String("udp-sender", "udpflood", "the udp test's sender: udpflood or iperf3")
	failures := fs.String("failures", "", "`FILE` of failed measurements, one a line")
	divertRules := fs.String("divert-rules", "", "`FILE` holding the C loop's divert")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("table: want one results file")
	}
	switch *udpSender {
	case "iperf3":
		s.Knobs.UDPSender = "iperf3 -u -l 64 -b 0"
	case "udpflood":
		s.Knobs.UDPSender = "bench/udpflood, 64 datagrams of 64 bytes per sendmmsg"
	default:
		return fmt.Errorf("table: -udp-sender %q: want udpflood or iperf3", *udpSender)
	}
	s.Units = map[string]string{"tcp1": "bit/s received", "tcp4": "bit/s received",
		"udp": "datagrams/s past the firewall", "udp-app": "datagrams/s read by iperf3",
		"conn": "connections/s completed"}
	s.Machine.CPUs = runtime.NumCPU()
	s.Machine.Model = cpuModel()
	s.Machine.Go = runtime.Version()
	if *divertRules != "" {
		if b, err := os.ReadFile(*divertRules); err == nil {
			s.Knobs.NfqRules = strings.Split(strings.TrimSpace(string(b)), "\n")
		}
	}
	if *failures != "" {
		if b, err := os.ReadFile(*failures); err == nil {
			for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				if l != "" {
					s.Failures = append(s.Failures, l)
				}
			}
		}
	}

	series, order, rulesets, err := read(fs.Arg(0))
	if err != nil {
		return err
	}
	med := map[key]float64{}
	for _, k := range order {
		m := median(series[k])
		med[k] = m
		res := Result{Firewall: k.fw, Variant: k.variant, Rules: k.rules, Test: k.test,
			Unit: rawUnit(k.test), Values: series[k], Median: m}
		if res.Variant == "-" {
			res.Variant = "" // one figure for every ruleset
		}
		s.Results = append(s.Results, res)
	}
	// get is the median of fw for a test and ruleset; the firewalls
	// without a ruleset answer for every ruleset.
	get := func(fw, test string, r ruleset) (float64, bool) {
		k := key{fw, r.variant, r.rules, test}
		if fw == "none" || strings.HasPrefix(fw, "nfq-") {
			k = key{fw, "-", 0, test}
		}
		v, ok := med[k]
		return v, ok
	}
	ratioOf := func(fw, test string, r ruleset, peer string) *float64 {
		g, ok1 := get(fw, test, r)
		p, ok2 := get(peer, test, r)
		if !ok1 || !ok2 || p == 0 {
			return nil
		}
		v := math.Round(g/p*100) / 100
		return &v
	}
	ratio := func(test string, r ruleset, peer string) *float64 { return ratioOf("gofwd", test, r, peer) }

	fmt.Fprintf(out, "gofw traffic benchmark: %d x %s, kernel %s, %s; medians of %d alternating runs of %d s\n",
		s.Machine.CPUs, s.Machine.Model, s.Machine.Kernel, s.Machine.Iptables, s.Knobs.Runs, s.Knobs.Duration)
	fmt.Fprintf(out, "C loop diverted like %s (%s); %d queue(s); conn: %d workers; load average at start %s\n\n",
		s.Knobs.NfqDivert, hooks(s.Knobs.NfqRules), s.Knobs.Queues, s.Knobs.ConnWorkers, s.Machine.Load)
	w := func(cols ...string) {
		fmt.Fprintf(out, "%-13s %-14s", cols[0], cols[1])
		for _, c := range cols[2:] {
			fmt.Fprintf(out, " %9s", c)
		}
		fmt.Fprintln(out)
	}
	w("test", "ruleset", "none", "iptables", "nfq-full", "nfq-batch", "gofwd", "gofwd-fast", "g/ipt", "g/nfqfull", "g/nfqbatch", "g/none", "gfast/ipt")
	testOrder := []string{"tcp1", "tcp4", "udp", "udp-app", "conn"}
	for _, t := range testOrder {
		tu := tests[t]
		for _, r := range rulesets {
			if !anyFor(med, t, r) {
				continue
			}
			label := fmt.Sprintf("%s %d", r.variant, r.rules)
			if r.variant == "-" {
				label = "(none loaded)"
			}
			cols := []string{t + " " + tu.unit, label}
			for _, fw := range firewalls {
				if v, ok := get(fw, t, r); ok {
					cols = append(cols, strconv.FormatFloat(v/tu.scale, 'f', tu.prec, 64))
				} else {
					cols = append(cols, "-")
				}
			}
			rt := Ratio{Test: t, Variant: r.variant, Rules: r.rules,
				Iptables: ratio(t, r, "iptables"), NfqFull: ratio(t, r, "nfq-full"),
				NfqBatch: ratio(t, r, "nfq-batch"), None: ratio(t, r, "none"),
				FastIptables: ratioOf("gofwd-fast", t, r, "iptables")}
			for _, p := range []*float64{rt.Iptables, rt.NfqFull, rt.NfqBatch, rt.None, rt.FastIptables} {
				cols = append(cols, fmtRatio(p))
			}
			if r.variant != "-" {
				s.Ratios = append(s.Ratios, rt)
			}
			w(cols...)
		}
	}

	// The goals of issue 6 that this benchmark measures.
	goalOf := func(fw, figure, want, test string, r ruleset, peer string, min float64) {
		g := Goal{Figure: figure, Want: want, Ratio: ratioOf(fw, test, r, peer)}
		if g.Ratio != nil {
			met := *g.Ratio >= min
			g.Met = &met
		}
		s.Goals = append(s.Goals, g)
	}
	goal := func(figure, want, test string, r ruleset, peer string, min float64) {
		goalOf("gofwd", figure, want, test, r, peer, min)
	}
	lin := func(n int) ruleset { return ruleset{"linear", n} }
	goal("UDP 64-byte packets/s, 10 000 rules, gofwd / iptables-legacy", ">= 10", "udp", lin(10000), "iptables", 10)
	goal("TCP bulk (1 stream), 10 000 rules, gofwd / iptables-legacy", ">= 2", "tcp1", lin(10000), "iptables", 2)
	goalOf("gofwd-fast", "  the same with the opt-in fast path (gofwd --fast-path)", ">= 2", "tcp1", lin(10000), "iptables", 2)
	goal("UDP 64-byte packets/s, accept-all (1 rule), gofwd / C loop batch", ">= 0.7", "udp", lin(1), "nfq-batch", 0.7)
	goal("TCP bulk (1 stream), accept-all (1 rule), gofwd / C loop batch+GSO", ">= 0.7", "tcp1", lin(1), "nfq-batch", 0.7)
	goal("new TCP connections/s, 10 rules, gofwd / C loop batch", ">= 0.7", "conn", lin(10), "nfq-batch", 0.7)
	fmt.Fprintln(out, "\ngoals (issue 6):")
	for _, g := range s.Goals {
		state := "not measured"
		if g.Met != nil {
			state = "met"
			if !*g.Met {
				state = "NOT met"
			}
		}
		fmt.Fprintf(out, "  %-68s %6s  want %-6s %s\n", g.Figure, fmtRatio(g.Ratio), g.Want, state)
	}
	if len(s.Failures) > 0 {
		fmt.Fprintf(out, "\n%d measurement(s) failed (counted as 0):\n", len(s.Failures))
		for _, f := range s.Failures {
			fmt.Fprintln(out, "  "+f)
		}
	}
	if *jsonOut != "" {
		b, err := json.MarshalIndent(&s, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// read loads the results file: the series by configuration, in first-seen
// order, and the rulesets seen, smallest first, linear before stateful.
func read(file string) (map[key][]float64, []key, []ruleset, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, nil, err
	}
	defer f.Close()
	series := map[key][]float64{}
	var order []key
	var rulesets []ruleset
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fl := strings.Fields(sc.Text())
		if len(fl) == 0 {
			continue
		}
		if len(fl) != 6 {
			return nil, nil, nil, fmt.Errorf("%s:%d: want FIREWALL VARIANT RULES TEST RUN VALUE", file, n)
		}
		rules := 0
		if fl[2] != "-" {
			if rules, err = strconv.Atoi(fl[2]); err != nil {
				return nil, nil, nil, fmt.Errorf("%s:%d: rules %q", file, n, fl[2])
			}
			r := ruleset{fl[1], rules}
			if !slices.Contains(rulesets, r) {
				rulesets = append(rulesets, r)
			}
		}
		v, err := strconv.ParseFloat(fl[5], 64)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s:%d: value %q", file, n, fl[5])
		}
		if _, ok := tests[fl[3]]; !ok {
			return nil, nil, nil, fmt.Errorf("%s:%d: unknown test %q", file, n, fl[3])
		}
		k := key{fl[0], fl[1], rules, fl[3]}
		if _, ok := series[k]; !ok {
			order = append(order, k)
		}
		series[k] = append(series[k], v)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, nil, err
	}
	slices.SortFunc(rulesets, func(a, b ruleset) int {
		if a.variant != b.variant {
			return strings.Compare(a.variant, b.variant) // linear < stateful
		}
		return a.rules - b.rules
	})
	// Only the C loop and none measured: one row per test, no ruleset.
	if len(rulesets) == 0 {
		rulesets = []ruleset{{"-", 0}}
	}
	return series, order, rulesets, sc.Err()
}

// anyFor says whether a firewall that loads the ruleset has a figure for
// test and r (or, with no ruleset measured, whether any firewall has one).
func anyFor(med map[key]float64, test string, r ruleset) bool {
	for k := range med {
		if k.test == test && k.variant == r.variant && k.rules == r.rules {
			return true
		}
	}
	return false
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func rawUnit(test string) string {
	switch test {
	case "udp", "udp-app":
		return "datagrams/s"
	case "conn":
		return "connections/s"
	}
	return "bit/s"
}

func fmtRatio(p *float64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatFloat(*p, 'f', 2, 64)
}

// hooks names the built-in chains an iptables-restore divert hooks into,
// as "raw PREROUTING, mangle POSTROUTING".
func hooks(rules []string) string {
	var table string
	var hs []string
	for _, l := range rules {
		f := strings.Fields(l)
		switch {
		case strings.HasPrefix(l, "*"):
			table = l[1:]
		case len(f) > 1 && f[0] == "-A" && f[1] == strings.ToUpper(f[1]) && !strings.HasPrefix(f[1], "GOFW-"):
			if h := table + " " + f[1]; !slices.Contains(hs, h) {
				hs = append(hs, h)
			}
		}
	}
	if len(hs) == 0 {
		return "not used"
	}
	return strings.Join(hs, ", ")
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
