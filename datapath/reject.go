package datapath

import (
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/gofw/gofw/packet"
)

// rejecter sends REJECT's answers (TCP RST, ICMP errors) as complete IP
// datagrams through a raw socket, so they take the kernel's routing and
// output path like the kernel's own nf_send_reset / nf_send_unreach, and
// holds back the ICMP errors icmp_send's rate limits would (icmplimit.go).
type rejecter struct {
	fd    int
	limit *icmpLimit
	// record, when set, takes the answers instead of the raw socket: the
	// tests' recording fake.
	record func(dg []byte)
}

func newRejecter() (*rejecter, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
	if err != nil {
		return nil, err
	}
	return &rejecter{fd: fd, limit: newICMPLimit()}, nil
}

// allow reports whether the answer ans (decoded) may go out now: a TCP
// reset always, an ICMP error within the kernel's limits. inLoopback and
// toLocal are as for icmpLimit.allow.
func (r *rejecter) allow(ans *packet.Packet, inLoopback, toLocal bool, now int64) bool {
	if ans.Proto != packet.ProtoICMP {
		return true
	}
	return r.limit.allow(ans.Dst, ans.ICMPType, ans.ICMPCode, inLoopback, toLocal, now)
}

func (r *rejecter) send(dg []byte, dst netip.Addr) error {
	if r.record != nil {
		r.record(append([]byte(nil), dg...))
		return nil
	}
	if !dst.Is4() {
		return unix.EAFNOSUPPORT
	}
	return unix.Sendto(r.fd, dg, 0, &unix.SockaddrInet4{Addr: dst.As4()})
}

func (r *rejecter) close() { unix.Close(r.fd) }
