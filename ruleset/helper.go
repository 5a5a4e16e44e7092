package ruleset

import (
	"strconv"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/packet"
	"github.com/gofw/gofw/target"
)

// helpConfirm is the last stage of INPUT and POSTROUTING as the kernel's
// nf_confirm runs it: the helper of the packet's connection (-j CT
// --helper ftp, tftp), which may create expectations and, through NAT,
// rewrite the payload; then the TCP sequence adjustment an earlier rewrite
// made necessary; then the confirmation. RELATED_REPLY packets (ICMP
// errors) go straight to the confirmation, as helpers do not expect them.
//
// Called for every packet; it adds nothing for connections without a
// helper or adjustment, and does not allocate unless a helper creates an
// expectation or resizes the packet.
func (e *Engine) helpConfirm(p *packet.Packet, tr *Trace) target.Verdict {
	c := p.Conn
	if e.CT == nil || c == nil || p.CtInfo == conntrack.RelatedReply {
		return e.confirm(p)
	}
	st := c.Status()
	name := c.Helper()
	// As the kernel, decided before the helper runs: the packet a helper
	// resizes first keeps the offset it had anyway.
	adjust := st&conntrack.StatusSeqAdjust != 0 && !loopback(p)
	if name == "" && !adjust {
		return e.confirm(p)
	}
	if p.Truncated {
		// The datapath copies headers only while no rule assigns a
		// helper (Ruleset.NeedsPayload); an entry that got one under an
		// earlier ruleset keeps it, as in the kernel, but its helper
		// cannot read a command that is not there.
		return e.confirm(p)
	}
	if p.FragOff != 0 || p.MoreFrag {
		// The kernel's helpers see reassembled datagrams; gofw sees
		// fragments one by one and leaves them alone rather than
		// misread a cut command.
		return e.confirm(p)
	}
	if name != "" {
		if v := e.help(p, c, name, tr); v != target.Accept {
			e.unexpect(c, st, p.Now)
			return v
		}
	}
	if adjust && p.Proto == packet.ProtoTCP && p.TCPHdrLen != 0 && !seqAdjust(p, c) {
		// nf_ct_seq_adjust failed on a broken option list.
		tr.note(p.Hook, "dropped: sequence adjustment failed on malformed TCP options")
		e.unexpect(c, st, p.Now)
		return target.Drop
	}
	v := e.confirm(p)
	if v != target.Accept {
		e.unexpect(c, st, p.Now)
	}
	return v
}

// unexpect removes the expectations a helper registered for a master that
// will never be confirmed (TFTP expects on the packet that creates its
// master), as destroy_conntrack does.
func (e *Engine) unexpect(c *conntrack.Conn, st conntrack.Status, now int64) {
	if st&conntrack.StatusConfirmed == 0 {
		e.CT.RemoveExpectsOf(c, now)
	}
}

// help runs helper name on p (conntrack's Table.Help), lending it the
// packet to rewrite. A drop is logged as nf_ct_helper_log logs it.
func (e *Engine) help(p *packet.Packet, c *conntrack.Conn, name string, tr *Trace) target.Verdict {
	hp := conntrack.HelperPacket{Info: p.CtInfo, Seq: p.Seq, Payload: p.Payload(), Now: p.Now}
	if p.Proto == packet.ProtoTCP && p.TCPHdrLen != 0 {
		hp.Mangler = p
	}
	v, msg := e.CT.Help(c, &hp)
	if v != conntrack.Drop {
		return target.Accept
	}
	prefix := "nf_ct_" + name + ": dropping packet: " + msg + " "
	tr.note(p.Hook, "dropped: "+prefix[:len(prefix)-1])
	e.logHelper(p, prefix)
	return target.Drop
}

// seqAdjust is nf_ct_seq_adjust: move the sequence number into the
// stream the peer sees, and the acknowledgment and SACK edges back into
// the stream the peer's data was sent in. It reports false when the TCP
// options are malformed, which drops the packet.
//
// Called for every packet of an adjusted connection; must not allocate.
func seqAdjust(p *packet.Packet, c *conntrack.Conn) bool {
	d := p.CtInfo.Dir()
	this, other := c.SeqAdj(d), c.SeqAdj(1-d)
	if s := this.Seq(p.Seq); s != p.Seq {
		p.SetSeq(s)
	}
	if p.TCPFlags&packet.TCPAck == 0 {
		return true
	}
	if a := other.Ack(p.Ack); a != p.Ack {
		p.SetAck(a)
	}
	return p.MapSACK(func(edge uint32) uint32 { return other.Ack(edge) })
}

// loopback is nf_is_loopback_packet: the device the packet is on at this
// hook is the loopback device, where the kernel skips the sequence
// adjustment (the packet is seen again when it comes back in).
func loopback(p *packet.Packet) bool {
	if p.Hook == packet.Input {
		return p.InIface == "lo"
	}
	return p.OutIface == "lo"
}

// logHelper writes a helper's drop as nf_ct_helper_log does through
// nf_log_packet: the prefix, then the packet as the LOG target prints it
// with the default flags (TCP sequence and options, IP options, socket
// owner) and no devices (the helper passes none), at level 5 (notice).
func (e *Engine) logHelper(p *packet.Packet, prefix string) {
	env := e.Env
	if env == nil || (env.Log == nil && env.LogRecord == nil) {
		return
	}
	b := make([]byte, 0, 256)
	b = append(b, prefix...)
	b = appendLogPacket(b, p)
	if env.LogRecord != nil {
		env.LogRecord(5, b)
		return
	}
	env.Log(string(b))
}

// appendLogPacket appends p as nf_log_syslog.c's dump_ipv4_packet /
// dump_ipv6_packet print it with NF_LOG_DEFAULT_MASK, after an empty
// "IN= OUT= ". Only TCP and UDP transport headers are spelled out, the
// protocols helpers run on.
func appendLogPacket(b []byte, p *packet.Packet) []byte {
	d := p.Data
	b = append(b, "IN= OUT= SRC="...)
	if p.Family == 6 {
		b = appendIPv6Full(b, p.Src)
		b = append(b, " DST="...)
		b = appendIPv6Full(b, p.Dst)
		b = append(b, " LEN="...)
		b = strconv.AppendUint(b, uint64(len(d)), 10)
		b = append(b, " TC="...)
		b = strconv.AppendUint(b, uint64(p.TOS), 10)
		b = append(b, " HOPLIMIT="...)
		b = strconv.AppendUint(b, uint64(p.TTL), 10)
		b = append(b, " FLOWLBL="...)
		b = strconv.AppendUint(b, uint64(d[1]&0x0f)<<16|uint64(d[2])<<8|uint64(d[3]), 10)
		b = append(b, ' ')
	} else {
		b = p.Src.AppendTo(b)
		b = append(b, " DST="...)
		b = p.Dst.AppendTo(b)
		b = append(b, " LEN="...)
		b = strconv.AppendUint(b, uint64(len(d)), 10)
		b = append(b, " TOS=0x"...)
		b = appendHex2Upper(b, p.TOS&0x1e) // IPTOS_TOS_MASK
		b = append(b, " PREC=0x"...)
		b = appendHex2Upper(b, p.TOS&0xe0) // IPTOS_PREC_MASK
		b = append(b, " TTL="...)
		b = strconv.AppendUint(b, uint64(p.TTL), 10)
		b = append(b, " ID="...)
		b = strconv.AppendUint(b, uint64(p.IPID), 10)
		b = append(b, ' ')
		fo := uint16(d[6])<<8 | uint16(d[7])
		if fo&0x8000 != 0 {
			b = append(b, "CE "...)
		}
		if fo&0x4000 != 0 {
			b = append(b, "DF "...)
		}
		if fo&0x2000 != 0 {
			b = append(b, "MF "...)
		}
		if p.FragOff != 0 {
			b = append(b, "FRAG:"...)
			b = strconv.AppendUint(b, uint64(p.FragOff), 10)
			b = append(b, ' ')
		}
		if p.HdrLen > 20 {
			b = appendOpt(b, d[20:p.HdrLen])
		}
	}
	switch {
	case p.Proto == packet.ProtoTCP && p.TCPHdrLen != 0:
		t := d[p.L4Off:]
		b = append(b, "PROTO=TCP SPT="...)
		b = strconv.AppendUint(b, uint64(p.SrcPort), 10)
		b = append(b, " DPT="...)
		b = strconv.AppendUint(b, uint64(p.DstPort), 10)
		b = append(b, " SEQ="...)
		b = strconv.AppendUint(b, uint64(p.Seq), 10)
		b = append(b, " ACK="...)
		b = strconv.AppendUint(b, uint64(p.Ack), 10)
		b = append(b, " WINDOW="...)
		b = strconv.AppendUint(b, uint64(p.Window), 10)
		b = append(b, " RES=0x"...)
		b = appendHex2(b, (t[12]&0x0f)<<2)
		b = append(b, ' ')
		for i, name := range [8]string{"CWR ", "ECE ", "URG ", "ACK ", "PSH ", "RST ", "SYN ", "FIN "} {
			if p.TCPFlags&(0x80>>i) != 0 {
				b = append(b, name...)
			}
		}
		b = append(b, "URGP="...)
		b = strconv.AppendUint(b, uint64(t[18])<<8|uint64(t[19]), 10)
		b = append(b, ' ')
		if p.TCPHdrLen > 20 {
			b = appendOpt(b, t[20:p.TCPHdrLen])
		}
	case p.Proto == packet.ProtoUDP && p.HasPorts:
		b = append(b, "PROTO=UDP SPT="...)
		b = strconv.AppendUint(b, uint64(p.SrcPort), 10)
		b = append(b, " DPT="...)
		b = strconv.AppendUint(b, uint64(p.DstPort), 10)
		b = append(b, " LEN="...)
		b = strconv.AppendUint(b, uint64(d[p.L4Off+4])<<8|uint64(d[p.L4Off+5]), 10)
		b = append(b, ' ')
	}
	if p.HasOwner {
		b = append(b, "UID="...)
		b = strconv.AppendUint(b, uint64(p.UID), 10)
		b = append(b, " GID="...)
		b = strconv.AppendUint(b, uint64(p.GID), 10)
		b = append(b, ' ')
	}
	if p.Mark != 0 {
		b = append(b, "MARK=0x"...)
		b = strconv.AppendUint(b, uint64(p.Mark), 16)
		b = append(b, ' ')
	}
	return b
}

const hexUpper = "0123456789ABCDEF"

func appendHex2Upper(b []byte, v uint8) []byte { return append(b, hexUpper[v>>4], hexUpper[v&15]) }

func appendHex2(b []byte, v uint8) []byte {
	const hex = "0123456789abcdef"
	return append(b, hex[v>>4], hex[v&15])
}

// appendOpt is the "OPT (...)" of IP and TCP options: the bytes in upper
// case hex.
func appendOpt(b []byte, o []byte) []byte {
	b = append(b, "OPT ("...)
	for _, x := range o {
		b = append(b, hexUpper[x>>4], hexUpper[x&15])
	}
	return append(b, ") "...)
}

// appendIPv6Full is %pI6: eight groups of four hex digits.
func appendIPv6Full(b []byte, a interface{ As16() [16]byte }) []byte {
	v := a.As16()
	const hex = "0123456789abcdef"
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hex[v[i]>>4], hex[v[i]&15], hex[v[i+1]>>4], hex[v[i+1]&15])
	}
	return b
}
