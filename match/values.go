package match

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/gofw/gofw/grammar"
)

// ParseUint parses s as libxtables' xtables_strtoul does: strtoull with base
// 0 (so "0x1f" and "017" are hex and octal), the whole string consumed, and
// the value within [min, max].
func ParseUint(s string, min, max uint64) (uint64, bool) {
	if s == "" || s[0] == '-' {
		return 0, false
	}
	s = strings.TrimPrefix(s, "+")
	// A number starts with a digit; strtoull takes no "_" between digits
	// and no "0b" or "0o" prefix, all of which strconv's base 0 accepts.
	if s == "" || s[0] < '0' || s[0] > '9' || strings.IndexByte(s, '_') >= 0 ||
		len(s) > 1 && s[0] == '0' && strings.IndexByte("bBoO", s[1]) >= 0 {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		// strconv's base 0 wants "0o" for octal; C takes a bare leading 0.
		if len(s) > 1 && s[0] == '0' && s[1] != 'x' && s[1] != 'X' {
			v, err = strconv.ParseUint(s[1:], 8, 64)
		}
		if err != nil {
			return 0, false
		}
	}
	if v < min || v > max {
		return 0, false
	}
	return v, true
}

// ParseValueMask parses "VALUE[/MASK]" with 32-bit values, as
// xtables_parse_val_mask does; the mask defaults to all ones.
func ParseValueMask(s string) (val, mask uint32, ok bool) {
	vs, ms, hasMask := strings.Cut(s, "/")
	v, ok := ParseUint(vs, 0, 0xffffffff)
	if !ok {
		return 0, 0, false
	}
	mask = 0xffffffff
	if hasMask {
		m, ok := ParseUint(ms, 0, 0xffffffff)
		if !ok {
			return 0, 0, false
		}
		mask = uint32(m)
	}
	return uint32(v), mask, true
}

// SaveString appends s quoted as xtables_save_string does: bare when it is a
// non-empty run of [A-Za-z0-9_-], else in double quotes with ", ' and \
// escaped by a backslash.
func SaveString(b *strings.Builder, s string) {
	plain := s != ""
	for i := 0; i < len(s) && plain; i++ {
		c := s[i]
		plain = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
	}
	if plain {
		b.WriteString(s)
		return
	}
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\'' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}

// Hex appends " 0x%x".
func Hex(b *strings.Builder, v uint32) {
	fmt.Fprintf(b, "0x%x", v)
}

// services is /etc/services, read once, as getservbyname/getservbyport see it.
var services struct {
	once   sync.Once
	byName map[string]uint16 // "ssh/tcp"
	byPort map[string]string // "22/tcp" -> first name in file order
}

func loadServices() {
	services.byName = map[string]uint16{}
	services.byPort = map[string]string{}
	f, err := os.Open("/etc/services")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fs := strings.Fields(line)
		if len(fs) < 2 {
			continue
		}
		ps, proto, ok := strings.Cut(fs[1], "/")
		if !ok {
			continue
		}
		port, err := strconv.ParseUint(ps, 10, 16)
		if err != nil {
			continue
		}
		key := ps + "/" + proto
		if _, dup := services.byPort[key]; !dup {
			services.byPort[key] = fs[0]
		}
		for _, n := range append([]string{fs[0]}, fs[2:]...) {
			if _, dup := services.byName[n+"/"+proto]; !dup {
				services.byName[n+"/"+proto] = uint16(port)
			}
		}
	}
}

// ServicePort looks a service name up for proto ("tcp", "udp", ...).
func ServicePort(name, proto string) (uint16, bool) {
	services.once.Do(loadServices)
	p, ok := services.byName[name+"/"+proto]
	return p, ok
}

// PortName returns the service name of port for proto, if any.
func PortName(port uint16, proto string) (string, bool) {
	services.once.Do(loadServices)
	n, ok := services.byPort[strconv.Itoa(int(port))+"/"+proto]
	return n, ok
}

// ParsePort parses a port number or service name as xtables_parse_port does.
func ParsePort(s, proto string) (uint16, error) {
	if v, ok := ParseUint(s, 0, 65535); ok {
		return uint16(v), nil
	}
	if proto != "" {
		if p, ok := ServicePort(s, proto); ok {
			return p, nil
		}
	}
	return 0, grammar.Paramf("invalid port/service `%s' specified", s)
}

// ParsePortRange parses "PORT", "MIN:MAX", ":MAX", "MIN:" or ":" as
// iptables' port matches do; an empty end is 0 or 65535.
func ParsePortRange(s, proto string) (lo, hi uint16, err error) {
	a, b, isRange := strings.Cut(s, ":")
	if !isRange {
		p, err := ParsePort(s, proto)
		return p, p, err
	}
	lo, hi = 0, 65535
	if a != "" {
		if lo, err = ParsePort(a, proto); err != nil {
			return
		}
	}
	if b != "" {
		if hi, err = ParsePort(b, proto); err != nil {
			return
		}
	}
	if lo > hi {
		return 0, 0, grammar.Paramf("invalid portrange (min > max)")
	}
	return lo, hi, nil
}

// PortText appends a port as iptables -L prints it: the service name unless
// numeric or there is none.
func PortText(b *strings.Builder, port uint16, proto string, numeric bool) {
	if !numeric {
		if n, ok := PortName(port, proto); ok {
			b.WriteString(n)
			return
		}
	}
	b.WriteString(strconv.Itoa(int(port)))
}

// chainProtos is libxtables' xtables_chain_protos: the names iptables knows
// without /etc/protocols, in the order it tries them.
var chainProtos = []struct {
	name string
	num  uint8
}{
	{"tcp", 6}, {"sctp", 132}, {"udp", 17}, {"udplite", 136}, {"icmp", 1},
	{"ipv6-icmp", 58}, {"icmpv6", 58}, {"esp", 50}, {"ah", 51}, {"ipv6-mh", 135},
	{"mh", 135}, {"all", 0},
}

var protocols struct {
	once   sync.Once
	byName map[string]uint8
	byNum  map[uint8]string
}

func loadProtocols() {
	protocols.byName = map[string]uint8{}
	protocols.byNum = map[uint8]string{}
	f, err := os.Open("/etc/protocols")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fs := strings.Fields(line)
		if len(fs) < 2 {
			continue
		}
		n, err := strconv.ParseUint(fs[1], 10, 8)
		if err != nil {
			continue
		}
		if _, dup := protocols.byNum[uint8(n)]; !dup {
			protocols.byNum[uint8(n)] = fs[0]
		}
		for _, name := range append([]string{fs[0]}, fs[2:]...) {
			if _, dup := protocols.byName[name]; !dup {
				protocols.byName[name] = uint8(n)
			}
		}
	}
}

// ParseProto parses "-p" as xtables_parse_protocol does: a number, one of
// iptables' own names, or a name from /etc/protocols; case-insensitive names.
func ParseProto(s string) (uint8, error) {
	if v, ok := ParseUint(s, 0, 255); ok {
		return uint8(v), nil
	}
	l := strings.ToLower(s)
	for _, p := range chainProtos {
		if p.name == l {
			return p.num, nil
		}
	}
	protocols.once.Do(loadProtocols)
	if n, ok := protocols.byName[l]; ok {
		return n, nil
	}
	return 0, grammar.Paramf("unknown protocol \"%s\" specified", s)
}

// ProtoName returns the name iptables prints for protocol n (n != 0):
// /etc/protocols first, as getprotobynumber in proto_to_name, then
// iptables' own table.
func ProtoName(n uint8) (string, bool) {
	protocols.once.Do(loadProtocols)
	if name, ok := protocols.byNum[n]; ok && n != 0 {
		return name, true
	}
	for _, p := range chainProtos {
		if p.num == n && n != 0 {
			return p.name, true
		}
	}
	return "", false
}

// ChainProtoName returns the name from iptables' own table only, as
// proto_to_name with nolookup (the -v echo of a rule uses it).
func ChainProtoName(n uint8) (string, bool) {
	for _, p := range chainProtos {
		if p.num == n {
			return p.name, true
		}
	}
	return "", false
}

// ProtoMatchName returns the extension name iptables derives from a -p
// value for implicit loading ("tcp" for "-p 6" or "-p TCP"), or "".
func ProtoMatchName(proto string) string {
	if proto == "" {
		return ""
	}
	n, err := ParseProto(proto)
	if err != nil || n == 0 {
		return ""
	}
	for _, p := range chainProtos {
		if p.num == n {
			return p.name
		}
	}
	return ""
}

// ParseAddr parses a dotted-quad IPv4 address as inet_aton would accept it
// in iptables (four decimal parts), for extension options.
func ParseAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Addr{}, false
	}
	return a, true
}

// MaskFromLen returns the IPv4 netmask of a prefix length.
func MaskFromLen(n int) netip.Addr {
	var m uint32
	if n > 0 {
		m = ^uint32(0) << (32 - n)
	}
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)})
}

// MaskLen returns the prefix length of a contiguous IPv4 mask, or -1.
func MaskLen(m netip.Addr) int {
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := 0
	for v&0x80000000 != 0 {
		v <<= 1
		n++
	}
	if v != 0 {
		return -1
	}
	return n
}

// ParseAddrMask parses "ADDR[/LEN|/MASK]" as iptables' -s does (one item of
// xtables_ipparse_multiple), returning the address with the mask applied:
// the mask after the last "/" is a dotted mask or a length 0-32 (strtoul base
// 0, so "0x10" is 16); with a zero mask the address is ignored ("any/0"); the
// address is xtables_numeric_to_ipaddr's dotted form, short forms completed
// with zeros ("198.18" is 198.18.0.0), else a number getaddrinfo takes without
// a lookup (XtInetAton). Host names are not resolved: gofw refuses them rather
// than depend on DNS at load time.
func ParseAddrMask(s string) (addr, mask netip.Addr, err error) {
	if len(s) > 255 {
		return addr, mask, grammar.Paramf("Hostname too long")
	}
	as, ms, hasMask := s, "", false
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		as, ms, hasMask = s[:i], s[i+1:], true
	}
	mask = MaskFromLen(32)
	if hasMask {
		if m, ok := xtNumericToIPAddr(ms, true); ok {
			mask = m
		} else if n, ok := XtUint(ms, 0, 32); ok {
			mask = MaskFromLen(int(n))
		} else {
			return addr, mask, grammar.Paramf("invalid mask `%s' specified", ms)
		}
	}
	if mask.As4() == [4]byte{} {
		as = "0.0.0.0"
	}
	a, ok := xtNumericToIPAddr(as, false)
	if !ok {
		v, ok := XtInetAton(as)
		if !ok {
			return addr, mask, grammar.Paramf("host/network `%s' not found", as)
		}
		a = netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	return And(a, mask), mask, nil
}

// xtNumericToIPAddr is libxtables' __numeric_to_ipaddr: up to four dot
// separated numbers 0-255 (strtoul base 0) in the first 19 bytes of s; an
// address with fewer parts is completed with zeros, a mask is not.
func xtNumericToIPAddr(s string, isMask bool) (netip.Addr, bool) {
	if len(s) > 19 {
		s = s[:19]
	}
	var b [4]byte
	for i := 0; i < 4; i++ {
		part, rest, more := strings.Cut(s, ".")
		if i == 3 {
			part, more = s, false
		}
		if !more && i < 3 && isMask {
			return netip.Addr{}, false
		}
		v, ok := XtUint(part, 0, 255)
		if !ok {
			return netip.Addr{}, false
		}
		b[i] = byte(v)
		if !more {
			break
		}
		s = rest
	}
	return netip.AddrFrom4(b), true
}

// And masks an IPv4 address.
func And(a, m netip.Addr) netip.Addr {
	x, y := a.As4(), m.As4()
	return netip.AddrFrom4([4]byte{x[0] & y[0], x[1] & y[1], x[2] & y[2], x[3] & y[3]})
}

// AddrMaskText appends "ADDR/LEN" (or "ADDR/MASK" for a non-contiguous
// mask), the form iptables-save and -S use.
func AddrMaskText(b *strings.Builder, a, m netip.Addr) {
	b.WriteString(a.String())
	b.WriteByte('/')
	if n := MaskLen(m); n >= 0 {
		b.WriteString(strconv.Itoa(n))
	} else {
		b.WriteString(m.String())
	}
}
