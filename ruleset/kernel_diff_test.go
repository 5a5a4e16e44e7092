package ruleset

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/packet"
	"github.com/gofw/gofw/target"
)

// The differential against the kernel (issues 3 and 4): each scenario of
// testdata/kerneldiff is a ruleset and a spec of crafted packets. The
// packets go through iptables-legacy and the kernel's nf_conntrack in a
// network namespace, and through gofw's tracer (what gofw trace runs),
// and the two must end alike:
//
//   - conntrack -L: the same entries, states, status bits and tuples in
//     both directions (so the same NAT bindings), timeouts within the
//     wall time the kernel run took;
//   - conntrack -L expect: the same expectations;
//   - the packets that left the router, in order, as NAT and the helpers
//     rewrote them (addresses, ports, sequence numbers, payload);
//   - iptables-save -c: the same packet and byte counters on every rule
//     and policy, which also says what state each packet had, through
//     counting rules the harness adds (kdCounting).
//
// The kernel's side is a namespace "fw" (the router) with eth0
// 198.18.0.1/24 and eth1 198.18.1.1/24, veths to two namespaces that have
// no address at all, so that nothing in them ever answers. A spec packet
// is sent from the namespace on the side of its source (or its dev=) with
// an AF_PACKET socket, so fw receives it on that interface and it meets
// PREROUTING exactly as written; to fw's own address it goes on to INPUT,
// to any other address it is forwarded out of the other veth (ARP is off
// on fw's veths, so no neighbour is resolved and no ICMP comes back from
// a failed resolution). The packets fw itself would send (a RST from a
// closed port, an ICMP port unreachable, an echo reply) are dropped in
// raw OUTPUT, before conntrack sees them: gofw trace never sees such
// packets, so the kernel's table must not either. The tracer gets the same
// rules and --iface eth0=198.18.0.1/24 --iface eth1=198.18.1.1/24.
//
// A scenario is a txtar file: a comment saying what the kernel does and
// why, then "rules.v4" (an iptables-restore file without a mangle table
// and without raw OUTPUT rules, which the harness owns), "packets.spec"
// (packet.ParseSpec's format; sources in 198.18.0.0/24 come by eth0, in
// 198.18.1.0/24 by eth1, or as dev= says; never fw's own addresses, whose
// packets would be OUTPUT's; "+DURATION" lines are slept through, up to
// kdMaxSpan) and "want". The want section records what the kernel did
// (normalised: timeouts and randomly drawn ports masked), so a scenario
// shows what it is about and a harness that stopped delivering packets
// cannot pass. -kerneldiff.update rewrites those sections from the
// kernel; check the diff before committing it.
//
// It runs as root only (go test ./ruleset -run TestKernelDiff), with
// iptables-legacy, conntrack-tools and iproute2, each scenario in
// namespaces of its own, removed when it ends.

var kdUpdate = flag.Bool("kerneldiff.update", false, "rewrite the want sections of testdata/kerneldiff from the kernel")

// The router's interfaces, on both sides.
var kdIfaces = []TraceIface{
	{"eth0", netip.MustParsePrefix("198.18.0.1/24")},
	{"eth1", netip.MustParsePrefix("198.18.1.1/24")},
}

// kdCounting is the mangle table the harness adds to every scenario's
// rules: one counting rule per state -m conntrack tells apart, in
// PREROUTING, where every packet from outside passes once, after
// conntrack has attached its entry. Every IPv4 packet that reaches
// PREROUTING matches exactly one of them. It also makes the kernel track
// connections at all: a network namespace tracks only once a rule needs
// conntrack.
const kdCounting = `*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -m conntrack --ctstate INVALID
-A PREROUTING -m conntrack --ctstate NEW
-A PREROUTING -m conntrack --ctstate ESTABLISHED --ctdir ORIGINAL
-A PREROUTING -m conntrack --ctstate ESTABLISHED --ctdir REPLY
-A PREROUTING -m conntrack --ctstate RELATED --ctdir ORIGINAL
-A PREROUTING -m conntrack --ctstate RELATED --ctdir REPLY
-A PREROUTING -m conntrack --ctstate UNTRACKED
COMMIT
`

// kdCountingNames name kdCounting's rules, in order.
var kdCountingNames = []string{"INVALID", "NEW", "ESTABLISHED", "ESTABLISHED/reply", "RELATED", "RELATED/reply", "UNTRACKED"}

// kdRawDrop is the raw OUTPUT rule that keeps the packets fw sends of its
// own out of its conntrack.
const kdRawDrop = "-A OUTPUT -j DROP"

// kdMaxSpan bounds a scenario's capture clock: the kernel run sleeps
// through it, and the whole differential must stay short.
const kdMaxSpan = 3 * time.Second

// kdScenario is one testdata/kerneldiff file.
type kdScenario struct {
	name, path string
	arch       *txtar.Archive
	rules      string // the scenario's rules with the harness's additions
	spec       []packet.SpecPacket
	want       string
}

// kdRules adds the harness's tables to a scenario's rules: kdCounting,
// and kdRawDrop in the raw table (created when the scenario has none).
func kdRules(rules string) (string, error) {
	if regexp.MustCompile(`(?m)^\*mangle\s*$`).MatchString(rules) {
		return "", fmt.Errorf("the harness owns the mangle table (its counting rules): use another table")
	}
	lines := strings.SplitAfter(rules, "\n")
	var out strings.Builder
	inRaw, raw := false, false
	for _, l := range lines {
		s := strings.TrimSpace(l)
		switch {
		case s == "*raw":
			inRaw, raw = true, true
		case inRaw && strings.HasPrefix(s, "-A OUTPUT "):
			return "", fmt.Errorf("raw OUTPUT belongs to the harness (it drops what fw sends of its own)")
		case inRaw && s == "COMMIT":
			out.WriteString(kdRawDrop + "\n")
			inRaw = false
		}
		out.WriteString(l)
	}
	if !strings.HasSuffix(out.String(), "\n") {
		out.WriteString("\n")
	}
	if !raw {
		out.WriteString("*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n" + kdRawDrop + "\nCOMMIT\n")
	}
	out.WriteString(kdCounting)
	return out.String(), nil
}

func kdLoad(t *testing.T, path string) *kdScenario {
	t.Helper()
	a, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sc := &kdScenario{name: strings.TrimSuffix(filepath.Base(path), ".txtar"), path: path, arch: a}
	var rules, spec string
	var haveRules, haveSpec bool
	for _, f := range a.Files {
		switch f.Name {
		case "rules.v4":
			rules, haveRules = string(f.Data), true
		case "packets.spec":
			spec, haveSpec = string(f.Data), true
		case "want":
			sc.want = string(f.Data)
		default:
			t.Fatalf("%s: unknown section %q (want rules.v4, packets.spec, want)", path, f.Name)
		}
	}
	if !haveRules || !haveSpec {
		t.Fatalf("%s: needs rules.v4 and packets.spec", path)
	}
	if sc.rules, err = kdRules(rules); err != nil {
		t.Fatalf("%s: rules.v4: %v", path, err)
	}
	if sc.spec, err = packet.ParseSpec(spec); err != nil {
		t.Fatalf("%s: packets.spec: %v", path, err)
	}
	for _, sp := range sc.spec {
		if sp.At > kdMaxSpan {
			t.Fatalf("%s: packets.spec line %d at +%v: keep a scenario within %v", path, sp.Line, sp.At, kdMaxSpan)
		}
		if _, err := kdSide(&sp); err != nil {
			t.Fatalf("%s: packets.spec line %d: %v", path, sp.Line, err)
		}
	}
	return sc
}

// kdSide is the side (0: eth0, 1: eth1) a spec packet comes from: its
// dev= when given, else the side whose prefix holds its source. Packets
// from fw's own addresses are refused: the kernel would drop them as
// martians where gofw trace would send them through OUTPUT.
func kdSide(sp *packet.SpecPacket) (int, error) {
	if !sp.Src.Is4() {
		return 0, fmt.Errorf("%v: the kernel differential sends IPv4 only", sp.Src)
	}
	for i, f := range kdIfaces {
		if sp.Src == f.Addr.Addr() {
			return 0, fmt.Errorf("%v is fw's own address: a packet from outside cannot carry it", sp.Src)
		}
		if sp.Dev == f.Name {
			return i, nil
		}
	}
	if sp.Dev != "" {
		return 0, fmt.Errorf("dev=%s: want eth0 or eth1", sp.Dev)
	}
	for i, f := range kdIfaces {
		if f.Addr.Contains(sp.Src) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%v is on neither side (198.18.0.0/24 on eth0, 198.18.1.0/24 on eth1): give dev=", sp.Src)
}

// kdResult is what one side did with a scenario, normalised for
// comparison.
type kdResult struct {
	raw      []string // conntrack -L as listed
	conns    []kdLine // conntrack -L, normalised
	expects  []kdLine // conntrack -L expect
	egress   []string // packets that left fw, in order
	counters map[string][]string
	// own is how many packets fw sent of its own (the kernel only),
	// dropped in raw OUTPUT.
	own uint64
}

// kdLine is a listing line with its timeout taken out.
type kdLine struct {
	norm    string
	timeout int
}

// TestKernelDiff runs every scenario of testdata/kerneldiff through the
// kernel and through gofw's tracer (see the comment at the top).
func TestKernelDiff(t *testing.T) {
	paths, err := filepath.Glob("testdata/kerneldiff/*.txtar")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no scenarios in testdata/kerneldiff: %v", err)
	}
	// Load every scenario first, so a broken one fails without root too.
	var scs []*kdScenario
	for _, p := range paths {
		scs = append(scs, kdLoad(t, p))
	}
	kdRequire(t)
	start := time.Now()
	for i, sc := range scs {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			kdRun(t, i, sc)
		})
	}
	t.Cleanup(func() { t.Logf("%d scenarios in %v", len(scs), time.Since(start).Round(time.Millisecond)) })
}

// kdRequire skips unless the kernel side can run.
func kdRequire(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the kernel differential runs iptables-legacy and conntrack in network namespaces")
	}
	for _, p := range []string{"ip", "iptables-legacy-restore", "iptables-legacy-save", "conntrack", "sysctl"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s not found: the kernel differential needs iptables-legacy, conntrack-tools and iproute2", p)
		}
	}
}

func kdRun(t *testing.T, idx int, sc *kdScenario) {
	gofw, trace := kdGofw(t, sc)
	kern, elapsed := kdKernel(t, idx, sc)
	t.Logf("kernel run %v; fw sent %d packets of its own (dropped in raw OUTPUT)", elapsed.Round(time.Millisecond), kern.own)

	var problems []string
	// Timeouts: gofw counts from the last packet's capture time; the
	// kernel from the wall clock, up to when conntrack listed them.
	slack := int(math.Ceil(elapsed.Seconds())) + 1
	for _, x := range []struct {
		what     string
		got, krn []kdLine
	}{{"conntrack -L", gofw.conns, kern.conns}, {"conntrack -L expect", gofw.expects, kern.expects}} {
		if p := kdCompareLines(x.got, x.krn, slack); p != "" {
			problems = append(problems, x.what+":\n"+p)
		}
	}
	if p := kdUniqueReplies(gofw.raw); p != "" {
		problems = append(problems, "conntrack -L:\n"+p)
	}
	if p := kdUniqueReplies(kern.raw); p != "" {
		t.Errorf("the kernel's listing holds a reply tuple twice (a harness fault?):\n%s", p)
	}
	if p := kdDiff(gofw.egress, kern.egress); p != "" {
		problems = append(problems, "packets leaving fw:\n"+p)
	}
	if p := kdCompareCounters(gofw.counters, kern.counters); p != "" {
		problems = append(problems, "iptables-save -c:\n"+p)
	}
	if len(problems) > 0 {
		t.Errorf("gofw differs from the kernel (- gofw, + kernel):\n%s\ngofw trace of the scenario:\n%s", strings.Join(problems, "\n"), trace)
	}

	got := kern.want()
	switch {
	case *kdUpdate:
		kdWriteWant(t, sc, got)
	case got != sc.want:
		t.Errorf("the kernel no longer does what %s records (run with -kerneldiff.update after checking):\n%s", sc.path, kdDiff(strings.Split(sc.want, "\n"), strings.Split(got, "\n")))
	}
	if g := gofw.want(); g != got && len(problems) == 0 {
		t.Errorf("normalised listings differ though the comparison passed:\n%s", kdDiff(strings.Split(g, "\n"), strings.Split(got, "\n")))
	}
}

// want is the result as a scenario's want section records it.
func (r *kdResult) want() string {
	var b strings.Builder
	b.WriteString("conntrack -L:\n")
	for _, l := range r.conns {
		b.WriteString(l.norm + "\n")
	}
	b.WriteString("conntrack -L expect:\n")
	for _, l := range r.expects {
		b.WriteString(l.norm + "\n")
	}
	b.WriteString("leaving fw:\n")
	for _, l := range r.egress {
		b.WriteString(l + "\n")
	}
	b.WriteString("ctstate at PREROUTING:")
	for i, n := range kdCountingNames {
		b.WriteString(" " + n + "=" + strconv.FormatUint(kdCount(r.counters, i), 10))
	}
	b.WriteString("\n")
	return b.String()
}

// kdCount is the packet count of kdCounting's rule i.
func kdCount(counters map[string][]string, i int) uint64 {
	n := 0
	for _, l := range counters["mangle"] {
		if !strings.HasPrefix(l, "[") || !strings.Contains(l, "-A PREROUTING ") {
			continue
		}
		if n == i {
			v, _ := strconv.ParseUint(l[1:strings.IndexByte(l, ':')], 10, 64)
			return v
		}
		n++
	}
	return 0
}

func kdWriteWant(t *testing.T, sc *kdScenario, want string) {
	a := sc.arch
	found := false
	for i := range a.Files {
		if a.Files[i].Name == "want" {
			a.Files[i].Data, found = []byte(want), true
		}
	}
	if !found {
		a.Files = append(a.Files, txtar.File{Name: "want", Data: []byte(want)})
	}
	if err := os.WriteFile(sc.path, txtar.Format(a), 0o644); err != nil {
		t.Fatal(err)
	}
}

// kdGofw runs the scenario through a tracer and returns its result and
// the trace as gofw trace prints it (for failure messages).
func kdGofw(t *testing.T, sc *kdScenario) (*kdResult, string) {
	t.Helper()
	var out strings.Builder
	rs, err := Restore(New(), strings.NewReader(sc.rules), RestoreOptions{}, &out)
	if err != nil {
		t.Fatalf("gofw restore: %v\n%s", err, sc.rules)
	}
	tr, err := NewTracer(TraceOptions{Rules: rs, Ifaces: kdIfaces, Expect: true})
	if err != nil {
		t.Fatal(err)
	}
	// The tracer rewrites packets in place: keep the spec for the kernel.
	pkts := make([]packet.SpecPacket, len(sc.spec))
	copy(pkts, sc.spec)
	for i := range pkts {
		pkts[i].Data = bytes.Clone(pkts[i].Data)
	}
	src := SpecSource(pkts)
	res := &kdResult{counters: map[string][]string{}}
	var text []byte
	for {
		tp, err := src.Next()
		if err != nil {
			break
		}
		r := tr.Packet(tp)
		text = append(r.AppendText(text), '\n')
		if n := len(r.Hooks); n > 0 && r.Hooks[n-1].Hook == packet.Postrouting && r.Verdict == target.Accept {
			// A reassembled datagram leaves in fragments again.
			frags := tr.SentFragments()
			if frags == nil {
				res.egress = append(res.egress, kdEgress(&tr.p))
			}
			for _, f := range frags {
				var q packet.Packet
				packet.Decode(f, &q)
				res.egress = append(res.egress, kdEgress(&q))
			}
		}
	}
	for _, e := range tr.Conntrack() {
		l := string(e.AppendText(nil, conntrack.FormatOpts{}))
		res.raw = append(res.raw, l)
		res.conns = append(res.conns, kdConnLine(l))
	}
	for _, x := range tr.Expect() {
		res.expects = append(res.expects, kdExpectLine(string(x.AppendText(nil))))
	}
	res.normalise()
	for _, tb := range tr.eng.Ruleset().Tables() {
		var b strings.Builder
		tb.Save(&b, true, "gofw", time.Time{})
		kdParseSave(b.String(), res.counters)
	}
	return res, string(text)
}

// kdEgress describes a packet as it left fw: its summary (addresses,
// ports, flags, sequence numbers, checksum state) and its payload, which a
// helper or NAT may have rewritten (an ICMP error's quote): as text when
// it is short printable text (FTP commands), else as a digest, and left
// out when it is all zeros.
func kdEgress(p *packet.Packet) string {
	s := p.Summary()
	pl := p.Payload()
	if len(pl) == 0 || bytes.Equal(pl, make([]byte, len(pl))) {
		return s
	}
	text := len(pl) <= 120
	for _, c := range pl {
		if (c < ' ' || c > '~') && c != '\r' && c != '\n' {
			text = false
		}
	}
	if text {
		return s + fmt.Sprintf(" data=%q", pl)
	}
	sum := sha256.Sum256(pl)
	return s + fmt.Sprintf(" data=sha256:%x", sum[:8])
}

var kdTimeoutRE = regexp.MustCompile(`^(\S+\s+\d+\s+)(\d+)( .*)$`)

// kdConnLine splits a conntrack -L line into its timeout and the rest;
// kdNormalise masks it further.
func kdConnLine(s string) kdLine {
	m := kdTimeoutRE.FindStringSubmatch(s)
	if m == nil {
		return kdLine{norm: s, timeout: -1}
	}
	to, _ := strconv.Atoi(m[2])
	return kdLine{norm: m[1] + "*" + m[3], timeout: to}
}

func kdExpectLine(s string) kdLine {
	to, rest, ok := strings.Cut(s, " ")
	n, err := strconv.Atoi(to)
	if !ok || err != nil {
		return kdLine{norm: s, timeout: -1}
	}
	return kdLine{norm: "* " + rest, timeout: n}
}

var kdTupleRE = regexp.MustCompile(`\bsrc=(\S+) dst=(\S+) sport=(\d+) dport=(\d+)`)

// kdNormalise masks, in the entries and in the packets that left fw, the
// source ports SNAT chose, then sorts the listings. The kernel draws such
// a port at random (nf_nat_l4proto_unique_tuple: a random offset for a
// source manip), so only its class can agree: the reply tuple's
// destination port, when it is not the original source port, becomes the
// range it must lie in (kdPortClass of the original port), and so does
// that address:port in the packets. A port outside its class is left
// visible, so it cannot agree with one inside. Two entries may not share
// a reply tuple, so after masking that is checked apart (kdUniqueReplies).
func (r *kdResult) normalise() {
	subst := map[string]string{}
	for i := range r.conns {
		s := r.conns[i].norm
		ms := kdTupleRE.FindAllStringSubmatchIndex(s, -1)
		if len(ms) < 2 {
			continue
		}
		orig, _ := strconv.Atoi(s[ms[0][6]:ms[0][7]])
		repl, _ := strconv.Atoi(s[ms[1][8]:ms[1][9]])
		if orig == repl {
			continue
		}
		lo, hi := kdPortClass(orig)
		if repl < lo || repl > hi {
			continue
		}
		class := fmt.Sprintf("[%d-%d]", lo, hi)
		subst[s[ms[1][4]:ms[1][5]]+":"+strconv.Itoa(repl)] = s[ms[1][4]:ms[1][5]] + ":" + class
		r.conns[i].norm = s[:ms[1][8]] + class + s[ms[1][9]:]
	}
	for i, l := range r.egress {
		for from, to := range subst {
			l = regexp.MustCompile(regexp.QuoteMeta(from)+`\b`).ReplaceAllLiteralString(l, to)
		}
		r.egress[i] = l
	}
	kdSort(r.conns)
	kdSort(r.expects)
}

// kdUniqueReplies says which reply tuples of a listing (raw, before
// normalise) are held by more than one entry: a connection that SNAT
// should have moved to another port and did not.
func kdUniqueReplies(lines []string) string {
	seen := map[string]bool{}
	var b strings.Builder
	for _, l := range lines {
		ms := kdTupleRE.FindAllString(l, -1)
		if len(ms) < 2 {
			continue
		}
		if seen[ms[1]] {
			fmt.Fprintf(&b, "  reply tuple held twice: %s\n", ms[1])
		}
		seen[ms[1]] = true
	}
	return b.String()
}

// kdPortClass is the range the kernel picks a new source port from for an
// original port p without --to-source ports (nf_nat_proto.c
// nf_nat_l4proto_unique_tuple): below 512 stays below 512, below 1024
// stays in 600-1023, the rest in 1024-65535.
func kdPortClass(p int) (int, int) {
	switch {
	case p < 512:
		return 1, 511
	case p < 1024:
		return 600, 1023
	}
	return 1024, 65535
}

func kdSort(ls []kdLine) {
	sort.SliceStable(ls, func(i, j int) bool {
		if ls[i].norm != ls[j].norm {
			return ls[i].norm < ls[j].norm
		}
		return ls[i].timeout < ls[j].timeout
	})
}

// kdCompareLines compares sorted listings: the same normalised lines, and
// each gofw timeout at most slack seconds above the kernel's and never
// below it.
func kdCompareLines(got, krn []kdLine, slack int) string {
	norm := func(ls []kdLine) []string {
		var s []string
		for _, l := range ls {
			s = append(s, l.norm)
		}
		return s
	}
	if d := kdDiff(norm(got), norm(krn)); d != "" {
		return d
	}
	var b strings.Builder
	for i := range got {
		if d := got[i].timeout - krn[i].timeout; d < 0 || d > slack {
			fmt.Fprintf(&b, "  timeout %d, kernel %d (allowed: up to %ds more): %s\n", got[i].timeout, krn[i].timeout, slack, got[i].norm)
		}
	}
	return b.String()
}

// kdDiff is a line diff of two sorted-or-ordered lists ("" when equal):
// a plain longest-common-subsequence diff, fine for short lists.
func kdDiff(a, b []string) string {
	if strings.Join(a, "\n") == strings.Join(b, "\n") {
		return ""
	}
	n, m := len(a), len(b)
	l := make([][]int, n+1)
	for i := range l {
		l[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				l[i][j] = l[i+1][j+1] + 1
			} else {
				l[i][j] = max(l[i+1][j], l[i][j+1])
			}
		}
	}
	var out strings.Builder
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			out.WriteString("    " + a[i] + "\n")
			i, j = i+1, j+1
		case j < m && (i == n || l[i][j+1] >= l[i+1][j]):
			out.WriteString("  + " + b[j] + "\n")
			j++
		default:
			out.WriteString("  - " + a[i] + "\n")
			i++
		}
	}
	return out.String()
}

// kdParseSave adds the chain and rule lines of iptables-save -c output to
// counters, by table; raw OUTPUT is left out, since only the kernel has
// packets there (the harness's kdRawDrop drops them).
func kdParseSave(s string, counters map[string][]string) {
	table := ""
	for _, l := range strings.Split(s, "\n") {
		switch {
		case l == "" || strings.HasPrefix(l, "#") || l == "COMMIT":
		case strings.HasPrefix(l, "*"):
			table = l[1:]
			counters[table] = counters[table][:0:0]
		case table == "raw" && (strings.HasPrefix(l, ":OUTPUT ") || strings.Contains(l, "] -A OUTPUT ")):
		default:
			counters[table] = append(counters[table], l)
		}
	}
}

func kdCompareCounters(got, krn map[string][]string) string {
	var names []string
	for n := range krn {
		names = append(names, n)
	}
	for n := range got {
		if _, ok := krn[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		if d := kdDiff(got[n], krn[n]); d != "" {
			fmt.Fprintf(&b, "  *%s\n%s", n, d)
		}
	}
	return b.String()
}

// TestKernelDiffHarness checks the harness's own rewriting without root:
// what it adds to a scenario's rules, and which differences its
// normalisation hides (only a port SNAT drew, within its class).
func TestKernelDiffHarness(t *testing.T) {
	rules := []struct {
		name, in string
		want     []string // substrings of the result, in order
		err      string
	}{
		{"no raw table: one is added", "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n",
			[]string{"*filter", "COMMIT", "*raw", kdRawDrop, "COMMIT", "*mangle", "--ctstate INVALID"}, ""},
		{"raw table: the drop goes in it", "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -p tcp -m tcp --dport 21 -j CT --helper ftp\nCOMMIT\n",
			[]string{"--helper ftp\n" + kdRawDrop + "\nCOMMIT\n*mangle"}, ""},
		{"mangle is the harness's", "*mangle\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n", nil, "mangle"},
		{"raw OUTPUT is the harness's", "*raw\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -j ACCEPT\nCOMMIT\n", nil, "raw OUTPUT"},
	}
	for _, tc := range rules {
		got, err := kdRules(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want one about %q", tc.name, err, tc.err)
			}
			continue
		}
		rest := got
		for _, w := range tc.want {
			i := strings.Index(rest, w)
			if i < 0 {
				t.Errorf("%s: %q missing (in order) from:\n%s", tc.name, w, got)
				break
			}
			rest = rest[i+len(w):]
		}
		if strings.Count(got, kdRawDrop) != 1 {
			t.Errorf("%s: want one %q:\n%s", tc.name, kdRawDrop, got)
		}
	}

	const (
		conn = "udp      17 29 src=198.18.1.3 dst=198.18.0.2 sport=%d dport=53 [UNREPLIED] src=198.18.0.2 dst=198.18.0.1 sport=53 dport=%d mark=0 use=1"
		sent = "udp 198.18.0.1:%d > 198.18.0.2:53 len=20"
	)
	// The second packet's port has the first's as a prefix: it must not
	// be masked with it.
	norm := []struct {
		name             string
		orig, repl       int
		wantConn, wantEg string
	}{
		{"port kept", 40000, 40000, "dport=40000 mark", "198.18.0.1:40000 >"},
		{"high port moved within its class", 40000, 51234, "dport=[1024-65535] mark", "198.18.0.1:[1024-65535] >"},
		{"600-1023 class", 700, 1023, "dport=[600-1023] mark", "198.18.0.1:[600-1023] >"},
		{"low class", 100, 1, "dport=[1-511] mark", "198.18.0.1:[1-511] >"},
		{"moved out of its class stays visible", 100, 700, "dport=700 mark", "198.18.0.1:700 >"},
	}
	for _, tc := range norm {
		r := &kdResult{
			conns:  []kdLine{kdConnLine(fmt.Sprintf(conn, tc.orig, tc.repl))},
			egress: []string{fmt.Sprintf(sent, tc.repl), fmt.Sprintf(sent, tc.repl*10+1)},
		}
		r.normalise()
		if c := r.conns[0]; !strings.Contains(c.norm, tc.wantConn) || c.timeout != 29 || !strings.Contains(c.norm, " * src=") {
			t.Errorf("%s: entry %q (timeout %d), want %q in it and the timeout taken out", tc.name, c.norm, c.timeout, tc.wantConn)
		}
		if !strings.HasPrefix(r.egress[0], "udp "+tc.wantEg) || r.egress[1] != fmt.Sprintf(sent, tc.repl*10+1) {
			t.Errorf("%s: packets %q, want the first with %q and the second untouched", tc.name, r.egress, tc.wantEg)
		}
	}

	if got := kdUniqueReplies([]string{fmt.Sprintf(conn, 1, 2), fmt.Sprintf(conn, 3, 2)}); !strings.Contains(got, "held twice") {
		t.Errorf("two entries with one reply tuple: %q", got)
	}
	if got := kdUniqueReplies([]string{fmt.Sprintf(conn, 1, 2), fmt.Sprintf(conn, 3, 4)}); got != "" {
		t.Errorf("distinct reply tuples: %q", got)
	}

	// A checksum left for the device is finished as the device would.
	dg := mustSpec("tcp 198.18.0.1:40514 > 198.18.0.2:21 PA seq=1 ack=1 data=504f5254")
	var p packet.Packet
	want := bytes.Clone(dg)
	dg[20+16], dg[20+17] = 0x12, 0x34
	if packet.Decode(dg, &p); p.ChecksumOK() {
		t.Fatal("a spoilt checksum still checks")
	}
	kdFinishChecksum(dg)
	if !bytes.Equal(dg, want) {
		t.Errorf("finished checksum %x, want %x", dg[36:38], want[36:38])
	}
}
