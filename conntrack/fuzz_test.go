package conntrack

import (
	"testing"
	"time"
)

// FuzzSegments feeds random segment sequences over a small space of
// addresses and ports (so that packets meet the same flows), with random
// clock steps, GC steps, drops and flushes, to a small table. The
// properties: no panic; the table never holds more than Max entries;
// every listed entry is found again under both its tuples; counts agree.
func FuzzSegments(f *testing.F) {
	f.Add([]byte{0x00, 0x02, 0x00, 0x00, 0x01, 0x12, 0x10, 0x00, 0x00, 0x10, 0x11})
	f.Add([]byte("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"))
	addrs := []string{cli, srv, rtr, "198.18.1.1"}
	protos := []uint8{tcp, udp, icmp, 253, ProtoGRE, ProtoICMPv6}
	flags := []uint8{SYN, SYNACK, ACK, FIN, RST, RSTACK, PSH, 0, TCPFin, TCPSyn | TCPFin}
	f.Fuzz(func(t *testing.T, data []byte) {
		const max = 16
		tb, clk := newTestTable(t, Config{Max: max, Shards: 2})
		next := func() byte {
			if len(data) == 0 {
				return 0
			}
			b := data[0]
			data = data[1:]
			return b
		}
		for steps := 0; len(data) > 0 && steps < 2000; steps++ {
			op := next()
			switch op % 16 {
			case 0:
				clk.add(time.Duration(next()) * time.Second)
				continue
			case 1:
				tb.GCStep(clk.now, int(next()))
				continue
			case 2:
				if next()%8 == 0 {
					tb.Flush(clk.now)
				}
				continue
			}
			p := protos[int(next())%len(protos)]
			a, b := addrs[int(next())%len(addrs)], addrs[int(next())%len(addrs)]
			sp, dp := uint16(next()%4), uint16(next()%4)
			var s *Segment
			switch p {
			case icmp:
				s = icmpSeg(a, b, next()%20, 0, sp)
				if s.Tuple.ICMPType() == 3 {
					s.Inner = tup(udp, b, a, dp, sp)
				}
			case ProtoICMPv6:
				s = &Segment{Tuple: MakeICMPTuple(ip("fd00::1"), ip("fd00::2"), p, 120+next()%30, 0, sp)}
			default:
				s = seg(p, a, b, sp, dp, flags[int(next())%len(flags)])
				s.Seq = uint32(next()) << 8
				s.Ack = uint32(next()) << 8
				s.PayloadLen = uint32(next())
				s.Window = uint16(next()) << 4
				if next()%4 == 0 {
					s.HdrLen = 32
					s.HasWScale, s.WScale, s.SACKPerm = true, next()%20, true
				}
			}
			s.Malformed = op == 15
			c, info, v := tb.In(s, clk.now)
			if c != nil && v == Accept {
				if op%5 == 3 {
					tb.Discard(c)
				} else {
					tb.Confirm(c, info, clk.now)
				}
			}
			if c == nil && info != Invalid && info != Untracked {
				t.Fatalf("no entry but info %v", info)
			}
			if n := tb.Count(); n > max || n < 0 {
				t.Fatalf("count %d outside [0, %d]", n, max)
			}
		}
		listed := tb.List(ListConntrack, nil, clk.now)
		unconf := tb.List(ListUnconfirmed, nil, clk.now)
		if len(listed)+len(unconf) > tb.Count() {
			t.Fatalf("listed %d + unconfirmed %d > count %d", len(listed), len(unconf), tb.Count())
		}
		for _, e := range listed {
			for _, tu := range []Tuple{e.Orig, e.Reply} {
				c, _ := tb.Lookup(tu, e.Zone, clk.now)
				if c == nil && e.Timeout > 0 {
					t.Fatalf("listed entry %v not found by %v", e, tu)
				}
			}
			if e.Orig.Proto == tcp && e.State >= numTCPStates {
				t.Fatalf("bad TCP state %d", e.State)
			}
		}
	})
}
