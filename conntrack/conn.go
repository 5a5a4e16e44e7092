package conntrack

import (
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Conn is one tracked connection, the kernel's struct nf_conn.
//
// Its layout is kept to 192 bytes (one Go size class) because a table holds
// up to a million of them: optional parts (accounting, later NAT and helper
// data) live behind the ext pointer as the kernel's nf_ct_ext does.
//
// Concurrency: the tuples are written only before confirmation, by the
// worker that owns the packet, and are read-only afterwards. The status
// word, the mark, the timeout and the cached events are atomics. The
// protocol state (tcp) is guarded by mu, as the kernel's ct->lock.
type Conn struct {
	tuple  [2]Tuple // ORIGINAL and REPLY (tuplehash[dir].tuple)
	zone   uint16
	helper uint8 // index into the helper-name registry, 0 = none
	_      uint8
	tcp    tcpConn

	status atomic.Uint32 // Status bits
	mark   atomic.Uint32 // ctmark (CONNMARK writes it from any worker)
	use    atomic.Int32  // references shown as use=: 1 + children + expectations
	events atomic.Uint32 // cached, undelivered event bits (ecache->cache)
	mu     sync.Mutex    // guards tcp

	// timeout is relative (nanoseconds of lifetime) while the entry is
	// unconfirmed and absolute (clock value of expiry) once confirmed, as
	// the kernel's ct->timeout.
	timeout atomic.Int64
	start   int64 // clock value at creation: UDP's 2 s rule, delta-time
	master  *Conn // the entry whose expectation created this one
	ext     *connExt
}

// connExt holds the optional parts of a Conn, allocated only when used
// (the kernel's nf_ct_ext area).
type connExt struct {
	hasAcct bool                                      // accounting was on at creation
	acct    [2]struct{ packets, bytes atomic.Uint64 } // nf_conn_acct
	// masqIface is the interface a MASQUERADE binding took its address
	// from (nf_conn_nat's masq_index): the entry dies with the interface
	// or its address.
	masqIface string
	// help is the helper's area (nf_conn_help with the helper's private
	// data, and nf_conn_seqadj), allocated when a helper is attached,
	// before confirmation, so that it never appears under a running
	// packet. Its contents are guarded by Conn.mu.
	help *helpExt
}

// Tuple returns the tuple of direction d.
func (c *Conn) Tuple(d Dir) Tuple { return c.tuple[d&1] }

// Zone returns the entry's conntrack zone.
func (c *Conn) Zone() uint16 { return c.zone }

// Proto returns the layer-4 protocol number.
func (c *Conn) Proto() uint8 { return c.tuple[Original].Proto }

// Family returns the layer-3 family.
func (c *Conn) Family() Family { return c.tuple[Original].Family }

// ID returns the entry's id, as conntrack -o id prints it. Like the
// kernel's nf_ct_get_id it is a keyed hash of the object's address: stable
// for the entry's life, costing no memory, and not guessable from outside.
// (Go's collector does not move heap objects.)
func (c *Conn) ID() uint32 {
	return uint32(mix(uint64(uintptr(unsafe.Pointer(c)))^idKey, hk3))
}

// idKey keys Conn.ID, chosen at start-up as the kernel's siphash key.
var idKey = rand.Uint64()

// Status returns the status word.
func (c *Conn) Status() Status { return Status(c.status.Load() &^ internalStatus) }

// setStatus ORs bits into the status word and reports whether any of them
// was not set before (the kernel's test_and_set_bit).
func (c *Conn) setStatus(bits Status) bool {
	for {
		old := c.status.Load()
		if old&uint32(bits) == uint32(bits) {
			return false
		}
		if c.status.CompareAndSwap(old, old|uint32(bits)) {
			return true
		}
	}
}

// tableOwnedStatus are bits only the table itself sets, as the kernel's
// IPS_UNCHANGEABLE_MASK keeps ctnetlink from touching them.
const tableOwnedStatus = StatusExpected | StatusConfirmed | StatusDying | StatusTemplate | StatusNATClash | StatusOffload | StatusHWOffload

// SetStatus ORs bits into the status word: NAT sets SRC_NAT / DST_NAT and
// the *_DONE bits, a helper SEQ_ADJUST, ctnetlink ASSURED. Bits the table
// manages itself (EXPECTED, CONFIRMED, DYING, TEMPLATE, NAT_CLASH) are
// ignored; nothing ever clears a bit, as in the kernel.
func (c *Conn) SetStatus(bits Status) {
	bits &^= tableOwnedStatus
	if bits == 0 {
		return
	}
	if c.setStatus(bits) && bits&StatusAssured != 0 {
		c.cacheEvent(evAssured)
	}
}

// Mark returns the connection mark (ctmark).
func (c *Conn) Mark() uint32 { return c.mark.Load() }

// SetMark sets the connection mark, as CONNMARK --set-mark or conntrack -U
// -m do. A change is reported as an UPDATE event when the entry's events
// are next delivered (at Confirm), as the kernel caches IPCT_MARK.
func (c *Conn) SetMark(m uint32) {
	if c.mark.Swap(m) != m {
		c.cacheEvent(evMark)
	}
}

// Master returns the entry whose expectation created this one (nil for an
// entry that was not expected).
func (c *Conn) Master() *Conn { return c.master }

// Helper returns the name of the helper attached to the entry ("" if
// none).
func (c *Conn) Helper() string { return helperName(c.helper) }

// ErrConfirmed is returned when changing something that is fixed once an
// entry is in the table.
var ErrConfirmed = errors.New("conntrack: entry already confirmed")

// SetHelper attaches the helper called name to an unconfirmed entry (the
// -j CT --helper template, or an expectation's helper) and sets HELPER.
func (c *Conn) SetHelper(name string) error {
	if c.Status()&StatusConfirmed != 0 {
		return ErrConfirmed
	}
	id, err := helperID(name)
	if err != nil {
		return err
	}
	c.attachHelper(id)
	c.setStatus(StatusHelper)
	return nil
}

// attachHelper sets the helper of an unconfirmed entry and gives it the
// helper's area, as nf_ct_helper_ext_add (and, for NAT, the seqadj
// extension nf_nat_setup_info adds to helper-assisted entries).
func (c *Conn) attachHelper(id uint8) {
	if c.ext == nil {
		c.ext = &connExt{}
	}
	if id != 0 && c.ext.help == nil {
		c.ext.help = &helpExt{}
	}
	c.mu.Lock()
	c.helper = id
	c.mu.Unlock()
}

// SetReplyTuple replaces the reply tuple of an unconfirmed entry. This is
// how NAT records a binding (nf_nat_setup_info sets the reply tuple to the
// inverse of the translated tuple): packets are then made to look like the
// inverse of the other direction's tuple. After Confirm the tuple is fixed
// and ErrConfirmed is returned.
func (c *Conn) SetReplyTuple(t Tuple) error {
	if c.Status()&StatusConfirmed != 0 {
		return ErrConfirmed
	}
	t.normalize()
	c.mu.Lock() // a listing of unconfirmed entries may be reading it
	c.tuple[Reply] = t
	c.mu.Unlock()
	return nil
}

// TCPState returns the TCP state (TCPNone for other protocols).
func (c *Conn) TCPState() TCPState {
	c.mu.Lock()
	s := c.tcp.state
	c.mu.Unlock()
	return s
}

// Expires returns the clock value at which a confirmed entry expires, or
// the lifetime it will get at confirmation for an unconfirmed one.
func (c *Conn) Expires() int64 { return c.timeout.Load() }

// Timeout returns the remaining lifetime at now (never negative), what
// conntrack lists in seconds and --ctexpire compares.
func (c *Conn) Timeout(now int64) time.Duration {
	t := c.timeout.Load()
	if c.Status()&StatusConfirmed != 0 {
		t -= now
	}
	if t < 0 {
		t = 0
	}
	return time.Duration(t)
}

// Counters returns the packets and bytes counted in direction d (zero when
// accounting was off at creation).
func (c *Conn) Counters(d Dir) (packets, bytes uint64) {
	if c.ext == nil || !c.ext.hasAcct {
		return 0, 0
	}
	a := &c.ext.acct[d&1]
	return a.packets.Load(), a.bytes.Load()
}

// Use returns the reference count conntrack prints as use=.
func (c *Conn) Use() int32 { return c.use.Load() }

// expired reports whether a confirmed entry's time is up, as
// nf_ct_is_expired.
func (c *Conn) expired(now int64) bool {
	return c.timeout.Load() <= now
}

// refresh sets the timeout to d from now, as __nf_ct_refresh_acct: a
// relative value while unconfirmed, absolute once confirmed, untouched with
// FIXED_TIMEOUT. Accounting is done by the caller.
func (c *Conn) refresh(d time.Duration, now int64) {
	st := c.Status()
	if st&StatusFixedTimeout != 0 {
		return
	}
	v := int64(d)
	if st&StatusConfirmed != 0 {
		v += now
	}
	c.timeout.Store(v)
}

// account adds one packet of n bytes to direction d's counters.
func (c *Conn) account(d Dir, n uint32) {
	if c.ext == nil || !c.ext.hasAcct {
		return
	}
	a := &c.ext.acct[d&1]
	a.packets.Add(1)
	a.bytes.Add(uint64(n))
}

// cacheEvent records an event bit for delivery at the next Confirm, as
// nf_conntrack_event_cache.
func (c *Conn) cacheEvent(bits uint32) {
	for {
		old := c.events.Load()
		if old&bits == bits || c.events.CompareAndSwap(old, old|bits) {
			return
		}
	}
}

// Helper-name registry. A Conn stores a one-byte index instead of a string
// to stay within its size budget; names are registered on first use and
// never removed (there are a handful: ftp, tftp, sip, ftp-2121, ...).
var helpers struct {
	mu    sync.Mutex
	names atomic.Pointer[[]string]
}

func helperName(id uint8) string {
	if id == 0 {
		return ""
	}
	p := helpers.names.Load()
	if p == nil || int(id) >= len(*p) {
		return ""
	}
	return (*p)[id]
}

// errTooManyHelpers is returned when more than 255 helper names are used.
var errTooManyHelpers = errors.New("conntrack: too many helper names")

func helperID(name string) (uint8, error) {
	if name == "" {
		return 0, nil
	}
	if p := helpers.names.Load(); p != nil {
		for i, n := range *p {
			if i > 0 && n == name {
				return uint8(i), nil
			}
		}
	}
	helpers.mu.Lock()
	defer helpers.mu.Unlock()
	var names []string
	if p := helpers.names.Load(); p != nil {
		names = *p
	} else {
		names = []string{""}
	}
	for i, n := range names {
		if i > 0 && n == name {
			return uint8(i), nil
		}
	}
	if len(names) >= 256 {
		return 0, errTooManyHelpers
	}
	nn := append(append([]string(nil), names...), name)
	helpers.names.Store(&nn)
	return uint8(len(nn) - 1), nil
}
