package ruleset

import (
	"strings"
	"testing"
)

// TestNeedsPayload: header-only copy is chosen only for rulesets that read
// and rewrite nothing past a packet's headers.
func TestNeedsPayload(t *testing.T) {
	for _, r := range []struct {
		rules string
		want  bool
	}{
		{"*filter\n-A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT\n-A INPUT -p tcp --dport 22 -m length --length 0:1500 -j ACCEPT\n-A INPUT -j LOG\nCOMMIT\n", false},
		{"*raw\n-A PREROUTING -p udp -j CT --notrack\nCOMMIT\n", false},
		{"*filter\n-A INPUT -j REJECT --reject-with tcp-reset -p tcp\nCOMMIT\n", true},
		{"*filter\n-A INPUT -j REJECT\nCOMMIT\n", true},
		{"*filter\n-A INPUT -m string --string foo --algo bm -j DROP\nCOMMIT\n", true},
		{"*filter\n-A INPUT -j NFLOG\nCOMMIT\n", true},
		{"*raw\n-A PREROUTING -p tcp --dport 21 -j CT --helper ftp\nCOMMIT\n", true},
		{"*nat\n-A POSTROUTING -o eth0 -j MASQUERADE\nCOMMIT\n", true},
		{"*mangle\n-A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu\nCOMMIT\n", true},
	} {
		var out strings.Builder
		rs, err := Restore(New(), strings.NewReader(r.rules), RestoreOptions{}, &out)
		if err != nil {
			t.Fatalf("%q: %v", r.rules, err)
		}
		if got := rs.NeedsPayload(); got != r.want {
			t.Errorf("%q: NeedsPayload %v, want %v", r.rules, got, r.want)
		}
	}
}

// TestQueueRanges lists the queues of NFQUEUE rules, balanced ones as
// their range.
func TestQueueRanges(t *testing.T) {
	var out strings.Builder
	rs, err := Restore(New(), strings.NewReader("*raw\n-A PREROUTING -p udp -j NFQUEUE --queue-num 7\nCOMMIT\n"+
		"*filter\n-A INPUT -j NFQUEUE --queue-balance 2:5\n-A INPUT -j ACCEPT\nCOMMIT\n"), RestoreOptions{}, &out)
	if err != nil {
		t.Fatal(err)
	}
	got := rs.QueueRanges()
	if len(got) != 2 || !(got[0] == [2]uint16{7, 7} && got[1] == [2]uint16{2, 5} || got[1] == [2]uint16{7, 7} && got[0] == [2]uint16{2, 5}) {
		t.Errorf("QueueRanges %v, want [7 7] and [2 5]", got)
	}
}
