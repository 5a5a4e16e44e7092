package ruleset

import (
	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/packet"
)

// makeSegment fills seg with what conntrack reads of p: its tuple as it is
// at this hook, the TCP fields and options the window tracker needs, and
// the quoted tuple of an ICMP error. checksum asks for the transport
// checksum to be verified, which the kernel does only at PREROUTING
// (nf_conntrack_checksum; locally generated packets are trusted).
//
// Called for every packet at its first hook; must not allocate.
func makeSegment(p *packet.Packet, seg *conntrack.Segment, checksum bool) {
	*seg = conntrack.Segment{Zone: p.Zone, Len: uint32(p.WireLen())}
	if p.Malformed && p.Reason.L3() || p.Family == 0 {
		seg.Malformed = true
		return
	}
	// A non-first fragment has no transport header: the kernel
	// reassembles before conntrack (nf_defrag); gofw sees fragments one by
	// one and cannot, so they are INVALID and left to the rules (-f).
	if p.Malformed || p.L4Off < 0 {
		seg.Malformed = true
	}
	switch p.Proto {
	case packet.ProtoICMP, packet.ProtoICMPv6:
		seg.Tuple = conntrack.MakeICMPTuple(p.Src, p.Dst, p.Proto, p.ICMPType, p.ICMPCode, p.ICMPID)
		if isICMPError(p) {
			seg.Tuple.SrcPort = 0
			if !p.HasInner {
				seg.Malformed = true // "failed to get tuple"
			} else if p.InnerProto == packet.ProtoICMP || p.InnerProto == packet.ProtoICMPv6 {
				seg.Inner = conntrack.MakeICMPTuple(p.InnerSrc, p.InnerDst, p.InnerProto, p.InnerICMPType, p.InnerICMPCode, p.InnerICMPID)
			} else {
				var sp, dp uint16
				if p.InnerHasPorts {
					sp, dp = p.InnerSrcPort, p.InnerDstPort
				}
				seg.Inner = conntrack.MakeTuple(p.InnerSrc, p.InnerDst, p.InnerProto, sp, dp)
			}
		}
	default:
		var sp, dp uint16
		if p.HasPorts {
			sp, dp = p.SrcPort, p.DstPort
		}
		seg.Tuple = conntrack.MakeTuple(p.Src, p.Dst, p.Proto, sp, dp)
	}
	// A checksum not computed yet (GSO, CHECKSUM_PARTIAL) is not checked:
	// the kernel's nf_ip_checksum trusts such packets too. Nor is a
	// truncated capture's: the datapath takes one only when the kernel or
	// the NIC verified its checksum already (no NFQA_SKB_CSUM_NOTVERIFIED).
	if checksum && !seg.Malformed && !p.CsumNotReady && !p.Truncated && !p.ChecksumOK() {
		seg.BadChecksum = true
	}
	if p.Proto == packet.ProtoTCP && p.TCPHdrLen >= 20 {
		seg.TCPFlags = p.TCPFlags
		seg.Seq, seg.Ack = p.Seq, p.Ack
		seg.Window = p.Window
		seg.HdrLen = uint8(p.TCPHdrLen)
		seg.PayloadLen = uint32(p.WireLen() - p.L4Off - p.TCPHdrLen)
		if p.TCPHdrLen > 20 {
			seg.WScale, seg.HasWScale = p.TCPWScale()
			seg.SACKPerm = p.TCPSACKPerm()
			if p.TCPFlags&packet.TCPAck != 0 {
				if e := p.TCPSACK(p.Ack); e != p.Ack {
					seg.HasSACK, seg.SACKEdge = true, e
				}
			}
		}
	}
}

func isICMPError(p *packet.Packet) bool {
	if p.Proto == packet.ProtoICMP {
		return p.Family == 4 && packet.ICMPIsError(p.ICMPType)
	}
	return p.Family == 6 && packet.ICMPv6IsError(p.ICMPType)
}
