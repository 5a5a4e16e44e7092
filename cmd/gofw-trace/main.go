// Command gofw-trace is "gofw trace": which rule decides each packet of a
// capture, offline and without root. gofw runs it for "gofw trace".
package main

import (
	"os"

	"github.com/gofw/gofw/cmd/cli/trace"
)

func main() { os.Exit(trace.Main()) }
