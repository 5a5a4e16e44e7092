package conntrack

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestNoAllocs backs the "must not allocate" claims: a packet of an
// established flow (TCP, UDP, ICMP; IPv4 and IPv6), through In and Confirm,
// allocates nothing.
func TestNoAllocs(t *testing.T) {
	tb, clk := newTestTable(t, Config{})
	now := clk.now
	handshake(t, tb, now, 40000, 22)
	pass(tb, seg(udp, cli, srv, 1, 53, 0), now)
	pass(tb, seg(udp, srv, cli, 53, 1, 0), now)
	pass(tb, icmpSeg(cli, srv, 8, 0, 9), now)
	v6 := &Segment{Tuple: MakeTuple(ip("fd00::1"), ip("fd00::2"), udp, 5, 6)}
	pass(tb, v6, now)
	rows := []struct {
		name string
		s    *Segment
	}{
		{"tcp established", seg(tcp, cli, srv, 40000, 22, ACK).sa(1001, 5001)},
		{"tcp reply", seg(tcp, srv, cli, 22, 40000, ACK).sa(5001, 1001)},
		{"udp", seg(udp, cli, srv, 1, 53, 0)},
		{"icmp", icmpSeg(srv, cli, 0, 0, 9)},
		{"udp v6", v6},
		{"invalid flags", seg(tcp, cli, srv, 40000, 22, TCPSyn|TCPFin)},
	}
	for _, r := range rows {
		n := testing.AllocsPerRun(100, func() {
			c, info, _ := tb.In(r.s, now)
			tb.Confirm(c, info, now)
		})
		if n != 0 {
			t.Errorf("%s: %v allocs per packet, want 0", r.name, n)
		}
	}
}

// BenchmarkLookupEstablished: one packet of an established TCP flow
// (In + Confirm) in a table of 100 000 entries.
func BenchmarkLookupEstablished(b *testing.B) {
	tb, clk := newTestTable(b, Config{Max: -1, Shards: 256})
	now := clk.now
	fill(tb, 100000, now)
	handshakeNoFatal(tb, now, 40000)
	s := seg(tcp, cli, srv, 40000, 80, ACK).sa(1001, 5001)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, info, _ := tb.In(s, now)
		tb.Confirm(c, info, now)
	}
}

// BenchmarkLookupParallel: packets of established UDP flows from all CPUs,
// each goroutine on its own flows.
func BenchmarkLookupParallel(b *testing.B) {
	tb, clk := newTestTable(b, Config{Max: -1, Shards: 256})
	now := clk.now
	fill(tb, 100000, now)
	b.ReportAllocs()
	b.ResetTimer()
	var next atomic.Int32
	b.RunParallel(func(pb *testing.PB) {
		s := seg(udp, "198.18.0.1", "198.19.0.1", 0, 0, 0)
		s.Tuple.Dst[3] = 0
		i := int(next.Add(1)) * 7919
		for pb.Next() {
			s.Tuple.SrcPort = uint16(i % 100000)
			s.Tuple.DstPort = uint16((i % 100000) >> 16)
			c, info, _ := tb.In(s, now)
			tb.Confirm(c, info, now)
			i++
		}
	})
}

// BenchmarkInsert: a new UDP flow per packet (In + Confirm); the one
// allocation is the Conn.
func BenchmarkInsert(b *testing.B) {
	tb, clk := newTestTable(b, Config{Max: -1, Shards: 256})
	now := clk.now
	s := seg(udp, "198.18.0.1", "198.19.0.1", 0, 0, 0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Tuple.SrcPort = uint16(i)
		s.Tuple.DstPort = uint16(i >> 16)
		s.Tuple.Dst[2], s.Tuple.Dst[3] = byte(i>>24), byte(i>>32)
		c, info, _ := tb.In(s, now)
		tb.Confirm(c, info, now)
	}
}

// fill inserts n confirmed UDP entries with distinct tuples.
func fill(tb *Table, n int, now int64) {
	s := seg(udp, "198.18.0.1", "198.19.0.1", 0, 0, 0)
	for i := 0; i < n; i++ {
		s.Tuple.SrcPort = uint16(i)
		s.Tuple.DstPort = uint16(i >> 16)
		s.Tuple.Dst[3] = byte(i >> 24)
		c, info, _ := tb.In(s, now)
		tb.Confirm(c, info, now)
	}
}

func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkExpire1M fills a table with a million entries, reports the
// memory per entry (Conn plus index, measured on the heap) and the cost of
// expiring them all with GC steps.
func BenchmarkExpire1M(b *testing.B) {
	const n = 1 << 20
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		before := heapInUse()
		tb, clk := newTestTable(b, Config{Max: -1, Shards: 256})
		fill(tb, n, clk.now)
		after := heapInUse()
		if tb.Count() != n {
			b.Fatalf("count %d", tb.Count())
		}
		b.ReportMetric(float64(after-before)/n, "bytes/entry")
		now := clk.add(31 * time.Second)
		b.StartTimer()
		for tb.Count() > 0 {
			tb.GCStep(now, 1<<16)
		}
		b.StopTimer()
		runtime.KeepAlive(tb)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/expired")
}
