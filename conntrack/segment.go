package conntrack

// Segment is what the engine hands to Table.In for each packet: the
// packet's tuple and the handful of header fields the trackers read. It is
// a plain value so that tests and fuzzers can build sequences of them
// without any packet bytes. The engine owns it and may reuse it; In does
// not keep a reference.
type Segment struct {
	// Tuple is the packet's tuple as it is on the wire at this hook
	// (Family and Proto included). For ICMP/ICMPv6 it carries type, code
	// and id as MakeICMPTuple lays them out; for an ICMP error the id part
	// is 0 and Inner describes the quoted packet.
	Tuple Tuple
	// Zone is the conntrack zone (-j CT --zone); 0 is the default zone.
	Zone uint16
	// Len is the packet's layer-3 length (IP header included), counted in
	// the per-direction byte counters when accounting is on (skb->len).
	Len uint32

	// Malformed is set when a header the tracker needs is missing or
	// truncated: an IP header that cannot be parsed, no layer-4 header (a
	// non-first fragment), a TCP data offset below 5 or beyond the packet,
	// a UDP length field larger than the packet or below 8, an ICMP header
	// shorter than 8 bytes, or an ICMP error whose embedded header cannot
	// be parsed. Such a packet is INVALID (tcp_error, udp_error,
	// icmp_error, get_l4proto).
	Malformed bool
	// BadChecksum is set when the layer-4 checksum is wrong. The engine
	// sets it only where the kernel checks (nf_conntrack_checksum=1, at
	// PREROUTING); a UDP checksum of 0 is not bad. Such a packet is
	// INVALID.
	BadChecksum bool

	// TCP fields.

	// TCPFlags is byte 13 of the TCP header (FIN=0x01 ... CWR=0x80).
	TCPFlags uint8
	// Seq and Ack are the sequence and acknowledgement numbers.
	Seq, Ack uint32
	// Window is the raw (unscaled) window field.
	Window uint16
	// HdrLen is the TCP header length in bytes (data offset × 4). Option
	// fields below are looked at only when it is above 20, as the kernel's
	// tcp_options does; 0 is read as 20.
	HdrLen uint8
	// HasWScale is set when a window-scale option is present; WScale is
	// its shift count (capped at 14 by the tracker, as TCP_MAX_WSCALE).
	HasWScale bool
	WScale    uint8
	// SACKPerm is set when a SACK-permitted option is present.
	SACKPerm bool
	// HasSACK is set when SACK blocks are present; SACKEdge is the highest
	// right edge among them (in sequence-space order), which tcp_sack
	// would compute.
	HasSACK  bool
	SACKEdge uint32
	// PayloadLen is the TCP payload length in bytes (without the header).
	PayloadLen uint32

	// ICMP fields.

	// Inner is, for an ICMP/ICMPv6 error, the tuple of the embedded packet
	// exactly as quoted (the packet the receiver of the error sent). It is
	// ignored for other packets.
	Inner Tuple
}

// TCP flag bits, as in byte 13 of the TCP header.
const (
	TCPFin uint8 = 0x01
	TCPSyn uint8 = 0x02
	TCPRst uint8 = 0x04
	TCPPsh uint8 = 0x08
	TCPAck uint8 = 0x10
	TCPUrg uint8 = 0x20
	TCPEce uint8 = 0x40
	TCPCwr uint8 = 0x80
)
