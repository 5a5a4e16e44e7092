package conntrack

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// clockTable returns a table whose clock the test moves.
func clockTable(cfg Config) (*Table, *int64) {
	now := new(int64)
	*now = int64(time.Hour)
	cfg.Clock = func() int64 { return *now }
	return NewTable(cfg), now
}

// run runs a command line and fails the test on an unexpected exit code.
func run(t *testing.T, tb *Table, wantCode int, args string) (stdout, stderr string) {
	t.Helper()
	out, errs, code := runCLI(tb, splitArgs(args))
	if code != wantCode {
		t.Fatalf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, wantCode, out, errs)
	}
	return out, errs
}

// Entries used by the Exec tests, as conntrack 1.4.7 created and listed
// them (cli-formats.md A.2).
const (
	insTCP   = "-I -p tcp -s 198.18.0.1 -d 198.18.0.2 --sport 1000 --dport 22 -t 300 --state ESTABLISHED -u SEEN_REPLY,ASSURED"
	insUDP   = "-I -p udp -s 198.18.0.1 -d 198.18.0.3 --sport 5000 --dport 53 -t 30"
	insICMP  = "-I -p icmp -s 198.18.0.1 -d 198.18.0.4 --icmp-type 8 --icmp-code 0 --icmp-id 77 -t 30"
	insSYN   = "-I -p tcp -s 198.18.0.1 -d 198.18.0.2 --sport 1004 --dport 22 -t 300 --state SYN_SENT -m 5"
	lineTCP  = "tcp      6 300 ESTABLISHED src=198.18.0.1 dst=198.18.0.2 sport=1000 dport=22 src=198.18.0.2 dst=198.18.0.1 sport=22 dport=1000 [ASSURED] mark=0 use=1"
	lineUDP  = "udp      17 30 src=198.18.0.1 dst=198.18.0.3 sport=5000 dport=53 [UNREPLIED] src=198.18.0.3 dst=198.18.0.1 sport=53 dport=5000 mark=0 use=1"
	lineICMP = "icmp     1 30 src=198.18.0.1 dst=198.18.0.4 type=8 code=0 id=77 [UNREPLIED] src=198.18.0.4 dst=198.18.0.1 type=0 code=0 id=77 mark=0 use=1"
	lineSYN  = "tcp      6 300 SYN_SENT src=198.18.0.1 dst=198.18.0.2 sport=1004 dport=22 [UNREPLIED] src=198.18.0.2 dst=198.18.0.1 sport=22 dport=1004 mark=5 use=1"
)

func loaded(t *testing.T, cfg Config) (*Table, *int64) {
	tb, now := clockTable(cfg)
	for _, a := range []string{insTCP, insUDP, insICMP, insSYN} {
		run(t, tb, 0, a)
	}
	return tb, now
}

// sortedLines makes listings comparable: the table lists in hash order,
// as the kernel does.
func sortedLines(s string) []string {
	l := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(l) == 1 && l[0] == "" {
		return nil
	}
	sortStrings(l)
	return l
}

func sortStrings(l []string) { sort.Strings(l) }

func sameLines(got string, want ...string) bool {
	g := sortedLines(got)
	w := append([]string(nil), want...)
	sortStrings(w)
	return strings.Join(g, "\n") == strings.Join(w, "\n")
}

// TestExecList covers -L and its filters on the four entries.
func TestExecList(t *testing.T) {
	tb, _ := loaded(t, Config{})
	rows := []struct {
		args string
		want []string
	}{
		{"-L", []string{lineTCP, lineUDP, lineICMP, lineSYN}},
		{"-L -p tcp", []string{lineTCP, lineSYN}},
		{"-L -p udp --dport 53", []string{lineUDP}},
		{"-L -p tcp --dport 22 --sport 1004", []string{lineSYN}},
		{"-L -p tcp --state ESTABLISHED", []string{lineTCP}},
		{"-L --orig-src 198.18.0.1 --orig-dst 198.18.0.2", []string{lineTCP, lineSYN}},
		{"-L -d 198.18.0.0/30", []string{lineTCP, lineUDP, lineSYN}},
		{"-L -r 198.18.0.4", []string{lineICMP}},
		{"-L -p icmp --icmp-type 8 --icmp-id 77", []string{lineICMP}},
		{"-L -m 5", []string{lineSYN}},
		{"-L -m 4/4", []string{lineSYN}},
		// mark & mask must equal the value itself: 5 & 4 is never 5.
		{"-L -m 5/4", nil},
		{"-L -m 0", []string{lineTCP, lineUDP, lineICMP}},
		{"-L -u ASSURED", []string{lineTCP}},
		{"-L -u !ASSURED", []string{lineUDP, lineICMP, lineSYN}},
		{"-L -u UNREPLIED", []string{lineUDP, lineICMP, lineSYN}},
		{"-L -u SEEN_REPLY,UNREPLIED", nil},
		{"-L -f ipv6", nil},
		{"-L -w 0", []string{lineTCP, lineUDP, lineICMP, lineSYN}},
		{"-L -w 1", nil},
		{"-L unconfirmed", nil},
		{"-L dying", nil},
	}
	for _, r := range rows {
		out, errs := run(t, tb, 0, r.args)
		if !sameLines(out, r.want...) {
			t.Errorf("%s:\n got %q\nwant %q", r.args, sortedLines(out), r.want)
		}
		if wantSum := fail(itoa(len(r.want)) + " flow entries have been shown."); errs != wantSum {
			t.Errorf("%s: stderr %q, want %q", r.args, errs, wantSum)
		}
	}
}

func itoa(n int) string   { return strconv.Itoa(n) }
func fmtInt(n int) string { return strconv.Itoa(n) }

// TestExecFormats covers -o and the timeout counting down.
func TestExecFormats(t *testing.T) {
	tb, now := clockTable(Config{})
	run(t, tb, 0, insTCP)
	*now += int64(1500 * time.Millisecond)
	rows := []struct{ args, want string }{
		{"-L", strings.Replace(lineTCP, " 300 ", " 298 ", 1)},
		{"-L -o extended", "ipv4     2 " + strings.Replace(lineTCP, " 300 ", " 298 ", 1)},
		{"-L -o json", `{"family":"ipv4","proto":"tcp","protonum":6,"state":"ESTABLISHED","timeout":298,` +
			`"orig":{"src":"198.18.0.1","dst":"198.18.0.2","sport":1000,"dport":22},` +
			`"reply":{"src":"198.18.0.2","dst":"198.18.0.1","sport":22,"dport":1000},` +
			`"status":["SEEN_REPLY","ASSURED","CONFIRMED"],"mark":0,"zone":0,"use":1,"id":ID}`},
	}
	for _, r := range rows {
		out, _ := run(t, tb, 0, r.args)
		e := tb.List(ListConntrack, nil, *now)[0]
		want := strings.Replace(r.want, "ID", fmtInt(int(e.ID)), 1) + "\n"
		if out != want {
			t.Errorf("%s:\n got %q\nwant %q", r.args, out, want)
		}
	}
	out, _ := run(t, tb, 0, "-L -o id")
	if e := tb.List(ListConntrack, nil, *now)[0]; !strings.HasSuffix(out, " use=1 id="+fmtInt(int(e.ID))+"\n") {
		t.Errorf("-o id: %q", out)
	}
}

// TestExecGet covers -G: use=2, the reverse tuple, not found.
func TestExecGet(t *testing.T) {
	tb, _ := loaded(t, Config{})
	out, errs := run(t, tb, 0, "-G -p tcp -s 198.18.0.1 -d 198.18.0.2 --sport 1000 --dport 22")
	if want := strings.Replace(lineTCP, "use=1", "use=2", 1) + "\n"; out != want || errs != fail("1 flow entries have been shown.") {
		t.Errorf("-G: %q %q", out, errs)
	}
	// Found by its reply tuple, then dropped by the filter.
	out, errs = run(t, tb, 1, "-G -p tcp -s 198.18.0.2 -d 198.18.0.1 --sport 22 --dport 1000")
	if out != "" || errs != fail("0 flow entries have been shown.") {
		t.Errorf("-G reverse: %q %q", out, errs)
	}
	run(t, tb, 0, "-G -p icmp -s 198.18.0.1 -d 198.18.0.4 --icmp-type 8 --icmp-code 0 --icmp-id 77")
}

// TestExecDeleteUpdate covers -D, -U and -A.
func TestExecDeleteUpdate(t *testing.T) {
	tb, _ := loaded(t, Config{})
	out, errs := run(t, tb, 0, "-D -p udp")
	if out != lineUDP+"\n" || errs != fail("1 flow entries have been deleted.") {
		t.Errorf("-D -p udp: %q %q", out, errs)
	}
	run(t, tb, 1, "-D -p udp")
	if tb.Count() != 3 {
		t.Errorf("count %d after -D, want 3", tb.Count())
	}
	rows := []struct {
		args string
		code int
		want string // the updated line, "" for none
	}{
		{"-U -p tcp -s 198.18.0.1 -d 198.18.0.2 --sport 1000 --dport 22 -m 7", 0, "mark=7 use=2"},
		{"-U -p tcp -s 198.18.0.1 -d 198.18.0.2 --sport 1000 --dport 22 -m 7", 1, ""}, // unchanged: skipped
		{"-U -p tcp -s 198.18.0.1 -d 198.18.0.2 --sport 1000 --dport 22 -m 8/8", 0, "mark=15 use=2"},
		{"-U -p tcp -s 198.18.0.1 -d 198.18.0.2 --sport 1000 --dport 22 -m 0/1", 0, "mark=14 use=2"},
		{"-U -p tcp -s 198.18.0.1 -d 198.18.0.2 --sport 1000 --dport 22 -t 20", 0, "tcp      6 20 ESTABLISHED"},
		{"-U -p tcp -s 198.18.0.1 -d 198.18.0.2 --sport 1000 --dport 22 --state CLOSE", 0, "tcp      6 20 CLOSE"},
		{"-U -p icmp -u ASSURED", 0, "[ASSURED] mark=0 use=2"},
		{"-U -p icmp -u ASSURED", 1, ""},
	}
	for _, r := range rows {
		out, _ := run(t, tb, r.code, r.args)
		if (r.want == "") != (out == "") || !strings.Contains(out, r.want) || strings.Count(out, "\n") > 1 {
			t.Errorf("%s: %q, want a line with %q", r.args, out, r.want)
		}
	}
	// -A on an existing entry updates it.
	run(t, tb, 0, "-A -p tcp -s 198.18.0.1 -d 198.18.0.2 --sport 1004 --dport 22 -t 300 --state ESTABLISHED -m 9")
	out, _ = run(t, tb, 0, "-L -p tcp --sport 1004")
	if !strings.Contains(out, " ESTABLISHED ") || !strings.Contains(out, "mark=9") {
		t.Errorf("-A on an existing entry: %q", out)
	}
	run(t, tb, 0, "-F")
	if tb.Count() != 0 {
		t.Errorf("count %d after -F", tb.Count())
	}
}

// TestExecCounters covers -C, -S, -z and the family flush.
func TestExecCounters(t *testing.T) {
	tb, _ := loaded(t, Config{Acct: true})
	run(t, tb, 0, "-I -p tcp -s fd00::1 -d fd00::2 --sport 1 --dport 2 -t 50 --state ESTABLISHED")
	if out, _ := run(t, tb, 0, "-C"); out != "5\n" {
		t.Errorf("-C: %q", out)
	}
	want := "cpu=0   \tfound=0 invalid=0 insert=5 insert_failed=0 drop=0 early_drop=0 error=0 search_restart=0 clash_resolve=0 chaintoolong=0 \n"
	if out, _ := run(t, tb, 0, "-S"); out != want {
		t.Errorf("-S: %q", out)
	}
	c, _ := tb.Lookup(MakeTuple(ip("198.18.0.1"), ip("198.18.0.3"), ProtoUDP, 5000, 53), 0, tb.cfg.Clock())
	c.account(Original, 100)
	out, _ := run(t, tb, 0, "-L -z")
	if !strings.Contains(out, "sport=5000 dport=53 packets=1 bytes=100 [UNREPLIED]") {
		t.Errorf("-L -z shows the counters before zeroing: %q", out)
	}
	if p, b := c.Counters(Original); p != 0 || b != 0 {
		t.Errorf("-z left %d packets %d bytes", p, b)
	}
	run(t, tb, 0, "-F -f ipv6")
	if tb.Count() != 4 {
		t.Errorf("-F -f ipv6 left %d entries, want the 4 IPv4 ones", tb.Count())
	}
}

// TestExecCreate covers the tuples -I builds.
func TestExecCreate(t *testing.T) {
	rows := []struct{ args, want string }{
		{"-I -p tcp -r 198.18.0.9 -q 198.18.0.1 --reply-port-src 5 --reply-port-dst 6 -t 50 --state ESTABLISHED",
			"tcp      6 50 ESTABLISHED src=198.18.0.1 dst=198.18.0.9 sport=6 dport=5 [UNREPLIED] src=198.18.0.9 dst=198.18.0.1 sport=5 dport=6 mark=0 use=1"},
		{"-I -p tcp -s 198.18.0.1 -d 198.18.0.2 -r 198.18.0.9 -q 198.18.0.1 --sport 1 --dport 8 --reply-port-src 80 --reply-port-dst 1 -t 10 --state ESTABLISHED",
			"tcp      6 10 ESTABLISHED src=198.18.0.1 dst=198.18.0.2 sport=1 dport=8 [UNREPLIED] src=198.18.0.9 dst=198.18.0.1 sport=80 dport=1 mark=0 use=1"},
		{"-I -p tcp -s 198.18.0.1 -d 198.18.0.2 --sport 1 --dport 5 -t 10 --state LISTEN",
			"tcp      6 10 SYN_SENT2 src=198.18.0.1 dst=198.18.0.2 sport=1 dport=5 [UNREPLIED] src=198.18.0.2 dst=198.18.0.1 sport=5 dport=1 mark=0 use=1"},
		{"-I -p tcp -s 198.18.0.1 -d 198.18.0.2 --sport 1 --dport 7 -t 10 --state TIME_WAIT -w 5",
			"tcp      6 10 TIME_WAIT src=198.18.0.1 dst=198.18.0.2 sport=1 dport=7 [UNREPLIED] src=198.18.0.2 dst=198.18.0.1 sport=7 dport=1 mark=0 zone=5 use=1"},
		{"-I -p udp -s 198.18.0.1 -d 198.18.0.2 --sport 1 --dport 2 -t 10 -m 3/4",
			"udp      17 10 src=198.18.0.1 dst=198.18.0.2 sport=1 dport=2 [UNREPLIED] src=198.18.0.2 dst=198.18.0.1 sport=2 dport=1 mark=3 use=1"},
		{"-I -p gre -s 198.18.0.1 -d 198.18.0.2 --srckey 1 --dstkey 2 -t 50",
			"gre      47 50 src=198.18.0.1 dst=198.18.0.2 srckey=0x1 dstkey=0x2 [UNREPLIED] src=198.18.0.2 dst=198.18.0.1 srckey=0x2 dstkey=0x1 mark=0 use=1"},
		{"-I -p icmpv6 -s fd00::1 -d fd00::2 --icmpv6-type 128 --icmpv6-code 0 --icmpv6-id 1 -t 50",
			"icmpv6   58 50 src=fd00::1 dst=fd00::2 type=128 code=0 id=1 [UNREPLIED] src=fd00::2 dst=fd00::1 type=129 code=0 id=1 mark=0 use=1"},
		{"-I -p esp -s 198.18.0.1 -d 198.18.0.2 -t 50",
			"unknown  50 50 src=198.18.0.1 dst=198.18.0.2 [UNREPLIED] src=198.18.0.2 dst=198.18.0.1 mark=0 use=1"},
		{"-I -p tcp -s 198.18.0.1 -d 198.18.0.2 --sport 1 --dport 2 -t 99 --state ESTABLISHED -u ASSURED",
			"tcp      6 99 ESTABLISHED src=198.18.0.1 dst=198.18.0.2 sport=1 dport=2 [UNREPLIED] src=198.18.0.2 dst=198.18.0.1 sport=2 dport=1 [ASSURED] mark=0 use=1"},
	}
	for _, r := range rows {
		tb, _ := clockTable(Config{})
		run(t, tb, 0, r.args)
		if out, _ := run(t, tb, 0, "-L"); out != r.want+"\n" {
			t.Errorf("%s:\n got %q\nwant %q", r.args, out, r.want+"\n")
		}
	}
	// -t 0: created, and gone at once (the kernel's zero timeout).
	tb, now := clockTable(Config{})
	run(t, tb, 0, "-I -p udp -s 198.18.0.1 -d 198.18.0.2 --sport 1 --dport 2 -t 0")
	*now++
	if out, _ := run(t, tb, 0, "-L"); out != "" {
		t.Errorf("-t 0 entry still listed: %q", out)
	}
	// Full table: the kernel's -ENOMEM.
	tb, _ = clockTable(Config{Max: 1})
	run(t, tb, 0, insTCP)
	if _, errs := run(t, tb, 1, insSYN); errs != fail("Operation failed: not enough memory") {
		t.Errorf("full table: %q", errs)
	}
}

// TestExecKTimestamp: with timestamps on, -o ktimestamp would need
// wall-clock start times gofw does not keep; it is refused, not faked.
func TestExecKTimestamp(t *testing.T) {
	tb, _ := clockTable(Config{Timestamp: true})
	run(t, tb, 2, "-L -o ktimestamp")
	tb, _ = clockTable(Config{})
	run(t, tb, 0, "-L -o ktimestamp")
}

// eventSink collects what Events emits.
type eventSink struct {
	mu       sync.Mutex
	out, err strings.Builder
	block    chan struct{} // emit waits on it when set
}

func (s *eventSink) emit(o, e string) error {
	if s.block != nil {
		<-s.block
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out.WriteString(o)
	s.err.WriteString(e)
	return nil
}

func (s *eventSink) wait(t *testing.T, lines int) string {
	t.Helper()
	for i := 0; i < 500; i++ {
		s.mu.Lock()
		o := s.out.String()
		s.mu.Unlock()
		if strings.Count(o, "\n") >= lines {
			return o
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Fatalf("no %d event lines after 5s: %q", lines, s.out.String())
	return ""
}

func startEvents(t *testing.T, tb *Table, args string, s *eventSink) (stop func()) {
	t.Helper()
	c, err := ParseArgs(splitArgs(args))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	subs := len(*loadSubs(tb))
	go func() {
		tb.Events(c, done, s.emit)
		close(finished)
	}()
	for i := 0; i < 500 && len(*loadSubs(tb)) == subs; i++ {
		time.Sleep(time.Millisecond)
	}
	return func() { close(done); <-finished }
}

func loadSubs(tb *Table) *[]*Subscription {
	if p := tb.subs.list.Load(); p != nil {
		return p
	}
	return &[]*Subscription{}
}

// TestExecEvents covers -E: the lines for -I, -U, -D, the -e mask and the
// filters, as conntrack 1.4.7 printed them (these requests name nobody:
// TestExecEventsUserspace adds the [USERSPACE] origin).
func TestExecEvents(t *testing.T) {
	tb, _ := clockTable(Config{})
	var all, onlyNew, tcpOnly eventSink
	stop1 := startEvents(t, tb, "-E", &all)
	stop2 := startEvents(t, tb, "-E -e NEW", &onlyNew)
	stop3 := startEvents(t, tb, "-E -p tcp -o extended", &tcpOnly)
	run(t, tb, 0, insTCP)
	run(t, tb, 0, insUDP)
	run(t, tb, 0, "-U -p tcp -s 198.18.0.1 -d 198.18.0.2 --sport 1000 --dport 22 -m 7")
	run(t, tb, 0, "-D -p udp")
	want := []string{
		"    [NEW] tcp      6 300 ESTABLISHED src=198.18.0.1 dst=198.18.0.2 sport=1000 dport=22 src=198.18.0.2 dst=198.18.0.1 sport=22 dport=1000 [ASSURED] mark=0",
		"    [NEW] udp      17 30 src=198.18.0.1 dst=198.18.0.3 sport=5000 dport=53 [UNREPLIED] src=198.18.0.3 dst=198.18.0.1 sport=53 dport=5000 mark=0",
		" [UPDATE] tcp      6 300 ESTABLISHED src=198.18.0.1 dst=198.18.0.2 sport=1000 dport=22 src=198.18.0.2 dst=198.18.0.1 sport=22 dport=1000 [ASSURED] mark=7",
		"[DESTROY] udp      17 30 src=198.18.0.1 dst=198.18.0.3 sport=5000 dport=53 [UNREPLIED] src=198.18.0.3 dst=198.18.0.1 sport=53 dport=5000",
	}
	if got := all.wait(t, 4); got != strings.Join(want, "\n")+"\n" {
		t.Errorf("-E:\n got %q\nwant %q", got, want)
	}
	if got := onlyNew.wait(t, 2); got != want[0]+"\n"+want[1]+"\n" {
		t.Errorf("-E -e NEW: %q", got)
	}
	ext := func(l string) string { return l[:10] + "ipv4     2 " + l[10:] + "\n" }
	if got := tcpOnly.wait(t, 2); got != ext(want[0])+ext(want[2]) {
		t.Errorf("-E -p tcp -o extended: %q", got)
	}
	stop1()
	stop2()
	stop3()
	if n := len(*loadSubs(tb)); n != 0 {
		t.Errorf("%d subscriptions left after the listeners stopped", n)
	}
}

// TestExecEventsUserspace: events caused by a request that names its
// requester end with " [USERSPACE] portid=N", after -o id's id=, as
// conntrack -E prints those ctnetlink caused; the packet path's do not.
func TestExecEventsUserspace(t *testing.T) {
	tb, clk := clockTable(Config{})
	var all, withID eventSink
	stop1 := startEvents(t, tb, "-E", &all)
	stop2 := startEvents(t, tb, "-E -o id", &withID)
	for _, args := range []string{insUDP, "-U -p udp -m 3", "-D -p udp"} {
		c, err := ParseArgs(splitArgs(args))
		if err != nil {
			t.Fatal(err)
		}
		c.Portid = 4242
		if _, cerr := tb.Exec(c); cerr != nil {
			t.Fatalf("%s: %v", args, cerr)
		}
	}
	pass(tb, seg(udp, cli, srv, 7, 8, 0), *clk)
	got := strings.Split(strings.TrimSpace(all.wait(t, 4)), "\n")
	for i, l := range got {
		if user := strings.HasSuffix(l, " [USERSPACE] portid=4242"); user != (i < 3) {
			t.Errorf("event %d %q: [USERSPACE] portid=4242 at the end %v, want %v", i, l, user, i < 3)
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(withID.wait(t, 4)), "\n")[:3] {
		if !regexp.MustCompile(` id=\d+ \[USERSPACE\] portid=4242$`).MatchString(l) {
			t.Errorf("-o id: %q, want id= before [USERSPACE]", l)
		}
	}
	stop1()
	stop2()
}

// TestExecEventsLost: a listener that does not keep up loses events and is
// told so, and the packet path never waits for it.
func TestExecEventsLost(t *testing.T) {
	tb, _ := clockTable(Config{})
	s := &eventSink{block: make(chan struct{})}
	stop := startEvents(t, tb, "-E -b 4096", s) // 16 events of buffer
	// The first emit (the -b notice) blocks: nothing is read meanwhile.
	for i := 0; i < 40; i++ {
		run(t, tb, 0, "-I -p udp -s 198.18.0.1 -d 198.18.0.2 --sport "+fmtInt(1000+i)+" --dport 53 -t 30")
	}
	close(s.block)
	s.wait(t, 16)
	for i := 0; i < 300 && !strings.Contains(s.errText(), "ENOBUFS"); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if e := s.errText(); !strings.HasPrefix(e, "NOTICE: event buffer size has been set to 16 events.\n") || !strings.Contains(e, LostEventsWarning) {
		t.Errorf("stderr %q", e)
	}
	if n := strings.Count(s.out.String(), "\n"); n >= 40 {
		t.Errorf("%d events delivered through a 16-event buffer", n)
	}
}

func (s *eventSink) errText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err.String()
}

func TestSetTimeout(t *testing.T) {
	rows := []struct {
		setting string
		ok      bool
		get     func(*Timeouts) time.Duration
		want    time.Duration
	}{
		{"udp_timeout_stream=180", true, func(x *Timeouts) time.Duration { return x.UDPStream }, 180 * time.Second},
		{"nf_conntrack_tcp_timeout_established=3600", true, func(x *Timeouts) time.Duration { return x.TCPEstablished }, time.Hour},
		{"net.netfilter.nf_conntrack_generic_timeout=60", true, func(x *Timeouts) time.Duration { return x.Generic }, time.Minute},
		{"icmp_timeout=1", true, func(x *Timeouts) time.Duration { return x.ICMP }, time.Second},
		{"tcp_timeout_unacknowledged=30", true, func(x *Timeouts) time.Duration { return x.TCPUnack }, 30 * time.Second},
		{"udp_timeout=0", false, nil, 0},
		{"udp_timeout=-1", false, nil, 0},
		{"udp_timeout=1.5", false, nil, 0},
		{"udp_timeout", false, nil, 0},
		{"bogus_timeout=5", false, nil, 0},
	}
	for _, r := range rows {
		var to Timeouts
		err := SetTimeout(&to, r.setting)
		if (err == nil) != r.ok {
			t.Errorf("%q: error %v, want ok=%v", r.setting, err, r.ok)
			continue
		}
		if r.ok && r.get(&to) != r.want {
			t.Errorf("%q: %v, want %v", r.setting, r.get(&to), r.want)
		}
	}
	var to Timeouts
	if err := SetTimeout(&to, "bogus_timeout=5"); err == nil || !strings.Contains(err.Error(), "udp_timeout_stream") {
		t.Errorf("unknown name: %v (should list the known names)", err)
	}
}

// TestStamps: -E -o timestamp prefixes "[%-.8ld.%-.6ld]\t" (zero-padded),
// -L expect -o timestamp "[%-8ld.%-6ld]\t" (left-aligned, blank-padded),
// as conntrack-tools prints them.
func TestStamps(t *testing.T) {
	rows := []struct {
		at           time.Time
		event, exlst string
	}{
		{time.Unix(1796182147, 654172000), "[1796182147.654172]\t", "[1796182147.654172]\t"},
		{time.Unix(12, 5000), "[00000012.000005]\t", "[12      .5     ]\t"},
	}
	for _, r := range rows {
		if got := string(appendEventStamp(nil, r.at)); got != r.event {
			t.Errorf("event stamp %v: %q, want %q", r.at, got, r.event)
		}
		if got := string(appendExpectStamp(nil, r.at)); got != r.exlst {
			t.Errorf("expect stamp %v: %q, want %q", r.at, got, r.exlst)
		}
	}
}
