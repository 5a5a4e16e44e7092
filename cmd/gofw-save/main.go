// Command gofw-save prints gofwd's ruleset in iptables-save format.
package main

import (
	"os"

	"github.com/gofw/gofw/cmd/cli"
)

func main() { os.Exit(cli.Save()) }
