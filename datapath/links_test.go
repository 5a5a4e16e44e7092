package datapath

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/gofw/gofw/match"
)

// TestLost: what lost rtnetlink notifications would have said, found by
// comparing two readings of the interfaces (Links.resync), so that
// masquerade entries still die with their link or address after the
// subscription overflowed.
func TestLost(t *testing.T) {
	pfx := netip.MustParsePrefix
	eth := func(up bool, addrs ...string) match.Iface {
		i := match.Iface{Name: "eth0", Index: 2, Up: up}
		for _, a := range addrs {
			i.Addrs = append(i.Addrs, pfx(a))
		}
		return i
	}
	lo := match.Iface{Name: "lo", Index: 1, Up: true, Addrs: []netip.Prefix{pfx("127.0.0.1/8")}}
	for _, r := range []struct {
		name     string
		old, cur []match.Iface
		downs    []string
		dels     []addrDel
	}{
		{"nothing changed", []match.Iface{lo, eth(true, "198.18.0.1/24")}, []match.Iface{lo, eth(true, "198.18.0.1/24")}, nil, nil},
		{"an address added", []match.Iface{eth(true, "198.18.0.1/24")}, []match.Iface{eth(true, "198.18.0.1/24", "198.19.0.1/24")}, nil, nil},
		// masq_inet_event: only the address that went.
		{"an address removed", []match.Iface{eth(true, "198.18.0.1/24", "198.19.0.1/24")}, []match.Iface{eth(true, "198.18.0.1/24")},
			nil, []addrDel{{2, netip.MustParseAddr("198.19.0.1")}}},
		// The same address with another prefix length was removed and
		// added again.
		{"an address's prefix changed", []match.Iface{eth(true, "198.18.0.1/24")}, []match.Iface{eth(true, "198.18.0.1/25")},
			nil, []addrDel{{2, netip.MustParseAddr("198.18.0.1")}}},
		// masq_device_event: the link went down, its addresses stay.
		{"link down", []match.Iface{lo, eth(true, "198.18.0.1/24")}, []match.Iface{lo, eth(false, "198.18.0.1/24")}, []string{"eth0"}, nil},
		{"already down", []match.Iface{eth(false, "198.18.0.1/24")}, []match.Iface{eth(false, "198.18.0.1/24")}, nil, nil},
		{"link up", []match.Iface{eth(false, "198.18.0.1/24")}, []match.Iface{eth(true, "198.18.0.1/24")}, nil, nil},
		// Deleted with its addresses: the link goes down, under the
		// name the entries recorded, and no address is reported.
		{"link deleted", []match.Iface{lo, eth(true, "198.18.0.1/24")}, []match.Iface{lo}, []string{"eth0"}, nil},
		// Renamed (by index): no loss; an entry keeps its old name.
		{"link renamed", []match.Iface{eth(true, "198.18.0.1/24")}, []match.Iface{{Name: "wan0", Index: 2, Up: true, Addrs: []netip.Prefix{pfx("198.18.0.1/24")}}}, nil, nil},
		// Gone and a new link with the same name (a new index).
		{"link replaced", []match.Iface{eth(true, "198.18.0.1/24")}, []match.Iface{{Name: "eth0", Index: 7, Up: true, Addrs: []netip.Prefix{pfx("198.18.0.1/24")}}}, []string{"eth0"}, nil},
	} {
		downs, dels := lost(r.old, r.cur)
		if !slices.Equal(downs, r.downs) || !slices.Equal(dels, r.dels) {
			t.Errorf("%s: downs %v, addresses %v; want %v, %v", r.name, downs, dels, r.downs, r.dels)
		}
	}
}
