package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gofw/gofw/ruleset"
)

// Restore runs gofw-restore with os.Args and returns the exit code.
func Restore() int {
	code := 0
	app := &cli.App{
		Name:                   "gofw-restore",
		Usage:                  "load rules in iptables-save format into gofwd",
		ArgsUsage:              "[FILE]",
		UseShortOptionHandling: true,
		HideVersion:            true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "noflush", Aliases: []string{"n"}, Usage: "don't flush the tables first: add to them"},
			&cli.BoolFlag{Name: "test", Aliases: []string{"t"}, Usage: "check the input, change nothing"},
			&cli.BoolFlag{Name: "counters", Aliases: []string{"c"}, Usage: "restore packet and byte counters"},
			&cli.StringFlag{Name: "table", Aliases: []string{"T"}, Usage: "restore only this table"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print what is done"},
			&cli.StringFlag{Name: "wait", Aliases: []string{"w"}, Usage: "accepted for scripts; gofwd serialises changes"},
			&cli.StringFlag{Name: "wait-interval", Aliases: []string{"W"}, Usage: "accepted and ignored, as iptables does"},
			&cli.StringFlag{Name: "modprobe", Aliases: []string{"M"}, Usage: "accepted for compatibility; gofw loads no modules"},
			&cli.StringFlag{Name: "socket", Usage: "gofwd's control socket", EnvVars: []string{"GOFW_SOCKET"}},
			&cli.BoolFlag{Name: "version", Aliases: []string{"V"}, Usage: "print the version"},
		},
		Action: func(c *cli.Context) error {
			if c.Bool("version") {
				fmt.Printf("gofw-restore v%s\n", ruleset.Version)
				return nil
			}
			if c.IsSet("wait-interval") {
				fmt.Fprintln(os.Stderr, "Ignoring deprecated --wait-interval option.")
			}
			var in io.Reader = os.Stdin
			if c.NArg() > 1 {
				return fmt.Errorf("unexpected argument %q", c.Args().Get(1))
			}
			if f := c.Args().First(); f != "" {
				fh, err := os.Open(f)
				if err != nil {
					return fmt.Errorf("Can't open %s: %v", f, unwrapPath(err))
				}
				defer fh.Close()
				in = fh
			}
			b, err := io.ReadAll(in)
			if err != nil {
				return err
			}
			cl := &ruleset.Client{Prog: "gofw-restore", Socket: ruleset.SocketPath(c.String("socket")), Stdout: os.Stdout, Stderr: os.Stderr}
			code = cl.Restore(ruleset.RestoreOptions{
				Noflush: c.Bool("noflush"), Test: c.Bool("test"), Counters: c.Bool("counters"),
				Table: c.String("table"), Verbose: c.Bool("verbose"),
			}, string(b))
			return nil
		},
	}
	if err := app.Run(waitArgs(os.Args)); err != nil {
		fmt.Fprintf(os.Stderr, "gofw-restore: %v\n", err)
		return 1
	}
	return code
}

// waitArgs gives -w/-W the optional argument iptables-restore's getopt
// gives them ("-w", "-w 5", "-w5"), which urfave/cli flags cannot express.
func waitArgs(args []string) []string {
	out := []string{args[0]}
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-w" || a == "--wait" || a == "-W" || a == "--wait-interval":
			v := "0"
			if i+1 < len(args) && isNum(args[i+1]) {
				v = args[i+1]
				i++
			}
			out = append(out, a+"="+v)
		case strings.HasPrefix(a, "-w") && isNum(a[2:]):
			out = append(out, "-w="+a[2:])
		default:
			out = append(out, a)
		}
	}
	return out
}

func isNum(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
