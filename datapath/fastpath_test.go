package datapath

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gofw/gofw/conntrack"
)

// nlAttrs splits netlink attributes into type (nested flag cleared) and
// payload.
func nlAttrs(t *testing.T, b []byte) map[uint16][]byte {
	t.Helper()
	m := map[uint16][]byte{}
	for len(b) >= 4 {
		l := int(binary.NativeEndian.Uint16(b))
		if l < 4 || l > len(b) {
			t.Fatalf("attribute length %d in %d bytes", l, len(b))
		}
		m[binary.NativeEndian.Uint16(b[2:])&^nlaFNested] = b[4:l]
		b = b[min(align4(l), len(b)):]
	}
	return m
}

// TestBuildMarkUpdate decodes the ctnetlink update the fast path sends,
// for both families, and checks that it allocates nothing.
func TestBuildMarkUpdate(t *testing.T) {
	for _, r := range []struct {
		src, dst string
		fam      byte
		srcA     uint16
	}{
		{"198.18.1.2", "198.19.1.2", unix.AF_INET, ctaIPv4Src},
		{"fd00::1", "fd00::2", unix.AF_INET6, ctaIPv6Src},
	} {
		src, dst := netip.MustParseAddr(r.src), netip.MustParseAddr(r.dst)
		tu := conntrack.MakeTuple(src, dst, conntrack.ProtoTCP, 41000, 80)
		b := buildMarkUpdate(nil, tu, 0xdeadbeef)
		if got := int(binary.NativeEndian.Uint32(b)); got != len(b) {
			t.Fatalf("%s: nlmsg_len %d, message %d bytes", r.src, got, len(b))
		}
		if typ, flags := binary.NativeEndian.Uint16(b[4:]), binary.NativeEndian.Uint16(b[6:]); typ != 1<<8 || flags != unix.NLM_F_REQUEST {
			t.Errorf("%s: type %#x flags %#x, want IPCTNL_MSG_CT_NEW of ctnetlink, NLM_F_REQUEST only (an update, no answer unless it fails)", r.src, typ, flags)
		}
		if b[nlmsgHdrLen] != r.fam {
			t.Errorf("%s: nfgenmsg family %d, want %d", r.src, b[nlmsgHdrLen], r.fam)
		}
		top := nlAttrs(t, b[nlmsgHdrLen+4:])
		if m := top[ctaMark]; binary.BigEndian.Uint32(m) != 0xdeadbeef {
			t.Errorf("%s: CTA_MARK % x", r.src, m)
		}
		tuple := nlAttrs(t, top[ctaTupleOrig])
		ip, proto := nlAttrs(t, tuple[ctaTupleIP]), nlAttrs(t, tuple[ctaTupleProto])
		if !bytes.Equal(ip[r.srcA], src.AsSlice()) || !bytes.Equal(ip[r.srcA+1], dst.AsSlice()) {
			t.Errorf("%s: addresses % x, % x", r.src, ip[r.srcA], ip[r.srcA+1])
		}
		if proto[ctaProtoNum][0] != conntrack.ProtoTCP || binary.BigEndian.Uint16(proto[ctaProtoSrcPort]) != 41000 ||
			binary.BigEndian.Uint16(proto[ctaProtoDstPort]) != 80 {
			t.Errorf("%s: protocol part %v", r.src, proto)
		}
		buf := make([]byte, 0, 128)
		if n := testing.AllocsPerRun(100, func() { buildMarkUpdate(buf[:0], tu, 1) }); n != 0 {
			t.Errorf("%s: %v allocations per message", r.src, n)
		}
	}
}

// TestRefusals reads the kernel's answers to mark updates: errors count,
// acknowledgements and other messages do not.
func TestRefusals(t *testing.T) {
	msg := func(typ uint16, errno int32) []byte {
		b := make([]byte, nlmsgHdrLen+4+nlmsgHdrLen)
		binary.NativeEndian.PutUint32(b, uint32(len(b)))
		binary.NativeEndian.PutUint16(b[4:], typ)
		binary.NativeEndian.PutUint32(b[nlmsgHdrLen:], uint32(errno))
		return b
	}
	b := append(append(append(msg(unix.NLMSG_ERROR, -int32(unix.ENOENT)), msg(unix.NLMSG_ERROR, 0)...),
		msg(unix.NLMSG_DONE, -1)...), msg(unix.NLMSG_ERROR, -int32(unix.EPERM))...)
	got := refusals(b, nil)
	if len(got) != 2 || got[0] != unix.ENOENT || got[1] != unix.EPERM {
		t.Errorf("refusals %v, want [ENOENT EPERM]", got)
	}
	if got := refusals(b[:len(b)-1], nil); len(got) != 1 {
		t.Errorf("a cut last message: refusals %v, want the first only", got)
	}
}

// FuzzRefusals: whatever the socket returns, reading it does not panic
// and finds no more refusals than it holds messages.
func FuzzRefusals(f *testing.F) {
	f.Add([]byte{20, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 254, 255, 255, 255})
	f.Fuzz(func(t *testing.T, b []byte) {
		if n := len(refusals(b, nil)); n > len(b)/(nlmsgHdrLen+4) {
			t.Fatalf("%d refusals in %d bytes", n, len(b))
		}
	})
}
