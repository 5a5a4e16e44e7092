package packet

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// A spec is a small text format for crafted packets, one per line, so that
// tests and admins can write a capture by hand ("which rule drops this
// packet?") instead of recording one:
//
//	# a TCP handshake, then an ICMP error about a UDP datagram
//	tcp 198.18.0.2:40000 > 198.18.0.1:22 S seq=1000 mss=1460 wscale=7 sackperm
//	tcp 198.18.0.1:22 > 198.18.0.2:40000 SA seq=5000 ack=1001
//	+1.5s
//	tcp 198.18.0.2:40000 > 198.18.0.1:22 A seq=1001 ack=5001 len=100
//	udp 198.18.0.2:5353 > 198.18.0.1:53 len=20
//	icmp 198.18.0.1 > 198.18.0.2 port-unreachable quote=4
//	icmp 198.18.0.1 > 198.18.0.2 port-unreachable quote=[udp 198.18.0.2:1 > 198.18.0.9:2]
//	icmp 198.18.0.2 > 198.18.0.1 echo-request id=7 seq=1 dev=eth0
//
// A packet line is PROTO SRC > DST, then what the protocol needs, then
// options in any order:
//
//   - tcp SRC:PORT > DST:PORT FLAGS: FLAGS are letters of FSRPAUEC (FIN,
//     SYN, RST, PSH, ACK, URG, ECE, CWR) or "none"; options seq=, ack=,
//     win= (default 65535), mss=, wscale=, sackperm.
//   - udp SRC:PORT > DST:PORT.
//   - icmp SRC > DST NAME: NAME is an iptables --icmp-type name
//     (echo-request, port-unreachable, ...; ip6tables' names for IPv6
//     addresses) or type=N [code=N]. Queries take id= and seq=; errors
//     quote=N (a copy of the Nth packet of the spec, counted from 1, which
//     must come earlier) or quote=[PACKET] (a packet written inline, not
//     itself part of the capture), and quotelen=N to quote only N bytes
//     (the default is what Linux quotes: up to 576 bytes in all). An error
//     without quote= quotes nothing.
//   - ip SRC > DST proto=N: a bare datagram of any protocol.
//
// Options for every protocol: len=N (N zero bytes of payload) or data=HEX,
// ttl= (default 64), tos=, ipid= (default 1), df, frag=OFF or frag=OFF,more
// (a fragment; OFF in 8-byte units; with OFF > 0 the payload is the
// fragment's data and no transport header is built), badsum (a wrong
// transport checksum), truncate=N (cut the datagram to N bytes and fix the
// IP length fields, leaving a short transport header), snap=N (cut it to N
// bytes as a short snap length does, leaving the IP header claiming the
// whole length), dev=NAME (the capture interface, written to pcapng).
//
// A line "+DURATION" (Go syntax: +1.5s, +200ms, +2m) advances the capture
// clock; packets without one share a timestamp. "#" starts a comment.
// Addresses are IPv4 or IPv6 ([fd00::1]:80 with a port).

// SpecPacket is one packet of a spec: the parsed line and the datagram
// built from it. Every field but Line and Data survives RenderSpec and
// ParseSpec unchanged, and so does Data.
type SpecPacket struct {
	// Line is the packet's line in the spec text (0 for an inline quote).
	Line int
	// At is the capture time, from the start of the capture.
	At time.Duration
	// Dev is the capture interface ("" when not given).
	Dev string

	Proto            string // "tcp", "udp", "icmp" or "ip"
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	IPProto          uint8 // the protocol number of "ip"

	// TCP.
	Flags     uint8
	Seq, Ack  uint32
	Win       uint16
	MSS       uint16 // 0: no MSS option
	WScale    uint8
	HasWScale bool
	SACKPerm  bool

	// ICMP.
	ICMPType, ICMPCode uint8
	ICMPID, ICMPSeq    uint16
	Quote              int         // packet number an error quotes, from 1 (0: none)
	QuoteSpec          *SpecPacket // a packet an error quotes inline
	QuoteLen           int         // bytes quoted (0: Linux's default)

	// IP header and shaping.
	TTL, TOS uint8
	IPID     uint16
	DF       bool
	FragOff  uint16
	MoreFrag bool
	HasFrag  bool
	BadSum   bool
	Truncate int // 0: whole
	Snap     int // 0: whole
	Payload  []byte

	// Data is the datagram built from the fields.
	Data []byte
}

// maxQuoteDepth bounds quotes inside quotes, so a hostile spec cannot
// recurse without end.
const maxQuoteDepth = 3

// ParseSpec parses a spec and builds every packet. Errors name the line.
func ParseSpec(text string) ([]SpecPacket, error) {
	var out []SpecPacket
	var at time.Duration
	for n, line := range strings.Split(text, "\n") {
		lineNo := n + 1
		toks, err := specTokens(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", lineNo, err)
		}
		if len(toks) == 0 {
			continue
		}
		if strings.HasPrefix(toks[0], "+") {
			if len(toks) != 1 {
				return nil, fmt.Errorf("line %d: a clock line holds only +DURATION", lineNo)
			}
			d, err := time.ParseDuration(toks[0][1:])
			if err != nil || d < 0 || toks[0][1:] == "" || toks[0][1] == '-' || toks[0][1] == '+' {
				return nil, fmt.Errorf("line %d: %q: want +DURATION such as +1.5s or +200ms", lineNo, toks[0])
			}
			if at+d < at {
				return nil, fmt.Errorf("line %d: capture clock overflows", lineNo)
			}
			at += d
			continue
		}
		sp, err := parseSpecPacket(toks, out, 0)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", lineNo, err)
		}
		sp.Line, sp.At = lineNo, at
		out = append(out, *sp)
	}
	return out, nil
}

// specTokens splits a line at blanks, keeping "[...]" (which may nest and
// hold blanks) in its token, and drops a "#" comment.
func specTokens(line string) ([]string, error) {
	var toks []string
	depth, start := 0, -1
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '#' && depth == 0:
			line = line[:i]
		case c == '[':
			depth++
		case c == ']':
			if depth == 0 {
				return nil, fmt.Errorf("unbalanced \"]\"")
			}
			depth--
		}
		if i >= len(line) {
			break
		}
		blank := c == ' ' || c == '\t' || c == '\r'
		if blank && depth == 0 {
			if start >= 0 {
				toks = append(toks, line[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("unbalanced \"[\"")
	}
	if start >= 0 {
		toks = append(toks, line[start:])
	}
	return toks, nil
}

func parseSpecPacket(toks []string, prev []SpecPacket, depth int) (*SpecPacket, error) {
	sp := &SpecPacket{Proto: toks[0], TTL: 64, IPID: 1, Win: 65535}
	ports := false
	switch sp.Proto {
	case "tcp", "udp":
		ports = true
	case "icmp", "ip":
	default:
		return nil, fmt.Errorf("%q: want tcp, udp, icmp or ip", sp.Proto)
	}
	if len(toks) < 4 || toks[2] != ">" {
		if ports {
			return nil, fmt.Errorf("want %s SRC:PORT > DST:PORT", sp.Proto)
		}
		return nil, fmt.Errorf("want %s SRC > DST", sp.Proto)
	}
	var err error
	if sp.Src, sp.SrcPort, err = specAddr(toks[1], ports); err != nil {
		return nil, err
	}
	if sp.Dst, sp.DstPort, err = specAddr(toks[3], ports); err != nil {
		return nil, err
	}
	if sp.Src.Is4() != sp.Dst.Is4() {
		return nil, fmt.Errorf("%s and %s are not of one family", sp.Src, sp.Dst)
	}
	rest := toks[4:]
	hasType := false
	switch sp.Proto {
	case "tcp":
		if len(rest) == 0 {
			return nil, fmt.Errorf("tcp wants FLAGS after the addresses (letters of FSRPAUEC, or none)")
		}
		if sp.Flags, err = parseFlags(rest[0]); err != nil {
			return nil, err
		}
		rest = rest[1:]
	case "icmp":
		if len(rest) > 0 && !strings.Contains(rest[0], "=") {
			t, c, ok := icmpByName(rest[0], sp.Src.Is6())
			if !ok {
				return nil, fmt.Errorf("unknown ICMP type %q", rest[0])
			}
			sp.ICMPType, sp.ICMPCode, hasType = t, c, true
			rest = rest[1:]
		}
	}
	seen := map[string]bool{}
	for _, o := range rest {
		k, v, hasV := strings.Cut(o, "=")
		if seen[k] {
			return nil, fmt.Errorf("%s given twice", k)
		}
		seen[k] = true
		if err := sp.option(k, v, hasV, prev, depth); err != nil {
			return nil, err
		}
	}
	if err := sp.check(hasType || seen["type"], seen); err != nil {
		return nil, err
	}
	if sp.Data, err = sp.build(prev); err != nil {
		return nil, err
	}
	return sp, nil
}

func specAddr(s string, port bool) (netip.Addr, uint16, error) {
	var a netip.Addr
	var p uint16
	if port {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return a, 0, fmt.Errorf("%q: want ADDR:PORT ([ADDR]:PORT for IPv6)", s)
		}
		a, p = ap.Addr(), ap.Port()
	} else {
		var err error
		if a, err = netip.ParseAddr(s); err != nil {
			return a, 0, fmt.Errorf("%q: want an address without a port", s)
		}
	}
	if a.Zone() != "" || a.Is4In6() {
		return a, 0, fmt.Errorf("%q: no zones or IPv4-mapped addresses", s)
	}
	return a, p, nil
}

// tcpFlagLetters names the TCP flag bits, bit 0 (FIN) first, in the order
// the flags are rendered.
const tcpFlagLetters = "FSRPAUEC"

func parseFlags(s string) (uint8, error) {
	if s == "none" {
		return 0, nil
	}
	var f uint8
	for i := 0; i < len(s); i++ {
		n := strings.IndexByte(tcpFlagLetters, s[i])
		if n < 0 || f&(1<<n) != 0 {
			return 0, fmt.Errorf("TCP flags %q: want letters of FSRPAUEC, each once, or none", s)
		}
		f |= 1 << n
	}
	return f, nil
}

// FlagString renders TCP flags as a spec writes them: letters of FSRPAUEC
// in bit order, or "none".
func FlagString(f uint8) string {
	if f == 0 {
		return "none"
	}
	var b []byte
	for i := 0; i < 8; i++ {
		if f&(1<<i) != 0 {
			b = append(b, tcpFlagLetters[i])
		}
	}
	return string(b)
}

func specUint(k, v string, bits int) (uint64, error) {
	n, err := strconv.ParseUint(v, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: want a number below %d", k, v, uint64(1)<<bits)
	}
	return n, nil
}

// option applies one option (k=v, or a bare word).
func (sp *SpecPacket) option(k, v string, hasV bool, prev []SpecPacket, depth int) error {
	bare := map[string]bool{"sackperm": true, "df": true, "badsum": true}
	if bare[k] == hasV {
		if hasV {
			return fmt.Errorf("%s takes no value", k)
		}
		return fmt.Errorf("%q: want KEY=VALUE", k)
	}
	only := func(protos ...string) error {
		for _, p := range protos {
			if sp.Proto == p {
				return nil
			}
		}
		return fmt.Errorf("%s is not an option of %s", k, sp.Proto)
	}
	num := func(bits int, dst func(uint64)) error {
		n, err := specUint(k, v, bits)
		if err == nil {
			dst(n)
		}
		return err
	}
	switch k {
	case "seq":
		if err := only("tcp", "icmp"); err != nil {
			return err
		}
		if sp.Proto == "icmp" {
			return num(16, func(n uint64) { sp.ICMPSeq = uint16(n) })
		}
		return num(32, func(n uint64) { sp.Seq = uint32(n) })
	case "ack":
		if err := only("tcp"); err != nil {
			return err
		}
		return num(32, func(n uint64) { sp.Ack = uint32(n) })
	case "win":
		if err := only("tcp"); err != nil {
			return err
		}
		return num(16, func(n uint64) { sp.Win = uint16(n) })
	case "mss":
		if err := only("tcp"); err != nil {
			return err
		}
		if err := num(16, func(n uint64) { sp.MSS = uint16(n) }); err != nil {
			return err
		}
		if sp.MSS == 0 {
			return fmt.Errorf("mss=0: leave the option out for no MSS")
		}
		return nil
	case "wscale":
		if err := only("tcp"); err != nil {
			return err
		}
		sp.HasWScale = true
		return num(8, func(n uint64) { sp.WScale = uint8(n) })
	case "sackperm":
		sp.SACKPerm = true
		return only("tcp")
	case "type", "code":
		if err := only("icmp"); err != nil {
			return err
		}
		if k == "type" {
			return num(8, func(n uint64) { sp.ICMPType = uint8(n) })
		}
		return num(8, func(n uint64) { sp.ICMPCode = uint8(n) })
	case "id":
		if err := only("icmp"); err != nil {
			return err
		}
		return num(16, func(n uint64) { sp.ICMPID = uint16(n) })
	case "quote":
		if err := only("icmp"); err != nil {
			return err
		}
		if strings.HasPrefix(v, "[") {
			if !strings.HasSuffix(v, "]") {
				return fmt.Errorf("quote=%s: want quote=[PACKET]", v)
			}
			if depth >= maxQuoteDepth {
				return fmt.Errorf("quotes nest deeper than %d", maxQuoteDepth)
			}
			toks, err := specTokens(v[1 : len(v)-1])
			if err != nil || len(toks) == 0 {
				return fmt.Errorf("quote=%s: want quote=[PACKET]", v)
			}
			q, err := parseSpecPacket(toks, prev, depth+1)
			if err != nil {
				return fmt.Errorf("quote=[...]: %v", err)
			}
			sp.QuoteSpec = q
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > len(prev) {
			return fmt.Errorf("quote=%s: want the number of an earlier packet (1 to %d) or quote=[PACKET]", v, len(prev))
		}
		sp.Quote = n
		return nil
	case "quotelen":
		if err := only("icmp"); err != nil {
			return err
		}
		if err := num(16, func(n uint64) { sp.QuoteLen = int(n) }); err != nil {
			return err
		}
		if sp.QuoteLen == 0 {
			return fmt.Errorf("quotelen=0: leave quote= out to quote nothing")
		}
		return nil
	case "proto":
		if err := only("ip"); err != nil {
			return err
		}
		return num(8, func(n uint64) { sp.IPProto = uint8(n) })
	case "len":
		n, err := specUint(k, v, 16)
		if err != nil {
			return err
		}
		sp.Payload = nil // len=0 is no payload, as a rendered spec says it
		if n > 0 {
			sp.Payload = make([]byte, n)
		}
		return nil
	case "data":
		b, err := hex.DecodeString(v)
		if err != nil || len(b) > 65535 {
			return fmt.Errorf("data=%q: want hexadecimal bytes", v)
		}
		sp.Payload = nil
		if len(b) > 0 {
			sp.Payload = b
		}
		return nil
	case "ttl":
		return num(8, func(n uint64) { sp.TTL = uint8(n) })
	case "tos":
		return num(8, func(n uint64) { sp.TOS = uint8(n) })
	case "ipid":
		return num(16, func(n uint64) { sp.IPID = uint16(n) })
	case "df":
		sp.DF = true
		return nil
	case "frag":
		off, more, _ := strings.Cut(v, ",")
		if more != "" && more != "more" || strings.HasSuffix(v, ",") {
			return fmt.Errorf("frag=%s: want frag=OFFSET or frag=OFFSET,more", v)
		}
		n, err := strconv.ParseUint(off, 10, 13)
		if err != nil {
			return fmt.Errorf("frag=%s: the offset (in 8-byte units) is 0 to 8191", v)
		}
		sp.FragOff, sp.MoreFrag, sp.HasFrag = uint16(n), more == "more", true
		if n == 0 && !sp.MoreFrag {
			return fmt.Errorf("frag=0 is a whole datagram: give frag=0,more for a first fragment")
		}
		return nil
	case "badsum":
		sp.BadSum = true
		return nil
	case "truncate", "snap":
		n, err := specUint(k, v, 16)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("%s=0: want at least one byte", k)
		}
		if k == "truncate" {
			sp.Truncate = int(n)
		} else {
			sp.Snap = int(n)
		}
		return nil
	case "dev":
		if depth > 0 {
			return fmt.Errorf("a quoted packet has no dev=")
		}
		if v == "" || len(v) > 15 || strings.ContainsAny(v, "/:[]#=") {
			return fmt.Errorf("dev=%q: want an interface name of 1 to 15 characters", v)
		}
		sp.Dev = v
		return nil
	}
	return fmt.Errorf("unknown option %q", k)
}

// check applies the rules that concern several options together.
func (sp *SpecPacket) check(hasType bool, seen map[string]bool) error {
	if sp.Proto == "icmp" {
		if !hasType {
			return fmt.Errorf("icmp wants a type: a name such as echo-request, or type=N")
		}
		if seen["code"] && !seen["type"] {
			return fmt.Errorf("code= goes with type=, not with a type name")
		}
		isErr := icmpIsErr(sp.ICMPType, sp.Src.Is6())
		if isErr && (seen["id"] || seen["seq"]) {
			return fmt.Errorf("an ICMP error has no id= or seq=")
		}
		if !isErr && (seen["quote"] || seen["quotelen"]) {
			return fmt.Errorf("only an ICMP error quotes a packet")
		}
		if seen["quotelen"] && !seen["quote"] {
			return fmt.Errorf("quotelen= needs quote=")
		}
		if isErr && (seen["len"] || seen["data"]) && sp.FragOff == 0 {
			return fmt.Errorf("an ICMP error carries its quote, not len= or data=")
		}
	}
	if sp.Proto == "ip" && !seen["proto"] {
		return fmt.Errorf("ip wants proto=N")
	}
	if seen["len"] && seen["data"] {
		return fmt.Errorf("give len= or data=, not both")
	}
	if seen["truncate"] && seen["snap"] {
		return fmt.Errorf("give truncate= or snap=, not both")
	}
	return nil
}

func icmpIsErr(typ uint8, v6 bool) bool {
	if v6 {
		return ICMPv6IsError(typ)
	}
	return ICMPIsError(typ)
}

// build crafts the datagram with the Build functions.
func (sp *SpecPacket) build(prev []SpecPacket) ([]byte, error) {
	var opts []BuildOpt
	if sp.TTL != 64 {
		opts = append(opts, WithTTL(sp.TTL))
	}
	opts = append(opts, WithTOS(sp.TOS), WithID(sp.IPID))
	if sp.DF {
		opts = append(opts, WithDF())
	}
	if sp.HasFrag {
		opts = append(opts, WithFrag(sp.FragOff, sp.MoreFrag))
	}
	if sp.BadSum {
		opts = append(opts, WithBadChecksum())
	}
	src, dst := netip.AddrPortFrom(sp.Src, sp.SrcPort), netip.AddrPortFrom(sp.Dst, sp.DstPort)
	var dg []byte
	switch {
	case sp.FragOff != 0:
		proto := sp.IPProto
		switch sp.Proto {
		case "tcp":
			proto = ProtoTCP
		case "udp":
			proto = ProtoUDP
		case "icmp":
			proto = ProtoICMP
			if sp.Src.Is6() {
				proto = ProtoICMPv6
			}
		}
		dg = BuildIP(sp.Src, sp.Dst, proto, sp.Payload, opts...)
	case sp.Proto == "tcp":
		if sp.MSS != 0 {
			opts = append(opts, WithMSS(sp.MSS))
		}
		if sp.HasWScale {
			opts = append(opts, WithWScale(sp.WScale))
		}
		if sp.SACKPerm {
			opts = append(opts, WithSACKPerm())
		}
		dg = BuildTCP(src, dst, sp.Flags, sp.Seq, sp.Ack, sp.Win, sp.Payload, opts...)
	case sp.Proto == "udp":
		dg = BuildUDP(src, dst, sp.Payload, opts...)
	case sp.Proto == "icmp" && icmpIsErr(sp.ICMPType, sp.Src.Is6()):
		var q []byte
		switch {
		case sp.QuoteSpec != nil:
			q = sp.QuoteSpec.Data
		case sp.Quote > 0:
			q = prev[sp.Quote-1].Data
		}
		if sp.QuoteLen > 0 {
			opts = append(opts, WithQuote(sp.QuoteLen))
		}
		dg = BuildICMPError(sp.Src, sp.Dst, sp.ICMPType, sp.ICMPCode, q, opts...)
	case sp.Proto == "icmp":
		dg = BuildICMP(sp.Src, sp.Dst, sp.ICMPType, sp.ICMPCode, sp.ICMPID, sp.ICMPSeq, sp.Payload, opts...)
	default:
		dg = BuildIP(sp.Src, sp.Dst, sp.IPProto, sp.Payload, opts...)
	}
	if len(dg) > 65535 {
		return nil, fmt.Errorf("the datagram would be %d bytes, more than 65535", len(dg))
	}
	hl := 20
	if sp.Src.Is6() {
		hl = 40
	}
	switch {
	case sp.Truncate > 0:
		if sp.Truncate < hl || sp.Truncate > len(dg) {
			return nil, fmt.Errorf("truncate=%d: want %d to %d (the IP header to the whole datagram)", sp.Truncate, hl, len(dg))
		}
		dg = dg[:sp.Truncate]
		if sp.Src.Is6() {
			put16(dg[4:], uint16(len(dg)-40))
		} else {
			put16(dg[2:], uint16(len(dg)))
			put16(dg[10:], 0)
			put16(dg[10:], ^fold(sumBytes(dg[:20], 0)))
		}
	case sp.Snap > 0:
		if sp.Snap > len(dg) {
			return nil, fmt.Errorf("snap=%d: the datagram has only %d bytes", sp.Snap, len(dg))
		}
		dg = dg[:sp.Snap]
	}
	return dg, nil
}

// String renders the packet as a spec line, options in a fixed order and
// defaults left out, so that parsing it gives the same packet.
func (sp *SpecPacket) String() string {
	var b strings.Builder
	b.WriteString(sp.Proto)
	b.WriteByte(' ')
	ports := sp.Proto == "tcp" || sp.Proto == "udp"
	addr := func(a netip.Addr, p uint16) {
		if ports {
			b.WriteString(netip.AddrPortFrom(a, p).String())
		} else {
			b.WriteString(a.String())
		}
	}
	addr(sp.Src, sp.SrcPort)
	b.WriteString(" > ")
	addr(sp.Dst, sp.DstPort)
	kv := func(k string, v uint64) { fmt.Fprintf(&b, " %s=%d", k, v) }
	switch sp.Proto {
	case "tcp":
		b.WriteString(" " + FlagString(sp.Flags))
		if sp.Seq != 0 {
			kv("seq", uint64(sp.Seq))
		}
		if sp.Ack != 0 {
			kv("ack", uint64(sp.Ack))
		}
		if sp.Win != 65535 {
			kv("win", uint64(sp.Win))
		}
		if sp.MSS != 0 {
			kv("mss", uint64(sp.MSS))
		}
		if sp.HasWScale {
			kv("wscale", uint64(sp.WScale))
		}
		if sp.SACKPerm {
			b.WriteString(" sackperm")
		}
	case "icmp":
		if name, ok := icmpName(sp.ICMPType, sp.ICMPCode, sp.Src.Is6()); ok {
			b.WriteString(" " + name)
		} else {
			kv("type", uint64(sp.ICMPType))
			kv("code", uint64(sp.ICMPCode))
		}
		if sp.ICMPID != 0 {
			kv("id", uint64(sp.ICMPID))
		}
		if sp.ICMPSeq != 0 {
			kv("seq", uint64(sp.ICMPSeq))
		}
		if sp.QuoteSpec != nil {
			b.WriteString(" quote=[" + sp.QuoteSpec.String() + "]")
		} else if sp.Quote != 0 {
			kv("quote", uint64(sp.Quote))
		}
		if sp.QuoteLen != 0 {
			kv("quotelen", uint64(sp.QuoteLen))
		}
	case "ip":
		kv("proto", uint64(sp.IPProto))
	}
	if len(sp.Payload) > 0 {
		zero := true
		for _, c := range sp.Payload {
			zero = zero && c == 0
		}
		if zero {
			kv("len", uint64(len(sp.Payload)))
		} else {
			b.WriteString(" data=" + hex.EncodeToString(sp.Payload))
		}
	}
	if sp.TTL != 64 {
		kv("ttl", uint64(sp.TTL))
	}
	if sp.TOS != 0 {
		kv("tos", uint64(sp.TOS))
	}
	if sp.IPID != 1 {
		kv("ipid", uint64(sp.IPID))
	}
	if sp.DF {
		b.WriteString(" df")
	}
	if sp.HasFrag {
		kv("frag", uint64(sp.FragOff))
		if sp.MoreFrag {
			b.WriteString(",more")
		}
	}
	if sp.BadSum {
		b.WriteString(" badsum")
	}
	if sp.Truncate != 0 {
		kv("truncate", uint64(sp.Truncate))
	}
	if sp.Snap != 0 {
		kv("snap", uint64(sp.Snap))
	}
	if sp.Dev != "" {
		b.WriteString(" dev=" + sp.Dev)
	}
	return b.String()
}

// RenderSpec renders packets as a spec: a "+DURATION" line wherever the
// clock moves, then each packet's line.
func RenderSpec(pkts []SpecPacket) string {
	var b strings.Builder
	var at time.Duration
	for i := range pkts {
		if d := pkts[i].At - at; d > 0 {
			b.WriteString("+" + d.String() + "\n")
			at = pkts[i].At
		}
		b.WriteString(pkts[i].String())
		b.WriteByte('\n')
	}
	return b.String()
}

// ReadSpecFile parses the spec file at path; errors name the file and line.
func ReadSpecFile(path string) ([]SpecPacket, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pkts, err := ParseSpec(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return pkts, nil
}

// icmpTypeName is one ICMP type name as iptables (libxt_icmp.h) or
// ip6tables (libip6t_icmp6.c) spells it: a code-specific name when lo ==
// hi, a whole-type name (code 0 when crafting) when lo < hi.
type icmpTypeName struct {
	name   string
	typ    uint8
	lo, hi uint8
}

// icmpNames are iptables' --icmp-type names without the aliases (ping,
// pong, ttl-exceeded), so that rendering picks one name.
var icmpNames = []icmpTypeName{
	{"echo-reply", 0, 0, 0xff},
	{"destination-unreachable", 3, 0, 0xff},
	{"network-unreachable", 3, 0, 0},
	{"host-unreachable", 3, 1, 1},
	{"protocol-unreachable", 3, 2, 2},
	{"port-unreachable", 3, 3, 3},
	{"fragmentation-needed", 3, 4, 4},
	{"source-route-failed", 3, 5, 5},
	{"network-unknown", 3, 6, 6},
	{"host-unknown", 3, 7, 7},
	{"network-prohibited", 3, 9, 9},
	{"host-prohibited", 3, 10, 10},
	{"TOS-network-unreachable", 3, 11, 11},
	{"TOS-host-unreachable", 3, 12, 12},
	{"communication-prohibited", 3, 13, 13},
	{"host-precedence-violation", 3, 14, 14},
	{"precedence-cutoff", 3, 15, 15},
	{"source-quench", 4, 0, 0xff},
	{"redirect", 5, 0, 0xff},
	{"network-redirect", 5, 0, 0},
	{"host-redirect", 5, 1, 1},
	{"TOS-network-redirect", 5, 2, 2},
	{"TOS-host-redirect", 5, 3, 3},
	{"echo-request", 8, 0, 0xff},
	{"router-advertisement", 9, 0, 0xff},
	{"router-solicitation", 10, 0, 0xff},
	{"time-exceeded", 11, 0, 0xff},
	{"ttl-zero-during-transit", 11, 0, 0},
	{"ttl-zero-during-reassembly", 11, 1, 1},
	{"parameter-problem", 12, 0, 0xff},
	{"ip-header-bad", 12, 0, 0},
	{"required-option-missing", 12, 1, 1},
	{"timestamp-request", 13, 0, 0xff},
	{"timestamp-reply", 14, 0, 0xff},
	{"address-mask-request", 17, 0, 0xff},
	{"address-mask-reply", 18, 0, 0xff},
}

// icmp6Names are ip6tables' --icmpv6-type names, aliases left out.
var icmp6Names = []icmpTypeName{
	{"destination-unreachable", 1, 0, 0xff},
	{"no-route", 1, 0, 0},
	{"communication-prohibited", 1, 1, 1},
	{"beyond-scope", 1, 2, 2},
	{"address-unreachable", 1, 3, 3},
	{"port-unreachable", 1, 4, 4},
	{"failed-policy", 1, 5, 5},
	{"reject-route", 1, 6, 6},
	{"packet-too-big", 2, 0, 0xff},
	{"time-exceeded", 3, 0, 0xff},
	{"ttl-zero-during-transit", 3, 0, 0},
	{"ttl-zero-during-reassembly", 3, 1, 1},
	{"parameter-problem", 4, 0, 0xff},
	{"bad-header", 4, 0, 0},
	{"unknown-header-type", 4, 1, 1},
	{"unknown-option", 4, 2, 2},
	{"echo-request", 128, 0, 0xff},
	{"echo-reply", 129, 0, 0xff},
	{"router-solicitation", 133, 0, 0xff},
	{"router-advertisement", 134, 0, 0xff},
	{"neighbour-solicitation", 135, 0, 0xff},
	{"neighbour-advertisement", 136, 0, 0xff},
	{"redirect", 137, 0, 0xff},
}

func icmpTable(v6 bool) []icmpTypeName {
	if v6 {
		return icmp6Names
	}
	return icmpNames
}

// icmpByName returns the type and code a name crafts (a whole-type name
// crafts code 0).
func icmpByName(name string, v6 bool) (typ, code uint8, ok bool) {
	for _, n := range icmpTable(v6) {
		if n.name == name {
			return n.typ, n.lo, true
		}
	}
	return 0, 0, false
}

// icmpName returns the name that crafts exactly type and code: the
// code-specific one if there is one, else the whole type's for code 0.
func icmpName(typ, code uint8, v6 bool) (string, bool) {
	whole := ""
	for _, n := range icmpTable(v6) {
		if n.typ != typ {
			continue
		}
		if n.lo == code && n.hi == code {
			return n.name, true
		}
		if n.lo != n.hi && code == 0 {
			whole = n.name
		}
	}
	return whole, whole != ""
}

// Summary describes a decoded packet on one line, in the spec's words
// where it can ("tcp 198.18.0.2:40000 > 198.18.0.1:22 S seq=1000
// win=64240 mss=1460"), for gofw trace: the TCP sequence numbers and
// window (what makes a segment out of window), the ICMP type and the
// tuple an error quotes, the fragment, a wrong checksum ("badsum") and,
// in parentheses, why the packet is malformed. It allocates; it is not for
// the packet path.
func (p *Packet) Summary() string {
	var b strings.Builder
	if p.Malformed && p.Reason.L3() || p.Family == 0 {
		fmt.Fprintf(&b, "ip len=%d (%s)", len(p.Data), p.Reason)
		return b.String()
	}
	v6 := p.Family == 6
	name := ""
	switch p.Proto {
	case ProtoTCP:
		name = "tcp"
	case ProtoUDP:
		name = "udp"
	case ProtoICMP, ProtoICMPv6:
		name = "icmp"
	case ProtoUDPLite:
		name = "udplite"
	case ProtoSCTP:
		name = "sctp"
	case ProtoDCCP:
		name = "dccp"
	case ProtoGRE:
		name = "gre"
	default:
		name = "ip"
	}
	b.WriteString(name + " ")
	if p.HasPorts {
		b.WriteString(netip.AddrPortFrom(p.Src, p.SrcPort).String() + " > " + netip.AddrPortFrom(p.Dst, p.DstPort).String())
	} else {
		b.WriteString(p.Src.String() + " > " + p.Dst.String())
	}
	if name == "ip" {
		fmt.Fprintf(&b, " proto=%d", p.Proto)
	}
	payload := -1
	if p.PayloadOff >= 0 {
		payload = len(p.Data) - p.PayloadOff
	}
	switch {
	case p.FragOff != 0 || p.L4Off < 0:
	case p.Proto == ProtoTCP && p.TCPHdrLen >= 20:
		b.WriteString(" " + FlagString(p.TCPFlags))
		fmt.Fprintf(&b, " seq=%d", p.Seq)
		if p.TCPFlags&TCPAck != 0 {
			fmt.Fprintf(&b, " ack=%d", p.Ack)
		}
		fmt.Fprintf(&b, " win=%d", p.Window)
		if m, ok := p.TCPMSS(); ok {
			fmt.Fprintf(&b, " mss=%d", m)
		}
		if w, ok := p.TCPWScale(); ok {
			fmt.Fprintf(&b, " wscale=%d", w)
		}
		if p.TCPSACKPerm() {
			b.WriteString(" sackperm")
		}
	case (p.Proto == ProtoICMP && !v6 || p.Proto == ProtoICMPv6 && v6) && len(p.Data)-p.L4Off >= 8:
		if n, ok := icmpName(p.ICMPType, p.ICMPCode, v6); ok {
			b.WriteString(" " + n)
		} else {
			fmt.Fprintf(&b, " type=%d code=%d", p.ICMPType, p.ICMPCode)
		}
		if icmpIsErr(p.ICMPType, v6) {
			payload = -1
			if p.HasInner {
				b.WriteString(" quote=[" + p.innerSummary() + "]")
			} else {
				b.WriteString(" quote=[]")
			}
		} else {
			if p.ICMPID != 0 {
				fmt.Fprintf(&b, " id=%d", p.ICMPID)
			}
			if s := be16(p.Data[p.L4Off+6:]); s != 0 {
				fmt.Fprintf(&b, " seq=%d", s)
			}
		}
	}
	if payload >= 0 {
		fmt.Fprintf(&b, " len=%d", payload)
	}
	if p.FragOff != 0 || p.MoreFrag {
		fmt.Fprintf(&b, " frag=%d", p.FragOff)
		if p.MoreFrag {
			b.WriteString(",more")
		}
	}
	if p.Malformed {
		fmt.Fprintf(&b, " (%s)", p.Reason)
	} else if !p.ChecksumOK() {
		b.WriteString(" badsum")
	}
	return b.String()
}

// innerSummary names the tuple an ICMP error quotes.
func (p *Packet) innerSummary() string {
	var b strings.Builder
	switch p.InnerProto {
	case ProtoTCP:
		b.WriteString("tcp ")
	case ProtoUDP:
		b.WriteString("udp ")
	case ProtoICMP, ProtoICMPv6:
		b.WriteString("icmp ")
	default:
		b.WriteString("ip ")
	}
	if p.InnerHasPorts {
		b.WriteString(netip.AddrPortFrom(p.InnerSrc, p.InnerSrcPort).String() + " > " + netip.AddrPortFrom(p.InnerDst, p.InnerDstPort).String())
	} else {
		b.WriteString(p.InnerSrc.String() + " > " + p.InnerDst.String())
	}
	switch p.InnerProto {
	case ProtoTCP, ProtoUDP, ProtoICMP, ProtoICMPv6:
	default:
		fmt.Fprintf(&b, " proto=%d", p.InnerProto)
	}
	if p.InnerProto == ProtoICMP || p.InnerProto == ProtoICMPv6 {
		v6 := p.InnerProto == ProtoICMPv6
		if n, ok := icmpName(p.InnerICMPType, p.InnerICMPCode, v6); ok {
			b.WriteString(" " + n)
		} else {
			fmt.Fprintf(&b, " type=%d code=%d", p.InnerICMPType, p.InnerICMPCode)
		}
		if p.InnerICMPID != 0 {
			fmt.Fprintf(&b, " id=%d", p.InnerICMPID)
		}
	}
	return b.String()
}

// SpecEpoch is the capture time of a spec's first packet, fixed so that
// captures written from the same spec (pcap.WriteSpec) are the same byte
// for byte.
var SpecEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
