package match

import "testing"

// TestDSCP checks the dscp match row by row against iptables-legacy
// 1.8.9: the rule as -S saves it, the -L and -L -n texts, or the error.
func TestDSCP(t *testing.T) {
	xoCheck(t, []xoRow{
		{``, ``, `-m dscp --dscp 0x00`, `-m dscp --dscp 0x00`, ` DSCP match 0x00`, ` DSCP match 0x00`, ``},
		{``, ``, `-m dscp --dscp 0x3f`, `-m dscp --dscp 0x3f`, ` DSCP match 0x3f`, ` DSCP match 0x3f`, ``},
		{``, ``, `-m dscp ! --dscp 46`, `-m dscp ! --dscp 0x2e`, ` DSCP match !0x2e`, ` DSCP match !0x2e`, ``},
		{``, ``, `-m dscp --dscp-class EF`, `-m dscp --dscp 0x2e`, ` DSCP match 0x2e`, ` DSCP match 0x2e`, ``},
		{``, ``, `-m dscp ! --dscp-class af41`, `-m dscp ! --dscp 0x22`, ` DSCP match !0x22`, ` DSCP match !0x22`, ``},
		{``, ``, `-m dscp --dscp-class CS7`, `-m dscp --dscp 0x38`, ` DSCP match 0x38`, ` DSCP match 0x38`, ``},
		{``, ``, `-m dscp --dscp-class BE`, `-m dscp --dscp 0x00`, ` DSCP match 0x00`, ` DSCP match 0x00`, ``},
		{``, ``, `-m dscp --dscp-class EFX`, `-m dscp --dscp 0x2e`, ` DSCP match 0x2e`, ` DSCP match 0x2e`, ``},
		{``, ``, `-m dscp --dscp 0x40`, ``, ``, ``, `dscp: bad value for option "--dscp", or out of range (0-63).`},                        // rc 2
		{``, ``, `-m dscp --dscp -1`, ``, ``, ``, `dscp: bad value for option "--dscp", or out of range (0-63).`},                          // rc 2
		{``, ``, `-m dscp --dscp 1x`, ``, ``, ``, `dscp: bad value for option "--dscp", or out of range (0-63).`},                          // rc 2
		{``, ``, `-m dscp --dscp-class XX`, ``, ``, ``, "Invalid DSCP value `XX'"},                                                         // rc 2
		{``, ``, `-m dscp --dscp-class AF1`, ``, ``, ``, "Invalid DSCP value `AF1'"},                                                       // rc 2
		{``, ``, `-m dscp --dscp 0x3f --dscp-class CS0`, ``, ``, ``, `dscp: option "--dscp" cannot be used together with "--dscp-class".`}, // rc 2
		{``, ``, `-m dscp --dscp-class CS0 --dscp 1`, ``, ``, ``, `dscp: option "--dscp" cannot be used together with "--dscp-class".`},    // rc 2
		{``, ``, `-m dscp`, ``, ``, ``, `DSCP match: Parameter --dscp is required`},                                                        // rc 2
	})
}
