package ruleset

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func startServer(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run", "gofw.sock")
	l, err := Listen(path, -1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	live := NewLive(New())
	go (&Server{Handle: live.Handle, GID: -1}).Serve(l)
	return path
}

// rawCall sends one frame with the given payload and declared length.
func rawCall(t *testing.T, path string, declared uint32, payload []byte) *Response {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], declared)
	c.Write(hdr[:])
	c.Write(payload)
	if declared > uint32(len(payload)) && declared <= MaxRequest {
		c.(*net.UnixConn).CloseWrite()
	}
	b, err := readFrame(bufio.NewReader(c))
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	var r Response
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// A malformed or oversized request gets an error and the daemon goes on
// serving.
func TestControlMalformed(t *testing.T) {
	path := startServer(t)
	for _, tc := range []struct {
		name     string
		declared uint32
		payload  string
		want     string
	}{
		{"not json", 8, "garbage!", "malformed request"},
		{"unknown field", 27, `{"cmd":"save","bogus":true}`, "unknown field"},
		{"no cmd", 2, `{}`, `no "cmd"`},
		{"trailing data", 17, `{"cmd":"save"} {}`, "trailing data"},
		{"too big", MaxRequest + 1, "", "the limit is"},
		{"truncated", 100, `{"cmd":`, "truncated request"},
		{"unknown request", 14, `{"cmd":"nope"}`, `unknown request "nope"`},
	} {
		r := rawCall(t, path, tc.declared, []byte(tc.payload))
		if r.Error == nil || !strings.Contains(r.Error.Msg, tc.want) {
			t.Errorf("%s: got %+v, want an error containing %q", tc.name, r.Error, tc.want)
		}
	}
	r, err := Call(path, &Request{Cmd: "iptables", Args: []string{"-S", "INPUT"}})
	if err != nil || r.Error != nil || r.Stdout != "-P INPUT ACCEPT\n" {
		t.Fatalf("after bad requests: %+v %v", r, err)
	}
}

// The socket is created mode 0600, in a directory made for it; a stale
// socket file is replaced, a live one is not taken over.
func TestControlSocketFile(t *testing.T) {
	path := startServer(t)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want 0600", fi.Mode().Perm())
	}
	if _, err := Listen(path, -1); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second Listen on a live socket: %v", err)
	}
}

func TestControlPermit(t *testing.T) {
	s := &Server{GID: -1}
	if !s.permit(&unix.Ucred{Uid: 0, Gid: 0}) {
		t.Error("root refused")
	}
	if s.permit(&unix.Ucred{Uid: 1000, Gid: 1000}) {
		t.Error("uid 1000 allowed without a socket group")
	}
	s.GID = 1234
	if !s.permit(&unix.Ucred{Uid: 1000, Gid: 1234}) {
		t.Error("member of the socket group (primary) refused")
	}
	if s.permit(&unix.Ucred{Uid: 1000, Gid: 1000, Pid: int32(os.Getpid())}) {
		t.Error("non-member allowed")
	}
}

// Call reports a missing gofwd in one line.
func TestCallNoDaemon(t *testing.T) {
	_, err := Call(filepath.Join(t.TempDir(), "none.sock"), &Request{Cmd: "save"})
	if err == nil || !strings.Contains(err.Error(), "is gofwd running?") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("got %v", err)
	}
}
