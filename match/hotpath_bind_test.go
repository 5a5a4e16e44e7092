package match

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/gofw/gofw/packet"
)

// Tests of the matches that bind to the engine's environment: addrtype
// (the host's addresses) and owner (refusing what NFQUEUE cannot tell).

// testHost has a loopback, eth0 in 198.18.0.0/24 and eth1 in
// 198.19.0.0/24.
func testHost() *Host {
	return NewHost([]Iface{
		{Name: "lo", Index: 1, Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}},
		{Name: "eth0", Index: 2, Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("198.18.0.2/24")}},
		{Name: "eth1", Index: 3, Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("198.19.0.1/24")}},
	})
}

// to is a UDP datagram from src to dst arriving on in and leaving by out.
func to(t testing.TB, src, dst, in, out string) *packet.Packet {
	p := decode(t, packet.BuildUDP(hpAP(src, 40000), hpAP(dst, 53), nil))
	p.InIface, p.OutIface = in, out
	return p
}

// TestAddrtypeMatch checks the address classes against what
// inet_dev_addr_type answered on Linux 6.18 (measured in a namespace with
// the same addresses as testHost: see Addrtype.Match).
func TestAddrtypeMatch(t *testing.T) {
	env := &Env{Host: testHost()}
	const peer = "198.18.0.7"
	checkRowsIn(t, "FORWARD", env, []hpRow{
		// 0.0.0.0 is BROADCAST, not UNSPEC; the rest of 0/8 is unicast.
		{"0.0.0.0", "-m addrtype --src-type BROADCAST", to(t, "0.0.0.0", "198.18.0.2", "eth0", ""), true, false},
		{"0.0.0.0 is not UNSPEC", "-m addrtype --src-type UNSPEC", to(t, "0.0.0.0", "198.18.0.2", "eth0", ""), false, false},
		{"0.1.2.3", "-m addrtype --src-type UNICAST", to(t, "0.1.2.3", "198.18.0.2", "eth0", ""), true, false},
		{"! UNSPEC always", "-m addrtype ! --src-type UNSPEC", to(t, peer, "198.18.0.2", "eth0", ""), true, false},
		// Broadcasts: limited, directed; not the network address.
		{"255.255.255.255", "-m addrtype --dst-type BROADCAST", to(t, peer, "255.255.255.255", "eth0", ""), true, false},
		{"directed broadcast", "-m addrtype --dst-type BROADCAST", to(t, peer, "198.18.0.255", "eth0", ""), true, false},
		{"network address", "-m addrtype --dst-type UNICAST", to(t, peer, "198.18.0.0", "eth0", ""), true, false},
		{"broadcast of the input interface", "-m addrtype --dst-type BROADCAST --limit-iface-in", to(t, peer, "198.18.0.255", "eth0", ""), true, false},
		{"broadcast of another interface", "-m addrtype --dst-type UNICAST --limit-iface-in", to(t, peer, "198.19.0.255", "eth0", ""), true, false},
		{"broadcast of another interface, unlimited", "-m addrtype --dst-type BROADCAST", to(t, peer, "198.19.0.255", "eth0", ""), true, false},
		// Local addresses.
		{"local", "-m addrtype --dst-type LOCAL", to(t, peer, "198.18.0.2", "eth0", ""), true, false},
		{"local of another interface", "-m addrtype --dst-type LOCAL", to(t, peer, "198.19.0.1", "eth0", ""), true, false},
		{"local of another interface, limited", "-m addrtype --dst-type LOCAL --limit-iface-in", to(t, peer, "198.19.0.1", "eth0", ""), false, false},
		{"local of another interface is unicast there", "-m addrtype --dst-type UNICAST --limit-iface-in", to(t, peer, "198.19.0.1", "eth0", ""), true, false},
		{"local of the output interface", "-m addrtype --src-type LOCAL --limit-iface-out", to(t, "198.19.0.1", peer, "", "eth1"), true, false},
		{"local of another output interface", "-m addrtype --src-type LOCAL --limit-iface-out", to(t, "198.19.0.1", peer, "", "eth0"), false, false},
		{"no interface: no limit", "-m addrtype --dst-type LOCAL --limit-iface-in", to(t, peer, "198.19.0.1", "", ""), true, false},
		{"unknown interface", "-m addrtype --dst-type UNICAST --limit-iface-in", to(t, peer, "198.18.0.2", "tun9", ""), true, false},
		// Loopback: lo's /8 is local, its last address a broadcast.
		{"127.0.0.5", "-m addrtype --dst-type LOCAL", to(t, peer, "127.0.0.5", "eth0", ""), true, false},
		{"127.0.0.5 on lo", "-m addrtype --dst-type LOCAL --limit-iface-in", to(t, peer, "127.0.0.5", "lo", ""), true, false},
		{"127.0.0.5 limited to eth0", "-m addrtype --dst-type UNICAST --limit-iface-in", to(t, peer, "127.0.0.5", "eth0", ""), true, false},
		{"127.255.255.255", "-m addrtype --dst-type BROADCAST", to(t, peer, "127.255.255.255", "eth0", ""), true, false},
		{"127.255.255.255 on lo", "-m addrtype --dst-type BROADCAST --limit-iface-in", to(t, peer, "127.255.255.255", "lo", ""), true, false},
		// Multicast, whatever the interface.
		{"multicast", "-m addrtype --dst-type MULTICAST", to(t, peer, "224.0.0.251", "eth0", ""), true, false},
		{"multicast limited", "-m addrtype --dst-type MULTICAST --limit-iface-in", to(t, peer, "239.1.2.3", "eth1", ""), true, false},
		// Unicast, lists and inversions (kube-proxy's and Docker's rules).
		{"unicast", "-m addrtype --dst-type UNICAST", to(t, peer, "198.19.5.5", "eth0", ""), true, false},
		{"list", "-m addrtype --dst-type BROADCAST,MULTICAST", to(t, peer, "224.0.0.1", "eth0", ""), true, false},
		{"list miss", "-m addrtype --dst-type BROADCAST,MULTICAST", to(t, peer, "198.18.0.2", "eth0", ""), false, false},
		{"! local src, local dst", "-m addrtype ! --src-type LOCAL --dst-type LOCAL", to(t, peer, "198.18.0.2", "eth0", ""), true, false},
		{"! local src from a local address", "-m addrtype ! --src-type LOCAL --dst-type LOCAL", to(t, "198.19.0.1", "198.18.0.2", "eth0", ""), false, false},
		{"! local dst", "-m addrtype ! --dst-type LOCAL", to(t, peer, "198.18.0.2", "eth0", ""), false, false},
		// gofw's tables are IPv4: an IPv6 packet never matches.
		{"ipv6", "-m addrtype ! --dst-type LOCAL", decode(t, packet.BuildUDP(hpAP("fd00::1", 1), hpAP("fd00::2", 2), nil)), false, false},
	})
	// The host is read at packet time, so a change of addresses counts
	// without a reload.
	ms := matchers(t, "FORWARD", "-m addrtype --dst-type LOCAL")
	if err := ms[0].(Binder).Bind(env); err != nil {
		t.Fatal(err)
	}
	p := to(t, peer, "198.19.7.7", "eth0", "")
	if ms[0].Match(p) {
		t.Fatalf("198.19.7.7 LOCAL before it was added")
	}
	env.Host.Set(append(env.Host.Ifaces(), Iface{Name: "eth2", Addrs: []netip.Prefix{netip.MustParsePrefix("198.19.7.7/32")}}))
	if !ms[0].Match(p) {
		t.Fatalf("198.19.7.7 not LOCAL after it was added")
	}
}

// TestMatchBind checks what Bind refuses, by name.
func TestMatchBind(t *testing.T) {
	full := &Env{Host: testHost()}
	for _, r := range []struct {
		chain, rule string
		env         *Env
		err         string // "" when Bind must succeed
	}{
		{"FORWARD", "-m addrtype --dst-type LOCAL", full, ""},
		{"FORWARD", "-m addrtype --src-type UNSPEC,UNICAST,LOCAL,BROADCAST,MULTICAST", full, ""},
		{"FORWARD", "-m addrtype --dst-type BLACKHOLE", full, "--dst-type BLACKHOLE needs the routing table"},
		{"FORWARD", "-m addrtype --dst-type LOCAL,UNREACHABLE", full, "--dst-type UNREACHABLE needs the routing table"},
		{"FORWARD", "-m addrtype ! --src-type PROHIBIT", full, "--src-type PROHIBIT needs the routing table"},
		{"FORWARD", "-m addrtype --src-type THROW", full, "--src-type THROW"},
		{"FORWARD", "-m addrtype --src-type ANYCAST", full, "--src-type ANYCAST"},
		{"FORWARD", "-m addrtype --dst-type NAT", full, "--dst-type NAT"},
		{"FORWARD", "-m addrtype --dst-type X", full, "--dst-type XRESOLVE"},
		{"FORWARD", "-m addrtype --dst-type LOCAL", &Env{}, "host's interfaces and addresses"},
		{"OUTPUT", "-m owner --uid-owner 0", &Env{}, ""},
		{"OUTPUT", "-m owner --gid-owner 0 --suppl-groups", &Env{}, "--suppl-groups"},
	} {
		ms := matchers(t, r.chain, r.rule)
		err := ms[0].(Binder).Bind(r.env)
		switch {
		case r.err == "" && err != nil:
			t.Errorf("%s: bind: %v, want success", r.rule, err)
		case r.err != "" && (err == nil || !strings.Contains(err.Error(), r.err)):
			t.Errorf("%s: bind: %v, want an error with %q", r.rule, err, r.err)
		}
	}
}

// TestOwnerMatch checks owner_mt.
func TestOwnerMatch(t *testing.T) {
	own := func(uid, gid uint32) *packet.Packet {
		p := udpDg(t, 40000, 53)
		p.HasOwner, p.UID, p.GID = true, uid, gid
		return p
	}
	user := own(1000, 100)
	fwd := udpDg(t, 40000, 53) // no socket: forwarded, or one NFQUEUE reports none for
	checkRowsIn(t, "OUTPUT", &Env{}, []hpRow{
		{"uid", "-m owner --uid-owner 1000", user, true, false},
		{"uid range", "-m owner --uid-owner 1000-2000", user, true, false},
		{"uid other", "-m owner --uid-owner 0", user, false, false},
		{"! uid other", "-m owner ! --uid-owner 0-999", user, true, false},
		{"! uid", "-m owner ! --uid-owner 1000", user, false, false},
		{"gid", "-m owner --gid-owner 100", user, true, false},
		{"gid range", "-m owner --gid-owner 50:150", user, true, false},
		{"uid and gid", "-m owner --uid-owner 1000 --gid-owner 100", user, true, false},
		{"uid and wrong gid", "-m owner --uid-owner 1000 --gid-owner 0", user, false, false},
		{"uid and ! wrong gid", "-m owner --uid-owner 1000 ! --gid-owner 0", user, true, false},
		{"socket-exists", "-m owner --socket-exists", user, true, false},
		{"! socket-exists with a socket", "-m owner ! --socket-exists", user, false, false},
		{"! socket-exists with a socket and uid", "-m owner ! --socket-exists --uid-owner 1000", user, false, false},
		{"root", "-m owner --uid-owner 0 --gid-owner 0", own(0, 0), true, false},
		// Without a socket: true only when every test is negated.
		{"no socket: uid", "-m owner --uid-owner 0", fwd, false, false},
		{"no socket: ! uid", "-m owner ! --uid-owner 0", fwd, true, false},
		{"no socket: socket-exists", "-m owner --socket-exists", fwd, false, false},
		{"no socket: ! socket-exists", "-m owner ! --socket-exists", fwd, true, false},
		{"no socket: ! uid, gid", "-m owner ! --uid-owner 0 --gid-owner 0", fwd, false, false},
		{"no socket: ! uid, ! gid", "-m owner ! --uid-owner 0 ! --gid-owner 0", fwd, true, false},
	})
}
