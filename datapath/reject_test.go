package datapath

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
	"github.com/gofw/gofw/ruleset"
	"github.com/gofw/gofw/target"
)

// TestRejectAnswerAttached: REJECT's answer to a packet rejected in INPUT
// or FORWARD carries the rejected packet's entry into its first hook, as
// nf_ct_attach gives the kernel's answers theirs: it is RELATED there, so
// an OUTPUT rule dropping INVALID packets lets it by (found end to end by
// TestE2ERejectAnswers: the engine forgets the dropped packet's entry
// before the datapath sends the answer).
func TestRejectAnswerAttached(t *testing.T) {
	const rules = `*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --dport 23 -j REJECT --reject-with tcp-reset
-A INPUT -p udp -m udp --dport 24 -j REJECT --reject-with icmp-port-unreachable
-A FORWARD -p tcp -m tcp --dport 81 -j REJECT --reject-with tcp-reset
-A FORWARD -p udp -m udp --dport 81 -j REJECT --reject-with icmp-host-prohibited
-A OUTPUT -m conntrack --ctstate INVALID -j DROP
-A OUTPUT -m conntrack --ctstate RELATED -j ACCEPT
COMMIT
`
	ap := netip.MustParseAddrPort
	for _, row := range []struct {
		name    string
		in      uint32 // the interface the rejected packet came in by
		forward bool   // rejected in FORWARD, at its POSTROUTING visit
		pkt     []byte
	}{
		{"INPUT tcp-reset", 2, false, packet.BuildTCP(ap("198.18.0.9:40000"), ap("198.18.0.1:23"), packet.TCPSyn, 1, 0, 65535, nil)},
		{"INPUT icmp-port-unreachable", 2, false, packet.BuildUDP(ap("198.18.0.9:40001"), ap("198.18.0.1:24"), []byte("hi\n"))},
		{"FORWARD tcp-reset", 3, true, packet.BuildTCP(ap("198.19.0.9:40002"), ap("198.18.0.9:81"), packet.TCPSyn, 1, 0, 65535, nil)},
		{"FORWARD icmp-host-prohibited", 3, true, packet.BuildUDP(ap("198.19.0.9:40003"), ap("198.18.0.9:81"), []byte("hi\n"))},
	} {
		t.Run(row.name, func(t *testing.T) {
			var out strings.Builder
			rs, err := ruleset.Restore(ruleset.New(), strings.NewReader(rules), ruleset.RestoreOptions{}, &out)
			if err != nil {
				t.Fatal(err)
			}
			host := match.NewHost([]match.Iface{
				{Name: "eth0", Index: 2, Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("198.18.0.1/24")}},
				{Name: "eth1", Index: 3, Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("198.19.0.1/24")}},
			})
			eng := ruleset.NewEngine(conntrack.NewTable(conntrack.Config{}), &match.Env{Host: host})
			if err := eng.Load(rs); err != nil {
				t.Fatal(err)
			}
			links := &Links{Host: host}
			names := map[uint32]string{2: "eth0", 3: "eth1"}
			links.names.Store(&names)
			d := New(Config{}, eng, links)
			var answers [][]byte
			d.reject = &rejecter{fd: -1, limit: newICMPLimit(), record: func(dg []byte) { answers = append(answers, dg) }}
			w := &worker{d: d}
			run := func(hook packet.Hook, in uint32, b []byte) target.Verdict {
				_, m, pl, _ := parsePacketMsg(nfqMsg(1, hook, in, 0, append([]byte(nil), b...)))
				return w.handle(pl, &m).v
			}

			v := run(packet.Prerouting, row.in, row.pkt)
			if row.forward {
				if v != target.Accept {
					t.Fatalf("PREROUTING visit of a packet to forward: %v", v)
				}
				v = run(packet.Postrouting, 0, row.pkt)
			}
			if v != target.Drop || len(answers) != 1 {
				t.Fatalf("rejected packet: verdict %v and %d answers, want DROP and 1", v, len(answers))
			}
			if v := run(packet.Output, 0, answers[0]); v != target.Accept {
				t.Errorf("the answer at OUTPUT: %v, want ACCEPT as RELATED (an INVALID one is dropped)", v)
			}
		})
	}
}
