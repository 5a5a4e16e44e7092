package match

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/packet"
)

// recentInfo is the recent match (libxt_recent.c, xt_recent.c), revision 1
// (struct xt_recent_mtinfo_v1, with --mask): named lists of recently seen
// addresses that rules add to, check, update and remove from.
var recentInfo = &Info{
	Name: "recent",
	Opts: []Opt{
		{Name: "set", Inv: true},
		{Name: "rcheck", Inv: true},
		{Name: "update", Inv: true},
		{Name: "remove", Inv: true},
		{Name: "seconds", Arg: true},
		{Name: "reap"},
		{Name: "hitcount", Arg: true},
		{Name: "rttl"},
		{Name: "name", Arg: true},
		// --rsource and --rdest are both allowed, the last one wins.
		{Name: "rsource"},
		{Name: "rdest"},
		{Name: "mask", Arg: true},
	},
	New: func() Match {
		return &Recent{Name: "DEFAULT", Mask: 0xffffffff, seen: map[string]bool{}}
	},
}

// recentRules is recent_opts_v1 as the generic final check reads it: one
// command only, --reap needs --seconds, --rttl makes no sense with --set or
// --remove.
var recentRules = []XtOptRule{
	{Name: "set", Excl: []string{"rcheck", "update", "remove"}},
	{Name: "rcheck", Excl: []string{"set", "update", "remove"}},
	{Name: "update", Excl: []string{"set", "rcheck", "remove"}},
	{Name: "remove", Excl: []string{"set", "rcheck", "update"}},
	{Name: "reap", Also: []string{"seconds"}},
	{Name: "rttl", Excl: []string{"set", "remove"}},
}

const (
	recentNameSize = 200   // XT_RECENT_NAME_LEN
	recentMaxHits  = 65536 // XT_RECENT_MAX_NSTAMPS: hitcount must stay below
)

// RecentCmd is what a recent rule does with its list (XT_RECENT_SET, ...).
type RecentCmd uint8

// The four commands; a rule has exactly one.
const (
	RecentSet RecentCmd = iota + 1
	RecentCheck
	RecentUpdate
	RecentRemove
)

// Recent is one recent match. Seconds and HitCount of 0 mean "not given";
// Mask (an IPv4 netmask in host byte order, any bits) is applied to the
// address before it is looked up; Dest picks the destination address
// instead of the source (--rdest).
type Recent struct {
	Cmd      RecentCmd
	Inv      bool
	Seconds  uint32
	Reap     bool
	HitCount uint32
	TTL      bool
	Name     string
	Mask     uint32
	Dest     bool

	seen map[string]bool
	// table is the list of Name, found or created by Bind.
	table atomic.Pointer[recentTable]
}

// Parse implements Match.
func (r *Recent) Parse(a *Arg) error {
	r.seen[a.Name] = true
	switch a.Name {
	case "set", "rcheck", "update", "remove":
		r.Cmd = map[string]RecentCmd{"set": RecentSet, "rcheck": RecentCheck, "update": RecentUpdate, "remove": RecentRemove}[a.Name]
		if a.Inv {
			r.Inv = true
		}
	case "seconds":
		v, err := XtParseUint("recent", a.Name, a.Value, 1, 0xffffffff)
		if err != nil {
			return err
		}
		r.Seconds = uint32(v)
	case "reap":
		r.Reap = true
	case "hitcount":
		v, err := XtParseUint("recent", a.Name, a.Value, 0, 0xffffffff)
		if err != nil {
			return err
		}
		r.HitCount = uint32(v)
	case "rttl":
		r.TTL = true
	case "name":
		r.Name, _ = XtString(a.Value, 0, recentNameSize)
	case "rsource":
		r.Dest = false
	case "rdest":
		r.Dest = true
	case "mask":
		m, err := parseHostXt(a.Value)
		if err != nil {
			return err
		}
		r.Mask = binary.BigEndian.Uint32(m.AsSlice())
	}
	return nil
}

// parseHostXt parses an XTTYPE_HOST value for IPv4. iptables asks
// getaddrinfo; gofw takes only the numeric forms getaddrinfo accepts and
// refuses host names with getaddrinfo's words for a name it cannot find,
// rather than depend on name service at load time.
func parseHostXt(s string) (netip.Addr, error) {
	v, ok := XtInetAton(s)
	if !ok {
		if strings.Contains(s, ":") {
			return netip.Addr{}, grammar.ParamNLf("getaddrinfo: Address family for hostname not supported")
		}
		return netip.Addr{}, grammar.ParamNLf("getaddrinfo: Name or service not known")
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), nil
}

// Final implements Match: recent_check, then the generic exclusions.
func (r *Recent) Final(*Rule) error {
	if r.Cmd == 0 {
		return grammar.Paramf("recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'")
	}
	return XtFcheck("recent", recentRules, r.seen)
}

// Check implements Checker with xt_recent's recent_mt_check.
func (r *Recent) Check(*Where) error {
	if (r.Cmd == RecentSet || r.Cmd == RecentRemove) && (r.Seconds != 0 || r.HitCount != 0 || r.TTL || r.Reap) {
		return rlKernelErrf("xt_recent: --seconds, --hitcount, --rttl and --reap only go with --rcheck or --update")
	}
	if r.Reap && r.Seconds == 0 {
		return rlKernelErrf("xt_recent: --reap needs --seconds")
	}
	if r.HitCount >= recentMaxHits {
		return rlKernelErrf("xt_recent: hitcount (%d) is larger than allowed maximum (%d)", r.HitCount, recentMaxHits-1)
	}
	return checkProcName("xt_recent", r.Name, recentNameSize)
}

func recentMaskText(m uint32) string {
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
}

var recentCmdText = [...]struct{ save, print string }{
	RecentSet:    {" --set", " SET"},
	RecentCheck:  {" --rcheck", " CHECK"},
	RecentUpdate: {" --update", " UPDATE"},
	RecentRemove: {" --remove", " REMOVE"},
}

// Save implements Match as recent_save: the name, mask and side are always
// written, defaults included. The name is printed as is, unquoted.
func (r *Recent) Save(b *strings.Builder) {
	if r.Inv {
		b.WriteString(" !")
	}
	b.WriteString(recentCmdText[r.Cmd].save)
	if r.Seconds != 0 {
		// iptables 1.8.9 prints it with %d: above 2^31-1 it goes negative.
		fmt.Fprintf(b, " --seconds %d", int32(r.Seconds))
	}
	if r.Reap {
		b.WriteString(" --reap")
	}
	if r.HitCount != 0 {
		fmt.Fprintf(b, " --hitcount %d", r.HitCount)
	}
	if r.TTL {
		b.WriteString(" --rttl")
	}
	b.WriteString(" --name " + r.Name + " --mask " + recentMaskText(r.Mask))
	if r.Dest {
		b.WriteString(" --rdest")
	} else {
		b.WriteString(" --rsource")
	}
}

// Print implements Match as recent_print.
func (r *Recent) Print(b *strings.Builder, numeric bool) {
	if r.Inv {
		b.WriteString(" !")
	}
	b.WriteString(" recent:")
	b.WriteString(recentCmdText[r.Cmd].print)
	if r.Seconds != 0 {
		fmt.Fprintf(b, " seconds: %d", int32(r.Seconds))
	}
	if r.Reap {
		b.WriteString(" reap")
	}
	if r.HitCount != 0 {
		fmt.Fprintf(b, " hit_count: %d", r.HitCount)
	}
	if r.TTL {
		b.WriteString(" TTL-Match")
	}
	b.WriteString(" name: " + r.Name)
	if r.Dest {
		b.WriteString(" side: dest")
	} else {
		b.WriteString(" side: source")
	}
	b.WriteString(" mask: " + recentMaskText(r.Mask))
}

// The hot path. xt_recent keeps its lists by name in the network
// namespace: the first rule naming a list creates it with its --mask, and
// every rule naming it shares it, mask included. gofw keeps the lists in the
// engine's Env (Env.Shared), so they survive ruleset swaps; unlike the
// kernel, which frees a list with its last rule, gofw keeps a list, its
// entries and its mask for the daemon's lifetime.

// recentListTot is xt_recent's ip_list_tot module parameter at its default:
// the entries a list holds before the least recently updated one is
// evicted. gofw has no module parameters; this is fixed.
const recentListTot = 100

// recentStampMask is the size, less one, of an entry's ring of time stamps
// as recent_mt_check computes it with ip_pkt_list_tot at its default (0):
// the hit count rounded up to a power of two, or 32 without one.
func recentStampMask(hitCount uint32) int {
	if hitCount == 0 {
		return 32 - 1
	}
	return 1<<bits.Len32(hitCount-1) - 1
}

// recentEntry is struct recent_entry for IPv4.
type recentEntry struct {
	addr    uint32 // masked with the list's mask
	ttl     uint8
	index   int // next slot of stamps, 1 + the latest
	nstamps int // slots in use
	stamps  []uint64
	// older and newer link the list from least to most recently updated
	// (lru_list); newer also links the free list.
	older, newer *recentEntry
}

// recentTable is struct recent_table. One mutex guards it, as the kernel's
// recent_lock guards every list.
type recentTable struct {
	mu             sync.Mutex
	mask           uint32
	stampMask      int // nstamps_max_mask
	m              map[uint32]*recentEntry
	oldest, newest *recentEntry
	free           *recentEntry // removed entries, reused without allocating
}

func newRecentTable(mask uint32, stampMask int) *recentTable {
	return &recentTable{mask: mask, stampMask: stampMask, m: make(map[uint32]*recentEntry, recentListTot)}
}

// Bind implements Binder as recent_mt_check does: the rule joins its list,
// creating it with the rule's mask if it is the first, and a rule that
// needs more time stamps than the list keeps flushes the list and widens
// its ring.
func (r *Recent) Bind(env *Env) error {
	sm := recentStampMask(r.HitCount)
	t, ok := env.Shared("recent", r.Name, func() any { return newRecentTable(r.Mask, sm) }).(*recentTable)
	if !ok {
		return fmt.Errorf("recent list %q is not a recent list", r.Name)
	}
	t.mu.Lock()
	if sm > t.stampMask {
		t.flush()
		t.stampMask = sm
	}
	t.mu.Unlock()
	r.table.Store(t)
	return nil
}

func (t *recentTable) unlink(e *recentEntry) {
	if e.older != nil {
		e.older.newer = e.newer
	} else {
		t.oldest = e.newer
	}
	if e.newer != nil {
		e.newer.older = e.older
	} else {
		t.newest = e.older
	}
	e.older, e.newer = nil, nil
}

func (t *recentTable) push(e *recentEntry) {
	e.older = t.newest
	if t.newest != nil {
		t.newest.newer = e
	} else {
		t.oldest = e
	}
	t.newest = e
}

// lookup is recent_entry_lookup: the entry of addr, if its TTL agrees
// (either side 0 means any TTL).
func (t *recentTable) lookup(addr uint32, ttl uint8) *recentEntry {
	e := t.m[addr]
	if e == nil || (ttl != e.ttl && ttl != 0 && e.ttl != 0) {
		return nil
	}
	return e
}

// remove is recent_entry_remove; the entry goes to the free list.
func (t *recentTable) remove(e *recentEntry) {
	t.unlink(e)
	delete(t.m, e.addr)
	e.newer, t.free = t.free, e
}

// flush is recent_table_flush. The free list goes too: its rings may be
// too short for the list's next stamp mask.
func (t *recentTable) flush() {
	for e := t.oldest; e != nil; e = t.oldest {
		t.remove(e)
	}
	t.free = nil
}

// insert is recent_entry_init: a full list first evicts its least
// recently updated entry.
func (t *recentTable) insert(addr uint32, ttl uint8, now uint64) {
	if len(t.m) >= recentListTot {
		t.remove(t.oldest)
	}
	e := t.free
	if e != nil && len(e.stamps) == t.stampMask+1 {
		t.free, e.newer = e.newer, nil
	} else {
		e = &recentEntry{stamps: make([]uint64, t.stampMask+1)}
	}
	e.addr, e.ttl = addr, ttl
	e.stamps[0], e.nstamps, e.index = now, 1, 1
	t.m[addr] = e
	t.push(e)
}

// update is recent_entry_update: a new stamp in the ring, and the entry
// becomes the most recently updated.
func (t *recentTable) update(e *recentEntry, now uint64) {
	e.index &= t.stampMask
	e.stamps[e.index] = now
	e.index++
	e.nstamps = max(e.nstamps, e.index)
	t.unlink(e)
	t.push(e)
}

// reap is recent_entry_reap: the least recently updated entry goes if its
// latest stamp is older than since. It returns the entry it removed.
func (t *recentTable) reap(since uint64) *recentEntry {
	e := t.oldest
	if e == nil || !timeAfter(since, e.stamps[(e.index-1)&t.stampMask]) {
		return nil
	}
	t.remove(e)
	return e
}

// Match implements Matcher as xt_recent.c recent_mt does. The address
// (source, or destination with --rdest) is masked with the list's mask;
// --rttl also compares the TTL, one more for a forwarded packet (one with
// an output interface and no local socket), as the kernel uses the TTL
// seen before forwarding. Without an entry only --set matches, creating
// one. With one, --set and --remove match; --rcheck and --update match
// when the entry has at least --hitcount stamps (one without it) no older
// than --seconds, and --reap then drops the list's least recently updated
// entry if it is all older. --set, and --update when it matches, add a
// stamp and make the entry the most recent.
//
// Called for every packet; a packet of an existing entry, or a --set that
// evicts or reuses one, does not allocate.
func (r *Recent) Match(p *packet.Packet) bool {
	t := r.table.Load()
	if t == nil || !p.Src.Is4() || !p.Dst.Is4() {
		return false
	}
	a := p.Src.As4()
	if r.Dest {
		a = p.Dst.As4()
	}
	ttl := p.TTL
	if p.OutIface != "" && !p.HasOwner {
		ttl++
	}
	lookTTL := uint8(0)
	if r.TTL {
		lookTTL = ttl
	}
	now := jiffies(p.Now)
	ret := r.Inv

	t.mu.Lock()
	defer t.mu.Unlock()
	addr := binary.BigEndian.Uint32(a[:]) & t.mask
	e := t.lookup(addr, lookTTL)
	if e == nil {
		if r.Cmd == RecentSet {
			t.insert(addr, ttl, now)
			ret = !ret
		}
		return ret
	}
	switch r.Cmd {
	case RecentSet:
		ret = !ret
	case RecentRemove:
		t.remove(e)
		return !ret
	case RecentCheck, RecentUpdate:
		// seconds*HZ is computed in 32 bits, as the kernel's u32.
		since := now - uint64(r.Seconds*hz)
		hits := uint32(0)
		for _, st := range e.stamps[:e.nstamps] {
			if r.Seconds != 0 && timeAfter(since, st) {
				continue
			}
			if hits++; r.HitCount == 0 || hits >= r.HitCount {
				ret = !ret
				break
			}
		}
		if r.Reap && t.reap(since) == e {
			// The kernel would go on to stamp the freed entry; gofw
			// leaves it gone.
			return ret
		}
	}
	if r.Cmd == RecentSet || (r.Cmd == RecentUpdate && ret) {
		t.update(e, now)
		e.ttl = ttl
	}
	return ret
}
