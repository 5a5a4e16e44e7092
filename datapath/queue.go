package datapath

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	nfqueue "github.com/florianl/go-nfqueue/v2"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/gofw/gofw/packet"
)

// queue is one NFQUEUE queue and its reader.
type queue struct {
	d    *Datapath
	num  uint16
	nf   *nfqueue.Nfqueue
	w    worker
	ctx  context.Context
	done chan error
}

// NFQUEUE verdict values and flags (uapi netfilter.h, nfnetlink_queue.h).
const (
	nfDrop        = 0
	nfAccept      = 1
	nfQueue       = 3
	nfQueueBypass = 0x8000 // NF_VERDICT_FLAG_QUEUE_BYPASS

	nfqaVerdictHdr = 2
	nfqaMark       = 3
	nfqaPayload    = 10
	nfqnlMsgVerdct = 1
	nfnlSubsysQ    = 3
)

func openQueue(ctx context.Context, d *Datapath, num uint16) (*queue, error) {
	flags := uint32(nfqueue.NfQaCfgFlagUIDGid)
	if d.cfg.FailOpen {
		flags |= nfqueue.NfQaCfgFlagFailOpen
	}
	nf, err := nfqueue.Open(&nfqueue.Config{
		NfQueue:      num,
		MaxPacketLen: 0xffff,
		MaxQueueLen:  d.cfg.QueueLen,
		Copymode:     nfqueue.NfQnlCopyPacket,
		AfFamily:     unix.AF_INET,
		Flags:        flags,
		WriteTimeout: time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("opening NFQUEUE %d: %w", num, err)
	}
	// A full socket buffer makes the kernel drop queue messages and
	// report ENOBUFS; that is counted, not fatal.
	_ = nf.Con.SetOption(netlink.NoENOBUFS, true)
	q := &queue{d: d, num: num, nf: nf, ctx: ctx, done: make(chan error, 1)}
	q.w.d = d
	err = nf.RegisterWithErrorFunc(ctx, q.hook, func(err error) int {
		if ctx.Err() != nil {
			return 1
		}
		if errors.Is(err, unix.ENOBUFS) {
			d.Stats.NoBufs.Add(1)
			return 0
		}
		var op *netlink.OpError
		if errors.As(err, &op) && (op.Timeout() || op.Temporary()) {
			return 0
		}
		d.cfg.Logf("queue %d: %v", num, err)
		return 0
	})
	if err != nil {
		nf.Close()
		return nil, fmt.Errorf("binding NFQUEUE %d (is another program reading it?): %w", num, err)
	}
	go func() {
		<-ctx.Done()
		q.done <- nf.Close()
	}()
	return q, nil
}

func (q *queue) wait() error { return <-q.done }

// hook is called by go-nfqueue for every queued packet, inline in its
// receive loop.
func (q *queue) hook(a nfqueue.Attribute) int {
	if a.PacketID == nil || a.Payload == nil || a.Hook == nil {
		return 0
	}
	m := meta{hook: packet.Hook(*a.Hook)}
	if a.InDev != nil {
		m.in = *a.InDev
	}
	if a.OutDev != nil {
		m.out = *a.OutDev
	}
	if a.Mark != nil {
		m.mark = *a.Mark
	}
	if a.UID != nil && a.GID != nil {
		m.hasOwner, m.uid, m.gid = true, *a.UID, *a.GID
	}
	if a.HwAddr != nil {
		m.hwaddr = *a.HwAddr
	}
	v := q.w.handle(*a.Payload, &m)
	if err := q.verdict(*a.PacketID, &v); err != nil {
		q.d.Stats.VerdictErr.Add(1)
		q.d.cfg.Logf("queue %d: verdict: %v", q.num, err)
	}
	return 0
}

// verdict sends the verdict for packet id. It builds the message itself
// because go-nfqueue's helpers cannot name a queue for an NF_QUEUE verdict
// (the hand-off of -j NFQUEUE --queue-num N).
func (q *queue) verdict(id uint32, v *verdict) error {
	code := v.code()
	hdr := make([]byte, 8)
	binary.BigEndian.PutUint32(hdr[0:], code)
	binary.BigEndian.PutUint32(hdr[4:], id)
	attrs := []netlink.Attribute{{Type: nfqaVerdictHdr, Data: hdr}}
	if v.setMark && code != nfDrop {
		mk := make([]byte, 4)
		binary.BigEndian.PutUint32(mk, v.mark)
		attrs = append(attrs, netlink.Attribute{Type: nfqaMark, Data: mk})
	}
	if v.payload != nil && code != nfDrop {
		attrs = append(attrs, netlink.Attribute{Type: nfqaPayload, Data: v.payload})
	}
	ab, err := netlink.MarshalAttributes(attrs)
	if err != nil {
		return err
	}
	data := make([]byte, 4, 4+len(ab))
	data[0] = unix.AF_UNSPEC
	data[1] = unix.NFNETLINK_V0
	binary.BigEndian.PutUint16(data[2:], q.num)
	data = append(data, ab...)
	_, err = q.nf.Con.Send(netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(nfnlSubsysQ<<8 | nfqnlMsgVerdct), Flags: netlink.Request},
		Data:   data,
	})
	return err
}
