// Package cli is the wiring of gofw's four programs (urfave/cli flags, the
// control socket client, signals). Each program's main only calls its
// function here, so that the testscripts can run the very same code in
// process.
package cli
