package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/gofw/gofw/ruleset"
)

// Gofw runs gofw with os.Args and returns the exit code.
func Gofw() int {
	code := 0
	app := &cli.App{
		Name:  "gofw",
		Usage: "iptables-compatible firewall: manage gofwd's rules",
		// iptables' options are positional (a module's options follow
		// its -m), so the rule spec goes to gofw's own grammar untouched.
		SkipFlagParsing: true,
		HideHelp:        true,
		HideVersion:     true,
		Action: func(c *cli.Context) error {
			args, socket := socketArg(c.Args().Slice())
			if len(args) > 0 && args[0] == "conntrack" {
				// conntrack-tools' command line, not iptables'.
				code = Conntrack(ruleset.SocketPath(socket), args[1:], os.Stdout, os.Stderr)
				return nil
			}
			if len(args) > 0 && args[0] == "trace" {
				code = execTrace(args[1:]) // offline: no gofwd
				return nil
			}
			cl := &ruleset.Client{Prog: "gofw", Socket: ruleset.SocketPath(socket), Stdout: os.Stdout, Stderr: os.Stderr}
			code = cl.Iptables(args)
			return nil
		},
	}
	if err := app.Run(os.Args); err != nil {
		os.Stderr.WriteString("gofw: " + err.Error() + "\n")
		return 1
	}
	return code
}

// socketArg takes gofw's own --socket PATH out of an iptables command line.
func socketArg(args []string) ([]string, string) {
	var out []string
	socket := ""
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--socket" && i+1 < len(args):
			socket = args[i+1]
			i++
		case len(a) > 9 && a[:9] == "--socket=":
			socket = a[9:]
		default:
			out = append(out, a)
		}
	}
	return out, socket
}

// execTrace runs "gofw trace" as the program gofw-trace, found beside gofw
// or else on $PATH, the way git runs its subcommands: only gofw-trace links
// the capture reader, whose start-up would otherwise slow every gofw run.
func execTrace(args []string) int {
	path := ""
	if exe, err := os.Executable(); err == nil {
		if p := filepath.Join(filepath.Dir(exe), "gofw-trace"); fileExists(p) {
			path = p
		}
	}
	if path == "" {
		p, err := exec.LookPath("gofw-trace")
		if err != nil {
			os.Stderr.WriteString("gofw: trace: gofw-trace is not installed beside gofw nor on $PATH (make install puts it there)\n")
			return 1
		}
		path = p
	}
	err := syscall.Exec(path, append([]string{"gofw-trace"}, args...), os.Environ())
	os.Stderr.WriteString("gofw: trace: " + err.Error() + "\n")
	return 1
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
