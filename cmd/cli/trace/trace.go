// Package trace is the wiring of "gofw trace" (cmd/gofw-trace): flags, the
// capture or spec file, and ruleset.Tracer. It is a package of its own so
// that only gofw-trace links the capture reader (packet/pcap and gopacket,
// whose start-up costs tens of milliseconds); gofw runs it with exec.
package trace

import (
	"fmt"
	"io"
	"net/netip"
	"os"

	"github.com/urfave/cli/v2"

	gofwcli "github.com/gofw/gofw/cmd/cli"
	"github.com/gofw/gofw/packet"
	"github.com/gofw/gofw/packet/pcap"
	"github.com/gofw/gofw/ruleset"
)

const traceHelp = `Runs every packet of a capture (pcap or pcapng), in order, through the
rules and a fresh connection table, offline and without root, on the
capture's clock (conntrack timeouts, limit and recent run on the packets'
timestamps). For each packet it prints the hooks it went through, every
rule that matched as "table/CHAIN/N: -A CHAIN <rule as -S prints it>", the
policies applied, the verdict (ACCEPT, DROP, REJECT, QUEUE) and what
decided it, the NAT rewrite ("nat: SRC > DST") and the conntrack state
(NEW, ESTABLISHED, RELATED, INVALID, UNTRACKED). When NAT or a helper
changed more than the addresses and ports, an "out:" line shows the packet
as it left: a helper's rewritten payload as data="...", an ICMP error's
rewritten quote, TCP sequence numbers adjusted after a rewrite changed a
length. Then the connection table as "conntrack -L" lists it after the
last packet (entries in the order their first packets came, timeouts
counted from the last packet), with conntrack's summary line on stderr.
--expect also lists the pending expectations (helpers' FTP and TFTP data
connections) after a "conntrack -L expect:" line, as "conntrack -L expect"
prints them, with its summary line on stderr.

The path follows the addresses, as routing would: to a local address
PREROUTING, INPUT; from one OUTPUT, POSTROUTING (then PREROUTING, INPUT on
lo when it is also to a local address); anything else PREROUTING, FORWARD,
POSTROUTING. The choice after PREROUTING is made on the destination as DNAT
left it. Local addresses are 127.0.0.0/8, --local and the --iface
addresses.

Interfaces: a packet's input interface is the capture's interface when the
pcapng file names one, else the --iface whose prefix holds the source; its
output interface is the --iface whose prefix holds the destination (for a
packet from a local address, the capture's interface when named). The
longest prefix wins, the first given among equals; a /0 prefix is a default
route; an address no prefix holds has no interface. IPv6 packets are
listed as skipped: iptables sees only IPv4.

-o json prints one JSON object per packet: n, time, packet, hooks, rules
(["table/CHAIN/N"]), policies, verdict, by, ctstate, ctdir ("reply"), nat
({"src","dst"} as "addr:port" after NAT, only when rewritten), out (the
"out:" line's packet) and notes;
then {"conntrack": [the conntrack -L lines]} (and, with --expect,
{"expect": [the conntrack -L expect lines]}).

--spec FILE reads crafted packets from a text file instead of a capture
(the scripts' mkpcap writes the same packets to pcap), one per line:
    tcp 198.18.0.2:40000 > 198.18.0.1:22 S seq=1000 mss=1460 wscale=7
    +1.5s
    udp 198.18.0.2:5353 > 198.18.0.1:53 len=20
    icmp 198.18.0.1 > 198.18.0.2 port-unreachable quote=2
    icmp 198.18.0.2 > 198.18.0.1 echo-request id=7 seq=1 dev=eth0
A line is PROTO SRC > DST (tcp and udp with :PORT, [ADDR]:PORT for IPv6);
tcp then FLAGS (letters of FSRPAUEC, or none) and seq= ack= win= mss=
wscale= sackperm; icmp an iptables --icmp-type name or type=N code=N, then
id= seq= for queries, quote=N (the Nth packet) or quote=[PACKET] and
quotelen=N for errors; ip proto=N. Any packet: len=N or data=HEX, ttl=
tos= ipid= df frag=OFF[,more] badsum truncate=N (cut, IP length fixed)
snap=N (cut, IP length left) dev=NAME (capture interface). "+DURATION"
moves the capture clock; "#" starts a comment.`

// Trace runs "gofw trace ARGS..." and returns the exit code: 0 when every
// packet was traced, 1 when the rules, the capture or an option could not
// be used, 2 for a usage error.
func Trace(args []string, stdout, stderr io.Writer) int {
	code := 0
	app := &cli.App{
		Name:            "gofw trace",
		Usage:           "which rule decides each packet of a capture, offline",
		UsageText:       "gofw trace --rules FILE [--local ADDR]... [--iface NAME=ADDR/PREFIX]... [--conntrack-max N] [--conntrack-timeout NAME=SECONDS]... [--expect] [-o json] (CAPTURE.pcap | --spec FILE)",
		Description:     traceHelp,
		HideVersion:     true,
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "rules", Usage: "the ruleset, in iptables-save format (required)"},
			&cli.StringSliceFlag{Name: "local", Usage: "an address of this host (repeatable)"},
			&cli.StringSliceFlag{Name: "iface", Usage: "an interface with an address and the prefix it routes: NAME=ADDR/PREFIX (repeatable)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "output format: text or json", Value: "text"},
			&cli.StringFlag{Name: "spec", Usage: "read crafted packets from this spec file instead of a capture"},
			&cli.BoolFlag{Name: "expect", Usage: "also list the pending expectations after the table, as conntrack -L expect"},
		}, gofwcli.ConntrackFlags()...),
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			code = 2
			return err
		},
		Action: func(c *cli.Context) error {
			code = runTrace(c, stdout, stderr)
			return nil
		},
	}
	if err := app.Run(append([]string{"gofw trace"}, args...)); err != nil {
		fmt.Fprintf(stderr, "gofw trace: %v\n", err)
		if code == 0 {
			code = 2
		}
	}
	return code
}

func runTrace(c *cli.Context, stdout, stderr io.Writer) int {
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "gofw trace: "+format+"\n", a...)
		return code
	}
	if c.String("rules") == "" {
		return fail(2, "--rules FILE is required (see gofw trace --help)")
	}
	var o ruleset.TraceOptions
	switch c.String("output") {
	case "text":
	case "json":
		o.JSON = true
	default:
		return fail(2, "-o %q: want text or json", c.String("output"))
	}
	for _, s := range c.StringSlice("local") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return fail(2, "--local %q: want an address", s)
		}
		o.Local = append(o.Local, a)
	}
	for _, s := range c.StringSlice("iface") {
		i, err := ruleset.ParseTraceIface(s)
		if err != nil {
			return fail(2, "%v", err)
		}
		o.Ifaces = append(o.Ifaces, i)
	}
	cfg, err := gofwcli.ConntrackConfig(c, nil)
	if err != nil {
		return fail(2, "%v", err)
	}
	o.Conntrack = cfg
	o.Expect = c.Bool("expect")
	spec := c.String("spec")
	if (spec == "") == (c.NArg() != 1) || c.NArg() > 1 {
		return fail(2, "want one capture file, or --spec FILE (see gofw trace --help)")
	}
	rs, err := ruleset.LoadFile(ruleset.New(), c.String("rules"))
	if err != nil {
		return fail(1, "%v", err)
	}
	o.Rules = rs
	tr, err := ruleset.NewTracer(o)
	if err != nil {
		return fail(1, "%s: %v", c.String("rules"), err)
	}
	var src ruleset.TraceSource
	name := spec
	if spec != "" {
		pkts, err := packet.ReadSpecFile(spec)
		if err != nil {
			return fail(1, "%v", err)
		}
		src = ruleset.SpecSource(pkts)
	} else {
		f, err := os.Open(c.Args().First())
		if err != nil {
			return fail(1, "%v", err)
		}
		defer f.Close()
		r, err := pcap.NewReader(f)
		if err != nil {
			return fail(1, "%s: %v", f.Name(), err)
		}
		src = &pcapSource{r: r}
		name = f.Name()
	}
	if err := tr.Run(src, o.JSON, stdout, stderr); err != nil {
		return fail(1, "%s: %v", name, err)
	}
	return 0
}

// Main runs gofw-trace with os.Args: what "gofw trace ARGS..." executes.
func Main() int { return Trace(os.Args[1:], os.Stdout, os.Stderr) }

// pcapSource reads the datagrams of a pcap or pcapng file for the tracer.
type pcapSource struct {
	r *pcap.Reader
	n int
}

func (s *pcapSource) Next() (ruleset.TracePacket, error) {
	dg, ts, err := s.r.Next()
	if err != nil {
		return ruleset.TracePacket{}, err
	}
	s.n++
	return ruleset.TracePacket{N: s.n + s.r.Skipped, Data: dg, Time: ts, Iface: s.r.Iface()}, nil
}
