package ruleset

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gofw/gofw/grammar"
)

// Version is gofw's version, printed where iptables prints its own.
const Version = "0.1.0"

// Live holds the ruleset gofwd enforces. Readers load the current snapshot
// without locking; writers are serialised (gofwd is iptables' "xtables
// lock") and publish a whole new snapshot, so a reader never sees half a
// change.
type Live struct {
	mu  sync.Mutex
	cur atomic.Pointer[Ruleset]
	// Compile, if set, is called with each ruleset about to be published,
	// under the writer lock: the engine compiles and binds it there. An
	// error keeps the running ruleset and is the update's error, so what
	// gofw lists is always what the packet path runs.
	Compile func(*Ruleset) error
}

// NewLive returns a Live holding rs.
func NewLive(rs *Ruleset) *Live {
	l := &Live{}
	l.cur.Store(rs)
	return l
}

// Load returns the current snapshot.
func (l *Live) Load() *Ruleset { return l.cur.Load() }

// Update runs f on the current snapshot under the writer lock and publishes
// what it returns (which may be a partial success: a restore publishes the
// tables it committed before failing).
func (l *Live) Update(f func(*Ruleset) (*Ruleset, error)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.cur.Load()
	rs, err := f(old)
	if rs != nil && rs != old {
		if l.Compile != nil {
			if cerr := l.Compile(rs); cerr != nil {
				return grammar.Failf("%v", cerr)
			}
		}
		l.cur.Store(rs)
	}
	return err
}

// Request is one control-socket request.
type Request struct {
	// Cmd is "iptables" (Args is a gofw command line), "save" or "restore";
	// gofwd may register more.
	Cmd      string          `json:"cmd"`
	Args     []string        `json:"args,omitempty"`
	Counters bool            `json:"counters,omitempty"` // save -c
	Table    string          `json:"table,omitempty"`    // save -t
	Restore  *RestoreOptions `json:"restore,omitempty"`
	Input    string          `json:"input,omitempty"` // restore input
	// PeerPID is the requesting process (SO_PEERCRED), set by the
	// server, never read from the request: conntrack events caused by
	// the request name it as ctnetlink names the netlink port.
	PeerPID int32 `json:"-"`
}

// Response is the answer to a Request: what to print, and the failure.
type Response struct {
	Stdout string `json:"stdout,omitempty"`
	// Stderr is text for stderr that is not a failure: the warnings of
	// a stream (gofw conntrack -E's lost-events notice).
	Stderr string         `json:"stderr,omitempty"`
	Error  *grammar.Error `json:"error,omitempty"`
}

// Limits of the control protocol: a request is one frame of at most
// MaxRequest bytes (a 100 000-rule restore is about 6 MB).
const (
	MaxRequest = 64 << 20
	maxArgs    = 4096
)

// DecodeRequest parses and validates one request frame's payload.
func DecodeRequest(b []byte) (*Request, error) {
	var r Request
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.DisallowUnknownFields()
	if err := d.Decode(&r); err != nil {
		return nil, fmt.Errorf("malformed request: %v", err)
	}
	if d.More() {
		return nil, errors.New("malformed request: trailing data after the JSON object")
	}
	if r.Cmd == "" {
		return nil, errors.New("malformed request: no \"cmd\"")
	}
	if len(r.Args) > maxArgs {
		return nil, fmt.Errorf("malformed request: %d arguments, at most %d", len(r.Args), maxArgs)
	}
	return &r, nil
}

// Handle serves the requests that concern rules.
func (l *Live) Handle(req *Request) *Response {
	var out, warn strings.Builder
	var err error
	switch req.Cmd {
	case "iptables":
		var c *Command
		c, err = ParseCommand(req.Args, false, 0)
		if err == nil {
			for _, w := range c.Warnings {
				warn.WriteString(w + "\n")
			}
			err = l.Update(func(rs *Ruleset) (*Ruleset, error) { return Exec(rs, c, &out) })
		}
	case "save":
		err = l.Update(func(rs *Ruleset) (*Ruleset, error) { return Save(rs, &out, req.Table, req.Counters, time.Now()) })
	case "restore":
		o := RestoreOptions{}
		if req.Restore != nil {
			o = *req.Restore
		}
		o.Warn = func(w string) { warn.WriteString(w + "\n") }
		err = l.Update(func(rs *Ruleset) (*Ruleset, error) {
			return Restore(rs, strings.NewReader(req.Input), o, &out)
		})
	default:
		err = grammar.Failf("unknown request %q", req.Cmd)
	}
	r := respond(out.String(), err)
	r.Stderr = warn.String()
	return r
}

func respond(out string, err error) *Response {
	r := &Response{Stdout: out}
	if err != nil {
		e, ok := err.(*grammar.Error)
		if !ok {
			e = &grammar.Error{Code: grammar.ExitFailure, Msg: err.Error()}
		}
		r.Error = e
	}
	return r
}

// Save writes gofw-save's output: every initialised table (newest first,
// as iptables-legacy-save), or only table. Saving a known table that was
// never used initialises it, as iptables-legacy-save -t does.
func Save(rs *Ruleset, out *strings.Builder, table string, counters bool, now time.Time) (*Ruleset, error) {
	prog := "gofw-save v" + Version
	if table != "" {
		if _, ok := lookupTableDef(table); !ok {
			return rs, grammar.Failf("Cannot initialize: Table does not exist (gofw knows filter, nat, mangle and raw)")
		}
		rs, t, _ := rs.init(table)
		t.Save(out, counters, prog, now)
		return rs, nil
	}
	for _, t := range rs.Tables() {
		t.Save(out, counters, prog, now)
	}
	return rs, nil
}

// Server serves the control socket.
type Server struct {
	// Handle answers a request; it is called for one request at a time
	// per connection.
	Handle func(*Request) *Response
	// GID is the group allowed besides root, or -1.
	GID int
	// Logf logs refused connections and malformed requests.
	Logf func(format string, a ...any)
	// Stream, if set, is offered each request before Handle. When it
	// returns a function, the request opens a stream (gofw conntrack
	// -E): the function owns the rest of the connection and sends any
	// number of response frames until it returns, send fails, or done
	// is closed because the client went away.
	Stream func(*Request) func(send func(*Response) error, done <-chan struct{})
}

// Listen creates the control socket at path: its directory if needed, a
// stale socket removed, mode 0600 (0660 and group gid when gid >= 0).
func Listen(path string, gid int) (*net.UnixListener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("%s exists and is not a socket", path)
		}
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("%s is in use: is another gofwd running?", path)
		}
		os.Remove(path)
	}
	old := unix.Umask(0o177)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	unix.Umask(old)
	if err != nil {
		return nil, err
	}
	if gid >= 0 {
		if err := os.Chown(path, 0, gid); err != nil {
			l.Close()
			return nil, err
		}
		if err := os.Chmod(path, 0o660); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

// Serve accepts connections until l is closed.
func (s *Server) Serve(l *net.UnixListener) error {
	for {
		c, err := l.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		go s.conn(c)
	}
}

func (s *Server) logf(format string, a ...any) {
	if s.Logf != nil {
		s.Logf(format, a...)
	}
}

// allowed checks the peer with SO_PEERCRED: root, or a member of the
// configured group (primary or supplementary).
func (s *Server) allowed(c *net.UnixConn) (ok bool, who string, pid int32) {
	raw, err := c.SyscallConn()
	if err != nil {
		return false, err.Error(), 0
	}
	var cred *unix.Ucred
	var cerr error
	raw.Control(func(fd uintptr) { cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) })
	if cerr != nil {
		return false, cerr.Error(), 0
	}
	return s.permit(cred), fmt.Sprintf("pid %d uid %d gid %d", cred.Pid, cred.Uid, cred.Gid), cred.Pid
}

// permit decides on a peer's credentials: root, or a member of the
// configured group (primary or supplementary).
func (s *Server) permit(cred *unix.Ucred) bool {
	if cred.Uid == 0 {
		return true
	}
	return s.GID >= 0 && (int(cred.Gid) == s.GID || inGroups(cred.Pid, s.GID))
}

func inGroups(pid int32, gid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(int(pid)) + "/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if g, ok := strings.CutPrefix(line, "Groups:"); ok {
			for _, f := range strings.Fields(g) {
				if f == strconv.Itoa(gid) {
					return true
				}
			}
		}
	}
	return false
}

func (s *Server) conn(c *net.UnixConn) {
	defer c.Close()
	ok, who, pid := s.allowed(c)
	if !ok {
		s.logf("control socket: refused %s: only root or the socket group may use gofwd", who)
		writeFrame(c, &Response{Error: grammar.Failf("Permission denied (you must be root)")})
		return
	}
	br := bufio.NewReader(c)
	for {
		c.SetReadDeadline(time.Now().Add(5 * time.Minute))
		b, err := readFrame(br)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.logf("control socket: %v", err)
				writeFrame(c, &Response{Error: grammar.Failf("%v", err)})
			}
			return
		}
		req, err := DecodeRequest(b)
		if err != nil {
			s.logf("control socket: %v", err)
			writeFrame(c, &Response{Error: grammar.Failf("%v", err)})
			return
		}
		req.PeerPID = pid
		if s.Stream != nil {
			if fn := s.Stream(req); fn != nil {
				s.stream(c, br, fn)
				return
			}
		}
		if err := writeFrame(c, s.Handle(req)); err != nil {
			return
		}
	}
}

// stream hands the connection to fn. The client sends nothing more: a
// read that returns (EOF, or anything) means it is gone.
func (s *Server) stream(c *net.UnixConn, br *bufio.Reader, fn func(send func(*Response) error, done <-chan struct{})) {
	c.SetReadDeadline(time.Time{})
	done := make(chan struct{})
	go func() {
		io.Copy(io.Discard, br)
		close(done)
	}()
	var mu sync.Mutex
	fn(func(r *Response) error {
		mu.Lock()
		defer mu.Unlock()
		return writeFrame(c, r)
	}, done)
}

func readFrame(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > MaxRequest {
		return nil, fmt.Errorf("request of %d bytes refused: the limit is %d", n, MaxRequest)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("truncated request: %v", err)
	}
	return b, nil
}

func writeFrame(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(b)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// DefaultSocket is where gofwd listens unless told otherwise.
const DefaultSocket = "/run/gofw/gofw.sock"

// SocketPath returns the socket to use: flag, else $GOFW_SOCKET, else the
// default.
func SocketPath(flag string) string {
	if flag != "" {
		return flag
	}
	if s := os.Getenv("GOFW_SOCKET"); s != "" {
		return s
	}
	return DefaultSocket
}

// Call sends one request to gofwd and returns its response. A gofwd that
// cannot be reached is reported in one line, as the CLI prints it.
func Call(path string, req *Request) (*Response, error) {
	c, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("cannot reach gofwd at %s (%v): is gofwd running?", path, unwrapSys(err))
	}
	defer c.Close()
	if err := writeFrame(c, req); err != nil {
		return nil, fmt.Errorf("gofwd at %s: %v", path, err)
	}
	b, err := readFrame(bufio.NewReader(c))
	if err != nil {
		return nil, fmt.Errorf("gofwd at %s closed the connection without answering: %v", path, err)
	}
	var r Response
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("gofwd at %s sent a malformed answer: %v", path, err)
	}
	return &r, nil
}

// CallStream sends a request that opens a stream and calls fn with each
// response frame, until gofwd closes the connection (io.EOF is returned),
// fn returns an error (returned), or stop is closed (nil is returned).
func CallStream(path string, req *Request, stop <-chan struct{}, fn func(*Response) error) error {
	c, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		return fmt.Errorf("cannot reach gofwd at %s (%v): is gofwd running?", path, unwrapSys(err))
	}
	defer c.Close()
	if err := writeFrame(c, req); err != nil {
		return fmt.Errorf("gofwd at %s: %v", path, err)
	}
	var stopped atomic.Bool
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-stop:
			stopped.Store(true)
			c.Close()
		case <-finished:
		}
	}()
	br := bufio.NewReader(c)
	for {
		b, err := readFrame(br)
		if err != nil {
			if stopped.Load() {
				return nil
			}
			if errors.Is(err, io.EOF) {
				return io.EOF
			}
			return fmt.Errorf("gofwd at %s: %v", path, err)
		}
		var r Response
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("gofwd at %s sent a malformed answer: %v", path, err)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
}

func unwrapSys(err error) error {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err
	}
	return err
}
