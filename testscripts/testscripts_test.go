// Package testscripts drives gofw's real programs through txtar scripts
// (testdata/*.txtar): every command, its output byte for byte as iptables
// prints it, its errors and exit codes.
package testscripts

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/gofw/gofw/cmd/cli"
)

func TestMain(m *testing.M) {
	os.Exit(testscript.RunMain(m, map[string]func() int{
		"gofw":         cli.Gofw,
		"gofwd":        cli.Gofwd,
		"gofw-save":    cli.Save,
		"gofw-restore": cli.Restore,
	}))
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata",
		Setup: func(e *testscript.Env) error {
			// Every script gets its own gofwd socket.
			e.Setenv("GOFW_SOCKET", e.WorkDir+"/gofw.sock")
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "root":
				return os.Geteuid() == 0, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// status N PROG ARGS... runs PROG and requires exit status N,
			// for iptables' distinction of 1 (failure), 2 (parameter
			// problem) and 3 (no such table).
			"status": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 2 {
					ts.Fatalf("usage: status N PROG [ARGS...]")
				}
				want, err := strconv.Atoi(args[0])
				if err != nil {
					ts.Fatalf("status: %v", err)
				}
				err = ts.Exec(args[1], args[2:]...)
				got := 0
				if ee, ok := err.(*exec.ExitError); ok {
					got = ee.ExitCode()
				} else if err != nil {
					ts.Fatalf("status: %v", err)
				}
				if (got == want) == neg {
					ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
				}
			},
			// waitsock PATH waits (at most 10 s) until gofwd listens.
			"waitsock": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 {
					ts.Fatalf("usage: waitsock PATH")
				}
				p := ts.MkAbs(args[0])
				for i := 0; i < 200; i++ {
					if fi, err := os.Stat(p); err == nil && fi.Mode()&os.ModeSocket != 0 {
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
				ts.Fatalf("%s did not appear in 10s", p)
			},
		},
	})
}
