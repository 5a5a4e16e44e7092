package match

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/packet"
)

// Matcher is the hot path of a match: does this packet match? It is called
// for every packet that reaches the rule, so it must not allocate, block or
// fail. A header the match needs but finds broken sets p.Hotdrop (the
// kernel's acpar.hotdrop) and returns false.
type Matcher interface {
	Match(p *packet.Packet) bool
}

// Binder is implemented by extensions that need state from outside the rule
// (named recent lists, hashlimit tables, the conntrack table, the host's
// addresses, a log sink). The engine calls Bind once when it compiles a
// ruleset, before the ruleset carries any packet; an error refuses the whole
// ruleset, so a rule is never accepted and then found unusable on the
// packet path.
type Binder interface {
	Bind(env *Env) error
}

// Env is what the engine lends to extensions: the daemon-wide state that
// outlives any one ruleset, as the kernel keeps xt_recent's lists and
// hashlimit's tables per network namespace rather than per rule.
type Env struct {
	// CT is the connection table (connlimit counts from it); nil when the
	// engine runs without tracking.
	CT *conntrack.Table
	// Host describes the local interfaces and addresses (addrtype,
	// MASQUERADE, REDIRECT).
	Host *Host
	// Log receives the lines of LOG and NFLOG targets, already formatted
	// as the kernel writes them. Nil discards them.
	Log func(line string)
	// LogRecord, when not nil, receives the LOG and NFLOG lines instead of
	// Log, with the syslog level the kernel passes beside the text (its
	// KERN_SOH prefix): 0 (emerg) to 7 (debug), the numbering of both
	// printk and syslog severities, so facility kern at that severity.
	// line is a pooled buffer, valid only during the call: a sink that
	// keeps it must copy it. This is the path that does not allocate.
	LogRecord func(level uint8, line []byte)

	mu     sync.Mutex
	shared map[sharedKey]any
}

type sharedKey struct{ kind, name string }

// Shared returns the object registered under kind and name, creating it
// with mk the first time. Rules naming the same recent list or hashlimit
// table share one object for the engine's lifetime, so replacing a ruleset
// keeps their contents, as the kernel's named tables do.
func (e *Env) Shared(kind, name string, mk func() any) any {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.shared == nil {
		e.shared = map[sharedKey]any{}
	}
	k := sharedKey{kind, name}
	if v, ok := e.shared[k]; ok {
		return v
	}
	v := mk()
	e.shared[k] = v
	return v
}

// Iface is one network interface as the host sees it.
type Iface struct {
	Name  string
	Index int
	Up    bool
	// MTU is the interface's MTU (the route MTU TCPMSS
	// --clamp-mss-to-pmtu clamps to); 0 when unknown.
	MTU int
	// Addrs are the interface's addresses with their prefix length, the
	// primary (first configured) address of each family first.
	Addrs []netip.Prefix
}

// Host is the set of local interfaces and addresses. The datapath keeps it
// current from netlink; gofw trace fills it from --local and --iface. Reads
// are lock-free (one atomic load of an immutable snapshot).
type Host struct {
	cur atomic.Pointer[hostSnap]
}

type hostSnap struct {
	ifaces []Iface
	local  map[netip.Addr]bool
	// localNets are RTN_LOCAL routes of the local routing table wider
	// than one address ("ip route add local 198.18.9.0/24 dev lo"): every
	// address in them is delivered to this host.
	localNets []netip.Prefix
}

// NewHost returns a Host holding ifaces.
func NewHost(ifaces []Iface) *Host {
	h := &Host{}
	h.Set(ifaces)
	return h
}

// Set replaces the interfaces wholesale.
func (h *Host) Set(ifaces []Iface) { h.SetRoutes(ifaces, nil) }

// SetRoutes replaces the interfaces and the local routes that cover more
// than one address (see Delivers).
func (h *Host) SetRoutes(ifaces []Iface, localNets []netip.Prefix) {
	s := &hostSnap{ifaces: append([]Iface(nil), ifaces...), local: map[netip.Addr]bool{}, localNets: localNets}
	for _, i := range ifaces {
		for _, a := range i.Addrs {
			s.local[a.Addr()] = true
		}
	}
	h.cur.Store(s)
}

// Ifaces returns the current interfaces; the caller must not modify them.
func (h *Host) Ifaces() []Iface {
	if h == nil {
		return nil
	}
	return h.cur.Load().ifaces
}

// IsLocal reports whether a is an address of this host (loopback included).
func (h *Host) IsLocal(a netip.Addr) bool {
	if a.IsLoopback() {
		return true
	}
	if h == nil {
		return false
	}
	return h.cur.Load().local[a]
}

// Delivers reports whether the kernel delivers a packet to dst to this
// host (its input route is local, broadcast or multicast): the packet goes
// PREROUTING→INPUT rather than PREROUTING→FORWARD. It follows the local
// routing table: the host's own addresses, loopback, local routes, the
// limited and directed broadcasts, and multicast.
func (h *Host) Delivers(dst netip.Addr) bool {
	if h.IsLocal(dst) || dst.IsMulticast() || h.IsBroadcast(dst) {
		return true
	}
	if h == nil {
		return false
	}
	for _, p := range h.cur.Load().localNets {
		if p.Contains(dst) {
			return true
		}
	}
	return false
}

// Iface returns the interface called name.
func (h *Host) Iface(name string) (Iface, bool) {
	if h == nil {
		return Iface{}, false
	}
	for _, i := range h.cur.Load().ifaces {
		if i.Name == name {
			return i, true
		}
	}
	return Iface{}, false
}

// PrimaryAddr returns the first address of family (4 or 6) on interface
// name: what MASQUERADE picks as the new source (the kernel asks the route
// for a source address, which is the primary address of the outgoing
// interface's matching prefix), and REDIRECT as the new destination.
func (h *Host) PrimaryAddr(name string, family uint8) (netip.Addr, bool) {
	i, ok := h.Iface(name)
	if !ok {
		return netip.Addr{}, false
	}
	for _, a := range i.Addrs {
		if (family == 4) == a.Addr().Is4() {
			return a.Addr(), true
		}
	}
	return netip.Addr{}, false
}

// IsBroadcast reports whether a is the directed broadcast address of one of
// the host's IPv4 prefixes, or the limited broadcast 255.255.255.255.
func (h *Host) IsBroadcast(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	if a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return true
	}
	if h == nil {
		return false
	}
	for _, i := range h.cur.Load().ifaces {
		for _, p := range i.Addrs {
			if p.Addr().Is4() && p.Bits() < 31 && lastAddr(p) == a {
				return true
			}
		}
	}
	return false
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := ^uint32(0) >> p.Bits()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v |= host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// SourceAddr returns the address a packet to dst leaving through interface
// name gets as its source, as inet_select_addr picks it: the first address
// of the family whose prefix contains dst, else the interface's first
// address of the family (MASQUERADE's choice).
func (h *Host) SourceAddr(name string, dst netip.Addr) (netip.Addr, bool) {
	i, ok := h.Iface(name)
	if !ok {
		return netip.Addr{}, false
	}
	var first netip.Addr
	for _, a := range i.Addrs {
		if a.Addr().Is4() != dst.Is4() {
			continue
		}
		if a.Contains(dst) {
			return a.Addr(), true
		}
		if !first.IsValid() {
			first = a.Addr()
		}
	}
	return first, first.IsValid()
}
