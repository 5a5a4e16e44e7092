// Command restoregen writes the benchmark ruleset of N rules (package
// bench/gen) to stdout: restoregen N.
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/gofw/gofw/bench/gen"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: restoregen N")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[1])
	if err == nil {
		err = gen.Ruleset(os.Stdout, n)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "restoregen:", err)
		os.Exit(1)
	}
}
