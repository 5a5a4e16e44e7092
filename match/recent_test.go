package match

import (
	"strings"
	"syscall"
	"testing"
)

var recentRows = []rlRow{
	// libxt_recent.t
	{rule: "-m recent --set --rttl", err: "recent: option \"--rttl\" cannot be used together with \"--set\".\n"},
	// libipt_recent.t
	{rule: "-m recent --set", save: "-m recent --set --name DEFAULT --mask 255.255.255.255 --rsource", print: " recent: SET name: DEFAULT side: source mask: 255.255.255.255"},
	{rule: "-m recent --rcheck --hitcount 8 --name foo --mask 255.255.255.255 --rsource", save: "=", print: " recent: CHECK hit_count: 8 name: foo side: source mask: 255.255.255.255"},
	{rule: "-m recent --rcheck --hitcount 12 --name foo --mask 255.255.255.255 --rsource", save: "=", print: " recent: CHECK hit_count: 12 name: foo side: source mask: 255.255.255.255"},
	{rule: "-m recent --update --rttl", save: "-m recent --update --rttl --name DEFAULT --mask 255.255.255.255 --rsource", print: " recent: UPDATE TTL-Match name: DEFAULT side: source mask: 255.255.255.255"},
	{rule: "-m recent --rcheck --hitcount 65536 --name foo --mask 255.255.255.255 --rsource", err: "xt_recent: hitcount (65536) is larger than allowed maximum (65535)", errno: syscall.EINVAL},
	{rule: "-m recent --rcheck --hitcount 3 --name foo --mask 255.255.255.255 --rsource -m recent --rcheck --hitcount 4 --name foo --mask 255.255.255.255 --rsource", save: "=",
		print: " recent: CHECK hit_count: 3 name: foo side: source mask: 255.255.255.255 recent: CHECK hit_count: 4 name: foo side: source mask: 255.255.255.255"},
	{rule: "-m recent --rcheck --hitcount 4 --name foo --mask 255.255.255.255 --rsource -m recent --rcheck --hitcount 4 --name foo --mask 255.255.255.255 --rsource", save: "=",
		print: " recent: CHECK hit_count: 4 name: foo side: source mask: 255.255.255.255 recent: CHECK hit_count: 4 name: foo side: source mask: 255.255.255.255"},
	{rule: "-m recent --rcheck --hitcount 8 --name foo --mask 255.255.255.255 --rsource -m recent --rcheck --hitcount 12 --name foo --mask 255.255.255.255 --rsource", save: "=",
		print: " recent: CHECK hit_count: 8 name: foo side: source mask: 255.255.255.255 recent: CHECK hit_count: 12 name: foo side: source mask: 255.255.255.255"},
	{chain: "FORWARD", rule: "-m recent --set", save: "-m recent --set --name DEFAULT --mask 255.255.255.255 --rsource", print: " recent: SET name: DEFAULT side: source mask: 255.255.255.255"},
	{chain: "OUTPUT", rule: "-m recent --rcheck --hitcount 65536 --name foo --mask 255.255.255.255 --rsource", err: "xt_recent: hitcount (65536) is larger than allowed maximum (65535)", errno: syscall.EINVAL},

	// Every option, and the order iptables prints them in.
	{rule: "-m recent ! --rcheck --seconds 60 --reap --hitcount 3 --rttl --name foo --rdest --mask 255.255.0.0", save: "-m recent ! --rcheck --seconds 60 --reap --hitcount 3 --rttl --name foo --mask 255.255.0.0 --rdest",
		print: " ! recent: CHECK seconds: 60 reap hit_count: 3 TTL-Match name: foo side: dest mask: 255.255.0.0"},
	{rule: "-m recent --update --rttl --seconds 10", save: "-m recent --update --seconds 10 --rttl --name DEFAULT --mask 255.255.255.255 --rsource", print: " recent: UPDATE seconds: 10 TTL-Match name: DEFAULT side: source mask: 255.255.255.255"},
	{rule: "-m recent --remove", save: "-m recent --remove --name DEFAULT --mask 255.255.255.255 --rsource", print: " recent: REMOVE name: DEFAULT side: source mask: 255.255.255.255"},
	{rule: "-m recent ! --set", save: "-m recent ! --set --name DEFAULT --mask 255.255.255.255 --rsource", print: " ! recent: SET name: DEFAULT side: source mask: 255.255.255.255"},
	{rule: "-m recent --rcheck --rsource --rdest", save: "-m recent --rcheck --name DEFAULT --mask 255.255.255.255 --rdest", print: " recent: CHECK name: DEFAULT side: dest mask: 255.255.255.255"},
	{rule: "-m recent --rcheck --rdest --rsource", save: "-m recent --rcheck --name DEFAULT --mask 255.255.255.255 --rsource", print: " recent: CHECK name: DEFAULT side: source mask: 255.255.255.255"},
	{rule: "-m recent --rcheck --seconds 4294967295", noReload: true, save: "-m recent --rcheck --seconds -1 --name DEFAULT --mask 255.255.255.255 --rsource", print: " recent: CHECK seconds: -1 name: DEFAULT side: source mask: 255.255.255.255"},
	{rule: "-m recent --rcheck --seconds 2147483648", noReload: true, save: "-m recent --rcheck --seconds -2147483648 --name DEFAULT --mask 255.255.255.255 --rsource", print: " recent: CHECK seconds: -2147483648 name: DEFAULT side: source mask: 255.255.255.255"},
	{rule: "-m recent --rcheck --hitcount 0", save: "-m recent --rcheck --name DEFAULT --mask 255.255.255.255 --rsource", print: " recent: CHECK name: DEFAULT side: source mask: 255.255.255.255"},
	{rule: "-m recent --rcheck --hitcount 65535", save: "-m recent --rcheck --hitcount 65535 --name DEFAULT --mask 255.255.255.255 --rsource", print: " recent: CHECK hit_count: 65535 name: DEFAULT side: source mask: 255.255.255.255"},
	// Names are printed as they are; --mask takes inet_aton's forms.
	{rule: "-m recent --rcheck --name \"a b\"", noReload: true, save: "-m recent --rcheck --name a b --mask 255.255.255.255 --rsource", print: " recent: CHECK name: a b side: source mask: 255.255.255.255"},
	{rule: "-m recent --rcheck --mask 255.0.255.0", save: "-m recent --rcheck --name DEFAULT --mask 255.0.255.0 --rsource", print: " recent: CHECK name: DEFAULT side: source mask: 255.0.255.0"},
	{rule: "-m recent --rcheck --mask 24", save: "-m recent --rcheck --name DEFAULT --mask 0.0.0.24 --rsource", print: " recent: CHECK name: DEFAULT side: source mask: 0.0.0.24"},
	{rule: "-m recent --rcheck --mask 1.2", save: "-m recent --rcheck --name DEFAULT --mask 1.0.0.2 --rsource", print: " recent: CHECK name: DEFAULT side: source mask: 1.0.0.2"},
	{rule: "-m recent --rcheck --mask 0x10.1", save: "-m recent --rcheck --name DEFAULT --mask 16.0.0.1 --rsource", print: " recent: CHECK name: DEFAULT side: source mask: 16.0.0.1"},
	{rule: "-m recent --rcheck --mask 010.0.0.1", save: "-m recent --rcheck --name DEFAULT --mask 8.0.0.1 --rsource", print: " recent: CHECK name: DEFAULT side: source mask: 8.0.0.1"},
	{rule: "-m recent --rcheck --mask 4294967295", save: "-m recent --rcheck --name DEFAULT --mask 255.255.255.255 --rsource", print: " recent: CHECK name: DEFAULT side: source mask: 255.255.255.255"},
	{rule: "-m recent --rcheck --mask 4294967296", err: "getaddrinfo: Name or service not known\n"},
	{rule: "-m recent --rcheck --mask 1.2.3.4.5", err: "getaddrinfo: Name or service not known\n"},
	{rule: "-m recent --rcheck --mask \" 1.2.3.4\"", err: "getaddrinfo: Name or service not known\n"},
	{rule: "-m recent --rcheck --mask 1.2.3.256", err: "getaddrinfo: Name or service not known\n"},
	{rule: "-m recent --rcheck --mask 1.2.3.4/24", err: "getaddrinfo: Name or service not known\n"},
	{rule: "-m recent --rcheck --mask ::1", err: "getaddrinfo: Address family for hostname not supported\n"},

	// Parameter problems.
	{rule: "-m recent", err: "recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'"},
	{rule: "-m recent --reap", err: "recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'"},
	{rule: "-m recent --rcheck --set", err: "recent: option \"--set\" cannot be used together with \"--rcheck\".\n"},
	{rule: "-m recent --set --rcheck", err: "recent: option \"--set\" cannot be used together with \"--rcheck\".\n"},
	{rule: "-m recent --update --remove", err: "recent: option \"--update\" cannot be used together with \"--remove\".\n"},
	{rule: "-m recent --rttl --set", err: "recent: option \"--rttl\" cannot be used together with \"--set\".\n"},
	{rule: "-m recent --remove --rttl", err: "recent: option \"--rttl\" cannot be used together with \"--remove\".\n"},
	{rule: "-m recent --rcheck --reap", err: "recent: option \"--reap\" also requires \"--seconds\".\n"},
	{rule: "-m recent --rcheck --seconds 0", err: "recent: bad value for option \"--seconds\", or out of range (1-4294967295).\n"},
	{rule: "-m recent --rcheck --hitcount 4294967296", err: "recent: bad value for option \"--hitcount\", or out of range (0-4294967295).\n"},

	// xt_recent's checkentry.
	{rule: "-m recent --set --seconds 5", err: "xt_recent: --seconds, --hitcount, --rttl and --reap only go with --rcheck or --update", errno: syscall.EINVAL},
	{rule: "-m recent --set --hitcount 5", err: "xt_recent: --seconds, --hitcount, --rttl and --reap only go with --rcheck or --update", errno: syscall.EINVAL},
	{rule: "-m recent --remove --reap --seconds 3", err: "xt_recent: --seconds, --hitcount, --rttl and --reap only go with --rcheck or --update", errno: syscall.EINVAL},
	{rule: "-m recent --rcheck --name \"\"", err: "xt_recent: the name must not be empty", errno: syscall.EINVAL},
	{rule: "-m recent --rcheck --name a/b", err: `xt_recent: name "a/b" is not a valid /proc file name`, errno: syscall.EINVAL},
	{rule: "-m recent --rcheck --name ..", err: `xt_recent: name ".." is not a valid /proc file name`, errno: syscall.EINVAL},
}

func TestRecent(t *testing.T) { rlRun(t, recentRows) }

func TestRecentOracle(t *testing.T) { rlOracle(t, recentRows) }

// TestRecentNameLength: names are cut to 199 bytes (XT_RECENT_NAME_LEN
// with its NUL), silently, as iptables does.
func TestRecentNameLength(t *testing.T) {
	ms, err := rlLoad(rlRow{rule: "-m recent --rcheck --name " + strings.Repeat("n", 205)})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(ms[0].m.(*Recent).Name); n != 199 {
		t.Errorf("name kept %d bytes, want 199", n)
	}
}
