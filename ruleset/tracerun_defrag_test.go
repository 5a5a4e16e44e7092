package ruleset

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gofw/gofw/packet"
	"github.com/gofw/gofw/target"
)

// traceDatagrams runs raw datagrams through a tracer for rules, the i-th
// at capture time at[i] seconds (0 when at is short), and returns the
// tracer, the results and, per packet, the fragments it left in
// (SentFragments, copied).
func traceDatagrams(t *testing.T, rules string, dgs [][]byte, at ...int) (*Tracer, []TraceResult, [][][]byte) {
	t.Helper()
	o := traceHost
	if rules != "" {
		var out strings.Builder
		rs, err := Restore(New(), strings.NewReader(rules), RestoreOptions{}, &out)
		if err != nil {
			t.Fatalf("restore: %v", err)
		}
		o.Rules = rs
	}
	tr, err := NewTracer(o)
	if err != nil {
		t.Fatal(err)
	}
	var res []TraceResult
	var sent [][][]byte
	for i, dg := range dgs {
		ts := packet.SpecEpoch
		if i < len(at) {
			ts = ts.Add(time.Duration(at[i]) * time.Second)
		}
		res = append(res, tr.Packet(TracePacket{N: i + 1, Data: bytes.Clone(dg), Time: ts}))
		var s [][]byte
		for _, f := range tr.SentFragments() {
			s = append(s, bytes.Clone(f))
		}
		sent = append(sent, s)
	}
	return tr, res, sent
}

func ap4(s string, port uint16) netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr(s), port)
}

// query is a UDP datagram from 198.18.0.2:5000 to dst:53 with 40 bytes of
// payload and a checksum, cut into fragments of 16 bytes of payload.
func query(dst string, id uint16) (dg []byte, frags [][]byte) {
	dg = packet.BuildUDP(ap4("198.18.0.2", 5000), ap4(dst, 53), []byte("0123456789abcdefghijklmnopqrstuvwxyzABCD"), packet.WithID(id))
	return dg, packet.Fragment(dg, 16)
}

// TestTraceDefrag checks what the trace shows of fragments: held ones meet
// no hook, the one that completes a datagram brings it through the hooks
// whole, and it leaves in the fragments it came in.
func TestTraceDefrag(t *testing.T) {
	_, frags := query("198.18.1.2", 77)
	_, localFrags := query("198.18.0.1", 78)
	_, other := query("198.18.1.2", 79)
	rows := []struct {
		name  string
		rules string
		dgs   [][]byte
		// want: the text of the last packet; sent: how many fragments
		// it left in.
		want string
		sent int
	}{
		{"first held", "", frags[:1], `packet 1 +0.000000s: udp 198.18.0.2:5000 > 198.18.1.2:53 len=8 frag=0,more
  defrag: held for reassembly (ipid 77; queued: packets 1)
`, 0},
		{"reassembled and forwarded", "", [][]byte{frags[2], frags[0], frags[1]}, `packet 3 +0.000000s: udp 198.18.0.2 > 198.18.1.2 len=16 frag=2,more
  defrag: reassembled from packets 1, 2, 3 (ipid 77): udp 198.18.0.2:5000 > 198.18.1.2:53 len=40
  PREROUTING in=eth0
  FORWARD in=eth0 out=eth1
  POSTROUTING in=eth0 out=eth1
  defrag: sent as 3 fragments, as they came
  verdict: ACCEPT, ctstate: NEW
`, 3},
		// -f never matches a reassembled datagram; its ports do.
		{"rules see the datagram", `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -f -j DROP
-A FORWARD -p udp -m udp --dport 53 -j ACCEPT
COMMIT
`, frags, `packet 3 +0.000000s: udp 198.18.0.2 > 198.18.1.2 len=16 frag=4
  defrag: reassembled from packets 1, 2, 3 (ipid 77): udp 198.18.0.2:5000 > 198.18.1.2:53 len=40
  PREROUTING in=eth0
  FORWARD in=eth0 out=eth1
    filter/FORWARD/2: -A FORWARD -p udp -m udp --dport 53 -j ACCEPT
  POSTROUTING in=eth0 out=eth1
  defrag: sent as 3 fragments, as they came
  verdict: ACCEPT by filter/FORWARD/2, ctstate: NEW
`, 3},
		{"dropped datagram sends nothing", `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -p udp -m udp --dport 53 -j DROP
COMMIT
`, frags, `packet 3 +0.000000s: udp 198.18.0.2 > 198.18.1.2 len=16 frag=4
  defrag: reassembled from packets 1, 2, 3 (ipid 77): udp 198.18.0.2:5000 > 198.18.1.2:53 len=40
  PREROUTING in=eth0
  FORWARD in=eth0 out=eth1
    filter/FORWARD/1: -A FORWARD -p udp -m udp --dport 53 -j DROP
  verdict: DROP by filter/FORWARD/1, ctstate: NEW
`, 0},
		// Delivered locally: the socket gets the datagram, nothing is
		// sent on.
		{"to this host", "", localFrags, `packet 3 +0.000000s: udp 198.18.0.2 > 198.18.0.1 len=16 frag=4
  defrag: reassembled from packets 1, 2, 3 (ipid 78): udp 198.18.0.2:5000 > 198.18.0.1:53 len=40
  PREROUTING in=eth0
  INPUT in=eth0
  verdict: ACCEPT, ctstate: NEW
`, 0},
		// Duplicates and overlaps, as ip_frag_queue: a duplicate is
		// dropped alone, an overlap with its queue.
		{"duplicate", "", [][]byte{frags[0], frags[0]}, `packet 2 +0.000000s: udp 198.18.0.2:5000 > 198.18.1.2:53 len=8 frag=0,more
  defrag: duplicate fragment dropped (ipid 77; queued: packets 1)
  verdict: DROP by defrag
`, 0},
		{"inside what is queued", "", [][]byte{frags[0], frags[1], overlapping(frags[1])}, `packet 3 +0.000000s: udp 198.18.0.2 > 198.18.1.2 len=16 frag=1,more
  defrag: duplicate fragment dropped (ipid 77; queued: packets 1, 2)
  verdict: DROP by defrag
`, 0},
		{"overlap", "", [][]byte{frags[0], frags[1], overlapping(frags[2])}, `packet 3 +0.000000s: udp 198.18.0.2 > 198.18.1.2 len=16 frag=3
  defrag: overlapping fragment: dropped with packets 1, 2 (ipid 77)
  verdict: DROP by defrag
`, 0},
		// Queues are per datagram: another id does not complete this one.
		{"other datagram", "", [][]byte{frags[0], other[1], frags[1]}, `packet 3 +0.000000s: udp 198.18.0.2 > 198.18.1.2 len=16 frag=2,more
  defrag: held for reassembly (ipid 77; queued: packets 1, 3)
`, 0},
	}
	for _, row := range rows {
		_, res, sent := traceDatagrams(t, row.rules, row.dgs)
		last := &res[len(res)-1]
		if got := string(last.AppendText(nil)); got != row.want {
			t.Errorf("%s:\n got %s\nwant %s", row.name, got, row.want)
		}
		if n := len(sent[len(sent)-1]); n != row.sent {
			t.Errorf("%s: sent %d fragments, want %d", row.name, n, row.sent)
		}
		for i := range res[:len(res)-1] {
			if res[i].Defrag == nil || res[i].Defrag.Status == "reassembled" || len(res[i].Hooks) != 0 {
				t.Errorf("%s: packet %d went through %d hooks (defrag %+v), want it held", row.name, i+1, len(res[i].Hooks), res[i].Defrag)
			}
		}
	}
}

// overlapping is a copy of fragment f moved 8 bytes back, over the data
// before it.
func overlapping(f []byte) []byte {
	f = bytes.Clone(f)
	fo := uint16(f[6])<<8 | uint16(f[7])
	fo--
	f[6], f[7] = byte(fo>>8), byte(fo)
	f[10], f[11] = 0, 0
	c := packet.Checksum(f[:20], 0)
	f[10], f[11] = byte(c>>8), byte(c)
	return f
}

// TestTraceDefragSent checks the bytes a reassembled datagram leaves in:
// the fragments it came in, as NAT rewrote the datagram.
func TestTraceDefragSent(t *testing.T) {
	_, frags := query("198.18.1.2", 77)
	_, _, sent := traceDatagrams(t, "", frags)
	if got := sent[2]; len(got) != len(frags) {
		t.Fatalf("sent %d fragments, want %d", len(got), len(frags))
	}
	for i, f := range sent[2] {
		if !bytes.Equal(f, frags[i]) {
			t.Errorf("fragment %d:\n got %x\nwant %x", i+1, f, frags[i])
		}
	}

	snat := `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -o eth1 -p udp -j SNAT --to-source 198.18.1.1:6000
COMMIT
`
	_, res, sent := traceDatagrams(t, snat, frags)
	if res[2].NATSrc != "198.18.1.1:6000" || len(sent[2]) != len(frags) {
		t.Fatalf("nat %s > %s, %d fragments sent; want 198.18.1.1:6000 and %d", res[2].NATSrc, res[2].NATDst, len(sent[2]), len(frags))
	}
	var got []byte
	for i, f := range sent[2] {
		var p packet.Packet
		packet.Decode(f, &p)
		if p.Src != netip.MustParseAddr("198.18.1.1") || !p.HeaderChecksumOK() || len(f) != len(frags[i]) {
			t.Errorf("fragment %d: %s (%d bytes, header checksum ok %v), want it from 198.18.1.1 in %d bytes", i+1, p.Summary(), len(f), p.HeaderChecksumOK(), len(frags[i]))
		}
		got = append(got, f[20:]...)
	}
	// Joined under the first fragment's header, made whole.
	var p packet.Packet
	whole := append(bytes.Clone(sent[2][0][:20]), got...)
	whole[2], whole[3], whole[6], whole[7] = byte(len(whole)>>8), byte(len(whole)), 0, 0
	packet.Decode(whole, &p)
	if p.SrcPort != 6000 || !p.ChecksumOK() || !bytes.Equal(p.Payload(), []byte("0123456789abcdefghijklmnopqrstuvwxyzABCD")) {
		t.Errorf("the fragments join to %s, payload %q: want source port 6000, a good checksum and the payload", p.Summary(), p.Payload())
	}
}

// TestTraceDefragPath checks which queue a fragment joins: a locally
// generated one is reassembled at OUTPUT, and both directions are tracked
// once per datagram.
func TestTraceDefragPath(t *testing.T) {
	out := packet.BuildUDP(ap4("198.18.0.1", 53), ap4("198.18.1.2", 5000), []byte("0123456789abcdefghijklmnopqrstuvwxyzABCD"), packet.WithID(5))
	tr, res, sent := traceDatagrams(t, "", packet.Fragment(out, 16))
	if h := hooksText(&res[2]); h != "OUTPUT out=eth1, POSTROUTING out=eth1" || len(sent[2]) != 3 {
		t.Errorf("local fragments: hooks %s, %d sent; want OUTPUT, POSTROUTING and 3", h, len(sent[2]))
	}
	if es := tr.Conntrack(); len(es) != 1 {
		t.Errorf("%d entries, want 1", len(es))
	}
}

// TestTraceDefragExpire checks that a held fragment is gone after
// ipfrag_time on the capture's clock, and that the trace says so.
func TestTraceDefragExpire(t *testing.T) {
	_, frags := query("198.18.1.2", 77)
	_, res, _ := traceDatagrams(t, "", [][]byte{frags[0], frags[1], frags[2]}, 0, 29, 30)
	last := &res[2]
	if last.Defrag == nil || last.Defrag.Status != "held" || len(last.Defrag.Packets) != 1 || last.Defrag.Packets[0] != 3 {
		t.Fatalf("the fragment after ipfrag_time: %+v, want held alone", last.Defrag)
	}
	want := "defrag: packets 1, 2 expired before reassembly (ipid 77; ipfrag_time 30s)"
	if len(last.Notes) != 1 || last.Notes[0] != want {
		t.Errorf("notes %q, want %q", last.Notes, want)
	}
	if !strings.Contains(string(last.AppendText(nil)), "\n  "+want+"\n") {
		t.Errorf("text lacks the note:\n%s", last.AppendText(nil))
	}
}

// TestTraceDefragJSON checks the "defrag" object of each kind of result.
func TestTraceDefragJSON(t *testing.T) {
	_, frags := query("198.18.1.2", 77)
	_, res, _ := traceDatagrams(t, "", [][]byte{frags[0], frags[0], frags[1], frags[2], overlapping(frags[1]), overlapping(frags[1])})
	want := []string{
		`{"n":1,"time":0,"packet":"udp 198.18.0.2:5000 > 198.18.1.2:53 len=8 frag=0,more","rules":[],"defrag":{"status":"held","ipid":77,"packets":[1]}}`,
		`{"n":2,"time":0,"packet":"udp 198.18.0.2:5000 > 198.18.1.2:53 len=8 frag=0,more","rules":[],"verdict":"DROP","by":"defrag","defrag":{"status":"duplicate","ipid":77,"packets":[1]}}`,
		`{"n":3,"time":0,"packet":"udp 198.18.0.2 > 198.18.1.2 len=16 frag=2,more","rules":[],"defrag":{"status":"held","ipid":77,"packets":[1,3]}}`,
		`{"n":4,"time":0,"packet":"udp 198.18.0.2 > 198.18.1.2 len=16 frag=4",` +
			`"hooks":[{"hook":"PREROUTING","in":"eth0"},{"hook":"FORWARD","in":"eth0","out":"eth1"},{"hook":"POSTROUTING","in":"eth0","out":"eth1"}],` +
			`"rules":[],"verdict":"ACCEPT","ctstate":"NEW",` +
			`"defrag":{"status":"reassembled","ipid":77,"packets":[1,3,4],"datagram":"udp 198.18.0.2:5000 > 198.18.1.2:53 len=40","sent":3}}`,
		// After completion the queue is gone: the same fragment again
		// starts a new one.
		`{"n":5,"time":0,"packet":"udp 198.18.0.2 > 198.18.1.2 len=16 frag=1,more","rules":[],"defrag":{"status":"held","ipid":77,"packets":[5]}}`,
		`{"n":6,"time":0,"packet":"udp 198.18.0.2 > 198.18.1.2 len=16 frag=1,more","rules":[],"verdict":"DROP","by":"defrag","defrag":{"status":"duplicate","ipid":77,"packets":[5]}}`,
	}
	for i := range res {
		b, err := res[i].MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want[i] {
			t.Errorf("packet %d:\n got %s\nwant %s", i+1, b, want[i])
		}
	}
	if res[3].Verdict != target.Accept {
		t.Errorf("packet 4 verdict %v", res[3].Verdict)
	}
}
