package conntrack

import (
	"sync"
	"testing"
	"time"
)

// TestConcurrent runs packet workers on overlapping flows (both
// directions of the same connections, so entries are shared), a GC, a
// lister, a subscriber and flushes at the same time. Run with -race; the
// invariant checked at the end is that the count matches what is listed.
func TestConcurrent(t *testing.T) {
	tb, _ := newTestTable(t, Config{Max: 500, Shards: 4})
	sub := tb.Subscribe(64, 0, nil)
	var now sync.Mutex
	clk := int64(1000 * time.Second)
	tick := func() int64 {
		now.Lock()
		defer now.Unlock()
		clk += int64(time.Millisecond)
		return clk
	}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 3000; i++ {
				p := uint16(i % 97)
				var s *Segment
				switch (i + w) % 4 {
				case 0:
					s = seg(tcp, cli, srv, 1000+p, 80, SYN).sa(1, 0)
				case 1:
					s = seg(tcp, srv, cli, 80, 1000+p, SYNACK).sa(9, 2)
				case 2:
					s = seg(udp, cli, srv, 2000+p, 53, 0)
				case 3:
					s = seg(udp, srv, cli, 53, 2000+p, 0)
				}
				c, info, v := tb.In(s, tick())
				if c != nil && v == Accept {
					if i%13 == 0 {
						tb.Discard(c)
					} else {
						c.SetMark(uint32(i))
						tb.Confirm(c, info, tick())
					}
				}
			}
		}(w)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-sub.C:
			}
		}
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			tb.GCStep(tick(), 64)
			tb.List(ListConntrack, &Filter{Unreplied: true}, tick())
			tb.List(ListUnconfirmed, nil, tick())
			if i%50 == 0 {
				tb.Flush(tick())
			}
		}
	}()
	wg.Wait()
	close(done)
	sub.Close()
	if n, l := tb.Count(), len(tb.List(ListConntrack, nil, clk)); n != l {
		t.Errorf("count %d, listed %d", n, l)
	}
}
