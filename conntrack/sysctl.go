package conntrack

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// timeoutSysctls maps the kernel's timeout sysctls (the names after
// net.netfilter.nf_conntrack_) to their Timeouts field.
var timeoutSysctls = map[string]func(*Timeouts) *time.Duration{
	"tcp_timeout_syn_sent":       func(t *Timeouts) *time.Duration { return &t.TCPSynSent },
	"tcp_timeout_syn_recv":       func(t *Timeouts) *time.Duration { return &t.TCPSynRecv },
	"tcp_timeout_established":    func(t *Timeouts) *time.Duration { return &t.TCPEstablished },
	"tcp_timeout_fin_wait":       func(t *Timeouts) *time.Duration { return &t.TCPFinWait },
	"tcp_timeout_close_wait":     func(t *Timeouts) *time.Duration { return &t.TCPCloseWait },
	"tcp_timeout_last_ack":       func(t *Timeouts) *time.Duration { return &t.TCPLastAck },
	"tcp_timeout_time_wait":      func(t *Timeouts) *time.Duration { return &t.TCPTimeWait },
	"tcp_timeout_close":          func(t *Timeouts) *time.Duration { return &t.TCPClose },
	"tcp_timeout_max_retrans":    func(t *Timeouts) *time.Duration { return &t.TCPMaxRetrans },
	"tcp_timeout_unacknowledged": func(t *Timeouts) *time.Duration { return &t.TCPUnack },
	"udp_timeout":                func(t *Timeouts) *time.Duration { return &t.UDP },
	"udp_timeout_stream":         func(t *Timeouts) *time.Duration { return &t.UDPStream },
	"icmp_timeout":               func(t *Timeouts) *time.Duration { return &t.ICMP },
	"icmpv6_timeout":             func(t *Timeouts) *time.Duration { return &t.ICMPv6 },
	"gre_timeout":                func(t *Timeouts) *time.Duration { return &t.GRE },
	"gre_timeout_stream":         func(t *Timeouts) *time.Duration { return &t.GREStream },
	"generic_timeout":            func(t *Timeouts) *time.Duration { return &t.Generic },
}

// TimeoutNames lists the timeout names SetTimeout knows, sorted.
func TimeoutNames() []string {
	names := make([]string, 0, len(timeoutSysctls))
	for n := range timeoutSysctls {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// SetTimeout applies one NAME=SECONDS setting to t, NAME being a timeout
// sysctl as the kernel names it (udp_timeout_stream), optionally written
// in full (nf_conntrack_udp_timeout_stream or
// net.netfilter.nf_conntrack_udp_timeout_stream). SECONDS is a whole
// number from 1 on, as the sysctls take (0 would mean "the default" in
// Timeouts, which the kernel's sysctl does not).
func SetTimeout(t *Timeouts, setting string) error {
	name, val, ok := strings.Cut(setting, "=")
	if !ok {
		return fmt.Errorf("%q: want NAME=SECONDS, e.g. udp_timeout_stream=180", setting)
	}
	key := strings.TrimPrefix(strings.TrimPrefix(name, "net.netfilter."), "nf_conntrack_")
	field, ok := timeoutSysctls[key]
	if !ok {
		return fmt.Errorf("%q: unknown timeout %q (known: %s)", setting, name, strings.Join(TimeoutNames(), ", "))
	}
	secs, err := strconv.ParseUint(val, 10, 32)
	if err != nil || secs == 0 {
		return fmt.Errorf("%q: the timeout must be a whole number of seconds from 1 to %d", setting, uint32(1<<32-1))
	}
	*field(t) = time.Duration(secs) * time.Second
	return nil
}
