package conntrack

import "time"

// TCPState is the TCP state of a connection as the kernel tracks it (enum
// tcp_conntrack). It is the state of the connection as seen from the
// middle, not of either endpoint.
type TCPState uint8

// TCP states, with the kernel's values.
const (
	TCPNone        TCPState = iota // no TCP state (other protocols, or before the first packet)
	TCPSynSent                     // SYN seen
	TCPSynRecv                     // SYN-ACK seen
	TCPEstablished                 // ACK seen
	TCPFinWait                     // one FIN seen
	TCPCloseWait                   // that FIN ACKed
	TCPLastAck                     // FINs seen from both sides
	TCPTimeWait                    // last ACK seen
	TCPClose                       // RST seen
	TCPSynSent2                    // SYN seen from the reply side too: simultaneous open
	numTCPStates
)

// Pseudo-states of the transition table and the timeout array, as the
// kernel's TCP_CONNTRACK_MAX, _IGNORE, _RETRANS and _UNACK.
const (
	sIV       = numTCPStates // invalid: the packet is INVALID, the state stays
	sIG       = sIV + 1      // ignore: the packet passes, the state stays
	tRetrans  = sIV + 2      // timeout slot: too many retransmissions
	tUnack    = sIV + 3      // timeout slot: unacknowledged data
	tcpTOSize = sIV + 4
)

var tcpStateNames = [numTCPStates]string{
	"NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT",
	"CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE", "SYN_SENT2",
}

// String returns the state as conntrack prints it ("SYN_SENT2" for the
// simultaneous-open state).
func (s TCPState) String() string {
	if s < numTCPStates {
		return tcpStateNames[s]
	}
	return "?"
}

// ParseTCPState maps a name as conntrack --state takes it to a TCPState.
func ParseTCPState(name string) (TCPState, bool) {
	for i, n := range tcpStateNames {
		if n == name {
			return TCPState(i), true
		}
	}
	return 0, false
}

// Packet classes (enum tcp_bit_set), the second index of tcpConntracks.
const (
	tcpSynSet    uint8 = iota // SYN without ACK
	tcpSynAckSet              // SYN+ACK
	tcpFinSet                 // FIN (with or without ACK)
	tcpAckSet                 // ACK only
	tcpRstSet                 // RST (with or without ACK)
	tcpNoneSet                // none of the above
)

// tcpIndex classifies a packet by the first flag that applies, as the
// kernel's get_conntrack_index: RST, then SYN (SYN-ACK if ACK), then FIN,
// then ACK.
func tcpIndex(flags uint8) uint8 {
	switch {
	case flags&TCPRst != 0:
		return tcpRstSet
	case flags&TCPSyn != 0:
		if flags&TCPAck != 0 {
			return tcpSynAckSet
		}
		return tcpSynSet
	case flags&TCPFin != 0:
		return tcpFinSet
	case flags&TCPAck != 0:
		return tcpAckSet
	}
	return tcpNoneSet
}

// tcpValidFlags lists the allowed combinations of FIN, SYN, RST, ACK and
// URG (PSH, ECE and CWR are ignored), as tcp_valid_flags in
// nf_conntrack_proto_tcp.c. Everything else is INVALID before any lookup.
var tcpValidFlags = [TCPFin | TCPSyn | TCPRst | TCPAck | TCPUrg + 1]bool{
	TCPSyn:                   true, // opening
	TCPSyn | TCPUrg:          true, // opening with urgent pointer
	TCPSyn | TCPAck:          true, // answer to an opening
	TCPRst:                   true, // reset
	TCPRst | TCPAck:          true, // reset answering a segment
	TCPFin | TCPAck:          true, // close
	TCPFin | TCPAck | TCPUrg: true, // close with urgent data
	TCPAck:                   true, // data or pure ACK
	TCPAck | TCPUrg:          true, // data with urgent pointer
}

func tcpFlagsValid(flags uint8) bool {
	return tcpValidFlags[flags&^(TCPEce|TCPCwr|TCPPsh)]
}

// Short names so the transition table below reads like the kernel's.
const (
	sNO = TCPNone
	sSS = TCPSynSent
	sSR = TCPSynRecv
	sES = TCPEstablished
	sFW = TCPFinWait
	sCW = TCPCloseWait
	sLA = TCPLastAck
	sTW = TCPTimeWait
	sCL = TCPClose
	sS2 = TCPSynSent2
)

// tcpConntracks is the kernel's transition table tcp_conntracks[dir]
// [class][old state] → new state. We are the man in the middle: packets we
// saw may still be lost before they reach the other end, so the table
// guesses the state of the sender. sIV marks packets that are truly
// invalid, sIG packets that may be valid or not and to which the receiver
// will answer (with a RST or a SYN-ACK) in a way that tells.
var tcpConntracks = [2][6][numTCPStates]TCPState{
	Original: {
		//              sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2
		// syn: NO→SS opens; SS→SS and S2→S2 are retransmitted SYNs; a SYN
		// in SR..LA is out of place (the receiver answers with a RST, or we
		// are out of sync and hold a dead entry), so ignore it; TW and CL
		// may be reopened (RFC 1122).
		tcpSynSet: {sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2},
		// synack: the client never sends SYN-ACK, except in a simultaneous
		// open (S2→SR, and SR→SR for its retransmission).
		tcpSynAckSet: {sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR},
		// fin: no FIN before the SYN-ACK (SS, S2); SR/ES→FW starts the
		// close; FW/CW→LA: FIN seen both ways; LA, TW, CL stay (retransmitted
		// FIN).
		tcpFinSet: {sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV},
		// ack: NO→ES is a picked-up connection; no ACK before the SYN-ACK
		// (SS, S2); SR→ES completes the handshake; FW→CW acknowledges the
		// FIN; LA→TW is the last ACK; TW and CL stay.
		tcpAckSet: {sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV},
		// rst: cannot open; closes everything else.
		tcpRstSet: {sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL},
		// none: a packet without any of the flags is never valid.
		tcpNoneSet: {sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV},
	},
	Reply: {
		//              sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2
		// syn: NO is never reached in reply; SS→S2 is a simultaneous open
		// (S2→S2 its retransmission); the server sends no SYN in SR..LA or
		// CL; TW→SS reopens with the roles possibly switched.
		tcpSynSet: {sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2},
		// synack: SS→SR is the standard open, S2→SR the simultaneous one;
		// later SYN-ACKs are retransmissions or answer a SYN we ignored:
		// ignore them.
		tcpSynAckSet: {sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR},
		// fin: as in the original direction: not before the SYN-ACK.
		tcpFinSet: {sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV},
		// ack: in SS/S2 it may belong to a half-open connection (ignore);
		// SR→SR may answer a late SYN; ES stays; FW→CW acknowledges the
		// FIN; LA→TW is the last ACK; TW and CL stay.
		tcpAckSet: {sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG},
		// rst: closes everything.
		tcpRstSet: {sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL},
		// none: never valid.
		tcpNoneSet: {sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV},
	},
}

// Per-direction flags (ip_ct_tcp_state.flags, IP_CT_TCP_FLAG_*).
const (
	tcpFlagWindowScale = 0x01 // window-scale option seen
	tcpFlagSACKPerm    = 0x02 // SACK-permitted option seen
	tcpFlagCloseInit   = 0x04 // this side sent the first FIN
	tcpFlagBeLiberal   = 0x08 // window checks never fail (picked up entry)
	tcpFlagDataUnack   = 0x10 // data sent but not yet acknowledged
	tcpFlagMaxackSet   = 0x20 // maxack holds a value
)

// Flags of tcpConn.lastFlags that are not per-direction flags.
const (
	tcpSimultaneousOpen = 0x04 // IP_CT_TCP_SIMULTANEOUS_OPEN
	tcpExpChallengeAck  = 0x40 // IP_CT_EXP_CHALLENGE_ACK
)

// tcpSeen is one direction's window data (struct ip_ct_tcp_state).
type tcpSeen struct {
	end    uint32 // highest seq+len sent
	maxend uint32 // highest seq the receiver allowed (its ack + window)
	maxwin uint32 // largest (scaled) window seen
	maxack uint32 // highest ACK sent
}

// tcpConn is the TCP part of a Conn (struct ip_ct_tcp), kept to 56 bytes.
type tcpConn struct {
	seen       [2]tcpSeen
	lastSeq    uint32 // the last ignored or ACK packet, for resync,
	lastAck    uint32 // challenge-ACK and retransmission detection
	lastEnd    uint32
	lastWin    uint16
	scale      [2]uint8 // window scale per direction
	flags      [2]uint8 // tcpFlag* per direction
	state      TCPState
	lastDir    Dir
	lastIndex  uint8
	lastWscale uint8
	lastFlags  uint8
	retrans    uint8
}

// Sequence-number comparisons modulo 2^32, as the kernel's before/after.
func before(a, b uint32) bool { return int32(a-b) < 0 }
func after(a, b uint32) bool  { return int32(b-a) < 0 }

// segEnd is segment_seq_plus_len: the sequence number after the segment,
// SYN and FIN counting one each.
func segEnd(seg *Segment) uint32 {
	end := seg.Seq + seg.PayloadLen
	if seg.TCPFlags&TCPSyn != 0 {
		end++
	}
	if seg.TCPFlags&TCPFin != 0 {
		end++
	}
	return end
}

// tcpOptions is the kernel's tcp_options: with options present, reset the
// scale and every flag but be-liberal, then record window scale and
// SACK-permitted. A header without options leaves the state alone.
func tcpOptions(seg *Segment, scale, flags *uint8) {
	if seg.HdrLen <= 20 {
		return
	}
	*scale = 0
	*flags &= tcpFlagBeLiberal
	if seg.SACKPerm {
		*flags |= tcpFlagSACKPerm
	}
	if seg.HasWScale {
		*scale = min(seg.WScale, 14) // TCP_MAX_WSCALE
		*flags |= tcpFlagWindowScale
	}
}

// maxAckWindow is MAXACKWINDOW(sender).
func maxAckWindow(s *tcpSeen) uint32 { return max(s.maxwin, 66000) }

// windowResult is enum nf_ct_tcp_action.
type windowResult uint8

const (
	winAccept windowResult = iota
	winIgnore
	winInvalid
)

// pktResult is what a protocol tracker tells In.
type pktResult uint8

const (
	resAccept  pktResult = iota // tracked: the packet keeps its ctinfo
	resInvalid                  // the packet is INVALID (-NF_ACCEPT)
	resDrop                     // INVALID and dropped (NF_DROP)
	resRepeat                   // the entry was killed; look up again (-NF_REPEAT)
)

// tcpNew initialises a new entry from its first packet and reports whether
// the packet may create one, as the kernel's tcp_new: a SYN opens in
// SYN_SENT; an ACK-class packet picks the connection up in ESTABLISHED with
// both directions liberal, unless NoTCPLoose; anything else may not.
func (t *Table) tcpNew(c *Conn, seg *Segment) bool {
	ns := tcpConntracks[Original][tcpIndex(seg.TCPFlags)][TCPNone]
	if ns >= sIV {
		return false
	}
	tc := &c.tcp
	*tc = tcpConn{}
	s := &tc.seen[Original]
	s.end = segEnd(seg)
	s.maxwin = max(uint32(seg.Window), 1)
	if ns == TCPSynSent {
		s.maxend = s.end
		tcpOptions(seg, &tc.scale[Original], &tc.flags[Original])
	} else {
		if t.cfg.NoTCPLoose {
			return false
		}
		// In the middle of a connection its history is lost: use what
		// this packet tells and assume SACK and liberal window checks,
		// since the window scale is unknown.
		s.maxend = s.end + s.maxwin
		tc.flags[Original] = tcpFlagSACKPerm | tcpFlagBeLiberal
		tc.flags[Reply] = tcpFlagSACKPerm | tcpFlagBeLiberal
	}
	tc.lastIndex = tcpNoneSet
	return true
}

// tcpEstablished is nf_conntrack_tcp_established.
func tcpEstablished(c *Conn) bool {
	return c.tcp.state == TCPEstablished && c.Status()&StatusAssured != 0
}

// tcpCanEarlyDrop is tcp_can_early_drop: closing states may be evicted
// even when ASSURED.
func tcpCanEarlyDrop(s TCPState) bool {
	switch s {
	case TCPFinWait, TCPLastAck, TCPTimeWait, TCPClose, TCPCloseWait:
		return true
	}
	return false
}

// tcpPacket runs the TCP tracker for one packet of c, as the kernel's
// nf_conntrack_tcp_packet (the flag check, tcp_error, ran before lookup).
// Called for every TCP packet; must not allocate.
func (t *Table) tcpPacket(c *Conn, seg *Segment, info CtInfo, now int64, ev *uint32) pktResult {
	if c.Status()&StatusConfirmed == 0 && !t.tcpNew(c, seg) {
		return resInvalid
	}
	c.mu.Lock()
	tc := &c.tcp
	old := tc.state
	dir := info.Dir()
	index := tcpIndex(seg.TCPFlags)
	ns := tcpConntracks[dir][index][old]
	checkWindow := true

	switch ns {
	case TCPSynSent:
		if old < TCPTimeWait {
			break
		}
		// RFC 1122 lets a SYN reopen a connection in TIME_WAIT; also
		// handle a client that aborted and starts again. If either side
		// began a close, or our last packet was a RST, kill the old
		// entry and classify the packet again from scratch.
		if (tc.flags[dir]|tc.flags[dir^1])&tcpFlagCloseInit != 0 ||
			(tc.lastDir == dir && tc.lastIndex == tcpRstSet) {
			c.mu.Unlock()
			if t.kill(c, now) {
				return resRepeat
			}
			return resDrop
		}
		fallthrough
	case sIG:
		if index == tcpSynAckSet && tc.lastIndex == tcpSynSet &&
			tc.lastDir != dir && seg.Ack == tc.lastEnd {
			// This SYN-ACK acknowledges a SYN we ignored: both ends are
			// in sync and we are not. Resynchronise from the values
			// recorded with the SYN.
			old = TCPSynSent
			ns = TCPSynRecv
			ld := tc.lastDir
			s := &tc.seen[ld]
			s.end = tc.lastEnd
			s.maxend = tc.lastEnd
			s.maxwin = max(uint32(tc.lastWin), 1)
			tc.scale[ld] = tc.lastWscale
			tc.lastFlags &^= tcpExpChallengeAck
			tc.flags[ld] = tc.lastFlags
			// nf_ct_tcp_state_reset of this direction.
			tc.seen[dir] = tcpSeen{}
			tc.scale[dir] = 0
			tc.flags[dir] &= tcpFlagBeLiberal
			break
		}
		tc.lastIndex = index
		tc.lastDir = dir
		tc.lastSeq = seg.Seq
		tc.lastEnd = segEnd(seg)
		tc.lastWin = seg.Window
		if index == tcpSynSet && dir == Original {
			// A SYN in the original direction: the ends may be in
			// sync and we are not. Remember its options; if it is
			// valid the server answers with a SYN-ACK and we resync
			// above, else it may send an RFC 5961 challenge ACK, which
			// must not be taken for the last ACK in LAST_ACK.
			var scale, flags uint8
			tcpOptions(seg, &scale, &flags)
			tc.lastFlags, tc.lastWscale = 0, 0
			if flags&tcpFlagWindowScale != 0 {
				tc.lastFlags |= tcpFlagWindowScale
				tc.lastWscale = scale
			}
			if flags&tcpFlagSACKPerm != 0 {
				tc.lastFlags |= tcpFlagSACKPerm
			}
			if old == TCPLastAck {
				tc.lastFlags |= tcpExpChallengeAck
			}
		}
		if old == TCPSynSent && index == tcpAckSet && dir == Reply {
			// Possibly a challenge ACK answering the SYN: a RST with
			// exactly this sequence number will be accepted.
			tc.lastAck = seg.Ack
		}
		c.mu.Unlock()
		return resAccept // passes with its ctinfo, nothing refreshed
	case sIV:
		// The kernel accepts a SYN-proxy client's keep-alive here; gofw
		// has no SYN proxy.
		c.mu.Unlock()
		return resInvalid
	case TCPTimeWait:
		// An RFC 5961 challenge ACK answering a SYN ignored in LAST_ACK
		// is not the last ACK: accept it, keep the state.
		if old == TCPLastAck && index == tcpAckSet && tc.lastDir != dir &&
			tc.lastIndex == tcpSynSet && tc.lastFlags&tcpExpChallengeAck != 0 {
			tc.lastFlags &^= tcpExpChallengeAck
			c.mu.Unlock()
			return resAccept
		}
	case TCPSynSent2:
		// The table cannot express a simultaneous open on its own.
		tc.lastFlags |= tcpSimultaneousOpen
	case TCPSynRecv:
		if dir == Reply && index == tcpAckSet && tc.lastFlags&tcpSimultaneousOpen != 0 {
			ns = TCPEstablished
		}
	case TCPClose:
		if index != tcpRstSet {
			break
		}
		// When closing, the tuple may already be reused and the window
		// data is stale: accept the RST without checks.
		if tcpCanEarlyDrop(tc.state) {
			checkWindow = false
			break
		}
		if tc.flags[dir^1]&tcpFlagMaxackSet != 0 && tc.lastIndex != tcpSynSet {
			seq := seg.Seq
			// SEQ 0 outside ESTABLISHED most likely answers a SYN we
			// let through.
			if seq == 0 && !tcpEstablished(c) {
				break
			}
			if before(seq, tc.seen[dir^1].maxack) && !t.cfg.TCPIgnoreInvalidRST {
				c.mu.Unlock()
				return resInvalid // "invalid rst"
			}
			if !tcpEstablished(c) || seq == tc.seen[dir^1].maxack {
				break
			}
			// A RST right after our own last data segment is part of
			// the same train.
			if tc.lastIndex == tcpAckSet && tc.lastDir == dir && seq == tc.lastEnd {
				break
			}
			// Not an exact match: keep the state to leave room for a
			// challenge ACK (the timeout still drops to CLOSE's).
			ns = old
		}
		st := c.Status()
		if ((st&StatusSeenReply != 0 && tc.lastIndex == tcpSynSet) ||
			(st&StatusAssured == 0 && tc.lastIndex == tcpAckSet)) &&
			seg.Ack == tc.lastEnd {
			// RST answering a SYN or a half-open ACK we let through:
			// skip the window check, it may ACK what we ignored.
			checkWindow = false
			break
		}
		if old == TCPSynSent && tc.lastIndex == tcpAckSet &&
			tc.lastDir == Reply && seg.Seq == tc.lastAck {
			// RST answering a challenge ACK we let through.
			checkWindow = false
		}
	}

	if checkWindow {
		switch t.tcpInWindow(c, dir, index, seg) {
		case winIgnore:
			c.mu.Unlock()
			return resAccept
		case winInvalid:
			t.tcpHandleInvalid(c, dir, index, now)
			c.mu.Unlock()
			return resInvalid
		}
	}

	// From here on the packet is in window.
	tc.lastIndex = index
	tc.lastDir = dir
	tc.state = ns
	if old != ns && ns == TCPFinWait {
		tc.flags[dir] |= tcpFlagCloseInit
	}
	timeout := t.tcpTimeouts[ns]
	switch {
	case int(tc.retrans) >= t.cfg.TCPMaxRetrans && timeout > t.tcpTimeouts[tRetrans]:
		timeout = t.tcpTimeouts[tRetrans]
	case index == tcpRstSet:
		timeout = t.tcpTimeouts[TCPClose]
	case (tc.flags[0]|tc.flags[1])&tcpFlagDataUnack != 0 && timeout > t.tcpTimeouts[tUnack]:
		timeout = t.tcpTimeouts[tUnack]
	case tc.lastWin == 0 && timeout > t.tcpTimeouts[tRetrans]:
		timeout = t.tcpTimeouts[tRetrans]
	}
	c.mu.Unlock()

	if ns != old {
		*ev |= evProtoinfo
	}
	st := c.Status()
	if st&StatusSeenReply == 0 {
		if seg.TCPFlags&TCPRst != 0 {
			// The only reply is a RST: there is no connection to keep,
			// delete the entry now (nf_ct_kill_acct). The RST passes.
			c.account(dir, seg.Len)
			t.kill(c, now)
			return resAccept
		}
		if index == tcpSynSet && old == TCPSynSent {
			// A retransmitted SYN does not renew the timeout, else port
			// reuse could keep the entry alive for ever.
			return resAccept
		}
		// A picked-up entry without reply gets no long ESTABLISHED
		// timeout.
		if ns == TCPEstablished && timeout > t.tcpTimeouts[tUnack] {
			timeout = t.tcpTimeouts[tUnack]
		}
	} else if st&StatusAssured == 0 && (old == TCPSynRecv || old == TCPEstablished) &&
		ns == TCPEstablished {
		// A valid ACK in ESTABLISHED after SYN_RECV, or a valid answer
		// for a picked-up connection.
		if c.setStatus(StatusAssured) {
			*ev |= evAssured
		}
	}
	c.refresh(timeout, now)
	c.account(dir, seg.Len)
	return resAccept
}

// tcpInitSender is tcp_init_sender: (re)initialise the sender's window data
// from a SYN or SYN-ACK. Window scaling is used only if both sides offered
// it (RFC 1323).
func tcpInitSender(tc *tcpConn, dir Dir, seg *Segment, end, win uint32) {
	s := &tc.seen[dir]
	s.end = end
	s.maxend = end
	s.maxwin = max(win, 1)
	tcpOptions(seg, &tc.scale[dir], &tc.flags[dir])
	if dir == Reply && !(tc.flags[dir]&tcpFlagWindowScale != 0 && tc.flags[dir^1]&tcpFlagWindowScale != 0) {
		tc.scale[dir] = 0
		tc.scale[dir^1] = 0
	}
}

// tcpInWindow is the kernel's tcp_in_window. Bounds checked, in order
// (A = ack, or the highest SACK edge if the receiver allows SACK):
//
//	I.   seq <= sender.maxend                    (data inside what the receiver allowed)
//	III. A <= receiver.end                       (no ACK for data never sent)
//	II.  seq+len >= sender.end - receiver.maxwin (not an ancient retransmission)
//	IV.  A >= receiver.end - MAXACKWINDOW        (not an overly delayed ACK)
//
// Called with c.mu held.
func (t *Table) tcpInWindow(c *Conn, dir Dir, index uint8, seg *Segment) windowResult {
	tc := &c.tcp
	sender := &tc.seen[dir]
	receiver := &tc.seen[dir^1]
	flags := seg.TCPFlags
	seq := seg.Seq
	ack := seg.Ack
	sack := ack
	winRaw := seg.Window
	win := uint32(winRaw)
	end := segEnd(seg)

	if tc.flags[dir^1]&tcpFlagSACKPerm != 0 && seg.HasSACK && after(seg.SACKEdge, sack) {
		sack = seg.SACKEdge
	}
	// Take NAT sequence mangling into account: the peer acknowledges the
	// stream it saw, which a helper may have resized (nf_ct_seq_offset).
	if off := c.seqOffset(dir^1, ack-1); off != 0 {
		ack -= uint32(off)
		sack -= uint32(off)
	}

	if sender.maxwin == 0 {
		// First packet seen from this side.
		if flags&TCPSyn != 0 {
			tcpInitSender(tc, dir, seg, end, win)
			if flags&TCPAck == 0 {
				return winAccept // simultaneous open
			}
		} else {
			// Mid-connection: its history is lost, use this packet.
			sender.end = end
			swin := win << tc.scale[dir]
			sender.maxwin = max(swin, 1)
			sender.maxend = end + sender.maxwin
			if receiver.maxwin == 0 {
				// Nothing seen the other way yet: make III and IV pass
				// until it is.
				receiver.end = sack
				receiver.maxend = sack
			} else if sack == receiver.end+1 {
				// Likely the answer to a keep-alive; needed for III.
				receiver.end++
			}
		}
	} else if flags&TCPSyn != 0 && after(end, sender.end) &&
		(tc.state == TCPSynSent || tc.state == TCPSynRecv) {
		// RFC 793: a reinitialised TCP may reuse the connection with
		// higher sequence numbers; take this SYN (-ACK) as a new first.
		tcpInitSender(tc, dir, seg, end, win)
		if dir == Reply && flags&TCPAck == 0 {
			return winAccept
		}
	}

	if flags&TCPAck == 0 {
		// Without ACK, pretend it acknowledged everything.
		ack = receiver.end
		sack = ack
	} else if flags&(TCPAck|TCPRst) == TCPAck|TCPRst && ack == 0 {
		// Broken stacks send RST+ACK with ack 0.
		ack = receiver.end
		sack = ack
	}
	if flags&TCPRst != 0 && seq == 0 && tc.state == TCPSynSent {
		// RST answering a SYN.
		seq = sender.end
		end = sender.end
	}

	if !before(seq, sender.maxend+1) {
		overshot := end - sender.maxend + 1
		ackOK := after(sack, receiver.end-maxAckWindow(sender)-1)
		inRecvWin := receiver.maxwin != 0 && after(end, sender.end-receiver.maxwin-1)
		if inRecvWin && ackOK && overshot <= receiver.maxwin && before(sack, receiver.end+1) {
			// Some stacks send more than the window allows. Record
			// the data so that its ACK does not fail III later.
			sender.end = end
			tc.flags[dir] |= tcpFlagDataUnack
			return t.tcpLogInvalid(tc, dir, winIgnore) // "N bytes more than expected"
		}
		return t.tcpLogInvalid(tc, dir, winInvalid) // "SEQ is over upper bound"
	}
	if !before(sack, receiver.end+1) {
		return t.tcpLogInvalid(tc, dir, winInvalid) // "ACK is over upper bound"
	}
	if receiver.maxwin != 0 && !after(end, sender.end-receiver.maxwin-1) {
		return t.tcpLogInvalid(tc, dir, winIgnore) // "SEQ is under lower bound"
	}
	if !after(sack, receiver.end-maxAckWindow(sender)-1) {
		return t.tcpLogInvalid(tc, dir, winIgnore) // "ignored ACK under lower bound"
	}

	// Window scaling applies to everything but SYNs (RFC 1323).
	if flags&TCPSyn == 0 {
		win <<= tc.scale[dir]
	}
	// Update the sender.
	swin := win + (sack - ack)
	if sender.maxwin < swin {
		sender.maxwin = swin
	}
	if after(end, sender.end) {
		sender.end = end
		tc.flags[dir] |= tcpFlagDataUnack
	}
	if flags&TCPAck != 0 {
		if tc.flags[dir]&tcpFlagMaxackSet == 0 {
			sender.maxack = ack
			tc.flags[dir] |= tcpFlagMaxackSet
		} else if after(ack, sender.maxack) {
			sender.maxack = ack
		}
	}
	// Update the receiver.
	if receiver.maxwin != 0 && after(end, sender.maxend) {
		receiver.maxwin += end - sender.maxend
	}
	if after(sack+win, receiver.maxend-1) {
		receiver.maxend = sack + win
		if win == 0 {
			receiver.maxend++
		}
	}
	if ack == receiver.end {
		tc.flags[dir^1] &^= tcpFlagDataUnack
	}
	// Retransmission detection.
	if index == tcpAckSet {
		if tc.lastDir == dir && tc.lastSeq == seq && tc.lastAck == ack &&
			tc.lastEnd == end && tc.lastWin == winRaw {
			if tc.retrans < 255 {
				tc.retrans++
			}
		} else {
			tc.lastDir = dir
			tc.lastSeq = seq
			tc.lastAck = ack
			tc.lastEnd = end
			tc.lastWin = winRaw
			tc.retrans = 0
		}
	}
	return winAccept
}

// tcpLogInvalid is nf_tcp_log_invalid: with be-liberal (the sysctl or the
// sender's flag) any failed window check becomes ACCEPT, without updating
// the window data.
func (t *Table) tcpLogInvalid(tc *tcpConn, dir Dir, r windowResult) windowResult {
	if t.cfg.TCPBeLiberal || tc.flags[dir]&tcpFlagBeLiberal != 0 {
		return winAccept
	}
	return r
}

// tcpHandleInvalid is nf_tcp_handle_invalid: when an ASSURED entry gets an
// out-of-window FIN or RST right after a FIN or RST from the other side,
// the ends are probably gone; shorten a long timeout to the UNACK value so
// the entry does not linger for days. Called with c.mu held.
func (t *Table) tcpHandleInvalid(c *Conn, dir Dir, index uint8, now int64) {
	st := c.Status()
	if st&StatusAssured == 0 || st&StatusFixedTimeout != 0 {
		return
	}
	if index != tcpRstSet && index != tcpFinSet {
		return
	}
	tc := &c.tcp
	if tc.lastDir != dir && (tc.lastIndex == tcpFinSet || tc.lastIndex == tcpRstSet) {
		left := time.Duration(c.timeout.Load() - now)
		if left < 120*time.Second {
			return
		}
		if u := t.tcpTimeouts[tUnack]; left > u {
			c.timeout.Store(now + int64(u))
		}
		return
	}
	tc.lastIndex = index
	tc.lastDir = dir
}
