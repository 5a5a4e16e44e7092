package target

import (
	"syscall"

	"github.com/gofw/gofw/grammar"
)

// This file holds what several target extensions share: libxtables' number
// parsing with C strtoul semantics (the prefix form that leaves an end
// pointer), the option-table final check (xtables_options_fcheck), the
// integer error messages of xtoptions.c and the kernel-check error type.

// xtStrtoul parses the longest numeric prefix of s as libxtables'
// xtables_strtoul_base does with a non-NULL end pointer: leading white space
// skipped, a leading '-' refused, base 0 (0x.. hex, 0.. octal), no digits or
// a value over 64 bits refused. rest is what follows the number.
func xtStrtoul(s string) (v uint64, rest string, ok bool) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	if i < len(s) && s[i] == '-' {
		return 0, s, false
	}
	if i < len(s) && s[i] == '+' {
		i++
	}
	base := uint64(10)
	if i < len(s) && s[i] == '0' {
		base = 8
		if i+2 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X') && hexVal(s[i+2]) < 16 {
			base = 16
			i += 2
		}
	}
	start := i
	overflow := false
	for i < len(s) {
		d := hexVal(s[i])
		if d >= base {
			break
		}
		if v > (^uint64(0)-d)/base {
			overflow = true
		}
		v = v*base + d
		i++
	}
	if i == start || overflow {
		return 0, s[i:], false
	}
	return v, s[i:], true
}

func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func hexVal(c byte) uint64 {
	switch {
	case c >= '0' && c <= '9':
		return uint64(c - '0')
	case c >= 'a' && c <= 'f':
		return uint64(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return uint64(c-'A') + 10
	}
	return 16
}

// xtUint parses all of s as xtables_strtoul with a NULL end pointer: the
// whole string must be one number within [min, max].
func xtUint(s string, min, max uint64) (uint64, bool) {
	v, rest, ok := xtStrtoul(s)
	if !ok || rest != "" || v < min || v > max {
		return 0, false
	}
	return v, true
}

// xtBadValue is xtopt_parse_int's message for a number out of range.
func xtBadValue(ext, opt string, min, max uint64) error {
	return grammar.ParamNLf("%s: bad value for option \"--%s\", or out of range (%d-%d).", ext, opt, min, max)
}

// xtParseInt parses an XTTYPE_UINT* option value as xtopt_parse_int does.
func xtParseInt(ext, opt, s string, min, max uint64) (uint64, error) {
	v, ok := xtUint(s, min, max)
	if !ok {
		return 0, xtBadValue(ext, opt, min, max)
	}
	return v, nil
}

// xtParseMarkMask parses "VALUE[/MASK]" with the messages of libxtables'
// xtables_parse_mark_mask (XTTYPE_MARKMASK32); the mask defaults to all ones.
func xtParseMarkMask(ext, opt, s string) (mark, mask uint32, err error) {
	bad := grammar.ParamNLf("%s: bad integer value for option \"--%s\", or out of range.", ext, opt)
	v, rest, ok := xtStrtoul(s)
	if !ok || v > 0xffffffff {
		return 0, 0, bad
	}
	mark, mask = uint32(v), 0xffffffff
	if len(rest) > 0 && rest[0] == '/' {
		m, r, ok := xtStrtoul(rest[1:])
		if !ok || m > 0xffffffff {
			return 0, 0, bad
		}
		mask, rest = uint32(m), r
	}
	if rest != "" {
		return 0, 0, grammar.ParamNLf("%s: trailing garbage after value for option \"--%s\".", ext, opt)
	}
	return mark, mask, nil
}

// xtString applies an XTTYPE_STRING option with .min and XTOPT_PUT into a
// buffer of size bytes, as xtopt_parse_string does: too short is an error,
// too long is silently cut to size-1 bytes.
func xtString(s string, min, size int) (string, error) {
	if min != 0 && len(s) < min {
		return "", grammar.ParamNLf("Argument must have a minimum length of %d characters", min)
	}
	if len(s) >= size {
		s = s[:size-1]
	}
	return s, nil
}

// xtOpt is one row of an extension's x6 option table as far as
// xtables_options_fcheck reads it: the id that sets the flag bit, and the
// mandatory/exclusive/also-requires relations.
type xtOpt struct {
	name string
	id   uint
	mand bool
	excl uint32 // flag bits this option cannot be combined with
	also uint32 // flag bits this option needs
}

// xtFcheck is libxtables' xtables_options_fcheck: walk the table in order,
// report a missing mandatory option, then for each given option the first
// conflicting or missing partner by id. iptables runs it after the
// extension's own x6_fcheck, so Final calls it last.
func xtFcheck(ext string, table []xtOpt, xflags uint32) error {
	for _, e := range table {
		ef := uint32(1) << e.id
		if e.mand && xflags&ef == 0 {
			return grammar.ParamNLf("%s: option \"--%s\" must be specified", ext, e.name)
		}
		if xflags&ef == 0 {
			continue
		}
		for i := uint(0); i < 32; i++ {
			if i == e.id {
				continue
			}
			var other *xtOpt
			for k := range table {
				if table[k].id == i {
					other = &table[k]
					break
				}
			}
			if other == nil {
				continue
			}
			of := uint32(1) << i
			if e.also&of != 0 && xflags&of == 0 {
				return grammar.ParamNLf("%s: option \"--%s\" also requires \"--%s\".", ext, e.name, other.name)
			}
			if e.excl&of != 0 && xflags&of != 0 {
				return grammar.ParamNLf("%s: option \"--%s\" cannot be used together with \"--%s\".", ext, e.name, other.name)
			}
		}
	}
	return nil
}

// xtFlag returns the flag bit of the option called name in table.
func xtFlag(table []xtOpt, name string) uint32 {
	for _, e := range table {
		if e.name == name {
			return 1 << e.id
		}
	}
	return 0
}

// kernelError is a rule the kernel's checkentry refuses: Error is its log
// line (dmesg) without the "x_tables: " prefix, and Unwrap gives the errno
// the setsockopt fails with, which decides iptables' message ("Invalid
// argument. Run `dmesg' ..." for EINVAL, "No chain/target/match by that
// name." for ENOENT).
type kernelError struct {
	log   string
	errno syscall.Errno
}

func (e *kernelError) Error() string { return e.log }
func (e *kernelError) Unwrap() error { return e.errno }

func kernelEINVAL(log string) error { return &kernelError{log: log, errno: syscall.EINVAL} }
func kernelENOENT(log string) error { return &kernelError{log: log, errno: syscall.ENOENT} }
