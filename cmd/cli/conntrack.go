package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/gofw/gofw/conntrack"
	"github.com/gofw/gofw/grammar"
	"github.com/gofw/gofw/ruleset"
)

// conntrackProg names gofw's conntrack command where conntrack-tools
// names itself (the "Try ... -h" hint, the usage line).
const conntrackProg = "gofw conntrack"

// ConntrackFlags are gofwd's flags for its connection table.
func ConntrackFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "conntrack-max", Value: 262144, Usage: "most connections tracked at once (nf_conntrack_max); 0 or less: no limit"},
		&cli.StringSliceFlag{Name: "conntrack-timeout", Usage: "a timeout as its sysctl: NAME=SECONDS, e.g. udp_timeout_stream=180 (repeatable)"},
		&cli.BoolFlag{Name: "conntrack-tcp-loose", Value: true, Usage: "pick up TCP connections mid-stream (nf_conntrack_tcp_loose)"},
		&cli.BoolFlag{Name: "conntrack-tcp-be-liberal", Usage: "never mark out-of-window TCP packets INVALID (nf_conntrack_tcp_be_liberal)"},
		&cli.BoolFlag{Name: "conntrack-acct", Usage: "count packets and bytes per connection (nf_conntrack_acct)"},
		&cli.BoolFlag{Name: "conntrack-timestamp", Usage: "record when connections start; listings show delta-time (nf_conntrack_timestamp)"},
	}
}

// ConntrackConfig builds the table's configuration from gofwd's flags.
func ConntrackConfig(c *cli.Context, logf func(string)) (conntrack.Config, error) {
	cfg := conntrack.Config{
		Max:          c.Int("conntrack-max"),
		NoTCPLoose:   !c.Bool("conntrack-tcp-loose"),
		TCPBeLiberal: c.Bool("conntrack-tcp-be-liberal"),
		Acct:         c.Bool("conntrack-acct"),
		Timestamp:    c.Bool("conntrack-timestamp"),
		Log:          logf,
	}
	if cfg.Max <= 0 {
		cfg.Max = -1 // Config's "no limit"; its 0 means the default
	}
	for _, s := range c.StringSlice("conntrack-timeout") {
		if err := conntrack.SetTimeout(&cfg.Timeouts, s); err != nil {
			return cfg, fmt.Errorf("--conntrack-timeout %v", err)
		}
	}
	return cfg, nil
}

// ctResponse turns what the table answered into a control-socket
// response.
func ctResponse(out []byte, err error) *ruleset.Response {
	r := &ruleset.Response{Stdout: string(out)}
	if err != nil {
		var ce *conntrack.CmdError
		if errors.As(err, &ce) {
			r.Error = &grammar.Error{Code: ce.Code, Msg: ce.Msg}
		} else {
			r.Error = &grammar.Error{Code: grammar.ExitFailure, Msg: err.Error()}
		}
	}
	return r
}

// conntrackHandle serves "conntrack" requests from ct and passes the
// others to next.
func conntrackHandle(ct *conntrack.Table, next func(*ruleset.Request) *ruleset.Response) func(*ruleset.Request) *ruleset.Response {
	return func(req *ruleset.Request) (resp *ruleset.Response) {
		if req.Cmd != "conntrack" {
			return next(req)
		}
		defer func() {
			// A bug behind one request must not stop the daemon.
			if r := recover(); r != nil {
				resp = ctResponse(nil, fmt.Errorf("internal error: %v", r))
			}
		}()
		c, err := conntrack.ParseArgs(req.Args)
		if err != nil {
			return ctResponse(nil, err)
		}
		c.Portid = uint32(req.PeerPID)
		out, cerr := ct.Exec(c)
		if cerr != nil {
			return ctResponse(out, cerr)
		}
		return ctResponse(out, nil)
	}
}

// conntrackStream opens the event streams of gofw conntrack -E.
func conntrackStream(ct *conntrack.Table, logf func(string, ...any)) func(*ruleset.Request) func(func(*ruleset.Response) error, <-chan struct{}) {
	return func(req *ruleset.Request) func(func(*ruleset.Response) error, <-chan struct{}) {
		if req.Cmd != "conntrack" {
			return nil
		}
		c, err := conntrack.ParseArgs(req.Args)
		if err != nil || (c.Op != conntrack.OpEvent && c.Op != conntrack.OpExpEvent) {
			return nil // Handle answers it
		}
		return func(send func(*ruleset.Response) error, done <-chan struct{}) {
			defer func() {
				if r := recover(); r != nil {
					logf("conntrack events: internal error: %v", r)
				}
			}()
			err := ct.Events(c, done, func(stdout, stderr string) error {
				return send(&ruleset.Response{Stdout: stdout, Stderr: stderr})
			})
			var ce *conntrack.CmdError
			if errors.As(err, &ce) {
				send(ctResponse(nil, ce))
			}
		}
	}
}

// Conntrack runs `gofw conntrack ARGS...` against the gofwd at socket and
// returns the exit code.
func Conntrack(socket string, args []string, stdout, stderr io.Writer) int {
	c, err := conntrack.ParseArgs(args)
	if err != nil {
		var ce *conntrack.CmdError
		errors.As(err, &ce)
		io.WriteString(stderr, ce.Format(conntrackProg))
		return ce.Code
	}
	for _, w := range c.Warnings {
		io.WriteString(stderr, w+"\n")
	}
	switch c.Op {
	case conntrack.OpVersion:
		io.WriteString(stdout, conntrack.Version)
		return 0
	case conntrack.OpHelp, conntrack.OpUsage:
		io.WriteString(stdout, c.Help(conntrackProg))
		return 0
	case conntrack.OpEvent, conntrack.OpExpEvent:
		return conntrackEvents(socket, c, args, stdout, stderr)
	}
	resp, err := ruleset.Call(socket, &ruleset.Request{Cmd: "conntrack", Args: args})
	if err != nil {
		fmt.Fprintf(stderr, "gofw: %v\n", err)
		return 1
	}
	io.WriteString(stderr, resp.Stderr)
	var ce *conntrack.CmdError
	if resp.Error != nil {
		ce = &conntrack.CmdError{Code: resp.Error.Code, Msg: resp.Error.Msg}
	}
	return c.Print(stdout, stderr, conntrackProg, []byte(resp.Stdout), ce)
}

func conntrackFail(stderr io.Writer, e *grammar.Error) int {
	ce := &conntrack.CmdError{Code: e.Code, Msg: e.Msg}
	io.WriteString(stderr, ce.Format(conntrackProg))
	return ce.Code
}

// conntrackEvents prints gofwd's events until SIGINT or SIGTERM, then the
// summary, as conntrack -E does.
func conntrackEvents(socket string, c *conntrack.Command, args []string, stdout, stderr io.Writer) int {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	stop := make(chan struct{})
	go func() {
		if _, ok := <-sig; ok {
			close(stop)
		}
	}()
	n := 0
	var failed *grammar.Error
	err := ruleset.CallStream(socket, &ruleset.Request{Cmd: "conntrack", Args: args}, stop, func(r *ruleset.Response) error {
		io.WriteString(stdout, r.Stdout)
		io.WriteString(stderr, r.Stderr)
		n += strings.Count(r.Stdout, "\n")
		if r.Error != nil {
			failed = r.Error
			return errStreamFailed
		}
		return nil
	})
	switch {
	case failed != nil:
		return conntrackFail(stderr, failed)
	case errors.Is(err, io.EOF):
		io.WriteString(stderr, conntrack.MsgPrefix+"failed to receive events: gofwd closed the connection\n")
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "gofw: %v\n", err)
		return 1
	}
	line, code, _ := c.Summary(n)
	io.WriteString(stderr, line)
	return code
}

var errStreamFailed = errors.New("stream failed")
