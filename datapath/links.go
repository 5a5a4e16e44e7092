package datapath

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/gofw/gofw/match"
)

// Links keeps the host's interfaces current from rtnetlink: ifindex to
// name for -i/-o (the queue message carries indexes), and each interface's
// addresses for addrtype, MASQUERADE and REDIRECT (the engine's
// match.Host). It calls OnDown when an interface goes down (or is
// deleted) and OnAddrDel when an address is removed from one that stays,
// so masqueraded entries die with them as the kernel's masquerade
// notifiers make them.
type Links struct {
	Host      *match.Host
	OnDown    func(name string)
	OnAddrDel func(name string, addr netip.Addr)
	Logf      func(format string, a ...any)

	names atomic.Pointer[map[uint32]string]
	mu    sync.Mutex // serialises refreshes
}

// Name returns the interface name of index i ("" when unknown). Called for
// every packet; must not allocate.
func (l *Links) Name(i uint32) string {
	if i == 0 {
		return ""
	}
	if m := l.names.Load(); m != nil {
		return (*m)[i]
	}
	return ""
}

// Refresh reads every link and address and publishes them.
func (l *Links) Refresh() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	links, err := netlink.LinkList()
	if err != nil {
		return err
	}
	names := make(map[uint32]string, len(links))
	var ifaces []match.Iface
	for _, ln := range links {
		a := ln.Attrs()
		names[uint32(a.Index)] = a.Name
		i := match.Iface{Name: a.Name, Index: a.Index, Up: a.Flags&unix.IFF_UP != 0, MTU: a.MTU}
		addrs, err := netlink.AddrList(ln, netlink.FAMILY_ALL)
		if err == nil {
			// Primary addresses first, in the kernel's order: what
			// MASQUERADE and REDIRECT pick.
			for _, secondary := range []bool{false, true} {
				for _, ad := range addrs {
					if (ad.Flags&unix.IFA_F_SECONDARY != 0) != secondary {
						continue
					}
					if p, ok := netipPrefix(ad); ok {
						i.Addrs = append(i.Addrs, p)
					}
				}
			}
		}
		ifaces = append(ifaces, i)
	}
	// Local routes wider than one address (AnyIP, "ip route add local
	// PREFIX"): the kernel delivers every address in them.
	var nets []netip.Prefix
	routes, err := netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_LOCAL, Type: unix.RTN_LOCAL},
		netlink.RT_FILTER_TABLE|netlink.RT_FILTER_TYPE)
	if err == nil {
		for _, r := range routes {
			if r.Dst == nil {
				continue
			}
			if p, ok := netipPrefix(netlink.Addr{IPNet: r.Dst}); ok && p.Bits() < 32 {
				nets = append(nets, p.Masked())
			}
		}
	}
	l.names.Store(&names)
	l.Host.SetRoutes(ifaces, nets)
	return nil
}

func netipPrefix(a netlink.Addr) (netip.Prefix, bool) {
	if a.IPNet == nil {
		return netip.Prefix{}, false
	}
	ip, ok := netip.AddrFromSlice(a.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := a.Mask.Size()
	return netip.PrefixFrom(ip.Unmap(), ones), true
}

// Watch follows link and address changes until ctx ends.
func (l *Links) Watch(ctx context.Context) error {
	lch := make(chan netlink.LinkUpdate, 64)
	ach := make(chan netlink.AddrUpdate, 64)
	done := make(chan struct{})
	go func() { <-ctx.Done(); close(done) }()
	if err := netlink.LinkSubscribe(lch, done); err != nil {
		return err
	}
	if err := netlink.AddrSubscribe(ach, done); err != nil {
		return err
	}
	go func() {
		for {
			select {
			case u, ok := <-lch:
				if !ok {
					return
				}
				a := u.Attrs()
				down := u.Header.Type == unix.RTM_DELLINK || a.Flags&unix.IFF_UP == 0
				l.refresh()
				if down && l.OnDown != nil {
					l.OnDown(a.Name)
				}
			case u, ok := <-ach:
				if !ok {
					return
				}
				l.refresh()
				if u.NewAddr || l.OnAddrDel == nil {
					continue
				}
				// An address that goes with its link (deleted) leaves
				// no name to go by: the link's own RTM_DELLINK kills
				// its masquerade entries, as the kernel's
				// masq_inet_event leaves a dying device to
				// masq_device_event. Called with "", OnAddrDel would
				// take entries of no interface: SNAT's.
				name := l.Name(uint32(u.LinkIndex))
				if p, ok := netipPrefix(netlink.Addr{IPNet: &u.LinkAddress}); ok && name != "" {
					l.OnAddrDel(name, p.Addr())
				}
			case <-done:
				return
			}
		}
	}()
	return nil
}

func (l *Links) refresh() {
	if err := l.Refresh(); err != nil && l.Logf != nil {
		l.Logf("reading interfaces: %v", err)
	}
}
