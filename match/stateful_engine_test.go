package match_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
	"github.com/gofw/gofw/ruleset"
	"github.com/gofw/gofw/target"
)

// These tests run the stateful matches inside the engine, where what
// matters is the rule around them: the order of a rule's matches, and
// which state survives a ruleset edit.

const filterHead = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"

func restore(t *testing.T, text string) *ruleset.Ruleset {
	t.Helper()
	var out strings.Builder
	rs, err := ruleset.Restore(ruleset.New(), strings.NewReader(text), ruleset.RestoreOptions{}, &out)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	return rs
}

func load(t *testing.T, e *ruleset.Engine, rs *ruleset.Ruleset) {
	t.Helper()
	if err := e.Load(rs); err != nil {
		t.Fatalf("load: %v", err)
	}
}

// deliver runs a UDP datagram src:sport -> dst:53 through PREROUTING and
// INPUT at stEpoch+d and returns the verdict.
func deliver(t *testing.T, e *ruleset.Engine, src string, sport uint16, dst string, d time.Duration) target.Verdict {
	t.Helper()
	p := &packet.Packet{}
	p.ResetMeta()
	dg := packet.BuildUDP(netip.AddrPortFrom(netip.MustParseAddr(src), sport), netip.AddrPortFrom(netip.MustParseAddr(dst), 53), []byte("payload"))
	if r := packet.Decode(dg, p); r != packet.ReasonNone {
		t.Fatalf("decode: %v", r)
	}
	p.InIface, p.Now = "eth0", int64(1000*time.Hour+d)
	for _, h := range []packet.Hook{packet.Prerouting, packet.Input} {
		if v := e.Hook(p, h, nil); v != target.Accept {
			return v
		}
	}
	return target.Accept
}

// TestRecentRuleOrder: a rule's matches run in order and stop at the first
// that fails (ipt_do_table), so "--set" before a failing match still adds
// the address, and after one it does not.
func TestRecentRuleOrder(t *testing.T) {
	e := ruleset.NewEngine(conntrack.NewTable(conntrack.Config{}), &match.Env{})
	load(t, e, restore(t, filterHead+
		"-A INPUT -p udp -m recent --set --name first -m string --string NOPE --algo bm\n"+
		"-A INPUT -p udp -m string --string NOPE --algo bm -m recent --set --name second\n"+
		"-A INPUT -d 198.18.9.1 -m recent --rcheck --name first -j DROP\n"+
		"-A INPUT -d 198.18.9.2 -m recent --rcheck --name second -j DROP\n"+
		"COMMIT\n"))
	if v := deliver(t, e, "198.18.0.1", 1000, "198.18.9.9", 0); v != target.Accept {
		t.Fatalf("first packet: %v", v)
	}
	if v := deliver(t, e, "198.18.0.1", 1001, "198.18.9.1", 0); v != target.Drop {
		t.Errorf("--set before a failing match: %v, want DROP (listed)", v)
	}
	if v := deliver(t, e, "198.18.0.1", 1002, "198.18.9.2", 0); v != target.Accept {
		t.Errorf("--set after a failing match: %v, want ACCEPT (not listed)", v)
	}
}

// TestStateAcrossEdits: a limit bucket lives in its rule, which the
// ruleset shares between snapshots, so editing another rule keeps it; a
// restore parses the rule anew and refills it. Named recent lists and
// hashlimit tables live in the engine and survive both.
func TestStateAcrossEdits(t *testing.T) {
	text := filterHead +
		"-A INPUT -d 198.18.9.1 -m limit --limit 1/hour --limit-burst 2 -j ACCEPT\n" +
		"-A INPUT -d 198.18.9.1 -j DROP\n" +
		"-A INPUT -d 198.18.9.2 -m hashlimit --hashlimit-upto 1/hour --hashlimit-burst 2 --hashlimit-name h -j ACCEPT\n" +
		"-A INPUT -d 198.18.9.2 -j DROP\n" +
		"-A INPUT -d 198.18.9.3 -m recent --rcheck --name r -j DROP\n" +
		"-A INPUT -d 198.18.9.4 -m recent --set --name r\n" +
		"COMMIT\n"
	e := ruleset.NewEngine(conntrack.NewTable(conntrack.Config{}), &match.Env{})
	rs := restore(t, text)
	load(t, e, rs)
	port := uint16(1000)
	send := func(dst string) target.Verdict {
		port++
		return deliver(t, e, "198.18.0.1", port, dst, time.Second)
	}
	for i := range 2 {
		if v, w := send("198.18.9.1"), send("198.18.9.2"); v != target.Accept || w != target.Accept {
			t.Fatalf("packet %d within the burst: limit %v, hashlimit %v", i, v, w)
		}
	}
	send("198.18.9.4") // lists 198.18.0.1
	check := func(when string, limit, hashlimit, recent target.Verdict) {
		t.Helper()
		if v := send("198.18.9.1"); v != limit {
			t.Errorf("%s: limit %v, want %v", when, v, limit)
		}
		if v := send("198.18.9.2"); v != hashlimit {
			t.Errorf("%s: hashlimit %v, want %v", when, v, hashlimit)
		}
		if v := send("198.18.9.3"); v != recent {
			t.Errorf("%s: recent %v, want %v", when, v, recent)
		}
	}
	check("before any edit", target.Drop, target.Drop, target.Drop)

	rs, _, err := ruleset.Run(rs, []string{"-I", "INPUT", "-s", "198.18.7.7", "-j", "ACCEPT"})
	if err != nil {
		t.Fatal(err)
	}
	load(t, e, rs)
	check("after inserting another rule", target.Drop, target.Drop, target.Drop)

	load(t, e, restore(t, text))
	check("after a restore", target.Accept, target.Drop, target.Drop)
}

// TestConnlimitNeedsConntrack: an engine without connection tracking
// refuses a connlimit rule when it loads it, naming the reason.
func TestConnlimitNeedsConntrack(t *testing.T) {
	e := ruleset.NewEngine(nil, &match.Env{})
	err := e.Load(restore(t, filterHead+"-A INPUT -p tcp -m connlimit --connlimit-above 2 -j DROP\nCOMMIT\n"))
	if err == nil || !strings.Contains(err.Error(), match.ErrNoConntrack.Error()) {
		t.Errorf("load: %v, want an error saying %q", err, match.ErrNoConntrack)
	}
}
