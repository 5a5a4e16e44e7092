package ruleset

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gofw/gofw/packet"
)

// TestKernelDiffFragmentBytes compares, byte for byte, the fragments a
// reassembled datagram leaves in, the kernel's (ip_do_fragment after
// nf_defrag_ipv4) against gofw trace's (packet.Refragment): the header
// fields the scenarios' summaries do not show (DF, TOS, options, the
// checksums) and where the pieces are cut. Only the TTL and so the header
// checksum may differ: the kernel decrements the TTL of what it forwards
// (ip_forward) and gofw trace does not; each kernel TTL must be one less.
// It runs as root only, in namespaces of its own (kdSetup).
func TestKernelDiffFragmentBytes(t *testing.T) {
	a, b := netip.MustParseAddr("198.18.0.2"), netip.MustParseAddr("198.18.1.2")
	frag := func(id uint16, off int, more bool, data []byte, o ...packet.BuildOpt) []byte {
		o = append([]packet.BuildOpt{packet.WithID(id), packet.WithFrag(uint16(off/8), more)}, o...)
		return packet.BuildIP(a, b, 253, data, o...)
	}
	d16, d24 := bytes.Repeat([]byte("a"), 16), bytes.Repeat([]byte("b"), 24)
	udp := packet.BuildUDP(netip.AddrPortFrom(a, 5000), netip.AddrPortFrom(b, 54), bytes.Repeat([]byte("q"), 40), packet.WithID(95))
	const accept = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"
	rows := []struct {
		name, rules string
		frags       [][]byte
	}{
		// The fast path keeps the pieces and drops DF, even when the
		// largest fragment had it.
		{"DF", accept, [][]byte{frag(90, 0, true, d24, packet.WithDF()), frag(90, 24, false, d16, packet.WithDF())}},
		// CE among ECT marks every fragment CE (ip_frag_ecn_table).
		{"ECN", accept, [][]byte{frag(91, 0, true, d16, packet.WithTOS(2)), frag(91, 16, false, d16, packet.WithTOS(3))}},
		// A later piece larger than the first fragment's header allows:
		// cut afresh (the slow path), the first's options in every one,
		// DF on each when the largest had it.
		{"slow path", accept, [][]byte{frag(92, 0, true, d16, packet.WithIPOptions([]byte{1, 1, 1, 1})), frag(92, 16, false, d24)}},
		{"slow path with DF", accept, [][]byte{frag(93, 0, true, d16, packet.WithIPOptions([]byte{1, 1, 1, 1})), frag(93, 16, false, d24, packet.WithDF())}},
		// SNAT rewrites the datagram: the UDP checksum, in the first
		// piece, covers the whole of it.
		{"SNAT", "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n" +
			"-A POSTROUTING -o eth1 -p udp -j SNAT --to-source 198.18.1.1:7000\nCOMMIT\n" + accept, packet.Fragment(udp, 16)},
	}
	// Parse every row first, so a broken one fails without root too.
	for _, row := range rows {
		if _, err := kdRules(row.rules); err != nil {
			t.Fatalf("%s: %v", row.name, err)
		}
	}
	kdRequire(t)
	for i, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			rules, _ := kdRules(row.rules)
			n := kdSetup(t, 1000+i, rules)
			for _, f := range row.frags {
				if err := n.send(0, kdMAC[0], f); err != nil {
					t.Fatal(err)
				}
			}
			if err := n.send(0, kdNobody, kdSentinel); err != nil {
				t.Fatal(err)
			}
			var kern [][]byte
			done, err := n.recv(5*time.Second, func(dg []byte, pkttype uint8) bool {
				switch pkttype {
				case unix.PACKET_OTHERHOST:
					return bytes.Equal(dg, kdSentinel)
				case unix.PACKET_OUTGOING:
					kern = append(kern, dg)
				}
				return false
			})
			if err != nil || !done {
				t.Fatalf("the sentinel never came back (%v)", err)
			}
			_, _, sent := traceDatagrams(t, row.rules, row.frags)
			gofw := sent[len(sent)-1]
			if len(kern) != len(gofw) {
				t.Fatalf("the kernel sent %d fragments, gofw %d:\nkernel %x\ngofw   %x", len(kern), len(gofw), kern, gofw)
			}
			for j := range kern {
				k, g := bytes.Clone(kern[j]), gofw[j]
				if len(k) < 20 || len(g) < 20 || k[8]+1 != g[8] {
					t.Errorf("fragment %d: TTL %d, want gofw's %d less one:\nkernel %x\ngofw   %x", j+1, k[8], g[8], kern[j], g)
					continue
				}
				k[8] = g[8]
				k[10], k[11] = 0, 0
				c := packet.Checksum(k[:int(k[0]&0x0f)*4], 0)
				k[10], k[11] = byte(c>>8), byte(c)
				if !bytes.Equal(k, g) {
					t.Errorf("fragment %d differs (TTL aside):\nkernel %s\ngofw   %s", j+1, hexHdr(kern[j]), hexHdr(g))
				}
			}
		})
	}
}

// hexHdr shows a datagram as its IP header, a space, and the rest.
func hexHdr(dg []byte) string {
	if len(dg) < 20 {
		return fmt.Sprintf("%x", dg)
	}
	h := min(int(dg[0]&0x0f)*4, len(dg))
	return fmt.Sprintf("%x %x", dg[:h], dg[h:])
}
