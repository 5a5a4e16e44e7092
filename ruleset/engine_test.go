package ruleset

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
	"github.com/gofw/gofw/target"
)

// engineFor returns an engine running the restore file text, with its own
// conntrack table.
func engineFor(t testing.TB, text string) *Engine {
	t.Helper()
	var out strings.Builder
	rs, err := Restore(New(), strings.NewReader(text), RestoreOptions{}, &out)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	e := NewEngine(conntrack.NewTable(conntrack.Config{}), &match.Env{})
	if err := e.Load(rs); err != nil {
		t.Fatalf("load: %v", err)
	}
	return e
}

func ap(s string, port uint16) netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr(s), port)
}

// tcpPkt decodes a TCP segment into a fresh packet arriving on in.
func tcpPkt(t testing.TB, src string, sport uint16, dst string, dport uint16, flags uint8, in string) *packet.Packet {
	t.Helper()
	p := &packet.Packet{}
	p.ResetMeta()
	if r := packet.Decode(packet.BuildTCP(ap(src, sport), ap(dst, dport), flags, 1000, 0, 65535, nil), p); r != packet.ReasonNone {
		t.Fatalf("decode: %v", r)
	}
	p.InIface = in
	return p
}

// runHooks passes p through hooks in order, stopping at the first verdict that
// is not Accept, and returns that verdict and the trace.
func runHooks(e *Engine, p *packet.Packet, hooks ...packet.Hook) (target.Verdict, *Trace) {
	tr := &Trace{}
	for _, h := range hooks {
		if v := e.Hook(p, h, tr); v != target.Accept {
			return v, tr
		}
	}
	return target.Accept, tr
}

func traceRules(tr *Trace) string {
	var b []string
	for _, s := range tr.Steps {
		if s.Num == 0 {
			b = append(b, s.Table+"/"+s.Chain+"/policy")
		} else {
			b = append(b, s.Table+"/"+s.Chain+"/"+itoa(uint64(s.Num)))
		}
	}
	return strings.Join(b, " ")
}

var inHooks = []packet.Hook{packet.Prerouting, packet.Input}

// TestTraversal covers ipt_do_table's control flow with generic matches
// only: jumps, gotos, RETURN, policies and the order of the tables.
func TestTraversal(t *testing.T) {
	e := engineFor(t, `*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -s 198.18.9.9/32 -j DROP
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:ADMIN - [0:0]
:GOTO - [0:0]
:COUNT - [0:0]
-A INPUT -j COUNT
-A INPUT -s 198.18.1.0/24 -j ADMIN
-A INPUT -s 198.18.2.0/24 -g GOTO
-A INPUT ! -i eth+ -j ACCEPT
-A INPUT -p udp -j ACCEPT
-A ADMIN -s 198.18.1.1/32 -j RETURN
-A ADMIN -j ACCEPT
-A GOTO -s 198.18.2.1/32 -j RETURN
-A GOTO -j DROP
-A COUNT
COMMIT
`)
	rows := []struct {
		name  string
		src   string
		in    string
		want  target.Verdict
		rules string
	}{
		// raw runs before filter, and its DROP ends everything.
		{"raw drop", "198.18.9.9", "eth0", target.Drop, "raw/PREROUTING/1"},
		// A jump returns to the next rule of the caller.
		{"jump then accept", "198.18.1.2", "eth0", target.Accept,
			"raw/PREROUTING/policy filter/INPUT/1 filter/COUNT/1 filter/INPUT/2 filter/ADMIN/2"},
		{"jump, RETURN, policy", "198.18.1.1", "eth0", target.Drop,
			"raw/PREROUTING/policy filter/INPUT/1 filter/COUNT/1 filter/INPUT/2 filter/ADMIN/1 filter/INPUT/policy"},
		// RETURN from a goto'd chain returns past the goto to the
		// caller's caller: for a built-in chain, its policy.
		{"goto, RETURN", "198.18.2.1", "lo", target.Drop,
			"raw/PREROUTING/policy filter/INPUT/1 filter/COUNT/1 filter/INPUT/3 filter/GOTO/1 filter/INPUT/policy"},
		{"goto, DROP", "198.18.2.2", "lo", target.Drop,
			"raw/PREROUTING/policy filter/INPUT/1 filter/COUNT/1 filter/INPUT/3 filter/GOTO/2"},
		// Interface wildcard and its inversion.
		{"not eth+", "198.18.3.1", "lo", target.Accept,
			"raw/PREROUTING/policy filter/INPUT/1 filter/COUNT/1 filter/INPUT/4"},
		{"eth+ falls to policy", "198.18.3.1", "eth1", target.Drop,
			"raw/PREROUTING/policy filter/INPUT/1 filter/COUNT/1 filter/INPUT/policy"},
	}
	for _, r := range rows {
		p := tcpPkt(t, r.src, 40000, "198.18.0.1", 22, packet.TCPSyn, r.in)
		v, tr := runHooks(e, p, inHooks...)
		if v != r.want || traceRules(tr) != r.rules {
			t.Errorf("%s: got %v [%s], want %v [%s]", r.name, v, traceRules(tr), r.want, r.rules)
		}
	}
	rs := e.Ruleset()
	ft, _ := rs.Table("filter")
	inp, _ := ft.Chain("INPUT")
	if got := inp.Rules[0].Counters.Packets.Load(); got != uint64(len(rows)-1) {
		t.Errorf("INPUT rule 1 counted %d packets, want %d", got, len(rows)-1)
	}
	if got := inp.PolicyCounters.Packets.Load(); got != 3 {
		t.Errorf("INPUT policy counted %d packets, want 3", got)
	}
}

// TestConntrackAttach: the engine attaches an entry at PREROUTING, confirms
// it at INPUT, discards it when the packet is dropped, and leaves NOTRACK
// packets untracked.
func TestConntrackAttach(t *testing.T) {
	e := engineFor(t, `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -s 198.18.5.5/32 -j DROP
COMMIT
`)
	p := tcpPkt(t, "198.18.1.1", 40000, "198.18.0.1", 22, packet.TCPSyn, "eth0")
	if v, _ := runHooks(e, p, inHooks...); v != target.Accept || p.Conn == nil || p.CtInfo != conntrack.New {
		t.Fatalf("SYN: verdict %v conn %v info %v, want ACCEPT, an entry, NEW", v, p.Conn, p.CtInfo)
	}
	if p.Conn.Status()&conntrack.StatusConfirmed == 0 || e.CT.Count() != 1 {
		t.Fatalf("SYN: entry not confirmed at INPUT (status %v, count %d)", p.Conn.Status(), e.CT.Count())
	}
	d := tcpPkt(t, "198.18.5.5", 40000, "198.18.0.1", 22, packet.TCPSyn, "eth0")
	if v, _ := runHooks(e, d, inHooks...); v != target.Drop || e.CT.Count() != 1 {
		t.Fatalf("dropped SYN: verdict %v, %d entries, want DROP and the dropped one discarded", v, e.CT.Count())
	}
	n := tcpPkt(t, "198.18.1.1", 40001, "198.18.0.1", 22, packet.TCPSyn, "eth0")
	n.NoTrack = true
	if v, _ := runHooks(e, n, inHooks...); v != target.Accept || n.Conn != nil || n.CtInfo != conntrack.Untracked || e.CT.Count() != 1 {
		t.Fatalf("NOTRACK: verdict %v conn %v info %v count %d", v, n.Conn, n.CtInfo, e.CT.Count())
	}
}

// TestEngineLoadKeepsOld: a ruleset the engine cannot run leaves the
// previous one in place.
func TestEngineLoadKeepsOld(t *testing.T) {
	e := engineFor(t, "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n")
	old := e.Ruleset()
	l := NewLive(old)
	l.Compile = func(rs *Ruleset) error { return e.Load(rs) }
	if err := l.Update(func(rs *Ruleset) (*Ruleset, error) {
		rs, _, err := Run(rs, []string{"-P", "INPUT", "ACCEPT"})
		return rs, err
	}); err != nil {
		t.Fatal(err)
	}
	if e.Ruleset() == old || l.Load() != e.Ruleset() {
		t.Fatal("a good update did not reach the engine")
	}
}
