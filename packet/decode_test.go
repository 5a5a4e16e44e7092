package packet

import (
	"encoding/binary"
	"testing"
)

// insertExt6 inserts an IPv6 extension header of kind with body (whose
// length makes the header a multiple of 8 bytes) right after the fixed
// header, fixing the next-header chain and the payload length. Transport
// checksums do not change: the pseudo-header carries the upper-layer length.
func insertExt6(dg []byte, kind uint8, body []byte) []byte {
	h := append([]byte{dg[6], byte((len(body)+2)/8 - 1)}, body...)
	if kind == ipv6AH {
		h[1] = byte((len(body)+2)/4 - 2)
	}
	out := append(append(append([]byte(nil), dg[:40]...), h...), dg[40:]...)
	out[6] = kind
	binary.BigEndian.PutUint16(out[4:], uint16(len(out)-40))
	return out
}

func TestDecode(t *testing.T) {
	var (
		c4, s4 = "198.18.0.1", "198.18.0.2"
		c6, s6 = "fd00::1", "fd00::2"
	)
	udpOrig := BuildUDP(ap(s4, 5353), ap(c4, 53), make([]byte, 10))
	tcpOrig := BuildTCP(ap(s4, 40000), ap(c4, 443), TCPSyn, 1, 0, 1000, nil, WithMSS(1460))
	pingOrig := BuildICMP(ip(s4), ip(c4), ICMPEcho, 0, 777, 1, make([]byte, 8))
	udp6Orig := BuildUDP(ap(s6, 5353), ap(c6, 53), make([]byte, 10))
	bigUDP := BuildUDP(ap(c4, 1000), ap(s4, 2000), make([]byte, 100))
	bigUDP6 := BuildUDP(ap(c6, 1000), ap(s6, 2000), make([]byte, 100))

	tests := []struct {
		name string
		data []byte
		want string
	}{
		// TCP: ports, flags, sequence space and header length with options.
		{"tcp syn with options",
			BuildTCP(ap(c4, 999), ap(s4, 22), TCPSyn, 100, 0, 65535, nil, WithMSS(1460), WithWScale(7), WithSACKPerm()),
			"fam=4 hdr=20 tot=52 src=198.18.0.1 dst=198.18.0.2 proto=6 ttl=64 id=1 l4=20 pay=52 ports=999>22 tcp=flags=0x02 seq=100 ack=0 win=65535 hl=32"},
		{"tcp ack with data, tos and ttl",
			BuildTCP(ap(c4, 999), ap(s4, 22), TCPAck|TCPPsh, 101, 5001, 512, []byte("hello"), WithTOS(0x10), WithTTL(1), WithID(0)),
			"fam=4 hdr=20 tot=45 src=198.18.0.1 dst=198.18.0.2 proto=6 ttl=1 tos=16 l4=20 pay=40 ports=999>22 tcp=flags=0x18 seq=101 ack=5001 win=512 hl=20"},
		{"ipv4 options shift the transport header",
			BuildTCP(ap(c4, 999), ap(s4, 22), TCPRst, 7, 0, 0, nil, WithIPOptions([]byte{148, 4, 0, 0})),
			"fam=4 hdr=24 tot=44 src=198.18.0.1 dst=198.18.0.2 proto=6 ttl=64 id=1 l4=24 pay=44 ports=999>22 tcp=flags=0x04 seq=7 ack=0 win=0 hl=20"},

		// UDP and its relatives.
		{"udp",
			BuildUDP(ap(c4, 5353), ap(s4, 53), make([]byte, 10)),
			"fam=4 hdr=20 tot=38 src=198.18.0.1 dst=198.18.0.2 proto=17 ttl=64 id=1 l4=20 pay=28 ports=5353>53"},
		{"udp length below the packet is accepted, as udp_error",
			mut(BuildUDP(ap(c4, 5353), ap(s4, 53), make([]byte, 10)), func(b []byte) { b[25] = 8 }),
			"fam=4 hdr=20 tot=38 src=198.18.0.1 dst=198.18.0.2 proto=17 ttl=64 id=1 l4=20 pay=28 ports=5353>53"},
		{"bytes after total length are trimmed",
			append(BuildUDP(ap(c4, 5353), ap(s4, 53), make([]byte, 10)), 1, 2, 3, 4),
			"fam=4 hdr=20 tot=38 src=198.18.0.1 dst=198.18.0.2 proto=17 ttl=64 id=1 l4=20 pay=28 ports=5353>53"},
		{"udplite",
			BuildUDPLite(ap(c4, 1), ap(s4, 2), 8, make([]byte, 3)),
			"fam=4 hdr=20 tot=31 src=198.18.0.1 dst=198.18.0.2 proto=136 ttl=64 id=1 l4=20 pay=28 ports=1>2"},
		{"sctp",
			BuildSCTP(ap(c4, 36412), ap(s4, 36412), 0xdeadbeef, make([]byte, 16)),
			"fam=4 hdr=20 tot=48 src=198.18.0.1 dst=198.18.0.2 proto=132 ttl=64 id=1 l4=20 pay=32 ports=36412>36412"},
		{"dccp ack",
			BuildDCCP(ap(c4, 5004), ap(s4, 5005), 3, 1, []byte("x")),
			"fam=4 hdr=20 tot=37 src=198.18.0.1 dst=198.18.0.2 proto=33 ttl=64 id=1 l4=20 pay=36 ports=5004>5005 dccptype=3"},
		{"unparsed protocol: the transport part is payload",
			BuildIP(ip(c4), ip(s4), ProtoGRE, []byte{0, 0, 8, 0}),
			"fam=4 hdr=20 tot=24 src=198.18.0.1 dst=198.18.0.2 proto=47 ttl=64 id=1 l4=20 pay=20"},

		// ICMP queries carry an id; other non-errors do not.
		{"icmp echo",
			BuildICMP(ip(c4), ip(s4), ICMPEcho, 0, 777, 1, make([]byte, 8)),
			"fam=4 hdr=20 tot=36 src=198.18.0.1 dst=198.18.0.2 proto=1 ttl=64 id=1 l4=20 pay=28 icmp=8/0 id=777"},
		{"icmp timestamp reply",
			BuildICMP(ip(c4), ip(s4), ICMPTimestampReply, 0, 9, 1, make([]byte, 12)),
			"fam=4 hdr=20 tot=40 src=198.18.0.1 dst=198.18.0.2 proto=1 ttl=64 id=1 l4=20 pay=28 icmp=14/0 id=9"},
		{"icmp router advertisement has no id",
			BuildICMP(ip(c4), ip(s4), 9, 0, 0x0102, 0x0304, nil),
			"fam=4 hdr=20 tot=28 src=198.18.0.1 dst=198.18.0.2 proto=1 ttl=64 id=1 l4=20 pay=28 icmp=9/0 id=0"},

		// ICMP errors: the quoted datagram gives the inner tuple.
		{"port unreachable quoting udp",
			BuildICMPError(ip(c4), ip(s4), ICMPDestUnreach, 3, udpOrig),
			"fam=4 hdr=20 tot=66 src=198.18.0.1 dst=198.18.0.2 proto=1 ttl=64 id=1 l4=20 pay=28 icmp=3/3 id=0 inner=true@28/48 198.18.0.2>198.18.0.1 proto=17 iports=true 5353>53"},
		{"time exceeded quoting 8 bytes of tcp (RFC 792)",
			BuildICMPError(ip(c4), ip(s4), ICMPTimeExceeded, 0, tcpOrig, WithQuote(28)),
			"fam=4 hdr=20 tot=56 src=198.18.0.1 dst=198.18.0.2 proto=1 ttl=64 id=1 l4=20 pay=28 icmp=11/0 id=0 inner=true@28/48 198.18.0.2>198.18.0.1 proto=6 iports=true 40000>443"},
		{"error quoting a ping",
			BuildICMPError(ip(c4), ip(s4), ICMPDestUnreach, 1, pingOrig),
			"fam=4 hdr=20 tot=64 src=198.18.0.1 dst=198.18.0.2 proto=1 ttl=64 id=1 l4=20 pay=28 icmp=3/1 id=0 inner=true@28/48 198.18.0.2>198.18.0.1 proto=1 iicmp=8/0 id=777"},
		{"error quoting gre: addresses only, as the generic tracker",
			BuildICMPError(ip(c4), ip(s4), ICMPDestUnreach, 2, BuildIP(ip(s4), ip(c4), ProtoGRE, []byte{0, 0, 8, 0})),
			"fam=4 hdr=20 tot=52 src=198.18.0.1 dst=198.18.0.2 proto=1 ttl=64 id=1 l4=20 pay=28 icmp=3/2 id=0 inner=true@28/48 198.18.0.2>198.18.0.1 proto=47"},
		{"error whose quote stops inside the ports: no inner tuple, not malformed",
			BuildICMPError(ip(c4), ip(s4), ICMPDestUnreach, 3, udpOrig, WithQuote(23)),
			"fam=4 hdr=20 tot=51 src=198.18.0.1 dst=198.18.0.2 proto=1 ttl=64 id=1 l4=20 pay=28 icmp=3/3 id=0"},
		{"error quoting a non-first fragment: no inner tuple, as ipv4_get_l4proto",
			BuildICMPError(ip(c4), ip(s4), ICMPTimeExceeded, 1, Fragment(bigUDP, 48)[1]),
			"fam=4 hdr=20 tot=96 src=198.18.0.1 dst=198.18.0.2 proto=1 ttl=64 id=1 l4=20 pay=28 icmp=11/1 id=0"},

		// Fragments: the first carries the ports, the others no transport header.
		{"first fragment: udp length covers the whole datagram",
			Fragment(bigUDP, 48)[0],
			"fam=4 hdr=20 tot=68 src=198.18.0.1 dst=198.18.0.2 proto=17 ttl=64 id=1 frag=0/true l4=20 pay=28 ports=1000>2000"},
		{"middle fragment",
			Fragment(bigUDP, 48)[1],
			"fam=4 hdr=20 tot=68 src=198.18.0.1 dst=198.18.0.2 proto=17 ttl=64 id=1 frag=6/true l4=-1 pay=20"},
		{"last fragment",
			Fragment(bigUDP, 48)[2],
			"fam=4 hdr=20 tot=32 src=198.18.0.1 dst=198.18.0.2 proto=17 ttl=64 id=1 frag=12/false l4=-1 pay=20"},

		// IPv6.
		{"ipv6 tcp",
			BuildTCP(ap(c6, 999), ap(s6, 22), TCPSyn, 100, 0, 65535, nil, WithTOS(0xb8), WithTTL(255)),
			"fam=6 hdr=40 tot=60 src=fd00::1 dst=fd00::2 proto=6 ttl=255 tos=184 l4=40 pay=60 ports=999>22 tcp=flags=0x02 seq=100 ack=0 win=65535 hl=20"},
		{"ipv6 hop-by-hop and destination options before udp",
			insertExt6(insertExt6(BuildUDP(ap(c6, 1), ap(s6, 2), []byte{1}), ipv6DestOpts, []byte{1, 4, 0, 0, 0, 0}), ipv6HopByHop, []byte{1, 4, 0, 0, 0, 0}),
			"fam=6 hdr=56 tot=65 src=fd00::1 dst=fd00::2 proto=17 ttl=64 l4=56 pay=64 ports=1>2"},
		{"ipv6 authentication header before tcp",
			insertExt6(BuildTCP(ap(c6, 1), ap(s6, 2), TCPAck, 1, 1, 1, nil), ipv6AH, make([]byte, 14)),
			"fam=6 hdr=56 tot=76 src=fd00::1 dst=fd00::2 proto=6 ttl=64 l4=56 pay=76 ports=1>2 tcp=flags=0x10 seq=1 ack=1 win=1 hl=20"},
		{"ipv6 first fragment",
			Fragment(bigUDP6, 48)[0],
			"fam=6 hdr=48 tot=96 src=fd00::1 dst=fd00::2 proto=17 ttl=64 frag=0/true l4=48 pay=56 ports=1000>2000"},
		{"ipv6 later fragment: protocol from the fragment header, as ipv6_find_hdr",
			Fragment(bigUDP6, 48)[2],
			"fam=6 hdr=48 tot=60 src=fd00::1 dst=fd00::2 proto=17 ttl=64 frag=12/false l4=-1 pay=48"},
		{"ipv6 no next header",
			BuildIP(ip(c6), ip(s6), 59, nil),
			"fam=6 hdr=40 tot=40 src=fd00::1 dst=fd00::2 proto=59 ttl=64 l4=-1 pay=40"},
		{"icmpv6 echo request",
			BuildICMP(ip(c6), ip(s6), ICMPv6EchoRequest, 0, 4242, 1, nil),
			"fam=6 hdr=40 tot=48 src=fd00::1 dst=fd00::2 proto=58 ttl=64 l4=40 pay=48 icmp=128/0 id=4242"},
		{"icmpv6 neighbour solicitation has no id",
			BuildICMP(ip(c6), ip(s6), 135, 0, 0, 0, make([]byte, 16)),
			"fam=6 hdr=40 tot=64 src=fd00::1 dst=fd00::2 proto=58 ttl=64 l4=40 pay=48 icmp=135/0 id=0"},
		{"icmpv6 port unreachable quoting udp",
			BuildICMPError(ip(c6), ip(s6), 1, 4, udp6Orig),
			"fam=6 hdr=40 tot=106 src=fd00::1 dst=fd00::2 proto=58 ttl=64 l4=40 pay=48 icmp=1/4 id=0 inner=true@48/88 fd00::2>fd00::1 proto=17 iports=true 5353>53"},
	}
	var p Packet
	for _, tt := range tests {
		Decode(tt.data, &p)
		if got := dump(&p); got != tt.want {
			t.Errorf("%s:\n got  %s\n want %s", tt.name, got, tt.want)
		}
		if len(p.Data) != p.TotalLen {
			t.Errorf("%s: len(Data) = %d, want TotalLen %d", tt.name, len(p.Data), p.TotalLen)
		}
	}
}

func TestDecodeMalformed(t *testing.T) {
	var (
		c4, s4 = "198.18.0.1", "198.18.0.2"
		c6, s6 = "fd00::1", "fd00::2"
	)
	tcp := BuildTCP(ap(c4, 1), ap(s4, 2), TCPAck, 1, 1, 1, nil)
	udp := BuildUDP(ap(c4, 1), ap(s4, 2), make([]byte, 10))
	lite := BuildUDPLite(ap(c4, 1), ap(s4, 2), 0, make([]byte, 10))
	dccp := BuildDCCP(ap(c4, 1), ap(s4, 2), 2, 1, nil)
	udp6 := BuildUDP(ap(c6, 1), ap(s6, 2), make([]byte, 10))
	// trunc cuts an IPv4 datagram to n bytes and fixes the total length,
	// so that only the transport header is short.
	trunc := func(b []byte, n int) []byte {
		return mut(b[:n], func(b []byte) { binary.BigEndian.PutUint16(b[2:], uint16(n)) })
	}
	tests := []struct {
		name string
		data []byte
		want Reason
	}{
		// Network layer, as ip_rcv_core and ipv6_rcv.
		{"empty", nil, ReasonShort},
		{"19 bytes", tcp[:19], ReasonShort},
		{"version 5", mut(tcp, func(b []byte) { b[0] = 0x55 }), ReasonVersion},
		{"IHL 4", mut(tcp, func(b []byte) { b[0] = 0x44 }), ReasonIHL},
		{"IHL beyond data", mut(tcp, func(b []byte) { b[0] = 0x4f }), ReasonHdrLen},
		{"total length beyond data", mut(tcp, func(b []byte) { b[3]++ }), ReasonTotalLen},
		{"total length below IHL", mut(tcp, func(b []byte) { b[2], b[3] = 0, 19 }), ReasonTotalLen},
		{"ipv6 39 bytes", udp6[:39], ReasonShort},
		{"ipv6 payload length beyond data", mut(udp6, func(b []byte) { b[5]++ }), ReasonPayloadLen},
		{"ipv6 jumbogram", mut(udp6, func(b []byte) { b[4], b[5], b[6] = 0, 0, ipv6HopByHop }), ReasonIPv6Jumbo},
		{"ipv6 extension header past the end", mut(udp6, func(b []byte) { b[6] = ipv6DestOpts; b[41] = 9 }), ReasonExtHdr},
		{"ipv6 extension header shorter than 8 bytes", mut(BuildIP(ip(c6), ip(s6), ipv6Routing, []byte{6, 0, 0, 0}), func(b []byte) {}), ReasonExtHdr},

		// Transport layer, as the trackers' error functions.
		{"tcp header 19 bytes", trunc(tcp, 39), ReasonTCPShort},
		{"tcp data offset 4", mut(tcp, func(b []byte) { b[32] = 0x40 }), ReasonTCPDataOff},
		{"tcp data offset beyond packet", mut(tcp, func(b []byte) { b[32] = 0x60 }), ReasonTCPDataOff},
		{"udp header 7 bytes", trunc(udp, 27), ReasonUDPShort},
		{"udp length 7", mut(udp, func(b []byte) { b[24], b[25] = 0, 7 }), ReasonUDPLen},
		{"udp length beyond packet", mut(udp, func(b []byte) { b[25]++ }), ReasonUDPLen},
		{"udplite header 7 bytes", trunc(lite, 27), ReasonUDPShort},
		{"udplite coverage 7", mut(lite, func(b []byte) { b[24], b[25] = 0, 7 }), ReasonUDPLiteCov},
		{"udplite coverage beyond packet", mut(lite, func(b []byte) { b[24], b[25] = 0, 19 }), ReasonUDPLiteCov},
		{"udplite checksum 0", mut(lite, func(b []byte) { b[26], b[27] = 0, 0 }), ReasonUDPLiteNoCsum},
		{"icmp header 7 bytes", trunc(BuildICMP(ip(c4), ip(s4), ICMPEcho, 0, 1, 1, nil), 27), ReasonICMPShort},
		{"icmpv6 header 7 bytes", mut(BuildIP(ip(c6), ip(s6), ProtoICMPv6, make([]byte, 7)), func(b []byte) {}), ReasonICMPShort},
		{"sctp header 11 bytes", trunc(BuildSCTP(ap(c4, 1), ap(s4, 2), 1, nil), 31), ReasonSCTPShort},
		{"dccp header 11 bytes", trunc(dccp, 31), ReasonDCCPShort},
		{"dccp data offset 2", mut(dccp, func(b []byte) { b[24] = 2 }), ReasonDCCPDataOff},
		{"dccp data offset beyond packet", mut(dccp, func(b []byte) { b[24] = 5 }), ReasonDCCPDataOff},
		{"dccp checksum coverage beyond packet", mut(dccp, func(b []byte) { b[25] = 6 }), ReasonDCCPCsCov},
		{"dccp reserved type", mut(dccp, func(b []byte) { b[28] = 10<<1 | 1 }), ReasonDCCPType},
		{"dccp request without 48-bit sequence numbers", mut(dccp, func(b []byte) { b[28] = 0 }), ReasonDCCPType},
	}
	var p Packet
	for _, tt := range tests {
		got := Decode(tt.data, &p)
		if got != tt.want || p.Reason != tt.want || !p.Malformed {
			t.Errorf("%s: Decode = %q (Reason %q, Malformed %v), want %q", tt.name, got, p.Reason, p.Malformed, tt.want)
			continue
		}
		if p.HasPorts || p.PayloadOff != -1 || p.HasInner {
			t.Errorf("%s: transport fields set on a malformed packet: %s", tt.name, dump(&p))
		}
		if tt.want.L3() {
			if p.L4Off != -1 || p.Proto != 0 {
				t.Errorf("%s: L3 reason but transport decoded: %s", tt.name, dump(&p))
			}
		} else if !p.Src.IsValid() || !p.Dst.IsValid() || p.L4Off < 0 || p.Proto == 0 {
			t.Errorf("%s: L4 reason but network fields lost: %s", tt.name, dump(&p))
		}
		if p.ChecksumOK() {
			t.Errorf("%s: ChecksumOK on a malformed packet", tt.name)
		}
	}
	// A well-formed packet after a malformed one decodes cleanly: reset
	// clears everything.
	if Decode(udp, &p) != ReasonNone || p.Malformed || p.Reason != ReasonNone {
		t.Errorf("good packet after bad: %s", dump(&p))
	}
}

// TestDecodeKeepsMetadata checks that Decode resets the header fields and
// verdict flags but leaves what the datapath set before it.
func TestDecodeKeepsMetadata(t *testing.T) {
	p := Packet{Hook: Forward, InIface: "eth0", OutIface: "eth1", Mark: 7, UID: 1000, HasOwner: true,
		Hotdrop: true, Changed: true, Malformed: true, Reason: ReasonTCPShort,
		HasInner: true, InnerSrcPort: 9, ICMPID: 3, TCPHdrLen: 40, Seq: 5}
	Decode(BuildUDP(ap("198.18.0.1", 1), ap("198.18.0.2", 2), nil), &p)
	if p.Hook != Forward || p.InIface != "eth0" || p.OutIface != "eth1" || p.Mark != 7 || p.UID != 1000 || !p.HasOwner {
		t.Errorf("metadata lost: %+v", p)
	}
	want := "fam=4 hdr=20 tot=28 src=198.18.0.1 dst=198.18.0.2 proto=17 ttl=64 id=1 l4=20 pay=28 ports=1>2"
	if got := dump(&p); got != want {
		t.Errorf("stale header fields:\n got  %s\n want %s", got, want)
	}
}

func TestReasonStrings(t *testing.T) {
	seen := map[string]Reason{}
	for r := ReasonNone; r < numReasons; r++ {
		if r == reasonLastNetwork {
			if r.L3() {
				t.Errorf("marker counts as L3")
			}
			continue
		}
		s := r.String()
		if s == "" || s == "?" {
			t.Errorf("Reason(%d) has no name", r)
		}
		if o, dup := seen[s]; dup {
			t.Errorf("Reason(%d) and Reason(%d) share the name %q", o, r, s)
		}
		seen[s] = r
	}
	if numReasons.String() != "?" || ReasonNone.L3() || !ReasonTotalLen.L3() || ReasonTCPShort.L3() {
		t.Errorf("String/L3 boundaries wrong")
	}
}

func allocsDecode(t *testing.T, name string, data []byte) {
	t.Helper()
	var p Packet
	if n := testing.AllocsPerRun(200, func() { Decode(data, &p) }); n != 0 {
		t.Errorf("Decode %s: %v allocations, want 0", name, n)
	}
	if Decode(data, &p) != ReasonNone {
		t.Errorf("Decode %s: %s", name, dump(&p))
	}
}

// TestDecodeNoAllocs guards "Decode is called for every packet; it must
// not allocate".
func TestDecodeNoAllocs(t *testing.T) {
	udp := BuildUDP(ap("198.18.0.2", 5353), ap("198.18.0.1", 53), make([]byte, 10))
	udp6 := BuildUDP(ap("fd00::2", 5353), ap("fd00::1", 53), make([]byte, 10))
	allocsDecode(t, "tcp", BuildTCP(ap("198.18.0.1", 999), ap("198.18.0.2", 22), TCPSyn, 1, 0, 100, nil, WithMSS(1460)))
	allocsDecode(t, "udp", udp)
	allocsDecode(t, "icmp", BuildICMP(ip("198.18.0.1"), ip("198.18.0.2"), ICMPEcho, 0, 1, 1, nil))
	allocsDecode(t, "icmp-error", BuildICMPError(ip("198.18.0.1"), ip("198.18.0.2"), 3, 3, udp))
	allocsDecode(t, "tcp6", BuildTCP(ap("fd00::1", 999), ap("fd00::2", 22), TCPSyn, 1, 0, 100, nil))
	allocsDecode(t, "icmp6-error", BuildICMPError(ip("fd00::1"), ip("fd00::2"), 1, 4, udp6))
	var p Packet
	bad := []byte{0x45, 0, 0, 99}
	if n := testing.AllocsPerRun(200, func() { Decode(bad, &p) }); n != 0 {
		t.Errorf("Decode malformed: %v allocations, want 0", n)
	}
}

func BenchmarkDecode(b *testing.B) {
	udp := BuildUDP(ap("198.18.0.2", 5353), ap("198.18.0.1", 53), make([]byte, 10))
	cases := []struct {
		name string
		data []byte
	}{
		{"tcp", BuildTCP(ap("198.18.0.1", 999), ap("198.18.0.2", 22), TCPAck, 1, 1, 100, make([]byte, 1400))},
		{"udp", udp},
		{"icmp", BuildICMP(ip("198.18.0.1"), ip("198.18.0.2"), ICMPEcho, 0, 1, 1, make([]byte, 56))},
		{"icmp-error", BuildICMPError(ip("198.18.0.1"), ip("198.18.0.2"), 3, 3, udp)},
		{"tcp6", BuildTCP(ap("fd00::1", 999), ap("fd00::2", 22), TCPAck, 1, 1, 100, make([]byte, 1400))},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var p Packet
			b.ReportAllocs()
			for b.Loop() {
				Decode(c.data, &p)
			}
		})
	}
}
