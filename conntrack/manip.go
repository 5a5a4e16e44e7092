package conntrack

// Manip is which end of a connection NAT rewrites, the kernel's enum
// nf_nat_manip_type: the source (SNAT, MASQUERADE; at POSTROUTING and
// INPUT) or the destination (DNAT, REDIRECT; at PREROUTING and OUTPUT).
type Manip uint8

// The two manipulations.
const (
	ManipSrc Manip = iota
	ManipDst
)

// String returns "SNAT" or "DNAT".
func (m Manip) String() string {
	if m == ManipDst {
		return "DNAT"
	}
	return "SNAT"
}
