package match

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gofw/gofw/packet"
)

var recentRows = []rlRow{
	// libxt_recent.t
	{rule: "-m recent --set --rttl", err: "recent: option \"--rttl\" cannot be used together with \"--set\".\n"},
	// libipt_recent.t
	{rule: "-m recent --set", save: "-m recent --set --name DEFAULT --mask 255.255.255.255 --rsource", print: " recent: SET name: DEFAULT side: source mask: 255.255.255.255"},
	{rule: "-m recent --rcheck --hitcount 8 --name foo --mask 255.255.255.255 --rsource", save: "=", print: " recent: CHECK hit_count: 8 name: foo side: source mask: 255.255.255.255"},
	{rule: "-m recent --rcheck --hitcount 12 --name foo --mask 255.255.255.255 --rsource", save: "=", print: " recent: CHECK hit_count: 12 name: foo side: source mask: 255.255.255.255"},
	{rule: "-m recent --update --rttl", save: "-m recent --update --rttl --name DEFAULT --mask 255.255.255.255 --rsource", print: " recent: UPDATE TTL-Match name: DEFAULT side: source mask: 255.255.255.255"},
	{rule: "-m recent --rcheck --hitcount 65536 --name foo --mask 255.255.255.255 --rsource", err: "xt_recent: hitcount (65536) is larger than allowed maximum (65535)", errno: syscall.EINVAL},
	{rule: "-m recent --rcheck --hitcount 3 --name foo --mask 255.255.255.255 --rsource -m recent --rcheck --hitcount 4 --name foo --mask 255.255.255.255 --rsource", save: "=",
		print: " recent: CHECK hit_count: 3 name: foo side: source mask: 255.255.255.255 recent: CHECK hit_count: 4 name: foo side: source mask: 255.255.255.255"},
	{rule: "-m recent --rcheck --hitcount 4 --name foo --mask 255.255.255.255 --rsource -m recent --rcheck --hitcount 4 --name foo --mask 255.255.255.255 --rsource", save: "=",
		print: " recent: CHECK hit_count: 4 name: foo side: source mask: 255.255.255.255 recent: CHECK hit_count: 4 name: foo side: source mask: 255.255.255.255"},
	{rule: "-m recent --rcheck --hitcount 8 --name foo --mask 255.255.255.255 --rsource -m recent --rcheck --hitcount 12 --name foo --mask 255.255.255.255 --rsource", save: "=",
		print: " recent: CHECK hit_count: 8 name: foo side: source mask: 255.255.255.255 recent: CHECK hit_count: 12 name: foo side: source mask: 255.255.255.255"},
	{chain: "FORWARD", rule: "-m recent --set", save: "-m recent --set --name DEFAULT --mask 255.255.255.255 --rsource", print: " recent: SET name: DEFAULT side: source mask: 255.255.255.255"},
	{chain: "OUTPUT", rule: "-m recent --rcheck --hitcount 65536 --name foo --mask 255.255.255.255 --rsource", err: "xt_recent: hitcount (65536) is larger than allowed maximum (65535)", errno: syscall.EINVAL},

	// Every option, and the order iptables prints them in.
	{rule: "-m recent ! --rcheck --seconds 60 --reap --hitcount 3 --rttl --name foo --rdest --mask 255.255.0.0", save: "-m recent ! --rcheck --seconds 60 --reap --hitcount 3 --rttl --name foo --mask 255.255.0.0 --rdest",
		print: " ! recent: CHECK seconds: 60 reap hit_count: 3 TTL-Match name: foo side: dest mask: 255.255.0.0"},
	{rule: "-m recent --update --rttl --seconds 10", save: "-m recent --update --seconds 10 --rttl --name DEFAULT --mask 255.255.255.255 --rsource", print: " recent: UPDATE seconds: 10 TTL-Match name: DEFAULT side: source mask: 255.255.255.255"},
	{rule: "-m recent --remove", save: "-m recent --remove --name DEFAULT --mask 255.255.255.255 --rsource", print: " recent: REMOVE name: DEFAULT side: source mask: 255.255.255.255"},
	{rule: "-m recent ! --set", save: "-m recent ! --set --name DEFAULT --mask 255.255.255.255 --rsource", print: " ! recent: SET name: DEFAULT side: source mask: 255.255.255.255"},
	{rule: "-m recent --rcheck --rsource --rdest", save: "-m recent --rcheck --name DEFAULT --mask 255.255.255.255 --rdest", print: " recent: CHECK name: DEFAULT side: dest mask: 255.255.255.255"},
	{rule: "-m recent --rcheck --rdest --rsource", save: "-m recent --rcheck --name DEFAULT --mask 255.255.255.255 --rsource", print: " recent: CHECK name: DEFAULT side: source mask: 255.255.255.255"},
	{rule: "-m recent --rcheck --seconds 4294967295", noReload: true, save: "-m recent --rcheck --seconds -1 --name DEFAULT --mask 255.255.255.255 --rsource", print: " recent: CHECK seconds: -1 name: DEFAULT side: source mask: 255.255.255.255"},
	{rule: "-m recent --rcheck --seconds 2147483648", noReload: true, save: "-m recent --rcheck --seconds -2147483648 --name DEFAULT --mask 255.255.255.255 --rsource", print: " recent: CHECK seconds: -2147483648 name: DEFAULT side: source mask: 255.255.255.255"},
	{rule: "-m recent --rcheck --hitcount 0", save: "-m recent --rcheck --name DEFAULT --mask 255.255.255.255 --rsource", print: " recent: CHECK name: DEFAULT side: source mask: 255.255.255.255"},
	{rule: "-m recent --rcheck --hitcount 65535", save: "-m recent --rcheck --hitcount 65535 --name DEFAULT --mask 255.255.255.255 --rsource", print: " recent: CHECK hit_count: 65535 name: DEFAULT side: source mask: 255.255.255.255"},
	// Names are printed as they are; --mask takes inet_aton's forms.
	{rule: "-m recent --rcheck --name \"a b\"", noReload: true, save: "-m recent --rcheck --name a b --mask 255.255.255.255 --rsource", print: " recent: CHECK name: a b side: source mask: 255.255.255.255"},
	{rule: "-m recent --rcheck --mask 255.0.255.0", save: "-m recent --rcheck --name DEFAULT --mask 255.0.255.0 --rsource", print: " recent: CHECK name: DEFAULT side: source mask: 255.0.255.0"},
	{rule: "-m recent --rcheck --mask 24", save: "-m recent --rcheck --name DEFAULT --mask 0.0.0.24 --rsource", print: " recent: CHECK name: DEFAULT side: source mask: 0.0.0.24"},
	{rule: "-m recent --rcheck --mask 1.2", save: "-m recent --rcheck --name DEFAULT --mask 1.0.0.2 --rsource", print: " recent: CHECK name: DEFAULT side: source mask: 1.0.0.2"},
	{rule: "-m recent --rcheck --mask 0x10.1", save: "-m recent --rcheck --name DEFAULT --mask 16.0.0.1 --rsource", print: " recent: CHECK name: DEFAULT side: source mask: 16.0.0.1"},
	{rule: "-m recent --rcheck --mask 010.0.0.1", save: "-m recent --rcheck --name DEFAULT --mask 8.0.0.1 --rsource", print: " recent: CHECK name: DEFAULT side: source mask: 8.0.0.1"},
	{rule: "-m recent --rcheck --mask 4294967295", save: "-m recent --rcheck --name DEFAULT --mask 255.255.255.255 --rsource", print: " recent: CHECK name: DEFAULT side: source mask: 255.255.255.255"},
	{rule: "-m recent --rcheck --mask 4294967296", err: "getaddrinfo: Name or service not known\n"},
	{rule: "-m recent --rcheck --mask 1.2.3.4.5", err: "getaddrinfo: Name or service not known\n"},
	{rule: "-m recent --rcheck --mask \" 1.2.3.4\"", err: "getaddrinfo: Name or service not known\n"},
	{rule: "-m recent --rcheck --mask 1.2.3.256", err: "getaddrinfo: Name or service not known\n"},
	{rule: "-m recent --rcheck --mask 1.2.3.4/24", err: "getaddrinfo: Name or service not known\n"},
	{rule: "-m recent --rcheck --mask ::1", err: "getaddrinfo: Address family for hostname not supported\n"},

	// Parameter problems.
	{rule: "-m recent", err: "recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'"},
	{rule: "-m recent --reap", err: "recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'"},
	{rule: "-m recent --rcheck --set", err: "recent: option \"--set\" cannot be used together with \"--rcheck\".\n"},
	{rule: "-m recent --set --rcheck", err: "recent: option \"--set\" cannot be used together with \"--rcheck\".\n"},
	{rule: "-m recent --update --remove", err: "recent: option \"--update\" cannot be used together with \"--remove\".\n"},
	{rule: "-m recent --rttl --set", err: "recent: option \"--rttl\" cannot be used together with \"--set\".\n"},
	{rule: "-m recent --remove --rttl", err: "recent: option \"--rttl\" cannot be used together with \"--remove\".\n"},
	{rule: "-m recent --rcheck --reap", err: "recent: option \"--reap\" also requires \"--seconds\".\n"},
	{rule: "-m recent --rcheck --seconds 0", err: "recent: bad value for option \"--seconds\", or out of range (1-4294967295).\n"},
	{rule: "-m recent --rcheck --hitcount 4294967296", err: "recent: bad value for option \"--hitcount\", or out of range (0-4294967295).\n"},

	// xt_recent's checkentry.
	{rule: "-m recent --set --seconds 5", err: "xt_recent: --seconds, --hitcount, --rttl and --reap only go with --rcheck or --update", errno: syscall.EINVAL},
	{rule: "-m recent --set --hitcount 5", err: "xt_recent: --seconds, --hitcount, --rttl and --reap only go with --rcheck or --update", errno: syscall.EINVAL},
	{rule: "-m recent --remove --reap --seconds 3", err: "xt_recent: --seconds, --hitcount, --rttl and --reap only go with --rcheck or --update", errno: syscall.EINVAL},
	{rule: "-m recent --rcheck --name \"\"", err: "xt_recent: the name must not be empty", errno: syscall.EINVAL},
	{rule: "-m recent --rcheck --name a/b", err: `xt_recent: name "a/b" is not a valid /proc file name`, errno: syscall.EINVAL},
	{rule: "-m recent --rcheck --name ..", err: `xt_recent: name ".." is not a valid /proc file name`, errno: syscall.EINVAL},
}

func TestRecent(t *testing.T) { rlRun(t, recentRows) }

func TestRecentOracle(t *testing.T) { rlOracle(t, recentRows) }

// TestRecentNameLength: names are cut to 199 bytes (XT_RECENT_NAME_LEN
// with its NUL), silently, as iptables does.
func TestRecentNameLength(t *testing.T) {
	ms, err := rlLoad(rlRow{rule: "-m recent --rcheck --name " + strings.Repeat("n", 205)})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(ms[0].m.(*Recent).Name); n != 199 {
		t.Errorf("name kept %d bytes, want 199", n)
	}
}

// recentStep sends one packet from src (to 198.18.9.9) at stEpoch+at
// through the rule numbered rule of the script and expects want.
type recentStep struct {
	rule int
	src  string
	at   time.Duration
	want bool
}

// runRecent loads rules into one engine environment (so they share their
// lists) and plays steps through them.
func runRecent(t *testing.T, name string, env *Env, rules []string, steps []recentStep) {
	t.Helper()
	ms := make([]Matcher, len(rules))
	for i, r := range rules {
		ms[i] = stMatch(t, env, "-m recent "+r)
	}
	for i, s := range steps {
		p := at(stUDP(t, s.src, 1000, "198.18.9.9", 53, nil), stEpoch+s.at)
		if got := ms[s.rule].Match(p); got != s.want {
			t.Errorf("%s: step %d (%s from %s at +%v): %v, want %v", name, i, rules[s.rule], s.src, s.at, got, s.want)
			return
		}
	}
}

// TestRecentMatch plays xt_recent's commands against shared lists.
func TestRecentMatch(t *testing.T) {
	const a, b = "198.18.0.1", "198.18.0.2"
	for _, c := range []struct {
		name  string
		rules []string
		steps []recentStep
	}{
		{"set rcheck remove", []string{"--set --name l", "--rcheck --name l", "--remove --name l", "! --rcheck --name l"}, []recentStep{
			{1, a, 0, false}, {3, a, 0, true}, // nothing listed yet
			{0, a, 0, true}, // --set always matches
			{1, a, 0, true}, {1, b, 0, false}, {3, a, 0, false},
			{2, a, 0, true}, {1, a, 0, false}, {2, a, 0, false}, // removed once
		}},
		// --seconds counts a stamp exactly that old, not a jiffy older.
		{"seconds", []string{"--set --name l", "--rcheck --seconds 10 --name l"}, []recentStep{
			{0, a, 0, true}, {1, a, 10 * time.Second, true}, {1, a, 10*time.Second + time.Millisecond, false},
		}},
		// --hitcount counts the stamps within --seconds.
		{"hitcount", []string{"--set --name l", "--rcheck --hitcount 3 --name l", "--rcheck --hitcount 4 --name l", "--rcheck --seconds 2 --hitcount 3 --name l"}, []recentStep{
			{0, a, 0, true}, {0, a, time.Second, true}, {1, a, time.Second, false}, {0, a, 2 * time.Second, true},
			{1, a, 2 * time.Second, true}, {2, a, 2 * time.Second, false},
			{3, a, 2 * time.Second, true}, {3, a, 2*time.Second + time.Millisecond, false},
		}},
		// --update stamps only when it matches; --rcheck never does.
		{"update", []string{"--set --name l", "--update --seconds 5 --name l", "--rcheck --seconds 5 --name l", "--rcheck --seconds 100 --hitcount 4 --name l", "--rcheck --seconds 100 --hitcount 3 --name l"}, []recentStep{
			{0, a, 0, true},
			{2, a, 4 * time.Second, true}, {2, a, 6 * time.Second, false}, // rcheck did not refresh
			{1, a, 4 * time.Second, true}, {1, a, 8 * time.Second, true}, {1, a, 14 * time.Second, false},
			{3, a, 20 * time.Second, false}, {4, a, 20 * time.Second, true}, // stamps 0, 4, 8: the miss at 14 s left none
		}},
		// --reap drops the least recently updated entry when all its
		// stamps are older than --seconds.
		{"reap", []string{"--set --name l", "--rcheck --seconds 3 --reap --name l", "--rcheck --name l"}, []recentStep{
			{0, a, 0, true}, {0, b, 5 * time.Second, true},
			{2, a, 5 * time.Second, true},
			{1, b, 6 * time.Second, true}, // reaps a
			{2, a, 6 * time.Second, false}, {2, b, 6 * time.Second, true},
		}},
		{"no reap", []string{"--set --name l", "--rcheck --seconds 3 --name l", "--rcheck --name l"}, []recentStep{
			{0, a, 0, true}, {0, b, 5 * time.Second, true}, {1, b, 6 * time.Second, true}, {2, a, 6 * time.Second, true},
		}},
		// "! --update --reap" that reaps its own entry: the kernel would
		// stamp the freed entry; it stays gone.
		{"reap own", []string{"--set --name l", "! --update --seconds 1 --reap --name l", "--rcheck --name l"}, []recentStep{
			{0, a, 0, true}, {1, a, 5 * time.Second, true}, {2, a, 5 * time.Second, false},
		}},
		// --rdest lists destinations.
		{"rdest", []string{"--set --rdest --name l", "--rcheck --name l", "--rcheck --rdest --name l"}, []recentStep{
			{0, a, 0, true}, {1, a, 0, false}, {1, "198.18.9.9", 0, true}, {2, b, 0, true},
		}},
		// --mask: the list keeps the mask of the rule that created it.
		{"mask", []string{"--set --name m --mask 255.255.255.0", "--rcheck --name m --mask 255.255.255.255", "--rcheck --name m"}, []recentStep{
			{0, a, 0, true}, {1, "198.18.0.99", 0, true}, {2, "198.18.1.1", 0, false},
		}},
	} {
		runRecent(t, c.name, &Env{}, c.rules, c.steps)
	}
}

// TestRecentFull: a list holds ip_list_tot (100) entries; the least
// recently updated one makes room for the next.
func TestRecentFull(t *testing.T) {
	env := &Env{}
	set := stMatch(t, env, "-m recent --set --name full")
	check := stMatch(t, env, "-m recent --rcheck --name full")
	src := func(i int) string { return fmt.Sprintf("198.18.%d.%d", i/250, i%250+1) }
	pkt := func(i int, d time.Duration) *packet.Packet {
		return at(stUDP(t, src(i), 1000, "198.18.9.9", 53, nil), stEpoch+d)
	}
	for i := range 100 {
		set.Match(pkt(i, time.Duration(i)*time.Millisecond))
	}
	set.Match(pkt(0, time.Second)) // 0 is now the most recent
	set.Match(pkt(100, time.Second))
	set.Match(pkt(101, time.Second))
	for _, c := range []struct {
		i    int
		want bool
	}{{0, true}, {1, false}, {2, false}, {3, true}, {99, true}, {100, true}, {101, true}} {
		if got := check.Match(pkt(c.i, time.Second)); got != c.want {
			t.Errorf("%s listed: %v, want %v", src(c.i), got, c.want)
		}
	}
	if n := len(set.(*Recent).table.Load().m); n != 100 {
		t.Errorf("list holds %d entries, want 100", n)
	}
}

// TestRecentStamps: an entry keeps the last 32 stamps by default; a rule
// asking for more hits widens the ring, which flushes the list.
func TestRecentStamps(t *testing.T) {
	env := &Env{}
	set := stMatch(t, env, "-m recent --set --name ring")
	p := func(d time.Duration) *packet.Packet {
		return at(stUDP(t, "198.18.0.1", 1000, "198.18.9.9", 53, nil), stEpoch+d)
	}
	for i := range 40 {
		set.Match(p(time.Duration(i) * time.Second))
	}
	if !stMatch(t, env, "-m recent --rcheck --hitcount 32 --name ring").Match(p(time.Minute)) {
		t.Error("32 of 40 stamps did not count")
	}
	// The ring holds the last 32 stamps, 8 s .. 39 s.
	tab := set.(*Recent).table.Load()
	e := tab.m[0xc6120001]
	oldest := slices.Min(e.stamps[:e.nstamps])
	if e.nstamps != 32 || oldest != jiffies(int64(stEpoch+8*time.Second)) {
		t.Errorf("ring of %d stamps from %d, want 32 from %d", e.nstamps, oldest, jiffies(int64(stEpoch+8*time.Second)))
	}
	wide := stMatch(t, env, "-m recent --rcheck --hitcount 33 --name ring")
	if wide.Match(p(time.Minute)) {
		t.Error("widening the ring did not flush the list")
	}
	for i := range 40 {
		set.Match(p(time.Minute + time.Duration(i)*time.Second))
	}
	if !wide.Match(p(2 * time.Minute)) {
		t.Error("a 64-stamp ring did not count 33 of 40 stamps")
	}
}

// TestRecentTTL: --rttl also compares the TTL, taking a forwarded packet's
// TTL as it was before the router decremented it.
func TestRecentTTL(t *testing.T) {
	env := &Env{}
	set := stMatch(t, env, "-m recent --set --name ttl")
	check := stMatch(t, env, "-m recent --rcheck --rttl --name ttl")
	plain := stMatch(t, env, "-m recent --rcheck --name ttl")
	p := func(ttl uint8, out string, owner bool) *packet.Packet {
		q := at(stUDP(t, "198.18.0.1", 1000, "198.18.9.9", 53, nil, packet.WithTTL(ttl)), stEpoch)
		q.OutIface, q.HasOwner = out, owner
		return q
	}
	set.Match(p(64, "", false))
	for _, c := range []struct {
		m     Matcher
		ttl   uint8
		out   string
		owner bool
		want  bool
	}{
		{check, 64, "", false, true},
		{check, 63, "", false, false},
		{plain, 63, "", false, true},
		{check, 63, "eth1", false, true}, // forwarded: 63 was 64
		{check, 63, "eth1", true, false}, // local: taken as is
	} {
		if got := c.m.Match(p(c.ttl, c.out, c.owner)); got != c.want {
			t.Errorf("TTL %d out %q owner %v: %v, want %v", c.ttl, c.out, c.owner, got, c.want)
		}
	}
}

// TestRecentAllocs: checking, updating and setting a listed address, and
// setting a new one in a full list, allocate nothing.
func TestRecentAllocs(t *testing.T) {
	env := &Env{}
	set := stMatch(t, env, "-m recent --set --name allocs")
	for _, rule := range []string{"--rcheck --seconds 60 --hitcount 2", "--update --seconds 60", "--set"} {
		m := stMatch(t, env, "-m recent "+rule+" --name allocs")
		p := stUDP(t, "198.18.0.1", 1000, "198.18.9.9", 53, nil)
		set.Match(at(p, stEpoch))
		var now time.Duration
		if n := testing.AllocsPerRun(1000, func() {
			now += time.Millisecond
			m.Match(at(p, stEpoch+now))
		}); n != 0 {
			t.Errorf("%s: Match allocates %v times per packet", rule, n)
		}
	}
	ps := make([]*packet.Packet, 300)
	for i := range ps {
		ps[i] = stUDP(t, fmt.Sprintf("198.18.%d.%d", i/250+1, i%250+1), 1000, "198.18.9.9", 53, nil)
	}
	for _, p := range ps[:200] { // fill the list and its free list
		set.Match(at(p, stEpoch))
	}
	i := 0
	if n := testing.AllocsPerRun(100, func() {
		set.Match(at(ps[200+i%100], stEpoch))
		i++
	}); n != 0 {
		t.Errorf("--set evicting into a full list allocates %v times per packet", n)
	}
}

// TestRecentConcurrent: workers setting, updating and removing in one list
// keep it consistent (run with -race).
func TestRecentConcurrent(t *testing.T) {
	env := &Env{}
	rules := []Matcher{
		stMatch(t, env, "-m recent --set --name conc"),
		stMatch(t, env, "-m recent --update --seconds 1 --reap --name conc"),
		stMatch(t, env, "-m recent --rcheck --hitcount 2 --name conc"),
		stMatch(t, env, "-m recent --remove --name conc"),
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				p := stUDP(t, fmt.Sprintf("198.18.%d.%d", w, i%150+1), 1000, "198.18.9.9", 53, nil)
				rules[(i+w)%len(rules)].Match(at(p, stEpoch+time.Duration(i)*time.Millisecond))
			}
		}()
	}
	wg.Wait()
	tab := rules[0].(*Recent).table.Load()
	n := 0
	for e := tab.oldest; e != nil; e = e.newer {
		if tab.m[e.addr] != e {
			t.Fatalf("entry %#x on the LRU list is not in the map", e.addr)
		}
		n++
	}
	if n != len(tab.m) || n > recentListTot {
		t.Errorf("LRU list %d, map %d, limit %d", n, len(tab.m), recentListTot)
	}
}
