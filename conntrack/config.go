package conntrack

import "time"

// Timeouts holds every protocol timeout, named after the sysctl it mirrors
// (net.netfilter.nf_conntrack_*). A zero field means the kernel's default,
// so the zero Timeouts is the kernel's configuration; DefaultTimeouts spells
// the values out.
type Timeouts struct {
	TCPSynSent     time.Duration // tcp_timeout_syn_sent (also SYN_SENT2)
	TCPSynRecv     time.Duration // tcp_timeout_syn_recv
	TCPEstablished time.Duration // tcp_timeout_established
	TCPFinWait     time.Duration // tcp_timeout_fin_wait
	TCPCloseWait   time.Duration // tcp_timeout_close_wait
	TCPLastAck     time.Duration // tcp_timeout_last_ack
	TCPTimeWait    time.Duration // tcp_timeout_time_wait
	TCPClose       time.Duration // tcp_timeout_close
	TCPMaxRetrans  time.Duration // tcp_timeout_max_retrans
	TCPUnack       time.Duration // tcp_timeout_unacknowledged
	UDP            time.Duration // udp_timeout (unreplied, or replied but young)
	UDPStream      time.Duration // udp_timeout_stream
	ICMP           time.Duration // icmp_timeout
	ICMPv6         time.Duration // icmpv6_timeout
	GRE            time.Duration // gre_timeout (unreplied)
	GREStream      time.Duration // gre_timeout_stream
	Generic        time.Duration // generic_timeout
}

// DefaultTimeouts returns the kernel's defaults (conntrack.md §5).
func DefaultTimeouts() Timeouts {
	return Timeouts{
		TCPSynSent:     120 * time.Second,
		TCPSynRecv:     60 * time.Second,
		TCPEstablished: 432000 * time.Second,
		TCPFinWait:     120 * time.Second,
		TCPCloseWait:   60 * time.Second,
		TCPLastAck:     30 * time.Second,
		TCPTimeWait:    120 * time.Second,
		TCPClose:       10 * time.Second,
		TCPMaxRetrans:  300 * time.Second,
		TCPUnack:       300 * time.Second,
		UDP:            30 * time.Second,
		UDPStream:      120 * time.Second,
		ICMP:           30 * time.Second,
		ICMPv6:         30 * time.Second,
		GRE:            30 * time.Second,
		GREStream:      180 * time.Second,
		Generic:        600 * time.Second,
	}
}

// withDefaults replaces zero fields by the kernel's values.
func (t Timeouts) withDefaults() Timeouts {
	d := DefaultTimeouts()
	fill := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	fill(&t.TCPSynSent, d.TCPSynSent)
	fill(&t.TCPSynRecv, d.TCPSynRecv)
	fill(&t.TCPEstablished, d.TCPEstablished)
	fill(&t.TCPFinWait, d.TCPFinWait)
	fill(&t.TCPCloseWait, d.TCPCloseWait)
	fill(&t.TCPLastAck, d.TCPLastAck)
	fill(&t.TCPTimeWait, d.TCPTimeWait)
	fill(&t.TCPClose, d.TCPClose)
	fill(&t.TCPMaxRetrans, d.TCPMaxRetrans)
	fill(&t.TCPUnack, d.TCPUnack)
	fill(&t.UDP, d.UDP)
	fill(&t.UDPStream, d.UDPStream)
	fill(&t.ICMP, d.ICMP)
	fill(&t.ICMPv6, d.ICMPv6)
	fill(&t.GRE, d.GRE)
	fill(&t.GREStream, d.GREStream)
	fill(&t.Generic, d.Generic)
	return t
}

// Config configures a Table. Its zero value is the kernel's default
// configuration (Defaults spells it out); gofwd exposes the fields as flags.
type Config struct {
	// Max is nf_conntrack_max: the most entries the table holds
	// (unconfirmed ones included). 0 means the default, 262144; a
	// negative value means no limit.
	Max int
	// ExpectMax is nf_conntrack_expect_max; 0 means the default, 4096.
	ExpectMax int
	// Timeouts are the protocol timeouts.
	Timeouts Timeouts

	// NoTCPLoose turns nf_conntrack_tcp_loose off: a first packet that is
	// not a SYN never creates an entry. The kernel default (false here)
	// picks up mid-stream connections.
	NoTCPLoose bool
	// TCPBeLiberal is nf_conntrack_tcp_be_liberal: window checks never make
	// a packet INVALID (flag, transition and RST checks still apply).
	TCPBeLiberal bool
	// TCPIgnoreInvalidRST is nf_conntrack_tcp_ignore_invalid_rst: accept a
	// RST whose sequence is below the peer's highest ACK.
	TCPIgnoreInvalidRST bool
	// TCPMaxRetrans is nf_conntrack_tcp_max_retrans (0 means 3).
	TCPMaxRetrans int

	// FTPLoose is nf_conntrack_ftp's loose=1 module parameter: a PORT,
	// EPRT or 227 naming another host than its sender still creates an
	// expectation, to that host. The default refuses such "bounce"
	// requests.
	FTPLoose bool

	// Acct is nf_conntrack_acct: keep per-direction packet and byte
	// counters for entries created while it is on.
	Acct bool
	// Timestamp is nf_conntrack_timestamp: listings show delta-time for
	// entries created while it is on.
	Timestamp bool

	// Shards is the number of lock shards, rounded up to a power of two
	// (0 means 256).
	Shards int

	// Clock returns the current time in nanoseconds of a monotonic clock.
	// Only the background GC (RunGC) and the helpers that take no now
	// argument use it; it defaults to a monotonic clock started by New.
	Clock func() int64
	// OnPullBack is called when an offloaded entry comes back to gofw
	// (gofwd's fast path, offload.go): the kernel must hand over its
	// packets again. It must not block.
	OnPullBack func(c *Conn)
	// Log receives rate-limited kernel-style warnings such as
	// "nf_conntrack: table full, dropping packet" (at most one per
	// second). Nil discards them.
	Log func(msg string)
}

// Defaults returns the kernel's default configuration with every field
// spelled out.
func Defaults() Config {
	return Config{
		Max:           262144,
		ExpectMax:     4096,
		Timeouts:      DefaultTimeouts(),
		TCPMaxRetrans: 3,
		Shards:        256,
	}
}

func (c Config) withDefaults() Config {
	d := Defaults()
	if c.Max == 0 {
		c.Max = d.Max
	}
	if c.ExpectMax <= 0 {
		c.ExpectMax = d.ExpectMax
	}
	if c.TCPMaxRetrans <= 0 {
		c.TCPMaxRetrans = d.TCPMaxRetrans
	}
	if c.Shards <= 0 {
		c.Shards = d.Shards
	}
	n := 1
	for n < c.Shards {
		n <<= 1
	}
	c.Shards = n
	c.Timeouts = c.Timeouts.withDefaults()
	if c.Clock == nil {
		start := time.Now()
		c.Clock = func() int64 { return int64(time.Since(start)) }
	}
	return c
}
