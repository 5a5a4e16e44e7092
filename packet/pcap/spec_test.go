package pcap

import (
	"bytes"
	"io"
	"testing"

	"github.com/gofw/gofw/packet"
)

// specSample is packet's test spec: devices on some packets, so
// WriteSpec writes pcapng.
const specSample = `# handshake
tcp 198.18.0.2:40000 > 198.18.0.1:22 S seq=1000 mss=1460 wscale=7 sackperm dev=eth0   # client
tcp 198.18.0.1:22 > 198.18.0.2:40000 SA seq=5000 ack=1001 win=64240 dev=eth0
+1.5s
tcp 198.18.0.2:40000 > 198.18.0.1:22 A seq=1001 ack=5001 data=68690a
+200ms
udp 198.18.0.2:5353 > 198.18.0.1:53 len=20
icmp 198.18.0.1 > 198.18.0.2 port-unreachable quote=4 quotelen=28 dev=eth1
icmp 198.18.0.1 > 198.18.0.2 type=3 code=3 quote=[udp 198.18.0.2:1 > 198.18.0.9:2 ttl=3]
ip 198.18.0.2 > 198.18.0.1 proto=47 len=4 ttl=1 tos=4 ipid=7 df badsum truncate=22
`

// TestWriteSpec reads back what WriteSpec wrote: pcap without devices,
// pcapng with one interface per dev= (Reader.Iface names it).
func TestWriteSpec(t *testing.T) {
	rows := []struct {
		name   string
		spec   string
		ng     bool
		ifaces []string
	}{
		{"pcap", "udp 198.18.0.2:1 > 198.18.0.1:2\n+2s\nudp 198.18.0.1:2 > 198.18.0.2:1 len=3\n", false, []string{"", ""}},
		{"pcapng", specSample, true, []string{"eth0", "eth0", "", "", "eth1", "", ""}},
	}
	for _, r := range rows {
		pkts, err := packet.ParseSpec(r.spec)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := WriteSpec(&buf, pkts); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		if isNg := bytes.HasPrefix(buf.Bytes(), []byte{0x0a, 0x0d, 0x0d, 0x0a}); isNg != r.ng {
			t.Errorf("%s: pcapng %v, want %v", r.name, isNg, r.ng)
		}
		rd, err := NewReader(&buf)
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		for i := range pkts {
			dg, ts, err := rd.Next()
			if err != nil {
				t.Fatalf("%s: packet %d: %v", r.name, i+1, err)
			}
			if !bytes.Equal(dg, pkts[i].Data) || !ts.Equal(packet.SpecEpoch.Add(pkts[i].At)) || rd.Iface() != r.ifaces[i] {
				t.Errorf("%s: packet %d: got %x at %v on %q, want %x at %v on %q", r.name, i+1,
					dg, ts, rd.Iface(), pkts[i].Data, packet.SpecEpoch.Add(pkts[i].At), r.ifaces[i])
			}
		}
		if _, _, err := rd.Next(); err != io.EOF {
			t.Errorf("%s: after the last packet: %v, want EOF", r.name, err)
		}
	}
}

// FuzzReadPcap checks that reading an arbitrary capture file returns an
// error or datagrams, never a panic.
func FuzzReadAll(f *testing.F) {
	var b bytes.Buffer
	if err := Write(&b, sampleDatagrams()[:3]...); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add(pcapFile(1, frame(1, sampleDatagrams()[0]), arp))
	f.Add(pcapFile(276, frame(276, sampleDatagrams()[1])))
	f.Fuzz(func(t *testing.T, file []byte) {
		if len(file) > 1<<16 {
			return
		}
		ReadAll(bytes.NewReader(file))
	})
}
