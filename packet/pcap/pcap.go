// Package pcap reads and writes capture files for gofw trace and the
// tests: pcap and pcapng, through gopacket's pcapgo. It is a package of
// its own so that only the programs that read captures pay for gopacket's
// start-up (its layers package fills large tables when it is loaded, tens
// of milliseconds that every gofw, gofw-save and gofw-restore run would
// otherwise spend).
package pcap

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/gofw/gofw/packet"
)

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }

// Capture files hold link-layer frames; gofw works on network-layer
// datagrams (what NFQUEUE hands over). The writers produce LINKTYPE_RAW
// files, which tcpdump and Wireshark read as bare IPv4/IPv6; the reader
// accepts pcap and pcapng with raw-IP, Ethernet, Linux cooked (SLL and SLL2)
// and BSD loopback link types and strips the link header.

// Link types not named in gopacket v1.1.19 (tcpdump.org/linktypes.html).
// Its LinkType is a uint8 and pcapgo truncates the file's 32-bit (pcap) or
// 16-bit (pcapng) value into it, so LINKTYPE_LINUX_SLL2 (276) arrives as 20,
// a value no other link type uses.
const (
	linkTypeIPv6       layers.LinkType = 229
	linkTypeLinuxSLL2  layers.LinkType = 276 & 0xff
	linkTypeRawOpenBSD layers.LinkType = 12 // DLT_RAW as some systems write it
)

// snapLen is what gofw's files announce: the largest IP datagram.
const snapLen = 65535

// maxSnapLen is tcpdump's default snap length (MAXIMUM_SNAPLEN), the
// largest record the reader accepts from a classic pcap file.
const maxSnapLen = 262144

// Writer writes datagrams to a pcap file of link type RAW.
type Writer struct {
	w *pcapgo.Writer
}

// NewWriter writes the pcap file header (nanosecond timestamps,
// LINKTYPE_RAW) to w and returns a writer for the datagrams.
func NewWriter(w io.Writer) (*Writer, error) {
	pw := pcapgo.NewWriterNanos(w)
	if err := pw.WriteFileHeader(snapLen, layers.LinkTypeRaw); err != nil {
		return nil, fmt.Errorf("pcap: writing file header: %w", err)
	}
	return &Writer{w: pw}, nil
}

// Write appends one datagram captured at ts.
func (w *Writer) Write(ts time.Time, dg []byte) error {
	ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(dg), Length: len(dg)}
	if err := w.w.WritePacket(ci, dg); err != nil {
		return fmt.Errorf("pcap: writing packet: %w", err)
	}
	return nil
}

// pcapEpoch is the first timestamp Write gives, so that files written
// from the same datagrams are byte for byte the same (golden files).
var pcapEpoch = packet.SpecEpoch

// Write writes the datagrams to w as a LINKTYPE_RAW pcap file,
// timestamped one millisecond apart from a fixed epoch, so the output is
// deterministic.
func Write(w io.Writer, dgs ...[]byte) error {
	pw, err := NewWriter(w)
	if err != nil {
		return err
	}
	for i, dg := range dgs {
		if err := pw.Write(pcapEpoch.Add(time.Duration(i)*time.Millisecond), dg); err != nil {
			return fmt.Errorf("%w (datagram %d)", err, i)
		}
	}
	return nil
}

// WriteFile writes the datagrams to a new pcap file at path, as
// Write does.
func WriteFile(path string, dgs ...[]byte) (err error) {
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
	if err := Write(bw, dgs...); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return bw.Flush()
}

// Reader reads IP datagrams from a pcap or pcapng file.
type Reader struct {
	next func() ([]byte, gopacket.CaptureInfo, layers.LinkType, error)
	// Skipped counts frames that held no IPv4 or IPv6 datagram (ARP, LLDP,
	// a truncated link header): they are left out, not returned.
	Skipped int
	// iface is the capture interface of the frame read last.
	iface string
}

// Iface returns the name of the interface the datagram Next returned last
// was captured on: pcapng's if_name option, or "" when the file does not
// say (classic pcap, or a pcapng interface without a name).
func (r *Reader) Iface() string { return r.iface }

// NewReader reads the file header from r, telling pcap from pcapng by
// its magic number.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("pcap: reading magic number: %w", err)
	}
	if binary.LittleEndian.Uint32(magic) == 0x0a0d0d0a { // pcapng section header block
		ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return nil, fmt.Errorf("pcapng: %w", err)
		}
		r := &Reader{}
		r.next = func() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
			data, ci, err := ng.ReadPacketData()
			if err != nil {
				return nil, ci, 0, err
			}
			lt, _ := ci.AncillaryData[0].(layers.LinkType)
			r.iface = ""
			if in, err := ng.Interface(ci.InterfaceIndex); err == nil {
				r.iface = in.Name
			}
			return data, ci, lt, nil
		}
		return r, nil
	}
	pr, err := pcapgo.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("pcap: %w", err)
	}
	// pcapgo allocates each record's announced length, bounded only by the
	// file's snap length; bound that by the largest snap length tcpdump
	// writes, so a corrupt or hostile file cannot ask for gigabytes. (The
	// pcapng reader has no such knob in gopacket v1.1.19.)
	if sl := pr.Snaplen(); sl == 0 || sl > maxSnapLen {
		pr.SetSnaplen(maxSnapLen)
	}
	lt := pr.LinkType()
	return &Reader{next: func() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
		data, ci, err := pr.ReadPacketData()
		return data, ci, lt, err
	}}, nil
}

// Next returns the next IP datagram and its capture time, or io.EOF after
// the last. A frame of a link type gofw cannot strip is an error naming it.
func (r *Reader) Next() ([]byte, time.Time, error) {
	for {
		data, ci, lt, err := r.next()
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, time.Time{}, fmt.Errorf("pcap: truncated file: %w", err)
			}
			return nil, time.Time{}, err
		}
		dg, ok, err := stripLink(lt, data)
		if err != nil {
			return nil, time.Time{}, err
		}
		if !ok {
			r.Skipped++
			continue
		}
		return dg, ci.Timestamp, nil
	}
}

// stripLink returns the network-layer datagram inside a frame of link type
// lt; ok is false when the frame carries something other than IPv4/IPv6.
func stripLink(lt layers.LinkType, f []byte) (dg []byte, ok bool, err error) {
	switch lt {
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, linkTypeIPv6, linkTypeRawOpenBSD:
		return f, len(f) > 0, nil
	case layers.LinkTypeEthernet:
		// Destination, source, then EtherType, after any 802.1Q / 802.1ad
		// tags.
		off := 12
		for {
			if len(f) < off+2 {
				return nil, false, nil
			}
			et := be16(f[off:])
			if et == 0x8100 || et == 0x88a8 {
				off += 4
				continue
			}
			return ethIP(et, f[off+2:])
		}
	case layers.LinkTypeLinuxSLL:
		// 16-byte cooked header, protocol (EtherType) last.
		if len(f) < 16 {
			return nil, false, nil
		}
		return ethIP(be16(f[14:]), f[16:])
	case linkTypeLinuxSLL2:
		// 20-byte cooked header v2, protocol (EtherType) first.
		if len(f) < 20 {
			return nil, false, nil
		}
		return ethIP(be16(f[0:]), f[20:])
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		// 4-byte address family (host order for NULL, network order for
		// LOOP): 2 is AF_INET, and AF_INET6 differs by system (10, 24,
		// 28, 30), so go by the IP version nibble instead.
		if len(f) < 5 {
			return nil, false, nil
		}
		return f[4:], f[4]>>4 == 4 || f[4]>>4 == 6, nil
	}
	return nil, false, fmt.Errorf("pcap: link type %d (%s) not supported; want raw IP, Ethernet, Linux SLL/SLL2 or loopback", lt, lt)
}

func ethIP(et uint16, b []byte) ([]byte, bool, error) {
	switch et {
	case 0x0800, 0x86dd:
		return b, len(b) > 0, nil
	}
	return nil, false, nil
}

// ReadAll reads every IP datagram from a pcap or pcapng stream, leaving
// out frames that carry no IP datagram (see Reader.Skipped).
func ReadAll(r io.Reader) ([][]byte, error) {
	pr, err := NewReader(r)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for {
		dg, _, err := pr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("%w (after %d datagrams)", err, len(out))
		}
		out = append(out, bytes.Clone(dg))
	}
}

// ReadFile reads every IP datagram from the pcap or pcapng file at
// path, as ReadAll does.
func ReadFile(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dgs, err := ReadAll(f)
	if err != nil {
		return dgs, fmt.Errorf("%s: %w", path, err)
	}
	return dgs, nil
}
