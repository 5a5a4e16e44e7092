package cli

import (
	"testing"

	"github.com/gofw/gofw/ruleset"
)

// TestShowsCounters: the fast path's warning goes with the answers that
// print rule counters, and only with them.
func TestShowsCounters(t *testing.T) {
	for _, r := range []struct {
		req  ruleset.Request
		want bool
	}{
		{ruleset.Request{Cmd: "iptables", Args: []string{"-L", "-v", "-n"}}, true},
		{ruleset.Request{Cmd: "iptables", Args: []string{"-nvL", "INPUT"}}, true},
		{ruleset.Request{Cmd: "iptables", Args: []string{"-S", "--verbose"}}, true},
		{ruleset.Request{Cmd: "iptables", Args: []string{"-L", "-n"}}, false},
		{ruleset.Request{Cmd: "iptables", Args: []string{"-A", "INPUT", "-s", "198.18.0.0/15", "-j", "ACCEPT"}}, false},
		{ruleset.Request{Cmd: "iptables", Args: []string{"-L", "--line-numbers"}}, false},
		{ruleset.Request{Cmd: "save", Counters: true}, true},
		{ruleset.Request{Cmd: "save"}, false},
		{ruleset.Request{Cmd: "conntrack", Args: []string{"-L", "-v"}}, false},
	} {
		if got := showsCounters(&r.req); got != r.want {
			t.Errorf("%s %q: showsCounters %v, want %v", r.req.Cmd, r.req.Args, got, r.want)
		}
	}
}
