package ruleset

import (
	"strings"
	"testing"
)

// TestOffloadBlocker: what lets gofwd's fast path hand established
// connections to the kernel, and what names the rule that does not.
func TestOffloadBlocker(t *testing.T) {
	for _, r := range []struct {
		rules string
		want  string // "" or the start of the reason
	}{
		{"*filter\n:FORWARD DROP [0:0]\n:X - [0:0]\n-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n" +
			"-A INPUT -s 198.18.0.0/15 -i eth0 -p tcp -m multiport --dports 22,80 -m comment --comment ok -j ACCEPT\n" +
			"-A INPUT -m iprange --src-range 198.18.0.1-198.18.0.9 -m state --state NEW -p tcp --dport 25 -j REJECT\n" +
			"-A INPUT -m addrtype --dst-type LOCAL -m pkttype --pkt-type unicast -m connmark --mark 1 -g X\n-A X -j RETURN\n" +
			"-A OUTPUT -m owner --uid-owner 0 -j DROP\n-A INPUT -p udp --dport 53\nCOMMIT\n", ""},
		{"*raw\n-A PREROUTING -p udp -j CT --notrack\nCOMMIT\n*nat\n-A POSTROUTING -j MASQUERADE\nCOMMIT\n", ""},
		{"*filter\n-A INPUT -p tcp --dport 22 -m length --length 0:1500 -j ACCEPT\nCOMMIT\n", "filter INPUT rule 1: -m length"},
		{"*filter\n-A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT\n-A INPUT -j LOG\nCOMMIT\n", "filter INPUT rule 2: -j LOG"},
		{"*filter\n-A FORWARD -p tcp --syn -j ACCEPT\nCOMMIT\n", "filter FORWARD rule 1: -m tcp with options"},
		{"*filter\n-A FORWARD -p tcp --tcp-option 2 -j ACCEPT\nCOMMIT\n", "filter FORWARD rule 1: -m tcp with options"},
		{"*filter\n-A INPUT -m conntrack --ctexpire 1:10 -j DROP\nCOMMIT\n", "filter INPUT rule 1: -m conntrack with options"},
		{"*filter\n-A INPUT -m limit --limit 1/s -j ACCEPT\nCOMMIT\n", "filter INPUT rule 1: -m limit"},
		{"*filter\n-A INPUT -m mark --mark 1 -j ACCEPT\nCOMMIT\n", "filter INPUT rule 1: -m mark"},
		{"*mangle\n-A PREROUTING -j MARK --set-mark 1\nCOMMIT\n", "mangle PREROUTING rule 1: -j MARK"},
		{"*mangle\n-A PREROUTING -j CONNMARK --restore-mark\nCOMMIT\n", "mangle PREROUTING rule 1: -j CONNMARK"},
		{"*filter\n-A INPUT -j QUEUE\nCOMMIT\n", "filter INPUT rule 1: -j QUEUE"},
		{"*filter\n-A INPUT -j NFQUEUE --queue-num 3\nCOMMIT\n", "filter INPUT rule 1: -j NFQUEUE"},
	} {
		var out strings.Builder
		rs, err := Restore(New(), strings.NewReader(r.rules), RestoreOptions{}, &out)
		if err != nil {
			t.Fatalf("%q: %v", r.rules, err)
		}
		got := rs.OffloadBlocker()
		if (r.want == "") != (got == "") || !strings.HasPrefix(got, r.want) {
			t.Errorf("%q: OffloadBlocker %q, want %q...", r.rules, got, r.want)
		}
	}
}
