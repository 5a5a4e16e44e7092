package ruleset

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// TestControlStream: a request the Stream hook takes gets any number of
// frames; the stream learns that the client left; other requests still
// go to Handle; CallStream reports gofwd closing and a stop.
func TestControlStream(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the control socket serves root (SO_PEERCRED)")
	}
	path := filepath.Join(t.TempDir(), "gofw.sock")
	l, err := Listen(path, -1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var ended atomic.Int32
	leftEarly := make(chan struct{}, 1)
	srv := &Server{
		GID:    -1,
		Handle: func(r *Request) *Response { return &Response{Stdout: "handled " + r.Cmd} },
		Stream: func(r *Request) func(func(*Response) error, <-chan struct{}) {
			switch r.Cmd {
			case "three":
				// Three frames, then gofwd ends the stream.
				return func(send func(*Response) error, done <-chan struct{}) {
					for i := 1; i <= 3; i++ {
						send(&Response{Stdout: strconv.Itoa(i) + "\n", Stderr: "w" + strconv.Itoa(i)})
					}
					ended.Add(1)
				}
			case "forever":
				// Sends until the client leaves.
				return func(send func(*Response) error, done <-chan struct{}) {
					send(&Response{Stdout: "hello\n"})
					select {
					case <-done:
						leftEarly <- struct{}{}
					case <-time.After(10 * time.Second):
					}
				}
			}
			return nil
		},
	}
	go srv.Serve(l)

	var got []string
	err = CallStream(path, &Request{Cmd: "three"}, nil, func(r *Response) error {
		got = append(got, r.Stdout+r.Stderr)
		return nil
	})
	if !errors.Is(err, io.EOF) || len(got) != 3 || got[0] != "1\nw1" || got[2] != "3\nw3" || ended.Load() != 1 {
		t.Errorf("three: err %v, frames %q", err, got)
	}

	stop := make(chan struct{})
	err = CallStream(path, &Request{Cmd: "forever"}, stop, func(r *Response) error {
		close(stop) // the user's ^C after the first frame
		return nil
	})
	if err != nil {
		t.Errorf("stopped stream: %v", err)
	}
	select {
	case <-leftEarly:
	case <-time.After(5 * time.Second):
		t.Errorf("the stream was not told that the client left")
	}

	if r, err := Call(path, &Request{Cmd: "other"}); err != nil || r.Stdout != "handled other" {
		t.Errorf("plain request: %v %+v", err, r)
	}
	boom := errors.New("boom")
	if err := CallStream(path, &Request{Cmd: "three"}, nil, func(*Response) error { return boom }); err != boom {
		t.Errorf("fn's error: %v", err)
	}
}
