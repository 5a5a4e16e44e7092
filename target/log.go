package target

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/match"
)

// logInfo is the LOG target (libxt_LOG.c, xt_LOG.c / nf_log_syslog.c): log
// the packet's headers with a prefix at a syslog level, then continue.
var logInfo = &Info{
	Name: "LOG",
	Opts: []match.Opt{
		{Name: "log-level", Arg: true},
		{Name: "log-prefix", Arg: true},
		{Name: "log-tcp-sequence"},
		{Name: "log-tcp-options"},
		{Name: "log-ip-options"},
		{Name: "log-uid"},
		{Name: "log-macdecode"},
	},
	New: func() Target { return &Log{Level: logDefaultLevel} },
}

// LogFlags selects the optional parts of a LOG line, with the kernel's
// XT_LOG_* bit values (xt_LOG.h): -L -n prints them as a number.
type LogFlags uint8

// The LOG flags.
const (
	LogTCPSequence LogFlags = 0x01 // XT_LOG_TCPSEQ
	LogTCPOptions  LogFlags = 0x02 // XT_LOG_TCPOPT
	LogIPOptions   LogFlags = 0x04 // XT_LOG_IPOPT
	LogUID         LogFlags = 0x08 // XT_LOG_UID
	LogMACDecode   LogFlags = 0x20 // XT_LOG_MACDECODE (0x10 was XT_LOG_NFLOG)
)

// logDefaultLevel is LOG_WARNING, which iptables-save leaves out.
const logDefaultLevel = 4

// logPrefixSize is sizeof(xt_log_info.prefix): longer prefixes are cut to
// 29 bytes without a word.
const logPrefixSize = 30

// Log is one LOG target.
type Log struct {
	Level  uint8 // syslog priority, 0 (emerg) to 7 (debug)
	Flags  LogFlags
	Prefix string
}

// logLevelNames are the names xtopt_parse_sysloglevel accepts, matched
// case-sensitively ("error" and "panic" are deprecated spellings).
var logLevelNames = map[string]uint8{
	"alert": 1, "crit": 2, "debug": 7, "emerg": 0, "error": 3,
	"info": 6, "notice": 5, "panic": 0, "warning": 4,
}

// logLevelText is what LOG_print shows without -n: the first name glibc's
// prioritynames table has for each level.
var logLevelText = [8]string{"emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"}

// logFlagOrder is the order LOG_save and LOG_print list the flags in.
var logFlagOrder = []struct {
	f    LogFlags
	name string
}{
	{LogTCPSequence, "tcp-sequence"},
	{LogTCPOptions, "tcp-options"},
	{LogIPOptions, "ip-options"},
	{LogUID, "uid"},
	{LogMACDecode, "macdecode"},
}

// Parse implements Target.
func (t *Log) Parse(a *match.Arg) error {
	switch a.Name {
	case "log-level":
		if v, ok := match.XtUint(a.Value, 0, 7); ok {
			t.Level = uint8(v)
			return nil
		}
		l, ok := logLevelNames[a.Value]
		if !ok {
			return grammar.ParamNLf("log level \"%s\" unknown", a.Value)
		}
		t.Level = l
	case "log-prefix":
		p, err := match.XtString(a.Value, 1, logPrefixSize)
		if err != nil {
			return err
		}
		// LOG_parse refuses a newline anywhere in the argument, also past
		// the cut: it would split the kernel's log line.
		if strings.IndexByte(a.Value, '\n') >= 0 {
			return grammar.Paramf("Newlines not allowed in --log-prefix")
		}
		t.Prefix = p
	default:
		for _, f := range logFlagOrder {
			if a.Name == "log-"+f.name {
				t.Flags |= f.f
			}
		}
	}
	return nil
}

// Final implements Target.
func (t *Log) Final(*match.Rule) error { return nil }

// Save implements Target.
func (t *Log) Save(b *strings.Builder) {
	if t.Prefix != "" {
		b.WriteString(" --log-prefix ")
		match.SaveString(b, t.Prefix)
	}
	if t.Level != logDefaultLevel {
		b.WriteString(" --log-level ")
		b.WriteString(strconv.Itoa(int(t.Level)))
	}
	for _, f := range logFlagOrder {
		if t.Flags&f.f != 0 {
			b.WriteString(" --log-")
			b.WriteString(f.name)
		}
	}
}

// Print implements Target. With -n iptables shows the raw flag bits and
// level; otherwise the level's name and each flag's name.
func (t *Log) Print(b *strings.Builder, numeric bool) {
	b.WriteString(" LOG")
	if numeric {
		fmt.Fprintf(b, " flags %d level %d", t.Flags, t.Level)
	} else {
		b.WriteString(" level ")
		b.WriteString(logLevelText[t.Level&7])
		for _, f := range logFlagOrder {
			if t.Flags&f.f != 0 {
				b.WriteByte(' ')
				b.WriteString(f.name)
			}
		}
	}
	if t.Prefix != "" {
		b.WriteString(" prefix \"")
		b.WriteString(t.Prefix)
		b.WriteByte('"')
	}
}
