package datapath

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gofw/gofw/packet"
)

// recorder is the fake at the iptables boundary: it records every command
// and answers -save with a canned table.
type recorder struct {
	calls []string
	saved map[string]string
}

func (r *recorder) run(stdin, name string, args ...string) (string, error) {
	r.calls = append(r.calls, strings.TrimSpace(name+" "+strings.Join(args, " ")+"\n"+stdin))
	if strings.HasSuffix(name, "-save") {
		return r.saved[args[len(args)-1]], nil
	}
	return "", nil
}

func TestDivertRules(t *testing.T) {
	d := &Divert{Cmd: "iptables-legacy", Queue: 7, Queues: 1, Hooks: packet.AllHooks}
	want := `*raw
:GOFW-PREROUTING - [0:0]
:GOFW-OUTPUT - [0:0]
-I PREROUTING 1 -m comment --comment "gofw divert" -j GOFW-PREROUTING
-A GOFW-PREROUTING -j CT --notrack
-A GOFW-PREROUTING -j NFQUEUE --queue-num 7
-I OUTPUT 1 -m comment --comment "gofw divert" -j GOFW-OUTPUT
-A GOFW-OUTPUT -j CT --notrack
-A GOFW-OUTPUT -j NFQUEUE --queue-num 7
COMMIT
*mangle
:GOFW-INPUT - [0:0]
:GOFW-FORWARD - [0:0]
:GOFW-POSTROUTING - [0:0]
-I INPUT 1 -m comment --comment "gofw divert" -j GOFW-INPUT
-A GOFW-INPUT -j NFQUEUE --queue-num 7
-I FORWARD 1 -m comment --comment "gofw divert" -j GOFW-FORWARD
-A GOFW-FORWARD -j NFQUEUE --queue-num 7
-I POSTROUTING 1 -m comment --comment "gofw divert" -j GOFW-POSTROUTING
-A GOFW-POSTROUTING -j NFQUEUE --queue-num 7
COMMIT
`
	if got := d.Rules(); got != want {
		t.Errorf("fail-closed rules:\n%s\nwant:\n%s", got, want)
	}
	// The default hooks with merged local output: POSTROUTING lets
	// locally sourced packets by.
	d = &Divert{Cmd: "iptables-legacy", Queue: 0, Queues: 1, Hooks: DefaultHooks, MergeOut: true}
	if got := d.Rules(); strings.Contains(got, "GOFW-INPUT") || strings.Contains(got, "GOFW-FORWARD") ||
		!strings.Contains(got, "-A GOFW-POSTROUTING -m addrtype --src-type LOCAL -j RETURN\n-A GOFW-POSTROUTING -j NFQUEUE --queue-num 0\n") {
		t.Errorf("default hooks, merged output:\n%s", got)
	}
	r := &recorder{}
	d.Run = r.run
	if err := d.SetMergeOut(false); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(r.calls, "\n"), "iptables-legacy-restore --noflush\n*mangle\n-F GOFW-POSTROUTING\n-A GOFW-POSTROUTING -j NFQUEUE --queue-num 0\nCOMMIT"; got != want {
		t.Errorf("SetMergeOut(false) ran:\n%s\nwant:\n%s", got, want)
	}
	// --fail-open adds the bypass; several queues balance by flow.
	d = &Divert{Cmd: "iptables-legacy", Queue: 0, Queues: 2, FailOpen: true, Hooks: packet.Input.Mask()}
	if got := d.Rules(); !strings.Contains(got, "-A GOFW-INPUT -j NFQUEUE --queue-balance 0:1 --queue-bypass\n") || strings.Contains(got, "*raw") {
		t.Errorf("fail-open INPUT-only rules:\n%s", got)
	}
}

// TestDivertRemove: only gofw's own jumps and chains are removed, found in
// the live tables, whatever the admin has beside them.
func TestDivertRemove(t *testing.T) {
	r := &recorder{saved: map[string]string{
		"raw": `*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:GOFW-PREROUTING - [0:0]
:ADMIN - [0:0]
-A PREROUTING -m comment --comment "gofw divert" -j GOFW-PREROUTING
-A PREROUTING -p udp -j ADMIN
-A GOFW-PREROUTING -j CT --notrack
-A GOFW-PREROUTING -j NFQUEUE --queue-num 0
COMMIT
`,
		"mangle": "*mangle\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n",
	}}
	d := &Divert{Cmd: "iptables-legacy", Run: r.run}
	if err := d.Remove(); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(r.calls, "\n---\n")
	want := `iptables-legacy-save -t raw
---
iptables-legacy-restore --noflush
*raw
-D PREROUTING -m comment --comment "gofw divert" -j GOFW-PREROUTING
-F GOFW-PREROUTING
-X GOFW-PREROUTING
COMMIT
---
iptables-legacy-save -t mangle`
	if got != want {
		t.Errorf("calls:\n%s\nwant:\n%s", got, want)
	}
}

func TestDetectBackend(t *testing.T) {
	for _, row := range []struct{ out, want string }{
		{"iptables v1.8.9 (legacy)", "iptables-legacy"},
		{"iptables v1.8.9 (nf_tables)", "iptables-nft"},
		{"iptables v1.4.21", ""},
	} {
		got, err := DetectBackend(func(string, string, ...string) (string, error) { return row.out, nil })
		if got != row.want || (row.want == "") != (err != nil) {
			t.Errorf("%q: got %q, %v; want %q", row.out, got, err, row.want)
		}
	}
	_, err := DetectBackend(func(string, string, ...string) (string, error) { return "", fmt.Errorf("exec: not found") })
	if err == nil {
		t.Error("no iptables: want an error")
	}
}

// TestDivertFast: with the fast path, TCP is diverted from mangle, after
// the kernel's conntrack, behind the rule that lets offloaded connections
// by; SetFastMark rewrites the mangle chains in one commit.
func TestDivertFast(t *testing.T) {
	r := &recorder{}
	d := &Divert{Cmd: "iptables-legacy", Queue: 0, Queues: 1, Hooks: DefaultHooks, MergeOut: true, Fast: true, Run: r.run}
	want := `*raw
:GOFW-PREROUTING - [0:0]
:GOFW-OUTPUT - [0:0]
-I PREROUTING 1 -m comment --comment "gofw divert" -j GOFW-PREROUTING
-A GOFW-PREROUTING ! -p tcp -j CT --notrack
-A GOFW-PREROUTING ! -p tcp -j NFQUEUE --queue-num 0
-I OUTPUT 1 -m comment --comment "gofw divert" -j GOFW-OUTPUT
-A GOFW-OUTPUT ! -p tcp -j CT --notrack
-A GOFW-OUTPUT ! -p tcp -j NFQUEUE --queue-num 0
COMMIT
*mangle
:GOFW-PREROUTING - [0:0]
:GOFW-OUTPUT - [0:0]
:GOFW-POSTROUTING - [0:0]
-I PREROUTING 1 -m comment --comment "gofw divert" -j GOFW-PREROUTING
-A GOFW-PREROUTING -p tcp -j NFQUEUE --queue-num 0
-I OUTPUT 1 -m comment --comment "gofw divert" -j GOFW-OUTPUT
-A GOFW-OUTPUT -p tcp -j NFQUEUE --queue-num 0
-I POSTROUTING 1 -m comment --comment "gofw divert" -j GOFW-POSTROUTING
-A GOFW-POSTROUTING -m addrtype --src-type LOCAL -j RETURN
-A GOFW-POSTROUTING -j NFQUEUE --queue-num 0
COMMIT
`
	if got := d.Rules(); got != want {
		t.Errorf("fast-path divert:\n%s\nwant:\n%s", got, want)
	}
	if err := d.SetFastMark(0x2a); err != nil {
		t.Fatal(err)
	}
	const bypass = " -p tcp -m tcp --tcp-flags SYN,FIN,RST NONE -m conntrack --ctstate ESTABLISHED -m connmark --mark 0x2a -j RETURN\n"
	wantCall := "iptables-legacy-restore --noflush\n*mangle\n" +
		"-F GOFW-PREROUTING\n-A GOFW-PREROUTING" + bypass + "-A GOFW-PREROUTING -p tcp -j NFQUEUE --queue-num 0\n" +
		"-F GOFW-OUTPUT\n-A GOFW-OUTPUT" + bypass + "-A GOFW-OUTPUT -p tcp -j NFQUEUE --queue-num 0\n" +
		"-F GOFW-POSTROUTING\n-A GOFW-POSTROUTING" + bypass + "-A GOFW-POSTROUTING -m addrtype --src-type LOCAL -j RETURN\n-A GOFW-POSTROUTING -j NFQUEUE --queue-num 0\nCOMMIT"
	if len(r.calls) != 1 || r.calls[0] != wantCall {
		t.Errorf("SetFastMark ran:\n%s\nwant:\n%s", strings.Join(r.calls, "\n---\n"), wantCall)
	}
	if err := d.SetFastMark(0x2a); err != nil || len(r.calls) != 1 {
		t.Errorf("SetFastMark with the same mark ran iptables again (%d calls, %v)", len(r.calls), err)
	}
	// Without the fast path the mark changes nothing.
	d = &Divert{Cmd: "iptables-legacy", Hooks: DefaultHooks, Run: r.run}
	if err := d.SetFastMark(1); err != nil || len(r.calls) != 1 || strings.Contains(d.Rules(), "connmark") {
		t.Errorf("SetFastMark without Fast: %v, %d calls", err, len(r.calls))
	}
}
