package datapath

import (
	"bytes"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"github.com/gofw/gofw/packet"
)

// Divert installs and removes the kernel rules that send packets to
// gofwd's queues. Its kernel I/O goes through a Runner, so tests can record
// what would be run instead of touching the host.
//
// The rules live in chains of their own (GOFW-PREROUTING, ...), each
// reached by one jump carrying the comment "gofw divert": an admin's own
// iptables rules and chains are never touched, and the ones a crashed gofwd
// left behind are found and removed at start.
//
// Where and why:
//   - raw PREROUTING and raw OUTPUT (priority -300, before the kernel's
//     conntrack at -200): "-j CT --notrack" first, so the kernel neither
//     tracks nor NATs diverted traffic (gofw's conntrack and NAT do), then
//     NFQUEUE. gofw runs its own raw, conntrack, mangle and nat (DNAT)
//     stages here, so a DNAT rewrites the packet before the kernel routes
//     it; for OUTPUT the kernel re-routes a reinjected packet whose
//     addresses or mark changed (nf_ip_reroute).
//   - mangle INPUT, FORWARD and POSTROUTING: NFQUEUE, where gofw runs
//     filter, SNAT/MASQUERADE and confirms connections.
//
// Without --fail-open the NFQUEUE rules have no --queue-bypass: when no
// gofwd reads the queue, the kernel drops the packets (fail closed).
type Divert struct {
	// Cmd is the iptables binary: "iptables-legacy" or "iptables-nft".
	Cmd string
	// Queue is the first queue number; Queues how many (balanced by flow
	// with --queue-balance when more than one).
	Queue, Queues uint16
	// FailOpen adds --queue-bypass: packets pass when no gofwd listens.
	FailOpen bool
	// Hooks are the hooks to divert: DefaultHooks, or all five for a
	// datapath that runs each hook at its own visit.
	Hooks packet.HookMask
	// Fast diverts TCP after the kernel's conntrack, for gofwd's fast
	// path (see tables); FastMark is then the connection mark of the
	// connections whose plain segments the kernel lets by (0: none).
	Fast     bool
	FastMark uint32
	// MergeOut lets packets with a local source by at POSTROUTING: the
	// datapath ran their POSTROUTING in the OUTPUT visit already
	// (Datapath.MergeOut).
	MergeOut bool
	// Run runs one command with stdin and returns its combined output.
	Run Runner
}

// Runner runs a command; tests substitute a recorder.
type Runner func(stdin string, name string, args ...string) (string, error)

// ExecRunner runs commands on the host.
func ExecRunner(stdin, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// DefaultHooks are the hooks the datapath is visited at: INPUT runs in the
// PREROUTING visit and FORWARD in the POSTROUTING one (Datapath.visit).
const DefaultHooks = 1<<packet.Prerouting | 1<<packet.Output | 1<<packet.Postrouting

// Comment marks gofw's jumps in the built-in chains.
const Comment = "gofw divert"

// divertChain says where each hook is diverted.
var divertChain = [packet.NumHooks]struct {
	table   string
	notrack bool
}{
	packet.Prerouting:  {"raw", true},
	packet.Output:      {"raw", true},
	packet.Input:       {"mangle", false},
	packet.Forward:     {"mangle", false},
	packet.Postrouting: {"mangle", false},
}

func chainName(h packet.Hook) string { return "GOFW-" + h.String() }

// tables returns the tables hook h has a GOFW chain in. With the fast
// path, TCP is diverted at PREROUTING and OUTPUT from mangle (priority
// -150), after the kernel's conntrack, so that the divert can let by the
// packets of connections marked as offloaded; raw keeps everything else.
func (d *Divert) tables(h packet.Hook) []string {
	if d.Fast && divertChain[h].notrack {
		return []string{"raw", "mangle"}
	}
	return []string{divertChain[h].table}
}

// Rules returns the iptables-restore input that installs the divert, one
// table per block, committed atomically per table by iptables-restore.
func (d *Divert) Rules() string {
	var b strings.Builder
	for _, table := range []string{"raw", "mangle"} {
		var chains, rules []string
		for h := packet.Hook(0); h < packet.NumHooks; h++ {
			if !d.Hooks.Has(h) || !slices.Contains(d.tables(h), table) {
				continue
			}
			c := chainName(h)
			chains = append(chains, ":"+c+" - [0:0]")
			rules = append(rules, fmt.Sprintf("-I %s 1 -m comment --comment %q -j %s", h, Comment, c))
			rules = append(rules, d.chainRules(table, h)...)
		}
		if len(chains) == 0 {
			continue
		}
		b.WriteString("*" + table + "\n")
		for _, c := range chains {
			b.WriteString(c + "\n")
		}
		for _, r := range rules {
			b.WriteString(r + "\n")
		}
		b.WriteString("COMMIT\n")
	}
	return b.String()
}

// chainRules returns the rules of hook h's GOFW chain in table.
func (d *Divert) chainRules(table string, h packet.Hook) []string {
	c := chainName(h)
	queue := "-A " + c + " -j NFQUEUE " + d.queueSpec()
	if table == "raw" {
		if d.Fast {
			return []string{"-A " + c + " ! -p tcp -j CT --notrack", "-A " + c + " ! -p tcp -j NFQUEUE " + d.queueSpec()}
		}
		return []string{"-A " + c + " -j CT --notrack", queue}
	}
	var rules []string
	if d.Fast && d.FastMark != 0 {
		// Only a plain segment of a connection the kernel finds
		// ESTABLISHED: a SYN, FIN or RST, or a segment the kernel finds
		// out of window, still goes to gofw, which then takes the
		// connection back (conntrack.Table.pullBack).
		rules = append(rules, fmt.Sprintf("-A %s -p tcp -m tcp --tcp-flags SYN,FIN,RST NONE -m conntrack --ctstate ESTABLISHED -m connmark --mark 0x%x -j RETURN", c, d.FastMark))
	}
	if h == packet.Postrouting && d.MergeOut {
		rules = append(rules, "-A "+c+" -m addrtype --src-type LOCAL -j RETURN")
	}
	if d.Fast && divertChain[h].notrack {
		queue = "-A " + c + " -p tcp -j NFQUEUE " + d.queueSpec()
	}
	return append(rules, queue)
}

// SetMergeOut changes MergeOut in the installed divert (refill).
func (d *Divert) SetMergeOut(merge bool) error {
	if d.MergeOut == merge {
		return nil
	}
	d.MergeOut = merge
	return d.refill()
}

// SetFastMark changes the connection mark the fast path's rules let by (0:
// none). Connections marked with another value come back to gofw with
// their next packet: a reload ends every offload at once this way.
func (d *Divert) SetFastMark(mark uint32) error {
	if !d.Fast || d.FastMark == mark {
		return nil
	}
	d.FastMark = mark
	return d.refill()
}

// refill rewrites the installed divert's mangle chains in one
// iptables-restore commit, so no packet meets a half-changed chain.
func (d *Divert) refill() error {
	var b strings.Builder
	b.WriteString("*mangle\n")
	n := 0
	for h := packet.Hook(0); h < packet.NumHooks; h++ {
		if !d.Hooks.Has(h) || !slices.Contains(d.tables(h), "mangle") {
			continue
		}
		n++
		b.WriteString("-F " + chainName(h) + "\n")
		for _, r := range d.chainRules("mangle", h) {
			b.WriteString(r + "\n")
		}
	}
	if n == 0 {
		return nil
	}
	b.WriteString("COMMIT\n")
	if out, err := d.Run(b.String(), d.Cmd+"-restore", "--noflush"); err != nil {
		return fmt.Errorf("%s-restore: %v: %s", d.Cmd, err, strings.TrimSpace(out))
	}
	return nil
}

func (d *Divert) queueSpec() string {
	s := "--queue-num " + strconv.Itoa(int(d.Queue))
	if d.Queues > 1 {
		s = fmt.Sprintf("--queue-balance %d:%d", d.Queue, d.Queue+d.Queues-1)
	}
	if d.FailOpen {
		s += " --queue-bypass"
	}
	return s
}

// Install removes any divert a previous gofwd left, then installs this
// one.
func (d *Divert) Install() error {
	if err := d.Remove(); err != nil {
		return err
	}
	out, err := d.Run(d.Rules(), d.Cmd+"-restore", "--noflush")
	if err != nil {
		return fmt.Errorf("%s-restore: %v: %s", d.Cmd, err, strings.TrimSpace(out))
	}
	return nil
}

// Remove deletes gofw's jumps and chains, and nothing else. It finds them
// in the live tables, so it also cleans up after a crashed gofwd whose
// settings differed.
func (d *Divert) Remove() error {
	for _, table := range []string{"raw", "mangle"} {
		out, err := d.Run("", d.Cmd+"-save", "-t", table)
		if err != nil {
			// A table that was never used cannot hold our rules.
			continue
		}
		var del []string
		var chains []string
		for _, l := range strings.Split(out, "\n") {
			switch {
			case strings.HasPrefix(l, ":GOFW-"):
				chains = append(chains, strings.Fields(l[1:])[0])
			case strings.HasPrefix(l, "-A ") && strings.Contains(l, "\""+Comment+"\"") && strings.Contains(l, " -j GOFW-"):
				del = append(del, "-D"+l[2:])
			}
		}
		if len(del) == 0 && len(chains) == 0 {
			continue
		}
		var b strings.Builder
		b.WriteString("*" + table + "\n")
		for _, l := range del {
			b.WriteString(l + "\n")
		}
		for _, c := range chains {
			b.WriteString("-F " + c + "\n")
		}
		for _, c := range chains {
			b.WriteString("-X " + c + "\n")
		}
		b.WriteString("COMMIT\n")
		if out, err := d.Run(b.String(), d.Cmd+"-restore", "--noflush"); err != nil {
			return fmt.Errorf("removing gofw's divert from %s: %v: %s", table, err, strings.TrimSpace(out))
		}
	}
	return nil
}

// DetectBackend picks the iptables binary for --divert auto: the one the
// host's "iptables" is (legacy or nf_tables), as "iptables -V" says.
func DetectBackend(run Runner) (string, error) {
	out, err := run("", "iptables", "-V")
	if err != nil {
		return "", fmt.Errorf("--divert auto: cannot run iptables -V (%v); give --divert iptables-legacy or iptables-nft", err)
	}
	switch {
	case strings.Contains(out, "(legacy)"):
		return "iptables-legacy", nil
	case strings.Contains(out, "(nf_tables)"):
		return "iptables-nft", nil
	}
	return "", fmt.Errorf("--divert auto: cannot tell the backend from %q; give --divert iptables-legacy or iptables-nft", strings.TrimSpace(out))
}
