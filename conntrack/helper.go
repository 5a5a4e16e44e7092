package conntrack

// Connection-tracking helpers (nf_conntrack_helper.c): code attached to a
// master connection (with -j CT --helper in the raw table) that reads its
// control messages, announces the connections they open as expectations,
// and, when the master is NATed, rewrites the addresses inside them
// (nf_nat_ftp.c, nf_nat_tftp.c) with the TCP sequence adjustment that
// follows (seqadj.go).
//
// A helper looks at payload bytes but never at a header: the engine hands
// in what it decoded (HelperPacket) and, for NAT, the packet itself behind
// the Mangler interface, so helpers can be driven and fuzzed with plain
// byte slices.

// helpExt is the helper's area of a Conn: the kernel's nf_conn_help with
// the helper's private data, and nf_conn_seqadj. Guarded by Conn.mu.
type helpExt struct {
	seqadj [2]SeqAdj
	ftp    ftpState
}

// Mangler is the packet a NAT helper rewrites. *packet.Packet implements
// it (packet/mangle.go).
type Mangler interface {
	// MangleTCPPayload replaces oldLen bytes at off of the TCP payload
	// with repl, fixing the IP length and the checksums, as
	// nf_nat_mangle_tcp_packet does without its sequence adjustment
	// (the helper records that). It reports false when the packet
	// cannot be changed; nothing is changed then.
	MangleTCPPayload(off, oldLen int, repl []byte) bool
}

// HelperPacket is one packet of a master as its helper sees it at the
// confirm hook, after filtering and NAT.
type HelperPacket struct {
	// Info is the packet's ctinfo; its direction selects what the helper
	// looks for.
	Info CtInfo
	// Seq is the TCP sequence number as the packet carries it (before any
	// sequence adjustment of this hook).
	Seq uint32
	// Payload is the transport payload. A helper never keeps it.
	Payload []byte
	// Mangler rewrites the packet for a NAT helper; nil when the packet
	// cannot be rewritten (a NAT helper then drops it, as when the kernel
	// cannot mangle).
	Mangler Mangler
	// Now is the packet's clock value.
	Now int64
}

// Helper names gofw implements. The kernel registers more (irc, sip, ...);
// they are refused by HelperKnown.
const (
	HelperFTP  = "ftp"
	HelperTFTP = "tftp"
)

// HelperKnown reports whether gofw implements the helper called name, so
// that -j CT --helper can refuse one it would silently ignore.
func HelperKnown(name string) bool { return name == HelperFTP || name == HelperTFTP }

// Help runs the helper attached to c on one of its packets, as nf_confirm
// calls helper->help before the entry is confirmed (RELATED_REPLY ICMP
// errors excepted, which the caller skips). It returns Accept, or Drop with
// the reason the kernel logs through nf_ct_helper_log ("partial matching
// of `PORT'"), to which the caller prefixes "nf_ct_<helper>: dropping
// packet: ".
func (t *Table) Help(c *Conn, p *HelperPacket) (Verdict, string) {
	switch c.Helper() {
	case HelperFTP:
		return t.helpFTP(c, p)
	case HelperTFTP:
		return t.helpTFTP(c, p)
	}
	return Accept, ""
}
