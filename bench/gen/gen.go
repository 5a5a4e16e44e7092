// Package gen writes the rulesets the restore benchmarks load: bench/restore.sh
// (gofw-restore beside iptables-legacy-restore) and ruleset's
// BenchmarkRestore* (in-process), so that both time the same text.
package gen

import (
	"bufio"
	"fmt"
	"io"
)

// Chains is how many user chains a ruleset spreads part of its rules over.
const Chains = 8

// Ruleset writes an iptables-restore file of exactly n rules (n >= 32) in
// the filter table, shaped like a typical block list: INPUT accepts
// loopback and established traffic, jumps to Chains user chains of address
// DROPs (each ending in RETURN), then drops single addresses, /24 networks
// on a tcp port and addresses on a udp port, and accepts the rest. Every
// address is in 198.18.0.0/15. The text is in iptables-save's canonical
// form, so a save of the loaded table prints it back unchanged (after the
// comment lines).
func Ruleset(w io.Writer, n int) error {
	if n < 32 {
		return fmt.Errorf("gen: at least 32 rules, not %d", n)
	}
	b := bufio.NewWriterSize(w, 1<<16)
	fixed := 2 + 2*Chains + 1 // head, jumps and RETURNs, final ACCEPT
	drops := n - fixed
	fmt.Fprintf(b, "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n")
	for k := 0; k < Chains; k++ {
		fmt.Fprintf(b, ":BLOCK-%d - [0:0]\n", k)
	}
	fmt.Fprintf(b, "-A INPUT -i lo -j ACCEPT\n")
	fmt.Fprintf(b, "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n")
	for k := 0; k < Chains; k++ {
		fmt.Fprintf(b, "-A INPUT -j BLOCK-%d\n", k)
	}
	// A quarter of the drops go to the user chains, the rest to INPUT.
	inChains := drops / 4
	for i := inChains; i < drops; i++ {
		a := addr(i)
		switch i % 3 {
		case 0:
			fmt.Fprintf(b, "-A INPUT -s %s/32 -j DROP\n", a)
		case 1:
			fmt.Fprintf(b, "-A INPUT -s %s/24 -p tcp -m tcp --dport %d -j DROP\n", net24(i), port(i))
		case 2:
			fmt.Fprintf(b, "-A INPUT -d %s/32 -p udp -m udp --dport %d -j DROP\n", a, port(i))
		}
	}
	fmt.Fprintf(b, "-A INPUT -j ACCEPT\n")
	for k := 0; k < Chains; k++ {
		for i := k; i < inChains; i += Chains {
			fmt.Fprintf(b, "-A BLOCK-%d -s %s/32 -j DROP\n", k, addr(i))
		}
		fmt.Fprintf(b, "-A BLOCK-%d -j RETURN\n", k)
	}
	fmt.Fprintf(b, "COMMIT\n")
	return b.Flush()
}

// addr is the i-th address of 198.18.0.0/15 (i < 131072 keeps them apart).
func addr(i int) string {
	v := 198<<24 | 18<<16 + uint32(i)%(1<<17)
	return fmt.Sprintf("%d.%d.%d.%d", v>>24, v>>16&0xff, v>>8&0xff, v&0xff)
}

// net24 is a /24 of 198.18.0.0/15, as iptables prints it (host part 0).
func net24(i int) string {
	v := 198<<24 | 18<<16 + uint32(i)%(1<<9)<<8
	return fmt.Sprintf("%d.%d.%d.0", v>>24, v>>16&0xff, v>>8&0xff)
}

// port is a port 1-65535 drawn from i.
func port(i int) int { return 1 + i*7919%65535 }
