package conntrack

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// TestBestAddrKernel: the address picked from a NAT range is the one
// Linux 6.18 (x86-64) picked for the same connections, measured with
// iptables-legacy in a network namespace (ruleset's kernel differential,
// testdata/kerneldiff/nat-ranges.txtar). find_best_ips_proto hashes the
// address words in the host's byte order, so the rows hold on
// little-endian machines only.
func TestBestAddrKernel(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("measured on a little-endian kernel")
	}
	tb, _ := newTestTable(t, Config{})
	dnat := NATRange{Flags: NATMapIPs, MinAddr: ip("198.18.1.10"), MaxAddr: ip("198.18.1.13")}
	snat := NATRange{Flags: NATMapIPs, MinAddr: ip("198.18.0.50"), MaxAddr: ip("198.18.0.53")}
	pers := snat
	pers.Flags |= NATPersistent
	rows := []struct {
		src, dst string
		r        *NATRange
		m        Manip
		want     string
	}{
		// -j DNAT --to-destination 198.18.1.10-198.18.1.13 (udp to 198.18.0.1:53)
		{"198.18.0.2", "198.18.0.1", &dnat, ManipDst, "198.18.1.12"},
		{"198.18.0.3", "198.18.0.1", &dnat, ManipDst, "198.18.1.10"},
		{"198.18.0.4", "198.18.0.1", &dnat, ManipDst, "198.18.1.12"},
		{"198.18.0.5", "198.18.0.1", &dnat, ManipDst, "198.18.1.13"},
		{"198.18.0.6", "198.18.0.1", &dnat, ManipDst, "198.18.1.12"},
		// -j SNAT --to-source 198.18.0.50-198.18.0.53 (udp to port
		// 7000, each source new): the destination seeds the hash.
		{"198.18.1.2", "198.18.0.2", &snat, ManipSrc, "198.18.0.52"},
		{"198.18.1.3", "198.18.0.2", &snat, ManipSrc, "198.18.0.50"},
		{"198.18.1.4", "198.18.0.2", &snat, ManipSrc, "198.18.0.50"},
		{"198.18.1.5", "198.18.0.2", &snat, ManipSrc, "198.18.0.50"},
		{"198.18.1.2", "198.18.0.3", &snat, ManipSrc, "198.18.0.51"},
		{"198.18.1.6", "198.18.0.3", &snat, ManipSrc, "198.18.0.53"},
		// --persistent: the source alone.
		{"198.18.1.2", "198.18.0.2", &pers, ManipSrc, "198.18.0.51"},
		{"198.18.1.2", "198.18.0.3", &pers, ManipSrc, "198.18.0.51"},
		{"198.18.1.3", "198.18.0.2", &pers, ManipSrc, "198.18.0.52"},
		{"198.18.1.6", "198.18.0.2", &pers, ManipSrc, "198.18.0.53"},
	}
	for _, r := range rows {
		tu := MakeTuple(ip(r.src), ip(r.dst), udp, 5000, 53)
		tb.bestAddr(&tu, r.r, &Conn{}, r.m)
		got := tu.SrcAddr()
		if r.m == ManipDst {
			got = tu.DstAddr()
		}
		if got.String() != r.want {
			t.Errorf("%s > %s, range %v-%v persistent=%v: picked %v, kernel %s", r.src, r.dst, r.r.MinAddr, r.r.MaxAddr, r.r.Flags&NATPersistent != 0, got, r.want)
		}
	}
}

// TestBestAddrStaysInRange: whatever the connection, the pick lies in the
// range, IPv6 included, and a one-address range gives that address.
func TestBestAddrStaysInRange(t *testing.T) {
	tb, _ := newTestTable(t, Config{})
	ranges := []NATRange{
		{Flags: NATMapIPs, MinAddr: ip("198.18.0.1"), MaxAddr: ip("198.18.0.1")},
		{Flags: NATMapIPs, MinAddr: ip("198.18.0.250"), MaxAddr: ip("198.18.1.5")},
		{Flags: NATMapIPs | NATPersistent, MinAddr: ip("198.18.0.0"), MaxAddr: ip("198.19.255.255")},
		{Flags: NATMapIPs, MinAddr: ip("fd00::1:fffe"), MaxAddr: ip("fd00::2:1")},
		{Flags: NATMapIPs, MinAddr: ip("fd00::"), MaxAddr: ip("fd00::ffff:ffff:ffff:ffff")},
	}
	for _, r := range ranges {
		for i := range 200 {
			src, dst := ip("198.18.2.1"), ip("198.18.3.1")
			if !r.MinAddr.Is4() {
				src, dst = ip("fd00::a"), ip("fd00::b")
			}
			s, d := src.As16(), dst.As16()
			s[15], d[14] = byte(i), byte(i*7)
			tu := MakeTuple(addrFrom(src, s), addrFrom(dst, d), udp, 1, 2)
			tb.bestAddr(&tu, &r, &Conn{zone: uint16(i)}, ManipSrc)
			if a := tu.SrcAddr(); a.Less(r.MinAddr) || r.MaxAddr.Less(a) {
				t.Fatalf("range %v-%v: picked %v", r.MinAddr, r.MaxAddr, a)
			}
		}
	}
}

// addrFrom is b as an address of like's family.
func addrFrom(like netip.Addr, b [16]byte) netip.Addr {
	a := netip.AddrFrom16(b)
	if like.Is4() {
		return a.Unmap()
	}
	return a
}
