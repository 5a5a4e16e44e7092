package conntrack

import (
	"net/netip"
	"testing"
	"time"
)

// TestUDP covers §6: 30 s unreplied, 30 s after a quick reply, 120 s and
// ASSURED for traffic more than 2 s after creation.
func TestUDP(t *testing.T) {
	tb, clk := newTestTable(t, Config{})
	rows := []struct {
		name     string
		s        *Segment
		adv      time.Duration
		info     CtInfo
		to       int64
		assured  bool
		unreplie bool
	}{
		{"request", seg(udp, cli, srv, 40001, 7777, 0), 0, New, 30, false, true},
		{"request again", seg(udp, cli, srv, 40001, 7777, 0), time.Second, New, 30, false, true},
		{"quick reply", seg(udp, srv, cli, 7777, 40001, 0), 0, EstablishedReply, 30, false, false},
		{"within 2 s", seg(udp, cli, srv, 40001, 7777, 0), 900 * time.Millisecond, Established, 30, false, false},
		{"after 2 s: stream", seg(udp, cli, srv, 40001, 7777, 0), 300 * time.Millisecond, Established, 120, true, false},
	}
	var c *Conn
	for _, r := range rows {
		now := clk.add(r.adv)
		got, info, _ := pass(tb, r.s, now)
		if got != nil {
			c = got
		}
		if info != r.info || secs(c, now) != r.to || (c.Status()&StatusAssured != 0) != r.assured ||
			(c.Status()&StatusSeenReply == 0) != r.unreplie {
			t.Errorf("%s: got info %v timeout %d status %v, want %v %d assured=%v unreplied=%v",
				r.name, info, secs(c, now), c.Status(), r.info, r.to, r.assured, r.unreplie)
		}
	}
}

// TestICMP covers §7.1 and §7.2.
func TestICMP(t *testing.T) {
	tb, clk := newTestTable(t, Config{})
	now := clk.now
	udpFlow := seg(udp, cli, srv, 40001, 5555, 0)
	pass(tb, udpFlow, now)
	rows := []struct {
		name string
		s    *Segment
		want CtInfo
	}{
		// Queries create entries, answers match them, never ASSURED.
		{"echo request", icmpSeg(cli, srv, 8, 0, 777), New},
		{"echo reply", icmpSeg(srv, cli, 0, 0, 777), EstablishedReply},
		{"duplicate reply still matches", icmpSeg(srv, cli, 0, 0, 777), EstablishedReply},
		{"address mask request", icmpSeg(cli, srv, 17, 0, 781), New},
		{"ICMPv4 timestamp request", icmpSeg(cli, srv, 13, 0, 9), New},
		// Types that cannot start an entry.
		{"echo reply without request", icmpSeg(srv, cli, 0, 0, 4242), Invalid},
		{"router advertisement", icmpSeg(rtr, cli, 9, 0, 0), Invalid},
		{"router solicitation", icmpSeg(cli, rtr, 10, 0, 0), Invalid},
		{"type 99", icmpSeg(cli, srv, 99, 0, 0), Invalid},
		// Errors are RELATED through the quoted packet.
		{"port unreachable from server", icmpErr(srv, cli, 3, 3, udpFlow.Tuple), RelatedReply},
		{"port unreachable from a foreign router", icmpErr(rtr, cli, 3, 3, udpFlow.Tuple), RelatedReply},
		{"error about the reply direction", icmpErr(rtr, srv, 11, 0, MakeTuple(ip(srv), ip(cli), udp, 5555, 40001)), Related},
		{"error about an unknown flow", icmpErr(srv, cli, 3, 3, MakeTuple(ip(cli), ip(srv), udp, 1, 2)), Invalid},
		{"error with the wrong outer destination", icmpErr(srv, rtr, 3, 3, udpFlow.Tuple), Invalid},
	}
	for _, r := range rows {
		c, info, _ := pass(tb, r.s, now)
		if info != r.want || (r.want == Invalid) != (c == nil) {
			t.Errorf("%s: got %v (conn %v), want %v", r.name, info, c != nil, r.want)
		}
		if c != nil && c.Status()&StatusAssured != 0 {
			t.Errorf("%s: ICMP entry assured", r.name)
		}
	}
	c, _ := tb.Lookup(MakeICMPTuple(ip(cli), ip(srv), icmp, 8, 0, 777), 0, now)
	if c == nil || secs(c, now) != 30 {
		t.Fatalf("echo entry missing or wrong timeout")
	}
	// The ICMP error path counts "error" (type 99, unknown flow, wrong
	// destination); entries refused for their type count "invalid".
	if st := tb.Stats(); st.Error != 3 || st.Invalid != 3 {
		t.Errorf("error %d invalid %d, want 3 and 3", st.Error, st.Invalid)
	}
}

// TestICMPv6 covers §7.3: ND and MLD are UNTRACKED, echo is tracked.
func TestICMPv6(t *testing.T) {
	tb, clk := newTestTable(t, Config{})
	a, b := ip("fd00::1"), ip("fd00::2")
	mk := func(src, dst netip.Addr, typ uint8, id uint16) *Segment {
		return &Segment{Tuple: MakeICMPTuple(src, dst, ProtoICMPv6, typ, 0, id), Len: 104}
	}
	rows := []struct {
		name string
		s    *Segment
		want CtInfo
	}{
		{"neighbour solicitation", mk(a, b, 135, 0), Untracked},
		{"router advertisement", mk(b, a, 134, 0), Untracked},
		{"MLDv2 report", mk(a, b, 143, 0), Untracked},
		{"echo request", mk(a, b, 128, 4242), New},
		{"echo reply", mk(b, a, 129, 4242), EstablishedReply},
		{"lone echo reply", mk(b, a, 129, 1), Invalid},
	}
	for _, r := range rows {
		_, info, _ := pass(tb, r.s, clk.now)
		if info != r.want {
			t.Errorf("%s: got %v, want %v", r.name, info, r.want)
		}
	}
}

// TestGeneric covers §8: 600 s, ports ignored, never ASSURED.
func TestGeneric(t *testing.T) {
	tb, clk := newTestTable(t, Config{})
	s := seg(253, cli, srv, 1, 2, 0)
	c, info, _ := pass(tb, s, clk.now)
	if info != New || secs(c, clk.now) != 600 || c.Tuple(Original).SrcPort != 0 {
		t.Fatalf("generic: info %v timeout %d tuple %v", info, secs(c, clk.now), c.Tuple(Original))
	}
	c2, info, _ := pass(tb, seg(253, srv, cli, 9, 9, 0), clk.add(time.Minute))
	if c2 != c || info != EstablishedReply || secs(c, clk.now) != 600 || c.Status()&StatusAssured != 0 {
		t.Fatalf("generic reply: info %v timeout %d status %v", info, secs(c, clk.now), c.Status())
	}
}

// TestLifecycle: an unconfirmed entry is invisible until Confirm, can be
// discarded, and DYING entries never get in.
func TestLifecycle(t *testing.T) {
	tb, clk := newTestTable(t, Config{})
	now := clk.now
	s := seg(tcp, cli, srv, 1234, 80, SYN).sa(1, 0)
	c, info, _ := tb.In(s, now)
	if c == nil || info != New || c.Status()&StatusConfirmed != 0 {
		t.Fatalf("In: %v %v", c, info)
	}
	if got, _ := tb.Lookup(s.Tuple, 0, now); got != nil {
		t.Error("unconfirmed entry visible to lookups")
	}
	if n := len(tb.List(ListUnconfirmed, nil, now)); n != 1 || tb.Count() != 1 {
		t.Errorf("unconfirmed list %d, count %d, want 1, 1", n, tb.Count())
	}
	// The reply tuple can change before confirmation (NAT), not after.
	rt := c.Tuple(Reply)
	rt.SetSrcAddr(ip("198.18.1.80"))
	if err := c.SetReplyTuple(rt); err != nil {
		t.Fatal(err)
	}
	tb.Discard(c)
	if tb.Count() != 0 || len(tb.List(ListUnconfirmed, nil, now)) != 0 {
		t.Errorf("after Discard: count %d", tb.Count())
	}
	if _, v := tb.Confirm(c, info, now); v != Drop {
		t.Error("Confirm after Discard accepted")
	}
	c, info, _ = tb.In(s, now)
	if c2, v := tb.Confirm(c, info, now); c2 != c || v != Accept {
		t.Fatal("Confirm failed")
	}
	if got, d := tb.Lookup(c.Tuple(Reply), 0, now); got != c || d != Reply {
		t.Error("lookup by reply tuple failed")
	}
	if err := c.SetReplyTuple(rt); err != ErrConfirmed {
		t.Errorf("SetReplyTuple after confirm: %v", err)
	}
	// A flush while another packet's entry is unconfirmed keeps it out.
	c3, info3, _ := tb.In(seg(tcp, cli, srv, 1235, 80, SYN).sa(1, 0), now)
	if n := tb.Flush(now); n != 1 {
		t.Errorf("Flush: %d, want 1", n)
	}
	if _, v := tb.Confirm(c3, info3, now); v != Drop || tb.Count() != 0 {
		t.Errorf("flushed unconfirmed entry: verdict %v count %d", v, tb.Count())
	}
	if tb.Stats().InsertFailed != 1 {
		t.Errorf("insert_failed %d, want 1", tb.Stats().InsertFailed)
	}
}

// TestClash covers §9.3: TCP clashes drop, identical UDP flows merge, a
// UDP entry clashing on its original tuple only lives under its reply
// tuple.
func TestClash(t *testing.T) {
	tb, clk := newTestTable(t, Config{})
	now := clk.now
	for _, proto := range []uint8{tcp, udp} {
		s := seg(proto, cli, srv, 5000, 53, SYN).sa(1, 0)
		a, ia, _ := tb.In(s, now)
		b, ib, _ := tb.In(s, now) // a second worker raced the first
		if _, v := tb.Confirm(a, ia, now); v != Accept {
			t.Fatalf("%d: first confirm dropped", proto)
		}
		w, v := tb.Confirm(b, ib, now)
		switch proto {
		case tcp:
			if v != Drop {
				t.Errorf("tcp clash: verdict %v, want DROP", v)
			}
		case udp:
			if v != Accept || w != a {
				t.Errorf("udp clash: verdict %v winner %p, want ACCEPT and %p", v, w, a)
			}
		}
	}
	st := tb.Stats()
	if st.InsertFailed != 1 || st.Drop != 1 || st.ClashResolve != 1 || tb.Count() != 2 {
		t.Errorf("stats %+v count %d", st, tb.Count())
	}
	// Original tuple clash with a different reply tuple (as after NAT).
	s := seg(udp, cli, srv, 6000, 53, 0)
	a, ia, _ := tb.In(s, now)
	b, ib, _ := tb.In(s, now)
	tb.Confirm(a, ia, now)
	rt := b.Tuple(Reply)
	rt.DstPort = 7000
	b.SetReplyTuple(rt)
	w, v := tb.Confirm(b, ib, now)
	if v != Accept || w != b || b.Status()&StatusNATClash == 0 || secs(b, now) != 1 {
		t.Fatalf("nat clash: verdict %v status %v timeout %d", v, b.Status(), secs(b, now))
	}
	if got, _ := tb.Lookup(s.Tuple, 0, now); got != a {
		t.Error("original lookup must find the winner")
	}
	if got, d := tb.Lookup(rt, 0, now); got != b || d != Reply {
		t.Error("reply lookup must find the clash entry")
	}
	for _, e := range tb.List(ListConntrack, nil, now) {
		if e.Reply == rt {
			t.Error("clash entry listed")
		}
	}
}

// TestTableFull covers §11: early drop evicts unassured entries near the
// new tuple; with only ASSURED entries the packet is dropped, counted and
// logged at most once per second.
func TestTableFull(t *testing.T) {
	var logs []string
	tb, clk := newTestTable(t, Config{Max: 64, Shards: 1, Log: func(m string) { logs = append(logs, m) }})
	now := clk.now
	// Fill with assured entries.
	for i := 0; i < 64; i++ {
		handshakeNoFatal(tb, now, uint16(10000+i))
	}
	if tb.Count() != 64 {
		t.Fatalf("count %d", tb.Count())
	}
	for i := 0; i < 3; i++ {
		c, info, v := pass(tb, seg(tcp, cli, srv, uint16(20000+i), 80, SYN).sa(1, 0), now)
		if c != nil || v != Drop || info != Invalid {
			t.Fatalf("full table: got %v %v %v, want DROP", c != nil, info, v)
		}
	}
	if st := tb.Stats(); st.Drop != 3 || st.EarlyDrop != 0 || tb.Count() != 64 {
		t.Errorf("stats %+v count %d", st, tb.Count())
	}
	if len(logs) != 1 || logs[0] != "nf_conntrack: table full, dropping packet" {
		t.Errorf("logs %q, want one 'table full' line", logs)
	}
	clk.add(time.Second)
	pass(tb, seg(tcp, cli, srv, 20010, 80, SYN).sa(1, 0), clk.now)
	if len(logs) != 2 {
		t.Errorf("after 1 s: %d log lines, want 2", len(logs))
	}
	// Make everything unassured-able: a fresh table full of SYN_SENT.
	tb2, clk2 := newTestTable(t, Config{Max: 64, Shards: 1})
	for i := 0; i < 64; i++ {
		pass(tb2, seg(tcp, cli, srv, uint16(10000+i), 80, SYN).sa(1, 0), clk2.now)
	}
	c, _, v := pass(tb2, seg(tcp, cli, srv, 30000, 80, SYN).sa(1, 0), clk2.now)
	if c == nil || v != Accept || tb2.Stats().EarlyDrop == 0 || tb2.Count() > 64 {
		t.Errorf("early drop: conn %v verdict %v stats %+v count %d", c != nil, v, tb2.Stats(), tb2.Count())
	}
}

func handshakeNoFatal(tb *Table, now int64, sport uint16) {
	pass(tb, seg(tcp, cli, srv, sport, 80, SYN).sa(1000, 0), now)
	pass(tb, seg(tcp, srv, cli, 80, sport, SYNACK).sa(5000, 1001), now)
	pass(tb, seg(tcp, cli, srv, sport, 80, ACK).sa(1001, 5001), now)
}

// TestGC: entries expire through GCStep (bounded steps) and lazily on
// lookup; expired entries send DESTROY.
func TestGC(t *testing.T) {
	tb, clk := newTestTable(t, Config{})
	sub := tb.Subscribe(1000, EventDestroy, nil)
	for i := 0; i < 100; i++ {
		pass(tb, seg(udp, cli, srv, uint16(1000+i), 53, 0), clk.now)
	}
	now := clk.add(29 * time.Second)
	if _, k := tb.GCStep(now, 1<<20); k != 0 {
		t.Fatalf("GC killed %d live entries", k)
	}
	now = clk.add(time.Second)
	total, steps := 0, 0
	for tb.Count() > 0 && steps < 1000 {
		_, k := tb.GCStep(now, 16)
		total += k
		steps++
	}
	if total != 100 || tb.Count() != 0 || steps < 2 {
		t.Errorf("GC: killed %d in %d steps, count %d", total, steps, tb.Count())
	}
	if n := len(sub.C); n != 100 {
		t.Errorf("DESTROY events %d, want 100", n)
	}
	// Lazy expiry on lookup.
	s := seg(udp, cli, srv, 9, 53, 0)
	pass(tb, s, now)
	now = clk.add(31 * time.Second)
	if c, _ := tb.Lookup(s.Tuple, 0, now); c != nil || tb.Count() != 0 {
		t.Error("expired entry returned by lookup")
	}
}

// TestGCEarlyDropMode: after a table-full drop the GC evicts unassured
// entries and closing TCP entries while the table is ≥ 95 % full.
func TestGCEarlyDropMode(t *testing.T) {
	tb, clk := newTestTable(t, Config{Max: 40, Shards: 1})
	now := clk.now
	for i := 0; i < 20; i++ {
		handshakeNoFatal(tb, now, uint16(10000+i))
	}
	for i := 0; i < 20; i++ {
		pass(tb, seg(udp, cli, srv, uint16(2000+i), 53, 0), now)
	}
	tb.gcEarlyDrop.Store(true)
	tb.GCStep(now, 1<<20)
	if tb.Count() != 20 {
		t.Errorf("count %d, want the 20 assured TCP entries", tb.Count())
	}
	if tb.gcEarlyDrop.Load() {
		t.Error("eviction mode not ended by the full pass")
	}
}

// TestEvents covers cli-formats.md A.7: NEW at confirmation, UPDATE on the
// first reply, state changes and ASSURED, DESTROY on removal; a full
// buffer never blocks and DESTROY waits on the dying list.
func TestEvents(t *testing.T) {
	tb, clk := newTestTable(t, Config{})
	sub := tb.Subscribe(100, 0, nil)
	now := clk.now
	c := handshake(t, tb, now, 50088, 8080)
	c.SetMark(7)
	tb.Confirm(c, Established, now)
	tb.Delete(nil, now)
	var got []string
	for len(sub.C) > 0 {
		ev := <-sub.C
		got = append(got, string(AppendEvent(nil, &ev, FormatOpts{})))
	}
	want := []string{
		"    [NEW] tcp      6 120 SYN_SENT src=198.18.0.1 dst=198.18.0.2 sport=50088 dport=8080 [UNREPLIED] src=198.18.0.2 dst=198.18.0.1 sport=8080 dport=50088",
		" [UPDATE] tcp      6 60 SYN_RECV src=198.18.0.1 dst=198.18.0.2 sport=50088 dport=8080 src=198.18.0.2 dst=198.18.0.1 sport=8080 dport=50088",
		" [UPDATE] tcp      6 432000 ESTABLISHED src=198.18.0.1 dst=198.18.0.2 sport=50088 dport=8080 src=198.18.0.2 dst=198.18.0.1 sport=8080 dport=50088 [ASSURED]",
		" [UPDATE] tcp      6 432000 src=198.18.0.1 dst=198.18.0.2 sport=50088 dport=8080 src=198.18.0.2 dst=198.18.0.1 sport=8080 dport=50088 [ASSURED] mark=7",
		"[DESTROY] tcp      6 432000 ESTABLISHED src=198.18.0.1 dst=198.18.0.2 sport=50088 dport=8080 src=198.18.0.2 dst=198.18.0.1 sport=8080 dport=50088 [ASSURED] mark=7",
	}
	if len(got) != len(want) {
		t.Fatalf("got %d events:\n%q\nwant %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d:\n got %q\nwant %q", i, got[i], want[i])
		}
	}
	// A full buffer: NEW is lost, DESTROY is kept on the dying list and
	// redelivered by the GC.
	small := tb.Subscribe(1, 0, nil)
	pass(tb, seg(udp, cli, srv, 1, 2, 0), now)
	pass(tb, seg(udp, cli, srv, 3, 4, 0), now)
	if small.Lost() != 1 {
		t.Errorf("lost %d, want 1", small.Lost())
	}
	tb.Flush(now)
	if n := len(tb.List(ListDying, nil, now)); n != 2 {
		t.Errorf("dying list %d, want 2", n)
	}
	<-small.C
	tb.GCStep(now, 1)
	<-small.C
	tb.GCStep(now, 1)
	if n := len(tb.List(ListDying, nil, now)); n != 0 {
		t.Errorf("dying list %d after redelivery, want 0", n)
	}
	small.Close()
	sub.Close()
	if _, ok := <-sub.C; ok {
		// drain what is left, then it must be closed
		for range sub.C {
		}
	}
}

// TestStateBits checks the xt_state / xt_conntrack numbering (§2.2).
func TestStateBits(t *testing.T) {
	c := &Conn{}
	rows := []struct {
		c       *Conn
		info    CtInfo
		st, cts uint32
	}{
		{nil, Invalid, 1, 1},
		{nil, Untracked, 1 << 6, 1 << 8},
		{c, Established, 2, 2},
		{c, EstablishedReply, 2, 2},
		{c, Related, 4, 4},
		{c, RelatedReply, 4, 4},
		{c, New, 8, 8},
	}
	for _, r := range rows {
		if got := StateBit(r.c, r.info); got != r.st {
			t.Errorf("StateBit(%v) = %#x, want %#x", r.info, got, r.st)
		}
		if got := CtStateBits(r.c, r.info); got != r.cts {
			t.Errorf("CtStateBits(%v) = %#x, want %#x", r.info, got, r.cts)
		}
	}
	c.SetStatus(StatusDstNAT)
	if got := CtStateBits(c, EstablishedReply); got != 2|CtStateDNAT {
		t.Errorf("DNAT reply: %#x", got)
	}
}

// TestExpectations: a helper's expectation makes the matching new entry
// RELATED with EXPECTED, the master's mark, and a master reference.
func TestExpectations(t *testing.T) {
	tb, clk := newTestTable(t, Config{})
	now := clk.now
	xsub := tb.SubscribeExpect(10)
	m := handshake(t, tb, now, 40512, 21)
	m.SetMark(42)
	var full [16]byte
	for i := range full {
		full[i] = 0xff
	}
	e := &Expect{
		Tuple:   MakeTuple(ip(cli), ip(srv), tcp, 0, 50000),
		Mask:    Tuple{Src: full, Dst: full, DstPort: 0xffff},
		Master:  m,
		Helper:  "ftp",
		Timeout: 300 * time.Second,
	}
	if err := tb.AddExpect(e, 1, now); err != nil {
		t.Fatal(err)
	}
	// A pending expectation holds no master reference (Linux 6.18 lists
	// such a master use=1; nf_ct_expect_alloc).
	if m.Use() != 1 || tb.ExpectCount() != 1 {
		t.Errorf("use %d count %d", m.Use(), tb.ExpectCount())
	}
	l := tb.ListExpect(clk.add(time.Second))
	want := "299 proto=6 src=198.18.0.1 dst=198.18.0.2 sport=0 dport=50000 mask-src=255.255.255.255 mask-dst=255.255.255.255 sport=0 dport=65535 master-src=198.18.0.1 master-dst=198.18.0.2 sport=40512 dport=21 class=0 helper=ftp"
	if len(l) != 1 || string(l[0].AppendText(nil)) != want {
		t.Errorf("expect line:\n got %q\nwant %q", string(l[0].AppendText(nil)), want)
	}
	c, info, _ := pass(tb, seg(tcp, cli, srv, 33333, 50000, SYN).sa(1, 0), clk.now)
	if info != Related || c.Status()&StatusExpected == 0 || c.Master() != m || c.Mark() != 42 {
		t.Fatalf("child: info %v status %v mark %d", info, c.Status(), c.Mark())
	}
	if tb.ExpectCount() != 0 || m.Use() != 2 {
		t.Errorf("after match: expectations %d, master use %d", tb.ExpectCount(), m.Use())
	}
	// Expiry and master death remove expectations.
	e2 := *e
	if err := tb.AddExpect(&e2, 1, clk.now); err != nil {
		t.Fatal(err)
	}
	tb.kill(m, clk.now)
	if tb.ExpectCount() != 0 {
		t.Error("expectation outlived its master")
	}
	// Events: NEW and DESTROY (matched), NEW and DESTROY (master died).
	var tags []string
	for len(xsub.C) > 0 {
		ev := <-xsub.C
		tags = append(tags, string(AppendExpectEvent(nil, &ev))[:9])
	}
	if want := []string{"    [NEW]", "[DESTROY]", "    [NEW]", "[DESTROY]"}; len(tags) != 4 ||
		tags[0] != want[0] || tags[1] != want[1] || tags[2] != want[2] || tags[3] != want[3] {
		t.Errorf("expectation events %q, want %q", tags, want)
	}
	ev := ExpectEvent{Type: EventNew, Entry: l[0]}
	ev.Entry.Timeout = 300
	wantEv := "    [NEW] 300 proto=6 src=198.18.0.1 dst=198.18.0.2 sport=0 dport=50000 mask-src=255.255.255.255 mask-dst=255.255.255.255 sport=0 dport=65535 master-src=198.18.0.1 master-dst=198.18.0.2 sport=40512 dport=21 class=0 helper=ftp"
	if got := string(AppendExpectEvent(nil, &ev)); got != wantEv {
		t.Errorf("expect event:\n got %q\nwant %q", got, wantEv)
	}
	xsub.Close()
}

// TestInsertUpdate covers conntrack -I and -U.
func TestInsertUpdate(t *testing.T) {
	tb, clk := newTestTable(t, Config{})
	now := clk.now
	sub := tb.Subscribe(10, 0, nil)
	spec := InsertSpec{Orig: tup(tcp, "198.18.100.1", "198.18.101.1", 1, 2), Timeout: 99 * time.Second,
		Status: StatusAssured, State: TCPEstablished}
	c, err := tb.Insert(spec, now)
	if err != nil {
		t.Fatal(err)
	}
	want := "tcp      6 99 ESTABLISHED src=198.18.100.1 dst=198.18.101.1 sport=1 dport=2 [UNREPLIED] src=198.18.101.1 dst=198.18.100.1 sport=2 dport=1 [ASSURED] mark=0 use=1"
	if got := tb.Snapshot(c, now).String(); got != want {
		t.Errorf("inserted entry:\n got %q\nwant %q", got, want)
	}
	if _, err := tb.Insert(spec, now); err != ErrExists {
		t.Errorf("duplicate insert: %v, want ErrExists", err)
	}
	if tb.Stats().Insert != 1 {
		t.Errorf("insert counter %d", tb.Stats().Insert)
	}
	if got := tb.Update(&Filter{OrigSport: ptr(uint16(1))}, 9, now); len(got) != 1 || got[0].Mark != 9 {
		t.Errorf("update: %v", got)
	}
	// The packet path continues it like a picked-up connection.
	if _, info, _ := pass(tb, seg(tcp, "198.18.101.1", "198.18.100.1", 2, 1, ACK).sa(50, 60), now); info != EstablishedReply {
		t.Errorf("packet of an inserted entry: %v", info)
	}
	if n := len(sub.C); n < 2 {
		t.Errorf("%d events, want NEW and UPDATE", n)
	}
}

// TestICMPWrongFamily: ICMP inside IPv6 and ICMPv6 inside IPv4 are
// INVALID, as the kernel's trackers check the family.
func TestICMPWrongFamily(t *testing.T) {
	tb, clk := newTestTable(t, Config{})
	rows := []*Segment{
		{Tuple: MakeICMPTuple(ip("fd00::1"), ip("fd00::2"), ProtoICMP, 8, 0, 1)},
		{Tuple: MakeICMPTuple(ip(cli), ip(srv), ProtoICMPv6, 128, 0, 1)},
		{Tuple: Tuple{Proto: udp}}, // no family at all
	}
	for i, s := range rows {
		if c, info, _ := pass(tb, s, clk.now); c != nil || info != Invalid {
			t.Errorf("row %d: got %v, want INVALID", i, info)
		}
	}
}

// TestChainTooLong: an insert that would land too far from its home slot
// (a hash under attack) is refused, counted, and leaves the index intact.
func TestChainTooLong(t *testing.T) {
	tb, clk := newTestTable(t, Config{Shards: 1})
	now := clk.now
	s := seg(udp, cli, srv, 1, 2, 0)
	c, info, _ := tb.In(s, now)
	h := s.Tuple.hash(0, tb.seed)
	sh := tb.shardOf(h)
	sh.resize(1 << 14)
	dummy := &Conn{}
	mask := uint64(len(sh.slots) - 1)
	for k := uint64(0); k < 2000; k++ {
		i := (h + k) & mask
		sh.slots[i], sh.words[i] = dummy, slotUsed|uint32(i) // each at its own home
		sh.n++
	}
	if _, v := tb.Confirm(c, info, now); v != Drop {
		t.Fatal("confirm accepted a 2000-slot probe run")
	}
	st := tb.Stats()
	if st.ChainTooLong != 1 || st.InsertFailed != 1 || sh.n != 2000 || tb.Count() != 0 {
		t.Errorf("stats %+v, shard n %d, count %d", st, sh.n, tb.Count())
	}
}
