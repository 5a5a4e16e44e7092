package packet

import "encoding/binary"

// Payload mangling and TCP sequence rewriting for the NAT side of
// connection-tracking helpers (nf_nat_helper.c, nf_conntrack_seqadj.c).
//
// Buffer contract. A payload rewrite may change the packet's length. A
// shorter packet is Data re-sliced. A longer one grows Data in place when
// cap(Data) leaves room, else Mangle copies the datagram into a new, larger
// array, as the kernel's enlarge_skb reallocates an skb without tailroom,
// and Data points there from then on. Callers must therefore take the bytes
// to send from p.Data after the hooks ran, never from the buffer they
// decoded. The datapath avoids the copy by reading each datagram into a
// buffer with spare capacity (a 64 KiB receive buffer always has it); gofw
// trace and tests may hand in tight slices and pay one copy per resized
// packet, which only a helper's rewrite of a control message ever causes.

// maxMangleGrow is the spare room a reallocated buffer gets beyond the new
// length, so that one more rewrite of the same packet does not copy again.
const maxMangleGrow = 64

// Mangle replaces the oldLen bytes at off in Data, which must lie in the
// transport payload of a TCP or UDP datagram, with repl, as nf_nat_helper.c
// mangle_contents with nf_nat_csum_recalc does: the tail moves, the IPv4
// total length (and header checksum) or IPv6 payload length follow the new
// size, the UDP length too, and the transport checksum is recomputed over
// the segment (a UDP checksum of 0, "none", stays 0). TotalLen is updated;
// every other decoded field stays valid since no header moves.
//
// It returns false, changing nothing, for a malformed or fragmented packet,
// another protocol, a range outside the payload, or a result longer than
// the family's 64 KiB limit (enlarge_skb's check). See the buffer contract
// above for a packet that grows.
//
// A rewrite that keeps the length never allocates.
func (p *Packet) Mangle(off, oldLen int, repl []byte) bool {
	if p.Malformed || p.L4Off < 0 || p.PayloadOff < 0 || p.FragOff != 0 || p.MoreFrag {
		return false
	}
	if p.Proto != ProtoTCP && p.Proto != ProtoUDP {
		return false
	}
	old := len(p.Data)
	if off < p.PayloadOff || oldLen < 0 || off > old-oldLen {
		return false
	}
	n := old - oldLen + len(repl)
	limit := 65535
	if p.Family == 6 {
		limit = 40 + 65535
	}
	if n > limit {
		return false
	}
	d := p.Data
	switch {
	case n <= cap(d):
		d = d[:n]
	default:
		nd := make([]byte, n, n+maxMangleGrow)
		copy(nd, d[:off])
		d = nd
	}
	// copy is memmove: the tail may overlap its new place.
	copy(d[off+len(repl):], p.Data[off+oldLen:old])
	copy(d[off:], repl)
	p.Data = d
	p.TotalLen = n
	if p.Family == 4 {
		var cs csumDelta
		cs.word(be16(d[2:]), uint16(n))
		put16(d[2:], uint16(n))
		p.apply(10, csumPlain, cs)
	} else {
		put16(d[4:], uint16(n-40))
	}
	l4 := d[p.L4Off:]
	if p.Proto == ProtoUDP {
		put16(l4[4:], uint16(len(l4)))
		if be16(l4[6:]) != 0 {
			put16(l4[6:], 0)
			c := ^fold(sumBytes(l4, p.pseudoSum(ProtoUDP, len(l4))))
			if c == 0 {
				c = 0xffff // CSUM_MANGLED_0: 0 would mean "no checksum"
			}
			put16(l4[6:], c)
		}
	} else {
		put16(l4[16:], 0)
		put16(l4[16:], ^fold(sumBytes(l4, p.pseudoSum(ProtoTCP, len(l4)))))
	}
	p.Changed = true
	return true
}

// MangleTCPPayload is Mangle for a TCP segment with off counted from the
// start of the payload, what nf_nat_mangle_tcp_packet takes. It is how
// conntrack's NAT helpers rewrite the packet they look at (the
// conntrack.Mangler interface); the helper records the sequence
// adjustment itself.
func (p *Packet) MangleTCPPayload(off, oldLen int, repl []byte) bool {
	if p.Proto != ProtoTCP || p.TCPHdrLen == 0 || off < 0 {
		return false
	}
	return p.Mangle(p.PayloadOff+off, oldLen, repl)
}

// SetSeq rewrites the TCP sequence number with an incremental checksum
// update, as nf_ct_seq_adjust does (inet_proto_csum_replace4).
func (p *Packet) SetSeq(seq uint32) bool { return p.setTCP32(4, seq) }

// SetAck rewrites the TCP acknowledgment number, as SetSeq does the
// sequence number.
func (p *Packet) SetAck(ack uint32) bool { return p.setTCP32(8, ack) }

func (p *Packet) setTCP32(at int, v uint32) bool {
	if p.Proto != ProtoTCP || p.TCPHdrLen == 0 || p.Malformed {
		return false
	}
	off := p.L4Off + at
	var d csumDelta
	field32(&d, p.Data[off:off+4], v, false)
	p.apply(p.L4Off+16, csumPlain, d)
	if at == 4 {
		p.Seq = v
	} else {
		p.Ack = v
	}
	p.Changed = true
	return true
}

// field32 stores v big-endian in b (4 bytes) and adds the change to d. A
// field at an odd offset of the checksummed region straddles two 16-bit
// words, and its contribution to the one's complement sum is the
// byte-swapped one (RFC 1071 2(B)).
func field32(d *csumDelta, b []byte, v uint32, odd bool) {
	oldHi, oldLo := be16(b), be16(b[2:])
	binary.BigEndian.PutUint32(b, v)
	newHi, newLo := be16(b), be16(b[2:])
	if odd {
		oldHi, oldLo = oldHi<<8|oldHi>>8, oldLo<<8|oldLo>>8
		newHi, newLo = newHi<<8|newHi>>8, newLo<<8|newLo>>8
	}
	d.word(oldHi, newHi)
	d.word(oldLo, newLo)
}

// MapSACK replaces the left and right edge of every block of every SACK
// option by f(edge), updating the TCP checksum, as nf_conntrack_seqadj.c
// nf_ct_sack_adjust does when a NAT helper shifted the acknowledged
// stream. Options are walked as the kernel walks them there: EOL ends the
// list, NOP is one byte, and a partial or impossible option length makes
// the whole call fail (false), after which the kernel drops the packet.
// Blocks already rewritten stay rewritten, as in the kernel.
//
// Called for every packet of a sequence-adjusted connection; must not
// allocate (f may be a closure over locals: it does not escape).
func (p *Packet) MapSACK(f func(edge uint32) uint32) bool {
	if p.Proto != ProtoTCP || p.TCPHdrLen == 0 || p.Malformed {
		return false
	}
	end := p.L4Off + p.TCPHdrLen
	var d csumDelta
	ok, changed := true, false
	for i := p.L4Off + 20; i < end; {
		kind := p.Data[i]
		if kind == TCPOptEOL {
			break
		}
		if kind == TCPOptNOP {
			i++
			continue
		}
		if i+1 == end || int(p.Data[i+1]) < 2 || i+int(p.Data[i+1]) > end {
			ok = false
			break
		}
		l := int(p.Data[i+1])
		if kind == TCPOptSACK && l >= 2+8 && (l-2)%8 == 0 {
			for b := i + 2; b < i+l; b += 4 {
				edge := be32(p.Data[b:])
				if v := f(edge); v != edge {
					field32(&d, p.Data[b:b+4], v, (b-p.L4Off)%2 == 1)
					changed = true
				}
			}
		}
		i += l
	}
	if changed {
		p.apply(p.L4Off+16, csumPlain, d)
		p.Changed = true
	}
	return ok
}
