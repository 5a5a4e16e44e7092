package packet

// TCP option kinds gofw reads (RFC 9293, RFC 7323, RFC 2018).
const (
	TCPOptEOL       = 0
	TCPOptNOP       = 1
	TCPOptMSS       = 2
	TCPOptWScale    = 3
	TCPOptSACKPerm  = 4
	TCPOptSACK      = 5
	TCPOptTimestamp = 8
)

// TCPOptions returns the option bytes of a decoded TCP segment (between the
// fixed 20-byte header and the data offset), as a sub-slice of Data, or nil.
func (p *Packet) TCPOptions() []byte {
	if p.TCPHdrLen <= 20 {
		return nil
	}
	return p.Data[p.L4Off+20 : p.L4Off+p.TCPHdrLen]
}

// tcpOptFind returns the offset in Data of the first option of kind whose
// total length (kind and length bytes included) is size, or -1. It walks
// the options as tcp_parse_options and conntrack's tcp_options do: EOL ends
// the list, NOP is one byte, a length below 2 or past the end stops the walk
// ("silly options", "don't parse partial options"). An option of the right
// kind but the wrong length is skipped, as tcp_options skips it.
func (p *Packet) tcpOptFind(kind uint8, size int) int {
	if p.TCPHdrLen <= 20 {
		return -1
	}
	start := p.L4Off + 20
	opts := p.Data[start : p.L4Off+p.TCPHdrLen]
	for i := 0; i < len(opts); {
		switch opts[i] {
		case TCPOptEOL:
			return -1
		case TCPOptNOP:
			i++
			continue
		}
		if len(opts)-i < 2 {
			return -1
		}
		l := int(opts[i+1])
		if l < 2 || l > len(opts)-i {
			return -1
		}
		if opts[i] == kind && l == size {
			return start + i
		}
		i += l
	}
	return -1
}

// TCPOption returns the value (the bytes after kind and length) of the
// first TCP option of kind with total length size, and whether there is
// one. It does not allocate; the value is a sub-slice of Data.
func (p *Packet) TCPOption(kind uint8, size int) ([]byte, bool) {
	off := p.tcpOptFind(kind, size)
	if off < 0 {
		return nil, false
	}
	return p.Data[off+2 : off+size], true
}

// TCPMSS returns the maximum segment size option, what TCPMSS and -m tcpmss
// read.
func (p *Packet) TCPMSS() (uint16, bool) {
	off := p.tcpOptFind(TCPOptMSS, 4)
	if off < 0 {
		return 0, false
	}
	return be16(p.Data[off+2:]), true
}

// TCPWScale returns the window scale option's shift count as sent. The
// conntrack TCP tracker caps it at 14 (TCP_MAX_WSCALE), as tcp_options does;
// the raw value is returned so the tracker decides.
func (p *Packet) TCPWScale() (uint8, bool) {
	off := p.tcpOptFind(TCPOptWScale, 3)
	if off < 0 {
		return 0, false
	}
	return p.Data[off+2], true
}

// TCPSACKPerm reports whether the segment carries SACK-permitted, which
// conntrack records per direction (IP_CT_TCP_FLAG_SACK_PERM).
func (p *Packet) TCPSACKPerm() bool { return p.tcpOptFind(TCPOptSACKPerm, 2) >= 0 }

// TCPSACK returns the highest right edge among the SACK blocks of the first
// well-formed SACK option, or ack when it is higher or there is none, as
// nf_conntrack_proto_tcp.c tcp_sack computes the "sack" that tcp_in_window
// checks against the receiver's end. Edges compare in sequence space.
func (p *Packet) TCPSACK(ack uint32) uint32 {
	opts := p.TCPOptions()
	for i := 0; i < len(opts); {
		switch opts[i] {
		case TCPOptEOL:
			return ack
		case TCPOptNOP:
			i++
			continue
		}
		if len(opts)-i < 2 {
			return ack
		}
		l := int(opts[i+1])
		if l < 2 || l > len(opts)-i {
			return ack
		}
		if opts[i] == TCPOptSACK && l >= 10 && (l-2)%8 == 0 {
			for b := i + 2; b < i+l; b += 8 {
				if edge := be32(opts[b+4:]); int32(edge-ack) > 0 {
					ack = edge
				}
			}
			return ack
		}
		i += l
	}
	return ack
}

// SetTCPMSS rewrites the value of an existing MSS option, updating the TCP
// checksum, as xt_TCPMSS.c tcpmss_mangle_packet does when the option is
// there. (Inserting a missing option grows the packet; that is the TCPMSS
// target's business.) The option may sit at an odd offset; its bytes then
// fall across two checksum words and the update is byte-swapped.
func (p *Packet) SetTCPMSS(mss uint16) bool {
	off := p.tcpOptFind(TCPOptMSS, 4)
	if off < 0 {
		return false
	}
	v := off + 2
	old := be16(p.Data[v:])
	put16(p.Data[v:], mss)
	var d csumDelta
	if (v-p.L4Off)%2 == 0 {
		d.word(old, mss)
	} else {
		d.word(old<<8|old>>8, mss<<8|mss>>8)
	}
	p.apply(p.L4Off+16, csumPlain, d)
	p.Changed = true
	return true
}
