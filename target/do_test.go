package target

import (
	"net/netip"
	"testing"

	"github.com/gofw/gofw/packet"
)

// Helpers shared by the hot-path (Do) tests of every target.

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func ap(s string, port uint16) netip.AddrPort { return netip.AddrPortFrom(addr(s), port) }

// mk builds the target of a rule tail ("-p tcp -j TCPMSS --set-mss 1400"),
// failing the test on a parse error.
func mk(t testing.TB, spec string) Target {
	t.Helper()
	b, err := build(spec)
	if err != nil {
		t.Fatalf("%s: %v", spec, err)
	}
	return b.tg
}

// doer returns the hot path of the target of spec.
func doer(t testing.TB, spec string) Doer {
	t.Helper()
	d, ok := mk(t, spec).(Doer)
	if !ok {
		t.Fatalf("%s: target has no Do", spec)
	}
	return d
}

// decode decodes dg into a fresh Packet, failing on a malformed datagram.
func decode(t testing.TB, dg []byte) *packet.Packet {
	t.Helper()
	p := &packet.Packet{}
	if r := packet.Decode(dg, p); r != packet.ReasonNone {
		t.Fatalf("decode: %v", r)
	}
	return p
}

// tcpSyn is a SYN from 198.18.0.1:40000 to 198.18.0.2:22 with opts.
func tcpSyn(opts ...packet.BuildOpt) []byte {
	return packet.BuildTCP(ap("198.18.0.1", 40000), ap("198.18.0.2", 22), packet.TCPSyn, 1000, 0, 64240, nil, opts...)
}

// noAllocs fails when f allocates.
func noAllocs(t *testing.T, name string, f func()) {
	t.Helper()
	if n := testing.AllocsPerRun(100, f); n != 0 {
		t.Errorf("%s: %v allocations per run, want 0", name, n)
	}
}
