package conntrack

import "strings"

// Status is a connection's status word, with the kernel's bit numbers
// (enum ip_conntrack_status in uapi nf_conntrack_common.h) so that
// --ctstatus, conntrack -u and ctnetlink dumps read the same.
type Status uint32

// Status bits.
const (
	// StatusExpected: the entry was created from an expectation (it has a
	// master). Never cleared.
	StatusExpected Status = 1 << 0
	// StatusSeenReply: a packet was seen in the reply direction (set after
	// the tracker accepted it). Never cleared.
	StatusSeenReply Status = 1 << 1
	// StatusAssured: the entry is not a victim of early drop. Set per
	// protocol (TCP handshake complete, UDP stream, GRE reply).
	StatusAssured Status = 1 << 2
	// StatusConfirmed: the entry is in the hash (Confirm succeeded).
	StatusConfirmed Status = 1 << 3
	// StatusSrcNAT: NAT changed the source part of the tuple.
	StatusSrcNAT Status = 1 << 4
	// StatusDstNAT: NAT changed the destination part of the tuple.
	StatusDstNAT Status = 1 << 5
	// StatusSeqAdjust: a helper resized a TCP payload; sequence numbers
	// need rewriting.
	StatusSeqAdjust Status = 1 << 6
	// StatusSrcNATDone: the source NAT decision was taken (possibly a null
	// binding).
	StatusSrcNATDone Status = 1 << 7
	// StatusDstNATDone: the destination NAT decision was taken.
	StatusDstNATDone Status = 1 << 8
	// StatusDying: the entry is being deleted. Never cleared.
	StatusDying Status = 1 << 9
	// StatusFixedTimeout: packets must not refresh the timeout.
	StatusFixedTimeout Status = 1 << 10
	// StatusTemplate: a -j CT template, never a real entry.
	StatusTemplate Status = 1 << 11
	// StatusUntracked is the kernel's old "untracked" bit, today reused as
	// StatusNATClash.
	StatusUntracked Status = 1 << 12
	// StatusNATClash marks an entry that lost an insert race and lives only
	// under its reply tuple for a second (nf_ct_resolve_clash_harder).
	StatusNATClash = StatusUntracked
	// StatusHelper: a helper was attached explicitly (-j CT --helper).
	StatusHelper Status = 1 << 13
	// StatusOffload and StatusHWOffload: flowtable offload; gofw never sets
	// them but keeps the numbering.
	StatusOffload   Status = 1 << 14
	StatusHWOffload Status = 1 << 15
)

// statusNames lists the bits with the names conntrack-tools accepts and
// prints (-u, -o save), in bit order.
var statusNames = [...]struct {
	bit  Status
	name string
}{
	{StatusExpected, "EXPECTED"},
	{StatusSeenReply, "SEEN_REPLY"},
	{StatusAssured, "ASSURED"},
	{StatusConfirmed, "CONFIRMED"},
	{StatusSrcNAT, "SRC_NAT"},
	{StatusDstNAT, "DST_NAT"},
	{StatusSeqAdjust, "SEQ_ADJUST"},
	{StatusSrcNATDone, "SRC_NAT_DONE"},
	{StatusDstNATDone, "DST_NAT_DONE"},
	{StatusDying, "DYING"},
	{StatusFixedTimeout, "FIXED_TIMEOUT"},
	{StatusTemplate, "TEMPLATE"},
	{StatusUntracked, "UNTRACKED"},
	{StatusHelper, "HELPER"},
	{StatusOffload, "OFFLOAD"},
	{StatusHWOffload, "HW_OFFLOAD"},
}

// String lists the set bits, comma-separated, in bit order ("UNSET" when
// none is set, as conntrack -o save prints).
func (s Status) String() string {
	var b strings.Builder
	for _, n := range statusNames {
		if s&n.bit != 0 {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(n.name)
		}
	}
	if b.Len() == 0 {
		return "UNSET"
	}
	return b.String()
}

// ParseStatus maps one status name (as conntrack -u takes it) to its bit.
func ParseStatus(name string) (Status, bool) {
	for _, n := range statusNames {
		if n.name == name {
			return n.bit, true
		}
	}
	return 0, false
}

// CtInfo is what the tracker tells about one packet, the kernel's enum
// ip_conntrack_info, with the kernel's values. Invalid is gofw's own value
// for "no entry attached", which the kernel expresses with a NULL _nfct.
type CtInfo uint8

// The packet classifications.
const (
	// Established: original direction of an entry that has seen a reply.
	Established CtInfo = 0 // IP_CT_ESTABLISHED
	// Related: first packets of an expected connection, or an ICMP error
	// about an entry's original direction.
	Related CtInfo = 1 // IP_CT_RELATED
	// New: original direction of an entry without reply and not expected.
	New CtInfo = 2 // IP_CT_NEW
	// EstablishedReply: any packet in the reply direction.
	EstablishedReply CtInfo = 3 // IP_CT_ESTABLISHED_REPLY
	// RelatedReply: an ICMP error travelling in the reply direction.
	RelatedReply CtInfo = 4 // IP_CT_RELATED_REPLY
	// Untracked: the packet is deliberately not tracked (-j NOTRACK, or
	// ICMPv6 neighbour discovery and MLD).
	Untracked CtInfo = 7 // IP_CT_UNTRACKED
	// Invalid: no entry (a malformed packet, one the tracker refused, or
	// one that cannot start a connection).
	Invalid CtInfo = 255
)

// ctIsReply is IP_CT_IS_REPLY: ctinfo values at or above it (and below
// Untracked) belong to the reply direction.
const ctIsReply = 3

// Dir returns the packet's direction, as the kernel's CTINFO2DIR.
func (i CtInfo) Dir() Dir {
	if i >= ctIsReply && i < Untracked {
		return Reply
	}
	return Original
}

var ctInfoNames = [...]string{"ESTABLISHED", "RELATED", "NEW", "ESTABLISHED_REPLY", "RELATED_REPLY"}

// String returns the kernel's name without the IP_CT_ prefix.
func (i CtInfo) String() string {
	switch {
	case int(i) < len(ctInfoNames):
		return ctInfoNames[i]
	case i == Untracked:
		return "UNTRACKED"
	case i == Invalid:
		return "INVALID"
	}
	return "?"
}

// State-match bits, numbered as xt_state.h and xt_conntrack.h number them
// (XT_STATE_BIT(ctinfo) = 1 << (ctinfo % IP_CT_IS_REPLY + 1)), so the
// matches can store the user's --state / --ctstate list as one mask.
const (
	StateInvalid     uint32 = 1 << 0 // XT_STATE_INVALID
	StateEstablished uint32 = 1 << 1 // XT_STATE_BIT(IP_CT_ESTABLISHED)
	StateRelated     uint32 = 1 << 2 // XT_STATE_BIT(IP_CT_RELATED)
	StateNew         uint32 = 1 << 3 // XT_STATE_BIT(IP_CT_NEW)
	// StateUntracked is -m state's UNTRACKED bit (XT_STATE_UNTRACKED,
	// 1 << (IP_CT_NUMBER + 1)).
	StateUntracked uint32 = 1 << 6
	// CtStateSNAT, CtStateDNAT and CtStateUntracked are -m conntrack's own
	// bits (XT_CONNTRACK_STATE_SNAT/DNAT/UNTRACKED).
	CtStateSNAT      uint32 = 1 << 6
	CtStateDNAT      uint32 = 1 << 7
	CtStateUntracked uint32 = 1 << 8
)

// StateBit returns the bit -m state tests for a packet classified info
// with entry c (nil when the packet has none), as xt_state.c state_mt.
func StateBit(c *Conn, info CtInfo) uint32 {
	switch {
	case info == Untracked:
		return StateUntracked
	case c == nil || info == Invalid:
		return StateInvalid
	}
	return 1 << (uint32(info)%ctIsReply + 1)
}

// CtStateBits returns the bits -m conntrack --ctstate tests, as
// xt_conntrack.c conntrack_mt: the packet's state bit, plus the virtual
// SNAT and DNAT bits when the entry has SRC_NAT / DST_NAT (so --ctstate
// DNAT matches every packet of a DNATed connection, both directions).
func CtStateBits(c *Conn, info CtInfo) uint32 {
	switch {
	case info == Untracked:
		return CtStateUntracked
	case c == nil || info == Invalid:
		return StateInvalid
	}
	bits := uint32(1) << (uint32(info)%ctIsReply + 1)
	st := c.Status()
	if st&StatusSrcNAT != 0 {
		bits |= CtStateSNAT
	}
	if st&StatusDstNAT != 0 {
		bits |= CtStateDNAT
	}
	return bits
}

// Verdict is what the tracker asks the datapath to do with a packet. Almost
// always Accept (INVALID packets are accepted and left to the rules, as in
// the kernel); Drop when the table is full and early drop failed, or when
// Confirm lost an insert race.
type Verdict uint8

// Verdicts.
const (
	Accept Verdict = iota
	Drop
)

// String returns "ACCEPT" or "DROP".
func (v Verdict) String() string {
	if v == Drop {
		return "DROP"
	}
	return "ACCEPT"
}
