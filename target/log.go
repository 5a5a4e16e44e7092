package target

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
)

// logInfo is the LOG target (libxt_LOG.c, xt_LOG.c / nf_log_syslog.c): log
// the packet's headers with a prefix at a syslog level, then continue.
var logInfo = &Info{
	Name: "LOG",
	Opts: []match.Opt{
		{Name: "log-level", Arg: true},
		{Name: "log-prefix", Arg: true},
		{Name: "log-tcp-sequence"},
		{Name: "log-tcp-options"},
		{Name: "log-ip-options"},
		{Name: "log-uid"},
		{Name: "log-macdecode"},
	},
	New: func() Target { return &Log{Level: logDefaultLevel} },
}

// LogFlags selects the optional parts of a LOG line, with the kernel's
// XT_LOG_* bit values (xt_LOG.h): -L -n prints them as a number.
type LogFlags uint8

// The LOG flags.
const (
	LogTCPSequence LogFlags = 0x01 // XT_LOG_TCPSEQ
	LogTCPOptions  LogFlags = 0x02 // XT_LOG_TCPOPT
	LogIPOptions   LogFlags = 0x04 // XT_LOG_IPOPT
	LogUID         LogFlags = 0x08 // XT_LOG_UID
	LogMACDecode   LogFlags = 0x20 // XT_LOG_MACDECODE (0x10 was XT_LOG_NFLOG)
)

// logDefaultLevel is LOG_WARNING, which iptables-save leaves out.
const logDefaultLevel = 4

// logPrefixSize is sizeof(xt_log_info.prefix): longer prefixes are cut to
// 29 bytes without a word.
const logPrefixSize = 30

// Log is one LOG target.
type Log struct {
	Level  uint8 // syslog priority, 0 (emerg) to 7 (debug)
	Flags  LogFlags
	Prefix string

	sink logSink
}

// logLevelNames are the names xtopt_parse_sysloglevel accepts, matched
// case-sensitively ("error" and "panic" are deprecated spellings).
var logLevelNames = map[string]uint8{
	"alert": 1, "crit": 2, "debug": 7, "emerg": 0, "error": 3,
	"info": 6, "notice": 5, "panic": 0, "warning": 4,
}

// logLevelText is what LOG_print shows without -n: the first name glibc's
// prioritynames table has for each level.
var logLevelText = [8]string{"emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"}

// logFlagOrder is the order LOG_save and LOG_print list the flags in.
var logFlagOrder = []struct {
	f    LogFlags
	name string
}{
	{LogTCPSequence, "tcp-sequence"},
	{LogTCPOptions, "tcp-options"},
	{LogIPOptions, "ip-options"},
	{LogUID, "uid"},
	{LogMACDecode, "macdecode"},
}

// Parse implements Target.
func (t *Log) Parse(a *match.Arg) error {
	switch a.Name {
	case "log-level":
		if v, ok := match.XtUint(a.Value, 0, 7); ok {
			t.Level = uint8(v)
			return nil
		}
		l, ok := logLevelNames[a.Value]
		if !ok {
			return grammar.ParamNLf("log level \"%s\" unknown", a.Value)
		}
		t.Level = l
	case "log-prefix":
		p, err := match.XtString(a.Value, 1, logPrefixSize)
		if err != nil {
			return err
		}
		// LOG_parse refuses a newline anywhere in the argument, also past
		// the cut: it would split the kernel's log line.
		if strings.IndexByte(a.Value, '\n') >= 0 {
			return grammar.Paramf("Newlines not allowed in --log-prefix")
		}
		t.Prefix = p
	default:
		for _, f := range logFlagOrder {
			if a.Name == "log-"+f.name {
				t.Flags |= f.f
			}
		}
	}
	return nil
}

// Final implements Target.
func (t *Log) Final(*match.Rule) error { return nil }

// Save implements Target.
func (t *Log) Save(b *strings.Builder) {
	if t.Prefix != "" {
		b.WriteString(" --log-prefix ")
		match.SaveString(b, t.Prefix)
	}
	if t.Level != logDefaultLevel {
		b.WriteString(" --log-level ")
		b.WriteString(strconv.Itoa(int(t.Level)))
	}
	for _, f := range logFlagOrder {
		if t.Flags&f.f != 0 {
			b.WriteString(" --log-")
			b.WriteString(f.name)
		}
	}
}

// Print implements Target. With -n iptables shows the raw flag bits and
// level; otherwise the level's name and each flag's name.
func (t *Log) Print(b *strings.Builder, numeric bool) {
	b.WriteString(" LOG")
	if numeric {
		fmt.Fprintf(b, " flags %d level %d", t.Flags, t.Level)
	} else {
		b.WriteString(" level ")
		b.WriteString(logLevelText[t.Level&7])
		for _, f := range logFlagOrder {
			if t.Flags&f.f != 0 {
				b.WriteByte(' ')
				b.WriteString(f.name)
			}
		}
	}
	if t.Prefix != "" {
		b.WriteString(" prefix \"")
		b.WriteString(t.Prefix)
		b.WriteByte('"')
	}
}

// logSink is where a LOG or NFLOG rule delivers its lines: the engine's
// Env.LogRecord, or else Env.Log.
type logSink struct {
	rec  func(level uint8, line []byte)
	line func(line string)
}

func (s *logSink) bind(env *match.Env) {
	s.rec, s.line = env.LogRecord, env.Log
}

// logBufs holds the line buffers, so that formatting does not allocate:
// the longest line nf_log_syslog.c can write is under its 1020-byte buffer
// (its own count: 806 bytes plus the prefix), so one buffer of 1 KiB
// serves every line.
var logBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// deliver formats p's line after head (the prefix) and hands it to the
// sink at level. With Env.LogRecord nothing allocates; Env.Log takes a
// string, which costs one allocation per line.
func (s *logSink) deliver(p *packet.Packet, level uint8, head1, head2 string, flags LogFlags, macFlags LogFlags) {
	if s.rec == nil && s.line == nil {
		return
	}
	bp := logBufs.Get().(*[]byte)
	b := append((*bp)[:0], head1...)
	b = append(b, head2...)
	b = appendLogLine(b, p, flags, macFlags)
	if s.rec != nil {
		s.rec(level, b)
	} else {
		s.line(string(b))
	}
	*bp = b
	logBufs.Put(bp)
}

// Bind implements match.Binder: the rule logs to the engine's sink.
func (t *Log) Bind(env *match.Env) error {
	t.sink.bind(env)
	return nil
}

// Do implements Doer as xt_LOG.c log_tg with nf_log_syslog.c's IPv4
// logger: the line the kernel writes to its log for p, the level going
// beside it (see match.Env.LogRecord). gofw rules are IPv4 rules, so only
// IPv4 packets reach it. Called for every packet that reaches the rule; it
// does not allocate when the sink is Env.LogRecord.
func (t *Log) Do(p *packet.Packet) Verdict {
	if p.Family == 4 {
		t.sink.deliver(p, t.Level, t.Prefix, "", t.Flags, t.Flags)
	}
	return Continue
}

// appendLogLine is nf_log_ip_packet after the prefix:
// nf_log_dump_packet_common's interfaces, dump_mac_header for a packet
// that came in on an interface, and dump_ipv4_packet. macFlags are the
// flags dump_mac_header reads (0 for NFLOG, which is not NF_LOG_TYPE_LOG).
//
// The MAC part differs from the kernel's. The kernel prints the whole
// link-layer header, "MAC=" destination, source and EtherType (14 bytes
// on Ethernet), or with --log-macdecode MACSRC=, MACDST= and MACPROTO=.
// The NFQUEUE message gofw gets the packet from carries only the source
// address (NFQA_HWADDR; the full header, NFQA_L2HDR, is sent for bridge
// packets only), so gofw prints what it knows: "MAC=" and the source
// address, or "MACSRC=" and the source address. A packet without a known
// link-layer address prints "MAC= ", as the kernel does for an interface
// without a link-layer header (tun, WireGuard, PPP).
func appendLogLine(b []byte, p *packet.Packet, flags, macFlags LogFlags) []byte {
	b = append(b, "IN="...)
	b = append(b, p.InIface...)
	b = append(b, " OUT="...)
	b = append(b, p.OutIface...)
	b = append(b, ' ')
	if p.InIface != "" {
		switch {
		case p.HasMAC && macFlags&LogMACDecode != 0:
			b = append(b, "MACSRC="...)
			b = appendMAC(b, p.SrcMAC[:])
			b = append(b, ' ')
		case p.HasMAC:
			b = append(b, "MAC="...)
			b = appendMAC(b, p.SrcMAC[:])
			b = append(b, ' ')
		default:
			b = append(b, "MAC= "...)
		}
	}
	return appendIPv4Log(b, p, p.Data, 0, flags)
}

const hexUpper, hexLower = "0123456789ABCDEF", "0123456789abcdef"

// appendMAC appends a as %pM does: lower-case hex bytes joined by colons.
func appendMAC(b, a []byte) []byte {
	for i, c := range a {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hexLower[c>>4], hexLower[c&0xf])
	}
	return b
}

// appendHex appends each byte of a as %02X.
func appendHex(b, a []byte) []byte {
	for _, c := range a {
		b = append(b, hexUpper[c>>4], hexUpper[c&0xf])
	}
	return b
}

// appendIPv4 appends a as %pI4.
func appendIPv4(b, a []byte) []byte {
	for i := 0; i < 4; i++ {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendUint(b, uint64(a[i]), 10)
	}
	return b
}

// appendKV appends "KEY=value " with value in decimal.
func appendKV(b []byte, key string, v uint64) []byte {
	b = append(b, key...)
	b = strconv.AppendUint(b, v, 10)
	return append(b, ' ')
}

// appendHex2 appends v as 0x%02X (upper) or 0x%02x (lower).
func appendHex2(b []byte, key string, v uint8, digits string) []byte {
	b = append(b, key...)
	b = append(b, '0', 'x', digits[v>>4], digits[v&0xf])
	return append(b, ' ')
}

// appendIncomplete appends "INCOMPLETE [%u bytes] " with the kernel's
// unsigned count of what is left of the skb after off (which wraps when
// off is past the end, as it does in C).
func appendIncomplete(b []byte, d []byte, off int) []byte {
	b = append(b, "INCOMPLETE ["...)
	b = strconv.AppendUint(b, uint64(uint32(len(d)-off)), 10)
	return append(b, " bytes] "...)
}

// icmpRequiredLen is dump_ipv4_packet's required_len: how much of an ICMP
// message of each type (up to NR_ICMP_TYPES) it needs to print it.
var icmpRequiredLen = [19]int{
	0: 4, 3: 8 + 20, 4: 8 + 20, 5: 8 + 20, 8: 4, 11: 8 + 20, 12: 8 + 20,
	13: 20, 14: 20, 17: 12, 18: 12,
}

// appendIPv4Log is nf_log_syslog.c dump_ipv4_packet for the IPv4 header
// at off in d (off 0: the packet; more: the datagram an ICMP error
// quotes, which is printed in brackets, once). Everything is read from the
// bytes with the kernel's bounds (skb_header_pointer), so a truncated or
// lying header prints what the kernel prints and never panics.
func appendIPv4Log(b []byte, p *packet.Packet, d []byte, off int, flags LogFlags) []byte {
	if len(d)-off < 20 {
		return append(b, "TRUNCATED"...)
	}
	ih := d[off:]
	b = append(b, "SRC="...)
	b = appendIPv4(b, ih[12:16])
	b = append(b, " DST="...)
	b = appendIPv4(b, ih[16:20])
	b = append(b, ' ')
	b = appendKV(b, "LEN=", uint64(binary.BigEndian.Uint16(ih[2:])))
	b = appendHex2(b, "TOS=", ih[1]&0x1e, hexUpper)
	b = appendHex2(b, "PREC=", ih[1]&0xe0, hexUpper)
	b = appendKV(b, "TTL=", uint64(ih[8]))
	b = appendKV(b, "ID=", uint64(binary.BigEndian.Uint16(ih[4:])))
	fo := binary.BigEndian.Uint16(ih[6:])
	if fo&0x8000 != 0 {
		b = append(b, "CE "...)
	}
	if fo&0x4000 != 0 {
		b = append(b, "DF "...)
	}
	if fo&0x2000 != 0 {
		b = append(b, "MF "...)
	}
	frag := fo&0x1fff != 0
	if frag {
		b = append(b, "FRAG:"...)
		b = strconv.AppendUint(b, uint64(fo&0x1fff), 10)
		b = append(b, ' ')
	}
	ihl := int(ih[0]&0x0f) * 4
	if flags&LogIPOptions != 0 && ihl > 20 {
		if len(d)-off < ihl {
			return append(b, "TRUNCATED"...)
		}
		b = append(b, "OPT ("...)
		b = appendHex(b, ih[20:ihl])
		b = append(b, ") "...)
	}
	l4 := off + ihl
	has := func(n int) bool { return len(d)-l4 >= n }
	switch proto := ih[9]; proto {
	case packet.ProtoTCP:
		b = append(b, "PROTO=TCP "...)
		if frag {
			break
		}
		if !has(20) {
			return appendIncomplete(b, d, l4)
		}
		th := d[l4:]
		b = appendKV(b, "SPT=", uint64(binary.BigEndian.Uint16(th[0:])))
		b = appendKV(b, "DPT=", uint64(binary.BigEndian.Uint16(th[2:])))
		if flags&LogTCPSequence != 0 {
			b = appendKV(b, "SEQ=", uint64(binary.BigEndian.Uint32(th[4:])))
			b = appendKV(b, "ACK=", uint64(binary.BigEndian.Uint32(th[8:])))
		}
		b = appendKV(b, "WINDOW=", uint64(binary.BigEndian.Uint16(th[14:])))
		// TCP_RESERVED_BITS is 0x0E000000 since the AE flag took the
		// fourth reserved bit (checked on Linux 6.18: "RES=0x38 AE").
		b = appendHex2(b, "RES=", uint8(binary.BigEndian.Uint32(th[12:])&0x0e000000>>22), hexLower)
		if th[12]&1 != 0 {
			b = append(b, "AE "...)
		}
		for _, f := range tcpFlagWords {
			if th[13]&f.bit != 0 {
				b = append(b, f.word...)
			}
		}
		b = appendKV(b, "URGP=", uint64(binary.BigEndian.Uint16(th[18:])))
		if hl := int(th[12]>>4) * 4; flags&LogTCPOptions != 0 && hl > 20 {
			if !has(hl) {
				return append(b, "OPT (TRUNCATED)"...)
			}
			b = append(b, "OPT ("...)
			b = appendHex(b, th[20:hl])
			b = append(b, ") "...)
		}
	case packet.ProtoUDP, packet.ProtoUDPLite:
		if proto == packet.ProtoUDP {
			b = append(b, "PROTO=UDP "...)
		} else {
			b = append(b, "PROTO=UDPLITE "...)
		}
		if frag {
			break
		}
		if !has(8) {
			return appendIncomplete(b, d, l4)
		}
		uh := d[l4:]
		b = appendKV(b, "SPT=", uint64(binary.BigEndian.Uint16(uh[0:])))
		b = appendKV(b, "DPT=", uint64(binary.BigEndian.Uint16(uh[2:])))
		b = appendKV(b, "LEN=", uint64(binary.BigEndian.Uint16(uh[4:])))
	case packet.ProtoICMP:
		b = append(b, "PROTO=ICMP "...)
		if frag {
			break
		}
		if !has(8) {
			b = appendIncomplete(b, d, l4)
			break
		}
		ic := d[l4:]
		typ, code := ic[0], ic[1]
		b = appendKV(b, "TYPE=", uint64(typ))
		b = appendKV(b, "CODE=", uint64(code))
		if int(typ) < len(icmpRequiredLen) && icmpRequiredLen[typ] != 0 && !has(icmpRequiredLen[typ]) {
			b = appendIncomplete(b, d, l4)
			break
		}
		switch typ {
		case 0, 8: // echo reply, echo
			b = appendKV(b, "ID=", uint64(binary.BigEndian.Uint16(ic[4:])))
			b = appendKV(b, "SEQ=", uint64(binary.BigEndian.Uint16(ic[6:])))
		case 12: // parameter problem
			b = appendKV(b, "PARAMETER=", uint64(ic[4]))
		case 5, 3, 4, 11: // redirect, dest unreach, source quench, time exceeded
			if typ == 5 {
				b = append(b, "GATEWAY="...)
				b = appendIPv4(b, ic[4:8])
				b = append(b, ' ')
			}
			if off == 0 { // only recurse once
				b = append(b, '[')
				b = appendIPv4Log(b, p, d, l4+8, flags)
				b = append(b, "] "...)
			}
			if typ == 3 && code == 4 { // ICMP_FRAG_NEEDED
				b = appendKV(b, "MTU=", uint64(binary.BigEndian.Uint16(ic[6:])))
			}
		}
	case 51: // AH
		if frag {
			break
		}
		b = append(b, "PROTO=AH "...)
		if !has(12) {
			b = appendIncomplete(b, d, l4)
			break
		}
		b = append(b, "SPI=0x"...)
		b = strconv.AppendUint(b, uint64(binary.BigEndian.Uint32(d[l4+4:])), 16)
		b = append(b, ' ')
	case 50: // ESP
		b = append(b, "PROTO=ESP "...)
		if frag {
			break
		}
		if !has(8) {
			b = appendIncomplete(b, d, l4)
			break
		}
		b = append(b, "SPI=0x"...)
		b = strconv.AppendUint(b, uint64(binary.BigEndian.Uint32(d[l4:])), 16)
		b = append(b, ' ')
	default:
		b = appendKV(b, "PROTO=", uint64(proto))
	}
	if off != 0 {
		return b
	}
	if flags&LogUID != 0 && p.HasOwner {
		b = appendKV(b, "UID=", uint64(p.UID))
		b = appendKV(b, "GID=", uint64(p.GID))
	}
	if p.Mark != 0 {
		b = append(b, "MARK=0x"...)
		b = strconv.AppendUint(b, uint64(p.Mark), 16)
		b = append(b, ' ')
	}
	return b
}

// tcpFlagWords are the TCP flags in the order nf_log_dump_tcp_header
// prints them (AE, in byte 12, comes first).
var tcpFlagWords = [...]struct {
	bit  uint8
	word string
}{
	{packet.TCPCwr, "CWR "}, {packet.TCPEce, "ECE "}, {packet.TCPUrg, "URG "}, {packet.TCPAck, "ACK "},
	{packet.TCPPsh, "PSH "}, {packet.TCPRst, "RST "}, {packet.TCPSyn, "SYN "}, {packet.TCPFin, "FIN "},
}
