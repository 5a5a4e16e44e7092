package match

import "testing"

// TestIPRange checks the iprange match row by row against iptables-legacy
// 1.8.9: the rule as -S saves it, the -L and -L -n texts, or the error.
func TestIPRange(t *testing.T) {
	xoCheck(t, []xoRow{
		{``, ``, `-m iprange --src-range 1.1.1.1-1.1.1.10`, `-m iprange --src-range 1.1.1.1-1.1.1.10`, ` source IP range 1.1.1.1-1.1.1.10`, ` source IP range 1.1.1.1-1.1.1.10`, ``},
		{``, ``, `-m iprange ! --src-range 1.1.1.1-1.1.1.10 ! --dst-range 198.18.0.1-198.18.0.9`, `-m iprange ! --src-range 1.1.1.1-1.1.1.10 ! --dst-range 198.18.0.1-198.18.0.9`, ` source IP range ! 1.1.1.1-1.1.1.10 destination IP range ! 198.18.0.1-198.18.0.9`, ` source IP range ! 1.1.1.1-1.1.1.10 destination IP range ! 198.18.0.1-198.18.0.9`, ``},
		{``, ``, `-m iprange --dst-range 198.18.0.1-198.18.0.9 --src-range 1.1.1.1-1.1.1.10`, `-m iprange --src-range 1.1.1.1-1.1.1.10 --dst-range 198.18.0.1-198.18.0.9`, ` source IP range 1.1.1.1-1.1.1.10 destination IP range 198.18.0.1-198.18.0.9`, ` source IP range 1.1.1.1-1.1.1.10 destination IP range 198.18.0.1-198.18.0.9`, ``},
		{``, ``, `-m iprange --src-range 1.1.1.1`, `-m iprange --src-range 1.1.1.1-1.1.1.1`, ` source IP range 1.1.1.1-1.1.1.1`, ` source IP range 1.1.1.1-1.1.1.1`, ``},
		{``, ``, `-m iprange --src-range 1.1.1.10-1.1.1.1`, `-m iprange --src-range 1.1.1.10-1.1.1.1`, ` source IP range 1.1.1.10-1.1.1.1`, ` source IP range 1.1.1.10-1.1.1.1`, ``},
		{``, ``, `-m iprange --src-range 127.0.0.1-127.0.0.2`, `-m iprange --src-range 127.0.0.1-127.0.0.2`, ` source IP range 127.0.0.1-127.0.0.2`, ` source IP range 127.0.0.1-127.0.0.2`, ``},
		{``, ``, `-m iprange --src-range 1.1.1.1-`, ``, ``, ``, `iprange: Bad value for "--src-range" option: ""`},   // rc 2
		{``, ``, `-m iprange --src-range foo-bar`, ``, ``, ``, `iprange: Bad value for "--src-range" option: "foo"`}, // rc 2
		{``, ``, `-m iprange`, ``, ``, ``, "iprange match: You must specify `--src-range' or `--dst-range'"},         // rc 2
	})
}

// TestIPRangeUpstream checks where gofw follows the upstream .t file, or
// differs from 1.8.9 on purpose; each row says why.
func TestIPRangeUpstream(t *testing.T) {
	xoCheck(t, []xoRow{
		// iptables reads "1.1.1" as 1.1.1.0; gofw takes dotted quads only.
		{``, ``, `-m iprange --src-range 1.1.1-1.1.1.2`, ``, ``, ``, `iprange: Bad value for "--src-range" option: "1.1.1"`},
	})
}
