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

// This file holds the option parsers of libxtables/xtoptions.c that the
// udp, conntrack, length, mark, connmark and icmp matches share and that
// values.go and values_ratelim.go do not cover: the "A[:B]" integer ranges
// (XTTYPE_UINT*RC), port ranges resolved as getaddrinfo does
// (XTTYPE_PORTRC), VALUE[/MASK] with iptables' own error texts
// (xtables_parse_val_mask), ADDR[/MASK] that keeps the host bits
// (XTTYPE_HOSTMASK), host names for -L, and the generic messages of
// xtables_option_parse. Numbers are read with XtStrtoul (values_ratelim.go).

// xoParseMint parses "A", "A:B", ":B", "A:" or ":" into at most two numbers
// up to max, as xtopt_parse_mint does for XTTYPE_UINT{8,16,32}RC; an empty
// lower end is 0, an empty upper end is max. A descending range is refused,
// as upstream iptables does since v1.8.11 (30a7f112, "Assert ranges are
// monotonic increasing"): the second number must be at least the first, and
// the message names the range still allowed. With one component hi == lo.
func xoParseMint(ext, opt, arg string, max uint64) (lo, hi uint64, err error) {
	var vals [2]uint64
	var lmin uint64
	n := 0
	rest := arg
	for {
		if n == len(vals) {
			return 0, 0, grammar.ParamNLf("%s: Too many components for option \"--%s\" (max: %d)", ext, opt, len(vals))
		}
		var v uint64
		end := rest
		if rest == "" || rest[0] == ':' {
			if n == 1 {
				v = max
			}
		} else {
			var ok bool
			v, end, ok = XtStrtoul(rest, lmin, max)
			if !ok {
				return 0, 0, grammar.ParamNLf("%s: bad value for option \"--%s\" near \"%s\", or out of range (%d-%d).",
					ext, opt, rest, lmin, max)
			}
			if end != "" && end[0] != ':' {
				return 0, 0, grammar.ParamNLf("%s: Argument to \"--%s\" has unexpected characters near \"%s\".", ext, opt, end)
			}
			lmin = v
		}
		vals[n] = v
		n++
		if end == "" {
			break
		}
		rest = end[1:]
	}
	if n == 1 {
		return vals[0], vals[0], nil
	}
	return vals[0], vals[1], nil
}

// xoLookupPort resolves a port as xtables_getportbyname does through
// getaddrinfo(NULL, name): a decimal number (no hex, no octal), else a
// service name of any protocol, tcp first. Unlike glibc, which truncates
// 65536 to port 0, a number above 65535 is refused (upstream libxt_udp.t
// notes "--sport 65536" as an error that should fail).
func xoLookupPort(name string) (uint16, bool) {
	if name != "" && strings.Trim(name, "0123456789") == "" {
		v, err := strconv.ParseUint(name, 10, 16)
		return uint16(v), err == nil
	}
	if p, ok := ServicePort(name, "tcp"); ok {
		return p, true
	}
	return ServicePort(name, "udp")
}

// xoParsePortRC parses "PORT", "LO:HI", "LO:", ":HI" or ":" as
// xtopt_parse_mport does for XTTYPE_PORTRC (udp's --sport, conntrack's
// --ctorigsrcport): empty ends are 0 and 65535, a single port gives
// lo == hi. A descending range is refused, as upstream does since v1.8.11
// (9d41421a), with the text libxt_tcp uses for it.
func xoParsePortRC(ext, opt, arg string) (lo, hi uint16, err error) {
	lo, hi = 0, 65535
	n := 0
	for _, p := range strings.Split(arg, ":") {
		if n == 2 {
			return 0, 0, grammar.ParamNLf("%s: Too many components for option \"--%s\" (max: 2)", ext, opt)
		}
		if p != "" {
			v, ok := xoLookupPort(p)
			if !ok {
				return 0, 0, grammar.ParamNLf("Port \"%s\" does not resolve to anything.", p)
			}
			if n == 0 {
				lo = v
			} else {
				hi = v
			}
		}
		n++
	}
	if n == 1 {
		hi = lo
	}
	if lo > hi {
		return 0, 0, grammar.Paramf("invalid portrange (min > max)")
	}
	return lo, hi, nil
}

// xoParseValMask parses "VALUE[/MASK]" with 32-bit parts as
// xtables_parse_val_mask does (C strtoul, base 0), with its two error
// texts; the mask defaults to all ones.
func xoParseValMask(ext, opt, arg string) (val, mask uint32, err error) {
	bad := grammar.ParamNLf("%s: bad integer value for option \"--%s\", or out of range.", ext, opt)
	garbage := grammar.ParamNLf("%s: trailing garbage after value for option \"--%s\".", ext, opt)
	v, rest, ok := XtStrtoul(arg, 0, 0xffffffff)
	if !ok {
		return 0, 0, bad
	}
	if rest == "" {
		return uint32(v), 0xffffffff, nil
	}
	if rest[0] != '/' {
		return 0, 0, garbage
	}
	m, rest, ok := XtStrtoul(rest[1:], 0, 0xffffffff)
	if !ok {
		return 0, 0, bad
	}
	if rest != "" {
		return 0, 0, garbage
	}
	return uint32(v), uint32(m), nil
}

// xoParseHostMask parses "ADDR[/LEN|/MASK]" as XTTYPE_HOSTMASK does
// (conntrack's --ctorigsrc): the address is kept as given, host bits
// included, because the kernel masks both sides when it compares. Host
// names are refused, as ParseAddrMask refuses them. A non-contiguous mask
// is refused too: 1.8.9 silently turns it into /32.
func xoParseHostMask(ext, opt, arg string) (addr, mask netip.Addr, err error) {
	as, ms, hasMask := strings.Cut(arg, "/")
	a, ok := ParseAddr(as)
	if !ok {
		return addr, mask, grammar.Paramf("host/network `%s' not found", as)
	}
	mask = MaskFromLen(32)
	if hasMask {
		badMask := grammar.ParamNLf("%s: bad value for option \"--%s\", neither a valid network mask nor valid CIDR (0-32).", ext, opt)
		if strings.Contains(ms, ".") {
			m, ok := ParseAddr(ms)
			if !ok || MaskLen(m) < 0 {
				return addr, mask, badMask
			}
			mask = m
		} else {
			n, ok := XtUint(ms, 0, 32)
			if !ok {
				return addr, mask, badMask
			}
			mask = MaskFromLen(int(n))
		}
	}
	return a, mask, nil
}

// xoMaskSuffix appends a mask as xtables_ipmask_to_numeric does: nothing
// for /32, "/LEN" for a contiguous mask, "/A.B.C.D" otherwise.
func xoMaskSuffix(b *strings.Builder, m netip.Addr) {
	switch n := MaskLen(m); {
	case n == 32:
	case n >= 0:
		fmt.Fprintf(b, "/%d", n)
	default:
		b.WriteString("/" + m.String())
	}
}

// xoHosts is /etc/hosts, read once: the first name given for each address.
var xoHosts struct {
	once   sync.Once
	byAddr map[netip.Addr]string
}

func xoLoadHosts() {
	xoHosts.byAddr = map[netip.Addr]string{}
	f, err := os.Open("/etc/hosts")
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
		a, err := netip.ParseAddr(fs[0])
		if err != nil {
			continue
		}
		if _, dup := xoHosts.byAddr[a]; !dup {
			xoHosts.byAddr[a] = fs[1]
		}
	}
}

// HostName returns the name iptables -L shows for an address
// (xtables_ipaddr_to_anyname): its first name in /etc/hosts, else the
// dotted quad. gofw does not ask DNS: a listing must not hang on a
// resolver, and iptables shows the number when there is no name anyway.
func HostName(a netip.Addr) string {
	xoHosts.once.Do(xoLoadHosts)
	if n, ok := xoHosts.byAddr[a]; ok {
		return n
	}
	return a.String()
}

// xoExclusive checks options that exclude each other as
// xtables_options_fcheck does once all options are parsed: the first option
// given in table order (the extension's x6_options) is named first, with the
// given option of the lowest id (idOrder) after it. given holds the options
// used; all of them exclude each other.
func xoExclusive(ext string, tableOrder, idOrder []string, given map[string]bool) error {
	for _, o := range tableOrder {
		if !given[o] {
			continue
		}
		for _, other := range idOrder {
			if other != o && given[other] {
				return grammar.ParamNLf("%s: option \"--%s\" cannot be used together with \"--%s\".", ext, o, other)
			}
		}
	}
	return nil
}

// xoMissing is xtables_options_fcheck's message for a mandatory option
// (XTOPT_MAND) that was not given.
func xoMissing(ext, opt string) error {
	return grammar.ParamNLf("%s: option \"--%s\" must be specified", ext, opt)
}

// xoSaveInv appends " !" when inv: the mark iptables-save puts before a
// negated option.
func xoSaveInv(b *strings.Builder, inv bool) {
	if inv {
		b.WriteString(" !")
	}
}
