package target

import (
	"strconv"
	"strings"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
)

// nflogInfo is the NFLOG target (libxt_NFLOG.c, xt_NFLOG.c): hand the
// packet to nfnetlink_log listeners of a group, then continue.
var nflogInfo = &Info{
	Name: "NFLOG",
	Opts: []match.Opt{
		{Name: "nflog-group", Arg: true},
		{Name: "nflog-prefix", Arg: true},
		{Name: "nflog-range", Arg: true},
		{Name: "nflog-size", Arg: true},
		{Name: "nflog-threshold", Arg: true},
	},
	New: func() Target { return &NFLog{} },
}

// nflogRules is NFLOG_opts as xtables_options_fcheck reads it: the old
// --nflog-range and its replacement --nflog-size set the same field.
var nflogRules = []match.XtOptRule{
	{Name: "nflog-range", Excl: []string{"nflog-size"}},
	{Name: "nflog-size", Excl: []string{"nflog-range"}},
}

// NFLogFlags are xt_nflog_info's flags.
type NFLogFlags uint16

// NFLogCopyLen (XT_NFLOG_F_COPY_LEN) makes Len the number of bytes to copy
// (--nflog-size). Without it a non-zero Len came from --nflog-range, which
// the kernel has never honoured; it is kept only to print it back.
const NFLogCopyLen NFLogFlags = 0x1

// nflogPrefixSize is sizeof(xt_nflog_info.prefix): the prefix is cut to 63
// bytes without a word.
const nflogPrefixSize = 64

// NFLog is one NFLOG target.
type NFLog struct {
	Group     uint16
	Len       uint32
	Threshold uint16 // packets queued in the kernel before a send; 0 is the default
	Flags     NFLogFlags
	Prefix    string

	seen given
	sink logSink
	head string // "NFLOG group=N ", made by Bind
}

// Parse implements Target.
func (t *NFLog) Parse(a *match.Arg) error {
	switch a.Name {
	case "nflog-group":
		v, err := match.XtParseUint("NFLOG", a.Name, a.Value, 0, 0xffff)
		if err != nil {
			return err
		}
		t.Group = uint16(v)
	case "nflog-prefix":
		p, err := match.XtString(a.Value, 1, nflogPrefixSize)
		if err != nil {
			return err
		}
		// NFLOG_parse uses LOG's wording.
		if strings.IndexByte(a.Value, '\n') >= 0 {
			return grammar.Paramf("Newlines not allowed in --log-prefix")
		}
		t.Prefix = p
	case "nflog-range", "nflog-size":
		v, err := match.XtParseUint("NFLOG", a.Name, a.Value, 0, 0xffffffff)
		if err != nil {
			return err
		}
		t.Len = uint32(v)
	case "nflog-threshold":
		v, err := match.XtParseUint("NFLOG", a.Name, a.Value, 0, 0xffff)
		if err != nil {
			return err
		}
		t.Threshold = uint16(v)
	}
	t.seen.add(a.Name)
	return nil
}

// Final implements Target: --nflog-size sets XT_NFLOG_F_COPY_LEN, as
// NFLOG_check does. iptables also warns on stderr that --nflog-range has no
// effect; gofw has no channel for warnings and keeps it silent.
func (t *NFLog) Final(*match.Rule) error {
	if t.seen["nflog-size"] {
		t.Flags |= NFLogCopyLen
	}
	return match.XtFcheck("NFLOG", nflogRules, t.seen)
}

func (t *NFLog) write(b *strings.Builder, pfx string) {
	if t.Prefix != "" {
		b.WriteString(" " + pfx + "nflog-prefix ")
		match.SaveString(b, t.Prefix)
	}
	if t.Group != 0 {
		b.WriteString(" " + pfx + "nflog-group ")
		b.WriteString(strconv.Itoa(int(t.Group)))
	}
	if t.Flags&NFLogCopyLen != 0 {
		b.WriteString(" " + pfx + "nflog-size ")
		b.WriteString(strconv.FormatUint(uint64(t.Len), 10))
	} else if t.Len != 0 {
		b.WriteString(" " + pfx + "nflog-range ")
		b.WriteString(strconv.FormatUint(uint64(t.Len), 10))
	}
	if t.Threshold != 0 {
		b.WriteString(" " + pfx + "nflog-threshold ")
		b.WriteString(strconv.Itoa(int(t.Threshold)))
	}
}

// Save implements Target.
func (t *NFLog) Save(b *strings.Builder) { t.write(b, "--") }

// Print implements Target: the same words without dashes (nflog_print).
func (t *NFLog) Print(b *strings.Builder, numeric bool) { t.write(b, "") }

// nflogFlags are the flags nf_log_syslog.c's dump_ipv4_packet uses for a
// logger call that is not NF_LOG_TYPE_LOG (NF_LOG_DEFAULT_MASK: TCP
// sequence and options, IP options, UID); its dump_mac_header then uses
// none, so no --log-macdecode form.
const nflogFlags = LogTCPSequence | LogTCPOptions | LogIPOptions | LogUID

// nflogLevel is the level NFLOG lines go to Env.LogRecord with: LOG_NOTICE,
// nf_log.c's default_loginfo level, since NFLOG has none of its own.
const nflogLevel = 5

// Bind implements match.Binder: the rule logs to the engine's sink.
func (t *NFLog) Bind(env *match.Env) error {
	t.sink.bind(env)
	t.head = "NFLOG group=" + strconv.Itoa(int(t.Group)) + " "
	return nil
}

// Do implements Doer. xt_NFLOG.c nflog_tg hands the packet to the
// nfnetlink_log listeners of the group and continues. gofw cannot feed a
// kernel NFLOG group: nfnetlink_log groups are filled by the kernel's own
// nf_log_packet calls, and there is no netlink message with which a user
// space program injects a packet into one (ulogd and other listeners only
// receive). So gofw writes a line to its log instead: "NFLOG group=N ",
// the prefix, then what nf_log_syslog.c would print for the packet with
// NF_LOG_DEFAULT_MASK (the flags it uses for a non-LOG logger call). The
// line goes to Env.LogRecord at LOG_NOTICE, or to Env.Log.
// --nflog-size, --nflog-range and --nflog-threshold govern how much of the
// packet nfnetlink_log copies and how it batches messages; a text line
// carries no payload and is written at once, so they change nothing in
// it. Called for every packet that reaches the rule; it does not allocate
// when the sink is Env.LogRecord.
func (t *NFLog) Do(p *packet.Packet) Verdict {
	if p.Family == 4 {
		t.sink.deliver(p, nflogLevel, t.head, t.Prefix, nflogFlags, 0)
	}
	return Continue
}
