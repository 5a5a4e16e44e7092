package datapath

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"strconv"
	"testing"

	"github.com/gofw/gofw/packet"
)

// nlPacketMsg wraps the attributes of an NFQNL_MSG_PACKET (nfqMsg) in its
// netlink and nfgenmsg headers, as one read returns it.
func nlPacketMsg(attrs []byte) []byte {
	b := make([]byte, nlmsgHdrLen+nfgenHdrLen, nlmsgHdrLen+nfgenHdrLen+len(attrs)+3)
	binary.NativeEndian.PutUint16(b[4:], nfnlSubsysQueue<<8|nfqnlMsgPacket)
	b = append(b, attrs...)
	binary.NativeEndian.PutUint32(b, uint32(len(b)))
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// TestBurstVerdictOrder: the verdicts of one burst go out in the order of
// the packets. The kernel reinjects a batch verdict's packets when it
// reads that message, so a batch sent after a packet's own verdict lets
// the earlier plain packets out behind it; a TCP receiver then finds the
// late ACK out of window and answers a duplicate ACK (TestE2EFTP's
// counters caught one after a PASV reply the ftp helper rewrote). Each
// row is a burst, one letter a packet: p a plain ACCEPT, m one whose mark
// changes (a verdict of its own); the want lists the messages, b for a
// batch up to the id and v for a single verdict.
func TestBurstVerdictOrder(t *testing.T) {
	d, _ := testDatapath(t, Config{}, "*mangle\n:PREROUTING ACCEPT [0:0]\n"+
		"-A PREROUTING -p udp -m udp --dport 9 -j MARK --set-mark 0x1\nCOMMIT\n")
	cli := netip.MustParseAddrPort("198.18.0.9:40000")
	pkt := map[byte][]byte{
		'p': packet.BuildUDP(cli, netip.MustParseAddrPort("198.18.0.1:8"), []byte("plain")),
		'm': packet.BuildUDP(cli, netip.MustParseAddrPort("198.18.0.1:9"), []byte("marked")),
	}
	for _, r := range []struct {
		burst string
		want  []string
	}{
		{"ppp", []string{"b3"}},
		{"m", []string{"v1"}},
		{"pm", []string{"b1", "v2"}},
		{"pmp", []string{"b1", "v2", "b3"}},
		{"mpp", []string{"v1", "b3"}},
		{"ppmmpm", []string{"b2", "v3", "v4", "b5", "v6"}},
	} {
		q := &nfq{d: d, num: 0, fd: -1, out: make([]byte, 0, 4096)}
		q.w.d = d
		q.begin()
		// One packet per read, as the kernel delivers them.
		for i, c := range []byte(r.burst) {
			q.read(nlPacketMsg(nfqMsg(uint32(i+1), packet.Prerouting, 2, 0, pkt[c])))
		}
		q.appendBatch()
		var got []string
		for b := q.out; len(b) >= nlmsgHdrLen+nfgenHdrLen+12; {
			l := int(binary.NativeEndian.Uint32(b))
			kind := map[uint16]string{nfnlSubsysQueue<<8 | nfqnlMsgVerdict: "v", nfnlSubsysQueue<<8 | nfqnlMsgVerdictBatch: "b"}[binary.NativeEndian.Uint16(b[4:])]
			// The first attribute is the verdict header: verdict, id.
			id := binary.BigEndian.Uint32(b[nlmsgHdrLen+nfgenHdrLen+8:])
			got = append(got, kind+strconv.Itoa(int(id)))
			b = b[min(align4(l), len(b)):]
		}
		if !slices.Equal(got, r.want) {
			t.Errorf("burst %s: verdict messages %v, want %v", r.burst, got, r.want)
		}
	}
}
