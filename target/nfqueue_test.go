package target

import (
	"fmt"
	"testing"

	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
)

// nfqueueRows were checked against iptables-legacy 1.8.9 on Linux 6.18.
var nfqueueRows = []row{
	// libxt_NFQUEUE.t's lines (open ranges end at 65534, as upstream since 1.8.11).
	{"filter", packet.Input, "-j NFQUEUE", "-j NFQUEUE --queue-num 0", " NFQUEUE num 0", " NFQUEUE num 0", ""},
	{"filter", packet.Input, "-j NFQUEUE --queue-num 0", "-j NFQUEUE --queue-num 0", " NFQUEUE num 0", " NFQUEUE num 0", ""},
	{"filter", packet.Input, "-j NFQUEUE --queue-num 65535", "-j NFQUEUE --queue-num 65535", " NFQUEUE num 65535", " NFQUEUE num 65535", ""},
	{"filter", packet.Input, "-j NFQUEUE --queue-num 65536", "", "", "", "exit 2: NFQUEUE: bad value for option \"--queue-num\", or out of range (0-65535).\n"},
	{"filter", packet.Input, "-j NFQUEUE --queue-num -1", "", "", "", "exit 2: NFQUEUE: bad value for option \"--queue-num\", or out of range (0-65535).\n"},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance 0:65534", "-j NFQUEUE --queue-balance 0:65534", " NFQUEUE balance 0:65534", " NFQUEUE balance 0:65534", ""},
	// 1.8.9 says (0-65535) but sends 65535 to the kernel, which refuses it;
	// gofw follows upstream (a392cf0e) and libxt_NFQUEUE.t: the maximum is 65534.
	{"filter", packet.Input, "-j NFQUEUE --queue-balance 0:65536", "", "", "", "exit 2: NFQUEUE: bad value for option \"--queue-balance\" near \"65536\", or out of range (0-65534).\n"},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance -1:65535", "", "", "", "exit 2: NFQUEUE: bad value for option \"--queue-balance\" near \"-1:65535\", or out of range (0-65534).\n"},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance 4", "", "", "", "exit 2: Bad range \"4\""},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance :4", "-j NFQUEUE --queue-balance 0:4", " NFQUEUE balance 0:4", " NFQUEUE balance 0:4", ""},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance 3:4", "-j NFQUEUE --queue-balance 3:4", " NFQUEUE balance 3:4", " NFQUEUE balance 3:4", ""},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance 4:4", "", "", "", "exit 2: 4 should be less than 4"},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance 4:3", "", "", "", "exit 2: 4 should be less than 3"},
	{"filter", packet.Input, "-j NFQUEUE --queue-num 10 --queue-bypass", "-j NFQUEUE --queue-num 10 --queue-bypass", " NFQUEUE num 10 bypass", " NFQUEUE num 10 bypass", ""},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance 0:6 --queue-cpu-fanout --queue-bypass", "-j NFQUEUE --queue-balance 0:6 --queue-bypass --queue-cpu-fanout", " NFQUEUE balance 0:6 bypass cpu-fanout", " NFQUEUE balance 0:6 bypass cpu-fanout", ""},
	{"filter", packet.Input, "-j NFQUEUE --queue-bypass --queue-balance 0:6 --queue-cpu-fanout", "-j NFQUEUE --queue-balance 0:6 --queue-bypass --queue-cpu-fanout", " NFQUEUE balance 0:6 bypass cpu-fanout", " NFQUEUE balance 0:6 bypass cpu-fanout", ""},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance 0:6 --queue-bypass", "-j NFQUEUE --queue-balance 0:6 --queue-bypass", " NFQUEUE balance 0:6 bypass", " NFQUEUE balance 0:6 bypass", ""},
	{"filter", packet.Input, "-j NFQUEUE --queue-bypass", "-j NFQUEUE --queue-num 0 --queue-bypass", " NFQUEUE num 0 bypass", " NFQUEUE num 0 bypass", ""},
	// Exclusions, and xtopt_parse_mint's range syntax.
	{"filter", packet.Input, "-j NFQUEUE --queue-num 1 --queue-balance 1:2", "", "", "", "exit 2: NFQUEUE: option \"--queue-num\" cannot be used together with \"--queue-balance\".\n"},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance 1:2 --queue-num 1", "", "", "", "exit 2: NFQUEUE: option \"--queue-num\" cannot be used together with \"--queue-balance\".\n"},
	{"filter", packet.Input, "-j NFQUEUE --queue-cpu-fanout", "", "", "", "exit 2: NFQUEUE: option \"--queue-cpu-fanout\" also requires \"--queue-balance\".\n"},
	{"filter", packet.Input, "-j NFQUEUE --queue-cpu-fanout --queue-num 3", "", "", "", "exit 2: NFQUEUE: option \"--queue-cpu-fanout\" also requires \"--queue-balance\".\n"},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance 1:2:3", "", "", "", "exit 2: NFQUEUE: Too many components for option \"--queue-balance\" (max: 2)\n"},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance 1x:2", "", "", "", "exit 2: NFQUEUE: Argument to \"--queue-balance\" has unexpected characters near \"x:2\".\n"},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance \"1 :2\"", "", "", "", "exit 2: NFQUEUE: Argument to \"--queue-balance\" has unexpected characters near \" :2\".\n"},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance 0x10:0x20", "-j NFQUEUE --queue-balance 16:32", " NFQUEUE balance 16:32", " NFQUEUE balance 16:32", ""},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance \"\"", "", "", "", "exit 2: Bad range \"\""},
	{"filter", packet.Input, "-j NFQUEUE --queue-balance ::", "", "", "", "exit 2: NFQUEUE: Too many components for option \"--queue-balance\" (max: 2)\n"},
	{"filter", packet.Input, "-j NFQUEUE --queue-num \" 5\"", "-j NFQUEUE --queue-num 5", " NFQUEUE num 5", " NFQUEUE num 5", ""},
	{"filter", packet.Input, "-j NFQUEUE --queue-num 5x", "", "", "", "exit 2: NFQUEUE: bad value for option \"--queue-num\", or out of range (0-65535).\n"},
	{"filter", packet.Input, "-j NFQUEUE --queue-bypass --queue-num 5", "-j NFQUEUE --queue-num 5 --queue-bypass", " NFQUEUE num 5 bypass", " NFQUEUE num 5 bypass", ""},
	{"nat", packet.Prerouting, "-j NFQUEUE --queue-num 5", "-j NFQUEUE --queue-num 5", " NFQUEUE num 5", " NFQUEUE num 5", ""},
}

func TestNFQueue(t *testing.T) { runRows(t, nfqueueRows) }

// TestNFQueueConformance runs upstream's libxt_NFQUEUE.t.
func TestNFQueueConformance(t *testing.T) { runTFile(t, "libxt_NFQUEUE.t") }

// TestJhash3 checks jhash_3words against vectors computed by the kernel's
// jhash.h (compiled as C).
func TestJhash3(t *testing.T) {
	for _, v := range [][5]uint32{
		{0, 0, 0, 0, 0x1b68e557},
		{0x1, 0x2, 0x3, 0x4, 0x8103143f},
		{0x10012c6, 0x20012c6, 0x6, 0x12345678, 0xe3debf11},
		{0xffffffff, 0xfffffffe, 0x11, 0xdeadbeef, 0xc8f70cf9},
	} {
		if got := jhash3(v[0], v[1], v[2], v[3]); got != v[4] {
			t.Errorf("jhash3(%#x, %#x, %#x, %#x) = %#x, want %#x", v[0], v[1], v[2], v[3], got, v[4])
		}
	}
}

// TestNFQueueDo checks the queue number, the bypass flag and the flow
// spreading of --queue-balance.
func TestNFQueueDo(t *testing.T) {
	udp := func(src, dst string, sp, dp uint16) *packet.Packet {
		return decode(t, packet.BuildUDP(ap(src, sp), ap(dst, dp), []byte("x")))
	}
	for _, tc := range []struct {
		spec   string
		num    uint16
		bypass bool
	}{
		{"-j NFQUEUE", 0, false},
		{"-j NFQUEUE --queue-num 5", 5, false},
		{"-j NFQUEUE --queue-num 65535 --queue-bypass", 65535, true},
	} {
		d := doer(t, tc.spec)
		p := udp("198.18.0.1", "198.18.0.2", 1, 2)
		p.QueueBypass = !tc.bypass
		if v := d.Do(p); v != Queued || p.QueueNum != tc.num || p.QueueBypass != tc.bypass {
			t.Errorf("%s: got %v queue %d bypass %v, want QUEUE %d %v", tc.spec, v, p.QueueNum, p.QueueBypass, tc.num, tc.bypass)
		}
	}
	for _, spec := range []string{"-j NFQUEUE --queue-balance 10:13", "-j NFQUEUE --queue-balance 10:13 --queue-cpu-fanout"} {
		d := doer(t, spec)
		d.(match.Binder).Bind(&match.Env{})
		used := map[uint16]int{}
		for i := 0; i < 256; i++ {
			a, b := fmt.Sprintf("198.18.%d.%d", i/16, i%16+1), fmt.Sprintf("198.19.%d.%d", i%7, i/7+1)
			p, r := udp(a, b, 1000, 53), udp(b, a, 53, 1000)
			d.Do(p)
			d.Do(r)
			if p.QueueNum < 10 || p.QueueNum > 13 {
				t.Fatalf("%s: %s > %s went to queue %d, outside 10:13", spec, a, b, p.QueueNum)
			}
			if p.QueueNum != r.QueueNum {
				t.Errorf("%s: %s > %s went to %d, its reply to %d", spec, a, b, p.QueueNum, r.QueueNum)
			}
			// Ports are not hashed: another flow between the hosts
			// shares the queue.
			if o := udp(a, b, 2000, 80); d.Do(o) == Queued && o.QueueNum != p.QueueNum {
				t.Errorf("%s: ports changed the queue: %d, want %d", spec, o.QueueNum, p.QueueNum)
			}
			used[p.QueueNum]++
		}
		for q := uint16(10); q <= 13; q++ {
			if used[q] < 32 {
				t.Errorf("%s: queue %d got %d of 256 flows; the hash does not spread (%v)", spec, q, used[q], used)
			}
		}
		p := udp("198.18.0.1", "198.18.0.2", 1, 2)
		noAllocs(t, spec, func() { d.Do(p) })
	}
	// The queue follows reciprocal_scale of the kernel's hash.
	n := doer(t, "-j NFQUEUE --queue-balance 100:199").(*NFQueue)
	n.seed = 0x12345678
	p := udp("198.18.0.2", "198.18.0.1", 2, 1)
	p.Proto = packet.ProtoTCP // the vector's protocol; only the hash reads it
	n.Do(p)
	if want := 100 + uint16(uint64(0xe3debf11)*100>>32); p.QueueNum != want {
		t.Errorf("balance 100:199 with the test vector: queue %d, want %d", p.QueueNum, want)
	}
}
