package target

import (
	"encoding/binary"
	"strings"

	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
)

// checksumInfo is the CHECKSUM target (libxt_CHECKSUM.c, xt_CHECKSUM.c):
// compute the checksum of a packet whose checksum was left to offloading
// (old DHCP clients drop such packets from virtual bridges). The kernel
// allows it in the mangle table only.
var checksumInfo = &Info{
	Name:  "CHECKSUM",
	Opts:  []match.Opt{{Name: "checksum-fill"}},
	New:   func() Target { return &Checksum{} },
	Table: "mangle",
}

// Checksum is one CHECKSUM target.
type Checksum struct {
	Fill bool // XT_CHECKSUM_OP_FILL, the only operation there is
}

// Parse implements Target.
func (t *Checksum) Parse(a *match.Arg) error {
	t.Fill = true
	return nil
}

// Final implements Target: --checksum-fill is mandatory (XTOPT_MAND).
func (t *Checksum) Final(*match.Rule) error {
	return match.XtFcheck("CHECKSUM", []match.XtOptRule{{Name: "checksum-fill", Mand: true}}, given{"checksum-fill": t.Fill})
}

// Save implements Target.
func (t *Checksum) Save(b *strings.Builder) { b.WriteString(" --checksum-fill") }

// Print implements Target.
func (t *Checksum) Print(b *strings.Builder, numeric bool) { b.WriteString(" CHECKSUM fill") }

// Do implements Doer for --checksum-fill: the TCP or UDP checksum is
// computed over the whole segment, as xt_CHECKSUM.c checksum_tg has
// skb_checksum_help do, a computed 0 going out as 0xffff (CSUM_MANGLED_0).
// The kernel fills only a packet whose checksum was left to offload
// (CHECKSUM_PARTIAL); the NFQUEUE datapath cannot tell (the kernel fills
// such checksums before queueing unless the queue asked for GSO packets),
// so gofw fills every TCP and UDP checksum, which changes nothing where
// it was already right. Fragments, whose checksum covers a datagram gofw
// does not have, and malformed headers are left alone. Changed is set only
// when the checksum changed. Called for every packet; must not allocate.
func (t *Checksum) Do(p *packet.Packet) Verdict {
	if p.Malformed || p.L4Off < 0 || p.FragOff != 0 || p.MoreFrag {
		return Continue
	}
	l4 := p.Data[p.L4Off:]
	var off int
	switch p.Proto {
	case packet.ProtoTCP:
		off = 16
	case packet.ProtoUDP:
		off = 6
	default:
		return Continue
	}
	if len(l4) < off+2 {
		return Continue
	}
	old := be16(l4[off:])
	l4[off], l4[off+1] = 0, 0
	c := packet.Checksum(l4, packet.PseudoHeader(p.Src, p.Dst, p.Proto, len(l4)))
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(l4[off:], c)
	if c != old {
		p.Changed = true
	}
	return Continue
}
