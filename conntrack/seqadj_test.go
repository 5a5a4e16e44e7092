package conntrack

import "testing"

// TestSeqAdjMap: how nf_ct_seq_adjust maps sequence and acknowledgment
// numbers around a resize.
func TestSeqAdjMap(t *testing.T) {
	grown := SeqAdj{CorrectionPos: 1009, OffsetBefore: 0, OffsetAfter: 2}
	twice := SeqAdj{CorrectionPos: 1100, OffsetBefore: 2, OffsetAfter: 1}
	rows := []struct {
		name    string
		s       SeqAdj
		seq     uint32 // a segment the adjusted side sends
		wantSeq uint32
		ack     uint32 // an ACK its peer sends
		wantAck uint32
	}{
		{"no resize", SeqAdj{}, 1000, 1000, 1000, 1000},
		// The resized segment itself and everything before it keep the
		// old offset; later segments take the new one.
		{"before the resize", grown, 1000, 1000, 1009, 1009},
		{"the resized segment", grown, 1009, 1009, 1000, 1000},
		{"after the resize", grown, 1033, 1035, 1035, 1033},
		// Two resizes: the first one's offset applies up to the second.
		{"between two resizes", twice, 1050, 1052, 1052, 1050},
		{"after two resizes", twice, 1101, 1102, 1103, 1102},
		// Sequence space wraps.
		{"across the wrap", SeqAdj{CorrectionPos: 0xfffffff0, OffsetAfter: 3}, 0x10, 0x13, 0x13, 0x10},
		{"shrunk", SeqAdj{CorrectionPos: 500, OffsetAfter: -1}, 600, 599, 599, 600},
	}
	for _, r := range rows {
		if got := r.s.Seq(r.seq); got != r.wantSeq {
			t.Errorf("%s: Seq(%d) = %d, want %d", r.name, r.seq, got, r.wantSeq)
		}
		if got := r.s.Ack(r.ack); got != r.wantAck {
			t.Errorf("%s: Ack(%d) = %d, want %d", r.name, r.ack, got, r.wantAck)
		}
	}
}

// TestSetSeqAdj: nf_ct_seqadj_set moves the correction point forward
// only; a retransmitted resize counts once.
func TestSetSeqAdj(t *testing.T) {
	c := &Conn{}
	c.attachHelper(1)
	steps := []struct {
		name string
		d    Dir
		seq  uint32
		off  int32
		want SeqAdj
	}{
		{"first resize", Original, 1009, 2, SeqAdj{1009, 0, 2}},
		{"retransmitted", Original, 1009, 2, SeqAdj{1009, 0, 2}},
		{"older segment", Original, 900, 5, SeqAdj{1009, 0, 2}},
		{"second resize", Original, 1100, -1, SeqAdj{1100, 2, 1}},
		{"other direction apart", Reply, 7000, 4, SeqAdj{7000, 0, 4}},
		{"no change is no resize", Reply, 8000, 0, SeqAdj{7000, 0, 4}},
	}
	for _, s := range steps {
		if !c.SetSeqAdj(s.d, s.seq, s.off) {
			t.Fatalf("%s: refused", s.name)
		}
		if got := c.SeqAdj(s.d); got != s.want {
			t.Errorf("%s: %+v, want %+v", s.name, got, s.want)
		}
	}
	if c.Status()&StatusSeqAdjust == 0 {
		t.Error("SEQ_ADJUST not set")
	}
	if (&Conn{}).SetSeqAdj(Original, 1, 1) {
		t.Error("an entry without a helper area accepted an adjustment")
	}
}

// TestTCPWindowSeqAdj: after a helper grew the client's data, the server
// acknowledges the longer stream; the window tracker takes the offset off
// before checking (tcp_in_window with nf_ct_seq_offset), else the ACK
// would be "over upper bound" and INVALID.
func TestTCPWindowSeqAdj(t *testing.T) {
	for _, adjust := range []bool{false, true} {
		tb, clk := newTestTable(t, Config{})
		now := clk.now
		m := ftpMaster(t, tb, now, 40700, nil)
		if c, _, _ := pass(tb, seg(tcp, cli, srv, 40700, 21, PSH).sa(1001, 5001).data(24), now); c != m {
			t.Fatal("client data not tracked")
		}
		if adjust {
			m.SetSeqAdj(Original, 1001, 2)
		}
		c, info, _ := pass(tb, seg(tcp, srv, cli, 21, 40700, ACK).sa(5001, 1027), now)
		if got := c != nil; got != adjust {
			t.Errorf("adjusted %v: server ACK of the grown stream tracked %v (%v), want %v", adjust, got, info, adjust)
		}
	}
}
