package target

import (
	"testing"

	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/packet"
)

// logRows were checked against iptables-legacy 1.8.9 on Linux 6.18.
var logRows = []row{
	// libipt_LOG.t's lines.
	{"filter", packet.Input, "-j LOG", "-j LOG", " LOG level warn", " LOG flags 0 level 4", ""},
	{"filter", packet.Input, "-j LOG --log-prefix \"test: \"", "-j LOG --log-prefix \"test: \"", " LOG level warn prefix \"test: \"", " LOG flags 0 level 4 prefix \"test: \"", ""},
	{"filter", packet.Input, "-j LOG --log-prefix \"test: \" --log-level 1", "-j LOG --log-prefix \"test: \" --log-level 1", " LOG level alert prefix \"test: \"", " LOG flags 0 level 1 prefix \"test: \"", ""},
	{"filter", packet.Input, "-j LOG --log-prefix \"test: \" --log-level alert", "-j LOG --log-prefix \"test: \" --log-level 1", " LOG level alert prefix \"test: \"", " LOG flags 0 level 1 prefix \"test: \"", ""},
	{"filter", packet.Input, "-j LOG --log-prefix \"test: \" --log-tcp-sequence", "-j LOG --log-prefix \"test: \" --log-tcp-sequence", " LOG level warn tcp-sequence prefix \"test: \"", " LOG flags 1 level 4 prefix \"test: \"", ""},
	{"filter", packet.Input, "-j LOG --log-prefix \"test: \" --log-tcp-options", "-j LOG --log-prefix \"test: \" --log-tcp-options", " LOG level warn tcp-options prefix \"test: \"", " LOG flags 2 level 4 prefix \"test: \"", ""},
	{"filter", packet.Input, "-j LOG --log-prefix \"test: \" --log-ip-options", "-j LOG --log-prefix \"test: \" --log-ip-options", " LOG level warn ip-options prefix \"test: \"", " LOG flags 4 level 4 prefix \"test: \"", ""},
	{"filter", packet.Input, "-j LOG --log-prefix \"test: \" --log-uid", "-j LOG --log-prefix \"test: \" --log-uid", " LOG level warn uid prefix \"test: \"", " LOG flags 8 level 4 prefix \"test: \"", ""},
	{"filter", packet.Input, "-j LOG --log-prefix \"test: \" --log-level bad", "", "", "", "exit 2: log level \"bad\" unknown\n"},
	{"filter", packet.Input, "-j LOG --log-prefix", "", "", "", "generic"},
	// Levels: numbers 0-7 (C syntax) or syslog names; 4 is the default and not saved.
	{"filter", packet.Input, "-j LOG --log-level 4", "-j LOG", " LOG level warn", " LOG flags 0 level 4", ""},
	{"filter", packet.Input, "-j LOG --log-level warning", "-j LOG", " LOG level warn", " LOG flags 0 level 4", ""},
	{"filter", packet.Input, "-j LOG --log-level warn", "", "", "", "exit 2: log level \"warn\" unknown\n"},
	{"filter", packet.Input, "-j LOG --log-level err", "", "", "", "exit 2: log level \"err\" unknown\n"},
	{"filter", packet.Input, "-j LOG --log-level error", "-j LOG --log-level 3", " LOG level err", " LOG flags 0 level 3", ""},
	{"filter", packet.Input, "-j LOG --log-level panic", "-j LOG --log-level 0", " LOG level emerg", " LOG flags 0 level 0", ""},
	{"filter", packet.Input, "-j LOG --log-level emerg", "-j LOG --log-level 0", " LOG level emerg", " LOG flags 0 level 0", ""},
	{"filter", packet.Input, "-j LOG --log-level crit", "-j LOG --log-level 2", " LOG level crit", " LOG flags 0 level 2", ""},
	{"filter", packet.Input, "-j LOG --log-level notice", "-j LOG --log-level 5", " LOG level notice", " LOG flags 0 level 5", ""},
	{"filter", packet.Input, "-j LOG --log-level info", "-j LOG --log-level 6", " LOG level info", " LOG flags 0 level 6", ""},
	{"filter", packet.Input, "-j LOG --log-level debug", "-j LOG --log-level 7", " LOG level debug", " LOG flags 0 level 7", ""},
	{"filter", packet.Input, "-j LOG --log-level 0", "-j LOG --log-level 0", " LOG level emerg", " LOG flags 0 level 0", ""},
	{"filter", packet.Input, "-j LOG --log-level 2", "-j LOG --log-level 2", " LOG level crit", " LOG flags 0 level 2", ""},
	{"filter", packet.Input, "-j LOG --log-level 3", "-j LOG --log-level 3", " LOG level err", " LOG flags 0 level 3", ""},
	{"filter", packet.Input, "-j LOG --log-level 5", "-j LOG --log-level 5", " LOG level notice", " LOG flags 0 level 5", ""},
	{"filter", packet.Input, "-j LOG --log-level 6", "-j LOG --log-level 6", " LOG level info", " LOG flags 0 level 6", ""},
	{"filter", packet.Input, "-j LOG --log-level 7", "-j LOG --log-level 7", " LOG level debug", " LOG flags 0 level 7", ""},
	{"filter", packet.Input, "-j LOG --log-level 8", "", "", "", "exit 2: log level \"8\" unknown\n"},
	{"filter", packet.Input, "-j LOG --log-level 0x3", "-j LOG --log-level 3", " LOG level err", " LOG flags 0 level 3", ""},
	{"filter", packet.Input, "-j LOG --log-level 010", "", "", "", "exit 2: log level \"010\" unknown\n"},
	{"filter", packet.Input, "-j LOG --log-level 07", "-j LOG --log-level 7", " LOG level debug", " LOG flags 0 level 7", ""},
	{"filter", packet.Input, "-j LOG --log-level +3", "-j LOG --log-level 3", " LOG level err", " LOG flags 0 level 3", ""},
	{"filter", packet.Input, "-j LOG --log-level \" 3\"", "-j LOG --log-level 3", " LOG level err", " LOG flags 0 level 3", ""},
	{"filter", packet.Input, "-j LOG --log-level \"3 \"", "", "", "", "exit 2: log level \"3 \" unknown\n"},
	{"filter", packet.Input, "-j LOG --log-level \"\"", "", "", "", "exit 2: log level \"\" unknown\n"},
	{"filter", packet.Input, "-j LOG --log-level ALERT", "", "", "", "exit 2: log level \"ALERT\" unknown\n"},
	// Prefixes: at least one byte, cut to 29, quoted by xtables_save_string.
	{"filter", packet.Input, "-j LOG --log-prefix \"0123456789012345678901234567890123456789\"", "-j LOG --log-prefix 01234567890123456789012345678", " LOG level warn prefix \"01234567890123456789012345678\"", " LOG flags 0 level 4 prefix \"01234567890123456789012345678\"", ""},
	{"filter", packet.Input, "-j LOG --log-prefix \"01234567890123456789012345678\"", "-j LOG --log-prefix 01234567890123456789012345678", " LOG level warn prefix \"01234567890123456789012345678\"", " LOG flags 0 level 4 prefix \"01234567890123456789012345678\"", ""},
	{"filter", packet.Input, "-j LOG --log-prefix \"012345678901234567890123456789\"", "-j LOG --log-prefix 01234567890123456789012345678", " LOG level warn prefix \"01234567890123456789012345678\"", " LOG flags 0 level 4 prefix \"01234567890123456789012345678\"", ""},
	{"filter", packet.Input, "-j LOG --log-prefix \"\"", "", "", "", "exit 2: Argument must have a minimum length of 1 characters\n"},
	{"filter", packet.Input, "-j LOG --log-prefix plain_Name-1", "-j LOG --log-prefix plain_Name-1", " LOG level warn prefix \"plain_Name-1\"", " LOG flags 0 level 4 prefix \"plain_Name-1\"", ""},
	{"filter", packet.Input, "-j LOG --log-prefix a.b", "-j LOG --log-prefix \"a.b\"", " LOG level warn prefix \"a.b\"", " LOG flags 0 level 4 prefix \"a.b\"", ""},
	{"filter", packet.Input, "-j LOG --log-prefix \"it's\"", "-j LOG --log-prefix \"it\\'s\"", " LOG level warn prefix \"it's\"", " LOG flags 0 level 4 prefix \"it's\"", ""},
	{"filter", packet.Input, "-j LOG --log-prefix \"back\\slash\"", "-j LOG --log-prefix \"back\\\\slash\"", " LOG level warn prefix \"back\\slash\"", " LOG flags 0 level 4 prefix \"back\\slash\"", ""},
	// Flags: -L -n shows the bits, -L their names.
	{"filter", packet.Input, "-j LOG --log-tcp-sequence --log-tcp-options --log-ip-options --log-uid --log-macdecode --log-level 2 --log-prefix x", "-j LOG --log-prefix x --log-level 2 --log-tcp-sequence --log-tcp-options --log-ip-options --log-uid --log-macdecode", " LOG level crit tcp-sequence tcp-options ip-options uid macdecode prefix \"x\"", " LOG flags 47 level 2 prefix \"x\"", ""},
	{"filter", packet.Input, "-j LOG --log-macdecode", "-j LOG --log-macdecode", " LOG level warn macdecode", " LOG flags 32 level 4", ""},
	{"filter", packet.Input, "-j LOG --log-uid --log-uid", "", "", "", "generic"},
	{"filter", packet.Input, "-j LOG --log-prefix a --log-prefix b", "", "", "", "generic"},
	{"filter", packet.Input, "-j LOG ! --log-uid", "", "", "", "generic"},
	{"filter", packet.Input, "-j LOG --log-level 7 --log-uid --log-ip-options", "-j LOG --log-level 7 --log-ip-options --log-uid", " LOG level debug ip-options uid", " LOG flags 12 level 7", ""},
	// Any table and hook.
	{"nat", packet.Prerouting, "-j LOG --log-level 1", "-j LOG --log-level 1", " LOG level alert", " LOG flags 0 level 1", ""},
	{"raw", packet.Output, "-j LOG --log-level 1", "-j LOG --log-level 1", " LOG level alert", " LOG flags 0 level 1", ""},
	{"mangle", packet.Postrouting, "-j LOG --log-level 1", "-j LOG --log-level 1", " LOG level alert", " LOG flags 0 level 1", ""},
}

func TestLog(t *testing.T) { runRows(t, logRows) }

// TestLogConformance runs upstream's libipt_LOG.t.
func TestLogConformance(t *testing.T) { runTFile(t, "libipt_LOG.t") }

// TestLogDumps round-trips the LOG rules of the real dumps.
func TestLogDumps(t *testing.T) { runDumps(t, "LOG", 5) }

// TestLogNewline checks that a newline is refused anywhere in the prefix,
// also past the 29 bytes kept (LOG_parse tests the whole argument).
func TestLogNewline(t *testing.T) {
	for _, p := range []string{"a\nb", "0123456789012345678901234567890123\n"} {
		tg := logInfo.New()
		err := tg.Parse(&match.Arg{Name: "log-prefix", Value: p})
		if got, want := errText(err), "exit 2: Newlines not allowed in --log-prefix"; got != want {
			t.Errorf("%q: got %q, want %q", p, got, want)
		}
	}
}
