// Command gofw is iptables' command line for gofwd: the same options, output and exit codes.
package main

import (
	"os"

	"github.com/gofw/gofw/cmd/cli"
)

func main() { os.Exit(cli.Gofw()) }
