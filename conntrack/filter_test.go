package conntrack

import (
	"net/netip"
	"testing"
)

func ptr[T any](v T) *T { return &v }

// TestFilter covers the conntrack-tools filters of A.5.
func TestFilter(t *testing.T) {
	plain := Entry{Orig: tup(tcp, cli, srv, 40000, 22), Reply: tup(tcp, srv, cli, 22, 40000),
		Status: StatusConfirmed | StatusSeenReply | StatusAssured, State: TCPEstablished, Mark: 0x12}
	dnat := Entry{Orig: tup(tcp, cli, "198.18.100.254", 40956, 80), Reply: tup(tcp, "198.18.101.1", cli, 8080, 40956),
		Status: StatusConfirmed | StatusDstNAT}
	ping := Entry{Orig: icmpTup(cli, srv, 8, 7), Reply: icmpTup(srv, cli, 0, 7), Status: StatusConfirmed}
	rows := []struct {
		name string
		f    Filter
		e    Entry
		want bool
	}{
		{"empty filter", Filter{}, plain, true},
		{"proto tcp", Filter{Proto: ptr(uint8(tcp))}, plain, true},
		{"proto udp", Filter{Proto: ptr(uint8(udp))}, plain, false},
		{"family ipv6", Filter{Family: IPv6}, plain, false},
		{"orig src", Filter{OrigSrc: netip.PrefixFrom(ip(cli), 32)}, plain, true},
		{"orig src /24", Filter{OrigSrc: netip.MustParsePrefix("198.18.0.0/24")}, plain, true},
		{"orig dst other", Filter{OrigDst: netip.PrefixFrom(ip(cli), 32)}, plain, false},
		{"reply src", Filter{ReplySrc: netip.PrefixFrom(ip(srv), 32)}, plain, true},
		{"dport 22", Filter{OrigDport: ptr(uint16(22))}, plain, true},
		{"reply sport 23", Filter{ReplySport: ptr(uint16(23))}, plain, false},
		{"state ESTABLISHED", Filter{State: ptr(TCPEstablished)}, plain, true},
		{"state SYN_SENT", Filter{State: ptr(TCPSynSent)}, plain, false},
		{"mark 0x12", Filter{Mark: ptr(uint32(0x12))}, plain, true},
		{"mark 0x2/0xf", Filter{Mark: ptr(uint32(0x2)), MarkMask: 0xf}, plain, true},
		{"mark 0x3/0xf", Filter{Mark: ptr(uint32(0x3)), MarkMask: 0xf}, plain, false},
		{"status ASSURED", Filter{Status: StatusAssured}, plain, true},
		{"status ASSURED,SEEN_REPLY", Filter{Status: StatusAssured | StatusSeenReply}, plain, true},
		{"status UNREPLIED", Filter{Unreplied: true}, plain, false},
		{"status UNREPLIED on unreplied", Filter{Unreplied: true}, dnat, true},
		{"zone 7", Filter{Zone: ptr(uint16(7))}, plain, false},
		{"icmp type 8", Filter{ICMPType: ptr(uint8(8))}, ping, true},
		{"icmp id 8", Filter{ICMPID: ptr(uint16(8))}, ping, false},
		{"dst-nat any", Filter{DstNAT: true}, dnat, true},
		{"src-nat any", Filter{SrcNAT: true}, dnat, false},
		{"dst-nat to the DNAT target", Filter{DstNAT: true, NATAddr: ip("198.18.101.1")}, dnat, true},
		{"dst-nat elsewhere", Filter{DstNAT: true, NATAddr: ip("198.18.101.2")}, dnat, false},
		{"any-nat on a plain entry", Filter{AnyNAT: true}, plain, false},
		// The conntrack-tools quirk: every ICMP entry looks NATed.
		{"src-nat quirk on ping", Filter{SrcNAT: true}, ping, true},
		{"dst-nat quirk on ping", Filter{DstNAT: true}, ping, true},
	}
	for _, r := range rows {
		if got := r.f.MatchEntry(&r.e); got != r.want {
			t.Errorf("%s: got %v, want %v", r.name, got, r.want)
		}
	}
}

// TestListDelete: List and Delete honour filters and return snapshots.
func TestListDelete(t *testing.T) {
	tb, clk := newTestTable(t, Config{})
	now := clk.now
	handshake(t, tb, now, 40000, 22)
	pass(tb, seg(udp, cli, srv, 1, 53, 0), now)
	pass(tb, seg(udp, cli, srv, 2, 53, 0), now)
	if n := len(tb.List(ListConntrack, nil, now)); n != 3 {
		t.Fatalf("list %d, want 3", n)
	}
	f := &Filter{Proto: ptr(uint8(udp))}
	if n := len(tb.List(ListConntrack, f, now)); n != 2 {
		t.Errorf("udp list %d, want 2", n)
	}
	del := tb.Delete(f, now)
	if len(del) != 2 || tb.Count() != 1 {
		t.Errorf("deleted %d, count %d", len(del), tb.Count())
	}
	e, ok := tb.Get(tup(tcp, cli, srv, 40000, 22), 0, now)
	if !ok || e.State != TCPEstablished || e.Use != 1 {
		t.Errorf("Get: %v %v", ok, e)
	}
}
