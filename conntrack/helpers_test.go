package conntrack

import (
	"net/netip"
	"testing"
	"time"
)

// Test addresses: 198.18.0.0/15 only.
const (
	cli = "198.18.0.1"
	srv = "198.18.0.2"
	rtr = "198.18.0.254"
)

const (
	tcp  = ProtoTCP
	udp  = ProtoUDP
	icmp = ProtoICMP
)

// Flag shorthands for segment tables.
const (
	SYN    = TCPSyn
	SYNACK = TCPSyn | TCPAck
	ACK    = TCPAck
	FIN    = TCPFin | TCPAck
	RST    = TCPRst
	RSTACK = TCPRst | TCPAck
	PSH    = TCPPsh | TCPAck
)

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

// seg builds a segment like tailscale's pkt(): seg(tcp, src, dst, sport,
// dport, flags). Sequence numbers are set with the methods below.
func seg(proto uint8, src, dst string, sport, dport uint16, flags uint8) *Segment {
	return &Segment{
		Tuple:    MakeTuple(ip(src), ip(dst), proto, sport, dport),
		Len:      60,
		TCPFlags: flags,
		HdrLen:   20,
		Window:   65535,
	}
}

func (s *Segment) sa(seq, ack uint32) *Segment { s.Seq, s.Ack = seq, ack; return s }
func (s *Segment) data(n uint32) *Segment      { s.PayloadLen = n; s.Len += n; return s }
func (s *Segment) win(w uint16) *Segment       { s.Window = w; return s }
func (s *Segment) zone(z uint16) *Segment      { s.Zone = z; return s }

func icmpSeg(src, dst string, typ, code uint8, id uint16) *Segment {
	return &Segment{Tuple: MakeICMPTuple(ip(src), ip(dst), ProtoICMP, typ, code, id), Len: 84}
}

// icmpErr builds an ICMP error from src to dst quoting inner.
func icmpErr(src, dst string, typ, code uint8, inner Tuple) *Segment {
	s := icmpSeg(src, dst, typ, code, 0)
	s.Inner = inner
	return s
}

// clock is the injected clock: tests move it, never sleep.
type clock struct{ now int64 }

func (c *clock) add(d time.Duration) int64 { c.now += int64(d); return c.now }

func newTestTable(t testing.TB, cfg Config) (*Table, *clock) {
	t.Helper()
	if cfg.Shards == 0 {
		cfg.Shards = 16
	}
	clk := &clock{now: int64(1000 * time.Second)}
	cfg.Clock = func() int64 { return clk.now }
	return NewTable(cfg), clk
}

// pass runs a segment through the table as a packet crossing the box does:
// In at the first hook, Confirm at the last.
func pass(tb *Table, s *Segment, now int64) (*Conn, CtInfo, Verdict) {
	c, info, v := tb.In(s, now)
	if c != nil && v == Accept {
		var v2 Verdict
		c, v2 = tb.Confirm(c, info, now)
		if v2 == Drop {
			return nil, info, Drop
		}
	}
	return c, info, v
}

// handshake opens a TCP connection cli:sport → srv:dport with client ISN
// 1000 and server ISN 5000 and returns the entry.
func handshake(t *testing.T, tb *Table, now int64, sport, dport uint16) *Conn {
	t.Helper()
	steps := []*Segment{
		seg(tcp, cli, srv, sport, dport, SYN).sa(1000, 0),
		seg(tcp, srv, cli, dport, sport, SYNACK).sa(5000, 1001),
		seg(tcp, cli, srv, sport, dport, ACK).sa(1001, 5001),
	}
	var c *Conn
	for i, s := range steps {
		var info CtInfo
		c, info, _ = pass(tb, s, now)
		if c == nil {
			t.Fatalf("handshake step %d: INVALID (%v)", i, info)
		}
	}
	if st := c.TCPState(); st != TCPEstablished {
		t.Fatalf("handshake: state %v, want ESTABLISHED", st)
	}
	return c
}

func secs(c *Conn, now int64) int64 { return int64(c.Timeout(now) / time.Second) }
