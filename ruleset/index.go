package ruleset

import (
	"sort"

	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
)

// A long chain is compiled with an index that tells, for a packet, which
// rules could possibly match it, so a 100 000-rule chain costs a few map
// lookups and the test of a handful of rules instead of 100 000 tests.
// The kernel's chains are linear; this is where gofw parts from it, for
// speed only: the rules the index lets through are tested in their chain
// order with the full semantics (first match wins, jumps, gotos, RETURN,
// counters per rule), and a rule the index skips is one that could not
// have matched. TestIndexDifferential fuzzes the index against the linear
// walk.
//
// Each rule is filed under one key it requires of every packet it
// matches: its source or destination host (-s/-d ADDR/32), its
// destination port (-p tcp|udp --dport N, multiport or a short range,
// filed under each port), or its source or destination prefix. A rule
// with none of these (or with them inverted) is a candidate for every
// packet.

// indexMin is the chain length from which an index pays for itself.
const indexMin = 16

// maxRangePorts is the widest port range filed port by port.
const maxRangePorts = 64

// maxPrefixLens bounds the distinct prefix lengths looked up per packet;
// rules with rarer lengths become wildcards.
const maxPrefixLens = 4

type prefixBucket struct {
	bits int
	mask uint32
	m    map[uint32][]int32
}

type chainIndex struct {
	wild  []int32
	dport [2]map[uint16][]int32 // [0] tcp, [1] udp
	src   []prefixBucket
	dst   []prefixBucket
}

// maxLists is the most candidate lists one packet merges: the wildcards,
// one port list, and a bucket per prefix length for each address.
const maxLists = 2 + 2*maxPrefixLens

// ruleKey is where a rule is filed.
type ruleKey struct {
	kind  uint8 // keyWild, keySrc, keyDst, keyPort
	bits  int
	addr  uint32
	proto int // 0 tcp, 1 udp
	ports []uint16
}

const (
	keyWild = iota
	keySrc
	keyDst
	keyPort
)

func protoSlot(proto uint8) int {
	switch proto {
	case packet.ProtoTCP:
		return 0
	case packet.ProtoUDP:
		return 1
	}
	return -1
}

// portsOf returns the destination ports a rule requires, when its matches
// pin them down to at most maxRangePorts values.
func portsOf(cr *crule) ([]uint16, bool) {
	if cr.inv&InvProto != 0 || protoSlot(cr.proto) < 0 {
		return nil, false
	}
	var lo, hi uint16
	var list []uint16
	found := false
	for _, m := range cr.r.Matches {
		switch x := m.M.(type) {
		case *match.TCP:
			if !x.InvDport && (x.DportLo != 0 || x.DportHi != 65535) {
				lo, hi, found = x.DportLo, x.DportHi, true
			}
		case *match.UDP:
			if !x.InvDport && (x.DportLo != 0 || x.DportHi != 65535) {
				lo, hi, found = x.DportLo, x.DportHi, true
			}
		case *match.Multiport:
			if x.Inv || x.Flags != match.MultiportDestination || found {
				continue
			}
			for _, r := range x.Ranges[:x.N] {
				if int(r.Hi)-int(r.Lo) >= maxRangePorts {
					return nil, false
				}
				for p := int(r.Lo); p <= int(r.Hi); p++ {
					list = append(list, uint16(p))
				}
			}
			return list, len(list) > 0
		}
	}
	if !found || int(hi)-int(lo) >= maxRangePorts {
		return nil, false
	}
	for p := int(lo); p <= int(hi); p++ {
		list = append(list, uint16(p))
	}
	return list, true
}

func maskBits(m uint32) int {
	n := 0
	for m&0x80000000 != 0 {
		n++
		m <<= 1
	}
	if m != 0 {
		return -1 // not a prefix mask: not indexable
	}
	return n
}

func keyOf(cr *crule) ruleKey {
	if !cr.ipv4 {
		return ruleKey{}
	}
	sb, db := maskBits(cr.smk), maskBits(cr.dmk)
	srcOK := cr.inv&InvSrc == 0 && sb > 0
	dstOK := cr.inv&InvDst == 0 && db > 0
	switch {
	case srcOK && sb == 32:
		return ruleKey{kind: keySrc, bits: 32, addr: cr.src}
	case dstOK && db == 32:
		return ruleKey{kind: keyDst, bits: 32, addr: cr.dst}
	}
	if ports, ok := portsOf(cr); ok {
		return ruleKey{kind: keyPort, proto: protoSlot(cr.proto), ports: ports}
	}
	switch {
	case srcOK && sb >= 8:
		return ruleKey{kind: keySrc, bits: sb, addr: cr.src}
	case dstOK && db >= 8:
		return ruleKey{kind: keyDst, bits: db, addr: cr.dst}
	}
	return ruleKey{}
}

// buildIndex files every rule of c, or returns nil for a short chain.
func buildIndex(c *cchain) *chainIndex {
	if len(c.rules) < indexMin {
		return nil
	}
	keys := make([]ruleKey, len(c.rules))
	lens := [2]map[int]int{{}, {}}
	for i := range c.rules {
		keys[i] = keyOf(&c.rules[i])
		if k := keys[i]; k.kind == keySrc || k.kind == keyDst {
			lens[k.kind-keySrc][k.bits]++
		}
	}
	// Keep the most used prefix lengths; the rest are wildcards.
	keep := [2]map[int]bool{{}, {}}
	for s := 0; s < 2; s++ {
		type lc struct{ bits, n int }
		var all []lc
		for b, n := range lens[s] {
			all = append(all, lc{b, n})
		}
		sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n || all[i].n == all[j].n && all[i].bits > all[j].bits })
		for i := 0; i < len(all) && i < maxPrefixLens; i++ {
			keep[s][all[i].bits] = true
		}
	}
	x := &chainIndex{dport: [2]map[uint16][]int32{{}, {}}}
	bucket := func(bs *[]prefixBucket, bits int) *prefixBucket {
		for i := range *bs {
			if (*bs)[i].bits == bits {
				return &(*bs)[i]
			}
		}
		*bs = append(*bs, prefixBucket{bits: bits, mask: ^uint32(0) << (32 - bits), m: map[uint32][]int32{}})
		return &(*bs)[len(*bs)-1]
	}
	for i, k := range keys {
		n := int32(i)
		switch {
		case k.kind == keyPort:
			for _, p := range k.ports {
				x.dport[k.proto][p] = append(x.dport[k.proto][p], n)
			}
		case k.kind == keySrc && keep[0][k.bits]:
			b := bucket(&x.src, k.bits)
			b.m[k.addr] = append(b.m[k.addr], n)
		case k.kind == keyDst && keep[1][k.bits]:
			b := bucket(&x.dst, k.bits)
			b.m[k.addr] = append(b.m[k.addr], n)
		default:
			x.wild = append(x.wild, n)
		}
	}
	return x
}

// cursor walks a chain's rules in order: all of them, or only the
// candidates an index gives for one packet, merged from a few sorted lists.
// It lives on the walker's stack; nothing allocates.
type cursor struct {
	all   bool
	i, n  int32
	lists [maxLists][]int32
	nl    int
}

// start prepares c to walk the rules of ch that may match p.
func (cu *cursor) start(ch *cchain, p *packet.Packet) {
	x := ch.index
	// A malformed packet may make a port match hotdrop it; only the full
	// walk reaches every such rule, as the kernel's linear walk does.
	if x == nil || p.Family != 4 || p.Malformed {
		cu.all, cu.i, cu.n = true, 0, int32(len(ch.rules))
		return
	}
	cu.all, cu.nl = false, 0
	add := func(l []int32) {
		if len(l) > 0 {
			cu.lists[cu.nl] = l
			cu.nl++
		}
	}
	add(x.wild)
	if s := protoSlot(p.Proto); s >= 0 && p.HasPorts {
		add(x.dport[s][p.DstPort])
	}
	if len(x.src) > 0 {
		a := be32(p.Src.As4())
		for i := range x.src {
			add(x.src[i].m[a&x.src[i].mask])
		}
	}
	if len(x.dst) > 0 {
		a := be32(p.Dst.As4())
		for i := range x.dst {
			add(x.dst[i].m[a&x.dst[i].mask])
		}
	}
}

// next returns the next rule's position, or -1 at the end.
func (cu *cursor) next() int32 {
	if cu.all {
		if cu.i >= cu.n {
			return -1
		}
		cu.i++
		return cu.i - 1
	}
	best, bi := int32(-1), -1
	for k := 0; k < cu.nl; k++ {
		if l := cu.lists[k]; len(l) > 0 && (best < 0 || l[0] < best) {
			best, bi = l[0], k
		}
	}
	if bi >= 0 {
		cu.lists[bi] = cu.lists[bi][1:]
	}
	return best
}
