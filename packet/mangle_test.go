package packet

import (
	"bytes"
	"testing"
)

// reDecode decodes a copy of p.Data and checks that the fresh decode agrees
// with p and that every checksum is right.
func reDecode(t *testing.T, what string, p *Packet) *Packet {
	t.Helper()
	q := &Packet{}
	if r := Decode(append([]byte(nil), p.Data...), q); r != ReasonNone {
		t.Fatalf("%s: re-decode: %v", what, r)
	}
	c := *p
	c.Changed = false
	if got, want := dump(&c), dump(q); got != want {
		t.Errorf("%s: fields after rewrite\n got %s\nwant %s (fresh decode)", what, got, want)
	}
	if !q.HeaderChecksumOK() || !q.ChecksumOK() {
		t.Errorf("%s: bad checksum after rewrite", what)
	}
	return q
}

// TestMangle: a payload rewrite that shrinks, keeps or grows the packet
// leaves a datagram whose lengths and checksums are right, as
// nf_nat_mangle_tcp_packet / nf_nat_mangle_udp_packet leave it.
func TestMangle(t *testing.T) {
	cli, srv := ap("198.18.0.10", 40000), ap("198.19.0.1", 21)
	cli6, srv6 := ap("fd00::10", 40000), ap("fd00::1:1", 21)
	port := []byte("PORT 198,18,0,10,195,80\r\n")
	tcp4 := BuildTCP(cli, srv, TCPAck|TCPPsh, 1000, 2000, 502, port, WithDF())
	tcp6 := BuildTCP(cli6, srv6, TCPAck|TCPPsh, 1000, 2000, 502, port)
	udp4 := BuildUDP(cli, srv, []byte("\x00\x01file\x00octet\x00"))
	udp0 := BuildUDP(cli, srv, []byte("\x00\x01file\x00octet\x00"), WithNoUDPChecksum())
	rows := []struct {
		name     string
		pkt      []byte
		spare    int // extra capacity behind the datagram
		off, n   int // relative to the payload
		repl     string
		want     string // payload after
		wantCopy bool   // the datagram had to move to a new array
	}{
		// TCP, the FTP NAT cases: shorter, same length, longer.
		{"tcp shrink", tcp4, 0, 5, 18, "198,19,0,1,195,80", "PORT 198,19,0,1,195,80\r\n", false},
		{"tcp same", tcp4, 0, 5, 18, "198,19,0,10,19,80", "PORT 198,19,0,10,19,80\r\n", false},
		{"tcp grow in place", tcp4, 16, 5, 18, "198,19,100,254,195,80", "PORT 198,19,100,254,195,80\r\n", false},
		{"tcp grow, copy", tcp4, 0, 5, 18, "198,19,100,254,195,80", "PORT 198,19,100,254,195,80\r\n", true},
		{"tcp at the end", tcp4, 0, 23, 2, "\n", "PORT 198,18,0,10,195,80\n", false},
		{"tcp6 grow", tcp6, 0, 5, 18, "198,19,100,254,195,80", "PORT 198,19,100,254,195,80\r\n", true},
		// UDP: the length field follows; a zero checksum stays zero.
		{"udp grow", udp4, 0, 2, 4, "longer-name", "\x00\x01longer-name\x00octet\x00", true},
		{"udp no checksum", udp0, 0, 2, 4, "f", "\x00\x01f\x00octet\x00", false},
	}
	for _, r := range rows {
		buf := make([]byte, len(r.pkt), len(r.pkt)+r.spare)
		copy(buf, r.pkt)
		p := &Packet{}
		if rs := Decode(buf, p); rs != ReasonNone {
			t.Fatalf("%s: decode: %v", r.name, rs)
		}
		oldCsum := be16(p.Data[p.L4Off+6:])
		if !p.Mangle(p.PayloadOff+r.off, r.n, []byte(r.repl)) {
			t.Errorf("%s: Mangle refused", r.name)
			continue
		}
		if got := string(p.Payload()); got != r.want {
			t.Errorf("%s: payload %q, want %q", r.name, got, r.want)
		}
		if moved := &p.Data[0] != &buf[0]; moved != r.wantCopy {
			t.Errorf("%s: datagram moved %v, want %v", r.name, moved, r.wantCopy)
		}
		if p.TotalLen != len(p.Data) || !p.Changed {
			t.Errorf("%s: TotalLen %d len %d Changed %v", r.name, p.TotalLen, len(p.Data), p.Changed)
		}
		q := reDecode(t, r.name, p)
		if r.name == "udp no checksum" && be16(q.Data[q.L4Off+6:]) != 0 {
			t.Errorf("%s: checksum %#x, want it left at 0 (was %#x)", r.name, be16(q.Data[q.L4Off+6:]), oldCsum)
		}
	}
}

// TestMangleRefused: rewrites that would break the packet change nothing.
func TestMangleRefused(t *testing.T) {
	cli, srv := ap("198.18.0.10", 40000), ap("198.19.0.1", 21)
	tcp := BuildTCP(cli, srv, TCPAck, 1, 2, 502, []byte("PORT 1,2,3,4,5,6\r\n"))
	frag := BuildTCP(cli, srv, TCPAck, 1, 2, 502, []byte("PORT 1,2,3,4,5,6\r\n"), WithFrag(0, true))
	icmp := BuildICMP(cli.Addr(), srv.Addr(), 8, 0, 1, 1, []byte("payload"))
	big := make([]byte, 65535-40)
	huge := BuildTCP(cli, srv, TCPAck, 1, 2, 502, big)
	rows := []struct {
		name   string
		pkt    []byte
		off, n int // relative to the payload
		repl   string
	}{
		{"range starts in the header", tcp, -1, 2, "xx"},
		{"range ends past the packet", tcp, 10, 20, "x"},
		{"negative length", tcp, 2, -1, "x"},
		{"first fragment", frag, 0, 4, "EPRT"},
		{"icmp", icmp, 0, 2, "xx"},
		{"over 64 KiB", huge, 0, 1, "xx"},
	}
	for _, r := range rows {
		buf := append([]byte(nil), r.pkt...)
		p := &Packet{}
		Decode(buf, p)
		before := append([]byte(nil), p.Data...)
		if p.Mangle(p.PayloadOff+r.off, r.n, []byte(r.repl)) {
			t.Errorf("%s: Mangle accepted", r.name)
		}
		if !bytes.Equal(p.Data, before) || p.Changed {
			t.Errorf("%s: packet changed by a refused rewrite", r.name)
		}
	}
	// MangleTCPPayload is TCP only.
	u := &Packet{}
	Decode(BuildUDP(cli, srv, []byte("abcd")), u)
	if u.MangleTCPPayload(0, 1, []byte("x")) {
		t.Error("MangleTCPPayload accepted a UDP datagram")
	}
}

// TestSeqAckSACK: sequence, acknowledgment and SACK rewrites keep the TCP
// checksum right, whether the SACK blocks are aligned or not.
func TestSeqAckSACK(t *testing.T) {
	cli, srv := ap("198.18.0.10", 40000), ap("198.19.0.1", 21)
	shift := func(e uint32) uint32 { return e - 3 }
	odd := []byte{TCPOptNOP, TCPOptSACK, 18, 0, 0, 0x10, 0, 0, 0, 0x20, 0, 0, 0, 0x30, 0, 0, 0, 0x40, 0}
	rows := []struct {
		name      string
		pkt       []byte
		wantSACK  []uint32
		wantOK    bool
		wantEdges int // edges found after the rewrite at their new value
	}{
		{"aligned blocks", BuildTCP(cli, srv, TCPAck, 1000, 5000, 502, nil, WithSACK(100, 200, 300, 400)), []uint32{97, 197, 297, 397}, true, 4},
		{"odd offset blocks", BuildTCP(cli, srv, TCPAck, 1000, 5000, 502, nil, WithTCPOptions(odd)), []uint32{0x0ffd, 0x1ffd, 0x2ffd, 0x3ffd}, true, 4},
		{"no SACK", BuildTCP(cli, srv, TCPAck, 1000, 5000, 502, nil, WithMSS(1460)), nil, true, 0},
		{"partial option", BuildTCP(cli, srv, TCPAck, 1000, 5000, 502, nil, WithTCPOptions([]byte{TCPOptNOP, TCPOptMSS, 9, 1})), nil, false, 0},
	}
	for _, r := range rows {
		p := &Packet{}
		Decode(append([]byte(nil), r.pkt...), p)
		if !p.SetSeq(1010) || !p.SetAck(4990) {
			t.Fatalf("%s: SetSeq/SetAck refused", r.name)
		}
		if ok := p.MapSACK(shift); ok != r.wantOK {
			t.Errorf("%s: MapSACK %v, want %v", r.name, ok, r.wantOK)
		}
		q := reDecode(t, r.name, p)
		if q.Seq != 1010 || q.Ack != 4990 {
			t.Errorf("%s: seq %d ack %d", r.name, q.Seq, q.Ack)
		}
		found := 0
		for _, e := range r.wantSACK {
			var b [4]byte
			b[0], b[1], b[2], b[3] = byte(e>>24), byte(e>>16), byte(e>>8), byte(e)
			if bytes.Contains(q.TCPOptions(), b[:]) {
				found++
			}
		}
		if found != r.wantEdges {
			t.Errorf("%s: %d of the edges %v rewritten, want %d", r.name, found, r.wantSACK, r.wantEdges)
		}
	}
}

// TestMangleNoAllocs: the per-packet rewrites of a sequence-adjusted
// connection, and a payload rewrite that fits, do not allocate.
func TestMangleNoAllocs(t *testing.T) {
	cli, srv := ap("198.18.0.10", 40000), ap("198.19.0.1", 21)
	b := BuildTCP(cli, srv, TCPAck, 1000, 5000, 502, []byte("PORT 198,18,0,10,195,80\r\n"), WithSACK(100, 200))
	buf := make([]byte, len(b), len(b)+64)
	p := &Packet{}
	var off uint32 = 2
	allocs := testing.AllocsPerRun(100, func() {
		copy(buf[:len(b)], b)
		Decode(buf[:len(b)], p)
		p.SetSeq(p.Seq + off)
		p.SetAck(p.Ack - off)
		p.MapSACK(func(e uint32) uint32 { return e - off })
		p.MangleTCPPayload(5, 18, []byte("198,19,100,254,195,80"))
	})
	if allocs != 0 {
		t.Errorf("allocs per run = %v, want 0", allocs)
	}
}
