package packet

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// fr is one fragment of a defrag test row.
type fr struct {
	off   int // in bytes, a multiple of 8
	more  bool
	data  []byte
	id    uint16
	opts  []BuildOpt
	user  FragUser
	at    int64 // capture time, seconds
	src   string
	proto uint8
}

// frag is a fragment of a datagram of protocol 253 (experimental: no
// header to decode) from 198.18.0.2 to 198.18.1.2 with ipid 77, as the
// mods change it.
func frag(off int, more bool, data []byte, mods ...func(*fr)) fr {
	f := fr{off: off, more: more, data: data, id: 77, src: "198.18.0.2", proto: 253}
	for _, m := range mods {
		m(&f)
	}
	return f
}

func id(v uint16) func(*fr)        { return func(f *fr) { f.id = v } }
func with(o ...BuildOpt) func(*fr) { return func(f *fr) { f.opts = o } }
func user(u FragUser) func(*fr)    { return func(f *fr) { f.user = u } }
func at(sec int64) func(*fr)       { return func(f *fr) { f.at = sec } }
func src(a string) func(*fr)       { return func(f *fr) { f.src = a } }
func proto(p uint8) func(*fr)      { return func(f *fr) { f.proto = p } }

func (f fr) build() []byte {
	opts := append([]BuildOpt{WithID(f.id), WithFrag(uint16(f.off/8), f.more)}, f.opts...)
	return BuildIP(ip(f.src), ip("198.18.1.2"), f.proto, f.data, opts...)
}

// seq returns n bytes counting from start, so any misplaced byte shows.
func seq(start, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(start + i)
	}
	return b
}

// TestDefrag feeds fragments to a Defrag, one row per behaviour of the
// kernel's ip_defrag, and checks each fragment's status, what it reports
// and the datagram it completes.
func TestDefrag(t *testing.T) {
	rows := []struct {
		name  string
		cfg   DefragConfig
		frags []fr
		want  []DefragStatus
		// tags: the last result's Tags (tag = index+1); payload: the
		// reassembled datagram's payload (the last result's).
		tags    []int
		payload []byte
		check   func(t *testing.T, r DefragResult)
	}{
		// Completion: every byte once, in any order (ip_frag_queue).
		{name: "in order", frags: []fr{frag(0, true, seq(0, 16)), frag(16, false, seq(16, 8))},
			want: []DefragStatus{DefragHeld, DefragDone}, tags: []int{1, 2}, payload: seq(0, 24)},
		{name: "last first", frags: []fr{frag(16, false, seq(16, 5)), frag(0, true, seq(0, 16))},
			want: []DefragStatus{DefragHeld, DefragDone}, tags: []int{2, 1}, payload: seq(0, 21)},
		{name: "middle last", frags: []fr{frag(0, true, seq(0, 8)), frag(16, false, seq(16, 8)), frag(8, true, seq(8, 8))},
			want: []DefragStatus{DefragHeld, DefragHeld, DefragDone}, tags: []int{1, 3, 2}, payload: seq(0, 24)},
		// Only the last fragment may end off an 8-byte boundary: the
		// rest of another's data is cut off (end &= ~7).
		{name: "unaligned MF fragment trimmed", frags: []fr{frag(0, true, seq(0, 13)), frag(8, false, seq(8, 4))},
			want: []DefragStatus{DefragHeld, DefragDone}, payload: seq(0, 12)},
		// Duplicates are dropped, the queue kept (IPFRAG_DUP): an exact
		// copy, or any part of one run of adjacent fragments.
		{name: "exact duplicate", frags: []fr{frag(0, true, seq(0, 8)), frag(0, true, seq(0, 8)), frag(8, false, seq(8, 8))},
			want: []DefragStatus{DefragHeld, DefragDup, DefragDone}, payload: seq(0, 16)},
		{name: "duplicate within a run", frags: []fr{frag(0, true, seq(0, 16)), frag(16, true, seq(16, 16)), frag(8, true, seq(8, 16))},
			want: []DefragStatus{DefragHeld, DefragHeld, DefragDup}, tags: []int{1, 2}},
		{name: "duplicate of the last fragment", frags: []fr{frag(0, true, seq(0, 8)), frag(24, false, seq(24, 8)), frag(24, false, seq(24, 8)), frag(8, true, seq(8, 16))},
			want: []DefragStatus{DefragHeld, DefragHeld, DefragDup, DefragDone}, payload: seq(0, 32)},
		// Covered, but across two runs (the middle one came out of
		// order and is a run of its own): an overlap, not a duplicate.
		{name: "covered across runs overlaps", frags: []fr{frag(0, true, seq(0, 8)), frag(16, true, seq(16, 8)), frag(8, true, seq(8, 8)), frag(0, true, seq(0, 16))},
			want: []DefragStatus{DefragHeld, DefragHeld, DefragHeld, DefragOverlap}, tags: []int{1, 2, 3}},
		// An overlap drops the whole queue (RFC 5722 as amended); a
		// later fragment starts a new one.
		{name: "overlap at the tail", frags: []fr{frag(0, true, seq(0, 16)), frag(8, false, seq(8, 16)), frag(16, false, seq(16, 8))},
			want: []DefragStatus{DefragHeld, DefragOverlap, DefragHeld}, tags: []int{3}},
		{name: "overlap before the tail", frags: []fr{frag(16, false, seq(16, 8)), frag(0, true, seq(0, 8)), frag(0, true, seq(0, 24))},
			want: []DefragStatus{DefragHeld, DefragHeld, DefragOverlap}, tags: []int{1, 2}},
		// The end: a last fragment fixes it, and nothing may contradict
		// it; an empty fragment is refused too. Each drops the queue.
		{name: "last ends before data seen", frags: []fr{frag(0, true, seq(0, 24)), frag(8, false, seq(8, 8))},
			want: []DefragStatus{DefragHeld, DefragBadEnd}, tags: []int{1}},
		{name: "two different ends", frags: []fr{frag(16, false, seq(16, 8)), frag(16, false, seq(16, 16))},
			want: []DefragStatus{DefragHeld, DefragBadEnd}, tags: []int{1}},
		{name: "data past the end", frags: []fr{frag(16, false, seq(16, 8)), frag(16, true, seq(16, 16))},
			want: []DefragStatus{DefragHeld, DefragBadEnd}},
		{name: "empty fragment", frags: []fr{frag(0, true, seq(0, 8)), frag(8, true, seq(8, 7))},
			want: []DefragStatus{DefragHeld, DefragBadEnd}, tags: []int{1}},
		// ip_frag_reasm: no datagram over 65535 bytes.
		{name: "oversize", frags: []fr{frag(0, true, seq(0, 65504)), frag(65504, false, seq(0, 16))},
			want: []DefragStatus{DefragHeld, DefragOversize}, tags: []int{1, 2}},
		{name: "largest", frags: []fr{frag(0, true, seq(0, 65504)), frag(65504, false, seq(0, 11))},
			want: []DefragStatus{DefragHeld, DefragDone},
			check: func(t *testing.T, r DefragResult) {
				if len(r.Datagram) != 65535 {
					t.Errorf("datagram of %d bytes, want 65535", len(r.Datagram))
				}
			}},
		// ECN (ip_frag_ecn_table): Not-ECT with ECT or CE drops the
		// datagram; CE among ECT marks it CE.
		{name: "Not-ECT with CE", frags: []fr{frag(0, true, seq(0, 8)), frag(8, false, seq(8, 8), with(WithTOS(3)))},
			want: []DefragStatus{DefragHeld, DefragECN}, tags: []int{1, 2}},
		{name: "CE with ECT(0)", frags: []fr{frag(0, true, seq(0, 8), with(WithTOS(0x10|2))), frag(8, false, seq(8, 8), with(WithTOS(3)))},
			want: []DefragStatus{DefragHeld, DefragDone},
			check: func(t *testing.T, r DefragResult) {
				if r.Datagram[1] != 0x13 {
					t.Errorf("tos %#x, want 0x13 (the first fragment's, CE)", r.Datagram[1])
				}
			}},
		// DF comes back only if the largest fragment had it
		// (IPSKB_FRAG_PMTU).
		{name: "DF on the largest", frags: []fr{frag(0, true, seq(0, 16), with(WithDF())), frag(16, false, seq(16, 8))},
			want: []DefragStatus{DefragHeld, DefragDone},
			check: func(t *testing.T, r DefragResult) {
				if !r.PMTU || be16(r.Datagram[6:]) != 0x4000 || r.MaxSize != 36 {
					t.Errorf("PMTU %v, frag_off %#x, MaxSize %d; want true, 0x4000 (DF), 36", r.PMTU, be16(r.Datagram[6:]), r.MaxSize)
				}
			}},
		{name: "DF on a smaller one only", frags: []fr{frag(0, true, seq(0, 16)), frag(16, false, seq(16, 8), with(WithDF()))},
			want: []DefragStatus{DefragHeld, DefragDone},
			check: func(t *testing.T, r DefragResult) {
				if r.PMTU || be16(r.Datagram[6:]) != 0 {
					t.Errorf("PMTU %v, frag_off %#x; want false, 0", r.PMTU, be16(r.Datagram[6:]))
				}
			}},
		// The datagram's header is the first fragment's, options and
		// all, whatever the others carry.
		{name: "first fragment's header", frags: []fr{frag(8, false, seq(8, 8), with(WithTTL(9))), frag(0, true, seq(0, 8), with(WithTTL(33), WithIPOptions([]byte{0x94, 4, 0, 0})))},
			want: []DefragStatus{DefragHeld, DefragDone}, payload: seq(0, 16),
			check: func(t *testing.T, r DefragResult) {
				if r.Datagram[0] != 0x46 || r.Datagram[8] != 33 || !bytes.Equal(r.Datagram[20:24], []byte{0x94, 4, 0, 0}) {
					t.Errorf("header %x, want the first fragment's (ihl 6, ttl 33, router alert)", r.Datagram[:24])
				}
			}},
		// Queues are keyed by addresses, protocol, id and user.
		{name: "other id", frags: []fr{frag(0, true, seq(0, 8)), frag(8, false, seq(8, 8), id(78))},
			want: []DefragStatus{DefragHeld, DefragHeld}, tags: []int{2}},
		{name: "other user", frags: []fr{frag(0, true, seq(0, 8), user(FragConntrackIn)), frag(8, false, seq(8, 8), user(FragConntrackOut))},
			want: []DefragStatus{DefragHeld, DefragHeld}, tags: []int{2}},
		{name: "other protocol", frags: []fr{frag(0, true, seq(0, 8)), frag(8, false, seq(8, 8), proto(ProtoUDP))},
			want: []DefragStatus{DefragHeld, DefragHeld}, tags: []int{2}},
		// ipfrag_time runs from the first fragment; later ones do not
		// push it back.
		{name: "expired", frags: []fr{frag(0, true, seq(0, 8)), frag(16, false, seq(16, 8), at(29)), frag(8, true, seq(8, 8), at(30))},
			want: []DefragStatus{DefragHeld, DefragHeld, DefragHeld}, tags: []int{3}},
		{name: "just in time", frags: []fr{frag(0, true, seq(0, 8)), frag(8, false, seq(8, 8), at(29))},
			want: []DefragStatus{DefragHeld, DefragDone}},
		// ipfrag_high_thresh: past it, every fragment is dropped, even
		// one that would complete a queue.
		{name: "memory", cfg: DefragConfig{HighThresh: 1000}, frags: []fr{frag(0, true, seq(0, 200)), frag(0, true, seq(0, 200), id(78)), frag(200, false, seq(200, 8))},
			want: []DefragStatus{DefragHeld, DefragHeld, DefragNoMem}},
		// ipfrag_max_dist: a queue that waited while more than MaxDist
		// fragments came from its source starts afresh.
		{name: "too far", cfg: DefragConfig{MaxDist: 2}, frags: []fr{frag(0, true, seq(0, 8)), frag(0, true, seq(0, 8), id(1)), frag(0, true, seq(0, 8), id(2)), frag(8, false, seq(8, 8))},
			want: []DefragStatus{DefragHeld, DefragHeld, DefragHeld, DefragHeld}, tags: []int{4},
			check: func(t *testing.T, r DefragResult) {
				if !slices.Equal(r.Restarted, []int{1}) {
					t.Errorf("Restarted %v, want [1]", r.Restarted)
				}
			}},
		{name: "not too far", cfg: DefragConfig{MaxDist: 2}, frags: []fr{frag(0, true, seq(0, 8)), frag(0, true, seq(0, 8), id(1)), frag(0, true, seq(0, 8), id(2), src("198.18.0.3")), frag(8, false, seq(8, 8))},
			want: []DefragStatus{DefragHeld, DefragHeld, DefragHeld, DefragDone}, tags: []int{1, 4}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			d := NewDefrag(row.cfg)
			var r DefragResult
			queues, mem := 0, 0
			for i, f := range row.frags {
				queues, mem = d.Queues(), d.Mem()
				r = d.Add(f.build(), f.user, i+1, f.at*1e9)
				if r.Status != row.want[i] {
					t.Fatalf("fragment %d: %v, want %v", i+1, r.Status, row.want[i])
				}
			}
			if row.tags != nil && !slices.Equal(r.Tags, row.tags) {
				t.Errorf("tags %v, want %v", r.Tags, row.tags)
			}
			if r.Status == DefragDone {
				var p Packet
				if Decode(r.Datagram, &p) != ReasonNone || p.FragOff != 0 || p.MoreFrag || !p.HeaderChecksumOK() {
					t.Fatalf("datagram %x does not decode whole (%v) or its header checksum is wrong", r.Datagram, p.Reason)
				}
				if got := r.Datagram[p.HdrLen:]; row.payload != nil && !bytes.Equal(got, row.payload) {
					t.Errorf("payload %x, want %x", got, row.payload)
				}
				if d.Queues() != queues-1 || d.Mem() >= mem {
					t.Errorf("completion left %d queues of %d, %d bytes charged of %d: want the queue gone", d.Queues(), queues, d.Mem(), mem)
				}
			}
			if row.check != nil {
				row.check(t, r)
			}
		})
	}
}

// TestDefragNotFragment checks that Add leaves whole and broken datagrams
// alone.
func TestDefragNotFragment(t *testing.T) {
	whole := BuildUDP(ap("198.18.0.2", 1), ap("198.18.1.2", 2), []byte("x"))
	df := BuildUDP(ap("198.18.0.2", 1), ap("198.18.1.2", 2), []byte("x"), WithDF())
	short := frag(0, true, seq(0, 8)).build()[:19]
	badLen := frag(0, true, seq(0, 8)).build()
	put16(badLen[2:], 100)
	v6 := BuildUDP(ap("fd00::1", 1), ap("fd00::2", 2), nil)
	d := NewDefrag(DefragConfig{})
	for i, dg := range [][]byte{whole, df, short, badLen, v6, nil} {
		if r := d.Add(dg, FragConntrackIn, i, 0); r.Status != DefragNone {
			t.Errorf("datagram %d (%x): %v, want DefragNone", i, dg, r.Status)
		}
	}
	if d.Queues() != 0 {
		t.Errorf("%d queues, want none", d.Queues())
	}
}

// TestDefragExpire checks what Expire reports and that it frees the
// queue's memory.
func TestDefragExpire(t *testing.T) {
	d := NewDefrag(DefragConfig{})
	d.Add(frag(0, true, seq(0, 8), id(5)).build(), FragConntrackIn, 1, 0)
	d.Add(frag(16, true, seq(0, 8), id(5)).build(), FragConntrackIn, 2, 1e9)
	d.Add(frag(0, true, seq(0, 8), id(6)).build(), FragConntrackIn, 3, 2e9)
	if x := d.Expire(DefaultFragTime - 1); len(x) != 0 {
		t.Fatalf("before ipfrag_time: %v expired", x)
	}
	x := d.Expire(DefaultFragTime + 1e9)
	if len(x) != 1 || x[0].ID != 5 || !slices.Equal(x[0].Tags, []int{1, 2}) {
		t.Fatalf("expired %+v, want ipid 5 with tags 1, 2", x)
	}
	if d.Queues() != 1 {
		t.Errorf("%d queues left, want 1", d.Queues())
	}
	// The capture's clock going back files a queue before later ones.
	d.Add(frag(0, true, seq(0, 8), id(7)).build(), FragConntrackIn, 4, 0)
	x = d.Expire(DefaultFragTime)
	if len(x) != 1 || x[0].ID != 7 {
		t.Fatalf("expired %+v, want ipid 7 alone", x)
	}
	if x = d.Expire(DefaultFragTime + 2e9); len(x) != 1 || x[0].ID != 6 || d.Queues() != 0 || d.Mem() != 0 {
		t.Fatalf("expired %+v with %d queues and %d bytes left, want ipid 6 and nothing left", x, d.Queues(), d.Mem())
	}
}

// TestRefragment checks how a reassembled datagram leaves: in the
// fragments it came in when their geometry allows, else cut afresh.
func TestRefragment(t *testing.T) {
	opts := []byte{0x94, 4, 0, 0, 0x07, 3, 4, 0} // router alert (copied), record route (not)
	rows := []struct {
		name  string
		dg    []byte // the datagram, frag_off 0
		sizes []int  // the pieces it came in
		mtu   int
		pmtu  bool
		// want: each fragment's payload length, fragment field and
		// options.
		want []string
	}{
		{"as they came", BuildIP(ip("198.18.0.2"), ip("198.18.1.2"), 253, seq(0, 40), WithID(9)), []int{16, 24}, 44, false,
			[]string{"16 0x2000", "24 0x0002"}},
		{"DF is not kept on the fast path", BuildIP(ip("198.18.0.2"), ip("198.18.1.2"), 253, seq(0, 40), WithDF()), []int{16, 8, 16}, 36, true,
			[]string{"16 0x2000", "8 0x2002", "16 0x0003"}},
		{"later pieces drop uncopied options", BuildIP(ip("198.18.0.2"), ip("198.18.1.2"), 253, seq(0, 24), WithIPOptions(opts)), []int{16, 8}, 44, false,
			[]string{"16 0x2000 9404000007030400", "8 0x0002 9404000001010100"}},
		// Slow path: a length no longer the pieces' (a helper resized
		// it) or a piece that cannot be a fragment as it is.
		{"resized", BuildIP(ip("198.18.0.2"), ip("198.18.1.2"), 253, seq(0, 50)), []int{16, 24}, 36, false,
			[]string{"16 0x2000", "16 0x2002", "16 0x2004", "2 0x0006"}},
		{"resized with PMTU", BuildIP(ip("198.18.0.2"), ip("198.18.1.2"), 253, seq(0, 30), WithDF()), []int{16, 24}, 36, true,
			[]string{"16 0x6000", "14 0x4002"}},
		{"unaligned middle piece", BuildIP(ip("198.18.0.2"), ip("198.18.1.2"), 253, seq(0, 40)), []int{16, 12, 12}, 40, false,
			[]string{"16 0x2000", "16 0x2002", "8 0x0004"}},
		{"a piece over the MTU", BuildIP(ip("198.18.0.2"), ip("198.18.1.2"), 253, seq(0, 40)), []int{16, 24}, 36, false,
			[]string{"16 0x2000", "16 0x2002", "8 0x0004"}},
		{"slow path drops uncopied options after the first", BuildIP(ip("198.18.0.2"), ip("198.18.1.2"), 253, seq(0, 20), WithIPOptions(opts)), []int{8, 8}, 44, false,
			[]string{"16 0x2000 9404000007030400", "4 0x0002 9404000001010100"}},
	}
	for _, row := range rows {
		var frags []FragPiece
		off := 0
		for _, n := range row.sizes {
			frags = append(frags, FragPiece{Off: off, Len: n})
			off += n
		}
		out := Refragment(nil, row.dg, frags, row.mtu, row.pmtu)
		var got []string
		var data []byte
		for _, f := range out {
			var p Packet
			if Decode(f, &p) != ReasonNone || !p.HeaderChecksumOK() {
				t.Errorf("%s: fragment %x does not decode (%v) or has a wrong header checksum", row.name, f, p.Reason)
				continue
			}
			s := fmt.Sprintf("%d %#04x", len(f)-p.HdrLen, be16(f[6:]))
			if p.HdrLen > 20 {
				s += fmt.Sprintf(" %x", f[20:p.HdrLen])
			}
			got = append(got, s)
			// Version, IHL, TOS, id, TTL, protocol and addresses are
			// the datagram's.
			if f[0] != row.dg[0] || f[1] != row.dg[1] || !bytes.Equal(f[4:6], row.dg[4:6]) || !bytes.Equal(f[8:10], row.dg[8:10]) || !bytes.Equal(f[12:20], row.dg[12:20]) {
				t.Errorf("%s: fragment header %x is not the datagram's %x", row.name, f[:20], row.dg[:20])
			}
			data = append(data, f[p.HdrLen:]...)
		}
		if !slices.Equal(got, row.want) {
			t.Errorf("%s:\n got %q\nwant %q", row.name, got, row.want)
		}
		if hl := int(row.dg[0]&0x0f) * 4; !bytes.Equal(data, row.dg[hl:]) {
			t.Errorf("%s: the fragments carry %x, want %x", row.name, data, row.dg[hl:])
		}
	}
	if out := Refragment(nil, []byte{0x45, 0, 0}, nil, 1500, false); len(out) != 0 {
		t.Errorf("a broken header gave %d fragments", len(out))
	}
}

// TestDefragRoundTrip checks that a datagram fragmented as a sender does
// comes back byte for byte, and leaves in exactly those fragments.
func TestDefragRoundTrip(t *testing.T) {
	dgs := [][]byte{
		BuildUDP(ap("198.18.0.2", 5000), ap("198.18.1.2", 53), seq(0, 100)),
		BuildTCP(ap("198.18.0.2", 5000), ap("198.18.1.2", 80), TCPAck, 1, 2, 100, seq(3, 1000)),
		BuildIP(ip("198.18.0.2"), ip("198.18.1.2"), 253, seq(0, 77), WithIPOptions([]byte{0x94, 4, 0, 0})),
	}
	for i, dg := range dgs {
		frags := Fragment(dg, 64)
		d := NewDefrag(DefragConfig{})
		var r DefragResult
		// Last first, then the rest in order.
		order := append([]int{len(frags) - 1}, seqInts(len(frags)-1)...)
		for _, j := range order {
			r = d.Add(frags[j], FragConntrackIn, j, 0)
		}
		if r.Status != DefragDone || !bytes.Equal(r.Datagram, dg) {
			t.Fatalf("datagram %d: %v\n got %x\nwant %x", i, r.Status, r.Datagram, dg)
		}
		out := Refragment(nil, r.Datagram, r.Frags, r.MaxSize, r.PMTU)
		if len(out) != len(frags) {
			t.Fatalf("datagram %d: %d fragments out, want %d", i, len(out), len(frags))
		}
		// Fragment copies every option into every fragment; so does
		// the kernel with router alert, a copied option.
		for j := range out {
			if want := frags[j]; !bytes.Equal(out[j], want) {
				t.Errorf("datagram %d fragment %d:\n got %x\nwant %x", i, j, out[j], want)
			}
		}
	}
}

func seqInts(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// TestDefragAllocs checks that reassembling and refragmenting allocate
// nothing once the reassembler's buffers have grown.
func TestDefragAllocs(t *testing.T) {
	frags := Fragment(BuildUDP(ap("198.18.0.2", 5000), ap("198.18.1.2", 53), seq(0, 1000)), 256)
	d := NewDefrag(DefragConfig{})
	var out [][]byte
	var now int64
	run := func() {
		now++
		var r DefragResult
		for i := len(frags) - 1; i >= 0; i-- {
			r = d.Add(frags[i], FragConntrackIn, i, now)
		}
		if r.Status != DefragDone {
			t.Fatalf("status %v", r.Status)
		}
		out = Refragment(out[:0], r.Datagram, r.Frags, r.MaxSize, r.PMTU)
	}
	run()
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Errorf("%v allocations per datagram, want 0", n)
	}
}

// FuzzDefrag checks that Add and Refragment never panic, whatever they
// are fed; that a datagram cut into fragments, shuffled and partly
// duplicated, comes back whole with its payload; and that whatever Add
// reassembles decodes, and leaves in fragments that reassemble to it.
func FuzzDefrag(f *testing.F) {
	f.Add(seq(0, 64), []byte{2, 3, 1}, uint64(1), []byte{})
	f.Add(seq(0, 1000), []byte{1, 1, 1, 1, 40}, uint64(7), frag(8, false, seq(8, 8)).build())
	for _, s := range fuzzSeeds() {
		f.Add([]byte("payload"), []byte{1}, uint64(0), s)
	}
	f.Fuzz(func(t *testing.T, payload, cuts []byte, order uint64, junk []byte) {
		if len(payload) > 65535-28 {
			return
		}
		d := NewDefrag(DefragConfig{MaxDist: -1})
		// Arbitrary bytes: no panic, and anything completed holds up.
		for i := 0; len(junk) > 0 && i < 8; i++ {
			n := min(len(junk), int(junk[0])+20)
			checkDone(t, d.Add(junk[:n], FragConntrackIn, 0, 0))
			junk = junk[n:]
		}
		// A real datagram, cut at multiples of 8 the fuzzer picks.
		dg := BuildUDP(ap("198.18.0.2", 5000), ap("198.18.1.2", 53), payload, WithID(4242))
		body := dg[20:]
		var frags [][]byte
		for off := 0; off < len(body); {
			n := len(body) - off
			if len(cuts) > 0 {
				n = min(n, max(8, int(cuts[0])*8))
				cuts = cuts[1:]
			}
			frags = append(frags, BuildIP(ip("198.18.0.2"), ip("198.18.1.2"), ProtoUDP, body[off:off+n], WithID(4242), WithFrag(uint16(off/8), off+n < len(body))))
			off += n
		}
		if len(frags) < 2 {
			return
		}
		rng := rand.New(rand.NewPCG(order, order>>32))
		feed := slices.Clone(frags)
		rng.Shuffle(len(feed), func(i, j int) { feed[i], feed[j] = feed[j], feed[i] })
		if order&1 != 0 {
			feed = slices.Insert(feed, rng.IntN(len(feed)), feed[rng.IntN(len(feed))])
		}
		d = NewDefrag(DefragConfig{MaxDist: -1})
		var done DefragResult
		for i, fb := range feed {
			r := d.Add(fb, FragConntrackIn, i, 0)
			checkDone(t, r)
			if r.Status == DefragDone {
				done = r
				break
			}
			if r.Status != DefragHeld && r.Status != DefragDup {
				t.Fatalf("fragment %d: %v", i, r.Status)
			}
		}
		if done.Status != DefragDone || !bytes.Equal(done.Datagram, dg) {
			t.Fatalf("reassembled %v %x, want %x", done.Status, done.Datagram, dg)
		}
		var p Packet
		if Decode(done.Datagram, &p) != ReasonNone || !bytes.Equal(p.Payload(), payload) {
			t.Fatalf("payload %x, want %x", p.Payload(), payload)
		}
	})
}

// checkDone checks a completed reassembly: it decodes as a whole
// datagram, its pieces tile it, and refragmented it reassembles to itself.
func checkDone(t *testing.T, r DefragResult) {
	t.Helper()
	if r.Status != DefragDone {
		return
	}
	var p Packet
	if Decode(r.Datagram, &p); p.Malformed && p.Reason.L3() || p.FragOff != 0 || p.MoreFrag || !p.HeaderChecksumOK() {
		t.Fatalf("reassembled %x does not decode whole: %v", r.Datagram, p.Reason)
	}
	off := 0
	for _, f := range r.Frags {
		if f.Off != off {
			t.Fatalf("pieces %v do not tile the datagram", r.Frags)
		}
		off += f.Len
	}
	if off != len(r.Datagram)-p.HdrLen {
		t.Fatalf("pieces %v cover %d bytes, want %d", r.Frags, off, len(r.Datagram)-p.HdrLen)
	}
	dg := bytes.Clone(r.Datagram)
	out := Refragment(nil, dg, slices.Clone(r.Frags), r.MaxSize, r.PMTU)
	d := NewDefrag(DefragConfig{})
	var back DefragResult
	for i, f := range out {
		back = d.Add(f, FragConntrackIn, i, 0)
	}
	// DF and ECN are the kernel's to recompute; the rest must survive.
	if back.Status != DefragDone || !bytes.Equal(back.Datagram[12:], dg[12:]) || back.Datagram[0] != dg[0] || be16(back.Datagram[2:]) != be16(dg[2:]) {
		t.Fatalf("refragmented %x reassembles to %v %x", dg, back.Status, back.Datagram)
	}
}
