package match

import "testing"

// TestUDP checks the udp match row by row against iptables-legacy
// 1.8.9: the rule as -S saves it, the -L and -L -n texts, or the error.
func TestUDP(t *testing.T) {
	xoCheck(t, []xoRow{
		{``, ``, `-p udp --sport 53 --dport 67:68`, `-p udp -m udp --sport 53 --dport 67:68`, ` udp spt:domain dpts:bootps:bootpc`, ` udp spt:53 dpts:67:68`, ``},
		{``, ``, `-p udp -m udp --sport 1`, `-p udp -m udp --sport 1`, ` udp spt:1`, ` udp spt:1`, ``},
		{``, ``, `-p udp -m udp ! --sport 1 --dport 65535`, `-p udp -m udp ! --sport 1 --dport 65535`, ` udp spt:!1 dpt:65535`, ` udp spt:!1 dpt:65535`, ``},
		{``, ``, `-p udp -m udp --sport 1024:`, `-p udp -m udp --sport 1024:65535`, ` udp spts:1024:65535`, ` udp spts:1024:65535`, ``},
		{``, ``, `-p udp -m udp --sport :`, `-p udp -m udp`, ` udp`, ` udp`, ``},
		{``, ``, `-p udp -m udp --sport :4`, `-p udp -m udp --sport 0:4`, ` udp spts:0:4`, ` udp spts:0:4`, ``},
		{``, ``, `-p udp -m udp --dport 4:4`, `-p udp -m udp --dport 4`, ` udp dpt:4`, ` udp dpt:4`, ``},
		{``, ``, `-p udp --source-port domain:ntp`, `-p udp -m udp --sport 53:123`, ` udp spts:domain:ntp`, ` udp spts:53:123`, ``},
		{``, ``, `-p udp --destination-port 010`, `-p udp -m udp --dport 10`, ` udp dpt:10`, ` udp dpt:10`, ``},
		{``, ``, `-p udp --sport 0`, `-p udp -m udp --sport 0`, ` udp spt:0`, ` udp spt:0`, ``},
		{``, ``, `-p udp --sport :0`, `-p udp -m udp --sport 0`, ` udp spt:0`, ` udp spt:0`, ``},
		{``, ``, `-p udp -m udp`, `-p udp -m udp`, ` udp`, ` udp`, ``},
		{``, ``, `-m udp --dport 1 -p udp`, `-p udp -m udp --dport 1`, ` udp dpt:1`, ` udp dpt:1`, ``},
		{``, ``, `-m udp --dport 1 -p 17`, `-p udp -m udp --dport 1`, ` udp dpt:1`, ` udp dpt:1`, ``},
		{``, ``, `-p udp -m udp --sport 1 -m udp --dport 2`, `-p udp -m udp --sport 1 -m udp --dport 2`, ` udp spt:1 udp dpt:2`, ` udp spt:1 udp dpt:2`, ``},
		{``, ``, `-p udp --sport -1`, ``, ``, ``, `Port "-1" does not resolve to anything.`},                                     // rc 2
		{``, ``, `-p udp --sport foo`, ``, ``, ``, `Port "foo" does not resolve to anything.`},                                   // rc 2
		{``, ``, `-p udp --sport 1:2:3`, ``, ``, ``, `udp: Too many components for option "--source-port" (max: 2)`},             // rc 2
		{``, ``, `-p udp --dport 0x10`, ``, ``, ``, `Port "0x10" does not resolve to anything.`},                                 // rc 2
		{``, ``, `-p udp --dport 1x`, ``, ``, ``, `Port "1x" does not resolve to anything.`},                                     // rc 2
		{``, ``, `-p udp --dport 1 --dport 2`, ``, ``, ``, `udp: option "--destination-port" can only be used once.`},            // rc 2
		{``, ``, `-p udp --destination-port 1 --dport 2`, ``, ``, ``, `udp: option "--destination-port" can only be used once.`}, // rc 2
		{``, ``, `-m udp --dport 1`, ``, ``, ``, `udp match: only valid for protocol 17`},                                        // rc 1
		{``, ``, `! -p udp -m udp --dport 1`, ``, ``, ``, `udp match: only valid for protocol 17`},                               // rc 1
	})
}

// TestUDPUpstream checks where gofw follows the upstream .t file, or
// differs from 1.8.9 on purpose; each row says why.
func TestUDPUpstream(t *testing.T) {
	xoCheck(t, []xoRow{
		// libxt_udp.t:10 and :16 (upstream a86eb41e, v1.8.11): a negated
		// full range is saved, so that "match nothing" survives a reload;
		// 1.8.9 saves "-p udp -m udp". Its -L text is the same in both.
		{``, ``, `-p udp -m udp ! --sport :`, `-p udp -m udp ! --sport 0:65535`, ` udp spts:!0:65535`, ` udp spts:!0:65535`, ``},
		{``, ``, `-p udp -m udp ! --dport :`, `-p udp -m udp ! --dport 0:65535`, ` udp dpts:!0:65535`, ` udp dpts:!0:65535`, ``},
		// libxt_udp.t:14 and :20 (upstream 9d41421a, v1.8.11): descending
		// ranges are refused; 1.8.9 loads them.
		{``, ``, `-p udp -m udp --sport 4:3`, ``, ``, ``, `invalid portrange (min > max)`},
		{``, ``, `-p udp -m udp --dport 4:3`, ``, ``, ``, `invalid portrange (min > max)`},
		// 1.8.9 takes 65536 as port 0 (glibc truncates); libxt_udp.t says
		// it should fail.
		{``, ``, `-p udp --sport 65536`, ``, ``, ``, `Port "65536" does not resolve to anything.`},
	})
}
