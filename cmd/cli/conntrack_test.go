package cli

import (
	"flag"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/ruleset"
)

// TestConntrackHandle: conntrack requests go to the table, malformed ones
// get conntrack's error, and every other request reaches the ruleset.
func TestConntrackHandle(t *testing.T) {
	ct := conntrack.NewTable(conntrack.Config{})
	next := func(r *ruleset.Request) *ruleset.Response { return &ruleset.Response{Stdout: "ruleset " + r.Cmd} }
	h := conntrackHandle(ct, next)
	rows := []struct {
		req        ruleset.Request
		stdout     string
		code       int
		msgPrefix  string
		wantStream bool
	}{
		{ruleset.Request{Cmd: "iptables", Args: []string{"-L"}}, "ruleset iptables", 0, "", false},
		{ruleset.Request{Cmd: "conntrack", Args: []string{"-C"}}, "0\n", 0, "", false},
		{ruleset.Request{Cmd: "conntrack", Args: []string{"-L", "--bogus"}}, "", 2, "unknown option `--bogus'", false},
		{ruleset.Request{Cmd: "conntrack", Args: []string{"-G", "-p", "tcp", "-s", "198.18.0.1", "-d", "198.18.0.2", "--sport", "1", "--dport", "2"}},
			"", 1, "Operation failed: such conntrack doesn't exist", false},
		{ruleset.Request{Cmd: "conntrack", Args: []string{"-I", "-p", "udp", "-s", "198.18.0.1", "-d", "198.18.0.2", "--sport", "1", "--dport", "2", "-t", "60"}}, "", 0, "", false},
		{ruleset.Request{Cmd: "conntrack", Args: []string{"-C"}}, "1\n", 0, "", false},
		{ruleset.Request{Cmd: "conntrack", Args: []string{"-E"}}, "", 0, "", true},
		{ruleset.Request{Cmd: "conntrack", Args: []string{"-E", "expect"}}, "", 0, "", true},
		{ruleset.Request{Cmd: "conntrack", Args: []string{"-E", "-e", "BOGUS"}}, "", 2, "Bad parameter `BOGUS'", false},
		{ruleset.Request{Cmd: "conntrack", Args: []string{"-L", "-s", "\x00\xff"}}, "", 2, "Invalid IP address `\x00\xff'", false},
	}
	stream := conntrackStream(ct, t.Logf)
	for _, r := range rows {
		if s := stream(&r.req); (s != nil) != r.wantStream {
			t.Errorf("%v: stream %v, want %v", r.req, s != nil, r.wantStream)
		}
		if r.wantStream {
			continue
		}
		resp := h(&r.req)
		code := 0
		if resp.Error != nil {
			code = resp.Error.Code
		}
		if resp.Stdout != r.stdout || code != r.code || (r.msgPrefix != "" && !strings.HasPrefix(resp.Error.Msg, r.msgPrefix)) {
			t.Errorf("%v: got %+v (error %+v)", r.req, resp, resp.Error)
		}
	}
}

// TestConntrackFlags: gofwd's flags become the table's configuration.
func TestConntrackFlags(t *testing.T) {
	rows := []struct {
		args  []string
		check func(c conntrack.Config) bool
		err   string
	}{
		{nil, func(c conntrack.Config) bool {
			return c.Max == 262144 && !c.NoTCPLoose && !c.TCPBeLiberal && !c.Acct && !c.Timestamp
		}, ""},
		{[]string{"--conntrack-max", "10", "--conntrack-acct", "--conntrack-timestamp", "--conntrack-tcp-be-liberal", "--conntrack-tcp-loose=false"},
			func(c conntrack.Config) bool {
				return c.Max == 10 && c.NoTCPLoose && c.TCPBeLiberal && c.Acct && c.Timestamp
			}, ""},
		{[]string{"--conntrack-max", "0"}, func(c conntrack.Config) bool { return c.Max < 0 }, ""},
		{[]string{"--conntrack-timeout", "udp_timeout_stream=180", "--conntrack-timeout", "tcp_timeout_established=600"},
			func(c conntrack.Config) bool {
				return c.Timeouts.UDPStream.Seconds() == 180 && c.Timeouts.TCPEstablished.Seconds() == 600
			}, ""},
		{[]string{"--conntrack-timeout", "udp_stream=180"}, nil, `unknown timeout "udp_stream"`},
	}
	for _, r := range rows {
		fs := flag.NewFlagSet("gofwd", flag.ContinueOnError)
		for _, f := range ConntrackFlags() {
			if err := f.Apply(fs); err != nil {
				t.Fatal(err)
			}
		}
		if err := fs.Parse(r.args); err != nil {
			t.Fatalf("%v: %v", r.args, err)
		}
		cfg, err := ConntrackConfig(cli.NewContext(cli.NewApp(), fs, nil), nil)
		switch {
		case r.err != "":
			if err == nil || !strings.Contains(err.Error(), r.err) {
				t.Errorf("%v: error %v, want %q", r.args, err, r.err)
			}
		case err != nil || !r.check(cfg):
			t.Errorf("%v: %+v, %v", r.args, cfg, err)
		}
	}
}
