package conntrack

import (
	"testing"
)

// FuzzFTPParse feeds arbitrary control segments to the ftp parser and
// helper, in either direction, with and without NAT and loose. Properties:
// no panic; a match lies inside the segment; an expectation only ever
// names addresses of the control connection's tuples (its peers, and the
// NAT address standing for one), unless loose; and a rewritten command
// parses back to the port and address the expectation was registered at.
func FuzzFTPParse(f *testing.F) {
	for _, s := range []string{
		"PORT 198,18,0,1,195,80\r\n",
		"EPRT |1|198.18.0.1|50000|\r\n",
		"227 Entering Passive Mode (198,18,0,2,195,80).\r\n",
		"229 Entering Extended Passive Mode (|||50000|)\r\n",
		"PORT 198,18,0,9,0,22\r\n",
		"PORT 300,2,3,4,5,300\r\n",
		"227 (1,2,3,4,0,0)\r\n",
		"EPRT |2|fd00::1|50000|\r\n",
		"PORT",
	} {
		f.Add([]byte(s), false, false, false)
		f.Add([]byte(s), true, true, false)
	}
	f.Fuzz(func(t *testing.T, data []byte, reply, nat, loose bool) {
		dir := Original
		info := Established
		if reply {
			dir, info = Reply, EstablishedReply
		}
		own := ip(cli)
		if reply {
			own = ip(srv)
		}
		if m, res := ParseFTP(data, dir, own); res == FTPFound && (m.Off < 0 || m.Len <= 0 || m.Off+m.Len > len(data)) {
			t.Fatalf("match %d+%d outside %d bytes", m.Off, m.Len, len(data))
		}
		tb, clk := newTestTable(t, Config{FTPLoose: loose})
		now := clk.now
		var bind func(c *Conn)
		if nat {
			bind = func(c *Conn) {
				r := NATRange{Flags: NATMapIPs, MinAddr: ip(rtr), MaxAddr: ip(rtr)}
				tb.SetupNAT(c, &r, ManipSrc, now)
			}
		}
		m := ftpMaster(t, tb, now, 40800, bind)
		seq := uint32(1001)
		if reply {
			seq = 5001
		}
		tb.Help(m, &HelperPacket{Info: info, Seq: seq, Payload: []byte("x\n"), Now: now})
		fm := &fakeMangler{data: append([]byte(nil), data...)}
		v, _ := tb.Help(m, &HelperPacket{Info: info, Seq: seq + 2, Payload: data, Mangler: fm, Now: now})
		peers := map[[16]byte]bool{}
		for _, d := range []Dir{Original, Reply} {
			tu := m.Tuple(d)
			peers[tu.Src], peers[tu.Dst] = true, true
		}
		l := tb.ListExpect(now)
		for _, e := range l {
			if !peers[e.Tuple.Src] || (!peers[e.Tuple.Dst] && !loose) {
				t.Fatalf("expectation %v outside the control connection %v / %v", e.Tuple, m.Tuple(Original), m.Tuple(Reply))
			}
		}
		if !nat || v != Accept || len(l) != 1 {
			return
		}
		got, res := ParseFTP(fm.data, dir, own)
		if res != FTPFound || got.Port != l[0].Tuple.DstPort {
			t.Fatalf("rewritten %q parses to %v %+v, want port %d", fm.data, res, got, l[0].Tuple.DstPort)
		}
	})
}

// FuzzTFTP feeds arbitrary datagrams to the tftp helper. Properties: no
// panic, never a drop, and an expectation exactly for read and write
// requests, from the server to where the request seemed to come from.
func FuzzTFTP(f *testing.F) {
	for _, s := range []string{"\x00\x01file\x00octet\x00", "\x00\x02f\x00netascii\x00", "\x00\x03\x00\x01", "\x00", ""} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, nat bool) {
		tb, clk := newTestTable(t, Config{})
		now := clk.now
		var bind func(c *Conn)
		if nat {
			bind = func(c *Conn) {
				r := NATRange{Flags: NATMapIPs, MinAddr: ip(rtr), MaxAddr: ip(rtr)}
				tb.SetupNAT(c, &r, ManipSrc, now)
			}
		}
		m, v := tftpRequest(t, tb, now, 42069, string(data), bind)
		if v != Accept {
			t.Fatalf("request %q dropped", data)
		}
		want := len(data) >= 2 && data[0] == 0 && (data[1] == 1 || data[1] == 2)
		l := tb.ListExpect(now)
		if (len(l) == 1) != want || len(l) > 1 {
			t.Fatalf("payload %q: %d expectations, want request=%v", data, len(l), want)
		}
		if want {
			r := m.Tuple(Reply)
			if e := l[0].Tuple; e.Src != r.Src || e.Dst != r.Dst || e.DstPort != r.DstPort || e.Proto != ProtoUDP {
				t.Fatalf("expectation %v for master reply %v", e, r)
			}
		}
	})
}
