package match

import "testing"

// TestMAC checks the mac match row by row against iptables-legacy
// 1.8.9: the rule as -S saves it, the -L and -L -n texts, or the error.
func TestMAC(t *testing.T) {
	xoCheck(t, []xoRow{
		{``, ``, `-m mac --mac-source 42:01:02:03:04:05`, `-m mac --mac-source 42:01:02:03:04:05`, ` MAC 42:01:02:03:04:05`, ` MAC 42:01:02:03:04:05`, ``},
		{``, `FORWARD`, `-m mac ! --mac-source 42:AB:cd:03:04:05`, `-m mac ! --mac-source 42:ab:cd:03:04:05`, ` MAC ! 42:ab:cd:03:04:05`, ` MAC ! 42:ab:cd:03:04:05`, ``},
		{`nat`, `PREROUTING`, `-m mac --mac-source 42:1:2:3:4:5`, `-m mac --mac-source 42:01:02:03:04:05`, ` MAC 42:01:02:03:04:05`, ` MAC 42:01:02:03:04:05`, ``},
		{``, ``, `-m mac --mac-source 42-01-02-03-04-05`, ``, ``, ``, `Invalid MAC address specified.`},                                                                        // rc 2
		{``, ``, `-m mac --mac-source 42:01:02:03:04`, ``, ``, ``, `Invalid MAC address specified.`},                                                                           // rc 2
		{``, ``, `-m mac --mac-source 42:01:02:03:04:05:06`, ``, ``, ``, `Invalid MAC address specified.`},                                                                     // rc 2
		{``, ``, `-m mac --mac-source 420:01:02:03:04:05`, ``, ``, ``, `Invalid MAC address specified.`},                                                                       // rc 2
		{``, ``, `-m mac --mac-source 4g:01:02:03:04:05`, ``, ``, ``, `Invalid MAC address specified.`},                                                                        // rc 2
		{``, `OUTPUT`, `-m mac --mac-source 42:01:02:03:04:05`, ``, ``, ``, `mac match: used from hooks OUTPUT, but only valid from PREROUTING/INPUT/FORWARD`},                 // rc 1
		{`mangle`, `POSTROUTING`, `-m mac --mac-source 42:01:02:03:04:05`, ``, ``, ``, `mac match: used from hooks POSTROUTING, but only valid from PREROUTING/INPUT/FORWARD`}, // rc 1
		{``, ``, `-m mac`, ``, ``, ``, `mac: option "--mac-source" must be specified`},                                                                                         // rc 2
	})
}
