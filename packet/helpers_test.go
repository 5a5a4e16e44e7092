package packet

import (
	"fmt"
	"net/netip"
	"strings"
)

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func ap(s string, port uint16) netip.AddrPort { return netip.AddrPortFrom(ip(s), port) }

// mut returns a copy of b changed by f, for malformed-input rows.
func mut(b []byte, f func(b []byte)) []byte {
	c := append([]byte(nil), b...)
	f(c)
	return c
}

// dump prints every decoded header field of p that is set, in a fixed
// order, so a table row's want names the whole decode result: a field the
// row does not expect shows up in the diff.
func dump(p *Packet) string {
	var b strings.Builder
	f := func(name string, v any) { fmt.Fprintf(&b, " %s=%v", name, v) }
	f("fam", p.Family)
	if p.Malformed || p.Reason != ReasonNone {
		f("malformed", fmt.Sprintf("%v(%q)", p.Malformed, p.Reason))
	}
	if p.Src.IsValid() || p.Dst.IsValid() {
		f("hdr", p.HdrLen)
		f("tot", p.TotalLen)
		f("src", p.Src)
		f("dst", p.Dst)
		f("proto", p.Proto)
		f("ttl", p.TTL)
	}
	if p.TOS != 0 {
		f("tos", p.TOS)
	}
	if p.IPID != 0 {
		f("id", p.IPID)
	}
	if p.FragOff != 0 || p.MoreFrag {
		f("frag", fmt.Sprintf("%d/%v", p.FragOff, p.MoreFrag))
	}
	f("l4", p.L4Off)
	f("pay", p.PayloadOff)
	if p.HasPorts {
		f("ports", fmt.Sprintf("%d>%d", p.SrcPort, p.DstPort))
	}
	if p.TCPHdrLen != 0 {
		f("tcp", fmt.Sprintf("flags=0x%02x seq=%d ack=%d win=%d hl=%d", p.TCPFlags, p.Seq, p.Ack, p.Window, p.TCPHdrLen))
	} else if p.TCPFlags != 0 || p.Seq != 0 || p.Ack != 0 || p.Window != 0 {
		f("tcpjunk", fmt.Sprintf("%d %d %d %d", p.TCPFlags, p.Seq, p.Ack, p.Window))
	}
	if p.DCCPType != 0 {
		f("dccptype", p.DCCPType)
	}
	if p.ICMPType != 0 || p.ICMPCode != 0 || p.ICMPID != 0 {
		f("icmp", fmt.Sprintf("%d/%d id=%d", p.ICMPType, p.ICMPCode, p.ICMPID))
	}
	if p.HasInner || p.InnerOff != -1 || p.InnerL4Off != -1 || p.InnerSrc.IsValid() || p.InnerProto != 0 {
		f("inner", fmt.Sprintf("%v@%d/%d %v>%v proto=%d", p.HasInner, p.InnerOff, p.InnerL4Off, p.InnerSrc, p.InnerDst, p.InnerProto))
	}
	if p.InnerHasPorts || p.InnerSrcPort != 0 || p.InnerDstPort != 0 {
		f("iports", fmt.Sprintf("%v %d>%d", p.InnerHasPorts, p.InnerSrcPort, p.InnerDstPort))
	}
	if p.InnerICMPType != 0 || p.InnerICMPCode != 0 || p.InnerICMPID != 0 {
		f("iicmp", fmt.Sprintf("%d/%d id=%d", p.InnerICMPType, p.InnerICMPCode, p.InnerICMPID))
	}
	if p.Hotdrop || p.Changed {
		f("flags", fmt.Sprintf("hotdrop=%v changed=%v", p.Hotdrop, p.Changed))
	}
	return strings.TrimSpace(b.String())
}

// refSum is the textbook RFC 1071 checksum, 16 bits at a time, kept apart
// from sumBytes so the two check each other.
func refSum(parts ...[]byte) uint16 {
	var s uint32
	for _, b := range parts {
		for i := 0; i < len(b); i += 2 {
			w := uint32(b[i]) << 8
			if i+1 < len(b) {
				w |= uint32(b[i+1])
			}
			s += w
			for s > 0xffff {
				s = s&0xffff + s>>16
			}
		}
	}
	return ^uint16(s)
}

// csumEquiv reports whether two checksum values are the same one's
// complement number (0x0000 and 0xffff both mean zero).
func csumEquiv(a, b uint16) bool {
	return a == b || (a == 0 && b == 0xffff) || (a == 0xffff && b == 0)
}
