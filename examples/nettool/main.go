// Command nettool is the traffic generator of gofw's demo and namespace
// tests: a tiny TCP/UDP server that tells each client what addresses it
// saw, and a client that prints the answer or how the attempt failed.
// Everything is bounded in time, so a test can never hang on it.
//
//	nettool serve tcp|udp ADDR:PORT [SECONDS]             serve until killed or SECONDS pass (default 60)
//	nettool dial tcp|udp ADDR:PORT [SECONDS [LOCALPORT [SIZE]]]  one exchange, timeout SECONDS (default 2)
//
// SECONDS may be fractional ("0.8"). dial sends from LOCALPORT when given
// (not 0), so that two runs of the same exchange have the same tuples. A
// UDP dial with SIZE sends a datagram of SIZE bytes (at most 1472), and
// the server answers a datagram of more than 64 bytes with its line padded
// to the same size: large packets both ways, for the tests of gofwd's
// header-only copy. dial prints the line without the padding.
//
// dial prints the server's line and exits 0; "refused" and the errno name
// (exit 3) when the connection was refused or an ICMP error came back, so
// that the REJECT variants can be told apart ("refused ECONNREFUSED" for a
// TCP reset or a port unreachable, "refused EHOSTUNREACH" for
// host-prohibited, as the kernel's icmp_err_convert maps them); "timeout"
// (exit 4) when nothing came back in time.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: nettool serve|dial tcp|udp ADDR:PORT [SECONDS]")
		os.Exit(2)
	}
	mode, proto, addr := os.Args[1], os.Args[2], os.Args[3]
	secs, lport, size := 0.0, 0, 0
	if len(os.Args) > 4 {
		secs, _ = strconv.ParseFloat(os.Args[4], 64)
	}
	if len(os.Args) > 5 {
		lport, _ = strconv.Atoi(os.Args[5])
	}
	if len(os.Args) > 6 {
		size, _ = strconv.Atoi(os.Args[6])
		size = min(max(size, 0), 1472)
	}
	var err error
	switch {
	case mode == "serve" && proto == "tcp":
		err = serveTCP(addr, dur(secs, 60))
	case mode == "serve" && proto == "udp":
		err = serveUDP(addr, dur(secs, 60))
	case mode == "dial":
		os.Exit(dial(proto, addr, dur(secs, 2), lport, size))
	default:
		err = fmt.Errorf("unknown mode %q or protocol %q", mode, proto)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "nettool:", err)
		os.Exit(1)
	}
}

func dur(s, def float64) time.Duration {
	if s <= 0 {
		s = def
	}
	return time.Duration(s * float64(time.Second))
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
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return nil
		}
		line := []byte(fmt.Sprintf("hello from %s, you are %s\n", pc.LocalAddr(), from))
		for n > 64 && len(line) < n {
			line = append(line, '.')
		}
		pc.WriteTo(line, from)
	}
}

func dial(proto, addr string, timeout time.Duration, lport, size int) int {
	d := net.Dialer{Timeout: timeout}
	if lport != 0 {
		if proto == "udp" {
			d.LocalAddr = &net.UDPAddr{Port: lport}
		} else {
			d.LocalAddr = &net.TCPAddr{Port: lport}
		}
	}
	c, err := d.Dial(proto+"4", addr)
	if err != nil {
		return failure(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if proto == "udp" {
		msg := []byte("hi\n")
		for len(msg) < size {
			msg = append(msg, '.')
		}
		c.Write(msg)
	}
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	if err != nil {
		return failure(err)
	}
	line := buf[:n]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i+1]
	}
	fmt.Print(string(line))
	return 0
}

func failure(err error) int {
	var ne net.Error
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		// A TCP reset, and the errors icmp_err_convert gives the ICMP
		// destination-unreachable codes REJECT can send.
		case syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EHOSTUNREACH, syscall.ENETUNREACH,
			syscall.ENOPROTOOPT, syscall.EHOSTDOWN, syscall.ENONET:
			fmt.Println("refused", unix.ErrnoName(errno))
			return 3
		}
	}
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		fmt.Println("timeout")
		return 4
	}
	fmt.Println("error:", err)
	return 1
}
