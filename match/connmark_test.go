package match

import "testing"

// TestConnmark checks the connmark match row by row against iptables-legacy
// 1.8.9: the rule as -S saves it, the -L and -L -n texts, or the error.
func TestConnmark(t *testing.T) {
	xoCheck(t, []xoRow{
		{`mangle`, `PREROUTING`, `-m connmark --mark 0xffffffff`, `-m connmark --mark 0xffffffff`, ` connmark match  0xffffffff`, ` connmark match  0xffffffff`, ``},
		{`mangle`, `FORWARD`, `-m connmark ! --mark 1/0xff`, `-m connmark ! --mark 0x1/0xff`, ` connmark match ! 0x1/0xff`, ` connmark match ! 0x1/0xff`, ``},
		{`mangle`, `OUTPUT`, `-m connmark --mark 0/0xffffffff`, `-m connmark --mark 0x0`, ` connmark match  0x0`, ` connmark match  0x0`, ``},
		{`mangle`, `POSTROUTING`, `-m connmark --mark 0xffffffff/0x0`, `-m connmark --mark 0xffffffff/0x0`, ` connmark match  0xffffffff/0x0`, ` connmark match  0xffffffff/0x0`, ``},
		{`mangle`, `PREROUTING`, `-m connmark --mark 0xfffffffff`, ``, ``, ``, `connmark: bad integer value for option "--mark", or out of range.`}, // rc 2
		{`mangle`, `PREROUTING`, `-m connmark --mark x`, ``, ``, ``, `connmark: bad integer value for option "--mark", or out of range.`},           // rc 2
		{`mangle`, `PREROUTING`, `-m connmark`, ``, ``, ``, `connmark: option "--mark" must be specified`},                                          // rc 2
		{``, ``, `-m connmark --mark 2`, `-m connmark --mark 0x2`, ` connmark match  0x2`, ` connmark match  0x2`, ``},
	})
}
