package main

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
	"github.com/gofw/gofw/ruleset"
	"github.com/gofw/gofw/target"
)

func gen(t *testing.T, n int, stateful bool) string {
	t.Helper()
	var b strings.Builder
	if err := write(&b, n, stateful); err != nil {
		t.Fatalf("write(%d, %v): %v", n, stateful, err)
	}
	return b.String()
}

// TestRuleCount: INPUT holds exactly N rules, the shortcut first when
// stateful, the accepting rule last.
func TestRuleCount(t *testing.T) {
	for _, r := range []struct {
		n        int
		stateful bool
	}{{1, false}, {2, false}, {10, false}, {1000, false}, {2, true}, {10, true}, {1000, true}} {
		var rules []string
		for _, l := range strings.Split(gen(t, r.n, r.stateful), "\n") {
			if strings.HasPrefix(l, "-A INPUT ") {
				rules = append(rules, l)
			}
		}
		if len(rules) != r.n {
			t.Errorf("%+v: %d INPUT rules, want %d", r, len(rules), r.n)
			continue
		}
		if got, want := strings.Contains(rules[0], "--ctstate"), r.stateful; got != want {
			t.Errorf("%+v: first rule %q: shortcut %v, want %v", r, rules[0], got, want)
		}
		if last := rules[len(rules)-1]; last != "-A INPUT -s "+Bench+" -j ACCEPT" {
			t.Errorf("%+v: last rule %q, want the accepting rule", r, last)
		}
	}
}

// TestRefused: sizes the generator cannot make are refused.
func TestRefused(t *testing.T) {
	for _, r := range []struct {
		n        int
		stateful bool
	}{{0, false}, {1, true}, {maxRules + 1, false}} {
		if err := write(&strings.Builder{}, r.n, r.stateful); err == nil {
			t.Errorf("%+v: no error", r)
		}
	}
}

// TestNoBenchAddress: even the largest ruleset names the benchmark's
// network only in its accepting rule, so no DROP can hit its traffic.
func TestNoBenchAddress(t *testing.T) {
	for _, stateful := range []bool{false, true} {
		text := gen(t, maxRules, stateful)
		if n := strings.Count(text, "198.19.255."); n != 1 {
			t.Errorf("stateful=%v: 198.19.255. appears %d times, want once (the accepting rule)", stateful, n)
		}
	}
}

// TestVerdicts loads a 10 000-rule ruleset into gofw's engine: the
// benchmark's own traffic is accepted, and the DROPs are live (a packet
// they name is dropped).
func TestVerdicts(t *testing.T) {
	tx, rx := netip.MustParseAddr("198.19.255.1"), netip.MustParseAddr("198.19.255.2")
	ap := netip.AddrPortFrom
	rows := []struct {
		name string
		data []byte
		want target.Verdict
	}{
		{"iperf3 tcp", packet.BuildTCP(ap(tx, 40000), ap(rx, 5201), packet.TCPSyn, 1, 0, 65535, nil), target.Accept},
		{"iperf3 udp", packet.BuildUDP(ap(tx, 40001), ap(rx, 5201), make([]byte, 64)), target.Accept},
		{"connrate", packet.BuildTCP(ap(tx, 40002), ap(rx, 5202), packet.TCPSyn, 1, 0, 65535, nil), target.Accept},
		// The first DROP: -s 198.18.0.0/32.
		{"dropped address", packet.BuildUDP(ap(netip.MustParseAddr("198.18.0.0"), 1), ap(rx, 5201), nil), target.Drop},
		// The policy: nothing accepts other sources.
		{"policy", packet.BuildUDP(ap(netip.MustParseAddr("198.19.254.1"), 1), ap(rx, 5201), nil), target.Drop},
	}
	for _, stateful := range []bool{false, true} {
		rs, err := ruleset.Restore(ruleset.New(), strings.NewReader(gen(t, 10000, stateful)), ruleset.RestoreOptions{}, &strings.Builder{})
		if err != nil {
			t.Fatalf("stateful=%v: restore: %v", stateful, err)
		}
		e := ruleset.NewEngine(conntrack.NewTable(conntrack.Config{}), &match.Env{})
		if err := e.Load(rs); err != nil {
			t.Fatalf("stateful=%v: load: %v", stateful, err)
		}
		for _, r := range rows {
			var p packet.Packet
			packet.Decode(append([]byte(nil), r.data...), &p)
			p.InIface = "veth0"
			got := e.Hook(&p, packet.Prerouting, nil)
			if got == target.Accept {
				got = e.Hook(&p, packet.Input, nil)
			}
			if got != r.want {
				t.Errorf("stateful=%v %s: verdict %v, want %v", stateful, r.name, got, r.want)
			}
		}
	}
}
