package target

import (
	"syscall"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/match"
)

// This file holds what several target extensions share beyond the
// libxtables helpers in package match (XtStrtoul, XtParseUint, XtString,
// XtFcheck, KernelError): the XTTYPE_MARKMASK32 parser of MARK and
// CONNMARK, the option bookkeeping XtFcheck needs, and the kernel errors.

// xtParseMarkMask parses "VALUE[/MASK]" with the messages of libxtables'
// xtables_parse_mark_mask (XTTYPE_MARKMASK32); the mask defaults to all ones.
func xtParseMarkMask(ext, opt, s string) (mark, mask uint32, err error) {
	bad := grammar.ParamNLf("%s: bad integer value for option \"--%s\", or out of range.", ext, opt)
	v, rest, ok := match.XtStrtoul(s, 0, 0xffffffff)
	if !ok {
		return 0, 0, bad
	}
	mark, mask = uint32(v), 0xffffffff
	if len(rest) > 0 && rest[0] == '/' {
		m, r, ok := match.XtStrtoul(rest[1:], 0, 0xffffffff)
		if !ok {
			return 0, 0, bad
		}
		mask, rest = uint32(m), r
	}
	if rest != "" {
		return 0, 0, grammar.ParamNLf("%s: trailing garbage after value for option \"--%s\".", ext, opt)
	}
	return mark, mask, nil
}

// given is the set of options one target instance was given, by canonical
// name: libxtables' xflags, as match.XtFcheck reads them.
type given map[string]bool

// add records option name.
func (g *given) add(name string) {
	if *g == nil {
		*g = given{}
	}
	(*g)[name] = true
}

// kernelEINVAL and kernelENOENT return a checkentry refusal with the
// kernel's log line and the errno that picks iptables' message
// ("Invalid argument. Run `dmesg' ..." or "No chain/target/match by that
// name.").
func kernelEINVAL(log string) error {
	return &match.KernelError{Msg: log, Errno: syscall.EINVAL}
}

func kernelENOENT(log string) error {
	return &match.KernelError{Msg: log, Errno: syscall.ENOENT}
}
