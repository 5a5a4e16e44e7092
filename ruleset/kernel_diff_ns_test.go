package ruleset

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gofw/gofw/packet"
)

// The kernel's side of the differential (kernel_diff_test.go): three
// network namespaces, packets sent into fw with AF_PACKET sockets, and
// fw's own AF_PACKET tap to see what left it.

// The link-layer addresses, fixed so a sender can address fw's interfaces
// directly (ARP is off) and the sentinel can be addressed to nobody.
var (
	kdMAC      = [2][6]byte{{0x02, 0, 0, 0, 0xf0, 0}, {0x02, 0, 0, 0, 0xf0, 1}}
	kdPeerMAC  = [2][6]byte{{0x02, 0, 0, 0, 0xa0, 0}, {0x02, 0, 0, 0, 0xb0, 0}}
	kdNobody   = [6]byte{0x02, 0, 0, 0, 0xee, 0xee}
	kdSentinel = mustSpec("udp 198.18.0.254:9 > 198.18.0.253:9 ipid=4242 data=676f66772d6b642d73656e74696e656c")
)

func mustSpec(s string) []byte {
	p, err := packet.ParseSpec(s)
	if err != nil {
		panic(err)
	}
	return p[0].Data
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// kdNet is one scenario's namespaces: fw and its two peers.
type kdNet struct {
	t            *testing.T
	fw, a, b     string
	peers        [2]kdSock // sending sockets in a (p0) and b (p1)
	tap          kdSock    // fw's tap, every interface
	created      []string
	closeSockets []int
}

// kdSock is an AF_PACKET socket opened in some namespace; it keeps
// working from any thread once opened.
type kdSock struct {
	fd      int
	ifindex int
}

// kdKernel runs the scenario through the kernel and returns what it did
// and the wall time from the first packet to the end of the listings.
func kdKernel(t *testing.T, idx int, sc *kdScenario) (*kdResult, time.Duration) {
	n := kdSetup(t, idx, sc.rules)
	start := time.Now()
	egress, err := n.inject(sc.spec)
	if err != nil {
		t.Fatalf("sending the packets: %v", err)
	}
	res := &kdResult{counters: map[string][]string{}, egress: egress}
	for _, l := range kdLines(n.run("conntrack", "-L")) {
		res.raw = append(res.raw, l)
		res.conns = append(res.conns, kdConnLine(l))
	}
	for _, l := range kdLines(n.run("conntrack", "-L", "expect")) {
		res.expects = append(res.expects, kdExpectLine(l))
	}
	elapsed := time.Since(start)
	res.normalise()
	save := n.run("iptables-legacy-save", "-c")
	kdParseSave(save, res.counters)
	res.own = kdRawOutput(save)
	return res, elapsed
}

func kdLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// kdRawOutput is the packet count of the harness's raw OUTPUT rule.
func kdRawOutput(save string) uint64 {
	table := ""
	for _, l := range strings.Split(save, "\n") {
		if strings.HasPrefix(l, "*") {
			table = l[1:]
		}
		if table == "raw" && strings.HasSuffix(l, "] "+kdRawDrop) {
			var p, b uint64
			fmt.Sscanf(l, "[%d:%d]", &p, &b)
			return p
		}
	}
	return 0
}

// kdSetup builds the namespaces (removed when the test ends), loads the
// rules into fw, and opens the sockets.
func kdSetup(t *testing.T, idx int, rules string) *kdNet {
	t.Helper()
	base := fmt.Sprintf("gofw-kd%d-%d", os.Getpid(), idx)
	n := &kdNet{t: t, fw: base + "-fw", a: base + "-a", b: base + "-b"}
	t.Cleanup(n.close)
	for _, ns := range []string{n.fw, n.a, n.b} {
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add %s: %v: %s", ns, err, out)
		}
		n.created = append(n.created, ns)
	}
	mac := func(m [6]byte) string {
		return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
	}
	// No addresses on the peers: they never answer anything, not even
	// ARP. IPv6 is off everywhere, so no router solicitation or DAD
	// passes by. fw does not resolve neighbours (arp off: frames go out
	// to its own MAC and the peer drops them), forwards, and drops
	// nothing for its source-address checks.
	script := fmt.Sprintf(`set -e
for ns in %[1]s %[2]s %[3]s; do ip netns exec $ns sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
ip -n %[1]s link add eth0 address %[4]s type veth peer name p0 address %[5]s netns %[2]s
ip -n %[1]s link add eth1 address %[6]s type veth peer name p1 address %[7]s netns %[3]s
ip netns exec %[1]s sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
	net.ipv4.conf.eth0.rp_filter=0 net.ipv4.conf.eth1.rp_filter=0 net.ipv4.conf.all.log_martians=0 \
	net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0 net.ipv4.conf.eth1.send_redirects=0 \
	net.ipv4.conf.all.accept_local=0
ip -n %[1]s addr add 198.18.0.1/24 dev eth0
ip -n %[1]s addr add 198.18.1.1/24 dev eth1
ip -n %[1]s link set lo up
ip -n %[1]s link set eth0 arp off up
ip -n %[1]s link set eth1 arp off up
ip -n %[2]s link set p0 arp off up
ip -n %[3]s link set p1 arp off up
`, n.fw, n.a, n.b, mac(kdMAC[0]), mac(kdPeerMAC[0]), mac(kdMAC[1]), mac(kdPeerMAC[1]))
	if out, err := exec.Command("sh", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("setting up the namespaces: %v\n%s", err, out)
	}
	c := exec.Command("ip", "netns", "exec", n.fw, "iptables-legacy-restore")
	c.Stdin = strings.NewReader(rules)
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("iptables-legacy-restore: %v: %s\n%s", err, out, rules)
	}
	var err error
	for i, p := range []struct{ ns, dev string }{{n.a, "p0"}, {n.b, "p1"}} {
		if n.peers[i], err = kdOpen(p.ns, p.dev, 0); err != nil {
			t.Fatal(err)
		}
		n.closeSockets = append(n.closeSockets, n.peers[i].fd)
	}
	if n.tap, err = kdOpen(n.fw, "", htons(unix.ETH_P_ALL)); err != nil {
		t.Fatal(err)
	}
	n.closeSockets = append(n.closeSockets, n.tap.fd)
	return n
}

func (n *kdNet) close() {
	for _, fd := range n.closeSockets {
		unix.Close(fd)
	}
	for _, ns := range n.created {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			n.t.Errorf("ip netns del %s: %v: %s", ns, err, out)
		}
	}
}

// run runs a command in fw and returns its stdout.
func (n *kdNet) run(args ...string) string {
	n.t.Helper()
	var o, e bytes.Buffer
	c := exec.Command("ip", append([]string{"netns", "exec", n.fw}, args...)...)
	c.Stdout, c.Stderr = &o, &e
	if err := c.Run(); err != nil {
		n.t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, e.String())
	}
	return o.String()
}

// kdOpen opens an AF_PACKET datagram socket in namespace ns, bound to dev
// (every interface when dev is "") for protocol proto (network order; 0
// for a socket that only sends). The socket belongs to ns for good, so
// the thread goes back to its own namespace at once; a thread that
// cannot is never unlocked, so the runtime ends it rather than let a
// goroutine run in the wrong namespace.
func kdOpen(ns, dev string, proto uint16) (kdSock, error) {
	type result struct {
		s   kdSock
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		s, err, back := kdOpenLocked(ns, dev, proto)
		if back {
			runtime.UnlockOSThread()
		}
		ch <- result{s, err}
	}()
	r := <-ch
	return r.s, r.err
}

func kdOpenLocked(ns, dev string, proto uint16) (s kdSock, err error, back bool) {
	self, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return s, err, true
	}
	defer unix.Close(self)
	target, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return s, err, true
	}
	defer unix.Close(target)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		return s, fmt.Errorf("setns %s: %v", ns, err), true
	}
	s, err = kdSocket(dev, proto)
	if e := unix.Setns(self, unix.CLONE_NEWNET); e != nil {
		if err == nil {
			unix.Close(s.fd)
		}
		return kdSock{}, fmt.Errorf("setns back from %s: %v", ns, e), false
	}
	if err != nil {
		err = fmt.Errorf("%s %s: %v", ns, dev, err)
	}
	return s, err, true
}

func kdSocket(dev string, proto uint16) (kdSock, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, int(proto))
	if err != nil {
		return kdSock{}, err
	}
	s := kdSock{fd: fd}
	if dev != "" {
		ifr, err := unix.NewIfreq(dev)
		if err == nil {
			err = unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr)
		}
		if err != nil {
			unix.Close(fd)
			return kdSock{}, fmt.Errorf("SIOCGIFINDEX: %v", err)
		}
		s.ifindex = int(ifr.Uint32())
	}
	if proto != 0 {
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: proto, Ifindex: s.ifindex}); err != nil {
			unix.Close(fd)
			return kdSock{}, err
		}
		tv := unix.NsecToTimeval(int64(50 * time.Millisecond))
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
			unix.Close(fd)
			return kdSock{}, err
		}
	}
	return s, nil
}

// inject sends the spec's packets into fw in order, at their capture
// times, then a sentinel, and returns the packets fw sent out meanwhile.
//
// Order: each packet is sent from one thread pinned to one CPU, so every
// packet lands in that CPU's backlog (veth's netif_rx) and the kernel
// processes them first in, first out, whichever veth they came by. The
// sentinel is addressed to a MAC nobody has: fw's tap sees it, ip_rcv
// drops it (PACKET_OTHERHOST) before PREROUTING, and once the tap has it,
// every packet before it has been through fw.
func (n *kdNet) inject(spec []packet.SpecPacket) ([]string, error) {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var saved unix.CPUSet
		if err := unix.SchedGetaffinity(0, &saved); err != nil {
			errc <- err
			return
		}
		one := unix.CPUSet{}
		for c := 0; c < 1024; c++ {
			if saved.IsSet(c) {
				one.Set(c)
				break
			}
		}
		if err := unix.SchedSetaffinity(0, &one); err != nil {
			errc <- err
			return
		}
		defer unix.SchedSetaffinity(0, &saved)
		start := time.Now()
		for i := range spec {
			sp := &spec[i]
			if d := time.Until(start.Add(sp.At)); d > 0 {
				time.Sleep(d)
			}
			side, _ := kdSide(sp)
			if err := n.send(side, kdMAC[side], sp.Data); err != nil {
				errc <- fmt.Errorf("packet %d (line %d): %v", i+1, sp.Line, err)
				return
			}
		}
		errc <- n.send(0, kdNobody, kdSentinel)
	}()
	if err := <-errc; err != nil {
		return nil, err
	}
	return n.drain()
}

func (n *kdNet) send(side int, to [6]byte, dg []byte) error {
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IP), Ifindex: n.peers[side].ifindex, Halen: 6}
	copy(sa.Addr[:], to[:])
	return unix.Sendto(n.peers[side].fd, dg, 0, sa)
}

// drain reads fw's tap until the sentinel, keeping the IPv4 packets fw
// sent (PACKET_OUTGOING), described as kdEgress does.
func (n *kdNet) drain() ([]string, error) {
	var out []string
	buf := make([]byte, 65536)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		k, from, err := unix.Recvfrom(n.tap.fd, buf, 0)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		ll, ok := from.(*unix.SockaddrLinklayer)
		if !ok || ll.Protocol != htons(unix.ETH_P_IP) {
			continue
		}
		dg := buf[:k]
		switch ll.Pkttype {
		case unix.PACKET_OTHERHOST:
			if bytes.Equal(dg, kdSentinel) {
				return out, nil
			}
		case unix.PACKET_OUTGOING:
			var p packet.Packet
			packet.Decode(bytes.Clone(dg), &p)
			out = append(out, kdEgress(&p))
		}
	}
	return nil, fmt.Errorf("the sentinel never reached fw's tap (after %v)", 5*time.Second)
}
