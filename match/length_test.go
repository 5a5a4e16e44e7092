package match

import "testing"

// TestLength checks the length match row by row against iptables-legacy
// 1.8.9: the rule as -S saves it, the -L and -L -n texts, or the error.
func TestLength(t *testing.T) {
	xoCheck(t, []xoRow{
		{``, ``, `-m length --length 1`, `-m length --length 1`, ` length 1`, ` length 1`, ``},
		{``, ``, `-m length ! --length 0:65535`, `-m length ! --length 0:65535`, ` length !0:65535`, ` length !0:65535`, ``},
		{``, ``, `-m length --length :2`, `-m length --length 0:2`, ` length 0:2`, ` length 0:2`, ``},
		{``, ``, `-m length --length :`, `-m length --length 0:65535`, ` length 0:65535`, ` length 0:65535`, ``},
		{``, ``, `-m length --length 4:`, `-m length --length 4:65535`, ` length 4:65535`, ` length 4:65535`, ``},
		{``, ``, `-m length --length 4:4`, `-m length --length 4`, ` length 4`, ` length 4`, ``},
		{``, ``, `-m length --length 0x10:0x20`, `-m length --length 16:32`, ` length 16:32`, ` length 16:32`, ``},
		{``, ``, `-m length --length ""`, `-m length --length 0`, ` length 0`, ` length 0`, ``},
		{``, ``, `-m length --length 1:2:3`, ``, ``, ``, `length: Too many components for option "--length" (max: 2)`},                             // rc 2
		{``, ``, `-m length --length -1:65535`, ``, ``, ``, `length: bad value for option "--length" near "-1:65535", or out of range (0-65535).`}, // rc 2
		{``, ``, `-m length --length 0:65536`, ``, ``, ``, `length: bad value for option "--length" near "65536", or out of range (0-65535).`},     // rc 2
		{``, ``, `-m length --length 1x`, ``, ``, ``, `length: Argument to "--length" has unexpected characters near "x".`},                        // rc 2
		{``, ``, `-m length --length 0x`, ``, ``, ``, `length: Argument to "--length" has unexpected characters near "x".`},                        // rc 2
		{``, ``, `-m length`, ``, ``, ``, `length: option "--length" must be specified`},                                                           // rc 2
	})
}

// TestLengthUpstream checks where gofw follows the upstream .t file, or
// differs from 1.8.9 on purpose; each row says why.
func TestLengthUpstream(t *testing.T) {
	xoCheck(t, []xoRow{
		// libxt_length.t:12 (upstream 30a7f112, v1.8.11): descending
		// ranges are refused; 1.8.9 loads them.
		{``, ``, `-m length --length 4:3`, ``, ``, ``, `length: bad value for option "--length" near "3", or out of range (4-65535).`},
	})
}
