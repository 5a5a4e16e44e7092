package ruleset

import (
	"fmt"
	"io"
	"strings"

	"github.com/gofw/gofw/grammar"
)

// Client is the CLI side of the control socket: it checks what it can
// locally (so a typo is reported even when gofwd is down, with iptables'
// exit code 2), then asks gofwd, and prints the answer as iptables would.
type Client struct {
	Prog   string // program name for messages: "gofw", "gofw-save", ...
	Socket string
	Stdout io.Writer
	Stderr io.Writer
}

func (c *Client) fail(err error) int {
	e, ok := err.(*grammar.Error)
	if !ok {
		fmt.Fprintf(c.Stderr, "%s: %v\n", c.Prog, err)
		return grammar.ExitFailure
	}
	fmt.Fprint(c.Stderr, e.Format(c.Prog, Version))
	return e.Code
}

func (c *Client) call(req *Request) int {
	resp, err := Call(c.Socket, req)
	if err != nil {
		fmt.Fprintf(c.Stderr, "%s: %v\n", c.Prog, err)
		return grammar.ExitFailure
	}
	io.WriteString(c.Stdout, resp.Stdout)
	io.WriteString(c.Stderr, resp.Stderr)
	if resp.Error != nil {
		return c.fail(resp.Error)
	}
	return 0
}

// Iptables runs one gofw command line (iptables' syntax) and returns the
// exit code.
func (c *Client) Iptables(args []string) int {
	cmd, err := ParseCommand(args, false, 0)
	if err != nil {
		return c.fail(err)
	}
	if cmd.Version {
		fmt.Fprintf(c.Stdout, "%s v%s\n", c.Prog, Version)
		return 0
	}
	if cmd.Help {
		io.WriteString(c.Stdout, strings.ReplaceAll(usage, "PROG", c.Prog))
		return 0
	}
	return c.call(&Request{Cmd: "iptables", Args: args})
}

// Save asks gofwd for gofw-save's output.
func (c *Client) Save(table string, counters bool) int {
	return c.call(&Request{Cmd: "save", Table: table, Counters: counters})
}

// Restore sends a restore input to gofwd.
func (c *Client) Restore(o RestoreOptions, input string) int {
	return c.call(&Request{Cmd: "restore", Restore: &o, Input: input})
}

const usage = `PROG v` + Version + `

Usage: PROG -[ACD] chain rule-specification [options]
       PROG -I chain [rulenum] rule-specification [options]
       PROG -R chain rulenum rule-specification [options]
       PROG -D chain rulenum [options]
       PROG -[LS] [chain [rulenum]] [options]
       PROG -[FZ] [chain] [options]
       PROG -[NX] chain
       PROG -E old-chain-name new-chain-name
       PROG -P chain target [options]
       PROG -h (print this help information)
       PROG conntrack ... (the connection table, as conntrack-tools)

Commands:
Either long or short options are allowed.
  --append  -A chain		Append to chain
  --check   -C chain		Check for the existence of a rule
  --delete  -D chain		Delete matching rule from chain
  --delete  -D chain rulenum
				Delete rule rulenum (1 = first) from chain
  --insert  -I chain [rulenum]
				Insert in chain as rulenum (default 1=first)
  --replace -R chain rulenum
				Replace rule rulenum (1 = first) in chain
  --list    -L [chain [rulenum]]
				List the rules in a chain or all chains
  --list-rules -S [chain [rulenum]]
				Print the rules in a chain or all chains
  --flush   -F [chain]		Delete all rules in  chain or all chains
  --zero    -Z [chain [rulenum]]
				Zero counters in chain or all chains
  --new     -N chain		Create a new user-defined chain
  --delete-chain
            -X [chain]		Delete a user-defined chain
  --policy  -P chain target
				Change policy on chain to target
  --rename-chain
            -E old-chain new-chain
				Change chain name, (moving any references)

Options:
[!] --protocol	-p proto	protocol: by number or name, eg. ` + "`tcp'" + `
[!] --source	-s address[/mask][...]
				source specification
[!] --destination -d address[/mask][...]
				destination specification
[!] --in-interface -i input name[+]
				network interface name ([+] for wildcard)
 --jump	-j target
				target for rule (may load target extension)
  --goto      -g chain
			       jump to chain with no return
  --match	-m match
				extended match (may load extension)
  --numeric	-n		numeric output of addresses and ports
[!] --out-interface -o output name[+]
				network interface name ([+] for wildcard)
  --table	-t table	table to manipulate (default: ` + "`filter'" + `)
  --verbose	-v		verbose mode
  --wait	-w [seconds]	accepted for scripts; gofwd serialises changes
  --line-numbers		print line numbers when listing
  --exact	-x		expand numbers (display exact values)
[!] --fragment	-f		match second or further fragments only
  --set-counters -c PKTS BYTES	set the counter during insert/append
  --version	-V		print package version.
  --socket PATH			gofwd's control socket (default $GOFW_SOCKET or ` + DefaultSocket + `)
`
