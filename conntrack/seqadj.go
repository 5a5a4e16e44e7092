package conntrack

// TCP sequence adjustment, the kernel's nf_conntrack_seqadj.c. When a NAT
// helper rewrites an FTP command with a longer or shorter address, every
// later byte of that direction moves: the sender's sequence numbers must
// be shifted on the way out, and the peer's acknowledgments (and SACK
// edges) shifted back on the way in. The correction is kept per
// direction as the position of the last resize and the offsets before and
// after it, so that retransmissions of data sent before the resize are
// still mapped with the old offset.

// SeqAdj is one direction's sequence adjustment (struct nf_ct_seqadj).
// Offsets are what the resizes of this direction added up to, before and
// after the segment that starts at CorrectionPos.
type SeqAdj struct {
	CorrectionPos uint32
	OffsetBefore  int32
	OffsetAfter   int32
}

// Seq maps the sequence number of a segment this direction sends into the
// stream its peer sees, as nf_ct_seq_adjust does with this_way: a segment
// starting after the resized one takes the new offset, the resized segment
// itself and anything before it the old one.
func (s SeqAdj) Seq(seq uint32) uint32 {
	if after(seq, s.CorrectionPos) {
		return seq + uint32(s.OffsetAfter)
	}
	return seq + uint32(s.OffsetBefore)
}

// Ack maps an acknowledgment (or a SACK edge) of this direction's data,
// sent by the peer in the stream it sees, back into the sender's stream,
// as nf_ct_seq_adjust and nf_ct_sack_block_adjust do with other_way: the
// position is compared after undoing the old offset.
func (s SeqAdj) Ack(ack uint32) uint32 {
	if after(ack-uint32(s.OffsetBefore), s.CorrectionPos) {
		return ack - uint32(s.OffsetAfter)
	}
	return ack - uint32(s.OffsetBefore)
}

// offset is nf_ct_seq_offset: the offset that applies at seq, which the
// TCP window tracker subtracts from the peer's acknowledgments.
func (s *SeqAdj) offset(seq uint32) int32 {
	if after(seq, s.CorrectionPos) {
		return s.OffsetAfter
	}
	return s.OffsetBefore
}

// SeqAdj returns direction d's sequence adjustment (zero when the entry
// was never resized).
func (c *Conn) SeqAdj(d Dir) SeqAdj {
	if c.ext == nil || c.ext.help == nil {
		return SeqAdj{}
	}
	c.mu.Lock()
	s := c.ext.help.seqadj[d&1]
	c.mu.Unlock()
	return s
}

// SetSeqAdj records that the segment of direction d starting at seq was
// resized by off bytes, as nf_ct_seqadj_set, and sets SEQ_ADJUST. A later
// resize moves the correction point; a retransmitted segment at or before
// it changes nothing, so the same rewrite made twice counts once. It
// reports false for an entry without a helper's area, which cannot be
// adjusted (the kernel WARNs there).
func (c *Conn) SetSeqAdj(d Dir, seq uint32, off int32) bool {
	if off == 0 {
		return true
	}
	if c.ext == nil || c.ext.help == nil {
		return false
	}
	c.SetStatus(StatusSeqAdjust)
	c.mu.Lock()
	s := &c.ext.help.seqadj[d&1]
	if s.OffsetBefore == s.OffsetAfter || before(s.CorrectionPos, seq) {
		s.CorrectionPos = seq
		s.OffsetBefore = s.OffsetAfter
		s.OffsetAfter += off
	}
	c.mu.Unlock()
	return true
}

// seqOffset is nf_ct_seq_offset for direction d at seq, with c.mu held.
func (c *Conn) seqOffset(d Dir, seq uint32) int32 {
	if c.ext == nil || c.ext.help == nil {
		return 0
	}
	return c.ext.help.seqadj[d&1].offset(seq)
}
