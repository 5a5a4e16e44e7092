package target

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
)

// ctRows were checked against iptables-legacy 1.8.9 on Linux 6.18.
var ctRows = []row{
	// Events, in table order whatever the input order.
	{"raw", packet.Prerouting, "-j CT", "-j CT", " CT", " CT", ""},
	{"raw", packet.Prerouting, "-j CT --notrack", "-j CT --notrack", " CT notrack", " CT notrack", ""},
	{"raw", packet.Output, "-j CT --ctevents new,related,destroy,reply,assured,protoinfo,helper,mark", "-j CT --ctevents new,related,destroy,reply,assured,protoinfo,helper,mark", " CT ctevents new,related,destroy,reply,assured,protoinfo,helper,mark", " CT ctevents new,related,destroy,reply,assured,protoinfo,helper,mark", ""},
	{"raw", packet.Prerouting, "-j CT --ctevents mark,new", "-j CT --ctevents new,mark", " CT ctevents new,mark", " CT ctevents new,mark", ""},
	{"raw", packet.Prerouting, "-j CT --ctevents natseqinfo,secmark", "-j CT --ctevents natseqinfo,secmark", " CT ctevents natseqinfo,secmark", " CT ctevents natseqinfo,secmark", ""},
	{"raw", packet.Prerouting, "-j CT --ctevents new,new", "-j CT --ctevents new", " CT ctevents new", " CT ctevents new", ""},
	{"raw", packet.Prerouting, "-j CT --ctevents foo", "", "", "", "exit 2: Unknown event type \"foo\""},
	{"raw", packet.Prerouting, "-j CT --ctevents \"\"", "", "", "", "exit 2: Unknown event type \"\""},
	{"raw", packet.Prerouting, "-j CT --ctevents new,", "", "", "", "exit 2: Unknown event type \"\""},
	{"raw", packet.Prerouting, "-j CT --ctevents NEW", "", "", "", "exit 2: Unknown event type \"NEW\""},
	{"raw", packet.Prerouting, "-j CT --expevents new", "-j CT --expevents new", " CT expevents new", " CT expevents new", ""},
	{"raw", packet.Prerouting, "-j CT --expevents related", "", "", "", "exit 2: Unknown event type \"related\""},
	// Zones: direction bits add up, "mark" stays, zone 0 is not printed.
	{"raw", packet.Prerouting, "-j CT --zone 0", "-j CT", " CT", " CT", ""},
	{"raw", packet.Prerouting, "-j CT --zone 65535", "-j CT --zone 65535", " CT zone 65535", " CT zone 65535", ""},
	{"raw", packet.Prerouting, "-j CT --zone 65536", "", "", "", "exit 2: Cannot parse 65536 as a zone ID"},
	{"raw", packet.Prerouting, "-j CT --zone -1", "", "", "", "exit 2: Cannot parse -1 as a zone ID"},
	{"raw", packet.Prerouting, "-j CT --zone mark", "-j CT --zone mark", " CT zone mark", " CT zone mark", ""},
	{"raw", packet.Prerouting, "-j CT --zone MARK", "-j CT --zone mark", " CT zone mark", " CT zone mark", ""},
	{"raw", packet.Prerouting, "-j CT --zone 0x10", "-j CT --zone 16", " CT zone 16", " CT zone 16", ""},
	{"raw", packet.Prerouting, "-j CT --zone \"\"", "", "", "", "exit 2: Cannot parse  as a zone ID"},
	{"raw", packet.Prerouting, "-j CT --zone-orig 5", "-j CT --zone-orig 5", " CT zone-orig 5", " CT zone-orig 5", ""},
	{"raw", packet.Prerouting, "-j CT --zone-reply 5", "-j CT --zone-reply 5", " CT zone-reply 5", " CT zone-reply 5", ""},
	{"raw", packet.Prerouting, "-j CT --zone-orig mark", "-j CT --zone-orig mark", " CT zone-orig mark", " CT zone-orig mark", ""},
	{"raw", packet.Prerouting, "-j CT --zone-reply mark", "-j CT --zone-reply mark", " CT zone-reply mark", " CT zone-reply mark", ""},
	{"raw", packet.Prerouting, "-j CT --zone 5 --zone-orig 6", "-j CT --zone-orig 6", " CT zone-orig 6", " CT zone-orig 6", ""},
	{"raw", packet.Prerouting, "-j CT --zone-orig 6 --zone-reply 7", "-j CT --zone 7", " CT zone 7", " CT zone 7", ""},
	{"raw", packet.Prerouting, "-j CT --zone-orig mark --zone 5", "-j CT --zone-orig mark", " CT zone-orig mark", " CT zone-orig mark", ""},
	{"raw", packet.Prerouting, "-j CT --zone-orig 0", "-j CT", " CT", " CT", ""},
	// Helpers: the kernel needs a -p, not inverted, that the helper is registered for.
	{"raw", packet.Prerouting, "-j CT --helper ftp", "", "", "", "kernel: xt_CT: You must specify a L4 protocol and not use inversions on it"},
	{"raw", packet.Prerouting, "-p tcp -j CT --helper ftp", "-p tcp -j CT --helper ftp", " CT helper ftp", " CT helper ftp", ""},
	{"raw", packet.Prerouting, "-p udp -j CT --helper ftp", "", "", "", "kernel: xt_CT: No such helper \"ftp\""},
	{"raw", packet.Prerouting, "! -p tcp -j CT --helper ftp", "", "", "", "kernel: xt_CT: You must specify a L4 protocol and not use inversions on it"},
	{"raw", packet.Prerouting, "-p udp -j CT --helper netbios-ns", "-p udp -j CT --helper netbios-ns", " CT helper netbios-ns", " CT helper netbios-ns", ""},
	{"raw", packet.Prerouting, "-p tcp -j CT --helper pptp", "-p tcp -j CT --helper pptp", " CT helper pptp", " CT helper pptp", ""},
	{"raw", packet.Prerouting, "-p udp -j CT --helper sip", "-p udp -j CT --helper sip", " CT helper sip", " CT helper sip", ""},
	{"raw", packet.Prerouting, "-p tcp -j CT --helper sip", "-p tcp -j CT --helper sip", " CT helper sip", " CT helper sip", ""},
	{"raw", packet.Prerouting, "-p tcp -j CT --helper FTP", "", "", "", "kernel: xt_CT: No such helper \"FTP\""},
	{"raw", packet.Prerouting, "-p tcp -j CT --helper aaaaaaaaaaaaaaaaaaaaaaaaaa", "", "", "", "kernel: xt_CT: No such helper \"aaaaaaaaaaaaaaa\""},
	{"raw", packet.Prerouting, "-j CT --helper \"\"", "-j CT", " CT", " CT", ""},
	{"raw", packet.Prerouting, "-j CT --helper ftp --notrack", "-j CT --notrack --helper ftp", " CT notrack helper ftp", " CT notrack helper ftp", ""},
	{"raw", packet.Prerouting, "-j CT --notrack --zone 5", "-j CT --notrack --zone 5", " CT notrack zone 5", " CT notrack zone 5", ""},
	// EINVAL here, not ENOENT as for a helper (the kernel rate-limits this log line).
	{"raw", packet.Prerouting, "-j CT --timeout test", "", "", "", "kernel: xt_CT: You must specify a L4 protocol and not use inversions on it"},
	{"raw", packet.Prerouting, "-p tcp -j CT --timeout test", "", "", "", "kernel: No such timeout policy \"test\""},
	{"raw", packet.Prerouting, "-j CT --notrack --timeout test", "-j CT --notrack --timeout test", " CT notrack timeout test", " CT notrack timeout test", ""},
	{"raw", packet.Prerouting, "-j CT --notrack --ctevents new --expevents new --zone 3", "-j CT --notrack --ctevents new --expevents new --zone 3", " CT notrack ctevents new expevents new zone 3", " CT notrack ctevents new expevents new zone 3", ""},
	{"raw", packet.Prerouting, "-p tcp -j CT --helper ftp --ctevents new --expevents new --zone 3", "-p tcp -j CT --helper ftp --ctevents new --expevents new --zone 3", " CT helper ftp ctevents new expevents new zone 3", " CT helper ftp ctevents new expevents new zone 3", ""},
	{"raw", packet.Prerouting, "-j CT --notrack --notrack", "", "", "", "generic"},
	// CT target: only valid in raw table, not mangle
	{"mangle", packet.Prerouting, "-j CT --notrack", "", "", "", "placement"},
}

func TestCT(t *testing.T) { runRows(t, ctRows) }

// TestCTConformance runs upstream's libxt_CT.t.
func TestCTConformance(t *testing.T) { runTFile(t, "libxt_CT.t") }

// TestCTCheckErrno checks the errno behind each xt_CT refusal, which picks
// iptables' message: ENOENT prints "No chain/target/match by that name.",
// EINVAL "Invalid argument. Run `dmesg' for more information." (both seen
// with iptables 1.8.9 on Linux 6.18).
func TestCTCheckErrno(t *testing.T) {
	for _, c := range []struct {
		spec  string
		errno syscall.Errno // 0: accepted
	}{
		{"-j CT --helper ftp", syscall.ENOENT},
		{"! -p tcp -j CT --helper ftp", syscall.ENOENT},
		{"-p udp -j CT --helper ftp", syscall.ENOENT},
		{"-p tcp -j CT --timeout test", syscall.ENOENT},
		{"-j CT --timeout test", syscall.EINVAL},
		{"-p tcp -j CT --helper ftp", 0},
		// --notrack skips every other check.
		{"-j CT --notrack --helper nosuch --timeout test", 0},
	} {
		b, err := build(c.spec)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		err = b.check("raw", packet.Prerouting.Mask())
		switch {
		case c.errno == 0 && err != nil:
			t.Errorf("%s: %v", c.spec, err)
		case c.errno != 0 && !errors.Is(err, c.errno):
			t.Errorf("%s: got %v, want errno %v", c.spec, err, c.errno)
		}
	}
}

// TestCTHelpers checks every helper Linux 6.18 registers for IPv4, with
// the protocols it accepts, against the table used by Check.
func TestCTHelpers(t *testing.T) {
	ok := map[string]string{
		"ftp": "tcp", "irc": "tcp", "sip": "tcp udp", "tftp": "udp", "amanda": "udp",
		"RAS": "udp", "Q.931": "tcp", "H.245": "udp", "pptp": "tcp", "sane": "tcp",
		"snmp": "udp", "snmp_trap": "udp", "netbios-ns": "udp",
		// Names are case-sensitive, and h323 is not a helper name.
		"FTP": "", "ras": "", "h323": "",
	}
	for name, protos := range ok {
		for _, p := range []string{"tcp", "udp", "sctp", "dccp", "icmp", "gre"} {
			b, err := build("-p " + p + " -j CT --helper " + name)
			if err != nil {
				t.Fatalf("%s/%s: %v", name, p, err)
			}
			err = b.check("raw", packet.Prerouting.Mask())
			want := strings.Contains(" "+protos+" ", " "+p+" ")
			if (err == nil) != want {
				t.Errorf("helper %s with -p %s: got %v, want accepted=%v", name, p, err, want)
			}
		}
	}
}

// TestCTValues checks the template the datapath reads.
func TestCTValues(t *testing.T) {
	for _, c := range []struct {
		spec string
		want CT
	}{
		{"-j CT --notrack", CT{Flags: CTNotrack}},
		{"-j CT --ctevents new,mark --expevents new", CT{CtEvents: 1<<0 | 1<<7, ExpEvents: 1}},
		{"-j CT --zone 7", CT{Zone: 7}},
		{"-j CT --zone-orig 6 --zone-reply 7", CT{Flags: CTZoneDirOrig | CTZoneDirRepl, Zone: 7}},
		{"-j CT --zone-reply mark", CT{Flags: CTZoneDirRepl | CTZoneMark}},
		{"-p tcp -j CT --helper aaaaaaaaaaaaaaaaaaaaaaaaaa", CT{Helper: "aaaaaaaaaaaaaaa"}},
		{"-j CT --timeout " + strings.Repeat("t", 40), CT{Timeout: strings.Repeat("t", 31)}},
	} {
		b, err := build(c.spec)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		if got := *b.tg.(*CT); got != c.want {
			t.Errorf("%s:\n got %+v\nwant %+v", c.spec, got, c.want)
		}
	}
}

// TestCTDumps round-trips the CT rules of the real dumps.
func TestCTDumps(t *testing.T) { runDumps(t, "CT", 2) }

// TestCTDo checks xt_ct_target: the template goes on a packet that has no
// conntrack attachment yet, and the first CT or NOTRACK rule wins.
func TestCTDo(t *testing.T) {
	type state struct {
		notrack, tmpl bool
		zone          uint16
		helper        string
	}
	get := func(p *packet.Packet) state { return state{p.NoTrack, p.HasTemplate, p.Zone, p.Helper} }
	for _, tc := range []struct {
		name  string
		specs []string // applied in order, as rules of the raw table
		mark  uint32
		want  state
	}{
		{"notrack", []string{"-j CT --notrack"}, 0, state{notrack: true, tmpl: true}},
		{"NOTRACK alias", []string{"-j NOTRACK"}, 0, state{notrack: true, tmpl: true}},
		{"zone", []string{"-j CT --zone 7"}, 0, state{tmpl: true, zone: 7}},
		{"both directions is one zone", []string{"-j CT --zone-orig 7 --zone-reply 7"}, 0, state{tmpl: true, zone: 7}},
		{"zone from the mark's low 16 bits", []string{"-j CT --zone mark"}, 0x12345, state{tmpl: true, zone: 0x2345}},
		{"helper", []string{"-p tcp -j CT --helper ftp"}, 0, state{tmpl: true, helper: "ftp"}},
		{"empty template", []string{"-j CT"}, 0, state{tmpl: true}},
		// The first rule's template stands.
		{"zone then notrack", []string{"-j CT --zone 5", "-j CT --notrack"}, 0, state{tmpl: true, zone: 5}},
		{"notrack then zone", []string{"-j CT --notrack", "-j CT --zone 5"}, 0, state{notrack: true, tmpl: true}},
		{"empty then helper", []string{"-j CT", "-p tcp -j CT --helper ftp"}, 0, state{tmpl: true}},
		{"zone then NOTRACK", []string{"-j CT --zone 0", "-j NOTRACK"}, 0, state{tmpl: true}},
	} {
		p := &packet.Packet{Mark: tc.mark}
		for _, spec := range tc.specs {
			d := doer(t, spec)
			if b, ok := d.(match.Binder); ok {
				if err := b.Bind(&match.Env{}); err != nil {
					t.Fatalf("%s: Bind: %v", tc.name, err)
				}
			}
			if v := d.Do(p); v != Continue {
				t.Errorf("%s: %s: verdict %v, want CONTINUE", tc.name, spec, v)
			}
		}
		if got := get(p); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
	// A packet that already has its conntrack entry is left alone.
	p := &packet.Packet{Conn: newConn(t, 0)}
	doer(t, "-j CT --notrack").Do(p)
	if p.NoTrack || p.HasTemplate {
		t.Errorf("CT on a tracked packet: NoTrack %v HasTemplate %v, want both false", p.NoTrack, p.HasTemplate)
	}
	for _, spec := range []string{"-j CT --notrack", "-j NOTRACK", "-p tcp -j CT --helper ftp --zone 3"} {
		d := doer(t, spec)
		p := &packet.Packet{}
		noAllocs(t, spec, func() { p.HasTemplate, p.NoTrack = false, false; d.Do(p) })
	}
}

// TestCTBind checks that what gofw's conntrack cannot honour is refused
// by name when the ruleset is compiled.
func TestCTBind(t *testing.T) {
	for _, tc := range []struct{ spec, err string }{
		{"-j CT --notrack --ctevents new", ""}, // --notrack: nothing else is looked at
		{"-p tcp -j CT --helper ftp", ""},
		{"-j CT --zone 3", ""},
		{"-j CT --zone mark", ""},
		{"-j CT --ctevents new,destroy", "CT: --ctevents is not supported: gofw's conntrack reports every event of every entry"},
		{"-j CT --expevents new", "CT: --expevents is not supported: gofw's conntrack reports every expectation event"},
		{"-p udp -j CT --timeout slow", "CT: --timeout slow is not supported: gofw has no conntrack timeout policies"},
		{"-j CT --zone-orig 3", "CT: --zone-orig is not supported: a gofw connection has one zone for both directions; use --zone"},
		{"-j CT --zone-reply mark", "CT: --zone-reply is not supported: a gofw connection has one zone for both directions; use --zone"},
		{"-p tcp -j CT --helper nosuch", "CT: --helper nosuch: no such conntrack helper"},
	} {
		err := mk(t, tc.spec).(match.Binder).Bind(&match.Env{})
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.err {
			t.Errorf("%s: Bind = %q, want %q", tc.spec, got, tc.err)
		}
	}
}
