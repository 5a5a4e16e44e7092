package target

import (
	"errors"
	"syscall"
	"testing"

	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
)

// tcpmssRows were checked against iptables-legacy 1.8.9 on Linux 6.18.
var tcpmssRows = []row{
	// TCPMSS target: only valid for protocol 6
	{"mangle", packet.Forward, "-j TCPMSS --set-mss 5", "", "", "", "placement"},
	{"mangle", packet.Forward, "-p tcp -j TCPMSS", "", "", "", "exit 2: TCPMSS target: At least one parameter is required"},
	{"mangle", packet.Forward, "-p tcp -j TCPMSS --set-mss 65535", "", "", "", "exit 2: TCPMSS: bad value for option \"--set-mss\", or out of range (0-65515).\n"},
	{"mangle", packet.Forward, "-p tcp -j TCPMSS --set-mss 65516", "", "", "", "exit 2: TCPMSS: bad value for option \"--set-mss\", or out of range (0-65515).\n"},
	// TCPMSS target: only valid for protocol 6
	{"mangle", packet.Forward, "-p udp -j TCPMSS --set-mss 5", "", "", "", "placement"},
}

func TestTCPMSS(t *testing.T) { runRows(t, tcpmssRows) }

// tcpMatch builds a tcp match from its option words, as "-m tcp" would.
func tcpMatch(t *testing.T, args ...match.Arg) match.Match {
	t.Helper()
	info, ok := match.Lookup("tcp")
	if !ok {
		t.Fatal("no tcp match")
	}
	m := info.New()
	for i := range args {
		if err := m.Parse(&args[i]); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// TestTCPMSSCheck covers tcpmss_tg4_check, as checked with iptables 1.8.9
// on Linux 6.18 (mangle table, rules with "-p tcp").
func TestTCPMSSCheck(t *testing.T) {
	syn := match.Arg{Name: "syn"}
	flags := func(mask, cmp string, inv bool) match.Arg {
		return match.Arg{Name: "tcp-flags", Value: mask, Extra: []string{cmp}, Inv: inv}
	}
	dport := match.Arg{Name: "dport", Value: "5"}
	const (
		noSyn   = "xt_TCPMSS: Only works on TCP SYN packets"
		badHook = "xt_TCPMSS: path-MTU clamping only supported in FORWARD, OUTPUT and POSTROUTING hooks"
	)
	for _, c := range []struct {
		spec    string
		hooks   packet.HookMask
		matches [][]match.Arg // one tcp match per element
		err     string
	}{
		// The route, and so the PMTU, is known from FORWARD on.
		{"-j TCPMSS --clamp-mss-to-pmtu", packet.Forward.Mask(), [][]match.Arg{{syn}}, ""},
		{"-j TCPMSS --clamp-mss-to-pmtu", packet.Output.Mask(), [][]match.Arg{{syn}}, ""},
		{"-j TCPMSS --clamp-mss-to-pmtu", packet.Postrouting.Mask(), [][]match.Arg{{syn}}, ""},
		{"-j TCPMSS --clamp-mss-to-pmtu", packet.Prerouting.Mask(), [][]match.Arg{{syn}}, badHook},
		{"-j TCPMSS --clamp-mss-to-pmtu", packet.Input.Mask(), [][]match.Arg{{syn}}, badHook},
		// A user chain jumped to from INPUT and FORWARD is checked for both.
		{"-j TCPMSS --clamp-mss-to-pmtu", packet.Input.Mask() | packet.Forward.Mask(), [][]match.Arg{{syn}}, badHook},
		// A chain no hook reaches is not checked against hooks.
		{"-j TCPMSS --clamp-mss-to-pmtu", 0, [][]match.Arg{{syn}}, ""},
		// A fixed MSS works from any hook.
		{"-j TCPMSS --set-mss 1400", packet.Prerouting.Mask(), [][]match.Arg{{syn}}, ""},
		{"-j TCPMSS --set-mss 1400", packet.Input.Mask(), [][]match.Arg{{syn}}, ""},
		// find_syn_match: SYN must be among the compared flags, not negated.
		{"-j TCPMSS --clamp-mss-to-pmtu", packet.Forward.Mask(), nil, noSyn},
		{"-j TCPMSS --clamp-mss-to-pmtu", packet.Forward.Mask(), [][]match.Arg{{dport}}, noSyn},
		{"-j TCPMSS --clamp-mss-to-pmtu", packet.Forward.Mask(), [][]match.Arg{{flags("SYN,RST", "SYN", false)}}, ""},
		{"-j TCPMSS --clamp-mss-to-pmtu", packet.Forward.Mask(), [][]match.Arg{{flags("FIN,SYN,RST", "SYN", false)}}, ""},
		{"-j TCPMSS --clamp-mss-to-pmtu", packet.Forward.Mask(), [][]match.Arg{{flags("SYN", "SYN", false)}}, ""},
		{"-j TCPMSS --clamp-mss-to-pmtu", packet.Forward.Mask(), [][]match.Arg{{flags("ACK,SYN", "SYN,ACK", false)}}, ""},
		{"-j TCPMSS --clamp-mss-to-pmtu", packet.Forward.Mask(), [][]match.Arg{{flags("SYN", "SYN", true)}}, noSyn},
		{"-j TCPMSS --clamp-mss-to-pmtu", packet.Forward.Mask(), [][]match.Arg{{flags("ALL", "NONE", false)}}, noSyn},
		{"-j TCPMSS --set-mss 5", packet.Forward.Mask(), nil, noSyn},
		// Any of several tcp matches may carry the SYN test.
		{"-j TCPMSS --clamp-mss-to-pmtu", packet.Forward.Mask(), [][]match.Arg{{dport}, {syn}}, ""},
	} {
		b, err := build("-p tcp " + c.spec)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		var ms []match.Match
		for _, a := range c.matches {
			ms = append(ms, tcpMatch(t, a...))
		}
		// The kernel checks the hooks first, then the matches.
		err = b.check("mangle", c.hooks)
		if err == nil {
			err = b.tg.(*TCPMSS).CheckMatches(ms)
		}
		got := ""
		if err != nil {
			got = err.Error()
			if !errors.Is(err, syscall.EINVAL) {
				t.Errorf("%s %v: error %v is not EINVAL", c.spec, c.matches, err)
			}
		}
		if got != c.err {
			t.Errorf("%s hooks %#x matches %v:\n got %q\nwant %q", c.spec, c.hooks, c.matches, got, c.err)
		}
	}
}

// TestTCPMSSValues checks the values the datapath reads, and that the
// last of --set-mss and --clamp-mss-to-pmtu wins, as in iptables 1.8.9.
func TestTCPMSSValues(t *testing.T) {
	for _, c := range []struct {
		spec  string
		clamp bool
		mss   uint16
		save  string
	}{
		{"-p tcp -j TCPMSS --set-mss 1400", false, 1400, "-j TCPMSS --set-mss 1400"},
		{"-p tcp -j TCPMSS --set-mss 0x10", false, 16, "-j TCPMSS --set-mss 16"},
		{"-p tcp -j TCPMSS --set-mss 65515", false, 65515, "-j TCPMSS --set-mss 65515"},
		{"-p tcp -j TCPMSS --clamp-mss-to-pmtu", true, 0, "-j TCPMSS --clamp-mss-to-pmtu"},
		{"-p tcp -j TCPMSS --set-mss 1400 --clamp-mss-to-pmtu", true, 0, "-j TCPMSS --clamp-mss-to-pmtu"},
		{"-p tcp -j TCPMSS --clamp-mss-to-pmtu --set-mss 1400", false, 1400, "-j TCPMSS --set-mss 1400"},
	} {
		b, err := build(c.spec)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		tm := b.tg.(*TCPMSS)
		if tm.Clamp != c.clamp || tm.MSS != c.mss || b.save != c.save {
			t.Errorf("%s: got clamp %v mss %d %q, want %v %d %q", c.spec, tm.Clamp, tm.MSS, b.save, c.clamp, c.mss, c.save)
		}
	}
}

// TestTCPMSSDumps round-trips the TCPMSS rules of the real dumps.
func TestTCPMSSDumps(t *testing.T) { runDumps(t, "TCPMSS", 2) }
