package packet

import "strconv"

// IPv4 reassembly as the kernel's nf_defrag_ipv4 does it before conntrack
// (priority -400, ahead of raw): net/ipv4/ip_fragment.c ip_defrag and
// net/ipv4/inet_fragment.c, as of Linux 6.18. gofw trace needs it to see
// what iptables sees: one whole datagram, tracked once, which then leaves
// in the fragments it came in (ip_output.c ip_do_fragment).
//
// gofwd needs none of this: its divert's "-j CT --notrack" makes the
// kernel load nf_defrag_ipv4 (xt_CT's checkentry takes nf_ct_netns_get),
// so the kernel reassembles before the raw table's NFQUEUE and gofwd is
// handed whole datagrams.

// FragUser names the defragmentation a fragment meets, as the kernel's
// ip_defrag_users: fragments of different users never share a queue.
type FragUser uint8

// The users gofw trace has: conntrack's defragmentation at PREROUTING
// (IP_DEFRAG_CONNTRACK_IN) and at OUTPUT (IP_DEFRAG_CONNTRACK_OUT), zone 0.
const (
	FragConntrackIn FragUser = iota
	FragConntrackOut
)

// Defaults of the kernel's net.ipv4 sysctls (ip_fragment.c
// ipv4_frags_init_net).
const (
	// DefaultFragHighThresh is ipfrag_high_thresh: above it, every new
	// fragment is dropped (inet_frag_find) until queues complete or expire.
	DefaultFragHighThresh = 4 << 20
	// DefaultFragTime is ipfrag_time, 30 s, in nanoseconds: a queue is
	// dropped that long after its first fragment (the timer is not pushed
	// back by later fragments).
	DefaultFragTime = int64(30e9)
	// DefaultFragMaxDist is ipfrag_max_dist: a queue that has waited while
	// more than this many fragments came from its source is started
	// afresh (ip_frag_too_far).
	DefaultFragMaxDist = 64
)

// The memory a queue and a fragment are charged against HighThresh. The
// kernel charges sizeof(struct ipq) and each fragment's skb->truesize,
// which depends on the driver that allocated it; these stand in for them
// (x86-64: struct ipq, and SKB_TRUESIZE's fixed part over the bytes).
const (
	fragQueueSize = 192
	fragOverhead  = 576
)

// DefragConfig holds the reassembler's limits; zero fields take the
// kernel's defaults.
type DefragConfig struct {
	// HighThresh is ipfrag_high_thresh, in bytes.
	HighThresh int
	// Timeout is ipfrag_time, in nanoseconds.
	Timeout int64
	// MaxDist is ipfrag_max_dist; negative disables the check, as 0
	// does in the kernel.
	MaxDist int
}

// DefragStatus says what Add did with a datagram.
type DefragStatus uint8

// Add's outcomes. Only DefragNone lets the packet itself go on; every
// other one takes it (the kernel's NF_STOLEN), and DefragDone hands back
// the whole datagram in its place.
const (
	// DefragNone: not an IPv4 fragment (or no usable header); untouched.
	DefragNone DefragStatus = iota
	// DefragHeld: queued, waiting for the rest of its datagram.
	DefragHeld
	// DefragDone: it completed its datagram, in Result.Datagram.
	DefragDone
	// DefragDup: it lies inside what the queue holds already: dropped,
	// the queue kept (inet_frag_queue_insert's IPFRAG_DUP).
	DefragDup
	// DefragOverlap: it overlaps what the queue holds: dropped with the
	// whole queue (RFC 5722 as amended, which the kernel applies to
	// IPv4 too).
	DefragOverlap
	// DefragBadEnd: it contradicts the datagram's known end (a last
	// fragment ending before data already seen or elsewhere than an
	// earlier last fragment, data past the last fragment's end) or is
	// empty: dropped with the whole queue.
	DefragBadEnd
	// DefragOversize: the datagram it completed is longer than 65535
	// bytes: dropped with the whole queue.
	DefragOversize
	// DefragECN: its fragments mix Not-ECT with ECT or CE (RFC 3168
	// 5.3): dropped with the whole queue.
	DefragECN
	// DefragNoMem: the queues hold more than HighThresh: dropped.
	DefragNoMem
)

var defragStatusNames = [...]string{
	DefragNone:     "not a fragment",
	DefragHeld:     "held",
	DefragDone:     "reassembled",
	DefragDup:      "duplicate fragment",
	DefragOverlap:  "overlapping fragment",
	DefragBadEnd:   "fragment contradicts the datagram's end",
	DefragOversize: "reassembled datagram over 65535 bytes",
	DefragECN:      "fragments with conflicting ECN codepoints",
	DefragNoMem:    "fragment memory over ipfrag_high_thresh",
}

// String describes the status in a few words.
func (s DefragStatus) String() string {
	if int(s) < len(defragStatusNames) {
		return defragStatusNames[s]
	}
	return "?"
}

// Killed reports whether the status dropped the fragment's whole queue.
func (s DefragStatus) Killed() bool {
	return s == DefragOverlap || s == DefragBadEnd || s == DefragOversize || s == DefragECN
}

// FragPiece is one fragment of a reassembled datagram: where its data lay
// and the caller's tag for it.
type FragPiece struct {
	Off, Len int // bytes of payload, from the end of the IP header
	Tag      int
}

// DefragResult is what Add did. Its slices belong to the Defrag and stay
// valid until the next call to Add.
type DefragResult struct {
	Status DefragStatus
	// ID is the datagram's IP identification.
	ID uint16
	// Tags are the caller's tags of the fragments the queue held: after
	// DefragHeld and DefragDup, those queued so far; after a status that
	// killed the queue, those dropped with it (the new fragment among
	// them when it had been queued); after DefragDone, every fragment,
	// in the order they were added. They are in offset order for
	// DefragDone (Frags), in arrival order otherwise.
	Tags []int
	// DefragDone only: the datagram, its fragments in offset order,
	// the largest fragment's length (IPCB's frag_max_size, which
	// Refragment takes as its MTU) and whether that fragment had DF set
	// (IPSKB_FRAG_PMTU: the datagram carries DF again).
	Datagram []byte
	Frags    []FragPiece
	MaxSize  int
	PMTU     bool
	// Restarted are the tags of the fragments dropped before this one
	// was queued because more than MaxDist fragments had come from the
	// source since the queue's last one (ip_frag_reinit).
	Restarted []int
}

// Expired is a queue that ipfrag_time ran out on: its datagram's IP
// identification and its fragments' tags, in arrival order.
type Expired struct {
	ID   uint16
	Tags []int
}

type fragKey struct {
	src, dst [4]byte
	id       uint16
	proto    uint8
	user     FragUser
}

// fragRec is a queued fragment: its place in the datagram, its bytes in
// the queue's buf and its tag.
type fragRec struct {
	off, n, at, tag int
}

// fragSpan is a run of adjacent fragments, the kernel's rb-tree node:
// fragments that came in order at the tail are one run, and a fragment
// is a duplicate only if it lies within a single run.
type fragSpan struct{ start, end int }

// fragQueue is one datagram being reassembled (struct ipq).
type fragQueue struct {
	key   fragKey
	frags []fragRec  // in offset order, disjoint
	runs  []fragSpan // in order, disjoint
	tags  []int      // the fragments' tags in arrival order
	buf   []byte     // the fragments' data
	hdr   [60]byte   // the first fragment's header
	hlen  int        // 0 until the first fragment came
	// len is the datagram's payload length as far as known, meat the
	// bytes queued (q.len, q.meat).
	len, meat int
	lastIn    bool
	maxSize   int // the largest fragment (q.max_size)
	maxDF     int // the largest fragment with DF (max_df_size)
	ecn       uint8
	mem       int
	rid       uint32 // peer->rid when this queue last got a fragment
	expires   int64
	// The expiry list, soonest first.
	prev, next *fragQueue
}

// fragPeer counts the fragments from one source, as the kernel's
// inet_peer rid, for ipfrag_max_dist; it lives while a queue from that
// source does (only differences between counts matter).
type fragPeer struct {
	rid  uint32
	refs int
}

// Defrag reassembles IPv4 datagrams from their fragments. It is not safe
// for concurrent use. Buffers are reused: after warming up, Add allocates
// only when a new queue or source needs more room than any before.
type Defrag struct {
	cfg        DefragConfig
	queues     map[fragKey]*fragQueue
	peers      map[[4]byte]fragPeer
	head, tail *fragQueue
	free       []*fragQueue
	mem        int

	out       []byte
	frags     []FragPiece
	tags      []int
	restarted []int
	expired   []Expired
	xtags     []int
}

// NewDefrag returns an empty reassembler with the given limits.
func NewDefrag(cfg DefragConfig) *Defrag {
	if cfg.HighThresh == 0 {
		cfg.HighThresh = DefaultFragHighThresh
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultFragTime
	}
	if cfg.MaxDist == 0 {
		cfg.MaxDist = DefaultFragMaxDist
	}
	return &Defrag{cfg: cfg, queues: map[fragKey]*fragQueue{}, peers: map[[4]byte]fragPeer{}}
}

// Queues returns how many datagrams are waiting for fragments.
func (d *Defrag) Queues() int { return len(d.queues) }

// Mem returns the memory the queues are charged, as HighThresh counts it.
func (d *Defrag) Mem() int { return d.mem }

// IsFragment reports whether data starts with an IPv4 header that Add
// takes: a whole header, within the data, of a fragment (MF set or a
// non-zero offset), as ip_is_fragment after ip_rcv_core's checks.
func IsFragment(data []byte) bool {
	if len(data) < 20 || data[0]>>4 != 4 {
		return false
	}
	ihl := int(data[0]&0x0f) * 4
	tot := int(be16(data[2:]))
	if ihl < 20 || tot < ihl || tot > len(data) {
		return false
	}
	return be16(data[6:])&0x3fff != 0
}

// Expire drops the queues whose time ran out by now and returns them; the
// slice is valid until the next call to Expire or Add. Add calls it
// itself, so a caller needs it only to learn which expired.
func (d *Defrag) Expire(now int64) []Expired {
	d.expired, d.xtags = d.expired[:0], d.xtags[:0]
	for q := d.head; q != nil && q.expires <= now; q = d.head {
		at := len(d.xtags)
		d.xtags = q.appendTags(d.xtags)
		d.expired = append(d.expired, Expired{ID: q.key.id, Tags: d.xtags[at:len(d.xtags):len(d.xtags)]})
		d.kill(q)
	}
	return d.expired
}

// Add takes one datagram at time now (nanoseconds, the capture's clock),
// tagged by the caller, for the given user. A datagram that is not an
// IPv4 fragment is left alone (DefragNone). Queues whose time ran out are
// dropped first (see Expire). data is copied; Add does not keep it.
//
// It mirrors ip_defrag: inet_frag_find (the memory limit), ip_frag_queue
// (too far, end checks, inet_frag_queue_insert, accounting) and
// ip_frag_reasm (ECN, size, the header). Add never panics, whatever data
// holds.
func (d *Defrag) Add(data []byte, user FragUser, tag int, now int64) DefragResult {
	d.Expire(now)
	if !IsFragment(data) {
		return DefragResult{}
	}
	ihl := int(data[0]&0x0f) * 4
	data = data[:be16(data[2:])]
	k := fragKey{src: [4]byte(data[12:16]), dst: [4]byte(data[16:20]), id: be16(data[4:]), proto: data[9], user: user}
	r := DefragResult{ID: k.id}
	if d.mem > d.cfg.HighThresh {
		r.Status = DefragNoMem
		return r
	}
	q := d.queues[k]
	if q == nil {
		q = d.newQueue(k, now)
	}
	if d.tooFar(q, now) {
		r.Restarted = d.restarted
	}

	fo := be16(data[6:])
	off := int(fo&0x1fff) * 8
	end := off + len(data) - ihl
	if fo&0x2000 == 0 {
		// The last fragment fixes the end (ip_frag_queue).
		if end < q.len || q.lastIn && end != q.len {
			return d.killed(q, DefragBadEnd, r)
		}
		q.lastIn, q.len = true, end
	} else {
		// Only the last fragment may end off an 8-byte boundary: the
		// rest of its data is cut off.
		end &^= 7
		if end > q.len {
			if q.lastIn {
				return d.killed(q, DefragBadEnd, r)
			}
			q.len = end
		}
	}
	if end == off {
		return d.killed(q, DefragBadEnd, r)
	}
	switch q.insert(off, end) {
	case insertDup:
		r.Status = DefragDup
		d.tags = q.appendTags(d.tags[:0])
		r.Tags = d.tags
		return r
	case insertOverlap:
		return d.killed(q, DefragOverlap, r)
	}
	n := end - off
	q.add(fragRec{off: off, n: n, at: len(q.buf), tag: tag}, data[ihl:ihl+n])
	mem := n + fragOverhead
	q.mem += mem
	d.mem += mem
	q.meat += n
	q.ecn |= 1 << (data[1] & 3)
	if off == 0 {
		q.hlen = copy(q.hdr[:], data[:ihl])
	}
	size := n + ihl
	q.maxSize = max(q.maxSize, size)
	if fo&0x4000 != 0 {
		q.maxDF = max(q.maxDF, size)
	}
	if q.hlen == 0 || !q.lastIn || q.meat != q.len {
		r.Status = DefragHeld
		d.tags = q.appendTags(d.tags[:0])
		r.Tags = d.tags
		return r
	}
	return d.reasm(q, r)
}

// fragECN is ip_frag_ecn_table, indexed by the OR of 1<<(tos&3) over the
// fragments: CE to add to the header, or 0xff to drop the datagram.
var fragECN = [16]uint8{
	// At least one fragment had CE and the others ECT(0) or ECT(1).
	1<<3 | 1<<2:        3,
	1<<3 | 1<<1:        3,
	1<<3 | 1<<2 | 1<<1: 3,
	// Not-ECT mixed with anything else: invalid.
	1<<0 | 1<<3:               0xff,
	1<<0 | 1<<2:               0xff,
	1<<0 | 1<<1:               0xff,
	1<<0 | 1<<2 | 1<<1:        0xff,
	1<<0 | 1<<3 | 1<<2:        0xff,
	1<<0 | 1<<3 | 1<<1:        0xff,
	1<<0 | 1<<3 | 1<<2 | 1<<1: 0xff,
}

// reasm builds the datagram of a complete queue (ip_frag_reasm): the
// first fragment's header with the new length, DF only if the largest
// fragment had it, CE if the fragments' ECN says so, then every fragment's
// data in order.
func (d *Defrag) reasm(q *fragQueue, r DefragResult) DefragResult {
	ecn := fragECN[q.ecn]
	if ecn == 0xff {
		return d.killed(q, DefragECN, r)
	}
	n := q.hlen + q.len
	if n > 65535 {
		return d.killed(q, DefragOversize, r)
	}
	if cap(d.out) < n {
		d.out = make([]byte, 0, max(n, 2*cap(d.out)))
	}
	out := append(d.out[:0], q.hdr[:q.hlen]...)
	d.frags, d.tags = d.frags[:0], d.tags[:0]
	for _, f := range q.frags {
		out = append(out, q.buf[f.at:f.at+f.n]...)
		d.frags = append(d.frags, FragPiece{Off: f.off, Len: f.n, Tag: f.tag})
		d.tags = append(d.tags, f.tag)
	}
	put16(out[2:], uint16(n))
	out[1] |= ecn
	r.PMTU = q.maxDF == q.maxSize
	if r.PMTU {
		put16(out[6:], 0x4000)
	} else {
		put16(out[6:], 0)
	}
	put16(out[10:], 0)
	put16(out[10:], Checksum(out[:q.hlen], 0))
	r.Status, r.Datagram, r.Frags, r.Tags = DefragDone, out, d.frags, d.tags
	r.MaxSize = max(q.maxDF, q.maxSize)
	d.out = out
	d.kill(q)
	return r
}

// killed drops q with every fragment it held and reports why.
func (d *Defrag) killed(q *fragQueue, s DefragStatus, r DefragResult) DefragResult {
	r.Status = s
	d.tags = q.appendTags(d.tags[:0])
	r.Tags = d.tags
	d.kill(q)
	return r
}

// newQueue creates the queue for k, its timer started (inet_frag_create).
func (d *Defrag) newQueue(k fragKey, now int64) *fragQueue {
	var q *fragQueue
	if n := len(d.free); n > 0 {
		q, d.free = d.free[n-1], d.free[:n-1]
	} else {
		q = &fragQueue{}
	}
	q.key = k
	q.mem = fragQueueSize
	d.mem += q.mem
	d.queues[k] = q
	q.expires = now + d.cfg.Timeout
	d.link(q)
	if d.cfg.MaxDist > 0 {
		p := d.peers[k.src]
		p.refs++
		d.peers[k.src] = p
	}
	return q
}

// tooFar counts a fragment from q's source and starts q afresh when more
// than MaxDist fragments came from there since q's last one, as
// ip_frag_too_far and ip_frag_reinit do: the fragments go, the timer
// starts again. It reports whether it did.
func (d *Defrag) tooFar(q *fragQueue, now int64) bool {
	if d.cfg.MaxDist <= 0 {
		return false
	}
	p := d.peers[q.key.src]
	start := q.rid
	p.rid++
	d.peers[q.key.src] = p
	q.rid = p.rid
	if len(q.frags) == 0 || p.rid-start <= uint32(d.cfg.MaxDist) {
		return false
	}
	d.restarted = append(d.restarted[:0], q.tags...)
	d.mem -= q.mem - fragQueueSize
	q.reset()
	q.mem = fragQueueSize
	q.rid = p.rid
	d.unlink(q)
	q.expires = now + d.cfg.Timeout
	d.link(q)
	return true
}

// kill removes q from the table, frees its memory and keeps it for reuse
// (inet_frag_kill, inet_frag_destroy).
func (d *Defrag) kill(q *fragQueue) {
	delete(d.queues, q.key)
	d.unlink(q)
	d.mem -= q.mem
	if d.cfg.MaxDist > 0 {
		if p := d.peers[q.key.src]; p.refs <= 1 {
			delete(d.peers, q.key.src)
		} else {
			p.refs--
			d.peers[q.key.src] = p
		}
	}
	q.reset()
	q.mem, q.rid, q.key, q.maxSize, q.maxDF = 0, 0, fragKey{}, 0, 0
	d.free = append(d.free, q)
}

// link puts q in the expiry list by its expiry time: at the tail, unless
// the capture's clock went back.
func (d *Defrag) link(q *fragQueue) {
	at := d.tail
	for at != nil && at.expires > q.expires {
		at = at.prev
	}
	q.prev = at
	if at == nil {
		q.next = d.head
		d.head = q
	} else {
		q.next = at.next
		at.next = q
	}
	if q.next == nil {
		d.tail = q
	} else {
		q.next.prev = q
	}
}

func (d *Defrag) unlink(q *fragQueue) {
	if q.prev == nil {
		d.head = q.next
	} else {
		q.prev.next = q.next
	}
	if q.next == nil {
		d.tail = q.prev
	} else {
		q.next.prev = q.prev
	}
	q.prev, q.next = nil, nil
}

// reset empties q of its fragments, keeping its buffers, as
// ip_frag_reinit does (which leaves the largest sizes seen).
func (q *fragQueue) reset() {
	q.frags, q.runs, q.buf, q.tags = q.frags[:0], q.runs[:0], q.buf[:0], q.tags[:0]
	q.hlen, q.len, q.meat, q.lastIn, q.ecn = 0, 0, 0, false, 0
}

type insertResult uint8

const (
	insertOK insertResult = iota
	insertDup
	insertOverlap
)

// insert places [off, end) among q's runs as inet_frag_queue_insert does:
// past the tail it overlaps if it starts before the tail's end, joins the
// last run if it starts right there, and starts a new run otherwise;
// before the tail it is a duplicate if it lies inside one run, overlaps if
// it touches any other way, and is a run of its own otherwise.
func (q *fragQueue) insert(off, end int) insertResult {
	if len(q.runs) == 0 {
		q.runs = append(q.runs, fragSpan{off, end})
		return insertOK
	}
	last := &q.runs[len(q.runs)-1]
	if last.end < end {
		switch {
		case off < last.end:
			return insertOverlap
		case off == last.end:
			last.end = end
		default:
			q.runs = append(q.runs, fragSpan{off, end})
		}
		return insertOK
	}
	i := 0
	for i < len(q.runs) && q.runs[i].end <= off {
		i++
	}
	// Runs before i end at or before off; run i (there is one: the last
	// ends at or after end) is the first that might touch.
	if r := q.runs[i]; end > r.start {
		if off >= r.start && end <= r.end {
			return insertDup
		}
		return insertOverlap
	}
	q.runs = append(q.runs, fragSpan{})
	copy(q.runs[i+1:], q.runs[i:])
	q.runs[i] = fragSpan{off, end}
	return insertOK
}

// add stores a fragment that insert accepted, in offset order.
func (q *fragQueue) add(f fragRec, data []byte) {
	q.buf = append(q.buf, data...)
	q.tags = append(q.tags, f.tag)
	i := len(q.frags)
	for i > 0 && q.frags[i-1].off > f.off {
		i--
	}
	q.frags = append(q.frags, fragRec{})
	copy(q.frags[i+1:], q.frags[i:])
	q.frags[i] = f
}

// appendTags appends the tags of q's fragments in arrival order.
func (q *fragQueue) appendTags(b []int) []int { return append(b, q.tags...) }

// Refragment appends to dst the fragments ip_do_fragment sends a
// reassembled datagram dg out in, reusing dst's buffers past its length.
// frags are the pieces it was reassembled from (DefragResult.Frags) and
// mtu the largest of them (DefragResult.MaxSize: the kernel fragments to
// frag_max_size when the route's MTU is no smaller, which gofw trace
// assumes), pmtu DefragResult.PMTU.
//
// When the datagram still has its pieces' length and their geometry
// allows (each at most the MTU, all but the last a multiple of 8 bytes),
// it leaves in exactly those pieces, as the fast path over the skb's
// frag_list does: the first with MF alone (DF is not kept), the others
// with a copy of the header whose options that are not to be copied are
// overwritten with NOPs (ip_options_fragment). Otherwise (a helper
// resized it, so the kernel had linearised it) it is cut afresh into
// pieces of at most the MTU, DF set on each if pmtu (the slow path).
// An IPv4 header that does not hold up leaves dst as it is.
func Refragment(dst [][]byte, dg []byte, frags []FragPiece, mtu int, pmtu bool) [][]byte {
	if len(dg) < 20 || dg[0]>>4 != 4 {
		return dst
	}
	hlen := int(dg[0]&0x0f) * 4
	if hlen < 20 || hlen > len(dg) || int(be16(dg[2:])) != len(dg) {
		return dst
	}
	room := mtu - hlen
	total := 0
	fast := len(frags) > 0
	for i, f := range frags {
		if f.Off != total || f.Len > room || f.Len&7 != 0 && i < len(frags)-1 {
			fast = false
		}
		total += f.Len
	}
	if fast && total == len(dg)-hlen {
		off := 0
		for i, f := range frags {
			b := fragBuf(&dst)
			b = append(b, dg[:hlen]...)
			b = append(b, dg[hlen+off:hlen+off+f.Len]...)
			fo := uint16(off / 8)
			if i < len(frags)-1 {
				fo |= 0x2000
			}
			if i > 0 {
				optionsFragment(b[20:hlen])
			}
			finishFrag(b, fo)
			dst[len(dst)-1] = b
			off += f.Len
		}
		return dst
	}
	room = max(room, 8)
	for off := 0; off < len(dg)-hlen; {
		left := len(dg) - hlen - off
		n := min(room, left)
		if n < left {
			n &^= 7
		}
		b := fragBuf(&dst)
		b = append(b, dg[:hlen]...)
		b = append(b, dg[hlen+off:hlen+off+n]...)
		fo := uint16(off / 8)
		if pmtu {
			fo |= 0x4000
		}
		if off+n < len(dg)-hlen {
			fo |= 0x2000
		}
		if off > 0 {
			optionsFragment(b[20:hlen])
		}
		finishFrag(b, fo)
		dst[len(dst)-1] = b
		off += n
	}
	return dst
}

// fragBuf grows dst by one and returns the new element's buffer, emptied.
func fragBuf(dst *[][]byte) []byte {
	d := *dst
	if len(d) < cap(d) {
		d = d[:len(d)+1]
	} else {
		d = append(d, nil)
	}
	*dst = d
	return d[len(d)-1][:0]
}

// finishFrag sets a fragment's length, fragment field and header checksum.
func finishFrag(b []byte, fo uint16) {
	hlen := int(b[0]&0x0f) * 4
	put16(b[2:], uint16(len(b)))
	put16(b[6:], fo)
	put16(b[10:], 0)
	put16(b[10:], Checksum(b[:hlen], 0))
}

// optionsFragment overwrites with NOPs the options that later fragments
// do not carry (the copied flag, 0x80, clear), as ip_options_fragment.
func optionsFragment(opts []byte) {
	for len(opts) > 0 {
		switch opts[0] {
		case 0: // end of options
			return
		case 1: // NOP
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 {
			return
		}
		n := int(opts[1])
		if n < 2 || n > len(opts) {
			return
		}
		if opts[0]&0x80 == 0 {
			for i := range opts[:n] {
				opts[i] = 1
			}
		}
		opts = opts[n:]
	}
}

// TagList renders tags as "1, 2, 3", for trace notes.
func TagList(tags []int) string {
	var b []byte
	for i, t := range tags {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendInt(b, int64(t), 10)
	}
	return string(b)
}
