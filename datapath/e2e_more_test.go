package datapath_test

// More end-to-end tests of issue 5, for what was only unit-tested so far:
// MASQUERADE entries dying with their interface or address, the packet
// mark reaching the kernel's policy routing, the NFQUEUE hand-off to
// another queue, and SIGHUP reloads under traffic. Same harness and
// topology as e2e_test.go (e2e_helpers_test.go): gofwd in one router,
// the kernel with the same rules in the other, the kernel the yardstick.

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/florianl/go-nfqueue/v2"
	"golang.org/x/sys/unix"
)

// A second subnet on the wan link, for TestE2EMasqueradeDown: MASQUERADE
// takes the router's address in the subnet of the next hop, so flows to
// wan2IP are masqueraded to rtrWan2IP and flows to wanIP to rtrWanIP.
const (
	rtrWan2IP = "198.19.2.1"
	wan2IP    = "198.19.2.2"
)

// both runs argv in host h of both topologies, the gofw side first, and
// fails the test if either fails.
func (p *pair) both(h host, argv ...string) {
	p.t.Helper()
	p.g.must(p.g.in(h, argv...)...)
	p.k.must(p.k.in(h, argv...)...)
}

// ctEntry finds the original direction's source port of a conntrack -L
// line: the client's fixed port names the entry in these tests.
var ctEntry = regexp.MustCompile(`^[a-z0-9]+\s+\d+ \d+ .*? sport=(\d+) `)

// ctClientPorts lists, sorted, the original source ports of the side's
// connection table.
func (s *side) ctClientPorts() []int {
	var ports []int
	for _, l := range strings.Split(s.conntrackList(), "\n") {
		if m := ctEntry.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[1])
			ports = append(ports, n)
		}
	}
	sort.Ints(ports)
	return ports
}

// waitCtPorts waits (at most 10 s) until the kernel's connection table
// holds the entries of exactly the client ports want, as the kernel's
// masquerade notifiers remove entries from a work queue, not at once; then
// gofw's table must list the same entries, states and tuples.
func (p *pair) waitCtPorts(t *testing.T, what string, want []int) {
	t.Helper()
	var got []int
	if !poll(10*time.Second, func() bool { got = p.k.ctClientPorts(); return slices.Equal(got, want) }) {
		t.Fatalf("%s: the kernel's table holds the entries of ports %v, the test wants %v (the test is wrong)", what, got, want)
	}
	p.compareConntrack(t)
}

// TestE2EMasqueradeDown: MASQUERADE entries die with what they were
// masqueraded to, as the kernel's masquerade notifiers make them
// (nf_nat_masquerade.c): when the router's address is removed from the
// wan link, the entries whose reply comes back to that address
// (masq_inet_event, inet_cmp); when the link goes down, every entry
// masqueraded on it (masq_device_event, device_cmp). Entries of the same
// link that are not masqueraded (port-forwards, a source NAT to the same
// address) stay, even when the link is deleted with its addresses. gofwd
// learns of all this from rtnetlink (datapath/links.go), after a burst of
// other changes too.
func TestE2EMasqueradeDown(t *testing.T) {
	p := newPairSetup(t, "testdata/masq.v4", "iptables-legacy", func(s *side) {
		s.ipBatch(s.ns[router],
			"addr add "+rtrWan2IP+"/24 dev veth-wan",
			"route replace 198.19.2.0/24 dev veth-wan proto kernel scope link src "+rtrWan2IP+" quickack 1 rto_min 3s")
		s.ipBatch(s.ns[wan],
			"addr add "+wan2IP+"/24 dev eth0",
			"route replace 198.19.2.0/24 dev eth0 proto kernel scope link src "+wan2IP+" quickack 1 rto_min 3s")
	})
	p.serve(server{wan, "tcp", "0.0.0.0:80"}, server{wan, "udp", "0.0.0.0:53"}, server{wan, "udp", "0.0.0.0:54"},
		server{lan, "tcp", lanIP + ":80"}, server{lan, "udp", lanIP + ":53"})
	hello := func(srv, client string) string { return fmt.Sprintf("hello from %s, you are %s", srv, client) }
	p.exchange(
		// Masqueraded to the router's first wan address.
		exchange{lan, "tcp", wanIP + ":80", 49001, hello(wanIP+":80", rtrWanIP+":49001")},
		exchange{lan, "udp", wanIP + ":53", 49002, hello("0.0.0.0:53", rtrWanIP+":49002")},
		// Masqueraded to its second one.
		exchange{lan, "tcp", wan2IP + ":80", 49003, hello(wan2IP+":80", rtrWan2IP+":49003")},
		exchange{lan, "udp", wan2IP + ":53", 49004, hello("0.0.0.0:53", rtrWan2IP+":49004")},
		// Port-forwarded in by the same link, not masqueraded.
		exchange{wan, "tcp", rtrWanIP + ":8080", 49005, hello(lanIP+":80", wanIP+":49005")},
		exchange{wan, "udp", rtrWanIP + ":5353", 49006, hello(lanIP+":53", wanIP+":49006")},
		// Source-NATed to the first wan address, not masqueraded.
		exchange{lan, "udp", wanIP + ":54", 49007, hello("0.0.0.0:54", rtrWanIP+":49007")},
	)
	t.Run("before", func(t *testing.T) { p.waitCtPorts(t, "before", []int{49001, 49002, 49003, 49004, 49005, 49006, 49007}) })

	// A burst of changes first, as a container host makes them: 2000
	// addresses on the LAN link of gofw's router (198.19.128.0/21, never
	// used). It overflowed the subscription of a gofwd that read the
	// interfaces again for each notification, and the subscription
	// ended: gofwd missed every later change.
	var burst []string
	for i := range 2000 {
		burst = append(burst, fmt.Sprintf("addr add 198.19.%d.%d/32 dev veth-lan", 128+i/256, i%256))
	}
	p.g.ipBatch(p.g.ns[router], burst...)

	// The second address goes, the link stays up: only the entries
	// masqueraded to it go.
	p.both(router, "ip", "addr", "del", rtrWan2IP+"/24", "dev", "veth-wan")
	t.Run("address removed", func(t *testing.T) {
		p.waitCtPorts(t, "address removed", []int{49001, 49002, 49005, 49006, 49007})
	})

	// The link goes down (its addresses stay): every entry masqueraded
	// on it goes, the port-forwards and the source-NATed one stay.
	p.both(router, "ip", "link", "set", "veth-wan", "down")
	t.Run("link down", func(t *testing.T) { p.waitCtPorts(t, "link down", []int{49005, 49006, 49007}) })

	// The link is deleted, its addresses with it: no masquerade entry is
	// left, and the source-NATed one stays, though the address it is
	// NATed to is gone. Nothing is to go, so nothing shows when gofwd has
	// handled the deletion: the tables are compared again a second later.
	p.both(router, "ip", "link", "del", "veth-wan")
	t.Run("link deleted", func(t *testing.T) {
		p.waitCtPorts(t, "link deleted", []int{49005, 49006, 49007})
		time.Sleep(time.Second)
		p.compareConntrack(t)
	})
}

// The link of TestE2EMark's mark 7 route: the router's mark0 to the wan
// host's eth1, beside the main path through veth-wan.
const (
	rtrMarkIP = "198.19.7.1"
	wanMarkIP = "198.19.7.2"
)

// TestE2EMark: MARK and CONNMARK reach the kernel as the verdict mark, so
// policy routing (ip rule fwmark) sees them. gofw runs mangle PREROUTING
// in its raw PREROUTING visit, before the kernel routes the packet, as the
// kernel's mangle table runs before ip_route_input: a flow marked 7 leaves
// by a second link, unmasqueraded (the server sees the LAN host), one
// marked 8 meets an unreachable route, and replies whose connection mark
// (set with CONNMARK --set-mark, or saved from the packet's with
// --save-mark) is restored onto them meet a prohibit route back to the
// LAN. The router's own packets marked in mangle OUTPUT are routed again
// by the kernel after the verdict (nf_reinject's nf_reroute, as after the
// kernel's own mangle OUTPUT). The counters show which way each packet
// went.
//
// Known gap, measured and left out: a router's own packet that mangle
// OUTPUT marks onto an unreachable route is dropped by the kernel right
// after mangle, before nat and filter OUTPUT; gofw runs all of OUTPUT in
// one visit before the kernel routes again, so its nat and filter OUTPUT
// count the packet (the outcome, a drop, is the same).
func TestE2EMark(t *testing.T) {
	p := newPairSetup(t, "testdata/mark.v4", "iptables-legacy", func(s *side) {
		s.ipBatch("", "link add mark0 netns "+s.ns[router]+" type veth peer name eth1 netns "+s.ns[wan])
		s.ipBatch(s.ns[wan],
			"addr add "+wanMarkIP+"/24 dev eth1",
			"link set eth1 up")
		s.ipBatch(s.ns[router],
			"addr add "+rtrMarkIP+"/24 dev mark0",
			"link set mark0 up",
			"rule add fwmark 7 table 107",
			"route add 198.19.1.0/24 via "+wanMarkIP+" dev mark0 table 107 quickack 1 rto_min 3s",
			"rule add fwmark 8 table 108",
			"route add unreachable 198.19.1.0/24 table 108",
			"rule add fwmark 9 table 109",
			"route add prohibit 198.18.1.0/24 table 109")
	})
	// UDP but for the unreachable SYN: how many segments a short TCP
	// exchange takes to close depends on the hosts' timing (whether an
	// application's write or close overtakes the ACK its socket is
	// sending), which the counters would show now and then (measured:
	// one ACK more or less in the kernel's topology).
	var srvs []server
	for _, port := range []string{"53", "54", "55", "81"} {
		srvs = append(srvs, server{wan, "udp", wanIP + ":" + port})
	}
	p.serve(srvs...)
	hello := func(srv, client string) string { return fmt.Sprintf("hello from %s, you are %s", srv, client) }
	p.exchange(
		// Unmarked: the main table, masqueraded.
		exchange{lan, "udp", wanIP + ":53", 49101, hello(wanIP+":53", rtrWanIP+":49101")},
		// MARK 7: out of mark0, so not masqueraded; the reply comes
		// back through veth-wan as ESTABLISHED.
		exchange{lan, "udp", wanIP + ":81", 49103, hello(wanIP+":81", lanIP+":49103")},
		// MARK 8: the router answers host unreachable.
		exchange{lan, "tcp", wanIP + ":82", 49104, "refused EHOSTUNREACH"},
		// The connection's mark restored onto the reply: the request
		// passes, its answer does not.
		exchange{lan, "udp", wanIP + ":54", 49105, "timeout"},
		exchange{lan, "udp", wanIP + ":55", 49106, "timeout"},
		// The router's own datagram, marked in OUTPUT and routed
		// again: out of mark0, the source the first route gave kept.
		exchange{router, "udp", wanIP + ":81", 49107, hello(wanIP+":81", rtrWanIP+":49107")},
	)
	t.Run("conntrack", func(t *testing.T) { p.compareConntrack(t) })
	t.Run("counters", func(t *testing.T) { p.compareCounters(t, "mangle", "filter", "nat") })
}

// echod ADDR:PORT greets each TCP client as nettool's server does ("hello
// from SERVER, you are CLIENT"), then echoes its lines back, for 120 s.
// Each echo waits 20 ms: the socket's own ACK of the line leaves first,
// every time. An echo written at once can overtake it (the socket wakes
// the reader before it sends the ACK), and the ACK coming in behind the
// echo's sequence number makes the client answer a duplicate ACK, one
// packet more in the counters, now and then.
func echod(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: echod ADDR:PORT")
		return 2
	}
	l, err := net.Listen("tcp4", args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	l.(*net.TCPListener).SetDeadline(time.Now().Add(120 * time.Second))
	for {
		c, err := l.Accept()
		if err != nil {
			return 0
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(60 * time.Second))
			fmt.Fprintf(c, "hello from %s, you are %s\n", c.LocalAddr(), c.RemoteAddr())
			r := bufio.NewReader(c)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				time.Sleep(20 * time.Millisecond)
				io.WriteString(c, line)
			}
		}()
	}
}

// hold ADDR:PORT LPORT keeps one TCP connection from LPORT open: it
// prints the server's greeting, then for each line on its standard input
// sends the line and prints "echo LINE" when it comes back, or how the
// exchange failed (and stops). It ends with its standard input, or after
// 60 s.
func hold(args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: hold ADDR:PORT LPORT")
		return 2
	}
	lport, _ := strconv.Atoi(args[1])
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{Port: lport}}
	c, err := d.Dial("tcp4", args[0])
	if err != nil {
		fmt.Println(netOutcome(err))
		return 1
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	r := bufio.NewReader(c)
	greeting, err := r.ReadString('\n')
	if err != nil {
		fmt.Println(netOutcome(err))
		return 1
	}
	fmt.Print(greeting)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(c, in.Text()+"\n"); err != nil {
			fmt.Println(netOutcome(err))
			return 1
		}
		back, err := r.ReadString('\n')
		if err != nil {
			fmt.Println(netOutcome(err))
			return 1
		}
		fmt.Print("echo " + back)
	}
	return 0
}

// holder is a hold client the test talks to.
type holder struct {
	stdin *os.File
	lines chan string
}

// startHold starts hold in host h, connecting to addr from lport, to be
// killed at cleanup. Its standard input and output are pipes of the
// test's own (not exec's), so that the reaper's Wait does not race the
// reads.
func (s *side) startHold(h host, addr string, lport int) *holder {
	s.t.Helper()
	self, err := os.Executable()
	if err != nil {
		s.t.Fatal(err)
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		s.t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	pr := &proc{name: "hold", log: filepath.Join(s.dir, fmt.Sprintf("hold-%d.log", len(s.procs))), done: make(chan struct{})}
	errf, err := os.Create(pr.log)
	if err != nil {
		s.mu.Unlock()
		s.t.Fatal(err)
	}
	argv := s.in(h, self, addr, strconv.Itoa(lport))
	pr.cmd = exec.Command(argv[0], argv[1:]...)
	pr.cmd.Stdin, pr.cmd.Stdout, pr.cmd.Stderr = inR, outW, errf
	pr.cmd.Env = append(os.Environ(), roleEnv+"=hold")
	err = pr.cmd.Start()
	inR.Close()
	outW.Close()
	errf.Close()
	if err != nil {
		s.mu.Unlock()
		s.t.Fatalf("%s: starting hold: %v", s.name, err)
	}
	s.procs = append(s.procs, pr)
	s.mu.Unlock()
	go func() { pr.cmd.Wait(); close(pr.done) }()
	hd := &holder{stdin: inW, lines: make(chan string, 16)}
	s.t.Cleanup(func() { inW.Close() })
	go func() {
		defer outR.Close()
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			hd.lines <- sc.Text()
		}
		close(hd.lines)
	}()
	return hd
}

// next returns the holder's next line, "(ended)" when it ended, or "(no
// answer)" after 10 s.
func (hd *holder) next() string {
	select {
	case l, ok := <-hd.lines:
		if !ok {
			return "(ended)"
		}
		return l
	case <-time.After(10 * time.Second):
		return "(no answer)"
	}
}

// say sends line over the held connection and returns what came back.
func (hd *holder) say(line string) string {
	if _, err := io.WriteString(hd.stdin, line+"\n"); err != nil {
		return err.Error()
	}
	return hd.next()
}

// sighupLine matches gofwd's answer to a SIGHUP.
var sighupLine = regexp.MustCompile(`(?m)^gofwd: SIGHUP: .*$`)

// reload sends gofwd SIGHUP and returns the line it logs about it (at
// most 10 s later).
func (s *side) reload() string {
	s.t.Helper()
	before := len(sighupLine.FindAllString(s.gofwd.output(), -1))
	if err := s.gofwd.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		s.t.Fatalf("SIGHUP to gofwd: %v", err)
	}
	var lines []string
	if !poll(10*time.Second, func() bool {
		lines = sighupLine.FindAllString(s.gofwd.output(), -1)
		return len(lines) > before
	}) {
		s.t.Fatalf("gofwd said nothing about SIGHUP in 10 s:\n%s", s.gofwd.output())
	}
	return lines[before]
}

// errLine finds the line number in iptables-restore's and gofwd's
// complaints: "Error occurred at line: 9", "FILE: line 9: ...".
var errLine = regexp.MustCompile(`line:? (\d+)`)

// TestE2EReload: SIGHUP reloads --rules while traffic flows. The
// connection table belongs to the daemon, as the kernel's belongs to the
// netns rather than to a table that iptables-restore replaces: a TCP
// connection and a UDP flow established before the reload go on, new ones
// of the same kind meet the new REJECT rules. A wrong file on SIGHUP is
// refused whole, with its line number (the one iptables-restore gives), and
// the running ruleset stays, as iptables-restore keeps the table it could
// not commit. The kernel's side is reloaded with iptables-legacy-restore.
func TestE2EReload(t *testing.T) { testReload(t) }

// TestE2EReloadFastPath is TestE2EReload with gofwd --fast-path: its
// connections are masqueraded, so none is handed to the kernel, and
// everything (counters included) must be as without the fast path, the
// divert of TCP from mangle and the kernel's tracking of it aside.
func TestE2EReloadFastPath(t *testing.T) { testReload(t, "--fast-path") }

func testReload(t *testing.T, flags ...string) {
	p := newPairFlags(t, "testdata/reload.v4", "iptables-legacy", func(s *side) {
		if s.kernel {
			return
		}
		// gofwd's --rules is a copy, rewritten below.
		b, err := os.ReadFile(s.rules)
		if err != nil {
			t.Fatal(err)
		}
		s.rules = filepath.Join(s.dir, "rules.v4")
		if err := os.WriteFile(s.rules, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}, flags)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*side{p.g, p.k} {
		ps := []*proc{s.start(wan, "echod", []string{roleEnv + "=echod"}, self, wanIP+":80"),
			s.start(wan, "nettool-udp", nil, filepath.Join(s.bin, "nettool"), "serve", "udp", wanIP+":53", "120")}
		s.waitListening(ps, server{wan, "tcp", wanIP + ":80"}, server{wan, "udp", wanIP + ":53"})
	}
	hello := func(srv, client string) string { return fmt.Sprintf("hello from %s, you are %s", srv, client) }
	// load puts file in place on both sides: gofwd's --rules and SIGHUP,
	// iptables-legacy-restore in the kernel's router. It returns what
	// gofwd logged and what iptables-legacy-restore said.
	load := func(file string) (string, string) {
		t.Helper()
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p.g.rules, b, 0o644); err != nil {
			t.Fatal(err)
		}
		g := p.g.reload()
		out, errOut, err := runCmd(20*time.Second, nil, p.k.in(router, "iptables-legacy-restore", file)...)
		k := strings.TrimSpace(out + errOut)
		if err != nil {
			k = "failed: " + k
		}
		return g, k
	}
	// talk sends line over both held connections and checks the echo.
	hg, hk := p.g.startHold(lan, wanIP+":80", 49301), p.k.startHold(lan, wanIP+":80", 49301)
	talk := func(line string) {
		t.Helper()
		g, k := hg.say(line), hk.say(line)
		if k != "echo "+line {
			t.Errorf("held connection, %q: the kernel's side answers %q, the test wants %q (the test is wrong)", line, k, "echo "+line)
		}
		if g != k {
			t.Errorf("held connection, %q: gofw's side answers %q, the kernel's %q", line, g, k)
		}
	}
	if g, k := hg.next(), hk.next(); k != hello(wanIP+":80", rtrWanIP+":49301") || g != k {
		t.Fatalf("held connection: gofw's side is greeted %q, the kernel's %q", g, k)
	}
	talk("before the reload")
	// No new TCP connection that the server answers and closes: how
	// many segments that takes depends on the hosts' timing (see
	// TestE2EMark).
	p.exchange(exchange{lan, "udp", wanIP + ":53", 49302, hello(wanIP+":53", rtrWanIP+":49302")})

	// Reloaded: what is established goes on, what is new is refused.
	g, k := load("testdata/reload-refuse.v4")
	if !strings.Contains(g, "SIGHUP: reloaded") {
		t.Fatalf("gofwd on SIGHUP: %s", g)
	}
	if strings.HasPrefix(k, "failed") {
		t.Fatalf("iptables-legacy-restore: %s", k)
	}
	talk("after the reload")
	p.exchange(
		exchange{lan, "udp", wanIP + ":53", 49302, hello(wanIP+":53", rtrWanIP+":49302")}, // the same flow
		exchange{lan, "udp", wanIP + ":53", 49304, "refused ECONNREFUSED"},
		exchange{lan, "tcp", wanIP + ":80", 49305, "refused ECONNREFUSED"},
	)

	// A wrong file: refused whole, with the line iptables-restore names;
	// port 80 stays refused.
	g, k = load("testdata/reload-bad.v4")
	if !strings.HasPrefix(k, "failed") {
		t.Fatalf("iptables-legacy-restore took testdata/reload-bad.v4: %s", k)
	}
	gl, kl := errLine.FindStringSubmatch(g), errLine.FindStringSubmatch(k)
	switch {
	case kl == nil || kl[1] != "9":
		t.Errorf("iptables-legacy-restore says %q, the test wants line 9 (the test is wrong)", k)
	case !strings.Contains(g, "SIGHUP: kept the running ruleset") || gl == nil || gl[1] != kl[1]:
		t.Errorf("gofwd on SIGHUP with a wrong file logs %q; want the running ruleset kept and line %s, as iptables-legacy-restore says:\n%s", g, kl[1], k)
	}
	talk("after the wrong file")
	p.exchange(exchange{lan, "tcp", wanIP + ":80", 49306, "refused ECONNREFUSED"})
	t.Run("conntrack", func(t *testing.T) { p.compareConntrack(t) })
	t.Run("counters", func(t *testing.T) { p.compareCounters(t, "filter", "nat") })
}

// nfqd QUEUE PORT... is the second reader of TestE2EQueue: it binds
// NFQUEUE QUEUE (with go-nfqueue, not gofw's reader) and drops UDP and TCP
// packets to the given destination ports, accepting the rest, for 120 s.
// It says "bound" once the queue is bound, and on SIGTERM how many packets
// it accepted and dropped.
func nfqd(args []string) int {
	if len(args) < 1 {
		fmt.Fprintln(os.Stderr, "usage: nfqd QUEUE [PORT...]")
		return 2
	}
	num, err := strconv.Atoi(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	drop := map[uint16]bool{}
	for _, a := range args[1:] {
		n, err := strconv.Atoi(a)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		drop[uint16(n)] = true
	}
	nf, err := nfqueue.Open(&nfqueue.Config{
		NfQueue:      uint16(num),
		MaxPacketLen: 0xffff,
		MaxQueueLen:  256,
		Copymode:     nfqueue.NfQnlCopyPacket,
		AfFamily:     unix.AF_INET,
		WriteTimeout: time.Second,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer nf.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	var accepted, dropped atomic.Int64
	err = nf.RegisterWithErrorFunc(ctx, func(a nfqueue.Attribute) int {
		if a.PacketID == nil || a.Payload == nil {
			return 0
		}
		v := nfqueue.NfAccept
		if b := *a.Payload; len(b) >= 20 && (b[9] == unix.IPPROTO_UDP || b[9] == unix.IPPROTO_TCP) {
			if l4 := int(b[0]&0xf) * 4; len(b) >= l4+4 && drop[binary.BigEndian.Uint16(b[l4+2:])] {
				v = nfqueue.NfDrop
			}
		}
		if v == nfqueue.NfDrop {
			dropped.Add(1)
		} else {
			accepted.Add(1)
		}
		nf.SetVerdict(*a.PacketID, v)
		return 0
	}, func(err error) int {
		if ctx.Err() != nil {
			return 1
		}
		return 0
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("bound")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-sig:
	case <-ctx.Done():
	}
	fmt.Printf("accepted %d, dropped %d\n", accepted.Load(), dropped.Load())
	return 0
}

// TestE2EQueue: the NFQUEUE hand-off. A rule -j NFQUEUE --queue-num 5 in
// gofw's ruleset returns the packet to the kernel with the verdict
// NF_QUEUE for queue 5, where a second reader decides (it drops ports 61
// and 71 here, and accepts the rest); nobody reads queue 6, so the kernel
// drops its packets, or lets them go on with --queue-bypass (nf_queue's
// -ESRCH). The same rules in the kernel's router hand its packets to the
// same reader, and both readers must have seen the same packets.
//
// Known gap (issue 5), measured with this harness and left out of the
// rows below: once gofwd hands a packet on, the rest of its visit never
// runs. The kernel resumes after the second reader's ACCEPT (or the
// bypass) with the next hook function (nf_reinject), so the later tables,
// NAT and the conntrack confirmation still happen; gofw's divert gives
// the packet back to the kernel after gofw's own hook function, and gofw
// does not see it again. So, in gofw: a packet handed on from raw
// PREROUTING skips gofw's conntrack, mangle, nat and filter INPUT (a UDP
// datagram the kernel drops by INPUT's DROP policy reaches the local
// socket); one handed on from FORWARD and accepted (or bypassed) leaves
// unmasqueraded and unconfirmed, so its reply meets FORWARD's DROP policy
// (the kernel's client gets its answer); one handed on from INPUT and
// accepted is delivered but never confirmed (no entry; the answer starts
// a reverse [UNREPLIED] one, and nat INPUT is not walked). Hence only rows
// whose packets end at the hand-off or are delivered from INPUT, no nat
// table, and the connection tables not compared.
func TestE2EQueue(t *testing.T) {
	p := newPair(t, "testdata/queue.v4", "iptables-legacy")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	readers := [2]*proc{}
	for i, s := range []*side{p.g, p.k} {
		r := s.start(router, "nfqd", []string{roleEnv + "=nfqd"}, self, "5", "61", "71")
		if !poll(10*time.Second, func() bool { return r.exited() || strings.Contains(r.output(), "bound") }) || r.exited() {
			t.Fatalf("%s: the queue 5 reader did not bind:\n%s", s.name, r.output())
		}
		readers[i] = r
	}
	var srvs []server
	for _, port := range []string{"61", "62", "63"} {
		srvs = append(srvs, server{wan, "udp", wanIP + ":" + port})
	}
	for _, port := range []string{"70", "71", "72", "73", "74"} {
		srvs = append(srvs, server{router, "udp", rtrLanIP + ":" + port})
	}
	p.serve(srvs...)
	hello := func(srv, client string) string { return fmt.Sprintf("hello from %s, you are %s", srv, client) }
	p.exchange(
		// Forwarded: the reader drops it; nobody reads queue 6.
		exchange{lan, "udp", wanIP + ":61", 49201, "timeout"},
		exchange{lan, "udp", wanIP + ":62", 49202, "timeout"},
		// Delivered here: the reader accepts 70 and drops 71; 72 waits
		// for nobody, 73 bypasses the missing reader.
		exchange{lan, "udp", rtrLanIP + ":70", 49203, hello(rtrLanIP+":70", lanIP+":49203")},
		exchange{lan, "udp", rtrLanIP + ":71", 49204, "timeout"},
		exchange{lan, "udp", rtrLanIP + ":72", 49205, "timeout"},
		exchange{lan, "udp", rtrLanIP + ":73", 49206, hello(rtrLanIP+":73", lanIP+":49206")},
		// The reader accepts 63 (forwarded) and 74 (handed off in raw
		// PREROUTING): the rest of the hooks still apply, so the reply
		// of 63 is ESTABLISHED through FORWARD and 74 meets INPUT's
		// DROP policy.
		exchange{lan, "udp", wanIP + ":63", 49207, hello(wanIP+":63", lanIP+":49207")},
		exchange{lan, "udp", rtrLanIP + ":74", 49208, "timeout"},
	)
	t.Run("reader", func(t *testing.T) {
		var got [2]string
		for i, r := range readers {
			r.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-r.done:
			case <-time.After(10 * time.Second):
				t.Fatalf("the queue 5 reader still runs 10 s after SIGTERM")
			}
			got[i] = strings.TrimSpace(strings.TrimPrefix(r.output(), "bound\n"))
		}
		if want := "accepted 3, dropped 2"; got[1] != want {
			t.Errorf("the kernel's queue 5 reader: %q, the test wants %q (the test is wrong)", got[1], want)
		}
		// gofw runs the rest of a visit before it hands a packet on
		// (Engine.QueueLast), so a packet its later stages drop (74, by
		// INPUT's policy) never reaches the reader; the kernel's reader
		// sees it and accepts it, then filter INPUT drops it. The
		// packet's fate is the same, the reader's count one less.
		if want := "accepted 2, dropped 2"; got[0] != want {
			t.Errorf("gofw's queue 5 reader: %q, want %q (the kernel's: %q)", got[0], want, got[1])
		}
	})
	t.Run("counters", func(t *testing.T) { p.compareCounters(t, "filter") })
}

// TestE2EHeaderCopy: with a ruleset that needs nothing past headers, gofwd's
// queues copy 512 bytes of each packet. Datagrams of 1400 bytes each way
// (to the router, forwarded, and the router's answers) are counted at
// their whole length by the rules and -m length, and tracked, as the
// kernel counts and tracks them; the router's 576-byte port unreachable
// (ICMP, copied short) goes whole through the full-copy queue.
func TestE2EHeaderCopy(t *testing.T) {
	p := newPair(t, "testdata/headers.v4", "iptables-legacy")
	p.serve(server{router, "udp", "0.0.0.0:53"}, server{wan, "udp", wanIP + ":53"})
	hello := func(srv, client string) string { return fmt.Sprintf("hello from %s, you are %s", srv, client) }
	p.exchangeSized(1400,
		exchange{lan, "udp", rtrLanIP + ":53", 46001, hello("0.0.0.0:53", lanIP+":46001")},
		exchange{lan, "udp", rtrLanIP + ":54", 46002, "refused ECONNREFUSED"},
		exchange{lan, "udp", wanIP + ":53", 46003, hello(wanIP+":53", lanIP+":46003")},
		exchange{wan, "udp", rtrWanIP + ":55", 46004, "timeout"},
	)
	p.exchange(
		exchange{lan, "udp", rtrLanIP + ":53", 46005, hello("0.0.0.0:53", lanIP+":46005")},
		exchange{lan, "udp", wanIP + ":53", 46006, "timeout"},
	)
	t.Run("conntrack", func(t *testing.T) { p.compareConntrack(t) })
	t.Run("counters", func(t *testing.T) { p.compareCounters(t, "filter") })
}
