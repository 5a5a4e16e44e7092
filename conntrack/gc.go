package conntrack

import (
	"context"
	"sync"
	"time"
)

// gcState is where the incremental GC resumes (conntrack_gc_work).
type gcState struct {
	mu    sync.Mutex
	shard int
	pos   int
}

// GCStep runs one bounded step of the garbage collector at now, like one
// pass of the kernel's gc_worker: it scans at most budget index slots from
// where the previous step stopped, deletes the expired entries it meets
// (DESTROY events), expires expectations and retries owed DESTROY events.
// After a "table full" drop it also evicts, while the table is at 95 % of
// Max or more, every unassured entry and every ASSURED TCP entry in a
// closing state (gc_worker_can_early_drop), until a full pass completes.
//
// It never stops the world: each shard is locked only while its slots are
// read, and entries are deleted after the lock is released. It returns the
// number of slots scanned and entries deleted.
func (t *Table) GCStep(now int64, budget int) (scanned, killed int) {
	t.gc.mu.Lock()
	defer t.gc.mu.Unlock()
	evict := t.gcEarlyDrop.Load() && t.cfg.Max > 0 && t.count.Load() >= int64(t.cfg.Max/100*95)
	var victims [64]*Conn
	for visited := 0; scanned < budget && visited <= len(t.shards); {
		s := &t.shards[t.gc.shard]
		n := 0
		s.mu.Lock()
		for t.gc.pos < len(s.slots) && scanned < budget && n < len(victims) {
			c, w := s.slots[t.gc.pos], s.words[t.gc.pos]
			t.gc.pos++
			scanned++
			// Visit every entry once: under its original slot, or its
			// reply slot for a NAT-clash entry (it has no other).
			if c == nil || (wordDir(w) == Reply && c.Status()&StatusNATClash == 0) {
				continue
			}
			if c.expired(now) || (evict && gcCanEarlyDrop(c)) {
				victims[n] = c
				n++
			}
		}
		done := t.gc.pos >= len(s.slots)
		s.mu.Unlock()
		for _, c := range victims[:n] {
			if c.Offloaded() && !t.expired(c, now) {
				continue // brought back, not deleted
			}
			if t.kill(c, now) {
				killed++
			}
		}
		if done {
			visited++
			t.gc.pos = 0
			t.gc.shard++
			if t.gc.shard == len(t.shards) {
				// A full pass ends the eviction mode.
				t.gc.shard = 0
				t.gcEarlyDrop.Store(false)
				evict = false
			}
		}
	}
	t.expireExpects(now)
	t.dying.redeliver()
	return scanned, killed
}

// gcCanEarlyDrop is gc_worker_can_early_drop.
func gcCanEarlyDrop(c *Conn) bool {
	st := c.Status()
	if st&StatusDying != 0 || st&StatusConfirmed == 0 {
		return false
	}
	if st&StatusAssured == 0 {
		return true
	}
	return c.Proto() == ProtoTCP && tcpCanEarlyDrop(c.TCPState())
}

// gcFullPass is how long RunGC takes to cover the whole table once; the
// kernel's gc_worker aims at a similar bound (GC_SCAN_INTERVAL_MAX is 60 s,
// usually much less).
const gcFullPass = 10 * time.Second

// RunGC runs GCStep every interval, on Config.Clock, until ctx is done.
// Each step scans enough slots to cover the table in about ten seconds.
func (t *Table) RunGC(ctx context.Context, interval time.Duration) {
	tk := time.NewTicker(interval)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			t.GCStep(t.cfg.Clock(), t.gcBudget(interval))
		}
	}
}

// gcBudget is the number of slots one step must scan for a full pass per
// gcFullPass.
func (t *Table) gcBudget(interval time.Duration) int {
	slots := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		slots += len(s.slots)
		s.mu.Unlock()
	}
	return max(1024, int(int64(slots)*int64(interval)/int64(gcFullPass)))
}
