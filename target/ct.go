package target

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
)

// ctInfo is the CT target, revision 2 (libxt_CT.c ct_*_v1, xt_CT.c): set
// up the conntrack template a new connection starts from (helper, zone,
// event masks) or leave the packet untracked. The kernel allows it in the
// raw table only.
var ctInfo = &Info{
	Name: "CT",
	Opts: []match.Opt{
		{Name: "notrack"},
		{Name: "helper", Arg: true},
		{Name: "timeout", Arg: true},
		{Name: "ctevents", Arg: true},
		{Name: "expevents", Arg: true},
		{Name: "zone-orig", Arg: true},
		{Name: "zone-reply", Arg: true},
		{Name: "zone", Arg: true},
	},
	New:   func() Target { return &CT{} },
	Table: "raw",
}

// CTFlags are xt_ct_target_info_v1's flags (XT_CT_*).
type CTFlags uint16

// The CT flags.
const (
	CTNotrack     CTFlags = 0x01 // leave the packet untracked
	CTZoneDirOrig CTFlags = 0x04 // the zone applies to the original direction
	CTZoneDirRepl CTFlags = 0x08 // the zone applies to the reply direction
	CTZoneMark    CTFlags = 0x10 // the zone is the packet mark
)

// ctHelperSize and ctTimeoutSize are the sizes of xt_ct_target_info_v1's
// helper and timeout fields: longer names are cut without a word. (Linux
// 6.18 hands back only the first 32 bytes of revisions 1 and 2, its
// .usersize being v0's, so iptables-save shows at most 4 bytes of a
// timeout name; gofw prints what it stores rather than that kernel bug.)
const (
	ctHelperSize  = 16
	ctTimeoutSize = 32
)

// ctEvent is one row of libxt_CT's event tables: a name and its bit, the
// kernel's IPCT_* / IPEXP_* number. Print lists set bits in table order.
type ctEvent struct {
	name string
	bit  uint8
}

var ctEvents = []ctEvent{
	{"new", 0}, {"related", 1}, {"destroy", 2}, {"reply", 3},
	{"assured", 4}, {"protoinfo", 5}, {"helper", 6}, {"mark", 7},
	{"natseqinfo", 8}, {"secmark", 9},
}

var ctExpEvents = []ctEvent{{"new", 0}}

// ctHelpers are the conntrack helpers Linux registers for IPv4, with the
// protocols each is registered for (checked with iptables on Linux 6.18;
// nf_conntrack_helper_try_module_get matches the name exactly and the
// protocol of the rule's -p).
var ctHelpers = map[string][]uint8{
	"ftp":        {packet.ProtoTCP},
	"irc":        {packet.ProtoTCP},
	"sip":        {packet.ProtoTCP, packet.ProtoUDP},
	"tftp":       {packet.ProtoUDP},
	"amanda":     {packet.ProtoUDP},
	"RAS":        {packet.ProtoUDP},
	"Q.931":      {packet.ProtoTCP},
	"H.245":      {packet.ProtoUDP},
	"pptp":       {packet.ProtoTCP},
	"sane":       {packet.ProtoTCP},
	"snmp":       {packet.ProtoUDP},
	"snmp_trap":  {packet.ProtoUDP},
	"netbios-ns": {packet.ProtoUDP},
}

// CT is one CT target.
type CT struct {
	Flags     CTFlags
	Zone      uint16 // valid unless CTZoneMark
	Helper    string // "" for none
	Timeout   string // "" for none
	CtEvents  uint32 // 1<<IPCT_* bits; 0 keeps the default (all events)
	ExpEvents uint32 // 1<<IPEXP_* bits
}

func parseCTEvents(tbl []ctEvent, arg string) (uint32, error) {
	var mask uint32
	for _, e := range strings.Split(arg, ",") {
		found := false
		for _, t := range tbl {
			if t.name == e {
				mask |= 1 << t.bit
				found = true
				break
			}
		}
		if !found {
			return 0, grammar.Paramf("Unknown event type \"%s\"", e)
		}
	}
	return mask, nil
}

// Parse implements Target.
func (t *CT) Parse(a *match.Arg) error {
	var err error
	switch a.Name {
	case "notrack":
		t.Flags |= CTNotrack
	case "helper":
		t.Helper, err = match.XtString(a.Value, 0, ctHelperSize)
	case "timeout":
		t.Timeout, err = match.XtString(a.Value, 0, ctTimeoutSize)
	case "ctevents":
		t.CtEvents, err = parseCTEvents(ctEvents, a.Value)
	case "expevents":
		t.ExpEvents, err = parseCTEvents(ctExpEvents, a.Value)
	case "zone", "zone-orig", "zone-reply":
		// ct_parse_zone_id: the direction bits add up, so --zone-orig and
		// --zone-reply together mean both directions, and "mark" stays
		// set once given.
		switch a.Name {
		case "zone-orig":
			t.Flags |= CTZoneDirOrig
		case "zone-reply":
			t.Flags |= CTZoneDirRepl
		}
		t.Zone = 0
		if strings.EqualFold(a.Value, "mark") {
			t.Flags |= CTZoneMark
			return nil
		}
		v, ok := match.XtUint(a.Value, 0, 0xffff)
		if !ok {
			return grammar.Paramf("Cannot parse %s as a zone ID", a.Value)
		}
		t.Zone = uint16(v)
	}
	return err
}

// Final implements Target.
func (t *CT) Final(*match.Rule) error { return nil }

// Check implements match.Checker with xt_CT.c's xt_ct_tg_check: nothing
// is checked for --notrack; a helper or timeout needs a -p that is not
// inverted; the helper must exist for that protocol. gofw has no
// conntrack timeout policies (nfct timeout objects), so a --timeout always
// fails as it does in a kernel where none is defined.
func (t *CT) Check(w *match.Where) error {
	if t.Flags&CTNotrack != 0 {
		return nil
	}
	proto := w.Proto
	if w.InvProto {
		proto = 0
	}
	const noProto = "xt_CT: You must specify a L4 protocol and not use inversions on it"
	if t.Helper != "" {
		if proto == 0 {
			return kernelENOENT(noProto)
		}
		found := false
		for _, p := range ctHelpers[t.Helper] {
			found = found || p == proto
		}
		if !found {
			return kernelENOENT("xt_CT: No such helper \"" + t.Helper + "\"")
		}
	}
	if t.Timeout != "" {
		if proto == 0 {
			return kernelEINVAL(noProto)
		}
		return kernelENOENT("No such timeout policy \"" + t.Timeout + "\"")
	}
	return nil
}

func ctEventText(b *strings.Builder, name string, tbl []ctEvent, mask uint32) {
	b.WriteString(" " + name + " ")
	sep := ""
	for _, e := range tbl {
		if mask&(1<<e.bit) != 0 {
			b.WriteString(sep + e.name)
			sep = ","
		}
	}
}

// write appends ct_print_v1 / ct_save_v1's text after pfx.
func (t *CT) write(b *strings.Builder, pfx string) {
	if t.Flags&CTNotrack != 0 {
		b.WriteString(" " + pfx + "notrack")
	}
	if t.Helper != "" {
		b.WriteString(" " + pfx + "helper " + t.Helper)
	}
	if t.Timeout != "" {
		b.WriteString(" " + pfx + "timeout " + t.Timeout)
	}
	if t.CtEvents != 0 {
		ctEventText(b, pfx+"ctevents", ctEvents, t.CtEvents)
	}
	if t.ExpEvents != 0 {
		ctEventText(b, pfx+"expevents", ctExpEvents, t.ExpEvents)
	}
	// Zone 0 without "mark" is the default zone and is not printed, even
	// with a direction.
	if t.Flags&CTZoneMark != 0 || t.Zone != 0 {
		b.WriteString(" " + pfx + "zone")
		switch t.Flags & (CTZoneDirOrig | CTZoneDirRepl) {
		case CTZoneDirOrig:
			b.WriteString("-orig")
		case CTZoneDirRepl:
			b.WriteString("-reply")
		}
		if t.Flags&CTZoneMark != 0 {
			b.WriteString(" mark")
		} else {
			b.WriteString(" " + strconv.Itoa(int(t.Zone)))
		}
	}
}

// Save implements Target.
func (t *CT) Save(b *strings.Builder) { t.write(b, "--") }

// Print implements Target.
func (t *CT) Print(b *strings.Builder, numeric bool) {
	b.WriteString(" CT")
	t.write(b, "")
}

// Bind implements match.Binder. It refuses, by name, what gofw's
// conntrack cannot honour, so that no rule is accepted and then ignored:
// event masks (the kernel's ecache extension of the template; gofw's
// entries report every event), timeout policies (no nfct timeout objects),
// and a zone for one direction only (a gofw entry has one zone for both
// tuples). The helper must be one the kernel registers (ctHelpers), the
// same list Check holds it to with the rule's protocol.
func (t *CT) Bind(*match.Env) error {
	if t.Flags&CTNotrack != 0 {
		// xt_ct_tg_check returns before looking at anything else.
		return nil
	}
	switch {
	case t.CtEvents != 0:
		return fmt.Errorf("CT: --ctevents is not supported: gofw's conntrack reports every event of every entry")
	case t.ExpEvents != 0:
		return fmt.Errorf("CT: --expevents is not supported: gofw's conntrack reports every expectation event")
	case t.Timeout != "":
		return fmt.Errorf("CT: --timeout %s is not supported: gofw has no conntrack timeout policies", t.Timeout)
	}
	if d := t.Flags & (CTZoneDirOrig | CTZoneDirRepl); d == CTZoneDirOrig || d == CTZoneDirRepl {
		opt := "--zone-orig"
		if d == CTZoneDirRepl {
			opt = "--zone-reply"
		}
		return fmt.Errorf("CT: %s is not supported: a gofw connection has one zone for both directions; use --zone", opt)
	}
	if t.Helper != "" {
		if _, ok := ctHelpers[t.Helper]; !ok {
			return fmt.Errorf("CT: --helper %s: no such conntrack helper", t.Helper)
		}
		// The kernel has more helpers than gofw implements: refuse the
		// others rather than attach a helper that would do nothing.
		if !conntrack.HelperKnown(t.Helper) {
			return fmt.Errorf("CT: --helper %s: gofw implements the ftp and tftp helpers only", t.Helper)
		}
	}
	return nil
}

// Do implements Doer as xt_CT.c xt_ct_target: the packet gets the rule's
// template (zone and helper, which the conntrack stage gives the new
// entry) or is left untracked, unless it already has a conntrack
// attachment or a template, in which case the first CT rule it met stands
// ("Previously seen (loopback)? Ignore."). With --zone mark the zone is
// the low 16 bits of the packet mark when this rule runs; the kernel reads
// the mark a little later, when conntrack looks the packet up
// (nf_ct_zone_tmpl), which differs only if a later raw rule changes the
// mark. Called for every packet; must not allocate.
func (t *CT) Do(p *packet.Packet) Verdict {
	if p.Conn != nil || p.HasTemplate || p.NoTrack {
		return Continue
	}
	p.HasTemplate = true
	if t.Flags&CTNotrack != 0 {
		p.NoTrack = true
		return Continue
	}
	p.Zone = t.Zone
	if t.Flags&CTZoneMark != 0 {
		p.Zone = uint16(p.Mark)
	}
	p.Helper = t.Helper
	return Continue
}
