// Package datapath connects gofw's engine to the kernel: it installs the
// divert rules (divert.go), reads the NFQUEUE queues, runs each packet to
// completion through ruleset.Engine at the hook the kernel queued it from,
// and returns the verdict with the rewritten packet and mark. It keeps the
// host's interfaces current (links.go), carries each packet's conntrack
// entry from hook to hook (inflight.go) and sends the answers of REJECT
// (reject.go).
//
// One goroutine reads each queue and runs every packet to completion: no
// hand-off channel, no goroutine per packet. More throughput comes from
// more queues (--queue-balance), not from more goroutines per queue.
package datapath

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/packet"
	"github.com/gofw/gofw/ruleset"
	"github.com/gofw/gofw/target"
)

// Config configures a Datapath.
type Config struct {
	// Queue is the first NFQUEUE number, Queues how many queues (and
	// reader goroutines) to use.
	Queue, Queues uint16
	// QueueLen is the kernel's queue length per queue (0: 4096).
	QueueLen uint32
	// FailOpen lets packets pass when gofwd cannot take them: no
	// reader (--queue-bypass) or a full queue (NFQA_CFG_F_FAIL_OPEN).
	FailOpen bool
	// Reader is the queue reader: "gofw" (nfq.go, the default) or
	// "go-nfqueue" (queue.go), kept to measure one against the other.
	Reader string
	// Copy is "auto" (the default: a packet's first HeaderCopy bytes while
	// the ruleset needs no more, see SetHeaders) or "full" (always the
	// whole packet; the only mode of the go-nfqueue reader).
	Copy string
	// FullQueue is the queue, read by gofwd with full copy and reached by
	// no divert rule, to which a packet cut short is handed on when its
	// headers do not fit in HeaderCopy bytes or its checksum is still to
	// be verified (0: Queue+Queues). Unused with Copy "full".
	FullQueue uint16
	// FastPath lets the kernel pass the plain segments of established TCP
	// connections gofw has decided (fastpath.go); the divert must be
	// Divert.Fast, and SetFast says which ruleset's connections to hand
	// over. It needs the engine's connection table.
	FastPath bool
	// Logf receives operational messages.
	Logf func(format string, a ...any)
}

// Stats are the datapath's counters, for gofwd's status and tests.
type Stats struct {
	Packets    atomic.Uint64 // packets received from the kernel
	Accepted   atomic.Uint64
	Dropped    atomic.Uint64
	Rejected   atomic.Uint64 // dropped with a REJECT answer sent
	Queued     atomic.Uint64 // handed on to another queue
	Modified   atomic.Uint64 // returned with rewritten bytes
	Malformed  atomic.Uint64 // not decodable as IP
	Lost       atomic.Uint64 // a later hook found no in-flight record
	NoBufs     atomic.Uint64 // ENOBUFS: the kernel dropped messages we could not read in time
	VerdictErr atomic.Uint64 // a verdict could not be sent
	Truncated  atomic.Uint64 // a queue message larger than the receive buffer
	Refetched  atomic.Uint64 // a packet cut short handed on to the full-copy queue
	// The fast path's: connections handed to the kernel, taken back, and
	// mark updates the kernel refused.
	Offloaded, Returned, OffloadFailed atomic.Uint64
}

// Datapath runs the engine on diverted traffic.
type Datapath struct {
	cfg    Config
	eng    *ruleset.Engine
	links  *Links
	flight *inflight
	reject *rejecter
	clock  func() int64
	Stats  Stats
	// GSO asks the kernel for GSO packets whole, their checksum not yet
	// computed (NFQA_CFG_F_GSO): far fewer, larger packets for bulk TCP.
	// gofwd turns it on only for rulesets that never rewrite packets
	// (ruleset.Ruleset.MayRewrite); SetGSO changes it on running queues.
	GSO atomic.Bool
	// headers: the queues copy a packet's first HeaderCopy bytes only
	// (SetHeaders).
	headers atomic.Bool
	nfqs    []*nfq
	errc    chan error // a reader that stopped
	fast    *fastPath  // nil without Config.FastPath
	// MergeOut runs POSTROUTING in the OUTPUT visit; the divert must then
	// let locally sourced packets by at POSTROUTING (Divert.MergeOut).
	// gofwd sets both from the ruleset (ruleset.Ruleset.OutputMayReroute).
	MergeOut atomic.Bool
}

// New returns a datapath for eng; links names interfaces.
func New(cfg Config, eng *ruleset.Engine, links *Links) *Datapath {
	if cfg.Queues == 0 {
		cfg.Queues = 1
	}
	if cfg.QueueLen == 0 {
		cfg.QueueLen = 4096
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.Copy == "" {
		cfg.Copy = "auto"
	}
	if cfg.Reader == "go-nfqueue" {
		cfg.Copy = "full"
	}
	if cfg.FullQueue == 0 {
		cfg.FullQueue = cfg.Queue + cfg.Queues
	}
	// A hand-off to another queue takes effect at the end of a visit
	// (worker.hook).
	eng.QueueLast = true
	return &Datapath{cfg: cfg, eng: eng, links: links, flight: newInflight(), clock: eng.Now}
}

// Run binds the queues and reads them until ctx ends (Start, then Wait).
func (d *Datapath) Run(ctx context.Context) error {
	if err := d.Start(ctx); err != nil {
		return err
	}
	return d.Wait(ctx)
}

// Start binds every queue and starts its reader. It returns once all are
// bound, so that a divert installed after it never sends a packet to a
// queue nobody reads; an error says which queue could not be bound
// (another program holds it, or no NFQUEUE support).
func (d *Datapath) Start(ctx context.Context) error {
	rj, err := newRejecter()
	if err != nil {
		return fmt.Errorf("raw socket for REJECT answers: %w", err)
	}
	d.reject = rj
	if d.cfg.Copy != "auto" && d.cfg.Copy != "full" {
		return fmt.Errorf("copy mode %q: want auto or full", d.cfg.Copy)
	}
	if d.cfg.FastPath {
		if d.eng.CT == nil {
			return errors.New("the fast path needs connection tracking")
		}
		f, err := newFastPath(d.eng.CT, &d.Stats, d.cfg.Logf)
		if err != nil {
			return fmt.Errorf("fast path: %w", err)
		}
		d.fast = f
		d.eng.CT.SetOnPullBack(f.pullBack)
	}
	d.errc = make(chan error, d.cfg.Queues+1)
	if d.cfg.Copy == "auto" {
		if d.cfg.FullQueue >= d.cfg.Queue && d.cfg.FullQueue-d.cfg.Queue < d.cfg.Queues {
			return fmt.Errorf("full-copy queue %d is one of the diverted queues %d-%d; choose another (gofwd --full-queue) or --copy full",
				d.cfg.FullQueue, d.cfg.Queue, d.cfg.Queue+d.cfg.Queues-1)
		}
		q, err := openNFQ(d, d.cfg.FullQueue, true)
		if err != nil {
			return fmt.Errorf("%w (the full-copy queue: choose a free one with gofwd --full-queue, or --copy full)", err)
		}
		d.nfqs = append(d.nfqs, q)
		go func() { d.errc <- q.run(ctx) }()
	}
	for i := uint16(0); i < d.cfg.Queues; i++ {
		switch d.cfg.Reader {
		case "", "gofw":
			q, err := openNFQ(d, d.cfg.Queue+i, false)
			if err != nil {
				return err
			}
			d.nfqs = append(d.nfqs, q)
			go func() { d.errc <- q.run(ctx) }()
		case "go-nfqueue":
			q, err := openQueue(ctx, d, d.cfg.Queue+i)
			if err != nil {
				return err
			}
			go func() { d.errc <- q.wait() }()
		default:
			return fmt.Errorf("unknown queue reader %q (want gofw or go-nfqueue)", d.cfg.Reader)
		}
	}
	return nil
}

// Wait ages the in-flight records until ctx ends, or returns the error of
// a queue reader that stopped.
func (d *Datapath) Wait(ctx context.Context) error {
	defer d.reject.close()
	if d.fast != nil {
		defer d.fast.close()
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-d.errc:
			if err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
		case <-tick.C:
			d.expireInflight()
		}
	}
}

// SetGSO turns GSO hand-over on or off, on running queues too.
func (d *Datapath) SetGSO(on bool) {
	if d.GSO.Swap(on) == on {
		return
	}
	for _, q := range d.nfqs {
		if err := q.setFlags(d.queueFlags(on)); err != nil {
			d.cfg.Logf("queue %d: setting GSO %v: %v", q.num, on, err)
		}
	}
}

// SetHeaders turns header-only copy on or off, on running queues too.
// gofwd turns it on for rulesets that need no packet past its headers
// (ruleset.Ruleset.NeedsPayload), before such a ruleset runs, and off
// before one that does; with Copy "full" it stays off. A packet copied
// short after it is off is handed on to the full-copy queue, so none is
// run cut short through a ruleset that reads or rewrites its payload.
func (d *Datapath) SetHeaders(on bool) {
	on = on && d.cfg.Copy == "auto"
	if d.headers.Swap(on) == on {
		return
	}
	for _, q := range d.nfqs {
		if q.full {
			continue
		}
		if err := q.setCopyRange(d.copyRange(false)); err != nil {
			d.cfg.Logf("queue %d: setting the copy range: %v", q.num, err)
		}
	}
}

// CheckQueues refuses NFQUEUE rules that hand packets to a queue gofwd
// reads itself, given as the ranges Ruleset.QueueRanges lists: a packet
// handed to a diverted queue would run through gofw again as if it had
// just arrived, one handed to the full-copy queue likewise.
func (d *Datapath) CheckQueues(ranges [][2]uint16) error {
	first, last := uint32(d.cfg.Queue), uint32(d.cfg.Queue)+uint32(d.cfg.Queues)-1
	for _, r := range ranges {
		lo, hi := uint32(r[0]), uint32(r[1])
		if lo <= last && first <= hi {
			return fmt.Errorf("-j NFQUEUE to queue %s: gofwd reads queues %d-%d itself (gofwd --queue-num, --queues); "+
				"hand packets to another program's queue, or move gofwd's", queueRange(r), first, last)
		}
		if fq := uint32(d.cfg.FullQueue); d.cfg.Copy == "auto" && lo <= fq && fq <= hi {
			return fmt.Errorf("-j NFQUEUE to queue %s: queue %d is gofwd's full-copy queue (gofwd --full-queue); "+
				"hand packets to another queue, or move the full-copy queue with gofwd --full-queue N", queueRange(r), fq)
		}
	}
	return nil
}

func queueRange(r [2]uint16) string {
	if r[0] == r[1] {
		return fmt.Sprint(r[0])
	}
	return fmt.Sprintf("%d:%d", r[0], r[1])
}

// HeaderCopy is how many bytes of a packet the queues copy in header-only
// mode: every IPv4 header with options and TCP header with options, and
// IPv6 headers with extension headers up to 400-odd bytes; a packet whose
// headers run past it is handed on to the full-copy queue.
const HeaderCopy = 512

// copyRange is the copy range of a queue.
func (d *Datapath) copyRange(full bool) uint32 {
	if full || !d.headers.Load() {
		return 0xffff
	}
	return HeaderCopy
}

// expireInflight drops the records of packets the kernel never brought
// back (dropped between hooks) and discards their unconfirmed entries.
func (d *Datapath) expireInflight() {
	for _, fl := range d.flight.rotate() {
		if fl.answer {
			d.flight.answers.Add(-1) // the answer never came back (routing dropped it)
		}
		if fl.conn != nil && d.eng.CT != nil {
			d.eng.CT.Discard(fl.conn)
		}
	}
}

// worker is one queue reader's reusable state.
type worker struct {
	d    *Datapath
	p    packet.Packet
	view packet.Packet // re-decoded view of a rewritten packet, for its fingerprint
	// queued: a hook of this visit handed the packet to another queue.
	queued bool
}

// meta is what the kernel tells about a queued packet.
type meta struct {
	hook      packet.Hook
	in, out   uint32
	mark      uint32
	hasOwner  bool
	uid, gid  uint32
	hwaddr    []byte
	timestamp int64
	// csumNotReady: the transport checksum is still to be computed
	// (NFQA_SKB_CSUMNOTREADY, only with GSO).
	csumNotReady bool
	// csumNotVerified: nobody verified the transport checksum yet
	// (NFQA_SKB_CSUM_NOTVERIFIED).
	csumNotVerified bool
	// capLen is the packet's whole length when the copy is shorter
	// (NFQA_CAP_LEN), else 0.
	capLen int
}

// verdict is what the worker answers the kernel.
type verdict struct {
	v        target.Verdict
	mark     uint32
	setMark  bool
	payload  []byte // non-nil: the packet was rewritten
	queueNum uint16
	bypass   bool
}

// handle runs one queued packet through the engine at its hook. Called for
// every packet.
func (w *worker) handle(data []byte, m *meta) verdict {
	d := w.d
	d.Stats.Packets.Add(1)
	p := &w.p
	p.ResetMeta()
	// The engine rewrites in place, in the receive buffer. A packet that
	// grows (TCPMSS, a helper's rewrite) is copied by the rewrite, never
	// grown over the next message: the slice's capacity ends with it.
	data = data[:len(data):len(data)]
	var r packet.Reason
	if m.capLen > len(data) {
		// Cut short at the copy range. Run it so only when the ruleset
		// needs no more of it, its headers are all there, and its
		// checksum needs no checking (conntrack checks what nobody
		// verified); else it goes whole through the full-copy queue,
		// at this same hook, as if it had come there first.
		ok := d.headers.Load() && !m.csumNotVerified
		if ok {
			r, ok = packet.DecodeCapture(data, m.capLen, p)
		}
		if !ok {
			d.Stats.Refetched.Add(1)
			return verdict{v: target.Queued, queueNum: d.cfg.FullQueue}
		}
	} else {
		r = packet.Decode(data, p)
	}
	if r != packet.ReasonNone && r.L3() {
		d.Stats.Malformed.Add(1)
		d.Stats.Dropped.Add(1)
		return verdict{v: target.Drop}
	}
	p.Hook = m.hook
	p.InIface, p.OutIface = d.links.Name(m.in), d.links.Name(m.out)
	p.Mark = m.mark
	p.HasOwner, p.UID, p.GID = m.hasOwner, m.uid, m.gid
	if len(m.hwaddr) == 6 {
		p.HasMAC = true
		copy(p.SrcMAC[:], m.hwaddr)
	}
	p.PktType = pktType(p, m, d.eng)
	p.Now = d.clock()
	p.CsumNotReady = m.csumNotReady

	w.queued = false
	v, next, record := w.visit(p, m)
	if v == target.Accept && w.queued {
		v = target.Queued
	}
	out := verdict{v: v, queueNum: p.QueueNum, bypass: p.QueueBypass}
	if p.Mark != m.mark {
		out.mark, out.setMark = p.Mark, true
	}
	if p.Changed && p.Truncated {
		// Only a ruleset swapped in while the packet ran could have
		// rewritten it; sent back cut short, it would be cut on the
		// wire. Dropped: its sender sends it again, then whole.
		d.Stats.Dropped.Add(1)
		return verdict{v: target.Drop}
	}
	if p.Changed {
		p.FinishChecksum()
		out.payload = p.Data
		d.Stats.Modified.Add(1)
	}
	switch v {
	case target.Accept:
		d.Stats.Accepted.Add(1)
		if record {
			next.conn, next.info, next.noTrack, next.zone, next.gen = p.Conn, p.CtInfo, p.NoTrack, p.Zone, p.Gen
			d.flight.put(w.fingerprintOut(p), next)
		} else if d.fast != nil && !p.Changed && !out.setMark {
			d.fast.consider(p)
		}
	case target.Rejected:
		d.Stats.Rejected.Add(1)
		d.sendReject(p)
		out.v = target.Drop
	case target.Queued:
		d.Stats.Queued.Add(1)
		if record {
			// The other queue's reader hands it back to the kernel,
			// which brings it to gofw's next divert point.
			next.conn, next.info, next.noTrack, next.zone, next.gen = p.Conn, p.CtInfo, p.NoTrack, p.Zone, p.Gen
			d.flight.put(w.fingerprintOut(p), next)
		}
	default:
		d.Stats.Dropped.Add(1)
	}
	return out
}

// hook runs one hook. A -j NFQUEUE hand-off (Queued) does not end the
// visit: the engine ran the hook's later stages (Engine.QueueLast), the
// visit goes on with its later hooks, and the packet is handed to the
// other queue at the end (handle), because the kernel reinjects it after
// gofwd's divert point and gofw would not see it again.
func (w *worker) hook(p *packet.Packet, h packet.Hook) target.Verdict {
	v := w.d.eng.Hook(p, h, nil)
	if v == target.Queued {
		w.queued = true
		return target.Accept
	}
	return v
}

// visit runs the hooks one queue visit stands for. The divert sends a
// packet to gofwd at PREROUTING, OUTPUT and POSTROUTING only; the other
// hooks run in the same visit as one of those, so that most packets cross
// to user space once:
//
//   - PREROUTING, for a packet the kernel will deliver here (its
//     destination after gofw's DNAT is local, broadcast or multicast, as
//     the input route decides): PREROUTING then INPUT, confirm included.
//   - PREROUTING, for a packet to be forwarded: PREROUTING; the packet is
//     recorded and FORWARD runs with POSTROUTING, once the kernel has
//     routed it and the output interface is known.
//   - OUTPUT: OUTPUT, then POSTROUTING too when nothing in the OUTPUT path
//     can re-route the packet (MergeOut); the POSTROUTING divert then lets
//     locally sourced packets by. Otherwise the packet is recorded and
//     POSTROUTING runs at its own visit.
//
// The kernel may still drop a packet between the hooks (reverse-path
// filter, no route); gofw has then already counted it at the later hook.
// It returns the verdict, and what to record for a later visit.
func (w *worker) visit(p *packet.Packet, m *meta) (v target.Verdict, next flight, record bool) {
	d := w.d
	host := d.eng.Env.Host
	switch m.hook {
	case packet.Prerouting:
		if p.InIface == loopback {
			// A packet this host sent to itself keeps the entry it got
			// on its way out, as the kernel's skb keeps its conntrack
			// through the loopback device: conntrack does not see it
			// twice.
			if fl, ok := d.flight.take(d.flight.fingerprint(p)); ok && (fl.conn != nil || fl.noTrack) {
				p.Conn, p.CtInfo, p.NoTrack, p.Zone, p.Gen = fl.conn, fl.info, fl.noTrack, fl.zone, fl.gen
			}
		}
		v = w.hook(p, packet.Prerouting)
		if v != target.Accept {
			return v, next, false
		}
		if host.Delivers(p.Dst) {
			return w.hook(p, packet.Input), next, false
		}
		return v, flight{forward: true, in: p.InIface}, true

	case packet.Output:
		// gofw's own REJECT answers are attached to the rejected
		// connection, as nf_ct_attach gives the kernel's its own.
		if d.flight.answers.Load() > 0 {
			if fl, ok := d.flight.take(d.flight.answerFingerprint(p)); ok {
				d.flight.answers.Add(-1)
				p.Conn, p.CtInfo = fl.conn, fl.info
			}
		}
		v = w.hook(p, packet.Output)
		if v != target.Accept {
			return v, next, false
		}
		if d.MergeOut.Load() {
			v = w.hook(p, packet.Postrouting)
			if !host.IsLocal(p.Src) {
				// A packet whose source is not local (0.0.0.0, a raw
				// socket's, a REJECT answer in the name of the remote
				// host) is not let by at POSTROUTING: it comes back, and
				// must be waved through there, and on to PREROUTING if
				// it loops back.
				return v, flight{merged: true, loop: p.OutIface == loopback}, true
			}
			// Out through loopback, it comes back at PREROUTING.
			return v, next, p.OutIface == loopback
		}
		return v, next, true

	case packet.Postrouting:
		fl, ok := d.flight.take(d.flight.fingerprint(p))
		switch {
		case ok && fl.merged:
			if fl.loop {
				p.Conn, p.CtInfo, p.NoTrack, p.Zone = fl.conn, fl.info, fl.noTrack, fl.zone
				return target.Accept, next, true
			}
			return target.Accept, next, false
		case ok:
			// p.Gen carries the ruleset of the earlier visit: a packet
			// whose hooks ran under two is never offloaded.
			p.Conn, p.CtInfo, p.NoTrack, p.Zone, p.Gen = fl.conn, fl.info, fl.noTrack, fl.zone, fl.gen
		default:
			d.Stats.Lost.Add(1)
			d.eng.Reattach(p)
			fl.forward = !host.IsLocal(p.Src)
			p.Gen = packet.MixedGen // the earlier visit's ruleset is unknown
		}
		if fl.forward {
			p.InIface = fl.in
			if v = w.hook(p, packet.Forward); v != target.Accept {
				return v, next, false
			}
		}
		v = w.hook(p, packet.Postrouting)
		return v, next, p.OutIface == loopback
	}
	// INPUT or FORWARD diverted on their own (a divert of an older gofwd
	// still in place): run that hook with what the packet carries.
	if fl, ok := d.flight.take(d.flight.fingerprint(p)); ok {
		p.Conn, p.CtInfo, p.NoTrack, p.Zone = fl.conn, fl.info, fl.noTrack, fl.zone
	} else {
		d.Stats.Lost.Add(1)
		d.eng.Reattach(p)
	}
	return w.hook(p, m.hook), next, false
}

// fingerprintOut fingerprints p as the kernel will see it at the next
// hook: re-decoded when gofw rewrote it, since the decoded fields may
// predate a resize.
func (w *worker) fingerprintOut(p *packet.Packet) uint64 {
	if !p.Changed {
		return w.d.flight.fingerprint(p)
	}
	packet.Decode(p.Data, &w.view)
	return w.d.flight.fingerprint(&w.view)
}

// sendReject sends the answer REJECT chose, and records it in flight so
// that its first hook attaches it to the rejected packet's connection as
// RELATED, as the kernel's nf_ct_attach does.
func (d *Datapath) sendReject(p *packet.Packet) {
	reply, ok := target.BuildReject(p, p.RejectWith, nil)
	if !ok {
		return
	}
	info := conntrack.RelatedReply
	if p.CtInfo.Dir() == conntrack.Reply {
		info = conntrack.Related
	}
	var view packet.Packet
	packet.Decode(reply, &view)
	// The kernel's icmp_send would not send this error now (its rate
	// limits, reject.go): neither does gofw.
	if !d.reject.allow(&view, p.InIface == "lo", d.eng.Env != nil && d.eng.Env.Host.IsLocal(view.Dst), p.Now) {
		return
	}
	d.flight.put(d.flight.answerFingerprint(&view), flight{conn: p.Conn, info: info, answer: true})
	d.flight.answers.Add(1)
	if err := d.reject.send(reply, view.Dst); err != nil {
		d.cfg.Logf("REJECT answer to %v: %v", view.Dst, err)
	}
}

// pktType classifies a received packet for -m pkttype. The kernel reads
// skb->pkt_type, set from the link-layer destination, which NFQUEUE does
// not pass on; gofw derives it from the IP destination instead (limited
// and directed broadcast, multicast), which agrees for every packet whose
// link and IP destinations agree.
func pktType(p *packet.Packet, m *meta, e *ruleset.Engine) packet.PktType {
	switch {
	case m.hook == packet.Output || m.hook == packet.Postrouting && m.in == 0:
		return packet.PktOutgoing
	case p.Dst.IsMulticast():
		return packet.PktMulticast
	case e.Env.Host.IsBroadcast(p.Dst):
		return packet.PktBroadcast
	}
	return packet.PktHost
}

// loopback is the loopback device's name in every network namespace.
const loopback = "lo"

// String summarises the counters for gofwd's log.
func (s *Stats) String() string {
	str := fmt.Sprintf("%d packets: %d accepted, %d dropped, %d rejected, %d queued on, %d rewritten; %d malformed, %d without their in-flight record, %d ENOBUFS, %d verdict errors, %d truncated, %d taken whole on the full-copy queue",
		s.Packets.Load(), s.Accepted.Load(), s.Dropped.Load(), s.Rejected.Load(), s.Queued.Load(), s.Modified.Load(),
		s.Malformed.Load(), s.Lost.Load(), s.NoBufs.Load(), s.VerdictErr.Load(), s.Truncated.Load(), s.Refetched.Load())
	if n := s.Offloaded.Load(); n > 0 {
		str += fmt.Sprintf("; fast path: %d connections handed to the kernel, %d taken back, %d mark updates refused", n, s.Returned.Load(), s.OffloadFailed.Load())
	}
	return str
}

// SetFast says which compiled ruleset's connections the fast path may
// hand to the kernel (ruleset.Engine.Gen; 0: none) and the connection
// mark the divert lets by for them (Divert.FastMark).
func (d *Datapath) SetFast(gen, mark uint32) {
	if d.fast == nil {
		return
	}
	d.fast.genMark.Store(uint64(gen)<<32 | uint64(mark))
}
