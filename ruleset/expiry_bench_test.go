package ruleset

import (
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/packet"
	"github.com/gofw/gofw/target"
)

// BenchmarkExpirySweepLatency measures what a full expiry sweep of a large
// connection table does to the packets still flowing (issue 6, "Memory and
// scale": no latency spike while conntrack expires 1 M entries). It reports
// percentiles of the verdict latency of established TCP packets (decode,
// PREROUTING and INPUT of a stateful 1 000-rule ruleset, conntrack lookup
// and confirm), first with 1 M live entries and no GC running (idle-*),
// then while the GC deletes all 1 M at once because their timeouts fell
// due together (sweep-*), how long that sweep took, and how often Go's own
// collector ran meanwhile and its longest pause.
//
// The sweep runs GCStep back to back in steps of sweepBudget slots, on its
// own goroutine, while this one times packets: gofwd's RunGC runs the same
// steps a second apart, so this is the sweep compressed, the worst case
// for contention. Each b.N iteration is one whole experiment (about ten
// seconds); run it once:
//
//	go test ./ruleset -run '^$' -bench ExpirySweepLatency -benchtime 1x
func BenchmarkExpirySweepLatency(b *testing.B) {
	const (
		entries     = 1 << 20
		flows       = 256     // established flows the timed packets belong to
		idlePackets = 1 << 20 // packets timed with no GC running
		maxSamples  = 1 << 23 // cap on packets timed during the sweep
		sweepBudget = 1 << 18 // slots per GCStep: RunGC's one-second step at ~2.6 M slots
	)
	var idle, sweep []int64
	var sweepTime time.Duration
	var gcCycles uint32
	var gcMaxPause uint64
	for i := 0; i < b.N; i++ {
		e := benchEngine(b, genRules(1000, true), false)
		ct := e.CT
		// The established flows first, at t0; then the entries that
		// expire, all created at t0 too. UDP entries that never saw a
		// reply time out after 30 s; the TCP flows are ESTABLISHED for
		// five days.
		t0 := int64(time.Second)
		send := flowSet(b, e, flows, t0)
		fillUDP(ct, entries, t0)
		if got := ct.Count(); got != entries+flows {
			b.Fatalf("table holds %d entries, want %d", got, entries+flows)
		}

		// Idle: the table full and live, nothing to expire, no GC.
		now := t0 + int64(time.Second)
		idle = slices.Grow(idle[:0], idlePackets)
		for k := 0; k < idlePackets; k++ {
			start := time.Now()
			v := send(k%flows, now)
			idle = append(idle, int64(time.Since(start)))
			if v != target.Accept {
				b.Fatalf("idle packet %d: verdict %v, want ACCEPT", k, v)
			}
		}

		// Sweep: every UDP entry is due; the GC deletes them while
		// packets keep coming.
		now = t0 + int64(31*time.Second)
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		var done atomic.Bool
		go func() {
			start := time.Now()
			for ct.Count() > flows {
				ct.GCStep(now, sweepBudget)
			}
			sweepTime = time.Since(start)
			done.Store(true)
		}()
		sweep = slices.Grow(sweep[:0], maxSamples)
		for k := 0; !done.Load() && len(sweep) < maxSamples; k++ {
			start := time.Now()
			v := send(k%flows, now)
			sweep = append(sweep, int64(time.Since(start)))
			if v != target.Accept {
				b.Fatalf("sweep packet %d: verdict %v, want ACCEPT", k, v)
			}
		}
		for !done.Load() {
			time.Sleep(time.Millisecond) // the cap was reached: let the sweep end
		}
		runtime.ReadMemStats(&ms1)
		gcCycles = ms1.NumGC - ms0.NumGC
		gcMaxPause = 0
		for c := ms0.NumGC; c < ms1.NumGC && ms1.NumGC-c <= 256; c++ {
			gcMaxPause = max(gcMaxPause, ms1.PauseNs[c%256])
		}
		if got := ct.Count(); got != flows {
			b.Fatalf("after the sweep the table holds %d entries, want the %d live flows", got, flows)
		}
	}
	report := func(name string, d []int64) {
		slices.Sort(d)
		b.ReportMetric(float64(pct(d, 50)), name+"-p50-ns")
		b.ReportMetric(float64(pct(d, 99)), name+"-p99-ns")
		b.ReportMetric(float64(pct(d, 99.9)), name+"-p999-ns")
		b.ReportMetric(float64(d[len(d)-1]), name+"-max-ns")
	}
	report("idle", idle)
	report("sweep", sweep)
	b.ReportMetric(float64(len(sweep)), "sweep-packets")
	b.ReportMetric(float64(sweepTime.Milliseconds()), "sweep-ms")
	// Go's own collector runs during the sweep too (the deleted entries
	// become garbage): its stop-the-world pauses are part of the tail.
	b.ReportMetric(float64(gcCycles), "sweep-go-gcs")
	b.ReportMetric(float64(gcMaxPause), "sweep-go-gc-max-pause-ns")
}

// pct is the p-th percentile of sorted d (nearest rank).
func pct(d []int64, p float64) int64 {
	k := int(float64(len(d))*p/100+0.5) - 1
	return d[min(max(k, 0), len(d)-1)]
}

// flowSet opens n ESTABLISHED TCP flows through e at time t and returns a
// function that sends one more ACK of flow k at a given time, through
// PREROUTING and INPUT, and returns the verdict.
func flowSet(b *testing.B, e *Engine, n int, t int64) func(k int, now int64) target.Verdict {
	var p packet.Packet
	run := func(data []byte, now int64) target.Verdict {
		p.ResetMeta()
		packet.Decode(data, &p)
		p.InIface = "eth0"
		p.Now = now
		if v := e.Hook(&p, packet.Prerouting, nil); v != target.Accept {
			return v
		}
		return e.Hook(&p, packet.Input, nil)
	}
	dst := netip.MustParseAddrPort("198.18.0.1:22")
	acks := make([][]byte, n)
	for k := range acks {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, 7, byte(k)}), 40000+uint16(k>>8))
		steps := [][]byte{
			packet.BuildTCP(src, dst, packet.TCPSyn, 100, 0, 65535, nil),
			packet.BuildTCP(dst, src, packet.TCPSyn|packet.TCPAck, 500, 101, 65535, nil),
		}
		for i, s := range steps {
			if v := run(s, t); v != target.Accept {
				b.Fatalf("flow %d: handshake step %d: verdict %v, want ACCEPT", k, i, v)
			}
		}
		acks[k] = packet.BuildTCP(src, dst, packet.TCPAck, 101, 501, 65535, nil)
		if v := run(slices.Clone(acks[k]), t); v != target.Accept || p.CtInfo != conntrack.Established {
			b.Fatalf("flow %d: ACK: verdict %v, state %v, want ACCEPT, ESTABLISHED", k, v, p.CtInfo)
		}
	}
	buf := make([]byte, len(acks[0]))
	return func(k int, now int64) target.Verdict {
		copy(buf, acks[k])
		return run(buf, now)
	}
}

// fillUDP adds n confirmed, unreplied UDP entries created at now, with
// tuples no flow of flowSet uses.
func fillUDP(ct *conntrack.Table, n int, now int64) {
	src := netip.MustParseAddr("198.18.100.1")
	for i := 0; i < n; i++ {
		dst := netip.AddrFrom4([4]byte{198, 19, byte(i >> 24), byte(i >> 16)})
		s := conntrack.Segment{Tuple: conntrack.MakeTuple(src, dst, conntrack.ProtoUDP, uint16(i), 53), Len: 28}
		c, info, _ := ct.In(&s, now)
		if c == nil {
			panic(fmt.Sprintf("entry %d: no conn", i))
		}
		ct.Confirm(c, info, now)
	}
}
