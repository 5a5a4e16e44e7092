package ruleset

import (
	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/packet"
	"github.com/gofw/gofw/target"
)

// natBit is the status bit that says manip m applies to a packet of
// direction d, as nf_nat_packet computes it: a source manip of the
// original direction is SRC_NAT; in the reply direction the meanings swap,
// which is what makes reverse NAT implicit.
func natBit(m conntrack.Manip, d conntrack.Dir) conntrack.Status {
	bit := conntrack.StatusSrcNAT
	if m == conntrack.ManipDst {
		bit = conntrack.StatusDstNAT
	}
	if d == conntrack.Reply {
		bit ^= conntrack.StatusSrcNAT | conntrack.StatusDstNAT
	}
	return bit
}

// natPacket is nf_nat_packet: if the entry is NATed for this manip and
// direction, make p look like the inverse of the other direction's tuple
// (nf_nat_manip_pkt). ICMP errors go to natICMPError instead.
//
// Called for every packet of a NATed connection; must not allocate.
func natPacket(p *packet.Packet, m conntrack.Manip) target.Verdict {
	c := p.Conn
	if isICMPError(p) {
		if p.CtInfo == conntrack.Related || p.CtInfo == conntrack.RelatedReply {
			return natICMPError(p, m)
		}
		return target.Accept
	}
	d := p.CtInfo.Dir()
	if c.Status()&natBit(m, d) == 0 {
		return target.Accept
	}
	other := c.Tuple(1 - d)
	want, ok := other.Invert()
	if !ok {
		return target.Drop
	}
	manipPacket(p, &want, m)
	return target.Accept
}

// manipPacket rewrites the address and port (or ICMP query id) of manip m
// to those of tu, with incremental checksums (nf_nat_ipv4_manip_pkt and the
// l4 manip functions).
func manipPacket(p *packet.Packet, tu *conntrack.Tuple, m conntrack.Manip) {
	if m == conntrack.ManipSrc {
		if a := tu.SrcAddr(); a != p.Src {
			p.SetSrc(a)
		}
	} else if a := tu.DstAddr(); a != p.Dst {
		p.SetDst(a)
	}
	switch {
	case p.Proto == packet.ProtoICMP || p.Proto == packet.ProtoICMPv6:
		// icmp_manip_pkt: only queries carry an id; it is the tuple's
		// source id for either manip.
		if p.ICMPID != tu.ICMPID() && !isICMPError(p) {
			p.SetICMPID(tu.ICMPID())
		}
	case !p.HasPorts:
	case m == conntrack.ManipSrc:
		if p.SrcPort != tu.SrcPort {
			p.SetSrcPort(tu.SrcPort)
		}
	default:
		if p.DstPort != tu.DstPort {
			p.SetDstPort(tu.DstPort)
		}
	}
}

// natICMPError is nf_nat_icmp_reply_translation: an ICMP error about a
// NATed connection gets the quoted packet changed back to what its sender
// saw (the opposite manip on the other direction's tuple), then the outer
// header made to look like the reply to it.
func natICMPError(p *packet.Packet, m conntrack.Manip) target.Verdict {
	c := p.Conn
	d := p.CtInfo.Dir()
	st := c.Status()
	if p.ICMPType == packet.ICMPRedirect {
		// A redirect for a NATed (or not yet decided) flow would point
		// the sender at the wrong host: the kernel drops it.
		done := conntrack.StatusSrcNATDone | conntrack.StatusDstNATDone
		if st&done != done || st&(conntrack.StatusSrcNAT|conntrack.StatusDstNAT) != 0 {
			return target.Drop
		}
	}
	if st&natBit(m, d) == 0 {
		return target.Accept
	}
	other := c.Tuple(1 - d)
	// The inner packet travelled in the other direction: rewrite it with
	// the opposite manip, to the other direction's tuple as it is.
	if m == conntrack.ManipSrc {
		if a := other.DstAddr(); a != p.InnerDst {
			p.SetInnerDst(a)
		}
		if p.InnerHasPorts && p.InnerDstPort != other.DstPort {
			p.SetInnerDstPort(other.DstPort)
		}
	} else {
		if a := other.SrcAddr(); a != p.InnerSrc {
			p.SetInnerSrc(a)
		}
		if p.InnerHasPorts && p.InnerSrcPort != other.SrcPort {
			p.SetInnerSrcPort(other.SrcPort)
		}
	}
	if (p.InnerProto == packet.ProtoICMP || p.InnerProto == packet.ProtoICMPv6) && p.InnerICMPID != other.ICMPID() &&
		packet.ICMPIsQuery(p.InnerICMPType) {
		p.SetInnerICMPID(other.ICMPID())
	}
	want, ok := other.Invert()
	if !ok {
		return target.Drop
	}
	if m == conntrack.ManipSrc {
		if a := want.SrcAddr(); a != p.Src {
			p.SetSrc(a)
		}
	} else if a := want.DstAddr(); a != p.Dst {
		p.SetDst(a)
	}
	return target.Accept
}
