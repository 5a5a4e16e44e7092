package conntrack

import (
	"strings"
	"testing"
	"time"
)

// refTable is conntrack.md §4.4 copied as text, so the test checks the
// implementation's table against the reference and not against itself.
// Columns: NONE SYN_SENT SYN_RECV ESTABLISHED FIN_WAIT CLOSE_WAIT LAST_ACK
// TIME_WAIT CLOSE SYN_SENT2. "*" marks the reopen cells.
var refTable = map[Dir]map[string]string{
	Original: {
		"syn":    "SYN_SENT SYN_SENT IG IG IG IG IG SYN_SENT* SYN_SENT* SYN_SENT2",
		"synack": "IV IV SYN_RECV IV IV IV IV IV IV SYN_RECV",
		"fin":    "IV IV FIN_WAIT FIN_WAIT LAST_ACK LAST_ACK LAST_ACK TIME_WAIT CLOSE IV",
		"ack":    "ESTABLISHED IV ESTABLISHED ESTABLISHED CLOSE_WAIT CLOSE_WAIT TIME_WAIT TIME_WAIT CLOSE IV",
		"rst":    "IV CLOSE CLOSE CLOSE CLOSE CLOSE CLOSE CLOSE CLOSE CLOSE",
		"none":   "IV IV IV IV IV IV IV IV IV IV",
	},
	Reply: {
		"syn":    "IV SYN_SENT2 IV IV IV IV IV SYN_SENT* IV SYN_SENT2",
		"synack": "IV SYN_RECV IG IG IG IG IG IG IG SYN_RECV",
		"fin":    "IV IV FIN_WAIT FIN_WAIT LAST_ACK LAST_ACK LAST_ACK TIME_WAIT CLOSE IV",
		"ack":    "IV IG SYN_RECV ESTABLISHED CLOSE_WAIT CLOSE_WAIT TIME_WAIT TIME_WAIT CLOSE IG",
		"rst":    "IV CLOSE CLOSE CLOSE CLOSE CLOSE CLOSE CLOSE CLOSE CLOSE",
		"none":   "IV IV IV IV IV IV IV IV IV IV",
	},
}

var classFlags = map[string]uint8{
	"syn": SYN, "synack": SYNACK, "fin": FIN, "ack": ACK, "rst": RSTACK, "none": 0,
}

// TestTCPTransitionTable drives every cell of tcp_conntracks with a real
// packet through Table.In, on an entry forced into the old state, and
// compares the resulting state and classification with the reference.
// Window checks are made liberal so that only the table decides; reopen
// cells ("*") act as IG when no side initiated a close (tested apart in
// TestTCPScenarios).
func TestTCPTransitionTable(t *testing.T) {
	for _, dir := range []Dir{Original, Reply} {
		for class, row := range refTable[dir] {
			cells := strings.Fields(row)
			for old := TCPNone; old < numTCPStates; old++ {
				want := cells[old]
				if dir == Reply && old == TCPNone {
					continue // never reached: entries start with an ORIGINAL packet
				}
				name := dir.String() + "/" + class + "/" + old.String()
				t.Run(name, func(t *testing.T) {
					tb, clk := newTestTable(t, Config{TCPBeLiberal: true})
					now := clk.now
					var c *Conn
					if old != TCPNone {
						c = handshake(t, tb, now, 40000, 22)
						c.mu.Lock()
						c.tcp.state = old
						c.tcp.lastIndex = tcpNoneSet
						c.tcp.lastFlags = 0
						c.tcp.flags[0] &^= tcpFlagCloseInit
						c.tcp.flags[1] &^= tcpFlagCloseInit
						c.mu.Unlock()
					}
					var s *Segment
					if dir == Original {
						s = seg(tcp, cli, srv, 40000, 22, classFlags[class]).sa(1001, 5001)
					} else {
						s = seg(tcp, srv, cli, 22, 40000, classFlags[class]).sa(5001, 1001)
					}
					got, info, _ := pass(tb, s, now)
					switch {
					case want == "IV":
						if got != nil || info != Invalid {
							t.Errorf("got info %v, want INVALID", info)
						}
						if c != nil && c.TCPState() != old {
							t.Errorf("state %v, want unchanged %v", c.TCPState(), old)
						}
					case want == "IG" || strings.HasSuffix(want, "*"):
						if got == nil || info == Invalid {
							t.Fatalf("got INVALID, want the packet to pass (ignored)")
						}
						if st := got.TCPState(); st != old {
							t.Errorf("state %v, want unchanged %v", st, old)
						}
					default:
						if got == nil {
							t.Fatalf("got INVALID, want %s", want)
						}
						if st := got.TCPState().String(); st != want {
							t.Errorf("state %s, want %s", st, want)
						}
					}
				})
			}
		}
	}
}

// TestTCPFlagCheck covers §4.3: allowed flag combinations (PSH, ECE, CWR
// ignored) and the INVALID ones, on a first packet.
func TestTCPFlagCheck(t *testing.T) {
	rows := []struct {
		name  string
		flags uint8
		want  CtInfo
	}{
		{"SYN", TCPSyn, New},
		{"SYN+URG", TCPSyn | TCPUrg, New},
		{"SYN+ECE+CWR", TCPSyn | TCPEce | TCPCwr, New},
		{"SYN+PSH", TCPSyn | TCPPsh, New},
		{"ACK pickup", TCPAck, New},
		{"PSH+ACK pickup", TCPAck | TCPPsh, New},
		{"ACK+URG pickup", TCPAck | TCPUrg, New},
		// Allowed flags that cannot start a connection (tcp_new).
		{"SYN+ACK first", TCPSyn | TCPAck, Invalid},
		{"FIN+ACK first", TCPFin | TCPAck, Invalid},
		{"RST first", TCPRst, Invalid},
		{"RST+ACK first", TCPRst | TCPAck, Invalid},
		// Not allowed at all (tcp_error).
		{"no flags", 0, Invalid},
		{"FIN alone", TCPFin, Invalid},
		{"SYN+FIN", TCPSyn | TCPFin, Invalid},
		{"SYN+RST", TCPSyn | TCPRst, Invalid},
		{"SYN+ACK+URG", TCPSyn | TCPAck | TCPUrg, Invalid},
		{"URG alone", TCPUrg, Invalid},
		{"xmas FIN+PSH+URG", TCPFin | TCPPsh | TCPUrg, Invalid},
	}
	for _, r := range rows {
		tb, clk := newTestTable(t, Config{})
		c, info, v := pass(tb, seg(tcp, cli, srv, 999, 22, r.flags).sa(1000, 1), clk.now)
		if info != r.want || v != Accept || (r.want == Invalid) != (c == nil) {
			t.Errorf("%s: got info %v verdict %v conn %v, want %v", r.name, info, v, c != nil, r.want)
		}
		if r.want == Invalid && tb.Count() != 0 {
			t.Errorf("%s: INVALID first packet left %d entries", r.name, tb.Count())
		}
	}
}

// step is one row of a scenario: a segment, who sends it, and what must
// follow.
type step struct {
	from      string // "c" (client, ORIGINAL) or "s" (server)
	flags     uint8
	seq, ack  uint32
	data      uint32
	win       uint16
	adv       time.Duration // clock advance before the packet
	wantInfo  CtInfo
	wantState TCPState
	wantTO    int64 // remaining seconds after the packet, -1 to skip
	wantGone  bool  // the entry must be gone afterwards
}

func runScenario(t *testing.T, name string, cfg Config, steps []step) {
	t.Helper()
	tb, clk := newTestTable(t, cfg)
	var last *Conn
	for i, st := range steps {
		now := clk.add(st.adv)
		var s *Segment
		if st.from == "c" {
			s = seg(tcp, cli, srv, 41000, 9999, st.flags)
		} else {
			s = seg(tcp, srv, cli, 9999, 41000, st.flags)
		}
		s.sa(st.seq, st.ack).data(st.data)
		if st.win != 0 {
			s.win(st.win)
		}
		c, info, _ := pass(tb, s, now)
		if info != st.wantInfo {
			t.Errorf("%s step %d: info %v, want %v", name, i, info, st.wantInfo)
		}
		if c != nil {
			last = c
		}
		if last == nil {
			continue
		}
		cur, _ := tb.Lookup(last.Tuple(Original), 0, now)
		if st.wantGone {
			if cur != nil {
				t.Errorf("%s step %d: entry still there (%v), want gone", name, i, cur.TCPState())
			}
			continue
		}
		if cur == nil {
			t.Errorf("%s step %d: entry gone", name, i)
			continue
		}
		last = cur
		if got := cur.TCPState(); got != st.wantState {
			t.Errorf("%s step %d: state %v, want %v", name, i, got, st.wantState)
		}
		if st.wantTO >= 0 {
			if got := secs(cur, now); got != st.wantTO {
				t.Errorf("%s step %d: timeout %d, want %d", name, i, got, st.wantTO)
			}
		}
	}
}

// TestTCPScenarios replays conntrack.md §4.5, §4.7, §4.8 and §9.4 (every
// row verified on a live kernel there).
func TestTCPScenarios(t *testing.T) {
	const (
		EST = Established
		ER  = EstablishedReply
		IV  = Invalid
	)
	type sc struct {
		name  string
		cfg   Config
		steps []step
	}
	scs := []sc{
		{"handshake and close (timeouts per state)", Config{}, []step{
			{from: "c", flags: SYN, seq: 1000, wantInfo: New, wantState: TCPSynSent, wantTO: 120},
			{from: "s", flags: SYNACK, seq: 5000, ack: 1001, wantInfo: ER, wantState: TCPSynRecv, wantTO: 60},
			{from: "c", flags: ACK, seq: 1001, ack: 5001, wantInfo: EST, wantState: TCPEstablished, wantTO: 432000},
			{from: "c", flags: FIN, seq: 1001, ack: 5001, wantInfo: EST, wantState: TCPFinWait, wantTO: 120},
			{from: "s", flags: ACK, seq: 5001, ack: 1002, wantInfo: ER, wantState: TCPCloseWait, wantTO: 60},
			{from: "s", flags: FIN, seq: 5001, ack: 1002, wantInfo: ER, wantState: TCPLastAck, wantTO: 30},
			{from: "c", flags: ACK, seq: 1002, ack: 5002, wantInfo: EST, wantState: TCPTimeWait, wantTO: 120},
		}},
		{"both FINs back to back", Config{}, []step{
			{from: "c", flags: SYN, seq: 1000, wantInfo: New, wantState: TCPSynSent, wantTO: 120},
			{from: "s", flags: SYNACK, seq: 5000, ack: 1001, wantInfo: ER, wantState: TCPSynRecv, wantTO: 60},
			{from: "c", flags: ACK, seq: 1001, ack: 5001, wantInfo: EST, wantState: TCPEstablished, wantTO: 432000},
			{from: "c", flags: FIN, seq: 1001, ack: 5001, wantInfo: EST, wantState: TCPFinWait, wantTO: 120},
			{from: "s", flags: FIN, seq: 5001, ack: 1002, wantInfo: ER, wantState: TCPLastAck, wantTO: 30},
		}},
		{"SYN; SYN again: NEW twice, timer not refreshed", Config{}, []step{
			{from: "c", flags: SYN, seq: 1000, wantInfo: New, wantState: TCPSynSent, wantTO: 120},
			{from: "c", flags: SYN, seq: 1000, adv: 3 * time.Second, wantInfo: New, wantState: TCPSynSent, wantTO: 117},
		}},
		{"SYN; server SYN: simultaneous open", Config{}, []step{
			{from: "c", flags: SYN, seq: 1000, wantInfo: New, wantState: TCPSynSent, wantTO: 120},
			{from: "s", flags: SYN, seq: 5000, wantInfo: ER, wantState: TCPSynSent2, wantTO: 120},
		}},
		{"SYN; SYN-ACK; SYN-ACK again", Config{}, []step{
			{from: "c", flags: SYN, seq: 1000, wantInfo: New, wantState: TCPSynSent, wantTO: 120},
			{from: "s", flags: SYNACK, seq: 5000, ack: 1001, wantInfo: ER, wantState: TCPSynRecv, wantTO: 60},
			{from: "s", flags: SYNACK, seq: 5000, ack: 1001, adv: time.Second, wantInfo: ER, wantState: TCPSynRecv, wantTO: 59},
		}},
		{"SYN; server plain ACK: ignored, SEEN_REPLY", Config{}, []step{
			{from: "c", flags: SYN, seq: 1000, wantInfo: New, wantState: TCPSynSent, wantTO: 120},
			{from: "s", flags: ACK, seq: 5000, ack: 77, wantInfo: ER, wantState: TCPSynSent, wantTO: 120},
		}},
		{"SYN; SYN-ACK acking far above: INVALID", Config{}, []step{
			{from: "c", flags: SYN, seq: 1000, wantInfo: New, wantState: TCPSynSent, wantTO: 120},
			{from: "s", flags: SYNACK, seq: 5000, ack: 900000, wantInfo: IV, wantState: TCPSynSent, wantTO: 120},
		}},
		{"SYN; SYN-ACK acking a lower seq: accepted", Config{}, []step{
			{from: "c", flags: SYN, seq: 1000, wantInfo: New, wantState: TCPSynSent, wantTO: 120},
			{from: "s", flags: SYNACK, seq: 5000, ack: 900, wantInfo: ER, wantState: TCPSynRecv, wantTO: 60},
		}},
		{"SYN; SYN-ACK; client ACK acking unseen data", Config{}, []step{
			{from: "c", flags: SYN, seq: 1000, wantInfo: New, wantState: TCPSynSent, wantTO: 120},
			{from: "s", flags: SYNACK, seq: 5000, ack: 1001, wantInfo: ER, wantState: TCPSynRecv, wantTO: 60},
			{from: "c", flags: ACK, seq: 1001, ack: 90000, wantInfo: IV, wantState: TCPSynRecv, wantTO: 60},
		}},
		{"SYN; SYN-ACK; client SYN again: ignored", Config{}, []step{
			{from: "c", flags: SYN, seq: 1000, wantInfo: New, wantState: TCPSynSent, wantTO: 120},
			{from: "s", flags: SYNACK, seq: 5000, ack: 1001, wantInfo: ER, wantState: TCPSynRecv, wantTO: 60},
			{from: "c", flags: SYN, seq: 1000, wantInfo: EST, wantState: TCPSynRecv, wantTO: 60},
		}},
		{"window: data 200000 beyond, 100000 below, FIN alone, SYN-ACK from client", Config{}, []step{
			{from: "c", flags: SYN, seq: 1000, wantInfo: New, wantState: TCPSynSent, wantTO: 120},
			{from: "s", flags: SYNACK, seq: 5000, ack: 1001, wantInfo: ER, wantState: TCPSynRecv, wantTO: 60},
			{from: "c", flags: ACK, seq: 1001, ack: 5001, wantInfo: EST, wantState: TCPEstablished, wantTO: 432000},
			{from: "c", flags: PSH, seq: 201001, ack: 5001, data: 100, wantInfo: IV, wantState: TCPEstablished, wantTO: 432000},
			{from: "c", flags: PSH, seq: 1001 - 100000 + 1<<32, ack: 5001, data: 100, wantInfo: EST, wantState: TCPEstablished, wantTO: 432000},
			{from: "c", flags: TCPFin, seq: 1001, ack: 5001, wantInfo: IV, wantState: TCPEstablished, wantTO: 432000},
			{from: "c", flags: SYNACK, seq: 1001, ack: 5001, wantInfo: IV, wantState: TCPEstablished, wantTO: 432000},
		}},
		{"unacked data caps the timeout at 300, its ACK restores it", Config{}, []step{
			{from: "c", flags: SYN, seq: 1000, wantInfo: New, wantState: TCPSynSent, wantTO: 120},
			{from: "s", flags: SYNACK, seq: 5000, ack: 1001, wantInfo: ER, wantState: TCPSynRecv, wantTO: 60},
			{from: "c", flags: ACK, seq: 1001, ack: 5001, wantInfo: EST, wantState: TCPEstablished, wantTO: 432000},
			{from: "c", flags: PSH, seq: 1001, ack: 5001, data: 10, wantInfo: EST, wantState: TCPEstablished, wantTO: 300},
			{from: "s", flags: ACK, seq: 5001, ack: 1011, wantInfo: ER, wantState: TCPEstablished, wantTO: 432000},
		}},
		{"zero window caps the timeout at 300", Config{}, []step{
			{from: "c", flags: SYN, seq: 1000, wantInfo: New, wantState: TCPSynSent, wantTO: 120},
			{from: "s", flags: SYNACK, seq: 5000, ack: 1001, wantInfo: ER, wantState: TCPSynRecv, wantTO: 60},
			{from: "c", flags: ACK, seq: 1001, ack: 5001, wantInfo: EST, wantState: TCPEstablished, wantTO: 432000},
			{from: "s", flags: ACK, seq: 5001, ack: 1001, win: 0, wantInfo: ER, wantState: TCPEstablished, wantTO: -1},
		}},
		{"three retransmissions cap the timeout at 300", Config{}, []step{
			{from: "c", flags: SYN, seq: 1000, wantInfo: New, wantState: TCPSynSent, wantTO: 120},
			{from: "s", flags: SYNACK, seq: 5000, ack: 1001, wantInfo: ER, wantState: TCPSynRecv, wantTO: 60},
			{from: "c", flags: ACK, seq: 1001, ack: 5001, wantInfo: EST, wantState: TCPEstablished, wantTO: 432000},
			{from: "s", flags: ACK, seq: 5001, ack: 1001, wantInfo: ER, wantState: TCPEstablished, wantTO: 432000},
			{from: "s", flags: ACK, seq: 5001, ack: 1001, wantInfo: ER, wantState: TCPEstablished, wantTO: 432000},
			{from: "s", flags: ACK, seq: 5001, ack: 1001, wantInfo: ER, wantState: TCPEstablished, wantTO: 432000},
			{from: "s", flags: ACK, seq: 5001, ack: 1001, wantInfo: ER, wantState: TCPEstablished, wantTO: 300},
		}},
		{"pickup: 300 unreplied, not assured after first reply, assured after", Config{}, []step{
			{from: "c", flags: PSH, seq: 1, ack: 2, data: 10, wantInfo: New, wantState: TCPEstablished, wantTO: 300},
			{from: "s", flags: ACK, seq: 2, ack: 11, wantInfo: ER, wantState: TCPEstablished, wantTO: 300},
			{from: "c", flags: ACK, seq: 11, ack: 2, wantInfo: EST, wantState: TCPEstablished, wantTO: 432000},
		}},
		{"loose=0: no pickup", Config{NoTCPLoose: true}, []step{
			{from: "c", flags: ACK, seq: 1, ack: 2, wantInfo: IV},
		}},
		{"RST answering the SYN kills the entry, RST passes", Config{}, []step{
			{from: "c", flags: SYN, seq: 1000, wantInfo: New, wantState: TCPSynSent, wantTO: 120},
			{from: "s", flags: RSTACK, seq: 0, ack: 1001, wantInfo: ER, wantGone: true},
		}},
		{"exact RST closes: CLOSE 10 s", Config{}, []step{
			{from: "c", flags: SYN, seq: 1000, wantInfo: New, wantState: TCPSynSent, wantTO: 120},
			{from: "s", flags: SYNACK, seq: 5000, ack: 1001, wantInfo: ER, wantState: TCPSynRecv, wantTO: 60},
			{from: "c", flags: ACK, seq: 1001, ack: 5001, wantInfo: EST, wantState: TCPEstablished, wantTO: 432000},
			{from: "c", flags: RST, seq: 1001, wantInfo: EST, wantState: TCPClose, wantTO: 10},
		}},
		{"stale RST below maxack: INVALID", Config{}, []step{
			{from: "c", flags: SYN, seq: 1000, wantInfo: New, wantState: TCPSynSent, wantTO: 120},
			{from: "s", flags: SYNACK, seq: 5000, ack: 1001, wantInfo: ER, wantState: TCPSynRecv, wantTO: 60},
			{from: "c", flags: ACK, seq: 1001, ack: 5001, wantInfo: EST, wantState: TCPEstablished, wantTO: 432000},
			{from: "c", flags: RST, seq: 900, wantInfo: IV, wantState: TCPEstablished, wantTO: 432000},
		}},
		{"stale RST with be_liberal: still INVALID", Config{TCPBeLiberal: true}, []step{
			{from: "c", flags: SYN, seq: 1000, wantInfo: New, wantState: TCPSynSent, wantTO: 120},
			{from: "s", flags: SYNACK, seq: 5000, ack: 1001, wantInfo: ER, wantState: TCPSynRecv, wantTO: 60},
			{from: "c", flags: ACK, seq: 1001, ack: 5001, wantInfo: EST, wantState: TCPEstablished, wantTO: 432000},
			{from: "c", flags: RST, seq: 900, wantInfo: IV, wantState: TCPEstablished, wantTO: 432000},
		}},
		{"RST above maxack with ignore_invalid_rst: state kept, 10 s", Config{TCPIgnoreInvalidRST: true}, []step{
			{from: "c", flags: SYN, seq: 1000, wantInfo: New, wantState: TCPSynSent, wantTO: 120},
			{from: "s", flags: SYNACK, seq: 5000, ack: 1001, wantInfo: ER, wantState: TCPSynRecv, wantTO: 60},
			{from: "c", flags: ACK, seq: 1001, ack: 5001, wantInfo: EST, wantState: TCPEstablished, wantTO: 432000},
			{from: "c", flags: RST, seq: 1500, wantInfo: EST, wantState: TCPEstablished, wantTO: 10},
		}},
		{"SYN after TIME_WAIT reopens: NEW, fresh SYN_SENT", Config{}, []step{
			{from: "c", flags: SYN, seq: 1000, wantInfo: New, wantState: TCPSynSent, wantTO: 120},
			{from: "s", flags: SYNACK, seq: 5000, ack: 1001, wantInfo: ER, wantState: TCPSynRecv, wantTO: 60},
			{from: "c", flags: ACK, seq: 1001, ack: 5001, wantInfo: EST, wantState: TCPEstablished, wantTO: 432000},
			{from: "c", flags: FIN, seq: 1001, ack: 5001, wantInfo: EST, wantState: TCPFinWait, wantTO: 120},
			{from: "s", flags: FIN, seq: 5001, ack: 1002, wantInfo: ER, wantState: TCPLastAck, wantTO: 30},
			{from: "c", flags: ACK, seq: 1002, ack: 5002, wantInfo: EST, wantState: TCPTimeWait, wantTO: 120},
			{from: "c", flags: SYN, seq: 70000, adv: time.Second, wantInfo: New, wantState: TCPSynSent, wantTO: 120},
		}},
		{"challenge ACK in LAST_ACK does not close", Config{}, []step{
			{from: "c", flags: SYN, seq: 1000, wantInfo: New, wantState: TCPSynSent, wantTO: 120},
			{from: "s", flags: SYNACK, seq: 5000, ack: 1001, wantInfo: ER, wantState: TCPSynRecv, wantTO: 60},
			{from: "c", flags: ACK, seq: 1001, ack: 5001, wantInfo: EST, wantState: TCPEstablished, wantTO: 432000},
			{from: "c", flags: FIN, seq: 1001, ack: 5001, wantInfo: EST, wantState: TCPFinWait, wantTO: 120},
			{from: "s", flags: FIN, seq: 5001, ack: 1002, wantInfo: ER, wantState: TCPLastAck, wantTO: 30},
			{from: "c", flags: SYN, seq: 9000, wantInfo: EST, wantState: TCPLastAck, wantTO: 30},
			{from: "s", flags: ACK, seq: 5002, ack: 1002, wantInfo: ER, wantState: TCPLastAck, wantTO: 30},
		}},
		{"SYN-ACK answering an ignored SYN resynchronises", Config{}, []step{
			{from: "c", flags: PSH, seq: 1, ack: 2, data: 10, wantInfo: New, wantState: TCPEstablished, wantTO: 300},
			{from: "s", flags: ACK, seq: 2, ack: 11, wantInfo: ER, wantState: TCPEstablished, wantTO: 300},
			{from: "c", flags: ACK, seq: 11, ack: 2, wantInfo: EST, wantState: TCPEstablished, wantTO: 432000},
			{from: "c", flags: SYN, seq: 777000, wantInfo: EST, wantState: TCPEstablished, wantTO: 432000},
			{from: "s", flags: SYNACK, seq: 123000, ack: 777001, wantInfo: ER, wantState: TCPSynRecv, wantTO: 60},
			{from: "c", flags: ACK, seq: 777001, ack: 123001, wantInfo: EST, wantState: TCPEstablished, wantTO: 432000},
		}},
	}
	for _, s := range scs {
		runScenario(t, s.name, s.cfg, s.steps)
	}
}

// TestTCPAssured: ASSURED is set by the handshake-completing ACK, not by
// the SYN or SYN-ACK (§3, §2.2: 8 of 10 packets matched --ctstatus
// ASSURED).
func TestTCPAssured(t *testing.T) {
	tb, clk := newTestTable(t, Config{})
	now := clk.now
	c, _, _ := pass(tb, seg(tcp, cli, srv, 1, 2, SYN).sa(1000, 0), now)
	if c.Status()&StatusAssured != 0 {
		t.Fatal("SYN: assured")
	}
	pass(tb, seg(tcp, srv, cli, 2, 1, SYNACK).sa(5000, 1001), now)
	if c.Status()&StatusAssured != 0 {
		t.Fatal("SYN-ACK: assured")
	}
	pass(tb, seg(tcp, cli, srv, 1, 2, ACK).sa(1001, 5001), now)
	if c.Status()&StatusAssured == 0 {
		t.Fatal("ACK: not assured")
	}
}

// TestTCPTimeouts checks the timeout of each state against conntrack.md §5
// and that Timeouts overrides them.
func TestTCPTimeouts(t *testing.T) {
	d := DefaultTimeouts()
	rows := []struct {
		state TCPState
		got   time.Duration
		want  int
	}{
		{TCPSynSent, d.TCPSynSent, 120},
		{TCPSynRecv, d.TCPSynRecv, 60},
		{TCPEstablished, d.TCPEstablished, 432000},
		{TCPFinWait, d.TCPFinWait, 120},
		{TCPCloseWait, d.TCPCloseWait, 60},
		{TCPLastAck, d.TCPLastAck, 30},
		{TCPTimeWait, d.TCPTimeWait, 120},
		{TCPClose, d.TCPClose, 10},
		{tRetrans, d.TCPMaxRetrans, 300},
		{tUnack, d.TCPUnack, 300},
	}
	tb := NewTable(Config{})
	for _, r := range rows {
		if r.got != time.Duration(r.want)*time.Second || tb.tcpTimeouts[r.state] != r.got {
			t.Errorf("%v: default %v, table %v, want %ds", r.state, r.got, tb.tcpTimeouts[r.state], r.want)
		}
	}
	if tb.tcpTimeouts[TCPSynSent2] != 120*time.Second {
		t.Errorf("SYN_SENT2: %v, want 120s", tb.tcpTimeouts[TCPSynSent2])
	}
	// An override reaches the tracker.
	tb2, clk := newTestTable(t, Config{Timeouts: Timeouts{TCPSynSent: 7 * time.Second}})
	c, _, _ := pass(tb2, seg(tcp, cli, srv, 1, 2, SYN).sa(1, 0), clk.now)
	if got := secs(c, clk.now); got != 7 {
		t.Errorf("overridden SYN_SENT timeout: %d, want 7", got)
	}
}
