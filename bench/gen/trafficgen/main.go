// Command trafficgen writes the rulesets bench/traffic.sh loads into both
// iptables-legacy and gofwd: trafficgen [-stateful] N writes an
// iptables-restore file whose INPUT chain has exactly N rules.
//
// The chain is the usual kind (issue 6): address and port DROPs before the
// one accepting rule, none of which the benchmark's own traffic hits, so
// every packet of a linear walk visits the whole chain. With -stateful the
// first rule is the ESTABLISHED,RELATED shortcut, and only a flow's first
// packets walk the rest. The policy is DROP, so a mistake shows as lost
// traffic rather than as a flattering figure.
//
// The benchmark's hosts are 198.19.255.1 (sender) and 198.19.255.2
// (receiver); the DROPs name addresses and networks elsewhere in
// 198.18.0.0/15 and ports outside 5201-5202, the benchmark's servers.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
)

// Bench is the network of the benchmark's two hosts; the accepting rule
// names it and no DROP does.
const Bench = "198.19.255.0/24"

// maxRules keeps the DROP addresses below 198.19.255.0 (see addr).
const maxRules = 130000

func main() {
	stateful := flag.Bool("stateful", false, "put the conntrack ESTABLISHED,RELATED shortcut first")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: trafficgen [-stateful] N\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	n, err := strconv.Atoi(flag.Arg(0))
	if err == nil {
		err = write(os.Stdout, n, *stateful)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "trafficgen:", err)
		os.Exit(1)
	}
}

// write writes the ruleset of n INPUT rules.
func write(w io.Writer, n int, stateful bool) error {
	least := 1
	if stateful {
		least = 2
	}
	if n < least || n > maxRules {
		return fmt.Errorf("%d rules: want %d-%d", n, least, maxRules)
	}
	b := bufio.NewWriterSize(w, 1<<16)
	fmt.Fprint(b, "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n")
	drops := n - 1
	if stateful {
		fmt.Fprint(b, "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n")
		drops--
	}
	for i := 0; i < drops; i++ {
		// Four shapes, so that a walk pays both for address tests (which
		// iptables does in ip_packet_match) and for port matches (a call
		// into xt_tcpudp per rule).
		switch i % 4 {
		case 0:
			fmt.Fprintf(b, "-A INPUT -s %s/32 -j DROP\n", addr(i))
		case 1:
			fmt.Fprintf(b, "-A INPUT -s %s/24 -p tcp -m tcp --dport %d -j DROP\n", net24(i), port(i))
		case 2:
			fmt.Fprintf(b, "-A INPUT -d %s/32 -p udp -m udp --dport %d -j DROP\n", addr(i), port(i))
		case 3:
			fmt.Fprintf(b, "-A INPUT -p tcp -m tcp --dport %d -j DROP\n", port(i))
		}
	}
	fmt.Fprintf(b, "-A INPUT -s %s -j ACCEPT\nCOMMIT\n", Bench)
	return b.Flush()
}

// addr is the i-th address of 198.18.0.0-198.19.254.255 (i < maxRules
// never reaches the benchmark's 198.19.255.0/24).
func addr(i int) string {
	v := uint32(198<<24|18<<16) + uint32(i)
	return fmt.Sprintf("%d.%d.%d.%d", v>>24, v>>16&0xff, v>>8&0xff, v&0xff)
}

// net24 is one of the 510 /24 networks below 198.19.255.0/24.
func net24(i int) string {
	v := uint32(198<<24|18<<16) + uint32(i%510)<<8
	return fmt.Sprintf("%d.%d.%d.0", v>>24, v>>16&0xff, v>>8&0xff)
}

// port is a port in 10000-59999, away from the benchmark's servers.
func port(i int) int { return 10000 + i*7919%50000 }
