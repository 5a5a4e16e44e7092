package conntrack

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// TestParseFTP: nf_conntrack_ftp.c's find_pattern and number parsers, one
// row per syntax rule.
func TestParseFTP(t *testing.T) {
	c4, s4 := ip(cli), ip(srv)
	c6 := ip("fd00::1")
	rows := []struct {
		name string
		dir  Dir
		own  netip.Addr
		data string
		res  FTPResult
		want string // "CMD addr port off+len" when found, the command when partial
	}{
		// PORT: numbers right after the first space, then \r.
		{"PORT", Original, c4, "PORT 198,18,0,1,195,80\r\n", FTPFound, "PORT 198.18.0.1 50000 5+17"},
		{"PORT lower case", Original, c4, "port 198,18,0,1,195,80\r\n", FTPFound, "PORT 198.18.0.1 50000 5+17"},
		{"PORT other host", Original, c4, "PORT 198,18,9,9,0,21\r\n", FTPFound, "PORT 198.18.9.9 21 5+15"},
		{"PORT numbers wrap (OR, not add)", Original, c4, "PORT 300,2,3,4,5,300\r\n", FTPFound, "PORT 44.2.3.4 1324 5+15"},
		{"PORT without \\r", Original, c4, "PORT 198,18,0,1,195,80\n", FTPPartial, "PORT"},
		{"PORT second space", Original, c4, "PORT  198,18,0,1,195,80\r\n", FTPPartial, "PORT"},
		{"PORT five numbers", Original, c4, "PORT 198,18,0,1,195\r\n", FTPPartial, "PORT"},
		{"PORT seven numbers", Original, c4, "PORT 198,18,0,1,195,80,1\r\n", FTPPartial, "PORT"},
		{"PORT cut", Original, c4, "PORT 198,18,0,1,1", FTPPartial, "PORT"},
		{"PORT no space", Original, c4, "PORTX\r\n", FTPPartial, "PORT"},
		{"keyword cut", Original, c4, "POR", FTPPartial, "PORT"},
		{"empty segment", Original, c4, "", FTPPartial, "PORT"},
		{"other command", Original, c4, "USER anonymous\r\n", FTPNoMatch, ""},
		{"PASV is not PORT", Original, c4, "PASV\r\n", FTPNoMatch, ""},
		{"227 in the client direction", Original, c4, "227 (198,18,0,1,195,80)\r\n", FTPNoMatch, ""},
		// EPRT: <d>1<d>a.b.c.d<d>port<d>, the digit matching the family.
		{"EPRT", Original, c4, "EPRT |1|198.18.0.1|50000|\r\n", FTPFound, "EPRT 198.18.0.1 50000 5+20"},
		{"EPRT other delimiter", Original, c4, "eprt !1!198.18.0.1!50000!\r\n", FTPFound, "EPRT 198.18.0.1 50000 5+20"},
		{"EPRT v6 on v4", Original, c4, "EPRT |2|fd00::1|50000|\r\n", FTPPartial, "EPRT"},
		{"EPRT digit delimiter", Original, c4, "EPRT 515198.18.0.15500005\r\n", FTPPartial, "EPRT"},
		{"EPRT unequal delimiters", Original, c4, "EPRT |1!198.18.0.1|50000|\r\n", FTPPartial, "EPRT"},
		{"EPRT port 0", Original, c4, "EPRT |1|198.18.0.1|0|\r\n", FTPPartial, "EPRT"},
		{"EPRT no closing delimiter", Original, c4, "EPRT |1|198.18.0.1|50000\r\n", FTPPartial, "EPRT"},
		{"EPRT three address parts", Original, c4, "EPRT |1|198.18.1|50000|\r\n", FTPPartial, "EPRT"},
		{"EPRT v6", Original, c6, "EPRT |2|fd00::1|50000|\r\n", FTPFound, "EPRT fd00::1 50000 5+17"},
		{"EPRT v6 zone", Original, c6, "EPRT |2|fd00::1%eth0|50000|\r\n", FTPPartial, "EPRT"},
		{"EPRT v4 literal on v6", Original, c6, "EPRT |2|198.18.0.1|50000|\r\n", FTPPartial, "EPRT"},
		{"EPRT v4 on v6", Original, c6, "EPRT |1|198.18.0.1|50000|\r\n", FTPPartial, "EPRT"},
		// 227: from the first digit, any terminator (RFC 1123).
		{"227", Reply, s4, "227 Entering Passive Mode (198,18,0,2,195,80).\r\n", FTPFound, "227  198.18.0.2 50000 27+17"},
		{"227 without parentheses", Reply, s4, "227 =198,18,0,2,195,80\r\n", FTPFound, "227  198.18.0.2 50000 5+17"},
		{"227 without digits", Reply, s4, "227 Entering Passive Mode.\r\n", FTPPartial, "227 "},
		{"227 cut", Reply, s4, "227 Entering Passive Mode (198,18,0,2,195", FTPPartial, "227 "},
		{"227 keyword cut", Reply, s4, "22", FTPPartial, "227 "},
		{"227 needs its space", Reply, s4, "227-Entering (198,18,0,2,195,80)\r\n", FTPNoMatch, ""},
		// 229: through "(", then three equal delimiters.
		{"229", Reply, s4, "229 Entering Extended Passive Mode (|||50000|)\r\n", FTPFound, "229  198.18.0.2 50000 36+9"},
		{"229 without parenthesis", Reply, s4, "229 Entering Extended Passive Mode |||50000|\r\n", FTPPartial, "229 "},
		{"229 two delimiters", Reply, s4, "229 (||50000|)\r\n", FTPPartial, "229 "},
		{"229 unclosed", Reply, s4, "229 (|||50000)\r\n", FTPPartial, "229 "},
		{"other reply", Reply, s4, "230 Login successful.\r\n", FTPNoMatch, ""},
		{"PORT in the server direction", Reply, s4, "PORT 198,18,0,2,195,80\r\n", FTPNoMatch, ""},
	}
	for _, r := range rows {
		m, res := ParseFTP([]byte(r.data), r.dir, r.own)
		var got string
		switch res {
		case FTPFound:
			got = fmt.Sprintf("%s %v %d %d+%d", m.Cmd, m.Addr, m.Port, m.Off, m.Len)
			if m.Off+m.Len > len(r.data) {
				t.Errorf("%s: match %d+%d beyond %d bytes", r.name, m.Off, m.Len, len(r.data))
			}
		case FTPPartial:
			got = m.Cmd.String()
		}
		if res != r.res || got != r.want {
			t.Errorf("%s: %q: got %d %q, want %d %q", r.name, r.data, res, got, r.res, r.want)
		}
	}
}

// fakeMangler stands for the packet in helper tests: it rewrites a copy of
// the payload as packet.MangleTCPPayload would.
type fakeMangler struct {
	data   []byte
	refuse bool
}

func (m *fakeMangler) MangleTCPPayload(off, n int, repl []byte) bool {
	if m.refuse || off < 0 || n < 0 || off+n > len(m.data) {
		return false
	}
	m.data = append(append(append([]byte(nil), m.data[:off]...), repl...), m.data[off+n:]...)
	return true
}

// ftpMaster opens a TCP connection cli:sport → srv:21 (client ISN 1000,
// server ISN 5000) with the ftp helper attached before confirmation, as
// -j CT --helper ftp does; nat, if set, binds it before confirmation.
func ftpMaster(t *testing.T, tb *Table, now int64, sport uint16, nat func(c *Conn)) *Conn {
	t.Helper()
	syn := seg(tcp, cli, srv, sport, 21, SYN).sa(1000, 0)
	c, info, _ := tb.In(syn, now)
	if c == nil {
		t.Fatal("SYN: no entry")
	}
	if err := c.SetHelper("ftp"); err != nil {
		t.Fatal(err)
	}
	if nat != nil {
		nat(c)
	}
	if _, v := tb.Confirm(c, info, now); v != Accept {
		t.Fatal("SYN: confirm failed")
	}
	rt := c.Tuple(Reply)
	synack := &Segment{Tuple: rt, Len: 60, TCPFlags: SYNACK, HdrLen: 20, Window: 65535, Seq: 5000, Ack: 1001}
	pass(tb, synack, now)
	pass(tb, seg(tcp, cli, srv, sport, 21, ACK).sa(1001, 5001), now)
	return c
}

// ftpPkt is one control segment as the helper sees it.
func ftpPkt(info CtInfo, seq uint32, data string, m Mangler, now int64) *HelperPacket {
	return &HelperPacket{Info: info, Seq: seq, Payload: []byte(data), Mangler: m, Now: now}
}

func expectLines(tb *Table, now int64) []string {
	var l []string
	for _, e := range tb.ListExpect(now) {
		l = append(l, string(e.AppendText(nil)))
	}
	return l
}

// TestFTPHelper: the helper's decisions on a session without NAT.
func TestFTPHelper(t *testing.T) {
	tb, clk := newTestTable(t, Config{})
	now := clk.now
	m := ftpMaster(t, tb, now, 40512, nil)
	steps := []struct {
		name    string
		info    CtInfo
		seq     uint32
		data    string
		verdict Verdict
		msg     string
		expects string // the listing afterwards, lines joined by " / "
	}{
		// The first segment of a direction is never parsed: nothing
		// tells that it starts a line.
		{"first PORT ignored", Established, 1001, "PORT 198,18,0,1,195,80\r\n", Accept, "", ""},
		// It ended with \n, so the next one starts a line.
		{"second PORT expected", Established, 1025, "PORT 198,18,0,1,195,80\r\n", Accept, "",
			"300 proto=6 src=198.18.0.2 dst=198.18.0.1 sport=0 dport=50000 mask-src=255.255.255.255 mask-dst=255.255.255.255 sport=0 dport=65535 master-src=198.18.0.1 master-dst=198.18.0.2 sport=40512 dport=21 class=0 helper=ftp"},
		// A new command replaces the expectation (max_expected 1).
		{"EPRT replaces", Established, 1049, "EPRT |1|198.18.0.1|50001|\r\n", Accept, "",
			"300 proto=6 src=198.18.0.2 dst=198.18.0.1 sport=0 dport=50001 mask-src=255.255.255.255 mask-dst=255.255.255.255 sport=0 dport=65535 master-src=198.18.0.1 master-dst=198.18.0.2 sport=40512 dport=21 class=0 helper=ftp"},
		// A segment ending inside a line: the next one is not at a
		// line start, even if it holds a command.
		{"line without end", Established, 1076, "NOOP", Accept, "", "*"},
		{"PORT mid-line ignored", Established, 1080, "PORT 198,18,0,1,195,90\r\n", Accept, "", "*"},
		// Bounce: an address that is not the sender's: no expectation,
		// the packet passes.
		{"PORT bounce", Established, 1104, "PORT 198,18,0,9,0,22\r\n", Accept, "", "*"},
		// A partial command drops the packet and is not remembered as
		// a line end, so the retransmission is parsed again.
		{"PORT partial dropped", Established, 1126, "PORT 198,18,0,1,1", Drop, "partial matching of `PORT'", "*"},
		{"retransmission parsed", Established, 1126, "PORT 198,18,0,1,195,91\r\n", Accept, "",
			"300 proto=6 src=198.18.0.2 dst=198.18.0.1 sport=0 dport=50011 mask-src=255.255.255.255 mask-dst=255.255.255.255 sport=0 dport=65535 master-src=198.18.0.1 master-dst=198.18.0.2 sport=40512 dport=21 class=0 helper=ftp"},
		// The server side: its first segment is the banner.
		{"banner", EstablishedReply, 5001, "220 ready\r\n", Accept, "", "*"},
		{"227", EstablishedReply, 5012, "227 Entering Passive Mode (198,18,0,2,195,100).\r\n", Accept, "",
			"300 proto=6 src=198.18.0.1 dst=198.18.0.2 sport=0 dport=50020 mask-src=255.255.255.255 mask-dst=255.255.255.255 sport=0 dport=65535 master-src=198.18.0.1 master-dst=198.18.0.2 sport=40512 dport=21 class=0 helper=ftp"},
		{"229", EstablishedReply, 5061, "229 Entering Extended Passive Mode (|||50030|)\r\n", Accept, "",
			"300 proto=6 src=198.18.0.1 dst=198.18.0.2 sport=0 dport=50030 mask-src=255.255.255.255 mask-dst=255.255.255.255 sport=0 dport=65535 master-src=198.18.0.1 master-dst=198.18.0.2 sport=40512 dport=21 class=0 helper=ftp"},
		// Packets before the handshake completes are not looked at.
		{"NEW ignored", New, 5111, "229 (|||50040|)\r\n", Accept, "", "*"},
	}
	last := ""
	for _, s := range steps {
		v, msg := tb.Help(m, ftpPkt(s.info, s.seq, s.data, nil, now))
		got := strings.Join(expectLines(tb, now), " / ")
		want := s.expects
		if want == "*" {
			want = last
		}
		if v != s.verdict || msg != s.msg || got != want {
			t.Errorf("%s: verdict %v %q, expectations %q; want %v %q, %q", s.name, v, msg, got, s.verdict, s.msg, want)
		}
		last = got
	}
}

// TestFTPHelperLoose: with loose=1 a bounce address is trusted and becomes
// the expectation's destination.
func TestFTPHelperLoose(t *testing.T) {
	tb, clk := newTestTable(t, Config{FTPLoose: true})
	m := ftpMaster(t, tb, clk.now, 40513, nil)
	tb.Help(m, ftpPkt(Established, 1001, "USER a\r\n", nil, clk.now))
	if v, _ := tb.Help(m, ftpPkt(Established, 1009, "PORT 198,18,0,9,0,22\r\n", nil, clk.now)); v != Accept {
		t.Fatal("loose PORT dropped")
	}
	l := tb.ListExpect(clk.now)
	if len(l) != 1 || l[0].Tuple.String() != "src=198.18.0.2 dst=198.18.0.9 sport=0 dport=22" {
		t.Errorf("loose expectation %v", l)
	}
}

// TestFTPHelperNAT: with NAT on the master the command is rewritten to the
// address the peer sees, the expectation is registered there, and the
// length change is recorded for the sequence adjustment.
func TestFTPHelperNAT(t *testing.T) {
	masq := func(tb *Table, now int64) func(c *Conn) {
		return func(c *Conn) {
			r := NATRange{Flags: NATMapIPs, MinAddr: ip(rtr), MaxAddr: ip(rtr)}
			if err := tb.SetupNAT(c, &r, ManipSrc, now); err != nil {
				t.Fatal(err)
			}
		}
	}
	rows := []struct {
		name    string
		info    CtInfo
		data    string
		busy    bool // another master holds the expectation at the announced port
		refuse  bool // the packet cannot be rewritten
		verdict Verdict
		msg     string
		payload string
		tuple   string // the expectation
		seqadj  SeqAdj // of the packet's direction
	}{
		{"PORT grows", Established, "PORT 198,18,0,1,195,80\r\n", false, false, Accept, "",
			"PORT 198,18,0,254,195,80\r\n", "src=198.18.0.2 dst=198.18.0.254 sport=0 dport=50000", SeqAdj{1009, 0, 2}},
		{"EPRT grows", Established, "EPRT |1|198.18.0.1|50000|\r\n", false, false, Accept, "",
			"EPRT |1|198.18.0.254|50000|\r\n", "src=198.18.0.2 dst=198.18.0.254 sport=0 dport=50000", SeqAdj{1009, 0, 2}},
		{"227 keeps the length", EstablishedReply, "227 Entering Passive Mode (198,18,0,2,195,80).\r\n", false, false, Accept, "",
			"227 Entering Passive Mode (198,18,0,2,195,80).\r\n", "src=198.18.0.1 dst=198.18.0.2 sport=0 dport=50000", SeqAdj{}},
		{"229", EstablishedReply, "229 Entering Extended Passive Mode (|||50000|)\r\n", false, false, Accept, "",
			"229 Entering Extended Passive Mode (|||50000|)\r\n", "src=198.18.0.1 dst=198.18.0.2 sport=0 dport=50000", SeqAdj{}},
		{"port busy: another port", Established, "PORT 198,18,0,1,195,80\r\n", true, false, Accept, "",
			"*", "*", SeqAdj{1009, 0, 2}},
		{"cannot mangle", Established, "PORT 198,18,0,1,195,80\r\n", false, true, Drop, "cannot mangle packet",
			"PORT 198,18,0,1,195,80\r\n", "", SeqAdj{}},
	}
	for i, r := range rows {
		tb, clk := newTestTable(t, Config{})
		now := clk.now
		m := ftpMaster(t, tb, now, uint16(41000+i), masq(tb, now))
		if r.busy {
			// An expectation of another master at the NATed address and
			// the announced port makes AddExpect answer -EBUSY there.
			other := handshake(t, tb, now, 42000, 22)
			e := &Expect{Tuple: MakeTuple(ip(srv), ip(rtr), tcp, 0, 50000), Mask: exactMask(IPv4), Master: other, Timeout: ftpExpectTimeout}
			if err := tb.AddExpect(e, 0, now); err != nil {
				t.Fatal(err)
			}
		}
		seq := uint32(1009)
		if r.info == EstablishedReply {
			seq = 5012
			tb.Help(m, ftpPkt(EstablishedReply, 5001, "220 ready\r\n", nil, now))
		} else {
			tb.Help(m, ftpPkt(Established, 1001, "USER a\r\n", nil, now))
		}
		fm := &fakeMangler{data: []byte(r.data), refuse: r.refuse}
		v, msg := tb.Help(m, ftpPkt(r.info, seq, r.data, fm, now))
		if v != r.verdict || msg != r.msg {
			t.Errorf("%s: verdict %v %q, want %v %q", r.name, v, msg, r.verdict, r.msg)
		}
		var mine []ExpectEntry
		for _, e := range tb.ListExpect(now) {
			if e.Master == m.Tuple(Original) {
				mine = append(mine, e)
			}
		}
		got := ""
		if len(mine) == 1 {
			got = mine[0].Tuple.String()
		} else if len(mine) > 1 {
			t.Errorf("%s: %d expectations", r.name, len(mine))
		}
		if r.busy {
			// The port was searched in [50000, 65535) and the command
			// says the one found.
			if len(mine) != 1 || mine[0].Tuple.DstPort <= 50000 {
				t.Fatalf("%s: expectations %v, want one above port 50000", r.name, mine)
			}
			p := mine[0].Tuple.DstPort
			if want := fmt.Sprintf("PORT 198,18,0,254,%d,%d\r\n", p>>8, p&0xff); string(fm.data) != want {
				t.Errorf("%s: payload %q, want %q", r.name, fm.data, want)
			}
		} else {
			if got != r.tuple {
				t.Errorf("%s: expectation %q, want %q", r.name, got, r.tuple)
			}
			if string(fm.data) != r.payload {
				t.Errorf("%s: payload %q, want %q", r.name, fm.data, r.payload)
			}
		}
		if r.busy {
			r.seqadj.OffsetAfter = int32(len(fm.data) - len(r.data))
		}
		if got := m.SeqAdj(r.info.Dir()); got != r.seqadj {
			t.Errorf("%s: seqadj %+v, want %+v", r.name, got, r.seqadj)
		}
		if (m.Status()&StatusSeqAdjust != 0) != (r.seqadj != SeqAdj{}) {
			t.Errorf("%s: status %v", r.name, m.Status())
		}
	}
}

// TestFTPFollowMaster: the data connection of a NATed session is NATed
// like its master when it is created, and reaches the real host.
func TestFTPFollowMaster(t *testing.T) {
	tb, clk := newTestTable(t, Config{})
	now := clk.now
	// The client cli is masqueraded to rtr.
	m := ftpMaster(t, tb, now, 40600, func(c *Conn) {
		r := NATRange{Flags: NATMapIPs, MinAddr: ip(rtr), MaxAddr: ip(rtr)}
		tb.SetupNAT(c, &r, ManipSrc, now)
	})
	tb.Help(m, ftpPkt(Established, 1001, "USER a\r\n", nil, now))
	fm := &fakeMangler{data: []byte("PORT 198,18,0,1,195,80\r\n")}
	if v, msg := tb.Help(m, ftpPkt(Established, 1009, string(fm.data), fm, now)); v != Accept {
		t.Fatalf("PORT: %v %s", v, msg)
	}
	// The server connects from port 20 to the address and port the
	// rewritten command gave it.
	c, info, _ := pass(tb, seg(tcp, srv, rtr, 20, 50000, SYN).sa(9000, 0), now)
	if c == nil || info != Related {
		t.Fatalf("data connection: %v %v", c, info)
	}
	st := c.Status()
	for _, b := range []Status{StatusExpected, StatusSrcNATDone, StatusDstNATDone, StatusDstNAT} {
		if st&b == 0 {
			t.Errorf("child status %v lacks %v", st, b)
		}
	}
	if got, want := c.Tuple(Reply).String(), "src=198.18.0.1 dst=198.18.0.2 sport=50000 dport=20"; got != want {
		t.Errorf("child reply tuple %s, want %s", got, want)
	}
	if c.Master() != m || c.Helper() != "" {
		t.Errorf("child master %v helper %q", c.Master() == m, c.Helper())
	}
}
