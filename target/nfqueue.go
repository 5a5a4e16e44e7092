package target

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math/bits"
	"strings"
	"sync"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
)

// nfqueueInfo is the NFQUEUE target, revision 3 (libxt_NFQUEUE.c
// NFQUEUE_*_v3, xt_NFQUEUE.c): hand the packet to a user-space queue, or
// spread flows over a range of queues.
var nfqueueInfo = &Info{
	Name: "NFQUEUE",
	Opts: []match.Opt{
		{Name: "queue-num", Arg: true},
		{Name: "queue-balance", Arg: true},
		{Name: "queue-bypass"},
		{Name: "queue-cpu-fanout"},
	},
	New: func() Target { return &NFQueue{Total: 1} },
}

// nfqueueRules is NFQUEUE_opts: one queue or a range, and fan-out only
// over a range.
var nfqueueRules = []match.XtOptRule{
	{Name: "queue-num", Excl: []string{"queue-balance"}},
	{Name: "queue-balance", Excl: []string{"queue-num"}},
	{Name: "queue-cpu-fanout", Also: []string{"queue-balance"}},
}

// nfqueueBalanceMax is the highest queue --queue-balance may name, and what
// an open range end becomes. iptables 1.8.11 (a392cf0e) lowered it from
// 65535: a range ending at 65535 overflows queues_total and the kernel
// refuses it ("number of total queues is 0"). libxt_NFQUEUE.t expects the
// new behaviour.
const nfqueueBalanceMax = 65534

// NFQueueFlags are xt_NFQ_info_v3's flags.
type NFQueueFlags uint16

// The NFQUEUE flags.
const (
	// NFQueueBypass (NFQ_FLAG_BYPASS): accept the packet when no program
	// listens on the queue, instead of dropping it.
	NFQueueBypass NFQueueFlags = 0x01
	// NFQueueCPUFanout (NFQ_FLAG_CPU_FANOUT): pick the queue by CPU, not by
	// flow hash.
	NFQueueCPUFanout NFQueueFlags = 0x02
)

// NFQueue is one NFQUEUE target: queues Num to Num+Total-1.
type NFQueue struct {
	Num   uint16
	Total uint16 // 1 for a single queue
	Flags NFQueueFlags

	seen given
	seed uint32 // jhash_initval, set by Bind
}

// parseBalance reads "FIRST:LAST" as xtopt_parse_mint does for an
// XTTYPE_UINT16RC option whose .max is 65534: empty ends default to 0 and
// to the maximum, and each part is a C number.
func parseBalance(arg string) (vals []uint64, err error) {
	const ext, opt = "NFQUEUE", "queue-balance"
	for s := arg; ; {
		if len(vals) == 2 {
			return nil, grammar.ParamNLf("%s: Too many components for option \"--%s\" (max: 2)", ext, opt)
		}
		var v uint64
		rest := s
		if s == "" || s[0] == ':' {
			if len(vals) == 1 {
				v = nfqueueBalanceMax
			}
		} else {
			var ok bool
			v, rest, ok = match.XtStrtoul(s, 0, nfqueueBalanceMax)
			if !ok {
				return nil, grammar.ParamNLf("%s: bad value for option \"--%s\" near \"%s\", or out of range (0-%d).", ext, opt, s, nfqueueBalanceMax)
			}
			if rest != "" && rest[0] != ':' {
				return nil, grammar.ParamNLf("%s: Argument to \"--%s\" has unexpected characters near \"%s\".", ext, opt, rest)
			}
		}
		vals = append(vals, v)
		if rest == "" {
			return vals, nil
		}
		s = rest[1:]
	}
}

// Parse implements Target.
func (t *NFQueue) Parse(a *match.Arg) error {
	switch a.Name {
	case "queue-num":
		v, err := match.XtParseUint("NFQUEUE", a.Name, a.Value, 0, 0xffff)
		if err != nil {
			return err
		}
		t.Num = uint16(v)
	case "queue-balance":
		r, err := parseBalance(a.Value)
		if err != nil {
			return err
		}
		if len(r) != 2 {
			return grammar.Paramf("Bad range \"%s\"", a.Value)
		}
		if r[0] >= r[1] {
			return grammar.Paramf("%d should be less than %d", r[0], r[1])
		}
		t.Num, t.Total = uint16(r[0]), uint16(r[1]-r[0]+1)
	case "queue-bypass":
		t.Flags |= NFQueueBypass
	case "queue-cpu-fanout":
		t.Flags |= NFQueueCPUFanout
	}
	t.seen.add(a.Name)
	return nil
}

// Final implements Target.
func (t *NFQueue) Final(*match.Rule) error {
	return match.XtFcheck("NFQUEUE", nfqueueRules, t.seen)
}

// Save implements Target.
func (t *NFQueue) Save(b *strings.Builder) {
	if t.Total > 1 {
		fmt.Fprintf(b, " --queue-balance %d:%d", t.Num, uint32(t.Num)+uint32(t.Total)-1)
	} else {
		fmt.Fprintf(b, " --queue-num %d", t.Num)
	}
	if t.Flags&NFQueueBypass != 0 {
		b.WriteString(" --queue-bypass")
	}
	if t.Flags&NFQueueCPUFanout != 0 {
		b.WriteString(" --queue-cpu-fanout")
	}
}

// Print implements Target.
func (t *NFQueue) Print(b *strings.Builder, numeric bool) {
	if t.Total > 1 {
		fmt.Fprintf(b, " NFQUEUE balance %d:%d", t.Num, uint32(t.Num)+uint32(t.Total)-1)
	} else {
		fmt.Fprintf(b, " NFQUEUE num %d", t.Num)
	}
	if t.Flags&NFQueueBypass != 0 {
		b.WriteString(" bypass")
	}
	if t.Flags&NFQueueCPUFanout != 0 {
		b.WriteString(" cpu-fanout")
	}
}

// nfqueueSeed is xt_NFQUEUE.c's jhash_initval: random, drawn once when the
// first rule is bound (init_hashrandom) and shared by every rule, so that
// rulesets replaced later spread flows the same way.
var nfqueueSeed = sync.OnceValue(func() uint32 {
	var b [4]byte
	for binary.LittleEndian.Uint32(b[:]) == 0 {
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
	}
	return binary.LittleEndian.Uint32(b[:])
})

// Bind implements match.Binder: it gives the rule the flow hash seed.
func (t *NFQueue) Bind(*match.Env) error {
	t.seed = nfqueueSeed()
	return nil
}

// jhashFinal is jhash.h __jhash_final.
func jhashFinal(a, b, c uint32) uint32 {
	c ^= b
	c -= bits.RotateLeft32(b, 14)
	a ^= c
	a -= bits.RotateLeft32(c, 11)
	b ^= a
	b -= bits.RotateLeft32(a, 25)
	c ^= b
	c -= bits.RotateLeft32(b, 16)
	a ^= c
	a -= bits.RotateLeft32(c, 4)
	b ^= a
	b -= bits.RotateLeft32(a, 14)
	c ^= b
	c -= bits.RotateLeft32(b, 24)
	return c
}

// jhash3 is jhash.h jhash_3words.
func jhash3(a, b, c, initval uint32) uint32 {
	initval += 0xdeadbeef + 3<<2 // JHASH_INITVAL + (3 << 2)
	return jhashFinal(a+initval, b+initval, c+initval)
}

// nfqueueHashV4 is nf_queue.h hash_v4: the addresses in a fixed order, so
// that both directions of a flow land in one queue, and the protocol;
// ports are not hashed. The kernel reads the big-endian addresses as
// native u32s; gofw reads them little-endian, as x86 and arm64 do.
func nfqueueHashV4(p *packet.Packet, seed uint32) uint32 {
	s, d := p.Src.As4(), p.Dst.As4()
	a, b := binary.LittleEndian.Uint32(s[:]), binary.LittleEndian.Uint32(d[:])
	if a > b {
		a, b = b, a
	}
	return jhash3(a, b, uint32(p.Proto), seed)
}

// Do implements Doer as xt_NFQUEUE.c nfqueue_tg_v3: the queue is Num, or
// with --queue-balance Num plus the flow's share of Total
// (reciprocal_scale of nfqueue_hash), and --queue-bypass asks the datapath
// to accept the packet when no program listens on the queue.
//
// With --queue-cpu-fanout the kernel picks the queue by the CPU that runs
// the hook (Num + cpu % Total). gofw runs the ruleset on its own workers,
// and the NFQUEUE message that brought the packet does not say which CPU
// queued it; under RSS/RPS that CPU is a function of the flow, so gofw uses
// the flow hash instead. The difference shows only in which queue of the
// range a flow lands: the kernel's choice follows the receive hash, which
// is not symmetric, while gofw keeps both directions of a flow together.
//
// Called for every packet; must not allocate.
func (t *NFQueue) Do(p *packet.Packet) Verdict {
	q := uint32(t.Num)
	if t.Total > 1 && p.Family == 4 {
		q += uint32(uint64(nfqueueHashV4(p, t.seed)) * uint64(t.Total) >> 32) // reciprocal_scale
	}
	p.QueueNum = uint16(q)
	p.QueueBypass = t.Flags&NFQueueBypass != 0
	return Queued
}
