package conntrack

import "sync"

// shard is one lock domain of the table's hash: an open-addressing index
// (linear probing, backward-shift deletion) of *Conn keyed by tuple and
// zone. Every confirmed entry appears twice, once per direction, as in the
// kernel's tuplehash[2]; the two may live in different shards.
//
// Open addressing instead of the kernel's chained hlist keeps the index
// near 45 bytes per entry at a million entries. Each slot carries a 32-bit
// word beside the pointer: a used bit, the direction and 30 low bits of
// the hash. Probes compare words and touch a Conn only on a (near certain)
// hit, and resizing or deleting never has to rehash a tuple.
type shard struct {
	mu    sync.Mutex
	slots []*Conn
	words []uint32 // 0 = empty, else slotUsed | dir<<30 | low 30 bits of the hash
	n     int      // used slots (64 bytes in all: one cache line)
}

const (
	slotUsed     = 1 << 31
	slotDirShift = 30
	slotHashMask = 1<<30 - 1
	minSlots     = 8
	// maxLoad is the fill ratio (n/len) above which a shard doubles:
	// 3/4 keeps linear probing short.
	maxLoadNum, maxLoadDen = 3, 4
)

func makeWord(h uint64, d Dir) uint32 {
	return slotUsed | uint32(d)<<slotDirShift | uint32(h)&slotHashMask
}

func wordDir(w uint32) Dir { return Dir(w>>slotDirShift) & 1 }

// find returns the entry whose direction tuple equals t in zone. Called
// for every packet with s.mu held; must not allocate.
func (s *shard) find(t *Tuple, zone uint16, h uint64) (*Conn, Dir) {
	if len(s.slots) == 0 {
		return nil, 0
	}
	mask := uint64(len(s.slots) - 1)
	wantO := makeWord(h, Original)
	wantR := wantO | 1<<slotDirShift
	for i := h & mask; ; i = (i + 1) & mask {
		w := s.words[i]
		if w == 0 {
			return nil, 0
		}
		if w == wantO || w == wantR {
			c := s.slots[i]
			d := wordDir(w)
			if c.zone == zone && c.tuple[d] == *t {
				return c, d
			}
		}
	}
}

// insert adds c under direction d with hash h and returns how far from
// its home slot it landed (the analogue of the kernel's chain length).
func (s *shard) insert(c *Conn, d Dir, h uint64) int {
	if (s.n+1)*maxLoadDen > len(s.slots)*maxLoadNum {
		s.resize(max(minSlots, len(s.slots)*2))
	}
	mask := uint64(len(s.slots) - 1)
	i := h & mask
	dist := 0
	for s.words[i] != 0 {
		i = (i + 1) & mask
		dist++
	}
	s.slots[i] = c
	s.words[i] = makeWord(h, d)
	s.n++
	return dist
}

// remove deletes c's direction-d entry (hash h) and shifts the following
// run back so no tombstone is left. It reports whether the entry was there.
func (s *shard) remove(c *Conn, d Dir, h uint64) bool {
	if len(s.slots) == 0 {
		return false
	}
	mask := uint64(len(s.slots) - 1)
	want := makeWord(h, d)
	i := h & mask
	for {
		w := s.words[i]
		if w == 0 {
			return false
		}
		if w == want && s.slots[i] == c {
			break
		}
		i = (i + 1) & mask
	}
	// Backward-shift deletion: move each later member of the run whose
	// home slot is not cyclically in (hole, itself] into the hole.
	j := i
	for {
		j = (j + 1) & mask
		w := s.words[j]
		if w == 0 {
			break
		}
		home := uint64(w&slotHashMask) & mask
		if (j > i && home > i && home <= j) || (j < i && (home > i || home <= j)) {
			continue
		}
		s.slots[i], s.words[i] = s.slots[j], w
		i = j
	}
	s.slots[i], s.words[i] = nil, 0
	s.n--
	if len(s.slots) > minSlots && s.n*8 < len(s.slots) {
		s.resize(len(s.slots) / 2)
	}
	return true
}

// resize rehashes the shard into n slots (a power of two, at most 2^30).
func (s *shard) resize(n int) {
	oldSlots, oldWords := s.slots, s.words
	s.slots = make([]*Conn, n)
	s.words = make([]uint32, n)
	mask := uint64(n - 1)
	for k, w := range oldWords {
		if w == 0 {
			continue
		}
		i := uint64(w&slotHashMask) & mask
		for s.words[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = oldSlots[k]
		s.words[i] = w
	}
}
