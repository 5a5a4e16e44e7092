package packet

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

// specOne parses a one-packet spec.
func specOne(t *testing.T, line string) SpecPacket {
	t.Helper()
	pkts, err := ParseSpec(line)
	if err != nil {
		t.Fatalf("ParseSpec(%q): %v", line, err)
	}
	if len(pkts) != 1 {
		t.Fatalf("ParseSpec(%q): %d packets, want 1", line, len(pkts))
	}
	return pkts[0]
}

// TestSpecBuilds checks that each spec line crafts the datagram the Build
// functions give for the same arguments.
func TestSpecBuilds(t *testing.T) {
	c4, s4, c6, s6 := "198.18.0.2", "198.18.0.1", "fd00::2", "fd00::1"
	udp := BuildUDP(ap(c4, 5353), ap(s4, 53), make([]byte, 20))
	rows := []struct {
		spec string
		want []byte
	}{
		// TCP: flags, numbers, options in the builder's order whatever
		// the line's order.
		{"tcp 198.18.0.2:40000 > 198.18.0.1:22 S seq=1000 win=64240 sackperm wscale=7 mss=1460",
			BuildTCP(ap(c4, 40000), ap(s4, 22), TCPSyn, 1000, 0, 64240, nil, WithMSS(1460), WithWScale(7), WithSACKPerm())},
		{"tcp 198.18.0.1:22 > 198.18.0.2:40000 SA seq=5000 ack=1001",
			BuildTCP(ap(s4, 22), ap(c4, 40000), TCPSyn|TCPAck, 5000, 1001, 65535, nil)},
		{"tcp 198.18.0.2:1 > 198.18.0.1:2 none", BuildTCP(ap(c4, 1), ap(s4, 2), 0, 0, 0, 65535, nil)},
		{"tcp 198.18.0.2:1 > 198.18.0.1:2 CEUAPRSF", BuildTCP(ap(c4, 1), ap(s4, 2), 0xff, 0, 0, 65535, nil)},
		{"tcp [fd00::2]:1 > [fd00::1]:2 PA len=3", BuildTCP(ap(c6, 1), ap(s6, 2), TCPPsh|TCPAck, 0, 0, 65535, make([]byte, 3))},
		// UDP and payloads.
		{"udp 198.18.0.2:5353 > 198.18.0.1:53 len=20", udp},
		{"udp 198.18.0.2:5353 > 198.18.0.1:53 data=6162", BuildUDP(ap(c4, 5353), ap(s4, 53), []byte("ab"))},
		// ICMP queries and errors.
		{"icmp 198.18.0.2 > 198.18.0.1 echo-request id=7 seq=1", BuildICMP(ip(c4), ip(s4), ICMPEcho, 0, 7, 1, nil)},
		{"icmp 198.18.0.2 > 198.18.0.1 type=13 code=1", BuildICMP(ip(c4), ip(s4), 13, 1, 0, 0, nil)},
		{"icmp fd00::2 > fd00::1 echo-reply id=7", BuildICMP(ip(c6), ip(s6), ICMPv6EchoReply, 0, 7, 0, nil)},
		{"icmp 198.18.0.1 > 198.18.0.2 port-unreachable quote=[udp 198.18.0.2:5353 > 198.18.0.1:53 len=20]",
			BuildICMPError(ip(s4), ip(c4), 3, 3, udp)},
		{"icmp 198.18.0.1 > 198.18.0.2 fragmentation-needed quote=[udp 198.18.0.2:5353 > 198.18.0.1:53 len=20] quotelen=28",
			BuildICMPError(ip(s4), ip(c4), 3, 4, udp, WithQuote(28))},
		{"icmp 198.18.0.1 > 198.18.0.2 time-exceeded", BuildICMPError(ip(s4), ip(c4), 11, 0, nil)},
		{"icmp fd00::1 > fd00::2 port-unreachable quote=[udp [fd00::2]:1 > [fd00::1]:2]",
			BuildICMPError(ip(s6), ip(c6), 1, 4, BuildUDP(ap(c6, 1), ap(s6, 2), nil))},
		// Any protocol.
		{"ip 198.18.0.2 > 198.18.0.1 proto=47 data=00000800", BuildIP(ip(c4), ip(s4), ProtoGRE, []byte{0, 0, 8, 0})},
		// IP header options.
		{"udp 198.18.0.2:1 > 198.18.0.1:2 ttl=1 tos=16 ipid=99 df",
			BuildUDP(ap(c4, 1), ap(s4, 2), nil, WithTTL(1), WithTOS(16), WithID(99), WithDF())},
		{"udp 198.18.0.2:1 > 198.18.0.1:2 len=8 frag=0,more", BuildUDP(ap(c4, 1), ap(s4, 2), make([]byte, 8), WithFrag(0, true))},
		{"udp 198.18.0.2:1 > 198.18.0.1:2 len=8 frag=3", BuildIP(ip(c4), ip(s4), ProtoUDP, make([]byte, 8), WithFrag(3, false))},
		{"tcp 198.18.0.2:1 > 198.18.0.1:2 S badsum", BuildTCP(ap(c4, 1), ap(s4, 2), TCPSyn, 0, 0, 65535, nil, WithBadChecksum())},
		{"udp 198.18.0.2:5353 > 198.18.0.1:53 len=20 snap=30", udp[:30]},
	}
	for _, r := range rows {
		got := specOne(t, r.spec).Data
		if !bytes.Equal(got, r.want) {
			t.Errorf("%s:\n got %x\nwant %x", r.spec, got, r.want)
		}
	}
}

// TestSpecSummary checks what the trace prints for crafted packets,
// malformed ones included: the spec builds them and Summary reads them
// back after Decode.
func TestSpecSummary(t *testing.T) {
	rows := []struct{ spec, want string }{
		{"tcp 198.18.0.2:40000 > 198.18.0.1:22 S seq=1000 win=64240 mss=1460 wscale=7 sackperm",
			"tcp 198.18.0.2:40000 > 198.18.0.1:22 S seq=1000 win=64240 mss=1460 wscale=7 sackperm len=0"},
		{"tcp 198.18.0.1:22 > 198.18.0.2:40000 FA seq=5 ack=9 len=4",
			"tcp 198.18.0.1:22 > 198.18.0.2:40000 FA seq=5 ack=9 win=65535 len=4"},
		{"udp [fd00::2]:5353 > [fd00::1]:53 len=20", "udp [fd00::2]:5353 > [fd00::1]:53 len=20"},
		{"icmp 198.18.0.2 > 198.18.0.1 echo-request id=7 seq=1", "icmp 198.18.0.2 > 198.18.0.1 echo-request id=7 seq=1 len=0"},
		{"icmp 198.18.0.1 > 198.18.0.2 port-unreachable quote=[udp 198.18.0.2:5353 > 198.18.0.1:53]",
			"icmp 198.18.0.1 > 198.18.0.2 port-unreachable quote=[udp 198.18.0.2:5353 > 198.18.0.1:53]"},
		{"icmp 198.18.0.1 > 198.18.0.2 time-exceeded quote=[icmp 198.18.0.2 > 198.18.0.9 echo-request id=3]",
			"icmp 198.18.0.1 > 198.18.0.2 ttl-zero-during-transit quote=[icmp 198.18.0.2 > 198.18.0.9 echo-request id=3]"},
		// An error too short to quote a tuple.
		{"icmp 198.18.0.1 > 198.18.0.2 port-unreachable", "icmp 198.18.0.1 > 198.18.0.2 port-unreachable quote=[]"},
		{"ip 198.18.0.2 > 198.18.0.1 proto=47 len=4", "gre 198.18.0.2 > 198.18.0.1 len=4"},
		{"ip 198.18.0.2 > 198.18.0.1 proto=253", "ip 198.18.0.2 > 198.18.0.1 proto=253 len=0"},
		// Fragments: only the first carries the ports.
		{"udp 198.18.0.2:1 > 198.18.0.1:2 len=8 frag=0,more", "udp 198.18.0.2:1 > 198.18.0.1:2 len=8 frag=0,more"},
		{"udp 198.18.0.2:1 > 198.18.0.1:2 len=8 frag=3", "udp 198.18.0.2 > 198.18.0.1 len=8 frag=3"},
		// Malformed.
		{"tcp 198.18.0.2:1 > 198.18.0.1:2 S badsum", "tcp 198.18.0.2:1 > 198.18.0.1:2 S seq=0 win=65535 len=0 badsum"},
		{"tcp 198.18.0.2:1 > 198.18.0.1:2 S truncate=30", "tcp 198.18.0.2 > 198.18.0.1 (truncated TCP header)"},
		{"udp 198.18.0.2:1 > 198.18.0.1:2 len=20 snap=30", "ip len=30 (bad total length)"},
	}
	for _, r := range rows {
		var p Packet
		Decode(specOne(t, r.spec).Data, &p)
		if got := p.Summary(); got != r.want {
			t.Errorf("%s:\n got %s\nwant %s", r.spec, got, r.want)
		}
	}
}

func TestSpecErrors(t *testing.T) {
	rows := []struct{ spec, want string }{
		{"sctp 1.2.3.4:1 > 1.2.3.5:2", `line 1: "sctp": want tcp, udp, icmp or ip`},
		{"\n\ntcp 198.18.0.2 > 198.18.0.1:2 S", `line 3: "198.18.0.2": want ADDR:PORT`},
		{"tcp 198.18.0.2:1 198.18.0.1:2 S", "line 1: want tcp SRC:PORT > DST:PORT"},
		{"icmp 198.18.0.2:1 > 198.18.0.1 echo-request", `"198.18.0.2:1": want an address without a port`},
		{"udp 198.18.0.2:1 > [fd00::1]:2", "are not of one family"},
		{"udp [::ffff:198.18.0.2]:1 > [fd00::1]:2", "no zones or IPv4-mapped"},
		{"tcp 198.18.0.2:1 > 198.18.0.1:2", "tcp wants FLAGS"},
		{"tcp 198.18.0.2:1 > 198.18.0.1:2 SX", `TCP flags "SX"`},
		{"tcp 198.18.0.2:1 > 198.18.0.1:2 SS", `TCP flags "SS"`},
		{"tcp 198.18.0.2:1 > 198.18.0.1:2 S seq=1 seq=2", "seq given twice"},
		{"tcp 198.18.0.2:1 > 198.18.0.1:2 S seq=4294967296", `seq="4294967296": want a number below 4294967296`},
		{"tcp 198.18.0.2:1 > 198.18.0.1:2 S sackperm=1", "sackperm takes no value"},
		{"tcp 198.18.0.2:1 > 198.18.0.1:2 S mss", `"mss": want KEY=VALUE`},
		{"tcp 198.18.0.2:1 > 198.18.0.1:2 S mss=0", "mss=0"},
		{"tcp 198.18.0.2:1 > 198.18.0.1:2 S colour=blue", `unknown option "colour"`},
		{"udp 198.18.0.2:1 > 198.18.0.1:2 win=5", "win is not an option of udp"},
		{"icmp 198.18.0.2 > 198.18.0.1", "icmp wants a type"},
		{"icmp 198.18.0.2 > 198.18.0.1 echo", `unknown ICMP type "echo"`},
		{"icmp 198.18.0.2 > 198.18.0.1 echo-request code=1", "code= goes with type="},
		{"icmp 198.18.0.2 > 198.18.0.1 echo-request quote=1", "quote=1: want the number of an earlier packet (1 to 0)"},
		{"udp 198.18.0.2:1 > 198.18.0.1:2\nicmp 198.18.0.1 > 198.18.0.2 echo-request quote=1", "line 2: only an ICMP error quotes"},
		{"icmp 198.18.0.1 > 198.18.0.2 port-unreachable id=1", "an ICMP error has no id= or seq="},
		{"icmp 198.18.0.1 > 198.18.0.2 port-unreachable len=4", "carries its quote"},
		{"icmp 198.18.0.1 > 198.18.0.2 port-unreachable quotelen=8", "quotelen= needs quote="},
		{"icmp 198.18.0.1 > 198.18.0.2 port-unreachable quote=[udp 1.2.3.4:1 > 1.2.3.5:2 dev=x]", "a quoted packet has no dev="},
		{"icmp 198.18.0.1 > 198.18.0.2 port-unreachable quote=[udp 1.2.3.4:1 > 1.2.3.5:2", `unbalanced "["`},
		{"icmp 198.18.0.1 > 198.18.0.2 port-unreachable quote=[]", "want quote=[PACKET]"},
		{"icmp 1.1.1.1 > 1.1.1.2 port-unreachable quote=[icmp 1.1.1.1 > 1.1.1.2 port-unreachable quote=[icmp 1.1.1.1 > 1.1.1.2 port-unreachable quote=[icmp 1.1.1.1 > 1.1.1.2 port-unreachable quote=[udp 1.1.1.1:1 > 1.1.1.2:2]]]]",
			"quotes nest deeper than 3"},
		{"udp 198.18.0.2:1 > 198.18.0.1:2 ]", `unbalanced "]"`},
		{"ip 198.18.0.2 > 198.18.0.1", "ip wants proto=N"},
		{"udp 198.18.0.2:1 > 198.18.0.1:2 len=1 data=00", "give len= or data=, not both"},
		{"udp 198.18.0.2:1 > 198.18.0.1:2 data=0", `data="0": want hexadecimal bytes`},
		{"udp 198.18.0.2:1 > 198.18.0.1:2 len=65535", "the datagram would be 65563 bytes"},
		{"udp 198.18.0.2:1 > 198.18.0.1:2 frag=0", "frag=0 is a whole datagram"},
		{"udp 198.18.0.2:1 > 198.18.0.1:2 frag=8192", "the offset (in 8-byte units) is 0 to 8191"},
		{"udp 198.18.0.2:1 > 198.18.0.1:2 frag=1,less", "want frag=OFFSET or frag=OFFSET,more"},
		{"udp 198.18.0.2:1 > 198.18.0.1:2 truncate=19", "truncate=19: want 20 to 28"},
		{"udp 198.18.0.2:1 > 198.18.0.1:2 snap=29", "snap=29: the datagram has only 28 bytes"},
		{"udp 198.18.0.2:1 > 198.18.0.1:2 snap=0", "snap=0: want at least one byte"},
		{"udp 198.18.0.2:1 > 198.18.0.1:2 snap=3 truncate=20", "give truncate= or snap=, not both"},
		{"udp 198.18.0.2:1 > 198.18.0.1:2 dev=a/b", `dev="a/b"`},
		{"+1.5", `"+1.5": want +DURATION`},
		{"+-1s", `"+-1s": want +DURATION`},
		{"+1s udp", "a clock line holds only +DURATION"},
	}
	for _, r := range rows {
		_, err := ParseSpec(r.spec)
		if err == nil || !strings.Contains(err.Error(), r.want) {
			t.Errorf("ParseSpec(%q) = %v, want an error containing %q", r.spec, err, r.want)
		}
	}
}

const specSample = `# handshake
tcp 198.18.0.2:40000 > 198.18.0.1:22 S seq=1000 mss=1460 wscale=7 sackperm dev=eth0   # client
tcp 198.18.0.1:22 > 198.18.0.2:40000 SA seq=5000 ack=1001 win=64240 dev=eth0
+1.5s
tcp 198.18.0.2:40000 > 198.18.0.1:22 A seq=1001 ack=5001 data=68690a
+200ms
udp 198.18.0.2:5353 > 198.18.0.1:53 len=20
icmp 198.18.0.1 > 198.18.0.2 port-unreachable quote=4 quotelen=28 dev=eth1
icmp 198.18.0.1 > 198.18.0.2 type=3 code=3 quote=[udp 198.18.0.2:1 > 198.18.0.9:2 ttl=3]
ip 198.18.0.2 > 198.18.0.1 proto=47 len=4 ttl=1 tos=4 ipid=7 df badsum truncate=22
`

// TestRenderSpec checks the round trip the fuzz target relies on, on a
// spec with every kind of line: times, devices, quotes by number and
// inline.
func TestRenderSpec(t *testing.T) {
	pkts, err := ParseSpec(specSample)
	if err != nil {
		t.Fatal(err)
	}
	want := `tcp 198.18.0.2:40000 > 198.18.0.1:22 S seq=1000 mss=1460 wscale=7 sackperm dev=eth0
tcp 198.18.0.1:22 > 198.18.0.2:40000 SA seq=5000 ack=1001 win=64240 dev=eth0
+1.5s
tcp 198.18.0.2:40000 > 198.18.0.1:22 A seq=1001 ack=5001 data=68690a
+200ms
udp 198.18.0.2:5353 > 198.18.0.1:53 len=20
icmp 198.18.0.1 > 198.18.0.2 port-unreachable quote=4 quotelen=28 dev=eth1
icmp 198.18.0.1 > 198.18.0.2 port-unreachable quote=[udp 198.18.0.2:1 > 198.18.0.9:2 ttl=3]
ip 198.18.0.2 > 198.18.0.1 proto=47 len=4 ttl=1 tos=4 ipid=7 df badsum truncate=22
`
	got := RenderSpec(pkts)
	if got != want {
		t.Fatalf("RenderSpec:\n%s\nwant:\n%s", got, want)
	}
	again, err := ParseSpec(got)
	if err != nil {
		t.Fatal(err)
	}
	for i := range pkts {
		if !sameSpecPacket(&pkts[i], &again[i]) {
			t.Errorf("packet %d changed in the round trip:\n got %+v\nwant %+v", i+1, again[i], pkts[i])
		}
	}
	if at := []time.Duration{0, 0, 1500 * time.Millisecond, 1700 * time.Millisecond}; pkts[1].At != at[1] || pkts[2].At != at[2] || pkts[3].At != at[3] {
		t.Errorf("times %v %v %v, want %v", pkts[1].At, pkts[2].At, pkts[3].At, at[1:])
	}
}

// sameSpecPacket compares everything but the line number.
func sameSpecPacket(a, b *SpecPacket) bool {
	x, y := *a, *b
	x.Line, y.Line = 0, 0
	return reflect.DeepEqual(x, y)
}

// FuzzSpec checks that ParseSpec never panics, and that whatever it
// accepts renders to a spec that parses to the same packets (same fields,
// same bytes, same times) and renders the same again.
func FuzzSpec(f *testing.F) {
	f.Add(specSample)
	f.Add("tcp [fd00::2]:1 > [fd00::1]:2 RA frag=1,more\n+1ns\nicmp fd00::1 > fd00::2 packet-too-big quote=1 quotelen=4")
	f.Add("icmp 1.1.1.1 > 1.1.1.2 redirect quote=[icmp 1.1.1.2 > 1.1.1.1 time-exceeded quote=[udp 1.1.1.1:1 > 1.1.1.2:2]]")
	f.Add("udp 198.18.0.2:1 > 198.18.0.1:2 truncate=24 # short")
	f.Fuzz(func(t *testing.T, text string) {
		pkts, err := ParseSpec(text)
		if err != nil {
			return
		}
		out := RenderSpec(pkts)
		again, err := ParseSpec(out)
		if err != nil {
			t.Fatalf("rendered spec does not parse: %v\n%s", err, out)
		}
		if len(again) != len(pkts) {
			t.Fatalf("%d packets after the round trip, want %d", len(again), len(pkts))
		}
		for i := range pkts {
			if !sameSpecPacket(&pkts[i], &again[i]) {
				t.Fatalf("packet %d changed:\n got %+v\nwant %+v\n%s", i+1, again[i], pkts[i], out)
			}
		}
		if out2 := RenderSpec(again); out2 != out {
			t.Fatalf("render is not stable:\n%s\nthen\n%s", out, out2)
		}
		for i := range pkts {
			var p Packet
			Decode(pkts[i].Data, &p)
			_ = p.Summary()
		}
	})
}
