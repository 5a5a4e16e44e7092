package ruleset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
	"github.com/gofw/gofw/target"
)

// gofw trace runs a capture through a ruleset and a fresh connection
// table, offline, packet by packet, and says for each what the kernel
// would have done with it and why. This file holds the runner; cmd/cli
// only wires its flags.

// TraceIface is one --iface NAME=ADDR/PREFIX: a local interface with one
// of its addresses and the prefix it routes.
type TraceIface struct {
	Name string
	Addr netip.Prefix
}

// ParseTraceIface parses NAME=ADDR/PREFIX (a bare ADDR means a host
// prefix, /32).
func ParseTraceIface(s string) (TraceIface, error) {
	name, a, ok := strings.Cut(s, "=")
	if !ok || name == "" || len(name) > 15 || strings.ContainsAny(name, " /:=+") {
		return TraceIface{}, fmt.Errorf("--iface %q: want NAME=ADDR/PREFIX (an interface name of up to 15 characters)", s)
	}
	var p netip.Prefix
	var err error
	if strings.Contains(a, "/") {
		p, err = netip.ParsePrefix(a)
	} else {
		var ad netip.Addr
		if ad, err = netip.ParseAddr(a); err == nil {
			p = netip.PrefixFrom(ad, ad.BitLen())
		}
	}
	if err != nil || p.Addr().Zone() != "" {
		return TraceIface{}, fmt.Errorf("--iface %q: want NAME=ADDR/PREFIX, such as eth0=198.18.0.1/24", s)
	}
	return TraceIface{Name: name, Addr: p}, nil
}

// TraceOptions configures a trace.
type TraceOptions struct {
	// Rules is the ruleset the packets go through.
	Rules *Ruleset
	// Local are addresses of this host without an interface (--local).
	Local []netip.Addr
	// Ifaces are the host's interfaces (--iface), in the order given.
	Ifaces []TraceIface
	// Conntrack configures the fresh connection table (--conntrack-max,
	// --conntrack-timeout).
	Conntrack conntrack.Config
	// JSON asks for one JSON object per packet instead of text.
	JSON bool
	// Expect also lists the pending expectations after the table, as
	// conntrack -L expect would (--expect).
	Expect bool
}

// TracePacket is one datagram of a capture.
type TracePacket struct {
	// N is the frame's number in the capture, from 1 (as tcpdump -# and
	// Wireshark count; a spec's packet number).
	N     int
	Data  []byte
	Time  time.Time
	Iface string // the capture interface, when the file names it
}

// TraceSource yields a capture's datagrams in order, then io.EOF.
type TraceSource interface {
	Next() (TracePacket, error)
}

type specSource struct {
	pkts []packet.SpecPacket
	i    int
}

// SpecSource yields the packets of a spec (packet.ParseSpec), timed from
// packet.SpecEpoch.
func SpecSource(pkts []packet.SpecPacket) TraceSource { return &specSource{pkts: pkts} }

func (s *specSource) Next() (TracePacket, error) {
	if s.i >= len(s.pkts) {
		return TracePacket{}, io.EOF
	}
	sp := &s.pkts[s.i]
	s.i++
	return TracePacket{N: s.i, Data: sp.Data, Time: packet.SpecEpoch.Add(sp.At), Iface: sp.Dev}, nil
}

// TraceHook is one hook a packet went through, with the interfaces it
// had there.
type TraceHook struct {
	Hook    packet.Hook
	In, Out string
}

// TraceResult is what happened to one packet.
type TraceResult struct {
	N       int
	At      time.Duration // since the capture's first packet
	Summary string
	// Skipped says why the packet did not go through the ruleset (IPv6:
	// iptables never sees it); nothing below is set then.
	Skipped string
	Hooks   []TraceHook
	Steps   []TraceStep
	Verdict target.Verdict
	// By names what decided the verdict: "table/CHAIN/N" for a rule,
	// "table/CHAIN/policy" for a policy, "conntrack" or "engine" for a
	// drop outside the rules.
	By string
	// CtState is NEW, ESTABLISHED, RELATED, INVALID or UNTRACKED, what
	// -m state saw; CtReply is set for the reply direction.
	CtState string
	CtReply bool
	// NATSrc and NATDst are the packet's source and destination after
	// NAT, set only when NAT rewrote them.
	NATSrc, NATDst string
	// Out is the packet as it left, summarised, set only when NAT or a
	// helper changed more than its own addresses and ports: the payload
	// (an FTP command rewritten by the helper, given as data="..."; an
	// ICMP error's quoted header, given by its quote=[...]) or the TCP
	// sequence numbers (adjusted after a rewrite changed a length, as
	// nf_conntrack_seqadj.c does).
	Out   string
	Notes []string
	// Defrag is set for an IPv4 fragment: what reassembly did with it.
	Defrag *TraceDefrag
}

// TraceDefrag is what reassembly did with a fragment at its first hook,
// before raw, as the kernel's nf_defrag_ipv4 (priority -400): a fragment
// that leaves its datagram incomplete is held and meets no hook yet; the
// one that completes it brings the whole datagram through the hooks, once,
// in its place; a fragment the kernel refuses goes no further.
type TraceDefrag struct {
	// Status is "held" (queued for reassembly: no hooks, no verdict),
	// "reassembled" (the datagram went through the hooks), "duplicate"
	// (dropped; the queue waits on) or "dropped" (with the whole queue;
	// Reason says why).
	Status string
	Reason string
	// ID is the datagram's IP identification.
	ID uint16
	// Packets are the capture's packets of the datagram, in capture
	// order: queued so far (held, duplicate), dropped with the queue
	// (dropped) or all of them (reassembled).
	Packets []int
	// Datagram summarises the reassembled datagram.
	Datagram string
	// Sent is how many fragments the datagram left in after POSTROUTING
	// (0 when it did not leave); Recut, when set, is the size it was cut
	// afresh at, when it could not leave in the fragments it came in.
	Sent, Recut int
}

func (d *TraceDefrag) text() string {
	switch d.Status {
	case "held":
		return fmt.Sprintf("held for reassembly (ipid %d; queued: packets %s)", d.ID, packet.TagList(d.Packets))
	case "reassembled":
		return fmt.Sprintf("reassembled from packets %s (ipid %d): %s", packet.TagList(d.Packets), d.ID, d.Datagram)
	case "duplicate":
		return fmt.Sprintf("duplicate fragment dropped (ipid %d; queued: packets %s)", d.ID, packet.TagList(d.Packets))
	}
	if len(d.Packets) == 0 {
		return fmt.Sprintf("%s: dropped (ipid %d)", d.Reason, d.ID)
	}
	return fmt.Sprintf("%s: dropped with packets %s (ipid %d)", d.Reason, packet.TagList(d.Packets), d.ID)
}

// sentText says how a reassembled datagram left.
func (d *TraceDefrag) sentText() string {
	if d.Recut > 0 {
		return fmt.Sprintf("sent as %d fragments, cut afresh at %d bytes", d.Sent, d.Recut)
	}
	return fmt.Sprintf("sent as %d fragments, as they came", d.Sent)
}

// Tracer runs the packets of one capture, in order, through an engine
// with a fresh connection table, on the capture's clock.
type Tracer struct {
	eng    *Engine
	ct     *conntrack.Table
	host   *match.Host
	ifaces []TraceIface
	p      packet.Packet

	first, last int64 // capture time of the first and last packet (ns)
	started     bool
	lastGC      int64
	// created maps an entry's original tuple to the packet that created
	// it, so the final listing is in capture order (the kernel lists in
	// hash order, which would make every run differ).
	created map[conntrack.Tuple]int
	// logs collects the LOG lines of the packet being traced.
	logs []string
	// expect is TraceOptions.Expect.
	expect bool
	// defrag reassembles IPv4 fragments before the packet's first hook;
	// sent holds the fragments the last packet's reassembled datagram
	// left in.
	defrag *packet.Defrag
	sent   [][]byte
}

// gcInterval is how often, on the capture's clock, the tracer reaps
// expired entries as the kernel's gc_worker does at its fastest
// (GC_SCAN_INTERVAL_MIN): a capture longer than a timeout sees the entry
// gone, and a full table is relieved as the kernel's would be.
const gcInterval = int64(time.Second)

// NewTracer compiles the ruleset for a trace. The host has a loopback
// interface lo (127.0.0.1/8 and the --local addresses) and the --iface
// interfaces, so addrtype and the NAT targets see the same host the
// trace's path decisions do.
func NewTracer(o TraceOptions) (*Tracer, error) {
	host := match.NewHost(traceHostIfaces(o))
	ct := conntrack.NewTable(o.Conntrack)
	t := &Tracer{ct: ct, host: host, ifaces: o.Ifaces, created: map[conntrack.Tuple]int{}, expect: o.Expect, defrag: packet.NewDefrag(packet.DefragConfig{})}
	// LOG and NFLOG lines belong to the packet being traced: they are
	// shown with it, where the kernel would write them to its log.
	env := &match.Env{Host: host, Log: func(line string) { t.logs = append(t.logs, "log: "+line) }}
	t.eng = NewEngine(ct, env)
	rs := o.Rules
	if rs == nil {
		rs = New()
	}
	if err := t.eng.Load(rs); err != nil {
		return nil, err
	}
	return t, nil
}

func traceHostIfaces(o TraceOptions) []match.Iface {
	lo := match.Iface{Name: "lo", Index: 1, Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}}
	for _, a := range o.Local {
		lo.Addrs = append(lo.Addrs, netip.PrefixFrom(a, a.BitLen()))
	}
	out := []match.Iface{lo}
	for _, i := range o.Ifaces {
		k := -1
		for j := range out {
			if out[j].Name == i.Name {
				k = j
			}
		}
		if k < 0 {
			out = append(out, match.Iface{Name: i.Name, Index: len(out) + 1, Up: true})
			k = len(out) - 1
		}
		out[k].Addrs = append(out[k].Addrs, i.Addr)
	}
	return out
}

// Route returns the interface whose --iface prefix holds a, the longest
// prefix winning and the first given among equals (so a /0 prefix is a
// default route); "lo" for a local or loopback address; "" when no prefix
// holds it.
func (t *Tracer) Route(a netip.Addr) string {
	if t.host.IsLocal(a) {
		return "lo"
	}
	best, bits := "", -1
	for _, i := range t.ifaces {
		if i.Addr.Contains(a) && i.Addr.Bits() > bits {
			best, bits = i.Name, i.Addr.Bits()
		}
	}
	return best
}

// Packet runs one datagram through its hooks and returns what happened.
//
// The path is decided from the addresses, as routing would: a packet to
// a local address takes PREROUTING, INPUT; one from a local address
// OUTPUT, POSTROUTING (and then PREROUTING, INPUT on lo when it is also
// to a local address); any other PREROUTING, FORWARD, POSTROUTING. The
// choice after PREROUTING (and after OUTPUT, for the loopback leg) is made
// again on the destination as it is then, since DNAT may have changed it.
//
// Interfaces: the input interface is the capture's (pcapng) interface,
// else the --iface whose prefix holds the source; the output interface is
// the --iface whose prefix holds the destination (for a locally generated
// packet the capture's interface, when the file names one); traffic
// between local addresses goes through lo.
//
// An IPv4 fragment is first given to reassembly, as the kernel does before
// raw at the first hook (TraceDefrag): until its datagram is complete it
// meets no hook; the fragment that completes it takes the whole datagram
// along the path, and a datagram that leaves through POSTROUTING leaves in
// fragments again (SentFragments). Known gap: a reassembled datagram from
// this host to this host meets PREROUTING on lo whole, where the kernel,
// having fragmented it again for lo, runs PREROUTING once per fragment
// (conntrack and reassembly skip them, the entry is attached) and
// reassembles before INPUT.
func (t *Tracer) Packet(tp TracePacket) TraceResult {
	p := &t.p
	p.ResetMeta()
	packet.Decode(tp.Data, p)
	now := tp.Time.UnixNano()
	if !t.started {
		t.first, t.lastGC, t.started = now, now, true
	}
	t.last = now
	r := TraceResult{N: tp.N, At: time.Duration(now - t.first), Summary: p.Summary()}
	if p.Family == 6 {
		r.Skipped = "IPv6: iptables sees only IPv4 (ip6tables rules are not traced)"
		return r
	}
	if now-t.lastGC >= gcInterval {
		t.ct.GCStep(now, math.MaxInt)
		t.lastGC = now
	}
	p.Now = now
	t.sent = t.sent[:0]
	for _, x := range t.defrag.Expire(now) {
		r.Notes = append(r.Notes, fmt.Sprintf("defrag: packets %s expired before reassembly (ipid %d; ipfrag_time %ds)", packet.TagList(x.Tags), x.ID, packet.DefaultFragTime/1e9))
	}
	dr, stop := t.reassemble(p, tp, &r)
	if stop {
		return r
	}
	before := t.ct.Stats()
	tr := &Trace{}
	src, dst := traceAddrPort(p)
	payload, seq, ack := bytes.Clone(p.Payload()), p.Seq, p.Ack
	t.logs = t.logs[:0]
	v := t.run(p, tp.Iface, tr, &r)
	r.Steps, r.Verdict = tr.Steps, v
	r.Notes = append(r.Notes, t.logs...)
	t.explain(&r, before, v)
	r.CtState, r.CtReply = ctStateName(p.CtInfo)
	if s, d := traceAddrPort(p); p.Family != 0 && (s != src || d != dst) {
		r.NATSrc, r.NATDst = s, d
	}
	r.Out = traceOut(p, payload, seq, ack)
	if n := len(r.Hooks); dr.Status == packet.DefragDone && v == target.Accept && n > 0 && r.Hooks[n-1].Hook == packet.Postrouting {
		t.refragment(p, &dr, r.Defrag)
	}
	if p.Conn != nil {
		// Keyed by the original tuple: a NEW packet (first, or reopening
		// a closed connection) starts the entry; any other packet only
		// fills in an entry created elsewhere (an expectation's).
		k := p.Conn.Tuple(conntrack.Original)
		if _, ok := t.created[k]; !ok || p.CtInfo == conntrack.New {
			t.created[k] = tp.N
		}
	}
	return r
}

// reassemble gives p to reassembly when it is an IPv4 fragment, at its
// first hook (OUTPUT for a local source, else PREROUTING: the kernel's
// IP_DEFRAG_CONNTRACK_OUT and _IN queues), as nf_defrag_ipv4 does before
// raw. It reports stop when p goes no further (held or dropped), and
// otherwise leaves in p what goes on: p itself, or the datagram p
// completed, decoded. gofwd has no such step and needs none: the kernel
// reassembles before its NFQUEUE divert (see packet/defrag.go).
func (t *Tracer) reassemble(p *packet.Packet, tp TracePacket, r *TraceResult) (packet.DefragResult, bool) {
	if p.Family != 4 || p.Malformed && p.Reason.L3() || p.FragOff == 0 && !p.MoreFrag {
		return packet.DefragResult{}, false
	}
	user := packet.FragConntrackIn
	if p.Src.IsValid() && t.host.IsLocal(p.Src) {
		user = packet.FragConntrackOut
	}
	dr := t.defrag.Add(p.Data, user, tp.N, p.Now)
	if len(dr.Restarted) > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("defrag: packets %s dropped: more than %d fragments from %v since (ipfrag_max_dist)", packet.TagList(dr.Restarted), packet.DefaultFragMaxDist, p.Src))
	}
	d := &TraceDefrag{ID: dr.ID, Packets: slices.Sorted(slices.Values(dr.Tags))}
	r.Defrag = d
	switch dr.Status {
	case packet.DefragNone:
		r.Defrag = nil
		return dr, false
	case packet.DefragHeld:
		d.Status = "held"
		return dr, true
	case packet.DefragDone:
		d.Status = "reassembled"
		packet.Decode(dr.Datagram, p)
		d.Datagram = p.Summary()
		return dr, false
	case packet.DefragDup:
		d.Status = "duplicate"
	default:
		d.Status, d.Reason = "dropped", dr.Status.String()
		if !dr.Status.Killed() {
			d.Packets = nil
		}
	}
	r.Verdict, r.By = target.Drop, "defrag"
	return dr, true
}

// refragment sends a reassembled datagram on as ip_do_fragment would,
// into t.sent, and says so in d.
func (t *Tracer) refragment(p *packet.Packet, dr *packet.DefragResult, d *TraceDefrag) {
	t.sent = packet.Refragment(t.sent[:0], p.Data, dr.Frags, dr.MaxSize, dr.PMTU)
	d.Sent = len(t.sent)
	same := len(t.sent) == len(dr.Frags)
	for i := 0; same && i < len(t.sent); i++ {
		same = len(t.sent[i])-int(t.sent[i][0]&0x0f)*4 == dr.Frags[i].Len
	}
	if !same {
		d.Recut = dr.MaxSize
	}
}

// SentFragments returns the fragments the last traced packet left in when
// it completed a datagram that went out through POSTROUTING (the kernel
// sends a datagram it reassembled on in fragments again), nil otherwise.
// They are valid until the next call to Packet.
func (t *Tracer) SentFragments() [][]byte {
	if len(t.sent) == 0 {
		return nil
	}
	return t.sent
}

// run takes p along its path and returns the verdict.
func (t *Tracer) run(p *packet.Packet, capIface string, tr *Trace, r *TraceResult) target.Verdict {
	hook := func(h packet.Hook) target.Verdict {
		r.Hooks = append(r.Hooks, TraceHook{Hook: h, In: p.InIface, Out: p.OutIface})
		v := t.eng.Hook(p, h, tr)
		if v == target.Queued {
			// Nobody listens on the queue offline: the kernel then
			// drops the packet (nf_queue without a listener), and
			// its unconfirmed entry goes with it.
			t.eng.discard(p)
			r.Notes = append(r.Notes, fmt.Sprintf("queue %d: no listener offline; the kernel would drop the packet unless --queue-bypass", p.QueueNum))
		}
		return v
	}
	if p.Src.IsValid() && t.host.IsLocal(p.Src) {
		p.OutIface = capIface
		if p.OutIface == "" {
			p.OutIface = t.Route(p.Dst)
		}
		if v := hook(packet.Output); v != target.Accept {
			return v
		}
		if capIface == "" {
			p.OutIface = t.Route(p.Dst) // rerouted after OUTPUT's DNAT
		}
		if v := hook(packet.Postrouting); v != target.Accept {
			return v
		}
		if !t.host.IsLocal(p.Dst) {
			return target.Accept
		}
		// Local to local: looped back through lo, with the conntrack
		// entry the packet already carries.
		p.InIface, p.OutIface = "lo", ""
		if v := hook(packet.Prerouting); v != target.Accept {
			return v
		}
		return hook(packet.Input)
	}
	p.InIface = capIface
	if p.InIface == "" && p.Src.IsValid() {
		p.InIface = t.Route(p.Src)
	}
	if v := hook(packet.Prerouting); v != target.Accept {
		return v
	}
	if t.host.IsLocal(p.Dst) {
		return hook(packet.Input)
	}
	p.OutIface = t.Route(p.Dst)
	if v := hook(packet.Forward); v != target.Accept {
		return v
	}
	return hook(packet.Postrouting)
}

// explain fills r.By and the notes on drops that no rule made, from the
// trace and the table's counters.
func (t *Tracer) explain(r *TraceResult, before conntrack.Stats, v target.Verdict) {
	after := t.ct.Stats()
	if n := after.EarlyDrop - before.EarlyDrop; n > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("conntrack: table full, %d unassured %s dropped early to make room", n, plural(n, "entry", "entries")))
	}
	// A failed insert (a clash, such as NAT finding no free port) also
	// counts a drop: only a drop without either is the full table.
	if after.Drop > before.Drop && after.Invalid == before.Invalid && after.InsertFailed == before.InsertFailed {
		r.Notes = append(r.Notes, "conntrack: table full, dropping packet")
	}
	if after.InsertFailed > before.InsertFailed {
		r.Notes = append(r.Notes, "conntrack: insert failed, packet dropped")
	}
	for _, s := range r.Steps {
		if s.Note != "" {
			r.Notes = append(r.Notes, "engine: "+s.Note)
		}
	}
	for i := len(r.Steps) - 1; i >= 0; i-- {
		s := &r.Steps[i]
		if s.Note == "" && s.Verdict == v && v != target.Continue {
			r.By = stepName(s)
			return
		}
	}
	switch {
	case v == target.Accept:
	case after.Drop > before.Drop || after.InsertFailed > before.InsertFailed:
		r.By = "conntrack"
	default:
		r.By = "engine"
	}
}

func plural(n uint64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// stepName is a step as "table/CHAIN/N" or "table/CHAIN/policy".
func stepName(s *TraceStep) string {
	if s.Num == 0 {
		return s.Table + "/" + s.Chain + "/policy"
	}
	return s.Table + "/" + s.Chain + "/" + strconv.Itoa(s.Num)
}

// ctStateName is the state -m state matches for info: the reply
// direction's ctinfo values are the same states.
func ctStateName(info conntrack.CtInfo) (string, bool) {
	switch info {
	case conntrack.New:
		return "NEW", false
	case conntrack.Established:
		return "ESTABLISHED", false
	case conntrack.EstablishedReply:
		return "ESTABLISHED", true
	case conntrack.Related:
		return "RELATED", false
	case conntrack.RelatedReply:
		return "RELATED", true
	case conntrack.Untracked:
		return "UNTRACKED", false
	}
	return "INVALID", false
}

// traceAddrPort renders the packet's source and destination as "addr:port"
// (or the bare address for a protocol without ports).
func traceAddrPort(p *packet.Packet) (string, string) {
	if !p.Src.IsValid() {
		return "", ""
	}
	if p.HasPorts {
		return netip.AddrPortFrom(p.Src, p.SrcPort).String(), netip.AddrPortFrom(p.Dst, p.DstPort).String()
	}
	return p.Src.String(), p.Dst.String()
}

// traceOut is TraceResult.Out for p as it leaves, given its payload and
// TCP sequence numbers as it came: "" when only addresses and ports
// changed (the nat line says that), else p summarised again from its
// bytes, with its payload quoted when that changed (an ICMP error's
// summary already shows the quote).
func traceOut(p *packet.Packet, payload []byte, seq, ack uint32) string {
	var q packet.Packet
	packet.Decode(bytes.Clone(p.Data), &q)
	samePayload := bytes.Equal(q.Payload(), payload)
	sameSeq := q.Proto != packet.ProtoTCP || q.TCPHdrLen < 20 || q.Seq == seq && q.Ack == ack
	if q.Family != p.Family || samePayload && sameSeq {
		return ""
	}
	s := q.Summary()
	if !samePayload && q.Proto != packet.ProtoICMP && q.Proto != packet.ProtoICMPv6 {
		s += fmt.Sprintf(" data=%q", q.Payload())
	}
	return s
}

// Conntrack returns the table as conntrack -L would list it after the
// last packet: expired entries reaped, timeouts relative to the last
// packet's time, in the order their first packets came in the capture.
func (t *Tracer) Conntrack() []conntrack.Entry {
	t.ct.GCStep(t.last, math.MaxInt)
	es := t.ct.List(conntrack.ListConntrack, nil, t.last)
	order := func(e *conntrack.Entry) int {
		if n, ok := t.created[e.Orig]; ok {
			return n
		}
		return math.MaxInt
	}
	// Insertion sort: listings are short, and this keeps ties stable.
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && order(&es[j]) < order(&es[j-1]); j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
	return es
}

// Expect returns the expectations as conntrack -L expect would list them
// after the last packet: expired ones reaped, timeouts relative to the
// last packet's time, sorted by their text (the kernel lists them in hash
// order).
func (t *Tracer) Expect() []conntrack.ExpectEntry {
	t.ct.GCStep(t.last, math.MaxInt)
	xs := t.ct.ListExpect(t.last)
	sort.Slice(xs, func(i, j int) bool {
		return string(xs[i].AppendText(nil)) < string(xs[j].AppendText(nil))
	})
	return xs
}

// AppendText appends the packet's trace as gofw trace prints it:
//
//	packet 1 +0.000000s: tcp 198.18.0.2:40000 > 198.18.0.1:22 S seq=1000 win=65535 len=0
//	  PREROUTING in=eth0
//	  INPUT in=eth0
//	    filter/INPUT/1: -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
//	  verdict: ACCEPT by filter/INPUT/1, ctstate: NEW
func (r *TraceResult) AppendText(b []byte) []byte {
	b = fmt.Appendf(b, "packet %d +%.6fs: %s\n", r.N, r.At.Seconds(), r.Summary)
	if r.Skipped != "" {
		return fmt.Appendf(b, "  skipped: %s\n", r.Skipped)
	}
	if d := r.Defrag; d != nil {
		b = append(b, "  defrag: "+d.text()+"\n"...)
		if d.Status != "reassembled" {
			for _, n := range r.Notes {
				b = append(b, "  "+n+"\n"...)
			}
			if d.Status == "held" {
				return b
			}
			return append(b, "  verdict: "+r.Verdict.String()+" by "+r.By+"\n"...)
		}
	}
	steps := r.Steps
	for _, h := range r.Hooks {
		b = append(b, "  "+h.Hook.String()...)
		if h.In != "" {
			b = append(b, " in="+h.In...)
		}
		if h.Out != "" {
			b = append(b, " out="+h.Out...)
		}
		b = append(b, '\n')
		for len(steps) > 0 && steps[0].Hook == h.Hook {
			s := &steps[0]
			steps = steps[1:]
			switch {
			case s.Note != "":
			case s.Num == 0:
				b = fmt.Appendf(b, "    %s: -P %s %s\n", stepName(s), s.Chain, s.Verdict)
			default:
				b = fmt.Appendf(b, "    %s: -A %s%s\n", stepName(s), s.Chain, s.Rule.Spec())
			}
		}
	}
	for _, n := range r.Notes {
		b = append(b, "  "+n+"\n"...)
	}
	if r.NATSrc != "" {
		b = fmt.Appendf(b, "  nat: %s > %s\n", r.NATSrc, r.NATDst)
	}
	if r.Out != "" {
		b = append(b, "  out: "+r.Out+"\n"...)
	}
	if d := r.Defrag; d != nil && d.Sent > 0 {
		b = append(b, "  defrag: "+d.sentText()+"\n"...)
	}
	b = append(b, "  verdict: "+r.Verdict.String()...)
	if r.By != "" {
		b = append(b, " by "+r.By...)
	}
	b = append(b, ", ctstate: "+r.CtState...)
	if r.CtReply {
		b = append(b, " reply"...)
	}
	return append(b, '\n')
}

// traceJSON is the JSON form of a TraceResult: one object per packet.
type traceJSON struct {
	N        int         `json:"n"`
	Time     float64     `json:"time"`
	Packet   string      `json:"packet"`
	Skipped  string      `json:"skipped,omitempty"`
	Hooks    []hookJSON  `json:"hooks,omitempty"`
	Rules    []string    `json:"rules"`
	Policies []string    `json:"policies,omitempty"`
	Verdict  string      `json:"verdict,omitempty"`
	By       string      `json:"by,omitempty"`
	CtState  string      `json:"ctstate,omitempty"`
	CtDir    string      `json:"ctdir,omitempty"`
	NAT      *natJSON    `json:"nat,omitempty"`
	Out      string      `json:"out,omitempty"`
	Notes    []string    `json:"notes,omitempty"`
	Defrag   *defragJSON `json:"defrag,omitempty"`
}

type defragJSON struct {
	Status   string `json:"status"`
	Reason   string `json:"reason,omitempty"`
	ID       uint16 `json:"ipid"`
	Packets  []int  `json:"packets"`
	Datagram string `json:"datagram,omitempty"`
	Sent     int    `json:"sent,omitempty"`
	Recut    int    `json:"recut,omitempty"`
}

type hookJSON struct {
	Hook string `json:"hook"`
	In   string `json:"in,omitempty"`
	Out  string `json:"out,omitempty"`
}

type natJSON struct {
	Src string `json:"src"`
	Dst string `json:"dst"`
}

// MarshalJSON renders the result as one object: n, time (seconds since the
// first packet), packet (the summary), hooks ([{hook, in, out}]), rules
// (every matching rule as "table/CHAIN/N"), policies (each applied policy
// as "table/CHAIN"), verdict (ACCEPT, DROP, REJECT or QUEUE), by (what
// decided it), ctstate (NEW, ESTABLISHED, RELATED, INVALID or UNTRACKED),
// ctdir ("reply" for the reply direction, else left out), nat ({src, dst}
// as "addr:port" after NAT, only when NAT rewrote the packet), out (the
// packet as it left, only when more than its addresses and ports changed:
// TraceResult.Out), notes and, for an IPv4 fragment, defrag ({status,
// reason, ipid, packets, datagram, sent, recut}: TraceDefrag).
// A skipped packet has n, time, packet, skipped and empty rules only; a
// fragment held for reassembly has no hooks and no verdict, and one that
// reassembly dropped has the verdict DROP by "defrag".
func (r *TraceResult) MarshalJSON() ([]byte, error) {
	j := traceJSON{N: r.N, Time: r.At.Seconds(), Packet: r.Summary, Skipped: r.Skipped, Rules: []string{}, Notes: r.Notes}
	if d := r.Defrag; d != nil {
		j.Defrag = &defragJSON{Status: d.Status, Reason: d.Reason, ID: d.ID, Packets: d.Packets, Datagram: d.Datagram, Sent: d.Sent, Recut: d.Recut}
		if j.Defrag.Packets == nil {
			j.Defrag.Packets = []int{}
		}
	}
	if r.Skipped == "" && (r.Defrag == nil || r.Defrag.Status == "reassembled") {
		j.Verdict, j.By, j.CtState = r.Verdict.String(), r.By, r.CtState
		if r.CtReply {
			j.CtDir = "reply"
		}
		for _, h := range r.Hooks {
			j.Hooks = append(j.Hooks, hookJSON{Hook: h.Hook.String(), In: h.In, Out: h.Out})
		}
		for i := range r.Steps {
			s := &r.Steps[i]
			switch {
			case s.Note != "":
			case s.Num == 0:
				j.Policies = append(j.Policies, s.Table+"/"+s.Chain)
			default:
				j.Rules = append(j.Rules, stepName(s))
			}
		}
		if r.NATSrc != "" {
			j.NAT = &natJSON{Src: r.NATSrc, Dst: r.NATDst}
		}
		j.Out = r.Out
	} else if r.Defrag != nil && r.Defrag.Status != "held" {
		j.Verdict, j.By = r.Verdict.String(), r.By
	}
	// Not json.Marshal: it would escape the summary's ">" as \u003e.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(j); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// ConntrackSummary is conntrack-tools' closing line for a listing of n
// entries (cli-formats.md A.1).
func ConntrackSummary(n int) string {
	return fmt.Sprintf("conntrack v1.4.7 (conntrack-tools): %d flow entries have been shown.\n", n)
}

// RunTrace runs every packet of src through a fresh Tracer, as Run does.
func RunTrace(o TraceOptions, src TraceSource, stdout, stderr io.Writer) error {
	t, err := NewTracer(o)
	if err != nil {
		return err
	}
	return t.Run(src, o.JSON, stdout, stderr)
}

// Run traces every packet of src and writes the trace to stdout: text
// blocks (JSON lines with asJSON), then the connection table as conntrack
// -L lists it after the last packet (text: after a "conntrack -L:" line;
// JSON: a last object {"conntrack": [lines]}), with Expect the
// expectations as conntrack -L expect lists them (text: after a "conntrack
// -L expect:" line; JSON: {"expect": [lines]}), and conntrack's summary
// lines to stderr. An error reading the capture stops the trace after what
// was printed, and is returned.
func (t *Tracer) Run(src TraceSource, asJSON bool, stdout, stderr io.Writer) error {
	var b []byte
	flush := func() error {
		_, err := stdout.Write(b)
		b = b[:0]
		return err
	}
	var readErr error
	for {
		tp, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		r := t.Packet(tp)
		if asJSON {
			j, err := r.MarshalJSON()
			if err != nil {
				return err
			}
			b = append(append(b, j...), '\n')
		} else {
			b = r.AppendText(b)
			b = append(b, '\n')
		}
		if len(b) > 1<<16 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	es := t.Conntrack()
	lines := make([]string, len(es))
	for i := range es {
		lines[i] = string(es[i].AppendText(nil, conntrack.FormatOpts{}))
	}
	if asJSON {
		j, err := json.Marshal(struct {
			Conntrack []string `json:"conntrack"`
		}{lines})
		if err != nil {
			return err
		}
		b = append(append(b, j...), '\n')
	} else {
		b = append(b, "conntrack -L:\n"...)
		for _, l := range lines {
			b = append(append(b, l...), '\n')
		}
	}
	var xs []conntrack.ExpectEntry
	if t.expect {
		xs = t.Expect()
		xlines := make([]string, len(xs))
		for i := range xs {
			xlines[i] = string(xs[i].AppendText(nil))
		}
		if asJSON {
			j, err := json.Marshal(struct {
				Expect []string `json:"expect"`
			}{xlines})
			if err != nil {
				return err
			}
			b = append(append(b, j...), '\n')
		} else {
			b = append(b, "conntrack -L expect:\n"...)
			for _, l := range xlines {
				b = append(append(b, l...), '\n')
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	// The summary goes to stderr after stdout is written, as
	// conntrack-tools does (cli-formats.md A.1).
	io.WriteString(stderr, ConntrackSummary(len(es)))
	if t.expect {
		fmt.Fprintf(stderr, "conntrack v1.4.7 (conntrack-tools): %d expectations have been shown.\n", len(xs))
	}
	return readErr
}
