// Command nettool is the traffic generator of gofw's demo and namespace
// tests: a tiny TCP/UDP server that tells each client what addresses it
// saw, and a client that prints the answer or how the attempt failed.
// Everything is bounded in time, so a test can never hang on it.
//
//	nettool serve tcp|udp ADDR:PORT [SECONDS]   serve until killed or SECONDS pass (default 60)
//	nettool dial tcp|udp ADDR:PORT [SECONDS]    one exchange, timeout SECONDS (default 2)
//
// dial prints the server's line and exits 0; "refused" (exit 3) when the
// connection was refused or an ICMP error came back, "timeout" (exit 4)
// when nothing came back in time.
package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: nettool serve|dial tcp|udp ADDR:PORT [SECONDS]")
		os.Exit(2)
	}
	mode, proto, addr := os.Args[1], os.Args[2], os.Args[3]
	secs := 0
	if len(os.Args) > 4 {
		secs, _ = strconv.Atoi(os.Args[4])
	}
	var err error
	switch {
	case mode == "serve" && proto == "tcp":
		err = serveTCP(addr, dur(secs, 60))
	case mode == "serve" && proto == "udp":
		err = serveUDP(addr, dur(secs, 60))
	case mode == "dial":
		os.Exit(dial(proto, addr, dur(secs, 2)))
	default:
		err = fmt.Errorf("unknown mode %q or protocol %q", mode, proto)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "nettool:", err)
		os.Exit(1)
	}
}

func dur(s, def int) time.Duration {
	if s <= 0 {
		s = def
	}
	return time.Duration(s) * time.Second
}

func serveTCP(addr string, life time.Duration) error {
	l, err := net.Listen("tcp4", addr)
	if err != nil {
		return err
	}
	l.(*net.TCPListener).SetDeadline(time.Now().Add(life))
	for {
		c, err := l.Accept()
		if err != nil {
			return nil // deadline: done
		}
		fmt.Fprintf(c, "hello from %s, you are %s\n", c.LocalAddr(), c.RemoteAddr())
		c.Close()
	}
}

func serveUDP(addr string, life time.Duration) error {
	pc, err := net.ListenPacket("udp4", addr)
	if err != nil {
		return err
	}
	pc.SetDeadline(time.Now().Add(life))
	buf := make([]byte, 2048)
	for {
		_, from, err := pc.ReadFrom(buf)
		if err != nil {
			return nil
		}
		pc.WriteTo([]byte(fmt.Sprintf("hello from %s, you are %s\n", pc.LocalAddr(), from)), from)
	}
}

func dial(proto, addr string, timeout time.Duration) int {
	c, err := net.DialTimeout(proto+"4", addr, timeout)
	if err != nil {
		return failure(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if proto == "udp" {
		c.Write([]byte("hi\n"))
	}
	buf := make([]byte, 512)
	n, err := c.Read(buf)
	if err != nil {
		return failure(err)
	}
	fmt.Print(string(buf[:n]))
	return 0
}

func failure(err error) int {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.ECONNRESET):
		fmt.Println("refused")
		return 3
	case errors.As(err, &ne) && ne.Timeout():
		fmt.Println("timeout")
		return 4
	}
	fmt.Println("error:", err)
	return 1
}
