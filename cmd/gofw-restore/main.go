// Command gofw-restore loads an iptables-save file into gofwd, each table committed atomically.
package main

import (
	"os"

	"github.com/gofw/gofw/cmd/cli"
)

func main() { os.Exit(cli.Restore()) }
