package datapath

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

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
//
// The notifications of a burst (a container host adding a hundred veths)
// are read together and the interfaces read again once, not once each.
// If the kernel still drops notifications (ENOBUFS: the subscription's
// socket overflowed), the subscription fails; Watch opens it again, reads
// the interfaces, and calls OnDown and OnAddrDel for what the lost
// notifications would have said: interfaces that were up and are now down
// or gone, addresses gone from interfaces that are still there.
func (l *Links) Watch(ctx context.Context) error {
	sub, err := l.subscribe(ctx)
	if err != nil {
		return err
	}
	// What changed between the caller's Refresh and the subscription.
	l.resync()
	go func() {
		for {
			l.follow(ctx, sub)
			sub.cancel()
			if ctx.Err() != nil {
				return
			}
			l.logf("interface notifications lost: reading the interfaces again")
			for {
				if sub, err = l.subscribe(ctx); err == nil {
					break
				}
				l.logf("watching interfaces: %v", err)
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Second):
				}
			}
			l.resync()
		}
	}()
	return nil
}

// subscription is one pair of rtnetlink subscriptions; cancel closes
// their sockets.
type subscription struct {
	links  chan netlink.LinkUpdate
	addrs  chan netlink.AddrUpdate
	cancel context.CancelFunc
}

// notifyBuf is the subscriptions' socket receive buffer: room for some
// thousands of notifications while a refresh runs.
const notifyBuf = 4 << 20

func (l *Links) subscribe(ctx context.Context) (*subscription, error) {
	sctx, cancel := context.WithCancel(ctx)
	s := &subscription{links: make(chan netlink.LinkUpdate, 256), addrs: make(chan netlink.AddrUpdate, 256), cancel: cancel}
	onErr := func(err error) {
		if sctx.Err() == nil { // not the sockets closed by cancel
			l.logf("interface notifications: %v", err)
		}
	}
	err := forcedBuffer(func(force bool) error {
		return netlink.LinkSubscribeWithOptions(s.links, sctx.Done(), netlink.LinkSubscribeOptions{ErrorCallback: onErr, ReceiveBufferSize: notifyBuf, ReceiveBufferForceSize: force})
	})
	if err == nil {
		err = forcedBuffer(func(force bool) error {
			return netlink.AddrSubscribeWithOptions(s.addrs, sctx.Done(), netlink.AddrSubscribeOptions{ErrorCallback: onErr, ReceiveBufferSize: notifyBuf, ReceiveBufferForceSize: force})
		})
	}
	if err != nil {
		cancel()
		return nil, err
	}
	return s, nil
}

// forcedBuffer subscribes with a receive buffer forced past rmem_max,
// which needs CAP_NET_ADMIN, and without it, with the default one.
func forcedBuffer(subscribe func(force bool) error) error {
	if err := subscribe(true); err == nil {
		return nil
	}
	return subscribe(false)
}

// addrDel is one address removal to report.
type addrDel struct {
	index int
	addr  netip.Addr
}

// maxBatch bounds the notifications read before the interfaces are read
// again and the callbacks run.
const maxBatch = 1024

// follow reads sub's notifications until ctx ends or the subscription
// fails: each batch of what is already there, then one refresh, then the
// callbacks.
func (l *Links) follow(ctx context.Context, sub *subscription) {
	var downs []string
	var dels []addrDel
	// take notes one notification; false when its channel closed.
	take := func(lu *netlink.LinkUpdate, au *netlink.AddrUpdate, ok bool) bool {
		switch {
		case !ok:
			return false
		case lu != nil:
			if lu.Header.Type == unix.RTM_DELLINK || lu.Attrs().Flags&unix.IFF_UP == 0 {
				downs = append(downs, lu.Attrs().Name)
			}
		case au != nil && !au.NewAddr:
			if p, ok := netipPrefix(netlink.Addr{IPNet: &au.LinkAddress}); ok {
				dels = append(dels, addrDel{au.LinkIndex, p.Addr()})
			}
		}
		return true
	}
	for {
		downs, dels = downs[:0], dels[:0]
		var open bool
		select {
		case u, ok := <-sub.links:
			open = take(&u, nil, ok)
		case u, ok := <-sub.addrs:
			open = take(nil, &u, ok)
		case <-ctx.Done():
			return
		}
	batch:
		for i := 1; open && i < maxBatch; i++ {
			select {
			case u, ok := <-sub.links:
				open = take(&u, nil, ok)
			case u, ok := <-sub.addrs:
				open = take(nil, &u, ok)
			default:
				break batch
			}
		}
		l.refresh()
		l.report(downs, dels)
		if !open {
			return
		}
	}
}

// report calls OnDown for each interface name in downs and OnAddrDel for
// each removal in dels, by the interface's current name. An address that
// went with its link (deleted) leaves no name to go by: the link's own
// RTM_DELLINK kills its masquerade entries, as the kernel's
// masq_inet_event leaves a dying device to masq_device_event (called with
// "", OnAddrDel would take entries of no interface: SNAT's).
func (l *Links) report(downs []string, dels []addrDel) {
	if l.OnDown != nil {
		for _, name := range downs {
			l.OnDown(name)
		}
	}
	if l.OnAddrDel != nil {
		for _, d := range dels {
			if name := l.Name(uint32(d.index)); name != "" {
				l.OnAddrDel(name, d.addr)
			}
		}
	}
}

// resync reads the interfaces again and reports what changed since the
// last reading that its notifications would have said (lost).
func (l *Links) resync() {
	old := l.Host.Ifaces()
	l.refresh()
	downs, dels := lost(old, l.Host.Ifaces())
	l.report(downs, dels)
}

// lost returns what notifications would have told between two readings
// of the interfaces: the names of those that were up and are now down or
// gone (by index, under their old name: the name a masquerade entry
// recorded), and the addresses gone from interfaces still there.
func lost(old, cur []match.Iface) (downs []string, dels []addrDel) {
	now := make(map[int]*match.Iface, len(cur))
	for i := range cur {
		now[cur[i].Index] = &cur[i]
	}
	for _, o := range old {
		n := now[o.Index]
		if o.Up && (n == nil || !n.Up) {
			downs = append(downs, o.Name)
		}
		if n == nil {
			continue
		}
		for _, a := range o.Addrs {
			if !slices.Contains(n.Addrs, a) {
				dels = append(dels, addrDel{o.Index, a.Addr()})
			}
		}
	}
	return downs, dels
}

func (l *Links) logf(format string, a ...any) {
	if l.Logf != nil {
		l.Logf(format, a...)
	}
}

func (l *Links) refresh() {
	if err := l.Refresh(); err != nil {
		l.logf("reading interfaces: %v", err)
	}
}
