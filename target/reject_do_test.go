package target

import (
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/gofw/gofw/packet"
)

// rejectIn is the packet of a REJECT test: built, decoded and given the
// metadata of its hook.
func rejectIn(t *testing.T, dg []byte, h packet.Hook, out string) *packet.Packet {
	t.Helper()
	p := &packet.Packet{}
	packet.Decode(dg, p) // malformed rows are part of the tests
	p.Hook, p.OutIface = h, out
	return p
}

// Addresses of the kernel capture: the sender A and the rejecting host B.
const rjA, rjB = "198.18.5.1", "198.18.5.2"

// kernelRejects are the replies Linux 6.18 sent (iptables-legacy 1.8.9,
// -j REJECT in INPUT of a network namespace, read with raw sockets in the
// sender's namespace over a veth pair) to the packets built here, which
// are the packets that were sent. The kernel's IP ID of an ICMP error comes
// from its per-destination counters (gofw leaves 0 for the raw socket to
// fill), and its RST left the TCP checksum to the NIC (CHECKSUM_PARTIAL:
// only the pseudo-header sum was on the veth); those two fields are
// compared apart.
var kernelRejects = []struct {
	name string
	with RejectWith
	in   func() []byte
	want string
}{
	{"syn, tcp-reset", RejectTCPReset, func() []byte {
		return packet.BuildTCP(ap(rjA, 40010), ap(rjB, 6001), packet.TCPSyn, 1000, 0, 64240, nil, packet.WithMSS(1460), packet.WithTOS(0x1c))
	}, "45000028000040004006a4a8c6120502c612050117719c4a00000000000003e95014000096420000"},
	{"ack with data, tcp-reset", RejectTCPReset, func() []byte {
		return packet.BuildTCP(ap(rjA, 40011), ap(rjB, 6001), packet.TCPAck|packet.TCPPsh, 5000, 777777, 100, []byte("payload!"))
	}, "45000028000040004006a4a8c6120502c612050117719c4b000bde31000000005004000096420000"},
	{"fin with data, tcp-reset", RejectTCPReset, func() []byte {
		return packet.BuildTCP(ap(rjA, 40012), ap(rjB, 6001), packet.TCPFin, 5000, 0, 100, []byte("abc"))
	}, "45000028000040004006a4a8c6120502c612050117719c4c000000000000138c5014000096420000"},
	{"echo request, port-unreachable", RejectPortUnreachable, func() []byte {
		return packet.BuildICMP(addr(rjA), addr(rjB), 8, 0, 0x77, 3, []byte("abcdefgh"))
	}, "45c000401dff00004001c5d6c6120502c61205010303fcfc0000000045000024000100004001e4b0c6120501c6120502080065f0007700036162636465666768"},
	{"udp, admin-prohibited", RejectAdminProhibited, func() []byte {
		return packet.BuildUDP(ap(rjA, 40021), ap(rjB, 6003), []byte("z"))
	}, "45c00039236500004001c077c6120502c6120501030d9335000000004500001d000100004011e4a7c6120501c61205029c55177300093beb7a"},
	{"udp without checksum", RejectPortUnreachable, func() []byte {
		return packet.BuildUDP(ap(rjA, 40023), ap(rjB, 6002), []byte("z"), packet.WithNoUDPChecksum())
	}, "45c0003923c000004001c01cc6120502c61205010303cf29000000004500001d000100004011e4a7c6120501c61205029c571772000900007a"},
	{"ip options are quoted, not echoed", RejectPortUnreachable, func() []byte {
		return packet.BuildUDP(ap(rjA, 40024), ap(rjB, 6002), []byte("o"), packet.WithIPOptions([]byte{1, 1, 1, 1}))
	}, "45c0003d247900004001bf5fc6120502c61205010303933f0000000046000021000100004011e1a1c6120501c6120502010101019c581772000946e96f"},
	{"large udp: 576 bytes, tos 0xfc gives 0xdc", RejectPortUnreachable, func() []byte {
		return packet.BuildUDP(ap(rjA, 40020), ap(rjB, 6002), make([]byte, 600), packet.WithTOS(0xfc), packet.WithDF())
	}, "45dc0240232f00004001be8ac6120502c6120501030395960000000045fc0274000140004011a154c6120501c61205029c5417720260b13f00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"},
}

// TestBuildRejectKernel compares BuildReject with what Linux sent.
func TestBuildRejectKernel(t *testing.T) {
	for _, tc := range kernelRejects {
		want, err := hex.DecodeString(tc.want)
		if err != nil {
			t.Fatal(err)
		}
		p := rejectIn(t, tc.in(), packet.Input, "")
		got, ok := BuildReject(p, uint8(tc.with), nil)
		if !ok {
			t.Errorf("%s: no reply, want one", tc.name)
			continue
		}
		if len(got) != len(want) {
			t.Errorf("%s: reply of %d bytes, want %d", tc.name, len(got), len(want))
			continue
		}
		w := append([]byte(nil), want...)
		if tc.with == RejectTCPReset {
			copy(w[36:38], got[36:38]) // the checksum the NIC would have filled
		} else {
			binary.BigEndian.PutUint16(w[4:], 0)
			binary.BigEndian.PutUint16(w[10:], 0)
			binary.BigEndian.PutUint16(w[10:], packet.Checksum(w[:20], 0))
		}
		if string(got) != string(w) {
			t.Errorf("%s:\n got %x\nwant %x", tc.name, got, w)
		}
		var r packet.Packet
		if reason := packet.Decode(got, &r); reason != packet.ReasonNone || !r.HeaderChecksumOK() || !r.ChecksumOK() {
			t.Errorf("%s: reply decodes as %v, header checksum ok %v, checksum ok %v", tc.name, reason, r.HeaderChecksumOK(), r.ChecksumOK())
		}
	}
}

// replyWant is what a decoded REJECT reply must hold, field by field.
type replyWant struct {
	src, dst  string
	proto     uint8
	tos       uint8
	df        bool
	ttl       uint8
	length    int
	icmpCode  uint8  // ICMP replies
	innerSP   uint16 // ICMP replies: the quoted ports
	innerDP   uint16
	sport     uint16 // RST replies
	dport     uint16
	seq, ack  uint32
	tcpFlags  uint8
	tcpWindow uint16
}

// checkReply decodes reply and compares every field with w.
func checkReply(t *testing.T, name string, orig *packet.Packet, reply []byte, w replyWant) {
	t.Helper()
	var r packet.Packet
	if reason := packet.Decode(reply, &r); reason != packet.ReasonNone {
		t.Errorf("%s: reply malformed: %v", name, reason)
		return
	}
	df := reply[6]&0x40 != 0
	if r.Src != addr(w.src) || r.Dst != addr(w.dst) || r.Proto != w.proto || r.TOS != w.tos || df != w.df ||
		r.TTL != w.ttl || r.TotalLen != w.length || r.IPID != 0 || r.FragOff != 0 || r.MoreFrag || r.HdrLen != 20 {
		t.Errorf("%s: IP %v > %v proto %d tos %#x df %v ttl %d len %d id %d frag %d/%v hdr %d, want %s > %s proto %d tos %#x df %v ttl %d len %d id 0 frag 0/false hdr 20",
			name, r.Src, r.Dst, r.Proto, r.TOS, df, r.TTL, r.TotalLen, r.IPID, r.FragOff, r.MoreFrag, r.HdrLen,
			w.src, w.dst, w.proto, w.tos, w.df, w.ttl, w.length)
	}
	if !r.HeaderChecksumOK() || !r.ChecksumOK() {
		t.Errorf("%s: header checksum ok %v, transport checksum ok %v", name, r.HeaderChecksumOK(), r.ChecksumOK())
	}
	switch w.proto {
	case packet.ProtoICMP:
		if r.ICMPType != 3 || r.ICMPCode != w.icmpCode || binary.BigEndian.Uint32(reply[24:]) != 0 {
			t.Errorf("%s: ICMP type %d code %d rest %#x, want 3 %d 0", name, r.ICMPType, r.ICMPCode, binary.BigEndian.Uint32(reply[24:]), w.icmpCode)
		}
		q := min(len(orig.Data), 548)
		if string(reply[28:]) != string(orig.Data[:q]) {
			t.Errorf("%s: quote differs from the first %d bytes of the original", name, q)
		}
		if r.HasInner && (r.InnerSrc != orig.Src || r.InnerDst != orig.Dst || r.InnerProto != orig.Proto ||
			r.InnerHasPorts && (r.InnerSrcPort != w.innerSP || r.InnerDstPort != w.innerDP)) {
			t.Errorf("%s: inner %v:%d > %v:%d proto %d, want the original %v:%d > %v:%d proto %d", name,
				r.InnerSrc, r.InnerSrcPort, r.InnerDst, r.InnerDstPort, r.InnerProto, orig.Src, w.innerSP, orig.Dst, w.innerDP, orig.Proto)
		}
	case packet.ProtoTCP:
		if r.SrcPort != w.sport || r.DstPort != w.dport || r.Seq != w.seq || r.Ack != w.ack || r.TCPFlags != w.tcpFlags ||
			r.Window != w.tcpWindow || r.TCPHdrLen != 20 || r.TotalLen != 40 || binary.BigEndian.Uint16(reply[38:]) != 0 {
			t.Errorf("%s: TCP %d > %d seq %d ack %d flags %#x win %d hdr %d urg %d, want %d > %d seq %d ack %d flags %#x win %d hdr 20 urg 0",
				name, r.SrcPort, r.DstPort, r.Seq, r.Ack, r.TCPFlags, r.Window, r.TCPHdrLen, binary.BigEndian.Uint16(reply[38:]),
				w.sport, w.dport, w.seq, w.ack, w.tcpFlags, w.tcpWindow)
		}
	}
}

// TestBuildReject checks every reply kind, field by field, and the source
// address the kernel picks per hook.
func TestBuildReject(t *testing.T) {
	const c, s = "198.18.0.1", "198.18.0.2" // client and server
	udp := func(opts ...packet.BuildOpt) []byte {
		return packet.BuildUDP(ap(c, 5353), ap(s, 53), []byte("query"), opts...)
	}
	icmpReply := func(code uint8, src string, l int) replyWant {
		return replyWant{src: src, dst: c, proto: packet.ProtoICMP, tos: 0xc0, ttl: 64, length: l, icmpCode: code, innerSP: 5353, innerDP: 53}
	}
	const udpLen = 20 + 8 + 20 + 8 + 5
	for _, tc := range []struct {
		name string
		with RejectWith
		dg   []byte
		hook packet.Hook
		out  string
		want replyWant
	}{
		// Each --reject-with and its ICMP code.
		{"net-unreachable", RejectNetUnreachable, udp(), packet.Input, "", icmpReply(0, s, udpLen)},
		{"host-unreachable", RejectHostUnreachable, udp(), packet.Input, "", icmpReply(1, s, udpLen)},
		{"proto-unreachable", RejectProtoUnreachable, udp(), packet.Input, "", icmpReply(2, s, udpLen)},
		{"port-unreachable", RejectPortUnreachable, udp(), packet.Input, "", icmpReply(3, s, udpLen)},
		{"net-prohibited", RejectNetProhibited, udp(), packet.Input, "", icmpReply(9, s, udpLen)},
		{"host-prohibited", RejectHostProhibited, udp(), packet.Input, "", icmpReply(10, s, udpLen)},
		{"admin-prohibited", RejectAdminProhibited, udp(), packet.Input, "", icmpReply(13, s, udpLen)},
		// The TOS keeps the original's TOS bits under the Internet
		// Control precedence.
		{"tos", RejectPortUnreachable, udp(packet.WithTOS(0xff)), packet.Input, "", func() replyWant { w := icmpReply(3, s, udpLen); w.tos = 0xde; return w }()},
		// The source: this host's address the packet was sent to, the
		// sender's own address for other local packets, and the route's
		// choice (0.0.0.0 for the raw socket to fill) when forwarding.
		{"output to a local address", RejectPortUnreachable, udp(), packet.Output, "lo", icmpReply(3, s, udpLen)},
		{"output to a remote address", RejectPortUnreachable, udp(), packet.Output, "eth0", icmpReply(3, c, udpLen)},
		{"forward", RejectPortUnreachable, udp(), packet.Forward, "eth1", icmpReply(3, "0.0.0.0", udpLen)},
		// A query ICMP type is answered.
		{"echo request", RejectPortUnreachable, packet.BuildICMP(addr(c), addr(s), 8, 0, 1, 2, []byte("ping")), packet.Input, "",
			replyWant{src: s, dst: c, proto: packet.ProtoICMP, tos: 0xc0, ttl: 64, length: 20 + 8 + 20 + 8 + 4, icmpCode: 3}},
		// A protocol without a checksum of its own: the payload sums to zero.
		{"unknown protocol, zero sum", RejectProtoUnreachable, packet.BuildIP(addr(c), addr(s), 253, []byte{0, 0, 0, 0}), packet.Input, "",
			replyWant{src: s, dst: c, proto: packet.ProtoICMP, tos: 0xc0, ttl: 64, length: 20 + 8 + 24, icmpCode: 2}},
		{"esp is not verified", RejectProtoUnreachable, packet.BuildIP(addr(c), addr(s), 50, []byte{1, 2, 3, 4, 5, 6, 7, 8}), packet.Input, "",
			replyWant{src: s, dst: c, proto: packet.ProtoICMP, tos: 0xc0, ttl: 64, length: 20 + 8 + 28, icmpCode: 2}},
		// An unverifiable checksum of a local sender is taken as right.
		{"output tcp with a bad checksum", RejectTCPReset, packet.BuildTCP(ap(s, 40000), ap(c, 22), packet.TCPSyn, 7, 0, 100, nil, packet.WithBadChecksum()), packet.Output, "eth0",
			replyWant{src: c, dst: s, proto: packet.ProtoTCP, df: true, ttl: 64, length: 40, sport: 22, dport: 40000, ack: 8, tcpFlags: packet.TCPRst | packet.TCPAck}},
		// TCP resets: nf_reject_ip_tcphdr_put's seq and ack.
		{"syn", RejectTCPReset, packet.BuildTCP(ap(c, 40000), ap(s, 22), packet.TCPSyn, 0xfffffffe, 0, 100, nil), packet.Input, "",
			replyWant{src: s, dst: c, proto: packet.ProtoTCP, df: true, ttl: 64, length: 40, sport: 22, dport: 40000, ack: 0xffffffff, tcpFlags: packet.TCPRst | packet.TCPAck}},
		{"syn+fin+data wraps", RejectTCPReset, packet.BuildTCP(ap(c, 40000), ap(s, 22), packet.TCPSyn|packet.TCPFin, 0xfffffffe, 0, 100, []byte("abc")), packet.Input, "",
			replyWant{src: s, dst: c, proto: packet.ProtoTCP, df: true, ttl: 64, length: 40, sport: 22, dport: 40000, ack: 3, tcpFlags: packet.TCPRst | packet.TCPAck}},
		{"ack: seq from ack", RejectTCPReset, packet.BuildTCP(ap(c, 40000), ap(s, 22), packet.TCPAck|packet.TCPFin, 10, 99, 100, []byte("abc"), packet.WithMSS(1)), packet.Forward, "eth1",
			replyWant{src: s, dst: c, proto: packet.ProtoTCP, df: true, ttl: 64, length: 40, sport: 22, dport: 40000, seq: 99, tcpFlags: packet.TCPRst}},
	} {
		p := rejectIn(t, tc.dg, tc.hook, tc.out)
		got, ok := BuildReject(p, uint8(tc.with), make([]byte, 0, 576))
		if !ok {
			t.Errorf("%s: no reply, want one", tc.name)
			continue
		}
		checkReply(t, tc.name, p, got, tc.want)
	}
}

// TestBuildRejectNone lists the packets the kernel does not answer.
func TestBuildRejectNone(t *testing.T) {
	const c, s = "198.18.0.1", "198.18.0.2"
	udp := packet.BuildUDP(ap(c, 5353), ap(s, 53), make([]byte, 64))
	tcp := func(flags uint8, opts ...packet.BuildOpt) []byte {
		return packet.BuildTCP(ap(c, 40000), ap(s, 22), flags, 1, 2, 100, nil, opts...)
	}
	frags := packet.Fragment(udp, 32)
	for _, tc := range []struct {
		name string
		with RejectWith
		dg   []byte
		pt   packet.PktType
	}{
		{"rst is not answered with a rst", RejectTCPReset, tcp(packet.TCPRst | packet.TCPAck), packet.PktHost},
		{"bad tcp checksum", RejectTCPReset, tcp(packet.TCPSyn, packet.WithBadChecksum()), packet.PktHost},
		{"tcp-reset for udp", RejectTCPReset, udp, packet.PktHost},
		{"tcp header cut short", RejectTCPReset, packet.BuildIP(addr(c), addr(s), packet.ProtoTCP, make([]byte, 19)), packet.PktHost},
		{"bad udp checksum", RejectPortUnreachable, packet.BuildUDP(ap(c, 1), ap(s, 2), []byte("x"), packet.WithBadChecksum()), packet.PktHost},
		{"unknown protocol, nonzero sum", RejectProtoUnreachable, packet.BuildIP(addr(c), addr(s), 253, []byte{1, 2, 3, 4}), packet.PktHost},
		{"first fragment: its checksum cannot verify", RejectPortUnreachable, frags[0], packet.PktHost},
		{"later fragment", RejectPortUnreachable, frags[1], packet.PktHost},
		{"later fragment, tcp-reset", RejectTCPReset, packet.Fragment(tcp(packet.TCPAck|packet.TCPPsh), 8)[1], packet.PktHost},
		{"icmp error", RejectPortUnreachable, packet.BuildICMPError(addr(c), addr(s), 3, 3, packet.BuildUDP(ap(s, 1), ap(c, 2), nil)), packet.PktHost},
		{"unknown icmp type counts as an error", RejectPortUnreachable, packet.BuildICMP(addr(c), addr(s), 42, 0, 0, 0, []byte("abcd")), packet.PktHost},
		{"link-layer broadcast", RejectPortUnreachable, udp, packet.PktBroadcast},
		{"link-layer multicast", RejectPortUnreachable, udp, packet.PktMulticast},
		{"another host's frame", RejectPortUnreachable, udp, packet.PktOtherHost},
		{"multicast destination", RejectPortUnreachable, packet.BuildUDP(ap(c, 1), ap("224.0.0.251", 5353), []byte("x")), packet.PktHost},
		{"broadcast destination", RejectPortUnreachable, packet.BuildUDP(ap(c, 68), ap("255.255.255.255", 67), []byte("x")), packet.PktHost},
		{"multicast destination, tcp-reset", RejectTCPReset, packet.BuildTCP(ap(c, 1), ap("239.1.1.1", 2), packet.TCPSyn, 1, 0, 1, nil), packet.PktHost},
		{"echo reply (retired)", 4, udp, packet.PktHost},
		{"unknown kind", 42, udp, packet.PktHost},
		{"not ipv4", RejectPortUnreachable, packet.BuildUDP(ap("fd00::1", 1), ap("fd00::2", 2), []byte("x")), packet.PktHost},
		{"broken ip header", RejectPortUnreachable, []byte{0x45, 0, 0, 10}, packet.PktHost},
	} {
		p := rejectIn(t, tc.dg, packet.Input, "")
		p.PktType = tc.pt
		if got, ok := BuildReject(p, uint8(tc.with), nil); ok {
			t.Errorf("%s: reply %x, want none", tc.name, got)
		}
	}
}

// TestRejectDo checks the verdict and the reply kind left for the
// datapath, and that neither Do nor BuildReject into a big enough buffer
// allocates.
func TestRejectDo(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want RejectWith
	}{
		{"-j REJECT", RejectPortUnreachable},
		{"-p tcp -j REJECT --reject-with tcp-reset", RejectTCPReset},
		{"-j REJECT --reject-with icmp-admin-prohibited", RejectAdminProhibited},
	} {
		d := doer(t, tc.spec)
		p := &packet.Packet{}
		if v := d.Do(p); v != Rejected || p.RejectWith != uint8(tc.want) {
			t.Errorf("%s: got %v with %d, want REJECT with %d", tc.spec, v, p.RejectWith, tc.want)
		}
		noAllocs(t, tc.spec, func() { d.Do(p) })
	}
	p := rejectIn(t, packet.BuildUDP(ap("198.18.0.1", 1), ap("198.18.0.2", 2), make([]byte, 1000)), packet.Input, "")
	buf := make([]byte, 0, 576)
	noAllocs(t, "BuildReject", func() { BuildReject(p, uint8(RejectPortUnreachable), buf) })
}
