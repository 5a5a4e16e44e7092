package grammar

import (
	"fmt"
	"strconv"
	"strings"
)

// Exit codes, as iptables uses them.
const (
	ExitOK        = 0
	ExitFailure   = 1 // the operation failed (iptables: "other problem")
	ExitParameter = 2 // the command line is wrong (PARAMETER_PROBLEM)
	ExitVersion   = 3 // table cannot be initialised (VERSION_PROBLEM)
)

// Error is a user-facing failure with the exit code iptables would use.
//
// Param errors print as "gofw vX (legacy): <Msg>" followed by the "Try ..."
// hint, runtime errors as "gofw: <Msg>." — the caller formats, this type only
// classifies. Arg is the 1-based index of the offending argument (0: none),
// Line the restore-file line (0: not from a file).
type Error struct {
	Code int
	Msg  string
	Arg  int
	Line int
	// Blank asks for an empty line between the message and the hint, as
	// iptables prints for messages that end with a newline (xtables_error
	// callers pass "...\n").
	Blank bool
	// Bare messages are printed without the "prog vX:" prefix, as
	// iptables prints "Bad argument `x'".
	Bare bool
}

func (e *Error) Error() string { return e.Msg }

// Paramf returns a parameter problem (exit 2).
func Paramf(format string, a ...any) *Error {
	return &Error{Code: ExitParameter, Msg: fmt.Sprintf(format, a...)}
}

// ParamNLf returns a parameter problem whose message iptables prints with a
// trailing newline (so an empty line precedes the "Try" hint).
func ParamNLf(format string, a ...any) *Error {
	return &Error{Code: ExitParameter, Msg: fmt.Sprintf(format, a...), Blank: true}
}

// Failf returns an operation failure (exit 1). Msg is iptables' text without
// the program name, e.g. "No chain/target/match by that name".
func Failf(format string, a ...any) *Error {
	return &Error{Code: ExitFailure, Msg: fmt.Sprintf(format, a...)}
}

// AtArg records which argument an error is about, if not yet known.
func (e *Error) AtArg(i int) *Error {
	if e.Arg == 0 {
		e.Arg = i
	}
	return e
}

// Format renders e the way prog prints it on stderr, in iptables' layout:
// parameter problems with the version prefix and the "Try" hint (and, for a
// restore, the line), failures as "prog: message." in one line.
func (e *Error) Format(prog, version string) string {
	var b strings.Builder
	restore := strings.HasSuffix(prog, "-restore")
	switch e.Code {
	case ExitParameter:
		if !e.Bare {
			b.WriteString(prog + " v" + version + ": ")
		}
		b.WriteString(e.Msg)
		b.WriteByte('\n')
		if e.Blank {
			b.WriteByte('\n')
		}
		if restore && e.Line > 0 {
			b.WriteString("Error occurred at line: " + strconv.Itoa(e.Line) + "\n")
		}
		b.WriteString("Try `" + prog + " -h' or '" + prog + " --help' for more information.\n")
	case ExitVersion:
		b.WriteString(prog + " v" + version + ": " + e.Msg + "\n")
	default:
		b.WriteString(prog + ": " + e.Msg)
		if !restore && !strings.HasSuffix(e.Msg, ".") {
			b.WriteByte('.')
		}
		b.WriteByte('\n')
	}
	return b.String()
}
