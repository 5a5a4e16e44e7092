package target

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
)

// tcpmssInfo is the TCPMSS target (libxt_TCPMSS.c, xt_TCPMSS.c): rewrite
// the MSS option of TCP SYNs, to a fixed value or to the path MTU minus
// 40. The kernel registers it for -p tcp only.
var tcpmssInfo = &Info{
	Name: "TCPMSS",
	Opts: []match.Opt{
		{Name: "set-mss", Arg: true},
		{Name: "clamp-mss-to-pmtu"},
	},
	New:   func() Target { return &TCPMSS{} },
	Proto: packet.ProtoTCP,
}

// tcpmssMax is the largest --set-mss for IPv4: 65535 minus the 20-byte IP
// header (libxt_TCPMSS.c's .max = UINT16_MAX - hdrsize).
const tcpmssMax = 65535 - 20

// TCPMSS is one TCPMSS target.
type TCPMSS struct {
	Clamp bool   // --clamp-mss-to-pmtu (the kernel's mss 0xffff)
	MSS   uint16 // --set-mss, when not Clamp

	set  bool
	host *match.Host // interface MTUs, for Clamp
}

// Parse implements Target. The two options do not exclude each other:
// the last one given wins, as in TCPMSS_parse.
func (t *TCPMSS) Parse(a *match.Arg) error {
	switch a.Name {
	case "set-mss":
		v, err := match.XtParseUint("TCPMSS", a.Name, a.Value, 0, tcpmssMax)
		if err != nil {
			return err
		}
		t.Clamp, t.MSS = false, uint16(v)
	case "clamp-mss-to-pmtu":
		t.Clamp, t.MSS = true, 0
	}
	t.set = true
	return nil
}

// Final implements Target (TCPMSS_check).
func (t *TCPMSS) Final(*match.Rule) error {
	if !t.set {
		return grammar.Paramf("TCPMSS target: At least one parameter is required")
	}
	return nil
}

// tcpmssClampHooks are the hooks where the route, and so the path MTU, is
// known (xt_TCPMSS.c tcpmss_tg4_check).
const tcpmssClampHooks = packet.HookMask(1<<packet.Forward | 1<<packet.Output | 1<<packet.Postrouting)

// Check implements match.Checker for the placement half of
// tcpmss_tg4_check. Its other half needs the rule's matches: see
// CheckMatches.
func (t *TCPMSS) Check(w *match.Where) error {
	if t.Clamp && w.Hooks&^tcpmssClampHooks != 0 {
		return kernelEINVAL("xt_TCPMSS: path-MTU clamping only supported in FORWARD, OUTPUT and POSTROUTING hooks")
	}
	return nil
}

// CheckMatches is the rest of tcpmss_tg4_check: the rule must carry a tcp
// match that requires SYN set (find_syn_match: --syn or --tcp-flags with
// SYN in the compared flags, not negated), because only SYNs carry an MSS
// option. It needs the rule's matches, which match.Where does not give;
// the ruleset must call it with them when it loads a rule.
func (t *TCPMSS) CheckMatches(ms []match.Match) error {
	for _, m := range ms {
		if tcp, ok := m.(*match.TCP); ok && tcp.FlagCmp&packet.TCPSyn != 0 && !tcp.InvFlags {
			return nil
		}
	}
	return kernelEINVAL("xt_TCPMSS: Only works on TCP SYN packets")
}

// Save implements Target.
func (t *TCPMSS) Save(b *strings.Builder) {
	if t.Clamp {
		b.WriteString(" --clamp-mss-to-pmtu")
	} else {
		b.WriteString(" --set-mss " + strconv.Itoa(int(t.MSS)))
	}
}

// Print implements Target.
func (t *TCPMSS) Print(b *strings.Builder, numeric bool) {
	if t.Clamp {
		b.WriteString(" TCPMSS clamp to PMTU")
	} else {
		b.WriteString(" TCPMSS set " + strconv.Itoa(int(t.MSS)))
	}
}

// Bind implements match.Binder: --clamp-mss-to-pmtu reads interface MTUs
// from the host.
func (t *TCPMSS) Bind(env *match.Env) error {
	t.host = env.Host
	return nil
}

// csumReplace16 is the kernel's csum_replace2 / inet_proto_csum_replace2:
// the checksum c with the 16-bit word old replaced by new (RFC 1624).
func csumReplace16(c, old, new uint16) uint16 {
	s := uint32(^c) + uint32(^old) + uint32(new)
	s = s&0xffff + s>>16
	s = s&0xffff + s>>16
	return ^uint16(s)
}

// pmtu is the MTU --clamp-mss-to-pmtu clamps to: the smaller of the route
// MTU out (the output interface's) and the MTU of the route back to the
// source (tcpmss_reverse_mtu), taken as the input interface's, as the
// reverse route of a forwarded flow leaves through it; a locally
// generated packet has no input interface, and the kernel's reverse route
// to a local address is the loopback, which does not lower the minimum.
// 0 when the output interface or its MTU is unknown.
func (t *TCPMSS) pmtu(p *packet.Packet) int {
	out, ok := t.host.Iface(p.OutIface)
	if !ok {
		return 0
	}
	mtu := out.MTU
	if in, ok := t.host.Iface(p.InIface); ok && in.MTU > 0 && in.MTU < mtu {
		mtu = in.MTU
	}
	return mtu
}

// Do implements Doer as xt_TCPMSS.c tcpmss_tg4 / tcpmss_mangle_packet:
// the first MSS option of the segment is lowered to the rule's value (the
// MSS is never raised), and a segment without one and without payload
// gets one inserted, of at most 536 bytes (RFC 1122's default), growing
// the packet by 4 bytes. A segment the kernel finds broken (a TCP header
// shorter than its fixed part or its data offset) and a path MTU of 40
// bytes or less ("unknown or invalid path-MTU", also when gofw does not
// know the output interface's MTU) drop the packet. Non-first fragments
// are left alone.
//
// The option walk is the kernel's, not packet.SetTCPMSS's: it does not
// stop at an end-of-list option and steps one byte over a zero length. The
// checksum is updated incrementally as the kernel does it, except that an
// option at an odd offset is handled as the bytes fall (inet_proto_csum_
// replace2 takes the value for an aligned word there, which leaves a wrong
// checksum; no stack sends one).
//
// Inserting the option grows p.Data by 4 bytes in place when its capacity
// allows (the datapath should hand buffers with spare room: an NFQUEUE
// read buffer of 64 KiB has it); otherwise the packet is copied into a new
// slice, the only allocation this target makes. Either way the datapath
// must send p.Data, which is the packet's whole new length, and the
// packet is decoded again so every field reads right. Called for every
// packet; must not allocate (but see above).
func (t *TCPMSS) Do(p *packet.Packet) Verdict {
	if p.FragOff != 0 || p.Family != 4 || p.Proto != packet.ProtoTCP || p.L4Off < 0 {
		return Continue
	}
	const minlen = 20 + 20 // sizeof(struct iphdr) + sizeof(struct tcphdr)
	d := p.Data
	l4 := p.L4Off
	n := len(d) - l4
	if n < 20 {
		return Drop
	}
	th := d[l4:]
	hl := int(th[12]>>4) * 4
	if n < hl || hl < 20 {
		return Drop
	}
	newmss := t.MSS
	if t.Clamp {
		mtu := t.pmtu(p)
		if mtu <= minlen {
			return Drop
		}
		newmss = uint16(min(mtu-minlen, 0xffff))
	}
	for i := 20; i <= hl-4; {
		if th[i] == packet.TCPOptMSS && th[i+1] == 4 {
			old := binary.BigEndian.Uint16(th[i+2:])
			if old <= newmss {
				return Continue
			}
			binary.BigEndian.PutUint16(th[i+2:], newmss)
			c := binary.BigEndian.Uint16(th[16:])
			if i%2 == 0 {
				c = csumReplace16(c, old, newmss)
			} else {
				c = csumReplace16(c, old<<8|old>>8, newmss<<8|newmss>>8)
			}
			binary.BigEndian.PutUint16(th[16:], c)
			p.Changed = true
			return Continue
		}
		if th[i] <= packet.TCPOptNOP || th[i+1] == 0 {
			i++ // "make finite progress"
		} else {
			i += int(th[i+1])
		}
	}
	// No MSS option: there must be no payload to move, and room in the
	// data offset.
	if n > hl || hl >= 15*4 {
		return Continue
	}
	newmss = min(newmss, 536)
	if cap(d)-len(d) >= 4 {
		d = d[:len(d)+4]
	} else {
		d = append(d[:len(d):len(d)], 0, 0, 0, 0)
	}
	th = d[l4:]
	copy(th[24:], th[20:hl])
	c := binary.BigEndian.Uint16(th[16:])
	c = csumReplace16(c, uint16(n), uint16(n+4)) // the pseudo-header length
	th[20], th[21] = packet.TCPOptMSS, 4
	binary.BigEndian.PutUint16(th[22:], newmss)
	c = csumReplace16(c, 0, binary.BigEndian.Uint16(th[20:]))
	c = csumReplace16(c, 0, newmss)
	oldw := binary.BigEndian.Uint16(th[12:])
	th[12] += 4 << 2 // data offset: one more 32-bit word
	c = csumReplace16(c, oldw, binary.BigEndian.Uint16(th[12:]))
	binary.BigEndian.PutUint16(th[16:], c)
	// tcpmss_tg4: the IP total length and its header checksum.
	tot := binary.BigEndian.Uint16(d[2:])
	binary.BigEndian.PutUint16(d[2:], tot+4)
	binary.BigEndian.PutUint16(d[10:], csumReplace16(binary.BigEndian.Uint16(d[10:]), tot, tot+4))
	packet.Decode(d, p)
	p.Changed = true
	return Continue
}
