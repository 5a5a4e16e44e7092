package datapath

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/packet"
)

// fastPath is gofwd's opt-in fast path (--fast-path): once gofw has
// accepted packets of both directions of an established TCP connection
// (conntrack.OffloadAfter in all) under a ruleset whose verdicts cannot
// change along a connection
// (ruleset.Ruleset.OffloadBlocker), it sets that connection's mark in the
// kernel's conntrack to the mark the divert lets by (Divert.FastMark), and
// the kernel passes its plain segments without a trip to user space. A
// SYN, FIN or RST still comes to gofw and takes the connection back
// (conntrack.Table.pullBack), so gofw's conntrack sees every connection
// end; rule and conntrack counters miss the offloaded packets.
//
// The mark is set with a ctnetlink update (IPCTNL_MSG_CT_NEW on an
// existing entry): this kernel has no CONFIG_NETFILTER_NETLINK_GLUE_CT, so
// a verdict cannot carry it (NFQA_CT). vishvananda/netlink's
// ConntrackUpdate is not used: it waits for an answer per call and always
// rewrites the entry's timeout. Updates go out without waiting; the kernel
// answers only failures, which a goroutine counts.
type fastPath struct {
	fd int
	mu sync.Mutex // guards buf and the socket's sends
	// buf is one update message, rebuilt in place; kernel its address.
	buf    [128]byte
	kernel unix.SockaddrNetlink
	// genMark holds, in one word so that they are read together, the
	// compiled ruleset whose accepted connections may be offloaded
	// (ruleset.Engine.Gen, high half; 0 for none) and the connection mark
	// the divert lets by for it (low half).
	genMark atomic.Uint64
	// stats counts connections handed to the kernel and taken back, and
	// updates the kernel refused (the entry was gone, or the kernel never
	// tracked the connection).
	stats *Stats
	ct    *conntrack.Table
	logf  func(string, ...any)
}

// newFastPath opens the ctnetlink socket and starts reading its answers.
func newFastPath(ct *conntrack.Table, stats *Stats, logf func(string, ...any)) (*fastPath, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	if err != nil {
		return nil, fmt.Errorf("ctnetlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("ctnetlink bind: %w", err)
	}
	f := &fastPath{fd: fd, stats: stats, ct: ct, logf: logf, kernel: unix.SockaddrNetlink{Family: unix.AF_NETLINK}}
	go f.readErrors()
	return f, nil
}

// readErrors counts the kernel's refusals; the first few are logged.
func (f *fastPath) readErrors() {
	buf := make([]byte, 4096)
	var errs [16]unix.Errno
	for {
		n, _, err := unix.Recvfrom(f.fd, buf, 0)
		if err != nil {
			if errors.Is(err, unix.EINTR) || errors.Is(err, unix.ENOBUFS) {
				continue
			}
			return // closed
		}
		for _, e := range refusals(buf[:n], errs[:0]) {
			if f.stats.OffloadFailed.Add(1) <= 3 {
				f.logf("fast path: the kernel refused a connection mark update: %v", e)
			}
		}
	}
}

// refusals appends to errs the error of every NLMSG_ERROR message in b
// that reports a failure (an acknowledgement reports 0). Whatever b holds
// it does not panic.
func refusals(b []byte, errs []unix.Errno) []unix.Errno {
	for len(b) >= nlmsgHdrLen+4 {
		l := int(binary.NativeEndian.Uint32(b))
		if l < nlmsgHdrLen+4 || l > len(b) {
			break
		}
		if binary.NativeEndian.Uint16(b[4:]) == unix.NLMSG_ERROR {
			if e := int32(binary.NativeEndian.Uint32(b[nlmsgHdrLen:])); e < 0 {
				errs = append(errs, unix.Errno(-e))
			}
		}
		b = b[min(align4(l), len(b)):]
	}
	return errs
}

func (f *fastPath) close() { unix.Close(f.fd) }

// ctnetlink message and attribute numbers (uapi nfnetlink_conntrack.h).
const (
	nfnlSubsysCtnetlink = 1
	ipctnlMsgCtNew      = 0
	ctaTupleOrig        = 1
	ctaMark             = 8
	ctaTupleIP          = 1
	ctaTupleProto       = 2
	ctaIPv4Src          = 1
	ctaIPv4Dst          = 2
	ctaIPv6Src          = 3
	ctaIPv6Dst          = 4
	ctaProtoNum         = 1
	ctaProtoSrcPort     = 2
	ctaProtoDstPort     = 3
	nlaFNested          = 1 << 15
)

// setMark sets the kernel's mark of c's connection, found by c's original
// tuple (which matches the kernel's entry in either of its directions).
// It does not wait for the kernel.
func (f *fastPath) setMark(c *conntrack.Conn, mark uint32) {
	t := c.Tuple(conntrack.Original)
	f.mu.Lock()
	b := buildMarkUpdate(f.buf[:0], t, mark)
	err := unix.Sendto(f.fd, b, unix.MSG_DONTWAIT, &f.kernel)
	f.mu.Unlock()
	if err != nil && f.stats.OffloadFailed.Add(1) <= 3 {
		f.logf("fast path: sending a connection mark update: %v", err)
	}
}

// buildMarkUpdate appends to b the ctnetlink update that sets the mark of
// the entry with tuple t.
func buildMarkUpdate(b []byte, t conntrack.Tuple, mark uint32) []byte {
	fam := byte(unix.AF_INET)
	srcAttr, dstAttr, alen := uint16(ctaIPv4Src), uint16(ctaIPv4Dst), 4
	if t.Family == conntrack.IPv6 {
		fam, srcAttr, dstAttr, alen = unix.AF_INET6, ctaIPv6Src, ctaIPv6Dst, 16
	}
	src, dst := t.Src[:alen], t.Dst[:alen] // an IPv4 tuple's address is its first 4 bytes
	b = append(b, make([]byte, nlmsgHdrLen)...)
	binary.NativeEndian.PutUint16(b[4:], nfnlSubsysCtnetlink<<8|ipctnlMsgCtNew)
	binary.NativeEndian.PutUint16(b[6:], unix.NLM_F_REQUEST)
	b = append(b, fam, 0, 0, 0) // nfgenmsg: family, NFNETLINK_V0, res_id 0
	orig := len(b)
	b = append(b, 0, 0, 0, 0)
	ip := len(b)
	b = append(b, 0, 0, 0, 0)
	b = putAttr(b, srcAttr, src)
	b = putAttr(b, dstAttr, dst)
	nestEnd(b, ip, ctaTupleIP)
	proto := len(b)
	b = append(b, 0, 0, 0, 0)
	var v [4]byte
	v[0] = t.Proto
	b = putAttr(b, ctaProtoNum, v[:1])
	binary.BigEndian.PutUint16(v[:], t.SrcPort)
	b = putAttr(b, ctaProtoSrcPort, v[:2])
	binary.BigEndian.PutUint16(v[:], t.DstPort)
	b = putAttr(b, ctaProtoDstPort, v[:2])
	nestEnd(b, proto, ctaTupleProto)
	nestEnd(b, orig, ctaTupleOrig)
	binary.BigEndian.PutUint32(v[:], mark)
	b = putAttr(b, ctaMark, v[:])
	binary.NativeEndian.PutUint32(b, uint32(len(b)))
	return b
}

// nestEnd fills in the header of the nested attribute begun at off.
func nestEnd(b []byte, off int, typ uint16) {
	binary.NativeEndian.PutUint16(b[off:], uint16(len(b)-off))
	binary.NativeEndian.PutUint16(b[off+2:], typ|nlaFNested)
}

// consider offloads p's connection if it may be: p was accepted, by the
// compiled ruleset the divert's mark stands for, as a plain segment of an
// established connection gofw has neither NATed nor helps nor zones, and
// a packet of the other direction was accepted by the same ruleset. It is
// called for accepted packets whose path gofw has run to its end.
func (f *fastPath) consider(p *packet.Packet) {
	c := p.Conn
	gm := f.genMark.Load()
	gen, mark := uint32(gm>>32), uint32(gm)
	if c == nil || gen == 0 || p.Gen != gen || p.Proto != packet.ProtoTCP ||
		p.TCPFlags&(packet.TCPSyn|packet.TCPFin|packet.TCPRst) != 0 ||
		(p.CtInfo != conntrack.Established && p.CtInfo != conntrack.EstablishedReply) {
		return
	}
	const need = conntrack.StatusConfirmed | conntrack.StatusSeenReply | conntrack.StatusAssured
	const refuse = conntrack.StatusSrcNAT | conntrack.StatusDstNAT | conntrack.StatusSeqAdjust | conntrack.StatusDying
	st := c.Status()
	if st&need != need || st&refuse != 0 || c.Zone() != 0 || c.Helper() != "" ||
		c.TCPState() != conntrack.TCPEstablished {
		return
	}
	if f.ct.NoteAccepted(c, p.CtInfo.Dir(), gen) {
		f.setMark(c, mark)
		f.stats.Offloaded.Add(1)
	}
}

// pullBack is conntrack's OnPullBack: the connection's packets come to
// gofw again.
func (f *fastPath) pullBack(c *conntrack.Conn) {
	f.setMark(c, 0)
	f.stats.Returned.Add(1)
}
