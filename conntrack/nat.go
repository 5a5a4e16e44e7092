package conntrack

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net/netip"
	"sync"
)

// NATFlags are the kernel's NF_NAT_RANGE_* flags (uapi nf_nat.h).
type NATFlags uint32

// The range flags.
const (
	NATMapIPs         NATFlags = 0x01 // an address range is given
	NATProtoSpecified NATFlags = 0x02 // a port (or ICMP id) range is given
	NATRandom         NATFlags = 0x04 // --random
	NATPersistent     NATFlags = 0x08 // --persistent
	NATRandomFully    NATFlags = 0x10 // --random-fully
	NATProtoOffset    NATFlags = 0x20 // ports shift by an offset from BasePort

	natRandomAll = NATRandom | NATRandomFully
)

// NATRange is the kernel's nf_nat_range2: what a NAT target asks for.
type NATRange struct {
	Flags            NATFlags
	MinAddr, MaxAddr netip.Addr // with NATMapIPs
	MinPort, MaxPort uint16     // with NATProtoSpecified (ICMP: the id)
	BasePort         uint16     // with NATProtoOffset
}

// ErrNATConfirmed is returned by SetupNAT for an entry that is already
// confirmed: a mapping can only be chosen before the first packet leaves
// (the kernel WARNs and refuses in nf_nat_setup_info).
var ErrNATConfirmed = errors.New("conntrack: NAT binding on a confirmed entry")

// natMaxAttempts is NF_NAT_MAX_ATTEMPTS: the most ports tried in one round
// of nf_nat_l4proto_unique_tuple, so a full port range costs bounded work
// per packet instead of a scan of 64 K tuples.
const natMaxAttempts = 128

// bysrcKey is the key of the kernel's nf_nat_bysrc hash: the original
// source (address, port or id, protocol) and zone of SNATed entries, so a
// client keeps one mapping across its connections (find_appropriate_src).
type bysrcKey struct {
	src   [16]byte
	port  uint16
	proto uint8
	fam   Family
	zone  uint16
}

// natState is the Table's NAT part: the bysrc index.
type natState struct {
	mu    sync.Mutex
	bysrc map[bysrcKey][]*Conn
}

func keyBySrc(c *Conn) bysrcKey {
	o := &c.tuple[Original]
	return bysrcKey{src: o.Src, port: o.SrcPort, proto: o.Proto, fam: o.Family, zone: c.zone}
}

// linkBySrc indexes a confirmed SNATed entry by its original source.
func (t *Table) linkBySrc(c *Conn) {
	n := &t.nat
	n.mu.Lock()
	if n.bysrc == nil {
		n.bysrc = map[bysrcKey][]*Conn{}
	}
	k := keyBySrc(c)
	n.bysrc[k] = append(n.bysrc[k], c)
	n.mu.Unlock()
}

// unlinkBySrc removes a dying entry from the index
// (nf_nat_cleanup_conntrack).
func (t *Table) unlinkBySrc(c *Conn) {
	n := &t.nat
	n.mu.Lock()
	k := keyBySrc(c)
	l := n.bysrc[k]
	for i, x := range l {
		if x == c {
			l[i] = l[len(l)-1]
			l = l[:len(l)-1]
			break
		}
	}
	if len(l) == 0 {
		delete(n.bysrc, k)
	} else {
		n.bysrc[k] = l
	}
	n.mu.Unlock()
}

// SetupNAT records a NAT binding for manip m on the unconfirmed entry c, as
// nf_nat_setup_info: the tuple the packet has now (the inverse of the reply
// tuple, which an earlier manip may already have changed) is mapped into r
// by get_unique_tuple; if that changes it, the reply tuple becomes the
// inverse of the new tuple and SRC_NAT or DST_NAT is set. Either way the
// manip is then done (SRC_NAT_DONE / DST_NAT_DONE): a null binding is a
// binding, so later nat rules never apply to this connection.
//
// Every later packet of the connection, both directions, is rewritten from
// the tuples alone (the engine's nf_nat_packet); no rule is consulted.
func (t *Table) SetupNAT(c *Conn, r *NATRange, m Manip, now int64) error {
	if c.Status()&StatusConfirmed != 0 {
		return ErrNATConfirmed
	}
	cur, ok := c.tuple[Reply].Invert()
	if !ok {
		return ErrNoInverse
	}
	nt := t.uniqueTuple(cur, r, c, m, now)
	if nt != cur {
		reply, ok := nt.Invert()
		if !ok {
			return ErrNoInverse
		}
		if err := c.SetReplyTuple(reply); err != nil {
			return err
		}
		if m == ManipSrc {
			c.SetStatus(StatusSrcNAT)
		} else {
			c.SetStatus(StatusDstNAT)
		}
	}
	if m == ManipSrc {
		c.SetStatus(StatusSrcNATDone)
	} else {
		c.SetStatus(StatusDstNATDone)
	}
	return nil
}

// usedTuple is nf_nat_used_tuple: a candidate is taken when its inverse,
// the reply tuple the entry would get, is already some other entry's.
func (t *Table) usedTuple(tu *Tuple, c *Conn, now int64) bool {
	reply, ok := tu.Invert()
	if !ok {
		return true
	}
	return t.TupleTaken(reply, c, now)
}

// uniqueTuple is get_unique_tuple: choose the tuple the packet will have
// after manip m, inside r, unique in the table.
func (t *Table) uniqueTuple(orig Tuple, r *NATRange, c *Conn, m Manip, now int64) Tuple {
	// 1. For source manips without random: keep the tuple if it already
	// fits the range and is free (what keeps a client's port under SNAT
	// and MASQUERADE), else reuse the mapping this source already has.
	if m == ManipSrc && r.Flags&natRandomAll == 0 {
		if inRange(&orig, r, m) {
			if !t.usedTuple(&orig, c, now) {
				return orig
			}
		} else if nt, ok := t.findSrc(&orig, r, c, now); ok {
			if !t.usedTuple(&nt, c, now) {
				return nt
			}
		}
	}
	// 2. The address.
	nt := orig
	t.bestAddr(&nt, r, c, m)
	// 3. Keep the port part if it is in range and free.
	if r.Flags&natRandomAll == 0 {
		if r.Flags&NATProtoSpecified != 0 {
			if r.Flags&NATProtoOffset == 0 && portInRange(&nt, m, r) &&
				(r.MinPort == r.MaxPort || !t.usedTuple(&nt, c, now)) {
				return nt
			}
		} else if !t.usedTuple(&nt, c, now) {
			return nt
		}
	}
	// 4. Search the port (or ICMP id) space.
	t.uniquePort(&nt, r, c, m, now)
	return nt
}

// inRange is nf_in_range for a source manip: the address (when addresses
// are given) and the port (when ports are given) are inside r.
func inRange(tu *Tuple, r *NATRange, m Manip) bool {
	if r.Flags&NATMapIPs != 0 {
		a := tu.SrcAddr()
		if m == ManipDst {
			a = tu.DstAddr()
		}
		if a.Compare(r.MinAddr) < 0 || a.Compare(r.MaxAddr) > 0 {
			return false
		}
	}
	return r.Flags&NATProtoSpecified == 0 || portInRange(tu, m, r)
}

// portInRange is l4proto_in_range: the manip's port, or the ICMP id for
// either manip.
func portInRange(tu *Tuple, m Manip, r *NATRange) bool {
	var v uint16
	switch {
	case isICMP(tu.Proto):
		v = tu.SrcPort
	case hasPorts(tu.Proto) && m == ManipSrc:
		v = tu.SrcPort
	case hasPorts(tu.Proto):
		v = tu.DstPort
	default:
		return true
	}
	return v >= r.MinPort && v <= r.MaxPort
}

// findSrc is find_appropriate_src: an entry with the same original source
// that was SNATed into r gives its mapped source, with this packet's
// destination.
func (t *Table) findSrc(orig *Tuple, r *NATRange, c *Conn, now int64) (Tuple, bool) {
	k := bysrcKey{src: orig.Src, port: orig.SrcPort, proto: orig.Proto, fam: orig.Family, zone: c.zone}
	n := &t.nat
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, x := range n.bysrc[k] {
		if x.Status()&StatusDying != 0 || x.expired(now) {
			continue
		}
		nt, ok := x.tuple[Reply].Invert()
		if !ok {
			continue
		}
		nt.Dst, nt.DstPort = orig.Dst, orig.DstPort
		if inRange(&nt, r, ManipSrc) {
			return nt, true
		}
	}
	return Tuple{}, false
}

// bestAddr is nf_nat_core.c find_best_ips_proto: one address is used as
// is; from a range the kernel picks by jhash2 of the source address (all
// four words of the tuple's address, an IPv4 one zero-padded), seeded with
// the destination's last word xor the zone unless --persistent, and with
// no random seed, so that a client keeps its address "even across
// reboots". gofw computes the same, word for word, so it picks the
// kernel's address. The kernel reads the words in the host's byte order;
// so does gofw, and picks what a kernel on the same machine would.
func (t *Table) bestAddr(tu *Tuple, r *NATRange, c *Conn, m Manip) {
	if r.Flags&NATMapIPs == 0 {
		return
	}
	set := &tu.Src
	if m == ManipDst {
		set = &tu.Dst
	}
	_, lo := addrBytes(r.MinAddr)
	_, hi := addrBytes(r.MaxAddr)
	if lo == hi {
		*set = lo
		return
	}
	last := 3
	if tu.Family == IPv4 {
		last = 0
	}
	word := func(b *[16]byte, i int) uint32 { return binary.NativeEndian.Uint32(b[4*i:]) }
	persistent := r.Flags&NATPersistent != 0
	var initval uint32
	if !persistent {
		initval = word(&tu.Dst, last) ^ uint32(c.zone)
	}
	j := jhash2([]uint32{word(&tu.Src, 0), word(&tu.Src, 1), word(&tu.Src, 2), word(&tu.Src, 3)}, initval)
	var out [16]byte
	full := false
	for i := 0; i <= last; i++ {
		// While the leading words sit at the range's top, stay within
		// it; after that any value will do.
		minip, dist := uint32(0), ^uint32(0)
		if !full {
			minip = binary.BigEndian.Uint32(lo[4*i:])
			dist = binary.BigEndian.Uint32(hi[4*i:]) - minip + 1
		}
		v := minip + uint32(uint64(j)*uint64(dist)>>32) // reciprocal_scale
		binary.BigEndian.PutUint32(out[4*i:], v)
		if v != binary.BigEndian.Uint32(hi[4*i:]) {
			full = true
		}
		if !persistent {
			j ^= word(&tu.Dst, i)
		}
	}
	*set = out
}

// uniquePort is nf_nat_l4proto_unique_tuple: search the port (ICMP id)
// space from an offset, at most natMaxAttempts per round, in shrinking
// rounds from fresh random offsets. If nothing is free the last candidate
// stays, and the packet is dropped when its entry fails to confirm
// (insert_failed), as in the kernel.
func (t *Table) uniquePort(tu *Tuple, r *NATRange, c *Conn, m Manip, now int64) {
	var key *uint16
	var min, size uint32
	switch {
	case isICMP(tu.Proto):
		key = &tu.SrcPort
		if r.Flags&NATProtoSpecified == 0 {
			min, size = 0, 65536
		} else {
			min, size = uint32(r.MinPort), uint32(r.MaxPort)-uint32(r.MinPort)+1
		}
	case hasPorts(tu.Proto):
		key = &tu.SrcPort
		if m == ManipDst {
			key = &tu.DstPort
		}
		if r.Flags&NATProtoSpecified == 0 {
			if m == ManipDst {
				return // a DNAT without ports never changes the port
			}
			// The port classes: privileged ports stay privileged, and
			// below 512 stays below 512 (rsh/rlogin's credential ports).
			switch p := *key; {
			case p < 512:
				min, size = 1, 511
			case p < 1024:
				min, size = 600, 1023-600+1
			default:
				min, size = 1024, 65535-1024+1
			}
		} else {
			lo, hi := uint32(r.MinPort), uint32(r.MaxPort)
			if hi < lo {
				lo, hi = hi, lo
			}
			min, size = lo, hi-lo+1
		}
	default:
		return // GRE keys only change for PPTP, which gofw does not track
	}
	var off uint32
	switch {
	case r.Flags&NATProtoOffset != 0:
		off = uint32(*key - r.BasePort)
	case r.Flags&natRandomAll != 0 || m != ManipDst:
		off = rand.Uint32() & 0xffff // get_random_u16
	}
	attempts := min32(size, natMaxAttempts)
	for {
		for i := uint32(0); i < attempts; i, off = i+1, off+1 {
			*key = uint16(min + off%size)
			if !t.usedTupleHarder(tu, c, attempts-i, now) {
				return
			}
		}
		if attempts >= size || attempts < 16 {
			return
		}
		attempts /= 2
		off = rand.Uint32() & 0xffff
	}
}

func min32(a, b uint32) uint32 {
	if a < b {
		return a
	}
	return b
}

// usedTupleHarder is nf_nat_used_tuple_harder: in the last 32 attempts of a
// round, a TCP SYN may take over the tuple of an SNATed entry that is in
// TIME_WAIT (or CLOSE) and has no fixed timeout, killing that entry, as the
// kernel does so that a busy SNAT pool does not run dry on closed flows.
func (t *Table) usedTupleHarder(tu *Tuple, c *Conn, left uint32, now int64) bool {
	if !t.usedTuple(tu, c, now) {
		return false
	}
	if left > 32 || tu.Proto != ProtoTCP || c.TCPState() != TCPSynSent {
		return true
	}
	reply, _ := tu.Invert()
	x, _ := t.find(&reply, c.zone, now)
	if x == nil {
		return true
	}
	st := x.Status()
	if st&StatusSrcNAT == 0 || st&StatusFixedTimeout != 0 || st&StatusDying != 0 {
		return true
	}
	if s := x.TCPState(); s != TCPTimeWait && s != TCPClose {
		return true
	}
	t.kill(x, now)
	return t.usedTuple(tu, c, now)
}

// SetMasqIface records the interface a MASQUERADE binding of the
// unconfirmed entry c used, so the entry can die with it.
func (c *Conn) SetMasqIface(name string) {
	if c.ext == nil {
		c.ext = &connExt{}
	}
	c.ext.masqIface = name
}

// MasqIface returns the interface recorded by SetMasqIface, or "".
func (c *Conn) MasqIface() string {
	if c.ext == nil {
		return ""
	}
	return c.ext.masqIface
}

// KillMasq deletes the masqueraded entries of interface iface, as the
// kernel's masquerade notifiers do: every such entry when the interface
// goes down (addr invalid), or only those whose reply destination is addr
// when that address is removed. It returns how many entries died.
func (t *Table) KillMasq(iface string, addr netip.Addr, now int64) int {
	var dead []*Conn
	t.forEach(func(c *Conn) {
		if c.MasqIface() != iface || c.Status()&StatusSrcNAT == 0 {
			return
		}
		if addr.IsValid() {
			r := c.tuple[Reply]
			if r.DstAddr() != addr {
				return
			}
		}
		dead = append(dead, c)
	})
	n := 0
	for _, c := range dead {
		if t.kill(c, now) {
			n++
		}
	}
	return n
}
