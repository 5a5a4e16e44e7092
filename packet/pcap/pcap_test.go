package pcap

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/gofw/gofw/packet"
)

func sampleDatagrams() [][]byte {
	udp := packet.BuildUDP(ap("198.18.0.2", 5353), ap("198.18.0.1", 53), []byte("query"))
	return [][]byte{
		packet.BuildTCP(ap("198.18.0.1", 999), ap("198.18.0.2", 22), packet.TCPSyn, 1, 0, 1000, nil, packet.WithMSS(1460)),
		udp,
		packet.BuildICMPError(ip("198.18.0.1"), ip("198.18.0.2"), 3, 3, udp),
		packet.BuildUDP(ap("fd00::1", 1), ap("fd00::2", 2), []byte("v6")),
	}
}

func TestPcapRoundTrip(t *testing.T) {
	dgs := sampleDatagrams()
	var a, b bytes.Buffer
	if err := Write(&a, dgs...); err != nil {
		t.Fatal(err)
	}
	if err := Write(&b, dgs...); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("Write is not deterministic")
	}
	if lt := binary.LittleEndian.Uint32(a.Bytes()[20:]); lt != 101 {
		t.Errorf("link type %d, want 101 (LINKTYPE_RAW)", lt)
	}
	r, err := NewReader(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var last time.Time
	for i := range dgs {
		dg, ts, err := r.Next()
		if err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
		if !bytes.Equal(dg, dgs[i]) {
			t.Errorf("datagram %d:\n got  %x\n want %x", i, dg, dgs[i])
		}
		if !ts.After(last) {
			t.Errorf("datagram %d: timestamp %v not after %v", i, ts, last)
		}
		last = ts
	}
	if _, _, err := r.Next(); err != io.EOF {
		t.Errorf("after the last datagram: %v, want io.EOF", err)
	}

	path := filepath.Join(t.TempDir(), "x.pcap")
	if err := WriteFile(path, dgs...); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(dgs) {
		t.Fatalf("ReadFile: %d datagrams, want %d", len(got), len(dgs))
	}
	for i := range dgs {
		if !bytes.Equal(got[i], dgs[i]) {
			t.Errorf("ReadFile datagram %d differs", i)
		}
	}
}

// frame wraps a datagram in the link header of lt.
func frame(lt int, dg []byte) []byte {
	et := []byte{0x08, 0x00}
	if dg[0]>>4 == 6 {
		et = []byte{0x86, 0xdd}
	}
	switch lt {
	case 1: // Ethernet, with an 802.1Q tag on IPv6 to exercise tag skipping
		h := []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}
		if dg[0]>>4 == 6 {
			h = append(h, 0x81, 0x00, 0x00, 0x64)
		}
		return append(append(h, et...), dg...)
	case 113: // Linux SLL: type, ARPHRD, address length, 8-byte address, protocol
		h := []byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0}
		return append(append(h, et...), dg...)
	case 276: // Linux SLL2: protocol, reserved, ifindex, ARPHRD, type, address length, address
		h := append(et, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0)
		return append(h, dg...)
	case 0: // BSD loopback, AF_INET in host order
		return append([]byte{2, 0, 0, 0}, dg...)
	}
	return dg
}

// arp is an Ethernet ARP request: no IP datagram, to be skipped.
var arp = append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06}, make([]byte, 28)...)

// pcapFile writes a classic pcap file by hand, so any 32-bit link type
// (gopacket's LinkType is a byte) can be tested.
func pcapFile(lt uint32, frames ...[]byte) []byte {
	var b bytes.Buffer
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 65535)
	binary.LittleEndian.PutUint32(hdr[20:], lt)
	b.Write(hdr)
	for i, f := range frames {
		rec := make([]byte, 16)
		binary.LittleEndian.PutUint32(rec[0:], uint32(1700000000+i))
		binary.LittleEndian.PutUint32(rec[8:], uint32(len(f)))
		binary.LittleEndian.PutUint32(rec[12:], uint32(len(f)))
		b.Write(rec)
		b.Write(f)
	}
	return b.Bytes()
}

func TestReadPcapLinkTypes(t *testing.T) {
	dgs := sampleDatagrams()
	for _, lt := range []int{0, 1, 101, 113, 228, 276} {
		frames := [][]byte{}
		for _, dg := range dgs {
			if lt == 228 && dg[0]>>4 == 6 {
				continue // LINKTYPE_IPV4 holds IPv4 only
			}
			frames = append(frames, frame(lt, dg))
		}
		wantSkipped := 0
		if lt == 1 {
			frames = append(frames, arp)
			wantSkipped = 1
		}
		for _, format := range []string{"pcap", "pcapng"} {
			var file []byte
			if format == "pcap" {
				file = pcapFile(uint32(lt), frames...)
			} else {
				if lt > 255 {
					continue // gopacket cannot write it; read side covered by pcap
				}
				var b bytes.Buffer
				w, err := pcapgo.NewNgWriter(&b, layers.LinkType(lt))
				if err != nil {
					t.Fatal(err)
				}
				for i, f := range frames {
					ci := gopacket.CaptureInfo{Timestamp: time.Unix(int64(i), 0), CaptureLength: len(f), Length: len(f)}
					if err := w.WritePacket(ci, f); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
				file = b.Bytes()
			}
			r, err := NewReader(bytes.NewReader(file))
			if err != nil {
				t.Fatalf("%s link type %d: %v", format, lt, err)
			}
			var got [][]byte
			for {
				dg, _, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("%s link type %d: %v", format, lt, err)
				}
				got = append(got, bytes.Clone(dg))
			}
			want := 0
			for _, dg := range dgs {
				if lt == 228 && dg[0]>>4 == 6 {
					continue
				}
				if want >= len(got) || !bytes.Equal(got[want], dg) {
					t.Errorf("%s link type %d: datagram %d wrong or missing", format, lt, want)
				}
				want++
			}
			if len(got) != want || r.Skipped != wantSkipped {
				t.Errorf("%s link type %d: %d datagrams, %d skipped; want %d, %d", format, lt, len(got), r.Skipped, want, wantSkipped)
			}
		}
	}
}

func TestReadPcapErrors(t *testing.T) {
	dg := sampleDatagrams()[0]
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"unsupported link type", pcapFile(105, dg), "link type 105"},
		{"truncated record", pcapFile(101, dg)[:24+16+10], "truncated"},
		{"not a capture file", []byte("hello, world, this is text"), "pcap"},
		{"empty", nil, "magic"},
	}
	for _, tt := range tests {
		_, err := ReadAll(bytes.NewReader(tt.file))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", tt.name, err, tt.want)
		}
	}
}

// TestReadPcapHugeRecord: a record announcing 1 GiB is refused, not
// allocated.
func TestReadPcapHugeRecord(t *testing.T) {
	file := pcapFile(101, sampleDatagrams()[0])
	binary.LittleEndian.PutUint32(file[16:], 0xffffffff) // snap length
	binary.LittleEndian.PutUint32(file[24+8:], 1<<30)    // captured length
	binary.LittleEndian.PutUint32(file[24+12:], 1<<30)   // original length
	if _, err := ReadAll(bytes.NewReader(file)); err == nil || !strings.Contains(err.Error(), "snap length") {
		t.Errorf("err = %v, want a snap length error", err)
	}
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func ap(s string, port uint16) netip.AddrPort { return netip.AddrPortFrom(ip(s), port) }
