package match

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/packet"
)

// hashlimitInfo is the hashlimit match (libxt_hashlimit.c, xt_hashlimit.c),
// revision 3 (struct xt_hashlimit_mtinfo3), the one iptables 1.8.9 picks on
// current kernels: token buckets per flow group, in packets or in bytes.
var hashlimitInfo = &Info{
	Name: "hashlimit",
	Opts: []Opt{
		{Name: "hashlimit-upto", Arg: true, Inv: true},
		{Name: "hashlimit-above", Arg: true, Inv: true},
		{Name: "hashlimit", Arg: true, Inv: true, Canon: "hashlimit-upto"}, // old name
		{Name: "hashlimit-srcmask", Arg: true},
		{Name: "hashlimit-dstmask", Arg: true},
		{Name: "hashlimit-burst", Arg: true},
		{Name: "hashlimit-htable-size", Arg: true},
		{Name: "hashlimit-htable-max", Arg: true},
		{Name: "hashlimit-htable-gcinterval", Arg: true},
		{Name: "hashlimit-htable-expire", Arg: true},
		{Name: "hashlimit-mode", Arg: true},
		{Name: "hashlimit-name", Arg: true},
		{Name: "hashlimit-rate-match"},
		{Name: "hashlimit-rate-interval", Arg: true},
	},
	New: func() Match {
		return &Hashlimit{Burst: hashlimitBurst, GCInterval: hashlimitGCInterval,
			SrcMask: 32, DstMask: 32, mult: 1, seen: map[string]bool{}}
	},
}

// hashlimitRules is the x6_options table of revision 3 as the generic
// final check reads it.
var hashlimitRules = []XtOptRule{
	{Name: "hashlimit-upto", Excl: []string{"hashlimit-above"}},
	{Name: "hashlimit-above", Excl: []string{"hashlimit-upto"}},
	{Name: "hashlimit-name", Mand: true},
}

// Constants of libxt_hashlimit.c and xt_hashlimit.h.
const (
	hashlimitBurst       = 5
	hashlimitBurstMax    = 1000000
	hashlimitGCInterval  = 1000    // ms
	hashlimitByteExpire  = 15      // s, default expiry in byte mode
	hashlimitByteExpireB = 60      // s, the same when a burst is given
	hashlimitScale       = 1000000 // XT_HASHLIMIT_SCALE_v2: cost in 1/1000000 s
	hashlimitByteShift   = 4       // XT_HASHLIMIT_BYTE_SHIFT: byte costs count 16-byte chunks
	hashlimitNameSize    = 255     // NAME_MAX: char name[NAME_MAX]
	// hashlimitCreditsPerSecond is the kernel's HZ * CREDITS_PER_JIFFY for
	// revisions 2 and 3 (2^39 * 250 = 2^37 * 1000): user2credits multiplies
	// a cost by it / XT_HASHLIMIT_SCALE_v2.
	hashlimitCreditsPerSecond = 137438953472000
	// hashlimitByteCredits is HZ * CREDITS_PER_JIFFY_BYTES (2^24 * 250 =
	// 2^22 * 1000), user2credits_byte's factor.
	hashlimitByteCredits = 4194304000
)

// HashlimitMode is the set of header fields a hashlimit groups flows by,
// numbered as XT_HASHLIMIT_HASH_* so a hot path can test them directly.
type HashlimitMode uint8

// Hash key fields (xt_hashlimit.h).
const (
	HashDstIP   HashlimitMode = 1 << 0
	HashDstPort HashlimitMode = 1 << 1
	HashSrcIP   HashlimitMode = 1 << 2
	HashSrcPort HashlimitMode = 1 << 3
)

// Hashlimit is one hashlimit match, as struct hashlimit_cfg3 holds it: Avg
// is the cost of one packet in 1/1000000 s (Bytes false) or of one 16-byte
// chunk in xt_hashlimit's byte units (Bytes true); Burst is in packets or in
// chunks of Avg; Expire and GCInterval are milliseconds. Above inverts the
// match (XT_HASHLIMIT_INVERT), RateMatch is XT_HASHLIMIT_RATE_MATCH with
// Interval in seconds.
type Hashlimit struct {
	Name       string
	Mode       HashlimitMode
	Above      bool
	Bytes      bool
	RateMatch  bool
	Avg        uint64
	Burst      uint64
	Size       uint32
	Max        uint32
	GCInterval uint32
	Expire     uint32
	SrcMask    uint8
	DstMask    uint8
	Interval   uint32

	mult uint32          // the udata: seconds per unit of the last rate
	seen map[string]bool // options given, for the final check

	// table is the named table Bind found or created (hashlimit_mt_check's
	// htable_find_get / htable_create).
	table atomic.Pointer[hlTable]
}

// hashlimitFactor is get_factor: the k/m multiplier after a number.
func hashlimitFactor(rest string) uint64 {
	if rest == "" {
		return 1
	}
	switch rest[0] {
	case 'm':
		return 1024 * 1024
	case 'k':
		return 1024
	}
	return 1
}

// hashlimitBytesToCost is bytes_to_cost: the cost of one 16-byte chunk at
// a rate of bytes per second, in 32 bits. A rate of 2^36 B/s or more has no
// cost (libxt_hashlimit would divide by zero there).
func hashlimitBytesToCost(bytes uint64) uint64 {
	r := uint32(bytes >> hashlimitByteShift)
	if r == math.MaxUint32 {
		return 0
	}
	return uint64(math.MaxUint32 / (r + 1))
}

// hashlimitCostToBytes is cost_to_bytes, bytes_to_cost's inverse.
func hashlimitCostToBytes(cost uint64) uint64 {
	r := uint64(math.MaxUint32)
	if cost != 0 {
		r = math.MaxUint32 / cost
	}
	return (r - 1) << hashlimitByteShift
}

// parseBytes is parse_bytes: "N[k|m]b/s". It returns false (try a packet
// rate) when there is no "b/s" after the first byte or N is 0.
func (h *Hashlimit) parseBytes(s string) (bool, error) {
	i := strings.Index(s, "b/s")
	if i <= 0 {
		return false, nil
	}
	r := uint64(rlAtoll(s))
	if r == 0 {
		return false, nil
	}
	cost := hashlimitBytesToCost(r * hashlimitFactor(s[i-1:]))
	if cost == 0 {
		return false, grammar.Paramf("Rate too high \"%s\"", s)
	}
	h.mult = hashlimitByteExpire
	h.Avg = cost
	return true, nil
}

// parseRate is parse_rate for revision 2 and up: "N[/unit]" as a cost in
// 1/1000000 s.
func (h *Hashlimit) parseRate(s string) (bool, error) {
	h.mult = 1
	if _, unit, found := strings.Cut(s, "/"); found {
		if unit == "" {
			return false, nil
		}
		m, ok := rlUnitMult(unit)
		if !ok {
			return false, nil
		}
		h.mult = uint32(m)
	}
	r := uint64(rlAtoll(s))
	if r == 0 {
		return false, nil
	}
	cost := uint64(hashlimitScale) * uint64(h.mult) / r
	if cost == 0 {
		return false, grammar.Paramf("Rate too fast \"%s\"", s)
	}
	h.Avg = cost
	return true, nil
}

// parseBurst is parse_burst for revision 2 and up: a number up to 1000000,
// or any number followed by a k or m factor (a byte count for byte rates).
func parseHashlimitBurst(s string) (uint64, error) {
	v, rest, ok := XtStrtoul(s, 1, math.MaxUint64)
	if !ok || (rest == "" && v > hashlimitBurstMax) {
		return 0, hashlimitBurstError()
	}
	return v * hashlimitFactor(rest), nil
}

func hashlimitBurstError() error {
	return grammar.Paramf("bad value for option \"--hashlimit-burst\", or out of range (1-%d).", hashlimitBurstMax)
}

// Parse implements Match.
func (h *Hashlimit) Parse(a *Arg) error {
	h.seen[a.Name] = true
	switch a.Name {
	case "hashlimit-upto", "hashlimit-above":
		// "! --hashlimit-upto" is --hashlimit-above and vice versa.
		h.Above = (a.Name == "hashlimit-above") != a.Inv
		ok, err := h.parseBytes(a.Value)
		if err != nil {
			return err
		}
		if ok {
			h.Bytes = true
			break
		}
		if ok, err = h.parseRate(a.Value); err != nil {
			return err
		}
		if !ok {
			return XtBadValue("hashlimit", a.Name, a.Value)
		}
	case "hashlimit-srcmask", "hashlimit-dstmask":
		n, err := XtPlen("hashlimit", a.Name, a.Value)
		if err != nil {
			return err
		}
		if a.Name == "hashlimit-srcmask" {
			h.SrcMask = n
		} else {
			h.DstMask = n
		}
	case "hashlimit-burst":
		v, err := parseHashlimitBurst(a.Value)
		if err != nil {
			return err
		}
		h.Burst = v
	case "hashlimit-htable-size", "hashlimit-htable-max", "hashlimit-htable-gcinterval", "hashlimit-htable-expire":
		v, err := XtParseUint("hashlimit", a.Name, a.Value, 0, math.MaxUint32)
		if err != nil {
			return err
		}
		switch a.Name {
		case "hashlimit-htable-size":
			h.Size = uint32(v)
		case "hashlimit-htable-max":
			h.Max = uint32(v)
		case "hashlimit-htable-gcinterval":
			h.GCInterval = uint32(v)
		default:
			h.Expire = uint32(v)
		}
	case "hashlimit-mode":
		// parse_mode: strtok on "," and "|", so empty items vanish.
		for _, tok := range strings.FieldsFunc(a.Value, func(r rune) bool { return r == ',' || r == '|' }) {
			switch tok {
			case "dstip":
				h.Mode |= HashDstIP
			case "srcip":
				h.Mode |= HashSrcIP
			case "srcport":
				h.Mode |= HashSrcPort
			case "dstport":
				h.Mode |= HashDstPort
			default:
				return XtBadValue("hashlimit", a.Name, a.Value)
			}
		}
	case "hashlimit-name":
		s, err := XtString(a.Value, 1, hashlimitNameSize)
		if err != nil {
			return err
		}
		h.Name = s
	case "hashlimit-rate-match":
		h.RateMatch = true
	case "hashlimit-rate-interval":
		// parse_interval: atoi, positive.
		v := rlAtoi(a.Value)
		if v <= 0 {
			return XtBadValue("hashlimit", a.Name, a.Value)
		}
		h.Interval = uint32(v)
	}
	return nil
}

// Final implements Match with hashlimit_mt_check (revision 3): the expiry
// defaults to the rate's unit, a byte burst is turned into a count of
// rate units, and a rate match keeps the rate per second plus its
// interval. The generic option checks come after, as in libxtables.
func (h *Hashlimit) Final(*Rule) error {
	if !h.seen["hashlimit-upto"] && !h.seen["hashlimit-above"] {
		return grammar.Paramf("You have to specify --hashlimit")
	}
	if !h.seen["hashlimit-htable-expire"] {
		h.Expire = h.mult * 1000
	}
	if h.Bytes {
		var burst uint32
		if h.seen["hashlimit-burst"] {
			unit := hashlimitCostToBytes(h.Avg)
			if unit == 0 {
				// Below 16 B/s the rate is 0 bytes a second, and
				// libxt_hashlimit divides by it (iptables dies of
				// SIGFPE); refuse it instead.
				return grammar.Paramf("hashlimit: a byte rate below 16b/s cannot have --hashlimit-burst")
			}
			if h.Burst < unit {
				return grammar.Paramf("burst cannot be smaller than %db", unit)
			}
			// As libxt_hashlimit: the byte count is cut to 32 bits first.
			burst = uint32(uint64(uint32(h.Burst)) / unit)
			if h.Burst%unit != 0 {
				burst++
			}
			if !h.seen["hashlimit-htable-expire"] {
				h.Expire = hashlimitByteExpireB * 1000
			}
		}
		h.Burst = uint64(burst)
	} else if h.Burst > hashlimitBurstMax {
		return hashlimitBurstError()
	}
	if h.RateMatch {
		if !h.Bytes {
			h.Avg /= uint64(h.mult)
		}
		if h.Interval == 0 {
			if h.Bytes {
				h.Interval = 1
			} else {
				h.Interval = h.mult
			}
		}
	}
	return XtFcheck("hashlimit", hashlimitRules, h.seen)
}

// hashlimitCredits is xt_hashlimit's user2credits for revision 3.
func hashlimitCredits(user uint64) uint64 {
	return user * (hashlimitCreditsPerSecond / hashlimitScale)
}

// Check implements Checker with xt_hashlimit's checkentry
// (hashlimit_mt_check_v3 and hashlimit_mt_check_common).
func (h *Hashlimit) Check(*Where) error {
	if err := checkProcName("xt_hashlimit", h.Name, hashlimitNameSize); err != nil {
		return err
	}
	if h.GCInterval == 0 || h.Expire == 0 {
		return rlKernelErrf("xt_hashlimit: --hashlimit-htable-gcinterval and --hashlimit-htable-expire must not be 0")
	}
	if h.SrcMask > 32 || h.DstMask > 32 {
		return rlKernelErrf("xt_hashlimit: --hashlimit-srcmask and --hashlimit-dstmask must be 0-32 (got %d, %d)", h.SrcMask, h.DstMask)
	}
	switch {
	case h.RateMatch:
		if h.Avg == 0 || h.Avg > math.MaxUint32 {
			return &KernelError{Msg: "xt_hashlimit: invalid rate", Errno: syscall.ERANGE}
		}
		if h.Interval == 0 {
			return rlKernelErrf("xt_hashlimit: invalid interval")
		}
	case h.Bytes:
		// user2credits_byte takes the cost as 32 bits.
		if uint64(uint32(h.Avg))*hashlimitByteCredits>>32 == 0 {
			return rlKernelErrf("xt_hashlimit: overflow, rate too high: %d", h.Avg)
		}
	default:
		if h.Burst == 0 || hashlimitCredits(h.Avg*h.Burst) < hashlimitCredits(h.Avg) {
			return &KernelError{
				Msg:   fmt.Sprintf("xt_hashlimit: overflow, try lower: %d/%d", h.Avg, h.Burst),
				Errno: syscall.ERANGE,
			}
		}
	}
	return nil
}

// checkProcName is x_tables' xt_check_proc_name: the name of a /proc entry
// (hashlimit's and recent's tables) must be non-empty, fit in size bytes
// with its NUL, and be neither "." nor ".." nor contain "/".
func checkProcName(mod, name string, size int) error {
	switch {
	case name == "":
		return rlKernelErrf("%s: the name must not be empty", mod)
	case len(name) >= size:
		return &KernelError{Msg: fmt.Sprintf("%s: name %q too long", mod, name), Errno: syscall.ENAMETOOLONG}
	case name == "." || name == ".." || strings.Contains(name, "/"):
		return rlKernelErrf("%s: name %q is not a valid /proc file name", mod, name)
	}
	return nil
}

// hashlimitRates is the rates table of revision 2 and up, longest first.
var hashlimitRates = []struct {
	name string
	mult uint64
}{
	{"day", hashlimitScale * 24 * 60 * 60},
	{"hour", hashlimitScale * 60 * 60},
	{"min", hashlimitScale * 60},
	{"sec", hashlimitScale},
}

// printHashlimitRate is print_rate: " N/unit", returning the unit in ms
// (the expiry iptables leaves out because it is the default).
func printHashlimitRate(b *strings.Builder, period uint64) uint32 {
	if period == 0 {
		b.WriteString(" inf")
		return 0
	}
	i := 1
	for ; i < len(hashlimitRates); i++ {
		m := hashlimitRates[i].mult
		if period > m || m/period < m%period {
			break
		}
	}
	fmt.Fprintf(b, " %d/%s", hashlimitRates[i-1].mult/period, hashlimitRates[i-1].name)
	return uint32(hashlimitRates[i-1].mult / hashlimitScale * 1000)
}

// hashlimitUnits is the units table of print_bytes.
var hashlimitUnits = []struct {
	name   string
	thresh uint64
}{{"m", 1024 * 1024}, {"k", 1024}, {"", 1}}

// printHashlimitBytes is print_bytes: the byte rate with the largest unit
// that gives the same cost back, then the burst in bytes (prefix is
// "--hashlimit-" for save). It returns the default expiry in ms.
func printHashlimitBytes(b *strings.Builder, avg, burst uint64, prefix string) uint32 {
	r := hashlimitCostToBytes(avg)
	i := 0
	for ; i < len(hashlimitUnits)-1; i++ {
		t := hashlimitUnits[i].thresh
		if r >= t && hashlimitBytesToCost(r&^(t-1)) == avg {
			break
		}
	}
	fmt.Fprintf(b, " %d%sb/s", r/hashlimitUnits[i].thresh, hashlimitUnits[i].name)
	if burst == 0 {
		return hashlimitByteExpire * 1000
	}
	r *= burst
	b.WriteString(" " + prefix)
	for i = 0; i < len(hashlimitUnits)-1; i++ {
		if r >= hashlimitUnits[i].thresh {
			break
		}
	}
	fmt.Fprintf(b, "burst %d%sb", r/hashlimitUnits[i].thresh, hashlimitUnits[i].name)
	return hashlimitByteExpireB * 1000
}

// printHashlimitMode is print_mode: " srcip<sep>srcport<sep>dstip<sep>dstport".
func printHashlimitMode(b *strings.Builder, m HashlimitMode, sep string) {
	var names []string
	for _, f := range []struct {
		bit  HashlimitMode
		name string
	}{{HashSrcIP, "srcip"}, {HashSrcPort, "srcport"}, {HashDstIP, "dstip"}, {HashDstPort, "dstport"}} {
		if m&f.bit != 0 {
			names = append(names, f.name)
		}
	}
	b.WriteString(" " + strings.Join(names, sep))
}

// Save implements Match as hashlimit_mt_save. The name is printed as is,
// unquoted, as iptables does.
func (h *Hashlimit) Save(b *strings.Builder) {
	if h.Above {
		b.WriteString(" --hashlimit-above")
	} else {
		b.WriteString(" --hashlimit-upto")
	}
	var quantum uint32
	if h.Bytes {
		quantum = printHashlimitBytes(b, h.Avg, h.Burst, "--hashlimit-")
	} else {
		quantum = printHashlimitRate(b, h.Avg)
		fmt.Fprintf(b, " --hashlimit-burst %d", h.Burst)
	}
	if h.Mode != 0 {
		b.WriteString(" --hashlimit-mode")
		printHashlimitMode(b, h.Mode, ",")
	}
	b.WriteString(" --hashlimit-name " + h.Name)
	h.printTail(b, quantum, "--hashlimit-")
}

// printTail appends the table parameters, masks and rate-match options
// that differ from their defaults, common to save and print.
func (h *Hashlimit) printTail(b *strings.Builder, quantum uint32, prefix string) {
	if h.Size != 0 {
		fmt.Fprintf(b, " %shtable-size %d", prefix, h.Size)
	}
	if h.Max != 0 {
		fmt.Fprintf(b, " %shtable-max %d", prefix, h.Max)
	}
	if h.GCInterval != hashlimitGCInterval {
		fmt.Fprintf(b, " %shtable-gcinterval %d", prefix, h.GCInterval)
	}
	if h.Expire != quantum {
		fmt.Fprintf(b, " %shtable-expire %d", prefix, h.Expire)
	}
	if h.SrcMask != 32 {
		fmt.Fprintf(b, " %ssrcmask %d", prefix, h.SrcMask)
	}
	if h.DstMask != 32 {
		fmt.Fprintf(b, " %sdstmask %d", prefix, h.DstMask)
	}
	if h.RateMatch {
		fmt.Fprintf(b, " %srate-match", prefix)
		if h.Interval != 1 {
			fmt.Fprintf(b, " %srate-interval %d", prefix, h.Interval)
		}
	}
}

// Print implements Match as hashlimit_mt_print. A packet rate is shown per
// rate interval (the stored rate times Interval), as iptables shows it, so
// "40/min --hashlimit-rate-match" lists as 40/min but saves as 40/sec with
// "--hashlimit-rate-interval 60".
func (h *Hashlimit) Print(b *strings.Builder, numeric bool) {
	if h.Above {
		b.WriteString(" limit: above")
	} else {
		b.WriteString(" limit: up to")
	}
	var quantum uint32
	if h.Bytes {
		quantum = printHashlimitBytes(b, h.Avg, h.Burst, "")
	} else {
		period := h.Avg
		if h.Interval != 0 {
			period *= uint64(h.Interval)
		}
		quantum = printHashlimitRate(b, period)
		fmt.Fprintf(b, " burst %d", h.Burst)
	}
	if h.Mode != 0 {
		b.WriteString(" mode")
		printHashlimitMode(b, h.Mode, "-")
	}
	h.printTail(b, quantum, "")
}

// The hot path. xt_hashlimit keeps one table per name (and family) in the
// network namespace; the first rule naming it creates it with its own
// configuration (htable_create copies the rule's cfg), and every rule
// naming it afterwards shares it, configuration included. gofw keeps the
// tables in the engine's Env (Env.Shared), so replacing the ruleset keeps
// every bucket. Unlike the kernel, which frees a table when its last rule
// goes, gofw keeps a table for the daemon's lifetime: a rule that comes back
// under the same name finds its old buckets and the configuration of the
// rule that first created the table (the kernel gives the same result
// whenever the old rule is still there when the new one is checked, as in
// -R and in a restore).

// Credits per jiffy of revision 3 on the virtual 1000 Hz clock: the
// largest powers of two with a day of credit in 64 bits (CREDITS_PER_JIFFY)
// and a second of byte credit in 32 bits (CREDITS_PER_JIFFY_BYTES).
const (
	hlCreditsPerJiffy      = hashlimitCreditsPerSecond / hz
	hlCreditsPerJiffyBytes = hashlimitByteCredits / hz
	hlByteCap              = hashlimitByteCredits // CREDITS_PER_JIFFY_BYTES * HZ
)

// hlShards is how many independently locked parts a table has, so workers
// hashing to different flows do not wait for each other (the kernel takes
// a per-entry lock and the table lock only to insert).
const (
	hlShardBits = 5
	hlShards    = 1 << hlShardBits
)

// hlGCPerPacket bounds the collection work a packet does on the side.
const hlGCPerPacket = 2

// hlKey is struct dsthash_dst for IPv4: the masked addresses and the ports
// the mode selects, zero where it selects nothing.
type hlKey struct {
	src, dst     uint32
	sport, dport uint16
}

// hlCfg is the table's configuration, struct hashlimit_cfg3 as
// htable_create copies it from the rule that creates the table, with the
// times in jiffies and size and max resolved. The size (the kernel's count
// of hash buckets) matters only through the default max, 8 × size: gofw's
// maps grow as the entries come.
type hlCfg struct {
	mode             HashlimitMode
	bytes, rateMatch bool
	avg, burst       uint64
	srcMask, dstMask uint8
	interval         uint32
	expire, gc       uint64 // jiffies
	size, max        uint32
}

// hlEntry is struct dsthash_ent. The kernel overlays the rate-match fields
// on the token-bucket ones (a union); gofw keeps both, which only matters
// to a rule whose mode differs from the table's.
type hlEntry struct {
	key     hlKey
	expires uint64 // jiffies
	prev    uint64 // jiffies of the last recalculation

	credit, creditCap, cost uint64 // token bucket

	interval    uint32 // rate match
	prevWindow  bool
	currentRate uint64
	rate        uint64
	burst       int64

	older, newer *hlEntry // the shard's list, least recently used first
}

// hlShard is one part of a table: its entries by key, and the same
// entries from least to most recently used. Every entry of a table gets
// the same lifetime on each packet, so least recently used is also
// soonest to expire, and expired entries are collected from the old end.
type hlShard struct {
	mu             sync.Mutex
	m              map[hlKey]*hlEntry
	oldest, newest *hlEntry
	_              [64]byte // keep neighbouring locks off one cache line
}

// hlTable is struct xt_hashlimit_htable.
type hlTable struct {
	cfg   hlCfg
	seed  uint64
	count atomic.Int64  // entries, against cfg.max
	sweep atomic.Uint32 // next shard for side collection
	// swept is 1 + the collector run (now / gc) after which the whole
	// table was last swept: nothing becomes collectible before the next
	// run, so a full table is swept at most once per run.
	swept  atomic.Uint64
	shards [hlShards]hlShard
}

// hashlimitDefaultSize is htable_create's default bucket count: a bucket
// per 128 KiB of memory, 8192 above 1 GiB, at least 16.
func hashlimitDefaultSize() uint32 {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return 8192
	}
	ram := uint64(si.Totalram) * uint64(si.Unit)
	if ram > 1<<30 {
		return 8192
	}
	return uint32(max(ram/16384/8, 16))
}

func newHLTable(h *Hashlimit) *hlTable {
	c := hlCfg{
		mode: h.Mode, bytes: h.Bytes, rateMatch: h.RateMatch,
		avg: h.Avg, burst: h.Burst, srcMask: h.SrcMask, dstMask: h.DstMask,
		interval: h.Interval, expire: msecsToJiffies(h.Expire), gc: msecsToJiffies(h.GCInterval),
		size: h.Size, max: h.Max,
	}
	if c.size == 0 {
		c.size = hashlimitDefaultSize()
	}
	switch {
	case c.max == 0:
		c.max = 8 * c.size
	case c.max < c.size:
		c.max = c.size
	}
	c.gc = max(c.gc, 1) // Check refuses 0; a table must tick
	t := &hlTable{cfg: c, seed: rand.Uint64()}
	for i := range t.shards {
		t.shards[i].m = map[hlKey]*hlEntry{}
	}
	return t
}

// Bind implements Binder: the rule joins the table of its name, creating
// it with this rule's configuration if it is the first.
func (h *Hashlimit) Bind(env *Env) error {
	t, ok := env.Shared("hashlimit", h.Name, func() any { return newHLTable(h) }).(*hlTable)
	if !ok {
		return fmt.Errorf("hashlimit table %q is not a hashlimit table", h.Name)
	}
	h.table.Store(t)
	return nil
}

// hlMaskl is maskl: the top l bits of a.
func hlMaskl(a uint32, l uint8) uint32 {
	if l == 0 {
		return 0
	}
	return a & (^uint32(0) << (32 - l))
}

// hlPortsOffset is proto_ports_offset: where a protocol keeps the 32 bits
// hashlimit reads as ports (an SPI for ESP and AH), or -1.
func hlPortsOffset(proto uint8) int {
	switch proto {
	case packet.ProtoTCP, packet.ProtoUDP, packet.ProtoDCCP, packet.ProtoSCTP, packet.ProtoUDPLite, 50: // 50: ESP
		return 0
	case 51: // AH
		return 4
	}
	return -1
}

// key is hashlimit_init_dst for IPv4. The ports are read at the end of
// the IP header whatever the packet is, as the kernel reads them at
// par->thoff: a non-first fragment gives the first bytes of its data. ok
// is false (the kernel's hotdrop) when the datagram is too short for them.
func (t *hlTable) key(p *packet.Packet) (k hlKey, ok bool) {
	c := &t.cfg
	if c.mode&HashDstIP != 0 {
		a := p.Dst.As4()
		k.dst = hlMaskl(binary.BigEndian.Uint32(a[:]), c.dstMask)
	}
	if c.mode&HashSrcIP != 0 {
		a := p.Src.As4()
		k.src = hlMaskl(binary.BigEndian.Uint32(a[:]), c.srcMask)
	}
	if c.mode&(HashDstPort|HashSrcPort) == 0 {
		return k, true
	}
	var sport, dport uint16
	if off := hlPortsOffset(p.Proto); off >= 0 {
		at := p.HdrLen + off
		if at < 0 || at+4 > len(p.Data) {
			return k, false
		}
		sport = binary.BigEndian.Uint16(p.Data[at:])
		dport = binary.BigEndian.Uint16(p.Data[at+2:])
	}
	if c.mode&HashSrcPort != 0 {
		k.sport = sport
	}
	if c.mode&HashDstPort != 0 {
		k.dport = dport
	}
	return k, true
}

func (t *hlTable) shardOf(k hlKey) *hlShard {
	h := (uint64(k.src)<<32 | uint64(k.dst)) ^ t.seed
	h ^= uint64(k.sport)<<16 | uint64(k.dport)
	h *= 0x9e3779b97f4a7c15
	return &t.shards[h>>(64-hlShardBits)]
}

// collectible reports whether the kernel's collector would have freed e by
// now: it runs every gc_interval and frees the entries whose expiry has
// come (select_gc), so an expired entry stays usable until the next run.
// gofw's runs fall on the multiples of the interval on the engine clock.
func (t *hlTable) collectible(e *hlEntry, now uint64) bool {
	g := t.cfg.gc
	run := (e.expires + g - 1) / g * g
	return !timeAfter(run, now)
}

func (s *hlShard) unlink(e *hlEntry) {
	if e.older != nil {
		e.older.newer = e.newer
	} else {
		s.oldest = e.newer
	}
	if e.newer != nil {
		e.newer.older = e.older
	} else {
		s.newest = e.older
	}
	e.older, e.newer = nil, nil
}

func (s *hlShard) push(e *hlEntry) {
	e.older = s.newest
	if s.newest != nil {
		s.newest.newer = e
	} else {
		s.oldest = e
	}
	s.newest = e
}

// remove is dsthash_free.
func (s *hlShard) remove(t *hlTable, e *hlEntry) {
	s.unlink(e)
	delete(s.m, e.key)
	t.count.Add(-1)
}

// collect frees up to n collectible entries from the old end (n < 0: all
// of them). The caller holds s.mu.
func (s *hlShard) collect(t *hlTable, now uint64, n int) {
	for e := s.oldest; e != nil && n != 0 && t.collectible(e, now); e = s.oldest {
		s.remove(t, e)
		n--
	}
}

// sideCollect does a little of the collector's work in another shard, if
// nobody holds it, so that idle shards are emptied without a sweep that
// stops the world.
func (t *hlTable) sideCollect(now uint64) {
	s := &t.shards[t.sweep.Add(1)%hlShards]
	if s.mu.TryLock() {
		s.collect(t, now, hlGCPerPacket)
		s.mu.Unlock()
	}
}

// reserve takes a place for a new entry, after collecting everything the
// kernel's collector would have freed by now if the table is full. It
// reports false when the table is at htable-max, where dsthash_alloc_init
// refuses the entry. The caller holds no shard lock.
func (t *hlTable) reserve(now uint64) bool {
	max := int64(t.cfg.max)
	for swept := false; ; {
		c := t.count.Load()
		if c < max {
			if t.count.CompareAndSwap(c, c+1) {
				return true
			}
			continue
		}
		run := now/t.cfg.gc + 1
		if swept || t.swept.Load() == run {
			return false
		}
		for i := range t.shards {
			s := &t.shards[i]
			s.mu.Lock()
			s.collect(t, now, -1)
			s.mu.Unlock()
		}
		t.swept.Store(run)
		swept = true
	}
}

// user2rate and user2rate_bytes: a rate-match rate per second from a cost.
func hlUserToRate(user uint64) uint64 {
	if user == 0 {
		return 0
	}
	return hashlimitScale / user
}

func hlUserToRateBytes(user uint32) uint64 {
	r := uint64(math.MaxUint32)
	if user != 0 {
		r = math.MaxUint32 / uint64(user)
	}
	return (r - 1) << hashlimitByteShift
}

// hlUserToCreditsBytes is user2credits_byte.
func hlUserToCreditsBytes(user uint32) uint64 {
	return uint64(uint32(uint64(user) * hashlimitByteCredits >> 32))
}

// init is rateinfo_init, from the table's configuration.
func (t *hlTable) init(e *hlEntry, now uint64) {
	c := &t.cfg
	e.prev = now
	switch {
	case c.rateMatch:
		e.prevWindow, e.currentRate = false, 0
		if c.bytes {
			e.rate = hlUserToRateBytes(uint32(c.avg))
			e.burst = int64(e.rate)
			if c.burst != 0 {
				e.burst = int64(c.burst * e.rate)
			}
		} else {
			e.rate = hlUserToRate(c.avg)
			e.burst = int64(c.burst + e.rate)
		}
		e.interval = c.interval
	case c.bytes:
		e.credit = hlByteCap
		e.cost = hlUserToCreditsBytes(uint32(c.avg))
		e.creditCap = c.burst
	default:
		e.credit = hashlimitCredits(c.avg * c.burst)
		e.cost = hashlimitCredits(c.avg)
		e.creditCap = e.credit
	}
}

// recalc is rateinfo_recalc: refill the bucket for the jiffies since the
// last packet (in 64 bits that wrap, as the kernel's), or close a
// rate-match window. A packet stamped before the last one (another
// worker's clock) changes nothing, as a jiffy difference of 0 does.
func (t *hlTable) recalc(e *hlEntry, now uint64) {
	if !timeAfter(now, e.prev) {
		return
	}
	delta := now - e.prev
	c := &t.cfg
	if c.rateMatch {
		interval := uint64(e.interval) * hz
		if delta < interval {
			return
		}
		e.prev = now
		e.prevWindow = e.currentRate*interval > delta*e.rate
		e.currentRate = 0
		return
	}
	e.prev = now
	limit := e.creditCap
	if c.bytes {
		old := e.credit
		e.credit += hlCreditsPerJiffyBytes * delta
		limit = hlByteCap
		if old >= e.credit { // wrapped
			e.credit = limit
			return
		}
	} else {
		e.credit += delta * hlCreditsPerJiffy
	}
	if e.credit > limit {
		e.credit = limit
	}
}

// byteCost is hashlimit_byte_cost: the cost of a packet of n bytes in
// 16-byte chunks, capped at a second of credit; an empty bucket is
// refilled from the burst count while it lasts.
func (e *hlEntry) byteCost(n int) uint64 {
	cost := uint64(uint32(n)>>hashlimitByteShift+1) * e.cost
	cost = min(cost, hlByteCap)
	if e.credit < cost && e.creditCap != 0 {
		e.creditCap--
		e.credit = hlByteCap
	}
	return uint64(uint32(cost))
}

// Match implements Matcher as hashlimit_mt_common does: find (or create)
// the packet's entry, push its expiry forward, refill it, and compare
// the packet's cost with its credit, or its rate with the window's in
// rate-match mode. A packet whose entry cannot be created because the
// table is at htable-max is dropped (hotdrop), as in the kernel. The
// entry's key, refill and expiry follow the table's configuration; the
// cost, the mode of comparison and the inversion follow the rule's.
//
// Called for every packet; a packet of an existing entry does not
// allocate.
func (h *Hashlimit) Match(p *packet.Packet) bool {
	t := h.table.Load()
	if t == nil || !p.Src.Is4() || !p.Dst.Is4() {
		return false
	}
	k, ok := t.key(p)
	if !ok {
		p.Hotdrop = true
		return false
	}
	now := jiffies(p.Now)
	t.sideCollect(now)
	s := t.shardOf(k)
	s.mu.Lock()
	s.collect(t, now, hlGCPerPacket)
	e := s.m[k]
	if e != nil && t.collectible(e, now) {
		s.remove(t, e)
		e = nil
	}
	if e == nil {
		s.mu.Unlock()
		if !t.reserve(now) {
			p.Hotdrop = true
			return false
		}
		s.mu.Lock()
		if e = s.m[k]; e != nil {
			// Another worker created it meanwhile (the kernel's race
			// in dsthash_alloc_init): use that one.
			t.count.Add(-1)
		}
	}
	if e == nil {
		e = &hlEntry{key: k}
		s.m[k] = e
		s.push(e)
		e.expires = now + t.cfg.expire
		t.init(e, now)
	} else {
		e.expires = now + t.cfg.expire
		t.recalc(e, now)
		s.unlink(e)
		s.push(e)
	}
	ok = h.pass(e, p.WireLen())
	s.mu.Unlock()
	return ok
}

// pass is the end of hashlimit_mt_common: under the limit means a match,
// unless the rule is --hashlimit-above (XT_HASHLIMIT_INVERT).
func (h *Hashlimit) pass(e *hlEntry, n int) bool {
	if h.RateMatch {
		cost := uint64(1)
		if h.Bytes {
			cost = uint64(n)
		}
		e.currentRate += cost
		under := !e.prevWindow && e.currentRate <= uint64(e.burst)
		return under != h.Above
	}
	cost := e.cost
	if h.Bytes {
		cost = e.byteCost(n)
	}
	if e.credit >= cost {
		e.credit -= cost
		return !h.Above
	}
	return h.Above
}
