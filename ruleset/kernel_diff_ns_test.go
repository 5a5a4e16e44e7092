package ruleset

import (
	"bytes"
	"encoding/binary"
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
//
// No addresses on the peers: they never answer anything, not even ARP.
// fw does not resolve neighbours (arp off: frames go out to its own MAC
// and the peer drops them), forwards, filters no source address and sends
// no redirects. Few processes: the machine this runs on may be slow, and
// each ip or ip netns exec costs tens of milliseconds there.
func kdSetup(t *testing.T, idx int, rules string) *kdNet {
	t.Helper()
	base := fmt.Sprintf("gofw-kd%d-%d", os.Getpid(), idx)
	n := &kdNet{t: t, fw: base + "-fw", a: base + "-a", b: base + "-b"}
	n.created = []string{n.fw, n.a, n.b}
	t.Cleanup(n.close)
	mac := func(m [6]byte) string {
		return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
	}
	batches := []struct {
		ns, cmds string
	}{
		{"", fmt.Sprintf("netns add %[1]s\nnetns add %[2]s\nnetns add %[3]s\n"+
			"link add eth0 netns %[1]s address %[4]s type veth peer name p0 netns %[2]s address %[5]s\n"+
			"link add eth1 netns %[1]s address %[6]s type veth peer name p1 netns %[3]s address %[7]s\n",
			n.fw, n.a, n.b, mac(kdMAC[0]), mac(kdPeerMAC[0]), mac(kdMAC[1]), mac(kdPeerMAC[1]))},
		{n.fw, "addr add 198.18.0.1/24 dev eth0\naddr add 198.18.1.1/24 dev eth1\n" +
			"link set lo up\nlink set eth0 arp off up\nlink set eth1 arp off up\n"},
		{n.a, "link set p0 arp off up\n"},
		{n.b, "link set p1 arp off up\n"},
	}
	for _, b := range batches {
		args := []string{"-b", "-"}
		if b.ns != "" {
			args = append([]string{"-n", b.ns}, args...)
		}
		c := exec.Command("ip", args...)
		c.Stdin = strings.NewReader(b.cmds)
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s\n%s", strings.Join(args, " "), err, out, b.cmds)
		}
	}
	err := kdInNetns(n.fw, func() error {
		for _, kv := range []string{
			"ipv4/ip_forward=1", "ipv6/conf/all/disable_ipv6=1", "ipv6/conf/default/disable_ipv6=1",
			"ipv4/conf/all/rp_filter=0", "ipv4/conf/default/rp_filter=0", "ipv4/conf/eth0/rp_filter=0", "ipv4/conf/eth1/rp_filter=0",
			"ipv4/conf/all/log_martians=0", "ipv4/conf/all/send_redirects=0", "ipv4/conf/eth0/send_redirects=0", "ipv4/conf/eth1/send_redirects=0",
		} {
			k, v, _ := strings.Cut(kv, "=")
			if err := os.WriteFile("/proc/sys/net/"+k, []byte(v), 0); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("sysctl in %s: %v", n.fw, err)
	}
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
	if err := n.ready(); err != nil {
		t.Fatal(err)
	}
	if _, err := n.exec(rules, "iptables-legacy-restore"); err != nil {
		t.Fatalf("%v\n%s", err, rules)
	}
	return n
}

// kdProbe is a datagram fw forwards from side i to the other side while
// it has no rules yet, so nothing tracks it.
func kdProbe(i int) []byte {
	return mustSpec(fmt.Sprintf("udp 198.18.%d.254:9 > 198.18.%d.254:9 ipid=4343 data=676f66772d6b642d70726f6265", i, 1-i))
}

// ready waits until fw forwards both ways: a veth's queue starts only
// once link watching has seen both ends up, and a packet sent before is
// lost. It sends a probe each way, before any rule exists, and waits for
// fw's tap to see it leave.
func (n *kdNet) ready() error {
	for side := range 2 {
		probe := kdProbe(side)
		ok := false
		for try := 0; try < 100 && !ok; try++ {
			if err := n.send(side, kdMAC[side], probe); err != nil {
				return err
			}
			var err error
			ok, err = n.recv(20*time.Millisecond, func(dg []byte, pkttype uint8) bool {
				// Forwarded: the TTL and the header checksum changed.
				return pkttype == unix.PACKET_OUTGOING && len(dg) == len(probe) && bytes.Equal(dg[12:], probe[12:])
			})
			if err != nil {
				return err
			}
		}
		if !ok {
			return fmt.Errorf("fw never forwarded a probe from side %d", side)
		}
	}
	return nil
}

// recv reads fw's tap for up to d or until stop says so, and returns
// whether stop did. Outgoing packets have their checksums finished first
// (kdChecksumPending).
func (n *kdNet) recv(d time.Duration, stop func(dg []byte, pkttype uint8) bool) (bool, error) {
	buf := make([]byte, 65536)
	oob := make([]byte, 256)
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		k, oobn, _, from, err := unix.Recvmsg(n.tap.fd, buf, oob, 0)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return false, err
		}
		ll, ok := from.(*unix.SockaddrLinklayer)
		if !ok || ll.Protocol != htons(unix.ETH_P_IP) {
			continue
		}
		dg := bytes.Clone(buf[:k])
		if ll.Pkttype == unix.PACKET_OUTGOING && kdChecksumPending(oob[:oobn]) {
			kdFinishChecksum(dg)
		}
		if stop(dg, ll.Pkttype) {
			return true, nil
		}
	}
	return false, nil
}

func (n *kdNet) close() {
	for _, fd := range n.closeSockets {
		unix.Close(fd)
	}
	var cmds strings.Builder
	for _, ns := range n.created {
		if _, err := os.Stat("/run/netns/" + ns); err == nil {
			cmds.WriteString("netns del " + ns + "\n")
		}
	}
	if cmds.Len() == 0 {
		return
	}
	c := exec.Command("ip", "-b", "-")
	c.Stdin = strings.NewReader(cmds.String())
	if out, err := c.CombinedOutput(); err != nil {
		n.t.Errorf("ip -b -: %v: %s\n%s", err, out, cmds.String())
	}
}

// run runs a command in fw and returns its stdout.
func (n *kdNet) run(args ...string) string {
	n.t.Helper()
	out, err := n.exec("", args...)
	if err != nil {
		n.t.Fatal(err)
	}
	return out
}

// exec runs a command in fw with stdin and returns its stdout. The child
// is forked from a thread that has joined fw, so it starts there, without
// ip netns exec's new mount namespace (iptables and conntrack need none).
func (n *kdNet) exec(stdin string, args ...string) (string, error) {
	var o, e bytes.Buffer
	err := kdInNetns(n.fw, func() error {
		c := exec.Command(args[0], args[1:]...)
		c.Stdin = strings.NewReader(stdin)
		c.Stdout, c.Stderr = &o, &e
		return c.Run()
	})
	if err != nil {
		return "", fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, e.String())
	}
	return o.String(), nil
}

// kdOpen opens an AF_PACKET datagram socket in namespace ns, bound to dev
// (every interface when dev is "") for protocol proto (network order; 0
// for a socket that only sends). The socket belongs to ns for good.
func kdOpen(ns, dev string, proto uint16) (kdSock, error) {
	var s kdSock
	err := kdInNetns(ns, func() error {
		var err error
		s, err = kdSocket(dev, proto)
		return err
	})
	if err != nil {
		return kdSock{}, fmt.Errorf("%s %s: %v", ns, dev, err)
	}
	return s, nil
}

// kdInNetns runs f on an OS thread that has joined namespace ns, then
// brings the thread back to its own namespace. A thread that cannot come
// back is never unlocked, so the runtime ends it rather than let another
// goroutine run in the wrong namespace; and the runtime never clones a
// new thread from a locked one, so none inherits ns either.
func kdInNetns(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		back, err := kdInNetnsLocked(ns, f)
		if back {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

func kdInNetnsLocked(ns string, f func() error) (back bool, err error) {
	self, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return true, err
	}
	defer unix.Close(self)
	target, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return true, err
	}
	defer unix.Close(target)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		return true, fmt.Errorf("setns %s: %v", ns, err)
	}
	err = f()
	if e := unix.Setns(self, unix.CLONE_NEWNET); e != nil {
		return false, fmt.Errorf("setns back from %s: %v", ns, e)
	}
	return true, err
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
		// Room for every packet of a scenario, both ways: the tap is
		// read only after the last one is sent.
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20); err != nil {
			unix.Close(fd)
			return kdSock{}, err
		}
		// The checksum state of each packet (kdFinishChecksum).
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1); err != nil {
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
	done, err := n.recv(5*time.Second, func(dg []byte, pkttype uint8) bool {
		switch pkttype {
		case unix.PACKET_OTHERHOST:
			return bytes.Equal(dg, kdSentinel)
		case unix.PACKET_OUTGOING:
			var p packet.Packet
			packet.Decode(dg, &p)
			out = append(out, kdEgress(&p))
		}
		return false
	})
	if err == nil && !done {
		err = fmt.Errorf("the sentinel never reached fw's tap (after %v)", 5*time.Second)
	}
	return out, err
}

// kdChecksumPending says whether a packet's auxiliary data marks its
// transport checksum as not yet computed (TP_STATUS_CSUMNOTREADY): veth
// offers checksum offload, so when NAT or a helper changes a packet's
// payload the kernel leaves the checksum for the device to finish
// (nf_nat_csum with CHECKSUM_PARTIAL), and the tap sees it unfinished.
func kdChecksumPending(oob []byte) bool {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return false
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_PACKET && m.Header.Type == unix.PACKET_AUXDATA && len(m.Data) >= 4 {
			return binary.NativeEndian.Uint32(m.Data)&unix.TP_STATUS_CSUMNOTREADY != 0
		}
	}
	return false
}

// kdFinishChecksum computes the TCP or UDP checksum of an unfragmented
// IPv4 datagram in full, as the device would have before the wire.
func kdFinishChecksum(dg []byte) {
	if len(dg) < 20 || dg[0]>>4 != 4 {
		return
	}
	ihl := int(dg[0]&0xf) * 4
	tot := int(binary.BigEndian.Uint16(dg[2:]))
	if tot > len(dg) || ihl < 20 || ihl > tot || binary.BigEndian.Uint16(dg[6:])&0x3fff != 0 {
		return
	}
	l4 := dg[ihl:tot]
	off := 0
	switch dg[9] {
	case packet.ProtoTCP:
		off = 16
	case packet.ProtoUDP:
		off = 6
	default:
		return
	}
	if len(l4) < off+2 {
		return
	}
	l4[off], l4[off+1] = 0, 0
	var sum uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(b[i])<<8 | uint32(b[i+1])
		}
		if len(b)%2 == 1 {
			sum += uint32(b[len(b)-1]) << 8
		}
	}
	add(dg[12:20])
	sum += uint32(dg[9]) + uint32(len(l4))
	add(l4)
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	c := ^uint16(sum)
	if c == 0 && dg[9] == packet.ProtoUDP {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(l4[off:], c)
}
