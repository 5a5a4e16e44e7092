package match

import (
	"net/netip"
	"testing"

	"github.com/gofw/gofw/packet"
)

// Helpers for the hot-path tests: rules are parsed by the same driver as
// the parse/print tests (xoRun), packets are built with packet.Build* and
// decoded, and a row says whether the rule's matches, run in order as
// ipt_do_table runs them, match and whether the packet was hot-dropped.

// matchers parses rule (in filter/INPUT unless it names a chain the
// extension needs) and returns its matches' hot paths in rule order.
func matchers(t testing.TB, chain, rule string) []Matcher {
	t.Helper()
	if chain == "" {
		chain = "INPUT"
	}
	// The rule driver knows no option with two arguments, so
	// "[!] --tcp-flags MASK COMP" is taken out here and given to the
	// rule's tcp match as the grammar gives it (COMP in Arg.Extra).
	words := xoSplit(rule)
	var flags *Arg
	for i, w := range words {
		if w != "--tcp-flags" || i+2 >= len(words) {
			continue
		}
		flags = &Arg{Name: "tcp-flags", Value: words[i+1], Extra: []string{words[i+2]}}
		start := i
		if i > 0 && words[i-1] == "!" {
			flags.Inv, start = true, i-1
		}
		words = append(words[:start:start], words[i+3:]...)
		break
	}
	r, err := xoRun("filter", chain, words)
	if err != nil {
		t.Fatalf("%s: %v", rule, err)
	}
	if flags != nil {
		var tcp Match
		for _, inst := range r.ms {
			if inst.info == tcpInfo {
				tcp = inst.m
			}
		}
		if tcp == nil {
			tcp = tcpInfo.New()
			r.ms = append(r.ms, xoInst{info: tcpInfo, m: tcp})
		}
		if err := tcp.Parse(flags); err != nil {
			t.Fatalf("%s: %v", rule, err)
		}
	}
	var ms []Matcher
	for _, inst := range r.ms {
		m, ok := inst.m.(Matcher)
		if !ok {
			t.Fatalf("%s: -m %s has no Match", rule, inst.info.Name)
		}
		ms = append(ms, m)
	}
	return ms
}

// run evaluates ms on p as the rule walk does: in order, stopping at the
// first that fails.
func run(ms []Matcher, p *packet.Packet) bool {
	for _, m := range ms {
		if !m.Match(p) {
			return false
		}
	}
	return true
}

// hpRow is one behaviour of a match on one packet.
type hpRow struct {
	name    string
	rule    string
	pkt     *packet.Packet
	want    bool
	hotdrop bool
}

func checkRows(t *testing.T, rows []hpRow) {
	t.Helper()
	checkRowsIn(t, "", nil, rows)
}

// checkRowsIn parses the rows' rules in chain and, when env is set, binds
// their matches to it as the engine does before running them.
func checkRowsIn(t *testing.T, chain string, env *Env, rows []hpRow) {
	t.Helper()
	for _, r := range rows {
		ms := matchers(t, chain, r.rule)
		if env != nil {
			for _, m := range ms {
				if b, ok := m.(Binder); ok {
					if err := b.Bind(env); err != nil {
						t.Fatalf("%s: bind: %v", r.rule, err)
					}
				}
			}
		}
		r.pkt.Hotdrop = false
		got := run(ms, r.pkt)
		if got != r.want || r.pkt.Hotdrop != r.hotdrop {
			t.Errorf("%s: %q: got match=%v hotdrop=%v, want match=%v hotdrop=%v",
				r.name, r.rule, got, r.pkt.Hotdrop, r.want, r.hotdrop)
		}
	}
}

func hpAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func hpAP(s string, port uint16) netip.AddrPort { return netip.AddrPortFrom(hpAddr(s), port) }

// decode decodes dg into a fresh packet; a malformed transport header is
// fine (the rows test what matches do with one), a broken IP header is not.
func decode(t testing.TB, dg []byte) *packet.Packet {
	t.Helper()
	p := &packet.Packet{}
	p.ResetMeta()
	if r := packet.Decode(dg, p); r.L3() {
		t.Fatalf("decode: %v", r)
	}
	return p
}

// tcpSeg builds a TCP segment 198.18.0.1:sport -> 198.18.0.2:dport.
func tcpSeg(t testing.TB, sport, dport uint16, flags uint8, opts ...packet.BuildOpt) *packet.Packet {
	return decode(t, packet.BuildTCP(hpAP("198.18.0.1", sport), hpAP("198.18.0.2", dport), flags, 1, 0, 1000, nil, opts...))
}

// udpDg builds a UDP datagram 198.18.0.1:sport -> 198.18.0.2:dport.
func udpDg(t testing.TB, sport, dport uint16, opts ...packet.BuildOpt) *packet.Packet {
	return decode(t, packet.BuildUDP(hpAP("198.18.0.1", sport), hpAP("198.18.0.2", dport), []byte("payload"), opts...))
}

// icmpMsg builds an ICMP query 198.18.0.1 -> 198.18.0.2.
func icmpMsg(t testing.TB, typ, code uint8) *packet.Packet {
	return decode(t, packet.BuildICMP(hpAddr("198.18.0.1"), hpAddr("198.18.0.2"), typ, code, 7, 1, nil))
}

// rawL4 builds a datagram of proto around the raw transport bytes l4, for
// headers too short or otherwise broken.
func rawL4(t testing.TB, proto uint8, l4 []byte) *packet.Packet {
	return decode(t, packet.BuildIP(hpAddr("198.18.0.1"), hpAddr("198.18.0.2"), proto, l4))
}

// frag returns fragment i of dg cut into size-byte pieces, decoded.
func frag(t testing.TB, dg []byte, size, i int) *packet.Packet {
	t.Helper()
	fs := packet.Fragment(dg, size)
	if i >= len(fs) {
		t.Fatalf("fragment %d of %d", i, len(fs))
	}
	return decode(t, fs[i])
}

// TestTCPMatch checks tcp_mt: ports, flags, --tcp-option and fragments.
func TestTCPMatch(t *testing.T) {
	syn := tcpSeg(t, 40000, 22, packet.TCPSyn)
	synack := tcpSeg(t, 22, 40000, packet.TCPSyn|packet.TCPAck)
	opts := tcpSeg(t, 40000, 22, packet.TCPSyn, packet.WithMSS(1460), packet.WithSACKPerm(), packet.WithWScale(7))
	// Kind 8 behind an EOL: the stack's parser stops at EOL, tcp_find_option
	// does not.
	afterEOL := tcpSeg(t, 40000, 22, packet.TCPAck, packet.WithTCPOptions([]byte{packet.TCPOptEOL, 8, 10, 0, 0, 0, 0, 0}))
	// Kind 30 with a zero length: a one-byte step, then kind 8.
	zeroLen := tcpSeg(t, 40000, 22, packet.TCPAck, packet.WithTCPOptions([]byte{30, 0, 8, 2}))
	whole := packet.BuildTCP(hpAP("198.18.0.1", 40000), hpAP("198.18.0.2", 22), packet.TCPAck, 1, 0, 1000, make([]byte, 40))
	// 20 bytes of header whose data offset (15 words) runs past the end:
	// conntrack's tcp_error refuses it, tcp_mt still reads ports and flags.
	badDoff := make([]byte, 20)
	badDoff[0], badDoff[1], badDoff[2], badDoff[3] = 0x9c, 0x40, 0, 22 // 40000 -> 22
	badDoff[12], badDoff[13] = 15<<4, packet.TCPSyn
	// Data offset 4 words: below the fixed header.
	lowDoff := append([]byte(nil), badDoff...)
	lowDoff[12] = 4 << 4
	checkRows(t, []hpRow{
		// Ports: single, range, open range, negation, both.
		{"dport", "-p tcp --dport 22", syn, true, false},
		{"dport other", "-p tcp --dport 23", syn, false, false},
		{"dport range", "-p tcp --dport 20:30", syn, true, false},
		{"sport range", "-p tcp --sport 1024:", syn, true, false},
		{"sport range miss", "-p tcp --sport :1023", syn, false, false},
		{"! dport", "-p tcp ! --dport 22", syn, false, false},
		{"! dport other", "-p tcp ! --dport 80", syn, true, false},
		{"sport and dport", "-p tcp --sport 40000 --dport 22", syn, true, false},
		{"sport and wrong dport", "-p tcp --sport 40000 --dport 80", syn, false, false},
		{"no options", "-p tcp -m tcp", syn, true, false},
		// Flags: --syn is SYN,RST,ACK,FIN/SYN.
		{"syn", "-p tcp --syn", syn, true, false},
		{"syn on syn-ack", "-p tcp --syn", synack, false, false},
		{"! syn on syn-ack", "-p tcp ! --syn", synack, true, false},
		{"! syn on syn", "-p tcp ! --syn", syn, false, false},
		{"flags SYN,ACK SYN,ACK", "-p tcp --tcp-flags SYN,ACK SYN,ACK", synack, true, false},
		{"flags SYN,ACK SYN,ACK on syn", "-p tcp --tcp-flags SYN,ACK SYN,ACK", syn, false, false},
		{"flags ALL NONE", "-p tcp --tcp-flags ALL NONE", syn, false, false},
		{"flags NONE NONE", "-p tcp --tcp-flags NONE NONE", syn, true, false},
		{"! flags ACK ACK on syn", "-p tcp ! --tcp-flags ACK ACK", syn, true, false},
		{"! flags ACK ACK on syn-ack", "-p tcp ! --tcp-flags ACK ACK", synack, false, false},
		// --tcp-option scans for the kind byte.
		{"option mss", "-p tcp --tcp-option 2", opts, true, false},
		{"option sack-perm", "-p tcp --tcp-option 4", opts, true, false},
		{"option wscale", "-p tcp --tcp-option 3", opts, true, false},
		{"option timestamp absent", "-p tcp --tcp-option 8", opts, false, false},
		{"! option timestamp absent", "-p tcp ! --tcp-option 8", opts, true, false},
		{"! option mss present", "-p tcp ! --tcp-option 2", opts, false, false},
		{"option without options", "-p tcp --tcp-option 2", syn, false, false},
		{"! option without options", "-p tcp ! --tcp-option 2", syn, true, false},
		{"option after EOL", "-p tcp --tcp-option 8", afterEOL, true, false},
		{"option after zero length", "-p tcp --tcp-option 8", zeroLen, true, false},
		{"option nop", "-p tcp --tcp-option 1", opts, true, false},
		// Fragments: a later fragment never matches; offset 8 is dropped,
		// as is a first fragment shorter than the TCP header.
		{"first fragment", "-p tcp --dport 22", frag(t, whole, 24, 0), true, false},
		{"first fragment too short", "-p tcp --dport 22", frag(t, whole, 8, 0), false, true},
		{"fragment at offset 8", "-p tcp --dport 22", frag(t, whole, 8, 1), false, true},
		{"fragment at offset 8, no options", "-p tcp -m tcp", frag(t, whole, 8, 1), false, true},
		{"fragment at offset 24", "-p tcp ! --dport 22", frag(t, whole, 24, 1), false, false},
		// Broken headers.
		{"truncated header", "-p tcp -m tcp", rawL4(t, packet.ProtoTCP, badDoff[:12]), false, true},
		{"data offset past end: ports", "-p tcp --sport 40000 --dport 22 --syn", rawL4(t, packet.ProtoTCP, badDoff), true, false},
		{"data offset past end: option", "-p tcp --tcp-option 2", rawL4(t, packet.ProtoTCP, badDoff), false, true},
		{"data offset below 5: option", "-p tcp --tcp-option 2", rawL4(t, packet.ProtoTCP, lowDoff), false, true},
		{"data offset below 5: ports", "-p tcp --dport 22", rawL4(t, packet.ProtoTCP, lowDoff), true, false},
		// A failed port test ends the match before the option is read.
		{"port miss before bad option", "-p tcp --dport 80 --tcp-option 2", rawL4(t, packet.ProtoTCP, lowDoff), false, false},
	})
}

// TestUDPMatch checks udp_mt.
func TestUDPMatch(t *testing.T) {
	dns := udpDg(t, 40000, 53)
	whole := packet.BuildUDP(hpAP("198.18.0.1", 40000), hpAP("198.18.0.2", 53), make([]byte, 40))
	badLen := []byte{0x9c, 0x40, 0, 53, 0xff, 0xff, 0, 0} // length field beyond the datagram
	checkRows(t, []hpRow{
		{"dport", "-p udp --dport 53", dns, true, false},
		{"dport other", "-p udp --dport 54", dns, false, false},
		{"sport range", "-p udp --sport 32768:60999", dns, true, false},
		{"! sport range", "-p udp ! --sport 32768:60999", dns, false, false},
		{"! dport other", "-p udp ! --dport 123", dns, true, false},
		{"both", "-p udp --sport 40000 --dport 53", dns, true, false},
		{"both, sport wrong", "-p udp --sport 40001 --dport 53", dns, false, false},
		{"no options", "-p udp -m udp", dns, true, false},
		{"first fragment", "-p udp --dport 53", frag(t, whole, 8, 0), true, false},
		{"later fragment", "-p udp ! --dport 53", frag(t, whole, 8, 1), false, false},
		{"truncated header", "-p udp -m udp", rawL4(t, packet.ProtoUDP, badLen[:6]), false, true},
		{"bad length field: ports still read", "-p udp --dport 53", rawL4(t, packet.ProtoUDP, badLen), true, false},
	})
}

// TestICMPMatch checks icmp_match and icmp_type_code_match.
func TestICMPMatch(t *testing.T) {
	echo := icmpMsg(t, packet.ICMPEcho, 0)
	reply := icmpMsg(t, packet.ICMPEchoReply, 0)
	orig := packet.BuildUDP(hpAP("198.18.0.2", 53), hpAP("198.18.0.1", 40000), nil)
	portUnreach := decode(t, packet.BuildICMPError(hpAddr("198.18.0.1"), hpAddr("198.18.0.2"), packet.ICMPDestUnreach, 3, orig))
	hostUnreach := decode(t, packet.BuildICMPError(hpAddr("198.18.0.1"), hpAddr("198.18.0.2"), packet.ICMPDestUnreach, 1, orig))
	// An error whose quote is too short for a tuple: conntrack cannot
	// relate it, the icmp match still reads type and code.
	shortQuote := decode(t, packet.BuildICMPError(hpAddr("198.18.0.1"), hpAddr("198.18.0.2"), packet.ICMPDestUnreach, 3, orig, packet.WithQuote(10)))
	whole := packet.BuildICMP(hpAddr("198.18.0.1"), hpAddr("198.18.0.2"), packet.ICMPEcho, 0, 1, 1, make([]byte, 40))
	checkRows(t, []hpRow{
		{"echo-request", "-p icmp --icmp-type echo-request", echo, true, false},
		{"echo-request on reply", "-p icmp --icmp-type echo-request", reply, false, false},
		{"numeric 8", "-p icmp --icmp-type 8", echo, true, false},
		{"8/0", "-p icmp --icmp-type 8/0", echo, true, false},
		{"8/1", "-p icmp --icmp-type 8/1", echo, false, false},
		{"! echo-request on reply", "-p icmp ! --icmp-type echo-request", reply, true, false},
		{"! echo-request on request", "-p icmp ! --icmp-type echo-request", echo, false, false},
		// "any" is type 0xff: every message.
		{"any", "-p icmp --icmp-type any", reply, true, false},
		{"any, error", "-p icmp --icmp-type any", portUnreach, true, false},
		{"! any", "-p icmp ! --icmp-type any", echo, false, false},
		{"255/0 is still any", "-p icmp --icmp-type 255/0", echo, true, false},
		// Code ranges.
		{"port-unreachable", "-p icmp --icmp-type port-unreachable", portUnreach, true, false},
		{"port-unreachable on host-unreachable", "-p icmp --icmp-type port-unreachable", hostUnreach, false, false},
		{"destination-unreachable (all codes)", "-p icmp --icmp-type destination-unreachable", hostUnreach, true, false},
		{"codes 1:3", "-p icmp --icmp-type 3/1:3", hostUnreach, true, false},
		{"codes 2:3", "-p icmp --icmp-type 3/2:3", hostUnreach, false, false},
		{"short quote", "-p icmp --icmp-type port-unreachable", shortQuote, true, false},
		// Fragments and broken headers.
		{"first fragment", "-p icmp --icmp-type 8", frag(t, whole, 8, 0), true, false},
		{"later fragment", "-p icmp --icmp-type any", frag(t, whole, 8, 1), false, false},
		{"truncated header", "-p icmp --icmp-type any", rawL4(t, packet.ProtoICMP, []byte{8, 0, 0, 0}), false, true},
	})
}

// TestMultiportMatch checks ports_match_v1.
func TestMultiportMatch(t *testing.T) {
	ssh := tcpSeg(t, 40000, 22, packet.TCPSyn)
	web := tcpSeg(t, 40000, 8080, packet.TCPSyn)
	back := tcpSeg(t, 443, 40000, packet.TCPAck)
	dns := udpDg(t, 40000, 53)
	whole := packet.BuildTCP(hpAP("198.18.0.1", 40000), hpAP("198.18.0.2", 22), packet.TCPAck, 1, 0, 1000, make([]byte, 40))
	checkRows(t, []hpRow{
		{"dports single", "-p tcp -m multiport --dports 22,80,443", ssh, true, false},
		{"dports none", "-p tcp -m multiport --dports 80,443", ssh, false, false},
		{"dports range", "-p tcp -m multiport --dports 80,8000:8999", web, true, false},
		{"dports range end", "-p tcp -m multiport --dports 80,8000:8080", web, true, false},
		{"dports range miss", "-p tcp -m multiport --dports 80,8081:8999", web, false, false},
		{"! dports hit", "-p tcp -m multiport ! --dports 22,80", ssh, false, false},
		{"! dports miss", "-p tcp -m multiport ! --dports 80,443", ssh, true, false},
		{"sports", "-p tcp -m multiport --sports 443", back, true, false},
		{"sports is not dports", "-p tcp -m multiport --sports 22", ssh, false, false},
		// --ports takes either side.
		{"ports source side", "-p tcp -m multiport --ports 443", back, true, false},
		{"ports destination side", "-p tcp -m multiport --ports 22", ssh, true, false},
		{"ports range source side", "-p tcp -m multiport --ports 400:500", back, true, false},
		{"ports neither", "-p tcp -m multiport --ports 80", ssh, false, false},
		{"! ports either", "-p tcp -m multiport ! --ports 40000", ssh, false, false},
		{"udp", "-p udp -m multiport --dports 53,123", dns, true, false},
		{"later fragment", "-p tcp -m multiport ! --dports 80", frag(t, whole, 8, 1), false, false},
		{"truncated header", "-p tcp -m multiport --dports 22", rawL4(t, packet.ProtoTCP, []byte{0x9c, 0x40}), false, true},
	})
}

// withMeta returns p after f has set its metadata.
func withMeta(p *packet.Packet, f func(*packet.Packet)) *packet.Packet {
	f(p)
	return p
}

// TestSimpleMatches checks the matches that test one header field or one
// piece of metadata: comment, mark, iprange, length, ttl, tos, dscp, mac
// and pkttype.
func TestSimpleMatches(t *testing.T) {
	ssh := tcpSeg(t, 40000, 22, packet.TCPSyn) // 40 bytes, TTL 64, TOS 0
	marked := withMeta(udpDg(t, 40000, 53), func(p *packet.Packet) { p.Mark = 0x12345678 })
	ttl1 := udpDg(t, 40000, 53, packet.WithTTL(1))
	ef := udpDg(t, 40000, 53, packet.WithTOS(0xb8|0x01)) // DSCP EF (46), ECN ECT(1)
	lowDelay := udpDg(t, 40000, 53, packet.WithTOS(0x10))
	eth := withMeta(udpDg(t, 40000, 53), func(p *packet.Packet) {
		p.HasMAC, p.SrcMAC = true, [6]byte{0x42, 0x01, 0x02, 0x03, 0x04, 0x05}
	})
	bcast := withMeta(udpDg(t, 40000, 53), func(p *packet.Packet) { p.PktType = packet.PktBroadcast })
	loopMcast := withMeta(decode(t, packet.BuildUDP(hpAP("198.18.0.1", 5353), hpAP("224.0.0.251", 5353), nil)), func(p *packet.Packet) { p.PktType = pktLoopback })
	loopBcast := withMeta(decode(t, packet.BuildUDP(hpAP("198.18.0.1", 67), hpAP("198.18.0.255", 68), nil)), func(p *packet.Packet) { p.PktType = pktLoopback })
	checkRows(t, []hpRow{
		{"comment", `-m comment --comment "anything"`, ssh, true, false},
		// mark: value under mask.
		{"mark", "-m mark --mark 0x12345678", marked, true, false},
		{"mark other", "-m mark --mark 0x12345679", marked, false, false},
		{"mark masked", "-m mark --mark 0x78/0xff", marked, true, false},
		{"mark masked other", "-m mark --mark 0x79/0xff", marked, false, false},
		{"! mark", "-m mark ! --mark 0x12345678", marked, false, false},
		{"! mark other", "-m mark ! --mark 0x1", marked, true, false},
		{"mark 0 on unmarked", "-m mark --mark 0", ssh, true, false},
		// iprange: inclusive ends, each side negated on its own.
		{"src in range", "-m iprange --src-range 198.18.0.0-198.18.0.10", ssh, true, false},
		{"src low end", "-m iprange --src-range 198.18.0.1-198.18.0.10", ssh, true, false},
		{"src high end", "-m iprange --src-range 198.17.0.0-198.18.0.1", ssh, true, false},
		{"src below", "-m iprange --src-range 198.18.0.2-198.18.0.10", ssh, false, false},
		{"src single", "-m iprange --src-range 198.18.0.1", ssh, true, false},
		{"! src in range", "-m iprange ! --src-range 198.18.0.0-198.18.0.10", ssh, false, false},
		{"dst in range", "-m iprange --dst-range 198.18.0.2-198.18.0.2", ssh, true, false},
		{"src in, dst out", "-m iprange --src-range 198.18.0.1 --dst-range 198.18.0.3-198.18.0.9", ssh, false, false},
		{"src in, ! dst out", "-m iprange --src-range 198.18.0.1 ! --dst-range 198.18.0.3-198.18.0.9", ssh, true, false},
		{"reversed range", "-m iprange --src-range 198.18.0.10-198.18.0.0", ssh, false, false},
		{"! reversed range", "-m iprange ! --src-range 198.18.0.10-198.18.0.0", ssh, true, false},
		// length: total length 40 for a bare TCP SYN.
		{"length", "-m length --length 40", ssh, true, false},
		{"length range", "-m length --length 0:40", ssh, true, false},
		{"length above", "-m length --length 41:", ssh, false, false},
		{"! length above", "-m length ! --length 41:", ssh, true, false},
		// ttl.
		{"ttl eq", "-m ttl --ttl-eq 64", ssh, true, false},
		{"ttl ne", "-m ttl ! --ttl-eq 64", ssh, false, false},
		{"ttl lt", "-m ttl --ttl-lt 2", ttl1, true, false},
		{"ttl lt equal", "-m ttl --ttl-lt 1", ttl1, false, false},
		{"ttl gt", "-m ttl --ttl-gt 63", ssh, true, false},
		{"ttl gt equal", "-m ttl --ttl-gt 64", ssh, false, false},
		// tos: the whole byte by default, the symbolic names leave ECN out.
		{"tos exact", "-m tos --tos 0xb9", ef, true, false},
		{"tos ECN counts by default", "-m tos --tos 0xb8", ef, false, false},
		{"tos masked", "-m tos --tos 0xb8/0xfc", ef, true, false},
		{"tos name", "-m tos --tos Minimize-Delay", lowDelay, true, false},
		{"! tos name", "-m tos ! --tos Minimize-Delay", lowDelay, false, false},
		{"tos name other", "-m tos --tos Minimize-Cost", lowDelay, false, false},
		// dscp: the upper six bits.
		{"dscp EF", "-m dscp --dscp-class EF", ef, true, false},
		{"dscp 46", "-m dscp --dscp 46", ef, true, false},
		{"dscp 0 on EF", "-m dscp --dscp 0", ef, false, false},
		{"! dscp 0 on EF", "-m dscp ! --dscp 0", ef, true, false},
		{"dscp 0", "-m dscp --dscp 0", ssh, true, false},
		// mac: no Ethernet header, no match either way.
		{"mac", "-m mac --mac-source 42:01:02:03:04:05", eth, true, false},
		{"mac other", "-m mac --mac-source 42:01:02:03:04:06", eth, false, false},
		{"! mac other", "-m mac ! --mac-source 42:01:02:03:04:06", eth, true, false},
		{"! mac", "-m mac ! --mac-source 42:01:02:03:04:05", eth, false, false},
		{"mac without header", "-m mac --mac-source 42:01:02:03:04:05", ssh, false, false},
		{"! mac without header", "-m mac ! --mac-source 42:01:02:03:04:06", ssh, false, false},
		// pkttype, and looped-back copies classed by destination.
		{"unicast", "-m pkttype --pkt-type unicast", ssh, true, false},
		{"unicast on broadcast", "-m pkttype --pkt-type unicast", bcast, false, false},
		{"broadcast", "-m pkttype --pkt-type broadcast", bcast, true, false},
		{"! broadcast", "-m pkttype ! --pkt-type broadcast", bcast, false, false},
		{"otherhost", "-m pkttype --pkt-type otherhost", withMeta(udpDg(t, 1, 2), func(p *packet.Packet) { p.PktType = packet.PktOtherHost }), true, false},
		{"loopback to a group", "-m pkttype --pkt-type multicast", loopMcast, true, false},
		{"loopback to a subnet", "-m pkttype --pkt-type broadcast", loopBcast, true, false},
		{"loopback is never unicast", "-m pkttype --pkt-type unicast", loopBcast, false, false},
	})
}
