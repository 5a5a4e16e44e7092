package datapath_test

// More end-to-end tests of issue 5, for what was only unit-tested so far:
// MASQUERADE entries dying with their interface or address, the packet
// mark reaching the kernel's policy routing, the NFQUEUE hand-off to
// another queue, and SIGHUP reloads under traffic. Same harness and
// topology as e2e_test.go (e2e_helpers_test.go): gofwd in one router,
// the kernel with the same rules in the other, the kernel the yardstick.

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A second subnet on the wan link, for TestE2EMasqueradeDown: MASQUERADE
// takes the router's address in the subnet of the next hop, so flows to
// wan2IP are masqueraded to rtrWan2IP and flows to wanIP to rtrWanIP.
const (
	rtrWan2IP = "198.19.2.1"
	wan2IP    = "198.19.2.2"
)

// both runs argv in host h of both topologies, the gofw side first, and
// fails the test if either fails.
func (p *pair) both(h host, argv ...string) {
	p.t.Helper()
	p.g.must(p.g.in(h, argv...)...)
	p.k.must(p.k.in(h, argv...)...)
}

// ctEntry finds the original direction's source port of a conntrack -L
// line: the client's fixed port names the entry in these tests.
var ctEntry = regexp.MustCompile(`^[a-z0-9]+\s+\d+ \d+ .*? sport=(\d+) `)

// ctClientPorts lists, sorted, the original source ports of the side's
// connection table.
func (s *side) ctClientPorts() []int {
	var ports []int
	for _, l := range strings.Split(s.conntrackList(), "\n") {
		if m := ctEntry.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[1])
			ports = append(ports, n)
		}
	}
	sort.Ints(ports)
	return ports
}

// waitCtPorts waits (at most 10 s) until the kernel's connection table
// holds the entries of exactly the client ports want, as the kernel's
// masquerade notifiers remove entries from a work queue, not at once; then
// gofw's table must list the same entries, states and tuples.
func (p *pair) waitCtPorts(t *testing.T, what string, want []int) {
	t.Helper()
	var got []int
	if !poll(10*time.Second, func() bool { got = p.k.ctClientPorts(); return slices.Equal(got, want) }) {
		t.Fatalf("%s: the kernel's table holds the entries of ports %v, the test wants %v (the test is wrong)", what, got, want)
	}
	p.compareConntrack(t)
}

// TestE2EMasqueradeDown: MASQUERADE entries die with what they were
// masqueraded to, as the kernel's masquerade notifiers make them
// (nf_nat_masquerade.c): when the router's address is removed from the
// wan link, the entries whose reply comes back to that address
// (masq_inet_event, inet_cmp); when the link goes down, every entry
// masqueraded on it (masq_device_event, device_cmp). Entries of the same
// link that are not masqueraded (a port-forward) stay. gofwd learns of
// both from rtnetlink (datapath/links.go).
func TestE2EMasqueradeDown(t *testing.T) {
	p := newPairSetup(t, "testdata/forward.v4", "iptables-legacy", func(s *side) {
		s.ipBatch(s.ns[router],
			"addr add "+rtrWan2IP+"/24 dev veth-wan",
			"route replace 198.19.2.0/24 dev veth-wan proto kernel scope link src "+rtrWan2IP+" quickack 1 rto_min 3s")
		s.ipBatch(s.ns[wan],
			"addr add "+wan2IP+"/24 dev eth0",
			"route replace 198.19.2.0/24 dev eth0 proto kernel scope link src "+wan2IP+" quickack 1 rto_min 3s")
	})
	p.serve(server{wan, "tcp", "0.0.0.0:80"}, server{wan, "udp", "0.0.0.0:53"},
		server{lan, "tcp", lanIP + ":80"}, server{lan, "udp", lanIP + ":53"})
	hello := func(srv, client string) string { return fmt.Sprintf("hello from %s, you are %s", srv, client) }
	p.exchange(
		// Masqueraded to the router's first wan address.
		exchange{lan, "tcp", wanIP + ":80", 49001, hello(wanIP+":80", rtrWanIP+":49001")},
		exchange{lan, "udp", wanIP + ":53", 49002, hello("0.0.0.0:53", rtrWanIP+":49002")},
		// Masqueraded to its second one.
		exchange{lan, "tcp", wan2IP + ":80", 49003, hello(wan2IP+":80", rtrWan2IP+":49003")},
		exchange{lan, "udp", wan2IP + ":53", 49004, hello("0.0.0.0:53", rtrWan2IP+":49004")},
		// Port-forwarded in by the same link, not masqueraded.
		exchange{wan, "tcp", rtrWanIP + ":8080", 49005, hello(lanIP+":80", wanIP+":49005")},
		exchange{wan, "udp", rtrWanIP + ":5353", 49006, hello(lanIP+":53", wanIP+":49006")},
	)
	t.Run("before", func(t *testing.T) { p.waitCtPorts(t, "before", []int{49001, 49002, 49003, 49004, 49005, 49006}) })

	// The second address goes, the link stays up: only the entries
	// masqueraded to it go.
	p.both(router, "ip", "addr", "del", rtrWan2IP+"/24", "dev", "veth-wan")
	t.Run("address removed", func(t *testing.T) {
		p.waitCtPorts(t, "address removed", []int{49001, 49002, 49005, 49006})
	})

	// The link goes down (its addresses stay): every entry masqueraded
	// on it goes, the port-forwards stay.
	p.both(router, "ip", "link", "set", "veth-wan", "down")
	t.Run("link down", func(t *testing.T) { p.waitCtPorts(t, "link down", []int{49005, 49006}) })
}

// The link of TestE2EMark's mark 7 route: the router's mark0 to the wan
// host's eth1, beside the main path through veth-wan.
const (
	rtrMarkIP = "198.19.7.1"
	wanMarkIP = "198.19.7.2"
)

// TestE2EMark: MARK and CONNMARK reach the kernel as the verdict mark, so
// policy routing (ip rule fwmark) sees them. gofw runs mangle PREROUTING
// in its raw PREROUTING visit, before the kernel routes the packet, as the
// kernel's mangle table runs before ip_route_input: a flow marked 7 leaves
// by a second link, unmasqueraded (the server sees the LAN host), one
// marked 8 meets an unreachable route, and replies whose connection mark
// (set with CONNMARK --set-mark, or saved from the packet's with
// --save-mark) is restored onto them meet a prohibit route back to the
// LAN. The counters show which way each packet went.
func TestE2EMark(t *testing.T) {
	p := newPairSetup(t, "testdata/mark.v4", "iptables-legacy", func(s *side) {
		s.ipBatch("", "link add mark0 netns "+s.ns[router]+" type veth peer name eth1 netns "+s.ns[wan])
		s.ipBatch(s.ns[wan],
			"addr add "+wanMarkIP+"/24 dev eth1",
			"link set eth1 up")
		s.ipBatch(s.ns[router],
			"addr add "+rtrMarkIP+"/24 dev mark0",
			"link set mark0 up",
			"rule add fwmark 7 table 107",
			"route add 198.19.1.0/24 via "+wanMarkIP+" dev mark0 table 107 quickack 1 rto_min 3s",
			"rule add fwmark 8 table 108",
			"route add unreachable 198.19.1.0/24 table 108",
			"rule add fwmark 9 table 109",
			"route add prohibit 198.18.1.0/24 table 109")
	})
	p.serve(server{wan, "tcp", "0.0.0.0:80"}, server{wan, "tcp", "0.0.0.0:81"},
		server{wan, "udp", wanIP + ":53"}, server{wan, "udp", wanIP + ":54"}, server{wan, "udp", wanIP + ":55"})
	hello := func(srv, client string) string { return fmt.Sprintf("hello from %s, you are %s", srv, client) }
	p.exchange(
		// Unmarked: the main table, masqueraded.
		exchange{lan, "tcp", wanIP + ":80", 49101, hello(wanIP+":80", rtrWanIP+":49101")},
		exchange{lan, "udp", wanIP + ":53", 49102, hello(wanIP+":53", rtrWanIP+":49102")},
		// MARK 7: out of mark0, so not masqueraded; the replies come
		// back through veth-wan as ESTABLISHED.
		exchange{lan, "tcp", wanIP + ":81", 49103, hello(wanIP+":81", lanIP+":49103")},
		// MARK 8: the router answers host unreachable.
		exchange{lan, "tcp", wanIP + ":82", 49104, "refused EHOSTUNREACH"},
		// The connection's mark restored onto the reply: the request
		// passes, its answer does not.
		exchange{lan, "udp", wanIP + ":54", 49105, "timeout"},
		exchange{lan, "udp", wanIP + ":55", 49106, "timeout"},
	)
	t.Run("conntrack", func(t *testing.T) { p.compareConntrack(t) })
	t.Run("counters", func(t *testing.T) { p.compareCounters(t, "mangle", "filter", "nat") })
}
