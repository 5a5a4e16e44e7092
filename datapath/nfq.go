package datapath

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gofw/gofw/packet"
	"github.com/gofw/gofw/target"
)

// nfq is gofw's own NFQUEUE reader: one netlink socket per queue, read into
// one reusable buffer, every message parsed in place (only the attributes
// gofw uses), the packet run to completion, and the verdicts sent as one
// batch per read where they allow it. go-nfqueue (queue.go) allocates an
// Attribute with a pointer per field and copies the payload for every
// message, which caps a Go reader far below what the kernel can queue; this
// reader allocates nothing per packet.
//
// The wire format is nfnetlink_queue's (uapi linux/netfilter/
// nfnetlink_queue.h), documented beside each constant.
type nfq struct {
	d    *Datapath
	num  uint16
	full bool // the full-copy queue (openNFQ)
	fd   int
	buf  []byte // receive buffer of configuration answers
	// bufs, iovs and msgs: the receive buffers of one burst, one message
	// each, as recvmmsg(2) fills them; built once, reused.
	bufs [][]byte
	iovs []unix.Iovec
	msgs []mmsghdr
	spin int    // polls before the next blocking read (recvBurst)
	out  []byte // verdict messages of one burst, sent together
	// kernel is the address verdicts go to, kept here so that sending
	// one does not allocate it.
	kernel unix.SockaddrNetlink
	w      worker
	seq    uint32
	// plain and plainMax: this burst has packets accepted with no mark or
	// rewrite, the last of them plainMax.
	plain    bool
	plainMax uint32
}

// nfnetlink and nfnetlink_queue wire constants.
const (
	nfnlSubsysQueue = 3 // NFNL_SUBSYS_QUEUE

	nfqnlMsgPacket       = 0 // NFQNL_MSG_PACKET
	nfqnlMsgVerdict      = 1 // NFQNL_MSG_VERDICT
	nfqnlMsgConfig       = 2 // NFQNL_MSG_CONFIG
	nfqnlMsgVerdictBatch = 3 // NFQNL_MSG_VERDICT_BATCH

	nfqaPacketHdr = 1  // struct nfqnl_msg_packet_hdr {be32 id; be16 hw_protocol; u8 hook}
	nfqaMarkAttr  = 3  // be32
	nfqaInDev     = 5  // be32 ifindex
	nfqaOutDev    = 6  // be32 ifindex
	nfqaHwAddr    = 9  // struct nfqnl_msg_packet_hw {be16 len; u16 pad; u8 addr[8]}
	nfqaPayloadA  = 10 // the packet from its network header
	nfqaSkbInfo   = 14 // be32 NFQA_SKB_*
	nfqaUID       = 16 // be32
	nfqaGID       = 17 // be32
	nfqaCapLen    = 13 // be32 the packet's length when the copy is shorter

	nfqaCfgCmd    = 1 // struct nfqnl_msg_config_cmd {u8 command; u8 pad; be16 pf}
	nfqaCfgParams = 2 // struct nfqnl_msg_config_params {be32 copy_range; u8 copy_mode} (packed)
	nfqaCfgMaxLen = 3 // be32
	nfqaCfgMask   = 4 // be32
	nfqaCfgFlags  = 5 // be32

	nfqnlCfgCmdBind   = 1
	nfqnlCfgCmdUnbind = 2
	nfqnlCopyPacket   = 2

	nfqaCfgFFailOpen = 1 << 0
	nfqaCfgFGSO      = 1 << 2
	nfqaCfgFUIDGID   = 1 << 3

	nfqaSkbCsumNotReady    = 1 << 0 // NFQA_SKB_CSUMNOTREADY
	nfqaSkbCsumNotVerified = 1 << 2 // NFQA_SKB_CSUM_NOTVERIFIED

	nlmsgHdrLen = 16
	nfgenHdrLen = 4
)

// openNFQ binds queue num on a new netlink socket.
// full: the full-copy queue (Config.FullQueue), which copies whole
// packets whatever the copy mode.
func openNFQ(d *Datapath, num uint16, full bool) (*nfq, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	if err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	q := &nfq{d: d, num: num, full: full, fd: fd, buf: make([]byte, 64<<10), out: make([]byte, 0, 64<<10)}
	q.w.d = d
	q.kernel.Family = unix.AF_NETLINK
	q.initBurst()
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netlink bind: %w", err)
	}
	// A large receive buffer rides out bursts; when it still fills, the
	// kernel drops (counted in /proc/net/netfilter/nfnetlink_queue) and,
	// with NO_ENOBUFS, does not make the socket fail.
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 8<<20)
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_NO_ENOBUFS, 1)

	// A read times out now and then so that run notices its context end.
	tv := unix.Timeval{Usec: 200000}
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)

	flags := d.queueFlags(d.GSO.Load())
	params := copyParams(d.copyRange(full))
	// A queue left bound by a crashed gofwd is taken over: unbind first,
	// whatever it answers.
	_ = q.config(attr{nfqaCfgCmd, cfgCmd(nfqnlCfgCmdUnbind)})
	for _, st := range []struct {
		what  string
		attrs []attr
	}{
		{"bind", []attr{{nfqaCfgCmd, cfgCmd(nfqnlCfgCmdBind)}}},
		{"copy mode", []attr{{nfqaCfgParams, params}}},
		{"queue length and flags", []attr{{nfqaCfgMaxLen, be32b(d.cfg.QueueLen)}, {nfqaCfgFlags, be32b(flags)}, {nfqaCfgMask, be32b(flagMask)}}},
	} {
		if err := q.config(st.attrs...); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("NFQUEUE %d: %s: %w", num, st.what, err)
		}
	}
	return q, nil
}

// flagMask is every queue flag gofw sets or clears.
const flagMask = nfqaCfgFFailOpen | nfqaCfgFGSO | nfqaCfgFUIDGID

// queueFlags returns the queue flags for the datapath's settings.
func (d *Datapath) queueFlags(gso bool) uint32 {
	flags := uint32(nfqaCfgFUIDGID)
	if d.cfg.FailOpen {
		flags |= nfqaCfgFFailOpen
	}
	if gso {
		flags |= nfqaCfgFGSO
	}
	return flags
}

// setFlags changes the queue flags of a running queue. The reader owns the
// socket's receive side, so no acknowledgement is asked for; a refusal
// would come back as an error message the reader skips.
func (q *nfq) setFlags(flags uint32) error {
	return q.configNoAck(attr{nfqaCfgFlags, be32b(flags)}, attr{nfqaCfgMask, be32b(flagMask)})
}

// configNoAck sends one NFQNL_MSG_CONFIG with attrs to a running queue.
func (q *nfq) configNoAck(attrs ...attr) error {
	b := q.msgStart(nil, nfqnlMsgConfig, unix.NLM_F_REQUEST, 0)
	for _, a := range attrs {
		b = putAttr(b, a.typ, a.data)
	}
	putLen(b, 0)
	return unix.Sendto(q.fd, b, 0, &q.kernel)
}

// setCopyRange changes the copy range of a running queue, as setFlags
// does its flags.
func (q *nfq) setCopyRange(n uint32) error {
	return q.configNoAck(attr{nfqaCfgParams, copyParams(n)})
}

// copyParams is a struct nfqnl_msg_config_params: copy the packet, its
// first n bytes.
func copyParams(n uint32) []byte {
	b := make([]byte, 5)
	binary.BigEndian.PutUint32(b, n)
	b[4] = nfqnlCopyPacket
	return b
}

// attr is one netlink attribute of a configuration message.
type attr struct {
	typ  uint16
	data []byte
}

func cfgCmd(cmd byte) []byte { return []byte{cmd, 0, 0, 0} } // pf: AF_UNSPEC

func be32b(v uint32) []byte {
	b := make([]byte, 4)
	binary.BigEndian.PutUint32(b, v)
	return b
}

// config sends one NFQNL_MSG_CONFIG with attrs and waits for its ack.
func (q *nfq) config(attrs ...attr) error {
	q.seq++
	b := q.msgStart(nil, nfqnlMsgConfig, unix.NLM_F_REQUEST|unix.NLM_F_ACK, q.seq)
	for _, a := range attrs {
		b = putAttr(b, a.typ, a.data)
	}
	putLen(b, 0)
	if err := unix.Sendto(q.fd, b, 0, &q.kernel); err != nil {
		return err
	}
	for {
		n, _, err := unix.Recvfrom(q.fd, q.buf, 0)
		if err != nil {
			return err
		}
		for m := q.buf[:n]; len(m) >= nlmsgHdrLen; {
			l := int(binary.NativeEndian.Uint32(m))
			if l < nlmsgHdrLen || l > len(m) {
				return errors.New("malformed netlink answer")
			}
			typ := binary.NativeEndian.Uint16(m[4:])
			seq := binary.NativeEndian.Uint32(m[8:])
			if typ == unix.NLMSG_ERROR && seq == q.seq && l >= nlmsgHdrLen+4 {
				if e := int32(binary.NativeEndian.Uint32(m[nlmsgHdrLen:])); e != 0 {
					return syscall.Errno(-e)
				}
				return nil
			}
			m = m[min(align4(l), len(m)):]
		}
	}
}

func align4(n int) int { return (n + 3) &^ 3 }

// msgStart appends a netlink header (length filled by putLen) and the
// nfgenmsg for this queue.
func (q *nfq) msgStart(b []byte, msg uint16, flags uint16, seq uint32) []byte {
	var h [nlmsgHdrLen + nfgenHdrLen]byte
	binary.NativeEndian.PutUint16(h[4:], nfnlSubsysQueue<<8|msg)
	binary.NativeEndian.PutUint16(h[6:], flags)
	binary.NativeEndian.PutUint32(h[8:], seq)
	h[16] = unix.AF_UNSPEC
	h[17] = unix.NFNETLINK_V0
	binary.BigEndian.PutUint16(h[18:], q.num)
	return append(b, h[:]...)
}

// putLen stores the length of the message that starts at off.
func putLen(b []byte, off int) {
	binary.NativeEndian.PutUint32(b[off:], uint32(len(b)-off))
}

func putAttr(b []byte, typ uint16, data []byte) []byte {
	var h [4]byte
	binary.NativeEndian.PutUint16(h[0:], uint16(4+len(data)))
	binary.NativeEndian.PutUint16(h[2:], typ)
	b = append(b, h[:]...)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// maxBurst is the most packets read in one burst, before their verdicts go
// out together: what bounds the delay a batch adds (the C accept loop of
// bench/ uses the same 64).
const maxBurst = 64

// msgBufLen holds the largest message the queue sends: a packet of up to
// the copy range (0xffff) and its attributes.
const msgBufLen = 0xffff + 4096

// mmsghdr is the kernel's struct mmsghdr, one element of recvmmsg's
// vector. Go lays it out as C does: the uint32 after the msghdr, the whole
// padded to the msghdr's alignment.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
}

// initBurst makes the burst's buffers and the vector that points at them.
func (q *nfq) initBurst() {
	q.bufs = make([][]byte, maxBurst)
	q.iovs = make([]unix.Iovec, maxBurst)
	q.msgs = make([]mmsghdr, maxBurst)
	for i := range q.bufs {
		q.bufs[i] = make([]byte, msgBufLen)
		q.iovs[i].Base = &q.bufs[i][0]
		q.iovs[i].SetLen(msgBufLen)
		q.msgs[i].hdr.Iov = &q.iovs[i]
		q.msgs[i].hdr.SetIovlen(1)
	}
}

// recvBurst reads up to maxBurst messages in one system call: it blocks
// (up to the socket's receive timeout) for the first, then takes what is
// already queued (MSG_WAITFORONE). The kernel queues one packet per
// netlink message; reading them one recv at a time cost a system call
// each, and on a virtual machine a system call is most of what a queued
// packet costs in user space.
//
// Before blocking it polls the socket up to q.spin times (see spinMax).
func (q *nfq) recvBurst() (int, error) {
	for range q.spin {
		n, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(q.fd), uintptr(unsafe.Pointer(&q.msgs[0])),
			uintptr(len(q.msgs)), unix.MSG_DONTWAIT, 0, 0)
		if e == 0 && n > 0 {
			q.spin = spinMax
			return int(n), nil
		}
	}
	q.spin /= 2
	t0 := time.Now()
	n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(q.fd), uintptr(unsafe.Pointer(&q.msgs[0])),
		uintptr(len(q.msgs)), unix.MSG_WAITFORONE, 0, 0)
	if e != 0 {
		return 0, e
	}
	if time.Since(t0) < spinWindow {
		q.spin = spinMax
	}
	return int(n), nil
}

// spinMax and spinWindow shape recvBurst's polling. A blocked reader costs
// a sleep and a cross-CPU wake-up per packet, dear on a virtual machine,
// and in a TCP transfer the next packet (the receiver's ACK, the sender's
// next segment) follows the verdict within microseconds: polling the
// socket a few times first took TCP bulk through 10 000 rules from 6.5-6.8
// to 8.1-8.4 Gbit/s on the benchmark machine. Polling is worth it only
// while packets come that close together: each poll that finds nothing
// halves the next polling, and polling is back to spinMax when a poll finds
// a packet or a blocking read returns within spinWindow. Sparse traffic
// thus costs no polling at all.
const (
	spinMax    = 32
	spinWindow = 50 * time.Microsecond
)

// run reads and answers packets until ctx ends: a burst of what is queued
// (recvBurst), each packet run in order, then the verdicts of them all in
// one send, so that the batch verdict (NFQNL_MSG_VERDICT_BATCH) covers more
// than one packet and a burst costs two system calls, not two per packet.
func (q *nfq) run(ctx context.Context) error {
	defer unix.Close(q.fd)
	for ctx.Err() == nil {
		n, err := q.recvBurst()
		if err != nil {
			switch {
			case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR):
			case errors.Is(err, unix.ENOBUFS):
				q.d.Stats.NoBufs.Add(1)
			default:
				return fmt.Errorf("NFQUEUE %d: read: %w", q.num, err)
			}
			continue
		}
		q.begin()
		for i := range n {
			m := &q.msgs[i]
			if m.hdr.Flags&unix.MSG_TRUNC != 0 {
				// Cannot happen with msgBufLen above the copy range;
				// the packet it held waits for the queue's timeout.
				q.d.Stats.Truncated.Add(1)
				continue
			}
			q.read(q.bufs[i][:min(int(m.n), msgBufLen)])
		}
		q.flush()
	}
	return nil
}

// begin starts a burst: no verdicts pending.
func (q *nfq) begin() {
	q.out = q.out[:0]
	q.plain = false
}

// read handles every packet of one read. A packet whose verdict carries
// nothing but ACCEPT joins the burst's batch; the others get a verdict of
// their own, queued in q.out after the batch of the plain packets before
// them, so that the kernel reinjects the packets in the order they came:
// a rewritten TCP segment let out ahead of the plain ACK before it makes
// the receiver find that ACK out of window and answer it with a duplicate
// ACK (nfqnl_recv_verdict_batch reinjects its packets when its message is
// read, not where their ids fall). Called for every read; must not
// allocate.
func (q *nfq) read(b []byte) {
	for len(b) >= nlmsgHdrLen {
		l := int(binary.NativeEndian.Uint32(b))
		if l < nlmsgHdrLen || l > len(b) {
			break
		}
		typ := binary.NativeEndian.Uint16(b[4:])
		if typ == nfnlSubsysQueue<<8|nfqnlMsgPacket && l >= nlmsgHdrLen+nfgenHdrLen {
			id, v, ok := q.packet(b[nlmsgHdrLen+nfgenHdrLen : l])
			switch {
			case !ok:
			case v.v == target.Accept && !v.setMark && v.payload == nil:
				q.plain, q.plainMax = true, id
			default:
				q.appendBatch()
				q.appendVerdict(nfqnlMsgVerdict, id, &v)
			}
		}
		b = b[min(align4(l), len(b)):]
	}
}

// appendBatch queues one NFQNL_MSG_VERDICT_BATCH accepting every packet up
// to the highest plain id read since the last one, if any. That only ever
// accepts packets gofw decided to accept: ids grow along the queue, the
// others were answered just before, and a packet the kernel failed to
// deliver to gofw was never queued.
func (q *nfq) appendBatch() {
	if q.plain {
		v := verdict{v: target.Accept}
		q.appendVerdict(nfqnlMsgVerdictBatch, q.plainMax, &v)
		q.plain = false
	}
}

// flush sends the burst's verdicts, in the packets' order (read), in one
// message.
func (q *nfq) flush() {
	q.appendBatch()
	if len(q.out) > 0 {
		if err := unix.Sendto(q.fd, q.out, 0, &q.kernel); err != nil {
			q.d.Stats.VerdictErr.Add(1)
			if !errors.Is(err, unix.EBADF) {
				q.d.cfg.Logf("queue %d: verdict: %v", q.num, err)
			}
		}
	}
}

// packet runs one queued packet.
func (q *nfq) packet(attrs []byte) (id uint32, v verdict, ok bool) {
	id, m, payload, ok := parsePacketMsg(attrs)
	if !ok {
		return 0, v, false
	}
	return id, q.w.handle(payload, &m), true
}

// parsePacketMsg reads the attributes of one NFQNL_MSG_PACKET in place:
// the packet id, its metadata and its payload. Whatever the bytes hold it
// does not panic; a message without a packet header or payload is not ok.
func parsePacketMsg(attrs []byte) (id uint32, m meta, payload []byte, ok bool) {
	hasHdr := false
	for len(attrs) >= 4 {
		al := int(binary.NativeEndian.Uint16(attrs))
		at := binary.NativeEndian.Uint16(attrs[2:]) & 0x3fff // NLA_TYPE_MASK
		if al < 4 || al > len(attrs) {
			break
		}
		a := attrs[4:al]
		switch at {
		case nfqaPacketHdr:
			if len(a) >= 7 {
				id = binary.BigEndian.Uint32(a)
				m.hook = packet.Hook(a[6])
				hasHdr = true
			}
		case nfqaMarkAttr:
			if len(a) >= 4 {
				m.mark = binary.BigEndian.Uint32(a)
			}
		case nfqaInDev:
			if len(a) >= 4 {
				m.in = binary.BigEndian.Uint32(a)
			}
		case nfqaOutDev:
			if len(a) >= 4 {
				m.out = binary.BigEndian.Uint32(a)
			}
		case nfqaHwAddr:
			// struct nfqnl_msg_packet_hw: a length, then at most 8
			// bytes; a longer claimed length is not the kernel's.
			if len(a) >= 4 {
				if n := int(binary.BigEndian.Uint16(a)); n <= len(a)-4 && n <= 8 {
					m.hwaddr = a[4 : 4+n]
				}
			}
		case nfqaPayloadA:
			payload = a
		case nfqaUID:
			if len(a) >= 4 {
				m.uid, m.hasOwner = binary.BigEndian.Uint32(a), true
			}
		case nfqaGID:
			if len(a) >= 4 {
				m.gid = binary.BigEndian.Uint32(a)
			}
		case nfqaSkbInfo:
			if len(a) >= 4 {
				f := binary.BigEndian.Uint32(a)
				m.csumNotReady = f&nfqaSkbCsumNotReady != 0
				m.csumNotVerified = f&nfqaSkbCsumNotVerified != 0
			}
		case nfqaCapLen:
			if len(a) >= 4 {
				m.capLen = int(min(binary.BigEndian.Uint32(a), 1<<30))
			}
		}
		attrs = attrs[min(align4(al), len(attrs)):]
	}
	if !hasHdr || payload == nil || m.hook >= packet.NumHooks {
		return 0, meta{}, nil, false
	}
	return id, m, payload, true
}

// code returns the verdict word of the kernel's nfqnl_msg_verdict_hdr:
// NF_ACCEPT, NF_DROP, or NF_QUEUE_NR(n) with the bypass flag for a
// hand-off to another queue.
func (v *verdict) code() uint32 {
	switch v.v {
	case target.Accept:
		return nfAccept
	case target.Queued:
		c := nfQueue | uint32(v.queueNum)<<16
		if v.bypass {
			c |= nfQueueBypass
		}
		return c
	}
	return nfDrop
}

// appendVerdict adds one verdict message to q.out.
func (q *nfq) appendVerdict(msg uint16, id uint32, v *verdict) {
	code := v.code()
	off := len(q.out)
	q.out = q.msgStart(q.out, msg, unix.NLM_F_REQUEST, 0)
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[0:], code)
	binary.BigEndian.PutUint32(hdr[4:], id)
	q.out = putAttr(q.out, nfqaVerdictHdr, hdr[:])
	if code != nfDrop {
		if v.setMark {
			var mk [4]byte
			binary.BigEndian.PutUint32(mk[:], v.mark)
			q.out = putAttr(q.out, nfqaMark, mk[:])
		}
		if v.payload != nil {
			q.out = putAttr(q.out, nfqaPayload, v.payload)
		}
	}
	putLen(q.out, off)
}
