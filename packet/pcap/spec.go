package pcap

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/gofw/gofw/packet"
)

// WriteSpec writes the packets as a capture: pcap of LINKTYPE_RAW, or
// pcapng when some packet names its dev= (one interface per name, in order
// of first use, plus an unnamed one for packets without dev=).
func WriteSpec(w io.Writer, pkts []packet.SpecPacket) error {
	var devs []string
	index := map[string]int{}
	for i := range pkts {
		if d := pkts[i].Dev; d != "" {
			if _, ok := index[d]; !ok {
				index[d] = len(devs)
				devs = append(devs, d)
			}
		}
	}
	if len(devs) == 0 {
		pw, err := NewWriter(w)
		if err != nil {
			return err
		}
		for i := range pkts {
			if err := pw.Write(packet.SpecEpoch.Add(pkts[i].At), pkts[i].Data); err != nil {
				return fmt.Errorf("%w (packet %d)", err, i+1)
			}
		}
		return nil
	}
	ifc := pcapgo.NgInterface{Name: devs[0], LinkType: layers.LinkTypeRaw}
	nw, err := pcapgo.NewNgWriterInterface(w, ifc, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		return fmt.Errorf("pcapng: %w", err)
	}
	for _, d := range devs[1:] {
		if _, err := nw.AddInterface(pcapgo.NgInterface{Name: d, LinkType: layers.LinkTypeRaw}); err != nil {
			return fmt.Errorf("pcapng: %w", err)
		}
	}
	unnamed := -1
	for i := range pkts {
		idx, ok := index[pkts[i].Dev]
		if !ok {
			if unnamed < 0 {
				if unnamed, err = nw.AddInterface(pcapgo.NgInterface{LinkType: layers.LinkTypeRaw}); err != nil {
					return fmt.Errorf("pcapng: %w", err)
				}
			}
			idx = unnamed
		}
		ci := gopacket.CaptureInfo{Timestamp: packet.SpecEpoch.Add(pkts[i].At), CaptureLength: len(pkts[i].Data),
			Length: len(pkts[i].Data), InterfaceIndex: idx}
		if err := nw.WritePacket(ci, pkts[i].Data); err != nil {
			return fmt.Errorf("pcapng: %w (packet %d)", err, i+1)
		}
	}
	return nw.Flush()
}

// WriteSpecFile writes the packets to a new capture file at path, as
// WriteSpec does.
func WriteSpecFile(path string, pkts []packet.SpecPacket) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	bw := bufio.NewWriter(f)
	if err := WriteSpec(bw, pkts); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return bw.Flush()
}
