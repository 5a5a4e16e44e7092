package datapath_test

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestE2EFastPath runs gofwd --fast-path beside iptables-legacy: an
// established TCP connection through the router is handed to the kernel
// (gofw conntrack -L shows [OFFLOAD], the kernel's entry carries the
// divert's mark) and its packets then pass without reaching gofw (the
// counters stop, with a warning that they are approximate); a rule change
// takes it back at once (its next packet meets the new DROP, as in the
// kernel); and a connection closed while offloaded ends in gofw's table
// as in the kernel's (the FIN still reaches gofw).
func TestE2EFastPath(t *testing.T) { testFastPath(t, wan, wanIP, "FORWARD", 49401) }

// TestE2EFastPathLocal is TestE2EFastPath with the router as the server:
// the connection's packets are diverted at PREROUTING (with INPUT) and
// OUTPUT (with POSTROUTING) instead of PREROUTING and POSTROUTING.
func TestE2EFastPathLocal(t *testing.T) { testFastPath(t, router, rtrLanIP, "INPUT", 49411) }

func testFastPath(t *testing.T, srv host, srvIP, chain string, lport int) {
	p := newPairFlags(t, "testdata/fastpath.v4", "iptables-legacy", nil, []string{"--fast-path"})
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	addr := srvIP + ":80"
	for _, s := range []*side{p.g, p.k} {
		ps := []*proc{s.start(srv, "echod", []string{roleEnv + "=echod"}, self, addr)}
		s.waitListening(ps, server{srv, "tcp", addr})
	}
	hello := func(lport int) string {
		return fmt.Sprintf("hello from %s, you are %s:%d", addr, lanIP, lport)
	}
	type conn struct{ g, k *holder }
	open := func(lport int) conn {
		t.Helper()
		c := conn{p.g.startHold(lan, addr, lport), p.k.startHold(lan, addr, lport)}
		if g, k := c.g.next(), c.k.next(); k != hello(lport) || g != k {
			t.Fatalf("connection from %d: gofw's side is greeted %q, the kernel's %q", lport, g, k)
		}
		return c
	}
	talk := func(c conn, line, want string) {
		t.Helper()
		g, k := c.g.say(line), c.k.say(line)
		if k != want {
			t.Errorf("%q: the kernel's side answers %q, the test wants %q (the test is wrong)", line, k, want)
		}
		if g != k {
			t.Errorf("%q: gofw's side answers %q, the kernel's %q", line, g, k)
		}
	}
	// offloaded talks over c until gofw lists the connection from lport
	// as [OFFLOAD] and the kernel's entry has the mark the divert lets by
	// (gofw hands a connection over after conntrack.OffloadAfter packets).
	offloaded := func(c conn, lport int) {
		t.Helper()
		sport := fmt.Sprintf("sport=%d ", lport)
		var gl, kl, mark string
		for i := 0; ; i++ {
			gl, kl = grepLine(p.g.conntrackList(), sport), grepLine(p.g.must(p.g.in(router, "conntrack", "-L")...), sport)
			mark = fastMark(p.g.must(p.g.in(router, "iptables-legacy-save", "-t", "mangle")...))
			if strings.Contains(gl, "[OFFLOAD]") && mark != "" && strings.Contains(kl, " mark="+mark+" ") {
				return
			}
			if i == 20 {
				break
			}
			talk(c, fmt.Sprintf("warm-up %d", i), fmt.Sprintf("echo warm-up %d", i))
		}
		t.Fatalf("connection from %d not offloaded after 20 exchanges:\ngofw conntrack -L: %s\nkernel conntrack -L: %s\ndivert's mark: %q\n%s", lport, gl, kl, mark, p.g.gofwd.output())
	}

	c1 := open(lport)
	talk(c1, "one", "echo one")
	offloaded(c1, lport)
	before, _, err := p.g.gofw("-L", "-v", "-x", "-n")
	if err != nil {
		t.Fatal(err)
	}
	talk(c1, "two", "echo two")
	talk(c1, "three", "echo three")
	after, warn, err := p.g.gofw("-L", "-v", "-x", "-n")
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("counters moved while the connection was offloaded (its packets reached gofw):\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if !strings.Contains(warn, "counters are approximate") {
		t.Errorf("gofw -L -v while connections are offloaded: no warning on stderr, got %q", warn)
	}

	// A rule change ends every offload before it applies: the next
	// segment of the connection meets the new DROP.
	if out, errOut, err := p.g.gofw("-I", chain, "1", "-p", "tcp", "--dport", "80", "-j", "DROP"); err != nil {
		t.Fatalf("gofw -I: %v: %s%s", err, out, errOut)
	}
	p.k.must(p.k.in(router, "iptables-legacy", "-I", chain, "1", "-p", "tcp", "--dport", "80", "-j", "DROP")...)
	if gl := grepLine(p.g.conntrackList(), fmt.Sprintf("sport=%d ", lport)); strings.Contains(gl, "[OFFLOAD]") {
		t.Errorf("after a rule change the connection is still offloaded: %s", gl)
	}
	talk(c1, "dropped", "timeout")
	if out, errOut, err := p.g.gofw("-D", chain, "1"); err != nil {
		t.Fatalf("gofw -D: %v: %s%s", err, out, errOut)
	}
	p.k.must(p.k.in(router, "iptables-legacy", "-D", chain, "1")...)

	// Closed while offloaded: the FINs reach gofw, which ends the
	// connection as the kernel does.
	c2 := open(lport + 1)
	talk(c2, "one", "echo one")
	offloaded(c2, lport+1)
	talk(c2, "two", "echo two")
	c2.g.stdin.Close()
	c2.k.stdin.Close()
	var g, k string
	if !poll(10*time.Second, func() bool {
		g = normConntrack(grepLine(p.g.conntrackList(), fmt.Sprintf("sport=%d ", lport+1)))
		k = normConntrack(grepLine(p.k.conntrackList(), fmt.Sprintf("sport=%d ", lport+1)))
		return strings.Contains(k, "TIME_WAIT") && g == k
	}) {
		t.Errorf("the connection closed while offloaded:\nkernel: %s\ngofw:   %s", k, g)
	}
	if out := p.g.gofwd.output(); strings.Contains(out, "refused a connection mark update") {
		t.Errorf("the kernel refused a mark update:\n%s", out)
	}
}

// TestE2EFastPathBlocked checks that gofwd --fast-path offloads nothing
// under a ruleset whose rules test single packets, and says why.
func TestE2EFastPathBlocked(t *testing.T) {
	p := newPairFlags(t, "testdata/fastpath-blocked.v4", "iptables-legacy", nil, []string{"--fast-path"})
	if out := p.g.gofwd.output(); !strings.Contains(out, "fast path: off for this ruleset: filter FORWARD rule 1: -m length") {
		t.Errorf("gofwd does not say why the fast path is off:\n%s", out)
	}
	p.serve(server{wan, "tcp", wanIP + ":80"})
	p.exchange(exchange{lan, "tcp", wanIP + ":80", 49403, "hello from " + wanIP + ":80, you are " + lanIP + ":49403"})
	if l := p.g.conntrackList(); strings.Contains(l, "[OFFLOAD]") {
		t.Errorf("an entry was offloaded under a ruleset with -m length:\n%s", l)
	}
	p.compareCounters(t, "filter")
}

// grepLine returns the lines of s that contain sub.
func grepLine(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// fastMarkRule finds the divert's fast-path rule in iptables-save output.
var fastMarkRule = regexp.MustCompile(`-m connmark --mark (0x[0-9a-f]+) -j RETURN`)

// fastMark returns the mark the divert lets by, in decimal as conntrack
// -L prints it ("" if none).
func fastMark(save string) string {
	m := fastMarkRule.FindStringSubmatch(save)
	if m == nil {
		return ""
	}
	var v uint32
	fmt.Sscanf(m[1], "0x%x", &v)
	return fmt.Sprint(v)
}
