// Command udpflood sends 64-byte UDP datagrams as fast as one core can, for
// bench/traffic.sh's udp test.
//
//	udpflood -sink ADDR                        bind ADDR and hold it until killed
//	udpflood -send ADDR -t SECONDS [-l BYTES]  send for SECONDS, print JSON
//
// iperf3 -u sends one datagram per system call and, on the benchmark's
// 2-CPU machines, tops out near 190 000 datagrams/s with no firewall at all:
// below what the NFQUEUE path can carry, so a firewall that is faster than
// that could not show it. udpflood hands the kernel 64 datagrams per
// sendmmsg, which moves the sender's limit well above the firewalls'.
//
// The sink binds the port so that datagrams are delivered (an unbound port
// would make the receiver answer ICMP port unreachables), with a small
// receive buffer that it never reads: once full, each datagram is dropped
// at the socket and counted in RcvbufErrors. traffic.sh counts what reached
// the receiver's UDP layer (InDatagrams + RcvbufErrors), so the figure is
// what passed the firewall, and no reader competes with the firewall for a
// CPU.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
)

// batch is the datagrams given to one sendmmsg.
const batch = 64

func main() {
	sink := flag.String("sink", "", "bind `ADDR` (host:port) and hold it")
	send := flag.String("send", "", "send to `ADDR` (host:port)")
	secs := flag.Float64("t", 3, "sender: how many `SECONDS` to send for")
	size := flag.Int("l", 64, "sender: UDP payload `BYTES`")
	flag.Parse()
	var err error
	switch {
	case *sink != "" && *send == "":
		err = hold(*sink)
	case *send != "" && *sink == "":
		if *secs <= 0 || *secs > 600 || *size < 0 || *size > 1472 {
			err = fmt.Errorf("-t %v -l %d: want 0 < t <= 600 and 0 <= l <= 1472", *secs, *size)
			break
		}
		err = flood(*send, time.Duration(*secs*float64(time.Second)), *size)
	default:
		err = errors.New("give exactly one of -sink and -send")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "udpflood:", err)
		os.Exit(1)
	}
}

func hold(addr string) error {
	c, err := net.ListenPacket("udp4", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.(*net.UDPConn).SetReadBuffer(4096)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	return nil
}

func flood(addr string, d time.Duration, size int) error {
	c, err := net.Dial("udp4", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	pc := ipv4.NewPacketConn(c.(*net.UDPConn))
	payload := make([]byte, size)
	msgs := make([]ipv4.Message, batch)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{payload}
	}
	var sent, failed uint64
	start := time.Now()
	end := start.Add(d)
	for i := 0; ; i++ {
		// The clock is read once per 16 batches: it costs more than a
		// datagram.
		if i%16 == 0 && time.Now().After(end) {
			break
		}
		n, err := pc.WriteBatch(msgs, 0)
		sent += uint64(max(n, 0))
		if err != nil {
			// A full device queue (ENOBUFS) or an ICMP error reported on
			// the connected socket (ECONNREFUSED) is counted, not fatal:
			// the figure is what arrived.
			failed++
		}
	}
	el := time.Since(start).Seconds()
	return json.NewEncoder(os.Stdout).Encode(struct {
		Sent      uint64  `json:"sent"`
		Failed    uint64  `json:"failed_sends"`
		Seconds   float64 `json:"seconds"`
		PerSecond float64 `json:"per_second"`
	}{sent, failed, el, float64(sent) / el})
}
