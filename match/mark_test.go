package match

import "testing"

// TestMark checks the mark match row by row against iptables-legacy
// 1.8.9: the rule as -S saves it, the -L and -L -n texts, or the error.
func TestMark(t *testing.T) {
	xoCheck(t, []xoRow{
		{``, ``, `-m mark --mark 0xfeedcafe/0xfeedcafe`, `-m mark --mark 0xfeedcafe/0xfeedcafe`, ` mark match 0xfeedcafe/0xfeedcafe`, ` mark match 0xfeedcafe/0xfeedcafe`, ``},
		{``, ``, `-m mark ! --mark 1/0xff`, `-m mark ! --mark 0x1/0xff`, ` mark match ! 0x1/0xff`, ` mark match ! 0x1/0xff`, ``},
		{``, ``, `-m mark --mark 4294967295`, `-m mark --mark 0xffffffff`, ` mark match 0xffffffff`, ` mark match 0xffffffff`, ``},
		{``, ``, `-m mark --mark 010`, `-m mark --mark 0x8`, ` mark match 0x8`, ` mark match 0x8`, ``},
		{``, ``, `-m mark --mark 0/0xffffffff`, `-m mark --mark 0x0`, ` mark match 0x0`, ` mark match 0x0`, ``},
		{``, ``, `-m mark --mark 0x0/0xff0`, `-m mark --mark 0x0/0xff0`, ` mark match 0x0/0xff0`, ` mark match 0x0/0xff0`, ``},
		{``, ``, `-m mark --mark 1/`, ``, ``, ``, `mark: bad integer value for option "--mark", or out of range.`},         // rc 2
		{``, ``, `-m mark --mark /1`, ``, ``, ``, `mark: bad integer value for option "--mark", or out of range.`},         // rc 2
		{``, ``, `-m mark --mark 1x`, ``, ``, ``, `mark: trailing garbage after value for option "--mark".`},               // rc 2
		{``, ``, `-m mark --mark -1`, ``, ``, ``, `mark: bad integer value for option "--mark", or out of range.`},         // rc 2
		{``, ``, `-m mark --mark 4294967296`, ``, ``, ``, `mark: bad integer value for option "--mark", or out of range.`}, // rc 2
		{``, ``, `-m mark`, ``, ``, ``, `mark: option "--mark" must be specified`},                                         // rc 2
	})
}
