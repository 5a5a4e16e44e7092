package conntrack

import (
	"strings"
	"testing"
	"time"
)

// TestOffload: an entry is offloaded once a packet of each direction was
// accepted under the same ruleset; the bookkeeping never shows in the
// status word; a packet that comes back ends the offload and is judged
// with the window data learnt again, as after the kernel's
// flow_offload_fixup_tcp.
func TestOffload(t *testing.T) {
	var back []*Conn
	tb, clk := newTestTable(t, Config{OnPullBack: func(c *Conn) { back = append(back, c) }})
	c := handshake(t, tb, clk.now, 41000, 80)

	for range 2 * OffloadAfter {
		if tb.NoteAccepted(c, Reply, 7) {
			t.Fatal("offloaded with packets of one direction only")
		}
	}
	if tb.NoteAccepted(c, Original, 8) {
		t.Fatal("offloaded with the directions accepted by different rulesets")
	}
	for i := 2; i < OffloadAfter; i++ {
		if tb.NoteAccepted(c, Dir(i&1), 8) {
			t.Fatalf("offloaded after %d packets, want %d", i, OffloadAfter)
		}
	}
	if !tb.NoteAccepted(c, Reply, 8) {
		t.Fatalf("not offloaded after %d packets both ways under ruleset 8", OffloadAfter)
	}
	if tb.NoteAccepted(c, Original, 8) || !c.Offloaded() {
		t.Fatal("a second NoteAccepted must report false and keep the offload")
	}
	if got := c.Status(); got != StatusSeenReply|StatusAssured|StatusConfirmed|StatusOffload {
		t.Errorf("status %v: the fast path's bookkeeping shows", got)
	}
	l := tb.List(ListConntrack, nil, clk.now)
	if len(l) != 1 || !strings.Contains(l[0].String(), "[OFFLOAD]") {
		t.Errorf("listing %v, want one [OFFLOAD] entry", l)
	}

	// 10 MB went by in the kernel; the client's FIN is far past what
	// gofw last saw, and must be neither INVALID nor dropped.
	now := clk.add(time.Second)
	_, info, v := pass(tb, seg(tcp, cli, srv, 41000, 80, FIN).sa(1001+10<<20, 5001+3<<20), now)
	if info != Established || v != Accept {
		t.Fatalf("FIN after the offload: %v %v, want ESTABLISHED, accepted", info, v)
	}
	if c.Offloaded() || len(back) != 1 || back[0] != c {
		t.Fatalf("the FIN did not bring the entry back (offloaded %v, OnPullBack calls %d)", c.Offloaded(), len(back))
	}
	if s := c.TCPState(); s != TCPFinWait {
		t.Errorf("state after the FIN %v, want FIN_WAIT", s)
	}
	// Back with gofw, the window checks hold again: the server's side is
	// learnt from its next segment, after which one 1 GB further is
	// INVALID.
	srvSeq := uint32(5001 + 3<<20)
	if _, info, _ = pass(tb, seg(tcp, srv, cli, 80, 41000, ACK).sa(srvSeq, 1002+10<<20), now); info != EstablishedReply {
		t.Errorf("the server's first segment after the offload: %v, want ESTABLISHED_REPLY", info)
	}
	if _, info, _ = pass(tb, seg(tcp, srv, cli, 80, 41000, ACK).sa(srvSeq+1<<30, 1002+10<<20), now); info != Invalid {
		t.Errorf("a server segment 1 GB past the window after the entry came back: %v, want INVALID", info)
	}
}

// TestOffloadWithoutFixup shows what the window relearning is for: with
// the entry's window data kept, the FIN of TestOffload is INVALID.
func TestOffloadWithoutFixup(t *testing.T) {
	tb, clk := newTestTable(t, Config{})
	handshake(t, tb, clk.now, 41000, 80)
	_, info, _ := pass(tb, seg(tcp, cli, srv, 41000, 80, FIN).sa(1001+10<<20, 5001+3<<20), clk.add(time.Second))
	if info != Invalid {
		t.Fatalf("a FIN 10 MB past the window of an entry that was never offloaded: %v, want INVALID", info)
	}
}

// TestOffloadExpiry: an offloaded entry whose timeout ran out is not
// deleted (the kernel may still pass its packets) but brought back with
// its state's timeout afresh; one that runs out again is deleted.
// Deleting an offloaded entry brings it back first.
func TestOffloadExpiry(t *testing.T) {
	var back int
	tb, clk := newTestTable(t, Config{OnPullBack: func(*Conn) { back++ }})
	c := handshake(t, tb, clk.now, 41000, 80)
	offload(t, tb, c)
	est := tb.tcpTimeouts[TCPEstablished]
	now := clk.add(est + time.Second)
	tb.GCStep(now, 1<<20)
	x, _ := tb.Lookup(c.Tuple(Original), 0, now)
	if x != c || c.Offloaded() || back != 1 {
		t.Fatalf("expired offloaded entry: found %v, offloaded %v, OnPullBack calls %d; want it kept, back with gofw", x != nil, c.Offloaded(), back)
	}
	if got := secs(c, now); got != int64(est/time.Second) {
		t.Errorf("timeout after coming back %d s, want %d", got, int64(est/time.Second))
	}
	now = clk.add(est + time.Second)
	if x, _ := tb.Lookup(c.Tuple(Original), 0, now); x != nil {
		t.Error("an entry that came back and expired again is still there")
	}

	d := handshake(t, tb, now, 41001, 80)
	offload(t, tb, d)
	if n := tb.Flush(now); n != 1 || back != 2 {
		t.Errorf("flush of an offloaded entry: %d deleted, OnPullBack calls %d; want 1 and 2", n, back)
	}
}

// TestEndOffloads: a reload brings every offloaded entry back without a
// message to the kernel per entry.
func TestEndOffloads(t *testing.T) {
	var back int
	tb, clk := newTestTable(t, Config{OnPullBack: func(*Conn) { back++ }})
	for p := uint16(0); p < 3; p++ {
		c := handshake(t, tb, clk.now, 41000+p, 80)
		if p < 2 {
			offload(t, tb, c)
		}
	}
	if n := tb.EndOffloads(); n != 2 || back != 0 {
		t.Errorf("EndOffloads: %d back, OnPullBack calls %d; want 2 and 0", n, back)
	}
	for _, e := range tb.List(ListConntrack, nil, clk.now) {
		if e.Status&StatusOffload != 0 {
			t.Errorf("still offloaded: %v", e)
		}
	}
}

// offload hands c over as the datapath does, packets both ways.
func offload(t *testing.T, tb *Table, c *Conn) {
	t.Helper()
	for i := range OffloadAfter {
		if tb.NoteAccepted(c, Dir(i&1), 1) {
			return
		}
	}
	t.Fatalf("not offloaded after %d packets", OffloadAfter)
}
