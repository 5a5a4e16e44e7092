package datapath

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// rejecter sends REJECT's answers (TCP RST, ICMP errors) as complete IP
// datagrams through a raw socket, so they take the kernel's routing and
// output path like the kernel's own nf_send_reset / nf_send_unreach.
type rejecter struct{ fd int }

func newRejecter() (*rejecter, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
	if err != nil {
		return nil, err
	}
	return &rejecter{fd: fd}, nil
}

func (r *rejecter) send(dg []byte, dst netip.Addr) error {
	if !dst.Is4() {
		return unix.EAFNOSUPPORT
	}
	return unix.Sendto(r.fd, dg, 0, &unix.SockaddrInet4{Addr: dst.As4()})
}

func (r *rejecter) close() { unix.Close(r.fd) }
