package match

import (
	"fmt"
	"math"
	"math/bits"
	"strings"
	"syscall"

	"github.com/gofw/gofw/grammar"
)

// This file holds the pieces of libxtables' option machinery (xtoptions.c,
// xtables.c) that the limit, hashlimit, recent, connlimit, addrtype, owner
// and string matches share: number parsing with C's strtoul rules, the
// generic messages xtables_option_parse and xtables_options_fcheck print,
// and the kernel's checkentry errors.

// KernelError is a rule the kernel's checkentry refuses when the table is
// committed. Msg is the line the kernel logs for it (the module's pr_fmt
// prefix included, "x_tables: " left out); where the kernel refuses without
// logging, Msg says in the same style what was wrong. Errno is what the
// setsockopt call returns, from which iptables words its own message
// ("Invalid argument", "Numerical result out of range", "No chain/target/match
// by that name"), so the ruleset can print what iptables prints.
type KernelError struct {
	Msg   string
	Errno syscall.Errno
}

// Error returns the kernel's log line.
func (e *KernelError) Error() string { return e.Msg }

// Unwrap returns the errno, so errors.Is(err, syscall.ERANGE) works.
func (e *KernelError) Unwrap() error { return e.Errno }

// rlKernelErrf returns a KernelError with EINVAL, the usual checkentry errno.
func rlKernelErrf(format string, a ...any) *KernelError {
	return &KernelError{Msg: fmt.Sprintf(format, a...), Errno: syscall.EINVAL}
}

// rlIsSpace is C's isspace in the C locale.
func rlIsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// rlStrtoumax is C's strtoumax(s, &end, 0) on a string that does not start
// with a minus sign: leading white space, an optional "+", then hex ("0x"),
// octal (a leading 0) or decimal digits. n is how many bytes were consumed
// (0: no digits, as when end == s); overflow reports ERANGE.
func rlStrtoumax(s string) (v uint64, n int, overflow bool) {
	i := 0
	for i < len(s) && rlIsSpace(s[i]) {
		i++
	}
	if i < len(s) && s[i] == '+' {
		i++
	}
	base := uint64(10)
	if i < len(s) && s[i] == '0' {
		base = 8
		if i+2 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X') && rlHexVal(s[i+2]) >= 0 {
			base = 16
			i += 2
		}
	}
	start := i
	for ; i < len(s); i++ {
		d := rlHexVal(s[i])
		if d < 0 || uint64(d) >= base {
			break
		}
		hi, lo := bits.Mul64(v, base)
		lo, carry := bits.Add64(lo, uint64(d), 0)
		if hi != 0 || carry != 0 {
			overflow = true
		}
		v = lo
	}
	if i == start {
		return 0, 0, false
	}
	if overflow {
		v = math.MaxUint64
	}
	return v, i, overflow
}

func rlHexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// XtStrtoul is libxtables' xtables_strtoul called with an end pointer: it
// parses a number at the start of s as strtoumax with base 0 does (leading
// white space allowed, a minus sign refused) and returns it with the rest of
// s. ok is false when there are no digits, on overflow, or when the value is
// outside [min, max] (max 0: no upper bound).
func XtStrtoul(s string, min, max uint64) (v uint64, rest string, ok bool) {
	p := strings.TrimLeft(s, " \t\n\v\f\r")
	if strings.HasPrefix(p, "-") {
		return 0, s, false
	}
	v, n, overflow := rlStrtoumax(s)
	if n == 0 {
		return 0, s, false
	}
	rest = s[n:]
	if overflow || v < min || (max != 0 && v > max) {
		return v, rest, false
	}
	return v, rest, true
}

// XtUint is xtables_strtoul without an end pointer: the whole of s must be
// the number.
func XtUint(s string, min, max uint64) (uint64, bool) {
	v, rest, ok := XtStrtoul(s, min, max)
	return v, ok && rest == ""
}

// XtUintError is the message of libxtables' xtopt_parse_int for an integer
// option (XTTYPE_UINT*) whose value is not a number in [min, max].
func XtUintError(ext, opt string, min, max uint64) *grammar.Error {
	return grammar.ParamNLf("%s: bad value for option \"--%s\", or out of range (%d-%d).", ext, opt, min, max)
}

// XtParseUint parses an XTTYPE_UINT* option as xtopt_parse_int does.
func XtParseUint(ext, opt, s string, min, max uint64) (uint64, error) {
	v, ok := XtUint(s, min, max)
	if !ok {
		return 0, XtUintError(ext, opt, min, max)
	}
	return v, nil
}

// XtBadValue is xtables_param_act(XTF_BAD_VALUE, ...): an extension's own
// "this argument makes no sense" message.
func XtBadValue(ext, opt, arg string) *grammar.Error {
	return grammar.Paramf("%s: Bad value for \"--%s\" option: \"%s\"", ext, opt, arg)
}

// XtString applies an XTTYPE_STRING option with XTOPT_PUT into a char
// array of size bytes, as xtopt_parse_string does: a minimum length is
// checked, and the value is cut silently to size-1 bytes.
func XtString(s string, minLen, size int) (string, error) {
	if minLen != 0 && len(s) < minLen {
		return "", grammar.ParamNLf("Argument must have a minimum length of %d characters", minLen)
	}
	if len(s) >= size {
		s = s[:size-1]
	}
	return s, nil
}

// XtOptRule is one row of an extension's x6_options table as far as
// xtables_options_fcheck cares: whether it must be given and which other
// options it excludes or needs. Rows are listed in table order, and Excl and
// Also in the order of their option ids, so that the first problem found is
// the one iptables reports.
type XtOptRule struct {
	Name string // as the table spells it, without dashes
	Mand bool
	Excl []string
	Also []string
}

// XtFcheck is xtables_options_fcheck: after all options of one extension
// instance are parsed, it reports a missing mandatory option, two options
// that exclude each other, or an option given without one it needs. seen
// holds the canonical names of the options given. xtables_option_mfcheck
// runs it after the extension's own x6_fcheck, so a Final calls it last.
func XtFcheck(ext string, rows []XtOptRule, seen map[string]bool) error {
	for _, r := range rows {
		if r.Mand && !seen[r.Name] {
			return grammar.ParamNLf("%s: option \"--%s\" must be specified", ext, r.Name)
		}
		if !seen[r.Name] {
			continue
		}
		for _, o := range r.Excl {
			if seen[o] {
				return grammar.ParamNLf("%s: option \"--%s\" cannot be used together with \"--%s\".", ext, r.Name, o)
			}
		}
		for _, o := range r.Also {
			if !seen[o] {
				return grammar.ParamNLf("%s: option \"--%s\" also requires \"--%s\".", ext, r.Name, o)
			}
		}
	}
	return nil
}

// XtInetAton parses a numeric IPv4 address as getaddrinfo with
// AI_NUMERICHOST does (glibc's inet_aton_exact): one to four parts separated
// by dots, each decimal, octal (leading 0) or hex (0x); the last part fills
// the remaining bytes ("1.2" is 1.0.0.2, "24" is 0.0.0.24). No white space.
func XtInetAton(s string) (uint32, bool) {
	var parts [4]uint64
	n := 0
	i := 0
	for {
		if n == 4 || i >= len(s) || s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		base := uint64(10)
		if s[i] == '0' {
			base = 8
			i++
			if i < len(s) && (s[i] == 'x' || s[i] == 'X') {
				base = 16
				i++
			}
		}
		var v uint64
		digits := base == 8 // the leading 0 counts as a digit
		for ; i < len(s); i++ {
			d := rlHexVal(s[i])
			if d < 0 || (base == 10 && d > 9) || (base == 8 && d > 9) || (base == 16 && d > 15) {
				break
			}
			if base == 8 && d > 7 {
				return 0, false
			}
			v = v*base + uint64(d)
			if v > math.MaxUint32 {
				return 0, false
			}
			digits = true
		}
		if !digits {
			return 0, false
		}
		parts[n] = v
		n++
		if i == len(s) {
			break
		}
		if s[i] != '.' {
			return 0, false
		}
		i++
	}
	max := [4]uint64{0xffffffff, 0xffffff, 0xffff, 0xff}
	for k := 0; k < n-1; k++ {
		if parts[k] > 0xff {
			return 0, false
		}
	}
	if parts[n-1] > max[n-1] {
		return 0, false
	}
	var a uint32
	for k := 0; k < n-1; k++ {
		a |= uint32(parts[k]) << (24 - 8*k)
	}
	return a | uint32(parts[n-1]), true
}

// XtPlen parses an XTTYPE_PLEN / XTTYPE_PLENMASK option for IPv4 as
// libxtables' xtopt_parse_plen does: a prefix length 0-32, or else a dotted
// netmask whose prefix length is used. A mask that is not contiguous (which
// also catches "33": the address 0.0.0.33) gives 255, xtables_ipmask_to_cidr's
// -1 stored in a byte; the kernel or the extension decides what that means.
func XtPlen(ext, opt, s string) (uint8, error) {
	if v, ok := XtUint(s, 0, 32); ok {
		return uint8(v), nil
	}
	m, ok := XtInetAton(s)
	if !ok {
		return 0, grammar.ParamNLf("%s: bad value for option \"--%s\", neither a valid network mask nor valid CIDR (0-32).", ext, opt)
	}
	n := bits.LeadingZeros32(^m)
	if m<<n != 0 {
		return 255, nil
	}
	return uint8(n), nil
}

// rlAtoll is C's atoll (strtoll base 10): leading white space, a sign, then
// decimal digits up to the first other byte; 0 without digits. Out of range
// values saturate as glibc's strtoll does.
func rlAtoll(s string) int64 {
	i := 0
	for i < len(s) && rlIsSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var v uint64
	over := false
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if v > (math.MaxUint64-9)/10 {
			over = true
			continue
		}
		v = v*10 + uint64(s[i]-'0')
	}
	switch {
	case neg && (over || v > 1<<63):
		return math.MinInt64
	case neg:
		return -int64(v)
	case over || v > math.MaxInt64:
		return math.MaxInt64
	}
	return int64(v)
}

// rlAtoi is C's atoi on glibc: (int)strtol(s, NULL, 10), so values beyond
// int keep their low 32 bits.
func rlAtoi(s string) int32 { return int32(rlAtoll(s)) }

// rlUnitMult resolves the "/second" part of a rate as libxt_limit's and
// libxt_hashlimit's parse_rate do: any case-insensitive prefix of second,
// minute, hour or day (tried in that order; "" is no unit at all).
func rlUnitMult(unit string) (uint64, bool) {
	for _, u := range []struct {
		name string
		mult uint64
	}{{"second", 1}, {"minute", 60}, {"hour", 60 * 60}, {"day", 24 * 60 * 60}} {
		if len(unit) <= len(u.name) && strings.EqualFold(unit, u.name[:len(unit)]) {
			return u.mult, true
		}
	}
	return 0, false
}
