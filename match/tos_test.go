package match

import "testing"

// TestTOS checks the tos match row by row against iptables-legacy
// 1.8.9: the rule as -S saves it, the -L and -L -n texts, or the error.
func TestTOS(t *testing.T) {
	xoCheck(t, []xoRow{
		{``, ``, `-m tos --tos Minimize-Delay`, `-m tos --tos 0x10/0x3f`, ` tos match Minimize-Delay`, ` tos match0x10/0x3f`, ``},
		{``, ``, `-m tos --tos maximize-throughput`, `-m tos --tos 0x08/0x3f`, ` tos match Maximize-Throughput`, ` tos match0x08/0x3f`, ``},
		{``, ``, `-m tos --tos Maximize-Reliability`, `-m tos --tos 0x04/0x3f`, ` tos match Maximize-Reliability`, ` tos match0x04/0x3f`, ``},
		{``, ``, `-m tos --tos Minimize-Cost`, `-m tos --tos 0x02/0x3f`, ` tos match Minimize-Cost`, ` tos match0x02/0x3f`, ``},
		{``, ``, `-m tos ! --tos Normal-Service`, `-m tos ! --tos 0x00/0x3f`, ` tos match! Normal-Service`, ` tos match!0x00/0x3f`, ``},
		{``, ``, `-m tos --tos 0xff`, `-m tos --tos 0xff/0xff`, ` tos match0xff/0xff`, ` tos match0xff/0xff`, ``},
		{``, ``, `-m tos ! --tos 0xff`, `-m tos ! --tos 0xff/0xff`, ` tos match!0xff/0xff`, ` tos match!0xff/0xff`, ``},
		{``, ``, `-m tos --tos 0x10/0x3f`, `-m tos --tos 0x10/0x3f`, ` tos match Minimize-Delay`, ` tos match0x10/0x3f`, ``},
		{``, ``, `-m tos --tos 16`, `-m tos --tos 0x10/0xff`, ` tos match0x10/0xff`, ` tos match0x10/0xff`, ``},
		{``, ``, `-m tos --tos 0x0f/0x0f`, `-m tos --tos 0x0f/0x0f`, ` tos match0x0f/0x0f`, ` tos match0x0f/0x0f`, ``},
		{``, ``, `-m tos --tos 0x100`, ``, ``, ``, `Symbolic name "0x100" is unknown`}, // rc 2
		{``, ``, `-m tos --tos 0x10/0x100`, ``, ``, ``, `Illegal value: "0x10/0x100"`}, // rc 2
		{``, ``, `-m tos --tos 1x`, ``, ``, ``, `Illegal value: "1x"`},                 // rc 2
		{``, ``, `-m tos --tos 1/`, ``, ``, ``, `Illegal value: "1/"`},                 // rc 2
		{``, ``, `-m tos --tos -1`, ``, ``, ``, `Symbolic name "-1" is unknown`},       // rc 2
		{``, ``, `-m tos --tos wrong`, ``, ``, ``, `Symbolic name "wrong" is unknown`}, // rc 2
		{``, ``, `-m tos`, ``, ``, ``, `tos: option "--tos" must be specified`},        // rc 2
	})
}
