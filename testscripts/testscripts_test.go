// Package testscripts drives gofw's real programs through txtar scripts
// (testdata/*.txtar): every command, its output byte for byte as iptables
// prints it, its errors and exit codes.
package testscripts

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/gofw/gofw/cmd/cli"
	"github.com/gofw/gofw/cmd/cli/trace"
	"github.com/gofw/gofw/packet"
	"github.com/gofw/gofw/packet/pcap"
)

func TestMain(m *testing.M) {
	os.Exit(testscript.RunMain(m, map[string]func() int{
		"gofw":         cli.Gofw,
		"gofwd":        cli.Gofwd,
		"gofw-save":    cli.Save,
		"gofw-restore": cli.Restore,
		"gofw-trace":   trace.Main,
	}))
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata",
		Setup: func(e *testscript.Env) error {
			// Every script gets its own gofwd socket.
			e.Setenv("GOFW_SOCKET", e.WorkDir+"/gofw.sock")
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "root":
				return os.Geteuid() == 0, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// status N PROG ARGS... runs PROG and requires exit status N,
			// for iptables' distinction of 1 (failure), 2 (parameter
			// problem) and 3 (no such table).
			"status": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 2 {
					ts.Fatalf("usage: status N PROG [ARGS...]")
				}
				want, err := strconv.Atoi(args[0])
				if err != nil {
					ts.Fatalf("status: %v", err)
				}
				err = ts.Exec(args[1], args[2:]...)
				got := 0
				if ee, ok := err.(*exec.ExitError); ok {
					got = ee.ExitCode()
				} else if err != nil {
					ts.Fatalf("status: %v", err)
				}
				if (got == want) == neg {
					ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
				}
			},
			// nocomments FILE OUT writes FILE (or the last command's
			// "stdout") without its "#" lines, the save comments that
			// carry the time.
			"nocomments": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: nocomments FILE OUT")
				}
				var b strings.Builder
				for _, l := range strings.SplitAfter(ts.ReadFile(args[0]), "\n") {
					if l != "" && !strings.HasPrefix(l, "#") {
						b.WriteString(l)
					}
				}
				ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(b.String()), 0o644))
			},
			// hup sends SIGHUP to the gofwd this script started
			// (testscript's kill knows only INT and KILL).
			"hup": func(ts *testscript.TestScript, neg bool, args []string) {
				work := ts.Getenv("WORK")
				dirs, _ := os.ReadDir("/proc")
				n := 0
				for _, d := range dirs {
					pid, err := strconv.Atoi(d.Name())
					if err != nil {
						continue
					}
					cwd, _ := os.Readlink("/proc/" + d.Name() + "/cwd")
					cmd, _ := os.ReadFile("/proc/" + d.Name() + "/cmdline")
					argv0, _, _ := strings.Cut(string(cmd), "\x00")
					if cwd == work && filepath.Base(argv0) == "gofwd" {
						ts.Check(syscall.Kill(pid, syscall.SIGHUP))
						n++
					}
				}
				if n != 1 {
					ts.Fatalf("hup: found %d gofwd processes of this script, want 1", n)
				}
			},
			// sleep DURATION pauses the script (bounded to 5 s), for
			// gofwd to act on a signal.
			"sleep": func(ts *testscript.TestScript, neg bool, args []string) {
				d, err := time.ParseDuration(args[0])
				if err != nil || d > 5*time.Second {
					ts.Fatalf("sleep: want a duration up to 5s")
				}
				time.Sleep(d)
			},
			// mkpcap SPEC OUT writes the crafted packets of the spec file
			// SPEC (packet.ParseSpec's format) to the capture OUT: pcap,
			// or pcapng when a packet names its dev=. With "!" the spec
			// must fail to parse, and the error goes to stderr.
			"mkpcap": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: mkpcap SPEC OUT")
				}
				pkts, err := packet.ParseSpec(ts.ReadFile(args[0]))
				if neg {
					if err == nil {
						ts.Fatalf("mkpcap: %s parsed, want an error", args[0])
					}
					fmt.Fprintln(ts.Stderr(), err)
					return
				}
				if err != nil {
					ts.Fatalf("mkpcap: %s: %v", args[0], err)
				}
				ts.Check(pcap.WriteSpecFile(ts.MkAbs(args[1]), pkts))
			},
			// ctcmp FILE WANT compares conntrack output (listings,
			// events, JSON lines) with the real conntrack's.
			"ctcmp": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: ctcmp FILE WANT")
				}
				if err := ctCompare(ts.ReadFile(args[0]), ts.ReadFile(args[1])); (err == nil) == neg {
					if err == nil {
						ts.Fatalf("%s and %s match", args[0], args[1])
					}
					ts.Fatalf("%s differs from %s: %v", args[0], args[1], err)
				}
			},
			// waitsock PATH waits (at most 10 s) until gofwd listens.
			"waitsock": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 {
					ts.Fatalf("usage: waitsock PATH")
				}
				p := ts.MkAbs(args[0])
				for i := 0; i < 200; i++ {
					if fi, err := os.Stat(p); err == nil && fi.Mode()&os.ModeSocket != 0 {
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
				ts.Fatalf("%s did not appear in 10s", p)
			},
		},
	})
}

// Where the timeout is in a conntrack line: after the optional event tag,
// the optional "ipv4     2 " and the l4 name and number; or the JSON
// "timeout" member.
var (
	ctTextTimeout = regexp.MustCompile(`^((?:\s*\[[A-Z]+\] )?(?:ipv[46]\s+\d+ )?[a-z0-9-]+\s+\d+ )(\d+)( .*)?$`)
	ctJSONTimeout = regexp.MustCompile(`"timeout":(\d+)`)
	ctJSONID      = regexp.MustCompile(`,"id":\d+}$`)
	ctPortid      = regexp.MustCompile(` \[USERSPACE\] portid=\d+$`)
)

// ctLine splits a line into its text with the timeout (and, in JSON, the
// entry id) blanked out, and the timeout (-1 when the line has none).
func ctLine(l string) (string, int) {
	// The requester's id differs from run to run; that it is there is
	// compared.
	l = ctPortid.ReplaceAllString(l, " [USERSPACE] portid=<portid>")
	if m := ctTextTimeout.FindStringSubmatch(l); m != nil {
		n, _ := strconv.Atoi(m[2])
		return m[1] + "<timeout>" + m[3], n
	}
	if m := ctJSONTimeout.FindStringSubmatchIndex(l); m != nil && strings.HasPrefix(l, "{") {
		n, _ := strconv.Atoi(l[m[2]:m[3]])
		// The entry's id is random per gofwd; it is not compared.
		return ctJSONID.ReplaceAllString(l[:m[2]]+"<timeout>"+l[m[3]:], `,"id":<id>}`), n
	}
	return l, -1
}

// ctCompare compares conntrack output with a golden one printed by the
// real conntrack for the same entries: the lines may come in any order
// (both list in hash order), and each entry's timeout may differ from the
// golden one by up to 60 s (timeouts count down while a script runs, with
// one process start per command, and the oracle ran at its own pace; the
// exact values are unit-tested with an injected clock).
func ctCompare(got, want string) error {
	type line struct {
		text    string
		timeout int
	}
	split := func(s string) []line {
		var out []line
		for _, l := range strings.SplitAfter(s, "\n") {
			if l == "" {
				continue
			}
			t, n := ctLine(strings.TrimSuffix(l, "\n"))
			if !strings.HasSuffix(l, "\n") {
				t += " (no newline at end)"
			}
			out = append(out, line{t, n})
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].text < out[j].text })
		return out
	}
	g, w := split(got), split(want)
	if len(g) != len(w) {
		return fmt.Errorf("%d lines, want %d:\n%s", len(g), len(w), got)
	}
	for i := range g {
		if g[i].text != w[i].text {
			return fmt.Errorf("line\n\t%s\nwant\n\t%s", g[i].text, w[i].text)
		}
		if d := w[i].timeout - g[i].timeout; d > 60 || d < -60 {
			return fmt.Errorf("timeout %d, want %d (±60 s): %s", g[i].timeout, w[i].timeout, g[i].text)
		}
	}
	return nil
}
