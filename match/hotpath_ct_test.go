package match

import (
	"testing"
	"time"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/packet"
)

// Tests of the matches that read the packet's connection (state,
// conntrack, connmark). The entries come from a real conntrack.Table driven
// with hand-made segments, as the engine drives it; the packet only carries
// the entry, its ctinfo and the clock.

const (
	ctCli = "198.18.0.1"
	ctSrv = "198.18.0.2"
	ctRtr = "198.18.0.254"
	ctNAT = "198.18.0.9"
)

// t0 is the clock value the flows start at.
const t0 = int64(1000 * time.Second)

// ctSeg is a UDP segment src:sport -> dst:dport.
func ctSeg(src string, sport uint16, dst string, dport uint16) *conntrack.Segment {
	return &conntrack.Segment{Tuple: conntrack.MakeTuple(hpAddr(src), hpAddr(dst), conntrack.ProtoUDP, sport, dport), Len: 60}
}

// ctIn runs seg through the table at now and checks the ctinfo it gets.
func ctIn(t *testing.T, tb *conntrack.Table, seg *conntrack.Segment, now int64, want conntrack.CtInfo) *conntrack.Conn {
	t.Helper()
	c, info, v := tb.In(seg, now)
	if v != conntrack.Accept || c == nil || info != want {
		t.Fatalf("In %v: got conn %v info %v verdict %v, want an entry, %v", seg.Tuple, c, info, v, want)
	}
	return c
}

func ctConfirm(t *testing.T, tb *conntrack.Table, c *conntrack.Conn, now int64) {
	t.Helper()
	if _, v := tb.Confirm(c, conntrack.New, now); v != conntrack.Accept {
		t.Fatalf("Confirm: %v", v)
	}
}

// ctPkt is a packet carrying entry c classified info at clock now.
func ctPkt(t testing.TB, c *conntrack.Conn, info conntrack.CtInfo, now int64) *packet.Packet {
	p := udpDg(t, 40000, 53)
	p.Conn, p.CtInfo, p.Now = c, info, now
	return p
}

// ctFlows are the packets of a few flows at the moments the rows look at
// them.
type ctFlows struct {
	newUDP, replyUDP, origUDP *packet.Packet // NEW, ESTABLISHED reply, ESTABLISHED original
	relReply, rel             *packet.Packet // ICMP errors about the UDP flow, both ways
	dnatNew, dnatReply        *packet.Packet // a flow whose reply tuple DNAT changed
	snat                      *packet.Packet // a flow with SRC_NAT
	echo                      *packet.Packet // an ICMP echo request, NEW
	invalid, untracked        *packet.Packet // no entry
	udp                       *packet.Packet // the UDP request once confirmed
	at10s, at10s5             *packet.Packet // the same 10 s and 10.5 s after its start
	unconfirmedAt10s          *packet.Packet // the request before Confirm, looked at 10 s later
}

func newCtFlows(t *testing.T) *ctFlows {
	tb := conntrack.NewTable(conntrack.Config{Shards: 4})
	f := &ctFlows{}

	// A UDP request and its answer.
	c := ctIn(t, tb, ctSeg(ctCli, 40000, ctSrv, 53), t0, conntrack.New)
	f.newUDP = ctPkt(t, c, conntrack.New, t0)
	ctConfirm(t, tb, c, t0)
	f.udp = ctPkt(t, c, conntrack.New, t0)
	// ICMP errors about it: one from a router to the client quoting
	// the request (it travels the reply way), one to the server quoting
	// the answer.
	at := t0 + int64(time.Second)
	e := &conntrack.Segment{Tuple: conntrack.MakeICMPTuple(hpAddr(ctRtr), hpAddr(ctCli), conntrack.ProtoICMP, 3, 3, 0), Len: 84,
		Inner: conntrack.MakeTuple(hpAddr(ctCli), hpAddr(ctSrv), conntrack.ProtoUDP, 40000, 53)}
	f.relReply = ctPkt(t, ctIn(t, tb, e, at, conntrack.RelatedReply), conntrack.RelatedReply, at)
	r := ctIn(t, tb, ctSeg(ctSrv, 53, ctCli, 40000), at, conntrack.EstablishedReply)
	f.replyUDP = ctPkt(t, r, conntrack.EstablishedReply, at)
	o := ctIn(t, tb, ctSeg(ctCli, 40000, ctSrv, 53), at, conntrack.Established)
	f.origUDP = ctPkt(t, o, conntrack.Established, at)
	e2 := &conntrack.Segment{Tuple: conntrack.MakeICMPTuple(hpAddr(ctRtr), hpAddr(ctSrv), conntrack.ProtoICMP, 3, 3, 0), Len: 84,
		Inner: conntrack.MakeTuple(hpAddr(ctSrv), hpAddr(ctCli), conntrack.ProtoUDP, 53, 40000)}
	f.rel = ctPkt(t, ctIn(t, tb, e2, at, conntrack.Related), conntrack.Related, at)

	// A flow to ctSrv:53 that DNAT sent to ctNAT:5353: the reply tuple
	// is the inverse of the translated one.
	d := ctIn(t, tb, ctSeg(ctCli, 41000, ctSrv, 53), t0, conntrack.New)
	if err := d.SetReplyTuple(conntrack.MakeTuple(hpAddr(ctNAT), hpAddr(ctCli), conntrack.ProtoUDP, 5353, 41000)); err != nil {
		t.Fatal(err)
	}
	d.SetStatus(conntrack.StatusDstNAT)
	f.dnatNew = ctPkt(t, d, conntrack.New, t0)
	ctConfirm(t, tb, d, t0)
	f.dnatReply = ctPkt(t, ctIn(t, tb, ctSeg(ctNAT, 5353, ctCli, 41000), at, conntrack.EstablishedReply), conntrack.EstablishedReply, at)

	s := ctIn(t, tb, ctSeg(ctCli, 42000, ctSrv, 53), t0, conntrack.New)
	s.SetStatus(conntrack.StatusSrcNAT)
	f.snat = ctPkt(t, s, conntrack.New, t0)
	f.unconfirmedAt10s = ctPkt(t, s, conntrack.New, t0+int64(10*time.Second))

	// A request nobody answers: its 30 s UDP timeout runs from t0.
	q := ctIn(t, tb, ctSeg(ctCli, 43000, ctSrv, 53), t0, conntrack.New)
	ctConfirm(t, tb, q, t0)
	f.at10s = ctPkt(t, q, conntrack.New, t0+int64(10*time.Second))
	f.at10s5 = ctPkt(t, q, conntrack.New, t0+int64(10500*time.Millisecond))

	echo := &conntrack.Segment{Tuple: conntrack.MakeICMPTuple(hpAddr(ctCli), hpAddr(ctSrv), conntrack.ProtoICMP, 8, 0, 7), Len: 84}
	f.echo = ctPkt(t, ctIn(t, tb, echo, t0, conntrack.New), conntrack.New, t0)

	f.invalid = ctPkt(t, nil, conntrack.Invalid, t0)
	f.untracked = ctPkt(t, nil, conntrack.Untracked, t0)
	return f
}

// TestStateMatch checks -m state (conntrack_mt's state test).
func TestStateMatch(t *testing.T) {
	f := newCtFlows(t)
	checkRows(t, []hpRow{
		{"new", "-m state --state NEW", f.newUDP, true, false},
		{"new is not established", "-m state --state ESTABLISHED,RELATED", f.newUDP, false, false},
		{"! new on new", "-m state ! --state NEW", f.newUDP, false, false},
		// Replies share the bit of their state.
		{"reply", "-m state --state ESTABLISHED", f.replyUDP, true, false},
		{"reply is not new", "-m state --state NEW", f.replyUDP, false, false},
		{"original after reply", "-m state --state ESTABLISHED", f.origUDP, true, false},
		{"related", "-m state --state RELATED", f.rel, true, false},
		{"related reply", "-m state --state RELATED", f.relReply, true, false},
		{"related reply is not established", "-m state --state ESTABLISHED", f.relReply, false, false},
		{"est,rel", "-m state --state ESTABLISHED,RELATED", f.relReply, true, false},
		// No entry.
		{"invalid", "-m state --state INVALID", f.invalid, true, false},
		{"invalid is not new", "-m state --state NEW", f.invalid, false, false},
		{"! new on invalid", "-m state ! --state NEW", f.invalid, true, false},
		{"! invalid on invalid", "-m state ! --state INVALID", f.invalid, false, false},
		{"untracked", "-m state --state UNTRACKED", f.untracked, true, false},
		{"untracked is not invalid", "-m state --state INVALID", f.untracked, false, false},
		// NAT does not change the state.
		{"snat new", "-m state --state NEW", f.snat, true, false},
		{"dnat reply", "-m state --state ESTABLISHED", f.dnatReply, true, false},
	})
}

// TestConntrackMatch checks conntrack_mt revision 3, option by option.
func TestConntrackMatch(t *testing.T) {
	f := newCtFlows(t)
	checkRows(t, []hpRow{
		// --ctstate with the virtual SNAT and DNAT bits.
		{"ctstate new", "-m conntrack --ctstate NEW", f.newUDP, true, false},
		{"ctstate est on reply", "-m conntrack --ctstate ESTABLISHED", f.replyUDP, true, false},
		{"ctstate related", "-m conntrack --ctstate RELATED", f.relReply, true, false},
		{"ctstate snat", "-m conntrack --ctstate SNAT", f.snat, true, false},
		{"ctstate snat is not dnat", "-m conntrack --ctstate DNAT", f.snat, false, false},
		{"ctstate dnat both ways", "-m conntrack --ctstate DNAT", f.dnatReply, true, false},
		{"ctstate new,dnat: any bit", "-m conntrack --ctstate NEW,DNAT", f.dnatReply, true, false},
		{"! ctstate snat on plain flow", "-m conntrack ! --ctstate SNAT", f.newUDP, true, false},
		{"! ctstate dnat on dnat flow", "-m conntrack ! --ctstate DNAT", f.dnatNew, false, false},
		{"ctstate untracked", "-m conntrack --ctstate UNTRACKED", f.untracked, true, false},
		{"ctstate invalid", "-m conntrack --ctstate INVALID", f.invalid, true, false},
		{"ctstate invalid on untracked", "-m conntrack --ctstate INVALID", f.untracked, false, false},
		// Without an entry only a passed --ctstate matches, whatever the
		// other options say.
		{"invalid: state passes, proto ignored", "-m conntrack --ctstate INVALID --ctproto tcp", f.invalid, true, false},
		{"invalid: ! state passes, origsrc ignored", "-m conntrack ! --ctstate NEW --ctorigsrc 192.0.2.1", f.invalid, true, false},
		{"invalid: proto alone", "-m conntrack --ctproto udp", f.invalid, false, false},
		{"invalid: ! proto alone", "-m conntrack ! --ctproto udp", f.invalid, false, false},
		{"untracked: ! status alone", "-m conntrack ! --ctstatus ASSURED", f.untracked, false, false},
		{"untracked: state passes", "-m conntrack --ctstate UNTRACKED --ctdir REPLY", f.untracked, true, false},
		// --ctproto is the entry's protocol.
		{"ctproto udp", "-m conntrack --ctproto udp", f.newUDP, true, false},
		{"ctproto tcp", "-m conntrack --ctproto tcp", f.newUDP, false, false},
		{"! ctproto tcp", "-m conntrack ! --ctproto tcp", f.newUDP, true, false},
		{"ctproto of a related error is its entry's", "-m conntrack --ctproto udp", f.relReply, true, false},
		// Addresses under masks; the rule's host bits do not count.
		{"origsrc", "-m conntrack --ctorigsrc 198.18.0.1", f.newUDP, true, false},
		{"origsrc net", "-m conntrack --ctorigsrc 198.18.0.0/24", f.newUDP, true, false},
		{"origsrc host bits", "-m conntrack --ctorigsrc 198.18.0.77/16", f.newUDP, true, false},
		{"origsrc other net", "-m conntrack --ctorigsrc 198.18.1.0/24", f.newUDP, false, false},
		{"! origsrc other net", "-m conntrack ! --ctorigsrc 198.18.1.0/24", f.newUDP, true, false},
		{"origsrc /0", "-m conntrack --ctorigsrc 192.0.2.1/0", f.newUDP, true, false},
		{"origsrc on reply packet", "-m conntrack --ctorigsrc 198.18.0.1", f.replyUDP, true, false},
		{"origdst before DNAT", "-m conntrack --ctorigdst 198.18.0.2", f.dnatNew, true, false},
		{"replsrc after DNAT", "-m conntrack --ctreplsrc 198.18.0.9", f.dnatNew, true, false},
		{"replsrc is not origdst", "-m conntrack --ctreplsrc 198.18.0.2", f.dnatNew, false, false},
		{"! replsrc", "-m conntrack ! --ctreplsrc 198.18.0.9", f.dnatReply, false, false},
		{"repldst", "-m conntrack --ctrepldst 198.18.0.1", f.dnatReply, true, false},
		{"! origdst and replsrc", "-m conntrack ! --ctorigdst 198.18.0.9 --ctreplsrc 198.18.0.9", f.dnatNew, true, false},
		// Ports: the tuples' id parts.
		{"origsrcport", "-m conntrack --ctorigsrcport 40000", f.newUDP, true, false},
		{"origsrcport range", "-m conntrack --ctorigsrcport 39000:41000", f.newUDP, true, false},
		{"origsrcport range miss", "-m conntrack --ctorigsrcport 1:1023", f.newUDP, false, false},
		{"! origdstport", "-m conntrack ! --ctorigdstport 53", f.newUDP, false, false},
		{"origdstport before DNAT", "-m conntrack --ctorigdstport 53", f.dnatNew, true, false},
		{"replsrcport after DNAT", "-m conntrack --ctreplsrcport 5353", f.dnatNew, true, false},
		{"repldstport", "-m conntrack --ctrepldstport 41000", f.dnatReply, true, false},
		{"icmp id is the source port", "-m conntrack --ctorigsrcport 7", f.echo, true, false},
		{"icmp type<<8|code is the destination port", "-m conntrack --ctorigdstport 2048", f.echo, true, false},
		{"icmp reply type in the reply tuple", "-m conntrack --ctreplsrcport 0", f.echo, false, false},
		{"icmp reply type<<8|code", "-m conntrack --ctrepldstport 0", f.echo, true, false},
		// --ctstatus: any of the bits.
		{"unconfirmed", "-m conntrack --ctstatus CONFIRMED", f.snat, false, false},
		{"! confirmed on unconfirmed", "-m conntrack ! --ctstatus CONFIRMED", f.snat, true, false},
		{"confirmed", "-m conntrack --ctstatus CONFIRMED", f.udp, true, false},
		{"seen reply", "-m conntrack --ctstatus SEEN_REPLY", f.origUDP, true, false},
		{"not assured yet", "-m conntrack --ctstatus ASSURED", f.origUDP, false, false},
		{"assured or confirmed", "-m conntrack --ctstatus ASSURED,CONFIRMED", f.origUDP, true, false},
		{"NONE never", "-m conntrack --ctstatus NONE", f.origUDP, false, false},
		{"! NONE always", "-m conntrack ! --ctstatus NONE", f.snat, true, false},
		// --ctdir.
		{"ctdir original", "-m conntrack --ctdir ORIGINAL", f.newUDP, true, false},
		{"ctdir reply on original", "-m conntrack --ctdir REPLY", f.newUDP, false, false},
		{"ctdir reply", "-m conntrack --ctdir REPLY", f.replyUDP, true, false},
		{"ctdir original on reply", "-m conntrack --ctdir ORIGINAL", f.replyUDP, false, false},
		{"ctdir of a related reply", "-m conntrack --ctdir REPLY", f.relReply, true, false},
		{"ctdir of a related error", "-m conntrack --ctdir ORIGINAL", f.rel, true, false},
		// --ctexpire: whole seconds left (30 s UDP timeout, 10 s gone).
		{"expire 20", "-m conntrack --ctexpire 20", f.at10s, true, false},
		{"expire 15:25", "-m conntrack --ctexpire 15:25", f.at10s, true, false},
		{"expire 21:", "-m conntrack --ctexpire 21:", f.at10s, false, false},
		{"! expire 0:19", "-m conntrack ! --ctexpire 0:19", f.at10s, true, false},
		{"expire rounds down", "-m conntrack --ctexpire 19", f.at10s5, true, false},
		{"expire of an unconfirmed entry is its lifetime", "-m conntrack --ctexpire 30", f.unconfirmedAt10s, true, false},
		// Everything together.
		{"all", "-m conntrack --ctstate ESTABLISHED --ctproto udp --ctorigsrc 198.18.0.1 --ctreplsrc 198.18.0.2 --ctorigdstport 53 --ctstatus SEEN_REPLY --ctdir REPLY", f.replyUDP, true, false},
		{"all but one", "-m conntrack --ctstate ESTABLISHED --ctproto udp --ctorigsrc 198.18.0.1 --ctreplsrc 198.18.0.2 --ctorigdstport 53 --ctstatus SEEN_REPLY --ctdir ORIGINAL", f.replyUDP, false, false},
	})
}

// TestConnmarkMatch checks connmark_mt: the entry's mark under a mask; no
// entry, no match, even negated.
func TestConnmarkMatch(t *testing.T) {
	f := newCtFlows(t)
	f.origUDP.Conn.SetMark(0x1234)
	f.origUDP.Mark = 0 // the packet's own mark is not the entry's
	checkRows(t, []hpRow{
		{"mark", "-m connmark --mark 0x1234", f.origUDP, true, false},
		{"mark on the reply's entry too", "-m connmark --mark 0x1234", f.replyUDP, true, false},
		{"other mark", "-m connmark --mark 0x1235", f.origUDP, false, false},
		{"masked", "-m connmark --mark 0x30/0xf0", f.origUDP, true, false},
		{"masked other", "-m connmark --mark 0x40/0xf0", f.origUDP, false, false},
		{"! mark", "-m connmark ! --mark 0x1234", f.origUDP, false, false},
		{"! other", "-m connmark ! --mark 1", f.origUDP, true, false},
		{"zero mark of a fresh entry", "-m connmark --mark 0", f.snat, true, false},
		{"no entry", "-m connmark --mark 0", f.invalid, false, false},
		{"! no entry", "-m connmark ! --mark 1", f.invalid, false, false},
		{"untracked", "-m connmark ! --mark 1", f.untracked, false, false},
	})
}
