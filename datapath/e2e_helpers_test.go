package datapath_test

// Helpers of the end-to-end tests (e2e_test.go): two copies of one
// topology, side by side, in network namespaces the test creates and
// always removes,
//
//	lan (198.18.1.2) --eth0/veth-lan-- router --veth-wan/eth0-- wan (198.19.1.2)
//	                       198.18.1.1          198.19.1.1
//
// one whose router runs gofwd, one whose router runs the kernel's
// iptables-legacy, conntrack and NAT with the same rules file. The same
// traffic goes through both, and what the hosts see, the rule counters
// and the connection tables are compared; the kernel is the yardstick.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The addresses, the same in both topologies.
const (
	lanIP    = "198.18.1.2"
	rtrLanIP = "198.18.1.1"
	rtrWanIP = "198.19.1.1"
	wanIP    = "198.19.1.2"
)

// host names one namespace of a topology.
type host int

const (
	lan host = iota
	router
	wan
)

func (h host) String() string { return [...]string{"lan", "router", "wan"}[h] }

// roleEnv makes the test binary, started again inside a namespace, run
// the FTP server or client of TestE2EFTP, or a helper of
// e2e_more_test.go, instead of the tests.
const roleEnv = "GOFW_E2E_ROLE"

func TestMain(m *testing.M) {
	if role := os.Getenv(roleEnv); role != "" {
		os.Exit(runRole(role, os.Args[1:]))
	}
	code := m.Run()
	if bins.done != nil {
		<-bins.done
		os.RemoveAll(bins.dir)
	}
	os.Exit(code)
}

func runRole(role string, args []string) int {
	switch role {
	case "ftpd":
		return ftpd(args)
	case "ftp":
		return ftpGet(args)
	case "echod":
		return echod(args)
	case "hold":
		return hold(args)
	case "nfqd":
		return nfqd(args)
	}
	fmt.Fprintf(os.Stderr, "%s=%s: unknown role\n", roleEnv, role)
	return 2
}

// bins holds gofwd, gofw and nettool, built once per test run, in the
// background while the first tests build their namespaces.
var bins struct {
	once sync.Once
	done chan struct{}
	dir  string
	err  error
}

// needE2E skips t unless an end-to-end test can run here (root, and the
// tools the kernel side needs), and starts building the binaries.
func needE2E(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("end-to-end test: needs root (network namespaces, iptables-legacy, NFQUEUE)")
	}
	for _, tool := range []string{"ip", "iptables-legacy", "iptables-legacy-restore", "iptables-legacy-save", "conntrack", "ss", "sysctl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("end-to-end test: %s is not installed", tool)
		}
	}
	bins.once.Do(func() {
		sweepStale()
		bins.done = make(chan struct{})
		go func() {
			defer close(bins.done)
			bins.dir, bins.err = buildBins()
		}()
	})
}

// staleNS matches the namespaces of this test, by the pid of the test
// binary that made them.
var staleNS = regexp.MustCompile(`^gofw-e2e-(\d+)-`)

// sweepStale removes what an earlier run left behind when it could not
// clean up (killed by go test's -timeout, say): the namespaces named
// after a test binary that no longer runs, after killing, by pid, the
// processes still in them.
func sweepStale() {
	ents, _ := os.ReadDir("/run/netns")
	for _, e := range ents {
		m := staleNS.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		if _, err := os.Stat("/proc/" + m[1]); err == nil {
			continue // still running
		}
		out, _, _ := runCmd(10*time.Second, nil, "ip", "netns", "pids", e.Name())
		for _, f := range strings.Fields(out) {
			if pid, err := strconv.Atoi(f); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		runCmd(10*time.Second, nil, "ip", "netns", "del", e.Name())
	}
}

// binDir waits for the binaries and returns their directory.
func binDir(t *testing.T) string {
	t.Helper()
	<-bins.done
	if bins.err != nil {
		t.Fatal(bins.err)
	}
	return bins.dir
}

// buildBins builds the daemon, the clients and nettool into a temporary
// directory. go test puts its own go first in PATH.
func buildBins() (string, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("building gofw for the end-to-end tests: %v", err)
	}
	dir, err := os.MkdirTemp("", "gofw-e2e-bin-")
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	mod, err := exec.CommandContext(ctx, gobin, "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(mod)) == "" {
		return dir, fmt.Errorf("go env GOMOD: %v", err)
	}
	cmd := exec.CommandContext(ctx, gobin, "build", "-o", dir+"/", "./cmd/gofwd", "./cmd/gofw", "./examples/nettool")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(mod)))
	if out, err := cmd.CombinedOutput(); err != nil {
		return dir, fmt.Errorf("go build: %v\n%s", err, out)
	}
	return dir, nil
}

// runCmd runs argv to completion, killed after timeout, and returns its
// stdout and stderr.
func runCmd(timeout time.Duration, env []string, argv ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s: killed after %v", strings.Join(argv, " "), timeout)
	}
	return out.String(), errOut.String(), err
}

// poll calls f until it returns true or d has passed, and returns its
// last answer.
func poll(d time.Duration, f func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if f() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var topoSeq atomic.Int32

// side is one topology: its namespaces, and the processes the test
// started in them.
type side struct {
	t      *testing.T
	name   string // "gofw" or "kernel"
	kernel bool
	bin    string
	dir    string
	ns     [3]string
	made   []string // namespaces created, to remove
	rules  string
	sock   string
	gofwd  *proc

	mu    sync.Mutex
	procs []*proc
}

// proc is a process the test started; its output goes to a file.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func (p *proc) output() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL to the process, by its pid, and waits (bounded) for
// it to be reaped.
func (p *proc) kill() bool {
	p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.done:
		return true
	case <-time.After(10 * time.Second):
		return false
	}
}

// newSide builds one topology; kernel says whether its router runs the
// kernel's iptables-legacy or gofwd (started separately).
func newSide(t *testing.T, rules string, kernel bool, sysctls []string) *side {
	t.Helper()
	s := &side{t: t, name: "gofw", kernel: kernel, dir: t.TempDir(), rules: rules}
	if kernel {
		s.name = "kernel"
	}
	n := topoSeq.Add(1)
	for h := range s.ns {
		s.ns[h] = fmt.Sprintf("gofw-e2e-%d-%d%c-%s", os.Getpid(), n, s.name[0], host(h))
	}
	s.sock = filepath.Join(s.dir, "gofw.sock")
	t.Cleanup(s.cleanup)
	r, l, w := s.ns[router], s.ns[lan], s.ns[wan]
	// One ip -batch per namespace: a loaded CI machine takes tens of
	// milliseconds per process.
	s.made = s.ns[:]
	s.ipBatch("",
		"netns add "+l, "netns add "+r, "netns add "+w,
		"link add veth-lan netns "+r+" type veth peer name eth0 netns "+l,
		"link add veth-wan netns "+r+" type veth peer name eth0 netns "+w)
	// The same exchange must be the same packets on both sides, so that
	// the rule counters can be compared, whatever the timing on a loaded
	// machine. Every route a socket of the test uses has "quickack": each
	// segment is acknowledged at once, never by a delayed ACK that may or
	// may not ride on the next segment; and "rto_min 3s", with tail loss
	// probes off (tcp_early_retrans=0, below): a slow moment in gofwd or
	// the machine makes no retransmissions.
	s.ipBatch(l,
		"addr add "+lanIP+"/24 dev eth0",
		"link set lo up",
		"link set eth0 up",
		"route replace 198.18.1.0/24 dev eth0 proto kernel scope link src "+lanIP+" quickack 1 rto_min 3s",
		"route add default via "+rtrLanIP+" quickack 1 rto_min 3s")
	s.ipBatch(w,
		"addr add "+wanIP+"/24 dev eth0",
		"link set lo up",
		"link set eth0 up",
		"route replace 198.19.1.0/24 dev eth0 proto kernel scope link src "+wanIP+" quickack 1 rto_min 3s",
		// The wan host can reach the LAN through the router, so that
		// FORWARD's policy, not a missing route, decides.
		"route add 198.18.1.0/24 via "+rtrWanIP+" quickack 1 rto_min 3s")
	s.ipBatch(r,
		"addr add "+rtrLanIP+"/24 dev veth-lan",
		"addr add "+rtrWanIP+"/24 dev veth-wan",
		"link set lo up",
		"link set veth-lan up",
		"link set veth-wan up",
		"route replace 198.18.1.0/24 dev veth-lan proto kernel scope link src "+rtrLanIP+" quickack 1 rto_min 3s",
		"route replace 198.19.1.0/24 dev veth-wan proto kernel scope link src "+rtrWanIP+" quickack 1 rto_min 3s",
		"route replace table local local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1 quickack 1 rto_min 3s")
	// IPv6 is out of gofw's scope in this milestone: no stray router
	// solicitations in the namespaces.
	for h := range s.ns {
		args := []string{"sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1", "net.ipv4.tcp_early_retrans=0"}
		if host(h) == router {
			args = append(append(args, "net.ipv4.ip_forward=1"), sysctls...)
		}
		s.must(s.in(host(h), args...)...)
	}
	if kernel {
		s.must(s.in(router, "iptables-legacy-restore", rules)...)
	}
	return s
}

// ipBatch runs ip commands in namespace ns ("": the test's own) in one
// process.
func (s *side) ipBatch(ns string, cmds ...string) {
	s.t.Helper()
	argv := []string{"ip", "-batch", "-"}
	if ns != "" {
		argv = []string{"ip", "-n", ns, "-batch", "-"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin = strings.NewReader(strings.Join(cmds, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("%s: %s: %v\n%s\n%s", s.name, strings.Join(argv, " "), err, strings.Join(cmds, "\n"), out)
	}
}

// in returns argv run inside the namespace of h.
func (s *side) in(h host, argv ...string) []string {
	return append([]string{"ip", "netns", "exec", s.ns[h]}, argv...)
}

// must runs argv and fails the test if it fails. Only from the test's
// goroutine.
func (s *side) must(argv ...string) string {
	s.t.Helper()
	out, errOut, err := runCmd(20*time.Second, nil, argv...)
	if err != nil {
		s.t.Fatalf("%s: %s: %v\n%s%s", s.name, strings.Join(argv, " "), err, out, errOut)
	}
	return out
}

// start starts argv in the namespace of h, to be killed at cleanup.
func (s *side) start(h host, name string, env []string, argv ...string) *proc {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &proc{name: name, log: filepath.Join(s.dir, fmt.Sprintf("%s-%d.log", name, len(s.procs))), done: make(chan struct{})}
	f, err := os.Create(p.log)
	if err != nil {
		s.t.Fatal(err)
	}
	defer f.Close()
	argv = s.in(h, argv...)
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.cmd.Env = append(os.Environ(), env...)
	if err := p.cmd.Start(); err != nil {
		s.t.Fatalf("%s: starting %s: %v", s.name, name, err)
	}
	s.procs = append(s.procs, p)
	go func() { p.cmd.Wait(); close(p.done) }()
	return p
}

// cleanup kills every process the test started in this topology, by pid,
// then removes its namespaces.
func (s *side) cleanup() {
	s.mu.Lock()
	procs := s.procs
	s.mu.Unlock()
	for _, p := range procs {
		if !p.kill() {
			s.t.Errorf("%s: %s (pid %d) still running 10 s after SIGKILL", s.name, p.name, p.cmd.Process.Pid)
		}
	}
	if s.t.Failed() {
		for _, p := range procs {
			if p.name == "gofwd" {
				s.t.Logf("%s: gofwd (pid %d) said:\n%s", s.name, p.cmd.Process.Pid, p.output())
			}
		}
	}
	for _, ns := range s.made {
		if _, err := os.Stat("/run/netns/" + ns); err != nil {
			continue // never made
		}
		if out, errOut, err := runCmd(20*time.Second, nil, "ip", "netns", "del", ns); err != nil {
			s.t.Errorf("removing namespace %s: %v %s%s", ns, err, out, errOut)
		}
	}
}

// startGofwd starts gofwd in the router with the side's rules and waits
// until it diverts traffic and answers on its socket.
func (s *side) startGofwd(divert string, flags ...string) *proc {
	s.t.Helper()
	argv := append([]string{filepath.Join(s.bin, "gofwd"), "--rules", s.rules, "--socket", s.sock, "--divert", divert}, flags...)
	p := s.start(router, "gofwd", nil, argv...)
	ok := poll(15*time.Second, func() bool { return p.exited() || strings.Contains(p.output(), "listening on") })
	if !ok || p.exited() {
		s.t.Fatalf("%s: gofwd did not come up (exited: %v):\n%s", s.name, p.exited(), p.output())
	}
	s.gofwd = p
	return p
}

// divertLines returns gofwd's divert as iptables-legacy-save prints it in
// the router (its chains, their rules and the jumps to them, each after
// its table), sorted.
func (s *side) divertLines() []string {
	s.t.Helper()
	var lines []string
	table := ""
	for _, l := range strings.Split(s.must(s.in(router, "iptables-legacy-save")...), "\n") {
		if strings.HasPrefix(l, "*") {
			table = l
		}
		if strings.Contains(l, "GOFW-") {
			lines = append(lines, table+" "+l)
		}
	}
	sort.Strings(lines)
	return lines
}

// server is a listening socket a test needs in a namespace.
type server struct {
	h     host
	proto string // tcp or udp
	addr  string // ADDR:PORT
}

// serve starts a nettool server for each of srvs and waits until all
// listen.
func (s *side) serve(srvs ...server) {
	s.t.Helper()
	var ps []*proc
	for _, v := range srvs {
		ps = append(ps, s.start(v.h, "nettool-"+v.proto+"-"+v.addr, nil, filepath.Join(s.bin, "nettool"), "serve", v.proto, v.addr, "120"))
	}
	s.waitListening(ps, srvs...)
}

// waitListening waits until every server of srvs has its socket (ss in its
// namespace lists it): no probe traffic, which would show in the counters.
func (s *side) waitListening(ps []*proc, srvs ...server) {
	s.t.Helper()
	var missing []string
	ok := poll(10*time.Second, func() bool {
		missing = missing[:0]
		listening := map[host]string{}
		for _, v := range srvs {
			if _, ok := listening[v.h]; !ok {
				out, _, _ := runCmd(5*time.Second, nil, s.in(v.h, "ss", "-Hlntu")...)
				listening[v.h] = out
			}
			found := false
			for _, l := range strings.Split(listening[v.h], "\n") {
				if f := strings.Fields(l); len(f) >= 5 && f[0] == v.proto && f[4] == v.addr {
					found = true
				}
			}
			if !found {
				missing = append(missing, fmt.Sprintf("%s %s %s", v.h, v.proto, v.addr))
			}
		}
		return len(missing) == 0
	})
	if !ok {
		var logs string
		for _, p := range ps {
			if p.exited() {
				logs += p.name + ": " + p.output() + "\n"
			}
		}
		s.t.Fatalf("%s: servers not listening after 10 s: %v\n%s", s.name, missing, logs)
	}
}

// dial runs one nettool exchange from h and returns what it printed:
// the server's line, "refused ERRNO" or "timeout".
func (s *side) dial(h host, proto, addr, secs string, lport, size int) string {
	argv := s.in(h, filepath.Join(s.bin, "nettool"), "dial", proto, addr, secs, strconv.Itoa(lport), strconv.Itoa(size))
	f, _ := strconv.ParseFloat(secs, 64)
	out, errOut, err := runCmd(time.Duration(f*float64(time.Second))+15*time.Second, nil, argv...)
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && (ee.ExitCode() == 3 || ee.ExitCode() == 4)) {
		return fmt.Sprintf("nettool failed: %v: %s%s", err, out, errOut)
	}
	return strings.TrimSpace(out)
}

// gofw runs the gofw client against this side's gofwd.
func (s *side) gofw(args ...string) (string, string, error) {
	return runCmd(20*time.Second, []string{"GOFW_SOCKET=" + s.sock}, append([]string{filepath.Join(s.bin, "gofw")}, args...)...)
}

// counters lists a table with exact counters: gofw -L -v -x -n, or
// iptables-legacy's in the kernel's router.
func (s *side) counters(table string) string {
	args := []string{"-t", table, "-L", "-v", "-x", "-n"}
	var out, errOut string
	var err error
	if s.kernel {
		out, errOut, err = runCmd(20*time.Second, nil, s.in(router, append([]string{"iptables-legacy"}, args...)...)...)
	} else {
		out, errOut, err = s.gofw(args...)
	}
	if err != nil {
		return fmt.Sprintf("error: %v: %s", err, errOut)
	}
	return out
}

// conntrackList lists the router's connection table: gofw conntrack -L,
// or conntrack-tools in the kernel's router. The summary line (stderr)
// comes last.
func (s *side) conntrackList() string {
	var out, errOut string
	var err error
	if s.kernel {
		out, errOut, err = runCmd(20*time.Second, nil, s.in(router, "conntrack", "-L")...)
	} else {
		out, errOut, err = s.gofw("conntrack", "-L")
	}
	if err != nil {
		return fmt.Sprintf("error: %v: %s%s", err, out, errOut)
	}
	return out + errOut
}

// ctTimeout finds the timeout column of a conntrack -L line.
var ctTimeout = regexp.MustCompile(`^([a-z0-9]+\s+\d+ )\d+ `)

// normConntrack blanks the timeouts of a listing (they count down at
// their own pace) and sorts its entries (both list in hash order).
func normConntrack(s string) string {
	var entries, rest []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if ctTimeout.MatchString(l) {
			entries = append(entries, ctTimeout.ReplaceAllString(l, "${1}<timeout> "))
		} else if l != "" {
			rest = append(rest, l)
		}
	}
	sort.Strings(entries)
	return strings.Join(append(entries, rest...), "\n")
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	count := map[string]int{}
	for _, l := range strings.Split(want, "\n") {
		count[l]++
	}
	for _, l := range strings.Split(got, "\n") {
		count[l]--
	}
	var b strings.Builder
	for _, l := range strings.Split(want, "\n") {
		if count[l] > 0 {
			fmt.Fprintf(&b, "-%s\n", l)
			count[l]--
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if count[l] < 0 {
			fmt.Fprintf(&b, "+%s\n", l)
			count[l]++
		}
	}
	return b.String()
}

// pair is the two topologies of one test.
type pair struct {
	t    *testing.T
	g, k *side
}

// newPair builds both topologies for the rules file (relative to the
// package), with the sysctls (NAME=VALUE) set in both routers, and starts
// gofwd with --divert divert in gofw's router. The test runs in parallel
// with the other end-to-end tests: each has its own namespaces, and most
// of their time is spent waiting.
func newPair(t *testing.T, rules, divert string, sysctls ...string) *pair {
	t.Helper()
	return newPairSetup(t, rules, divert, nil, sysctls...)
}

// newPairSetup is newPair with setup, when not nil, run on each side once
// its topology is built and before gofwd starts: extra links, addresses
// or routes that gofwd then finds at start, or a side's own copy of the
// rules file (s.rules) for a test that rewrites it.
func newPairSetup(t *testing.T, rules, divert string, setup func(s *side), sysctls ...string) *pair {
	t.Helper()
	return newPairFlags(t, rules, divert, setup, nil, sysctls...)
}

// newPairFlags is newPairSetup with more gofwd flags.
func newPairFlags(t *testing.T, rules, divert string, setup func(s *side), flags []string, sysctls ...string) *pair {
	t.Helper()
	needE2E(t)
	t.Parallel()
	rules, err := filepath.Abs(rules)
	if err != nil {
		t.Fatal(err)
	}
	p := &pair{t: t, g: newSide(t, rules, false, sysctls), k: newSide(t, rules, true, sysctls)}
	p.g.bin = binDir(t)
	p.k.bin = p.g.bin
	if setup != nil {
		setup(p.g)
		setup(p.k)
	}
	p.g.startGofwd(divert, flags...)
	return p
}

func (p *pair) serve(srvs ...server) {
	p.t.Helper()
	p.g.serve(srvs...)
	p.k.serve(srvs...)
}

// dropSecs is how long a client waits for an answer that is not to come.
const dropSecs = "0.5"

// exchange is one nettool exchange and what the kernel is known to give.
type exchange struct {
	from  host
	proto string
	addr  string
	lport int    // the client's port, fixed so that both sides have the same tuples
	want  string // "timeout", "refused ERRNO" or the server's line
}

func (x exchange) String() string {
	return fmt.Sprintf("%s %s → %s from port %d", x.from, x.proto, x.addr, x.lport)
}

// secs is the exchange's timeout: short where nothing is to come back,
// well under the 1 s after which TCP sends its SYN again, so that both
// sides send exactly one even on a loaded machine; generous otherwise.
func (x exchange) secs() string {
	if x.want == "timeout" {
		return dropSecs
	}
	return "5"
}

// exchange runs every exchange on both sides at once and checks that the
// kernel gives what the row wants and gofw what the kernel gives.
func (p *pair) exchange(xs ...exchange) {
	p.t.Helper()
	p.exchangeSized(0, xs...)
}

// exchangeSized is exchange with UDP datagrams of size bytes both ways
// (nettool dial's SIZE; 0 for its short ones).
func (p *pair) exchangeSized(size int, xs ...exchange) {
	p.t.Helper()
	got := make([][2]string, len(xs))
	var wg sync.WaitGroup
	for i, x := range xs {
		for j, s := range []*side{p.g, p.k} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i][j] = s.dial(x.from, x.proto, x.addr, x.secs(), x.lport, size)
			}()
		}
	}
	wg.Wait()
	for i, x := range xs {
		g, k := got[i][0], got[i][1]
		if k != x.want {
			p.t.Errorf("%v: the kernel says %q, the test wants %q (the test is wrong)", x, k, x.want)
		}
		if g != k {
			p.t.Errorf("%v: gofw says %q, the kernel %q", x, g, k)
		}
	}
}

// compareCounters checks that gofw -L -v -x prints the same rules with the
// same packet and byte counters as iptables-legacy for each table. Closing
// segments may still be on their way: it polls until they agree, at most
// 10 s.
func (p *pair) compareCounters(t *testing.T, tables ...string) {
	t.Helper()
	var g, k string
	if !poll(10*time.Second, func() bool {
		g, k = "", ""
		for _, tb := range tables {
			g += p.g.counters(tb)
			k += p.k.counters(tb)
		}
		return g == k
	}) {
		t.Errorf("counters differ (-kernel +gofw):\n%s\ngofw:\n%s", lineDiff(k, g), g)
	}
}

// compareConntrack checks that gofw conntrack -L lists the same entries,
// states and tuples as conntrack -L in the kernel's router, timeouts
// aside. TCP states move on while the last segments pass: it polls until
// they agree, at most 10 s.
func (p *pair) compareConntrack(t *testing.T) {
	t.Helper()
	var g, k string
	if !poll(10*time.Second, func() bool {
		g, k = normConntrack(p.g.conntrackList()), normConntrack(p.k.conntrackList())
		return g == k
	}) {
		t.Errorf("connection tables differ (-kernel +gofw):\n%s\nkernel:\n%s\ngofw:\n%s", lineDiff(k, g), k, g)
		return
	}
	t.Logf("both routers list:\n%s", g)
}

// ftpFile is the file the FTP server serves. It fits one segment: a
// larger write leaves the sender as one GSO packet, which iptables counts
// once, while gofwd, with a ruleset that may rewrite packets (a nat
// table), takes it from NFQUEUE cut into segments and counts each.
var ftpFile = strings.Repeat("gofw end-to-end FTP transfer: a passive data connection, RELATED through the helper.\n", 12)

const ftpFileName = "gofw.txt"

// ftpd ADDR PASVBASE serves FTP sessions on ADDR (for 120 s), each on its
// own goroutine, enough for a passive download: USER, PASS, TYPE, PASV,
// EPSV, RETR of one fixed file, QUIT. The passive ports are PASVBASE,
// PASVBASE+1, ... in the order of the PASV/EPSV commands, so that two runs
// of the same sessions use the same ports.
func ftpd(args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: ftpd ADDR:PORT PASVBASE")
		return 2
	}
	base, err := strconv.Atoi(args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	l, err := net.Listen("tcp4", args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	l.(*net.TCPListener).SetDeadline(time.Now().Add(120 * time.Second))
	var next atomic.Int32
	next.Store(int32(base))
	for {
		c, err := l.Accept()
		if err != nil {
			return 0
		}
		go ftpSession(c, func() int { return int(next.Add(1)) - 1 })
	}
}

// ftpSession answers one control connection. Every reply is its own
// write, so it starts a segment, where the kernel's helper looks for it.
func ftpSession(c net.Conn, nextPort func() int) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	// Each reply waits 20 ms, so that the ACK of the command it answers
	// has left first: otherwise the two race, and a reply that overtakes
	// it draws a duplicate ACK, one packet more in one router's counters.
	say := func(s string) {
		time.Sleep(20 * time.Millisecond)
		io.WriteString(c, s+"\r\n")
	}
	var data net.Listener
	defer func() {
		if data != nil {
			data.Close()
		}
	}()
	say("220 gofw e2e ftpd ready")
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb, _, _ := strings.Cut(strings.TrimRight(l, "\r\n"), " ")
		switch verb = strings.ToUpper(verb); verb {
		case "USER":
			say("331 password required")
		case "PASS":
			say("230 logged in")
		case "TYPE":
			say("200 type set")
		case "PASV", "EPSV":
			if data != nil {
				data.Close()
				data = nil
			}
			// As real servers do, PASV names the address the control
			// connection reached: behind a DNAT, the helper must rewrite
			// it.
			ip := c.LocalAddr().(*net.TCPAddr).IP.To4()
			port := nextPort()
			ln, err := net.Listen("tcp4", net.JoinHostPort(ip.String(), strconv.Itoa(port)))
			if err != nil {
				say("425 " + err.Error())
				continue
			}
			data = ln
			if verb == "PASV" {
				say(fmt.Sprintf("227 Entering Passive Mode (%d,%d,%d,%d,%d,%d).", ip[0], ip[1], ip[2], ip[3], port>>8, port&0xff))
			} else {
				say(fmt.Sprintf("229 Entering Extended Passive Mode (|||%d|)", port))
			}
		case "RETR":
			if data == nil {
				say("425 use PASV or EPSV first")
				continue
			}
			data.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
			dc, err := data.Accept()
			if err != nil {
				say("425 no data connection")
				continue
			}
			say("150 opening BINARY mode data connection for " + ftpFileName)
			io.WriteString(dc, ftpFile)
			dc.Close()
			say("226 transfer complete")
		case "QUIT":
			say("221 goodbye")
			return
		default:
			say("502 command not implemented")
		}
	}
}

// ftpGet SERVER pasv|epsv LCTRLPORT LDATAPORT DATASECS downloads the file
// in passive mode: the data connection is a new connection from
// LDATAPORT to the address and port of the 227 (PASV) or 229 (EPSV)
// reply, given DATASECS to connect. It prints the passive address it was
// given, then "retrieved N bytes, intact" (exit 0), or how the data
// connection failed (exit 4), or what went wrong (exit 1).
func ftpGet(args []string) int {
	if len(args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: ftp SERVER pasv|epsv LCTRLPORT LDATAPORT DATASECS")
		return 2
	}
	server, mode := args[0], args[1]
	lctrl, _ := strconv.Atoi(args[2])
	ldata, _ := strconv.Atoi(args[3])
	dataSecs, _ := strconv.ParseFloat(args[4], 64)
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{Port: lctrl}}
	c, err := d.Dial("tcp4", server)
	if err != nil {
		fmt.Println("control connection:", netOutcome(err))
		return 1
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(15 * time.Second))
	r := bufio.NewReader(c)
	cmd := func(line, want string) (string, error) {
		if line != "" {
			// As ftpd's replies: the ACK of the last reply leaves first.
			time.Sleep(20 * time.Millisecond)
			if _, err := io.WriteString(c, line+"\r\n"); err != nil {
				return "", err
			}
		}
		l, err := r.ReadString('\n')
		if err != nil {
			return "", fmt.Errorf("%s: %v", line, err)
		}
		l = strings.TrimRight(l, "\r\n")
		if !strings.HasPrefix(l, want+" ") {
			return l, fmt.Errorf("%s: got %q, want %s", line, l, want)
		}
		return l, nil
	}
	for _, s := range [][2]string{{"", "220"}, {"USER anonymous", "331"}, {"PASS gofw@", "230"}, {"TYPE I", "200"}} {
		if _, err := cmd(s[0], s[1]); err != nil {
			fmt.Println("control:", err)
			return 1
		}
	}
	var dataAddr string
	if mode == "epsv" {
		l, err := cmd("EPSV", "229")
		_, p, ok := strings.Cut(l, "(|||")
		p, _, ok2 := strings.Cut(p, "|)")
		if err != nil || !ok || !ok2 {
			fmt.Println("control: EPSV:", l, err)
			return 1
		}
		h, _, _ := net.SplitHostPort(server)
		dataAddr = net.JoinHostPort(h, p)
	} else {
		l, err := cmd("PASV", "227")
		_, a, ok := strings.Cut(l, "(")
		a, _, ok2 := strings.Cut(a, ")")
		f := strings.Split(a, ",")
		if err != nil || !ok || !ok2 || len(f) != 6 {
			fmt.Println("control: PASV:", l, err)
			return 1
		}
		p1, _ := strconv.Atoi(f[4])
		p2, _ := strconv.Atoi(f[5])
		dataAddr = net.JoinHostPort(strings.Join(f[:4], "."), strconv.Itoa(p1<<8|p2))
	}
	fmt.Println("passive", dataAddr)
	dd := net.Dialer{Timeout: time.Duration(dataSecs * float64(time.Second)), LocalAddr: &net.TCPAddr{Port: ldata}}
	dc, err := dd.Dial("tcp4", dataAddr)
	if err != nil {
		fmt.Println("data connection:", netOutcome(err))
		cmd("QUIT", "221")
		return 4
	}
	defer dc.Close()
	dc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := cmd("RETR "+ftpFileName, "150"); err != nil {
		fmt.Println("control:", err)
		return 1
	}
	body, err := io.ReadAll(dc)
	if err != nil {
		fmt.Println("data:", netOutcome(err))
		return 1
	}
	if _, err := cmd("", "226"); err != nil {
		fmt.Println("control:", err)
		return 1
	}
	if _, err := cmd("QUIT", "221"); err != nil {
		fmt.Println("control:", err)
		return 1
	}
	state := "intact"
	if string(body) != ftpFile {
		state = "corrupted"
	}
	fmt.Printf("retrieved %d bytes, %s\n", len(body), state)
	return 0
}

// netOutcome names a failed network operation as nettool does.
func netOutcome(err error) string {
	var ne net.Error
	var errno syscall.Errno
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.As(err, &errno):
		return "refused " + unix.ErrnoName(errno)
	}
	return err.Error()
}

// ftp runs one download with ftpGet from h and returns what it printed.
func (s *side) ftp(h host, srv, mode string, lctrl, ldata int, dataSecs string) string {
	self, err := os.Executable()
	if err != nil {
		return err.Error()
	}
	argv := s.in(h, self, srv, mode, strconv.Itoa(lctrl), strconv.Itoa(ldata), dataSecs)
	out, errOut, err := runCmd(30*time.Second, []string{roleEnv + "=ftp"}, argv...)
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 4) {
		return fmt.Sprintf("%s(ftp failed: %v: %s)", out, err, errOut)
	}
	return strings.TrimSpace(out)
}

// ftpServe starts ftpd on each of srvs (tcp) with its passive base port
// and waits until they listen.
func (s *side) ftpServe(srvs []server, pasvBase []int) {
	s.t.Helper()
	self, err := os.Executable()
	if err != nil {
		s.t.Fatal(err)
	}
	var ps []*proc
	for i, v := range srvs {
		ps = append(ps, s.start(v.h, "ftpd-"+v.addr, []string{roleEnv + "=ftpd"}, self, v.addr, strconv.Itoa(pasvBase[i])))
	}
	s.waitListening(ps, srvs...)
}
