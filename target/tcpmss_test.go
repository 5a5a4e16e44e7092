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

// mssHost has eth0 (MTU 1400), eth1 (MTU 1500), wg0 (MTU 1280), tiny
// (MTU 40) and nomtu (MTU unknown).
var mssHost = match.NewHost([]match.Iface{
	{Name: "eth0", MTU: 1400}, {Name: "eth1", MTU: 1500}, {Name: "wg0", MTU: 1280},
	{Name: "tiny", MTU: 40}, {Name: "nomtu"},
})

// kernelMSS finds the MSS option as tcpmss_mangle_packet walks the
// options (past an EOL too), or -1.
func kernelMSS(p *packet.Packet) int {
	th := p.Data[p.L4Off:]
	for i := 20; i <= p.TCPHdrLen-4; {
		if th[i] == packet.TCPOptMSS && th[i+1] == 4 {
			return int(th[i+2])<<8 | int(th[i+3])
		}
		if th[i] <= packet.TCPOptNOP || th[i+1] == 0 {
			i++
		} else {
			i += int(th[i+1])
		}
	}
	return -1
}

// TestTCPMSSDo checks tcpmss_mangle_packet: rewriting, clamping, inserting
// and the packets it drops or leaves alone.
func TestTCPMSSDo(t *testing.T) {
	type want struct {
		v       Verdict
		mss     int // -1: no MSS option
		changed bool
		hdrLen  int // TCP header length after
	}
	synOpts := func(opts ...byte) []byte { return tcpSyn(packet.WithTCPOptions(opts)) }
	for _, tc := range []struct {
		name    string
		spec    string
		dg      []byte
		in, out string
		w       want
	}{
		// An MSS option is lowered, never raised.
		{"lowered", "--set-mss 1400", tcpSyn(packet.WithMSS(1460)), "", "", want{Continue, 1400, true, 24}},
		{"not raised", "--set-mss 1500", tcpSyn(packet.WithMSS(1460)), "", "", want{Continue, 1460, false, 24}},
		{"equal", "--set-mss 1460", tcpSyn(packet.WithMSS(1460)), "", "", want{Continue, 1460, false, 24}},
		{"after other options", "--set-mss 1000", tcpSyn(packet.WithWScale(7), packet.WithSACKPerm(), packet.WithMSS(1460)), "", "", want{Continue, 1000, true, 32}},
		// The kernel's walk goes on past an end-of-list option.
		{"after EOL", "--set-mss 1000", synOpts(0, 0, 2, 4, 5, 0xb4), "", "", want{Continue, 1000, true, 28}},
		// An option at an odd offset: the checksum still comes out right.
		{"odd offset", "--set-mss 1000", synOpts(1, 2, 4, 5, 0xb4), "", "", want{Continue, 1000, true, 28}},
		// Clamping to the smaller of the MTUs out and back, minus 40.
		{"clamp to the way out", "--clamp-mss-to-pmtu", tcpSyn(packet.WithMSS(1460)), "eth1", "eth0", want{Continue, 1360, true, 24}},
		{"clamp to the way back", "--clamp-mss-to-pmtu", tcpSyn(packet.WithMSS(1460)), "wg0", "eth1", want{Continue, 1240, true, 24}},
		{"clamp, local sender", "--clamp-mss-to-pmtu", tcpSyn(packet.WithMSS(1460)), "", "wg0", want{Continue, 1240, true, 24}},
		{"clamp, unknown path MTU", "--clamp-mss-to-pmtu", tcpSyn(packet.WithMSS(1460)), "", "nomtu", want{Drop, 1460, false, 24}},
		{"clamp, unknown interface", "--clamp-mss-to-pmtu", tcpSyn(packet.WithMSS(1460)), "", "eth9", want{Drop, 1460, false, 24}},
		{"clamp, MTU 40", "--clamp-mss-to-pmtu", tcpSyn(packet.WithMSS(1460)), "", "tiny", want{Drop, 1460, false, 24}},
		// No MSS option: one is inserted, of at most 536.
		{"inserted", "--set-mss 1400", tcpSyn(), "", "", want{Continue, 536, true, 24}},
		{"inserted below 536", "--set-mss 500", tcpSyn(), "", "", want{Continue, 500, true, 24}},
		{"inserted before options", "--set-mss 1400", tcpSyn(packet.WithWScale(7), packet.WithSACKPerm()), "", "", want{Continue, 536, true, 32}},
		{"inserted, clamped", "--clamp-mss-to-pmtu", tcpSyn(), "", "eth0", want{Continue, 536, true, 24}},
		{"not inserted with payload", "--set-mss 1400", packet.BuildTCP(ap("198.18.0.1", 1), ap("198.18.0.2", 2), packet.TCPSyn, 1, 0, 1, []byte("data")), "", "", want{Continue, -1, false, 20}},
		{"not inserted in a full header", "--set-mss 1400", synOpts(make([]byte, 40)...), "", "", want{Continue, -1, false, 60}},
	} {
		d := doer(t, "-p tcp -j TCPMSS "+tc.spec)
		d.(match.Binder).Bind(&match.Env{Host: mssHost})
		p := decode(t, tc.dg)
		p.InIface, p.OutIface = tc.in, tc.out
		oldOpts := string(p.TCPOptions())
		v := d.Do(p)
		mss := kernelMSS(p)
		if v != tc.w.v || mss != tc.w.mss || p.Changed != tc.w.changed || p.TCPHdrLen != tc.w.hdrLen {
			t.Errorf("%s: got %v mss %d changed %v tcp header %d, want %v %d %v %d", tc.name, v, mss, p.Changed, p.TCPHdrLen, tc.w.v, tc.w.mss, tc.w.changed, tc.w.hdrLen)
		}
		if !p.HeaderChecksumOK() || !p.ChecksumOK() || p.Malformed || p.TotalLen != len(p.Data) {
			t.Errorf("%s: header checksum ok %v, checksum ok %v, malformed %v, total length %d of %d bytes", tc.name, p.HeaderChecksumOK(), p.ChecksumOK(), p.Malformed, p.TotalLen, len(p.Data))
		}
		if grew := len(p.Data) - len(tc.dg); grew == 4 && string(p.TCPOptions()[4:]) != oldOpts {
			t.Errorf("%s: options after the inserted MSS are %x, want the old %x", tc.name, p.TCPOptions()[4:], oldOpts)
		}
	}
	// Left alone or dropped, as the kernel finds the header.
	short := &packet.Packet{}
	packet.Decode(packet.BuildIP(addr("198.18.0.1"), addr("198.18.0.2"), packet.ProtoTCP, make([]byte, 10)), short)
	if v := doer(t, "-p tcp -j TCPMSS --set-mss 1000").Do(short); v != Drop {
		t.Errorf("TCP header cut short: %v, want DROP", v)
	}
	frag := &packet.Packet{}
	packet.Decode(packet.Fragment(packet.BuildTCP(ap("198.18.0.1", 1), ap("198.18.0.2", 2), packet.TCPSyn, 1, 0, 1, make([]byte, 40), packet.WithMSS(1460)), 16)[1], frag)
	if v := doer(t, "-p tcp -j TCPMSS --set-mss 1000").Do(frag); v != Continue || frag.Changed {
		t.Errorf("later fragment: %v changed %v, want CONTINUE false", v, frag.Changed)
	}
}

// TestTCPMSSGrow checks where an inserted option goes: into the caller's
// buffer when it has room, into a new one when not.
func TestTCPMSSGrow(t *testing.T) {
	d := doer(t, "-p tcp -j TCPMSS --set-mss 1400")
	syn := tcpSyn()
	roomy := make([]byte, len(syn), len(syn)+64)
	copy(roomy, syn)
	p := decode(t, roomy)
	d.Do(p)
	if len(p.Data) != len(syn)+4 || &p.Data[0] != &roomy[0] {
		t.Errorf("with room: %d bytes, in place %v; want %d bytes in place", len(p.Data), &p.Data[0] == &roomy[0], len(syn)+4)
	}
	tight := append([]byte(nil), syn...)[:len(syn):len(syn)]
	p = decode(t, tight)
	d.Do(p)
	if m, _ := p.TCPMSS(); len(p.Data) != len(syn)+4 || m != 536 || string(tight) != string(syn) {
		t.Errorf("without room: %d bytes, mss %d, caller's buffer changed %v", len(p.Data), m, string(tight) != string(syn))
	}
	// Neither the rewrite nor an insertion into a roomy buffer allocates.
	withMSS := tcpSyn(packet.WithMSS(1460))
	buf := make([]byte, 0, 128)
	p = &packet.Packet{}
	noAllocs(t, "TCPMSS rewrite", func() {
		packet.Decode(append(buf[:0], withMSS...), p)
		d.Do(p)
	})
	noAllocs(t, "TCPMSS insert", func() {
		packet.Decode(append(buf[:0], syn...), p)
		d.Do(p)
	})
}
