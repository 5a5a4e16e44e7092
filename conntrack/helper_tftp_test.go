package conntrack

import (
	"strings"
	"testing"
)

// tftpRequest runs a UDP request cli:sport → srv:69 through the table as
// a packet crossing the box does with -j CT --helper tftp: the helper runs
// at the confirm hook, before the confirmation. nat, if set, binds the
// entry first. It returns the master and the helper's verdict.
func tftpRequest(t *testing.T, tb *Table, now int64, sport uint16, payload string, nat func(c *Conn)) (*Conn, Verdict) {
	t.Helper()
	c, info, _ := tb.In(seg(udp, cli, srv, sport, 69, 0).data(uint32(len(payload))), now)
	if c == nil {
		t.Fatal("request: no entry")
	}
	if c.Status()&StatusConfirmed == 0 {
		if err := c.SetHelper("tftp"); err != nil {
			t.Fatal(err)
		}
		if nat != nil {
			nat(c)
		}
	}
	v, _ := tb.Help(c, &HelperPacket{Info: info, Payload: []byte(payload), Now: now})
	if v != Accept {
		return c, v
	}
	if _, cv := tb.Confirm(c, info, now); cv != Accept {
		t.Fatal("request: confirm failed")
	}
	return c, v
}

// TestTFTPHelper: read and write requests expect the server's answer from
// any port to the client's address and port; other opcodes do nothing.
func TestTFTPHelper(t *testing.T) {
	rows := []struct {
		name    string
		payload string
		want    string // the expectation listing
	}{
		{"RRQ", "\x00\x01file\x00octet\x00",
			"300 proto=17 src=198.18.0.2 dst=198.18.0.1 sport=0 dport=42069 mask-src=255.255.255.255 mask-dst=255.255.255.255 sport=0 dport=65535 master-src=198.18.0.1 master-dst=198.18.0.2 sport=42069 dport=69 class=0 helper=tftp"},
		{"WRQ", "\x00\x02file\x00octet\x00",
			"300 proto=17 src=198.18.0.2 dst=198.18.0.1 sport=0 dport=42069 mask-src=255.255.255.255 mask-dst=255.255.255.255 sport=0 dport=65535 master-src=198.18.0.1 master-dst=198.18.0.2 sport=42069 dport=69 class=0 helper=tftp"},
		{"DATA", "\x00\x03\x00\x01data", ""},
		{"ACK", "\x00\x04\x00\x01", ""},
		{"ERROR", "\x00\x05\x00\x01oops\x00", ""},
		{"one byte", "\x00", ""},
		{"empty", "", ""},
	}
	for _, r := range rows {
		tb, clk := newTestTable(t, Config{})
		tftpRequest(t, tb, clk.now, 42069, r.payload, nil)
		if got := strings.Join(expectLines(tb, clk.now), " / "); got != r.want {
			t.Errorf("%s: expectations\n got %q\nwant %q", r.name, got, r.want)
		}
	}
}

// TestTFTPTransfer: the server's answer from a fresh port is RELATED to
// the request, with and without MASQUERADE on the client; through NAT it
// is mapped back to the client's own address and port.
func TestTFTPTransfer(t *testing.T) {
	rows := []struct {
		name      string
		masq      bool
		wantReply string // the answer's reply tuple
	}{
		{"plain", false, "src=198.18.0.1 dst=198.18.0.2 sport=42069 dport=50069"},
		// SNAT moves the client's port too: the answer comes to port
		// 2000 and is mapped back to 42069 (the saved port).
		{"source NAT", true, "src=198.18.0.1 dst=198.18.0.2 sport=42069 dport=50069"},
	}
	for _, r := range rows {
		tb, clk := newTestTable(t, Config{})
		now := clk.now
		var nat func(c *Conn)
		if r.masq {
			nat = func(c *Conn) {
				rg := NATRange{Flags: NATMapIPs | NATProtoSpecified, MinAddr: ip(rtr), MaxAddr: ip(rtr), MinPort: 2000, MaxPort: 2000}
				tb.SetupNAT(c, &rg, ManipSrc, now)
			}
		}
		m, v := tftpRequest(t, tb, now, 42069, "\x00\x01file\x00octet\x00", nat)
		if v != Accept {
			t.Fatalf("%s: request %v", r.name, v)
		}
		// The answer goes where the request seemed to come from.
		to := m.Tuple(Reply)
		if r.masq && (to.DstAddr() != ip(rtr) || to.DstPort != 2000) {
			t.Fatalf("%s: master reply tuple %v", r.name, to)
		}
		c, info, _ := pass(tb, seg(udp, srv, to.DstAddr().String(), 50069, to.DstPort, 0).data(516), now)
		if c == nil || info != Related || c.Master() != m {
			t.Fatalf("%s: answer %v %v", r.name, c != nil, info)
		}
		if got := c.Tuple(Reply).String(); got != r.wantReply {
			t.Errorf("%s: answer's reply tuple %s, want %s", r.name, got, r.wantReply)
		}
		if r.masq && c.Status()&(StatusDstNAT|StatusSrcNATDone|StatusDstNATDone) != StatusDstNAT|StatusSrcNATDone|StatusDstNATDone {
			t.Errorf("%s: answer status %v", r.name, c.Status())
		}
		if tb.ExpectCount() != 0 {
			t.Errorf("%s: expectation not used up", r.name)
		}
	}
}

// TestTFTPUnconfirmedMaster: the expectation is registered on the request
// before its entry is confirmed; it matches nothing until then, and goes
// away with a master that is never confirmed (destroy_conntrack).
func TestTFTPUnconfirmedMaster(t *testing.T) {
	tb, clk := newTestTable(t, Config{})
	now := clk.now
	c, info, _ := tb.In(seg(udp, cli, srv, 42070, 69, 0).data(20), now)
	c.SetHelper("tftp")
	if v, _ := tb.Help(c, &HelperPacket{Info: info, Payload: []byte("\x00\x01f\x00octet\x00"), Now: now}); v != Accept {
		t.Fatal("request dropped")
	}
	if tb.ExpectCount() != 1 || c.Use() != 1 {
		t.Fatalf("expectations %d, master use %d", tb.ExpectCount(), c.Use())
	}
	// An answer racing the confirmation is not RELATED.
	a, ainfo, _ := tb.In(seg(udp, srv, cli, 50070, 42070, 0).data(20), now)
	if ainfo != New {
		t.Errorf("answer before the master's confirmation: %v, want NEW", ainfo)
	}
	tb.Discard(a)
	tb.Discard(c)
	tb.RemoveExpectsOf(c, now)
	if tb.ExpectCount() != 0 {
		t.Error("expectation outlived its unconfirmed master")
	}
}
