package target

import (
	"strings"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
)

// rejectInfo is the REJECT target (libipt_REJECT.c, ipt_REJECT.c): drop the
// packet and answer with an ICMP error or a TCP RST. The kernel registers it
// for the filter table's INPUT, FORWARD and OUTPUT hooks only.
var rejectInfo = &Info{
	Name:  "REJECT",
	Opts:  []match.Opt{{Name: "reject-with", Arg: true}},
	New:   func() Target { return &Reject{With: RejectPortUnreachable} },
	Table: "filter",
	Hooks: packet.Input.Mask() | packet.Forward.Mask() | packet.Output.Mask(),
}

// RejectWith is the reply REJECT sends, numbered as the kernel's
// enum ipt_reject_with so the value reads the same as in ipt_REJECT.c.
type RejectWith uint8

// The reply types. 4 was IPT_ICMP_ECHOREPLY, refused since Linux 2.4.
const (
	RejectNetUnreachable   RejectWith = 0 // ICMP_NET_UNREACH
	RejectHostUnreachable  RejectWith = 1 // ICMP_HOST_UNREACH
	RejectProtoUnreachable RejectWith = 2 // ICMP_PROT_UNREACH
	RejectPortUnreachable  RejectWith = 3 // ICMP_PORT_UNREACH, the default
	RejectNetProhibited    RejectWith = 5 // ICMP_NET_ANO
	RejectHostProhibited   RejectWith = 6 // ICMP_HOST_ANO
	RejectTCPReset         RejectWith = 7 // a TCP RST (nf_send_reset)
	RejectAdminProhibited  RejectWith = 8 // ICMP_PKT_FILTERED
)

// rejectNames is libipt_REJECT's reject_table, indexed by RejectWith: the
// name iptables prints and the alias it also accepts. The order is the
// order REJECT_parse tries them in.
var rejectNames = [...]struct{ name, alias string }{
	RejectNetUnreachable:   {"icmp-net-unreachable", "net-unreach"},
	RejectHostUnreachable:  {"icmp-host-unreachable", "host-unreach"},
	RejectProtoUnreachable: {"icmp-proto-unreachable", "proto-unreach"},
	RejectPortUnreachable:  {"icmp-port-unreachable", "port-unreach"},
	RejectNetProhibited:    {"icmp-net-prohibited", "net-prohib"},
	RejectHostProhibited:   {"icmp-host-prohibited", "host-prohib"},
	RejectTCPReset:         {"tcp-reset", "tcp-rst"},
	RejectAdminProhibited:  {"icmp-admin-prohibited", "admin-prohib"},
}

// Reject is one REJECT target.
type Reject struct {
	With RejectWith
}

// hasPrefixFold reports whether arg is a case-insensitive prefix of name,
// which is what strncasecmp(name, arg, strlen(arg)) == 0 tests.
func hasPrefixFold(name, arg string) bool {
	return len(arg) <= len(name) && strings.EqualFold(name[:len(arg)], arg)
}

// Parse implements Target. Like REJECT_parse it takes the first type whose
// name or alias starts with the argument, ignoring case, so "icmp-h" is
// icmp-host-unreachable and "" is icmp-net-unreachable.
func (t *Reject) Parse(a *match.Arg) error {
	for i, n := range rejectNames {
		if n.name == "" {
			continue
		}
		if hasPrefixFold(n.name, a.Value) || hasPrefixFold(n.alias, a.Value) {
			t.With = RejectWith(i)
			return nil
		}
	}
	return grammar.Paramf("unknown reject type \"%s\"", a.Value)
}

// Final implements Target.
func (t *Reject) Final(*match.Rule) error { return nil }

// Check implements match.Checker: a TCP reset only makes sense for a rule
// that matches TCP alone (ipt_REJECT.c reject_tg_check).
func (t *Reject) Check(w *match.Where) error {
	if t.With == RejectTCPReset && (w.Proto != packet.ProtoTCP || w.InvProto) {
		return kernelEINVAL("ipt_REJECT: TCP_RESET invalid for non-tcp")
	}
	return nil
}

// Save implements Target.
func (t *Reject) Save(b *strings.Builder) {
	b.WriteString(" --reject-with ")
	b.WriteString(rejectNames[t.With].name)
}

// Print implements Target.
func (t *Reject) Print(b *strings.Builder, numeric bool) {
	b.WriteString(" reject-with ")
	b.WriteString(rejectNames[t.With].name)
}
