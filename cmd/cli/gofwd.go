package cli

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/datapath"
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
			&cli.StringFlag{Name: "divert", Value: "auto", Usage: "how packets reach gofwd: auto, iptables-legacy, iptables-nft, or none (control plane only, no traffic)"},
			&cli.BoolFlag{Name: "fail-open", Usage: "let diverted traffic pass unfiltered when gofwd is not running or its queue is full (default: drop it)"},
			&cli.UintFlag{Name: "queue-num", Value: 0, Usage: "first NFQUEUE number gofwd uses"},
			&cli.UintFlag{Name: "queues", Value: 1, Usage: "number of NFQUEUE queues (one reader each)"},
			&cli.StringFlag{Name: "queue-reader", Value: "gofw", Usage: "NFQUEUE reader: gofw (batched, allocation-free) or go-nfqueue"},
			&cli.StringFlag{Name: "copy", Value: "auto", Usage: "what the kernel copies of a queued packet: auto (its headers only while the ruleset needs no more) or full"},
			&cli.UintFlag{Name: "full-queue", Usage: "NFQUEUE number of the full-copy queue, for packets whose headers need more than the header copy (default: queue-num + queues)"},
			&cli.BoolFlag{Name: "fast-path", Usage: "let the kernel pass the packets of established TCP connections gofw has accepted both ways (not NATed, no helper), when no rule could treat their packets differently; rule and conntrack counters then miss those packets (README: Fast path)"},
		}, ConntrackFlags()...),
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
	// Signals are caught from the start: a SIGTERM during start-up must
	// still remove the divert (deferred below) rather than leave it in
	// place with no reader, which would drop all diverted traffic.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	if c.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", c.Args().First())
	}
	divert, err := divertBackend(c.String("divert"))
	if err != nil {
		return err
	}
	if c.Bool("fast-path") && divert == "" {
		return fmt.Errorf("--fast-path needs a divert: with --divert none no traffic reaches gofwd")
	}
	if q := c.Uint("queues"); q < 1 || q > 64 || c.Uint("queue-num")+q > 65536 {
		return fmt.Errorf("--queues %d --queue-num %d: want 1-64 queues within 0-65535", q, c.Uint("queue-num"))
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
	cfg, err := ConntrackConfig(c, func(msg string) { logger.Print(msg) })
	if err != nil {
		return err
	}
	// The connection table belongs to the daemon, not to a ruleset:
	// reloads keep every tracked flow.
	ct := conntrack.NewTable(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ct.RunGC(ctx, time.Second)
	host := match.NewHost(nil)
	eng := ruleset.NewEngine(ct, &match.Env{Host: host, Log: func(line string) { logger.Print(line) }})
	if err := eng.Load(rs); err != nil {
		return fmt.Errorf("not starting: %s: %v", rules, err)
	}
	live := ruleset.NewLive(rs)
	// onLoad runs after a ruleset is compiled and before it is published:
	// the divert follows what the ruleset needs (datapath.Datapath.visit).
	var onLoad func(*ruleset.Ruleset)
	// beforeLoad runs before a compiled ruleset replaces the running one:
	// it refuses a ruleset the datapath cannot run, and what the new
	// ruleset needs of the datapath must be there when its first packet
	// runs.
	var beforeLoad func(*ruleset.Ruleset) error
	live.Compile = func(rs *ruleset.Ruleset) error {
		if beforeLoad != nil {
			if err := beforeLoad(rs); err != nil {
				// It may have changed things half way (the fast path
				// off): back to what the running ruleset needs.
				if onLoad != nil {
					onLoad(eng.Ruleset())
				}
				return err
			}
		}
		if err := eng.Load(rs); err != nil {
			// What beforeLoad changed follows the running ruleset
			// again (the fast path back on, header copy).
			if onLoad != nil {
				onLoad(eng.Ruleset())
			}
			return err
		}
		if onLoad != nil {
			onLoad(rs)
		}
		return nil
	}

	var dp *datapath.Datapath
	var dv *datapath.Divert
	if divert != "" {
		links := &datapath.Links{Host: host, Logf: logger.Printf,
			OnDown:    func(name string) { ct.KillMasq(name, netip.Addr{}, eng.Now()) },
			OnAddrDel: func(name string, a netip.Addr) { ct.KillMasq(name, a, eng.Now()) },
		}
		if err := links.Refresh(); err != nil {
			return fmt.Errorf("reading interfaces: %v", err)
		}
		if err := links.Watch(ctx); err != nil {
			return fmt.Errorf("watching interfaces: %v", err)
		}
		q, n := uint16(c.Uint("queue-num")), uint16(c.Uint("queues"))
		fq := c.Uint("full-queue")
		if !c.IsSet("full-queue") {
			fq = uint(q) + uint(n)
		}
		if fq > 65535 {
			return fmt.Errorf("--full-queue %d: want a queue number within 0-65535", fq)
		}
		if cp := c.String("copy"); cp != "auto" && cp != "full" {
			return fmt.Errorf("--copy %q: want auto or full", cp)
		}
		fast := c.Bool("fast-path")
		fastBase := rand.Uint32()
		if fast && c.String("queue-reader") == "go-nfqueue" {
			return fmt.Errorf("--fast-path needs --queue-reader gofw")
		}
		dp = datapath.New(datapath.Config{Queue: q, Queues: n, FailOpen: c.Bool("fail-open"), Reader: c.String("queue-reader"),
			Copy: c.String("copy"), FullQueue: uint16(fq), FastPath: fast, Logf: logger.Printf}, eng, links)
		merge := !rs.OutputMayReroute()
		dp.MergeOut.Store(merge)
		dp.GSO.Store(!rs.MayRewrite())
		if err := dp.CheckQueues(rs.QueueRanges()); err != nil {
			return fmt.Errorf("not starting: %s: %v", rules, err)
		}
		dp.SetHeaders(!rs.NeedsPayload())
		beforeLoad = func(rs *ruleset.Ruleset) error {
			if err := dp.CheckQueues(rs.QueueRanges()); err != nil {
				return err
			}
			// Header-only copy off before a ruleset that reads or
			// rewrites payloads runs; on only after one that does not
			// (onLoad). A packet copied short meanwhile is taken whole.
			if rs.NeedsPayload() {
				dp.SetHeaders(false)
			}
			// Every offload ends before the new ruleset runs: its
			// connections come back to gofw and are judged again.
			if fast {
				dp.SetFast(0, 0)
				if err := dv.SetFastMark(0); err != nil {
					return fmt.Errorf("fast path: %v", err)
				}
				ct.EndOffloads()
			}
			return nil
		}
		dv = &datapath.Divert{Cmd: divert, Queue: q, Queues: n, FailOpen: c.Bool("fail-open"), Hooks: datapath.DefaultHooks, MergeOut: merge, Fast: fast, Run: datapath.ExecRunner}
		// startFast hands the running ruleset's connections to the
		// kernel from now on, if the ruleset allows: the divert lets by
		// connections marked for this ruleset, then the datapath marks
		// them. The marks start at a random number: the kernel's entries
		// keep the marks of an earlier gofwd, whose decisions this one
		// must not inherit.
		// fastState is what the log last said of the fast path, so that
		// each change is said once, not at every rule change.
		fastState := ""
		startFast := func(rs *ruleset.Ruleset) {
			if !fast {
				return
			}
			if why := rs.OffloadBlocker(); why != "" {
				if why != fastState {
					logger.Printf("fast path: off for this ruleset: %s", why)
					fastState = why
				}
				return
			}
			gen := eng.Gen()
			mark := fastBase + gen
			if mark == 0 {
				mark = 1
			}
			if err := dv.SetFastMark(mark); err != nil {
				logger.Printf("fast path: off: %v", err)
				fastState = ""
				return
			}
			dp.SetFast(gen, mark)
			if fastState != "on" {
				logger.Printf("fast path: on: established TCP connections the ruleset accepts are handed to the kernel; counters miss their packets")
				fastState = "on"
			}
		}
		onLoad = func(rs *ruleset.Ruleset) {
			defer startFast(rs)
			// A ruleset that rewrites packets must see every packet's
			// checksum complete: GSO off before it runs.
			dp.SetGSO(!rs.MayRewrite())
			dp.SetHeaders(!rs.NeedsPayload())
			merge := !rs.OutputMayReroute()
			if merge == dp.MergeOut.Load() {
				return
			}
			// Turning merging on: the datapath first, so packets the
			// new divert lets by at POSTROUTING were handled at OUTPUT.
			// Turning it off: the divert first, so none is let by
			// without its POSTROUTING.
			if merge {
				dp.MergeOut.Store(true)
			}
			if err := dv.SetMergeOut(merge); err != nil {
				logger.Printf("updating the divert: %v", err)
			}
			if !merge {
				dp.MergeOut.Store(false)
			}
		}
		// Bind the queues before the divert sends anything to them.
		if err := dp.Start(ctx); err != nil {
			return fmt.Errorf("not starting: %v", err)
		}
		// Remove even after a failed install: iptables-restore commits
		// table by table, and Remove takes only gofw's own chains.
		defer func() {
			if err := dv.Remove(); err != nil {
				logger.Printf("removing the divert: %v", err)
			}
		}()
		if err := dv.Install(); err != nil {
			return fmt.Errorf("installing the divert: %v", err)
		}
		startFast(rs)
		go func() {
			if err := dp.Wait(ctx); err != nil {
				logger.Printf("datapath stopped: %v", err)
				syscall.Kill(os.Getpid(), syscall.SIGTERM)
			}
		}()
		mode := "fail-closed: diverted traffic is dropped while gofwd is not running"
		if c.Bool("fail-open") {
			mode = "fail-open: diverted traffic passes unfiltered while gofwd is not running"
		}
		logger.Printf("diverting traffic with %s to NFQUEUE %d-%d (%s)", divert, q, q+n-1, mode)
	}
	l, err := ruleset.Listen(c.String("socket"), gid)
	if err != nil {
		return err
	}
	defer os.Remove(c.String("socket"))
	srv := &ruleset.Server{
		Handle: conntrackHandle(ct, countersNotice(dp, live.Handle)),
		Stream: conntrackStream(ct, logger.Printf),
		GID:    gid,
		Logf:   logger.Printf,
	}
	go srv.Serve(l)
	logger.Printf("listening on %s", c.String("socket"))
	sdNotify("READY=1")

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
		if dp != nil {
			logger.Printf("datapath: %v", &dp.Stats)
		}
		l.Close()
		return nil
	}
	return nil
}

// divertBackend resolves --divert to the iptables binary that installs the
// divert ("" for none).
func divertBackend(name string) (string, error) {
	switch name {
	case "none":
		return "", nil
	case "iptables-legacy", "iptables-nft":
		return name, nil
	case "auto":
		return datapath.DetectBackend(datapath.ExecRunner)
	}
	return "", fmt.Errorf("--divert %s: want auto, iptables-legacy, iptables-nft or none", name)
}

// sdNotify tells systemd (Type=notify) that gofwd is ready: the ruleset is
// loaded, the divert is in place and the control socket answers.
func sdNotify(state string) {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return
	}
	c.Write([]byte(state))
	c.Close()
}

// countersNotice adds a warning to the answers that show rule counters
// (-v listings, gofw-save -c) while the fast path hands connections to the
// kernel: their packets are not counted.
func countersNotice(dp *datapath.Datapath, next func(*ruleset.Request) *ruleset.Response) func(*ruleset.Request) *ruleset.Response {
	return func(req *ruleset.Request) *ruleset.Response {
		resp := next(req)
		if dp == nil || resp.Error != nil || dp.Stats.Offloaded.Load() == 0 || !showsCounters(req) {
			return resp
		}
		resp.Stderr += fmt.Sprintf("Warning: counters are approximate: gofwd --fast-path has handed %d established TCP connections to the kernel, which passes their packets uncounted\n",
			dp.Stats.Offloaded.Load())
		return resp
	}
}

// showsCounters reports whether req prints rule counters: gofw-save -c,
// or a gofw command line with -v (alone or in a cluster such as -nvL).
func showsCounters(req *ruleset.Request) bool {
	switch req.Cmd {
	case "save":
		return req.Counters
	case "iptables":
		for _, a := range req.Args {
			if a == "--verbose" {
				return true
			}
			if len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.Trim(a[1:], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" &&
				strings.ContainsRune(a, 'v') {
				return true
			}
		}
	}
	return false
}
