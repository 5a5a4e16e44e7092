package match

import "github.com/gofw/gofw/packet"

// This file holds the little the hot paths of the header matches (tcp,
// udp, icmp, multiport) share: how they reach the transport header. Each
// match's own Match lives in its extension file.

// l4Hdr returns the first n bytes of p's transport header, or nil when the
// datagram ends sooner: what skb_header_pointer(skb, par->thoff, n, buf)
// gives a kernel match, NULL included. It reads the raw bytes rather than
// the decoded fields, because the kernel's matches do too: a TCP segment
// whose data offset conntrack refused still has ports and flags for
// tcp_mt. The caller has already turned away non-first fragments, which
// have no transport header (p.L4Off < 0).
//
// Called for every packet; must not allocate.
func l4Hdr(p *packet.Packet, n int) []byte {
	if p.L4Off < 0 || n > len(p.Data)-p.L4Off {
		return nil
	}
	return p.Data[p.L4Off : p.L4Off+n]
}

// portIn is xt_tcpudp.c port_match: port within [lo, hi], negated by inv.
func portIn(lo, hi, port uint16, inv bool) bool {
	return (port >= lo && port <= hi) != inv
}
