package cli

import (
	"bytes"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/gofw/gofw/ruleset"
)

// Save runs gofw-save with os.Args and returns the exit code.
func Save() int {
	code := 0
	app := &cli.App{
		Name:                   "gofw-save",
		Usage:                  "print gofwd's rules in iptables-save format",
		UseShortOptionHandling: true,
		HideVersion:            true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "counters", Aliases: []string{"c"}, Usage: "include packet and byte counters"},
			&cli.StringFlag{Name: "table", Aliases: []string{"t"}, Usage: "save only this table"},
			&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "write to this file instead of stdout"},
			&cli.StringFlag{Name: "modprobe", Aliases: []string{"M"}, Usage: "accepted for compatibility; gofw loads no modules"},
			&cli.StringFlag{Name: "socket", Usage: "gofwd's control socket", EnvVars: []string{"GOFW_SOCKET"}},
			&cli.BoolFlag{Name: "version", Aliases: []string{"V"}, Usage: "print the version"},
		},
		Action: func(c *cli.Context) error {
			if c.Bool("version") {
				fmt.Printf("gofw-save v%s\n", ruleset.Version)
				return nil
			}
			if c.NArg() > 0 {
				return fmt.Errorf("unexpected argument %q", c.Args().First())
			}
			var out bytes.Buffer
			cl := &ruleset.Client{Prog: "gofw-save", Socket: ruleset.SocketPath(c.String("socket")), Stdout: &out, Stderr: os.Stderr}
			code = cl.Save(c.String("table"), c.Bool("counters"))
			if f := c.String("file"); f != "" {
				if err := os.WriteFile(f, out.Bytes(), 0o600); err != nil {
					code = 1
					return fmt.Errorf("Failed to open file %s: %v", f, err)
				}
				return nil
			}
			os.Stdout.Write(out.Bytes())
			return nil
		},
	}
	if err := app.Run(os.Args); err != nil {
		fmt.Fprintf(os.Stderr, "gofw-save: %v\n", err)
		return 1
	}
	return code
}
