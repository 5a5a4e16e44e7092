// Command connrate measures new TCP connections per second for
// bench/traffic.sh.
//
//	connrate -listen ADDR                      serve until killed
//	connrate -connect ADDR -t SECONDS [-w N]   dial for SECONDS, print JSON
//
// Each connection is one new flow through the firewall: connect, send one
// byte, and wait for the server to close (it reads the byte, then closes).
// The server closing first leaves TIME_WAIT on the server side, so the
// client's ports are free again at once and its port range does not cap
// the rate. The client runs N workers back to back and counts the
// connections that completed (the byte delivered and the close seen); every
// step has a deadline, so a firewall that drops shows up as errors and a
// low rate, never as a hang.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// stepTimeout bounds each dial, write and read.
const stepTimeout = time.Second

func main() {
	listen := flag.String("listen", "", "serve on `ADDR` (host:port)")
	connect := flag.String("connect", "", "dial `ADDR` (host:port)")
	secs := flag.Float64("t", 3, "client: how many `SECONDS` to dial for")
	workers := flag.Int("w", 8, "client: concurrent connections")
	flag.Parse()
	var err error
	switch {
	case *listen != "" && *connect == "":
		err = serve(*listen)
	case *connect != "" && *listen == "":
		if *secs <= 0 || *secs > 600 || *workers < 1 || *workers > 1024 {
			err = fmt.Errorf("-t %v -w %d: want 0 < t <= 600 and 1 <= w <= 1024", *secs, *workers)
			break
		}
		err = run(*connect, time.Duration(*secs*float64(time.Second)), *workers)
	default:
		err = fmt.Errorf("give exactly one of -listen and -connect")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "connrate:", err)
		os.Exit(1)
	}
}

// serve accepts connections until the process is killed: each is read for
// one byte and closed.
func serve(addr string) error {
	l, err := net.Listen("tcp4", addr)
	if err != nil {
		return err
	}
	fmt.Println("listening on", l.Addr())
	for {
		c, err := l.Accept()
		if errors.Is(err, net.ErrClosed) {
			return err
		}
		if err != nil {
			// EMFILE and the like pass once connections close.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go func() {
			c.SetDeadline(time.Now().Add(stepTimeout))
			var b [1]byte
			io.ReadFull(c, b[:])
			c.Close()
		}()
	}
}

// result is what the client prints.
type result struct {
	Conns     int64   `json:"conns"`
	Errors    int64   `json:"errors"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"per_second"`
	Workers   int     `json:"workers"`
	FirstErr  string  `json:"first_error,omitempty"`
}

// run dials addr from workers goroutines until d has passed.
func run(addr string, d time.Duration, workers int) error {
	var conns, errs atomic.Int64
	var firstErr atomic.Value
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				if err := once(addr); err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				conns.Add(1)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	r := result{Conns: conns.Load(), Errors: errs.Load(), Seconds: el, PerSecond: float64(conns.Load()) / el, Workers: workers}
	if e, ok := firstErr.Load().(string); ok {
		r.FirstErr = e
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// once makes one connection: connect, one byte, wait for the server's
// close, close.
func once(addr string) error {
	c, err := net.DialTimeout("tcp4", addr, stepTimeout)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(stepTimeout))
	if _, err := c.Write([]byte{1}); err != nil {
		return err
	}
	var b [1]byte
	if n, err := c.Read(b[:]); err != io.EOF {
		if err == nil {
			err = fmt.Errorf("read %d bytes, want the server's close", n)
		}
		return err
	}
	return nil
}
