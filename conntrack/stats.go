package conntrack

import (
	"strconv"
	"sync/atomic"
)

// counters are the table's statistics (struct ip_conntrack_stat).
type counters struct {
	found, invalid, insert, insertFailed, drop, earlyDrop, error,
	searchRestart, clashResolve, chainTooLong,
	expectNew, expectCreate, expectDelete atomic.Uint64
}

// Stats is a snapshot of the counters conntrack -S shows, with the
// kernel's meanings:
type Stats struct {
	Found         uint64 // NAT's tuple-taken test hit another entry
	Invalid       uint64 // packets that got no entry (INVALID), the ICMP error path excepted
	Insert        uint64 // entries created by Insert (conntrack -I); packets' entries are not counted
	InsertFailed  uint64 // Confirm could not insert (clash, dying, chain too long)
	Drop          uint64 // packets dropped by the tracker (table full, lost clash)
	EarlyDrop     uint64 // unassured entries evicted to make room
	Error         uint64 // ICMP errors that matched nothing, bad ICMP packets
	SearchRestart uint64 // always 0: lookups hold the shard lock and never restart
	ClashResolve  uint64 // insert races resolved without dropping
	ChainTooLong  uint64 // inserts refused because the probe run was too long
	ExpectNew     uint64 // entries created from an expectation
	ExpectCreate  uint64 // expectations added
	ExpectDelete  uint64 // expectations removed (matched, timed out, master gone)
}

// Stats returns the current counters.
func (t *Table) Stats() Stats {
	c := &t.stats
	return Stats{
		Found: c.found.Load(), Invalid: c.invalid.Load(), Insert: c.insert.Load(),
		InsertFailed: c.insertFailed.Load(), Drop: c.drop.Load(), EarlyDrop: c.earlyDrop.Load(),
		Error: c.error.Load(), SearchRestart: c.searchRestart.Load(),
		ClashResolve: c.clashResolve.Load(), ChainTooLong: c.chainTooLong.Load(),
		ExpectNew: c.expectNew.Load(), ExpectCreate: c.expectCreate.Load(),
		ExpectDelete: c.expectDelete.Load(),
	}
}

func appendCPU(b []byte, cpu int) []byte {
	b = append(b, "cpu="...)
	n := len(b)
	b = strconv.AppendUint(b, uint64(cpu), 10)
	for len(b)-n < 4 { // %-4u
		b = append(b, ' ')
	}
	return append(b, '\t')
}

func appendKV(b []byte, k string, v uint64) []byte {
	b = append(b, k...)
	b = append(b, '=')
	b = strconv.AppendUint(b, v, 10)
	return append(b, ' ')
}

// AppendText appends the conntrack -S line for one CPU, byte for byte as
// conntrack-tools prints it (TAB after the padded cpu field, trailing
// blank), without the newline. gofw keeps one set of counters and prints
// it as cpu=0.
func (s Stats) AppendText(b []byte, cpu int) []byte {
	b = appendCPU(b, cpu)
	b = appendKV(b, "found", s.Found)
	b = appendKV(b, "invalid", s.Invalid)
	b = appendKV(b, "insert", s.Insert)
	b = appendKV(b, "insert_failed", s.InsertFailed)
	b = appendKV(b, "drop", s.Drop)
	b = appendKV(b, "early_drop", s.EarlyDrop)
	b = appendKV(b, "error", s.Error)
	b = appendKV(b, "search_restart", s.SearchRestart)
	b = appendKV(b, "clash_resolve", s.ClashResolve)
	b = appendKV(b, "chaintoolong", s.ChainTooLong)
	return b
}

// AppendExpectText appends the conntrack -S expect line for one CPU.
func (s Stats) AppendExpectText(b []byte, cpu int) []byte {
	b = appendCPU(b, cpu)
	b = appendKV(b, "expect_new", s.ExpectNew)
	b = appendKV(b, "expect_create", s.ExpectCreate)
	b = appendKV(b, "expect_delete", s.ExpectDelete)
	return b
}
