package ruleset

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
	"github.com/gofw/gofw/target"
)

// Engine runs packets through the live ruleset and gofw's connection
// tracker, hook by hook, as netfilter does. It holds a compiled program
// (published whole through an atomic pointer, so a packet never sees half a
// ruleset) and the connection table, which belongs to the engine and not to
// a ruleset: reloading rules keeps every tracked flow.
//
// The engine needs no kernel: gofwd's datapath feeds it packets from
// NFQUEUE one hook at a time, gofw trace feeds it a capture file.
type Engine struct {
	prog atomic.Pointer[program]
	gens atomic.Uint32 // the last program's gen
	// CT is the connection table; nil runs without tracking (every packet
	// is then INVALID to the state matches, as in a kernel without
	// nf_conntrack, and the nat table is never walked).
	CT    *conntrack.Table
	clock func() int64
	// Env is lent to the extensions that need outside state.
	Env *match.Env
	// Linear turns off the chain indexes (index.go): every packet is
	// tested against every rule in order, as the kernel does. The tests
	// use it as the reference the indexes are checked against.
	Linear bool
	// QueueLast makes a -j NFQUEUE (or QUEUE) hand-off take effect at the
	// end of the hook: the table that queued the packet stops, as in the
	// kernel, but the later stages still run before Hook returns Queued.
	// gofwd needs this: the kernel reinjects a handed-off packet after
	// gofwd's own divert point, so stages gofw had not run yet would never
	// run (a hand-off in raw PREROUTING would skip gofw's filter INPUT).
	// The second reader then sees the packet as those stages left it, and
	// its DROP leaves a confirmed entry to time out. gofw trace leaves it
	// off: offline, a queued packet stops there, as with no listener.
	QueueLast bool
	// NoChecksum turns off the transport checksum check at PREROUTING
	// (the kernel's nf_conntrack_checksum=0).
	NoChecksum bool
}

// NewEngine returns an engine with an empty ruleset (every chain empty,
// every policy ACCEPT).
func NewEngine(ct *conntrack.Table, env *match.Env) *Engine {
	if env == nil {
		env = &match.Env{}
	}
	if env.CT == nil {
		env.CT = ct
	}
	e := &Engine{CT: ct, Env: env}
	if ct != nil {
		e.clock = ct.Config().Clock
	} else {
		start := time.Now()
		e.clock = func() int64 { return int64(time.Since(start)) }
	}
	p, err := e.compile(New())
	if err != nil {
		panic(err) // an empty ruleset always compiles
	}
	e.prog.Store(p)
	return e
}

// Load compiles rs, binds its extensions to the engine's environment and
// publishes it. On error nothing changes: the previous program keeps
// running. Live calls it (through Live.Compile) before it publishes a
// ruleset, so the control plane and the packet path never disagree.
func (e *Engine) Load(rs *Ruleset) error {
	p, err := e.compile(rs)
	if err != nil {
		return err
	}
	e.prog.Store(p)
	return nil
}

// Now returns the current time on the engine's clock: the connection
// table's (conntrack.Config.Clock), so that packets, timeouts and the
// table's garbage collector agree. Without a table it is a monotonic clock
// started with the engine.
func (e *Engine) Now() int64 { return e.clock() }

// Ruleset returns the ruleset the engine runs.
func (e *Engine) Ruleset() *Ruleset { return e.prog.Load().rs }

// Gen returns the generation of the program the engine runs (see
// packet.Packet.Gen).
func (e *Engine) Gen() uint32 { return e.prog.Load().gen }

// stageKind is what one step of a hook's pipeline does.
type stageKind uint8

const (
	stageTable   stageKind = iota // walk a table's built-in chain
	stageTrack                    // conntrack: find or create the entry
	stageNAT                      // nat table (first packet) + the binding
	stageConfirm                  // conntrack confirm
)

// stage is one step of a hook's pipeline.
type stage struct {
	kind  stageKind
	table string
	chain *cchain // nil when the table is not in use
	manip conntrack.Manip
}

// hookOrder lists, per hook, the tables and conntrack steps in the order of
// their kernel priorities (NF_IP_PRI_*). Each row says why it is there.
var hookOrder = [packet.NumHooks][]stage{
	packet.Prerouting: {
		{kind: stageTable, table: "raw"},                          // -300: before conntrack, so NOTRACK and CT templates apply
		{kind: stageTrack},                                        // -200: nf_conntrack_in for packets from the wire
		{kind: stageTable, table: "mangle"},                       // -150
		{kind: stageNAT, table: "nat", manip: conntrack.ManipDst}, // -100: DNAT before routing
	},
	packet.Input: {
		{kind: stageTable, table: "mangle"},                       // -150
		{kind: stageTable, table: "filter"},                       // 0
		{kind: stageNAT, table: "nat", manip: conntrack.ManipSrc}, // +100: SNAT of traffic to this host
		{kind: stageConfirm},                                      // INT_MAX: the packet leaves netfilter
	},
	packet.Forward: {
		{kind: stageTable, table: "mangle"}, // -150
		{kind: stageTable, table: "filter"}, // 0
	},
	packet.Output: {
		{kind: stageTable, table: "raw"},                          // -300
		{kind: stageTrack},                                        // -200: nf_conntrack_local for locally generated packets
		{kind: stageTable, table: "mangle"},                       // -150
		{kind: stageNAT, table: "nat", manip: conntrack.ManipDst}, // -100: DNAT of local traffic
		{kind: stageTable, table: "filter"},                       // 0
	},
	packet.Postrouting: {
		{kind: stageTable, table: "mangle"},                       // -150
		{kind: stageNAT, table: "nat", manip: conntrack.ManipSrc}, // +100: SNAT, MASQUERADE
		{kind: stageConfirm},                                      // INT_MAX
	},
}

// program is a compiled, immutable ruleset: per hook, the pipeline with
// each table's built-in chain resolved, and every rule's jump resolved to a
// chain pointer.
type program struct {
	rs    *Ruleset
	hooks [packet.NumHooks][]stage
	// gen numbers the programs an engine compiled, from 1: the packet
	// records which one ran it (packet.Packet.Gen), so that gofwd's fast
	// path only offloads a connection the published ruleset accepted.
	gen uint32
}

// cchain is a compiled chain.
type cchain struct {
	table   string
	name    string
	builtin bool
	policy  target.Verdict
	pc      *Counters
	rules   []crule
	// index, for a long chain, narrows the rules to test (index.go).
	index *chainIndex
}

// crule is a compiled rule: the IP header part flattened for a quick test,
// the matches' and target's hot paths, and the jump resolved.
type crule struct {
	r        *Rule
	num      int // 1-based position in its chain, for traces
	ipv4     bool
	src, smk uint32
	dst, dmk uint32
	in, out  ifaceMatch
	proto    uint8
	inv      uint8
	frag     bool
	matches  []match.Matcher
	kind     Kind
	target   target.Doer
	jump     *cchain
	counters *Counters
}

// ifaceMatch is -i/-o as the kernel compares names (ifname_compare_aligned):
// the whole name, or a prefix when the rule's name ends in "+".
type ifaceMatch struct {
	name   string
	prefix bool
	set    bool
}

func makeIface(name string) ifaceMatch {
	if name == "" {
		return ifaceMatch{}
	}
	if name[len(name)-1] == '+' {
		return ifaceMatch{name: name[:len(name)-1], prefix: true, set: true}
	}
	return ifaceMatch{name: name, set: true}
}

func (m *ifaceMatch) match(dev string) bool {
	if m.prefix {
		return len(dev) >= len(m.name) && dev[:len(m.name)] == m.name
	}
	return dev == m.name
}

func be32(a [4]byte) uint32 {
	return uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
}

// compile turns rs into a program, binding every extension to the engine's
// environment. Any rule whose match or target has no packet path is refused
// by name: nothing is accepted and then ignored.
func (e *Engine) compile(rs *Ruleset) (*program, error) {
	p := &program{rs: rs, gen: e.gens.Add(1)}
	chains := map[string]map[string]*cchain{}
	for _, t := range rs.Tables() {
		cm := map[string]*cchain{}
		for _, c := range t.Chains() {
			cc := &cchain{table: t.Name, name: c.Name, builtin: c.Builtin, pc: c.PolicyCounters, policy: target.Accept}
			if c.Policy == PolicyDrop {
				cc.policy = target.Drop
			}
			cm[c.Name] = cc
		}
		for _, c := range t.Chains() {
			cc := cm[c.Name]
			cc.rules = make([]crule, len(c.Rules))
			for i, r := range c.Rules {
				if err := e.compileRule(&cc.rules[i], r, i+1, cm); err != nil {
					return nil, fmt.Errorf("%s (rule %d in chain %s of table %s)", err, i+1, c.Name, t.Name)
				}
			}
			if !e.Linear {
				cc.index = buildIndex(cc)
			}
		}
		chains[t.Name] = cm
	}
	for h := packet.Hook(0); h < packet.NumHooks; h++ {
		for _, st := range hookOrder[h] {
			if st.table != "" {
				if cm, ok := chains[st.table]; ok {
					st.chain = cm[h.String()]
				}
			}
			p.hooks[h] = append(p.hooks[h], st)
		}
	}
	return p, nil
}

func (e *Engine) compileRule(cr *crule, r *Rule, num int, cm map[string]*cchain) error {
	*cr = crule{
		r: r, num: num, kind: r.Kind, counters: r.Counters,
		proto: r.Proto, inv: r.Inv, frag: r.Frag,
		in: makeIface(r.InIface), out: makeIface(r.OutIface),
	}
	if r.Src.Is4() {
		cr.ipv4 = true
		cr.src, cr.smk = be32(r.Src.As4()), be32(r.SrcMask.As4())
		cr.dst, cr.dmk = be32(r.Dst.As4()), be32(r.DstMask.As4())
	}
	for _, m := range r.Matches {
		mm, ok := m.M.(match.Matcher)
		if !ok {
			return fmt.Errorf("-m %s: the packet engine cannot evaluate this match yet", m.Info.Name)
		}
		if b, ok := m.M.(match.Binder); ok {
			if err := b.Bind(e.Env); err != nil {
				return fmt.Errorf("-m %s: %v", m.Info.Name, err)
			}
		}
		cr.matches = append(cr.matches, mm)
	}
	switch r.Kind {
	case KindJump, KindGoto:
		cr.jump = cm[r.Chain]
		if cr.jump == nil {
			return fmt.Errorf("jump to unknown chain %s", r.Chain)
		}
	case KindExt:
		d, ok := r.Target.(target.Doer)
		if !ok {
			return fmt.Errorf("-j %s: the packet engine cannot run this target yet", r.TargetInfo.Name)
		}
		if b, ok := r.Target.(match.Binder); ok {
			if err := b.Bind(e.Env); err != nil {
				return fmt.Errorf("-j %s: %v", r.TargetInfo.Name, err)
			}
		}
		cr.target = d
	}
	return nil
}

// ipMatch is ip_packet_match: addresses under their masks, interfaces,
// protocol and fragment flag, each with its inversion.
func (cr *crule) ipMatch(p *packet.Packet) bool {
	if p.Family != 4 || !cr.ipv4 {
		return false
	}
	if cr.smk != 0 || cr.inv&InvSrc != 0 {
		a := p.Src.As4()
		if (be32(a)&cr.smk != cr.src) != (cr.inv&InvSrc != 0) {
			return false
		}
	}
	if cr.dmk != 0 || cr.inv&InvDst != 0 {
		a := p.Dst.As4()
		if (be32(a)&cr.dmk != cr.dst) != (cr.inv&InvDst != 0) {
			return false
		}
	}
	if cr.in.set && !cr.in.match(p.InIface) != (cr.inv&InvIn != 0) {
		return false
	}
	if cr.out.set && !cr.out.match(p.OutIface) != (cr.inv&InvOut != 0) {
		return false
	}
	if cr.proto != 0 && (p.Proto != cr.proto) != (cr.inv&InvProto != 0) {
		return false
	}
	if cr.frag && (p.FragOff == 0) != (cr.inv&InvFrag != 0) {
		return false
	}
	return true
}

// walk runs p through chain c, as ipt_do_table: rules in order, jumps as
// calls, gotos as tail calls, RETURN back to the caller, and the policy at
// the end of a built-in chain. It returns Continue when a user chain ran
// out or returned (the caller goes on with its next rule).
//
// Called for every packet; must not allocate.
func (c *cchain) walk(p *packet.Packet, tr *Trace) target.Verdict {
	var cu cursor
	cu.start(c, p)
	for i := cu.next(); i >= 0; i = cu.next() {
		cr := &c.rules[i]
		if !cr.ipMatch(p) {
			continue
		}
		ok := true
		for _, m := range cr.matches {
			if !m.Match(p) {
				ok = false
				break
			}
		}
		if p.Hotdrop {
			tr.add(p.Hook, c, cr.num, cr.r, target.Drop)
			return target.Drop
		}
		if !ok {
			continue
		}
		cr.counters.Add(p.WireLen())
		var v target.Verdict
		switch cr.kind {
		case KindNone:
			tr.add(p.Hook, c, cr.num, cr.r, target.Continue)
			continue
		case KindAccept:
			v = target.Accept
		case KindDrop:
			v = target.Drop
		case KindQueue:
			p.QueueNum, p.QueueBypass = 0, false
			v = target.Queued
		case KindReturn:
			tr.add(p.Hook, c, cr.num, cr.r, target.Continue)
			return c.fallOff(p, tr)
		case KindJump:
			tr.add(p.Hook, c, cr.num, cr.r, target.Continue)
			v = cr.jump.walk(p, tr)
			if v == target.Continue {
				continue
			}
			return v
		case KindGoto:
			tr.add(p.Hook, c, cr.num, cr.r, target.Continue)
			v = cr.jump.walk(p, tr)
			if v == target.Continue {
				return c.fallOff(p, tr)
			}
			return v
		case KindExt:
			v = cr.target.Do(p)
		}
		tr.add(p.Hook, c, cr.num, cr.r, v)
		if v != target.Continue {
			return v
		}
	}
	return c.fallOff(p, tr)
}

// fallOff is what happens at the end of a chain (or on RETURN): a user
// chain returns to its caller, a built-in chain applies its policy and
// counts the packet in the policy counters.
func (c *cchain) fallOff(p *packet.Packet, tr *Trace) target.Verdict {
	if !c.builtin {
		return target.Continue
	}
	c.pc.Add(p.WireLen())
	tr.add(p.Hook, c, 0, nil, c.policy)
	return c.policy
}

// Hook runs p through every stage of hook h and returns the verdict: Accept
// when the packet goes on (to the next hook, or out), Drop, Rejected or
// Queued. tr, when not nil, records every rule that matched.
//
// p must be decoded and carry its metadata (interfaces, mark, Now). At the
// first hook of its path (PREROUTING or OUTPUT) conntrack attaches p.Conn;
// callers that run several hooks of one packet keep p between them. When a
// packet that created an entry is dropped, the entry is discarded, as the
// kernel frees an unconfirmed conntrack with its skb.
//
// Called for every packet; must not allocate.
func (e *Engine) Hook(p *packet.Packet, h packet.Hook, tr *Trace) target.Verdict {
	prog := e.prog.Load()
	p.Hook = h
	if p.Gen == 0 {
		p.Gen = prog.gen
	} else if p.Gen != prog.gen {
		p.Gen = packet.MixedGen
	}
	if p.Malformed && p.Reason.L3() {
		// ip_rcv_core drops these before any hook; a capture or a buggy
		// local sender can still hand one to gofw.
		tr.note(h, "dropped: "+p.Reason.String())
		return target.Drop
	}
	queued := false
	for i := range prog.hooks[h] {
		st := &prog.hooks[h][i]
		v := target.Accept
		switch st.kind {
		case stageTable:
			if st.chain != nil {
				v = st.chain.walk(p, tr)
			}
		case stageTrack:
			v = e.track(p)
		case stageNAT:
			v = e.natStage(p, st, tr)
		case stageConfirm:
			v = e.helpConfirm(p, tr) // helper, seqadj, confirm (ruleset/helper.go)
		}
		if v == target.Queued && e.QueueLast {
			queued = true
			continue
		}
		if v != target.Accept && v != target.Continue {
			if v != target.Queued {
				e.discard(p)
			}
			return v
		}
	}
	if queued {
		return target.Queued
	}
	return target.Accept
}

// track is the conntrack stage: find the packet's entry or create an
// unconfirmed one (nf_conntrack_in). A packet that already carries an
// entry (a later hook of the same packet in gofw trace) keeps it.
func (e *Engine) track(p *packet.Packet) target.Verdict {
	if p.Conn != nil {
		return target.Accept
	}
	if p.NoTrack {
		p.CtInfo = conntrack.Untracked
		return target.Accept
	}
	p.CtInfo = conntrack.Invalid
	if e.CT == nil {
		return target.Accept
	}
	var seg conntrack.Segment
	makeSegment(p, &seg, p.Hook == packet.Prerouting && !e.NoChecksum)
	c, info, v := e.CT.In(&seg, p.Now)
	if v == conntrack.Drop {
		return target.Drop
	}
	p.Conn, p.CtInfo = c, info
	if c != nil && info == conntrack.New && p.Helper != "" && c.Status()&conntrack.StatusConfirmed == 0 {
		// -j CT --helper: the template's helper goes to the new entry,
		// as __nf_ct_try_assign_helper does. The name was checked when
		// the rule was loaded.
		_ = c.SetHelper(p.Helper)
	}
	return target.Accept
}

// Reattach finds the entry of a packet that reached a later hook without
// the record of its first one (gofwd restarted while it was queued, or the
// record expired): the confirmed entry its tuple belongs to, classified as
// resolve_normal_ct would, without running the protocol tracker again. A
// packet whose entry cannot be found stays INVALID.
func (e *Engine) Reattach(p *packet.Packet) {
	p.Conn, p.CtInfo = nil, conntrack.Invalid
	if e.CT == nil || p.NoTrack {
		return
	}
	var seg conntrack.Segment
	makeSegment(p, &seg, false)
	if seg.Malformed {
		return
	}
	c, dir := e.CT.Lookup(seg.Tuple, p.Zone, p.Now)
	if c == nil {
		return
	}
	p.Conn = c
	switch st := c.Status(); {
	case dir == conntrack.Reply:
		p.CtInfo = conntrack.EstablishedReply
	case st&conntrack.StatusSeenReply != 0:
		p.CtInfo = conntrack.Established
	case st&conntrack.StatusExpected != 0:
		p.CtInfo = conntrack.Related
	default:
		p.CtInfo = conntrack.New
	}
}

// confirm is the last stage of INPUT and POSTROUTING.
func (e *Engine) confirm(p *packet.Packet) target.Verdict {
	if e.CT == nil || p.Conn == nil {
		return target.Accept
	}
	c, v := e.CT.Confirm(p.Conn, p.CtInfo, p.Now)
	if v == conntrack.Drop {
		p.Conn = nil
		return target.Drop
	}
	p.Conn = c
	return target.Accept
}

// discard forgets the unconfirmed entry of a dropped packet.
//
// The packet keeps pointing at the discarded entry, as the kernel's skb
// keeps its conntrack until it is freed: REJECT's answer is attached to it
// (nf_ct_attach) so that it passes as RELATED and is NATed back.
func (e *Engine) discard(p *packet.Packet) {
	if e.CT != nil && p.Conn != nil && p.Conn.Status()&conntrack.StatusConfirmed == 0 {
		e.CT.Discard(p.Conn)
	}
}

// natStage walks the nat table for a connection's first packet only (NEW,
// or RELATED in either direction other than an ICMP error), until a binding for this manip is
// set; with no matching rule the entry gets a null binding, so later rules
// never rewrite this connection (nf_nat_inet_fn). Then the binding, in
// whichever direction, is applied to the packet (nf_nat_packet).
func (e *Engine) natStage(p *packet.Packet, st *stage, tr *Trace) target.Verdict {
	c := p.Conn
	if c == nil {
		return target.Accept // INVALID and UNTRACKED packets are never NATed
	}
	done := conntrack.StatusDstNATDone
	if st.manip == conntrack.ManipSrc {
		done = conntrack.StatusSrcNATDone
	}
	// nf_nat_inet_fn walks the table for NEW and for RELATED in either
	// direction (ICMP errors aside, which nf_nat_icmp_reply_translation
	// takes): a REJECT's reset for a connection whose first packet never
	// reached this hook is RELATED_REPLY and is NATed from the table too.
	first := p.CtInfo == conntrack.New ||
		(p.CtInfo == conntrack.Related || p.CtInfo == conntrack.RelatedReply) && !isICMPError(p)
	if first && c.Status()&done == 0 {
		if st.chain != nil {
			if v := st.chain.walk(p, tr); v != target.Accept {
				return v
			}
		}
		c.SetStatus(done) // the null binding, if no rule bound it
	}
	return natPacket(p, st.manip)
}

// MayRewrite reports whether running rs can change a packet's bytes: a
// rule in the nat table (and so the helpers' NAT mangling), TCPMSS or
// CHECKSUM. When it cannot, the datapath lets the kernel hand over GSO
// packets whole with their checksum still to be computed
// (NFQA_CFG_F_GSO), which it could not hand back rewritten cheaply.
func (rs *Ruleset) MayRewrite() bool {
	for _, t := range rs.Tables() {
		for _, c := range t.Chains() {
			for _, r := range c.Rules {
				if t.Name == "nat" {
					return true
				}
				if r.Kind == KindExt && (r.TargetInfo.Name == "TCPMSS" || r.TargetInfo.Name == "CHECKSUM") {
					return true
				}
			}
		}
	}
	return false
}

// NeedsPayload reports whether running rs can need a packet's bytes past
// its headers: whatever MayRewrite reports (a rewritten packet goes back
// whole), a string match, a conntrack helper (-j CT --helper: it reads and
// may rewrite the payload), NFLOG (it hands the packet on), and REJECT
// (its ICMP answers quote the packet; a TCP reset needs the packet's
// checksum verified). When it cannot, the datapath asks the kernel for the
// headers only (a packet's first datapath.HeaderCopy bytes).
func (rs *Ruleset) NeedsPayload() bool {
	if rs.MayRewrite() {
		return true
	}
	for _, t := range rs.Tables() {
		for _, c := range t.Chains() {
			for _, r := range c.Rules {
				for _, m := range r.Matches {
					if m.Info.Name == "string" {
						return true
					}
				}
				if r.Kind != KindExt {
					continue
				}
				switch r.TargetInfo.Name {
				case "REJECT", "NFLOG":
					return true
				case "CT":
					if ct, ok := r.Target.(*target.CT); ok && ct.Helper != "" {
						return true
					}
				}
			}
		}
	}
	return false
}

// QueueRanges lists the queues rs's NFQUEUE rules hand packets to, each as
// its first and last number.
func (rs *Ruleset) QueueRanges() [][2]uint16 {
	var qs [][2]uint16
	for _, t := range rs.Tables() {
		for _, c := range t.Chains() {
			for _, r := range c.Rules {
				if q, ok := r.Target.(*target.NFQueue); ok && r.Kind == KindExt {
					qs = append(qs, [2]uint16{q.Num, q.Num + max(q.Total, 1) - 1})
				}
			}
		}
	}
	return qs
}

// OutputMayReroute reports whether rs can change, on a locally generated
// packet's way through OUTPUT, what the kernel routed it by (destination,
// source, mark, TOS): any rule in the nat or mangle OUTPUT chains, or a
// raw OUTPUT rule that sets a mark. The kernel then routes the packet
// again after gofw's verdict (nf_ip_reroute), so POSTROUTING must wait for
// the packet's own visit; otherwise the datapath runs it at once.
func (rs *Ruleset) OutputMayReroute() bool {
	for _, tn := range []string{"nat", "mangle"} {
		if t, ok := rs.Table(tn); ok {
			if c, ok := t.Chain("OUTPUT"); ok && len(c.Rules) > 0 {
				return true
			}
		}
	}
	if t, ok := rs.Table("raw"); ok {
		for _, c := range t.Chains() {
			for _, r := range c.Rules {
				if r.Kind == KindExt && (r.TargetInfo.Name == "MARK" || r.TargetInfo.Name == "CONNMARK") {
					return true
				}
			}
		}
	}
	return false
}
