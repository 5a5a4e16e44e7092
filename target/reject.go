package target

import (
	"encoding/binary"
	"net/netip"
	"strings"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
)

// rejectInfo is the REJECT target (libipt_REJECT.c, ipt_REJECT.c): drop the
// packet and answer with an ICMP error or a TCP RST. The kernel registers it
// for the filter table's INPUT, FORWARD and OUTPUT hooks only.
var rejectInfo = &Info{
	Name:  "REJECT",
	Opts:  []match.Opt{{Name: "reject-with", Arg: true}},
	New:   func() Target { return &Reject{With: RejectPortUnreachable} },
	Table: "filter",
	Hooks: packet.Input.Mask() | packet.Forward.Mask() | packet.Output.Mask(),
}

// RejectWith is the reply REJECT sends, numbered as the kernel's
// enum ipt_reject_with so the value reads the same as in ipt_REJECT.c.
type RejectWith uint8

// The reply types. 4 was IPT_ICMP_ECHOREPLY, refused since Linux 2.4.
const (
	RejectNetUnreachable   RejectWith = 0 // ICMP_NET_UNREACH
	RejectHostUnreachable  RejectWith = 1 // ICMP_HOST_UNREACH
	RejectProtoUnreachable RejectWith = 2 // ICMP_PROT_UNREACH
	RejectPortUnreachable  RejectWith = 3 // ICMP_PORT_UNREACH, the default
	RejectNetProhibited    RejectWith = 5 // ICMP_NET_ANO
	RejectHostProhibited   RejectWith = 6 // ICMP_HOST_ANO
	RejectTCPReset         RejectWith = 7 // a TCP RST (nf_send_reset)
	RejectAdminProhibited  RejectWith = 8 // ICMP_PKT_FILTERED
)

// rejectNames is libipt_REJECT's reject_table, indexed by RejectWith: the
// name iptables prints and the alias it also accepts. The order is the
// order REJECT_parse tries them in.
var rejectNames = [...]struct{ name, alias string }{
	RejectNetUnreachable:   {"icmp-net-unreachable", "net-unreach"},
	RejectHostUnreachable:  {"icmp-host-unreachable", "host-unreach"},
	RejectProtoUnreachable: {"icmp-proto-unreachable", "proto-unreach"},
	RejectPortUnreachable:  {"icmp-port-unreachable", "port-unreach"},
	RejectNetProhibited:    {"icmp-net-prohibited", "net-prohib"},
	RejectHostProhibited:   {"icmp-host-prohibited", "host-prohib"},
	RejectTCPReset:         {"tcp-reset", "tcp-rst"},
	RejectAdminProhibited:  {"icmp-admin-prohibited", "admin-prohib"},
}

// Reject is one REJECT target.
type Reject struct {
	With RejectWith
}

// hasPrefixFold reports whether arg is a case-insensitive prefix of name,
// which is what strncasecmp(name, arg, strlen(arg)) == 0 tests.
func hasPrefixFold(name, arg string) bool {
	return len(arg) <= len(name) && strings.EqualFold(name[:len(arg)], arg)
}

// Parse implements Target. Like REJECT_parse it takes the first type whose
// name or alias starts with the argument, ignoring case, so "icmp-h" is
// icmp-host-unreachable and "" is icmp-net-unreachable.
func (t *Reject) Parse(a *match.Arg) error {
	for i, n := range rejectNames {
		if n.name == "" {
			continue
		}
		if hasPrefixFold(n.name, a.Value) || hasPrefixFold(n.alias, a.Value) {
			t.With = RejectWith(i)
			return nil
		}
	}
	return grammar.Paramf("unknown reject type \"%s\"", a.Value)
}

// Final implements Target.
func (t *Reject) Final(*match.Rule) error { return nil }

// Check implements match.Checker: a TCP reset only makes sense for a rule
// that matches TCP alone (ipt_REJECT.c reject_tg_check).
func (t *Reject) Check(w *match.Where) error {
	if t.With == RejectTCPReset && (w.Proto != packet.ProtoTCP || w.InvProto) {
		return kernelEINVAL("ipt_REJECT: TCP_RESET invalid for non-tcp")
	}
	return nil
}

// Save implements Target.
func (t *Reject) Save(b *strings.Builder) {
	b.WriteString(" --reject-with ")
	b.WriteString(rejectNames[t.With].name)
}

// Print implements Target.
func (t *Reject) Print(b *strings.Builder, numeric bool) {
	b.WriteString(" reject-with ")
	b.WriteString(rejectNames[t.With].name)
}

// Do implements Doer: the packet is dropped and the datapath sends the
// answer RejectWith names, built by BuildReject (ipt_REJECT.c reject_tg
// sends it itself, then returns NF_DROP). Called for every packet; must
// not allocate.
func (t *Reject) Do(p *packet.Packet) Verdict {
	p.RejectWith = uint8(t.With)
	return Rejected
}

// rejectCode is the ICMP destination-unreachable code of each ICMP reply,
// as reject_tg passes it to nf_send_unreach; -1 for the TCP reset and the
// retired echo reply.
var rejectCode = [...]int8{
	RejectNetUnreachable:   0,  // ICMP_NET_UNREACH
	RejectHostUnreachable:  1,  // ICMP_HOST_UNREACH
	RejectProtoUnreachable: 2,  // ICMP_PROT_UNREACH
	RejectPortUnreachable:  3,  // ICMP_PORT_UNREACH
	4:                      -1, // IPT_ICMP_ECHOREPLY, refused since 2.4
	RejectNetProhibited:    9,  // ICMP_NET_ANO
	RejectHostProhibited:   10, // ICMP_HOST_ANO
	RejectTCPReset:         -1, // nf_send_reset
	RejectAdminProhibited:  13, // ICMP_PKT_FILTERED
}

// Sizes of what REJECT sends.
const (
	rejectTTL = 64 // ip4_dst_hoplimit: net.ipv4.ip_default_ttl
	// rejectRoom is what icmp_send quotes at most: 576 bytes
	// (RFC 1812 4.3.2.3) minus the IP and ICMP headers.
	rejectRoom = 576 - 20 - 8
)

// BuildReject builds the datagram REJECT answers p with, as the kernel
// does for reject_tg: with is p.RejectWith. The reply is appended to
// buf[:0] (give it 576 bytes of capacity and nothing allocates) and ok is
// false where the kernel sends nothing.
//
// A TCP reset is nf_send_reset: from the original destination to the
// original source, ID 0, DF, TTL 64; a segment that acknowledged something
// is answered with RST and seq = its ack, any other with RST|ACK and ack =
// its seq plus its length (SYN and FIN count one), as
// nf_reject_ip_tcphdr_put computes them. Nothing is sent for a non-first
// fragment, a non-TCP packet, a TCP header cut short, a RST, or a bad
// checksum (nf_reject_ip_tcphdr_get), nor to a broadcast or multicast
// destination.
//
// An ICMP error is nf_send_unreach then icmp_send: destination unreachable
// with the rule's code, TOS (tos & 0x1e) | 0xc0, no DF, TTL 64, quoting the
// original IP header and as much after it as fits in 576 bytes. Nothing is
// sent for a non-first fragment, a packet with a bad checksum (where
// nf_reject_verify_csum says the protocol has one), an ICMP error (or an
// ICMP type above 18, which icmp_send takes for one), a link-layer
// broadcast or multicast, or a broadcast or multicast destination. The
// source is the original destination when that is this host (the INPUT
// hook, or OUTPUT through lo: a route with RTCF_LOCAL), the original source
// for other locally generated packets (the route back to a local address
// picks it), and 0.0.0.0 for a forwarded packet: icmp_send leaves saddr 0
// for the route lookup to fill, and a raw IP_HDRINCL socket does the same,
// filling a zero source from the route and a zero ID from the kernel's
// counters, so the datapath should send replies through one. (The sysctl
// icmp_errors_use_inbound_ifaddr is not honoured, nor are the options
// icmp_send would echo (record route, timestamp, source route): the reply
// has none. The datapath should also apply ICMP rate limiting, which
// icmp_send does with icmp_ratelimit and icmp_msgs_per_sec.)
//
// Checksums are verified where the kernel verifies them: always, except
// for a checksum the datapath says is not ready (p.CsumNotReady, the
// kernel's CHECKSUM_PARTIAL) and, as the datapath does not always know,
// TCP and UDP in OUTPUT, whose checksum a local socket leaves to the NIC.
func BuildReject(p *packet.Packet, with uint8, buf []byte) (reply []byte, ok bool) {
	d := p.Data
	if p.Family != 4 || len(d) < 20 || p.Malformed && p.Reason.L3() || int(with) >= len(rejectCode) {
		return nil, false
	}
	// RTCF_BROADCAST | RTCF_MULTICAST: the route to the destination.
	if p.Dst.IsMulticast() || p.Dst.IsUnspecified() || p.Dst == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return nil, false
	}
	if be16(d[6:])&0x1fff != 0 {
		return nil, false // not the first fragment
	}
	ihl := int(d[0]&0x0f) * 4
	if RejectWith(with) == RejectTCPReset {
		return buildReset(p, d, ihl, buf)
	}
	code := rejectCode[with]
	if code < 0 {
		return nil, false
	}
	return buildUnreach(p, d, ihl, uint8(code), buf)
}

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }

// rejectCsumOK is the checksum test of nf_reject_ip_tcphdr_get and
// nf_send_unreach. nf_ip_checksum over a protocol other than TCP and UDP is
// the plain sum of everything after the IP header, which must come to
// zero; over a first fragment it covers the fragment alone and fails. A
// checksum left to offload (CHECKSUM_PARTIAL, locally generated TCP and
// UDP) is taken as right, and so are the protocols nf_reject_verify_csum
// skips: those with other integrity checks (AH, ESP, SCTP), partial
// coverage (UDP-Lite, DCCP), optional checksums (GRE) and a UDP checksum
// of 0.
func rejectCsumOK(p *packet.Packet, d []byte, ihl int) bool {
	proto := d[9]
	if ihl < 20 || ihl > len(d) {
		return false
	}
	l4 := d[ihl:]
	switch proto {
	case 51, 50, packet.ProtoSCTP, packet.ProtoUDPLite, packet.ProtoDCCP, packet.ProtoGRE: // AH, ESP, ...
		return true
	case packet.ProtoUDP:
		if len(l4) >= 8 && be16(l4[6:]) == 0 {
			return true
		}
	}
	if (p.Hook == packet.Output || p.CsumNotReady) && (proto == packet.ProtoTCP || proto == packet.ProtoUDP) {
		return true
	}
	var acc uint64
	if proto == packet.ProtoTCP || proto == packet.ProtoUDP {
		acc = packet.PseudoHeader(p.Src, p.Dst, proto, len(l4))
	}
	c := packet.Checksum(l4, acc)
	return c == 0 || c == 0xffff // both are a one's complement zero
}

// putIPv4 writes a 20-byte IPv4 header at b with its checksum.
func putIPv4(b []byte, tos uint8, total int, df bool, proto uint8, src, dst netip.Addr) {
	b[0], b[1] = 0x45, tos
	binary.BigEndian.PutUint16(b[2:], uint16(total))
	binary.BigEndian.PutUint32(b[4:], 0) // ID 0, and no fragment flags yet
	if df {
		b[6] = 0x40
	}
	b[8], b[9] = rejectTTL, proto
	b[10], b[11] = 0, 0
	s, t := src.As4(), dst.As4()
	copy(b[12:16], s[:])
	copy(b[16:20], t[:])
	binary.BigEndian.PutUint16(b[10:], packet.Checksum(b[:20], 0))
}

// grow returns buf[:n], reusing buf's array when it is large enough.
func grow(buf []byte, n int) []byte {
	if cap(buf) >= n {
		return buf[:n]
	}
	return make([]byte, n)
}

// buildReset is nf_send_reset.
func buildReset(p *packet.Packet, d []byte, ihl int, buf []byte) ([]byte, bool) {
	if d[9] != packet.ProtoTCP || ihl < 20 || len(d)-ihl < 20 {
		return nil, false
	}
	oth := d[ihl:]
	flags := oth[13]
	if flags&packet.TCPRst != 0 || !rejectCsumOK(p, d, ihl) {
		return nil, false
	}
	r := grow(buf, 40)
	clear(r)
	putIPv4(r, 0, 40, true, packet.ProtoTCP, p.Dst, p.Src)
	t := r[20:]
	copy(t[0:2], oth[2:4]) // source port: the original destination port
	copy(t[2:4], oth[0:2])
	t[12] = 5 << 4
	if flags&packet.TCPAck != 0 {
		copy(t[4:8], oth[8:12]) // seq = the original ack_seq
		t[13] = packet.TCPRst
	} else {
		// The arithmetic is the kernel's, in 32 bits: a bogus data offset
		// wraps the same way.
		n := uint32(len(d)) - uint32(ihl) - uint32(oth[12]>>4)<<2
		n += binary.BigEndian.Uint32(oth[4:]) + uint32(flags&packet.TCPSyn>>1) + uint32(flags&packet.TCPFin)
		binary.BigEndian.PutUint32(t[8:], n)
		t[13] = packet.TCPRst | packet.TCPAck
	}
	binary.BigEndian.PutUint16(t[16:], packet.Checksum(t, packet.PseudoHeader(p.Dst, p.Src, packet.ProtoTCP, 20)))
	return r, true
}

// buildUnreach is nf_send_unreach followed by icmp_send.
func buildUnreach(p *packet.Packet, d []byte, ihl int, code uint8, buf []byte) ([]byte, bool) {
	if p.PktType != packet.PktHost && p.PktType != packet.PktOutgoing {
		return nil, false // "No replies to physical multicast/broadcast"
	}
	if d[9] == packet.ProtoICMP {
		// RFC 1122 3.2.2.1: never an error about an error. icmp_send
		// reads only the type byte, and takes an unknown type for an
		// error.
		if ihl >= len(d) {
			return nil, false
		}
		if typ := d[ihl]; typ > 18 || packet.ICMPIsError(typ) {
			return nil, false
		}
	}
	if !rejectCsumOK(p, d, ihl) {
		return nil, false
	}
	var src netip.Addr
	switch {
	case p.Hook == packet.Input, p.Hook == packet.Output && (p.OutIface == "lo" || p.Dst.IsLoopback()):
		src = p.Dst // RTCF_LOCAL: the address the packet was sent to
	case p.Hook == packet.Output:
		src = p.Src // the route back to this host's own address
	default:
		src = netip.IPv4Unspecified() // left to the route, as icmp_send does
	}
	q := min(len(d), rejectRoom)
	n := 20 + 8 + q
	r := grow(buf, n)
	putIPv4(r, d[1]&0x1e|0xc0, n, false, packet.ProtoICMP, src, p.Src)
	ic := r[20:]
	ic[0], ic[1] = 3, code // ICMP_DEST_UNREACH
	clear(ic[2:8])
	copy(ic[8:], d[:q])
	binary.BigEndian.PutUint16(ic[2:], packet.Checksum(ic, 0))
	return r, true
}
