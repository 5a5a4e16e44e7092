package datapath

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/gofw/gofw/packet"
	"github.com/gofw/gofw/target"
)

// capMsg is nfqMsg for a packet the kernel copied short: its first cut
// bytes, NFQA_CAP_LEN with its length, and the NFQA_SKB_INFO flags.
func capMsg(hook packet.Hook, in uint32, pkt []byte, cut int, skbInfo uint32) []byte {
	var b []byte
	hdr := make([]byte, 7)
	binary.BigEndian.PutUint16(hdr[4:], 0x0800)
	hdr[6] = byte(hook)
	b = putAttr(b, nfqaPacketHdr, hdr)
	b = putAttr(b, nfqaInDev, be32b(in))
	if skbInfo != 0 {
		b = putAttr(b, nfqaSkbInfo, be32b(skbInfo))
	}
	if cut < len(pkt) {
		b = putAttr(b, nfqaCapLen, be32b(uint32(len(pkt))))
	}
	return putAttr(b, nfqaPayloadA, pkt[:cut])
}

// TestHandleTruncated: with header-only copy, a packet copied short runs
// as the whole packet would: rule counters and the length match count its
// wire length, and conntrack tracks its whole payload (the server's ACK of
// all of it is in window, not INVALID). A short copy that cannot run so
// (copy mode back to full, headers past the cut, a checksum nobody
// verified) is handed on whole to the full-copy queue, untouched.
func TestHandleTruncated(t *testing.T) {
	d, rs := testDatapath(t, Config{Queue: 3}, "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"+
		"-A INPUT -p tcp -m length --length 1400 -j ACCEPT\n"+
		"-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n"+
		"-A OUTPUT -m conntrack --ctstate INVALID -j DROP\nCOMMIT\n")
	if rs.NeedsPayload() {
		t.Fatal("a filter ruleset of header matches needs payloads")
	}
	d.SetHeaders(true)
	w := &worker{d: d}
	run := func(msg []byte) verdict {
		_, m, pl, ok := parsePacketMsg(msg)
		if !ok {
			t.Fatal("message does not parse")
		}
		return w.handle(pl, &m)
	}
	cli, srv := netip.MustParseAddrPort("198.18.0.9:40000"), netip.MustParseAddrPort("198.18.0.1:22")
	syn := packet.BuildTCP(cli, srv, packet.TCPSyn, 1, 0, 65535, nil)
	if v := run(capMsg(packet.Prerouting, 2, syn, len(syn), 0)); v.v != target.Accept {
		t.Fatalf("SYN: %v", v.v)
	}
	synack := packet.BuildTCP(srv, cli, packet.TCPSyn|packet.TCPAck, 9, 2, 65535, nil)
	if v := run(capMsg(packet.Output, 0, synack, len(synack), 0)); v.v != target.Accept {
		t.Fatalf("SYN-ACK: %v", v.v)
	}
	data := packet.BuildTCP(cli, srv, packet.TCPAck|packet.TCPPsh, 2, 10, 65535, make([]byte, 1360))
	for i, c := range []struct {
		name    string
		headers bool
		cut     int
		skbInfo uint32
	}{
		{"copy mode full", false, HeaderCopy, 0},
		{"headers past the cut", true, 30, 0},
		{"checksum not verified", true, HeaderCopy, nfqaSkbCsumNotVerified},
	} {
		d.SetHeaders(c.headers)
		v := run(capMsg(packet.Prerouting, 2, data, c.cut, c.skbInfo))
		if v.v != target.Queued || v.queueNum != 4 || v.bypass || v.payload != nil || v.setMark {
			t.Errorf("%s: verdict %+v, want it handed on whole to queue 4", c.name, v)
		}
		if got := d.Stats.Refetched.Load(); got != uint64(i+1) {
			t.Errorf("%s: %d handed on, want %d", c.name, got, i+1)
		}
	}
	d.SetHeaders(true)
	if v := run(capMsg(packet.Prerouting, 2, data, HeaderCopy, nfqaSkbCsumNotReady)); v.v != target.Accept || v.payload != nil {
		t.Fatalf("data segment copied short: %+v", v)
	}
	ack := packet.BuildTCP(srv, cli, packet.TCPAck, 10, 2+1360, 65535, nil)
	if v := run(capMsg(packet.Output, 0, ack, len(ack), 0)); v.v != target.Accept {
		t.Errorf("the server's ACK of the whole segment: %v, want ACCEPT (conntrack saw %d bytes?)", v.v, 1360)
	}
	filter, _ := rs.Table("filter")
	in, _ := filter.Chain("INPUT")
	if pk, by := in.Rules[0].Counters.Packets.Load(), in.Rules[0].Counters.Bytes.Load(); pk != 1 || by != uint64(len(data)) {
		t.Errorf("length rule counted %d packets, %d bytes; want 1, %d", pk, by, len(data))
	}
}

// TestCheckQueues: NFQUEUE rules may hand packets to any queue but the ones
// gofwd reads itself: its diverted queues and, with header copy, its
// full-copy queue.
func TestCheckQueues(t *testing.T) {
	d, _ := testDatapath(t, Config{Queue: 4, Queues: 2}, "*filter\nCOMMIT\n") // reads 4, 5 and 6 (full copy)
	for _, r := range []struct {
		ranges [][2]uint16
		bad    string
	}{
		{nil, ""},
		{[][2]uint16{{0, 3}, {7, 9}}, ""},
		{[][2]uint16{{5, 5}}, "queue 5: gofwd reads queues 4-5"},
		{[][2]uint16{{0, 4}}, "queue 0:4: gofwd reads queues 4-5"},
		{[][2]uint16{{6, 6}}, "queue 6 is gofwd's full-copy queue"},
		{[][2]uint16{{6, 9}}, "queue 6 is gofwd's full-copy queue"},
	} {
		err := d.CheckQueues(r.ranges)
		if (err == nil) != (r.bad == "") || err != nil && !strings.Contains(err.Error(), r.bad) {
			t.Errorf("%v: %v, want %q", r.ranges, err, r.bad)
		}
	}
	full, _ := testDatapath(t, Config{Queue: 4, Queues: 2, Copy: "full"}, "*filter\nCOMMIT\n")
	if err := full.CheckQueues([][2]uint16{{6, 6}}); err != nil {
		t.Errorf("--copy full reads no full-copy queue, yet: %v", err)
	}
}
