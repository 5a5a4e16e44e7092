// Command gofwd is the gofw daemon: it holds the live ruleset and serves the control socket.
package main

import (
	"os"

	"github.com/gofw/gofw/cmd/cli"
)

func main() { os.Exit(cli.Gofwd()) }
