package ruleset

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
	"github.com/gofw/gofw/target"
)

// helperRules is the router of the helper tests: helpers attached in the
// raw table as modern kernels require, a forwarding filter that lets
// through only new control connections and packets of known connections,
// so a data connection passes only if it is RELATED, and nat rules per
// test.
func helperRules(nat string) string {
	return `*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p tcp --dport 21 -j CT --helper ftp
-A PREROUTING -p udp --dport 69 -j CT --helper tftp
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
` + nat + `COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -p tcp --dport 21 -m conntrack --ctstate NEW -j ACCEPT
-A FORWARD -p udp --dport 69 -m conntrack --ctstate NEW -j ACCEPT
COMMIT
`
}

// helperNow is the clock of the helper tests.
const helperNow = int64(5000 * time.Second)

// tcpEnd is one end of a TCP connection as the host itself sees it: the
// address it sends from and to, the interfaces its packets cross the
// router by, and its own sequence state (snd: next byte it sends, in its
// stream; rcv: next byte it expects, in the stream it receives).
type tcpEnd struct {
	name     string
	src, dst netip.AddrPort
	in, out  string
	snd, rcv uint32
}

// send has end a send one segment through the router to b. It checks
// that the segment arrives where b expects it in b's stream and
// acknowledges exactly what b sent (the sequence adjustment at work), that
// its checksums hold, and updates both ends. It returns the packet as it
// left the router and the verdict.
func send(t *testing.T, e *Engine, a, b *tcpEnd, flags uint8, data string, opts ...packet.BuildOpt) (*packet.Packet, target.Verdict) {
	t.Helper()
	ack := a.rcv
	if flags&packet.TCPAck == 0 {
		ack = 0
	}
	p := dgram(t, packet.BuildTCP(a.src, a.dst, flags, a.snd, ack, 65535, []byte(data), opts...), a.in, a.out)
	p.Now = helperNow
	v := forward(e, p)
	a.snd += uint32(len(data))
	if flags&(packet.TCPSyn|packet.TCPFin) != 0 {
		a.snd++
	}
	if v != target.Accept {
		return p, v
	}
	checksumsOK(t, a.name+" "+data, p)
	if want := netip.AddrPortFrom(p.Dst, p.DstPort); want != b.src {
		t.Errorf("%s %q delivered to %v, want %v", a.name, data, want, b.src)
	}
	if flags&packet.TCPSyn != 0 {
		b.rcv = p.Seq
	} else if p.Seq != b.rcv {
		t.Errorf("%s %q arrives at seq %d, %s expects %d", a.name, data, p.Seq, b.name, b.rcv)
	}
	if flags&packet.TCPAck != 0 && p.Ack != b.snd {
		t.Errorf("%s %q arrives acknowledging %d, %s sent up to %d", a.name, data, p.Ack, b.name, b.snd)
	}
	b.rcv = p.Seq + uint32(len(p.Payload()))
	if flags&(packet.TCPSyn|packet.TCPFin) != 0 {
		b.rcv++
	}
	return p, v
}

// ftpCase is one FTP session through the router.
type ftpCase struct {
	name string
	nat  string // nat table rules
	// The client and the server as each sees its own address and the
	// address it talks to.
	cli, cliSees, srv, srvSees netip.AddrPort
	// The command and what reaches its receiver.
	cmd, cmdArrives string
	passive         bool
	// Where the data connection is opened to, from where, and where it
	// must arrive.
	dataFrom, dataTo, dataArrives netip.AddrPort
	expect                        string // conntrack -L expect after the command ("" to skip)
}

func TestFTPHelperSessions(t *testing.T) {
	cli := ap("198.18.0.10", 40512)
	srv := ap("198.19.0.99", 21)
	cases := []ftpCase{
		// Without NAT: nothing is rewritten; the data connection is
		// RELATED; the expectation is listed as the kernel lists it.
		{name: "PORT", cli: cli, cliSees: srv, srv: srv, srvSees: cli,
			cmd: "PORT 198,18,0,10,195,80\r\n", cmdArrives: "PORT 198,18,0,10,195,80\r\n",
			dataFrom: ap("198.19.0.99", 20), dataTo: ap("198.18.0.10", 50000), dataArrives: ap("198.18.0.10", 50000),
			expect: "300 proto=6 src=198.19.0.99 dst=198.18.0.10 sport=0 dport=50000 mask-src=255.255.255.255 mask-dst=255.255.255.255 sport=0 dport=65535 master-src=198.18.0.10 master-dst=198.19.0.99 sport=40512 dport=21 class=0 helper=ftp"},
		{name: "EPRT", cli: cli, cliSees: srv, srv: srv, srvSees: cli,
			cmd: "EPRT |1|198.18.0.10|50001|\r\n", cmdArrives: "EPRT |1|198.18.0.10|50001|\r\n",
			dataFrom: ap("198.19.0.99", 20), dataTo: ap("198.18.0.10", 50001), dataArrives: ap("198.18.0.10", 50001)},
		{name: "PASV", passive: true, cli: cli, cliSees: srv, srv: srv, srvSees: cli,
			cmd: "227 Entering Passive Mode (198,19,0,99,195,82).\r\n", cmdArrives: "227 Entering Passive Mode (198,19,0,99,195,82).\r\n",
			dataFrom: ap("198.18.0.10", 40600), dataTo: ap("198.19.0.99", 50002), dataArrives: ap("198.19.0.99", 50002),
			expect: "300 proto=6 src=198.18.0.10 dst=198.19.0.99 sport=0 dport=50002 mask-src=255.255.255.255 mask-dst=255.255.255.255 sport=0 dport=65535 master-src=198.18.0.10 master-dst=198.19.0.99 sport=40512 dport=21 class=0 helper=ftp"},
		{name: "EPSV", passive: true, cli: cli, cliSees: srv, srv: srv, srvSees: cli,
			cmd: "229 Entering Extended Passive Mode (|||50003|)\r\n", cmdArrives: "229 Entering Extended Passive Mode (|||50003|)\r\n",
			dataFrom: ap("198.18.0.10", 40601), dataTo: ap("198.19.0.99", 50003), dataArrives: ap("198.19.0.99", 50003)},

		// MASQUERADE on wan0 (198.19.0.1): the client's PORT names the
		// router, one byte shorter; the server's data connection to the
		// router reaches the client.
		{name: "PORT masqueraded", nat: "-A POSTROUTING -o wan0 -j MASQUERADE\n",
			cli: cli, cliSees: srv, srv: srv, srvSees: ap("198.19.0.1", 40512),
			cmd: "PORT 198,18,0,10,195,80\r\n", cmdArrives: "PORT 198,19,0,1,195,80\r\n",
			dataFrom: ap("198.19.0.99", 20), dataTo: ap("198.19.0.1", 50000), dataArrives: ap("198.18.0.10", 50000)},
		{name: "EPRT masqueraded", nat: "-A POSTROUTING -o wan0 -j MASQUERADE\n",
			cli: cli, cliSees: srv, srv: srv, srvSees: ap("198.19.0.1", 40512),
			cmd: "EPRT |1|198.18.0.10|50001|\r\n", cmdArrives: "EPRT |1|198.19.0.1|50001|\r\n",
			dataFrom: ap("198.19.0.99", 20), dataTo: ap("198.19.0.1", 50001), dataArrives: ap("198.18.0.10", 50001)},
		// Passive through MASQUERADE: the 227 names the server and is
		// left alone; the client's data connection is masqueraded like
		// its master.
		{name: "PASV masqueraded", passive: true, nat: "-A POSTROUTING -o wan0 -j MASQUERADE\n",
			cli: cli, cliSees: srv, srv: srv, srvSees: ap("198.19.0.1", 40512),
			cmd: "227 Entering Passive Mode (198,19,0,99,195,82).\r\n", cmdArrives: "227 Entering Passive Mode (198,19,0,99,195,82).\r\n",
			dataFrom: ap("198.18.0.10", 40600), dataTo: ap("198.19.0.99", 50002), dataArrives: ap("198.19.0.99", 50002)},
		// SNAT to a longer address: the packet grows by four bytes.
		{name: "PORT SNAT grows", nat: "-A POSTROUTING -o wan0 -j SNAT --to-source 198.19.100.254\n",
			cli: cli, cliSees: srv, srv: srv, srvSees: ap("198.19.100.254", 40512),
			cmd: "PORT 198,18,0,10,195,80\r\n", cmdArrives: "PORT 198,19,100,254,195,80\r\n",
			dataFrom: ap("198.19.0.99", 20), dataTo: ap("198.19.100.254", 50000), dataArrives: ap("198.18.0.10", 50000)},

		// DNAT: the server 198.18.0.20 is published as 198.19.0.1:21.
		// Its 227 names its private address and is rewritten to the
		// public one; the client's data connection reaches the server.
		{name: "PASV DNAT", passive: true, nat: "-A PREROUTING -i wan0 -d 198.19.0.1 -p tcp --dport 21 -j DNAT --to-destination 198.18.0.20\n",
			cli: ap("198.19.5.5", 40512), cliSees: ap("198.19.0.1", 21), srv: ap("198.18.0.20", 21), srvSees: ap("198.19.5.5", 40512),
			cmd: "227 Entering Passive Mode (198,18,0,20,195,82).\r\n", cmdArrives: "227 Entering Passive Mode (198,19,0,1,195,82).\r\n",
			dataFrom: ap("198.19.5.5", 40600), dataTo: ap("198.19.0.1", 50002), dataArrives: ap("198.18.0.20", 50002)},
		{name: "EPSV DNAT", passive: true, nat: "-A PREROUTING -i wan0 -d 198.19.0.1 -p tcp --dport 21 -j DNAT --to-destination 198.18.0.20\n",
			cli: ap("198.19.5.5", 40512), cliSees: ap("198.19.0.1", 21), srv: ap("198.18.0.20", 21), srvSees: ap("198.19.5.5", 40512),
			cmd: "229 Entering Extended Passive Mode (|||50003|)\r\n", cmdArrives: "229 Entering Extended Passive Mode (|||50003|)\r\n",
			dataFrom: ap("198.19.5.5", 40601), dataTo: ap("198.19.0.1", 50003), dataArrives: ap("198.18.0.20", 50003)},
		// Active mode to the published server: the client's PORT is
		// true already; the server's data connection leaves with the
		// public address as its source.
		{name: "PORT DNAT", nat: "-A PREROUTING -i wan0 -d 198.19.0.1 -p tcp --dport 21 -j DNAT --to-destination 198.18.0.20\n",
			cli: ap("198.19.5.5", 40512), cliSees: ap("198.19.0.1", 21), srv: ap("198.18.0.20", 21), srvSees: ap("198.19.5.5", 40512),
			cmd: "PORT 198,19,5,5,195,80\r\n", cmdArrives: "PORT 198,19,5,5,195,80\r\n",
			dataFrom: ap("198.18.0.20", 20), dataTo: ap("198.19.5.5", 50000), dataArrives: ap("198.19.5.5", 50000)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runFTPCase(t, tc) })
	}
}

// ifacesOf returns the interfaces a packet from a to b crosses: in by
// a's side, out by b's side (198.18.0.0/24 is behind lan0).
func ifacesOf(a netip.Addr) (in, out string) {
	if netip.MustParsePrefix("198.18.0.0/24").Contains(a) {
		return "lan0", "wan0"
	}
	return "wan0", "lan0"
}

func runFTPCase(t *testing.T, tc ftpCase) {
	e := natEngine(t, helperRules(tc.nat))
	c := &tcpEnd{name: "client", src: tc.cli, dst: tc.cliSees, snd: 1000}
	s := &tcpEnd{name: "server", src: tc.srv, dst: tc.srvSees, snd: 9000}
	c.in, c.out = ifacesOf(tc.cli.Addr())
	s.in, s.out = ifacesOf(tc.srv.Addr())
	steps := []struct {
		from, to *tcpEnd
		flags    uint8
		data     string
	}{
		{c, s, packet.TCPSyn, ""},
		{s, c, packet.TCPSyn | packet.TCPAck, ""},
		{c, s, packet.TCPAck, ""},
		// Each side's first segment is never parsed (line-start rule).
		{s, c, packet.TCPAck | packet.TCPPsh, "220 ready\r\n"},
		{c, s, packet.TCPAck | packet.TCPPsh, "USER anonymous\r\n"},
		{s, c, packet.TCPAck | packet.TCPPsh, "331 password\r\n"},
	}
	if tc.passive {
		steps = append(steps, struct {
			from, to *tcpEnd
			flags    uint8
			data     string
		}{c, s, packet.TCPAck | packet.TCPPsh, "PASV\r\n"})
	}
	for _, st := range steps {
		if _, v := send(t, e, st.from, st.to, st.flags, st.data); v != target.Accept {
			t.Fatalf("%s %q: %v", st.from.name, st.data, v)
		}
	}
	// The command.
	from, to := c, s
	if tc.passive {
		from, to = s, c
	}
	p, v := send(t, e, from, to, packet.TCPAck|packet.TCPPsh, tc.cmd)
	if v != target.Accept {
		t.Fatalf("command: %v", v)
	}
	if got := string(p.Payload()); got != tc.cmdArrives {
		t.Errorf("command arrives as %q, want %q", got, tc.cmdArrives)
	}
	if tc.expect != "" {
		l := e.CT.ListExpect(helperNow)
		if len(l) != 1 || string(l[0].AppendText(nil)) != tc.expect {
			var got []string
			for _, x := range l {
				got = append(got, string(x.AppendText(nil)))
			}
			t.Errorf("conntrack -L expect:\n got %q\nwant %q", got, tc.expect)
		}
	}
	// The rest of the session, both ways, across the resize: every
	// segment must arrive in sequence and acknowledge what was sent.
	for _, st := range []struct {
		from, to *tcpEnd
		data     string
	}{
		{to, from, "150 here it comes\r\n"},
		{from, to, "226 done\r\n"},
		{c, s, "QUIT\r\n"},
		{s, c, "221 bye\r\n"},
	} {
		if _, v := send(t, e, st.from, st.to, packet.TCPAck|packet.TCPPsh, st.data); v != target.Accept {
			t.Fatalf("%s %q: %v", st.from.name, st.data, v)
		}
	}
	// A SACK for data the server has not got yet (a hole at 100 bytes
	// ahead) is moved into the client's stream like the ACK.
	grow := int32(len(tc.cmdArrives) - len(tc.cmd))
	left, right := s.rcv+100, s.rcv+200
	sp, v := send(t, e, s, c, packet.TCPAck, "", packet.WithSACK(left, right))
	if v != target.Accept {
		t.Fatalf("SACK: %v", v)
	}
	q := &packet.Packet{}
	packet.Decode(sp.Data, q)
	if tc.passive {
		grow = 0 // the server's own stream was resized, not the client's
	}
	if got, want := q.TCPSACK(0), right-uint32(grow); got != want {
		t.Errorf("SACK right edge arrives as %d, want %d", got, want)
	}
	// The data connection: RELATED through the filter, delivered to the
	// real host.
	dp := dgram(t, packet.BuildTCP(tc.dataFrom, tc.dataTo, packet.TCPSyn, 77, 0, 65535, nil), "", "")
	dp.InIface, dp.OutIface = ifacesOf(tc.dataFrom.Addr())
	dp.Now = helperNow
	if v := forward(e, dp); v != target.Accept {
		t.Fatalf("data connection %v>%v: %v", tc.dataFrom, tc.dataTo, v)
	}
	if dp.CtInfo != conntrack.Related || dp.Conn.Status()&conntrack.StatusExpected == 0 {
		t.Errorf("data connection: %v, status %v; want RELATED, EXPECTED", dp.CtInfo, dp.Conn.Status())
	}
	if got := netip.AddrPortFrom(dp.Dst, dp.DstPort); got != tc.dataArrives {
		t.Errorf("data connection delivered to %v, want %v", got, tc.dataArrives)
	}
	checksumsOK(t, "data SYN", dp)
	if n := e.CT.ExpectCount(); n != 0 {
		t.Errorf("%d expectations left after the data connection", n)
	}
}

// TestFTPHelperDrops: a partial command is dropped with the kernel's log
// line, and its retransmission, whole, gets through.
func TestFTPHelperDrops(t *testing.T) {
	e := natEngine(t, helperRules(""))
	var logged []string
	e.Env.Log = func(line string) { logged = append(logged, line) }
	c := &tcpEnd{name: "client", src: ap("198.18.0.10", 40512), dst: ap("198.19.0.99", 21), in: "lan0", out: "wan0", snd: 1000}
	s := &tcpEnd{name: "server", src: ap("198.19.0.99", 21), dst: ap("198.18.0.10", 40512), in: "wan0", out: "lan0", snd: 9000}
	send(t, e, c, s, packet.TCPSyn, "")
	send(t, e, s, c, packet.TCPSyn|packet.TCPAck, "")
	send(t, e, c, s, packet.TCPAck, "")
	send(t, e, c, s, packet.TCPAck|packet.TCPPsh, "USER a\r\n")
	snd := c.snd
	tr := &Trace{}
	p := dgram(t, packet.BuildTCP(c.src, c.dst, packet.TCPAck|packet.TCPPsh, snd, c.rcv, 65535, []byte("PORT 198,18,0,10,1")), "lan0", "wan0")
	p.Now = helperNow
	var v target.Verdict
	for _, h := range []packet.Hook{packet.Prerouting, packet.Forward, packet.Postrouting} {
		if v = e.Hook(p, h, tr); v != target.Accept {
			break
		}
	}
	if v != target.Drop {
		t.Fatalf("partial PORT: %v, want DROP", v)
	}
	want := fmt.Sprintf("nf_ct_ftp: dropping packet: partial matching of `PORT' IN= OUT= SRC=198.18.0.10 DST=198.19.0.99 LEN=58 TOS=0x00 PREC=0x00 TTL=64 ID=1 PROTO=TCP SPT=40512 DPT=21 SEQ=%d ACK=%d WINDOW=65535 RES=0x00 ACK PSH URGP=0 ", snd, c.rcv)
	if len(logged) != 1 || logged[0] != want {
		t.Errorf("log:\n got %q\nwant %q", logged, want)
	}
	if n := len(tr.Steps); n == 0 || tr.Steps[n-1].Note != "dropped: nf_ct_ftp: dropping packet: partial matching of `PORT'" {
		t.Errorf("trace does not say why: %+v", tr.Steps)
	}
	if _, v := send(t, e, c, s, packet.TCPAck|packet.TCPPsh, "PORT 198,18,0,10,0,20\r\n"); v != target.Accept {
		t.Fatalf("retransmission: %v", v)
	}
	if n := e.CT.ExpectCount(); n != 1 {
		t.Errorf("%d expectations after the retransmission, want 1", n)
	}
}

// TestTFTPHelperSessions: a TFTP read through the helper, with and without
// MASQUERADE: the server answers from a fresh port, RELATED, and the
// answer reaches the client.
func TestTFTPHelperSessions(t *testing.T) {
	cli, srv := ap("198.18.0.10", 42069), ap("198.19.0.99", 69)
	for _, tc := range []struct {
		name, nat string
		seenAs    netip.AddrPort // the client as the server sees it
	}{
		{"plain", "", cli},
		{"masqueraded", "-A POSTROUTING -o wan0 -j MASQUERADE\n", ap("198.19.0.1", 42069)},
	} {
		e := natEngine(t, helperRules(tc.nat))
		rrq := dgram(t, packet.BuildUDP(cli, srv, []byte("\x00\x01file\x00octet\x00")), "lan0", "wan0")
		rrq.Now = helperNow
		if v := forward(e, rrq); v != target.Accept {
			t.Fatalf("%s: RRQ %v", tc.name, v)
		}
		if got := netip.AddrPortFrom(rrq.Src, rrq.SrcPort); got != tc.seenAs {
			t.Errorf("%s: RRQ leaves from %v, want %v", tc.name, got, tc.seenAs)
		}
		want := fmt.Sprintf("300 proto=17 src=198.19.0.99 dst=%v sport=0 dport=%d mask-src=255.255.255.255 mask-dst=255.255.255.255 sport=0 dport=65535 master-src=198.18.0.10 master-dst=198.19.0.99 sport=42069 dport=69 class=0 helper=tftp",
			tc.seenAs.Addr(), tc.seenAs.Port())
		if l := e.CT.ListExpect(helperNow); len(l) != 1 || string(l[0].AppendText(nil)) != want {
			t.Errorf("%s: conntrack -L expect %v, want %q", tc.name, l, want)
		}
		data := dgram(t, packet.BuildUDP(ap("198.19.0.99", 50069), tc.seenAs, []byte("\x00\x03\x00\x01hello")), "wan0", "lan0")
		data.Now = helperNow
		if v := forward(e, data); v != target.Accept || data.CtInfo != conntrack.Related {
			t.Fatalf("%s: DATA %v %v", tc.name, v, data.CtInfo)
		}
		if got := netip.AddrPortFrom(data.Dst, data.DstPort); got != cli {
			t.Errorf("%s: DATA delivered to %v, want %v", tc.name, got, cli)
		}
		checksumsOK(t, tc.name+" DATA", data)
		ack := dgram(t, packet.BuildUDP(cli, ap("198.19.0.99", 50069), []byte("\x00\x04\x00\x01")), "lan0", "wan0")
		ack.Now = helperNow
		if v := forward(e, ack); v != target.Accept || ack.CtInfo != conntrack.EstablishedReply {
			t.Fatalf("%s: ACK %v %v", tc.name, v, ack.CtInfo)
		}
		if got := netip.AddrPortFrom(ack.Src, ack.SrcPort); got != tc.seenAs {
			t.Errorf("%s: ACK leaves from %v, want %v", tc.name, got, tc.seenAs)
		}
	}
}

// TestHelperConfirmNoAllocs: a packet of a sequence-adjusted FTP control
// connection (helper, adjustment, confirm) allocates nothing.
func TestHelperConfirmNoAllocs(t *testing.T) {
	e := natEngine(t, helperRules("-A POSTROUTING -o wan0 -j MASQUERADE\n"))
	c := &tcpEnd{name: "client", src: ap("198.18.0.10", 40512), dst: ap("198.19.0.99", 21), in: "lan0", out: "wan0", snd: 1000}
	s := &tcpEnd{name: "server", src: ap("198.19.0.99", 21), dst: ap("198.19.0.1", 40512), in: "wan0", out: "lan0", snd: 9000}
	send(t, e, c, s, packet.TCPSyn, "")
	send(t, e, s, c, packet.TCPSyn|packet.TCPAck, "")
	send(t, e, c, s, packet.TCPAck, "")
	send(t, e, c, s, packet.TCPAck|packet.TCPPsh, "USER a\r\n")
	send(t, e, c, s, packet.TCPAck|packet.TCPPsh, "PORT 198,18,0,10,195,80\r\n")
	m := e.CT.ListExpect(helperNow)
	if len(m) != 1 {
		t.Fatalf("expectations %d", len(m))
	}
	b := packet.BuildTCP(s.src, s.dst, packet.TCPAck, s.snd, s.rcv, 65535, nil, packet.WithSACK(s.rcv+10, s.rcv+20))
	buf := make([]byte, len(b), len(b)+64)
	p := &packet.Packet{}
	hooks := []packet.Hook{packet.Prerouting, packet.Forward, packet.Postrouting}
	allocs := testing.AllocsPerRun(100, func() {
		copy(buf, b)
		p.ResetMeta()
		packet.Decode(buf[:len(b)], p)
		p.InIface, p.OutIface, p.Now = "wan0", "lan0", helperNow
		for _, h := range hooks {
			e.Hook(p, h, nil)
		}
	})
	if allocs != 0 {
		t.Errorf("allocs per packet = %v, want 0", allocs)
	}
	if !strings.HasPrefix(m[0].Tuple.String(), "src=198.19.0.99 dst=198.19.0.1") || p.Ack != c.snd {
		t.Errorf("expectation %v, ACK arrives as %d (client sent up to %d)", m[0].Tuple, p.Ack, c.snd)
	}
}

// TestFTPHelperKernelRun replays a session measured on Linux 6.18
// (iptables-legacy 1.8.9, conntrack 1.4.7) in three network namespaces:
// client 198.18.100.1 behind a router masquerading on hr1
// (198.18.101.254), server 198.18.101.1, "-t raw -A PREROUTING -p tcp
// --dport 21 -j CT --helper ftp". The kernel delivered the client's PORT
// as "PORT 198,18,101,254,195,81", listed the expectation and, after the
// server's data connection, the two entries below (timeouts and counters
// aside).
func TestFTPHelperKernelRun(t *testing.T) {
	var out strings.Builder
	rs, err := Restore(New(), strings.NewReader(helperRules("-A POSTROUTING -o hr1 -j MASQUERADE\n")), RestoreOptions{}, &out)
	if err != nil {
		t.Fatal(err)
	}
	e := NewEngine(conntrack.NewTable(conntrack.Config{}), &match.Env{Host: match.NewHost([]match.Iface{
		{Name: "hr0", Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("198.18.100.254/24")}},
		{Name: "hr1", Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("198.18.101.254/24")}},
	})})
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	c := &tcpEnd{name: "client", src: ap("198.18.100.1", 49218), dst: ap("198.18.101.1", 21), in: "hr0", out: "hr1", snd: 1000}
	s := &tcpEnd{name: "server", src: ap("198.18.101.1", 21), dst: ap("198.18.101.254", 49218), in: "hr1", out: "hr0", snd: 9000}
	send(t, e, c, s, packet.TCPSyn, "")
	send(t, e, s, c, packet.TCPSyn|packet.TCPAck, "")
	send(t, e, c, s, packet.TCPAck, "")
	send(t, e, s, c, packet.TCPAck|packet.TCPPsh, "220 ready\r\n")
	send(t, e, c, s, packet.TCPAck|packet.TCPPsh, "USER anonymous\r\n")
	p, _ := send(t, e, c, s, packet.TCPAck|packet.TCPPsh, "PORT 198,18,100,1,195,81\r\n")
	if got, want := string(p.Payload()), "PORT 198,18,101,254,195,81\r\n"; got != want {
		t.Errorf("server got %q, kernel delivered %q", got, want)
	}
	l := e.CT.ListExpect(helperNow + int64(time.Second))
	want := "299 proto=6 src=198.18.101.1 dst=198.18.101.254 sport=0 dport=50001 mask-src=255.255.255.255 mask-dst=255.255.255.255 sport=0 dport=65535 master-src=198.18.100.1 master-dst=198.18.101.1 sport=49218 dport=21 class=0 helper=ftp"
	if len(l) != 1 || string(l[0].AppendText(nil)) != want {
		t.Errorf("conntrack -L expect %v\nkernel %q", l, want)
	}
	master := p.Conn
	send(t, e, s, c, packet.TCPAck|packet.TCPPsh, "200 PORT ok\r\n")
	d := dgram(t, packet.BuildTCP(ap("198.18.101.1", 20), ap("198.18.101.254", 50001), packet.TCPSyn, 5, 0, 65535, nil), "hr1", "hr0")
	d.Now = helperNow
	if v := forward(e, d); v != target.Accept || d.CtInfo != conntrack.Related {
		t.Fatalf("data SYN: %v %v", v, d.CtInfo)
	}
	for _, x := range []struct {
		c    *conntrack.Conn
		want string
	}{
		{master, "src=198.18.100.1 dst=198.18.101.1 sport=49218 dport=21 src=198.18.101.1 dst=198.18.101.254 sport=21 dport=49218"},
		{d.Conn, "src=198.18.101.1 dst=198.18.101.254 sport=20 dport=50001 src=198.18.100.1 dst=198.18.101.1 sport=50001 dport=20"},
	} {
		if got := x.c.Tuple(conntrack.Original).String() + " " + x.c.Tuple(conntrack.Reply).String(); got != x.want {
			t.Errorf("entry %s\nkernel %s", got, x.want)
		}
	}
	if master.Helper() != "ftp" || d.Conn.Helper() != "" {
		t.Errorf("helpers %q / %q, kernel: helper=ftp on the master only", master.Helper(), d.Conn.Helper())
	}
}
