package match

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/packet"
)

var connlimitRows = []rlRow{
	// libxt_connlimit.t
	{rule: "-m connlimit --connlimit-upto -1", err: "connlimit: bad value for option \"--connlimit-upto\", or out of range (0-4294967295).\n"},
	{rule: "-m connlimit --connlimit-above -1", err: "connlimit: bad value for option \"--connlimit-above\", or out of range (0-4294967295).\n"},
	{rule: "-m connlimit --connlimit-above 10 --connlimit-saddr --connlimit-daddr", err: "connlimit: option \"--connlimit-saddr\" cannot be used together with \"--connlimit-daddr\".\n"},
	{rule: "-m connlimit", err: "You must specify \"--connlimit-above\" or \"--connlimit-upto\"."},
	// libipt_connlimit.t
	{rule: "-m connlimit --connlimit-upto 0", save: "-m connlimit --connlimit-upto 0 --connlimit-mask 32 --connlimit-saddr", print: " #conn src/32 <= 0"},
	{rule: "-m connlimit --connlimit-upto 4294967295 --connlimit-mask 32 --connlimit-saddr", save: "=", print: " #conn src/32 <= 4294967295"},
	{rule: "-m connlimit --connlimit-upto 4294967296 --connlimit-mask 32 --connlimit-saddr", err: "connlimit: bad value for option \"--connlimit-upto\", or out of range (0-4294967295).\n"},
	{rule: "-m connlimit --connlimit-above 0", save: "-m connlimit --connlimit-above 0 --connlimit-mask 32 --connlimit-saddr", print: " #conn src/32 > 0"},
	{rule: "-m connlimit --connlimit-above 4294967295 --connlimit-mask 32 --connlimit-saddr", save: "=", print: " #conn src/32 > 4294967295"},
	{rule: "-m connlimit --connlimit-above 4294967296 --connlimit-mask 32 --connlimit-saddr", err: "connlimit: bad value for option \"--connlimit-above\", or out of range (0-4294967295).\n"},
	{rule: "-m connlimit --connlimit-above 10 --connlimit-saddr", save: "-m connlimit --connlimit-above 10 --connlimit-mask 32 --connlimit-saddr", print: " #conn src/32 > 10"},
	{rule: "-m connlimit --connlimit-above 10 --connlimit-daddr", save: "-m connlimit --connlimit-above 10 --connlimit-mask 32 --connlimit-daddr", print: " #conn dst/32 > 10"},
	{rule: "-m connlimit --connlimit-above 10 --connlimit-mask 32 --connlimit-saddr", save: "=", print: " #conn src/32 > 10"},
	{rule: "-m connlimit --connlimit-above 10 --connlimit-mask 32 --connlimit-daddr", save: "=", print: " #conn dst/32 > 10"},
	{chain: "FORWARD", rule: "-m connlimit --connlimit-above 10 --connlimit-daddr", save: "-m connlimit --connlimit-above 10 --connlimit-mask 32 --connlimit-daddr", print: " #conn dst/32 > 10"},
	{chain: "OUTPUT", rule: "-m connlimit --connlimit-upto 0", save: "-m connlimit --connlimit-upto 0 --connlimit-mask 32 --connlimit-saddr", print: " #conn src/32 <= 0"},

	// Negation swaps upto and above.
	{rule: "-m connlimit ! --connlimit-above 10", save: "-m connlimit --connlimit-upto 10 --connlimit-mask 32 --connlimit-saddr", print: " #conn src/32 <= 10"},
	{rule: "-m connlimit ! --connlimit-upto 10", save: "-m connlimit --connlimit-above 10 --connlimit-mask 32 --connlimit-saddr", print: " #conn src/32 > 10"},
	{rule: "-m connlimit --connlimit-upto 0x10", save: "-m connlimit --connlimit-upto 16 --connlimit-mask 32 --connlimit-saddr", print: " #conn src/32 <= 16"},
	// Masks: a length, or a dotted mask; past 32 (or not contiguous) all
	// 32 bits stay set.
	{rule: "-m connlimit --connlimit-upto 10 --connlimit-mask 24 --connlimit-daddr", save: "=", print: " #conn dst/24 <= 10"},
	{rule: "-m connlimit --connlimit-upto 10 --connlimit-mask 0", save: "-m connlimit --connlimit-upto 10 --connlimit-mask 0 --connlimit-saddr", print: " #conn src/0 <= 10"},
	{rule: "-m connlimit --connlimit-upto 10 --connlimit-mask 255.255.0.0", save: "-m connlimit --connlimit-upto 10 --connlimit-mask 16 --connlimit-saddr", print: " #conn src/16 <= 10"},
	{rule: "-m connlimit --connlimit-upto 10 --connlimit-mask 255.0.255.0", save: "-m connlimit --connlimit-upto 10 --connlimit-mask 32 --connlimit-saddr", print: " #conn src/32 <= 10"},
	{rule: "-m connlimit --connlimit-upto 10 --connlimit-mask 33", save: "-m connlimit --connlimit-upto 10 --connlimit-mask 32 --connlimit-saddr", print: " #conn src/32 <= 10"},
	{rule: "-m connlimit --connlimit-upto 10 --connlimit-mask 1000", save: "-m connlimit --connlimit-upto 10 --connlimit-mask 32 --connlimit-saddr", print: " #conn src/32 <= 10"},
	{rule: "-m connlimit --connlimit-upto 10 --connlimit-mask 4294967040", save: "-m connlimit --connlimit-upto 10 --connlimit-mask 24 --connlimit-saddr", print: " #conn src/24 <= 10"},
	{rule: "-m connlimit --connlimit-upto 10 --connlimit-mask x", err: "connlimit: bad value for option \"--connlimit-mask\", neither a valid network mask nor valid CIDR (0-32).\n"},
	{rule: "-m connlimit --connlimit-upto 10 --connlimit-mask -1", err: "connlimit: bad value for option \"--connlimit-mask\", neither a valid network mask nor valid CIDR (0-32).\n"},
	{rule: "-m connlimit --connlimit-upto 1 --connlimit-above 1", err: "connlimit: option \"--connlimit-upto\" cannot be used together with \"--connlimit-above\".\n"},
	{rule: "-m connlimit --connlimit-above 10 --connlimit-daddr --connlimit-saddr", err: "connlimit: option \"--connlimit-saddr\" cannot be used together with \"--connlimit-daddr\".\n"},
	// The extension's own check comes before the generic one.
	{rule: "-m connlimit --connlimit-saddr --connlimit-daddr", err: "You must specify \"--connlimit-above\" or \"--connlimit-upto\"."},
}

func TestConnlimit(t *testing.T) { rlRun(t, connlimitRows) }

func TestConnlimitOracle(t *testing.T) { rlOracle(t, connlimitRows) }

// TestConnlimitMask checks the mask the hot path applies to addresses.
func TestConnlimitMask(t *testing.T) {
	for _, c := range []struct {
		arg  string
		mask uint32
	}{{"32", 0xffffffff}, {"24", 0xffffff00}, {"0", 0}, {"1", 0x80000000}, {"33", 0xffffffff}, {"255.255.0.0", 0xffff0000}} {
		m := connlimitInfo.New().(*Connlimit)
		if err := m.Parse(&Arg{Name: "connlimit-mask", Value: c.arg}); err != nil || m.Mask != c.mask {
			t.Errorf("--connlimit-mask %s: %#x, %v; want %#x", c.arg, m.Mask, err, c.mask)
		}
	}
}

// clWorld is a conntrack table with a clock, and the connlimit rules under
// test bound to it.
type clWorld struct {
	t   *testing.T
	ct  *conntrack.Table
	env *Env
	now time.Duration
}

func newCLWorld(t *testing.T) *clWorld {
	ct := conntrack.NewTable(conntrack.Config{})
	return &clWorld{t: t, ct: ct, env: &Env{CT: ct}, now: stEpoch}
}

func clSeg(src string, sport uint16, dst string, dport uint16, flags uint8, seq, ack uint32) *conntrack.Segment {
	return &conntrack.Segment{
		Tuple:    conntrack.MakeTuple(netip.MustParseAddr(src), netip.MustParseAddr(dst), packet.ProtoTCP, sport, dport),
		Len:      40,
		TCPFlags: flags, Seq: seq, Ack: ack, Window: 65535, HdrLen: 20,
	}
}

// syn runs a SYN through conntrack (not confirmed yet, as when the filter
// table sees it) and returns the packet carrying its new entry.
func (w *clWorld) syn(src string, sport uint16, dst string, dport uint16) *packet.Packet {
	w.t.Helper()
	c, info, v := w.ct.In(clSeg(src, sport, dst, dport, packet.TCPSyn, 1000, 0), int64(w.now))
	if c == nil || v != conntrack.Accept || info != conntrack.New {
		w.t.Fatalf("SYN %s:%d: %v %v %v", src, sport, c, info, v)
	}
	p := at(stTCP(w.t, src, sport, dst, dport, packet.TCPSyn, nil), w.now)
	p.Conn, p.CtInfo = c, info
	return p
}

// confirm lets the SYN of p leave the box.
func (w *clWorld) confirm(p *packet.Packet) {
	w.t.Helper()
	if _, v := w.ct.Confirm(p.Conn, p.CtInfo, int64(w.now)); v != conntrack.Accept {
		w.t.Fatalf("confirm: %v", v)
	}
}

// open is syn + match + confirm + the rest of the handshake: an
// ESTABLISHED connection, counted by m on its first packet.
func (w *clWorld) open(m Matcher, src string, sport uint16) (bool, *packet.Packet) {
	w.t.Helper()
	p := w.syn(src, sport, "198.18.9.9", 80)
	got := m.Match(p)
	w.confirm(p)
	for _, s := range []*conntrack.Segment{
		clSeg("198.18.9.9", 80, src, sport, packet.TCPSyn|packet.TCPAck, 5000, 1001),
		clSeg(src, sport, "198.18.9.9", 80, packet.TCPAck, 1001, 5001),
	} {
		c, info, _ := w.ct.In(s, int64(w.now))
		w.ct.Confirm(c, info, int64(w.now))
	}
	if st := p.Conn.TCPState(); st != conntrack.TCPEstablished {
		w.t.Fatalf("%s:%d: %v, want ESTABLISHED", src, sport, st)
	}
	return got, p
}

// rst closes the connection of p from the client side (TCP CLOSE).
func (w *clWorld) rst(p *packet.Packet) {
	w.t.Helper()
	tu := p.Conn.Tuple(conntrack.Original)
	c, info, _ := w.ct.In(clSeg(tu.SrcAddr().String(), tu.SrcPort, tu.DstAddr().String(), tu.DstPort, packet.TCPRst, 1001, 0), int64(w.now))
	w.ct.Confirm(c, info, int64(w.now))
	if st := p.Conn.TCPState(); st != conntrack.TCPClose {
		w.t.Fatalf("after RST: %v, want CLOSE", st)
	}
}

// TestConnlimitCount: connections are counted per source, each once, and
// a closed, expired or dropped one no longer counts.
func TestConnlimitCount(t *testing.T) {
	const a, b = "198.18.0.1", "198.18.1.1"
	w := newCLWorld(t)
	above2 := stMatch(t, w.env, "-m connlimit --connlimit-above 2")
	upto2 := stMatch(t, w.env, "-m connlimit --connlimit-upto 2")
	check := func(what string, m Matcher, p *packet.Packet, want bool) {
		t.Helper()
		p.Now = int64(w.now)
		if got := m.Match(p); got != want {
			t.Errorf("%s: %v, want %v", what, got, want)
		}
	}
	got1, c1 := w.open(above2, a, 1001)
	got2, _ := w.open(above2, a, 1002)
	got3, c3 := w.open(above2, a, 1003)
	if got1 || got2 || !got3 {
		t.Errorf("opening three from %s: above 2 gave %v %v %v, want false false true", a, got1, got2, got3)
	}
	gotB, _ := w.open(above2, b, 1001)
	if gotB {
		t.Error("another source's first connection counted the first source's")
	}
	// A connection's later packets do not count it again.
	check("established packet of the third", above2, c3, true)
	// Another rule keeps its own count: c3 and c1 are the first two it
	// sees.
	check("a second rule's first", upto2, c3, true)
	check("a second rule's second", upto2, c1, true)
	// RST: CLOSE no longer counts.
	w.rst(c1)
	check("after one RST", above2, c3, false)
	// A SYN counts while in flight; once dropped (its entry discarded)
	// the next walk that reaches it frees it.
	p := w.syn(a, 1004, "198.18.9.9", 80)
	check("SYN in flight", above2, p, true)
	w.ct.Discard(p.Conn)
	q := w.syn(a, 1005, "198.18.9.9", 80)
	check("next SYN", above2, q, true)
	k := connKey{addr: 0xc6120001}
	var ports []uint16
	for _, x := range above2.(*Connlimit).count.Load().shardOf(k).m[k].conns {
		ports = append(ports, x.tuple.SrcPort)
	}
	if want := []uint16{1002, 1003, 1005}; !slices.Equal(ports, want) {
		t.Errorf("listed source ports %v, want %v", ports, want)
	}
	w.ct.Discard(q.Conn)
	// Idle ESTABLISHED connections expire (5 days): nothing left but the
	// new one.
	w.now += 6 * 24 * time.Hour
	r := w.syn(a, 2000, "198.18.9.9", 80)
	check("after expiry", above2, r, false)
	if l := above2.(*Connlimit).count.Load().shardOf(k).m[k]; len(l.conns) != 1 || l.conns[0].tuple.SrcPort != 2000 {
		t.Errorf("list after expiry: %+v, want only port 2000", l.conns)
	}
}

// TestConnlimitGroups: masks, --connlimit-daddr and zones make the groups.
func TestConnlimitGroups(t *testing.T) {
	w := newCLWorld(t)
	for _, c := range []struct {
		rule string
		// connections opened in order (src, dst, sport); want is the
		// result of the last.
		conns [][2]string
		want  bool
	}{
		{"--connlimit-above 1 --connlimit-mask 24", [][2]string{{"198.18.0.1", "198.18.9.9"}, {"198.18.0.77", "198.18.9.9"}}, true},
		{"--connlimit-above 1 --connlimit-mask 24", [][2]string{{"198.18.0.1", "198.18.9.9"}, {"198.18.1.77", "198.18.9.9"}}, false},
		{"--connlimit-above 1 --connlimit-mask 0", [][2]string{{"198.18.0.1", "198.18.9.9"}, {"198.18.1.77", "198.18.9.8"}}, true},
		{"--connlimit-above 1 --connlimit-daddr", [][2]string{{"198.18.0.1", "198.18.9.9"}, {"198.18.1.77", "198.18.9.9"}}, true},
		{"--connlimit-above 1 --connlimit-daddr", [][2]string{{"198.18.0.1", "198.18.9.9"}, {"198.18.0.1", "198.18.9.8"}}, false},
	} {
		m := stMatch(t, w.env, "-m connlimit "+c.rule)
		var got bool
		for i, cn := range c.conns {
			p := w.syn(cn[0], uint16(3000+i), cn[1], 80)
			got = m.Match(p)
			w.confirm(p)
		}
		if got != c.want {
			t.Errorf("%s after %v: %v, want %v", c.rule, c.conns, got, c.want)
		}
	}
	// Zones: the same source in another zone is another group.
	m := stMatch(t, w.env, "-m connlimit --connlimit-above 0")
	p := w.syn("198.18.5.1", 1, "198.18.9.9", 80)
	m.Match(p)
	w.confirm(p)
	seg := clSeg("198.18.5.1", 2, "198.18.9.9", 80, packet.TCPSyn, 1000, 0)
	seg.Zone = 7
	c, info, _ := w.ct.In(seg, int64(w.now))
	q := at(stTCP(t, "198.18.5.1", 2, "198.18.9.9", 80, packet.TCPSyn, nil), w.now)
	q.Conn, q.CtInfo = c, info
	m.Match(q)
	k := connKey{addr: 0xc6120501, zone: 7}
	if l := m.(*Connlimit).count.Load().shardOf(k).m[k]; l == nil || len(l.conns) != 1 {
		t.Errorf("zone 7 list: %+v, want one connection", l)
	}
}

// TestConnlimitNoEntry: a packet without an entry counts its own tuple
// until the next walk finds it in no table; one whose tuple cannot be
// read is dropped.
func TestConnlimitNoEntry(t *testing.T) {
	w := newCLWorld(t)
	m := stMatch(t, w.env, "-m connlimit --connlimit-above 1")
	inv := at(stTCP(t, "198.18.0.1", 5, "198.18.9.9", 80, packet.TCPAck, nil), w.now)
	if m.Match(inv) || inv.Hotdrop {
		t.Errorf("INVALID packet: match or hotdrop")
	}
	p := w.syn("198.18.0.1", 6, "198.18.9.9", 80)
	if m.Match(p) {
		t.Error("the INVALID packet's tuple was still counted")
	}
	frag := at(stDecode(t, packet.BuildIP(netip.MustParseAddr("198.18.0.1"), netip.MustParseAddr("198.18.9.9"), packet.ProtoTCP, make([]byte, 16), packet.WithFrag(10, false))), w.now)
	if m.Match(frag) || !frag.Hotdrop {
		t.Errorf("fragment without entry: hotdrop %v, want true", frag.Hotdrop)
	}
	if err := stMatches(t, w.env, "-m connlimit --connlimit-above 1")[0].(*Connlimit).Bind(&Env{}); !errors.Is(err, ErrNoConntrack) {
		t.Errorf("Bind without conntrack: %v, want %v", err, ErrNoConntrack)
	}
}

// TestConnlimitAllocs: a packet of a counted connection allocates nothing.
func TestConnlimitAllocs(t *testing.T) {
	w := newCLWorld(t)
	m := stMatch(t, w.env, "-m connlimit --connlimit-above 10")
	var p *packet.Packet
	for i := range 5 {
		_, p = w.open(m, "198.18.0.1", uint16(4000+i))
	}
	if n := testing.AllocsPerRun(1000, func() { m.Match(p) }); n != 0 {
		t.Errorf("Match allocates %v times per packet", n)
	}
}

// TestConnlimitInFlight: a connection whose first packet has not left the
// box yet (its entry unconfirmed, so not in the table) still counts when
// the next SYN walks past it.
func TestConnlimitInFlight(t *testing.T) {
	w := newCLWorld(t)
	m := stMatch(t, w.env, "-m connlimit --connlimit-above 1")
	p1 := w.syn("198.18.0.1", 1, "198.18.9.9", 80)
	p2 := w.syn("198.18.0.1", 2, "198.18.9.9", 80)
	if m.Match(p1) || !m.Match(p2) {
		t.Error("two SYNs in flight did not count as two")
	}
	// The same SYN seen again (a second pass, a retransmission before
	// confirmation) is not counted twice.
	if !m.Match(p2) || !m.Match(p1) {
		t.Error("SYNs seen again lost their count")
	}
	k := connKey{addr: 0xc6120001}
	if n := len(m.(*Connlimit).count.Load().shardOf(k).m[k].conns); n != 2 {
		t.Errorf("%d listed, want 2", n)
	}
}

// TestConnlimitConcurrent: workers counting their connections against one
// rule, under the conntrack table's own locking, each see every one of
// their own (run with -race).
func TestConnlimitConcurrent(t *testing.T) {
	ct := conntrack.NewTable(conntrack.Config{})
	m := stMatch(t, &Env{CT: ct}, "-m connlimit --connlimit-upto 1000000 --connlimit-mask 24")
	const workers, per = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src := fmt.Sprintf("198.18.0.%d", w+1)
			for i := range per {
				now := int64(stEpoch) + int64(i)*int64(time.Millisecond)
				c, info, _ := ct.In(clSeg(src, uint16(1000+i), "198.18.9.9", 80, packet.TCPSyn, 1000, 0), now)
				p := stTCP(t, src, uint16(1000+i), "198.18.9.9", 80, packet.TCPSyn, nil)
				p.Conn, p.CtInfo, p.Now = c, info, now
				m.Match(p)
				ct.Confirm(c, info, now)
			}
		}()
	}
	wg.Wait()
	k := connKey{addr: 0xc6120000}
	if n := len(m.(*Connlimit).count.Load().shardOf(k).m[k].conns); n != workers*per {
		t.Errorf("%d connections listed, want %d", n, workers*per)
	}
}
