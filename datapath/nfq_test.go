package datapath

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
	"github.com/gofw/gofw/ruleset"
	"github.com/gofw/gofw/target"
)

// nfqMsg builds the attributes of an NFQNL_MSG_PACKET as the kernel sends
// them (nfqnl_build_packet_message): the last attribute unpadded.
func nfqMsg(id uint32, hook packet.Hook, in uint32, mark uint32, payload []byte) []byte {
	var b []byte
	hdr := make([]byte, 7)
	binary.BigEndian.PutUint32(hdr, id)
	binary.BigEndian.PutUint16(hdr[4:], 0x0800)
	hdr[6] = byte(hook)
	b = putAttr(b, nfqaPacketHdr, hdr)
	b = putAttr(b, nfqaMarkAttr, be32b(mark))
	b = putAttr(b, nfqaInDev, be32b(in))
	b = putAttr(b, nfqaHwAddr, []byte{0, 6, 0, 0, 1, 2, 3, 4, 5, 6, 0, 0})
	b = putAttr(b, nfqaUID, be32b(1000))
	b = putAttr(b, nfqaGID, be32b(100))
	b = putAttr(b, nfqaPayloadA, payload)
	// The kernel does not pad the last attribute of a message.
	return b[:len(b)-(4-len(payload)%4)%4]
}

func TestParsePacketMsg(t *testing.T) {
	pl := []byte{0x45, 0, 0, 21, 1, 2, 3, 4, 5}
	id, m, got, ok := parsePacketMsg(nfqMsg(77, packet.Postrouting, 3, 9, pl))
	if !ok || id != 77 || m.hook != packet.Postrouting || m.in != 3 || m.mark != 9 || !m.hasOwner || m.uid != 1000 || m.gid != 100 ||
		string(m.hwaddr) != "\x01\x02\x03\x04\x05\x06" || string(got) != string(pl) {
		t.Errorf("got id %d meta %+v payload %x ok %v", id, m, got, ok)
	}
	if _, _, _, ok := parsePacketMsg(nfqMsg(1, packet.Input, 0, 0, pl)[:8]); ok {
		t.Error("a message cut before its payload was accepted")
	}
}

// FuzzParsePacketMsg: the queue message parser never panics, and what it
// returns lies within its input.
func FuzzParsePacketMsg(f *testing.F) {
	f.Add(nfqMsg(1, packet.Prerouting, 2, 3, []byte{0x45, 0, 0, 20}))
	f.Add([]byte{8, 0, 1, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, m, pl, ok := parsePacketMsg(b)
		if ok && (len(pl) > len(b) || m.hook >= packet.NumHooks || len(m.hwaddr) > 8) {
			t.Fatalf("payload %d bytes of %d, hook %d, hwaddr %d", len(pl), len(b), m.hook, len(m.hwaddr))
		}
	})
}

// TestHandleNoAlloc backs the hot-path claim: parsing a queue message and
// running a packet of an established flow through its visit allocates
// nothing.
func TestHandleNoAlloc(t *testing.T) {
	d, _ := testDatapath(t, Config{}, "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"+
		"-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n")
	w := &worker{d: d}
	cli, srv := netip.MustParseAddrPort("198.18.0.9:40000"), netip.MustParseAddrPort("198.18.0.1:22")
	run := func(hook packet.Hook, in uint32, b []byte) verdict {
		_, m, pl, _ := parsePacketMsg(nfqMsg(1, hook, in, 0, b))
		return w.handle(pl, &m)
	}
	if v := run(packet.Prerouting, 2, packet.BuildTCP(cli, srv, packet.TCPSyn, 1, 0, 65535, nil)); v.v != target.Accept {
		t.Fatalf("SYN: %v", v.v)
	}
	if v := run(packet.Output, 0, packet.BuildTCP(srv, cli, packet.TCPSyn|packet.TCPAck, 9, 2, 65535, nil)); v.v != target.Accept {
		t.Fatalf("SYN-ACK: %v", v.v)
	}
	ack := nfqMsg(3, packet.Prerouting, 2, 0, packet.BuildTCP(cli, srv, packet.TCPAck, 2, 10, 65535, nil))
	n := testing.AllocsPerRun(200, func() {
		_, m, pl, _ := parsePacketMsg(ack)
		if v := w.handle(pl, &m); v.v != target.Accept {
			t.Fatalf("ACK: %v", v.v)
		}
	})
	if n != 0 {
		t.Errorf("established packet: %v allocations per visit, want 0", n)
	}
	if d.MergeOut.Load() {
		t.Error("MergeOut on by default")
	}
}

// BenchmarkHandle: one queue message of an established UDP flow, parsed and
// run through its PREROUTING+INPUT visit, as the reader does per packet.
func BenchmarkHandle(b *testing.B) {
	d, _ := testDatapath(b, Config{}, "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"+
		"-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A INPUT -p udp -m udp --dport 5201 -j ACCEPT\nCOMMIT\n")
	w := &worker{d: d}
	msg := nfqMsg(3, packet.Prerouting, 2, 0, packet.BuildUDP(netip.MustParseAddrPort("198.18.0.9:40000"), netip.MustParseAddrPort("198.18.0.1:5201"), make([]byte, 36)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_, m, pl, _ := parsePacketMsg(msg)
		if v := w.handle(pl, &m); v.v != target.Accept {
			b.Fatal(v.v)
		}
	}
}

// TestAppendVerdict checks the verdict messages on the wire: an NFQUEUE
// hand-off carries its queue number and bypass flag in the verdict word
// (NF_QUEUE_NR(n) | NF_VERDICT_FLAG_QUEUE_BYPASS), a changed mark and a
// rewritten packet ride along with ACCEPT, and a DROP carries nothing else.
func TestAppendVerdict(t *testing.T) {
	q := &nfq{num: 5}
	rows := []struct {
		v        verdict
		code     uint32
		mark     bool
		payload  bool
		wantType uint16
	}{
		{verdict{v: target.Accept}, 1, false, false, nfqnlMsgVerdict},
		{verdict{v: target.Drop, setMark: true, payload: []byte{1}}, 0, false, false, nfqnlMsgVerdict},
		{verdict{v: target.Queued, queueNum: 7, bypass: true}, 7<<16 | 0x8000 | 3, false, false, nfqnlMsgVerdict},
		{verdict{v: target.Accept, setMark: true, mark: 0x42, payload: []byte{0x45, 0, 0, 20}}, 1, true, true, nfqnlMsgVerdict},
	}
	for i, r := range rows {
		q.out = q.out[:0]
		q.appendVerdict(r.wantType, 99, &r.v)
		b := q.out
		if got := binary.NativeEndian.Uint32(b); int(got) != len(b) {
			t.Errorf("row %d: length %d, message %d bytes", i, got, len(b))
		}
		if typ := binary.NativeEndian.Uint16(b[4:]); typ != nfnlSubsysQueue<<8|r.wantType {
			t.Errorf("row %d: type %#x", i, typ)
		}
		if res := binary.BigEndian.Uint16(b[18:]); res != 5 {
			t.Errorf("row %d: res_id %d, want queue 5", i, res)
		}
		attrs := map[uint16][]byte{}
		for a := b[20:]; len(a) >= 4; {
			l := int(binary.NativeEndian.Uint16(a))
			attrs[binary.NativeEndian.Uint16(a[2:])] = a[4:l]
			a = a[min(align4(l), len(a)):]
		}
		h := attrs[nfqaVerdictHdr]
		if len(h) != 8 || binary.BigEndian.Uint32(h) != r.code || binary.BigEndian.Uint32(h[4:]) != 99 {
			t.Errorf("row %d: verdict header %x, want code %#x id 99", i, h, r.code)
		}
		if _, ok := attrs[nfqaMark]; ok != r.mark {
			t.Errorf("row %d: mark present %v, want %v", i, ok, r.mark)
		}
		if _, ok := attrs[nfqaPayload]; ok != r.payload {
			t.Errorf("row %d: payload present %v, want %v", i, ok, r.payload)
		}
	}
}

// TestRecvBurst reads several queued datagrams in one recvBurst, each into
// its own buffer with its own length, without allocating; the next call
// finds nothing queued and returns EAGAIN at the receive timeout. A unix
// datagram socket stands in for the netlink socket: recvmmsg treats both
// alike.
func TestRecvBurst(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	tv := unix.Timeval{Usec: 10000}
	if err := unix.SetsockoptTimeval(fds[0], unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	q := &nfq{fd: fds[0]}
	q.initBurst()
	sizes := []int{20, 1, msgBufLen - 1, 300}
	send := func() {
		for i, n := range sizes {
			b := make([]byte, n)
			b[0] = byte(i + 1)
			if _, err := unix.Write(fds[1], b); err != nil {
				t.Fatal(err)
			}
		}
	}
	send()
	n, err := q.recvBurst()
	if err != nil || n != len(sizes) {
		t.Fatalf("recvBurst = %d, %v; want %d messages", n, err, len(sizes))
	}
	for i, want := range sizes {
		if got := int(q.msgs[i].n); got != want || q.bufs[i][0] != byte(i+1) {
			t.Errorf("message %d: %d bytes starting %d, want %d starting %d", i, got, q.bufs[i][0], want, i+1)
		}
	}
	if n, err := q.recvBurst(); !errors.Is(err, unix.EAGAIN) {
		t.Errorf("empty queue: recvBurst = %d, %v; want EAGAIN", n, err)
	}
	// AllocsPerRun calls once more to warm up; a vector of len(sizes)
	// reads one send's worth per call.
	send()
	send()
	q.msgs = q.msgs[:len(sizes)]
	if a := testing.AllocsPerRun(1, func() {
		if n, err := q.recvBurst(); n != len(sizes) || err != nil {
			t.Errorf("second burst: %d, %v", n, err)
		}
	}); a != 0 {
		t.Errorf("recvBurst allocates %.0f times", a)
	}
}

// testDatapath is a datapath on rules (an iptables-restore input) with one
// interface, eth0 (index 2, 198.18.0.1/24), and no queue bound.
func testDatapath(tb testing.TB, cfg Config, rules string) (*Datapath, *ruleset.Ruleset) {
	tb.Helper()
	var out strings.Builder
	rs, err := ruleset.Restore(ruleset.New(), strings.NewReader(rules), ruleset.RestoreOptions{}, &out)
	if err != nil {
		tb.Fatal(err)
	}
	host := match.NewHost([]match.Iface{{Name: "eth0", Index: 2, Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("198.18.0.1/24")}}})
	eng := ruleset.NewEngine(conntrack.NewTable(conntrack.Config{}), &match.Env{Host: host})
	if err := eng.Load(rs); err != nil {
		tb.Fatal(err)
	}
	links := &Links{Host: host}
	names := map[uint32]string{2: "eth0"}
	links.names.Store(&names)
	return New(cfg, eng, links), rs
}
