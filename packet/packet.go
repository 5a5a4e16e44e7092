// Package packet is gofw's per-packet view: a datagram decoded once into a
// reusable struct that matches and targets read, plus the metadata the kernel
// attaches to an skb (hook, interfaces, mark, socket owner, conntrack entry).
//
// A Packet is owned by one worker and reused for every packet it handles, so
// nothing here may allocate on the packet path. Decode fills it from an IPv4
// or IPv6 datagram (decode.go, decode6.go), ChecksumOK verifies the transport
// checksum as conntrack does at PREROUTING (checksum.go), and the Set methods
// rewrite addresses, ports, ids, TTL and TOS in place with incremental
// checksums for NAT and mangle targets (rewrite.go, tcpopt.go).
//
// Off the packet path, the Build functions craft well-formed datagrams for
// tests and capture generation (build.go), and pcap.go writes them to pcap
// files and reads pcap and pcapng captures back as IP datagrams. Defrag
// (defrag.go) reassembles IPv4 fragments as the kernel's nf_defrag_ipv4
// does and Refragment sends a datagram on in them again, for gofw trace.
package packet

import (
	"net/netip"

	"github.com/gofw/gofw/conntrack"
)

// Hook is a netfilter hook, in the kernel's numbering (NF_INET_*), so that
// hook masks read the same as in net/netfilter.
type Hook uint8

// The five IPv4/IPv6 hooks, in the kernel's order.
const (
	Prerouting Hook = iota
	Input
	Forward
	Output
	Postrouting
	NumHooks
)

var hookNames = [NumHooks]string{"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"}

// String returns the hook's built-in chain name, as iptables spells it.
func (h Hook) String() string {
	if h < NumHooks {
		return hookNames[h]
	}
	return "?"
}

// HookMask is a set of hooks, bit n for Hook n (as the kernel's valid_hooks).
type HookMask uint8

// Has reports whether h is in the set.
func (m HookMask) Has(h Hook) bool { return m&(1<<h) != 0 }

// Mask returns the set holding only h.
func (h Hook) Mask() HookMask { return 1 << h }

// AllHooks is the set of all five hooks.
const AllHooks HookMask = 1<<NumHooks - 1

// PktType is the link-layer class of a received packet, as the kernel's
// skb->pkt_type (PACKET_HOST, PACKET_BROADCAST, ...).
type PktType uint8

// Link-layer packet classes, numbered as in <linux/if_packet.h>.
const (
	PktHost      PktType = 0
	PktBroadcast PktType = 1
	PktMulticast PktType = 2
	PktOtherHost PktType = 3
	PktOutgoing  PktType = 4
)

// IP protocol numbers gofw decodes.
const (
	ProtoICMP    = 1
	ProtoTCP     = 6
	ProtoUDP     = 17
	ProtoDCCP    = 33
	ProtoGRE     = 47
	ProtoICMPv6  = 58
	ProtoSCTP    = 132
	ProtoUDPLite = 136
)

// TCP flag bits as they appear in byte 13 of the TCP header.
const (
	TCPFin = 0x01
	TCPSyn = 0x02
	TCPRst = 0x04
	TCPPsh = 0x08
	TCPAck = 0x10
	TCPUrg = 0x20
	TCPEce = 0x40
	TCPCwr = 0x80
)

// Packet is one datagram with its decoded headers and metadata.
//
// Decode fills the header fields; the datapath (or gofw trace) fills the
// metadata before the packet enters the ruleset. Fields are plain values so a
// Packet can be reset and reused without allocating.
type Packet struct {
	// Data is the whole network-layer datagram. It is owned by the caller and
	// rewritten in place by NAT.
	Data []byte

	// Metadata, set by the datapath.
	Hook     Hook
	InIface  string // "" when the hook has no input device
	OutIface string // "" when the hook has no output device
	Mark     uint32
	PktType  PktType
	HasMAC   bool
	SrcMAC   [6]byte
	HasOwner bool // the sending socket's owner is known (locally generated)
	UID, GID uint32

	// Network layer. Family comes from the version nibble; Decode
	// dispatches on it (decodeIPv4, decodeIPv6) and everything below it is
	// family-neutral, so a new family needs a new decoder only.
	Family   uint8 // 4 or 6; 0 when there is no IP header at all
	HdrLen   int   // network header length including options (IPv6: and extension headers)
	TotalLen int   // as the header says; Data is trimmed to it (and shorter if Truncated)
	// Truncated: Data is the start of the packet only, as the queue's copy
	// range cut it (DecodeCapture); its length is TotalLen (WireLen).
	Truncated bool
	wire      int // the packet's length as handed to the decoder
	Src, Dst  netip.Addr
	Proto     uint8  // transport protocol (IPv6: after extension headers, as ipv6_find_hdr)
	TTL       uint8  // IPv6: hop limit
	TOS       uint8  // IPv6: traffic class
	FragOff   uint16 // fragment offset in 8-byte units (IPv6: from the fragment header)
	MoreFrag  bool
	IPID      uint16 // IPv4 only

	// Transport layer. Ports are valid when HasPorts; a non-first fragment has
	// no transport header at all. Offsets are -1 or within Data.
	L4Off      int // offset of the transport header in Data (even a malformed one), or -1 (non-first fragment, IPv6 no-next-header, broken IP header)
	PayloadOff int // offset of the transport payload in Data (a fragment's data; all of an unparsed protocol), or -1 when the transport header is malformed
	HasPorts   bool
	SrcPort    uint16
	DstPort    uint16
	TCPFlags   uint8
	Seq, Ack   uint32
	Window     uint16
	ICMPType   uint8 // ICMP, or ICMPv6 when Proto is ProtoICMPv6
	ICMPCode   uint8
	ICMPID     uint16 // query id: ICMP echo/timestamp/info/mask, ICMPv6 echo; else 0
	// TCPHdrLen is the TCP header length including options (data offset
	// times four); 0 when the packet is not a decoded TCP segment.
	TCPHdrLen int
	// DCCPType is the DCCP packet type (dccph_type), what xt_dccp's
	// --dccp-types matches and the DCCP tracker's state machine reads.
	DCCPType uint8

	// Quoted datagram of an ICMP error (types 3, 4, 5, 11, 12; ICMPv6 types
	// below 128): the IP header (IPv6: and its extension headers) plus the
	// first bytes of its transport header that the error
	// carries, as nf_conntrack_inet_error reads them to find the RELATED
	// connection. HasInner is false when the packet is not an ICMP error or
	// when the quote is too short to give a tuple; conntrack treats an ICMP
	// error without HasInner as INVALID ("failed to get tuple"), but the
	// outer headers stay valid for matches, so Malformed is not set.
	HasInner      bool
	InnerOff      int // offset of the quoted IP header in Data, or -1
	InnerL4Off    int // offset of the quoted transport header in Data, or -1
	InnerProto    uint8
	InnerSrc      netip.Addr
	InnerDst      netip.Addr
	InnerHasPorts bool // InnerSrcPort/InnerDstPort are valid
	InnerSrcPort  uint16
	InnerDstPort  uint16
	InnerICMPType uint8 // valid when InnerProto is ICMP or ICMPv6
	InnerICMPCode uint8
	InnerICMPID   uint16 // valid when InnerICMPType is a query type

	// Connection tracking: the entry this packet belongs to and how, the
	// skb's _nfct and ctinfo. The engine sets them at the packet's first
	// hook (or finds them again at later hooks); Conn is nil for an
	// INVALID or UNTRACKED packet.
	Conn   *conntrack.Conn
	CtInfo conntrack.CtInfo
	// The conntrack template the raw table set before conntrack ran (-j CT,
	// -j NOTRACK), as the kernel's template conn attached to the skb.
	NoTrack bool
	Zone    uint16
	Helper  string
	// HasTemplate is set once a CT or NOTRACK target has run (the skb's
	// _nfct is set): xt_CT.c xt_ct_target leaves a packet that already has
	// one alone, so the first CT rule a packet meets wins.
	HasTemplate bool

	// CsumNotReady says the transport checksum is not computed yet (the
	// kernel's CHECKSUM_PARTIAL, a GSO packet the NIC or the segmentation
	// code will finish): it cannot be verified, and FinishChecksum must
	// fill it in if gofw hands the packet back rewritten.
	CsumNotReady bool

	// Gen is the generation of the compiled ruleset that ran the packet's
	// hooks (ruleset.Engine.Gen), MixedGen if they ran under different
	// ones, 0 before any ran.
	Gen uint32

	// Now is the engine's clock for this packet, in nanoseconds: monotonic
	// time in gofwd, capture time in gofw trace. Stateful matches (limit,
	// hashlimit, recent) and conntrack read it instead of the wall clock.
	Now int64

	// Verdict details a target leaves for the datapath: the queue of an
	// NFQUEUE verdict, and what REJECT answers with.
	QueueNum    uint16
	QueueBypass bool
	RejectWith  uint8

	// Malformed is set when the headers could not be decoded; such a packet
	// is INVALID for conntrack and matches that need the broken header fail.
	// Reason says which check failed. When the network header itself is
	// broken (an L3 reason, see Reason.L3) no field but Family is valid;
	// otherwise the network-layer fields are valid and only the transport
	// fields are missing, as the kernel still runs iptables on a packet whose
	// transport header conntrack rejected.
	Malformed bool
	Reason    Reason
	// Hotdrop is set by a match that found a header it needs to be broken;
	// the packet is dropped, as the kernel's acpar.hotdrop.
	Hotdrop bool
	// Changed is set by every rewrite (NAT, TTL, TOS, MSS), so the datapath
	// knows to hand Data back to the kernel with its verdict.
	Changed bool
}

// IsFragment reports whether the packet is a non-first fragment (what
// iptables' -f matches).
func (p *Packet) IsFragment() bool { return p.FragOff != 0 }

// ResetMeta clears the metadata a previous packet left in a reused Packet:
// interfaces, mark, owner, conntrack attachment and verdict details. The
// datapath calls it before filling in the next packet's metadata; Decode
// itself keeps metadata, so it can be set before or after decoding.
func (p *Packet) ResetMeta() {
	p.Hook = 0
	p.InIface, p.OutIface = "", ""
	p.Mark = 0
	p.PktType = PktHost
	p.HasMAC = false
	p.SrcMAC = [6]byte{}
	p.HasOwner = false
	p.UID, p.GID = 0, 0
	p.Conn, p.CtInfo = nil, conntrack.Invalid
	p.NoTrack, p.Zone, p.Helper, p.HasTemplate = false, 0, "", false
	p.Now = 0
	p.CsumNotReady = false
	p.QueueNum, p.QueueBypass, p.RejectWith = 0, false, 0
	p.Gen = 0
}

// MixedGen is Packet.Gen when the hooks of one packet ran under different
// compiled rulesets (a reload in between).
const MixedGen = ^uint32(0)
