package target

import (
	"strconv"
	"strings"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/match"
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
