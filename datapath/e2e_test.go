package datapath_test

// End-to-end tests of issue 5 ("How it is checked"): gofwd firewalling
// real traffic in a router namespace, compared with the kernel doing the
// same job (iptables-legacy-restore of the same rules file, the kernel's
// conntrack and NAT) in a sibling topology, for the same traffic. See
// e2e_helpers_test.go for the topology. They run as root, with ip,
// iptables-legacy and conntrack installed, and skip otherwise.

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestE2EInput: a stateful INPUT allow-list with a DROP policy (accepted
// or silently dropped), REJECT with a TCP reset and with each ICMP
// answer (the client sees the same error), and the router's own
// connections let back in as ESTABLISHED or RELATED.
func TestE2EInput(t *testing.T) {
	// The kernel sends at most 6 ICMP errors at once to a host
	// (icmp_ratelimit, TestE2EICMPRateLimit); this test sends more.
	p := newPair(t, "testdata/input.v4", "iptables-legacy", "net.ipv4.icmp_ratelimit=0")
	var srvs []server
	for _, port := range []string{"22", "80", "81"} {
		srvs = append(srvs, server{router, "tcp", "0.0.0.0:" + port})
	}
	for _, port := range []string{"53", "54"} {
		srvs = append(srvs, server{router, "udp", "0.0.0.0:" + port})
	}
	srvs = append(srvs, server{wan, "tcp", wanIP + ":80"}, server{wan, "udp", wanIP + ":53"})
	p.serve(srvs...)

	hello := func(srv, client string) string { return fmt.Sprintf("hello from %s, you are %s", srv, client) }
	xs := []exchange{
		// The allow-list: NEW accepted by port (and source), the rest
		// meets the DROP policy.
		{lan, "tcp", rtrLanIP + ":80", 40001, hello(rtrLanIP+":80", lanIP+":40001")},
		{lan, "tcp", rtrWanIP + ":80", 40002, hello(rtrWanIP+":80", lanIP+":40002")},
		{wan, "tcp", rtrWanIP + ":80", 40003, hello(rtrWanIP+":80", wanIP+":40003")},
		{lan, "tcp", rtrLanIP + ":22", 40004, hello(rtrLanIP+":22", lanIP+":40004")},
		{wan, "tcp", rtrWanIP + ":22", 40005, "timeout"},
		{lan, "tcp", rtrLanIP + ":81", 40006, "timeout"},
		{lan, "udp", rtrLanIP + ":53", 40007, hello("0.0.0.0:53", lanIP+":40007")},
		{lan, "udp", rtrLanIP + ":54", 40008, "timeout"},
		{wan, "udp", rtrWanIP + ":54", 40009, "refused ECONNREFUSED"}, // REJECT's default answer

		// REJECT: the TCP reset and each ICMP answer, as the client's
		// socket reports them (icmp_err_convert); UDP sockets ignore
		// the non-fatal net and host unreachable codes.
		{lan, "tcp", rtrLanIP + ":23", 40010, "refused ECONNREFUSED"},
		{lan, "tcp", rtrLanIP + ":24", 40011, "refused ECONNREFUSED"},
		{lan, "udp", rtrLanIP + ":24", 40012, "refused ECONNREFUSED"},
		{lan, "tcp", rtrLanIP + ":25", 40013, "refused ENETUNREACH"},
		{lan, "udp", rtrLanIP + ":25", 40014, "timeout"},
		{lan, "tcp", rtrLanIP + ":26", 40015, "refused EHOSTUNREACH"},
		{lan, "udp", rtrLanIP + ":26", 40016, "timeout"},
		{lan, "tcp", rtrLanIP + ":27", 40017, "refused ENOPROTOOPT"},
		{lan, "udp", rtrLanIP + ":27", 40018, "refused ENOPROTOOPT"},
		{lan, "tcp", rtrLanIP + ":28", 40019, "refused ENETUNREACH"},
		{lan, "udp", rtrLanIP + ":28", 40020, "refused ENETUNREACH"},
		{lan, "tcp", rtrLanIP + ":29", 40021, "refused EHOSTUNREACH"},
		{lan, "udp", rtrLanIP + ":29", 40022, "refused EHOSTUNREACH"},
		{lan, "tcp", rtrLanIP + ":30", 40023, "refused EHOSTUNREACH"},
		{lan, "udp", rtrLanIP + ":30", 40024, "refused EHOSTUNREACH"},

		// The router's own connections: replies come back as
		// ESTABLISHED (a TCP reset too), an ICMP error as RELATED,
		// loopback by -i lo.
		{router, "tcp", wanIP + ":80", 40025, hello(wanIP+":80", rtrWanIP+":40025")},
		{router, "tcp", wanIP + ":81", 40026, "refused ECONNREFUSED"},
		{router, "udp", wanIP + ":53", 40027, hello(wanIP+":53", rtrWanIP+":40027")},
		{router, "udp", wanIP + ":7", 40028, "refused ECONNREFUSED"},
		{router, "tcp", "127.0.0.1:81", 40029, hello("127.0.0.1:81", "127.0.0.1:40029")},
	}
	p.exchange(xs...)
	t.Run("conntrack", func(t *testing.T) { p.compareConntrack(t) })
	t.Run("counters", func(t *testing.T) { p.compareCounters(t, "filter") })
}

// TestE2EForwardNAT: FORWARD with MASQUERADE (the server sees the
// router's address) and DNAT port-forwards (the server sees the client,
// and the replies come back from the address the client dialled, or its
// connected socket would not take them), FORWARD's DROP policy for the
// rest.
func TestE2EForwardNAT(t *testing.T) {
	p := newPair(t, "testdata/forward.v4", "iptables-legacy")
	p.serve(server{wan, "tcp", wanIP + ":80"}, server{wan, "udp", wanIP + ":53"},
		server{lan, "tcp", lanIP + ":80"}, server{lan, "udp", lanIP + ":53"})
	hello := func(srv, client string) string { return fmt.Sprintf("hello from %s, you are %s", srv, client) }
	p.exchange(
		// Masqueraded: the wan server sees the router, the port kept.
		exchange{lan, "tcp", wanIP + ":80", 44001, hello(wanIP+":80", rtrWanIP+":44001")},
		exchange{lan, "udp", wanIP + ":53", 44002, hello(wanIP+":53", rtrWanIP+":44002")},
		exchange{lan, "tcp", wanIP + ":81", 44003, "refused ECONNREFUSED"}, // the reset comes back through NAT
		// Port-forwarded to the LAN host.
		exchange{wan, "tcp", rtrWanIP + ":8080", 44004, hello(lanIP+":80", wanIP+":44004")},
		exchange{wan, "udp", rtrWanIP + ":5353", 44005, hello(lanIP+":53", wanIP+":44005")},
		// Not forwarded: FORWARD's and INPUT's DROP policies.
		exchange{wan, "tcp", lanIP + ":80", 44006, "timeout"},
		exchange{wan, "udp", lanIP + ":53", 44007, "timeout"},
		exchange{wan, "tcp", rtrWanIP + ":8081", 44008, "timeout"},
		exchange{lan, "tcp", rtrLanIP + ":80", 44009, "timeout"},
	)
	t.Run("conntrack", func(t *testing.T) { p.compareConntrack(t) })
	t.Run("counters", func(t *testing.T) { p.compareCounters(t, "filter", "nat") })
}

// TestE2EICMPRelated: ICMP errors about a flow pass only as RELATED (no
// rule accepts ICMP otherwise) and reach the client through the NAT, with
// the packet they quote translated back; a reset is ESTABLISHED. gofwd
// runs with --divert auto here, whichever backend the host's iptables is.
func TestE2EICMPRelated(t *testing.T) {
	p := newPair(t, "testdata/related.v4", "auto")
	// auto picked the backend of the host's iptables, and the divert is
	// there.
	m := regexp.MustCompile(`diverting traffic with (\S+)`).FindStringSubmatch(p.g.gofwd.output())
	if m == nil {
		t.Fatalf("gofwd --divert auto does not say which backend it took:\n%s", p.g.gofwd.output())
	}
	backend, ok := map[string]string{"iptables-legacy": "(legacy)", "iptables-nft": "(nf_tables)"}[m[1]]
	if v, _, _ := runCmd(20*time.Second, nil, "iptables", "-V"); !ok || !strings.Contains(v, backend) {
		t.Errorf("--divert auto took %s, but iptables -V says %q", m[1], v)
	}
	if out := p.g.must(p.g.in(router, m[1]+"-save")...); !strings.Contains(out, `--comment "gofw divert" -j GOFW-`) {
		t.Errorf("--divert auto: %s-save shows no divert:\n%s", m[1], out)
	}
	p.serve(server{wan, "udp", wanIP + ":53"}, server{lan, "udp", lanIP + ":53"})
	p.exchange(
		// Forwarded and masqueraded: the wan host's port unreachable
		// is RELATED in FORWARD.
		exchange{lan, "udp", wanIP + ":7", 45001, "refused ECONNREFUSED"},
		exchange{lan, "udp", wanIP + ":53", 45002, fmt.Sprintf("hello from %s:53, you are %s:45002", wanIP, rtrWanIP)},
		exchange{lan, "tcp", wanIP + ":7", 45003, "refused ECONNREFUSED"},
		// The router's own flow: RELATED in INPUT.
		exchange{router, "udp", wanIP + ":7", 45004, "refused ECONNREFUSED"},
		// Nothing comes in from the wan side unasked.
		exchange{wan, "udp", lanIP + ":53", 45005, "timeout"},
	)
	t.Run("conntrack", func(t *testing.T) { p.compareConntrack(t) })
	t.Run("counters", func(t *testing.T) { p.compareCounters(t, "filter", "nat") })
}

// TestE2EFailSafe: gofwd killed with SIGKILL leaves its divert behind:
// without --fail-open nothing passes any more (fail closed), with it
// everything passes, unfiltered and untracked. A restarted gofwd removes
// the stale divert (exactly one set of GOFW chains and jumps remains) and
// filters as before, as the kernel does.
func TestE2EFailSafe(t *testing.T) {
	p := newPair(t, "testdata/forward.v4", "iptables-legacy")
	p.serve(server{wan, "tcp", wanIP + ":80"}, server{lan, "tcp", lanIP + ":80"}, server{router, "tcp", "0.0.0.0:8081"})
	hello := func(srv, client string) string { return fmt.Sprintf("hello from %s, you are %s", srv, client) }
	// filtering: the same exchanges through gofwd and the kernel, from
	// fresh ports each time.
	port := 46000
	filtering := func() {
		t.Helper()
		port += 10
		p.exchange(
			exchange{lan, "tcp", wanIP + ":80", port + 1, hello(wanIP+":80", fmt.Sprintf("%s:%d", rtrWanIP, port+1))},
			exchange{wan, "tcp", rtrWanIP + ":8081", port + 2, "timeout"},
			exchange{wan, "tcp", lanIP + ":80", port + 3, "timeout"},
		)
	}
	// gofwOnly runs exchanges through gofw's topology alone: the kernel
	// has no dead daemon to compare with.
	gofwOnly := func(want [3]string) {
		t.Helper()
		port += 10
		xs := []exchange{
			{lan, "tcp", wanIP + ":80", port + 1, want[0]},
			{wan, "tcp", rtrWanIP + ":8081", port + 2, want[1]},
			{wan, "tcp", lanIP + ":80", port + 3, want[2]},
		}
		got := make([]string, len(xs))
		var wg sync.WaitGroup
		for i, x := range xs {
			wg.Add(1)
			go func() { defer wg.Done(); got[i] = p.g.dial(x.from, x.proto, x.addr, x.secs(), x.lport, 0) }()
		}
		wg.Wait()
		for i, x := range xs {
			if got[i] != x.want {
				t.Errorf("%v: gofw says %q, want %q", x, got[i], x.want)
			}
		}
	}
	kill := func() {
		t.Helper()
		if !p.g.gofwd.kill() {
			t.Fatal("gofwd still running 10 s after SIGKILL")
		}
	}

	filtering()
	divert := p.g.divertLines()
	if len(divert) == 0 {
		t.Fatal("no divert in iptables-legacy-save")
	}

	// Fail closed: the divert stays, and no packet passes.
	kill()
	if got := p.g.divertLines(); !slices.Equal(got, divert) {
		t.Errorf("after SIGKILL, the divert is\n%s\nwant it left as it was:\n%s", strings.Join(got, "\n"), strings.Join(divert, "\n"))
	}
	gofwOnly([3]string{"timeout", "timeout", "timeout"})

	// Restarted: the stale divert replaced, filtering as before.
	p.g.startGofwd("iptables-legacy")
	if got := p.g.divertLines(); !slices.Equal(got, divert) {
		t.Errorf("restarted, the divert is\n%s\nwant exactly\n%s", strings.Join(got, "\n"), strings.Join(divert, "\n"))
	}
	filtering()

	// --fail-open: the same divert with --queue-bypass; filtering while
	// gofwd runs, everything passing (and nothing NATed) once it is
	// killed.
	kill()
	p.g.startGofwd("iptables-legacy", "--fail-open")
	var bypass []string
	for _, l := range divert {
		if strings.Contains(l, "-j NFQUEUE") {
			l += " --queue-bypass"
		}
		bypass = append(bypass, l)
	}
	if got := p.g.divertLines(); !slices.Equal(got, bypass) {
		t.Errorf("with --fail-open, the divert is\n%s\nwant exactly\n%s", strings.Join(got, "\n"), strings.Join(bypass, "\n"))
	}
	filtering()
	kill()
	gofwOnly([3]string{
		hello(wanIP+":80", fmt.Sprintf("%s:%d", lanIP, port+11)),
		hello(rtrWanIP+":8081", fmt.Sprintf("%s:%d", wanIP, port+12)),
		hello(lanIP+":80", fmt.Sprintf("%s:%d", wanIP, port+13)),
	})

	// Restarted without --fail-open: the bypass divert is gone.
	p.g.startGofwd("iptables-legacy")
	if got := p.g.divertLines(); !slices.Equal(got, divert) {
		t.Errorf("restarted after --fail-open, the divert is\n%s\nwant exactly\n%s", strings.Join(got, "\n"), strings.Join(divert, "\n"))
	}
	filtering()
}

// TestE2EICMPRateLimit: the kernel sends REJECT's ICMP errors through
// icmp_send, which lets at most 6 out at once to a host (icmp_ratelimit,
// here one more per 10 s); its TCP resets are not limited. Which of a
// burst of rejected datagrams get their answer is a race, so the test
// counts the outcomes.
func TestE2EICMPRateLimit(t *testing.T) {
	p := newPair(t, "testdata/input.v4", "iptables-legacy", "net.ipv4.icmp_ratelimit=10000")
	var xs []exchange
	for i := range 8 {
		xs = append(xs,
			exchange{lan, "udp", rtrLanIP + ":24", 47001 + i, ""},
			exchange{lan, "tcp", rtrLanIP + ":23", 47011 + i, ""})
	}
	got := [2]map[string]int{{}, {}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, x := range xs {
		for j, s := range []*side{p.g, p.k} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out := s.dial(x.from, x.proto, x.addr, dropSecs, x.lport, 0)
				mu.Lock()
				got[j][x.proto+" "+out]++
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	want := map[string]int{"udp refused ECONNREFUSED": 6, "udp timeout": 2, "tcp refused ECONNREFUSED": 8}
	if !maps.Equal(got[1], want) {
		t.Errorf("the kernel's outcomes: %v, the test wants %v (the test is wrong)", got[1], want)
	}
	if !maps.Equal(got[0], got[1]) {
		t.Errorf("gofw's outcomes: %v, the kernel's %v", got[0], got[1])
	}
	t.Run("counters", func(t *testing.T) { p.compareCounters(t, "filter") })
}

// TestE2EFTP: passive FTP downloads through the router, whose FORWARD
// chain lets the data connections through only as RELATED, that is only
// through the ftp helper's expectations: from the LAN to a masqueraded
// server, and from the wan side to a port-forwarded LAN server, whose
// PASV reply names its own address and must be rewritten to the router's
// (nf_nat_ftp). PASV and EPSV both. On port 2121 there is no helper and
// the data connection is dropped.
func TestE2EFTP(t *testing.T) {
	p := newPair(t, "testdata/ftp.v4", "iptables-legacy")
	srvs := []server{{wan, "tcp", wanIP + ":21"}, {lan, "tcp", lanIP + ":21"}, {wan, "tcp", wanIP + ":2121"}}
	pasvBase := []int{30000, 30100, 30200}
	p.g.ftpServe(srvs, pasvBase)
	p.k.ftpServe(srvs, pasvBase)

	type transfer struct {
		from         host
		server, mode string
		lctrl, ldata int
		dataSecs     string
		want         string
	}
	ok := fmt.Sprintf("retrieved %d bytes, intact", len(ftpFile))
	waves := [][]transfer{{
		{lan, wanIP + ":21", "pasv", 41001, 41002, "5", "passive " + wanIP + ":30000\n" + ok},
		{wan, rtrWanIP + ":21", "pasv", 41011, 41012, "5", "passive " + rtrWanIP + ":30100\n" + ok},
		{lan, wanIP + ":2121", "pasv", 41021, 41022, dropSecs, "passive " + wanIP + ":30200\ndata connection: timeout"},
	}, {
		{lan, wanIP + ":21", "epsv", 41003, 41004, "5", "passive " + wanIP + ":30001\n" + ok},
		{wan, rtrWanIP + ":21", "epsv", 41013, 41014, "5", "passive " + rtrWanIP + ":30101\n" + ok},
	}}
	// A server's passive ports go in the order of its sessions: one
	// session per server at a time.
	for _, wave := range waves {
		got := make([][2]string, len(wave))
		var wg sync.WaitGroup
		for i, x := range wave {
			for j, s := range []*side{p.g, p.k} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					got[i][j] = s.ftp(x.from, x.server, x.mode, x.lctrl, x.ldata, x.dataSecs)
				}()
			}
		}
		wg.Wait()
		for i, x := range wave {
			g, k := got[i][0], got[i][1]
			if k != x.want {
				t.Errorf("%s %s → %s: the kernel gives %q, the test wants %q (the test is wrong)", x.from, x.mode, x.server, k, x.want)
			}
			if g != k {
				t.Errorf("%s %s → %s: gofw gives %q, the kernel %q", x.from, x.mode, x.server, g, k)
			}
		}
	}
	t.Run("conntrack", func(t *testing.T) { p.compareConntrack(t) })
	t.Run("counters", func(t *testing.T) { p.compareCounters(t, "raw", "filter", "nat") })
}

// TestE2ERejectAnswers: REJECT's answers belong to the rejected packet's
// connection, as nf_ct_attach makes the kernel's: RELATED in OUTPUT (an
// OUTPUT rule dropping INVALID packets lets them by), and a reset leaving
// by the masquerading interface walks nat POSTROUTING (nf_nat_inet_fn does
// so for RELATED_REPLY packets that are not ICMP), so MASQUERADE counts it.
func TestE2ERejectAnswers(t *testing.T) {
	p := newPair(t, "testdata/reject.v4", "iptables-legacy")
	p.exchange(
		exchange{lan, "tcp", rtrLanIP + ":23", 48001, "refused ECONNREFUSED"},
		exchange{lan, "udp", rtrLanIP + ":24", 48002, "refused ECONNREFUSED"},
		exchange{wan, "tcp", lanIP + ":81", 48003, "refused ECONNREFUSED"},
		exchange{wan, "udp", lanIP + ":81", 48004, "refused EHOSTUNREACH"},
	)
	t.Run("conntrack", func(t *testing.T) { p.compareConntrack(t) })
	t.Run("counters", func(t *testing.T) { p.compareCounters(t, "filter", "nat") })
}

// TestE2ERejectOutput: the router's own connections rejected in OUTPUT.
// The kernel's answer keeps the rejected connection as it goes out
// through OUTPUT and comes back in through loopback, so it is RELATED
// both ways and the local client sees the error at once.
func TestE2ERejectOutput(t *testing.T) {
	p := newPair(t, "testdata/reject.v4", "iptables-legacy")
	p.exchange(
		exchange{router, "tcp", wanIP + ":25", 48011, "refused ECONNREFUSED"},
		exchange{router, "udp", wanIP + ":25", 48012, "refused EHOSTUNREACH"},
	)
	t.Run("conntrack", func(t *testing.T) { p.compareConntrack(t) })
	t.Run("counters", func(t *testing.T) { p.compareCounters(t, "filter", "nat") })
}
