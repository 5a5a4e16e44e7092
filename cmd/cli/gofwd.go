package cli

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"
	"os/user"
	"strconv"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/match"
	"github.com/gofw/gofw/ruleset"
)

// Gofwd runs gofwd with os.Args and returns the exit code.
func Gofwd() int {
	app := &cli.App{
		Name:        "gofwd",
		Usage:       "gofw's daemon: holds the ruleset and filters diverted traffic",
		HideVersion: true,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "socket", Value: ruleset.DefaultSocket, Usage: "control socket path", EnvVars: []string{"GOFW_SOCKET"}},
			&cli.StringFlag{Name: "socket-group", Usage: "group allowed to use the control socket besides root"},
			&cli.StringFlag{Name: "rules", Usage: "iptables-save file to load at start and on SIGHUP"},
			&cli.StringFlag{Name: "divert", Value: "none", Usage: "how packets reach gofwd: none (control plane only)"},
		}, conntrackFlags()...),
		Action: runDaemon,
	}
	if err := app.Run(os.Args); err != nil {
		fmt.Fprintf(os.Stderr, "gofwd: %v\n", err)
		return 1
	}
	return 0
}

func runDaemon(c *cli.Context) error {
	logger := log.New(os.Stderr, "gofwd: ", 0)
	if c.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", c.Args().First())
	}
	if d := c.String("divert"); d != "none" {
		return fmt.Errorf("--divert %s: this build of gofwd has only the control plane; use --divert none", d)
	}
	gid := -1
	if g := c.String("socket-group"); g != "" {
		grp, err := user.LookupGroup(g)
		if err != nil {
			return fmt.Errorf("--socket-group %s: %v", g, err)
		}
		gid, _ = strconv.Atoi(grp.Gid)
	}
	rs := ruleset.New()
	rules := c.String("rules")
	if rules != "" {
		var err error
		if rs, err = ruleset.LoadFile(rs, rules); err != nil {
			return fmt.Errorf("not starting: %v", err)
		}
	}
	cfg, err := conntrackConfig(c, func(msg string) { logger.Print(msg) })
	if err != nil {
		return err
	}
	// The connection table belongs to the daemon, not to a ruleset:
	// reloads keep every tracked flow.
	ct := conntrack.NewTable(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ct.RunGC(ctx, time.Second)
	eng := ruleset.NewEngine(ct, &match.Env{Log: func(line string) { logger.Print(line) }})
	// TODO(#3): live.Compile = eng.Load once every match and target has
	// its hot path; until then rules are only held, not compiled.
	_ = eng

	live := ruleset.NewLive(rs)
	l, err := ruleset.Listen(c.String("socket"), gid)
	if err != nil {
		return err
	}
	defer os.Remove(c.String("socket"))
	srv := &ruleset.Server{
		Handle: conntrackHandle(ct, live.Handle),
		Stream: conntrackStream(ct, logger.Printf),
		GID:    gid,
		Logf:   logger.Printf,
	}
	go srv.Serve(l)
	logger.Printf("listening on %s", c.String("socket"))

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	for s := range sig {
		if s == syscall.SIGHUP {
			if rules == "" {
				logger.Printf("SIGHUP: no --rules file to reload")
				continue
			}
			err := live.Update(func(rs *ruleset.Ruleset) (*ruleset.Ruleset, error) { return ruleset.LoadFile(rs, rules) })
			if err != nil {
				logger.Printf("SIGHUP: kept the running ruleset: %v", err)
			} else {
				logger.Printf("SIGHUP: reloaded %s", rules)
			}
			continue
		}
		logger.Printf("%v: stopping", s)
		l.Close()
		return nil
	}
	return nil
}
